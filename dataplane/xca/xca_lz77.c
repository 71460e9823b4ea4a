/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Plain LZ77 (MS-XCA 2.3, decoded as 2.4 describes): 32-bit flag words,
 * read from the most significant bit, each bit saying whether the next
 * item is a literal byte or a 16-bit match (13 bits of offset - 1, 3 bits
 * of length - 3). Longer lengths continue in a shared half byte, then a
 * byte, then 16 or 32 bits. A match flag with no input left ends the
 * stream.
 */
#include "xca_pvt.h"

/* Fixed parts of the length escapes: 3-bit field, half byte, byte. */
#define LZ77_LEN_MIN		3
#define LZ77_LEN_FIELD_MAX	7
#define LZ77_HALF_BYTE_MAX	15
#define LZ77_BYTE_MAX		255

struct lz77_reader {
	const uint8_t *in;
	size_t len;
	size_t pos;
	size_t half_byte;	/* a half-used length byte's position, or 0 */
};

/*
 * Reads the match length beyond the 3-bit field (which was 7) into
 * *<length>, the whole length less LZ77_LEN_MIN. Returns 0, -ENODATA or
 * -EBADMSG.
 */
static int
read_long_length(struct lz77_reader *r, size_t *length)
{
	size_t extra;

	/* Two lengths share a byte: the first takes its low half. */
	if (r->half_byte == 0) {
		if (r->pos >= r->len)
			return -ENODATA;
		extra = r->in[r->pos] & 0x0f;
		r->half_byte = r->pos++;
	} else {
		extra = r->in[r->half_byte] >> 4;
		r->half_byte = 0;
	}
	if (extra == LZ77_HALF_BYTE_MAX) {
		if (r->pos >= r->len)
			return -ENODATA;
		extra = r->in[r->pos++];
		if (extra == LZ77_BYTE_MAX) {
			if (r->len - r->pos < 2)
				return -ENODATA;
			extra = xca_le16(r->in + r->pos);
			r->pos += 2;
			if (extra == 0) {
				if (r->len - r->pos < 4)
					return -ENODATA;
				extra = xca_le32(r->in + r->pos);
				r->pos += 4;
			}
			/* The wide forms count the whole length less 3. */
			if (extra < LZ77_HALF_BYTE_MAX + LZ77_LEN_FIELD_MAX)
				return -EBADMSG;
			*length = extra;
			return 0;
		}
		extra += LZ77_HALF_BYTE_MAX;
	}
	*length = extra + LZ77_LEN_FIELD_MAX;
	return 0;
}

int
xca_lz77_decompress(const uint8_t *in, size_t in_len, uint8_t *out,
	size_t out_cap, size_t *out_len)
{
	struct lz77_reader r = { .in = in, .len = in_len };
	uint32_t flags = 0;
	unsigned int flag_count = 0;
	size_t pos = 0;
	int ret = XCA_COMPLETE;

	for (;;) {
		uint16_t match;
		size_t offset, length;

		if (flag_count == 0) {
			if (r.len - r.pos < 4) {
				ret = pos == out_cap ? XCA_FULL : -ENODATA;
				break;
			}
			flags = xca_le32(r.in + r.pos);
			r.pos += 4;
			flag_count = 32;
		}
		flag_count--;
		if (!(flags & (1u << flag_count))) {
			if (pos == out_cap) {
				ret = XCA_FULL;
				break;
			}
			if (r.pos >= r.len) {
				ret = -ENODATA;
				break;
			}
			out[pos++] = r.in[r.pos++];
			continue;
		}
		if (r.pos == r.len)
			break;		/* the end marker */
		if (pos == out_cap) {
			ret = XCA_FULL;
			break;
		}
		if (r.len - r.pos < 2) {
			ret = -ENODATA;
			break;
		}
		match = xca_le16(r.in + r.pos);
		r.pos += 2;
		offset = (size_t)(match >> 3) + 1;
		length = match & 7;
		if (length == LZ77_LEN_FIELD_MAX) {
			ret = read_long_length(&r, &length);
			if (ret < 0)
				break;
		}
		length += LZ77_LEN_MIN;
		if (offset > pos) {
			ret = -EBADMSG;
			break;
		}
		if (!xca_copy_match(out, &pos, out_cap, offset, length)) {
			ret = XCA_FULL;
			break;
		}
	}
	*out_len = pos;
	return ret;
}
