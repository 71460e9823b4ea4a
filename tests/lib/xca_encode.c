/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-only compressors for the MS-XCA formats; see xca_encode.h. Matches
 * are found by trying the nearest earlier positions, a bounded number of
 * them: slow and simple, enough for test data.
 */
#include <string.h>

#include "xca_encode.h"

#define CANDIDATES	256
#define MATCH_MIN	3

/*
 * The longest match for in[i..] starting at most <max_off> back but not
 * before <lowest>, at most <max_len> long; its offset in *<off>.
 */
static size_t
longest_match(const uint8_t *in, size_t len, size_t i, size_t lowest,
	size_t max_off, size_t max_len, size_t *off)
{
	size_t best = 0, tries = 0, d;

	if (max_len > len - i)
		max_len = len - i;
	for (d = 1; d <= max_off && d <= i - lowest && tries < CANDIDATES;
	     d++, tries++) {
		size_t n = 0;

		while (n < max_len && in[i - d + n] == in[i + n])
			n++;
		if (n > best) {
			best = n;
			*off = d;
			if (n == max_len)
				break;
		}
	}
	return best;
}

static void
put_le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, v);
	put_le16(p + 2, v >> 16);
}

/* ---- Plain LZ77 ------------------------------------------------------ */

struct lz77_writer {
	uint8_t *out;
	size_t cap;
	size_t pos;
	size_t flag_pos;
	uint32_t flags;
	unsigned int nflags;
	size_t half_pos;	/* a length byte with its high half free */
	int overflow;
};

static size_t
lz77_reserve(struct lz77_writer *w, size_t n)
{
	size_t at = w->pos;

	if (w->cap - w->pos < n) {
		w->overflow = 1;
		return 0;
	}
	memset(w->out + w->pos, 0, n);
	w->pos += n;
	return at;
}

static void
lz77_flag(struct lz77_writer *w, unsigned int bit)
{
	if (w->nflags == 32) {
		if (!w->overflow)
			put_le32(w->out + w->flag_pos, w->flags);
		w->flag_pos = lz77_reserve(w, 4);
		w->flags = 0;
		w->nflags = 0;
	}
	w->flags = w->flags << 1 | bit;
	w->nflags++;
}

static void
lz77_byte(struct lz77_writer *w, uint8_t b)
{
	size_t at = lz77_reserve(w, 1);

	if (!w->overflow)
		w->out[at] = b;
}

static void
lz77_match(struct lz77_writer *w, size_t offset, size_t length)
{
	size_t rest = length - MATCH_MIN;
	uint32_t token = (uint32_t)(offset - 1) << 3 |
		(rest < 7 ? (uint32_t)rest : 7);

	lz77_flag(w, 1);
	lz77_byte(w, (uint8_t)token);
	lz77_byte(w, (uint8_t)(token >> 8));
	if (rest < 7)
		return;
	rest -= 7;
	if (w->half_pos == 0) {
		w->half_pos = lz77_reserve(w, 1);
		if (!w->overflow)
			w->out[w->half_pos] = (uint8_t)(rest < 15 ? rest : 15);
	} else {
		if (!w->overflow)
			w->out[w->half_pos] |= (uint8_t)((rest < 15 ? rest : 15)
				<< 4);
		w->half_pos = 0;
	}
	if (rest < 15)
		return;
	rest -= 15;
	if (rest < 255) {
		lz77_byte(w, (uint8_t)rest);
		return;
	}
	lz77_byte(w, 255);
	rest = length - MATCH_MIN;
	if (rest <= 0xffff) {
		lz77_byte(w, (uint8_t)rest);
		lz77_byte(w, (uint8_t)(rest >> 8));
	} else {
		size_t at;

		lz77_byte(w, 0);
		lz77_byte(w, 0);
		at = lz77_reserve(w, 4);
		if (!w->overflow)
			put_le32(w->out + at, (uint32_t)rest);
	}
}

