/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_ATOMIC_FILE_H
#define SMBGW_ATOMIC_FILE_H

/*
 * Replacing a file so that a crash at any moment leaves either the old
 * content or the new, whole: the new content goes to "<path>.tmp" in the
 * same directory, is fsync()ed, renamed over <path>, and the directory is
 * fsync()ed so that the rename itself survives a power cut. A temporary
 * file left by a crash is simply overwritten by the next write.
 * Pure C: no DPDK.
 */

#include <stdio.h>

/*
 * Replaces <path> with what <fill> writes to the FILE it is given (mode
 * 0640). <fill> returns 0, or a negative errno to abandon the write.
 * Returns 0, or -errno of the first step that failed (the old file is then
 * untouched and the temporary file removed).
 */
int
atomic_file_write(const char *path, int (*fill)(FILE *out, void *arg),
	void *arg);

#endif /* SMBGW_ATOMIC_FILE_H */
