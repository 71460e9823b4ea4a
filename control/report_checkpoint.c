/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "atomic_file.h"
#include "output_status.h"
#include "report.h"
#include "report_checkpoint.h"
#include "report_csv.h"

#define FNV_OFFSET	0xcbf29ce484222325ull
#define FNV_PRIME	0x100000001b3ull
/* More rows than any report holds (report.max_rows) means damage. */
#define CHECKPOINT_ROWS_MAX	(1u << 22)

struct report_checkpoint {
	char path[REPORT_PATH_MAX];
	struct output_status status;
	struct report_checkpoint_counters counters;
};

static uint64_t
fnv1a(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

struct report_checkpoint *
report_checkpoint_create(const char *path)
{
	struct report_checkpoint *cp;

	/* Room for ".bad" and ".tmp" after the name. */
	if (path == NULL || path[0] == '\0' ||
			strlen(path) + 4 >= REPORT_PATH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	cp = calloc(1, sizeof(*cp));
	if (cp == NULL)
		return NULL;
	snprintf(cp->path, sizeof(cp->path), "%s", path);
	output_status_init(&cp->status, "report checkpoint", cp->path,
		"checkpoints");
	return cp;
}

void
report_checkpoint_free(struct report_checkpoint *cp)
{
	free(cp);
}

const struct report_checkpoint_counters *
report_checkpoint_counters(const struct report_checkpoint *cp)
{
	return &cp->counters;
}

/* Saving */

struct save_state {
	FILE *out;
	uint64_t hash;
	uint64_t rows;
};

static void
put(struct save_state *st, const char *s, size_t n)
{
	st->hash = fnv1a(st->hash, s, n);
	fwrite(s, 1, n, st->out);
}

static int
save_row(const struct report_entry *e, void *arg)
{
	struct save_state *st = arg;
	char line[REPORT_CSV_LINE_MAX];
	int n = report_csv_format(e, line, sizeof(line));

	if (n < 0)
		return n;
	put(st, line, (size_t)n);
	st->rows++;
	return ferror(st->out) ? -EIO : 0;
}

static int
fill(FILE *out, void *arg)
{
	const struct report *report = arg;
	struct save_state st = { out, FNV_OFFSET, 0 };
	int ret;

	put(&st, REPORT_CHECKPOINT_MAGIC, strlen(REPORT_CHECKPOINT_MAGIC));
	put(&st, report_csv_header, strlen(report_csv_header));
	ret = report_foreach(report, REPORT_ALL_DAYS, save_row, &st);
	if (ret != 0)
		return ret;
	fprintf(out, "# end rows %" PRIu64 " fnv1a64 %016" PRIx64 "\n",
		st.rows, st.hash);
	return ferror(out) ? -EIO : 0;
}

int
report_checkpoint_save(struct report_checkpoint *cp,
	const struct report *report)
{
	int ret = atomic_file_write(cp->path, fill, (void *)report);

	if (ret == 0)
		output_status_written(&cp->status, 1);
	else
		output_status_failed(&cp->status, -ret, 1);
	cp->counters.saves = cp->status.counters;
	return ret;
}

/* Loading */

struct load_state {
	FILE *in;
	unsigned int line_no;
	char line[REPORT_CSV_LINE_MAX + 2];
	size_t len;		/* without the '\n' */
	char problem[160];
};

/* Reads the next line; false at the end or with a problem set. */
static bool
next_line(struct load_state *st)
{
	if (fgets(st->line, sizeof(st->line), st->in) == NULL) {
		if (ferror(st->in))
			snprintf(st->problem, sizeof(st->problem),
				"read error: %s", strerror(errno));
		else
			snprintf(st->problem, sizeof(st->problem),
				"ends without its \"# end\" line (cut off)");
		return false;
	}
	st->line_no++;
	st->len = strlen(st->line);
	if (st->len == 0 || st->line[st->len - 1] != '\n') {
		snprintf(st->problem, sizeof(st->problem), "line %u: %s",
			st->line_no, feof(st->in) ? "cut off" : "too long");
		return false;
	}
	st->len--;
	return true;
}

/*
 * Reads the whole file, checking it without changing the report; with
 * <report> set, adds its rows. Returns the rows, or -1 with st->problem.
 */
static long
read_rows(struct load_state *st, struct report *report,
	struct report_checkpoint_counters *counters)
{
	uint64_t hash = FNV_OFFSET, rows = 0, end_rows, end_hash;
	struct report_entry e;
	char tail;

	st->line_no = 0;
	if (!next_line(st))
		return -1;
	if (strncmp(st->line, "# smbgw report checkpoint ", 27) == 0 &&
			strcmp(st->line, REPORT_CHECKPOINT_MAGIC) != 0) {
		snprintf(st->problem, sizeof(st->problem),
			"a checkpoint format this version does not read");
		return -1;
	}
	if (strcmp(st->line, REPORT_CHECKPOINT_MAGIC) != 0) {
		snprintf(st->problem, sizeof(st->problem),
			"not a report checkpoint of smbgw (its first line is not \"%.*s\")",
			(int)strlen(REPORT_CHECKPOINT_MAGIC) - 1,
			REPORT_CHECKPOINT_MAGIC);
		return -1;
	}
	hash = fnv1a(hash, st->line, st->len + 1);
	if (!next_line(st))
		return -1;
	if (strcmp(st->line, report_csv_header) != 0) {
		snprintf(st->problem, sizeof(st->problem),
			"line 2: not the report's CSV header");
		return -1;
	}
	hash = fnv1a(hash, st->line, st->len + 1);
	for (;;) {
		if (!next_line(st))
			return -1;
		if (st->line[0] == '#')
			break;
		if (rows == CHECKPOINT_ROWS_MAX ||
				report_csv_parse(st->line, st->len, &e) < 0) {
			snprintf(st->problem, sizeof(st->problem),
				"line %u: not a report row", st->line_no);
			return -1;
		}
		hash = fnv1a(hash, st->line, st->len + 1);
		rows++;
		if (report != NULL) {
			if (report_merge(report, &e) == 0)
				counters->rows_restored++;
			else
				counters->rows_left_out++;
		}
	}
	if (sscanf(st->line, "# end rows %" SCNu64 " fnv1a64 %16" SCNx64 "%c",
			&end_rows, &end_hash, &tail) != 3 || tail != '\n') {
		snprintf(st->problem, sizeof(st->problem),
			"line %u: not the \"# end\" line", st->line_no);
		return -1;
	}
	if (end_rows != rows) {
		snprintf(st->problem, sizeof(st->problem),
			"%" PRIu64 " rows where its \"# end\" line says %" PRIu64
			": damaged", rows, end_rows);
		return -1;
	}
	if (end_hash != hash) {
		snprintf(st->problem, sizeof(st->problem),
			"its text does not match the checksum of its \"# end\" line: damaged or edited");
		return -1;
	}
	if (fgetc(st->in) != EOF) {
		snprintf(st->problem, sizeof(st->problem),
			"text after the \"# end\" line");
		return -1;
	}
	return (long)rows;
}

static void
set_aside(struct report_checkpoint *cp, const char *problem)
{
	char bad[REPORT_PATH_MAX + 8];

	snprintf(bad, sizeof(bad), "%s.bad", cp->path);
	cp->counters.set_aside++;
	if (rename(cp->path, bad) == 0)
		output_log(LOG_WARNING,
			"report checkpoint %s: %s; set aside as %s, the report starts empty",
			cp->path, problem, bad);
	else
		output_log(LOG_WARNING,
			"report checkpoint %s: %s; cannot set it aside (%s), the report starts empty and the next checkpoint replaces it",
			cp->path, problem, strerror(errno));
}

int
report_checkpoint_load(struct report_checkpoint *cp, struct report *report)
{
	uint64_t restored = cp->counters.rows_restored;
	uint64_t left_out = cp->counters.rows_left_out;
	struct load_state *st;
	struct stat sb;
	long rows;
	int fd, ret;

	/* O_NONBLOCK: a FIFO in its place must not hang the start. */
	fd = open(cp->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	if (fd < 0) {
		snprintf(st->problem, sizeof(st->problem), "cannot open it: %s",
			strerror(errno));
		goto damaged;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(st->problem, sizeof(st->problem),
			"not a regular file");
		close(fd);
		goto damaged;
	}
	st->in = fdopen(fd, "r");
	if (st->in == NULL) {
		snprintf(st->problem, sizeof(st->problem), "cannot read it: %s",
			strerror(errno));
		close(fd);
		goto damaged;
	}
	/* Checked whole first, so that a damaged file adds nothing. */
	if (read_rows(st, NULL, NULL) < 0) {
		fclose(st->in);
		goto damaged;
	}
	rewind(st->in);
	rows = read_rows(st, report, &cp->counters);
	fclose(st->in);
	if (rows < 0) {
		/* Changed between the two readings: keep what was added. */
		output_log(LOG_WARNING, "report checkpoint %s: %s while reading it back",
			cp->path, st->problem);
		free(st);
		return (int)(cp->counters.rows_restored - restored);
	}
	restored = cp->counters.rows_restored - restored;
	left_out = cp->counters.rows_left_out - left_out;
	if (left_out != 0)
		output_log(LOG_WARNING,
			"report checkpoint %s: %" PRIu64 " rows restored, %"
			PRIu64 " left out (older than report.days or beyond report.max_rows)",
			cp->path, restored, left_out);
	else
		output_log(LOG_INFO, "report checkpoint %s: %" PRIu64
			" rows restored", cp->path, restored);
	free(st);
	return (int)restored;

damaged:
	set_aside(cp, st->problem);
	free(st);
	ret = -EBADMSG;
	return ret;
}
