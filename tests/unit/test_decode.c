/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2-L4 decoder: tags, address families, ports, and frames that lie, each
 * counted under its reason.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"

static uint8_t frame[256];
static struct decoded_frame out;
static struct decode_counters counters;

/* Builds Ethernet + tags + IPv4 + TCP with <payload> bytes; returns length. */
static uint32_t
build_ipv4_tcp(unsigned int tags, uint16_t payload)
{
	uint32_t o = 12;
	unsigned int i;

	memset(frame, 0, sizeof(frame));
	for (i = 0; i < tags; i++) {
		frame[o] = i == 0 && tags > 1 ? 0x88 : 0x81;
		frame[o + 1] = i == 0 && tags > 1 ? 0xa8 : 0x00;
		frame[o + 2] = 0x00;
		frame[o + 3] = 100 + i;
		o += 4;
	}
	frame[o] = 0x08;
	frame[o + 1] = 0x00;
	o += 2;
	frame[o] = 0x45;
	frame[o + 2] = (20 + 20 + payload) >> 8;
	frame[o + 3] = (20 + 20 + payload) & 0xff;
	frame[o + 9] = IPPROTO_TCP;
	memcpy(frame + o + 12, "\xc6\x12\x01\x0a", 4);
	memcpy(frame + o + 16, "\xc6\x12\x02\x14", 4);
	o += 20;
	frame[o] = 0xa0;	/* source port 41000 */
	frame[o + 1] = 0x28;
	frame[o + 2] = 0x01;	/* destination port 445 */
	frame[o + 3] = 0xbd;
	frame[o + 4] = 0x01;	/* sequence 0x01020304 */
	frame[o + 5] = 0x02;
	frame[o + 6] = 0x03;
	frame[o + 7] = 0x04;
	frame[o + 12] = 5 << 4;
	frame[o + 13] = DECODE_TCP_SYN;
	return o + 20 + payload;
}

static void
test_untagged_ipv4_tcp(void **state)
{
	uint32_t len = build_ipv4_tcp(0, 10);

	(void)state;
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(frame, len, &out, &counters), 0);
	assert_int_equal(out.l3, DECODE_L3_IPV4);
	assert_int_equal(out.l4_proto, IPPROTO_TCP);
	assert_int_equal(out.src_port, 41000);
	assert_int_equal(out.dst_port, 445);
	assert_int_equal(out.tcp_seq, 0x01020304);
	assert_int_equal(out.tcp_flags, DECODE_TCP_SYN);
	assert_int_equal(out.payload_offset, 54);
	assert_int_equal(out.payload_len, 10);
	assert_memory_equal(out.src_addr, "\xc6\x12\x01\x0a", 4);
	assert_memory_equal(out.dst_addr, "\xc6\x12\x02\x14", 4);
	assert_int_equal(counters.ipv4, 1);
	assert_int_equal(counters.tcp, 1);
	assert_int_equal(counters.malformed, 0);
}

static void
test_vlan_and_qinq(void **state)
{
	uint32_t len = build_ipv4_tcp(1, 0);

	(void)state;
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(frame, len, &out, &counters), 0);
	assert_int_equal(out.vlan_count, 1);
	assert_int_equal(out.vlan_outer, 100);
	assert_int_equal(out.l3_offset, 18);
	assert_int_equal(out.dst_port, 445);

	len = build_ipv4_tcp(2, 0);
	assert_int_equal(decode_frame(frame, len, &out, &counters), 0);
	assert_int_equal(out.vlan_count, 2);
	assert_int_equal(out.vlan_outer, 100);
	assert_int_equal(out.vlan_inner, 101);
	assert_int_equal(out.l3_offset, 22);
	assert_int_equal(out.dst_port, 445);
	assert_int_equal(counters.vlan, 1);
	assert_int_equal(counters.qinq, 1);
}

static void
test_ipv6_with_extension_header(void **state)
{
	static const uint8_t ipv6_dstopts_tcp[] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd,
		0x60, 0, 0, 0, 0, 8 + 20, 60, 64,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		6, 0, 1, 4, 0, 0, 0, 0,			/* destination options */
		0x01, 0xbd, 0xa0, 0x28, 0, 0, 0, 9, 0, 0, 0, 0,
		0x50, 0x11, 0xff, 0xff, 0, 0, 0, 0,	/* TCP FIN|ACK */
	};

	(void)state;
	assert_int_equal(decode_frame(ipv6_dstopts_tcp,
		sizeof(ipv6_dstopts_tcp), &out, NULL), 0);
	assert_int_equal(out.l3, DECODE_L3_IPV6);
	assert_int_equal(out.l4_proto, IPPROTO_TCP);
	assert_int_equal(out.l4_offset, 14 + 40 + 8);
	assert_int_equal(out.src_port, 445);
	assert_int_equal(out.dst_port, 41000);
	assert_int_equal(out.tcp_flags, DECODE_TCP_FIN | DECODE_TCP_ACK);
	assert_int_equal(out.payload_len, 0);
	assert_int_equal(out.src_addr[15], 1);
}

