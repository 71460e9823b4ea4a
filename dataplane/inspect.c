/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dcerpc.h"
#include "event.h"
#include "flow.h"
#include "inspect.h"
#include "match.h"
#include "policy.h"
#include "reset.h"
#include "smb.h"
#include "utf8.h"

#define INSPECT_BURST_MAX 256
#define INSPECT_EXPIRE_WORK 64

#define PORT_NETBIOS_SSN 139
#define PORT_SMB 445
#define PORT_EPMAP 135
#define PORT_NETBIOS_NS 137
#define PORT_NETBIOS_DGM 138

/* Bits of flow_entry.user_flags; the low bits count examined payloads. */
#define USER_EXAMINED_MASK	0x0f
#define USER_NONSTANDARD_PORT	0x10
#define USER_RESET_SENT		0x20	/* the policy's resets went out */
#define USER_REPORTED		0x40	/* "classified" sent to the control core */

/* Bits of session.flags. */
#define SESSION_LIVE		0x01	/* flow marked live SMB */
#define SESSION_SEQ_ORIG	0x02	/* next_seq[ORIG] known (DCE/RPC over TCP) */
#define SESSION_SEQ_REPLY	0x04
#define SESSION_ENCRYPTED	0x08	/* encrypted fact already reported */
#define SESSION_COMPRESSED	0x10

/*
 * Parser state for one SMB or DCE/RPC flow, from a fixed pool. The small
 * fields share the first cache line, which the parser's own hot lines
 * follow.
 */
struct session {
	uint32_t next_seq[2];
	uint32_t watch_classes;	/* all classes seen on the flow */
	uint32_t next_free;
	uint16_t dialect;
	uint16_t client_segment;	/* of the policy generation cached in the flow */
	uint16_t server_segment;
	uint8_t flags;
	union {
		struct smb_state smb;
		struct dcerpc_conn dcerpc;
	} parser;
};

struct inspector {
	struct inspector_params params;
	const struct policy *policy;	/* this burst's */
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
	struct watchlist_scratch *watch_scratch;
	struct gw_event local_event;	/* see event_begin() */
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
};

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
	switch (code) {
	case SMB_DIALECT_SMB1_NT_LM_012:
	case SMB_DIALECT_SMB1_OTHER:
		return INSPECT_DIALECT_SMB1;
	case 0x0202: return INSPECT_DIALECT_202;
	case 0x0210: return INSPECT_DIALECT_210;
	case 0x0300: return INSPECT_DIALECT_300;
	case 0x0302: return INSPECT_DIALECT_302;
	case 0x0311: return INSPECT_DIALECT_311;
	default: return INSPECT_DIALECT_OTHER;
	}
}

/* A verdict as cached in flow_entry.policy_verdict. */
static uint32_t
verdict_pack(struct policy_verdict v)
{
	return (uint32_t)v.rule << 16 | (uint32_t)v.action << 8 | v.flags;
}

static struct policy_verdict
verdict_unpack(uint32_t packed)
{
	struct policy_verdict v = {
		.rule = packed >> 16,
		.action = (packed >> 8) & 0xff,
		.flags = packed & 0xff,
	};

	return v;
}

static uint8_t
verdict_event_action(struct policy_verdict v)
{
	if (v.flags & POLICY_VERDICT_BLOCK)
		return EVENT_ACTION_DENIED;
	if (v.action != POLICY_ALLOW)
		return EVENT_ACTION_MONITORED;
	return EVENT_ACTION_ALLOWED;
}

struct fact_context;
struct smb_fact;
static void
check_smb_rules(struct fact_context *ctx, const struct smb_fact *fact,
	uint32_t classes);

static struct session *
session_of(struct inspector *ins, const struct flow_entry *flow)
{
	if (flow->app_state == FLOW_APP_STATE_NONE)
		return NULL;
	return &ins->sessions[flow->app_state];
}

static void
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

