/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LZNT1 (MS-XCA 2.5): a sequence of chunks, each standing for 4096 bytes
 * of output (the last for what is left). A chunk starts with a 16-bit
 * header: bit 15 set if compressed, bits 12-14 the signature 3, bits 0-11
 * the size of the chunk's data less one. A zero header, or the end of the
 * input, ends the stream. Compressed data comes in groups of a flag byte
 * and eight items (fewer at the chunk's end), bit i of the flag, from the
 * least significant, saying whether item i is a literal byte or a 16-bit
 * match. The match splits its bits between offset and length according
 * to how much of the chunk is already out: 4 offset bits for the first 16
 * bytes, one more each time that doubles, up to 12.
 *
 * Encoders emit full 4096-byte chunks except the last. A shorter chunk
 * followed by another could be read either as padded with zeros or not;
 * rather than guess what a receiver does, it is refused as malformed.
 */
#include <string.h>

#include "xca_pvt.h"

#define LZNT1_CHUNK_OUT		4096
#define LZNT1_COMPRESSED	0x8000
#define LZNT1_SIGNATURE_MASK	0x7000
#define LZNT1_SIGNATURE		0x3000
#define LZNT1_SIZE_MASK		0x0fff
#define LZNT1_LEN_MIN		3

/*
 * Decodes the compressed data of one chunk, in[start..end) where end may
 * lie beyond <in_len> (a truncated input), producing at most 4096 bytes
 * from out[*pos] on. Returns 0 at the chunk's end or a result of
 * xca_decompress().
 */
static int
decode_chunk(const uint8_t *in, size_t in_len, size_t start, size_t end,
	uint8_t *out, size_t *pos, size_t out_cap)
{
	size_t chunk_start = *pos;
	size_t p = start;

	while (p < end) {
		unsigned int flags, bit;

		if (p >= in_len)
			return -ENODATA;
		flags = in[p++];
		for (bit = 0; bit < 8 && p < end; bit++) {
			size_t done = *pos - chunk_start;
			unsigned int shift = 12, token;
			size_t offset, length, n;

			if (*pos == out_cap)
				return XCA_FULL;
			if (!(flags & (1u << bit))) {
				if (p >= in_len)
					return -ENODATA;
				if (done == LZNT1_CHUNK_OUT)
					return -EBADMSG;
				out[(*pos)++] = in[p++];
				continue;
			}
			if (end - p < 2)
				return -EBADMSG;
			if (in_len - p < 2)
				return -ENODATA;
			token = xca_le16(in + p);
			p += 2;
			if (done == 0)
				return -EBADMSG;
			for (n = done - 1; n >= 16; n >>= 1)
				shift--;
			offset = (size_t)(token >> shift) + 1;
			length = (token & ((1u << shift) - 1)) + LZNT1_LEN_MIN;
			if (offset > done || length > LZNT1_CHUNK_OUT - done)
				return -EBADMSG;
			if (!xca_copy_match(out, pos, out_cap, offset, length))
				return XCA_FULL;
		}
	}
	return 0;
}

int
xca_lznt1_decompress(const uint8_t *in, size_t in_len, uint8_t *out,
	size_t out_cap, size_t *out_len)
{
	size_t p = 0, pos = 0;
	int short_chunk = 0;
	int ret;

	for (;;) {
		uint16_t header;
		size_t size, start, chunk_start = pos;

		if (in_len - p < 2) {
			ret = p == in_len ? XCA_COMPLETE : -ENODATA;
			break;
		}
		header = xca_le16(in + p);
		if (header == 0) {
			ret = XCA_COMPLETE;
			break;
		}
		if ((header & LZNT1_SIGNATURE_MASK) != LZNT1_SIGNATURE ||
		    short_chunk) {
			ret = -EBADMSG;
			break;
		}
		if (pos == out_cap) {
			ret = XCA_FULL;
			break;
		}
		size = (size_t)(header & LZNT1_SIZE_MASK) + 1;
		start = p + 2;
		if (header & LZNT1_COMPRESSED) {
			ret = decode_chunk(in, in_len, start, start + size, out,
				&pos, out_cap);
			if (ret != 0)
				break;
		} else {
			size_t avail = in_len - start < size ?
				in_len - start : size;
			size_t room = out_cap - pos;
			size_t n = avail < room ? avail : room;

			memcpy(out + pos, in + start, n);
			pos += n;
			if (n < size) {
				ret = n == room ? XCA_FULL : -ENODATA;
				break;
			}
		}
		short_chunk = pos - chunk_start < LZNT1_CHUNK_OUT;
		p = start + size;
	}
	*out_len = pos;
	return ret;
}
