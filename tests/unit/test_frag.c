/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragment reassembly: datagrams completed in and out of order, what
 * is dropped (overlaps, inconsistent sets, malformed fragments, a full
 * table, timeouts) and how it is counted, and re-fragmenting.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "decode.h"
#include "frag.h"

#define TIMEOUT_NS 1000000000ull
#define DATAGRAM_MAX 4096

static struct rte_mempool *pool;
static struct frag_table *table;
static struct port_counters port;
/* The whole L4 datagram the fragments are cut from. */
static uint8_t l4[DATAGRAM_MAX];

static void
fill_l4(uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		l4[i] = (uint8_t)(i * 7 + seed);
	/* A TCP header to 445 with data offset 5. */
	memcpy(l4, "\xa0\x28\x01\xbd\0\0\0\x01\0\0\0\0\x50\x18\xff\xff\0\0\0\0",
		20);
}

/* An mbuf holding the <len> bytes of <frame>. */
static struct rte_mbuf *
mbuf_of(const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, frame, len);
	return m;
}

/* Ethernet (a VLAN tag when <vlan>) then an IPv4 fragment of l4[]. */
static struct rte_mbuf *
ipv4_fragment(uint16_t id, uint8_t proto, uint32_t offset, uint32_t len,
	bool more, bool vlan)
{
	static uint8_t f[DATAGRAM_MAX];
	uint16_t l2 = vlan ? 18 : 14;
	uint8_t *ip = f + l2;
	uint16_t flags = (uint16_t)(offset / 8) | (more ? 0x2000 : 0);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	if (vlan)
		memcpy(f + 12, "\x81\x00\x00\x64\x08\x00", 6);
	else
		memcpy(f + 12, "\x08\x00", 2);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (20 + len) >> 8;
	ip[3] = (20 + len) & 0xff;
	ip[4] = id >> 8;
	ip[5] = id & 0xff;
	ip[6] = flags >> 8;
	ip[7] = flags & 0xff;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, "\xc6\x12\x01\x0a\xc6\x12\x02\x14", 8);
	/* Fragments far beyond l4[] carry whatever: they are refused. */
	memcpy(ip + 20, l4 + (offset + len <= DATAGRAM_MAX ? offset : 0), len);
	return mbuf_of(f, l2 + 20 + len);
}

static struct rte_mbuf *
ipv6_fragment(uint32_t id, uint32_t offset, uint32_t len, bool more)
{
	static uint8_t f[DATAGRAM_MAX];
	uint8_t *ip = f + 14;
	uint16_t frag_data = (uint16_t)offset | (more ? 1 : 0);

	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x86\xdd", 14);
	memset(ip, 0, 48);
	ip[0] = 0x60;
	ip[4] = (8 + len) >> 8;
	ip[5] = (8 + len) & 0xff;
	ip[6] = IPPROTO_FRAGMENT;
	ip[7] = 64;
	ip[8] = 0x20; ip[9] = 0x01; ip[23] = 1;
	ip[24] = 0x20; ip[25] = 0x01; ip[39] = 2;
	ip[40] = IPPROTO_TCP;
	ip[42] = frag_data >> 8;
	ip[43] = frag_data & 0xff;
	ip[44] = id >> 24;
	ip[45] = (id >> 16) & 0xff;
	ip[46] = (id >> 8) & 0xff;
	ip[47] = id & 0xff;
	memcpy(ip + 48, l4 + offset, len);
	return mbuf_of(f, 14 + 48 + len);
}

/* Runs one frame through frag_take at <ts>; returns its verdict. */
static uint8_t
take_one(struct rte_mbuf **m, uint64_t ts, bool enforce,
	struct frag_burst *out)
{
	struct decoded_frame frame;
	uint8_t verdict = DROP_REASON_MAX;

	decode_frame(rte_pktmbuf_mtod(*m, const uint8_t *), (*m)->data_len,
		&frame, NULL);
	frag_take(table, m, &frame, &verdict, 1, &ts, 0, enforce, &port, out);
	return verdict;
}

/* Offers frames <ms>; returns the datagram completed by the last. */
static struct rte_mbuf *
take_all(struct rte_mbuf **ms, unsigned int count, struct frag_burst *out)
{
	struct decoded_frame frames[16];
	uint8_t verdicts[16];
	uint64_t ts[16] = { 0 };
	unsigned int i;

	for (i = 0; i < count; i++) {
		decode_frame(rte_pktmbuf_mtod(ms[i], const uint8_t *),
			ms[i]->data_len, &frames[i], NULL);
		verdicts[i] = DROP_REASON_MAX;
		ts[i] = 1000 + i;
	}
	port.rx += count;
	frag_take(table, ms, frames, verdicts, count, ts, 0, true, &port, out);
	for (i = 0; i < count; i++) {
		if (out->count > 0 && out->datagrams[0].slot == i) {
			assert_int_equal(verdicts[i], DROP_REASON_MAX);
			continue;
		}
		if (verdicts[i] == DROP_REASON_MAX) {
			/* Not a fragment: it would be forwarded. */
			port.tx++;
			rte_pktmbuf_free(ms[i]);
		} else if (verdicts[i] != FRAG_VERDICT_TAKEN) {
			port.drops[verdicts[i]]++;
			rte_pktmbuf_free(ms[i]);
		}
	}
	return out->count > 0 ? ms[out->datagrams[0].slot] : NULL;
}

