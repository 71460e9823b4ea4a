#!/bin/bash
# End-to-end: the segment-pair policy topology (netns.sh up --layout policy
# --mgmt) carries SMB through the gateway in every direction the policy
# tests use. ws1 and mgmt (behind IF_A) list the data shares of the file
# server and of workstation ws2 (both behind IF_B); impacket psexec.py from
# ws1 gets as far as CreateServiceW on the file server (Samba answers
# nca_s_op_rng_error). The gateway runs on a configuration file of the
# test's own (gw_start_with_config) and must stop on SIGTERM with status 0.
#
# usage: test_policy_topology.sh [GATEWAY_BINARY]
#   GATEWAY_BINARY  smbgw (default: build/app/smbgw), or dpdk-testpmd as a
#                   stand-in bridge.
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-policy-topology needs root (network namespaces, af_packet)"
	exit 77
fi

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
password=Smbgw-pol-$$
gw_work=$(mktemp -d /tmp/smbgw-pol.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves shares below it as bob
gw_file_prefix=smbgw-pol-$$
started=$SECONDS
psexec=/usr/share/doc/python3-impacket/examples/psexec.py

export SMBGW_NETNS_PREFIX=smbgwpol$$
export SMBGW_IF_A=pola$$
export SMBGW_IF_B=polb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# Unencrypted SMB3 also for impacket, so the gateway sees ADMIN$ and svcctl.
export SMBGW_SMB_ENCRYPT=off
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

netns() {
	"$scripts/netns.sh" "$@"
}

cleanup() {
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "e2e-policy-topology: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-policy-topology: $*"
	if [ -s "$gw_work/gateway.log" ]; then
		echo "-- gateway output (last 40 lines)"
		tail -n 40 "$gw_work/gateway.log" | sed 's/^/  gateway| /'
	fi
	exit 1
}

[ -x "$gw_binary" ] || command -v "$gw_binary" >/dev/null ||
	fail "no gateway binary at $gw_binary"
for tool in smbclient smbd ethtool ip; do
	command -v "$tool" >/dev/null || fail "missing $tool (see tests/e2e/README.md)"
done

step "topology: ws1 198.18.1.10, mgmt 198.18.1.50 -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server 198.18.2.20, ws2 198.18.3.30"
in_background timeout 60 "$scripts/netns.sh" up --layout policy --mgmt >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }

conf=$gw_work/policy.conf
cat >"$conf" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_af_packet0", "net_af_packet1" ];
  workers = 1;
  stats_interval = 0;
};
CONF
step "gateway: $gw_binary on $conf"
gw_start_with_config "$gw_work/gateway.log" "$conf"
gw_wait_forwarding ws1 30 198.18.3.30 || {
	gw_running || fail "gateway exited during start-up"
	fail "no TCP connection from ws1 to 198.18.3.30:445 through the gateway within 30 s"
}

for host in ws1 mgmt; do
	for target in 198.18.2.20 198.18.3.30; do
		step "$host: smbclient //$target/data -c 'get readme.txt'"
		in_background netns exec "$host" timeout 60 smbclient "//$target/data" -U "bob%$password" \
			-c 'get readme.txt -' >"$gw_work/smbclient.log" 2>&1 || {
			sed 's/^/  smbclient| /' "$gw_work/smbclient.log"
			fail "$host could not read //$target/data"
		}
		case $target in
		198.18.2.20) want="hello from the file server" ;;
		*) want="hello from ws2" ;;
		esac
		grep -qx "$want" "$gw_work/smbclient.log" ||
			fail "$host read the wrong readme.txt from $target: $(head -n 1 "$gw_work/smbclient.log")"
	done
done

if [ -r "$psexec" ]; then
	step "ws1: psexec.py root@198.18.2.20 (expect CreateServiceW to fail: nca_s_op_rng_error)"
	t0=${EPOCHREALTIME/./}
	in_background netns exec ws1 timeout 60 /usr/bin/python3 "$psexec" \
		"root:$password@198.18.2.20" cmd >"$gw_work/psexec.log" 2>&1 || true
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	sed 's/^/  /' "$gw_work/psexec.log"
	if ! grep -q 'Creating service' "$gw_work/psexec.log" ||
		! grep -q 'nca_s_op_rng_error' "$gw_work/psexec.log"; then
		fail "psexec.py did not reach CreateServiceW"
	fi
	step "psexec.py done in $ms ms"
else
	step "psexec: $psexec missing (python3-impacket), skipped"
fi

step "stopping the gateway (SIGTERM)"
gw_stop 20 || {
	[ "$gw_status" -eq 124 ] && fail "gateway did not stop within 20 s of SIGTERM"
	fail "gateway exited with status $gw_status"
}
# smbgw lists the SMB flows it saw: the workstation-to-workstation one too.
if grep -q '^== SMB and DCE/RPC flows ==' "$gw_work/gateway.log"; then
	for pair in '198.18.1.10:[0-9]* -> 198.18.3.30:445' '198.18.1.50:[0-9]* -> 198.18.3.30:445' \
		'198.18.1.10:[0-9]* -> 198.18.2.20:445'; do
		grep -q "^smb $pair .*user WORKGROUP\\\\bob" "$gw_work/gateway.log" ||
			fail "smbgw did not report an SMB session $pair as bob"
	done
fi

echo "PASS: e2e-policy-topology (through $(basename "$gw_binary"), $((SECONDS - started)) s)"
