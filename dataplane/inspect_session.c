/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser state pool, and what happens when it cannot serve a flow.
 *
 * States are taken from a free list when a flow first needs one.
 * Idle connections are cheap for a client and states are not, so the pool
 * is guarded three ways:
 *  - a per-client cap (flows.sessions_per_client): the flows one client
 *    initiated hold at most that many states, counted in a small table
 *    sized at start (dataplane/flow/flow_clients.h);
 *  - with no state free, the session that made the least progress gives
 *    its state up: sessions not yet authenticated sit on a list in the
 *    order of their last SMB message, and the oldest is taken once it has
 *    been quiet for flows.session_idle_reclaim_ms. One look at the list's
 *    head per allocation; a successful logon leaves the list for good;
 *  - a flow that still finds no state is judged by the strictest verdict
 *    its segment pair could reach: refused where an SMB-level rule could
 *    block, forwarded unparsed where none could, and without policy rules
 *    as gateway.fail_mode says. It is never parsed later (STATE_NONE_LEFT), so
 *    a connection is judged whole or refused, never picked up half-way.
 *
 * A state's tables (an SMB session's requests, trees, files and pipes, a
 * DCE/RPC association's contexts past the inline ones) grow into the
 * worker's chunk pool (flows.session_memory, flows.session_memory_max per
 * SMB session) and go back to it whenever the state does.
 */
#include "inspect_pvt.h"

_Static_assert(sizeof(struct session) <= SESSION_SIZE_MAX,
	"struct session outgrew its budget");

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

static void
idle_unlink(struct inspector *ins, struct session *session)
{
	if (session->idle_prev == FLOW_APP_STATE_NONE)
		ins->idle_head = session->idle_next;
	else
		ins->sessions[session->idle_prev].idle_next = session->idle_next;
	if (session->idle_next == FLOW_APP_STATE_NONE)
		ins->idle_tail = session->idle_prev;
	else
		ins->sessions[session->idle_next].idle_prev = session->idle_prev;
	session->flags &= ~SESSION_RECLAIMABLE;
}

static void
idle_append(struct inspector *ins, struct session *session, uint32_t index,
	uint64_t ts_ns)
{
	session->progress_ns = ts_ns;
	session->idle_next = FLOW_APP_STATE_NONE;
	session->idle_prev = ins->idle_tail;
	if (ins->idle_tail == FLOW_APP_STATE_NONE)
		ins->idle_head = index;
	else
		ins->sessions[ins->idle_tail].idle_next = index;
	ins->idle_tail = index;
	session->flags |= SESSION_RECLAIMABLE;
}

void
session_requeue(struct inspector *ins, struct session *session,
	uint64_t ts_ns)
{
	uint32_t index = (uint32_t)(session - ins->sessions);

	if (ins->idle_tail == index) {
		session->progress_ns = ts_ns;
		return;
	}
	idle_unlink(ins, session);
	idle_append(ins, session, index, ts_ns);
}

void
session_authenticated(struct inspector *ins, struct session *session)
{
	if (session->flags & SESSION_RECLAIMABLE)
		idle_unlink(ins, session);
}

/*
 * With no state free: takes the state of the session at the head of the
 * reclaim list if it has been quiet long enough at <now_ns>. Its flow
 * keeps its entry, loses its state for good, and is no longer kept from
 * eviction as live SMB. Returns true when a state was freed.
 */
static bool
reclaim_idle(struct inspector *ins, uint64_t now_ns)
{
	struct flow_entry *victim;
	struct session *oldest;

	if (ins->idle_head == FLOW_APP_STATE_NONE)
		return false;
	oldest = &ins->sessions[ins->idle_head];
	if (now_ns < oldest->progress_ns ||
			now_ns - oldest->progress_ns <
			ins->params.session_idle_reclaim_ns)
		return false;
	victim = oldest->flow;
	if (flow_entry_live_smb(victim))
		flow_table_set_live_smb(ins->flows, victim, false);
	session_release(ins, victim);
	victim->state_flags |= STATE_NONE_LEFT;
	ins->counters.sessions_reclaimed++;
	return true;
}

struct session *
session_alloc(struct inspector *ins, struct flow_entry *flow)
{
	struct session *session;
	uint32_t index;
	int ret;

	/* Judged without state once: it stays so (see the top). */
	if (flow->state_flags & STATE_NONE_LEFT)
		return NULL;
	ret = flow_client_acquire(ins->clients, flow,
		ins->params.sessions_per_client);
	if (ret == -EBUSY) {
		ins->counters.sessions_client_capped++;
		return NULL;
	}
	if (ret < 0) {	/* cannot happen: one client per state at most */
		ins->counters.sessions_exhausted++;
		return NULL;
	}
	if (ins->free_session == FLOW_APP_STATE_NONE &&
	    ins->fresh_session < ins->params.sessions) {
		/* Never taken yet: the pool's pages fill in index order. */
		ins->sessions[ins->fresh_session].next_free =
			FLOW_APP_STATE_NONE;
		ins->free_session = ins->fresh_session++;
	}
	if (ins->free_session == FLOW_APP_STATE_NONE &&
			!reclaim_idle(ins, flow->last_seen_ns)) {
		flow_client_release(ins->clients, flow);
		ins->counters.sessions_exhausted++;
		return NULL;
	}
	index = ins->free_session;
	session = &ins->sessions[index];
	ins->free_session = session->next_free;
	session->next_seq[0] = session->next_seq[1] = 0;
	session->watch_classes = 0;
	session->dialect = 0;
	session->flags = 0;
	stream_dir_init(&session->stream[0]);
	stream_dir_init(&session->stream[1]);
	session->flow = flow;
	idle_append(ins, session, index, flow->last_seen_ns);
	if (flow->app_class == FLOW_APP_SMB) {
		smb_state_init(&session->parser.smb, ins->session_memory);
	} else {
		dcerpc_conn_init(&session->parser.dcerpc);
		dcerpc_conn_set_memory(&session->parser.dcerpc,
			ins->session_memory, SMB_CHUNK_ENTRY, SMB_CHUNK_BUFFER,
			NULL);
	}
	session->flags |= SESSION_TABLES;
	flow->app_state = index;
	return session;
}

