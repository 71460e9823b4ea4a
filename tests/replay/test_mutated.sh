#!/bin/bash
# Damaged captures (bytes flipped, frames cut short, random frames,
# duplicates, disorder) through the whole pipeline: every run exits 0 with
# every frame accounted for. The parsers' own sanitizer-built fuzzing is the
# fuzz suite; this is the same promise for the gateway around them.
# usage: test_mutated.sh SMBGW_BINARY PCAPS_DIR [ROUNDS]
set -euo pipefail

smbgw=$1
pcaps=$2
rounds=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
work=$(mktemp -d /tmp/smbgw-mutated.XXXXXX)
trap 'rm -rf "$work"' EXIT
runs=0

for seed in $(seq 1 "$rounds"); do
	for capture in psexec_smb2 psexec_smb1 smb2_basic tunnel_port8445 nbss_port139 atexec_smb2 \
			tunnel_gre_frag_psexec tunnel_nested_psexec; do
		/usr/bin/python3 "$here/../lib/pcap_tool.py" mutate "$pcaps/$capture.pcap" \
			"$work/m.pcap" "$seed"
		if ! "$smbgw" -r "$work/m.pcap" >"$work/out" 2>&1; then
			cp "$work/m.pcap" "/tmp/smbgw-mutated-$capture-$seed.pcap"
			echo "FAIL: $capture seed $seed: exit status $? (kept as /tmp/smbgw-mutated-$capture-$seed.pcap)"
			tail -20 "$work/out"
			exit 1
		fi
		row=$(counters_row "$work/out" counters "$work/m.pcap" rx=tx+drop)
		[ "$row" = ok ] || { echo "FAIL: $capture seed $seed: accounting $row"; exit 1; }
		runs=$((runs + 1))
	done
done
echo "PASS: $runs damaged captures analysed, every frame accounted for"
