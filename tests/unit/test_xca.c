/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of dataplane/xca: the worked examples of MS-XCA section 3, round
 * trips through the test compressors of tests/lib/xca_encode.c (and
 * wimlib's XPRESS, the same format as LZ77+Huffman, when built with it),
 * prefixes, output bounds, truncated and corrupt input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifdef HAVE_WIMLIB
#include <wimlib.h>
#endif

#include "xca.h"
#include "xca_encode.h"

#define GUARD		64
#define GUARD_BYTE	0xa5

/* MS-XCA 3.1 and 3.2: the alphabet, and "abc" 100 times. */
static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz";

static const uint8_t lz77_abc[] = {
	0xff, 0xff, 0xff, 0x1f, 0x61, 0x62, 0x63, 0x17, 0x00, 0x0f, 0xff,
	0x26, 0x01,
};

/* MS-XCA 3.5, LZNT1: the 142 bytes of lznt1_text, NUL included. */
static const char lznt1_text[] =
	"F# F# G A A G F# E D D E F# F# E E F# F# G A A G F# E D D E F# "
	"E D D E E F# D E F# G F# D E F# G F# E D E A F# F# G A A G F# E "
	"D D E F# E D D";
static const uint8_t lznt1_example[] = {
	0x38, 0xb0, 0x88, 0x46, 0x23, 0x20, 0x00, 0x20, 0x47, 0x20, 0x41,
	0x00, 0x10, 0xa2, 0x47, 0x01, 0xa0, 0x45, 0x20, 0x44, 0x00, 0x08,
	0x45, 0x01, 0x50, 0x79, 0x00, 0xc0, 0x45, 0x20, 0x05, 0x24, 0x13,
	0x88, 0x05, 0xb4, 0x02, 0x4a, 0x44, 0xef, 0x03, 0x58, 0x02, 0x8c,
	0x09, 0x16, 0x01, 0x48, 0x45, 0x00, 0xbe, 0x00, 0x9e, 0x00, 0x04,
	0x01, 0x18, 0x90, 0x00,
};

static uint8_t *
abc_times(size_t times)
{
	uint8_t *p = malloc(3 * times);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < 3 * times; i++)
		p[i] = (uint8_t)('a' + i % 3);
	return p;
}

