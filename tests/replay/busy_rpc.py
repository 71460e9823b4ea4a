#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A busy SMB connection: 300 files and 8 named pipes open at once.

Usage: busy_rpc.py SERVER_IP USER PASSWORD MANIFEST

On one SMB connection (Impacket, SMB 3), logs on, creates 300 files on
the share "data" and keeps them open, opens and binds 8 named pipes
(srvsvc, samr, lsarpc, svcctl, twice each, each on its own IPC$ tree),
then in three rounds calls each pipe in turn, writing to some of the
open files between calls; reads every file back, closes the files and
the pipes. Writes to MANIFEST (JSON) what it did, in order: the names
opened and, per RPC call, the pipe, the interface and the opnum, so a
test can check that every fact of the capture names them.
"""

import json
import sys

from impacket.dcerpc.v5 import lsad, samr, scmr, srvs, transport
from impacket.dcerpc.v5.rpcrt import DCERPCException
from impacket.smbconnection import SMBConnection

FILES = 300
ROUNDS = 3

INTERFACES = {
    "srvsvc": ("4b324fc8-1670-01d3-1278-5a47bf6ee188", srvs.MSRPC_UUID_SRVS),
    "samr": ("12345778-1234-abcd-ef00-0123456789ac", samr.MSRPC_UUID_SAMR),
    "lsarpc": ("12345778-1234-abcd-ef00-0123456789ab", lsad.MSRPC_UUID_LSAD),
    "svcctl": ("367abb81-9844-35f1-ad32-98f038001003", scmr.MSRPC_UUID_SCMR),
}
PIPES = ["srvsvc", "samr", "lsarpc", "svcctl"] * 2


def rpc_calls(pipe, dce):
    """Makes one or two calls on <pipe>; returns their opnums in order.
    A call the server answers with an error still went out."""
    done = []

    def call(opnum, fn, *args):
        done.append(opnum)
        try:
            return fn(dce, *args)
        except DCERPCException:
            return None

    if pipe == "srvsvc":
        call(21, srvs.hNetrServerGetInfo, 101)
    elif pipe == "samr":
        r = call(0, samr.hSamrConnect)
        if r is not None:
            call(1, samr.hSamrCloseHandle, r["ServerHandle"])
    elif pipe == "lsarpc":
        r = call(44, lsad.hLsarOpenPolicy2)
        if r is not None:
            call(0, lsad.hLsarClose, r["PolicyHandle"])
    elif pipe == "svcctl":
        r = call(15, scmr.hROpenSCManagerW)
        if r is not None:
            call(0, scmr.hRCloseServiceHandle, r["lpScHandle"])
    return done


def main():
    server, user, password, manifest_path = sys.argv[1:5]
    conn = SMBConnection(server, server, timeout=30)
    conn.login(user, password)
    manifest = {"files": [], "pipes": [], "calls": []}

    data = conn.connectTree("data")
    files = []
    for i in range(FILES):
        name = "busy_%03d.txt" % i
        files.append((name, conn.createFile(data, name)))
        manifest["files"].append(name)

    pipes = []
    for name in PIPES:
        t = transport.SMBTransport(server, filename="\\" + name,
                                   smb_connection=conn)
        dce = t.get_dce_rpc()
        dce.connect()
        dce.bind(INTERFACES[name][1])
        pipes.append((name, dce))
        manifest["pipes"].append({"name": name,
                                  "interface": INTERFACES[name][0]})

    step = 0
    per_step = -(-FILES // (ROUNDS * len(pipes)))
    for _ in range(ROUNDS):
        for name, dce in pipes:
            for opnum in rpc_calls(name, dce):
                manifest["calls"].append({
                    "pipe": name, "interface": INTERFACES[name][0],
                    "opnum": opnum})
            for fname, fid in files[step:step + per_step]:
                conn.writeFile(data, fid, ("%s\n" % fname).encode())
            step += per_step
    for fname, fid in files:
        conn.readFile(data, fid, 0, 64)
    for fname, fid in files:
        conn.closeFile(data, fid)
    for name, dce in pipes:
        dce.disconnect()
    conn.disconnectTree(data)
    conn.logoff()
    conn.close()
    with open(manifest_path, "w") as out:
        json.dump(manifest, out, indent=1)
        out.write("\n")
    print("busy_rpc: %d files, %d pipes, %d RPC calls" % (
        len(manifest["files"]), len(manifest["pipes"]),
        len(manifest["calls"])))


if __name__ == "__main__":
    main()
