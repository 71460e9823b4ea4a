#!/bin/bash
# Test topology for the gateway: hosts in network namespaces, joined through
# two veth ends left in the root namespace for the gateway's af_packet ports.
#
# Default layout:
#
#   client  198.18.1.10 ─┐                                      ┌─ server 198.18.2.20
#   client2 198.18.1.11 ─┼─ switch ── IF_A ═ gateway ═ IF_B ──┘  (smbd: data, ADMIN$, C$)
#   ...                  ┘  (bridge)  (root namespace)
#
# Policy layout (--layout policy): a switch on each side, and a second
# workstation with its own smbd behind IF_B, so workstation-to-workstation
# SMB crosses the gateway:
#
#   ws1 (client) 198.18.1.10 ─┐                                    ┌─ server 198.18.2.20
#   [client2..   198.18.1.11] ─┼─ switch ── IF_A ═ gw ═ IF_B ── switchb ─┤  (data, ADMIN$, C$)
#   [mgmt        198.18.1.50] ─┘                                    └─ ws2 198.18.3.30
#                                                                      (smbd: data, ADMIN$)
#
# usage: netns.sh up [--hosts N] [--layout default|policy] [--mgmt]
#          --hosts N   N hosts on IF_A's side plus the server (default 2:
#                      one client and the server; 3: two workstations and
#                      the server); ws2 and mgmt come on top
#          --layout policy  adds switchb and ws2 198.18.3.30 behind IF_B
#          --mgmt      adds the management host mgmt 198.18.1.50 behind IF_A
#        netns.sh down               remove everything; safe to repeat
#        netns.sh exec HOST CMD...   run CMD in HOST: client (alias ws1),
#                                    client2.., server, ws2, mgmt, switch,
#                                    switchb
#        netns.sh env               print the settings as shell assignments
#        netns.sh status
#
# Settings (environment):
#   SMBGW_NETNS_PREFIX  namespace prefix           (default smbgw)
#   SMBGW_IF_A          client-side gateway port   (default gwa0)
#   SMBGW_IF_B          server-side gateway port   (default gwb0)
#   SMBGW_NETNS_DIR     state directory: smbd configuration, shares, logs
#                       (default /tmp/smbgw-netns.$SMBGW_NETNS_PREFIX; the
#                       server's smbd directly in it, ws2's in DIR/ws2)
#   SMBGW_PASSWORD      password of the SMB users alice, bob and root
#                       (default Smbgw-pass1)
#   SMBGW_SMB_MIN_PROTOCOL  smbd "server min protocol" (default NT1, so
#                       SMB1 clients work too)
#   SMBGW_SMB_MAX_PROTOCOL  smbd "server max protocol" (default SMB3; NT1
#                       forces SMB1 on clients that negotiate, e.g. psexec.py)
#   SMBGW_SMB_ENCRYPT   smbd "server smb encrypt" (unset: Samba's default,
#                       under which impacket's SMB3 client, e.g. psexec.py,
#                       encrypts everything after session setup; "off" keeps
#                       its trees, files and pipes visible to the gateway)
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
smb_encrypt=${SMBGW_SMB_ENCRYPT:-}

server_ip=198.18.2.20
ws2_ip=198.18.3.30
mgmt_ip=198.18.1.50
client_base=10          # client N gets 198.18.1.(9 + N)
max_clients=8
plen=15

ns_switch=$prefix-switch
ns_switch_b=$prefix-switchb
ns_server=$prefix-server
ns_ws2=$prefix-ws2
ns_mgmt=$prefix-mgmt

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

# Every namespace this prefix may own, whatever the layout and host count.
all_namespaces() {
	local i
	echo "$ns_server"
	echo "$ns_switch"
	for i in $(seq "$max_clients"); do
		client_ns "$i"
	done
	echo "$ns_mgmt"
	echo "$ns_switch_b"
	echo "$ns_ws2"
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
	case $smb_encrypt in
	"" | default | off | if_required | desired | required) ;;
	*) die "SMBGW_SMB_ENCRYPT must be default, off, if_required, desired or required" ;;
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

# make_switch NS IF: a bridge in the new namespace NS whose uplink is the
# peer of gateway port IF (created here in the root namespace). No multicast
# snooping: it would make the bridge join 224.0.0.106 and send IGMP reports
# through the gateway.
make_switch() {
	local ns=$1 gw_if=$2
	ip netns add "$ns"
	quiet_ns "$ns"
	ip link add "$gw_if" type veth peer name uplink netns "$ns"
	gateway_port "$gw_if"
	ip -n "$ns" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	ip netns exec "$ns" ethtool -K uplink tx off >/dev/null
	ip -n "$ns" link set uplink master br0 up
}

