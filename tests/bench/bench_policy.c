/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy verdict cost per packet and reload (build) time, with 1,000
 * segments and a full matrix.
 *
 * Segments: 400 with an IPv4 /24, 300 with an IPv4 /32 host inside one of
 * those /24s (so the most specific prefix has to win), 300 with an IPv6
 * /48 and a /128 host. Rules: two SMB-condition rules "any to any" first
 * (every pair gets a conditional list), 3,000 rules for random pairs, and
 * one "seg to any" rule per segment, so every one of the 1,001 x 1,001
 * cells (unassigned included) is decided by a rule and the matrix is
 * fully populated (4 + 2 bytes per cell).
 *
 * Per packet ("verdict"): the segment of the source and of the
 * destination by prefix (rte_fib / rte_fib6), then the pair verdict,
 * over a stream of 64k address pairs drawn from every segment (3/4 IPv4,
 * 1/4 IPv6, 1 in 16 unassigned). Beside it, in the same run: reading the
 * same addresses and hashing them once (CRC32C of both addresses: what a
 * flow lookup costs at least), the pair verdict alone on random segment
 * pairs, and an SMB-message verdict.
 *
 * Reload: what a SIGHUP costs the control core for the same policy
 * written as configuration text (1,000 segments, ~4,000 rules): parsing
 * (libconfig), loading and validating (watchlists_load(), which compiles
 * the watchlists, and policy_config_load()), then policy_build() and
 * policy_free(); best and median of several runs, each step apart.
 *
 * usage: bench_policy [-n PASSES] [-r RELOADS]
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_hash_crc.h>
#include <rte_memory.h>

#include <libconfig.h>

#include "config.h"
#include "match.h"
#include "policy.h"
#include "policy_config.h"
#include "watchlists.h"

#define SEGMENTS	1000
#define PAIR_RULES	3000
#define STREAM		(1u << 16)

struct addr_pair {
	uint8_t version;
	uint8_t src[16];
	uint8_t dst[16];
};

struct timing {
	double ns;
	double cycles;
};

static struct policy_spec spec;
/* An address in each segment (index = segment id), and its family. */
static uint8_t seg_addr[SEGMENTS + 1][16];
static uint8_t seg_version[SEGMENTS + 1];
static struct addr_pair stream[STREAM];
static uint16_t pair_src[STREAM], pair_dst[STREAM];
static volatile uint64_t sink;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
add_prefix(uint16_t segment, uint8_t version, const uint8_t *addr,
	uint8_t depth)
{
	struct policy_prefix *p = &spec.prefixes[spec.prefix_count++];

	memset(p, 0, sizeof(*p));
	p->ip_version = version;
	p->depth = depth;
	p->segment = segment;
	memcpy(p->addr, addr, version == 4 ? 4 : 16);
}

static void
add_rule(uint16_t from, uint16_t to, enum policy_action action)
{
	struct policy_rule_spec *r = &spec.rules[spec.rule_count++];

	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	r->action = action;
	r->deny_action = POLICY_DENY_INHERIT;
	r->nonstandard_port = -1;
}

static void
make_spec(void)
{
	struct policy_rule_spec *r;
	unsigned int i;

	memset(&spec, 0, sizeof(spec));
	spec.mode = POLICY_MODE_ENFORCE;
	spec.default_action = POLICY_ALLOW;
	spec.deny_action = POLICY_DENY_RESET;
	spec.segment_count = SEGMENTS + 1;
	snprintf(spec.segments[0].name, POLICY_NAME_MAX, "unassigned");
	for (i = 1; i <= SEGMENTS; i++) {
		uint8_t a[16] = { 0 };

		snprintf(spec.segments[i].name, POLICY_NAME_MAX, "seg%u", i);
		if (i <= 400) {
			/* 10.<i/256>.<i%256>.0/24; the segment's host is .1 */
			a[0] = 10;
			a[1] = (uint8_t)(i >> 8);
			a[2] = (uint8_t)i;
			add_prefix((uint16_t)i, 4, a, 24);
			a[3] = 1;
			seg_version[i] = 4;
		} else if (i <= 700) {
			/* .77 inside the /24 of segment i - 400 */
			unsigned int outer = i - 400;

			a[0] = 10;
			a[1] = (uint8_t)(outer >> 8);
			a[2] = (uint8_t)outer;
			a[3] = 77;
			add_prefix((uint16_t)i, 4, a, 32);
			seg_version[i] = 4;
		} else {
			/* 2001:db8:<i>::/48 and 2001:db8:<i>:1::77/128 */
			a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
			a[4] = (uint8_t)(i >> 8);
			a[5] = (uint8_t)i;
			add_prefix((uint16_t)i, 6, a, 48);
			a[7] = 1;
			a[15] = 0x77;
			add_prefix((uint16_t)i, 6, a, 128);
			a[15] = 0x78;	/* in the /48, not the /128 */
			seg_version[i] = 6;
		}
		memcpy(seg_addr[i], a, sizeof(a));
	}
	/* Unassigned: 192.0.2.1 and 2001:db8:ffff::1 (no prefix, no VLAN). */
	seg_addr[0][0] = 192;
	seg_addr[0][2] = 2;
	seg_addr[0][3] = 1;
	seg_version[0] = 4;

	add_rule(POLICY_SEGMENT_ANY, POLICY_SEGMENT_ANY, POLICY_DENY);
	spec.rules[0].dialects = 1u << POLICY_DIALECT_SMB1;
	add_rule(POLICY_SEGMENT_ANY, POLICY_SEGMENT_ANY, POLICY_DENY);
	r = &spec.rules[1];
	r->share_classes = 1u << 0;
	r->nonstandard_port = 1;
	srand(6);
	for (i = 0; i < PAIR_RULES; i++)
		add_rule((uint16_t)(rand() % (SEGMENTS + 1)),
			(uint16_t)(rand() % (SEGMENTS + 1)),
			(enum policy_action)(rand() % 3));
	for (i = 0; i <= SEGMENTS; i++)
		add_rule((uint16_t)i, POLICY_SEGMENT_ANY,
			(enum policy_action)(i % 3));
}

