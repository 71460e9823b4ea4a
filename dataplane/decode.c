/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "decode.h"

#define ETHER_HEADER_LEN 14
#define VLAN_TAG_LEN 4
#define IPV6_EXT_HEADERS_MAX 8

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_TEB 0x6558	/* GRE: transparent Ethernet bridging */

#define GRE_CHECKSUM_PRESENT 0x8000
#define GRE_ROUTING_PRESENT 0x4000
#define GRE_KEY_PRESENT 0x2000
#define GRE_SEQUENCE_PRESENT 0x1000
#define GRE_VERSION 0x0007

static inline uint16_t
read_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
read_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static int
fail(struct decoded_frame *out, struct decode_counters *counters,
	enum decode_malformed reason)
{
	out->malformed = true;
	if (counters != NULL) {
		counters->malformed++;
		counters->malformed_by[reason]++;
	}
	return -EINVAL;
}

static int
decode_tunnel(const uint8_t *frame, uint32_t len, uint32_t offset,
	uint32_t l4_len, struct decoded_frame *out,
	struct decode_counters *counters);

static int
decode_l4(const uint8_t *frame, uint32_t len, uint32_t offset,
	uint32_t l4_len, struct decoded_frame *out,
	struct decode_counters *counters)
{
	out->l4_offset = offset;
	switch (out->l4_proto) {
	case IPPROTO_TCP: {
		uint32_t header_len;

		if (counters != NULL)
			counters->tcp++;
		if (l4_len < 20)
			return fail(out, counters, DECODE_BAD_IP_TOTAL_LENGTH);
		if (offset + 20 > len)
			return fail(out, counters, DECODE_TRUNCATED_L4);
		header_len = (frame[offset + 12] >> 4) * 4u;
		if (header_len < 20 || header_len > l4_len)
			return fail(out, counters, DECODE_BAD_TCP_OFFSET);
		if (offset + header_len > len)
			return fail(out, counters, DECODE_TRUNCATED_L4);
		out->src_port = read_be16(frame + offset);
		out->dst_port = read_be16(frame + offset + 2);
		out->tcp_seq = read_be32(frame + offset + 4);
		out->tcp_ack = read_be32(frame + offset + 8);
		out->tcp_flags = frame[offset + 13];
		out->payload_offset = offset + header_len;
		out->payload_len = l4_len - header_len;
		return 0;
	}
	case IPPROTO_UDP:
		if (counters != NULL)
			counters->udp++;
		if (l4_len < 8)
			return fail(out, counters, DECODE_BAD_IP_TOTAL_LENGTH);
		if (offset + 8 > len)
			return fail(out, counters, DECODE_TRUNCATED_L4);
		out->src_port = read_be16(frame + offset);
		out->dst_port = read_be16(frame + offset + 2);
		out->payload_offset = offset + 8;
		out->payload_len = l4_len - 8;
		return 0;
	case IPPROTO_IPIP:
	case IPPROTO_IPV6:
	case IPPROTO_GRE:
		/* Fragments of the tunnel's datagram hold no inner packet
		 * to read until they are put together. */
		if (!out->fragmented)
			return decode_tunnel(frame, len, offset, l4_len, out,
				counters);
		/* fall through */
	default:
		if (counters != NULL)
			counters->other_l4++;
		return 0;
	}
}

static int
decode_ipv4(const uint8_t *frame, uint32_t len, uint32_t offset,
	struct decoded_frame *out, struct decode_counters *counters)
{
	uint32_t header_len, total_len;
	uint16_t fragment;

	if (offset + 20 > len)
		return fail(out, counters, DECODE_TRUNCATED_L3);
	if ((frame[offset] >> 4) != 4)
		return fail(out, counters, DECODE_BAD_IP_VERSION);
	header_len = (frame[offset] & 0x0f) * 4u;
	total_len = read_be16(frame + offset + 2);
	/* Frames may carry Ethernet padding, never less than the IP length. */
	if (header_len < 20)
		return fail(out, counters, DECODE_BAD_IP_HEADER_LENGTH);
	if (total_len < header_len)
		return fail(out, counters, DECODE_BAD_IP_TOTAL_LENGTH);
	if (offset + header_len > len)
		return fail(out, counters, DECODE_TRUNCATED_L3);
	memcpy(out->src_addr, frame + offset + 12, 4);
	memcpy(out->dst_addr, frame + offset + 16, 4);
	out->l4_proto = frame[offset + 9];
	fragment = read_be16(frame + offset + 6);
	/* More fragments (0x2000) or an offset: part of a larger datagram. */
	if ((fragment & 0x3fff) != 0) {
		out->fragmented = true;
		if (counters != NULL)
			counters->fragmented++;
		if ((fragment & 0x1fff) != 0) {
			out->fragment = true;
			if (counters != NULL)
				counters->ip_fragments++;
			return 0;
		}
	}
	return decode_l4(frame, len, offset + header_len,
		total_len - header_len, out, counters);
}

