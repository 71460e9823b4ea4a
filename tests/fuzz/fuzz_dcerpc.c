/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer harness for the DCE/RPC stream parser. The input is a list of
 * records (fuzz_input.h) fed to dcerpc_conn_feed() in their directions,
 * each record's gap given to dcerpc_conn_gap() first.
 *
 * The whole input is also handed, as one exact-size buffer, to the
 * endpoint readers (ept_map answer, tower, DCOM string bindings) and the
 * NTLMSSP reader, which the stream parser only gives well-framed stubs
 * and auth values.
 *
 * Besides crashes and sanitizer reports it checks two properties:
 *   - every string in a fact is NUL-terminated, valid UTF-8 within its array;
 *   - chunking does not change the facts: the same bytes fed one at a time
 *     give the same facts, up to the first loss of framing (after which
 *     recovery depends on where chunks start, by design).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "dcerpc.h"
#include "dcerpc_epm.h"
#include "fuzz_input.h"
#include "ntlmssp.h"
#include "fuzz_utf8.h"

/* What one run saw: a running hash of its facts up to framing loss. */
struct run {
	uint64_t hash;
	unsigned int facts;
	bool framing_lost;
};

static void
hash_bytes(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ull;
	}
}

static void
check_fact(const struct dcerpc_fact *f)
{
	if (!fuzz_utf8_valid(f->name, sizeof(f->name)) ||
	    !fuzz_utf8_valid(f->command, sizeof(f->command)) ||
	    !fuzz_utf8_valid(f->user, sizeof(f->user)) ||
	    !fuzz_utf8_valid(f->domain, sizeof(f->domain)) ||
	    !fuzz_utf8_valid(f->workstation, sizeof(f->workstation)))
		abort();
	if (f->type == DCERPC_FACT_ENDPOINT && f->endpoint.port == 0)
		abort();
	if (f->iface_name != NULL && strlen(f->iface_name) == 0)
		abort();
	if (f->op_name != NULL && strlen(f->op_name) == 0)
		abort();
	if (f->type < DCERPC_FACT_BIND || f->type > DCERPC_FACT_ENDPOINT)
		abort();
}

static void
on_fact(void *ctx, const struct dcerpc_fact *f)
{
	struct run *run = ctx;
	uint32_t v[10];

	check_fact(f);
	if (run->framing_lost)
		return;
	v[0] = f->type;
	v[1] = f->error;
	v[2] = (uint32_t)f->from_server;
	v[3] = f->call_id;
	v[4] = f->context_id;
	v[5] = f->opnum;
	v[6] = f->status;
	v[7] = f->stub_len;
	v[8] = f->flags;
	v[9] = f->args;
	hash_bytes(&run->hash, v, sizeof(v));
	hash_bytes(&run->hash, f->iface_uuid, sizeof(f->iface_uuid));
	hash_bytes(&run->hash, f->name, strlen(f->name));
	hash_bytes(&run->hash, f->command, strlen(f->command));
	hash_bytes(&run->hash, f->user, strlen(f->user));
	hash_bytes(&run->hash, f->domain, strlen(f->domain));
	hash_bytes(&run->hash, f->workstation, strlen(f->workstation));
	if (f->type == DCERPC_FACT_ENDPOINT)
		hash_bytes(&run->hash, &f->endpoint, sizeof(f->endpoint));
	run->facts++;
	if (f->type == DCERPC_FACT_ERROR &&
	    (f->error == DCERPC_ERR_BAD_VERSION ||
	     f->error == DCERPC_ERR_BAD_LENGTH))
		run->framing_lost = true;
}

/* Feeds <len> bytes from an exact-size heap copy so over-reads trap. */
static void
feed_copy(struct dcerpc_conn *conn, int from_server, const uint8_t *p,
	  size_t len, struct run *run)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, p, len);
	dcerpc_conn_feed(conn, from_server, copy, len, 1, on_fact, run);
	free(copy);
}

static void
on_endpoint(void *ctx, const struct dcerpc_endpoint *ep)
{
	(void)ctx;
	if (ep->port == 0 || (ep->ip_version != 0 && ep->ip_version != 4 &&
			      ep->ip_version != 6))
		abort();
}

