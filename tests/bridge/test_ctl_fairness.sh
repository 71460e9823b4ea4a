#!/bin/bash
# Control socket fairness on a live gateway (null ports, no namespaces).
# 16 clients trickle one byte a second of a request that never ends (each
# byte would reset the 5 s idle timer of a per-byte scheme) and connect
# again whenever closed; one more connects and stays silent. As root, half
# of them run as nobody in the control group. `smbgwctl status` must still
# answer within 5 s, every time, for root and for a group member. Then
# stats and telemetry say why connections were closed (control: evicted,
# deadline_expired, ...), and show decode counters by malformed reason and
# the policy counters. Last, smbgwctl against a stand-in server that says
# "busy": it tries again for about 2 s, then reports it.
# usage: test_ctl_fairness.sh SMBGW_BINARY SMBGWCTL_BINARY
# Exit: 0 pass, 1 fail, 77 skipped (python3 missing).
set -euo pipefail

smbgw=$1
smbgwctl=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }

work=$(mktemp -d /tmp/smbgw-ctl-fairness.XXXXXX)
chmod 0711 "$work"
# A copy that nobody may read, whatever the checkout's modes.
clients=$work/ctl_clients.py
install -m 0755 "$here/ctl_clients.py" "$clients"
socket=$work/run/smbgw.sock
prefix=smbgw-ctl-fairness-$$
pid=""
trickler_pids=()
cleanup() {
	local p
	for p in "${trickler_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL: ctl-fairness: $*"
	[ -s "$work/log" ] && tail -n 30 "$work/log" | sed 's/^/  gateway| /'
	exit 1
}
ms_now() {
	echo $(($(date +%s%N) / 1000000))
}

# Two users when root: the control group must exist and setpriv work.
as_member=()
group=$(id -g)
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
		getent group adm >/dev/null && getent passwd nobody >/dev/null; then
	group=adm
	# The system's python: a user's own (pyenv) may be out of nobody's reach.
	member_python=/usr/bin/python3
	[ -x "$member_python" ] || member_python=$(command -v python3)
	as_member=(setpriv --reuid=nobody --regid=nogroup --groups="$(getent group adm | cut -d: -f3)")
fi

cat >"$work/smbgw.conf" <<CONF
gateway: { ports = [ "net_null0", "net_null1" ]; stats_interval = 0; };
flows: { max_flows = 4096; sessions = 64; };
control: {
  socket = "$socket";
  group = "$group";
  max_clients = 16;
  max_clients_per_uid = 16;
  request_timeout_ms = 3000;
  idle_timeout = 5;
};
CONF
: >"$work/log"
# shellcheck disable=SC2046
"$smbgw" -l 0-1 --no-pci $(eal_memory_options) --file-prefix "$prefix" \
	--vdev net_null0 --vdev net_null1 -- -c "$work/smbgw.conf" >>"$work/log" 2>&1 &
pid=$!
for _ in $(seq 300); do
	[ -S "$socket" ] && grep -q "inline mode on 2 ports" "$work/log" && break
	kill -0 "$pid" 2>/dev/null || fail "the gateway did not start"
	sleep 0.1
done
[ -S "$socket" ] || fail "no control socket at $socket"

# timed_status WHO...: smbgwctl status (run by WHO..., e.g. setpriv),
# which must succeed within 5 s.
timed_status() {
	local start took status=0
	start=$(ms_now)
	timeout 10 "$@" "$smbgwctl" -s "$socket" status >"$work/ctl.out" 2>&1 || status=$?
	took=$(($(ms_now) - start))
	echo "  status${1:+ as a group member}: exit $status in $took ms"
	[ "$status" -eq 0 ] || { cat "$work/ctl.out"; fail "smbgwctl status exited $status"; }
	[ "$took" -lt 5000 ] || fail "smbgwctl status took $took ms"
	grep -q "^version" "$work/ctl.out" || fail "status without its version"
}

