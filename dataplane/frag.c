/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "frag.h"

#define IPV4_MIN_MTU 68
#define IPV6_MIN_MTU 1280
#define IPV6_HEADER_LEN 40
#define IPV6_FRAGMENT_HEADER_LEN 8
#define IP_DATAGRAM_MAX 65535
#define L2_HEADER_MAX 64
#define BUCKET_ENTRIES 16

/*
 * Room the death row keeps for one reassembly call: a timed-out entry
 * freed on the way, plus an erroneous set and the new fragment.
 */
#define DEATH_ROW_ROOM (2 * (RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1))

/* Fragments one run may join: 1,480-byte fragments of a 64 KiB datagram
 * are 45. */
#define FRAG_RUN_MAX 64

/* What identifies a datagram, as the receiving host sees it. */
struct run_key {
	uint8_t version;
	uint8_t proto;		/* IPv4; 0 for IPv6 */
	uint16_t zero;
	uint32_t id;		/* identification, network order */
	uint8_t src[16];
	uint8_t dst[16];
};

/*
 * rte_ip_frag keeps at most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments of
 * a datagram, and an attacker's fragments are often smaller and more (8
 * bytes each, the TCP header cut in two). So fragments that continue one
 * another are first joined here, in arrival order, into a run: one mbuf
 * chain with the first one's headers, which rte_ip_frag then takes as one
 * fragment. A run that is the whole datagram needs no table at all. A
 * fragment that does not continue the run (a gap, an overlap) sends the
 * run to the table and starts the next; the table sees every byte, so its
 * checks (overlaps, byte counts) still decide. One entry per datagram in
 * reassembly, in arrival order for the timeout.
 */
struct frag_run {
	TAILQ_ENTRY(frag_run) age;
	struct run_key key;
	struct rte_mbuf *head;	/* NULL: no run open */
	uint64_t first_ns;
	uint32_t start;		/* data offsets of the run */
	uint32_t end;
	uint32_t offered;	/* data bytes given to the table */
	uint32_t total;		/* data length, once the last fragment came */
	uint16_t fragments;	/* in the open run */
	bool last;		/* the run holds the last fragment */
	bool used;
};

TAILQ_HEAD(frag_run_list, frag_run);

struct frag_table {
	struct rte_ip_frag_tbl *tbl;
	struct rte_mempool *pool;
	enum frag_mode mode;
	uint64_t timeout_ns;
	uint64_t held_max;	/* fragments held, runs included */
	struct rte_hash *run_index;
	struct frag_run *runs;
	uint32_t run_count;
	struct frag_run_list run_age;
	struct rte_ip_frag_death_row death_row;
};

/*
 * Each received fragment's first mbuf is marked with the IP length of the
 * fragment; the other segments of a fragment are marked 0. The marks
 * survive rte_ip_frag's chaining, so the segments of a datagram or of a
 * freed set say how many received fragments they hold (for the
 * accounting) and the largest one's size (for re-fragmenting).
 */
static int mark_offset = -1;

static const struct rte_mbuf_dynfield mark_desc = {
	.name = "smbgw_frag_length",
	.size = sizeof(uint16_t),
	.align = __alignof__(uint16_t),
};

static inline uint16_t *
mark_of(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, mark_offset, uint16_t *);
}

static void
mark_fragment(struct rte_mbuf *m, uint16_t ip_length)
{
	struct rte_mbuf *seg;

	*mark_of(m) = ip_length;
	for (seg = m->next; seg != NULL; seg = seg->next)
		*mark_of(seg) = 0;
}

/* Received fragments in chain <m>; whether <find> is one of its mbufs. */
static uint32_t
count_fragments(struct rte_mbuf *m, uint16_t *largest,
	const struct rte_mbuf *find, bool *found)
{
	uint32_t fragments = 0;

	for (; m != NULL; m = m->next) {
		uint16_t mark = *mark_of(m);

		if (mark != 0) {
			fragments++;
			if (largest != NULL && mark > *largest)
				*largest = mark;
		}
		if (m == find)
			*found = true;
	}
	return fragments;
}

