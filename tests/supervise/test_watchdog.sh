#!/bin/bash
# The service manager's watchdog follows the workers' heartbeats.
#
# Where systemd is PID 1: a copy of conf/smbgw.service under a temporary
# name (ports net_null, --debug-commands, WatchdogSec=2s) is started, a
# worker is stalled with "smbgwctl debug stall-worker 0", and systemd must
# kill and restart the gateway (a new MainPID, NRestarts >= 1).
#
# Elsewhere (containers, this sandbox), the same logic without systemd:
# smbgw runs with NOTIFY_SOCKET pointing at a socket this test listens on
# and WATCHDOG_USEC=1 s. It must send READY=1, then WATCHDOG=1 every
# half second; once worker 0 is stalled, WATCHDOG=1 must stop within two
# intervals and stay away; resumed, it comes back; SIGTERM gives
# STOPPING=1. Without --debug-commands the stall command is refused.
#
# usage: test_watchdog.sh SMBGW_BINARY SMBGWCTL_BINARY
# Exit: 0 pass, 1 fail, 77 skipped (not root, python3 missing).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
gw_binary=${1:-$top/build/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the watchdog test needs root (DPDK EAL)"
	exit 77
fi
command -v python3 >/dev/null || { echo "skipped: python3 missing (scripts/deps.sh)"; exit 77; }

work=$(mktemp -d /tmp/smbgw-watchdog.XXXXXX)
prefix=sv-wd-$$
socket=$work/smbgw.sock
listener_pid=""
gw_pid=""
unit=""
failures=0
ok() { echo "ok: $*"; }
bad() { echo "NOT OK: $*"; failures=$((failures + 1)); }

cleanup() {
	[ -z "$gw_pid" ] || { kill -KILL "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null; }
	[ -z "$listener_pid" ] || { kill "$listener_pid" 2>/dev/null; wait "$listener_pid" 2>/dev/null; }
	if [ -n "$unit" ]; then
		systemctl stop "$unit" 2>/dev/null
		rm -f "/run/systemd/system/$unit"
		systemctl daemon-reload 2>/dev/null
	fi
	rm -rf "$work" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat >"$work/smbgw.conf" <<CONF
gateway: { mode = "inline"; ports = [ "net_null0", "net_null1" ];
  workers = 1; stats_interval = 0; };
control: { socket = "$socket"; };
CONF
eal_args=(-l 0-1 --no-huge -m 512 --no-pci --file-prefix "$prefix"
	--vdev "net_null0,no-rx=1" --vdev "net_null1,no-rx=1")

ctl() { timeout 10 "$ctl_binary" -s "$socket" "$@"; }

wait_socket() {	# wait_socket SECONDS: until the control socket answers
	local deadline=$((SECONDS + $1))
	while [ "$SECONDS" -lt "$deadline" ]; do
		ctl status >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; then
	echo "systemd is PID 1: the real watchdog"
	unit=smbgw-svtest-$$.service
	sed -e "s|^ExecStartPre=.*|ExecStartPre=$gw_binary --check-config $work/smbgw.conf|" \
		-e "s|^ExecStart=.*|ExecStart=$gw_binary ${eal_args[*]} -- -c $work/smbgw.conf --debug-commands|" \
		-e "s|^EnvironmentFile=.*||" -e "s|^WatchdogSec=.*|WatchdogSec=2s|" \
		"$top/conf/smbgw.service" >"/run/systemd/system/$unit"
	systemctl daemon-reload
	if ! timeout 60 systemctl start "$unit"; then
		bad "systemctl start $unit"
		journalctl -u "$unit" -n 30 --no-pager
		exit 1
	fi
	ok "$unit started (Type=notify: READY=1 was received)"
	first=$(systemctl show -p MainPID --value "$unit")
	wait_socket 20 || bad "control socket does not answer"
	ctl debug stall-worker 0 >/dev/null || bad "debug stall-worker 0 refused"
	restarted=""
	for _ in $(seq 1 40); do
		sleep 0.5
		pid=$(systemctl show -p MainPID --value "$unit")
		if [ "$pid" != "$first" ] && [ "$pid" != 0 ] &&
				[ "$(systemctl is-active "$unit")" = active ]; then
			restarted=$pid
			break
		fi
	done
	if [ -n "$restarted" ]; then
		ok "watchdog restart: MainPID $first -> $restarted, NRestarts $(systemctl show -p NRestarts --value "$unit")"
	else
		bad "no restart within 20 s of the stall"
		journalctl -u "$unit" -n 30 --no-pager
	fi
	journalctl -u "$unit" --no-pager 2>/dev/null | grep -i watchdog | tail -3
	[ "$failures" -eq 0 ] || { echo "FAIL: $failures checks"; exit 1; }
	echo "PASS"
	exit 0
fi

echo "systemd is not PID 1 (PID 1 is $(ps -p 1 -o comm= 2>/dev/null || echo unknown)): emulating its notification socket"

# 1. Without --debug-commands the stall is refused.
"$gw_binary" "${eal_args[@]}" -- -c "$work/smbgw.conf" </dev/null >"$work/plain.log" 2>&1 &
gw_pid=$!
if ! wait_socket 30; then
	bad "the gateway did not start"; tail -20 "$work/plain.log"; exit 1
fi
if out=$(ctl debug stall-worker 0 2>&1); then
	bad "debug stall-worker accepted without --debug-commands: $out"
else
	ok "debug stall-worker refused without --debug-commands ($out)"
fi
kill -TERM "$gw_pid"; wait "$gw_pid"; gw_pid=""

# 2. The watchdog protocol.
python3 "$here/notify_listen.py" "$work/notify.sock" >"$work/notify.log" 2>&1 &
listener_pid=$!
for _ in $(seq 1 50); do
	grep -q LISTENING "$work/notify.log" 2>/dev/null && break
	sleep 0.1
done
NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=1000000 \
	"$gw_binary" "${eal_args[@]}" -- -c "$work/smbgw.conf" --debug-commands \
	</dev/null >"$work/gateway.log" 2>&1 &
gw_pid=$!
wait_socket 30 || { bad "the gateway did not start"; tail -20 "$work/gateway.log"; exit 1; }

# count MESSAGE FROM TO: messages MESSAGE received between epoch times.
count() {
	awk -v m="$1" -v from="$2" -v to="$3" \
		'$2 == m && $1 >= from && $1 < to { n++ } END { print n + 0 }' "$work/notify.log"
}
last_at() {	# last_at MESSAGE BEFORE: epoch time of the last MESSAGE before BEFORE
	awk -v m="$1" -v before="$2" '$2 == m && $1 < before { t = $1 } END { printf "%.3f\n", t }' "$work/notify.log"
}
now() { date +%s.%N; }
calc() { awk "BEGIN { OFMT = \"%.6f\"; print $* }"; }	# calc EXPRESSION (OFMT: epoch seconds, not %.6g)

# The listener logs what it receives a moment later on a busy machine.
for _ in $(seq 1 50); do
	grep -q ' READY=1' "$work/notify.log" && break
	sleep 0.1
done
if grep -q ' READY=1' "$work/notify.log"; then
	ok "READY=1: $(grep ' READY=1' "$work/notify.log" | cut -d' ' -f2-)"
else
	bad "no READY=1"
fi
sleep 3
t=$(now)
beats=$(count WATCHDOG=1 "$(calc "$t - 3")" "$t")
if [ "$beats" -ge 4 ]; then
	ok "$beats WATCHDOG=1 in 3 s while the worker runs"
else
	bad "only $beats WATCHDOG=1 in 3 s while the worker runs"
fi

stalled_at=$(now)
ctl debug stall-worker 0 >/dev/null || bad "debug stall-worker 0 refused"
sleep 5
resumed_at=$(now)
last=$(last_at WATCHDOG=1 "$resumed_at")
late=$(calc "$last - $stalled_at")
if [ "$(calc "$late <= 2.0")" = 1 ]; then
	ok "last WATCHDOG=1 ${late} s after the stall (watchdog 1 s: within 2 intervals)"
else
	bad "WATCHDOG=1 still sent ${late} s after the stall"
fi
if grep -q 'worker 0 (lcore 1) made no progress' "$work/gateway.log"; then
	ok "the stall is logged: $(grep -o 'worker 0 (lcore 1) made no progress.*' "$work/gateway.log")"
else
	bad "no log line for the stall"
fi
if grep -q 'STATUS=worker 0 stalled' "$work/notify.log"; then ok "STATUS names the stalled worker"; else bad "no STATUS for the stall"; fi

ctl debug resume-worker 0 >/dev/null || bad "debug resume-worker 0 refused"
sleep 2
again=$(count WATCHDOG=1 "$resumed_at" "$(now)")
if [ "$again" -ge 2 ]; then ok "resumed: $again WATCHDOG=1 in 2 s"; else bad "resumed: only $again WATCHDOG=1 in 2 s"; fi

kill -TERM "$gw_pid"
wait "$gw_pid"; status=$?; gw_pid=""
sleep 0.2
if [ "$status" -eq 0 ]; then ok "exit 0 on SIGTERM"; else bad "exit status $status"; tail -20 "$work/gateway.log"; fi
if grep -q ' STOPPING=1' "$work/notify.log"; then ok "STOPPING=1 at shutdown"; else bad "no STOPPING=1"; fi

[ "$failures" -eq 0 ] || { echo "FAIL: $failures checks"; sed 's/^/  notify| /' "$work/notify.log" | tail -30; exit 1; }
echo "PASS"
