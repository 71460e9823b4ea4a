/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow table: keys, directions, TCP ageing, eviction order, floods, memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "flow.h"

#define S	1000000000ull	/* one second in ns */
#define TCP	6
#define UDP	17

#define SYN	FLOW_TCPF_SYN
#define ACK	FLOW_TCPF_ACK
#define FIN	FLOW_TCPF_FIN
#define RST	FLOW_TCPF_RST

/* Removals seen by the on_remove callback, by reason. */
static unsigned int removed_by[FLOW_REMOVED_TABLE_FREE + 1];

static void
count_removal(struct flow_entry *entry, enum flow_remove_reason reason,
	void *arg)
{
	(void)entry;
	(void)arg;
	removed_by[reason]++;
}

/* Table with exact LRU, fixed seed, short known timeouts. */
static struct flow_table *
make_table(uint32_t max_flows)
{
	struct flow_table_params p = {
		.max_flows = max_flows,
		.timeout_embryonic_ns = 5 * S,
		.timeout_established_ns = 100 * S,
		.timeout_closing_ns = 20 * S,
		.timeout_closed_ns = 2 * S,
		.timeout_udp_ns = 30 * S,
		.timeout_other_ns = 10 * S,
		.lru_granularity_ns = 1,
		.hash_seed = 0x5eed,
		.on_remove = count_removal,
		.flags = FLOW_TABLE_F_NO_PREFAULT,
	};
	struct flow_table *t = flow_table_create(&p);

	memset(removed_by, 0, sizeof(removed_by));
	assert_non_null(t);
	return t;
}

/* IPv4 key 10.0.x.y:sport -> 10.1.0.1:dport, x.y from <host>. */
static struct flow_key
key4(uint32_t host, uint16_t sport, uint16_t dport, uint8_t proto,
	uint8_t tcp_flags)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.ip_version = 4;
	k.src_addr[0] = 10;
	k.src_addr[1] = host >> 16;
	k.src_addr[2] = host >> 8;
	k.src_addr[3] = host;
	k.dst_addr[0] = 10;
	k.dst_addr[1] = 200;
	k.dst_addr[3] = 1;
	k.src_port = sport;
	k.dst_port = dport;
	k.proto = proto;
	k.tcp_flags = tcp_flags;
	return k;
}

static struct flow_key
reverse(const struct flow_key *k, uint8_t tcp_flags)
{
	struct flow_key r = *k;

	memcpy(r.src_addr, k->dst_addr, 16);
	memcpy(r.dst_addr, k->src_addr, 16);
	r.src_port = k->dst_port;
	r.dst_port = k->src_port;
	r.tcp_flags = tcp_flags;
	return r;
}

/* Looks up one packet; returns the entry, its direction in *dir. */
static struct flow_entry *
lookup1(struct flow_table *t, const struct flow_key *k, uint64_t now,
	bool create, uint8_t *dir)
{
	struct flow_entry *e;
	uint8_t d;

	flow_table_lookup_bulk(t, k, 1, now, create ? FLOW_LOOKUP_CREATE : 0,
		&e, &d);
	if (dir != NULL)
		*dir = d;
	return e;
}

/* Looks up and applies the TCP flags of packet <k>, as a worker would. */
static struct flow_entry *
packet(struct flow_table *t, const struct flow_key *k, uint64_t now,
	uint8_t *dir)
{
	uint8_t d;
	struct flow_entry *e = lookup1(t, k, now, true, &d);

	if (e != NULL && k->proto == TCP)
		flow_table_update_tcp(t, e, d, k->tcp_flags, now);
	if (e != NULL)
		flow_entry_count(e, d, 100);
	if (dir != NULL)
		*dir = d;
	return e;
}

/* A TCP flow through the handshake: client <host>:<sport> to port 445. */
static struct flow_entry *
establish(struct flow_table *t, uint32_t host, uint16_t sport, uint64_t now)
{
	struct flow_key k = key4(host, sport, 445, TCP, SYN);
	struct flow_key r = reverse(&k, SYN | ACK);
	struct flow_entry *e;

	assert_non_null(packet(t, &k, now, NULL));
	assert_non_null(packet(t, &r, now, NULL));
	k.tcp_flags = ACK;
	e = packet(t, &k, now, NULL);
	assert_non_null(e);
	assert_int_equal(e->tcp_state, FLOW_TCP_ESTABLISHED);
	return e;
}

static bool
present(struct flow_table *t, const struct flow_key *k, uint64_t now)
{
	return lookup1(t, k, now, false, NULL) != NULL;
}

static void
assert_valid(struct flow_table *t)
{
	assert_int_equal(flow_table_validate(t), 0);
}

static void
test_create_rejects_bad_params(void **state)
{
	struct flow_table_params p = { .max_flows = 0 };

	(void)state;
	errno = 0;
	assert_null(flow_table_create(&p));
	assert_int_equal(errno, EINVAL);
	p.max_flows = FLOW_TABLE_MAX_FLOWS + 1;
	errno = 0;
	assert_null(flow_table_create(&p));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(flow_table_memory_bytes(NULL), 0);
	assert_int_equal(errno, EINVAL);
	flow_table_free(NULL);
}

