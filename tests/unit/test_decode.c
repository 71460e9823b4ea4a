/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2-L4 decoder: tags, address families, ports, and frames that lie, each
 * counted under its reason.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/*
 * Tunnels (decode.h). tunnelled[] is Ethernet, an outer IP header
 * (198.18.200.1 -> 198.18.201.1, or 2001:db8:200::1 -> 2001:db8:201::1),
 * then the layers pushed with push_*(), then build_ipv4_tcp()'s IPv4
 * packet; push_*() fill lengths when close_tunnel() runs.
 */
static uint8_t tunnelled[512];
static uint32_t tunnelled_len;
static uint32_t outer_ip;	/* offset of the outer IP header */
static bool outer_ipv6;
static uint32_t ipv4_headers[8];	/* inner IPv4 headers to close */
static unsigned int ipv4_header_count;

static void
open_tunnel(bool ipv6, uint8_t proto)
{
	uint8_t *ip = tunnelled + 14;

	memset(tunnelled, 0, sizeof(tunnelled));
	memcpy(tunnelled, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	outer_ip = 14;
	outer_ipv6 = ipv6;
	ipv4_header_count = 0;
	if (ipv6) {
		memcpy(tunnelled + 12, "\x86\xdd", 2);
		ip[0] = 0x60;
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, "\x20\x01\x0d\xb8\x02\x00", 6);
		ip[23] = 1;
		memcpy(ip + 24, "\x20\x01\x0d\xb8\x02\x01", 6);
		ip[39] = 1;
		tunnelled_len = 14 + 40;
		return;
	}
	memcpy(tunnelled + 12, "\x08\x00", 2);
	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, "\xc6\x12\xc8\x01\xc6\x12\xc9\x01", 8);
	ipv4_headers[ipv4_header_count++] = 14;
	tunnelled_len = 14 + 20;
}

/* A GRE header: <flags> (checksum, key, sequence bits), <proto>. */
static void
push_gre(uint16_t flags, uint16_t proto)
{
	uint8_t *gre = tunnelled + tunnelled_len;

	gre[0] = flags >> 8;
	gre[1] = flags & 0xff;
	gre[2] = proto >> 8;
	gre[3] = proto & 0xff;
	tunnelled_len += 4 + (flags & 0x8000 ? 4 : 0) +
		(flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
}

/* An IPv4 header carrying protocol <proto>. */
static void
push_ipv4(uint8_t proto)
{
	uint8_t *ip = tunnelled + tunnelled_len;

	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, "\xc6\x12\xca\x01\xc6\x12\xcb\x01", 8);
	ipv4_headers[ipv4_header_count++] = tunnelled_len;
	tunnelled_len += 20;
}

/* Appends the bytes of <src>, <len> long. */
static void
push_bytes(const uint8_t *src, uint32_t len)
{
	memcpy(tunnelled + tunnelled_len, src, len);
	tunnelled_len += len;
}

/* The SMB segment of build_ipv4_tcp(0, <payload>), and the lengths. */
static uint32_t
close_tunnel(uint16_t payload)
{
	uint32_t len = build_ipv4_tcp(0, payload);
	unsigned int i;

	push_bytes(frame + 14, len - 14);
	for (i = 0; i < ipv4_header_count; i++) {
		uint8_t *ip = tunnelled + ipv4_headers[i];
		uint32_t total = tunnelled_len - ipv4_headers[i];

		ip[2] = total >> 8;
		ip[3] = total & 0xff;
	}
	if (outer_ipv6) {
		uint32_t payload_len = tunnelled_len - outer_ip - 40;

		tunnelled[outer_ip + 4] = payload_len >> 8;
		tunnelled[outer_ip + 5] = payload_len & 0xff;
	}
	return tunnelled_len;
}

