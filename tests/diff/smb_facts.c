/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prints the SMB parser's facts for every TCP connection of a capture, one
 * line per fact, in a normalised "key=value" form that smb_diff.py compares
 * with tshark's reading of the same capture.
 *
 * Usage: smb_facts [SESSION_MAX] CAPTURE
 *
 * SESSION_MAX, in bytes, is what one connection's tables may take of the
 * pool (flows.session_memory_max); 512 KiB, the default, when not given.
 *
 * Each line starts with the frame number in which the fact's SMB record
 * ends, because that is where tshark reports a reassembled PDU. TCP is
 * tracked minimally: connections by 4-tuple, the client being whoever sent
 * the SYN (or, without one, whoever talks to port 445/139, else the higher
 * port); payload is fed in capture order and the parser itself drops
 * retransmissions and resynchronises after gaps.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "chunk.h"
#include "dcerpc.h"
#include "smb.h"

#define CONNS_MAX	256
#define HELD_MAX	4096

struct held_fact {
	uint32_t end_seq;	/* record end; printed once the stream passes it */
	int dir;
	char *line;
};

struct conn {
	uint8_t addr[2][16];	/* [client, server] */
	uint16_t port[2];
	int family;
	int id;
	struct smb_state *smb;
	struct held_fact held[HELD_MAX];
	int held_count;
};

static struct conn *conns[CONNS_MAX];
static int conn_count;
static uint64_t frame_no;

/* Current feed context for the callback. */
struct feed_ctx {
	struct conn *c;
};

static bool
seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static void
append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/* Appends key="value" with quotes and backslashes escaped. */
static void
append_str(char *buf, size_t size, const char *key, const char *val)
{
	const char *p;

	append(buf, size, " %s=\"", key);
	for (p = val; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			append(buf, size, "\\%c", *p);
		else
			append(buf, size, "%c", *p);
	}
	append(buf, size, "\"");
}

