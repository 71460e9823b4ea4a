/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_HEARTBEAT_H
#define SMBGW_HEARTBEAT_H

/*
 * The watchdog's judgement of the workers. Each worker counts its loop
 * passes (its heartbeat); the control core samples every counter once a
 * period and pets the service manager's watchdog only when every one of
 * them moved since the last sample. A worker stuck in a loop, a lock or a
 * driver call stops its counter, the pets stop, and the service manager
 * restarts the gateway. A stuck control core stops them too.
 */

#include <stdbool.h>
#include <stdint.h>

#define HEARTBEAT_WORKERS_MAX 128

struct heartbeat_watch {
	unsigned int workers;
	uint64_t period_ns;		/* 0: no watchdog */
	uint64_t next_ns;		/* when to sample next */
	uint64_t seen[HEARTBEAT_WORKERS_MAX];
	bool stalled;			/* at the last sample */
	unsigned int stalled_worker;	/* the first one found stuck */
};

enum heartbeat_verdict {
	HEARTBEAT_WAIT,		/* not time to sample yet */
	HEARTBEAT_ALIVE,	/* every worker moved: pet the watchdog */
	HEARTBEAT_STALLED,	/* a worker did not move: do not pet */
};

/*
 * Starts watching <workers> counters (<beats>) at <now_ns>, sampling every
 * <watchdog_usec> / 2 (the interval sd_watchdog_enabled(3) advises).
 * <watchdog_usec> 0 disables the watch. Returns 0 or -EINVAL (too many
 * workers).
 */
int
heartbeat_watch_init(struct heartbeat_watch *hw, uint64_t watchdog_usec,
	unsigned int workers, const uint64_t *beats, uint64_t now_ns);

/*
 * Samples <beats> if a period has passed since the last sample. A worker
 * that stopped right after one sample is seen at the second: the last pet
 * comes at most one watchdog interval after a stall.
 */
enum heartbeat_verdict
heartbeat_watch_tick(struct heartbeat_watch *hw, const uint64_t *beats,
	uint64_t now_ns);

#endif /* SMBGW_HEARTBEAT_H */
