#!/bin/bash
# End-to-end: RPC policy (CM0100) through the gateway. A Samba AD domain
# controller (scripts/samba_dc.sh) at 198.18.2.40 behind IF_B, two hosts
# behind IF_A (netns.sh up --hosts 3):
#
#   ws1 198.18.1.10 (workstations), client2 198.18.1.11 (domain_controllers)
#     -- IF_A [gateway] IF_B -- server namespace: DC 198.18.2.40
#
# Policy: workstations may not call drsuapi on servers (the rule names the
# whole interface, so the bind is refused); everything else is allowed.
#
# 1. secretsdump.py -just-dc from ws1 fails: the drsuapi connection is
#    reset before any DRSGetNCChanges, and the gateway reports a deny of
#    rule 1 ("policy:" denied > 0).
# 2. secretsdump.py -just-dc from client2 reaches the replication: the
#    DC answers DRSGetNCChanges (Impacket 0.10.0 cannot parse Samba 4.17's
#    answer and stops there, after the call went through).
# 3. The same from ws1 in monitor-only mode reaches the replication too,
#    and the gateway counts would_deny > 0.
#
# usage: test_rpc_policy.sh [SMBGW_BINARY]
# Exit: 0 pass, 1 fail, 77 skipped (not root, or a tool missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-rpc-policy needs root (network namespaces, af_packet)"
	exit 77
fi
secretsdump=/usr/share/doc/python3-impacket/examples/secretsdump.py
for tool in samba samba-tool smbd; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh)"; exit 77; }
done
[ -r "$secretsdump" ] || { echo "SKIP: Impacket examples missing (scripts/deps.sh)"; exit 77; }

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
gw_work=$(mktemp -d /tmp/smbgw-rpcpol.XXXXXX)
chmod 0711 "$gw_work"
gw_file_prefix=smbgw-rpcpol-$$
started=$SECONDS
dc_ip=198.18.2.40
ws1=198.18.1.10
dcclient=198.18.1.11
dcdir=${SMBGW_DC_DIR:-$gw_work/dc}

export SMBGW_NETNS_PREFIX=rppol$$
export SMBGW_IF_A=rpa$$
export SMBGW_IF_B=rpb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_SMB_ENCRYPT=off
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

failures=()

cleanup() {
	gw_cleanup
	"$scripts/samba_dc.sh" stop "$dcdir" >/dev/null 2>&1 || true
	timeout 60 "$scripts/netns.sh" down >/dev/null 2>&1 || echo "e2e-rpc-policy: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() {
	echo "ok: $*"
}

bad() {
	echo "FAIL: $*"
	failures+=("$*")
}

die() {
	echo "FAIL: $*"
	exit 1
}

# write_conf MODE: the policy in enforce or monitor-only mode.
write_conf() {
	gw_write_config "$gw_work/smbgw.conf"
	cat >>"$gw_work/smbgw.conf" <<CONF
policy: {
  mode = "$1";
  segments = (
    { name = "domain_controllers"; prefixes = [ "$dcclient/32" ]; },
    { name = "workstations"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; } );
  rules = (
    { name = "no-drsuapi-from-workstations"; from = "workstations"; to = "servers";
      action = "deny"; rpc_interface = "drsuapi"; },
    { from = "any"; to = "any"; action = "allow"; } );
};
CONF
	gw_check_config "$gw_work/smbgw.conf" >"$gw_work/check.out" 2>&1 ||
		{ cat "$gw_work/check.out"; die "smbgw --check-config refuses the $1 configuration"; }
}

# dump HOST OUT: secretsdump.py -just-dc from HOST against the DC.
dump() {
	# In the scratch directory: secretsdump.py leaves a resume file there.
	cd "$gw_work"
	"$scripts/netns.sh" exec "$1" timeout 90 /usr/bin/python3 "$secretsdump" -debug -just-dc \
		"SMBGW/Administrator:Smbgw-pass1@$dc_ip" >"$2" 2>&1 || true
}

# reached OUT: the replication call went out and the DC answered it.
reached() {
	grep -q 'Calling DRSGetNCChanges' "$1" &&
		! grep -qiE 'connection reset|Broken pipe|Connection refused|timed out' "$1"
}

step "topology: two hosts behind IF_A, the DC behind IF_B"
timeout 60 "$scripts/netns.sh" up --hosts 3 >"$gw_work/netns.log" 2>&1 </dev/null ||
	{ cat "$gw_work/netns.log"; die "netns.sh up failed"; }
server_ns=$SMBGW_NETNS_PREFIX-server
ip -n "$server_ns" addr add "$dc_ip/15" dev eth0
step "Samba AD DC at $dc_ip (provisioning takes up to a minute)"
SMBGW_DC_PLEN=15 "$scripts/samba_dc.sh" start "$server_ns" "$dc_ip" "$dcdir" >"$gw_work/dc.log" 2>&1 ||
	{ cat "$gw_work/dc.log"; die "the DC did not start"; }

for mode in enforce monitor-only; do
	write_conf "$mode"
	step "gateway ($mode)"
	gw_start_with_config "$gw_work/gw-$mode.log" "$gw_work/smbgw.conf"
	gw_wait_forwarding client 30 "$dc_ip" || die "no connection through the gateway ($mode)"
	if [ "$mode" = enforce ]; then
		step "secretsdump.py -just-dc from the workstation $ws1"
		dump client "$gw_work/ws.out"
		if grep -q 'Calling DRSGetNCChanges' "$gw_work/ws.out"; then
			bad "from $ws1: DRSGetNCChanges was called through a drsuapi deny"
		else
			ok "from $ws1: secretsdump fails before any DRSGetNCChanges ($(grep -m1 -E '^\[-\]' "$gw_work/ws.out" || echo no error line))"
		fi
		step "secretsdump.py -just-dc from the domain controller address $dcclient"
		dump client2 "$gw_work/dc.out"
		if reached "$gw_work/dc.out"; then
			ok "from $dcclient: DRSGetNCChanges called and answered"
		else
			bad "from $dcclient: the replication did not go through"
			sed 's/^/    | /' "$gw_work/dc.out" | tail -8
		fi
	else
		step "secretsdump.py -just-dc from $ws1, monitor-only"
		dump client "$gw_work/ws-monitor.out"
		reached "$gw_work/ws-monitor.out" && ok "monitor-only: from $ws1 the replication goes through" ||
			bad "monitor-only: from $ws1 the replication did not go through"
	fi
	gw_stop 20 || bad "gateway ($mode) did not exit 0 on SIGTERM"
	line=$(grep '^policy:' "$gw_work/gw-$mode.log" | tail -1 || true)
	echo "    $line"
	if [ "$mode" = enforce ]; then
		grep -qE '^policy:.* smb_denied [1-9]' "$gw_work/gw-$mode.log" &&
			ok "enforce: the gateway counts the denial" || bad "enforce: no denial counted ($line)"
	else
		grep -qE '^policy:.*would_deny [1-9]' "$gw_work/gw-$mode.log" &&
			ok "monitor-only: would_deny counted" || bad "monitor-only: would_deny not counted ($line)"
	fi
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "e2e-rpc-policy: ${#failures[@]} failure(s)"
	exit 1
fi
echo "e2e-rpc-policy: all passed"