static struct session *
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
	if (flow->app_class == FLOW_APP_SMB)
		smb_state_init(&session->parser.smb);
	else
		dcerpc_conn_init(&session->parser.dcerpc);
	flow->app_state = index;
	return session;
}

static void
session_release(struct inspector *ins, struct flow_entry *flow)
{
	uint32_t index = flow->app_state;

	if (index == FLOW_APP_STATE_NONE)
		return;
	ins->sessions[index].next_free = ins->free_session;
	ins->free_session = index;
	flow->app_state = FLOW_APP_STATE_NONE;
}

/*
 * A flow id that stays the same for the life of a flow: a mix of its key
 * and creation time, computed only when an event is sent.
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
	return h ^ (h >> 29);
}

static void
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
static struct gw_event *
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
static void
event_send(struct inspector *ins, struct gw_event *ev)
{
	if (ev != &ins->local_event) {
		rte_ring_enqueue_zc_elem_finish(ins->params.events, 1);
		ins->counters.events++;
	} else if (ins->params.events != NULL) {
		ins->counters.events_dropped++;
	} else if (ins->params.event_fn != NULL) {
		ins->params.event_fn(ins->params.event_ctx, ev);
		ins->counters.events++;
	}
}

static void
send_flow_event(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_flow_type type, uint8_t end_reason)
{
	const struct session *session = flow->app_state == FLOW_APP_STATE_NONE ?
		NULL : &ins->sessions[flow->app_state];
	struct gw_event *ev = event_begin(ins, false);

	if (ev == NULL)
		return;
	event_init(ev, ins, flow, ts_ns, EVENT_FLOW, type);
	memset(&ev->u.flow, 0, sizeof(ev->u.flow));
	ev->u.flow.app = flow->app_class;
	ev->u.flow.method = flow->detect_method;
	ev->u.flow.action = flow->policy_gen == 0 ? EVENT_ACTION_ALLOWED :
		verdict_event_action(verdict_unpack(flow->policy_verdict));
	ev->u.flow.end_reason = end_reason;
	ev->u.flow.first_seen_ns = flow->first_seen_ns;
	ev->u.flow.packets[0] = flow->packets[0];
	ev->u.flow.packets[1] = flow->packets[1];
	ev->u.flow.bytes[0] = flow->bytes[0];
	ev->u.flow.bytes[1] = flow->bytes[1];
	if (session != NULL) {
		ev->u.flow.dialect = session->dialect;
		ev->watch_classes = session->watch_classes;
	}
	event_send(ins, ev);
}

static bool
is_session_app(uint8_t app)
{
	return app == FLOW_APP_SMB || app == FLOW_APP_DCERPC;
}

static uint16_t
server_port_of(const struct flow_entry *flow)
{
	struct flow_key key;

	flow_entry_key(flow, &key);
	return key.dst_port;
}

/* The flow no longer counts as recognised by content on its port. */
static void
forget_content_port(struct inspector *ins, struct flow_entry *flow)
{
	if (flow->detect_method == EVENT_DETECT_CONTENT &&
			is_session_app(flow->app_class)) {
		uint16_t port = server_port_of(flow);

		if (--ins->content_ports[port] == 0)
			ins->port_flags[port] &= ~INSPECT_PORT_CONTENT;
	}
}

static void
on_flow_removed(struct flow_entry *flow, enum flow_remove_reason reason,
	void *arg)
{
	struct inspector *ins = arg;

	forget_content_port(ins, flow);
	if (is_session_app(flow->app_class))
		send_flow_event(ins, flow, flow->last_seen_ns, EVENT_FLOW_END,
			reason);
	session_release(ins, flow);
}

static uint32_t
watch(struct inspector *ins, enum watch_kind kind, const char *name)
{
	if (ins->params.watchlist == NULL || name[0] == '\0')
		return 0;
	return watchlist_match(ins->params.watchlist, ins->watch_scratch,
		kind, name, strlen(name));
}

