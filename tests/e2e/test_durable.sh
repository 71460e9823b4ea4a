#!/bin/bash
# End-to-end: outputs that lose nothing without a count.
#
# 1. EVE on a full disk: the EVE log lives on a 1 MB tmpfs, filled up but
#    a few KiB while psexec.py runs again and again through the gateway
#    and a copy goes the other way. Forwarding is unaffected (the copy's
#    sha256 is equal), every line of the file is whole JSON, smbgwctl stats
#    shows eve_dropped > 0 and eve_errors > 0, the failure is logged once,
#    and once space is freed (the filler deleted) new alerts are written
#    and "writing resumed" is logged.
# 2. The durable report: with report.checkpoint_interval = 2, the gateway
#    is killed (SIGKILL) during a copy and started again on the same
#    configuration: the start is not blocked by what the killed process
#    left (socket, DPDK run files), and the report still has every
#    connection counted more than the interval before the kill.
#
# usage: test_durable.sh [SMBGW_BINARY [SMBGWCTL_BINARY]]
# Exit: 0 pass, 1 fail, 77 skipped (not root, or a tool missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-durable needs root (network namespaces, af_packet, tmpfs)"
	exit 77
fi

gw_binary=${1:-$top/build/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}
psexec=/usr/share/doc/python3-impacket/examples/psexec.py
for tool in smbclient smbd sha256sum mount umount; do
	command -v "$tool" >/dev/null || { echo "skipped: $tool missing (scripts/deps.sh)"; exit 77; }
done
[ -r "$psexec" ] || { echo "skipped: $psexec missing (python3-impacket, scripts/deps.sh)"; exit 77; }

password=Smbgw-du-$$
gw_work=$(mktemp -d /tmp/smbgw-durable.XXXXXX)
chmod 0711 "$gw_work"
gw_file_prefix=smbgw-durable-$$
check="/usr/bin/python3 $top/tests/lib/eve_check.py"
evefs=$gw_work/evefs
eve=$evefs/eve.json
report=$gw_work/report.csv
socket=$gw_work/smbgw.sock
started=$SECONDS

export SMBGW_NETNS_PREFIX=du$$
export SMBGW_IF_A=dua$$
export SMBGW_IF_B=dub$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# psexec.py's trees and files must be visible to the gateway (no sealing).
export SMBGW_SMB_ENCRYPT=off
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

cleanup() {
	gw_cleanup
	umount "$evefs" 2>/dev/null || true
	timeout 60 "$scripts/netns.sh" down >/dev/null 2>&1 || echo "e2e-durable: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-durable: $*"
	[ -s "$gw_work/gateway.log" ] && tail -n 40 "$gw_work/gateway.log" | sed 's/^/  gateway| /'
	[ -s "$gw_work/psexec.log" ] && tail -n 20 "$gw_work/psexec.log" | sed 's/^/  psexec| /'
	exit 1
}

ok() {
	step "ok: $*"
}

# ctl_stat NAME: outputs.NAME from smbgwctl --json stats.
ctl_stat() {
	timeout 20 "$ctl_binary" -s "$socket" --json stats >"$gw_work/stats.json" ||
		fail "smbgwctl stats failed"
	python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
doc = doc.get("result", doc)
print(doc["outputs"][sys.argv[2]])' "$gw_work/stats.json" "$1" ||
		fail "no outputs.$1 in smbgwctl stats: $(cat "$gw_work/stats.json")"
}

# connections: the report's connections from the client to the server,
# today, as the running gateway has them.
connections() {
	timeout 20 "$ctl_binary" -s "$socket" report csv >"$gw_work/report.out" ||
		fail "smbgwctl report failed"
	awk -F, '$2 == "198.18.1.10" && $3 == "198.18.2.20" { n += $4 } END { print n + 0 }' \
		"$gw_work/report.out"
}

# run_psexec: one psexec.py session from the client to the server.
run_psexec() {
	in_background timeout 90 "$scripts/netns.sh" exec client timeout 60 /usr/bin/python3 "$psexec" \
		"root:$password@198.18.2.20" cmd >"$gw_work/psexec.log" 2>&1 </dev/null || true
	grep -q 'Creating service' "$gw_work/psexec.log" || fail "psexec.py did not reach service creation"
}

alerts() {
	grep -c '"signature_id":9000001' "$eve" || true
}

# copy_start NAME MB: smbclient gets NAME (MB random megabytes) in the background.
copy_start() {
	head -c "$2M" /dev/urandom >"$share/$1"
	chmod 0644 "$share/$1"
	"$scripts/netns.sh" exec client timeout 120 smbclient //198.18.2.20/data -U "bob%$password" \
		-c "get $1 $gw_work/$1" >"$gw_work/$1.log" 2>&1 &
	copy_pid=$!
}

# copy_check NAME: waits for the copy and compares sha256.
copy_check() {
	wait "$copy_pid" || { sed 's/^/  smbclient| /' "$gw_work/$1.log"; fail "copy of $1 failed"; }
	[ "$(sha256sum <"$share/$1")" = "$(sha256sum <"$gw_work/$1" 2>/dev/null || echo missing)" ] ||
		fail "$1: sha256 differs after the copy"
	ok "$1 copied through the gateway, sha256 equal"
}

