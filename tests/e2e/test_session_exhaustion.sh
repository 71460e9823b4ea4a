#!/bin/bash
# End-to-end: the parser's session pool cannot be exhausted into a bypass
# (netns.sh up --hosts 3 --mgmt):
#
#   client 198.18.1.10, client2 198.18.1.11, mgmt 198.18.1.50
#       -- IF_A [gateway] IF_B -- server 198.18.2.20
#
# Segments: workstations 198.18.1.0/24 (client, client2) with "deny
# admin_share" to fileservers 198.18.2.0/24, else allow; management
# 198.18.1.50/32 has no rule (an allow-only pair). A pool of 16 parser
# states. In every part client holds 24 idle SMB connections (NEGOTIATE,
# then nothing: tests/e2e/idle_smb.py), then client2 runs psexec.py, then
# mgmt copies 4 MB up and down:
#  1. sessions_per_client 8: client keeps 8 states and is capped (its other
#     16 connections are refused, counted); psexec.py is parsed and denied
#     at ADMIN$; the copy works.
#  2. no cap, no reclaim: client takes all 16 states; psexec.py finds none
#     and is refused whole (never forwarded unjudged); mgmt's copy flows
#     unparsed, sha256 equal.
#  3. no cap, idle states reclaimed after 1 s: psexec.py takes the state
#     of an idle connection and is denied at ADMIN$; the copy works.
# Each part has its own gateway; its final "sessions:" and "policy:" lines
# must show the counts.
#
# usage: test_session_exhaustion.sh [SMBGW_BINARY]
#   SMBGW_E2E_EXHAUST_PARTS  parts to run (default "1 2 3")
# Exit: 0 pass, 1 fail, 77 skipped (not root, or a tool missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-session-exhaustion needs root (network namespaces, af_packet)"
	exit 77
fi
psexec=/usr/share/doc/python3-impacket/examples/psexec.py
for tool in smbclient smbd ethtool ip sha256sum /usr/bin/python3 "$psexec"; do
	if ! command -v "$tool" >/dev/null && [ ! -r "$tool" ]; then
		echo "skipped: e2e-session-exhaustion needs $tool (scripts/deps.sh)"
		exit 77
	fi
done

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
password=Smbgw-exh-$$
gw_work=$(mktemp -d /tmp/smbgw-exhaust.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves shares below it as bob
gw_file_prefix=smbgw-exhaust-$$
started=$SECONDS
parts=${SMBGW_E2E_EXHAUST_PARTS:-1 2 3}

export SMBGW_NETNS_PREFIX=ex$$
export SMBGW_IF_A=exa$$
export SMBGW_IF_B=exb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# Unencrypted SMB3 also for impacket, so the gateway sees ADMIN$.
export SMBGW_SMB_ENCRYPT=off
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

server=198.18.2.20
share=$SMBGW_NETNS_DIR/shares/data
conf=$gw_work/exhaust.conf
idle_pid=""

netns() {
	"$scripts/netns.sh" "$@"
}

cleanup() {
	[ -z "$idle_pid" ] || kill -KILL "$idle_pid" 2>/dev/null || true
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "e2e-session-exhaustion: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-session-exhaustion: $*"
	if [ -n "${gw_log:-}" ] && [ -s "$gw_log" ]; then
		echo "-- gateway output (last 40 lines)"
		tail -n 40 "$gw_log" | sed 's/^/  gateway| /'
	fi
	exit 1
}


# value FILE LINE NAME: the number after NAME on the last line starting LINE:
value() {
	grep "^$2:" "$1" | tail -n 1 | tr ' ' '\n' | grep -A1 -x "$3" | tail -1
}

# at_least WHAT GOT MIN
at_least() {
	if [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ]; then
		ok "$1 = $2 (>= $3)"
	else
		bad "$1 = '$2', want >= $3"
	fi
}

write_conf() {	# write_conf PER_CLIENT RECLAIM_MS
	cat >"$conf" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_af_packet0", "net_af_packet1" ];
  workers = 1;
  stats_interval = 0;
};
# Closed flows leave soon: the start-up probe's connection must not hold a
# state (it takes one where states are taken at the handshake).
flows: { max_flows = 65536; sessions = 16; sessions_per_client = $1; session_idle_reclaim_ms = $2;
  timeout_closed = 1; };
control: { socket = "$gw_work/control.sock"; };
policy: {
  mode = "enforce"; default_action = "allow"; deny_action = "reset";
  segments = (
    { name = "workstations"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "fileservers"; prefixes = [ "198.18.2.0/24" ]; },
    { name = "management"; prefixes = [ "198.18.1.50/32" ]; }
  );
  rules = (
    { from = "workstations"; to = "fileservers"; action = "deny"; share_class = "admin_share"; },
    { from = "workstations"; to = "fileservers"; action = "allow"; }
  );
};
CONF
	gw_check_config "$conf" >"$gw_work/check.out" 2>&1 ||
		{ cat "$gw_work/check.out"; fail "smbgw --check-config refuses $conf"; }
}

