#!/bin/bash
# The body of `make test`: every meson suite, then the callgrind fast-path
# check on its own portable build, and one closing line counting both.
# usage: run_tests.sh BUILD_DIR PERF_BUILD_DIR [MESON TEST ARGS...]
set -uo pipefail

build=$1
perf_build=$2
shift 2
log=$build/test-output.txt

meson test -C "$build" --print-errorlogs "$@" 2>&1 | tee "$log"
meson_status=${PIPESTATUS[0]}

count() {	# count LABEL: the number meson's summary gives for LABEL, or 0
	local n
	n=$(sed -n "s/^$1: *\([0-9][0-9]*\).*/\1/p" "$log" | tail -1)
	echo "${n:-0}"
}
passed=$(count Ok)
failed=$(( $(count Fail) + $(count Timeout) + $(count "Unexpected Pass") ))
skipped=$(count Skipped)

perf_status=0
if "$(dirname "$0")/build.sh" "$perf_build" -Dnative=false -Dtests=false \
		>"$build/perf-build-output.txt" 2>&1; then
	tests/bench/callgrind_check.sh "$perf_build/app/smbgw" || perf_status=$?
else
	echo "FAIL: the portable build for the callgrind check:" >&2
	tail -20 "$build/perf-build-output.txt" >&2
	perf_status=1
fi
case $perf_status in
0) passed=$((passed + 1)) ;;
77) skipped=$((skipped + 1)) ;;
*) failed=$((failed + 1)) ;;
esac

echo "smbgw: $passed passed, $failed failed, ${skipped:-0} skipped"
[ "$meson_status" -eq 0 ] && [ "$failed" -eq 0 ]
