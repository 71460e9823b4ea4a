#!/bin/bash
# End-to-end copy: a client and a Samba server in network namespaces, the
# gateway bridging them over two af_packet ports. smbclient puts one random
# file and gets another through the gateway; both must arrive intact. Then
# the gateway must stop on SIGTERM with status 0.
#
# usage: test_copy.sh [GATEWAY_BINARY]
#   GATEWAY_BINARY  smbgw (default: build/app/smbgw), or dpdk-testpmd as a
#                   stand-in bridge. SMBGW_GATEWAY_CMD overrides both (see
#                   scripts/gateway_lib.sh).
#   SMBGW_E2E_SIZE_MB  size of each file (default 8)
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-copy needs root (network namespaces, af_packet)"
	exit 77
fi

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
size_mb=${SMBGW_E2E_SIZE_MB:-8}
password=Smbgw-e2e-$$
gw_work=$(mktemp -d /tmp/smbgw-e2e.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves a share below it as bob
gw_file_prefix=smbgw-e2e-$$
started=$SECONDS

# A topology of our own: names no other run uses.
export SMBGW_NETNS_PREFIX=smbgwe2e$$
export SMBGW_IF_A=e2ea$$
export SMBGW_IF_B=e2eb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

netns() {
	"$scripts/netns.sh" "$@"
}

cleanup() {
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "e2e-copy: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-copy: $*"
	if [ -s "$gw_work/gateway.log" ]; then
		echo "-- gateway output (last 40 lines)"
		tail -n 40 "$gw_work/gateway.log" | sed 's/^/  gateway| /'
	fi
	if [ -d "$SMBGW_NETNS_DIR/log" ]; then
		echo "-- smbd logs (last 20 lines)"
		tail -q -n 20 "$SMBGW_NETNS_DIR"/log/log.* 2>/dev/null | sed 's/^/  smbd| /'
	fi
	exit 1
}

[ -x "$gw_binary" ] || command -v "$gw_binary" >/dev/null ||
	fail "no gateway binary at $gw_binary"
for tool in smbclient smbd ethtool ip sha256sum; do
	command -v "$tool" >/dev/null || fail "missing $tool (see tests/e2e/README.md)"
done

step "topology: client 198.18.1.10 -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server 198.18.2.20"
in_background timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }

step "gateway: ${SMBGW_GATEWAY_CMD:-$gw_binary}"
gw_start "$gw_work/gateway.log"
gw_wait_forwarding client 30 || {
	if ! gw_running; then
		wait "$gw_pid" && status=0 || status=$?
		fail "gateway exited during start-up (status $status)"
	fi
	fail "no TCP connection to 198.18.2.20:445 through the gateway within 30 s"
}

step "files: ${size_mb} MB up, ${size_mb} MB down"
share=$SMBGW_NETNS_DIR/shares/data
head -c "${size_mb}M" /dev/urandom >"$gw_work/up.bin"
head -c "${size_mb}M" /dev/urandom >"$share/down.bin"
chmod 0644 "$share/down.bin"

step "smbclient as bob: put up.bin, get down.bin"
cd "$gw_work"
in_background netns exec client timeout 120 smbclient //198.18.2.20/data -U "bob%$password" \
	-c 'put up.bin up.bin; get down.bin down.bin' >"$gw_work/smbclient.log" 2>&1 || {
	sed 's/^/  smbclient| /' "$gw_work/smbclient.log"
	fail "smbclient failed"
}
sed 's/^/  /' "$gw_work/smbclient.log"

up_sent=$(sha256sum <"$gw_work/up.bin")
up_got=$(sha256sum <"$share/up.bin" 2>/dev/null || echo missing)
down_sent=$(sha256sum <"$share/down.bin")
down_got=$(sha256sum <"$gw_work/down.bin" 2>/dev/null || echo missing)
[ "$up_sent" = "$up_got" ] || fail "uploaded file differs (sha256 ${up_sent%% *} sent, ${up_got%% *} stored)"
[ "$down_sent" = "$down_got" ] || fail "downloaded file differs (sha256 ${down_sent%% *} stored, ${down_got%% *} received)"
step "sha256 equal both ways: up ${up_sent:0:16}..., down ${down_sent:0:16}..."

step "stopping the gateway (SIGTERM)"
gw_stop 20 || {
	[ "$gw_status" -eq 124 ] && fail "gateway did not stop within 20 s of SIGTERM"
	fail "gateway exited with status $gw_status"
}

# smbgw reports what it forwarded; each port carried at least the file it
# sent towards the other (1448-byte segments).
if grep -q '^== final counters ==' "$gw_work/gateway.log"; then
	sed -n '/^== final counters ==/,$p' "$gw_work/gateway.log" | sed 's/^/  /'
	min_frames=$((size_mb * 1048576 / 1448))
	for port in net_af_packet0 net_af_packet1; do
		rx=$(sed -n '/^== final counters ==/,$p' "$gw_work/gateway.log" |
			awk -v port="$port" '$1 == port {print $2; exit}')
		[ "${rx:-0}" -ge "$min_frames" ] ||
			fail "$port received ${rx:-no} frames, expected at least $min_frames"
	done
fi

echo "PASS: e2e-copy (${size_mb} MB each way through $(basename "$gw_binary"), $((SECONDS - started)) s)"