/*
 * Counts the fragments that reached the death row since index <from>.
 * The table frees only three kinds of sets, told apart by what they
 * hold: the fragment (or run) just offered alone (no room for another
 * datagram), with others of its datagram (inconsistent set), or sets that
 * timed out (the offered one not among them).
 * Returns the number of fragments dropped.
 */
static uint32_t
count_death_row(struct frag_table *table, uint32_t from,
	const struct rte_mbuf *offered, uint32_t offered_fragments,
	struct port_counters *port, bool *offered_dropped)
{
	struct rte_ip_frag_death_row *dr = &table->death_row;
	uint32_t fragments = 0, i;
	bool found = false;
	enum drop_reason reason;

	for (i = from; i < dr->cnt; i++)
		fragments += count_fragments(dr->row[i], NULL, offered, &found);
	if (offered_dropped != NULL)
		*offered_dropped = found;
	if (fragments == 0)
		return 0;
	if (!found)
		reason = DROP_FRAG_INCOMPLETE;
	else if (fragments == offered_fragments)
		reason = DROP_FRAG_TABLE_FULL;
	else
		reason = DROP_FRAG_INVALID;
	port->drops[reason] += fragments;
	return fragments;
}

static void
free_death_row(struct frag_table *table)
{
	if (table->death_row.cnt > 0)
		rte_ip_frag_free_death_row(&table->death_row, 0);
}

static int
run_index_create(struct frag_table *table, const struct frag_params *params)
{
	static unsigned int created;	/* names must be unique */
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hash_params = {
		.name = name,
		.entries = RTE_MAX(params->max_datagrams, 8u),
		.key_len = sizeof(struct run_key),
		.hash_func = rte_hash_crc,
		.socket_id = params->socket,
	};

	snprintf(name, sizeof(name), "frag_runs_%u", created++);
	table->run_index = rte_hash_create(&hash_params);
	if (table->run_index == NULL)
		return -ENOMEM;
	table->runs = rte_zmalloc_socket("frag_runs",
		sizeof(*table->runs) * hash_params.entries,
		RTE_CACHE_LINE_SIZE, params->socket);
	if (table->runs == NULL) {
		rte_hash_free(table->run_index);
		return -ENOMEM;
	}
	table->run_count = hash_params.entries;
	TAILQ_INIT(&table->run_age);
	return 0;
}

static void
run_remove(struct frag_table *table, struct frag_run *run)
{
	rte_hash_del_key(table->run_index, &run->key);
	TAILQ_REMOVE(&table->run_age, run, age);
	run->used = false;
}

/* Drops the fragments of <run>'s open run, counted <reason> in <port>. */
static void
run_drop(struct frag_run *run, enum drop_reason reason,
	struct port_counters *port)
{
	uint32_t fragments;
	bool found = false;

	if (run->head == NULL)
		return;
	fragments = count_fragments(run->head, NULL, NULL, &found);
	port->drops[reason] += fragments;
	port->held -= fragments;
	rte_pktmbuf_free(run->head);
	run->head = NULL;
}

/*
 * The entry of datagram <key>, a fresh one if it has none or its time is
 * up at <ts_ns>. Returns NULL when the index is full.
 */
static struct frag_run *
run_get(struct frag_table *table, const struct run_key *key, uint64_t ts_ns,
	struct port_counters *port)
{
	int32_t pos = rte_hash_lookup(table->run_index, key);
	struct frag_run *run;

	if (pos >= 0 && (uint32_t)pos < table->run_count) {
		run = &table->runs[pos];
		if (run->first_ns + table->timeout_ns >= ts_ns)
			return run;
		/* The same identification, later: another datagram. */
		run_drop(run, DROP_FRAG_INCOMPLETE, port);
		run_remove(table, run);
	}
	pos = rte_hash_add_key(table->run_index, key);
	if (pos < 0)
		return NULL;
	if ((uint32_t)pos >= table->run_count) {
		rte_hash_del_key(table->run_index, key);
		return NULL;
	}
	run = &table->runs[pos];
	memset(run, 0, sizeof(*run));
	run->key = *key;
	run->used = true;
	run->first_ns = ts_ns;
	TAILQ_INSERT_TAIL(&table->run_age, run, age);
	return run;
}

