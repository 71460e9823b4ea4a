#!/usr/bin/env python3
"""Stands in for systemd's notification socket: binds an AF_UNIX datagram
socket at PATH and prints every message it receives as one line,
"<epoch seconds> <message with newlines as |>", flushed at once."""
import os
import socket
import sys
import time

path = sys.argv[1]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print("%.6f LISTENING" % time.time(), flush=True)
while True:
    data = sock.recv(4096)
    text = data.decode(errors="replace").replace("\n", "|")
    print("%.6f %s" % (time.time(), text), flush=True)
