/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ones' complement sums (RFC 1071) for TCP checksums: over bytes, over an
 * mbuf chain, folded to 16 bits. Sums are in memory order, as
 * rte_raw_cksum() gives them.
 */
#ifndef SMBGW_CHECKSUM_H
#define SMBGW_CHECKSUM_H

#include <stdint.h>
#include <string.h>

struct rte_mbuf;

/* Folds a 64-bit ones' complement sum to 16 bits (RFC 1071). */
static inline uint16_t
checksum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

static inline uint32_t
checksum_load_u32(const uint8_t *p)
{
	uint32_t value;

	memcpy(&value, p, sizeof(value));
	return value;
}

/* The ones' complement sum of <len> bytes at <p>, folded. */
uint16_t
checksum_ones_sum(const uint8_t *p, uint32_t len);

/*
 * The same over <len> bytes of <m> from <offset>, across its segments,
 * into *out; -1 when <m> is shorter.
 */
int
checksum_mbuf_sum(const struct rte_mbuf *m, uint32_t offset, uint32_t len,
	uint16_t *out);

#endif
