#!/bin/bash
# Live forwarding benchmark (`make bench`): smbgw beside dpdk-testpmd in io
# forwarding (the baseline), each bridging the same two memif ports, driven
# by tests/bench/memif_gen in the same run, case by case:
#
#	memif_gen port 0 <-> DUT net_memif0 (A)   DUT net_memif1 (B) <-> memif_gen port 1
#
# For each case and device: Mpps that came through, TSC cycles per packet
# of the forwarding lcore (smbgw: `smbgwctl stats` cycles_per_packet;
# testpmd: --record-core-cycles), and smbgw/testpmd. Both count only
# cycles spent on non-empty receive bursts. Results: stdout and
# $BUILD/bench-results.txt.
#
# On a 2-core machine the generator's lcore shares core 0 with the DUT's
# main lcore: testpmd's sleeps at its prompt, smbgw's control lcore works
# in proportion to the events it drains (a few percent of core 0 without
# SMB, up to half of it in a SYN storm). The DUT's one forwarding lcore has
# core 1. Both DUTs run in exactly that arrangement.
#
# usage: scripts/bench.sh [BUILD_DIR]
# environment: BENCH_SECONDS (5), BENCH_WARMUP (1), BENCH_ROUNDS (3: each
#   case runs testpmd then smbgw this many times, in rounds across the
#   cases, each keeps its best; BENCH_MAX_ROUNDS (6): more rounds for a
#   case while other work disturbed all of its runs),
#   BENCH_CASES (all: tcp64 imix smb-1k smb-100k smb-1m smb-1m-storm syn
#   policy-1000), BENCH_RAMP_LIMIT (300: most seconds a closed-loop SMB
#   case waits for every flow's logon before its window),
#   MEMIF_GEN (path of the generator; default BUILD/tests/bench/memif_gen,
#   compiled with gcc from tests/bench/memif_gen.c when missing),
#   BENCH_KEEP (set: keep the work directory with every run's output)
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$top/scripts/bench_lib.sh"
build=${1:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
ramp_limit=${BENCH_RAMP_LIMIT:-300}
rounds=${BENCH_ROUNDS:-3}
cases=${BENCH_CASES:-"tcp64 imix smb-1k smb-100k smb-1m smb-1m-storm syn policy-1000"}
smbgw=$build/app/smbgw
smbgwctl=$build/app/smbgwctl
pcaps="$top/tests/pcaps/psexec_smb2.pcap $top/tests/pcaps/benign_copy_smb2.pcap"
run=/run/smbgw-bench
work=$(mktemp -d /tmp/smbgw-bench.XXXXXX)
[ -n "${BENCH_KEEP:-}" ] && echo "bench: work files in $work"
results=$build/bench-results.txt

die() { echo "bench: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (hugepages, memif sockets in $run)"
[ -x "$smbgw" ] || die "$smbgw missing: build first (make build)"
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (apt-get install dpdk)"
[ "$(nproc)" -ge 2 ] || die "needs 2 cores"

"$top/scripts/hugepages.sh" 2048
grep -qs ' hugetlbfs ' /proc/mounts || die "needs hugepages (memif shares hugepage memory)"

gen=$(memif_gen_binary "$build" "$work" "$top") || die "cannot compile memif_gen"

mkdir -p "$run"
dut_pid=
gen_pid=
cleanup() {
	[ -n "$gen_pid" ] && kill "$gen_pid" 2>/dev/null
	[ -n "$dut_pid" ] && kill "$dut_pid" 2>/dev/null
	wait 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
	rm -f "$run"/*.sock
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dut_vdevs() {
	echo "--vdev net_memif0,role=server,id=0,socket=$run/a.sock,socket-abstract=no" \
		"--vdev net_memif1,role=server,id=0,socket=$run/b.sock,socket-abstract=no"
}
gen_vdevs() {
	echo "--vdev net_memif0,role=client,id=0,socket=$run/a.sock,socket-abstract=no" \
		"--vdev net_memif1,role=client,id=0,socket=$run/b.sock,socket-abstract=no"
}

# Policy with 1,000 segments: 998 client /24s inside 10.0.0.0/14 (where
# memif_gen's clients live), the rest of 10.0.0.0/8, and the servers; two
# conditional rules for every pair, then one allow rule per client
# segment, default deny: 1,001 rules.
write_policy() {
	local i
	echo "policy: {"
	echo "  mode = \"enforce\"; default_action = \"deny\"; deny_action = \"reset\";"
	echo "  segments = ("
	for ((i = 0; i < 998; i++)); do
		printf '    { name = "clients%03d"; prefixes = [ "10.%d.%d.0/24" ]; },\n' \
			"$i" $((i / 256)) $((i % 256))
	done
	echo '    { name = "other-clients"; prefixes = [ "10.0.0.0/8" ]; },'
	echo '    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; }'
	echo "  );"
	echo "  rules = ("
	echo '    { name = "no-smb1"; from = "any"; to = "any"; action = "deny"; dialect = "smb1"; },'
	echo '    { name = "admin-shares"; from = "any"; to = "any"; action = "monitor"; share_class = "admin_share"; },'
	for ((i = 0; i < 998; i++)); do
		printf '    { from = "clients%03d"; to = "servers"; action = "allow"; },\n' "$i"
	done
	echo '    { from = "other-clients"; to = "servers"; action = "allow"; }'
	echo "  );"
	echo "};"
}

# write_config FILE MAX_FLOWS WITH_POLICY (parser states: flows.sessions
# follows max_flows)
write_config() {
	cat >"$1" <<-EOF
	gateway: {
	  mode = "inline";
	  ports = [ "net_memif0", "net_memif1" ];
	  workers = 1;
	  fail_mode = "open";
	  burst_size = 32;
	  stats_interval = 0;
	};
	memory: { rx_descriptors = 1024; tx_descriptors = 1024; };
	flows: { max_flows = $2; };
	control: { socket = "$run/ctl.sock"; };
	EOF
	[ "$3" = yes ] && write_policy >>"$1"
}

# Case table: generator arguments, smbgw flow table and parser states.
# The closed-loop session mixes ramp up first, as RFC 9411 measures
# throughput in a sustain phase after connections were opened at a rate:
# flows start one after another over -r seconds (about the time a flow
# takes through psexec's session at that many flows: a pass over the
# flows is one client step, some 0.13 s at 100k flows and 1.3 s at 1M), and
# the window starts once every flow has logged on (-e). In the window the
# flows are then spread over their sessions, from logon to service calls
# and bulk writes, instead of all being at the same frame: started
# together, every flow is in its handshake, NEGOTIATE and logon for the
# first seconds and then all in the same tree connects and opens.
# smb-1m-storm keeps that: the million flows started at once and measured
# from the first second, a connection set-up rate (as syn is), not
# sessions under way.
case_gen_args() {
	case $1 in
	tcp64) echo "-m tcp -f 1000" ;;
	imix) echo "-m imix -f 1000" ;;
	smb-1k) echo "-m smb -a -f 1000 $pcaps" ;;
	smb-100k) echo "-m smb -a -c -r 10 -e $ramp_limit -f 100000 $pcaps" ;;
	smb-1m) echo "-m smb -a -c -r 60 -e $ramp_limit -f 1000000 $pcaps" ;;
	smb-1m-storm) echo "-m smb -a -c -f 1000000 $pcaps" ;;
	syn) echo "-m syn" ;;
	policy-1000) echo "-m smb -a -c -r 10 -e $ramp_limit -f 100000 $pcaps" ;;
	*) return 1 ;;
	esac
}
case_title() {
	case $1 in
	tcp64) echo "non-SMB TCP, 64 B, 1k flows" ;;
	imix) echo "IMIX 64/594/1518 7:4:1, 1k flows" ;;
	smb-1k) echo "SMB session mix, 1k flows" ;;
	smb-100k) echo "SMB session mix, 100k flows" ;;
	smb-1m) echo "SMB session mix, 1M flows" ;;
	smb-1m-storm) echo "SMB 1M flows, all logging on" ;;
	syn) echo "SYN storm (bare SYNs to 445)" ;;
	policy-1000) echo "SMB mix 100k flows, 1,000 segments" ;;
	esac
}
case_max_flows() {
	case $1 in smb-1m | smb-1m-storm | syn) echo 1048576 ;; *) echo 262144 ;; esac
}
# Every smbgw case runs with the default buffers (16,383 per port) and
# kept segments (8,192). A segment is kept until its receiver acknowledges
# it; the SMB cases' receivers acknowledge at once (memif_gen -a), so what
# is kept is bounded by the frames in flight (about 2,000 at most), not by
# the flows. Before -a the captures' receivers acknowledged bulk writes
# every few dozen segments, a flow's round trip was a pass over all flows,
# and the 100k and 1M cases dropped millions of segments for room
# (docs/benchmarks.md, "Issue 18 round").

# start_gen CASE OUT: the generator on lcore 0, lingering until stopped.
start_gen() {
	rm -f "$2"
	# shellcheck disable=SC2046
	"$gen" -l 0 --file-prefix smbgw-bench-gen --no-pci --no-telemetry \
		--log-level=lib.eal:error $(gen_vdevs) -- \
		$(case_gen_args "$1") -t "$seconds" -w "$warmup" -k 60 \
		>"$2" 2>&1 &
	gen_pid=$!
}

# run_gen CASE OUT [AT_WINDOW]: the generator until its RESULT line,
# running the command AT_WINDOW when its measured window starts; a
# generator that could not connect (the device's sockets not yet
# listening) is started again, up to 3 times. Returns 1 without a result.
run_gen() {
	local try i windowed

	for try in 1 2 3; do
		start_gen "$1" "$2"
		windowed=
		for ((i = 0; i < (seconds + warmup + ramp_limit + 30) * 10; i++)); do
			if [ -z "$windowed" ] && grep -qs -- "^WINDOW" "$2"; then
				windowed=yes
				[ -n "${3:-}" ] && $3
			fi
			grep -qs -- "^RESULT" "$2" && return 0
			kill -0 "$gen_pid" 2>/dev/null || break
			sleep 0.1
		done
		stop_gen
		sleep 1
	done
	echo "bench: memif_gen gave no result:" >&2
	tail -3 "$2" >&2
	return 1
}


# run_delay PID [COMM]: ms the threads of PID (only those named COMM)
# spent runnable but waiting for a CPU (/proc/PID/task/*/schedstat).
run_delay() {
	local t total=0 d

	for t in /proc/"$1"/task/*; do
		[ -n "${2:-}" ] && [ "$(cat "$t/comm" 2>/dev/null)" != "$2" ] && continue
		d=$(awk '{ print int($2 / 1000000) }' "$t/schedstat" 2>/dev/null)
		total=$((total + ${d:-0}))
	done
	echo "$total"
}

# dut_cpu PID: ms on a CPU of the threads of PID other than its forwarding
# lcore (testpmd's prompt, smbgw's control lcore: on the generator's core).
dut_cpu() {
	local t total=0 c

	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ] && continue
		c=$(awk '{ print int($1 / 1000000) }' "$t/schedstat" 2>/dev/null)
		total=$((total + ${c:-0}))
	done
	echo "$total"
}

# disturbed DUT_PID GEN_OUT OWN_MS: percent of the run for which the
# generator or the device's forwarding lcore waited for a CPU taken by
# other work (both spin, so on a quiet machine neither waits). The
# generator's wait less OWN_MS, the device's own CPU on the generator's
# core during the run (dut_cpu), which is the benchmark, not other work.
disturbed() {
	local g d w

	g=$(run_delay "$gen_pid")
	d=$(run_delay "$1" rte-worker-1)
	w=$(sed -n 's/^RESULT.* warmup_s=\([0-9.]*\).*/\1/p' "$2")
	awk -v g="$g" -v o="${3:-0}" -v d="$d" -v s="$seconds" -v w="${w:-$warmup}" 'BEGIN {
		g -= o; if (g < 0) g = 0
		m = g > d ? g : d; printf "%.1f", 100 * m / 1000 / (s + w) }'
}


# Prints "MPPS CYCLES" for testpmd on CASE, or "- -".
run_testpmd() {
	local out=$work/testpmd.out gout=$work/gen-testpmd.out
	local mpps cycles busy own

	rm -f "$run"/*.sock
	if ! testpmd_start "$out" "$work/stdin" 1 \
			"-l 0-1 --main-lcore 0 --file-prefix smbgw-bench-dut $(dut_vdevs)"; then
		echo "- -"
		return
	fi
	own=$(dut_cpu "$dut_pid")
	run_gen "$1" "$gout"
	own=$(($(dut_cpu "$dut_pid") - own))
	busy=$(disturbed "$dut_pid" "$gout" "$own")
	testpmd_stop
	stop_gen
	mpps=$(sed -n 's/^RESULT.* rx_mpps=\([0-9.]*\).*/\1/p' "$gout")
	cycles=$(testpmd_cycles "$out")
	{ cat "$gout"; echo "testpmd: CPU taken by other work: ${busy}% (its own lcores beside the generator: ${own} ms)"; grep "CPU cycles" "$out"; } >>"$work/log"
	echo "${mpps:--} ${cycles:--} ${busy:-100}"
}

# window_stats: smbgw's counters when the generator's window starts.
window_stats() {
	"$smbgwctl" -s "$run/ctl.sock" --json stats >"$work/smbgwctl.window" 2>&1
}

# window_cycles AT_WINDOW AT_END: the forwarding lcore's cycles per packet
# over the generator's window (from two `smbgwctl --json stats`), else
# over the whole run.
window_cycles() {
	/usr/bin/python3 - "$1" "$2" <<-'EOF'
	import json, sys

	def worker(path):
	    try:
	        with open(path) as f:
	            w = json.load(f)["result"]["workers"][0]
	        return w["rx"], w["rx"] * w["cycles_per_packet"]
	    except (OSError, ValueError, KeyError, IndexError):
	        return None
	start, end = worker(sys.argv[1]), worker(sys.argv[2])
	if end is None:
	    sys.exit(0)
	if start is not None and end[0] > start[0]:
	    print("%.1f" % ((end[1] - start[1]) / (end[0] - start[0])))
	else:
	    print("%.1f" % (end[1] / end[0] if end[0] else 0))
	EOF
}

# Prints "MPPS CYCLES" for smbgw on CASE, or "- -".
run_smbgw() {
	local out=$work/smbgw.out gout=$work/gen-smbgw.out conf=$work/smbgw.conf
	local policy=no mpps cycles busy own

	[ "$1" = policy-1000 ] && policy=yes
	write_config "$conf" "$(case_max_flows "$1")" "$policy"
	rm -f "$run"/*.sock
	# shellcheck disable=SC2046
	"$smbgw" -l 0-1 --main-lcore 0 --file-prefix smbgw-bench-dut \
		--no-pci $(dut_vdevs) -- -c "$conf" \
		>"$out" 2>&1 &
	dut_pid=$!
	if ! wait_for "$out" "inline mode on" 120; then
		echo "bench: smbgw did not start:" >&2
		tail -5 "$out" >&2
		kill "$dut_pid" 2>/dev/null; wait "$dut_pid"; dut_pid=
		echo "- -"
		return
	fi
	rm -f "$work/smbgwctl.window"
	own=$(dut_cpu "$dut_pid")
	run_gen "$1" "$gout" window_stats
	own=$(($(dut_cpu "$dut_pid") - own))
	busy=$(disturbed "$dut_pid" "$gout" "$own")
	"$smbgwctl" -s "$run/ctl.sock" --json stats >"$work/smbgwctl.out" 2>&1
	kill -TERM "$dut_pid"
	wait "$dut_pid"
	dut_pid=
	stop_gen
	mpps=$(sed -n 's/^RESULT.* rx_mpps=\([0-9.]*\).*/\1/p' "$gout")
	cycles=$(window_cycles "$work/smbgwctl.window" "$work/smbgwctl.out")
	{ cat "$gout"; echo "smbgw: CPU taken by other work: ${busy}% (its own lcores beside the generator: ${own} ms)"; cat "$work/smbgwctl.out"; sed -n '/final counters/,$p' "$out"; } >>"$work/log"
	echo "${mpps:--} ${cycles:--} ${busy:-100}"
}

# clean TP GW: 1 when both have an undisturbed run, else 0.
clean() {
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
		print (x[3] < 5 && y[3] < 5) ? 1 : 0 }'
}

