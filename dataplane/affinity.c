/* SPDX-License-Identifier: BSD-3-Clause */
#include "affinity.h"
#include "decode.h"
#include "flow_hash.h"

#define ETHER_HEADER_LEN	14
#define VLAN_TAG_LEN		4
#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_VLAN		0x8100
#define ETHERTYPE_QINQ		0x88a8
#define ETHERTYPE_QINQ_OLD	0x9100

static uint32_t
read_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

/* Symmetric: the smaller address first, so (a, b) and (b, a) agree. */
static uint32_t
pair_hash(uint32_t a, uint32_t b)
{
	uint32_t low = a < b ? a : b, high = a < b ? b : a;

	uint32_t h = flow_hash_mix32(flow_hash_mix32(low) ^ high * 0x9e3779b1u);

	/* Never AFFINITY_ANY_WORKER: that value means "not IP". The owner
	 * is taken from the high bits, so they must stay spread. */
	return h == AFFINITY_ANY_WORKER ? h - 1 : h;
}

/* An IPv6 address folded to 32 bits, each word mixed so that
 * addresses differing only in one word still spread. */
static uint32_t
fold_ipv6(const uint8_t *address)
{
	uint32_t h = 0;
	unsigned int i;

	for (i = 0; i < 16; i += 4)
		h = flow_hash_mix32(h ^ read_be32(address + i));
	return h;
}

uint32_t
affinity_hash(const uint8_t *frame, uint32_t len)
{
	uint32_t offset = ETHER_HEADER_LEN;
	unsigned int tags = 0;
	uint16_t type;

	if (len < ETHER_HEADER_LEN)
		return AFFINITY_ANY_WORKER;
	type = (uint16_t)(frame[12] << 8 | frame[13]);
	while ((type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
			type == ETHERTYPE_QINQ_OLD) &&
			tags < DECODE_VLAN_TAGS_MAX) {
		if (len < offset + VLAN_TAG_LEN)
			return AFFINITY_ANY_WORKER;
		type = (uint16_t)(frame[offset + 2] << 8 | frame[offset + 3]);
		offset += VLAN_TAG_LEN;
		tags++;
	}
	if (type == ETHERTYPE_IPV4) {
		if (len < offset + 20 || (frame[offset] >> 4) != 4)
			return AFFINITY_ANY_WORKER;
		return pair_hash(read_be32(frame + offset + 12),
			read_be32(frame + offset + 16));
	}
	if (type == ETHERTYPE_IPV6) {
		if (len < offset + 40 || (frame[offset] >> 4) != 6)
			return AFFINITY_ANY_WORKER;
		return pair_hash(fold_ipv6(frame + offset + 8),
			fold_ipv6(frame + offset + 24));
	}
	return AFFINITY_ANY_WORKER;
}
