#!/bin/bash
# Many gateways, one view: two gateways, each between its own client and
# server namespaces (two netns.sh topologies), write EVE records and report
# counters to one redis-server in a namespace of its own (ACL user, no
# persistence). Checks:
#   1. smbclient copies and one psexec.py through each gateway: the report
#      read back from Redis (smbgwctl report --redis) equals the sum of the
#      two gateways' own reports, row by row (one pair crosses both
#      gateways, so its row is a real sum); both gateways' CM0062 alerts are
#      in the stream (smbgwctl alerts --redis), each naming its gateway.
#   2. Redis stopped: both gateways keep forwarding (sha256 equal) and
#      redis_dropped counts what could not be sent.
#   3. Redis started again (empty): new records of both gateways arrive.
#
# usage: test_redis.sh [SMBGW_BINARY [SMBGWCTL_BINARY]]
# Exit: 0 pass, 1 fail, 77 skipped (not root, or a tool missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts
build=${MESON_BUILD_ROOT:-$top/build}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-redis needs root (network namespaces, af_packet)"
	exit 77
fi
psexec=/usr/share/doc/python3-impacket/examples/psexec.py
for tool in redis-server smbclient smbd python3 sha256sum; do
	command -v "$tool" >/dev/null || { echo "skipped: e2e-redis needs $tool"; exit 77; }
done
[ -r "$psexec" ] || { echo "skipped: e2e-redis needs python3-impacket"; exit 77; }

gw_binary=${1:-$build/app/smbgw}
ctl=${2:-$build/app/smbgwctl}
password=Smbgw-rd-$$
work=$(mktemp -d /tmp/smbgw-redis.XXXXXX)
chmod 0711 "$work"   # smbd serves shares below it as bob
started=$SECONDS
export SMBGW_PASSWORD=$password
# psexec.py's session stays readable, so that the gateway can raise CM0062.
export SMBGW_SMB_ENCRYPT=off
# The test's smbds (and their children) never ask a winbindd the host may
# run for another purpose (an AD DC) about the users alice, bob and root:
# nss_winbind stays out of their lookups.
export _NO_WINBINDD=1
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

# Redis in its own namespace, reached from the gateways (root namespace)
# over a veth pair: 198.19.N.0/30 inside the test range 198.18.0.0/15.
redis_ns=rdr$$
redis_veth=rdv$$
redis_peer=rdp$$
octet=$(($$ % 250 + 1))
redis_ip=198.19.$octet.2
root_ip=198.19.$octet.1
redis_addr=$redis_ip:6379
redis_pid=""
redis_secret=Redis-rd-$$
echo "$redis_secret" >"$work/redis.password"
chmod 0600 "$work/redis.password"
view_auth=(--redis "$redis_addr" --user smbgw --password-file "$work/redis.password")

gateways=(gw1 gw2)

cleanup() {
	local g
	for g in "${gateways[@]}"; do
		gw_select "$g"
		[ -n "${gw_work:-}" ] || continue
		gw_cleanup
		timeout 60 "$scripts/netns.sh" down >/dev/null 2>&1 ||
			echo "e2e-redis: teardown of $g failed" >&2
	done
	[ -z "$redis_pid" ] || { kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; }
	ip link del "$redis_veth" 2>/dev/null || true
	ip netns del "$redis_ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	local g
	echo "FAIL: e2e-redis: $*"
	for g in "${gateways[@]}"; do
		[ -s "$work/$g/gateway.log" ] && tail -n 25 "$work/$g/gateway.log" | sed "s/^/  $g| /"
	done
	[ -s "$work/redis.log" ] && tail -n 10 "$work/redis.log" | sed 's/^/  redis| /'
	exit 1
}

redis_start() {
	: >"$work/redis.log"
	ip netns exec "$redis_ns" redis-server "$work/redis.conf" >>"$work/redis.log" 2>&1 &
	redis_pid=$!
	local i
	for i in $(seq 50); do
		ip netns exec "$redis_ns" redis-cli -h "$redis_ip" --user smbgw \
			--pass "$redis_secret" --no-auth-warning ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	fail "redis-server did not start"
}

