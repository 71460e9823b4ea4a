#!/bin/bash
# Compressed SMB 3.1.1 messages through the gateway's real pipeline,
# offline. make_compressed_pcap writes whole connections 198.18.1.10 ->
# 198.18.2.20:445 (handshake, NEGOTIATE 3.1.1 with compression, NTLM logon
# as LAB\root, TREE_CONNECT IPC$ in the clear) whose last TREE_CONNECT is
# sent compressed (COMPRESSION_TRANSFORM), and each is replayed with a
# policy that puts 198.18.1.0/24 and 198.18.2.0/24 in two segments and
# denies admin_share between them:
#   1. ADMIN$ compressed with LZNT1, LZ77 and LZ77+Huffman, chained (with a
#      Pattern_V1 payload) and unchained: the tree connect is denied
#      (smb_denied 1, the rest of the connection dropped by policy), the
#      record counted compressed and judged, no 9000009 alert; in
#      monitor-only mode the same goes through as a would-deny and the EVE
#      log shows the tree connect to ADMIN$ (the share name read from the
#      inflated message); the same with the compressed record cut into
#      7-byte and 1-byte TCP segments;
#   2. the same to the data share: forwarded untouched, the EVE log shows
#      the tree connect to data;
#   3. unverifiable (LZ4, and LZ77 data cut short): denied under the
#      default unverifiable_action (unverifiable_denied), forwarded with
#      unverifiable_action = "allow" (unverifiable_allowed), alert 9000009
#      saying compressed either way; a pair with only allow rules is
#      untouched.
# The flow record starts at the capture's first frame. Every EVE log is
# checked against Suricata's schema (fields relaxed) when it is at hand.
# When tshark is installed, each capture is first checked with it: IPv4
# and TCP checksums good, no malformed or warned frame, and the judged
# variants' compressed TREE_CONNECT decoded (by Wireshark's own MS-XCA
# decompressors) to the share path.
# usage: test_compressed.sh SMBGW_BINARY MAKE_COMPRESSED_PCAP
set -euo pipefail

smbgw=$1
make_pcap=$2
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
check="$python $here/../lib/eve_check.py"
. "$here/../lib/replay_checks.sh"
work=$(mktemp -d /tmp/smbgw-compressed.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
UNVERIFIABLE=9000009
# Frames of a capture from the compressed TREE_CONNECT on: the request,
# its answer, the client's ACK and the three closing segments.
FRAMES_AFTER=6
# The server's SYN-ACK, the capture's second frame: it creates the flow
# (a bare SYN takes none).
FLOW_START=2026-11-18T11:06:40.000150+0000

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
    { name = "clients"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; } );
  rules = ( $3 );
};
CONF
}

DENY_ADMIN='{ from = "clients"; to = "servers"; action = "deny"; share_class = "admin_share"; },'
ALLOW='{ from = "clients"; to = "servers"; action = "allow"; }'
conf deny "" "$DENY_ADMIN $ALLOW"
conf monitor_only 'mode = "monitor-only";' "$DENY_ADMIN $ALLOW"
conf allow_unverifiable 'unverifiable_action = "allow";' "$DENY_ADMIN $ALLOW"
conf open "" "$ALLOW"

# capture NAME ALGORITHM FORM SHARE [SEGMENT]: writes NAME.pcap.
capture() {
	local name=$1
	shift
	"$make_pcap" "$work/$name.pcap" "$@" ||
		{ fail "$name: make_compressed_pcap $* exited $?"; return 1; }
}

