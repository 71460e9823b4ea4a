#!/bin/bash
# The training run of the profile-feedback build (scripts/build.sh): an
# instrumented `smbgw -r` analyses the project's own captures, each made
# into many flows so that per-frame code, not start-up, sets the profile.
#
# usage: pgo_train.sh SMBGW_BINARY WORK_DIR
#
# Left out: the captures the offline benchmark and the callgrind gate are
# built from (psexec_smb2*.pcap, benign_copy_smb2.pcap), so that their
# figures measure code trained on other traffic. Every other classic
# capture is used: Ethernet ones as 40 flows each (tests/lib/pcap_tool.py
# flows), the other link types (Linux cooked, BSD loopback, raw IP) once
# as they are. Then a short live run, so that the worker loop and the
# transmit path are trained too: two net_pcap ports forwarding 100,000
# 64-byte non-SMB TCP frames and 20,000 unanswered SYNs to port 445
# (fewer frames than the offline part, which keeps the SMB path hot). A
# run that fails stops the build.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 SMBGW_BINARY WORK_DIR" >&2
	exit 2
fi
smbgw=$1
work=$2
here=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3
flows_per_capture=40

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
# The live run's control socket, where a path is short enough for one.
socket_dir=$(mktemp -d /tmp/smbgw-pgo.XXXXXX)
trap 'rm -rf "$socket_dir"' EXIT
# Link type of a classic pcap file, or nothing for anything else.
link_type() {
	"$python" - "$1" <<'EOF'
import struct, sys
head = open(sys.argv[1], 'rb').read(24)
for order in '<>':
    if len(head) == 24 and struct.unpack(order + 'I', head[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D):
        print(struct.unpack(order + 'I', head[20:24])[0] & 0x0FFFFFFF)
EOF
}

trained=0
for capture in "$here"/tests/pcaps/*.pcap; do
	name=$(basename "$capture" .pcap)
	case $name in
	psexec_smb2|psexec_smb2_*|benign_copy_smb2) continue ;;
	esac
	case $(link_type "$capture") in
	1)	"$python" "$here/tests/lib/pcap_tool.py" flows "$capture" \
			"$work/$name.pcap" "$flows_per_capture" ;;
	'')	continue ;;
	*)	cp "$capture" "$work/$name.pcap" ;;
	esac
	if ! "$smbgw" -r "$work/$name.pcap" >"$work/$name.out" 2>&1; then
		echo "pgo_train: smbgw -r $name.pcap failed:" >&2
		tail -5 "$work/$name.out" >&2
		exit 1
	fi
	rm -f "$work/$name.pcap"
	trained=$((trained + 1))
done
if [ "$trained" -eq 0 ]; then
	echo "pgo_train: no training capture in tests/pcaps" >&2
	exit 1
fi
echo "pgo_train: $trained captures analysed"

live_frames=100000
syn_frames=20000
"$python" "$here/tests/lib/pcap_tool.py" tcp64 "$work/tcp64.pcap" \
	"$live_frames" 1024
"$python" "$here/tests/lib/pcap_tool.py" flood "$here/tests/pcaps/smb2_basic.pcap" \
	"$work/syns.pcap" "$syn_frames"
cat >"$work/live.conf" <<CONF
gateway: { ports = [ "net_pcap0", "net_pcap1" ]; };
control: { socket = "$socket_dir/smbgw.sock"; };
CONF
"$smbgw" -l 0-1 --no-pci --no-huge -m 512 --file-prefix "smbgw-pgo-$$" \
	--vdev "net_pcap0,rx_pcap=$work/tcp64.pcap,tx_pcap=/dev/null" \
	--vdev "net_pcap1,rx_pcap=$work/syns.pcap,tx_pcap=/dev/null" \
	-- -c "$work/live.conf" >"$work/live.out" 2>&1 &
live_pid=$!
# Start-up takes about a second; the frames a fraction of one.
sleep 4
kill -TERM "$live_pid" 2>/dev/null || true
if ! wait "$live_pid"; then
	echo "pgo_train: the live run failed:" >&2
	tail -5 "$work/live.out" >&2
	exit 1
fi
if ! awk -v a="$live_frames" -v b="$syn_frames" '
		$1 == "net_pcap0" && $2 == a && $NF == "ok" { n++ }
		$1 == "net_pcap1" && $2 >= b && $NF == "ok" { n++ }
		END { exit n == 2 ? 0 : 1 }' "$work/live.out"; then
	echo "pgo_train: the live run did not take its frames:" >&2
	grep -A2 '^port ' "$work/live.out" >&2 || tail -5 "$work/live.out" >&2
	exit 1
fi
rm -f "$work/tcp64.pcap" "$work/syns.pcap"
echo "pgo_train: live run forwarded $live_frames + $syn_frames frames"