static void
test_insert_and_lookup(void **state)
{
	struct flow_table *t = make_table(64);
	struct flow_key k = key4(1, 40000, 445, TCP, SYN);
	struct flow_table_stats st;
	struct flow_entry *e;
	uint8_t dir;

	(void)state;
	assert_null(lookup1(t, &k, 1 * S, false, NULL));
	e = lookup1(t, &k, 1 * S, true, &dir);
	assert_non_null(e);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	assert_int_equal(e->tcp_state, FLOW_TCP_SYN_SENT);
	assert_int_equal(e->app_class, FLOW_APP_UNKNOWN);
	assert_int_equal(e->app_state, FLOW_APP_STATE_NONE);
	assert_int_equal(e->first_seen_ns, 1 * S);
	assert_ptr_equal(lookup1(t, &k, 2 * S, false, &dir), e);
	assert_int_equal(e->last_seen_ns, 2 * S);
	flow_table_stats(t, &st);
	assert_int_equal(st.created, 1);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.lookups, 3);
	assert_int_equal(st.hits, 1);
	assert_valid(t);
	flow_table_free(t);
}

static void
test_both_directions_one_entry(void **state)
{
	struct flow_table *t = make_table(64);
	struct flow_key k = key4(7, 50000, 445, TCP, SYN);
	struct flow_key r = reverse(&k, SYN | ACK);
	struct flow_entry *e, *f;
	struct flow_key back;
	uint8_t d1, d2;

	(void)state;
	e = packet(t, &k, 1 * S, &d1);
	f = packet(t, &r, 1 * S, &d2);
	assert_ptr_equal(e, f);
	assert_int_equal(d1, FLOW_DIR_ORIG);
	assert_int_equal(d2, FLOW_DIR_REPLY);
	assert_int_equal(e->packets[FLOW_DIR_ORIG], 1);
	assert_int_equal(e->packets[FLOW_DIR_REPLY], 1);
	assert_int_equal(e->bytes[FLOW_DIR_REPLY], 100);
	/* the stored key reads back from the initiator's side */
	flow_entry_key(e, &back);
	assert_int_equal(back.ip_version, 4);
	assert_memory_equal(back.src_addr, k.src_addr, 4);
	assert_memory_equal(back.dst_addr, k.dst_addr, 4);
	assert_int_equal(back.src_port, 50000);
	assert_int_equal(back.dst_port, 445);
	assert_int_equal(back.proto, TCP);
	assert_valid(t);
	flow_table_free(t);
}

/*
 * Runs of one flow in a burst, as a bulk transfer sends them: each packet
 * finds the entry the one before found or made, in its own direction; a
 * key kept from creating after one that did still finds it; a different
 * flow between two runs breaks nothing.
 */
static void
test_runs_of_one_flow(void **state)
{
	struct flow_table *t = make_table(64);
	struct flow_key k[8];
	struct flow_entry *e[8];
	struct flow_table_stats st;
	uint8_t d[8];
	unsigned int i;

	(void)state;
	k[0] = key4(9, 50000, 445, TCP, SYN);
	k[1] = reverse(&k[0], SYN | ACK);
	k[2] = k[0];
	k[2].tcp_flags = ACK;
	k[2].hints = FLOW_KEY_NO_CREATE;
	k[3] = k[2];
	k[4] = key4(10, 50000, 445, TCP, SYN);
	k[5] = reverse(&k[0], ACK);
	k[6] = k[5];
	/* A packet of neither flow that may not create one: none found. */
	k[7] = key4(11, 50000, 445, TCP, ACK);
	k[7].hints = FLOW_KEY_NO_CREATE;
	assert_int_equal(flow_table_lookup_bulk(t, k, 8, 1 * S,
		FLOW_LOOKUP_CREATE, e, d), 7);
	assert_non_null(e[0]);
	for (i = 1; i < 7; i++)
		if (i != 4)
			assert_ptr_equal(e[i], e[0]);
	assert_non_null(e[4]);
	assert_ptr_not_equal(e[4], e[0]);
	assert_null(e[7]);
	assert_int_equal(d[0], FLOW_DIR_ORIG);
	assert_int_equal(d[1], FLOW_DIR_REPLY);
	assert_int_equal(d[2], FLOW_DIR_ORIG);
	assert_int_equal(d[3], FLOW_DIR_ORIG);
	assert_int_equal(d[4], FLOW_DIR_ORIG);
	assert_int_equal(d[5], FLOW_DIR_REPLY);
	assert_int_equal(d[6], FLOW_DIR_REPLY);
	flow_table_stats(t, &st);
	assert_int_equal(st.created, 2);
	assert_int_equal(st.hits, 5);
	assert_int_equal(e[0]->last_seen_ns, 1 * S);
	/* The next burst, later: the run's flow is seen again, once. */
	assert_int_equal(flow_table_lookup_bulk(t, k + 5, 2, 2 * S,
		FLOW_LOOKUP_CREATE, e, d), 2);
	assert_ptr_equal(e[0], e[1]);
	assert_int_equal(e[0]->last_seen_ns, 2 * S);
	assert_valid(t);
	flow_table_free(t);
}

