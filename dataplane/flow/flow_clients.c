/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flow.h"
#include "flow_clients.h"
#include "flow_hash.h"

#define KEY_WORDS 5	/* address (IPv4-mapped when IPv4) and VLAN IDs */

struct client_slot {
	uint32_t key[KEY_WORDS];
	uint32_t hash;
	uint32_t count;		/* 0: the slot is free */
	uint32_t held;		/* segments its flows keep ahead of holes */
};

struct flow_client_table {
	struct client_slot *slots;
	size_t slots_bytes;	/* mapped, for munmap() */
	uint32_t mask;		/* slots - 1; slots a power of two */
	uint32_t clients;
	uint32_t max_clients;
	uint32_t seed;
};

static void
client_key(const struct flow_entry *flow, uint32_t key[KEY_WORDS])
{
	unsigned int init = (flow->flags & FLOW_F_INIT_HI) ? 1 : 0;

	memcpy(key, flow->key.addr[init], 16);
	/* The meta word's VLAN bits; its protocol byte is the same for all. */
	key[4] = flow->key.meta >> 8;
}

static inline uint32_t
rotl32(uint32_t x, unsigned int r)
{
	return x << r | x >> (32 - r);
}

/* MurmurHash3's 32-bit mixing over the key words, seeded per table. */
static uint32_t
client_hash(const struct flow_client_table *t, const uint32_t key[KEY_WORDS])
{
	uint32_t h = t->seed;
	unsigned int i;

	for (i = 0; i < KEY_WORDS; i++) {
		uint32_t k = key[i] * 0xcc9e2d51u;

		k = rotl32(k, 15) * 0x1b873593u;
		h = rotl32(h ^ k, 13) * 5 + 0xe6546b64u;
	}
	h ^= KEY_WORDS * 4;
	return flow_hash_mix32(h);
}

/*
 * The slot holding <key>, or the free slot where it would go: the table
 * is at most half full, so the walk ends.
 */
static uint32_t
find_slot(const struct flow_client_table *t, const uint32_t key[KEY_WORDS],
	uint32_t hash, bool *found)
{
	uint32_t i = hash & t->mask;

	for (;;) {
		const struct client_slot *s = &t->slots[i];

		if (s->count == 0) {
			*found = false;
			return i;
		}
		if (s->hash == hash &&
				memcmp(s->key, key, sizeof(s->key)) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & t->mask;
	}
}

struct flow_client_table *
flow_client_table_create(uint32_t max_clients, uint32_t seed)
{
	struct flow_client_table *t;
	uint32_t slots = 16;

	if (max_clients == 0 || max_clients > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	while (slots < 2 * max_clients)
		slots <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	/*
	 * Faulted in now, so that the data path never takes a page fault on
	 * a new client (a memset of calloc()'s memory would not do: the
	 * compiler knows it is zero and drops the memset). Huge pages: a
	 * client's slot is found at random.
	 */
	t->slots = flow_huge_map((size_t)slots * sizeof(*t->slots), true,
		&t->slots_bytes);
	if (t->slots == NULL) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->mask = slots - 1;
	t->max_clients = max_clients;
	t->seed = seed;
	return t;
}

void
flow_client_table_free(struct flow_client_table *t)
{
	if (t == NULL)
		return;
	munmap(t->slots, t->slots_bytes);
	free(t);
}

/* The index of <flow>'s client slot, or UINT32_MAX when it has none. */
static uint32_t
slot_of(const struct flow_client_table *t, const struct flow_entry *flow)
{
	uint32_t key[KEY_WORDS], i;
	bool found;

	client_key(flow, key);
	i = find_slot(t, key, client_hash(t, key), &found);
	return found ? i : UINT32_MAX;
}

int
flow_client_acquire(struct flow_client_table *t,
	const struct flow_entry *flow, uint32_t cap)
{
	uint32_t key[KEY_WORDS], hash, i;
	struct client_slot *s;
	bool found;

	client_key(flow, key);
	hash = client_hash(t, key);
	i = find_slot(t, key, hash, &found);
	s = &t->slots[i];
	if (found) {
		if (cap != 0 && s->count >= cap)
			return -EBUSY;
		s->count++;
		return 0;
	}
	if (t->clients >= t->max_clients)
		return -ENOSPC;
	memcpy(s->key, key, sizeof(s->key));
	s->hash = hash;
	s->count = 1;
	s->held = 0;
	t->clients++;
	return 0;
}

/*
 * Empties slot <i> and moves later slots of the same probe run back, so
 * that every key stays reachable from its home slot without tombstones.
 */
static void
remove_slot(struct flow_client_table *t, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & t->mask;
		if (t->slots[j].count == 0)
			break;
		home = t->slots[j].hash & t->mask;
		/* Slot j may move to i unless its home lies in (i, j]. */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].count = 0;
}

void
flow_client_release(struct flow_client_table *t,
	const struct flow_entry *flow)
{
	uint32_t i = slot_of(t, flow);

	if (i == UINT32_MAX)
		return;
	if (--t->slots[i].count > 0)
		return;
	remove_slot(t, i);
	t->clients--;
}

uint32_t
flow_client_count(const struct flow_client_table *t,
	const struct flow_entry *flow)
{
	uint32_t i = slot_of(t, flow);

	return i != UINT32_MAX ? t->slots[i].count : 0;
}

uint32_t
flow_client_held(const struct flow_client_table *t,
	const struct flow_entry *flow)
{
	uint32_t i = slot_of(t, flow);

	return i != UINT32_MAX ? t->slots[i].held : 0;
}

void
flow_client_held_add(struct flow_client_table *t,
	const struct flow_entry *flow, int32_t delta)
{
	uint32_t i = slot_of(t, flow);

	if (i == UINT32_MAX)
		return;
	if (delta < 0 && (uint32_t)-delta > t->slots[i].held)
		t->slots[i].held = 0;
	else
		t->slots[i].held += (uint32_t)delta;
}

uint32_t
flow_client_table_clients(const struct flow_client_table *t)
{
	return t->clients;
}
