/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost of classifying one decoded name with the default watchlists:
 *  - watchlist_match() (one Hyperscan database per kind, as built: the
 *    names repeat, so its memo answers), and with the memo off (every
 *    name scanned),
 *  - one Hyperscan database for all kinds with kind-tagged ids (the
 *    alternative design, built here from the same spec),
 *  - a hand-written strncasecmp loop over the same default literals,
 *    the baseline.
 * All are checked to agree on every name first.
 *
 * Usage: bench_match [rounds]   (default 200000 rounds of 15 names; the
 * best of 5 runs is reported)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <hs.h>

#include "match.h"

struct name {
	enum watch_kind kind;
	const char *text;
};

/* What a worker sees: tree connects, pipe opens, file creates. */
static const struct name names[] = {
	{ WATCH_KIND_SHARE, "\\\\198.18.2.20\\ADMIN$" },
	{ WATCH_KIND_SHARE, "\\\\fs01\\IPC$" },
	{ WATCH_KIND_SHARE, "\\\\fs01\\data" },
	{ WATCH_KIND_SHARE, "\\\\dc01.corp.local\\SYSVOL" },
	{ WATCH_KIND_SHARE, "\\\\srv\\C$" },
	{ WATCH_KIND_PIPE, "svcctl" },
	{ WATCH_KIND_PIPE, "\\PIPE\\srvsvc" },
	{ WATCH_KIND_PIPE, "lsarpc" },
	{ WATCH_KIND_PIPE, "spoolss" },
	{ WATCH_KIND_PIPE, "PSEXESVC-WS01-1234-stdin" },
	{ WATCH_KIND_FILE, "QmEyydJf.exe" },
	{ WATCH_KIND_FILE, "Users\\bob\\Documents\\Q3 report.docx" },
	{ WATCH_KIND_FILE, "desktop.ini" },
	{ WATCH_KIND_FILE, "Windows\\Temp\\a.ps1" },
	{ WATCH_KIND_FILE, "x\\y\\readme.txt" },
};
#define NAME_COUNT (sizeof(names) / sizeof(names[0]))
#define REPEATS 5

/* ---- Baseline: the default literals, compared by hand. ---- */

static const char *const exec_pipes[] = { "svcctl", "atsvc", "winreg" };
static const char *const exec_prefixes[] = { "PSEXESVC", "PSEXECSVC",
	"RemCom_", "PAExec", "csexec", "ahexec" };
static const char *const recon_pipes[] = { "samr", "lsarpc", "lsass",
	"srvsvc", "wkssvc", "netlogon" };
static const char *const extensions[] = { "exe", "dll", "sys", "bat",
	"cmd", "ps1", "vbs", "scr" };

/* Class ids of the defaults, in spec order. */
enum { C_ADMIN, C_IPC, C_EXEC, C_RECON, C_EXE };

