#!/bin/bash
# End-to-end: the segment-pair policy in the data path, with real hosts
# through the gateway (netns.sh up --layout policy --mgmt):
#
#   ws1 198.18.1.10, mgmt 198.18.1.50 -- IF_A [gateway] IF_B -- server 198.18.2.20, ws2 198.18.3.30
#
# Segments: workstations 198.18.1.0/24 + 198.18.3.0/24 (ws1, ws2),
# fileservers 198.18.2.0/24, management 198.18.1.50/32 (more specific than
# the workstations' /24, no rule: default allow).
#
# 1. config A (enforce, deny_action reset; ws->ws deny, ws->fileservers
#    deny admin_share, ws->fileservers allow):
#    a) ws1 -> ws2 smbclient fails within 2 s with a reset;
#    b) ws1 -> server data: 4 MB up and down, sha256 equal;
#    c) psexec.py ws1 -> server cannot upload (no "Uploading file"), and
#       the data share still works for ws1 right afterwards;
#    d) mgmt -> ws2 works.
# 2. config B (A without the admin_share rule) by reload (SIGHUP): psexec.py
#    from ws1 uploads its executable.
# 3. A in monitor-only (fresh start): ws1 -> ws2 works; at SIGTERM the
#    gateway's "policy:" line says would_deny N > 0 and denied_flows 0, and
#    the final counters' policy drop column is 0.
# 4. config C (A with ws->ws allowed), an SMB session ws1 -> ws2 kept open
#    and 4 x 64 MB gets ws1 <- server over one connection running; reload
#    to A: the copy completes with equal sha256, the final counters show
#    tx_full, oversize, state_full 0 and rx=tx+drop ok, and the open
#    ws1 -> ws2 session's next command fails (the verdict flipped on the
#    existing flow).
#
# Every check runs even when an earlier one failed (each part has its own
# gateway); the summary lists the failures with what the tools printed.
#
# usage: test_policy.sh [SMBGW_BINARY]
#   SMBGW_BINARY  smbgw (default: build/app/smbgw); dpdk-testpmd, a bridge
#                 without policy, shows what the test sees when nothing is
#                 enforced (most checks then fail)
#   SMBGW_E2E_POLICY_PARTS  parts to run (default "1 2 3 4"; 2 needs 1)
#   SMBGW_E2E_BIG_MB        size of the file part 4 copies (default 64)
#   SMBGW_E2E_BIG_ROUNDS    how often part 4 gets it over one connection
#                           (default 4: the copy outlasts the reload also
#                           at 100 MB/s)
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-policy needs root (network namespaces, af_packet)"
	exit 77