/* The TCP bytes of datagram <m>, checked against l4[0..<len>). */
static void
check_datagram(struct rte_mbuf *m, uint32_t len, bool ipv6)
{
	struct decoded_frame frame;
	uint8_t copy[DATAGRAM_MAX];
	uint32_t l4_offset;

	assert_int_equal(decode_frame(rte_pktmbuf_mtod(m, const uint8_t *),
		m->data_len, &frame, NULL), 0);
	assert_false(frame.fragmented);
	assert_int_equal(frame.l4_proto, IPPROTO_TCP);
	assert_int_equal(frame.dst_port, 445);
	assert_int_equal(frame.payload_len, len - 20);
	l4_offset = frame.l4_offset;
	assert_int_equal(m->pkt_len, l4_offset + len);
	assert_int_equal(l4_offset, frame.l3_offset + (ipv6 ? 40 : 20));
	/* Every header in the first segment. */
	assert_true(m->data_len >= RTE_MIN(m->pkt_len,
		(uint32_t)FRAG_HEAD_BYTES));
	assert_non_null(rte_pktmbuf_read(m, l4_offset, len, copy));
	assert_memory_equal(rte_pktmbuf_read(m, l4_offset, len, copy), l4,
		len);
}

/* Datagram <d>, completed in <out>, decoded and cut again into at most
 * <max> <pieces>: frag_refragment()'s result. */
static int
refragment(struct rte_mbuf *d, const struct frag_burst *out,
	struct rte_mbuf **pieces, uint16_t max)
{
	struct decoded_frame frame;

	decode_frame(rte_pktmbuf_mtod(d, const uint8_t *), d->data_len,
		&frame, NULL);
	return frag_refragment(d, &frame, &out->datagrams[0], pool, pieces,
		max);
}

static bool
balanced(void)
{
	return port_counters_balanced(&port);
}

static int
setup(void **state)
{
	struct frag_params params = {
		.mode = FRAG_MODE_REASSEMBLE,
		.max_datagrams = 16,
		.timeout_ns = TIMEOUT_NS,
		.socket = SOCKET_ID_ANY,
		.pool = pool,
	};

	(void)state;
	memset(&port, 0, sizeof(port));
	table = frag_table_create(&params);
	return table == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	frag_table_free(table, &port);
	assert_int_equal(port.held, 0);
	assert_true(balanced());
	/* Nothing leaked: every mbuf is back. */
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	return 0;
}

static void
test_in_order(void **state)
{
	struct rte_mbuf *ms[3];
	struct frag_burst out;
	struct rte_mbuf *d;

	(void)state;
	fill_l4(136, 1);
	ms[0] = ipv4_fragment(7, IPPROTO_TCP, 0, 48, true, false);
	ms[1] = ipv4_fragment(7, IPPROTO_TCP, 48, 48, true, false);
	ms[2] = ipv4_fragment(7, IPPROTO_TCP, 96, 40, false, false);
	/* Ethernet padding is not part of the datagram. */
	memset(rte_pktmbuf_append(ms[0], 6), 0xee, 6);
	d = take_all(ms, 3, &out);
	assert_non_null(d);
	assert_int_equal(out.count, 1);
	assert_int_equal(out.datagrams[0].slot, 2);
	assert_int_equal(out.datagrams[0].fragments, 3);
	assert_int_equal(out.datagrams[0].largest, 68);
	assert_int_equal(port.datagrams, 1);
	assert_int_equal(port.held, 0);
	check_datagram(d, 136, false);
	port.reassembled += 3;
	rte_pktmbuf_free(d);
}

static void
test_out_of_order_across_bursts(void **state)
{
	struct rte_mbuf *m;
	struct frag_burst out;

	(void)state;
	fill_l4(136, 2);
	port.rx += 2;
	m = ipv4_fragment(8, IPPROTO_TCP, 96, 40, false, false);
	assert_int_equal(take_one(&m, 10, true, &out), FRAG_VERDICT_TAKEN);
	m = ipv4_fragment(8, IPPROTO_TCP, 0, 48, true, false);
	assert_int_equal(take_one(&m, 11, true, &out), FRAG_VERDICT_TAKEN);
	assert_int_equal(port.held, 2);
	assert_true(balanced());
	port.rx++;
	m = ipv4_fragment(8, IPPROTO_TCP, 48, 48, true, false);
	assert_int_equal(take_one(&m, 12, true, &out), DROP_REASON_MAX);
	assert_int_equal(out.count, 1);
	assert_int_equal(port.held, 0);
	check_datagram(m, 136, false);
	port.reassembled += out.datagrams[0].fragments;
	rte_pktmbuf_free(m);
}

