/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_STREAM_H
#define SMBGW_STREAM_H

/*
 * TCP stream normalisation for the flows the gateway inspects: the bytes
 * the parser judges are exactly the bytes the receiver's TCP will deliver
 * to its application.
 *
 * Per direction of a connection, a stream_dir knows the next byte to judge
 * (next_seq) and keeps, in sequence order, a reference to every segment
 * it let through that the receiver has not acknowledged yet:
 *
 *  - a segment at next_seq is judged: its new bytes, and those of kept
 *    segments that it puts in order, go to the deliver callback (the
 *    parser), in order, once;
 *  - a segment ahead of next_seq is kept, not judged. It may be forwarded:
 *    the receiver cannot hand its bytes to the application before the
 *    missing bytes arrive, and those pass here first, so the verdict is
 *    taken on the segment that fills the gap (drop it, and nothing after
 *    the gap is ever delivered);
 *  - bytes seen before (retransmissions, overlaps) are compared with the
 *    kept copy: the same bytes are a harmless retransmission; different
 *    bytes are rewritten to the kept ones where the caller enforces
 *    (STREAM_REWRITTEN: the caller fixes the checksum and forwards it), so
 *    the receiver only ever gets the first-judged bytes whichever copy its
 *    own TCP would keep; elsewhere they are STREAM_CONFLICT, not judged;
 *  - a segment that cannot be kept within the budget is STREAM_NO_ROOM:
 *    the caller drops it, the sender retransmits it later.
 *
 * Kept segments are released when the receiver acknowledges them
 * (stream_dir_ack()). Buffers are the caller's (mbufs in the data path):
 * the library takes and drops references through stream_ops and reads
 * bytes through it, so it has no DPDK types and is fuzzed on its own.
 * No allocation after stream_pool_create(); one pool per worker.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the library needs from the caller's buffers. */
struct stream_ops {
	/* Takes one more reference to <buf>. */
	void (*hold)(void *buf);
	/* Drops one reference. */
	void (*release)(void *buf);
	/*
	 * Returns <len> bytes (at most STREAM_READ_MAX) at <offset> of
	 * <buf>: a pointer into it, or <scratch> filled with a copy.
	 */
	const uint8_t *(*read)(void *buf, uint32_t offset, uint32_t len,
		uint8_t *scratch);
	/*
	 * Writes <len> bytes at <offset> of <buf>: to make a segment repeat
	 * the bytes judged first. NULL: segments are never rewritten, only
	 * refused.
	 */
	void (*write)(void *buf, uint32_t offset, const uint8_t *data,
		uint32_t len);
};

#define STREAM_READ_MAX 2048

struct stream_counters;

/*
 * Segment records in all (at least 2), and per direction of a connection
 * at most dir_max_segments ahead of a hole and twice that in all (see
 * stream.c, seg_keep()).
 */
struct stream_params {
	uint32_t max_segments;
	uint32_t dir_max_segments;
	const struct stream_ops *ops;
	/* Where to count (e.g. inside the caller's counters); NULL: the pool's own. */
	struct stream_counters *counters;
};

struct stream_pool;

#define STREAM_SEG_NONE UINT32_MAX

/* Most segments one direction keeps ahead of a hole (ahead_count: 16 bits). */
#define STREAM_DIR_SEGMENTS_MAX 65535

/* stream_dir.flags */
#define STREAM_DIR_STARTED	0x01	/* next_seq is known */
#define STREAM_DIR_ACKED	0x02	/* acked is known */
#define STREAM_DIR_SKIPPED	0x04	/* a hole was given up */

/*
 * One direction of a connection, embedded in the caller's state: 40
 * bytes. Kept segments sit on two lists in sequence order: those judged
 * (entirely before next_seq), waiting for the receiver's acknowledgement,
 * and those ahead of a hole, waiting for it to fill.
 */