fi

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
password=Smbgw-pcy-$$
gw_work=$(mktemp -d /tmp/smbgw-policy.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves shares below it as bob
gw_file_prefix=smbgw-policy-$$
started=$SECONDS
psexec=/usr/share/doc/python3-impacket/examples/psexec.py
parts=${SMBGW_E2E_POLICY_PARTS:-1 2 3 4}
big_mb=${SMBGW_E2E_BIG_MB:-64}
big_rounds=${SMBGW_E2E_BIG_ROUNDS:-4}

export SMBGW_NETNS_PREFIX=smbgwpcy$$
export SMBGW_IF_A=pcya$$
export SMBGW_IF_B=pcyb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# Unencrypted SMB3 also for impacket, so the gateway sees ADMIN$ and svcctl.
export SMBGW_SMB_ENCRYPT=off
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

ws1=198.18.1.10
server=198.18.2.20
ws2=198.18.3.30
share=$SMBGW_NETNS_DIR/shares/data      # the file server's data share
conf=$gw_work/policy.conf               # the file the gateway runs on
session_pid=""
copy_pid=""

netns() {
	"$scripts/netns.sh" "$@"
}

cleanup() {
	exec 7>&- 2>/dev/null || true
	for pid in $session_pid $copy_pid; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "e2e-policy: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# fail MESSAGE: the set-up broke; nothing further can be checked.
fail() {
	echo "FAIL: e2e-policy: $*"
	if [ -n "${gw_log:-}" ] && [ -s "$gw_log" ]; then
		echo "-- gateway output (last 40 lines)"
		tail -n 40 "$gw_log" | sed 's/^/  gateway| /'
	fi
	exit 1
}





ms_since() {
	echo $(((${EPOCHREALTIME/./} - $1) / 1000))
}

now_us() {
	echo "${EPOCHREALTIME/./}"
}

# The configuration: write_conf FILE MODE WS_TO_WS ADMIN_RULE
#   MODE        enforce | monitor-only
#   WS_TO_WS    deny | allow  (the first rule's action)
#   ADMIN_RULE  1: deny admin_share from workstations to fileservers
write_conf() {
	local file=$1 mode=$2 wsws=$3 admin=$4 tmp
	tmp=$file.tmp
	{
		cat <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_af_packet0", "net_af_packet1" ];
  workers = 1;
  stats_interval = 0;
};
# Small tables: the test needs a handful of flows, and two gateways (the
# lead's and this) may share the hugepages.
flows: { max_flows = 65536; sessions = 256; };
# A socket of its own: another gateway may serve the default one.
control: { socket = "$gw_work/control.sock"; };
output: { eve = "$gw_work/eve-$gw_run.json"; };
policy: {
  mode = "$mode"; default_action = "allow"; deny_action = "reset";
  segments = (
    { name = "workstations"; prefixes = [ "198.18.1.0/24", "198.18.3.0/24" ]; },
    { name = "fileservers"; prefixes = [ "198.18.2.0/24" ]; },
    { name = "management"; prefixes = [ "198.18.1.50/32" ]; }
  );
  rules = (
    { from = "workstations"; to = "workstations"; action = "$wsws"; },
CONF
		if [ "$admin" = 1 ]; then
			echo '    { from = "workstations"; to = "fileservers"; action = "deny"; share_class = "admin_share"; },'
		fi
		cat <<CONF
    { from = "workstations"; to = "fileservers"; action = "allow"; }
  );
};
CONF
	} >"$tmp"
	[[ $(basename "$gw_binary") == *testpmd* ]] ||
		gw_check_config "$tmp" >"$gw_work/check.out" 2>&1 || {
		sed 's/^/  check-config| /' "$gw_work/check.out"
		fail "smbgw --check-config refuses the $mode/$wsws/admin=$admin configuration"
	}
	# Atomic: a reload never reads half a file.
	mv "$tmp" "$file"
}

# start_gateway RUN HOST IP: a fresh gateway on $conf, log $gw_work/gateway-RUN.log,
# waiting until HOST reaches IP:445 through it.
start_gateway() {
	gw_log=$gw_work/gateway-$1.log
	step "gateway ($1): $gw_binary on $conf"
	gw_start_with_config "$gw_log" "$conf"
	gw_wait_forwarding "$2" 30 "$3" || {
		gw_running || fail "gateway exited during start-up"
		fail "no TCP connection from $2 to $3:445 through the gateway within 30 s"
	}
}

# stop_gateway: SIGTERM; the final counters are then in $gw_log.
stop_gateway() {
	step "stopping the gateway (SIGTERM)"
	if gw_stop 20; then
		ok "gateway exited 0 on SIGTERM"
	elif [ "$gw_status" -eq 124 ]; then
		bad "gateway did not stop within 20 s of SIGTERM"
	else
		bad "gateway exited with status $gw_status" "$gw_log" gateway
	fi
	sed -n '/^== final counters ==$/,/^decoded:/p' "$gw_log" | sed 's/^/      /'
	grep '^policy:' "$gw_log" | sed 's/^/      /' || true
}

# reload: SIGHUP, then the gateway's "reload: PATH is valid (generation N)".
reload() {
	local before
	before=$(grep -c '^smbgw: reload: .* is valid (generation [0-9]*)' "$gw_log" || true)
	if ! gw_reload 0.1; then
		bad "gateway did not survive SIGHUP" "$gw_log" gateway
		return 1
	fi
	for _ in $(seq 50); do
		[ "$(grep -c '^smbgw: reload: .* is valid (generation [0-9]*)' "$gw_log" || true)" -gt "$before" ] && break
		sleep 0.1
	done
	if [ "$(grep -c '^smbgw: reload: .* is valid (generation [0-9]*)' "$gw_log" || true)" -gt "$before" ]; then
		ok "reload: $(grep '^smbgw: reload: ' "$gw_log" | tail -n 1)"
		return 0
	fi
	bad "no 'smbgw: reload: $conf is valid (generation N)' within 5 s of SIGHUP" "$gw_log" gateway
	return 1
}

# smb HOST TIMEOUT TARGET_IP CMD OUT: smbclient //TARGET/data as bob.
smb() {
	netns exec "$1" timeout "$2" smbclient "//$3/data" -U "bob%$password" \
		-c "$4" >"$5" 2>&1 </dev/null
}

# run_psexec OUT: psexec.py root@server from ws1 (60 s at most); sets psexec_ms.
run_psexec() {
	local t0
	t0=$(now_us)
	netns exec ws1 timeout 60 /usr/bin/python3 "$psexec" \
		"root:$password@$server" cmd >"$1" 2>&1 </dev/null 7>&- || true
	psexec_ms=$(ms_since "$t0")
}

# data_copy LABEL: ws1 gets $share/down.bin again; sha256 against the original.
data_copy() {
	local t0 ms got
	rm -f "$gw_work/again.bin"
	t0=$(now_us)
	if smb ws1 60 "$server" "get down.bin $gw_work/again.bin" "$gw_work/again.log"; then
		ms=$(ms_since "$t0")
		got=$(sha256sum <"$gw_work/again.bin")
		if [ "$got" = "$down_sum" ]; then
			ok "$1: ws1 got down.bin (4 MB) from the server's data share in $ms ms, sha256 equal"
		else
			bad "$1: ws1 got down.bin but sha256 differs (${got%% *} vs ${down_sum%% *})"
		fi
	else
		bad "$1: ws1 could not get down.bin from //$server/data ($(ms_since "$t0") ms)" \
			"$gw_work/again.log" smbclient
	fi
}

is_number() {
	[[ $1 =~ ^[0-9]+$ ]]
}

# final_counters LOG PORT COLUMN...: values from the final counters table.
final_counters() {
	local log=$1
	shift
	counters_row "$log" "final counters" "$@"
}

[ -x "$gw_binary" ] || command -v "$gw_binary" >/dev/null ||
	fail "no gateway binary at $gw_binary"
for tool in smbclient smbd ethtool ip sha256sum stdbuf mkfifo; do
	command -v "$tool" >/dev/null || fail "missing $tool (see tests/e2e/README.md)"
done
[ -r "$psexec" ] || fail "missing $psexec (python3-impacket)"

step "topology: ws1 $ws1, mgmt 198.18.1.50 -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server $server, ws2 $ws2"
timeout 60 "$scripts/netns.sh" up --layout policy --mgmt >"$gw_work/netns.log" 2>&1 </dev/null ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }

