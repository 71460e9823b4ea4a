#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Builds a libFuzzer harness with clang (separate from the main gcc build),
# replays the seed corpus, then fuzzes for a bounded time.
#
#   tests/fuzz/run_fuzz.sh HARNESS SECONDS [WORKDIR]
#
# HARNESS  smb, dcerpc, stream, xca, capture, chunk, ctl_json, quic or decode
#          (tests/fuzz/fuzz_HARNESS.c)
# SECONDS  fuzzing time after the replay; 0 only replays the corpus
# WORKDIR  where the binary, new inputs and crash files go
#          (default: a temporary directory, removed when nothing crashed)
#
# Environment: CLANG (default clang-14, else clang), FUZZ_FLAGS (extra
# libFuzzer options).
#
# Exits 0 when no input crashed, 1 on a crash, leak, timeout or sanitizer
# report (the reproducer is left in WORKDIR as crash-*, timeout-*, ...),
# 77 (skipped) when no clang with libFuzzer is available.

set -eu

usage="usage: run_fuzz.sh smb|dcerpc|stream|xca|capture|chunk|ctl_json|quic|decode SECONDS [WORKDIR]"
harness=${1:?$usage}
seconds=${2:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)

libs=
case $harness in
smb)
	sources="$src/dataplane/smb/*.c $src/dataplane/dcerpc/*.c $src/dataplane/xca/*.c $src/dataplane/chunk/*.c"
	;;
chunk)
	sources="$src/dataplane/chunk/*.c"
	;;
dcerpc)
	sources="$src/dataplane/dcerpc/*.c $src/dataplane/chunk/*.c"
	;;
stream)
	sources="$src/dataplane/stream/*.c"
	;;
xca)
	sources="$src/dataplane/xca/*.c"
	;;
capture)
	sources="$src/dataplane/capture/*.c"
	;;
ctl_json)
	sources="$src/control/ctl_json.c"
	;;
quic)
	sources="$src/dataplane/quic/*.c"
	libs=-lcrypto
	;;
decode)
	sources="$src/dataplane/decode.c"
	;;
*)
	echo "run_fuzz.sh: unknown harness '$harness'" >&2
	exit 2
	;;
esac

if [ -n "${CLANG:-}" ]; then
	cc=$CLANG
elif command -v clang-14 >/dev/null 2>&1; then
	cc=clang-14
elif command -v clang >/dev/null 2>&1; then
	cc=clang
else
	echo "run_fuzz.sh: no clang, skipping" >&2
	exit 77
fi

if [ -n "${3:-}" ]; then
	work=$3
	mkdir -p "$work"
	keep=1
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/smbgw-fuzz.XXXXXX")
	keep=0
fi
bin=$work/fuzz_$harness
new_corpus=$work/corpus-$harness
mkdir -p "$new_corpus"

if ! printf 'int LLVMFuzzerTestOneInput(const char *d, long n)\n{ return 0; }\n' |
   "$cc" -fsanitize=fuzzer,address,undefined -x c - -o "$work/probe" \
	2>/dev/null; then
	echo "run_fuzz.sh: $cc cannot build libFuzzer targets, skipping" >&2
	[ "$keep" -eq 1 ] || rm -rf "$work"
	exit 77
fi
rm -f "$work/probe"

# The parsers take only bytes, so they build alone, without DPDK.
# shellcheck disable=SC2086
if ! "$cc" -g -O1 -std=gnu11 -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer \
	-I"$src/dataplane/dcerpc" -I"$src/dataplane/smb" -I"$src/dataplane/utf8" \
	-I"$src/dataplane/stream" -I"$src/dataplane/xca" \
	-I"$src/dataplane/capture" -I"$src/dataplane/chunk" \
	-I"$src/dataplane/quic" -I"$src/control" -I"$here" -I"$src/dataplane" \
	"$here/fuzz_$harness.c" $sources $libs -o "$bin" 2>"$work/build.log"; then
	cat "$work/build.log" >&2
	exit 1
fi

fail()
{
	echo "run_fuzz.sh: $harness failed; reproducer and logs in $work" >&2
	ls "$work" >&2
	exit 1
}

# libFuzzer's own default error code is 77, which meson reads as "skipped".
opts="-error_exitcode=1 -timeout_exitcode=1 -oom_exitcode=1
	-timeout=10 -rss_limit_mb=2048 -max_len=65536
	-artifact_prefix=$work/
	-print_final_stats=1 ${FUZZ_FLAGS:-}"
if [ -f "$here/$harness.dict" ]; then
	opts="$opts -dict=$here/$harness.dict"
fi

# libFuzzer writes its own files (fuzz-N.log with -jobs) to the current
# directory: keep them out of the source tree.
cd "$work"

echo "== replaying $here/corpus/$harness"
# shellcheck disable=SC2086
"$bin" $opts -runs=0 "$here/corpus/$harness" || fail

if [ "$seconds" -gt 0 ]; then
	echo "== fuzzing $harness for $seconds s in $work"
	# New inputs go to the work directory; the committed seeds stay as
	# they are.
	# shellcheck disable=SC2086
	"$bin" $opts -max_total_time="$seconds" \
		"$new_corpus" "$here/corpus/$harness" || fail
fi

if [ "$keep" -eq 0 ]; then
	rm -rf "$work"
fi
exit 0