struct stream_dir {
	uint32_t next_seq;	/* every byte before it has been delivered */
	uint32_t acked;		/* the receiver has every byte before it */
	uint32_t judged_head;
	uint32_t judged_tail;
	uint32_t ahead_head;
	uint32_t count;		/* segments kept, both lists */
	uint16_t ahead_count;	/* ... of which ahead of a hole */
	uint8_t flags;
	uint8_t pad;
	uint64_t gap_since_ns;	/* since when segments wait ahead; 0: none */
};

/* Where the bytes judged in order go: <seq> is that of data[0]. */
typedef void (*stream_deliver_fn)(void *ctx, uint32_t seq,
	const uint8_t *data, uint32_t len);

enum stream_result {
	STREAM_ACCEPTED,	/* forward: kept, and judged if in order */
	STREAM_OLD,		/* forward: bytes judged already, unchanged */
	STREAM_CONFLICT,	/* bytes differ from those seen first: not judged */
	STREAM_NO_ROOM,		/* drop: cannot be kept within the budget */
	STREAM_UNKEPT,		/* forward: judged in order but not kept */
	/* Forward, after fixing its checksum: bytes that differed from
	 * those seen first now hold them (kept, and judged if in order). */
	STREAM_REWRITTEN,
	STREAM_REWRITTEN_OLD,	/* the same, for a segment of old bytes only */
	/*
	 * Drop: bytes before where the stream was picked up (or kept from)
	 * that the receiver has not acknowledged: never judged here. The
	 * sender retransmits them once the receiver's ACK is known.
	 */
	STREAM_UNSEEN_OLD,
};

/* What stream_segment() and stream_dir_ack() saw, for counters. */
struct stream_counters {
	uint64_t delivered_bytes;	/* judged, in order */
	uint64_t out_of_order;		/* segments kept ahead of a gap */
	uint64_t retransmitted_bytes;	/* seen again, the same */
	uint64_t conflicts;		/* segments with different bytes */
	uint64_t rewritten;		/* ... made to repeat the first ones */
	uint64_t no_room;		/* segments not kept: budget */
	uint64_t gaps_skipped;		/* holes given up (stream_dir_skip_gap) */
	uint64_t gap_bytes;		/* bytes never seen in those holes */
	uint64_t acked_unseen;		/* acknowledgements beyond next_seq */
	uint64_t unseen_old;		/* segments of never-judged old bytes */
	uint64_t kept;			/* segment records in use now */
	uint64_t kept_max;		/* ... at most */
};

/*
 * A kept segment: <len> bytes at <offset> of <buf>, from sequence <seq>.
 * Here, with the pool, for the inline fast paths below only: callers use
 * the functions.
 */
struct stream_seg {
	void *buf;
	uint32_t seq;
	uint32_t len;
	uint32_t offset;
	uint32_t next;		/* in its list, or the free list */
};

struct stream_pool {
	struct stream_params params;
	struct stream_seg *segs;
	uint32_t free_head;
	uint32_t ahead_kept;	/* records on ahead lists */
	struct stream_counters *counters;	/* params.counters, or own */
	struct stream_counters own_counters;
	uint8_t scratch[2][STREAM_READ_MAX];
};

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* Sequence arithmetic modulo 2^32 (RFC 793): a before b. */
static inline bool
stream_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* Returns NULL with errno set (EINVAL, ENOMEM) on failure. */
struct stream_pool *
stream_pool_create(const struct stream_params *params);

/* Frees <pool>; every stream_dir must have been cleared before. */
void
stream_pool_free(struct stream_pool *pool);

const struct stream_counters *
stream_pool_counters(const struct stream_pool *pool);

/* Bytes of records that stream_pool_create() allocates for <params>. */
size_t
stream_pool_bytes(const struct stream_params *params);

