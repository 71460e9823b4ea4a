/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMB parser: facts from the real captures in tests/pcaps, the same facts
 * whatever the segmentation, retransmissions and gaps, messages built from
 * captured bytes (AndX chains, compounds, bad offsets), and the fixed state
 * budget.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "dcerpc.h"
#include "chunk.h"
#include "smb.h"
#include "smb_counted_state.h"

/* ---- captures ------------------------------------------------------- */

/* One TCP segment with payload, as captured. */
struct segment {
	uint32_t frame;
	int conn;		/* connections numbered by their SYN order */
	enum smb_dir dir;
	uint32_t seq;
	uint64_t ts_ns;
	uint32_t len;
	uint8_t *data;
};

struct capture {
	struct segment *segs;
	int count;
	int conns;
};

#define CONNS_MAX 16

/*
 * Loads the TCP payload segments of tests/pcaps/<name> (IPv4 over
 * Ethernet, as all the captures are). The client of each connection is
 * the sender of its SYN.
 */
static void
capture_load(const char *name, struct capture *cap)
{
	char path[512], errbuf[PCAP_ERRBUF_SIZE];
	uint16_t client_port[CONNS_MAX];
	struct pcap_pkthdr *hdr;
	const uint8_t *pkt;
	uint32_t frame = 0;
	int alloc = 256;
	pcap_t *pc;

	snprintf(path, sizeof(path), "%s/pcaps/%s", TESTS_DIR, name);
	pc = pcap_open_offline(path, errbuf);
	assert_non_null(pc);
	memset(cap, 0, sizeof(*cap));
	cap->segs = calloc(alloc, sizeof(*cap->segs));
	while (pcap_next_ex(pc, &hdr, &pkt) == 1) {
		uint32_t ihl, tot, thl, plen;
		uint16_t sport, dport;
		const uint8_t *ip, *tcp;
		struct segment *sg;
		int c;

		frame++;
		if (hdr->caplen < 54 || pkt[12] != 0x08 || pkt[13] != 0x00)
			continue;
		ip = pkt + 14;
		ihl = (ip[0] & 0xf) * 4u;
		tot = (uint32_t)ip[2] << 8 | ip[3];
		if (ip[9] != 6 || 14 + tot > hdr->caplen)
			continue;
		tcp = ip + ihl;
		sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
		dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
		thl = (tcp[12] >> 4) * 4u;
		if ((tcp[13] & 0x12) == 0x02) {
			assert_true(cap->conns < CONNS_MAX);
			client_port[cap->conns++] = sport;
			continue;
		}
		plen = tot - ihl - thl;
		if (plen == 0)
			continue;
		for (c = 0; c < cap->conns; c++)
			if (client_port[c] == sport || client_port[c] == dport)
				break;
		assert_true(c < cap->conns);
		if (cap->count == alloc) {
			alloc *= 2;
			cap->segs = realloc(cap->segs, alloc * sizeof(*sg));
		}
		sg = &cap->segs[cap->count++];
		sg->frame = frame;
		sg->conn = c;
		sg->dir = client_port[c] == sport ? SMB_DIR_TO_SERVER :
			SMB_DIR_TO_CLIENT;
		sg->seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
			(uint32_t)tcp[6] << 8 | tcp[7];
		sg->ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000u +
			hdr->ts.tv_usec * 1000u;
		sg->len = plen;
		sg->data = malloc(plen);
		memcpy(sg->data, tcp + thl, plen);
	}
	pcap_close(pc);
}

static void
capture_free(struct capture *cap)
{
	int i;

	for (i = 0; i < cap->count; i++)
		free(cap->segs[i].data);
	free(cap->segs);
}

/* The segment of frame <frame>. */
static const struct segment *
capture_frame(const struct capture *cap, uint32_t frame)
{
	int i;

	for (i = 0; i < cap->count; i++)
		if (cap->segs[i].frame == frame)
			return &cap->segs[i];
	fail_msg("frame %u has no payload", frame);
	return NULL;
}

/* ---- fact recording ------------------------------------------------- */

/* A fact kept past its callback: the DCE/RPC part is copied. */
struct kept_fact {
	struct smb_fact f;
	int rpc_type;
	uint8_t rpc_ptype;
	uint16_t rpc_opnum;
	uint32_t rpc_call;
	uint32_t rpc_status;
	uint8_t rpc_uuid[16];
};

struct recorder {
	struct kept_fact *v;
	int n;
	int alloc;
};

static void
record_fact(void *ctx, const struct smb_fact *f)
{
	struct recorder *r = ctx;
	struct kept_fact *k;

	if (r->n == r->alloc) {
		r->alloc = r->alloc ? r->alloc * 2 : 256;
		r->v = realloc(r->v, r->alloc * sizeof(*r->v));
	}
	k = &r->v[r->n++];
	memset(k, 0, sizeof(*k));
	k->f = *f;
	/* A COMMAND fact's union part is undefined: keep it comparable. */
	if (f->type == SMB_FACT_COMMAND)
		memset(&k->f.u, 0, sizeof(k->f.u));
	if (f->type == SMB_FACT_DCERPC) {
		const struct dcerpc_fact *rf = f->u.dcerpc.rpc;

		assert_non_null(rf);
		k->rpc_type = rf->type;
		k->rpc_ptype = rf->ptype;
		k->rpc_opnum = rf->opnum;
		k->rpc_call = rf->call_id;
		k->rpc_status = rf->status;
		memcpy(k->rpc_uuid, rf->iface_uuid, 16);
		k->f.u.dcerpc.rpc = NULL;
	}
}

static void
recorder_free(struct recorder *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* How segments are handed to the parser. */
enum feed_mode {
	FEED_WHOLE,		/* as captured */
	FEED_BYTES,		/* one byte per call */
	FEED_SPLIT,		/* pseudo-random pieces */
	FEED_TWICE,		/* every segment repeated (retransmitted) */
};

static struct smb_state *
state_new(void)
{
	struct smb_state *st = state_alloc();

	state_init(st, test_pool());
	return st;
}
/* Gives the tables' chunks back and frees <st>. */
static void
state_free(struct smb_state *st)
{
	smb_state_release(st);
	free(st);
}

static void
feed_segment(struct smb_state *st, const struct segment *sg,
	enum feed_mode mode, uint32_t *rng, struct recorder *r)
{
	uint32_t off = 0;

	switch (mode) {
	case FEED_WHOLE:
	case FEED_TWICE:
		assert_int_equal(smb_feed(st, sg->dir, sg->seq, sg->data,
			sg->len, sg->ts_ns, record_fact, r), 0);
		if (mode == FEED_TWICE)
			assert_int_equal(smb_feed(st, sg->dir, sg->seq,
				sg->data, sg->len, sg->ts_ns, record_fact, r),
				0);
		break;
	case FEED_BYTES:
		for (off = 0; off < sg->len; off++)
			smb_feed(st, sg->dir, sg->seq + off, sg->data + off, 1,
				sg->ts_ns, record_fact, r);
		break;
	case FEED_SPLIT:
		while (off < sg->len) {
			uint32_t n;

			*rng = *rng * 1103515245u + 12345u;
			n = 1 + (*rng >> 16) % 97;
			if (n > sg->len - off)
				n = sg->len - off;
			smb_feed(st, sg->dir, sg->seq + off, sg->data + off, n,
				sg->ts_ns, record_fact, r);
			off += n;
		}
		break;
	}
}

/* Feeds connection <conn> of <cap> in <mode>, skipping frame <drop>. */
static void
run_capture(const struct capture *cap, int conn, enum feed_mode mode,
	uint32_t drop, struct smb_state *st, struct recorder *r)
{
	uint32_t rng = 1;
	int i;

	for (i = 0; i < cap->count; i++) {
		const struct segment *sg = &cap->segs[i];

		if (sg->conn != conn || sg->frame == drop)
			continue;
		feed_segment(st, sg, mode, &rng, r);
	}
}

static int
count_facts(const struct recorder *r, enum smb_fact_type type,
	enum smb_dir dir)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		if (r->v[i].f.type == type && r->v[i].f.dir == dir)
			n++;
	return n;
}

/* The <nth> (from 0) fact of <type> in <dir>, or NULL. */
static const struct kept_fact *
find_fact(const struct recorder *r, enum smb_fact_type type,
	enum smb_dir dir, int nth)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].f.type == type && r->v[i].f.dir == dir &&
		    nth-- == 0)
			return &r->v[i];
	return NULL;
}

/* Finds the DCE/RPC fact of <rpc_type> in <dir>, or NULL. */
static const struct kept_fact *
find_rpc(const struct recorder *r, int rpc_type, enum smb_dir dir)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].f.type == SMB_FACT_DCERPC &&
		    r->v[i].rpc_type == rpc_type && r->v[i].f.dir == dir)
			return &r->v[i];
	return NULL;
}

static void
assert_same_facts(const struct recorder *a, const struct recorder *b)
{
	int i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		if (memcmp(&a->v[i], &b->v[i], sizeof(a->v[i])) != 0)
			fail_msg("fact %d differs: %s vs %s", i,
				smb_fact_type_name(a->v[i].f.type),
				smb_fact_type_name(b->v[i].f.type));
	}
}

/* Parses a whole capture connection into <r>; returns the counters. */
static struct smb_counters
parse_capture(const char *name, int conn, struct recorder *r)
{
	struct capture cap;
	struct smb_state *st = state_new();
	struct smb_counters k;

	capture_load(name, &cap);
	run_capture(&cap, conn, FEED_WHOLE, 0, st, r);
	smb_state_counters(st, &k);
	state_free(st);
	capture_free(&cap);
	return k;
}

/* ---- synthetic records from captured bytes -------------------------- */

/* Feeds one complete record <rec> of <len> bytes as the next stream bytes. */
static void
feed_record(struct smb_state *st, enum smb_dir dir, uint32_t *seq,
	const uint8_t *rec, uint32_t len, struct recorder *r)
{
	assert_int_equal(smb_feed(st, dir, *seq, rec, len, 0, record_fact, r),
		0);
	*seq += len;
}

static void
set_nbss_len(uint8_t *rec, uint32_t len)
{
	rec[0] = 0;
	rec[1] = (uint8_t)(len >> 16);
	rec[2] = (uint8_t)(len >> 8);
	rec[3] = (uint8_t)len;
}

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static uint64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* ---- tests ---------------------------------------------------------- */

static void
test_state_budget(void **state)
{
	(void)state;
	/* The budget documented in smb.h and dataplane/smb/README.md. */
	assert_int_equal(SMB_STATE_SIZE, 384);
	assert_true(sizeof(struct smb_state) <= 384);
	assert_int_equal(sizeof(struct smb_state), SMB_STATE_SIZE);
	assert_int_equal(_Alignof(struct smb_state), 64);
}

