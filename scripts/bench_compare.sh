#!/bin/bash
# Two builds side by side in one run: instructions per frame of the data
# plane, worker_handle_burst of `smbgw -r` under callgrind (deterministic),
# less flowlog_add: offline, each event reaches the control side's log,
# detector and report inline from the worker, which live it does on the
# control core through the event ring. On the
# SMB mixes of scripts/bench_stream.sh (psexec x10 flows, copy x2), with
# stream normalisation on and checksums left to the NIC, the configuration
# of a port with RX checksum offload. Prints both figures and the ratio
# (current / baseline): how much a change costs the SMB path per packet.
#
# usage: scripts/bench_compare.sh [--offline] BASELINE_SMBGW [CURRENT_SMBGW]
#   e.g. a worktree of the commit before the change, built with
#   `meson setup build-perf -Dnative=false -Dtests=false` (callgrind cannot
#   run AVX-512 code); CURRENT_SMBGW defaults to build-perf/app/smbgw.
#   --offline  also prints what `smbgw -r` does per frame as it runs by
#              default: the default configuration (TCP checksums summed
#              in software) and worker_handle_burst whole, the control
#              side it calls inline included: the work behind the
#              offline Mpps of scripts/bench_offline.sh.
set -euo pipefail

offline=0
if [ "${1:-}" = "--offline" ]; then
	offline=1
	shift
fi
root=$(cd "$(dirname "$0")/.." && pwd)
baseline=${1:?usage: bench_compare.sh BASELINE_SMBGW [CURRENT_SMBGW]}
current=${2:-$root/build-perf/app/smbgw}
tool=$root/tests/lib/pcap_tool.py
pcaps=$root/tests/pcaps
work=$(mktemp -d /tmp/smbgw-bench-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT

command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
/usr/bin/python3 "$tool" flows "$pcaps/psexec_smb2.pcap" "$work/psexec.pcap" 10
/usr/bin/python3 "$tool" flows "$pcaps/benign_copy_smb2.pcap" "$work/copy.pcap" 2
printf 'gateway: { ports = [ "a", "b" ]; };\nstream: { checksum = "off"; };\n' \
	>"$work/offload.conf"

# per_frame BINARY MIX: instructions per frame in worker_handle_burst,
# less what flowlog_add (the control side) took of them.
per_frame() {
	local out=$work/$2-$RANDOM.callgrind frames
	env -u MALLOC_PERTURB_ valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$1" -r "$work/$2.pcap" -c "$work/offload.conf" >"$out.stdout" 2>/dev/null
	frames=$(grep -m1 '^packets: ' "$out.stdout" | awk '{ print $2 }')
	callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$out" |
		awk -v n="$frames" '
			/:worker_handle_burst( |$)/ {
				gsub(",", "", $1); if ($1 + 0 > w + 0) w = $1 }
			/:flowlog_add( |$)/ {
				gsub(",", "", $1); if ($1 + 0 > c + 0) c = $1 }
			END { printf "%.1f", (w - c) / n }'
}

# whole_frame BINARY MIX: instructions per frame in worker_handle_burst,
# control side included, in the default configuration.
whole_frame() {
	local out=$work/$2-$RANDOM.callgrind frames
	env -u MALLOC_PERTURB_ valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$1" -r "$work/$2.pcap" >"$out.stdout" 2>/dev/null
	frames=$(grep -m1 '^packets: ' "$out.stdout" | awk '{ print $2 }')
	callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$out" |
		awk -v n="$frames" '
			/:worker_handle_burst( |$)/ {
				gsub(",", "", $1); if ($1 + 0 > w + 0) w = $1 }
			END { printf "%.1f", w / n }'
}

printf "%-8s %12s %12s %10s\n" mix baseline current ratio
for mix in psexec copy; do
	a=$(per_frame "$baseline" "$mix")
	b=$(per_frame "$current" "$mix")
	awk -v m="$mix" -v a="$a" -v b="$b" 'BEGIN {
		printf "%-8s %12s %12s %9.3fx\n", m, a, b, b / a }'
done
if [ "$offline" = 1 ]; then
	echo "smbgw -r as by default (software checksums, control side inline):"
	for mix in psexec copy; do
		a=$(whole_frame "$baseline" "$mix")
		b=$(whole_frame "$current" "$mix")
		awk -v m="$mix" -v a="$a" -v b="$b" 'BEGIN {
			printf "%-8s %12s %12s %9.3fx\n", m, a, b, b / a }'
	done
fi
