/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ones' complement sums: every length and alignment against DPDK's
 * rte_raw_cksum(), and mbuf chains cut at every point, odd pieces
 * included, against the same bytes in one buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "checksum.h"

#define MAX_LEN 2100
#define CHAIN_LEN 200

static uint8_t bytes[MAX_LEN + 64];

/* Bytes from a fixed xorshift sequence: reproducible, every value. */
static void
fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (uint8_t)seed;
	}
}

/* Every length up to a jumbo segment's, at every alignment in a line. */
static void
test_lengths_and_alignments(void **state)
{
	unsigned int align, len;

	(void)state;
	fill(bytes, sizeof(bytes), 12345);
	for (align = 0; align < 8; align++)
		for (len = 0; len <= MAX_LEN; len++)
			assert_int_equal(checksum_ones_sum(bytes + align, len),
				rte_raw_cksum(bytes + align, len));
}

/* Sums that wrap many times: all 0xff bytes, and all zero bytes. */
static void
test_extremes(void **state)
{
	unsigned int len;

	(void)state;
	memset(bytes, 0xff, sizeof(bytes));
	for (len = 0; len <= MAX_LEN; len += 7)
		assert_int_equal(checksum_ones_sum(bytes + 1, len),
			rte_raw_cksum(bytes + 1, len));
	memset(bytes, 0, sizeof(bytes));
	assert_int_equal(checksum_ones_sum(bytes, MAX_LEN), 0);
}

/* An mbuf over <data>'s <len> bytes, without a pool. */
static void
mbuf_over(struct rte_mbuf *m, uint8_t *data, uint16_t len,
	struct rte_mbuf *next)
{
	memset(m, 0, sizeof(*m));
	m->buf_addr = data;
	m->data_off = 0;
	m->data_len = len;
	m->next = next;
}

/*
 * Three pieces cut at every pair of points, summed from every offset:
 * pieces starting at an odd distance from the offset must be swapped in.
 */
static void
test_chains(void **state)
{
	static uint8_t copy[CHAIN_LEN];
	struct rte_mbuf a, b, c;
	unsigned int cut1, cut2, offset;
	uint16_t sum;

	(void)state;
	fill(copy, sizeof(copy), 777);
	for (cut1 = 0; cut1 <= CHAIN_LEN; cut1 += 3) {
		for (cut2 = cut1; cut2 <= CHAIN_LEN; cut2 += 5) {
			mbuf_over(&c, copy + cut2, CHAIN_LEN - cut2, NULL);
			mbuf_over(&b, copy + cut1, cut2 - cut1, &c);
			mbuf_over(&a, copy, cut1, &b);
			for (offset = 0; offset < CHAIN_LEN; offset += 11) {
				assert_int_equal(checksum_mbuf_sum(&a, offset,
					CHAIN_LEN - offset, &sum), 0);
				assert_int_equal(sum, rte_raw_cksum(
					copy + offset, CHAIN_LEN - offset));
			}
		}
	}
}

/* A chain shorter than asked for is refused, not read past. */
static void
test_short_chain(void **state)
{
	static uint8_t copy[64];
	struct rte_mbuf a, b;
	uint16_t sum = 0x1234;

	(void)state;
	mbuf_over(&b, copy + 32, 32, NULL);
	mbuf_over(&a, copy, 32, &b);
	assert_int_equal(checksum_mbuf_sum(&a, 0, 65, &sum), -1);
	assert_int_equal(checksum_mbuf_sum(&a, 64, 1, &sum), -1);
	assert_int_equal(sum, 0x1234);
	assert_int_equal(checksum_mbuf_sum(&a, 10, 54, &sum), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths_and_alignments),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_chains),
		cmocka_unit_test(test_short_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