struct frag_table *
frag_table_create(const struct frag_params *params)
{
	struct frag_table *table;
	uint32_t buckets;
	int log_level;

	if (params->mode == FRAG_MODE_FORWARD || params->max_datagrams == 0 ||
			params->timeout_ns == 0 || params->pool == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (mark_offset < 0) {
		mark_offset = rte_mbuf_dynfield_register(&mark_desc);
		if (mark_offset < 0)
			return NULL;
	}
	table = rte_zmalloc_socket("frag_table", sizeof(*table),
		RTE_CACHE_LINE_SIZE, params->socket);
	if (table == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	table->mode = params->mode;
	table->pool = params->pool;
	table->timeout_ns = params->timeout_ns;
	table->held_max = (uint64_t)params->max_datagrams *
		FRAG_PER_DATAGRAM_MAX;
	/* Two candidate buckets of 16 per key, at most 1/8 full. */
	buckets = RTE_MAX(params->max_datagrams / 4, 1u);
	/* The library announces every table at INFO level, as USER1. */
	log_level = rte_log_get_level(RTE_LOGTYPE_USER1);
	rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_WARNING);
	table->tbl = rte_ip_frag_table_create(buckets, BUCKET_ENTRIES,
		params->max_datagrams, params->timeout_ns, params->socket);
	if (log_level >= 0)
		rte_log_set_level(RTE_LOGTYPE_USER1, (uint32_t)log_level);
	if (table->tbl == NULL)
		goto free_table;
	if (run_index_create(table, params) != 0)
		goto destroy_tbl;
	return table;

destroy_tbl:
	rte_ip_frag_table_destroy(table->tbl);
free_table:
	rte_free(table);
	rte_errno = ENOMEM;
	return NULL;
}

void
frag_expire(struct frag_table *table, uint64_t now_ns,
	struct port_counters *port)
{
	uint32_t dropped;
	struct frag_run *run;

	while ((run = TAILQ_FIRST(&table->run_age)) != NULL &&
			run->first_ns + table->timeout_ns < now_ns) {
		run_drop(run, DROP_FRAG_INCOMPLETE, port);
		run_remove(table, run);
	}
	if (port->held == 0)
		return;
	do {
		rte_ip_frag_table_del_expired_entries(table->tbl,
			&table->death_row, now_ns);
		dropped = count_death_row(table, 0, NULL, 0, port, NULL);
		port->held -= dropped;
		free_death_row(table);
	} while (dropped > 0 && port->held > 0);
}

void
frag_flush(struct frag_table *table, struct port_counters *port)
{
	/* Every datagram is older than the end of time. */
	frag_expire(table, UINT64_MAX, port);
	/* None should be left; if some are, they go with the table. */
	port->drops[DROP_FRAG_INCOMPLETE] += port->held;
	port->held = 0;
}

void
frag_table_free(struct frag_table *table, struct port_counters *port)
{
	if (table == NULL)
		return;
	frag_flush(table, port);
	rte_ip_frag_table_destroy(table->tbl);
	rte_hash_free(table->run_index);
	rte_free(table->runs);
	rte_free(table);
}

/* Whether the fragment's datagram is one the gateway judges. */
static bool
takes_protocol(const struct decoded_frame *f)
{
	/* A tunnel's datagram is judged by what it carries (decode.h). */
	if (f->l4_proto == IPPROTO_TCP || f->l4_proto == IPPROTO_GRE ||
			f->l4_proto == IPPROTO_IPIP ||
			f->l4_proto == IPPROTO_IPV6)
		return true;
	/* IPv6: TCP may follow other headers in the fragmentable part. */
	return f->l3 == DECODE_L3_IPV6 && (f->l4_proto == IPPROTO_ROUTING ||
		f->l4_proto == IPPROTO_DSTOPTS || f->l4_proto == IPPROTO_AH);
}

static inline uint16_t
read_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What the checks learn about a fragment. */
struct fragment_info {
	uint32_t header_len;	/* IP header(s) up to the data */
	uint32_t ip_length;	/* header_len + data */
	uint32_t offset;	/* of the data in the datagram */
	uint32_t data;
	bool more;		/* not the last fragment */
	uint32_t id;		/* identification, network order */
};

/*
 * Checks fragment <m> (decoded in <f>) before the table sees it: what
 * rte_ip_frag would mishandle or silently accept. Returns true when the
 * table may take it, with <info> filled.
 */
static bool
fragment_valid(const struct rte_mbuf *m, const struct decoded_frame *f,
	struct fragment_info *info)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *,
		f->l3_offset);
	uint32_t data, offset;
	bool more;

	if (f->l3 == DECODE_L3_IPV4) {
		/* decode_frame() has checked the header fits the segment. */
		uint16_t flags = read_be16(ip + 6);

		info->header_len = (ip[0] & 0x0f) * 4;
		info->ip_length = read_be16(ip + 2);
		offset = (flags & 0x1fffu) * 8;
		more = (flags & 0x2000) != 0;
		info->id = (uint32_t)ip[4] << 8 | ip[5];
	} else {
		uint16_t frag_data;

		/* Only a Fragment header right after the fixed header. */
		if (ip[6] != IPPROTO_FRAGMENT || (uint32_t)f->l3_offset +
				IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN >
				m->data_len)
			return false;
		info->header_len = IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN;
		info->ip_length = IPV6_HEADER_LEN + read_be16(ip + 4);
		frag_data = read_be16(ip + IPV6_HEADER_LEN + 2);
		offset = frag_data & 0xfff8u;
		more = (frag_data & 1) != 0;
		memcpy(&info->id, ip + IPV6_HEADER_LEN + 4, 4);
	}
	if (info->ip_length <= info->header_len)
		return false;		/* no data */
	data = info->ip_length - info->header_len;
	info->offset = offset;
	info->data = data;
	info->more = more;
	if (more && data % 8 != 0)
		return false;	/* later offsets would not fit */
	if (offset + data + (f->l3 == DECODE_L3_IPV4 ? info->header_len : 0) >
			IP_DATAGRAM_MAX)
		return false;
	/* Shorter than its IP length: the rest is not there. */
	return m->pkt_len >= (uint32_t)f->l3_offset + info->ip_length;
}

