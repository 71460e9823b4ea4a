/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hs.h>

#include "match.h"

#define CACHE_LINE 64

struct watchlist {
	/*
	 * Per kind: its database (NULL if it has no patterns) and the mask
	 * of every class its patterns can report.
	 */
	hs_database_t *db[WATCH_KIND_COUNT];
	uint32_t kind_classes[WATCH_KIND_COUNT];
	unsigned int class_count;
	char class_names[WATCHLIST_CLASSES_MAX][WATCHLIST_CLASS_NAME_MAX];
	uint64_t serial;	/* unique per compiled watchlist, for memos */
};

static uint64_t watchlist_serials;

/*
 * A name's classes, remembered: a session names the same share, pipe and
 * file in every read and write, and a scan costs far more than a compare.
 * Names longer than the entry are always scanned.
 */
#define MEMO_ENTRIES 256
#define MEMO_NAME_MAX 58

struct memo_entry {
	uint32_t classes;
	uint8_t kind;
	uint8_t len;		/* 0: empty */
	char name[MEMO_NAME_MAX];
};

_Static_assert(sizeof(struct memo_entry) == CACHE_LINE,
	"a remembered name fills one cache line");

struct watchlist_scratch {
	hs_scratch_t *hs;
	uint64_t memo_of;	/* serial of the watchlist memo is for */
	bool memo_off;
	struct watchlist_counters counters;
	/*
	 * The last name of each kind as it was given, before it was cut to
	 * what is matched, with its classes: a session's reads and writes
	 * name the same share and file again and again, and this answers
	 * them with one compare, without cutting, hashing or looking up.
	 */
	struct memo_entry last[WATCH_KIND_COUNT] __attribute__((aligned(CACHE_LINE)));
	struct memo_entry memo[MEMO_ENTRIES] __attribute__((aligned(CACHE_LINE)));
} __attribute__((aligned(CACHE_LINE)));

/* What a scan collects; the callback stops once every class is found. */
struct match_ctx {
	uint32_t mask;
	uint32_t all;
};

static const char *const kind_names[WATCH_KIND_COUNT] = {
	[WATCH_KIND_SHARE] = "share",
	[WATCH_KIND_PIPE] = "pipe",
	[WATCH_KIND_FILE] = "file",
};

/*
 * The built-in watchlists. Names are case-insensitive on Windows, so
 * every default is caseless. See README.md for where each name comes from.
 */
struct default_entry {
	enum watch_kind kind;
	const char *class_name;
	const char *pattern;
};

static const struct default_entry default_entries[] = {
	/* Administrative shares: ADMIN$ and drive shares C$, D$, ... */
	{ WATCH_KIND_SHARE, "admin_share", "^ADMIN\\$$" },
	{ WATCH_KIND_SHARE, "admin_share", "^[A-Z]\\$$" },
	{ WATCH_KIND_SHARE, "ipc_share", "^IPC\\$$" },

	/* Pipes that create services, schedule tasks or carry remote shells. */
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^svcctl$" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^atsvc$" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^winreg$" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^PSEXEC?SVC" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^RemCom_" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^PAExec" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^csexec" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^ahexec" },
	/* Cobalt Strike's default pipe names: SMB beacons, post-ex jobs. */
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^MSSE-[0-9]+-server$" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^msagent_[0-9a-f]{2,}$" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^postex_(ssh_)?[0-9a-f]{4}$" },
	{ WATCH_KIND_PIPE, "remote_exec_pipe", "^status_[0-9a-f]{2}$" },

	/* Pipes used to enumerate users, groups, sessions, shares, domains. */
	{ WATCH_KIND_PIPE, "recon_pipe", "^samr$" },
	{ WATCH_KIND_PIPE, "recon_pipe", "^lsarpc$" },
	{ WATCH_KIND_PIPE, "recon_pipe", "^lsass$" },
	{ WATCH_KIND_PIPE, "recon_pipe", "^srvsvc$" },
	{ WATCH_KIND_PIPE, "recon_pipe", "^wkssvc$" },
	{ WATCH_KIND_PIPE, "recon_pipe", "^netlogon$" },

	/*
	 * Files Windows will run or load: programs, libraries and drivers,
	 * installers and control panel items, and the scripts its shells and
	 * script hosts run (cmd, PowerShell, WSH, mshta).
	 */
	{ WATCH_KIND_FILE, "executable",
		"\\.(exe|dll|sys|com|scr|cpl|ocx|msi|bat|cmd|ps1|psm1|vbs|vbe|js|jse|wsf|hta)$" },
};

