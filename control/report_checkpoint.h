/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_REPORT_CHECKPOINT_H
#define SMBGW_REPORT_CHECKPOINT_H

/*
 * The durable daily report: the report's rows saved to a file that is
 * replaced atomically (atomic_file.h) every report.checkpoint_interval
 * seconds and at stop, and read back at start, so that a crash loses at
 * most one interval of counts.
 *
 * The file is the report's CSV between two comment lines:
 *
 *	# smbgw report checkpoint 1
 *	date,src_ip,dest_ip,connections,...      (as `smbgwctl report csv`)
 *	2026-12-06,198.18.1.10,198.18.2.20,3,...
 *	# end rows 1 fnv1a64 0123456789abcdef
 *
 * the last line counting the rows and hashing (64-bit FNV-1a) every byte
 * before it. A file that is not whole, not ours or not readable is set
 * aside as "<path>.bad" with a warning, and the report starts empty.
 * Pure C: no DPDK; not thread-safe (one control thread owns it).
 */

#include <stdint.h>

#include "output_status.h"
#include "report.h"

#define REPORT_CHECKPOINT_MAGIC	"# smbgw report checkpoint 1\n"

struct report_checkpoint_counters {
	struct output_counters saves;	/* a record is one checkpoint */
	uint64_t rows_restored;		/* read back at start */
	uint64_t rows_left_out;		/* read back but not kept: too old, no room */
	uint64_t set_aside;		/* files renamed .bad */
};

struct report_checkpoint;

/*
 * Creates the checkpoint of the file <path> (copied). Returns NULL and
 * sets errno: EINVAL for an empty or too long path, ENOMEM.
 */
struct report_checkpoint *
report_checkpoint_create(const char *path);

/* Frees <cp> (NULL is allowed); the file stays. */
void
report_checkpoint_free(struct report_checkpoint *cp);

/*
 * Reads the file back into <report> (added to its rows). Returns the rows
 * restored (0 when there is no file), or -EBADMSG when the file was
 * damaged, foreign or unreadable: it is then renamed "<path>.bad", a
 * warning says why, and nothing of it is added. Never more than a
 * warning: the gateway starts either way.
 */
int
report_checkpoint_load(struct report_checkpoint *cp, struct report *report);

/*
 * Replaces the file with the rows of <report>. Returns 0, or -errno of the
 * step that failed; the file then keeps the previous checkpoint, the
 * failure is counted and its episode logged once.
 */
int
report_checkpoint_save(struct report_checkpoint *cp,
	const struct report *report);

/* Counters of <cp>, valid while it lives. Cannot fail. */
const struct report_checkpoint_counters *
report_checkpoint_counters(const struct report_checkpoint *cp);

#endif /* SMBGW_REPORT_CHECKPOINT_H */
