/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compressed SMB 3.1.1 messages (COMPRESSION_TRANSFORM, 0xFC): a
 * TREE_CONNECT to \\srv\ADMIN$ and a CREATE of x.exe, compressed with
 * every algorithm, unchained and chained (with a Pattern_V1 payload), give
 * the same facts as the plain messages; what cannot be judged is flagged
 * SMB_FACT_F_UNVERIFIABLE with its reason, and never crashes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chunk.h"
#include "smb.h"
#include "xca.h"
#include "smb2_build.h"
#include "smb_counted_state.h"

/* ---- facts ---------------------------------------------------------- */

struct kept_fact {
	struct smb_fact f;
	int rpc_type;
	uint16_t rpc_opnum;
	uint32_t rpc_call;
};

struct recorder {
	struct kept_fact v[256];
	int n;
};

static void
record_fact(void *ctx, const struct smb_fact *f)
{
	struct recorder *r = ctx;
	struct kept_fact *k;

	assert_true(r->n < 256);
	k = &r->v[r->n++];
	memset(k, 0, sizeof(*k));
	k->f = *f;
	if (f->type == SMB_FACT_COMMAND)
		memset(&k->f.u, 0, sizeof(k->f.u));
	if (f->type == SMB_FACT_DCERPC) {
		k->rpc_type = f->u.dcerpc.rpc->type;
		k->rpc_opnum = f->u.dcerpc.rpc->opnum;
		k->rpc_call = f->u.dcerpc.rpc->call_id;
		k->f.u.dcerpc.rpc = NULL;
	}
	/* Where the record lay differs between the two forms. */
	k->f.record_seq = 0;
	k->f.record_len = 0;
}

static const struct kept_fact *
find(const struct recorder *r, enum smb_fact_type type, int nth)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].f.type == type && nth-- == 0)
			return &r->v[i];
	return NULL;
}

static int
count(const struct recorder *r, enum smb_fact_type type)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->v[i].f.type == type;
	return n;
}

/* The facts of <c> but its COMPRESSED ones are those of <plain>. */
static void
assert_same_facts(const struct recorder *plain, const struct recorder *c)
{
	int i, j = 0;

	for (i = 0; i < c->n; i++) {
		if (c->v[i].f.type == SMB_FACT_COMPRESSED)
			continue;
		assert_true(j < plain->n);
		assert_int_equal(c->v[i].f.type, plain->v[j].f.type);
		assert_memory_equal(&c->v[i], &plain->v[j],
			sizeof(struct kept_fact));
		j++;
	}
	assert_int_equal(j, plain->n);
}


/* Feeds <rec> in one piece, or byte by byte. */
static void
feed(struct smb_state *st, enum smb_dir dir, uint32_t *seq,
	const uint8_t *rec, size_t len, int bytewise, struct recorder *r)
{
	size_t i;

	if (!bytewise) {
		assert_int_equal(smb_feed(st, dir, *seq, rec, len, 1,
			record_fact, r), 0);
	} else {
		for (i = 0; i < len; i++)
			assert_int_equal(smb_feed(st, dir, *seq + (uint32_t)i,
				rec + i, 1, 1, record_fact, r), 0);
	}
	*seq += (uint32_t)len;
}

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

/* Runs a message alone, in its own connection. */
static void
run_one(const uint8_t *rec, size_t len, int bytewise, struct recorder *r)
{
	struct smb_state *st = state_new();
	uint32_t seq = 1000;

	memset(r, 0, sizeof(*r));
	feed(st, SMB_DIR_TO_SERVER, &seq, rec, len, bytewise, r);
	state_free(st);
}

static const struct {
	uint16_t alg;
	int opt;
} algorithms[] = {
	{ XCA_LZNT1, 1 },
	{ XCA_LZNT1, 0 },
	{ XCA_LZ77, 0 },
	{ XCA_LZ77_HUFFMAN, 0 },
	{ XCA_LZ77_HUFFMAN, 1 },
};

