/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_FLOW_H
#define SMBGW_FLOW_H

/*
 * Per-worker flow table.
 *
 * One table per worker, never shared, no locks; pure C, no DPDK types. Both
 * directions of a connection map to one entry, and every lookup says which
 * way the packet goes relative to the flow's initiator. The table has no
 * clock: every call that needs the time takes it (<now_ns>) from the
 * caller, so captures replay deterministically.
 *
 * Memory is allocated once by flow_table_create() and never again:
 * 128 bytes per entry plus an index of 8-byte slots, the next power of two
 * at or above twice the number of entries (16.8 bytes per flow for
 * 1,000,000 flows: 144.8 bytes per flow all-in). flow_table_memory_bytes()
 * gives the exact figure for a set of parameters.
 *
 * Entries age out by idle timeout per TCP state (embryonic, established,
 * closing, closed) or protocol (UDP, other). When an insert finds the table
 * full, it first reclaims a flow whose timeout has passed, then evicts the
 * least recently seen flow that does not carry a live SMB session; flows
 * marked live SMB are never evicted under pressure, so a table full of
 * them makes the insert fail (counted), and the caller applies its fail
 * mode. See README.md in this folder for the rules in full.
 *
 * Typical use in a worker, once per burst:
 *
 *	flow_table_lookup_bulk(ft, keys, n, now, FLOW_LOOKUP_CREATE, fe, dir);
 *	for (i = 0; i < n; i++) {
 *		if (fe[i] == NULL)
 *			... table full: apply the fail mode ...
 *		if (keys[i].proto == IPPROTO_TCP)
 *			flow_table_update_tcp(ft, fe[i], dir[i], flags[i], now);
 *		flow_entry_count(fe[i], dir[i], len[i]);
 *		...
 *	}
 *	flow_table_expire(ft, now, 32);
 *
 * Entry pointers stay valid until the next call on the same table that may
 * remove flows: flow_table_lookup_bulk(), flow_table_expire(),
 * flow_table_remove(), flow_table_free(). A lookup never evicts an entry
 * it has returned in the same call.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest table: entry indexes are 32-bit. */
#define FLOW_TABLE_MAX_FLOWS	(1u << 30)

/* Bytes per entry: two cache lines. */
#define FLOW_ENTRY_SIZE		128

/* Default idle timeouts. */
#define FLOW_TIMEOUT_EMBRYONIC_NS_DEFAULT	(30ull * 1000000000)
#define FLOW_TIMEOUT_ESTABLISHED_NS_DEFAULT	(7200ull * 1000000000)
#define FLOW_TIMEOUT_CLOSING_NS_DEFAULT		(120ull * 1000000000)
#define FLOW_TIMEOUT_CLOSED_NS_DEFAULT		(10ull * 1000000000)
#define FLOW_TIMEOUT_UDP_NS_DEFAULT		(60ull * 1000000000)
#define FLOW_TIMEOUT_OTHER_NS_DEFAULT		(30ull * 1000000000)

/* Default recency granularity: 2^30 ns, about 1.07 s. */
#define FLOW_LRU_GRANULARITY_NS_DEFAULT		(1ull << 30)

/* Direction of a packet relative to the flow's initiator. */
enum flow_dir {
	FLOW_DIR_ORIG = 0,	/* sent by the initiator (client) */
	FLOW_DIR_REPLY = 1,	/* sent by the responder (server) */
};

/* TCP state, as much as ageing needs. */
enum flow_tcp_state {
	FLOW_TCP_NONE = 0,	/* not TCP */
	FLOW_TCP_SYN_SENT,	/* SYN seen from the initiator */
	FLOW_TCP_SYN_RECV,	/* SYN-ACK seen from the responder */
	FLOW_TCP_ESTABLISHED,	/* handshake done, or picked up mid-stream */
	FLOW_TCP_CLOSING,	/* FIN seen in one direction */
	FLOW_TCP_CLOSED,	/* FIN seen in both directions, or RST */
};

