#!/bin/bash
# Evasion: the verdict on an SMB tree connect must not depend on how its
# bytes are cut into TCP segments or IP fragments. A client of its own
# (smb_evasion.py: Scapy for TCP/IP, Impacket for NTLM) logs on to a real
# Samba server as root through the live gateway and sends TREE_CONNECT in
# order, split and reordered, in 1-byte segments, in overlapping segments
# with other bytes, behind a bad-checksum decoy, and in IP fragments, once
# to ADMIN$ and once to the data share.
#
#   client 198.18.1.10 -- IF_A [gateway] IF_B -- server 198.18.2.20
#                                                 (smbd: ADMIN$, C$, data)
#
# Segments: clients 198.18.1.0/24, servers 198.18.2.0/24; rules: deny
# share_class admin_share from clients to servers, then allow.
#
# PART:
#   harness    no policy and no stream normalisation (the gateway as a
#              plain bridge): every variant reaches its share (ADMIN$ or
#              data) and the data file's sha256 is equal. Proves that each
#              variant's bytes are SMB that Samba takes, whatever the cut.
#   segments   the policy; in order, split 2..8 in reverse and shuffled,
#              1-byte segments (in order and reversed), overlapping
#              segments with other bytes (both orders), a bad-checksum
#              decoy: ADMIN$ refused every time, the data share connected
#              with its file's sha256 equal.
#   fragments  the same with the segment in IP fragments: in order,
#              reversed, 8-byte fragments, overlapping fragments.
#   offline    every variant live with the policy, captured by tcpdump in
#              the client's namespace, each connection replayed with
#              smbgw -r and the same policy: smb_denied for every ADMIN$
#              variant, none for the data share.
#
# The live parts also check that the gateway exits 0 on SIGTERM with
# rx=tx+drop ok on both ports. "Ambiguous" variants (two different
# contents for the same bytes: overlap-alt-first, frag-overlap) leave the
# gateway the choice of which copy it judges and delivers: what must hold
# is that ADMIN$ is never reached (refused, or the data share connected),
# and offline, that the verdict is the live one.
#
# Segment variants go through af_packet ports, fragment variants through
# net_pcap ports (the af_packet driver has the kernel reassemble fragments
# before the gateway sees them); harness and offline run both, one gateway
# after the other. See README.md.
#
# usage: test_evasion.sh PART [SMBGW_BINARY]
#   SMBGW_EVASION_VARIANTS  comma-separated variants instead of the part's,
#                           in one run on SMBGW_PORT_DRIVER (af_packet|pcap)
#   SMBGW_EVASION_KEEP=1    keep the work directory (results, captures)
# Exit: 0 pass, 1 fail, 77 skipped (not root, or a tool missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts
client_py=$here/smb_evasion.py
python=/usr/bin/python3

part=${1:-}
case $part in
harness | segments | fragments | offline) ;;
*) echo "usage: test_evasion.sh harness|segments|fragments|offline [SMBGW_BINARY]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: evasion-$part needs root (network namespaces, af_packet)"
	exit 77
fi
skip_missing() {
	echo "skipped: evasion-$part needs $1 (scripts/deps.sh installs it)"
	exit 77
}
"$python" -c 'import scapy.layers.inet, impacket.ntlm' 2>/dev/null ||
	skip_missing "python3-scapy and python3-impacket"
command -v nft >/dev/null || skip_missing nftables
if [ "$part" = offline ]; then
	command -v tcpdump >/dev/null || skip_missing tcpdump
fi

