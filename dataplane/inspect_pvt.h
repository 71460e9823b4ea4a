/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_INSPECT_PVT_H
#define SMBGW_INSPECT_PVT_H

/*
 * The inspector's insides, shared by its parts: inspect.c (the burst, the
 * flow table and each TCP segment), inspect_classify.c (SMB or DCE/RPC by
 * port or content), inspect_session.c (the parser state pool),
 * inspect_facts.c (parser facts to counters, events and SMB-level rules),
 * inspect_events.c (building and sending events) and inspect_policy.c
 * (verdicts, SMB-level rules and resets). Nothing outside
 * dataplane/inspect*.c includes it.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "dcerpc.h"
#include "endpoints.h"
#include "event.h"
#include "flow.h"
#include "flow_clients.h"
#include "inspect.h"
#include "match.h"
#include "policy.h"
#include "smb.h"

#define PORT_NETBIOS_SSN 139
#define PORT_SMB 445
#define PORT_EPMAP 135
#define PORT_RPC_OVER_HTTP 593	/* ncacn_http, the RPC over HTTP proxy */
#define PORT_NETBIOS_NS 137
#define PORT_NETBIOS_DGM 138

/* Bits of flow_entry.user_flags; the low bits count examined payloads. */
#define USER_EXAMINED_MASK	0x0f
#define USER_NONSTANDARD_PORT	0x10
#define USER_RESET_SENT		0x20	/* the policy's resets went out */
#define USER_REPORTED		0x40	/* "classified" sent to the control core */
#define USER_UNJUDGED		0x80	/* a hole was given up (fail open) */

/*
 * Bits of flow_entry.state_flags: the flow's parser state. Cleared when
 * the flow gives its state back (session_release()), a TCP restart too.
 */
#define STATE_NONE_LEFT		0x01	/* found no state, or lost it: never parsed */
/* flow_entry.initiator_next holds where the initiator's bytes start, as
 * the responder's SYN-ACK acknowledged: the stream starts there. */
#define STATE_INITIATOR_NEXT	0x02
/* The flow's packets came inside tunnels of these kinds: decode.h's
 * DECODE_TUNNEL_* bits, shifted. */
#define STATE_TUNNEL_SHIFT	2
#define STATE_TUNNEL_IP		(DECODE_TUNNEL_IP << STATE_TUNNEL_SHIFT)
#define STATE_TUNNEL_GRE	(DECODE_TUNNEL_GRE << STATE_TUNNEL_SHIFT)

/*
 * Parser states populated at start; the rest of flows.sessions is
 * reserved and faulted in as first used (32 MiB at 512 bytes a state).
 */
#define INSPECT_SESSIONS_POPULATED	(1u << 16)

/* Bits of session.flags. */
#define SESSION_LIVE		0x01	/* flow marked live SMB */
#define SESSION_SEQ_ORIG	0x02	/* next_seq[ORIG] known (DCE/RPC over TCP) */
#define SESSION_SEQ_REPLY	0x04
#define SESSION_ENCRYPTED	0x08	/* encrypted fact already reported */
#define SESSION_COMPRESSED	0x10
#define SESSION_UNVERIFIABLE	0x20	/* judged as unreadable (this generation) */
#define SESSION_RECLAIMABLE	0x40	/* on the reclaim list: not authenticated */
#define SESSION_TABLES		0x80	/* the parser may hold chunks of the pool */

/*
 * Parser state for one SMB or DCE/RPC flow, from a fixed pool. The small
 * fields share the first cache line, which the parser's own hot lines
 * follow. The parser's tables and its buffers in flight live apart, in
 * chunks of inspector.session_memory taken as the session needs them and
 * given back by the parser or at session_release() (SESSION_TABLES).
 */
struct session {
	uint32_t next_seq[2];
	uint32_t watch_classes;	/* all classes seen on the flow */
	uint32_t next_free;
	uint16_t dialect;
	uint16_t client_segment;	/* of the policy generation cached in the flow */
	uint16_t server_segment;
	uint8_t flags;
	/* Stream normalisation, by direction (FLOW_DIR_*). */
	struct stream_dir stream[2];
	/* The reclaim list, oldest progress first (SESSION_RECLAIMABLE). */
	uint32_t idle_prev;
	uint32_t idle_next;
	uint64_t progress_ns;	/* taken, or its last SMB message */
	struct flow_entry *flow;	/* the owner, while taken */
	union {
		struct smb_state smb;
		struct dcerpc_conn dcerpc;
	} parser;
};

/*
 * Bytes of struct session, the fixed part of a parsed flow's state (one
 * per flows.sessions): 128 of flow-level state and stream positions, then
 * the SMB parser's SMB_STATE_SIZE (a DCE/RPC association is smaller). The
 * rest (tables, buffers in flight) comes from chunks as used. Checked at
 * compile time and by the unit test; docs/benchmarks.md, "Session
 * memory", has the history.
 */
#define SESSION_SIZE_MAX	512

