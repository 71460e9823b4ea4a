#!/bin/bash
# Installs smbgw: `make install [PREFIX=/usr/local] [DESTDIR=]`.
#
#   $PREFIX/sbin/smbgw, $PREFIX/bin/smbgwctl
#   the systemd unit smbgw.service in /lib/systemd/system (PREFIX=/usr) or
#   /etc/systemd/system (any other PREFIX), its paths set to PREFIX's
#   /etc/smbgw/smbgw.conf and /etc/smbgw/smbgw.env, only when absent (an
#   operator's files are never overwritten)
#
# Settings (environment): BUILD (default build), PREFIX, DESTDIR, SBINDIR,
# BINDIR, UNITDIR, SYSCONFDIR (default /etc).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
sbindir=${SBINDIR:-$prefix/sbin}
bindir=${BINDIR:-$prefix/bin}
sysconfdir=${SYSCONFDIR:-/etc}
if [ -z "${UNITDIR:-}" ]; then
	if [ "$prefix" = /usr ]; then
		UNITDIR=/lib/systemd/system
	else
		UNITDIR=/etc/systemd/system
	fi
fi

for binary in "$build/app/smbgw" "$build/app/smbgwctl"; do
	[ -x "$binary" ] || { echo "install.sh: $binary missing: run make build first" >&2; exit 1; }
done

install -d "$destdir$sbindir" "$destdir$bindir" "$destdir$UNITDIR" \
	"$destdir$sysconfdir/smbgw"
install -m 0755 "$build/app/smbgw" "$destdir$sbindir/smbgw"
install -m 0755 "$build/app/smbgwctl" "$destdir$bindir/smbgwctl"
echo "installed $destdir$sbindir/smbgw, $destdir$bindir/smbgwctl"

sed -e "s|/usr/local/sbin/|$sbindir/|g" \
	-e "s|/etc/smbgw/|$sysconfdir/smbgw/|g" \
	"$top/conf/smbgw.service" >"$destdir$UNITDIR/smbgw.service.tmp"
chmod 0644 "$destdir$UNITDIR/smbgw.service.tmp"
mv "$destdir$UNITDIR/smbgw.service.tmp" "$destdir$UNITDIR/smbgw.service"
echo "installed $destdir$UNITDIR/smbgw.service"

for file in smbgw.conf smbgw.env; do
	target=$destdir$sysconfdir/smbgw/$file
	if [ -e "$target" ]; then
		echo "kept $target (exists)"
	else
		install -m 0640 "$top/conf/$file" "$target"
		echo "installed $target (a sample: set the ports and EAL options)"
	fi
done

# On a running systemd, without DESTDIR: let it see the new unit.
if [ -z "$destdir" ] && [ -d /run/systemd/system ] &&
		command -v systemctl >/dev/null; then
	systemctl daemon-reload
	echo "then: systemctl enable --now smbgw"
fi