/*
 * Offers fragment or run <m> (its l2_len and l3_len set, its IP header
 * saying what it holds) to the table. Returns the datagram it completes,
 * or NULL; counts what the table dropped, and takes what left it out of
 * port->held. *<gone> says whether <m> left the table (completed or
 * dropped).
 */
static struct rte_mbuf *
offer(struct frag_table *table, struct rte_mbuf *m, uint8_t l3,
	uint64_t ts_ns, struct port_counters *port, uint16_t *fragments,
	uint16_t *largest, bool *gone)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	uint32_t before, dropped, offered, taken = 0;
	struct rte_mbuf *datagram;
	bool found = false;

	offered = count_fragments(m, NULL, NULL, &found);
	if (table->death_row.cnt + DEATH_ROW_ROOM >
			RTE_IP_FRAG_DEATH_ROW_MBUF_LEN)
		free_death_row(table);
	before = table->death_row.cnt;
	if (l3 == DECODE_L3_IPV4)
		datagram = rte_ipv4_frag_reassemble_packet(table->tbl,
			&table->death_row, m, ts_ns,
			(struct rte_ipv4_hdr *)ip);
	else
		datagram = rte_ipv6_frag_reassemble_packet(table->tbl,
			&table->death_row, m, ts_ns,
			(struct rte_ipv6_hdr *)ip,
			(struct rte_ipv6_fragment_ext *)(ip + IPV6_HEADER_LEN));
	dropped = count_death_row(table, before, m, offered, port, gone);
	*largest = 0;
	if (datagram != NULL) {
		taken = count_fragments(datagram, largest, NULL, &found);
		*gone = true;
	}
	*fragments = (uint16_t)taken;
	port->held -= dropped + taken;
	return datagram;
}

