#!/bin/bash
# A SYN flood of ten times the flow table's capacity in the middle of a
# psexec session: the gateway neither crashes nor loses the live SMB
# session (its summary is the same as without the flood), and the flow
# counters say what happened.
# usage: test_syn_flood.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/smbgw-flood.XXXXXX)
trap 'rm -rf "$work"' EXIT
capacity=1024
flood=$((capacity * 10))

cat >"$work/small.conf" <<CONF
gateway: { ports = [ "a", "b" ]; };
flows: { max_flows = $capacity; sessions = 64; };
CONF
/usr/bin/python3 "$here/../lib/pcap_tool.py" flood "$pcaps/psexec_smb2.pcap" "$work/flood.pcap" $flood

"$smbgw" -r "$pcaps/psexec_smb2.pcap" -c "$work/small.conf" >"$work/quiet.out"
"$smbgw" -r "$work/flood.pcap" -c "$work/small.conf" >"$work/flood.out" ||
	{ echo "FAIL: smbgw -r under a SYN flood exited $?"; cat "$work/flood.out"; exit 1; }

session() {
	grep -E '^smb 198\.18\.1\.10:[0-9]+ -> 198\.18\.2\.20:445 ' "$1" | sed 's/ packets .*//'
}
quiet=$(session "$work/quiet.out")
loud=$(session "$work/flood.out")
echo "without flood: $quiet"
echo "with flood:    $loud"
grep '^flows:' "$work/flood.out"
[ -n "$quiet" ] || { echo "FAIL: no psexec session in the quiet run"; exit 1; }
[ "$quiet" = "$loud" ] || { echo "FAIL: the SMB session was not followed through the flood"; exit 1; }

counter() {
	grep '^flows:' "$work/flood.out" | tr ' ' '\n' | grep -A1 -x "$1" | tail -1
}
evicted=$(counter evicted_pressure)
created=$(counter created)
[ "$(counter insert_failed)" -eq 0 ] || { echo "FAIL: inserts failed although idle flows could be evicted"; exit 1; }
[ "$created" -eq $((flood + 1)) ] || { echo "FAIL: created $created flows, expected $((flood + 1))"; exit 1; }
[ "$evicted" -ge $((flood + 1 - capacity)) ] || { echo "FAIL: only $evicted evictions for $flood SYNs into $capacity entries"; exit 1; }
echo "PASS: SYN flood of $flood into $capacity entries: $evicted idle flows evicted, the SMB session kept"
