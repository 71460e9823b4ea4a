#!/bin/bash
# SYN floods of ten times the flow table's capacity in the middle of a
# psexec session: the gateway neither crashes nor loses the live SMB
# session (its summary is the same as without the flood), and the flow
# counters say what happened. SYNs nobody answers take no flow at all
# (each costs a lookup); SYNs the server answers create flows at the
# SYN-ACK, which evict idle flows and never the live session.
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
/usr/bin/python3 "$here/../lib/pcap_tool.py" flood "$pcaps/psexec_smb2.pcap" "$work/answered.pcap" $flood answered

"$smbgw" -r "$pcaps/psexec_smb2.pcap" -c "$work/small.conf" >"$work/quiet.out"
for run in flood answered; do
	"$smbgw" -r "$work/$run.pcap" -c "$work/small.conf" >"$work/$run.out" ||
		{ echo "FAIL: smbgw -r under a SYN flood ($run) exited $?"; cat "$work/$run.out"; exit 1; }
done

session() {
	grep -E '^smb 198\.18\.1\.10:[0-9]+ -> 198\.18\.2\.20:445 ' "$1" | sed 's/ packets .*//'
}
quiet=$(session "$work/quiet.out")
echo "without flood:      $quiet"
[ -n "$quiet" ] || { echo "FAIL: no psexec session in the quiet run"; exit 1; }
for run in flood answered; do
	loud=$(session "$work/$run.out")
	echo "with flood ($run): $loud"
	grep '^flows:' "$work/$run.out"
	[ "$quiet" = "$loud" ] || { echo "FAIL: the SMB session was not followed through the flood ($run)"; exit 1; }
done

# counter RUN NAME: a field of the run's "flows:" line.
counter() {
	grep '^flows:' "$work/$1.out" | tr ' ' '\n' | grep -A1 -x "$2" | tail -1
}
[ "$(counter flood created)" -eq 1 ] ||
	{ echo "FAIL: unanswered SYNs created $(counter flood created) flows, expected 1 (the session's)"; exit 1; }
# The flood's SYNs and the session's own, whose answer made its flow.
[ "$(counter flood syns_stateless)" -eq $((flood + 1)) ] ||
	{ echo "FAIL: syns_stateless $(counter flood syns_stateless), expected $((flood + 1))"; exit 1; }
[ "$(counter flood evicted_pressure)" -eq 0 ] ||
	{ echo "FAIL: unanswered SYNs evicted flows"; exit 1; }

evicted=$(counter answered evicted_pressure)
created=$(counter answered created)
[ "$(counter answered insert_failed)" -eq 0 ] || { echo "FAIL: inserts failed although idle flows could be evicted"; exit 1; }
[ "$created" -eq $((flood + 1)) ] || { echo "FAIL: created $created flows, expected $((flood + 1))"; exit 1; }
[ "$evicted" -ge $((flood + 1 - capacity)) ] || { echo "FAIL: only $evicted evictions for $flood answered SYNs into $capacity entries"; exit 1; }
echo "PASS: $flood unanswered SYNs took no flow; $flood answered ones into $capacity entries: $evicted idle flows evicted, the SMB session kept"
