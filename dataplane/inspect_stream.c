/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP payload of inspected flows through the stream normaliser
 * (dataplane/stream/) to the SMB or DCE/RPC parser: checksums verified,
 * bytes judged in order and once, retransmissions compared with what was
 * judged, holes given up only by the fail mode. docs/policy.md, "Stream
 * normalisation", says what is decided here and why.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_per_lcore.h>

#include "checksum.h"
#include "inspect_pvt.h"

/*
 * Kept segments are the mbufs themselves, one reference per segment.
 * Inline: the stream's fast path calls these once per segment.
 */
static __rte_always_inline void
mbuf_hold(void *buf)
{
	struct rte_mbuf *seg;

	/* A chain is freed segment by segment: each needs the reference. */
	for (seg = buf; seg != NULL; seg = seg->next)
		rte_mbuf_refcnt_update(seg, 1);
}

/*
 * Released segments wait here and go back to their pool in bulk, which
 * costs a third of freeing them one by one: the worker's own thread, so
 * no lock (per thread, since the stream library's release takes no
 * context). inspect_stream_release_flush() empties it.
 */
#define RELEASE_BULK 64

static RTE_DEFINE_PER_LCORE(unsigned int, release_count);
static RTE_DEFINE_PER_LCORE(struct rte_mbuf *, release_pending[RELEASE_BULK]);

void
inspect_stream_release_flush(void)
{
	unsigned int count = RTE_PER_LCORE(release_count);

	if (count == 0)
		return;
	rte_pktmbuf_free_bulk(RTE_PER_LCORE(release_pending), count);
	RTE_PER_LCORE(release_count) = 0;
}

static __rte_always_inline void
mbuf_release(void *buf)
{
	if (RTE_PER_LCORE(release_count) == RELEASE_BULK)
		inspect_stream_release_flush();
	RTE_PER_LCORE(release_pending)[RTE_PER_LCORE(release_count)++] = buf;
}

static const uint8_t *
mbuf_read(void *buf, uint32_t offset, uint32_t len, uint8_t *scratch)
{
	return rte_pktmbuf_read(buf, offset, len, scratch);
}

static void
mbuf_write(void *buf, uint32_t offset, const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *seg = buf;

	for (; seg != NULL && offset >= seg->data_len; seg = seg->next)
		offset -= seg->data_len;
	for (; seg != NULL && len > 0; seg = seg->next, offset = 0) {
		uint32_t chunk = RTE_MIN(len, (uint32_t)seg->data_len - offset);

		memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, offset), data,
			chunk);
		data += chunk;
		len -= chunk;
	}
}

const struct stream_ops inspect_stream_ops = {
	.hold = mbuf_hold,
	.release = mbuf_release,
	.read = mbuf_read,
	.write = mbuf_write,
};

/*
 * The ones' complement sum of the TCP pseudo-header, folded, as
 * rte_raw_cksum() gives sums: over the bytes in memory order, here as
 * 32-bit words added straight from the decoded addresses (checksum_ones_sum()'s
 * rule), with no buffer to build and no call.
 */
static uint16_t
pseudo_header_sum(const struct decoded_frame *frame, uint32_t tcp_len)
{
	uint8_t tail[8] = { 0 };
	uint64_t sum;

	/* IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, 3 zeros, next header. */
	if (frame->l3 != DECODE_L3_IPV6) {
		tail[1] = IPPROTO_TCP;
		tail[2] = (uint8_t)(tcp_len >> 8);
		tail[3] = (uint8_t)tcp_len;
		sum = (uint64_t)checksum_load_u32(frame->src_addr) +
			checksum_load_u32(frame->dst_addr) + checksum_load_u32(tail);
		return checksum_fold(sum);
	}
	tail[0] = (uint8_t)(tcp_len >> 24);
	tail[1] = (uint8_t)(tcp_len >> 16);
	tail[2] = (uint8_t)(tcp_len >> 8);
	tail[3] = (uint8_t)tcp_len;
	tail[7] = IPPROTO_TCP;
	sum = (uint64_t)checksum_load_u32(frame->src_addr) +
		checksum_load_u32(frame->src_addr + 4) + checksum_load_u32(frame->src_addr + 8) +
		checksum_load_u32(frame->src_addr + 12) + checksum_load_u32(frame->dst_addr) +
		checksum_load_u32(frame->dst_addr + 4) + checksum_load_u32(frame->dst_addr + 8) +
		checksum_load_u32(frame->dst_addr + 12) + checksum_load_u32(tail) +
		checksum_load_u32(tail + 4);
	return checksum_fold(sum);
}

