#!/bin/bash
# SMB over QUIC, offline (tests/pcaps/README.md, "SMB over QUIC"): a
# client 198.18.16.10 (workstations) to a server 198.18.2.20 (servers).
#   1. No policy: the SMB hello is counted, reported as an SMB connection
#      allowed (report and EVE flow record, app_proto quic, smb_over_quic),
#      its quic record names the server and ALPN; HTTP/3 (built, and a
#      real ngtcp2 exchange) is QUIC but not SMB: no record, no report.
#   2. workstations may not speak SMB to servers: the client's Initial is
#      dropped (policy), the rest of the capture forwarded; HTTP/3 between
#      the same hosts passes untouched.
#   2b. A 0-RTT packet and an undecryptable Initial coalesced before the
#      hello's Initial: the datagram is read and dropped all the same.
#   2c. After a Retry the same hello under another connection ID: one
#      connection, both Initials dropped.
#   2d. A decoy second datagram (another ALPN, a bad UDP checksum) before
#      the real one: the real one conflicts and is dropped.
#   2e. QUIC draft-29 and msquic's 0xabcd0000: read, dropped.
#   3. A hello of two datagrams: only the one that completes it dropped.
#   4. QUIC v2 on port 8443 (IPv6): dropped, and alert 9000007 (SMB on a
#      non-standard port, T1572), proto UDP.
#   5. A pair that allows SMB with a deny rule on admin shares: the
#      session cannot be read, so the unverifiable action decides (deny by
#      default: dropped, alert 9000009 "quic"; allow: forwarded).
#   6. monitor-only: forwarded, would_deny.
#   7. The second datagram of a hello alone (its start lost): dropped
#      where SMB is refused, forwarded where it is allowed.
#   8. Initials in IP fragments (IPv4, IPv6): the first fragment dropped
#      where SMB is refused, forwarded where it is allowed.
#   9. Initials past flows.quic_hellos_per_second: not read.
# Every EVE log is checked against Suricata's schema (fields relaxed).
# usage: test_quic.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
check="/usr/bin/python3 $here/../lib/eve_check.py"
. "$here/../lib/replay_checks.sh"
work=$(mktemp -d /tmp/smbgw-quic.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
NONSTANDARD=9000007
UNVERIFIABLE=9000009

fail() {
	echo "FAIL: $*"
	status=1
}

# conf NAME GROUP_KEYS RULES: a configuration with the two segments.
conf() {
	cat >"$work/$1.conf" <<CONF
gateway: { ports = [ "a", "b" ]; };
policy: {
  $2
  segments = (
    { name = "workstations"; prefixes = [ "198.18.16.0/21", "2001:db8:10::/48" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24", "2001:db8:2::/48" ]; } );
  rules = ( $3 );
};
CONF
}
printf 'gateway: { ports = [ "a", "b" ]; };\n' >"$work/none.conf"

DENY='{ from = "workstations"; to = "servers"; action = "deny"; }'
DENY_ADMIN='{ from = "workstations"; to = "servers"; action = "deny"; share_class = "admin_share"; },'
ALLOW='{ from = "workstations"; to = "servers"; action = "allow"; }'

# run NAME CONF CAPTURE: NAME.out, NAME.json
run() {
	rm -f "$work/$1.json"
	"$smbgw" -r "$3" -c "$work/$2.conf" -e "$work/$1.json" \
		>"$work/$1.out" 2>&1 || { fail "$1: smbgw -r exited $?"; sed 's/^/  | /' "$work/$1.out"; return 1; }
	eve_checked "$work/$1.json" "$1"
}

# quic NAME KEY: KEY on the "quic:" line; policy NAME KEY: on "policy:".
quic() { sed -n "s/^quic:.* $2 \([0-9][0-9]*\).*/\1/p" "$work/$1.out"; }
policy() { sed -n "s/^policy:.* $2 \([0-9][0-9]*\).*/\1/p" "$work/$1.out"; }

# drops NAME COLUMN: the capture row's COLUMN of the port table.
drops() { capture_column "$work/$1.out" "$2"; }

# expect NAME LABEL KEY=VALUE...: quic:KEY, policy:KEY, drop:COLUMN
expect() {
	local name=$1 label=$2 kv key want got ok=1
	shift 2
	for kv in "$@"; do
		key=${kv%%=*}
		want=${kv#*=}
		case $key in
		quic:*) got=$(quic "$name" "${key#quic:}") ;;
		policy:*) got=$(policy "$name" "${key#policy:}") ;;
		drop:*) got=$(drops "$name" "${key#drop:}") ;;
		esac
		if [ "$got" != "$want" ]; then
			fail "$name: $key is '$got', $want expected ($label)"
			ok=0
		fi
	done
	[ $ok = 0 ] || echo "ok: $name: $label ($*)"
}

report_rows() {	# the report's rows: date,src,dest,...,allowed,denied,monitored
	sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$work/$1.out" | sed '1,2d' | grep -v '^$' || true
}

# record NAME TYPE JQ_TEST: exactly one record of TYPE, and JQ_TEST holds
record() {
	jq -s -e --arg type "$2" "[.[] | select(.event_type == \$type)] |
		length == 1 and (.[0] | $3)" "$work/$1.json" >/dev/null
}

alerts() {
	$check "$work/$1.json" alerts | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//'
}

# 1. No policy.
if run smb none "$pcaps/quic_smb.pcap"; then
	expect smb "SMB over QUIC read" quic:smb_hellos=1 quic:other_hellos=0 \
		quic:initials=1 drop:policy=0
	record smb quic '.proto == "UDP" and .app_proto == "quic" and
		.smb_over_quic == true and .policy_action == "allowed" and
		.quic.version == "1" and .quic.sni == "fs1.corp.example" and
		.quic.extensions[0].values == ["smb"]' &&
		echo "ok: smb: the quic record names fs1.corp.example, ALPN smb, allowed" ||
		fail "smb: quic record: $(grep '"quic"' "$work/smb.json" || true)"
	record smb flow '.proto == "UDP" and .smb_over_quic == true and
		.flow.action == "allowed" and .flow.detected_by == "content" and
		.flow.pkts_toserver == 1' &&
		echo "ok: smb: a connection record, UDP, allowed, by content" ||
		fail "smb: no connection record for it"
	grep -q '^smb-over-quic 198.18.16.10:50010 -> 198.18.2.20:443 .* dialect 3.1.1 .* encrypted ' "$work/smb.out" &&
		echo "ok: smb: the flow summary names it smb-over-quic, 3.1.1, encrypted" ||
		fail "smb: flow summary: $(grep -A1 '^== SMB and DCE/RPC flows' "$work/smb.out" | tail -1)"
	row=$(report_rows smb)
	[[ "$row" == *",198.18.16.10,198.18.2.20,1,"*'"443",0,1,1,0,0' ]] &&
		echo "ok: smb: the report counts one SMB connection allowed, by content, port 443" ||
		fail "smb: report rows '$row'"
fi
for name in quic_h3 quic_ngtcp2_h3; do
	run "$name" none "$pcaps/$name.pcap" || continue
	expect "$name" "QUIC, not SMB" quic:smb_hellos=0 quic:other_hellos=1 drop:policy=0
	[ "$($check "$work/$name.json" count quic)" = 0 ] && [ -z "$(report_rows "$name")" ] &&
		echo "ok: $name: no quic record, nothing in the report" ||
		fail "$name: recorded or reported as SMB"
done
# the real server's Initial does not decrypt with the client's keys
expect quic_ngtcp2_h3 "the server's Initial unread" quic:unreadable=1

# 2. SMB refused between the segments.
conf deny "" "$DENY"
if run deny deny "$pcaps/quic_smb.pcap"; then
	expect deny "the client's Initial dropped" drop:policy=1 quic:smb_denied=1 \
		policy:denied_flows=1
	record deny quic '.policy_action == "blocked"' &&
		record deny flow '.flow.action == "blocked" and .flow.rule_id == 1' && echo "ok: deny: the quic record says blocked" ||
		fail "deny: quic record not blocked"
	[[ "$(report_rows deny)" == *",0,1,0" ]] &&
		echo "ok: deny: the report counts it denied" || fail "deny: report '$(report_rows deny)'"
fi
for name in quic_h3 quic_ngtcp2_h3; do
	run "deny_$name" deny "$pcaps/$name.pcap" || continue
	expect "deny_$name" "HTTP/3 untouched where SMB is refused" drop:policy=0 \
		quic:smb_denied=0 quic:unread_denied=0
done

# 2b. Packets a server drops coalesced before the Initial: still read.
if run coalesced deny "$pcaps/quic_smb_coalesced.pcap"; then
	expect coalesced "the datagram dropped" drop:policy=1 quic:smb_denied=1
fi

# 2c. A Retry: the same hello again under the Retry's connection ID, one
#     connection (reported once), both Initials dropped.
if run retry deny "$pcaps/quic_smb_retry.pcap"; then
	expect retry "one connection, its two Initials dropped" drop:policy=2 \
		quic:smb_hellos=1 quic:smb_denied=2 policy:denied_flows=1
	[[ "$(report_rows retry)" == *",198.18.16.10,198.18.2.20,1,"* ]] &&
		echo "ok: retry: the report counts one connection" ||
		fail "retry: report '$(report_rows retry)'"
fi

# 2d. A decoy: the hello's second datagram first with another ALPN and a
#     UDP checksum the server drops, then with "smb": the real one differs
#     from what was read, and is dropped.
if run decoy deny "$pcaps/quic_smb_decoy.pcap"; then
	expect decoy "the real second datagram dropped" drop:policy=1 \
		quic:conflicts=1 quic:unread_denied=1 quic:other_hellos=1
fi

# 2e. The older versions Windows' QUIC stack accepts: draft-29, msquic's.
if run drafts deny "$pcaps/quic_smb_draft29.pcap"; then
	expect drafts "both Initials dropped" drop:policy=2 quic:smb_hellos=2
	[ "$(jq -r 'select(.event_type == "quic") | .quic.version' "$work/drafts.json" |
		tr '\n' ' ')" = "draft-29 0xabcd0000 " ] &&
		echo "ok: drafts: quic records name draft-29 and 0xabcd0000" ||
		fail "drafts: quic versions '$(jq -r 'select(.event_type == "quic") | .quic.version' "$work/drafts.json")'"
fi

# 3. Two datagrams.
if run two deny "$pcaps/quic_smb_two_datagrams.pcap"; then
	expect two "the datagram completing the hello dropped" drop:policy=1 \
		quic:initials=2 quic:smb_hellos=1 quic:smb_denied=1
fi

# 4. QUIC v2, port 8443, IPv6.
if run v2 deny "$pcaps/quic_smb_v2_port8443.pcap"; then
	expect v2 "dropped" drop:policy=1 quic:smb_denied=1
	$check "$work/v2.json" alert $NONSTANDARD proto=UDP app_proto=quic \
		smb_over_quic=True alert.policy_action=blocked dest_port=8443 >/dev/null &&
		echo "ok: v2: alert $NONSTANDARD, UDP, blocked" ||
		fail "v2: alerts '$(alerts v2)', $NONSTANDARD on UDP expected"
	record v2 quic '.quic.version == "2" and
		.quic.extensions[0].values == ["h3", "smb"]' &&
		echo "ok: v2: version 2, ALPN h3 and smb" || fail "v2: quic record"
fi

# 5. Unverifiable.
conf unverif "" "$DENY_ADMIN $ALLOW"
if run unverif unverif "$pcaps/quic_smb.pcap"; then
	expect unverif "the unverifiable action: deny" drop:policy=1 \
		policy:unverifiable_denied=1 policy:allowed_flows=1 quic:smb_denied=1
	$check "$work/unverif.json" alert $UNVERIFIABLE evidence.unverifiable=quic \
		alert.policy_action=blocked evidence.policy_rule=1 >/dev/null &&
		echo "ok: unverif: alert $UNVERIFIABLE, quic, blocked by rule 1" ||
		fail "unverif: alerts '$(alerts unverif)'"
fi
conf unverif_allow 'unverifiable_action = "allow";' "$DENY_ADMIN $ALLOW"
if run unverif_allow unverif_allow "$pcaps/quic_smb.pcap"; then
	expect unverif_allow "the unverifiable action: allow" drop:policy=0 \
		policy:unverifiable_allowed=1 quic:smb_denied=0
fi

# 6. monitor-only.
conf monitor_only 'mode = "monitor-only";' "$DENY"
if run monitor_only monitor_only "$pcaps/quic_smb.pcap"; then
	expect monitor_only "reported, not blocked" drop:policy=0 policy:would_deny=1 \
		quic:smb_denied=0
fi

# 7. The second datagram alone.
/usr/bin/python3 - "$pcaps/quic_smb_two_datagrams.pcap" "$work/orphan.pcap" <<'PY'
import sys
from scapy.all import rdpcap, wrpcap
wrpcap(sys.argv[2], rdpcap(sys.argv[1])[1:])
PY
if run orphan deny "$work/orphan.pcap"; then
	expect orphan "a hello's later piece alone, dropped where SMB is refused" \
		quic:orphans=1 quic:unread_denied=1 drop:policy=1
fi
conf open "" "$ALLOW"
if run orphan_open open "$work/orphan.pcap"; then
	expect orphan_open "forwarded where SMB is allowed" quic:orphans=1 \
		quic:unread_denied=0 drop:policy=0
fi

# 8. The Initial in IP fragments (QUIC forbids it: only a client avoiding
#    the reader does it), IPv4 and IPv6.
/usr/bin/python3 - "$pcaps" "$work/fragmented.pcap" <<'PY'
import sys
from scapy.all import Ether, IPv6, IPv6ExtHdrFragment, UDP, fragment, fragment6, rdpcap, wrpcap
out = fragment(rdpcap(sys.argv[1] + "/quic_smb.pcap")[0], fragsize=400)
v6 = rdpcap(sys.argv[1] + "/quic_smb_v2_port8443.pcap")[0]
whole = Ether(src=v6.src, dst=v6.dst) / IPv6(src=v6[IPv6].src,
    dst=v6[IPv6].dst) / IPv6ExtHdrFragment() / v6[UDP]
out += fragment6(whole, 600)
for p in out:
    p.time = 1800000000
wrpcap(sys.argv[2], out)
PY
frames=$(/usr/bin/python3 -c 'import sys; from scapy.all import rdpcap; print(len(rdpcap(sys.argv[1])))' "$work/fragmented.pcap")
if run fragmented deny "$work/fragmented.pcap"; then
	expect fragmented "each Initial's first fragment dropped where SMB is refused" \
		quic:fragmented=2 quic:unread_denied=2 drop:policy=2 quic:smb_hellos=0
fi
if run fragmented_open open "$work/fragmented.pcap"; then
	expect fragmented_open "forwarded where SMB is allowed ($frames fragments)" \
		quic:fragmented=2 quic:unread_denied=0 drop:policy=0
fi

# 9. A flood of Initials past flows.quic_hellos_per_second (100 here): 150
#    HTTP/3 hellos at once, 100 read and forwarded, 50 not read (dropped
#    where SMB is refused); an SMB hello two seconds later is read again.
/usr/bin/python3 - "$pcaps" "$work/flood.pcap" <<'PY'
import sys
from scapy.all import UDP, rdpcap, wrpcap
h3 = rdpcap(sys.argv[1] + "/quic_h3.pcap")[0]
smb = rdpcap(sys.argv[1] + "/quic_smb.pcap")[0]
out = []
for i in range(150):
    p = h3.copy()
    p[UDP].sport = 20000 + i
    del p[UDP].chksum
    p.time = 1800000000
    out.append(p)
smb.time = 1800000002
wrpcap(sys.argv[2], out + [smb])
PY
conf flood "" "$DENY"
sed -i '1a flows: { quic_hellos_per_second = 100; };' "$work/flood.conf"
if run flood flood "$work/flood.pcap"; then
	expect flood "a second's worth read, the rest not read" quic:other_hellos=100 \
		quic:over_budget=50 quic:unread_denied=50 quic:smb_hellos=1 \
		quic:smb_denied=1 drop:policy=51
fi

[ $status -eq 0 ] && echo "PASS: SMB over QUIC"
exit $status
