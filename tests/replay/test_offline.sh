#!/bin/bash
# Offline mode on one capture: exits 0, and its summary counts exactly the
# packets capinfos counts, every one accounted for.
# usage: test_offline.sh SMBGW_BINARY CAPTURE
set -euo pipefail

. "$(dirname "$0")/../lib/dpdk_env.sh"
smbgw=$1
capture=$2
output=$("$smbgw" -r "$capture" 2>&1) || {
	echo "FAIL: smbgw -r $capture exited $?"
	echo "$output"
	exit 1
}
expected=$(capinfos -c -M "$capture" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
counted=$(echo "$output" | awk '/^packets:/ {print $2}')
row=$(counters_row <(echo "$output") counters "$capture" rx tx receive_only rx=tx+drop)
echo "$output"
[ "$counted" = "$expected" ] || { echo "FAIL: summary says $counted packets, capinfos $expected"; exit 1; }
[ "$row" = "$expected 0 $expected ok" ] || { echo "FAIL: accounting row '$row'"; exit 1; }
echo "PASS: $(basename "$capture"): $counted packets"