enum checksum_state {
	CHECKSUM_GOOD,
	CHECKSUM_BAD,
	CHECKSUM_UNVERIFIABLE,	/* left for offload, or not all captured */
};

/*
 * Whether the TCP checksum of <m> holds: from the NIC's flags where it
 * checked, else computed over the segment as the IP header sizes it.
 */
static enum checksum_state
tcp_checksum(const struct inspector *ins, const struct rte_mbuf *m,
	const struct decoded_frame *frame)
{
	uint32_t tcp_len = frame->payload_offset - frame->l4_offset +
		frame->payload_len;
	uint16_t field, pseudo, raw;
	uint32_t sum;

	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
		return CHECKSUM_GOOD;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		return CHECKSUM_BAD;
	default:
		break;
	}
	/* A capture cut short (snap length) cannot be checked. */
	if ((uint32_t)frame->l4_offset + tcp_len > m->pkt_len ||
			checksum_mbuf_sum(m, frame->l4_offset, tcp_len, &raw) != 0)
		return CHECKSUM_UNVERIFIABLE;
	pseudo = pseudo_header_sum(frame, tcp_len);
	sum = (uint32_t)raw + pseudo;
	sum = (sum & 0xffff) + (sum >> 16);
	if (sum == 0xffff)
		return CHECKSUM_GOOD;
	if (ins->params.checksum == INSPECT_CHECKSUM_AUTO) {
		/* Both in memory order: the field as stored, the sum as summed. */
		memcpy(&field, rte_pktmbuf_mtod_offset(m, const uint8_t *,
			frame->l4_offset + 16), sizeof(field));
		if (field == pseudo)
			return CHECKSUM_UNVERIFIABLE;
	}
	return CHECKSUM_BAD;
}

/*
 * Sets the TCP checksum of <m> again after its payload was rewritten: the
 * receiver must take the segment as the sender's. The segment then sums
 * to what it summed before (the pseudo-header's complement), so a GRE
 * checksum over the tunnelled packet (decode.h) still holds as it is.
 */
static void
tcp_checksum_set(struct rte_mbuf *m, const struct decoded_frame *frame)
{
	uint32_t tcp_len = frame->payload_offset - frame->l4_offset +
		frame->payload_len;
	uint8_t *field = rte_pktmbuf_mtod_offset(m, uint8_t *,
		frame->l4_offset + 16);
	uint16_t raw, value;
	uint32_t sum;

	field[0] = field[1] = 0;
	if (checksum_mbuf_sum(m, frame->l4_offset, tcp_len, &raw) != 0)
		return;	/* not all there: only a capture can be cut short */
	sum = (uint32_t)raw + pseudo_header_sum(frame, tcp_len);
	sum = (sum & 0xffff) + (sum >> 16);
	value = (uint16_t)~sum;
	memcpy(field, &value, sizeof(value));	/* memory order, as summed */
}

/* Bytes judged in order go to the flow's parser (inline in the fast path). */
static __rte_always_inline void
deliver_to_parser(void *arg, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct fact_context *ctx = arg;
	struct session *session = ctx->session;

	ctx->ins->counters.payload_bytes += len;
	if (ctx->flow->app_class == FLOW_APP_SMB)
		smb_feed(&session->parser.smb, ctx->dir == FLOW_DIR_ORIG ?
			SMB_DIR_TO_SERVER : SMB_DIR_TO_CLIENT, seq, data, len,
			ctx->ts_ns, on_smb_fact, ctx);
	else
		dcerpc_conn_feed(&session->parser.dcerpc,
			ctx->dir == FLOW_DIR_REPLY, data, len, ctx->ts_ns,
			on_dcerpc_fact, ctx);
}

/*
 * Tells the flow's parser that the <lost> bytes before <seq> will never
 * come, before anything after them is delivered: the SMB parser by the
 * position alone, the DCE/RPC one, which counts no sequence numbers, by
 * the length.
 */
static void
parser_hole(struct fact_context *ctx, uint32_t seq, uint32_t lost)
{
	struct session *session = ctx->session;

	if (ctx->flow->app_class == FLOW_APP_SMB)
		smb_feed(&session->parser.smb, ctx->dir == FLOW_DIR_ORIG ?
			SMB_DIR_TO_SERVER : SMB_DIR_TO_CLIENT, seq, NULL, 0,
			ctx->ts_ns, on_smb_fact, ctx);
	else
		dcerpc_conn_gap(&session->parser.dcerpc,
			ctx->dir == FLOW_DIR_REPLY, lost, ctx->ts_ns,
			on_dcerpc_fact, ctx);
}

