#!/bin/bash
# End-to-end under benign network impairment: the gateway, inline and in
# enforce mode with a policy that fully inspects the flow (its segment pair
# allows the traffic and has an SMB-level deny rule, deny admin_share), must
# not break a large smbclient copy while the links on both sides delay,
# reorder, lose and duplicate segments as real networks do.
#
#   ws1 198.18.1.10 [netem] -- IF_A [gateway] IF_B -- [netem] server 198.18.2.20
#
# netem sits on the egress of ws1's and the server's own interface (eth0 in
# their namespaces), so both data directions reach the gateway already
# reordered. (The topology is netns.sh's policy layout, so that the server,
# too, has a switch between it and the gateway; see SMBGW_E2E_IMPAIR.)
# Phases (SMBGW_E2E_NETEM_PHASES, default "reorder lossdup"):
#
#   reorder  netem delay 10ms reorder 25% 50%
#   lossdup  netem delay 10ms reorder 25% 50% loss 1% duplicate 1%
#   clean    netem doing nothing (delay 0ms): what the impairment costs
#            compared with the qdisc or forwarder alone; not checked for
#            reordering
#
# Each phase puts a file of SMBGW_E2E_SIZE_MB (default 64) and gets another
# of the same size. Checked per phase: sha256 equal both ways, and the
# receiving TCP stacks saw out-of-order segments (TcpExtTCPOFOQueue > 0 in
# the server's namespace for the put and in ws1's for the get: otherwise the
# impairment did not happen and the phase proves nothing). Checked at the
# end, on the gateway's final output: it exited 0 on SIGTERM; zero TCP
# resets (policy: resets 0); zero denied flows and SMB denials; the policy
# drop column 0 and rx=tx+drop ok on both ports; the parsers saw the copies
# (payload_bytes at least the bytes copied, smb_messages > 0); and zero
# unjudged flows. The "unjudged" counter belongs to TCP stream normalisation
# (holes given up at stream.gap_timeout, docs/policy.md):
# every counter whose name contains "unjudged" in the final output or in
# "smbgwctl stats" must be 0, and there must be one.
#
# usage: test_netem.sh [SMBGW_BINARY [SMBGWCTL_BINARY [IMPAIR_BINARY]]]
#   defaults: build/app/smbgw, build/app/smbgwctl, build/tests/e2e/impair
#   (MESON_BUILD_ROOT)
#   SMBGW_E2E_SIZE_MB        size of each file (default 64)
#   SMBGW_E2E_NETEM_PHASES   phases to run, in order (default "reorder lossdup")
#   SMBGW_E2E_COPY_TIMEOUT   seconds each smbclient transfer may take (default 300)
#   SMBGW_E2E_IMPAIR         how the links are impaired:
#     netem      (default) the netem qdisc; skipped (77) if the kernel has none
#     forwarder  tests/e2e/impair, a netem stand-in in user space, between
#                each host's switch port and the switch uplink (the hosts'
#                switch ports leave the bridge); for kernels without netem
#     auto       netem if the kernel has it, else the forwarder
#     none       no impairment: a baseline for the timing (the out-of-order
#                checks are then skipped)
# Exit: 0 pass, 1 fail, 77 skipped (not root, or no netem qdisc in the kernel).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-netem needs root (network namespaces, af_packet, tc)"
	exit 77
fi

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}
impair_binary=${3:-$(dirname "$gw_binary")/../tests/e2e/impair}
size_mb=${SMBGW_E2E_SIZE_MB:-64}
phases=${SMBGW_E2E_NETEM_PHASES:-reorder lossdup}
copy_timeout=${SMBGW_E2E_COPY_TIMEOUT:-300}
impair=${SMBGW_E2E_IMPAIR:-netem}
password=Smbgw-nm-$$
gw_work=$(mktemp -d /tmp/smbgw-netem.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves a share below it as bob
gw_file_prefix=smbgw-netem-$$
started=$SECONDS

export SMBGW_NETNS_PREFIX=nm$$
export SMBGW_IF_A=nma$$
export SMBGW_IF_B=nmb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

ws1=198.18.1.10
server=198.18.2.20
share=$SMBGW_NETNS_DIR/shares/data
conf=$gw_work/netem.conf
gw_log=$gw_work/gateway.log

# phase_params PHASE: "DELAY_MS REORDER_PCT CORRELATION_PCT LOSS_PCT DUPLICATE_PCT".
phase_params() {
	case $1 in
	clean) echo "0 0 0 0 0" ;;
	reorder) echo "10 25 50 0 0" ;;
	lossdup) echo "10 25 50 1 1" ;;
	*) return 1 ;;
	esac
}

