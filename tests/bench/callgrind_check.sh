#!/bin/bash
# Instructions per packet of `smbgw -r` under callgrind, against a committed
# baseline: a repeatable regression check for the fast path (instruction
# counts do not depend on machine load, unlike timings).
#
# usage: callgrind_check.sh [--update] SMBGW_BINARY [BASELINE]
#   BASELINE defaults to callgrind-baseline.txt beside this script.
#   --update (or SMBGW_CALLGRIND_UPDATE=1) writes the figures measured now
#   into BASELINE instead of comparing: do it deliberately, in the commit
#   that changes the cost, and say why in its message.
#   SMBGW_CALLGRIND_TOLERANCE: allowed regression in percent (default 10).
#
# Inputs, all generated here and identical on every run:
#   empty      a capture with no frames: start-up and shut-down only
#   fast-path  20,000 64-byte frames of established non-SMB TCP (TLS
#              record bytes to port 443) over 256 connections
#   smb        psexec_smb2.pcap as 10 distinct flows (1,220 frames)
# For each traffic case two figures per packet:
#   total   (Ir of the run - Ir of the empty run) / frames: everything
#           `smbgw -r` does per frame, reading the capture included
#   worker  Ir inclusive of worker_handle_burst() / frames: the gateway
#           pipeline alone (what a live worker runs per frame)
# A figure more than the tolerance above its baseline fails the check
# (exit 1). Exit 77 (skipped) when valgrind is missing or cannot run the
# binary: callgrind (3.19) does not know AVX-512, so a binary built with
# -march=native on an AVX-512 machine needs -Dc_args=-mno-avx512f.
set -euo pipefail

update=${SMBGW_CALLGRIND_UPDATE:-0}
if [ "${1:-}" = "--update" ]; then
	update=1
	shift
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 [--update] SMBGW_BINARY [BASELINE]" >&2
	exit 2
fi
smbgw=$1
here=$(cd "$(dirname "$0")" && pwd)
baseline=${2:-$here/callgrind-baseline.txt}
tolerance=${SMBGW_CALLGRIND_TOLERANCE:-10}
pcaps=$here/../pcaps
python=/usr/bin/python3
work=$(mktemp -d /tmp/smbgw-callgrind.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
	echo "SKIP: valgrind (Debian package valgrind) is not installed"
	exit 77
fi

"$python" "$here/../lib/pcap_tool.py" tcp64 "$work/fast-path.pcap" 20000 256
"$python" "$here/../lib/pcap_tool.py" flows "$pcaps/psexec_smb2.pcap" \
	"$work/smb.pcap" 10
head -c 24 "$work/fast-path.pcap" >"$work/empty.pcap"

# run NAME: Ir of `smbgw -r NAME.pcap` under callgrind and the inclusive
# Ir of worker_handle_burst(), as "TOTAL WORKER" into NAME.ir.
run() {
	local name=$1 out=$work/$1.callgrind
	# meson test sets MALLOC_PERTURB_ to a random value: glibc then fills
	# allocations, which changes the counts from run to run.
	if ! env -u MALLOC_PERTURB_ valgrind --tool=callgrind \
			--callgrind-out-file="$out" \
			"$smbgw" -r "$work/$name.pcap" >"$work/$name.stdout" \
			2>"$work/$name.stderr"; then
		if grep -q 'unhandled instruction\|Unrecognised instruction' \
				"$work/$name.stderr"; then
			echo "SKIP: valgrind cannot run $smbgw (AVX-512?); build it" \
				"with -Dc_args=-mno-avx512f" >&2
			exit 77
		fi
		echo "FAIL: smbgw -r $name.pcap under callgrind:" >&2
		tail -5 "$work/$name.stderr" >&2
		exit 1
	fi
	callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$out" |
		awk '
			/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
			# Listed once per source file that contributed code
			# (inlined headers) and once in all: the largest.
			/:worker_handle_burst( |$)/ {
				gsub(",", "", $1)
				if ($1 + 0 > worker + 0) worker = $1
			}
			END { print total, (worker == "" ? 0 : worker) }' \
		>"$work/$name.ir"
}

frames() {
	grep -m1 '^packets: ' "$work/$1.stdout" | awk '{ print $2 }'
}

run empty
read -r empty_total _ <"$work/empty.ir"
declare -A figure
for name in fast-path smb; do
	run "$name"
	read -r total worker <"$work/$name.ir"
	n=$(frames "$name")
	figure[${name}_total]=$(awk -v t="$total" -v e="$empty_total" -v n="$n" \
		'BEGIN { printf "%.1f", (t - e) / n }')
	figure[${name}_worker]=$(awk -v w="$worker" -v n="$n" \
		'BEGIN { printf "%.1f", w / n }')
done
keys="fast-path_total fast-path_worker smb_total smb_worker"
valgrind_version=$(valgrind --version)
compiler=$(readelf -p .comment "$smbgw" 2>/dev/null |
	grep -o 'GCC: .*\|clang version [^ ]*' | head -1 || true)
# The build's c_args, when the binary sits in a meson build directory.
c_args=$("$python" -c 'import json, sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == "c_args": print(" ".join(o["value"]) or "none")' \
	"$(dirname "$smbgw")/../meson-info/intro-buildoptions.json" 2>/dev/null || true)

if [ "$update" = 1 ]; then
	{
		echo "# Instructions per packet of smbgw -r under callgrind, written by"
		echo "# tests/bench/callgrind_check.sh --update; compared by the same script."
		echo "# Start-up instructions (empty capture): $empty_total"
		echo "# $valgrind_version; binary built by ${compiler:-unknown compiler}"
		echo "# meson c_args of that build: ${c_args:-unknown}"
		for key in $keys; do
			echo "$key ${figure[$key]}"
		done
	} >"$baseline"
	echo "baseline written to $baseline:"
	grep -v '^#' "$baseline"
	exit 0
fi

if [ ! -r "$baseline" ]; then
	echo "FAIL: no baseline $baseline (run with --update to create it)"
	exit 1
fi
if ! grep -qF "$valgrind_version; binary built by ${compiler:-unknown compiler}" \
		"$baseline"; then
	echo "note: baseline made with another valgrind or compiler:"
	grep '^# valgrind' "$baseline" || true
fi
status=0
printf "%-18s %12s %12s %8s\n" "instructions/frame" baseline now change
for key in $keys; do
	old=$(awk -v k="$key" '$1 == k { print $2 }' "$baseline")
	now=${figure[$key]}
	if [ -z "$old" ]; then
		printf "%-18s %12s %12s\n" "$key" - "$now"
		continue
	fi
	verdict=$(awk -v o="$old" -v n="$now" -v t="$tolerance" 'BEGIN {
		c = (n - o) * 100 / o
		printf "%+.1f%% %s", c, (c > t ? "REGRESSION" : (c < -t ? "improved" : "ok")) }')
	printf "%-18s %12s %12s %8s\n" "$key" "$old" "$now" "$verdict"
	case $verdict in
	*REGRESSION) status=1 ;;
	esac
done
echo "start-up (empty capture): $empty_total instructions"
if [ $status -ne 0 ]; then
	echo "FAIL: more than $tolerance% above the baseline; if intended, run" \
		"$0 --update $smbgw and commit the baseline with the reason"
else
	echo "PASS: callgrind fast path within $tolerance% of the baseline"
fi
exit $status
