/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_TEST_SMB_COUNTED_STATE_H
#define SMBGW_TEST_SMB_COUNTED_STATE_H

/*
 * SMB parser states for the unit tests that read a connection's own
 * counters (a worker's states count into one sum; see
 * smb_state_set_counters()), and the tables' pool, one per process as a
 * worker has one. Include after <cmocka.h>, "chunk.h" and "smb.h".
 */

#include <stdlib.h>
#include <string.h>

/* The tables' pool, one for the process as a worker has one. */
static struct chunk_pool *
test_pool(void)
{
	static struct chunk_pool *pool;

	if (pool == NULL) {
		struct chunk_pool_params params = { .budget = 64u << 20 };

		smb_chunk_params(&params);
		pool = chunk_pool_create(&params);
		assert_non_null(pool);
	}
	return pool;
}

/* A state and the counters it counts into. */
struct counted_state {
	struct smb_state st;
	struct smb_counters counters;
};

/* Room for a state and, after it, the counters it counts into. */
static struct smb_state *
state_alloc(void)
{
	struct counted_state *cs = aligned_alloc(64,
		(sizeof(*cs) + 63) / 64 * 64);

	assert_non_null(cs);
	return &cs->st;
}

/* smb_state_init(), counting into the counters after <st>, zeroed. */
static void
state_init(struct smb_state *st, struct chunk_pool *pool)
{
	struct counted_state *cs = (struct counted_state *)(void *)st;

	smb_state_init(st, pool);
	memset(&cs->counters, 0, sizeof(cs->counters));
	smb_state_set_counters(st, &cs->counters);
}

#endif
