/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table: keyed hash index with linear probing, entries in
 * one array, ageing lists through entry indexes. See flow_pvt.h for the
 * structure and README.md for the rules.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "flow.h"
#include "flow_pvt.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define FLOW_HUGE_PAGE		(2u << 20)
#define FLOW_IPPROTO_TCP	6
#define FLOW_IPPROTO_UDP	17

_Static_assert(sizeof(struct flow_entry) == FLOW_ENTRY_SIZE,
	"flow_entry must be two cache lines");
_Static_assert(offsetof(struct flow_entry, first_seen_ns) == 64,
	"per-packet fields must fill the first cache line exactly");
_Static_assert(sizeof(struct flow_canon_key) == 40, "canonical key size");
_Static_assert(sizeof(struct flow_slot) == 8, "index slot size");

/* Hashing and key normalisation */

static inline uint64_t
flow_mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The two ports as they lie in memory in struct flow_canon_key. */
static inline uint32_t
flow_port_pair(uint16_t port0, uint16_t port1)
{
	uint16_t pair[2] = { port0, port1 };
	uint32_t v;

	memcpy(&v, pair, sizeof(v));
	return v;
}

static inline uint64_t
flow_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Loads the address at <p> as two words, IPv4 mapped to ::ffff:a.b.c.d. */
static inline void
flow_load_addr(const uint8_t *p, uint8_t ip_version, uint64_t w[2])
{
	if (ip_version == 4) {
		uint32_t v4;

		memcpy(&v4, p, sizeof(v4));
		w[0] = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		w[1] = 0xffff0000ull | (uint64_t)v4 << 32;
#else
		w[1] = 0xffffull << 32 | v4;
#endif
	} else {
		w[0] = flow_load64(p);
		w[1] = flow_load64(p + 8);
	}
}

/*
 * Computes the canonical form of <k> as five words <w> (the memory image
 * of struct flow_canon_key): endpoint 0 is the lower of (address words,
 * port) in the native word order, a total order both directions agree on.
 * Returns 1 when the packet's sender is endpoint 1, else 0.
 */
static inline unsigned int
flow_canonicalise(const struct flow_key *k, uint64_t w[5])
{
	uint64_t a[2], b[2], m, d0, d1, dp;
	uint64_t pair, meta;
	unsigned int swap;

	flow_load_addr(k->src_addr, k->ip_version, a);
	flow_load_addr(k->dst_addr, k->ip_version, b);
	/* branch-free: packet directions arrive in random order */
	swap = (a[0] > b[0]) | ((a[0] == b[0]) & ((a[1] > b[1]) |
		((a[1] == b[1]) & (k->src_port > k->dst_port))));
	m = -(uint64_t)swap;
	d0 = (a[0] ^ b[0]) & m;
	d1 = (a[1] ^ b[1]) & m;
	w[0] = a[0] ^ d0;
	w[1] = a[1] ^ d1;
	w[2] = b[0] ^ d0;
	w[3] = b[1] ^ d1;
	pair = flow_port_pair(k->src_port, k->dst_port);
	dp = (pair ^ flow_port_pair(k->dst_port, k->src_port)) & m;
	pair ^= dp;
	meta = (uint32_t)k->proto | (uint32_t)(k->vlan_outer & 0xfff) << 8 |
		(uint32_t)(k->vlan_inner & 0xfff) << 20;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w[4] = pair | meta << 32;
#else
	w[4] = pair << 32 | meta;
#endif
	return swap;
}

/*
 * Keyed hash of a canonical key (its five words): multiply-fold rounds
 * over the words mixed with a per-table secret. Unlike CRC32C, which is
 * linear so that colliding keys collide under every seed, an attacker who
 * chooses source addresses (a SYN flood) cannot build long probe chains
 * without the secret.
 */
static inline uint32_t
flow_hash_words(const struct flow_table *t, const uint64_t w[5])
{
	const uint64_t *s = t->secret;
	uint64_t x, y, z;

	x = flow_mum(w[0] ^ s[0], w[1] ^ s[1]);
	y = flow_mum(w[2] ^ s[2], w[3] ^ s[3]);
	z = flow_mum(w[4] ^ s[4], s[5]);
	x = flow_mum(x ^ y ^ s[6], z ^ s[7]);
	return (uint32_t)(x ^ (x >> 32));
}

static inline uint32_t
flow_hash(const struct flow_table *t, const struct flow_canon_key *ck)
{
	const uint8_t *p = (const uint8_t *)ck;
	uint64_t w[5];
	unsigned int i;

	for (i = 0; i < 5; i++)
		w[i] = flow_load64(p + 8 * i);
	return flow_hash_words(t, w);
}

static inline bool
flow_key_equal(const struct flow_canon_key *a, const struct flow_canon_key *b)
{
	const uint8_t *p = (const uint8_t *)a;
	const uint8_t *q = (const uint8_t *)b;

	return ((flow_load64(p) ^ flow_load64(q)) |
		(flow_load64(p + 8) ^ flow_load64(q + 8)) |
		(flow_load64(p + 16) ^ flow_load64(q + 16)) |
		(flow_load64(p + 24) ^ flow_load64(q + 24)) |
		(flow_load64(p + 32) ^ flow_load64(q + 32))) == 0;
}

/* Ageing lists */

