/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table benchmark: cost per packet of bulk lookups of established
 * flows (bursts of 32 over 1k, 100k and 1M flows) against baselines of the
 * same loop without the table, and new flows per second under eviction and
 * expiry churn. Prints ns (thread CPU time) and TSC cycles per packet and
 * the ratios.
 *
 *	bench_flow [-q]		-q: quick run (smaller stream), for CI
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "flow.h"

#define BURST		32
#define TCP		6

struct timing {
	double ns;
	double cycles;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

/* TSC ticks per ns, calibrated at start-up. */
static double tsc_per_ns;

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Thread CPU time: on a shared machine, time the thread spends descheduled
 * does not count (caches may still be shared with other work).
 */
static uint64_t
cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void
tsc_calibrate(void)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), c0 = __rdtsc(), t1;

	do
		t1 = clock_ns(CLOCK_MONOTONIC);
	while (t1 - t0 < 100000000);
	tsc_per_ns = (double)(__rdtsc() - c0) / (t1 - t0);
}

/* Client key of flow <i>: distinct pseudo-random addresses and ports. */
static void
flow_key_of(uint64_t i, struct flow_key *k)
{
	uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
	uint32_t a = (uint32_t)(h >> 32) ^ (uint32_t)i;

	memset(k, 0, sizeof(*k));
	k->ip_version = 4;
	k->src_addr[0] = 10;
	k->src_addr[1] = i >> 16;
	k->src_addr[2] = i >> 8;
	k->src_addr[3] = i;
	memcpy(k->dst_addr, &a, 4);
	k->dst_addr[0] = 172;
	k->src_port = 1024 + (h & 0x7fff);
	k->dst_port = (h >> 20) & 1 ? 445 : 80 + ((h >> 21) & 0x3ff);
	k->proto = TCP;
	k->tcp_flags = FLOW_TCPF_SYN;
}

static void
key_reverse(struct flow_key *k)
{
	uint8_t tmp[16];
	uint16_t p = k->src_port;

	memcpy(tmp, k->src_addr, 16);
	memcpy(k->src_addr, k->dst_addr, 16);
	memcpy(k->dst_addr, tmp, 16);
	k->src_port = k->dst_port;
	k->dst_port = p;
}

/* Baseline hash: the canonical order and CRC32C, as a plain table would. */
static inline uint32_t
crc_hash(const struct flow_key *k)
{
	uint64_t a0, a1, b0, b1, w;
	uint64_t c = 0;

	memcpy(&a0, k->src_addr, 8);
	memcpy(&a1, k->src_addr + 8, 8);
	memcpy(&b0, k->dst_addr, 8);
	memcpy(&b1, k->dst_addr + 8, 8);
	if (a0 > b0 || (a0 == b0 && (a1 > b1 || (a1 == b1 &&
			k->src_port > k->dst_port)))) {
		c = _mm_crc32_u64(c, b0);
		c = _mm_crc32_u64(c, b1);
		c = _mm_crc32_u64(c, a0);
		c = _mm_crc32_u64(c, a1);
		w = k->dst_port | (uint32_t)k->src_port << 16;
	} else {
		c = _mm_crc32_u64(c, a0);
		c = _mm_crc32_u64(c, a1);
		c = _mm_crc32_u64(c, b0);
		c = _mm_crc32_u64(c, b1);
		w = k->src_port | (uint32_t)k->dst_port << 16;
	}
	w |= (uint64_t)(k->proto | k->vlan_outer << 8 | k->vlan_inner << 20)
		<< 32;
	return _mm_crc32_u64(c, w);
}

struct stream {
	struct flow_key *keys;	/* packets, both directions */
	uint32_t *lens;
	size_t n;
};

/* A stream of <n> packets of random flows among <flows>, random direction. */
static void
stream_make(struct stream *s, size_t n, uint64_t flows)
{
	size_t i;

	s->keys = malloc(n * sizeof(*s->keys));
	s->lens = malloc(n * sizeof(*s->lens));
	if (s->keys == NULL || s->lens == NULL) {
		fprintf(stderr, "bench_flow: out of memory\n");
		exit(1);
	}
	s->n = n;
	for (i = 0; i < n; i++) {
		uint64_t r = rng();

		flow_key_of(r % flows, &s->keys[i]);
		s->keys[i].tcp_flags = FLOW_TCPF_ACK;
		if (r >> 63)
			key_reverse(&s->keys[i]);
		s->lens[i] = 64 + (r >> 40) % 1400;
	}
}

static void
stream_free(struct stream *s)
{
	free(s->keys);
	free(s->lens);
}