/* Writes into the first header of <run> the data it holds. */
static void
run_set_header(const struct frag_run *run, uint8_t l3)
{
	struct rte_mbuf *m = run->head;
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	uint32_t len = run->end - run->start;

	if (l3 == DECODE_L3_IPV4) {
		uint16_t total = (uint16_t)(m->l3_len + len);
		uint16_t flags = (uint16_t)((ip[6] & 0x40) << 8 |
			run->start / 8 | (run->last ? 0 : 0x2000));

		ip[2] = total >> 8;
		ip[3] = total & 0xff;
		ip[6] = flags >> 8;
		ip[7] = flags & 0xff;
	} else {
		uint16_t payload = (uint16_t)(IPV6_FRAGMENT_HEADER_LEN + len);
		uint16_t frag_data = (uint16_t)(run->start |
			(run->last ? 0 : 1));

		ip[4] = payload >> 8;
		ip[5] = payload & 0xff;
		ip[IPV6_HEADER_LEN + 2] = frag_data >> 8;
		ip[IPV6_HEADER_LEN + 3] = frag_data & 0xff;
	}
}

/* Sends the open run of <run> to the table; see offer(). */
static struct rte_mbuf *
run_flush(struct frag_table *table, struct frag_run *run, uint8_t l3,
	uint64_t ts_ns, struct port_counters *port, uint16_t *fragments,
	uint16_t *largest)
{
	struct rte_mbuf *m = run->head, *datagram;
	bool gone = false;

	run_set_header(run, l3);
	run->offered += run->end - run->start;
	run->head = NULL;
	datagram = offer(table, m, l3, ts_ns, port, fragments, largest, &gone);
	/* Completed, or dropped with what the table held of it. */
	if (gone)
		run_remove(table, run);
	return datagram;
}

/* The run of <run> is the whole datagram: it becomes one. */
static struct rte_mbuf *
run_complete(struct frag_table *table, struct frag_run *run, uint8_t l3,
	struct port_counters *port, uint16_t *fragments, uint16_t *largest)
{
	struct rte_mbuf *m = run->head;
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	uint32_t taken;
	bool found = false;

	if (l3 == DECODE_L3_IPV4) {
		uint16_t total = (uint16_t)(m->l3_len + run->end);

		ip[2] = total >> 8;
		ip[3] = total & 0xff;
		ip[6] &= 0x40;		/* don't fragment stays */
		ip[7] = 0;
	} else {
		/* The Fragment header goes, as rte_ip_frag does it. */
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

		ip[6] = ip[IPV6_HEADER_LEN];
		ip[4] = run->end >> 8;
		ip[5] = run->end & 0xff;
		memmove(frame + IPV6_FRAGMENT_HEADER_LEN, frame,
			m->l2_len + IPV6_HEADER_LEN);
		rte_pktmbuf_adj(m, IPV6_FRAGMENT_HEADER_LEN);
		m->l3_len = IPV6_HEADER_LEN;
	}
	*largest = 0;
	taken = count_fragments(m, largest, NULL, &found);
	*fragments = (uint16_t)taken;
	port->held -= taken;
	run->head = NULL;
	run_remove(table, run);
	return m;
}

/*
 * Offers <m> to the table when no run takes it, after its run's flush
 * returned <datagram> (or NULL): one datagram is reported per fragment,
 * so a second (which <m> could only complete with fragments the table
 * held besides the run) is dropped. *<gone> as offer() says.
 */
