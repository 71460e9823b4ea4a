#!/bin/bash
# Alerts to a remote syslog collector as RFC 5424 messages over TCP:
# Debian's rsyslogd, started here in a network namespace of its own with
# an imtcp listener on a 198.18.x address and a file output, receives the
# alerts of the gateway replaying psexec_smb2 in the same namespace
# (output.syslog_target = "tcp://..."); the messages are parsed back and
# must carry the alerts of the EVE log, field for field.
# usage: test_syslog.sh SMBGW_BINARY PCAPS_DIR
# Settings: SMBGW_NETNS_PREFIX (default smbgw) names the namespace.
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
prefix=${SMBGW_NETNS_PREFIX:-smbgw}
ns=$prefix-syslog
addr=198.18.250.1
port=6514

if [ "$(id -u)" != 0 ] || ! command -v rsyslogd >/dev/null || ! command -v ip >/dev/null ||
		! command -v jq >/dev/null; then
	echo "skipped: needs root, rsyslogd, ip and jq"
	exit 77
fi
work=$(mktemp -d /tmp/smbgw-syslog.XXXXXX)
rsyslog_pid=""
cleanup() {
	if [ -n "$rsyslog_pid" ] && kill -0 "$rsyslog_pid" 2>/dev/null; then
		kill "$rsyslog_pid" 2>/dev/null || true
		wait "$rsyslog_pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
status=0
fail() {
	echo "FAIL: $*"
	status=1
}

ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
ip -n "$ns" link set lo up
# A veth pair kept inside the namespace carries the collector's address.
ip -n "$ns" link add "${prefix}sl0" type veth peer name "${prefix}sl1"
ip -n "$ns" addr add "$addr/24" dev "${prefix}sl0"
ip -n "$ns" link set "${prefix}sl1" up
ip -n "$ns" link set "${prefix}sl0" up

# rsyslogd with nothing but a TCP listener and one file: the message as
# received (RFC 5424 text, no framing), one line each.
cat >"$work/rsyslog.conf" <<CONF
global(workDirectory="$work")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="alerts") {
	action(type="omfile" file="$work/received.log" template="raw")
}
input(type="imtcp" address="$addr" port="$port" ruleset="alerts")
CONF
ip netns exec "$ns" rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" \
	>"$work/rsyslogd.out" 2>&1 &
rsyslog_pid=$!
for _ in $(seq 50); do
	ip netns exec "$ns" ss -ltn 2>/dev/null | grep -q "$addr:$port" && break
	sleep 0.1
done
ip netns exec "$ns" ss -ltn | grep -q "$addr:$port" ||
	{ cat "$work/rsyslogd.out"; echo "FAIL: rsyslogd does not listen"; exit 1; }

cat >"$work/gw.conf" <<CONF
gateway: { ports = [ "a", "b" ]; };
output: { syslog = true; syslog_target = "tcp://$addr:$port"; };
CONF
ip netns exec "$ns" "$smbgw" -r "$pcaps/psexec_smb2.pcap" -c "$work/gw.conf" \
	-e "$work/eve.json" >"$work/gw.out" 2>&1 || fail "smbgw -r exited $?"
alerts=$(jq -c 'select(.event_type == "alert")' "$work/eve.json" | wc -l)
[ "$alerts" -gt 0 ] || fail "the replay raised no alert"
for _ in $(seq 50); do
	[ "$(wc -l <"$work/received.log" 2>/dev/null || echo 0)" -ge "$alerts" ] && break
	sleep 0.1
done

# Parse every message back (RFC 5424: PRI VERSION TIMESTAMP HOSTNAME
# APP-NAME PROCID MSGID [SD-ID PARAM="VALUE"...] MSG) and compare with the
# EVE log's alerts, in order.
/usr/bin/python3 - "$work/received.log" "$work/eve.json" <<'PY' || status=1
import json, re, sys
header = re.compile(r'^<(\d+)>1 (\S+) (\S+) smbgw (\d+) alert \[smbgw@32473((?: [a-z_]+="(?:[^"\\\]]|\\.)*")*)\] (.*)$')
param = re.compile(r' ([a-z_]+)="((?:[^"\\\]]|\\.)*)"')
received = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
alerts = [json.loads(l) for l in open(sys.argv[2])]
alerts = [a for a in alerts if a["event_type"] == "alert"]
bad = 0
if len(received) != len(alerts):
    print("FAIL: %d messages received, %d alerts in the EVE log" % (len(received), len(alerts)))
    bad += 1
for line, alert in zip(received, alerts):
    m = header.match(line)
    if not m:
        print("FAIL: not an RFC 5424 alert message: %s" % line)
        bad += 1
        continue
    pri, ts, host, pid, sd, text = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6)
    fields = {k: re.sub(r'\\(.)', r'\1', v) for k, v in param.findall(sd)}
    want = {
        "sid": str(alert["alert"]["signature_id"]),
        "severity": str(alert["alert"]["severity"]),
        "category": alert["alert"]["category"],
        "action": alert["alert"]["policy_action"],
        "src_ip": alert["src_ip"], "dest_ip": alert["dest_ip"],
        "src_port": str(alert["src_port"]), "dest_port": str(alert["dest_port"]),
        "flow_id": str(alert["flow_id"]),
        "count": str(alert["alert"]["count"]),
    }
    user = alert.get("smb", {}).get("ntlmssp", {}).get("user")
    if user:
        want["user"] = user
    for key, value in want.items():
        if fields.get(key) != value:
            print("FAIL: %s is %r, %r in the EVE alert: %s" % (key, fields.get(key), value, line))
            bad += 1
    if text != alert["alert"]["signature"]:
        print("FAIL: message %r, signature %r" % (text, alert["alert"]["signature"]))
        bad += 1
    # daemon facility (3); severity 1 -> alert (1), 2 -> warning (4), 3 -> notice (5)
    wanted_pri = 3 * 8 + {1: 1, 2: 4}.get(alert["alert"]["severity"], 5)
    if int(pri) != wanted_pri:
        print("FAIL: PRI %s, %d expected" % (pri, wanted_pri))
        bad += 1
    if ts[:19] != alert["timestamp"][:19] or not ts.endswith("+00:00"):
        print("FAIL: timestamp %s for %s" % (ts, alert["timestamp"]))
        bad += 1
if bad == 0:
    print("ok: %d RFC 5424 alerts received over TCP and parsed back, as in the EVE log" % len(received))
sys.exit(1 if bad else 0)
PY
grep -q "CM0062" "$work/received.log" && echo "ok: the CM0062 alert reached the collector" ||
	fail "no CM0062 alert at the collector"
exit $status