static int
decode_ipv6(const uint8_t *frame, uint32_t len, uint32_t offset,
	struct decoded_frame *out, struct decode_counters *counters)
{
	uint32_t payload_len, next_offset;
	uint8_t next_header;
	unsigned int hops;

	if (offset + 40 > len)
		return fail(out, counters, DECODE_TRUNCATED_L3);
	if ((frame[offset] >> 4) != 6)
		return fail(out, counters, DECODE_BAD_IP_VERSION);
	payload_len = read_be16(frame + offset + 4);
	next_header = frame[offset + 6];
	memcpy(out->src_addr, frame + offset + 8, 16);
	memcpy(out->dst_addr, frame + offset + 24, 16);
	next_offset = offset + 40;

	for (hops = 0; hops < IPV6_EXT_HEADERS_MAX; hops++) {
		uint32_t ext_len;

		switch (next_header) {
		case 0:		/* hop-by-hop options */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (next_offset + 8 > len)
				return fail(out, counters,
					DECODE_TRUNCATED_L3);
			ext_len = (frame[next_offset + 1] + 1u) * 8;
			break;
		case 51:	/* authentication header */
			if (next_offset + 8 > len)
				return fail(out, counters,
					DECODE_TRUNCATED_L3);
			ext_len = (frame[next_offset + 1] + 2u) * 4;
			break;
		case 44:	/* fragment */
			if (next_offset + 8 > len)
				return fail(out, counters,
					DECODE_TRUNCATED_L3);
			ext_len = 8;
			/* An offset or more to come; not an atomic fragment. */
			if ((read_be16(frame + next_offset + 2) & 0xfff9) != 0) {
				out->fragmented = true;
				if (counters != NULL)
					counters->fragmented++;
			}
			if ((read_be16(frame + next_offset + 2) & 0xfff8) != 0) {
				out->l4_proto = frame[next_offset];
				out->fragment = true;
				if (counters != NULL)
					counters->ip_fragments++;
				return 0;
			}
			break;
		default:
			out->l4_proto = next_header;
			if (next_offset - offset - 40 > payload_len)
				return fail(out, counters,
					DECODE_BAD_IPV6_EXT_HEADER);
			return decode_l4(frame, len, next_offset,
				payload_len - (next_offset - offset - 40),
				out, counters);
		}
		next_header = frame[next_offset];
		next_offset += ext_len;
	}
	/* Too many extension headers to be worth following: L4 unknown. */
	out->l4_proto = 0;
	if (counters != NULL)
		counters->other_l4++;
	return 0;
}

/* The tunnel at <offset> is not followed: the frame stays as it is. */
static int
tunnel_unread(struct decoded_frame *out, struct decode_counters *counters)
{
	if (counters != NULL) {
		counters->tunnel_unread++;
		counters->other_l4++;
	}
	return 0;
}

/*
 * Offset past the Ethernet header (and its VLAN tags) at <offset>, with
 * <ethertype> what follows; 0 when it does not fit in <len>.
 */
static uint32_t
skip_ethernet(const uint8_t *frame, uint32_t len, uint32_t offset,
	uint16_t *ethertype)
{
	unsigned int tags;

	if (offset + ETHER_HEADER_LEN > len)
		return 0;
	*ethertype = read_be16(frame + offset + 12);
	offset += ETHER_HEADER_LEN;
	for (tags = 0; tags < DECODE_VLAN_TAGS_MAX &&
			(*ethertype == ETHERTYPE_VLAN ||
			*ethertype == ETHERTYPE_QINQ ||
			*ethertype == ETHERTYPE_QINQ_OLD); tags++) {
		if (offset + VLAN_TAG_LEN > len)
			return 0;
		*ethertype = read_be16(frame + offset + 2);
		offset += VLAN_TAG_LEN;
	}
	return offset;
}

/*
 * The packet carried by the tunnel protocol out->l4_proto (IP in IP or
 * GRE) whose header is at <offset>, <l4_len> bytes to the end of the
 * outer datagram: decoded in place of the outer one (decode.h).
 */
static int
decode_tunnel(const uint8_t *frame, uint32_t len, uint32_t offset,
	uint32_t l4_len, struct decoded_frame *out,
	struct decode_counters *counters)
{
	uint32_t inner = offset, inner_ip_len;
	uint16_t ethertype = out->l4_proto == IPPROTO_IPIP ? ETHERTYPE_IPV4 :
		ETHERTYPE_IPV6;
	uint8_t kind = DECODE_TUNNEL_IP;

