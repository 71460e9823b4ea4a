/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser state pool through the inspector, with crafted segments: the
 * per-client cap, states given back when flows leave, the reclaim order
 * (least recent SMB progress first, never before the idle time, never an
 * authenticated session), and what a flow without state gets: with
 * fail_mode closed and no policy it is dropped, so each frame's verdict
 * shows whether its flow still has a state.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "counters.h"
#include "decode.h"
#include "event.h"
#include "flow.h"
#include "inspect.h"
#include "inspect_pvt.h"
#include "policy.h"

#define MS 1000000ull
#define FORWARD DROP_REASON_MAX

static struct rte_mempool *pool;

/* One client connection to 198.18.2.20:445, its sequence numbers kept. */
struct conn {
	uint8_t client;		/* 198.18.1.<client> */
	uint16_t port;
	uint16_t vlan;
	uint32_t seq[2];	/* next, client and server */
};

/* NBSS + SMB2 header of <command>; a response when <response>. */
static uint32_t
smb2_message(uint8_t *p, uint16_t command, bool response, uint64_t message_id,
	uint16_t body_len)
{
	uint32_t len = 64 + body_len;

	memset(p, 0, 4 + len);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + 4, "\xfeSMB", 4);
	p[8] = 64;
	p[16] = (uint8_t)command;
	if (response)
		p[20] = 1;
	memcpy(p + 28, &message_id, 8);
	return 4 + len;
}

static uint32_t
negotiate_request(uint8_t *p, uint64_t message_id)
{
	uint32_t len = smb2_message(p, 0x0000, false, message_id, 38);
	uint8_t *b = p + 4 + 64;

	b[0] = 36;	/* StructureSize */
	b[2] = 1;	/* one dialect */
	b[4] = 1;	/* signing enabled */
	b[36] = 0x02;	/* 0x0202 */
	b[37] = 0x02;
	return len;
}

/* A successful SESSION_SETUP response with <session_flags>. */
static uint32_t
logon_response(uint8_t *p, uint64_t message_id, uint16_t session_flags)
{
	uint32_t len = smb2_message(p, 0x0001, true, message_id, 9);
	uint8_t *b = p + 4 + 64;

	b[0] = 9;
	b[2] = (uint8_t)session_flags;
	b[4] = 72;	/* SecurityBufferOffset, length 0 */
	return len;
}

/* An Ethernet/802.1Q/IPv4/TCP segment of <c> with <payload>. */
static struct rte_mbuf *
segment(struct conn *c, bool from_server, const uint8_t *payload,
	uint32_t len, uint8_t flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t client[4] = { 198, 18, 1, c->client };
	uint8_t server[4] = { 198, 18, 2, 20 };
	uint16_t ip_len = (uint16_t)(40 + len);
	uint32_t seq = c->seq[from_server], ack = c->seq[!from_server];
	uint8_t *f;

	assert_non_null(m);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)RTE_MAX(60u, 18u + ip_len));
	assert_non_null(f);
	memset(f, 0, m->data_len);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x81\x00", 14);
	f[14] = (uint8_t)(c->vlan >> 8);
	f[15] = (uint8_t)c->vlan;
	f[16] = 0x08;
	f[18] = 0x45;
	f[20] = (uint8_t)(ip_len >> 8);
	f[21] = (uint8_t)ip_len;
	f[26] = 64;
	f[27] = IPPROTO_TCP;
	memcpy(f + 30, from_server ? server : client, 4);
	memcpy(f + 34, from_server ? client : server, 4);
	f[38] = (uint8_t)((from_server ? 445 : c->port) >> 8);
	f[39] = (uint8_t)(from_server ? 445 : c->port);
	f[40] = (uint8_t)((from_server ? c->port : 445) >> 8);
	f[41] = (uint8_t)(from_server ? c->port : 445);
	f[42] = (uint8_t)(seq >> 24);
	f[43] = (uint8_t)(seq >> 16);
	f[44] = (uint8_t)(seq >> 8);
	f[45] = (uint8_t)seq;
	f[46] = (uint8_t)(ack >> 24);
	f[47] = (uint8_t)(ack >> 16);
	f[48] = (uint8_t)(ack >> 8);
	f[49] = (uint8_t)ack;
	f[50] = 5 << 4;
	f[51] = flags;
	f[52] = 0xff;
	memcpy(f + 58, payload, len);
	c->seq[from_server] += len;
	return m;
}

/* Runs one segment through <ins> at <ts_ns>; returns its verdict. */
static uint8_t
run(struct inspector *ins, struct rte_mbuf *m, uint64_t ts_ns)
{
	struct inspect_generated generated;
	struct decoded_frame frame;
	uint8_t verdict = FORWARD;

	memset(&generated, 0, sizeof(generated));
	assert_int_equal(decode_frame(rte_pktmbuf_mtod(m, uint8_t *),
		m->data_len, &frame, NULL), 0);
	inspector_process(ins, &m, &frame, 1, &ts_ns, ts_ns, &verdict,
		&generated);
	rte_pktmbuf_free(m);
	return verdict;
}