head -c 4M /dev/urandom >"$gw_work/up.bin"
head -c 4M /dev/urandom >"$share/down.bin"
up_sum=$(sha256sum <"$gw_work/up.bin")
down_sum=$(sha256sum <"$share/down.bin")

want_part() {
	case " $parts " in *" $1 "*) return 0 ;; esac
	return 1
}

# ---------------------------------------------------------------------------
if want_part 1; then
	gw_run=A
	write_conf "$conf" enforce deny 1
	start_gateway A ws1 "$server"

	step "1a: ws1 -> ws2 (workstations -> workstations: deny, reset): smbclient //$ws2/data -c ls"
	t0=$(now_us)
	rc=0
	smb ws1 10 "$ws2" ls "$gw_work/1a.log" || rc=$?
	ms=$(ms_since "$t0")
	printf '        smbclient exit %s after %s ms, printed:\n' "$rc" "$ms"
	show "$gw_work/1a.log" smbclient
	if [ "$rc" -eq 0 ]; then
		bad "1a: ws1 listed //$ws2/data: workstation-to-workstation SMB was not blocked"
	elif [ "$rc" -eq 124 ]; then
		bad "1a: smbclient ws1 -> ws2 still hung after 10 s (timeout), no reset"
	elif [ "$ms" -ge 2000 ]; then
		bad "1a: smbclient ws1 -> ws2 failed, but only after $ms ms (want < 2000)"
	elif grep -q 'NT_STATUS_CONNECTION_\(RESET\|REFUSED\|DISCONNECTED\|ABORTED\)' "$gw_work/1a.log"; then
		ok "1a: ws1 -> ws2 refused in $ms ms: $(grep -o 'NT_STATUS_CONNECTION_[A-Z_]*' "$gw_work/1a.log" | sort -u | tr '\n' ' ')"
	else
		bad "1a: ws1 -> ws2 failed in $ms ms, but not with a connection reset/refusal"
	fi

	step "1b: ws1 -> server: put 4 MB, get 4 MB"
	t0=$(now_us)
	rm -f "$gw_work/down.bin"
	if smb ws1 60 "$server" "put $gw_work/up.bin up.bin; get down.bin $gw_work/down.bin" \
		"$gw_work/1b.log"; then
		ms=$(ms_since "$t0")
		up_got=$(sha256sum <"$share/up.bin" 2>/dev/null || echo missing)
		down_got=$(sha256sum <"$gw_work/down.bin" 2>/dev/null || echo missing)
		if [ "$up_got" = "$up_sum" ] && [ "$down_got" = "$down_sum" ]; then
			ok "1b: 4 MB up and 4 MB down in $ms ms, sha256 equal both ways"
		else
			bad "1b: sha256 differs: up ${up_sum:0:16}/${up_got:0:16}, down ${down_sum:0:16}/${down_got:0:16}"
		fi
	else
		bad "1b: smbclient ws1 -> //$server/data failed ($(ms_since "$t0") ms)" "$gw_work/1b.log" smbclient
	fi

	step "1c: psexec.py root@$server from ws1 (admin_share denied: no upload)"
	run_psexec "$gw_work/1c.log"
	printf '        psexec.py finished after %s ms, printed:\n' "$psexec_ms"
	show "$gw_work/1c.log" psexec
	if grep -q 'Uploading file' "$gw_work/1c.log"; then
		bad "1c: psexec.py uploaded its executable although admin_share is denied"
	elif ! grep -q 'Requesting shares' "$gw_work/1c.log"; then
		bad "1c: psexec.py did not get as far as 'Requesting shares' (logon through the gateway failed?)"
	else
		ok "1c: psexec.py did not upload ($psexec_ms ms)"
	fi
	data_copy "1c"

	step "1d: mgmt -> ws2 (management, no rule: default allow)"
	t0=$(now_us)
	if smb mgmt 30 "$ws2" 'get readme.txt -' "$gw_work/1d.log" &&
		grep -qx 'hello from ws2' "$gw_work/1d.log"; then
		ok "1d: mgmt read readme.txt from //$ws2/data in $(ms_since "$t0") ms"
	else
		bad "1d: mgmt could not read //$ws2/data ($(ms_since "$t0") ms)" "$gw_work/1d.log" smbclient
	fi

	# ---------------------------------------------------------------------
	if want_part 2; then
		step "2: config B (no admin_share rule) by reload"
		write_conf "$conf" enforce deny 0
		if reload; then
			run_psexec "$gw_work/2.log"
			printf '        psexec.py finished after %s ms, printed:\n' "$psexec_ms"
			show "$gw_work/2.log" psexec
			if grep -q 'Uploading file' "$gw_work/2.log"; then
				ok "2: psexec.py uploads after the reload ($psexec_ms ms)"
			else
				bad "2: psexec.py did not upload after the reload to config B"
			fi
		fi
	fi

	stop_gateway
	read -r a_pol0 a_id0 <<<"$(final_counters "$gw_log" net_af_packet0 policy rx=tx+drop)"
	read -r a_pol1 a_id1 <<<"$(final_counters "$gw_log" net_af_packet1 policy rx=tx+drop)"
	if [ -z "$a_id0" ]; then
		bad "1/2: no '== final counters ==' table with net_af_packet0/1 rows in the gateway's output"
	elif [ "$a_id0" = ok ] && [ "$a_id1" = ok ]; then
		ok "1/2: final counters rx=tx+drop ok on both ports (policy drops: $a_pol0 / $a_pol1)"
	else
		bad "1/2: final counters rx=tx+drop: $a_id0 / $a_id1"
	fi
	if is_number "$a_pol0" && is_number "$a_pol1" && [ $((a_pol0 + a_pol1)) -gt 0 ]; then
		ok "1/2: the policy drop column counts the denied packets ($a_pol0 / $a_pol1)"
	else
		[ -z "$a_id0" ] ||
			bad "1/2: final counters policy column: '$a_pol0' / '$a_pol1' (want a number, > 0 after denials)"
	fi
