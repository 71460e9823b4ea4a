#!/bin/bash
# Sessions the gateway cannot read, offline: psexec_smb3_enc.pcap (psexec.py
# as root, sealed after SESSION_SETUP) under policies for its pair
# 198.18.1.10 -> 198.18.2.20:
#   1. deny admin_share, unverifiable_action unsaid (default deny): the
#      first sealed record is dropped and the connection reset, counted
#      unverifiable_denied and smb_denied; alert 9000009 "denied" naming
#      root and NTLM; no 9000008 note;
#   2. the same with unverifiable_action = "allow" (group), then on the
#      rule that decides the pair: forwarded, counted unverifiable_allowed,
#      alert 9000009 "allowed";
#   3. "monitor": forwarded, counted unverifiable_monitored;
#   4. only allow rules for the pair: untouched (no drop, no count, the
#      9000008 note only);
#   5. an explicit "encrypted = true" deny rule decides before an allow
#      unverifiable_action;
#   6. monitor-only mode: forwarded, counted as would_deny.
# Every EVE log is checked against Suricata's schema (fields relaxed).
# usage: test_unverifiable.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
check="/usr/bin/python3 $here/../lib/eve_check.py"
. "$here/../lib/replay_checks.sh"
capture=$pcaps/psexec_smb3_enc.pcap
work=$(mktemp -d /tmp/smbgw-unverif.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
UNVERIFIABLE=9000009
ENCRYPTED=9000008

fail() {
	echo "FAIL: $*"
	status=1
}

# conf NAME GROUP_KEYS RULES: a configuration with the two segments.
conf() {
	cat >"$work/$1.conf" <<CONF
gateway: { ports = [ "a", "b" ]; };
policy: {
  $2
  segments = (
    { name = "clients"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; } );
  rules = ( $3 );
};
CONF
}

DENY_ADMIN='{ from = "clients"; to = "servers"; action = "deny"; share_class = "admin_share"; },'
ALLOW='{ from = "clients"; to = "servers"; action = "allow"; }'

# run NAME: replays the capture on NAME.conf; NAME.out, NAME.json.
run() {
	"$smbgw" -r "$capture" -c "$work/$1.conf" -e "$work/$1.json" \
		>"$work/$1.out" 2>&1 || { fail "$1: smbgw -r exited $?"; sed 's/^/  | /' "$work/$1.out"; return 1; }
	eve_checked "$work/$1.json" "$1"
}

# counter NAME KEY: the value of KEY on the "policy:" line.
counter() {
	sed -n "s/^policy:.* $2 \([0-9][0-9]*\).*/\1/p" "$work/$1.out"
}

# policy_drops NAME: the capture row's policy column.
policy_drops() { capture_column "$work/$1.out" policy; }

alerts() {
	$check "$work/$1.json" alerts | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() {	# expect NAME LABEL KEY=VALUE...: the policy line's counters
	local name=$1 label=$2 kv key want got ok=1
	shift 2
	for kv in "$@"; do
		key=${kv%%=*}
		want=${kv#*=}
		if [ "$key" = drops ]; then
			got=$(policy_drops "$name")
		else
			got=$(counter "$name" "$key")
		fi
		if [ "$got" != "$want" ]; then
			fail "$name: $key is '$got', $want expected ($label)"
			ok=0
		fi
	done
	[ $ok = 0 ] || echo "ok: $name: $label ($*)"
}

# 1. Default: deny.
conf deny "" "$DENY_ADMIN $ALLOW"
if run deny; then
	expect deny "refused at the first sealed record" unverifiable_denied=1 \
		unverifiable_allowed=0 smb_denied=1 resets=2
	drops=$(policy_drops deny)
	[ -n "$drops" ] && [ "$drops" -gt 100 ] &&
		echo "ok: deny: $drops of 118 frames dropped by policy" ||
		fail "deny: policy drops '$drops', the sealed rest of the session expected"
	[ "$(alerts deny)" = $UNVERIFIABLE ] && echo "ok: deny: alert $UNVERIFIABLE only" ||
		fail "deny: alerts '$(alerts deny)', only $UNVERIFIABLE expected"
	$check "$work/deny.json" alert $UNVERIFIABLE alert.policy_action=blocked alert.action=blocked \
		smb.ntlmssp.user=root smb.auth=ntlm evidence.unverifiable=encrypted \
		evidence.policy_rule=1 src_segment=clients dest_segment=servers >/dev/null &&
		echo "ok: deny: the alert names root, NTLM, the rule and the segments" ||
		fail "deny: alert $UNVERIFIABLE lacks action, user, auth or rule"
	grep -q '"command":"SMB2_COMMAND_SESSION_SETUP".*"auth":"ntlm"' "$work/deny.json" &&
		echo "ok: deny: the logon record says auth ntlm" || fail "deny: logon record without auth"
	grep -q "^alert $UNVERIFIABLE .* user LAB\\\\root .* auth ntlm$" "$work/deny.out" &&
		echo "ok: deny: the alerts summary names LAB\\root and ntlm" ||
		fail "deny: alerts summary: $(grep '^alert' "$work/deny.out")"
fi

# 2. allow, for the group, then for the rule deciding the pair.
conf allow 'unverifiable_action = "allow";' "$DENY_ADMIN $ALLOW"
conf allow_rule 'unverifiable_action = "deny";' \
	"$DENY_ADMIN { from = \"clients\"; to = \"servers\"; action = \"allow\"; unverifiable_action = \"allow\"; }"
for name in allow allow_rule; do
	run $name || continue
	expect $name "forwarded and counted" unverifiable_allowed=1 \
		unverifiable_denied=0 smb_denied=0 drops=0
	$check "$work/$name.json" alert $UNVERIFIABLE alert.policy_action=allowed \
		smb.ntlmssp.user=root smb.auth=ntlm >/dev/null &&
		echo "ok: $name: alert $UNVERIFIABLE allowed, naming root and NTLM" ||
		fail "$name: no alert $UNVERIFIABLE allowed with root and ntlm"
done

# 3. monitor.
conf monitor 'unverifiable_action = "monitor";' "$DENY_ADMIN $ALLOW"
if run monitor; then
	expect monitor "forwarded and counted" unverifiable_monitored=1 drops=0
	$check "$work/monitor.json" alert $UNVERIFIABLE alert.policy_action=would-block >/dev/null &&
		echo "ok: monitor: alert $UNVERIFIABLE monitored" || fail "monitor: no alert monitored"
fi

# 4. Only allow rules: untouched.
conf open "" "$ALLOW"
if run open; then
	expect open "untouched" unverifiable_denied=0 unverifiable_allowed=0 \
		unverifiable_monitored=0 smb_denied=0 drops=0
	[ "$(alerts open)" = $ENCRYPTED ] && echo "ok: open: the encrypted note $ENCRYPTED only" ||
		fail "open: alerts '$(alerts open)', only $ENCRYPTED expected"
fi

# 5. An explicit rule on sealed sessions decides first.
conf explicit 'unverifiable_action = "allow";' \
	"{ from = \"clients\"; to = \"servers\"; action = \"deny\"; encrypted = true; }, $DENY_ADMIN $ALLOW"
if run explicit; then
	expect explicit "denied by rule 1" unverifiable_denied=1 unverifiable_allowed=0 smb_denied=1
	$check "$work/explicit.json" alert $UNVERIFIABLE alert.policy_action=blocked \
		evidence.unverifiable_action=False evidence.policy_rule=1 >/dev/null &&
		echo "ok: explicit: the alert says rule 1 decided, not the unverifiable action" ||
		fail "explicit: alert evidence"
fi

# 6. monitor-only: would deny.
conf monitor_only 'mode = "monitor-only";' "$DENY_ADMIN $ALLOW"
if run monitor_only; then
	expect monitor_only "reported, not blocked" unverifiable_monitored=1 \
		unverifiable_denied=0 would_deny=1 drops=0
fi

[ $status -eq 0 ] && echo "PASS: unverifiable sessions"
exit $status