static inline unsigned int
flow_class_of(const struct flow_entry *e)
{
	uint8_t proto = e->key.meta & 0xff;

	if (proto == FLOW_IPPROTO_TCP) {
		switch (e->tcp_state) {
		case FLOW_TCP_SYN_SENT:
		case FLOW_TCP_SYN_RECV:
			return FLOW_CLASS_EMBRYONIC;
		case FLOW_TCP_ESTABLISHED:
			return FLOW_CLASS_ESTABLISHED;
		case FLOW_TCP_CLOSING:
			return FLOW_CLASS_CLOSING;
		default:
			return FLOW_CLASS_CLOSED;
		}
	}
	if (proto == FLOW_IPPROTO_UDP)
		return FLOW_CLASS_UDP;
	return FLOW_CLASS_OTHER;
}

static inline unsigned int
flow_list_of(const struct flow_entry *e)
{
	return flow_class_of(e) +
		((e->flags & FLOW_F_LIVE_SMB) ? FLOW_CLASS_MAX : 0);
}

static inline uint64_t
flow_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void
flow_list_link_tail(struct flow_table *t, uint32_t idx, unsigned int l)
{
	struct flow_list *list = &t->lists[l];
	struct flow_entry *e = &t->entries[idx];

	e->list = l;
	e->lru_next = FLOW_NIL;
	e->lru_prev = list->tail;
	if (list->tail == FLOW_NIL) {
		list->head = idx;
		list->next_check_ns = flow_sat_add(e->last_seen_ns,
			t->timeout_ns[l % FLOW_CLASS_MAX]);
	} else {
		t->entries[list->tail].lru_next = idx;
	}
	list->tail = idx;
	list->count++;
}

static void
flow_list_unlink(struct flow_table *t, uint32_t idx)
{
	struct flow_entry *e = &t->entries[idx];
	struct flow_list *list = &t->lists[e->list];

	if (e->lru_prev == FLOW_NIL)
		list->head = e->lru_next;
	else
		t->entries[e->lru_prev].lru_next = e->lru_next;
	if (e->lru_next == FLOW_NIL)
		list->tail = e->lru_prev;
	else
		t->entries[e->lru_next].lru_prev = e->lru_prev;
	list->count--;
}

static inline void
flow_list_move_tail(struct flow_table *t, uint32_t idx, unsigned int l)
{
	if (t->entries[idx].list == l && t->lists[l].tail == idx)
		return;
	flow_list_unlink(t, idx);
	flow_list_link_tail(t, idx, l);
}

/* Refreshes the recency of entry <idx> to <now_ns>. */
static inline void
flow_touch(struct flow_table *t, uint32_t idx, uint64_t now_ns)
{
	struct flow_entry *e = &t->entries[idx];
	uint64_t last = e->last_seen_ns;

	if (now_ns <= last)
		return;
	e->last_seen_ns = now_ns;
	if ((now_ns >> t->lru_shift) != (last >> t->lru_shift))
		flow_list_move_tail(t, idx, e->list);
}

/* Index */

/* Returns the slot position holding entry <idx> (which must be there). */
static inline uint32_t
flow_slot_find(const struct flow_table *t, uint32_t idx)
{
	uint32_t pos = t->entries[idx].hash & t->slot_mask;

	while (t->slots[pos].idx1 != idx + 1)
		pos = (pos + 1) & t->slot_mask;
	return pos;
}

/* Empties slot <pos>, shifting back the slots after it that may move. */
static void
flow_slot_delete(struct flow_table *t, uint32_t pos)
{
	struct flow_slot *slots = t->slots;
	uint32_t mask = t->slot_mask;
	uint32_t hole = pos;
	uint32_t j = pos;

	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (slots[j].idx1 == 0)
			break;
		home = slots[j].sig & mask;
		/* slot j may fill the hole if the hole lies on its probe path */
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			slots[hole] = slots[j];
			hole = j;
		}
	}
	slots[hole].idx1 = 0;
	slots[hole].sig = 0;
}

/* Removal */

static void
flow_remove_idx(struct flow_table *t, uint32_t idx,
	enum flow_remove_reason reason)
{
	struct flow_entry *e = &t->entries[idx];

	if (t->on_remove != NULL)
		t->on_remove(e, reason, t->on_remove_arg);
	flow_slot_delete(t, flow_slot_find(t, idx));
	flow_list_unlink(t, idx);
	t->stats.active--;
	if (e->flags & FLOW_F_LIVE_SMB)
		t->stats.active_live_smb--;
	switch (reason) {
	case FLOW_REMOVED_CLOSED:
		t->stats.closed++;
		break;
	case FLOW_REMOVED_AGED:
		t->stats.aged++;
		break;
	case FLOW_REMOVED_EXPIRED:
		t->stats.evicted_expired++;
		break;
	case FLOW_REMOVED_PRESSURE:
		t->stats.evicted_pressure++;
		break;
	case FLOW_REMOVED_CALLER:
		t->stats.removed++;
		break;
	case FLOW_REMOVED_TABLE_FREE:
		break;
	}
	e->list = FLOW_LIST_FREE;
	e->lru_next = t->free_head;
	t->free_head = idx;
}

static inline bool
flow_is_due(const struct flow_table *t, const struct flow_entry *e,
	unsigned int l, uint64_t now_ns)
{
	return now_ns >= e->last_seen_ns &&
		now_ns - e->last_seen_ns >= t->timeout_ns[l % FLOW_CLASS_MAX];
}

