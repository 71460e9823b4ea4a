#!/usr/bin/env python3
"""Compares the frames of two captures byte for byte and in order.

With --count FILE, prints the number of frames in FILE (0 if absent).

Exit 0 when equal; otherwise prints the first difference and exits 1.
Timestamps are not compared: only what was on the wire.
"""
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []  # not written yet (the gateway is still starting)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        order = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        order = ">"
    else:
        sys.exit("%s: not a pcap file" % path)
    offset, out = 24, []
    while offset + 16 <= len(data):
        caplen = struct.unpack(order + "I", data[offset + 8:offset + 12])[0]
        out.append(data[offset + 16:offset + 16 + caplen])
        offset += 16 + caplen
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--count":
        try:
            print(len(frames(sys.argv[2])))
        except FileNotFoundError:
            print(0)
        return 0
    if len(sys.argv) != 3:
        sys.exit("usage: compare_pcaps.py EXPECTED ACTUAL | --count FILE")
    expected, actual = frames(sys.argv[1]), frames(sys.argv[2])
    for i, (want, got) in enumerate(zip(expected, actual)):
        if want != got:
            at = next((j for j in range(min(len(want), len(got)))
                       if want[j] != got[j]), min(len(want), len(got)))
            print("frame %d differs: %d bytes sent, %d received, first "
                  "difference at byte %d" % (i + 1, len(want), len(got), at))
            return 1
    if len(expected) != len(actual):
        print("%d frames sent, %d received" % (len(expected), len(actual)))
        return 1
    print("%d frames equal byte for byte and in order" % len(expected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
