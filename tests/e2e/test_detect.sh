#!/bin/bash
# End-to-end detection: Impacket's psexec.py from a client, through the
# running gateway, against a real Samba server. The gateway must raise the
# CM0062 alert live (in its EVE log while it still runs), naming the user,
# ADMIN$ and the uploaded executable, and report the connection.
#
# usage: test_detect.sh [SMBGW_BINARY]
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-detect needs root (network namespaces, af_packet)"
	exit 77
fi

gw_binary=${1:-$top/build/app/smbgw}
password=Smbgw-det-$$
gw_work=$(mktemp -d /tmp/smbgw-detect.XXXXXX)
chmod 0711 "$gw_work"
gw_file_prefix=smbgw-detect-$$
psexec=/usr/share/doc/python3-impacket/examples/psexec.py
check="/usr/bin/python3 $top/tests/lib/eve_check.py"

export SMBGW_NETNS_PREFIX=smbgwdet$$
export SMBGW_IF_A=deta$$
export SMBGW_IF_B=detb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# Samba seals sessions that ask for it; psexec.py would, and then the
# gateway could see nothing past the logon (a case the replay tests cover).
export SMBGW_SMB_ENCRYPT=off
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

cleanup() {
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "e2e-detect: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-detect: $*"
	[ -s "$gw_work/gateway.log" ] && tail -n 40 "$gw_work/gateway.log" | sed 's/^/  gateway| /'
	[ -s "$gw_work/psexec.log" ] && sed 's/^/  psexec| /' "$gw_work/psexec.log"
	exit 1
}

timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; fail "could not set up the namespaces"; }
cat >"$gw_work/detect.conf" <<CONF
gateway: {
  ports = [ "net_af_packet0", "net_af_packet1" ];
  stats_interval = 0;
};
output: { eve = "$gw_work/eve.json"; stats_interval = 1; };
control: { socket = "$gw_work/smbgw.sock"; };
CONF
gw_start_with_config "$gw_work/gateway.log" "$gw_work/detect.conf"
gw_wait_forwarding client 30 || fail "the gateway does not forward"

timeout 90 "$scripts/netns.sh" exec client timeout 60 /usr/bin/python3 "$psexec" \
	"root:$password@198.18.2.20" cmd >"$gw_work/psexec.log" 2>&1 </dev/null || true
grep -q 'Creating service' "$gw_work/psexec.log" || fail "psexec.py did not reach service creation"

# Live: the alert is in the EVE log before the gateway stops.
for _ in $(seq 100); do
	$check "$gw_work/eve.json" alert 9000001 src_ip=198.18.1.10 dest_ip=198.18.2.20 \
		smb.ntlmssp.user=root smb.share=ADMIN\$ 'smb.filename=*.exe' >/dev/null 2>&1 && break
	sleep 0.1
done
$check "$gw_work/eve.json" alert 9000001 src_ip=198.18.1.10 dest_ip=198.18.2.20 \
	smb.ntlmssp.user=root smb.share=ADMIN\$ 'smb.filename=*.exe' ||
	fail "no live CM0062 alert for psexec"
gw_running || fail "the gateway died"
echo "ok: CM0062 raised live: $(grep -m1 '"signature_id":9000001' "$gw_work/eve.json" | cut -c1-160)..."

gw_stop 20 || fail "the gateway did not exit cleanly (status $gw_status)"
$check "$gw_work/eve.json" valid >/dev/null || fail "EVE log not valid JSON lines"
# Every record of the live run fits Suricata's schema (own fields allowed),
# flow ids stay within 51 bits and no record precedes its flow's start.
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	$check "$gw_work/eve.json" schema "$top/tests/schema/suricata-eve-schema.json" \
		>"$gw_work/schema.out" && echo "ok: live EVE log: $(cat "$gw_work/schema.out")" ||
		{ sed 's/^/  | /' "$gw_work/schema.out" | head -20; fail "live EVE records do not fit Suricata's schema"; }
else
	echo "skipped: schema check (no python3-jsonschema)"
fi
$check "$gw_work/eve.json" own "$top/tests/schema/suricata-eve-schema.json" \
	"$top/docs/detection.md" >/dev/null || fail "live EVE log: fields of smbgw's own not documented"
$check "$gw_work/eve.json" flows || fail "live EVE log: flow ids or starts"
[ "$($check "$gw_work/eve.json" count stats)" -gt 0 ] || fail "no live stats record"
grep -q '^alert 9000001 .* user LAB\\root share ADMIN\$ file [A-Za-z]*\.exe' "$gw_work/gateway.log" ||
	grep -q '^alert 9000001 .*share ADMIN\$ file [A-Za-z]*\.exe' "$gw_work/gateway.log" ||
	fail "the gateway's summary does not list the alert"
sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$gw_work/gateway.log" |
	grep -q ',198.18.1.10,198.18.2.20,[1-9][0-9]*,' || fail "no report row for the pair"
echo "PASS: e2e-detect"
