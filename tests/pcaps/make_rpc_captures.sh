#!/bin/bash
# Remakes the DCE/RPC-over-TCP captures of tests/pcaps (README.md): a Samba
# AD DC (scripts/samba_dc.sh) and an Impacket client in two namespaces
# joined by a veth pair, tcpdump on the client's end.
#
# usage: make_rpc_captures.sh OUTDIR      (root; about a minute)
# Namespaces ep-cap-srv / ep-cap-cli, 198.18.5.20 and 198.18.5.10; removed
# at the end. The DC state is kept in $SMBGW_DC_DIR (default
# /tmp/smbgw-capdc) so that a second run skips the provisioning.
set -euo pipefail

out=$(mkdir -p "${1:?usage: make_rpc_captures.sh OUTDIR}" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
dc=$here/../../scripts/samba_dc.sh
dcdir=${SMBGW_DC_DIR:-/tmp/smbgw-capdc}
srv=ep-cap-srv
cli=ep-cap-cli
srv_ip=198.18.5.20
cli_ip=198.18.5.10
examples=/usr/share/doc/python3-impacket/examples
py=/usr/bin/python3
creds="SMBGW/Administrator:Smbgw-pass1"

cleanup() {
	[ -n "${dump_pid:-}" ] && kill "$dump_pid" 2>/dev/null
	"$dc" stop "$dcdir" || true
	ip netns del "$cli" 2>/dev/null || true
	ip netns del "$srv" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$srv"
ip netns add "$cli"
ip link add ep-capc type veth peer name ep-caps
ip link set ep-capc netns "$cli"
ip link set ep-caps netns "$srv"
for ns in "$srv" "$cli"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip netns exec "$cli" ethtool -K ep-capc tx off >/dev/null
ip netns exec "$srv" ethtool -K ep-caps tx off >/dev/null
ip -n "$cli" addr add "$cli_ip/24" dev ep-capc
ip -n "$srv" addr add "$srv_ip/24" dev ep-caps
ip -n "$cli" link set ep-capc up
ip -n "$srv" link set ep-caps up
SMBGW_DC_PLEN=24 "$dc" start "$srv" "$srv_ip" "$dcdir"
sleep 2

# capture NAME CMD...: CMD in the client namespace, tcpdump around it.
capture() {
	local name=$1
	shift
	ip netns exec "$cli" tcpdump -i ep-capc -s 0 -U -B 65536 -w "$out/$name.pcap" \
		"host $srv_ip" 2>/dev/null &
	dump_pid=$!
	sleep 1
	echo "== $name: $*"
	ip netns exec "$cli" timeout 120 "$@" || echo "($name: exit $?)"
	sleep 1
	kill "$dump_pid"
	wait "$dump_pid" 2>/dev/null || true
	dump_pid=
}

capture rpcdump_epm "$py" "$examples/rpcdump.py" "$creds@$srv_ip"
capture rpc_tcp_epm "$py" "$here/rpc_tcp_client.py" "$srv_ip" SMBGW Administrator Smbgw-pass1
capture lookupsid_dc "$py" "$examples/lookupsid.py" "$creds@$srv_ip" 1100
capture services_dc "$py" "$examples/services.py" "$creds@$srv_ip" list
capture services_create_dc sh -c "$py $examples/services.py $creds@$srv_ip create -name smbgwsvc -display smbgwsvc -path 'C:\\Windows\\smbgw.exe'; $py $examples/services.py $creds@$srv_ip delete -name smbgwsvc"
ls -l "$out"
