#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Makes the captures of tests/pcaps taken from a real QUIC stack (ngtcp2's
# example client and server, Debian ngtcp2-client / ngtcp2-server, GnuTLS):
#
#   quic_ngtcp2_h3.pcap      an HTTP/3 request over QUIC v1 on UDP 443
#
# (ngtcp2 0.12 knows QUIC v2 only as a draft version: v2 Initials are
# built by make_quic_captures.py, and tshark reads them.)
#
# They are what SMB over QUIC is told from: the same port, the same
# protection, another ALPN ("h3"). The reader must read their hello and
# find no "smb".
#
# usage: make_quic_ngtcp2_captures.sh [OUTDIR]   (root; default: this
# directory). Uses namespaces qcap-client and qcap-server joined by a
# veth pair (client 198.18.16.10, server 198.18.2.20) and removes them on
# exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
work=$(mktemp -d /tmp/smbgw-quiccap.XXXXXX)
client_ns=qcap-client
server_ns=qcap-server

cleanup() {
	local pid
	for pid in $(cat "$work"/*.pid 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	ip netns del "$client_ns" 2>/dev/null || true
	ip netns del "$server_ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

for tool in gtlsclient gtlsserver tcpdump openssl; do
	command -v "$tool" >/dev/null || {
		echo "missing $tool (scripts/deps.sh installs it)" >&2
		exit 1
	}
done

ip netns add "$client_ns"
ip netns add "$server_ns"
ip link add qcapc type veth peer name qcaps
ip link set qcapc netns "$client_ns"
ip link set qcaps netns "$server_ns"
ip -n "$client_ns" addr add 198.18.16.10/15 dev qcapc
ip -n "$server_ns" addr add 198.18.2.20/15 dev qcaps
for ns in "$client_ns" "$server_ns"; do
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n "$client_ns" link set qcapc up
ip -n "$server_ns" link set qcaps up

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$work/key.pem" -out "$work/cert.pem" -days 3650 \
	-subj /CN=www.corp.example 2>/dev/null
mkdir -p "$work/htdocs"
echo "hello over QUIC" > "$work/htdocs/index.html"
ip netns exec "$server_ns" gtlsserver -q -d "$work/htdocs" 198.18.2.20 443 \
	"$work/key.pem" "$work/cert.pem" > "$work/server.log" 2>&1 &
echo $! > "$work/server.pid"
sleep 1

# capture NAME CLIENT_ARGS...: one request, its packets in OUT/NAME.
capture() {
	local name=$1 pid
	shift
	ip netns exec "$client_ns" tcpdump -q -U -i qcapc -w "$work/$name" \
		udp > /dev/null 2>&1 &
	pid=$!
	sleep 1
	ip netns exec "$client_ns" timeout 20 gtlsclient -q \
		--exit-on-all-streams-close "$@" 198.18.2.20 443 \
		https://www.corp.example/index.html > "$work/client.log" 2>&1 ||
		{ cat "$work/client.log" >&2; kill "$pid"; exit 1; }
	sleep 1
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	cp "$work/$name" "$out/$name"
	echo "wrote $out/$name"
}

capture quic_ngtcp2_h3.pcap --sni=www.corp.example