static void
test_ipv6(void **state)
{
	struct rte_mbuf *ms[3];
	struct frag_burst out;
	struct rte_mbuf *d;

	(void)state;
	fill_l4(300, 3);
	ms[0] = ipv6_fragment(0x12345678, 128, 128, true);
	ms[1] = ipv6_fragment(0x12345678, 256, 44, false);
	ms[2] = ipv6_fragment(0x12345678, 0, 128, true);
	d = take_all(ms, 3, &out);
	assert_non_null(d);
	assert_int_equal(out.datagrams[0].fragments, 3);
	assert_int_equal(out.datagrams[0].largest, 40 + 8 + 128);
	assert_int_equal(out.datagrams[0].ipv6_id, rte_cpu_to_be_32(0x12345678));
	check_datagram(d, 300, true);
	port.reassembled += 3;
	rte_pktmbuf_free(d);
}

/* The middle fragment twice with other bytes: the whole set is dropped. */
static void
test_overlap_same_range(void **state)
{
	struct rte_mbuf *ms[4];
	struct frag_burst out;

	(void)state;
	fill_l4(136, 4);
	ms[0] = ipv4_fragment(9, IPPROTO_TCP, 0, 48, true, false);
	ms[1] = ipv4_fragment(9, IPPROTO_TCP, 48, 48, true, false);
	fill_l4(136, 5);
	ms[2] = ipv4_fragment(9, IPPROTO_TCP, 48, 48, true, false);
	ms[3] = ipv4_fragment(9, IPPROTO_TCP, 96, 40, false, false);
	assert_null(take_all(ms, 4, &out));
	assert_int_equal(port.drops[DROP_FRAG_INVALID], 4);
	assert_int_equal(port.held, 0);
}

/* A partial overlap whose byte count matches the length: a hole. */
static void
test_overlap_with_hole(void **state)
{
	struct rte_mbuf *ms[4];
	struct frag_burst out;

	(void)state;
	fill_l4(64, 6);
	ms[0] = ipv4_fragment(10, IPPROTO_TCP, 0, 24, true, false);
	ms[1] = ipv4_fragment(10, IPPROTO_TCP, 16, 16, true, false);
	ms[2] = ipv4_fragment(10, IPPROTO_TCP, 48, 16, false, false);
	ms[3] = ipv4_fragment(10, IPPROTO_TCP, 24, 8, true, false);
	/* 24 + 16 + 16 + 8 = 64 bytes, but [32, 48) is missing. */
	assert_null(take_all(ms, 4, &out));
	assert_int_equal(port.drops[DROP_FRAG_INVALID], 4);
	assert_int_equal(port.held, 0);
}

/* Overlapping fragments that reach the length before the last arrives. */
static void
test_overlap_before_last(void **state)
{
	struct rte_mbuf *ms[4];
	struct frag_burst out;

	(void)state;
	fill_l4(96, 7);
	ms[0] = ipv4_fragment(11, IPPROTO_TCP, 0, 48, true, false);
	ms[1] = ipv4_fragment(11, IPPROTO_TCP, 40, 48, true, false);
	ms[2] = ipv4_fragment(11, IPPROTO_TCP, 8, 80, true, false);
	ms[3] = ipv4_fragment(11, IPPROTO_TCP, 88, 8, false, false);
	assert_null(take_all(ms, 4, &out));
	assert_int_equal(port.drops[DROP_FRAG_INVALID], 4);
}

static void
test_duplicate_first(void **state)
{
	struct rte_mbuf *ms[2];
	struct frag_burst out;

	(void)state;
	fill_l4(96, 8);
	ms[0] = ipv4_fragment(12, IPPROTO_TCP, 0, 48, true, false);
	ms[1] = ipv4_fragment(12, IPPROTO_TCP, 0, 48, true, false);
	assert_null(take_all(ms, 2, &out));
	assert_int_equal(port.drops[DROP_FRAG_INVALID], 2);
}

/*
 * rte_ip_frag takes at most 8 fragments of a datagram; fragments that do
 * not continue one another (every other one, then the rest) are 9 there.
 */
static void
test_too_many_fragments(void **state)
{
	static const unsigned int order[9] = { 0, 2, 4, 6, 8, 1, 3, 5, 7 };
	struct rte_mbuf *ms[9];
	struct frag_burst out;
	unsigned int i;

	(void)state;
	fill_l4(72, 9);
	for (i = 0; i < 9; i++)
		ms[i] = ipv4_fragment(13, IPPROTO_TCP, order[i] * 8, 8,
			order[i] < 8, false);
	assert_null(take_all(ms, 9, &out));
	assert_int_equal(port.drops[DROP_FRAG_INVALID], 9);
	assert_int_equal(port.held, 0);
}

/*
 * 8-byte fragments, far more than 8, in order or last first: joined into
 * runs as they come, the datagram completes.
 */