static void
fill_dcerpc(struct gw_event *ev, const struct dcerpc_fact *rpc)
{
	struct event_dcerpc *out = &ev->u.dcerpc;

	/* As in fill_smb(): the strings are only emptied. */
	memset(out, 0, offsetof(struct event_dcerpc, pipe));
	out->pipe[0] = '\0';
	out->name[0] = '\0';
	out->command[0] = '\0';
	ev->command = rpc->ptype;
	ev->status = rpc->status;
	if (rpc->from_server)
		ev->flags |= EVENT_F_RESPONSE;
	if (rpc->flags & DCERPC_FACT_F_ARGS_TRUNCATED)
		ev->flags |= EVENT_F_TRUNCATED;
	out->interface = rpc->iface_name;
	out->operation = rpc->op_name;
	memcpy(out->iface_uuid, rpc->iface_uuid, 16);
	out->opnum = rpc->opnum;
	out->context_id = rpc->context_id;
	out->call_id = rpc->call_id;
	out->stub_len = rpc->stub_len;
	out->args = rpc->args;
	utf8_copy(out->name, rpc->name, sizeof(out->name));
	utf8_copy(out->command, rpc->command, sizeof(out->command));
	if (strlen(rpc->command) >= sizeof(out->command))
		ev->flags |= EVENT_F_TRUNCATED;
}

static void
on_dcerpc_fact(void *arg, const struct dcerpc_fact *rpc)
{
	struct fact_context *ctx = arg;
	struct gw_event *ev;

	if (rpc->type == DCERPC_FACT_ERROR) {
		ctx->ins->counters.parser_errors++;
		return;
	}
	ev = event_begin(ctx->ins, false);
	if (ev == NULL)
		return;
	event_init(ev, ctx->ins, ctx->flow, rpc->ts_ns, EVENT_DCERPC,
		rpc->type);
	fill_dcerpc(ev, rpc);
	event_send(ctx->ins, ev);
}

/* Whether an SMB fact is worth an event; the rest are only counted. */
static bool
smb_fact_is_event(const struct smb_fact *fact, struct session *session)
{
	switch (fact->type) {
	case SMB_FACT_COMMAND:
	case SMB_FACT_RESYNC:
	case SMB_FACT_ERROR:
		return false;
	case SMB_FACT_NEGOTIATE:
		return true;
	case SMB_FACT_LOGON:
		/* The request only carries names; the response joins them. */
		return (fact->flags & SMB_FACT_F_RESPONSE) != 0;
	case SMB_FACT_READ:
		return (fact->flags & SMB_FACT_F_RESPONSE) != 0;
	case SMB_FACT_WRITE:
		return (fact->flags & SMB_FACT_F_RESPONSE) == 0;
	case SMB_FACT_ENCRYPTED:
		/* One per flow says what cannot be seen; more add nothing. */
		if (session->flags & SESSION_ENCRYPTED)
			return false;
		session->flags |= SESSION_ENCRYPTED;
		return true;
	case SMB_FACT_COMPRESSED:
		if (session->flags & SESSION_COMPRESSED)
			return false;
		session->flags |= SESSION_COMPRESSED;
		return true;
	default:
		return true;
	}
}

static void
count_smb_fact(struct inspector *ins, struct fact_context *ctx,
	const struct smb_fact *fact)
{
	switch (fact->type) {
	case SMB_FACT_COMMAND:
		ins->counters.smb_messages++;
		if (!(ctx->session->flags & SESSION_LIVE)) {
			/* A real SMB exchange, not a bare SYN to port 445. */
			ctx->session->flags |= SESSION_LIVE;
			flow_table_set_live_smb(ins->flows, ctx->flow, true);
		}
		break;
	case SMB_FACT_NEGOTIATE:
		/* 0x02ff only says "go on in SMB2": not a dialect yet. */
		if (fact->u.negotiate.chosen != 0 &&
				fact->u.negotiate.chosen != SMB_DIALECT_SMB2_WILDCARD &&
				(fact->flags & SMB_FACT_F_RESPONSE)) {
			ctx->session->dialect = fact->u.negotiate.chosen;
			ins->counters.smb_dialects[inspect_dialect_of(
				fact->u.negotiate.chosen)]++;
		}
		break;
	case SMB_FACT_ENCRYPTED:
		ins->counters.smb_encrypted++;
		break;
	case SMB_FACT_RESYNC:
		ins->counters.parser_resyncs++;
		break;
	case SMB_FACT_ERROR:
		ins->counters.parser_errors++;
		break;
	default:
		break;
	}
}

