#!/bin/bash
# Makes tests/pcaps/busy_rpc_smb3.pcap and its manifest: busy_rpc.py (300
# files and 8 named pipes open on one connection) against the Samba server
# of the netns.sh topology, captured on the server's interface. The two
# gateway ports are joined by a Linux bridge in the root namespace: no
# gateway takes part. Needs root, smbd, tcpdump and python3-impacket.
# usage: make_busy_rpc_pcap.sh OUT.pcap OUT.json
set -euo pipefail

out_pcap=$(realpath "$1")
out_json=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
netns=$here/../../scripts/netns.sh

export SMBGW_NETNS_PREFIX=${SMBGW_NETNS_PREFIX:-bg15}
export SMBGW_IF_A=${SMBGW_IF_A:-bg15a0}
export SMBGW_IF_B=${SMBGW_IF_B:-bg15b0}
export SMBGW_NETNS_DIR=${SMBGW_NETNS_DIR:-/tmp/bg15-netns}
# Impacket's SMB 3 client seals everything under Samba's default.
export SMBGW_SMB_ENCRYPT=off
bridge=${SMBGW_NETNS_PREFIX}br0
password=${SMBGW_PASSWORD:-Smbgw-pass1}
ns_server=$SMBGW_NETNS_PREFIX-server
ns_client=$SMBGW_NETNS_PREFIX-client
dump_pid=""

cleanup() {
	[ -n "$dump_pid" ] && kill "$dump_pid" 2>/dev/null || true
	ip link del "$bridge" 2>/dev/null || true
	"$netns" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$netns" up
ip link add "$bridge" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
sysctl -qw "net.ipv6.conf.$bridge.disable_ipv6=1"
ip link set "$SMBGW_IF_A" master "$bridge"
ip link set "$SMBGW_IF_B" master "$bridge"
ip link set "$bridge" up
ip netns exec "$ns_server" tcpdump -i eth0 -s 0 -U -w "$out_pcap" \
	'tcp port 445' 2>/dev/null &
dump_pid=$!
sleep 1
ip netns exec "$ns_client" /usr/bin/python3 "$here/busy_rpc.py" \
	198.18.2.20 root "$password" "$out_json"
sleep 1
kill "$dump_pid"
wait "$dump_pid" || true
dump_pid=""
capinfos -c -s "$out_pcap"
