#!/usr/bin/python3
# A minimal DCE/RPC server for captures of interfaces Samba does not serve
# (DCOM activation, WMI, the task scheduler, atsvc, IEventService, EFSRPC,
# ISecLogon): it accepts every presentation context of a BIND or
# ALTER_CONTEXT (NDR transfer syntax, no authentication) and answers every
# request with a fault (nca_s_op_rng_error), so a client sends its real
# request and gets a clean refusal.
#
# usage: rpc_responder.py ADDRESS PORT [PORT...]   (runs until killed)
import socket
import struct
import sys
import threading

NDR = bytes.fromhex("045d888aeb1cc9119fe808002b104860") + struct.pack("<I", 2)
FAULT_OP_RNG_ERROR = 0x1C010002


def header(ptype, call_id, body_len, flags=3):
    return struct.pack("<BBBB4sHHI", 5, 0, ptype, flags, b"\x10\x00\x00\x00",
                       16 + body_len, 0, call_id)


def ack(ptype, call_id, body):
    """BIND_ACK / ALTER_CONTEXT_RESP accepting every context of <body>."""
    count = body[8]
    out = struct.pack("<HHI", 4280, 4280, 0x12345)
    sec_addr = b"135\x00" if ptype == 12 else b""
    out += struct.pack("<H", len(sec_addr)) + sec_addr
    while (len(out) + 16) % 4:
        out += b"\x00"
    out += struct.pack("<BBH", count, 0, 0)
    for _ in range(count):
        out += struct.pack("<HH", 0, 0) + NDR
    return header(ptype, call_id, len(out)) + out


def fault(call_id, context_id):
    body = struct.pack("<IHBBI", 32, context_id, 0, 0, FAULT_OP_RNG_ERROR)
    body += b"\x00" * 4
    return header(3, call_id, len(body)) + body


def serve(conn):
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while len(buf) >= 16:
                frag_len = struct.unpack_from("<H", buf, 8)[0]
                if frag_len < 16 or len(buf) < frag_len:
                    break
                pdu, buf = buf[:frag_len], buf[frag_len:]
                ptype, flags = pdu[2], pdu[3]
                call_id = struct.unpack_from("<I", pdu, 12)[0]
                if ptype in (11, 14):
                    conn.sendall(ack(12 if ptype == 11 else 15, call_id,
                                     pdu[16:]))
                elif ptype == 0 and flags & 2:
                    conn.sendall(fault(call_id,
                                       struct.unpack_from("<H", pdu, 20)[0]))


def listen(address, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(8)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    address = sys.argv[1]
    ports = [int(p) for p in sys.argv[2:]]
    for port in ports[1:]:
        threading.Thread(target=listen, args=(address, port),
                         daemon=True).start()
    listen(address, ports[0])


if __name__ == "__main__":
    main()
