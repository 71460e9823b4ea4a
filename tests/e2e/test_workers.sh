#!/bin/bash
# Two workers, one view of every connection. The gateway runs 2 workers on
# af_packet ports with 2 queue pairs each (the kernel spreads frames over
# the queues by its own hash and rolls them over to the other queue when
# one ring is full, so one connection can arrive on both). Four clients
# copy files through it at the same time and run psexec.py. Then:
#   - every file arrives intact (sha256 both ways);
#   - each connection is tracked by exactly one worker: the flows the
#     workers created add up to the connections listed, none listed twice,
#     each with its dialect and user;
#   - both workers parsed SMB sessions, and frames were handed between
#     them (redirected_out/in), per worker rx + in == tx + drops + out,
#     and so per port and queue (smbgwctl stats "queues", and the
#     "queue PORT/W" lines of the final counters);
#   - every client's psexec.py raised its CM0062 alert;
#   - the report counts every connection once per pair;
#   - rx = tx + drops on both ports at exit.
# EAL maps the two workers onto one CPU here (--lcores): correctness, not
# speed: a 2-core machine cannot show the gain of a second worker.
#
# usage: test_workers.sh [GATEWAY_BINARY [SMBGWCTL_BINARY]]
# Exit: 0 pass, 1 fail, 77 skipped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-workers needs root (network namespaces, af_packet)"
	exit 77
fi

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}
clients=4
size_mb=${SMBGW_E2E_SIZE_MB:-4}
password=Smbgw-wk-$$
gw_work=$(mktemp -d /tmp/smbgw-workers.XXXXXX)
chmod 0711 "$gw_work"
gw_file_prefix=smbgw-workers-$$
psexec=/usr/share/doc/python3-impacket/examples/psexec.py
started=$SECONDS

export SMBGW_NETNS_PREFIX=smbgwwk$$
export SMBGW_IF_A=wka$$
export SMBGW_IF_B=wkb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
export SMBGW_SMB_ENCRYPT=off	# psexec.py's trees and files stay visible
export SMBGW_WORKERS=2
export SMBGW_AF_PACKET_ARGS=",qpairs=2"
# The control lcore on CPU 0, both workers on CPU 1.
export SMBGW_EAL_LCORES="--lcores 0@0,1@1,2@1"
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

netns() {
	"$scripts/netns.sh" "$@"
}

cleanup() {
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down || echo "e2e-workers: teardown failed" >&2
	[ -n "${SMBGW_KEEP:-}" ] || rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-workers: $*"
	show "$gw_work/gateway.log" gateway
	exit 1
}

for tool in smbclient smbd ip sha256sum jq; do
	command -v "$tool" >/dev/null || { echo "SKIP: e2e-workers: $tool missing"; exit 77; }
done
[ -r "$psexec" ] || { echo "SKIP: e2e-workers: Impacket's psexec.py missing"; exit 77; }

step "topology: $clients clients 198.18.1.10-$((9 + clients)) -- [gateway, 2 workers] -- server 198.18.2.20"
in_background timeout 60 "$scripts/netns.sh" up --hosts $((clients + 1)) >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }
gw_write_config "$gw_work/gateway.conf"
gw_start_with_config "$gw_work/gateway.log" "$gw_work/gateway.conf"
gw_wait_forwarding client 30 || {
	gw_running || fail "gateway exited during start-up"
	fail "no TCP connection through the gateway within 30 s"
}
grep -q 'frames handed to the worker of their address pair' "$gw_work/gateway.log" ||
	fail "the gateway did not start software flow affinity for its 2 workers"
ok "2 workers, software flow affinity on"

host_name() {
	if [ "$1" -eq 1 ]; then echo client; else echo "client$1"; fi
}

share=$SMBGW_NETNS_DIR/shares/data
for i in $(seq "$clients"); do
	head -c "${size_mb}M" /dev/urandom >"$gw_work/up$i.bin"
	head -c "${size_mb}M" /dev/urandom >"$share/down$i.bin"
	chmod 0644 "$share/down$i.bin"
done

step "$clients smbclient copies at once (${size_mb} MB each way each)"
pids=()
for i in $(seq "$clients"); do
	(cd "$gw_work" && netns exec "$(host_name "$i")" timeout 180 smbclient //198.18.2.20/data \
		-U "bob%$password" -c "put up$i.bin up$i.bin; get down$i.bin got$i.bin" \
		>"$gw_work/smbclient$i.log" 2>&1 </dev/null) &
	pids+=($!)
