#!/bin/bash
# The offline benchmark's baselines read what libpcap reads: `pcap_read
# --map` (the mapped floor) gives libpcap's frame and byte counts on every
# classic capture of tests/pcaps and on byte-swapped and nanosecond
# variants, adds up every byte of every frame (its sum checked against one
# computed here), and refuses what libpcap refuses: a file cut inside a
# frame or a record header, a header alone cut short, pcapng, a directory.
#
# usage: test_pcap_read.sh PCAP_READ PCAPS_DIR
set -uo pipefail

pcap_read=$1
pcaps=$2
python=/usr/bin/python3
work=$(mktemp -d /tmp/smbgw-pcap-read.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

fail() {
	echo "FAIL: $*"
	status=1
}

# counts OUTPUT: its "packets:" and "bytes:" lines.
counts() {
	grep -E '^(packets|bytes):' "$1"
}

# The sum --map prints: 64-bit words in 32-byte steps, then 8-byte words,
# then bytes, per frame, modulo 2^64 (what sum_bytes() adds).
"$python" - "$work" "$pcaps" <<'PY'
import glob, os, struct, sys
work, pcaps = sys.argv[1], sys.argv[2]

def records(data):
    magic = data[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(order + "I", data[off + 8:off + 12])[0]
        yield data[off:off + 16], data[off + 16:off + 16 + caplen]
        off += 16 + caplen

def frame_sum(frame):
    words = len(frame) // 8
    total = sum(struct.unpack("<%dQ" % words, frame[:words * 8]))
    return total + sum(frame[words * 8:])

with open(os.path.join(work, "sums"), "w") as out:
    for path in sorted(glob.glob(os.path.join(pcaps, "*.pcap"))):
        data = open(path, "rb").read()
        if data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            continue
        name = os.path.basename(path)
        total = sum(frame_sum(f) for _, f in records(data)) % (1 << 64)
        out.write("%s %d\n" % (name, total))
        # The same capture written big-endian, and with nanosecond stamps.
        if name == "psexec_smb2.pcap":
            swapped = bytearray(struct.pack(">IHHiIII",
                *struct.unpack("<IHHiIII", data[:24])))
            nano = bytearray(b"\x4d\x3c\xb2\xa1" + data[4:24])
            for header, frame in records(data):
                swapped += struct.pack(">IIII", *struct.unpack("<IIII", header))
                swapped += frame
                nano += header + frame
            open(os.path.join(work, "swapped.pcap"), "wb").write(swapped)
            open(os.path.join(work, "nano.pcap"), "wb").write(nano)
            out.write("swapped.pcap %d\nnano.pcap %d\n" % (total, total))
            # Cut inside the last frame, inside the last record header.
            last = len(data) - len(list(records(data))[-1][1]) - 16
            open(os.path.join(work, "cut-frame.pcap"), "wb").write(data[:-5])
            open(os.path.join(work, "cut-header.pcap"), "wb").write(
                data[:last + 9])
            open(os.path.join(work, "short-header.pcap"), "wb").write(data[:20])
PY

while read -r name sum; do
	file=$pcaps/$name
	[ -f "$file" ] || file=$work/$name
	if ! "$pcap_read" --map "$file" >"$work/map.out" 2>&1; then
		fail "$name: --map refused it: $(tail -1 "$work/map.out")"
		continue
	fi
	"$pcap_read" "$file" >"$work/read.out" 2>&1
	if [ -z "$(counts "$work/read.out")" ] ||
			[ "$(counts "$work/map.out")" != "$(counts "$work/read.out")" ]; then
		fail "$name: --map read $(counts "$work/map.out" | tr '\n' ' ')," \
			"libpcap $(counts "$work/read.out" | tr '\n' ' ')"
	elif ! grep -qx "checksum: $sum" "$work/map.out"; then
		fail "$name: --map summed $(grep checksum: "$work/map.out"), every byte gives $sum"
	else
		echo "ok: $name: $(counts "$work/map.out" | tr '\n' ' ')and every byte summed"
	fi
done <"$work/sums"

# refused NAME FILE EXPECTED: --map fails, saying EXPECTED, as libpcap fails.
refused() {
	local name=$1 file=$2 expected=$3
	if "$pcap_read" --map "$file" >"$work/map.out" 2>&1; then
		fail "$name: --map accepted it"
	elif ! grep -q "$expected" "$work/map.out"; then
		fail "$name: --map said '$(tail -1 "$work/map.out")', not '$expected'"
	elif "$pcap_read" "$file" >/dev/null 2>&1; then
		fail "$name: libpcap accepted what --map refuses"
	else
		echo "ok: $name refused: $(tail -1 "$work/map.out")"
	fi
}

refused "cut inside a frame" "$work/cut-frame.pcap" "cut short in a record"
refused "cut inside a record header" "$work/cut-header.pcap" \
	"cut short in a record header"
refused "file header cut short" "$work/short-header.pcap" \
	"not a classic pcap file"
refused "pcapng" "$pcaps/two_links.pcapng" "classic pcap files only"
refused "a directory" "$work" "not a regular file"
exit $status