static void
fill_smb(struct inspector *ins, struct gw_event *ev, const struct smb_fact *fact,
	struct session *session)
{
	struct event_smb *out = &ev->u.smb;

	/*
	 * Strings are read up to their NUL: emptying them is enough, and
	 * the event (in a ring slot) is written only where it says something.
	 */
	memset(out, 0, offsetof(struct event_smb, user));
	out->user[0] = '\0';
	out->domain[0] = '\0';
	out->workstation[0] = '\0';
	out->share[0] = '\0';
	out->name[0] = '\0';
	ev->command = fact->command;
	ev->status = fact->status;
	if (fact->flags & SMB_FACT_F_RESPONSE)
		ev->flags |= EVENT_F_RESPONSE;
	if (fact->flags & SMB_FACT_F_TRUNCATED)
		ev->flags |= EVENT_F_TRUNCATED;
	out->version = fact->version;
	out->dialect = session->dialect;
	out->session_id = fact->session_id;
	out->message_id = fact->message_id;
	out->tree_id = fact->tree_id;

	switch (fact->type) {
	case SMB_FACT_NEGOTIATE:
		out->dialect = fact->u.negotiate.chosen;
		break;
	case SMB_FACT_LOGON:
	case SMB_FACT_LOGOFF:
		out->success = fact->u.logon.success;
		out->session_flags = fact->u.logon.session_flags;
		utf8_copy(out->user, fact->u.logon.user, sizeof(out->user));
		utf8_copy(out->domain, fact->u.logon.domain,
			sizeof(out->domain));
		utf8_copy(out->workstation, fact->u.logon.workstation,
			sizeof(out->workstation));
		break;
	case SMB_FACT_TREE_CONNECT:
	case SMB_FACT_TREE_DISCONNECT:
		out->share_type = fact->u.tree.share_type;
		utf8_copy(out->share, fact->u.tree.share, sizeof(out->share));
		utf8_copy(out->name, fact->u.tree.path, sizeof(out->name));
		ev->watch_classes = watch(ins, WATCH_KIND_SHARE,
			fact->u.tree.share);
		break;
	case SMB_FACT_CREATE:
	case SMB_FACT_CLOSE:
	case SMB_FACT_READ:
	case SMB_FACT_WRITE:
	case SMB_FACT_IOCTL:
		out->is_pipe = fact->u.file.is_pipe;
		out->desired_access = fact->u.file.desired_access;
		out->disposition = fact->u.file.disposition;
		out->options = fact->u.file.options;
		out->length = fact->u.file.length;
		out->offset = fact->u.file.offset;
		memcpy(out->file_id, fact->u.file.file_id, 16);
		utf8_copy(out->share, fact->u.file.share, sizeof(out->share));
		utf8_copy(out->name, fact->u.file.name, sizeof(out->name));
		ev->watch_classes = watch(ins, WATCH_KIND_SHARE,
			fact->u.file.share) | watch(ins,
			fact->u.file.is_pipe ? WATCH_KIND_PIPE : WATCH_KIND_FILE,
			fact->u.file.name);
		break;
	default:
		break;
	}
}

