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

# memif_gen_binary BUILD WORK TOP: the traffic source's path: MEMIF_GEN,
# else BUILD's, else compiled into WORK from TOP's sources as meson builds
# it (with the flow affinity it spreads by). Returns 1 when it cannot be
# compiled.
memif_gen_binary() {
	local gen=${MEMIF_GEN:-$1/tests/bench/memif_gen}

	if [ ! -x "$gen" ]; then
		gen=$2/memif_gen
		echo "$1/tests/bench/memif_gen not built, compiling $gen" >&2
		# shellcheck disable=SC2046
		gcc -O2 -march=native -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API \
			-I"$3/dataplane" -I"$3/dataplane/flow" -o "$gen" \
			"$3/tests/bench/memif_gen.c" "$3/dataplane/affinity.c" \
			$(pkg-config --cflags --libs libdpdk) -lpcap >&2 ||
			return 1
	fi
	echo "$gen"
}

# testpmd_start OUT FIFO CORES "EAL_OPTIONS": dpdk-testpmd in io
# forwarding with CORES forwarding cores and queues per port, its output in
# OUT, its prompt fed from FIFO (held open as fd 3 until testpmd_stop).
# Sets dut_pid. Returns 1, having said why and cleaned up, when it did not
# come up.
testpmd_start() {
	rm -f "$2"
	mkfifo "$2"
	# shellcheck disable=SC2086
	stdbuf -oL dpdk-testpmd $4 --no-pci --no-telemetry -- \
		--forward-mode=io --nb-cores="$3" --rxq="$3" --txq="$3" \
		--rxd=1024 --txd=1024 --burst=32 --auto-start \
		--total-num-mbufs=32766 --mbcache=256 \
		--record-core-cycles <"$2" >"$1" 2>&1 &
	dut_pid=$!
	exec 3>"$2"
	wait_for "$1" "Press enter to exit" 30 && return 0
	echo "testpmd did not start:" >&2
	tail -5 "$1" >&2
	exec 3>&-
	kill "$dut_pid" 2>/dev/null
	wait "$dut_pid"
	dut_pid=
	return 1
}

# testpmd_stop: ends testpmd at its prompt (it prints its statistics).
testpmd_stop() {
	echo >&3
	exec 3>&-
	wait "$dut_pid"
	dut_pid=
}

# testpmd_cycles OUT: the forwarding cores' cycles per packet testpmd
# printed at its end.
testpmd_cycles() {
	sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$1" | tail -1
}