static void
format_fact(const struct smb_fact *f, int conn_id, char *buf, size_t size)
{
	const struct dcerpc_fact *rf;
	char uuid[37];
	int i;

	buf[0] = '\0';
	append(buf, size, "conn=%d dir=%s fact=%s ver=%u cmd=%u status=0x%08x"
		" mid=%" PRIu64 " sid=0x%016" PRIx64 " tid=0x%08x flags=0x%04x",
		conn_id, f->dir == SMB_DIR_TO_SERVER ? "c2s" : "s2c",
		smb_fact_type_name(f->type), f->version, f->command,
		f->status, f->message_id, f->session_id, f->tree_id,
		f->flags);
	switch (f->type) {
	case SMB_FACT_NBSS_SESSION:
		append(buf, size, " nbss=0x%02x", f->u.nbss.type);
		append_str(buf, size, "called", f->u.nbss.called);
		append_str(buf, size, "calling", f->u.nbss.calling);
		break;
	case SMB_FACT_NEGOTIATE:
		append(buf, size, " dialects=");
		for (i = 0; i < f->u.negotiate.dialect_count; i++)
			append(buf, size, "%s0x%04x", i ? "," : "",
				f->u.negotiate.dialects[i]);
		append(buf, size, " chosen=0x%04x", f->u.negotiate.chosen);
		break;
	case SMB_FACT_LOGON:
		append(buf, size, " success=%u mech=%u session_flags=0x%04x"
			" dialect=0x%04x", f->u.logon.success,
			f->u.logon.mech, f->u.logon.session_flags,
			f->u.logon.dialect);
		append_str(buf, size, "user", f->u.logon.user);
		append_str(buf, size, "domain", f->u.logon.domain);
		append_str(buf, size, "workstation", f->u.logon.workstation);
		if (f->u.logon.realm[0] != '\0')
			append_str(buf, size, "realm", f->u.logon.realm);
		break;
	case SMB_FACT_TREE_CONNECT:
	case SMB_FACT_TREE_DISCONNECT:
		append(buf, size, " share_type=%u ipc=%u",
			f->u.tree.share_type, f->u.tree.is_ipc);
		append_str(buf, size, "path", f->u.tree.path);
		append_str(buf, size, "share", f->u.tree.share);
		break;
	case SMB_FACT_CREATE:
	case SMB_FACT_CLOSE:
	case SMB_FACT_READ:
	case SMB_FACT_WRITE:
	case SMB_FACT_IOCTL:
		append(buf, size, " fid=");
		for (i = 0; i < 16; i++)
			append(buf, size, "%02x", f->u.file.file_id[i]);
		append(buf, size, " pipe=%u access=0x%08x disposition=%u"
			" options=0x%08x ctl=0x%08x length=%u offset=%" PRIu64,
			f->u.file.is_pipe, f->u.file.desired_access,
			f->u.file.disposition, f->u.file.options,
			f->u.file.ctl_code, f->u.file.length,
			f->u.file.offset);
		append_str(buf, size, "name", f->u.file.name);
		append_str(buf, size, "share", f->u.file.share);
		break;
	case SMB_FACT_ENCRYPTED:
	case SMB_FACT_COMPRESSED:
		append(buf, size, " size=%u record=%u alg=%u",
			f->u.transform.original_size,
			f->u.transform.record_size,
			f->u.transform.algorithm);
		break;
	case SMB_FACT_DCERPC:
		rf = f->u.dcerpc.rpc;
		append(buf, size, " rpc=%u ptype=%u call=%u ctx=%u"
			" iface=%s opnum=%u rpc_status=0x%08x",
			rf->type, rf->ptype, rf->call_id, rf->context_id,
			dcerpc_uuid_format(rf->iface_uuid, uuid), rf->opnum,
			rf->status);
		append_str(buf, size, "pipe", f->u.dcerpc.pipe);
		if (rf->op_name != NULL)
			append_str(buf, size, "op", rf->op_name);
		if (rf->name[0] != '\0')
			append_str(buf, size, "arg_name", rf->name);
		if (rf->command[0] != '\0')
			append_str(buf, size, "arg_command", rf->command);
		break;
	case SMB_FACT_RESYNC:
		append(buf, size, " gap=%u skipped=%u",
			f->u.resync.gap_bytes, f->u.resync.skipped_bytes);
		break;
	case SMB_FACT_ERROR:
		append(buf, size, " reason=%s", smb_error_name(f->u.error.reason));
		append_str(buf, size, "what", f->u.error.what);
		break;
	default:
		break;
	}
}

static void
on_fact(void *ctx, const struct smb_fact *f)
{
	struct feed_ctx *fc = ctx;
	struct conn *c = fc->c;
	char line[2048];
	struct held_fact *h;

	format_fact(f, c->id, line, sizeof(line));
	if (f->type == SMB_FACT_ERROR || f->type == SMB_FACT_RESYNC ||
	    c->held_count == HELD_MAX) {
		printf("frame=%" PRIu64 " %s\n", frame_no, line);
		return;
	}
	h = &c->held[c->held_count++];
	h->end_seq = f->record_seq + f->record_len;
	h->dir = f->dir;
	h->line = strdup(line);
}

/* One connection's share of the tables' pool, from the command line. */
static uint32_t session_max = 512u << 10;

/* The tables' pool, as a worker has one (its default budget). */
static struct chunk_pool *
tables_pool(void)
{
	static struct chunk_pool *pool;

	if (pool == NULL) {
		struct chunk_pool_params params = {
			.budget = 256u << 20,
			.owner_limit = session_max,
		};

		smb_chunk_params(&params);
		pool = chunk_pool_create(&params);
		if (pool == NULL) {
			fprintf(stderr, "out of memory\n");
			exit(2);
		}
	}
	return pool;
}

