/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "heartbeat.h"

int
heartbeat_watch_init(struct heartbeat_watch *hw, uint64_t watchdog_usec,
	unsigned int workers, const uint64_t *beats, uint64_t now_ns)
{
	memset(hw, 0, sizeof(*hw));
	if (workers > HEARTBEAT_WORKERS_MAX)
		return -EINVAL;
	hw->workers = workers;
	hw->period_ns = watchdog_usec * 1000 / 2;
	hw->next_ns = now_ns + hw->period_ns;
	if (workers > 0)
		memcpy(hw->seen, beats, workers * sizeof(beats[0]));
	return 0;
}

enum heartbeat_verdict
heartbeat_watch_tick(struct heartbeat_watch *hw, const uint64_t *beats,
	uint64_t now_ns)
{
	unsigned int w;

	if (hw->period_ns == 0 || now_ns < hw->next_ns)
		return HEARTBEAT_WAIT;
	/* From now: a control core that fell behind does not sample twice. */
	hw->next_ns = now_ns + hw->period_ns;
	hw->stalled = false;
	for (w = 0; w < hw->workers; w++) {
		if (beats[w] == hw->seen[w] && !hw->stalled) {
			hw->stalled = true;
			hw->stalled_worker = w;
		}
		hw->seen[w] = beats[w];
	}
	return hw->stalled ? HEARTBEAT_STALLED : HEARTBEAT_ALIVE;
}