redis_stop() {
	kill -TERM "$redis_pid"
	wait "$redis_pid" 2>/dev/null || true
	redis_pid=""
}

# gw_setup NAME N HOSTS: topology N (rdN... names) with HOSTS hosts, and
# the gateway NAME on it, writing to Redis.
gw_setup() {
	gw_select "$1"
	gw_work=$work/$1
	gw_file_prefix=smbgw-rd$2-$$
	mkdir -p "$gw_work"
	chmod 0711 "$gw_work"
	export SMBGW_NETNS_PREFIX=rd$2n$$ SMBGW_IF_A=rd$2a$$ SMBGW_IF_B=rd$2b$$
	export SMBGW_NETNS_DIR=$gw_work/netns
	timeout 90 "$scripts/netns.sh" up --hosts "$3" >"$gw_work/netns.log" 2>&1 ||
		{ cat "$gw_work/netns.log"; fail "topology $2 did not come up"; }
	cat >"$gw_work/smbgw.conf" <<CONF
gateway: {
  ports = [ "$(gw_port 0)", "$(gw_port 1)" ];
  stats_interval = 0;
  name = "rd-$1";
};
output: {
  eve = "$gw_work/eve.json";
  redis: {
    server = "$redis_ip";
    port = 6379;
    mode = "stream";
    user = "smbgw";
    password = "$redis_secret";
    # Small, so that a stopped Redis soon costs records (redis_dropped).
    queue_size = 128;
    timeout_ms = 500;
  };
};
control: { socket = "$gw_work/smbgw.sock"; };
CONF
	gw_start_with_config "$gw_work/gateway.log" "$gw_work/smbgw.conf"
	gw_wait_forwarding client 30 || fail "$1 does not forward"
}

# copy GW HOST NAME MB: smbclient from HOST puts NAME.up and gets NAME.down
# (MB each) through GW; both must arrive intact.
copy() {
	gw_select "$1"
	local share=$SMBGW_NETNS_DIR/shares/data
	head -c "${4}M" /dev/urandom >"$gw_work/$3.up"
	head -c "${4}M" /dev/urandom >"$share/$3.down"
	chmod 0644 "$share/$3.down"
	(cd "$gw_work" && in_background "$scripts/netns.sh" exec "$2" timeout 120 \
		smbclient //198.18.2.20/data -U "bob%$password" \
		-c "put $3.up $3.up; get $3.down $3.down") >"$gw_work/smbclient.log" 2>&1 ||
		{ cat "$gw_work/smbclient.log"; fail "smbclient through $1 failed"; }
	[ "$(sha256sum <"$gw_work/$3.up")" = "$(sha256sum <"$share/$3.up")" ] ||
		fail "$3.up through $1: sha256 differs"
	[ "$(sha256sum <"$share/$3.down")" = "$(sha256sum <"$gw_work/$3.down")" ] ||
		fail "$3.down through $1: sha256 differs"
}

# many_files GW HOST COUNT: one smbclient session puts COUNT small files.
many_files() {
	gw_select "$1"
	local dir=$gw_work/many i
	mkdir -p "$dir"
	for i in $(seq "$3"); do echo "$i" >"$dir/f$i.txt"; done
	(cd "$dir" && in_background "$scripts/netns.sh" exec "$2" timeout 120 \
		smbclient //198.18.2.20/data -U "bob%$password" \
		-c "prompt off; mkdir many$$; cd many$$; mput f*.txt") >"$gw_work/many.log" 2>&1 ||
		{ cat "$gw_work/many.log"; fail "smbclient mput through $1 failed"; }
}

