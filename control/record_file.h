/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_RECORD_FILE_H
#define SMBGW_RECORD_FILE_H

/*
 * An append-only file of records, one line each, where every record is
 * written whole or not at all. Records gather in a buffer and reach the
 * file in one go when it is full or at record_file_flush(), through a loop
 * that takes short writes. A write that stops part way (ENOSPC, EIO) is
 * cut back with ftruncate() to the end of the last whole record it wrote,
 * so the file never keeps a cut-off line; the records that did not reach
 * the file are dropped and counted (output_status.h logs the episode), and
 * the next flush tries again, so writing resumes by itself when space
 * returns. Opening cuts off a partial last line left by a crash.
 * Pure C: no DPDK; not thread-safe (one control thread owns it).
 */

#include <stddef.h>
#include <sys/types.h>

#include "output_status.h"

#define RECORD_FILE_PATH_MAX	512

struct record_file_params {
	const char *path;	/* the file, opened for appending, mode 0640 */
	const char *what;	/* the output's name in messages: "EVE log" */
	size_t buffer_size;	/* bytes gathered per write; 0 for 64 KiB */
	/* write(2) unless set: tests inject short writes and errors. */
	ssize_t (*write)(int fd, const void *buf, size_t len);
};

struct record_file;

/*
 * Opens <params->path> for appending (created if missing) and cuts off a
 * partial last line. Returns NULL and sets errno: EINVAL for bad params,
 * ENOMEM, or the errno of open().
 */
struct record_file *
record_file_open(const struct record_file_params *params);

/*
 * Takes one record of <len> bytes: one line, ending with its only '\n'.
 * Returns 0 when it is buffered (or written), -EIO when it was dropped
 * with a failed write, -EINVAL when it is not one line (dropped), -EBADF
 * when the file is not open (dropped); every drop is counted.
 */
int
record_file_append(struct record_file *rf, const char *record, size_t len);

/*
 * Writes the buffered records. Returns 0, or -errno of the failed write
 * (the records are then dropped and counted).
 */
int
record_file_flush(struct record_file *rf);

/*
 * Flushes, closes and opens the path again (after logrotate moved the
 * file). Returns 0 or -errno of open(); records are then dropped and
 * counted until a later reopen succeeds.
 */
int
record_file_reopen(struct record_file *rf);

/* Flushes and closes (NULL is allowed). */
void
record_file_close(struct record_file *rf);

/* The file's counters, valid while it lives. Cannot fail. */
const struct output_counters *
record_file_counters(const struct record_file *rf);

#endif /* SMBGW_RECORD_FILE_H */
