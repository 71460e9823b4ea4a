#!/bin/bash
# Scaling benchmark (`make bench`): smbgw with 1 worker and with 2, beside
# dpdk-testpmd io forwarding with 1 forwarding core and with 2, over the
# same memif arrangement as scripts/bench.sh, each port with as many queue
# pairs as workers; tests/bench/memif_gen spreads the flows over the
# queues (-q, -d) and sends from one lcore per given generator CPU.
#
#	memif_gen port 0 <-> DUT net_memif0 (A)   DUT net_memif1 (B) <-> memif_gen port 1
#	   queue i                 queue i -> worker i <- queue i                 queue i
#
# For each case and device: Mpps through, TSC cycles per packet of the
# forwarding lcores on non-empty bursts (all of them together, and for
# smbgw each worker's own from `smbgwctl stats`), the ratios 2/1 of Mpps
# and of cycles per packet. smbgw with 2 workers runs once per spread:
# "owner" (the generator puts each address pair on the queue of the worker
# that owns it, as a NIC with symmetric RSS would put a connection on one
# queue: nothing crosses between workers) and "flow" (a symmetric spread
# that is not smbgw's, so about half the frames reach the other worker and
# cross through the redirect rings, as behind a memif peer that hashes by
# its own rule). Each smbgw run is checked: every port, every worker and
# every queue balances (rx + redirected_in == tx + drops + ... +
# redirected_out), both workers received, the redirected frames all
# arrived (out == in; none with "owner"), and the gateway received every
# frame the generator sent.
#
# A second worker only helps when each spinning thread (forwarding lcores,
# generator lcores) has a CPU of its own and the control lcore another:
# 1 + 2 + 2 = 5 CPUs. With fewer, threads share CPUs and time-slice (a
# descheduled worker's queue fills and stalls the generator, its busy
# cycles include the other's slices): the script says so, still runs and
# records the figures, which then show cost and correctness, not scaling.
#
# usage: scripts/bench_scale.sh [options] [BUILD_DIR]
#   --main-cpu CPU       the DUT's main (control) lcore (default 0)
#   --worker-cpus A,B    worker (forwarding lcore) 1 on A, 2 on B
#                        (default 1,2 with 5 CPUs or more, else 1,1)
#   --gen-cpus A[,B]     generator lcores, one per queue at most
#                        (default 3,4 with 5 CPUs or more, else 0)
#   --cases LIST         space-separated: tcp64 smb-1k smb-100k
#                        (default "tcp64 smb-100k")
#   --spreads LIST       spreads for smbgw's 2-worker runs (default
#                        "owner flow")
# environment: BENCH_SECONDS (5), BENCH_WARMUP (1), BENCH_ROUNDS (1: each
#   run this many times, keeping the best), BENCH_QUIET_WAIT (60: seconds
#   each run waits for other work to leave the CPUs), MEMIF_GEN (path of the
#   generator; default BUILD/tests/bench/memif_gen, compiled with gcc when
#   missing), BENCH_KEEP (set: keep the work directory)
# Results: stdout and BUILD/bench-scale-results.txt. Exit 1 when a
# correctness check failed.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$top/scripts/bench_lib.sh"
cpus=$(nproc)
main_cpu=0
if [ "$cpus" -ge 5 ]; then
	worker_cpus=1,2
	gen_cpus=3,4
else
	worker_cpus=1,1
	gen_cpus=0
fi
cases="tcp64 smb-100k"
spreads="owner flow"
build=

die() { echo "bench-scale: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--main-cpu) main_cpu=$2; shift 2 ;;
	--worker-cpus) worker_cpus=$2; shift 2 ;;
	--gen-cpus) gen_cpus=$2; shift 2 ;;
	--cases) cases=$2; shift 2 ;;
	--spreads) spreads=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 0 ;;
	-*) die "unknown option $1 (--help)" ;;
	*) build=$1; shift ;;
	esac