static struct rte_mbuf *
offer_late(struct frag_table *table, struct rte_mbuf *m, uint8_t l3,
	uint64_t ts_ns, struct port_counters *port, struct rte_mbuf *datagram,
	uint16_t *fragments, uint16_t *largest, bool *gone)
{
	struct rte_mbuf *late;
	uint16_t late_fragments, late_largest;

	late = offer(table, m, l3, ts_ns, port, &late_fragments,
		&late_largest, gone);
	if (late == NULL)
		return datagram;
	if (datagram == NULL) {
		*fragments = late_fragments;
		*largest = late_largest;
		return late;
	}
	port->drops[DROP_FRAG_INVALID] += late_fragments;
	rte_pktmbuf_free(late);
	return datagram;
}

/*
 * Takes fragment <m> (checked, marked, counted held): into its datagram's
 * run, or the table. Returns a datagram it completed, or NULL.
 */
static struct rte_mbuf *
take_fragment(struct frag_table *table, struct rte_mbuf *m,
	const struct decoded_frame *f, const struct fragment_info *info,
	uint64_t ts_ns, struct port_counters *port, uint16_t *fragments,
	uint16_t *largest)
{
	struct rte_mbuf *datagram = NULL;
	struct frag_run *run;
	struct run_key key;
	bool gone = false;

	memset(&key, 0, sizeof(key));
	key.version = f->l3 == DECODE_L3_IPV4 ? 4 : 6;
	key.proto = f->l3 == DECODE_L3_IPV4 ? f->l4_proto : 0;
	key.id = info->id;
	memcpy(key.src, f->src_addr, sizeof(key.src));
	memcpy(key.dst, f->dst_addr, sizeof(key.dst));
	run = run_get(table, &key, ts_ns, port);
	if (run == NULL)	/* no room for runs: the table alone */
		return offer(table, m, f->l3, ts_ns, port, fragments, largest,
			&gone);
	if (run->head != NULL && run->fragments == FRAG_RUN_MAX) {
		/* More than a datagram ever needs: the set goes. */
		run_drop(run, DROP_FRAG_INVALID, port);
		run_remove(table, run);
		port->drops[DROP_FRAG_INVALID]++;
		port->held--;
		rte_pktmbuf_free(m);
		return NULL;
	}
	run->fragments++;
	/* Chains stay far below RTE_MBUF_MAX_NB_SEGS (64 fragments a run). */
	if (run->head != NULL && info->offset == run->end && !run->last) {
		/* It continues the run. */
		rte_pktmbuf_adj(m, (uint16_t)(m->l2_len + m->l3_len));
		rte_pktmbuf_chain(run->head, m);
		run->end += info->data;
		run->last = !info->more;
	} else if (run->head != NULL && info->more &&
			info->offset + info->data == run->start) {
		/* It comes right before the run. */
		rte_pktmbuf_adj(run->head,
			(uint16_t)(run->head->l2_len + run->head->l3_len));
		rte_pktmbuf_chain(m, run->head);
		run->head = m;
		run->start = info->offset;
	} else {
		/* A gap or an overlap: the table judges what came so far. */
		bool overlaps = run->head != NULL &&
			info->offset < run->end &&
			run->start < info->offset + info->data;

		if (run->head != NULL) {
			datagram = run_flush(table, run, f->l3, ts_ns, port,
				fragments, largest);
			run = run_get(table, &key, ts_ns, port);
		}
		if (run == NULL || overlaps) {
			/* An overlap goes to the table at once: it drops the
			 * set as soon as it can tell. */
			if (run != NULL)
				run->offered += info->data;
			datagram = offer_late(table, m, f->l3, ts_ns, port,
				datagram, fragments, largest, &gone);
			if (run != NULL && gone)
				run_remove(table, run);
			return datagram;
		}
		run->head = m;
		run->fragments = 1;
		run->start = info->offset;
		run->end = info->offset + info->data;
		run->last = !info->more;
	}
	if (!info->more)
		run->total = info->offset + info->data;
	if (run->start == 0 && run->last) {
		/* Whole; unless the table holds part of it: an overlap. */
		if (run->offered == 0 && datagram == NULL)
			return run_complete(table, run, f->l3, port, fragments,
				largest);
		run_drop(run, DROP_FRAG_INVALID, port);
		run_remove(table, run);
	} else if (datagram == NULL && run->total != 0 &&
			run->offered + run->end - run->start >= run->total) {
		/* Every byte is there, if none overlaps: the table decides. */
		datagram = run_flush(table, run, f->l3, ts_ns, port,
			fragments, largest);
	}
	return datagram;
}

