#!/usr/bin/python3
"""Builds the SMB over QUIC captures of tests/pcaps (see README.md).

A QUIC client's Initial packets are protected with keys derived from the
Destination Connection ID (RFC 9001 5.2); this builds them as a client
does, with the ClientHello a TLS 1.3 stack sends (RFC 8446 4.1.2), ALPN
"smb" for SMB over QUIC (MS-SMB2 2.1). The builder is checked first against
RFC 9001 Appendix A.2, whose client Initial it must reproduce byte for
byte; the capture `quic_rfc9001_a2.pcap` is that packet.

usage: make_quic_captures.py OUT_DIR
"""

import hashlib
import hmac
import os
import random
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap

V1 = 0x00000001
V2 = 0x6B3343CF
DRAFT29 = 0xFF00001D
MS1 = 0xABCD0000        # msquic's own version, keyed as draft-29
SALT = {
    V1: bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
    V2: bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"),
    DRAFT29: bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899"),
    MS1: bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899"),
}
LABEL_PREFIX = {V1: "quic ", V2: "quicv2 ", DRAFT29: "quic ", MS1: "quic "}
INITIAL_TYPE = {V1: 0, V2: 1, DRAFT29: 0, MS1: 0}

CLIENT = "198.18.16.10"
SERVER = "198.18.2.20"
CLIENT_MAC = "02:00:00:00:10:0a"
SERVER_MAC = "02:00:00:00:02:14"


def hkdf_extract(salt, ikm):
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def expand_label(secret, label, length):
    full = b"tls13 " + label.encode()
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    return hmac.new(secret, info + b"\x01", hashlib.sha256).digest()[:length]


def initial_keys(version, dcid, side="client"):
    secret = expand_label(hkdf_extract(SALT[version], dcid), side + " in", 32)
    p = LABEL_PREFIX[version]
    return (expand_label(secret, p + "key", 16),
            expand_label(secret, p + "iv", 12),
            expand_label(secret, p + "hp", 16))


def varint(v, size=None):
    if size is None:
        size = 1 if v < 64 else 2 if v < 16384 else 4 if v < 2**30 else 8
    bits = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return (v | bits << (8 * size - 2)).to_bytes(size, "big")


def protect(version, dcid, scid, pn, payload, keys, token=b"", pn_len=4):
    """A long-header Initial packet (RFC 9001 5.3, 5.4)."""
    key, iv, hp = keys
    first = 0xC0 | INITIAL_TYPE[version] << 4 | (pn_len - 1)
    length = pn_len + len(payload) + 16
    header = (bytes([first]) + struct.pack("!I", version) +
              bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid +
              varint(len(token)) + token + varint(length, 2) +
              pn.to_bytes(pn_len, "big"))
    nonce = bytes(a ^ b for a, b in zip(iv, pn.to_bytes(12, "big")))
    sealed = AESGCM(key).encrypt(nonce, payload, header)
    pn_offset = len(header) - pn_len
    sample = sealed[4 - pn_len:4 - pn_len + 16]
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    out = bytearray(header)
    out[0] ^= mask[0] & 0x0F
    for i in range(pn_len):
        out[pn_offset + i] ^= mask[1 + i]
    return bytes(out) + sealed


def crypto_frame(offset, data):
    return b"\x06" + varint(offset) + varint(len(data)) + data


def ext(kind, body):
    return struct.pack("!HH", kind, len(body)) + body


def client_hello(alpns, sni, rng, key_share_extra=0, alpn_first=False):
    """A TLS 1.3 ClientHello as QUIC clients send it."""
    alpn_list = b"".join(bytes([len(a)]) + a.encode() for a in alpns)
    alpn = ext(16, struct.pack("!H", len(alpn_list)) + alpn_list)
    host = sni.encode()
    sni_ext = ext(0, struct.pack("!HBH", len(host) + 3, 0, len(host)) + host)
    shares = struct.pack("!HH", 0x001D, 32) + rng.randbytes(32)
    if key_share_extra:
        # X25519MLKEM768's share is 1,216 bytes: a hello of two datagrams.
        shares = (struct.pack("!HH", 0x11EC, key_share_extra) +
                  rng.randbytes(key_share_extra) + shares)
    exts = [
        sni_ext,
        ext(10, bytes.fromhex("0006001d00170018") if not key_share_extra
            else bytes.fromhex("000811ec001d00170018")),
        ext(13, bytes.fromhex("000e0403050306030203080408050806")),
        ext(51, struct.pack("!H", len(shares)) + shares),
        ext(45, b"\x01\x01"),
        ext(43, b"\x02\x03\x04"),
        # QUIC transport parameters: initial_source_connection_id etc.
        ext(0x39, bytes.fromhex("0408ffffffffffffffff05048000ffff"
                                "07048000ffff0801100104800075300901100f08")
            + rng.randbytes(8)),
    ]
    exts.insert(0 if alpn_first else 4, alpn)
    body = (b"\x03\x03" + rng.randbytes(32) + b"\x00" +
            bytes.fromhex("0006130113021303") + b"\x01\x00" +
            struct.pack("!H", sum(map(len, exts))) + b"".join(exts))
    return b"\x01" + len(body).to_bytes(3, "big") + body