static int
equal(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

static uint32_t
baseline(enum watch_kind kind, const char *s, size_t len)
{
	size_t i;

	switch (kind) {
	case WATCH_KIND_SHARE:
		watchlist_share_name(s, len, &s, &len);
		if (equal(s, len, "ADMIN$") || (len == 2 && s[1] == '$' &&
				((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z')))
			return 1u << C_ADMIN;
		if (equal(s, len, "IPC$"))
			return 1u << C_IPC;
		return 0;
	case WATCH_KIND_PIPE:
		watchlist_pipe_name(s, len, &s, &len);
		for (i = 0; i < sizeof(exec_pipes) / sizeof(exec_pipes[0]); i++)
			if (equal(s, len, exec_pipes[i]))
				return 1u << C_EXEC;
		for (i = 0; i < sizeof(exec_prefixes) / sizeof(exec_prefixes[0]);
				i++) {
			size_t n = strlen(exec_prefixes[i]);

			if (len >= n && strncasecmp(s, exec_prefixes[i], n) == 0)
				return 1u << C_EXEC;
		}
		for (i = 0; i < sizeof(recon_pipes) / sizeof(recon_pipes[0]); i++)
			if (equal(s, len, recon_pipes[i]))
				return 1u << C_RECON;
		return 0;
	default:
		for (i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
			if (len > 4 && s[len - 4] == '.' &&
					strncasecmp(s + len - 3, extensions[i], 3) == 0)
				return 1u << C_EXE;
		return 0;
	}
}

/* ---- Alternative: one database, ids = kind << 5 | class. ---- */

struct combined {
	hs_database_t *db;
	hs_scratch_t *scratch;
};

struct combined_ctx {
	unsigned int kind;
	uint32_t mask;
};

static int
combined_on_match(unsigned int id, unsigned long long from,
	unsigned long long to, unsigned int flags, void *arg)
{
	struct combined_ctx *ctx = arg;

	(void)from;
	(void)to;
	(void)flags;
	if ((id >> 5) == ctx->kind)
		ctx->mask |= 1u << (id & 31);
	return 0;
}

static int
combined_build(struct combined *c, const struct watchlist_spec *spec,
	const struct watchlist *wl)
{
	const char *exprs[WATCHLIST_ENTRIES_MAX];
	unsigned int flags[WATCHLIST_ENTRIES_MAX], ids[WATCHLIST_ENTRIES_MAX];
	hs_compile_error_t *err = NULL;
	unsigned int i;

	for (i = 0; i < spec->count; i++) {
		const struct watchlist_entry *e = &spec->entries[i];

		exprs[i] = e->pattern;
		flags[i] = HS_FLAG_SINGLEMATCH |
			(e->caseless ? HS_FLAG_CASELESS : 0);
		ids[i] = (unsigned int)e->kind << 5 |
			(unsigned int)watchlist_class_id(wl, e->class_name);
	}
	if (hs_compile_multi(exprs, flags, ids, spec->count, HS_MODE_BLOCK,
			NULL, &c->db, &err) != HS_SUCCESS) {
		fprintf(stderr, "combined: %s\n", err->message);
		hs_free_compile_error(err);
		return -1;
	}
	c->scratch = NULL;
	return hs_alloc_scratch(c->db, &c->scratch) == HS_SUCCESS ? 0 : -1;
}

static uint32_t
combined_match(struct combined *c, enum watch_kind kind, const char *s,
	size_t len)
{
	struct combined_ctx ctx = { (unsigned int)kind, 0 };

	if (kind == WATCH_KIND_SHARE)
		watchlist_share_name(s, len, &s, &len);
	else if (kind == WATCH_KIND_PIPE)
		watchlist_pipe_name(s, len, &s, &len);
	if (len == 0)
		return 0;
	hs_scan(c->db, s, (unsigned int)len, 0, c->scratch, combined_on_match,
		&ctx);
	return ctx.mask;
}

/* ---- Timing ---- */

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum method { M_WATCHLIST, M_SCAN, M_COMBINED, M_BASELINE, M_COUNT };

static const char *const method_names[M_COUNT] = {
	"watchlist_match (as built)",
	"watchlist_match, memo off",
	"one db, kind-tagged ids",
	"strncasecmp baseline",
};

/*
 * Scaling: the defaults plus EXTRA_PIPES user pipe names, on the pipe
 * names above. Hyperscan stays flat; the literal loop grows with the list.
 */
#define EXTRA_PIPES 100

static char extra_pipes[EXTRA_PIPES][16];

static uint32_t
baseline_big(const char *s, size_t len)
{
	uint32_t mask = baseline(WATCH_KIND_PIPE, s, len);
	size_t i;

	if (mask != 0)
		return mask;
	watchlist_pipe_name(s, len, &s, &len);
	for (i = 0; i < EXTRA_PIPES; i++)
		if (equal(s, len, extra_pipes[i]))
			return 1u << 5;
	return 0;
}

static void
scale(unsigned long rounds)
{
	struct watchlist_spec spec;
	struct watchlist *wl;
	struct watchlist_scratch *scratch;
	volatile uint32_t sink = 0;
	double best[2] = { 0, 0 };
	char pattern[32];
	unsigned long r;
	size_t i, count = 0;
	int m, rep;

	watchlist_spec_set_defaults(&spec);
	for (i = 0; i < EXTRA_PIPES; i++) {
		snprintf(extra_pipes[i], sizeof(extra_pipes[i]), "userpipe%03zu",
			i);
		snprintf(pattern, sizeof(pattern), "^%.15s$", extra_pipes[i]);
		watchlist_spec_add(&spec, WATCH_KIND_PIPE, "user_pipe", pattern,
			true, 0);
	}
	wl = watchlist_compile(&spec, NULL, 0);
	scratch = wl != NULL ? watchlist_scratch_alloc(wl) : NULL;
	if (scratch == NULL)
		return;
	/* How the scan grows with the list, so every name is scanned. */
	watchlist_scratch_remember(scratch, false);
	for (rep = 0; rep < REPEATS; rep++) {
		for (m = 0; m < 2; m++) {
			double t0 = now_ns(), t;

			count = 0;
			for (r = 0; r < rounds; r++) {
				for (i = 0; i < NAME_COUNT; i++) {
					const struct name *n = &names[i];
					size_t len = strlen(n->text);

					if (n->kind != WATCH_KIND_PIPE)
						continue;
					count++;
					if (m == 0)
						sink += watchlist_match(wl,
							scratch, n->kind,
							n->text, len);
					else
						sink += baseline_big(n->text,
							len);
				}
			}
			t = (now_ns() - t0) / count;
			if (rep == 0 || t < best[m])
				best[m] = t;
		}
	}
	printf("pipes with %d more user names (%u patterns): "
		"watchlist_match %.1f ns, strncasecmp loop %.1f ns\n",
		EXTRA_PIPES, spec.count, best[0], best[1]);
	(void)sink;
	watchlist_scratch_free(scratch);
	watchlist_free(wl);
}

int
main(int argc, char **argv)
{
	static size_t lens[NAME_COUNT];
	struct watchlist_spec spec;
	struct watchlist *wl;
	struct watchlist_scratch *scratch;
	struct combined comb;
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	double ns[M_COUNT][WATCH_KIND_COUNT] = { { 0 } };
	unsigned long per_kind[WATCH_KIND_COUNT] = { 0 };
	volatile uint32_t sink = 0;
	char error[256];
	unsigned long r;
	size_t i;
	int m, k, rep;

	watchlist_spec_set_defaults(&spec);
	wl = watchlist_compile(&spec, error, sizeof(error));
	if (wl == NULL) {
		fprintf(stderr, "compile: %s\n", error);
		return 1;
	}
	scratch = watchlist_scratch_alloc(wl);
	if (scratch == NULL || combined_build(&comb, &spec, wl) < 0)
		return 1;

	for (i = 0; i < NAME_COUNT; i++) {
		uint32_t a, b, c;

		lens[i] = strlen(names[i].text);
		per_kind[names[i].kind]++;
		a = watchlist_match(wl, scratch, names[i].kind, names[i].text,
			lens[i]);
		b = combined_match(&comb, names[i].kind, names[i].text, lens[i]);
		c = baseline(names[i].kind, names[i].text, lens[i]);
		if (a != b || a != c) {
			fprintf(stderr, "disagree on %s: %#x %#x %#x\n",
				names[i].text, a, b, c);
			return 1;
		}
	}

	/*
	 * Each method runs over the same names, one kind at a time; the best
	 * of REPEATS runs is kept, as other processes share the cores.
	 */
	for (rep = 0; rep < REPEATS; rep++) {
	for (k = 0; k < WATCH_KIND_COUNT; k++) {
		for (m = 0; m < M_COUNT; m++) {
			double t0, t;

			/* The names repeat: as built, the memo answers. */
			watchlist_scratch_remember(scratch, m != M_SCAN);
			t0 = now_ns();
			for (r = 0; r < rounds; r++) {
				for (i = 0; i < NAME_COUNT; i++) {
					const struct name *n = &names[i];

					if (n->kind != (enum watch_kind)k)
						continue;
					if (m == M_WATCHLIST || m == M_SCAN)
						sink += watchlist_match(wl,
							scratch, n->kind,
							n->text, lens[i]);
					else if (m == M_COMBINED)
						sink += combined_match(&comb,
							n->kind, n->text,
							lens[i]);
					else
						sink += baseline(n->kind,
							n->text, lens[i]);
				}
			}
			t = (now_ns() - t0) / (rounds * per_kind[k]);
			if (rep == 0 || t < ns[m][k])
				ns[m][k] = t;
		}
	}
	}

	printf("ns per name, best of %d x %lu rounds of %zu names (default "
		"watchlists, %u patterns, %u classes)\n", REPEATS, rounds,
		NAME_COUNT, spec.count,
		watchlist_class_count(wl));
	printf("%-32s %8s %8s %8s %8s\n", "method", "share", "pipe", "file",
		"mean");
	for (m = 0; m < M_COUNT; m++) {
		double sum = 0;

		for (k = 0; k < WATCH_KIND_COUNT; k++)
			sum += ns[m][k] * per_kind[k];
		printf("%-32s %8.1f %8.1f %8.1f %8.1f\n", method_names[m],
			ns[m][0], ns[m][1], ns[m][2], sum / NAME_COUNT);
	}
	scale(rounds / 4);

	(void)sink;
	hs_free_scratch(comb.scratch);
	hs_free_database(comb.db);
	watchlist_scratch_free(scratch);
	watchlist_free(wl);
	return 0;
}
