/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_files.h"

#define INCLUDE_KEYWORD "@include"
#define INCLUDE_KEYWORD_LEN (sizeof(INCLUDE_KEYWORD) - 1)

/* A run of lines of one file in the text. */
struct text_span {
	unsigned int text_line;	/* its first line in the text, from 1 */
	unsigned int file;	/* index in files[] */
	unsigned int file_line;	/* the same line's number in its file */
};

struct config_text {
	char *buf;		/* NUL-terminated */
	size_t len;
	size_t cap;
	unsigned int line;	/* the text's line being written, from 1 */
	unsigned int file_count;
	char *files[CONFIG_FILES_MAX];
	unsigned int span_count;
	unsigned int span_cap;
	struct text_span *spans;	/* ordered by text_line */
};

/* Where a file is named: the directive that includes it. */
struct include_site {
	const char *file;	/* the including file */
	unsigned int line;
	const char *written;	/* the path as the directive has it */
};

/* A file whose expansion is under way: an include of it is a cycle. */
struct open_file {
	dev_t dev;
	ino_t ino;
};

struct reader {
	struct config_text *text;
	struct config_errors *errors;
	struct open_file stack[CONFIG_INCLUDE_DEPTH_MAX + 1];
	unsigned int depth;	/* files on the stack */
	int main_errno;		/* why the main file could not be read */
};

enum scan_state {
	SCAN_CODE,
	SCAN_STRING,
	SCAN_COMMENT,
};

/*
 * Reports a problem with file <path>: for the main file (<site> NULL) as
 * "path:0: why", for an include at the directive that names it, so the
 * message has both files.
 */
static void __attribute__((format(printf, 4, 5)))
report(struct reader *r, const struct include_site *site, const char *path,
	const char *fmt, ...)
{
	char why[CONFIG_ERROR_LEN / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (site == NULL)
		config_error_add(r->errors, path, 0, "%s", why);
	else
		config_error_add(r->errors, site->file, (int)site->line,
			"@include \"%s\": %s: %s", site->written, path, why);
}

static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a special file";
}

/* Explains why stat() of <path> failed with <err>. */
static void
report_stat_error(struct reader *r, const struct include_site *site,
	const char *path, int err)
{
	char target[256];
	struct stat lst;
	ssize_t n;

	if (err == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		report(r, site, path,
			"cannot open: a dangling symbolic link (to %s, which does not exist)",
			target);
		return;
	}
	report(r, site, path, "cannot open: %s", strerror(err));
}

/*
 * Reads the regular file <path>, at most CONFIG_FILE_SIZE_MAX bytes,
 * without ever blocking on it or opening anything else. Returns a malloc'd
 * buffer with its length in <len> and its identity in <st>, or NULL with
 * the problem reported and errno set.
 */
