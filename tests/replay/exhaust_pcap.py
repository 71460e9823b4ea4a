#!/usr/bin/env python3
"""Builds the capture of a session-pool exhaustion attempt (standard library).

  exhaust_pcap.py PSEXEC BENIGN OUT IDLE LEAD_MS

OUT holds, merged in time order:
  - IDLE idle SMB connections from 198.18.1.30 (ports 30000 up), one a
    millisecond: the first 7 frames of PSEXEC (handshake, NEGOTIATE request
    and response, ACK) and nothing more, starting LEAD_MS milliseconds
    before PSEXEC does;
  - PSEXEC as captured (psexec.py from 198.18.1.10: TREE_CONNECT ADMIN$);
  - BENIGN with its client moved to 198.18.1.50 (ports 40000 up), starting
    10 ms after PSEXEC: ordinary sessions from a third client.
Both captures have their client as the sender of their first frame.
"""
import heapq
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pcap_tool import checksum, read_pcap, rewrite_client  # noqa: E402

HANDSHAKE_AND_NEGOTIATE = 7


def units(header, order):
    nano = struct.unpack(order + "I", header[:4])[0] == 0xA1B23C4D
    return 1000000000 if nano else 1000000


def client_of(frame):
    tcp = 14 + (frame[14] & 0x0F) * 4
    return bytes(frame[26:30]), struct.unpack("!H", frame[tcp:tcp + 2])[0]


def timed(records, unit):
    return [(sec * unit + frac, length, frame) for sec, frac, length, frame in records]


def with_tcp_checksum(frame):
    """An untagged IPv4 TCP frame with its TCP checksum computed anew: a
    capture taken on the sending host holds what its NIC was left to
    finish, which no rewrite can keep valid."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return frame
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    if len(frame) < 14 + total or total < ihl + 20:
        return frame
    f = bytearray(frame)
    tcp = 14 + ihl
    segment = bytearray(f[tcp:14 + total])
    segment[16:18] = b"\0\0"
    pseudo = bytes(f[26:34]) + struct.pack("!BBH", 0, 6, len(segment))
    padded = bytes(segment) + b"\0" * (len(segment) % 2)
    f[tcp + 16:tcp + 18] = struct.pack("!H", checksum(pseudo + padded))
    return bytes(f)


def moved(records, client, addr, port, shift):
    """Shifted in time by <shift>; endpoint <client> (None: none) moved."""
    return [(t + shift, length,
             frame if client is None else
             with_tcp_checksum(rewrite_client(frame, client, addr, port)))
            for t, length, frame in records]


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    psexec_path, benign_path, out = sys.argv[1:4]
    idle, lead_ms = int(sys.argv[4]), int(sys.argv[5])
    order, header, psexec = read_pcap(psexec_path)
    unit = units(header, order)
    border, bheader, benign = read_pcap(benign_path)
    bunit = units(bheader, border)
    psexec = timed(psexec, unit)
    # The benign capture in the psexec capture's time unit.
    benign = [(t * unit // bunit, length, frame) for t, length, frame in timed(benign, bunit)]
    start = psexec[0][0]
    head = psexec[:HANDSHAKE_AND_NEGOTIATE]
    client = client_of(psexec[0][2])

    streams = [psexec]
    for i in range(idle):
        shift = -lead_ms * unit // 1000 + i * unit // 1000
        streams.append(moved(head, client, bytes([198, 18, 1, 30]), 30000 + i, shift))
    # Every connection of the benign client, each on a port of its own.
    addr = client_of(benign[0][2])[0]
    ports = sorted({client_of(frame)[1] for _, _, frame in benign
                    if bytes(frame[26:30]) == addr})
    shift = start + unit // 100 - benign[0][0]
    for k, port in enumerate(ports):
        benign = moved(benign, (addr, port), bytes([198, 18, 1, 50]), 40000 + k, 0)
    streams.append(moved(benign, None, None, None, shift))
    with open(out, "wb") as f:
        f.write(header)
        for t, length, frame in heapq.merge(*streams, key=lambda r: r[0]):
            f.write(struct.pack(order + "IIII", t // unit, t % unit, len(frame), length))
            f.write(frame)


if __name__ == "__main__":
    main()
