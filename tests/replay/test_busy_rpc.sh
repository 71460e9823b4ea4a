#!/bin/bash
# A connection with 300 files and 8 bound pipes open (busy_rpc_smb3.pcap,
# made by make_busy_rpc_pcap.sh): offline, with the default configuration,
# every RPC call has its pipe and interface and every file operation its
# name, as busy_rpc.py recorded them (check_busy_rpc.py), in the gateway's
# EVE log and in the parser's facts; nothing is refused. With a session
# share too small for everything, the refusals are counted, nothing
# crashes, and what was kept is right: every call still has its pipe and
# interface, the last files opened their names.
# usage: test_busy_rpc.sh SMBGW_BINARY SMB_FACTS_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
smb_facts=$2
pcaps=$3
here=$(cd "$(dirname "$0")" && pwd)
capture=$pcaps/busy_rpc_smb3.pcap
manifest=$pcaps/busy_rpc_smb3.json
check="/usr/bin/python3 $here/check_busy_rpc.py"
work=$(mktemp -d /tmp/smbgw-busy-rpc.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

fail() {
	echo "FAIL: $*"
	status=1
}

# memory_counter OUT NAME: a value from the "session_memory:" line.
memory_counter() {
	grep '^session_memory:' "$1" | tr ' ' '\n' | grep -A1 -x "$2" | tail -1
}

[ -x /usr/bin/python3 ] || { echo "skipped: no /usr/bin/python3"; exit 77; }

"$smbgw" -r "$capture" -e "$work/full.json" >"$work/full.out" 2>&1 ||
	fail "smbgw -r exited $?"
"$smb_facts" "$capture" >"$work/full.facts" || fail "smb_facts exited $?"
grep '^session_memory:' "$work/full.out" || fail "no session_memory line"
$check "$manifest" "$work/full.json" "$work/full.facts" ||
	fail "default budget: facts lost or wrong"
for c in refused_budget refused_session; do
	[ "$(memory_counter "$work/full.out" $c)" = 0 ] ||
		fail "default budget: $c $(memory_counter "$work/full.out" $c)"
done
grep -q ' evicted=0 refused=0 ' "$work/full.facts" ||
	fail "default budget: the parser gave entries up"

# 32 KiB per session: the 8 pipes and about 200 of the 300 names fit.
cat >"$work/small.conf" <<CONF
gateway: { ports = [ "a", "b" ]; };
flows: { session_memory_max = 32; };
CONF
"$smbgw" -r "$capture" -c "$work/small.conf" -e "$work/small.json" \
	>"$work/small.out" 2>&1 || fail "smbgw -r with a small share exited $?"
"$smb_facts" 32768 "$capture" >"$work/small.facts" ||
	fail "smb_facts 32768 exited $?"
grep '^session_memory:' "$work/small.out" || fail "no session_memory line"
refused=$(memory_counter "$work/small.out" refused_session)
[ "${refused:-0}" -gt 0 ] && echo "ok: small share: $refused refusals counted" ||
	fail "small share: no refusal counted"
grep -q ' evicted=[1-9][0-9]* ' "$work/small.facts" ||
	fail "small share: the parser counted no entry given up"
$check "$manifest" "$work/small.json" "$work/small.facts" --budget ||
	fail "small share: what was kept is wrong"

[ "$status" -eq 0 ] && echo "PASS: busy_rpc_smb3: every fact kept; a small share refuses, counts and keeps what fits"
exit "$status"
