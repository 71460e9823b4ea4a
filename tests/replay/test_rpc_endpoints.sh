#!/bin/bash
# DCE/RPC against an Active Directory DC, offline (tests/pcaps README):
# no "SMB or DCE/RPC on a non-standard port" alert (9000007) on any RPC
# capture, connections to the ports the endpoint mapper named classified
# "by endpoint mapper" with their interface even when the BIND is cut off,
# the NTLMSSP user of the DCE/RPC authentication in EVE and on the flow
# line, DCE/RPC on ports no Windows service uses and SMB off 139/445
# (8445 and 9445) still alerting, and the dynamic ranges configurable.
# usage: test_rpc_endpoints.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
check="/usr/bin/python3 $here/../lib/eve_check.py"
for tool in editcap tcprewrite; do
	command -v "$tool" >/dev/null || { echo "skipped: $tool missing"; exit 77; }
done
work=$(mktemp -d /tmp/smbgw-rpcep.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
NONSTANDARD=9000007

fail() {
	echo "FAIL: $*"
	status=1
}

pass() {
	echo "ok: $*"
}

# run NAME CAPTURE [CONF]: smbgw -r, output in NAME.out, EVE in NAME.json.
run() {
	local name=$1 capture=$2 conf=${3:-}
	"$smbgw" -r "$capture" ${conf:+-c "$conf"} -e "$work/$name.json" \
		>"$work/$name.out" 2>&1 || { fail "$name: smbgw -r exited $?"; return 1; }
	$check "$work/$name.json" valid >/dev/null || fail "$name: EVE log not valid"
}

# nonstandard_alerts NAME: how many new 9000007 alerts.
nonstandard_alerts() {
	$check "$work/$1.json" alerts | grep -c "^$NONSTANDARD " || true
}

counter() {	# counter NAME KEY: value after KEY on the counter lines
	awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' \
		"$work/$1.out" | head -1
}

# Every RPC capture: quiet.
for name in rpcdump_epm rpc_tcp_epm lookupsid_dc services_dc services_create_dc; do
	run "$name" "$pcaps/$name.pcap" || continue
	n=$(nonstandard_alerts "$name")
	[ "$n" = 0 ] || fail "$name: $n non-standard-port alerts"
	! grep -q "nonstandard-port" "$work/$name.out" ||
		fail "$name: a flow flagged nonstandard-port"
	pass "$name: no non-standard-port alert"
done

# ept_map named 49154 (samr) and 49153 (lsarpc): by endpoint mapper.
out=$work/rpc_tcp_epm.out
[ "$(counter rpc_tcp_epm dcerpc_by_endpoint_mapper)" = 2 ] ||
	fail "rpc_tcp_epm: dcerpc_by_endpoint_mapper is not 2"
[ "$(counter rpc_tcp_epm learned)" = 2 ] || fail "rpc_tcp_epm: 2 endpoints not learned"
for port in 49154 49153; do
	grep -Eq "^dcerpc 198\.18\.5\.10:[0-9]+ -> 198\.18\.5\.20:$port .* detected by-endpoint-mapper dialect - user SMBGW.Administrator " "$out" ||
		fail "rpc_tcp_epm: flow to $port not by-endpoint-mapper with its user"
done
$check "$work/rpc_tcp_epm.json" count flow >/dev/null
grep -q '"detected_by":"endpoint_mapper"' "$work/rpc_tcp_epm.json" ||
	fail "rpc_tcp_epm: no EVE flow detected_by endpoint_mapper"
n=$(grep -c '"request":"AUTH","interfaces":\[{"uuid":"[0-9a-f-]*","service":"samr"}\].*"ntlmssp":{"user":"Administrator","domain":"SMBGW"' "$work/rpc_tcp_epm.json" || true)
[ "$n" = 1 ] || fail "rpc_tcp_epm: $n EVE dcerpc AUTH records with the samr user"
pass "rpc_tcp_epm: 2 flows by endpoint mapper, user SMBGW\\Administrator logged"

# The samr connection picked up after its BIND and AUTH3 (frames 13-21
# removed): still DCE/RPC by endpoint mapper, calls named samr.
editcap "$pcaps/rpc_tcp_epm.pcap" "$work/nobind.pcap" 13-21 >/dev/null
run nobind "$work/nobind.pcap"
grep -Eq "^dcerpc 198\.18\.5\.10:[0-9]+ -> 198\.18\.5\.20:49154 .* detected by-endpoint-mapper " "$work/nobind.out" ||
	fail "nobind: samr flow not by-endpoint-mapper"
n=$(grep -c '"dest_port":49154.*"request":"REQUEST","req":{"opnum":0,[^}]*},"interfaces":\[{"uuid":"12345778-1234-abcd-ef00-0123456789ac","service":"samr","procedure":"SamrConnect"}\]' "$work/nobind.json" || true)
[ "$n" = 1 ] || fail "nobind: SamrConnect not named from the learned interface ($n)"
[ "$(nonstandard_alerts nobind)" = 0 ] || fail "nobind: non-standard-port alert"
pass "nobind: interface known without the BIND"

# Without the ept_map answer, 49154 is still in the dynamic range: DCE/RPC
# by content, no alert; with no dynamic ranges configured, it alerts.
editcap "$pcaps/rpc_tcp_epm.pcap" "$work/noepm.pcap" 1-12 >/dev/null
run noepm "$work/noepm.pcap"
grep -Eq "^dcerpc 198\.18\.5\.10:[0-9]+ -> 198\.18\.5\.20:49154 .* detected by-content dialect" "$work/noepm.out" ||
	fail "noepm: samr flow not by-content without the flag"
[ "$(nonstandard_alerts noepm)" = 0 ] || fail "noepm: alert on a dynamic port"
cat >"$work/noranges.conf" <<'CONF'
gateway: { ports = [ "a", "b" ]; };
dcerpc: { dynamic_ports = [ ]; };
CONF
run noranges "$work/noepm.pcap" "$work/noranges.conf"
[ "$(nonstandard_alerts noranges)" = 1 ] ||
	fail "noranges: no alert for DCE/RPC on 49154 outside any range and unlearned"
pass "dynamic range: quiet by default, alerting when not configured"

# DCE/RPC on a port no Windows service uses (the samr connection moved to
# 443, where no ept_map answer sent it): alert.
tcprewrite --portmap=49154:443 --fixcsum -i "$pcaps/rpc_tcp_epm.pcap" -o "$work/rpc443.pcap"
run rpc443 "$work/rpc443.pcap"
[ "$(nonstandard_alerts rpc443)" = 1 ] || fail "rpc443: DCE/RPC on 443 did not alert"
grep -Eq "^dcerpc .* -> 198\.18\.5\.20:443 .* detected by-content nonstandard-port" "$work/rpc443.out" ||
	fail "rpc443: flow not flagged nonstandard-port"
pass "DCE/RPC on 443 alerts"

# SMB on unexpected ports: 8445 (as captured) and 9445 alert.
run smb8445 "$pcaps/tunnel_port8445.pcap"
[ "$(nonstandard_alerts smb8445)" = 1 ] || fail "smb8445: no alert"
run smb9445 "$pcaps/tunnel_port9445.pcap"
[ "$(nonstandard_alerts smb9445)" = 1 ] || fail "smb9445: no alert"
grep -Eq "^smb .* -> 198\.18\.2\.20:9445 .* detected by-content nonstandard-port" "$work/smb9445.out" ||
	fail "smb9445: flow not flagged nonstandard-port"
# SMB on a dynamic port is still SMB where it does not belong.
tcprewrite --portmap=8445:49999 --fixcsum -i "$pcaps/tunnel_port8445.pcap" -o "$work/smb49999.pcap"
run smb49999 "$work/smb49999.pcap"
[ "$(nonstandard_alerts smb49999)" = 1 ] || fail "smb49999: SMB on a dynamic port did not alert"
pass "SMB on 8445, 9445 and 49999 alerts"

[ "$status" = 0 ] && echo "PASS: DCE/RPC endpoints and the non-standard-port rule"
exit "$status"