static void
check_compressed_fact(const struct recorder *r, uint16_t alg, size_t len,
	int chained)
{
	const struct kept_fact *k = find(r, SMB_FACT_COMPRESSED, 0);

	assert_int_equal(count(r, SMB_FACT_COMPRESSED), 1);
	assert_non_null(k);
	assert_false(k->f.flags & SMB_FACT_F_UNVERIFIABLE);
	assert_int_equal(k->f.u.transform.unverifiable,
		SMB_UNVERIFIABLE_NONE);
	assert_int_equal(k->f.u.transform.algorithm, alg);
	assert_int_equal(k->f.u.transform.chained, chained);
	assert_int_equal(k->f.u.transform.inflated, len);
	assert_int_equal(k->f.session_id, SESSION_ID);
	/* Reported after the facts of the message it carried. */
	assert_int_equal(r->v[r->n - 1].f.type, SMB_FACT_COMPRESSED);
}

static void
test_tree_connect(void **state)
{
	static uint8_t msg[MSG_MAX], rec[REC_MAX];
	struct recorder plain, c;
	size_t len, rlen, a;
	int which;

	(void)state;
	/* 100 zero bytes after the path make a Pattern_V1 run. */
	len = tree_connect_req(msg, "\\\\srv\\ADMIN$", 100);
	rlen = plain_record(rec, msg, len);
	run_one(rec, rlen, 0, &plain);
	assert_int_equal(count(&plain, SMB_FACT_TREE_CONNECT), 1);
	assert_string_equal(find(&plain, SMB_FACT_TREE_CONNECT, 0)->f.u.tree.share,
		"ADMIN$");
	assert_int_equal(count(&plain, SMB_FACT_ERROR), 0);

	for (a = 0; a < sizeof(algorithms) / sizeof(algorithms[0]); a++) {
		for (which = 0; which < 4; which++) {
			rlen = form(which, rec, msg, len, algorithms[a].alg,
				algorithms[a].opt, len - 100, 100);
			run_one(rec, rlen, 0, &c);
			assert_same_facts(&plain, &c);
			check_compressed_fact(&c, algorithms[a].alg, len,
				which >= 2);
			/* Byte by byte, the same. */
			run_one(rec, rlen, 1, &c);
			assert_same_facts(&plain, &c);
			check_compressed_fact(&c, algorithms[a].alg, len,
				which >= 2);
		}
	}
}

/* TREE_CONNECT and its response plain, then <rec>; facts into <r>. */
static void
run_on_tree(const uint8_t *rec, size_t len, struct recorder *r)
{
	static uint8_t msg[256], pre[512];
	struct smb_state *st = state_new();
	uint32_t cseq = 1000, sseq = 5000;
	size_t n;

	memset(r, 0, sizeof(*r));
	n = plain_record(pre, msg, tree_connect_req(msg, "\\\\srv\\ADMIN$",
		0));
	feed(st, SMB_DIR_TO_SERVER, &cseq, pre, n, 0, r);
	n = plain_record(pre, msg, tree_connect_resp(msg));
	feed(st, SMB_DIR_TO_CLIENT, &sseq, pre, n, 0, r);
	feed(st, SMB_DIR_TO_SERVER, &cseq, rec, len, 0, r);
	state_free(st);
}

static void
test_create_compound(void **state)
{
	static uint8_t msg[MSG_MAX], rec[REC_MAX];
	struct recorder plain, c;
	const struct kept_fact *k;
	size_t len, rlen, a;
	int which;

	(void)state;
	len = create_compound(msg);
	rlen = plain_record(rec, msg, len);
	run_on_tree(rec, rlen, &plain);
	k = find(&plain, SMB_FACT_CREATE, 0);
	assert_non_null(k);
	assert_string_equal(k->f.u.file.name, "x.exe");
	assert_string_equal(k->f.u.file.share, "ADMIN$");
	assert_int_equal(count(&plain, SMB_FACT_CLOSE), 1);
	assert_true(find(&plain, SMB_FACT_CLOSE, 0)->f.flags &
		SMB_FACT_F_RELATED);

	for (a = 0; a < sizeof(algorithms) / sizeof(algorithms[0]); a++) {
		for (which = 0; which < 4; which++) {
			/* The CLOSE's FileId is 16 bytes of 0xff: the run. */
			rlen = form(which, rec, msg, len, algorithms[a].alg,
				algorithms[a].opt, len - 16, 16);
			run_on_tree(rec, rlen, &c);
			assert_same_facts(&plain, &c);
			check_compressed_fact(&c, algorithms[a].alg, len,
				which >= 2);
		}
	}
}