static void
test_ipv4_ipv6_vlan_in_key(void **state)
{
	struct flow_table *t = make_table(64);
	struct flow_key v4 = key4(1, 1000, 2000, UDP, 0);
	struct flow_key v6, vl, qinq, other_proto;
	struct flow_entry *e[5];
	struct flow_key back;
	uint8_t d;
	int i, j;

	(void)state;
	/* IPv6 whose first four bytes equal the IPv4 addresses */
	v6 = v4;
	v6.ip_version = 6;
	v6.src_addr[15] = 9;
	vl = v4;
	vl.vlan_outer = 100;
	qinq = vl;
	qinq.vlan_inner = 200;
	other_proto = v4;
	other_proto.proto = TCP;
	other_proto.tcp_flags = SYN;

	e[0] = lookup1(t, &v4, 1, true, NULL);
	e[1] = lookup1(t, &v6, 1, true, NULL);
	e[2] = lookup1(t, &vl, 1, true, NULL);
	e[3] = lookup1(t, &qinq, 1, true, NULL);
	e[4] = lookup1(t, &other_proto, 1, true, NULL);
	for (i = 0; i < 5; i++) {
		assert_non_null(e[i]);
		for (j = 0; j < i; j++)
			assert_ptr_not_equal(e[i], e[j]);
	}
	/* each found again from the other side */
	assert_ptr_equal(lookup1(t, &(struct flow_key){0}, 2, false, NULL), NULL);
	v6 = reverse(&v6, 0);
	assert_ptr_equal(lookup1(t, &v6, 2, false, &d), e[1]);
	assert_int_equal(d, FLOW_DIR_REPLY);
	qinq = reverse(&qinq, 0);
	assert_ptr_equal(lookup1(t, &qinq, 2, false, &d), e[3]);
	assert_int_equal(d, FLOW_DIR_REPLY);
	flow_entry_key(e[1], &back);
	assert_int_equal(back.ip_version, 6);
	assert_int_equal(back.src_addr[15], 9);
	flow_entry_key(e[3], &back);
	assert_int_equal(back.vlan_outer, 100);
	assert_int_equal(back.vlan_inner, 200);
	assert_valid(t);
	flow_table_free(t);
}

static void
test_initiator_rules(void **state)
{
	struct flow_table *t = make_table(64);
	struct flow_key k;
	struct flow_entry *e;
	struct flow_key back;
	uint8_t d;

	(void)state;
	/* SYN-ACK seen first: its receiver initiated */
	k = key4(1, 445, 51000, TCP, SYN | ACK);
	e = lookup1(t, &k, 1, true, &d);
	assert_int_equal(d, FLOW_DIR_REPLY);
	assert_int_equal(e->tcp_state, FLOW_TCP_SYN_RECV);
	flow_entry_key(e, &back);
	assert_int_equal(back.src_port, 51000);

	/* mid-stream, server's packet first: 445 is the server */
	k = key4(2, 445, 51000, TCP, ACK);
	e = lookup1(t, &k, 1, true, &d);
	assert_int_equal(d, FLOW_DIR_REPLY);
	assert_int_equal(e->tcp_state, FLOW_TCP_ESTABLISHED);
	assert_true(e->tcp_seen & FLOW_TCP_SEEN_MIDSTREAM);

	/* mid-stream: 135 beats 80, then any port under 1024 beats one above */
	k = key4(3, 80, 135, TCP, ACK);
	assert_non_null(e = lookup1(t, &k, 1, true, &d));
	assert_int_equal(d, FLOW_DIR_ORIG);
	k = key4(4, 60000, 22, TCP, ACK);
	assert_non_null(lookup1(t, &k, 1, true, &d));
	assert_int_equal(d, FLOW_DIR_ORIG);
	k = key4(5, 22, 60000, TCP, ACK);
	assert_non_null(lookup1(t, &k, 1, true, &d));
	assert_int_equal(d, FLOW_DIR_REPLY);
	/* mid-stream, both high: the lower port is the server */
	k = key4(6, 8445, 40000, TCP, ACK);
	assert_non_null(lookup1(t, &k, 1, true, &d));
	assert_int_equal(d, FLOW_DIR_REPLY);
	/* SYN from the high side: the SYN sender initiates regardless */
	k = key4(7, 445, 40000, TCP, SYN);
	assert_non_null(lookup1(t, &k, 1, true, &d));
	assert_int_equal(d, FLOW_DIR_ORIG);
	/* UDP: the first sender initiates, whatever the ports */
	k = key4(8, 53, 40000, UDP, 0);
	assert_non_null(lookup1(t, &k, 1, true, &d));
	assert_int_equal(d, FLOW_DIR_ORIG);
	assert_valid(t);
	flow_table_free(t);
}

/*
 * FLOW_KEY_NO_CREATE: a bare SYN is looked up but never inserted, even in
 * a burst that creates other flows and even in a full table (nothing is
 * evicted for it); the SYN-ACK then creates the flow with the SYN's
 * sender as initiator, and the SYN's retransmission finds it. A detached
 * entry is what an insert would have made, outside the table.
 */