# switch_host SWITCH_NS PORT HOST_NS IP: a new host namespace whose eth0 is
# plugged into bridge port PORT of the switch.
switch_host() {
	local sw=$1 port=$2 ns=$3 addr=$4
	ip netns add "$ns"
	quiet_ns "$ns"
	ip -n "$sw" link add "$port" type veth peer name eth0 netns "$ns"
	ip netns exec "$sw" ethtool -K "$port" tx off >/dev/null
	ip -n "$sw" link set "$port" master br0 up
	host_if "$ns" eth0 "$addr"
}

ensure_unix_user() {
	id "$1" >/dev/null 2>&1 && return 0
	useradd --no-create-home --shell /usr/sbin/nologin "$1"
}

# write_smb_conf DIR IP NETBIOS_NAME ROLE: DIR/smb.conf for one smbd
# instance; everything it writes stays under DIR. ROLE server shares
# ADMIN$, C$ and data; ROLE workstation ADMIN$ and data.
write_smb_conf() {
	local dir=$1 addr=$2 name=$3 role=$4
	cat >"$dir/smb.conf" <<CONF
# smbd for the gateway tests; everything it writes stays under $dir
[global]
	netbios name = $name
	workgroup = SMBGWTEST
	server role = standalone server
	security = user
	map to guest = never
	interfaces = $addr/$plen
	bind interfaces only = yes
	smb ports = 445 139
	disable netbios = yes
	server min protocol = $min_protocol
	server max protocol = $max_protocol
	ntlm auth = ntlmv1-permitted
${smb_encrypt:+	server smb encrypt = $smb_encrypt
}	private dir = $dir/private
	lock directory = $dir/lock
	state directory = $dir/state
	cache directory = $dir/cache
	pid directory = $dir/run
	ncalrpc dir = $dir/ncalrpc
	passdb backend = tdbsam:$dir/private/passdb.tdb
	log file = $dir/log/log.%m
	log level = 1
	max log size = 0
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	usershare path =
	registry shares = no

# Shares are listed in this order; psexec.py uploads to the first writable
# one, which must be ADMIN\$ as against Windows.

[ADMIN\$]
	path = $dir/shares/admin
	read only = no
	valid users = root
CONF
	if [ "$role" = server ]; then
		cat >>"$dir/smb.conf" <<CONF

[C\$]
	path = $dir/shares/c
	read only = no
	valid users = root
CONF
	fi
	cat >>"$dir/smb.conf" <<CONF

[data]
	path = $dir/shares/data
	read only = no
	create mask = 0666
	directory mask = 0777
CONF
}

# start_smbd NS DIR IP NETBIOS_NAME ROLE GREETING: an smbd of its own in NS,
# configured, with its own passdb, private, lock, state, cache, pid,
# ncalrpc and log directories under DIR. Does not wait; see wait_smbd.
start_smbd() {
	local ns=$1 dir=$2 addr=$3 name=$4 role=$5 greeting=$6 d user
	for d in private lock state cache run ncalrpc log shares/data shares/admin shares/c; do
		mkdir -p "$dir/$d"
	done
	[ "$role" = server ] || rmdir "$dir/shares/c"
	chmod 0755 "$dir" "$dir/shares"
	chmod 0700 "$dir/private"
	chmod 1777 "$dir/shares/data"
	echo "$greeting" >"$dir/shares/data/readme.txt"
	write_smb_conf "$dir" "$addr" "$name" "$role"
	for user in alice bob root; do
		ensure_unix_user "$user"
		printf '%s\n%s\n' "$password" "$password" |
			smbpasswd -c "$dir/smb.conf" -a -s "$user" >>"$dir/log/smbpasswd.log" 2>&1 ||
			die "smbpasswd failed for $user (see $dir/log/smbpasswd.log)"
	done
	runuser -u bob -- test -w "$dir/shares/data" ||
		die "user bob cannot reach $dir/shares/data: every parent directory must be searchable (chmod o+x)"
	# The file server's users are local (tdbsam, /etc/passwd): never ask
	# a winbindd, such as an AD domain controller's running on this host
	# for other tests, which would fail their logons.
	_NO_WINBINDD=1 ip netns exec "$ns" smbd -s "$dir/smb.conf" -D
}

