#!/bin/bash
# Reload on a live gateway meets files that are no configuration. The
# gateway runs inline on af_packet ports (netns.sh topology), with its
# policy in an @include; a copy loop (smbclient put and get of 4 MB,
# sha256 compared every time) runs through it all along. For a directory,
# a FIFO, a device node, a dangling symbolic link, an unreadable file and
# a 100 MB file, first in place of the main configuration, then of the
# included file:
#   smbgwctl reload exits 1 naming the file, SIGHUP logs "reload rejected"
#   naming it; the gateway keeps forwarding, the policy generation in
#   smbgwctl status is the old one.
# Then a file that changes gateway.mtu and the policy's mode: reload (and
# SIGHUP) say "gateway.mtu changed: takes effect at restart" and apply the
# mode (the generation goes up, status shows monitor-only). Every copy must
# have arrived intact, and the gateway must exit 0 on SIGTERM.
#
# The unreadable file is meaningful only to a reader that lacks
# CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: the gateway runs under setpriv
# without them (skipped, and said, without setpriv).
#
# usage: test_config_reload.sh [SMBGW_BINARY [SMBGWCTL_BINARY]]
# Exit: 0 pass, 1 fail, 77 skipped (not root, or a tool missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-config-reload needs root (network namespaces, af_packet)"
	exit 77
fi
for tool in smbclient smbd ethtool ip sha256sum mkfifo mknod truncate; do
	if ! command -v "$tool" >/dev/null; then
		echo "skipped: e2e-config-reload: missing $tool"
		exit 77
	fi
done

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}
gw_work=$(mktemp -d /tmp/smbgw-e2e-cfg.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves a share below it as bob
gw_file_prefix=smbgw-e2e-cfg-$$
started=$SECONDS
password=Smbgw-e2e-$$
conf=$gw_work/smbgw.conf
included=$gw_work/policy.conf
socket=$gw_work/smbgw.sock

export SMBGW_NETNS_PREFIX=cl$$
export SMBGW_IF_A=cla$$
export SMBGW_IF_B=clb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"
# shellcheck source=tests/lib/bad_files.sh
. "$here/../lib/bad_files.sh"

copy_stop=$gw_work/copy.stop
copy_pid=""

cleanup() {
	touch "$copy_stop"
	if [ -n "$copy_pid" ]; then
		kill "$copy_pid" 2>/dev/null || true
		wait "$copy_pid" 2>/dev/null || true
	fi
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "e2e-config-reload: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-config-reload: $*"
	if [ -s "$gw_work/gateway.log" ]; then
		echo "-- gateway output (last 40 lines)"
		tail -n 40 "$gw_work/gateway.log" | sed 's/^/  gateway| /'
	fi
	if [ -s "$gw_work/copy.log" ]; then
		echo "-- copy loop (last 20 lines)"
		tail -n 20 "$gw_work/copy.log" | sed 's/^/  copy| /'
	fi
	exit 1
}

# write_config MTU MODE: the main file (with the policy in an include).
write_config() {
	cat >"$conf.tmp" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_af_packet0", "net_af_packet1" ];
  workers = 1;
  mtu = $1;
  stats_interval = 0;
};
flows: { max_flows = 65536; sessions = 256; };
control: { socket = "$socket"; };
output: { eve = "$gw_work/eve.json"; };
@include "policy.conf"
CONF
	cat >"$included.tmp" <<CONF
# The segment-pair policy: what a reload applies.
policy: {
  mode = "$2"; default_action = "allow";
  segments = (
    { name = "clients"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; }
  );
  rules = ( { from = "clients"; to = "servers"; action = "allow"; } );
};
CONF
	bad_remove "$conf"
	bad_remove "$included"
	mv "$conf.tmp" "$conf"
	mv "$included.tmp" "$included"
}

ctl() {
	timeout 10 "$ctl_binary" -s "$socket" "$@"
}