# best OLD NEW: of two "MPPS CYCLES DISTURBED%" runs, the undisturbed one
# (other work took under 5% of the run), else the higher Mpps.
best() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, " "); split(b, y, " ");
		if (x[1] == "-") { print b; exit }
		if (y[1] == "-") { print a; exit }
		qa = x[3] < 5; qb = y[3] < 5;
		if (qa != qb) { print (qb ? b : a); exit }
		print (y[1] + 0 > x[1] + 0 ? b : a) }'
}

ghz=$(awk '/^cpu MHz/ { printf "%.2f", $4 / 1000; exit }' /proc/cpuinfo)
{
	echo "== live forwarding: smbgw vs dpdk-testpmd io, memif, $(date -u '+%Y-%m-%d %H:%M UTC') =="
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), ${ghz} GHz;" \
		"generator lcore 0, DUT -l 0-1 (forwarding lcore 1); ${seconds} s per run after ${warmup} s warm-up, best of ${rounds}"
	printf '%-36s %9s %9s %9s %9s %7s %7s  %s\n' "case" "tp Mpps" "gw Mpps" "tp c/p" "gw c/p" "Mpps" "c/p" "paired Mpps gw/tp"
	printf '%-36s %9s %9s %9s %9s %7s %7s  %s\n' "" "" "" "" "" "gw/tp" "tp/gw" "median (min-max) of rounds"
} | tee "$results"