/* <c> sends a NEGOTIATE request at <ts_ns>. */
static uint8_t
speak(struct inspector *ins, struct conn *c, uint64_t ts_ns)
{
	uint8_t p[256];
	uint32_t len = negotiate_request(p, c->seq[0]);

	return run(ins, segment(c, false, p, len, 0x18), ts_ns);
}

/* The flow events an inspector sent. */
static struct gw_event flow_events[8];
static unsigned int flow_event_count;

static void
keep_flow_event(void *ctx, const struct gw_event *ev)
{
	(void)ctx;
	if (ev->kind == EVENT_FLOW && flow_event_count < 8)
		flow_events[flow_event_count++] = *ev;
}

static struct inspector *
make_inspector(uint32_t per_client, uint64_t reclaim_ns)
{
	struct inspector_params params = {
		.max_flows = 1024,
		.sessions = 16,
		.sessions_per_client = per_client,
		.session_idle_reclaim_ns = reclaim_ns,
		.session_memory = 4u << 20,
		.classify_packets = 4,
		.fail_mode = INSPECT_FAIL_CLOSED,
		.timeout_embryonic_ns = 3600000 * MS,
		.timeout_established_ns = 3600000 * MS,
		.timeout_closing_ns = 3600000 * MS,
		.timeout_closed_ns = 10 * MS,
		.timeout_udp_ns = 3600000 * MS,
		.timeout_other_ns = 3600000 * MS,
		.event_fn = keep_flow_event,
	};
	struct inspector *ins = inspector_create(&params);

	assert_non_null(ins);
	return ins;
}

/*
 * An inspector normalising streams (NIC checksums): <flow_segments> per
 * direction, <client_segments> held ahead per client (0: no cap).
 */
static struct inspector *
stream_inspector(uint32_t flow_segments, uint32_t client_segments)
{
	struct inspector_params params = {
		.max_flows = 1024,
		.sessions = 16,
		.session_memory = 4u << 20,
		.classify_packets = 4,
		.fail_mode = INSPECT_FAIL_OPEN,
		.timeout_embryonic_ns = 3600000 * MS,
		.timeout_established_ns = 3600000 * MS,
		.timeout_closing_ns = 3600000 * MS,
		.timeout_closed_ns = 10 * MS,
		.timeout_udp_ns = 3600000 * MS,
		.timeout_other_ns = 3600000 * MS,
		.stream_normalise = true,
		.stream_segments = 256,
		.stream_flow_segments = flow_segments,
		.stream_client_segments = client_segments,
		.checksum = INSPECT_CHECKSUM_OFF,
		.forwards = true,
	};

	return inspector_create(&params);
}

static struct conn
conn_of(uint8_t client, uint16_t port, uint16_t vlan)
{
	struct conn c = { client, port, vlan, { 1000, 9000 } };

	return c;
}

/*
 * The fixed part of a parsed flow's state, per flows.sessions entry: the
 * budget of docs/benchmarks.md ("Session memory"), whole cache lines.
 */
static void
test_session_budget(void **state)
{
	(void)state;
	assert_int_equal(SESSION_SIZE_MAX, 512);
	assert_true(sizeof(struct session) <= SESSION_SIZE_MAX);
	assert_int_equal(sizeof(struct session) % 64, 0);
	assert_int_equal(SMB_STATE_SIZE, 384);
	assert_true(sizeof(struct dcerpc_conn) <= SMB_STATE_SIZE);
	assert_int_equal(offsetof(struct session, parser) +
		sizeof(struct smb_state), sizeof(struct session));
}

/* Resident bytes of this process, from /proc/self/statm. */
static uint64_t
resident_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/*
 * A state pool sized to a million flows (flows.sessions' default at the
 * default flow table) is reserved, not populated: only its first
 * INSPECT_SESSIONS_POPULATED states are, so start-up costs tens of MiB,
 * not the 512 MiB of the whole pool.
 */
static void
test_session_pool_reserved(void **state)
{
	struct inspector_params params = {
		.max_flows = 1024,
		.sessions = 1u << 20,
		.session_memory = 4u << 20,
		.classify_packets = 4,
		.timeout_embryonic_ns = 3600000 * MS,
		.timeout_established_ns = 3600000 * MS,
		.timeout_closing_ns = 3600000 * MS,
		.timeout_closed_ns = 10 * MS,
		.timeout_udp_ns = 3600000 * MS,
		.timeout_other_ns = 3600000 * MS,
	};
	uint64_t before, grown;
	struct inspector *ins;

	(void)state;
	before = resident_bytes();
	ins = inspector_create(&params);
	assert_non_null(ins);
	grown = resident_bytes() - before;
	assert_true(grown >= (uint64_t)INSPECT_SESSIONS_POPULATED *
		sizeof(struct session) / 2);
	assert_true(grown < (uint64_t)(1u << 20) * sizeof(struct session) / 4);
	inspector_free(ins);
}