static void
test_no_create_key(void **state)
{
	struct flow_table *t = make_table(4);
	struct flow_key k[3], r, back;
	struct flow_entry *e[3], detached;
	struct flow_table_stats st;
	uint8_t d[3];
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		k[i] = key4(20 + i, 50000, 445, TCP, SYN);
		if (i != 1)
			k[i].hints = FLOW_KEY_NO_CREATE;
	}
	assert_int_equal(flow_table_lookup_bulk(t, k, 3, 1, FLOW_LOOKUP_CREATE,
		e, d), 1);
	assert_null(e[0]);
	assert_non_null(e[1]);
	assert_null(e[2]);
	flow_table_stats(t, &st);
	assert_int_equal(st.created, 1);
	assert_int_equal(st.insert_failed, 0);
	/* a full table evicts nothing for such a key */
	for (i = 0; i < 3; i++)
		establish(t, 40 + i, 40000, 2);
	assert_null(lookup1(t, &k[0], 3, true, NULL));
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.evicted_pressure, 0);
	/* the answer creates it, the SYN's sender the initiator */
	r = reverse(&k[0], SYN | ACK);
	r.hints = 0;
	assert_non_null(e[0] = lookup1(t, &r, 4, true, &d[0]));
	assert_int_equal(d[0], FLOW_DIR_REPLY);
	flow_entry_key(e[0], &back);
	assert_int_equal(back.src_addr[3], 20);
	assert_int_equal(back.dst_port, 445);
	assert_ptr_equal(lookup1(t, &k[0], 5, true, &d[0]), e[0]);
	assert_int_equal(d[0], FLOW_DIR_ORIG);
	assert_valid(t);

	flow_entry_init_detached(&detached, &k[2], 7);
	flow_entry_key(&detached, &back);
	assert_int_equal(back.src_addr[3], 22);
	assert_int_equal(back.src_port, 50000);
	assert_int_equal(back.dst_port, 445);
	assert_int_equal(detached.tcp_state, FLOW_TCP_SYN_SENT);
	assert_int_equal(detached.first_seen_ns, 7);
	assert_int_equal(detached.app_state, FLOW_APP_STATE_NONE);
	assert_int_equal(detached.packets[0] + detached.packets[1], 0);
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 4);
	flow_table_free(t);
}

static void
test_tcp_states(void **state)
{
	struct flow_table *t = make_table(64);
	struct flow_key k = key4(1, 40000, 445, TCP, SYN);
	struct flow_key r;
	struct flow_entry *e;
	int rc;

	(void)state;
	e = packet(t, &k, 1, NULL);
	assert_int_equal(e->tcp_state, FLOW_TCP_SYN_SENT);
	/* the initiator's ACK alone does not establish */
	k.tcp_flags = ACK;
	packet(t, &k, 2, NULL);
	assert_int_equal(e->tcp_state, FLOW_TCP_SYN_SENT);
	r = reverse(&k, SYN | ACK);
	packet(t, &r, 3, NULL);
	assert_int_equal(e->tcp_state, FLOW_TCP_SYN_RECV);
	packet(t, &k, 4, NULL);
	assert_int_equal(e->tcp_state, FLOW_TCP_ESTABLISHED);
	assert_int_equal(e->tcp_seen, FLOW_TCP_SEEN_SYN | FLOW_TCP_SEEN_SYNACK);
	k.tcp_flags = FIN | ACK;
	packet(t, &k, 5, NULL);
	assert_int_equal(e->tcp_state, FLOW_TCP_CLOSING);
	r.tcp_flags = FIN | ACK;
	packet(t, &r, 6, NULL);
	assert_int_equal(e->tcp_state, FLOW_TCP_CLOSED);
	assert_true(e->tcp_seen & FLOW_TCP_SEEN_FIN_ORIG);
	assert_true(e->tcp_seen & FLOW_TCP_SEEN_FIN_REPLY);

	/* a new SYN from the client reopens the entry as a new connection */
	flow_table_set_live_smb(t, e, true);
	rc = flow_table_update_tcp(t, e, FLOW_DIR_ORIG, SYN, 7);
	assert_int_equal(rc, FLOW_TCP_RESTARTED | FLOW_TCP_STATE_CHANGED);
	assert_int_equal(e->tcp_state, FLOW_TCP_SYN_SENT);
	assert_int_equal(e->first_seen_ns, 7);
	assert_int_equal(e->packets[0] + e->packets[1], 0);
	assert_false(flow_entry_live_smb(e));

	/* RST closes from any state */
	r.tcp_flags = RST;
	packet(t, &r, 8, NULL);
	assert_int_equal(e->tcp_state, FLOW_TCP_CLOSED);
	assert_valid(t);
	flow_table_free(t);
}