declare -A tp_best gw_best pairs
for c in $cases; do
	case_gen_args "$c" >/dev/null || die "unknown case $c"
	tp_best[$c]="- - 100"
	gw_best[$c]="- - 100"
	pairs[$c]=
done

# pair_ratio TP_RUN GW_RUN: smbgw's Mpps over testpmd's of one round's
# two runs, taken a few seconds apart, or nothing.
pair_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
		if (x[1] != "-" && y[1] != "-" && x[1] > 0)
			printf "%.3f", y[1] / x[1] }'
}

# paired RATIOS...: "median (min-max)" of the rounds' ratios, or "-".
paired() {
	printf '%s\n' "$@" | sort -n | awk 'NF { v[++n] = $1 } END {
		if (n == 0) { print "-"; exit }
		m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
		printf "%.2f (%.2f-%.2f, %d rounds)", m, v[1], v[n], n }'
}
# Rounds go across the cases, each case running testpmd then smbgw once
# per round: a slow spell of a shared machine (they last minutes) then
# costs one round of several cases, not every round of one. After
# BENCH_ROUNDS, more rounds (up to BENCH_MAX_ROUNDS) only for the cases
# where other work disturbed every run of either device.
for ((r = 0; r < ${BENCH_MAX_ROUNDS:-6}; r++)); do
	ran=
	for c in $cases; do
		if ((r >= rounds)) &&
				(($(clean "${tp_best[$c]}" "${gw_best[$c]}") != 0)); then
			continue
		fi
		wait_quiet 120 >/dev/null
		tp_run=$(run_testpmd "$c")
		tp_best[$c]=$(best "${tp_best[$c]}" "$tp_run")
		wait_quiet 120 >/dev/null
		gw_run=$(run_smbgw "$c")
		gw_best[$c]=$(best "${gw_best[$c]}" "$gw_run")
		pairs[$c]="${pairs[$c]} $(pair_ratio "$tp_run" "$gw_run")"
		ran=yes
	done
	[ -n "$ran" ] || break
