#!/bin/bash
# Offline throughput of `smbgw -r` on capture mixes built from the real
# captures, beside a program that only reads the same capture; and the live
# path (net_pcap replaying the capture forever) beside dpdk-testpmd on the
# same virtual device. Prints a table; every figure is frames per second on
# one core.
#
# usage: scripts/bench_offline.sh [-n ROUNDS] [-t SECONDS] [--no-live]
#                                 [SMBGW_BINARY [WORK_DIR]]
#   SMBGW_BINARY  default build/app/smbgw
#   WORK_DIR      where the mixes are generated (about 1.2 GB), default
#                 bench-offline/ beside the binary's app/ folder (the build
#                 directory); kept between runs, remove it to regenerate
#   -n ROUNDS     offline rounds, alternating baseline and smbgw; each side
#                 keeps its best (default 3)
#   -t SECONDS    duration of each live run (default 6)
#   --no-live     offline part only
#   --disk        read the offline mixes where they were generated, not
#                 from a copy in memory (see below)
#   SMBGW_PCAP_READ  the read baseline binary (tests/bench/pcap_read.c);
#                 built here with ${CC:-cc} when unset
#
# The offline rounds read copies of the mixes in /dev/shm (tmpfs), removed
# on exit, when it has room: a file's pages in the page cache may be
# reclaimed between rounds (on this project's virtual machines the cache
# shrank by about 16 MB/s with 20 GB free), and a round that reads part
# of its mix from disk measures the disk.
#
# Mixes (pcap_tool.py flows: copy i gets client 10.x.y.z and its own port,
# starts 1 ms after copy i - 1, all merged in time order):
#   psexec    psexec_smb2.pcap as 2,000 flows (244,000 frames)
#   copy      benign_copy_smb2.pcap as 120 flows (263,040 frames)
#   mixed     both merged (507,040 frames)
#   non-SMB   1,000,000 64-byte established TCP frames to port 443 over
#             1,024 connections (pcap_tool.py tcp64)
# Baselines:
#   map       tests/bench/pcap_read.c --map: the file mapped, every byte of
#             every frame added up once (AVX2 where built for it): the
#             floor of an analyser that reads each frame's bytes once
#   read      tests/bench/pcap_read.c: pcap_next_ex and a copy of each frame,
#             nothing else: what any libpcap-based analyser pays before it
#             looks at a frame (`smbgw -r` maps classic pcap files instead
#             and reads no frame twice, so it can be faster than this)
#   testpmd   dpdk-testpmd --forward-mode=io (receive, transmit to the
#             port's tx, which net_pcap drops) and --forward-mode=rxonly on
#             the same net_pcap device (infinite_rx=1), against smbgw in
#             tap mode (receive only, one worker, control on the second core)
set -euo pipefail

rounds=3
live_seconds=6
live=1
disk=0
while [ $# -gt 0 ]; do
	case $1 in
	-n) rounds=$2; shift 2 ;;
	-t) live_seconds=$2; shift 2 ;;
	--no-live) live=0; shift ;;
	--disk) disk=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
	*) break ;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
smbgw=$(realpath "${1:-$root/build/app/smbgw}")
work=${2:-$(dirname "$(dirname "$smbgw")")/bench-offline}
pcaps=$root/tests/pcaps
tool=$root/tests/lib/pcap_tool.py
python=/usr/bin/python3
. "$root/tests/lib/dpdk_env.sh"
mkdir -p "$work"
work=$(realpath "$work")
live_pid=""
memory_dir=""
trap '[ -n "$live_pid" ] && kill -TERM "$live_pid" 2>/dev/null; [ -n "$memory_dir" ] && rm -rf "$memory_dir"; true' EXIT

# The baseline reader: SMBGW_PCAP_READ if meson built it, else built here.
if [ -n "${SMBGW_PCAP_READ:-}" ]; then
	ln -sf "$(realpath "$SMBGW_PCAP_READ")" "$work/pcap_read"
elif [ ! -x "$work/pcap_read" ] || [ "$root/tests/bench/pcap_read.c" -nt "$work/pcap_read" ]; then
	${CC:-cc} -O2 -march=native -Wall -o "$work/pcap_read" "$root/tests/bench/pcap_read.c" -lpcap
fi

make_mix() {
	local name=$1
	shift
	[ -s "$work/$name.pcap" ] && return 0
	echo "generating $name.pcap" >&2
	"$@"
}
make_mix psexec "$python" "$tool" flows "$pcaps/psexec_smb2.pcap" "$work/psexec.pcap" 2000
make_mix copy "$python" "$tool" flows "$pcaps/benign_copy_smb2.pcap" "$work/copy.pcap" 120 1000 2000
if command -v mergecap >/dev/null; then
	make_mix mixed mergecap -F pcap -w "$work/mixed.pcap" "$work/psexec.pcap" "$work/copy.pcap"
