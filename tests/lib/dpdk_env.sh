# Shared by the test and demo scripts: EAL memory options for this machine.
# Prints "--no-huge -m 512" unless hugepages are reserved and mounted.
eal_memory_options() {
	local free_pages
	free_pages=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo 2>/dev/null)
	if [ "${free_pages:-0}" -ge 256 ] && grep -qs ' hugetlbfs ' /proc/mounts; then
		echo ""
	else
		echo "--no-huge -m 512"
	fi
}
