#!/usr/bin/env python3
"""Writes captures of an SMB2 TREE_CONNECT to \\\\198.18.2.20\\ADMIN$ sent
whole and as IP fragments, for the offline fragment test.

usage: make_fragments.py OUT_DIR

Every capture holds the client's handshake to 198.18.2.20:445 (IPv6:
2001:db8:2::20), then the request:
  plain.pcap          the request in one segment
  frag.pcap           the segment in three IPv4 fragments, in order
  frag_reverse.pcap   the same fragments, last first
  frag6.pcap          over IPv6, three fragments, out of order
  overlap.pcap        four fragments: the middle one twice, the first copy
                      naming a harmless share (DATA01), the second ADMIN$
  tiny.pcap           the first fragment only 8 bytes of TCP header, the
                      rest in two more: the TCP header spans fragments
  many.pcap           8-byte fragments (17 of them), in order
  many_reverse.pcap   the same, last first
  allowed.pcap        a harmless share (DATA01) in three fragments
  incomplete.pcap     the ADMIN$ fragments without the last one
  udp.pcap            a UDP datagram in fragments, for the fast path
Deterministic: the same bytes every run.
"""
import struct
import sys

from scapy.all import (IP, IPv6, IPv6ExtHdrFragment, TCP, UDP, Ether, Raw,
                       fragment, fragment6, wrpcap)

CLIENT, SERVER = "198.18.1.10", "198.18.2.20"
CLIENT6, SERVER6 = "2001:db8:1::10", "2001:db8:2::20"
CMAC, SMAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
SPORT, ISN, SERVER_ISN = 40000, 1000, 5000


def tree_connect(share):
    """NBSS + SMB2 TREE_CONNECT request for \\\\198.18.2.20\\<share>."""
    path = ("\\\\%s\\%s" % (SERVER, share)).encode("utf-16-le")
    header = (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 1, 0, 3, 1, 0, 0,
                                       4, 0xFEFF, 0, 0x1000000001) +
              b"\0" * 16)
    body = struct.pack("<HHHH", 9, 0, 64 + 8, len(path)) + path
    smb = header + body
    return struct.pack(">I", len(smb)) + smb


def handshake(ip_c, ip_s):
    syn = Ether(src=CMAC, dst=SMAC) / ip_c / TCP(sport=SPORT, dport=445,
                                                 flags="S", seq=ISN)
    synack = Ether(src=SMAC, dst=CMAC) / ip_s / TCP(
        sport=445, dport=SPORT, flags="SA", seq=SERVER_ISN, ack=ISN + 1)
    ack = Ether(src=CMAC, dst=SMAC) / ip_c / TCP(
        sport=SPORT, dport=445, flags="A", seq=ISN + 1, ack=SERVER_ISN + 1)
    return [syn, synack, ack]


def request(ip_c, share):
    return Ether(src=CMAC, dst=SMAC) / ip_c / TCP(
        sport=SPORT, dport=445, flags="PA", seq=ISN + 1,
        ack=SERVER_ISN + 1) / Raw(tree_connect(share))


def v4(ident=0):
    return IP(src=CLIENT, dst=SERVER, id=ident), IP(src=SERVER, dst=CLIENT)


def stamp(frames):
    for i, f in enumerate(frames):
        f.time = 1700000000 + i / 1000
    return frames


def with_ether(packets):
    return [Ether(src=CMAC, dst=SMAC) / p for p in packets]


def ip_fragments(share, ident, size):
    ip_c, _ = v4(ident)
    pkt = request(ip_c, share)[IP]
    # Checksums are computed on the whole segment before it is cut.
    pkt = IP(bytes(pkt))
    return with_ether(fragment(pkt, fragsize=size))


def split_at(share, ident, cuts):
    """The request's IPv4 datagram cut at byte offsets <cuts> of its
    payload (multiples of 8)."""
    ip_c, _ = v4(ident)
    pkt = IP(bytes(request(ip_c, share)[IP]))
    payload = bytes(pkt.payload)
    bounds = [0] + cuts + [len(payload)]
    out = []
    for start, end in zip(bounds, bounds[1:]):
        more = end < len(payload)
        f = IP(src=CLIENT, dst=SERVER, id=ident, proto=6, frag=start // 8,
               flags="MF" if more else 0) / Raw(payload[start:end])
        out.append(Ether(src=CMAC, dst=SMAC) / IP(bytes(f)))
    return out


def main():
    out = sys.argv[1]
    ip_c, ip_s = v4()
    hs = handshake(ip_c, ip_s)

    wrpcap(out + "/plain.pcap", stamp(hs + [request(ip_c, "ADMIN$")]))
    frags = ip_fragments("ADMIN$", 7, 48)
    assert len(frags) == 3
    wrpcap(out + "/frag.pcap", stamp(hs + frags))
    wrpcap(out + "/frag_reverse.pcap", stamp(hs + frags[::-1]))

    wrpcap(out + "/tiny.pcap", stamp(hs + split_at("ADMIN$", 10, [8, 72])))
    many = split_at("ADMIN$", 11, list(range(8, 136, 8)))
    assert len(many) == 17
    wrpcap(out + "/many.pcap", stamp(hs + many))
    wrpcap(out + "/many_reverse.pcap", stamp(hs + many[::-1]))
    wrpcap(out + "/allowed.pcap",
           stamp(hs + ip_fragments("DATA01", 8, 48)))
    wrpcap(out + "/incomplete.pcap", stamp(hs + frags[:2]))

    # The middle fragment twice: harmless first, ADMIN$ second.
    harmless = ip_fragments("DATA01", 9, 48)
    admin = ip_fragments("ADMIN$", 9, 48)
    # Same length: only the path bytes of the middle fragment differ.
    assert bytes(harmless[1])[:34 + 24] == bytes(admin[1])[:34 + 24]
    wrpcap(out + "/overlap.pcap",
           stamp(hs + [admin[0], harmless[1], admin[1], admin[2]]))

    ip6_c = IPv6(src=CLIENT6, dst=SERVER6)
    ip6_s = IPv6(src=SERVER6, dst=CLIENT6)
    hs6 = handshake(ip6_c, ip6_s)
    segment = request(ip6_c, "ADMIN$")[TCP]
    frags6 = with_ether(fragment6(
        IPv6(src=CLIENT6, dst=SERVER6) / IPv6ExtHdrFragment(id=0x1234) /
        segment, 40 + 8 + 56))
    assert len(frags6) == 3, len(frags6)
    wrpcap(out + "/frag6.pcap", stamp(hs6 + [frags6[1], frags6[2],
                                             frags6[0]]))

    udp = IP(bytes(IP(src=CLIENT, dst=SERVER, id=11) /
                   UDP(sport=5000, dport=5001) / Raw(bytes(range(200)))))
    wrpcap(out + "/udp.pcap", stamp(with_ether(fragment(udp, fragsize=64))))


if __name__ == "__main__":
    main()