	if (out->tunnel_depth == DECODE_TUNNEL_DEPTH_MAX)
		return tunnel_unread(out, counters);
	if (out->l4_proto == IPPROTO_GRE) {
		uint16_t flags;
		uint32_t header_len = 4;

		if (l4_len < 4)
			return fail(out, counters, DECODE_BAD_IP_TOTAL_LENGTH);
		if (offset + 4 > len)
			return fail(out, counters, DECODE_TRUNCATED_L4);
		flags = read_be16(frame + offset);
		/* What a Linux GRE endpoint refuses (PPTP is version 1). */
		if ((flags & (GRE_VERSION | GRE_ROUTING_PRESENT)) != 0)
			return tunnel_unread(out, counters);
		header_len += (flags & GRE_CHECKSUM_PRESENT) ? 4 : 0;
		header_len += (flags & GRE_KEY_PRESENT) ? 4 : 0;
		header_len += (flags & GRE_SEQUENCE_PRESENT) ? 4 : 0;
		if (header_len > l4_len)
			return fail(out, counters, DECODE_BAD_IP_TOTAL_LENGTH);
		ethertype = read_be16(frame + offset + 2);
		inner = offset + header_len;
		if (ethertype == ETHERTYPE_TEB) {
			inner = skip_ethernet(frame, len, inner, &ethertype);
			if (inner == 0)
				return fail(out, counters, DECODE_TRUNCATED_L2);
			if (inner - offset > l4_len)
				return fail(out, counters,
					DECODE_BAD_IP_TOTAL_LENGTH);
		}
		if (ethertype != ETHERTYPE_IPV4 && ethertype != ETHERTYPE_IPV6)
			return tunnel_unread(out, counters);
		kind = DECODE_TUNNEL_GRE;
	}
	/*
	 * The inner datagram must fit in the outer one: a decapsulating
	 * host drops one that claims more, so the gateway must not read
	 * bytes past the outer datagram as its payload.
	 */
	if (inner + 6 > len)
		return fail(out, counters, DECODE_TRUNCATED_L3);
	inner_ip_len = ethertype == ETHERTYPE_IPV4 ?
		read_be16(frame + inner + 2) : 40u + read_be16(frame + inner + 4);
	if (inner_ip_len > l4_len - (inner - offset))
		return fail(out, counters, DECODE_BAD_IP_TOTAL_LENGTH);
	if (out->tunnel == DECODE_TUNNEL_NONE) {
		out->outer_l3 = out->l3;
		out->outer_l3_offset = out->l3_offset;
	}
	out->tunnel |= kind;
	out->tunnel_depth++;
	if (counters != NULL) {
		if (kind == DECODE_TUNNEL_GRE)
			counters->gre++;
		else
			counters->ip_in_ip++;
	}
	out->ethertype = ethertype;
	out->l3_offset = (uint16_t)inner;
	out->l4_proto = 0;
	if (ethertype == ETHERTYPE_IPV4) {
		out->l3 = DECODE_L3_IPV4;
		/* Keys compare 16 bytes: none may be left of an outer IPv6. */
		memset(out->src_addr + 4, 0, 12);
		memset(out->dst_addr + 4, 0, 12);
		return decode_ipv4(frame, len, inner, out, counters);
	}
	out->l3 = DECODE_L3_IPV6;
	return decode_ipv6(frame, len, inner, out, counters);
}

int
decode_frame(const uint8_t *frame, uint32_t len, struct decoded_frame *out,
	struct decode_counters *counters)
{
	uint32_t offset = ETHER_HEADER_LEN;
	uint16_t ethertype;

	memset(out, 0, sizeof(*out));
	if (len < ETHER_HEADER_LEN)
		return fail(out, counters, DECODE_TRUNCATED_L2);
	ethertype = read_be16(frame + 12);

	while ((ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ ||
			ethertype == ETHERTYPE_QINQ_OLD) &&
			out->vlan_count < DECODE_VLAN_TAGS_MAX) {
		uint16_t vlan_id;

		if (offset + VLAN_TAG_LEN > len)
			return fail(out, counters, DECODE_TRUNCATED_L2);
		vlan_id = read_be16(frame + offset) & 0x0fff;
		if (out->vlan_count == 0)
			out->vlan_outer = vlan_id;
		else if (out->vlan_count == 1)
			out->vlan_inner = vlan_id;
		out->vlan_count++;
		ethertype = read_be16(frame + offset + 2);
		offset += VLAN_TAG_LEN;
	}
	if (counters != NULL) {
		if (out->vlan_count == 1)
			counters->vlan++;
		else if (out->vlan_count > 1)
			counters->qinq++;
	}
	out->ethertype = ethertype;
	out->l3_offset = offset;

	switch (ethertype) {
	case ETHERTYPE_IPV4:
		out->l3 = DECODE_L3_IPV4;
		if (counters != NULL)
			counters->ipv4++;
		return decode_ipv4(frame, len, offset, out, counters);
	case ETHERTYPE_IPV6:
		out->l3 = DECODE_L3_IPV6;
		if (counters != NULL)
			counters->ipv6++;
		return decode_ipv6(frame, len, offset, out, counters);
	case ETHERTYPE_ARP:
		out->l3 = DECODE_L3_ARP;
		if (counters != NULL)
			counters->arp++;
		return 0;
	default:
		out->l3 = DECODE_L3_OTHER;
		if (counters != NULL)
			counters->other_l3++;
		return 0;
	}
}
