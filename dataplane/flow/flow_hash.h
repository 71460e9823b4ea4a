/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_FLOW_HASH_H
#define SMBGW_FLOW_HASH_H

#include <stdint.h>

/*
 * murmur3's 32-bit finaliser: every input bit moves every output bit, so
 * table indexes and worker choices taken from a few bits spread.
 */
static inline uint32_t
flow_hash_mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

#endif /* SMBGW_FLOW_HASH_H */