size_t
xca_encode_lz77(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	struct lz77_writer w = { .out = out, .cap = cap };
	size_t i = 0;

	w.flag_pos = lz77_reserve(&w, 4);
	while (i < len) {
		size_t off = 0;
		size_t n = longest_match(in, len, i, 0, 8192, (size_t)-1 / 2,
			&off);

		if (n >= MATCH_MIN) {
			lz77_match(&w, off, n);
			i += n;
		} else {
			lz77_flag(&w, 0);
			lz77_byte(&w, in[i++]);
		}
	}
	/* The end: a match flag where the input ends; the rest ones. */
	lz77_flag(&w, 1);
	w.flags = w.nflags == 32 ? w.flags : (w.flags << (32 - w.nflags)) |
		((1u << (32 - w.nflags)) - 1);
	if (w.overflow)
		return 0;
	put_le32(out + w.flag_pos, w.flags);
	return w.pos;
}

/* ---- LZ77+Huffman ---------------------------------------------------- */

#define HUFF_SYMBOLS	512
#define HUFF_BLOCK	65536

/*
 * Bit writer mirroring the decoder's read-ahead: two 16-bit words are
 * reserved at a block's start, and one more each time a word is begun
 * after the first, so bytes written between symbols (long match lengths)
 * land where the decoder reads them.
 */
struct bit_writer {
	uint8_t *out;
	size_t cap;
	size_t pos;
	size_t slot[2];		/* positions of words n and n + 1 */
	uint32_t acc;
	unsigned int nacc;
	size_t nbits;
	int overflow;
};

static void
bw_reserve(struct bit_writer *b, size_t word)
{
	if (b->cap - b->pos < 2) {
		b->overflow = 1;
		return;
	}
	b->slot[word & 1] = b->pos;
	memset(b->out + b->pos, 0, 2);
	b->pos += 2;
}

static void
bw_begin(struct bit_writer *b)
{
	b->acc = 0;
	b->nacc = 0;
	b->nbits = 0;
	bw_reserve(b, 0);
	bw_reserve(b, 1);
}

static void
bw_bits(struct bit_writer *b, uint32_t value, unsigned int n)
{
	while (n-- > 0) {
		if (b->nbits >= 16 && b->nbits % 16 == 0)
			bw_reserve(b, b->nbits / 16 + 1);
		b->acc = b->acc << 1 | ((value >> n) & 1);
		b->nacc++;
		b->nbits++;
		if (b->nacc == 16) {
			if (!b->overflow)
				put_le16(b->out + b->slot[(b->nbits / 16 - 1) & 1],
					b->acc);
			b->acc = 0;
			b->nacc = 0;
		}
	}
}

static void
bw_byte(struct bit_writer *b, uint8_t v)
{
	if (b->cap - b->pos < 1) {
		b->overflow = 1;
		return;
	}
	b->out[b->pos++] = v;
}

/* Flushes the partial word; reserved words not reached stay zero. */
static void
bw_end(struct bit_writer *b)
{
	if (b->nacc > 0 && !b->overflow)
		put_le16(b->out + b->slot[(b->nbits / 16) & 1],
			b->acc << (16 - b->nacc));
}