/* Each state ages out after its own timeout, and not before. */
static void
test_expiry_per_state(void **state)
{
	struct flow_table *t = make_table(64);
	struct flow_key syn = key4(1, 40001, 445, TCP, SYN);
	struct flow_key est = key4(2, 40002, 445, TCP, SYN);
	struct flow_key closing = key4(3, 40003, 445, TCP, SYN);
	struct flow_key closed = key4(4, 40004, 445, TCP, SYN);
	struct flow_key udp = key4(5, 40005, 53, UDP, 0);
	struct flow_key icmp = key4(6, 0, 0, 1, 0);
	struct flow_key probe;
	struct flow_table_stats st;
	struct flow_entry *e;
	uint64_t t0 = 1000 * S;

	(void)state;
	packet(t, &syn, t0, NULL);
	establish(t, 2, 40002, t0);
	e = establish(t, 3, 40003, t0);
	flow_table_update_tcp(t, e, FLOW_DIR_ORIG, FIN | ACK, t0);
	assert_int_equal(e->tcp_state, FLOW_TCP_CLOSING);
	e = establish(t, 4, 40004, t0);
	flow_table_update_tcp(t, e, FLOW_DIR_REPLY, RST, t0);
	packet(t, &udp, t0, NULL);
	packet(t, &icmp, t0, NULL);
	(void)est;
	(void)closing;
	(void)closed;

	/* closed: 2 s */
	assert_int_equal(flow_table_expire(t, t0 + 2 * S - 1, 0), 0);
	assert_int_equal(flow_table_expire(t, t0 + 2 * S, 0), 1);
	probe = key4(4, 40004, 445, TCP, 0);
	assert_false(present(t, &probe, t0 + 2 * S));
	/* embryonic: 5 s */
	assert_int_equal(flow_table_expire(t, t0 + 5 * S - 1, 0), 0);
	assert_int_equal(flow_table_expire(t, t0 + 5 * S, 0), 1);
	assert_false(present(t, &syn, t0 + 5 * S));
	/* other: 10 s */
	assert_int_equal(flow_table_expire(t, t0 + 10 * S, 0), 1);
	assert_false(present(t, &icmp, t0 + 10 * S));
	/* closing: 20 s */
	assert_int_equal(flow_table_expire(t, t0 + 20 * S, 0), 1);
	/* udp: 30 s */
	assert_int_equal(flow_table_expire(t, t0 + 30 * S - 1, 0), 0);
	assert_int_equal(flow_table_expire(t, t0 + 30 * S, 0), 1);
	/* established: 100 s, refreshed by traffic */
	probe = key4(2, 40002, 445, TCP, ACK);
	assert_true(present(t, &probe, t0 + 90 * S));
	assert_int_equal(flow_table_expire(t, t0 + 100 * S, 0), 0);
	assert_int_equal(flow_table_expire(t, t0 + 190 * S - 1, 0), 0);
	assert_int_equal(flow_table_expire(t, t0 + 190 * S, 0), 1);

	flow_table_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.closed, 2);
	assert_int_equal(st.aged, 4);
	assert_int_equal(removed_by[FLOW_REMOVED_CLOSED], 2);
	assert_int_equal(removed_by[FLOW_REMOVED_AGED], 4);
	assert_valid(t);
	flow_table_free(t);
}

/* Expiry removes no more than asked per call, and resumes. */
static void
test_expiry_bounded(void **state)
{
	struct flow_table *t = make_table(1024);
	struct flow_table_stats st;
	unsigned int i, n, calls = 0, total = 0;

	(void)state;
	for (i = 0; i < 1000; i++) {
		struct flow_key k = key4(i, 1000, 2000, UDP, 0);

		assert_non_null(lookup1(t, &k, 1 * S + i, true, NULL));
	}
	while ((n = flow_table_expire(t, 100 * S, 16)) > 0) {
		assert_true(n <= 16);
		total += n;
		calls++;
	}
	assert_int_equal(total, 1000);
	assert_true(calls >= 1000 / 16);
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_valid(t);
	flow_table_free(t);
}

/* Eviction: expired first, then least recently seen, live SMB never. */
static void
test_eviction_order(void **state)
{
	struct flow_table *t = make_table(4);
	struct flow_key a = key4(1, 1001, 2000, UDP, 0);
	struct flow_key b = key4(2, 1002, 2000, UDP, 0);
	struct flow_key c = key4(3, 1003, 2000, UDP, 0);
	struct flow_key d = key4(4, 1004, 2000, UDP, 0);
	struct flow_key e = key4(5, 1005, 2000, UDP, 0);
	struct flow_key f = key4(6, 1006, 2000, UDP, 0);
	struct flow_key g = key4(7, 1007, 2000, UDP, 0);
	struct flow_key old_syn = key4(8, 1008, 445, TCP, SYN);
	struct flow_table_stats st;
	struct flow_entry *live;

	(void)state;
	/* a is the oldest but carries a live SMB session */
	live = establish(t, 1, 1001, 1 * S);
	a = key4(1, 1001, 445, TCP, ACK);
	flow_table_set_live_smb(t, live, true);
	lookup1(t, &b, 2 * S, true, NULL);
	lookup1(t, &c, 3 * S, true, NULL);
	lookup1(t, &d, 4 * S, true, NULL);
	/* touch b: c becomes the least recently seen ordinary flow */
	lookup1(t, &b, 5 * S, false, NULL);

	lookup1(t, &e, 6 * S, true, NULL);
	assert_false(present(t, &c, 6 * S));
	assert_true(present(t, &a, 6 * S));
	lookup1(t, &f, 7 * S, true, NULL);
	assert_false(present(t, &d, 7 * S));
	assert_true(present(t, &a, 7 * S));
	assert_true(present(t, &b, 7 * S));
	flow_table_stats(t, &st);
	assert_int_equal(st.evicted_pressure, 2);
	assert_int_equal(removed_by[FLOW_REMOVED_PRESSURE], 2);

	/* a flow past its timeout is reclaimed before an older ordinary one */
	assert_true(present(t, &b, 8 * S));	/* b, e, f ordinary; a live */
	lookup1(t, &e, 9 * S, false, NULL);
	lookup1(t, &f, 10 * S, false, NULL);
	/* replace b by an embryonic flow that will time out (5 s) */
	assert_non_null(lookup1(t, &old_syn, 11 * S, true, NULL));
	assert_false(present(t, &b, 11 * S));
	lookup1(t, &e, 16 * S, false, NULL);
	lookup1(t, &f, 16 * S, false, NULL);
	/* now the least recently seen is old_syn (11 s), and it is expired */
	assert_non_null(lookup1(t, &g, 17 * S, true, NULL));
	assert_false(present(t, &old_syn, 17 * S));
	flow_table_stats(t, &st);
	assert_int_equal(st.evicted_expired, 1);
	assert_true(present(t, &a, 17 * S));
	assert_valid(t);
	flow_table_free(t);
}