static void
on_smb_fact(void *arg, const struct smb_fact *fact)
{
	struct fact_context *ctx = arg;
	struct inspector *ins = ctx->ins;
	struct gw_event *ev;
	uint32_t classes;

	count_smb_fact(ins, ctx, fact);
	if (!smb_fact_is_event(fact, ctx->session))
		return;
	if (fact->type == SMB_FACT_DCERPC &&
			fact->u.dcerpc.rpc->type == DCERPC_FACT_ERROR) {
		ins->counters.parser_errors++;
		return;
	}
	/* Conditional rules need the names' classes even with no room. */
	ev = event_begin(ins, ctx->smb_rules);
	if (ev == NULL)
		return;
	if (fact->type == SMB_FACT_DCERPC) {
		event_init(ev, ins, ctx->flow, fact->ts_ns, EVENT_DCERPC,
			fact->u.dcerpc.rpc->type);
		fill_dcerpc(ev, fact->u.dcerpc.rpc);
		ev->flags |= EVENT_F_ON_PIPE;
		utf8_copy(ev->u.dcerpc.pipe, fact->u.dcerpc.pipe,
			sizeof(ev->u.dcerpc.pipe));
		ev->watch_classes = watch(ins, WATCH_KIND_PIPE,
			fact->u.dcerpc.pipe);
	} else {
		event_init(ev, ins, ctx->flow, fact->ts_ns, EVENT_SMB,
			fact->type);
		fill_smb(ins, ev, fact, ctx->session);
	}
	classes = ev->watch_classes;
	ctx->session->watch_classes |= classes;
	/* Once sent, the slot belongs to the control core. */
	event_send(ins, ev);
	if (ctx->smb_rules)
		check_smb_rules(ctx, fact, classes);
}

/*
 * DCE/RPC over TCP has no framing of its own to resynchronise on, so the
 * byte stream is put in order here: retransmitted bytes are cut off, and a
 * gap is passed over (the parser then resynchronises on the next PDU).
 */
static void
feed_dcerpc(struct fact_context *ctx, uint8_t dir, uint32_t seq,
	const uint8_t *data, uint32_t len, uint64_t ts_ns)
{
	struct session *session = ctx->session;
	uint8_t known = dir == FLOW_DIR_ORIG ? SESSION_SEQ_ORIG :
		SESSION_SEQ_REPLY;

	if (session->flags & known) {
		int32_t ahead = (int32_t)(seq - session->next_seq[dir]);

		if (ahead < 0) {
			uint32_t old = (uint32_t)-ahead;

			if (old >= len) {
				ctx->ins->counters.retransmitted_bytes += len;
				return;
			}
			ctx->ins->counters.retransmitted_bytes += old;
			data += old;
			len -= old;
			seq += old;
		}
	}
	session->flags |= known;
	session->next_seq[dir] = seq + len;
	dcerpc_conn_feed(&session->parser.dcerpc, dir == FLOW_DIR_REPLY, data,
		len, ts_ns, on_dcerpc_fact, ctx);
}

/* Feeds the TCP payload of <m>, segment by segment, to the flow's parser. */
static void
feed_payload(struct inspector *ins, struct fact_context *ctx,
	const struct rte_mbuf *m, const struct decoded_frame *frame,
	uint8_t dir, uint64_t ts_ns)
{
	uint32_t offset = frame->payload_offset;
	uint32_t remaining = frame->payload_len;
	uint32_t seq = frame->tcp_seq;
	const struct rte_mbuf *seg;

	/* Ethernet padding is not payload; a short capture has less. */
	if (offset >= m->pkt_len)
		return;
	remaining = RTE_MIN(remaining, m->pkt_len - offset);
	if (frame->tcp_flags & DECODE_TCP_SYN)
		seq++;
	ins->counters.payload_bytes += remaining;

	for (seg = m; seg != NULL && remaining > 0; seg = seg->next) {
		const uint8_t *data;
		uint32_t chunk;

		if (offset >= seg->data_len) {
			offset -= seg->data_len;
			continue;
		}
		data = rte_pktmbuf_mtod_offset(seg, const uint8_t *, offset);
		chunk = RTE_MIN(remaining, (uint32_t)seg->data_len - offset);
		if (ctx->flow->app_class == FLOW_APP_SMB)
			smb_feed(&ctx->session->parser.smb,
				dir == FLOW_DIR_ORIG ? SMB_DIR_TO_SERVER :
				SMB_DIR_TO_CLIENT, seq, data, chunk, ts_ns,
				on_smb_fact, ctx);
		else
			feed_dcerpc(ctx, dir, seq, data, chunk, ts_ns);
		seq += chunk;
		remaining -= chunk;
		offset = 0;
	}
}