step "topology and a 1 MB tmpfs for the EVE log"
in_background timeout 60 "$scripts/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; fail "could not set up the namespaces"; }
share=$SMBGW_NETNS_DIR/shares/data
mkdir -p "$evefs"
mount -t tmpfs -o size=1m tmpfs "$evefs" || fail "cannot mount a tmpfs"
cat >"$gw_work/durable.conf" <<CONF
gateway: {
  ports = [ "$(gw_port 0)", "$(gw_port 1)" ];
  stats_interval = 0;
};
output: { eve = "$eve"; };
report: { path = "$report"; checkpoint_interval = 2; };
control: { socket = "$socket"; };
CONF
gw_start_with_config "$gw_work/gateway.log" "$gw_work/durable.conf"
gw_wait_forwarding client 30 || fail "the gateway does not forward"

step "psexec.py with room on the disk"
run_psexec
for _ in $(seq 50); do
	[ "$(alerts)" -gt 0 ] && break
	sleep 0.1
done
[ "$(alerts)" -gt 0 ] || fail "no CM0062 alert in the EVE log"
ok "CM0062 alert written ($(alerts))"

step "filling the tmpfs but 6 KiB"
dd if=/dev/zero of="$evefs/filler" bs=4k 2>/dev/null || true
truncate -s -6K "$evefs/filler"
df -k "$evefs" | tail -1 | sed 's/^/  /'
copy_start full.bin 16
for run in 1 2 3 4; do
	run_psexec
	sleep 1.5	# the EVE log is written out once a second
	dropped=$(ctl_stat eve_dropped)
	step "psexec run $run on a full disk: eve_dropped $dropped"
	[ "$dropped" -gt 0 ] && [ "$run" -ge 2 ] && break
done
copy_check full.bin
gw_running || fail "the gateway died on a full disk"
dropped=$(ctl_stat eve_dropped)
errors=$(ctl_stat eve_errors)
written=$(ctl_stat eve_written)
[ "$dropped" -gt 0 ] || fail "eve_dropped is 0 on a full disk"
[ "$errors" -gt 0 ] || fail "eve_errors is 0 on a full disk"
ok "eve_written $written eve_dropped $dropped eve_errors $errors"
$check "$eve" valid >/dev/null || fail "the EVE log has a line that is not whole JSON"
[ -z "$(tail -c 1 "$eve")" ] || fail "the EVE log ends in a cut-off line"
ok "every line of the EVE log is whole JSON ($(wc -l <"$eve") lines)"
failures=$(grep -c "EVE log $eve: write failed: No space left on device" "$gw_work/gateway.log" || true)
[ "$failures" -eq 1 ] || fail "the full disk was logged $failures times, want once"
ok "logged once: $(grep -m1 "EVE log $eve: write failed" "$gw_work/gateway.log")"

step "space freed: new alerts are written"
before=$(alerts)
rm -f "$evefs/filler"
run_psexec
for _ in $(seq 50); do
	[ "$(alerts)" -gt "$before" ] && break
	sleep 0.1
done
[ "$(alerts)" -gt "$before" ] || fail "no new alert after space was freed"
grep -q "EVE log $eve: writing resumed after [1-9][0-9]* records dropped" "$gw_work/gateway.log" ||
	fail "no \"writing resumed\" line"
$check "$eve" valid >/dev/null || fail "the EVE log has a line that is not whole JSON"
ok "$(grep -m1 "writing resumed" "$gw_work/gateway.log" | sed 's/^smbgw: //'); alerts $before -> $(alerts)"

step "kill -9 during a copy, restart on the same report"
counted=$(connections)
[ "$counted" -gt 0 ] || fail "the report has no connection for the pair"
sleep 4	# two checkpoint intervals: every count so far is in the file
head -n 1 "$report" | grep -qx '# smbgw report checkpoint 1' || fail "no checkpoint file at $report"
copy_start kill.bin 64
sleep 1
kill -KILL "$gw_pid"
wait "$gw_pid" 2>/dev/null || true
gw_pid=""
wait "$copy_pid" 2>/dev/null || true
[ -S "$socket" ] && step "left behind: $(basename "$socket"), $(ls /var/run/dpdk/"$gw_file_prefix" 2>/dev/null | tr '\n' ' ')"
# The file the killed gateway left is whole and has the counts.
in_file=$(awk -F, '$2 == "198.18.1.10" && $3 == "198.18.2.20" { n += $4 } END { print n + 0 }' "$report")
tail -n 1 "$report" | grep -q '^# end rows ' || fail "the checkpoint left by the killed gateway is not whole"
[ "$in_file" -ge "$counted" ] ||
	fail "the checkpoint has $in_file connections, $counted were counted more than 2 s before the kill"
restart=$SECONDS
gw_start_with_config "$gw_work/gateway.log" "$gw_work/durable.conf"
gw_wait_forwarding client 30 || fail "the gateway does not start again after kill -9"
ok "forwarding again $((SECONDS - restart)) s after the restart"
grep -q "report checkpoint $report: [1-9][0-9]* rows restored" "$gw_work/gateway.log" ||
	fail "the restart did not restore the report"
restored=$(connections)
[ "$restored" -ge "$counted" ] ||
	fail "the report lost counts: $counted connections before the kill, $restored after"
[ "$(ctl_stat report_rows_restored)" -gt 0 ] || fail "report_rows_restored is 0"
ok "connections 198.18.1.10 -> 198.18.2.20: $counted counted before the kill, $in_file in the checkpoint, $restored after the restart"
copy_start after.bin 8
copy_check after.bin

gw_stop 20 || fail "the gateway did not exit cleanly (status $gw_status)"
tail -n 1 "$report" | grep -q '^# end rows [1-9][0-9]* fnv1a64 [0-9a-f]\{16\}$' ||
	fail "the checkpoint written at stop has no end line"
echo "PASS: e2e-durable"
