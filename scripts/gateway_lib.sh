# shellcheck shell=bash disable=SC2154
# Sourced by the e2e tests and scripts/demo.sh: runs a gateway
# between the af_packet ports of the netns.sh topology.
#
# The gateway is the smbgw binary, or dpdk-testpmd in io forwarding mode as
# a stand-in bridge when the given binary's name contains "testpmd".
# SMBGW_GATEWAY_CMD, if set, replaces both: a shell command run by bash -c
# with SMBGW_IF_A, SMBGW_IF_B, SMBGW_CONF, SMBGW_FILE_PREFIX and SMBGW_EAL_MEM
# in its environment; it must bridge the two interfaces, print its counters
# to stdout and exit 0 on SIGTERM.
#
# SMBGW_GATEWAY_PREFIX, if set, is a command (and its options) that smbgw
# is run under, e.g. "setpriv --bounding-set -dac_override": it must exec
# smbgw in the same process, so that gw_pid is smbgw's.
#
# SMBGW_WORKERS (gateway.workers of the generated config, default 1) and
# SMBGW_EAL_LCORES (EAL lcore option, default "-l 0-1") run several workers.
#
# Callers set: gw_binary, gw_work (a scratch directory), gw_file_prefix.
# Afterwards gw_pid is the gateway's process id while it runs.
#
# gw_start LOG                     gateway on the generated two-port config
# gw_start_with_config LOG CONF    smbgw on the caller's config file
# gw_wait_forwarding HOST S [IP]   wait until HOST reaches IP:445 through it
# gw_reload [S]                    SIGHUP; true if it still runs S s later
# gw_check_config CONF             smbgw --check-config CONF
# gw_stop S / gw_cleanup           SIGTERM and wait / kill and clean up
# gw_select NAME                   the gateway the functions above act on,
#                                  when a test runs several (below)
# step TEXT                        prints TEXT after the seconds since $started
# in_background CMD...             runs CMD so that signals are handled at once

gw_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/dpdk_env.sh
. "$gw_lib_dir/../tests/lib/dpdk_env.sh"

gw_pid=""
gw_status=""

# Several gateways in one test (e2e-redis: two, each on its own netns.sh
# topology): gw_select NAME saves the state of the gateway selected before
# and restores NAME's, so that every gw_* function and netns.sh act on
# NAME. The first gw_select of a NAME keeps the current values: set its
# gw_work, gw_file_prefix and SMBGW_* after it. A test with one gateway
# never calls it.
gw_state_vars=(gw_pid gw_status gw_work gw_file_prefix SMBGW_IF_A SMBGW_IF_B
	SMBGW_NETNS_PREFIX SMBGW_NETNS_DIR)
declare -A gw_states=()
gw_selected=""
gw_select() {
	local v
	if [ -n "$gw_selected" ]; then
		for v in "${gw_state_vars[@]}"; do
			gw_states[$gw_selected.$v]=${!v-}
		done
	fi
	gw_selected=$1
	[ -n "${gw_states[$1.gw_work]+set}" ] || return 0
	for v in "${gw_state_vars[@]}"; do
		printf -v "$v" '%s' "${gw_states[$1.$v]}"
	done
	export SMBGW_IF_A SMBGW_IF_B SMBGW_NETNS_PREFIX SMBGW_NETNS_DIR
}

step() {
	printf '[%3ds] %s\n' $((SECONDS - ${started:-0})) "$*"
}

# in_background CMD...: runs CMD so that a signal to this script is handled
# at once (bash runs traps only between foreground commands).
in_background() {
	"$@" &
	wait $!
}

# gw_vdev N IFACE: the EAL --vdev value of port N on IFACE. af_packet by
# default: the driver defaults (qpairs=1, blocksz=4096, framesz=2048,
# framecnt=512) carry 1500-byte frames without loss at smbclient speeds;
# SMBGW_AF_PACKET_ARGS appends more (e.g. ",framecnt=1024"). The af_packet
# driver joins a fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel
# reassembles IPv4 fragments before the gateway sees them;
# SMBGW_PORT_DRIVER=pcap (net_pcap on the interface, slower) hands the
# gateway the frames as they were sent, fragments included.
gw_vdev() {
	if [ "${SMBGW_PORT_DRIVER:-af_packet}" = pcap ]; then
		echo "net_pcap$1,iface=$2"
	else
		echo "net_af_packet$1,iface=$2${SMBGW_AF_PACKET_ARGS:-}"
	fi
}