static bool
is_smb_port(uint16_t port)
{
	return port == PORT_SMB || port == PORT_NETBIOS_SSN;
}

static void
classify_by_port(struct inspector *ins, struct flow_entry *flow,
	const struct decoded_frame *frame)
{
	if (is_smb_port(frame->src_port) || is_smb_port(frame->dst_port)) {
		flow->app_class = FLOW_APP_SMB;
		flow->detect_method = EVENT_DETECT_PORT;
		ins->counters.smb_flows_port++;
	} else if (frame->src_port == PORT_EPMAP ||
			frame->dst_port == PORT_EPMAP) {
		flow->app_class = FLOW_APP_DCERPC;
		flow->detect_method = EVENT_DETECT_PORT;
		ins->counters.dcerpc_flows_port++;
	} else {
		flow->app_class = FLOW_APP_PENDING;
		return;
	}
}

/*
 * On other ports, the first payload bytes decide: an NBSS header with an
 * SMB magic is tunnelled SMB, a DCE/RPC header is RPC on a dynamic port.
 * After classify_packets payloads with neither, the flow is let go.
 */
static void
classify_by_content(struct inspector *ins, struct flow_entry *flow,
	const struct rte_mbuf *m, const struct decoded_frame *frame)
{
	const uint8_t *payload;
	uint32_t len;

	if (frame->payload_len == 0 || frame->payload_offset >= m->data_len)
		return;
	payload = rte_pktmbuf_mtod_offset(m, const uint8_t *,
		frame->payload_offset);
	len = RTE_MIN(frame->payload_len,
		(uint32_t)m->data_len - frame->payload_offset);

	if (smb_looks_like_smb(payload, len)) {
		flow->app_class = FLOW_APP_SMB;
		ins->counters.smb_flows_content++;
	} else if (dcerpc_looks_like_pdu(payload, len)) {
		flow->app_class = FLOW_APP_DCERPC;
		ins->counters.dcerpc_flows_content++;
	} else {
		uint8_t examined = (flow->user_flags & USER_EXAMINED_MASK) + 1;

		flow->user_flags = (flow->user_flags & ~USER_EXAMINED_MASK) |
			(examined & USER_EXAMINED_MASK);
		if (examined >= ins->params.classify_packets) {
			flow->app_class = FLOW_APP_NOT_SMB;
			ins->counters.not_smb_flows++;
		}
		return;
	}
	flow->detect_method = EVENT_DETECT_CONTENT;
	flow->user_flags |= USER_NONSTANDARD_PORT;
	{
		uint16_t port = server_port_of(flow);

		ins->content_ports[port]++;
		ins->port_flags[port] |= INSPECT_PORT_CONTENT;
	}
}


/* The segments of the flow's client and server under this burst's policy. */
static void
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

static void
send_policy_event(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, enum event_policy_scope scope, struct policy_verdict v,
	uint16_t client_segment, uint16_t server_segment)
{
	const struct policy *pol = ins->policy;
	struct gw_event *ev = event_begin(ins, false);

	if (ev == NULL)
		return;
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
	event_send(ins, ev);
}

static void
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
 * The flow's verdict under this burst's policy: cached in the flow with
 * the policy's generation, so a reload re-evaluates each flow at its next
 * packet and nothing else costs more than a compare.
 */