# tshark_check NAME [SHARE]: the capture as Wireshark reads it.
tshark_check() {
	local name=$1 share=${2:-} bad path
	command -v tshark >/dev/null || return 0
	bad=$(tshark -r "$work/$name.pcap" -o tcp.check_checksum:TRUE \
		-o ip.check_checksum:TRUE -Y 'tcp.checksum.status != 1 ||
		ip.checksum.status != 1 || _ws.malformed ||
		_ws.expert.severity >= warning' 2>/dev/null | wc -l)
	[ "$bad" = 0 ] || fail "$name: tshark finds $bad bad frames"
	[ -n "$share" ] || return 0
	path=$(tshark -r "$work/$name.pcap" -Y 'smb2.cmd == 3 &&
		smb2.flags.response == 0 && smb2.header.comp_transform.original_size' \
		-T fields -e smb2.tree 2>/dev/null)
	[ "$path" = "\\\\198.18.2.20\\$share" ] ||
		fail "$name: tshark inflates the TREE_CONNECT to '$path'"
}

# run NAME CONF: replays NAME.pcap on CONF.conf; NAME.CONF.out, .json.
run() {
	local out="$work/$1.$2"
	"$smbgw" -r "$work/$1.pcap" -c "$work/$2.conf" -e "$out.json" \
		>"$out.out" 2>&1 ||
		{ fail "$1 ($2): smbgw -r exited $?"; sed 's/^/  | /' "$out.out"; return 1; }
	eve_checked "$out.json" "$1 ($2)"
}

# counter OUT LINE KEY: the value of KEY on the gateway's LINE: line.
counter() {
	sed -n "s/^$2:.* $3 \([0-9][0-9]*\).*/\1/p" "$1"
}

# policy_drops OUT: the capture row's policy column.
policy_drops() { capture_column "$1" policy; }

# expect NAME CONF LABEL KEY=VALUE...: counters of the policy: line,
# parsers: line (compressed, compressed_unverifiable) and drops.
expect() {
	local name=$1 cfg=$2 label=$3 out kv key want got ok=1
	out="$work/$name.$cfg.out"
	shift 3
	for kv in "$@"; do
		key=${kv%%=*}
		want=${kv#*=}
		case $key in
		drops) got=$(policy_drops "$out") ;;
		compressed*) got=$(counter "$out" parsers "$key") ;;
		*) got=$(counter "$out" policy "$key") ;;
		esac
		if [ "$got" != "$want" ]; then
			fail "$name ($cfg): $key is '$got', $want expected ($label)"
			ok=0
		fi
	done
	[ $ok = 0 ] || echo "ok: $name ($cfg): $label"
}

# trees NAME CONF: "share status classes" of each TREE_CONNECT record.
trees() {
	$python - "$work/$1.$2.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    s = r.get("smb") or {}
    if r["event_type"] == "smb" and s.get("command") == "SMB2_COMMAND_TREE_CONNECT":
        print(s.get("share") or s.get("named_pipe"), s.get("status"), ",".join(s.get("classes", [])) or "-")
PY
}

# flow_classes NAME CONF: the classes of the flow record.
flow_classes() {
	$python - "$work/$1.$2.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event_type"] == "flow":
        print(",".join(r["flow"].get("classes", [])))
PY
}

# flow_start NAME CONF: the flow record's start.
flow_start() {
	$python - "$work/$1.$2.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event_type"] == "flow":
        print(r["flow"]["start"])
PY
}

alerts() {
	$check "$work/$1.$2.json" alerts | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//'
}

