/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CHUNK_H
#define SMBGW_CHUNK_H

/*
 * Per-worker pools of small fixed-size chunks within a byte budget: the
 * storage the parsers' session tables (open files, trees, pending
 * requests, named pipes) grow into on demand.
 *
 * A pool serves a few size classes from one reserved region of <budget>
 * bytes. The region is carved into slabs as classes need them; a slab
 * belongs to its class for the pool's life, and a freed chunk goes back
 * to its class's free list. Allocation and freeing are a pointer swap,
 * with no lock (one pool per worker) and no system call: the region is
 * reserved at creation and its pages are touched only as slabs are
 * carved, so an idle budget costs address space, not memory.
 *
 * A chunk_owner (one per session) bounds what one owner may hold, so that
 * one busy connection cannot take a worker's whole budget.
 *
 * Pure C, no DPDK: unit-tested and fuzzed on its own.
 *
 * Usage:
 *
 *	struct chunk_pool *pool = chunk_pool_create(&params);
 *	struct chunk_owner owner;
 *
 *	chunk_owner_init(&owner, pool);
 *	p = chunk_alloc(pool, class, &owner);	(NULL: refused, counted)
 *	chunk_free(pool, class, &owner, p);
 *	chunk_pool_free(pool);
 */

#include <stddef.h>
#include <stdint.h>

/* Size classes a pool may serve. */
#define CHUNK_CLASSES_MAX	4

/* Bytes carved from the region at a time for one class. */
#define CHUNK_SLAB_SIZE		(16u * 1024)

/* What a pool did; copied out with chunk_pool_counters(). */
struct chunk_class_counters {
	uint64_t allocs;
	uint64_t frees;
	uint64_t refused_budget;	/* the pool's budget was spent */
	uint64_t refused_owner;		/* the owner was at its limit */
	uint64_t in_use;		/* chunks held now */
	uint64_t high_water;		/* most chunks held at once */
};

struct chunk_counters {
	uint64_t budget;		/* bytes the pool may carve */
	uint64_t carved;		/* bytes carved into slabs so far */
	uint64_t in_use_bytes;		/* bytes of chunks held now */
	uint64_t high_water_bytes;	/* most bytes held at once */
	struct chunk_class_counters cls[CHUNK_CLASSES_MAX];
};

struct chunk_pool_params {
	/* Bytes the pool may hand out in all, rounded down to whole slabs;
	 * at least one slab. */
	size_t budget;
	/* Bytes one owner may hold at once; 0: no limit but the budget. */
	uint32_t owner_limit;
	/* Chunk size of each class: multiples of 64, at most
	 * CHUNK_SLAB_SIZE, in any order. */
	uint32_t sizes[CHUNK_CLASSES_MAX];
	unsigned int classes;		/* 1 to CHUNK_CLASSES_MAX */
	/* Where the pool keeps its counters (the caller's statistics); NULL:
	 * inside the pool. Read them with chunk_pool_counters() either way. */
	struct chunk_counters *counters;
};

/* What one owner (a session) holds. Plain data: embed it. */
struct chunk_owner {
	uint32_t bytes;		/* held now */
	uint32_t limit;		/* copied from the pool; 0: none */
};

struct chunk_pool;

/*
 * Creates a pool as <params> says, reserving its budget of address space.
 * Returns NULL with errno set: EINVAL for bad parameters, ENOMEM when the
 * region cannot be reserved.
 */
struct chunk_pool *
chunk_pool_create(const struct chunk_pool_params *params);

/* Frees <pool> and every chunk in it at once. NULL is ignored. */
void
chunk_pool_free(struct chunk_pool *pool);

/* Starts <owner> holding nothing, with <pool>'s owner limit. */
void
chunk_owner_init(struct chunk_owner *owner, const struct chunk_pool *pool);

/*
 * Returns a chunk of class <cls> charged to <owner> (which may be NULL),
 * its contents undefined, aligned to 64 bytes. Returns NULL, counted,
 * when the owner would go past its limit or the budget is spent; or when
 * <pool> is NULL or <cls> not a class (not counted).
 */
void *
chunk_alloc(struct chunk_pool *pool, unsigned int cls,
	struct chunk_owner *owner);

/*
 * Gives chunk <p> of class <cls> back, uncharging <owner> (the one it was
 * allocated for). <p> NULL is ignored. Cannot fail.
 */
void
chunk_free(struct chunk_pool *pool, unsigned int cls,
	struct chunk_owner *owner, void *p);

/* Chunk size of class <cls>, or 0 if <pool> has no such class. */
uint32_t
chunk_size(const struct chunk_pool *pool, unsigned int cls);

/* Copies the counters of <pool> into <out>. Cannot fail. */
void
chunk_pool_counters(const struct chunk_pool *pool,
	struct chunk_counters *out);

#endif /* SMBGW_CHUNK_H */
