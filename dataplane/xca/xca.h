/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_XCA_H
#define SMBGW_XCA_H

/*
 * Decompression of the formats SMB 3.1.1 compresses its messages with:
 * the three Xpress Compression Algorithms of MS-XCA (Plain LZ77,
 * LZ77+Huffman, LZNT1) and SMB2's Pattern_V1 payload (MS-SMB2 2.2.42.2.2).
 *
 * Pure C, no DPDK, no allocation, no global state: every call works on
 * the caller's buffers and a few hundred bytes of stack, so it is safe from
 * any thread. Decoding is bounded by the output: a caller that only needs
 * the start of a large message gives a small <out_cap> and the decoder
 * stops there, having read only the input those bytes needed.
 */

#include <stddef.h>
#include <stdint.h>

/*
 * Algorithms, numbered as SMB2 numbers them (MS-SMB2 2.2.3.1.3
 * CompressionAlgorithms), so a CompressionAlgorithm field can be passed
 * on after xca_algorithm_supported().
 */
enum xca_algorithm {
	XCA_NONE = 0x0000,		/* stored: the input is the output */
	XCA_LZNT1 = 0x0001,		/* MS-XCA 2.5 */
	XCA_LZ77 = 0x0002,		/* MS-XCA 2.3/2.4, "Plain LZ77" */
	XCA_LZ77_HUFFMAN = 0x0003,	/* MS-XCA 2.1/2.2 */
	XCA_PATTERN_V1 = 0x0004,	/* MS-SMB2 2.2.42.2.2, 8 bytes */
};

/* Size of a Pattern_V1 payload: pattern, 3 reserved bytes, repetitions. */
#define XCA_PATTERN_V1_LEN	8

/* Non-negative results of xca_decompress(). */
#define XCA_COMPLETE	0	/* the compressed stream ended */
#define XCA_FULL	1	/* out_cap bytes written; stopped there */

/*
 * Decompresses <in_len> bytes at <in>, compressed with <algorithm>, into
 * at most <out_cap> bytes at <out>, and sets *<out_len> to the number of
 * bytes written (also on failure: they are the output of the input that
 * came before the point of failure).
 *
 * Returns
 *   XCA_COMPLETE  the stream ended: its end marker was read (LZ77; LZNT1's
 *                 zero chunk header or the input's end at a chunk
 *                 boundary; LZ77+Huffman's end-of-data symbol 256 with the
 *                 input used up and only zero bits after it, or a block
 *                 boundary with too few bytes left for another block), or
 *                 the whole payload was produced (NONE, Pattern_V1). A
 *                 caller that knows the size to expect compares *out_len;
 *   XCA_FULL      *out_len == out_cap and decoding stopped without looking
 *                 at what follows; the stream may hold more, or end there.
 *                 A prefix of a message is a normal outcome: SMB callers
 *                 pass the size the message announces, or less;
 *   -ENODATA      the input ended inside the stream (a truncated input, or
 *                 one cut short by the caller on purpose); *out_len bytes
 *                 are good;
 *   -EBADMSG      the input is not a valid stream: a match reaching before
 *                 the start of the output, an incomplete or over-full
 *                 Huffman code, a malformed LZNT1 chunk, a short Pattern_V1
 *                 payload, and the like;
 *   -ENOTSUP      <algorithm> is not one of enum xca_algorithm;
 *   -EINVAL       <in> or <out> NULL with a non-zero length, or <out_len>
 *                 NULL.
 *
 * Never reads outside <in>[0..in_len) nor writes outside
 * <out>[0..out_cap). The work done is bounded by in_len + out_cap.
 */
int
xca_decompress(enum xca_algorithm algorithm, const uint8_t *in,
	size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Returns 1 if <algorithm> (an SMB2 CompressionAlgorithm value) is decoded
 * here, else 0.
 */
int
xca_algorithm_supported(uint16_t algorithm);

/* Returns a static name for <algorithm> ("LZ77+Huffman"), or "?" if unknown. */
const char *
xca_algorithm_name(uint16_t algorithm);

#endif /* SMBGW_XCA_H */
