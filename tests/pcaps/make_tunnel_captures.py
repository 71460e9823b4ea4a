#!/usr/bin/python3
"""Builds the tunnelled SMB captures of tests/pcaps (see README.md).

Each is psexec_smb2.pcap (client 198.18.1.10, server 198.18.2.20) carried
inside an IP tunnel between two routers, 198.18.200.1 on the client's side
and 198.18.201.1 on the server's (2001:db8:200::1 and 2001:db8:201::1 for
an IPv6 outer header), each inner packet byte for byte as captured:

  tunnel_gre_psexec        GRE (RFC 2784), IPv4 inside
  tunnel_ip6ip_psexec      IPv4 in IPv6 (next header 4)
  tunnel_gre_teb_psexec    GRE with checksum, key and sequence number
                           (RFC 2890) carrying Ethernet (0x6558) with an
                           802.1Q tag, as a bridged GRE (gretap) link does
  tunnel_gre_frag_psexec   GRE whose outer datagrams are cut into 256-byte
                           IP fragments, every third datagram's last first
  tunnel_nested_psexec     IPv4 in IPv4 (protocol 4) inside GRE

usage: make_tunnel_captures.py PSEXEC_SMB2_PCAP OUT_DIR
"""

import struct
import sys

from scapy.all import (GRE, IP, IPv6, Dot1Q, Ether, Raw, fragment, rdpcap,
                       wrpcap)

CLIENT = "198.18.1.10"
ROUTER_A, ROUTER_B = "198.18.200.1", "198.18.201.1"
ROUTER6_A, ROUTER6_B = "2001:db8:200::1", "2001:db8:201::1"


def inner_of(frame):
    """The frame's IP packet, as bytes, and whether the client sent it."""
    ip = frame[IP]
    return bytes(ip), ip.src == CLIENT


def ends(from_client, six=False):
    a, b = (ROUTER6_A, ROUTER6_B) if six else (ROUTER_A, ROUTER_B)
    return (a, b) if from_client else (b, a)


def gre(frame):
    inner, up = inner_of(frame)
    src, dst = ends(up)
    return (Ether(src=frame.src, dst=frame.dst) / IP(src=src, dst=dst) /
            GRE(proto=0x0800) / Raw(inner))


def ip6ip(frame):
    inner, up = inner_of(frame)
    src, dst = ends(up, six=True)
    return (Ether(src=frame.src, dst=frame.dst) /
            IPv6(src=src, dst=dst, nh=4) / Raw(inner))


def gre_teb(frame, number):
    inner, up = inner_of(frame)
    src, dst = ends(up)
    ethernet = bytes(Ether(src=frame.src, dst=frame.dst) / Dot1Q(vlan=100, type=0x0800) /
                     Raw(inner))
    # scapy fills the GRE checksum when the field is left unset
    return (Ether(src=frame.src, dst=frame.dst) / IP(src=src, dst=dst) /
            GRE(chksum_present=1, key_present=1, seqnum_present=1,
                key=0x5eed, seqence_number=number, proto=0x6558) /
            Raw(ethernet))


def gre_fragmented(frames):
    out = []
    for number, frame in enumerate(frames):
        whole = Ether(bytes(gre(frame)))
        whole[IP].id = 0x1000 + number
        whole = Ether(bytes(whole))
        if len(whole[IP]) <= 276:
            pieces = [whole]
        else:
            pieces = [Ether(src=whole.src, dst=whole.dst) / piece
                      for piece in fragment(whole[IP], fragsize=256)]
        if number % 3 == 0:
            pieces = pieces[-1:] + pieces[:-1]
        for piece in pieces:
            piece.time = frame.time
        out.extend(pieces)
    return out


def nested(frame):
    inner, up = inner_of(frame)
    src, dst = ends(up)
    middle = bytes(IP(src="198.18.202.1" if up else "198.18.203.1",
                      dst="198.18.203.1" if up else "198.18.202.1",
                      proto=4) / Raw(inner))
    return (Ether(src=frame.src, dst=frame.dst) / IP(src=src, dst=dst) /
            GRE(proto=0x0800) / Raw(middle))


def write(path, packets, times):
    for packet, time in zip(packets, times):
        packet.time = time
    wrpcap(path, packets)


def main():
    source, out = sys.argv[1], sys.argv[2]
    frames = [f for f in rdpcap(source) if IP in f]
    times = [f.time for f in frames]
    write(f"{out}/tunnel_gre_psexec.pcap", [gre(f) for f in frames], times)
    write(f"{out}/tunnel_ip6ip_psexec.pcap", [ip6ip(f) for f in frames],
          times)
    write(f"{out}/tunnel_gre_teb_psexec.pcap",
          [gre_teb(f, n) for n, f in enumerate(frames)], times)
    write(f"{out}/tunnel_nested_psexec.pcap", [nested(f) for f in frames],
          times)
    pieces = gre_fragmented(frames)
    write(f"{out}/tunnel_gre_frag_psexec.pcap", pieces,
          [piece.time for piece in pieces])

if __name__ == "__main__":
    main()