gw_binary=${2:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
password=Ev-pass-$$
gw_work=$(mktemp -d /tmp/smbgw-evasion.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves shares below it
gw_file_prefix=smbgw-ev-$$
started=$SECONDS

export SMBGW_NETNS_PREFIX=ev$$
export SMBGW_IF_A=eva$$
export SMBGW_IF_B=evb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# Unencrypted SMB3: the gateway must see the tree connects.
export SMBGW_SMB_ENCRYPT=off
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

server=198.18.2.20
data_file=evasion.bin
admin_file=evasion-admin.txt
conf=$gw_work/gateway.conf
results=$gw_work/results.txt
tcpdump_pid=""

netns() {
	"$scripts/netns.sh" "$@"
}

cleanup() {
	if [ -n "$tcpdump_pid" ]; then
		kill -KILL "$tcpdump_pid" 2>/dev/null || true
	fi
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "evasion-$part: teardown failed" >&2
	if [ "${SMBGW_EVASION_KEEP:-0}" = 1 ]; then
		echo "kept: $gw_work"
	else
		rm -rf "$gw_work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: evasion-$part: $*"
	if [ -n "${gw_log:-}" ] && [ -s "$gw_log" ]; then
		echo "-- gateway output (last 30 lines)"
		tail -n 30 "$gw_log" | sed 's/^/  gateway| /'
	fi
	exit 1
}


# write_conf FILE POLICY: the live gateway's configuration; POLICY 1 adds
# the segments and the admin_share rule.
write_conf() {
	cat >"$1" <<CONF
gateway: {
  mode = "inline";
  ports = [ "$(gw_port 0)", "$(gw_port 1)" ];
  workers = 1;
  stats_interval = 0;
};
flows: { max_flows = 65536; sessions = 256; };
control: { socket = "$gw_work/control.sock"; };
output: { eve = "$gw_work/eve.json"; };
CONF
	if [ "$2" = 1 ]; then
		policy_group >>"$1"
	else
		# A plain bridge: normalisation would make the overlapping
		# variants repeat their first bytes, and overlapping fragments
		# would be dropped, which is not what this part shows.
		echo 'stream: { mode = "off"; fragments = "forward"; };' >>"$1"
	fi
	return 0
}

policy_group() {
	cat <<'CONF'
policy: {
  mode = "enforce"; default_action = "allow"; deny_action = "reset";
  segments = (
    { name = "clients"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; }
  );
  rules = (
    { name = "no-admin-shares"; from = "clients"; to = "servers";
      action = "deny"; share_class = "admin_share"; },
    { from = "clients"; to = "servers"; action = "allow"; }
  );
};
CONF
}

# The variants, one a line: name, kind (plain, segments, fragments), and
# strict or ambiguous.
variant_list=$("$python" "$client_py" list) || fail "smb_evasion.py list failed"

# Variants of the part: every variant of kind plain plus the part's kind.
variants_of() {
	awk -v kind="$1" \
		'kind == "all" || $2 == "plain" || $2 == kind { printf "%s%s", sep, $1; sep = "," }' \
		<<<"$variant_list"
}

# kind_of VARIANT: strict or ambiguous.
kind_of() {
	awk -v v="$1" '$1 == v { print $3 }' <<<"$variant_list"
}

# field LINE KEY: the value of KEY=... in a result line.
field() {
	sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"
}

# The runs of the part: "DRIVER VARIANTS" per line. Segment variants go
# through af_packet ports; fragment variants through net_pcap ports, since
# the af_packet driver's fanout group has the kernel reassemble IPv4
# fragments before the gateway sees them (the server would then receive
# the whole datagram and nothing evasive would be tested).
segment_variants=$(variants_of segments)
fragment_variants=$(variants_of fragments)
case $part in
harness | offline) runs="af_packet $segment_variants
pcap $fragment_variants" ;;
segments) runs="af_packet $segment_variants" ;;
fragments) runs="pcap $fragment_variants" ;;
esac
if [ -n "${SMBGW_EVASION_VARIANTS:-}" ]; then
	runs="${SMBGW_PORT_DRIVER:-af_packet} $SMBGW_EVASION_VARIANTS"
fi

[ -x "$gw_binary" ] || fail "no gateway binary at $gw_binary"

step "topology: client 198.18.1.10 -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server $server"
timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 </dev/null ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }
share=$SMBGW_NETNS_DIR/shares
head -c 100003 /dev/urandom >"$share/data/$data_file"
echo "the admin share" >"$share/admin/$admin_file"
data_sum=$(sha256sum <"$share/data/$data_file" | cut -d' ' -f1)

# The client's kernel knows nothing of the client's connections: its RSTs
# to the server's segments would end them.
netns exec client nft -f - <<'NFT' || fail "nft: cannot drop the client kernel's RSTs"
table ip evasion {
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 198.18.2.20 tcp dport 445 tcp flags & rst == rst drop
	}
}
NFT

# tcpdump_complete: true when tcpdump wrote every frame its filter took.
tcpdump_complete() {
	local captured received
	captured=$(sed -n 's/^\([0-9]*\) packets captured$/\1/p' "$gw_work/tcpdump.log")
	received=$(sed -n 's/^\([0-9]*\) packets received by filter$/\1/p' "$gw_work/tcpdump.log")
	[ -n "$captured" ] && [ "$captured" = "$received" ]
}

