#!/bin/bash
# Builds BUILD_DIR with profile feedback, the build `make` makes: the first
# time (or after `make retrain`), an instrumented smbgw is built and run
# over the project's captures (scripts/pgo_train.sh), then everything is
# built with that profile (meson b_pgo=use). Later runs only run ninja:
# a source changed since builds without its profile, as a warning.
#
# usage: build.sh BUILD_DIR [MESON SETUP OPTIONS...]
#   SMBGW_PGO=0: build without profile feedback (b_pgo=off).
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [MESON SETUP OPTIONS...]" >&2
	exit 2
fi
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
stamp=$build/pgo-trained

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$@"
fi
if [ "${SMBGW_PGO:-1}" = 0 ]; then
	meson configure "$build" -Db_pgo=off
	rm -f "$stamp"
elif [ ! -f "$stamp" ]; then
	meson configure "$build" -Db_pgo=generate
	find "$build" -name '*.gcda' -delete
	ninja -C "$build" app/smbgw
	"$here/pgo_train.sh" "$build/app/smbgw" "$build/pgo-train"
	# A binary that ended without writing its counts would leave the
	# build silently untrained.
	if [ -z "$(find "$build" -name '*.gcda' -print -quit)" ]; then
		echo "build.sh: the training run wrote no profile" >&2
		exit 1
	fi
	meson configure "$build" -Db_pgo=use
	touch "$stamp"
fi
ninja -C "$build"