static void
test_per_client_cap(void **state)
{
	struct inspector *ins = make_inspector(4, 3600000 * MS);
	const struct inspect_counters *ic = inspector_counters(ins);
	struct conn a[6], b, a_vlan, again;
	uint8_t rst = 0;
	unsigned int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		a[i] = conn_of(30, (uint16_t)(30000 + i), 0);
		assert_int_equal(speak(ins, &a[i], MS * i),
			i < 4 ? FORWARD : DROP_STATE_FULL);
	}
	assert_int_equal(ic->sessions_client_capped, 2);
	assert_int_equal(ic->sessions_refused, 2);
	/* Judged without state once, a flow stays so: not counted again. */
	assert_int_equal(speak(ins, &a[5], 10 * MS), DROP_STATE_FULL);
	assert_int_equal(ic->sessions_client_capped, 2);
	/* Another client, and the same address on a VLAN, are others. */
	b = conn_of(31, 30000, 0);
	a_vlan = conn_of(30, 30010, 100);
	assert_int_equal(speak(ins, &b, 11 * MS), FORWARD);
	assert_int_equal(speak(ins, &a_vlan, 12 * MS), FORWARD);
	/* The capped client's flows with state keep being parsed. */
	assert_int_equal(speak(ins, &a[0], 13 * MS), FORWARD);

	/* A flow that leaves the table gives its state back to its client. */
	assert_int_equal(run(ins, segment(&a[0], false, &rst, 0, 0x04),
		14 * MS), FORWARD);
	inspector_expire(ins, 100 * MS);
	again = conn_of(30, 30100, 0);
	assert_int_equal(speak(ins, &again, 101 * MS), FORWARD);
	assert_int_equal(ic->sessions_client_capped, 2);
	assert_int_equal(ic->sessions_exhausted, 0);
	inspector_free(ins);
}

static void
test_reclaim_order(void **state)
{
	struct inspector *ins = make_inspector(0, 1000 * MS);
	const struct inspect_counters *ic = inspector_counters(ins);
	struct conn idle[16], fresh[20];
	uint8_t p[256];
	unsigned int i, n = 0;
	uint32_t len;

	(void)state;
	/* 16 idle connections fill the pool; idle[i] speaks at i ms. */
	for (i = 0; i < 16; i++) {
		idle[i] = conn_of(30, (uint16_t)(30000 + i), 0);
		assert_int_equal(speak(ins, &idle[i], i * MS), FORWARD);
	}
	/* idle[1] logs on for real: never reclaimed. */
	len = logon_response(p, 1, 0);
	assert_int_equal(run(ins, segment(&idle[1], true, p, len, 0x18),
		16 * MS), FORWARD);
	/* idle[2] logs on as a guest: progress, but still reclaimable. */
	len = logon_response(p, 1, 0x0001);
	assert_int_equal(run(ins, segment(&idle[2], true, p, len, 0x18),
		17 * MS), FORWARD);
	/* idle[0] makes progress at 500 ms. */
	assert_int_equal(speak(ins, &idle[0], 500 * MS), FORWARD);
	assert_int_equal(ic->smb_messages, 19);
	/* By progress: idle[3..15] (3-15 ms), idle[2] (17), idle[0] (500). */

	/* At 900 ms nothing has been quiet for 1 s: no state for a new flow. */
	fresh[n] = conn_of(40, 40000, 0);
	assert_int_equal(speak(ins, &fresh[n++], 900 * MS), DROP_STATE_FULL);
	assert_int_equal(ic->sessions_exhausted, 1);
	assert_int_equal(ic->sessions_reclaimed, 0);

	/* At 1,200 ms the oldest, idle[3], gives way, and only it. */
	fresh[n] = conn_of(40, 40001, 0);
	assert_int_equal(speak(ins, &fresh[n++], 1200 * MS), FORWARD);
	assert_int_equal(ic->sessions_reclaimed, 1);
	assert_int_equal(speak(ins, &idle[3], 1201 * MS), DROP_STATE_FULL);
	/* idle[4] speaks: it moves to the young end; idle[5] goes next. */
	assert_int_equal(speak(ins, &idle[4], 1202 * MS), FORWARD);
	fresh[n] = conn_of(40, 40002, 0);
	assert_int_equal(speak(ins, &fresh[n++], 1203 * MS), FORWARD);
	assert_int_equal(speak(ins, &idle[5], 1204 * MS), DROP_STATE_FULL);
	assert_int_equal(speak(ins, &idle[6], 1205 * MS), FORWARD);

	/*
	 * Now idle[7..15], idle[2], idle[0], fresh[1] (1,200 ms), idle[4]
	 * (1,202), fresh[2] (1,203), idle[6] (1,205): 15 states, all quiet
	 * for 1 s at 2,300 ms, taken by 15 new flows.
	 */
	for (i = 0; i < 15; i++) {
		fresh[n] = conn_of(41, (uint16_t)(41000 + i), 0);
		assert_int_equal(speak(ins, &fresh[n++], 2300 * MS), FORWARD);
	}
	assert_int_equal(ic->sessions_reclaimed, 17);
	for (i = 0; i < 16; i++)
		if (i != 1)
			assert_int_equal(speak(ins, &idle[i], 2301 * MS),
				DROP_STATE_FULL);
	assert_int_equal(speak(ins, &fresh[1], 2301 * MS), DROP_STATE_FULL);
	assert_int_equal(speak(ins, &fresh[2], 2301 * MS), DROP_STATE_FULL);
	/* The authenticated session kept its state all along. */
	assert_int_equal(speak(ins, &idle[1], 2302 * MS), FORWARD);
	/* The 15 newest are young: the next new flow finds nothing. */
	fresh[n] = conn_of(42, 42000, 0);
	assert_int_equal(speak(ins, &fresh[n++], 2303 * MS), DROP_STATE_FULL);
	assert_int_equal(ic->sessions_exhausted, 2);
	assert_int_equal(ic->sessions_reclaimed, 17);
	inspector_free(ins);
}