void
session_release(struct inspector *ins, struct flow_entry *flow)
{
	uint32_t index = flow->app_state;
	struct session *session;

	flow->state_flags = 0;
	if (index == FLOW_APP_STATE_NONE)
		return;
	session = &ins->sessions[index];
	if (session->flags & SESSION_RECLAIMABLE)
		idle_unlink(ins, session);
	/* Its streams' share goes back while its client is still counted. */
	stream_release(ins, session);
	/* Its tables' chunks go back to the worker's pool. */
	if (session->flags & SESSION_TABLES) {
		if (flow->app_class == FLOW_APP_SMB)
			smb_state_release(&session->parser.smb);
		else
			dcerpc_conn_release(&session->parser.dcerpc);
	}
	session->flags = 0;
	flow_client_release(ins->clients, flow);
	session->flow = NULL;
	session->next_free = ins->free_session;
	ins->free_session = index;
	flow->app_state = FLOW_APP_STATE_NONE;
}

/*
 * A segment <m> (<frame>) of SMB or DCE/RPC flow <flow> for which
 * session_alloc() found no state; <verdict> is the flow's pair verdict.
 * Returns DROP_REASON_MAX to forward the frame unparsed, or why to drop it.
 * Counted once per flow: later frames of a refused flow are dropped by its
 * cached verdict, those of an unparsed flow pass here again.
 */
uint8_t
session_unavailable(struct inspector *ins, struct flow_entry *flow,
	struct policy_verdict verdict, const struct rte_mbuf *m,
	const struct decoded_frame *frame, uint64_t ts_ns)
{
	bool first = !(flow->state_flags & STATE_NONE_LEFT);
	uint16_t client_segment, server_segment;
	struct policy_verdict strictest;

	flow->state_flags |= STATE_NONE_LEFT;
	/* Without rules nothing is judged: the configured fail mode says. */
	if (ins->policy == NULL || policy_rule_count(ins->policy) == 0) {
		if (ins->params.fail_mode == INSPECT_FAIL_CLOSED) {
			ins->counters.sessions_refused += first;
			return DROP_STATE_FULL;
		}
		ins->counters.sessions_unparsed += first;
		goto report;
	}
	if (!(verdict.flags & POLICY_VERDICT_SMB_BLOCKS)) {
		/* Nothing a message could meet would block: let it flow. */
		ins->counters.sessions_unparsed += first;
		goto report;
	}

	/*
	 * A message of this connection could be denied, and none will be
	 * seen: deny it as its first blocking rule would. The verdict is
	 * cached in the flow, so its later frames are dropped before they
	 * get here, until a reload judges the flow anew.
	 */
	flow_segments(ins, flow, &client_segment, &server_segment);
	strictest = policy_smb_strictest(ins->policy, client_segment,
		server_segment);
	flow->policy_verdict = verdict_pack(strictest);
	ins->counters.sessions_refused++;
	send_policy_event(ins, flow, ts_ns, EVENT_POLICY_NO_STATE, strictest,
		client_segment, server_segment);
	if (!(flow->user_flags & USER_REPORTED)) {
		/* The report counts it denied for its pair. */
		flow->user_flags |= USER_REPORTED;
		send_flow_event(ins, flow, ts_ns, EVENT_FLOW_CLASSIFIED, 0);
	}
	if (strictest.flags & POLICY_VERDICT_RESET)
		reset_connection(ins, flow, m, frame);
	return DROP_POLICY;

report:
	if (!(flow->user_flags & USER_REPORTED)) {
		flow->user_flags |= USER_REPORTED;
		send_flow_event(ins, flow, ts_ns, EVENT_FLOW_CLASSIFIED, 0);
	}
	return DROP_REASON_MAX;
}

/* Every state free, the reclaim list empty. */
void
sessions_init(struct inspector *ins)
{
	/* None on the free list: session_alloc() takes the never used ones
	 * in index order, so that only the states used are touched. */
	ins->free_session = FLOW_APP_STATE_NONE;
	ins->fresh_session = 0;
	ins->idle_head = FLOW_APP_STATE_NONE;
	ins->idle_tail = FLOW_APP_STATE_NONE;
}