if [ "$part" = offline ]; then
	capture=$gw_work/client.pcap
	# Not through the netns function: $! must be tcpdump itself (netns.sh
	# and ip netns exec exec it), so that SIGINT reaches it. A 64 MiB
	# kernel buffer (-B, KiB): with the default 2 MiB, a busy 2-core host
	# lets the data-share transfers overrun the ring before tcpdump runs.
	"$scripts/netns.sh" exec client tcpdump -i eth0 --immediate-mode -U -s 0 -B 65536 \
		-w "$capture" ip >"$gw_work/tcpdump.log" 2>&1 &
	tcpdump_pid=$!
	for _ in $(seq 100); do
		grep -q 'listening on' "$gw_work/tcpdump.log" && break
		sleep 0.05
	done
	grep -q 'listening on' "$gw_work/tcpdump.log" ||
		{ cat "$gw_work/tcpdump.log"; fail "tcpdump did not start"; }
fi

# live_run N DRIVER VARIANTS: a gateway on DRIVER ports, the client's
# variants through it (results appended to $results), the gateway stopped
# and its accounting checked.
live_run() {
	local n=$1 variants=$3 pace=0 rto=0.3 attempts=1 id0 id1 out
	export SMBGW_PORT_DRIVER=$2
	if [ "$2" = pcap ]; then
		# The pcap port's capture ring loses bursts of tiny frames and
		# delivers late when the gateway polls late: paced frames, and a
		# longer wait before the client retransmits.
		pace=500
		rto=1.0
		# A frame it lost makes the client retransmit the request whole
		# and in order: run the variant again (at most 3 times) to see
		# its own bytes judged.
		attempts=3
	fi
	write_conf "$conf" "$([ "$part" = harness ] && echo 0 || echo 1)"
	gw_check_config "$conf" >"$gw_work/check.out" 2>&1 ||
		{ cat "$gw_work/check.out"; fail "smbgw --check-config refuses $conf"; }
	gw_log=$gw_work/gateway-$n.log
	step "gateway on $2 ports ($([ "$part" = harness ] && echo "no policy" || echo "deny admin_share"))"
	gw_start_with_config "$gw_log" "$conf"
	gw_wait_forwarding client 30 "$server" || {
		gw_running || fail "gateway exited during start-up"
		fail "no TCP connection from the client to $server:445 through the gateway within 30 s"
	}
	step "client: smb_evasion.py run: $variants"
	out=$gw_work/results-$n.txt
	netns exec client timeout 600 "$python" "$client_py" run --iface eth0 \
		--server "$server" --user root --password "$password" \
		--data-file "$data_file" --admin-file "$admin_file" \
		--variants "$variants" --seed $(($$ + n)) --pace-us "$pace" --rto "$rto" --attempts "$attempts" \
		--first-port $((20000 + ($$ % 20000) + 100 * n)) \
		>"$out" 2>"$gw_work/client.err" </dev/null ||
		{ cat "$out" "$gw_work/client.err"; fail "smb_evasion.py failed"; }
	sed 's/^/        /' "$out"
	cat "$out" >>"$results"
	want=$(($(tr ',' '\n' <<<"$variants" | wc -l) * 2))
	got=$(grep -c '^variant=' "$out" || true)
	[ "$got" -eq "$want" ] || bad "smb_evasion.py printed $got result lines, want $want"

	step "stopping the gateway (SIGTERM)"
	if gw_stop 20; then
		ok "$2: gateway exited 0 on SIGTERM"
	else
		bad "$2: gateway exited with status $gw_status"
		tail -n 30 "$gw_log" | sed 's/^/      gateway| /'
	fi
	read -r id0 <<<"$(counters_row "$gw_log" "final counters" "$(gw_port 0)" rx=tx+drop)"
	read -r id1 <<<"$(counters_row "$gw_log" "final counters" "$(gw_port 1)" rx=tx+drop)"
	if [ "${id0:-}" = ok ] && [ "${id1:-}" = ok ]; then
		ok "$2: final counters rx=tx+drop ok on both ports"
	else
		bad "$2: final counters rx=tx+drop: '${id0:-}' / '${id1:-}'"
	fi
	grep -E '^(decoded|parsers|policy|device .*):' "$gw_log" | sed 's/^/        /' || true
}

: >"$results"
n=0
while read -r driver variants; do
	n=$((n + 1))
	live_run "$n" "$driver" "$variants"
done <<<"$runs"

if [ -n "$tcpdump_pid" ]; then
	sleep 0.5       # the last frames (the client's final RST) into the file
	kill -INT "$tcpdump_pid" 2>/dev/null || true
	timeout 10 tail --pid="$tcpdump_pid" -f /dev/null ||
		kill -KILL "$tcpdump_pid" 2>/dev/null || true
	wait "$tcpdump_pid" 2>/dev/null || true
	tcpdump_pid=""
	sed 's/^/        tcpdump| /' "$gw_work/tcpdump.log"
	tcpdump_complete || fail "the capture misses frames (see tcpdump's counts)"
fi

