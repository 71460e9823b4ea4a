#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks the facts of the busy_rpc capture against what busy_rpc.py did.

Usage: check_busy_rpc.py MANIFEST EVE_LOG SMB_FACTS_OUTPUT [--budget]

Without --budget (the default configuration), every fact must be whole:
  - the gateway's EVE log: one BIND per pipe, with its pipe name and
    interface; every RPC call (REQUEST) in the script's order, each with
    the pipe it went through, its interface and its opnum; an open
    record naming every file;
  - the parser's facts (tests/diff/smb_facts): every CREATE, READ,
    WRITE and CLOSE request and response names its file or pipe, and
    every DCE/RPC request names its pipe and interface.
With --budget (a session share too small for everything), no fact may
name a wrong file, pipe or interface, and what was kept must be named:
the most recently opened files still have their names at close.
Prints one line per disagreement; exits 1 if there is any.
"""

import json
import re
import sys

FACT = re.compile(r'fact=(\w+) ')
FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def facts(path):
    with open(path) as f:
        for line in f:
            m = FACT.search(line)
            if not m:
                continue
            d = {k: v.strip('"') for k, v in FIELD.findall(line)}
            yield d


def main():
    manifest_path, eve_path, facts_path = sys.argv[1:4]
    budget = "--budget" in sys.argv[4:]
    with open(manifest_path) as f:
        manifest = json.load(f)
    files = set(manifest["files"])
    pipes = {p["name"]: p["interface"] for p in manifest["pipes"]}
    expected_calls = [(c["pipe"], c["interface"], c["opnum"])
                      for c in manifest["calls"]]
    errors = []

    binds, calls, opened = [], [], []
    with open(eve_path) as f:
        for line in f:
            rec = json.loads(line)
            smb = rec.get("smb") or {}
            if rec.get("event_type") == "smb" and "dcerpc" in smb:
                # RPC on a named pipe, nested as Suricata nests it
                d = smb["dcerpc"]
                ifaces = d.get("interfaces") or [{}]
                item = (smb.get("named_pipe"), ifaces[0].get("uuid"),
                        d.get("opnum"))
                if d.get("request") == "BIND":
                    binds.append(item[:2])
                elif d.get("request") == "REQUEST":
                    calls.append(item)
                    if not ifaces[0].get("service"):
                        errors.append("call without interface name: %s" %
                                      (item,))
            elif rec.get("event_type") == "smb" and \
                    smb.get("command") == "SMB2_COMMAND_CREATE" and \
                    not smb.get("named_pipe"):
                opened.append(smb.get("filename"))

    for pipe, iface, opnum in calls:
        if pipe not in pipes or pipes[pipe] != iface:
            errors.append("call %s on pipe %r with interface %s" %
                          (opnum, pipe, iface))
    if not budget:
        if sorted(binds) != sorted(pipes_list(manifest)):
            errors.append("binds %s, expected %s" %
                          (binds, pipes_list(manifest)))
        if calls != expected_calls:
            errors.append("%d calls logged, %d made; first difference at "
                          "%s" % (len(calls), len(expected_calls),
                                  first_diff(calls, expected_calls)))
        if sorted(opened) != sorted(files):
            errors.append("%d files logged as opened, %d opened" %
                          (len(opened), len(files)))

    named = {"create": 0, "read": 0, "write": 0, "close": 0}
    unnamed = {"create": 0, "read": 0, "write": 0, "close": 0}
    rpc_calls = []
    closed_named = set()
    for d in facts(facts_path):
        kind = d.get("fact")
        if kind in named:
            name = d.get("name", "")
            share = d.get("share", "")
            if name == "":
                unnamed[kind] += 1
                continue
            named[kind] += 1
            if share == "data" and name not in files:
                errors.append("%s names %r, not a file opened" %
                              (kind, name))
            if share == "IPC$" and name not in pipes:
                errors.append("%s names %r, not a pipe opened" %
                              (kind, name))
            if kind == "close" and name in files:
                closed_named.add(name)
        elif kind == "dcerpc" and d.get("ptype") == "0":
            item = (d.get("pipe"), d.get("iface"), int(d.get("opnum")))
            rpc_calls.append(item)
            if item[0] != "" and pipes.get(item[0]) != item[1]:
                errors.append("parser: call %s on pipe %r with interface "
                              "%s" % (item[2], item[0], item[1]))
    if budget:
        # The last files opened were kept: their closes are named.
        last = manifest["files"][-8:]
        missing = [n for n in last if n not in closed_named]
        if missing:
            errors.append("closes of the last files opened unnamed: %s" %
                          missing)
    else:
        for kind, n in unnamed.items():
            if n:
                errors.append("parser: %d %s facts without a name" %
                              (n, kind))
        if rpc_calls != expected_calls:
            errors.append("parser: %d calls, %d made; first difference at "
                          "%s" % (len(rpc_calls), len(expected_calls),
                                  first_diff(rpc_calls, expected_calls)))
        if closed_named != files:
            errors.append("parser: %d of %d files named at close" %
                          (len(closed_named), len(files)))
    for e in errors:
        print("FAIL: " + e)
    print("%s: %d calls (%d expected), %d files closed by name, facts "
          "named %s, unnamed %s" % (
              "budget" if budget else "full", len(rpc_calls),
              len(expected_calls), len(closed_named), named, unnamed))
    return 1 if errors else 0


def pipes_list(manifest):
    return [(p["name"], p["interface"]) for p in manifest["pipes"]]


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "#%d: %s != %s" % (i, x, y)
    return "#%d (one list is longer)" % min(len(a), len(b))


if __name__ == "__main__":
    sys.exit(main())
