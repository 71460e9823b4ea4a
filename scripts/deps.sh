#!/bin/bash
# Installs the Debian packages smbgw builds and tests with, when missing.
# Run as root on Debian 12; as another user it only reports what is missing.
set -euo pipefail

packages=(
	# build
	build-essential meson ninja-build pkg-config
	dpdk dpdk-dev libdpdk-dev libconfig-dev libhyperscan-dev libpcap-dev
	libcmocka-dev
	# SMB over QUIC: the client Initial's keys and protection (OpenSSL)
	libssl-dev
	# EVE and report counters to Redis; the e2e Redis and its CLI
	libhiredis-dev redis-server redis-tools
	# reference LZ77+Huffman (XPRESS) codec for the xca unit test
	libwim-dev
	# fuzzing and sanitizers
	clang libclang-rt-14-dev
	# test hosts and the reference dissector
	samba smbclient python3 python3-impacket tshark iproute2 ethtool procps
	# an Active Directory DC (scripts/samba_dc.sh): the endpoint mapper and
	# DCE/RPC over TCP; tcprewrite for rewritten captures. The schema and
	# templates `samba-tool domain provision` reads are samba-ad-provision,
	# only recommended by samba-ad-dc (not installed below)
	samba-ad-dc samba-ad-provision tcpreplay
	python3-jsonschema
	# EVE checks: the report rebuilt with jq; the syslog collector
	jq rsyslog
	util-linux passwd coreutils
	# the evasion suite: a TCP/IP client of its own, the client's kernel
	# kept from resetting its connections, captures to replay
	python3-scapy nftables tcpdump
	# SMB over QUIC captures: Initial packets built to RFC 9001, and a real
	# QUIC client and server (ngtcp2) for the other protocols on UDP 443
	python3-cryptography ngtcp2-client ngtcp2-server
	# link-type captures: conversions (tcprewrite; editcap comes with
	# tshark) and EVE records compared
	tcpreplay jq
	# modprobe sch_netem (e2e-netem)
	kmod
	# benchmarks
	valgrind
	# supervision tests: systemd-analyze verify of conf/smbgw.service
	systemd
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages (install as root): ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the default (no) is fine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