/* A random address of the family <version> in a random segment. */
static uint16_t
pick_segment(uint8_t version)
{
	for (;;) {
		uint16_t s = (uint16_t)(rand() % (SEGMENTS + 1));

		if (s == 0 && rand() % 16 != 0)
			continue;
		if (seg_version[s] == version || (s == 0 && version == 6))
			return s;
	}
}

static void
make_stream(void)
{
	unsigned int i;

	for (i = 0; i < STREAM; i++) {
		struct addr_pair *p = &stream[i];
		uint16_t s, d;

		p->version = rand() % 4 == 0 ? 6 : 4;
		s = pick_segment(p->version);
		d = pick_segment(p->version);
		if (s == 0 && p->version == 6)
			memcpy(p->src, "\x20\x01\x0d\xb8\xff\xff\0\0\0\0\0\0\0\0\0\x01", 16);
		else
			memcpy(p->src, seg_addr[s], 16);
		if (d == 0 && p->version == 6)
			memcpy(p->dst, "\x20\x01\x0d\xb8\xff\xff\0\0\0\0\0\0\0\0\0\x02", 16);
		else
			memcpy(p->dst, seg_addr[d], 16);
		pair_src[i] = (uint16_t)(rand() % (SEGMENTS + 1));
		pair_dst[i] = (uint16_t)(rand() % (SEGMENTS + 1));
	}
}

enum loop_kind {
	LOOP_HASH,	/* read both addresses, one CRC32C */
	LOOP_VERDICT,	/* two segment lookups and the pair verdict */
	LOOP_PAIR,	/* pair verdict of random segment ids */
	LOOP_SMB,	/* SMB-message verdict of random segment ids */
};

static struct timing
run(const struct policy *p, enum loop_kind kind, unsigned int passes)
{
	struct policy_smb_facts facts = {
		.dialect = POLICY_DIALECT_3_1_1, .share_classes = 1u << 3,
	};
	uint64_t acc = 0, t0, c0, c1, t1;
	unsigned int pass, i;

	t0 = now_ns();
	c0 = rte_rdtsc();
	for (pass = 0; pass < passes; pass++) {
		for (i = 0; i < STREAM; i++) {
			const struct addr_pair *a = &stream[i];

			switch (kind) {
			case LOOP_HASH:
				acc += rte_hash_crc(a->src, 32, a->version);
				break;
			case LOOP_VERDICT: {
				uint16_t s = policy_segment_of(p, a->version,
					a->src, 0);
				uint16_t d = policy_segment_of(p, a->version,
					a->dst, 0);

				acc += policy_pair_verdict(p, s, d).rule;
				break;
			}
			case LOOP_PAIR:
				acc += policy_pair_verdict(p, pair_src[i],
					pair_dst[i]).rule;
				break;
			case LOOP_SMB:
				acc += policy_smb_verdict(p, pair_src[i],
					pair_dst[i], &facts).rule;
				break;
			}
		}
	}
	c1 = rte_rdtsc();
	t1 = now_ns();
	sink += acc;
	return (struct timing){
		.ns = (double)(t1 - t0) / ((double)passes * STREAM),
		.cycles = (double)(c1 - c0) / ((double)passes * STREAM),
	};
}