generation() {
	ctl --json status | sed -n 's/.*"policy_generation":\([0-9]*\).*/\1/p'
}

# copy_once ROUND: puts and gets 4 MB; prints "ok ROUND" or "FAIL ROUND ...".
copy_once() {
	local share=$SMBGW_NETNS_DIR/shares/data
	head -c 4M /dev/urandom >"$gw_work/up.bin"
	head -c 4M /dev/urandom >"$share/down.bin"
	chmod 0644 "$share/down.bin"
	rm -f "$gw_work/down.bin"
	if ! (cd "$gw_work" && "$scripts/netns.sh" exec client timeout 60 \
			smbclient //198.18.2.20/data -U "bob%$password" \
			-c 'put up.bin up.bin; get down.bin down.bin') \
			>"$gw_work/smbclient.log" 2>&1; then
		echo "FAIL $1 smbclient: $(tail -n 2 "$gw_work/smbclient.log" | tr '\n' ' ')"
		return
	fi
	if [ "$(sha256sum <"$gw_work/up.bin")" = "$(sha256sum <"$share/up.bin")" ] &&
			[ "$(sha256sum <"$share/down.bin")" = "$(sha256sum <"$gw_work/down.bin")" ]; then
		echo "ok $1"
	else
		echo "FAIL $1 sha256 differs"
	fi
}

# copy_loop: copy_once again and again until $copy_stop exists.
copy_loop() {
	local round=0
	while [ ! -e "$copy_stop" ]; do
		round=$((round + 1))
		copy_once "$round"
	done
}

copies_done() {
	grep -c '^ok ' "$gw_work/copy.log" || true
}

