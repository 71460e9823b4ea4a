/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stream normaliser on its own: buffers here are plain byte arrays
 * with a reference count, so every hold is checked against a release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stream.h"

struct test_buf {
	int refs;
	uint32_t len;
	uint8_t data[];
};

static int live_refs;

static void
buf_hold(void *buf)
{
	((struct test_buf *)buf)->refs++;
	live_refs++;
}

static void
buf_release(void *buf)
{
	struct test_buf *b = buf;

	assert_true(b->refs > 0);
	b->refs--;
	live_refs--;
	if (b->refs == 0)
		free(b);
}

static const uint8_t *
buf_read(void *buf, uint32_t offset, uint32_t len, uint8_t *scratch)
{
	struct test_buf *b = buf;

	assert_true(offset + len <= b->len);
	/* Copy half the time, as a chained mbuf would. */
	if (offset & 1) {
		memcpy(scratch, b->data + offset, len);
		return scratch;
	}
	return b->data + offset;
}

static void
buf_write(void *buf, uint32_t offset, const uint8_t *data, uint32_t len)
{
	struct test_buf *b = buf;

	assert_true(offset + len <= b->len);
	memcpy(b->data + offset, data, len);
}

static const struct stream_ops test_ops = {
	.hold = buf_hold,
	.release = buf_release,
	.read = buf_read,
	.write = buf_write,
};

/* A "frame": 3 header bytes, then the payload. */
static struct test_buf *
frame(const uint8_t *payload, uint32_t len)
{
	struct test_buf *b = malloc(sizeof(*b) + 3 + len);

	assert_non_null(b);
	b->refs = 1;	/* the caller's, like a received mbuf */
	b->len = 3 + len;
	memset(b->data, 0xee, 3);
	memcpy(b->data + 3, payload, len);
	live_refs++;
	return b;
}

/* What the parser got, and whether it came in order. */
struct sink {
	uint8_t data[8192];
	uint32_t len;
	uint32_t first_seq;
	int calls;
};

static void
sink_deliver(void *ctx, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct sink *s = ctx;

	if (s->calls++ == 0)
		s->first_seq = seq;
	assert_int_equal(seq, s->first_seq + s->len);
	assert_true(s->len + len <= sizeof(s->data));
	memcpy(s->data + s->len, data, len);
	s->len += len;
}

/* Offers <len> bytes of <payload> at <seq>; the caller's reference is dropped. */
static enum stream_result
offer(struct stream_pool *pool, struct stream_dir *dir, uint32_t seq,
	const uint8_t *payload, uint32_t len, bool may_drop, struct sink *s)
{
	struct test_buf *b = frame(payload, len);
	/* Contiguous half the time, as mbufs are unless chained. */
	enum stream_result r = stream_segment(pool, dir, b,
		(seq & 1) ? b->data + 3 : NULL, 3, seq, len, 1000,
		may_drop, sink_deliver, s);

	buf_release(b);
	return r;
}

static struct stream_pool *
pool_of(uint32_t segments, uint32_t dir_segments)
{
	struct stream_params params = {
		.max_segments = segments,
		.dir_max_segments = dir_segments,
		.ops = &test_ops,
	};
	struct stream_pool *pool = stream_pool_create(&params);

	assert_non_null(pool);
	return pool;
}

static uint8_t text[4096];

static int
setup(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(i * 7 + i / 251);
	live_refs = 0;
	return 0;
}

static void
finish(struct stream_pool *pool, struct stream_dir *dir)
{
	stream_dir_clear(pool, dir);
	assert_int_equal(stream_pool_counters(pool)->kept, 0);
	stream_pool_free(pool);
	assert_int_equal(live_refs, 0);
}

