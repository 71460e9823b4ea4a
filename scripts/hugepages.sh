#!/bin/bash
# Reserves and mounts 2 MiB hugepages for DPDK where this machine allows it.
# Never fails: without hugepages the scripts run EAL with --no-huge instead.
pages=${1:-512}
[ "$(id -u)" -eq 0 ] || exit 0
current=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
if [ "$current" -lt "$pages" ]; then
	echo "$pages" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
fi
if ! grep -qs ' hugetlbfs ' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
fi
free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
if [ "${free:-0}" -gt 0 ] && grep -qs ' hugetlbfs ' /proc/mounts; then
	echo "hugepages: $free free"
else
	echo "hugepages: unavailable, DPDK runs with --no-huge"
fi
exit 0