static void
expect_unverifiable(const struct recorder *r, enum smb_unverifiable why)
{
	const struct kept_fact *k = find(r, SMB_FACT_COMPRESSED, 0);

	assert_non_null(k);
	assert_int_equal(count(r, SMB_FACT_COMPRESSED), 1);
	assert_true(k->f.flags & SMB_FACT_F_UNVERIFIABLE);
	assert_int_equal(k->f.u.transform.unverifiable, why);
}

static void
test_unverifiable(void **state)
{
	static uint8_t msg[MSG_MAX], rec[REC_MAX];
	struct recorder r;
	const struct kept_fact *k;
	uint16_t plan[3][2] = { { XCA_NONE, 64 }, { 5, 0 }, { 0xffff, 0 } };
	size_t len, rlen, a;

	(void)state;
	len = tree_connect_req(msg, "\\\\srv\\ADMIN$", 100);

	/* Damaged compressed data, each algorithm: flagged, not parsed. */
	for (a = 0; a < sizeof(algorithms) / sizeof(algorithms[0]); a++) {
		rlen = unchained_record(rec, msg, len, algorithms[a].alg,
			algorithms[a].opt, 0);
		memset(rec + 20, 0xee, 4);
		if (algorithms[a].alg == XCA_LZ77_HUFFMAN)
			memset(rec + 20, 0xff, 256);	/* over-full code */
		run_one(rec, rlen, 0, &r);
		expect_unverifiable(&r, SMB_UNVERIFIABLE_CORRUPT);
		k = find(&r, SMB_FACT_COMPRESSED, 0);
		assert_int_equal(k->f.u.transform.algorithm, algorithms[a].alg);
		assert_int_equal(count(&r, SMB_FACT_TREE_CONNECT), 0);
	}

	/* Announced size not what the data inflates to. */
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	put_le32(rec + 8, (uint32_t)len + 1);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_CORRUPT);

	/* LZ4 (5) and an unknown algorithm, unchained and chained. */
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	put_le16(rec + 12, 5);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_ALGORITHM);
	assert_int_equal(find(&r, SMB_FACT_COMPRESSED, 0)->f.u.transform.algorithm,
		5);
	put_le16(rec + 12, 0x7777);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_ALGORITHM);
	rlen = chained_record(rec, msg, len,
		(const uint16_t (*)[2])plan, 0);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_ALGORITHM);
	assert_int_equal(find(&r, SMB_FACT_COMPRESSED, 0)->f.u.transform.algorithm,
		5);

	/* Absurd sizes: zero, past what NBSS could carry. */
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	put_le32(rec + 8, 0);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_SIZE);
	put_le32(rec + 8, 0x7fffffff);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_SIZE);

	/* Offset past the record; chained payload longer than the record. */
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	put_le32(rec + 16, 100000);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_CORRUPT);
	plan[1][0] = XCA_LZ77;
	rlen = chained_record(rec, msg, len,
		(const uint16_t (*)[2])plan, 0);
	put_le32(rec + 4 + 8 + 4, 100000);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_CORRUPT);

	/* Inflating to something that is not SMB2. */
	memcpy(msg, "\xffSMB", 4);
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_CORRUPT);
	assert_int_equal(count(&r, SMB_FACT_ERROR), 1);
}