/* Prints, at the current frame, held facts whose record has been passed. */
static void
release(struct conn *c, int dir, uint32_t next_seq, bool all)
{
	int i, j = 0;

	for (i = 0; i < c->held_count; i++) {
		struct held_fact *h = &c->held[i];

		if (all || (h->dir == dir && seq_le(h->end_seq, next_seq))) {
			printf("frame=%" PRIu64 " %s\n", frame_no, h->line);
			free(h->line);
		} else {
			c->held[j++] = *h;
		}
	}
	c->held_count = j;
}

static struct conn *
conn_find(int family, const uint8_t *src, const uint8_t *dst,
	uint16_t sport, uint16_t dport, int *dir)
{
	size_t alen = family == 4 ? 4 : 16;
	int i;

	for (i = 0; i < conn_count; i++) {
		struct conn *c = conns[i];

		if (c->family != family)
			continue;
		if (c->port[0] == sport && c->port[1] == dport &&
		    memcmp(c->addr[0], src, alen) == 0 &&
		    memcmp(c->addr[1], dst, alen) == 0) {
			*dir = SMB_DIR_TO_SERVER;
			return c;
		}
		if (c->port[0] == dport && c->port[1] == sport &&
		    memcmp(c->addr[0], dst, alen) == 0 &&
		    memcmp(c->addr[1], src, alen) == 0) {
			*dir = SMB_DIR_TO_CLIENT;
			return c;
		}
	}
	return NULL;
}

static bool
is_smb_port(uint16_t port)
{
	return port == 445 || port == 139;
}

