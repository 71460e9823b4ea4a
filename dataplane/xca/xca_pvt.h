/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_XCA_PVT_H
#define SMBGW_XCA_PVT_H

/* Internals shared by the decoders; not part of the API. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "xca.h"

/* Little-endian readers; the caller has checked the bounds. */
static inline uint16_t
xca_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
xca_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

/*
 * Copies an LZ77 match of <length> bytes from <offset> bytes back, one byte
 * at a time since source and destination may overlap (offset 1 repeats a
 * byte). The caller has checked 1 <= offset <= *pos; stops at <cap>.
 * Returns 1 if the whole match fitted, 0 if <cap> cut it.
 */
static inline int
xca_copy_match(uint8_t *out, size_t *pos, size_t cap, size_t offset,
	size_t length)
{
	size_t room = cap - *pos;
	size_t n = length < room ? length : room;
	size_t end = *pos + n;
	size_t i;

	for (i = *pos; i < end; i++)
		out[i] = out[i - offset];
	*pos = end;
	return n == length;
}

/* Each takes the arguments of xca_decompress(), checked, and returns alike. */
int xca_lz77_decompress(const uint8_t *in, size_t in_len, uint8_t *out,
	size_t out_cap, size_t *out_len);
int xca_huffman_decompress(const uint8_t *in, size_t in_len, uint8_t *out,
	size_t out_cap, size_t *out_len);
int xca_lznt1_decompress(const uint8_t *in, size_t in_len, uint8_t *out,
	size_t out_cap, size_t *out_len);

#endif /* SMBGW_XCA_PVT_H */