/* Bits of flow_entry.tcp_seen: what the table has seen on the flow. */
#define FLOW_TCP_SEEN_SYN	0x01	/* SYN without ACK */
#define FLOW_TCP_SEEN_SYNACK	0x02
#define FLOW_TCP_SEEN_FIN_ORIG	0x04
#define FLOW_TCP_SEEN_FIN_REPLY	0x08
#define FLOW_TCP_SEEN_RST	0x10
#define FLOW_TCP_SEEN_MIDSTREAM	0x20	/* first packet was not a SYN */

/* TCP header flag bits, as in the header and in decode.h. */
#define FLOW_TCPF_FIN		0x01
#define FLOW_TCPF_SYN		0x02
#define FLOW_TCPF_RST		0x04
#define FLOW_TCPF_ACK		0x10

/* Application class: storage for the caller, the table never reads it. */
enum flow_app_class {
	FLOW_APP_UNKNOWN = 0,
	FLOW_APP_PENDING,	/* candidate, waiting for payload */
	FLOW_APP_SMB,
	FLOW_APP_DCERPC,
	FLOW_APP_NOT_SMB,
};

/* Bits of flow_entry.flags, owned by the table. */
#define FLOW_F_INIT_HI		0x01	/* the initiator is key endpoint 1 */
#define FLOW_F_LIVE_SMB		0x02	/* see flow_table_set_live_smb() */

/* flow_entry.app_state when the caller holds no state for the flow. */
#define FLOW_APP_STATE_NONE	UINT32_MAX

/*
 * One packet's view of its flow, filled by the caller from the decoded
 * headers. Addresses and ports are as sent: src is the packet's sender.
 */
struct flow_key {
	uint8_t src_addr[16];	/* IPv4: the first 4 bytes, the rest ignored */
	uint8_t dst_addr[16];
	uint16_t src_port;	/* host order; 0 for protocols without ports */
	uint16_t dst_port;
	uint16_t vlan_outer;	/* VLAN IDs (12 bits), 0 when untagged */
	uint16_t vlan_inner;
	uint8_t proto;		/* IPPROTO_TCP, IPPROTO_UDP, ... */
	uint8_t ip_version;	/* 4 or 6 */
	/*
	 * TCP flags of the packet (FLOW_TCPF_*), read only when the lookup
	 * creates the flow, to decide who initiated it.
	 */
	uint8_t tcp_flags;
	/*
	 * FLOW_KEY_SENDER_*: who sent the packet, when the caller knows it
	 * from the payload; read only when a flow is created mid-stream,
	 * where it overrides the port heuristic.
	 */
	uint8_t hints;
};

#define FLOW_KEY_SENDER_CLIENT	0x01
#define FLOW_KEY_SENDER_SERVER	0x02
/*
 * Look the flow up but never insert it, even with FLOW_LOOKUP_CREATE: for
 * packets that must not take state on their own (a bare SYN, whose flow
 * is created by the answer), so that a flood of them costs a lookup.
 */
#define FLOW_KEY_NO_CREATE	0x04

/*
 * The stored key: both endpoints in a canonical order (endpoint 0 is the
 * lower of (address, port)), IPv4 addresses as IPv4-mapped IPv6
 * (::ffff:a.b.c.d), VLAN IDs and protocol packed in <meta>. Read it through
 * flow_entry_key().
 */
struct flow_canon_key {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint32_t meta;		/* proto | vlan_outer << 8 | vlan_inner << 20 */
};

/*
 * A flow. Exactly FLOW_ENTRY_SIZE bytes, cache-line aligned; the first
 * cache line holds everything read for every packet. Fields marked "table"
 * are the table's: read them, never write them. Fields marked "caller" are
 * storage for the caller, which the table sets only when it creates the
 * entry (to the value shown).
 */
struct flow_entry {
	/* cache line 0: per-packet fields */
	struct flow_canon_key key;	/* table */
	uint64_t last_seen_ns;		/* table: last lookup or update */
	uint32_t policy_verdict;	/* caller, 0: cached policy verdict */
	uint32_t policy_gen;		/* caller, 0: policy generation of it */
	uint32_t app_state;		/* caller, FLOW_APP_STATE_NONE */
	uint8_t tcp_state;		/* table: enum flow_tcp_state */
	uint8_t flags;			/* table: FLOW_F_* */
	uint8_t app_class;		/* caller, FLOW_APP_UNKNOWN */
	uint8_t list;			/* table, private: ageing list */

