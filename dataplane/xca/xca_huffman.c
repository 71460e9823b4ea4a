/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LZ77+Huffman (MS-XCA 2.1, decoded as 2.2 describes). The output comes
 * in blocks of 65536 bytes; each block's input starts with a 256-byte
 * table of 512 4-bit code lengths (even symbols in the low half of each
 * byte) for a canonical Huffman code over 256 literals and 256 match
 * symbols, then a bit stream read as little-endian 16-bit words, most
 * significant bit first. A match symbol carries 4 bits of length - 3 (15:
 * more in the byte stream, which is interleaved with the bit stream) and
 * the bit length of its offset, whose other bits follow in the bit stream.
 *
 * The bit reader mirrors the specification's: 32 bits are buffered at the
 * start of a block and words are read as soon as fewer than 16 remain, so
 * the length bytes of a match are taken from the same input position as
 * in any conforming decoder.
 */
#include <string.h>

#include "xca_pvt.h"

#define HUFF_SYMBOLS		512
#define HUFF_TABLE_LEN		(HUFF_SYMBOLS / 2)
#define HUFF_MAX_BITS		15
#define HUFF_BLOCK_LEN		65536
#define HUFF_END_OF_DATA	256	/* also a match of length 3, offset 1 */
#define HUFF_LEN_MIN		3
#define HUFF_NIBBLE_MAX		15
#define HUFF_BYTE_MAX		255
#define HUFF_BLOCK_DONE		2	/* decode_block(): next block */

/* Canonical code: counts per length, symbols in code order. */
struct huff_code {
	uint16_t count[HUFF_MAX_BITS + 1];
	uint16_t symbol[HUFF_SYMBOLS];
};

struct huff_bits {
	const uint8_t *in;
	size_t len;
	size_t pos;
	uint32_t next;		/* buffered bits, first one most significant */
	int extra;		/* bits buffered beyond 16 */
};

/*
 * Builds the code of the 256-byte <table>. Returns 0, or -EBADMSG unless
 * the lengths make a complete prefix code (the specification's decoding
 * table must come out exactly full).
 */
static int
build_code(const uint8_t *table, struct huff_code *code)
{
	uint16_t next_index[HUFF_MAX_BITS + 1];
	uint32_t space = 0;
	unsigned int i, len;

	memset(code->count, 0, sizeof(code->count));
	for (i = 0; i < HUFF_SYMBOLS; i++)
		code->count[(table[i / 2] >> (4 * (i & 1))) & 0x0f]++;
	code->count[0] = 0;
	for (len = 1; len <= HUFF_MAX_BITS; len++)
		space += (uint32_t)code->count[len] << (HUFF_MAX_BITS - len);
	if (space != 1u << HUFF_MAX_BITS)
		return -EBADMSG;
	next_index[1] = 0;
	for (len = 1; len < HUFF_MAX_BITS; len++)
		next_index[len + 1] = next_index[len] + code->count[len];
	for (i = 0; i < HUFF_SYMBOLS; i++) {
		len = (table[i / 2] >> (4 * (i & 1))) & 0x0f;
		if (len != 0)
			code->symbol[next_index[len]++] = (uint16_t)i;
	}
	return 0;
}

/* The symbol whose code starts the buffered bits, and its length. */
static unsigned int
decode_symbol(const struct huff_code *code, uint32_t bits,
	unsigned int *len)
{
	unsigned int first = 0, index = 0, value = 0, l;

	for (l = 1; l <= HUFF_MAX_BITS; l++) {
		unsigned int count = code->count[l];

		value |= (bits >> (32 - l)) & 1;
		if (value - first < count) {
			*len = l;
			return code->symbol[index + value - first];
		}
		index += count;
		first = (first + count) << 1;
		value <<= 1;
	}
	/* A complete code always matches within 15 bits. */
	*len = HUFF_MAX_BITS;
	return 0;
}

/* Drops <n> (<= 16) bits; reads a word when fewer than 16 remain. */
static int
consume(struct huff_bits *b, unsigned int n)
{
	b->next <<= n;
	b->extra -= (int)n;
	if (b->extra >= 0)
		return 0;
	if (b->len - b->pos < 2)
		return -ENODATA;
	b->next |= (uint32_t)xca_le16(b->in + b->pos) << -b->extra;
	b->extra += 16;
	b->pos += 2;
	return 0;
}

