/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer harness for the SMB parser and, through named pipes, the
 * DCE/RPC parser. The input is a list of records (fuzz_input.h): TCP
 * payloads in both directions, with gaps and retransmissions, so NBSS
 * framing, stream resynchronisation, SMB1/SMB2 chains and pipe reassembly
 * are all reached from the seeds captured in tests/pcaps.
 *
 * Besides crashes and sanitizer reports it checks that every string in a
 * fact is NUL-terminated, valid UTF-8 within its array, and that sealed
 * and compressed records are flagged unverifiable exactly when a reason
 * is given. The seeds include compressed records of every algorithm.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "dcerpc.h"
#include "smb.h"
#include "fuzz_input.h"
#include "fuzz_utf8.h"

#define CHECK_STR(s) do {						\
		if (!fuzz_utf8_valid((s), sizeof(s)))			\
			abort();					\
	} while (0)

static void
check_rpc_fact(const struct dcerpc_fact *f)
{
	CHECK_STR(f->name);
	CHECK_STR(f->command);
	CHECK_STR(f->user);
	CHECK_STR(f->domain);
	CHECK_STR(f->workstation);
}

static void
on_fact(void *ctx, const struct smb_fact *f)
{
	(void)ctx;
	switch (f->type) {
	case SMB_FACT_NBSS_SESSION:
		CHECK_STR(f->u.nbss.called);
		CHECK_STR(f->u.nbss.calling);
		break;
	case SMB_FACT_LOGON:
	case SMB_FACT_LOGOFF:
		CHECK_STR(f->u.logon.user);
		CHECK_STR(f->u.logon.domain);
		CHECK_STR(f->u.logon.workstation);
		CHECK_STR(f->u.logon.realm);
		break;
	case SMB_FACT_TREE_CONNECT:
	case SMB_FACT_TREE_DISCONNECT:
		CHECK_STR(f->u.tree.path);
		CHECK_STR(f->u.tree.share);
		break;
	case SMB_FACT_CREATE:
	case SMB_FACT_CLOSE:
	case SMB_FACT_READ:
	case SMB_FACT_WRITE:
	case SMB_FACT_IOCTL:
		CHECK_STR(f->u.file.name);
		CHECK_STR(f->u.file.share);
		break;
	case SMB_FACT_DCERPC:
		if (f->u.dcerpc.rpc == NULL)
			abort();
		check_rpc_fact(f->u.dcerpc.rpc);
		CHECK_STR(f->u.dcerpc.pipe);
		break;
	case SMB_FACT_ERROR:
		if (f->u.error.what != NULL)
			(void)strlen(f->u.error.what);
		break;
	case SMB_FACT_ENCRYPTED:
	case SMB_FACT_COMPRESSED:
		/* Flagged exactly when a reason is given; inflated within
		 * the budget. */
		if (f->u.transform.unverifiable >= SMB_UNVERIFIABLE_COUNT ||
		    !(f->flags & SMB_FACT_F_UNVERIFIABLE) !=
		    (f->u.transform.unverifiable == SMB_UNVERIFIABLE_NONE) ||
		    f->u.transform.inflated > SMB_INFLATE_MAX ||
		    (f->type == SMB_FACT_ENCRYPTED &&
		     f->u.transform.unverifiable != SMB_UNVERIFIABLE_SEALED))
			abort();
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smb_state st;
	struct fuzz_reader r = { data, size, 0 };
	/* Arbitrary initial sequence numbers, one near the wrap. */
	uint32_t next[2] = { 0xfffff000u, 0x10000000u };
	uint32_t last[2] = { 0xfffff000u, 0x10000000u };
	struct smb_counters counters;
	struct fuzz_record rec;
	enum smb_dir dirs[2] = { SMB_DIR_TO_SERVER, SMB_DIR_TO_CLIENT };

	static struct chunk_pool *pool;

	if (pool == NULL) {
		/* Small, so that inputs reach the refusals too. */
		struct chunk_pool_params params = {
			.budget = 256u << 10,
			.owner_limit = 128u << 10,
		};

		smb_chunk_params(&params);
		pool = chunk_pool_create(&params);
		if (pool == NULL)
			abort();
	}
	smb_state_init(&st, pool);
	memset(&counters, 0, sizeof(counters));
	smb_state_set_counters(&st, &counters);
	while (fuzz_next_record(&r, &rec)) {
		int dir = rec.from_server;
		size_t piece = rec.split ? rec.split : rec.len;
		uint32_t seq;
		size_t off = 0;

		if (rec.retransmit) {
			seq = last[dir];
		} else {
			seq = next[dir] + rec.gap;
			next[dir] = seq + (uint32_t)rec.len;
		}
		last[dir] = seq;
		/* An odd gap is told first as a position, as the gateway tells
		 * a segment a capture cut short. */
		if (!rec.retransmit && (rec.gap & 1))
			smb_feed(&st, dirs[dir], seq, NULL, 0, 1, on_fact,
				 NULL);
		do {
			size_t n = rec.len - off < piece ? rec.len - off :
							   piece;
			/* An exact-size heap copy, so over-reads trap. */
			uint8_t *copy = malloc(n ? n : 1);

			if (copy == NULL)
				abort();
			memcpy(copy, rec.payload + off, n);
			smb_feed(&st, dirs[dir], seq + (uint32_t)off, copy, n,
				 1, on_fact, NULL);
			free(copy);
			off += n;
		} while (off < rec.len);
	}
	smb_state_counters(&st, &counters);
	smb_state_release(&st);
	/* Every chunk went back: a leak would show here first. */
	{
		struct chunk_counters cc;

		chunk_pool_counters(pool, &cc);
		if (cc.in_use_bytes != 0)
			abort();
	}
	return 0;
}