/*
 * Compressed records (0xFC) are counted, and so are those the parser
 * could not inflate: a chained record whose one payload is stored (NONE)
 * is read like the plain message it holds; an LZ4 one is not.
 */
static void
test_compressed_counted(void **state)
{
	struct inspector *ins = make_inspector(0, 3600000 * MS);
	const struct inspect_counters *ic = inspector_counters(ins);
	struct conn c = conn_of(40, 40000, 0);
	uint8_t plain[256], p[256];
	uint32_t len, rec;

	(void)state;
	assert_int_equal(speak(ins, &c, MS), FORWARD);
	len = negotiate_request(plain, 1) - 4;
	/* Chained: ProtocolId, OriginalSize; NONE, Flags, Length; data. */
	rec = 8 + 8 + len;
	memset(p, 0, sizeof(p));
	p[3] = (uint8_t)rec;
	memcpy(p + 4, "\xfcSMB", 4);
	p[8] = (uint8_t)len;
	p[14] = 1;			/* SMB2_COMPRESSION_FLAG_CHAINED */
	p[16] = (uint8_t)len;
	memcpy(p + 20, plain + 4, len);
	assert_int_equal(run(ins, segment(&c, false, p, 4 + rec, 0x18),
		2 * MS), FORWARD);
	assert_int_equal(ic->smb_compressed, 1);
	assert_int_equal(ic->smb_compressed_unverifiable, 0);
	assert_int_equal(ic->smb_messages, 2);
	/* Unchained, LZ4 (5): not inflated. */
	rec = 16 + 20;
	memset(p, 0, sizeof(p));
	p[3] = (uint8_t)rec;
	memcpy(p + 4, "\xfcSMB", 4);
	p[8] = 100;			/* OriginalCompressedSegmentSize */
	p[12] = 5;
	assert_int_equal(run(ins, segment(&c, false, p, 4 + rec, 0x18),
		3 * MS), FORWARD);
	assert_int_equal(ic->smb_compressed, 2);
	assert_int_equal(ic->smb_compressed_unverifiable, 1);
	assert_int_equal(ic->smb_messages, 2);
	inspector_free(ins);
}

/*
 * A flow starts at its first packet, not at the time of the burst it
 * came in (offline, the burst's last packet): a handshake and a NEGOTIATE
 * at 1, 2, 3 and 9 ms in one burst give a flow that began at 2 ms, the
 * server's SYN-ACK that created it (the bare SYN takes no state), as the
 * classification and flow-end events say.
 */
static void
test_flow_start_in_burst(void **state)
{
	struct inspector *ins = make_inspector(0, 3600000 * MS);
	struct conn c = conn_of(50, 50000, 0);
	struct rte_mbuf *m[4];
	struct decoded_frame frames[4];
	uint64_t ts[4] = { 1 * MS, 2 * MS, 3 * MS, 9 * MS };
	uint8_t verdicts[4], p[256];
	struct inspect_generated generated;
	unsigned int i;
	uint32_t len;

	(void)state;
	flow_event_count = 0;
	m[0] = segment(&c, false, p, 0, 0x02);		/* SYN */
	c.seq[0]++;
	m[1] = segment(&c, true, p, 0, 0x12);		/* SYN, ACK */
	c.seq[1]++;
	m[2] = segment(&c, false, p, 0, 0x10);		/* ACK */
	len = negotiate_request(p, 0);
	m[3] = segment(&c, false, p, len, 0x18);
	for (i = 0; i < 4; i++) {
		assert_int_equal(decode_frame(rte_pktmbuf_mtod(m[i], uint8_t *),
			m[i]->data_len, &frames[i], NULL), 0);
		verdicts[i] = FORWARD;
	}
	memset(&generated, 0, sizeof(generated));
	inspector_process(ins, m, frames, 4, ts, 9 * MS, verdicts, &generated);
	for (i = 0; i < 4; i++) {
		assert_int_equal(verdicts[i], FORWARD);
		rte_pktmbuf_free(m[i]);
	}
	inspector_flush(ins);
	assert_true(flow_event_count >= 2);
	for (i = 0; i < flow_event_count; i++)
		assert_int_equal(flow_events[i].u.flow.first_seen_ns, 2 * MS);
	assert_int_equal(flow_events[flow_event_count - 1].subtype,
		EVENT_FLOW_END);
	inspector_free(ins);
}

