/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_random.h>

#include "inspect_pvt.h"

#define INSPECT_BURST_MAX 256
#define INSPECT_EXPIRE_WORK 64


static const char *const dialect_names[INSPECT_DIALECT_COUNT] = {
	[INSPECT_DIALECT_SMB1] = "smb1",
	[INSPECT_DIALECT_202] = "2.0.2",
	[INSPECT_DIALECT_210] = "2.1",
	[INSPECT_DIALECT_300] = "3.0",
	[INSPECT_DIALECT_302] = "3.0.2",
	[INSPECT_DIALECT_311] = "3.1.1",
	[INSPECT_DIALECT_OTHER] = "other",
};

const char *
inspect_dialect_name(enum inspect_dialect dialect)
{
	return dialect < INSPECT_DIALECT_COUNT ? dialect_names[dialect] : "?";
}

enum inspect_dialect
inspect_dialect_of(uint16_t code)
{
	if (smb_dialect_is_smb1(code))
		return INSPECT_DIALECT_SMB1;
	switch (code) {
	case 0x0202: return INSPECT_DIALECT_202;
	case 0x0210: return INSPECT_DIALECT_210;
	case 0x0300: return INSPECT_DIALECT_300;
	case 0x0302: return INSPECT_DIALECT_302;
	case 0x0311: return INSPECT_DIALECT_311;
	default: return INSPECT_DIALECT_OTHER;
	}
}

/*
 * Whether a tracked connection that is not SMB or DCE/RPC gets a
 * connection record (output.flows): only ever asked when it leaves the
 * table, never on the per-packet path.
 */
static bool
other_flow_recorded(const struct inspector *ins, const struct flow_entry *flow)
{
	uint32_t every = ins->params.other_flow_records;

	if (every <= 1)
		return every == 1;
	/* Sampled by a hash of the flow's start: spread, and repeatable. */
	return (uint32_t)((flow->first_seen_ns * 0x9e3779b97f4a7c15ull) >> 32) %
		every == 0;
}

static void
on_flow_removed(struct flow_entry *flow, enum flow_remove_reason reason,
	void *arg)
{
	struct inspector *ins = arg;

	forget_content_port(ins, flow);
	if (is_session_app(flow->app_class) || other_flow_recorded(ins, flow))
		send_flow_event(ins, flow, flow->last_seen_ns, EVENT_FLOW_END,
			reason);
	session_release(ins, flow);
}

static void
key_from_frame(struct flow_key *key, const struct decoded_frame *frame,
	uint8_t hints)
{
	memcpy(key->src_addr, frame->src_addr, 16);
	memcpy(key->dst_addr, frame->dst_addr, 16);
	key->src_port = frame->src_port;
	key->dst_port = frame->dst_port;
	key->vlan_outer = frame->vlan_outer;
	key->vlan_inner = frame->vlan_inner;
	key->proto = IPPROTO_TCP;
	key->ip_version = frame->l3 == DECODE_L3_IPV6 ? 6 : 4;
	key->tcp_flags = frame->tcp_flags;
	key->hints = hints;
}

/* Returns DROP_REASON_MAX to forward the frame, or why to drop it. */
static uint8_t
inspect_tcp(struct inspector *ins, struct flow_entry *flow, uint8_t dir,
	struct rte_mbuf *m, const struct decoded_frame *frame, uint64_t ts_ns)
{
	struct policy_verdict verdict = { 0, POLICY_ALLOW, 0 };
	struct fact_context ctx;
	int changed;

	changed = flow_table_update_tcp(ins->flows, flow, dir,
		frame->tcp_flags, ts_ns);
	flow_entry_count(flow, dir, m->pkt_len);
	/*
	 * The table stamps a flow created (or restarted) in a burst with
	 * the burst's time, offline that of its last packet: the flow's own
	 * first packet says when it began.
	 */
	if (flow->packets[0] + flow->packets[1] == 1 &&
			ts_ns < flow->first_seen_ns)
		flow->first_seen_ns = ts_ns;

