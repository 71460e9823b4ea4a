#!/bin/bash
# The systemd unit and `make install`:
# 1. conf/smbgw.service says Type=notify, Restart=always and a WatchdogSec;
# 2. systemd-analyze verify accepts it (paths pointed at the build), and
#    rejects a copy with an unknown key (so the lint does look);
# 3. scripts/install.sh into a DESTDIR puts the binaries, the unit (paths
#    rewritten for PREFIX) and the sample configuration in place, and a
#    second run keeps an operator's configuration.
#
# usage: test_unit_file.sh SMBGW_BINARY
# Exit: 0 pass, 1 fail, 77 skipped (systemd-analyze missing or unusable).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
gw_binary=${1:-$top/build/app/smbgw}
build=$(cd "$(dirname "$gw_binary")/.." && pwd)
unit=$top/conf/smbgw.service
work=$(mktemp -d /tmp/smbgw-unit.XXXXXX)
trap 'rm -rf "$work"' EXIT

failures=0
ok() { echo "ok: $*"; }
bad() { echo "NOT OK: $*"; failures=$((failures + 1)); }

for key in 'Type=notify' 'Restart=always' 'NotifyAccess=main'; do
	if grep -qx "$key" "$unit"; then ok "$key"; else bad "$key missing"; fi
done
if grep -Eq '^WatchdogSec=[0-9]+(ms|s)?$' "$unit"; then
	ok "$(grep '^WatchdogSec=' "$unit")"
else
	bad "WatchdogSec= missing"
fi
if grep -q '^ExecStart=/usr/local/sbin/smbgw .* -- -c /etc/smbgw/smbgw.conf$' "$unit"; then
	ok "ExecStart runs smbgw on /etc/smbgw/smbgw.conf"
else
	bad "ExecStart does not run /usr/local/sbin/smbgw -- -c /etc/smbgw/smbgw.conf"
fi

# 2. The lint, on a copy whose paths exist here.
lint() {	# lint UNIT: systemd-analyze verify; its output on stdout
	SYSTEMD_LOG_COLOR=0 timeout 60 systemd-analyze verify "$1" 2>&1
}
if ! command -v systemd-analyze >/dev/null; then
	echo "skipped: systemd-analyze missing (package systemd, scripts/deps.sh)"
	[ "$failures" -eq 0 ] || exit 1
	exit 77
fi
mkdir -p "$work/etc"
cp "$top/conf/smbgw.conf" "$work/etc/smbgw.conf"
sed -e "s|/usr/local/sbin/smbgw|$gw_binary|g" -e "s|/etc/smbgw/|$work/etc/|g" \
	"$unit" >"$work/smbgw-lint.service"
out=$(lint "$work/smbgw-lint.service") && status=0 || status=$?
if [ "$status" -eq 0 ] && [ -z "$out" ]; then
	ok "systemd-analyze verify: no complaint"
elif grep -qi 'failed to.*bus\|not booted\|Failed to initialize manager' <<<"$out"; then
	echo "skipped: systemd-analyze cannot run here: $out"
	exit 77
else
	bad "systemd-analyze verify (status $status): $out"
fi
sed 's/^Restart=always$/Restart=always\nWatchdogSecs=5s/' "$work/smbgw-lint.service" \
	>"$work/smbgw-broken.service"
out=$(lint "$work/smbgw-broken.service") || true
if grep -q "WatchdogSecs" <<<"$out"; then
	ok "systemd-analyze verify flags an unknown key"
else
	bad "systemd-analyze verify let an unknown key pass: $out"
fi

# 3. make install's script into a DESTDIR.
dest=$work/dest
BUILD=$build PREFIX=/usr DESTDIR=$dest "$top/scripts/install.sh" >"$work/install.log"
for file in usr/sbin/smbgw usr/bin/smbgwctl lib/systemd/system/smbgw.service \
		etc/smbgw/smbgw.conf etc/smbgw/smbgw.env; do
	if [ -e "$dest/$file" ]; then ok "installed /$file"; else bad "/$file not installed"; fi
done
# shellcheck disable=SC2016 # a literal $SMBGW_EAL_ARGS
if grep -q '^ExecStart=/usr/sbin/smbgw \$SMBGW_EAL_ARGS -- -c /etc/smbgw/smbgw.conf$' \
		"$dest/lib/systemd/system/smbgw.service"; then
	ok "PREFIX=/usr: the unit runs /usr/sbin/smbgw"
else
	bad "the installed unit's ExecStart: $(grep ExecStart= "$dest/lib/systemd/system/smbgw.service")"
fi
if cmp -s "$gw_binary" "$dest/usr/sbin/smbgw"; then ok "smbgw is the build's"; else bad "smbgw differs from the build's"; fi
echo "# the operator's" >>"$dest/etc/smbgw/smbgw.conf"
BUILD=$build PREFIX=/usr DESTDIR=$dest "$top/scripts/install.sh" >"$work/install.log"
if tail -1 "$dest/etc/smbgw/smbgw.conf" | grep -q "the operator's"; then
	ok "a second install keeps /etc/smbgw/smbgw.conf"
else
	bad "a second install overwrote /etc/smbgw/smbgw.conf"
fi
BUILD=$build PREFIX=/opt/smbgw DESTDIR=$dest "$top/scripts/install.sh" >"$work/install.log"
if grep -q '^ExecStartPre=/opt/smbgw/sbin/smbgw --check-config' "$dest/etc/systemd/system/smbgw.service"; then
	ok "PREFIX=/opt/smbgw: unit in /etc/systemd/system, runs /opt/smbgw/sbin/smbgw"
else
	bad "PREFIX=/opt/smbgw: unit not where expected"
fi

[ "$failures" -eq 0 ] || { echo "FAIL: $failures checks"; exit 1; }
echo "PASS"
