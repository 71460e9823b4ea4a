#!/usr/bin/python3
"""SMB inside GRE through the inline gateway (docs/policy.md, "Tunnels").

usage: tunnels.py write OUT_DIR
       tunnels.py check-deny OUT_PCAP
       tunnels.py check-rewrite IN_PCAP OUT_PCAP
       tunnels.py check-fragments IN_PCAP OUT_PCAP

write: two captures of the client's handshake to 198.18.2.20:445 and a
TREE_CONNECT (tests/replay/make_fragments.py), every frame inside GRE with
checksum and key (RFC 2890) between 198.18.200.1 and 198.18.201.1:
  gre_admin.pcap    the request names ADMIN$
  gre_rewrite.pcap  the request names DATA01, then a retransmission of the
                    same bytes naming DATA02: what the server is sent must
                    be what the gateway judged, so the retransmission leaves
                    with DATA01, its TCP checksum set again, and its GRE
                    checksum, which covers the inner packet, still valid
  gre_frag.pcap     the request naming DATA01, its GRE datagram in three
                    IP fragments, last first: put together, judged, and
                    sent on as fragments again
check-deny: the handshake came out and nothing else (no request, and no
reset: a reset inside a tunnel would need the tunnel's own headers).
check-rewrite: the request and the retransmission came out, the second
carrying the first's bytes, its TCP and GRE checksums valid.
check-fragments: the handshake came out, then fragments (none larger
than the largest that came in) that put together give the GRE datagram
sent, byte for byte.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "replay"))
from make_fragments import handshake, request, stamp, v4  # noqa: E402
from scapy.all import (GRE, IP, TCP, Ether, Raw, fragment,  # noqa: E402
                       rdpcap, wrpcap)

ROUTER_A, ROUTER_B = "198.18.200.1", "198.18.201.1"


def in_gre(frame):
    inner = frame[IP]
    up = inner.src == "198.18.1.10"
    return Ether(src=frame.src, dst=frame.dst) / IP(
        src=ROUTER_A if up else ROUTER_B,
        dst=ROUTER_B if up else ROUTER_A) / GRE(
            chksum_present=1, key_present=1, key=7, proto=0x0800) / Raw(
                bytes(inner))


def inner_of(frame):
    return IP(bytes(frame[GRE].payload))


def checksums_hold(frame):
    """The GRE and inner TCP checksums as a sender would set them."""
    gre = GRE(bytes(frame[GRE]))
    sent_gre = gre.chksum
    gre.chksum = None
    inner = inner_of(frame)
    sent_tcp = inner[TCP].chksum
    inner[TCP].chksum = None
    return (GRE(bytes(gre)).chksum == sent_gre and
            IP(bytes(inner))[TCP].chksum == sent_tcp)


def write(out):
    ip_c, ip_s = v4()
    hs = handshake(ip_c, ip_s)
    wrpcap(out + "/gre_admin.pcap",
           stamp([in_gre(f) for f in hs + [request(ip_c, "ADMIN$")]]))
    first = request(ip_c, "DATA01")
    again = request(ip_c, "DATA02")
    assert len(first) == len(again)
    wrpcap(out + "/gre_rewrite.pcap",
           stamp([in_gre(f) for f in hs + [first, again]]))
    whole = IP(bytes(in_gre(first)[IP]))
    whole.id = 77
    pieces = [Ether(src=first.src, dst=first.dst) / p
              for p in fragment(IP(bytes(whole)), fragsize=64)]
    assert len(pieces) == 3, len(pieces)
    wrpcap(out + "/gre_frag.pcap",
           stamp([in_gre(f) for f in hs] + pieces[::-1]))


def check_deny(path):
    frames = rdpcap(path)
    assert len(frames) == 3, "%d frames came out, 3 expected" % len(frames)
    for frame in frames:
        assert GRE in frame, "a frame left without its tunnel"
        assert not inner_of(frame)[TCP].flags.R, "a reset was sent"
        assert len(inner_of(frame)[TCP].payload) == 0, "the request passed"


def check_rewrite(sent_path, out_path):
    sent, out = rdpcap(sent_path), rdpcap(out_path)
    assert len(out) == 5, "%d frames came out, 5 expected" % len(out)
    judged = bytes(inner_of(sent[3])[TCP].payload)
    assert bytes(inner_of(sent[4])[TCP].payload) != judged
    for frame in out[3:]:
        assert bytes(inner_of(frame)[TCP].payload) == judged, \
            "the retransmission left with bytes the gateway did not judge"
    assert all(checksums_hold(frame) for frame in out), \
        "a GRE or TCP checksum does not hold"
    assert bytes(out[3]) == bytes(sent[3]), "the first request was changed"


def datagram(pieces):
    """What the outer IPv4 fragments <pieces> make: addresses, protocol,
    identification and the payload put together, from their raw bytes."""
    parts = []
    for piece in pieces:
        raw = bytes(piece[IP])
        header = (raw[0] & 0x0F) * 4
        total = int.from_bytes(raw[2:4], "big")
        offset = (int.from_bytes(raw[6:8], "big") & 0x1FFF) * 8
        parts.append((offset, raw[header:total], raw[12:20], raw[9], raw[4:6]))
    parts.sort()
    return (parts[0][2], parts[0][3], parts[0][4],
            b"".join(part[1] for part in parts))


def check_fragments(sent_path, out_path):
    sent, out = rdpcap(sent_path), rdpcap(out_path)
    assert [bytes(f) for f in out[:3]] == [bytes(f) for f in sent[:3]], \
        "the handshake changed"
    pieces = out[3:]
    assert pieces and all(p[IP].flags.MF or p[IP].frag for p in pieces), \
        "the datagram did not leave as fragments"
    largest = max(len(p[IP]) for p in sent[3:])
    assert all(len(p[IP]) <= largest for p in pieces), \
        "a piece is larger than the largest fragment that came in"
    assert datagram(pieces) == datagram(sent[3:]), \
        "the datagram put together differs from the one sent"


def main():
    if sys.argv[1] == "write":
        write(sys.argv[2])
    elif sys.argv[1] == "check-deny":
        check_deny(sys.argv[2])
    elif sys.argv[1] == "check-fragments":
        check_fragments(sys.argv[2], sys.argv[3])
    else:
        check_rewrite(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
