/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/* Sequence arithmetic modulo 2^32 (RFC 793): a before b. */
static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return stream_seq_lt(a, b);
}

static inline bool
seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline uint32_t
seq_max(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? b : a;
}

static inline uint32_t
seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

size_t
stream_pool_bytes(const struct stream_params *params)
{
	return (size_t)params->max_segments * sizeof(struct stream_seg);
}

struct stream_pool *
stream_pool_create(const struct stream_params *params)
{
	struct stream_pool *pool;
	uint32_t i;

	if (params->ops == NULL || params->max_segments < 2 ||
			params->max_segments >= STREAM_SEG_NONE ||
			params->dir_max_segments == 0 ||
			params->dir_max_segments > STREAM_DIR_SEGMENTS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	pool->params = *params;
	pool->counters = params->counters != NULL ? params->counters :
		&pool->own_counters;
	pool->segs = calloc(params->max_segments, sizeof(*pool->segs));
	if (pool->segs == NULL) {
		free(pool);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < params->max_segments; i++)
		pool->segs[i].next = i + 1 < params->max_segments ? i + 1 :
			STREAM_SEG_NONE;
	pool->free_head = 0;
	return pool;
}

void
stream_pool_free(struct stream_pool *pool)
{
	if (pool == NULL)
		return;
	free(pool->segs);
	free(pool);
}

const struct stream_counters *
stream_pool_counters(const struct stream_pool *pool)
{
	return pool->counters;
}

/*
 * A record for <buf>'s bytes, with a reference taken; NONE when full.
 * Segments waiting <ahead> of a hole may take half the pool and
 * dir_max_segments of a direction; a segment in order may take what is
 * left, up to twice that per direction. So a direction full of segments
 * ahead still takes the one that fills the hole (it would otherwise be
 * dropped for ever: a deadlock), and holes cannot starve the flows whose
 * bytes arrive in order.
 */
static uint32_t
seg_keep(struct stream_pool *pool, struct stream_dir *dir, void *buf,
	uint32_t offset, uint32_t seq, uint32_t len, bool ahead)
{
	uint32_t index = pool->free_head;
	uint32_t dir_max = pool->params.dir_max_segments;
	struct stream_seg *seg;

	if (index == STREAM_SEG_NONE || (ahead ?
			dir->ahead_count >= dir_max ||
			pool->ahead_kept >= pool->params.max_segments / 2 :
			dir->count >= 2 * dir_max)) {
		pool->counters->no_room++;
		return STREAM_SEG_NONE;
	}
	if (ahead) {
		dir->ahead_count++;
		pool->ahead_kept++;
	}
	seg = &pool->segs[index];
	pool->free_head = seg->next;
	pool->params.ops->hold(buf);
	seg->buf = buf;
	seg->seq = seq;
	seg->len = len;
	seg->offset = offset;
	seg->next = STREAM_SEG_NONE;
	dir->count++;
	if (++pool->counters->kept > pool->counters->kept_max)
		pool->counters->kept_max = pool->counters->kept;
	return index;
}

/* A segment kept ahead that is judged now, or released. */
static void
seg_leaves_ahead(struct stream_pool *pool, struct stream_dir *dir)
{
	dir->ahead_count--;
	pool->ahead_kept--;
}

static void
seg_release(struct stream_pool *pool, struct stream_dir *dir, uint32_t index)
{
	stream_seg_release_inline(pool, pool->params.ops, dir, index);
}

static void
judged_append(struct stream_pool *pool, struct stream_dir *dir,
	uint32_t index)
{
	pool->segs[index].next = STREAM_SEG_NONE;
	if (dir->judged_tail == STREAM_SEG_NONE)
		dir->judged_head = index;
	else
		pool->segs[dir->judged_tail].next = index;
	dir->judged_tail = index;
}

/* Delivers <len> bytes of <buf> from <offset>, <seq> being the first's. */
static void
deliver_bytes(struct stream_pool *pool, void *buf, uint32_t offset,
	uint32_t seq, uint32_t len, stream_deliver_fn deliver, void *ctx)
{
	pool->counters->delivered_bytes += len;
	while (len > 0) {
		uint32_t chunk = len < STREAM_READ_MAX ? len : STREAM_READ_MAX;
		const uint8_t *data = pool->params.ops->read(buf, offset, chunk,
			pool->scratch[0]);

		deliver(ctx, seq, data, chunk);
		offset += chunk;
		seq += chunk;
		len -= chunk;
	}
}

/* Whether <len> bytes of two buffers are the same. */
static bool
same_bytes(struct stream_pool *pool, void *a, uint32_t a_offset, void *b,
	uint32_t b_offset, uint32_t len)
{
	while (len > 0) {
		uint32_t chunk = len < STREAM_READ_MAX ? len : STREAM_READ_MAX;
		const uint8_t *pa = pool->params.ops->read(a, a_offset, chunk,
			pool->scratch[0]);
		const uint8_t *pb = pool->params.ops->read(b, b_offset, chunk,
			pool->scratch[1]);

		if (memcmp(pa, pb, chunk) != 0)
			return false;
		a_offset += chunk;
		b_offset += chunk;
		len -= chunk;
	}
	return true;
}

/* How the bytes of a segment compare with those kept. */
enum agreement {
	AGREE,		/* the same wherever they overlap */
	REWRITTEN,	/* differed, and now hold the kept bytes */
	DIFFER,		/* differ, left as they are */
};

/* Puts <len> bytes of <from> (at <from_offset>) into <to> at <to_offset>. */
static void
copy_bytes(struct stream_pool *pool, void *to, uint32_t to_offset,
	void *from, uint32_t from_offset, uint32_t len)
{
	while (len > 0) {
		uint32_t chunk = len < STREAM_READ_MAX ? len : STREAM_READ_MAX;
		const uint8_t *p = pool->params.ops->read(from, from_offset,
			chunk, pool->scratch[0]);

		pool->params.ops->write(to, to_offset, p, chunk);
		to_offset += chunk;
		from_offset += chunk;
		len -= chunk;
	}
}

/*
 * Compares the bytes [seq, end) of <buf> (at <offset> for <seq>) with
 * every kept segment of the list from <index> that overlaps them; with
 * <rewrite>, bytes that differ are overwritten with the kept ones. The
 * list is in sequence order, so the walk stops at the first segment that
 * starts at or after <end>.
 */
static enum agreement
compare_kept(struct stream_pool *pool, uint32_t index, void *buf,
	uint32_t offset, uint32_t seq, uint32_t end, bool rewrite)
{
	enum agreement result = AGREE;

	for (; index != STREAM_SEG_NONE; index = pool->segs[index].next) {
		const struct stream_seg *seg = &pool->segs[index];
		uint32_t seg_end = seg->seq + seg->len;
		uint32_t from, to;

		if (!seq_lt(seg->seq, end))
			break;
		if (seq_leq(seg_end, seq))
			continue;
		from = seq_max(seq, seg->seq);
		to = seq_min(end, seg_end);
		if (same_bytes(pool, buf, offset + (from - seq), seg->buf,
				seg->offset + (from - seg->seq), to - from))
			continue;
		if (!rewrite)
			return DIFFER;
		copy_bytes(pool, buf, offset + (from - seq), seg->buf,
			seg->offset + (from - seg->seq), to - from);
		result = REWRITTEN;
	}
	return result;
}

/*
 * Moves the segments waiting ahead that next_seq has reached to the
 * judged list, delivering the bytes of each that are new.
 */
static void
pull_ahead(struct stream_pool *pool, struct stream_dir *dir, uint64_t now_ns,
	stream_deliver_fn deliver, void *ctx)
{
	while (dir->ahead_head != STREAM_SEG_NONE) {
		uint32_t index = dir->ahead_head;
		struct stream_seg *seg = &pool->segs[index];
		uint32_t seg_end = seg->seq + seg->len;

		if (seq_lt(dir->next_seq, seg->seq))
			break;
		dir->ahead_head = seg->next;
		seg_leaves_ahead(pool, dir);
		if (!seq_lt(dir->next_seq, seg_end)) {
			/* Covered by what was judged: nothing new in it. */
			seg_release(pool, dir, index);
			continue;
		}
		deliver_bytes(pool, seg->buf,
			seg->offset + (dir->next_seq - seg->seq), dir->next_seq,
			seg_end - dir->next_seq, deliver, ctx);
		dir->next_seq = seg_end;
		judged_append(pool, dir, index);
	}
	/* What still waits ahead waits for a new hole, from now. */
	dir->gap_since_ns = dir->ahead_head == STREAM_SEG_NONE ? 0 :
		(now_ns != 0 ? now_ns : 1);
}

/* Puts segment <index> on the ahead list, in sequence order. */
static void
ahead_insert(struct stream_pool *pool, struct stream_dir *dir, uint32_t index)
{
	struct stream_seg *seg = &pool->segs[index];
	uint32_t *link = &dir->ahead_head;

	while (*link != STREAM_SEG_NONE &&
			seq_leq(pool->segs[*link].seq, seg->seq))
		link = &pool->segs[*link].next;
	seg->next = *link;
	*link = index;
}

/*
 * Whether the old bytes [seq, end) hold some that were never judged here
 * and that the receiver may not have: before the first kept segment and
 * not acknowledged. Only a stream picked up in the middle has such bytes
 * (its earlier bytes sent late); after a hole was given up, they are the
 * hole's, which the receiver still needs.
 */
static bool
unseen_old_bytes(const struct stream_pool *pool, const struct stream_dir *dir,
	uint32_t seq, uint32_t end)
{
	uint32_t floor = dir->judged_head != STREAM_SEG_NONE ?
		pool->segs[dir->judged_head].seq : dir->next_seq;
	uint32_t from = seq;

	if (dir->flags & STREAM_DIR_SKIPPED)
		return false;
	if (dir->flags & STREAM_DIR_ACKED)
		from = seq_max(seq, dir->acked);
	return seq_lt(from, seq_min(end, floor));
}

enum stream_result
stream_segment(struct stream_pool *pool, struct stream_dir *dir, void *buf,
	const uint8_t *data, uint32_t offset, uint32_t seq, uint32_t len,
	uint64_t now_ns, bool may_drop, stream_deliver_fn deliver, void *ctx)
{
	uint32_t end = seq + len;
	enum agreement agreement;
	bool rewrite, rewritten = false;
	uint32_t index;

	/* The common case first: in order, nothing to compare. */
	if (likely(stream_segment_next(pool, pool->params.ops, dir, buf, data,
			offset, seq, len, deliver, ctx)))
		return STREAM_ACCEPTED;
	/* The same without a record: dropped, or judged unkept. */
	if (data != NULL && seq == dir->next_seq &&
			dir->ahead_head == STREAM_SEG_NONE &&
			(dir->flags & STREAM_DIR_STARTED) && len != 0) {
		pool->counters->no_room++;
		if (may_drop)
			return STREAM_NO_ROOM;
		pool->counters->delivered_bytes += len;
		deliver(ctx, seq, data, len);
		dir->next_seq = end;
		return STREAM_UNKEPT;
	}
	if (len == 0)
		return STREAM_OLD;
	if (!(dir->flags & STREAM_DIR_STARTED))
		stream_dir_start(dir, seq);

	/*
	 * Bytes judged already, or waiting ahead: a retransmission must
	 * repeat them. Where it does not and the caller enforces, it is made
	 * to (the receiver gets the bytes judged first, whatever its own
	 * overlap rule); otherwise it is refused.
	 */
	rewrite = may_drop && pool->params.ops->write != NULL;
	if (seq_lt(seq, dir->next_seq)) {
		uint32_t old_end = seq_min(end, dir->next_seq);

		if (may_drop && unseen_old_bytes(pool, dir, seq, old_end)) {
			pool->counters->unseen_old++;
			return STREAM_UNSEEN_OLD;
		}

		agreement = compare_kept(pool, dir->judged_head, buf, offset,
			seq, old_end, rewrite);
		if (agreement == DIFFER) {
			pool->counters->conflicts++;
			return STREAM_CONFLICT;
		}
		if (agreement == REWRITTEN)
			rewritten = true;
		if (seq_leq(end, dir->next_seq)) {
			pool->counters->retransmitted_bytes += len;
			if (rewritten) {
				pool->counters->conflicts++;
				pool->counters->rewritten++;
				return STREAM_REWRITTEN_OLD;
			}
			return STREAM_OLD;
		}
		pool->counters->retransmitted_bytes += old_end - seq;
	}
	if (dir->ahead_head != STREAM_SEG_NONE) {
		uint32_t from = seq_max(seq, dir->next_seq);

		agreement = compare_kept(pool, dir->ahead_head, buf,
			offset + (from - seq), from, end, rewrite);
		if (agreement == DIFFER) {
			pool->counters->conflicts++;
			return STREAM_CONFLICT;
		}
		if (agreement == REWRITTEN)
			rewritten = true;
	}
	if (rewritten) {
		pool->counters->conflicts++;
		pool->counters->rewritten++;
	}
	index = seg_keep(pool, dir, buf, offset, seq, len,
		seq_lt(dir->next_seq, seq));
	if (index == STREAM_SEG_NONE) {
		if (may_drop || seq_lt(dir->next_seq, seq))
			return STREAM_NO_ROOM;
		/* Nothing will be dropped: judge it all the same, unkept. */
		deliver_bytes(pool, buf, offset + (dir->next_seq - seq),
			dir->next_seq, end - dir->next_seq, deliver, ctx);
		dir->next_seq = end;
		if (dir->ahead_head != STREAM_SEG_NONE)
			pull_ahead(pool, dir, now_ns, deliver, ctx);
		return STREAM_UNKEPT;
	}

	if (seq_lt(dir->next_seq, seq)) {
		/* Ahead of a hole: kept, judged when the hole fills. */
		pool->counters->out_of_order++;
		ahead_insert(pool, dir, index);
		if (dir->gap_since_ns == 0)
			dir->gap_since_ns = now_ns != 0 ? now_ns : 1;
		return rewritten ? STREAM_REWRITTEN : STREAM_ACCEPTED;
	}
	deliver_bytes(pool, buf, offset + (dir->next_seq - seq), dir->next_seq,
		end - dir->next_seq, deliver, ctx);
	dir->next_seq = end;
	judged_append(pool, dir, index);
	if (dir->ahead_head != STREAM_SEG_NONE)
		pull_ahead(pool, dir, now_ns, deliver, ctx);
	return rewritten ? STREAM_REWRITTEN : STREAM_ACCEPTED;
}

void
stream_dir_ack(struct stream_pool *pool, struct stream_dir *dir, uint32_t ack)
{
	stream_dir_ack_inline(pool, pool->params.ops, dir, ack);
}

uint32_t
stream_dir_skip_gap(struct stream_pool *pool, struct stream_dir *dir,
	stream_deliver_fn deliver, void *ctx)
{
	uint32_t skipped;

	if (dir->ahead_head == STREAM_SEG_NONE)
		return 0;
	skipped = pool->segs[dir->ahead_head].seq - dir->next_seq;
	dir->next_seq = pool->segs[dir->ahead_head].seq;
	dir->flags |= STREAM_DIR_SKIPPED;
	pool->counters->gaps_skipped++;
	pool->counters->gap_bytes += skipped;
	pull_ahead(pool, dir, dir->gap_since_ns, deliver, ctx);
	return skipped;
}

uint32_t
stream_dir_skip_to(struct stream_pool *pool, struct stream_dir *dir,
	uint32_t seq, uint64_t now_ns, stream_deliver_fn deliver, void *ctx)
{
	uint32_t skipped;

	if (!seq_lt(dir->next_seq, seq))
		return 0;
	seq = stream_dir_hole_end(pool, dir, seq);
	skipped = seq - dir->next_seq;
	dir->next_seq = seq;
	dir->flags |= STREAM_DIR_SKIPPED;
	pool->counters->gaps_skipped++;
	pool->counters->gap_bytes += skipped;
	if (dir->ahead_head != STREAM_SEG_NONE)
		pull_ahead(pool, dir, now_ns, deliver, ctx);
	return skipped;
}

static void
release_list(struct stream_pool *pool, struct stream_dir *dir,
	uint32_t index)
{
	while (index != STREAM_SEG_NONE) {
		uint32_t next = pool->segs[index].next;

		seg_release(pool, dir, index);
		index = next;
	}
}

void
stream_dir_clear(struct stream_pool *pool, struct stream_dir *dir)
{
	release_list(pool, dir, dir->judged_head);
	pool->ahead_kept -= dir->ahead_count;
	release_list(pool, dir, dir->ahead_head);
	stream_dir_init(dir);
}