static void
test_many_tiny_fragments(void **state)
{
	struct rte_mbuf *ms[16];
	struct frag_burst out;
	struct rte_mbuf *d;
	unsigned int i, round;

	(void)state;
	fill_l4(128, 20);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 16; i++) {
			unsigned int k = round == 0 ? i : 15 - i;

			ms[i] = ipv4_fragment((uint16_t)(30 + round),
				IPPROTO_TCP, k * 8, 8, k < 15, false);
		}
		d = take_all(ms, 16, &out);
		assert_non_null(d);
		assert_int_equal(out.datagrams[0].fragments, 16);
		assert_int_equal(out.datagrams[0].largest, 28);
		check_datagram(d, 128, false);
		port.reassembled += 16;
		rte_pktmbuf_free(d);
	}
	/* IPv6, one fragment a burst, last first. */
	fill_l4(96, 21);
	port.rx += 12;
	for (i = 0; i < 12; i++) {
		struct rte_mbuf *m = ipv6_fragment(0x77, (11 - i) * 8, 8,
			i != 0);
		uint8_t verdict = take_one(&m, 100 + i, true, &out);

		if (i < 11) {
			assert_int_equal(verdict, FRAG_VERDICT_TAKEN);
			continue;
		}
		assert_int_equal(verdict, DROP_REASON_MAX);
		assert_int_equal(out.datagrams[0].fragments, 12);
		check_datagram(m, 96, true);
		port.reassembled += 12;
		rte_pktmbuf_free(m);
	}
	assert_int_equal(port.held, 0);
}

/* A run that never ends holds at most FRAG_RUN_MAX fragments. */
static void
test_endless_run(void **state)
{
	struct rte_mbuf *m;
	struct frag_burst out;
	unsigned int i;

	(void)state;
	fill_l4(DATAGRAM_MAX, 22);
	for (i = 0; i < 70; i++) {
		port.rx++;
		m = ipv4_fragment(40, IPPROTO_TCP, i * 8, 8, true, false);
		assert_int_equal(take_one(&m, 1, true, &out),
			FRAG_VERDICT_TAKEN);
		assert_true(port.held <= 64);
	}
	assert_int_equal(port.drops[DROP_FRAG_INVALID], 65);
	assert_int_equal(port.held, 5);
	assert_true(balanced());
}

/* Only 8 bytes of TCP header in the first fragment: taken all the same. */
static void
test_tiny_first_fragment(void **state)
{
	struct rte_mbuf *ms[2];
	struct frag_burst out;
	struct rte_mbuf *d;

	(void)state;
	fill_l4(120, 10);
	ms[0] = ipv4_fragment(14, IPPROTO_TCP, 0, 8, true, false);
	ms[1] = ipv4_fragment(14, IPPROTO_TCP, 8, 112, false, false);
	d = take_all(ms, 2, &out);
	assert_non_null(d);
	check_datagram(d, 120, false);
	port.reassembled += 2;
	rte_pktmbuf_free(d);
}

static void
test_malformed_fragments(void **state)
{
	struct rte_mbuf *m;
	struct frag_burst out;

	(void)state;
	fill_l4(200, 11);
	port.rx += 5;
	/* Not the last, and not a multiple of 8. */
	m = ipv4_fragment(15, IPPROTO_TCP, 0, 44, true, false);
	assert_int_equal(take_one(&m, 1, true, &out), DROP_FRAG_INVALID);
	rte_pktmbuf_free(m);
	/* Past 65,535 bytes once reassembled. */
	m = ipv4_fragment(15, IPPROTO_TCP, 65528, 16, false, false);
	assert_int_equal(take_one(&m, 1, true, &out), DROP_FRAG_INVALID);
	rte_pktmbuf_free(m);
	/* No data. */
	m = ipv4_fragment(15, IPPROTO_TCP, 64, 0, false, false);
	assert_int_equal(take_one(&m, 1, true, &out), DROP_FRAG_INVALID);
	rte_pktmbuf_free(m);
	/* Shorter than its IP length says. */
	m = ipv4_fragment(15, IPPROTO_TCP, 0, 48, true, false);
	rte_pktmbuf_trim(m, 8);
	assert_int_equal(take_one(&m, 1, true, &out), DROP_FRAG_INVALID);
	rte_pktmbuf_free(m);
	/* IPv6: a header between the fixed header and the Fragment header. */
	m = ipv6_fragment(1, 0, 64, true);
	{
		uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);

		/* Destination options (8 bytes) before the Fragment header. */
		ip[6] = IPPROTO_DSTOPTS;
		memmove(ip + 48, ip + 40, 8);
		memset(ip + 40, 0, 8);
		ip[40] = IPPROTO_FRAGMENT;
	}
	assert_int_equal(take_one(&m, 1, true, &out), DROP_FRAG_INVALID);
	rte_pktmbuf_free(m);
	port.drops[DROP_FRAG_INVALID] += 5;
	assert_int_equal(port.held, 0);
}

static void
test_other_protocols_pass(void **state)
{
	struct rte_mbuf *m;
	struct frag_burst out;

	(void)state;
	fill_l4(96, 12);
	port.rx += 1;
	m = ipv4_fragment(16, IPPROTO_UDP, 0, 48, true, false);
	assert_int_equal(take_one(&m, 1, true, &out), DROP_REASON_MAX);
	assert_int_equal(out.count, 0);
	assert_int_equal(port.held, 0);
	port.tx += 1;
	rte_pktmbuf_free(m);
}

