#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Differential test: the SMB and DCE/RPC parsers against tshark.

Usage: smb_diff.py [--list N] SMB_FACTS CAPTURE_OR_DIRECTORY...

SMB_FACTS is the smb_facts driver. A directory stands for every *.pcap,
*.pcapng and *.cap file in it, so a capture dropped into tests/pcaps is
covered without any edit here.

Two comparisons, each an agreement ratio per capture:

"facts" (smb_facts_diff.py): per TCP connection, multisets of users, tree
paths, opened names, bound interfaces, RPC calls as interface:opnum,
service binary paths, logon failures and dialects.

"frames": frame by frame, where either side saw something,
  smb2 commands (multiset), smb2 response statuses (multiset),
  smb1 commands (set, AndX terminator dropped), smb1 response statuses (set),
  tree connect paths and create file names (what we report must be among
  tshark's values for the frame, and we must report one when tshark does),
  NTLMSSP AUTHENTICATE user names, NBSS session service types,
  SMB3 transform message sizes, DCE/RPC bind interfaces and opnums;
  and on response frames the TreeId and share type of tree connects, the
  FileId of creates and the SessionId of logons (ours must be among
  tshark's values for the frame, which include ids it infers); any error
  fact from the parser is a disagreement of its frame.

Every capture must reach THRESHOLD on every kind, except the kinds
EXCLUDED lists for it with the reason; UNREADABLE lists the captures
neither side can read, with the reason. Disagreements are listed (the
first N of each kind) whether the capture passes or not.
"""

import collections
import concurrent.futures
import os
import shlex
import shutil
import subprocess
import sys

import smb_facts_diff

AGG = "\x1e"

FIELDS = [
    "frame.number",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "smb2.cmd",
    "smb2.nt_status",
    "smb2.flags.response",
    "smb.cmd",
    "smb.nt_status",
    "smb.flags.response",
    "smb2.tree",
    "smb.path",
    "smb2.filename",
    "smb.file",
    "ntlmssp.auth.username",
    "dcerpc.cn_bind_to_uuid",
    "dcerpc.opnum",
    "dcerpc.pkt_type",
    "dcerpc.cn_flags.last_frag",
    "nbss.type",
    "smb2.header.transform.msg_size",
    "smb2.tid",
    "smb2.share_type",
    "smb2.fid",
    "smb.fid",
    "smb2.sesid",
]

SMB2_TREE_CONNECT = 3
SMB2_CREATE = 5
SMB1_TREE_CONNECT_ANDX = 0x75
SMB1_NT_CREATE_ANDX = 0xA2

DCERPC_FACT_BIND = 1
DCERPC_FACT_ALTER_CONTEXT = 4
DCERPC_FACT_REQUEST = 6
DCERPC_FACT_RESPONSE = 7
DCERPC_FACT_FAULT = 8

FACT_F_RESPONSE = 0x0001


def as_int(text):
    return int(text, 0)


def as_bool(text):
    return text.strip().lower() in ("1", "true")


def tshark_frames(capture, decode_as):
    cmd = ["tshark", "-n", "-r", capture, "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=" + AGG,
           "-E", "separator=\t"]
    for d in decode_as:
        cmd += ["-d", d]
    for f in FIELDS:
        cmd += ["-e", f]
    # A capture whose last frame is cut short makes tshark exit 2 after
    # printing every frame before it: those are compared all the same.
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          errors="replace")
    if proc.returncode != 0 and not proc.stdout:
        raise RuntimeError("tshark: " + proc.stderr.strip())
    out = proc.stdout
    frames = {}
    # Not splitlines(): it also splits at the 0x1e aggregator.
    for line in out.split("\n"):
        if not line:
            continue
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        rec = {}
        for name, val in zip(FIELDS, cols):
            rec[name] = [v for v in val.split(AGG)] if val != "" else []
        frames[int(rec["frame.number"][0])] = rec
    return frames


DCERPC_PTYPES_WITH_OPNUM = (0, 2, 3)	# request, response, fault


def complete_call_opnums(rec):
    """Opnums of the PDUs that end a call or its answer. The parser reports
    a call when its last fragment arrives; tshark prints the opnum on every
    fragment. Requests, responses and faults carry an opnum, one per PDU in
    order, so they pair with their PDUs' types and last-fragment flags; if
    they do not (a PDU cut short), every opnum counts."""
    opnums = [as_int(x) for x in rec["dcerpc.opnum"]]
    ptypes = [as_int(x) for x in rec["dcerpc.pkt_type"]]
    last = [as_bool(x) for x in rec["dcerpc.cn_flags.last_frag"]]
    if len(ptypes) != len(last):
        return opnums
    ends = [lf for pt, lf in zip(ptypes, last)
            if pt in DCERPC_PTYPES_WITH_OPNUM]
    if len(ends) != len(opnums):
        return opnums
    return [op for op, lf in zip(opnums, ends) if lf]


def tshark_view(rec):
    """What tshark saw in one frame, normalised to comparable values."""
    v = collections.defaultdict(list)
    cmds2 = [as_int(x) for x in rec["smb2.cmd"]]
    resp2 = [as_bool(x) for x in rec["smb2.flags.response"]]
    v["smb2 commands"] = sorted(cmds2)
    v["smb2 statuses"] = sorted(as_int(x) for x in rec["smb2.nt_status"])
    cmds1 = {as_int(x) for x in rec["smb.cmd"]} - {0xFF}
    v["smb1 commands"] = sorted(cmds1)
    resp1 = any(as_bool(x) for x in rec["smb.flags.response"])
    if resp1:
        v["smb1 statuses"] = sorted({as_int(x) for x in rec["smb.nt_status"]})
    v["tcon request"] = (
        any(c == SMB2_TREE_CONNECT and not r for c, r in zip(cmds2, resp2))
        or (SMB1_TREE_CONNECT_ANDX in cmds1 and not resp1))
    v["create request"] = (
        any(c == SMB2_CREATE and not r for c, r in zip(cmds2, resp2))
        or (SMB1_NT_CREATE_ANDX in cmds1 and not resp1))
    v["paths"] = set(rec["smb2.tree"]) | set(rec["smb.path"])
    v["names"] = {x for x in rec["smb2.filename"] + rec["smb.file"] if x}
    v["users"] = sorted("" if u == "NULL" else u
                        for u in rec["ntlmssp.auth.username"])
    v["nbss"] = sorted({as_int(x) for x in rec["nbss.type"]} - {0})
    v["encrypted sizes"] = sorted(
        as_int(x) for x in rec["smb2.header.transform.msg_size"])
    v["rpc binds"] = sorted({x.lower() for x in rec["dcerpc.cn_bind_to_uuid"]})
    v["rpc opnums"] = sorted(set(complete_call_opnums(rec)))
    v["tree ids"] = {as_int(x) for x in rec["smb2.tid"]}
    v["share types"] = {as_int(x) for x in rec["smb2.share_type"]}
    v["file ids"] = {x.lower() for x in rec["smb2.fid"]} | {
        "smb1:%04x" % as_int(x) for x in rec["smb.fid"]}
    v["session ids"] = {as_int(x) for x in rec["smb2.sesid"]}
    return v


def fid_text(version, hexid):
    """A FileId as tshark prints it: SMB2 GUID-style, SMB1 16-bit FID."""
    b = bytes.fromhex(hexid)
    if version == 1:
        return "smb1:%04x" % (b[0] | b[1] << 8)
    return (f"{b[3]:02x}{b[2]:02x}{b[1]:02x}{b[0]:02x}-{b[5]:02x}{b[4]:02x}"
            f"-{b[7]:02x}{b[6]:02x}-{b[8:10].hex()}-{b[10:16].hex()}")


def parse_fact_line(line):
    fields = {}
    for tok in shlex.split(line):
        key, _, val = tok.partition("=")
        fields[key] = val
    return fields


def our_frames(lines):
    frames = collections.defaultdict(list)
    for line in lines:
        if not line.startswith("frame="):
            continue
        f = parse_fact_line(line)
        frames[int(f["frame"])].append((f, line))
    return frames


def our_view(facts):
    v = collections.defaultdict(list)
    cmds2, stat2, cmds1, stat1 = [], [], set(), set()
    paths, names, users, nbss, enc, binds, opnums = (
        set(), set(), [], set(), [], set(), set())
    errors = []
    tids, stypes, fids, sids = set(), set(), set(), set()
    for f, line in facts:
        kind = f["fact"]
        ver = int(f["ver"])
        response = int(f["flags"], 16) & FACT_F_RESPONSE
        if kind == "command":
            if ver == 2:
                cmds2.append(int(f["cmd"]))
                if response:
                    stat2.append(int(f["status"], 16))
            else:
                cmds1.add(int(f["cmd"]))
                if response:
                    stat1.add(int(f["status"], 16))
        elif kind == "tree_connect" and f["dir"] == "c2s":
            paths.add(frame_name(f, "path"))
        elif kind == "tree_connect" and int(f["status"], 16) == 0 \
                and ver == 2:
            tids.add(int(f["tid"], 16))
            stypes.add(int(f["share_type"]))
        elif kind == "create" and f["dir"] == "c2s" and f["name"]:
            names.add(frame_name(f, "name"))
        elif kind == "create" and f["dir"] == "s2c" \
                and int(f["status"], 16) == 0:
            fids.add(fid_text(ver, f["fid"]))
        elif kind == "logon" and f["dir"] == "c2s" and f["mech"] == "1":
            users.append(f["user"])
        elif kind == "dcerpc" and f.get("auth_user") is not None:
            # NTLMSSP AUTHENTICATE in a DCE/RPC BIND / ALTER_CONTEXT /
            # AUTH3: tshark names it in the same frame.
            users.append(f["auth_user"])
        elif kind == "logon" and f["dir"] == "s2c" and ver == 2:
            sids.add(int(f["sid"], 16))
        elif kind == "nbss":
            nbss.add(int(f["nbss"], 16))
        elif kind == "encrypted":
            enc.append(int(f["size"]))
        elif kind == "dcerpc":
            rpc = int(f["rpc"])
            if rpc in (DCERPC_FACT_BIND, DCERPC_FACT_ALTER_CONTEXT):
                binds.add(f["iface"].lower())
            if rpc in (DCERPC_FACT_REQUEST, DCERPC_FACT_RESPONSE,
                       DCERPC_FACT_FAULT) and int(f["opnum"]) != 0xFFFF:
                opnums.add(int(f["opnum"]))
        elif kind == "error":
            errors.append(line)
    v["smb2 commands"] = sorted(cmds2)
    v["smb2 statuses"] = sorted(stat2)
    v["smb1 commands"] = sorted(cmds1)
    v["smb1 statuses"] = sorted(stat1)
    v["paths"] = paths
    v["names"] = names
    v["users"] = sorted(users)
    v["nbss"] = sorted(nbss)
    v["encrypted sizes"] = sorted(enc)
    v["rpc binds"] = sorted(binds)
    v["rpc opnums"] = sorted(opnums)
    v["errors"] = errors
    v["tree ids"] = tids
    v["share types"] = stypes
    v["file ids"] = fids
    v["session ids"] = sids
    return v


EXACT = ["smb2 commands", "smb2 statuses", "smb1 commands", "users", "nbss",
         "encrypted sizes", "rpc binds", "rpc opnums"]


def fmt(val):
    if isinstance(val, set):
        val = sorted(val)
    if isinstance(val, list):
        return "[" + ", ".join(hex(x) if isinstance(x, int) else repr(x)
                               for x in val) + "]"
    return repr(val)


def frame_name(f, key):
    """A name of the parser's fact, made comparable as in the per-connection
    facts (smb_facts_diff.smb1_as_tshark() and kept())."""
    return smb_facts_diff.kept(f[key], f)


def among(mine, their):
    """Whether each of our names is one of tshark's, a truncated one being
    the start of a longer one of tshark's."""
    for name in mine:
        if name.startswith("\x00"):
            if not any(smb_facts_diff.truncated_matches(name, x)
                       for x in their):
                return False
        elif name not in their:
            return False
    return True


def compare(frame, theirs, ours):
    diffs = []
    for key in EXACT:
        if theirs[key] != ours[key]:
            diffs.append(f"{key}: tshark {fmt(theirs[key])}"
                         f" parser {fmt(ours[key])}")
    if "smb1 statuses" in theirs and theirs["smb1 statuses"] != ours[
            "smb1 statuses"]:
        diffs.append(f"smb1 statuses: tshark {fmt(theirs['smb1 statuses'])}"
                     f" parser {fmt(ours['smb1 statuses'])}")
    for key, flag in (("paths", "tcon request"), ("names", "create request")):
        mine, their = ours[key], theirs[key]
        if not among(mine, their) or (theirs[flag] and their and not mine) \
                or (mine and not theirs[flag]):
            diffs.append(f"{key}: tshark {fmt(their)} parser {fmt(mine)}")
    for key in ("tree ids", "share types", "file ids", "session ids"):
        if not ours[key] <= theirs[key]:
            diffs.append(f"{key}: tshark {fmt(theirs[key])}"
                         f" parser {fmt(ours[key])}")
    for line in ours["errors"]:
        diffs.append("parser error: " + line)
    return [f"frame {frame}: {d}" for d in diffs]


THRESHOLD = 0.999

SMB_PORTS = (445, 139)

# Captures neither side reads, with the reason. A capture that fails to be
# read and is not here fails the test.
UNREADABLE = {
}

# capture file name -> {kind: reason}: a kind that cannot be compared on
# that capture because tshark cannot see (or sees wrongly) what the parser
# does. Listed in the output; never applied to any other capture.
EXCLUDED = {
    "tunnel_gre_frag_psexec.pcap": {
        kind: "the driver does not put IP fragments together, and this "
              "capture's GRE datagrams are in fragments; its session is "
              "tunnel_gre_psexec.pcap's, compared here, and "
              "tests/replay/test_tunnels.sh checks the gateway reads the "
              "same facts from both"
        for kind in ("user", "tree", "open", "bind", "call", "service",
                     "logonfail", "dialect", "frames")
    },
}


def run_parser(driver, capture):
    proc = subprocess.run([driver, capture], capture_output=True, text=True,
                          errors="replace")
    return proc.returncode, proc.stdout.splitlines(), proc.stderr.strip()


def decode_as_rules(lines):
    """tshark chooses SMB by port only; tell it where else the parser found
    SMB. This picks a dissector, not a fact: what tshark then dissects is
    compared as everywhere else, so a wrong pick shows as disagreements."""
    rules = []
    for line in lines:
        if not line.startswith("connection "):
            continue
        f = parse_fact_line(line)
        port = int(f["sport"])
        if f["kind"] == "smb" and port not in SMB_PORTS:
            rule = "tcp.port==%d,nbss" % port
            if rule not in rules:
                rules.append(rule)
    return rules


def frame_connections(frames):
    """Frame number -> conn_key() of its TCP connection (the innermost IP
    header when there are several)."""
    conns = {}
    for number, rec in frames.items():
        src = rec["ip.src"] or rec["ipv6.src"]
        dst = rec["ip.dst"] or rec["ipv6.dst"]
        if src and dst and rec["tcp.srcport"] and rec["tcp.dstport"]:
            conns[number] = smb_facts_diff.conn_key(
                src[-1], rec["tcp.srcport"][-1], dst[-1],
                rec["tcp.dstport"][-1])
    return conns


def endpoints_of(lines):
    ends = {}
    for line in lines:
        if line.startswith("connection "):
            f = parse_fact_line(line)
            ends[f["conn"]] = smb_facts_diff.conn_key(
                f["client"], f["cport"], f["server"], f["sport"])
    return ends


def frame_agreement(capture, theirs, ours):
    empty = tshark_view(collections.defaultdict(list))
    problems = []
    compared = bad = 0
    for frame in sorted(set(theirs) | set(ours)):
        t = tshark_view(theirs[frame]) if frame in theirs else empty
        o = our_view(ours.get(frame, []))
        if frame not in ours and not any(t[k] for k in EXACT):
            continue
        compared += 1
        diffs = compare(frame, t, o)
        if diffs:
            bad += 1
            problems += diffs
    return compared - bad, compared, problems


def analyse(driver, capture):
    """One capture: {kind: (agree, total, [disagreement lines])} or a
    string saying why it was not compared."""
    name = os.path.basename(capture)
    rc, lines, err = run_parser(driver, capture)
    if rc != 0:
        if name in UNREADABLE:
            return "unreadable (listed): " + UNREADABLE[name]
        return RuntimeError(f"smb_facts failed ({rc}): {err}")
    decode_as = decode_as_rules(lines)
    facts = [parse_fact_line(x) for x in lines if x.startswith("frame=")]
    ours = smb_facts_diff.parser_facts(facts, endpoints_of(lines))
    notes = []
    frames = tshark_frames(capture, decode_as)
    theirs = smb_facts_diff.tshark_facts(capture, decode_as,
                                         frame_connections(frames))
    result = {}
    for kind, (agree, total, diffs, truncated) in smb_facts_diff.compare(
            theirs, ours).items():
        result[kind] = (agree, total, [
            f"{conn} {kind} {value!r}: tshark {t} parser {o}"
            for conn, value, t, o in diffs])
        if truncated:
            notes.append(f"{kind}: {truncated} names longer than the"
                         " parser keeps, its part equal to tshark's and"
                         " flagged truncated")
    result["frames"] = frame_agreement(capture, frames, our_frames(lines))
    result["notes"] = notes
    return result


def captures_of(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(os.path.join(p, f) for f in os.listdir(p)
                          if f.endswith((".pcap", ".pcapng", ".cap")))
        else:
            out.append(p)
    return out


def cell(kind, res, excluded):
    if kind in excluded:
        return "excl"
    agree, total, _ = res[kind]
    if total == 0:
        return "-"
    return "%.1f%s/%d" % (100.0 * agree / total,
                          "" if agree >= THRESHOLD * total else "!", total)


def main():
    args = sys.argv[1:]
    limit = 20
    if len(args) >= 2 and args[0] == "--list":
        limit = int(args[1])
        args = args[2:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    if shutil.which("tshark") is None:
        print("skipped: tshark is not installed")
        return 77
    driver, captures = args[0], captures_of(args[1:])
    if not captures:
        print("no captures", file=sys.stderr)
        return 1
    kinds = smb_facts_diff.KINDS + ["frames"]
    def guarded(capture):
        try:
            return analyse(driver, capture)
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            return RuntimeError(f"{type(e).__name__}: {e}")

    with concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        results = list(pool.map(guarded, captures))
    failed = False
    width = max(len(os.path.basename(c)) for c in captures)
    print("agreement with tshark, %%/facts compared (- nothing to compare,"
          " excl excluded, ! below %.1f %%)" % (100 * THRESHOLD))
    print("%-*s %s" % (width, "capture",
                       " ".join("%11s" % k for k in kinds)))
    for capture, res in zip(captures, results):
        name = os.path.basename(capture)
        if isinstance(res, Exception):
            print("%-*s FAIL: %s" % (width, name, res))
            failed = True
            continue
        if isinstance(res, str):
            print("%-*s %s" % (width, name, res))
            continue
        excluded = EXCLUDED.get(name, {})
        print("%-*s %s" % (width, name, " ".join(
            "%11s" % cell(k, res, excluded) for k in kinds)))
        for k in kinds:
            if k not in excluded and res[k][0] < THRESHOLD * res[k][1]:
                failed = True
    for capture, res in zip(captures, results):
        name = os.path.basename(capture)
        if not isinstance(res, dict):
            continue
        excluded = EXCLUDED.get(name, {})
        for note in res["notes"]:
            print(f"{name}: note: {note}")
        for k in kinds:
            agree, total, diffs = res[k]
            if k in excluded:
                print(f"{name}: {k} excluded: {excluded[k]}")
            if not diffs:
                continue
            print(f"{name}: {k}: {total - agree} of {total} disagree"
                  f"{' (excluded)' if k in excluded else ''}")
            for d in diffs[:limit]:
                print("  " + d)
            if len(diffs) > limit:
                print(f"  ... {len(diffs) - limit} more")
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