/*
 * Segments kept ahead of holes count against their client's share
 * (stream.client_segments): one client cannot fill the half of the
 * stream pool that holes may take; others are untouched, and a hole that
 * fills gives the share back.
 */
static void
test_client_share_of_holes(void **state)
{
	struct inspector *ins = stream_inspector(64, 4);
	const struct inspect_counters *ic;
	struct conn a = conn_of(40, 40000, 0), a2 = conn_of(40, 40001, 0);
	struct conn b = conn_of(41, 40000, 0);
	uint8_t p[64];
	uint32_t hole;
	unsigned int i;

	(void)state;
	assert_non_null(ins);
	ic = inspector_counters(ins);
	memset(p, 0x41, sizeof(p));
	assert_int_equal(speak(ins, &a, MS), FORWARD);
	assert_int_equal(speak(ins, &a2, MS), FORWARD);
	assert_int_equal(speak(ins, &b, MS), FORWARD);
	/* Client a: four segments past a 10-byte hole, its whole share. */
	hole = a.seq[0];
	a.seq[0] += 10;
	for (i = 0; i < 4; i++)
		assert_int_equal(run(ins, segment(&a, false, p, 10, 0x18),
			2 * MS), FORWARD);
	assert_int_equal(ic->stream.out_of_order, 4);
	assert_int_equal(run(ins, segment(&a, false, p, 10, 0x18), 2 * MS),
		DROP_STREAM);
	/* Its other connection too; another client is untouched. */
	a2.seq[0] += 10;
	assert_int_equal(run(ins, segment(&a2, false, p, 10, 0x18), 2 * MS),
		DROP_STREAM);
	b.seq[0] += 10;
	assert_int_equal(run(ins, segment(&b, false, p, 10, 0x18), 2 * MS),
		FORWARD);
	assert_int_equal(ic->stream_client_capped, 2);
	/* The hole fills: the four are judged, the share is free again. */
	a.seq[0] = hole;
	assert_int_equal(run(ins, segment(&a, false, p, 10, 0x18), 3 * MS),
		FORWARD);
	assert_int_equal(run(ins, segment(&a2, false, p, 10, 0x18), 3 * MS),
		FORWARD);
	assert_int_equal(ic->stream_client_capped, 2);
	inspector_free(ins);
}

/*
 * The handshake's third packet may carry data, and may come after a later
 * segment: a client that sends its second segment first, with no bare ACK
 * before it, must not make the stream start there (the first bytes would
 * then pass as a retransmission, unjudged). The stream starts where the
 * server's SYN-ACK says the client's bytes start.
 */
static void
test_stream_starts_at_the_syn_ack(void **state)
{
	struct inspector *ins = stream_inspector(64, 0);
	const struct inspect_counters *ic;
	struct conn c = conn_of(50, 50000, 0);
	uint8_t p[256], none = 0;
	uint32_t len, first;

	(void)state;
	assert_non_null(ins);
	ic = inspector_counters(ins);
	assert_int_equal(run(ins, segment(&c, false, &none, 0, 0x02), MS),
		FORWARD);
	c.seq[0]++;	/* the SYN's sequence number */
	assert_int_equal(run(ins, segment(&c, true, &none, 0, 0x12), MS),
		FORWARD);
	c.seq[1]++;
	len = negotiate_request(p, 0);
	first = c.seq[0];
	c.seq[0] += 10;	/* bytes 10.. first, with the handshake's ACK */
	assert_int_equal(run(ins, segment(&c, false, p + 10, len - 10, 0x18),
		2 * MS), FORWARD);
	assert_int_equal(ic->stream.out_of_order, 1);
	assert_int_equal(ic->stream.delivered_bytes, 0);
	c.seq[0] = first;
	assert_int_equal(run(ins, segment(&c, false, p, 10, 0x18), 3 * MS),
		FORWARD);
	assert_int_equal(ic->stream.delivered_bytes, len);
	assert_int_equal(ic->stream.retransmitted_bytes, 0);
	assert_int_equal(ic->smb_messages, 1);
	inspector_free(ins);
}

