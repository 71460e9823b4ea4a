#!/usr/bin/env python3
"""Small pcap tools for the tests (standard library only).

  pcap_tool.py split CAPTURE PREFIX OUT_A OUT_B
      frames whose IPv4 source starts with PREFIX (e.g. "198.18.1.") go to
      OUT_A, all others to OUT_B: one capture per gateway port.
  pcap_tool.py flood CAPTURE OUT COUNT
      CAPTURE with COUNT TCP SYNs to port 445 from distinct sources inserted
      in its middle, all within one second (a SYN flood during a session).
  pcap_tool.py sessions CAPTURE OUT COUNT FRAMES
      COUNT copies of the first FRAMES frames of CAPTURE (a session left
      open), each on its own client port: COUNT concurrent SMB sessions.
  pcap_tool.py skip CAPTURE OUT FRAMES
      CAPTURE without its first FRAMES frames: a session picked up mid-stream.
  pcap_tool.py mutate CAPTURE OUT SEED
      CAPTURE damaged the way a hostile or broken network would: bytes
      flipped past the Ethernet header, frames cut short, random frames,
      duplicates, and sometimes everything out of order. Same SEED, same
      output.
"""
import random
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    header = data[:24]
    records, offset = [], 24
    while offset + 16 <= len(data):
        sec, frac, caplen, length = struct.unpack(order + "IIII", data[offset:offset + 16])
        records.append((sec, frac, length, data[offset + 16:offset + 16 + caplen]))
        offset += 16 + caplen
    return order, header, records


def write_pcap(path, order, header, records):
    with open(path, "wb") as f:
        f.write(header)
        for sec, frac, length, frame in records:
            f.write(struct.pack(order + "IIII", sec, frac, len(frame), length))
            f.write(frame)


def ipv4_source(frame):
    offset, ethertype = 14, struct.unpack("!H", frame[12:14])[0]
    while ethertype in (0x8100, 0x88A8) and len(frame) >= offset + 4:
        ethertype = struct.unpack("!H", frame[offset + 2:offset + 4])[0]
        offset += 4
    if ethertype != 0x0800 or len(frame) < offset + 20:
        return None
    return ".".join(str(b) for b in frame[offset + 12:offset + 16])


def split(capture, prefix, out_a, out_b):
    order, header, records = read_pcap(capture)
    side_a = [r for r in records if (ipv4_source(r[3]) or "").startswith(prefix)]
    side_b = [r for r in records if not (ipv4_source(r[3]) or "").startswith(prefix)]
    write_pcap(out_a, order, header, side_a)
    write_pcap(out_b, order, header, side_b)
    print(len(side_a), len(side_b))


def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn_frame(index):
    src = bytes([198, 19, (index >> 8) & 0xFF, index & 0xFF])
    dst = bytes([198, 18, 2, 20])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, index & 0xFFFF, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    tcp = struct.pack("!HHIIBBHHH", 1024 + index % 60000, 445, index, 0, 5 << 4, 0x02, 64240, 0, 0)
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + tcp + b"\0" * 6


def flood(capture, out, count):
    order, header, records = read_pcap(capture)
    middle = len(records) // 2
    sec, frac = records[middle - 1][0], records[middle - 1][1]
    syns = [(sec, frac, 60, syn_frame(i)) for i in range(count)]
    write_pcap(out, order, header, records[:middle] + syns + records[middle:])


def set_client_port(frame, server_port, client_port):
    """Rewrites the non-server TCP port of an untagged IPv4 frame."""
    frame = bytearray(frame)
    src, dst = struct.unpack("!HH", frame[34:38])
    if src == server_port:
        frame[36:38] = struct.pack("!H", client_port)
    elif dst == server_port:
        frame[34:36] = struct.pack("!H", client_port)
    return bytes(frame)


def sessions(capture, out, count, frames):
    order, header, records = read_pcap(capture)
    head = records[:frames]
    copies = []
    for i in range(count):
        copies += [(sec, frac, length, set_client_port(frame, 445, 10000 + i))
                   for sec, frac, length, frame in head]
    write_pcap(out, order, header, copies)


def skip(capture, out, frames):
    order, header, records = read_pcap(capture)
    write_pcap(out, order, header, records[frames:])


def mutate(capture, out, seed):
    rng = random.Random(seed)
    order, header, records = read_pcap(capture)
    damaged = []
    for sec, frac, length, frame in records:
        f = bytearray(frame)
        r = rng.random()
        if r < 0.3 and len(f) > 14:
            for _ in range(rng.randint(1, 8)):
                f[rng.randrange(14, len(f))] = rng.randrange(256)
        elif r < 0.4:
            f = f[:rng.randrange(0, len(f) + 1)]
        elif r < 0.45:
            f = bytearray(rng.getrandbits(8) for _ in range(rng.randrange(0, 200)))
        damaged.append((sec, frac, len(f), bytes(f)))
        if rng.random() < 0.1:
            damaged.append((sec, frac, len(f), bytes(f)))
    if rng.random() < 0.2:
        rng.shuffle(damaged)
    write_pcap(out, order, header, damaged)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "split":
        split(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "flood":
        flood(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 6 and sys.argv[1] == "sessions":
        sessions(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) == 5 and sys.argv[1] == "mutate":
        mutate(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "skip":
        skip(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
