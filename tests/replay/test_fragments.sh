#!/bin/bash
# IP fragments offline: an SMB2 TREE_CONNECT to ADMIN$ cut into IP
# fragments (IPv4 in and out of order, IPv6, a first fragment with only 8
# bytes of TCP header, 17 fragments of 8 bytes in order and last first) is
# reassembled and denied like
# the same request whole; overlapping fragments whose first copy names a
# harmless share are dropped whole; an unfinished datagram is dropped at the
# end; UDP fragments keep the fast path. stream.fragments = "forward" shows
# what reassembly prevents, "drop" refuses TCP fragments. The accounting
# identity holds in every run.
# usage: test_fragments.sh SMBGW_BINARY
set -euo pipefail

smbgw=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
python=/usr/bin/python3
$python -c 'import scapy' 2>/dev/null || { echo "skipped: python3-scapy is missing"; exit 77; }
work=$(mktemp -d /tmp/smbgw-fragments.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

$python "$here/make_fragments.py" "$work"

# write_conf FILE FRAGMENTS: deny admin_share from the workstations to the
# file servers, allow the rest; stream.fragments = FRAGMENTS.
write_conf() {
	cat >"$1" <<CONF
gateway: { ports = [ "a", "b" ]; stats_interval = 0; };
flows: { max_flows = 4096; sessions = 64; };
stream: { fragments = "$2"; fragment_timeout_ms = 2000; };
policy: {
  mode = "enforce"; default_action = "allow"; deny_action = "reset";
  segments = (
    { name = "workstations"; prefixes = [ "198.18.1.0/24", "2001:db8:1::/64" ]; },
    { name = "fileservers"; prefixes = [ "198.18.2.0/24", "2001:db8:2::/64" ]; }
  );
  rules = (
    { from = "workstations"; to = "fileservers"; action = "deny";
      share_class = "admin_share"; },
    { from = "workstations"; to = "fileservers"; action = "allow"; }
  );
};
CONF
}

# value OUT LINE NAME: NAME's value on the line starting "LINE:".
value() {
	grep "^$2:" "$1" | tr ' ' '\n' | grep -A1 -x "$3" | tail -1
}

# run CONFIG CAPTURE EXPECTED: replays CAPTURE; EXPECTED is
# "smb_denied datagrams policy frag_invalid frag_incomplete frag_refused
# receive_only", compared with the run's counters.
run() {
	local conf=$1 name=$2 expected=$3 out row got
	out=$work/$name-$(basename "$conf" .conf).out
	"$smbgw" -r "$work/$name.pcap" -c "$conf" >"$out" 2>&1 ||
		{ cat "$out"; fail "$name: smbgw -r exited $?"; }
	row=$(counters_row "$out" counters "$work/$name.pcap" policy frag_invalid \
		frag_incomplete frag_refused receive_only held rx=tx+drop)
	read -r policy invalid incomplete refused receive_only held identity <<<"$row"
	got="$(value "$out" policy smb_denied) $(value "$out" fragments datagrams) $policy $invalid $incomplete $refused $receive_only"
	printf '%-14s %-12s %s (identity %s)\n' "$name" "$(basename "$conf" .conf)" "$got" "$identity"
	[ "$identity" = ok ] || { cat "$out"; fail "$name: accounting"; }
	[ "$held" = 0 ] || fail "$name: $held fragments still held at the end"
	[ "$got" = "$expected" ] || { cat "$out"; fail "$name: expected $expected"; }
}

write_conf "$work/reassemble.conf" reassemble
write_conf "$work/forward.conf" forward
write_conf "$work/drop.conf" drop

echo "capture        config       smb_denied datagrams policy frag_invalid frag_incomplete frag_refused receive_only"
# Three handshake frames, then the request (1 frame, or 3 or 4 fragments).
run "$work/reassemble.conf" plain "1 0 1 0 0 0 3"
run "$work/reassemble.conf" frag "1 1 3 0 0 0 3"
run "$work/reassemble.conf" frag_reverse "1 1 3 0 0 0 3"
run "$work/reassemble.conf" frag6 "1 1 3 0 0 0 3"
run "$work/reassemble.conf" tiny "1 1 3 0 0 0 3"
run "$work/reassemble.conf" many "1 1 17 0 0 0 3"
run "$work/reassemble.conf" many_reverse "1 1 17 0 0 0 3"
run "$work/reassemble.conf" allowed "0 1 0 0 0 0 6"
run "$work/reassemble.conf" overlap "0 0 0 4 0 0 3"
run "$work/reassemble.conf" incomplete "0 0 0 0 2 0 3"
run "$work/reassemble.conf" udp "0 0 0 0 0 0 4"
# Without reassembly the fragmented request walks past the rule.
run "$work/forward.conf" frag "0 0 0 0 0 0 6"
run "$work/drop.conf" frag "0 0 0 0 0 3 3"
run "$work/drop.conf" udp "0 0 0 0 0 0 4"
echo "PASS: fragments offline"