/* Reads the length bytes of a match whose nibble was 15; see 2.2.4. */
static int
read_long_length(struct huff_bits *b, size_t *length)
{
	size_t extra;

	if (b->pos >= b->len)
		return -ENODATA;
	extra = b->in[b->pos++];
	if (extra != HUFF_BYTE_MAX) {
		*length = extra + HUFF_NIBBLE_MAX;
		return 0;
	}
	if (b->len - b->pos < 2)
		return -ENODATA;
	extra = xca_le16(b->in + b->pos);
	b->pos += 2;
	if (extra == 0) {
		if (b->len - b->pos < 4)
			return -ENODATA;
		extra = xca_le32(b->in + b->pos);
		b->pos += 4;
	}
	/* The wide forms count the whole length less 3. */
	if (extra < HUFF_NIBBLE_MAX)
		return -EBADMSG;
	*length = extra;
	return 0;
}

/*
 * Decodes one block from b->pos (its table) until the output reaches
 * <block_end> or <out_cap>. Returns HUFF_BLOCK_DONE at the block's end,
 * or a result of xca_decompress().
 */
static int
decode_block(struct huff_bits *b, uint8_t *out, size_t *pos,
	size_t out_cap, size_t block_end)
{
	struct huff_code code;
	int ret;

	if (b->len - b->pos < HUFF_TABLE_LEN + 4)
		return -ENODATA;
	ret = build_code(b->in + b->pos, &code);
	if (ret < 0)
		return ret;
	b->pos += HUFF_TABLE_LEN;
	b->next = (uint32_t)xca_le16(b->in + b->pos) << 16 |
		xca_le16(b->in + b->pos + 2);
	b->pos += 4;
	b->extra = 16;

	for (;;) {
		unsigned int symbol, len, offset_bits;
		size_t length, offset;

		if (*pos == out_cap)
			return XCA_FULL;
		if (*pos >= block_end)
			return HUFF_BLOCK_DONE;
		symbol = decode_symbol(&code, b->next, &len);
		ret = consume(b, len);
		if (symbol < 256) {
			out[(*pos)++] = (uint8_t)symbol;
			if (ret < 0)
				return ret;
			continue;
		}
		if (symbol == HUFF_END_OF_DATA && b->pos == b->len &&
		    (ret < 0 || b->next == 0))
			return XCA_COMPLETE;	/* nothing but padding left */
		if (ret < 0)
			return ret;
		symbol -= 256;
		length = symbol & 0x0f;
		offset_bits = symbol >> 4;
		if (length == HUFF_NIBBLE_MAX) {
			ret = read_long_length(b, &length);
			if (ret < 0)
				return ret;
		}
		length += HUFF_LEN_MIN;
		offset = ((size_t)1 << offset_bits) | (offset_bits == 0 ? 0 :
			b->next >> (32 - offset_bits));
		ret = consume(b, offset_bits);
		if (ret < 0)
			return ret;
		if (offset > *pos)
			return -EBADMSG;
		if (!xca_copy_match(out, pos, out_cap, offset, length))
			return XCA_FULL;
	}
}

int
xca_huffman_decompress(const uint8_t *in, size_t in_len, uint8_t *out,
	size_t out_cap, size_t *out_len)
{
	struct huff_bits b = { .in = in, .len = in_len };
	size_t pos = 0;
	int ret;

	do {
		/* Too little left for another block: the stream ended on a
		 * block boundary (its end-of-data symbol, if any, unread). */
		if (b.pos == b.len || (pos > 0 &&
		    b.len - b.pos < HUFF_TABLE_LEN + 4)) {
			ret = XCA_COMPLETE;
			break;
		}
		if (pos == out_cap) {
			ret = XCA_FULL;
			break;
		}
		ret = decode_block(&b, out, &pos, out_cap,
			pos + HUFF_BLOCK_LEN);
	} while (ret == HUFF_BLOCK_DONE);
	*out_len = pos;
	return ret;
}