static inline enum flow_remove_reason
flow_age_reason(const struct flow_entry *e)
{
	unsigned int c = flow_class_of(e);

	return c == FLOW_CLASS_CLOSING || c == FLOW_CLASS_CLOSED ?
		FLOW_REMOVED_CLOSED : FLOW_REMOVED_AGED;
}

/*
 * Frees one entry of a full table for an insert at <now_ns>: a flow whose
 * timeout has passed if a list head shows one, else the least recently
 * seen flow not marked live SMB. Flows touched by the current lookup call
 * are never chosen. Returns true when an entry was freed.
 */
static bool
flow_reclaim(struct flow_table *t, uint64_t now_ns)
{
	uint32_t best = FLOW_NIL;
	uint64_t best_seen = UINT64_MAX;
	unsigned int l;

	for (l = 0; l < FLOW_LISTS; l++) {
		struct flow_list *list = &t->lists[l];
		struct flow_entry *e;

		if (list->head == FLOW_NIL || now_ns < list->next_check_ns)
			continue;
		e = &t->entries[list->head];
		if (e->touch_call != t->call && flow_is_due(t, e, l, now_ns)) {
			flow_remove_idx(t, list->head, FLOW_REMOVED_EXPIRED);
			return true;
		}
		list->next_check_ns = flow_sat_add(e->last_seen_ns,
			t->timeout_ns[l % FLOW_CLASS_MAX]);
	}
	for (l = 0; l < FLOW_CLASS_MAX; l++) {
		struct flow_list *list = &t->lists[l];
		uint32_t n = list->count;
		uint32_t idx;

		/* flows this call returned are the most recent: skip them */
		while ((idx = list->head) != FLOW_NIL && n-- > 0 &&
				t->entries[idx].touch_call == t->call)
			flow_list_move_tail(t, idx, l);
		if (idx == FLOW_NIL || t->entries[idx].touch_call == t->call)
			continue;
		if (t->entries[idx].last_seen_ns < best_seen || best == FLOW_NIL) {
			best = idx;
			best_seen = t->entries[idx].last_seen_ns;
		}
	}
	if (best == FLOW_NIL)
		return false;
	flow_remove_idx(t, best, flow_is_due(t, &t->entries[best],
		t->entries[best].list, now_ns) ? FLOW_REMOVED_EXPIRED :
		FLOW_REMOVED_PRESSURE);
	return true;
}

/* Returns a free entry index, reclaiming one if needed, or FLOW_NIL. */
static inline uint32_t
flow_entry_alloc(struct flow_table *t, uint64_t now_ns)
{
	uint32_t idx;

	if (t->free_head == FLOW_NIL) {
		if (t->used_top < t->capacity)
			return t->used_top++;
		if (!flow_reclaim(t, now_ns))
			return FLOW_NIL;
	}
	idx = t->free_head;
	t->free_head = t->entries[idx].lru_next;
	return idx;
}

/* Insertion */

/* Rank of a port as a server port for the mid-stream heuristic. */
static inline int
flow_server_rank(uint16_t port)
{
	if (port == 445 || port == 139 || port == 135)
		return 3;
	return port < 1024 ? 2 : 1;
}

/* Returns true when the sender of a mid-stream packet looks like the server. */
static inline bool
flow_sender_is_server(const struct flow_key *k)
{
	int rs = flow_server_rank(k->src_port);
	int rd = flow_server_rank(k->dst_port);

	if (rs != rd)
		return rs > rd;
	return k->src_port < k->dst_port;
}

/*
 * Sets the initiator, TCP state and tcp_seen of new entry <e> from the
 * first packet <k>, whose sender is endpoint <sender_hi>. Returns the
 * packet's direction.
 */
static uint8_t
flow_entry_start(struct flow_entry *e, const struct flow_key *k,
	unsigned int sender_hi)
{
	uint8_t f = k->tcp_flags;
	bool sender_init = true;

	e->tcp_state = FLOW_TCP_NONE;
	e->tcp_seen = 0;
	if (k->proto == FLOW_IPPROTO_TCP) {
		if ((f & (FLOW_TCPF_SYN | FLOW_TCPF_RST)) == FLOW_TCPF_SYN) {
			if (f & FLOW_TCPF_ACK) {
				sender_init = false;
				e->tcp_state = FLOW_TCP_SYN_RECV;
				e->tcp_seen = FLOW_TCP_SEEN_SYNACK;
			} else {
				e->tcp_state = FLOW_TCP_SYN_SENT;
				e->tcp_seen = FLOW_TCP_SEEN_SYN;
			}
		} else {
			if (k->hints & FLOW_KEY_SENDER_CLIENT)
				sender_init = true;
			else if (k->hints & FLOW_KEY_SENDER_SERVER)
				sender_init = false;
			else
				sender_init = !flow_sender_is_server(k);
			e->tcp_seen = FLOW_TCP_SEEN_MIDSTREAM;
			if (f & FLOW_TCPF_RST) {
				e->tcp_state = FLOW_TCP_CLOSED;
				e->tcp_seen |= FLOW_TCP_SEEN_RST;
			} else if (f & FLOW_TCPF_FIN) {
				e->tcp_state = FLOW_TCP_CLOSING;
				e->tcp_seen |= sender_init ?
					FLOW_TCP_SEEN_FIN_ORIG :
					FLOW_TCP_SEEN_FIN_REPLY;
			} else {
				e->tcp_state = FLOW_TCP_ESTABLISHED;
			}
		}
	}
	e->flags = (sender_init ? sender_hi : !sender_hi) ? FLOW_F_INIT_HI : 0;
	return sender_init ? FLOW_DIR_ORIG : FLOW_DIR_REPLY;
}

