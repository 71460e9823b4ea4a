/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the chunk pools (dataplane/chunk): the budget and the
 * per-owner share refuse and count, chunks are reused, nothing leaks, and
 * what was taken stays intact up to the budget.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chunk.h"

static struct chunk_pool *
pool_new(size_t budget, uint32_t owner_limit)
{
	struct chunk_pool_params params = {
		.budget = budget,
		.owner_limit = owner_limit,
		.sizes = { 256, 2048 },
		.classes = 2,
	};
	struct chunk_pool *pool = chunk_pool_create(&params);

	assert_non_null(pool);
	return pool;
}

static void
test_bad_params(void **state)
{
	struct chunk_pool_params params = {
		.budget = 1u << 20, .sizes = { 256 }, .classes = 1,
	};

	(void)state;
	assert_null(chunk_pool_create(NULL));
	params.classes = 0;
	assert_null(chunk_pool_create(&params));
	assert_int_equal(errno, EINVAL);
	params.classes = CHUNK_CLASSES_MAX + 1;
	assert_null(chunk_pool_create(&params));
	params.classes = 1;
	params.sizes[0] = 100;		/* not a multiple of 64 */
	assert_null(chunk_pool_create(&params));
	params.sizes[0] = CHUNK_SLAB_SIZE * 2;
	assert_null(chunk_pool_create(&params));
	params.sizes[0] = 256;
	params.budget = CHUNK_SLAB_SIZE - 1;	/* not one slab */
	assert_null(chunk_pool_create(&params));
	params.budget = CHUNK_SLAB_SIZE;
	chunk_pool_free(chunk_pool_create(&params));
	chunk_pool_free(NULL);
}

/*
 * Up to the budget every chunk is handed out, distinct, aligned and
 * intact; past it each request is refused and counted; freed chunks are
 * handed out again; at the end nothing is held.
 */
static void
test_budget(void **state)
{
	const unsigned int slabs = 4;
	const unsigned int per_slab = CHUNK_SLAB_SIZE / 256;
	const unsigned int n = slabs * per_slab;
	struct chunk_pool *pool = pool_new(slabs * CHUNK_SLAB_SIZE, 0);
	struct chunk_owner owner;
	struct chunk_counters c;
	uint8_t **p = calloc(n, sizeof(*p));
	unsigned int i;

	(void)state;
	assert_non_null(p);
	chunk_owner_init(&owner, pool);
	for (i = 0; i < n; i++) {
		p[i] = chunk_alloc(pool, 0, &owner);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 64, 0);
		memset(p[i], (int)(i & 0xff), 256);
	}
	assert_int_equal(owner.bytes, n * 256);
	/* The budget is spent: refused, counted, nothing changes. */
	assert_null(chunk_alloc(pool, 0, &owner));
	assert_null(chunk_alloc(pool, 1, &owner));
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.cls[0].refused_budget, 1);
	assert_int_equal(c.cls[1].refused_budget, 1);
	assert_int_equal(c.cls[0].in_use, n);
	assert_int_equal(c.in_use_bytes, n * 256);
	assert_int_equal(c.carved, c.budget);
	/* What was taken is intact: no chunk overlaps another. */
	for (i = 0; i < n; i++) {
		unsigned int j;

		for (j = 0; j < 256; j++)
			assert_int_equal(p[i][j], i & 0xff);
	}
	/* A chunk given back is the next one handed out. */
	chunk_free(pool, 0, &owner, p[7]);
	assert_ptr_equal(chunk_alloc(pool, 0, &owner), p[7]);
	for (i = 0; i < n; i++)
		chunk_free(pool, 0, &owner, p[i]);
	chunk_free(pool, 0, &owner, NULL);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.in_use_bytes, 0);
	assert_int_equal(c.cls[0].in_use, 0);
	assert_int_equal(c.cls[0].allocs, c.cls[0].frees);
	assert_int_equal(c.cls[0].high_water, n);
	assert_int_equal(c.high_water_bytes, n * 256);
	assert_int_equal(owner.bytes, 0);
	/* Slabs stay with their class: the big class still finds none. */
	assert_null(chunk_alloc(pool, 1, NULL));
	free(p);
	chunk_pool_free(pool);
}