static struct flow_table *
table_make(uint32_t max_flows, uint64_t flows, uint64_t *now)
{
	struct flow_table_params p = {
		.max_flows = max_flows,
	};
	struct flow_table *t = flow_table_create(&p);
	struct flow_key keys[BURST];
	struct flow_entry *e[BURST];
	uint8_t d[BURST];
	uint64_t i;
	unsigned int j, n;

	if (t == NULL) {
		fprintf(stderr, "bench_flow: flow_table_create: %s\n",
			strerror(errno));
		exit(1);
	}
	for (i = 0; i < flows; i += n) {
		n = flows - i < BURST ? flows - i : BURST;
		for (j = 0; j < n; j++)
			flow_key_of(i + j, &keys[j]);
		flow_table_lookup_bulk(t, keys, n, *now, FLOW_LOOKUP_CREATE,
			e, d);
		for (j = 0; j < n; j++)
			flow_table_update_tcp(t, e[j], d[j], FLOW_TCPF_SYN,
				*now);
		*now += 1000;
	}
	/* complete every handshake so flows are established */
	for (i = 0; i < flows; i += n) {
		n = flows - i < BURST ? flows - i : BURST;
		for (j = 0; j < n; j++) {
			flow_key_of(i + j, &keys[j]);
			key_reverse(&keys[j]);
		}
		flow_table_lookup_bulk(t, keys, n, *now, 0, e, d);
		for (j = 0; j < n; j++)
			flow_table_update_tcp(t, e[j], d[j], FLOW_TCPF_ACK,
				*now);
		*now += 1000;
	}
	return t;
}

enum loop_kind {
	LOOP_TOUCH,	/* read each packet's key, write a verdict: forwarding */
	LOOP_CRC,	/* plus canonical order and CRC32C of the key */
	LOOP_LOOKUP,	/* flow_table_lookup_bulk only */
	LOOP_FULL,	/* lookup + update_tcp + count + class check */
};

static volatile uint64_t sink;

/* Runs <kind> over stream <s>; returns the time per packet. */
static struct timing
run_loop(enum loop_kind kind, struct flow_table *t, const struct stream *s,
	uint64_t *now)
{
	struct flow_entry *e[BURST];
	uint8_t d[BURST];
	uint64_t acc = 0;
	uint64_t t0, t1;
	size_t i;
	unsigned int j;

	t0 = cpu_ns();
	for (i = 0; i + BURST <= s->n; i += BURST) {
		const struct flow_key *k = &s->keys[i];

		switch (kind) {
		case LOOP_TOUCH:
			for (j = 0; j < BURST; j++) {
				d[j] = k[j].src_port > k[j].dst_port;
				acc += k[j].src_addr[3] + s->lens[i + j];
			}
			break;
		case LOOP_CRC:
			for (j = 0; j < BURST; j++) {
				d[j] = crc_hash(&k[j]) & 1;
				acc += s->lens[i + j];
			}
			break;
		case LOOP_LOOKUP:
			flow_table_lookup_bulk(t, k, BURST, *now, 0, e, d);
			break;
		case LOOP_FULL:
			flow_table_lookup_bulk(t, k, BURST, *now,
				FLOW_LOOKUP_CREATE, e, d);
			for (j = 0; j < BURST; j++) {
				flow_table_update_tcp(t, e[j], d[j],
					k[j].tcp_flags, *now);
				flow_entry_count(e[j], d[j], s->lens[i + j]);
				acc += e[j]->app_class == FLOW_APP_NOT_SMB;
			}
			flow_table_expire(t, *now, 32);
			break;
		}
		acc += d[0] + d[BURST - 1];
		*now += 3200;	/* 10 Mpps */
	}
	t1 = cpu_ns();
	sink += acc;
	return (struct timing){
		.ns = (double)(t1 - t0) / (s->n / BURST * BURST),
		.cycles = (double)(t1 - t0) * tsc_per_ns /
			(s->n / BURST * BURST),
	};
}

static struct timing
best_of(int reps, enum loop_kind kind, struct flow_table *t,
	const struct stream *s, uint64_t *now)
{
	struct timing best = { 1e30, 1e30 }, r;
	int i;

	for (i = 0; i < reps; i++) {
		r = run_loop(kind, t, s, now);
		if (r.ns < best.ns)
			best = r;
	}
	return best;
}

static void
bench_hits(uint64_t flows, size_t stream_len, int reps)
{
	struct stream s;
	struct flow_table *t;
	struct flow_table_stats st;
	struct timing touch, crc, look, full;
	uint64_t now = 1000000000ull;

	t = table_make(flows, flows, &now);
	stream_make(&s, stream_len, flows);
	touch = best_of(reps, LOOP_TOUCH, NULL, &s, &now);
	crc = best_of(reps, LOOP_CRC, NULL, &s, &now);
	look = best_of(reps, LOOP_LOOKUP, t, &s, &now);
	full = best_of(reps, LOOP_FULL, t, &s, &now);
	flow_table_stats(t, &st);
	printf("hits  %8lu flows | touch %5.1f ns %5.1f cyc | crc32c %5.1f ns"
		" | lookup %5.1f ns %5.1f cyc (x%.2f touch, x%.2f crc)"
		" | lookup+tcp+count %5.1f ns %5.1f cyc (x%.2f touch)\n",
		(unsigned long)flows, touch.ns, touch.cycles, crc.ns,
		look.ns, look.cycles, look.ns / touch.ns, look.ns / crc.ns,
		full.ns, full.cycles, full.ns / touch.ns);
	if (st.active != flows || st.evicted_pressure != 0 ||
			st.hits != st.lookups - flows) {
		fprintf(stderr, "bench_flow: unexpected misses\n");
		exit(1);
	}
	stream_free(&s);
	flow_table_free(t);
}