# wait_smbd NS IP DIR: waits (10 s at most) until smbd listens on IP:445.
wait_smbd() {
	local i
	for i in $(seq 100); do
		if [ -n "$(ip netns exec "$1" ss -Hltn "sport = :445")" ]; then
			return 0
		fi
		sleep 0.1
	done
	die "smbd did not listen on $2:445 within 10 s (logs in $3/log)"
}

up_failed() {
	if [ "$1" -ne 0 ]; then
		log "up failed, tearing down"
		cmd_down
	fi
}

cmd_up() {
	local hosts=2 layout=default mgmt=0 clients i ns
	while [ $# -gt 0 ]; do
		case $1 in
		--hosts) hosts=${2:?--hosts needs a number}; shift 2 ;;
		--hosts=*) hosts=${1#--hosts=}; shift ;;
		--layout) layout=${2:?--layout needs default or policy}; shift 2 ;;
		--layout=*) layout=${1#--layout=}; shift ;;
		--mgmt) mgmt=1; shift ;;
		*) die "up: unknown option $1" ;;
		esac
	done
	case $hosts in
	'' | *[!0-9]*) die "--hosts takes a number" ;;
	esac
	case $layout in
	default | policy) ;;
	*) die "--layout must be default or policy" ;;
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

	# Server side. Default: IF_B <-> server eth0. Policy: IF_B <-> switchb
	# uplink, one switchb port each for the server and ws2.
	if [ "$layout" = policy ]; then
		make_switch "$ns_switch_b" "$if_b"
		switch_host "$ns_switch_b" port1 "$ns_server" "$server_ip"
		switch_host "$ns_switch_b" port2 "$ns_ws2" "$ws2_ip"
		ip -n "$ns_switch_b" link set br0 up
	else
		ip netns add "$ns_server"
		quiet_ns "$ns_server"
		ip link add "$if_b" type veth peer name eth0 netns "$ns_server"
		gateway_port "$if_b"
		host_if "$ns_server" eth0 "$server_ip"
	fi

	# Client side: IF_A <-> switch uplink, then one switch port per client
	# (and mgmt).
	make_switch "$ns_switch" "$if_a"
	for i in $(seq "$clients"); do
		switch_host "$ns_switch" "port$i" "$(client_ns "$i")" "$(client_ip "$i")"
	done
	if [ "$mgmt" = 1 ]; then
		switch_host "$ns_switch" portmgmt "$ns_mgmt" "$mgmt_ip"
	fi
	ip -n "$ns_switch" link set br0 up

	start_smbd "$ns_server" "$state" "$server_ip" FILESRV server "hello from the file server"
	if [ "$layout" = policy ]; then
		mkdir -p "$state/ws2"
		start_smbd "$ns_ws2" "$state/ws2" "$ws2_ip" WS2 workstation "hello from ws2"
	fi
	wait_smbd "$ns_server" "$server_ip" "$state"
	if [ "$layout" = policy ]; then
		wait_smbd "$ns_ws2" "$ws2_ip" "$state/ws2"
	fi
	{
		echo "hosts=$hosts"
		echo "layout=$layout"
		echo "mgmt=$mgmt"
	} >"$state/topology"
	trap - EXIT
	if [ "$layout" = policy ]; then
		log "up (policy): $clients workstation(s)$([ "$mgmt" = 1 ] && echo " and mgmt $mgmt_ip") on $if_a;" \
			"server $server_ip and ws2 $ws2_ip on $if_b; state in $state"
	else
		log "up: $clients client(s)$([ "$mgmt" = 1 ] && echo " and mgmt $mgmt_ip") on $if_a," \
			"server $server_ip on $if_b; state in $state"
	fi
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
	local host=${1:?exec needs a host: client (ws1), client2.., server, ws2, mgmt, switch, switchb}
	shift
	[ $# -gt 0 ] || die "exec needs a command"
	case $host in
	ws1) host=client ;;
	esac
	ns_exists "$prefix-$host" || die "no namespace $prefix-$host (is the topology up?)"
	exec ip netns exec "$prefix-$host" "$@"
}

cmd_env() {
	local hosts=2 layout=default mgmt=0 i
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
	echo "SMBGW_LAYOUT=$layout"
	if [ "$layout" = policy ]; then
		echo "SMBGW_WS1_IP=$(client_ip 1)"
		echo "SMBGW_WS2_IP=$ws2_ip"
		echo "SMBGW_WS2_DIR=$state/ws2"
	fi
	if [ "$mgmt" = 1 ]; then
		echo "SMBGW_MGMT_IP=$mgmt_ip"
	fi
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