/* Huffman code lengths for <freq>, at most 15 bits; 0 if that fails. */
static int
huffman_lengths(const uint32_t *freq, uint8_t *lens)
{
	uint64_t weight[2 * HUFF_SYMBOLS];
	int parent[2 * HUFF_SYMBOLS];
	int alive[2 * HUFF_SYMBOLS];
	int nodes = 0, live = 0, i;
	int leaf[HUFF_SYMBOLS];

	memset(lens, 0, HUFF_SYMBOLS);
	for (i = 0; i < HUFF_SYMBOLS; i++) {
		leaf[i] = -1;
		if (freq[i] == 0)
			continue;
		leaf[i] = nodes;
		weight[nodes] = freq[i];
		parent[nodes] = -1;
		alive[nodes++] = 1;
		live++;
	}
	while (live > 1) {
		int a = -1, b = -1;

		for (i = 0; i < nodes; i++) {
			if (!alive[i])
				continue;
			if (a < 0 || weight[i] < weight[a]) {
				b = a;
				a = i;
			} else if (b < 0 || weight[i] < weight[b]) {
				b = i;
			}
		}
		alive[a] = alive[b] = 0;
		weight[nodes] = weight[a] + weight[b];
		parent[nodes] = -1;
		parent[a] = parent[b] = nodes;
		alive[nodes++] = 1;
		live--;
	}
	for (i = 0; i < HUFF_SYMBOLS; i++) {
		int depth = 0, n;

		if (leaf[i] < 0)
			continue;
		for (n = leaf[i]; parent[n] >= 0; n = parent[n])
			depth++;
		if (depth > 15)
			return 0;
		lens[i] = (uint8_t)depth;
	}
	return 1;
}

static void
canonical_codes(const uint8_t *lens, uint16_t *codes)
{
	unsigned int code = 0, len, s;

	for (len = 1; len <= 15; len++) {
		for (s = 0; s < HUFF_SYMBOLS; s++)
			if (lens[s] == len)
				codes[s] = (uint16_t)code++;
		code <<= 1;
	}
}

/* A match as its symbol (less 256), extra length and offset bits. */
struct huff_match {
	unsigned int symbol;
	unsigned int offset_bits;
	size_t offset_low;
	size_t rest;		/* length - 3 */
};

static void
huff_match_of(size_t offset, size_t length, struct huff_match *m)
{
	unsigned int bits = 0;

	while (((size_t)2 << bits) <= offset)
		bits++;
	m->offset_bits = bits;
	m->offset_low = offset - ((size_t)1 << bits);
	m->rest = length - MATCH_MIN;
	m->symbol = bits << 4 | (m->rest < 15 ? (unsigned int)m->rest : 15);
}

/* Two passes over a block: counting symbols, then writing them. */
static void
huff_block_pass(const uint8_t *in, size_t len, size_t start, size_t end,
	uint32_t *freq, struct bit_writer *b, const uint8_t *lens,
	const uint16_t *codes)
{
	size_t i = start;

	while (i < end) {
		size_t off = 0;
		size_t n = longest_match(in, end, i, 0, 65535, end - i, &off);
		struct huff_match m;

		(void)len;
		if (n < MATCH_MIN) {
			if (freq != NULL)
				freq[in[i]]++;
			else
				bw_bits(b, codes[in[i]], lens[in[i]]);
			i++;
			continue;
		}
		huff_match_of(off, n, &m);
		i += n;
		if (freq != NULL) {
			freq[256 + m.symbol]++;
			continue;
		}
		bw_bits(b, codes[256 + m.symbol], lens[256 + m.symbol]);
		if (m.rest >= 15) {
			if (m.rest - 15 < 255) {
				bw_byte(b, (uint8_t)(m.rest - 15));
			} else if (m.rest <= 0xffff) {
				bw_byte(b, 255);
				bw_byte(b, (uint8_t)m.rest);
				bw_byte(b, (uint8_t)(m.rest >> 8));
			} else {
				bw_byte(b, 255);
				bw_byte(b, 0);
				bw_byte(b, 0);
				bw_byte(b, (uint8_t)m.rest);
				bw_byte(b, (uint8_t)(m.rest >> 8));
				bw_byte(b, (uint8_t)(m.rest >> 16));
				bw_byte(b, (uint8_t)(m.rest >> 24));
			}
		}
		bw_bits(b, (uint32_t)m.offset_low, m.offset_bits);
	}
}