	if (changed & FLOW_TCP_RESTARTED) {
		/* A new connection on the same addresses and ports. */
		forget_content_port(ins, flow);
		session_release(ins, flow);
		flow->app_class = FLOW_APP_UNKNOWN;
		flow->user_flags = 0;
		flow->policy_gen = 0;
	}
	/* A tunnelled connection says so in its events (decode.h). */
	if (unlikely(frame->tunnel != DECODE_TUNNEL_NONE))
		flow->state_flags |= (uint8_t)(frame->tunnel <<
			STATE_TUNNEL_SHIFT);
	/*
	 * A SYN from the flow's responder: a crafted handshake (a SYN-ACK
	 * sent ahead to make a flow the other way round) or a simultaneous
	 * open. Its sender would be the client of the connection it opens:
	 * judged by its own pair, never by the flow's.
	 */
	if (unlikely((frame->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK |
			DECODE_TCP_RST)) == DECODE_TCP_SYN) &&
			dir == FLOW_DIR_REPLY) {
		struct flow_key key;
		uint8_t reason;

		key_from_frame(&key, frame, 0);
		reason = syn_verdict(ins, &key, m, frame, ts_ns);
		if (reason != DROP_REASON_MAX)
			return reason;
	}
	if (flow->app_class == FLOW_APP_UNKNOWN)
		classify_by_port(ins, flow, frame, ts_ns);
	if (flow->app_class == FLOW_APP_PENDING)
		classify_by_content(ins, flow, m, frame);
	if (!is_session_app(flow->app_class))
		return DROP_REASON_MAX;

	if (ins->policy != NULL) {
		verdict = flow_verdict(ins, flow, ts_ns);
		if (verdict.flags & POLICY_VERDICT_BLOCK) {
			/* Blocked connections count in the report too. */
			if (!(flow->user_flags & USER_REPORTED)) {
				flow->user_flags |= USER_REPORTED;
				send_flow_event(ins, flow, ts_ns,
					EVENT_FLOW_CLASSIFIED, 0);
			}
			if (verdict.flags & POLICY_VERDICT_RESET)
				reset_connection(ins, flow, m, frame);
			return DROP_POLICY;
		}
	}
	if (flow->tcp_state == FLOW_TCP_CLOSED && flow_entry_live_smb(flow))
		flow_table_set_live_smb(ins->flows, flow, false);
	/*
	 * Where the initiator's bytes start, from the responder's SYN-ACK:
	 * its third handshake packet may carry data and come after a later
	 * segment, which must not be taken for the start of the stream.
	 */
	if (ins->stream != NULL && unlikely((frame->tcp_flags &
			(DECODE_TCP_SYN | DECODE_TCP_ACK)) ==
			(DECODE_TCP_SYN | DECODE_TCP_ACK)) &&
			dir == FLOW_DIR_REPLY) {
		flow->initiator_next = frame->tcp_ack;
		flow->state_flags |= STATE_INITIATOR_NEXT;
	}
	/*
	 * State is taken once there is payload to parse or, with stream
	 * normalisation, at the handshake's last ACK: the stream must know
	 * where the bytes start before the first of them arrives.
	 */
	if (frame->payload_len == 0 && (ins->stream == NULL ||
			(frame->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_RST |
			DECODE_TCP_ACK)) != DECODE_TCP_ACK) &&
			flow->app_state == FLOW_APP_STATE_NONE)
		return DROP_REASON_MAX;

	ctx.ins = ins;
	ctx.flow = flow;
	ctx.policy = ins->policy;
	ctx.smb_rules = (verdict.flags & POLICY_VERDICT_SMB_RULES) != 0;
	ctx.deny = false;
	ctx.dir = dir;
	ctx.ts_ns = ts_ns;
	ctx.session = session_of(ins, flow);
	if (ctx.session == NULL) {
		ctx.session = session_alloc(ins, flow);
		if (ctx.session == NULL)
			return session_unavailable(ins, flow, verdict, m, frame,
				ts_ns);
		if (ins->policy != NULL)
			flow_segments(ins, flow, &ctx.session->client_segment,
				&ctx.session->server_segment);
	}
	if (frame->payload_len != 0 && !(flow->user_flags & USER_REPORTED)) {
		flow->user_flags |= USER_REPORTED;
		send_flow_event(ins, flow, ts_ns, EVENT_FLOW_CLASSIFIED, 0);
	}
	if (ins->stream != NULL) {
		uint8_t reason = stream_inspect(ins, &ctx, m, frame);

		if (reason != DROP_REASON_MAX && !ctx.deny)
			return reason;
	} else if (frame->payload_len != 0) {
		feed_payload(ins, &ctx, m, frame, dir, ts_ns);
	}
	if (!ctx.deny)
		return DROP_REASON_MAX;

	/* The message that met a blocking rule ends the connection. */
	ins->counters.policy_smb_denied++;
	flow->policy_verdict = verdict_pack(ctx.denial);
	if (ctx.denial.flags & POLICY_VERDICT_RESET)
		reset_connection(ins, flow, m, frame);
	return DROP_POLICY;
}