static void
test_timeout(void **state)
{
	struct rte_mbuf *m;
	struct frag_burst out;

	(void)state;
	fill_l4(96, 13);
	port.rx += 3;
	m = ipv4_fragment(17, IPPROTO_TCP, 0, 48, true, false);
	assert_int_equal(take_one(&m, 1000, true, &out), FRAG_VERDICT_TAKEN);
	m = ipv4_fragment(18, IPPROTO_TCP, 0, 48, true, false);
	assert_int_equal(take_one(&m, 1000 + TIMEOUT_NS, true, &out),
		FRAG_VERDICT_TAKEN);
	assert_int_equal(port.held, 2);
	/* Only the first has outlived the timeout. */
	frag_expire(table, 1001 + TIMEOUT_NS, &port);
	assert_int_equal(port.drops[DROP_FRAG_INCOMPLETE], 1);
	assert_int_equal(port.held, 1);
	/* A late fragment of the expired datagram starts afresh. */
	m = ipv4_fragment(17, IPPROTO_TCP, 48, 48, false, false);
	assert_int_equal(take_one(&m, 1002 + TIMEOUT_NS, true, &out),
		FRAG_VERDICT_TAKEN);
	assert_int_equal(port.held, 2);
	assert_true(balanced());
	/* What is left is dropped with the table (teardown). */
}

static void
test_table_full(void **state)
{
	struct rte_mbuf *m;
	struct frag_burst out;
	uint16_t id;

	(void)state;
	fill_l4(96, 14);
	for (id = 100; id < 140; id++) {
		port.rx++;
		m = ipv4_fragment(id, IPPROTO_TCP, 0, 48, true, false);
		assert_int_equal(take_one(&m, 5, true, &out),
			FRAG_VERDICT_TAKEN);
	}
	/* Up to 16 runs, and 16 datagrams in the table. */
	assert_true(port.held <= 32);
	assert_int_equal(port.held + port.drops[DROP_FRAG_TABLE_FULL], 40);
	assert_true(port.drops[DROP_FRAG_TABLE_FULL] >= 8);
	assert_true(balanced());
}

static void
test_drop_mode(void **state)
{
	struct frag_params params = {
		.mode = FRAG_MODE_DROP,
		.max_datagrams = 16,
		.timeout_ns = TIMEOUT_NS,
		.socket = SOCKET_ID_ANY,
		.pool = pool,
	};
	struct frag_table *saved = table;
	struct rte_mbuf *m;
	struct frag_burst out;

	(void)state;
	table = frag_table_create(&params);
	assert_non_null(table);
	fill_l4(96, 15);
	m = ipv4_fragment(19, IPPROTO_TCP, 48, 48, false, false);
	assert_int_equal(take_one(&m, 1, true, &out), DROP_FRAG_REFUSED);
	/* Monitor-only: left alone. */
	assert_int_equal(take_one(&m, 1, false, &out), DROP_REASON_MAX);
	rte_pktmbuf_free(m);
	m = ipv4_fragment(19, IPPROTO_UDP, 48, 48, false, false);
	assert_int_equal(take_one(&m, 1, true, &out), DROP_REASON_MAX);
	rte_pktmbuf_free(m);
	frag_table_free(table, &port);
	table = saved;
}

/*
 * l4[] as a GRE payload (decode.h): GRE carrying IPv4 carrying the TCP
 * segment fill_l4() makes of <tcp_len> bytes, the inner IPv4 header's
 * fragment field <inner_frag>. Returns the GRE payload's length.
 */
static uint32_t
fill_gre(uint32_t tcp_len, uint8_t seed, uint16_t inner_frag)
{
	uint8_t *ip = l4 + 4;

	fill_l4(tcp_len, seed);
	memmove(l4 + 24, l4, tcp_len);
	memcpy(l4, "\0\0\x08\x00", 4);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (20 + tcp_len) >> 8;
	ip[3] = (20 + tcp_len) & 0xff;
	ip[6] = inner_frag >> 8;
	ip[7] = inner_frag & 0xff;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, "\xc6\x12\x01\x0b\xc6\x12\x02\x15", 8);
	return 24 + tcp_len;
}

/* The tunnelled segment of datagram <m>, checked against l4[0..<len>). */
static void
check_tunnel_datagram(struct rte_mbuf *m, uint32_t len)
{
	struct decoded_frame frame;
	uint8_t copy[DATAGRAM_MAX];

	assert_int_equal(decode_frame(rte_pktmbuf_mtod(m, const uint8_t *),
		m->data_len, &frame, NULL), 0);
	assert_int_equal(frame.tunnel, DECODE_TUNNEL_GRE);
	assert_false(frame.fragmented);
	assert_int_equal(frame.l4_proto, IPPROTO_TCP);
	assert_int_equal(frame.dst_port, 445);
	assert_int_equal(frame.l3_offset, 14 + 20 + 4);
	assert_int_equal(frame.payload_len, len - 44);
	assert_int_equal(m->pkt_len, 14 + 20 + len);
	assert_memory_equal(rte_pktmbuf_read(m, 14 + 20, len, copy), l4, len);
}