# gw_port N: the name of port N in the gateway's configuration.
gw_port() {
	if [ "${SMBGW_PORT_DRIVER:-af_packet}" = pcap ]; then
		echo "net_pcap$1"
	else
		echo "net_af_packet$1"
	fi
}

# gw_write_config FILE: the gateway configuration for the two af_packet ports.
gw_write_config() {
	cat >"$1" <<CONF
gateway: {
  mode = "inline";
  ports = [ "$(gw_port 0)", "$(gw_port 1)" ];
  workers = ${SMBGW_WORKERS:-1};
  stats_interval = ${SMBGW_STATS_INTERVAL:-1};
};
# A control socket of this run's own, so runs never meet.
control: { socket = "$gw_work/smbgw.sock"; };
CONF
}

# gw_start LOG: starts the gateway in the background, stdout and stderr to LOG.
gw_start() {
	local conf=$gw_work/smbgw.conf
	gw_write_config "$conf"
	# SMBGW_DEFAULT_CONFIG=1 runs smbgw on its built-in configuration,
	# which names the same two af_packet ports.
	if [ "${SMBGW_DEFAULT_CONFIG:-0}" = 1 ]; then
		gw_launch "$1" "$conf" 0
	else
		gw_launch "$1" "$conf" 1
	fi
}

# gw_start_with_config LOG CONF: like gw_start, but smbgw runs on CONF, a
# file the caller wrote (e.g. with segments and rules). Its gateway.ports
# must be "net_af_packet0" (SMBGW_IF_A) and "net_af_packet1" (SMBGW_IF_B),
# in that order ("$(gw_port 0)" and "$(gw_port 1)" with any
# SMBGW_PORT_DRIVER). testpmd ignores CONF; SMBGW_GATEWAY_CMD gets it as
# SMBGW_CONF. CONF stays where it is, so the caller may rewrite it and
# gw_reload.
gw_start_with_config() {
	[ -r "$2" ] || { echo "gw_start_with_config: cannot read $2" >&2; return 1; }
	gw_launch "$1" "$2" 1
}

# gw_launch LOG CONF USE_CONF: starts the gateway in the background, stdout
# and stderr to LOG; smbgw gets -c CONF if USE_CONF is 1. Sets gw_pid.
gw_launch() {
	local log=$1 conf=$2 mem
	# SMBGW_EAL_MEM overrides the hugepage choice, e.g. "--no-huge -m 512".
	mem=${SMBGW_EAL_MEM-$(eal_memory_options)}
	local config_args=(-c "$conf")
	[ "$3" = 1 ] || config_args=()
	: >"$log"
	if [ -n "${SMBGW_GATEWAY_CMD:-}" ]; then
		SMBGW_IF_A=$SMBGW_IF_A SMBGW_IF_B=$SMBGW_IF_B SMBGW_CONF=$conf \
			SMBGW_FILE_PREFIX=$gw_file_prefix SMBGW_EAL_MEM=$mem \
			bash -c "exec $SMBGW_GATEWAY_CMD" </dev/null >>"$log" 2>&1 &
	elif [[ $(basename "$gw_binary") == *testpmd* ]]; then
		# A finite --stats-period keeps testpmd from reading stdin and
		# makes it exit cleanly on SIGTERM.
		# shellcheck disable=SC2086
		"$gw_binary" -l 0-1 --no-pci $mem --file-prefix "$gw_file_prefix" \
			--vdev "$(gw_vdev 0 "$SMBGW_IF_A")" \
			--vdev "$(gw_vdev 1 "$SMBGW_IF_B")" \
			-- --forward-mode=io --auto-start --no-mlockall \
			--total-num-mbufs=8192 --stats-period=3600 \
			</dev/null >>"$log" 2>&1 &
	else
		# shellcheck disable=SC2086
		${SMBGW_GATEWAY_PREFIX:-} "$gw_binary" ${SMBGW_EAL_LCORES:--l 0-1} --no-pci $mem --file-prefix "$gw_file_prefix" \
			--vdev "$(gw_vdev 0 "$SMBGW_IF_A")" \
			--vdev "$(gw_vdev 1 "$SMBGW_IF_B")" \
			-- "${config_args[@]}" </dev/null >>"$log" 2>&1 &
	fi
	gw_pid=$!
}