echo "16 trickling clients and 1 silent one"
duration=16
if [ ${#as_member[@]} -gt 0 ]; then
	python3 "$clients" trickle "$socket" 8 1 "$duration" 1 >"$work/root.out" &
	trickler_pids+=($!)
	"${as_member[@]}" "$member_python" "$clients" trickle "$socket" 8 1 "$duration" >"$work/member.out" &
	trickler_pids+=($!)
else
	python3 "$clients" trickle "$socket" 16 1 "$duration" 1 >"$work/root.out" &
	trickler_pids+=($!)
fi
sleep 2
for round in 1 2 3 4 5; do
	timed_status
	if [ ${#as_member[@]} -gt 0 ] && [ "$round" -eq 3 ]; then
		timed_status "${as_member[@]}"
	fi
	sleep 2
done

echo "stats: the control socket's counters, decode by reason, policy"
"$smbgwctl" -s "$socket" --json stats >"$work/stats.json" || fail "smbgwctl stats failed"
python3 - "$work/stats.json" <<'PY' || fail "stats lacks a counter (above)"
import json, sys
result = json.load(open(sys.argv[1]))["result"]
control = result["control"]
print("  control:", json.dumps(control))
missing = [key for section, keys in {
    "control": ["evicted", "refused_busy", "refused_uid", "idle_closed",
                "deadline_expired", "slow_closed", "bad_requests"],
    "decode": ["malformed", "malformed_by_reason"],
    "policy": ["allowed_flows", "denied_flows", "monitored_flows",
               "would_deny", "smb_denied", "datagrams_denied"],
    "events": ["ring_full", "alerts_dropped", "summary_full",
               "summary_recycled"],
}.items() for key in keys if key not in result[section]]
reasons = result["decode"]["malformed_by_reason"]
for reason in ["truncated_l2", "truncated_l3", "truncated_l4",
               "bad_ip_version", "bad_ip_header_length",
               "bad_ip_total_length", "bad_tcp_offset",
               "bad_ipv6_ext_header"]:
    if reason not in reasons:
        missing.append("malformed_by_reason." + reason)
if missing:
    print("  missing:", missing)
    sys.exit(1)
if control["evicted"] == 0:
    print("  nobody was evicted: the socket was never full?")
    sys.exit(1)
PY

if command -v dpdk-telemetry.py >/dev/null; then
	echo "telemetry: /smbgw/stats has the same counters"
	echo /smbgw/stats | timeout 20 dpdk-telemetry.py -f "$prefix" >"$work/tel.out" 2>&1 ||
		{ cat "$work/tel.out"; fail "dpdk-telemetry.py failed"; }
	for key in control/evicted control/deadline_expired control/refused_busy \
			control/idle_closed control/bad_requests decode/malformed \
			decode/malformed_by_reason/bad_tcp_offset \
			decode/malformed_by_reason/truncated_l3 policy/denied_flows \
			events/alerts_dropped; do
		grep -q "\"$key\": [0-9]" "$work/tel.out" ||
			{ cut -c1-400 "$work/tel.out"; fail "telemetry lacks $key"; }
	done
	grep -q '"truncated"' "$work/tel.out" && fail "telemetry /smbgw/stats was truncated"
fi

for p in "${trickler_pids[@]}"; do
	wait "$p" || fail "a trickling client failed"
done
trickler_pids=()
echo "  tricklers as root: $(cat "$work/root.out")"
[ -s "$work/member.out" ] && echo "  tricklers as nobody: $(cat "$work/member.out")"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
grep -q "^malformed by reason: truncated_l2 0 " "$work/log" ||
	fail "the final counters lack the malformed reasons"

echo "smbgwctl tries again on busy (a stand-in server)"
fake=$work/fake.sock
python3 "$clients" busy "$fake" 2 >"$work/fake.out" &
fake_pid=$!
for _ in $(seq 50); do [ -S "$fake" ] && break; sleep 0.1; done
status=0
"$smbgwctl" -s "$fake" status >"$work/ctl.out" 2>&1 || status=$?
wait "$fake_pid" || true
[ "$status" -eq 0 ] || { cat "$work/ctl.out"; fail "smbgwctl gave up on busy (exit $status)"; }
[ "$(cat "$work/fake.out")" = 3 ] || fail "expected 3 connections, the stand-in saw $(cat "$work/fake.out")"
grep -q "stand-in" "$work/ctl.out" || fail "the stand-in's reply was not printed"

python3 "$clients" busy "$fake" -1 5 >"$work/fake.out" &
fake_pid=$!
for _ in $(seq 50); do [ -S "$fake" ] && break; sleep 0.1; done
status=0
start=$(ms_now)
"$smbgwctl" -s "$fake" status >"$work/ctl.out" 2>&1 || status=$?
took=$(($(ms_now) - start))
kill "$fake_pid" 2>/dev/null || true
wait "$fake_pid" 2>/dev/null || true
echo "  always busy: exit $status after $took ms"
[ "$status" -eq 1 ] || fail "smbgwctl exited $status on a gateway always busy, expected 1"
grep -q "too many control connections" "$work/ctl.out" || fail "smbgwctl did not say busy"
[ "$took" -ge 1000 ] && [ "$took" -lt 4000 ] ||
	fail "smbgwctl gave up after $took ms, expected about 2 s"

echo "PASS: ctl-fairness"
