/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixed-size chunk pools within a byte budget (see chunk.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "chunk.h"

/*
 * Under AddressSanitizer (gcc defines __SANITIZE_ADDRESS__, clang answers
 * __has_feature), chunks not handed out are poisoned: a read or write
 * through a pointer to a chunk given back, or past a chunk's end into a
 * free one, is reported as it would be for malloc's memory. Otherwise
 * these are nothing.
 */
#if defined(__SANITIZE_ADDRESS__)
#define CHUNK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHUNK_ASAN 1
#endif
#endif
#ifdef CHUNK_ASAN
#include <sanitizer/asan_interface.h>
#define chunk_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define chunk_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define chunk_poison(p, n) ((void)(p), (void)(n))
#define chunk_unpoison(p, n) ((void)(p), (void)(n))
#endif

/* A free chunk holds the link to the next one. */
struct chunk_free_link {
	struct chunk_free_link *next;
};

struct chunk_class {
	struct chunk_free_link *free_list;
	uint32_t size;
};

struct chunk_pool {
	uint8_t *region;	/* reserved at creation */
	size_t region_size;	/* whole slabs */
	size_t carved;		/* bytes of region handed to classes */
	uint32_t owner_limit;
	unsigned int classes;
	struct chunk_class cls[CHUNK_CLASSES_MAX];
	struct chunk_counters *counters;	/* own_counters or the caller's */
	struct chunk_counters own_counters;
};

struct chunk_pool *
chunk_pool_create(const struct chunk_pool_params *params)
{
	struct chunk_pool *pool;
	size_t region_size;
	unsigned int i;
	void *region;

	if (params == NULL || params->classes == 0 ||
			params->classes > CHUNK_CLASSES_MAX ||
			params->budget < CHUNK_SLAB_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < params->classes; i++)
		if (params->sizes[i] == 0 || params->sizes[i] % 64 != 0 ||
				params->sizes[i] > CHUNK_SLAB_SIZE) {
			errno = EINVAL;
			return NULL;
		}
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	region_size = params->budget / CHUNK_SLAB_SIZE * CHUNK_SLAB_SIZE;
	/*
	 * Address space only: pages are touched as slabs are carved, so the
	 * budget is a ceiling, not a cost.
	 */
	region = mmap(NULL, region_size, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		free(pool);
		errno = ENOMEM;
		return NULL;
	}
	pool->region = region;
	pool->region_size = region_size;
	pool->owner_limit = params->owner_limit;
	pool->classes = params->classes;
	for (i = 0; i < params->classes; i++)
		pool->cls[i].size = params->sizes[i];
	pool->counters = params->counters != NULL ? params->counters :
		&pool->own_counters;
	memset(pool->counters, 0, sizeof(*pool->counters));
	pool->counters->budget = region_size;
	return pool;
}

void
chunk_pool_free(struct chunk_pool *pool)
{
	if (pool == NULL)
		return;
	/* The addresses may be mapped again for anything else. */
	chunk_unpoison(pool->region, pool->carved);
	munmap(pool->region, pool->region_size);
	free(pool);
}

void
chunk_owner_init(struct chunk_owner *owner, const struct chunk_pool *pool)
{
	owner->bytes = 0;
	owner->limit = pool != NULL ? pool->owner_limit : 0;
}

/* Carves one more slab for class <c>; false when the budget is spent. */
static bool
carve_slab(struct chunk_pool *pool, struct chunk_class *c)
{
	uint8_t *slab, *p;
	uint32_t n, i;

	if (pool->region_size - pool->carved < CHUNK_SLAB_SIZE)
		return false;
	slab = pool->region + pool->carved;
	pool->carved += CHUNK_SLAB_SIZE;
	pool->counters->carved = pool->carved;
	/* Linked in address order, so that a class fills a slab in turn. */
	n = CHUNK_SLAB_SIZE / c->size;
	for (i = n; i-- > 0;) {
		struct chunk_free_link *link;

		p = slab + (size_t)i * c->size;
		link = (struct chunk_free_link *)(void *)p;
		link->next = c->free_list;
		c->free_list = link;
	}
	chunk_poison(slab, CHUNK_SLAB_SIZE);
	return true;
}

void *
chunk_alloc(struct chunk_pool *pool, unsigned int cls,
	struct chunk_owner *owner)
{
	struct chunk_class_counters *cc;
	struct chunk_free_link *link;
	struct chunk_class *c;

	if (pool == NULL || cls >= pool->classes)
		return NULL;
	c = &pool->cls[cls];
	cc = &pool->counters->cls[cls];
	if (owner != NULL && owner->limit != 0 &&
			owner->bytes + (uint64_t)c->size > owner->limit) {
		cc->refused_owner++;
		return NULL;
	}
	if (c->free_list == NULL && !carve_slab(pool, c)) {
		cc->refused_budget++;
		return NULL;
	}
	link = c->free_list;
	chunk_unpoison(link, c->size);
	c->free_list = link->next;
	if (owner != NULL)
		owner->bytes += c->size;
	cc->allocs++;
	if (++cc->in_use > cc->high_water)
		cc->high_water = cc->in_use;
	pool->counters->in_use_bytes += c->size;
	if (pool->counters->in_use_bytes > pool->counters->high_water_bytes)
		pool->counters->high_water_bytes = pool->counters->in_use_bytes;
	return link;
}

void
chunk_free(struct chunk_pool *pool, unsigned int cls,
	struct chunk_owner *owner, void *p)
{
	struct chunk_free_link *link = p;
	struct chunk_class *c;

	if (p == NULL || pool == NULL || cls >= pool->classes)
		return;
	c = &pool->cls[cls];
	link->next = c->free_list;
	c->free_list = link;
	chunk_poison(link, c->size);
	if (owner != NULL)
		owner->bytes -= owner->bytes >= c->size ? c->size : owner->bytes;
	pool->counters->cls[cls].frees++;
	pool->counters->cls[cls].in_use--;
	pool->counters->in_use_bytes -= c->size;
}

uint32_t
chunk_size(const struct chunk_pool *pool, unsigned int cls)
{
	if (pool == NULL || cls >= pool->classes)
		return 0;
	return pool->cls[cls].size;
}

void
chunk_pool_counters(const struct chunk_pool *pool,
	struct chunk_counters *out)
{
	if (pool == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = *pool->counters;
}