static struct policy_verdict
flow_verdict(struct inspector *ins, struct flow_entry *flow, uint64_t ts_ns)
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
static void
reset_connection(struct inspector *ins, struct flow_entry *flow,
	const struct rte_mbuf *m, const struct decoded_frame *frame)
{
	if ((flow->user_flags & USER_RESET_SENT) ||
			ins->params.reset_pool == NULL)
		return;
	flow->user_flags |= USER_RESET_SENT;
	add_generated(ins, reset_build(ins->params.reset_pool, m, frame,
		RESET_TO_SENDER), true);
	if ((frame->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) !=
			DECODE_TCP_SYN)
		add_generated(ins, reset_build(ins->params.reset_pool, m,
			frame, RESET_TO_RECEIVER), false);
}

/* Conditional rules, at the SMB message that meets them. */
static void
check_smb_rules(struct fact_context *ctx, const struct smb_fact *fact,
	uint32_t classes)
{
	struct inspector *ins = ctx->ins;
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
	v = policy_smb_verdict(ctx->policy, ctx->session->client_segment,
		ctx->session->server_segment, &facts);
	if (v.rule == verdict_unpack(ctx->flow->policy_verdict).rule)
		return;	/* no conditional rule met: the pair's verdict stands */
	send_policy_event(ins, ctx->flow, fact->ts_ns, EVENT_POLICY_SMB, v,
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

/* NetBIOS datagrams (UDP 137/138) take the pair verdict of their ends. */
static uint8_t
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

	if (changed & FLOW_TCP_RESTARTED) {
		/* A new connection on the same addresses and ports. */
		forget_content_port(ins, flow);
		session_release(ins, flow);
		flow->app_class = FLOW_APP_UNKNOWN;
		flow->user_flags = 0;
		flow->policy_gen = 0;
	}
	if (flow->app_class == FLOW_APP_UNKNOWN)
		classify_by_port(ins, flow, frame);
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
	if (frame->payload_len == 0)
		return DROP_REASON_MAX;

	ctx.ins = ins;
	ctx.flow = flow;
	ctx.policy = ins->policy;
	ctx.smb_rules = (verdict.flags & POLICY_VERDICT_SMB_RULES) != 0;
	ctx.deny = false;
	ctx.session = session_of(ins, flow);
	if (ctx.session == NULL) {
		/* State is taken only once there is payload to parse. */
		ctx.session = session_alloc(ins, flow);
		if (ctx.session == NULL)
			return DROP_REASON_MAX;
		if (!(flow->user_flags & USER_REPORTED)) {
			flow->user_flags |= USER_REPORTED;
			send_flow_event(ins, flow, ts_ns,
				EVENT_FLOW_CLASSIFIED, 0);
		}
		if (ins->policy != NULL)
			flow_segments(ins, flow, &ctx.session->client_segment,
				&ctx.session->server_segment);
	}
	feed_payload(ins, &ctx, m, frame, dir, ts_ns);
	if (!ctx.deny)
		return DROP_REASON_MAX;

	/* The message that met a blocking rule ends the connection. */
	ins->counters.policy_smb_denied++;
	flow->policy_verdict = verdict_pack(ctx.denial);
	if (ctx.denial.flags & POLICY_VERDICT_RESET)
		reset_connection(ins, flow, m, frame);
	return DROP_POLICY;
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

/* The part of content_sender() past the first-byte filter. */
static int __attribute__((noinline))
content_sender_slow(const uint8_t *p, uint32_t len)
{
	if (smb_looks_like_smb(p, len)) {
		if (p[0] == 0x81)	/* NBSS session request */
			return FLOW_KEY_SENDER_CLIENT;
		if (p[0] != 0x00)
			return FLOW_KEY_SENDER_SERVER;
		if (p[4] == 0xfe && len >= 4 + 20)	/* SMB2 Flags bit 0 */
			return p[4 + 16] & 0x01 ? FLOW_KEY_SENDER_SERVER :
				FLOW_KEY_SENDER_CLIENT;
		if (p[4] == 0xff && len >= 4 + 10)	/* SMB1 Flags bit 7 */
			return p[4 + 9] & 0x80 ? FLOW_KEY_SENDER_SERVER :
				FLOW_KEY_SENDER_CLIENT;
		return 0;
	}
	if (dcerpc_looks_like_pdu(p, len)) {
		switch (p[2]) {
		case DCERPC_PTYPE_REQUEST:
		case DCERPC_PTYPE_BIND:
		case DCERPC_PTYPE_ALTER_CONTEXT:
		case DCERPC_PTYPE_AUTH3:
			return FLOW_KEY_SENDER_CLIENT;
		default:
			return FLOW_KEY_SENDER_SERVER;
		}
	}
	return -1;
}

/*
 * Whether the payload of <frame> starts like SMB or DCE/RPC: -1 if not,
 * else who sent it as FLOW_KEY_SENDER_* (0 when the header does not say).
 * Only for frames inspect_maybe_candidate() let through on their payload.
 */
static int
content_sender(const struct rte_mbuf *m, const struct decoded_frame *frame)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *,
		frame->payload_offset);
	uint32_t len = RTE_MIN(frame->payload_len,
		(uint32_t)m->data_len - frame->payload_offset);

	return content_sender_slow(p, len);
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

	for (i = 0; i < count; i++) {
		const struct decoded_frame *frame = &frames[i];
		int sender = 0;

		if (ts_ns != NULL)
			burst_ns = ts_ns[i];
		if (verdicts[i] != DROP_REASON_MAX)
			continue;
		if (frame->l4_proto == IPPROTO_UDP) {
			if (inspect_maybe_candidate(ins->port_flags, pkts[i],
					frame))
				verdicts[i] = datagram_verdict(ins, frame);
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
			ins->counters.untracked++;
			if (ins->params.fail_mode == INSPECT_FAIL_CLOSED)
				verdicts[p] = DROP_STATE_FULL;
			continue;
		}
		verdicts[p] = inspect_tcp(ins, flows[i], dirs[i], pkts[p],
			&frames[p], ts_ns != NULL ? ts_ns[p] : now_ns);
	}
}

