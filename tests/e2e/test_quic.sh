#!/bin/bash
# End-to-end: SMB over QUIC through the live gateway (inline, af_packet).
# No SMB-over-QUIC server runs on Debian, so the clients send the first
# flights of tests/pcaps/quic_*.pcap (built to RFC 9001, and ngtcp2's)
# over real sockets, and a UDP listener on the server counts what arrives:
#
#   ws 198.18.1.10 (client), ok 198.18.1.11 (client2)
#     -- IF_A [gateway] IF_B -- server 198.18.2.20 (UDP 443, 8443)
#
# Policy: ws -> servers deny (SMB refused whole), ok -> servers allow.
#   a) ws: SMB over QUIC to 443: the Initial never arrives, the
#      short-header packets after it do (nothing of them is judged);
#   b) ws: HTTP/3 (built, and ngtcp2's) to 443: everything arrives;
#   c) ws: a hello of two datagrams: the first arrives, the second (which
#      completes the hello) does not;
#   d) ws: QUIC v2 with ALPN "h3,smb" to 8443: the Initial never arrives;
#   e) ok: SMB over QUIC to 443: everything arrives;
#   f) smbgwctl stats: quic smb_hellos 4, smb_denied 3, other_hellos 2;
#      EVE: quic records blocked for ws, allowed for ok, alert 9000007
#      for 8443; final counters rx = tx + drops on both ports;
#   g) smbgwctl policy check says what SMB over QUIC gets per pair.
#
# usage: test_quic.sh [SMBGW_BINARY [SMBGWCTL_BINARY]]
# Exit: 0 pass, 1 fail, 77 skipped (not root, or no scapy).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts
pcaps=$top/tests/pcaps

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-quic needs root (network namespaces, af_packet)"
	exit 77
fi
if ! /usr/bin/python3 -c 'import scapy.all' 2>/dev/null; then
	echo "skipped: python3-scapy is missing"
	exit 77
fi

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}
gw_work=$(mktemp -d /tmp/smbgw-quic.XXXXXX)
chmod 0711 "$gw_work"   # the topology's smbd serves shares below it
gw_file_prefix=smbgw-quic-$$
started=$SECONDS
check="/usr/bin/python3 $top/tests/lib/eve_check.py"
peer="/usr/bin/python3 $here/quic_peer.py"
schema=$top/tests/schema/suricata-eve-schema.json

export SMBGW_NETNS_PREFIX=qu$$
export SMBGW_IF_A=qua$$
export SMBGW_IF_B=qub$$
export SMBGW_NETNS_DIR=$gw_work/netns
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

ws=198.18.1.10
allowed=198.18.1.11
server=198.18.2.20
conf=$gw_work/policy.conf
socket=$gw_work/control.sock
received=$gw_work/received.log
checks=0
failures=()

cleanup() {
	gw_cleanup
	[ -z "${listener:-}" ] || kill "$listener" 2>/dev/null || true
	timeout 60 "$scripts/netns.sh" down >/dev/null 2>&1 ||
		echo "e2e-quic: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-quic: $*"
	if [ -n "${gw_log:-}" ] && [ -s "$gw_log" ]; then
		echo "-- gateway output (last 30 lines)"
		tail -n 30 "$gw_log" | sed 's/^/  gateway| /'
	fi
	exit 1
}

[ -x "$gw_binary" ] || fail "no gateway binary at $gw_binary"
[ -x "$ctl_binary" ] || fail "no smbgwctl binary at $ctl_binary"

cat >"$conf" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_af_packet0", "net_af_packet1" ];
  workers = 1;
  stats_interval = 0;
};
flows: { max_flows = 65536; sessions = 256; };
control: { socket = "$socket"; };
output: { eve = "$gw_work/eve.json"; };
policy: {
  default_action = "allow";
  segments = (
    { name = "ws"; prefixes = [ "$ws/32" ]; },
    { name = "ok"; prefixes = [ "$allowed/32" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; }
  );
  rules = (
    { from = "ws"; to = "servers"; action = "deny"; },
    { from = "ok"; to = "servers"; action = "allow"; }
  );
};
CONF
gw_check_config "$conf" >"$gw_work/check.out" 2>&1 ||
	{ cat "$gw_work/check.out"; fail "smbgw --check-config refuses the configuration"; }

step "topology: ws $ws, ok $allowed -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server $server"
timeout 60 "$scripts/netns.sh" up --hosts 3 >"$gw_work/netns.log" 2>&1 </dev/null ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }
: >"$received"
"$scripts/netns.sh" exec server $peer listen "$received" 443 8443 &
listener=$!

gw_log=$gw_work/gateway.log
step "gateway: $gw_binary on $conf"
gw_start_with_config "$gw_log" "$conf"
gw_wait_forwarding client2 30 "$server" ||
	fail "no TCP connection from $allowed to $server:445 through the gateway within 30 s"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done

# send HOST CAPTURE PORT SRC_PORT [FIRST [LAST]]
send() {
	local host=$1 capture=$2 port=$3 src=$4
	shift 4
	"$scripts/netns.sh" exec "$host" $peer send "$pcaps/$capture" "$server" \
		"$port" "$src" "$@" || fail "sending $capture from $host failed"
}

