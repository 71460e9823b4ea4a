#!/bin/bash
# End-to-end: SMB3 sessions the gateway cannot read (sealed after
# SESSION_SETUP), with real Samba through the live gateway
# (netns.sh up --hosts 3, smbd with "server smb encrypt = if_required"):
#
#   strict 198.18.1.10 (client), open 198.18.1.11 (client2)
#     -- IF_A [gateway] IF_B -- server 198.18.2.20 (ADMIN$, data)
#
# Segments: strict 198.18.1.10/32, open 198.18.1.11/32, servers
# 198.18.2.0/24. Rules: strict -> servers deny admin_share, strict ->
# servers allow; open -> servers allow (no SMB-level rule).
#
# A. unverifiable_action unsaid (default deny):
#    a) strict: smbclient --client-protection=encrypt //server/ADMIN$ put
#       is refused, no file appears on the server;
#    b) strict: an unencrypted copy on the data share still works;
#    c) open: an encrypted copy (put and get on data) works, sha256 equal;
#    e) strict: psexec.py (impacket, which seals its session when Samba
#       allows it) does not upload its executable;
#    d) (after e) smbgwctl stats: unverifiable_denied >= 1, unverifiable_allowed 0,
#       encrypted records seen; EVE: alert 9000009 "denied" naming root
#       and NTLM, none for the open client; final counters balance.
# B. unverifiable_action = "allow" (fresh gateway): the encrypted put to
#    ADMIN$ works (sha256 equal); stats unverifiable_allowed >= 1; EVE:
#    alert 9000009 "allowed" naming root and NTLM.
#
# usage: test_unverifiable.sh [SMBGW_BINARY [SMBGWCTL_BINARY]]
# Exit: 0 pass, 1 fail, 77 skipped (not root, or no smbclient with
# --client-protection).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scripts=$top/scripts

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: e2e-unverifiable needs root (network namespaces, af_packet)"
	exit 77
fi
# The help text whole (grep -q would cut the pipe under pipefail).
if ! command -v smbclient >/dev/null ||
	[[ $(smbclient --help 2>&1 || true) != *--client-protection* ]]; then
	echo "skipped: smbclient with --client-protection (Samba >= 4.15) is missing"
	exit 77
fi

gw_binary=${1:-${MESON_BUILD_ROOT:-$top/build}/app/smbgw}
ctl_binary=${2:-$(dirname "$gw_binary")/smbgwctl}
password=Smbgw-uv-$$
gw_work=$(mktemp -d /tmp/smbgw-unverif.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves shares below it as bob
gw_file_prefix=smbgw-uv-$$
started=$SECONDS
check="/usr/bin/python3 $top/tests/lib/eve_check.py"
psexec=/usr/share/doc/python3-impacket/examples/psexec.py
schema=$top/tests/schema/suricata-eve-schema.json

export SMBGW_NETNS_PREFIX=uv$$
export SMBGW_IF_A=uva$$
export SMBGW_IF_B=uvb$$
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=$password
# Encryption when the client asks for it; clear sessions otherwise.
export SMBGW_SMB_ENCRYPT=if_required
# shellcheck source=scripts/gateway_lib.sh
. "$scripts/gateway_lib.sh"

strict=198.18.1.10
open=198.18.1.11
server=198.18.2.20
admin_dir=$SMBGW_NETNS_DIR/shares/admin
data_dir=$SMBGW_NETNS_DIR/shares/data
conf=$gw_work/policy.conf
socket=$gw_work/control.sock

cleanup() {
	gw_cleanup
	timeout 60 "$scripts/netns.sh" down >/dev/null 2>&1 ||
		echo "e2e-unverifiable: teardown failed" >&2
	rm -rf "$gw_work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: e2e-unverifiable: $*"
	if [ -n "${gw_log:-}" ] && [ -s "$gw_log" ]; then
		echo "-- gateway output (last 30 lines)"
		tail -n 30 "$gw_log" | sed 's/^/  gateway| /'
	fi
	exit 1
}


# write_conf UNVERIFIABLE_LINE: the gateway's configuration.
write_conf() {
	cat >"$conf" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_af_packet0", "net_af_packet1" ];
  workers = 1;
  stats_interval = 0;
};
flows: { max_flows = 65536; sessions = 256; };
control: { socket = "$socket"; };
output: { eve = "$gw_work/eve-$run.json"; };
policy: {
  default_action = "allow"; deny_action = "reset";
  $1
  segments = (
    { name = "strict"; prefixes = [ "$strict/32" ]; },
    { name = "open"; prefixes = [ "$open/32" ]; },
    { name = "servers"; prefixes = [ "198.18.2.0/24" ]; }
  );
  rules = (
    { from = "strict"; to = "servers"; action = "deny"; share_class = "admin_share"; },
    { from = "strict"; to = "servers"; action = "allow"; },
    { from = "open"; to = "servers"; action = "allow"; }
  );
};
CONF
	gw_check_config "$conf" >"$gw_work/check.out" 2>&1 ||
		{ cat "$gw_work/check.out"; fail "smbgw --check-config refuses the configuration"; }
}

