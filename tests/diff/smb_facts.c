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
 *
 * A connection is SMB when it uses port 445 or 139 or its first payload is
 * an NBSS message; it is DCE/RPC over TCP (the endpoint mapper on 135 and
 * the ports it hands out) when its first payload is a DCE/RPC PDU, and its
 * bytes then go to the DCE/RPC parser in order, as the gateway feeds them
 * (retransmitted bytes cut off, gaps passed over). Anything else is not
 * ours and is skipped. Link types: those offline mode reads (Ethernet,
 * Linux cooked v1/v2, BSD NULL/LOOP, raw IP), per interface in a pcapng
 * file, which libpcap refuses when its interfaces' types differ.
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

enum conn_kind {
	CONN_UNKNOWN,	/* no payload yet */
	CONN_SMB,
	CONN_DCERPC,
	CONN_OTHER,	/* neither: skipped */
};

struct conn {
	uint8_t addr[2][16];	/* [client, server] */
	uint16_t port[2];
	int family;
	int id;
	enum conn_kind kind;
	struct smb_state *smb;
	struct smb_counters smb_counters;	/* what smb counts into */
	struct dcerpc_conn *rpc;
	uint32_t rpc_next_seq[2];
	bool rpc_seq_known[2];
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

/* The NTLMSSP AUTHENTICATE of a BIND, ALTER_CONTEXT or AUTH3, on a pipe
 * or over TCP. */
static void
append_rpc_auth(char *buf, size_t size, const struct dcerpc_fact *rf)
{
	if (rf->type == DCERPC_FACT_AUTH && rf->user[0] != '\0') {
		append_str(buf, size, "auth_user", rf->user);
		append_str(buf, size, "auth_domain", rf->domain);
	}
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
		append_rpc_auth(buf, size, rf);
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
format_rpc_fact(const struct dcerpc_fact *rf, int conn_id, char *buf,
	size_t size)
{
	char uuid[37];

	buf[0] = '\0';
	append(buf, size, "conn=%d dir=%s fact=dcerpc ver=0 cmd=0"
		" status=0x00000000 mid=0 sid=0x0000000000000000"
		" tid=0x00000000 flags=0x%04x rpc=%u ptype=%u call=%u ctx=%u"
		" iface=%s opnum=%u rpc_status=0x%08x", conn_id,
		rf->from_server ? "s2c" : "c2s",
		rf->from_server ? SMB_FACT_F_RESPONSE : 0,
		rf->type, rf->ptype, rf->call_id, rf->context_id,
		dcerpc_uuid_format(rf->iface_uuid, uuid), rf->opnum,
		rf->status);
	append_str(buf, size, "pipe", "");
	if (rf->op_name != NULL)
		append_str(buf, size, "op", rf->op_name);
	if (rf->name[0] != '\0')
		append_str(buf, size, "arg_name", rf->name);
	if (rf->command[0] != '\0')
		append_str(buf, size, "arg_command", rf->command);
	if (rf->type == DCERPC_FACT_ERROR)
		append(buf, size, " error=%d", (int)rf->error);
	append_rpc_auth(buf, size, rf);
}

/* DCE/RPC over TCP: facts come out when their PDU completes, this frame. */
static void
on_rpc_fact(void *ctx, const struct dcerpc_fact *rf)
{
	struct feed_ctx *fc = ctx;
	char line[2048];

	format_rpc_fact(rf, fc->c->id, line, sizeof(line));
	printf("frame=%" PRIu64 " %s\n", frame_no, line);
	if (rf->type == DCERPC_FACT_ERROR)
		printf("frame=%" PRIu64 " conn=%d dir=%s fact=error ver=0 cmd=0"
			" status=0x00000000 mid=0 sid=0x0000000000000000"
			" tid=0x00000000 flags=0x0000 reason=dcerpc_%d\n",
			frame_no, fc->c->id, rf->from_server ? "s2c" : "c2s",
			(int)rf->error);
}

/*
 * As the gateway feeds DCE/RPC over TCP: bytes already fed are cut off, a
 * gap is passed over and the parser resynchronises on the next PDU.
 */
static void
feed_rpc(struct conn *c, int dir, uint32_t seq, const uint8_t *data,
	uint32_t len, uint64_t ts_ns)
{
	int d = dir == SMB_DIR_TO_SERVER ? 0 : 1;
	struct feed_ctx fc = { .c = c };

	if (c->rpc_seq_known[d]) {
		int32_t ahead = (int32_t)(seq - c->rpc_next_seq[d]);

		if (ahead < 0) {
			uint32_t old = (uint32_t)-ahead;

			if (old >= len)
				return;
			data += old;
			len -= old;
			seq += old;
		}
	}
	c->rpc_seq_known[d] = true;
	c->rpc_next_seq[d] = seq + len;
	dcerpc_conn_feed(c->rpc, d, data, len, ts_ns, on_rpc_fact, &fc);
}

/* Whether <p> starts an NBSS message that carries or sets up SMB. */
static bool
looks_like_nbss_smb(const uint8_t *p, uint32_t len)
{
	if (len >= 1 && (p[0] == 0x81 || p[0] == 0x85))
		return true;	/* session request, keepalive */
	return len >= 8 && p[0] == 0x00 &&
		(p[4] == 0xff || p[4] == 0xfe || p[4] == 0xfd ||
		 p[4] == 0xfc) && memcmp(p + 5, "SMB", 3) == 0;
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

/* A DCE/RPC association over TCP, with the pool as the gateway gives it. */
static void
rpc_init(struct dcerpc_conn *rpc)
{
	dcerpc_conn_init(rpc);
	dcerpc_conn_set_memory(rpc, tables_pool(), SMB_CHUNK_ENTRY,
		SMB_CHUNK_BUFFER, NULL);
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
	if (c == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	c->smb = aligned_alloc(64, sizeof(struct smb_state));
	c->rpc = calloc(1, sizeof(*c->rpc));
	if (c->smb == NULL || c->rpc == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	smb_state_init(c->smb, tables_pool());
	smb_state_set_counters(c->smb, &c->smb_counters);
	rpc_init(c->rpc);
	c->family = family;
	c->id = conn_count;
	memcpy(c->addr[src_is_client ? 0 : 1], src, alen);
	memcpy(c->addr[src_is_client ? 1 : 0], dst, alen);
	c->port[src_is_client ? 0 : 1] = sport;
	c->port[src_is_client ? 1 : 0] = dport;
	conns[conn_count++] = c;
	return c;
}

/*
 * Where the IP header starts in a frame of link type <dlt>, and its
 * ethertype; false when the frame carries no IP.
 */
static bool
link_layer(int dlt, const uint8_t *pkt, uint32_t caplen, uint32_t *off,
	uint16_t *ethertype)
{
	uint32_t family_be, family_le;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return false;
		*ethertype = (uint16_t)(pkt[12] << 8 | pkt[13]);
		*off = 14;
		while ((*ethertype == 0x8100 || *ethertype == 0x88a8) &&
		       caplen >= *off + 4) {
			*ethertype = (uint16_t)(pkt[*off + 2] << 8 |
				pkt[*off + 3]);
			*off += 4;
		}
		return true;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return false;
		*ethertype = (uint16_t)(pkt[14] << 8 | pkt[15]);
		*off = 16;
		return true;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return false;
		*ethertype = (uint16_t)(pkt[0] << 8 | pkt[1]);
		*off = 20;
		return true;
	case DLT_NULL:
	case DLT_LOOP:
		/* The address family, in the capturing host's byte order
		 * (NULL) or big-endian (LOOP); 24, 28 and 30 are the BSDs'
		 * AF_INET6. */
		if (caplen < 4)
			return false;
		family_be = (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 |
			(uint32_t)pkt[2] << 8 | pkt[3];
		family_le = (uint32_t)pkt[3] << 24 | (uint32_t)pkt[2] << 16 |
			(uint32_t)pkt[1] << 8 | pkt[0];
		if (dlt == DLT_LOOP)
			family_le = family_be;
		*off = 4;
		if (family_be == 2 || family_le == 2)
			*ethertype = 0x0800;
		else if (family_be == 24 || family_be == 28 ||
			 family_be == 30 || family_le == 24 ||
			 family_le == 28 || family_le == 30)
			*ethertype = 0x86dd;
		else
			return false;
		return true;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (caplen < 1)
			return false;
		*off = 0;
		*ethertype = (pkt[0] >> 4) == 6 ? 0x86dd : 0x0800;
		return true;
	default:
		return false;
	}
}

static bool
dlt_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL ||
		dlt == DLT_LINUX_SLL2 || dlt == DLT_NULL || dlt == DLT_LOOP ||
		dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6;
}

/*
 * The packet GRE version 0 carries at *off (RFC 2784, 2890), the outer
 * datagram ending at <end>: its offset into *off and its ethertype, an
 * Ethernet header (0x6558) and its tags passed over. False for anything
 * else.
 */
static bool
gre_payload(const uint8_t *pkt, uint32_t end, uint32_t *off,
	uint16_t *ethertype)
{
	uint32_t o = *off, flags;
	unsigned int tags;

	if (o + 4 > end)
		return false;
	flags = (uint32_t)(pkt[o] << 8 | pkt[o + 1]);
	if ((flags & 0x4007) != 0)	/* a routing header, or not version 0 */
		return false;
	*ethertype = (uint16_t)(pkt[o + 2] << 8 | pkt[o + 3]);
	o += 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) +
		(flags & 0x1000 ? 4 : 0);
	if (*ethertype == 0x6558) {
		if (o + 14 > end)
			return false;
		*ethertype = (uint16_t)(pkt[o + 12] << 8 | pkt[o + 13]);
		o += 14;
		for (tags = 0; tags < 4 && (*ethertype == 0x8100 ||
				*ethertype == 0x88a8); tags++) {
			if (o + 4 > end)
				return false;
			*ethertype = (uint16_t)(pkt[o + 2] << 8 | pkt[o + 3]);
			o += 4;
		}
	}
	*off = o;
	return o <= end;
}

static void
handle_frame(int dlt, const uint8_t *pkt, uint32_t caplen, uint64_t ts_ns)
{
	uint32_t off = 0;
	uint16_t ethertype = 0;
	const uint8_t *src, *dst;
	int family;
	uint32_t l4_len;
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t seq, thl;
	uint8_t tcp_flags;
	struct conn *c;
	struct feed_ctx fc;
	unsigned int depth;
	int dir;

	if (!link_layer(dlt, pkt, caplen, &off, &ethertype))
		return;
	/* IP, then the IP-in-IP and GRE tunnels a decapsulating host follows. */
	for (depth = 0;; depth++) {
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
		if (depth == 4)
			break;
		if (proto == 4 || proto == 41) {
			ethertype = proto == 4 ? 0x0800 : 0x86dd;
			continue;
		}
		if (proto != 47)
			break;
		if (!gre_payload(pkt, off + l4_len, &off, &ethertype))
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
			memset(&c->smb_counters, 0, sizeof(c->smb_counters));
			smb_state_set_counters(c->smb, &c->smb_counters);
			dcerpc_conn_release(c->rpc);
			rpc_init(c->rpc);
			c->kind = CONN_UNKNOWN;
			c->rpc_seq_known[0] = c->rpc_seq_known[1] = false;
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
	if (c->kind == CONN_UNKNOWN) {
		const uint8_t *p = pkt + off + thl;
		uint32_t n = l4_len - thl;

		if (is_smb_port(c->port[1]) || looks_like_nbss_smb(p, n))
			c->kind = CONN_SMB;
		else if (dcerpc_looks_like_pdu(p, n))
			c->kind = CONN_DCERPC;
		else
			c->kind = CONN_OTHER;
	}
	if (c->kind == CONN_OTHER)
		return;
	if (c->kind == CONN_DCERPC) {
		feed_rpc(c, dir, seq, pkt + off + thl, l4_len - thl, ts_ns);
		return;
	}
	fc.c = c;
	smb_feed(c->smb, dir, seq, pkt + off + thl, l4_len - thl, ts_ns,
		on_fact, &fc);
	release(c, dir, seq + (l4_len - thl), false);
}

static uint32_t
get32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static uint16_t
get16(const uint8_t *p, bool swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? __builtin_bswap16(v) : v;
}

/* The LINKTYPE_ value a file holds as the DLT_ value libpcap uses. */
static int
linktype_to_dlt(uint16_t linktype)
{
	switch (linktype) {
	case 101:
		return DLT_RAW;
	case 108:
		return DLT_LOOP;
	default:
		return linktype;	/* 0, 1, 113, 228, 229, 276: equal */
	}
}

#define PCAPNG_SHB	0x0a0d0d0au
#define PCAPNG_IDB	1u
#define PCAPNG_SPB	3u
#define PCAPNG_EPB	6u
#define PCAPNG_IFACES_MAX	64

/*
 * Reads a pcapng file block by block: every interface keeps its own link
 * type. Returns 0, or 2 on a file it cannot read (a message said why).
 */
static int
read_pcapng(const char *path, FILE *f)
{
	int dlt[PCAPNG_IFACES_MAX];
	int ifaces = 0;
	bool swap = false;
	uint8_t head[12];
	uint8_t *block = NULL;

	while (fread(head, 1, 8, f) == 8) {
		uint32_t type, len;

		memcpy(&type, head, 4);
		if (type == PCAPNG_SHB) {
			if (fread(head + 8, 1, 4, f) != 4)
				break;
			swap = get32(head + 8, false) != 0x1a2b3c4du;
			ifaces = 0;
		}
		len = get32(head + 4, swap);
		type = get32(head, swap);
		if (len < 12 || len % 4 != 0 || len > (64u << 20)) {
			fprintf(stderr, "%s: bad pcapng block\n", path);
			free(block);
			return 2;
		}
		free(block);
		block = malloc(len);
		if (block == NULL) {
			fprintf(stderr, "out of memory\n");
			exit(2);
		}
		memcpy(block, head, type == PCAPNG_SHB ? 12 : 8);
		if (fread(block + (type == PCAPNG_SHB ? 12 : 8), 1,
			  len - (type == PCAPNG_SHB ? 12 : 8), f) !=
		    len - (type == PCAPNG_SHB ? 12 : 8)) {
			/* As with libpcap files: frames before the cut
			 * count. */
			fprintf(stderr, "%s: pcapng file cut short\n", path);
			free(block);
			return frame_no == 0 ? 2 : 0;
		}
		if (type == PCAPNG_IDB && len >= 20) {
			if (ifaces == PCAPNG_IFACES_MAX) {
				fprintf(stderr, "%s: too many interfaces\n",
					path);
				free(block);
				return 2;
			}
			dlt[ifaces] = linktype_to_dlt(get16(block + 8, swap));
			if (!dlt_supported(dlt[ifaces]))
				fprintf(stderr, "%s: interface %d: link type"
					" %d not read\n", path, ifaces,
					dlt[ifaces]);
			ifaces++;
		} else if (type == PCAPNG_EPB && len >= 32) {
			uint32_t id = get32(block + 8, swap);
			uint32_t caplen = get32(block + 20, swap);

			/* One timestamp unit is as good as another here. */
			frame_no++;
			if (id < (uint32_t)ifaces && caplen <= len - 32 &&
			    dlt_supported(dlt[id]))
				handle_frame(dlt[id], block + 28, caplen,
					(uint64_t)get32(block + 12, swap) << 32 |
					get32(block + 16, swap));
		} else if (type == PCAPNG_SPB && len >= 16) {
			uint32_t caplen = len - 16;
			uint32_t orig = get32(block + 8, swap);

			frame_no++;
			if (orig < caplen)
				caplen = orig;
			if (ifaces > 0 && dlt_supported(dlt[0]))
				handle_frame(dlt[0], block + 12, caplen, 0);
		}
	}
	free(block);
	return 0;
}

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const uint8_t *pkt;
	pcap_t *pc;
	int i, rc, dlt;

	if (argc == 3) {
		session_max = (uint32_t)strtoul(argv[1], NULL, 0);
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s [SESSION_MAX] CAPTURE\n", argv[0]);
		return 2;
	}
	{
		FILE *f = fopen(argv[1], "rb");
		uint32_t magic = 0;

		if (f == NULL) {
			perror(argv[1]);
			return 2;
		}
		if (fread(&magic, 1, 4, f) == 4 && magic == PCAPNG_SHB) {
			rewind(f);
			rc = read_pcapng(argv[1], f);
			fclose(f);
			if (rc != 0)
				return rc;
			pc = NULL;
			goto done;
		}
		fclose(f);
	}
	pc = pcap_open_offline(argv[1], errbuf);
	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", argv[1], errbuf);
		return 2;
	}
	dlt = pcap_datalink(pc);
	if (!dlt_supported(dlt)) {
		fprintf(stderr, "%s: link type %s not read\n", argv[1],
			pcap_datalink_val_to_name(dlt));
		return 2;
	}
	while ((rc = pcap_next_ex(pc, &hdr, &pkt)) == 1) {
		frame_no++;
		handle_frame(dlt, pkt, hdr->caplen,
			(uint64_t)hdr->ts.tv_sec * 1000000000u +
			(uint64_t)hdr->ts.tv_usec * 1000u);
	}
	if (rc == PCAP_ERROR) {
		/* A capture cut short (tcpdump killed) still has every frame
		 * before the cut: they are compared, as tshark reads them. */
		fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(pc));
		if (frame_no == 0)
			return 2;
	}
done:
	for (i = 0; i < conn_count; i++) {
		struct smb_counters k;
		char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN];
		int af = conns[i]->family == 4 ? AF_INET : AF_INET6;

		inet_ntop(af, conns[i]->addr[0], client, sizeof(client));
		inet_ntop(af, conns[i]->addr[1], server, sizeof(server));
		printf("connection conn=%d kind=%s client=%s cport=%u"
			" server=%s sport=%u\n", i,
			conns[i]->kind == CONN_SMB ? "smb" :
			conns[i]->kind == CONN_DCERPC ? "dcerpc" : "other",
			client, conns[i]->port[0], server, conns[i]->port[1]);

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
		dcerpc_conn_release(conns[i]->rpc);
		free(conns[i]->rpc);
		free(conns[i]);
	}
	if (pc != NULL)
		pcap_close(pc);
	return 0;
}
