#!/usr/bin/python3
"""Both ends of the SMB-over-QUIC end-to-end test (test_quic.sh).

  quic_peer.py listen LOG PORT...
      receives UDP datagrams on 0.0.0.0:PORT...; writes one line per
      datagram to LOG: "SRC_PORT DEST_PORT LENGTH"
  quic_peer.py send CAPTURE SERVER PORT SRC_PORT [FIRST [LAST]]
      sends the client's UDP payloads of CAPTURE (the sender of its first
      UDP datagram; FIRST to LAST of them, 1-based, default all) from
      SRC_PORT to SERVER:PORT, 50 ms apart
"""

import socket
import sys
import time

from scapy.all import IP, IPv6, UDP, rdpcap


def listen(log, ports):
    socks = []
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", int(port)))
        s.setblocking(False)
        socks.append((s, int(port)))
    with open(log, "a", buffering=1) as out:
        while True:
            got = False
            for s, port in socks:
                try:
                    data, peer = s.recvfrom(65535)
                except BlockingIOError:
                    continue
                got = True
                out.write("%d %d %d\n" % (peer[1], port, len(data)))
            if not got:
                time.sleep(0.005)


def client_payloads(capture):
    client = None
    for pkt in rdpcap(capture):
        if UDP not in pkt:
            continue
        ip = pkt[IP] if IP in pkt else pkt[IPv6]
        if client is None:
            client = (ip.src, pkt[UDP].sport)
        if (ip.src, pkt[UDP].sport) == client:
            yield bytes(pkt[UDP].payload)


def send(capture, server, port, src_port, first=1, last=None):
    payloads = list(client_payloads(capture))
    last = len(payloads) if last is None else last
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", src_port))
    for payload in payloads[first - 1:last]:
        s.sendto(payload, (server, port))
        time.sleep(0.05)


def main():
    if sys.argv[1] == "listen":
        listen(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "send":
        args = sys.argv[2:]
        send(args[0], args[1], int(args[2]), int(args[3]),
             *[int(a) for a in args[4:6]])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
