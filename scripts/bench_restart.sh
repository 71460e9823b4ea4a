#!/bin/bash
# Restart to first forwarded packet (`make bench`): how long the wire is
# cut when the gateway dies and is started again at once, as
# Restart=always does (plus its RestartSec=, 500 ms in conf/smbgw.service).
#
# In a netns.sh topology, smbgw bridges two af_packet ports. Each run kills
# it with SIGKILL, starts it again on the same file prefix and control
# socket (so the start cleans what the killed one left), while the client
# sends a TCP SYN to the server's port 445 every 5 ms
# (tests/bench/restart_probe.py); the time from the kill to the first
# connection that completes is the outage. Also reported: from the kill to
# READY=1 on an emulated NOTIFY_SOCKET (what systemd would see).
#
# usage: scripts/bench_restart.sh [BUILD_DIR]
# environment: BENCH_RESTARTS (runs, default 7)
# Results: stdout and BUILD/bench-restart.txt. Needs root; exit 77 otherwise.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
runs=${BENCH_RESTARTS:-7}
scripts=$top/scripts
results=$build/bench-restart.txt

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: bench_restart.sh needs root (network namespaces, af_packet)"
	exit 77
fi
gw_binary=$build/app/smbgw
[ -x "$gw_binary" ] || { echo "bench_restart.sh: $gw_binary missing: make build" >&2; exit 1; }

gw_work=$(mktemp -d /tmp/smbgw-bench-restart.XXXXXX)
chmod 0711 "$gw_work"
gw_file_prefix=sv-bench-restart-$$
listener_pid=""
export SMBGW_NETNS_PREFIX=svb$$
export SMBGW_IF_A=svba$$
export SMBGW_IF_B=svbb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_STATS_INTERVAL=0
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

cleanup() {
	gw_cleanup
	[ -z "$listener_pid" ] || { kill "$listener_pid" 2>/dev/null; wait "$listener_pid" 2>/dev/null; }
	timeout 60 "$scripts/netns.sh" down >/dev/null 2>&1 || echo "bench_restart.sh: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

in_background timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; echo "bench_restart.sh: could not set up the namespaces" >&2; exit 1; }
python3 "$top/tests/supervise/notify_listen.py" "$gw_work/notify.sock" >"$gw_work/notify.log" 2>&1 &
listener_pid=$!
export NOTIFY_SOCKET=$gw_work/notify.sock
gw_start "$gw_work/gateway.log"
gw_wait_forwarding client 30 || { echo "bench_restart.sh: the gateway does not forward" >&2; exit 1; }

memory=$(eal_memory_options)
outages=()
readies=()
for run in $(seq 1 "$runs"); do
	sleep 1
	"$scripts/netns.sh" exec client python3 "$top/tests/bench/restart_probe.py" \
		198.18.2.20 445 0.005 30 >"$gw_work/probe.out" &
	probe_pid=$!
	sleep 0.3	# the probe runs: its SYNs cross the running gateway
	# ... and are answered; a probe that got through already is restarted.
	if ! kill -0 "$probe_pid" 2>/dev/null; then
		"$scripts/netns.sh" exec client python3 "$top/tests/bench/restart_probe.py" \
			198.18.2.20 445 0.005 30 >"$gw_work/probe.out" &
		probe_pid=$!
	fi
	kill -KILL "$gw_pid"
	killed=$(date +%s.%N)
	wait "$gw_pid" 2>/dev/null
	gw_pid=""
	gw_start "$gw_work/gateway.log"
	if ! wait "$probe_pid"; then
		echo "run $run: no connection within 30 s of the restart" >&2
		gw_wait_forwarding client 30 || exit 1
		continue
	fi
	first=$(cat "$gw_work/probe.out")
	ready=$(awk -v after="$killed" '$2 ~ /^READY=1/ && $1 > after { print $1; exit }' "$gw_work/notify.log")
	outage=$(awk -v a="$killed" -v b="$first" 'BEGIN { printf "%.3f", b - a }')
	outages+=("$outage")
	if [ -n "$ready" ]; then
		readies+=("$(awk -v a="$killed" -v b="$ready" 'BEGIN { printf "%.3f", b - a }')")
	fi
	printf 'run %d: kill to first forwarded SYN %s s, to READY=1 %s s\n' "$run" "$outage" \
		"${readies[-1]:-?}"
done

stats() {	# stats VALUES...: min median max
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "none"; exit }
		printf "min %.3f s, median %.3f s, max %.3f s (%d runs)", v[1], v[int((NR + 1) / 2)], v[NR], NR }'
}
{
	echo "restart to first forwarded packet (kill -9, immediate start, af_packet ports, EAL memory: ${memory:-hugepages}, $(nproc) cores)"
	echo "  kill to first forwarded SYN: $(stats "${outages[@]}")"
	echo "  kill to READY=1:             $(stats "${readies[@]}")"
} | tee "$results"
[ ${#outages[@]} -gt 0 ]
