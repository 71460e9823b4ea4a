/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Entry point: argument checks, the two trivial formats (stored data and
 * SMB2's Pattern_V1), and dispatch to the MS-XCA decoders.
 */
#include <string.h>

#include "xca_pvt.h"

static int
copy_stored(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
	size_t *out_len)
{
	size_t n = in_len < out_cap ? in_len : out_cap;

	if (n > 0)
		memcpy(out, in, n);
	*out_len = n;
	return n < in_len ? XCA_FULL : XCA_COMPLETE;
}

/*
 * MS-SMB2 2.2.42.2.2: Pattern (1 byte), Reserved1 (1), Reserved2 (2),
 * Repetitions (4): the pattern byte that many times. The reserved bytes
 * are ignored, as the receiver is told to.
 */
static int
expand_pattern(const uint8_t *in, size_t in_len, uint8_t *out,
	size_t out_cap, size_t *out_len)
{
	uint32_t repetitions;
	size_t n;

	if (in_len < XCA_PATTERN_V1_LEN)
		return -ENODATA;
	if (in_len > XCA_PATTERN_V1_LEN)
		return -EBADMSG;
	repetitions = xca_le32(in + 4);
	n = repetitions < out_cap ? repetitions : out_cap;
	if (n > 0)
		memset(out, in[0], n);
	*out_len = n;
	return n < repetitions ? XCA_FULL : XCA_COMPLETE;
}

int
xca_decompress(enum xca_algorithm algorithm, const uint8_t *in,
	size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	if (out_len == NULL)
		return -EINVAL;
	*out_len = 0;
	if ((in == NULL && in_len != 0) || (out == NULL && out_cap != 0))
		return -EINVAL;
	switch (algorithm) {
	case XCA_NONE:
		return copy_stored(in, in_len, out, out_cap, out_len);
	case XCA_LZNT1:
		return xca_lznt1_decompress(in, in_len, out, out_cap, out_len);
	case XCA_LZ77:
		return xca_lz77_decompress(in, in_len, out, out_cap, out_len);
	case XCA_LZ77_HUFFMAN:
		return xca_huffman_decompress(in, in_len, out, out_cap,
			out_len);
	case XCA_PATTERN_V1:
		return expand_pattern(in, in_len, out, out_cap, out_len);
	}
	return -ENOTSUP;
}

int
xca_algorithm_supported(uint16_t algorithm)
{
	return algorithm <= XCA_PATTERN_V1;
}

const char *
xca_algorithm_name(uint16_t algorithm)
{
	static const char *const names[] = {
		"NONE", "LZNT1", "LZ77", "LZ77+Huffman", "Pattern_V1", "LZ4",
	};

	return algorithm < sizeof(names) / sizeof(names[0]) ?
		names[algorithm] : "?";
}