/*
 * A tunnel's datagram in fragments is put together, judged by what it
 * carries, and cut again at its outer header; a fragment inside a tunnel
 * is refused, since its far end, not the gateway, puts it together.
 */
static void
test_tunnel(void **state)
{
	struct rte_mbuf *ms[3], *pieces[64], *d;
	struct frag_burst out;
	uint32_t len;
	int count, i;

	(void)state;
	len = fill_gre(600, 22, 0);
	ms[0] = ipv4_fragment(30, IPPROTO_GRE, 256, 256, true, false);
	ms[1] = ipv4_fragment(30, IPPROTO_GRE, 0, 256, true, false);
	ms[2] = ipv4_fragment(30, IPPROTO_GRE, 512, len - 512, false, false);
	d = take_all(ms, 3, &out);
	assert_non_null(d);
	check_tunnel_datagram(d, len);
	count = refragment(d, &out, pieces, 64);
	assert_int_equal(count, 3);
	port.reassembled += 3;
	for (i = 0; i < count; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(pieces[i], const uint8_t *);
		uint8_t header[20];

		/* Each piece an outer IPv4 fragment of GRE, its header valid. */
		memcpy(header, f + 14, 20);
		assert_int_equal(header[9], IPPROTO_GRE);
		assert_int_equal(rte_ipv4_cksum(
			(const struct rte_ipv4_hdr *)header), 0);
		assert_true(pieces[i]->pkt_len - 14 <= 276);
	}
	/* Put together again, in a fresh table: the same bytes. */
	frag_table_free(table, &port);
	setup(NULL);
	d = take_all(pieces, (unsigned int)count, &out);
	assert_non_null(d);
	port.reassembled += (uint64_t)count;
	check_tunnel_datagram(d, len);
	rte_pktmbuf_free(d);

	/* The inner packet a first fragment: refused when enforcing. */
	len = fill_gre(200, 23, 0x2000);
	ms[0] = ipv4_fragment(31, IPPROTO_GRE, 0, len, false, false);
	port.rx += 2;
	assert_int_equal(take_one(&ms[0], 1, true, &out), DROP_FRAG_REFUSED);
	assert_int_equal(out.count, 0);
	port.drops[DROP_FRAG_REFUSED]++;
	assert_int_equal(take_one(&ms[0], 1, false, &out), DROP_REASON_MAX);
	port.tx++;
	assert_int_equal(port.held, 0);
	rte_pktmbuf_free(ms[0]);
}

/* Reassembles pieces <ms> in a fresh table: they must give l4[0..len). */
static void
check_pieces(struct rte_mbuf **ms, int count, uint16_t largest, bool ipv6,
	bool vlan, uint32_t len)
{
	struct frag_burst out;
	struct rte_mbuf *d;
	int i;

	for (i = 0; i < count; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(ms[i], const uint8_t *);
		uint32_t l2 = vlan ? 18 : 14;

		assert_true(ms[i]->pkt_len - l2 <= largest);
		if (vlan)
			assert_memory_equal(f + 12, "\x81\x00\x00\x64\x08\x00", 6);
		if (!ipv6) {
			uint8_t header[20];

			memcpy(header, f + l2, 20);
			/* A valid header sums to 0xffff: checksum 0. */
			assert_int_equal(rte_ipv4_cksum(
				(const struct rte_ipv4_hdr *)header), 0);
		}
	}
	d = take_all(ms, (unsigned int)count, &out);
	assert_non_null(d);
	port.reassembled += out.datagrams[0].fragments;
	check_datagram(d, len, ipv6);
	rte_pktmbuf_free(d);
}

static void
test_refragment_ipv4(void **state)
{
	struct rte_mbuf *ms[4], *pieces[64];
	struct frag_burst out;
	struct rte_mbuf *d;
	int count;

	(void)state;
	fill_l4(1000, 16);
	ms[0] = ipv4_fragment(20, IPPROTO_TCP, 0, 256, true, true);
	ms[1] = ipv4_fragment(20, IPPROTO_TCP, 512, 256, true, true);
	ms[2] = ipv4_fragment(20, IPPROTO_TCP, 768, 232, false, true);
	ms[3] = ipv4_fragment(20, IPPROTO_TCP, 256, 256, true, true);
	d = take_all(ms, 4, &out);
	assert_non_null(d);
	assert_int_equal(out.datagrams[0].largest, 276);
	count = refragment(d, &out, pieces, 64);
	assert_int_equal(count, 4);
	port.reassembled += 4;
	check_pieces(pieces, count, 276, false, true, 1000);
}