start_gateway() {
	gw_log=$gw_work/gateway-$run.log
	step "gateway ($run): $gw_binary on $conf"
	gw_start_with_config "$gw_log" "$conf"
	gw_wait_forwarding client 30 "$server" ||
		fail "no TCP connection from $strict to $server:445 through the gateway within 30 s"
	for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
}

stop_gateway() {
	local id0 id1
	if gw_stop 20; then
		ok "$run: gateway exited 0 on SIGTERM"
	else
		bad "$run: gateway exited with status $gw_status" "$gw_log"
	fi
	read -r id0 <<<"$(counters_row "$gw_log" "final counters" net_af_packet0 rx=tx+drop)"
	read -r id1 <<<"$(counters_row "$gw_log" "final counters" net_af_packet1 rx=tx+drop)"
	[ "$id0" = ok ] && [ "$id1" = ok ] && ok "$run: final counters rx=tx+drop ok" ||
		bad "$run: final counters rx=tx+drop '$id0' / '$id1'" "$gw_log"
	grep '^policy:' "$gw_log" | sed 's/^/      /' || true
}

# smb HOST USER SHARE CMD OUT [OPTIONS...]: smbclient //server/SHARE.
smb() {
	local host=$1 user=$2 share=$3 cmd=$4 out=$5
	shift 5
	"$scripts/netns.sh" exec "$host" timeout 30 smbclient "//$server/$share" \
		-U "$user%$password" "$@" -c "$cmd" >"$out" 2>&1 </dev/null
}

# stat_of KEY: the policy or parsers counter KEY from smbgwctl --json stats.
stat_of() {
	timeout 10 "$ctl_binary" -s "$socket" --json stats >"$gw_work/stats.json" 2>&1 || true
	/usr/bin/python3 - "$gw_work/stats.json" "$1" <<'PY'
import json, sys
try:
    result = json.load(open(sys.argv[1]))["result"]
    group, key = sys.argv[2].split(".")
    print(result[group][key])
except Exception:
    print("?")
PY
}

# sealed_verdict SRC: "policy check SRC server 445"'s sealed_session.
sealed_verdict() {
	timeout 10 "$ctl_binary" -s "$socket" --json policy check "$1" "$server" 445 \
		>"$gw_work/check.json" 2>&1 || true
	/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["result"].get("sealed_session", "-"))' \
		"$gw_work/check.json" 2>/dev/null || echo "?"
}

eve_alert() {	# eve_alert KEY=VALUE...: a new 9000009 alert with them
	$check "$gw_work/eve-$run.json" alert 9000009 "$@" >/dev/null
}

[ -x "$gw_binary" ] || fail "no gateway binary at $gw_binary"
[ -x "$ctl_binary" ] || fail "no smbgwctl binary at $ctl_binary"
for tool in smbd ethtool ip sha256sum; do
	command -v "$tool" >/dev/null || fail "missing $tool (see tests/e2e/README.md)"
done

step "topology: strict $strict, open $open -- $SMBGW_IF_A [gateway] $SMBGW_IF_B -- server $server (smb encrypt if_required)"
timeout 60 "$scripts/netns.sh" up --hosts 3 >"$gw_work/netns.log" 2>&1 </dev/null ||
	{ cat "$gw_work/netns.log"; fail "topology did not come up"; }
head -c 1M /dev/urandom >"$gw_work/evil.exe"
head -c 2M /dev/urandom >"$gw_work/up.bin"
head -c 2M /dev/urandom >"$data_dir/down.bin"
evil_sum=$(sha256sum <"$gw_work/evil.exe")
up_sum=$(sha256sum <"$gw_work/up.bin")
down_sum=$(sha256sum <"$data_dir/down.bin")