static struct timing
best_of(const struct policy *p, enum loop_kind kind, unsigned int passes)
{
	struct timing best = { 1e30, 1e30 }, t;
	int i;

	for (i = 0; i < 5; i++) {
		t = run(p, kind, passes);
		if (t.ns < best.ns)
			best = t;
	}
	return best;
}

/* Checks the stream's expected segments, so the bench measures real hits. */
static void
check_lookups(const struct policy *p)
{
	uint8_t a[16];
	unsigned int i;

	for (i = 1; i <= SEGMENTS; i++) {
		if (policy_segment_of(p, seg_version[i], seg_addr[i], 0) != i) {
			fprintf(stderr, "bench_policy: segment %u not found\n", i);
			exit(1);
		}
	}
	memcpy(a, seg_addr[1], 16);
	a[3] = 2;
	if (policy_segment_of(p, 4, a, 0) != 1 ||
			policy_segment_of(p, 4, seg_addr[0], 0) != 0) {
		fprintf(stderr, "bench_policy: wrong most-specific match\n");
		exit(1);
	}
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Appends to the growing text <t>. */
struct text {
	char *buf;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
append(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)n + 1;
		t->buf = realloc(t->buf, t->cap);
		if (t->buf == NULL)
			exit(1);
	}
	t->len += (size_t)n;
}

static void
append_prefix(struct text *t, const struct policy_prefix *pfx)
{
	char buf[64];

	policy_config_format_prefix(pfx, buf, sizeof(buf));
	append(t, "\"%s\"", buf);
}

static const char *
endpoint(uint16_t id)
{
	return id == POLICY_SEGMENT_ANY ? "any" : spec.segments[id].name;
}

/* The bench's spec as a policy group (and the watchlist defaults). */
static char *
spec_text(void)
{
	static const char *const actions[] = { "allow", "deny", "monitor" };
	struct text t = { NULL, 0, 0 };
	unsigned int i, j;

	append(&t, "policy: {\n  default_action = \"allow\";\n  segments = (\n");
	for (i = 1; i < spec.segment_count; i++) {
		bool first = true;

		append(&t, "    %s{ name = \"%s\"; prefixes = [ ", i > 1 ? "," : "",
			spec.segments[i].name);
		for (j = 0; j < spec.prefix_count; j++) {
			if (spec.prefixes[j].segment != i)
				continue;
			if (!first)
				append(&t, ", ");
			append_prefix(&t, &spec.prefixes[j]);
			first = false;
		}
		append(&t, " ]; }\n");
	}
	append(&t, "  );\n  rules = (\n");
	for (i = 0; i < spec.rule_count; i++) {
		const struct policy_rule_spec *r = &spec.rules[i];

		append(&t, "    %s{ from = \"%s\"; to = \"%s\"; action = \"%s\";",
			i ? "," : "", endpoint(r->from), endpoint(r->to),
			actions[r->action]);
		if (r->dialects)
			append(&t, " dialect = \"smb1\";");
		if (r->share_classes)
			append(&t, " share_class = \"admin_share\"; nonstandard_port = true;");
		append(&t, " }\n");
	}
	append(&t, "  );\n};\n");
	return t.buf;
}

/*
 * Random pair rules may shadow one another; the loader refuses a rule
 * that can never match, so keep only the first rule of each pair.
 */
static void
drop_shadowed_rules(void)
{
	unsigned int i, j, kept = 0;

	for (i = 0; i < spec.rule_count; i++) {
		const struct policy_rule_spec *r = &spec.rules[i];
		bool shadowed = false;

		for (j = 0; j < kept && !shadowed; j++) {
			const struct policy_rule_spec *e = &spec.rules[j];

			shadowed = e->dialects == 0 && e->share_classes == 0 &&
				(e->from == POLICY_SEGMENT_ANY ||
				e->from == r->from) &&
				(e->to == POLICY_SEGMENT_ANY || e->to == r->to);
		}
		if (!shadowed)
			spec.rules[kept++] = *r;
	}
	spec.rule_count = kept;
}