static void
test_arp_and_other(void **state)
{
	uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };
	uint8_t lldp[60] = { [12] = 0x88, [13] = 0xcc };

	(void)state;
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(arp, sizeof(arp), &out, &counters), 0);
	assert_int_equal(out.l3, DECODE_L3_ARP);
	assert_int_equal(decode_frame(lldp, sizeof(lldp), &out, &counters), 0);
	assert_int_equal(out.l3, DECODE_L3_OTHER);
	assert_int_equal(out.ethertype, 0x88cc);
	assert_int_equal(counters.arp, 1);
	assert_int_equal(counters.other_l3, 1);
}

static void
test_fragment_has_no_ports(void **state)
{
	uint32_t len = build_ipv4_tcp(0, 0);

	(void)state;
	frame[14 + 6] = 0x00;
	frame[14 + 7] = 0x10;	/* fragment offset 16 * 8 bytes */
	assert_int_equal(decode_frame(frame, len, &out, NULL), 0);
	assert_true(out.fragment);
	assert_true(out.fragmented);
	assert_int_equal(out.src_port, 0);
}

/* A first fragment has its ports, and is a fragment all the same. */
static void
test_first_fragment(void **state)
{
	uint32_t len = build_ipv4_tcp(0, 0);

	(void)state;
	assert_int_equal(decode_frame(frame, len, &out, NULL), 0);
	assert_false(out.fragmented);
	frame[14 + 6] = 0x20;	/* more fragments, offset 0 */
	assert_int_equal(decode_frame(frame, len, &out, NULL), 0);
	assert_false(out.fragment);
	assert_true(out.fragmented);
	assert_int_equal(out.dst_port, 445);
	frame[14 + 6] = 0x40;	/* don't fragment */
	assert_int_equal(decode_frame(frame, len, &out, NULL), 0);
	assert_false(out.fragmented);
}

static void
test_truncated_headers_are_malformed(void **state)
{
	uint32_t len = build_ipv4_tcp(2, 0);
	uint32_t cut;

	(void)state;
	/* Every cut inside the headers must be caught, never read past. */
	for (cut = 0; cut < len; cut++) {
		memset(&counters, 0, sizeof(counters));
		assert_int_equal(decode_frame(frame, cut, &out, &counters),
			-EINVAL);
		assert_true(out.malformed);
		assert_int_equal(counters.malformed, 1);
	}
}

static void
test_lying_lengths_are_malformed(void **state)
{
	uint32_t len = build_ipv4_tcp(0, 0);

	(void)state;
	frame[14] = 0x44;	/* IHL 16 bytes: below the minimum */
	assert_int_equal(decode_frame(frame, len, &out, NULL), -EINVAL);

	len = build_ipv4_tcp(0, 0);
	frame[14 + 2] = 0;
	frame[14 + 3] = 30;	/* total length shorter than IP + TCP headers */
	assert_int_equal(decode_frame(frame, len, &out, NULL), -EINVAL);

	len = build_ipv4_tcp(0, 0);
	frame[34 + 12] = 0xf0;	/* TCP header of 60 bytes in a 20-byte segment */
	assert_int_equal(decode_frame(frame, len, &out, NULL), -EINVAL);
}

/*
 * Decodes <bytes> of <len> and asserts that it is malformed for <reason>
 * alone: counted once in the total and once under that reason.
 */
static void
expect_reason(const uint8_t *bytes, uint32_t len, enum decode_malformed reason)
{
	unsigned int r;

	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(bytes, len, &out, &counters), -EINVAL);
	assert_true(out.malformed);
	assert_int_equal(counters.malformed, 1);
	for (r = 0; r < DECODE_MALFORMED_MAX; r++)
		if (counters.malformed_by[r] != (r == reason ? 1u : 0u))
			fail_msg("expected %s, counted under %s",
				decode_malformed_name(reason),
				decode_malformed_name(r));
}

static const uint8_t ipv6_udp[] = {
	2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd,
	0x60, 0, 0, 0, 0, 8 + 8, 60, 64,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	17, 0, 1, 4, 0, 0, 0, 0,		/* destination options */
	0x00, 0x8a, 0x00, 0x8a, 0, 8, 0, 0,	/* UDP 138 -> 138 */
};

