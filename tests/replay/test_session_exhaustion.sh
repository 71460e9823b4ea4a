#!/bin/bash
# Session pool exhaustion offline: 20 idle SMB connections from 198.18.1.30
# (handshake and NEGOTIATE, then nothing), then psexec.py from 198.18.1.10
# (TREE_CONNECT ADMIN$), then an ordinary session from 198.18.1.50, against
# a pool of 16 states and "deny admin_share" for workstations (198.18.1.0/24)
# to the file server; 198.18.1.50 is a segment of its own with no rule (an
# allow-only pair). The ADMIN$ tree connect is never forwarded unjudged:
#  A. cap 8 per client: the idle client is capped (12 refused, counted), the
#     pool keeps room, psexec is parsed and denied at ADMIN$;
#  B. no cap, no reclaim: the idle client takes all 16 states; psexec finds
#     none and is refused whole (counted, and denied for its pair in the
#     report); the allow-only client flows unparsed;
#  C. no cap, idle states reclaimed after 1 s: psexec and the third client
#     take states of idle connections and are parsed; ADMIN$ denied;
#  D. no policy, fail_mode closed: the flows without state are dropped.
# usage: test_session_exhaustion.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
work=$(mktemp -d /tmp/smbgw-exhaust.XXXXXX)
trap 'rm -rf "$work"' EXIT
capture=$work/exhaust.pcap

/usr/bin/python3 "$here/exhaust_pcap.py" "$pcaps/psexec_smb2.pcap" \
	"$pcaps/smb2_basic.pcap" "$capture" 20 10000

failures=0
fail() {
	echo "FAIL: session-exhaustion: $*"
	failures=$((failures + 1))
}

# value FILE LINE NAME: the number after NAME on the line starting LINE:
value() {
	grep "^$2:" "$1" | tr ' ' '\n' | grep -A1 -x "$3" | tail -1
}

# report FILE CLIENT: "connections allowed denied" of CLIENT's report row.
report() {
	grep "^[0-9-]*,$2,198.18.2.20," "$1" | awk -F, '{ print $4, $10, $11 }'
}

# expect FILE WHAT GOT WANT
expect() {
	if [ "$3" = "$4" ]; then
		echo "  ok: $2 = $3"
	else
		fail "$(basename "$1" .out): $2 is '$3', want '$4'"
	fi
}

# run NAME CAP RECLAIM_MS [nopolicy]: smbgw -r on the capture.
run() {
	local conf=$work/$1.conf
	{
		echo 'gateway: { ports = [ "a", "b" ]; fail_mode = "closed"; };'
		echo "flows: { sessions = 16; sessions_per_client = $2; session_idle_reclaim_ms = $3; };"
		[ "${4:-}" = nopolicy ] || cat <<'CONF'
policy: {
  mode = "enforce"; default_action = "allow"; deny_action = "reset";
  segments = (
    { name = "workstations"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "fileservers"; prefixes = [ "198.18.2.0/24" ]; },
    { name = "management"; prefixes = [ "198.18.1.50/32" ]; }
  );
  rules = (
    { from = "workstations"; to = "fileservers"; action = "deny"; share_class = "admin_share"; },
    { from = "workstations"; to = "fileservers"; action = "allow"; }
  );
};
CONF
	} >"$conf"
	"$smbgw" -r "$capture" -c "$conf" >"$work/$1.out" 2>&1 ||
		{ cat "$work/$1.out"; fail "$1: smbgw -r exited $?"; return; }
	echo "$1 (cap $2, reclaim ${3} ms${4:+, $4}):"
	grep -E '^(sessions|policy):' "$work/$1.out" | sed 's/^/    /'
	expect "$work/$1.out" "accounting" \
		"$(counters_row "$work/$1.out" counters "$capture" rx=tx+drop)" ok
}

out=$work/A.out
run A 8 60000
expect "$out" client_capped "$(value "$out" sessions client_capped)" 12
expect "$out" refused "$(value "$out" sessions refused)" 12
expect "$out" exhausted "$(value "$out" sessions exhausted)" 0
expect "$out" smb_denied "$(value "$out" policy smb_denied)" 1
expect "$out" "idle client's report row" "$(report "$out" 198.18.1.30)" "20 8 12"
expect "$out" "psexec parsed (user and admin_share seen)" \
	"$(grep -c '^smb 198.18.1.10:53134 .*user LAB\\root .*admin_share' "$out")" 1
expect "$out" "third client allowed" "$(report "$out" 198.18.1.50)" "2 2 0"

out=$work/B.out
run B 0 60000
expect "$out" refused "$(value "$out" sessions refused)" 5
expect "$out" unparsed "$(value "$out" sessions unparsed)" 2
expect "$out" smb_denied "$(value "$out" policy smb_denied)" 0
expect "$out" "psexec denied for its pair" "$(report "$out" 198.18.1.10)" "1 0 1"
expect "$out" "third client allowed" "$(report "$out" 198.18.1.50)" "2 2 0"
# psexec's 122 frames less its handshake: every one from NEGOTIATE on.
policy_drops=$(counters_row "$out" counters "$capture" policy)
[ "$policy_drops" -ge 119 ] && echo "  ok: $policy_drops frames dropped by policy" ||
	fail "B: only $policy_drops frames dropped by policy, want psexec's 119 at least"

out=$work/C.out
run C 0 1000
expect "$out" reclaimed "$(value "$out" sessions reclaimed)" 3
expect "$out" smb_denied "$(value "$out" policy smb_denied)" 1
expect "$out" "psexec parsed after reclaim" \
	"$(grep -c '^smb 198.18.1.10:53134 .*user LAB\\root .*admin_share' "$out")" 1
expect "$out" "third client parsed" \
	"$(grep -c '^smb 198.18.1.50:40000 .*user WORKGROUP\\bob' "$out")" 1

out=$work/D.out
run D 0 60000 nopolicy
expect "$out" refused "$(value "$out" sessions refused)" 7
state_full=$(counters_row "$out" counters "$capture" state_full)
[ "$state_full" -gt 0 ] && echo "  ok: $state_full frames dropped state_full" ||
	fail "D: no frame dropped state_full with fail_mode closed"

[ "$failures" -eq 0 ] || exit 1
echo "PASS: session exhaustion never forwards an SMB-level deny unjudged"