# ---------------------------------------------------------------------------
run=A
write_conf ""
start_gateway

v_strict=$(sealed_verdict $strict)
v_open=$(sealed_verdict $open)
[ "$v_strict" = deny ] && [ "$v_open" = - ] &&
	ok "A: smbgwctl policy check: a sealed session strict -> server gets deny, open -> server has no SMB-level rules" ||
	bad "A: smbgwctl policy check sealed_session: strict '$v_strict', open '$v_open'" "$gw_work/check.json"

step "A.a: strict: encrypted put of evil.exe to //$server/ADMIN\$ (deny admin_share, default unverifiable_action)"
rc=0
smb client root 'ADMIN$' "put $gw_work/evil.exe evil.exe" "$gw_work/Aa.log" \
	--client-protection=encrypt || rc=$?
sed 's/^/      smbclient| /' "$gw_work/Aa.log" | tail -n 5
if [ -e "$admin_dir/evil.exe" ]; then
	bad "A.a: evil.exe reached the server's ADMIN\$ ($(stat -c %s "$admin_dir/evil.exe") bytes)"
elif [ "$rc" -eq 0 ]; then
	bad "A.a: smbclient reported success, though no file appeared" "$gw_work/Aa.log"
elif grep -q 'NT_STATUS_CONNECTION_\(RESET\|DISCONNECTED\|ABORTED\)\|NT_STATUS_END_OF_FILE\|NT_STATUS_IO_TIMEOUT' "$gw_work/Aa.log"; then
	ok "A.a: refused ($(grep -o 'NT_STATUS_[A-Z_]*' "$gw_work/Aa.log" | sort -u | tr '\n' ' ')), no evil.exe on the server"
else
	bad "A.a: no file on the server, but smbclient failed otherwise (exit $rc)" "$gw_work/Aa.log"
fi

step "A.b: strict: unencrypted get from //$server/data"
rm -f "$gw_work/Ab.bin"
if smb client bob data "get down.bin $gw_work/Ab.bin" "$gw_work/Ab.log" &&
	[ "$(sha256sum <"$gw_work/Ab.bin")" = "$down_sum" ]; then
	ok "A.b: strict's clear session on data works, sha256 equal"
else
	bad "A.b: strict could not get down.bin in the clear" "$gw_work/Ab.log"
fi

step "A.c: open: encrypted put and get on //$server/data (allow rules only)"
rm -f "$gw_work/Ac.bin" "$data_dir/up.bin"
if smb client2 bob data "put $gw_work/up.bin up.bin; get down.bin $gw_work/Ac.bin" \
	"$gw_work/Ac.log" --client-protection=encrypt; then
	up_got=$(sha256sum <"$data_dir/up.bin" 2>/dev/null || echo missing)
	down_got=$(sha256sum <"$gw_work/Ac.bin" 2>/dev/null || echo missing)
	if [ "$up_got" = "$up_sum" ] && [ "$down_got" = "$down_sum" ]; then
		ok "A.c: open's encrypted copy went through both ways, sha256 equal"
	else
		bad "A.c: sha256 differs: up ${up_got:0:16}, down ${down_got:0:16}"
	fi
else
	bad "A.c: open's encrypted copy failed" "$gw_work/Ac.log"
fi

