/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_FLOW_CLIENTS_H
#define SMBGW_FLOW_CLIENTS_H

/*
 * Per-client counts beside a flow table: how many of something (parser
 * states) the flows one client initiated hold, so that no client can take
 * more than its share. A client is the initiator's address (IPv4 or IPv6)
 * with the flow's VLAN IDs, read from the flow's stored key.
 *
 * One table per worker, never shared, no locks. All memory is allocated
 * and touched at creation; acquire and release never allocate. A client
 * is in the table only while its count is above zero, so a table made for
 * <max_clients> never fills when every counted thing belongs to one of at
 * most that many clients (e.g. max_clients = the number of parser states).
 * Open addressing with linear probing, at most half full, keys hashed with
 * a per-table seed so that no one can choose addresses that collide.
 */

#include <stdint.h>

#include "flow.h"

struct flow_client_table;

/*
 * Creates a table for up to <max_clients> clients with counts above zero
 * (1 to 2^30), hashed with <seed>. Returns NULL and sets errno (EINVAL,
 * ENOMEM) on failure.
 */
struct flow_client_table *
flow_client_table_create(uint32_t max_clients, uint32_t seed);

/* Frees <t>; NULL is ignored. */
void
flow_client_table_free(struct flow_client_table *t);

/*
 * Adds one to the count of <flow>'s initiator unless that count is already
 * <cap> (0: no cap). Returns 0, -EBUSY at the cap (nothing counted), or
 * -ENOSPC when the client is new and max_clients clients are counted.
 */
int
flow_client_acquire(struct flow_client_table *t,
	const struct flow_entry *flow, uint32_t cap);

/*
 * Takes one from the count of <flow>'s initiator; a client whose count
 * reaches zero leaves the table. A client not in the table is ignored.
 */
void
flow_client_release(struct flow_client_table *t,
	const struct flow_entry *flow);

/* The count of <flow>'s initiator: 0 when it is not in the table. */
uint32_t
flow_client_count(const struct flow_client_table *t,
	const struct flow_entry *flow);

/* Clients with a count above zero. */
/*
 * Segments the flows of <flow>'s client keep waiting ahead of holes in
 * their streams (a share of the stream normaliser's pool): read, and
 * changed by <delta>. A client not in the table holds none.
 */
uint32_t
flow_client_held(const struct flow_client_table *t,
	const struct flow_entry *flow);

void
flow_client_held_add(struct flow_client_table *t,
	const struct flow_entry *flow, int32_t delta);

uint32_t
flow_client_table_clients(const struct flow_client_table *t);

#endif /* SMBGW_FLOW_CLIENTS_H */
