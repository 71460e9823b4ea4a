#!/usr/bin/env python3
"""Holds idle SMB connections open, as an attacker exhausting state would.

  idle_smb.py SERVER COUNT HOLD_SECONDS

Opens COUNT TCP connections to SERVER:445 one after the other, sends an
SMB2 NEGOTIATE request on each and waits (3 s at most) for its answer:
  held     the NEGOTIATE response came: the connection is kept open, idle
  refused  the connection was reset (also during the handshake) or closed
  silent   no answer within 3 s (kept open too)
then prints "held H refused R silent S" and keeps every connection that is
still open, saying nothing, for HOLD_SECONDS. Standard library only.
"""
import socket
import struct
import sys
import time


def negotiate(message_id):
    """NBSS + SMB2 NEGOTIATE; a connection's first message has id 0."""
    dialects = (0x0202, 0x0210)
    body = struct.pack("<HHHHI16sQ", 36, len(dialects), 1, 0, 0, b"\0" * 16, 0)
    body += b"".join(struct.pack("<H", d) for d in dialects)
    header = b"\xfeSMB" + struct.pack("<HHIHHIIQII Q16s".replace(" ", ""),
                                      64, 0, 0, 0, 1, 0, 0, message_id, 0, 0, 0, b"\0" * 16)
    message = header + body
    return struct.pack(">I", len(message)) + message


def answered(conn):
    """True once a whole NBSS message came back, False on reset or close."""
    conn.settimeout(3)
    data = b""
    try:
        while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
            chunk = conn.recv(4096)
            if not chunk:
                return False
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        return False
    return True


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    server, count, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    kept, held, refused, silent = [], 0, 0, 0
    for i in range(count):
        try:
            conn = socket.create_connection((server, 445), timeout=5)
        except OSError:
            # Reset during the handshake: a gateway may refuse that early.
            refused += 1
            continue
        try:
            conn.sendall(negotiate(0))
            ok = answered(conn)
        except socket.timeout:
            silent += 1
            kept.append(conn)
            continue
        except OSError:
            ok = False
        if ok:
            held += 1
            kept.append(conn)
        else:
            refused += 1
            conn.close()
    print("held %d refused %d silent %d" % (held, refused, silent), flush=True)
    time.sleep(hold)
    for conn in kept:
        conn.close()


if __name__ == "__main__":
    main()
