/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "inspect_pvt.h"
#include "utf8.h"

/*
 * A flow id that stays the same for the life of a flow: a mix of its key
 * and creation time, computed only when an event is sent. 51 bits, as
 * Suricata's, so that tools that read JSON numbers as doubles (jq,
 * JavaScript) keep it exact; never 0 (a free slot in the flow summary).
 */
static uint64_t
flow_id_of(const struct flow_entry *flow)
{
	const uint8_t *bytes = (const uint8_t *)&flow->key;
	uint64_t h = 0xcbf29ce484222325ull ^ flow->first_seen_ns;
	size_t i;

	/* A word at a time: this runs for every event. */
	for (i = 0; i + 8 <= sizeof(flow->key); i += 8) {
		uint64_t word;

		memcpy(&word, bytes + i, 8);
		h = (h ^ word) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; i < sizeof(flow->key); i++)
		h = (h ^ bytes[i]) * 0x100000001b3ull;
	h = (h ^ (h >> 29)) & ((1ull << 51) - 1);
	return h != 0 ? h : 1;
}

void
event_init(struct gw_event *ev, const struct inspector *ins,
	const struct flow_entry *flow, uint64_t ts_ns, uint8_t kind,
	uint8_t subtype)
{
	struct flow_key key;

	memset(ev, 0, offsetof(struct gw_event, u));
	flow_entry_key(flow, &key);
	ev->ts_ns = ts_ns;
	ev->flow_id = flow_id_of(flow);
	memcpy(ev->client_addr, key.src_addr, 16);
	memcpy(ev->server_addr, key.dst_addr, 16);
	ev->client_port = key.src_port;
	ev->server_port = key.dst_port;
	ev->vlan_outer = key.vlan_outer;
	ev->vlan_inner = key.vlan_inner;
	ev->ip_version = key.ip_version;
	ev->worker = ins->params.worker_id;
	ev->kind = kind;
	ev->subtype = subtype;
	if (flow->user_flags & USER_NONSTANDARD_PORT)
		ev->flags |= EVENT_F_NONSTANDARD_PORT;
	/* The UDP connections reported are SMB over QUIC (inspect_quic.c). */
	if (key.proto == IPPROTO_UDP)
		ev->flags |= EVENT_F_QUIC;
	if (flow->state_flags & STATE_TUNNEL_IP)
		ev->flags |= EVENT_F_TUNNEL_IP;
	if (flow->state_flags & STATE_TUNNEL_GRE)
		ev->flags |= EVENT_F_TUNNEL_GRE;
}

/*
 * Where to build the next event: in place, in the ring slot it will be
 * read from (no copy of the kilobyte on either side), or in the
 * inspector's own event when there is no ring (offline: event_fn takes it)
 * or no room and the caller needs the event built anyway (<needed>:
 * conditional rules read its watchlist classes). Returns NULL, counted,
 * when the ring is full and nothing needs the event. Every event begun
 * must be passed to event_send() before the next one is begun.
 */
struct gw_event *
event_begin(struct inspector *ins, bool needed)
{
	struct rte_ring_zc_data zcd;

	if (ins->params.events == NULL)
		return &ins->local_event;
	if (rte_ring_enqueue_zc_bulk_elem_start(ins->params.events,
			sizeof(struct gw_event), 1, &zcd, NULL) == 1)
		return zcd.ptr1;
	if (needed)
		return &ins->local_event;
	ins->counters.events_dropped++;
	return NULL;
}

/* Publishes event <ev> from event_begin(), or drops it, counted. */
void
event_send(struct inspector *ins, struct gw_event *ev)
{
	if (ev != &ins->local_event) {
		const struct rte_ring *ring = ins->params.events;
		const uint8_t *next;

		rte_ring_enqueue_zc_elem_finish(ins->params.events, 1);
		ins->counters.events++;
		/*
		 * The next event is built in the slot after this one, last
		 * held by the control core: ask for its header lines now,
		 * for writing, so that building it does not wait for them.
		 */
		next = (const uint8_t *)&ring[1] + (size_t)(ring->prod.head &
			ring->mask) * sizeof(struct gw_event);
		__builtin_prefetch(next, 1);
		__builtin_prefetch(next + RTE_CACHE_LINE_SIZE, 1);
	} else if (ins->params.events != NULL) {
		ins->counters.events_dropped++;
	} else if (ins->params.event_fn != NULL) {
		ins->params.event_fn(ins->params.event_ctx, ev);
		ins->counters.events++;
	}
}

