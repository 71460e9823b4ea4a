/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_APP_SUPERVISE_H
#define SMBGW_APP_SUPERVISE_H

/*
 * Living under a service manager (docs/operations.md, "Running under
 * systemd"): leftovers of a killed instance removed at start, READY=1 once
 * forwarding starts, WATCHDOG=1 only while every worker's heartbeat
 * advances, STOPPING=1 at shutdown; and the test-only commands that stall
 * a worker on purpose.
 */

#include <stdbool.h>
#include <stdint.h>

struct live_context;

/*
 * Before EAL: removes the DPDK run files and hugepage files of the file
 * prefix, and the control socket and its lock, when no live process holds
 * them. Returns 0, or -EBUSY with the cause in ctx->error when a live
 * process uses the file prefix.
 */
int
supervise_clean_leftovers(struct live_context *ctx);

/*
 * Once every module has started: reads $NOTIFY_SOCKET and $WATCHDOG_USEC,
 * starts watching the workers' heartbeats and sends READY=1.
 */
void
supervise_ready(struct live_context *ctx);

/* Each control loop pass: pets the watchdog when it is due and deserved. */
void
supervise_tick(struct live_context *ctx, uint64_t now_ns);

/* At shutdown, before the workers stop: STOPPING=1. */
void
supervise_stopping(struct live_context *ctx);

/*
 * The flag "debug stall-worker <worker_id>" sets, for struct worker's
 * stall; NULL beyond RTE_MAX_LCORE.
 */
const volatile bool *
supervise_stall_flag(unsigned int worker_id);

/*
 * Allows the "debug" control commands (smbgw ... -- --debug-commands).
 * Off unless asked for: they stop forwarding on purpose.
 */
void
supervise_allow_debug_commands(bool allow);

/*
 * Registers "debug stall-worker N" and "debug resume-worker N" when they
 * were allowed. Returns 0 or -errno.
 */
int
supervise_register_debug_commands(struct live_context *ctx);

#endif /* SMBGW_APP_SUPERVISE_H */