def initial_datagrams(version, dcid, scid, hello, rng, chaos=False,
                      first_pn=0, split=1100):
    """The client's first flight: the hello cut into Initials of 1,200+."""
    keys = initial_keys(version, dcid)
    pieces = [(o, hello[o:o + split]) for o in range(0, len(hello), split)]
    out = []
    for n, (offset, data) in enumerate(pieces):
        if chaos:
            # Chrome's way: the CRYPTO data in several frames, out of
            # order, PING and PADDING between them.
            cut = sorted(rng.sample(range(1, len(data)), 3))
            parts = [(offset + a, data[a:b]) for a, b in
                     zip([0] + cut, cut + [len(data)])]
            rng.shuffle(parts)
            frames = b"".join(crypto_frame(o, d) + b"\x01\x00\x00"
                              for o, d in parts)
        else:
            frames = crypto_frame(offset, data)
        # 1,200 bytes at least (RFC 9000 14.1): header and tag are 30
        # bytes besides the connection IDs.
        pad = max(0, 1200 - (len(frames) + 30 + len(dcid) + len(scid)))
        out.append(protect(version, dcid, scid, first_pn + n,
                           frames + bytes(pad), keys))
    return out


def frame(src, dst, sport, dport, payload, v6=False):
    if v6:
        ip = IPv6(src="2001:db8:10::a", dst="2001:db8:2::14")
    else:
        ip = IP(src=src, dst=dst, id=random.randrange(65536))
    e = Ether(src=CLIENT_MAC if src == CLIENT else SERVER_MAC,
              dst=SERVER_MAC if src == CLIENT else CLIENT_MAC)
    return e / ip / UDP(sport=sport, dport=dport) / Raw(payload)


def session(version, dcid, scid, hello, sport, dport, rng, v6=False,
            chaos=False, t0=1800000000.0):
    """The client's flight, the server's answer and some 1-RTT packets."""
    pkts = []
    t = t0
    for d in initial_datagrams(version, dcid, scid, hello, rng, chaos):
        p = frame(CLIENT, SERVER, sport, dport, d, v6)
        p.time = t
        t += 0.0003
        pkts.append(p)
    # The server's Initial (an ACK and a ServerHello-sized CRYPTO frame,
    # under the server's Initial keys, which the client's reader does not
    # use); then short-header packets both ways.
    server_cid = rng.randbytes(8)
    answer = (bytes([0x02, 0x00, 0x00, 0x00, 0x00]) +
              crypto_frame(0, b"\x02" + (86).to_bytes(3, "big") +
                           rng.randbytes(86)))
    server = protect(version, scid, server_cid, 0,
                     answer + bytes(1100 - len(answer)),
                     initial_keys(version, dcid, "server"))
    for src, payload in [(SERVER, server)] + [
            (CLIENT if i % 2 == 0 else SERVER,
             bytes([0x40 | rng.randrange(64)]) +
             (server_cid if i % 2 == 0 else scid) + rng.randbytes(292))
            for i in range(6)]:
        a, b = (sport, dport) if src == CLIENT else (dport, sport)
        p = frame(src, SERVER if src == CLIENT else CLIENT, a, b, payload, v6)
        p.time = t
        t += 0.002
        pkts.append(p)
    return pkts