/*
 * Segments in order through the inspector's fast path: each is judged
 * once, kept by reference until the server's ACK covers it, counted
 * against the direction's budget (twice stream.flow_segments in order:
 * the next one is dropped for the sender to retransmit), and a
 * retransmission is still compared with the kept bytes: the same is
 * passed, different bytes are rewritten to those judged first.
 */
static void
test_stream_in_order_kept_until_acked(void **state)
{
	struct inspector *ins = stream_inspector(2, 0);
	const struct inspect_counters *ic;
	struct conn c = conn_of(51, 50001, 0);
	struct rte_mbuf *kept[4], *again;
	uint8_t p[256], none = 0;
	uint32_t len, first;
	unsigned int i;

	(void)state;
	assert_non_null(ins);
	ic = inspector_counters(ins);
	assert_int_equal(run(ins, segment(&c, false, &none, 0, 0x02), MS),
		FORWARD);
	c.seq[0]++;
	assert_int_equal(run(ins, segment(&c, true, &none, 0, 0x12), MS),
		FORWARD);
	c.seq[1]++;
	assert_int_equal(run(ins, segment(&c, false, &none, 0, 0x10), MS),
		FORWARD);

	/* Four in order: each judged once and kept (a reference each). */
	first = c.seq[0];
	for (i = 0; i < 4; i++) {
		len = negotiate_request(p, i);
		kept[i] = segment(&c, false, p, len, 0x18);
		rte_mbuf_refcnt_update(kept[i], 1);	/* ours, to look at */
		assert_int_equal(run(ins, kept[i], (2 + i) * MS), FORWARD);
		assert_int_equal(rte_mbuf_refcnt_read(kept[i]), 2);
	}
	assert_int_equal(ic->stream.delivered_bytes, 4 * len);
	assert_int_equal(ic->stream.kept, 4);
	assert_int_equal(ic->smb_messages, 4);
	/* The direction's budget is spent: the fifth is dropped, unjudged. */
	assert_int_equal(run(ins, segment(&c, false, p, len, 0x18), 6 * MS),
		DROP_STREAM);
	c.seq[0] -= len;
	assert_int_equal(ic->stream.no_room, 1);
	assert_int_equal(ic->stream_no_room_drops, 1);
	assert_int_equal(ic->stream.delivered_bytes, 4 * len);

	/* The first again, the same bytes: passed, not judged again. */
	c.seq[0] = first;
	negotiate_request(p, 0);
	assert_int_equal(run(ins, segment(&c, false, p, len, 0x18), 7 * MS),
		FORWARD);
	assert_int_equal(ic->stream.retransmitted_bytes, len);
	assert_int_equal(ic->stream.rewritten, 0);
	/* ... with other bytes: made to repeat those judged first. */
	c.seq[0] = first;
	negotiate_request(p, 0);
	p[36 + 4 + 64] = 0x11;	/* another dialect */
	again = segment(&c, false, p, len, 0x18);
	rte_mbuf_refcnt_update(again, 1);
	assert_int_equal(run(ins, again, 8 * MS), FORWARD);
	assert_int_equal(ic->stream.rewritten, 1);
	assert_int_equal(rte_pktmbuf_mtod(again, uint8_t *)[58 + 36 + 4 + 64],
		0x02);
	rte_pktmbuf_free(again);
	assert_int_equal(ic->smb_messages, 4);

	/* The server acknowledges two: their references go, not the rest. */
	c.seq[0] = first + 2 * len;
	assert_int_equal(run(ins, segment(&c, true, &none, 0, 0x10), 9 * MS),
		FORWARD);
	assert_int_equal(ic->stream.kept, 2);
	assert_int_equal(rte_mbuf_refcnt_read(kept[0]), 1);
	assert_int_equal(rte_mbuf_refcnt_read(kept[1]), 1);
	assert_int_equal(rte_mbuf_refcnt_read(kept[2]), 2);
	/* An ACK that moves nothing releases nothing. */
	assert_int_equal(run(ins, segment(&c, true, &none, 0, 0x10), 10 * MS),
		FORWARD);
	assert_int_equal(ic->stream.kept, 2);
	c.seq[0] = first + 4 * len;
	assert_int_equal(run(ins, segment(&c, true, &none, 0, 0x10), 11 * MS),
		FORWARD);
	assert_int_equal(ic->stream.kept, 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(rte_mbuf_refcnt_read(kept[i]), 1);
		rte_pktmbuf_free(kept[i]);
	}
	assert_int_equal(ic->stream.kept_max, 4);
	inspector_free(ins);
}

/*
 * A bare SYN takes no flow (a flood of them costs a lookup); the server's
 * SYN-ACK creates it, with the SYN's sender as the client, and the
 * session is parsed from its first message as before.
 */
