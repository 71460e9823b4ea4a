/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include "flow_hash.h"
#include "inspect_pvt.h"
#include "reset.h"

uint8_t
verdict_event_action(struct policy_verdict v)
{
	if (v.flags & POLICY_VERDICT_BLOCK)
		return EVENT_ACTION_DENIED;
	if (v.action != POLICY_ALLOW)
		return EVENT_ACTION_MONITORED;
	return EVENT_ACTION_ALLOWED;
}


/* The segments of the flow's client and server under this burst's policy. */
void
flow_segments(struct inspector *ins, const struct flow_entry *flow,
	uint16_t *client_segment, uint16_t *server_segment)
{
	struct flow_key key;

	flow_entry_key(flow, &key);
	*client_segment = policy_segment_of(ins->policy, key.ip_version,
		key.src_addr, key.vlan_outer);
	*server_segment = policy_segment_of(ins->policy, key.ip_version,
		key.dst_addr, key.vlan_outer);
}

void
count_verdict(struct inspector *ins, struct policy_verdict v)
{
	if (v.flags & POLICY_VERDICT_BLOCK)
		ins->counters.policy_denied++;
	else if (v.action == POLICY_DENY)
		ins->counters.policy_would_deny++;
	else if (v.action == POLICY_MONITOR)
		ins->counters.policy_monitored++;
	else
		ins->counters.policy_allowed++;
}

/*
 * flow_verdict() when the flow's cached verdict is not of this burst's
 * policy: judged again, cached with the generation, told in an event.
 */
struct policy_verdict
flow_verdict_judge(struct inspector *ins, struct flow_entry *flow,
	uint64_t ts_ns)
{
	const struct policy *pol = ins->policy;
	struct session *session = session_of(ins, flow);
	struct policy_verdict v;
	uint16_t client_segment, server_segment;

	if (flow->policy_gen == policy_generation(pol))
		return verdict_unpack(flow->policy_verdict);

	flow_segments(ins, flow, &client_segment, &server_segment);
	if (session != NULL) {
		session->client_segment = client_segment;
		session->server_segment = server_segment;
		/* A sealed session is judged again under the new rules. */
		session->flags &= ~SESSION_UNVERIFIABLE;
	}
	v = policy_pair_verdict(pol, client_segment, server_segment);
	if (flow->policy_gen != 0 &&
			verdict_unpack(flow->policy_verdict).flags != v.flags)
		flow->user_flags &= ~USER_RESET_SENT;
	flow->policy_verdict = verdict_pack(v);
	flow->policy_gen = policy_generation(pol);
	count_verdict(ins, v);
	send_policy_event(ins, flow, ts_ns, EVENT_POLICY_PAIR, v,
		client_segment, server_segment);
	return v;
}

static void
add_generated(struct inspector *ins, struct rte_mbuf *m, bool to_origin)
{
	struct inspect_generated *out = ins->generated;
	uint16_t *count = to_origin ? &out->to_origin_count :
		&out->to_peer_count;

	if (m == NULL) {
		ins->counters.resets_failed++;
		return;
	}
	if (*count == INSPECT_GENERATED_MAX) {
		rte_pktmbuf_free(m);
		ins->counters.resets_failed++;
		return;
	}
	(to_origin ? out->to_origin : out->to_peer)[(*count)++] = m;
	ins->counters.resets++;
}

/*
 * Resets the connection of TCP segment <m> at both ends, once per flow: a
 * SYN's sender alone, since its receiver never saw it.
 */
void
reset_connection(struct inspector *ins, struct flow_entry *flow,
	const struct rte_mbuf *m, const struct decoded_frame *frame)
{
	/* A tunnelled connection is refused by dropping alone (reset.h). */
	if ((flow->user_flags & USER_RESET_SENT) ||
			ins->params.reset_pool == NULL ||
			frame->tunnel != DECODE_TUNNEL_NONE)
		return;
	flow->user_flags |= USER_RESET_SENT;
	add_generated(ins, reset_build(ins->params.reset_pool, m, frame,
		RESET_TO_SENDER), true);
	if ((frame->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) !=
			DECODE_TCP_SYN)
		add_generated(ins, reset_build(ins->params.reset_pool, m,
			frame, RESET_TO_RECEIVER), false);
}

