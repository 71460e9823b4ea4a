/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_APP_GATEWAY_H
#define SMBGW_APP_GATEWAY_H

/*
 * The two ways the daemon runs once its configuration is loaded: live on
 * DPDK ports, or offline over a capture file. Both return the process
 * exit status.
 */

#include <stddef.h>

#include "config.h"

struct endpoint_registry;
struct gw_event;
struct inspector;
struct policy_publisher;
struct rte_mempool;
struct rte_ring;
struct watchlist;
struct worker_link;

/* Runs on the ports of <cfg>; <eal_argc>/<eal_argv> go to rte_eal_init. */
int
gateway_run_live(const struct gateway_config *cfg, int eal_argc,
	char **eal_argv);

/* Runs the worker pipeline over the capture <pcap_path> and summarises. */
int
gateway_run_offline(const struct gateway_config *cfg, const char *pcap_path);

/*
 * Compiles the watchlists of <cfg>. Returns NULL with a message in
 * <error> on failure (the loader has checked them, so only memory runs
 * short here).
 */
struct watchlist *
gateway_watchlist_create(const struct gateway_config *cfg, char *error,
	size_t error_len);

/*
 * Creates worker <worker_id>'s single-producer/single-consumer ring of
 * <size> events on NUMA <socket>. Returns NULL and sets rte_errno.
 */
struct rte_ring *
gateway_event_ring_create(unsigned int worker_id, unsigned int size,
	int socket);

/*
 * Creates worker <worker_id>'s inspector as <cfg> says, sending events to
 * <events> (or, when NULL, straight to <event_fn> with <event_ctx>),
 * reading the policy of <policy> (may be NULL) and taking TCP resets from
 * <reset_pool>. <live>: it serves ports (inline: it may drop what it
 * forwards), not a capture file. Returns NULL and sets errno.
 */
struct inspector *
gateway_inspector_create(const struct gateway_config *cfg, bool live,
	unsigned int worker_id, struct rte_ring *events,
	const struct watchlist *watchlist, struct policy_publisher *policy,
	struct rte_mempool *reset_pool,
	struct endpoint_registry *endpoints,
	void (*event_fn)(void *ctx, const struct gw_event *ev), void *event_ctx);

/*
 * The learned DCE/RPC endpoints of <tables> workers and the dynamic port
 * ranges, from the dcerpc { } group. NULL with errno set on failure.
 */
struct endpoint_registry *
gateway_endpoints_create(const struct gateway_config *cfg,
	unsigned int tables);

/*
 * Gives <link> (its pool set) the fragment table stream.fragments asks for, on NUMA
 * <socket> (none for "forward"). Returns 0, or -ENOMEM with a one-line
 * cause in <error>.
 */
int
gateway_fragments_create(const struct gateway_config *cfg,
	struct worker_link *link, int socket, char *error, size_t error_len);

/*
 * Builds the policy of <cfg> as generation <generation> and publishes it
 * for <readers> workers. Returns the publisher, or NULL with a one-line
 * cause in <error>.
 */
struct policy_publisher *
gateway_policy_start(const struct gateway_config *cfg, unsigned int readers,
	unsigned int generation, char *error, size_t error_len);

/*
 * Releases EAL (rte_eal_cleanup) and removes this process's EAL run
 * directory. Call once, last.
 */
void
gateway_eal_cleanup(void);

#endif /* SMBGW_APP_GATEWAY_H */
