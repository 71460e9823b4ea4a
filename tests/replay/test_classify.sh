#!/bin/bash
# Classification on real captures: what each capture must be recognised as,
# and the same classification whether the capture is analysed offline
# (smbgw -r) or replayed inline, split by direction through the two ports.
# usage: test_classify.sh SMBGW_BINARY PCAPS_DIR
set -euo pipefail

smbgw=$1
pcaps=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/dpdk_env.sh"
python=/usr/bin/python3
work=$(mktemp -d /tmp/smbgw-classify.XXXXXX)
gateway_pid=""
status=0

cleanup() {
	if [ -n "$gateway_pid" ] && kill -0 "$gateway_pid" 2>/dev/null; then
		kill -KILL "$gateway_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	status=1
}

# flows FILE: the flow summary lines of a gateway output.
flows() {
	sed -n '/^== SMB and DCE\/RPC flows ==$/,$p' "$1" | grep -E '^(smb|dcerpc) '
}

# classification FILE: per flow, what it was recognised as (no counts).
classification() {
	flows "$1" | awk '{
		line = $1 " " $2 " " $3 " " $4 " vlan " $6 " " $8
		for (i = 9; i <= NF; i++) {
			if ($i == "nonstandard-port") line = line " nonstandard-port"
			if ($i == "dialect") line = line " dialect " $(i + 1)
		}
		print line
	}' | sort
}

offline() {
	"$smbgw" -r "$pcaps/$1" >"$work/$1.offline" 2>&1 ||
		{ fail "smbgw -r $1"; cat "$work/$1.offline"; }
}

# expect CAPTURE PATTERN DESCRIPTION: a flow line of CAPTURE matches PATTERN.
expect() {
	if flows "$work/$1.offline" | grep -E -- "$2" >/dev/null; then
		echo "ok: $1: $3"
	else
		fail "$1: $3 (no flow line matches /$2/)"
		flows "$work/$1.offline"
	fi
}

# refute CAPTURE PATTERN DESCRIPTION: no flow line of CAPTURE matches PATTERN.
refute() {
	if flows "$work/$1.offline" | grep -E -- "$2" >/dev/null; then
		fail "$1: $3"
		flows "$work/$1.offline"
	else
		echo "ok: $1: $3"
	fi
}

