/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_LEFTOVERS_H
#define SMBGW_LEFTOVERS_H

/*
 * What a killed gateway leaves behind, removed at the next start when no
 * live process holds it: DPDK's run directory of the file prefix
 * (/var/run/dpdk/<prefix>/: the "config" file whose fcntl lock the
 * primary process holds, fbarray files, the multi-process socket), the
 * prefix's hugepage files in hugetlbfs ("<prefix>map_<n>", each flocked by
 * the process using it), and the control socket with its flock lock file.
 * DPDK-free, so that it is unit-tested on plain directories.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LEFTOVERS_PREFIX_MAX 64

struct leftovers_count {
	unsigned int removed;	/* files removed */
	unsigned int in_use;	/* files kept: a live process holds them */
	pid_t holder;		/* the process holding the prefix */
};

/* The DPDK files an EAL command line implies. */
struct leftovers_eal {
	char prefix[LEFTOVERS_PREFIX_MAX];	/* default "rte" */
	bool shared_files;	/* false: --in-memory or --no-shconf */
	bool hugepages;		/* false: --no-huge */
	const char *huge_dir;	/* NULL: every hugetlbfs mount */
};

/*
 * Reads <argv>[1..<argc>) (the EAL options, no "--" and nothing after)
 * for the options above. Returns 0, or -ENAMETOOLONG for a prefix that
 * does not fit.
 */
int
leftovers_parse_eal(int argc, char **argv, struct leftovers_eal *eal);

/*
 * Where EAL puts the run directory of <prefix>, as it does: /var/run/dpdk
 * for root, else $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk. Returns 0 or
 * -ENAMETOOLONG.
 */
int
leftovers_runtime_dir(const char *prefix, char *out, size_t out_len);

/*
 * Cleans the run directory <dir>: when a live process holds a lock on
 * <dir>/config, returns -EBUSY with its pid in <count>->holder and touches
 * nothing; otherwise removes every file no one flocks, and the directory
 * once empty. A missing directory is 0.
 */
int
leftovers_clean_runtime_dir(const char *dir, struct leftovers_count *count);

/*
 * Removes the hugepage files "<prefix>map_*" in <huge_dir> that no
 * process flocks. Returns 0, or -errno if the directory cannot be read
 * (a missing one is 0).
 */
int
leftovers_clean_hugepages(const char *huge_dir, const char *prefix,
	struct leftovers_count *count);

/*
 * Removes the control socket <path> when nobody listens on it (counted),
 * and its lock file "<path>.lock" when no process flocks it (not counted:
 * the control socket keeps it after a clean stop too). Returns 0, or
 * -EBUSY when a live gateway holds the lock (the socket code then says
 * so), leaving both.
 */
int
leftovers_clean_socket(const char *path, struct leftovers_count *count);

#endif /* SMBGW_LEFTOVERS_H */