/* One owner cannot take more than its share; others still can. */
static void
test_owner_limit(void **state)
{
	struct chunk_pool *pool = pool_new(1u << 20, 4 * 256);
	struct chunk_owner a, b;
	struct chunk_counters c;
	void *p[5];
	int i;

	(void)state;
	chunk_owner_init(&a, pool);
	chunk_owner_init(&b, pool);
	assert_int_equal(a.limit, 4 * 256);
	for (i = 0; i < 4; i++) {
		p[i] = chunk_alloc(pool, 0, &a);
		assert_non_null(p[i]);
	}
	assert_null(chunk_alloc(pool, 0, &a));
	/* A pipe-sized chunk is beyond the share at once. */
	assert_null(chunk_alloc(pool, 1, &b));
	p[4] = chunk_alloc(pool, 0, &b);
	assert_non_null(p[4]);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.cls[0].refused_owner, 1);
	assert_int_equal(c.cls[1].refused_owner, 1);
	assert_int_equal(c.cls[0].refused_budget, 0);
	chunk_free(pool, 0, &a, p[0]);
	assert_non_null(chunk_alloc(pool, 0, &a));
	assert_int_equal(a.bytes, 4 * 256);
	chunk_pool_free(pool);
}

/* No class, no pool: refused without counting or crashing. */
static void
test_misuse(void **state)
{
	struct chunk_pool *pool = pool_new(1u << 20, 0);
	struct chunk_counters c;

	(void)state;
	assert_null(chunk_alloc(NULL, 0, NULL));
	assert_null(chunk_alloc(pool, 2, NULL));
	assert_int_equal(chunk_size(pool, 1), 2048);
	assert_int_equal(chunk_size(pool, 2), 0);
	assert_int_equal(chunk_size(NULL, 0), 0);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.cls[0].refused_budget + c.cls[1].refused_budget, 0);
	chunk_pool_counters(NULL, &c);
	assert_int_equal(c.budget, 0);
	chunk_pool_free(pool);
}

/*
 * A pseudo-random mix of takes and gives over both classes keeps the
 * counters exact and every held chunk intact; nothing leaks.
 */
static void
test_churn(void **state)
{
	enum { SLOTS = 512 };
	struct chunk_pool *pool = pool_new(96u << 10, 0);
	struct { uint8_t *p; unsigned int cls; uint8_t tag; } held[SLOTS];
	uint32_t rng = 12345, refused = 0;
	struct chunk_counters c;
	unsigned int i, round;

	(void)state;
	memset(held, 0, sizeof(held));
	for (round = 0; round < 200000; round++) {
		rng = rng * 1103515245u + 12345u;
		i = (rng >> 8) % SLOTS;
		if (held[i].p != NULL) {
			uint32_t size = held[i].cls ? 2048 : 256;

			assert_int_equal(held[i].p[0], held[i].tag);
			assert_int_equal(held[i].p[size - 1], held[i].tag);
			chunk_free(pool, held[i].cls, NULL, held[i].p);
			held[i].p = NULL;
			continue;
		}
		held[i].cls = (rng >> 20) % 8 == 0;
		held[i].p = chunk_alloc(pool, held[i].cls, NULL);
		if (held[i].p == NULL) {
			refused++;
			continue;
		}
		held[i].tag = (uint8_t)(rng >> 24);
		memset(held[i].p, held[i].tag, held[i].cls ? 2048 : 256);
	}
	chunk_pool_counters(pool, &c);
	assert_true(refused > 0);
	assert_int_equal(c.cls[0].refused_budget + c.cls[1].refused_budget,
		refused);
	assert_true(c.carved <= c.budget);
	for (i = 0; i < SLOTS; i++)
		chunk_free(pool, held[i].cls, NULL, held[i].p);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.in_use_bytes, 0);
	assert_int_equal(c.cls[0].in_use + c.cls[1].in_use, 0);
	chunk_pool_free(pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_owner_limit),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