/* Tells the control core what the stream showed (EVENT_FLOW_STREAM). */
static void
send_stream_event(struct inspector *ins, const struct fact_context *ctx,
	uint8_t anomaly, bool dropped)
{
	struct gw_event *ev = event_begin(ins, false);

	if (ev == NULL)
		return;
	event_init(ev, ins, ctx->flow, ctx->ts_ns, EVENT_FLOW,
		EVENT_FLOW_STREAM);
	memset(&ev->u.flow, 0, sizeof(ev->u.flow));
	ev->u.flow.app = ctx->flow->app_class;
	ev->u.flow.method = ctx->flow->detect_method;
	ev->u.flow.action = dropped ? EVENT_ACTION_DENIED :
		EVENT_ACTION_ALLOWED;
	ev->u.flow.end_reason = anomaly;
	ev->u.flow.first_seen_ns = ctx->flow->first_seen_ns;
	if (ctx->dir == FLOW_DIR_REPLY)
		ev->flags |= EVENT_F_RESPONSE;
	ev->u.flow.dialect = ctx->session->dialect;
	ev->watch_classes = ctx->session->watch_classes;
	event_send(ins, ev);
}

/* Whether the gateway may drop this flow's segments (inline, enforcing). */
static bool
may_drop(const struct inspector *ins)
{
	return ins->params.forwards && (ins->policy == NULL ||
		policy_mode(ins->policy) == POLICY_MODE_ENFORCE);
}

/*
 * A hole open past the timeout: fail closed ends the connection; fail open
 * gives the hole up, judges what waited behind it and marks the flow
 * unjudged, since bytes the receiver may get were never seen here.
 */
static uint8_t
gap_timed_out(struct inspector *ins, struct fact_context *ctx,
	struct stream_dir *dir, const struct rte_mbuf *m,
	const struct decoded_frame *frame)
{
	uint16_t before;

	if (ins->params.fail_mode == INSPECT_FAIL_CLOSED && may_drop(ins)) {
		ins->counters.stream_gap_resets++;
		send_stream_event(ins, ctx, EVENT_STREAM_GAP_TIMEOUT, true);
		reset_connection(ins, ctx->flow, m, frame);
		return DROP_STREAM;
	}
	ins->counters.stream_unjudged++;
	if (!(ctx->flow->user_flags & USER_UNJUDGED)) {
		ctx->flow->user_flags |= USER_UNJUDGED;
		send_stream_event(ins, ctx, EVENT_STREAM_GAP_TIMEOUT, false);
	}
	before = dir->ahead_count;
	if (dir->ahead_count != 0) {
		uint32_t hole_end = stream_dir_hole_end(ins->stream, dir,
			dir->next_seq - 1);

		parser_hole(ctx, hole_end, hole_end - dir->next_seq);
	}
	stream_dir_skip_gap(ins->stream, dir, deliver_to_parser, ctx);
	flow_client_held_add(ins->clients, ctx->flow,
		(int32_t)dir->ahead_count - (int32_t)before);
	return DROP_REASON_MAX;
}

/*
 * Whether segment <seq> of <dir> would wait ahead of a hole while the
 * flow's client already keeps its share of such segments: one client
 * cannot fill the half of the pool that holes may take.
 */
static bool
client_share_spent(struct inspector *ins, const struct fact_context *ctx,
	const struct stream_dir *dir, uint32_t seq)
{
	uint32_t cap = ins->params.stream_client_segments;

	return (int32_t)(seq - dir->next_seq) > 0 && cap != 0 &&
		stream_dir_started(dir) &&
		flow_client_held(ins->clients, ctx->flow) >= cap;
}

/*
 * Where the directions of a flow start, for a SYN or a stream not yet
 * started: returns the sequence number of the segment's first byte.
 */
static uint32_t
stream_start(const struct fact_context *ctx, struct stream_dir *dir,
	struct stream_dir *peer, const struct decoded_frame *frame)
{
	uint32_t seq = frame->tcp_seq;

	if (frame->tcp_flags & DECODE_TCP_SYN) {
		/* A SYN's payload (TCP Fast Open) follows its sequence number. */
		seq++;
		if (!stream_dir_started(dir))
			stream_dir_start(dir, seq);
	}
	if (ctx->dir == FLOW_DIR_ORIG && !stream_dir_started(dir) &&
			(ctx->flow->state_flags & STATE_INITIATOR_NEXT))
		stream_dir_start(dir, ctx->flow->initiator_next);
	/* An ACK: the sender has every byte of the other side before it. */
	if ((frame->tcp_flags & DECODE_TCP_ACK) && !stream_dir_started(peer))
		stream_dir_start(peer, frame->tcp_ack);
	return seq;
}

