/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_FLOW_PVT_H
#define SMBGW_FLOW_PVT_H

/*
 * Internals of the flow table, shared by flow.c and its tests only.
 *
 * Index: open addressing with linear probing over a power-of-two array of
 * 8-byte slots (32-bit hash signature, entry index + 1; 0 is empty), at
 * most half full, so a lookup usually reads one cache line of slots and
 * one entry. Deletion shifts the following slots back (no tombstones), so
 * probe lengths never degrade with churn.
 *
 * Ageing lists: every flow is on exactly one doubly linked list, chosen by
 * its timeout class and its live SMB mark, linked through entry indexes.
 * Each list is ordered by the recency interval (last_seen_ns >> lru_shift)
 * of its flows: a lookup that sees a flow in a newer interval than its
 * previous packet moves it to the tail, so a list's head is always among
 * its least recently seen flows and is the first to time out. Moving only
 * when the interval changes keeps list writes off the per-packet path for
 * busy flows.
 */

#include <stdint.h>

#include "flow.h"

#define FLOW_NIL		UINT32_MAX

/* Timeout classes. */
enum flow_class {
	FLOW_CLASS_EMBRYONIC,
	FLOW_CLASS_ESTABLISHED,
	FLOW_CLASS_CLOSING,
	FLOW_CLASS_CLOSED,
	FLOW_CLASS_UDP,
	FLOW_CLASS_OTHER,
	FLOW_CLASS_MAX,
};

/* Lists 0..FLOW_CLASS_MAX-1 hold ordinary flows, the next ones live SMB. */
#define FLOW_LISTS		(2 * FLOW_CLASS_MAX)
#define FLOW_LIST_FREE		0xff	/* flow_entry.list of a free entry */

/* Packets handled per pipeline round inside a bulk lookup. */
#define FLOW_CHUNK		32

struct flow_slot {
	uint32_t sig;		/* hash of the key */
	uint32_t idx1;		/* entry index + 1; 0: empty */
};

struct flow_list {
	uint32_t head;
	uint32_t tail;
	uint32_t count;
	uint32_t reserved;
	uint64_t next_check_ns;	/* no flow of the list is due before this */
};

struct flow_table {
	/* read for every packet */
	struct flow_slot *slots;
	struct flow_entry *entries;
	uint32_t slot_mask;
	uint32_t capacity;
	uint32_t used_top;	/* entries [used_top, capacity) never used */
	uint32_t free_head;	/* free entries, linked through lru_next */
	uint32_t call;		/* lookup calls so far, for touch_call */
	unsigned int lru_shift;
	uint64_t secret[8];

	struct flow_list lists[FLOW_LISTS];
	uint64_t timeout_ns[FLOW_CLASS_MAX];
	unsigned int expire_cursor;
	uint32_t max_live_smb;

	struct flow_table_stats stats;

	flow_remove_cb on_remove;
	void *on_remove_arg;
	flow_free_cb mem_free;	/* NULL: munmap */
	void *mem_arg;
	void *mem;		/* start of the mapping or allocation */
	size_t mem_size;
} __attribute__((aligned(64)));

/* Returns the number of index slots for <max_flows> flows. */
static inline uint64_t
flow_slot_count(uint32_t max_flows)
{
	uint64_t n = 16;

	while (n < 2 * (uint64_t)max_flows)
		n <<= 1;
	return n;
}

#endif /* SMBGW_FLOW_PVT_H */