static void
test_bare_syn_takes_no_flow(void **state)
{
	struct inspector *ins = make_inspector(0, 3600000 * MS);
	const struct inspect_counters *ic = inspector_counters(ins);
	struct conn c = conn_of(60, 50060, 0);
	struct flow_table_stats fs;
	uint8_t none = 0;
	unsigned int i;

	(void)state;
	flow_event_count = 0;
	for (i = 0; i < 3; i++)		/* the SYN and two retransmissions */
		assert_int_equal(run(ins, segment(&c, false, &none, 0, 0x02),
			(1 + i) * MS), FORWARD);
	inspector_flow_stats(ins, &fs);
	assert_int_equal(fs.created, 0);
	assert_int_equal(fs.active, 0);
	assert_int_equal(ic->syns_stateless, 3);
	assert_int_equal(ic->untracked, 0);
	c.seq[0]++;
	assert_int_equal(run(ins, segment(&c, true, &none, 0, 0x12), 5 * MS),
		FORWARD);
	c.seq[1]++;
	inspector_flow_stats(ins, &fs);
	assert_int_equal(fs.created, 1);
	assert_int_equal(run(ins, segment(&c, false, &none, 0, 0x10), 6 * MS),
		FORWARD);
	assert_int_equal(speak(ins, &c, 7 * MS), FORWARD);
	assert_int_equal(ic->smb_messages, 1);
	assert_int_equal(ic->smb_flows_port, 1);
	/* A retransmitted SYN now finds the flow: no second one. */
	c.seq[0] = 1000;
	assert_int_equal(run(ins, segment(&c, false, &none, 0, 0x02), 8 * MS),
		FORWARD);
	assert_int_equal(ic->syns_stateless, 3);
	inspector_flush(ins);
	inspector_flow_stats(ins, &fs);
	assert_int_equal(fs.created, 1);
	assert_true(flow_event_count >= 2);
	for (i = 0; i < flow_event_count; i++) {
		assert_int_equal(flow_events[i].client_addr[3], 60);
		assert_int_equal(flow_events[i].client_port, 50060);
		assert_int_equal(flow_events[i].server_port, 445);
	}
	inspector_free(ins);
}

/*
 * Policy at the SYN, without state: clients 198.18.1.0/25 may not reach
 * the servers, 198.18.1.128/25 may, and servers may open connections to
 * the first. A denied SYN is refused each time it comes, reported as a
 * denied connection that ended at once, and leaves nothing in the table;
 * an allowed one is forwarded and its flow made by the answer. A SYN-ACK
 * sent ahead by a denied client makes a flow the other way round (the
 * server as its client, an allowed pair), but the client's own SYN on it
 * is still judged as its own, and refused.
 */
