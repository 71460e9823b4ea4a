#!/usr/bin/env python3
"""Small pcap tools for the tests (standard library only).

  pcap_tool.py split CAPTURE PREFIX OUT_A OUT_B
      frames whose IPv4 source starts with PREFIX (e.g. "198.18.1.") go to
      OUT_A, all others to OUT_B: one capture per gateway port.
  pcap_tool.py flood CAPTURE OUT COUNT [answered]
      CAPTURE with COUNT TCP SYNs to port 445 from distinct sources inserted
      in its middle, all within one second (a SYN flood during a session);
      "answered": each SYN followed by the server's SYN-ACK.
  pcap_tool.py sessions CAPTURE OUT COUNT FRAMES
      COUNT copies of the first FRAMES frames of CAPTURE (a session left
      open), each on its own client port: COUNT concurrent SMB sessions.
  pcap_tool.py skip CAPTURE OUT FRAMES
      CAPTURE without its first FRAMES frames: a session picked up mid-stream.
  pcap_tool.py mutate CAPTURE OUT SEED
      CAPTURE damaged the way a hostile or broken network would: bytes
      flipped past the Ethernet header, frames cut short (half of them as
      a snap length cuts them, the length on the wire kept), random
      frames, duplicates, and sometimes everything out of order. Same
      SEED, same output.
  pcap_tool.py garble CAPTURE OUT SEED
      CAPTURE with the TCP payload of its Ethernet IPv4/IPv6 frames damaged
      in place: bytes flipped, runs overwritten with random bytes, 32-bit
      words set to 0 or 0xffffffff (length and offset fields at their
      extremes). Headers, lengths, order and checksums stay as they were,
      so the streams stay whole and the damage reaches the parsers when
      checksums are not verified (stream.checksum "off"). Frames of other
      link types are copied unchanged. Same SEED, same output.
  pcap_tool.py flows CAPTURE OUT COUNT [STEP_US] [FIRST]
      COUNT copies of CAPTURE, each a distinct flow: copy i (numbered from
      FIRST, default 0) has client address 10.x.y.z (x.y.z = i + 1) and
      client port 1024 + i % 64000, starts STEP_US microseconds (default
      1000) after copy i - 1, and all copies are merged in time order. The
      client is the side of the capture's first frame; IPv4 and TCP
      checksums stay valid. For benchmarks: what tcprewrite --seed and
      mergecap do, without either.
  pcap_tool.py tcp64 OUT COUNT FLOWS
      COUNT 64-byte frames (60 captured, 6 payload bytes) of established
      non-SMB TCP: FLOWS connections from 10.1.x.y to 198.18.2.30:443, each
      opened by a handshake, then data in both directions round-robin over
      the connections, one frame per microsecond. Deterministic.
  pcap_tool.py resegment CAPTURE OUT SIZE
      CAPTURE with the TCP payload of every untagged IPv4 frame longer than
      SIZE bytes cut into SIZE-byte segments sent last piece first (each a
      frame of its own, sequence numbers, lengths and both checksums
      right): a receiver holds them until the first arrives. Other frames
      unchanged.
  pcap_tool.py snap CAPTURE OUT SNAPLEN [lie]
      CAPTURE as tcpdump -s SNAPLEN would have recorded it: every frame cut
      to SNAPLEN bytes, its length on the wire kept in its record. "lie":
      the records say the frames were sent that short (IP lengths that
      claim bytes never sent, which a receiver drops).
  pcap_tool.py linktype CAPTURE
      the link type of a classic pcap file (1 for Ethernet); nothing for
      any other file (pcapng, too short).
  pcap_tool.py other CAPTURE OUT SERVER PORT
      CAPTURE, then one whole non-SMB TCP connection (handshake, three
      HTTP-like exchanges, FINs) from 198.18.1.10:41000 to SERVER:PORT,
      1 ms a frame after the capture's last one.
"""
import heapq
import random
import struct
import sys


CLASSIC_MAGICS = (0xA1B2C3D4, 0xA1B23C4D)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic in CLASSIC_MAGICS else ">"
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


def syn_frame(index, answer=False):
    client = bytes([198, 19, (index >> 8) & 0xFF, index & 0xFF])
    server = bytes([198, 18, 2, 20])
    src, dst = (server, client) if answer else (client, server)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, index & 0xFFFF, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    cport = 1024 + index % 60000
    if answer:
        tcp = struct.pack("!HHIIBBHHH", 445, cport, 7 * index, index + 1, 5 << 4, 0x12, 64240, 0, 0)
    else:
        tcp = struct.pack("!HHIIBBHHH", cport, 445, index, 0, 5 << 4, 0x02, 64240, 0, 0)
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + tcp + b"\0" * 6