size_t
xca_encode_huffman(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
	int fixed_code)
{
	struct bit_writer b = { .out = out, .cap = cap };
	size_t start = 0;

	do {
		size_t end = len - start > HUFF_BLOCK ? start + HUFF_BLOCK : len;
		int last = end == len;
		uint32_t freq[HUFF_SYMBOLS] = { 0 };
		uint8_t lens[HUFF_SYMBOLS];
		uint16_t codes[HUFF_SYMBOLS];
		int s;

		huff_block_pass(in, len, start, end, freq, NULL, NULL, NULL);
		if (last)
			freq[256]++;
		/* A code needs two symbols to be complete. */
		if (freq[0] == 0)
			freq[0] = 1;
		else if (freq[1] == 0)
			freq[1] = 1;
		if (fixed_code || !huffman_lengths(freq, lens))
			memset(lens, 9, sizeof(lens));
		canonical_codes(lens, codes);
		if (cap - b.pos < HUFF_SYMBOLS / 2)
			return 0;
		for (s = 0; s < HUFF_SYMBOLS; s += 2)
			out[b.pos++] = (uint8_t)(lens[s] | lens[s + 1] << 4);
		bw_begin(&b);
		huff_block_pass(in, len, start, end, NULL, &b, lens, codes);
		if (last)
			bw_bits(&b, codes[256], lens[256]);
		bw_end(&b);
		if (b.overflow)
			return 0;
		start = end;
	} while (start < len);
	return b.pos;
}

/* ---- LZNT1 ----------------------------------------------------------- */

#define LZNT1_CHUNK	4096

/* Bits of offset past 4 for a match at <done> bytes into the chunk. */
static unsigned int
lznt1_extra_offset_bits(size_t done)
{
	unsigned int lg = 0;
	size_t n;

	for (n = done - 1; n >= 16; n >>= 1)
		lg++;
	return lg;
}

size_t
xca_encode_lznt1(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
	int terminate)
{
	size_t pos = 0, chunk;

	for (chunk = 0; chunk < len; chunk += LZNT1_CHUNK) {
		size_t chunk_len = len - chunk < LZNT1_CHUNK ? len - chunk :
			LZNT1_CHUNK;
		const uint8_t *c = in + chunk;
		size_t header = pos, data = pos + 2, i = 0;
		int fits = 1;

		if (cap - pos < 2)
			return 0;
		pos = data;
		while (i < chunk_len && fits) {
			size_t flag_pos = pos;
			uint8_t flags = 0;
			unsigned int bit;

			if (pos - data >= chunk_len || cap - pos < 1) {
				fits = 0;
				break;
			}
			pos++;
			for (bit = 0; bit < 8 && i < chunk_len; bit++) {
				size_t off = 0, n = 0;
				unsigned int lg = 0;

				if (i > 0) {
					lg = lznt1_extra_offset_bits(i);
					n = longest_match(c, chunk_len, i, 0,
						(size_t)16 << lg,
						(0xfffu >> lg) + MATCH_MIN, &off);
				}
				if (cap - pos < 2 || pos - data + 2 > chunk_len) {
					fits = 0;
					break;
				}
				if (n >= MATCH_MIN) {
					flags |= (uint8_t)(1u << bit);
					put_le16(out + pos, (uint32_t)(off - 1) <<
						(12 - lg) | (uint32_t)(n - MATCH_MIN));
					pos += 2;
					i += n;
				} else {
					out[pos++] = c[i++];
				}
			}
			out[flag_pos] = flags;
		}
		if (!fits || pos - data >= chunk_len) {
			/* Stored: the chunk's bytes as they are. */
			if (cap - data < chunk_len)
				return 0;
			memcpy(out + data, c, chunk_len);
			pos = data + chunk_len;
			put_le16(out + header, 0x3000 | (uint32_t)(chunk_len - 1));
		} else {
			put_le16(out + header,
				0xb000 | (uint32_t)(pos - data - 1));
		}
	}
	if (terminate) {
		if (cap - pos < 2)
			return 0;
		put_le16(out + pos, 0);
		pos += 2;
	}
	return pos;
}
