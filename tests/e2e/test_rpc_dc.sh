#!/bin/bash
# End-to-end DCE/RPC against an Active Directory DC through the running
# gateway: a Samba AD DC (scripts/samba_dc.sh) on a second server address,
# Impacket's ept_map + samr/lsarpc over TCP (tests/pcaps/rpc_tcp_client.py)
# and services.py from the client. The gateway must learn the endpoints the
# endpoint mapper names, classify the connections to them "by endpoint
# mapper", log the NTLMSSP user of their DCE/RPC authentication, and raise
# no "non-standard port" alert (9000007).
#
# usage: test_rpc_dc.sh [SMBGW_BINARY]
# Exit: 0 pass, 1 fail, 77 skipped (not root, or no samba-ad-dc).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-rpc-dc needs root (network namespaces, af_packet)"
	exit 77
fi
command -v samba >/dev/null || { echo "SKIP: samba-ad-dc not installed"; exit 77; }

gw_binary=${1:-$top/build/app/smbgw}
gw_work=$(mktemp -d /tmp/smbgw-rpcdc.XXXXXX)
chmod 0711 "$gw_work"
gw_file_prefix=smbgw-rpcdc-$$
check="/usr/bin/python3 $top/tests/lib/eve_check.py"
dc_ip=198.18.2.21
dc_dir=${SMBGW_DC_DIR:-$gw_work/dc}
examples=/usr/share/doc/python3-impacket/examples

export SMBGW_NETNS_PREFIX=smbgwrpc$$
export SMBGW_IF_A=rpca$$
export SMBGW_IF_B=rpcb$$
export SMBGW_NETNS_DIR=$gw_work/netns
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

cleanup() {
	gw_cleanup
	"$scripts/samba_dc.sh" stop "$dc_dir" || true
	timeout 60 "$scripts/netns.sh" down || echo "e2e-rpc-dc: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-rpc-dc: $*"
	[ -s "$gw_work/gateway.log" ] && tail -n 40 "$gw_work/gateway.log" | sed 's/^/  gateway| /'
	[ -s "$gw_work/client.log" ] && sed 's/^/  client| /' "$gw_work/client.log"
	exit 1
}

timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; fail "could not set up the namespaces"; }
ip -n "$SMBGW_NETNS_PREFIX-server" addr add "$dc_ip/15" dev eth0
timeout 120 "$scripts/samba_dc.sh" start "$SMBGW_NETNS_PREFIX-server" "$dc_ip" "$dc_dir" \
	>"$gw_work/dc.log" 2>&1 || { cat "$gw_work/dc.log"; fail "the DC did not start"; }
# shellcheck disable=SC1090
eval "$("$scripts/samba_dc.sh" env "$dc_dir")"

cat >"$gw_work/rpc.conf" <<CONF
gateway: {
  ports = [ "$(gw_port 0)", "$(gw_port 1)" ];
  stats_interval = 0;
};
output: { eve = "$gw_work/eve.json"; };
control: { socket = "$gw_work/smbgw.sock"; };
CONF
gw_start_with_config "$gw_work/gateway.log" "$gw_work/rpc.conf"
gw_wait_forwarding client 30 "$dc_ip" || fail "the gateway does not forward"

timeout 120 "$scripts/netns.sh" exec client /usr/bin/python3 \
	"$top/tests/pcaps/rpc_tcp_client.py" "$dc_ip" "$SMBGW_DC_DOMAIN" \
	"$SMBGW_DC_USER" "$SMBGW_DC_PASSWORD" >"$gw_work/client.log" 2>&1 </dev/null ||
	fail "rpc_tcp_client.py failed"
grep -q '^samr: user Administrator' "$gw_work/client.log" || fail "samr over TCP gave no users"
timeout 120 "$scripts/netns.sh" exec client /usr/bin/python3 "$examples/services.py" \
	"$SMBGW_DC_DOMAIN/$SMBGW_DC_USER:$SMBGW_DC_PASSWORD@$dc_ip" list \
	>>"$gw_work/client.log" 2>&1 </dev/null || fail "services.py failed"
grep -q 'Total Services' "$gw_work/client.log" || fail "services.py listed nothing"

gw_stop 20 || fail "the gateway did not exit cleanly (status $gw_status)"
log=$gw_work/gateway.log
$check "$gw_work/eve.json" valid >/dev/null || fail "EVE log not valid JSON lines"
n=$($check "$gw_work/eve.json" alerts | grep -c '^9000007 ' || true)
[ "$n" = 0 ] || fail "$n non-standard-port alerts"
grep -q 'dcerpc_by_endpoint_mapper 2 ' "$log" || fail "not 2 flows by endpoint mapper"
# The ports the endpoint mapper gave (Samba hands them out at start).
ports=$(grep -o "^ept_map: ncacn_ip_tcp:$dc_ip\[[0-9]*\]" "$gw_work/client.log" |
	grep -o '[0-9]*\]$' | tr -d ']')
[ "$(echo "$ports" | wc -w)" = 2 ] || fail "expected 2 ept_map answers, got: $ports"
for port in $ports; do
	grep -Eq "^dcerpc 198\.18\.1\.10:[0-9]+ -> $dc_ip:$port .* detected by-endpoint-mapper dialect - user SMBGW.Administrator " "$log" ||
		fail "the flow to $port is not by-endpoint-mapper with its user"
done
grep -q '"request":"AUTH","interfaces":\[{"uuid":"[0-9a-f-]*","service":"samr"}\].*"ntlmssp":{"user":"Administrator","domain":"SMBGW"' \
	"$gw_work/eve.json" || fail "no dcerpc AUTH record for samr"
grep -Eq "^smb 198\.18\.1\.10:[0-9]+ -> $dc_ip:445 .* detected by-port .* user SMBGW.Administrator " "$log" ||
	fail "no SMB flow for services.py"
echo "PASS: e2e-rpc-dc"
