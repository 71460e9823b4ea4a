/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Parser benchmark: loads a capture into memory, keeps the TCP payloads of
 * each direction, and feeds them through the SMB parser (and, for pipe
 * traffic, the DCE/RPC parser behind it) again and again. Beside it, in the
 * same run and over the same bytes, a baseline that only reads every byte
 * (a checksum loop), so the ratio says what parsing costs above touching
 * the data at all.
 *
 *	bench_parser [-n ITERATIONS] CAPTURE.pcap
 *
 * A second baseline visits each segment without reading its bulk: the
 * floor for a parser that skips data by length.
 *
 * Reports ns per SMB message, ns per byte and throughput, with the ratios.
 * Exits 0 on success, 1 if the capture cannot be read or holds no TCP
 * payload.
 */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "chunk.h"
#include "smb.h"

#define BENCH_DEFAULT_ITERATIONS 20

/* One TCP payload of the capture. */
struct bench_segment {
	uint32_t seq;
	uint32_t offset;	/* into bench_capture.bytes */
	uint32_t len;
	uint8_t dir;		/* enum smb_dir */
};

/* The first TCP connection of a capture, payloads in capture order. */
struct bench_capture {
	uint8_t *bytes;
	size_t bytes_len;
	size_t bytes_cap;
	struct bench_segment *segs;
	size_t seg_count;
	size_t seg_cap;
	/* Endpoints of the connection: the first SYN names the server. */
	bool have_conn;
	uint16_t client_port;
	uint16_t server_port;
};

static uint16_t
bench_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
bench_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int
bench_append(struct bench_capture *cap, uint8_t dir, uint32_t seq,
	     const uint8_t *p, size_t len)
{
	if (cap->seg_count == cap->seg_cap) {
		size_t n = cap->seg_cap ? cap->seg_cap * 2 : 1024;
		void *segs = realloc(cap->segs, n * sizeof(*cap->segs));

		if (segs == NULL)
			return -ENOMEM;
		cap->segs = segs;
		cap->seg_cap = n;
	}
	if (cap->bytes_len + len > cap->bytes_cap) {
		size_t n = cap->bytes_cap ? cap->bytes_cap : 1 << 20;
		void *bytes;

		while (n < cap->bytes_len + len)
			n *= 2;
		bytes = realloc(cap->bytes, n);
		if (bytes == NULL)
			return -ENOMEM;
		cap->bytes = bytes;
		cap->bytes_cap = n;
	}
	memcpy(cap->bytes + cap->bytes_len, p, len);
	cap->segs[cap->seg_count].seq = seq;
	cap->segs[cap->seg_count].offset = (uint32_t)cap->bytes_len;
	cap->segs[cap->seg_count].len = (uint32_t)len;
	cap->segs[cap->seg_count].dir = dir;
	cap->seg_count++;
	cap->bytes_len += len;
	return 0;
}

/*
 * Takes one Ethernet frame; keeps its TCP payload if it belongs to the
 * capture's first connection. Returns 0 or -ENOMEM.
 */
static int
bench_frame(struct bench_capture *cap, const uint8_t *p, size_t len)
{
	size_t off = 14, ip_len, hdr_len;
	uint16_t ethertype, sport, dport;
	uint8_t proto, flags, dir;
	const uint8_t *tcp;

	if (len < 14)
		return 0;
	ethertype = bench_be16(p + 12);
	while ((ethertype == 0x8100 || ethertype == 0x88a8) &&
	       len >= off + 4) {
		ethertype = bench_be16(p + off + 2);
		off += 4;
	}
	if (ethertype == 0x0800) {
		if (len < off + 20 || (p[off] >> 4) != 4)
			return 0;
		hdr_len = (size_t)(p[off] & 0x0f) * 4;
		ip_len = bench_be16(p + off + 2);
		proto = p[off + 9];
	} else if (ethertype == 0x86dd) {
		if (len < off + 40)
			return 0;
		hdr_len = 40;
		ip_len = 40 + (size_t)bench_be16(p + off + 4);
		proto = p[off + 6];
	} else {
		return 0;
	}
	if (proto != 6 || ip_len < hdr_len + 20 || len < off + ip_len)
		return 0;
	tcp = p + off + hdr_len;
	sport = bench_be16(tcp);
	dport = bench_be16(tcp + 2);
	flags = tcp[13];
	if (!cap->have_conn) {
		cap->client_port = sport;
		cap->server_port = dport;
		cap->have_conn = true;
		/* Without a SYN, the lower port is the server's. */
		if (!(flags & 0x02) && sport < dport) {
			cap->client_port = dport;
			cap->server_port = sport;
		}
	}
	if (sport == cap->client_port && dport == cap->server_port)
		dir = SMB_DIR_TO_SERVER;
	else if (sport == cap->server_port && dport == cap->client_port)
		dir = SMB_DIR_TO_CLIENT;
	else
		return 0;
	hdr_len += (size_t)(tcp[12] >> 4) * 4;
	if (ip_len <= hdr_len)
		return 0;
	return bench_append(cap, dir, bench_be32(tcp + 4),
			    p + off + hdr_len, ip_len - hdr_len);
}