/*
 * A SYN refused without a flow (syn_verdict()), remembered so that its
 * retransmissions (the same connection and initial sequence number,
 * within REFUSED_SYN_WINDOW_NS) are refused again without being reported
 * as new connection attempts. Direct-mapped: a collision only forgets.
 */
#define REFUSED_SYN_SLOTS	1024	/* a power of two */
#define REFUSED_SYN_WINDOW_NS	(60ull * 1000000000ull)

struct refused_syn {
	uint32_t tag;		/* hash of the connection, never 0 when used */
	uint32_t seq;		/* the SYN's initial sequence number */
	uint64_t ts_ns;		/* when it was last refused */
};

struct inspector {
	struct inspector_params params;
	const struct policy *policy;	/* this burst's */
	uint32_t policy_gen;	/* its generation (flow_verdict()'s compare) */
	struct inspect_generated *generated;	/* this burst's */
	/*
	 * Flows recognised by content, by server port: packets to or from
	 * these ports are looked up even without SMB bytes of their own.
	 */
	uint32_t content_ports[UINT16_MAX + 1];
	/*
	 * Per port, whether its packets are SMB candidates: PORT_WATCHED for
	 * 139, 445 and 135, INSPECT_PORT_CONTENT while content_ports is not 0. One
	 * load per port tells the fast path it has nothing to look up.
	 */
	uint8_t port_flags[UINT16_MAX + 1];
	struct flow_table *flows;
	struct session *sessions;
	size_t sessions_bytes;
	uint32_t free_session;		/* head of the free list */
	uint32_t fresh_session;		/* states from here on never taken */
	uint32_t idle_head;		/* reclaim list: oldest progress */
	uint32_t idle_tail;
	struct flow_client_table *clients;	/* states held per client */
	struct watchlist_scratch *watch_scratch;
	struct stream_pool *stream;	/* NULL: stream normalisation off */
	struct endpoint_registry *endpoints;	/* never NULL once created */
	unsigned int endpoint_table;	/* the table this worker writes */
	bool endpoints_owned;		/* private: freed with the inspector */
	struct chunk_pool *session_memory;	/* the SMB sessions' tables */
	struct gw_event local_event;	/* see event_begin() */
	struct refused_syn refused_syns[REFUSED_SYN_SLOTS];
	/* SMB over QUIC: the Initial reader, a datagram made contiguous. */
	struct quic_reader *quic;
	uint8_t *quic_datagram;
	/* reads left, in billionths, and when they were last refilled */
	uint64_t quic_budget;
	uint64_t quic_budget_ns;
	struct inspect_counters counters;
};

/* Context of one parser feed call, for the fact callbacks. */
struct fact_context {
	struct inspector *ins;
	struct flow_entry *flow;
	struct session *session;
	const struct policy *policy;	/* this burst's, or NULL */
	bool smb_rules;			/* the pair has conditional rules */
	bool deny;			/* an SMB message met a blocking rule */
	struct policy_verdict denial;
	uint8_t dir;			/* of the segment being fed */
	uint64_t ts_ns;			/* its time */
};

/* A verdict as cached in flow_entry.policy_verdict. */
static inline uint32_t
verdict_pack(struct policy_verdict v)
{
	return (uint32_t)v.rule << 16 | (uint32_t)v.action << 8 | v.flags;
}

static inline struct policy_verdict
verdict_unpack(uint32_t packed)
{
	struct policy_verdict v = {
		.rule = packed >> 16,
		.action = (packed >> 8) & 0xff,
		.flags = packed & 0xff,
	};

	return v;
}

static inline bool
is_session_app(uint8_t app)
{
	return app == FLOW_APP_SMB || app == FLOW_APP_DCERPC;
}

static inline struct session *
session_of(struct inspector *ins, const struct flow_entry *flow)
{
	if (flow->app_state == FLOW_APP_STATE_NONE)
		return NULL;
	return &ins->sessions[flow->app_state];
}

/* inspect_events.c */
struct gw_event *
event_begin(struct inspector *ins, bool needed);
void
event_init(struct gw_event *ev, const struct inspector *ins,
	const struct flow_entry *flow, uint64_t ts_ns, uint8_t kind,
	uint8_t subtype);
void
event_send(struct inspector *ins, struct gw_event *ev);
void
send_flow_event(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_flow_type type, uint8_t end_reason);
/*
 * send_flow_event() in two steps: the event built, or NULL (ring full,
 * counted), for the caller to add to and pass to event_send().
 */
struct gw_event *
flow_event_begin(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_flow_type type, uint8_t end_reason);
void
send_policy_event(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_policy_scope scope, struct policy_verdict v,
	uint16_t client_segment, uint16_t server_segment);
void
send_unverifiable_event(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, struct policy_verdict v, uint16_t client_segment,
	uint16_t server_segment, enum event_unverifiable reason);

/* inspect_session.c */
void
prefetch_session(const struct inspector *ins, const struct flow_entry *flow,
	uint8_t dir);
