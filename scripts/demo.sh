#!/bin/bash
# `make demo`: a real SMB session through the gateway.
# A client and a Samba file server in network namespaces, the gateway
# bridging them over two af_packet ports; smbclient lists the shares, puts a
# file and gets another; then the gateway stops and prints its counters.
# Everything is torn down at the end, also on failure or Ctrl-C.
#
# usage: demo.sh [SMBGW_BINARY]      (default: build/app/smbgw; must run as root)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

gw_binary=${1:-$top/build/app/smbgw}
# The demo changes directory; a relative path must still find the binary.
case $gw_binary in */*) gw_binary=$(realpath "$gw_binary") ;; esac
gw_work=$(mktemp -d /tmp/smbgw-demo.XXXXXX)
chmod 0711 "$gw_work"   # smbd serves a share below it as bob
gw_file_prefix=smbgw-demo-$$

export SMBGW_NETNS_PREFIX=${SMBGW_NETNS_PREFIX:-smbgw-demo}
export SMBGW_IF_A=${SMBGW_IF_A:-demoa0}
export SMBGW_IF_B=${SMBGW_IF_B:-demob0}
export SMBGW_NETNS_DIR=$gw_work/netns
export SMBGW_PASSWORD=${SMBGW_PASSWORD:-Smbgw-demo1}
export SMBGW_DEFAULT_CONFIG=1
# psexec.py would otherwise seal its session, and the demo is about what
# the gateway sees.
export SMBGW_SMB_ENCRYPT=off
# shellcheck source=scripts/gateway_lib.sh
. "$here/gateway_lib.sh"

section() {
	printf '\n== %s ==\n' "$*"
}

cleanup() {
	status=$?
	section "Teardown"
	gw_cleanup
	timeout 60 "$here/netns.sh" down && echo "namespaces, veths and smbd removed"
	rm -rf "$gw_work"
	if [ "$status" -eq 0 ]; then
		echo "demo finished"
	else
		echo "demo FAILED (status $status)"
	fi
}

die() {
	echo "error: $*" >&2
	if [ -s "${gw_log:-$gw_work/gateway.log}" ]; then
		echo "gateway output:" >&2
		tail -n 20 "${gw_log:-$gw_work/gateway.log}" | sed 's/^/  | /' >&2
	fi
	exit 1
}

smb() {
	"$here/netns.sh" exec client timeout 60 \
		smbclient //198.18.2.20/data -U "bob%$SMBGW_PASSWORD" "$@"
}

[ "$(id -u)" -eq 0 ] || { echo "demo.sh must run as root" >&2; exit 1; }
[ -x "$gw_binary" ] || command -v "$gw_binary" >/dev/null ||
	{ echo "no gateway binary at $gw_binary (build first)" >&2; exit 1; }
trap cleanup EXIT
trap 'exit 130' INT TERM

section "Topology"
timeout 60 "$here/netns.sh" up >"$gw_work/netns.log" 2>&1 ||
	{ cat "$gw_work/netns.log"; die "could not set up the namespaces"; }
cat <<EOF
  client 198.18.1.10 --[$SMBGW_IF_A]-- gateway --[$SMBGW_IF_B]-- file server 198.18.2.20
  (network namespaces $SMBGW_NETNS_PREFIX-client and $SMBGW_NETNS_PREFIX-server;
   smbd shares ADMIN\$, C\$ and data; users alice, bob, root)
EOF

section "Gateway"
gw_start "$gw_work/gateway.log"
echo "  $(basename "$gw_binary") on net_af_packet0 ($SMBGW_IF_A) and net_af_packet1 ($SMBGW_IF_B), pid $gw_pid"
gw_wait_forwarding client 30 || die "the gateway does not forward (no TCP connection to 198.18.2.20:445)"
echo "  forwarding: the client reaches 198.18.2.20:445 through it"

section "SMB session through the gateway (smbclient as bob)"
cd "$gw_work"
echo "\$ smbclient -L //198.18.2.20"
"$here/netns.sh" exec client timeout 60 smbclient -L //198.18.2.20 \
	-U "bob%$SMBGW_PASSWORD" 2>&1 | sed -e '/^[[:space:]]*$/d' -e '/SMB1 disabled/d' -e 's/^/  /'

head -c 2M /dev/urandom >"$gw_work/report.bin"
head -c 3M /dev/urandom >"$SMBGW_NETNS_DIR/shares/data/archive.bin"
chmod 0644 "$SMBGW_NETNS_DIR/shares/data/archive.bin"
for command in 'put report.bin' 'get archive.bin' 'ls'; do
	echo "\$ smbclient //198.18.2.20/data -c '$command'"
	smb -c "$command" 2>&1 | sed -e '/^[[:space:]]*$/d' -e 's/^/  /'
done

check() {
	if [ "$(sha256sum <"$2")" = "$(sha256sum <"$3")" ]; then
		echo "  $1: sha256 equal"
	else
		die "$1: file differs after the copy"
	fi
}
echo
check "report.bin  (2 MB up)  " "$gw_work/report.bin" "$SMBGW_NETNS_DIR/shares/data/report.bin"
check "archive.bin (3 MB down)" "$SMBGW_NETNS_DIR/shares/data/archive.bin" "$gw_work/archive.bin"

section "Lateral movement through the gateway (psexec.py as root)"
psexec=/usr/share/doc/python3-impacket/examples/psexec.py
echo "\$ psexec.py root@198.18.2.20 cmd"
"$here/netns.sh" exec client timeout 60 /usr/bin/python3 "$psexec" \
	"root:$SMBGW_PASSWORD@198.18.2.20" cmd </dev/null 2>&1 |
	grep -v '^Impacket\|^$' | sed 's/^/  /' || true
echo "  (Samba cannot run Windows services: the service creation fails, as"
echo "   intended; everything before it crossed the gateway)"

gw_stop 20 || die "the gateway did not exit cleanly (status $gw_status)"
summary() {	# summary FROM TO: the gateway's final output between two headings
	sed -n "/^$1/,/^$2/p" "$gw_work/gateway.log" | sed '1d;$d' | sed 's/^/  /'
}

section "Gateway counters (printed on exit)"
summary '== final counters ==' '== SMB and DCE\/RPC flows =='
echo "  exit status $gw_status"

section "SMB flows it recognised"
summary '== SMB and DCE\/RPC flows ==' '== alerts =='

section "Alerts"
summary '== alerts ==' '== SMB traffic allowed (report) =='

section "Today's report: SMB traffic allowed per source/destination pair"
sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$gw_work/gateway.log" | sed '1d; s/^/  /'

section "Blocking: the gateway again, now with a segment-pair policy"
cat >"$gw_work/policy.conf" <<CONF
gateway: { ports = [ "net_af_packet0", "net_af_packet1" ]; stats_interval = 0; };
control: { socket = "$gw_work/smbgw.sock"; };
policy: {
  mode = "enforce";
  default_action = "allow";
  deny_action = "reset";
  segments = (
    { name = "workstations"; prefixes = [ "198.18.1.0/24" ]; },
    { name = "file-servers"; prefixes = [ "198.18.2.0/24" ]; }
  );
  rules = (
    # Workstations use file shares, never admin shares.
    { name = "no-admin-shares"; from = "workstations"; to = "file-servers";
      action = "deny"; share_class = "admin_share"; },
    { name = "file-service"; from = "workstations"; to = "file-servers";
      action = "allow"; }
  );
};
CONF
sed -n '/^policy/,$p' "$gw_work/policy.conf" | sed 's/^/  /'
gw_log=$gw_work/gateway2.log
gw_start_with_config "$gw_log" "$gw_work/policy.conf"
gw_wait_forwarding client 30 || die "the gateway does not forward"
smbgwctl=$(dirname "$gw_binary")/smbgwctl
if [ -x "$smbgwctl" ]; then
	echo "\$ smbgwctl policy check 198.18.1.10 198.18.2.20 445"
	"$smbgwctl" -s "$gw_work/smbgw.sock" policy check 198.18.1.10 198.18.2.20 445 | sed 's/^/  /'
fi
echo "\$ smbclient //198.18.2.20/data -c 'get archive.bin'   (allowed)"
smb -c 'get archive.bin' 2>&1 | sed -e '/^[[:space:]]*$/d' -e 's/^/  /'
echo "\$ psexec.py root@198.18.2.20 cmd   (its TREE_CONNECT to ADMIN\$ is denied)"
"$here/netns.sh" exec client timeout 60 /usr/bin/python3 "$psexec" \
	"root:$SMBGW_PASSWORD@198.18.2.20" cmd </dev/null 2>&1 |
	grep -v '^Impacket\|^$' | sed 's/^/  /' || true
echo "\$ smbclient //198.18.2.20/data -c 'ls'   (the same client, still served)"
smb -c 'ls' 2>&1 | sed -e '/^[[:space:]]*$/d' -e 's/^/  /'
gw_stop 20 || die "the gateway did not exit cleanly (status $gw_status)"
echo
echo "  What the gateway counted (policy column: frames dropped by the policy):"
sed -n '/^== final counters ==/,/^decoded:/p' "$gw_log" | sed '1d;$d; s/^/  /'
grep '^policy:' "$gw_log" | sed 's/^/  /'
sed -n '/^== SMB traffic allowed (report) ==$/,$p' "$gw_log" | sed '1d; s/^/  /'