for capture in "$pcaps"/*.pcap; do
	offline "$(basename "$capture")"
done

expect tunnel_port8445.pcap '^smb 198\.18\.1\.10:[0-9]+ -> 198\.18\.2\.20:8445 .* detected by-content nonstandard-port dialect 3\.1\.1' \
	"SMB recognised by content on port 8445, flagged non-standard"
expect nbss_port139.pcap '^smb 198\.18\.1\.10:[0-9]+ -> 198\.18\.2\.20:139 .* detected by-port dialect 2\.1 ' \
	"SMB over NBSS on port 139"
refute benign_copy_smb2.pcap 'admin_share' "a benign copy carries no admin-share class"
refute smb2_basic.pcap 'admin_share|executable' "a basic session carries no admin-share or executable class"
expect psexec_smb2.pcap 'user LAB\\root .* classes admin_share,ipc_share,remote_exec_pipe,recon_pipe,executable' \
	"psexec over SMB 2.1: admin share, svcctl pipe and an executable"
expect psexec_smb1.pcap 'dialect smb1 user LAB\\root .* classes admin_share,.*remote_exec_pipe,.*executable' \
	"psexec over SMB1: admin share, svcctl pipe and an executable"
expect psexec_smb3_enc.pcap 'dialect 3\.0 user LAB\\root .* encrypted classes -' \
	"sealed psexec: logon seen, the rest noted as encrypted"
if [ "$(flows "$work/logon_fail_smb2.pcap.offline" | grep -c 'logons 0/1 ')" -ne 5 ]; then
	fail "logon_fail_smb2.pcap: five flows with one failed logon each expected"
else
	echo "ok: logon_fail_smb2.pcap: five failed logons"
fi

# Sessions picked up mid-stream (no SYN, no NEGOTIATE seen) are classified too.
/usr/bin/python3 "$here/../lib/pcap_tool.py" skip "$pcaps/tunnel_port8445.pcap" "$work/mid8445.pcap" 12
/usr/bin/python3 "$here/../lib/pcap_tool.py" skip "$pcaps/psexec_smb2.pcap" "$work/mid445.pcap" 30
"$smbgw" -r "$work/mid8445.pcap" >"$work/mid8445.pcap.offline" 2>&1
"$smbgw" -r "$work/mid445.pcap" >"$work/mid445.pcap.offline" 2>&1
expect mid8445.pcap '^smb 198\.18\.1\.10:[0-9]+ -> 198\.18\.2\.20:8445 .* detected by-content nonstandard-port' \
	"tunnelled SMB picked up mid-stream: recognised by content, client and server right"
expect mid445.pcap '^smb 198\.18\.1\.10:[0-9]+ -> 198\.18\.2\.20:445 .* detected by-port .*executable' \
	"psexec picked up mid-stream: SMB by port, the executable still seen"

# The same captures inline: client-side frames enter port A, server-side
# frames port B, and each leaves through the other port. The two ports are
# read independently, so the order between directions is not the
# capture's: a server's reply may be seen before the client's SYN. Captures
# whose connections follow one another in quick succession (five failed
# logons) would then see a closed connection reopened, which is right for
# what the gateway was shown but not what the capture holds; they are
# checked offline above.
cat >"$work/inline.conf" <<CONF
gateway: {
  mode = "inline";
  ports = [ "net_pcap0", "net_pcap1" ];
  stats_interval = 0;
};
control: { socket = "$work/smbgw.sock"; };
# Replayed captures keep the sums their sending host left to its NIC
# (smb2_basic.pcap): verified otherwise, as on a live wire.
stream: { checksum = "auto"; };
CONF
for capture in tunnel_port8445.pcap nbss_port139.pcap psexec_smb1.pcap psexec_smb2.pcap \
		psexec_smb3_enc.pcap smb2_basic.pcap atexec_smb2.pcap; do
	read -r count_a count_b < <($python "$here/../lib/pcap_tool.py" split \
		"$pcaps/$capture" 198.18.1. "$work/a.pcap" "$work/b.pcap")
	rm -f "$work/out_a.pcap" "$work/out_b.pcap"
	# shellcheck disable=SC2046
	"$smbgw" -l 0-1 --no-pci $(eal_memory_options) \
		--file-prefix "smbgw-classify-$$" \
		--vdev "net_pcap0,rx_pcap=$work/a.pcap,tx_pcap=$work/out_a.pcap" \
		--vdev "net_pcap1,rx_pcap=$work/b.pcap,tx_pcap=$work/out_b.pcap" \
		-- -c "$work/inline.conf" >"$work/$capture.inline" 2>&1 &
	gateway_pid=$!
	for i in $(seq 200); do
		[ "$($python "$here/../bridge/compare_pcaps.py" --count "$work/out_b.pcap")" -ge "$count_a" ] &&
			[ "$($python "$here/../bridge/compare_pcaps.py" --count "$work/out_a.pcap")" -ge "$count_b" ] && break
		sleep 0.1
	done
	kill -TERM "$gateway_pid"
	wait "$gateway_pid" || fail "$capture: inline gateway exited $?"
	gateway_pid=""
	if diff <(classification "$work/$capture.offline") <(classification "$work/$capture.inline") >"$work/diff"; then
		echo "ok: $capture: same classification offline and inline ($(classification "$work/$capture.inline" | wc -l) flows)"
	else
		fail "$capture: offline and inline classifications differ"
		cat "$work/diff"
	fi
done

[ $status -eq 0 ] && echo "PASS: classification"
exit $status
