#!/usr/bin/env python3
"""Prints the epoch time at which a TCP connection to HOST:PORT first
completes: a new non-blocking connect (one SYN) every INTERVAL seconds,
so the first SYN sent once the path works is answered at once instead of
waiting for a retransmission. Exit 1 after TIMEOUT seconds without one.

usage: restart_probe.py HOST PORT [INTERVAL [TIMEOUT]]"""
import errno
import select
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.005
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0

pending = {}        # socket -> time its SYN went out
poller = select.epoll()
deadline = time.time() + timeout
next_syn = 0.0
while time.time() < deadline:
    now = time.time()
    if now >= next_syn:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
        else:
            pending[s.fileno()] = (s, now)
            poller.register(s.fileno(), select.EPOLLOUT)
        next_syn = now + interval
    # Old attempts only wait for retransmissions: let them go.
    for fd, (s, sent) in list(pending.items()):
        if now - sent > 0.5:
            poller.unregister(fd)
            s.close()
            del pending[fd]
    for fd, _ in poller.poll(max(0.0, next_syn - time.time())):
        s, sent = pending.pop(fd)
        poller.unregister(fd)
        ok = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        s.close()
        if ok:
            print("%.6f" % time.time(), flush=True)
            sys.exit(0)
sys.exit(1)