/* Sets the fields of a new flow <e> with key <ck> created at <now_ns>. */
static inline void
flow_entry_fill(struct flow_entry *e, const struct flow_canon_key *ck,
	uint64_t now_ns)
{
	e->key = *ck;
	e->last_seen_ns = now_ns;
	e->policy_verdict = 0;
	e->policy_gen = 0;
	e->app_state = FLOW_APP_STATE_NONE;
	e->app_class = FLOW_APP_UNKNOWN;
	e->first_seen_ns = now_ns;
	e->packets[0] = 0;
	e->packets[1] = 0;
	e->bytes[0] = 0;
	e->bytes[1] = 0;
	e->detect_method = 0;
	e->user_flags = 0;
	e->state_flags = 0;
	e->initiator_next = 0;
}

void
flow_entry_init_detached(struct flow_entry *entry, const struct flow_key *key,
	uint64_t now_ns)
{
	struct flow_canon_key ck;
	uint64_t w[5];
	unsigned int swap;

	memset(entry, 0, sizeof(*entry));
	swap = flow_canonicalise(key, w);
	memcpy(&ck, w, sizeof(ck));
	flow_entry_fill(entry, &ck, now_ns);
	entry->list = FLOW_LIST_FREE;
	entry->lru_prev = FLOW_NIL;
	entry->lru_next = FLOW_NIL;
	flow_entry_start(entry, key, swap);
}

/*
 * Finds the flow of canonical key <ck> (hash <h>) or inserts it for packet
 * <k>. Returns the entry and its direction in *dir, or NULL when the table
 * is full of flows that cannot be evicted. Sets *modified when the index
 * changed.
 */
static struct flow_entry *
flow_find_or_insert(struct flow_table *t, const struct flow_canon_key *ck,
	uint32_t h, const struct flow_key *k, unsigned int swap,
	uint64_t now_ns, uint8_t *dir, bool *modified)
{
	struct flow_slot *slots = t->slots;
	uint32_t mask = t->slot_mask;
	uint32_t pos = h & mask;
	struct flow_entry *e;
	uint32_t idx;
	uint32_t top_before = t->used_top;

	for (; slots[pos].idx1 != 0; pos = (pos + 1) & mask) {
		if (slots[pos].sig != h)
			continue;
		idx = slots[pos].idx1 - 1;
		e = &t->entries[idx];
		if (flow_key_equal(&e->key, ck)) {
			t->stats.hits++;
			e->touch_call = t->call;
			flow_touch(t, idx, now_ns);
			*dir = swap ^ (e->flags & FLOW_F_INIT_HI);
			return e;
		}
	}

	idx = flow_entry_alloc(t, now_ns);
	if (idx == FLOW_NIL) {
		t->stats.insert_failed++;
		return NULL;
	}
	*modified = true;
	if (t->used_top == top_before) {
		/* an eviction may have shifted slots: find the hole again */
		for (pos = h & mask; slots[pos].idx1 != 0;
				pos = (pos + 1) & mask)
			;
	}
	slots[pos].sig = h;
	slots[pos].idx1 = idx + 1;

	e = &t->entries[idx];
	flow_entry_fill(e, ck, now_ns);
	e->hash = h;
	e->touch_call = t->call;
	*dir = flow_entry_start(e, k, swap);
	flow_list_link_tail(t, idx, flow_list_of(e));
	t->stats.created++;
	t->stats.active++;
	return e;
}

/* Lookup */

static unsigned int
flow_lookup_chunk(struct flow_table *t, const struct flow_key *keys,
	unsigned int n, uint64_t now_ns, unsigned int flags,
	struct flow_entry **out, uint8_t *dirs)
{
	struct flow_canon_key ck[FLOW_CHUNK];
	uint32_t h[FLOW_CHUNK];
	uint32_t cand[FLOW_CHUNK];
	uint8_t swap[FLOW_CHUNK];
	bool same[FLOW_CHUNK];	/* the flow of the packet before */
	uint32_t moves[FLOW_CHUNK];
	unsigned int n_moves = 0;
	const struct flow_slot *slots = t->slots;
	uint32_t mask = t->slot_mask;
	bool modified = false;
	unsigned int found = 0;
	unsigned int i;

	/*
	 * 1: canonical keys and hashes; prefetch the home slots. A bulk
	 * transfer sends runs of segments of one flow (four in five packets
	 * of an SMB file copy follow one of their own flow): a key equal to
	 * the one before takes its hash, and in 3 its entry.
	 */
	for (i = 0; i < n; i++) {
		uint64_t w[5];

		swap[i] = flow_canonicalise(&keys[i], w);
		memcpy(&ck[i], w, sizeof(ck[i]));
		same[i] = i > 0 && flow_key_equal(&ck[i], &ck[i - 1]);
		if (same[i]) {
			h[i] = h[i - 1];
			continue;
		}
		h[i] = flow_hash_words(t, w);
		__builtin_prefetch(&slots[h[i] & mask], 0, 3);
	}