# gw_check_config CONF: smbgw --check-config CONF (exit 0 when valid; the
# errors, one per line, on stdout). Not for testpmd or SMBGW_GATEWAY_CMD.
gw_check_config() {
	"$gw_binary" --check-config "$1"
}

# gw_reload [SECONDS]: sends SIGHUP (reload the configuration file) to the
# running gateway, then checks that it still runs SECONDS later (default
# 0.5). Returns 1 if there is no gateway or it died. Only smbgw with reload
# support survives this: without a SIGHUP handler (testpmd, smbgw before
# reload) the default action ends the process. How the gateway reports a
# reload (log line, counters) is for the caller to check in the log.
gw_reload() {
	gw_running || { echo "gw_reload: no gateway running" >&2; return 1; }
	kill -HUP "$gw_pid" || return 1
	sleep "${1:-0.5}"
	gw_running || { echo "gw_reload: the gateway died after SIGHUP" >&2; return 1; }
}

# gw_running: true while the gateway process lives.
gw_running() {
	[ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null
}

# gw_wait_forwarding CLIENT_HOST SECONDS [IP]: true once a TCP connection
# from the client host reaches port 445 of IP (default the server,
# 198.18.2.20) through the gateway.
gw_wait_forwarding() {
	local host=$1 deadline=$((SECONDS + $2)) ip=${3:-198.18.2.20}
	while [ "$SECONDS" -lt "$deadline" ]; do
		gw_running || return 1
		if "$gw_lib_dir/netns.sh" exec "$host" timeout 2 \
			bash -c "exec 3<>/dev/tcp/$ip/445" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# gw_stop SECONDS: SIGTERM, then waits at most SECONDS. Sets gw_status to
# the exit status, or 124 if the gateway did not stop (it is then killed).
# Returns 0 if the gateway exited 0.
gw_stop() {
	gw_status=0
	if [ -z "$gw_pid" ]; then
		gw_status=255
		return 1
	fi
	kill -TERM "$gw_pid" 2>/dev/null || true
	if ! timeout "$1" tail --pid="$gw_pid" -f /dev/null; then
		kill -KILL "$gw_pid" 2>/dev/null || true
		wait "$gw_pid" 2>/dev/null || true
		gw_pid=""
		gw_status=124
		return 1
	fi
	wait "$gw_pid" || gw_status=$?
	gw_pid=""
	[ "$gw_status" -eq 0 ]
}

# gw_cleanup: kills a gateway left running and removes its DPDK run files.
gw_cleanup() {
	if gw_running; then
		kill -KILL "$gw_pid" 2>/dev/null || true
		wait "$gw_pid" 2>/dev/null || true
	fi
	gw_pid=""
	rm -rf "/var/run/dpdk/$gw_file_prefix"
	rm -f /dev/hugepages/"$gw_file_prefix"map_* 2>/dev/null || true
}

# Checks of a test script: ok MESSAGE counts one that held; bad MESSAGE
# [FILE [LABEL]] one that did not, with FILE's last 40 lines in the log,
# each behind "LABEL| "; show FILE LABEL prints them alone. The script
# reads $checks and ${failures[@]} at its end.
checks=0
failures=()
ok() {
	checks=$((checks + 1))
	printf '        ok: %s\n' "$*"
}
bad() {
	checks=$((checks + 1))
	failures+=("$1")
	printf '    NOT OK: %s\n' "$1"
	[ $# -lt 2 ] || show "$2" "${3:-}"
}
show() {
	[ -s "$1" ] || return 0
	[ "$(wc -l <"$1")" -le 40 ] || echo "      $2| ... (last 40 of $(wc -l <"$1") lines)"
	tail -n 40 "$1" | sed "s/^/      $2| /"
}