def flood(capture, out, count, answered=False):
    order, header, records = read_pcap(capture)
    middle = len(records) // 2
    sec, frac = records[middle - 1][0], records[middle - 1][1]
    syns = []
    for i in range(count):
        syns.append((sec, frac, 60, syn_frame(i)))
        if answered:
            syns.append((sec, frac, 60, syn_frame(i, True)))
    write_pcap(out, order, header, records[:middle] + syns + records[middle:])


def set_client_port(frame, server_port, client_port):
    """Rewrites the non-server TCP port of an untagged IPv4 frame, its
    checksum adjusted (RFC 1624) so that it stays as valid as it was."""
    frame = bytearray(frame)
    src, dst = struct.unpack("!HH", frame[34:38])
    if src == server_port:
        at, old = 36, dst
    elif dst == server_port:
        at, old = 34, src
    else:
        return bytes(frame)
    frame[at:at + 2] = struct.pack("!H", client_port)
    if len(frame) >= 52:
        sum_old = struct.unpack("!H", frame[50:52])[0]
        total = fold((~sum_old & 0xFFFF) + (~old & 0xFFFF) + client_port)
        frame[50:52] = struct.pack("!H", ~total & 0xFFFF)
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
        wire = None
        r = rng.random()
        if r < 0.3 and len(f) > 14:
            for _ in range(rng.randint(1, 8)):
                f[rng.randrange(14, len(f))] = rng.randrange(256)
        elif r < 0.4:
            f = f[:rng.randrange(0, len(f) + 1)]
            # Half of the cuts are the capture's (a snap length): the
            # record keeps the length on the wire.
            if rng.random() < 0.5:
                wire = length
        elif r < 0.45:
            f = bytearray(rng.getrandbits(8) for _ in range(rng.randrange(0, 200)))
        record = (sec, frac, wire if wire is not None else len(f), bytes(f))
        damaged.append(record)
        if rng.random() < 0.1:
            damaged.append(record)
    if rng.random() < 0.2:
        rng.shuffle(damaged)
    write_pcap(out, order, header, damaged)


def tcp_payload_span(frame):
    """(start, end) of the TCP payload of an Ethernet frame carrying IPv4
    or IPv6 (no extension headers), VLAN tags allowed; None otherwise."""
    at = 12
    while len(frame) >= at + 2 and frame[at:at + 2] in (b"\x81\x00", b"\x88\xa8"):
        at += 4
    if len(frame) < at + 2:
        return None
    ethertype, ip = frame[at:at + 2], at + 2
    if ethertype == b"\x08\x00" and len(frame) >= ip + 20 and frame[ip + 9] == 6:
        tcp = ip + (frame[ip] & 0x0F) * 4
        ip_end = ip + struct.unpack("!H", frame[ip + 2:ip + 4])[0]
    elif ethertype == b"\x86\xdd" and len(frame) >= ip + 40 and frame[ip + 6] == 6:
        tcp = ip + 40
        ip_end = tcp + struct.unpack("!H", frame[ip + 4:ip + 6])[0]
    else:
        return None
    if len(frame) < tcp + 20:
        return None
    start = tcp + (frame[tcp + 12] >> 4) * 4
    end = min(ip_end, len(frame))
    return (start, end) if start < end else None


def garble(capture, out, seed):
    rng = random.Random(seed)
    order, header, records = read_pcap(capture)
    ethernet = struct.unpack(order + "I", header[20:24])[0] & 0x0FFFFFFF == 1
    damaged = []
    for sec, frac, length, frame in records:
        span = tcp_payload_span(frame) if ethernet else None
        f = bytearray(frame)
        r = rng.random()
        if span is not None and r < 0.35:
            start, end = span
            if r < 0.25:
                for _ in range(rng.randint(1, 4)):
                    f[rng.randrange(start, end)] = rng.randrange(256)
            elif r < 0.3 and end - start >= 4:
                at = rng.randrange(start, end - 3)
                f[at:at + 4] = rng.choice((b"\0\0\0\0", b"\xff\xff\xff\xff"))
            else:
                at = rng.randrange(start, end)
                run = min(end - at, rng.randint(1, 64))
                f[at:at + run] = bytes(rng.getrandbits(8) for _ in range(run))
        damaged.append((sec, frac, length, bytes(f)))
    write_pcap(out, order, header, damaged)


