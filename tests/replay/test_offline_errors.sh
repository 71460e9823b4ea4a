#!/bin/bash
# Offline mode refuses what it cannot read with one clear line and exit 1.
# usage: test_offline_errors.sh SMBGW_BINARY
set -euo pipefail

smbgw=$1
work=$(mktemp -d /tmp/smbgw-offline.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

# expect_error DESCRIPTION PATTERN COMMAND...
expect_error() {
	local what=$1 pattern=$2 output code=0
	shift 2
	output=$("$@" 2>&1) || code=$?
	if [ "$code" -ne 1 ] || ! grep -q -- "$pattern" <<<"$output"; then
		echo "FAIL: $what: exit $code, output:"
		echo "$output"
		status=1
	else
		echo "ok: $what: $(grep -- "$pattern" <<<"$output" | head -1)"
	fi
}

printf 'not a capture at all\n' >"$work/text.pcap"
head -c 100 "$(dirname "$0")/../pcaps/smb2_basic.pcap" >"$work/cut.pcap"
# A Linux cooked (SLL) capture header: valid pcap, not Ethernet.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x71\x00\x00\x00' >"$work/sll.pcap"

expect_error "missing file" "cannot read $work/none.pcap" "$smbgw" -r "$work/none.pcap"
expect_error "not a capture" "cannot read $work/text.pcap" "$smbgw" -r "$work/text.pcap"
expect_error "capture cut short" "reading the capture" "$smbgw" -r "$work/cut.pcap"
expect_error "not Ethernet" "is not Ethernet" "$smbgw" -r "$work/sll.pcap"
expect_error "bad config" "out of range" "$smbgw" -r "$work/cut.pcap" -c /dev/stdin <<<'gateway: { ports = ["a", "b"]; mtu = 1; };'
expect_error "unknown option" "usage" "$smbgw" -r "$work/cut.pcap" -x
exit $status