run_psexec() {
	gw_select "$1"
	timeout 90 "$scripts/netns.sh" exec "$2" timeout 60 /usr/bin/python3 "$psexec" \
		"root:$password@198.18.2.20" cmd >"$gw_work/psexec.log" 2>&1 </dev/null || true
	grep -q 'Creating service' "$gw_work/psexec.log" ||
		{ cat "$gw_work/psexec.log"; fail "psexec.py through $1 did not reach service creation"; }
}

# gw_stat GW KEY [GROUP]: GROUP.KEY (GROUP: outputs) of GW's smbgwctl stats.
gw_stat() {
	local group=${3:-outputs}
	gw_select "$1"
	timeout 20 "$ctl" -s "$gw_work/smbgw.sock" --json stats >"$gw_work/stats.json" ||
		fail "smbgwctl stats on $1 failed"
	python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
doc = doc.get("result", doc)
print(doc[sys.argv[3]][sys.argv[2]])' "$gw_work/stats.json" "$2" "$group" ||
		fail "no $group.$2 in $1's stats"
}

# The local reports of both gateways, summed row by row, against the one
# Redis holds: true when equal (the differences are in $work/report.diff).
# local_report GW: GW's own report (smbgwctl report csv) in $work/GW.csv.
local_report() {
	gw_select "$1"
	timeout 20 "$ctl" -s "$gw_work/smbgw.sock" --json report csv >"$work/$1.json" ||
		fail "smbgwctl report on $1 failed"
	python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
sys.stdout.write(doc.get("result", doc)["csv"])' "$work/$1.json" >"$work/$1.csv" ||
		fail "no csv in $1's report reply"
}

reports_match() {
	local g
	for g in "${gateways[@]}"; do
		local_report "$g"
	done
	timeout 20 "$ctl" report "${view_auth[@]}" csv >"$work/merged.csv" ||
		fail "smbgwctl report --redis failed"
	compare_reports "$work/merged.csv" "$work/gw1.csv" "$work/gw2.csv" >"$work/report.diff"
}

# compare_reports MERGED CSV...: true when MERGED has the rows of the
# CSVs summed, column by column (ports as sets: a gateway lists them in
# the order it saw them, the merged report in ascending order).
compare_reports() {
	python3 - "$@" <<'PY'
import csv, sys

def rows(path):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            out[(r["date"], r["src_ip"], r["dest_ip"])] = r
    return out

counts = ["connections", "bytes_toserver", "bytes_toclient", "detected_by_port",
          "detected_by_content", "allowed", "denied", "monitored"]
merged = rows(sys.argv[1])
total = {}
for path in sys.argv[2:]:
    for key, r in rows(path).items():
        t = total.setdefault(key, {c: 0 for c in counts} | {"ports": set()})
        for c in counts:
            t[c] += int(r[c])
        t["ports"] |= set(p for p in r["dest_ports"].split() if p)
ok = set(merged) == set(total) and len(total) > 0
for key in sorted(set(merged) | set(total)):
    m, t = merged.get(key), total.get(key)
    if m is None or t is None:
        print("only in", "merged" if t is None else "the sum", key)
        continue
    for c in counts:
        if int(m[c]) != t[c]:
            ok = False
            print(key, c, "merged", m[c], "sum", t[c])
    if set(p for p in m["dest_ports"].split() if p) != t["ports"]:
        ok = False
        print(key, "ports", m["dest_ports"], sorted(t["ports"]))
sys.exit(0 if ok else 1)
PY
}

[ -x "$gw_binary" ] || fail "no gateway binary at $gw_binary"
[ -x "$ctl" ] || fail "no smbgwctl at $ctl"

step "redis-server on $redis_addr (namespace $redis_ns, ACL user smbgw, no persistence)"
ip netns add "$redis_ns"
ip link add "$redis_veth" type veth peer name "$redis_peer"
ip link set "$redis_peer" netns "$redis_ns"
ip addr add "$root_ip/30" dev "$redis_veth"
ip link set "$redis_veth" up
ip -n "$redis_ns" addr add "$redis_ip/30" dev "$redis_peer"
ip -n "$redis_ns" link set "$redis_peer" up
ip -n "$redis_ns" link set lo up
cat >"$work/redis.conf" <<CONF
bind $redis_ip
port 6379
daemonize no
save ""
appendonly no
dir $work
user default off
user smbgw on >$redis_secret ~smbgw:* &* +@all
CONF
chmod 0600 "$work/redis.conf"
redis_start

