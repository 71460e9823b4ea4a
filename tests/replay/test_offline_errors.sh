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
# A capture header of link type 147 (USER0): valid pcap, a link not read.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x93\x00\x00\x00' >"$work/user0.pcap"
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
expect_error "link type not read" "link type 147 is not read; offline mode reads Ethernet, LINUX_SLL" \
	"$smbgw" -r "$work/user0.pcap"
expect_error "record header cut short" "reading the capture: truncated dump file; tried to read 16 header bytes, only got 7" \
	"$smbgw" -r "$work/record-cut.pcap"
expect_error "frame past the end of the file" "reading the capture: truncated dump file; tried to read 1000 captured bytes, only got 60" \
	"$smbgw" -r "$work/frame-cut.pcap"
expect_error "frame past the end (big-endian)" "reading the capture: truncated dump file; tried to read 1000 captured bytes, only got 60" \
	"$smbgw" -r "$work/frame-cut-be.pcap"
expect_error "absurd frame length" "reading the capture: invalid packet capture length 2147483647" \
	"$smbgw" -r "$work/frame-2g.pcap"
# pcapng, damaged: written by make_pcapng below.
make_pcapng() {
	/usr/bin/python3 - "$work" <<'PY'
import struct, sys
work = sys.argv[1]

def block(kind, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)

shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
def idb(link):
    return block(1, struct.pack("<HHI", link, 0, 65535))
def epb(iface, frame):
    return block(6, struct.pack("<IIIII", iface, 0, 0, len(frame), len(frame)) + frame)
frame = bytes(60)
files = {
    # a frame on interface 1 of a section that describes only interface 0
    "ng-bad-interface.pcapng": shb + idb(1) + epb(0, frame) + epb(1, frame),
    # the last block cut short by the end of the file
    "ng-cut.pcapng": (shb + idb(1) + epb(0, frame) + epb(0, frame))[:-10],
    # a block whose trailing length disagrees with its leading one
    "ng-lengths.pcapng": shb + idb(1) + epb(0, frame)[:-4] + struct.pack("<I", 8),
    # unknown block types are skipped; an SLL frame shorter than its
    # header and a frame of an interface of a link type not read are
    # dropped and counted; the Ethernet frame is read
    "ng-drops.pcapng": shb + idb(1) + idb(113) + idb(147) +
        block(0x0BAD, b"custom") + epb(1, bytes(10)) + epb(2, frame) +
        epb(0, frame),
}
for name, data in files.items():
    with open(work + "/" + name, "wb") as f:
        f.write(data)
PY
}
make_pcapng
expect_error "pcapng: unknown interface" \
	"reading the capture: a packet at offset 140 arrived on interface 1, but there's no Interface Description Block for that interface" \
	"$smbgw" -r "$work/ng-bad-interface.pcapng"
expect_error "pcapng: block cut short" "reading the capture: block at offset 140 cut short: 92 bytes, only 82 in the file" \
	"$smbgw" -r "$work/ng-cut.pcapng"
expect_error "pcapng: block lengths differ" "reading the capture: block at offset 48: its lengths differ" \
	"$smbgw" -r "$work/ng-lengths.pcapng"
# expect_read DESCRIPTION PATTERN COMMAND...: exit 0 and PATTERN in the output.
expect_read() {
	local what=$1 pattern=$2 output code=0
	shift 2
	output=$("$@" 2>&1) || code=$?
	if [ "$code" -ne 0 ] || ! grep -q -- "$pattern" <<<"$output"; then
		echo "FAIL: $what: exit $code, output:"
		echo "$output"
		status=1
	else
		echo "ok: $what: $(grep -- "$pattern" <<<"$output" | head -1)"
	fi
}
expect_read "pcapng: drops counted, unknown blocks skipped" \
	"^link drops: 2 (header cut short 1, link type not read 1)" \
	"$smbgw" -r "$work/ng-drops.pcapng"
expect_read "pcapng: the Ethernet frame read" "^$work/ng-drops.pcapng *1 " \
	"$smbgw" -r "$work/ng-drops.pcapng"