/*
 * The DCE/RPC call of <rpc> for the rpc_interface / rpc_operation
 * conditions: a request names its operation, a bind or alter context
 * only its interface. Returns false for anything else.
 */
static bool
rpc_facts(struct policy_smb_facts *facts, const struct dcerpc_fact *rpc)
{
	static const uint8_t zero[16];

	if (rpc == NULL || memcmp(rpc->iface_uuid, zero, 16) == 0)
		return false;
	switch (rpc->type) {
	case DCERPC_FACT_REQUEST:
		facts->rpc_opnum = rpc->opnum;
		break;
	case DCERPC_FACT_BIND:
	case DCERPC_FACT_ALTER_CONTEXT:
		facts->rpc_opnum = POLICY_RPC_ANY_OP;
		break;
	default:
		return false;
	}
	facts->rpc = true;
	memcpy(facts->rpc_uuid, rpc->iface_uuid, 16);
	return true;
}

/* The verdict of a conditional rule met: reported, and a block taken. */
static void
apply_conditional(struct fact_context *ctx, uint64_t ts_ns,
	struct policy_verdict v)
{
	struct inspector *ins = ctx->ins;

	if (v.rule == verdict_unpack(ctx->flow->policy_verdict).rule)
		return;	/* no conditional rule met: the pair's verdict stands */
	send_policy_event(ins, ctx->flow, ts_ns, EVENT_POLICY_SMB, v,
		ctx->session->client_segment, ctx->session->server_segment);
	if (v.flags & POLICY_VERDICT_BLOCK) {
		if (!ctx->deny) {
			ctx->deny = true;
			ctx->denial = v;
		}
	} else if (v.action == POLICY_DENY) {
		ins->counters.policy_would_deny++;
	}
}

/*
 * DCE/RPC over TCP (ncacn_ip_tcp): the rpc_interface / rpc_operation
 * conditions at the bind or request that meets them. A denial drops the
 * packet that completes the PDU and ends the connection, so the server
 * never receives the call.
 */
void
check_rpc_rules(struct fact_context *ctx, const struct dcerpc_fact *rpc)
{
	struct policy_smb_facts facts;

	if (rpc->from_server)
		return;
	memset(&facts, 0, sizeof(facts));
	if (!rpc_facts(&facts, rpc))
		return;
	/* Outside SMB only the rules naming DCE/RPC calls apply. */
	facts.rpc_only = true;
	apply_conditional(ctx, rpc->ts_ns, policy_smb_verdict(ctx->policy,
		ctx->session->client_segment, ctx->session->server_segment,
		&facts));
}

/* Conditional rules, at the SMB message that meets them. */
void
check_smb_rules(struct fact_context *ctx, const struct smb_fact *fact,
	uint32_t classes)
{
	struct policy_smb_facts facts;
	struct policy_verdict v;
	bool request = !(fact->flags & SMB_FACT_F_RESPONSE);

	switch (fact->type) {
	case SMB_FACT_NEGOTIATE:
		if (request)
			return;
		break;
	case SMB_FACT_TREE_CONNECT:
	case SMB_FACT_CREATE:
	case SMB_FACT_DCERPC:
		if (!request)
			return;
		break;
	default:
		return;
	}
	memset(&facts, 0, sizeof(facts));
	facts.dialect = policy_dialect_of(ctx->session->dialect,
		fact->version == 1);
	facts.nonstandard_port =
		(ctx->flow->user_flags & USER_NONSTANDARD_PORT) != 0;
	/* Class ids are unique across kinds: one mask serves all three. */
	facts.share_classes = classes;
	facts.pipe_classes = classes;
	facts.file_classes = classes;
	if (fact->type == SMB_FACT_DCERPC)
		rpc_facts(&facts, fact->u.dcerpc.rpc);
	v = policy_smb_verdict(ctx->policy, ctx->session->client_segment,
		ctx->session->server_segment, &facts);
	apply_conditional(ctx, fact->ts_ns, v);
}

void
count_unverifiable(struct inspector *ins, struct policy_verdict v)
{
	if (v.flags & POLICY_VERDICT_BLOCK) {
		ins->counters.unverifiable_denied++;
		return;
	}
	if (v.action == POLICY_DENY)
		ins->counters.policy_would_deny++;
	if (v.action == POLICY_ALLOW)
		ins->counters.unverifiable_allowed++;
	else
		ins->counters.unverifiable_monitored++;
}