/* Copies <src> into <dst> of <size> bytes, cut and terminated. */
static void
strlcpy_event(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

struct gw_event *
flow_event_begin(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_flow_type type, uint8_t end_reason)
{
	const struct session *session = flow->app_state == FLOW_APP_STATE_NONE ?
		NULL : &ins->sessions[flow->app_state];
	struct gw_event *ev = event_begin(ins, false);
	const struct policy *pol;

	if (ev == NULL)
		return NULL;
	event_init(ev, ins, flow, ts_ns, EVENT_FLOW, type);
	if (flow->user_flags & USER_REPORTED)
		ev->flags |= EVENT_F_REPORTED;
	/* The quic_* texts are read only with EVENT_F_QUIC. */
	memset(&ev->u.flow, 0, offsetof(struct event_flow, quic_sni));
	ev->u.flow.app = flow->app_class;
	ev->u.flow.method = flow->detect_method;
	ev->u.flow.action = flow->policy_gen == 0 ? EVENT_ACTION_ALLOWED :
		verdict_event_action(verdict_unpack(flow->policy_verdict));
	ev->u.flow.end_reason = end_reason;
	ev->u.flow.tcp_state = flow->tcp_state;
	ev->u.flow.first_seen_ns = flow->first_seen_ns;
	ev->u.flow.packets[0] = flow->packets[0];
	ev->u.flow.packets[1] = flow->packets[1];
	ev->u.flow.bytes[0] = flow->bytes[0];
	ev->u.flow.bytes[1] = flow->bytes[1];
	if (session != NULL) {
		ev->u.flow.dialect = session->dialect;
		ev->watch_classes = session->watch_classes;
	}
	ev->u.flow.client_segment[0] = '\0';
	ev->u.flow.server_segment[0] = '\0';
	/*
	 * Once a connection, at its end: the connection record's pair. The
	 * policy is read afresh (flows also end on ageing, outside any
	 * burst, when ins->policy may be one the workers have since
	 * declared they no longer read); the reader is online here.
	 */
	pol = type == EVENT_FLOW_END && ins->params.policy != NULL ?
		policy_current(ins->params.policy) : NULL;
	if (pol != NULL) {
		struct flow_key key;
		uint16_t client, server;
		const char *name;

		flow_entry_key(flow, &key);
		client = policy_segment_of(pol, key.ip_version, key.src_addr,
			key.vlan_outer);
		server = policy_segment_of(pol, key.ip_version, key.dst_addr,
			key.vlan_outer);
		name = policy_segment_name(pol, client);
		if (name != NULL)
			strlcpy_event(ev->u.flow.client_segment, name,
				sizeof(ev->u.flow.client_segment));
		name = policy_segment_name(pol, server);
		if (name != NULL)
			strlcpy_event(ev->u.flow.server_segment, name,
				sizeof(ev->u.flow.server_segment));
		if (flow->policy_gen != 0)
			ev->u.flow.rule = verdict_unpack(flow->policy_verdict).rule;
	}
	return ev;
}

void
send_flow_event(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_flow_type type, uint8_t end_reason)
{
	struct gw_event *ev = flow_event_begin(ins, flow, ts_ns, type,
		end_reason);

	if (ev != NULL)
		event_send(ins, ev);
}

/* A policy event built and not yet sent, or NULL (ring full, counted). */
static struct gw_event *
policy_event_begin(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_policy_scope scope, struct policy_verdict v,
	uint16_t client_segment, uint16_t server_segment)
{
	const struct policy *pol = ins->policy;
	struct gw_event *ev = event_begin(ins, false);

	if (ev == NULL)
		return NULL;
	event_init(ev, ins, flow, ts_ns, EVENT_POLICY, scope);
	memset(&ev->u.policy, 0, sizeof(ev->u.policy));
	ev->u.policy.action = verdict_event_action(v);
	ev->u.policy.rule_action = v.action;
	ev->u.policy.reset = (v.flags & POLICY_VERDICT_RESET) != 0;
	ev->u.policy.enforced = policy_mode(pol) == POLICY_MODE_ENFORCE;
	ev->u.policy.rule = v.rule;
	ev->u.policy.generation = policy_generation(pol);
	utf8_copy(ev->u.policy.client_segment,
		policy_segment_name(pol, client_segment), EVENT_SEGMENT_MAX);
	utf8_copy(ev->u.policy.server_segment,
		policy_segment_name(pol, server_segment), EVENT_SEGMENT_MAX);
	return ev;
}

void
send_policy_event(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_policy_scope scope, struct policy_verdict v,
	uint16_t client_segment, uint16_t server_segment)
{
	struct gw_event *ev = policy_event_begin(ins, flow, ts_ns, scope, v,
		client_segment, server_segment);

	if (ev != NULL)
		event_send(ins, ev);
}

/* The decision on a session that cannot be read, and why it cannot. */
void
send_unverifiable_event(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, struct policy_verdict v, uint16_t client_segment,
	uint16_t server_segment, enum event_unverifiable reason)
{
	struct gw_event *ev = policy_event_begin(ins, flow, ts_ns,
		EVENT_POLICY_SMB, v, client_segment, server_segment);

	if (ev == NULL)
		return;
	ev->u.policy.unverifiable = (uint8_t)reason;
	ev->u.policy.unverifiable_action =
		(v.flags & POLICY_VERDICT_UNVERIFIABLE) != 0;
	event_send(ins, ev);
}