void
inspector_expire(struct inspector *ins, uint64_t now_ns)
{
	flow_table_expire(ins->flows, now_ns, INSPECT_EXPIRE_WORK);
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

	if (is_session_app(flow->app_class))
		send_flow_event(ins, flow, flow->last_seen_ns, EVENT_FLOW_END,
			FLOW_REMOVED_TABLE_FREE);
	return 0;
}

void
inspector_flush(struct inspector *ins)
{
	flow_table_foreach(ins->flows, end_flow, ins);
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

struct inspector *
inspector_create(const struct inspector_params *params)
{
	struct flow_table_params flow_params;
	struct inspector *ins;
	uint32_t i;

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

	/* Populated now so that the data path never takes a page fault. */
	ins->sessions = flow_huge_map((size_t)params->sessions *
		sizeof(struct session), true, &ins->sessions_bytes);
	if (ins->sessions == NULL) {
		errno = ENOMEM;
		goto free_flows;
	}
	ins->port_flags[PORT_SMB] = INSPECT_PORT_WATCHED;
	ins->port_flags[PORT_NETBIOS_SSN] = INSPECT_PORT_WATCHED;
	ins->port_flags[PORT_EPMAP] = INSPECT_PORT_WATCHED;
	if (params->policy != NULL) {
		ins->port_flags[PORT_NETBIOS_NS] = INSPECT_PORT_DATAGRAM;
		ins->port_flags[PORT_NETBIOS_DGM] = INSPECT_PORT_DATAGRAM;
	}
	for (i = 0; i < params->sessions; i++)
		ins->sessions[i].next_free = i + 1 < params->sessions ?
			i + 1 : FLOW_APP_STATE_NONE;
	ins->free_session = 0;

	if (params->watchlist != NULL) {
		ins->watch_scratch = watchlist_scratch_alloc(params->watchlist);
		if (ins->watch_scratch == NULL)
			goto unmap_sessions;
	}
	return ins;

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
	flow_table_free(ins->flows);
	watchlist_scratch_free(ins->watch_scratch);
	munmap(ins->sessions, ins->sessions_bytes);
	free(ins);
}
