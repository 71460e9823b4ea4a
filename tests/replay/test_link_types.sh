#!/bin/bash
# Offline mode reads every capture link type it promises, and a frame
# reaches the parsers the same whatever link it was captured on: each
# variant of a capture gives the same flows, alerts, report, counters of
# what was parsed, and EVE records as its Ethernet original; a pcapng file
# with an Ethernet and a Linux cooked interface gives the flows of both;
# the SMB1 dialects chosen are named in the EVE log.
# usage: test_link_types.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
command -v jq >/dev/null || { echo "skipped: no jq"; exit 77; }
work=$(mktemp -d /tmp/smbgw-links.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

fail() {
	echo "FAIL: $*"
	status=1
}

# run CAPTURE: $work/CAPTURE.out and $work/CAPTURE.json, from
# PCAPS_DIR/CAPTURE, or $work/CAPTURE for those made here.
run() {
	local path=$pcaps/$1
	[ -f "$path" ] || path=$work/$1
	"$smbgw" -r "$path" -e "$work/$1.json" >"$work/$1.out" 2>&1 ||
		{ fail "$1: smbgw -r exited $?"; cat "$work/$1.out"; }
}

# facts CAPTURE: what the run found, apart from per-frame counters that
# depend on the link layer (bytes, checksums a conversion recomputed).
facts() {
	grep -E '^(smb dialects|parsers|events|watchlist hits|flows|classified):' "$work/$1.out"
	sed -n '/^== SMB and DCE\/RPC flows ==$/,$p' "$work/$1.out"
}

# eve CAPTURE [loose]: the EVE records; loose drops times and flow ids
# (two tcpdumps of one session stamp frames a few microseconds apart).
eve() {
	if [ "${2:-}" = loose ]; then
		jq -c 'del(.timestamp, .flow_id) | walk(if type == "object" then
			del(.first_seen, .last_seen, .opened, .closed, .start, .end)
			else . end)' "$work/$1.json"
	else
		cat "$work/$1.json"
	fi
}

# same ORIGINAL VARIANT LINK [loose]
same() {
	local original=$1 variant=$2 link=$3 mode=${4:-}
	run "$variant"
	grep -q "^link types: $link\$" "$work/$variant.out" ||
		fail "$variant: read as '$(grep '^link types' "$work/$variant.out")', $link expected"
	grep -q '^link drops: 0 ' "$work/$variant.out" ||
		fail "$variant: $(grep '^link drops' "$work/$variant.out")"
	if ! diff <(facts "$original") <(facts "$variant") >"$work/diff"; then
		fail "$variant: flows, alerts, report or counters differ from $original:"
		cat "$work/diff"
	elif ! diff <(eve "$original" $mode) <(eve "$variant" $mode) >"$work/diff"; then
		fail "$variant: EVE records differ from $original:"
		head -20 "$work/diff"
	else
		echo "ok: $variant ($link) gives what $original gives: $(grep -cE '^(smb|dcerpc) [0-9[]' "$work/$variant.out") flow(s), $(grep -c '^alert ' "$work/$variant.out") alert(s), $(wc -l <"$work/$variant.json") EVE records"
	fi
}

run psexec_smb2.pcap
run smb1_nt_lanman.pcap
run smb2_basic.pcap
[ "$(grep -c '^alert ' "$work/psexec_smb2.pcap.out")" -gt 0 ] || fail "psexec_smb2.pcap: no alert to compare"
same psexec_smb2.pcap psexec_smb2_null.pcap NULL
same psexec_smb2.pcap psexec_smb2_raw.pcap RAW
same smb1_nt_lanman.pcap smb1_nt_lanman_sll.pcap LINUX_SLL loose
same smb1_nt_lanman.pcap smb1_nt_lanman_sll2.pcap LINUX_SLL2 loose

# Converted here too: LOOP (network order family), IPV4, and a pcapng of
# raw IP (editcap's default output), from the same Ethernet capture.
if command -v tcprewrite >/dev/null && command -v editcap >/dev/null; then
	tcprewrite --dlt=user --user-dlt=108 --user-dlink=00,00,00,02 \
		-i "$pcaps/psexec_smb2.pcap" -o "$work/loop.pcap"
	editcap -F pcap -C 14 -T rawip4 "$pcaps/psexec_smb2.pcap" "$work/ipv4.pcap"
	editcap -F pcapng -C 14 -T rawip "$pcaps/psexec_smb2.pcap" "$work/raw.pcapng"
	same psexec_smb2.pcap loop.pcap LOOP
	same psexec_smb2.pcap ipv4.pcap IPV4
	same psexec_smb2.pcap raw.pcapng RAW
else
	echo "note: no tcprewrite or editcap, LOOP and IPV4 not converted here"
fi

# Two interfaces, two link types, one pcapng: the flows of both captures.
run two_links.pcapng
grep -q '^link types: EN10MB LINUX_SLL2$' "$work/two_links.pcapng.out" ||
	fail "two_links.pcapng: $(grep '^link types' "$work/two_links.pcapng.out")"
flow_lines='^(smb|dcerpc) [0-9[]'
if diff <(grep -E "$flow_lines" "$work/two_links.pcapng.out" | sort) \
		<(grep -hE "$flow_lines" "$work/smb2_basic.pcap.out" \
		"$work/smb1_nt_lanman.pcap.out" | sort) >"$work/diff"; then
	echo "ok: two_links.pcapng: the flows of smb2_basic.pcap (Ethernet) and smb1_nt_lanman_sll2.pcap (LINUX_SLL2)"
else
	fail "two_links.pcapng: flows differ from its two captures':"
	cat "$work/diff"
fi

# SMB1 dialects: the one chosen is named, wherever it was offered.
run smb1_many_dialects.pcap
for capture in smb1_many_dialects.pcap smb1_nt_lanman.pcap; do
	named=$(jq -r 'select(.event_type == "flow") | .flow.dialect' "$work/$capture.json")
	if [ "$named" = "NT LANMAN 1.0" ] &&
			grep -q '^smb dialects: smb1 1 ' "$work/$capture.out"; then
		echo "ok: $capture: dialect \"NT LANMAN 1.0\" named, counted smb1"
	else
		fail "$capture: flow dialect '$named', $(grep '^smb dialects' "$work/$capture.out")"
	fi
done
exit $status
