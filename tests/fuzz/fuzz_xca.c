/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer harness for dataplane/xca. The input is
 *
 *	uint8_t  algorithm  (mod 5: NONE, LZNT1, LZ77, LZ77+Huffman,
 *	                     Pattern_V1)
 *	uint16_t out_cap    (little-endian; the output buffer's size)
 *	uint8_t  data[]     the compressed stream
 *
 * Input and output live in exact-size heap blocks, so a read or write out
 * of bounds trips ASan. Besides that it checks the result is one of those
 * documented, and that decoding is a function of the output wanted: with
 * a smaller cap the decoder stops there, having written the same bytes.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xca.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_result(int ret, size_t out_len, size_t cap)
{
	if (out_len > cap)
		abort();
	if (ret != XCA_COMPLETE && ret != XCA_FULL && ret != -ENODATA &&
	    ret != -EBADMSG)
		abort();
	if (ret == XCA_FULL && out_len != cap)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum xca_algorithm alg;
	size_t cap, in_len, n1 = 0, n2 = 0, cap2;
	uint8_t *in, *out1, *out2;
	int ret;

	if (size < 3)
		return 0;
	alg = (enum xca_algorithm)(data[0] % 5);
	cap = (size_t)data[1] | (size_t)data[2] << 8;
	in_len = size - 3;
	in = malloc(in_len ? in_len : 1);
	out1 = malloc(cap ? cap : 1);
	out2 = malloc(cap ? cap : 1);
	if (in == NULL || out1 == NULL || out2 == NULL)
		abort();
	memcpy(in, data + 3, in_len);

	ret = xca_decompress(alg, in, in_len, out1, cap, &n1);
	check_result(ret, n1, cap);

	/* Half the output: the same bytes, stopped at the cap. */
	cap2 = n1 / 2;
	if (cap2 < n1) {
		ret = xca_decompress(alg, in, in_len, out2, cap2, &n2);
		check_result(ret, n2, cap2);
		if (ret != XCA_FULL || n2 != cap2 ||
		    memcmp(out1, out2, n2) != 0)
			abort();
	}
	free(in);
	free(out1);
	free(out2);
	return 0;
}
