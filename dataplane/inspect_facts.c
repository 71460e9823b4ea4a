/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "inspect_pvt.h"
#include "utf8.h"

/* Logon response flags that say no account was authenticated. */
#define SMB1_ACTION_GUEST		0x0001	/* SESSION_SETUP_ANDX Action */
#define SMB2_SESSION_FLAG_GUEST_OR_NULL	0x0003	/* IS_GUEST | IS_NULL */

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
	out->user[0] = '\0';
	out->domain[0] = '\0';
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
	out->auth_level = rpc->auth_level;
	out->rpc_flags = rpc->flags;
	if (rpc->type == DCERPC_FACT_AUTH) {
		utf8_copy(out->user, rpc->user, sizeof(out->user));
		utf8_copy(out->domain, rpc->domain, sizeof(out->domain));
		utf8_copy(out->name, rpc->workstation, sizeof(out->name));
		return;
	}
	utf8_copy(out->name, rpc->name, sizeof(out->name));
	utf8_copy(out->command, rpc->command, sizeof(out->command));
	if (strlen(rpc->command) >= sizeof(out->command))
		ev->flags |= EVENT_F_TRUNCATED;
}

/*
 * DCE/RPC facts that are not sent as such: learned endpoints go to the
 * endpoint table. Returns true when <rpc> was handled here.
 */
static bool
dcerpc_fact_local(struct inspector *ins, const struct flow_entry *flow,
	const struct dcerpc_fact *rpc)
{
	switch (rpc->type) {
	case DCERPC_FACT_ERROR:
		ins->counters.parser_errors++;
		return true;
	case DCERPC_FACT_ENDPOINT:
		learn_endpoint(ins, flow, rpc);
		return true;
	case DCERPC_FACT_AUTH:
		ins->counters.dcerpc_auth_users++;
		return false;
	default:
		return false;
	}
}

/*
 * A call whose context the parser never saw bound, on a connection to an
 * endpoint the endpoint mapper named: the interface is the one it was
 * named for.
 */
static void
fill_learned_interface(struct fact_context *ctx, struct gw_event *ev,
	const struct dcerpc_fact *rpc)
{
	struct event_dcerpc *out = &ev->u.dcerpc;
	struct endpoint_info info;
	static const uint8_t zero[16];

	if (ctx->flow->detect_method != EVENT_DETECT_EPM ||
			memcmp(rpc->iface_uuid, zero, 16) != 0 ||
			!learned_interface(ctx->ins, ctx->flow, rpc->ts_ns,
				&info) ||
			memcmp(info.iface_uuid, zero, 16) == 0)
		return;
	memcpy(out->iface_uuid, info.iface_uuid, 16);
	out->interface = dcerpc_interface_name(info.iface_uuid);
	if (rpc->opnum != 0xffff)
		out->operation = dcerpc_operation_name(info.iface_uuid,
			rpc->opnum);
}

void
on_dcerpc_fact(void *arg, const struct dcerpc_fact *rpc)
{
	struct fact_context *ctx = arg;
	struct gw_event *ev;

	if (dcerpc_fact_local(ctx->ins, ctx->flow, rpc))
		return;
	session_progress(ctx->ins, ctx->session, rpc->ts_ns);
	/* Judged whether or not the event finds room. */
	if (ctx->smb_rules)
		check_rpc_rules(ctx, rpc);
	ev = event_begin(ctx->ins, false);
	if (ev == NULL)
		return;
	event_init(ev, ctx->ins, ctx->flow, rpc->ts_ns, EVENT_DCERPC,
		rpc->type);
	fill_dcerpc(ev, rpc);
	if (rpc->type == DCERPC_FACT_REQUEST ||
			rpc->type == DCERPC_FACT_RESPONSE ||
			rpc->type == DCERPC_FACT_FAULT)
		fill_learned_interface(ctx, ev, rpc);
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
		session_progress(ins, ctx->session, fact->ts_ns);
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
	case SMB_FACT_LOGON:
		/* A real logon, not guest or anonymous, is progress for good. */
		if ((fact->flags & SMB_FACT_F_RESPONSE) &&
				fact->u.logon.success &&
				!(fact->u.logon.session_flags &
				(fact->version == 1 ? SMB1_ACTION_GUEST :
				SMB2_SESSION_FLAG_GUEST_OR_NULL)))
			session_authenticated(ins, ctx->session);
		break;
	case SMB_FACT_ENCRYPTED:
		ins->counters.smb_encrypted++;
		break;
	case SMB_FACT_COMPRESSED:
		ins->counters.smb_compressed++;
		if (fact->flags & SMB_FACT_F_UNVERIFIABLE)
			ins->counters.smb_compressed_unverifiable++;
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
		out->auth = fact->u.logon.mech;
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

void
on_smb_fact(void *arg, const struct smb_fact *fact)
{
	struct fact_context *ctx = arg;
	struct inspector *ins = ctx->ins;
	struct gw_event *ev;
	uint32_t classes;

	count_smb_fact(ins, ctx, fact);
	if (unlikely(ctx->smb_rules && (fact->type == SMB_FACT_ENCRYPTED ||
			fact->type == SMB_FACT_COMPRESSED)))
		check_unverifiable(ctx, fact);
	if (!smb_fact_is_event(fact, ctx->session))
		return;
	if (fact->type == SMB_FACT_DCERPC &&
			dcerpc_fact_local(ins, ctx->flow, fact->u.dcerpc.rpc))
		return;
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
void
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