step "gateway 1: client 198.18.1.10 -> server 198.18.2.20 (topology rd1)"
gw_setup gw1 1 2
step "gateway 2: clients 198.18.1.10, 198.18.1.11 -> server 198.18.2.20 (topology rd2)"
gw_setup gw2 2 3

step "phase 1: copies and psexec.py through both gateways"
copy gw1 client a1 2
copy gw2 client2 b1 2
copy gw2 client b2 1
run_psexec gw1 client
run_psexec gw2 client2

# A connection's bytes are counted when it leaves the flow table, which a
# closed one does flows.timeout_closed (10 s) after its last packet: wait
# until both gateways track nothing, so that every connection of phase 1
# is in both reports, bytes and all. Compared any earlier, a report could
# take a connection's end between the reading of one and of the other.
for g in gw1 gw2; do
	for _ in $(seq 120); do
		active=$(gw_stat "$g" active flows)
		[ "$active" -eq 0 ] && break
		sleep 0.5
	done
	[ "$active" -eq 0 ] || fail "$g still tracks $active flows 60 s after phase 1"
done
# Redis takes what the gateways send a moment later: retried, each try
# reading everything afresh.
matched=false
for _ in $(seq 20); do
	reports_match && { matched=true; break; }
	sleep 0.5
done
$matched || { cat "$work/report.diff"; sed 's/^/  merged| /' "$work/merged.csv";
	sed 's/^/  gw1| /' "$work/gw1.csv"; sed 's/^/  gw2| /' "$work/gw2.csv";
	fail "the merged report is not the sum of the two local reports"; }
for g in gw1 gw2; do
	grep -q '^[0-9-]*,198.18.1.10,198.18.2.20,' "$work/$g.csv" ||
		fail "the pair 198.18.1.10 -> 198.18.2.20 is not in $g's local report"
done
# Bytes and all: gw1 carried a 2 MB copy each way for 198.18.1.10.
to_server=$(awk -F, '$2 == "198.18.1.10" { print $5 }' "$work/gw1.csv")
[ "${to_server:-0}" -ge $((2 * 1024 * 1024)) ] ||
	fail "gw1's report counts ${to_server:-no} bytes to the server from 198.18.1.10, less than its 2 MB copy"
ok "merged report = gw1 + gw2 row by row ($(($(wc -l <"$work/merged.csv") - 1)) rows)"
sed 's/^/      /' "$work/merged.csv"
# Each gateway's own hashes in Redis are its local report.
own_matches() {
	local_report "$1"
	timeout 20 "$ctl" report "${view_auth[@]}" --gateway "rd-$1" csv >"$work/own-$1.csv" ||
		fail "smbgwctl report --redis --gateway rd-$1 failed"
	compare_reports "$work/own-$1.csv" "$work/$1.csv" >"$work/own-$1.diff"
}
for g in gw1 gw2; do
	matched=false
	for _ in $(seq 20); do
		own_matches "$g" && { matched=true; break; }
		sleep 0.5
	done
	$matched || { cat "$work/own-$g.diff"; sed 's/^/  redis| /' "$work/own-$g.csv";
		sed "s/^/  $g| /" "$work/$g.csv"; fail "Redis's report of rd-$g is not $g's own"; }
done
ok "per-gateway reports in Redis equal each gateway's own"

# alerts_of GW: whether the merged stream has a CM0062 alert naming GW.
alerts_of() {
	grep '"signature_id":9000001' "$work/alerts.json" | grep "^{\"gateway\":\"rd-$1\"" >/dev/null
}
for _ in $(seq 40); do
	timeout 20 "$ctl" alerts "${view_auth[@]}" --mode stream >"$work/alerts.json" ||
		fail "smbgwctl alerts --redis failed"
	alerts_of gw1 && alerts_of gw2 && break
	sleep 0.5