/* MS-XCA 3.2: the LZ77+Huffman examples, built around their tables. */
static size_t
huffman_example(int which, uint8_t *out)
{
	static const uint8_t az_lengths[] = {
		0x50, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
		0x55, 0x45, 0x44, 0x04,
	};
	static const uint8_t az_bits[] = {
		0xd8, 0x52, 0x3e, 0xd7, 0x94, 0x11, 0x5b, 0xe9, 0x19, 0x5f,
		0xf9, 0xd6, 0x7c, 0xdf, 0x8d, 0x04, 0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t abc_bits[] = {
		0xa8, 0xdc, 0x00, 0x00, 0xff, 0x26, 0x01,
	};

	memset(out, 0, 256);
	if (which == 0) {
		memcpy(out + 48, az_lengths, sizeof(az_lengths));
		out[128] = 0x04;	/* symbol 256: 4 bits */
		memcpy(out + 256, az_bits, sizeof(az_bits));
		return 256 + sizeof(az_bits);
	}
	out[48] = 0x30;		/* 'a': 3 bits */
	out[49] = 0x23;		/* 'b': 3, 'c': 2 */
	out[128] = 0x02;	/* 256: 2 */
	out[143] = 0x20;	/* 287: 2 */
	memcpy(out + 256, abc_bits, sizeof(abc_bits));
	return 256 + sizeof(abc_bits);
}

/*
 * Decodes <in> (copied to an exact-size heap block, so over-reads trap)
 * into a buffer of <cap> bytes followed by a guard, and checks the guard.
 */
static int
decode(enum xca_algorithm alg, const uint8_t *in, size_t in_len,
	uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t *copy = malloc(in_len ? in_len : 1);
	uint8_t *buf = malloc(cap + GUARD);
	size_t i;
	int ret;

	assert_non_null(copy);
	assert_non_null(buf);
	memcpy(copy, in, in_len);
	memset(buf, GUARD_BYTE, cap + GUARD);
	ret = xca_decompress(alg, copy, in_len, buf, cap, out_len);
	assert_true(*out_len <= cap);
	for (i = 0; i < GUARD; i++)
		assert_int_equal(buf[cap + i], GUARD_BYTE);
	if (out != NULL)
		memcpy(out, buf, *out_len);
	free(buf);
	free(copy);
	return ret;
}

static void
test_spec_lz77(void **state)
{
	uint8_t in[64], out[400], enc[64];
	uint8_t *abc = abc_times(100);
	size_t n;

	(void)state;
	/* 3.1 example 1: 26 literals, the end marker in the flags. */
	memset(in, 0, 4);
	in[0] = 0x3f;
	memcpy(in + 4, alphabet, 26);
	assert_int_equal(decode(XCA_LZ77, in, 30, out, sizeof(out), &n),
		XCA_COMPLETE);
	assert_int_equal(n, 26);
	assert_memory_equal(out, alphabet, 26);
	/* The test compressor writes exactly the specification's bytes. */
	assert_int_equal(xca_encode_lz77((const uint8_t *)alphabet, 26, enc,
		sizeof(enc)), 30);
	assert_memory_equal(enc, in, 30);

	/* 3.1 example 2: one 297-byte match 3 back, its length in 16 bits. */
	assert_int_equal(decode(XCA_LZ77, lz77_abc, sizeof(lz77_abc), out,
		sizeof(out), &n), XCA_COMPLETE);
	assert_int_equal(n, 300);
	assert_memory_equal(out, abc, 300);
	/* Full at the end marker: the end is seen first. */
	assert_int_equal(decode(XCA_LZ77, lz77_abc, sizeof(lz77_abc), out,
		300, &n), XCA_COMPLETE);
	assert_int_equal(n, 300);
	assert_int_equal(decode(XCA_LZ77, lz77_abc, sizeof(lz77_abc), out,
		299, &n), XCA_FULL);
	assert_int_equal(n, 299);
	assert_int_equal(xca_encode_lz77(abc, 300, enc, sizeof(enc)),
		sizeof(lz77_abc));
	assert_memory_equal(enc, lz77_abc, sizeof(lz77_abc));
	free(abc);
}

static void
test_spec_huffman(void **state)
{
	uint8_t in[300], out[400];
	uint8_t *abc = abc_times(100);
	size_t len, n;

	(void)state;
	len = huffman_example(0, in);
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, len, out, sizeof(out),
		&n), XCA_COMPLETE);
	assert_int_equal(n, 26);
	assert_memory_equal(out, alphabet, 26);
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, len, out, 26, &n),
		XCA_FULL);
	assert_int_equal(n, 26);

	len = huffman_example(1, in);
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, len, out, sizeof(out),
		&n), XCA_COMPLETE);
	assert_int_equal(n, 300);
	assert_memory_equal(out, abc, 300);
	free(abc);
}

static void
test_spec_lznt1(void **state)
{
	uint8_t out[200];
	size_t n;

	(void)state;
	assert_int_equal(sizeof(lznt1_text), 142);
	assert_int_equal(decode(XCA_LZNT1, lznt1_example,
		sizeof(lznt1_example), out, sizeof(out), &n), XCA_COMPLETE);
	assert_int_equal(n, sizeof(lznt1_text));
	assert_memory_equal(out, lznt1_text, sizeof(lznt1_text));
}

/* Test data: random, small-alphabet text, runs of zeros. */
static void
fill(uint8_t *p, size_t len, int kind, uint32_t seed)
{
	static const char text[] = "\\\\srv\\ADMIN$ x.exe  ";
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		switch (kind) {
		case 0:
			p[i] = (uint8_t)(seed >> 16);
			break;
		case 1:
			p[i] = (uint8_t)text[(seed >> 16) % (sizeof(text) - 1)];
			break;
		default:
			p[i] = i % 1000 < 600 ? 0 : (uint8_t)((seed >> 16) & 3);
			break;
		}
	}
}

typedef size_t (*encode_fn)(const uint8_t *in, size_t len, uint8_t *out,
	size_t cap, int option);

static size_t
enc_lz77(const uint8_t *in, size_t len, uint8_t *out, size_t cap, int opt)
{
	(void)opt;
	return xca_encode_lz77(in, len, out, cap);
}

static const struct codec {
	const char *name;
	enum xca_algorithm alg;
	encode_fn encode;
	int option;
} codecs[] = {
	{ "lz77", XCA_LZ77, enc_lz77, 0 },
	{ "huffman", XCA_LZ77_HUFFMAN, xca_encode_huffman, 0 },
	{ "huffman-fixed", XCA_LZ77_HUFFMAN, xca_encode_huffman, 1 },
	{ "lznt1", XCA_LZNT1, xca_encode_lznt1, 1 },
	{ "lznt1-unterminated", XCA_LZNT1, xca_encode_lznt1, 0 },
};