	/* 2: first signature match; prefetch its entry */
	for (i = 0; i < n; i++) {
		uint32_t pos = h[i] & mask;

		if (same[i]) {
			cand[i] = cand[i - 1];
			continue;
		}
		cand[i] = FLOW_NIL;
		for (; slots[pos].idx1 != 0; pos = (pos + 1) & mask) {
			if (slots[pos].sig == h[i]) {
				const struct flow_entry *e =
					&t->entries[slots[pos].idx1 - 1];

				cand[i] = pos;
				__builtin_prefetch(e, 1, 3);
				__builtin_prefetch((const char *)e + 64, 1, 3);
				break;
			}
		}
	}

	/* 3: compare keys; insert misses when asked */
	for (i = 0; i < n; i++) {
		struct flow_entry *e = NULL;
		uint32_t idx = FLOW_NIL;

		/*
		 * The entry the packet before found or made, seen at the same
		 * time: nothing to touch or move again.
		 */
		if (same[i] && out[i - 1] != NULL) {
			e = out[i - 1];
			t->stats.hits++;
			dirs[i] = swap[i] ^ (e->flags & FLOW_F_INIT_HI);
			out[i] = e;
			found++;
			continue;
		}
		if (!modified && cand[i] != FLOW_NIL) {
			idx = slots[cand[i]].idx1 - 1;
			if (!flow_key_equal(&t->entries[idx].key, &ck[i]))
				idx = FLOW_NIL;
		}
		if (idx != FLOW_NIL) {
			uint64_t last;

			e = &t->entries[idx];
			t->stats.hits++;
			e->touch_call = t->call;
			last = e->last_seen_ns;
			if (now_ns > last) {
				e->last_seen_ns = now_ns;
				if ((now_ns >> t->lru_shift) !=
						(last >> t->lru_shift) &&
						t->lists[e->list].tail != idx) {
					moves[n_moves++] = idx;
					if (e->lru_prev != FLOW_NIL)
						__builtin_prefetch(&t->entries[
							e->lru_prev].lru_prev, 1, 3);
					__builtin_prefetch(&t->entries[
						e->lru_next].lru_prev, 1, 3);
				}
			}
			dirs[i] = swap[i] ^ (e->flags & FLOW_F_INIT_HI);
		} else if (modified || cand[i] != FLOW_NIL ||
				((flags & FLOW_LOOKUP_CREATE) &&
				!(keys[i].hints & FLOW_KEY_NO_CREATE))) {
			/* second signature match, new flow, or index changed */
			if ((flags & FLOW_LOOKUP_CREATE) &&
					!(keys[i].hints & FLOW_KEY_NO_CREATE)) {
				e = flow_find_or_insert(t, &ck[i], h[i],
					&keys[i], swap[i], now_ns, &dirs[i],
					&modified);
			} else {
				uint32_t pos = h[i] & mask;

				for (; slots[pos].idx1 != 0;
						pos = (pos + 1) & mask) {
					struct flow_entry *c;

					if (slots[pos].sig != h[i])
						continue;
					c = &t->entries[slots[pos].idx1 - 1];
					if (flow_key_equal(&c->key, &ck[i])) {
						e = c;
						break;
					}
				}
				if (e != NULL) {
					t->stats.hits++;
					e->touch_call = t->call;
					flow_touch(t, e - t->entries, now_ns);
					dirs[i] = swap[i] ^
						(e->flags & FLOW_F_INIT_HI);
				}
			}
		}
		if (e == NULL)
			dirs[i] = FLOW_DIR_ORIG;
		else
			found++;
		out[i] = e;
	}

	/* 4: move flows seen in a new recency interval to their list tail */
	for (i = 0; i < n_moves; i++) {
		uint32_t idx = moves[i];

		flow_list_move_tail(t, idx, t->entries[idx].list);
	}
	return found;
}

unsigned int
flow_table_lookup_bulk(struct flow_table *table, const struct flow_key *keys,
	unsigned int count, uint64_t now_ns, unsigned int flags,
	struct flow_entry **entries_out, uint8_t *dirs_out)
{
	unsigned int found = 0;
	unsigned int base;

	table->call++;
	table->stats.lookups += count;
	for (base = 0; base < count; base += FLOW_CHUNK) {
		unsigned int n = count - base;

		if (n > FLOW_CHUNK)
			n = FLOW_CHUNK;
		found += flow_lookup_chunk(table, keys + base, n, now_ns, flags,
			entries_out + base, dirs_out + base);
	}
	return found;
}

/* State updates */