/*
 * New flows per second in a full table of <cap> flows: every SYN is a new
 * flow. With <expire_ns> 0 each insert evicts the least recently seen flow;
 * otherwise time runs fast enough that the expiry pass frees the entries.
 */
static void
bench_churn(uint32_t cap, uint64_t new_flows, bool by_expiry)
{
	struct flow_table_params p = {
		.max_flows = cap,
		/* by expiry: SYN flows live 1 ms; by pressure: the default */
		.timeout_embryonic_ns = by_expiry ? 1000000 : 0,
	};
	struct flow_table *t = flow_table_create(&p);
	struct flow_key keys[BURST];
	struct flow_entry *e[BURST];
	uint8_t d[BURST];
	struct flow_table_stats st;
	uint64_t now = 1000000000ull, i, t0, t1;
	unsigned int j;

	if (t == NULL) {
		fprintf(stderr, "bench_flow: flow_table_create: %s\n",
			strerror(errno));
		exit(1);
	}
	/* fill, SYNs only */
	for (i = 0; i < cap; i += BURST) {
		for (j = 0; j < BURST; j++)
			flow_key_of(i + j, &keys[j]);
		flow_table_lookup_bulk(t, keys, BURST, now, FLOW_LOOKUP_CREATE,
			e, d);
	}
	t0 = cpu_ns();
	for (i = cap + BURST; i < cap + BURST + new_flows; i += BURST) {
		for (j = 0; j < BURST; j++)
			flow_key_of(i + j, &keys[j]);
		flow_table_lookup_bulk(t, keys, BURST, now, FLOW_LOOKUP_CREATE,
			e, d);
		for (j = 0; j < BURST; j++)
			flow_table_update_tcp(t, e[j], d[j], FLOW_TCPF_SYN, now);
		flow_table_expire(t, now, 64);
		/* by expiry: the table turns over every 2 ms, flows live 1 ms */
		now += by_expiry ? 2000000ull * BURST / cap : 100;
	}
	t1 = cpu_ns();
	flow_table_stats(t, &st);
	printf("churn %8u flows by %-8s | %6.1f ns %6.1f cyc per new flow, "
		"%5.2f M new flows/s | evicted pressure %lu expired %lu "
		"aged %lu failed %lu\n", cap, by_expiry ? "expiry" : "pressure",
		(double)(t1 - t0) / new_flows,
		(double)(t1 - t0) * tsc_per_ns / new_flows,
		new_flows * 1e3 / (t1 - t0),
		(unsigned long)st.evicted_pressure,
		(unsigned long)st.evicted_expired, (unsigned long)st.aged,
		(unsigned long)st.insert_failed);
	flow_table_free(t);
}

/* The table's keyed hash against CRC32C, per key, keys in L1. */
static void
bench_hash(void)
{
	struct stream s;
	struct timing touch, crc;
	uint64_t now = 0;

	stream_make(&s, 1024, 1024);
	{
		/* repeat a small stream so the keys stay in cache */
		struct stream big = s;
		int r;

		touch = (struct timing){ 1e30, 1e30 };
		crc = touch;
		for (r = 0; r < 2000; r++) {
			struct timing a = run_loop(LOOP_TOUCH, NULL, &big, &now);
			struct timing b = run_loop(LOOP_CRC, NULL, &big, &now);

			if (a.ns < touch.ns)
				touch = a;
			if (b.ns < crc.ns)
				crc = b;
		}
	}
	printf("keys in L1: touch %.2f ns %.1f cyc, canonical order + crc32c "
		"%.2f ns %.1f cyc per key\n", touch.ns, touch.cycles, crc.ns,
		crc.cycles);
	stream_free(&s);
}

int
main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "-q") == 0;
	size_t len = quick ? 1u << 20 : 1u << 22;
	int reps = quick ? 1 : 3;

	tsc_calibrate();
	printf("flow table bench: entry %zu B, 1M-flow table %zu B "
		"(%.1f B/flow); ns = thread CPU time, cyc = that in TSC "
		"cycles (%.2f GHz)\n",
		sizeof(struct flow_entry),
		flow_table_memory_bytes(&(struct flow_table_params){
			.max_flows = 1000000 }),
		flow_table_memory_bytes(&(struct flow_table_params){
			.max_flows = 1000000 }) / 1e6, tsc_per_ns);
	bench_hash();
	bench_hits(1000, len, reps);
	bench_hits(100000, len, reps);
	bench_hits(1000000, len, reps);
	bench_churn(100000, quick ? 1u << 20 : 1u << 22, false);
	bench_churn(1000000, quick ? 1u << 20 : 1u << 22, false);
	bench_churn(100000, quick ? 1u << 20 : 1u << 22, true);
	return 0;
}