static const size_t sizes[] = {
	0, 1, 2, 3, 26, 300, 4095, 4096, 4097, 8192, 12000, 65535, 65536,
	65537, 70000,
};

static void
test_round_trips(void **state)
{
	size_t max = 70000, ci, si;
	uint8_t *in = malloc(max);
	uint8_t *comp = malloc(2 * max + 1024);
	uint8_t *out = malloc(max + 16);

	(void)state;
	assert_non_null(in);
	assert_non_null(comp);
	assert_non_null(out);
	for (ci = 0; ci < sizeof(codecs) / sizeof(codecs[0]); ci++) {
		const struct codec *c = &codecs[ci];

		for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			int kind;

			for (kind = 0; kind < 3; kind++) {
				size_t len = sizes[si], clen, n;
				int ret;

				fill(in, len, kind, (uint32_t)(si * 3 + kind));
				clen = c->encode(in, len, comp, 2 * max + 1024,
					c->option);
				assert_true(clen > 0 || len == 0);
				/* The size the message announces. */
				ret = decode(c->alg, comp, clen, out, len, &n);
				assert_true(ret == XCA_FULL ||
					ret == XCA_COMPLETE);
				assert_int_equal(n, len);
				assert_memory_equal(out, in, len);
				/* More room: the stream's own end stops it. */
				ret = decode(c->alg, comp, clen, out, len + 16,
					&n);
				assert_int_equal(ret, XCA_COMPLETE);
				assert_int_equal(n, len);
				assert_memory_equal(out, in, len);
				/* Prefixes: stops at the cap, bytes right. */
				if (len >= 1000) {
					ret = decode(c->alg, comp, clen, out,
						1000, &n);
					assert_int_equal(ret, XCA_FULL);
					assert_int_equal(n, 1000);
					assert_memory_equal(out, in, 1000);
					ret = decode(c->alg, comp, clen, out, 0,
						&n);
					assert_int_equal(ret, XCA_FULL);
					assert_int_equal(n, 0);
				}
			}
		}
	}
	free(in);
	free(comp);
	free(out);
}

/*
 * Cut anywhere, a stream gives an error or a correct prefix: never bytes
 * that differ from the original.
 */
static void
test_truncated(void **state)
{
	size_t len = 9000, ci;
	uint8_t *in = malloc(len);
	uint8_t *comp = malloc(2 * len + 1024);
	uint8_t *out = malloc(len);

	(void)state;
	assert_non_null(in);
	assert_non_null(comp);
	assert_non_null(out);
	fill(in, len, 1, 7);
	for (ci = 0; ci < sizeof(codecs) / sizeof(codecs[0]); ci++) {
		const struct codec *c = &codecs[ci];
		size_t clen = c->encode(in, len, comp, 2 * len + 1024,
			c->option);
		size_t cut, n;
		int errors = 0;

		assert_true(clen > 0);
		for (cut = 0; cut < clen; cut++) {
			int ret = decode(c->alg, comp, cut, out, len, &n);

			assert_true(ret == XCA_FULL || ret == XCA_COMPLETE ||
				ret == -ENODATA || ret == -EBADMSG);
			assert_memory_equal(out, in, n);
			if (ret < 0 || n < len)
				errors++;
		}
		/* Only trailing padding may go unnoticed. */
		assert_true(errors >= (int)clen - 8);
		assert_int_equal(decode(c->alg, comp, 0, out, len, &n) < 0 ||
			n == 0, 1);
	}
	free(in);
	free(comp);
	free(out);
}

