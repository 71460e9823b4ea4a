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
# Damaged records, as smbgw reads classic pcap files itself: an Ethernet
# capture header (snapshot length 65535), then record headers (time 0,
# captured length, length on the wire) in its byte order.
ethernet='\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00'
ethernet_be='\xa1\xb2\xc3\xd4\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x00\x01'
record_60='\x00\x00\x00\x00\x00\x00\x00\x00\x3c\x00\x00\x00\x3c\x00\x00\x00'
record_1000='\x00\x00\x00\x00\x00\x00\x00\x00\xe8\x03\x00\x00\xe8\x03\x00\x00'
record_1000_be='\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\xe8\x00\x00\x03\xe8'
record_2g='\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\x7f\xff\xff\xff\x7f'
{ printf "$ethernet$record_60"; head -c 60 /dev/zero; printf '\x01\x02\x03\x04\x05\x06\x07'; } >"$work/record-cut.pcap"
{ printf "$ethernet$record_60"; head -c 60 /dev/zero; printf "$record_1000"; head -c 60 /dev/zero; } >"$work/frame-cut.pcap"
{ printf "$ethernet_be$record_1000_be"; head -c 60 /dev/zero; } >"$work/frame-cut-be.pcap"
{ printf "$ethernet$record_2g"; head -c 60 /dev/zero; } >"$work/frame-2g.pcap"

expect_error "missing file" "cannot read $work/none.pcap" "$smbgw" -r "$work/none.pcap"
expect_error "not a capture" "cannot read $work/text.pcap" "$smbgw" -r "$work/text.pcap"
expect_error "capture cut short" "reading the capture" "$smbgw" -r "$work/cut.pcap"
expect_error "not Ethernet" "is not Ethernet" "$smbgw" -r "$work/sll.pcap"
expect_error "record header cut short" "reading the capture: truncated dump file; tried to read 16 header bytes, only got 7" \
	"$smbgw" -r "$work/record-cut.pcap"
expect_error "frame past the end of the file" "reading the capture: truncated dump file; tried to read 1000 captured bytes, only got 60" \
	"$smbgw" -r "$work/frame-cut.pcap"
expect_error "frame past the end (big-endian)" "reading the capture: truncated dump file; tried to read 1000 captured bytes, only got 60" \
	"$smbgw" -r "$work/frame-cut-be.pcap"
expect_error "absurd frame length" "reading the capture: invalid packet capture length 2147483647" \
	"$smbgw" -r "$work/frame-2g.pcap"
echo 'gateway: { ports = ["a", "b"]; mtu = 1; };' >"$work/bad.conf"
expect_error "bad config" "bad.conf:1: gateway.mtu = 1 is out of range" "$smbgw" -r "$work/cut.pcap" -c "$work/bad.conf"
# A configuration is a regular file: not a pipe, not even standard input.
expect_error "config on a pipe" "/dev/stdin:0: refused: a FIFO, not a regular file" \
	bash -c 'echo "gateway: { ports = [\"a\", \"b\"]; };" | "$0" -r "$1" -c /dev/stdin' \
	"$smbgw" "$work/cut.pcap"
expect_error "unknown option" "usage" "$smbgw" -r "$work/cut.pcap" -x
exit $status
