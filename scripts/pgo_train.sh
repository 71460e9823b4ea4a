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
# as they are. A run that fails stops the build. Offline only: a live run
# would need two cores and DPDK ports on the build machine; the code only
# live runs (the worker loop, transmit) keeps its -O3 code untrained
# (-fprofile-partial-training, meson.build).
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 SMBGW_BINARY WORK_DIR" >&2
	exit 2
fi
smbgw=$1
work=$2
here=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3
tool=$here/tests/lib/pcap_tool.py
flows_per_capture=40

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
trained=0
for capture in "$here"/tests/pcaps/*.pcap; do
	name=$(basename "$capture" .pcap)
	case $name in
	psexec_smb2|psexec_smb2_*|benign_copy_smb2) continue ;;
	esac
	case $("$python" "$tool" linktype "$capture") in
	1)	"$python" "$tool" flows "$capture" "$work/$name.pcap" \
			"$flows_per_capture" ;;
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
