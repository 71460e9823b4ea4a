#!/bin/bash
# A flow table full of live SMB sessions: new SMB flows cannot be tracked,
# and the configured fail mode decides: "open" forwards them untracked,
# "closed" drops them (state_full). Both counted, the accounting exact.
# usage: test_fail_mode.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
work=$(mktemp -d /tmp/smbgw-failmode.XXXXXX)
trap 'rm -rf "$work"' EXIT
capacity=1024
sessions=1100
# The psexec session up to its tree connects: negotiated and logged on, open.
/usr/bin/python3 "$here/../lib/pcap_tool.py" sessions "$pcaps/psexec_smb2.pcap" \
	"$work/sessions.pcap" $sessions 20

counter() {	# counter FILE NAME: a value from the "flows:" line
	grep '^flows:' "$1" | tr ' ' '\n' | grep -A1 -x "$2" | tail -1
}

for mode in open closed; do
	cat >"$work/$mode.conf" <<CONF
gateway: { ports = [ "a", "b" ]; fail_mode = "$mode"; };
# All sessions come from one client: no per-client cap on parser states.
flows: { max_flows = $capacity; sessions = 2048; sessions_per_client = 0; };
CONF
	"$smbgw" -r "$work/sessions.pcap" -c "$work/$mode.conf" >"$work/$mode.out" ||
		{ echo "FAIL: $mode: smbgw -r exited $?"; cat "$work/$mode.out"; exit 1; }
	grep -E '^flows:' "$work/$mode.out"
	row=$(counters_row "$work/$mode.out" counters "$work/sessions.pcap" rx receive_only state_full rx=tx+drop)
	echo "$mode: rx receive_only state_full identity = $row"
	read -r rx analysed dropped identity <<<"$row"
	failed=$(counter "$work/$mode.out" insert_failed)
	untracked=$(counter "$work/$mode.out" untracked_frames)
	[ "$identity" = ok ] || { echo "FAIL: $mode: accounting"; exit 1; }
	[ "$(counter "$work/$mode.out" live_smb)" -eq $capacity ] ||
		{ echo "FAIL: $mode: the table should hold $capacity live SMB sessions"; exit 1; }
	[ "$failed" -gt 0 ] && [ "$untracked" -gt 0 ] ||
		{ echo "FAIL: $mode: no insert failed although the table was full of live sessions"; exit 1; }
	[ "$(counter "$work/$mode.out" evicted_pressure)" -eq 0 ] ||
		{ echo "FAIL: $mode: a live SMB session was evicted"; exit 1; }
	if [ $mode = open ]; then
		[ "$dropped" -eq 0 ] || { echo "FAIL: open: $dropped frames dropped"; exit 1; }
	else
		[ "$dropped" -eq "$untracked" ] ||
			{ echo "FAIL: closed: $dropped dropped, $untracked untracked"; exit 1; }
	fi
done
echo "PASS: fail modes with $sessions live sessions in $capacity entries"
