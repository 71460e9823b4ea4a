# shellcheck shell=bash
# Helpers shared by the memif benchmarks (scripts/bench.sh,
# scripts/bench_scale.sh); sourced, not run. The caller sets gen_pid when
# it starts the generator.

# wait_for FILE PATTERN SECONDS: 0 when PATTERN shows up in FILE in time.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qs -- "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

# wait_quiet DEFAULT_SECONDS: waits until no other work uses the CPUs (at
# most BENCH_QUIET_WAIT s, else DEFAULT_SECONDS): other jobs on a shared
# machine slow either side at random. Prints nothing when quiet, else
# "busy" (the caller flags the run).
wait_quiet() {
	local i busy

	for ((i = 0; i < ${BENCH_QUIET_WAIT:-$1}; i++)); do
		busy=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
		sleep 1
		busy=$(awk -v b="$busy" '/^cpu / { split(b, o, " ");
			u = $2 + $3 + $4 + $7 + $8 - o[1]; d = $5 + $6 - o[2];
			print int(100 * u / (u + d + 1)) }' /proc/stat)
		[ "$busy" -lt 10 ] && return 0
	done
	echo busy
}

# Stops the generator: SIGTERM, then SIGKILL after 5 s, so that none is
# left holding its file prefix or reconnecting to the next device.
stop_gen() {
	local i

	[ -n "$gen_pid" ] || return 0
	kill -TERM "$gen_pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$gen_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$gen_pid" 2>/dev/null
	wait "$gen_pid" 2>/dev/null
	gen_pid=
}