static inline void
stream_dir_init(struct stream_dir *dir)
{
	dir->next_seq = 0;
	dir->acked = 0;
	dir->judged_head = dir->judged_tail = STREAM_SEG_NONE;
	dir->ahead_head = STREAM_SEG_NONE;
	dir->count = 0;
	dir->ahead_count = 0;
	dir->flags = 0;
	dir->gap_since_ns = 0;
}

/* The next byte to judge is <seq> (from a SYN, or the first segment seen). */
static inline void
stream_dir_start(struct stream_dir *dir, uint32_t seq)
{
	dir->next_seq = seq;
	dir->flags |= STREAM_DIR_STARTED;
}

/* A FIN at <seq> takes one sequence number, once the bytes before it are in. */
static inline void
stream_dir_fin(struct stream_dir *dir, uint32_t seq)
{
	if ((dir->flags & STREAM_DIR_STARTED) && dir->next_seq == seq)
		dir->next_seq = seq + 1;
}

static inline bool
stream_dir_started(const struct stream_dir *dir)
{
	return (dir->flags & STREAM_DIR_STARTED) != 0;
}

/*
 * Where a hole from next_seq up to <seq> would end: <seq>, or the first
 * segment kept ahead where that starts before it (any, with <seq>
 * next_seq - 1: the far end of the sequence space).
 */
static inline uint32_t
stream_dir_hole_end(const struct stream_pool *pool,
	const struct stream_dir *dir, uint32_t seq)
{
	if (dir->ahead_head != STREAM_SEG_NONE &&
			pool->segs[dir->ahead_head].seq - dir->next_seq <
			seq - dir->next_seq)
		return pool->segs[dir->ahead_head].seq;
	return seq;
}

/*
 * Segment <buf> carries <len> payload bytes from <offset>, starting at
 * sequence <seq>, received at <now_ns>; <data> points at them where they
 * are contiguous in memory (NULL: read through stream_ops). Compares, keeps and delivers as
 * above. An unstarted direction starts at <seq>. Without <may_drop> (tap,
 * monitor-only: the segment goes through whatever is answered), nothing is
 * rewritten, and an in-order segment that cannot be kept is judged all the
 * same (STREAM_UNKEPT); a later retransmission of it cannot be compared.
 */
enum stream_result
stream_segment(struct stream_pool *pool, struct stream_dir *dir, void *buf,
	const uint8_t *data, uint32_t offset, uint32_t seq, uint32_t len,
	uint64_t now_ns, bool may_drop, stream_deliver_fn deliver, void *ctx);

/*
 * The receiver acknowledged every byte before <ack>: judged segments it
 * covers are released. An acknowledgement beyond next_seq (bytes this
 * side never saw) moves nothing: next_seq only moves with bytes judged
 * here, or when a hole is given up (stream_dir_skip_gap()); it is counted
 * (acked_unseen).
 */
void
stream_dir_ack(struct stream_pool *pool, struct stream_dir *dir,
	uint32_t ack);

/*
 * Inline for the data path: stream_dir_ack() and the common case of
 * stream_segment(), which stream.c runs too. <ops> are the pool's own
 * (params.ops) given again, so that a caller whose ops are a constant it
 * defines has them called directly, or inlined, not through pointers.
 */
static inline void
stream_seg_release_inline(struct stream_pool *pool,
	const struct stream_ops *ops, struct stream_dir *dir, uint32_t index)
{
	struct stream_seg *seg = &pool->segs[index];

	ops->release(seg->buf);
	seg->buf = NULL;
	seg->next = pool->free_head;
	pool->free_head = index;
	dir->count--;
	pool->counters->kept--;
}

/* Whether <ack> acknowledges more of <dir> than known: else a no-op. */
static inline bool
stream_dir_ack_new(const struct stream_dir *dir, uint32_t ack)
{
	return !(dir->flags & STREAM_DIR_ACKED) ||
		stream_seq_lt(dir->acked, ack);
}

