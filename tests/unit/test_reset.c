/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP resets: addresses, ports, sequence numbers and checksums. */
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
#include "reset.h"

static struct rte_mempool *pool;

/* A client's segment: 198.18.1.10:41000 -> 198.18.2.20:445 on VLAN 100. */
static struct rte_mbuf *
client_segment(uint8_t flags, uint16_t payload, bool ipv6)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, 18 + 40 + 20 + payload);
	uint16_t o = 18, l4;

	memset(f, 0, 18 + 40 + 20 + payload);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x81\x00\x00\x64", 16);
	if (ipv6) {
		f[16] = 0x86;
		f[17] = 0xdd;
		f[o] = 0x60;
		f[o + 4] = (20 + payload) >> 8;
		f[o + 5] = (20 + payload) & 0xff;
		f[o + 6] = IPPROTO_TCP;
		f[o + 7] = 64;
		f[o + 8] = 0x20; f[o + 9] = 0x01; f[o + 23] = 1;
		f[o + 24] = 0x20; f[o + 25] = 0x01; f[o + 39] = 2;
		l4 = o + 40;
	} else {
		f[16] = 0x08;
		f[o] = 0x45;
		f[o + 2] = (40 + payload) >> 8;
		f[o + 3] = (40 + payload) & 0xff;
		f[o + 8] = 64;
		f[o + 9] = IPPROTO_TCP;
		memcpy(f + o + 12, "\xc6\x12\x01\x0a\xc6\x12\x02\x14", 8);
		l4 = o + 20;
		rte_pktmbuf_trim(m, 20);
	}
	memcpy(f + l4, "\xa0\x28\x01\xbd\x00\x00\x10\x00\x00\x00\x20\x00", 12);
	f[l4 + 12] = 5 << 4;
	f[l4 + 13] = flags;
	return m;
}

static void
check_reset(struct rte_mbuf *trigger, enum reset_target target,
	uint32_t want_seq, uint32_t want_ack, bool ipv6)
{
	struct decoded_frame in, out;
	struct rte_mbuf *rst;
	const uint8_t *b;

	assert_int_equal(decode_frame(rte_pktmbuf_mtod(trigger, uint8_t *),
		trigger->data_len, &in, NULL), 0);
	rst = reset_build(pool, trigger, &in, target);
	assert_non_null(rst);
	b = rte_pktmbuf_mtod(rst, const uint8_t *);
	assert_true(rst->pkt_len >= 60);
	assert_int_equal(decode_frame(b, rst->data_len, &out, NULL), 0);
	assert_int_equal(out.vlan_outer, 100);
	assert_true(out.tcp_flags & DECODE_TCP_RST);
	assert_int_equal(out.payload_len, 0);
	assert_int_equal(out.tcp_seq, want_seq);
	assert_int_equal(out.tcp_ack, want_ack);
	if (target == RESET_TO_RECEIVER) {
		assert_memory_equal(b, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
		assert_int_equal(out.src_port, 41000);
		assert_int_equal(out.dst_port, 445);
		assert_memory_equal(out.src_addr, in.src_addr, 16);
	} else {
		assert_memory_equal(b, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
		assert_int_equal(out.src_port, 445);
		assert_int_equal(out.dst_port, 41000);
		assert_memory_equal(out.src_addr, in.dst_addr, 16);
		assert_memory_equal(out.dst_addr, in.src_addr, 16);
	}
	if (ipv6) {
		const struct rte_ipv6_hdr *ip = (const void *)(b + 18);

		assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, b + 58), 0);
	} else {
		const struct rte_ipv4_hdr *ip = (const void *)(b + 18);

		/* Summed over a header with a right checksum, the result is 0. */
		assert_int_equal(rte_ipv4_cksum(ip), 0);
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, b + 38), 0);
	}
	rte_pktmbuf_free(rst);
}

static void
test_reset_data_segment(void **state)
{
	/* seq 0x1000, ack 0x2000, 100 bytes of payload, PSH|ACK */
	struct rte_mbuf *m = client_segment(0x18, 100, false);

	(void)state;
	check_reset(m, RESET_TO_RECEIVER, 0x1000, 0x2000, false);
	check_reset(m, RESET_TO_SENDER, 0x2000, 0x1000 + 100, false);
	rte_pktmbuf_free(m);
}

static void
test_reset_answers_syn(void **state)
{
	struct rte_mbuf *m = client_segment(0x02, 0, false);

	(void)state;
	/* No sequence of the receiver is known: acknowledge the SYN. */
	check_reset(m, RESET_TO_SENDER, 0, 0x1000 + 1, false);
	rte_pktmbuf_free(m);
}

static void
test_reset_ipv6(void **state)
{
	struct rte_mbuf *m = client_segment(0x10, 10, true);

	(void)state;
	check_reset(m, RESET_TO_RECEIVER, 0x1000, 0x2000, true);
	check_reset(m, RESET_TO_SENDER, 0x2000, 0x1000 + 10, true);
	rte_pktmbuf_free(m);
}

static void
test_no_reset_for_non_tcp(void **state)
{
	struct rte_mbuf *m = client_segment(0x10, 0, false);
	struct decoded_frame in;

	(void)state;
	decode_frame(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &in, NULL);
	in.l4_proto = IPPROTO_UDP;
	assert_null(reset_build(pool, m, &in, RESET_TO_SENDER));
	rte_pktmbuf_free(m);
}

int
main(void)
{
	char prefix[64];
	char *argv[] = { "test_reset", "--no-huge", "-m", "64", "--no-pci",
		"--no-shconf", "--no-telemetry", "--log-level=lib.eal:error",
		"-l", "0", "--file-prefix", prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_data_segment),
		cmocka_unit_test(test_reset_answers_syn),
		cmocka_unit_test(test_reset_ipv6),
		cmocka_unit_test(test_no_reset_for_non_tcp),
	};
	int failed;

	snprintf(prefix, sizeof(prefix), "test-reset-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("test", 1023, 0, 0, 2048 + 128,
		SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	char runtime_dir[256];

	failed = cmocka_run_group_tests_name("reset", tests, NULL, NULL);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir);	/* EAL leaves its empty run directory */
	return failed;
}