done
for g in gw1 gw2; do
	alerts_of "$g" || { grep -o '"gateway":"[^"]*"\|"signature_id":[0-9]*' "$work/alerts.json" | paste - - | sort | uniq -c;
		fail "no CM0062 alert of rd-$g in the stream"; }
done
ok "CM0062 alerts of rd-gw1 and rd-gw2 in the merged stream ($(wc -l <"$work/alerts.json") alert records)"
# Both gateways' own files name them too.
for g in gw1 gw2; do
	head -n1 "$work/$g/eve.json" | grep -q "^{\"gateway\":\"rd-$g\"," ||
		fail "$g's EVE file does not name its gateway"
done

step "phase 2: Redis stopped, traffic goes on"
for g in gw1 gw2; do eval "dropped_before_$g=$(gw_stat "$g" redis_dropped)"; done
redis_stop
many_files gw1 client 300
many_files gw2 client2 300
copy gw1 client a2 2
copy gw2 client2 b3 2
for g in gw1 gw2; do
	gw_select "$g"
	gw_running || fail "$g died while Redis was down"
	before=dropped_before_$g
	dropped=$(gw_stat "$g" redis_dropped)
	errors=$(gw_stat "$g" redis_errors)
	[ "$dropped" -gt "${!before}" ] || fail "$g: redis_dropped did not move ($dropped) while Redis was down"
	[ "$errors" -gt 0 ] || fail "$g: redis_errors is 0 while Redis was down"
	ok "$g forwards with Redis down (sha256 equal); redis_dropped $dropped, redis_errors $errors"
done

step "phase 3: Redis back (empty), new records arrive"
redis_start
# Each gateway retries with a backoff of up to 5 s, and its queue is still
# full of what waited: what is new counts from its reconnection on.
for g in gw1 gw2; do
	for _ in $(seq 40); do
		[ "$(gw_stat "$g" redis_connects)" -ge 2 ] && [ "$(gw_stat "$g" redis_queued)" -eq 0 ] && break
		sleep 0.25
	done
	[ "$(gw_stat "$g" redis_connects)" -ge 2 ] || fail "$g did not reconnect to Redis within 10 s"
done
copy gw1 client after1 1
copy gw2 client2 after2 1
for _ in $(seq 60); do
	timeout 20 "$ctl" report "${view_auth[@]}" csv >"$work/after.csv" 2>/dev/null || true
	ip netns exec "$redis_ns" redis-cli -h "$redis_ip" --user smbgw --pass "$redis_secret" \
		--no-auth-warning xrange smbgw:eve - + >"$work/after.stream" 2>/dev/null || true
	grep -q '"gateway":"rd-gw1".*after1\.up' "$work/after.stream" &&
		grep -q '"gateway":"rd-gw2".*after2\.up' "$work/after.stream" && break
	sleep 0.5
done
grep -q '"gateway":"rd-gw1".*after1\.up' "$work/after.stream" ||
	fail "no record of rd-gw1's after1.up in Redis after its restart"
grep -q '"gateway":"rd-gw2".*after2\.up' "$work/after.stream" ||
	fail "no record of rd-gw2's after2.up in Redis after its restart"
grep -q ',198.18.1.1[01],198.18.2.20,' "$work/after.csv" ||
	fail "no report counters in Redis after its restart"
ok "records and report counters of both gateways arrive after Redis returns"

for g in gw1 gw2; do
	gw_select "$g"
	gw_stop 30 || fail "$g did not exit cleanly (status $gw_status)"
	grep -q '^outputs: redis_sent [1-9]' "$gw_work/gateway.log" ||
		fail "$g's final counters have no redis_sent"
done
[ ${#failures[@]} -eq 0 ] || fail "${failures[*]}"
echo "PASS: e2e-redis ($checks checks, $((SECONDS - started)) s)"
