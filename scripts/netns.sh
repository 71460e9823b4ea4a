#!/bin/bash
# Test topology for the gateway: hosts in network namespaces, joined through
# two veth ends left in the root namespace for the gateway's af_packet ports.
#
#   client  198.18.1.10 ─┐                                      ┌─ server 198.18.2.20
#   client2 198.18.1.11 ─┼─ switch ── IF_A ═ gateway ═ IF_B ──┘  (smbd: data, ADMIN$, C$)
#   ...                  ┘  (bridge)  (root namespace)
#
# usage: netns.sh up [--hosts N]     N hosts in all, the server included
#                                    (default 2: one client and the server;
#                                    3: two workstations and the server)
#        netns.sh down               remove everything; safe to repeat
#        netns.sh exec HOST CMD...   run CMD in HOST (client, client2.., server)
#        netns.sh env               print the settings as shell assignments
#        netns.sh status
#
# Settings (environment):
#   SMBGW_NETNS_PREFIX  namespace prefix           (default smbgw)
#   SMBGW_IF_A          client-side gateway port   (default gwa0)
#   SMBGW_IF_B          server-side gateway port   (default gwb0)
#   SMBGW_NETNS_DIR     state directory: smbd configuration, shares, logs
#                       (default /tmp/smbgw-netns.$SMBGW_NETNS_PREFIX)
#   SMBGW_PASSWORD      password of the SMB users alice, bob and root
#                       (default Smbgw-pass1)
#   SMBGW_SMB_MIN_PROTOCOL  smbd "server min protocol" (default NT1, so
#                       SMB1 clients work too)
#   SMBGW_SMB_MAX_PROTOCOL  smbd "server max protocol" (default SMB3; NT1
#                       forces SMB1 on clients that negotiate, e.g. psexec.py)
#
# Only 198.18.0.0/15 addresses are used. The root namespace gets no address
# and IPv6 is disabled everywhere, so nothing but test traffic crosses the
# gateway. Different prefixes and port names allow parallel topologies.
set -euo pipefail

prefix=${SMBGW_NETNS_PREFIX:-smbgw}
if_a=${SMBGW_IF_A:-gwa0}
if_b=${SMBGW_IF_B:-gwb0}
state=${SMBGW_NETNS_DIR:-/tmp/smbgw-netns.$prefix}
password=${SMBGW_PASSWORD:-Smbgw-pass1}
min_protocol=${SMBGW_SMB_MIN_PROTOCOL:-NT1}
max_protocol=${SMBGW_SMB_MAX_PROTOCOL:-SMB3}

server_ip=198.18.2.20
client_base=10          # client N gets 198.18.1.(9 + N)
max_clients=8
plen=15

ns_switch=$prefix-switch
ns_server=$prefix-server

die() {
	echo "netns.sh: $*" >&2
	exit 1
}

log() {
	echo "netns.sh: $*" >&2
}

client_ns() {
	if [ "$1" -eq 1 ]; then
		echo "$prefix-client"
	else
		echo "$prefix-client$1"
	fi
}

client_ip() {
	echo "198.18.1.$((client_base + $1 - 1))"
}

is_veth() {
	ip -d link show dev "$1" 2>/dev/null | grep -qw veth
}

ns_exists() {
	[ -e "/run/netns/$1" ]
}

# Every namespace this prefix may own, whatever the host count was.
all_namespaces() {
	local i
	echo "$ns_server"
	echo "$ns_switch"
	for i in $(seq "$max_clients"); do
		client_ns "$i"
	done
}

check_names() {
	if [ "${#if_a}" -gt 15 ] || [ "${#if_b}" -gt 15 ]; then
		die "interface names must be at most 15 characters"
	fi
	[ "$if_a" != "$if_b" ] || die "SMBGW_IF_A and SMBGW_IF_B must differ"
	case $prefix in
	*[!A-Za-z0-9_-]* | "") die "SMBGW_NETNS_PREFIX may use only letters, digits, - and _" ;;
	esac
	case $password in
	*[%@:\'\"\\\ ]*) die "SMBGW_PASSWORD must not contain % @ : quotes, backslash or space" ;;
	esac
}

check_tools() {
	local tool
	for tool in ip ethtool smbd smbpasswd sysctl useradd runuser timeout ss; do
		command -v "$tool" >/dev/null || die "missing tool: $tool (see tests/e2e/README.md)"
	done
	[ "$(id -u)" -eq 0 ] || die "must run as root"
}

# quiet_ns NS: no IPv6 (no router/neighbour solicitations), loopback up.
quiet_ns() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