# netem_args DELAY REORDER CORRELATION LOSS DUPLICATE: the netem options.
netem_args() {
	local args="delay ${1}ms reorder $2% $3%"
	[ "$4" = 0 ] || args="$args loss $4%"
	[ "$5" = 0 ] || args="$args duplicate $5%"
	echo "$args"
}

netns() {
	"$scripts/netns.sh" "$@"
}

cleanup() {
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "e2e-netem: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# fail MESSAGE [FILE]: the set-up broke; nothing further can be checked.
fail() {
	echo "FAIL: e2e-netem: $1"
	if [ $# -ge 2 ] && [ -s "$2" ]; then
		tail -n 20 "$2" | sed 's/^/  | /'
	fi
	if [ -s "$gw_log" ]; then
		echo "-- gateway output (last 40 lines)"
		tail -n 40 "$gw_log" | sed 's/^/  gateway| /'
	fi
	exit 1
}




now_us() {
	echo "${EPOCHREALTIME/./}"
}

is_number() {
	[[ $1 =~ ^[0-9]+$ ]]
}

# mb_per_s BYTES MICROSECONDS: throughput with one decimal.
mb_per_s() {
	awk -v b="$1" -v us="$2" 'BEGIN { rate = 0; if (us > 0) rate = b / 1048576 / (us / 1e6); printf "%.1f", rate }'
}

# field TEXT NAME: the number after the word NAME in TEXT ("" if none).
field() {
	sed -n "s/.*\<$2 \([0-9][0-9]*\).*/\1/p" <<<"$1" | head -n 1
}

# tcp_ofo HOST: segments the host's TCP stack queued out of order so far.
tcp_ofo() {
	netns exec "$1" nstat -asz TcpExtTCPOFOQueue 2>/dev/null |
		awk '$1 == "TcpExtTCPOFOQueue" { print $2; found = 1 } END { if (!found) print 0 }'
}

# tcp_retrans HOST: segments the host's TCP stack retransmitted so far.
tcp_retrans() {
	netns exec "$1" nstat -asz TcpRetransSegs 2>/dev/null |
		awk '$1 == "TcpRetransSegs" { print $2; found = 1 } END { if (!found) print 0 }'
}

# The forwarder's place: the switch namespace of each host, and the pid of
# the forwarder running there.
declare -A impair_switch=([client]=switch [server]=switchb)
declare -A impair_pid=()

# forwarder_start HOST [DELAY REORDER CORRELATION LOSS DUPLICATE]: impair
# between HOST's switch port (port1) and the uplink; without parameters it
# only forwards.
forwarder_start() {
	local host=$1 args=()
	shift
	[ $# -eq 0 ] || args=(-d "$1" -r "$2" -c "$3" -l "$4" -p "$5")
	# Not through the netns function: $! must be the forwarder itself
	# (netns.sh and ip netns exec exec it), not a subshell.
	"$scripts/netns.sh" exec "${impair_switch[$host]}" "$impair_binary" port1 uplink "${args[@]}" \
		>>"$gw_work/impair-$host.log" 2>&1 </dev/null &
	impair_pid[$host]=$!
	sleep 0.1
	kill -0 "${impair_pid[$host]}" 2>/dev/null
}

# forwarder_stop HOST: SIGTERM; its counters line goes to the output.
forwarder_stop() {
	local pid=${impair_pid[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	impair_pid[$1]=""
	tail -n 1 "$gw_work/impair-$1.log" | sed "s/^/        $1| /"
}

# forwarder_insert HOST: takes HOST's switch port and the uplink out of the
# bridge and joins them through the forwarder instead.
forwarder_insert() {
	local sw=${impair_switch[$1]} dev
	for dev in port1 uplink; do
		netns exec "$sw" ip link set "$dev" nomaster || return 1
		# Frames must stay <= MTU to fit the forwarder's buffers.
		netns exec "$sw" ethtool -K "$dev" gro off >/dev/null 2>&1 || true
	done
	forwarder_start "$1"
}

# impair_set HOST DELAY REORDER CORRELATION LOSS DUPLICATE: impairs HOST's
# outgoing frames.
impair_set() {
	local host=$1 args
	shift
	case $impair in
	netem)
		read -r -a args <<<"$(netem_args "$@")"
		netns exec "$host" tc qdisc replace dev eth0 root netem "${args[@]}"
		;;
	forwarder)
		forwarder_stop "$host" >/dev/null
		forwarder_start "$host" "$@"
		;;
	esac
}

# impair_clear HOST: shows what the impairment did (netem's qdisc counters,
# its drops are the losses; the forwarder's counters) and stops it.
impair_clear() {
	case $impair in
	netem)
		netns exec "$1" tc -s qdisc show dev eth0 | sed "s/^/        $1 eth0| /"
		netns exec "$1" tc qdisc del dev eth0 root 2>/dev/null || true
		;;
	forwarder)
		forwarder_stop "$1"
		forwarder_start "$1"
		;;
	esac
}

# netem_available: the kernel has sch_netem (built in, or as a module that
# loads). Tried on a veth pair in a namespace of our own.
netem_available() {
	local ns=${SMBGW_NETNS_PREFIX}-probe rc=0
	if command -v modprobe >/dev/null; then
		modprobe -q sch_netem 2>/dev/null || true
	fi
	ip netns add "$ns" || return 1
	ip -n "$ns" link add nmprobe0 type veth peer name nmprobe1 &&
		ip netns exec "$ns" tc qdisc add dev nmprobe0 root netem delay 10ms reorder 25% 50% \
			>/dev/null 2>&1 || rc=1
	ip netns del "$ns"
	return "$rc"
}

write_conf() {
	cat >"$conf" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_af_packet0", "net_af_packet1" ];
  workers = 1;
  stats_interval = 0;
};
flows: { max_flows = 65536; sessions = 256; };
control: { socket = "$gw_work/control.sock"; };
output: { eve = "$gw_work/eve.json"; };
# ws1 -> server is allowed, with an SMB-level deny rule on the same pair:
# the gateway must follow every SMB message of the copies to judge them.
policy: {
  mode = "enforce"; default_action = "allow"; deny_action = "reset";
  segments = (
    { name = "workstations"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "fileservers"; prefixes = [ "198.18.2.0/24" ]; }
  );
  rules = (
    { from = "workstations"; to = "fileservers"; action = "deny"; share_class = "admin_share"; },
    { from = "workstations"; to = "fileservers"; action = "allow"; }
  );
};
CONF
	gw_check_config "$conf" >"$gw_work/check.out" 2>&1 || {
		sed 's/^/  check-config| /' "$gw_work/check.out"
		fail "smbgw --check-config refuses the test's configuration"
	}
}