	/* cache line 1: accounting and table bookkeeping */
	uint64_t first_seen_ns;		/* table: creation (or TCP restart) */
	uint64_t packets[2];		/* caller via flow_entry_count(), by dir */
	uint64_t bytes[2];
	uint32_t lru_prev;		/* table, private */
	uint32_t lru_next;		/* table, private */
	uint32_t hash;			/* table, private */
	uint32_t touch_call;		/* table, private */
	uint8_t tcp_seen;		/* table: FLOW_TCP_SEEN_* */
	uint8_t detect_method;		/* caller, 0: how app_class was decided */
	uint8_t user_flags;		/* caller, 0: free for the caller */
	uint8_t state_flags;		/* caller, 0: free for the caller */
	uint32_t initiator_next;	/* caller: free for the caller */
} __attribute__((aligned(64)));

/* Why a flow left the table, as told to flow_table_params.on_remove. */
enum flow_remove_reason {
	FLOW_REMOVED_CLOSED,	/* idle timeout after FIN or RST */
	FLOW_REMOVED_AGED,	/* idle timeout in any other state */
	FLOW_REMOVED_EXPIRED,	/* timeout passed; reclaimed by an insert */
	FLOW_REMOVED_PRESSURE,	/* least recently seen, evicted for a new flow */
	FLOW_REMOVED_CALLER,	/* flow_table_remove() */
	FLOW_REMOVED_TABLE_FREE, /* flow_table_free() */
};

/*
 * Called with a flow about to be removed, so the caller can release what
 * it keeps for it (app_state) or report it. The callback must not call
 * into the table; the entry is reused after it returns.
 */
typedef void (*flow_remove_cb)(struct flow_entry *entry,
	enum flow_remove_reason reason, void *arg);

/*
 * Allocator for the table's memory (e.g. NUMA-local hugepages): returns
 * <size> bytes aligned to <align>, or NULL. The memory need not be zeroed.
 */
typedef void *(*flow_alloc_cb)(size_t size, size_t align, void *arg);
typedef void (*flow_free_cb)(void *ptr, void *arg);

/* flow_table_params.flags */
/*
 * Leave memory to be faulted in on first use instead of at creation. By
 * default creation touches all of it, so the data path never page-faults.
 */
#define FLOW_TABLE_F_NO_PREFAULT	0x01

struct flow_table_params {
	/* Entries: 1 to FLOW_TABLE_MAX_FLOWS, used exactly (no rounding). */
	uint32_t max_flows;
	/*
	 * Most flows marked live SMB at once, so that sessions cannot fill
	 * the table and lock new flows out; 0: no limit but max_flows.
	 */
	uint32_t max_live_smb;
	uint32_t flags;		/* FLOW_TABLE_F_* */
	/* Idle timeouts; 0 takes the FLOW_TIMEOUT_*_DEFAULT value. */
	uint64_t timeout_embryonic_ns;	/* SYN_SENT, SYN_RECV */
	uint64_t timeout_established_ns;
	uint64_t timeout_closing_ns;	/* one FIN */
	uint64_t timeout_closed_ns;	/* both FINs, or RST */
	uint64_t timeout_udp_ns;
	uint64_t timeout_other_ns;
	/*
	 * Recency granularity: flows seen within the same interval of this
	 * many ns (rounded up to a power of two) are equally recent, and
	 * flows age out between their timeout and timeout plus this. 1 gives
	 * exact LRU; 0 takes FLOW_LRU_GRANULARITY_NS_DEFAULT.
	 */
	uint64_t lru_granularity_ns;
	/* Secret for the keyed hash; 0 draws one from getrandom(). */
	uint64_t hash_seed;
	flow_remove_cb on_remove;	/* may be NULL */
	void *on_remove_arg;
	/* Both NULL: anonymous mmap with transparent hugepages advised. */
	flow_alloc_cb mem_alloc;
	flow_free_cb mem_free;
	void *mem_arg;
};

