/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMB over QUIC (MS-SMB2 2.1; dataplane/quic/quic.h): a UDP datagram that
 * starts like a QUIC client Initial is read, on any port, and a hello
 * offering ALPN "smb" makes an SMB connection of its pair.
 *
 * Nothing after the client's first flight can be read, and nothing needs
 * to be: a server that never receives the client's hello never answers,
 * so dropping the datagram that completes it blocks the connection, and
 * its retransmissions are read and dropped the same way. No flow entry is
 * taken: the reader holds only unfinished hellos. The connection is
 * judged once, at its hello, as an SMB connection whose messages are
 * sealed from the start (policy_quic_verdict()). Its events (policy,
 * "classified", the connection's end) are those of a TCP connection, from
 * a detached flow entry with protocol UDP, so the report counts it and
 * the detector's pair rules see it; retransmitted hellos send none.
 *
 * A first flight the reader could not read (a later piece whose start it
 * no longer holds, a hello past QUIC_HELLO_MAX, an Initial in IP
 * fragments, one past the worker's budget of reads, pieces whose bytes
 * differ from those read before, as a decoy's do) might be SMB: on a
 * pair where SMB over QUIC would be refused it is dropped (the client
 * sends its whole flight again), elsewhere forwarded. An Initial that does not
 * decrypt with its connection ID's client keys is forwarded: the server
 * cannot read it either (or it is the server's own).
 */
#include <string.h>

#include <rte_mbuf.h>

#include "inspect_pvt.h"
#include "quic.h"

#define NS_PER_READ		1000000000ull	/* one read, in billionths */
#define SMB_DIALECT_3_1_1	0x0311	/* the dialect SMB over QUIC speaks */

static void
ends_of(struct quic_endpoints *ends, const struct decoded_frame *frame)
{
	memcpy(ends->src_addr, frame->src_addr, 16);
	memcpy(ends->dst_addr, frame->dst_addr, 16);
	ends->src_port = frame->src_port;
	ends->dst_port = frame->dst_port;
}

static void
count_reader(struct inspector *ins)
{
	struct quic_reader_stats st;

	quic_reader_stats(ins->quic, &st);
	ins->counters.quic_pending_evicted = st.pending_evicted;
	ins->counters.quic_pending_expired = st.pending_expired;
}

static void
segments_of(const struct policy *pol, const struct decoded_frame *frame,
	uint16_t *client, uint16_t *server)
{
	uint8_t version = frame->l3 == DECODE_L3_IPV6 ? 6 : 4;

	*client = policy_segment_of(pol, version, frame->src_addr,
		frame->vlan_outer);
	*server = policy_segment_of(pol, version, frame->dst_addr,
		frame->vlan_outer);
}

/*
 * One read of the worker's budget (flows.quic_hellos_per_second): a token
 * bucket a second deep, in billionths of a read so that it refills by
 * the nanosecond. False when it is spent.
 */
static bool
take_budget(struct inspector *ins, uint64_t now_ns)
{
	uint64_t rate = ins->params.quic_reads_per_second != 0 ?
		ins->params.quic_reads_per_second :
		INSPECT_QUIC_READS_PER_SECOND;
	uint64_t full = rate * NS_PER_READ;

	if (now_ns > ins->quic_budget_ns) {
		uint64_t elapsed = now_ns - ins->quic_budget_ns;

		ins->quic_budget = elapsed >= NS_PER_READ ? full :
			RTE_MIN(full, ins->quic_budget + elapsed * rate);
		ins->quic_budget_ns = now_ns;
	}
	if (ins->quic_budget < NS_PER_READ)
		return false;
	ins->quic_budget -= NS_PER_READ;
	return true;
}

/* A first flight not read: dropped where SMB over QUIC would be. */
static uint8_t
unread_verdict(struct inspector *ins, const struct decoded_frame *frame)
{
	const struct policy *pol = ins->policy;
	uint16_t client, server;
	bool unverifiable;

	if (pol == NULL)
		return DROP_REASON_MAX;
	segments_of(pol, frame, &client, &server);
	if (!(policy_quic_verdict(pol, client, server, frame->dst_port,
			&unverifiable).flags & POLICY_VERDICT_BLOCK))
		return DROP_REASON_MAX;
	ins->counters.quic_unread_denied++;
	return DROP_POLICY;
}

/* Adds hello <hello> to its connection's "classified" event. */
static void
fill_hello(struct gw_event *ev, const struct quic_hello *hello)
{
	ev->u.flow.dialect = SMB_DIALECT_3_1_1;
	ev->u.flow.quic_version = hello->version;
	memcpy(ev->u.flow.quic_sni, hello->sni, sizeof(ev->u.flow.quic_sni));
	ev->u.flow.quic_sni[sizeof(ev->u.flow.quic_sni) - 1] = '\0';
	memcpy(ev->u.flow.quic_alpn, hello->alpn,
		sizeof(ev->u.flow.quic_alpn));
	ev->u.flow.quic_alpn[sizeof(ev->u.flow.quic_alpn) - 1] = '\0';
}

/* Tells the control core of a new SMB-over-QUIC connection. */
static void
report_connection(struct inspector *ins, const struct rte_mbuf *m,
	const struct decoded_frame *frame, uint64_t ts_ns,
	const struct quic_hello *hello, struct policy_verdict v,
	bool judged, bool unverifiable, uint16_t client, uint16_t server)
{
	struct policy_verdict pair;
	struct flow_entry flow;
	struct flow_key key;
	struct gw_event *ev;

	memset(&key, 0, sizeof(key));
	memcpy(key.src_addr, frame->src_addr, 16);
	memcpy(key.dst_addr, frame->dst_addr, 16);
	key.src_port = frame->src_port;
	key.dst_port = frame->dst_port;
	key.vlan_outer = frame->vlan_outer;
	key.vlan_inner = frame->vlan_inner;
	key.proto = IPPROTO_UDP;
	key.ip_version = frame->l3 == DECODE_L3_IPV6 ? 6 : 4;
	flow_entry_init_detached(&flow, &key, ts_ns);
	flow.app_class = FLOW_APP_SMB;
	flow.detect_method = EVENT_DETECT_CONTENT;
	flow.state_flags = (uint8_t)(frame->tunnel << STATE_TUNNEL_SHIFT);
	flow.user_flags = USER_REPORTED;
	if (frame->dst_port != POLICY_QUIC_PORT)
		flow.user_flags |= USER_NONSTANDARD_PORT;
	flow_entry_count(&flow, FLOW_DIR_ORIG, m->pkt_len);
	if (judged) {
		flow.policy_verdict = verdict_pack(v);
		flow.policy_gen = policy_generation(ins->policy);
		/* As a TCP connection: its pair's verdict, then the one
		 * for a session that cannot be read. */
		pair = unverifiable ? policy_pair_verdict(ins->policy, client,
			server) : v;
		count_verdict(ins, pair);
		send_policy_event(ins, &flow, ts_ns, EVENT_POLICY_PAIR, pair,
			client, server);
		if (unverifiable) {
			count_unverifiable(ins, v);
			send_unverifiable_event(ins, &flow, ts_ns, v, client,
				server, EVENT_UNVERIFIABLE_QUIC);
		}
	}
	ev = flow_event_begin(ins, &flow, ts_ns, EVENT_FLOW_CLASSIFIED, 0);
	if (ev != NULL) {
		fill_hello(ev, hello);
		event_send(ins, ev);
	}
	/*
	 * No state is kept: the connection record is written now, with the
	 * hello's datagram, as a UDP flow's at its timeout ("new").
	 */
	send_flow_event(ins, &flow, ts_ns, EVENT_FLOW_END, FLOW_REMOVED_AGED);
}

uint8_t
inspect_quic(struct inspector *ins, const struct rte_mbuf *m,
	const struct decoded_frame *frame, uint64_t ts_ns)
{
	struct policy_verdict v = { 0, POLICY_ALLOW, 0 };
	uint16_t client = 0, server = 0;
	struct quic_endpoints ends;
	struct quic_hello hello;
	bool unverifiable = false;
	const uint8_t *p;
	uint32_t len;
	enum quic_result res;

	/*
	 * QUIC forbids IP fragmentation (RFC 9000 14: clients set Don't
	 * Fragment), so only a client avoiding the reader sends its Initial
	 * in fragments: the first one is judged as a first flight not read.
	 * Without it the server cannot rebuild the datagram.
	 */
	if (frame->fragmented) {
		ins->counters.quic_fragmented++;
		return unread_verdict(ins, frame);
	}
	if (frame->payload_offset >= m->pkt_len)
		return DROP_REASON_MAX;
	len = RTE_MIN((uint32_t)frame->payload_len,
		m->pkt_len - frame->payload_offset);
	p = rte_pktmbuf_read(m, frame->payload_offset, len,
		ins->quic_datagram);
	if (p == NULL || !quic_datagram_has_initial(p, len))
		return DROP_REASON_MAX;
	if (!take_budget(ins, ts_ns)) {
		ins->counters.quic_over_budget++;
		return unread_verdict(ins, frame);
	}
	ends_of(&ends, frame);
	res = quic_reader_read(ins->quic, &ends, p, len, ts_ns, &hello);
	count_reader(ins);
	switch (res) {
	case QUIC_NONE:
		return DROP_REASON_MAX;
	case QUIC_UNREADABLE:
		ins->counters.quic_unreadable++;
		return DROP_REASON_MAX;
	case QUIC_PART:
		ins->counters.quic_initials++;
		return DROP_REASON_MAX;
	case QUIC_PART_ORPHAN:
		ins->counters.quic_initials++;
		ins->counters.quic_orphans++;
		return unread_verdict(ins, frame);
	case QUIC_TOO_LARGE:
		ins->counters.quic_initials++;
		ins->counters.quic_too_large++;
		return unread_verdict(ins, frame);
	case QUIC_CONFLICT:
		ins->counters.quic_initials++;
		ins->counters.quic_conflicts++;
		return unread_verdict(ins, frame);
	case QUIC_HELLO:
		break;
	}
	ins->counters.quic_initials++;
	if (!hello.alpn_smb) {
		if (!hello.repeat)
			ins->counters.quic_other_hellos++;
		return DROP_REASON_MAX;
	}
	if (ins->policy != NULL) {
		segments_of(ins->policy, frame, &client, &server);
		v = policy_quic_verdict(ins->policy, client, server,
			frame->dst_port, &unverifiable);
	}
	if (!hello.repeat) {
		ins->counters.quic_smb_hellos++;
		report_connection(ins, m, frame, ts_ns, &hello, v,
			ins->policy != NULL, unverifiable, client, server);
	}
	if (!(v.flags & POLICY_VERDICT_BLOCK))
		return DROP_REASON_MAX;
	ins->counters.quic_smb_denied++;
	return DROP_POLICY;
}