done
for i in $(seq "$clients"); do
	wait "${pids[$((i - 1))]}" || { cat "$gw_work/smbclient$i.log"; fail "smbclient $i failed"; }
done
for i in $(seq "$clients"); do
	[ "$(sha256sum <"$gw_work/up$i.bin")" = "$(sha256sum <"$share/up$i.bin" 2>/dev/null)" ] ||
		fail "client $i: uploaded file differs"
	[ "$(sha256sum <"$share/down$i.bin")" = "$(sha256sum <"$gw_work/got$i.bin" 2>/dev/null)" ] ||
		fail "client $i: downloaded file differs"
done
ok "sha256 equal both ways for all $clients clients"

step "psexec.py from every client at once"
pids=()
for i in $(seq "$clients"); do
	netns exec "$(host_name "$i")" timeout 60 /usr/bin/python3 "$psexec" \
		"root:$password@198.18.2.20" cmd >"$gw_work/psexec$i.log" 2>&1 </dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
# psexec.py looks for a writable share by opening each share's root for
# writing, sharing it for reading only, and keeps it open until it
# leaves the tree: clients started together can be refused the same
# root by the server (sharing violation) and find no share. A client
# refused so runs once more, alone, after the others; its connections
# are more sessions for the checks below, which count sessions.
for i in $(seq "$clients"); do
	if ! grep -q 'Creating service' "$gw_work/psexec$i.log" &&
			grep -q 'is not writable' "$gw_work/psexec$i.log"; then
		echo "        client $i found no writable share beside the others: once more, alone"
		netns exec "$(host_name "$i")" timeout 60 /usr/bin/python3 "$psexec" \
			"root:$password@198.18.2.20" cmd >>"$gw_work/psexec$i.log" 2>&1 </dev/null || true
	fi
done
for i in $(seq "$clients"); do
	grep -q 'Creating service' "$gw_work/psexec$i.log" ||
		{ cat "$gw_work/psexec$i.log"; fail "psexec.py from client $i did not reach service creation"; }
done

"$ctl_binary" -s "$gw_work/smbgw.sock" --json stats >"$gw_work/stats.json" ||
	fail "smbgwctl stats failed"
jq -c '.result.workers[] | {worker, rx, redirected_out, redirected_in, flows_created, smb_messages, balanced}' \
	"$gw_work/stats.json" | sed 's/^/        /'

step "stopping the gateway (SIGTERM)"
gw_stop 30 || fail "the gateway exited with status $gw_status"

# Per worker: both parsed SMB, frames crossed between them, each balanced.
[ "$(jq '[.result.workers[] | select(.smb_messages > 0 and .flows_created > 0)] | length' "$gw_work/stats.json")" -eq 2 ] ||
	fail "SMB was not parsed on both workers"
ok "both workers tracked flows and parsed SMB"
[ "$(jq '[.result.workers[].redirected_out] | add' "$gw_work/stats.json")" -gt 0 ] ||
	fail "no frame was handed between the workers: the test did not exercise affinity"
[ "$(jq '[.result.workers[] | select(.balanced)] | length' "$gw_work/stats.json")" -eq 2 ] ||
	fail "a worker's counters do not balance (rx + in != tx + drops + out)"
ok "frames handed between workers: $(jq -c '[.result.workers[] | [.redirected_out, .redirected_in]]' "$gw_work/stats.json"); each worker balanced"
# Per port and queue (worker i serves queue i of each port): each queue
# balances alone, and the queues of a port add up to the port.
[ "$(jq '[.result.workers[].queues[]] | length' "$gw_work/stats.json")" -eq 4 ] ||
	fail "stats do not list 2 queues for each of the 2 ports"
[ "$(jq '[.result.workers[].queues[] | select(.balanced | not)] | length' "$gw_work/stats.json")" -eq 0 ] ||
	fail "a queue's counters do not balance: $(jq -c '[.result.workers[].queues[]]' "$gw_work/stats.json")"