/*
 * A session whose messages the parser can no longer read: at its first
 * sealed record, or at a compressed message the parser marks
 * unverifiable. Judged once per connection and policy generation, and
 * only on pairs with conditional rules (the caller's smb_rules): the
 * names a deny rule looks for are out of sight from here on, so an
 * explicit rule (encrypted = true, ...) or the pair's unverifiable
 * action decides. A denial ends the connection as an SMB-level denial
 * does; a pair with nothing the session could slip past is untouched.
 */
void
check_unverifiable(struct fact_context *ctx, const struct smb_fact *fact)
{
	struct inspector *ins = ctx->ins;
	struct session *session = ctx->session;
	enum event_unverifiable reason;
	struct policy_smb_facts facts;
	struct policy_verdict v;

	if (fact->type == SMB_FACT_ENCRYPTED)
		reason = EVENT_UNVERIFIABLE_ENCRYPTED;	/* always: sealed */
	else if (fact->type == SMB_FACT_COMPRESSED &&
			(fact->flags & SMB_FACT_F_UNVERIFIABLE))
		reason = EVENT_UNVERIFIABLE_COMPRESSED;
	else
		return;
	if (session->flags & SESSION_UNVERIFIABLE)
		return;
	session->flags |= SESSION_UNVERIFIABLE;
	memset(&facts, 0, sizeof(facts));
	facts.dialect = policy_dialect_of(session->dialect, fact->version == 1);
	facts.nonstandard_port =
		(ctx->flow->user_flags & USER_NONSTANDARD_PORT) != 0;
	facts.encrypted = reason == EVENT_UNVERIFIABLE_ENCRYPTED;
	v = policy_unverifiable_verdict(ctx->policy, session->client_segment,
		session->server_segment, &facts);
	if (!(v.flags & POLICY_VERDICT_UNVERIFIABLE) &&
			v.rule == verdict_unpack(ctx->flow->policy_verdict).rule)
		return;	/* no rule it could pass unseen: untouched */
	send_unverifiable_event(ins, ctx->flow, fact->ts_ns, v,
		session->client_segment, session->server_segment, reason);
	count_unverifiable(ins, v);
	if ((v.flags & POLICY_VERDICT_BLOCK) && !ctx->deny) {
		ctx->deny = true;
		ctx->denial = v;
	}
}

/* NetBIOS datagrams (UDP 137/138) take the pair verdict of their ends. */
uint8_t
datagram_verdict(struct inspector *ins, const struct decoded_frame *frame)
{
	const struct policy *pol = ins->policy;
	uint8_t version = frame->l3 == DECODE_L3_IPV6 ? 6 : 4;
	struct policy_verdict v;

	if (pol == NULL)
		return DROP_REASON_MAX;
	v = policy_pair_verdict(pol,
		policy_segment_of(pol, version, frame->src_addr,
			frame->vlan_outer),
		policy_segment_of(pol, version, frame->dst_addr,
			frame->vlan_outer));
	if (!(v.flags & POLICY_VERDICT_BLOCK))
		return DROP_REASON_MAX;
	ins->counters.policy_datagrams_denied++;
	return DROP_POLICY;
}

/* A connection's tag for the refused-SYN memo: never 0. */
static uint32_t
refused_syn_tag(const struct flow_key *key)
{
	uint32_t h = 0x9e3779b9u;
	unsigned int i, len = key->ip_version == 6 ? 16 : 4;

	for (i = 0; i < len; i++)
		h = flow_hash_mix32(h ^ key->src_addr[i]) ^ key->dst_addr[i];
	h = flow_hash_mix32(h ^ ((uint32_t)key->src_port << 16 |
		key->dst_port));
	h = flow_hash_mix32(h ^ ((uint32_t)key->vlan_outer << 16 |
		key->vlan_inner));
	return h != 0 ? h : 1;
}

/*
 * Whether a refused SYN of <key> with initial sequence <seq> is a
 * retransmission of one refused less than REFUSED_SYN_WINDOW_NS ago; it
 * is remembered either way.
 */
static bool
refused_syn_again(struct inspector *ins, const struct flow_key *key,
	uint32_t seq, uint64_t ts_ns)
{
	uint32_t tag = refused_syn_tag(key);
	struct refused_syn *slot =
		&ins->refused_syns[tag & (REFUSED_SYN_SLOTS - 1)];
	bool again = slot->tag == tag && slot->seq == seq &&
		ts_ns - slot->ts_ns < REFUSED_SYN_WINDOW_NS;

	slot->tag = tag;
	slot->seq = seq;
	slot->ts_ns = ts_ns;
	return again;
}