/*
 * Makes the first segment of datagram <m> hold its first <want> bytes: a
 * tiny first fragment (8 bytes of TCP header, say) leaves the rest of the
 * headers in the next segment, where decoding would not see them. Returns
 * the datagram, with a new head from <pool> if it needed one, or NULL
 * (<m> untouched) when <pool> is empty.
 */
static struct rte_mbuf *
contiguous_head(struct rte_mbuf *m, uint32_t want, struct rte_mempool *pool)
{
	uint32_t pkt_len = m->pkt_len, left = want;
	struct rte_mbuf *head, *seg = m, *next;
	const void *bytes;
	uint16_t segs = 1;
	uint8_t *p;

	if (m->data_len >= want)
		return m;
	head = rte_pktmbuf_alloc(pool);
	if (head == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(head, (uint16_t)want);
	if (p == NULL) {
		rte_pktmbuf_free(head);
		return NULL;
	}
	bytes = rte_pktmbuf_read(m, 0, want, p);
	if (bytes != p)
		memcpy(p, bytes, want);
	/* The copied bytes leave the old segments. */
	while (seg != NULL && left > 0) {
		if (seg->data_len > left) {
			seg->data_off += left;
			seg->data_len -= left;
			break;
		}
		left -= seg->data_len;
		next = seg->next;
		seg->next = NULL;
		rte_pktmbuf_free_seg(seg);
		seg = next;
	}
	head->next = seg;
	for (; seg != NULL; seg = seg->next)
		segs++;
	head->nb_segs = segs;
	head->pkt_len = pkt_len;
	return head;
}

/*
 * Sets <m>'s header lengths and marks, and cuts what follows its IP
 * length (Ethernet padding). Returns false when that cannot be cut (more
 * than its last segment holds: not padding).
 */
static bool
prepare(struct rte_mbuf *m, const struct decoded_frame *f,
	const struct fragment_info *info)
{
	uint32_t len = (uint32_t)f->l3_offset + info->ip_length;

	if (m->pkt_len > len && (m->pkt_len - len > UINT16_MAX ||
			rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len)) != 0))
		return false;
	m->l2_len = f->l3_offset;
	m->l3_len = (uint16_t)info->header_len;
	/* At most 65,535 + 40 bytes; a larger mark would not change much. */
	mark_fragment(m, (uint16_t)RTE_MIN(info->ip_length,
		(uint32_t)UINT16_MAX));
	return true;
}

void
frag_take(struct frag_table *table, struct rte_mbuf **pkts,
	struct decoded_frame *frames, uint8_t *verdicts, uint16_t count,
	const uint64_t *ts_ns, uint64_t now_ns, bool enforce,
	struct port_counters *port, struct frag_burst *out)
{
	uint16_t i;