for port in 0 1; do
	name=$(jq -r ".result.ports[$port].port" "$gw_work/stats.json")
	[ "$(jq --arg p "$name" '[.result.workers[].queues[] | select(.port == $p) | .rx] | add' "$gw_work/stats.json")" = \
		"$(jq ".result.ports[$port].rx" "$gw_work/stats.json")" ] ||
		fail "the queues of $name do not add up to the port's rx"
done
ok "per queue: $(jq -c '[.result.workers[].queues[] | [.port, .queue, .rx, .tx, .drops, .redirected_out, .redirected_in]]' "$gw_work/stats.json"); each balanced"

# Every connection once: the flows listed at exit against the flows the
# workers created (both count each tracked connection once).
flows=$(sed -n '/^== SMB and DCE\/RPC flows ==$/,/^== /p' "$gw_work/gateway.log" | grep -E '^(smb|dcerpc) ' || true)
listed=$(grep -c . <<<"$flows" || true)
distinct=$(awk '{print $2, $4}' <<<"$flows" | sort -u | wc -l)
[ "$listed" -eq "$distinct" ] || fail "a connection is listed twice: $listed lines, $distinct connections"
created=$(jq '[.result.workers[].flows_created] | add' "$gw_work/stats.json")
[ "$created" -eq "$listed" ] ||
	fail "the workers created $created flows for $listed SMB connections: a connection was tracked twice"
# Every SMB session with its dialect and user: no worker saw half of one.
# (Connections of a few packets carry none: the forwarding probe, and the
# 139 connection smbclient opens beside 445 and drops.)
sessions=$(awk '$1 == "smb" { for (i = 1; i < NF; i++) if ($i == "packets") { split($(i + 1), p, "/"); if (p[1] >= 10) print } }' <<<"$flows")
half=$(grep -E ' dialect - | user - ' <<<"$sessions" | grep -c . || true)
[ "$half" -eq 0 ] || { grep -E ' dialect - | user - ' <<<"$sessions" | sed 's/^/        /'; fail "$half sessions without dialect or user"; }
[ "$(grep -c . <<<"$sessions")" -ge $((2 * clients)) ] ||
	fail "fewer SMB sessions than the $((2 * clients)) run"
ok "$listed connections, each tracked by one worker; $(grep -c . <<<"$sessions") sessions, each with dialect and user"

for i in $(seq "$clients"); do
	ip=198.18.1.$((9 + i))
	grep -Eq "^alert 9000001 .*$ip" "$gw_work/gateway.log" ||
		fail "no CM0062 alert for client $ip"
	# The report counts connections that carried SMB: every session, and
	# at most every connection listed (smbclient's short 139 connection
	# counts when it sent its first bytes before smbclient dropped it,
	# a race of its own); a connection tracked twice would count more.
	conns=$(awk -v ip="$ip" 'index($2, ip ":") == 1' <<<"$sessions" | grep -c . || true)
	all=$(awk -v ip="$ip" 'index($2, ip ":") == 1 && $1 == "smb"' <<<"$flows" | grep -c . || true)
	row=$(sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$gw_work/gateway.log" |
		awk -F, -v ip="$ip" '$2 == ip && $3 == "198.18.2.20" {print $4}')
	[ "${row:-0}" -ge "$conns" ] && [ "${row:-0}" -le "$all" ] ||
		fail "report counts ${row:-no} connections for $ip, the flows list $conns sessions in $all SMB connections"
done
ok "CM0062 alert for each client; report rows count each pair's sessions, each connection at most once"

for port in 0 1; do
	read -r state <<<"$(counters_row "$gw_work/gateway.log" "final counters" "$(gw_port $port)" rx=tx+drop)"
	[ "${state:-}" = ok ] || fail "final counters of $(gw_port $port): rx=tx+drop '${state:-}'"
done
ok "final counters rx=tx+drop ok on both ports"
final=$(sed -n '/^== final counters ==$/,$p' "$gw_work/gateway.log")
queues=$(grep -c '^queue .* rx+in=tx+drop+out ok$' <<<"$final" || true)
[ "$queues" -eq 4 ] || { grep '^queue ' <<<"$final" | sed 's/^/        /'; fail "final counters: $queues of 4 queues balance"; }
ok "final counters: all 4 queues (2 ports x 2 workers) balance"
echo "PASS: e2e-workers ($((SECONDS - started)) s)"