/* Loads <path> into <cap>. Returns 0, or -1 after printing why not. */
static int
bench_load(const char *path, struct bench_capture *cap)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const uint8_t *pkt;
	pcap_t *pc;
	int rc;

	pc = pcap_open_offline(path, errbuf);
	if (pc == NULL) {
		fprintf(stderr, "bench_parser: %s\n", errbuf);
		return -1;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "bench_parser: %s: not Ethernet\n", path);
		pcap_close(pc);
		return -1;
	}
	while ((rc = pcap_next_ex(pc, &hdr, &pkt)) == 1) {
		if (bench_frame(cap, pkt, hdr->caplen) != 0) {
			fprintf(stderr, "bench_parser: out of memory\n");
			pcap_close(pc);
			return -1;
		}
	}
	if (rc == -1)
		fprintf(stderr, "bench_parser: %s: %s\n", path,
			pcap_geterr(pc));
	pcap_close(pc);
	if (rc == -1)
		return -1;
	if (cap->seg_count == 0) {
		fprintf(stderr, "bench_parser: %s: no TCP payload\n", path);
		return -1;
	}
	return 0;
}

static uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
bench_count_fact(void *ctx, const struct smb_fact *fact)
{
	uint64_t *facts = ctx;

	(void)fact;
	(*facts)++;
}

/* The tables' pool, as a worker has one. */
static struct chunk_pool *
tables_pool(void)
{
	static struct chunk_pool *pool;

	if (pool == NULL) {
		struct chunk_pool_params params = { .budget = 64u << 20 };

		smb_chunk_params(&params);
		pool = chunk_pool_create(&params);
		if (pool == NULL) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
	}
	return pool;
}

/* One pass of the SMB parser over the capture. */
static void
bench_parse(const struct bench_capture *cap, struct smb_state *st,
	    struct smb_counters *counters, uint64_t *facts)
{
	size_t i;

	smb_state_init(st, tables_pool());
	memset(counters, 0, sizeof(*counters));
	smb_state_set_counters(st, counters);
	for (i = 0; i < cap->seg_count; i++) {
		const struct bench_segment *s = &cap->segs[i];

		smb_feed(st, (enum smb_dir)s->dir, s->seq,
			 cap->bytes + s->offset, s->len, i, bench_count_fact,
			 facts);
	}
	smb_state_counters(st, counters);
	smb_state_release(st);
}

/*
 * The baseline: reads every payload byte once, segment by segment, as the
 * parser is handed them. A Fletcher-style sum keeps each byte needed.
 */
static uint32_t
bench_touch(const struct bench_capture *cap)
{
	uint32_t a = 1, b = 0;
	size_t i, j;

	for (i = 0; i < cap->seg_count; i++) {
		const uint8_t *p = cap->bytes + cap->segs[i].offset;

		for (j = 0; j < cap->segs[i].len; j++) {
			a += p[j];
			b += a;
		}
	}
	return a ^ b;
}

/*
 * The floor: visits every segment as the parser is handed them but reads
 * only its first and last byte, as a parser that skips bulk data by length
 * at best does.
 */