static uint32_t
rand_next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
test_budget(void **state)
{
	static uint8_t msg[MSG_MAX], rec[REC_MAX], m2[1024];
	struct recorder r, plain;
	const struct kept_fact *k;
	uint32_t seed = 99;
	size_t len, rlen, n, i;

	(void)state;
	/* A compound whose TREE_CONNECT lies beyond SMB_INFLATE_MAX. */
	len = create_req(msg, 7, "x.exe", 5000);
	len = (len + 7) & ~(size_t)7;
	put_le32(msg + 20, (uint32_t)len);
	n = tree_connect_req(m2, "\\\\srv\\ADMIN$", 0);
	memcpy(msg + len, m2, n);
	len += n;
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_BUDGET);
	assert_int_equal(count(&r, SMB_FACT_CREATE), 1);
	assert_int_equal(count(&r, SMB_FACT_TREE_CONNECT), 0);
	assert_int_equal(find(&r, SMB_FACT_COMPRESSED, 0)->f.u.transform.inflated,
		SMB_INFLATE_MAX);

	/* Within the inflate budget, but the compressed bytes needed to
	 * reach the TREE_CONNECT are beyond the SMB_COMPRESSED_PREFIX_MAX
	 * kept: random bytes do not compress. */
	len = create_req(msg, 7, "x.exe", 2000);
	for (i = 130; i < len; i++)
		msg[i] = (uint8_t)rand_next(&seed);
	len = (len + 7) & ~(size_t)7;
	put_le32(msg + 20, (uint32_t)len);
	memcpy(msg + len, m2, n);
	len += n;
	rlen = plain_record(rec, msg, len);
	run_one(rec, rlen, 0, &plain);
	assert_int_equal(count(&plain, SMB_FACT_TREE_CONNECT), 1);
	rlen = unchained_record(rec, msg, len, XCA_LZNT1, 1, 0);
	assert_true(rlen > SMB_COMPRESSED_PREFIX_MAX + 4);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_BUDGET);
	assert_int_equal(count(&r, SMB_FACT_TREE_CONNECT), 0);

	/* But a long message whose bulk is not needed is judged, though
	 * less than SMB_RECORD_PREFIX_MAX of it could be inflated: a
	 * TREE_CONNECT padded with 10000 random bytes. */
	len = tree_connect_req(msg, "\\\\srv\\ADMIN$", 10000);
	for (i = len - 10000; i < len; i++)
		msg[i] = (uint8_t)rand_next(&seed);
	rlen = plain_record(rec, msg, len);
	run_one(rec, rlen, 0, &plain);
	rlen = unchained_record(rec, msg, len, XCA_LZ77_HUFFMAN, 0, 0);
	run_one(rec, rlen, 0, &r);
	assert_same_facts(&plain, &r);
	k = find(&r, SMB_FACT_COMPRESSED, 0);
	assert_false(k->f.flags & SMB_FACT_F_UNVERIFIABLE);
	assert_true(k->f.u.transform.inflated < SMB_RECORD_PREFIX_MAX);

	/* A chained payload running past the bytes kept, though its stream
	 * ends within them: the next header is not read from beyond, and
	 * the 30 zeros it would give are not needed. */
	len = tree_connect_req(msg, "\\\\srv\\ADMIN$", 100);
	rlen = plain_record(rec, msg, len);
	run_one(rec, rlen, 0, &plain);
	{
		const uint16_t plan[3][2] = {
			{ XCA_LZ77, (uint16_t)(len - 30) },
			{ XCA_PATTERN_V1, 30 }, { 0xffff, 0 },
		};
		uint32_t first_len;

		rlen = chained_record(rec, msg, len, plan, 0);
		first_len = (uint32_t)rec[16] | (uint32_t)rec[17] << 8;
		memmove(rec + 20 + first_len + 3000, rec + 20 + first_len,
			rlen - 20 - first_len);
		for (i = 0; i < 3000; i++)
			rec[20 + first_len + i] = (uint8_t)rand_next(&seed);
		put_le32(rec + 16, first_len + 3000);
		rlen = nbss(rec, rlen - 4 + 3000);
	}
	run_one(rec, rlen, 0, &r);
	assert_same_facts(&plain, &r);
	k = find(&r, SMB_FACT_COMPRESSED, 0);
	assert_false(k->f.flags & SMB_FACT_F_UNVERIFIABLE);
	assert_int_equal(k->f.u.transform.inflated, len - 30);

	/* Named-pipe data: all of it within budget is fed to DCE/RPC ... */
	len = pipe_write(msg, 9, 2000);
	rlen = plain_record(rec, msg, len);
	run_one(rec, rlen, 0, &plain);
	assert_int_equal(count(&plain, SMB_FACT_DCERPC), 1);
	assert_int_equal(find(&plain, SMB_FACT_DCERPC, 0)->rpc_opnum, 12);
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	run_one(rec, rlen, 0, &r);
	assert_same_facts(&plain, &r);
	assert_false(find(&r, SMB_FACT_COMPRESSED, 0)->f.flags &
		SMB_FACT_F_UNVERIFIABLE);
	/* ... and beyond it, the pipe's parser would miss some: flagged. */
	len = pipe_write(msg, 9, 6000);
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	run_one(rec, rlen, 0, &r);
	expect_unverifiable(&r, SMB_UNVERIFIABLE_BUDGET);
}

/*
 * Found by the search for a record start after a pickup in mid-stream, a
 * compressed record keeps as many bytes as one framed normally.
 */
