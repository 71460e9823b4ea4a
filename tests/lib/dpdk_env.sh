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

# counters_row LOG SECTION PORT COLUMN...: from the counters table that
# follows the line "== SECTION ==" in LOG, the values of COLUMNs (header
# names such as rx, tx, oversize, rx=tx+drop) in PORT's row, space separated.
counters_row() {
	local log=$1 section=$2 port=$3
	shift 3
	awk -v section="== $section ==" -v port="$port" -v columns="$*" '
		$0 == section { in_section = 1; next }
		in_section && $1 == "port" { for (i = 1; i <= NF; i++) index_of[$i] = i; next }
		in_section && $1 == port {
			n = split(columns, wanted, " ")
			for (i = 1; i <= n; i++)
				printf "%s%s", (i > 1 ? " " : ""), (wanted[i] in index_of ? $index_of[wanted[i]] : "?")
			printf "\n"
			exit
		}' "$log"
}
