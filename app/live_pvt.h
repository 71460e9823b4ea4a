/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_LIVE_PVT_H
#define SMBGW_LIVE_PVT_H

/*
 * The running gateway's state, shared by the module table and control loop
 * (live.c) and the control API with its socket commands (commands.c).
 * Only the control thread touches it, except the worker structures, which
 * the control side only reads.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_lcore.h>

#include "config.h"
#include "config_reload.h"
#include "ports.h"

#define ERROR_LEN 512

struct ctl_server;
struct policy_publisher;
struct policy_spec;
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
	struct flowlog *flowlog;
	struct monitor *monitor;
	struct policy_publisher *policy;
	struct policy_spec *policy_spec;	/* the running policy's source */
	struct rte_mempool *reset_pools[RTE_MAX_LCORE];
	struct ctl_server *ctl;
	uint64_t generation;		/* configurations accepted, from 1 */
	uint64_t start_tsc;
	bool workers_launched;
	char error[ERROR_LEN];
};

/*
 * The control API: the control socket, SIGHUP and smbgwctl all end here.
 */

/*
 * Reads the configuration file again and checks it in full. A valid file
 * is accepted: its policy is published (the generation goes up), and every
 * other key that differs from the running configuration, which only takes
 * effect at restart, is listed in <changes>. A file with errors, or one
 * that cannot be read (not a regular file, too big, ...), is rejected with
 * them in <errors> and changes nothing. Returns 0 or -EINVAL.
 */
int
gateway_reload(struct live_context *ctx, struct config_errors *errors,
	struct config_changes *changes);

/* Reopens the EVE log (after logrotate). Returns 0 or -errno. */
int
gateway_reopen_logs(struct live_context *ctx);

/* Sets "enforce" or "monitor-only". Returns 0 or -EINVAL. */
int
gateway_set_mode(struct live_context *ctx, const char *mode);

/* Registers every control socket command of <ctx>. Returns 0 or -errno. */
int
commands_register(struct live_context *ctx);

#endif /* SMBGW_LIVE_PVT_H */