static void
test_refragment_ipv6(void **state)
{
	struct rte_mbuf *ms[3], *pieces[64];
	struct frag_burst out;
	struct rte_mbuf *d;
	const uint8_t *f;
	int count, i;

	(void)state;
	fill_l4(3000, 17);
	ms[0] = ipv6_fragment(0xabcdef01, 2464, 536, false);
	ms[1] = ipv6_fragment(0xabcdef01, 0, 1232, true);
	ms[2] = ipv6_fragment(0xabcdef01, 1232, 1232, true);
	d = take_all(ms, 3, &out);
	assert_non_null(d);
	assert_int_equal(out.datagrams[0].largest, 1280);
	count = refragment(d, &out, pieces, 64);
	assert_int_equal(count, 3);
	port.reassembled += 3;
	for (i = 0; i < count; i++) {
		f = rte_pktmbuf_mtod(pieces[i], const uint8_t *);
		assert_int_equal(f[14 + 6], IPPROTO_FRAGMENT);
		/* The library leaves it 0; the original is put back. */
		assert_memory_equal(f + 14 + 44, "\xab\xcd\xef\x01", 4);
	}
	check_pieces(pieces, count, 1280, true, false, 3000);
}

/* Below IPv6's minimum MTU: one atomic fragment, a whole datagram. */
static void
test_refragment_ipv6_small(void **state)
{
	struct rte_mbuf *ms[2], *pieces[64];
	struct decoded_frame frame;
	struct frag_burst out;
	struct rte_mbuf *d;
	int count;

	(void)state;
	fill_l4(1000, 18);
	ms[0] = ipv6_fragment(0x01020304, 0, 504, true);
	ms[1] = ipv6_fragment(0x01020304, 504, 496, false);
	d = take_all(ms, 2, &out);
	assert_non_null(d);
	count = refragment(d, &out, pieces, 64);
	assert_int_equal(count, 1);
	port.reassembled += 2;
	assert_true(pieces[0]->pkt_len <= 14 + 1280);
	/* A chain: its headers read out in one piece. */
	assert_non_null(rte_pktmbuf_read(pieces[0], 0, 14 + 48 + 20, l4));
	assert_int_equal(decode_frame(rte_pktmbuf_read(pieces[0], 0,
		14 + 48 + 20, l4), 14 + 48 + 20, &frame, NULL), 0);
	assert_false(frame.fragmented);
	assert_int_equal(frame.l4_proto, IPPROTO_TCP);
	assert_int_equal(pieces[0]->pkt_len, 14 + 48 + 1000);
	rte_pktmbuf_free(pieces[0]);
}

static void
test_refragment_too_many_pieces(void **state)
{
	struct rte_mbuf *ms[2], *pieces[2];
	struct frag_burst out;
	struct rte_mbuf *d;

	(void)state;
	fill_l4(1000, 18);
	ms[0] = ipv4_fragment(21, IPPROTO_TCP, 0, 504, true, false);
	ms[1] = ipv4_fragment(21, IPPROTO_TCP, 504, 496, false, false);
	d = take_all(ms, 2, &out);
	assert_non_null(d);
	assert_int_equal(refragment(d, &out, pieces, 1), -EINVAL);
	/* Still the caller's, and whole. */
	check_datagram(d, 1000, false);
	port.drops[DROP_FRAG_INVALID] += 2;
	rte_pktmbuf_free(d);
}

