#!/usr/bin/env python3
"""Writes the frames the bridge test sends through the gateway.

Two captures, one per direction, with every kind of frame a transparent
bridge must carry unchanged: untagged, 802.1Q and QinQ tagged IPv4, ARP,
IPv6 (with an extension header), non-IP (LLDP), IPv4 fragments, minimum-size
and jumbo frames that span several mbufs. Deterministic: same bytes every run.
"""
import random
import struct
import sys

ETH_IPV4, ETH_ARP, ETH_VLAN, ETH_QINQ, ETH_IPV6, ETH_LLDP = (
    0x0800, 0x0806, 0x8100, 0x88A8, 0x86DD, 0x88CC)


def mac(n):
    return bytes([0x02, 0, 0, 0, 0, n])


def ether(dst, src, ethertype, payload, tags=()):
    header = dst + src
    for tpid, vid in tags:
        header += struct.pack("!HH", tpid, vid)
    return header + struct.pack("!H", ethertype) + payload


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src, dst, proto, payload, frag=0, ident=1):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                         frag, 64, proto, 0, bytes(src), bytes(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6(src, dst, next_header, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64,
                       bytes(src), bytes(dst)) + payload


def tcp(src, dst, sport, dport, seq, payload, flags=0x18):
    """A TCP segment with a valid checksum: the gateway verifies those of
    the SMB flows it inspects, as their receivers do."""
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags,
                          65535, 0, 0) + payload
    src, dst = bytes(src), bytes(dst)
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(segment))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(segment), 6)
    return segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + \
        segment[18:]


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def arp(op, sender_mac, sender_ip, target_ip):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sender_mac,
                       bytes(sender_ip), b"\0" * 6, bytes(target_ip))


def frames_for(side, rng):
    a, b = (mac(1), mac(2)) if side == 0 else (mac(2), mac(1))
    src = [198, 18, 1, 10] if side == 0 else [198, 18, 2, 20]
    dst = [198, 18, 2, 20] if side == 0 else [198, 18, 1, 10]
    src6 = bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [1 + side])
    dst6 = bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [2 - side])

    def blob(n):
        return bytes(rng.getrandbits(8) for _ in range(n))

    out = [
        ether(b"\xff" * 6, a, ETH_ARP, arp(1, a, src, dst) + b"\0" * 18),
        ether(b, a, ETH_ARP, arp(2, a, src, dst) + b"\0" * 18),
        ether(b, a, ETH_IPV4, ipv4(src, dst, 6, tcp(src, dst, 40000, 445, 1, blob(100)))),
        ether(b, a, ETH_IPV4, ipv4(src, dst, 17, udp(5353, 5353, blob(40)))),
        ether(b, a, ETH_IPV4, ipv4(src, dst, 6, tcp(src, dst, 40001, 80, 7, b"")) +
              b"\0" * 6),  # padded to the 60-byte minimum
        ether(b, a, ETH_IPV4, ipv4(src, dst, 6, tcp(src, dst, 40002, 445, 9, blob(300))),
              tags=[(ETH_VLAN, 100)]),
        ether(b, a, ETH_IPV4, ipv4(src, dst, 6, tcp(src, dst, 40003, 445, 11, blob(200))),
              tags=[(ETH_QINQ, 200), (ETH_VLAN, 300)]),
        ether(b, a, ETH_IPV6, ipv6(src6, dst6, 6, tcp(src6, dst6, 40004, 445, 13, blob(500)))),
        ether(b, a, ETH_IPV6, ipv6(src6, dst6, 60,
                                    bytes([6, 0]) + b"\x01\x04\0\0\0\0" +
                                    tcp(src6, dst6, 40005, 445, 15, blob(64)))),
        ether(b"\x01\x80\xc2\x00\x00\x0e", a, ETH_LLDP, blob(60)),
        ether(b, a, ETH_IPV4, ipv4(src, dst, 17, blob(1000), frag=0x2000, ident=7)),
        ether(b, a, ETH_IPV4, ipv4(src, dst, 17, blob(500), frag=125, ident=7)),
        ether(b, a, ETH_IPV4, ipv4(src, dst, 6, tcp(src, dst, 40006, 445, 17, blob(1460)))),
        # Jumbo frames: with 2 KiB mbufs they arrive as multi-segment chains.
        ether(b, a, ETH_IPV4, ipv4(src, dst, 6, tcp(src, dst, 40007, 445, 19, blob(8960)))),
        ether(b, a, ETH_IPV4, ipv4(src, dst, 6, tcp(src, dst, 40008, 445, 21, blob(4000))),
              tags=[(ETH_VLAN, 100)]),
        ether(b, a, ETH_IPV6, ipv6(src6, dst6, 17, udp(9000, 9000, blob(8900)))),
    ]
    # Sixteen connections, each a stream of segments one after the other.
    next_seq = [0] * 16
    for i in range(200):
        size = rng.randrange(0, 1400)
        out.append(ether(b, a, ETH_IPV4,
                         ipv4(src, dst, 6, tcp(src, dst, 41000 + i % 16, 445,
                                              next_seq[i % 16], blob(size)))))
        next_seq[i % 16] += size
    return out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)))
            f.write(frame)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make_frames.py OUT_A.pcap OUT_B.pcap")
    rng = random.Random(20261124)
    write_pcap(sys.argv[1], frames_for(0, rng))
    write_pcap(sys.argv[2], frames_for(1, rng))


if __name__ == "__main__":
    main()
