#!/bin/bash
# Captures recorded with a snap length (tcpdump -s): a frame shorter than
# it was sent is a cut, not a loss to wait for. The bytes recorded are
# judged, the rest given up as a hole at once (cut_short, gaps_skipped),
# and the SMB and DCE/RPC parsers read each cut message from what was
# recorded and the next where its record or PDU length says, with no
# search for a record start.
# Both readers (the mapped file and libpcap, from a pipe) agree.
# usage: test_snaplen.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
check="/usr/bin/python3 $here/../lib/eve_check.py"
tool="/usr/bin/python3 $here/../lib/pcap_tool.py"
work=$(mktemp -d /tmp/smbgw-snaplen.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

fail() {
	echo "FAIL: $*"
	status=1
}

# counter OUT LINE NAME: a value from the "LINE:" line of a replay's output.
counter() {
	grep "^$2:" "$1" | tr ' ' '\n' | grep -A1 -x "$3" | tail -1
}

# has IDS ID...: whether the ids listed hold every ID.
has() {
	local ids=" $1 " id
	shift
	for id; do
		[[ $ids == *" $id "* ]] || return 1
	done
}

# replay NAME CAPTURE [pipe]: into $work/NAME.out and NAME.json; the
# alerts' signature ids, sorted, in $work/NAME.ids.
replay() {
	local name=$1 capture=$2 rc=0

	if [ "${3:-}" = pipe ]; then
		"$smbgw" -r /dev/stdin -e "$work/$name.json" <"$capture" >"$work/$name.out" 2>&1 || rc=$?
	else
		"$smbgw" -r "$capture" -e "$work/$name.json" >"$work/$name.out" 2>&1 || rc=$?
	fi
	[ $rc -eq 0 ] || fail "$name: smbgw -r exited $rc"
	touch "$work/$name.json"
	$check "$work/$name.json" valid >/dev/null || fail "$name: EVE log not valid"
	$check "$work/$name.json" alerts | awk '{print $1}' | sort -u | tr '\n' ' ' >"$work/$name.ids"
}

replay whole "$pcaps/psexec_smb2.pcap"
whole=$(cat "$work/whole.ids")
has "$whole" 9000001 9000003 ||
	fail "whole capture: alerts '$whole', CM0062 and the admin share write expected"

for snaplen in 600 300 96; do
	$tool snap "$pcaps/psexec_smb2.pcap" "$work/snap$snaplen.pcap" $snaplen
	for reader in mapped pipe; do
		name=snap$snaplen-$reader
		replay "$name" "$work/snap$snaplen.pcap" "$([ $reader = pipe ] && echo pipe || true)"
		out=$work/$name.out
		cut=$(counter "$out" stream cut_short)
		[ "${cut:-0}" -gt 0 ] || fail "$name: no segment counted cut_short"
		[ "$(counter "$out" stream gaps_skipped)" = "$cut" ] ||
			fail "$name: every cut segment should be one hole given up"
		[ "$(counter "$out" stream out_of_order)" = 0 ] ||
			fail "$name: segments waited behind a hole the capture cut"
		[ "$(counter "$out" parsers resyncs)" = 0 ] ||
			fail "$name: the parser searched for a record start"
		ids=$(cat "$work/$name.ids")
		case $snaplen in
		600)
			# Every message's fields the rules read fit in 600 bytes.
			[ "$ids" = "$whole" ] || fail "$name: alerts '$ids', '$whole' expected"
			;;
		300)
			# The executable written to ADMIN$, CM0062, and the
			# service created over the svcctl pipe, named from the
			# part of its request recorded (its binary path, deeper
			# in, is cut): the pipe's DCE/RPC reads past the holes.
			has "$ids" 9000001 9000002 9000003 ||
				fail "$name: alerts '$ids', 9000001, 9000002 and 9000003 expected"
			$check "$work/$name.json" alert 9000003 smb.filename=QmEyydJf.exe \
				smb.share=ADMIN$ >/dev/null || fail "$name: 9000003 lacks the file or share"
			$check "$work/$name.json" alert 9000002 dcerpc.service_name=tMds \
				>/dev/null || fail "$name: 9000002 does not name the service"
			;;
		96)
			# Not one SMB header whole: counted as errors, nothing found.
			[ -z "$ids" ] || fail "$name: alerts '$ids' from headers cut short"
			[ "$(counter "$out" parsers errors)" -gt 0 ] ||
				fail "$name: cut headers not counted as parser errors"
			;;
		esac
		[ $status -eq 0 ] && echo "ok: $name: cut_short $cut, alerts '$ids'"
	done
done
# Attack: the same frames recorded whole but short, their IP lengths
# claiming bytes never sent. A receiver drops such frames, so they are no
# cut: nothing is given up, later segments wait behind the hole as they
# would behind any, and the parser never jumps over unseen bytes.
$tool snap "$pcaps/psexec_smb2.pcap" "$work/lie300.pcap" 300 lie
replay lie300 "$work/lie300.pcap"
[ "$(counter "$work/lie300.out" stream cut_short)" = 0 ] ||
	fail "lie300: frames that lie about their length taken for cuts"
[ "$(counter "$work/lie300.out" stream gaps_skipped)" = 0 ] ||
	fail "lie300: a hole given up for frames that lie about their length"
[ "$(counter "$work/lie300.out" stream out_of_order)" -gt 0 ] ||
	fail "lie300: nothing waited behind the lying frames' holes"
[ $status -eq 0 ] && echo "ok: lie300: no cut, no hole given up"

# DCE/RPC over TCP: the DCSync request cut at 300 bytes is still read
# (interface and operation come first), and the next PDUs by their length.
$tool snap "$pcaps/rpc_dcsync_dc.pcap" "$work/dcsync300.pcap" 300
replay dcsync300 "$work/dcsync300.pcap"
ids=$(cat "$work/dcsync300.ids")
has "$ids" 9000101 || fail "dcsync300: alerts '$ids', 9000101 expected"
$check "$work/dcsync300.json" alert 9000101 \
	dcerpc.interfaces.0.procedure=DRSGetNCChanges >/dev/null ||
	fail "dcsync300: 9000101 does not name DRSGetNCChanges"
[ "$(counter "$work/dcsync300.out" stream cut_short)" -gt 0 ] ||
	fail "dcsync300: no segment counted cut_short"
[ $status -eq 0 ] && echo "ok: dcsync300: alerts '$ids'"
exit $status