static struct conn *
conn_new(int family, const uint8_t *src, const uint8_t *dst,
	uint16_t sport, uint16_t dport, bool src_is_client)
{
	size_t alen = family == 4 ? 4 : 16;
	struct conn *c;

	if (conn_count == CONNS_MAX)
		return NULL;
	c = calloc(1, sizeof(*c));
	c->smb = aligned_alloc(64, sizeof(struct smb_state));
	if (c->smb == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	smb_state_init(c->smb, tables_pool());
	c->family = family;
	c->id = conn_count;
	memcpy(c->addr[src_is_client ? 0 : 1], src, alen);
	memcpy(c->addr[src_is_client ? 1 : 0], dst, alen);
	c->port[src_is_client ? 0 : 1] = sport;
	c->port[src_is_client ? 1 : 0] = dport;
	conns[conn_count++] = c;
	return c;
}

static void
handle_frame(const uint8_t *pkt, uint32_t caplen, uint64_t ts_ns)
{
	uint32_t off = 14;
	uint16_t ethertype;
	const uint8_t *src, *dst;
	int family;
	uint32_t l4_len;
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t seq, thl;
	uint8_t tcp_flags;
	struct conn *c;
	struct feed_ctx fc;
	int dir;

	if (caplen < 14)
		return;
	ethertype = (uint16_t)(pkt[12] << 8 | pkt[13]);
	while ((ethertype == 0x8100 || ethertype == 0x88a8) &&
	       caplen >= off + 4) {
		ethertype = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
		off += 4;
	}
	if (ethertype == 0x0800) {
		uint32_t ihl, tot;

		if (caplen < off + 20)
			return;
		ihl = (pkt[off] & 0xf) * 4u;
		tot = (uint32_t)(pkt[off + 2] << 8 | pkt[off + 3]);
		if ((pkt[off + 6] & 0x1f) != 0 || pkt[off + 7] != 0)
			return;	/* fragments */
		proto = pkt[off + 9];
		src = pkt + off + 12;
		dst = pkt + off + 16;
		family = 4;
		if (tot < ihl || caplen < off + tot)
			return;
		l4_len = tot - ihl;
		off += ihl;
	} else if (ethertype == 0x86dd) {
		if (caplen < off + 40)
			return;
		proto = pkt[off + 6];
		src = pkt + off + 8;
		dst = pkt + off + 24;
		family = 6;
		l4_len = (uint32_t)(pkt[off + 4] << 8 | pkt[off + 5]);
		off += 40;
		if (caplen < off + l4_len)
			return;
	} else {
		return;
	}
	if (proto != 6 || l4_len < 20)
		return;
	sport = (uint16_t)(pkt[off] << 8 | pkt[off + 1]);
	dport = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
	seq = (uint32_t)pkt[off + 4] << 24 | (uint32_t)pkt[off + 5] << 16 |
		(uint32_t)pkt[off + 6] << 8 | pkt[off + 7];
	thl = (pkt[off + 12] >> 4) * 4u;
	tcp_flags = pkt[off + 13];
	if (thl < 20 || thl > l4_len)
		return;

	c = conn_find(family, src, dst, sport, dport, &dir);
	if ((tcp_flags & 0x12) == 0x02) {
		/* A new SYN: (re)start the connection, sender is the client. */
		if (c != NULL) {
			release(c, 0, 0, true);
			smb_state_release(c->smb);
			smb_state_init(c->smb, tables_pool());
		} else {
			c = conn_new(family, src, dst, sport, dport, true);
		}
		return;
	}
	if (c == NULL) {
		bool src_client = is_smb_port(dport) ||
			(!is_smb_port(sport) && sport > dport);

		if ((tcp_flags & 0x12) == 0x12)
			src_client = false;	/* SYN-ACK: sender is the server */
		c = conn_new(family, src, dst, sport, dport, src_client);
		if (c == NULL)
			return;
		conn_find(family, src, dst, sport, dport, &dir);
	}
	if (l4_len == thl)
		return;
	fc.c = c;
	smb_feed(c->smb, dir, seq, pkt + off + thl, l4_len - thl, ts_ns,
		on_fact, &fc);
	release(c, dir, seq + (l4_len - thl), false);
}

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const uint8_t *pkt;
	pcap_t *pc;
	int i, rc;

	if (argc == 3) {
		session_max = (uint32_t)strtoul(argv[1], NULL, 0);
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s [SESSION_MAX] CAPTURE\n", argv[0]);
		return 2;
	}
	pc = pcap_open_offline(argv[1], errbuf);
	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", argv[1], errbuf);
		return 2;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "%s: not Ethernet\n", argv[1]);
		return 2;
	}
	while ((rc = pcap_next_ex(pc, &hdr, &pkt)) == 1) {
		frame_no++;
		handle_frame(pkt, hdr->caplen,
			(uint64_t)hdr->ts.tv_sec * 1000000000u +
			(uint64_t)hdr->ts.tv_usec * 1000u);
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(pc));
		return 2;
	}
	for (i = 0; i < conn_count; i++) {
		struct smb_counters k;

		release(conns[i], 0, 0, true);
		smb_state_counters(conns[i]->smb, &k);
		printf("counters conn=%d bytes=%" PRIu64 " records=%" PRIu64
			" smb1=%" PRIu64 " smb2=%" PRIu64 " encrypted=%" PRIu64
			" facts=%" PRIu64 " errors=%" PRIu64 " resyncs=%" PRIu64
			" gap=%" PRIu64 " retrans=%" PRIu64 " skipped=%" PRIu64
			" pipe=%" PRIu64 " unmatched=%" PRIu64
			" evicted=%" PRIu64 " refused=%" PRIu64
			" entries_high=%u pipes_high=%u\n", i,
			k.bytes, k.records, k.smb1_messages, k.smb2_messages,
			k.encrypted, k.facts, k.errors, k.resyncs,
			k.gap_bytes, k.retransmitted_bytes, k.skipped_bytes,
			k.pipe_bytes, k.unmatched_responses,
			k.pending_evictions + k.tree_evictions +
			k.file_evictions + k.pipe_evictions,
			k.table_refusals, k.entries_high, k.pipes_high);
		smb_state_release(conns[i]->smb);
		free(conns[i]->smb);
		free(conns[i]);
	}
	pcap_close(pc);
	return 0;
}