RFC9001_A2_CRYPTO = bytes.fromhex(
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff")


def rfc9001_a2():
    """RFC 9001 A.2: the published header and first ciphertext bytes."""
    dcid = bytes.fromhex("8394c8f03e515708")
    payload = RFC9001_A2_CRYPTO + bytes(1162 - len(RFC9001_A2_CRYPTO))
    pkt = protect(V1, dcid, b"", 2, payload, initial_keys(V1, dcid))
    assert pkt[:22].hex() == "c000000001088394c8f03e5157080000449e7b9aec34"
    assert pkt[22:38].hex() == "d1b1c98dd7689fb8ec11d242b123dc9b"
    assert len(pkt) == 1200
    return pkt


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(9001)
    random.seed(9001)

    a2 = frame(CLIENT, SERVER, 50001, 443, rfc9001_a2())
    a2.time = 1800000000.0
    wrpcap(os.path.join(out, "quic_rfc9001_a2.pcap"), [a2])

    def cid():
        return rng.randbytes(8)

    captures = {
        # Windows' SMB over QUIC client: ALPN "smb" alone, UDP 443.
        "quic_smb.pcap": session(
            V1, cid(), cid(), client_hello(["smb"], "fs1.corp.example", rng),
            50010, 443, rng),
        # Another QUIC protocol on the same port: HTTP/3.
        "quic_h3.pcap": session(
            V1, cid(), cid(), client_hello(["h3"], "www.corp.example", rng),
            50011, 443, rng),
        # A hello of two datagrams (a post-quantum key share), its CRYPTO
        # frames shuffled, ALPN "smb" in the second datagram.
        "quic_smb_two_datagrams.pcap": session(
            V1, cid(), cid(), client_hello(["smb"], "fs1.corp.example", rng,
                                           key_share_extra=1216),
            50012, 443, rng, chaos=True),
        # QUIC v2 on a port of the site's choosing, several ALPN ids, IPv6.
        "quic_smb_v2_port8443.pcap": session(
            V2, cid(), cid(), client_hello(["h3", "smb"], "fs2.corp.example",
                                           rng, alpn_first=True),
            50013, 8443, rng, v6=True),
    }
    # A 0-RTT packet and an Initial that does not decrypt coalesced before
    # the real Initial (RFC 9000 12.2): a server drops the two and reads
    # the third.
    dcid, scid = cid(), cid()
    zero_rtt = (bytes([0xD3]) + struct.pack("!I", V1) + bytes([8]) + dcid +
                bytes([8]) + scid + varint(120, 2) + rng.randbytes(120))
    garbage = (bytes([0xC3]) + struct.pack("!I", V1) + bytes([8]) + dcid +
               bytes([8]) + scid + b"\x00" + varint(120, 2) +
               rng.randbytes(120))
    initial = initial_datagrams(V1, dcid, scid, client_hello(
        ["smb"], "fs1.corp.example", rng), rng)[0]
    coalesced = frame(CLIENT, SERVER, 50014, 443, zero_rtt + garbage + initial)
    coalesced.time = 1800000000.0
    captures["quic_smb_coalesced.pcap"] = [coalesced]
    # A server that answers with Retry (RFC 9000 8.1): the client sends
    # the same hello again, under the connection ID the Retry gave and
    # with its token: one connection, not two.
    hello = client_hello(["smb"], "fs1.corp.example", rng)
    first_dcid, scid, retry_cid = cid(), cid(), cid()
    token = rng.randbytes(40)
    retry = (bytes([0xF0]) + struct.pack("!I", V1) + bytes([8]) + scid +
             bytes([8]) + retry_cid + token)
    # The Retry Integrity Tag (RFC 9001 5.8) over the pseudo-packet.
    retry += AESGCM(bytes.fromhex("be0c690b9f66575a1d766b54e368c84e")).encrypt(
        bytes.fromhex("461599d35d632bf2239825bb"), b"",
        bytes([len(first_dcid)]) + first_dcid + retry)
    again = protect(V1, retry_cid, scid, 1, crypto_frame(0, hello) +
                    bytes(1200 - 30 - 16 - len(token) - len(hello) - 4),
                    initial_keys(V1, retry_cid), token=token)
    pkts = [frame(CLIENT, SERVER, 50015, 443, d) for d in
            initial_datagrams(V1, first_dcid, scid, hello, rng)]
    pkts.append(frame(SERVER, CLIENT, 443, 50015, retry))
    pkts.append(frame(CLIENT, SERVER, 50015, 443, again))
    for i, p in enumerate(pkts):
        p.time = 1800000000.0 + 0.01 * i
    captures["quic_smb_retry.pcap"] = pkts
    # A decoy (RFC 9000 leaves it to the receiver): a hello of two
    # datagrams whose second datagram is sent twice, first with ALPN
    # "xyz" and a UDP checksum the server's kernel drops, then with "smb".
    hello = client_hello(["smb"], "fs1.corp.example", rng,
                         key_share_extra=1216)
    alpn = b"\x00\x10\x00\x06\x00\x04\x03smb"
    assert hello.count(alpn) == 1 and hello.index(alpn) > 1100
    decoy = hello.replace(alpn, b"\x00\x10\x00\x06\x00\x04\x03xyz")
    dcid, scid = cid(), cid()
    real = initial_datagrams(V1, dcid, scid, hello, rng)
    fake = initial_datagrams(V1, dcid, scid, decoy, rng, first_pn=2)
    pkts = [frame(CLIENT, SERVER, 50016, 443, d) for d in
            (real[0], fake[1], real[1])]
    pkts[1][UDP].chksum = 0x1234
    for i, p in enumerate(pkts):
        p.time = 1800000000.0 + 0.01 * i
    captures["quic_smb_decoy.pcap"] = pkts
    # The older versions Windows' QUIC stack still accepts: draft-29, and
    # msquic's own 0xabcd0000 (keyed as draft-29), one connection each.
    pkts = []
    for port, version in ((50017, DRAFT29), (50018, MS1)):
        pkts += session(version, cid(), cid(), client_hello(
            ["smb"], "fs1.corp.example", rng), port, 443, rng)[:1]
    for i, p in enumerate(pkts):
        p.time = 1800000000.0 + 0.01 * i
    captures["quic_smb_draft29.pcap"] = pkts
    for name, pkts in captures.items():
        wrpcap(os.path.join(out, name), pkts)
    print("wrote", ", ".join(["quic_rfc9001_a2.pcap"] + list(captures)))


if __name__ == "__main__":
    main()
