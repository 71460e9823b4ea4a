#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Makes the captures of tests/pcaps that cover SMB1 dialects and capture
# link types (tests/pcaps/README.md says what each holds):
#
#   smb1_many_dialects.pcap       an SMB1 client offering 13 dialect strings
#   smb1_nt_lanman.pcap           a session negotiating only "NT LANMAN 1.0",
#                                 on the client's eth0 (Ethernet)
#   smb1_nt_lanman_sll.pcap       the same session at the same time with
#   smb1_nt_lanman_sll2.pcap      tcpdump -i any (LINUX_SLL, LINUX_SLL2)
#   psexec_smb2_null.pcap         psexec_smb2.pcap as BSD loopback (NULL)
#                                 and raw IP, converted with tcprewrite and
#   psexec_smb2_raw.pcap          editcap
#   two_links.pcapng              smb2_basic.pcap (Ethernet) and
#                                 smb1_nt_lanman_sll2.pcap merged: one
#                                 pcapng, two interfaces, two link types
#
# usage: make_link_captures.sh [OUTDIR]   (root; default: this directory)
# Needs what scripts/deps.sh installs (samba, tcpdump, python3-impacket,
# tcpreplay, wireshark-common). Uses its own namespaces (prefix lkcap,
# SMBGW_NETNS_PREFIX to change) joined by a bridge in the root namespace
# in place of the gateway, and removes everything on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
netns=$here/../../scripts/netns.sh
client=$here/smb1_dialects_client.py
export SMBGW_NETNS_PREFIX=${SMBGW_NETNS_PREFIX:-lkcap}
export SMBGW_IF_A=${SMBGW_NETNS_PREFIX}a0
export SMBGW_IF_B=${SMBGW_NETNS_PREFIX}b0
# SMB1 only, so that the server answers the SMB1 NEGOTIATE in SMB1.
export SMBGW_SMB_MAX_PROTOCOL=NT1
bridge=${SMBGW_NETNS_PREFIX}br0
client_ns=$SMBGW_NETNS_PREFIX-client
work=$(mktemp -d /tmp/smbgw-linkcap.XXXXXX)
password=${SMBGW_PASSWORD:-Smbgw-pass1}

cleanup() {
	local pid
	for pid in $(cat "$work"/*.pid 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	ip link del "$bridge" 2>/dev/null || true
	"$netns" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

"$netns" up
# The two gateway ports bridged: client and server talk directly.
ip link add "$bridge" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
sysctl -qw "net.ipv6.conf.$bridge.disable_ipv6=1"
ip link set "$SMBGW_IF_A" master "$bridge"
ip link set "$SMBGW_IF_B" master "$bridge"
ip link set "$bridge" up

# start_capture NAME TCPDUMP_ARGS...: tcpdump in the client namespace,
# writing $work/NAME.pcap; returns once it listens.
start_capture() {
	local name=$1 i
	shift
	ip netns exec "$client_ns" tcpdump -n -s 0 -U "$@" -w "$work/$name.pcap" \
		tcp port 445 2>"$work/$name.log" &
	echo $! >"$work/$name.pid"
	for i in $(seq 50); do
		grep -q "listening on" "$work/$name.log" && return 0
		sleep 0.1
	done
	echo "tcpdump $name did not start:" >&2
	cat "$work/$name.log" >&2
	exit 1
}

stop_captures() {
	local pid
	sleep 1
	for pid in $(cat "$work"/*.pid); do
		kill -INT "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -f "$work"/*.pid
}

run_client() {
	ip netns exec "$client_ns" /usr/bin/python3 "$client" 198.18.2.20 bob \
		"$password" "$@"
}

# More than 8 dialects: a client's full SMB1 list, the NT ones last.
start_capture smb1_many_dialects -i eth0
run_client "PC NETWORK PROGRAM 1.0" "PCLAN1.0" "MICROSOFT NETWORKS 1.03" \
	"MICROSOFT NETWORKS 3.0" "LANMAN1.0" "Windows for Workgroups 3.1a" \
	"LM1.2X002" "DOS LM1.2X002" "DOS LANMAN2.1" "LANMAN2.1" "Samba" \
	"NT LANMAN 1.0" "NT LM 0.12"
stop_captures

# "NT LANMAN 1.0" alone, captured three ways at once.
start_capture smb1_nt_lanman -i eth0
start_capture smb1_nt_lanman_sll -i any -y LINUX_SLL
start_capture smb1_nt_lanman_sll2 -i any -y LINUX_SLL2
run_client "NT LANMAN 1.0"
stop_captures

for name in smb1_many_dialects smb1_nt_lanman smb1_nt_lanman_sll smb1_nt_lanman_sll2; do
	cp "$work/$name.pcap" "$out/$name.pcap"
done
# Link-type conversions of an existing capture: NULL has a 4-byte family
# header in host order (2: IPv4); raw IP has none.
tcprewrite --dlt=user --user-dlt=0 --user-dlink=02,00,00,00 \
	-i "$here/psexec_smb2.pcap" -o "$out/psexec_smb2_null.pcap"
editcap -F pcap -C 14 -T rawip "$here/psexec_smb2.pcap" "$out/psexec_smb2_raw.pcap"
mergecap -F pcapng -w "$out/two_links.pcapng" "$here/smb2_basic.pcap" \
	"$out/smb1_nt_lanman_sll2.pcap"
ls -l "$out"/smb1_*.pcap "$out"/psexec_smb2_*.pcap "$out/two_links.pcapng"
