/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * DCE/RPC connection-oriented stream parser: frames PDUs out of two byte
 * streams, keeps the presentation context table, reassembles fragmented
 * calls and reports facts. See dcerpc.h for the contract.
 *
 * Each direction walks a PDU in three steps: collect the 16-byte common
 * header, collect the fixed part of the body (request / response / fault
 * fields), then stream the rest, copying into the direction's body buffer
 * only what is decoded later (BIND context lists, ack result lists, and the
 * stub of calls that launch code; a task's XML is scanned as it passes).
 * Facts are reported when a PDU ends, so what is reported was complete on
 * the wire.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "dcerpc.h"
#include "dcerpc_pvt.h"
#include "ntlmssp.h"

_Static_assert(sizeof(struct dcerpc_conn) <= DCERPC_CONN_SIZE_MAX,
	       "struct dcerpc_conn exceeds its byte budget");
_Static_assert(DCERPC_CONTEXTS_LIMIT < 0xff,
	       "context slots are kept in uint8_t, 0xff meaning none");
_Static_assert(DCERPC_CLIENT_BODY_MAX <= UINT16_MAX &&
	       DCERPC_SERVER_BODY_MAX <= UINT16_MAX,
	       "body lengths are kept in uint16_t");

/* Where a direction is in the current PDU. */
enum dcerpc_dir_state {
	/* Collecting the common header (zero state after init). */
	DIR_HEADER = 0,
	/* Collecting the fixed part of the body. */
	DIR_PREFIX,
	/* Streaming the rest of the PDU. */
	DIR_BODY,
	/* Framing lost: ignore input until a chunk starts with a PDU. */
	DIR_RESYNC,
};

/* dcerpc_dir.flags */
/* Report nothing for the current PDU, only frame it. */
#define DIR_F_SKIP	0x01
/* Copy the current PDU's body into the body buffer. */
#define DIR_F_BUFFER	0x02
/* The body did not fit the body buffer. */
#define DIR_F_OVERFLOW	0x04
/* Bytes of the auth trailer were lost (dcerpc_conn_gap()). */
#define DIR_F_TRAILER_LOST	0x08

/* Fixed body sizes beyond the common header (C706 12.6.4). */
#define REQUEST_FIXED_LEN	8	/* alloc_hint, p_cont_id, opnum */
/* alloc_hint, p_cont_id, cancel_count, reserved */
#define RESPONSE_FIXED_LEN	8
#define FAULT_FIXED_LEN		12	/* as response, then status */
#define BIND_NAK_FIXED_LEN	2	/* provider_reject_reason */
#define OBJECT_UUID_LEN		16
#define SEC_TRAILER_LEN		8
#define SYNTAX_ID_LEN		20	/* uuid + version */

/* sec_trailer.auth_level of sealed stubs (RPC_C_AUTHN_LEVEL_PKT_PRIVACY). */
#define AUTH_LEVEL_PKT_PRIVACY	6
/* sec_trailer.auth_type values that may carry NTLMSSP (MS-RPCE 2.2.1.1.7). */
#define AUTH_TYPE_SPNEGO	9
#define AUTH_TYPE_NTLMSSP	10
/* Endpoints reported from one response at most. */
#define LEARN_MAX		16

/* dcerpc_context.state */
#define CTX_FREE	0
#define CTX_OFFERED	1
#define CTX_ACCEPTED	2

#define OFFER_NONE	0xff

/*
 * SchRpcRegisterTask: the task XML runs to kilobytes, far beyond the body
 * buffer, and its command sits near the end. The first half of the body
 * buffer keeps the start of the stub (the task path and the NDR headers
 * that locate the XML); the XML streams through a scanner that copies the
 * text of <Command> and <Arguments> into the second half.
 */
#define SCAN_OFF	0	/* no scan, or gave up */
#define SCAN_LOCATE	1	/* waiting for the NDR headers */
#define SCAN_SEARCH	2	/* in the XML, matching tags */
#define SCAN_COMMAND	3	/* copying <Command> text */
#define SCAN_ARGUMENTS	4	/* copying <Arguments> text */

#define SCAN_F_COMMAND		0x01	/* <Command> text complete */
#define SCAN_F_ARGUMENTS	0x02	/* <Arguments> text complete */
#define SCAN_F_CUT		0x04	/* text lost: no room, another action,
					 * or the XML could not be located */

/*
 * The body buffers of the association being fed, during a feed call, when
 * it held none before the call: a PDU that starts and ends within one call
 * (over a named pipe, most do) is decoded without taking a chunk. What is
 * still in flight when the call returns moves to a block of its own
 * (hold_bodies()).
 */
static _Thread_local uint8_t scratch_bodies[DCERPC_BODIES_SIZE]
	__attribute__((aligned(64)));

/*
 * The direction states of the association being fed, during a feed call,
 * when it held none before the call (both directions were between PDUs):
 * a PDU that starts and ends within one call takes no block for them
 * either (hold_dirs()).
 */
static _Thread_local struct dcerpc_dir scratch_dirs[2]
	__attribute__((aligned(64)));
_Static_assert(DCERPC_DIRS_SIZE <= DCERPC_CONTEXT_BLOCK_SIZE,
	"direction states outgrew a context block's chunk");

static const char scan_command_tag[] = "<Command>";
static const char scan_arguments_tag[] = "<Arguments>";

/* Everything one feed call needs to report facts. */
struct feed {
	struct dcerpc_conn *conn;
	struct dcerpc_dir *dir;
	uint8_t *body;
	size_t body_cap;
	int from_server;
	uint64_t ts_ns;
	dcerpc_fact_fn fn;
	void *ctx;
	unsigned int errors;
};

static inline uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Converts a little-endian wire UUID into textual byte order. */
void
dcerpc_uuid_from_wire(uint8_t out[16], const uint8_t *wire)
{
	out[0] = wire[3];
	out[1] = wire[2];
	out[2] = wire[1];
	out[3] = wire[0];
	out[4] = wire[5];
	out[5] = wire[4];
	out[6] = wire[7];
	out[7] = wire[6];
	memcpy(out + 8, wire + 8, 8);
}

static bool
ptype_is_connection_oriented(uint8_t ptype)
{
	switch (ptype) {
	case DCERPC_PTYPE_REQUEST:
	case DCERPC_PTYPE_RESPONSE:
	case DCERPC_PTYPE_FAULT:
	case DCERPC_PTYPE_BIND:
	case DCERPC_PTYPE_BIND_ACK:
	case DCERPC_PTYPE_BIND_NAK:
	case DCERPC_PTYPE_ALTER_CONTEXT:
	case DCERPC_PTYPE_ALTER_CONTEXT_RESP:
	case DCERPC_PTYPE_AUTH3:
	case DCERPC_PTYPE_SHUTDOWN:
	case DCERPC_PTYPE_CO_CANCEL:
	case DCERPC_PTYPE_ORPHANED:
		return true;
	default:
		return false;
	}
}

/* Bytes of the fixed body part of <ptype>, after the common header. */
static size_t
fixed_body_len(uint8_t ptype, uint8_t pfc_flags)
{
	switch (ptype) {
	case DCERPC_PTYPE_REQUEST:
		return REQUEST_FIXED_LEN +
		       ((pfc_flags & DCERPC_PFC_OBJECT_UUID) ?
			OBJECT_UUID_LEN : 0);
	case DCERPC_PTYPE_RESPONSE:
		return RESPONSE_FIXED_LEN;
	case DCERPC_PTYPE_FAULT:
		return FAULT_FIXED_LEN;
	case DCERPC_PTYPE_BIND_NAK:
		return BIND_NAK_FIXED_LEN;
	default:
		return 0;
	}
}

bool
dcerpc_looks_like_pdu(const uint8_t *data, size_t len)
{
	uint16_t frag_len, auth_len;

	if (data == NULL || len < DCERPC_HEADER_LEN)
		return false;
	if (data[0] != 5 || data[1] > 1 ||
	    !ptype_is_connection_oriented(data[2]))
		return false;
	/* drep: integer representation 0 (big) or 1 (little endian), ASCII
	 * or EBCDIC characters, one of four float formats, zero padding. */
	if ((data[4] & 0xee) != 0 || data[5] > 3 || data[6] != 0 ||
	    data[7] != 0)
		return false;
	if (data[4] & 0x10) {
		frag_len = le16(data + 8);
		auth_len = le16(data + 10);
	} else {
		frag_len = be16(data + 8);
		auth_len = be16(data + 10);
	}
	if (frag_len < DCERPC_HEADER_LEN + fixed_body_len(data[2], data[3]))
		return false;
	if (auth_len != 0 &&
	    (size_t)auth_len + SEC_TRAILER_LEN >
	    (size_t)frag_len - DCERPC_HEADER_LEN)
		return false;
	return true;
}

/* Starts <fact> for the current PDU of the feeding direction. */
static void
fact_start(struct feed *f, struct dcerpc_fact *fact,
	   enum dcerpc_fact_type type)
{
	const struct dcerpc_dir *d = f->dir;

	fact->type = type;
	fact->error = DCERPC_ERR_NONE;
	fact->ts_ns = f->ts_ns;
	fact->from_server = f->from_server;
	fact->ptype = d->prefix_len >= DCERPC_HEADER_LEN ? d->prefix[2] : 0;
	fact->call_id = d->prefix_len >= DCERPC_HEADER_LEN ?
			le32(d->prefix + 12) : 0;
	fact->context_id = 0;
	memset(fact->iface_uuid, 0, sizeof(fact->iface_uuid));
	fact->iface_ver_major = 0;
	fact->iface_ver_minor = 0;
	fact->iface_name = NULL;
	fact->opnum = 0xffff;
	fact->op_name = NULL;
	fact->status = 0;
	fact->stub_len = 0;
	fact->auth_level = 0;
	fact->flags = 0;
	fact->args = DCERPC_ARGS_NONE;
	fact->name[0] = '\0';
	fact->command[0] = '\0';
	fact->auth_type = 0;
	fact->user[0] = '\0';
	fact->domain[0] = '\0';
	fact->workstation[0] = '\0';
	fact->endpoint.ip_version = 0;
	fact->endpoint.port = 0;
}

static bool
is_learner(uint8_t decoder)
{
	return decoder == DCERPC_DEC_LEARN_EPM ||
	       decoder == DCERPC_DEC_LEARN_DCOM;
}

/*
 * The body buffer of the feeding direction. A response that names
 * endpoints (an ept_map tower list, a DCOM activation answer) outgrows the
 * server's small buffer, so it borrows the client's, which is idle once
 * the request it answers has been reported; a client that pipelines
 * another call meanwhile spoils only what is learned (both stay within the
 * buffer's bounds).
 */
static void
feed_select_body(struct feed *f)
{
	struct dcerpc_conn *conn = f->conn;

	if (f->from_server && !(f->dir->call_active &&
				is_learner(f->dir->call_decoder))) {
		f->body = conn->bodies + DCERPC_CLIENT_BODY_MAX;
		f->body_cap = DCERPC_SERVER_BODY_MAX;
	} else {
		f->body = conn->bodies;
		f->body_cap = DCERPC_CLIENT_BODY_MAX;
	}
}

static void
fact_emit(struct feed *f, const struct dcerpc_fact *fact)
{
	if (fact->type == DCERPC_FACT_ERROR)
		f->errors++;
	if (f->fn != NULL)
		f->fn(f->ctx, fact);
}

static void
report_error(struct feed *f, enum dcerpc_error error)
{
	struct dcerpc_fact fact;

	fact_start(f, &fact, DCERPC_FACT_ERROR);
	fact.error = error;
	fact_emit(f, &fact);
}

/* Fills the interface fields of <fact> from context table entry <c>. */
static void
fact_set_context(struct dcerpc_fact *fact, const struct dcerpc_context *c)
{
	fact->context_id = c->id;
	memcpy(fact->iface_uuid, c->uuid, sizeof(fact->iface_uuid));
	fact->iface_ver_major = c->ver_major;
	fact->iface_ver_minor = c->ver_minor;
	fact->iface_name = dcerpc_interface_name(c->uuid);
}

/*
 * The context in slot <slot>: slots below DCERPC_INLINE_CONTEXTS are inline,
 * the rest in the blocks, DCERPC_BLOCK_CONTEXTS to a block, in list
 * order. NULL past the blocks held.
 */
static struct dcerpc_context *
context_at(struct dcerpc_conn *conn, unsigned int slot)
{
	struct dcerpc_context_block *blk = conn->more;

	if (slot < DCERPC_INLINE_CONTEXTS)
		return &conn->ctx[slot];
	slot -= DCERPC_INLINE_CONTEXTS;
	while (blk != NULL && slot >= DCERPC_BLOCK_CONTEXTS) {
		blk = blk->next;
		slot -= DCERPC_BLOCK_CONTEXTS;
	}
	return blk != NULL ? &blk->ctx[slot] : NULL;
}

/* Slot of the context in use with id <id>, or -1. */
static int
context_index(struct dcerpc_conn *conn, uint16_t id)
{
	const struct dcerpc_context_block *blk;
	unsigned int i, base;

	for (i = 0; i < DCERPC_INLINE_CONTEXTS; i++)
		if (conn->ctx[i].state != CTX_FREE && conn->ctx[i].id == id)
			return (int)i;
	base = DCERPC_INLINE_CONTEXTS;
	for (blk = conn->more; blk != NULL; blk = blk->next) {
		for (i = 0; i < DCERPC_BLOCK_CONTEXTS; i++)
			if (blk->ctx[i].state != CTX_FREE &&
			    blk->ctx[i].id == id)
				return (int)(base + i);
		base += DCERPC_BLOCK_CONTEXTS;
	}
	return -1;
}

static struct dcerpc_context *
context_find(struct dcerpc_conn *conn, uint16_t id)
{
	int slot = context_index(conn, id);

	return slot < 0 ? NULL : context_at(conn, (unsigned int)slot);
}

/* The context in state <state> in the lowest slot, or NULL. */
static struct dcerpc_context *
context_first(struct dcerpc_conn *conn, uint8_t state)
{
	struct dcerpc_context_block *blk;
	unsigned int i;

	for (i = 0; i < DCERPC_INLINE_CONTEXTS; i++)
		if (conn->ctx[i].state == state)
			return &conn->ctx[i];
	for (blk = conn->more; blk != NULL; blk = blk->next)
		for (i = 0; i < DCERPC_BLOCK_CONTEXTS; i++)
			if (blk->ctx[i].state == state)
				return &blk->ctx[i];
	return NULL;
}

static bool
context_offered(const struct dcerpc_conn *conn, unsigned int slot)
{
	unsigned int i;

	for (i = 0; i < conn->offer_count; i++)
		if (conn->offer_slot[i] == slot)
			return true;
	return false;
}

/* A free slot, taking one more block from the pool if need be; or -1. */
static int
context_free_slot(struct dcerpc_conn *conn)
{
	struct dcerpc_context_block *blk, **tail = &conn->more;
	unsigned int i, base = DCERPC_INLINE_CONTEXTS;

	for (i = 0; i < DCERPC_INLINE_CONTEXTS; i++)
		if (conn->ctx[i].state == CTX_FREE)
			return (int)i;
	for (blk = conn->more; blk != NULL; blk = blk->next) {
		for (i = 0; i < DCERPC_BLOCK_CONTEXTS; i++)
			if (blk->ctx[i].state == CTX_FREE)
				return (int)(base + i);
		base += DCERPC_BLOCK_CONTEXTS;
		tail = &blk->next;
	}
	if (conn->pool == NULL ||
	    base + DCERPC_BLOCK_CONTEXTS > DCERPC_CONTEXTS_LIMIT)
		return -1;
	blk = chunk_alloc(conn->pool, conn->pool_class, conn->owner);
	if (blk == NULL)
		return -1;
	memset(blk, 0, sizeof(*blk));
	*tail = blk;
	return (int)base;
}

/*
 * Returns the slot for context <id>: its current slot, a free one (in a
 * new block if the pool gives one), or, when none, the next inline slot
 * in turn that the BIND / ALTER_CONTEXT being parsed did not fill; -1
 * when it filled them all (more offers than inline slots, and no block).
 */
static int
context_slot(struct dcerpc_conn *conn, uint16_t id)
{
	unsigned int i, n;
	int slot;

	slot = context_index(conn, id);
	if (slot < 0)
		slot = context_free_slot(conn);
	if (slot >= 0)
		return slot;
	for (n = 0; n < DCERPC_INLINE_CONTEXTS; n++) {
		i = conn->ctx_next % DCERPC_INLINE_CONTEXTS;
		conn->ctx_next = (uint8_t)((i + 1) % DCERPC_INLINE_CONTEXTS);
		if (!context_offered(conn, i))
			return (int)i;
	}
	return -1;
}

/* Forgets every context, inline and in blocks (which are kept). */
static void
contexts_clear(struct dcerpc_conn *conn)
{
	struct dcerpc_context_block *blk;

	memset(conn->ctx, 0, sizeof(conn->ctx));
	for (blk = conn->more; blk != NULL; blk = blk->next)
		memset(blk->ctx, 0, sizeof(blk->ctx));
}

static void
dir_reset_pdu(struct dcerpc_dir *d)
{
	d->state = DIR_HEADER;
	d->flags = 0;
	d->pdu_off = 0;
	d->prefix_len = 0;
	d->prefix_want = DCERPC_HEADER_LEN;
	d->frag_len = 0;
	d->auth_len = 0;
	d->frag_body_appended = 0;
	memset(d->trailer, 0, sizeof(d->trailer));
}

static void
dir_drop_call(struct dcerpc_dir *d)
{
	d->call_active = 0;
	d->call_stub_len = 0;
	d->call_flags = 0;
	d->call_decoder = DCERPC_DEC_NONE;
	d->call_auth_level = 0;
	d->body_len = 0;
	d->scan_state = SCAN_OFF;
	d->scan_flags = 0;
	d->scan_len = 0;
	d->scan_match_command = 0;
	d->scan_match_arguments = 0;
}

void
dcerpc_conn_init(struct dcerpc_conn *conn)
{
	unsigned int i;

	/* Only the bookkeeping is cleared: the body buffers are written
	 * before they are read, and taken, as the direction states are,
	 * only when needed. */
	conn->dir = NULL;
	for (i = 0; i < 2; i++)
		conn->rest[i] = DIR_HEADER;
	memset(conn->ctx, 0, sizeof(conn->ctx));
	memset(conn->offer_slot, OFFER_NONE, sizeof(conn->offer_slot));
	conn->offer_count = 0;
	conn->ctx_next = 0;
	conn->last_opnum = 0;
	conn->last_call_id = 0;
	conn->last_context_id = 0;
	conn->last_valid = 0;
	conn->pool_class = 0;
	conn->body_class = 0;
	conn->more = NULL;
	conn->pool = NULL;
	conn->body_pool = NULL;
	conn->owner = NULL;
	conn->bodies = NULL;
}

void
dcerpc_conn_set_memory(struct dcerpc_conn *conn, struct chunk_pool *pool,
		       unsigned int cls, unsigned int body_cls,
		       struct chunk_owner *owner)
{
	conn->pool = chunk_size(pool, cls) >= DCERPC_CONTEXT_BLOCK_SIZE ?
		pool : NULL;
	conn->pool_class = (uint8_t)cls;
	conn->body_pool = chunk_size(pool, body_cls) >= DCERPC_BODIES_SIZE ?
		pool : NULL;
	conn->body_class = (uint8_t)body_cls;
	conn->owner = owner;
}

static void *
bodies_alloc(struct dcerpc_conn *conn)
{
	if (conn->body_pool == NULL)
		return malloc(DCERPC_BODIES_SIZE);
	return chunk_alloc(conn->body_pool, conn->body_class, conn->owner);
}

static void
bodies_free(struct dcerpc_conn *conn)
{
	if (conn->bodies == NULL || conn->bodies == scratch_bodies)
		;
	else if (conn->body_pool == NULL)
		free(conn->bodies);
	else
		chunk_free(conn->body_pool, conn->body_class, conn->owner,
			   conn->bodies);
	conn->bodies = NULL;
}

/*
 * True if direction <d> has something in the body buffers that a later
 * feed call needs: the body of the PDU under way, or the stub gathered so
 * far of a fragmented call.
 */
static bool
dir_holds_body(const struct dcerpc_dir *d)
{
	return (d->body_len != 0 || d->auth_body_len != 0 ||
		d->scan_len != 0) &&
	       (d->state != DIR_HEADER || d->call_active);
}

/*
 * True if direction <d> waits for the next PDU with nothing to remember
 * but that (DIR_HEADER with no byte of it yet, no call under way) or
 * resynchronises (DIR_RESYNC, which forgets everything when it ends).
 */
static bool
dir_at_rest(const struct dcerpc_dir *d)
{
	return d->state == DIR_RESYNC ||
	       (d->state == DIR_HEADER && d->prefix_len == 0 &&
		!d->call_active);
}

/* A direction state as a new association has it, waiting as <state>. */
static void
dir_fresh(struct dcerpc_dir *d, uint8_t state)
{
	memset(d, 0, sizeof(*d));
	dir_reset_pdu(d);
	d->state = state;
}

static void
dirs_free(struct dcerpc_conn *conn)
{
	if (conn->dir == NULL || conn->dir == scratch_dirs)
		;
	else if (conn->pool == NULL)
		free(conn->dir);
	else
		chunk_free(conn->pool, conn->pool_class, conn->owner,
			   conn->dir);
	conn->dir = NULL;
}

void
dcerpc_conn_release(struct dcerpc_conn *conn)
{
	struct dcerpc_context_block *blk = conn->more;
	unsigned int i;

	/* The scratch block (a release from within a feed call) is left
	 * to the end of that call. */
	if (conn->dir != NULL && conn->dir != scratch_dirs) {
		/* What a direction had of a PDU or call is gone: framing
		 * starts over at a PDU. */
		for (i = 0; i < 2; i++)
			conn->rest[i] = dir_at_rest(&conn->dir[i]) ?
				conn->dir[i].state : DIR_RESYNC;
		if (conn->bodies != NULL && conn->bodies != scratch_bodies)
			bodies_free(conn);
		dirs_free(conn);
	}
	if (conn->bodies != NULL && conn->bodies != scratch_bodies &&
	    conn->dir != NULL) {
		bodies_free(conn);
		for (i = 0; i < 2; i++)
			if (dir_holds_body(&conn->dir[i])) {
				/* What it gathered is gone: so is the call,
				 * and framing starts over at a PDU. */
				dir_drop_call(&conn->dir[i]);
				conn->dir[i].state = DIR_RESYNC;
			}
	}

	while (blk != NULL) {
		struct dcerpc_context_block *next = blk->next;

		chunk_free(conn->pool, conn->pool_class, conn->owner, blk);
		blk = next;
	}
	conn->more = NULL;
	/* The offers pointed into the blocks. */
	memset(conn->offer_slot, OFFER_NONE, sizeof(conn->offer_slot));
	conn->offer_count = 0;
}

/* Offset in the PDU where the stub (or control body) ends. */
static size_t
stub_end(const struct dcerpc_dir *d)
{
	if (d->auth_len == 0)
		return d->frag_len;
	return (size_t)d->frag_len - d->auth_len - SEC_TRAILER_LEN;
}

static void
on_prefix(struct feed *f);

/*
 * Parses the common header in d->prefix and decides how to walk the PDU.
 * Returns false when framing is lost.
 */
static bool
on_header(struct feed *f)
{
	struct dcerpc_dir *d = f->dir;
	const uint8_t *h = d->prefix;
	uint8_t ptype = h[2];
	size_t want;

	if (h[0] != 5 || h[1] > 1) {
		report_error(f, DCERPC_ERR_BAD_VERSION);
		return false;
	}
	if (h[4] & 0x10) {
		d->frag_len = le16(h + 8);
		d->auth_len = le16(h + 10);
	} else {
		d->frag_len = be16(h + 8);
		d->auth_len = be16(h + 10);
	}
	if (d->frag_len < DCERPC_HEADER_LEN) {
		report_error(f, DCERPC_ERR_BAD_LENGTH);
		return false;
	}
	d->state = DIR_BODY;
	if (d->auth_len != 0 && (size_t)d->auth_len + SEC_TRAILER_LEN >
				(size_t)d->frag_len - DCERPC_HEADER_LEN) {
		report_error(f, DCERPC_ERR_TRUNCATED);
		d->auth_len = 0;
		d->flags |= DIR_F_SKIP;
		return true;
	}
	if (!ptype_is_connection_oriented(ptype)) {
		report_error(f, DCERPC_ERR_BAD_PTYPE);
		d->flags |= DIR_F_SKIP;
		return true;
	}
	/* Only little-endian integers and ASCII characters are decoded;
	 * everything in the wild uses them. */
	if ((h[4] & 0xf0) != 0x10 || (h[4] & 0x0f) != 0) {
		report_error(f, DCERPC_ERR_DREP);
		d->flags |= DIR_F_SKIP;
		return true;
	}
	want = DCERPC_HEADER_LEN + fixed_body_len(ptype, h[3]);
	if (want > stub_end(d)) {
		report_error(f, DCERPC_ERR_TRUNCATED);
		d->flags |= DIR_F_SKIP;
		return true;
	}
	if (want > DCERPC_HEADER_LEN) {
		d->state = DIR_PREFIX;
		d->prefix_want = (uint8_t)want;
	} else {
		on_prefix(f);
	}
	return true;
}

/* Starts or continues the fragmented call of a REQUEST / RESPONSE PDU. */
static void
on_call_prefix(struct feed *f)
{
	struct dcerpc_dir *d = f->dir;
	const uint8_t *h = d->prefix;
	uint8_t ptype = h[2], pfc = h[3];
	uint32_t call_id = le32(h + 12);

	if (pfc & DCERPC_PFC_FIRST_FRAG) {
		if (d->call_active)
			report_error(f, DCERPC_ERR_FRAGMENT);
		dir_drop_call(d);
		d->call_active = 1;
		d->call_ptype = ptype;
		d->call_id = call_id;
		d->call_context_id = le16(h + 20);
		d->call_opnum = ptype == DCERPC_PTYPE_REQUEST ?
				le16(h + 22) : 0xffff;
		if (ptype == DCERPC_PTYPE_REQUEST) {
			const struct dcerpc_context *c;

			if (pfc & DCERPC_PFC_OBJECT_UUID)
				d->call_flags |= DCERPC_FACT_F_OBJECT;
			c = context_find(f->conn, d->call_context_id);
			if (c != NULL)
				d->call_decoder = (uint8_t)dcerpc_decoder_for(
					c->uuid, d->call_opnum);
			if (d->call_decoder == DCERPC_DEC_TASK_REGISTER)
				d->scan_state = SCAN_LOCATE;
		} else if (f->conn->last_valid &&
			   f->conn->last_call_id == call_id) {
			const struct dcerpc_context *c;

			c = context_find(f->conn, f->conn->last_context_id);
			if (c != NULL)
				d->call_decoder = (uint8_t)dcerpc_learner_for(
					c->uuid, f->conn->last_opnum);
		}
	} else if (!d->call_active || d->call_id != call_id ||
		   d->call_ptype != ptype) {
		/* A continuation of nothing we saw start. */
		report_error(f, DCERPC_ERR_FRAGMENT);
		d->flags |= DIR_F_SKIP;
		return;
	}
	if (!(pfc & DCERPC_PFC_FIRST_FRAG) || !(pfc & DCERPC_PFC_LAST_FRAG))
		d->call_flags |= DCERPC_FACT_F_FRAGMENTED;
	/* Stub bytes after a hole would sit in the wrong place. */
	if (d->call_decoder != DCERPC_DEC_NONE &&
	    !(d->call_flags & DCERPC_FACT_F_ARGS_TRUNCATED))
		d->flags |= DIR_F_BUFFER;
	feed_select_body(f);
}

/* The fixed body part is in d->prefix: prepare for the rest of the PDU. */
static void
on_prefix(struct feed *f)
{
	struct dcerpc_dir *d = f->dir;

	d->state = DIR_BODY;
	switch (d->prefix[2]) {
	case DCERPC_PTYPE_REQUEST:
	case DCERPC_PTYPE_RESPONSE:
		on_call_prefix(f);
		break;
	case DCERPC_PTYPE_BIND:
	case DCERPC_PTYPE_ALTER_CONTEXT:
	case DCERPC_PTYPE_BIND_ACK:
	case DCERPC_PTYPE_ALTER_CONTEXT_RESP:
		/* The body buffer is shared with the stub of a call in
		 * progress; a bind inside a fragmented call ends the call. */
		if (d->call_active) {
			report_error(f, DCERPC_ERR_FRAGMENT);
			dir_drop_call(d);
		}
		d->body_len = 0;
		d->auth_body_off = 0;
		d->auth_body_len = 0;
		d->flags |= DIR_F_BUFFER;
		break;
	case DCERPC_PTYPE_AUTH3:
		/* Only its auth value is kept, for the NTLMSSP names. */
		if (d->call_active) {
			report_error(f, DCERPC_ERR_FRAGMENT);
			dir_drop_call(d);
		}
		d->body_len = 0;
		d->auth_body_off = 0;
		d->auth_body_len = 0;
		d->flags |= DIR_F_BUFFER;
		break;
	default:
		break;
	}
	feed_select_body(f);
}

/* Bytes of the body buffer that keep the start of the stub. */
static size_t
body_keep(const struct feed *f)
{
	if (f->dir->call_decoder == DCERPC_DEC_TASK_REGISTER)
		return f->body_cap / 2;
	return f->body_cap;
}

/*
 * Finds where the task XML characters start and end once the stub start is
 * buffered: path (unique pointer to a conformant varying string), then the
 * XML string header (max_count, offset, actual_count).
 */
static void
scan_locate(struct feed *f)
{
	struct dcerpc_dir *d = f->dir;
	const uint8_t *b = f->body;
	size_t keep = body_keep(f), len = d->body_len;
	uint64_t hdr, end;

	if (len < 4)
		return;
	if (le32(b) == 0) {
		hdr = 4;
	} else {
		if (len < 16)
			return;
		hdr = (16 + (uint64_t)le32(b + 12) * 2 + 3) & ~(uint64_t)3;
	}
	if (hdr + 12 > keep) {
		/* A path this long leaves no room to find the XML. */
		d->scan_state = SCAN_OFF;
		d->scan_flags |= SCAN_F_CUT;
		return;
	}
	if (len < hdr + 12)
		return;
	end = hdr + 12 + (uint64_t)le32(b + hdr + 8) * 2;
	d->scan_start = (uint32_t)(hdr + 12);
	d->scan_end = end > UINT32_MAX ? UINT32_MAX : (uint32_t)end;
	d->scan_state = SCAN_SEARCH;
}

static uint8_t
scan_tag_step(const char *tag, uint8_t matched, uint16_t unit)
{
	if (unit == (uint8_t)tag[matched])
		return (uint8_t)(matched + 1);
	return unit == '<' ? 1 : 0;
}

static void
scan_capture(struct feed *f, uint16_t unit)
{
	struct dcerpc_dir *d = f->dir;
	size_t keep = body_keep(f);
	uint8_t *capture = f->body + keep;

	if (d->scan_len + 2u > f->body_cap - keep) {
		d->scan_flags |= SCAN_F_CUT;
		return;
	}
	capture[d->scan_len] = (uint8_t)unit;
	capture[d->scan_len + 1] = (uint8_t)(unit >> 8);
	d->scan_len = (uint16_t)(d->scan_len + 2);
}

/* Takes one UTF-16 code unit of the task XML. */
static void
scan_unit(struct feed *f, uint16_t unit)
{
	struct dcerpc_dir *d = f->dir;

	if (d->scan_state == SCAN_COMMAND || d->scan_state == SCAN_ARGUMENTS) {
		if (unit != '<') {
			scan_capture(f, unit);
			return;
		}
		d->scan_flags |= d->scan_state == SCAN_COMMAND ?
				 SCAN_F_COMMAND : SCAN_F_ARGUMENTS;
		d->scan_state = SCAN_SEARCH;
	}
	d->scan_match_command = scan_tag_step(scan_command_tag,
					      d->scan_match_command, unit);
	d->scan_match_arguments = scan_tag_step(scan_arguments_tag,
						d->scan_match_arguments, unit);
	if (d->scan_match_command == sizeof(scan_command_tag) - 1) {
		d->scan_match_command = 0;
		if (d->scan_flags & SCAN_F_COMMAND) {
			/* Another action: only the first is reported. */
			d->scan_flags |= SCAN_F_CUT;
			d->scan_state = SCAN_OFF;
		} else {
			d->scan_state = SCAN_COMMAND;
		}
	} else if (d->scan_match_arguments ==
		   sizeof(scan_arguments_tag) - 1) {
		d->scan_match_arguments = 0;
		/* The schema puts Arguments after Command in an Exec. */
		if ((d->scan_flags & (SCAN_F_COMMAND | SCAN_F_ARGUMENTS)) ==
		    SCAN_F_COMMAND) {
			scan_capture(f, ' ');
			d->scan_state = SCAN_ARGUMENTS;
		}
	}
}

/* Scans <n> stub bytes whose first is at stub offset <off> of the call. */
static void
scan_bytes(struct feed *f, const uint8_t *p, size_t n, uint64_t off)
{
	struct dcerpc_dir *d = f->dir;
	size_t i;

	if (d->scan_state == SCAN_LOCATE)
		scan_locate(f);
	if (d->scan_state == SCAN_LOCATE && d->body_len >= body_keep(f)) {
		d->scan_state = SCAN_OFF;
		d->scan_flags |= SCAN_F_CUT;
	}
	for (i = 0; i < n && d->scan_state >= SCAN_SEARCH; i++, off++) {
		if (off < d->scan_start || off >= d->scan_end)
			continue;
		if (((off - d->scan_start) & 1) == 0)
			d->scan_low = p[i];
		else
			scan_unit(f, (uint16_t)(d->scan_low | p[i] << 8));
	}
}

/*
 * Appends <n> bytes of the auth value of a client BIND / ALTER_CONTEXT /
 * AUTH3 to the body buffer, after the body, as far as there is room: the
 * NTLMSSP names come early in an AUTHENTICATE, before the responses.
 */
static void
keep_auth_value(struct feed *f, const uint8_t *p, size_t n)
{
	struct dcerpc_dir *d = f->dir;
	uint8_t ptype = d->prefix[2];
	size_t room, copy;

	if (ptype != DCERPC_PTYPE_BIND && ptype != DCERPC_PTYPE_ALTER_CONTEXT &&
	    ptype != DCERPC_PTYPE_AUTH3)
		return;
	if (d->auth_body_len == 0)
		d->auth_body_off = d->body_len;
	room = f->body_cap - (size_t)d->auth_body_off - d->auth_body_len;
	copy = n < room ? n : room;
	memcpy(f->body + d->auth_body_off + d->auth_body_len, p, copy);
	d->auth_body_len = (uint16_t)(d->auth_body_len + copy);
}

/* Streams <n> bytes of the current PDU body starting at d->pdu_off. */
static void
on_body(struct feed *f, const uint8_t *p, size_t n)
{
	struct dcerpc_dir *d = f->dir;
	size_t end = stub_end(d);
	size_t trailer_end = d->auth_len != 0 ? end + SEC_TRAILER_LEN : end;
	size_t fixed = DCERPC_HEADER_LEN +
		       fixed_body_len(d->prefix[2], d->prefix[3]);
	size_t keep = body_keep(f);

	while (n > 0) {
		size_t k;

		if (d->pdu_off < end) {
			k = end - d->pdu_off;
			if (k > n)
				k = n;
			if (d->flags & DIR_F_BUFFER) {
				size_t room = keep - d->body_len;
				size_t copy = k < room ? k : room;

				memcpy(f->body + d->body_len, p, copy);
				d->body_len = (uint16_t)(d->body_len + copy);
				d->frag_body_appended = (uint16_t)
					(d->frag_body_appended + copy);
				if (copy < k)
					d->flags |= DIR_F_OVERFLOW;
				if (d->scan_state != SCAN_OFF)
					scan_bytes(f, p, k, (uint64_t)
						   d->call_stub_len +
						   d->pdu_off - fixed);
			}
		} else if (d->pdu_off < trailer_end) {
			k = trailer_end - d->pdu_off;
			if (k > n)
				k = n;
			memcpy(d->trailer + (d->pdu_off - end), p, k);
		} else {
			k = d->frag_len - d->pdu_off;
			if (k > n)
				k = n;
			if ((d->flags & DIR_F_BUFFER) && !f->from_server &&
			    d->auth_len != 0)
				keep_auth_value(f, p, k);
		}
		p += k;
		n -= k;
		d->pdu_off += (uint32_t)k;
	}
}

/*
 * <n> bytes of the current PDU's body that will never come: what came
 * before them is kept and read as a body cut short (a call's arguments,
 * a bind's context list), nothing after them joins it (it would sit in
 * the wrong place); a lost trailer or auth value is not read at all.
 * Other PDUs are only framed.
 */
static void
on_body_lost(struct feed *f, size_t n)
{
	struct dcerpc_dir *d = f->dir;
	size_t end = stub_end(d);
	size_t trailer_end = d->auth_len != 0 ? end + SEC_TRAILER_LEN : end;
	size_t from = d->pdu_off, to = d->pdu_off + n;
	uint8_t ptype = d->prefix[2];
	bool call = ptype == DCERPC_PTYPE_REQUEST ||
		    ptype == DCERPC_PTYPE_RESPONSE;

	if (from < end) {
		d->flags &= (uint8_t)~DIR_F_BUFFER;
		if (call)
			d->call_flags |= DCERPC_FACT_F_ARGS_TRUNCATED;
		if (d->scan_state != SCAN_OFF) {
			d->scan_state = SCAN_OFF;
			d->scan_flags |= SCAN_F_CUT;
		}
	}
	if (from < trailer_end && to > end)
		d->flags |= DIR_F_TRAILER_LOST;
	if (d->auth_len != 0 && to > trailer_end) {
		d->flags &= (uint8_t)~DIR_F_BUFFER;
		d->auth_body_len = 0;
	}
	if (!call && ptype != DCERPC_PTYPE_BIND &&
	    ptype != DCERPC_PTYPE_ALTER_CONTEXT &&
	    ptype != DCERPC_PTYPE_BIND_ACK &&
	    ptype != DCERPC_PTYPE_ALTER_CONTEXT_RESP)
		d->flags |= DIR_F_SKIP;
	d->pdu_off += (uint32_t)n;
}

/* Where learn_endpoints() reports to. */
struct learn_ctx {
	struct feed *f;
	const struct dcerpc_fact *response;
};

static void
on_endpoint(void *ctx, const struct dcerpc_endpoint *ep)
{
	const struct learn_ctx *l = ctx;
	struct dcerpc_fact fact;

	fact_start(l->f, &fact, DCERPC_FACT_ENDPOINT);
	fact.call_id = l->response->call_id;
	fact.opnum = l->response->opnum;
	fact.op_name = l->response->op_name;
	fact.context_id = l->response->context_id;
	/* The interface the endpoint serves, where the answer says it. */
	memcpy(fact.iface_uuid, ep->iface_uuid, sizeof(fact.iface_uuid));
	fact.iface_ver_major = ep->iface_ver_major;
	fact.iface_name = dcerpc_interface_name(ep->iface_uuid);
	fact.endpoint = *ep;
	fact_emit(l->f, &fact);
}

/* Reports the TCP endpoints of a buffered ept_map or DCOM response. */
static void
learn_endpoints(struct feed *f, const struct dcerpc_fact *response)
{
	struct dcerpc_dir *d = f->dir;
	struct learn_ctx l = { f, response };
	size_t len = d->body_len;

	if (len > f->body_cap)
		len = f->body_cap;
	if (d->call_decoder == DCERPC_DEC_LEARN_EPM) {
		if (dcerpc_epm_parse_map_response(f->body, len, on_endpoint,
						  &l) < 0)
			report_error(f, DCERPC_ERR_STUB);
	} else {
		dcerpc_dcom_scan_bindings(f->body, len, LEARN_MAX,
					  on_endpoint, &l);
	}
}

/* Converts an NTLMSSP name into <out>; false if it was cut. */
static bool
auth_name(const struct ntlmssp_string *s, bool unicode, char *out,
	  size_t size)
{
	out[0] = '\0';
	if (s->len == 0)
		return true;
	return unicode ? dcerpc_utf16le_to_utf8(s->data, s->len, out, size) :
			 dcerpc_ascii_to_utf8(s->data, s->len, out, size);
}

/*
 * After a client BIND / ALTER_CONTEXT / AUTH3: reports the NTLMSSP
 * AUTHENTICATE its auth value carries (raw, or inside SPNEGO).
 */
static void
end_auth(struct feed *f)
{
	struct dcerpc_conn *conn = f->conn;
	struct dcerpc_dir *d = f->dir;
	const struct dcerpc_context *c = NULL;
	struct ntlmssp_names names;
	enum ntlmssp_result result;
	struct dcerpc_fact fact;
	bool fit;

	if (d->auth_len == 0 || d->auth_body_len == 0 ||
	    (d->trailer[0] != AUTH_TYPE_NTLMSSP &&
	     d->trailer[0] != AUTH_TYPE_SPNEGO))
		return;
	if ((size_t)d->auth_body_off + d->auth_body_len > f->body_cap)
		return;
	result = ntlmssp_authenticate_names(f->body + d->auth_body_off,
					    d->auth_body_len, &names);
	if (result == NTLMSSP_NONE)
		return;
	fact_start(f, &fact, DCERPC_FACT_AUTH);
	fact.auth_type = d->trailer[0];
	fact.auth_level = d->trailer[1];
	c = context_first(conn, CTX_ACCEPTED);
	if (c == NULL)
		c = context_first(conn, CTX_OFFERED);
	if (c != NULL)
		fact_set_context(&fact, c);
	fit = auth_name(&names.user, names.unicode, fact.user,
			sizeof(fact.user));
	fit &= auth_name(&names.domain, names.unicode, fact.domain,
			 sizeof(fact.domain));
	fit &= auth_name(&names.workstation, names.unicode, fact.workstation,
			 sizeof(fact.workstation));
	if (!fit || d->auth_body_len < d->auth_len)
		fact.flags |= DCERPC_FACT_F_ARGS_TRUNCATED;
	fact_emit(f, &fact);
	if (result != NTLMSSP_NAMES)
		report_error(f, DCERPC_ERR_TRUNCATED);
}

/* Reports the call in progress once its last fragment ended. */
static void
finish_call(struct feed *f)
{
	struct dcerpc_conn *conn = f->conn;
	struct dcerpc_dir *d = f->dir;
	const struct dcerpc_context *c;
	struct dcerpc_fact fact;
	bool request = d->call_ptype == DCERPC_PTYPE_REQUEST;

	fact_start(f, &fact, request ? DCERPC_FACT_REQUEST :
				       DCERPC_FACT_RESPONSE);
	fact.ptype = d->call_ptype;
	fact.call_id = d->call_id;
	fact.stub_len = d->call_stub_len;
	fact.auth_level = d->call_auth_level;
	fact.flags = d->call_flags;
	if (request) {
		fact.opnum = d->call_opnum;
	} else if (conn->last_valid && conn->last_call_id == d->call_id) {
		fact.opnum = conn->last_opnum;
	}
	c = context_find(conn, request ? d->call_context_id :
					 (conn->last_valid &&
					  conn->last_call_id == d->call_id ?
					  conn->last_context_id :
					  d->call_context_id));
	if (c != NULL) {
		fact_set_context(&fact, c);
	} else {
		fact.context_id = d->call_context_id;
		if (request)
			fact.flags |= DCERPC_FACT_F_UNKNOWN_CONTEXT;
	}
	if (fact.opnum != 0xffff)
		fact.op_name = dcerpc_operation_name(fact.iface_uuid,
						     fact.opnum);
	/* A sealed stub still has its interface and opnum: rules that need
	 * no arguments judge it by them. */
	if (request && d->call_auth_level >= AUTH_LEVEL_PKT_PRIVACY)
		fact.flags |= DCERPC_FACT_F_SEALED;
	if (request && d->call_decoder != DCERPC_DEC_NONE) {
		if (d->call_auth_level >= AUTH_LEVEL_PKT_PRIVACY) {
			/* Nothing to decode. */
		} else {
			bool complete = d->body_len == d->call_stub_len;
			int rc;

			rc = dcerpc_decode_args(d->call_decoder, f->body,
						d->body_len, complete, &fact);
			if (rc == -EBADMSG)
				report_error(f, DCERPC_ERR_STUB);
			if (d->call_decoder == DCERPC_DEC_TASK_REGISTER &&
			    (!dcerpc_xml_text_to_utf8(f->body + body_keep(f),
						      d->scan_len,
						      fact.command,
						      sizeof(fact.command)) ||
			     (d->scan_flags & SCAN_F_CUT)))
				fact.flags |= DCERPC_FACT_F_ARGS_TRUNCATED;
		}
	}
	if (!request && is_learner(d->call_decoder) &&
	    d->call_auth_level < AUTH_LEVEL_PKT_PRIVACY)
		learn_endpoints(f, &fact);
	if (request) {
		conn->last_valid = 1;
		conn->last_call_id = d->call_id;
		conn->last_opnum = d->call_opnum;
		conn->last_context_id = d->call_context_id;
	}
	fact_emit(f, &fact);
	dir_drop_call(d);
}

/* Adds up the stub of a finished REQUEST / RESPONSE fragment. */
static void
end_call_fragment(struct feed *f)
{
	struct dcerpc_dir *d = f->dir;
	size_t stub = stub_end(d) - DCERPC_HEADER_LEN -
		      fixed_body_len(d->prefix[2], d->prefix[3]);
	size_t pad = 0;
	uint64_t total;

	if (d->auth_len != 0 && (d->flags & DIR_F_TRAILER_LOST)) {
		/* Sealed or not cannot be told: no argument is read. */
		d->call_decoder = DCERPC_DEC_NONE;
	} else if (d->auth_len != 0) {
		/* auth_pad_length pads the stub to 16 bytes before the
		 * trailer: it is not part of the arguments. */
		pad = d->trailer[2];
		if (pad > stub)
			pad = stub;
		if (d->trailer[1] > d->call_auth_level)
			d->call_auth_level = d->trailer[1];
		/* Trim the padding from the buffer only if the whole
		 * fragment stub made it there. */
		if (d->frag_body_appended == stub)
			d->body_len = (uint16_t)(d->body_len - pad);
	}
	total = (uint64_t)d->call_stub_len + (stub - pad);
	d->call_stub_len = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	if (d->prefix[3] & DCERPC_PFC_LAST_FRAG)
		finish_call(f);
}

/*
 * BIND / ALTER_CONTEXT: records every presentation context offered and
 * reports one fact per context. The body buffer holds the body after the
 * common header: max_xmit_frag, max_recv_frag, assoc_group_id, then
 * p_context_elem.
 */
static void
end_bind(struct feed *f)
{
	struct dcerpc_conn *conn = f->conn;
	struct dcerpc_dir *d = f->dir;
	const uint8_t *b = f->body;
	size_t len = d->body_len, off, i, n;
	bool bind = d->prefix[2] == DCERPC_PTYPE_BIND;
	bool bad = (d->flags & DIR_F_OVERFLOW) != 0;

	/* A BIND starts a new association; ALTER_CONTEXT adds to it. */
	if (bind)
		contexts_clear(conn);
	memset(conn->offer_slot, OFFER_NONE, sizeof(conn->offer_slot));
	conn->offer_count = 0;
	if (len < 12) {
		report_error(f, DCERPC_ERR_CONTEXT_LIST);
		return;
	}
	n = b[8];
	off = 12;
	for (i = 0; i < n; i++) {
		struct dcerpc_context *c, extra;
		struct dcerpc_fact fact;
		size_t n_syntaxes;

		if (len - off < 4 + SYNTAX_ID_LEN) {
			bad = true;
			break;
		}
		n_syntaxes = b[off + 2];
		if (len - off < 4 + SYNTAX_ID_LEN * (1 + n_syntaxes)) {
			bad = true;
			break;
		}
		/* Offers beyond the table, or past the inline slots when
		 * no block is to be had, are reported, not remembered. */
		c = &extra;
		if (i < DCERPC_MAX_CONTEXTS) {
			int slot = context_slot(conn, le16(b + off));

			if (slot >= 0) {
				c = context_at(conn, (unsigned int)slot);
				conn->offer_slot[i] = (uint8_t)slot;
			}
			conn->offer_count = (uint8_t)(i + 1);
		}
		c->id = le16(b + off);
		dcerpc_uuid_from_wire(c->uuid, b + off + 4);
		c->ver_major = le16(b + off + 20);
		c->ver_minor = le16(b + off + 22);
		c->state = CTX_OFFERED;
		fact_start(f, &fact, bind ? DCERPC_FACT_BIND :
					    DCERPC_FACT_ALTER_CONTEXT);
		fact_set_context(&fact, c);
		fact_emit(f, &fact);
		off += 4 + SYNTAX_ID_LEN * (1 + n_syntaxes);
	}
	if (bad)
		report_error(f, DCERPC_ERR_CONTEXT_LIST);
}

/*
 * BIND_ACK / ALTER_CONTEXT_RESP: pairs each result with the context offered
 * at the same position and reports one fact per result. Body: max_xmit_frag,
 * max_recv_frag, assoc_group_id, sec_addr (length + string), padding to 4
 * bytes, p_result_list.
 */
static void
end_bind_ack(struct feed *f)
{
	struct dcerpc_conn *conn = f->conn;
	struct dcerpc_dir *d = f->dir;
	const uint8_t *b = f->body;
	size_t len = d->body_len, off, i, n;
	bool ack = d->prefix[2] == DCERPC_PTYPE_BIND_ACK;
	bool bad = (d->flags & DIR_F_OVERFLOW) != 0;

	if (len < 10) {
		bad = true;
		goto out;
	}
	off = 10 + (size_t)le16(b + 8);
	/* Alignment is relative to the PDU, which starts 16 bytes before
	 * the body buffer. */
	off = ((off + DCERPC_HEADER_LEN + 3) & ~(size_t)3) - DCERPC_HEADER_LEN;
	if (off + 4 > len) {
		bad = true;
		goto out;
	}
	n = b[off];
	off += 4;
	for (i = 0; i < n; i++) {
		struct dcerpc_fact fact;
		uint16_t result;

		if (len - off < 4 + SYNTAX_ID_LEN) {
			bad = true;
			break;
		}
		result = le16(b + off);
		fact_start(f, &fact, ack ? DCERPC_FACT_BIND_ACK :
					   DCERPC_FACT_ALTER_CONTEXT_RESP);
		fact.status = result;
		if (i < conn->offer_count &&
		    conn->offer_slot[i] != OFFER_NONE) {
			struct dcerpc_context *c =
				context_at(conn, conn->offer_slot[i]);

			if (c != NULL) {
				fact_set_context(&fact, c);
				c->state = result == 0 ? CTX_ACCEPTED :
							 CTX_FREE;
			}
		}
		fact_emit(f, &fact);
		off += 4 + SYNTAX_ID_LEN;
	}
out:
	memset(conn->offer_slot, OFFER_NONE, sizeof(conn->offer_slot));
	conn->offer_count = 0;
	if (bad)
		report_error(f, DCERPC_ERR_CONTEXT_LIST);
}

static void
end_bind_nak(struct feed *f)
{
	struct dcerpc_conn *conn = f->conn;
	struct dcerpc_fact fact;
	unsigned int i;

	fact_start(f, &fact, DCERPC_FACT_BIND_NAK);
	fact.status = le16(f->dir->prefix + DCERPC_HEADER_LEN);
	/* Nothing offered in the refused bind is usable. */
	for (i = 0; i < conn->offer_count; i++)
		if (conn->offer_slot[i] != OFFER_NONE) {
			struct dcerpc_context *c =
				context_at(conn, conn->offer_slot[i]);

			if (c != NULL)
				c->state = CTX_FREE;
		}
	memset(conn->offer_slot, OFFER_NONE, sizeof(conn->offer_slot));
	conn->offer_count = 0;
	fact_emit(f, &fact);
}

static void
end_fault(struct feed *f)
{
	struct dcerpc_conn *conn = f->conn;
	struct dcerpc_dir *d = f->dir;
	const struct dcerpc_context *c;
	struct dcerpc_fact fact;

	fact_start(f, &fact, DCERPC_FACT_FAULT);
	fact.context_id = le16(d->prefix + 20);
	fact.status = le32(d->prefix + 24);
	if (conn->last_valid && conn->last_call_id == fact.call_id) {
		fact.opnum = conn->last_opnum;
		fact.context_id = conn->last_context_id;
	}
	c = context_find(conn, fact.context_id);
	if (c != NULL)
		fact_set_context(&fact, c);
	if (fact.opnum != 0xffff)
		fact.op_name = dcerpc_operation_name(fact.iface_uuid,
						     fact.opnum);
	/* A fault ends the call, including a response in progress. */
	if (d->call_active && d->call_id == fact.call_id)
		dir_drop_call(d);
	fact_emit(f, &fact);
}

static void
on_pdu_end(struct feed *f)
{
	struct dcerpc_dir *d = f->dir;

	if (!(d->flags & DIR_F_SKIP)) {
		switch (d->prefix[2]) {
		case DCERPC_PTYPE_REQUEST:
		case DCERPC_PTYPE_RESPONSE:
			end_call_fragment(f);
			break;
		case DCERPC_PTYPE_BIND:
		case DCERPC_PTYPE_ALTER_CONTEXT:
			end_bind(f);
			if (!f->from_server)
				end_auth(f);
			d->body_len = 0;
			d->auth_body_len = 0;
			break;
		case DCERPC_PTYPE_AUTH3:
			if (!f->from_server)
				end_auth(f);
			d->body_len = 0;
			d->auth_body_len = 0;
			break;
		case DCERPC_PTYPE_BIND_ACK:
		case DCERPC_PTYPE_ALTER_CONTEXT_RESP:
			end_bind_ack(f);
			d->body_len = 0;
			break;
		case DCERPC_PTYPE_BIND_NAK:
			end_bind_nak(f);
			break;
		case DCERPC_PTYPE_FAULT:
			end_fault(f);
			break;
		case DCERPC_PTYPE_CO_CANCEL:
		case DCERPC_PTYPE_ORPHANED:
			/* The client gave up the call in progress. */
			if (d->call_active &&
			    d->call_id == le32(d->prefix + 12))
				dir_drop_call(d);
			break;
		default:
			break;
		}
	}
	dir_reset_pdu(d);
}

/*
 * At the end of a feed call: body buffers still needed move from the
 * thread's scratch block to one of the association's own; else it gives
 * its block back. When none can be had, the PDU and call in flight of the
 * direction fed are given up, reported.
 */
static void
hold_bodies(struct feed *f)
{
	struct dcerpc_conn *conn = f->conn;
	struct dcerpc_dir *d = f->dir;
	uint8_t *p;

	if (!dir_holds_body(&conn->dir[0]) && !dir_holds_body(&conn->dir[1])) {
		bodies_free(conn);
		return;
	}
	if (conn->bodies != scratch_bodies)
		return;
	/* Only the direction fed can hold what the scratch block has. */
	p = bodies_alloc(conn);
	if (p != NULL) {
		memcpy(p, scratch_bodies, DCERPC_BODIES_SIZE);
		conn->bodies = p;
		return;
	}
	conn->bodies = NULL;
	report_error(f, DCERPC_ERR_NO_MEMORY);
	dir_drop_call(d);
	d->auth_body_len = 0;
	d->flags &= (uint8_t)~DIR_F_BUFFER;
	if (d->state != DIR_HEADER)
		d->flags |= DIR_F_SKIP;
}

/*
 * At the end of a feed call: direction states still needed (a direction
 * inside a PDU or call) move from the thread's scratch pair to a block of
 * the association's own; else it gives its block back and keeps only how
 * each direction waits. When no block can be had, the PDU and call in
 * flight of the direction fed are given up, reported (<f> not NULL), and
 * it resynchronises at the next chunk that starts a PDU.
 */
static void
hold_dirs(struct dcerpc_conn *conn, struct feed *f, int from_server)
{
	struct dcerpc_dir *p;
	unsigned int i;

	if (dir_at_rest(&conn->dir[0]) && dir_at_rest(&conn->dir[1])) {
		for (i = 0; i < 2; i++)
			conn->rest[i] = conn->dir[i].state;
		dirs_free(conn);
		return;
	}
	if (conn->dir != scratch_dirs)
		return;
	p = conn->pool != NULL ?
		chunk_alloc(conn->pool, conn->pool_class, conn->owner) :
		malloc(DCERPC_DIRS_SIZE);
	if (p != NULL) {
		memcpy(p, scratch_dirs, DCERPC_DIRS_SIZE);
		conn->dir = p;
		return;
	}
	/* The other direction was at rest when the call began (the pair
	 * was the scratch one), and only the direction fed moved. */
	if (f != NULL)
		report_error(f, DCERPC_ERR_NO_MEMORY);
	for (i = 0; i < 2; i++)
		conn->rest[i] = (int)i == from_server ? DIR_RESYNC :
			conn->dir[i].state;
	conn->dir = NULL;
	bodies_free(conn);
}

/* Sets <f> up for one call on direction <from_server> of <conn>. */
static void
feed_begin(struct feed *f, struct dcerpc_conn *conn, int from_server,
	   uint64_t ts_ns, dcerpc_fact_fn fn, void *ctx)
{
	if (conn->bodies == NULL)
		conn->bodies = scratch_bodies;
	f->conn = conn;
	f->dir = &conn->dir[from_server];
	f->from_server = from_server;
	feed_select_body(f);
	f->ts_ns = ts_ns;
	f->fn = fn;
	f->ctx = ctx;
	f->errors = 0;
}

int
dcerpc_conn_gap(struct dcerpc_conn *conn, int from_server, size_t len,
		uint64_t ts_ns, dcerpc_fact_fn fn, void *ctx)
{
	struct feed f;
	struct dcerpc_dir *d;

	if (conn == NULL)
		return -EINVAL;
	from_server = from_server != 0;
	if (len == 0)
		return 0;
	if (conn->dir == NULL) {
		/* Between PDUs: the next one's header is what was lost. */
		conn->rest[from_server] = DIR_RESYNC;
		return 0;
	}
	d = &conn->dir[from_server];
	if (d->state == DIR_RESYNC)
		return 0;
	feed_begin(&f, conn, from_server, ts_ns, fn, ctx);
	/* Inside a body, the PDU's length says where the next one starts. */
	while (len > 0 && d->state == DIR_BODY) {
		size_t k = d->frag_len - d->pdu_off;

		if (k > len)
			k = len;
		on_body_lost(&f, k);
		len -= k;
		if (d->pdu_off == d->frag_len)
			on_pdu_end(&f);
	}
	if (len > 0) {
		/* A header lost, whole or in part: so is the framing. */
		d->state = DIR_RESYNC;
		dir_drop_call(d);
	}
	hold_bodies(&f);
	hold_dirs(conn, &f, from_server);
	return 0;
}

int
dcerpc_conn_feed(struct dcerpc_conn *conn, int from_server,
		 const uint8_t *data, size_t len, uint64_t ts_ns,
		 dcerpc_fact_fn fn, void *ctx)
{
	struct feed f;
	struct dcerpc_dir *d;

	if (conn == NULL || (data == NULL && len != 0))
		return -EINVAL;
	from_server = from_server != 0;
	if (conn->dir == NULL) {
		/* Both directions wait for a PDU: nothing to copy in. */
		if (conn->rest[from_server] == DIR_RESYNC &&
		    !dcerpc_looks_like_pdu(data, len))
			return 0;
		dir_fresh(&scratch_dirs[0], conn->rest[0]);
		dir_fresh(&scratch_dirs[1], conn->rest[1]);
		conn->dir = scratch_dirs;
	}
	d = &conn->dir[from_server];

	if (d->state == DIR_RESYNC) {
		/* Over a pipe every write starts a PDU, so a chunk that
		 * starts like one is where framing resumes. */
		if (!dcerpc_looks_like_pdu(data, len)) {
			hold_dirs(conn, NULL, from_server);
			return 0;
		}
		dir_drop_call(d);
		dir_reset_pdu(d);
	}
	feed_begin(&f, conn, from_server, ts_ns, fn, ctx);

	while (len > 0) {
		size_t k;

		switch (d->state) {
		case DIR_HEADER:
		case DIR_PREFIX:
			k = (size_t)(d->prefix_want - d->prefix_len);
			if (k > len)
				k = len;
			memcpy(d->prefix + d->prefix_len, data, k);
			d->prefix_len = (uint8_t)(d->prefix_len + k);
			d->pdu_off += (uint32_t)k;
			data += k;
			len -= k;
			if (d->prefix_len < d->prefix_want)
				break;
			if (d->state == DIR_HEADER) {
				if (!on_header(&f)) {
					d->state = DIR_RESYNC;
					dir_drop_call(d);
					hold_bodies(&f);
					hold_dirs(conn, &f, from_server);
					return -EBADMSG;
				}
			} else {
				on_prefix(&f);
			}
			if (d->state == DIR_BODY && d->pdu_off == d->frag_len)
				on_pdu_end(&f);
			break;
		case DIR_BODY:
			k = d->frag_len - d->pdu_off;
			if (k > len)
				k = len;
			on_body(&f, data, k);
			data += k;
			len -= k;
			if (d->pdu_off == d->frag_len)
				on_pdu_end(&f);
			break;
		default:
			/* DIR_RESYNC is only left at a chunk start. */
			len = 0;
			break;
		}
	}
	hold_bodies(&f);
	hold_dirs(conn, &f, from_server);
	return f.errors != 0 ? -EBADMSG : 0;
}
