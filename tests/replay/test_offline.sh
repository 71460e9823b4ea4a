#!/bin/bash
# Offline mode on one capture: exits 0, and its summary counts exactly the
# packets capinfos counts, every one accounted for.
# usage: test_offline.sh SMBGW_BINARY CAPTURE
set -euo pipefail

smbgw=$1
capture=$2
output=$("$smbgw" -r "$capture" 2>&1) || {
	echo "FAIL: smbgw -r $capture exited $?"
	echo "$output"
	exit 1
}
expected=$(capinfos -c -M "$capture" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
counted=$(echo "$output" | awk '/^packets:/ {print $2}')
row=$(echo "$output" | awk -v f="$capture" '$1 == f {print $2, $3, $6, $7}')
echo "$output"
[ "$counted" = "$expected" ] || { echo "FAIL: summary says $counted packets, capinfos $expected"; exit 1; }
[ "$row" = "$expected 0 $expected ok" ] || { echo "FAIL: accounting row '$row'"; exit 1; }
echo "PASS: $(basename "$capture"): $counted packets"