int
flow_table_update_tcp(struct flow_table *table, struct flow_entry *entry,
	uint8_t dir, uint8_t tcp_flags, uint64_t now_ns)
{
	uint32_t idx = entry - table->entries;
	uint8_t old = entry->tcp_state;
	uint8_t st = old;
	uint8_t seen = entry->tcp_seen;
	unsigned int old_list = entry->list;
	unsigned int new_list;
	uint64_t last = entry->last_seen_ns;
	int ret = 0;

	/*
	 * Most segments: an established connection's, neither opening nor
	 * closing it, seen at the time its lookup already recorded. Nothing
	 * below would change: no state, no list, no recency.
	 */
	if (__builtin_expect(old == FLOW_TCP_ESTABLISHED && now_ns <= last &&
			!(tcp_flags & (FLOW_TCPF_RST | FLOW_TCPF_SYN |
			FLOW_TCPF_FIN)), 1))
		return 0;
	if (now_ns > last)
		entry->last_seen_ns = now_ns;
	if (tcp_flags & FLOW_TCPF_RST) {
		seen |= FLOW_TCP_SEEN_RST;
		st = FLOW_TCP_CLOSED;
	} else if (tcp_flags & FLOW_TCPF_SYN) {
		if (tcp_flags & FLOW_TCPF_ACK) {
			seen |= FLOW_TCP_SEEN_SYNACK;
			if (dir == FLOW_DIR_REPLY && st == FLOW_TCP_SYN_SENT)
				st = FLOW_TCP_SYN_RECV;
		} else if (dir == FLOW_DIR_ORIG && (st == FLOW_TCP_CLOSING ||
				st == FLOW_TCP_CLOSED)) {
			/* a new connection on the same addresses and ports */
			st = FLOW_TCP_SYN_SENT;
			seen = FLOW_TCP_SEEN_SYN;
			entry->first_seen_ns = entry->last_seen_ns;
			entry->packets[0] = 0;
			entry->packets[1] = 0;
			entry->bytes[0] = 0;
			entry->bytes[1] = 0;
			if (entry->flags & FLOW_F_LIVE_SMB) {
				entry->flags &= ~FLOW_F_LIVE_SMB;
				table->stats.active_live_smb--;
			}
			table->stats.tcp_restarts++;
			ret |= FLOW_TCP_RESTARTED;
		} else {
			seen |= FLOW_TCP_SEEN_SYN;
		}
	} else {
		if ((st == FLOW_TCP_SYN_SENT || st == FLOW_TCP_SYN_RECV) &&
				(dir == FLOW_DIR_REPLY ||
				(st == FLOW_TCP_SYN_RECV &&
				(tcp_flags & FLOW_TCPF_ACK))))
			st = FLOW_TCP_ESTABLISHED;
		if (tcp_flags & FLOW_TCPF_FIN)
			seen |= dir == FLOW_DIR_ORIG ? FLOW_TCP_SEEN_FIN_ORIG :
				FLOW_TCP_SEEN_FIN_REPLY;
		if ((seen & (FLOW_TCP_SEEN_FIN_ORIG | FLOW_TCP_SEEN_FIN_REPLY)) ==
				(FLOW_TCP_SEEN_FIN_ORIG | FLOW_TCP_SEEN_FIN_REPLY))
			st = FLOW_TCP_CLOSED;
		else if ((seen & (FLOW_TCP_SEEN_FIN_ORIG |
				FLOW_TCP_SEEN_FIN_REPLY)) &&
				st != FLOW_TCP_CLOSED)
			st = FLOW_TCP_CLOSING;
	}
	entry->tcp_seen = seen;
	if (st != old) {
		entry->tcp_state = st;
		ret |= FLOW_TCP_STATE_CHANGED;
	}
	new_list = flow_list_of(entry);
	if (new_list != old_list || (entry->last_seen_ns >> table->lru_shift) !=
			(last >> table->lru_shift))
		flow_list_move_tail(table, idx, new_list);
	return ret;
}

int
flow_table_set_live_smb(struct flow_table *table, struct flow_entry *entry,
	bool live)
{
	if (live == ((entry->flags & FLOW_F_LIVE_SMB) != 0))
		return 0;
	if (live) {
		if (table->stats.active_live_smb >= table->max_live_smb) {
			table->stats.live_smb_refused++;
			return -ENOSPC;
		}
		entry->flags |= FLOW_F_LIVE_SMB;
		table->stats.active_live_smb++;
	} else {
		entry->flags &= ~FLOW_F_LIVE_SMB;
		table->stats.active_live_smb--;
	}
	flow_list_move_tail(table, entry - table->entries, flow_list_of(entry));
	return 0;
}

void
flow_table_remove(struct flow_table *table, struct flow_entry *entry)
{
	flow_remove_idx(table, entry - table->entries, FLOW_REMOVED_CALLER);
}

unsigned int
flow_table_expire(struct flow_table *table, uint64_t now_ns,
	unsigned int max_work)
{
	unsigned int budget = max_work ? max_work : UINT_MAX;
	unsigned int removed = 0;
	unsigned int n;

	for (n = 0; n < FLOW_LISTS && budget > 0; n++) {
		unsigned int l = (table->expire_cursor + n) % FLOW_LISTS;
		struct flow_list *list = &table->lists[l];

		if (now_ns < list->next_check_ns)
			continue;
		while (budget > 0) {
			struct flow_entry *e;

			if (list->head == FLOW_NIL) {
				list->next_check_ns = UINT64_MAX;
				break;
			}
			e = &table->entries[list->head];
			budget--;
			if (!flow_is_due(table, e, l, now_ns)) {
				list->next_check_ns = flow_sat_add(
					e->last_seen_ns,
					table->timeout_ns[l % FLOW_CLASS_MAX]);
				break;
			}
			flow_remove_idx(table, list->head, flow_age_reason(e));
			removed++;
		}
		if (budget == 0) {
			/* resume here next time so no list starves */
			table->expire_cursor = l;
			return removed;
		}
	}
	table->expire_cursor = (table->expire_cursor + 1) % FLOW_LISTS;
	return removed;
}

/* Iteration and inspection */

int
flow_table_walk(const struct flow_table *table, uint32_t *cursor,
	uint32_t max_slots, flow_foreach_cb cb, void *arg)
{
	uint32_t idx = *cursor;
	uint32_t end = table->used_top;

	if (max_slots < end - idx && idx < end)
		end = idx + max_slots;
	for (; idx < end; idx++) {
		const struct flow_entry *e = &table->entries[idx];
		int rc;

		if (e->list == FLOW_LIST_FREE)
			continue;
		rc = cb(e, arg);
		if (rc != 0) {
			*cursor = idx + 1;
			return rc;
		}
	}
	*cursor = idx;
	return idx >= table->used_top;
}