static char *
read_regular_file(struct reader *r, const struct include_site *site,
	const char *path, size_t *len, struct stat *st)
{
	size_t cap, used = 0;
	struct stat opened;
	char *buf, *grown;
	ssize_t n;
	int fd, err;

	/* stat() first: a device or a FIFO is refused without being opened. */
	if (stat(path, st) != 0) {
		err = errno;
		report_stat_error(r, site, path, err);
		errno = err;
		return NULL;
	}
	if (!S_ISREG(st->st_mode)) {
		report(r, site, path, "refused: %s, not a regular file",
			file_kind(st->st_mode));
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		return NULL;
	}
	if (st->st_size > (off_t)CONFIG_FILE_SIZE_MAX) {
		report(r, site, path,
			"refused: %lld bytes, more than the %u a configuration file may have",
			(long long)st->st_size, CONFIG_FILE_SIZE_MAX);
		errno = EFBIG;
		return NULL;
	}
	/* O_NONBLOCK: should a FIFO replace the file meanwhile, no wait. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		report(r, site, path, "cannot open: %s", strerror(err));
		errno = err;
		return NULL;
	}
	if (fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode) ||
			opened.st_dev != st->st_dev ||
			opened.st_ino != st->st_ino) {
		report(r, site, path,
			"refused: replaced while being opened, or not a regular file");
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	/* Room for the size seen and a byte more, to notice growth. */
	cap = (size_t)opened.st_size + 2;
	buf = malloc(cap);
	if (buf == NULL)
		goto no_memory;
	for (;;) {
		if (used == cap) {
			if (cap > CONFIG_FILE_SIZE_MAX) {
				report(r, site, path,
					"refused: grew beyond the %u bytes a configuration file may have",
					CONFIG_FILE_SIZE_MAX);
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap = cap * 2 > CONFIG_FILE_SIZE_MAX + 1 ?
				CONFIG_FILE_SIZE_MAX + 1 : cap * 2;
			grown = realloc(buf, cap);
			if (grown == NULL) {
				free(buf);
				goto no_memory;
			}
			buf = grown;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			report(r, site, path, "cannot read: %s", strerror(err));
			free(buf);
			close(fd);
			errno = err;
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	*len = used;
	return buf;

no_memory:
	report(r, site, path, "out of memory reading it");
	close(fd);
	errno = ENOMEM;
	return NULL;
}

/* Appends <len> bytes to the text. Returns 0, -EFBIG or -ENOMEM. */
static int
text_append(struct config_text *t, const char *data, size_t len)
{
	size_t i;

	if (len > CONFIG_TEXT_SIZE_MAX - t->len)
		return -EFBIG;
	if (t->len + len + 1 > t->cap) {
		size_t cap = t->cap == 0 ? 4096 : t->cap;
		char *grown;

		while (cap < t->len + len + 1)
			cap *= 2;
		grown = realloc(t->buf, cap);
		if (grown == NULL)
			return -ENOMEM;
		t->buf = grown;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, data, len);
	for (i = 0; i < len; i++)
		if (data[i] == '\n')
			t->line++;
	t->len += len;
	t->buf[t->len] = '\0';
	return 0;
}

/* Says that the text's lines from here on are file <file>'s from <line>. */
static int
text_begin_span(struct config_text *t, unsigned int file, unsigned int line)
{
	struct text_span *span;

	if (t->span_count > 0 &&
			t->spans[t->span_count - 1].text_line == t->line) {
		/* The previous span gave no line: take its place. */
		span = &t->spans[t->span_count - 1];
	} else {
		if (t->span_count == t->span_cap) {
			unsigned int cap = t->span_cap == 0 ? 16 :
				t->span_cap * 2;
			struct text_span *grown = realloc(t->spans,
				cap * sizeof(*grown));

			if (grown == NULL)
				return -ENOMEM;
			t->spans = grown;
			t->span_cap = cap;
		}
		span = &t->spans[t->span_count++];
	}
	span->text_line = t->line;
	span->file = file;
	span->file_line = line;
	return 0;
}

/* Copies <len> bytes of file <file> from its line <line> into the text. */
static int
copy_lines(struct reader *r, const struct include_site *site,
	const char *path, unsigned int file, unsigned int line,
	const char *data, size_t len)
{
	int ret;

	if (len == 0)
		return 0;
	ret = text_begin_span(r->text, file, line);
	if (ret == 0)
		ret = text_append(r->text, data, len);
	if (ret == -EFBIG)
		report(r, site, path,
			"refused: the configuration would exceed %u bytes with its includes expanded",
			CONFIG_TEXT_SIZE_MAX);
	else if (ret != 0)
		report(r, site, path, "out of memory reading it");
	return ret;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Looks for an @include directive on the line that starts at <pos>.
 * Returns 0 when there is none, 1 with the path in <written> and the start
 * of the next line in <next>, or -1 with the problem in <why>.
 */
static int
match_include(const char *buf, size_t len, size_t pos, char *written,
	size_t written_len, size_t *next, const char **why)
{
	size_t p = pos, n = 0;
	char c;

	while (p < len && is_blank(buf[p]))
		p++;
	if (len - p < INCLUDE_KEYWORD_LEN ||
			memcmp(buf + p, INCLUDE_KEYWORD, INCLUDE_KEYWORD_LEN) != 0)
		return 0;
	p += INCLUDE_KEYWORD_LEN;
	/* libconfig's pattern: ^[ \t]*@include[ \t]+\" */
	if (p >= len || !is_blank(buf[p]))
		return 0;
	while (p < len && is_blank(buf[p]))
		p++;
	if (p >= len || buf[p] != '"')
		return 0;
	for (p++;; p++) {
		if (p >= len || buf[p] == '\n') {
			*why = "@include: the path has no closing quote on its line";
			return -1;
		}
		c = buf[p];
		if (c == '"')
			break;
		if (c == '\\') {
			if (p + 1 >= len || (buf[p + 1] != '\\' &&
					buf[p + 1] != '"')) {
				*why = "@include: in the path a backslash may only escape \\ or \"";
				return -1;
			}
			c = buf[++p];
		}
		if (n + 1 >= written_len) {
			*why = "@include: the path is too long";
			return -1;
		}
		written[n++] = c;
	}
	written[n] = '\0';
	if (n == 0) {
		*why = "@include: the path is empty";
		return -1;
	}
	for (p++; p < len && (is_blank(buf[p]) || buf[p] == '\r'); p++)
		;
	if (p < len && buf[p] != '\n' && buf[p] != '#' &&
			!(buf[p] == '/' && p + 1 < len && buf[p + 1] == '/')) {
		*why = "@include: only a # or // comment may follow the path on its line";
		return -1;
	}
	while (p < len && buf[p] != '\n')
		p++;
	*next = p < len ? p + 1 : p;
	return 1;
}

/* <written> relative to the directory of <from>, or as it is if absolute. */
static int
resolve_path(const char *from, const char *written, char *out, size_t len)
{
	const char *slash = strrchr(from, '/');
	int n;

	if (written[0] == '/' || slash == NULL)
		n = snprintf(out, len, "%s", written);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - from), from,
			written);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static unsigned int
line_of_offset(const char *buf, size_t offset)
{
	unsigned int line = 1;
	size_t i;

	for (i = 0; i < offset; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

static int expand_file(struct reader *r, const char *path,
	const struct include_site *site);

/*
 * Copies file <file>'s text <buf> into the text, expanding its @include
 * directives, which libconfig would find only outside strings and
 * comments, at the start of a line.
 */
static int
scan_file(struct reader *r, const struct include_site *site,
	unsigned int file, const char *buf, size_t len)
{
	const char *path = r->text->files[file];
	unsigned int line = 1, chunk_line = 1, state_line = 1;
	enum scan_state state = SCAN_CODE;
	size_t i = 0, chunk = 0, next;
	char written[CONFIG_PATH_MAX];
	char resolved[CONFIG_PATH_MAX];
	bool line_start = true;
	const char *why;
	const char *nul;
	int ret;

	/* libconfig would stop at a NUL and silently ignore the rest. */
	nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		config_error_add(r->errors, path,
			(int)line_of_offset(buf, (size_t)(nul - buf)),
			"a NUL byte: not a text file");
		return -EINVAL;
	}
	while (i < len) {
		if (line_start && state == SCAN_CODE) {
			ret = match_include(buf, len, i, written,
				sizeof(written), &next, &why);
			if (ret < 0) {
				config_error_add(r->errors, path, (int)line,
					"%s", why);
				return -EINVAL;
			}
			if (ret > 0) {
				struct include_site here = {
					path, line, written
				};

				ret = copy_lines(r, site, path, file,
					chunk_line, buf + chunk, i - chunk);
				if (ret != 0)
					return ret;
				if (resolve_path(path, written, resolved,
						sizeof(resolved)) != 0) {
					config_error_add(r->errors, path,
						(int)line,
						"@include \"%s\": the path is too long",
						written);
					return -ENAMETOOLONG;
				}
				ret = expand_file(r, resolved, &here);
				if (ret != 0)
					return ret;
				i = next;
				chunk = next;
				chunk_line = ++line;
				continue;
			}
		}
		switch (state) {
		case SCAN_CODE:
			if (buf[i] == '"') {
				state = SCAN_STRING;
				state_line = line;
			} else if (buf[i] == '/' && i + 1 < len &&
					buf[i + 1] == '*') {
				state = SCAN_COMMENT;
				state_line = line;
				i++;
			} else if (buf[i] == '#' || (buf[i] == '/' &&
					i + 1 < len && buf[i + 1] == '/')) {
				while (i + 1 < len && buf[i + 1] != '\n')
					i++;
			}
			break;
		case SCAN_STRING:
			if (buf[i] == '\\' && i + 1 < len)
				i++;	/* \" and \\ do not end the string */
			else if (buf[i] == '"')
				state = SCAN_CODE;
			break;
		case SCAN_COMMENT:
			if (buf[i] == '*' && i + 1 < len && buf[i + 1] == '/') {
				state = SCAN_CODE;
				i++;
			}
			break;
		}
		line_start = buf[i] == '\n';
		if (line_start)
			line++;
		i++;
	}
	/*
	 * An included file ends where it ends: a string or comment left open
	 * would swallow the text of the file that included it.
	 */
	if (site != NULL && state != SCAN_CODE) {
		config_error_add(r->errors, path, (int)state_line,
			"the %s opened here does not end before the end of the file",
			state == SCAN_STRING ? "string" : "comment");
		return -EINVAL;
	}
	ret = copy_lines(r, site, path, file, chunk_line, buf + chunk,
		len - chunk);
	if (ret == 0 && site != NULL && len > 0 && buf[len - 1] != '\n')
		ret = copy_lines(r, site, path, file, line, "\n", 1);
	return ret;
}

/* Reads file <path> (included at <site>, or the main file) into the text. */
static int
expand_file(struct reader *r, const char *path,
	const struct include_site *site)
{
	struct config_text *t = r->text;
	unsigned int file, i;
	struct stat st;
	size_t len = 0;
	char *buf;
	int ret;

	if (r->depth > CONFIG_INCLUDE_DEPTH_MAX) {
		report(r, site, path, "includes nest more than %u deep",
			CONFIG_INCLUDE_DEPTH_MAX);
		return -ELOOP;
	}
	if (t->file_count == CONFIG_FILES_MAX) {
		report(r, site, path,
			"more than %u files in one configuration",
			CONFIG_FILES_MAX);
		return -EMFILE;
	}
	buf = read_regular_file(r, site, path, &len, &st);
	if (buf == NULL) {
		if (site == NULL)
			r->main_errno = errno;
		return -errno;
	}
	for (i = 0; i < r->depth; i++) {
		if (r->stack[i].dev == st.st_dev &&
				r->stack[i].ino == st.st_ino) {
			report(r, site, path,
				"an include cycle: the file is already being read");
			free(buf);
			return -ELOOP;
		}
	}
	file = t->file_count;
	t->files[file] = strdup(path);
	if (t->files[file] == NULL) {
		report(r, site, path, "out of memory reading it");
		free(buf);
		return -ENOMEM;
	}
	t->file_count++;
	r->stack[r->depth].dev = st.st_dev;
	r->stack[r->depth].ino = st.st_ino;
	r->depth++;
	ret = scan_file(r, site, file, buf, len);
	r->depth--;
	free(buf);
	return ret;
}

struct config_text *
config_text_read(const char *path, struct config_errors *errors)
{
	struct config_text *text = calloc(1, sizeof(*text));
	struct reader r;
	int ret;

	if (text == NULL) {
		config_error_add(errors, path, 0, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	text->line = 1;
	memset(&r, 0, sizeof(r));
	r.text = text;
	r.errors = errors;
	ret = expand_file(&r, path, NULL);
	/* An empty file is an empty text. */
	if (ret == 0 && text->buf == NULL)
		ret = text_append(text, "", 0);
	if (ret != 0) {
		config_text_free(text);
		errno = r.main_errno != 0 ? r.main_errno :
			ret == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	return text;
}

const char *
config_text_string(const struct config_text *text)
{
	return text->buf;
}

int
config_text_locate(const struct config_text *text, int line,
	const char **file, int *file_line)
{
	unsigned int lo = 0, hi = text->span_count;
	const struct text_span *span;

	if (line < 1 || (unsigned int)line > text->line || hi == 0)
		return -ERANGE;
	/* The last span that starts at or before <line>. */
	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (text->spans[mid].text_line <= (unsigned int)line)
			lo = mid;
		else
			hi = mid;
	}
	span = &text->spans[lo];
	if (span->text_line > (unsigned int)line)
		return -ERANGE;
	*file = text->files[span->file];
	*file_line = (int)(span->file_line + ((unsigned int)line -
		span->text_line));
	return 0;
}

void
config_text_free(struct config_text *text)
{
	unsigned int i;

	if (text == NULL)
		return;
	for (i = 0; i < text->file_count; i++)
		free(text->files[i]);
	free(text->spans);
	free(text->buf);
	free(text);
}
