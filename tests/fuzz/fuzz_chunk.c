/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the chunk pools (dataplane/chunk): the input is a
 * program of takes and gives over two size classes and four owners, on a
 * small pool with an owner limit. Every chunk held is filled with its own
 * tag and checked when given back, so two chunks handed out over each
 * other show; the counters must agree with what the harness holds, and
 * everything must be back when the program ends.
 *
 * Each input byte is one step: bit 7 set gives back held chunk (low bits
 * mod held count); clear takes a chunk of class bit 6 for owner bits 4-5.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"

#define HELD_MAX	512

struct held {
	uint8_t *p;
	unsigned int cls;
	unsigned int owner;
	uint8_t tag;
};

static uint32_t
class_size(unsigned int cls)
{
	return cls ? 2048 : 256;
}

static void
check(const struct held *h)
{
	uint32_t i, size = class_size(h->cls);

	for (i = 0; i < size; i += 61)
		if (h->p[i] != h->tag)
			abort();
	if (h->p[size - 1] != h->tag)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct held held[HELD_MAX];
	struct chunk_pool_params params = {
		.budget = 4 * CHUNK_SLAB_SIZE,
		.owner_limit = 8192,
		.sizes = { 256, 2048 },
		.classes = 2,
	};
	struct chunk_owner owners[4];
	struct chunk_counters c;
	struct chunk_pool *pool;
	unsigned int n = 0, i;
	uint64_t refused = 0;
	size_t k;

	pool = chunk_pool_create(&params);
	if (pool == NULL)
		abort();
	for (i = 0; i < 4; i++)
		chunk_owner_init(&owners[i], pool);
	for (k = 0; k < size; k++) {
		uint8_t op = data[k];

		if (op & 0x80) {
			if (n == 0)
				continue;
			i = (op & 0x7f) % n;
			check(&held[i]);
			chunk_free(pool, held[i].cls, &owners[held[i].owner],
				held[i].p);
			held[i] = held[--n];
			continue;
		}
		if (n == HELD_MAX)
			continue;
		held[n].cls = (op >> 6) & 1;
		held[n].owner = (op >> 4) & 3;
		held[n].p = chunk_alloc(pool, held[n].cls,
			&owners[held[n].owner]);
		if (held[n].p == NULL) {
			refused++;
			continue;
		}
		held[n].tag = (uint8_t)(k * 31 + 7);
		memset(held[n].p, held[n].tag, class_size(held[n].cls));
		n++;
	}
	chunk_pool_counters(pool, &c);
	if (c.cls[0].refused_budget + c.cls[0].refused_owner +
	    c.cls[1].refused_budget + c.cls[1].refused_owner != refused)
		abort();
	if (c.cls[0].in_use + c.cls[1].in_use != n || c.carved > c.budget)
		abort();
	for (i = 0; i < 4; i++)
		if (owners[i].bytes > params.owner_limit)
			abort();
	for (i = 0; i < n; i++) {
		check(&held[i]);
		chunk_free(pool, held[i].cls, &owners[held[i].owner],
			held[i].p);
	}
	chunk_pool_counters(pool, &c);
	if (c.in_use_bytes != 0)
		abort();
	for (i = 0; i < 4; i++)
		if (owners[i].bytes != 0)
			abort();
	chunk_pool_free(pool);
	return 0;
}