/* The endpoint and NTLMSSP readers on the raw input. */
static void
read_raw(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct dcerpc_endpoint ep;
	struct ntlmssp_names names;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	if (dcerpc_epm_parse_map_response(copy, size, on_endpoint, NULL) >
	    EPM_TOWERS_MAX)
		abort();
	if (dcerpc_epm_parse_tower(copy, size, &ep) == 0)
		on_endpoint(NULL, &ep);
	if (dcerpc_dcom_scan_bindings(copy, size, 16, on_endpoint, NULL) > 16)
		abort();
	if (ntlmssp_authenticate_names(copy, size, &names) != NTLMSSP_NONE) {
		const struct ntlmssp_string *s[3] = { &names.user,
			&names.domain, &names.workstation };
		unsigned int i;

		for (i = 0; i < 3; i++)
			if (s[i]->len != 0 && (s[i]->data < copy ||
			    s[i]->data + s[i]->len > copy + size))
				abort();
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dcerpc_conn conn;
	struct fuzz_reader r = { data, size, 0 };
	struct run chunked = { 0xcbf29ce484222325ull, 0, false };
	struct run bytewise = { 0xcbf29ce484222325ull, 0, false };
	struct fuzz_record rec;
	static struct chunk_pool *pool;
	struct chunk_counters cc;
	size_t off;

	read_raw(data, size);
	if (pool == NULL) {
		/* Contexts past the inline ones: a few blocks at most. */
		struct chunk_pool_params params = {
			.budget = 16u << 10,
			.owner_limit = 1024,
			.sizes = { DCERPC_CONTEXT_BLOCK_SIZE },
			.classes = 1,
		};

		pool = chunk_pool_create(&params);
		if (pool == NULL)
			abort();
	}
	{
		static struct chunk_owner owner;

		chunk_owner_init(&owner, pool);
		dcerpc_conn_init(&conn);
		dcerpc_conn_set_memory(&conn, pool, 0, 0, &owner);
	}
	while (fuzz_next_record(&r, &rec)) {
		size_t piece = rec.split ? rec.split : rec.len;

		/* A hole: where framing resumes after one may depend on
		 * where chunks start, so the comparison stops there. */
		if (rec.gap != 0) {
			dcerpc_conn_gap(&conn, rec.from_server, rec.gap, 1,
					on_fact, &chunked);
			chunked.framing_lost = true;
		}

		for (off = 0; off < rec.len || (off == 0 && rec.len == 0);
		     off += piece) {
			size_t n = rec.len - off < piece ? rec.len - off :
							   piece;

			feed_copy(&conn, rec.from_server, rec.payload + off,
				  n, &chunked);
			if (rec.len == 0)
				break;
		}
	}

	dcerpc_conn_release(&conn);
	chunk_pool_counters(pool, &cc);
	if (cc.in_use_bytes != 0)
		abort();

	/* The same bytes, one at a time. Chunks that start a PDU matter
	 * only after framing was lost, where the comparison stops. */
	{
		static struct chunk_owner owner;

		chunk_owner_init(&owner, pool);
		dcerpc_conn_init(&conn);
		dcerpc_conn_set_memory(&conn, pool, 0, 0, &owner);
	}
	r.off = 0;
	while (fuzz_next_record(&r, &rec)) {
		if (rec.gap != 0) {
			dcerpc_conn_gap(&conn, rec.from_server, rec.gap, 1,
					on_fact, &bytewise);
			bytewise.framing_lost = true;
		}
		for (off = 0; off < rec.len; off++)
			dcerpc_conn_feed(&conn, rec.from_server,
					 rec.payload + off, 1, 1, on_fact,
					 &bytewise);
	}
	dcerpc_conn_release(&conn);
	chunk_pool_counters(pool, &cc);
	if (cc.in_use_bytes != 0)
		abort();
	if (chunked.facts != bytewise.facts || chunked.hash != bytewise.hash)
		abort();
	return 0;
}