/* Counters. created = active + closed + aged + evicted_* + removed. */
struct flow_table_stats {
	uint64_t active;		/* flows in the table now */
	uint64_t active_live_smb;	/* of which marked live SMB */
	uint64_t created;
	uint64_t closed;		/* aged out after FIN or RST */
	uint64_t aged;			/* aged out in other states */
	uint64_t evicted_expired;	/* timed out, reclaimed by an insert */
	uint64_t evicted_pressure;	/* evicted while not timed out */
	uint64_t removed;		/* flow_table_remove() */
	uint64_t insert_failed;		/* no flow could be evicted */
	uint64_t live_smb_refused;	/* set_live_smb() over max_live_smb */
	uint64_t tcp_restarts;		/* SYN reopened a closed flow */
	uint64_t lookups;
	uint64_t hits;
};

struct flow_table;

/*
 * Maps <size> bytes of zeroed memory aligned to 2 MiB with transparent
 * hugepages advised, faulted in now when <prefault>: for the table and for
 * per-flow state kept beside it, which a large table touches at random
 * (4 KiB pages would make nearly every access a TLB miss). Sets
 * <mapped_size> to the length to give munmap(). Returns NULL on failure.
 */
void *
flow_huge_map(size_t size, bool prefault, size_t *mapped_size);

/*
 * Returns the bytes flow_table_create() allocates for <params>: the table
 * header, the index and the entries. Returns 0 and sets errno to EINVAL if
 * <params> is NULL or max_flows is out of range.
 */
size_t
flow_table_memory_bytes(const struct flow_table_params *params);

/*
 * Creates a table for params->max_flows flows, allocating all its memory.
 * Returns the table, or NULL with errno set: EINVAL for bad parameters
 * (max_flows out of range, only one of mem_alloc/mem_free given), ENOMEM
 * when memory cannot be had, or what getrandom() failed with.
 */
struct flow_table *
flow_table_create(const struct flow_table_params *params);

/*
 * Frees <table> and its memory, calling on_remove for every flow still in
 * it (reason FLOW_REMOVED_TABLE_FREE). NULL is accepted and ignored.
 */
void
flow_table_free(struct flow_table *table);

/* Flags of flow_table_lookup_bulk(). */
#define FLOW_LOOKUP_CREATE	0x01	/* insert flows not found */

/*
 * Looks up the flows of <count> packets whose keys are <keys>, at time
 * <now_ns>. For each packet i, entries_out[i] is its flow and dirs_out[i]
 * its direction (enum flow_dir); both ways of a connection give the same
 * entry. A hit refreshes the flow's last_seen_ns. With FLOW_LOOKUP_CREATE
 * a flow not found is inserted (see README.md for how the initiator is
 * chosen), evicting another if the table is full; several packets of one
 * new flow in the same call share one entry. A key with FLOW_KEY_NO_CREATE
 * in its hints is only looked up. entries_out[i] is NULL when the flow is
 * not found and not created, including when the table is full of flows
 * that cannot be evicted (counted insert_failed).
 * Returns the number of packets with an entry (0 to <count>).
 */
unsigned int
flow_table_lookup_bulk(struct flow_table *table, const struct flow_key *keys,
	unsigned int count, uint64_t now_ns, unsigned int flags,
	struct flow_entry **entries_out, uint8_t *dirs_out);

/* flow_table_update_tcp() result bits */
#define FLOW_TCP_STATE_CHANGED	0x01
#define FLOW_TCP_RESTARTED	0x02

/*
 * Advances the TCP state of <entry> with a packet of direction <dir>
 * carrying TCP flags <tcp_flags> (FLOW_TCPF_*) at <now_ns>, moving the flow
 * to the timeout of its new state. A SYN without ACK from the initiator on
 * a closing or closed flow starts a new connection on the same entry:
 * first_seen, packet and byte counts and tcp_seen are reset, the live SMB
 * mark is cleared, and the caller must reset its own fields (app_class,
 * app_state, ...). Calling it for the packet that created the flow is
 * harmless. Returns a mask of FLOW_TCP_STATE_CHANGED and
 * FLOW_TCP_RESTARTED; cannot fail.
 */