static void
test_malformed_reasons(void **state)
{
	uint8_t v6[sizeof(ipv6_udp)];
	uint32_t len;
	unsigned int r;

	(void)state;
	/* Names for every reason, distinct from the fallback. */
	for (r = 0; r < DECODE_MALFORMED_MAX; r++)
		assert_string_not_equal(decode_malformed_name(r), "unknown");
	assert_string_equal(decode_malformed_name(DECODE_MALFORMED_MAX),
		"unknown");

	len = build_ipv4_tcp(1, 0);
	expect_reason(frame, 10, DECODE_TRUNCATED_L2);
	expect_reason(frame, 16, DECODE_TRUNCATED_L2);	/* inside the tag */

	len = build_ipv4_tcp(0, 0);
	expect_reason(frame, 14 + 10, DECODE_TRUNCATED_L3);
	frame[14] = 0x46;	/* 4 bytes of options that are not there */
	expect_reason(frame, 14 + 22, DECODE_TRUNCATED_L3);

	len = build_ipv4_tcp(0, 0);
	expect_reason(frame, 34 + 10, DECODE_TRUNCATED_L4);
	frame[14 + 9] = IPPROTO_UDP;
	expect_reason(frame, 34 + 4, DECODE_TRUNCATED_L4);

	len = build_ipv4_tcp(0, 0);
	frame[14] = 0x65;	/* IPv6's version behind the IPv4 ethertype */
	expect_reason(frame, len, DECODE_BAD_IP_VERSION);
	memcpy(v6, ipv6_udp, sizeof(v6));
	v6[14] = 0x45;
	expect_reason(v6, sizeof(v6), DECODE_BAD_IP_VERSION);

	len = build_ipv4_tcp(0, 0);
	frame[14] = 0x44;
	expect_reason(frame, len, DECODE_BAD_IP_HEADER_LENGTH);

	len = build_ipv4_tcp(0, 0);
	frame[14 + 3] = 10;	/* shorter than the IP header itself */
	frame[14 + 2] = 0;
	expect_reason(frame, len, DECODE_BAD_IP_TOTAL_LENGTH);
	frame[14 + 3] = 30;	/* room for 10 bytes of TCP header */
	expect_reason(frame, len, DECODE_BAD_IP_TOTAL_LENGTH);
	frame[14 + 9] = IPPROTO_UDP;
	frame[14 + 3] = 24;	/* 4 bytes of UDP header */
	expect_reason(frame, len, DECODE_BAD_IP_TOTAL_LENGTH);

	len = build_ipv4_tcp(0, 0);
	frame[34 + 12] = 0x40;	/* 16 bytes: under the minimum */
	expect_reason(frame, len, DECODE_BAD_TCP_OFFSET);
	frame[34 + 12] = 0xf0;	/* 60 bytes in a 20-byte segment */
	expect_reason(frame, len, DECODE_BAD_TCP_OFFSET);

	memcpy(v6, ipv6_udp, sizeof(v6));
	assert_int_equal(decode_frame(v6, sizeof(v6), &out, NULL), 0);
	assert_int_equal(out.dst_port, 138);
	v6[19] = 4;		/* payload length 4: the options need 8 */
	expect_reason(v6, sizeof(v6), DECODE_BAD_IPV6_EXT_HEADER);
	expect_reason(ipv6_udp, 14 + 40 + 4, DECODE_TRUNCATED_L3);
	expect_reason(ipv6_udp, 14 + 30, DECODE_TRUNCATED_L3);
	v6[19] = 8 + 4;		/* room for 4 bytes of UDP header */
	expect_reason(v6, sizeof(v6), DECODE_BAD_IP_TOTAL_LENGTH);
}

/* The counters of several frames add up: reasons sum to the total. */
static void
test_malformed_reasons_sum_to_total(void **state)
{
	struct decode_counters sum;
	uint32_t len = build_ipv4_tcp(2, 0);
	uint64_t by_reason = 0;
	uint32_t cut;
	unsigned int r;

	(void)state;
	memset(&sum, 0, sizeof(sum));
	for (cut = 0; cut < len; cut++)
		decode_frame(frame, cut, &out, &sum);
	for (r = 0; r < DECODE_MALFORMED_MAX; r++)
		by_reason += sum.malformed_by[r];
	assert_int_equal(sum.malformed, len);
	assert_int_equal(by_reason, sum.malformed);
	assert_true(sum.malformed_by[DECODE_TRUNCATED_L2] > 0);
	assert_true(sum.malformed_by[DECODE_TRUNCATED_L3] > 0);
	assert_true(sum.malformed_by[DECODE_TRUNCATED_L4] > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untagged_ipv4_tcp),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_ipv6_with_extension_header),
		cmocka_unit_test(test_arp_and_other),
		cmocka_unit_test(test_fragment_has_no_ports),
		cmocka_unit_test(test_first_fragment),
		cmocka_unit_test(test_truncated_headers_are_malformed),
		cmocka_unit_test(test_lying_lengths_are_malformed),
		cmocka_unit_test(test_malformed_reasons),
		cmocka_unit_test(test_malformed_reasons_sum_to_total),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