static void
test_logon_success(void **state)
{
	struct recorder r = { 0 };
	const struct kept_fact *req, *resp;
	struct smb_counters k;

	(void)state;
	k = parse_capture("smb2_basic.pcap", 0, &r);
	req = find_fact(&r, SMB_FACT_LOGON, SMB_DIR_TO_SERVER, 0);
	resp = find_fact(&r, SMB_FACT_LOGON, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(req);
	assert_non_null(resp);
	assert_string_equal(req->f.u.logon.user, "bob");
	assert_string_equal(resp->f.u.logon.user, "bob");
	assert_string_equal(resp->f.u.logon.domain, "WORKGROUP");
	assert_int_equal(resp->f.u.logon.mech, SMB_AUTH_NTLMSSP);
	assert_int_equal(resp->f.u.logon.success, 1);
	assert_int_equal(resp->f.status, SMB_STATUS_SUCCESS);
	assert_int_equal(resp->f.u.logon.dialect, 0x0311);
	assert_true(resp->f.session_id != 0);
	assert_int_equal(resp->f.message_id, req->f.message_id);
	assert_true(resp->f.flags & SMB_FACT_F_PAIRED);
	assert_int_equal(k.errors, 0);
	assert_int_equal(k.resyncs, 0);
	assert_int_equal(k.unmatched_responses, 0);
	recorder_free(&r);

	/* The second connection is the wrong password. */
	parse_capture("smb2_basic.pcap", 1, &r);
	resp = find_fact(&r, SMB_FACT_LOGON, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(resp);
	assert_int_equal(resp->f.u.logon.success, 0);
	assert_int_equal(resp->f.status, SMB_STATUS_LOGON_FAILURE);
	assert_string_equal(resp->f.u.logon.user, "bob");
	recorder_free(&r);
}

static void
test_logon_failure(void **state)
{
	struct recorder r = { 0 };
	int conn;

	(void)state;
	for (conn = 0; conn < 5; conn++) {
		const struct kept_fact *resp;

		parse_capture("logon_fail_smb2.pcap", conn, &r);
		assert_int_equal(count_facts(&r, SMB_FACT_LOGON,
			SMB_DIR_TO_CLIENT), 1);
		resp = find_fact(&r, SMB_FACT_LOGON, SMB_DIR_TO_CLIENT, 0);
		assert_int_equal(resp->f.status, SMB_STATUS_LOGON_FAILURE);
		assert_int_equal(resp->f.u.logon.success, 0);
		assert_string_equal(resp->f.u.logon.user, "alice");
		assert_int_equal(count_facts(&r, SMB_FACT_ERROR,
			SMB_DIR_TO_CLIENT), 0);
		recorder_free(&r);
	}
}

/* Finds the tree connect response for share <share>, nth occurrence. */
static const struct kept_fact *
find_tree(const struct recorder *r, const char *share, int nth)
{
	int i;

	for (i = 0; i < r->n; i++) {
		const struct kept_fact *k = &r->v[i];

		if (k->f.type == SMB_FACT_TREE_CONNECT &&
		    k->f.dir == SMB_DIR_TO_CLIENT &&
		    strcmp(k->f.u.tree.share, share) == 0 && nth-- == 0)
			return k;
	}
	return NULL;
}

static void
test_tree_connect(void **state)
{
	struct recorder r = { 0 };
	const struct kept_fact *t;

	(void)state;
	parse_capture("psexec_smb2.pcap", 0, &r);
	t = find_tree(&r, "IPC$", 0);
	assert_non_null(t);
	assert_string_equal(t->f.u.tree.path, "\\\\198.18.2.20\\IPC$");
	assert_int_equal(t->f.u.tree.share_type, SMB2_SHARE_TYPE_PIPE);
	assert_int_equal(t->f.u.tree.is_ipc, 1);
	assert_int_equal(t->f.tree_id, 0xf1771dd1);
	assert_int_equal(t->f.status, 0);
	/* ADMIN$ three times, each with its own tree id. */
	assert_non_null(find_tree(&r, "ADMIN$", 2));
	assert_null(find_tree(&r, "ADMIN$", 3));
	t = find_tree(&r, "ADMIN$", 0);
	assert_int_equal(t->f.u.tree.share_type, SMB2_SHARE_TYPE_DISK);
	assert_int_equal(t->f.u.tree.is_ipc, 0);
	assert_int_equal(t->f.tree_id, 0x7c48b39c);
	recorder_free(&r);

	parse_capture("smb2_basic.pcap", 0, &r);
	t = find_tree(&r, "data", 0);
	assert_non_null(t);
	assert_string_equal(t->f.u.tree.path, "\\\\198.18.2.20\\data");
	assert_int_equal(t->f.u.tree.share_type, SMB2_SHARE_TYPE_DISK);
	recorder_free(&r);
}

/* ---- long names --------------------------------------------------- */

struct name_seen {
	char name[SMB_NAME_MAX];
	uint16_t flags;
	int creates;
	char response_name[SMB_NAME_MAX];	/* from the session's tables */
	uint16_t response_flags;
	int responses;
};

static void
keep_create_name(void *ctx, const struct smb_fact *f)
{
	struct name_seen *seen = ctx;

	if (f->type != SMB_FACT_CREATE)
		return;
	if (f->dir == SMB_DIR_TO_CLIENT) {
		memcpy(seen->response_name, f->u.file.name,
			sizeof(seen->response_name));
		seen->response_flags = f->flags;
		seen->responses++;
		return;
	}
	memcpy(seen->name, f->u.file.name, sizeof(seen->name));
	seen->flags = f->flags;
	seen->creates++;
}

/* A successful SMB2 CREATE response to message 0. */
static void
feed_create_response(struct smb_state *st, struct name_seen *seen)
{
	uint8_t rec[4 + 64 + 89];
	uint8_t *m = rec + 4, *b = m + 64;

	memset(rec, 0, sizeof(rec));
	rec[3] = 64 + 89;
	memcpy(m, "\xfeSMB", 4);
	m[4] = 64;
	m[12] = SMB2_CREATE;
	m[16] = 1;				/* response */
	m[36] = 5;				/* TreeId */
	b[0] = 89;				/* StructureSize */
	b[64] = 0x42;				/* FileId */
	assert_int_equal(smb_feed(st, SMB_DIR_TO_CLIENT, 1, rec, sizeof(rec),
		2, keep_create_name, seen), 0);
}

/* The name of an SMB2 CREATE request for <name> (UTF-16 from ASCII and
 * U+00E9 written as 0xe9), as the parser reports it. */
static void
parse_create_name(const char *name, struct name_seen *seen)
{
	uint8_t rec[4 + 64 + 56 + 1024];
	uint8_t *m = rec + 4, *b = m + 64;
	size_t i, n = strlen(name), len = 64 + 56 + 2 * n;
	struct smb_state *st = state_alloc();

	assert_non_null(st);
	assert_true(len <= sizeof(rec) - 4);
	memset(rec, 0, sizeof(rec));
	rec[1] = (uint8_t)(len >> 16);
	rec[2] = (uint8_t)(len >> 8);
	rec[3] = (uint8_t)len;
	memcpy(m, "\xfeSMB", 4);
	m[4] = 64;
	m[12] = SMB2_CREATE;
	m[36] = 5;				/* TreeId */
	b[0] = 57;				/* StructureSize */
	b[44] = 120;				/* NameOffset */
	b[46] = (uint8_t)(2 * n);
	b[47] = (uint8_t)(2 * n >> 8);
	for (i = 0; i < n; i++)
		m[120 + 2 * i] = (uint8_t)name[i];
	memset(seen, 0, sizeof(*seen));
	state_init(st, test_pool());
	assert_int_equal(smb_feed(st, SMB_DIR_TO_SERVER, 1, rec, 4 + len, 1,
		keep_create_name, seen), 0);
	feed_create_response(st, seen);
	smb_state_release(st);
	free(st);
	assert_int_equal(seen->creates, 1);
	assert_int_equal(seen->responses, 1);
}

/*
 * A name longer than SMB_NAME_MAX keeps its start and its end: a 250-byte
 * directory (a 259-character path, under Windows' MAX_PATH) must not hide
 * the ".exe" that watchlists and policy rules look for.
 */
static void
test_long_name_keeps_its_end(void **state)
{
	char name[400], want_tail[64];
	struct name_seen seen;
	size_t len;

	(void)state;
	memset(name, 'D', 250);
	strcpy(name + 250, "\\evil.exe");
	parse_create_name(name, &seen);
	assert_true(seen.flags & SMB_FACT_F_TRUNCATED);
	len = strlen(seen.name);
	assert_true(len <= SMB_NAME_MAX - 1);
	assert_true(len >= SMB_NAME_MAX - 4);	/* the room is used */
	assert_memory_equal(seen.name, name, 100);
	assert_non_null(strstr(seen.name, "\xe2\x80\xa6"));
	snprintf(want_tail, sizeof(want_tail), "DDDD\\evil.exe");
	assert_string_equal(seen.name + len - strlen(want_tail), want_tail);
	/* Start, U+2026 and end add up: nothing is invented. */
	assert_int_equal(strspn(seen.name, "D") + 3 +
		strlen(strstr(seen.name, "\xe2\x80\xa6") + 3), len);
	/* The response's name, kept in the session's smaller table, too. */
	assert_true(seen.response_flags & SMB_FACT_F_TRUNCATED);
	len = strlen(seen.response_name);
	assert_true(len < SMB_NAME_MAX / 2);
	assert_memory_equal(seen.response_name, name, 20);
	assert_string_equal(seen.response_name + len - strlen(want_tail),
		want_tail);

	/* A name that fits is whole and not flagged. */
	memset(name, 'D', 200);
	strcpy(name + 200, "\\short.exe");
	parse_create_name(name, &seen);
	assert_false(seen.flags & SMB_FACT_F_TRUNCATED);
	assert_string_equal(seen.name, name);
	assert_string_equal(seen.response_name + strlen(seen.response_name) -
		strlen("\\short.exe"), "\\short.exe");

	/* Exactly SMB_NAME_MAX - 1 bytes fits; one more does not. */
	memset(name, 'E', SMB_NAME_MAX - 1);
	name[SMB_NAME_MAX - 1] = '\0';
	parse_create_name(name, &seen);
	assert_false(seen.flags & SMB_FACT_F_TRUNCATED);
	assert_string_equal(seen.name, name);
	name[SMB_NAME_MAX - 1] = 'F';
	name[SMB_NAME_MAX] = '\0';
	parse_create_name(name, &seen);
	assert_true(seen.flags & SMB_FACT_F_TRUNCATED);
	assert_int_equal(seen.name[strlen(seen.name) - 1], 'F');
	assert_int_equal(seen.name[0], 'E');
}

static void
test_create_and_write(void **state)
{
	static const uint8_t zero[16];
	struct recorder r = { 0 };
	const struct kept_fact *c = NULL, *w = NULL;
	int i;

	(void)state;
	parse_capture("psexec_smb2.pcap", 0, &r);
	for (i = 0; i < r.n; i++) {
		const struct kept_fact *k = &r.v[i];

		if (k->f.type == SMB_FACT_CREATE && c == NULL &&
		    k->f.dir == SMB_DIR_TO_CLIENT &&
		    strcmp(k->f.u.file.name, "QmEyydJf.exe") == 0)
			c = k;
		if (k->f.type == SMB_FACT_WRITE && w == NULL &&
		    k->f.dir == SMB_DIR_TO_SERVER &&
		    strcmp(k->f.u.file.name, "QmEyydJf.exe") == 0)
			w = k;
	}
	assert_non_null(c);
	assert_string_equal(c->f.u.file.share, "ADMIN$");
	assert_int_equal(c->f.u.file.is_pipe, 0);
	assert_int_equal(c->f.status, 0);
	assert_int_equal(c->f.u.file.disposition, 5);	/* overwrite_if */
	assert_int_equal(c->f.u.file.desired_access, 0x00000002);
	assert_memory_not_equal(c->f.u.file.file_id, zero, 16);
	assert_non_null(w);
	assert_int_equal(w->f.u.file.length, 56320);
	assert_int_equal(w->f.u.file.offset, 0);
	assert_memory_equal(w->f.u.file.file_id, c->f.u.file.file_id, 16);
	assert_string_equal(w->f.u.file.share, "ADMIN$");
	recorder_free(&r);
}

static void
test_dcerpc_over_pipe(void **state)
{
	static const uint8_t svcctl[16] = {
		0x36, 0x7a, 0xbb, 0x81, 0x98, 0x44, 0x35, 0xf1,
		0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10, 0x03,
	};
	static const uint16_t want[] = { 15, 16, 12 };
	struct recorder r = { 0 };
	int i, binds = 0, calls = 0;

	(void)state;
	parse_capture("psexec_smb2.pcap", 0, &r);
	for (i = 0; i < r.n; i++) {
		const struct kept_fact *k = &r.v[i];

		if (k->f.type != SMB_FACT_DCERPC ||
		    strcmp(k->f.u.dcerpc.pipe, "svcctl") != 0)
			continue;
		if (k->rpc_type == DCERPC_FACT_BIND) {
			assert_memory_equal(k->rpc_uuid, svcctl, 16);
			binds++;
		}
		if (k->rpc_type == DCERPC_FACT_REQUEST) {
			assert_true(calls < 3);
			assert_int_equal(k->rpc_opnum, want[calls]);
			assert_int_equal(k->f.command, SMB2_WRITE);
			calls++;
		}
	}
	assert_int_equal(binds, 1);
	assert_int_equal(calls, 3);
	recorder_free(&r);
}

static void
test_smb1_psexec(void **state)
{
	struct recorder r = { 0 };
	const struct kept_fact *k;
	struct smb_counters cnt;
	int i, opnums = 0, creates = 0, writes = 0;

	(void)state;
	cnt = parse_capture("psexec_smb1.pcap", 0, &r);
	assert_int_equal(cnt.errors, 0);
	assert_true(cnt.smb1_messages > 0);
	assert_int_equal(cnt.smb2_messages, 0);
	k = find_fact(&r, SMB_FACT_LOGON, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(k);
	assert_int_equal(k->f.version, 1);
	assert_int_equal(k->f.u.logon.success, 1);
	assert_string_equal(k->f.u.logon.user, "root");
	assert_string_equal(k->f.u.logon.domain, "LAB");
	assert_int_equal(k->f.u.logon.dialect, SMB_DIALECT_SMB1_NT_LM_012);
	for (i = 0; i < r.n; i++) {
		k = &r.v[i];
		if (k->f.type == SMB_FACT_CREATE &&
		    k->f.dir == SMB_DIR_TO_CLIENT &&
		    strcmp(k->f.u.file.name, "rmwKvQWU.exe") == 0) {
			assert_string_equal(k->f.u.file.share, "ADMIN$");
			creates++;
		}
		if (k->f.type == SMB_FACT_WRITE &&
		    k->f.dir == SMB_DIR_TO_SERVER &&
		    strcmp(k->f.u.file.name, "rmwKvQWU.exe") == 0)
			writes++;
		if (k->f.type == SMB_FACT_DCERPC &&
		    k->rpc_type == DCERPC_FACT_REQUEST &&
		    strcmp(k->f.u.dcerpc.pipe, "\\svcctl") == 0) {
			assert_int_equal(k->f.command, SMB1_COM_WRITE_ANDX);
			if (k->rpc_opnum == 15 || k->rpc_opnum == 12)
				opnums++;
		}
	}
	assert_int_equal(creates, 1);
	assert_true(writes >= 1);
	assert_int_equal(opnums, 2);
	recorder_free(&r);
}

/*
 * An AndX chain built from captured bytes: the TREE_CONNECT_ANDX request
 * of psexec_smb1 frame 12 followed by the NT_CREATE_ANDX block of frame
 * 14, under one header.
 */
static void
test_smb1_andx_chain(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct segment *tc, *cr;
	const struct kept_fact *k;
	uint8_t rec[512];
	uint32_t tc_block, cr_block, len, seq = 1000;
	int i, commands = 0;

	(void)state;
	capture_load("psexec_smb1.pcap", &cap);
	tc = capture_frame(&cap, 12);
	cr = capture_frame(&cap, 14);
	assert_int_equal(tc->data[4 + 4], SMB1_COM_TREE_CONNECT_ANDX);
	assert_int_equal(cr->data[4 + 4], SMB1_COM_NT_CREATE_ANDX);
	tc_block = tc->len - 4 - 32;
	cr_block = cr->len - 4 - 32;
	/* Relocating keeps Unicode alignment only if the offset stays even. */
	assert_int_equal(tc_block % 2, 0);
	len = 32 + tc_block + cr_block;
	memcpy(rec + 4, tc->data + 4, 32 + tc_block);
	memcpy(rec + 4 + 32 + tc_block, cr->data + 4 + 32, cr_block);
	rec[4 + 33] = SMB1_COM_NT_CREATE_ANDX;		/* AndXCommand */
	put_le16(rec + 4 + 35, (uint16_t)(32 + tc_block));	/* AndXOffset */
	set_nbss_len(rec, len);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, rec, len + 4, &r);

	for (i = 0; i < r.n; i++) {
		k = &r.v[i];
		if (k->f.type == SMB_FACT_COMMAND) {
			assert_true(k->f.flags & SMB_FACT_F_COMPOUND);
			commands++;
		}
	}
	assert_int_equal(commands, 2);
	k = find_fact(&r, SMB_FACT_TREE_CONNECT, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_string_equal(k->f.u.tree.path, "\\\\198.18.2.20\\IPC$");
	k = find_fact(&r, SMB_FACT_CREATE, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_string_equal(k->f.u.file.name, "\\svcctl");
	assert_int_equal(k->f.command, SMB1_COM_NT_CREATE_ANDX);
	assert_int_equal(count_facts(&r, SMB_FACT_ERROR, SMB_DIR_TO_SERVER),
		0);

	/* An AndXOffset pointing backwards is a chain error, not a loop. */
	recorder_free(&r);
	put_le16(rec + 4 + 35, 20);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, rec, len + 4, &r);
	k = find_fact(&r, SMB_FACT_ERROR, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.error.reason, SMB_ERR_CHAIN);
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

/*
 * An SMB1 NEGOTIATE request offering the dialect strings <names>, fed as
 * the next bytes to the server.
 */
static void
feed_smb1_negotiate_request(struct smb_state *st, uint32_t *seq,
	const char *const *names, unsigned int count, struct recorder *r)
{
	static uint8_t rec[8192];
	uint32_t len = 4 + 32 + 1 + 2, bytes = 0;
	unsigned int i;

	memset(rec, 0, 4 + 32 + 3);
	memcpy(rec + 4, "\xffSMB", 4);
	rec[4 + 4] = 0x72;		/* NEGOTIATE */
	rec[4 + 10] = 0x01;		/* flags2: long names */
	for (i = 0; i < count; i++) {
		size_t n = strlen(names[i]) + 1;

		assert_true(len + 1 + n <= sizeof(rec));
		rec[len++] = 0x02;
		memcpy(rec + len, names[i], n);
		len += (uint32_t)n;
		bytes += 1 + (uint32_t)n;
	}
	rec[4 + 32] = 0;		/* WordCount */
	put_le16(rec + 4 + 33, (uint16_t)bytes);
	set_nbss_len(rec, len - 4);
	feed_record(st, SMB_DIR_TO_SERVER, seq, rec, len, r);
}

/* The NT LM 0.12 shaped response choosing DialectIndex <index>. */
static void
feed_smb1_negotiate_response(struct smb_state *st, uint32_t *seq,
	uint16_t index, struct recorder *r)
{
	uint8_t rec[4 + 32 + 1 + 34 + 2];

	memset(rec, 0, sizeof(rec));
	memcpy(rec + 4, "\xffSMB", 4);
	rec[4 + 4] = 0x72;
	rec[4 + 9] = 0x80;		/* flags: reply */
	rec[4 + 32] = 17;		/* WordCount */
	put_le16(rec + 4 + 33, index);
	set_nbss_len(rec, sizeof(rec) - 4);
	feed_record(st, SMB_DIR_TO_CLIENT, seq, rec, sizeof(rec), r);
}

/*
 * Every SMB1 dialect string is named, and the response's DialectIndex
 * names the string at that place however many were offered (clients
 * offer 10 or more; the parser once kept 8).
 */
static void
test_smb1_dialects(void **state)
{
	static const struct {
		const char *name;
		uint16_t code;
	} table[] = {
		{ "PC NETWORK PROGRAM 1.0", SMB_DIALECT_SMB1_PC_NETWORK_PROGRAM },
		{ "PCLAN1.0", SMB_DIALECT_SMB1_PCLAN },
		{ "MICROSOFT NETWORKS 1.03", SMB_DIALECT_SMB1_MSNET_103 },
		{ "MICROSOFT NETWORKS 3.0", SMB_DIALECT_SMB1_MSNET_30 },
		{ "LANMAN1.0", SMB_DIALECT_SMB1_LANMAN_10 },
		{ "Windows for Workgroups 3.1a", SMB_DIALECT_SMB1_WFW_31A },
		{ "LM1.2X002", SMB_DIALECT_SMB1_LM12X002 },
		{ "DOS LM1.2X002", SMB_DIALECT_SMB1_DOS_LM12X002 },
		{ "DOS LANMAN2.1", SMB_DIALECT_SMB1_DOS_LANMAN_21 },
		{ "LANMAN2.1", SMB_DIALECT_SMB1_LANMAN_21 },
		{ "Samba", SMB_DIALECT_SMB1_SAMBA },
		{ "NT LANMAN 1.0", SMB_DIALECT_SMB1_NT_LANMAN_10 },
		{ "NT LM 0.12", SMB_DIALECT_SMB1_NT_LM_012 },
		{ "XENIX CORE", SMB_DIALECT_SMB1_XENIX_CORE },
		{ "Cairo 0.xa", SMB_DIALECT_SMB1_CAIRO },
		{ "SMB 2.002", 0x0202 },
		{ "SMB 2.???", SMB_DIALECT_SMB2_WILDCARD },
	};
	const char *names[40];
	unsigned int i, n = sizeof(table) / sizeof(table[0]);
	const struct kept_fact *k;

	(void)state;
	/* The table, both ways. */
	for (i = 0; i < n; i++) {
		assert_int_equal(smb1_dialect_code(
			(const uint8_t *)table[i].name,
			(uint32_t)strlen(table[i].name)), table[i].code);
		if (smb_dialect_is_smb1(table[i].code))
			assert_string_equal(smb_dialect_name(table[i].code),
				table[i].name);
	}
	assert_int_equal(smb1_dialect_code((const uint8_t *)"NT LM 0.1", 9),
		SMB_DIALECT_SMB1_OTHER);
	assert_int_equal(smb1_dialect_code((const uint8_t *)"nt lm 0.12", 10),
		SMB_DIALECT_SMB1_OTHER);
	assert_int_equal(smb1_dialect_code((const uint8_t *)"", 0),
		SMB_DIALECT_SMB1_OTHER);
	assert_true(smb_dialect_is_smb1(SMB_DIALECT_SMB1_OTHER));
	assert_false(smb_dialect_is_smb1(0));
	assert_false(smb_dialect_is_smb1(0x0202));
	assert_string_equal(smb_dialect_name(0x0311), "3.1.1");
	assert_null(smb_dialect_name(0));
	assert_null(smb_dialect_name(0x0123));

	/*
	 * Each place of a 34-string offer (every string twice, an unknown
	 * one in the middle): the response names what is there.
	 */
	for (i = 0; i < 2 * n; i++)
		names[i] = table[i % n].name;
	names[2 * n] = "Unknown 9.9";
	for (i = 0; i <= 2 * n; i++) {
		struct smb_state *st = state_new();
		struct recorder r = { 0 };
		uint32_t cseq = 1, sseq = 1;
		uint16_t expect = i == 2 * n ? SMB_DIALECT_SMB1_OTHER :
			table[i % n].code;

		feed_smb1_negotiate_request(st, &cseq, names, 2 * n + 1, &r);
		k = find_fact(&r, SMB_FACT_NEGOTIATE, SMB_DIR_TO_SERVER, 0);
		assert_non_null(k);
		assert_int_equal(k->f.u.negotiate.offered, 2 * n + 1);
		assert_int_equal(k->f.u.negotiate.dialect_count,
			SMB_DIALECTS_MAX);
		assert_int_equal(k->f.u.negotiate.dialects[12],
			SMB_DIALECT_SMB1_NT_LM_012);
		feed_smb1_negotiate_response(st, &sseq, (uint16_t)i, &r);
		k = find_fact(&r, SMB_FACT_NEGOTIATE, SMB_DIR_TO_CLIENT, 0);
		assert_non_null(k);
		if (k->f.u.negotiate.chosen != expect)
			fail_msg("place %u (%s): chosen 0x%04x, expected 0x%04x",
				i, names[i], k->f.u.negotiate.chosen, expect);
		assert_int_equal(count_facts(&r, SMB_FACT_ERROR,
			SMB_DIR_TO_CLIENT), 0);
		recorder_free(&r);
		free(st);
	}

	/* Past the offer, and 0xFFFF ("none of them"): no dialect. */
	for (i = 0; i < 2; i++) {
		struct smb_state *st = state_new();
		struct recorder r = { 0 };
		uint32_t cseq = 1, sseq = 1;

		feed_smb1_negotiate_request(st, &cseq, names, 10, &r);
		feed_smb1_negotiate_response(st, &sseq, i == 0 ? 10 : 0xffff,
			&r);
		k = find_fact(&r, SMB_FACT_NEGOTIATE, SMB_DIR_TO_CLIENT, 0);
		assert_non_null(k);
		assert_int_equal(k->f.u.negotiate.chosen, 0);
		recorder_free(&r);
		free(st);
	}
}

static void
test_nbss_port139(void **state)
{
	struct recorder r = { 0 };
	const struct kept_fact *k;

	(void)state;
	parse_capture("nbss_port139.pcap", 0, &r);
	k = find_fact(&r, SMB_FACT_NBSS_SESSION, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.nbss.type, 0x81);
	assert_string_equal(k->f.u.nbss.called, "198.18.2.20<20>");
	assert_string_equal(k->f.u.nbss.calling, "VM<00>");
	k = find_fact(&r, SMB_FACT_NBSS_SESSION, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.nbss.type, 0x82);
	k = find_fact(&r, SMB_FACT_LOGON, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.logon.success, 1);
	assert_string_equal(k->f.u.logon.user, "bob");
	recorder_free(&r);
}

static void
test_encrypted(void **state)
{
	struct recorder r = { 0 };
	const struct kept_fact *logon, *k;
	struct smb_counters cnt;
	int i, sealed = 0;

	(void)state;
	cnt = parse_capture("psexec_smb3_enc.pcap", 0, &r);
	logon = find_fact(&r, SMB_FACT_LOGON, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(logon);
	assert_string_equal(logon->f.u.logon.user, "root");
	for (i = 0; i < r.n; i++) {
		k = &r.v[i];
		if (k->f.type != SMB_FACT_ENCRYPTED)
			continue;
		assert_int_equal(k->f.session_id, logon->f.session_id);
		assert_true(k->f.u.transform.original_size > 0);
		assert_int_equal(k->f.u.transform.record_size,
			k->f.u.transform.original_size + 52 + 4);
		sealed++;
	}
	assert_int_equal(sealed, 57);
	assert_int_equal(cnt.encrypted, 57);
	/* Nothing of the sealed psexec leaks out as a tree or a create. */
	assert_int_equal(count_facts(&r, SMB_FACT_TREE_CONNECT,
		SMB_DIR_TO_SERVER), 0);
	assert_int_equal(cnt.errors, 0);
	recorder_free(&r);
}

static void
test_interim_pending(void **state)
{
	struct recorder r = { 0 };
	int i, interim = 0, async_reads = 0;

	(void)state;
	parse_capture("psexec_smb2.pcap", 0, &r);
	for (i = 0; i < r.n; i++) {
		const struct kept_fact *k = &r.v[i];

		if (k->f.type == SMB_FACT_COMMAND &&
		    k->f.status == SMB_STATUS_PENDING) {
			assert_true(k->f.flags & SMB_FACT_F_ASYNC);
			interim++;
		}
		/* The final async response still pairs with its READ. */
		if (k->f.type == SMB_FACT_READ &&
		    (k->f.flags & SMB_FACT_F_ASYNC)) {
			assert_true(k->f.flags & SMB_FACT_F_PAIRED);
			assert_int_equal(k->f.status, 0);
			assert_true(strcmp(k->f.u.file.name, "srvsvc") == 0 ||
				strcmp(k->f.u.file.name, "svcctl") == 0);
			async_reads++;
		}
	}
	assert_int_equal(interim, 2);
	assert_int_equal(async_reads, 2);
	recorder_free(&r);
}

/* Same facts whatever the segmentation, and retransmissions dropped. */
static void
check_feed_modes(const char *name, int conn)
{
	struct capture cap;
	struct recorder whole = { 0 }, other = { 0 };
	enum feed_mode modes[] = { FEED_BYTES, FEED_SPLIT, FEED_TWICE };
	struct smb_state *st = state_new();
	struct smb_counters k;
	uint64_t bytes = 0;
	size_t m;
	int i;

	capture_load(name, &cap);
	run_capture(&cap, conn, FEED_WHOLE, 0, st, &whole);
	assert_true(whole.n > 0);
	for (i = 0; i < cap.count; i++)
		if (cap.segs[i].conn == conn)
			bytes += cap.segs[i].len;
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		smb_state_release(st);
		state_init(st, test_pool());
		run_capture(&cap, conn, modes[m], 0, st, &other);
		assert_same_facts(&whole, &other);
		smb_state_counters(st, &k);
		assert_int_equal(k.bytes, bytes);
		assert_int_equal(k.retransmitted_bytes,
			modes[m] == FEED_TWICE ? bytes : 0);
		assert_int_equal(k.resyncs, 0);
		recorder_free(&other);
	}
	recorder_free(&whole);
	state_free(st);
	capture_free(&cap);
}

static void
test_segmentation_invariance(void **state)
{
	(void)state;
	check_feed_modes("psexec_smb2.pcap", 0);
	check_feed_modes("psexec_smb1.pcap", 0);
	check_feed_modes("smb2_basic.pcap", 0);
	check_feed_modes("nbss_port139.pcap", 0);
	check_feed_modes("psexec_smb3_enc.pcap", 0);
}

/*
 * Every segment of connection 0 of <name> cut in two at byte <k>, for
 * every <k> a segment has: the facts of the whole capture each time. A
 * message prefix left in flight by a cut moves to a buffer chunk and goes
 * back when the message is whole; none is held at the end.
 */
static void
check_every_cut(const char *name)
{
	struct capture cap;
	struct recorder whole = { 0 }, cut = { 0 };
	struct smb_state *st = state_new();
	struct chunk_counters before, after;
	uint64_t held = 0;
	uint32_t longest = 0, k;
	int i;

	capture_load(name, &cap);
	run_capture(&cap, 0, FEED_WHOLE, 0, st, &whole);
	assert_true(whole.n > 0);
	for (i = 0; i < cap.count; i++)
		if (cap.segs[i].conn == 0 && cap.segs[i].len > longest)
			longest = cap.segs[i].len;
	for (k = 1; k < longest; k++) {
		smb_state_release(st);
		chunk_pool_counters(test_pool(), &before);
		state_init(st, test_pool());
		for (i = 0; i < cap.count; i++) {
			const struct segment *sg = &cap.segs[i];
			uint32_t at = k < sg->len ? k : sg->len;

			if (sg->conn != 0)
				continue;
			assert_int_equal(smb_feed(st, sg->dir, sg->seq,
				sg->data, at, sg->ts_ns, record_fact, &cut), 0);
			assert_int_equal(smb_feed(st, sg->dir, sg->seq + at,
				sg->data + at, sg->len - at, sg->ts_ns,
				record_fact, &cut), 0);
		}
		assert_same_facts(&whole, &cut);
		chunk_pool_counters(test_pool(), &after);
		held += after.cls[SMB_CHUNK_BUFFER].allocs -
			before.cls[SMB_CHUNK_BUFFER].allocs;
		assert_int_equal(after.cls[SMB_CHUNK_BUFFER].in_use,
			before.cls[SMB_CHUNK_BUFFER].in_use);
		recorder_free(&cut);
	}
	assert_true(held > 0);
	recorder_free(&whole);
	state_free(st);
	capture_free(&cap);
}

static void
test_cut_at_every_byte(void **state)
{
	(void)state;
	check_every_cut("psexec_smb2.pcap");
	check_every_cut("psexec_smb1.pcap");
	check_every_cut("nbss_port139.pcap");
}

/*
 * A session whose share cannot hold a buffer chunk: each message prefix
 * left in flight is passed over, reported (SMB_ERR_NO_MEMORY) and counted
 * by the pool; whole messages still parse, nothing crashes, nothing stays
 * held.
 */
static void
test_buffer_refused(void **state)
{
	struct chunk_pool_params params = {
		.budget = 1u << 20,
		.owner_limit = SMB_CHUNK_BUFFER_SIZE - 1,
	};
	struct recorder r = { 0 };
	struct smb_state *st = state_alloc();
	struct chunk_counters pc;
	struct chunk_pool *pool;
	struct capture cap;
	int i, lost = 0;

	(void)state;
	assert_non_null(st);
	smb_chunk_params(&params);
	pool = chunk_pool_create(&params);
	assert_non_null(pool);
	capture_load("psexec_smb2.pcap", &cap);

	/* Whole segments: most prefixes never leave the call. */
	state_init(st, pool);
	run_capture(&cap, 0, FEED_WHOLE, 0, st, &r);
	assert_true(count_facts(&r, SMB_FACT_CREATE, SMB_DIR_TO_CLIENT) > 0);
	smb_state_release(st);
	recorder_free(&r);

	/* Byte by byte: every prefix would need a chunk. */
	state_init(st, pool);
	run_capture(&cap, 0, FEED_BYTES, 0, st, &r);
	for (i = 0; i < r.n; i++)
		if (r.v[i].f.type == SMB_FACT_ERROR &&
		    r.v[i].f.u.error.reason == SMB_ERR_NO_MEMORY)
			lost++;
	assert_true(lost > 0);
	assert_string_equal(smb_error_name(SMB_ERR_NO_MEMORY), "no_memory");
	chunk_pool_counters(pool, &pc);
	assert_true(pc.cls[SMB_CHUNK_BUFFER].refused_owner > 0);
	assert_int_equal(pc.cls[SMB_CHUNK_BUFFER].allocs, 0);
	smb_state_release(st);
	chunk_pool_counters(pool, &pc);
	assert_int_equal(pc.in_use_bytes, 0);
	recorder_free(&r);
	capture_free(&cap);
	free(st);
	chunk_pool_free(pool);
}

/* A partial retransmission overlapping new bytes keeps only the new ones. */
static void
test_overlapping_retransmission(void **state)
{
	struct capture cap;
	struct recorder whole = { 0 }, other = { 0 };
	struct smb_state *st = state_new();
	struct smb_counters k;
	uint32_t rng = 7;
	int i;

	(void)state;
	capture_load("smb2_basic.pcap", &cap);
	run_capture(&cap, 0, FEED_WHOLE, 0, st, &whole);
	smb_state_release(st);
	state_init(st, test_pool());
	for (i = 0; i < cap.count; i++) {
		const struct segment *sg = &cap.segs[i];
		uint32_t half = sg->len / 2;

		if (sg->conn != 0)
			continue;
		/* First half, then the whole segment again. */
		smb_feed(st, sg->dir, sg->seq, sg->data, half, sg->ts_ns,
			record_fact, &other);
		feed_segment(st, sg, FEED_WHOLE, &rng, &other);
	}
	assert_same_facts(&whole, &other);
	smb_state_counters(st, &k);
	assert_true(k.retransmitted_bytes > 0);
	recorder_free(&whole);
	recorder_free(&other);
	state_free(st);
	capture_free(&cap);
}

/*
 * Connection 0 of <name> fed as a sender that retransmits: each segment's
 * first half, then the whole segment again (its first half a
 * retransmission, overlapping what was taken). Inside a long body the
 * halves are passed over without a parse run and the overlaps are not:
 * facts, bytes taken, bytes passed over and pipe bytes as the plain feed
 * gives them, the overlaps counted retransmitted.
 */
static void
check_overlapping_halves(const char *name)
{
	struct capture cap;
	struct recorder whole = { 0 }, overlapped = { 0 };
	struct smb_state *st = state_new();
	struct smb_counters plain, resent;
	uint64_t halves = 0;
	int i;

	capture_load(name, &cap);
	run_capture(&cap, 0, FEED_WHOLE, 0, st, &whole);
	smb_state_counters(st, &plain);
	/* The capture carries bulk data, or this checks nothing. */
	assert_true(plain.skipped_bytes > 0);
	smb_state_release(st);
	state_init(st, test_pool());
	for (i = 0; i < cap.count; i++) {
		const struct segment *sg = &cap.segs[i];

		if (sg->conn != 0)
			continue;
		assert_int_equal(smb_feed(st, sg->dir, sg->seq, sg->data,
			sg->len / 2, sg->ts_ns, record_fact, &overlapped), 0);
		assert_int_equal(smb_feed(st, sg->dir, sg->seq, sg->data,
			sg->len, sg->ts_ns, record_fact, &overlapped), 0);
		halves += sg->len / 2;
	}
	assert_same_facts(&whole, &overlapped);
	smb_state_counters(st, &resent);
	assert_int_equal(resent.bytes, plain.bytes);
	assert_int_equal(resent.skipped_bytes, plain.skipped_bytes);
	assert_int_equal(resent.pipe_bytes, plain.pipe_bytes);
	assert_int_equal(resent.retransmitted_bytes,
		plain.retransmitted_bytes + halves);
	recorder_free(&whole);
	recorder_free(&overlapped);
	state_free(st);
	capture_free(&cap);
}

static void
test_body_skip_with_overlaps(void **state)
{
	(void)state;
	/* A 56 KB WRITE of a file, and svcctl calls over a pipe. */
	check_overlapping_halves("psexec_smb2.pcap");
	/* READ responses of a 3 MB file. */
	check_overlapping_halves("benign_copy_smb2.pcap");
	/* LSA lookups answered in pipe READs longer than a message prefix:
	 * pipe bytes inside a passed-over body go to the DCE/RPC parser. */
	check_overlapping_halves("lookupsid_dc.pcap");
}

static void
test_gap_in_bulk_is_skipped(void **state)
{
	struct capture cap;
	struct recorder whole = { 0 }, lossy = { 0 };
	struct smb_state *st = state_new();
	struct smb_counters k;

	(void)state;
	capture_load("psexec_smb2.pcap", &cap);
	run_capture(&cap, 0, FEED_WHOLE, 0, st, &whole);
	/* Frame 60 is in the middle of the 56 KB WRITE data: losing it
	 * loses nothing the parser reads. */
	smb_state_release(st);
	state_init(st, test_pool());
	run_capture(&cap, 0, FEED_WHOLE, 60, st, &lossy);
	assert_same_facts(&whole, &lossy);
	smb_state_counters(st, &k);
	assert_int_equal(k.gap_bytes, capture_frame(&cap, 60)->len);
	assert_int_equal(k.resyncs, 0);
	recorder_free(&whole);
	recorder_free(&lossy);
	state_free(st);
	capture_free(&cap);
}

static void
test_gap_resync(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct kept_fact *k;
	struct smb_counters cnt;
	int i, after = 0;

	(void)state;
	capture_load("smb2_basic.pcap", &cap);
	/* Frame 35 is the CREATE of readme.txt: its record is lost whole. */
	run_capture(&cap, 0, FEED_WHOLE, 35, st, &r);
	smb_state_counters(st, &cnt);
	assert_int_equal(cnt.resyncs, 1);
	assert_int_equal(cnt.gap_bytes, capture_frame(&cap, 35)->len);
	k = find_fact(&r, SMB_FACT_RESYNC, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.resync.gap_bytes,
		capture_frame(&cap, 35)->len);
	assert_int_equal(k->f.u.resync.skipped_bytes, 0);
	/* Parsing goes on: up.txt is still created and written. */
	for (i = 0; i < r.n; i++)
		if (r.v[i].f.type == SMB_FACT_WRITE &&
		    strcmp(r.v[i].f.u.file.name, "up.txt") == 0)
			after++;
	assert_int_equal(after, 2);
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

/*
 * Bytes lost inside a message of a known record length (a capture's snap
 * length cut the segment): the part collected is parsed as a prefix, the
 * rest passed over, and the next record read where the length says, with
 * no search for a record start.
 */
static void
test_gap_inside_message(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	struct smb_counters cnt;
	uint32_t rng = 1;
	int i, writes = 0;

	(void)state;
	capture_load("smb2_basic.pcap", &cap);
	/* Frame 45: WRITE of 3 bytes to up.txt; its data never arrives. */
	for (i = 0; i < cap.count; i++) {
		struct segment cut = cap.segs[i];

		if (cut.conn != 0)
			continue;
		if (cut.frame == 45)
			cut.len -= 3;
		feed_segment(st, &cut, FEED_WHOLE, &rng, &r);
		/* Told at once, as the gateway tells it of a cut segment. */
		if (cut.frame == 45)
			assert_int_equal(smb_feed(st, cut.dir, cut.seq + cut.len + 3,
				NULL, 0, cut.ts_ns, record_fact, &r), 0);
	}
	smb_state_counters(st, &cnt);
	assert_int_equal(cnt.resyncs, 0);
	assert_int_equal(cnt.gap_bytes, 3);
	assert_null(find_fact(&r, SMB_FACT_RESYNC, SMB_DIR_TO_SERVER, 0));
	/* The write is still seen, with its length, and so is its answer. */
	for (i = 0; i < r.n; i++) {
		const struct kept_fact *k = &r.v[i];

		if (k->f.type != SMB_FACT_WRITE ||
		    strcmp(k->f.u.file.name, "up.txt") != 0)
			continue;
		writes++;
		if (k->f.dir == SMB_DIR_TO_SERVER)
			assert_int_equal(k->f.u.file.length, 3);
	}
	assert_int_equal(writes, 2);
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

static void
test_midstream_pickup(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	struct smb_counters cnt;
	const struct kept_fact *k;
	int i, opnum12;

	(void)state;
	capture_load("psexec_smb2.pcap", &cap);
	/* Start inside the bulk WRITE (frame 60): nothing is known. */
	for (i = 0; i < cap.count; i++)
		if (cap.segs[i].frame >= 60)
			feed_segment(st, &cap.segs[i], FEED_WHOLE, NULL, &r);
	smb_state_counters(st, &cnt);
	/* Only the client side starts mid-record; the server side starts
	 * at the WRITE response, a record boundary. */
	assert_int_equal(cnt.resyncs, 1);
	assert_true(cnt.hunted_bytes > 0);
	assert_int_equal(cnt.errors, 0);
	/* svcctl opened after the pickup: its tree was not seen, but the
	 * DCE/RPC written to it makes it a pipe, so CreateServiceW shows. */
	k = find_fact(&r, SMB_FACT_CREATE, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(k);
	assert_string_equal(k->f.u.file.name, "svcctl");
	assert_int_equal(k->f.u.file.is_pipe, 0);
	k = find_rpc(&r, DCERPC_FACT_BIND, SMB_DIR_TO_SERVER);
	assert_non_null(k);
	assert_string_equal(k->f.u.dcerpc.pipe, "svcctl");
	opnum12 = 0;
	for (i = 0; i < r.n; i++)
		if (r.v[i].f.type == SMB_FACT_DCERPC &&
		    r.v[i].rpc_type == DCERPC_FACT_REQUEST &&
		    r.v[i].rpc_opnum == 12)
			opnum12++;
	assert_int_equal(opnum12, 1);
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

/* Compound: CREATE readme.txt + related CLOSE, from smb2_basic bytes. */
static void
test_smb2_compound(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct segment *cr, *cl;
	const struct kept_fact *k;
	uint8_t rec[1024];
	uint32_t first, second, seq = 1;

	(void)state;
	capture_load("smb2_basic.pcap", &cap);
	cr = capture_frame(&cap, 35);
	cl = capture_frame(&cap, 41);
	first = (cr->len - 4 + 7) & ~7u;
	second = cl->len - 4;
	memset(rec, 0, sizeof(rec));
	memcpy(rec + 4, cr->data + 4, cr->len - 4);
	memcpy(rec + 4 + first, cl->data + 4, second);
	put_le32(rec + 4 + 20, first);			/* NextCommand */
	put_le32(rec + 4 + first + 16, 0x4);		/* RELATED */
	put_le64(rec + 4 + first + 40, UINT64_MAX);	/* SessionId */
	put_le32(rec + 4 + first + 36, UINT32_MAX);	/* TreeId */
	memset(rec + 4 + first + 64 + 8, 0xff, 16);	/* FileId */
	set_nbss_len(rec, first + second);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, rec, first + second + 4, &r);

	k = find_fact(&r, SMB_FACT_CLOSE, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_true(k->f.flags & SMB_FACT_F_RELATED);
	assert_true(k->f.flags & SMB_FACT_F_COMPOUND);
	assert_string_equal(k->f.u.file.name, "readme.txt");
	assert_int_equal(k->f.session_id, get_le64(cr->data + 4 + 40));
	assert_int_equal(count_facts(&r, SMB_FACT_COMMAND, SMB_DIR_TO_SERVER),
		2);

	/* NextCommand beyond the record: a chain error. */
	recorder_free(&r);
	put_le32(rec + 4 + 20, 4096);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, rec, first + second + 4, &r);
	k = find_fact(&r, SMB_FACT_ERROR, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.error.reason, SMB_ERR_CHAIN);
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

/* The CREATE request of readme.txt (smb2_basic frame 35) as a template. */
static uint32_t
create_template(const struct capture *cap, uint8_t *rec)
{
	const struct segment *cr = capture_frame(cap, 35);

	memcpy(rec, cr->data, cr->len);
	return cr->len;
}

static void
test_utf16_names(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct kept_fact *k;
	uint8_t rec[2048];
	uint32_t len, seq = 1, i;

	(void)state;
	capture_load("smb2_basic.pcap", &cap);

	/* An unpaired high surrogate in place of the 'r' of readme.txt. */
	len = create_template(&cap, rec);
	put_le16(rec + 4 + 64 + 56, 0xd800);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, rec, len, &r);
	k = find_fact(&r, SMB_FACT_CREATE, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_string_equal(k->f.u.file.name, "\xef\xbf\xbd" "eadme.txt");
	recorder_free(&r);

	/* A surrogate pair (U+1F600) and a control character. */
	len = create_template(&cap, rec);
	put_le16(rec + 4 + 64 + 56, 0xd83d);
	put_le16(rec + 4 + 64 + 58, 0xde00);
	put_le16(rec + 4 + 64 + 60, 0x000a);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, rec, len, &r);
	k = find_fact(&r, SMB_FACT_CREATE, SMB_DIR_TO_SERVER, 0);
	assert_string_equal(k->f.u.file.name,
		"\xf0\x9f\x98\x80" "\xef\xbf\xbd" "dme.txt");
	recorder_free(&r);

	/* 400 characters: cut to the fact's array on a character boundary. */
	len = create_template(&cap, rec);
	for (i = 0; i < 400; i++)
		put_le16(rec + 4 + 64 + 56 + 2 * i, i % 2 ? 'a' : 0xe9);
	put_le16(rec + 4 + 64 + 46, 800);
	put_le32(rec + 4 + 64 + 48, 0);	/* no create contexts */
	put_le32(rec + 4 + 64 + 52, 0);
	len = 4 + 64 + 56 + 800;
	set_nbss_len(rec, len - 4);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, rec, len, &r);
	k = find_fact(&r, SMB_FACT_CREATE, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_true(k->f.flags & SMB_FACT_F_TRUNCATED);
	assert_true(strlen(k->f.u.file.name) < SMB_NAME_MAX);
	assert_true(strlen(k->f.u.file.name) >= SMB_NAME_MAX - 3);
	/* Ends on a whole character: 'a' or the last byte of U+00E9. */
	i = strlen(k->f.u.file.name);
	assert_true(k->f.u.file.name[i - 1] == 'a' ||
		(uint8_t)k->f.u.file.name[i - 1] == 0xa9);
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

/* Feeds <rec> after a good record and returns the first error fact. */
static const struct kept_fact *
first_error(struct smb_state *st, uint32_t *seq, const uint8_t *rec,
	uint32_t len, struct recorder *r)
{
	smb_state_release(st);
	state_init(st, test_pool());
	*seq = 1;
	feed_record(st, SMB_DIR_TO_SERVER, seq, rec, len, r);
	return find_fact(r, SMB_FACT_ERROR, SMB_DIR_TO_SERVER, 0);
}

static void
test_malformed(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct kept_fact *k;
	struct smb_counters cnt;
	const struct segment *auth;
	uint8_t rec[2048], good[2048];
	const uint8_t *ntlm;
	uint32_t len, glen, seq;
	uint8_t junk[40];

	(void)state;
	capture_load("smb2_basic.pcap", &cap);
	glen = create_template(&cap, good);

	/* Name offset beyond the message. */
	len = create_template(&cap, rec);
	put_le16(rec + 4 + 64 + 44, 0x400);
	k = first_error(st, &seq, rec, len, &r);
	assert_non_null(k);
	assert_int_equal(k->f.u.error.reason, SMB_ERR_BODY);
	assert_int_equal(k->f.command, SMB2_CREATE);
	recorder_free(&r);

	/* Record shorter than the create body it announces. */
	len = create_template(&cap, rec);
	set_nbss_len(rec, 64 + 20);
	k = first_error(st, &seq, rec, 4 + 64 + 20, &r);
	assert_non_null(k);
	assert_int_equal(k->f.u.error.reason, SMB_ERR_BODY);
	recorder_free(&r);

	/* SMB2 header with a wrong StructureSize. */
	len = create_template(&cap, rec);
	put_le16(rec + 4 + 4, 65);
	k = first_error(st, &seq, rec, len, &r);
	assert_non_null(k);
	assert_int_equal(k->f.u.error.reason, SMB_ERR_HEADER);
	recorder_free(&r);

	/* NTLMSSP user field pointing outside the blob (frame 11). */
	auth = capture_frame(&cap, 11);
	memcpy(rec, auth->data, auth->len);
	ntlm = memmem(rec, auth->len, "NTLMSSP", 8);
	assert_non_null(ntlm);
	put_le32((uint8_t *)ntlm + 36 + 4, 0xfff0);
	k = first_error(st, &seq, rec, auth->len, &r);
	assert_non_null(k);
	assert_int_equal(k->f.u.error.reason, SMB_ERR_SECURITY_BLOB);
	recorder_free(&r);

	/* After a good record: an unknown NBSS type, then a record too short
	 * for its protocol id; each is an error, then a resync finds the
	 * next good record. */
	smb_state_release(st);
	state_init(st, test_pool());
	seq = 1;
	feed_record(st, SMB_DIR_TO_SERVER, &seq, good, glen, &r);
	memset(junk, 0x42, sizeof(junk));
	feed_record(st, SMB_DIR_TO_SERVER, &seq, junk, sizeof(junk), &r);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, good, glen, &r);
	memcpy(junk, good, 8);
	set_nbss_len(junk, 36);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, junk, sizeof(junk), &r);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, good, glen, &r);
	smb_state_counters(st, &cnt);
	assert_int_equal(cnt.errors, 2);
	assert_int_equal(cnt.resyncs, 2);
	assert_int_equal(count_facts(&r, SMB_FACT_CREATE, SMB_DIR_TO_SERVER),
		3);
	k = find_fact(&r, SMB_FACT_ERROR, SMB_DIR_TO_SERVER, 0);
	assert_int_equal(k->f.u.error.reason, SMB_ERR_FRAMING);
	recorder_free(&r);

	/* Bad arguments. */
	assert_int_equal(smb_feed(NULL, SMB_DIR_TO_SERVER, 0, good, 1, 0,
		NULL, NULL), -EINVAL);
	assert_int_equal(smb_feed(st, 2, 0, good, 1, 0, NULL, NULL), -EINVAL);
	assert_int_equal(smb_feed(st, SMB_DIR_TO_SERVER, 0, NULL, 1, 0, NULL,
		NULL), -EINVAL);
	assert_int_equal(smb_feed(st, SMB_DIR_TO_SERVER, 0, NULL, 0, 0, NULL,
		NULL), 0);
	state_free(st);
	capture_free(&cap);
}

/* Counts error facts, to check the counter agrees. */
static void
count_errors(void *ctx, const struct smb_fact *f)
{
	uint64_t *n = ctx;

	if (f->type == SMB_FACT_ERROR)
		(*n)++;
}

/*
 * Every record of the captures, mutated at random (bytes overwritten,
 * lengths cut): the parser must not fault (run under a sanitizer to catch
 * over-reads) and must count every error it reports.
 */
static void
test_mutations(void **state)
{
	static const char *const names[] = {
		"psexec_smb2.pcap", "psexec_smb1.pcap", "smb2_basic.pcap",
	};
	struct smb_state *st = state_new();
	uint32_t rng = 12345;
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(names) / sizeof(names[0]); c++) {
		struct capture cap;
		int i, round;

		capture_load(names[c], &cap);
		for (i = 0; i < cap.count; i++) {
			const struct segment *sg = &cap.segs[i];
			uint8_t buf[2048];

			if (sg->len > sizeof(buf))
				continue;
			for (round = 0; round < 40; round++) {
				struct smb_counters k;
				uint64_t errors = 0;
				uint32_t len = sg->len, n, j;

				memcpy(buf, sg->data, len);
				rng = rng * 1103515245u + 12345u;
				n = 1 + (rng >> 16) % 8;
				for (j = 0; j < n; j++) {
					uint32_t pos;

					rng = rng * 1103515245u + 12345u;
					pos = (rng >> 8) % (len < 160 ? len : 160);
					buf[pos] = (uint8_t)(rng >> 24);
				}
				rng = rng * 1103515245u + 12345u;
				if ((rng >> 16) % 4 == 0)
					len = 1 + (rng >> 8) % len;
				smb_state_release(st);
				state_init(st, test_pool());
				smb_feed(st, sg->dir, 1, buf, len, 0,
					count_errors, &errors);
				smb_state_counters(st, &k);
				assert_int_equal(k.errors, errors);
			}
		}
		capture_free(&cap);
	}
	state_free(st);
}

/*
 * Feeds 20 TREE_CONNECT exchanges (TreeIds 0x1000 + i), then 20 requests
 * never answered (MessageIds 1000 + i), then the answer to the first.
 */
static void
tables_exercise(struct smb_state *st, struct recorder *r)
{
	struct capture cap;
	const struct segment *req, *resp;
	uint8_t q[512], a[512];
	uint32_t cseq = 1, sseq = 1, i;

	capture_load("psexec_smb2.pcap", &cap);
	req = capture_frame(&cap, 14);		/* TREE_CONNECT IPC$ */
	resp = capture_frame(&cap, 15);
	memcpy(q, req->data, req->len);
	memcpy(a, resp->data, resp->len);
	for (i = 0; i < 20; i++) {
		put_le64(q + 4 + 24, 100 + i);
		put_le64(a + 4 + 24, 100 + i);
		put_le32(a + 4 + 36, 0x1000 + i);
		feed_record(st, SMB_DIR_TO_SERVER, &cseq, q, req->len, r);
		feed_record(st, SMB_DIR_TO_CLIENT, &sseq, a, resp->len, r);
	}
	for (i = 0; i < 20; i++) {
		put_le64(q + 4 + 24, 1000 + i);
		feed_record(st, SMB_DIR_TO_SERVER, &cseq, q, req->len, r);
	}
	put_le64(a + 4 + 24, 1000);
	feed_record(st, SMB_DIR_TO_CLIENT, &sseq, a, resp->len, r);
	capture_free(&cap);
}

/* The tables grow as the connection needs: nothing is given up. */
static void
test_tables_grow(void **state)
{
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	struct smb_counters cnt;

	(void)state;
	tables_exercise(st, &r);
	smb_state_counters(st, &cnt);
	assert_int_equal(cnt.tree_evictions, 0);
	assert_int_equal(cnt.pending_evictions, 0);
	assert_int_equal(cnt.table_refusals, 0);
	assert_int_equal(cnt.unmatched_responses, 0);
	/* 20 trees and 19 requests still waiting (one answered, its
	 * entry given back once the call that took it returned). */
	assert_int_equal(cnt.entries, 20 + 19);
	assert_int_equal(count_facts(&r, SMB_FACT_TREE_CONNECT,
		SMB_DIR_TO_CLIENT), 21);
	recorder_free(&r);
	state_free(st);
}

/*
 * A session at its share of the pool keeps what it has, gives up its
 * least recently used entries for new ones (counted), never fails, and
 * gives every chunk back at the end.
 */
static void
test_tables_bounded(void **state)
{
	struct chunk_pool_params params = {
		.budget = 64u << 10,
		.owner_limit = 8 * SMB_CHUNK_ENTRY_SIZE,
	};
	struct recorder r = { 0 };
	struct smb_state *st = state_alloc();
	struct chunk_counters pc;
	struct chunk_pool *pool;
	struct smb_counters cnt;

	(void)state;
	assert_non_null(st);
	smb_chunk_params(&params);
	pool = chunk_pool_create(&params);
	assert_non_null(pool);
	state_init(st, pool);
	tables_exercise(st, &r);
	smb_state_counters(st, &cnt);
	/* Trees take small chunks, requests entry chunks: between 8 and
	 * 16 of them fill the share. */
	assert_true(cnt.entries >= 8 && cnt.entries <= 16);
	assert_true(cnt.entries_high >= 8 && cnt.entries_high <= 16);
	assert_true(cnt.tree_evictions > 0);
	assert_true(cnt.pending_evictions > 0);
	/* Every exchange was still reported. */
	assert_int_equal(count_facts(&r, SMB_FACT_TREE_CONNECT,
		SMB_DIR_TO_CLIENT), 21);
	/* The answer to a request given up is counted. */
	assert_int_equal(cnt.unmatched_responses, 1);
	chunk_pool_counters(pool, &pc);
	assert_true(pc.cls[SMB_CHUNK_ENTRY].refused_owner +
		pc.cls[SMB_CHUNK_SMALL].refused_owner > 0);
	assert_int_equal(pc.cls[SMB_CHUNK_ENTRY].refused_budget +
		pc.cls[SMB_CHUNK_SMALL].refused_budget, 0);
	assert_true(pc.in_use_bytes <= 8 * SMB_CHUNK_ENTRY_SIZE &&
		pc.in_use_bytes > 7 * SMB_CHUNK_ENTRY_SIZE);
	smb_state_release(st);
	smb_state_release(st);	/* twice is harmless */
	chunk_pool_counters(pool, &pc);
	assert_int_equal(pc.in_use_bytes, 0);
	assert_int_equal(pc.cls[SMB_CHUNK_ENTRY].in_use, 0);
	assert_int_equal(pc.cls[SMB_CHUNK_SMALL].in_use, 0);

	/* Without a pool nothing is kept, and nothing breaks. */
	recorder_free(&r);
	memset(&r, 0, sizeof(r));
	state_init(st, NULL);
	tables_exercise(st, &r);
	smb_state_counters(st, &cnt);
	assert_int_equal(cnt.entries, 0);
	assert_true(cnt.table_refusals > 0);
	assert_int_equal(count_facts(&r, SMB_FACT_TREE_CONNECT,
		SMB_DIR_TO_CLIENT), 21);
	smb_state_release(st);
	recorder_free(&r);
	free(st);
	chunk_pool_free(pool);
}

/*
 * busy_rpc_smb3.pcap (300 files, 8 bound pipes on one connection) fed in
 * full, then in a share of <share> bytes. Returns the closes (request and
 * response) that named their file, and counts the RPC requests that named
 * an interface and those that did not.
 */
static int
busy_closes(uint32_t share, int *calls_named, int *calls_unnamed,
	struct smb_counters *cnt, struct chunk_counters *pc)
{
	struct chunk_pool_params params = {
		.budget = 16u << 20,
		.owner_limit = share,
	};
	struct smb_state *st = state_alloc();
	struct recorder r = { 0 };
	struct chunk_pool *pool;
	struct capture cap;
	uint32_t rng = 1;
	int i, named = 0;
	static const uint8_t zero[16];

	assert_non_null(st);
	smb_chunk_params(&params);
	pool = chunk_pool_create(&params);
	assert_non_null(pool);
	state_init(st, pool);
	capture_load("busy_rpc_smb3.pcap", &cap);
	for (i = 0; i < cap.count; i++)
		feed_segment(st, &cap.segs[i], FEED_WHOLE, &rng, &r);
	*calls_named = *calls_unnamed = 0;
	for (i = 0; i < r.n; i++) {
		const struct kept_fact *k = &r.v[i];

		if (k->f.type == SMB_FACT_CLOSE &&
		    strncmp(k->f.u.file.name, "busy_", 5) == 0)
			named++;
		if (k->f.type == SMB_FACT_DCERPC &&
		    k->rpc_type == DCERPC_FACT_REQUEST) {
			if (memcmp(k->rpc_uuid, zero, 16) != 0 &&
			    k->f.u.dcerpc.pipe[0] != '\0')
				(*calls_named)++;
			else
				(*calls_unnamed)++;
		}
	}
	smb_state_counters(st, cnt);
	smb_state_release(st);
	chunk_pool_counters(pool, pc);
	recorder_free(&r);
	capture_free(&cap);
	free(st);
	chunk_pool_free(pool);
	return named;
}

/*
 * Past SMB_FILES_INDEXED open files the FileIds are hashed over lists; a
 * connection with 300 files and 8 pipes keeps every name and interface;
 * in a smaller share the pipes and the files used last are kept.
 */
static void
test_busy_connection(void **state)
{
	struct chunk_counters pc;
	struct smb_counters cnt;
	int named, unnamed, closes;

	(void)state;
	closes = busy_closes(512u << 10, &named, &unnamed, &cnt, &pc);
	assert_int_equal(closes, 600);
	assert_int_equal(named, 42);
	assert_int_equal(unnamed, 0);
	assert_int_equal(cnt.file_evictions + cnt.pipe_evictions +
		cnt.pending_evictions + cnt.tree_evictions, 0);
	assert_true(cnt.entries_high >= 300 + 8);
	assert_int_equal(cnt.pipes_high, 8);
	/* Everything went back, the file index too. */
	assert_int_equal(pc.in_use_bytes, 0);

	closes = busy_closes(32u << 10, &named, &unnamed, &cnt, &pc);
	assert_true(closes > 300 && closes < 600);
	assert_int_equal(named, 42);
	assert_int_equal(unnamed, 0);
	assert_true(cnt.file_evictions > 0);
	assert_true(pc.cls[SMB_CHUNK_ENTRY].refused_owner +
		pc.cls[SMB_CHUNK_SMALL].refused_owner > 0);
	assert_int_equal(pc.in_use_bytes, 0);

	/* Too small for the pipes: calls lose their interface, nothing
	 * breaks, everything goes back. */
	closes = busy_closes(3u << 10, &named, &unnamed, &cnt, &pc);
	assert_int_equal(named + unnamed, 42);
	assert_true(unnamed > 0);
	assert_int_equal(pc.in_use_bytes, 0);
}

static void
test_content_check(void **state)
{
	struct capture cap;
	const struct segment *sg;

	(void)state;
	capture_load("tunnel_port8445.pcap", &cap);
	sg = &cap.segs[0];
	assert_true(smb_looks_like_smb(sg->data, sg->len));
	assert_false(smb_looks_like_smb(sg->data + 1, sg->len - 1));
	assert_false(smb_looks_like_smb(sg->data, 3));
	capture_free(&cap);
	capture_load("nbss_port139.pcap", &cap);
	assert_true(smb_looks_like_smb(cap.segs[0].data, cap.segs[0].len));
	capture_free(&cap);
	assert_string_equal(smb_command_name(2, SMB2_CREATE), "CREATE");
	assert_string_equal(smb_command_name(1, SMB1_COM_NT_CREATE_ANDX),
		"NT_CREATE_ANDX");
	assert_string_equal(smb_command_name(2, 99), "?");
}

static void
test_benign_bulk_is_skipped(void **state)
{
	struct recorder r = { 0 };
	struct smb_counters cnt;

	(void)state;
	cnt = parse_capture("benign_copy_smb2.pcap", 0, &r);
	assert_int_equal(cnt.errors, 0);
	assert_int_equal(cnt.resyncs, 0);
	/* Nearly all of the 3 MB passes by length, never copied. */
	assert_true(cnt.skipped_bytes > cnt.bytes * 95 / 100);
	assert_null(find_tree(&r, "ADMIN$", 0));
	assert_non_null(find_tree(&r, "data", 0));
	recorder_free(&r);
}

/* Feeds connection 0 of <cap> up to (not including) frame <stop>. */
static void
run_until(const struct capture *cap, uint32_t stop, struct smb_state *st,
	struct recorder *r)
{
	int i;

	for (i = 0; i < cap->count && cap->segs[i].frame < stop; i++)
		if (cap->segs[i].conn == 0)
			feed_segment(st, &cap->segs[i], FEED_WHOLE, NULL, r);
}

/*
 * FSCTL_PIPE_TRANSCEIVE: the svcctl BIND that psexec_smb2 frame 93 WRITEs
 * and the BIND_ACK that frame 98 READs, carried in an IOCTL pair instead.
 */
static void
test_ioctl_pipe_transceive(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct segment *wr, *wresp, *rd;
	const struct kept_fact *k;
	uint8_t q[1024], a[1024];
	uint32_t in_len, out_len, seq;

	(void)state;
	capture_load("psexec_smb2.pcap", &cap);
	run_until(&cap, 93, st, &r);
	recorder_free(&r);
	wr = capture_frame(&cap, 93);
	wresp = capture_frame(&cap, 94);
	rd = capture_frame(&cap, 98);

	memset(q, 0, sizeof(q));
	memcpy(q, wr->data, 4 + 64);
	put_le16(q + 4 + 12, SMB2_IOCTL);
	in_len = wr->data[4 + 64 + 4] | wr->data[4 + 64 + 5] << 8;
	put_le16(q + 4 + 64, 57);
	put_le32(q + 4 + 64 + 4, SMB2_FSCTL_PIPE_TRANSCEIVE);
	memcpy(q + 4 + 64 + 8, wr->data + 4 + 64 + 16, 16);	/* FileId */
	put_le32(q + 4 + 64 + 24, 120);				/* InputOffset */
	put_le32(q + 4 + 64 + 28, in_len);
	put_le32(q + 4 + 64 + 44, 4280);			/* MaxOutput */
	put_le32(q + 4 + 64 + 48, 1);				/* IS_FSCTL */
	memcpy(q + 4 + 120, wr->data + 4 + wr->data[4 + 64 + 2], in_len);
	set_nbss_len(q, 120 + in_len);
	seq = wr->seq;
	feed_record(st, SMB_DIR_TO_SERVER, &seq, q, 4 + 120 + in_len, &r);

	memset(a, 0, sizeof(a));
	memcpy(a, wresp->data, 4 + 64);
	put_le16(a + 4 + 12, SMB2_IOCTL);
	out_len = rd->data[4 + 64 + 4] | rd->data[4 + 64 + 5] << 8;
	put_le16(a + 4 + 64, 49);
	put_le32(a + 4 + 64 + 4, SMB2_FSCTL_PIPE_TRANSCEIVE);
	memcpy(a + 4 + 64 + 8, wr->data + 4 + 64 + 16, 16);
	put_le32(a + 4 + 64 + 24, 112);
	put_le32(a + 4 + 64 + 32, 112);				/* OutputOffset */
	put_le32(a + 4 + 64 + 36, out_len);
	memcpy(a + 4 + 112, rd->data + 4 + rd->data[4 + 64 + 2], out_len);
	set_nbss_len(a, 112 + out_len);
	seq = wresp->seq;
	feed_record(st, SMB_DIR_TO_CLIENT, &seq, a, 4 + 112 + out_len, &r);

	k = find_fact(&r, SMB_FACT_IOCTL, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.file.ctl_code, SMB2_FSCTL_PIPE_TRANSCEIVE);
	assert_string_equal(k->f.u.file.name, "svcctl");
	assert_int_equal(k->f.u.file.is_pipe, 1);
	k = find_rpc(&r, DCERPC_FACT_BIND, SMB_DIR_TO_SERVER);
	assert_non_null(k);
	assert_int_equal(k->f.command, SMB2_IOCTL);
	assert_string_equal(k->f.u.dcerpc.pipe, "svcctl");
	k = find_rpc(&r, DCERPC_FACT_BIND_ACK, SMB_DIR_TO_CLIENT);
	assert_non_null(k);
	assert_int_equal(k->f.command, SMB2_IOCTL);
	assert_int_equal(k->rpc_status, 0);
	k = find_fact(&r, SMB_FACT_IOCTL, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(k);
	assert_true(k->f.flags & SMB_FACT_F_PAIRED);
	assert_int_equal(k->f.u.file.length, out_len);
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

/*
 * SMB1 TRANSACTION TransactNmPipe carrying the svcctl BIND that
 * psexec_smb1 frame 90 sends with WRITE_ANDX.
 */
static void
test_smb1_transact_nmpipe(void **state)
{
	static const uint8_t pipe_name[14] = {
		'\\', 0, 'P', 0, 'I', 0, 'P', 0, 'E', 0, '\\', 0, 0, 0,
	};
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct segment *wr;
	const struct kept_fact *k;
	const uint8_t *ww;
	uint8_t q[1024], *w;
	uint32_t n, seq;

	(void)state;
	capture_load("psexec_smb1.pcap", &cap);
	run_until(&cap, 90, st, &r);
	recorder_free(&r);
	wr = capture_frame(&cap, 90);
	assert_int_equal(wr->data[4 + 4], SMB1_COM_WRITE_ANDX);
	ww = wr->data + 4 + 33;		/* WRITE_ANDX words */
	n = ww[20] | ww[21] << 8;

	memset(q, 0, sizeof(q));
	memcpy(q, wr->data, 4 + 32);
	q[4 + 4] = SMB1_COM_TRANSACTION;
	q[4 + 32] = 16;			/* WordCount: 14 + 2 setup words */
	w = q + 4 + 33;
	put_le16(w + 2, (uint16_t)n);	/* TotalDataCount */
	put_le16(w + 6, 1024);		/* MaxDataCount */
	put_le16(w + 20, 84);		/* ParameterOffset */
	put_le16(w + 22, (uint16_t)n);	/* DataCount */
	put_le16(w + 24, 84);		/* DataOffset */
	w[26] = 2;			/* SetupCount */
	put_le16(w + 28, 0x26);		/* TransactNmPipe */
	memcpy(w + 30, ww + 4, 2);	/* FID */
	put_le16(q + 4 + 65, (uint16_t)(84 - 67 + n));	/* ByteCount */
	memcpy(q + 4 + 68, pipe_name, sizeof(pipe_name));	/* aligned */
	memcpy(q + 4 + 84, wr->data + 4 + (ww[22] | ww[23] << 8), n);
	set_nbss_len(q, 84 + n);
	seq = wr->seq;
	feed_record(st, SMB_DIR_TO_SERVER, &seq, q, 4 + 84 + n, &r);

	k = find_fact(&r, SMB_FACT_IOCTL, SMB_DIR_TO_SERVER, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.file.ctl_code, 0x26);
	assert_string_equal(k->f.u.file.name, "\\svcctl");
	k = find_rpc(&r, DCERPC_FACT_BIND, SMB_DIR_TO_SERVER);
	assert_non_null(k);
	assert_int_equal(k->f.command, SMB1_COM_TRANSACTION);
	assert_string_equal(k->f.u.dcerpc.pipe, "\\svcctl");
	assert_int_equal(count_facts(&r, SMB_FACT_ERROR, SMB_DIR_TO_SERVER),
		0);
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

static void
test_compression_transform(void **state)
{
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct kept_fact *k;
	uint8_t rec[4 + 16 + 40];
	uint32_t seq = 1;

	(void)state;
	memset(rec, 0x5a, sizeof(rec));
	set_nbss_len(rec, sizeof(rec) - 4);
	memcpy(rec + 4, "\xfcSMB", 4);
	put_le32(rec + 8, 1000);	/* OriginalCompressedSegmentSize */
	put_le16(rec + 12, 1);		/* LZNT1 */
	put_le16(rec + 14, 0);
	put_le32(rec + 16, 0);
	feed_record(st, SMB_DIR_TO_CLIENT, &seq, rec, sizeof(rec), &r);
	k = find_fact(&r, SMB_FACT_COMPRESSED, SMB_DIR_TO_CLIENT, 0);
	assert_non_null(k);
	assert_int_equal(k->f.u.transform.original_size, 1000);
	assert_int_equal(k->f.u.transform.algorithm, 1);
	assert_int_equal(k->f.u.transform.record_size, sizeof(rec));
	recorder_free(&r);
	state_free(st);
}

/*
 * Feeds smb2_basic frame 8 (a SESSION_SETUP request) with <blob> in place
 * of its NTLMSSP blob; returns the LOGON request fact, or NULL.
 */
static const struct kept_fact *
setup_with_blob(struct smb_state *st, struct recorder *r,
	struct capture *cap, const uint8_t *blob, size_t blob_len)
{
	const struct segment *ss;
	uint8_t rec[512];
	uint32_t seq = 1, off;

	capture_load("smb2_basic.pcap", cap);
	ss = capture_frame(cap, 8);
	assert_int_equal(ss->data[4 + 12], SMB2_SESSION_SETUP);
	off = ss->data[4 + 64 + 12] | ss->data[4 + 64 + 13] << 8;
	assert_true(4 + off + blob_len <= sizeof(rec));
	memcpy(rec, ss->data, 4 + off);
	memcpy(rec + 4 + off, blob, blob_len);
	put_le16(rec + 4 + 64 + 14, (uint16_t)blob_len);
	set_nbss_len(rec, off + (uint32_t)blob_len);
	feed_record(st, SMB_DIR_TO_SERVER, &seq, rec, 4 + off + blob_len, r);
	return find_fact(r, SMB_FACT_LOGON, SMB_DIR_TO_SERVER, 0);
}

/* A Kerberos AP-REQ in place of smb2_basic frame 8's NTLMSSP blob. */
static const uint8_t krb_blob[] = {
	0x60, 0x5a, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
	0xa0, 0x50, 0x30, 0x4e, 0xa2, 0x4c, 0x04, 0x4a,
	0x60, 0x48, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12,
	0x01, 0x02, 0x02, 0x01, 0x00,
	0x6e, 0x39, 0x30, 0x37,
	0xa0, 0x03, 0x02, 0x01, 0x05,		/* pvno 5 */
	0xa1, 0x03, 0x02, 0x01, 0x0e,		/* msg-type 14 */
	0xa2, 0x07, 0x03, 0x05, 0x00, 0x20, 0x00, 0x00, 0x00,
	0xa3, 0x1a, 0x61, 0x18, 0x30, 0x16,
	0xa0, 0x03, 0x02, 0x01, 0x05,		/* tkt-vno 5 */
	0xa1, 0x0d, 0x1b, 0x0b,			/* realm */
	'E', 'X', 'A', 'M', 'P', 'L', 'E', '.', 'C', 'O', 'M',
	0xa2, 0x00,
};

static void
test_kerberos_realm(void **state)
{
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct kept_fact *k;

	(void)state;
	k = setup_with_blob(st, &r, &cap, krb_blob, sizeof(krb_blob));
	assert_non_null(k);
	assert_int_equal(k->f.u.logon.mech, SMB_AUTH_KERBEROS);
	assert_string_equal(k->f.u.logon.realm, "EXAMPLE.COM");
	assert_string_equal(k->f.u.logon.user, "");
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

/*
 * The kind of a logon from the AP-REQ token's OID when the ticket is not
 * recognisable (here: version numbers other than 5, Microsoft's OID); an
 * SPNEGO offer that only lists the Kerberos OIDs is no logon.
 */
static void
test_kerberos_by_oid(void **state)
{
	static const uint8_t offer[] = {
		0x60, 0x2a, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
		0xa0, 0x20, 0x30, 0x1e, 0xa0, 0x1c, 0x30, 0x1a,
		0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
		0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
		0x06, 0x02, 0x2b, 0x06,
	};
	uint8_t blob[sizeof(krb_blob)];
	struct capture cap;
	struct recorder r = { 0 };
	struct smb_state *st = state_new();
	const struct kept_fact *k;

	(void)state;
	memcpy(blob, krb_blob, sizeof(blob));
	blob[25] = 0x82;	/* 1.2.840.48018.1.2.2 */
	/* pvno and tkt-vno 4: no ticket as the parser knows it */
	blob[41] = 0x04;
	blob[66] = 0x04;
	k = setup_with_blob(st, &r, &cap, blob, sizeof(blob));
	assert_non_null(k);
	assert_int_equal(k->f.u.logon.mech, SMB_AUTH_KERBEROS);
	assert_string_equal(k->f.u.logon.realm, "");
	recorder_free(&r);
	capture_free(&cap);

	memset(&r, 0, sizeof(r));
	smb_state_release(st);
	state_init(st, test_pool());
	assert_null(setup_with_blob(st, &r, &cap, offer, sizeof(offer)));
	recorder_free(&r);
	state_free(st);
	capture_free(&cap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_budget),
		cmocka_unit_test(test_logon_success),
		cmocka_unit_test(test_logon_failure),
		cmocka_unit_test(test_tree_connect),
		cmocka_unit_test(test_create_and_write),
		cmocka_unit_test(test_long_name_keeps_its_end),
		cmocka_unit_test(test_dcerpc_over_pipe),
		cmocka_unit_test(test_smb1_psexec),
		cmocka_unit_test(test_smb1_andx_chain),
		cmocka_unit_test(test_smb1_dialects),
		cmocka_unit_test(test_nbss_port139),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_interim_pending),
		cmocka_unit_test(test_segmentation_invariance),
		cmocka_unit_test(test_overlapping_retransmission),
		cmocka_unit_test(test_body_skip_with_overlaps),
		cmocka_unit_test(test_gap_in_bulk_is_skipped),
		cmocka_unit_test(test_gap_resync),
		cmocka_unit_test(test_gap_inside_message),
		cmocka_unit_test(test_midstream_pickup),
		cmocka_unit_test(test_smb2_compound),
		cmocka_unit_test(test_utf16_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_cut_at_every_byte),
		cmocka_unit_test(test_buffer_refused),
		cmocka_unit_test(test_tables_grow),
		cmocka_unit_test(test_tables_bounded),
		cmocka_unit_test(test_busy_connection),
		cmocka_unit_test(test_content_check),
		cmocka_unit_test(test_benign_bulk_is_skipped),
		cmocka_unit_test(test_ioctl_pipe_transceive),
		cmocka_unit_test(test_smb1_transact_nmpipe),
		cmocka_unit_test(test_compression_transform),
		cmocka_unit_test(test_kerberos_realm),
		cmocka_unit_test(test_kerberos_by_oid),
	};

	return cmocka_run_group_tests_name("smb", tests, NULL, NULL);
}
