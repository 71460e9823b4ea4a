#!/bin/bash
# End-to-end control socket: smbgwctl against a running gateway (the same
# topology and gateway as test_copy.sh), with a control { } group in its
# configuration:
#   status, stats, policy check, help; --json for scripts;
#   reload with a good and with a bad configuration (the gateway keeps
#   running on the old one); mode monitor-only and back to enforce;
#   a second instance refused while the socket is live;
#   nobody refused (exit 4), nobody in the control group served;
#   dpdk-telemetry.py lists and answers /smbgw/ commands;
#   dpdk-dumpcap captures on a gateway port (with hugepages only: a
#   secondary process cannot share --no-huge memory);
#   after SIGTERM the socket is gone and smbgwctl says so (exit 3).
#
# usage: test_ctl.sh [GATEWAY_BINARY [SMBGWCTL_BINARY]]
#   defaults: build/app/smbgw and build/app/smbgwctl (MESON_BUILD_ROOT)
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-ctl needs root (network namespaces, af_packet, setpriv)"
	exit 77
fi

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}
gw_work=$(mktemp -d /tmp/smbgw-e2e-ctl.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves a share below it; nobody reaches run/
gw_file_prefix=smbgw-e2e-ctl-$$
started=$SECONDS
socket=$gw_work/run/smbgw.sock
# A group nobody is not in, so that membership is what decides.
ctl_group=adm
ctl_gid=$(getent group "$ctl_group" | cut -d: -f3)

export SMBGW_NETNS_PREFIX=smbgwctl$$
export SMBGW_IF_A=ctla$$
export SMBGW_IF_B=ctlb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=Smbgw-e2e-$$
export SMBGW_STATS_INTERVAL=0
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

# The gateway configuration of gateway_lib.sh plus the control socket.
# CTL_EXTRA (a line) goes into the gateway group, to make a bad file.
gw_write_config() {
	cat >"$1" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_af_packet0", "net_af_packet1" ];
  workers = 1;
  stats_interval = 0;
  ${CTL_EXTRA:-}
};
control: {
  socket = "$socket";
  group = "$ctl_group";
  max_clients = 8;
  max_line = 4096;
};
CONF
}

second_pid=""
cleanup() {
	if [ -n "$second_pid" ]; then
		kill -KILL "$second_pid" 2>/dev/null || true
		wait "$second_pid" 2>/dev/null || true
	fi
	gw_cleanup
	rm -rf "/var/run/dpdk/${gw_file_prefix}b"
	timeout 60 "$scripts/netns.sh" down || echo "e2e-ctl: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-ctl: $*"
	if [ -s "$gw_work/gateway.log" ]; then
		echo "-- gateway output (last 40 lines)"
		tail -n 40 "$gw_work/gateway.log" | sed 's/^/  gateway| /'
	fi
	exit 1
}

# ctl EXPECTED_STATUS ARGS...: runs smbgwctl -s SOCKET ARGS, output in
# $gw_work/ctl.out (stdout and stderr), and checks its exit status.
ctl() {
	local expected=$1 status=0
	shift
	timeout 20 "$ctl_binary" -s "$socket" "$@" >"$gw_work/ctl.out" 2>&1 || status=$?
	sed 's/^/  | /' "$gw_work/ctl.out"
	[ "$status" -eq "$expected" ] ||
		fail "smbgwctl $* exited $status, expected $expected"
}

# expect TEXT: the last smbgwctl output contains TEXT.
expect() {
	grep -qF -- "$1" "$gw_work/ctl.out" || fail "smbgwctl output lacks \"$1\""
}

[ -x "$gw_binary" ] || fail "no gateway binary at $gw_binary"
[ -x "$ctl_binary" ] || fail "no smbgwctl binary at $ctl_binary"
[ -n "$ctl_gid" ] || fail "no group $ctl_group on this system"
for tool in ip ethtool setpriv dpdk-telemetry.py; do
	command -v "$tool" >/dev/null || fail "missing $tool (see tests/e2e/README.md)"
done

step "before start: smbgwctl says the gateway is not running"
ctl 3 status
expect "not running"

step "topology and gateway"
in_background timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }
gw_start "$gw_work/gateway.log"
gw_wait_forwarding client 30 || fail "gateway not forwarding within 30 s"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || fail "no control socket at $socket"
perms=$(stat -c '%a %U %G' "$socket")
[ "$perms" = "660 root $ctl_group" ] ||
	fail "socket is $perms, expected 660 root $ctl_group"

step "status, stats, help"
ctl 0 status
expect "version"
expect "uptime"
expect "mode"
expect "$gw_work/smbgw.conf"
ctl 0 --json status
grep -q '^{"ok":true,"command":"status","result":{' "$gw_work/ctl.out" ||
	fail "--json status is not one JSON reply line"
ctl 0 stats
expect "net_af_packet0"
expect "net_af_packet1"
ctl 0 --json stats
/usr/bin/python3 -c '
import json, sys
m = json.loads(open(sys.argv[1]).readline())["result"]["session_memory"]
assert m["budget_bytes"] > 0, m
for kind in ("entries", "pipes", "buffers", "small_entries"):
    for key in ("in_use", "refused_budget", "refused_session"):
        assert key in m[kind], (kind, key)
' "$gw_work/ctl.out" || fail "stats: no session_memory object with its counters"
ctl 0 help
for command in status stats flows segments rules "policy check" alerts \
		report reload mode "log reopen"; do
	expect "$command"
done

step "malformed and unknown requests"
ctl 1 frobnicate
expect "unknown command"
ctl 1 policy check
ctl 0 status