int
flow_table_update_tcp(struct flow_table *table, struct flow_entry *entry,
	uint8_t dir, uint8_t tcp_flags, uint64_t now_ns);

/*
 * Marks <entry> as carrying a live SMB session (<live> true) or not, at
 * the time of a packet of the flow (the mark moves the flow to the newest
 * end of another ageing list). Live flows still age out by idle timeout
 * but are never evicted under pressure. Returns 0, or -ENOSPC (counted
 * live_smb_refused, the flow stays unmarked) when params.max_live_smb
 * flows are already marked.
 */
int
flow_table_set_live_smb(struct flow_table *table, struct flow_entry *entry,
	bool live);

/*
 * Removes <entry> from <table>, calling on_remove (FLOW_REMOVED_CALLER).
 * <entry> must be a flow of <table> still in it. Cannot fail.
 */
void
flow_table_remove(struct flow_table *table, struct flow_entry *entry);

/*
 * Removes flows whose idle timeout has passed at <now_ns>, calling
 * on_remove for each, examining at most <max_work> flows (0: no limit).
 * Cheap when nothing is due: it reads one timestamp per ageing list.
 * Returns the number of flows removed.
 */
unsigned int
flow_table_expire(struct flow_table *table, uint64_t now_ns,
	unsigned int max_work);

/* Return nonzero to stop an iteration. */
typedef int (*flow_foreach_cb)(const struct flow_entry *entry, void *arg);

/*
 * Calls <cb> for every flow in <table>, in storage order, until it returns
 * nonzero. Returns 0 after the last flow, or the callback's nonzero value.
 */
int
flow_table_foreach(const struct flow_table *table, flow_foreach_cb cb,
	void *arg);

/*
 * Like flow_table_foreach() but in steps, for dumping from a worker loop
 * without stalling it: visits the flows among at most <max_slots> storage
 * slots from *cursor (0 to start) and advances *cursor. Flows inserted or
 * removed between steps may be missed or seen once. Returns 1 when the
 * walk is complete, 0 when more remains, or the callback's nonzero value
 * (then *cursor points after the flow it stopped at).
 */
int
flow_table_walk(const struct flow_table *table, uint32_t *cursor,
	uint32_t max_slots, flow_foreach_cb cb, void *arg);

/* Copies the counters of <table> into <stats>. Cannot fail. */
void
flow_table_stats(const struct flow_table *table,
	struct flow_table_stats *stats);

/* Returns the number of entries <table> holds at most. */
uint32_t
flow_table_capacity(const struct flow_table *table);

/*
 * Writes into <key> the key of <entry> seen from the initiator: src is the
 * initiator, dst the responder, tcp_flags 0. Cannot fail.
 */
void
flow_entry_key(const struct flow_entry *entry, struct flow_key *key);

/*
 * Fills <entry>, which belongs to no table, as an insert of packet <key>
 * at <now_ns> would fill a new flow (canonical key, initiator, TCP state,
 * caller fields at their initial values; no packets counted): for
 * reporting on a packet that takes no state, such as a SYN refused by
 * policy, with the functions that read flows (flow_entry_key(), ...).
 * Cannot fail.
 */
void
flow_entry_init_detached(struct flow_entry *entry, const struct flow_key *key,
	uint64_t now_ns);

/*
 * Checks every invariant of <table> (index, entries, ageing lists,
 * counters); O(capacity), for tests and debugging. Returns 0, or -EFAULT
 * at the first broken invariant.
 */
int
flow_table_validate(const struct flow_table *table);

/* Counts a packet of <bytes> bytes in direction <dir> of <entry>. */
static inline void
flow_entry_count(struct flow_entry *entry, uint8_t dir, uint32_t bytes)
{
	entry->packets[dir & 1]++;
	entry->bytes[dir & 1] += bytes;
}

/* Returns true when <entry> is marked as carrying a live SMB session. */
static inline bool
flow_entry_live_smb(const struct flow_entry *entry)
{
	return (entry->flags & FLOW_F_LIVE_SMB) != 0;
}

#endif /* SMBGW_FLOW_H */