# rejected_by_sighup BEFORE: waits for the log's "reload rejected" count to
# pass BEFORE (5 s at most).
rejected_by_sighup() {
	local i
	for i in $(seq 50); do
		[ "$(grep -c '^smbgw: reload rejected' "$gw_work/gateway.log" || true)" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

[ -x "$gw_binary" ] || fail "no gateway binary at $gw_binary"
[ -x "$ctl_binary" ] || fail "no smbgwctl binary at $ctl_binary"

kinds=$(bad_kinds)
if SMBGW_GATEWAY_PREFIX=$(bad_unprivileged); then
	export SMBGW_GATEWAY_PREFIX
else
	echo "note: no setpriv: the gateway runs as root with every capability; the unreadable file is skipped"
	kinds=$(grep -v '^unreadable$' <<<"$kinds")
fi

step "topology: client 198.18.1.10 -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server 198.18.2.20"
in_background timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }

write_config 1500 enforce
gw_check_config "$conf" >/dev/null || fail "the valid configuration is refused"
step "gateway: ${SMBGW_GATEWAY_PREFIX:-} $gw_binary -c $conf"
gw_start_with_config "$gw_work/gateway.log" "$conf"
gw_wait_forwarding client 30 || fail "no TCP connection to 198.18.2.20:445 through the gateway within 30 s"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || fail "no control socket at $socket"
first=$(generation)
[ -n "$first" ] || fail "no policy_generation in smbgwctl status"

step "copy loop: 4 MB put and get, again and again"
: >"$gw_work/copy.log"
copy_loop >>"$gw_work/copy.log" 2>&1 &
copy_pid=$!
for _ in $(seq 600); do
	[ "$(copies_done)" -ge 1 ] && break
	grep -q '^FAIL' "$gw_work/copy.log" && fail "a copy failed before any reload"
	sleep 0.1
done
[ "$(copies_done)" -ge 1 ] || fail "no copy completed within 60 s"

for where in main include; do
	if [ "$where" = main ]; then target=$conf; else target=$included; fi
	while read -r kind; do
		bad_make "$kind" "$target"
		t0=$(date +%s%N)
		out=$(ctl reload 2>&1) && fail "smbgwctl reload accepted $kind as the $where file: $out"
		ms=$((($(date +%s%N) - t0) / 1000000))
		grep -qF -- "$target" <<<"$out" ||
			fail "smbgwctl reload with $kind as the $where file does not name $target: $out"
		[ "$where" = main ] || grep -qF -- "$conf:" <<<"$out" ||
			fail "the rejection of $kind as the include does not name $conf: $out"
		gw_running || fail "the gateway died on reload with $kind as the $where file"
		[ "$(generation)" = "$first" ] ||
			fail "policy generation $(generation) after a rejected reload ($kind, $where), $first expected"
		step "reload, $kind as the $where file: refused in $ms ms: $out"

		before=$(grep -c '^smbgw: reload rejected' "$gw_work/gateway.log" || true)
		kill -HUP "$gw_pid"
		rejected_by_sighup "$before" ||
			fail "no 'reload rejected' within 5 s of SIGHUP with $kind as the $where file"
		sleep 0.2
		tail -n 3 "$gw_work/gateway.log" | grep -qF -- "$target" ||
			fail "the SIGHUP rejection ($kind, $where) does not name $target"
		gw_running || fail "the gateway died on SIGHUP with $kind as the $where file"
		[ "$(generation)" = "$first" ] ||
			fail "policy generation $(generation) after a rejected SIGHUP ($kind, $where), $first expected"
		grep -q '^FAIL' "$gw_work/copy.log" &&
			fail "a copy failed during the reloads ($kind, $where)"
		write_config 1500 enforce
	done <<<"$kinds"
done
step "every reload refused; $(copies_done) copies intact so far, policy generation still $first"

kill -0 "$copy_pid" 2>/dev/null || fail "the copy loop ended before the reloads did"
touch "$copy_stop"
wait "$copy_pid" || true
copy_pid=""
grep -q '^FAIL' "$gw_work/copy.log" && fail "a copy failed: $(grep '^FAIL' "$gw_work/copy.log" | head -n 1)"
[ "$(copies_done)" -ge 2 ] || fail "only $(copies_done) copies ran across the reloads"
step "copy loop: $(copies_done) rounds, sha256 equal both ways every time"

step "reload: gateway.mtu changed (restart only) and the policy's mode (applied)"
write_config 1400 monitor-only
out=$(ctl reload 2>&1) || fail "smbgwctl reload refused a valid file: $out"
echo "$out" | sed 's/^/  | /'
grep -qF "gateway.mtu changed: takes effect at restart" <<<"$out" ||
	fail "reload does not say that gateway.mtu takes effect at restart"
[ "$(generation)" = "$((first + 1))" ] ||
	fail "policy generation $(generation) after the reload, $((first + 1)) expected"
ctl status | grep 'monitor-only' >/dev/null || fail "the policy's mode was not applied"
before=$(grep -c '^smbgw: reload: .* is valid' "$gw_work/gateway.log" || true)
kill -HUP "$gw_pid"
for _ in $(seq 50); do
	[ "$(grep -c '^smbgw: reload: .* is valid' "$gw_work/gateway.log" || true)" -gt "$before" ] && break
	sleep 0.1
done
sleep 0.2
grep -q '^smbgw: reload: gateway.mtu changed: takes effect at restart' "$gw_work/gateway.log" ||
	fail "SIGHUP does not log that gateway.mtu takes effect at restart"
[ "$(generation)" = "$((first + 2))" ] ||
	fail "policy generation $(generation) after SIGHUP, $((first + 2)) expected"
grep '^smbgw: reload' "$gw_work/gateway.log" | tail -n 2 | sed 's/^/  gateway| /'

step "one more copy through the gateway"
copy_once 1 >"$gw_work/copy.log" 2>&1
grep -q '^ok 1$' "$gw_work/copy.log" || fail "the copy after the reloads failed"

step "stopping the gateway (SIGTERM)"
gw_stop 20 || fail "gateway exit status $gw_status after SIGTERM"
echo "PASS: e2e-config-reload ($((SECONDS - started)) s)"
