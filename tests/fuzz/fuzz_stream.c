/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the stream normaliser: the input is a script of
 * segments (any order, overlapping, with other bytes, across the 2^32
 * wrap), acknowledgements and given-up holes for one direction. Checked on
 * every run, besides memory safety: what is delivered is one contiguous
 * run of sequence numbers; every delivered byte is the first byte
 * accepted at its sequence number (a conflicting one never wins, whether
 * refused or rewritten); and
 * every reference taken is given back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define WINDOW 4096	/* sequence numbers the script plays in */

struct fuzz_buf {
	int refs;
	uint32_t len;
	uint8_t data[];
};

static long live_refs;

static void
buf_hold(void *buf)
{
	((struct fuzz_buf *)buf)->refs++;
	live_refs++;
}

static void
buf_release(void *buf)
{
	struct fuzz_buf *b = buf;

	if (b->refs <= 0)
		abort();
	live_refs--;
	if (--b->refs == 0)
		free(b);
}

static const uint8_t *
buf_read(void *buf, uint32_t offset, uint32_t len, uint8_t *scratch)
{
	struct fuzz_buf *b = buf;

	if ((uint64_t)offset + len > b->len || len > STREAM_READ_MAX)
		abort();
	memcpy(scratch, b->data + offset, len);
	return scratch;
}

static void
buf_write(void *buf, uint32_t offset, const uint8_t *data, uint32_t len)
{
	struct fuzz_buf *b = buf;

	if ((uint64_t)offset + len > b->len)
		abort();
	memcpy(b->data + offset, data, len);
}

static const struct stream_ops ops = {
	buf_hold, buf_release, buf_read, buf_write,
};

/* The first bytes accepted at each sequence number, and what was delivered. */
struct model {
	uint32_t base;
	uint8_t first[WINDOW];
	uint8_t known[WINDOW];
	uint32_t delivered_end;		/* relative to base */
	int delivered_any;
	uint32_t skipped;		/* holes given up */
};

static void
deliver(void *ctx, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct model *m = ctx;
	uint32_t rel = seq - m->base, i;

	/* Contiguous, except across a hole the script gave up. */
	if (m->delivered_any && rel != m->delivered_end && m->skipped == 0)
		abort();
	m->skipped = 0;
	for (i = 0; i < len; i++) {
		uint32_t at = rel + i;

		if (at >= WINDOW)
			abort();
		if (m->known[at] && m->first[at] != data[i])
			abort();
	}
	m->delivered_end = rel + len;
	m->delivered_any = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_params params = { 64, 48, &ops, NULL };
	struct stream_pool *pool;
	struct stream_dir dir;
	struct model *m;
	size_t at = 4;

	if (size < 4)
		return 0;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return 0;
	/* Anywhere in sequence space, the wrap included. */
	memcpy(&m->base, data, 4);
	pool = stream_pool_create(&params);
	if (pool == NULL) {
		free(m);
		return 0;
	}
	stream_dir_init(&dir);
	stream_dir_start(&dir, m->base);

	while (at + 4 <= size) {
		uint8_t op = data[at];
		uint32_t rel = ((uint32_t)data[at + 1] << 8 | data[at + 2]) %
			(WINDOW - 256);
		uint32_t len = data[at + 3];
		struct fuzz_buf *b;
		enum stream_result r;
		uint32_t i;

		at += 4;
		switch (op % 8) {
		case 6:
			stream_dir_ack(pool, &dir, m->base + rel);
			continue;
		case 7:
			/* Deliveries inside the call may jump the hole. */
			m->skipped = 1;
			stream_dir_skip_gap(pool, &dir, deliver, m);
			m->skipped = 0;
			continue;
		default:
			break;
		}
		if (len == 0 || at + len > size)
			break;
		b = malloc(sizeof(*b) + 2 + len);
		if (b == NULL)
			break;
		b->refs = 1;
		b->len = 2 + len;
		b->data[0] = b->data[1] = 0xaa;
		memcpy(b->data + 2, data + at, len);
		at += len;
		live_refs++;
		r = stream_segment(pool, &dir, b, (op & 2) ? b->data + 2 : NULL,
			2, m->base + rel, len,
			1 + at, op & 1, deliver, m);
		if (r == STREAM_ACCEPTED || r == STREAM_UNKEPT ||
				r == STREAM_REWRITTEN) {
			/* Its bytes are now the ones any later copy must repeat,
			 * where none were accepted before. */
			for (i = 0; i < len; i++)
				if (!m->known[rel + i]) {
					m->known[rel + i] = 1;
					m->first[rel + i] = b->data[2 + i];
				}
		}
		buf_release(b);
	}
	stream_dir_clear(pool, &dir);
	if (stream_pool_counters(pool)->kept != 0)
		abort();
	stream_pool_free(pool);
	if (live_refs != 0)
		abort();
	free(m);
	return 0;
}
