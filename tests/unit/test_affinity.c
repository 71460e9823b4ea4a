/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software flow affinity: both directions of a connection, its IP
 * fragments and every connection between the same two hosts map to one
 * worker; the workers share address pairs evenly; non-IP and truncated
 * frames stay where they arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "affinity.h"
#include "decode.h"

/* An Ethernet frame with <tags> VLAN tags and an IPv4 (or IPv6) header
 * from <a> to <b>, followed by TCP ports (absent for <fragment>). */
static uint32_t
build(uint8_t *f, unsigned int tags, bool ipv6, uint32_t a, uint32_t b,
	uint16_t sport, uint16_t dport, bool fragment)
{
	uint32_t o = 12, i;

	memset(f, 0, 128);
	for (i = 0; i < tags; i++) {
		f[o] = i == 0 && tags == 2 ? 0x88 : 0x81;
		f[o + 1] = i == 0 && tags == 2 ? 0xa8 : 0x00;
		f[o + 3] = (uint8_t)(10 + i);
		o += 4;
	}
	if (!ipv6) {
		f[o] = 0x08;
		f[o + 2] = 0x45;
		f[o + 2 + 9] = 6;
		for (i = 0; i < 4; i++) {
			f[o + 2 + 12 + i] = (uint8_t)(a >> (24 - 8 * i));
			f[o + 2 + 16 + i] = (uint8_t)(b >> (24 - 8 * i));
		}
		o += 2 + 20;
	} else {
		f[o] = 0x86;
		f[o + 1] = 0xdd;
		f[o + 2] = 0x60;
		f[o + 2 + 6] = 6;
		f[o + 2 + 8] = 0x20;	/* 2001:db8::a and 2001:db8::b */
		f[o + 2 + 9] = 0x01;
		f[o + 2 + 24] = 0x20;
		f[o + 2 + 25] = 0x01;
		for (i = 0; i < 4; i++) {
			f[o + 2 + 20 + i] = (uint8_t)(a >> (24 - 8 * i));
			f[o + 2 + 36 + i] = (uint8_t)(b >> (24 - 8 * i));
		}
		o += 2 + 40;
	}
	if (!fragment) {
		f[o] = (uint8_t)(sport >> 8);
		f[o + 1] = (uint8_t)sport;
		f[o + 2] = (uint8_t)(dport >> 8);
		f[o + 3] = (uint8_t)dport;
		o += 20;
	}
	return o;
}

#define CLIENT	0xc6120a0au	/* 198.18.10.10 */
#define SERVER	0xc6121414u	/* 198.18.20.20 */

static void
test_both_directions_and_ports(void **state)
{
	uint8_t f[128];
	unsigned int tags, v6;
	uint32_t len, there, back, other, fragment;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		for (tags = 0; tags <= DECODE_VLAN_TAGS_MAX; tags++) {
			len = build(f, tags, v6, CLIENT, SERVER, 50000, 445,
				false);
			there = affinity_hash(f, len);
			assert_int_not_equal(there, AFFINITY_ANY_WORKER);
			len = build(f, tags, v6, SERVER, CLIENT, 445, 50000,
				false);
			back = affinity_hash(f, len);
			assert_int_equal(there, back);
			/* Another connection of the same hosts, and a
			 * fragment without ports: the same owner. */
			len = build(f, tags, v6, CLIENT, SERVER, 50001, 49700,
				false);
			other = affinity_hash(f, len);
			assert_int_equal(there, other);
			len = build(f, tags, v6, SERVER, CLIENT, 0, 0, true);
			fragment = affinity_hash(f, len);
			assert_int_equal(there, fragment);
		}
	}
}

static void
test_not_ip_or_truncated(void **state)
{
	uint8_t f[128];
	uint32_t len;

	(void)state;
	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[13] = 0x06;	/* ARP */
	assert_int_equal(affinity_hash(f, 60), AFFINITY_ANY_WORKER);
	assert_int_equal(affinity_hash(f, 0), AFFINITY_ANY_WORKER);
	assert_int_equal(affinity_hash(f, 13), AFFINITY_ANY_WORKER);
	len = build(f, 0, false, CLIENT, SERVER, 1, 2, false);
	/* The addresses end 34 bytes in: one byte short is not IP. */
	assert_int_equal(affinity_hash(f, 33), AFFINITY_ANY_WORKER);
	assert_int_not_equal(affinity_hash(f, 34), AFFINITY_ANY_WORKER);
	len = build(f, 0, true, CLIENT, SERVER, 1, 2, false);
	assert_int_equal(affinity_hash(f, 14 + 39), AFFINITY_ANY_WORKER);
	assert_int_not_equal(affinity_hash(f, 14 + 40), AFFINITY_ANY_WORKER);
	/* A tag with nothing after it. */
	len = build(f, 2, false, CLIENT, SERVER, 1, 2, false);
	assert_int_equal(affinity_hash(f, 16), AFFINITY_ANY_WORKER);
	/* IPv4 ethertype with an IPv6 header: not trusted. */
	len = build(f, 0, false, CLIENT, SERVER, 1, 2, false);
	f[14] = 0x65;
	assert_int_equal(affinity_hash(f, len), AFFINITY_ANY_WORKER);
}

/*
 * Every frame the decoder reads as IP has an owner, however deep its VLAN
 * stack: a stack the affinity gave up on while the decoder went on would
 * leave that connection's frames where they arrived, split over workers.
 */
static void
test_vlan_depth_as_decoded(void **state)
{
	struct decoded_frame d;
	uint32_t untagged, len;
	unsigned int tags;
	uint8_t f[128];

	(void)state;
	len = build(f, 0, false, CLIENT, SERVER, 50000, 445, false);
	untagged = affinity_hash(f, len);
	for (tags = 0; tags <= DECODE_VLAN_TAGS_MAX + 1; tags++) {
		uint32_t ip = 14 + 4 * tags;

		len = build(f, tags, false, CLIENT, SERVER, 50000, 445, false);
		f[ip + 3] = 40;			/* IPv4 total length */
		f[ip + 20 + 12] = 0x50;		/* TCP data offset */
		decode_frame(f, len, &d, NULL);
		if (d.l3 == DECODE_L3_IPV4) {
			assert_true(tags <= DECODE_VLAN_TAGS_MAX);
			assert_int_equal(affinity_hash(f, len), untagged);
		} else {
			assert_int_equal(tags, DECODE_VLAN_TAGS_MAX + 1);
			assert_int_equal(affinity_hash(f, len),
				AFFINITY_ANY_WORKER);
		}
	}
}

/* Consecutive clients towards one server spread over 2 and 4 workers
 * within 10 % of an even share. */
static void
test_even_spread(void **state)
{
	unsigned int workers, counts[4], w, i;
	uint8_t f[128];
	uint32_t len;

	(void)state;
	for (workers = 2; workers <= 4; workers += 2) {
		memset(counts, 0, sizeof(counts));
		for (i = 0; i < 4000; i++) {
			len = build(f, 0, false, 0xc6120000u + i, SERVER,
				40000, 445, false);
			w = affinity_worker(affinity_hash(f, len), workers);
			assert_true(w < workers);
			counts[w]++;
		}
		for (w = 0; w < workers; w++) {
			assert_true(counts[w] > 4000 / workers * 9 / 10);
			assert_true(counts[w] < 4000 / workers * 11 / 10);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions_and_ports),
		cmocka_unit_test(test_not_ip_or_truncated),
		cmocka_unit_test(test_vlan_depth_as_decoded),
		cmocka_unit_test(test_even_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
