#!/bin/bash
# SMB inside IP tunnels, offline (docs/policy.md, "Tunnels"): psexec's
# session (198.18.1.10 to 198.18.2.20) carried between two routers in GRE,
# IPv4 in IPv6, GRE with options carrying Ethernet, GRE in IP fragments,
# and IP in IP inside GRE (tests/pcaps/make_tunnel_captures.py).
#   1. No policy: each is read as the plain capture is: the same session
#      facts in the flow summary, the CM0062 alert 9000001 between the
#      inner hosts, the report's row for the inner pair, the tunnel counted
#      and named (flow summary, Suricata's "tunnel" object on every record
#      of the connection).
#   1b. An evasion: the session switching between plain and GRE frame by
#      frame (every other frame wrapped, both directions), hoping the two
#      halves are tracked apart: one connection, the plain capture's facts
#      and alerts, and refused the same (its ADMIN$ request comes plain,
#      so the refusal resets as the plain capture's does).
#   2. workstations may not use admin shares on servers: the ADMIN$ tree
#      connect is refused as in the plain capture (the same frames dropped
#      by policy), and no reset is made (it would need the tunnel's own
#      headers): the tunnelled connection is refused by dropping alone.
# Every EVE log is checked against Suricata's schema (fields relaxed).
# usage: test_tunnels.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
check="/usr/bin/python3 $here/../lib/eve_check.py"
. "$here/../lib/replay_checks.sh"
work=$(mktemp -d /tmp/smbgw-tunnels.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

fail() {
	echo "FAIL: $*"
	status=1
}

printf 'gateway: { ports = [ "a", "b" ]; };\n' >"$work/none.conf"
cat >"$work/deny.conf" <<'CONF'
gateway: { ports = [ "a", "b" ]; };
policy: {
  segments = (
    { name = "workstations"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; },
    { name = "routers"; prefixes = [ "198.18.200.0/23", "2001:db8:200::/40" ]; } );
  rules = (
    { from = "workstations"; to = "servers"; action = "deny"; share_class = "admin_share"; },
    { from = "workstations"; to = "servers"; action = "allow"; } );
};
CONF

# run NAME CONF CAPTURE: NAME.out, NAME.json
run() {
	rm -f "$work/$1.json"
	"$smbgw" -r "$3" -c "$work/$2.conf" -e "$work/$1.json" \
		>"$work/$1.out" 2>&1 || { fail "$1: smbgw -r exited $?"; sed 's/^/  | /' "$work/$1.out"; return 1; }
	eve_checked "$work/$1.json" "$1"
}

# line NAME PREFIX KEY: the number after KEY on the line starting PREFIX
line() { sed -n "s/^$2:.* $3 \([0-9][0-9]*\).*/\1/p" "$work/$1.out"; }

# drops NAME COLUMN: the capture row's COLUMN of the port table.
drops() { capture_column "$work/$1.out" "$2"; }

# The session as the plain capture shows it, less its packet counts
# (the tunnel adds bytes) and more.
summary() {
	sed -n '/^== SMB and DCE\/RPC flows ==$/,/^== /p' "$work/$1.out" |
		grep '^smb ' | sed 's/ packets .*//'
}
alerts() {
	$check "$work/$1.json" alerts | sort | tr '\n' ';'
}
report() {
	sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$work/$1.out" |
		sed '1,2d' | grep -v '^$' | cut -d, -f1-4,7-
}

run plain none "$pcaps/psexec_smb2.pcap" || exit 1
run plain_deny deny "$pcaps/psexec_smb2.pcap" || exit 1
want_summary=$(summary plain)
want_alerts=$(alerts plain)
want_report=$(report plain)
want_policy_drops=$(drops plain_deny policy)
[[ "$want_alerts" == *"9000001 198.18.1.10 198.18.2.20"* ]] || fail "plain: no 9000001 ($want_alerts)"
[ "$want_policy_drops" -gt 0 ] || fail "plain: nothing dropped by policy"

# 1b: built here from the plain capture with the captures' own GRE.
/usr/bin/python3 - "$here/../pcaps" "$pcaps/psexec_smb2.pcap" \
	"$work/tunnel_switch_psexec.pcap" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from make_tunnel_captures import gre
from scapy.all import IP, rdpcap, wrpcap
frames = [f for f in rdpcap(sys.argv[2]) if IP in f]
out = [gre(f) if n % 2 else f for n, f in enumerate(frames)]
for packet, frame in zip(out, frames):
    packet.time = frame.time
wrpcap(sys.argv[3], out)
PY

# capture, the decode counters (gre ip_in_ip) of the run, the flow
# summary's tunnel, EVE's tunnel.proto, the resets of the refusal (none
# when the refused request came inside the tunnel)
for spec in "tunnel_gre_psexec 122 0 gre GRE 0" \
		"tunnel_ip6ip_psexec 0 122 ip-in-ip IPIP 0" \
		"tunnel_gre_teb_psexec 122 0 gre GRE 0" \
		"tunnel_gre_frag_psexec 76 0 gre GRE 0" \
		"tunnel_nested_psexec 122 122 gre,ip-in-ip GRE 0" \
		"tunnel_switch_psexec 61 0 gre GRE 2"; do
	read -r name gre ip_in_ip tunnel proto resets <<<"$spec"
	capture=$pcaps/$name.pcap
	[ -e "$capture" ] || capture=$work/$name.pcap
	run "$name" none "$capture" || continue
	[ "$(line "$name" decoded gre)/$(line "$name" decoded ip_in_ip)/$(line "$name" decoded tunnel_unread)" = "$gre/$ip_in_ip/0" ] &&
		echo "ok: $name: decoded inside the tunnel (gre $gre, ip_in_ip $ip_in_ip)" ||
		fail "$name: decode counters: $(grep '^decoded:' "$work/$name.out")"
	want=${want_summary/ detected by-port / detected by-port tunnel $tunnel }
	[ "$(summary "$name")" = "$want" ] &&
		echo "ok: $name: the session's facts are the plain capture's, tunnel $tunnel" ||
		fail "$name: flow summary '$(summary "$name")', '$want' expected"
	jq -s -e --arg proto "$proto" '[.[] | select(.src_ip != null)] |
		length > 0 and all(.tunnel.proto == $proto)' "$work/$name.json" >/dev/null &&
		echo "ok: $name: every record of the connection says tunnel $proto" ||
		fail "$name: EVE records without tunnel.proto $proto"
	[ "$(alerts "$name")" = "$want_alerts" ] &&
		echo "ok: $name: the plain capture's alerts, 9000001 among them" ||
		fail "$name: alerts '$(alerts "$name")', '$want_alerts' expected"
	[ "$(report "$name")" = "$want_report" ] &&
		echo "ok: $name: the report counts the inner pair's connection" ||
		fail "$name: report '$(report "$name")', '$want_report' expected"

	run "${name}_deny" deny "$capture" || continue
	got="$(line "${name}_deny" policy smb_denied) $(line "${name}_deny" policy resets) $(line "${name}_deny" policy resets_failed)"
	[ "$got" = "1 $resets 0" ] &&
		echo "ok: $name: the ADMIN\$ tree connect refused, $resets resets" ||
		fail "$name: policy smb_denied resets resets_failed = $got, 1 $resets 0 expected"
	if [ "$name" != tunnel_gre_frag_psexec ]; then
		[ "$(drops "${name}_deny" policy)" = "$want_policy_drops" ] &&
			echo "ok: $name: the plain capture's $want_policy_drops frames dropped by policy" ||
			fail "$name: $(drops "${name}_deny" policy) frames dropped by policy, $want_policy_drops expected"
	else
		# Every fragment of a refused datagram counts as dropped.
		[ "$(drops "${name}_deny" policy)" -gt "$want_policy_drops" ] &&
			echo "ok: $name: the refused datagrams' fragments dropped by policy" ||
			fail "$name: $(drops "${name}_deny" policy) fragments dropped by policy"
	fi
	[ "$(drops "${name}_deny" 'rx=tx+drop')" = ok ] ||
		fail "$name: rx = tx + drops does not hold"
done

if [ $status -eq 0 ]; then
	echo "PASS: tunnels"
fi
exit $status