static void
set_error(char *error, size_t error_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_error(char *error, size_t error_len, const char *fmt, ...)
{
	va_list ap;

	if (error == NULL || error_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(error, error_len, fmt, ap);
	va_end(ap);
}

/* Writes <src> to <dst> as the body of a C or libconfig string literal. */
static void
quote_pattern(char *dst, size_t dst_len, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 3 < dst_len; src++) {
		if (*src == '\\' || *src == '"')
			dst[o++] = '\\';
		dst[o++] = *src;
	}
	dst[o] = '\0';
}

static bool
class_name_valid(const char *name, size_t max)
{
	size_t i;

	for (i = 0; i < max && name[i] != '\0'; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return i > 0 && i < max;
}

const char *
watchlist_kind_name(enum watch_kind kind)
{
	if ((unsigned int)kind >= WATCH_KIND_COUNT)
		return "?";
	return kind_names[kind];
}

void
watchlist_spec_clear(struct watchlist_spec *spec)
{
	spec->count = 0;
}

void
watchlist_spec_set_defaults(struct watchlist_spec *spec)
{
	size_t i;

	watchlist_spec_clear(spec);
	for (i = 0; i < sizeof(default_entries) / sizeof(default_entries[0]);
			i++)
		watchlist_spec_add(spec, default_entries[i].kind,
			default_entries[i].class_name,
			default_entries[i].pattern, true, 0);
}

int
watchlist_spec_add(struct watchlist_spec *spec, enum watch_kind kind,
	const char *class_name, const char *pattern, bool caseless, int line)
{
	struct watchlist_entry *e;
	size_t plen;

	if ((unsigned int)kind >= WATCH_KIND_COUNT || pattern == NULL ||
			class_name == NULL ||
			!class_name_valid(class_name, WATCHLIST_CLASS_NAME_MAX))
		return -EINVAL;
	plen = strlen(pattern);
	if (plen == 0)
		return -EINVAL;
	if (plen >= WATCHLIST_PATTERN_MAX)
		return -ENAMETOOLONG;
	if (spec->count >= WATCHLIST_ENTRIES_MAX)
		return -ENOSPC;
	e = &spec->entries[spec->count++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->caseless = caseless;
	e->line = line;
	memcpy(e->class_name, class_name, strlen(class_name) + 1);
	memcpy(e->pattern, pattern, plen + 1);
	return 0;
}

/* Id of the class called <name> in <wl>, or -1. */
static int
find_class(const struct watchlist *wl, const char *name)
{
	unsigned int i;

	for (i = 0; i < wl->class_count; i++)
		if (strcmp(wl->class_names[i], name) == 0)
			return (int)i;
	return -1;
}

unsigned int
watchlist_spec_class_count(const struct watchlist_spec *spec)
{
	const char *seen[WATCHLIST_ENTRIES_MAX];
	unsigned int i, j, count = 0;

	for (i = 0; i < spec->count && i < WATCHLIST_ENTRIES_MAX; i++) {
		for (j = 0; j < count; j++)
			if (strncmp(seen[j], spec->entries[i].class_name,
					WATCHLIST_CLASS_NAME_MAX) == 0)
				break;
		if (j == count)
			seen[count++] = spec->entries[i].class_name;
	}
	return count;
}

static unsigned int
pattern_flags(bool caseless)
{
	/* One report per pattern is all a class bit needs. */
	return HS_FLAG_SINGLEMATCH | (caseless ? HS_FLAG_CASELESS : 0);
}

int
watchlist_pattern_check(const char *pattern, bool caseless, char *error,
	size_t error_len)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;

	if (hs_compile(pattern, pattern_flags(caseless), HS_MODE_BLOCK, NULL,
			&db, &cerr) != HS_SUCCESS) {
		set_error(error, error_len, "%s",
			cerr != NULL ? cerr->message : "cannot compile");
		hs_free_compile_error(cerr);
		return -EINVAL;
	}
	hs_free_database(db);
	return 0;
}

/* Checks what watchlist_spec_add() checks, for specs filled by hand. */
static int
check_entry(const struct watchlist_entry *e, unsigned int index, char *error,
	size_t error_len)
{
	if ((unsigned int)e->kind >= WATCH_KIND_COUNT) {
		set_error(error, error_len, "entry %u: bad kind %d", index,
			(int)e->kind);
		return -EINVAL;
	}
	if (!class_name_valid(e->class_name, WATCHLIST_CLASS_NAME_MAX)) {
		set_error(error, error_len,
			"entry %u: class name must be 1 to %d characters of [A-Za-z0-9_]",
			index, WATCHLIST_CLASS_NAME_MAX - 1);
		return -EINVAL;
	}
	if (e->pattern[0] == '\0' ||
			strnlen(e->pattern, WATCHLIST_PATTERN_MAX) ==
			WATCHLIST_PATTERN_MAX) {
		set_error(error, error_len,
			"entry %u (class %s): pattern must be 1 to %d bytes",
			index, e->class_name, WATCHLIST_PATTERN_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

/* Compiles the entries of <kind> into wl->db[kind]; ids are class ids. */
static int
compile_kind(struct watchlist *wl, const struct watchlist_spec *spec,
	enum watch_kind kind, char *error, size_t error_len)
{
	const char *exprs[WATCHLIST_ENTRIES_MAX];
	unsigned int flags[WATCHLIST_ENTRIES_MAX];
	unsigned int ids[WATCHLIST_ENTRIES_MAX];
	unsigned int from[WATCHLIST_ENTRIES_MAX];
	hs_compile_error_t *cerr = NULL;
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < spec->count; i++) {
		const struct watchlist_entry *e = &spec->entries[i];

		if (e->kind != kind)
			continue;
		exprs[n] = e->pattern;
		flags[n] = pattern_flags(e->caseless);
		ids[n] = (unsigned int)find_class(wl, e->class_name);
		wl->kind_classes[kind] |= UINT32_C(1) << ids[n];
		from[n] = i;
		n++;
	}
	if (n == 0)
		return 0;

	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL,
			&wl->db[kind], &cerr) == HS_SUCCESS)
		return 0;
	if (cerr != NULL && cerr->expression >= 0 &&
			(unsigned int)cerr->expression < n) {
		const struct watchlist_entry *e =
			&spec->entries[from[cerr->expression]];
		char quoted[2 * WATCHLIST_PATTERN_MAX];

		quote_pattern(quoted, sizeof(quoted), e->pattern);
		set_error(error, error_len,
			"pattern \"%s\" (class %s, %s): %s", quoted,
			e->class_name, kind_names[kind], cerr->message);
	} else {
		set_error(error, error_len, "%s patterns: %s", kind_names[kind],
			cerr != NULL ? cerr->message : "cannot compile");
	}
	/* Hyperscan says "Unable to allocate memory." when it runs out. */
	ret = (cerr != NULL && strstr(cerr->message, "memory") != NULL) ?
		-ENOMEM : -EINVAL;
	hs_free_compile_error(cerr);
	wl->db[kind] = NULL;
	return ret;
}

struct watchlist *
watchlist_compile(const struct watchlist_spec *spec, char *error,
	size_t error_len)
{
	struct watchlist *wl;
	unsigned int i;
	int kind, ret;

	set_error(error, error_len, "%s", "");
	if (spec == NULL || spec->count > WATCHLIST_ENTRIES_MAX) {
		set_error(error, error_len, "bad watchlist spec");
		errno = EINVAL;
		return NULL;
	}
	wl = calloc(1, sizeof(*wl));
	if (wl == NULL) {
		set_error(error, error_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	wl->serial = __atomic_add_fetch(&watchlist_serials, 1,
		__ATOMIC_RELAXED);

	/* Class ids in order of first appearance. */
	for (i = 0; i < spec->count; i++) {
		const struct watchlist_entry *e = &spec->entries[i];

		ret = check_entry(e, i, error, error_len);
		if (ret < 0)
			goto free_wl;
		if (find_class(wl, e->class_name) >= 0)
			continue;
		if (wl->class_count == WATCHLIST_CLASSES_MAX) {
			set_error(error, error_len,
				"too many classes: \"%s\" would be class %d, at most %d are allowed",
				e->class_name, WATCHLIST_CLASSES_MAX + 1,
				WATCHLIST_CLASSES_MAX);
			ret = -EINVAL;
			goto free_wl;
		}
		memcpy(wl->class_names[wl->class_count++], e->class_name,
			strlen(e->class_name) + 1);
	}

	for (kind = 0; kind < WATCH_KIND_COUNT; kind++) {
		ret = compile_kind(wl, spec, kind, error, error_len);
		if (ret < 0)
			goto free_dbs;
	}
	return wl;

free_dbs:
	for (kind = 0; kind < WATCH_KIND_COUNT; kind++)
		hs_free_database(wl->db[kind]);
free_wl:
	free(wl);
	errno = -ret;
	return NULL;
}

void
watchlist_free(struct watchlist *wl)
{
	int kind;

	if (wl == NULL)
		return;
	for (kind = 0; kind < WATCH_KIND_COUNT; kind++)
		hs_free_database(wl->db[kind]);
	free(wl);
}

unsigned int
watchlist_class_count(const struct watchlist *wl)
{
	return wl->class_count;
}

const char *
watchlist_class_name(const struct watchlist *wl, unsigned int id)
{
	if (id >= wl->class_count)
		return NULL;
	return wl->class_names[id];
}

int
watchlist_class_id(const struct watchlist *wl, const char *name)
{
	int id = find_class(wl, name);

	return id >= 0 ? id : -ENOENT;
}

struct watchlist_scratch *
watchlist_scratch_alloc(const struct watchlist *wl)
{
	struct watchlist_scratch *scratch;
	size_t size = (sizeof(*scratch) + CACHE_LINE - 1) &
		~(size_t)(CACHE_LINE - 1);
	int ret;

	if (wl == NULL) {
		errno = EINVAL;
		return NULL;
	}
	scratch = aligned_alloc(CACHE_LINE, size);
	if (scratch == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(scratch, 0, size);
	ret = watchlist_scratch_grow(scratch, wl);
	if (ret < 0) {
		free(scratch);
		errno = -ret;
		return NULL;
	}
	return scratch;
}

void
watchlist_scratch_remember(struct watchlist_scratch *scratch, bool on)
{
	scratch->memo_off = !on;
}

int
watchlist_scratch_grow(struct watchlist_scratch *scratch,
	const struct watchlist *wl)
{
	hs_scratch_t *hs = NULL;
	int kind;

	if (scratch == NULL || wl == NULL)
		return -EINVAL;
	/*
	 * hs_alloc_scratch() frees the scratch it is given when growing it
	 * fails; grow a copy so that failure leaves <scratch> as it was.
	 */
	if (scratch->hs != NULL &&
			hs_clone_scratch(scratch->hs, &hs) != HS_SUCCESS)
		return -ENOMEM;
	for (kind = 0; kind < WATCH_KIND_COUNT; kind++) {
		if (wl->db[kind] == NULL)
			continue;
		if (hs_alloc_scratch(wl->db[kind], &hs) != HS_SUCCESS) {
			hs_free_scratch(hs);
			return -ENOMEM;
		}
	}
	hs_free_scratch(scratch->hs);
	scratch->hs = hs;
	return 0;
}

void
watchlist_scratch_free(struct watchlist_scratch *scratch)
{
	if (scratch == NULL)
		return;
	hs_free_scratch(scratch->hs);
	free(scratch);
}

const struct watchlist_counters *
watchlist_scratch_counters(const struct watchlist_scratch *scratch)
{
	return &scratch->counters;
}

void
watchlist_scratch_reset_counters(struct watchlist_scratch *scratch)
{
	memset(&scratch->counters, 0, sizeof(scratch->counters));
}

static inline bool
is_sep(char c)
{
	return c == '\\' || c == '/';
}

void
watchlist_share_name(const char *path, size_t len, const char **out,
	size_t *out_len)
{
	size_t i = 0, start;

	if (len >= 2 && is_sep(path[0]) && is_sep(path[1])) {
		/* \\server\share: skip the server. */
		for (i = 2; i < len && !is_sep(path[i]); i++)
			;
		if (i == len) {
			*out = path + len;
			*out_len = 0;
			return;
		}
		i++;
	} else {
		while (i < len && is_sep(path[i]))
			i++;
	}
	for (start = i; i < len && !is_sep(path[i]); i++)
		;
	*out = path + start;
	*out_len = i - start;
}

void
watchlist_pipe_name(const char *name, size_t len, const char **out,
	size_t *out_len)
{
	while (len > 0 && is_sep(name[0])) {
		name++;
		len--;
	}
	/* "pipe" in any case, without a call: this runs for every pipe name. */
	if (len >= 5 && (name[0] | 0x20) == 'p' && (name[1] | 0x20) == 'i' &&
			(name[2] | 0x20) == 'p' && (name[3] | 0x20) == 'e' &&
			is_sep(name[4])) {
		name += 5;
		len -= 5;
		while (len > 0 && is_sep(name[0])) {
			name++;
			len--;
		}
	}
	*out = name;
	*out_len = len;
}

static void
file_name(const char *name, size_t len, const char **out, size_t *out_len)
{
	static const char data_stream[] = "::$DATA";
	const size_t ds_len = sizeof(data_stream) - 1;

	while (len > 0 && is_sep(name[0])) {
		name++;
		len--;
	}
	if (len > ds_len &&
			strncasecmp(name + len - ds_len, data_stream, ds_len) == 0)
		len -= ds_len;
	*out = name;
	*out_len = len;
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
	unsigned int flags, void *arg)
{
	struct match_ctx *ctx = arg;

	(void)from;
	(void)to;
	(void)flags;
	ctx->mask |= UINT32_C(1) << id;
	return ctx->mask == ctx->all;	/* nonzero stops the scan */
}

/* Forgets every name when the scratch serves another watchlist than last time. */
static inline void
memo_serve(struct watchlist_scratch *scratch, const struct watchlist *wl)
{
	if (scratch->memo_of != wl->serial) {
		memset(scratch->memo, 0, sizeof(scratch->memo));
		memset(scratch->last, 0, sizeof(scratch->last));
		scratch->memo_of = wl->serial;
	}
}

/* The classes a match of <mask> adds up, counted. */
static inline uint32_t
count_matches(struct watchlist_scratch *scratch, uint32_t mask)
{
	uint32_t bits;

	for (bits = mask; bits != 0; bits &= bits - 1)
		scratch->counters.matches[__builtin_ctz(bits)]++;
	return mask;
}

/*
 * The memo entry for <name> of <kind> (normalised, <len> bytes), or NULL if
 * the name is too long to remember. Forgets everything when the scratch
 * serves another watchlist than last time.
 */
static struct memo_entry *
memo_slot(struct watchlist_scratch *scratch, const struct watchlist *wl,
	enum watch_kind kind, const char *name, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull * ((uint64_t)kind + 1) ^ len;
	size_t i;

	if (len > MEMO_NAME_MAX || scratch->memo_off)
		return NULL;
	memo_serve(scratch, wl);
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t word;

		memcpy(&word, name + i, 8);
		h = (h ^ word) * 0xff51afd7ed558ccdull;
	}
	for (; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
	h ^= h >> 32;
	return &scratch->memo[h % MEMO_ENTRIES];
}

uint32_t
watchlist_match(const struct watchlist *wl, struct watchlist_scratch *scratch,
	enum watch_kind kind, const char *name, size_t len)
{
	const char *given = name;
	size_t given_len = len;
	struct memo_entry *memo, *last;
	struct match_ctx ctx;
	const hs_database_t *db;
	hs_error_t ret;

	if ((unsigned int)kind >= WATCH_KIND_COUNT)
		return 0;
	scratch->counters.names[kind]++;
	db = wl->db[kind];
	if (db == NULL)
		return 0;
	last = &scratch->last[kind];
	if (len <= MEMO_NAME_MAX && !scratch->memo_off) {
		memo_serve(scratch, wl);
		if (last->len == len && len != 0 &&
				memcmp(last->name, name, len) == 0) {
			scratch->counters.memo_hits++;
			return count_matches(scratch, last->classes);
		}
	}

	/* Decoders may leave the terminating NULs of SMB1 strings. */
	while (len > 0 && name[len - 1] == '\0')
		len--;
	switch (kind) {
	case WATCH_KIND_SHARE:
		watchlist_share_name(name, len, &name, &len);
		break;
	case WATCH_KIND_PIPE:
		watchlist_pipe_name(name, len, &name, &len);
		break;
	default:
		file_name(name, len, &name, &len);
		break;
	}
	if (len == 0)
		return 0;
	if (len > UINT_MAX) {
		scratch->counters.scan_errors++;
		return 0;
	}


	memo = memo_slot(scratch, wl, kind, name, len);
	if (memo != NULL && memo->len == len && memo->kind == kind &&
			memcmp(memo->name, name, len) == 0) {
		ctx.mask = memo->classes;
		scratch->counters.memo_hits++;
	} else {
		ctx.mask = 0;
		ctx.all = wl->kind_classes[kind];
		ret = hs_scan(db, name, (unsigned int)len, 0, scratch->hs,
			on_match, &ctx);
		if (ret != HS_SUCCESS && ret != HS_SCAN_TERMINATED) {
			scratch->counters.scan_errors++;
			return 0;
		}
		if (memo != NULL) {
			memo->classes = ctx.mask;
			memo->kind = (uint8_t)kind;
			memo->len = (uint8_t)len;
			memcpy(memo->name, name, len);
		}
	}
	/* Remembered as given: the same bytes normalise the same way. */
	if (memo != NULL && given_len <= MEMO_NAME_MAX) {
		last->classes = ctx.mask;
		last->len = (uint8_t)given_len;
		memcpy(last->name, given, given_len);
	}
	return count_matches(scratch, ctx.mask);
}