done
build=${build:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
rounds=${BENCH_ROUNDS:-1}
smbgw=$build/app/smbgw
smbgwctl=$build/app/smbgwctl
pcaps="$top/tests/pcaps/psexec_smb2.pcap $top/tests/pcaps/benign_copy_smb2.pcap"
run=/run/smbgw-bench-scale
work=$(mktemp -d /tmp/smbgw-bench-scale.XXXXXX)
results=$build/bench-scale-results.txt
[ -n "${BENCH_KEEP:-}" ] && echo "bench-scale: work files in $work"

IFS=, read -r worker_cpu1 worker_cpu2 <<<"$worker_cpus"
[ -n "${worker_cpu2:-}" ] || die "--worker-cpus needs two CPUs (A,B)"
IFS=, read -r -a gen_cpu_list <<<"$gen_cpus"
[ "${#gen_cpu_list[@]}" -ge 1 ] && [ "${#gen_cpu_list[@]}" -le 2 ] ||
	die "--gen-cpus takes one or two CPUs"
for c in "$main_cpu" "$worker_cpu1" "$worker_cpu2" "${gen_cpu_list[@]}"; do
	[[ $c =~ ^[0-9]+$ ]] && [ "$c" -lt "$cpus" ] ||
		die "CPU '$c' is not one of 0-$((cpus - 1))"
done

[ "$(id -u)" -eq 0 ] || die "needs root (hugepages, memif sockets in $run)"
[ -x "$smbgw" ] || die "$smbgw missing: build first (make build)"
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (apt-get install dpdk)"
command -v jq >/dev/null || die "jq missing (scripts/deps.sh)"
"$top/scripts/hugepages.sh" 2048
grep -qs ' hugetlbfs ' /proc/mounts || die "needs hugepages (memif shares hugepage memory)"

gen=$(memif_gen_binary "$build" "$work" "$top") || die "cannot compile memif_gen"

# Spinning threads of a 2-worker run: 2 forwarding lcores and the
# generator's lcores, each wanting a CPU of its own, none on the control
# lcore's CPU. Anything less shares.
shared=
needed=$((1 + 2 + ${#gen_cpu_list[@]}))
distinct=$(printf '%s\n' "$main_cpu" "$worker_cpu1" "$worker_cpu2" "${gen_cpu_list[@]}" | sort -u | wc -l)
if [ "$distinct" -lt "$needed" ]; then
	shared="$cpus CPUs on this machine; control $main_cpu, workers $worker_cpus, generator $gen_cpus: spinning threads share CPUs"
	{
		echo "bench-scale: NOTE: $shared."
		echo "bench-scale: NOTE: a second worker cannot be faster here (needs $needed distinct CPUs: 1 control + 2 workers + ${#gen_cpu_list[@]} generator);"
		echo "bench-scale: NOTE: the figures are recorded for cost and correctness, not as scaling."
	} >&2
fi

mkdir -p "$run"
# EAL file prefixes of this run's own, removed at exit.
gen_prefix=smbgw-bench-scale-gen-$$
dut_prefix=smbgw-bench-scale-dut-$$
dut_pid=
gen_pid=
failed=
cleanup() {
	[ -n "$gen_pid" ] && kill "$gen_pid" 2>/dev/null
	[ -n "$dut_pid" ] && kill "$dut_pid" 2>/dev/null
	wait 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
	rm -f "$run"/*.sock "$run"/*.sock.lock
	rmdir "$run" 2>/dev/null
	rm -rf "/var/run/dpdk/$gen_prefix" "/var/run/dpdk/$dut_prefix"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

vdevs() {
	echo "--vdev net_memif0,role=$1,id=0,socket=$run/a.sock,socket-abstract=no" \
		"--vdev net_memif1,role=$1,id=0,socket=$run/b.sock,socket-abstract=no"
}

# dut_lcores WORKERS: the EAL lcore map of the device under test.
dut_lcores() {
	if [ "$1" -eq 1 ]; then
		echo "--lcores 0@$main_cpu,1@$worker_cpu1 --main-lcore 0"
	else
		echo "--lcores 0@$main_cpu,1@$worker_cpu1,2@$worker_cpu2 --main-lcore 0"
	fi
}

# gen_lcores QUEUES: one generator lcore per given CPU, at most QUEUES.
gen_lcores() {
	local i map=

	for ((i = 0; i < ${#gen_cpu_list[@]} && i < $1; i++)); do
		map="$map${map:+,}$i@${gen_cpu_list[$i]}"
	done
	echo "--lcores $map --main-lcore 0"
}

case_gen_args() {
	case $1 in
	tcp64) echo "-m tcp -f 1000" ;;
	smb-1k) echo "-m smb -a -f 1000 $pcaps" ;;
	smb-100k) echo "-m smb -a -f 100000 $pcaps" ;;
	*) return 1 ;;
	esac
}
case_title() {
	case $1 in
	tcp64) echo "non-SMB TCP, 64 B, 1k flows" ;;
	smb-1k) echo "SMB session mix, 1k flows" ;;
	smb-100k) echo "SMB session mix, 100k flows" ;;
	esac
}
# Flow table and parser states of the whole gateway: each worker gets its
# share, so that 2 workers hold what 1 does at the same load.
case_max_flows() { echo 262144; }
case_sessions() {
	case $1 in tcp64 | smb-1k) echo 4096 ;; *) echo 131072 ;; esac
}

# write_config FILE CASE WORKERS
write_config() {
	cat >"$1" <<-EOF
	gateway: {
	  mode = "inline";
	  ports = [ "net_memif0", "net_memif1" ];
	  workers = $3;
	  fail_mode = "open";
	  burst_size = 32;
	  stats_interval = 0;
	};
	memory: { mbufs = 16383; rx_descriptors = 1024; tx_descriptors = 1024; };
	flows: { max_flows = $(($(case_max_flows "$2") / $3)); sessions = $(($(case_sessions "$2") / $3)); };
	control: { socket = "$run/ctl.sock"; };
	EOF
}




# run_gen CASE QUEUES SPREAD OUT: the generator until its RESULT line
# (started again, up to 3 times, when it could not connect).
run_gen() {
	local try i

	for _ in 1 2 3; do
		rm -f "$4"
		# shellcheck disable=SC2046
		"$gen" $(gen_lcores "$2") --file-prefix "$gen_prefix" \
			--no-pci --no-telemetry --log-level=lib.eal:error \
			$(vdevs client) -- $(case_gen_args "$1") -q "$2" -d "$3" \
			-t "$seconds" -w "$warmup" -k 60 >"$4" 2>&1 &
		gen_pid=$!
		for ((i = 0; i < (seconds + warmup + 30) * 10; i++)); do
			grep -qs -- "^RESULT" "$4" && return 0
			kill -0 "$gen_pid" 2>/dev/null || break
			sleep 0.1
		done
		stop_gen
		sleep 1
	done
	echo "bench-scale: memif_gen gave no result:" >&2
	tail -3 "$4" >&2
	return 1
}

result_field() {
	sed -n "s/^RESULT.* $2=\([^ ]*\).*/\1/p" "$1"
}

# run_testpmd CASE CORES: prints "MPPS C/P - - -".
run_testpmd() {
	local out=$work/testpmd.out gout=$work/gen.out
	local mpps cycles

	rm -f "$run"/*.sock
	if ! testpmd_start "$out" "$work/stdin" "$2" \
			"$(dut_lcores "$2") --file-prefix $dut_prefix $(vdevs server)"; then
		echo "- - - - -"
		return
	fi
	run_gen "$1" "$2" owner "$gout"
	testpmd_stop
	stop_gen
	mpps=$(result_field "$gout" rx_mpps)
	cycles=$(testpmd_cycles "$out")
	{
		echo "-- testpmd, $2 forwarding cores, $1"
		grep '^memif_gen' "$gout"
		grep -E 'CPU cycles|Forward Stats for RX|RX-packets: [0-9]+ +TX-packets' "$out"
	} >>"$work/log"
	echo "${mpps:--} ${cycles:--} - - -"
}

# check_smbgw STATS GEN_OUT WORKERS SPREAD: "ok", or what failed.
check_smbgw() {
	local stats=$1 gout=$2 problems=() out in sent received

	[ "$(jq '[.result.ports[] | select(.balanced | not)] | length' "$stats")" = 0 ] ||
		problems+=("port unbalanced")
	[ "$(jq '[.result.workers[] | select(.balanced | not)] | length' "$stats")" = 0 ] ||
		problems+=("worker unbalanced")
	[ "$(jq '[.result.workers[].queues[] | select(.balanced | not)] | length' "$stats")" = 0 ] ||
		problems+=("queue unbalanced")
	[ "$(jq '[.result.workers[] | select(.rx > 0)] | length' "$stats")" = "$3" ] ||
		problems+=("a worker received nothing")
	out=$(jq '[.result.workers[].redirected_out] | add' "$stats")
	in=$(jq '[.result.workers[].redirected_in] | add' "$stats")
	[ "$out" = "$in" ] || problems+=("redirected out $out != in $in")
	if [ "$3" -gt 1 ]; then
		if [ "$4" = owner ]; then
			[ "$out" = 0 ] || problems+=("$out frames crossed with the owner spread")
		else
			[ "$out" -gt 0 ] || problems+=("no frame crossed with the flow spread")
		fi
	fi
	sent=$(result_field "$gout" total_tx)
	received=$(jq '[.result.ports[].rx] | add' "$stats")
	[ "${sent:-x}" = "$received" ] ||
		problems+=("generator sent ${sent:-?}, gateway received $received")
	if [ "${#problems[@]}" -eq 0 ]; then
		echo ok
	else
		local IFS=';'
		echo "FAIL:${problems[*]}" | tr ' ' '_'	# one word in the table
	fi
}

# run_smbgw CASE WORKERS SPREAD: prints "MPPS C/P PER-WORKER-C/P
# REDIRECTED CHECK".
run_smbgw() {
	local out=$work/smbgw.out gout=$work/gen.out conf=$work/smbgw.conf
	local stats=$work/stats.json mpps cycles per_worker redirected check i

	write_config "$conf" "$1" "$2"
	rm -f "$run"/*.sock
	# shellcheck disable=SC2046
	"$smbgw" $(dut_lcores "$2") --file-prefix "$dut_prefix" \
		--no-pci $(vdevs server) -- -c "$conf" >"$out" 2>&1 &
	dut_pid=$!
	if ! wait_for "$out" "inline mode on" 120; then
		echo "bench-scale: smbgw did not start:" >&2
		tail -5 "$out" >&2
		kill "$dut_pid" 2>/dev/null; wait "$dut_pid"; dut_pid=
		echo "- - - - FAIL:no-start"
		return
	fi
	run_gen "$1" "$2" "$3" "$gout"
	# The last frames through the rings: until the gateway has received
	# all the generator sent and the owners all that was redirected to
	# them, for 2 s at most.
	for ((i = 0; i < 20; i++)); do
		"$smbgwctl" -s "$run/ctl.sock" --json stats >"$stats" 2>&1
		[ "$(jq '[.result.ports[].rx] | add' "$stats" 2>/dev/null)" = \
			"$(result_field "$gout" total_tx)" ] &&
			jq -e '.result.workers | (map(.redirected_out) | add) ==
				(map(.redirected_in) | add)' "$stats" >/dev/null 2>&1 &&
			break
		sleep 0.1
	done
	kill -TERM "$dut_pid"
	wait "$dut_pid"
	dut_pid=
	stop_gen
	mpps=$(result_field "$gout" rx_mpps)
	# All workers: their busy cycles over their frames.
	cycles=$(jq '.result.workers | (map(.cycles_per_packet * .rx) | add) /
		(map(.rx) | add) | . * 10 | round / 10' "$stats" 2>/dev/null)
	per_worker=$(jq -r '[.result.workers[] | .cycles_per_packet | . * 10 | round / 10 | tostring] | join("/")' "$stats" 2>/dev/null)
	redirected=$(jq '[.result.workers[].redirected_out] | add' "$stats" 2>/dev/null)
	check=$(check_smbgw "$stats" "$gout" "$2" "$3" 2>/dev/null)
	{
		echo "-- smbgw, $2 workers, $3 spread, $1: $check"
		grep '^memif_gen' "$gout"
		jq -c '.result.workers[] | {worker, lcore, rx, cycles_per_packet, redirected_out, redirected_in, flows_created, smb_messages, balanced}' "$stats"
		jq -c '.result.workers[].queues[]' "$stats"
		sed -n '/final counters/,/^fragments:/p' "$out"
		grep -E '^(queue|device|stream):? ' "$out"
	} >>"$work/log"
	echo "${mpps:--} ${cycles:--} ${per_worker:--} ${redirected:--} ${check:-FAIL:no-stats}"
}

# best OLD NEW: the run with more Mpps, a failed check kept over any pass.
best() {
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
		if (x[1] == "") { print b; exit }
		if (y[5] ~ /^FAIL/) { print b; exit }
		if (x[5] ~ /^FAIL/) { print a; exit }
		print (y[1] + 0 > x[1] + 0 ? b : a) }'
}

ghz=$(awk '/^cpu MHz/ { printf "%.2f", $4 / 1000; exit }' /proc/cpuinfo)
{
	echo "== scaling: 1 and 2 workers, smbgw and dpdk-testpmd io, memif, $(date -u '+%Y-%m-%d %H:%M UTC') =="
	echo "machine: $cpus CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), ${ghz} GHz;" \
		"control lcore on CPU $main_cpu, workers on CPUs $worker_cpus, generator on CPUs $gen_cpus;" \
		"${seconds} s per run after ${warmup} s warm-up, best of ${rounds}"
	[ -n "$shared" ] && echo "NOTE: $shared: a second worker cannot be faster here; the figures show cost and correctness, not scaling."
	printf '%-30s %-8s %2s %-6s %7s %7s %-15s %9s  %s\n' case device w spread Mpps c/p "c/p per worker" redirected check
} | tee "$results"

for c in $cases; do
	case_gen_args "$c" >/dev/null || die "unknown case $c"
done
busy_runs=0
for c in $cases; do
	declare -A row=()
	for ((r = 0; r < rounds; r++)); do
		[ -n "$(wait_quiet 60)" ] && busy_runs=$((busy_runs + 1))
		row[tp1]=$(best "${row[tp1]:-}" "$(run_testpmd "$c" 1)")
		[ -n "$(wait_quiet 60)" ] && busy_runs=$((busy_runs + 1))
		row[tp2]=$(best "${row[tp2]:-}" "$(run_testpmd "$c" 2)")
		[ -n "$(wait_quiet 60)" ] && busy_runs=$((busy_runs + 1))
		row[gw1]=$(best "${row[gw1]:-}" "$(run_smbgw "$c" 1 owner)")
		for s in $spreads; do
			[ -n "$(wait_quiet 60)" ] && busy_runs=$((busy_runs + 1))
			row[gw2$s]=$(best "${row[gw2$s]:-}" "$(run_smbgw "$c" 2 "$s")")
		done
	done
	title=$(case_title "$c")
	{
		# shellcheck disable=SC2086
		set -- ${row[tp1]:-- - - - -}; printf '%-30s %-8s %2s %-6s %7s %7s %-15s %9s  %s\n' "$title" testpmd 1 - "$1" "$2" - - -
		# shellcheck disable=SC2086
		set -- ${row[tp2]:-- - - - -}; printf '%-30s %-8s %2s %-6s %7s %7s %-15s %9s  %s\n' "" testpmd 2 owner "$1" "$2" - - -
		# shellcheck disable=SC2086
		set -- ${row[gw1]:-- - - - FAIL:no-run}; printf '%-30s %-8s %2s %-6s %7s %7s %-15s %9s  %s\n' "" smbgw 1 - "$1" "$2" "$3" "$4" "$5"
		for s in $spreads; do
			# shellcheck disable=SC2086
			set -- ${row[gw2$s]:-- - - - FAIL:no-run}; printf '%-30s %-8s %2s %-6s %7s %7s %-15s %9s  %s\n' "" smbgw 2 "$s" "$1" "$2" "$3" "$4" "$5"
		done
		# Ratios 2 workers / 1 worker: Mpps (2.0 is perfect scaling),
		# and cycles per packet (1.0: a second worker costs nothing).
		line="  2/1:"
		# shellcheck disable=SC2086
		line="$line $(awk -v a="${row[tp1]}" -v b="${row[tp2]}" 'BEGIN { split(a, x, " "); split(b, y, " ");
			printf "testpmd Mpps %s c/p %s", (x[1] > 0 ? sprintf("%.2f", y[1] / x[1]) : "-"),
				(x[2] > 0 ? sprintf("%.2f", y[2] / x[2]) : "-") }')"
		for s in $spreads; do
			line="$line; $(awk -v a="${row[gw1]}" -v b="${row[gw2$s]}" -v s="$s" 'BEGIN { split(a, x, " "); split(b, y, " ");
				printf "smbgw (%s) Mpps %s c/p %s", s, (x[1] > 0 ? sprintf("%.2f", y[1] / x[1]) : "-"),
					(x[2] > 0 ? sprintf("%.2f", y[2] / x[2]) : "-") }')"
		done
		echo "$line"
	} | tee -a "$results"
	for k in "${!row[@]}"; do
		case ${row[$k]} in *FAIL*) failed=yes ;; esac
	done
	unset row
done
[ "$busy_runs" -eq 0 ] ||
	echo "NOTE: $busy_runs runs started while other work used the CPUs (waited ${BENCH_QUIET_WAIT:-60} s for a quiet machine)" |
	tee -a "$results"
{
	echo
	echo "w = workers (smbgw) or forwarding cores (testpmd), each port with as many queue"
	echo "pairs; spread = how the generator chose a frame's queue (owner: the worker that"
	echo "owns its address pair; flow: a connection hash that is not smbgw's, so frames"
	echo "cross through the redirect rings); c/p = TSC cycles per packet of all forwarding"
	echo "lcores on non-empty bursts, per worker its own; redirected = frames handed to"
	echo "the other worker; check = every port, worker and queue balances, both workers"
	echo "received, redirected out == in, the gateway received all the generator sent."
	echo "On a machine where each spinning thread has its own CPU, 2/1 Mpps near 2 and"
	echo "c/p near 1 is scaling; with shared CPUs neither can show."
	echo
	echo "== logs =="
	cat "$work/log"
} >>"$results"
echo "bench-scale: results and logs in $results"
[ -z "$failed" ] || { echo "bench-scale: a correctness check failed (see the check column)" >&2; exit 1; }
exit 0