	out->count = 0;
	for (i = 0; i < count; i++) {
		struct decoded_frame *f = &frames[i];
		struct fragment_info info = { 0 };
		struct frag_datagram *d;
		struct rte_mbuf *datagram, *whole;
		uint16_t fragments, largest;

		/* Tiny first fragments are malformed TCP: take them too. */
		if (!f->fragmented || verdicts[i] != DROP_REASON_MAX ||
				!takes_protocol(f))
			continue;
		/*
		 * Fragments of a datagram inside a tunnel are put together by
		 * the tunnel's far end, past the gateway's reach (the frame's
		 * outer headers are its own): refused as in "drop" mode.
		 */
		if (table->mode == FRAG_MODE_DROP ||
				f->tunnel != DECODE_TUNNEL_NONE) {
			if (enforce)
				verdicts[i] = DROP_FRAG_REFUSED;
			continue;
		}
		if (!fragment_valid(pkts[i], f, &info) ||
				!prepare(pkts[i], f, &info)) {
			verdicts[i] = DROP_FRAG_INVALID;
			continue;
		}
		/* Held fragments stay within the table's share of the pool. */
		if (port->held >= table->held_max) {
			verdicts[i] = DROP_FRAG_TABLE_FULL;
			continue;
		}
		port->held++;
		datagram = take_fragment(table, pkts[i], f, &info,
			ts_ns != NULL ? ts_ns[i] : now_ns, port, &fragments,
			&largest);
		if (datagram == NULL) {
			verdicts[i] = FRAG_VERDICT_TAKEN;
			continue;
		}
		port->datagrams++;
		whole = contiguous_head(datagram,
			RTE_MIN(datagram->pkt_len, (uint32_t)FRAG_HEAD_BYTES),
			table->pool);
		if (whole == NULL) {
			port->drops[DROP_FRAG_NO_BUFFER] += fragments;
			rte_pktmbuf_free(datagram);
			verdicts[i] = FRAG_VERDICT_TAKEN;
			continue;
		}
		datagram = whole;
		/* What the NIC said of the first fragment's checksums does not
		 * hold for the datagram. */
		datagram->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK |
			RTE_MBUF_F_RX_L4_CKSUM_MASK);
		pkts[i] = datagram;
		/* Already counted as fragments: not again as frames. */
		decode_frame(rte_pktmbuf_mtod(datagram, const uint8_t *),
			datagram->data_len, f, NULL);
		/* A tunnel's datagram may carry a fragment in turn. */
		if (f->tunnel != DECODE_TUNNEL_NONE && f->fragmented &&
				takes_protocol(f) && enforce)
			verdicts[i] = DROP_FRAG_REFUSED;
		d = &out->datagrams[out->count++];
		d->slot = i;
		d->fragments = fragments;
		d->largest = largest;
		d->ipv6_id = info.id;
	}
	free_death_row(table);
}

int
frag_refragment(struct rte_mbuf *m, const struct decoded_frame *frame,
	const struct frag_datagram *d, struct rte_mempool *pool,
	struct rte_mbuf **out, uint16_t out_max)
{
	/* Fragmented at the outer IP header, which the pieces repeat. */
	uint16_t l2_len = decode_outer_l3_offset(frame);
	uint8_t l3 = decode_outer_l3(frame);
	uint8_t l2[L2_HEADER_MAX];
	int count, i;

	if (l2_len > sizeof(l2) || l2_len > m->data_len)
		return -EINVAL;
	memcpy(l2, rte_pktmbuf_mtod(m, const uint8_t *), l2_len);
	/* The fragmenting functions start at the IP header. */
	rte_pktmbuf_adj(m, l2_len);
	if (l3 == DECODE_L3_IPV4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m,
			struct rte_ipv4_hdr *);

		/* A fragmented datagram cannot have meant "don't fragment". */
		ip->fragment_offset &= ~rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		count = rte_ipv4_fragment_packet(m, out, out_max,
			RTE_MAX(d->largest, (uint16_t)IPV4_MIN_MTU), pool,
			pool);
	} else {
		count = rte_ipv6_fragment_packet(m, out, out_max,
			RTE_MAX(d->largest, (uint16_t)IPV6_MIN_MTU), pool,
			pool);
	}
	if (count < 0) {
		rte_pktmbuf_prepend(m, l2_len);
		return count;
	}
	for (i = 0; i < count; i++) {
		uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(out[i], l2_len);

		/* No headroom: cannot happen with our pools. */
		if (p == NULL) {
			rte_pktmbuf_free_bulk(out, count);
			rte_pktmbuf_prepend(m, l2_len);
			return -ENOMEM;
		}
		memcpy(p, l2, l2_len);
		if (l3 == DECODE_L3_IPV4) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)
				(p + l2_len);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else {
			/* The library leaves the identification 0. */
			memcpy(p + l2_len + IPV6_HEADER_LEN + 4, &d->ipv6_id,
				4);
		}
	}
	/* The pieces hold references to its segments. */
	rte_pktmbuf_free(m);
	return count;
}