/*
 * What follows stream_segment() on the full path: the client's share of
 * segments held ahead, conflicts, drops, a FIN and the gap timeout.
 * <end> is the sequence after the payload.
 */
static uint8_t
stream_after(struct inspector *ins, struct fact_context *ctx,
	struct stream_dir *dir, struct rte_mbuf *m,
	const struct decoded_frame *frame, enum stream_result result,
	uint16_t ahead_before, uint32_t end)
{
	if (dir->ahead_count != ahead_before)
		flow_client_held_add(ins->clients, ctx->flow,
			(int32_t)dir->ahead_count - (int32_t)ahead_before);
	switch (result) {
	case STREAM_CONFLICT:
		/* Not judged, and forwarded: nothing is changed here. */
		send_stream_event(ins, ctx, EVENT_STREAM_CONFLICT, false);
		return DROP_REASON_MAX;
	case STREAM_REWRITTEN:
	case STREAM_REWRITTEN_OLD:
		send_stream_event(ins, ctx, EVENT_STREAM_CONFLICT, true);
		tcp_checksum_set(m, frame);
		break;
	case STREAM_UNSEEN_OLD:
		ins->counters.stream_unseen_drops++;
		return DROP_STREAM;
	case STREAM_NO_ROOM:
		if (!may_drop(ins))
			return DROP_REASON_MAX;
		ins->counters.stream_no_room_drops++;
		return DROP_STREAM;
	default:
		break;
	}
	if (frame->tcp_flags & DECODE_TCP_FIN)
		stream_dir_fin(dir, end);
	if (dir->gap_since_ns != 0 && ins->params.stream_gap_timeout_ns != 0 &&
			ctx->ts_ns - dir->gap_since_ns >
			ins->params.stream_gap_timeout_ns)
		return gap_timed_out(ins, ctx, dir, m, frame);
	return DROP_REASON_MAX;
}

/*
 * An acknowledgement that moves: releases what it covers. Out of line, so
 * that the registers its bulk free needs are not saved on every segment.
 */
static __rte_noinline void
stream_ack(struct stream_pool *pool, struct stream_dir *dir, uint32_t ack)
{
	stream_dir_ack_inline(pool, &inspect_stream_ops, dir, ack);
}

/*
 * Any segment but the next bytes in order: through the whole of
 * stream_segment(), with the client's share of segments held ahead
 * checked first. <data>: its payload where contiguous, else NULL.
 */
static __rte_noinline uint8_t
stream_segment_full(struct inspector *ins, struct fact_context *ctx,
	struct stream_dir *dir, struct rte_mbuf *m,
	const struct decoded_frame *frame, const uint8_t *data, uint32_t seq,
	uint32_t len)
{
	bool enforce = may_drop(ins);
	enum stream_result result;
	uint16_t ahead_before;

	if (unlikely(client_share_spent(ins, ctx, dir, seq))) {
		ins->counters.stream_client_capped++;
		if (enforce) {
			ins->counters.stream_no_room_drops++;
			return DROP_STREAM;
		}
	}
	ahead_before = dir->ahead_count;
	result = stream_segment(ins->stream, dir, m, data,
		frame->payload_offset, seq, len, ctx->ts_ns, enforce,
		deliver_to_parser, ctx);
	return stream_after(ins, ctx, dir, m, frame, result, ahead_before,
		seq + len);
}

/*
 * A segment a capture recorded shorter than it was sent (snap length):
 * the bytes recorded are judged as any others; the rest, which the
 * receiver got and no one can see now, is given up as a hole at once
 * rather than waited for until the gap timeout, and the parser is told.
 * Its checksum cannot be checked.
 */
static __rte_noinline uint8_t
stream_cut_short(struct inspector *ins, struct fact_context *ctx,
	struct stream_dir *dir, struct rte_mbuf *m,
	const struct decoded_frame *frame, uint32_t seq, uint32_t len)
{
	uint32_t end = seq + frame->payload_len;
	enum stream_result result = STREAM_ACCEPTED;
	uint16_t ahead_before = dir->ahead_count;

	ins->counters.stream_cut_short++;
	if (!stream_dir_started(dir) && !(frame->tcp_flags &
			(DECODE_TCP_SYN | DECODE_TCP_RST)))
		stream_dir_start(dir, seq);
	if (len != 0) {
		const uint8_t *data = NULL;

		if (frame->payload_offset + len <= m->data_len)
			data = rte_pktmbuf_mtod_offset(m, const uint8_t *,
				frame->payload_offset);
		result = stream_segment(ins->stream, dir, m, data,
			frame->payload_offset, seq, len, ctx->ts_ns,
			may_drop(ins), deliver_to_parser, ctx);
	}
	if (stream_dir_started(dir) && dir->next_seq == seq + len) {
		uint32_t hole_end = stream_dir_hole_end(ins->stream, dir, end);

		/* The parser learns of the hole now, not when the next bytes
		 * come: the message it cut is read before its answer. */
		if (stream_seq_lt(dir->next_seq, hole_end))
			parser_hole(ctx, hole_end, hole_end - dir->next_seq);
		stream_dir_skip_to(ins->stream, dir, end, ctx->ts_ns,
			deliver_to_parser, ctx);
	}
	return stream_after(ins, ctx, dir, m, frame, result, ahead_before,
		end);
}