# transfer PHASE put|get: one smbclient transfer ws1 <-> //server/data,
# timed; sha256 compared. Adds the bytes to copied_bytes.
transfer() {
	local phase=$1 dir=$2 cmd local_file remote_file t0 us rc=0 sent got
	local_file=$gw_work/$phase-$dir.bin
	remote_file=$share/$phase-$dir.bin
	if [ "$dir" = put ]; then
		cmd="put $local_file $phase-$dir.bin"
	else
		rm -f "$local_file"
		cmd="get $phase-$dir.bin $local_file"
	fi
	t0=$(now_us)
	netns exec ws1 timeout "$copy_timeout" smbclient "//$server/data" -U "bob%$password" \
		-c "$cmd" >"$gw_work/$phase-$dir.log" 2>&1 </dev/null || rc=$?
	us=$(($(now_us) - t0))
	if [ "$rc" -ne 0 ]; then
		bad "$phase: smbclient $dir failed (exit $rc after $((us / 1000)) ms$([ "$rc" -eq 124 ] && echo ", timeout ${copy_timeout} s"))" \
			"$gw_work/$phase-$dir.log" smbclient
		return 0
	fi
	copied_bytes=$((copied_bytes + size_mb * 1048576))
	if [ "$dir" = put ]; then
		sent=$(sha256sum <"$local_file")
		got=$(sha256sum <"$remote_file" 2>/dev/null || echo missing)
	else
		sent=$(sha256sum <"$remote_file")
		got=$(sha256sum <"$local_file" 2>/dev/null || echo missing)
	fi
	if [ "$sent" = "$got" ]; then
		ok "$phase: $dir $size_mb MB in $((us / 1000)) ms ($(mb_per_s $((size_mb * 1048576)) "$us") MB/s), sha256 equal (${sent:0:16}...)"
	else
		bad "$phase: $dir $size_mb MB: sha256 differs (${sent:0:16}... sent, ${got:0:16}... received)"
	fi
	summary+=("$phase $dir: $size_mb MB in $((us / 1000)) ms, $(mb_per_s $((size_mb * 1048576)) "$us") MB/s")
}

