#!/bin/bash
# Every EVE record of every capture, replayed offline, against Suricata's
# EVE schema (tests/schema, additionalProperties relaxed): 100 % valid,
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
JQ_REPORT='[.[] | select(.event_type == "flow" and .flow.action == "allowed" and .app_proto == "smb")] | group_by([.flow.start[0:10], .src_ip, .dest_ip])[] | [.[0].flow.start[0:10], .[0].src_ip, .[0].dest_ip, length] | map(tostring) | join(",")'
grep -qF "jq -rs '$JQ_REPORT'" "$docs" ||
	fail "docs/detection.md does not give the jq filter this test runs"

records=0
for capture in "$pcaps"/*.pcap; do
	name=$(basename "$capture" .pcap)
	"$smbgw" -r "$capture" -e "$work/$name.json" >"$work/$name.out" 2>&1 ||
		{ fail "$name: smbgw -r exited $?"; continue; }
	if $check "$work/$name.json" schema "$schema" >"$work/$name.schema"; then
		records=$((records + $(awk '{print $1}' "$work/$name.schema")))
	else
		fail "$name: EVE records that do not fit Suricata's schema"
		sed 's/^/  | /' "$work/$name.schema" | head -20
	fi
	$check "$work/$name.json" flows >"$work/$name.flows" ||
		{ fail "$name: flow ids or starts"; sed 's/^/  | /' "$work/$name.flows" | head -20; }
	for type in flow stats; do
		[ "$($check "$work/$name.json" count $type)" -gt 0 ] ||
			fail "$name: no $type record"
	done

	# date,src,dest,allowed from the built-in report, rows with allowed > 0
	sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$work/$name.out" | sed '1,2d' |
		awk -F, '$10 > 0 { print $1 "," $2 "," $3 "," $10 }' | sort >"$work/$name.report"
	jq -rs "$JQ_REPORT" "$work/$name.json" | sort >"$work/$name.jq"
	if [ -s "$work/$name.report" ] && cmp -s "$work/$name.report" "$work/$name.jq"; then
		echo "ok: $name: the jq filter gives the report's rows ($(wc -l <"$work/$name.jq"))"
	else
		fail "$name: jq gives '$(cat "$work/$name.jq")', the report '$(cat "$work/$name.report")'"
	fi
done
[ "$records" -gt 0 ] || fail "no record validated"
[ $status = 0 ] && echo "ok: $records EVE records of $(ls "$pcaps"/*.pcap | wc -l) captures fit Suricata's schema"
exit $status
