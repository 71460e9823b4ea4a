#!/bin/bash
# A Samba Active Directory domain controller in a network namespace, for
# tests and captures that need what a plain smbd does not serve: the
# endpoint mapper on TCP 135 and DCE/RPC over TCP on dynamic ports
# (ncacn_ip_tcp: lsarpc, samr, netlogon, drsuapi, ...) and the Kerberos
# KDC on 88, besides SMB on 445.
#
# usage: samba_dc.sh start NS IP DIR   provision (once, kept in DIR) and
#                                      start the DC in namespace NS, bound
#                                      to IP (already on an interface of NS);
#                                      waits until 135 and 445 listen
#        samba_dc.sh stop DIR          stop the DC started with DIR
#        samba_dc.sh status DIR        exit 0 when it runs
#        samba_dc.sh env DIR           the settings as shell assignments
#
# Settings (environment, read by start):
#   SMBGW_DC_REALM     realm            (default SMBGW.TEST)
#   SMBGW_DC_DOMAIN    NetBIOS domain   (default SMBGW)
#   SMBGW_DC_PASSWORD  Administrator's password (default Smbgw-pass1; must
#                      satisfy AD complexity rules)
#   SMBGW_DC_PLEN      prefix length of IP's network (default 15)
#   SMBGW_DC_WAIT      seconds to wait for the listeners (default 60)
#   SMBGW_DC_SMB_ENCRYPT  "server smb encrypt" (default off, so that SMB3
#                      clients such as Impacket's leave trees, pipes and
#                      DCE/RPC readable; "default" is Samba's own)
#
# Provisioning takes 20-40 s; DIR keeps it, so a later start with the same
# DIR, realm and address is quick (~10 s). A DIR provisioned for another
# address is provisioned again. Everything the DC writes stays under DIR.
# Only the address given is bound ("bind interfaces only"), so several DCs
# in different namespaces do not meet. Needs root and the Debian package
# samba-ad-dc (scripts/deps.sh).
set -euo pipefail

realm=${SMBGW_DC_REALM:-SMBGW.TEST}
domain=${SMBGW_DC_DOMAIN:-SMBGW}
password=${SMBGW_DC_PASSWORD:-Smbgw-pass1}
plen=${SMBGW_DC_PLEN:-15}
wait_s=${SMBGW_DC_WAIT:-60}
smb_encrypt=${SMBGW_DC_SMB_ENCRYPT:-off}
# The KDC (Kerberos on 88) is for captures of Kerberos logons
# (make_rpc_attack_captures.sh); no DNS server, no web or print services.
server_services="s3fs rpc ldap drepl winbindd kdc"

die() {
	echo "samba_dc.sh: $*" >&2
	exit 1
}

log() {
	echo "samba_dc.sh: $*" >&2
}

check_tools() {
	local tool
	for tool in samba samba-tool ip ss timeout; do
		command -v "$tool" >/dev/null || die "missing tool: $tool (scripts/deps.sh installs samba-ad-dc)"
	done
	[ "$(id -u)" -eq 0 ] || die "must run as root"
}

pid_of() {
	local dir=$1 f
	for f in "$dir/run/samba.pid" "$dir/state/run/samba.pid"; do
		if [ -s "$f" ]; then
			cat "$f"
			return 0
		fi
	done
	return 1
}

running() {
	local pid
	pid=$(pid_of "$1") || return 1
	kill -0 "$pid" 2>/dev/null
}

# provision DIR IP: a fresh domain in DIR unless DIR already holds one for
# this realm and address.
provision() {
	local dir=$1 addr=$2
	if [ -f "$dir/provisioned" ] &&
		[ "$(cat "$dir/provisioned")" = "$realm $domain $addr $server_services" ]; then
		return 0
	fi
	log "provisioning $realm ($domain) for $addr in $dir"
	rm -rf "$dir/etc" "$dir/private" "$dir/state" "$dir/cache" "$dir/run" "$dir/log" "$dir/provisioned"
	mkdir -p "$dir/run" "$dir/log"
	# The provision must not read /etc/samba/smb.conf: an empty one of our own.
	mkdir -p "$dir/etc"
	: >"$dir/etc/empty.conf"
	samba-tool domain provision -s "$dir/etc/empty.conf" \
		--targetdir="$dir" --realm="$realm" --domain="$domain" \
		--server-role=dc --dns-backend=SAMBA_INTERNAL \
		--adminpass="$password" --host-ip="$addr" --use-rfc2307 \
		--option="interfaces=$addr/$plen" --option="bind interfaces only=yes" \
		--option="pid directory=$dir/run" \
		--option="log file=$dir/log/log.%m" \
		--option="dns forwarder=127.0.0.1" \
		--option="server services=$server_services" \
		--option="ntlm auth=ntlmv1-permitted" \
		>"$dir/log/provision.log" 2>&1 ||
		die "provision failed (see $dir/log/provision.log)"
	rm -f "$dir/etc/empty.conf"
	echo "$realm $domain $addr $server_services" >"$dir/provisioned"
}

cmd_start() {
	local ns=${1:?start needs NS IP DIR} addr=${2:?start needs NS IP DIR} dir=${3:?start needs NS IP DIR} i
	check_tools
	[ -e "/run/netns/$ns" ] || die "no namespace $ns"
	ip -n "$ns" -br addr show | grep -qw "$addr" || die "address $addr is not on an interface of $ns"
	running "$dir" && die "a DC already runs from $dir (pid $(pid_of "$dir"))"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	provision "$dir" "$addr"
	rm -f "$dir/run/samba.pid"
	# Settings that may change between starts go into [global] each time.
	sed -i -e '/^\tserver smb encrypt = /d' \
		-e "s/^\[global\]\$/[global]\n\tserver smb encrypt = $smb_encrypt/" "$dir/etc/smb.conf"
	ip netns exec "$ns" samba -s "$dir/etc/smb.conf" -D
	for i in $(seq $((wait_s * 10))); do
		if [ -n "$(ip netns exec "$ns" ss -Hltn "sport = :135")" ] &&
			[ -n "$(ip netns exec "$ns" ss -Hltn "sport = :445")" ]; then
			echo "$ns" >"$dir/namespace"
			log "DC $realm up at $addr in $ns (state in $dir)"
			return 0
		fi
		sleep 0.1
	done
	cmd_stop "$dir"
	die "the DC did not listen on $addr:135 and :445 within $wait_s s (logs in $dir/log)"
}

cmd_stop() {
	local dir=${1:?stop needs DIR} pid ns i
	[ -d "$dir" ] || return 0
	if pid=$(pid_of "$dir"); then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	# samba's children (smbd, rpc workers) follow their parent; any left in
	# the namespace that were started from this DIR's configuration go too.
	if [ -f "$dir/namespace" ]; then
		ns=$(cat "$dir/namespace")
		if [ -e "/run/netns/$ns" ]; then
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/etc/smb.conf"; then
					kill -KILL "$pid" 2>/dev/null || true
				fi
			done
		fi
		rm -f "$dir/namespace"
	fi
	rm -f "$dir/run/samba.pid"
	return 0
}

cmd_env() {
	local dir=${1:?env needs DIR}
	echo "SMBGW_DC_REALM=$realm"
	echo "SMBGW_DC_DOMAIN=$domain"
	echo "SMBGW_DC_PASSWORD=$password"
	echo "SMBGW_DC_USER=Administrator"
	echo "SMBGW_DC_CONF=$dir/etc/smb.conf"
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
status) shift; running "${1:?status needs DIR}" ;;
env) shift; cmd_env "$@" ;;
*) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 2 ;;
esac