# hold_idle COUNT: client opens COUNT idle SMB connections in the
# background; sets held, refused (from idle_smb.py's report line).
hold_idle() {
	local log=$gw_work/idle.log
	: >"$log"
	netns exec client timeout 300 /usr/bin/python3 "$here/idle_smb.py" \
		"$server" "$1" 240 >"$log" 2>&1 </dev/null &
	idle_pid=$!
	for _ in $(seq 600); do
		grep -q '^held ' "$log" && break
		kill -0 "$idle_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^held ' "$log" || { cat "$log"; fail "idle_smb.py did not report"; }
	read -r _ held _ refused _ silent <"$log"
	step "client: $(cat "$log")"
}

release_idle() {
	kill -TERM "$idle_pid" 2>/dev/null || true
	wait "$idle_pid" 2>/dev/null || true
	idle_pid=""
}

# run_psexec OUT: psexec.py root@server from client2.
run_psexec() {
	netns exec client2 timeout 60 /usr/bin/python3 "$psexec" \
		"root:$password@$server" cmd >"$1" 2>&1 </dev/null || true
	sed 's/^/        psexec| /' "$1"
}

# mgmt_copy PART: 4 MB up and down from mgmt, sha256 compared.
mgmt_copy() {
	rm -f "$gw_work/down.bin" "$share/up.bin"
	if netns exec mgmt timeout 60 smbclient "//$server/data" -U "bob%$password" \
		-c "put $gw_work/up.bin up.bin; get down.bin $gw_work/down.bin" \
		>"$gw_work/copy.log" 2>&1 </dev/null; then
		if [ "$(sha256sum <"$share/up.bin")" = "$up_sum" ] &&
			[ "$(sha256sum <"$gw_work/down.bin")" = "$down_sum" ]; then
			ok "$1: mgmt (allow-only pair) copied 4 MB up and down, sha256 equal"
		else
			bad "$1: mgmt's copy completed but sha256 differs"
		fi
	else
		bad "$1: mgmt's smbclient copy failed" "$gw_work/copy.log"
	fi
}

