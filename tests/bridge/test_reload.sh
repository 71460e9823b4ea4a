#!/bin/bash
# SIGHUP reload: a valid file is taken, a file with errors is rejected with
# file:line messages, and the gateway keeps running either way.
# usage: test_reload.sh SMBGW_BINARY
set -euo pipefail

smbgw=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
work=$(mktemp -d /tmp/smbgw-reload.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	sed 's/^/  gateway| /' "$work/log"
	exit 1
}
# wait_for PATTERN: until the gateway's output has PATTERN, at most 20 s.
wait_for() {
	for _ in $(seq 200); do
		grep -q -- "$1" "$work/log" && return 0
		kill -0 "$pid" 2>/dev/null || fail "the gateway died waiting for '$1'"
		sleep 0.1
	done
	fail "no '$1' in the gateway's output"
}

cat >"$work/smbgw.conf" <<CONF
gateway: { ports = [ "net_null0", "net_null1" ]; stats_interval = 0; };
flows: { max_flows = 4096; sessions = 64; };
control: { socket = "$work/smbgw.sock"; };
CONF
# Created here, not by the background job, so the first look finds it.
: >"$work/log"
# shellcheck disable=SC2046
"$smbgw" -l 0-1 --no-pci $(eal_memory_options) --file-prefix "smbgw-reload-$$" \
	--vdev net_null0 --vdev net_null1 -- -c "$work/smbgw.conf" >>"$work/log" 2>&1 &
pid=$!
wait_for "inline mode on 2 ports"

kill -HUP "$pid"
wait_for "reload: $work/smbgw.conf is valid"

printf 'gateway: { ports = [ "net_null0", "net_null1" ];\n  mtu = 1; };\n' >"$work/smbgw.conf"
kill -HUP "$pid"
wait_for "reload rejected"
grep -q "$work/smbgw.conf:2: gateway.mtu = 1 is out of range" "$work/log" ||
	fail "the rejection does not say file:line: message"
kill -0 "$pid" || fail "the gateway stopped after a rejected reload"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
echo "PASS: reload"
