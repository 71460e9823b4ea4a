#!/bin/bash
# What stream normalisation costs the SMB path, side by side in one run:
# instructions per frame of `smbgw -r` under callgrind (deterministic, so
# the figures compare exactly) on SMB mixes built from the real captures,
# with the normaliser off (the parsers order what they can), on with the
# checksum left to the NIC (stream.checksum = "off": what a port with RX
# checksum offload pays), and on with the checksum summed in software.
# Prints instructions per frame in worker_handle_burst and the ratios to
# "off". Figures and discussion: docs/benchmarks.md.
#
# usage: scripts/bench_stream.sh [SMBGW_BINARY]
#   SMBGW_BINARY  default build-perf/app/smbgw (portable build: callgrind
#                 cannot run AVX-512 code)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
smbgw=${1:-$root/build-perf/app/smbgw}
tool=$root/tests/lib/pcap_tool.py
pcaps=$root/tests/pcaps
work=$(mktemp -d /tmp/smbgw-bench-stream.XXXXXX)
trap 'rm -rf "$work"' EXIT

command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
/usr/bin/python3 "$tool" flows "$pcaps/psexec_smb2.pcap" "$work/psexec.pcap" 10
/usr/bin/python3 "$tool" flows "$pcaps/benign_copy_smb2.pcap" "$work/copy.pcap" 2

# conf NAME STREAM_GROUP: a configuration whose stream group is STREAM_GROUP.
conf() {
	printf 'gateway: { ports = [ "a", "b" ]; };\nstream: { %s };\n' "$2" \
		>"$work/$1.conf"
}
conf off 'mode = "off";'
conf offload 'checksum = "off";'
conf software 'checksum = "auto";'

# per_frame MIX CONF: instructions per frame in worker_handle_burst.
per_frame() {
	local out=$work/$1-$2.callgrind frames
	env -u MALLOC_PERTURB_ valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$smbgw" -r "$work/$1.pcap" -c "$work/$2.conf" >"$work/$1-$2.stdout" 2>/dev/null
	frames=$(grep -m1 '^packets: ' "$work/$1-$2.stdout" | awk '{ print $2 }')
	callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$out" |
		awk -v n="$frames" '/:worker_handle_burst( |$)/ {
			gsub(",", "", $1); if ($1 + 0 > w + 0) w = $1 }
			END { printf "%.1f", w / n }'
}

printf "%-8s %12s %12s %12s %10s %10s\n" mix off offload software \
	"offload/off" "software/off"
for mix in psexec copy; do
	off=$(per_frame "$mix" off)
	offload=$(per_frame "$mix" offload)
	software=$(per_frame "$mix" software)
	awk -v m="$mix" -v a="$off" -v b="$offload" -v c="$software" 'BEGIN {
		printf "%-8s %12s %12s %12s %9.2fx %9.2fx\n", m, a, b, c, b / a, c / a }'
done