/* The inner segment of close_tunnel(), as build_ipv4_tcp() decodes. */
static void
assert_inner_segment(uint32_t inner_ip, uint16_t payload)
{
	assert_false(out.malformed);
	assert_int_equal(out.l3, DECODE_L3_IPV4);
	assert_int_equal(out.l3_offset, inner_ip);
	assert_int_equal(out.l4_proto, IPPROTO_TCP);
	assert_int_equal(out.l4_offset, inner_ip + 20);
	assert_int_equal(out.payload_offset, inner_ip + 40);
	assert_int_equal(out.payload_len, payload);
	assert_int_equal(out.src_port, 41000);
	assert_int_equal(out.dst_port, 445);
	/* The inner addresses, nothing left of an outer one. */
	assert_memory_equal(out.src_addr,
		"\xc6\x12\x01\x0a\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_memory_equal(out.dst_addr,
		"\xc6\x12\x02\x14\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

static void
test_gre(void **state)
{
	uint32_t len;

	(void)state;
	open_tunnel(false, IPPROTO_GRE);
	push_gre(0, 0x0800);
	len = close_tunnel(30);
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(tunnelled, len, &out, &counters), 0);
	assert_inner_segment(14 + 20 + 4, 30);
	assert_int_equal(out.tunnel, DECODE_TUNNEL_GRE);
	assert_int_equal(out.tunnel_depth, 1);
	assert_int_equal(decode_outer_l3(&out), DECODE_L3_IPV4);
	assert_int_equal(decode_outer_l3_offset(&out), 14);
	/* Counted once as IPv4 (the frame's own header) and TCP. */
	assert_int_equal(counters.ipv4, 1);
	assert_int_equal(counters.gre, 1);
	assert_int_equal(counters.tcp, 1);
	assert_int_equal(counters.other_l4, 0);
	assert_int_equal(counters.tunnel_unread, 0);
	/* Every cut inside the headers is malformed, never read past. */
	for (len = 0; len < 14 + 20 + 4 + 40; len++) {
		assert_int_equal(decode_frame(tunnelled, len, &out, NULL),
			-EINVAL);
		assert_true(out.malformed);
	}
}

static void
test_ipv4_in_ipv6(void **state)
{
	uint32_t len;

	(void)state;
	open_tunnel(true, IPPROTO_IPIP);
	len = close_tunnel(12);
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(tunnelled, len, &out, &counters), 0);
	assert_inner_segment(14 + 40, 12);
	assert_int_equal(out.tunnel, DECODE_TUNNEL_IP);
	assert_int_equal(decode_outer_l3(&out), DECODE_L3_IPV6);
	assert_int_equal(decode_outer_l3_offset(&out), 14);
	assert_int_equal(counters.ipv6, 1);
	assert_int_equal(counters.ipv4, 0);
	assert_int_equal(counters.ip_in_ip, 1);
}

/* RFC 2890 options, and Ethernet with a VLAN tag in GRE (gretap). */
static void
test_gre_options_and_ethernet(void **state)
{
	static const uint8_t ethernet[] = {
		2, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 4,
		0x81, 0x00, 0x00, 0x64, 0x08, 0x00,
	};
	uint32_t len;

	(void)state;
	open_tunnel(false, IPPROTO_GRE);
	push_gre(0xb000, 0x6558);
	push_bytes(ethernet, sizeof(ethernet));
	len = close_tunnel(8);
	assert_int_equal(decode_frame(tunnelled, len, &out, NULL), 0);
	assert_inner_segment(14 + 20 + 16 + 18, 8);
	assert_int_equal(out.tunnel, DECODE_TUNNEL_GRE);
	/* The frame's own tags only. */
	assert_int_equal(out.vlan_count, 0);
}

