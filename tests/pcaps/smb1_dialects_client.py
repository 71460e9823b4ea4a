#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""An SMB1 client offering the dialect strings it is given (Impacket).

Usage: smb1_dialects_client.py SERVER USER PASSWORD DIALECT...

Negotiates with exactly the DIALECT strings, in that order, in one SMB1
NEGOTIATE request; then logs on, lists the share "data", reads
readme.txt and closes (logging off). Prints the dialect the server chose. Used to
make tests/pcaps/smb1_many_dialects.pcap and smb1_nt_lanman.pcap.
"""

import io
import sys

from impacket import smb
from impacket.smbconnection import SMBConnection


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    server, user, password = sys.argv[1:4]
    dialects = sys.argv[4:]
    nego = "".join("\x02%s\x00" % d for d in dialects)
    conn = SMBConnection(server, server, manualNegotiate=True, timeout=10)
    conn.negotiateSession(negoData=nego)
    inner = conn.getSMBServer()
    if not isinstance(inner, smb.SMB):
        sys.exit("the server answered in SMB2")
    index = inner._dialects_parameters["DialectIndex"]
    print("chosen: %d %s" % (index, dialects[index]
                             if index < len(dialects) else "none"))
    conn.login(user, password)
    for entry in conn.listPath("data", "*"):
        print("data:", entry.get_longname())
    out = io.BytesIO()
    conn.getFile("data", "readme.txt", out.write)
    print("readme.txt: %d bytes" % len(out.getvalue()))
    # close() logs off (a second LOGOFF would be refused with a DOS error).
    conn.close()


if __name__ == "__main__":
    main()