void
inspector_process(struct inspector *ins, struct rte_mbuf **pkts,
	const struct decoded_frame *frames, uint16_t count,
	const uint64_t *ts_ns, uint64_t now_ns, uint8_t *verdicts,
	struct inspect_generated *generated)
{
	struct flow_key keys[INSPECT_BURST_MAX];
	struct flow_entry *flows[INSPECT_BURST_MAX];
	uint8_t dirs[INSPECT_BURST_MAX];
	uint16_t index[INSPECT_BURST_MAX];
	unsigned int tcp_count = 0, i;
	uint64_t burst_ns = now_ns;

	ins->generated = generated;
	ins->policy = ins->params.policy != NULL ?
		policy_current(ins->params.policy) : NULL;
	ins->policy_gen = ins->policy != NULL ?
		policy_generation(ins->policy) : 0;

	for (i = 0; i < count; i++) {
		const struct decoded_frame *frame = &frames[i];
		int sender = 0;

		if (ts_ns != NULL)
			burst_ns = ts_ns[i];
		if (verdicts[i] != DROP_REASON_MAX)
			continue;
		if (frame->l4_proto == IPPROTO_UDP) {
			if (frame->malformed || frame->fragment)
				continue;
			if ((ins->port_flags[frame->src_port] |
					ins->port_flags[frame->dst_port]) &
					INSPECT_PORT_DATAGRAM)
				verdicts[i] = datagram_verdict(ins, frame);
			else if (inspect_maybe_quic(pkts[i], frame))
				verdicts[i] = inspect_quic(ins, pkts[i], frame,
					burst_ns);
			continue;
		}
		/*
		 * Only SMB candidates take a flow entry: the SMB and RPC
		 * ports, ports where SMB was found by content, and packets
		 * whose payload starts like SMB or DCE/RPC. Other TCP costs
		 * these checks and nothing more.
		 */
		if (!inspect_maybe_candidate(ins->port_flags, pkts[i], frame))
			continue;
		if (((ins->port_flags[frame->src_port] |
				ins->port_flags[frame->dst_port]) &
				~INSPECT_PORT_DATAGRAM) == 0) {
			sender = content_sender(pkts[i], frame);
			if (sender < 0)
				continue;
		}
		/*
		 * A bare SYN takes no flow: the server's answer creates it,
		 * so that a flood of SYNs nobody answers costs a lookup.
		 */
		if (is_bare_syn(frame))
			sender |= FLOW_KEY_NO_CREATE;
		key_from_frame(&keys[tcp_count], frame, (uint8_t)sender);
		index[tcp_count++] = i;
	}
	if (tcp_count == 0)
		return;

	flow_table_lookup_bulk(ins->flows, keys, tcp_count, burst_ns,
		FLOW_LOOKUP_CREATE, flows, dirs);
	/*
	 * With many connections each session's state is out of cache: ask
	 * for all of the burst's at once rather than wait for each in turn.
	 */
	for (i = 0; i < tcp_count; i++)
		if (flows[i] != NULL)
			prefetch_session(ins, flows[i], dirs[i]);
	for (i = 0; i < tcp_count; i++) {
		uint16_t p = index[i];

		if (unlikely(flows[i] == NULL)) {
			if (keys[i].hints & FLOW_KEY_NO_CREATE) {
				ins->counters.syns_stateless++;
				verdicts[p] = syn_verdict(ins, &keys[i],
					pkts[p], &frames[p], ts_ns != NULL ?
					ts_ns[p] : now_ns);
				continue;
			}
			ins->counters.untracked++;
			if (ins->params.fail_mode == INSPECT_FAIL_CLOSED)
				verdicts[p] = DROP_STATE_FULL;
			continue;
		}
		verdicts[p] = inspect_tcp(ins, flows[i], dirs[i], pkts[p],
			&frames[p], ts_ns != NULL ? ts_ns[p] : now_ns);
	}
	inspect_stream_release_flush();
}