static void
bench_reload(unsigned int reloads)
{
	static struct policy_spec loaded;
	static struct watchlist_spec watchlists;
	static struct config_errors errors;
	double *ms = calloc(4 * (size_t)reloads, sizeof(*ms));
	double *parse = ms, *load = ms + reloads, *build = ms + 2 * reloads;
	double *total = ms + 3 * reloads;
	char *text = spec_text();
	char error[256];
	unsigned int i;

	if (ms == NULL || text == NULL)
		exit(1);
	for (i = 0; i < reloads; i++) {
		uint64_t t0 = now_ns(), t1, t2, t3;
		struct policy *p;
		config_t lc;

		config_init(&lc);
		if (config_read_string(&lc, text) != CONFIG_TRUE) {
			fprintf(stderr, "bench_policy: config line %d: %s\n",
				config_error_line(&lc), config_error_text(&lc));
			exit(1);
		}
		t1 = now_ns();
		memset(&errors, 0, sizeof(errors));
		if (watchlists_load(NULL, "bench", &watchlists, &errors) < 0 ||
				policy_config_load(config_lookup(&lc, "policy"),
					"bench", &loaded, &watchlists,
					&errors) < 0) {
			fprintf(stderr, "bench_policy: %s\n",
				errors.messages[0]);
			exit(1);
		}
		config_destroy(&lc);
		t2 = now_ns();
		p = policy_build(&loaded, i + 2, SOCKET_ID_ANY, error,
			sizeof(error));
		if (p == NULL) {
			fprintf(stderr, "bench_policy: policy_build: %s\n",
				error);
			exit(1);
		}
		policy_free(p);
		t3 = now_ns();
		parse[i] = (double)(t1 - t0) / 1e6;
		load[i] = (double)(t2 - t1) / 1e6;
		build[i] = (double)(t3 - t2) / 1e6;
		total[i] = (double)(t3 - t0) / 1e6;
	}
	qsort(parse, reloads, sizeof(*ms), compare_double);
	qsort(load, reloads, sizeof(*ms), compare_double);
	qsort(build, reloads, sizeof(*ms), compare_double);
	qsort(total, reloads, sizeof(*ms), compare_double);
	printf("reload (%u segments, %u prefixes, %u rules, %zu KB of text), median (best) of %u:"
		" parse %.1f (%.1f) ms | load+validate %.1f (%.1f) ms | build+free %.1f (%.1f) ms | total %.1f (%.1f) ms\n",
		loaded.segment_count - 1, loaded.prefix_count,
		loaded.rule_count, strlen(text) / 1024, reloads,
		parse[reloads / 2], parse[0], load[reloads / 2], load[0],
		build[reloads / 2], build[0], total[reloads / 2], total[0]);
	free(text);
	free(ms);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal_argv[] = { "bench_policy", "--no-huge", "-m", "512",
		"--no-pci", "--no-shconf", "--no-telemetry",
		"--log-level=lib.eal:error", "-l", "0", "--file-prefix",
		prefix };
	unsigned int passes = 50, reloads = 11;
	struct timing hash, verdict, pair, smb;
	char error[256];
	struct policy *p;
	uint64_t t0;
	double build_ms;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			passes = (unsigned int)atoi(optarg);
		else if (opt == 'r')
			reloads = (unsigned int)atoi(optarg);
	}
	if (passes == 0 || reloads == 0) {
		fprintf(stderr, "usage: bench_policy [-n PASSES] [-r RELOADS]\n");
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "bench-policy-%d", (int)getpid());
	/* With hugepages mounted (make bench), memory is as a live gateway's. */
	if (access("/dev/hugepages", F_OK) == 0 &&
			getenv("BENCH_NO_HUGE") == NULL) {
		eal_argv[1] = "--in-memory";
	}
	if (rte_eal_init(RTE_DIM(eal_argv), eal_argv) < 0)
		return 1;

	make_spec();
	drop_shadowed_rules();
	make_stream();
	t0 = now_ns();
	p = policy_build(&spec, 1, SOCKET_ID_ANY, error, sizeof(error));
	build_ms = (double)(now_ns() - t0) / 1e6;
	if (p == NULL) {
		fprintf(stderr, "bench_policy: policy_build: %s\n", error);
		return 1;
	}
	check_lookups(p);

	hash = best_of(p, LOOP_HASH, passes);
	verdict = best_of(p, LOOP_VERDICT, passes);
	pair = best_of(p, LOOP_PAIR, passes);
	smb = best_of(p, LOOP_SMB, passes);
	printf("policy bench: %u segments, %u prefixes, %u rules, %u x %u matrix (%.1f MB), first build %.1f ms\n",
		SEGMENTS, spec.prefix_count, spec.rule_count, SEGMENTS + 1,
		SEGMENTS + 1,
		(double)(SEGMENTS + 1) * (SEGMENTS + 1) * 6 / 1e6, build_ms);
	printf("per packet: read addresses + crc32c %5.1f ns %5.1f cyc"
		" | segment(src) + segment(dst) + pair verdict %5.1f ns %5.1f cyc (x%.1f crc)\n",
		hash.ns, hash.cycles, verdict.ns, verdict.cycles,
		verdict.ns / hash.ns);
	printf("per lookup: pair verdict alone (random pairs, 6 MB of cells) %5.1f ns %5.1f cyc"
		" | SMB-message verdict (2 conditional rules) %5.1f ns %5.1f cyc\n",
		pair.ns, pair.cycles, smb.ns, smb.cycles);
	policy_free(p);

	bench_reload(reloads);
	rte_eal_cleanup();
	return 0;
}