/* A table full of live SMB flows refuses new flows, and counts it. */
static void
test_live_smb_cap(void **state)
{
	struct flow_table_params p = {
		.max_flows = 16,
		.max_live_smb = 4,
		.hash_seed = 1,
		.lru_granularity_ns = 1,
	};
	struct flow_table *t = flow_table_create(&p);
	struct flow_table_stats st;
	struct flow_entry *e[6];
	unsigned int i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 6; i++)
		e[i] = establish(t, i, 30000 + i, 1 * S);
	for (i = 0; i < 4; i++)
		assert_int_equal(flow_table_set_live_smb(t, e[i], true), 0);
	assert_int_equal(flow_table_set_live_smb(t, e[4], true), -ENOSPC);
	assert_false(flow_entry_live_smb(e[4]));
	/* marking a marked flow again is no new mark */
	assert_int_equal(flow_table_set_live_smb(t, e[0], true), 0);
	assert_int_equal(flow_table_set_live_smb(t, e[0], false), 0);
	assert_int_equal(flow_table_set_live_smb(t, e[4], true), 0);
	flow_table_stats(t, &st);
	assert_int_equal(st.active_live_smb, 4);
	assert_int_equal(st.live_smb_refused, 1);
	assert_valid(t);
	flow_table_free(t);
}

static void
test_full_of_live_smb(void **state)
{
	struct flow_table *t = make_table(8);
	struct flow_table_stats st;
	struct flow_key k;
	struct flow_entry *e;
	unsigned int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		e = establish(t, i, 30000 + i, 1 * S);
		flow_table_set_live_smb(t, e, true);
	}
	k = key4(100, 1234, 445, TCP, SYN);
	assert_null(lookup1(t, &k, 2 * S, true, NULL));
	assert_null(lookup1(t, &k, 2 * S, true, NULL));
	flow_table_stats(t, &st);
	assert_int_equal(st.insert_failed, 2);
	assert_int_equal(st.active, 8);
	assert_int_equal(st.active_live_smb, 8);
	assert_int_equal(st.evicted_pressure, 0);
	/* one session ends: its flow becomes evictable */
	assert_int_equal(flow_table_set_live_smb(t, e, false), 0);
	assert_non_null(lookup1(t, &k, 3 * S, true, NULL));
	flow_table_stats(t, &st);
	assert_int_equal(st.evicted_pressure, 1);
	assert_int_equal(st.active_live_smb, 7);
	assert_valid(t);
	flow_table_free(t);
}

/* A lookup never evicts a flow it returned in the same call. */
static void
test_burst_keeps_its_own_flows(void **state)
{
	struct flow_table *t = make_table(4);
	struct flow_key keys[6];
	struct flow_entry *e[6];
	uint8_t d[6];
	unsigned int i;
	struct flow_key back;

	(void)state;
	for (i = 0; i < 4; i++) {
		keys[i] = key4(i, 1000 + i, 2000, UDP, 0);
		assert_non_null(lookup1(t, &keys[i], 1 * S + i, true, NULL));
	}
	/* 4 hits, then 2 packets of one new flow: nothing can go */
	keys[4] = key4(50, 5000, 2000, UDP, 0);
	keys[5] = reverse(&keys[4], 0);
	assert_int_equal(flow_table_lookup_bulk(t, keys, 6, 10 * S,
		FLOW_LOOKUP_CREATE, e, d), 4);
	assert_null(e[4]);
	assert_null(e[5]);
	for (i = 0; i < 4; i++) {
		flow_entry_key(e[i], &back);
		assert_int_equal(back.src_port, 1000 + i);
	}
	/* 2 hits, then the new flow twice: one entry, both directions */
	memmove(&keys[2], &keys[4], 2 * sizeof(keys[0]));
	assert_int_equal(flow_table_lookup_bulk(t, keys, 4, 11 * S,
		FLOW_LOOKUP_CREATE, e, d), 4);
	assert_ptr_equal(e[2], e[3]);
	assert_int_equal(d[2], FLOW_DIR_ORIG);
	assert_int_equal(d[3], FLOW_DIR_REPLY);
	flow_entry_key(e[0], &back);
	assert_int_equal(back.src_port, 1000);
	flow_entry_key(e[1], &back);
	assert_int_equal(back.src_port, 1001);
	assert_valid(t);
	flow_table_free(t);
}