# arrived SRC_PORT [MIN_LEN]: datagrams from SRC_PORT that arrived (at
# least MIN_LEN bytes long: 1200 picks the Initials)
arrived() {
	awk -v p="$1" -v min="${2:-0}" '$1 == p && $3 >= min' "$received" | wc -l
}

step "sending the first flights"
send client quic_smb.pcap 443 41001
send client quic_h3.pcap 443 41002
send client quic_ngtcp2_h3.pcap 443 41003 1 1
send client quic_smb_two_datagrams.pcap 443 41004
send client quic_smb_v2_port8443.pcap 8443 41005
send client2 quic_smb.pcap 443 41006
sleep 1

[ "$(arrived 41001 1200)" = 0 ] && [ "$(arrived 41001)" = 3 ] &&
	ok "a) ws: the SMB hello dropped, the 3 short-header packets after it forwarded" ||
	bad "a) ws: SMB over QUIC: $(arrived 41001 1200) Initials, $(arrived 41001) datagrams arrived (0 and 3 expected)"
[ "$(arrived 41002)" = 4 ] && [ "$(arrived 41003)" = 1 ] &&
	ok "b) ws: HTTP/3 (built and ngtcp2's) arrives whole" ||
	bad "b) ws: HTTP/3: $(arrived 41002) of 4 and $(arrived 41003) of 1 arrived"
[ "$(arrived 41004 1200)" = 1 ] &&
	ok "c) ws: of a hello's two datagrams, only the first arrived" ||
	bad "c) ws: two datagrams: $(arrived 41004 1200) Initials arrived (1 expected)"
[ "$(arrived 41005 1200)" = 0 ] &&
	ok "d) ws: QUIC v2 offering h3 and smb to 8443 dropped" ||
	bad "d) ws: v2 to 8443: $(arrived 41005 1200) Initials arrived"
[ "$(arrived 41006 1200)" = 1 ] &&
	ok "e) ok: SMB over QUIC between allowed segments arrives" ||
	bad "e) ok: $(arrived 41006 1200) Initials arrived (1 expected)"

timeout 10 "$ctl_binary" -s "$socket" --json stats >"$gw_work/stats.json" 2>&1 || true
got=$(/usr/bin/python3 -c 'import json, sys
q = json.load(open(sys.argv[1]))["result"]["quic"]
print(q["smb_hellos"], q["smb_denied"], q["other_hellos"])' "$gw_work/stats.json" 2>/dev/null || echo "?")
[ "$got" = "4 3 2" ] && ok "f) smbgwctl stats: quic smb_hellos 4, smb_denied 3, other_hellos 2" ||
	bad "f) smbgwctl stats quic (smb_hellos smb_denied other_hellos): '$got'"

# policy check: what SMB over QUIC gets between the segments.
quic_check() {
	timeout 10 "$ctl_binary" -s "$socket" --json policy check "$1" "$server" "$2" \
		>"$gw_work/check.json" 2>&1 || true
	/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["result"]
print(r["smb_over_quic"], r["smb_over_quic_blocks"])' "$gw_work/check.json" 2>/dev/null || echo "?"
}
[ "$(quic_check $ws 443)" = "deny True" ] && [ "$(quic_check $allowed 8443)" = "allow False" ] &&
	ok "g) smbgwctl policy check: SMB over QUIC denied for ws, allowed for ok" ||
	bad "g) smbgwctl policy check: ws '$(quic_check $ws 443)', ok '$(quic_check $allowed 8443)'" "$gw_work/check.json"

if gw_stop 20; then
	ok "gateway exited 0 on SIGTERM"
else
	bad "gateway exited with status $gw_status" "$gw_log"
fi
read -r id0 <<<"$(counters_row "$gw_log" "final counters" net_af_packet0 rx=tx+drop)"
read -r id1 <<<"$(counters_row "$gw_log" "final counters" net_af_packet1 rx=tx+drop)"
[ "$id0" = ok ] && [ "$id1" = ok ] && ok "final counters rx=tx+drop ok" ||
	bad "final counters rx=tx+drop '$id0' / '$id1'" "$gw_log"

eve=$gw_work/eve.json
quic_records=$(jq -r 'select(.event_type == "quic") |
	"\(.src_ip) \(.dest_port) \(.policy_action)"' "$eve" | sort | tr '\n' ';')
want="$ws 443 blocked;$ws 443 blocked;$ws 8443 blocked;$allowed 443 allowed;"
[ "$quic_records" = "$want" ] && ok "f) EVE: a quic record per SMB hello, with what the policy did" ||
	bad "f) EVE quic records '$quic_records', '$want' expected"
$check "$eve" alert 9000007 src_ip=$ws dest_port=8443 proto=UDP \
	alert.policy_action=blocked >/dev/null &&
	ok "f) EVE: alert 9000007 for SMB over QUIC on 8443, blocked" ||
	bad "f) EVE: no alert 9000007 for 8443"
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	$check "$eve" schema "$schema" >"$gw_work/schema.out" &&
		ok "EVE records fit Suricata's schema" ||
		bad "EVE records do not fit Suricata's schema" "$gw_work/schema.out"
else
	echo "      skipped: schema check (no python3-jsonschema)"
fi

step "$checks checks, ${#failures[@]} failed"
[ ${#failures[@]} -eq 0 ] || { printf 'FAIL: %s\n' "${failures[@]}"; exit 1; }
echo "PASS: e2e-quic"
