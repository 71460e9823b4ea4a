/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_TESTS_XCA_ENCODE_H
#define SMBGW_TESTS_XCA_ENCODE_H

/*
 * Small compressors for the tests of dataplane/xca and of compressed SMB
 * messages: Plain LZ77, LZ77+Huffman and LZNT1 as MS-XCA describes them,
 * greedy and slow, written for clarity rather than ratio. Not product
 * code: the gateway only ever decompresses.
 */

#include <stddef.h>
#include <stdint.h>

/*
 * Each compresses <len> bytes at <in> into at most <cap> bytes at <out>
 * and returns the compressed size, or 0 if <cap> is too small.
 */

/* Plain LZ77 (MS-XCA 2.3), with its end marker. */
size_t
xca_encode_lz77(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/*
 * LZ77+Huffman (MS-XCA 2.1): a Huffman code built per 64 KiB block from
 * its symbol counts, the end-of-data symbol 256 after the last. With
 * <fixed_code> every symbol gets a 9-bit code instead.
 */
size_t
xca_encode_huffman(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
	int fixed_code);

/*
 * LZNT1 (MS-XCA 2.5): 4096-byte chunks, stored when compressing does not
 * pay; <terminate> appends the zero chunk header that ends the stream.
 */
size_t
xca_encode_lznt1(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
	int terminate);

#endif /* SMBGW_TESTS_XCA_ENCODE_H */
