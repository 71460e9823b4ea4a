#!/bin/bash
# The whole gateway under AddressSanitizer and UndefinedBehaviorSanitizer,
# where bad input reaches it. The fuzz suite holds the parsers to that
# alone; this holds everything around them too (decoder, flow table,
# stream normaliser, events, detector, flow summary, EVE and report
# writers): an over-read, a use after free, a leak or undefined behaviour
# anywhere on the way of a damaged frame is a failure here, where the
# replay tests would only see an exit status.
#
# smbgw is built apart from the main build (gcc, -O2, without link-time
# optimisation or profiles, which the sanitizers do not need), then run on
#   - every capture in PCAPS_DIR as it is;
#   - ROUNDS damaged copies of each classic one: "garble" (pcap_tool.py)
#     damages TCP payload in place and checksums are not verified, so the
#     streams stay whole and the damage reaches the parsers and everything
#     after them; "mutate" damages frames as a broken network would;
#   - damaged copies of the sample configurations through --check-config.
# Each run must end with status 0 (captures) or a refusal (configurations:
# 0 or 1), no sanitizer report, and, for classic captures, every frame
# accounted for (rx = tx + drops).
#
# usage: test_sanitized.sh SOURCE_DIR WORK_DIR PCAPS_DIR ROUNDS
# Exits 77 (skipped) when the compiler cannot link the sanitizers.
set -euo pipefail

src=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
pcaps=$(cd "$3" && pwd)
rounds=$4
here=$(cd "$(dirname "$0")" && pwd)
tool="/usr/bin/python3 $here/../lib/pcap_tool.py"
. "$here/../lib/dpdk_env.sh"

if ! echo 'int main(void) { return 0; }' | cc -fsanitize=address,undefined \
		-x c - -o "$work/probe" 2>/dev/null; then
	echo "SKIP: cc cannot link -fsanitize=address,undefined"
	exit 77
fi
rm -f "$work/probe"

build=$work/build
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" -Dtests=false -Dnative=false \
		-Doptimization=2 -Db_lto=false -Db_pgo=off \
		-Db_sanitize=address,undefined -Db_lundef=false \
		>"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
fi
ninja -C "$build" app/smbgw >"$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log"; exit 1; }
smbgw=$build/app/smbgw
# The chunk pools tell AddressSanitizer what they do not hand out (chunk.c);
# without that, a session table entry used after it was given back would
# go unseen here.
nm -u "$smbgw" >"$work/undefined-symbols"
grep -q __asan_poison_memory_region "$work/undefined-symbols" || {
	echo "FAIL: the sanitized smbgw does not poison its chunk pools"; exit 1; }

reports=$work/reports
rm -rf "$reports" "$work/run"
mkdir -p "$reports" "$work/run"
# Reports go to files: a report is found whatever the exit status.
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan"
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"

unchecked=$work/checksum-off.conf
{ "$smbgw" --print-default-config
  echo 'stream: { checksum = "off"; };'; } >"$unchecked"

runs=0
parser_errors=0
fail() {
	echo "FAIL: $*"
	for r in "$reports"/*; do
		[ -f "$r" ] && head -40 "$r"
	done
	exit 1
}

# run NAME CAPTURE [CONFIG]: analyse CAPTURE; keep it in WORK_DIR if it fails.
run() {
	local name=$1 capture=$2 config=${3:-} status=0 row
	(cd "$work/run" && "$smbgw" -r "$capture" ${config:+-c "$config"} \
		-e "$work/run/eve.json" >"$work/run/out" 2>&1) || status=$?
	runs=$((runs + 1))
	if [ "$status" -ne 0 ] || [ -n "$(ls -A "$reports")" ]; then
		cp "$capture" "$work/failed-$name.pcap"
		tail -20 "$work/run/out"
		fail "$name: exit status $status (capture kept as $work/failed-$name.pcap)"
	fi
	if [ -n "$($tool linktype "$capture")" ]; then
		row=$(counters_row "$work/run/out" counters "$capture" rx=tx+drop)
		[ "$row" = ok ] || fail "$name: frames not accounted for ($row)"
	fi
}

for capture in "$pcaps"/*.pcap "$pcaps"/*.pcapng; do
	[ -f "$capture" ] || continue
	name=$(basename "$capture")
	run "${name%.*}" "$capture"
done

for seed in $(seq 1 "$rounds"); do
	for capture in "$pcaps"/*.pcap; do
		name=$(basename "$capture" .pcap)
		$tool garble "$capture" "$work/g.pcap" "$seed"
		run "$name-garble-$seed" "$work/g.pcap" "$unchecked"
		# What the parsers refused: the damage reached them.
		errors=$(awk '/^parsers:/ { for (i = 2; i < NF; i++)
			if ($i == "errors") print $(i + 1) }' "$work/run/out")
		parser_errors=$((parser_errors + ${errors:-0}))
		$tool mutate "$capture" "$work/m.pcap" "$seed"
		run "$name-mutate-$seed" "$work/m.pcap"
	done
done

[ "$rounds" -eq 0 ] || [ "$parser_errors" -gt 0 ] ||
	fail "no garbled capture gave the parsers an error: the damage did not reach them"

# Configurations: lines dropped, repeated or cut, bytes changed.
configs=0
for conf in "$src"/conf/*.conf; do
	for seed in $(seq 1 $((rounds * 10))); do
		/usr/bin/python3 - "$conf" "$work/c.conf" "$seed" <<'EOF'
import random, sys
rng = random.Random(int(sys.argv[3]))
lines = open(sys.argv[1], "rb").read().split(b"\n")
for _ in range(rng.randint(1, 6)):
    i = rng.randrange(len(lines))
    r = rng.random()
    if r < 0.25:
        del lines[i]
    elif r < 0.5:
        lines.insert(i, lines[i])
    elif r < 0.75 and lines[i]:
        lines[i] = lines[i][:rng.randrange(len(lines[i]))]
    elif lines[i]:
        b = bytearray(lines[i])
        b[rng.randrange(len(b))] = rng.choice(b'{}[]()";=,:#0123456789-x\x00\xff')
        lines[i] = bytes(b)
open(sys.argv[2], "wb").write(b"\n".join(lines))
EOF
		status=0
		"$smbgw" --check-config "$work/c.conf" >"$work/run/out" 2>&1 ||
			status=$?
		configs=$((configs + 1))
		if [ "$status" -gt 1 ] || [ -n "$(ls -A "$reports")" ]; then
			cp "$work/c.conf" "$work/failed-$(basename "$conf")-$seed"
			tail -5 "$work/run/out"
			fail "--check-config on a damaged $(basename "$conf") (seed $seed): exit status $status"
		fi
	done
done

echo "PASS: $runs analyses ($rounds rounds of damage, $parser_errors parser errors) and $configs damaged configurations under AddressSanitizer and UndefinedBehaviorSanitizer, no report"