# host_if NS IF IP: an end host's interface. TX checksum offload off, or the
# segments the gateway forwards carry unfinished checksums and are dropped.
host_if() {
	ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
	ip -n "$1" addr add "$3/$plen" dev "$2"
	ip -n "$1" link set "$2" up
}

# gateway_port IF: the root-namespace end the gateway opens with af_packet.
# No address, no IPv6, no receive aggregation (frames must stay <= MTU so
# they fit af_packet's ring frames).
gateway_port() {
	sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
	ethtool -K "$1" tx off gro off >/dev/null 2>&1 || true
	ethtool -K "$1" lro off >/dev/null 2>&1 || true
	ip link set "$1" up
}

ensure_unix_user() {
	id "$1" >/dev/null 2>&1 && return 0
	useradd --no-create-home --shell /usr/sbin/nologin "$1"
}

write_smb_conf() {
	cat >"$state/smb.conf" <<CONF
# smbd for the gateway tests; everything it writes stays under $state
[global]
	netbios name = FILESRV
	workgroup = SMBGWTEST
	server role = standalone server
	security = user
	map to guest = never
	interfaces = $server_ip/$plen
	bind interfaces only = yes
	smb ports = 445 139
	disable netbios = yes
	server min protocol = $min_protocol
	server max protocol = $max_protocol
	ntlm auth = ntlmv1-permitted
	private dir = $state/private
	lock directory = $state/lock
	state directory = $state/state
	cache directory = $state/cache
	pid directory = $state/run
	ncalrpc dir = $state/ncalrpc
	passdb backend = tdbsam:$state/private/passdb.tdb
	log file = $state/log/log.%m
	log level = 1
	max log size = 0
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	usershare path =
	registry shares = no

# Shares are listed in this order; psexec.py uploads to the first writable
# one, which must be ADMIN$ as against Windows.

[ADMIN\$]
	path = $state/shares/admin
	read only = no
	valid users = root

[C\$]
	path = $state/shares/c
	read only = no
	valid users = root

[data]
	path = $state/shares/data
	read only = no
	create mask = 0666
	directory mask = 0777
CONF
}

start_smbd() {
	local d user i
	for d in private lock state cache run ncalrpc log shares/data shares/admin shares/c; do
		mkdir -p "$state/$d"
	done
	chmod 0755 "$state" "$state/shares"
	chmod 0700 "$state/private"
	chmod 1777 "$state/shares/data"
	echo "hello from the file server" >"$state/shares/data/readme.txt"
	write_smb_conf
	for user in alice bob root; do
		ensure_unix_user "$user"
		printf '%s\n%s\n' "$password" "$password" |
			smbpasswd -c "$state/smb.conf" -a -s "$user" >>"$state/log/smbpasswd.log" 2>&1 ||
			die "smbpasswd failed for $user (see $state/log/smbpasswd.log)"
	done
	runuser -u bob -- test -w "$state/shares/data" ||
		die "user bob cannot reach $state/shares/data: every parent directory must be searchable (chmod o+x)"
	ip netns exec "$ns_server" smbd -s "$state/smb.conf" -D
	for i in $(seq 100); do
		if [ -n "$(ip netns exec "$ns_server" ss -Hltn 'sport = :445')" ]; then
			return 0
		fi
		sleep 0.1
	done
	die "smbd did not listen on $server_ip:445 within 10 s (logs in $state/log)"
}

up_failed() {
	if [ "$1" -ne 0 ]; then
		log "up failed, tearing down"
		cmd_down
	fi
}