/*
 * A SYN flood of ten times the capacity, in bursts, with the expiry pass
 * run every burst: no live SMB flow is lost, idle ordinary flows go first,
 * and the counters account for every flow.
 */
static void
test_syn_flood(void **state)
{
	const uint32_t cap = 4096;
	const unsigned int n_live = 256, n_idle = 512;
	struct flow_table *t = make_table(cap);
	struct flow_table_stats st;
	struct flow_key burst[32];
	struct flow_entry *e[32];
	uint8_t d[32];
	uint64_t now = 1000 * S;
	unsigned int i, j, sent = 0;

	(void)state;
	for (i = 0; i < n_live; i++) {
		struct flow_entry *f = establish(t, 0x10000 + i, 20000, now);

		flow_table_set_live_smb(t, f, true);
	}
	for (i = 0; i < n_idle; i++)
		establish(t, 0x20000 + i, 20000, now);
	now += 1 * S;
	while (sent < 10 * cap) {
		for (j = 0; j < 32; j++, sent++)
			burst[j] = key4(0x100000 + sent, 1024 + (sent & 0x7fff),
				445, TCP, SYN);
		flow_table_lookup_bulk(t, burst, 32, now, FLOW_LOOKUP_CREATE,
			e, d);
		for (j = 0; j < 32; j++)
			if (e[j] != NULL)
				flow_table_update_tcp(t, e[j], d[j], SYN, now);
		flow_table_expire(t, now, 32);
		now += 1000;	/* 32 SYNs per us: 32 Mpps */
	}
	for (i = 0; i < n_live; i++) {
		struct flow_key k = key4(0x10000 + i, 20000, 445, TCP, ACK);

		assert_true(present(t, &k, now));
	}
	/* the idle established flows were the first to go */
	for (i = 0; i < n_idle; i++) {
		struct flow_key k = key4(0x20000 + i, 20000, 445, TCP, ACK);

		assert_false(present(t, &k, now));
	}
	flow_table_stats(t, &st);
	assert_int_equal(st.active, cap);
	assert_int_equal(st.active_live_smb, n_live);
	assert_int_equal(st.created, n_live + n_idle + 10 * cap);
	assert_int_equal(st.insert_failed, 0);
	assert_int_equal(st.evicted_pressure,
		n_live + n_idle + 10 * cap - cap);
	assert_int_equal(st.evicted_pressure,
		removed_by[FLOW_REMOVED_PRESSURE]);
	assert_valid(t);
	flow_table_free(t);
}

static void
test_remove(void **state)
{
	struct flow_table *t = make_table(64);
	struct flow_key keys[40];
	struct flow_entry *e;
	struct flow_table_stats st;
	unsigned int i;

	(void)state;
	for (i = 0; i < 40; i++) {
		keys[i] = key4(i, 3000 + i, 80, TCP, SYN);
		assert_non_null(lookup1(t, &keys[i], 1, true, NULL));
	}
	for (i = 0; i < 40; i += 2) {
		e = lookup1(t, &keys[i], 2, false, NULL);
		flow_table_remove(t, e);
		assert_valid(t);
	}
	for (i = 0; i < 40; i++)
		assert_int_equal(present(t, &keys[i], 3), i % 2 == 1);
	flow_table_stats(t, &st);
	assert_int_equal(st.removed, 20);
	assert_int_equal(st.active, 20);
	assert_int_equal(removed_by[FLOW_REMOVED_CALLER], 20);
	/* freed entries are reused */
	for (i = 0; i < 40; i += 2)
		assert_non_null(lookup1(t, &keys[i], 4, true, NULL));
	assert_valid(t);
	flow_table_free(t);
	assert_int_equal(removed_by[FLOW_REMOVED_TABLE_FREE], 40);
}

static int
count_flow(const struct flow_entry *entry, void *arg)
{
	(void)entry;
	(*(unsigned int *)arg)++;
	return 0;
}

static void
test_foreach_and_walk(void **state)
{
	struct flow_table *t = make_table(256);
	uint32_t cursor = 0;
	unsigned int i, n = 0, steps = 0;
	int rc;

	(void)state;
	for (i = 0; i < 200; i++) {
		struct flow_key k = key4(i, 1, 2, UDP, 0);

		lookup1(t, &k, 1, true, NULL);
	}
	assert_int_equal(flow_table_foreach(t, count_flow, &n), 0);
	assert_int_equal(n, 200);
	n = 0;
	while ((rc = flow_table_walk(t, &cursor, 16, count_flow, &n)) == 0)
		steps++;
	assert_int_equal(rc, 1);
	assert_int_equal(n, 200);
	assert_int_equal(steps, 200 / 16);
	flow_table_free(t);
}

