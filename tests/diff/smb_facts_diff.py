#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Per-connection facts of the SMB and DCE/RPC parsers against tshark.

Imported by smb_diff.py. For every TCP connection of a capture, both sides
give a multiset of facts of each kind:

  user      NTLMSSP AUTHENTICATE "DOMAIN\\user" (SMB session setup and
            DCE/RPC authentication alike)
  tree      tree connect request paths
  open      names in create requests (files, directories, pipes)
  bind      interfaces offered in BIND / ALTER_CONTEXT, one per context item
  call      DCE/RPC requests as "interface:opnum", one per complete call
  service   binary paths of svcctl CreateService (tshark does not decode
            ChangeServiceConfig's)
  logonfail statuses of failed session setups
  dialect   the dialect a negotiate response chose

Agreement of a kind is the size of the multiset intersection over the size
of the multiset union, summed over connections: a fact that only one side
has, or has more often, counts against it.
"""

import collections
import json
import os
import re
import subprocess

KINDS = ["user", "tree", "open", "bind", "call", "service", "logonfail",
         "dialect"]

SMB2_NEGOTIATE = 0
SMB2_SESSION_SETUP = 1
SMB2_TREE_CONNECT = 3
SMB2_CREATE = 5
SMB1_NEGOTIATE = 0x72
SMB1_SESSION_SETUP_ANDX = 0x73
SMB1_TREE_CONNECT_ANDX = 0x75
SMB1_NT_CREATE_ANDX = 0xA2
SMB1_OPEN_ANDX = 0x2D

STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016

# smb.h SMB_AUTH_*: the logons whose names are on the wire in clear.
# Kerberos (2) names are inside the ticket, which neither side reads.
SMB_AUTH_NTLMSSP = "1"
SMB_AUTH_PLAINTEXT = "3"

DCERPC_REQUEST = 0
DCERPC_BIND = 11
DCERPC_ALTER_CONTEXT = 14

# Parser fact types (enum dcerpc_fact_type).
RPC_FACT_BIND = 1
RPC_FACT_ALTER_CONTEXT = 4
RPC_FACT_REQUEST = 6

SVCCTL_UUID = "367abb81-9844-35f1-ad32-98f038001003"
# svcctl opnums whose request carries lpBinaryPathName and whose arguments
# tshark 4.0 decodes: CreateServiceW, CreateServiceA. It shows only the stub
# data of ChangeServiceConfigW / A (11, 23; rpc_services_change_dc.pcap):
# the parser's paths of those are checked by the unit tests and
# test_rpc_rules.sh instead.
SVCCTL_PATH_OPNUMS = {12, 24}

def smb1_dialect_names():
    """The SMB1 dialects the parser names by number: smb.h's
    SMB_DIALECT_SMB1_* definitions, whose comment holds the string, e.g.
    #define SMB_DIALECT_SMB1_NT_LM_012 0x0001 /* "NT LM 0.12" */. Any
    other number (0: a string it does not name) cannot equal a name tshark
    prints, so it disagrees."""
    names = {0x0001: "NT LM 0.12"}
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "..", "dataplane", "smb", "smb.h")
    try:
        with open(header, encoding="utf-8") as f:
            for m in re.finditer(r'#define\s+SMB_DIALECT_SMB1_\w+\s+'
                                 r'(0x[0-9a-fA-F]+)\s*/\*\s*"([^"]+)"',
                                 f.read()):
                names[int(m.group(1), 16)] = m.group(2)
    except OSError:
        pass
    return names


SMB1_DIALECT_NAMES = smb1_dialect_names()


# A request whose context was bound before the capture began (or whose
# BIND was lost): tshark cannot name its interface and the parser reports
# the all-zero UUID. Both mean "not known"; the opnum is still compared,
# and a side that knows the interface while the other does not disagrees.
UNKNOWN_IFACE = "unknown"
ZERO_UUID = "00000000-0000-0000-0000-000000000000"


def unknown_iface(uuid):
    return UNKNOWN_IFACE if uuid == ZERO_UUID else uuid


def conn_key(a, ap, b, bp):
    """A connection, whichever way a packet goes: its two ends, sorted."""
    ends = sorted([(a, int(ap)), (b, int(bp))])
    return "%s:%d-%s:%d" % (ends[0] + ends[1])


def strip_nuls(text):
    # Names are counted strings on the wire; some clients count a final
    # NUL and tshark then prints it. The NUL is not part of the name.
    return text.rstrip("\x00")


def norm_tree(path):
    # Share and server names are case-insensitive (MS-SMB2 3.3.5.7,
    # MS-CIFS 3.3.5.42): "\\SRV\IPC$" and "\\srv\ipc$" are one tree.
    # File and pipe names keep their case: they are compared as sent.
    return strip_nuls(path).upper()


def norm_user(domain, user):
    # tshark prints an empty NTLMSSP name as "NULL" (anonymous logon).
    if user == "NULL":
        user = ""
    if domain == "NULL":
        domain = ""
    return "%s\\%s" % (domain, user)


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def find_all(obj, key, skip=()):
    """Every value of <key> anywhere below <obj>, in document order,
    not descending into subtrees whose name is in <skip>."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in skip:
                continue
            if k == key:
                out += [x for x in as_list(v) if not isinstance(x, dict)]
            else:
                out += find_all(v, key, skip)
    elif isinstance(obj, list):
        for x in obj:
            out += find_all(x, key, skip)
    return out


def nested(obj, key):
    """The subtrees named <key> below <obj>, not looking inside them."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                out += [x for x in as_list(v) if isinstance(x, dict)]
            else:
                out += nested(v, key)
    elif isinstance(obj, list):
        for x in obj:
            out += nested(x, key)
    return out


def first(obj, key, skip=()):
    vals = find_all(obj, key, skip)
    return vals[0] if vals else None


def header_and_body(msg, header_name):
    """An SMB message of tshark's JSON: its header, and the rest (the
    command's own fields, where the generated [Tree]/[File] fields that
    tshark copies into every later message's header are not)."""
    header = msg.get(header_name, {})
    return header, {k: v for k, v in msg.items() if k != header_name}


class TsharkFacts:
    """Facts from tshark's JSON dissection of one capture."""

    def __init__(self):
        self.facts = collections.defaultdict(
            lambda: collections.defaultdict(collections.Counter))
        # (conn, pipe) -> {ctx_id: uuid}: what each context was bound to.
        self.contexts = collections.defaultdict(dict)
        # conn -> dialect names of the last SMB1 negotiate request.
        self.smb1_offered = {}

    def add(self, conn, kind, value):
        self.facts[conn][kind][value] += 1

    def frame(self, layers, conn):
        """One frame's layers; <conn> is its connection's conn_key()."""
        pipe = None
        for msg in as_list(layers.get("smb2")):
            pipe = self.smb2(conn, msg) or pipe
        for msg in as_list(layers.get("smb")):
            pipe = self.smb1(conn, msg) or pipe
        for pdu in as_list(layers.get("dcerpc")):
            self.dcerpc(conn, pipe, pdu)
        for svc in as_list(layers.get("svcctl")):
            opnum = first(svc, "svcctl.opnum")
            if opnum is not None and int(opnum) in SVCCTL_PATH_OPNUMS:
                for path in find_all(svc, "svcctl.binarypathname"):
                    self.add(conn, "service", strip_nuls(path))
        # NTLMSSP in DCE/RPC authentication (BIND, ALTER_CONTEXT, AUTH3)
        # is below the dcerpc layer; in SMB, below the session setup,
        # counted there.
        for pdu in as_list(layers.get("dcerpc")):
            self.users(conn, pdu)

    def users(self, conn, tree):
        names = find_all(tree, "ntlmssp.auth.username")
        domains = find_all(tree, "ntlmssp.auth.domain")
        for i, user in enumerate(names):
            domain = domains[i] if i < len(domains) else ""
            self.add(conn, "user", norm_user(domain, user))

    def smb2(self, conn, msg):
        if not isinstance(msg, dict):
            return None
        header, body = header_and_body(msg, "SMB2 Header")
        cmd = header.get("smb2.cmd")
        if cmd is None:
            # A COMPRESSION_TRANSFORM: tshark puts the message it
            # decompressed, with its own header, below it.
            pipe = None
            for inner in nested(msg, "smb2"):
                pipe = self.smb2(conn, inner) or pipe
            return pipe
        cmd = int(cmd, 0)
        response = first(header, "smb2.flags.response") in ("1", "True")
        status = int(header.get("smb2.nt_status", "0"), 0)
        if cmd == SMB2_TREE_CONNECT and not response:
            for path in find_all(body, "smb2.tree"):
                self.add(conn, "tree", norm_tree(path))
        elif cmd == SMB2_CREATE and not response:
            names = find_all(body, "smb2.filename")
            # tshark shows no name field for an empty name (the share's
            # root); the parser reports "".
            self.add(conn, "open", strip_nuls(names[0]) if names else "")
        elif cmd == SMB2_SESSION_SETUP and not response:
            self.users(conn, body)
        elif cmd == SMB2_SESSION_SETUP and status not in (
                0, STATUS_MORE_PROCESSING_REQUIRED):
            self.add(conn, "logonfail", "0x%08x" % status)
        elif cmd == SMB2_NEGOTIATE and response and status == 0:
            dialect = first(body, "smb2.dialect")
            if dialect is not None:
                self.add(conn, "dialect", "0x%04x" % int(dialect, 0))
        fid = first(body, "smb2.fid")
        return ("smb2", fid.lower()) if fid else None

    def smb1(self, conn, msg):
        if not isinstance(msg, dict):
            return None
        header, body = header_and_body(msg, "SMB Header")
        cmd = header.get("smb.cmd")
        if cmd is None:
            return None
        cmd = int(cmd, 0)
        flags = header.get("smb.flags_tree", {})
        response = first(flags, "smb.flags.response") in ("1", "True")
        status = int(header.get("smb.nt_status", "0"), 0)
        # The AndX chain: each command's fields are in their own subtree.
        for name, sub in body.items():
            if not isinstance(sub, dict):
                continue
            subcmd = cmd
            if "(0x" in name:
                try:
                    subcmd = int(name.rsplit("(0x", 1)[1].rstrip(")"), 16)
                except ValueError:
                    pass
            self.smb1_command(conn, subcmd, response, status, sub)
        fid = first(body, "smb.fid")
        return ("smb1", int(fid, 0)) if fid else None

    def smb1_command(self, conn, cmd, response, status, sub):
        if cmd == SMB1_TREE_CONNECT_ANDX and not response:
            for path in find_all(sub, "smb.path"):
                self.add(conn, "tree", norm_tree(path))
        elif cmd in (SMB1_NT_CREATE_ANDX, SMB1_OPEN_ANDX) and not response:
            names = find_all(sub, "smb.file")
            self.add(conn, "open", strip_nuls(names[0]) if names else "")
        elif cmd == SMB1_SESSION_SETUP_ANDX and not response:
            self.users(conn, sub)
            # Without extended security the names are the request's own
            # fields, not NTLMSSP's.
            for i, user in enumerate(find_all(sub, "smb.account")):
                domains = find_all(sub, "smb.primary_domain")
                self.add(conn, "user", norm_user(
                    domains[i] if i < len(domains) else "", user))
        elif cmd == SMB1_SESSION_SETUP_ANDX and status not in (
                0, STATUS_MORE_PROCESSING_REQUIRED):
            self.add(conn, "logonfail", "0x%08x" % status)
        elif cmd == SMB1_NEGOTIATE and not response:
            self.smb1_offered[conn] = find_all(sub, "smb.dialect.name")
        elif cmd == SMB1_NEGOTIATE and response and status == 0:
            index = first(sub, "smb.dialect.index")
            offered = self.smb1_offered.get(conn, [])
            if index is not None:
                i = int(index, 0)
                self.add(conn, "dialect", "smb1:" + (
                    offered[i] if i < len(offered) else "index %d" % i))

    def dcerpc(self, conn, pipe, pdu):
        if not isinstance(pdu, dict) or "dcerpc.pkt_type" not in pdu:
            return
        ptype = int(pdu["dcerpc.pkt_type"], 0)
        ctxs = self.contexts[(conn, pipe)]
        if ptype in (DCERPC_BIND, DCERPC_ALTER_CONTEXT):
            for item in as_list(pdu.get("dcerpc.cn_ctx_item")):
                uuid = first(item, "dcerpc.cn_bind_to_uuid")
                ctx = first(item, "dcerpc.cn_ctx_id")
                if uuid is None:
                    continue
                self.add(conn, "bind", uuid.lower())
                if ctx is not None:
                    ctxs[int(ctx, 0)] = uuid.lower()
        elif ptype == DCERPC_REQUEST:
            # A fragmented call repeats its opnum in every fragment; the
            # parser reports the call once, complete: count first
            # fragments only.
            if first(pdu, "dcerpc.cn_flags.first_frag") not in ("1", "True"):
                return
            ctx = pdu.get("dcerpc.cn_ctx_id")
            opnum = pdu.get("dcerpc.opnum")
            if ctx is None or opnum is None:
                return
            uuid = ctxs.get(int(ctx, 0), UNKNOWN_IFACE)
            self.add(conn, "call", "%s:%d" % (uuid, int(opnum, 0)))


def tshark_facts(capture, decode_as, conns):
    """<conns> maps frame numbers to conn_key()s (from the fields pass:
    the JSON of ip and tcp would be three times the size of the rest)."""
    cmd = ["tshark", "-n", "-r", capture, "-T", "json",
           "--no-duplicate-keys", "-Y", "smb || smb2 || dcerpc",
           "-J", "frame smb smb2 dcerpc svcctl"]
    for d in decode_as:
        cmd += ["-d", d]
    proc = subprocess.run(cmd, capture_output=True)
    out = proc.stdout
    if proc.returncode != 0 and not out.strip():
        raise RuntimeError("tshark: " + proc.stderr.decode(errors="replace"))
    # A cut-short capture can also leave the JSON array unclosed.
    out = out.rstrip()
    if out.startswith(b"[") and not out.endswith(b"]"):
        out = out.rstrip(b",\n ") + b"]"
    tf = TsharkFacts()
    # tshark prints a non-Unicode SMB1 string's bytes as they are, which
    # may not be UTF-8: they become U+FFFD, so such a name still shows
    # (and disagrees with whatever the parser made of it), never vanishes.
    for packet in json.loads(out.decode("utf-8", "replace") or "[]"):
        layers = packet["_source"]["layers"]
        number = first(layers.get("frame", {}), "frame.number")
        conn = conns.get(int(number)) if number is not None else None
        if conn is not None:
            tf.frame(layers, conn)
    return tf.facts


def smb1_as_tshark(text):
    """The parser's SMB1 string as tshark 4.0 prints it. Its SMB1 dissector
    turns UCS-2 into ISO 8859-1: a character above U+00FF becomes "?", one
    in U+0080..U+00FF its single Latin-1 byte, which is not UTF-8 and so
    reads here as U+FFFD. Only those characters are made alike; every ASCII
    character, the length and the positions are still compared. ("?" is
    not a valid character of an SMB name, so it cannot stand for itself.)
    NTLMSSP names and every SMB2 string are compared as they are."""
    out = []
    for ch in text:
        if ord(ch) > 0xFF:
            out.append("?")
        elif ord(ch) >= 0x80:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


# A name the parser cut to fit its bound (SMB_NAME_MAX) and flagged so
# (SMB_FACT_F_TRUNCATED): it keeps the start and the end around U+2026.
# compare() pairs it with a longer name of tshark's that starts and ends
# the same (truncated_matches()), and reports how many it paired.
TRUNCATED = "\x00truncated:"
TRUNCATED_SMB1 = "\x00truncated smb1:"
ELISION = "\u2026"
SMB_FACT_F_TRUNCATED = 0x0020


def kept(value, f):
    """The parser's name <value> of fact <f> as compared: SMB1 strings as
    tshark prints them, a truncated one marked for truncated_matches()."""
    ver1 = f["ver"] == "1"
    if int(f["flags"], 16) & SMB_FACT_F_TRUNCATED:
        return (TRUNCATED_SMB1 if ver1 else TRUNCATED) + value
    return smb1_as_tshark(value) if ver1 else value


def truncated_matches(value, name):
    """Whether the parser's truncated <value> (from kept()) is what it keeps
    of tshark's <name>: the same start and end, <name> longer. Each U+2026
    of <value> is tried as the parser's, since a name may hold one too."""
    if name.startswith("\x00"):
        return False
    if value.startswith(TRUNCATED_SMB1):
        raw, render = value[len(TRUNCATED_SMB1):], smb1_as_tshark
    elif value.startswith(TRUNCATED):
        raw, render = value[len(TRUNCATED):], lambda x: x
    else:
        return False
    for i, ch in enumerate(raw):
        if ch != ELISION:
            continue
        head, tail = render(raw[:i]), render(raw[i + 1:])
        if len(name) > len(head) + len(tail) and name.startswith(head) \
                and name.endswith(tail):
            return True
    return False


def parser_facts(lines, endpoints):
    """Facts from smb_facts' lines (parsed into dicts by the caller);
    <endpoints> maps its connection ids to conn_key()s."""
    facts = collections.defaultdict(
        lambda: collections.defaultdict(collections.Counter))
    for f in lines:
        conn = endpoints.get(f.get("conn"))
        if conn is None:
            continue
        kind = f["fact"]
        ver = int(f["ver"])
        response = int(f["flags"], 16) & 1
        add = facts[conn]
        if kind == "logon" and not response and f["mech"] == \
                SMB_AUTH_PLAINTEXT:
            add["user"][norm_user(smb1_as_tshark(f["domain"]),
                                  smb1_as_tshark(f["user"]))] += 1
        elif kind == "logon" and not response and f["mech"] == \
                SMB_AUTH_NTLMSSP:
            add["user"][norm_user(f["domain"], f["user"])] += 1
        elif kind == "logon" and response:
            status = int(f["status"], 16)
            if status not in (0, STATUS_MORE_PROCESSING_REQUIRED):
                add["logonfail"]["0x%08x" % status] += 1
        elif kind == "tree_connect" and not response:
            add["tree"][kept(norm_tree(f["path"]), f)] += 1
        elif kind == "create" and not response:
            add["open"][kept(strip_nuls(f["name"]), f)] += 1
        elif kind == "negotiate" and response and \
                int(f["status"], 16) == 0:
            chosen = int(f["chosen"], 16)
            if ver == 1 and (chosen in SMB1_DIALECT_NAMES or
                             chosen < 0x0200):
                add["dialect"]["smb1:" + SMB1_DIALECT_NAMES.get(
                    chosen, "unnamed (0x%04x)" % chosen)] += 1
            else:
                add["dialect"]["0x%04x" % chosen] += 1
        elif kind == "dcerpc" and not response:
            rpc = int(f["rpc"])
            iface = unknown_iface(f["iface"].lower())
            # NTLMSSP AUTHENTICATE in BIND / ALTER_CONTEXT / AUTH3, on the
            # fact that carries it, if smb_facts prints one.
            if f.get("auth_user") is not None:
                add["user"][norm_user(f.get("auth_domain", ""),
                                      f["auth_user"])] += 1
            if rpc in (RPC_FACT_BIND, RPC_FACT_ALTER_CONTEXT):
                add["bind"][iface] += 1
            elif rpc == RPC_FACT_REQUEST:
                add["call"]["%s:%d" % (iface, int(f["opnum"]))] += 1
                if iface == SVCCTL_UUID and f.get("arg_command") and \
                        int(f["opnum"]) in SVCCTL_PATH_OPNUMS:
                    add["service"][strip_nuls(f["arg_command"])] += 1
    return facts


def match_truncated(t, o):
    """Pairs each truncated name of the parser's <o> with a longer name of
    tshark's <t> that starts with what the parser kept; both become the
    marked form, so they agree. Returns how many were paired; a truncated
    name with no such partner stays and disagrees."""
    paired = 0
    t = t.copy()
    for value in sorted(v for v in o if v.startswith("\x00")):
        for _ in range(o[value]):
            partner = next((x for x in sorted(t) if t[x] > 0 and
                            truncated_matches(value, x)), None)
            if partner is None:
                break
            t[partner] -= 1
            if t[partner] == 0:
                del t[partner]
            t[value] += 1
            paired += 1
    return t, paired


def compare(theirs, ours):
    """Per kind: (agreeing, total, [(conn, value, tshark n, parser n)],
    names matched as truncated)."""
    result = {}
    for kind in KINDS:
        agree = total = truncated = 0
        diffs = []
        for conn in sorted(set(theirs) | set(ours)):
            t = theirs.get(conn, {}).get(kind, collections.Counter())
            o = ours.get(conn, {}).get(kind, collections.Counter())
            t, paired = match_truncated(t, o)
            truncated += paired
            for value in sorted(set(t) | set(o)):
                agree += min(t[value], o[value])
                total += max(t[value], o[value])
                if t[value] != o[value]:
                    diffs.append((conn, value, t[value], o[value]))
        result[kind] = (agree, total, diffs, truncated)
    return result