static void
test_in_order_and_acks(void **state)
{
	struct stream_pool *pool = pool_of(64, 64);
	struct stream_dir dir;
	struct sink s = { 0 };

	(void)state;
	stream_dir_init(&dir);
	stream_dir_start(&dir, 1000);
	assert_int_equal(offer(pool, &dir, 1000, text, 100, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(offer(pool, &dir, 1100, text + 100, 50, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(s.len, 150);
	assert_memory_equal(s.data, text, 150);
	assert_int_equal(dir.count, 2);
	/* The receiver has the first segment: it is no longer kept. */
	stream_dir_ack(pool, &dir, 1100);
	assert_int_equal(dir.count, 1);
	stream_dir_ack(pool, &dir, 1150);
	assert_int_equal(dir.count, 0);
	assert_int_equal(live_refs, 0);
	finish(pool, &dir);
}

static void
test_reverse_order_waits_for_the_hole(void **state)
{
	struct stream_pool *pool = pool_of(64, 64);
	struct stream_dir dir;
	struct sink s = { 0 };
	int i;

	(void)state;
	stream_dir_init(&dir);
	stream_dir_start(&dir, 0);
	for (i = 9; i >= 1; i--) {
		assert_int_equal(offer(pool, &dir, i * 10, text + i * 10, 10,
			true, &s), STREAM_ACCEPTED);
		/* Nothing is judged while a byte before it is missing. */
		assert_int_equal(s.len, 0);
	}
	assert_true(dir.gap_since_ns != 0);
	assert_int_equal(offer(pool, &dir, 0, text, 10, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(s.len, 100);
	assert_memory_equal(s.data, text, 100);
	assert_int_equal(dir.gap_since_ns, 0);
	assert_int_equal(stream_pool_counters(pool)->out_of_order, 9);
	finish(pool, &dir);
}

/* One-byte segments in a shuffled order, some twice: the text, once. */
static void
test_shuffled_single_bytes(void **state)
{
	struct stream_pool *pool = pool_of(4096, 4096);
	struct stream_dir dir;
	struct sink s = { 0 };
	uint32_t order[600], i, base = 0xfffffe00u;	/* wraps past 2^32 */

	(void)state;
	srand(7);
	for (i = 0; i < 600; i++)
		order[i] = i;
	for (i = 599; i > 0; i--) {
		uint32_t j = (uint32_t)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	stream_dir_init(&dir);
	stream_dir_start(&dir, base);
	for (i = 0; i < 600; i++) {
		enum stream_result r = offer(pool, &dir, base + order[i],
			text + order[i], 1, true, &s);

		assert_true(r == STREAM_ACCEPTED);
		if (i % 5 == 0)	/* a duplicate of one already seen */
			assert_true(offer(pool, &dir, base + order[i / 2],
				text + order[i / 2], 1, true, &s) !=
				STREAM_CONFLICT);
	}
	assert_int_equal(s.len, 600);
	assert_memory_equal(s.data, text, 600);
	assert_int_equal(s.first_seq, base);
	finish(pool, &dir);
}

/*
 * Different bytes where bytes were kept ahead: observing, refused;
 * enforcing, made to repeat the kept ones.
 */
static void
test_overlap_ahead_conflicts(void **state)
{
	struct stream_pool *pool = pool_of(64, 64);
	struct stream_dir dir;
	struct sink s = { 0 };
	uint8_t other[40];

	(void)state;
	memcpy(other, text + 20, sizeof(other));
	other[10] ^= 0x55;
	stream_dir_init(&dir);
	stream_dir_start(&dir, 0);
	assert_int_equal(offer(pool, &dir, 20, text + 20, 40, true, &s),
		STREAM_ACCEPTED);
	/* Overlapping, with one byte changed. */
	assert_int_equal(offer(pool, &dir, 20, other, 40, false, &s),
		STREAM_CONFLICT);
	assert_int_equal(offer(pool, &dir, 20, other, 40, true, &s),
		STREAM_REWRITTEN);
	/* Overlapping from before, same bytes, longer: fine. */
	assert_int_equal(offer(pool, &dir, 10, text + 10, 60, true, &s),
		STREAM_ACCEPTED);
	/* A segment filling the hole that differs in the kept part. */
	memcpy(other, text, sizeof(other));
	other[35] ^= 1;
	assert_int_equal(offer(pool, &dir, 0, other, 40, false, &s),
		STREAM_CONFLICT);
	assert_int_equal(s.len, 0);
	assert_int_equal(offer(pool, &dir, 0, other, 40, true, &s),
		STREAM_REWRITTEN);
	/* Judged: the first bytes, not the other ones. */
	assert_int_equal(s.len, 70);
	assert_memory_equal(s.data, text, 70);
	assert_int_equal(stream_pool_counters(pool)->conflicts, 4);
	assert_int_equal(stream_pool_counters(pool)->rewritten, 2);
	finish(pool, &dir);
}

/* A retransmission of judged bytes must repeat them. */
static void
test_retransmission_compared(void **state)
{
	struct stream_pool *pool = pool_of(64, 64);
	struct stream_dir dir;
	struct sink s = { 0 };
	uint8_t other[50];

	(void)state;
	stream_dir_init(&dir);
	stream_dir_start(&dir, 500);
	assert_int_equal(offer(pool, &dir, 500, text, 50, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(offer(pool, &dir, 500, text, 50, true, &s),
		STREAM_OLD);
	memcpy(other, text, sizeof(other));
	other[49] = (uint8_t)~other[49];
	assert_int_equal(offer(pool, &dir, 500, other, 50, false, &s),
		STREAM_CONFLICT);
	assert_int_equal(offer(pool, &dir, 500, other, 50, true, &s),
		STREAM_REWRITTEN_OLD);
	/* Partly old, partly new: the old part is checked, the new judged. */
	assert_int_equal(offer(pool, &dir, 530, text + 30, 40, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(s.len, 70);
	assert_memory_equal(s.data, text, 70);
	/* Once acknowledged, old bytes are the receiver's: nothing to compare. */
	stream_dir_ack(pool, &dir, 570);
	assert_int_equal(offer(pool, &dir, 500, other, 50, true, &s),
		STREAM_OLD);
	assert_int_equal(stream_pool_counters(pool)->retransmitted_bytes,
		50 + 50 + 20 + 50);
	finish(pool, &dir);
}

/* Partly judged, partly overlapping bytes kept ahead: both parts checked. */
static void
test_old_and_ahead_in_one_segment(void **state)
{
	struct stream_pool *pool = pool_of(64, 64);
	struct stream_dir dir;
	struct sink s = { 0 };
	uint8_t other[30];

	(void)state;
	stream_dir_init(&dir);
	stream_dir_start(&dir, 0);
	assert_int_equal(offer(pool, &dir, 0, text, 20, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(offer(pool, &dir, 30, text + 30, 10, true, &s),
		STREAM_ACCEPTED);
	memcpy(other, text + 10, sizeof(other));
	other[25] ^= 0x80;	/* sequence 35, kept ahead */
	assert_int_equal(offer(pool, &dir, 10, other, 30, false, &s),
		STREAM_CONFLICT);
	assert_int_equal(s.len, 20);
	assert_int_equal(offer(pool, &dir, 10, other, 30, true, &s),
		STREAM_REWRITTEN);
	assert_int_equal(s.len, 40);
	assert_memory_equal(s.data, text, 40);
	finish(pool, &dir);
}

static void
test_budget(void **state)
{
	struct stream_pool *pool = pool_of(16, 4);
	struct stream_dir dir, other, third, fourth;
	struct sink s = { 0 }, t = { 0 }, u = { 0 }, v = { 0 };
	int i;

	(void)state;
	stream_dir_init(&dir);
	stream_dir_init(&other);
	stream_dir_init(&third);
	stream_dir_init(&fourth);
	stream_dir_start(&dir, 0);
	stream_dir_start(&other, 0);
	stream_dir_start(&third, 0);
	stream_dir_start(&fourth, 0);
	/* Four ahead of a hole: the direction's cap for segments ahead. */
	for (i = 1; i <= 4; i++)
		assert_int_equal(offer(pool, &dir, i * 10, text + i * 10, 10,
			true, &s), STREAM_ACCEPTED);
	assert_int_equal(offer(pool, &dir, 50, text + 50, 10, true, &s),
		STREAM_NO_ROOM);
	/* The segment filling the hole is always taken: no deadlock. */
	assert_int_equal(offer(pool, &dir, 0, text, 10, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(s.len, 50);
	/* In order, up to twice the cap in all. */
	for (i = 5; i < 8; i++)
		assert_int_equal(offer(pool, &dir, i * 10, text + i * 10, 10,
			true, &s), STREAM_ACCEPTED);
	assert_int_equal(dir.count, 8);
	assert_int_equal(offer(pool, &dir, 80, text + 80, 10, true, &s),
		STREAM_NO_ROOM);
	assert_int_equal(s.len, 80);
	/* Where nothing can be dropped, in-order bytes are judged unkept. */
	assert_int_equal(offer(pool, &dir, 80, text + 80, 10, false, &s),
		STREAM_UNKEPT);
	assert_int_equal(s.len, 90);
	/* Acknowledged bytes make room again. */
	stream_dir_ack(pool, &dir, 20);
	assert_int_equal(offer(pool, &dir, 90, text + 90, 10, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(dir.count, 7);
	/* Holes may hold half the pool (8 of 16), across directions. */
	for (i = 1; i <= 4; i++) {
		assert_int_equal(offer(pool, &other, i * 10, text + i * 10, 10,
			true, &t), STREAM_ACCEPTED);
		assert_int_equal(offer(pool, &third, i * 10, text + i * 10, 10,
			true, &u), STREAM_ACCEPTED);
	}
	assert_int_equal(offer(pool, &fourth, 10, text + 10, 10, true, &v),
		STREAM_NO_ROOM);
	/* In order, the rest of the pool (16 - 7 - 8 = 1). */
	assert_int_equal(offer(pool, &fourth, 0, text, 10, true, &v),
		STREAM_ACCEPTED);
	assert_int_equal(stream_pool_counters(pool)->kept, 16);
	assert_int_equal(offer(pool, &fourth, 10, text + 10, 10, true, &v),
		STREAM_NO_ROOM);
	stream_dir_clear(pool, &other);
	stream_dir_clear(pool, &third);
	stream_dir_clear(pool, &fourth);
	/* Cleared holes give their half back. */
	stream_dir_start(&fourth, 0);
	assert_int_equal(offer(pool, &fourth, 20, text + 20, 10, true, &v),
		STREAM_ACCEPTED);
	stream_dir_clear(pool, &fourth);
	finish(pool, &dir);
}

/*
 * A stream picked up in the middle: bytes before its start that the
 * receiver has not acknowledged were never judged and are refused where
 * the caller enforces; once acknowledged they are the receiver's.
 */
static void
test_unseen_old_bytes(void **state)
{
	struct stream_pool *pool = pool_of(64, 64);
	struct stream_dir dir;
	struct sink s = { 0 };

	(void)state;
	stream_dir_init(&dir);
	assert_int_equal(offer(pool, &dir, 100, text + 100, 20, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(offer(pool, &dir, 80, text + 80, 30, true, &s),
		STREAM_UNSEEN_OLD);
	assert_int_equal(offer(pool, &dir, 80, text + 80, 20, true, &s),
		STREAM_UNSEEN_OLD);
	/* Observing, nothing is refused: old bytes are passed over. */
	assert_int_equal(offer(pool, &dir, 80, text + 80, 20, false, &s),
		STREAM_OLD);
	stream_dir_ack(pool, &dir, 100);
	assert_int_equal(offer(pool, &dir, 80, text + 80, 20, true, &s),
		STREAM_OLD);
	assert_int_equal(s.len, 20);
	assert_int_equal(stream_pool_counters(pool)->unseen_old, 2);
	finish(pool, &dir);
}

static void
test_skip_gap(void **state)
{
	struct stream_pool *pool = pool_of(64, 64);
	struct stream_dir dir;
	struct sink s = { 0 };

	(void)state;
	stream_dir_init(&dir);
	stream_dir_start(&dir, 0);
	assert_int_equal(offer(pool, &dir, 0, text, 10, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(offer(pool, &dir, 30, text + 30, 10, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(offer(pool, &dir, 40, text + 40, 10, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(s.len, 10);
	/* Giving the hole up judges what waited behind it. */
	s.first_seq += 20;	/* the sink expects the jump */
	assert_int_equal(stream_dir_skip_gap(pool, &dir, sink_deliver, &s), 20);
	assert_int_equal(s.len, 30);
	assert_memory_equal(s.data + 10, text + 30, 20);
	assert_int_equal(dir.next_seq, 50);
	assert_int_equal(dir.gap_since_ns, 0);
	assert_int_equal(stream_pool_counters(pool)->gap_bytes, 20);
	finish(pool, &dir);
}

/* Bytes known to be gone (a capture cut short) are given up at once. */
static void
test_skip_to(void **state)
{
	struct stream_pool *pool = pool_of(64, 64);
	struct stream_dir dir;
	struct sink s = { 0 };

	(void)state;
	stream_dir_init(&dir);
	stream_dir_start(&dir, 0);
	assert_int_equal(offer(pool, &dir, 0, text, 10, true, &s),
		STREAM_ACCEPTED);
	/* Not ahead of what was judged: nothing to give up. */
	assert_int_equal(stream_dir_skip_to(pool, &dir, 10, 0, sink_deliver,
		&s), 0);
	assert_int_equal(stream_dir_skip_to(pool, &dir, 5, 0, sink_deliver,
		&s), 0);
	assert_int_equal(dir.next_seq, 10);
	/* Waiting at 40: a skip to 60 stops there and judges it. */
	assert_int_equal(offer(pool, &dir, 40, text + 40, 10, true, &s),
		STREAM_ACCEPTED);
	assert_int_equal(s.len, 10);
	/* Behind what was judged, even with a segment ahead: nothing. */
	assert_int_equal(stream_dir_skip_to(pool, &dir, 5, 0, sink_deliver,
		&s), 0);
	assert_int_equal(dir.next_seq, 10);
	s.first_seq += 30;	/* the sink expects the jump */
	assert_int_equal(stream_dir_skip_to(pool, &dir, 60, 7, sink_deliver,
		&s), 30);
	assert_int_equal(s.len, 20);
	assert_memory_equal(s.data + 10, text + 40, 10);
	assert_int_equal(dir.next_seq, 50);
	assert_int_equal(dir.gap_since_ns, 0);
	/* Nothing ahead: the whole span. */
	assert_int_equal(stream_dir_skip_to(pool, &dir, 64, 8, sink_deliver,
		&s), 14);
	assert_int_equal(dir.next_seq, 64);
	assert_int_equal(stream_pool_counters(pool)->gaps_skipped, 2);
	assert_int_equal(stream_pool_counters(pool)->gap_bytes, 44);
	finish(pool, &dir);
}

static void
test_bad_params(void **state)
{
	struct stream_params params = { 1, 1, &test_ops, NULL };

	(void)state;
	assert_null(stream_pool_create(&params));
	params.max_segments = 4;
	params.dir_max_segments = STREAM_DIR_SEGMENTS_MAX + 1;
	assert_null(stream_pool_create(&params));
	params.dir_max_segments = 2;
	params.ops = NULL;
	assert_null(stream_pool_create(&params));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_in_order_and_acks, setup),
		cmocka_unit_test_setup(test_skip_to, setup),
		cmocka_unit_test_setup(test_reverse_order_waits_for_the_hole,
			setup),
		cmocka_unit_test_setup(test_shuffled_single_bytes, setup),
		cmocka_unit_test_setup(test_overlap_ahead_conflicts, setup),
		cmocka_unit_test_setup(test_retransmission_compared, setup),
		cmocka_unit_test_setup(test_old_and_ahead_in_one_segment, setup),
		cmocka_unit_test_setup(test_budget, setup),
		cmocka_unit_test_setup(test_unseen_old_bytes, setup),
		cmocka_unit_test_setup(test_skip_gap, setup),
		cmocka_unit_test_setup(test_bad_params, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