def resegment(capture, out, size):
    order, header, records = read_pcap(capture)
    ethernet = struct.unpack(order + "I", header[20:24])[0] & 0x0FFFFFFF == 1
    cut = []
    for sec, frac, length, frame in records:
        span = tcp_payload_span(frame) if ethernet else None
        if span is None or frame[12:14] != b"\x08\x00" or span[1] - span[0] <= size:
            cut.append((sec, frac, length, frame))
            continue
        start, end = span
        ip = 14
        tcp = ip + (frame[ip] & 0x0F) * 4
        seq = struct.unpack("!I", frame[tcp + 4:tcp + 8])[0]
        for at in reversed(range(start, end, size)):
            piece = frame[at:min(at + size, end)]
            f = bytearray(frame[:start] + piece)
            f[ip + 2:ip + 4] = struct.pack("!H", len(f) - ip)
            f[ip + 10:ip + 12] = b"\0\0"
            f[ip + 10:ip + 12] = struct.pack("!H", checksum(bytes(f[ip:tcp])))
            f[tcp + 4:tcp + 8] = struct.pack("!I", (seq + at - start) & 0xFFFFFFFF)
            f[tcp + 16:tcp + 18] = b"\0\0"
            segment = bytes(f[tcp:])
            pseudo = bytes(f[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 6, len(segment))
            f[tcp + 16:tcp + 18] = struct.pack(
                "!H", checksum(pseudo + segment + b"\0" * (len(segment) % 2)))
            cut.append((sec, frac, len(f), bytes(f)))
    write_pcap(out, order, header, cut)


def snap(capture, out, snaplen, lie=False):
    """Every frame cut to <snaplen> captured bytes, its length on the wire
    kept: what tcpdump -s SNAPLEN records. <lie>: the records say the cut
    frames were sent that short, so their IP lengths claim bytes that were
    never on the wire."""
    order, header, records = read_pcap(capture)
    header = header[:16] + struct.pack(order + "I", snaplen) + header[20:]
    write_pcap(out, order, header,
               [(sec, frac, len(frame[:snaplen]) if lie else length,
                 frame[:snaplen])
                for sec, frac, length, frame in records])


def fold(total):
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def rewrite_client(frame, client, new_addr, new_port):
    """Gives the endpoint <client> (address, port) of an untagged IPv4 TCP
    frame a new address and port; both checksums adjusted (RFC 1624)."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return frame
    f = bytearray(frame)
    tcp = 14 + (f[14] & 0x0F) * 4
    if (bytes(f[26:30]), struct.unpack("!H", f[tcp:tcp + 2])[0]) == client:
        addr_at, port_at = 26, tcp
    elif (bytes(f[30:34]), struct.unpack("!H", f[tcp + 2:tcp + 4])[0]) == client:
        addr_at, port_at = 30, tcp + 2
    else:
        return frame
    old = struct.unpack("!HHH", bytes(f[addr_at:addr_at + 4]) + bytes(f[port_at:port_at + 2]))
    new = struct.unpack("!HHH", new_addr + struct.pack("!H", new_port))
    f[addr_at:addr_at + 4] = new_addr
    f[port_at:port_at + 2] = struct.pack("!H", new_port)
    f[24:26] = b"\0\0"
    f[24:26] = struct.pack("!H", checksum(bytes(f[14:tcp])))
    if len(f) >= tcp + 18:
        total = ~struct.unpack("!H", f[tcp + 16:tcp + 18])[0] & 0xFFFF
        for o, n in zip(old, new):
            total += (~o & 0xFFFF) + n
        f[tcp + 16:tcp + 18] = struct.pack("!H", ~fold(total) & 0xFFFF)
    return bytes(f)


def flows(capture, out, count, step_us=1000, first=0):
    order, header, records = read_pcap(capture)
    f = records[0][3]
    tcp = 14 + (f[14] & 0x0F) * 4
    client = (bytes(f[26:30]), struct.unpack("!H", f[tcp:tcp + 2])[0])
    nano = struct.unpack(order + "I", header[:4])[0] in (0xA1B23C4D,)
    unit = 1000000000 if nano else 1000000
    step = step_us * (1000 if nano else 1)

    def copy(i):
        n = first + i + 1
        addr = bytes([10, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF])
        port = 1024 + (first + i) % 64000
        for sec, frac, length, frame in records:
            t = sec * unit + frac + i * step
            yield t, i, (t // unit, t % unit, length,
                         rewrite_client(frame, client, addr, port))

    merged = heapq.merge(*(copy(i) for i in range(count)),
                         key=lambda r: (r[0], r[1]))
    with open(out, "wb") as f:
        f.write(header)
        for _, _, (sec, frac, length, frame) in merged:
            f.write(struct.pack(order + "IIII", sec, frac, len(frame), length))
            f.write(frame)


def tcp_frame(client, client_port, to_server, seq, ack, flags, payload,
              server=bytes([198, 18, 2, 30]), server_port=443):
    src, dst = (client, server)[::1 if to_server else -1]
    sport, dport = (client_port, server_port)[::1 if to_server else -1]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), seq & 0xFFFF,
                     0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    segment = tcp + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(segment))
    padded = segment + b"\0" * (len(segment) % 2)
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + padded)) + tcp[18:]
    mac = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"
    if not to_server:
        mac = mac[6:] + mac[:6]
    frame = mac + b"\x08\x00" + ip + tcp + payload
    return frame + b"\0" * (60 - len(frame))


def tcp64(out, count, nflows):
    payload = b"\x17\x03\x03\x00\x01\x00"   # a TLS record's first bytes
    records, t = [], 1700000000 * 1000000
    state = []
    for i in range(nflows):
        client = bytes([10, 1, (i >> 8) & 0xFF, i & 0xFF])
        port = 20000 + i
        cseq, sseq = 1000 + i, 5000 + i
        for to_server, seq, ack, flags in ((True, cseq, 0, 0x02),
                                           (False, sseq, cseq + 1, 0x12),
                                           (True, cseq + 1, sseq + 1, 0x10)):
            records.append(tcp_frame(client, port, to_server, seq, ack, flags, b""))
        state.append([client, port, cseq + 1, sseq + 1])
    i = 0
    while len(records) < count:
        flow = state[(i // 2) % nflows]
        to_server = i % 2 == 0
        client, port, cseq, sseq = flow
        if to_server:
            records.append(tcp_frame(client, port, True, cseq, sseq, 0x18, payload))
            flow[2] += len(payload)
        else:
            records.append(tcp_frame(client, port, False, sseq, cseq, 0x18, payload))
            flow[3] += len(payload)
        i += 1
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    write_pcap(out, "<", header, [((t + n) // 1000000, (t + n) % 1000000, 64, f)
                                  for n, f in enumerate(records[:count])])


def other(capture, out, server, server_port):
    """CAPTURE, then a whole HTTP-like TCP connection from 198.18.1.10 to
    SERVER:SERVER_PORT, 1 ms after the capture's last frame."""
    order, header, records = read_pcap(capture)
    nano = struct.unpack(order + "I", header[:4])[0] == 0xA1B23C4D
    unit = 1000 if nano else 1
    sec, frac = records[-1][0], records[-1][1]
    client, port = bytes([198, 18, 1, 10]), 41000
    server = bytes(int(b) for b in server.split("."))
    cseq, sseq = 7000, 9000
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    steps = [(True, cseq, 0, 0x02, b""), (False, sseq, cseq + 1, 0x12, b""),
             (True, cseq + 1, sseq + 1, 0x10, b"")]
    c, s = cseq + 1, sseq + 1
    for _ in range(3):
        steps.append((True, c, s, 0x18, request))
        c += len(request)
        steps.append((False, s, c, 0x18, reply))
        s += len(reply)
    steps += [(True, c, s, 0x11, b""), (False, s, c + 1, 0x11, b""),
              (True, c + 1, s + 1, 0x10, b"")]
    added = []
    for i, (to_server, seq, ack, flags, payload) in enumerate(steps):
        frac += 1000 * unit
        if frac >= 1000000 * unit:
            sec, frac = sec + 1, frac - 1000000 * unit
        frame = tcp_frame(client, port, to_server, seq, ack, flags, payload,
                          server, server_port)
        added.append((sec, frac, len(frame), frame))
    write_pcap(out, order, header, records + added)


def linktype(capture):
    with open(capture, "rb") as f:
        header = f.read(24)
    if len(header) < 24:
        return
    for order in "<>":
        if struct.unpack(order + "I", header[:4])[0] in CLASSIC_MAGICS:
            print(struct.unpack(order + "I", header[20:24])[0] & 0x0FFFFFFF)
            return


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "split":
        split(*sys.argv[2:])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "flood":
        flood(sys.argv[2], sys.argv[3], int(sys.argv[4]),
              len(sys.argv) == 6 and sys.argv[5] == "answered")
    elif len(sys.argv) == 6 and sys.argv[1] == "sessions":
        sessions(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) == 5 and sys.argv[1] == "mutate":
        mutate(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "garble":
        garble(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif 5 <= len(sys.argv) <= 7 and sys.argv[1] == "flows":
        flows(sys.argv[2], sys.argv[3], *(int(a) for a in sys.argv[4:]))
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "snap":
        snap(sys.argv[2], sys.argv[3], int(sys.argv[4]),
             len(sys.argv) == 6 and sys.argv[5] == "lie")
    elif len(sys.argv) == 5 and sys.argv[1] == "tcp64":
        tcp64(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 6 and sys.argv[1] == "other":
        other(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif len(sys.argv) == 5 and sys.argv[1] == "resegment":
        resegment(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "linktype":
        linktype(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "skip":
        skip(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
