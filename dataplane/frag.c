/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
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

struct frag_table {
	struct rte_ip_frag_tbl *tbl;
	struct rte_mempool *pool;
	enum frag_mode mode;
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
 * hold: the fragment just offered alone (no room for another datagram),
 * the fragment just offered with others of its datagram (inconsistent
 * set), or sets that timed out (the offered fragment not among them).
 * Returns the number of fragments dropped.
 */
static uint32_t
count_death_row(struct frag_table *table, uint32_t from,
	const struct rte_mbuf *offered, struct port_counters *port)
{
	struct rte_ip_frag_death_row *dr = &table->death_row;
	uint32_t fragments = 0, i;
	bool found = false;
	enum drop_reason reason;

	for (i = from; i < dr->cnt; i++)
		fragments += count_fragments(dr->row[i], NULL, offered, &found);
	if (fragments == 0)
		return 0;
	if (!found)
		reason = DROP_FRAG_INCOMPLETE;
	else if (fragments == 1)
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
	/* Two candidate buckets of 16 per key, at most 1/8 full. */
	buckets = RTE_MAX(params->max_datagrams / 4, 1u);
	/* The library announces every table at INFO level, as USER1. */
	log_level = rte_log_get_level(RTE_LOGTYPE_USER1);
	rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_WARNING);
	table->tbl = rte_ip_frag_table_create(buckets, BUCKET_ENTRIES,
		params->max_datagrams, params->timeout_ns, params->socket);
	if (log_level >= 0)
		rte_log_set_level(RTE_LOGTYPE_USER1, (uint32_t)log_level);
	if (table->tbl == NULL) {
		rte_free(table);
		rte_errno = ENOMEM;
		return NULL;
	}
	return table;
}

void
frag_expire(struct frag_table *table, uint64_t now_ns,
	struct port_counters *port)
{
	uint32_t dropped;

	if (port->held == 0)
		return;
	do {
		rte_ip_frag_table_del_expired_entries(table->tbl,
			&table->death_row, now_ns);
		dropped = count_death_row(table, 0, NULL, port);
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
	rte_free(table);
}

/* Whether the fragment's datagram is one the gateway judges. */
static bool
takes_protocol(const struct decoded_frame *f)
{
	if (f->l4_proto == IPPROTO_TCP)
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
	uint32_t ipv6_id;
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
		memcpy(&info->ipv6_id, ip + IPV6_HEADER_LEN + 4, 4);
	}
	if (info->ip_length <= info->header_len)
		return false;		/* no data */
	data = info->ip_length - info->header_len;
	if (more && data % 8 != 0)
		return false;		/* offsets of later fragments would not fit */
	if (offset + data + (f->l3 == DECODE_L3_IPV4 ? info->header_len : 0) >
			IP_DATAGRAM_MAX)
		return false;
	/* Shorter than its IP length: the rest is not there. */
	return m->pkt_len >= (uint32_t)f->l3_offset + info->ip_length;
}

/*
 * Offers fragment <m> to the table. Returns the datagram it completes, or
 * NULL; counts what the table dropped and what it holds.
 */
static struct rte_mbuf *
offer(struct frag_table *table, struct rte_mbuf *m,
	const struct decoded_frame *f, const struct fragment_info *info,
	uint64_t ts_ns, struct port_counters *port, uint16_t *fragments,
	uint16_t *largest)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, f->l3_offset);
	struct rte_mbuf *datagram;
	uint32_t before, dropped, taken = 0;
	bool found = false;

	m->l2_len = f->l3_offset;
	m->l3_len = (uint16_t)info->header_len;
	/* At most 65,535 + 40 bytes; a larger mark would not change much. */
	mark_fragment(m, (uint16_t)RTE_MIN(info->ip_length,
		(uint32_t)UINT16_MAX));
	if (table->death_row.cnt + DEATH_ROW_ROOM > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN)
		free_death_row(table);
	before = table->death_row.cnt;
	if (f->l3 == DECODE_L3_IPV4)
		datagram = rte_ipv4_frag_reassemble_packet(table->tbl,
			&table->death_row, m, ts_ns,
			(struct rte_ipv4_hdr *)ip);
	else
		datagram = rte_ipv6_frag_reassemble_packet(table->tbl,
			&table->death_row, m, ts_ns,
			(struct rte_ipv6_hdr *)ip,
			(struct rte_ipv6_fragment_ext *)(ip + IPV6_HEADER_LEN));
	dropped = count_death_row(table, before, m, port);
	*largest = 0;
	if (datagram != NULL)
		taken = count_fragments(datagram, largest, NULL, &found);
	*fragments = (uint16_t)taken;
	/* The fragment joins the held ones; dropped and completed ones leave. */
	port->held += 1;
	port->held -= dropped + taken;
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
		if (table->mode == FRAG_MODE_DROP) {
			if (enforce)
				verdicts[i] = DROP_FRAG_REFUSED;
			continue;
		}
		if (!fragment_valid(pkts[i], f, &info)) {
			verdicts[i] = DROP_FRAG_INVALID;
			continue;
		}
		datagram = offer(table, pkts[i], f, &info,
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
		d = &out->datagrams[out->count++];
		d->slot = i;
		d->fragments = fragments;
		d->largest = largest;
		d->ipv6_id = info.ipv6_id;
	}
	free_death_row(table);
}

int
frag_refragment(struct rte_mbuf *m, const struct decoded_frame *frame,
	const struct frag_datagram *d, struct rte_mempool *pool,
	struct rte_mbuf **out, uint16_t out_max)
{
	uint16_t l2_len = frame->l3_offset;
	uint8_t l2[L2_HEADER_MAX];
	int count, i;

	if (l2_len > sizeof(l2) || l2_len > m->data_len)
		return -EINVAL;
	memcpy(l2, rte_pktmbuf_mtod(m, const uint8_t *), l2_len);
	/* The fragmenting functions start at the IP header. */
	rte_pktmbuf_adj(m, l2_len);
	if (frame->l3 == DECODE_L3_IPV4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m,
			struct rte_ipv4_hdr *);

		/* A fragmented datagram cannot have meant "don't fragment". */
		ip->fragment_offset &= ~rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		count = rte_ipv4_fragment_packet(m, out, out_max,
			RTE_MAX(d->largest, (uint16_t)IPV4_MIN_MTU), pool, pool);
	} else {
		count = rte_ipv6_fragment_packet(m, out, out_max,
			RTE_MAX(d->largest, (uint16_t)IPV6_MIN_MTU), pool, pool);
	}
	if (count < 0) {
		rte_pktmbuf_prepend(m, l2_len);
		return count;
	}
	for (i = 0; i < count; i++) {
		uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(out[i], l2_len);

		if (p == NULL) {	/* no headroom: cannot happen with our pools */
			rte_pktmbuf_free_bulk(out, count);
			rte_pktmbuf_prepend(m, l2_len);
			return -ENOMEM;
		}
		memcpy(p, l2, l2_len);
		if (frame->l3 == DECODE_L3_IPV4) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)
				(p + l2_len);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else {
			/* The library leaves the identification 0. */
			memcpy(p + l2_len + IPV6_HEADER_LEN + 4, &d->ipv6_id, 4);
		}
	}
	/* The pieces hold references to its segments. */
	rte_pktmbuf_free(m);
	return count;
}
