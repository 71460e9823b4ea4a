#!/bin/bash
# The CM0062 detector and the daily report on the real captures, offline:
# exactly the alerts each capture deserves, in a valid EVE log, and report
# rows that match the captures' connections.
# usage: test_detect.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
check="/usr/bin/python3 $here/../lib/eve_check.py"
work=$(mktemp -d /tmp/smbgw-detect.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
CM0062=9000001

fail() {
	echo "FAIL: $*"
	status=1
}

# new_alerts CAPTURE: the signature ids of its new alerts, sorted, one line.
new_alerts() {
	$check "$work/$1.json" alerts | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//'
}

# report_rows CAPTURE: the report's CSV rows (no header).
report_rows() {
	sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$work/$1.out" | sed '1,2d'
}

for capture in "$pcaps"/*.pcap; do
	name=$(basename "$capture" .pcap)
	"$smbgw" -r "$capture" -e "$work/$name.json" >"$work/$name.out" 2>&1 ||
		{ fail "$name: smbgw -r exited $?"; continue; }
	$check "$work/$name.json" valid >/dev/null || fail "$name: EVE log not valid"
done

for psexec in psexec_smb2 psexec_smb1; do
	cm=$($check "$work/$psexec.json" alerts | grep -c "^$CM0062 198.18.1.10 198.18.2.20$" || true)
	[ "$cm" -eq 1 ] || fail "$psexec: $cm CM0062 alerts between 198.18.1.10 and 198.18.2.20, 1 expected"
	$check "$work/$psexec.json" alert $CM0062 smb.ntlmssp.user=root smb.share=ADMIN\$ \
		'smb.filename=*.exe' && echo "ok: $psexec: one CM0062 alert naming root, ADMIN\$ and the .exe" ||
		fail "$psexec: the CM0062 alert lacks user, share or file"
done
grep -q '^alert 9000001 .* service [a-zA-Z]\{4\} command "%systemroot%\\[a-zA-Z]\{8\}\.exe" operations .*svcctl.CreateServiceW' \
	"$work/psexec_smb2.out" && echo "ok: psexec_smb2: CreateServiceW and its binary path are evidence" ||
	fail "psexec_smb2: the alert does not carry the service and binary path"

enc=$(new_alerts psexec_smb3_enc)
[ "$enc" = 9000008 ] && echo "ok: psexec_smb3_enc: no CM0062, the encrypted session noted" ||
	fail "psexec_smb3_enc: alerts '$enc', only 9000008 (encrypted session) expected"
[ "$($check "$work/psexec_smb3_enc.json" count smb)" -gt 0 ] &&
	grep -q '"user":"root"' "$work/psexec_smb3_enc.json" &&
	echo "ok: psexec_smb3_enc: the logon is reported" || fail "psexec_smb3_enc: no logon record"

# The .exe after a 250-byte directory (a 259-character path) is still seen:
# names too long to keep whole keep their end.
$check "$work/longname_exe_smb2.json" alert 9000003 smb.share=ADMIN\$ \
	'smb.filename=*\evil.exe' &&
	echo "ok: longname_exe_smb2: the executable behind a long directory is seen" ||
	fail "longname_exe_smb2: no 'executable written to an admin share' alert naming evil.exe"

for quiet in benign_copy_smb2 smb2_basic; do
	[ -z "$(new_alerts $quiet)" ] && echo "ok: $quiet: no alert" ||
		fail "$quiet: alerts '$(new_alerts $quiet)', none expected"
done
burst=$(new_alerts logon_fail_smb2)
[ "$burst" = 9000004 ] && echo "ok: logon_fail_smb2: the logon-failure burst alert only" ||
	fail "logon_fail_smb2: alerts '$burst', only 9000004 expected"

# "SMB towards a workstation segment" names the policy's segments.
cat >"$work/workstations.conf" <<'CONF'
gateway: { ports = [ "a", "b" ]; };
policy: { segments = (
  { name = "workstations"; prefixes = [ "198.18.1.0/24", "198.18.2.0/24" ]; } ); };
detector: { workstation_segments = [ "workstations" ]; };
CONF
"$smbgw" -r "$pcaps/smb2_basic.pcap" -c "$work/workstations.conf" -e "$work/ws.json" >/dev/null 2>&1
[ "$($check "$work/ws.json" alerts | awk '{print $1}' | sort -u)" = 9000006 ] &&
	echo "ok: smb2_basic with the server in a workstation segment: SMB towards a workstation" ||
	fail "workstation segment rule: alerts '$($check "$work/ws.json" alerts)'"

# Report rows: one per source/destination pair and day, counting the
# captures' connections.
expect_report() {	# expect_report CAPTURE CONNECTIONS PORTS BY_PORT BY_CONTENT
	local row
	row=$(report_rows "$1")
	if [ "$(echo "$row" | wc -l)" -eq 1 ] &&
		echo "$row" | grep -q "^20[0-9-]*,198.18.1.10,198.18.2.20,$2,[0-9]*,[0-9]*,\"$3\",$4,$5,$2,0,0$"; then
		echo "ok: $1: report row $row"
	else
		fail "$1: report rows: $row"
	fi
}
expect_report logon_fail_smb2 5 445 5 0
expect_report smb2_basic 2 445 2 0
expect_report psexec_smb2 1 445 1 0
expect_report tunnel_port8445 1 8445 0 1
expect_report nbss_port139 1 139 1 0

[ $status -eq 0 ] && echo "PASS: detection and report"
exit $status