# part N PER_CLIENT RECLAIM_MS: a gateway, the idle client, psexec, the copy.
part() {
	gw_log=$gw_work/gateway-$1.log
	write_conf "$2" "$3"
	step "part $1: gateway with 16 states, sessions_per_client $2, session_idle_reclaim_ms $3"
	gw_start_with_config "$gw_log" "$conf"
	gw_wait_forwarding client 30 "$server" || {
		gw_running || fail "gateway exited during start-up"
		fail "no TCP connection from client to $server:445 through the gateway within 30 s"
	}
	sleep 2.5	# the probe's flow has aged out
	step "part $1: client holds 24 idle SMB connections"
	hold_idle 24
	if [ "$1" = 3 ]; then
		sleep 1.5	# the idle states are now reclaimable
	fi
	step "part $1: client2 runs psexec.py root@$server"
	run_psexec "$gw_work/psexec-$1.log"
	if grep -q 'Uploading file' "$gw_work/psexec-$1.log"; then
		bad "$1: psexec.py uploaded to ADMIN\$: the deny was bypassed"
	else
		ok "$1: psexec.py did not upload"
	fi
	step "part $1: mgmt copies through the gateway"
	mgmt_copy "$1"
	release_idle
	step "part $1: stopping the gateway"
	gw_stop 20 || bad "$1: gateway exit status $gw_status" "$gw_log"
	grep -E '^(sessions|policy):' "$gw_log" | tail -n 2 | sed 's/^/        /'
	local id0 id1
	id0=$(counters_row "$gw_log" "final counters" net_af_packet0 rx=tx+drop)
	id1=$(counters_row "$gw_log" "final counters" net_af_packet1 rx=tx+drop)
	[ "$id0" = ok ] && [ "$id1" = ok ] &&
		ok "$1: final counters rx=tx+drop ok on both ports" ||
		bad "$1: final counters rx=tx+drop '$id0' / '$id1'"
}

step "topology: client, client2, mgmt -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server $server"
timeout 60 "$scripts/netns.sh" up --hosts 3 --mgmt >"$gw_work/netns.log" 2>&1 </dev/null ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }
head -c 4M /dev/urandom >"$gw_work/up.bin"
head -c 4M /dev/urandom >"$share/down.bin"
up_sum=$(sha256sum <"$gw_work/up.bin")
down_sum=$(sha256sum <"$share/down.bin")

for n in $parts; do
	case $n in
	1)
		part 1 8 600000
		[ "$held" = 8 ] && [ "$refused" = 16 ] &&
			ok "1: the idle client kept 8 connections, 16 were refused" ||
			bad "1: the idle client kept $held, $refused refused (want 8 and 16)"
		at_least "1: sessions client_capped" "$(value "$gw_log" sessions client_capped)" 16
		at_least "1: sessions refused" "$(value "$gw_log" sessions refused)" 16
		at_least "1: policy smb_denied (ADMIN\$)" "$(value "$gw_log" policy smb_denied)" 1
		grep -q 'Requesting shares' "$gw_work/psexec-1.log" &&
			ok "1: psexec.py logged on and was stopped at the share" ||
			bad "1: psexec.py did not get as far as 'Requesting shares'" "$gw_work/psexec-1.log"
		;;
	2)
		part 2 0 600000
		[ "$held" = 16 ] && [ "$refused" = 8 ] &&
			ok "2: the idle client took all 16 states, 8 connections refused" ||
			bad "2: the idle client kept $held, $refused refused (want 16 and 8)"
		at_least "2: sessions refused (8 idle + psexec)" "$(value "$gw_log" sessions refused)" 9
		at_least "2: sessions unparsed (mgmt)" "$(value "$gw_log" sessions unparsed)" 1
		grep -q 'Requesting shares' "$gw_work/psexec-2.log" &&
			bad "2: psexec.py got past NEGOTIATE without parser state" ||
			ok "2: psexec.py refused before it could log on"
		;;
	3)
		part 3 0 1000
		at_least "3: sessions reclaimed" "$(value "$gw_log" sessions reclaimed)" 1
		at_least "3: policy smb_denied (ADMIN\$)" "$(value "$gw_log" policy smb_denied)" 1
		grep -q 'Requesting shares' "$gw_work/psexec-3.log" &&
			ok "3: psexec.py logged on (parsed on a reclaimed state) and was stopped at the share" ||
			bad "3: psexec.py did not get as far as 'Requesting shares'" "$gw_work/psexec-3.log"
		;;
	esac
done

echo
if [ "${#failures[@]}" -eq 0 ]; then
	echo "PASS: e2e-session-exhaustion ($checks checks, $((SECONDS - started)) s)"
	exit 0
fi
echo "FAIL: e2e-session-exhaustion: ${#failures[@]} of $checks checks failed:"
for f in "${failures[@]}"; do
	echo "  - $f"
done
exit 1