int
flow_table_foreach(const struct flow_table *table, flow_foreach_cb cb,
	void *arg)
{
	uint32_t idx;
	int rc;

	for (idx = 0; idx < table->used_top; idx++) {
		if (table->entries[idx].list == FLOW_LIST_FREE)
			continue;
		rc = cb(&table->entries[idx], arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
flow_table_stats(const struct flow_table *table,
	struct flow_table_stats *stats)
{
	*stats = table->stats;
}

uint32_t
flow_table_capacity(const struct flow_table *table)
{
	return table->capacity;
}

void
flow_entry_key(const struct flow_entry *entry, struct flow_key *key)
{
	unsigned int init = (entry->flags & FLOW_F_INIT_HI) ? 1 : 0;
	static const uint8_t v4_prefix[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *src = entry->key.addr[init];
	const uint8_t *dst = entry->key.addr[!init];

	memset(key, 0, sizeof(*key));
	if (memcmp(src, v4_prefix, 12) == 0 && memcmp(dst, v4_prefix, 12) == 0) {
		key->ip_version = 4;
		memcpy(key->src_addr, src + 12, 4);
		memcpy(key->dst_addr, dst + 12, 4);
	} else {
		key->ip_version = 6;
		memcpy(key->src_addr, src, 16);
		memcpy(key->dst_addr, dst, 16);
	}
	key->src_port = entry->key.port[init];
	key->dst_port = entry->key.port[!init];
	key->proto = entry->key.meta & 0xff;
	key->vlan_outer = (entry->key.meta >> 8) & 0xfff;
	key->vlan_inner = (entry->key.meta >> 20) & 0xfff;
}

int
flow_table_validate(const struct flow_table *t)
{
	uint64_t in_use = 0, live = 0, in_slots = 0, in_lists = 0, free_n = 0;
	uint32_t pos, idx, l;

	for (idx = 0; idx < t->used_top; idx++) {
		const struct flow_entry *e = &t->entries[idx];

		if (e->list == FLOW_LIST_FREE)
			continue;
		in_use++;
		if (e->flags & FLOW_F_LIVE_SMB)
			live++;
		if (e->list != flow_list_of(e))
			return -EFAULT;
		if (e->hash != flow_hash(t, &e->key))
			return -EFAULT;
	}
	if (in_use != t->stats.active || live != t->stats.active_live_smb)
		return -EFAULT;
	for (pos = 0; pos <= t->slot_mask; pos++) {
		const struct flow_slot *s = &t->slots[pos];
		uint32_t p;

		if (s->idx1 == 0)
			continue;
		if (s->idx1 > t->used_top)
			return -EFAULT;
		if (t->entries[s->idx1 - 1].list == FLOW_LIST_FREE ||
				t->entries[s->idx1 - 1].hash != s->sig)
			return -EFAULT;
		/* no hole between the home slot and this one */
		for (p = s->sig & t->slot_mask; p != pos;
				p = (p + 1) & t->slot_mask)
			if (t->slots[p].idx1 == 0)
				return -EFAULT;
		in_slots++;
	}
	if (in_slots != in_use)
		return -EFAULT;
	for (l = 0; l < FLOW_LISTS; l++) {
		const struct flow_list *list = &t->lists[l];
		uint32_t prev = FLOW_NIL, n = 0;

		for (idx = list->head; idx != FLOW_NIL;
				idx = t->entries[idx].lru_next) {
			const struct flow_entry *e = &t->entries[idx];

			if (idx >= t->used_top || e->list != l ||
					e->lru_prev != prev || ++n > list->count)
				return -EFAULT;
			prev = idx;
		}
		if (n != list->count || list->tail != prev)
			return -EFAULT;
		in_lists += n;
	}
	if (in_lists != in_use)
		return -EFAULT;
	for (idx = t->free_head; idx != FLOW_NIL; idx = t->entries[idx].lru_next) {
		if (idx >= t->used_top || t->entries[idx].list != FLOW_LIST_FREE ||
				++free_n > t->used_top)
			return -EFAULT;
	}
	if (free_n + in_use != t->used_top)
		return -EFAULT;
	if (t->stats.created != t->stats.active + t->stats.closed +
			t->stats.aged + t->stats.evicted_expired +
			t->stats.evicted_pressure + t->stats.removed)
		return -EFAULT;
	return 0;
}

/* Creation */

static size_t
flow_header_size(void)
{
	return (sizeof(struct flow_table) + 63) & ~(size_t)63;
}

size_t
flow_table_memory_bytes(const struct flow_table_params *params)
{
	if (params == NULL || params->max_flows == 0 ||
			params->max_flows > FLOW_TABLE_MAX_FLOWS) {
		errno = EINVAL;
		return 0;
	}
	return flow_header_size() +
		(size_t)params->max_flows * sizeof(struct flow_entry) +
		flow_slot_count(params->max_flows) * sizeof(struct flow_slot);
}

static uint64_t
flow_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void *
flow_huge_map(size_t size, bool prefault, size_t *mapped_size)
{
	size_t len = size + FLOW_HUGE_PAGE;
	uint8_t *p, *aligned;
	size_t head, tail;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (uint8_t *)(((uintptr_t)p + FLOW_HUGE_PAGE - 1) &
		~(uintptr_t)(FLOW_HUGE_PAGE - 1));
	head = aligned - p;
	if (head > 0)
		munmap(p, head);
	size = (size + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	tail = len - head - size;
	if (tail > 0)
		munmap(aligned + size, tail);
	madvise(aligned, size, MADV_HUGEPAGE);
	if (prefault && madvise(aligned, size, MADV_POPULATE_WRITE) != 0) {
		size_t off;

		for (off = 0; off < size; off += getpagesize())
			((volatile uint8_t *)aligned)[off] = 0;
	}
	*mapped_size = size;
	return aligned;
}

struct flow_table *
flow_table_create(const struct flow_table_params *params)
{
	const uint64_t defaults[FLOW_CLASS_MAX] = {
		[FLOW_CLASS_EMBRYONIC] = FLOW_TIMEOUT_EMBRYONIC_NS_DEFAULT,
		[FLOW_CLASS_ESTABLISHED] = FLOW_TIMEOUT_ESTABLISHED_NS_DEFAULT,
		[FLOW_CLASS_CLOSING] = FLOW_TIMEOUT_CLOSING_NS_DEFAULT,
		[FLOW_CLASS_CLOSED] = FLOW_TIMEOUT_CLOSED_NS_DEFAULT,
		[FLOW_CLASS_UDP] = FLOW_TIMEOUT_UDP_NS_DEFAULT,
		[FLOW_CLASS_OTHER] = FLOW_TIMEOUT_OTHER_NS_DEFAULT,
	};
	uint64_t given[FLOW_CLASS_MAX];
	struct flow_table *t;
	size_t size, slots_size;
	uint64_t gran, seed;
	void *mem, *base;
	size_t base_size;
	unsigned int i;

	size = flow_table_memory_bytes(params);
	if (size == 0)
		return NULL;
	if ((params->mem_alloc == NULL) != (params->mem_free == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	seed = params->hash_seed;
	if (seed == 0 && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		return NULL;	/* errno set by getrandom() */

	slots_size = flow_slot_count(params->max_flows) *
		sizeof(struct flow_slot);
	if (params->mem_alloc != NULL) {
		mem = params->mem_alloc(size, 64, params->mem_arg);
		base = mem;
		base_size = size;
	} else {
		mem = flow_huge_map(size,
			!(params->flags & FLOW_TABLE_F_NO_PREFAULT), &base_size);
		base = mem;
	}
	if (mem == NULL) {
		errno = ENOMEM;
		return NULL;
	}

	t = mem;
	memset(t, 0, sizeof(*t));
	t->entries = (struct flow_entry *)((uint8_t *)mem + flow_header_size());
	t->slots = (struct flow_slot *)(t->entries + params->max_flows);
	if (params->mem_alloc != NULL)
		memset(t->slots, 0, slots_size);
	t->slot_mask = flow_slot_count(params->max_flows) - 1;
	t->capacity = params->max_flows;
	t->used_top = 0;
	t->free_head = FLOW_NIL;

	gran = params->lru_granularity_ns ? params->lru_granularity_ns :
		FLOW_LRU_GRANULARITY_NS_DEFAULT;
	while (t->lru_shift < 63 && (1ull << t->lru_shift) < gran)
		t->lru_shift++;
	for (i = 0; i < sizeof(t->secret) / sizeof(t->secret[0]); i++)
		t->secret[i] = flow_splitmix64(&seed) | 1;

	given[FLOW_CLASS_EMBRYONIC] = params->timeout_embryonic_ns;
	given[FLOW_CLASS_ESTABLISHED] = params->timeout_established_ns;
	given[FLOW_CLASS_CLOSING] = params->timeout_closing_ns;
	given[FLOW_CLASS_CLOSED] = params->timeout_closed_ns;
	given[FLOW_CLASS_UDP] = params->timeout_udp_ns;
	given[FLOW_CLASS_OTHER] = params->timeout_other_ns;
	for (i = 0; i < FLOW_CLASS_MAX; i++)
		t->timeout_ns[i] = given[i] ? given[i] : defaults[i];
	for (i = 0; i < FLOW_LISTS; i++) {
		t->lists[i].head = FLOW_NIL;
		t->lists[i].tail = FLOW_NIL;
		t->lists[i].next_check_ns = UINT64_MAX;
	}

	t->max_live_smb = params->max_live_smb ? params->max_live_smb :
		params->max_flows;
	t->on_remove = params->on_remove;
	t->on_remove_arg = params->on_remove_arg;
	t->mem_free = params->mem_free;
	t->mem_arg = params->mem_arg;
	t->mem = base;
	t->mem_size = base_size;
	return t;
}

void
flow_table_free(struct flow_table *table)
{
	uint32_t idx;

	if (table == NULL)
		return;
	if (table->on_remove != NULL) {
		for (idx = 0; idx < table->used_top; idx++) {
			struct flow_entry *e = &table->entries[idx];

			if (e->list != FLOW_LIST_FREE)
				table->on_remove(e, FLOW_REMOVED_TABLE_FREE,
					table->on_remove_arg);
		}
	}
	if (table->mem_free != NULL)
		table->mem_free(table->mem, table->mem_arg);
	else
		munmap(table->mem, table->mem_size);
}