/* Random operations against the table's own invariant check. */
static void
test_random_churn(void **state)
{
	struct flow_table *t = make_table(500);
	uint64_t now = 1;
	unsigned int i;

	(void)state;
	srand(5);
	for (i = 0; i < 20000; i++) {
		struct flow_key keys[8];
		struct flow_entry *e[8];
		uint8_t d[8];
		unsigned int j, n = 1 + rand() % 8;

		for (j = 0; j < n; j++) {
			keys[j] = key4(rand() % 2000, 1000, 445, TCP,
				rand() % 4 ? SYN : ACK);
			if (rand() % 2)
				keys[j] = reverse(&keys[j], keys[j].tcp_flags);
		}
		flow_table_lookup_bulk(t, keys, n, now, FLOW_LOOKUP_CREATE, e,
			d);
		for (j = 0; j < n; j++) {
			if (e[j] == NULL)
				continue;
			flow_table_update_tcp(t, e[j], d[j],
				(uint8_t[]){ ACK, FIN, RST, SYN }[rand() % 4],
				now);
			if (rand() % 50 == 0)
				flow_table_set_live_smb(t, e[j], rand() % 2);
		}
		if (rand() % 10 == 0 && e[0] != NULL)
			flow_table_remove(t, e[0]);
		flow_table_expire(t, now, 4);
		now += rand() % (S / 10);
		if (i % 1000 == 0)
			assert_valid(t);
	}
	assert_valid(t);
	flow_table_free(t);
}

/*
 * One million flows: the documented memory (at most 160 bytes per flow
 * all-in), every flow inserted and found again, and one more evicts one.
 */
static void
test_million_flows(void **state)
{
	const uint32_t n = 1000000;
	struct flow_table_params p = {
		.max_flows = n,
		.hash_seed = 42,
	};
	struct flow_table *t;
	struct flow_table_stats st;
	struct flow_key keys[32];
	struct flow_entry *e[32];
	uint8_t d[32];
	size_t bytes;
	uint32_t i, j;

	(void)state;
	assert_int_equal(sizeof(struct flow_entry), 128);
	bytes = flow_table_memory_bytes(&p);
	/* 128 B entries + 2^21 slots of 8 B + the header */
	assert_true(bytes >= (size_t)n * 128 + (2u << 20) * 8);
	assert_true(bytes < (size_t)n * 128 + (2u << 20) * 8 + 4096);
	assert_true(bytes <= (size_t)n * 160);
	printf("flow table: %u flows in %zu bytes, %.1f bytes per flow\n",
		n, bytes, (double)bytes / n);

	t = flow_table_create(&p);
	assert_non_null(t);
	assert_int_equal(flow_table_capacity(t), n);
	for (i = 0; i < n; i += 32) {
		for (j = 0; j < 32; j++)
			keys[j] = key4(i + j, 1000 + (i + j) % 50000, 445, TCP,
				SYN);
		assert_int_equal(flow_table_lookup_bulk(t, keys,
			i + 32 <= n ? 32 : n - i, 1 * S, FLOW_LOOKUP_CREATE, e,
			d), i + 32 <= n ? 32 : n - i);
	}
	for (i = 0; i < n; i += 32) {
		unsigned int m = i + 32 <= n ? 32 : n - i;

		for (j = 0; j < m; j++) {
			keys[j] = key4(i + j, 1000 + (i + j) % 50000, 445, TCP,
				ACK);
			keys[j] = reverse(&keys[j], ACK);
		}
		assert_int_equal(flow_table_lookup_bulk(t, keys, m, 2 * S, 0,
			e, d), m);
		for (j = 0; j < m; j++)
			assert_int_equal(d[j], FLOW_DIR_REPLY);
	}
	keys[0] = key4(n + 1, 999, 445, TCP, SYN);
	assert_non_null(lookup1(t, &keys[0], 3 * S, true, NULL));
	flow_table_stats(t, &st);
	assert_int_equal(st.active, n);
	assert_int_equal(st.created, n + 1);
	assert_int_equal(st.evicted_pressure, 1);
	assert_int_equal(st.hits, n);
	assert_valid(t);
	flow_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects_bad_params),
		cmocka_unit_test(test_insert_and_lookup),
		cmocka_unit_test(test_no_create_key),
		cmocka_unit_test(test_both_directions_one_entry),
		cmocka_unit_test(test_runs_of_one_flow),
		cmocka_unit_test(test_ipv4_ipv6_vlan_in_key),
		cmocka_unit_test(test_initiator_rules),
		cmocka_unit_test(test_tcp_states),
		cmocka_unit_test(test_expiry_per_state),
		cmocka_unit_test(test_expiry_bounded),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_full_of_live_smb),
		cmocka_unit_test(test_live_smb_cap),
		cmocka_unit_test(test_burst_keeps_its_own_flows),
		cmocka_unit_test(test_syn_flood),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_foreach_and_walk),
		cmocka_unit_test(test_random_churn),
		cmocka_unit_test(test_million_flows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
