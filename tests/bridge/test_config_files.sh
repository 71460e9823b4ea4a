#!/bin/bash
# smbgw --check-config on files that are no configuration: a directory, a
# FIFO, a device node, a dangling symbolic link, an unreadable file and a
# 100 MB file, each as the main configuration and as an @include. Each must
# end within 2 s with exit status 1 and a message naming the file (and, for
# an include, the including file and line); never hang, never exit 2.
# usage: test_config_files.sh SMBGW_BINARY
set -uo pipefail

smbgw=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/bad_files.sh
. "$here/../lib/bad_files.sh"
work=$(mktemp -d /tmp/smbgw-config-files.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
unprivileged=$(bad_unprivileged) || unprivileged=none

valid='gateway: { ports = [ "net_null0", "net_null1" ]; };'
printf '%s\n# settings kept apart\n@include "extra.conf"\n' "$valid" >"$work/main.conf"
echo '# nothing here yet' >"$work/extra.conf"

# check WHAT CONF PATTERN...: --check-config CONF exits 1 within 2 s and
# its output has every PATTERN (fixed strings).
check() {
	local what=$1 conf=$2 output code=0 start ms pattern
	shift 2
	start=$(date +%s%N)
	# shellcheck disable=SC2086
	output=$(timeout 10 ${prefix:-} "$smbgw" --check-config "$conf" 2>&1 </dev/null) || code=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	for pattern in "$@"; do
		if ! grep -qF -- "$pattern" <<<"$output"; then
			echo "FAIL: $what: no \"$pattern\" in: $output (exit $code)"
			status=1
			return
		fi
	done
	if [ "$code" -ne 1 ] || [ "$ms" -ge 2000 ]; then
		echo "FAIL: $what: exit $code after $ms ms (1 within 2000 expected): $output"
		status=1
		return
	fi
	echo "ok: $what: exit 1 in $ms ms: $output"
}

"$smbgw" --check-config "$work/main.conf" >/dev/null ||
	{ echo "FAIL: the valid configuration is refused"; exit 1; }

while read -r kind; do
	prefix=""
	if [ "$kind" = unreadable ]; then
		if [ "$unprivileged" = none ]; then
			echo "skipped: unreadable (root without setpriv reads any file)"
			continue
		fi
		prefix=$unprivileged
	fi
	bad_make "$kind" "$work/bad.conf"
	check "$kind as the main configuration" "$work/bad.conf" "$work/bad.conf:0: "
	bad_remove "$work/bad.conf"

	bad_make "$kind" "$work/extra.conf"
	check "$kind as an include" "$work/main.conf" \
		"$work/main.conf:3: @include \"extra.conf\": $work/extra.conf: "
	bad_remove "$work/extra.conf"
	echo '# nothing here yet' >"$work/extra.conf"
done < <(bad_kinds)

# An error inside an include names that file and its own line.
printf '# extra\ngateway_typo: { };\n' >"$work/extra.conf"
prefix=""
check "an error inside an include" "$work/main.conf" \
	"$work/extra.conf:2: unknown group or key gateway_typo"

[ $status -eq 0 ] && echo "PASS: configuration files"
exit $status