if [ -r "$psexec" ]; then
	step "A.e: strict: psexec.py root@$server (impacket seals the session when Samba allows it)"
	"$scripts/netns.sh" exec client timeout 60 /usr/bin/python3 "$psexec" \
		"root:$password@$server" cmd >"$gw_work/Ae.log" 2>&1 </dev/null || true
	sed 's/^/      psexec| /' "$gw_work/Ae.log" | tail -n 4
	if grep -q 'Uploading file' "$gw_work/Ae.log"; then
		bad "A.e: psexec.py uploaded its executable over a sealed session"
	elif ls "$admin_dir"/*.exe >/dev/null 2>&1; then
		bad "A.e: an executable appeared in ADMIN\$: $(ls "$admin_dir")"
	else
		ok "A.e: psexec.py did not upload"
	fi
fi

step "A.d: counters and alerts"
want_denied=1
[ ! -r "$psexec" ] || want_denied=2
denied=$(stat_of policy.unverifiable_denied)
allowed=$(stat_of policy.unverifiable_allowed)
encrypted=$(stat_of parsers.encrypted)
if [[ $denied =~ ^[0-9]+$ ]] && [ "$denied" -ge "$want_denied" ] && [ "$allowed" = 0 ] &&
	[[ $encrypted =~ ^[0-9]+$ ]] && [ "$encrypted" -gt 0 ]; then
	ok "A.d: smbgwctl stats: unverifiable_denied $denied (>= $want_denied), unverifiable_allowed 0, encrypted records $encrypted"
else
	bad "A.d: smbgwctl stats: unverifiable_denied '$denied', unverifiable_allowed '$allowed', encrypted '$encrypted'" "$gw_work/stats.json"
fi
if eve_alert alert.policy_action=blocked src_ip=$strict smb.ntlmssp.user=root smb.auth=ntlm \
	evidence.unverifiable=encrypted; then
	ok "A.d: EVE alert 9000009 denied, naming root and NTLM"
else
	bad "A.d: no EVE alert 9000009 denied with root and ntlm" "$gw_work/eve-A.json"
fi
if grep -q "\"src_ip\":\"$open\".*\"smb\":{.*\"encrypted\":true" "$gw_work/eve-A.json"; then
	ok "A.d: the open client's copy was sealed (its encrypted-session record is in the EVE log)"
else
	bad "A.d: no sealed record from the open client: was its copy encrypted?" "$gw_work/eve-A.json"
fi
if eve_alert src_ip=$open; then
	bad "A.d: alert 9000009 for the open client, whose pair has no SMB-level rule"
else
	ok "A.d: no 9000009 for the open client"
fi
stop_gateway
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null && [ -r "$schema" ]; then
	$check "$gw_work/eve-A.json" schema "$schema" >"$gw_work/schema.out" &&
		ok "A: every record fits Suricata's schema ($(cat "$gw_work/schema.out"))" ||
		bad "A: records that do not fit Suricata's schema" "$gw_work/schema.out"
else
	echo "        skipped: schema check (no python3-jsonschema or no $schema)"
fi

# ---------------------------------------------------------------------------
run=B
write_conf 'unverifiable_action = "allow";'
start_gateway

v_strict=$(sealed_verdict $strict)
[ "$v_strict" = allow ] && ok "B: smbgwctl policy check: a sealed session strict -> server gets allow" ||
	bad "B: smbgwctl policy check sealed_session: strict '$v_strict'" "$gw_work/check.json"

step "B: strict: encrypted put of evil.exe to //$server/ADMIN\$ with unverifiable_action = \"allow\""
rm -f "$admin_dir/evil.exe"
if smb client root 'ADMIN$' "put $gw_work/evil.exe evil.exe" "$gw_work/B.log" \
	--client-protection=encrypt &&
	[ "$(sha256sum <"$admin_dir/evil.exe" 2>/dev/null)" = "$evil_sum" ]; then
	ok "B: the encrypted put reached ADMIN\$, sha256 equal"
else
	bad "B: the encrypted put to ADMIN\$ failed" "$gw_work/B.log"
fi
allowed=$(stat_of policy.unverifiable_allowed)
denied=$(stat_of policy.unverifiable_denied)
if [[ $allowed =~ ^[0-9]+$ ]] && [ "$allowed" -ge 1 ] && [ "$denied" = 0 ]; then
	ok "B: smbgwctl stats: unverifiable_allowed $allowed, unverifiable_denied 0"
else
	bad "B: smbgwctl stats: unverifiable_allowed '$allowed', unverifiable_denied '$denied'" "$gw_work/stats.json"
fi
if eve_alert alert.policy_action=allowed src_ip=$strict smb.ntlmssp.user=root smb.auth=ntlm; then
	ok "B: EVE alert 9000009 allowed, naming root and NTLM"
else
	bad "B: no EVE alert 9000009 allowed with root and ntlm" "$gw_work/eve-B.json"
fi
stop_gateway

echo
if [ "${#failures[@]}" -eq 0 ]; then
	echo "PASS: e2e-unverifiable ($checks checks, $((SECONDS - started)) s)"
	exit 0
fi
echo "FAIL: e2e-unverifiable: ${#failures[@]} of $checks checks failed:"
for f in "${failures[@]}"; do
	echo "  - $f"
done
exit 1