step "policy check 198.18.1.10 198.18.2.20 445"
ctl 0 policy check 198.18.1.10 198.18.2.20 445
expect "verdict"
expect "rule"
ctl 0 --json policy check 198.18.1.10 198.18.2.20 445
grep -q '"verdict"' "$gw_work/ctl.out" || fail "no verdict in the JSON reply"

step "reload: a good configuration"
generation() {
	"$ctl_binary" -s "$socket" --json status |
		sed -n 's/.*"policy_generation":\([0-9]*\).*/\1/p'
}
before=$(generation)
ctl 0 reload
after=$(generation)
if [ -n "$before" ]; then
	[ "$after" -gt "$before" ] ||
		fail "policy generation $before before reload, $after after"
fi
gw_running || fail "gateway exited on reload"

step "reload: a bad configuration is refused, the old one stays"
CTL_EXTRA='colour = "blue";' gw_write_config "$gw_work/smbgw.conf"
ctl 1 reload
expect "smbgw.conf:"
expect "gateway.colour"
gw_running || fail "gateway exited on a bad reload"
ctl 0 status
gw_write_config "$gw_work/smbgw.conf"
ctl 0 reload

step "mode monitor-only, then enforce"
ctl 0 mode monitor-only
ctl 0 status
expect "monitor-only"
ctl 1 mode sideways
ctl 0 mode enforce
ctl 0 status
expect "enforce"

step "log reopen"
ctl 0 log reopen

step "a second instance is refused while the socket is live"
# shellcheck disable=SC2046
timeout 30 "$gw_binary" -l 0-1 --no-pci $(eal_memory_options) \
	--file-prefix "${gw_file_prefix}b" \
	--vdev "net_af_packet0,iface=$SMBGW_IF_A" \
	--vdev "net_af_packet1,iface=$SMBGW_IF_B" \
	-- -c "$gw_work/smbgw.conf" >"$gw_work/second.log" 2>&1 &
second_pid=$!
second_status=0
wait "$second_pid" || second_status=$?
second_pid=""
sed 's/^/  second| /' "$gw_work/second.log"
if [ "$second_status" -eq 0 ] || [ "$second_status" -eq 124 ]; then
	fail "a second gateway on the same socket did not refuse to start (status $second_status)"
fi
grep -q "$socket" "$gw_work/second.log" ||
	fail "the second gateway did not name the socket in use"
gw_running || fail "the first gateway died when the second started"
ctl 0 status

step "non-root: nobody is refused; nobody in group $ctl_group is served"
status=0
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$ctl_binary" -s "$socket" status >"$gw_work/ctl.out" 2>&1 || status=$?
sed 's/^/  | /' "$gw_work/ctl.out"
[ "$status" -eq 4 ] || fail "nobody got exit status $status, expected 4"
expect "permission denied"
status=0
setpriv --reuid=nobody --regid=nogroup --groups="$ctl_gid" \
	"$ctl_binary" -s "$socket" status >"$gw_work/ctl.out" 2>&1 || status=$?
sed 's/^/  | /' "$gw_work/ctl.out"
[ "$status" -eq 0 ] || fail "nobody in group $ctl_group got exit status $status"

step "telemetry: dpdk-telemetry.py lists and answers /smbgw commands"
echo / | timeout 20 dpdk-telemetry.py -f "$gw_file_prefix" >"$gw_work/tel.out" 2>&1 ||
	{ cat "$gw_work/tel.out"; fail "dpdk-telemetry.py failed"; }
for command in /smbgw/status /smbgw/stats /smbgw/flows; do
	grep -qF "\"$command\"" "$gw_work/tel.out" ||
		{ cat "$gw_work/tel.out"; fail "telemetry does not list $command"; }
done
printf '/smbgw/status\n/smbgw/stats\n' |
	timeout 20 dpdk-telemetry.py -f "$gw_file_prefix" >"$gw_work/tel.out" 2>&1 ||
	fail "dpdk-telemetry.py /smbgw/status failed"
sed 's/^/  | /' "$gw_work/tel.out" | cut -c1-200
grep -q '"/smbgw/status": {"version"' "$gw_work/tel.out" ||
	fail "/smbgw/status did not answer a dictionary with the version"
grep -q '"/smbgw/stats": {"' "$gw_work/tel.out" ||
	fail "/smbgw/stats answered nothing"

if [ -z "$(eal_memory_options)" ] && command -v dpdk-dumpcap >/dev/null; then
	step "dpdk-dumpcap captures on net_af_packet0"
	timeout 20 dpdk-dumpcap --file-prefix="$gw_file_prefix" -i net_af_packet0 \
		-c 3 -w "$gw_work/capture.pcapng" >"$gw_work/dumpcap.log" 2>&1 &
	dumpcap_pid=$!
	sleep 2
	for _ in 1 2 3 4 5; do
		"$scripts/netns.sh" exec client timeout 2 \
			bash -c 'exec 3<>/dev/tcp/198.18.2.20/445' 2>/dev/null || true
	done
	wait "$dumpcap_pid" || { cat "$gw_work/dumpcap.log"; fail "dpdk-dumpcap failed"; }
	[ -s "$gw_work/capture.pcapng" ] || fail "dpdk-dumpcap wrote nothing"
else
	step "dpdk-dumpcap: skipped (needs hugepages and dpdk-dumpcap)"
fi

step "SIGTERM: the gateway stops and removes its socket"
gw_stop 20 || fail "gateway exited with status $gw_status"
[ ! -e "$socket" ] || fail "socket $socket left behind"
ctl 3 status
expect "not running"

echo "PASS: e2e-ctl ($((SECONDS - started)) s)"