static void
test_flush_counts_held(void **state)
{
	struct rte_mbuf *m;
	struct frag_burst out;

	(void)state;
	fill_l4(96, 19);
	port.rx += 2;
	m = ipv4_fragment(22, IPPROTO_TCP, 0, 48, true, false);
	take_one(&m, 1, true, &out);
	m = ipv6_fragment(22, 0, 48, true);
	take_one(&m, 1, true, &out);
	assert_int_equal(port.held, 2);
	frag_flush(table, &port);
	assert_int_equal(port.held, 0);
	assert_int_equal(port.drops[DROP_FRAG_INCOMPLETE], 2);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* xorshift32: the same sets every run. */
static uint32_t
next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

struct piece {
	uint32_t offset;
	uint32_t len;
	uint8_t seed;
};

/*
 * Random sets: a datagram cut at random points, shuffled, with a piece
 * left out or an extra piece (other bytes) added now and then. A set
 * completes exactly when its pieces tile the datagram without overlap,
 * and then carries exactly their bytes; every fragment is counted once;
 * nothing leaks (teardown).
 */
static void
test_random_sets(void **state)
{
	static uint8_t want[DATAGRAM_MAX], ref[2][DATAGRAM_MAX];
	uint32_t rng = 20261206, iter;
	unsigned int completed = 0, refused = 0;

	(void)state;
	for (iter = 0; iter < 3000; iter++) {
		struct piece pieces[16];
		struct rte_mbuf *ms[16];
		struct frag_burst out;
		struct rte_mbuf *d;
		uint32_t total = 24 + 8 * (next_random(&rng) % 120) +
			next_random(&rng) % 8;
		uint32_t cuts[8], n_cuts = next_random(&rng) % 6, i, j;
		uint32_t count = 0, covered = 0;
		uint64_t before = port.rx - port.tx -
			port.drops[DROP_FRAG_INVALID] -
			port.drops[DROP_FRAG_INCOMPLETE] - port.reassembled;
		bool overlap = false;

		for (i = 0; i < 2; i++) {
			fill_l4(total, (uint8_t)(iter + 97 * i));
			memcpy(ref[i], l4, total);
		}
		for (i = 0; i < n_cuts; i++)
			cuts[i] = 8 * (1 + next_random(&rng) % ((total - 1) / 8));
		/* Sorted, distinct cuts tile [0, total). */
		for (i = 0; i < n_cuts; i++)
			for (j = i + 1; j < n_cuts; j++)
				if (cuts[j] < cuts[i]) {
					uint32_t t = cuts[i];

					cuts[i] = cuts[j];
					cuts[j] = t;
				}
		for (i = 0; i <= n_cuts; i++) {
			uint32_t start = i == 0 ? 0 : cuts[i - 1];
			uint32_t end = i == n_cuts ? total : cuts[i];

			if (end == start)
				continue;
			pieces[count++] = (struct piece){ start, end - start, 0 };
		}
		if (count > 1 && next_random(&rng) % 4 == 0) {
			/* One left out: the set never completes. */
			i = next_random(&rng) % count;
			pieces[i] = pieces[--count];
		}
		if (next_random(&rng) % 3 == 0) {
			uint32_t start = 8 * (next_random(&rng) % (total / 8));
			uint32_t len = 8 * (1 + next_random(&rng) % 8);

			if (start + len > total)
				len = total - start;
			/* A whole datagram would be no fragment at all. */
			if (len == total)
				len = 8;
			pieces[count++] = (struct piece){ start, len, 1 };
		}
		/* What the server would have to make of it. */
		for (i = 0; i < count; i++) {
			for (j = i + 1; j < count; j++)
				if (pieces[i].offset < pieces[j].offset +
						pieces[j].len &&
						pieces[j].offset <
						pieces[i].offset + pieces[i].len)
					overlap = true;
			covered += pieces[i].len;
			memcpy(want + pieces[i].offset,
				ref[pieces[i].seed] + pieces[i].offset,
				pieces[i].len);
		}
		/* Shuffled, then cut from their references. */
		for (i = count; i > 1; i--) {
			struct piece t;

			j = next_random(&rng) % i;
			t = pieces[i - 1];
			pieces[i - 1] = pieces[j];
			pieces[j] = t;
		}
		/*
		 * The extra piece before the last of the others: a set that
		 * tiles before it arrives is complete, and the extra piece a
		 * new datagram (the server would do the same).
		 */
		for (i = 0, j = count; i < count; i++)
			if (pieces[i].seed == 1)
				j = i;
		for (i = count; j < count && i-- > 0;) {
			if (pieces[i].seed == 0) {
				if (i < j) {
					struct piece t = pieces[i];

					pieces[i] = pieces[j];
					pieces[j] = t;
				}
				break;
			}
		}
		for (i = 0; i < count; i++) {
			memcpy(l4, ref[pieces[i].seed], total);
			ms[i] = ipv4_fragment((uint16_t)iter, IPPROTO_TCP,
				pieces[i].offset, pieces[i].len,
				pieces[i].offset + pieces[i].len < total, false);
		}
		d = take_all(ms, count, &out);
		if (count == 1 && pieces[0].offset == 0 &&
				pieces[0].len == total) {
			assert_null(d);	/* whole: no fragment at all */
		} else if (!overlap && covered == total) {
			assert_non_null(d);
			assert_int_equal(out.datagrams[0].fragments, count);
			memcpy(l4, want, total);
			check_datagram(d, total, false);
			completed++;
		} else {
			assert_null(d);
			refused += overlap;
		}
		if (d != NULL) {
			port.reassembled += out.datagrams[0].fragments;
			rte_pktmbuf_free(d);
		}
		frag_flush(table, &port);
		/* Every fragment of the set ended in one place. */
		assert_int_equal(port.rx - port.tx -
			port.drops[DROP_FRAG_INVALID] -
			port.drops[DROP_FRAG_INCOMPLETE] - port.reassembled,
			before);
		assert_true(balanced());
	}
	/* The mix exercised both outcomes. */
	assert_true(completed > 500);
	assert_true(refused > 500);
}

int
main(void)
{
	char runtime_dir[256];
	char prefix[64];
	int failed;
	char *argv[] = { "test_frag", "--no-huge", "-m", "64", "--no-pci",
		"--no-shconf", "--no-telemetry", "--log-level=lib.eal:error",
		"-l", "0", "--file-prefix", prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tunnel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_across_bursts,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_same_range, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_overlap_with_hole, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_overlap_before_last, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_first, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_too_many_fragments, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_many_tiny_fragments, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_endless_run, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_tiny_first_fragment, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_malformed_fragments, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_other_protocols_pass, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_drop_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refragment_ipv4, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_refragment_ipv6, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_refragment_ipv6_small,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_refragment_too_many_pieces,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_counts_held, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_random_sets, setup,
			teardown),
	};

	snprintf(prefix, sizeof(prefix), "test_frag_%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("test", 4095, 0, 0, 2048 + 128,
		SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	failed = cmocka_run_group_tests_name("frag", tests, NULL, NULL);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	rte_mempool_free(pool);
	rte_eal_cleanup();
	rmdir(runtime_dir);	/* EAL leaves its empty run directory */
	return failed;
}
