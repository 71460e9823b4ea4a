/* SPDX-License-Identifier: BSD-3-Clause */
/* Ones' complement sums for TCP checksums (checksum.h). */
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#ifdef __AVX2__
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "checksum.h"

/*
 * The ones' complement sum of <len> bytes in memory order, as
 * rte_raw_cksum() gives it. 32-bit words are added into 64-bit sums: a
 * word's sum folds to the sum of its 16-bit halves (2^16 = 1 modulo
 * 0xffff) and no carry has to be kept (2^32 words before one could be
 * lost). With SSE2, 13 instructions for 32 bytes where 64-bit words with
 * their carries took 30, on every inspected segment; with AVX2 (a
 * native build on a CPU that has it) 64 bytes a pass.
 */
uint16_t
checksum_ones_sum(const uint8_t *p, uint32_t len)
{
	uint64_t a = 0, b = 0;

#ifdef __AVX2__
	/*
	 * Where the build may use AVX2 (the native build on a CPU that has
	 * it): the same, 32 bytes a load, for full-sized segments' bulk.
	 */
	if (len >= 64) {
		const __m256i zero = _mm256_setzero_si256();
		__m256i lo = zero, hi = zero;
		uint64_t lanes[4];

		for (; len >= 64; p += 64, len -= 64) {
			__m256i x = _mm256_loadu_si256((const __m256i *)p);
			__m256i y = _mm256_loadu_si256((const __m256i *)(p + 32));

			lo = _mm256_add_epi64(lo, _mm256_unpacklo_epi32(x, zero));
			hi = _mm256_add_epi64(hi, _mm256_unpackhi_epi32(x, zero));
			lo = _mm256_add_epi64(lo, _mm256_unpacklo_epi32(y, zero));
			hi = _mm256_add_epi64(hi, _mm256_unpackhi_epi32(y, zero));
		}
		_mm256_storeu_si256((__m256i *)lanes, _mm256_add_epi64(lo, hi));
		a = lanes[0] + lanes[2];
		b = lanes[1] + lanes[3];
	}
#endif
#ifdef __SSE2__
	/*
	 * The same 32-bit words into 64-bit lanes, 16 bytes a load: each
	 * word widened by interleaving with zeros (x86-64 always has SSE2).
	 */
	if (len >= 32) {
		const __m128i zero = _mm_setzero_si128();
		__m128i lo = zero, hi = zero;
		uint64_t lanes[2];

		for (; len >= 32; p += 32, len -= 32) {
			__m128i x = _mm_loadu_si128((const __m128i *)p);
			__m128i y = _mm_loadu_si128((const __m128i *)(p + 16));

			lo = _mm_add_epi64(lo, _mm_unpacklo_epi32(x, zero));
			hi = _mm_add_epi64(hi, _mm_unpackhi_epi32(x, zero));
			lo = _mm_add_epi64(lo, _mm_unpacklo_epi32(y, zero));
			hi = _mm_add_epi64(hi, _mm_unpackhi_epi32(y, zero));
		}
		_mm_storeu_si128((__m128i *)lanes, _mm_add_epi64(lo, hi));
		a += lanes[0];
		b += lanes[1];
	}
#else
	for (; len >= 32; p += 32, len -= 32) {
		a += checksum_load_u32(p);
		b += checksum_load_u32(p + 4);
		a += checksum_load_u32(p + 8);
		b += checksum_load_u32(p + 12);
		a += checksum_load_u32(p + 16);
		b += checksum_load_u32(p + 20);
		a += checksum_load_u32(p + 24);
		b += checksum_load_u32(p + 28);
	}
#endif
	for (; len >= 4; p += 4, len -= 4)
		a += checksum_load_u32(p);
	if (len >= 2) {
		uint16_t half;

		memcpy(&half, p, sizeof(half));
		b += half;
		p += 2;
		len -= 2;
	}
	/* The last byte, zero-padded in memory order. */
	if (len != 0) {
		uint16_t half = 0;

		memcpy(&half, p, 1);
		b += half;
	}
	a += b;
	/* Less than 2^63: adding the two sums could not carry. */
	return checksum_fold(a);
}

/*
 * The sum of <len> bytes of <m> from <offset>, across its segments: a
 * piece that starts at an odd distance from <offset> has its bytes in
 * the other lanes, so its sum is byte-swapped. -1 when <m> is shorter.
 */
int
checksum_mbuf_sum(const struct rte_mbuf *m, uint32_t offset, uint32_t len,
	uint16_t *out)
{
	uint64_t sum = 0;
	uint32_t done = 0;

	/* Most segments: one mbuf holds them whole. */
	if (likely(m != NULL && (uint64_t)offset + len <= m->data_len)) {
		*out = checksum_ones_sum(rte_pktmbuf_mtod_offset(m,
			const uint8_t *, offset), len);
		return 0;
	}
	for (; m != NULL && offset >= m->data_len; m = m->next)
		offset -= m->data_len;
	for (; m != NULL && done < len; m = m->next, offset = 0) {
		uint32_t piece = RTE_MIN(len - done,
			(uint32_t)m->data_len - offset);
		uint16_t part = checksum_ones_sum(rte_pktmbuf_mtod_offset(m,
			const uint8_t *, offset), piece);

		sum += (done & 1) ? rte_bswap16(part) : part;
		done += piece;
	}
	if (done < len)
		return -1;
	*out = checksum_fold(sum);
	return 0;
}