void
inspector_expire(struct inspector *ins, uint64_t now_ns)
{
	flow_table_expire(ins->flows, now_ns, INSPECT_EXPIRE_WORK);
	inspect_stream_release_flush();
	if (ins->params.policy != NULL)
		policy_quiescent(ins->params.policy, ins->params.worker_id);
}

bool
inspector_enforcing(const struct inspector *ins)
{
	const struct policy *pol = ins->params.policy != NULL ?
		policy_current(ins->params.policy) : NULL;

	return pol == NULL || policy_mode(pol) == POLICY_MODE_ENFORCE;
}

void
inspector_online(struct inspector *ins)
{
	if (ins->params.policy != NULL)
		policy_reader_online(ins->params.policy, ins->params.worker_id);
}

void
inspector_offline(struct inspector *ins)
{
	if (ins->params.policy != NULL)
		policy_reader_offline(ins->params.policy,
			ins->params.worker_id);
}

static int
end_flow(const struct flow_entry *flow, void *arg)
{
	struct inspector *ins = arg;

	if (is_session_app(flow->app_class) || other_flow_recorded(ins, flow))
		send_flow_event(ins, flow, flow->last_seen_ns, EVENT_FLOW_END,
			FLOW_REMOVED_TABLE_FREE);
	return 0;
}

void
inspector_flush(struct inspector *ins)
{
	flow_table_foreach(ins->flows, end_flow, ins);
	inspect_stream_release_flush();
}

const uint8_t *
inspector_port_flags(const struct inspector *ins)
{
	return ins->port_flags;
}

const struct inspect_counters *
inspector_counters(const struct inspector *ins)
{
	return &ins->counters;
}

void
inspector_flow_stats(const struct inspector *ins,
	struct flow_table_stats *stats)
{
	flow_table_stats(ins->flows, stats);
}

const struct watchlist_scratch *
inspector_watch_scratch(const struct inspector *ins)
{
	return ins->watch_scratch;
}

uint64_t
inspect_capture_cut_flag(void)
{
	static const struct rte_mbuf_dynflag capture_cut = {
		.name = "smbgw_dynflag_capture_cut",
	};
	int bit = rte_mbuf_dynflag_register(&capture_cut);

	return bit < 0 ? 0 : UINT64_C(1) << bit;
}

