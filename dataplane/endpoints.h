/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_ENDPOINTS_H
#define SMBGW_ENDPOINTS_H

/*
 * Expected DCE/RPC endpoints: (server address, TCP port) -> interface,
 * learned from the endpoint mapper's ept_map answers and DCOM's string
 * bindings, so that a later connection to a dynamic port is known as
 * DCE/RPC "by endpoint mapper", with its interface, even when its BIND is
 * not seen; and the Windows dynamic port ranges where DCE/RPC is normal.
 *
 * Layout: one table per worker, written only by its worker (the answer is
 * parsed there), read by every worker. A client's ept_map connection and
 * its connection to the port it was given have different ports, so RSS
 * usually puts them on different workers: a table private to each worker
 * would miss most of them. One writer per table needs no lock; readers
 * check an entry's sequence number before and after copying it, and retry
 * (a few times) when a write was under way. A lookup probes one bucket of
 * each worker's table, and happens only when a flow is classified, not per
 * packet.
 *
 * Each table is bounded (entries fixed at creation, set-associative
 * buckets of ENDPOINT_BUCKET_WAYS): a new endpoint takes a free or expired
 * way of its bucket, else evicts the way that expires first (counted).
 * Entries expire <expiry_ns> after they were last learned; an answer
 * naming the endpoint again renews it.
 *
 * DPDK-free: unit-tested alone. Memory is allocated at creation only.
 */

#include <stdbool.h>
#include <stdint.h>

#define ENDPOINT_BUCKET_WAYS	8
#define ENDPOINT_TABLES_MAX	64
#define ENDPOINT_RANGES_MAX	8

/* Defaults of the dcerpc { } configuration group. */
#define ENDPOINT_DEFAULT_ENTRIES	4096
#define ENDPOINT_DEFAULT_EXPIRY_S	1800

struct endpoint_registry;

/* What a lookup finds. */
struct endpoint_info {
	uint8_t iface_uuid[16];	/* all zero when the answer named none */
	uint16_t iface_ver_major;
	uint64_t expires_ns;
	unsigned int table;	/* the worker that learned it */
};

/* One worker's counters; summed by the caller. */
struct endpoint_counters {
	uint64_t learned;	/* new entries */
	uint64_t renewed;	/* entries learned again */
	uint64_t evicted;	/* unexpired entries pushed out by a new one */
	uint64_t hits;		/* lookups by this worker that found one */
};

/* An inclusive port range [first, last]. */
struct endpoint_port_range {
	uint16_t first;
	uint16_t last;
};

/*
 * Creates <tables> tables (one per worker, 1..ENDPOINT_TABLES_MAX) of
 * <entries> each (rounded up to a power of two, at least one bucket),
 * entries living <expiry_ns>, and the dynamic port ranges <ranges>
 * (<range_count> up to ENDPOINT_RANGES_MAX; NULL and 0 for none).
 * Returns NULL with errno set (EINVAL, ENOMEM).
 */
struct endpoint_registry *
endpoint_registry_create(unsigned int tables, uint32_t entries,
			 uint64_t expiry_ns,
			 const struct endpoint_port_range *ranges,
			 unsigned int range_count);

void
endpoint_registry_free(struct endpoint_registry *reg);

/* The Windows defaults: 49152-65535 (Vista and later), 1024-5000 (older). */
extern const struct endpoint_port_range endpoint_default_ranges[2];

/* What endpoint_learn() did. */
enum endpoint_learn_result {
	ENDPOINT_REFUSED = -1,	/* bad arguments: nothing stored */
	ENDPOINT_LEARNED = 0,	/* a new entry in a free or expired way */
	ENDPOINT_RENEWED,	/* the entry was there: expiry renewed */
	ENDPOINT_EVICTED,	/* a new entry in place of an unexpired one */
};

/*
 * Worker <table> learns that <addr> (IPv4 in the first 4 bytes for
 * <ip_version> 4, else 16 bytes of IPv6) serves <iface_uuid> (may be
 * NULL: unknown) on TCP <port>, at <now_ns>. Only that worker may call
 * this for that table.
 */
enum endpoint_learn_result
endpoint_learn(struct endpoint_registry *reg, unsigned int table,
	       const uint8_t addr[16], uint8_t ip_version, uint16_t port,
	       const uint8_t *iface_uuid, uint16_t iface_ver_major,
	       uint64_t now_ns);

/*
 * Whether any worker learned <addr>:<port> and it has not expired at
 * <now_ns>; fills <info> when it is found (may be NULL). <table> is the
 * calling worker, whose hit is counted. The caller's own table is
 * looked at first.
 */
bool
endpoint_lookup(struct endpoint_registry *reg, unsigned int table,
		const uint8_t addr[16], uint8_t ip_version, uint16_t port,
		uint64_t now_ns, struct endpoint_info *info);

/* Whether <port> is in one of the dynamic ranges. */
bool
endpoint_port_dynamic(const struct endpoint_registry *reg, uint16_t port);

/* Counters of worker <table>. */
void
endpoint_counters_get(const struct endpoint_registry *reg, unsigned int table,
		      struct endpoint_counters *out);

/* Entries in use and not expired at <now_ns> in worker <table>. */
uint32_t
endpoint_count(const struct endpoint_registry *reg, unsigned int table,
	       uint64_t now_ns);

/* Tables of the registry. */
unsigned int
endpoint_table_count(const struct endpoint_registry *reg);

#endif /* SMBGW_ENDPOINTS_H */
