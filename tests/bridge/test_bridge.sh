#!/bin/bash
# Bridge test: frames of every kind go through the gateway between two
# net_pcap ports and must come out byte for byte equal and in order; then the
# same frames through tap mode are analysed and never sent.
# usage: test_bridge.sh SMBGW_BINARY
set -euo pipefail

smbgw=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
python=/usr/bin/python3
work=$(mktemp -d /tmp/smbgw-bridge.XXXXXX)
gateway_pid=""

cleanup() {
	if [ -n "$gateway_pid" ] && kill -0 "$gateway_pid" 2>/dev/null; then
		kill -KILL "$gateway_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	[ -f "$work/gateway.log" ] && sed 's/^/  gateway| /' "$work/gateway.log"
	exit 1
}

# Waits until capture $1 holds $2 frames, for at most 20 s.
wait_for_frames() {
	local i
	for i in $(seq 200); do
		if [ "$($python "$here/compare_pcaps.py" --count "$1")" -ge "$2" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# run_gateway NAME CONFIG VDEV...: starts the gateway in the background.
run_gateway() {
	local name=$1 config=$2
	shift 2
	# Truncated here, not by the background job, so no reader sees the last run's log.
	: >"$work/gateway.log"
	# shellcheck disable=SC2046
	"$smbgw" -l 0-1 --no-pci $(eal_memory_options) \
		--file-prefix "smbgw-bridge-$name-$$" "$@" -- -c "$config" \
		>>"$work/gateway.log" 2>&1 &
	gateway_pid=$!
}

# stop_gateway: SIGTERM, then the exit status must be 0.
stop_gateway() {
	local status=0
	kill -TERM "$gateway_pid"
	timeout 20 tail --pid="$gateway_pid" -f /dev/null || fail "gateway did not stop on SIGTERM"
	wait "$gateway_pid" || status=$?
	gateway_pid=""
	[ "$status" -eq 0 ] || fail "gateway exited with status $status"
}

# final_row PORT: the final counters of PORT as "rx tx tx_full oversize receive_only identity".
final_row() {
	counters_row "$work/gateway.log" "final counters" "$1" rx tx tx_full oversize receive_only rx=tx+drop
}

$python "$here/make_frames.py" "$work/in_a.pcap" "$work/in_b.pcap"
frames_a=$($python "$here/compare_pcaps.py" --count "$work/in_a.pcap")
frames_b=$($python "$here/compare_pcaps.py" --count "$work/in_b.pcap")

echo "== inline: $frames_a + $frames_b frames through net_pcap ports =="
cat >"$work/inline.conf" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_pcap0", "net_pcap1" ];
  workers = 1;
  mtu = 9000;
  stats_interval = 0;
};
control: { socket = "$work/smbgw.sock"; };
CONF
run_gateway inline "$work/inline.conf" \
	--vdev "net_pcap0,rx_pcap=$work/in_a.pcap,tx_pcap=$work/out_a.pcap" \
	--vdev "net_pcap1,rx_pcap=$work/in_b.pcap,tx_pcap=$work/out_b.pcap"
wait_for_frames "$work/out_b.pcap" "$frames_a" || fail "port B sent fewer than $frames_a frames"
wait_for_frames "$work/out_a.pcap" "$frames_b" || fail "port A sent fewer than $frames_b frames"
stop_gateway
$python "$here/compare_pcaps.py" "$work/in_a.pcap" "$work/out_b.pcap" || fail "A to B frames differ"
$python "$here/compare_pcaps.py" "$work/in_b.pcap" "$work/out_a.pcap" || fail "B to A frames differ"
[ "$(final_row net_pcap0)" = "$frames_a $frames_a 0 0 0 ok" ] ||
	fail "net_pcap0 accounting: $(final_row net_pcap0)"
[ "$(final_row net_pcap1)" = "$frames_b $frames_b 0 0 0 ok" ] ||
	fail "net_pcap1 accounting: $(final_row net_pcap1)"
grep -q 'qinq 2 ' "$work/gateway.log" || fail "QinQ frames were not decoded"

echo "== inline with a 1500-byte MTU: jumbo frames are dropped and counted =="
sed 's/mtu = 9000/mtu = 1500/' "$work/inline.conf" >"$work/small.conf"
rm -f "$work/out_a.pcap" "$work/out_b.pcap"
run_gateway small "$work/small.conf" \
	--vdev "net_pcap0,rx_pcap=$work/in_a.pcap,tx_pcap=$work/out_a.pcap" \
	--vdev "net_pcap1,rx_pcap=$work/in_b.pcap,tx_pcap=$work/out_b.pcap"
jumbo=3
wait_for_frames "$work/out_b.pcap" $((frames_a - jumbo)) || fail "port B sent too few frames"
stop_gateway
[ "$(final_row net_pcap0)" = "$frames_a $((frames_a - jumbo)) 0 $jumbo 0 ok" ] ||
	fail "oversize accounting: $(final_row net_pcap0)"

echo "== inline: TCP fragments reassembled and fragmented again =="
if $python -c 'import scapy' 2>/dev/null; then
	fragments_out=$($python "$here/fragments.py" write "$work/frag_a.pcap")
	fragments_in=$($python "$here/compare_pcaps.py" --count "$work/frag_a.pcap")
	rm -f "$work/out_a.pcap" "$work/out_b.pcap"
	run_gateway fragments "$work/inline.conf" \
		--vdev "net_pcap0,rx_pcap=$work/frag_a.pcap,tx_pcap=$work/out_a.pcap" \
		--vdev "net_pcap1,rx_pcap=$work/in_b.pcap,tx_pcap=$work/out_b.pcap"
	wait_for_frames "$work/out_a.pcap" "$frames_b" || fail "port A sent fewer than $frames_b frames"
	wait_for_frames "$work/out_b.pcap" "$fragments_out" ||
		fail "port B sent fewer than $fragments_out frames"
	stop_gateway
	$python "$here/compare_pcaps.py" "$work/in_b.pcap" "$work/out_a.pcap" || fail "B to A frames differ"
	$python "$here/fragments.py" check "$work/frag_a.pcap" "$work/out_b.pcap" ||
		fail "fragments: the datagrams that came out differ from those that went in"
	row=$(counters_row "$work/gateway.log" "final counters" net_pcap0 rx reassembled frag_invalid held rx=tx+drop)
	# Four overlapping fragments dropped; the other 17 TCP fragments forwarded reassembled.
	[ "$row" = "$fragments_in 17 4 0 ok" ] || fail "fragment accounting: rx reassembled frag_invalid held identity = $row"
	grep -q "^fragments: received 26 datagrams 5 refragmented_sent 17 " "$work/gateway.log" ||
		fail "fragments: expected 26 fragments received (24 on A, 2 UDP on B), 5 datagrams re-fragmented into 17 frames"

	echo "== inline: an ADMIN\$ tree connect in IP fragments is denied =="
	mkdir -p "$work/captures"
	$python "$here/../replay/make_fragments.py" "$work/captures"
	cat "$work/inline.conf" - >"$work/deny.conf" <<'CONF'
policy: {
  mode = "enforce"; default_action = "allow"; deny_action = "reset";
  segments = (
    { name = "workstations"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "fileservers"; prefixes = [ "198.18.2.0/24" ]; }
  );
  rules = (
    { from = "workstations"; to = "fileservers"; action = "deny";
      share_class = "admin_share"; },
    { from = "workstations"; to = "fileservers"; action = "allow"; }
  );
};
CONF
	rm -f "$work/out_a.pcap" "$work/out_b.pcap"
	run_gateway deny "$work/deny.conf" \
		--vdev "net_pcap0,rx_pcap=$work/captures/frag_reverse.pcap,tx_pcap=$work/out_a.pcap" \
		--vdev "net_pcap1,rx_pcap=$work/in_b.pcap,tx_pcap=$work/out_b.pcap"
	# B: the three handshake frames and the reset to the server.
	wait_for_frames "$work/out_b.pcap" 4 || fail "port B sent fewer than 4 frames"
	wait_for_frames "$work/out_a.pcap" "$frames_b" || fail "port A sent fewer than $frames_b frames"
	stop_gateway
	row=$(counters_row "$work/gateway.log" "final counters" net_pcap0 rx tx policy rx=tx+drop)
	[ "$row" = "6 3 3 ok" ] || fail "denied fragments: rx tx policy identity = $row"
	grep -q "smb_denied 1 " "$work/gateway.log" || fail "the tree connect was not denied"
	$python - "$work/out_b.pcap" <<'PY' || fail "fragments of the denied request reached port B"
import sys
from scapy.all import IP, TCP, rdpcap
frames = rdpcap(sys.argv[1])
assert len(frames) == 4, len(frames)
assert not any(IP in f and (f[IP].flags.MF or f[IP].frag) for f in frames)
assert frames[-1][TCP].flags.R, "no reset to the server"
PY

	echo "== inline: the same request inside GRE is denied, without a reset =="
	$python "$here/tunnels.py" write "$work/captures"
	rm -f "$work/out_a.pcap" "$work/out_b.pcap"
	run_gateway gre "$work/deny.conf" \
		--vdev "net_pcap0,rx_pcap=$work/captures/gre_admin.pcap,tx_pcap=$work/out_a.pcap" \
		--vdev "net_pcap1,rx_pcap=$work/in_b.pcap,tx_pcap=$work/out_b.pcap"
	wait_for_frames "$work/out_b.pcap" 3 || fail "port B sent fewer than 3 frames"
	wait_for_frames "$work/out_a.pcap" "$frames_b" || fail "port A sent fewer than $frames_b frames"
	stop_gateway
	row=$(counters_row "$work/gateway.log" "final counters" net_pcap0 rx tx policy rx=tx+drop)
	[ "$row" = "4 3 1 ok" ] || fail "GRE: rx tx policy identity = $row"
	grep -q "smb_denied 1 " "$work/gateway.log" || fail "GRE: the tree connect was not denied"
	grep -q " gre 4 " "$work/gateway.log" || fail "GRE: the tunnel was not decoded"
	$python "$here/tunnels.py" check-deny "$work/out_b.pcap" || fail "GRE: what came out of port B"

	echo "== inline: a retransmission inside GRE leaves as judged, checksums set =="
	rm -f "$work/out_a.pcap" "$work/out_b.pcap"
	run_gateway gre-rewrite "$work/inline.conf" \
		--vdev "net_pcap0,rx_pcap=$work/captures/gre_rewrite.pcap,tx_pcap=$work/out_a.pcap" \
		--vdev "net_pcap1,rx_pcap=$work/in_b.pcap,tx_pcap=$work/out_b.pcap"
	wait_for_frames "$work/out_b.pcap" 5 || fail "port B sent fewer than 5 frames"
	wait_for_frames "$work/out_a.pcap" "$frames_b" || fail "port A sent fewer than $frames_b frames"
	stop_gateway
	grep -q "conflicts 1 rewritten 1 " "$work/gateway.log" || fail "GRE: the retransmission was not rewritten"
	$python "$here/tunnels.py" check-rewrite "$work/captures/gre_rewrite.pcap" "$work/out_b.pcap" ||
		fail "GRE: the rewritten retransmission"

	echo "== inline: a GRE datagram in fragments is put together, judged and cut again =="
	rm -f "$work/out_a.pcap" "$work/out_b.pcap"
	run_gateway gre-frag "$work/inline.conf" \
		--vdev "net_pcap0,rx_pcap=$work/captures/gre_frag.pcap,tx_pcap=$work/out_a.pcap" \
		--vdev "net_pcap1,rx_pcap=$work/in_b.pcap,tx_pcap=$work/out_b.pcap"
	wait_for_frames "$work/out_b.pcap" 5 || fail "port B sent fewer than 5 frames"
	wait_for_frames "$work/out_a.pcap" "$frames_b" || fail "port A sent fewer than $frames_b frames"
	stop_gateway
	row=$(counters_row "$work/gateway.log" "final counters" net_pcap0 rx reassembled held rx=tx+drop)
	[ "$row" = "6 3 0 ok" ] || fail "GRE fragments: rx reassembled held identity = $row"
	# 3 on A, 2 UDP on B (in_b.pcap); one datagram, cut into 3 again.
	grep -q "^fragments: received 5 datagrams 1 refragmented_sent 3 " "$work/gateway.log" ||
		fail "GRE fragments: the datagram was not put together and cut again"
	$python "$here/tunnels.py" check-fragments "$work/captures/gre_frag.pcap" "$work/out_b.pcap" ||
		fail "GRE fragments: what came out of port B"
else
	echo "skipped: python3-scapy is missing"
fi

echo "== tap: both captures analysed, nothing sent =="
cat >"$work/tap.conf" <<CONF
gateway: {
  mode = "tap";
  ports = [ "net_pcap0", "net_pcap1" ];
  mtu = 9000;
  stats_interval = 1;
};
control: { socket = "$work/smbgw.sock"; };
CONF
rm -f "$work/out_a.pcap" "$work/out_b.pcap"
run_gateway tap "$work/tap.conf" \
	--vdev "net_pcap0,rx_pcap=$work/in_a.pcap,tx_pcap=$work/out_a.pcap" \
	--vdev "net_pcap1,rx_pcap=$work/in_b.pcap,tx_pcap=$work/out_b.pcap"
for i in $(seq 100); do
	grep -q "^net_pcap1 *$frames_b " "$work/gateway.log" && break
	sleep 0.2
done
stop_gateway
[ "$(final_row net_pcap0)" = "$frames_a 0 0 0 $frames_a ok" ] ||
	fail "tap accounting: $(final_row net_pcap0)"
[ "$($python "$here/compare_pcaps.py" --count "$work/out_a.pcap")" -eq 0 ] ||
	fail "tap mode transmitted frames"

echo "PASS: bridge"
