/* SPDX-License-Identifier: BSD-3-Clause */
#include "inspect_pvt.h"

void
prefetch_session(const struct inspector *ins, const struct flow_entry *flow,
	uint8_t dir)
{
	const struct session *session;

	if (flow->app_state == FLOW_APP_STATE_NONE)
		return;
	session = &ins->sessions[flow->app_state];
	rte_prefetch0(session);
	if (flow->app_class == FLOW_APP_SMB)
		smb_state_prefetch(&session->parser.smb,
			dir == FLOW_DIR_ORIG ? SMB_DIR_TO_SERVER :
			SMB_DIR_TO_CLIENT);
}

struct session *
session_alloc(struct inspector *ins, struct flow_entry *flow)
{
	struct session *session;
	uint32_t index = ins->free_session;

	if (index == FLOW_APP_STATE_NONE) {
		ins->counters.sessions_exhausted++;
		return NULL;
	}
	session = &ins->sessions[index];
	ins->free_session = session->next_free;
	session->next_seq[0] = session->next_seq[1] = 0;
	session->watch_classes = 0;
	session->dialect = 0;
	session->flags = 0;
	stream_dir_init(&session->stream[0]);
	stream_dir_init(&session->stream[1]);
	if (flow->app_class == FLOW_APP_SMB)
		smb_state_init(&session->parser.smb);
	else
		dcerpc_conn_init(&session->parser.dcerpc);
	flow->app_state = index;
	return session;
}

void
session_release(struct inspector *ins, struct flow_entry *flow)
{
	uint32_t index = flow->app_state;

	if (index == FLOW_APP_STATE_NONE)
		return;
	stream_release(ins, &ins->sessions[index]);
	ins->sessions[index].next_free = ins->free_session;
	ins->free_session = index;
	flow->app_state = FLOW_APP_STATE_NONE;
}