static void
test_corrupt(void **state)
{
	uint8_t in[600], out[4096];
	size_t n, len;

	(void)state;
	/* LZ77: a match reaching before the output's start. */
	memset(in, 0, sizeof(in));
	in[3] = 0x40;		/* literal, then a match */
	in[4] = 'x';
	in[5] = 0x08;		/* offset 2, length 3 */
	in[6] = 0x00;
	assert_int_equal(decode(XCA_LZ77, in, 7, out, sizeof(out), &n),
		-EBADMSG);
	assert_int_equal(n, 1);
	/* LZ77: a wide length below what the narrower fields hold. */
	memset(in, 0, sizeof(in));
	in[3] = 0x40;
	in[4] = 'x';
	in[5] = 0x07;		/* offset 1, length field 7 */
	in[7] = 0x0f;		/* half byte 15 */
	in[8] = 0xff;		/* byte 255 */
	in[9] = 0x05;		/* 16 bits: 5 < 22 */
	assert_int_equal(decode(XCA_LZ77, in, 11, out, sizeof(out), &n),
		-EBADMSG);

	/* LZ77+Huffman: no codes at all, too many, too few. */
	memset(in, 0, sizeof(in));
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, 300, out, sizeof(out),
		&n), -EBADMSG);
	memset(in, 0x11, 256);	/* 512 one-bit codes */
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, 300, out, sizeof(out),
		&n), -EBADMSG);
	memset(in, 0, 256);
	in[0] = 0x11;
	in[1] = 0x02;		/* 1 + 1 + 2 bits: over-full */
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, 300, out, sizeof(out),
		&n), -EBADMSG);
	memset(in, 0, 256);
	in[0] = 0x21;		/* 1 + 2 bits: a code left unused */
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, 300, out, sizeof(out),
		&n), -EBADMSG);
	/* A table alone, no bits after it: truncated. */
	len = huffman_example(0, in);
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, 258, out, sizeof(out),
		&n), -ENODATA);
	/* A match before the start: symbols 0 and 256+16 (offset 2). */
	memset(in, 0, 300);
	in[0] = 0x01;		/* symbol 0: 1 bit */
	in[136] = 0x01;		/* symbol 272: 1 bit */
	in[256] = 0x00;
	in[257] = 0x80;		/* first bit 1: the match, offset bit 0 */
	assert_int_equal(decode(XCA_LZ77_HUFFMAN, in, 260, out, sizeof(out),
		&n), -EBADMSG);
	(void)len;

	/* LZNT1: wrong signature; match with no history; short chunk
	 * followed by another. */
	assert_int_equal(decode(XCA_LZNT1, (const uint8_t *)"\x05\x80xx", 4,
		out, sizeof(out), &n), -EBADMSG);
	assert_int_equal(decode(XCA_LZNT1,
		(const uint8_t *)"\x02\xb0\x01\x00\x00", 5, out, sizeof(out),
		&n), -EBADMSG);
	memcpy(in, "\x01\x30" "ab" "\x01\x30" "cd", 8);
	assert_int_equal(decode(XCA_LZNT1, in, 8, out, sizeof(out), &n),
		-EBADMSG);
	assert_int_equal(n, 2);
	/* One stored chunk of 2 bytes, then the end: fine. */
	assert_int_equal(decode(XCA_LZNT1, in, 4, out, sizeof(out), &n),
		XCA_COMPLETE);
	assert_int_equal(n, 2);
	/* A compressed chunk's match crossing its end. */
	assert_int_equal(decode(XCA_LZNT1,
		(const uint8_t *)"\x02\xb0\x02" "a" "\x00", 5, out, sizeof(out),
		&n), -EBADMSG);
}

/* Random damage: never a crash, an over-read or a write past the cap. */
static void
test_mutations(void **state)
{
	size_t len = 5000, ci;
	uint8_t *in = malloc(len);
	uint8_t *comp = malloc(2 * len + 1024);
	uint8_t *out = malloc(len);
	uint32_t seed = 12345;

	(void)state;
	assert_non_null(in);
	assert_non_null(comp);
	assert_non_null(out);
	fill(in, len, 1, 3);
	for (ci = 0; ci < sizeof(codecs) / sizeof(codecs[0]); ci++) {
		const struct codec *c = &codecs[ci];
		size_t clen = c->encode(in, len, comp, 2 * len + 1024,
			c->option);
		int round;

		for (round = 0; round < 300; round++) {
			uint8_t *copy = malloc(clen);
			int k;
			size_t n;

			memcpy(copy, comp, clen);
			for (k = 0; k < 1 + round % 4; k++) {
				seed = seed * 1103515245u + 12345u;
				copy[(seed >> 8) % clen] ^=
					(uint8_t)(1 + (seed >> 24) % 255);
			}
			(void)decode(c->alg, copy, clen, out,
				round % 2 ? len : len / 3, &n);
			free(copy);
		}
	}
	free(in);
	free(comp);
	free(out);
}