# judge_live LINE: the live verdict of one variant against the part's rules.
judge_live() {
	local line=$1 v t verdict shr sum kind what
	v=$(field "$line" variant)
	t=$(field "$line" target)
	verdict=$(field "$line" verdict)
	shr=$(field "$line" share)
	sum=$(field "$line" sha256)
	kind=$(kind_of "$v")
	what="$t $v: $verdict share=$shr reason=$(field "$line" reason)"
	if [ "$verdict" = ERROR ]; then
		bad "$what (the session broke before the tree connect)"
	elif [ "$t" = data ] || [ "$part" = harness ]; then
		if [ "$verdict" != SUCCESS ] || [ "$shr" != "$t" ]; then
			bad "$what (want SUCCESS on the $t share)"
		elif [ "$part" = harness ] && [ "$(field "$line" retx)" != 0 ]; then
			# Without a policy nothing is dropped: a retransmission
			# means Samba did not take the variant's own bytes.
			bad "$what (retx $(field "$line" retx): the server did not take the variant's bytes)"
		elif [ "$t" = data ] && [ "$sum" != "$data_sum" ]; then
			bad "$what (sha256 ${sum:0:16} differs from the server's ${data_sum:0:16})"
		else
			ok "$what${sum:+ sha256 ${sum:0:16}}"
		fi
	elif [ "$verdict" = REFUSED ]; then
		ok "$what"
	elif [ "$kind" = ambiguous ] && [ "$shr" = data ]; then
		ok "$what (normalised to the other copy: ADMIN\$ not reached)"
	else
		bad "$what (ADMIN\$ tree connect must be refused)"
	fi
}

# smb_denied FILE: from smbgw -r's "policy:" line.
smb_denied_of() {
	sed -n 's/^policy:.* smb_denied \([0-9][0-9]*\).*/\1/p' "$1"
}

# judge_offline LINE: the variant's capture replayed with the policy.
judge_offline() {
	local line=$1 v t verdict shr kind sport pcap out denied frames what
	v=$(field "$line" variant)
	t=$(field "$line" target)
	verdict=$(field "$line" verdict)
	shr=$(field "$line" share)
	kind=$(kind_of "$v")
	sport=$(field "$line" sport)
	pcap=$gw_work/split/$t-$v-$sport.pcap
	out=$gw_work/split/$t-$v-$sport.out
	frames=$(awk -v n="$t-$v-$sport" '$1 == n { print $2 }' "$gw_work/split.txt")
	if ! "$gw_binary" -r "$pcap" -c "$gw_work/offline.conf" >"$out" 2>&1; then
		bad "offline $t $v: smbgw -r exited non-zero"
		sed 's/^/      smbgw| /' "$out" | tail -n 10
		return
	fi
	denied=$(smb_denied_of "$out")
	what="offline $t $v: $frames frames, smb_denied ${denied:-?} (live $verdict share=$shr)"
	if [ -z "$denied" ]; then
		bad "$what: no 'policy: ... smb_denied N' line"
	elif [ "$t" = data ]; then
		if [ "$denied" -eq 0 ]; then ok "$what"; else bad "$what (want 0)"; fi
	elif [ "$kind" = ambiguous ] && [ "$verdict" = SUCCESS ] && [ "$shr" = data ]; then
		# Live, the gateway delivered the other copy: offline must agree.
		if [ "$denied" -eq 0 ]; then ok "$what"; else bad "$what (live took the data share: want 0)"; fi
	elif [ "$denied" -ge 1 ]; then
		ok "$what"
	else
		bad "$what (want >= 1: the ADMIN\$ tree connect judged and denied)"
	fi
}

step "live verdicts"
[ -s "$results" ] || fail "no results from smb_evasion.py"
if [ "$part" != offline ]; then
	while read -r line; do
		judge_live "$line"
	done <"$results"
else
	step "offline: each connection's frames, replayed with the same policy"
	"$python" "$client_py" split "$capture" "$results" "$gw_work/split" \
		>"$gw_work/split.txt" 2>"$gw_work/split.err" ||
		{ cat "$gw_work/split.err"; fail "cannot split $capture"; }
	{
		echo 'gateway: { ports = [ "a", "b" ]; };'
		echo 'flows: { max_flows = 65536; sessions = 256; };'
		policy_group
	} >"$gw_work/offline.conf"
	while read -r line; do
		judge_offline "$line"
	done <"$results"
fi

step "done: $checks checks, ${#failures[@]} failed"
if [ ${#failures[@]} -gt 0 ]; then
	printf 'FAIL: evasion-%s:\n' "$part"
	printf '  - %s\n' "${failures[@]}"
	exit 1
fi
echo "PASS: evasion-$part ($checks checks)"
