#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the fuzz seed corpus from the captures in tests/pcaps.

    tests/fuzz/make_corpus.py [--pcaps DIR] [--out DIR]

Needs tshark. Seeds use the record format of tests/fuzz/fuzz_input.h:
flags (bit 0 direction, bit 1 retransmission, bits 2-7 split), uint16 len,
uint16 gap, payload.

corpus/smb/     one seed per TCP connection of every capture: every segment
                that starts an NBSS record, plus the first 16 KiB of
                continuation data per connection; the bulk left out becomes
                sequence gaps (as a gateway that missed them would see).
corpus/dcerpc/  the DCE/RPC PDUs of the psexec captures, one seed per BIND,
                and synthetic calls the captures lack (CreateServiceA/WOW64W,
                NetrJobAdd, SchRpcRegisterTask, fragments, auth trailers).
corpus/decode/  whole Ethernet frames: the first frame and the first one
                past 300 bytes of psexec_smb2.pcap, an IPv6 capture and
                every tunnel_* capture (GRE, IP in IP, Ethernet in GRE,
                fragments of GRE, nesting).

Re-running it rewrites the same files: names are content hashes.
"""

import argparse
import hashlib
import os
import struct
import subprocess
import sys

SERVER_PORTS = {445, 139, 8445, 135}
# REQUEST, BIND, ALTER_CONTEXT, AUTH3, CO_CANCEL, ORPHANED
CLIENT_PTYPES = {0, 11, 14, 16, 18, 19}
CONTINUATION_BUDGET = 16 * 1024
SMB_MAGICS = (b"\xfeSMB", b"\xffSMB", b"\xfdSMB", b"\xfcSMB")


def record(from_server, payload, gap=0, split=0, retransmit=False):
    flags = (1 if from_server else 0) | (2 if retransmit else 0) | (split << 2)
    out = b""
    # Gaps wider than 16 bits become empty records.
    while gap > 0xFFFF:
        out += struct.pack("<BHH", flags & 1, 0, 0xFFFF)
        gap -= 0xFFFF
    return out + struct.pack("<BHH", flags, len(payload), gap) + payload


def write_seed(directory, data):
    os.makedirs(directory, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)
    return name


def tshark_fields(pcap, fields, display_filter=None):
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "occurrence=f"]
    if display_filter:
        cmd += ["-Y", display_filter]
    for field in fields:
        cmd += ["-e", field]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL).stdout
    return [line.split("\t") for line in out.splitlines()]


def starts_record(payload):
    if len(payload) >= 8 and payload[0] == 0 and payload[4:8] in SMB_MAGICS:
        return True
    return len(payload) >= 4 and payload[0] in (0x81, 0x82, 0x83, 0x85)


def smb_seeds(pcap):
    rows = tshark_fields(pcap, ["tcp.stream", "tcp.srcport", "tcp.dstport",
                                "tcp.flags.syn", "tcp.flags.ack",
                                "tcp.seq_raw", "tcp.payload"])
    streams = {}
    for stream, sport, dport, syn, ack, seq, payload in rows:
        s = streams.setdefault(stream, {"server": None, "segments": []})
        sport, dport = int(sport), int(dport)
        if syn in ("1", "True") and ack in ("0", "False"):
            s["server"] = dport
        if payload:
            s["segments"].append((sport, dport, int(seq),
                                  bytes.fromhex(payload.replace(":", ""))))
    seeds = []
    for s in streams.values():
        if s["server"] is None and s["segments"]:
            sport, dport = s["segments"][0][:2]
            s["server"] = dport if dport in SERVER_PORTS or dport < sport \
                else sport
        expect = [None, None]
        budget = CONTINUATION_BUDGET
        data = b""
        for sport, dport, seq, payload in s["segments"]:
            d = 1 if sport == s["server"] else 0
            if expect[d] is not None and seq < expect[d]:
                continue        # retransmission in the capture
            keep = starts_record(payload) or len(payload) <= 256 or \
                budget >= len(payload)
            if not keep:
                continue        # left out: the next kept segment has a gap
            if not starts_record(payload):
                budget -= min(budget, len(payload))
            gap = 0 if expect[d] is None else seq - expect[d]
            data += record(d, payload, gap)
            expect[d] = seq + len(payload)
        if data:
            seeds.append(data)
    return seeds


def dcerpc_pdus(pcap):
    """DCE/RPC PDUs of a capture, in order, with their direction."""
    rows = tshark_fields(pcap, ["tcp.srcport", "tcp.payload"], "dcerpc")
    pdus = []
    for sport, payload in rows:
        b = bytes.fromhex(payload.replace(":", ""))
        i = 0
        while i + 16 <= len(b):
            if b[i] == 5 and b[i + 1] <= 1 and b[i + 4:i + 8] == \
                    b"\x10\x00\x00\x00":
                frag_len = struct.unpack_from("<H", b, i + 8)[0]
                if frag_len >= 16 and i + frag_len <= len(b):
                    # The packet type says who sent it, whatever the
                    # port (dynamic RPC ports are above the clients').
                    pdus.append((0 if b[i + 2] in CLIENT_PTYPES else 1,
                                 b[i:i + frag_len]))
                    i += frag_len
                    continue
            i += 1
    return pdus


# ---- synthetic DCE/RPC ----

SVCCTL = "367abb81-9844-35f1-ad32-98f038001003"
ATSVC = "1ff70682-0a51-30e8-076d-740be8cee98b"
TSCH = "86d35949-83c9-4044-b424-db363231fd0c"
NDR = "8a885d04-1ceb-11c9-9fe8-08002b104860"


def uuid_wire(text):
    b = bytes.fromhex(text.replace("-", ""))
    return b[3::-1] + b[5:3:-1] + b[7:5:-1] + b[8:]


def pdu(ptype, call_id, body, pfc=3, auth_len=0):
    return struct.pack("<BBBB4sHHI", 5, 0, ptype, pfc, b"\x10\0\0\0",
                       16 + len(body), auth_len, call_id) + body


def bind(ptype, call_id, contexts):
    body = struct.pack("<HHIBBH", 4280, 4280, 0, len(contexts), 0, 0)
    for ctx_id, iface, major in contexts:
        body += struct.pack("<HBB", ctx_id, 1, 0) + uuid_wire(iface) + \
            struct.pack("<HH", major, 0) + uuid_wire(NDR) + \
            struct.pack("<I", 2)
    return pdu(ptype, call_id, body)


def bind_ack(ptype, call_id, n):
    addr = b"\\pipe\\x\0"
    body = struct.pack("<HHIH", 4280, 4280, 0x1234, len(addr)) + addr
    while (16 + len(body)) % 4:
        body += b"\0"
    body += struct.pack("<BBH", n, 0, 0)
    for _ in range(n):
        body += struct.pack("<HH", 0, 0) + uuid_wire(NDR) + \
            struct.pack("<I", 2)
    return pdu(ptype, call_id, body)


class Ndr:
    def __init__(self):
        self.b = b""

    def align(self, n):
        while len(self.b) % n:
            self.b += b"\xaa"

    def u32(self, v):
        self.align(4)
        self.b += struct.pack("<I", v)

    def raw(self, data):
        self.b += data

    def string(self, text, wide=True):
        enc = (text + "\0").encode("utf-16-le" if wide else "latin-1")
        n = len(text) + 1
        self.u32(n)
        self.u32(0)
        self.u32(n)
        self.b += enc


def request(call_id, ctx_id, opnum, stub, pfc=3):
    return pdu(0, call_id, struct.pack("<IHH", len(stub), ctx_id, opnum) +
               stub, pfc)


def create_service_stub(wide, name, path):
    s = Ndr()
    s.raw(b"\x11" * 20)
    s.string(name, wide)
    s.u32(0x20000)
    s.string(name, wide)
    for v in (0xF01FF, 0x10, 3, 0):
        s.u32(v)
    s.string(path, wide)
    for _ in range(7):
        s.u32(0)
    return s.b


# The shape of the task Impacket's atexec.py registers: the command is
# near the end, kilobytes into the stub.
ATEXEC_XML = """<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>2015-07-15T20:35:13.2757294</StartBoundary>
      <Enabled>true</Enabled>
      <ScheduleByDay>
        <DaysInterval>1</DaysInterval>
      </ScheduleByDay>
    </CalendarTrigger>
  </Triggers>
  <Principals>
    <Principal id="LocalSystem">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <AllowHardTerminate>true</AllowHardTerminate>
    <Hidden>true</Hidden>
    <ExecutionTimeLimit>P3D</ExecutionTimeLimit>
    <Priority>7</Priority>
  </Settings>
  <Actions Context="LocalSystem">
    <Exec>
      <Command>cmd.exe</Command>
      <Arguments>/C whoami &gt; %windir%\Temp\LGCoPWdl.tmp 2&gt;&amp;1</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def synthetic_dcerpc_seeds():
    seeds = []
    svc_bind = [record(0, bind(11, 1, [(0, SVCCTL, 2)])),
                record(1, bind_ack(12, 1, 1))]
    for opnum, wide in ((24, False), (44, False), (45, True), (12, True)):
        stub = create_service_stub(wide, "BTOBTO",
                                   "%COMSPEC% /Q /c echo dir > x")
        seeds.append(b"".join(svc_bind) +
                     record(0, request(2, 0, opnum, stub)))
    # A fragmented CreateServiceW, fed in 3-byte pieces.
    stub = create_service_stub(True, "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe")
    seeds.append(b"".join(svc_bind) +
                 record(0, request(3, 0, 12, stub[:40], 1), split=3) +
                 record(0, request(3, 0, 12, stub[40:90], 0)) +
                 record(0, request(3, 0, 12, stub[90:], 2)) +
                 record(1, pdu(3, 3, struct.pack("<IHBBII", 0, 0, 0, 0,
                                                 0x1C010002, 0))))
    # CreateServiceW with an NTLM auth trailer (integrity).
    body = struct.pack("<IHH", len(stub), 0, 12) + stub + b"\xcc" * 4 + \
        struct.pack("<BBBBI", 10, 5, 4, 0, 0) + b"\xee" * 16
    seeds.append(b"".join(svc_bind) + record(0, pdu(0, 4, body, 3, 16)))
    # atsvc NetrJobAdd.
    s = Ndr()
    s.u32(0x20000)
    s.string("\\\\10.0.0.1")
    s.u32(3600000)
    s.u32(0)
    s.raw(b"\x00\x10")
    s.u32(0x20004)
    s.string("cmd.exe /c whoami > C:\\out.txt")
    seeds.append(record(0, bind(11, 1, [(0, ATSVC, 1)])) +
                 record(1, bind_ack(12, 1, 1)) +
                 record(0, request(2, 0, 0, s.b)))
    # ITaskSchedulerService SchRpcRegisterTask, then SchRpcRun, with the
    # interface added by ALTER_CONTEXT.
    s = Ndr()
    s.u32(0x20000)
    s.string("\\LGCoPWdl")
    s.string(ATEXEC_XML)
    for v in (6, 0, 3, 0, 0):
        s.u32(v)
    run = Ndr()
    run.string("\\LGCoPWdl")
    for _ in range(5):
        run.u32(0)
    seeds.append(b"".join(svc_bind) +
                 record(0, bind(14, 2, [(1, TSCH, 1)])) +
                 record(1, bind_ack(15, 2, 1)) +
                 record(0, request(3, 1, 1, s.b)) +
                 record(0, request(4, 1, 12, run.b)))
    # The same task in two fragments, cut inside the XML.
    seeds.append(record(0, bind(11, 1, [(0, TSCH, 1)])) +
                 record(1, bind_ack(12, 1, 1)) +
                 record(0, request(2, 0, 1, s.b[:1500], 1)) +
                 record(0, request(2, 0, 1, s.b[1500:], 2)))
    return seeds