static void
test_stored_and_pattern(void **state)
{
	uint8_t out[64];
	size_t n;

	(void)state;
	assert_int_equal(decode(XCA_NONE, (const uint8_t *)"hello", 5, out,
		sizeof(out), &n), XCA_COMPLETE);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(decode(XCA_NONE, (const uint8_t *)"hello", 5, out,
		3, &n), XCA_FULL);
	assert_int_equal(n, 3);

	/* Pattern 'Z', reserved bytes ignored, 40 repetitions. */
	assert_int_equal(decode(XCA_PATTERN_V1,
		(const uint8_t *)"Z\x01\x02\x03\x28\x00\x00\x00", 8, out,
		sizeof(out), &n), XCA_COMPLETE);
	assert_int_equal(n, 40);
	assert_int_equal(out[0], 'Z');
	assert_int_equal(out[39], 'Z');
	/* A billion repetitions: the cap holds. */
	assert_int_equal(decode(XCA_PATTERN_V1,
		(const uint8_t *)"\0\0\0\0\x00\xca\x9a\x3b", 8, out,
		sizeof(out), &n), XCA_FULL);
	assert_int_equal(n, sizeof(out));
	assert_int_equal(decode(XCA_PATTERN_V1,
		(const uint8_t *)"Z\0\0\0\x28\0\0", 7, out, sizeof(out), &n),
		-ENODATA);
	assert_int_equal(decode(XCA_PATTERN_V1,
		(const uint8_t *)"Z\0\0\0\x28\0\0\0\0", 9, out, sizeof(out),
		&n), -EBADMSG);
}

static void
test_api(void **state)
{
	uint8_t out[8];
	size_t n = 99;

	(void)state;
	assert_int_equal(xca_decompress(XCA_LZ77, NULL, 4, out, 8, &n),
		-EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(xca_decompress(XCA_LZ77, out, 4, NULL, 8, &n),
		-EINVAL);
	assert_int_equal(xca_decompress(XCA_LZ77, out, 4, out, 8, NULL),
		-EINVAL);
	assert_int_equal(xca_decompress((enum xca_algorithm)5, out, 4, out,
		8, &n), -ENOTSUP);
	assert_int_equal(xca_decompress(XCA_NONE, NULL, 0, NULL, 0, &n),
		XCA_COMPLETE);
	assert_true(xca_algorithm_supported(XCA_LZ77_HUFFMAN));
	assert_true(xca_algorithm_supported(XCA_PATTERN_V1));
	assert_false(xca_algorithm_supported(5));	/* LZ4 */
	assert_false(xca_algorithm_supported(0xffff));
	assert_string_equal(xca_algorithm_name(XCA_LZ77_HUFFMAN),
		"LZ77+Huffman");
	assert_string_equal(xca_algorithm_name(5), "LZ4");
	assert_string_equal(xca_algorithm_name(99), "?");
}

#ifdef HAVE_WIMLIB
/*
 * wimlib's XPRESS is LZ77+Huffman in one block of up to 64 KiB: what it
 * compresses we decode, and what the test compressor writes it decodes.
 */
static void
test_wimlib_xpress(void **state)
{
	struct wimlib_compressor *c;
	struct wimlib_decompressor *d;
	size_t max = 65536, si;
	uint8_t *in = malloc(max), *comp = malloc(2 * max), *out = malloc(max);

	(void)state;
	assert_int_equal(wimlib_create_compressor(
		WIMLIB_COMPRESSION_TYPE_XPRESS, max, 0, &c), 0);
	assert_int_equal(wimlib_create_decompressor(
		WIMLIB_COMPRESSION_TYPE_XPRESS, max, &d), 0);
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		int kind;

		if (sizes[si] == 0 || sizes[si] > max)
			continue;
		for (kind = 0; kind < 3; kind++) {
			size_t len = sizes[si], clen, n;

			fill(in, len, kind, (uint32_t)si);
			clen = wimlib_compress(in, len, comp, 2 * max, c);
			if (clen > 0) {
				int ret = decode(XCA_LZ77_HUFFMAN, comp, clen,
					out, len, &n);

				assert_true(ret >= 0);
				assert_int_equal(n, len);
				assert_memory_equal(out, in, len);
			}
			clen = xca_encode_huffman(in, len, comp, 2 * max, 0);
			assert_true(clen > 0);
			assert_int_equal(wimlib_decompress(comp, clen, out, len,
				d), 0);
			assert_memory_equal(out, in, len);
		}
	}
	wimlib_free_compressor(c);
	wimlib_free_decompressor(d);
	free(in);
	free(comp);
	free(out);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_lz77),
		cmocka_unit_test(test_spec_huffman),
		cmocka_unit_test(test_spec_lznt1),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_stored_and_pattern),
		cmocka_unit_test(test_api),
#ifdef HAVE_WIMLIB
		cmocka_unit_test(test_wimlib_xpress),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