struct inspector *
inspector_create(const struct inspector_params *params)
{
	struct flow_table_params flow_params;
	struct inspector *ins;

	if (params->sessions == 0 || params->sessions >= FLOW_APP_STATE_NONE ||
			params->classify_packets == 0 ||
			params->classify_packets > USER_EXAMINED_MASK) {
		errno = EINVAL;
		return NULL;
	}
	ins = calloc(1, sizeof(*ins));
	if (ins == NULL)
		return NULL;
	ins->params = *params;

	memset(&flow_params, 0, sizeof(flow_params));
	flow_params.max_flows = params->max_flows;
	flow_params.timeout_embryonic_ns = params->timeout_embryonic_ns;
	flow_params.timeout_established_ns = params->timeout_established_ns;
	flow_params.timeout_closing_ns = params->timeout_closing_ns;
	flow_params.timeout_closed_ns = params->timeout_closed_ns;
	flow_params.timeout_udp_ns = params->timeout_udp_ns;
	flow_params.timeout_other_ns = params->timeout_other_ns;
	flow_params.on_remove = on_flow_removed;
	flow_params.on_remove_arg = ins;
	ins->flows = flow_table_create(&flow_params);
	if (ins->flows == NULL)
		goto free_inspector;

	/*
	 * Reserved whole, as transparent huge pages, and populated only up
	 * to INSPECT_SESSIONS_POPULATED states: states are taken in index
	 * order until one is given back (sessions_init()), so a pool sized
	 * to the flow table costs memory only as sessions come, a page
	 * fault per 2 MiB (some 2,500 states) past the populated part.
	 */
	ins->sessions = flow_huge_map((size_t)params->sessions *
		sizeof(struct session), false, &ins->sessions_bytes);
	if (ins->sessions == NULL) {
		errno = ENOMEM;
		goto free_flows;
	}
	{
		size_t populated = (size_t)(params->sessions <
			INSPECT_SESSIONS_POPULATED ? params->sessions :
			INSPECT_SESSIONS_POPULATED) * sizeof(struct session);
		size_t off, page = (size_t)getpagesize();

		populated = (populated + page - 1) & ~(page - 1);
		if (populated > ins->sessions_bytes)
			populated = ins->sessions_bytes;
		if (madvise(ins->sessions, populated, MADV_POPULATE_WRITE) != 0)
			for (off = 0; off < populated; off += page)
				((volatile uint8_t *)ins->sessions)[off] = 0;
	}
	ins->port_flags[PORT_SMB] = INSPECT_PORT_WATCHED;
	ins->port_flags[PORT_NETBIOS_SSN] = INSPECT_PORT_WATCHED;
	ins->port_flags[PORT_EPMAP] = INSPECT_PORT_WATCHED;
	if (params->policy != NULL) {
		ins->port_flags[PORT_NETBIOS_NS] = INSPECT_PORT_DATAGRAM;
		ins->port_flags[PORT_NETBIOS_DGM] = INSPECT_PORT_DATAGRAM;
	}
	sessions_init(ins);
	{
		struct chunk_pool_params memory_params = {
			.budget = params->session_memory,
			.owner_limit = params->session_memory_max,
			.counters = &ins->counters.session_memory,
		};

		smb_chunk_params(&memory_params);
		ins->session_memory = chunk_pool_create(&memory_params);
		if (ins->session_memory == NULL)
			goto unmap_sessions;
	}
	/* Each client counted holds a state: never more clients than states. */
	ins->clients = flow_client_table_create(params->sessions,
		(uint32_t)rte_rand());
	if (ins->clients == NULL)
		goto free_session_memory;

	if (params->watchlist != NULL) {
		ins->watch_scratch = watchlist_scratch_alloc(params->watchlist);
		if (ins->watch_scratch == NULL)
			goto free_clients;
	}
	if (params->endpoints != NULL) {
		ins->endpoints = params->endpoints;
		ins->endpoint_table = params->worker_id;
	} else {
		ins->endpoints = endpoint_registry_create(1,
			ENDPOINT_DEFAULT_ENTRIES,
			(uint64_t)ENDPOINT_DEFAULT_EXPIRY_S * 1000000000ull,
			endpoint_default_ranges, 2);
		if (ins->endpoints == NULL)
			goto free_scratch;
		ins->endpoints_owned = true;
		ins->endpoint_table = 0;
	}
	ins->quic = quic_reader_create();
	ins->quic_datagram = malloc(UINT16_MAX + 1);
	if (ins->quic == NULL || ins->quic_datagram == NULL)
		goto free_quic;
	if (params->stream_normalise) {
		struct stream_params stream_params = {
			.max_segments = params->stream_segments,
			.dir_max_segments = params->stream_flow_segments,
			.ops = &inspect_stream_ops,
			.counters = &ins->counters.stream,
		};

		ins->stream = stream_pool_create(&stream_params);
		if (ins->stream == NULL)
			goto free_quic;
	}
	return ins;

free_quic:
	quic_reader_free(ins->quic);
	free(ins->quic_datagram);
	if (ins->endpoints_owned)
		endpoint_registry_free(ins->endpoints);
free_scratch:
	watchlist_scratch_free(ins->watch_scratch);
free_clients:
	flow_client_table_free(ins->clients);
free_session_memory:
	chunk_pool_free(ins->session_memory);
unmap_sessions:
	munmap(ins->sessions, ins->sessions_bytes);
free_flows:
	/* on_remove may run: it needs no sessions for an empty table. */
	flow_table_free(ins->flows);
free_inspector:
	free(ins);
	return NULL;
}

void
inspector_free(struct inspector *ins)
{
	if (ins == NULL)
		return;
	/* Freeing the table reports every flow; nothing may be sent now. */
	ins->params.events = NULL;
	ins->params.event_fn = NULL;
	/* Flows give their kept segments back to the stream pool first. */
	flow_table_free(ins->flows);
	inspect_stream_release_flush();
	stream_pool_free(ins->stream);
	quic_reader_free(ins->quic);
	free(ins->quic_datagram);
	watchlist_scratch_free(ins->watch_scratch);
	flow_client_table_free(ins->clients);
	if (ins->endpoints_owned)
		endpoint_registry_free(ins->endpoints);
	/* Every session gave its chunks back as its flow went. */
	chunk_pool_free(ins->session_memory);
	munmap(ins->sessions, ins->sessions_bytes);
	free(ins);
}
