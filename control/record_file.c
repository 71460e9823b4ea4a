/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output_status.h"
#include "record_file.h"

#define RECORD_FILE_BUFFER_DEFAULT	65536
/* How far back a partial last line is looked for at open. */
#define RECORD_FILE_TAIL_MAX		65536

struct record_file {
	char path[RECORD_FILE_PATH_MAX];
	int fd;
	ssize_t (*write)(int fd, const void *buf, size_t len);
	struct output_status status;
	size_t size;
	size_t len;
	unsigned int records;	/* in the buffer */
	char *buffer;
};

static unsigned int
count_lines(const char *buf, size_t len)
{
	unsigned int n = 0;
	const char *p = buf, *end = buf + len;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/*
 * A crash during a short write can leave a cut-off last line: cut the
 * file back to its last '\n' (or to empty when none is in the tail).
 */
static void
cut_partial_line(int fd)
{
	char tail[4096];
	struct stat st;
	off_t end, pos;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return;
	end = st.st_size;
	pos = end;
	while (pos > 0 && end - pos < RECORD_FILE_TAIL_MAX) {
		size_t n = pos >= (off_t)sizeof(tail) ? sizeof(tail) : (size_t)pos;
		ssize_t got = pread(fd, tail, n, pos - (off_t)n);
		size_t i;

		if (got != (ssize_t)n)
			return;
		for (i = n; i > 0; i--)
			if (tail[i - 1] == '\n') {
				off_t keep = pos - (off_t)n + (off_t)i;

				if (keep != end && ftruncate(fd, keep) != 0)
					return;
				return;
			}
		pos -= (off_t)n;
	}
	/* No line end at all: the whole file is one cut-off record. A long
	 * tail without one is left alone: not a record of ours. */
	if (pos == 0)
		(void)ftruncate(fd, 0);
}

static int
open_append(struct record_file *rf)
{
	/* Read access only to look at the last line; not required. */
	rf->fd = open(rf->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
		0640);
	if (rf->fd < 0 && errno == EACCES)
		rf->fd = open(rf->path, O_WRONLY | O_CREAT | O_APPEND |
			O_CLOEXEC, 0640);
	if (rf->fd < 0)
		return -errno;
	cut_partial_line(rf->fd);
	return 0;
}

struct record_file *
record_file_open(const struct record_file_params *params)
{
	struct record_file *rf;
	int ret;

	if (params == NULL || params->path == NULL || params->path[0] == '\0' ||
			strlen(params->path) >= RECORD_FILE_PATH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	rf = calloc(1, sizeof(*rf));
	if (rf == NULL)
		return NULL;
	snprintf(rf->path, sizeof(rf->path), "%s", params->path);
	rf->write = params->write != NULL ? params->write : write;
	rf->size = params->buffer_size != 0 ? params->buffer_size :
		RECORD_FILE_BUFFER_DEFAULT;
	output_status_init(&rf->status, params->what != NULL ? params->what :
		"output", rf->path, "records");
	rf->buffer = malloc(rf->size);
	if (rf->buffer == NULL)
		goto free_rf;
	ret = open_append(rf);
	if (ret < 0) {
		free(rf->buffer);
		errno = -ret;
		goto free_rf;
	}
	return rf;

free_rf:
	ret = errno;
	free(rf);
	errno = ret;
	return NULL;
}

/*
 * Writes <len> bytes of whole records at the end of the file. On failure
 * the file is cut back to the last whole record written; returns 0 or
 * -errno, with *kept set to the bytes that stay in the file.
 */
static int
write_whole(struct record_file *rf, const char *buf, size_t len, size_t *kept)
{
	off_t start = lseek(rf->fd, 0, SEEK_END);
	size_t done = 0, whole;
	int err = 0;

	*kept = 0;
	if (start < 0)
		return -errno;
	while (done < len) {
		ssize_t n = rf->write(rf->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		done += (size_t)n;
	}
	if (err == 0) {
		*kept = len;
		return 0;
	}
	/* Keep what ends with a line end; cut the rest off the file. */
	whole = done;
	while (whole > 0 && buf[whole - 1] != '\n')
		whole--;
	if (whole != done && ftruncate(rf->fd, start + (off_t)whole) != 0)
		rf->status.counters.errors++;
	*kept = whole;
	return -err;
}

int
record_file_flush(struct record_file *rf)
{
	unsigned int records = rf->records, kept_records;
	size_t kept;
	int ret;

	if (rf->len == 0)
		return 0;
	ret = write_whole(rf, rf->buffer, rf->len, &kept);
	kept_records = kept == rf->len ? records : count_lines(rf->buffer, kept);
	rf->len = 0;
	rf->records = 0;
	if (ret == 0) {
		output_status_written(&rf->status, records);
		return 0;
	}
	rf->status.counters.written += kept_records;
	output_status_failed(&rf->status, -ret, records - kept_records);
	return ret;
}

int
record_file_append(struct record_file *rf, const char *record, size_t len)
{
	if (len == 0 || record[len - 1] != '\n' ||
			memchr(record, '\n', len - 1) != NULL) {
		/* The caller's mistake, not the file's: no episode. */
		rf->status.counters.dropped++;
		return -EINVAL;
	}
	if (rf->fd < 0) {
		output_status_dropped(&rf->status, 1);
		return -EBADF;
	}
	/* A failed flush is counted there; this record still gets its try. */
	if (rf->len + len > rf->size)
		record_file_flush(rf);
	if (len > rf->size)
		goto unbuffered;
	memcpy(rf->buffer + rf->len, record, len);
	rf->len += len;
	rf->records++;
	return 0;

unbuffered: {
		/* Longer than the buffer: on its own, whole or not at all. */
		size_t kept;
		int ret = write_whole(rf, record, len, &kept);

		if (ret == 0) {
			output_status_written(&rf->status, 1);
			return 0;
		}
		output_status_failed(&rf->status, -ret, 1);
		return -EIO;
	}
}

int
record_file_reopen(struct record_file *rf)
{
	if (rf->fd >= 0) {
		record_file_flush(rf);
		close(rf->fd);
		rf->fd = -1;
	}
	return open_append(rf);
}

void
record_file_close(struct record_file *rf)
{
	if (rf == NULL)
		return;
	if (rf->fd >= 0) {
		record_file_flush(rf);
		close(rf->fd);
	}
	free(rf->buffer);
	free(rf);
}

const struct output_counters *
record_file_counters(const struct record_file *rf)
{
	return &rf->status.counters;
}
