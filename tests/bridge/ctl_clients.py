#!/usr/bin/env python3
"""Control socket clients and a stand-in server for test_ctl_fairness.sh.

  ctl_clients.py trickle SOCKET COUNT PERIOD_S DURATION_S [SILENT]
      COUNT connections each send one byte of a request that never ends
      every PERIOD_S seconds, SILENT more connect and send nothing; any
      the gateway closes connects again at once. Runs DURATION_S seconds,
      then prints "connects N closed M".

  ctl_clients.py busy SOCKET BUSY_REPLIES [TIMEOUT_S]
      Listens on SOCKET as a gateway would: answers the first
      BUSY_REPLIES requests "busy" (-1: all of them), the next with a
      status result; prints the number of connections when the first
      non-busy reply is sent or after TIMEOUT_S (default 10) seconds.
"""
import os
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(False)
    return s


def closed(s):
    """True once the peer has closed s; reads whatever is there."""
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def trickle(path, count, period, duration, silent):
    socks = [None] * (count + silent)
    connects = closes = 0
    end = time.monotonic() + duration
    next_byte = 0.0
    while time.monotonic() < end:
        for i, s in enumerate(socks):
            if s is not None and not closed(s):
                continue
            if s is not None:
                s.close()
                closes += 1
            try:
                socks[i] = connect(path)
                connects += 1
            except OSError:
                socks[i] = None
        now = time.monotonic()
        if now >= next_byte:
            next_byte = now + period
            for s in socks[:count]:
                if s is None:
                    continue
                try:
                    s.send(b"e")
                except OSError:
                    pass
        time.sleep(0.02)
    print(f"connects {connects} closed {closes}", flush=True)


def busy(path, busy_replies, timeout):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    server.settimeout(timeout)
    connections = 0
    try:
        while True:
            conn, _ = server.accept()
            connections += 1
            conn.settimeout(5)
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            if busy_replies < 0 or connections <= busy_replies:
                conn.sendall(b'{"ok":false,"code":"busy","error":'
                             b'"too many control connections; try again"}\n')
                conn.close()
                continue
            conn.sendall(b'{"ok":true,"command":"status","result":'
                         b'{"version":"stand-in"}}\n')
            conn.close()
            break
    except socket.timeout:
        pass
    print(connections, flush=True)
    server.close()
    os.unlink(path)


def main(argv):
    if len(argv) >= 6 and argv[1] == "trickle":
        trickle(argv[2], int(argv[3]), float(argv[4]), float(argv[5]),
                int(argv[6]) if len(argv) > 6 else 0)
    elif len(argv) >= 4 and argv[1] == "busy":
        busy(argv[2], int(argv[3]), float(argv[4]) if len(argv) > 4 else 10)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