fi

# ---------------------------------------------------------------------------
if want_part 3; then
	gw_run=monitor
	write_conf "$conf" monitor-only deny 1
	start_gateway monitor ws1 "$server"

	step "3: monitor-only: ws1 -> ws2 (would be denied)"
	t0=$(now_us)
	if smb ws1 30 "$ws2" 'get readme.txt -' "$gw_work/3.log" &&
		grep -qx 'hello from ws2' "$gw_work/3.log"; then
		ok "3: ws1 read readme.txt from //$ws2/data in $(ms_since "$t0") ms"
	else
		bad "3: ws1 could not read //$ws2/data in monitor-only mode ($(ms_since "$t0") ms)" \
			"$gw_work/3.log" smbclient
	fi
	stop_gateway
	policy_line=$(grep -m1 '^policy:' "$gw_log" || true)
	would=$(sed -n 's/.*would_deny \([0-9][0-9]*\).*/\1/p' <<<"$policy_line")
	denied=$(sed -n 's/.*denied_flows \([0-9][0-9]*\).*/\1/p' <<<"$policy_line")
	if [ -z "$policy_line" ]; then
		bad "3: no line starting 'policy:' in the gateway's final output"
	elif [ -n "$would" ] && [ "$would" -gt 0 ] && [ "$denied" = 0 ]; then
		ok "3: $policy_line"
	else
		bad "3: policy line wants would_deny > 0 and denied_flows 0: '$policy_line'"
	fi
	read -r m_pol0 m_id0 <<<"$(final_counters "$gw_log" net_af_packet0 policy rx=tx+drop)"
	read -r m_pol1 m_id1 <<<"$(final_counters "$gw_log" net_af_packet1 policy rx=tx+drop)"
	if [ -z "$m_id0" ]; then
		bad "3: no '== final counters ==' table with net_af_packet0/1 rows in the gateway's output"
	elif [ "$m_pol0" = 0 ] && [ "$m_pol1" = 0 ] && [ "$m_id0" = ok ] && [ "$m_id1" = ok ]; then
		ok "3: final counters: policy 0 / 0, rx=tx+drop ok"
	else
		bad "3: final counters want policy 0 and rx=tx+drop ok: policy '$m_pol0' / '$m_pol1', rx=tx+drop $m_id0 / $m_id1"
	fi
