#!/bin/bash
# Start-up problems end with one line naming the cause and exit status 1,
# never a DPDK panic or a core dump.
# usage: test_startup_errors.sh SMBGW_BINARY
set -uo pipefail

smbgw=$1
work=$(mktemp -d /tmp/smbgw-startup.XXXXXX)
trap 'rm -rf "$work"; ip link del "smbgwmtu$$a" 2>/dev/null; ip link del "smbgwmtu$$b" 2>/dev/null; true' EXIT
status=0
eal="--no-pci --no-huge -m 256 --file-prefix smbgw-startup-$$"

# expect_failure DESCRIPTION PATTERN CONFIG_TEXT EAL_ARGS...
expect_failure() {
	local what=$1 pattern=$2 config=$3 output code=0
	shift 3
	printf '%s\n' "$config" >"$work/test.conf"
	# A control socket of this run's own: another gateway may be running.
	printf 'control: { socket = "%s/smbgw.sock"; };\n' "$work" >>"$work/test.conf"
	output=$(timeout 60 "$smbgw" "$@" -- -c "$work/test.conf" 2>&1 </dev/null) || code=$?
	if [ "$code" -ne 1 ] || ! grep -q -- "^smbgw: .*$pattern\|^$work/test.conf:.*$pattern" <<<"$output" ||
			grep -q "PANIC\|Segmentation\|Backtrace" <<<"$output"; then
		echo "FAIL: $what: exit $code, output:"
		echo "$output" | tail -20
		status=1
	else
		echo "ok: $what: $(grep -- "$pattern" <<<"$output" | head -1)"
	fi
}

pair='gateway: { ports = ["net_null0", "net_null1"]; };'
nulls="--vdev net_null0 --vdev net_null1"

# shellcheck disable=SC2086
{
expect_failure "no hugepages and no fallback" "reserve and mount hugepages" "$pair" \
	-l 0-1 --no-pci --huge-dir "$work/not-hugetlbfs" --file-prefix smbgw-startup-$$ $nulls
expect_failure "unknown port" "unknown port net_null9" \
	'gateway: { ports = ["net_null0", "net_null9"]; };' -l 0-1 $eal $nulls
expect_failure "one lcore only" "too few lcores" "$pair" -l 0 $eal $nulls
expect_failure "more workers than lcores" "gateway.workers = 2 but EAL gave 1" \
	'gateway: { ports = ["net_null0", "net_null1"]; workers = 2; };' -l 0-1 $eal $nulls
expect_failure "bad config" "unknown key gateway.wrokers" \
	'gateway: { ports = ["net_null0", "net_null1"];
  wrokers = 2; };' -l 0-1 $eal $nulls
expect_failure "invalid EAL option" "invalid EAL option" "$pair" -l 0-1 $eal --no-such-option
expect_failure "pool too large for memory" "cannot create a pool" \
	"$pair memory: { mbufs = 4000000; };" -l 0-1 $eal $nulls
# A veth pair of the test's own, carrying nothing.
veth=smbgwmtu$$
ip link add "${veth}a" type veth peer name "${veth}b"
ip link set "${veth}a" up && ip link set "${veth}b" up
expect_failure "MTU beyond the device" "supports an MTU of at most" \
	'gateway: { ports = ["net_af_packet0", "net_af_packet1"]; mtu = 9000; };' \
	-l 0-1 $eal --vdev "net_af_packet0,iface=${veth}a" --vdev "net_af_packet1,iface=${veth}b"
ip link del "${veth}a"
}

# A missing config file is reported before EAL starts.
output=$("$smbgw" -l 0-1 $eal -- -c "$work/none.conf" 2>&1) && status=1
grep -q "none.conf:0: cannot open" <<<"$output" || { echo "FAIL: missing config: $output"; status=1; }

# --check-config: 0 for the sample, 1 with file:line for a bad file.
"$smbgw" --check-config "$(dirname "$0")/../../conf/smbgw.conf" >/dev/null || { echo "FAIL: sample config rejected"; status=1; }
printf 'gateway: {\n  ports = ["a", "b"];\n  mtu = 1;\n};\n' >"$work/bad.conf"
output=$("$smbgw" --check-config "$work/bad.conf" 2>&1) && status=1
[ "$output" = "$work/bad.conf:3: gateway.mtu = 1 is out of range [68, 9600]" ] || { echo "FAIL: check-config said: $output"; status=1; }

[ $status -eq 0 ] && echo "PASS: start-up errors"
exit $status