struct session *
session_alloc(struct inspector *ins, struct flow_entry *flow);
void
session_release(struct inspector *ins, struct flow_entry *flow);
uint8_t
session_unavailable(struct inspector *ins, struct flow_entry *flow,
	struct policy_verdict verdict, const struct rte_mbuf *m,
	const struct decoded_frame *frame, uint64_t ts_ns);
void
session_requeue(struct inspector *ins, struct session *session,
	uint64_t ts_ns);
void
session_authenticated(struct inspector *ins, struct session *session);
void
sessions_init(struct inspector *ins);

/*
 * An SMB message on <session>: a session not yet authenticated moves to
 * the young end of the reclaim list. One flag test for the others.
 */
static inline void
session_progress(struct inspector *ins, struct session *session,
	uint64_t ts_ns)
{
	if (session->flags & SESSION_RECLAIMABLE)
		session_requeue(ins, session, ts_ns);
}

/* inspect_classify.c */
void
forget_content_port(struct inspector *ins, struct flow_entry *flow);
void
classify_by_port(struct inspector *ins, struct flow_entry *flow,
	const struct decoded_frame *frame, uint64_t ts_ns);
void
classify_by_content(struct inspector *ins, struct flow_entry *flow,
	const struct rte_mbuf *m, const struct decoded_frame *frame);
int
content_sender(const struct rte_mbuf *m, const struct decoded_frame *frame);
void
learn_endpoint(struct inspector *ins, const struct flow_entry *flow,
	const struct dcerpc_fact *rpc);
bool
learned_interface(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, struct endpoint_info *info);

/* inspect_facts.c */
void
on_smb_fact(void *arg, const struct smb_fact *fact);
void
on_dcerpc_fact(void *arg, const struct dcerpc_fact *rpc);
void
feed_payload(struct inspector *ins, struct fact_context *ctx,
	const struct rte_mbuf *m, const struct decoded_frame *frame,
	uint8_t dir, uint64_t ts_ns);

/* inspect_stream.c */
extern const struct stream_ops inspect_stream_ops;
uint8_t
stream_inspect(struct inspector *ins, struct fact_context *ctx,
	struct rte_mbuf *m, const struct decoded_frame *frame);
void
stream_release(struct inspector *ins, struct session *session);
/* Frees the segments released since the last call; at the end of each
 * burst, each ageing pass and each flush. */
void
inspect_stream_release_flush(void);

/* inspect_policy.c */
uint8_t
verdict_event_action(struct policy_verdict v);
void
flow_segments(struct inspector *ins, const struct flow_entry *flow,
	uint16_t *client_segment, uint16_t *server_segment);
struct policy_verdict
flow_verdict_judge(struct inspector *ins, struct flow_entry *flow,
	uint64_t ts_ns);

/*
 * The flow's verdict under this burst's policy (ins->policy, not NULL):
 * cached in the flow with the policy's generation, so a reload
 * re-evaluates each flow at its next packet and every other packet costs
 * one compare, inline.
 */
static inline struct policy_verdict
flow_verdict(struct inspector *ins, struct flow_entry *flow, uint64_t ts_ns)
{
	if (likely(flow->policy_gen == ins->policy_gen))
		return verdict_unpack(flow->policy_verdict);
	return flow_verdict_judge(ins, flow, ts_ns);
}
void
reset_connection(struct inspector *ins, struct flow_entry *flow,
	const struct rte_mbuf *m, const struct decoded_frame *frame);
void
check_smb_rules(struct fact_context *ctx, const struct smb_fact *fact,
	uint32_t classes);
void
check_unverifiable(struct fact_context *ctx, const struct smb_fact *fact);

/* rpc_interface / rpc_operation rules at a DCE/RPC-over-TCP fact. */
void
check_rpc_rules(struct fact_context *ctx, const struct dcerpc_fact *rpc);
uint8_t
datagram_verdict(struct inspector *ins, const struct decoded_frame *frame);
/* A pair verdict, and an unverifiable session's, in the policy counters. */
void
count_verdict(struct inspector *ins, struct policy_verdict v);
void
count_unverifiable(struct inspector *ins, struct policy_verdict v);

/* inspect_quic.c */
/*
 * A UDP datagram that starts like a QUIC client Initial: read, and judged
 * when its hello offers SMB (or could not be read). Returns
 * DROP_REASON_MAX to forward it, or why to drop it.
 */
uint8_t
inspect_quic(struct inspector *ins, const struct rte_mbuf *m,
	const struct decoded_frame *frame, uint64_t ts_ns);
uint8_t
syn_verdict(struct inspector *ins, const struct flow_key *key,
	const struct rte_mbuf *m, const struct decoded_frame *frame,
	uint64_t ts_ns);

/*
 * A bare SYN: SYN without ACK or RST, and no payload (a SYN with data,
 * TCP Fast Open, takes a flow: its bytes are judged like any others).
 */
static inline bool
is_bare_syn(const struct decoded_frame *frame)
{
	return (frame->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK |
		DECODE_TCP_RST)) == DECODE_TCP_SYN && frame->payload_len == 0;
}

#endif /* SMBGW_INSPECT_PVT_H */