fi

# ---------------------------------------------------------------------------
if want_part 4; then
	gw_run=C
	write_conf "$conf" enforce allow 1
	start_gateway C ws1 "$ws2"
	head -c "${big_mb}M" /dev/urandom >"$share/big.bin"
	big_sum=$(sha256sum <"$share/big.bin")

	step "4: ws1 -> ws2 session kept open (smbclient on a fifo)"
	fifo=$gw_work/session.fifo
	mkfifo "$fifo"
	session_log=$gw_work/session.log
	netns exec ws1 timeout 180 stdbuf -oL -eL smbclient "//$ws2/data" -U "bob%$password" \
		<"$fifo" >"$session_log" 2>&1 &
	session_pid=$!
	exec 7>"$fifo"
	# send CMD: one line to the session (if its smbclient still runs).
	send() {
		kill -0 "$session_pid" 2>/dev/null || return 1
		# A subshell: should smbclient be gone, SIGPIPE ends only it.
		(printf '%s\n' "$1" >&7) 2>/dev/null
	}
	listings() {
		grep -c 'blocks of size' "$session_log" 2>/dev/null || true
	}
	# Two listings a second apart: the session stays open between commands.
	for n in 1 2; do
		send ls || true
		for _ in $(seq 100); do
			[ "$(listings)" -ge "$n" ] && break
			kill -0 "$session_pid" 2>/dev/null || break
			sleep 0.1
		done
		[ "$n" = 2 ] || sleep 1
	done
	# ws2's established SMB connections from ws1.
	ws2_sessions() {
		netns exec ws2 ss -Htn state established "( sport = :445 )" 2>/dev/null |
			grep -c " $ws1:" || true
	}
	if [ "$(listings)" -ge 2 ]; then
		ok "4: session ws1 -> ws2 open, two ls a second apart listed //$ws2/data ($(ws2_sessions) connection(s) seen at ws2)"
	else
		bad "4: the ws1 -> ws2 session did not list twice within 20 s" "$session_log" smbclient
	fi

	# Config A is on disk before the copy starts: the gateway reads it only
	# at SIGHUP, and the copy takes a few seconds at most.
	write_conf "$conf" enforce deny 1
	# One connection, big.bin $big_rounds times: a single flow that carries
	# data before, during and after the reload.
	gets=""
	for r in $(seq "$big_rounds"); do
		gets="${gets}get big.bin $gw_work/big$r.bin; "
	done
	total_mb=$((big_mb * big_rounds))
	copied() {
		cat "$gw_work"/big[0-9]*.bin 2>/dev/null | wc -c
	}
	step "4: ws1 gets big.bin (${big_mb} MB) $big_rounds times over one connection from the server, in the background"
	rm -f "$gw_work"/big[0-9]*.bin
	t_copy=$(now_us)
	netns exec ws1 timeout 300 smbclient "//$server/data" -U "bob%$password" \
		-c "$gets" >"$gw_work/big.log" 2>&1 </dev/null 7>&- &
	copy_pid=$!
	for _ in $(seq 300); do
		size=$(stat -c %s "$gw_work/big1.bin" 2>/dev/null || echo 0)
		[ "$size" -ge $((256 << 10)) ] && break
		kill -0 "$copy_pid" 2>/dev/null || break
		sleep 0.05
	done
	step "4: reload to config A (ws -> ws deny) at $((size >> 10)) KB of $total_mb MB after $(ms_since "$t_copy") ms"
	t_reload=$(now_us)
	if reload; then
		size=$(copied)
		if kill -0 "$copy_pid" 2>/dev/null; then
			ok "4: reload applied in $(ms_since "$t_reload") ms while the copy ran ($((size >> 20)) of $total_mb MB)"
		else
			bad "4: the copy ended ($((size >> 20)) MB) before the reload was applied ($(ms_since "$t_reload") ms): raise SMBGW_E2E_BIG_ROUNDS"
		fi
		before_lines=$(wc -l <"$session_log")
		before_listings=$(listings)
		t_ls=$(now_us)
		if send ls; then
			sent="ls sent"
		else
			sent="smbclient had already exited"
		fi
		# The reply: a listing (not blocked), an NT_STATUS error, or smbclient gone.
		for _ in $(seq 150); do
			[ "$(listings)" -gt "$before_listings" ] && break
			tail -n +"$((before_lines + 1))" "$session_log" | grep 'NT_STATUS_' >/dev/null && break
			kill -0 "$session_pid" 2>/dev/null || break
			sleep 0.1
		done
		ls_ms=$(ms_since "$t_ls")
		tail -n +"$((before_lines + 1))" "$session_log" >"$gw_work/session-after.log"
		printf '        after the reload (%s), within %s ms the session printed:\n' "$sent" "$ls_ms"
		show "$gw_work/session-after.log" smbclient
		if [ "$(listings)" -gt "$before_listings" ]; then
			bad "4: the existing ws1 -> ws2 session still lists //$ws2/data after the reload to ws -> ws deny"
		elif grep -q 'NT_STATUS_CONNECTION_\(RESET\|DISCONNECTED\|ABORTED\|REFUSED\)\|disconnected' \
			"$gw_work/session-after.log"; then
			ok "4: the existing session's next command failed in $ls_ms ms: $(grep -o 'NT_STATUS_[A-Z_]*' "$gw_work/session-after.log" | sort -u | tr '\n' ' ')"
		elif grep -q 'NT_STATUS_' "$gw_work/session-after.log"; then
			bad "4: the existing session's next command failed, but not with a reset"
		else
			bad "4: the existing session's next command neither listed nor failed within $ls_ms ms (hung: packets dropped without reset?)"
		fi
		# deny_action reset: ws2's end is reset too, so its smbd drops the
		# connection now rather than at a keepalive timeout.
		for _ in $(seq 30); do
			ws2_conns=$(ws2_sessions)
			[ "$ws2_conns" -eq 0 ] && break
			sleep 0.1
		done
		if [ "$ws2_conns" -eq 0 ]; then
			ok "4: ws2's end of the session is gone too (reset sent to both ends)"
		else
			bad "4: ws2 still has $ws2_conns established connection(s) from ws1 3 s after the reset (no RST towards ws2?)"
			netns exec ws2 ss -Htn state established "( sport = :445 )" | sed 's/^/      ws2 ss| /'
		fi
	elif ! gw_running; then
		# Nothing forwards any more: do not wait for smbclient's timeouts.
		kill -TERM "$copy_pid" 2>/dev/null || true
	fi
	send exit || true
	exec 7>&-
	timeout 15 tail --pid="$session_pid" -f /dev/null 2>/dev/null || kill -KILL "$session_pid" 2>/dev/null || true
	wait "$session_pid" 2>/dev/null || true
	session_pid=""

	copy_rc=0
	wait "$copy_pid" || copy_rc=$?
	copy_pid=""
	copy_ms=$(ms_since "$t_copy")
	if [ "$copy_rc" -ne 0 ]; then
		bad "4: the $big_rounds x ${big_mb} MB copy failed (exit $copy_rc after $copy_ms ms, $(($(copied) >> 20)) MB arrived)" \
			"$gw_work/big.log" smbclient
	else
		differ=""
		for r in $(seq "$big_rounds"); do
			got=$(sha256sum <"$gw_work/big$r.bin" 2>/dev/null || echo missing)
			[ "$got" = "$big_sum" ] || differ="$differ $r"
		done
		if [ -z "$differ" ]; then
			ok "4: the copy ws1 <- server ($big_rounds x ${big_mb} MB, one connection) completed across the reload in $copy_ms ms, sha256 equal"
		else
			bad "4: the copy completed, but sha256 differs in round(s)$differ"
		fi
	fi
	stop_gateway
	for port in net_af_packet0 net_af_packet1; do
		read -r txf ovs rxo stf pol ident <<<"$(final_counters "$gw_log" "$port" \
			tx_full oversize receive_only state_full policy rx=tx+drop)"
		if [ -z "$ident" ]; then
			bad "4: no '== final counters ==' row for $port in the gateway's output"
		elif [ "$txf" = 0 ] && [ "$ovs" = 0 ] && [ "$rxo" = 0 ] && [ "$stf" = 0 ] && [ "$ident" = ok ]; then
			ok "4: $port: tx_full 0, oversize 0, receive_only 0, state_full 0, rx=tx+drop ok (policy $pol)"
		else
			bad "4: $port: want tx_full, oversize, receive_only, state_full 0 and rx=tx+drop ok: tx_full '$txf' oversize '$ovs' receive_only '$rxo' state_full '$stf' rx=tx+drop '$ident' (policy '$pol')"
		fi
	done
fi

# ---------------------------------------------------------------------------
echo
if [ "${#failures[@]}" -eq 0 ]; then
	echo "PASS: e2e-policy ($checks checks through $(basename "$gw_binary"), $((SECONDS - started)) s)"
	exit 0
fi
echo "FAIL: e2e-policy: ${#failures[@]} of $checks checks failed ($((SECONDS - started)) s):"
for f in "${failures[@]}"; do
	echo "  - $f"
done
exit 1