/*
 * The segment <m> of an inspected flow with a parser state: its
 * acknowledgement releases what the other side kept, its payload goes
 * through the normaliser to the parser. Returns DROP_REASON_MAX to
 * forward it, or why it is dropped; an SMB-level denial is left in
 * <ctx> for the caller.
 */
uint8_t
stream_inspect(struct inspector *ins, struct fact_context *ctx,
	struct rte_mbuf *m, const struct decoded_frame *frame)
{
	struct session *session = ctx->session;
	struct stream_dir *dir = &session->stream[ctx->dir];
	struct stream_dir *peer = &session->stream[ctx->dir ^ 1];
	uint8_t tcp_flags = frame->tcp_flags;
	uint32_t seq = frame->tcp_seq, offset = frame->payload_offset, len = 0;
	const uint8_t *data = NULL;

	/* Where each direction starts: known after the handshake. */
	if (unlikely((tcp_flags & DECODE_TCP_SYN) ||
			!(dir->flags & peer->flags & STREAM_DIR_STARTED)))
		seq = stream_start(ctx, dir, peer, frame);
	/* The sender has every byte of the other side before its ACK. */
	if ((tcp_flags & DECODE_TCP_ACK) && stream_dir_ack_new(peer,
			frame->tcp_ack))
		stream_ack(ins->stream, peer, frame->tcp_ack);
	if (offset < m->pkt_len)
		len = RTE_MIN(frame->payload_len, m->pkt_len - offset);
	if (unlikely(len != frame->payload_len) &&
			(m->ol_flags & ins->params.capture_cut_flag))
		return stream_cut_short(ins, ctx, dir, m, frame, seq, len);
	if (len == 0) {
		if (!stream_dir_started(dir) && !(tcp_flags &
				(DECODE_TCP_SYN | DECODE_TCP_RST)))
			stream_dir_start(dir, seq);
		if (tcp_flags & DECODE_TCP_FIN)
			stream_dir_fin(dir, seq);
		return DROP_REASON_MAX;
	}

	if (ins->params.checksum != INSPECT_CHECKSUM_OFF) {
		switch (tcp_checksum(ins, m, frame)) {
		case CHECKSUM_BAD:
			/* The receiver throws it away: so does the parser. */
			ins->counters.bad_checksums++;
			return may_drop(ins) ? DROP_BAD_CHECKSUM :
				DROP_REASON_MAX;
		case CHECKSUM_UNVERIFIABLE:
			ins->counters.checksums_offloaded++;
			break;
		default:
			break;
		}
	}

	if (likely(offset + len <= m->data_len))
		data = rte_pktmbuf_mtod_offset(m, const uint8_t *, offset);
	/*
	 * The next bytes with nothing waiting ahead, and a record for them:
	 * kept and judged, and nothing more to do. They cannot wait ahead,
	 * so the client's share and the gap time are not theirs to change;
	 * a FIN takes the full path.
	 */
	if (likely(!(tcp_flags & DECODE_TCP_FIN)) &&
			stream_segment_next(ins->stream, &inspect_stream_ops,
			dir, m, data, offset, seq, len, deliver_to_parser, ctx))
		return DROP_REASON_MAX;

	return stream_segment_full(ins, ctx, dir, m, frame, data, seq, len);
}

/*
 * Drops every reference the session's streams keep, and what they held
 * ahead of holes from its client's share: before the flow gives its
 * client slot back.
 */
void
stream_release(struct inspector *ins, struct session *session)
{
	int32_t ahead;

	if (ins->stream == NULL)
		return;
	ahead = session->stream[0].ahead_count + session->stream[1].ahead_count;
	if (ahead != 0 && session->flow != NULL)
		flow_client_held_add(ins->clients, session->flow, -ahead);
	stream_dir_clear(ins->stream, &session->stream[0]);
	stream_dir_clear(ins->stream, &session->stream[1]);
}