static void
test_denied_syn_refused_statelessly(void **state)
{
	struct policy_publisher_params pp = { .readers = 1,
		.socket = SOCKET_ID_ANY };
	struct policy_publisher *pub = policy_publisher_create(&pp);
	struct policy_spec *spec = calloc(1, sizeof(*spec));
	struct inspector_params params = {
		.max_flows = 1024,
		.sessions = 16,
		.session_memory = 4u << 20,
		.classify_packets = 4,
		.fail_mode = INSPECT_FAIL_OPEN,
		.event_fn = keep_flow_event,
		.forwards = true,
	};
	const struct inspect_counters *ic;
	struct flow_table_stats fs;
	struct inspector *ins;
	struct policy *pol;
	struct conn denied = conn_of(10, 50010, 0);
	struct conn allowed = conn_of(200, 50200, 0);
	struct conn crafted = conn_of(11, 50011, 0);
	char error[256];
	uint8_t none = 0;

	(void)state;
	assert_non_null(pub);
	assert_non_null(spec);
	spec->mode = POLICY_MODE_ENFORCE;
	spec->default_action = POLICY_DENY;
	spec->deny_action = POLICY_DENY_DROP;
	spec->segment_count = 4;	/* "unassigned" and three */
	snprintf(spec->segments[1].name, POLICY_NAME_MAX, "workstations");
	snprintf(spec->segments[2].name, POLICY_NAME_MAX, "admins");
	snprintf(spec->segments[3].name, POLICY_NAME_MAX, "servers");
	spec->prefix_count = 3;
	spec->prefixes[0] = (struct policy_prefix){ { 198, 18, 1, 0 }, 4, 25,
		1, 0 };
	spec->prefixes[1] = (struct policy_prefix){ { 198, 18, 1, 128 }, 4,
		25, 2, 0 };
	spec->prefixes[2] = (struct policy_prefix){ { 198, 18, 2, 0 }, 4, 24,
		3, 0 };
	spec->rule_count = 2;
	spec->rules[0].from = 2;
	spec->rules[0].to = 3;
	spec->rules[1].from = 3;
	spec->rules[1].to = 1;
	for (unsigned int r = 0; r < 2; r++) {
		spec->rules[r].action = POLICY_ALLOW;
		spec->rules[r].deny_action = POLICY_DENY_INHERIT;
		spec->rules[r].nonstandard_port = -1;
	}
	pol = policy_build(spec, 1, SOCKET_ID_ANY, error, sizeof(error));
	if (pol == NULL)
		fail_msg("policy_build: %s", error);
	free(spec);
	assert_int_equal(policy_publish(pub, pol), 0);
	params.policy = pub;
	ins = inspector_create(&params);
	assert_non_null(ins);
	inspector_online(ins);
	ic = inspector_counters(ins);
	flow_event_count = 0;

	/*
	 * Denied: refused at every SYN, nothing kept; a retransmission (the
	 * same initial sequence number) is refused and counted but reported
	 * once, a new attempt (another one) is reported again.
	 */
	assert_int_equal(run(ins, segment(&denied, false, &none, 0, 0x02), MS),
		DROP_POLICY);
	assert_int_equal(run(ins, segment(&denied, false, &none, 0, 0x02),
		2 * MS), DROP_POLICY);
	inspector_flow_stats(ins, &fs);
	assert_int_equal(fs.created, 0);
	assert_int_equal(ic->syns_refused, 2);
	assert_int_equal(ic->policy_denied, 1);
	assert_int_equal(flow_event_count, 2);
	denied.seq[0] += 100000;
	assert_int_equal(run(ins, segment(&denied, false, &none, 0, 0x02),
		2 * MS + 1), DROP_POLICY);
	assert_int_equal(ic->syns_refused, 3);
	assert_int_equal(ic->policy_denied, 2);
	assert_int_equal(flow_event_count, 4);
	assert_int_equal(flow_events[0].subtype, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(flow_events[1].subtype, EVENT_FLOW_END);
	assert_int_equal(flow_events[0].flow_id, flow_events[1].flow_id);
	assert_int_equal(flow_events[0].u.flow.action, EVENT_ACTION_DENIED);
	assert_int_equal(flow_events[1].u.flow.app, FLOW_APP_SMB);
	assert_int_equal(flow_events[1].u.flow.packets[0], 1);
	assert_int_equal(flow_events[1].client_addr[3], 10);
	assert_int_equal(flow_events[1].server_port, 445);

	/* Allowed: forwarded without state, the answer makes the flow. */
	assert_int_equal(run(ins, segment(&allowed, false, &none, 0, 0x02),
		3 * MS), FORWARD);
	inspector_flow_stats(ins, &fs);
	assert_int_equal(fs.created, 0);
	allowed.seq[0]++;
	assert_int_equal(run(ins, segment(&allowed, true, &none, 0, 0x12),
		4 * MS), FORWARD);
	allowed.seq[1]++;
	assert_int_equal(run(ins, segment(&allowed, false, &none, 0, 0x10),
		5 * MS), FORWARD);
	assert_int_equal(speak(ins, &allowed, 6 * MS), FORWARD);
	inspector_flow_stats(ins, &fs);
	assert_int_equal(fs.created, 1);
	assert_int_equal(ic->policy_allowed, 1);
	assert_int_equal(flow_events[flow_event_count - 1].subtype,
		EVENT_FLOW_CLASSIFIED);
	assert_int_equal(flow_events[flow_event_count - 1].client_addr[3], 200);

	/* A SYN-ACK from a denied client first, then its SYN. */
	assert_int_equal(run(ins, segment(&crafted, false, &none, 0, 0x12),
		7 * MS), FORWARD);
	inspector_flow_stats(ins, &fs);
	assert_int_equal(fs.created, 2);
	assert_int_equal(run(ins, segment(&crafted, false, &none, 0, 0x02),
		8 * MS), DROP_POLICY);
	assert_int_equal(ic->syns_refused, 4);

	inspector_offline(ins);
	inspector_free(ins);
	policy_publisher_free(pub);
}

int
main(void)
{
	char prefix[64];
	char runtime_dir[256];
	char *argv[] = { "test_inspect_session", "--no-huge", "-m", "64",
		"--no-pci", "--no-shconf", "--no-telemetry",
		"--log-level=lib.eal:error", "-l", "0", "--file-prefix", prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_budget),
		cmocka_unit_test(test_session_pool_reserved),
		cmocka_unit_test(test_per_client_cap),
		cmocka_unit_test(test_reclaim_order),
		cmocka_unit_test(test_compressed_counted),
		cmocka_unit_test(test_flow_start_in_burst),
		cmocka_unit_test(test_client_share_of_holes),
		cmocka_unit_test(test_stream_starts_at_the_syn_ack),
		cmocka_unit_test(test_stream_in_order_kept_until_acked),
		cmocka_unit_test(test_bare_syn_takes_no_flow),
		cmocka_unit_test(test_denied_syn_refused_statelessly),
	};
	int failed;

	snprintf(prefix, sizeof(prefix), "test-inspect-session-%d",
		(int)getpid());
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("test", 1023, 0, 0, 2048 + 128,
		SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	failed = cmocka_run_group_tests_name("inspect_session", tests, NULL,
		NULL);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir);	/* EAL leaves its empty run directory */
	return failed;
}
