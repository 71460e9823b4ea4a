#!/bin/bash
# The DCE/RPC rule table on the captures of Impacket against a Samba AD DC
# and the test responder (tests/pcaps/README.md), offline: each capture
# raises exactly its alerts, with their ATT&CK ids and evidence, and the
# ordinary ones none of severity 1 or 2. 9000007 (DCE/RPC on a dynamic
# port found by content) is left out of the comparison: it belongs to
# endpoint learning, not to these rules.
# usage: test_rpc_rules.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
check="/usr/bin/python3 $here/../lib/eve_check.py"
work=$(mktemp -d /tmp/smbgw-rpcrules.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

fail() {
	echo "FAIL: $*"
	status=1
}

# run CAPTURE [CONFIG]: replays it into $work/CAPTURE.json.
run() {
	local conf=()
	[ -n "${2:-}" ] && conf=(-c "$2")
	rm -f "$work/$1.json"	# the EVE log is appended to
	"$smbgw" -r "$pcaps/$1.pcap" "${conf[@]}" -e "$work/$1.json" >"$work/$1.out" 2>&1 ||
		{ fail "$1: smbgw -r exited $?"; return 1; }
	$check "$work/$1.json" valid >/dev/null || fail "$1: EVE log not valid"
}

# ids CAPTURE: its new alerts' signature ids but 9000007, sorted, one line.
ids() {
	$check "$work/$1.json" alerts | awk '$1 != 9000007 {print $1}' | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect CAPTURE "IDS" [ID KEY=VALUE...]: exactly these alerts; the
# evidence of the first id given after them.
expect() {
	local capture=$1 want=$2 got
	shift 2
	run "$capture" || return 0
	got=$(ids "$capture")
	if [ "$got" != "$want" ]; then
		fail "$capture: alerts '$got', '$want' expected"
		return 0
	fi
	if [ $# -gt 0 ] && ! $check "$work/$capture.json" alert "$@"; then
		fail "$capture: alert $1 lacks $*"
		return 0
	fi
	echo "ok: $capture: $want${1:+ ($*)}"
}

expect rpc_dcsync_dc "9000101 9000121" 9000101 "alert.mitre=['T1003.006']" \
	evidence.rpc_rule=dcsync evidence.stub_sealed=True dcerpc.interfaces.0.service=drsuapi \
	dcerpc.interfaces.0.procedure=DRSGetNCChanges alert.severity=1
expect rpc_zerologon_dc "9000113 9000114" 9000113 "alert.mitre=['T1210']" \
	evidence.rpc_rule=zerologon evidence.target=VM* dcerpc.interfaces.0.service=netlogon
$check "$work/rpc_zerologon_dc.json" alert 9000114 evidence.netlogon_authentications=20 \
	'evidence.detail=*$' && echo "ok: rpc_zerologon_dc: the burst names the account" ||
	fail "rpc_zerologon_dc: 9000114 evidence"
expect rpc_printerbug_dc 9000117 9000117 "alert.mitre=['T1187']" \
	'evidence.target=\\198.18.16.10' dcerpc.interfaces.0.service=spoolss
expect rpc_reg_autostart_dc 9000118 9000118 "alert.mitre=['T1112', 'T1547.001']" \
	'evidence.target=SYSTEM\CurrentControlSet\Services\Eventlog' \
	'evidence.detail=Updater = C:\Windows\Temp\u.exe'
expect rpc_reg_ordinary_dc ""
# reg.py save: the server asked to write the SYSTEM hive to a UNC path.
expect rpc_reg_save_dc 9000119 9000119 "alert.mitre=['T1003.002']" \
	dcerpc.interfaces.0.procedure=BaseRegSaveKey \
	'evidence.detail=\\198.18.16.10\share\SYSTEM.save'
expect rpc_backupkey_dc 9000120 9000120 "alert.mitre=['T1555']" evidence.stub_sealed=True \
	alert.severity=2
expect rpc_samrdump_dc 9000121 9000121 alert.severity=3 "alert.mitre=['T1087.002']" \
	evidence.rpc_rule=discovery
expect rpc_rpcdump_dc ""
expect rpc_lookupsid_dc 9000121 9000121 alert.severity=3 "alert.mitre=['T1087']" \
	dcerpc.interfaces.0.procedure=LsarLookupSids
expect rpc_netview_dc 9000121 9000121 alert.severity=3 "alert.mitre=['T1049']"
expect rpc_services_create_dc 9000002 9000002 dcerpc.service_name=smbgwsvc \
	'dcerpc.command=C:\Windows\smbgw.exe'
# Kerberos logons (no user name on the wire): each still a logon, so
# CM0062 holds with the service created; the alert says how they logged on.
expect rpc_services_kerberos_dc "9000001 9000002" 9000001 smb.auth=kerberos \
	"evidence.conditions=['logon', 'admin_exec', 'share_repeat']" \
	dcerpc.service_name=smbgwk 'dcerpc.command=C:\Windows\tool.exe'
# SCShell's way: no service created, an existing one (opened by name)
# given a command as its binary path, then started. The command is under
# %SystemRoot% and IPC$ is opened three times, so CM0062 holds too.
expect rpc_services_change_dc "9000001 9000002 9000104" 9000002 dcerpc.service_name=Spooler \
	'dcerpc.command=C:\Windows\System32\cmd.exe /c C:\Users\Public\u.bat' \
	dcerpc.interfaces.2.procedure=ChangeServiceConfigW
$check "$work/rpc_services_change_dc.json" alert 9000104 dcerpc.service_name=Spooler \
	dcerpc.interfaces.0.procedure=StartServiceW &&
	echo "ok: rpc_services_change_dc: the start names the service opened" ||
	fail "rpc_services_change_dc: 9000104 evidence"
# smbexec.py: the service's binary path is the shell command. No CM0062:
# Samba faults CreateServiceW, so the shell stops after one IPC$ tree
# connect and one pipe open, short of a share opened repeatedly.
smbexec_evidence=(dcerpc.service_name=BTOBTO
	'dcerpc.command=%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 *'
	dcerpc.interfaces.1.procedure=CreateServiceW)
expect rpc_smbexec_dc 9000002 9000002 "${smbexec_evidence[@]}"
# The same connection with every payload cut into 7-byte segments sent
# last piece first: the same alert and the same service and command.
/usr/bin/python3 "$here/../lib/pcap_tool.py" resegment "$pcaps/rpc_smbexec_dc.pcap" \
	"$work/rpc_smbexec_dc_cut.pcap" 7
pcaps_given=$pcaps
pcaps=$work
expect rpc_smbexec_dc_cut 9000002 9000002 "${smbexec_evidence[@]}"
grep -q '^stream: .* out_of_order [1-9]' "$work/rpc_smbexec_dc_cut.out" ||
	fail "rpc_smbexec_dc_cut: no segment arrived out of order"
pcaps=$pcaps_given
expect rpc_atsvc_job 9000106 9000106 "alert.mitre=['T1053.002']" dcerpc.interfaces.0.service=atsvc
expect rpc_tsch_task 9000107 9000107 "alert.mitre=['T1053.005']" \
	dcerpc.interfaces.0.procedure=SchRpcRegisterTask
expect rpc_eventlog_clear 9000103 9000103 "alert.mitre=['T1070.001']" dcerpc.interfaces.0.service=eventlog
expect rpc_even6_clear 9000103 9000103 "alert.mitre=['T1070.001']" \
	dcerpc.interfaces.0.service=IEventService dcerpc.interfaces.0.procedure=EvtRpcClearLog
expect rpc_petitpotam 9000116 9000116 "alert.mitre=['T1187']" \
	'evidence.target=\\198.18.16.10\share\file.txt'
expect rpc_dcom_mmc20 9000111 9000111 "alert.mitre=['T1021.003']" \
	evidence.target=MMC20.Application evidence.detail=49b2791a-b1ae-4c90-9b8e-e860ba07f889
expect rpc_dcom_wmi "9000105 9000112" 9000112 "alert.mitre=['T1047']" \
	evidence.target=WbemLevel1Login
$check "$work/rpc_dcom_wmi.json" alert 9000105 dcerpc.interfaces.0.procedure=ExecMethod \
	alert.severity=1 && echo "ok: rpc_dcom_wmi: ExecMethod" || fail "rpc_dcom_wmi: 9000105 evidence"
expect rpc_seclogon 9000109 9000109 "alert.mitre=['T1547']"
expect rpc_printnightmare 9000115 9000115 "alert.mitre=['T1210']" \
	dcerpc.interfaces.0.procedure=RpcAsyncInstallPrinterDriverFromPackage
expect rpc_dcshadow 9000102 9000102 "alert.mitre=['T1207']" dcerpc.interfaces.0.procedure=DRSAddEntry
expect rpc_shutdown 9000108 9000108 "alert.mitre=['T1529']" dcerpc.interfaces.0.service=InitShutdown
expect rpc_member_ordinary_dc 9000121 9000121 alert.severity=3

# Ordinary captures: nothing of severity 1 or 2 from the rule table.
for quiet in rpc_reg_ordinary_dc rpc_rpcdump_dc rpc_samrdump_dc rpc_lookupsid_dc rpc_netview_dc \
	rpc_member_ordinary_dc; do
	if grep '"event_type":"alert"' "$work/$quiet.json" |
		grep -v '"signature_id":9000007' | grep '"severity":[12]' >/dev/null; then
		fail "$quiet: an alert of severity 1 or 2"
	else
		echo "ok: $quiet: nothing of severity 1 or 2"
	fi
done

# DCSync from a source in domain_controllers: no alert; disabled row: none.
cat >"$work/dc.conf" <<'CONF'
gateway: { ports = [ "a", "b" ]; };
policy: { segments = (
  { name = "domain_controllers"; prefixes = [ "198.18.16.10/32" ]; },
  { name = "servers"; prefixes = [ "198.18.16.0/24" ]; } ); };
CONF
run rpc_dcsync_dc "$work/dc.conf" && [ "$(ids rpc_dcsync_dc)" = 9000121 ] &&
	echo "ok: rpc_dcsync_dc from a domain controller: no DCSync alert" ||
	fail "rpc_dcsync_dc from domain_controllers: alerts '$(ids rpc_dcsync_dc)'"
cat >"$work/off.conf" <<'CONF'
gateway: { ports = [ "a", "b" ]; };
detector: { rpc_rules: { zerologon = false; netlogon_auth_burst = { severity = 3; }; }; };
CONF
run rpc_zerologon_dc "$work/off.conf" && [ "$(ids rpc_zerologon_dc)" = 9000114 ] &&
	$check "$work/rpc_zerologon_dc.json" alert 9000114 alert.severity=3 &&
	echo "ok: rpc_zerologon_dc: a row disabled, another at severity 3" ||
	fail "rpc_zerologon_dc with rpc_rules configured: alerts '$(ids rpc_zerologon_dc)'"

# RPC policy over a named pipe, offline: svcctl refused at the bind, then
# CreateServiceW refused at the request, then only counted (monitor-only).
policy_line() {	# policy_line CONFIG: the "policy:" counters of the replay
	"$smbgw" -r "$pcaps/rpc_services_create_dc.pcap" -c "$1" 2>&1 | grep '^policy:'
}
for variant in bind:'rpc_interface = "svcctl";' \
	request:'rpc_interface = "svcctl"; rpc_operation = "CreateServiceW";' \
	monitor:'rpc_interface = "svcctl"; rpc_operation = 12;'; do
	mode=enforce
	[ "${variant%%:*}" = monitor ] && mode=monitor-only
	cat >"$work/pipe.conf" <<CONF
gateway: { ports = [ "a", "b" ]; };
policy: {
  mode = "$mode";
  segments = ( { name = "workstations"; prefixes = [ "198.18.16.10/32" ]; },
               { name = "servers"; prefixes = [ "198.18.16.0/24" ]; } );
  rules = ( { from = "workstations"; to = "servers"; action = "deny"; ${variant#*:} },
            { from = "any"; to = "any"; action = "allow"; } );
};
CONF
	line=$(policy_line "$work/pipe.conf")
	if [ "$mode" = enforce ]; then
		[[ $line == *" smb_denied 1 "* && $line == *" resets 2 "* ]] &&
			echo "ok: svcctl over a pipe denied at the ${variant%%:*}" ||
			fail "svcctl deny at the ${variant%%:*}: $line"
	else
		[[ $line == *" would_deny 1 "* && $line == *" smb_denied 0 "* ]] &&
			echo "ok: svcctl over a pipe: monitor-only counts would_deny" ||
			fail "svcctl monitor-only: $line"
	fi
done

exit $status