cmd_up() {
	local hosts=2 clients i ns
	while [ $# -gt 0 ]; do
		case $1 in
		--hosts) hosts=${2:?--hosts needs a number}; shift 2 ;;
		--hosts=*) hosts=${1#--hosts=}; shift ;;
		*) die "up: unknown option $1" ;;
		esac
	done
	case $hosts in
	'' | *[!0-9]*) die "--hosts takes a number" ;;
	esac
	clients=$((hosts - 1))
	if [ "$clients" -lt 1 ] || [ "$clients" -gt "$max_clients" ]; then
		die "--hosts must be 2..$((max_clients + 1))"
	fi
	check_tools
	for ns in $(all_namespaces); do
		ns_exists "$ns" && die "namespace $ns exists: run 'netns.sh down' first"
	done
	for i in "$if_a" "$if_b"; do
		if is_veth "$i"; then
			die "interface $i exists: run 'netns.sh down' first"
		elif ip link show "$i" >/dev/null 2>&1; then
			die "interface $i exists and is not a veth: choose other SMBGW_IF_A/SMBGW_IF_B"
		fi
	done

	# From here on a failure removes whatever was made.
	trap 'up_failed $?' EXIT
	mkdir -p "$state"
	: >"$state/.smbgw-netns"   # marks the directory as ours for down

	for ns in "$ns_switch" "$ns_server"; do
		ip netns add "$ns"
		quiet_ns "$ns"
	done

	# Server side: IF_B <-> server eth0.
	ip link add "$if_b" type veth peer name eth0 netns "$ns_server"
	gateway_port "$if_b"
	host_if "$ns_server" eth0 "$server_ip"

	# Client side: IF_A <-> switch uplink, then one switch port per client.
	ip link add "$if_a" type veth peer name uplink netns "$ns_switch"
	gateway_port "$if_a"
	# No multicast snooping: it would make the bridge join 224.0.0.106 and
	# send IGMP reports through the gateway.
	ip -n "$ns_switch" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	ip netns exec "$ns_switch" ethtool -K uplink tx off >/dev/null
	ip -n "$ns_switch" link set uplink master br0 up
	for i in $(seq "$clients"); do
		ns=$(client_ns "$i")
		ip netns add "$ns"
		quiet_ns "$ns"
		ip -n "$ns_switch" link add "port$i" type veth peer name eth0 netns "$ns"
		ip netns exec "$ns_switch" ethtool -K "port$i" tx off >/dev/null
		ip -n "$ns_switch" link set "port$i" master br0 up
		host_if "$ns" eth0 "$(client_ip "$i")"
	done
	ip -n "$ns_switch" link set br0 up

	start_smbd
	{
		echo "hosts=$hosts"
	} >"$state/topology"
	trap - EXIT
	log "up: $clients client(s) on $if_a, server $server_ip on $if_b; state in $state"
}

cmd_down() {
	local ns pid i
	# Every process in our namespaces (smbd, its helpers, stray clients).
	for ns in $(all_namespaces); do
		ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null || true
		done
	done
	for i in $(seq 50); do
		local left=""
		for ns in $(all_namespaces); do
			ns_exists "$ns" || continue
			left="$left$(ip netns pids "$ns" 2>/dev/null)"
		done
		[ -z "$left" ] && break
		if [ "$i" -eq 30 ]; then
			for ns in $(all_namespaces); do
				ns_exists "$ns" || continue
				for pid in $(ip netns pids "$ns" 2>/dev/null); do
					kill -KILL "$pid" 2>/dev/null || true
				done
			done
		fi
		sleep 0.1
	done
	for ns in $(all_namespaces); do
		if ns_exists "$ns"; then
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	# Deleting a namespace deletes the veth peers, but not always at once.
	# Only veths are ours: a mistyped name must not take down a real link.
	for i in "$if_a" "$if_b"; do
		if is_veth "$i"; then
			ip link del "$i" 2>/dev/null || true
		fi
	done
	for i in $(seq 50); do
		is_veth "$if_a" || is_veth "$if_b" || break
		sleep 0.1
	done
	if [ -z "${SMBGW_NETNS_KEEP:-}" ] && [ -f "$state/.smbgw-netns" ]; then
		rm -rf "$state"
	fi
	return 0
}

cmd_exec() {
	local host=${1:?exec needs a host: client, client2.., server, switch}
	shift
	[ $# -gt 0 ] || die "exec needs a command"
	ns_exists "$prefix-$host" || die "no namespace $prefix-$host (is the topology up?)"
	exec ip netns exec "$prefix-$host" "$@"
}

cmd_env() {
	local hosts=2 i
	if [ -f "$state/topology" ]; then
		# shellcheck source=/dev/null
		. "$state/topology"
	fi
	echo "SMBGW_NETNS_PREFIX=$prefix"
	echo "SMBGW_IF_A=$if_a"
	echo "SMBGW_IF_B=$if_b"
	echo "SMBGW_NETNS_DIR=$state"
	echo "SMBGW_PASSWORD=$password"
	echo "SMBGW_SERVER_IP=$server_ip"
	for i in $(seq $((hosts - 1))); do
		echo "SMBGW_CLIENT${i}_IP=$(client_ip "$i")"
	done
}

cmd_status() {
	local ns
	for ns in $(all_namespaces); do
		ns_exists "$ns" || continue
		echo "== $ns"
		ip -n "$ns" -br addr show | grep -v '^lo ' || true
		ip netns pids "$ns" | xargs -r ps -o pid=,comm= -p || true
	done
	echo "== root namespace (gateway ports)"
	ip -br link show "$if_a" 2>/dev/null || true
	ip -br link show "$if_b" 2>/dev/null || true
}

check_names
case ${1:-} in
up) shift; cmd_up "$@" ;;
down) cmd_down ;;
exec) shift; cmd_exec "$@" ;;
env) cmd_env ;;
status) cmd_status ;;
*) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 2 ;;
esac