# 1. and 2. Judged: each algorithm, chained and unchained.
for alg in lznt1 lz77 huffman; do
	for form in chained unchained; do
		name=$alg-$form-admin
		capture $name $alg $form 'ADMIN$' || continue
		tshark_check $name 'ADMIN$'
		if run $name deny; then
			expect $name deny "the compressed ADMIN\$ tree connect denied" \
				smb_denied=1 drops=$FRAMES_AFTER resets=2 \
				unverifiable_denied=0 compressed=1 compressed_unverifiable=0
			[ -z "$(alerts $name deny)" ] ||
				fail "$name (deny): alerts '$(alerts $name deny)', none expected"
			case ",$(flow_classes $name deny)," in
			*,admin_share,*) echo "ok: $name (deny): the flow record has admin_share" ;;
			*) fail "$name (deny): flow classes '$(flow_classes $name deny)'" ;;
			esac
		fi
		if run $name monitor_only; then
			expect $name monitor_only "reported, not blocked" \
				would_deny=1 smb_denied=0 drops=0 compressed=1
			[ "$(trees $name monitor_only)" = "IPC\$ STATUS_SUCCESS ipc_share
ADMIN\$ STATUS_SUCCESS admin_share" ] &&
				echo "ok: $name (monitor_only): EVE shows the tree connect to ADMIN\$" ||
				fail "$name (monitor_only): tree connects: $(trees $name monitor_only | tr '\n' ';')"
		fi
	done
	name=$alg-chained-data
	capture $name $alg chained data || continue
	tshark_check $name data
	if run $name deny; then
		expect $name deny "the compressed tree connect to data forwarded" \
			smb_denied=0 drops=0 resets=0 would_deny=0 compressed=1 \
			compressed_unverifiable=0
		[ "$(trees $name deny)" = "IPC\$ STATUS_SUCCESS ipc_share
data STATUS_SUCCESS -" ] &&
			echo "ok: $name (deny): EVE shows the tree connect to data" ||
			fail "$name (deny): tree connects: $(trees $name deny | tr '\n' ';')"
		# The flow's first frame (the SYN-ACK), not a later one of its burst.
		[ "$(flow_start $name deny)" = "$FLOW_START" ] ||
			fail "$name (deny): flow start $(flow_start $name deny), $FLOW_START expected"
	fi
done

# The compressed record in 7-byte and 1-byte TCP segments: the verdict
# waits for its last byte, which is dropped with the rest.
for size in 7 1; do
	name=huffman-chained-admin-split$size
	capture $name huffman chained 'ADMIN$' $size || continue
	tshark_check $name
	run $name deny || continue
	expect $name deny "denied, the record in $size-byte segments" \
		smb_denied=1 drops=$FRAMES_AFTER compressed=1 compressed_unverifiable=0
done

# 3. Unverifiable: LZ4, and LZ77 data cut short.
for alg in lz4 corrupt; do
	name=$alg-admin
	capture $name $alg unchained 'ADMIN$' || continue
	tshark_check $name
	if run $name deny; then
		expect $name deny "denied by the default unverifiable_action" \
			unverifiable_denied=1 unverifiable_allowed=0 smb_denied=1 \
			drops=$FRAMES_AFTER compressed=1 compressed_unverifiable=1
		[ "$(alerts $name deny)" = $UNVERIFIABLE ] &&
			$check "$work/$name.deny.json" alert $UNVERIFIABLE alert.policy_action=blocked \
				evidence.unverifiable=compressed smb.ntlmssp.user=root \
				smb.auth=ntlm src_segment=clients dest_segment=servers >/dev/null &&
			echo "ok: $name (deny): alert $UNVERIFIABLE denied, compressed, root, NTLM" ||
			fail "$name (deny): alerts '$(alerts $name deny)', $UNVERIFIABLE denied expected"
		[ "$(trees $name deny)" = "IPC\$ STATUS_SUCCESS ipc_share" ] ||
			fail "$name (deny): tree connects: $(trees $name deny | tr '\n' ';')"
	fi
	if run $name allow_unverifiable; then
		expect $name allow_unverifiable "forwarded with unverifiable_action allow" \
			unverifiable_allowed=1 unverifiable_denied=0 smb_denied=0 drops=0 \
			compressed_unverifiable=1
		$check "$work/$name.allow_unverifiable.json" alert $UNVERIFIABLE \
			alert.policy_action=allowed evidence.unverifiable=compressed >/dev/null &&
			echo "ok: $name (allow_unverifiable): alert $UNVERIFIABLE allowed" ||
			fail "$name (allow_unverifiable): no alert $UNVERIFIABLE allowed"
	fi
	if run $name open; then
		expect $name open "a pair with only allow rules untouched" \
			unverifiable_denied=0 unverifiable_allowed=0 \
			unverifiable_monitored=0 smb_denied=0 drops=0
		[ -z "$(alerts $name open)" ] ||
			fail "$name (open): alerts '$(alerts $name open)', none expected"
	fi
done

[ $status -eq 0 ] && echo "PASS: compressed messages judged through the pipeline"
exit $status