# check_reordered PHASE DIR HOST BEFORE: HOST's TCP queued segments out of
# order during the transfer (it received the data).
check_reordered() {
	local now
	[ "$impair" != none ] && [ "$1" != clean ] || return 0
	now=$(tcp_ofo "$3")
	if [ $((now - $4)) -gt 0 ]; then
		ok "$1: the $2 arrived reordered: $3 queued $((now - $4)) segments out of order"
	else
		bad "$1: $3 queued no segment out of order during the $2: netem did not reorder, the phase proves nothing"
	fi
}

# unjudged_counters FILE: every "NAME N" or "\"NAME\": N" with "unjudged"
# in NAME, one "NAME N" per line; and a counters table column with
# "unjudged" in its name, as "COLUMN:PORT N".
unjudged_counters() {
	grep -o '"\{0,1\}[A-Za-z_]*unjudged[A-Za-z_]*"\{0,1\}:\{0,1\} *[0-9][0-9]*' "$1" 2>/dev/null |
		sed 's/[":]/ /g' | awk '{ print $1, $2 }' || true
	awk '$1 == "port" { for (i = 2; i <= NF; i++) if ($i ~ /unjudged/) col[i] = $i; next }
		$1 ~ /^net_/ { for (i in col) print col[i] ":" $1, $i }' "$1"
}

[ -x "$gw_binary" ] || fail "no gateway binary at $gw_binary"
for tool in smbclient smbd ethtool ip tc nstat sha256sum; do
	command -v "$tool" >/dev/null || fail "missing $tool (see tests/e2e/README.md)"
done
case $impair in
netem)
	if ! netem_available; then
		echo "SKIP: e2e-netem: the kernel has no netem qdisc (sch_netem, CONFIG_NET_SCH_NETEM);" \
			"SMBGW_E2E_IMPAIR=forwarder runs the test with a stand-in in user space"
		exit 77
	fi
	;;
auto)
	if netem_available; then
		impair=netem
	else
		impair=forwarder
	fi
	;;
forwarder | none) ;;
*) fail "SMBGW_E2E_IMPAIR must be netem, forwarder, auto or none" ;;
esac
if [ "$impair" = forwarder ]; then
	[ -x "$impair_binary" ] || fail "no impair binary at $impair_binary (SMBGW_E2E_IMPAIR=forwarder)"
fi
for phase in $phases; do
	phase_params "$phase" >/dev/null || fail "unknown phase '$phase' (reorder, lossdup, clean)"
done

step "topology: ws1 $ws1 -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server $server"
in_background timeout 60 "$scripts/netns.sh" up --layout policy >"$gw_work/netns.log" 2>&1 </dev/null ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }
if [ "$impair" = forwarder ]; then
	for host in client server; do
		forwarder_insert "$host" ||
			fail "cannot put the forwarder between $host and its switch" "$gw_work/impair-$host.log"
	done
fi

write_conf
step "gateway: $gw_binary (inline, enforce, deny admin_share + allow ws1 -> server)"
gw_start_with_config "$gw_log" "$conf"
gw_wait_forwarding client 30 "$server" || {
	gw_running || fail "gateway exited during start-up"
	fail "no TCP connection to $server:445 through the gateway within 30 s"
}

copied_bytes=0
summary=()
for phase in $phases; do
	read -r -a params <<<"$(phase_params "$phase")"
	case $impair in
	netem) where="netem $(netem_args "${params[@]}") on ws1's and the server's eth0" ;;
	forwarder) where="forwarder as netem $(netem_args "${params[@]}") from ws1 and the server" ;;
	none) where="no impairment (baseline)" ;;
	esac
	step "$phase: $where; $size_mb MB put, $size_mb MB get"
	head -c "${size_mb}M" /dev/urandom >"$gw_work/$phase-put.bin"
	head -c "${size_mb}M" /dev/urandom >"$share/$phase-get.bin"
	chmod 0644 "$share/$phase-get.bin"
	impair_set client "${params[@]}" || fail "cannot impair ws1's link ($where)" "$gw_work/impair-client.log"
	impair_set server "${params[@]}" || fail "cannot impair the server's link ($where)" "$gw_work/impair-server.log"
	retrans_before=$(($(tcp_retrans client) + $(tcp_retrans server)))

	ofo_before=$(tcp_ofo server)
	transfer "$phase" put
	check_reordered "$phase" put server "$ofo_before"
	ofo_before=$(tcp_ofo client)
	transfer "$phase" get
	check_reordered "$phase" get client "$ofo_before"

	printf '        retransmitted segments (ws1 + server): %s\n' \
		$(($(tcp_retrans client) + $(tcp_retrans server) - retrans_before))
	impair_clear client
	impair_clear server
	rm -f "$gw_work/$phase-put.bin" "$gw_work/$phase-get.bin" "$share/$phase-put.bin" "$share/$phase-get.bin"