static void
test_after_resync(void **state)
{
	static uint8_t msg[MSG_MAX], rec[REC_MAX], stream[REC_MAX + 64];
	struct recorder plain, c, framed;
	size_t len, rlen;
	uint32_t seed = 5;
	size_t i;

	(void)state;
	/* Random bytes after the path: the compressed record is long. */
	len = tree_connect_req(msg, "\\\\srv\\ADMIN$", 1500);
	for (i = len - 1500; i < len; i++)
		msg[i] = (uint8_t)rand_next(&seed);
	rlen = plain_record(rec, msg, len);
	run_one(rec, rlen, 0, &plain);
	rlen = unchained_record(rec, msg, len, XCA_LZ77, 0, 0);
	assert_true(rlen > SMB_RECORD_PREFIX_MAX + 4);
	run_one(rec, rlen, 0, &framed);
	memset(stream, 'x', 37);
	memcpy(stream + 37, rec, rlen);
	run_one(stream, 37 + rlen, 0, &c);
	/* As many bytes kept, so as many inflated, as when framed. */
	assert_int_equal(find(&c, SMB_FACT_COMPRESSED, 0)->f.u.transform.inflated,
		find(&framed, SMB_FACT_COMPRESSED, 0)->f.u.transform.inflated);
	assert_true(find(&c, SMB_FACT_COMPRESSED, 0)->f.u.transform.inflated >
		SMB_RECORD_PREFIX_MAX - 16);
	assert_int_equal(count(&c, SMB_FACT_RESYNC), 1);
	assert_int_equal(count(&c, SMB_FACT_TREE_CONNECT), 1);
	assert_memory_equal(&find(&c, SMB_FACT_TREE_CONNECT, 0)->f,
		&find(&plain, SMB_FACT_TREE_CONNECT, 0)->f,
		sizeof(struct smb_fact));
	assert_false(find(&c, SMB_FACT_COMPRESSED, 0)->f.flags &
		SMB_FACT_F_UNVERIFIABLE);
}

static void
test_encrypted_flag(void **state)
{
	uint8_t rec[4 + 52 + 40];
	struct recorder r;
	const struct kept_fact *k;

	(void)state;
	memset(rec, 0x33, sizeof(rec));
	nbss(rec, sizeof(rec) - 4);
	memcpy(rec + 4, "\xfdSMB", 4);
	put_le32(rec + 4 + 36, 40);
	put_le16(rec + 4 + 42, 1);
	run_one(rec, sizeof(rec), 0, &r);
	k = find(&r, SMB_FACT_ENCRYPTED, 0);
	assert_non_null(k);
	assert_true(k->f.flags & SMB_FACT_F_UNVERIFIABLE);
	assert_int_equal(k->f.u.transform.unverifiable,
		SMB_UNVERIFIABLE_SEALED);
	assert_string_equal(smb_unverifiable_name(SMB_UNVERIFIABLE_SEALED),
		"sealed");
	assert_string_equal(smb_unverifiable_name(SMB_UNVERIFIABLE_BUDGET),
		"budget");
}

/*
 * Random damage to compressed records past their protocol id: one
 * COMPRESSED fact each, never a crash (the fuzz target goes further).
 */
static void
test_mutations(void **state)
{
	static uint8_t msg[MSG_MAX], rec[REC_MAX], copy[REC_MAX];
	uint32_t seed = 4242;
	size_t len, rlen, a;
	int round;

	(void)state;
	len = create_compound(msg);
	for (a = 0; a < sizeof(algorithms) / sizeof(algorithms[0]); a++) {
		for (round = 0; round < 200; round++) {
			struct recorder r;
			int k;

			rlen = form(round % 4, rec, msg, len, algorithms[a].alg,
				algorithms[a].opt, len - 16, 16);
			memcpy(copy, rec, rlen);
			for (k = 0; k < 1 + round % 3; k++)
				copy[8 + rand_next(&seed) % (rlen - 8)] ^=
					(uint8_t)(1 + rand_next(&seed) % 255);
			run_one(copy, rlen, round & 1, &r);
			assert_int_equal(count(&r, SMB_FACT_COMPRESSED), 1);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_connect),
		cmocka_unit_test(test_create_compound),
		cmocka_unit_test(test_unverifiable),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_after_resync),
		cmocka_unit_test(test_encrypted_flag),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