static uint32_t
bench_visit(const struct bench_capture *cap)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < cap->seg_count; i++) {
		const uint8_t *p = cap->bytes + cap->segs[i].offset;

		sum += p[0] + p[cap->segs[i].len - 1];
	}
	return sum;
}

static void
bench_usage(void)
{
	fprintf(stderr, "usage: bench_parser [-n ITERATIONS] CAPTURE.pcap\n");
}

int
main(int argc, char **argv)
{
	struct bench_capture cap = { 0 };
	struct smb_counters counters;
	uint64_t parse_ns = UINT64_MAX, touch_ns = UINT64_MAX;
	uint64_t visit_ns = UINT64_MAX;
	uint64_t facts = 0, messages;
	volatile uint32_t sink = 0;
	unsigned long iterations = BENCH_DEFAULT_ITERATIONS;
	struct smb_state *st;
	unsigned long i;
	double bytes;
	int opt;

	while ((opt = getopt(argc, argv, "n:h")) != -1) {
		switch (opt) {
		case 'n':
			iterations = strtoul(optarg, NULL, 10);
			if (iterations == 0) {
				bench_usage();
				return 1;
			}
			break;
		default:
			bench_usage();
			return 1;
		}
	}
	if (optind != argc - 1) {
		bench_usage();
		return 1;
	}
	if (bench_load(argv[optind], &cap) != 0)
		return 1;
	st = aligned_alloc(64, sizeof(*st));
	if (st == NULL) {
		fprintf(stderr, "bench_parser: out of memory\n");
		return 1;
	}

	/* Warm caches and branch predictors once, then keep the best pass
	 * of each: the least disturbed by the rest of the machine. */
	bench_parse(&cap, st, &counters, &facts);
	sink += bench_touch(&cap);
	sink += bench_visit(&cap);
	for (i = 0; i < iterations; i++) {
		uint64_t t0, t1, t2, t3;

		facts = 0;
		t0 = bench_now_ns();
		bench_parse(&cap, st, &counters, &facts);
		t1 = bench_now_ns();
		sink += bench_touch(&cap);
		t2 = bench_now_ns();
		sink += bench_visit(&cap);
		t3 = bench_now_ns();
		if (t1 - t0 < parse_ns)
			parse_ns = t1 - t0;
		if (t2 - t1 < touch_ns)
			touch_ns = t2 - t1;
		if (t3 - t2 < visit_ns)
			visit_ns = t3 - t2;
	}

	bytes = (double)cap.bytes_len;
	messages = counters.smb1_messages + counters.smb2_messages;
	printf("capture      %s\n", argv[optind]);
	printf("segments     %zu, %zu payload bytes, %lu passes (best kept)\n",
	       cap.seg_count, cap.bytes_len, iterations);
	printf("parsed       %llu SMB messages, %llu NBSS records, "
	       "%llu facts, %llu errors, %llu bytes to pipes\n",
	       (unsigned long long)messages,
	       (unsigned long long)counters.records,
	       (unsigned long long)facts,
	       (unsigned long long)counters.errors,
	       (unsigned long long)counters.pipe_bytes);
	printf("smb parser   %10.1f us/pass  %8.1f ns/message  "
	       "%6.3f ns/byte  %7.2f GB/s\n",
	       parse_ns / 1e3, messages ? (double)parse_ns / messages : 0.0,
	       parse_ns / bytes, bytes / parse_ns);
	printf("read bytes   %10.1f us/pass  %8s              "
	       "%6.3f ns/byte  %7.2f GB/s\n",
	       touch_ns / 1e3, "-", touch_ns / bytes, bytes / touch_ns);
	printf("visit segs   %10.1f us/pass  %8.1f ns/segment\n",
	       visit_ns / 1e3, (double)visit_ns / cap.seg_count);
	printf("ratio        %.2f x reading every byte, %.1f x visiting "
	       "every segment\n",
	       touch_ns ? (double)parse_ns / touch_ns : 0.0,
	       visit_ns ? (double)parse_ns / visit_ns : 0.0);
	(void)sink;
	free(st);
	free(cap.segs);
	free(cap.bytes);
	return 0;
}