fi
make_mix non-smb "$python" "$tool" tcp64 "$work/non-smb.pcap" 1000000 1024
# Live replay holds the whole capture in mbufs: a smaller non-SMB file.
make_mix non-smb-live "$python" "$tool" tcp64 "$work/non-smb-live.pcap" 100000 1024

# Where the offline rounds read the mixes: copies in memory if there is
# room for them and 1 GB more, else the work directory.
mixes_dir=$work
mix_bytes=$(cat "$work"/{psexec,copy,mixed,non-smb}.pcap 2>/dev/null | wc -c)
shm_free=$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -1 || echo 0)
if [ "$disk" = 0 ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
		[ "${shm_free:-0}" -gt $((mix_bytes + (1 << 30))) ]; then
	memory_dir=$(mktemp -d /dev/shm/smbgw-bench-offline.XXXXXX)
	for mix in psexec copy mixed non-smb; do
		[ -s "$work/$mix.pcap" ] && cp "$work/$mix.pcap" "$memory_dir/"
	done
	mixes_dir=$memory_dir
fi

# seconds OUTPUT: the processing time in a "processing: X s (Y Mpps...)" line.
seconds() {
	awk '/^processing:/ { print $2; exit }' "$1"
}

# tsc_mhz OUTPUT: the TSC rate smbgw counts its cycles a frame at.
tsc_mhz() {
	awk '/^processing:/ { for (i = 1; i < NF; i++) if ($(i + 1) == "MHz)") { print $i; exit } }' "$1"
}

# least A B: the smaller of two numbers (B empty: A).
least() {
	awk -v a="$1" -v b="${2:-$1}" 'BEGIN { print (a < b ? a : b) }'
}

# best_offline MIX: "FRAMES BYTES READ_S MAP_S SMBGW_S TSC_MHZ", best of
# the rounds.
best_offline() {
	local mix=$1 best_read="" best_map="" best_smbgw=""
	for _ in $(seq "$rounds"); do
		"$work/pcap_read" "$mixes_dir/$mix.pcap" >"$work/$mix.read.out"
		"$work/pcap_read" --map "$mixes_dir/$mix.pcap" >"$work/$mix.map.out"
		"$smbgw" -r "$mixes_dir/$mix.pcap" >"$work/$mix.smbgw.out" 2>&1
		best_read=$(least "$(seconds "$work/$mix.read.out")" "$best_read")
		best_map=$(least "$(seconds "$work/$mix.map.out")" "$best_map")
		best_smbgw=$(least "$(seconds "$work/$mix.smbgw.out")" "$best_smbgw")
	done
	# Both baselines and smbgw must have read the same frames.
	if [ "$(grep -E '^(packets|bytes):' "$work/$mix.map.out")" != \
			"$(grep -E '^(packets|bytes):' "$work/$mix.read.out")" ] ||
			[ "$(grep '^packets:' "$work/$mix.smbgw.out")" != \
			"$(grep '^packets:' "$work/$mix.read.out")" ]; then
		echo "bench_offline: $mix: the readers disagree on the frames" >&2
		exit 1
	fi
	echo "$(awk '/^packets:/ { print $2 }' "$work/$mix.read.out")" \
		"$(awk '/^bytes:/ { print $2 }' "$work/$mix.read.out")" \
		"$best_read" "$best_map" "$best_smbgw" "$(tsc_mhz "$work/$mix.smbgw.out")"
}

# live_smbgw PCAP: "MPPS DROP%": frames per second received by smbgw in
# tap mode, from its per-second counter reports (the first report, which
# includes start, is left out), and the share of events dropped because
# the control core did not drain them in time (ring_full / all events).
live_smbgw() {
	local pcap=$1 frames out=$work/live.smbgw.out
	frames=$(awk '/^packets:/ { print $2 }' "$work/$(basename "$pcap" .pcap).read.out" 2>/dev/null ||
		"$work/pcap_read" "$pcap" | awk '/^packets:/ { print $2 }')
	cat >"$work/tap.conf" <<-CONF
	gateway: { mode = "tap"; ports = [ "net_pcap0" ]; stats_interval = 1; };
	memory: { mbufs = $(( (frames + 4096) | 1023 )); };
	control: { socket = "$work/smbgw.sock"; };
	CONF
	# shellcheck disable=SC2046
	"$smbgw" -l 0-1 --no-pci $(eal_memory_options) --file-prefix "smbgw-bench-$$" \
		--vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" -- -c "$work/tap.conf" \
		>"$out" 2>&1 &
	live_pid=$!
	sleep "$live_seconds"
	kill -TERM "$live_pid" 2>/dev/null || true
	wait "$live_pid" || true
	live_pid=""
	awk '/^== counters after [0-9]+ s ==$/ { t = $4; next }
		t != "" && $1 == "net_pcap0" { n++; if (n == 2) { t0 = t; r0 = $2 } t1 = t; r1 = $2; t = "" }
		$1 == "events:" && $3 + $5 > 0 { drop = sprintf("%.0f%%", $5 * 100 / ($3 + $5)) }
		END {
			if (n >= 3 && t1 > t0) printf "%.2f", (r1 - r0) / (t1 - t0) / 1e6; else printf "-"
			print " " (drop == "" ? "0%" : drop) }' "$out"
}

# live_testpmd PCAP MODE: Rx-pps of testpmd in forwarding mode MODE (io:
# receive and transmit; rxonly: receive and free), mean of its reports
# after the first.
live_testpmd() {
	local pcap=$1 mode=$2 frames out=$work/live.testpmd.out
	frames=$("$work/pcap_read" "$pcap" | awk '/^packets:/ { print $2 }')
	# shellcheck disable=SC2046
	dpdk-testpmd -l 0-1 --no-pci $(eal_memory_options) --file-prefix "testpmd-bench-$$" \
		--vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" -- --forward-mode="$mode" \
		--auto-start --no-mlockall --total-num-mbufs=$((frames + 8192)) \
		--stats-period=1 >"$out" 2>&1 </dev/null &
	live_pid=$!
	sleep "$live_seconds"
	kill -TERM "$live_pid" 2>/dev/null || true
	wait "$live_pid" || true
	live_pid=""
	awk '/Rx-pps:/ { n++; if (n > 1) { sum += $2; k++ } }
		END { if (k > 0) printf "%.2f\n", sum / k / 1e6; else print "-" }' "$out"
}

echo "offline: best of $rounds, mixes read from $([ "$mixes_dir" = "$work" ] && echo "$work" || echo "memory ($mixes_dir)"); live: ${live_seconds} s per run; $(nproc) cores"
printf "%-8s %9s %6s | %9s %8s %9s %9s %9s %7s | %9s %9s %9s %7s\n" \
	"" "" "" "offline" "" "" "" "" "" "live" "" "" ""
printf "%-8s %9s %6s | %9s %8s %9s %9s %9s %7s | %9s %9s %9s %7s\n" \
	mix frames B/fr "read Mpps" "map" "smbgw" "ns/fr" "+ns/fr" "cyc/fr" "tpmd io" "rxonly" "smbgw" "ev.drop"
for mix in psexec copy mixed non-smb; do
	[ -s "$work/$mix.pcap" ] || continue
	read -r frames bytes read_s map_s smbgw_s mhz < <(best_offline "$mix")
	live_tp=- live_rx=- live_gw=- live_drop=-
	live_pcap=$work/$mix.pcap
	[ "$mix" = non-smb ] && live_pcap=$work/non-smb-live.pcap
	if [ "$live" = 1 ] && [ -z "$(eal_memory_options)" ] && [ "$mix" != mixed ]; then
		live_tp=$(live_testpmd "$live_pcap" io)
		live_rx=$(live_testpmd "$live_pcap" rxonly)
		read -r live_gw live_drop < <(live_smbgw "$live_pcap")
	fi
	awk -v m="$mix" -v f="$frames" -v b="$bytes" -v r="$read_s" -v s="$smbgw_s" \
		-v mp="$map_s" -v mhz="${mhz:-0}" \
		-v lt="$live_tp" -v lr="$live_rx" -v lg="$live_gw" -v ld="$live_drop" 'BEGIN {
		printf "%-8s %9d %6.0f | %9.2f %8.2f %9.2f %9.0f %9.0f %7.0f | %9s %9s %9s %7s\n",
			m, f, b / f, f / r / 1e6, f / mp / 1e6, f / s / 1e6, s / f * 1e9,
			(s - r) / f * 1e9, s * mhz * 1e6 / f, lt, lr, lg, ld }'
done
cat <<-'NOTE'
	read: libpcap pcap_next_ex plus a copy of each frame, nothing else
	(smbgw -r maps the file and copies nothing, so it can beat this).
	map: the file mapped as smbgw -r maps it, every byte of every frame
	added up once, nothing else: the floor of any analyser that reads
	each frame's bytes once (a TCP checksum does).
	smbgw: `smbgw -r` processing time (start-up excluded), detector on;
	ns/fr its time per frame, +ns/fr its time minus read's (negative
	when mapping saves more than the analysis costs); cyc/fr its time
	per frame in TSC cycles, as the live counters count them, to compare
	machines of other clocks (5 Mpps is 200 ns a frame: 450 cycles at
	2.25 GHz, 700 at 3.5 GHz).
	live: Mpps received on one worker core, net_pcap infinite_rx replay;
	testpmd io / rxonly vs smbgw in tap mode; ev.drop: events the
	control core did not drain in time (ring_full), lost to the detector.
NOTE
