#!/bin/bash
# Every EVE record of every capture, replayed offline, against Suricata's
# EVE schema (tests/schema, additionalProperties relaxed): 100 % valid,
# every field the schema does not define named in docs/detection.md,
# flow_id within 51 bits and the same for every record of a flow, no
# record before its flow's start. Then the daily report "SMB traffic
# allowed" rebuilt from the EVE flow records by the jq filter that
# docs/detection.md gives must equal the built-in report's allowed counts.
# usage: test_eve_schema.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
schema=$here/../schema/suricata-eve-schema.json
docs=$here/../../docs/detection.md
check="/usr/bin/python3 $here/../lib/eve_check.py"

if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null || ! command -v jq >/dev/null; then
	echo "skipped: needs python3-jsonschema and jq"
	exit 77
fi
work=$(mktemp -d /tmp/smbgw-eve-schema.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
fail() {
	echo "FAIL: $*"
	status=1
}

# The filter of docs/detection.md ("The report from the EVE log"), word
# for word: the test fails when the two part.
JQ_REPORT='[.[] | select(.event_type == "flow" and .flow.action == "allowed" and (.app_proto == "smb" or .smb_over_quic))] | group_by([.flow.start[0:10], .src_ip, .dest_ip])[] | [.[0].flow.start[0:10], .[0].src_ip, .[0].dest_ip, length] | map(tostring) | join(",")'
grep -qF "jq -rs '$JQ_REPORT'" "$docs" ||
	fail "docs/detection.md does not give the jq filter this test runs"

records=0
shopt -s nullglob
captures=("$pcaps"/*.pcap "$pcaps"/*.pcapng)
for capture in "${captures[@]}"; do
	name=$(basename "${capture%.pcap*}")
	"$smbgw" -r "$capture" -e "$work/$name.json" >"$work/$name.out" 2>&1 ||
		{ fail "$name: smbgw -r exited $?"; continue; }
	if $check "$work/$name.json" schema "$schema" >"$work/$name.schema"; then
		records=$((records + $(awk '{print $1}' "$work/$name.schema")))
	else
		fail "$name: EVE records that do not fit Suricata's schema"
		sed 's/^/  | /' "$work/$name.schema" | head -20
	fi
	$check "$work/$name.json" own "$schema" "$docs" >"$work/$name.own" ||
		{ fail "$name: fields of smbgw's own not documented"; cat "$work/$name.own"; }
	$check "$work/$name.json" flows >"$work/$name.flows" ||
		{ fail "$name: flow ids or starts"; sed 's/^/  | /' "$work/$name.flows" | head -20; }
	# QUIC that is not SMB is not kept: no connection, no flow record;
	# in quic_smb_decoy the decoy's hello is not SMB and the real one
	# conflicts with it, so it is not read either.
	case $name in
	quic_h3 | quic_ngtcp2_h3 | quic_rfc9001_a2 | quic_smb_decoy) types=stats ;;
	*) types="flow stats" ;;
	esac
	for type in $types; do
		[ "$($check "$work/$name.json" count $type)" -gt 0 ] ||
			fail "$name: no $type record"
	done

	# date,src,dest,allowed from the built-in report, rows with allowed > 0
	sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$work/$name.out" | sed '1,2d' |
		awk -F, '$10 > 0 { print $1 "," $2 "," $3 "," $10 }' | sort >"$work/$name.report"
	# The report keeps its last report.days (7) days, counted from the
	# newest connection: the jq rows of the same days.
	jq -rs "$JQ_REPORT" "$work/$name.json" | sort >"$work/$name.jq.all"
	newest=$(cut -d, -f1 "$work/$name.jq.all" | sort | tail -n 1)
	oldest=$([ -n "$newest" ] && date -u -d "$newest - 6 days" +%F || true)
	awk -F, -v oldest="$oldest" '$1 >= oldest' "$work/$name.jq.all" >"$work/$name.jq"
	if cmp -s "$work/$name.report" "$work/$name.jq"; then
		echo "ok: $name: the jq filter gives the report's rows ($(wc -l <"$work/$name.jq"))"
	else
		fail "$name: jq gives '$(cat "$work/$name.jq")', the report '$(cat "$work/$name.report")'"
	fi
done
# A connection the gateway tracked that is not SMB: after the tunnel on
# 8445, an HTTP-like connection to the same port is examined and let go.
# Its connection record (app_proto "failed") follows output.flows.
python3=/usr/bin/python3
$python3 "$here/../lib/pcap_tool.py" other "$pcaps/tunnel_port8445.pcap" \
	"$work/other.pcap" 198.18.2.20 8445
other_records() {	# other_records CONFIG_TEXT: connection records of port 41000
	local conf=$work/other.conf
	printf 'gateway: { ports = [ "a", "b" ]; };\noutput: { %s };\n' "$1" >"$conf"
	rm -f "$work/other.json"
	"$smbgw" -r "$work/other.pcap" -c "$conf" -e "$work/other.json" >"$work/other.out" 2>&1 ||
		{ fail "other.pcap ($1): smbgw -r exited $?"; return; }
	$check "$work/other.json" schema "$schema" >/dev/null ||
		fail "other.pcap ($1): records that do not fit the schema"
	$check "$work/other.json" flows >/dev/null || fail "other.pcap ($1): flow ids or starts"
	jq -c 'select(.event_type == "flow" and .src_port == 41000) |
		[.app_proto, .flow.action, .flow.pkts_toserver, .flow.pkts_toclient,
		 .flow.state, .flow.reason]' "$work/other.json" | tr '\n' ' ' | sed 's/ $//'
}
# 6 packets to the server: the flow begins at the server's SYN-ACK, the
# client's bare SYN took none (docs/architecture.md, "Inspection").
got=$(other_records 'flows = "all";')
[ "$got" = '["failed","allowed",6,5,"closed","tcp_closed"]' ] &&
	echo "ok: flows = all: a connection record for the non-SMB connection" ||
	fail "flows = all: non-SMB connection records '$got'"
got=$(other_records 'flows = "smb_dcerpc";')
[ -z "$got" ] && echo "ok: flows = smb_dcerpc: none for it" ||
	fail "flows = smb_dcerpc: non-SMB connection records '$got'"
got=$(other_records 'flows = "sampled"; flows_sample = 1;')
[ -n "$got" ] && echo "ok: flows = sampled, 1 in 1: recorded" ||
	fail "flows = sampled, flows_sample = 1: no record"
# The SMB connection's record is there whatever the setting, and the
# report counts it alone.
[ "$(jq -rs "$JQ_REPORT" "$work/other.json")" = "2026-11-22,198.18.1.10,198.18.2.20,1" ] &&
	echo "ok: the jq report counts the SMB connection only" ||
	fail "jq report of other.pcap: '$(jq -rs "$JQ_REPORT" "$work/other.json")'"

# The firewall view: a connection the policy blocks, and one it would
# block in monitor-only mode, with the segment pair and the rule's name;
# neither is counted as allowed, by the report or by the jq filter.
for mode in enforce:blocked monitor-only:would-block; do
	cat >"$work/deny.conf" <<CONF
gateway: { ports = [ "a", "b" ]; };
policy: {
  mode = "${mode%%:*}";
  segments = (
    { name = "clients"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; } );
  rules = ( { name = "no-smb-to-servers"; from = "clients"; to = "servers"; action = "deny"; } );
};
CONF
	rm -f "$work/deny.json"
	"$smbgw" -r "$pcaps/smb2_basic.pcap" -c "$work/deny.conf" -e "$work/deny.json" \
		>"$work/deny.out" 2>&1 || fail "deny (${mode%%:*}): smbgw -r exited $?"
	$check "$work/deny.json" schema "$schema" >/dev/null ||
		fail "deny (${mode%%:*}): records that do not fit the schema"
	$check "$work/deny.json" own "$schema" "$docs" ||
		fail "deny (${mode%%:*}): fields of smbgw's own not documented"
	got=$(jq -r 'select(.event_type == "flow") |
		[.src_segment, .dest_segment, .flow.action, .flow.rule, .flow.rule_id] |
		map(tostring) | join(" ")' "$work/deny.json" | sort -u)
	want="clients servers ${mode#*:} no-smb-to-servers 1"
	[ "$got" = "$want" ] && echo "ok: policy ${mode%%:*}: flow records say '$want'" ||
		fail "policy ${mode%%:*}: flow records '$got', '$want' expected"
	[ -z "$(jq -rs "$JQ_REPORT" "$work/deny.json")" ] &&
		echo "ok: policy ${mode%%:*}: the jq report counts nothing allowed" ||
		fail "policy ${mode%%:*}: the jq report counts '$(jq -rs "$JQ_REPORT" "$work/deny.json")'"
done

[ "$records" -gt 0 ] || fail "no record validated"
[ $status = 0 ] && echo "ok: $records EVE records of ${#captures[@]} captures fit Suricata's schema"
exit $status
