#!/usr/bin/env python3
"""IP fragments through the bridge: writes the input and checks the output.

usage: fragments.py write IN.pcap      prints the frames expected out
       fragments.py check IN.pcap OUT.pcap

The input mixes plain frames with TCP-to-445 datagrams cut into IP
fragments (IPv4 in order, out of order and VLAN tagged; IPv6 in order and
out of order), UDP fragments, and a TCP datagram whose middle fragment
comes twice with different bytes (identification 0xbad).

The check: frames other than TCP fragments come out byte for byte and in
order; every TCP datagram comes out as fragments, in offset order, with the
same Ethernet header, no larger than its largest input fragment (or the
protocol's minimum MTU), whose reassembly equals the input's; the
overlapping datagram does not come out at all.
"""
import sys

from scapy.all import (IP, TCP, UDP, Dot1Q, Ether, IPv6, IPv6ExtHdrFragment,
                       Raw, fragment, fragment6, rdpcap, wrpcap)

A, B = "02:00:00:00:00:01", "02:00:00:00:00:02"
C4, S4 = "198.18.1.10", "198.18.2.20"
C6, S6 = "2001:db8:1::10", "2001:db8:2::20"
OVERLAP_ID = 0xBAD


def blob(n, seed):
    return bytes((i * 31 + seed) & 0xFF for i in range(n))


def tcp(sport, seq, size, seed):
    return TCP(sport=sport, dport=445, flags="PA", seq=seq) / Raw(blob(size, seed))


def v4_fragments(ident, sport, size, fragsize, seed, vlan=None):
    pkt = IP(bytes(IP(src=C4, dst=S4, id=ident) / tcp(sport, 1, size, seed)))
    l2 = Ether(src=A, dst=B)
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan)
    return [l2 / f for f in fragment(pkt, fragsize=fragsize)]


def v6_fragments(ident, sport, size, seed):
    pkt = (IPv6(src=C6, dst=S6) / IPv6ExtHdrFragment(id=ident) /
           tcp(sport, 1, size, seed))
    return [Ether(src=A, dst=B) / f for f in fragment6(pkt, 1280)]


def plain(i):
    # One consistent stream: each segment follows the one before.
    return (Ether(src=A, dst=B) / IP(src=C4, dst=S4) /
            tcp(41000, 1 + 100 * i, 100, i))


def frames():
    out = [plain(0)]
    out += v4_fragments(101, 40001, 1000, 256, 1)
    out += [plain(1)]
    out += v4_fragments(102, 40002, 1500, 512, 2)[::-1]
    out += v4_fragments(103, 40003, 700, 200, 3, vlan=100)
    out += v6_fragments(0x10000001, 40004, 3000, 4)
    f6 = v6_fragments(0x10000002, 40005, 2600, 5)
    out += [f6[1], f6[2], f6[0]]
    udp = IP(bytes(IP(src=C4, dst=S4, id=104) / UDP(sport=5000, dport=5001) /
                   Raw(blob(900, 6))))
    out += [Ether(src=A, dst=B) / f for f in fragment(udp, fragsize=400)]
    # The middle fragment twice, different bytes: never forwarded.
    first = v4_fragments(OVERLAP_ID, 40006, 600, 256, 7)
    other = v4_fragments(OVERLAP_ID, 40006, 600, 256, 8)
    out += [first[0], first[1], other[1], first[2]]
    out += [plain(2)]
    return out


def ip_layer(frame):
    return frame[IP] if IP in frame else frame[IPv6]


def tcp_fragment(frame):
    """(key, offset, more, data, ip_length) of a TCP fragment, or None."""
    if IP in frame:
        ip = frame[IP]
        if ip.proto != 6 or (ip.frag == 0 and not ip.flags.MF):
            return None
        data = bytes(ip.payload)[:ip.len - ip.ihl * 4]
        return ((4, ip.src, ip.dst, ip.id), ip.frag * 8, bool(ip.flags.MF),
                data, ip.len)
    if IPv6ExtHdrFragment in frame:
        fh = frame[IPv6ExtHdrFragment]
        if fh.nh != 6:
            return None
        ip = frame[IPv6]
        return ((6, ip.src, ip.dst, fh.id), fh.offset * 8, bool(fh.m),
                bytes(fh.payload), ip.plen + 40)
    return None


def l2_header(frame):
    raw = bytes(frame)
    return raw[:len(raw) - len(bytes(ip_layer(frame)))]


def reassemble(pieces):
    data = b""
    for offset, _, chunk in sorted(pieces):
        if offset != len(data):
            return None
        data += chunk
    return data


def split(capture):
    """Plain frames (bytes) and TCP fragments grouped by datagram."""
    plain_frames, datagrams, order = [], {}, []
    for frame in capture:
        info = tcp_fragment(frame)
        if info is None:
            plain_frames.append(bytes(frame))
            continue
        key, offset, more, data, length = info
        if key not in datagrams:
            datagrams[key] = {"pieces": [], "l2": l2_header(frame),
                              "largest": 0, "offsets": []}
            order.append(key)
        d = datagrams[key]
        d["pieces"].append((offset, more, data))
        d["largest"] = max(d["largest"], length)
        d["offsets"].append(offset)
        if l2_header(frame) != d["l2"]:
            d["l2"] = None
    return plain_frames, datagrams, order


def check(in_path, out_path):
    in_plain, in_datagrams, _ = split(rdpcap(in_path))
    out_plain, out_datagrams, _ = split(rdpcap(out_path))
    errors = []
    if in_plain != out_plain:
        errors.append("plain frames differ: %d in, %d out" %
                      (len(in_plain), len(out_plain)))
    for key, d in in_datagrams.items():
        out = out_datagrams.get(key)
        if key[3] == OVERLAP_ID:
            if out is not None:
                errors.append("overlapping datagram %r was forwarded" % (key,))
            continue
        if out is None:
            errors.append("datagram %r missing" % (key,))
            continue
        want = reassemble(d["pieces"])
        got = reassemble(out["pieces"])
        if got != want:
            errors.append("datagram %r: reassembly differs" % (key,))
        if out["offsets"] != sorted(out["offsets"]):
            errors.append("datagram %r: fragments out of order %r" %
                          (key, out["offsets"]))
        limit = max(d["largest"], 68 if key[0] == 4 else 1280)
        if out["largest"] > limit:
            errors.append("datagram %r: fragment of %d bytes, input at most %d"
                          % (key, out["largest"], limit))
        if out["l2"] is None or out["l2"] != d["l2"]:
            errors.append("datagram %r: Ethernet header changed" % (key,))
    for key in out_datagrams:
        if key not in in_datagrams:
            errors.append("datagram %r came from nowhere" % (key,))
    for e in errors:
        print(e)
    print("%d plain frames, %d datagrams checked" %
          (len(in_plain), len(in_datagrams)))
    return not errors


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        f = frames()
        wrpcap(sys.argv[2], f)
        # Out: all but the 4 overlapping fragments; the pieces of each
        # datagram match its fragments one for one at these sizes.
        print(len(f) - 4)
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        return 0 if check(sys.argv[2], sys.argv[3]) else 1
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
