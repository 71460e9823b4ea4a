/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_LIVE_PVT_H
#define SMBGW_LIVE_PVT_H

/*
 * The running gateway's state: the module table and control loop
 * (live.c). Only the control thread touches it, except the worker
 * structures, which the control side only reads. The control API over it
 * is the gateway object (control/gateway_api.h), given the data plane as
 * callbacks (live_dataplane()).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_lcore.h>

#include "config.h"
#include "gateway_api.h"
#include "ports.h"

#define ERROR_LEN 512

struct ctl_server;
struct gateway;
struct policy_publisher;
struct rte_mempool;
struct flowlog;
struct monitor;
struct rte_ring;
struct watchlist;
struct worker;

struct live_context {
	const struct gateway_config *cfg;
	int eal_argc;
	char **eal_argv;
	struct port_set ports;
	unsigned int worker_count;
	struct worker *workers[RTE_MAX_LCORE];
	unsigned int worker_lcores[RTE_MAX_LCORE];
	struct rte_ring *events[RTE_MAX_LCORE];
	struct watchlist *watchlist;
	struct endpoint_registry *endpoints;	/* learned DCE/RPC endpoints */
	struct flowlog *flowlog;
	struct monitor *monitor;
	struct policy_publisher *policy;
	struct rte_mempool *reset_pools[RTE_MAX_LCORE];
	struct ctl_server *ctl;
	struct gateway *gateway;	/* the control API */
	uint64_t start_ns;		/* CLOCK_MONOTONIC, for uptime */
	bool workers_launched;
	char error[ERROR_LEN];
};

/* The data plane of <ctx> as the control API reads it. */
void
live_dataplane(struct live_context *ctx, struct gateway_dataplane *out);

#endif /* SMBGW_LIVE_PVT_H */