/* Not followed: what a decapsulating Linux host refuses or cannot see. */
static void
test_tunnels_not_followed(void **state)
{
	static const struct {
		uint16_t flags, proto;
	} gre[] = {
		{ 0x0001, 0x880b },	/* PPTP: version 1, PPP */
		{ 0x4000, 0x0800 },	/* a routing header (RFC 1701) */
		{ 0x0000, 0x88be },	/* ERSPAN */
		{ 0x0000, 0x8847 },	/* MPLS */
	};
	unsigned int i;
	uint32_t len;

	(void)state;
	for (i = 0; i < sizeof(gre) / sizeof(gre[0]); i++) {
		open_tunnel(false, IPPROTO_GRE);
		push_gre(gre[i].flags, gre[i].proto);
		len = close_tunnel(4);
		memset(&counters, 0, sizeof(counters));
		assert_int_equal(decode_frame(tunnelled, len, &out, &counters),
			0);
		assert_int_equal(out.tunnel, DECODE_TUNNEL_NONE);
		assert_int_equal(out.l4_proto, IPPROTO_GRE);
		assert_int_equal(out.l3_offset, 14);
		assert_memory_equal(out.src_addr, "\xc6\x12\xc8\x01", 4);
		assert_int_equal(counters.tunnel_unread, 1);
		assert_int_equal(counters.other_l4, 1);
		assert_int_equal(counters.tcp, 0);
	}
	/* Five levels of IP in IP: four followed, the fifth not. */
	open_tunnel(false, IPPROTO_IPIP);
	for (i = 0; i < 4; i++)
		push_ipv4(IPPROTO_IPIP);
	len = close_tunnel(4);
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(tunnelled, len, &out, &counters), 0);
	assert_int_equal(out.tunnel_depth, DECODE_TUNNEL_DEPTH_MAX);
	assert_int_equal(out.l4_proto, IPPROTO_IPIP);
	assert_int_equal(counters.ip_in_ip, DECODE_TUNNEL_DEPTH_MAX);
	assert_int_equal(counters.tunnel_unread, 1);
	/* Four are followed, to the segment. */
	open_tunnel(false, IPPROTO_IPIP);
	for (i = 0; i < 3; i++)
		push_ipv4(IPPROTO_IPIP);
	len = close_tunnel(4);
	assert_int_equal(decode_frame(tunnelled, len, &out, NULL), 0);
	assert_inner_segment(14 + 4 * 20, 4);
	assert_int_equal(out.tunnel_depth, 4);
	/* GRE with checksums in GRE with checksums: followed. */
	open_tunnel(false, IPPROTO_GRE);
	push_gre(0x8000, 0x0800);
	push_ipv4(IPPROTO_GRE);
	push_gre(0x8000, 0x0800);
	len = close_tunnel(4);
	assert_int_equal(decode_frame(tunnelled, len, &out, NULL), 0);
	assert_inner_segment(14 + 20 + 8 + 20 + 8, 4);
	assert_int_equal(out.tunnel_depth, 2);
}

/* Fragments: the outer datagram's are left to reassembly (frag.h). */
static void
test_tunnel_fragments(void **state)
{
	uint32_t len;

	(void)state;
	open_tunnel(false, IPPROTO_GRE);
	push_gre(0, 0x0800);
	len = close_tunnel(30);
	tunnelled[14 + 6] = 0x20;	/* outer: more fragments */
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(tunnelled, len, &out, &counters), 0);
	assert_int_equal(out.tunnel, DECODE_TUNNEL_NONE);
	assert_int_equal(out.l4_proto, IPPROTO_GRE);
	assert_true(out.fragmented);
	assert_int_equal(counters.gre, 0);
	assert_int_equal(counters.tunnel_unread, 0);
	/* The inner packet a fragment: followed, and said so. */
	tunnelled[14 + 6] = 0;
	tunnelled[14 + 20 + 4 + 6] = 0x20;
	assert_int_equal(decode_frame(tunnelled, len, &out, NULL), 0);
	assert_int_equal(out.tunnel, DECODE_TUNNEL_GRE);
	assert_true(out.fragmented);
	assert_false(out.fragment);
	assert_int_equal(out.l4_proto, IPPROTO_TCP);
}

/* Lengths that do not hold are malformed, not read past. */
static void
test_tunnel_lengths(void **state)
{
	uint32_t len;

	(void)state;
	/* The inner datagram longer than the outer one carries. */
	open_tunnel(false, IPPROTO_GRE);
	push_gre(0, 0x0800);
	len = close_tunnel(30);
	tunnelled[14 + 3] -= 1;
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(decode_frame(tunnelled, len, &out, &counters),
		-EINVAL);
	assert_int_equal(counters.malformed_by[DECODE_BAD_IP_TOTAL_LENGTH], 1);
	/* GRE options past the outer datagram. */
	open_tunnel(false, IPPROTO_GRE);
	len = tunnelled_len + 4;
	tunnelled[14 + 3] = 24;
	tunnelled[14 + 20] = 0xb0;	/* checksum, key, sequence: 16 bytes */
	assert_int_equal(decode_frame(tunnelled, len + 12, &out, NULL),
		-EINVAL);
	assert_true(out.malformed);
	/* The same in IPv6. */
	open_tunnel(true, IPPROTO_IPIP);
	len = close_tunnel(30);
	tunnelled[14 + 5] -= 1;
	assert_int_equal(decode_frame(tunnelled, len, &out, NULL), -EINVAL);
	assert_true(out.malformed);
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
		cmocka_unit_test(test_gre),
		cmocka_unit_test(test_ipv4_in_ipv6),
		cmocka_unit_test(test_gre_options_and_ethernet),
		cmocka_unit_test(test_tunnels_not_followed),
		cmocka_unit_test(test_tunnel_fragments),
		cmocka_unit_test(test_tunnel_lengths),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