done

# The stats the control socket gives, for counters not in the final output.
if [ -x "$ctl_binary" ]; then
	"$ctl_binary" -s "$gw_work/control.sock" --json stats >"$gw_work/stats.json" 2>&1 ||
		bad "smbgwctl stats failed" "$gw_work/stats.json" smbgwctl
fi

step "stopping the gateway (SIGTERM)"
if gw_stop 20; then
	ok "gateway exited 0 on SIGTERM (exit 1 would mean rx=tx+drop failed)"
elif [ "$gw_status" -eq 124 ]; then
	bad "gateway did not stop within 20 s of SIGTERM"
else
	bad "gateway exited with status $gw_status" "$gw_log" gateway
fi
sed -n '/^== final counters ==$/,/^events:/p' "$gw_log" | sed 's/^/      /'

for port in net_af_packet0 net_af_packet1; do
	read -r pol ident <<<"$(counters_row "$gw_log" "final counters" "$port" policy rx=tx+drop)"
	if [ -z "${ident:-}" ]; then
		bad "$port: no row in the gateway's final counters"
	elif [ "$pol" = 0 ] && [ "$ident" = ok ]; then
		ok "$port: policy drops 0, rx=tx+drop ok"
	else
		bad "$port: want policy drops 0 and rx=tx+drop ok: policy '$pol', rx=tx+drop '$ident'"
	fi
done

policy_line=$(grep -m1 '^policy:' "$gw_log" || true)
resets=$(field "$policy_line" resets)
denied=$(field "$policy_line" denied_flows)
smb_denied=$(field "$policy_line" smb_denied)
allowed=$(field "$policy_line" allowed_flows)
if ! is_number "$resets" || ! is_number "$denied" || ! is_number "$smb_denied"; then
	bad "no 'policy: ... denied_flows N ... smb_denied N ... resets N' line in the final output"
elif [ "$resets" -eq 0 ] && [ "$denied" -eq 0 ] && [ "$smb_denied" -eq 0 ]; then
	ok "policy: resets 0, denied_flows 0, smb_denied 0 (allowed_flows ${allowed:-?})"
else
	bad "policy: want resets, denied_flows and smb_denied 0: resets $resets, denied_flows $denied, smb_denied $smb_denied"
fi

parsers_line=$(grep -m1 '^parsers:' "$gw_log" || true)
smb_messages=$(field "$parsers_line" smb_messages)
payload=$(field "$parsers_line" payload_bytes)
if ! is_number "$smb_messages" || ! is_number "$payload"; then
	bad "no 'parsers: smb_messages N ... payload_bytes N' line in the final output"
elif [ "$copied_bytes" -gt 0 ] && [ "$smb_messages" -gt 0 ] && [ "$payload" -ge "$copied_bytes" ]; then
	ok "parsers saw the copies: smb_messages $smb_messages, payload_bytes $payload >= $copied_bytes copied"
else
	bad "parsers: want smb_messages > 0 and payload_bytes >= $copied_bytes (bytes copied): smb_messages $smb_messages, payload_bytes $payload"
fi

{
	sed -n '/^== final counters ==$/,$p' "$gw_log"
	cat "$gw_work/stats.json" 2>/dev/null || true
} >"$gw_work/all-stats.txt"
unjudged=$(unjudged_counters "$gw_work/all-stats.txt")
if [ -z "$unjudged" ] && grep -q unjudged "$gw_work/all-stats.txt"; then
	bad "the final output or smbgwctl stats names 'unjudged', but the test cannot read its value:" \
		"$(grep -m1 unjudged "$gw_work/all-stats.txt")"
elif [ -z "$unjudged" ]; then
	bad "no counter named 'unjudged' in the final output or smbgwctl stats"
elif awk '$2 != 0 { exit 1 }' <<<"$unjudged"; then
	ok "unjudged flows 0 ($(tr '\n' ' ' <<<"$unjudged"| sed 's/ $//'))"
else
	bad "unjudged flows: $(tr '\n' ' ' <<<"$unjudged")"
fi

echo "-- timing"
for line in "${summary[@]}"; do
	echo "   $line"
done
if [ "${#failures[@]}" -gt 0 ]; then
	echo "FAIL: e2e-netem: ${#failures[@]} of $checks checks failed ($((SECONDS - started)) s):"
	for f in "${failures[@]}"; do
		echo "  - $f"
	done
	exit 1
fi
echo "PASS: e2e-netem ($checks checks, $impair, phases: $phases, ${size_mb} MB each way, $((SECONDS - started)) s)"