static inline void
stream_dir_ack_inline(struct stream_pool *pool, const struct stream_ops *ops,
	struct stream_dir *dir, uint32_t ack)
{
	if (!stream_dir_ack_new(dir, ack))
		return;
	dir->acked = ack;
	dir->flags |= STREAM_DIR_ACKED;
	if (unlikely((dir->flags & STREAM_DIR_STARTED) &&
			stream_seq_lt(dir->next_seq, ack)))
		pool->counters->acked_unseen++;
	while (dir->judged_head != STREAM_SEG_NONE) {
		uint32_t index = dir->judged_head;
		const struct stream_seg *seg = &pool->segs[index];

		if (stream_seq_lt(ack, seg->seq + seg->len))
			break;
		dir->judged_head = seg->next;
		if (dir->judged_head == STREAM_SEG_NONE)
			dir->judged_tail = STREAM_SEG_NONE;
		stream_seg_release_inline(pool, ops, dir, index);
	}
}

/*
 * The common case of stream_segment(): the next bytes, nothing waiting
 * ahead, contiguous in memory (<data> not NULL), a record free within the
 * direction's budget. Nothing to compare: the segment is kept and its
 * bytes judged, as stream_segment() would (STREAM_ACCEPTED), and true is
 * returned. Anything else returns false having done nothing: the caller
 * then calls stream_segment().
 */
static inline bool
stream_segment_next(struct stream_pool *pool, const struct stream_ops *ops,
	struct stream_dir *dir, void *buf, const uint8_t *data,
	uint32_t offset, uint32_t seq, uint32_t len,
	stream_deliver_fn deliver, void *ctx)
{
	uint32_t index = pool->free_head;
	struct stream_counters *counters;
	struct stream_seg *seg;

	if (!(data != NULL && seq == dir->next_seq &&
			dir->ahead_head == STREAM_SEG_NONE &&
			(dir->flags & STREAM_DIR_STARTED) && len != 0 &&
			index != STREAM_SEG_NONE &&
			dir->count < 2 * pool->params.dir_max_segments))
		return false;
	seg = &pool->segs[index];
	counters = pool->counters;
	pool->free_head = seg->next;
	ops->hold(buf);
	seg->buf = buf;
	seg->seq = seq;
	seg->len = len;
	seg->offset = offset;
	seg->next = STREAM_SEG_NONE;
	dir->count++;
	if (++counters->kept > counters->kept_max)
		counters->kept_max = counters->kept;
	counters->delivered_bytes += len;
	dir->next_seq = seq + len;
	if (dir->judged_tail == STREAM_SEG_NONE)
		dir->judged_head = index;
	else
		pool->segs[dir->judged_tail].next = index;
	dir->judged_tail = index;
	/* Last: nothing of the stream is read again after the parser. */
	deliver(ctx, seq, data, len);
	return true;
}

/*
 * Gives up the hole before the first kept segment ahead of next_seq: the
 * bytes after it are delivered as if the hole were not there (the parser
 * sees a jump in sequence numbers). Returns the bytes skipped, 0 without
 * a hole.
 */
uint32_t
stream_dir_skip_gap(struct stream_pool *pool, struct stream_dir *dir,
	stream_deliver_fn deliver, void *ctx);

/*
 * Gives up the bytes from next_seq to <seq> as a hole (counted as
 * stream_dir_skip_gap() counts): bytes the receiver got that were never
 * seen here, such as the part of a segment a capture cut short. Never past
 * the first segment kept ahead; what waited there and is now in order is
 * delivered. Returns the bytes skipped, 0 when <seq> is not ahead of
 * next_seq.
 */
uint32_t
stream_dir_skip_to(struct stream_pool *pool, struct stream_dir *dir,
	uint32_t seq, uint64_t now_ns, stream_deliver_fn deliver, void *ctx);

/* Releases everything <dir> keeps; it may be started again. */
void
stream_dir_clear(struct stream_pool *pool, struct stream_dir *dir);

#endif /* SMBGW_STREAM_H */
