#!/bin/bash
# A restart after kill -9 is never blocked by what the killed gateway left.
#
# The gateway runs between af_packet ports of a netns.sh topology, with a
# hugetlbfs mount of the test's own as --huge-dir where two page files of
# its file prefix lie: one left by a dead process, one flocked by a live
# one. It is killed with SIGKILL: DPDK's run directory, the control socket
# and its lock stay behind. Started again at once, it says what it
# removed, removes the dead page file and keeps the live one, forwards
# (a TCP connection to the server's port 445 crosses) and answers
# smbgwctl. A second gateway on the same file prefix is refused at once,
# naming the process that holds it. A clean stop leaves no run directory.
#
# usage: test_restart.sh SMBGW_BINARY SMBGWCTL_BINARY
# Exit: 0 pass, 1 fail, 77 skipped (not root, a tool missing).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: restart-leftovers needs root (network namespaces, af_packet, mount)"
	exit 77
fi
gw_binary=${1:-$top/build/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}
for tool in smbd flock mount umount; do
	command -v "$tool" >/dev/null || { echo "skipped: $tool missing (scripts/deps.sh)"; exit 77; }
done

gw_work=$(mktemp -d /tmp/smbgw-restart.XXXXXX)
chmod 0711 "$gw_work"
gw_file_prefix=sv-restart-$$
socket=$gw_work/smbgw.sock
huge=$gw_work/huge
holder_pid=""
started=$SECONDS

export SMBGW_NETNS_PREFIX=svr$$
export SMBGW_IF_A=sva$$
export SMBGW_IF_B=svb$$
export SMBGW_NETNS_DIR=$gw_work/netns
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

cleanup() {
	gw_cleanup
	[ -z "$holder_pid" ] || { kill "$holder_pid" 2>/dev/null; wait "$holder_pid" 2>/dev/null; }
	umount "$huge" 2>/dev/null
	timeout 60 "$scripts/netns.sh" down >/dev/null 2>&1 || echo "restart-leftovers: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

step "topology"
in_background timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; echo "FAIL: could not set up the namespaces"; exit 1; }
mkdir -p "$huge"
mount -t hugetlbfs none "$huge" || { echo "skipped: cannot mount hugetlbfs"; exit 77; }
# The test's own hugetlbfs, so that no other run's page files are touched.
SMBGW_EAL_MEM="$(eal_memory_options) --huge-dir $huge"
export SMBGW_EAL_MEM
cat >"$gw_work/gw.conf" <<CONF
gateway: { ports = [ "$(gw_port 0)", "$(gw_port 1)" ]; stats_interval = 0; };
control: { socket = "$socket"; };
CONF

gw_start_with_config "$gw_work/gateway.log" "$gw_work/gw.conf"
if gw_wait_forwarding client 30; then ok "forwarding"; else bad "the gateway does not forward" "$gw_work/gateway.log" gateway; fi

step "kill -9"
# Page files of numbers EAL does not reach here, so that a gateway running
# on hugepages (it may, after make hugepages) does not make them again:
# one dead, one in use.
dead_page="$huge/${gw_file_prefix}map_9000"
held_page="$huge/${gw_file_prefix}map_9001"
touch "$dead_page" "$held_page"
# A live user of a page file: a shared flock, as DPDK takes, held by the
# sleep the subshell becomes.
( exec 9<"$held_page"; flock -s 9; exec sleep 600 ) &
holder_pid=$!
for _ in $(seq 1 50); do
	flock -n "$held_page" true || break
	sleep 0.05
done
kill -KILL "$gw_pid"
wait "$gw_pid" 2>/dev/null
gw_pid=""
left=$(find "/var/run/dpdk/$gw_file_prefix" -mindepth 1 -printf '%f ' 2>/dev/null)
if [ -n "$left" ] && [ -S "$socket" ] && [ -e "$socket.lock" ]; then
	ok "left behind: run files ($left), the control socket and its lock"
else
	bad "kill -9 left less than expected (run files: '$left'; socket: $([ -S "$socket" ] && echo yes || echo no))"
fi

step "start again at once"
restart_ns=$(date +%s%N)
gw_start_with_config "$gw_work/gateway2.log" "$gw_work/gw.conf"
if gw_wait_forwarding client 30; then
	ok "forwarding again $(( ($(date +%s%N) - restart_ns) / 1000000 )) ms after the start"
else
	bad "the gateway does not forward after kill -9 and a restart" "$gw_work/gateway2.log" gateway
fi
line=$(grep -a 'removed what a stopped instance left' "$gw_work/gateway2.log")
# The dead page file, and those of the killed gateway when it ran on hugepages.
if echo "$line" | grep -Eq '[1-9][0-9]* DPDK run files .* [1-9][0-9]* hugepage files, 1 control socket'; then
	ok "${line#smbgw: }"
else
	bad "no or wrong cleanup line: '$line'" "$gw_work/gateway2.log" gateway
fi
if [ ! -e "$dead_page" ] && [ -e "$held_page" ]; then
	ok "the dead page file is removed, the one a live process holds is kept"
else
	bad "page files: $(find "$huge" -mindepth 1 -printf '%f ')"
fi
if grep -aq "kept 1 files of file prefix '$gw_file_prefix' that another process holds" "$gw_work/gateway2.log"; then
	ok "the kept file is reported"
else
	bad "the kept file is not reported" "$gw_work/gateway2.log" gateway
fi
if timeout 10 "$ctl_binary" -s "$socket" status >/dev/null; then ok "smbgwctl status answers"; else bad "smbgwctl status"; fi

step "a second gateway on the same file prefix"
gw_second_start=$SECONDS
timeout 20 "$gw_binary" -l 0-1 --no-pci --no-huge -m 512 --file-prefix "$gw_file_prefix" \
	--vdev net_null0,no-rx=1 --vdev net_null1,no-rx=1 -- -c "$gw_work/gw.conf" \
	>"$gw_work/second.log" 2>&1
status=$?
if [ "$status" -eq 1 ] && grep -q "file prefix '$gw_file_prefix' is in use by process $gw_pid" "$gw_work/second.log" &&
		[ $((SECONDS - gw_second_start)) -le 2 ]; then
	ok "refused: $(grep -o 'file prefix.*in use by process [0-9]*' "$gw_work/second.log")"
else
	bad "a second gateway on the prefix: status $status" "$gw_work/second.log" second
fi
if gw_wait_forwarding client 10; then ok "the first one still forwards"; else bad "the first one stopped forwarding"; fi

step "clean stop"
if gw_stop 30; then ok "exit 0"; else bad "exit status $gw_status" "$gw_work/gateway2.log" gateway; fi
if [ ! -e "/var/run/dpdk/$gw_file_prefix" ]; then ok "no run directory after a clean stop"; else bad "run directory left after a clean stop"; fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "FAIL: restart-leftovers: ${#failures[@]} of $checks checks"
	exit 1
fi
echo "PASS: restart-leftovers ($checks checks)"