def pcap_frames(pcap):
    """The frames of classic pcap file <pcap>, Ethernet only."""
    with open(pcap, "rb") as f:
        data = f.read()
    magic = data[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    if struct.unpack(order + "I", data[20:24])[0] != 1:
        return []
    frames, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack(order + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return frames


def decode_seeds(pcaps_dir):
    names = ["psexec_smb2.pcap", "quic_smb_v2_port8443.pcap"] + sorted(
        f for f in os.listdir(pcaps_dir)
        if f.startswith("tunnel_") and f.endswith("_psexec.pcap"))
    for name in names:
        frames = pcap_frames(os.path.join(pcaps_dir, name))
        if not frames:
            continue
        yield frames[0]
        for frame in frames:
            if len(frame) > 300:
                yield frame
                break


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcaps", default=os.path.join(here, "..", "pcaps"))
    ap.add_argument("--out", default=os.path.join(here, "corpus"))
    args = ap.parse_args()

    pcaps = sorted(f for f in os.listdir(args.pcaps) if f.endswith(".pcap"))
    if not pcaps:
        sys.exit("no captures in " + args.pcaps)
    smb_dir = os.path.join(args.out, "smb")
    rpc_dir = os.path.join(args.out, "dcerpc")
    for d in (smb_dir, rpc_dir):
        if os.path.isdir(d):
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
    for name in pcaps:
        path = os.path.join(args.pcaps, name)
        for seed in smb_seeds(path):
            write_seed(smb_dir, seed)
        session = b""
        for d, p in dcerpc_pdus(path):
            if p[2] == 11 and session:
                write_seed(rpc_dir, session)
                session = b""
            session += record(d, p)
        if session:
            write_seed(rpc_dir, session)
    # One psexec connection also in 7-byte pieces, to start from chunking.
    for seed in smb_seeds(os.path.join(args.pcaps, "psexec_smb2.pcap")):
        out, off = b"", 0
        while off + 5 <= len(seed):
            flags, length, gap = struct.unpack_from("<BHH", seed, off)
            out += struct.pack("<BHH", flags | (7 << 2), length, gap) + \
                seed[off + 5:off + 5 + length]
            off += 5 + length
        write_seed(smb_dir, out)
    for seed in synthetic_dcerpc_seeds():
        write_seed(rpc_dir, seed)
    decode_dir = os.path.join(args.out, "decode")
    if os.path.isdir(decode_dir):
        for f in os.listdir(decode_dir):
            os.unlink(os.path.join(decode_dir, f))
    for seed in decode_seeds(args.pcaps):
        write_seed(decode_dir, seed)


if __name__ == "__main__":
    main()