done
for c in $cases; do
	# shellcheck disable=SC2086
	set -- ${tp_best[$c]} ${gw_best[$c]}
	flag=
	awk -v a="$3" -v b="$6" 'BEGIN { exit !(a >= 5 || b >= 5) }' &&
		flag=" (busy $3/$6%)"
	# shellcheck disable=SC2086
	p=$(paired ${pairs[$c]})
	awk -v t="$(case_title "$c")$flag" -v tm="$1" -v tc="$2" -v gm="$4" -v gc="$5" -v p="$p" 'BEGIN {
		r = (tm > 0 && gm != "-") ? sprintf("%.2f", gm / tm) : "-";
		q = (tc > 0 && gc > 0) ? sprintf("%.2f", tc / gc) : "-";
		printf "%-36s %9s %9s %9s %9s %7s %7s  %s\n", t, tm, gm, tc, gc, r, q, p }' |
		tee -a "$results"
done
{
	echo
	echo "tp = dpdk-testpmd --forward-mode=io, gw = smbgw; c/p = TSC cycles of the"
	echo "forwarding lcore per packet on non-empty bursts; Mpps = frames that came"
	echo "back to the generator (both directions for SMB); the generator shares its"
	echo "core with the DUT's main lcore, so Mpps is bounded by it when c/p is low."
	echo "Each run waits for a quiet machine (other jobs under 10% CPU) and measures"
	echo "how long the generator and the forwarding lcore waited for a CPU taken by"
	echo "other work (the device's own main or control lcore, on the generator's"
	echo "core, is not other work: its CPU time is taken off); runs under 5% are"
	echo "preferred, and \"busy T/G%\" marks a case where no run of testpmd (T) or"
	echo "smbgw (G) was that clean. smbgw's control lcore, draining events, takes"
	echo "a few percent of the generator's core with non-SMB traffic and 15-20% in"
	echo "the SMB cases. The machine's speed changes by several times within minutes:"
	echo "a best run of either device may fall in a fast spell the other never had,"
	echo "so the paired column takes each round's two runs, seconds apart, as one"
	echo "ratio and gives the median over the rounds. The closed-loop SMB mixes"
	echo "(100k and 1M flows, 1,000 segments) start their flows over 10 s (1M: 60 s)"
	echo "and measure once all have logged on (warmup_s in each RESULT line);"
	echo "\"all logging on\" is a million flows started at once, measured from 1 s."
	echo
	echo "== logs =="
	cat "$work/log"
} >>"$results"
echo "bench: results and logs in $results"