/*
 * A SYN judged without a flow of its own (docs/architecture.md,
 * "Inspection"): a bare SYN whose flow does not exist, or a SYN from the
 * responder of an existing one (a crafted handshake or a simultaneous
 * open). Its sender is the client. On an SMB or DCE/RPC server port, or
 * to a learned RPC endpoint, a pair the policy blocks refuses it here,
 * with a reset to its sender if the rule says so, and the attempt is
 * reported as a denied connection that ended at once: policy, classified
 * and flow-end events of a flow that never entered the table
 * (flow_entry_init_detached()); its retransmissions (same connection,
 * same initial sequence number) are refused and counted in
 * syns_refused but reported once. Anything else is forwarded: an allowed
 * SYN takes no state, the server's answer creates the flow. Returns
 * DROP_REASON_MAX to forward <m>, or DROP_POLICY.
 */
uint8_t
syn_verdict(struct inspector *ins, const struct flow_key *key,
	const struct rte_mbuf *m, const struct decoded_frame *frame,
	uint64_t ts_ns)
{
	const struct policy *pol = ins->policy;
	struct flow_entry flow;
	struct policy_verdict v;
	uint16_t client_segment, server_segment;
	uint8_t app = FLOW_APP_SMB, method = EVENT_DETECT_PORT;
	bool detached = false;

	if (pol == NULL || !policy_pairs_block(pol))
		return DROP_REASON_MAX;
	if (frame->src_port == PORT_EPMAP || frame->dst_port == PORT_EPMAP) {
		app = FLOW_APP_DCERPC;
	} else if (frame->src_port != PORT_SMB &&
			frame->dst_port != PORT_SMB &&
			frame->src_port != PORT_NETBIOS_SSN &&
			frame->dst_port != PORT_NETBIOS_SSN) {
		/* A content port: only a learned endpoint is known now. */
		flow_entry_init_detached(&flow, key, ts_ns);
		detached = true;
		if (!learned_interface(ins, &flow, ts_ns, NULL))
			return DROP_REASON_MAX;
		app = FLOW_APP_DCERPC;
		method = EVENT_DETECT_EPM;
	}
	client_segment = policy_segment_of(pol, key->ip_version, key->src_addr,
		key->vlan_outer);
	server_segment = policy_segment_of(pol, key->ip_version, key->dst_addr,
		key->vlan_outer);
	v = policy_pair_verdict(pol, client_segment, server_segment);
	if (!(v.flags & POLICY_VERDICT_BLOCK))
		return DROP_REASON_MAX;	/* allowed, monitored: by the flow */

	ins->counters.syns_refused++;
	if (refused_syn_again(ins, key, frame->tcp_seq, ts_ns)) {
		if (v.flags & POLICY_VERDICT_RESET) {
			if (!detached)
				flow_entry_init_detached(&flow, key, ts_ns);
			reset_connection(ins, &flow, m, frame);
		}
		return DROP_POLICY;
	}
	count_verdict(ins, v);
	if (!detached)
		flow_entry_init_detached(&flow, key, ts_ns);
	flow.app_class = app;
	flow.detect_method = method;
	flow.state_flags = (uint8_t)(frame->tunnel << STATE_TUNNEL_SHIFT);
	flow.policy_verdict = verdict_pack(v);
	flow.policy_gen = policy_generation(pol);
	flow.user_flags = USER_REPORTED;
	flow_entry_count(&flow, FLOW_DIR_ORIG, m->pkt_len);
	send_policy_event(ins, &flow, ts_ns, EVENT_POLICY_PAIR, v,
		client_segment, server_segment);
	send_flow_event(ins, &flow, ts_ns, EVENT_FLOW_CLASSIFIED, 0);
	if (v.flags & POLICY_VERDICT_RESET) {
		reset_connection(ins, &flow, m, frame);
		flow.tcp_state = FLOW_TCP_CLOSED;	/* the reset ends it */
	}
	send_flow_event(ins, &flow, ts_ns, EVENT_FLOW_END, FLOW_REMOVED_CLOSED);
	return DROP_POLICY;
}