# A classic Linux cooked capture whose frame is shorter than its header.
{ printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x71\x00\x00\x00'
  printf '\x00\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00\x0a\x00\x00\x00'; head -c 10 /dev/zero; } >"$work/sll-short.pcap"
expect_read "SLL frame cut short" "^link drops: 1 (header cut short 1, link type not read 0)" \
	"$smbgw" -r "$work/sll-short.pcap"
expect_read "SLL frame cut short, through libpcap" "^link drops: 1 (header cut short 1, link type not read 0)" \
	bash -c '"$0" -r - <"$1"' "$smbgw" "$work/sll-short.pcap"
# The mapped reader reads ahead of the record it is on (a window of lines
# prefetched, the first line of each page read): captures that end exactly
# on a page, one line into a page, one byte short of a page, one byte into
# a page, one byte past a four-line prefetch step, shorter than one step,
# and with a record header cut at a page's end. Each must give what libpcap reads
# from the same bytes through standard input (not mapped): the same
# frame count, or the same error.
/usr/bin/python3 - "$work" <<'PY'
import struct, sys
work = sys.argv[1]
header = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)

def capture(size):
    """Whole records of Ethernet frames filling exactly <size> bytes."""
    out, left = bytearray(header), size - len(header)
    while left > 0:
        frame = 1000 if left >= 2 * (16 + 1000) else (
            left - 16 if left <= 16 + 1000 else left // 2 - 16)
        out += struct.pack("<IIII", 0, 0, frame, frame) + bytes(frame)
        left -= 16 + frame
    assert len(out) == size
    return bytes(out)

for name, size in (("page2", 8192), ("page3", 12288),
                   ("page5-line", 5 * 4096 + 64), ("page4-less1", 4 * 4096 - 1),
                   ("page3-byte", 3 * 4096 + 1), ("page6-step", 6 * 4096 + 256 + 1),
                   ("under-step", 200)):
    with open(f"{work}/{name}.pcap", "wb") as f:
        f.write(capture(size))
# The last record's header cut by the end of the third page.
with open(f"{work}/page3-cut.pcap", "wb") as f:
    f.write(capture(12288 - 9) + bytes(9))
PY
for name in page2 page3 page5-line page4-less1 page3-byte page6-step under-step; do
	mapped=$("$smbgw" -r "$work/$name.pcap" 2>&1 | grep '^packets:') || true
	piped=$("$smbgw" -r - <"$work/$name.pcap" 2>&1 | grep '^packets:') || true
	if [ -z "$mapped" ] || [ "$mapped" != "$piped" ]; then
		echo "FAIL: capture ending at $name: mapped '$mapped', through libpcap '$piped'"
		status=1
	else
		echo "ok: capture ending at $name: $mapped, as libpcap reads it"
	fi
done
expect_error "record header cut at a page's end" \
	"reading the capture: truncated dump file; tried to read 16 header bytes, only got 9" \
	"$smbgw" -r "$work/page3-cut.pcap"
expect_error "record header cut at a page's end, through libpcap" \
	"truncated dump file; tried to read 16 header bytes, only got 9" \
	bash -c '"$0" -r - <"$1"' "$smbgw" "$work/page3-cut.pcap"
echo 'gateway: { ports = ["a", "b"]; mtu = 1; };' >"$work/bad.conf"
expect_error "bad config" "bad.conf:1: gateway.mtu = 1 is out of range" "$smbgw" -r "$work/cut.pcap" -c "$work/bad.conf"
# A configuration is a regular file: not a pipe, not even standard input.
expect_error "config on a pipe" "/dev/stdin:0: refused: a FIFO, not a regular file" \
	bash -c 'echo "gateway: { ports = [\"a\", \"b\"]; };" | "$0" -r "$1" -c /dev/stdin' \
	"$smbgw" "$work/cut.pcap"
expect_error "unknown option" "usage" "$smbgw" -r "$work/cut.pcap" -x
exit $status
