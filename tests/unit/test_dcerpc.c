/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DCE/RPC parser: real svcctl traffic from tests/pcaps, synthetic calls that
 * launch code, fragments, chunked feeding and malformed input.
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

#include "chunk.h"
#include "dcerpc.h"
#include "utf8.h"

/* ---- real PDUs, extracted with tshark from tests/pcaps ---- */

/* psexec_smb2.pcap frame 93: BIND svcctl v2.0, context 0 */
static const uint8_t smb2_bind[] = {
	0x05, 0x00, 0x0b, 0x03, 0x10, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0xb8, 0x10, 0xb8, 0x10, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x81, 0xbb, 0x7a, 0x36,
	0x44, 0x98, 0xf1, 0x35, 0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10, 0x03,
	0x02, 0x00, 0x00, 0x00, 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
	0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 0x02, 0x00, 0x00, 0x00,
};
/* frame 98: BIND_ACK, secondary address \pipe\svcctl, accepted */
static const uint8_t smb2_bind_ack[] = {
	0x05, 0x00, 0x0c, 0x03, 0x10, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0xb8, 0x10, 0xb8, 0x10, 0x73, 0xab, 0x00, 0x01,
	0x0d, 0x00, 0x5c, 0x70, 0x69, 0x70, 0x65, 0x5c, 0x73, 0x76, 0x63, 0x63,
	0x74, 0x6c, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00,
	0x2b, 0x10, 0x48, 0x60, 0x02, 0x00, 0x00, 0x00,
};
/* frame 100: REQUEST OpenSCManagerW (15) */
static const uint8_t smb2_open_scm[] = {
	0x05, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00, 0x00, 0x68, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00,
	0x79, 0x58, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x06, 0x00, 0x00, 0x00, 0x44, 0x00, 0x55, 0x00, 0x4d, 0x00, 0x4d, 0x00,
	0x59, 0x00, 0x00, 0x00, 0x5e, 0x9d, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x53, 0x00, 0x65, 0x00,
	0x72, 0x00, 0x76, 0x00, 0x69, 0x00, 0x63, 0x00, 0x65, 0x00, 0x73, 0x00,
	0x41, 0x00, 0x63, 0x00, 0x74, 0x00, 0x69, 0x00, 0x76, 0x00, 0x65, 0x00,
	0x00, 0x00, 0xbf, 0xbf, 0x3f, 0x00, 0x00, 0x00,
};
/* frame 103: RESPONSE to OpenSCManagerW */
static const uint8_t smb2_open_scm_resp[] = {
	0x05, 0x00, 0x02, 0x03, 0x10, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xf8, 0xba, 0x87, 0x13, 0xe5, 0x5c, 0xa3, 0x4f,
	0x92, 0xa8, 0x52, 0x0c, 0x7d, 0x88, 0xf7, 0x63, 0x00, 0x00, 0x00, 0x00,
};
/* frame 104: REQUEST OpenServiceW (16) */
static const uint8_t smb2_open_service[] = {
	0x05, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xf8, 0xba, 0x87, 0x13, 0xe5, 0x5c, 0xa3, 0x4f,
	0x92, 0xa8, 0x52, 0x0c, 0x7d, 0x88, 0xf7, 0x63, 0x05, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x74, 0x00, 0x4d, 0x00,
	0x64, 0x00, 0x73, 0x00, 0x00, 0x00, 0xbf, 0xbf, 0xff, 0x01, 0x0f, 0x00,
};
/* frame 108: REQUEST CreateServiceW (12): tMds, %systemroot%\QmEyydJf.exe */
static const uint8_t smb2_create_service[] = {
	0x05, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00, 0x00, 0xcc, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xf8, 0xba, 0x87, 0x13, 0xe5, 0x5c, 0xa3, 0x4f,
	0x92, 0xa8, 0x52, 0x0c, 0x7d, 0x88, 0xf7, 0x63, 0x05, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x74, 0x00, 0x4d, 0x00,
	0x64, 0x00, 0x73, 0x00, 0x00, 0x00, 0xaa, 0xaa, 0x9a, 0x69, 0x00, 0x00,
	0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
	0x74, 0x00, 0x4d, 0x00, 0x64, 0x00, 0x73, 0x00, 0x00, 0x00, 0xbf, 0xbf,
	0xff, 0x01, 0x0f, 0x00, 0x10, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x1a, 0x00, 0x00, 0x00, 0x25, 0x00, 0x73, 0x00, 0x79, 0x00, 0x73, 0x00,
	0x74, 0x00, 0x65, 0x00, 0x6d, 0x00, 0x72, 0x00, 0x6f, 0x00, 0x6f, 0x00,
	0x74, 0x00, 0x25, 0x00, 0x5c, 0x00, 0x51, 0x00, 0x6d, 0x00, 0x45, 0x00,
	0x79, 0x00, 0x79, 0x00, 0x64, 0x00, 0x4a, 0x00, 0x66, 0x00, 0x2e, 0x00,
	0x65, 0x00, 0x78, 0x00, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* frame 111: FAULT nca_s_op_rng_error (Samba has no CreateServiceW) */
static const uint8_t smb2_fault[] = {
	0x05, 0x00, 0x03, 0x03, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x00,
};
/* psexec_smb1.pcap frame 102: REQUEST CreateServiceW over SMB1 TRANS */
static const uint8_t smb1_create_service[] = {
	0x05, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00, 0x00, 0xcc, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xca, 0xd5, 0x30, 0x3f, 0xc9, 0xaf, 0x13, 0x4b,
	0x83, 0xe1, 0x1c, 0x4e, 0xbd, 0x5f, 0xc5, 0x80, 0x05, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x67, 0x00, 0x53, 0x00,
	0x6b, 0x00, 0x73, 0x00, 0x00, 0x00, 0xaa, 0xaa, 0x7d, 0xe8, 0x00, 0x00,
	0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
	0x67, 0x00, 0x53, 0x00, 0x6b, 0x00, 0x73, 0x00, 0x00, 0x00, 0xbf, 0xbf,
	0xff, 0x01, 0x0f, 0x00, 0x10, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x1a, 0x00, 0x00, 0x00, 0x25, 0x00, 0x73, 0x00, 0x79, 0x00, 0x73, 0x00,
	0x74, 0x00, 0x65, 0x00, 0x6d, 0x00, 0x72, 0x00, 0x6f, 0x00, 0x6f, 0x00,
	0x74, 0x00, 0x25, 0x00, 0x5c, 0x00, 0x72, 0x00, 0x6d, 0x00, 0x77, 0x00,
	0x4b, 0x00, 0x76, 0x00, 0x51, 0x00, 0x57, 0x00, 0x55, 0x00, 0x2e, 0x00,
	0x65, 0x00, 0x78, 0x00, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* Interfaces in textual byte order. */
static const uint8_t svcctl_uuid[16] = {
	0x36, 0x7a, 0xbb, 0x81, 0x98, 0x44, 0x35, 0xf1,
	0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10, 0x03,
};
static const uint8_t atsvc_uuid[16] = {
	0x1f, 0xf7, 0x06, 0x82, 0x0a, 0x51, 0x30, 0xe8,
	0x07, 0x6d, 0x74, 0x0b, 0xe8, 0xce, 0xe9, 0x8b,
};
static const uint8_t tsch_uuid[16] = {
	0x86, 0xd3, 0x59, 0x49, 0x83, 0xc9, 0x40, 0x44,
	0xb4, 0x24, 0xdb, 0x36, 0x32, 0x31, 0xfd, 0x0c,
};
static const uint8_t winreg_uuid[16] = {
	0x33, 0x8c, 0xd0, 0x01, 0x22, 0x44, 0x31, 0xf1,
	0xaa, 0xaa, 0x90, 0x00, 0x38, 0x00, 0x10, 0x03,
};
static const uint8_t scm_activator_uuid[16] = {
	0x00, 0x00, 0x01, 0xa0, 0x00, 0x00, 0x00, 0x00,
	0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
};
static const uint8_t wbem_login_uuid[16] = {
	0xf3, 0x09, 0xad, 0x18, 0xd8, 0x6a, 0x11, 0xd0,
	0xa0, 0x75, 0x00, 0xc0, 0x4f, 0xb6, 0x88, 0x20,
};
/* NDR transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2, wire order. */
static const uint8_t ndr_syntax_wire[20] = {
	0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
	0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60,
	0x02, 0x00, 0x00, 0x00,
};

/* Facts seen by a feed, copied out of the callback. */
#define MAX_FACTS 512

struct recorder {
	unsigned int count;
	struct dcerpc_fact facts[MAX_FACTS];
};

static struct recorder rec;
static struct recorder rec_chunked;
static struct dcerpc_conn conn;

static void
record(void *ctx, const struct dcerpc_fact *fact)
{
	struct recorder *r = ctx;

	if (r->count < MAX_FACTS)
		r->facts[r->count] = *fact;
	r->count++;
}

static int
setup(void **state)
{
	(void)state;
	memset(&rec, 0, sizeof(rec));
	memset(&rec_chunked, 0, sizeof(rec_chunked));
	dcerpc_conn_init(&conn);
	return 0;
}

static int
feed(int from_server, const uint8_t *data, size_t len)
{
	return dcerpc_conn_feed(&conn, from_server, data, len, 42, record,
				&rec);
}

/* Returns the only fact of <type> recorded, failing if not exactly one. */
static const struct dcerpc_fact *
only_fact(enum dcerpc_fact_type type)
{
	const struct dcerpc_fact *found = NULL;
	unsigned int i, n = 0;

	for (i = 0; i < rec.count && i < MAX_FACTS; i++) {
		if (rec.facts[i].type == type) {
			found = &rec.facts[i];
			n++;
		}
	}
	assert_int_equal(n, 1);
	return found;
}

static unsigned int
count_errors(enum dcerpc_error error)
{
	unsigned int i, n = 0;

	for (i = 0; i < rec.count && i < MAX_FACTS; i++)
		if (rec.facts[i].type == DCERPC_FACT_ERROR &&
		    rec.facts[i].error == error)
			n++;
	return n;
}

/* ---- PDU builders ---- */

struct wbuf {
	uint8_t data[8192];
	size_t len;
};

static void
put8(struct wbuf *b, uint8_t v)
{
	assert_true(b->len < sizeof(b->data));
	b->data[b->len++] = v;
}

static void
put16(struct wbuf *b, uint16_t v)
{
	put8(b, (uint8_t)v);
	put8(b, (uint8_t)(v >> 8));
}

static void
put32(struct wbuf *b, uint32_t v)
{
	put16(b, (uint16_t)v);
	put16(b, (uint16_t)(v >> 16));
}

static void
put_bytes(struct wbuf *b, const void *p, size_t n)
{
	assert_true(b->len + n <= sizeof(b->data));
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* Pads with a non-zero byte, as Impacket does, to catch reads of padding. */
static void
put_align(struct wbuf *b, size_t n)
{
	while (b->len % n != 0)
		put8(b, 0xaa);
}

static void
put_uuid(struct wbuf *b, const uint8_t uuid[16])
{
	static const uint8_t order[16] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15,
	};
	unsigned int i;

	for (i = 0; i < 16; i++)
		put8(b, uuid[order[i]]);
}

/* [string] wchar_t*: conformant varying UTF-16 with the terminating NUL. */
static void
put_wstring_units(struct wbuf *b, const uint16_t *units, size_t n)
{
	size_t i;

	put_align(b, 4);
	put32(b, (uint32_t)n + 1);
	put32(b, 0);
	put32(b, (uint32_t)n + 1);
	for (i = 0; i < n; i++)
		put16(b, units[i]);
	put16(b, 0);
}

static void
put_wstring(struct wbuf *b, const char *s)
{
	uint16_t units[4096];
	size_t i, n = strlen(s);

	assert_true(n < 4096);
	for (i = 0; i < n; i++)
		units[i] = (uint8_t)s[i];
	put_wstring_units(b, units, n);
}

/* [string] char*: conformant varying 8-bit string with its NUL. */
static void
put_astring(struct wbuf *b, const char *s)
{
	size_t n = strlen(s);

	put_align(b, 4);
	put32(b, (uint32_t)n + 1);
	put32(b, 0);
	put32(b, (uint32_t)n + 1);
	put_bytes(b, s, n + 1);
}

static void
put_string(struct wbuf *b, int wide, const char *s)
{
	if (wide)
		put_wstring(b, s);
	else
		put_astring(b, s);
}

/* Wraps <body> in a common header (little-endian drep). */
static size_t
build_pdu(uint8_t *out, uint8_t ptype, uint8_t pfc, uint32_t call_id,
	  const uint8_t *body, size_t body_len, uint16_t auth_len)
{
	size_t frag_len = DCERPC_HEADER_LEN + body_len;

	out[0] = 5;
	out[1] = 0;
	out[2] = ptype;
	out[3] = pfc;
	out[4] = 0x10;
	out[5] = 0;
	out[6] = 0;
	out[7] = 0;
	out[8] = (uint8_t)frag_len;
	out[9] = (uint8_t)(frag_len >> 8);
	out[10] = (uint8_t)auth_len;
	out[11] = (uint8_t)(auth_len >> 8);
	out[12] = (uint8_t)call_id;
	out[13] = (uint8_t)(call_id >> 8);
	out[14] = (uint8_t)(call_id >> 16);
	out[15] = (uint8_t)(call_id >> 24);
	if (body_len != 0)
		memcpy(out + DCERPC_HEADER_LEN, body, body_len);
	return frag_len;
}

static size_t
build_request(uint8_t *out, uint8_t pfc, uint32_t call_id, uint16_t context,
	      uint16_t opnum, const uint8_t *stub, size_t stub_len)
{
	struct wbuf body = { .len = 0 };

	put32(&body, (uint32_t)stub_len);
	put16(&body, context);
	put16(&body, opnum);
	put_bytes(&body, stub, stub_len);
	return build_pdu(out, DCERPC_PTYPE_REQUEST, pfc, call_id, body.data,
			 body.len, 0);
}

static size_t
build_response(uint8_t *out, uint8_t pfc, uint32_t call_id,
	       uint16_t context, size_t stub_len)
{
	struct wbuf body = { .len = 0 };
	size_t i;

	put32(&body, (uint32_t)stub_len);
	put16(&body, context);
	put8(&body, 0);
	put8(&body, 0);
	for (i = 0; i < stub_len; i++)
		put8(&body, (uint8_t)i);
	return build_pdu(out, DCERPC_PTYPE_RESPONSE, pfc, call_id, body.data,
			 body.len, 0);
}

struct offer {
	uint16_t id;
	const uint8_t *uuid;
	uint16_t major;
};

static size_t
build_bind(uint8_t *out, uint8_t ptype, uint32_t call_id,
	   const struct offer *offers, size_t n)
{
	struct wbuf body = { .len = 0 };
	size_t i;

	put16(&body, 4280);
	put16(&body, 4280);
	put32(&body, 0);
	put8(&body, (uint8_t)n);
	put8(&body, 0);
	put16(&body, 0);
	for (i = 0; i < n; i++) {
		put16(&body, offers[i].id);
		put8(&body, 1);
		put8(&body, 0);
		put_uuid(&body, offers[i].uuid);
		put16(&body, offers[i].major);
		put16(&body, 0);
		put_bytes(&body, ndr_syntax_wire, sizeof(ndr_syntax_wire));
	}
	return build_pdu(out, ptype, DCERPC_PFC_FIRST_FRAG |
			 DCERPC_PFC_LAST_FRAG, call_id, body.data, body.len, 0);
}

static size_t
build_bind_ack(uint8_t *out, uint8_t ptype, uint32_t call_id,
	       const uint16_t *results, size_t n)
{
	static const char sec_addr[] = "\\pipe\\test";
	struct wbuf body = { .len = 0 };
	size_t i;

	put16(&body, 4280);
	put16(&body, 4280);
	put32(&body, 0x1234);
	put16(&body, sizeof(sec_addr));
	put_bytes(&body, sec_addr, sizeof(sec_addr));
	/* Align the result list to 4 bytes of the PDU (16 before body). */
	while ((body.len + DCERPC_HEADER_LEN) % 4 != 0)
		put8(&body, 0);
	put8(&body, (uint8_t)n);
	put8(&body, 0);
	put16(&body, 0);
	for (i = 0; i < n; i++) {
		put16(&body, results[i]);
		put16(&body, 0);
		put_bytes(&body, ndr_syntax_wire, sizeof(ndr_syntax_wire));
	}
	return build_pdu(out, ptype, DCERPC_PFC_FIRST_FRAG |
			 DCERPC_PFC_LAST_FRAG, call_id, body.data, body.len, 0);
}

#define FIRST_LAST (DCERPC_PFC_FIRST_FRAG | DCERPC_PFC_LAST_FRAG)

/* BINDs <uuid> as context <id>, acknowledges it and forgets the facts. */
static void
bind_one(uint16_t id, const uint8_t *uuid, uint16_t major)
{
	struct offer offer = { id, uuid, major };
	static const uint16_t accepted[1] = { 0 };
	uint8_t pdu[256];
	size_t n;

	n = build_bind(pdu, DCERPC_PTYPE_BIND, 1, &offer, 1);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_bind_ack(pdu, DCERPC_PTYPE_BIND_ACK, 1, accepted, 1);
	assert_int_equal(feed(1, pdu, n), 0);
	assert_int_equal(rec.count, 2);
	rec.count = 0;
}

/* Stub of RCreateService* up to dwPwSize. */
static void
build_create_service_stub(struct wbuf *s, int wide, const char *name,
			  const char *display, const char *path)
{
	uint8_t handle[20];

	memset(handle, 0x11, sizeof(handle));
	put_bytes(s, handle, sizeof(handle));
	put_string(s, wide, name);
	put_align(s, 4);
	put32(s, 0x00020000);		/* lpDisplayName referent */
	put_string(s, wide, display);
	put_align(s, 4);
	put32(s, 0x000f01ff);		/* SERVICE_ALL_ACCESS */
	put32(s, 0x10);			/* SERVICE_WIN32_OWN_PROCESS */
	put32(s, 3);			/* SERVICE_DEMAND_START */
	put32(s, 0);			/* SERVICE_ERROR_IGNORE */
	put_string(s, wide, path);
	put_align(s, 4);
	put32(s, 0);			/* lpLoadOrderGroup */
	put32(s, 0);			/* lpdwTagId */
	put32(s, 0);			/* lpDependencies */
	put32(s, 0);			/* dwDependSize */
	put32(s, 0);			/* lpServiceStartName */
	put32(s, 0);			/* lpPassword */
	put32(s, 0);			/* dwPwSize */
}

/* ---- tests ---- */

static void
test_conn_fits_its_budget(void **state)
{
	(void)state;
	assert_true(sizeof(struct dcerpc_conn) <= DCERPC_CONN_SIZE_MAX);
	/* The budget in dcerpc.h: the body buffers live apart. */
	assert_int_equal(DCERPC_CONN_SIZE_MAX, 168);
}

/* psexec.py over SMB 2.1 against Samba, as captured. */
static void
test_psexec_smb2_svcctl(void **state)
{
	const struct dcerpc_fact *f;
	char uuid[37];

	(void)state;
	assert_int_equal(feed(0, smb2_bind, sizeof(smb2_bind)), 0);
	assert_int_equal(feed(1, smb2_bind_ack, sizeof(smb2_bind_ack)), 0);
	assert_int_equal(feed(0, smb2_open_scm, sizeof(smb2_open_scm)), 0);
	assert_int_equal(feed(1, smb2_open_scm_resp,
			      sizeof(smb2_open_scm_resp)), 0);
	assert_int_equal(feed(0, smb2_open_service,
			      sizeof(smb2_open_service)), 0);
	assert_int_equal(feed(0, smb2_create_service,
			      sizeof(smb2_create_service)), 0);
	assert_int_equal(feed(1, smb2_fault, sizeof(smb2_fault)), 0);
	assert_int_equal(rec.count, 7);

	f = &rec.facts[0];
	assert_int_equal(f->type, DCERPC_FACT_BIND);
	assert_int_equal(f->from_server, 0);
	assert_int_equal(f->ts_ns, 42);
	assert_int_equal(f->context_id, 0);
	assert_string_equal(dcerpc_uuid_format(f->iface_uuid, uuid),
			    "367abb81-9844-35f1-ad32-98f038001003");
	assert_string_equal(f->iface_name, "svcctl");
	assert_int_equal(f->iface_ver_major, 2);
	assert_int_equal(f->iface_ver_minor, 0);

	f = &rec.facts[1];
	assert_int_equal(f->type, DCERPC_FACT_BIND_ACK);
	assert_int_equal(f->from_server, 1);
	assert_int_equal(f->status, 0);
	assert_string_equal(f->iface_name, "svcctl");

	f = &rec.facts[2];
	assert_int_equal(f->type, DCERPC_FACT_REQUEST);
	assert_int_equal(f->call_id, 1);
	assert_int_equal(f->opnum, 15);
	assert_string_equal(f->op_name, "OpenSCManagerW");
	assert_int_equal(f->args, DCERPC_ARGS_NONE);

	f = &rec.facts[3];
	assert_int_equal(f->type, DCERPC_FACT_RESPONSE);
	assert_int_equal(f->opnum, 15);
	assert_string_equal(f->op_name, "OpenSCManagerW");
	assert_int_equal(f->stub_len, 24);

	f = &rec.facts[4];
	assert_int_equal(f->type, DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "OpenServiceW");

	f = &rec.facts[5];
	assert_int_equal(f->type, DCERPC_FACT_REQUEST);
	assert_int_equal(f->call_id, 3);
	assert_int_equal(f->opnum, 12);
	assert_string_equal(f->iface_name, "svcctl");
	assert_string_equal(f->op_name, "CreateServiceW");
	assert_int_equal(f->args, DCERPC_ARGS_SERVICE);
	assert_string_equal(f->name, "tMds");
	assert_string_equal(f->command, "%systemroot%\\QmEyydJf.exe");
	assert_int_equal(f->flags, 0);
	assert_int_equal(f->stub_len, sizeof(smb2_create_service) - 24);

	/* Samba has no CreateServiceW: nca_s_op_rng_error. */
	f = &rec.facts[6];
	assert_int_equal(f->type, DCERPC_FACT_FAULT);
	assert_int_equal(f->call_id, 3);
	assert_int_equal(f->status, 0x1c010002);
	assert_string_equal(f->op_name, "CreateServiceW");
}

static void
test_psexec_smb1_create_service(void **state)
{
	const struct dcerpc_fact *f;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	assert_int_equal(feed(0, smb1_create_service,
			      sizeof(smb1_create_service)), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "CreateServiceW");
	assert_string_equal(f->name, "gSks");
	assert_string_equal(f->command, "%systemroot%\\rmwKvQWU.exe");
}

static void
test_create_service_ascii_variants(void **state)
{
	static const uint16_t opnums[] = { 24, 44 };
	static const char *const names[] = {
		"CreateServiceA", "CreateServiceWOW64A",
	};
	unsigned int i;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	for (i = 0; i < 2; i++) {
		struct wbuf stub = { .len = 0 };
		const struct dcerpc_fact *f;
		uint8_t pdu[1024];
		size_t n;

		rec.count = 0;
		build_create_service_stub(&stub, 0, "BTOBTO", "BTOBTO",
					  "%COMSPEC% /Q /c echo dir \xe9 > x");
		n = build_request(pdu, FIRST_LAST, 10 + i, 0, opnums[i],
				  stub.data, stub.len);
		assert_int_equal(feed(0, pdu, n), 0);
		f = only_fact(DCERPC_FACT_REQUEST);
		assert_string_equal(f->op_name, names[i]);
		assert_int_equal(f->args, DCERPC_ARGS_SERVICE);
		assert_string_equal(f->name, "BTOBTO");
		/* Not ASCII: replaced with U+FFFD. */
		assert_string_equal(f->command, "%COMSPEC% /Q /c echo dir "
				    "\xef\xbf\xbd > x");
	}
}

static void
test_create_service_wide_variants(void **state)
{
	static const uint16_t opnums[] = { 12, 45, 60 };
	static const char *const names[] = {
		"CreateServiceW", "CreateServiceWOW64W", "CreateWowService",
	};
	static const struct offer offers[] = {
		{ 0, winreg_uuid, 1 },
		{ 1, svcctl_uuid, 2 },
	};
	static const uint16_t results[] = { 0, 0 };
	/* "C:\x" U+1F600 (surrogate pair), lone high surrogate, lone low
	 * surrogate, U+00E9 */
	static const uint16_t path[] = {
		'C', ':', '\\', 'x', 0xd83d, 0xde00, 0xd800, 'y', 0xdc00, 0xe9,
	};
	unsigned int i;
	uint8_t pdu[1024];
	size_t n;

	(void)state;
	n = build_bind(pdu, DCERPC_PTYPE_BIND, 1, offers, 2);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_bind_ack(pdu, DCERPC_PTYPE_BIND_ACK, 1, results, 2);
	assert_int_equal(feed(1, pdu, n), 0);
	assert_int_equal(rec.count, 4);
	assert_string_equal(rec.facts[0].iface_name, "winreg");
	assert_string_equal(rec.facts[1].iface_name, "svcctl");
	assert_int_equal(rec.facts[3].context_id, 1);
	assert_string_equal(rec.facts[3].iface_name, "svcctl");

	for (i = 0; i < 3; i++) {
		struct wbuf stub = { .len = 0 };
		uint8_t handle[20] = { 0 };
		const struct dcerpc_fact *f;

		rec.count = 0;
		put_bytes(&stub, handle, sizeof(handle));
		put_wstring(&stub, "PSEXESVC");
		put_align(&stub, 4);
		put32(&stub, 0);	/* no display name */
		put32(&stub, 0xf01ff);
		put32(&stub, 0x10);
		put32(&stub, 3);
		put32(&stub, 0);
		put_wstring_units(&stub, path, sizeof(path) / 2);
		put32(&stub, 0);
		n = build_request(pdu, FIRST_LAST, 20 + i, 1, opnums[i],
				  stub.data, stub.len);
		assert_int_equal(feed(0, pdu, n), 0);
		f = only_fact(DCERPC_FACT_REQUEST);
		assert_int_equal(f->context_id, 1);
		assert_string_equal(f->iface_name, "svcctl");
		assert_string_equal(f->op_name, names[i]);
		assert_string_equal(f->name, "PSEXESVC");
		assert_string_equal(f->command,
				    "C:\\x\xf0\x9f\x98\x80\xef\xbf\xbdy"
				    "\xef\xbf\xbd\xc3\xa9");
	}
}

static void
test_change_service_config(void **state)
{
	struct wbuf stub = { .len = 0 };
	uint8_t handle[20] = { 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[512];
	size_t n;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	put_bytes(&stub, handle, sizeof(handle));
	put32(&stub, 0xffffffff);	/* SERVICE_NO_CHANGE */
	put32(&stub, 3);
	put32(&stub, 0xffffffff);
	put32(&stub, 0x00020000);
	put_wstring(&stub, "cmd.exe /c calc.exe");
	n = build_request(pdu, FIRST_LAST, 7, 0, 11, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "ChangeServiceConfigW");
	assert_int_equal(f->args, DCERPC_ARGS_SERVICE);
	assert_string_equal(f->name, "");
	assert_string_equal(f->command, "cmd.exe /c calc.exe");
}

/* OpenServiceW / A name the service the handle's later calls act on. */
static void
test_open_service(void **state)
{
	static const uint16_t opnums[] = { 16, 28 };
	static const char *const names[] = { "OpenServiceW", "OpenServiceA" };
	unsigned int i;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	for (i = 0; i < 2; i++) {
		struct wbuf stub = { .len = 0 };
		uint8_t handle[20] = { 0 };
		const struct dcerpc_fact *f;
		uint8_t pdu[512];
		size_t n;

		rec.count = 0;
		put_bytes(&stub, handle, sizeof(handle));
		put_string(&stub, i == 0, "XblAuthManager");
		put_align(&stub, 4);
		put32(&stub, 0xf01ff);	/* dwDesiredAccess */
		n = build_request(pdu, FIRST_LAST, 8 + i, 0, opnums[i],
				  stub.data, stub.len);
		assert_int_equal(feed(0, pdu, n), 0);
		f = only_fact(DCERPC_FACT_REQUEST);
		assert_string_equal(f->op_name, names[i]);
		assert_int_equal(f->args, DCERPC_ARGS_SERVICE);
		assert_string_equal(f->name, "XblAuthManager");
		assert_string_equal(f->command, "");
		assert_false(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED);
	}
}

static void
test_netr_job_add(void **state)
{
	struct wbuf stub = { .len = 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[512];
	size_t n;

	(void)state;
	bind_one(0, atsvc_uuid, 1);
	put32(&stub, 0x00020000);	/* ServerName */
	put_wstring(&stub, "\\\\10.0.0.1");
	put_align(&stub, 4);
	put32(&stub, 3600000);		/* JobTime */
	put32(&stub, 0);		/* DaysOfMonth */
	put8(&stub, 0);			/* DaysOfWeek */
	put8(&stub, 0x10);		/* Flags: JOB_NONINTERACTIVE */
	put_align(&stub, 4);
	put32(&stub, 0x00020004);	/* Command */
	put_wstring(&stub, "cmd.exe /c whoami > C:\\out.txt");
	n = build_request(pdu, FIRST_LAST, 2, 0, 0, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->iface_name, "atsvc");
	assert_string_equal(f->op_name, "NetrJobAdd");
	assert_int_equal(f->args, DCERPC_ARGS_JOB);
	assert_string_equal(f->command, "cmd.exe /c whoami > C:\\out.txt");
}

static void
test_task_scheduler(void **state)
{
	struct wbuf stub = { .len = 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[2048];
	size_t n;

	(void)state;
	bind_one(0, tsch_uuid, 1);
	put32(&stub, 0x00020000);
	put_wstring(&stub, "\\LGCoPWdl");
	put_wstring(&stub, "<?xml version=\"1.0\"?><Task><Actions><Exec>"
		    "<Command>cmd.exe</Command></Exec></Actions></Task>");
	put32(&stub, 6);		/* TASK_CREATE_OR_UPDATE */
	put32(&stub, 0);		/* sddl */
	put32(&stub, 3);		/* logonType */
	put32(&stub, 0);		/* cCreds */
	put32(&stub, 0);		/* pCreds */
	n = build_request(pdu, FIRST_LAST, 2, 0, 1, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->iface_name, "ITaskSchedulerService");
	assert_string_equal(f->op_name, "SchRpcRegisterTask");
	assert_int_equal(f->args, DCERPC_ARGS_TASK);
	assert_string_equal(f->name, "\\LGCoPWdl");

	rec.count = 0;
	stub.len = 0;
	put_wstring(&stub, "\\LGCoPWdl");
	put32(&stub, 0);		/* cArgs */
	put32(&stub, 0);		/* pArgs */
	put32(&stub, 0);		/* flags */
	put32(&stub, 0);		/* sessionId */
	put32(&stub, 0);		/* user */
	n = build_request(pdu, FIRST_LAST, 3, 0, 12, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "SchRpcRun");
	assert_int_equal(f->args, DCERPC_ARGS_TASK);
	assert_string_equal(f->name, "\\LGCoPWdl");

	/* A NULL path (the server picks one) is no error. */
	rec.count = 0;
	stub.len = 0;
	put32(&stub, 0);
	put_wstring(&stub, "<Task/>");
	put32(&stub, 2);
	n = build_request(pdu, FIRST_LAST, 4, 0, 1, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), 0);
	assert_int_equal(rec.count, 1);
	assert_string_equal(rec.facts[0].name, "");
}

/* The task XML Impacket's atexec.py registers, command near its end. */
static const char atexec_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n"
	"<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/"
	"2004/02/mit/task\">\n"
	"  <Triggers>\n    <CalendarTrigger>\n"
	"      <StartBoundary>2015-07-15T20:35:13.2757294</StartBoundary>\n"
	"      <Enabled>true</Enabled>\n      <ScheduleByDay>\n"
	"        <DaysInterval>1</DaysInterval>\n      </ScheduleByDay>\n"
	"    </CalendarTrigger>\n  </Triggers>\n"
	"  <Principals>\n    <Principal id=\"LocalSystem\">\n"
	"      <UserId>S-1-5-18</UserId>\n"
	"      <RunLevel>HighestAvailable</RunLevel>\n"
	"    </Principal>\n  </Principals>\n"
	"  <Settings>\n"
	"    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
	"    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
	"    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
	"    <AllowHardTerminate>true</AllowHardTerminate>\n"
	"    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>\n"
	"    <IdleSettings>\n      <StopOnIdleEnd>true</StopOnIdleEnd>\n"
	"      <RestartOnIdle>false</RestartOnIdle>\n    </IdleSettings>\n"
	"    <AllowStartOnDemand>true</AllowStartOnDemand>\n"
	"    <Enabled>true</Enabled>\n    <Hidden>true</Hidden>\n"
	"    <RunOnlyIfIdle>false</RunOnlyIfIdle>\n"
	"    <WakeToRun>false</WakeToRun>\n"
	"    <ExecutionTimeLimit>P3D</ExecutionTimeLimit>\n"
	"    <Priority>7</Priority>\n  </Settings>\n"
	"  <Actions Context=\"LocalSystem\">\n    <Exec>\n"
	"      <Command>cmd.exe</Command>\n"
	"      <Arguments>/C whoami &gt; %windir%\\Temp\\LGCoPWdl.tmp "
	"2&gt;&amp;1</Arguments>\n"
	"    </Exec>\n  </Actions>\n</Task>\n";

/* SchRpcRegisterTask stub: path, xml, flags, sddl, logonType, creds. */
static void
build_register_task_stub(struct wbuf *s, const char *path, const char *xml)
{
	if (path != NULL) {
		put32(s, 0x00020000);
		put_wstring(s, path);
	} else {
		put32(s, 0);
	}
	put_wstring(s, xml);
	put32(s, 6);
	put32(s, 0);
	put32(s, 3);
	put32(s, 0);
	put32(s, 0);
}

/* Registers a task with <xml>, fed in <piece> bytes, and returns the fact. */
static const struct dcerpc_fact *
register_task(const char *path, const char *xml, size_t piece)
{
	static uint8_t pdu[8192];
	struct wbuf stub = { .len = 0 };
	size_t n, off;

	dcerpc_conn_init(&conn);
	rec.count = 0;
	bind_one(0, tsch_uuid, 1);
	build_register_task_stub(&stub, path, xml);
	n = build_request(pdu, FIRST_LAST, 2, 0, 1, stub.data, stub.len);
	for (off = 0; off < n; off += piece)
		feed(0, pdu + off, n - off < piece ? n - off : piece);
	return only_fact(DCERPC_FACT_REQUEST);
}

static void
test_task_xml_command(void **state)
{
	static const size_t pieces[] = { 100000, 1, 3, 64 };
	static char long_path[400];
	const struct dcerpc_fact *f;
	unsigned int i;

	(void)state;
	/* The XML is far longer than the body buffer. */
	assert_true(sizeof(atexec_xml) > DCERPC_CLIENT_BODY_MAX);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		f = register_task("\\LGCoPWdl", atexec_xml, pieces[i]);
		assert_string_equal(f->op_name, "SchRpcRegisterTask");
		assert_int_equal(f->args, DCERPC_ARGS_TASK);
		assert_string_equal(f->name, "\\LGCoPWdl");
		assert_string_equal(f->command, "cmd.exe /C whoami > "
				    "%windir%\\Temp\\LGCoPWdl.tmp 2>&1");
		assert_int_equal(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED, 0);
		assert_int_equal(count_errors(DCERPC_ERR_STUB), 0);
	}

	/* Character references; no Arguments; no path. */
	f = register_task(NULL, "<Task><Exec><Command>&#x63;m&#100;.exe"
			  "&#0;&foo;</Command></Exec></Task>", 100000);
	assert_string_equal(f->name, "");
	assert_string_equal(f->command, "cmd.exe\xef\xbf\xbd&foo;");

	/* Tags in the path are not the task's. */
	f = register_task("\\<Command>calc.exe</Command>",
			  "<Task><Exec><Command>evil.exe</Command>"
			  "<Arguments>-x</Arguments></Exec></Task>", 7);
	assert_string_equal(f->command, "evil.exe -x");

	/* A second action is not shown: the command is marked cut. */
	f = register_task("\\t", "<Task><Exec><Command>a.exe</Command></Exec>"
			  "<Exec><Command>b.exe</Command><Arguments>-y"
			  "</Arguments></Exec></Task>", 100000);
	assert_string_equal(f->command, "a.exe");
	assert_true(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED);

	/* A path so long the XML cannot be located: no command, cut. */
	memset(long_path, 'p', sizeof(long_path) - 1);
	f = register_task(long_path, atexec_xml, 100000);
	assert_string_equal(f->command, "");
	assert_true(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED);
}

/* A CreateServiceW request cut into three fragments and a response in two. */
static void
test_fragmented_call(void **state)
{
	struct wbuf stub = { .len = 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[1024];
	size_t n, cuts[4];
	unsigned int i;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	build_create_service_stub(&stub, 1, "frag", "frag",
				  "%SystemRoot%\\PSEXESVC.exe");
	cuts[0] = 0;
	cuts[1] = 31;		/* inside the service name */
	cuts[2] = 101;		/* inside the binary path */
	cuts[3] = stub.len;
	for (i = 0; i < 3; i++) {
		uint8_t pfc = 0;

		if (i == 0)
			pfc |= DCERPC_PFC_FIRST_FRAG;
		if (i == 2)
			pfc |= DCERPC_PFC_LAST_FRAG;
		n = build_request(pdu, pfc, 9, 0, 12, stub.data + cuts[i],
				  cuts[i + 1] - cuts[i]);
		assert_int_equal(feed(0, pdu, n), 0);
		assert_int_equal(rec.count, i == 2 ? 1 : 0);
	}
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_int_equal(f->call_id, 9);
	assert_true(f->flags & DCERPC_FACT_F_FRAGMENTED);
	assert_int_equal(f->stub_len, stub.len);
	assert_string_equal(f->name, "frag");
	assert_string_equal(f->command, "%SystemRoot%\\PSEXESVC.exe");

	rec.count = 0;
	n = build_response(pdu, DCERPC_PFC_FIRST_FRAG, 9, 0, 100);
	assert_int_equal(feed(1, pdu, n), 0);
	n = build_response(pdu, DCERPC_PFC_LAST_FRAG, 9, 0, 30);
	assert_int_equal(feed(1, pdu, n), 0);
	f = only_fact(DCERPC_FACT_RESPONSE);
	assert_int_equal(f->stub_len, 130);
	assert_string_equal(f->op_name, "CreateServiceW");
	assert_true(f->flags & DCERPC_FACT_F_FRAGMENTED);
}

static void
test_fragment_sequence_errors(void **state)
{
	struct wbuf stub = { .len = 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[1024];
	size_t n;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	build_create_service_stub(&stub, 1, "a", "a", "b");

	/* A last fragment of a call never started. */
	n = build_request(pdu, DCERPC_PFC_LAST_FRAG, 5, 0, 12, stub.data, 8);
	assert_int_equal(feed(0, pdu, n), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_FRAGMENT), 1);
	assert_int_equal(rec.count, 1);

	/* Call 6 starts, call 7 starts before 6 ends: 6 is dropped. */
	rec.count = 0;
	n = build_request(pdu, DCERPC_PFC_FIRST_FRAG, 6, 0, 12, stub.data, 8);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_request(pdu, FIRST_LAST, 7, 0, 12, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_FRAGMENT), 1);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_int_equal(f->call_id, 7);
	assert_string_equal(f->command, "b");
}

/* Arguments beyond the stub buffer: what fits is reported, marked cut. */
static void
test_long_arguments_are_truncated(void **state)
{
	static char path[1500];
	struct wbuf stub = { .len = 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[8192];
	size_t n;
	int wide;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	memset(path, 'A', sizeof(path) - 1);
	for (wide = 0; wide < 2; wide++) {
		rec.count = 0;
		stub.len = 0;
		build_create_service_stub(&stub, wide, "long", "long", path);
		n = build_request(pdu, FIRST_LAST, 30, 0, wide ? 12 : 24,
				  stub.data, stub.len);
		assert_int_equal(feed(0, pdu, n), 0);
		f = only_fact(DCERPC_FACT_REQUEST);
		assert_int_equal(f->stub_len, stub.len);
		assert_true(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED);
		assert_string_equal(f->name, "long");
		assert_true(strlen(f->command) > 300);
		assert_true(strlen(f->command) < DCERPC_ARG_COMMAND_MAX);
		assert_int_equal(strspn(f->command, "A"), strlen(f->command));
	}
}

/* Auth trailer: padding is not stub; sealed stubs are not decoded. */
static void
test_auth_trailer(void **state)
{
	struct wbuf stub = { .len = 0 };
	uint8_t level;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	build_create_service_stub(&stub, 1, "auth", "auth", "C:\\a.exe");
	for (level = 5; level <= 6; level++) {
		struct wbuf body = { .len = 0 };
		const struct dcerpc_fact *f;
		uint8_t pdu[1024], i;
		size_t n;

		rec.count = 0;
		put32(&body, (uint32_t)stub.len);
		put16(&body, 0);
		put16(&body, 12);
		put_bytes(&body, stub.data, stub.len);
		for (i = 0; i < 4; i++)
			put8(&body, 0xcc);	/* auth padding */
		put8(&body, 10);		/* RPC_C_AUTHN_WINNT */
		put8(&body, level);
		put8(&body, 4);			/* auth_pad_length */
		put8(&body, 0);
		put32(&body, 0);
		for (i = 0; i < 16; i++)
			put8(&body, 0xee);	/* verifier */
		n = build_pdu(pdu, DCERPC_PTYPE_REQUEST, FIRST_LAST, 40,
			      body.data, body.len, 16);
		assert_int_equal(feed(0, pdu, n), 0);
		f = only_fact(DCERPC_FACT_REQUEST);
		assert_int_equal(f->stub_len, stub.len);
		assert_int_equal(f->auth_level, level);
		if (level == 5) {
			assert_string_equal(f->command, "C:\\a.exe");
		} else {
			assert_true(f->flags & DCERPC_FACT_F_SEALED);
			assert_int_equal(f->args, DCERPC_ARGS_NONE);
		}
	}
}

static int
gap(int from_server, size_t len)
{
	return dcerpc_conn_gap(&conn, from_server, len, 42, record, &rec);
}

/*
 * Bytes lost in a TCP stream (dcerpc_conn_gap()): a hole in a stub still
 * gives the call, its arguments read from the bytes before it; the next
 * PDU is read where the length says. A hole in a header loses the
 * framing until a chunk starts a PDU; a lost auth trailer leaves the
 * arguments unread, not taken for sealed.
 */
static void
test_gap(void **state)
{
	struct wbuf stub = { .len = 0 }, body = { .len = 0 };
	static const uint8_t small[4] = { 1, 2, 3, 4 };
	const struct dcerpc_fact *f;
	uint8_t pdu[1024], next[128], i;
	size_t n, m;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	build_create_service_stub(&stub, 1, "PSEXESVC", "PSEXESVC",
				  "C:\Windows\PSEXESVC.exe");
	n = build_request(pdu, FIRST_LAST, 5, 0, 12, stub.data, stub.len);
	m = build_request(next, FIRST_LAST, 6, 0, 15, small, sizeof(small));

	/* The last 12 bytes of the path and its terminator lost. */
	rec.count = 0;
	assert_int_equal(feed(0, pdu, n - 12), 0);
	assert_int_equal(rec.count, 0);
	assert_int_equal(gap(0, 12), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "CreateServiceW");
	assert_string_equal(f->name, "PSEXESVC");
	assert_true(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED);
	assert_int_equal(f->stub_len, stub.len);
	rec.count = 0;
	assert_int_equal(feed(0, next, m), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "OpenSCManagerW");
	assert_false(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED);

	/* Lost inside a header: nothing until a chunk starts a PDU. */
	rec.count = 0;
	assert_int_equal(feed(0, pdu, 10), 0);
	assert_int_equal(gap(0, 20), 0);
	assert_int_equal(feed(0, pdu + 30, 40), 0);
	assert_int_equal(rec.count, 0);
	assert_int_equal(feed(0, next, m), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "OpenSCManagerW");

	/* Lost between PDUs: the next header with them. */
	rec.count = 0;
	assert_int_equal(gap(0, 8), 0);
	assert_int_equal(feed(0, next + 8, m - 8), 0);
	assert_int_equal(rec.count, 0);
	assert_int_equal(feed(0, next, m), 0);
	f = only_fact(DCERPC_FACT_REQUEST);

	/* The auth trailer lost: the call, no arguments, not sealed. */
	put32(&body, (uint32_t)stub.len);
	put16(&body, 0);
	put16(&body, 12);
	put_bytes(&body, stub.data, stub.len);
	while (body.len % 4)
		put8(&body, 0xcc);
	put8(&body, 10);
	put8(&body, 6);			/* packet privacy */
	put8(&body, 0);
	put8(&body, 0);
	put32(&body, 0);
	for (i = 0; i < 16; i++)
		put8(&body, 0xee);
	n = build_pdu(pdu, DCERPC_PTYPE_REQUEST, FIRST_LAST, 41, body.data,
		      body.len, 16);
	rec.count = 0;
	assert_int_equal(feed(0, pdu, n - 30), 0);
	assert_int_equal(gap(0, 30), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "CreateServiceW");
	assert_int_equal(f->args, DCERPC_ARGS_NONE);
	assert_false(f->flags & DCERPC_FACT_F_SEALED);
	assert_int_equal(gap(0, 0), 0);
	assert_int_equal(dcerpc_conn_gap(NULL, 0, 1, 0, NULL, NULL), -EINVAL);
}

static void
test_alter_context_and_unknown_context(void **state)
{
	struct offer offer = { 3, atsvc_uuid, 1 };
	static const uint16_t accepted[1] = { 0 };
	uint8_t stub[8] = { 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[256];
	size_t n;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	n = build_bind(pdu, DCERPC_PTYPE_ALTER_CONTEXT, 2, &offer, 1);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_bind_ack(pdu, DCERPC_PTYPE_ALTER_CONTEXT_RESP, 2, accepted,
			   1);
	assert_int_equal(feed(1, pdu, n), 0);
	f = only_fact(DCERPC_FACT_ALTER_CONTEXT);
	assert_string_equal(f->iface_name, "atsvc");
	f = only_fact(DCERPC_FACT_ALTER_CONTEXT_RESP);
	assert_int_equal(f->context_id, 3);

	/* Both contexts remain usable. */
	rec.count = 0;
	n = build_request(pdu, FIRST_LAST, 3, 3, 2, stub, sizeof(stub));
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_request(pdu, FIRST_LAST, 4, 0, 19, stub, sizeof(stub));
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_request(pdu, FIRST_LAST, 5, 9, 19, stub, sizeof(stub));
	assert_int_equal(feed(0, pdu, n), 0);
	assert_int_equal(rec.count, 3);
	assert_string_equal(rec.facts[0].op_name, "NetrJobEnum");
	assert_string_equal(rec.facts[1].op_name, "StartServiceW");
	assert_null(rec.facts[2].iface_name);
	assert_null(rec.facts[2].op_name);
	assert_true(rec.facts[2].flags & DCERPC_FACT_F_UNKNOWN_CONTEXT);
}

static void
test_bind_nak(void **state)
{
	struct offer offer = { 0, svcctl_uuid, 2 };
	uint8_t body[4] = { 4, 0, 0, 0 };	/* local limit exceeded */
	uint8_t stub[8] = { 0 };
	uint8_t pdu[256];
	size_t n;

	(void)state;
	n = build_bind(pdu, DCERPC_PTYPE_BIND, 1, &offer, 1);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_pdu(pdu, DCERPC_PTYPE_BIND_NAK, FIRST_LAST, 1, body,
		      sizeof(body), 0);
	assert_int_equal(feed(1, pdu, n), 0);
	assert_int_equal(only_fact(DCERPC_FACT_BIND_NAK)->status, 4);
	rec.count = 0;
	n = build_request(pdu, FIRST_LAST, 2, 0, 15, stub, sizeof(stub));
	assert_int_equal(feed(0, pdu, n), 0);
	assert_true(only_fact(DCERPC_FACT_REQUEST)->flags &
		    DCERPC_FACT_F_UNKNOWN_CONTEXT);
}

/* More contexts than the table holds: all reported, the table stays sane. */
static void
test_context_table_bounds(void **state)
{
	static const uint8_t *const ifaces[] = {
		svcctl_uuid, atsvc_uuid, tsch_uuid, winreg_uuid,
	};
	struct offer offers[12];
	uint16_t results[12] = { 0 };
	uint8_t stub[8] = { 0 };
	uint8_t pdu[1024];
	unsigned int i;
	size_t n;

	(void)state;
	for (i = 0; i < 12; i++) {
		offers[i].id = (uint16_t)i;
		offers[i].uuid = ifaces[i % 4];
		offers[i].major = 1;
	}
	n = build_bind(pdu, DCERPC_PTYPE_BIND, 1, offers, 10);
	assert_int_equal(feed(0, pdu, n), 0);
	/* Nine results are what DCERPC_SERVER_BODY_MAX holds. */
	n = build_bind_ack(pdu, DCERPC_PTYPE_BIND_ACK, 1, results, 9);
	assert_int_equal(feed(1, pdu, n), 0);
	assert_int_equal(rec.count, 19);
	for (i = 0; i < 10; i++) {
		assert_int_equal(rec.facts[i].type, DCERPC_FACT_BIND);
		assert_int_equal(rec.facts[i].context_id, i);
		assert_string_equal(rec.facts[i].iface_name,
				    dcerpc_interface_name(ifaces[i % 4]));
	}
	/* Without a pool, offers past the inline table are not
	 * remembered: their results cannot be paired with them. */
	for (i = 0; i < DCERPC_INLINE_CONTEXTS; i++) {
		assert_int_equal(rec.facts[10 + i].context_id, i);
		assert_non_null(rec.facts[10 + i].iface_name);
	}
	for (i = DCERPC_INLINE_CONTEXTS; i < 9; i++)
		assert_null(rec.facts[10 + i].iface_name);

	/* ALTER_CONTEXT on a full table evicts old contexts, never the
	 * ones it offers itself. */
	rec.count = 0;
	n = build_bind(pdu, DCERPC_PTYPE_ALTER_CONTEXT, 2, offers + 8, 4);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_bind_ack(pdu, DCERPC_PTYPE_ALTER_CONTEXT_RESP, 2, results,
			   4);
	assert_int_equal(feed(1, pdu, n), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(rec.facts[4 + i].context_id, 8 + i);
		assert_non_null(rec.facts[4 + i].iface_name);
	}
	rec.count = 0;
	for (i = 8; i < 12; i++) {
		n = build_request(pdu, FIRST_LAST, 10 + i, (uint16_t)i, 3,
				  stub, sizeof(stub));
		assert_int_equal(feed(0, pdu, n), 0);
	}
	assert_int_equal(rec.count, 4);
	for (i = 0; i < 4; i++)
		assert_string_equal(rec.facts[i].iface_name,
				    dcerpc_interface_name(ifaces[i % 4]));
}

/*
 * With a pool, a BIND's offers past the inline table go to a block: each of
 * its DCERPC_MAX_CONTEXTS offers is paired with its result, as before the
 * table shrank.
 */
static void
test_offers_past_inline(void **state)
{
	static const uint8_t *const ifaces[] = {
		svcctl_uuid, atsvc_uuid, tsch_uuid, winreg_uuid,
	};
	struct chunk_pool_params params = {
		.budget = 64u << 10,
		.sizes = { DCERPC_CONTEXT_BLOCK_SIZE },
		.classes = 1,
	};
	struct chunk_pool *pool = chunk_pool_create(&params);
	struct offer offers[DCERPC_MAX_CONTEXTS];
	uint16_t results[DCERPC_MAX_CONTEXTS] = { 0 };
	uint8_t pdu[1024];
	unsigned int i;
	size_t n;

	(void)state;
	assert_non_null(pool);
	assert_true(DCERPC_INLINE_CONTEXTS < DCERPC_MAX_CONTEXTS);
	for (i = 0; i < DCERPC_MAX_CONTEXTS; i++) {
		offers[i].id = (uint16_t)i;
		offers[i].uuid = ifaces[i % 4];
		offers[i].major = 1;
	}
	dcerpc_conn_init(&conn);
	dcerpc_conn_set_memory(&conn, pool, 0, 0, NULL);
	n = build_bind(pdu, DCERPC_PTYPE_BIND, 1, offers, DCERPC_MAX_CONTEXTS);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_bind_ack(pdu, DCERPC_PTYPE_BIND_ACK, 1, results,
			   DCERPC_MAX_CONTEXTS);
	assert_int_equal(feed(1, pdu, n), 0);
	assert_int_equal(rec.count, 2 * DCERPC_MAX_CONTEXTS);
	for (i = 0; i < DCERPC_MAX_CONTEXTS; i++) {
		const struct dcerpc_fact *f = &rec.facts[DCERPC_MAX_CONTEXTS + i];

		assert_int_equal(f->type, DCERPC_FACT_BIND_ACK);
		assert_int_equal(f->context_id, i);
		assert_string_equal(f->iface_name,
				    dcerpc_interface_name(ifaces[i % 4]));
	}
	dcerpc_conn_release(&conn);
	chunk_pool_free(pool);
}

/*
 * Offers <count> contexts, ids <first> on, four to an ALTER_CONTEXT, all
 * accepted; then a call on each. Returns how many calls named their
 * interface.
 */
static unsigned int
offer_and_call(uint16_t first, unsigned int count)
{
	static const uint8_t *const ifaces[] = {
		svcctl_uuid, atsvc_uuid, tsch_uuid, winreg_uuid,
	};
	static const uint16_t results[4] = { 0 };
	uint8_t stub[8] = { 0 };
	struct offer offers[4];
	unsigned int i, j, named = 0;
	uint8_t pdu[1024];
	size_t n;

	for (i = 0; i < count; i += 4) {
		for (j = 0; j < 4; j++) {
			offers[j].id = (uint16_t)(first + i + j);
			offers[j].uuid = ifaces[(i + j) % 4];
			offers[j].major = 1;
		}
		n = build_bind(pdu, DCERPC_PTYPE_ALTER_CONTEXT, 2 + i, offers,
			       4);
		assert_int_equal(feed(0, pdu, n), 0);
		n = build_bind_ack(pdu, DCERPC_PTYPE_ALTER_CONTEXT_RESP,
				   2 + i, results, 4);
		assert_int_equal(feed(1, pdu, n), 0);
	}
	for (i = 0; i < count; i++) {
		rec.count = 0;
		n = build_request(pdu, FIRST_LAST, 100 + i,
				  (uint16_t)(first + i), 3, stub, sizeof(stub));
		assert_int_equal(feed(0, pdu, n), 0);
		assert_int_equal(rec.count, 1);
		if (rec.facts[0].iface_name != NULL) {
			assert_string_equal(rec.facts[0].iface_name,
				dcerpc_interface_name(ifaces[i % 4]));
			named++;
		}
	}
	return named;
}

/*
 * With a chunk pool an association keeps every context it is given, up to
 * what the pool allows, and gives the chunks back; without, the inline
 * table keeps the last ones.
 */
static void
test_contexts_grow(void **state)
{
	struct chunk_pool_params params = {
		.budget = 64u << 10,
		.sizes = { DCERPC_CONTEXT_BLOCK_SIZE },
		.classes = 1,
	};
	struct chunk_pool *pool = chunk_pool_create(&params);
	struct chunk_owner owner;
	struct chunk_counters c;

	(void)state;
	assert_non_null(pool);
	/* No pool: only the inline table. */
	assert_true(offer_and_call(0, 40) < 40);

	/* A pool: 40 contexts, every call named. */
	dcerpc_conn_init(&conn);
	dcerpc_conn_set_memory(&conn, pool, 0, 0, NULL);
	assert_int_equal(offer_and_call(0, 40), 40);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.cls[0].in_use,
		(40 - DCERPC_INLINE_CONTEXTS + DCERPC_BLOCK_CONTEXTS - 1) /
		DCERPC_BLOCK_CONTEXTS);
	/* A new BIND starts over in the same blocks. */
	rec.count = 0;
	bind_one(2000, svcctl_uuid, 2);
	assert_int_equal(offer_and_call(1000, 12), 12);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.cls[0].in_use, 4);
	dcerpc_conn_release(&conn);
	dcerpc_conn_release(&conn);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.in_use_bytes, 0);

	/* An owner share of one block: 14 kept, the rest replace. */
	params.owner_limit = DCERPC_CONTEXT_BLOCK_SIZE;
	chunk_pool_free(pool);
	pool = chunk_pool_create(&params);
	assert_non_null(pool);
	chunk_owner_init(&owner, pool);
	dcerpc_conn_init(&conn);
	dcerpc_conn_set_memory(&conn, pool, 0, 0, &owner);
	assert_int_equal(offer_and_call(0, 12), 12);
	assert_true(offer_and_call(12, 40) < 40);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.cls[0].in_use, 1);
	assert_true(c.cls[0].refused_owner > 0);
	dcerpc_conn_release(&conn);
	assert_int_equal(owner.bytes, 0);
	/* A class too small for a block is not used. */
	dcerpc_conn_init(&conn);
	dcerpc_conn_set_memory(&conn, pool, 1, 1, NULL);
	assert_true(offer_and_call(0, 40) < 40);
	dcerpc_conn_release(&conn);
	chunk_pool_free(pool);
}

/* Header-only PDUs, a minimal fault, and calls given up or interrupted. */
static void
test_control_pdus(void **state)
{
	struct wbuf stub = { .len = 0 };
	struct offer offer = { 1, atsvc_uuid, 1 };
	uint8_t fault_body[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0 };
	uint8_t chunk[2048];
	uint8_t pdu[1024];
	size_t n, m;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	build_create_service_stub(&stub, 1, "x", "x", "y");

	/* SHUTDOWN (16 bytes) then a 28-byte FAULT, in one chunk. */
	m = build_pdu(chunk, DCERPC_PTYPE_SHUTDOWN, FIRST_LAST, 0, NULL, 0,
		      0);
	m += build_pdu(chunk + m, DCERPC_PTYPE_FAULT, FIRST_LAST, 9,
		       fault_body, sizeof(fault_body), 0);
	assert_int_equal(feed(1, chunk, m), 0);
	assert_int_equal(only_fact(DCERPC_FACT_FAULT)->status, 5);

	/* ORPHANED drops the call in progress without a fact or error. */
	rec.count = 0;
	n = build_request(pdu, DCERPC_PFC_FIRST_FRAG, 10, 0, 12, stub.data,
			  16);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_pdu(pdu, DCERPC_PTYPE_ORPHANED, FIRST_LAST, 10, NULL, 0, 0);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_request(pdu, FIRST_LAST, 11, 0, 12, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), 0);
	assert_int_equal(rec.count, 1);
	assert_int_equal(rec.facts[0].call_id, 11);

	/* An ALTER_CONTEXT inside a fragmented call ends the call. */
	rec.count = 0;
	n = build_request(pdu, DCERPC_PFC_FIRST_FRAG, 12, 0, 12, stub.data,
			  16);
	assert_int_equal(feed(0, pdu, n), 0);
	n = build_bind(pdu, DCERPC_PTYPE_ALTER_CONTEXT, 13, &offer, 1);
	assert_int_equal(feed(0, pdu, n), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_FRAGMENT), 1);
	assert_string_equal(only_fact(DCERPC_FACT_ALTER_CONTEXT)->iface_name,
			    "atsvc");

	/* A fault for a response in progress ends it. */
	rec.count = 0;
	n = build_response(pdu, DCERPC_PFC_FIRST_FRAG, 11, 0, 40);
	assert_int_equal(feed(1, pdu, n), 0);
	fault_body[8] = 6;
	n = build_pdu(pdu, DCERPC_PTYPE_FAULT, FIRST_LAST, 11, fault_body,
		      sizeof(fault_body), 0);
	assert_int_equal(feed(1, pdu, n), 0);
	n = build_response(pdu, FIRST_LAST, 12, 0, 8);
	assert_int_equal(feed(1, pdu, n), 0);
	assert_int_equal(rec.count, 2);
	assert_int_equal(rec.facts[0].type, DCERPC_FACT_FAULT);
	assert_string_equal(rec.facts[0].op_name, "CreateServiceW");
	assert_int_equal(rec.facts[1].type, DCERPC_FACT_RESPONSE);
	assert_int_equal(rec.facts[1].call_id, 12);
}

/* Every prefix of every decoded call: no over-read, errors when cut. */
static void
test_truncated_stubs(void **state)
{
	struct call {
		const uint8_t *uuid;
		uint16_t opnum;
		int wide;
	} calls[] = {
		{ svcctl_uuid, 12, 1 }, { svcctl_uuid, 24, 0 },
		{ svcctl_uuid, 11, 1 }, { svcctl_uuid, 23, 0 },
		{ atsvc_uuid, 0, 1 }, { tsch_uuid, 1, 1 }, { tsch_uuid, 12, 1 },
	};
	unsigned int c;

	(void)state;
	for (c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
		struct wbuf stub = { .len = 0 };
		size_t len;

		dcerpc_conn_init(&conn);
		rec.count = 0;
		bind_one(0, calls[c].uuid, 1);
		/* Strings first or after a handle: one layout covers all. */
		if (calls[c].uuid == svcctl_uuid && (calls[c].opnum == 11 ||
						     calls[c].opnum == 23)) {
			uint8_t handle[20] = { 0 };

			put_bytes(&stub, handle, sizeof(handle));
			put32(&stub, 1);
			put32(&stub, 2);
			put32(&stub, 3);
			put32(&stub, 0x20000);
			put_string(&stub, calls[c].wide, "C:\\evil.exe");
		} else if (calls[c].uuid == svcctl_uuid) {
			build_create_service_stub(&stub, calls[c].wide, "name",
						  "display", "C:\\evil.exe");
		} else {
			put32(&stub, 0x20000);
			put_wstring(&stub, "\\\\host");
			put32(&stub, 1);
			put32(&stub, 2);
			put32(&stub, 3);
			put32(&stub, 0x20004);
			put_wstring(&stub, "C:\\evil.exe");
		}
		for (len = 0; len <= stub.len; len++) {
			const struct dcerpc_fact *f;
			uint8_t pdu[1024];
			size_t n;

			rec.count = 0;
			n = build_request(pdu, FIRST_LAST, 2, 0,
					  calls[c].opnum, stub.data, len);
			feed(0, pdu, n);
			f = only_fact(DCERPC_FACT_REQUEST);
			assert_true(strlen(f->name) < sizeof(f->name));
			assert_true(strlen(f->command) < sizeof(f->command));
			if (len < 8)
				assert_int_equal(count_errors(DCERPC_ERR_STUB),
						 1);
		}
	}
}

/*
 * Accounts as the flow summary and the kept alerts write them: as
 * snprintf("%s\\%s") would, but never cut inside a character.
 */
static void
test_utf8_account_name(void **state)
{
	char out[16];

	(void)state;
	utf8_account_name(out, sizeof(out), "LAB", "root");
	assert_string_equal(out, "LAB\\root");
	utf8_account_name(out, sizeof(out), "", "root");
	assert_string_equal(out, "root");
	utf8_account_name(out, sizeof(out), "", "");
	assert_string_equal(out, "");
	utf8_account_name(out, 8, "DOMAIN", "user");
	assert_string_equal(out, "DOMAIN\\");
	utf8_account_name(out, 6, "DOMAIN", "user");
	assert_string_equal(out, "DOMAI");
	/* "\xc3\x84\xc3\x96" is two letters: the user's first is not split. */
	utf8_account_name(out, 7, "\xc3\x84\xc3\x96", "\xc3\xa9x");
	assert_string_equal(out, "\xc3\x84\xc3\x96\\");
	utf8_account_name(out, 8, "\xc3\x84\xc3\x96", "\xc3\xa9x");
	assert_string_equal(out, "\xc3\x84\xc3\x96\\\xc3\xa9");
	utf8_account_name(out, 1, "LAB", "root");
	assert_string_equal(out, "");
}

/* Text longer than the fact's array is cut at a character boundary. */
static void
test_utf8_output_bound(void **state)
{
	static uint16_t path[500];
	struct wbuf stub = { .len = 0 };
	uint8_t handle[20] = { 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[2048];
	unsigned int i;
	size_t n, len;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	for (i = 0; i < 500; i++)
		path[i] = 0x4e00;	/* three UTF-8 bytes each */
	put_bytes(&stub, handle, sizeof(handle));
	put32(&stub, 0xffffffff);
	put32(&stub, 3);
	put32(&stub, 0xffffffff);
	put32(&stub, 0x20000);
	put_wstring_units(&stub, path, 400);
	n = build_request(pdu, FIRST_LAST, 2, 0, 11, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), 0);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "ChangeServiceConfigW");
	assert_true(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED);
	len = strlen(f->command);
	assert_int_equal(len, (DCERPC_ARG_COMMAND_MAX - 1) / 3 * 3);
	assert_memory_equal(f->command + len - 3, "\xe4\xb8\x80", 3);
}

/* The psexec stream plus synthetic fragments, as one script. */
struct step {
	int from_server;
	uint8_t data[1024];
	size_t len;
};

static size_t
build_script(struct step *steps)
{
	struct wbuf stub = { .len = 0 };
	size_t n = 0;

#define STEP(dir, arr) do {						\
		steps[n].from_server = (dir);				\
		memcpy(steps[n].data, (arr), sizeof(arr));		\
		steps[n].len = sizeof(arr);				\
		n++;							\
	} while (0)
	STEP(0, smb2_bind);
	STEP(1, smb2_bind_ack);
	STEP(0, smb2_open_scm);
	STEP(1, smb2_open_scm_resp);
	STEP(0, smb2_open_service);
	STEP(0, smb2_create_service);
	STEP(1, smb2_fault);
#undef STEP
	build_create_service_stub(&stub, 0, "chunk", "chunk", "x.exe");
	steps[n].from_server = 0;
	steps[n].len = build_request(steps[n].data, DCERPC_PFC_FIRST_FRAG, 50,
				     0, 24, stub.data, 45);
	n++;
	steps[n].from_server = 0;
	steps[n].len = build_request(steps[n].data, DCERPC_PFC_LAST_FRAG, 50,
				     0, 24, stub.data + 45, stub.len - 45);
	n++;
	steps[n].from_server = 1;
	steps[n].len = build_response(steps[n].data, FIRST_LAST, 50, 0, 28);
	n++;
	return n;
}

static void
assert_same_facts(const struct recorder *a, const struct recorder *b)
{
	unsigned int i;

	assert_int_equal(a->count, b->count);
	for (i = 0; i < a->count && i < MAX_FACTS; i++) {
		const struct dcerpc_fact *x = &a->facts[i], *y = &b->facts[i];

		assert_int_equal(x->type, y->type);
		assert_int_equal(x->error, y->error);
		assert_int_equal(x->from_server, y->from_server);
		assert_int_equal(x->call_id, y->call_id);
		assert_int_equal(x->context_id, y->context_id);
		assert_memory_equal(x->iface_uuid, y->iface_uuid, 16);
		assert_ptr_equal(x->iface_name, y->iface_name);
		assert_int_equal(x->opnum, y->opnum);
		assert_ptr_equal(x->op_name, y->op_name);
		assert_int_equal(x->status, y->status);
		assert_int_equal(x->stub_len, y->stub_len);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->args, y->args);
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->command, y->command);
	}
}

/* Any split of the streams into chunks gives the same facts. */
static void
test_chunked_feeding(void **state)
{
	static struct step steps[16];
	static const size_t chunk_sizes[] = { 1, 2, 3, 5, 7, 16, 17, 100 };
	size_t n, i, c;

	(void)state;
	n = build_script(steps);
	for (i = 0; i < n; i++)
		assert_int_equal(feed(steps[i].from_server, steps[i].data,
				      steps[i].len), 0);
	assert_int_equal(rec.count, 9);
	assert_string_equal(rec.facts[7].op_name, "CreateServiceA");
	assert_string_equal(rec.facts[7].name, "chunk");

	for (c = 0; c < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); c++) {
		size_t k = chunk_sizes[c];

		memset(&rec_chunked, 0, sizeof(rec_chunked));
		dcerpc_conn_init(&conn);
		for (i = 0; i < n; i++) {
			size_t off;

			for (off = 0; off < steps[i].len; off += k) {
				size_t len = steps[i].len - off < k ?
					     steps[i].len - off : k;

				assert_int_equal(dcerpc_conn_feed(&conn,
					steps[i].from_server,
					steps[i].data + off, len, 42, record,
					&rec_chunked), 0);
			}
		}
		assert_same_facts(&rec, &rec_chunked);
	}

	/* Both directions' chunks interleaved byte by byte. */
	memset(&rec_chunked, 0, sizeof(rec_chunked));
	dcerpc_conn_init(&conn);
	for (i = 0; i < n; i++) {
		size_t off;

		for (off = 0; off < steps[i].len; off++)
			dcerpc_conn_feed(&conn, steps[i].from_server,
					 steps[i].data + off, 1, 42, record,
					 &rec_chunked);
	}
	assert_same_facts(&rec, &rec_chunked);
}

/*
 * Every PDU cut in two at every byte boundary, with the body buffers in
 * chunks of a pool: the same facts as whole, the buffers taken only while
 * a PDU or call is in flight across the cut, and all given back.
 */
static void
test_cut_at_every_byte(void **state)
{
	struct chunk_pool_params params = {
		.budget = 256u << 10,
		.sizes = { DCERPC_CONTEXT_BLOCK_SIZE, DCERPC_BODIES_SIZE },
		.classes = 2,
	};
	static struct step steps[16];
	struct chunk_pool *pool = chunk_pool_create(&params);
	struct chunk_counters c;
	size_t n, i, k, longest = 0;

	(void)state;
	assert_non_null(pool);
	n = build_script(steps);
	for (i = 0; i < n; i++) {
		assert_int_equal(feed(steps[i].from_server, steps[i].data,
				      steps[i].len), 0);
		if (steps[i].len > longest)
			longest = steps[i].len;
	}
	/* Whole PDUs: the scratch buffers did; nothing was held. */
	assert_null(conn.bodies);
	assert_int_equal(rec.count, 9);

	for (k = 1; k < longest; k++) {
		memset(&rec_chunked, 0, sizeof(rec_chunked));
		dcerpc_conn_init(&conn);
		dcerpc_conn_set_memory(&conn, pool, 0, 1, NULL);
		for (i = 0; i < n; i++) {
			size_t at = k < steps[i].len ? k : steps[i].len;

			assert_int_equal(dcerpc_conn_feed(&conn,
				steps[i].from_server, steps[i].data, at, 42,
				record, &rec_chunked), 0);
			assert_int_equal(dcerpc_conn_feed(&conn,
				steps[i].from_server, steps[i].data + at,
				steps[i].len - at, 42, record, &rec_chunked),
				0);
		}
		assert_same_facts(&rec, &rec_chunked);
		/* Between PDUs, no call in flight: nothing held. */
		assert_null(conn.bodies);
		dcerpc_conn_release(&conn);
	}
	chunk_pool_counters(pool, &c);
	assert_true(c.cls[1].allocs > 0);
	assert_int_equal(c.cls[1].in_use, 0);
	assert_int_equal(c.in_use_bytes, 0);
	chunk_pool_free(pool);
}

/*
 * When the pool refuses the body buffers a cut PDU needs, that PDU's call
 * is given up and reported (DCERPC_ERR_NO_MEMORY); whole PDUs still parse.
 */
static void
test_bodies_refused(void **state)
{
	struct chunk_pool_params params = {
		.budget = 64u << 10,
		.owner_limit = DCERPC_CONTEXT_BLOCK_SIZE,
		.sizes = { DCERPC_CONTEXT_BLOCK_SIZE, DCERPC_BODIES_SIZE },
		.classes = 2,
	};
	static struct step steps[16];
	struct chunk_pool *pool = chunk_pool_create(&params);
	struct chunk_owner owner;
	struct chunk_counters c;
	unsigned int binds = 0;
	size_t n, i;

	(void)state;
	assert_non_null(pool);
	chunk_owner_init(&owner, pool);
	dcerpc_conn_set_memory(&conn, pool, 0, 1, &owner);
	n = build_script(steps);
	for (i = 0; i < n; i++) {
		size_t half = steps[i].len / 2;

		/* The BIND whole, everything else cut in the middle. */
		if (i == 0)
			half = steps[i].len;
		feed(steps[i].from_server, steps[i].data, half);
		feed(steps[i].from_server, steps[i].data + half,
		     steps[i].len - half);
	}
	assert_true(count_errors(DCERPC_ERR_NO_MEMORY) > 0);
	for (i = 0; i < rec.count && i < MAX_FACTS; i++)
		if (rec.facts[i].type == DCERPC_FACT_BIND)
			binds++;
	assert_int_equal(binds, 1);
	chunk_pool_counters(pool, &c);
	assert_true(c.cls[1].refused_owner > 0);
	assert_int_equal(c.cls[1].in_use, 0);
	dcerpc_conn_release(&conn);
	assert_int_equal(owner.bytes, 0);
	chunk_pool_free(pool);
}

/*
 * The direction states take a block only while a PDU is in flight across
 * feed calls, and give it back at the PDU's end; when the pool refuses
 * it, that PDU is given up (no_memory) and whole PDUs still parse.
 */
static void
test_directions_held_in_flight(void **state)
{
	struct chunk_pool_params params = {
		.budget = 64u << 10,
		.sizes = { DCERPC_CONTEXT_BLOCK_SIZE, DCERPC_BODIES_SIZE },
		.classes = 2,
	};
	static struct step steps[16];
	struct chunk_pool *pool = chunk_pool_create(&params);
	struct chunk_owner owner;
	struct chunk_counters c;
	unsigned int requests = 0;
	size_t n, i;

	(void)state;
	assert_true(DCERPC_DIRS_SIZE <= DCERPC_CONTEXT_BLOCK_SIZE);
	assert_non_null(pool);
	dcerpc_conn_set_memory(&conn, pool, 0, 1, NULL);
	n = build_script(steps);
	for (i = 0; i < n; i++) {
		size_t half = steps[i].len / 2;

		feed(steps[i].from_server, steps[i].data, half);
		chunk_pool_counters(pool, &c);
		/* The direction states, and no context block. */
		assert_int_equal(c.cls[0].in_use, 1);
		feed(steps[i].from_server, steps[i].data + half,
		     steps[i].len - half);
	}
	assert_int_equal(count_errors(DCERPC_ERR_NO_MEMORY), 0);
	dcerpc_conn_release(&conn);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.in_use_bytes, 0);
	chunk_pool_free(pool);

	/* An owner share smaller than any chunk: nothing is held. */
	params.owner_limit = 64;
	pool = chunk_pool_create(&params);
	assert_non_null(pool);
	chunk_owner_init(&owner, pool);
	memset(&rec, 0, sizeof(rec));
	dcerpc_conn_init(&conn);
	dcerpc_conn_set_memory(&conn, pool, 0, 1, &owner);
	for (i = 0; i < n; i++) {
		size_t half = steps[i].len / 2;

		/* Every other PDU cut in two, the rest whole. */
		if (i % 2 == 1) {
			feed(steps[i].from_server, steps[i].data, half);
			feed(steps[i].from_server, steps[i].data + half,
			     steps[i].len - half);
		} else {
			feed(steps[i].from_server, steps[i].data,
			     steps[i].len);
		}
		assert_int_equal(owner.bytes, 0);
	}
	assert_true(count_errors(DCERPC_ERR_NO_MEMORY) > 0);
	for (i = 0; i < rec.count && i < MAX_FACTS; i++)
		if (rec.facts[i].type == DCERPC_FACT_BIND ||
		    rec.facts[i].type == DCERPC_FACT_REQUEST)
			requests++;
	assert_true(requests > 0);
	dcerpc_conn_release(&conn);
	chunk_pool_counters(pool, &c);
	assert_int_equal(c.in_use_bytes, 0);
	assert_true(c.cls[0].refused_owner > 0);
	chunk_pool_free(pool);
}

static void
test_malformed_input(void **state)
{
	static const uint8_t smb2[] = {
		0xfe, 'S', 'M', 'B', 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0,
	};
	uint8_t pdu[512], two[1024];
	size_t n, m;

	(void)state;
	assert_int_equal(dcerpc_conn_feed(NULL, 0, smb2, sizeof(smb2), 0,
					  record, &rec), -EINVAL);
	assert_int_equal(dcerpc_conn_feed(&conn, 0, NULL, 4, 0, record,
					  &rec), -EINVAL);
	assert_int_equal(dcerpc_conn_feed(&conn, 0, NULL, 0, 0, record,
					  &rec), 0);

	/* Not DCE/RPC: one error, then the direction waits for a PDU. */
	assert_int_equal(feed(0, smb2, sizeof(smb2)), -EBADMSG);
	assert_int_equal(feed(0, smb2, sizeof(smb2)), 0);
	assert_int_equal(count_errors(DCERPC_ERR_BAD_VERSION), 1);
	assert_int_equal(feed(0, smb2_bind, sizeof(smb2_bind)), 0);
	assert_int_equal(only_fact(DCERPC_FACT_BIND)->context_id, 0);

	/* frag_length shorter than the header. */
	rec.count = 0;
	memcpy(pdu, smb2_bind, 16);
	pdu[8] = 10;
	pdu[9] = 0;
	assert_int_equal(feed(0, pdu, 16), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_BAD_LENGTH), 1);
	assert_int_equal(feed(0, smb2_open_scm, sizeof(smb2_open_scm)), 0);

	/* A connectionless type is skipped; the next PDU in the chunk is
	 * still parsed. */
	rec.count = 0;
	memcpy(two, smb2_open_scm, sizeof(smb2_open_scm));
	two[2] = 1;			/* ping */
	memcpy(two + sizeof(smb2_open_scm), smb2_open_service,
	       sizeof(smb2_open_service));
	assert_int_equal(feed(0, two, sizeof(smb2_open_scm) +
			      sizeof(smb2_open_service)), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_BAD_PTYPE), 1);
	assert_string_equal(only_fact(DCERPC_FACT_REQUEST)->op_name,
			    "OpenServiceW");

	/* Big-endian data representation: framed by its big-endian length,
	 * skipped, counted. */
	rec.count = 0;
	n = build_request(pdu, FIRST_LAST, 70, 0, 15, smb2_open_scm + 24,
			  sizeof(smb2_open_scm) - 24);
	pdu[4] = 0x00;
	m = pdu[8];
	pdu[8] = pdu[9];
	pdu[9] = (uint8_t)m;
	memcpy(two, pdu, n);
	memcpy(two + n, smb2_open_service, sizeof(smb2_open_service));
	assert_int_equal(feed(0, two, n + sizeof(smb2_open_service)),
			 -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_DREP), 1);
	assert_string_equal(only_fact(DCERPC_FACT_REQUEST)->op_name,
			    "OpenServiceW");

	/* A request too short for its fixed fields. */
	rec.count = 0;
	n = build_pdu(pdu, DCERPC_PTYPE_REQUEST, FIRST_LAST, 71, smb2, 4, 0);
	assert_int_equal(feed(0, pdu, n), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_TRUNCATED), 1);

	/* auth_length larger than the PDU. */
	rec.count = 0;
	memcpy(pdu, smb2_open_scm, sizeof(smb2_open_scm));
	pdu[10] = 0xff;
	assert_int_equal(feed(0, pdu, sizeof(smb2_open_scm)), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_TRUNCATED), 1);
	assert_int_equal(rec.count, 1);

	/* A bind announcing more contexts than it carries. */
	rec.count = 0;
	memcpy(pdu, smb2_bind, sizeof(smb2_bind));
	pdu[24] = 5;
	assert_int_equal(feed(0, pdu, sizeof(smb2_bind)), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_CONTEXT_LIST), 1);
	assert_string_equal(only_fact(DCERPC_FACT_BIND)->iface_name,
			    "svcctl");
}

/* A stub that is not CreateServiceW's encoding: error, request kept. */
static void
test_malformed_stub(void **state)
{
	struct wbuf stub = { .len = 0 };
	uint8_t handle[20] = { 0 };
	const struct dcerpc_fact *f;
	uint8_t pdu[512];
	size_t n;

	(void)state;
	bind_one(0, svcctl_uuid, 2);
	put_bytes(&stub, handle, sizeof(handle));
	put32(&stub, 4);		/* max_count */
	put32(&stub, 0);
	put32(&stub, 9);		/* actual_count > max_count */
	put_bytes(&stub, "a\0b\0c\0\0\0", 8);
	n = build_request(pdu, FIRST_LAST, 2, 0, 12, stub.data, stub.len);
	assert_int_equal(feed(0, pdu, n), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_STUB), 1);
	f = only_fact(DCERPC_FACT_REQUEST);
	assert_string_equal(f->op_name, "CreateServiceW");
	assert_int_equal(f->args, DCERPC_ARGS_SERVICE);

	/* A complete stub that ends inside the arguments. */
	rec.count = 0;
	n = build_request(pdu, FIRST_LAST, 3, 0, 12, stub.data, 26);
	assert_int_equal(feed(0, pdu, n), -EBADMSG);
	assert_int_equal(count_errors(DCERPC_ERR_STUB), 1);
}

static void
test_looks_like_pdu(void **state)
{
	uint8_t pdu[64];

	(void)state;
	assert_true(dcerpc_looks_like_pdu(smb2_bind, sizeof(smb2_bind)));
	assert_true(dcerpc_looks_like_pdu(smb2_fault, sizeof(smb2_fault)));
	assert_true(dcerpc_looks_like_pdu(smb2_create_service, 16));
	assert_false(dcerpc_looks_like_pdu(smb2_bind, 15));
	assert_false(dcerpc_looks_like_pdu(NULL, 0));
	assert_false(dcerpc_looks_like_pdu((const uint8_t *)
		"\xfeSMB@\0\0\0\0\0\0\0\0\0\0\0", 16));
	memcpy(pdu, smb2_bind, 16);
	pdu[1] = 2;
	assert_false(dcerpc_looks_like_pdu(pdu, 16));
	memcpy(pdu, smb2_bind, 16);
	pdu[2] = 1;			/* connectionless ping */
	assert_false(dcerpc_looks_like_pdu(pdu, 16));
	memcpy(pdu, smb2_bind, 16);
	pdu[8] = 8;
	assert_false(dcerpc_looks_like_pdu(pdu, 16));
	memcpy(pdu, smb2_bind, 16);
	pdu[4] = 0x30;
	assert_false(dcerpc_looks_like_pdu(pdu, 16));
	memcpy(pdu, smb2_open_scm, 16);
	pdu[10] = 0x60;			/* auth value past frag_length */
	assert_false(dcerpc_looks_like_pdu(pdu, 16));
}

static void
test_names(void **state)
{
	static const uint8_t unknown[16] = { 1, 2, 3 };

	(void)state;
	assert_string_equal(dcerpc_interface_name(svcctl_uuid), "svcctl");
	assert_string_equal(dcerpc_interface_name(scm_activator_uuid),
			    "IRemoteSCMActivator");
	assert_string_equal(dcerpc_interface_name(wbem_login_uuid),
			    "IWbemLevel1Login");
	assert_null(dcerpc_interface_name(unknown));
	assert_string_equal(dcerpc_operation_name(svcctl_uuid, 2),
			    "DeleteService");
	assert_string_equal(dcerpc_operation_name(svcctl_uuid, 16),
			    "OpenServiceW");
	assert_string_equal(dcerpc_operation_name(svcctl_uuid, 31),
			    "StartServiceA");
	assert_string_equal(dcerpc_operation_name(svcctl_uuid, 44),
			    "CreateServiceWOW64A");
	assert_string_equal(dcerpc_operation_name(svcctl_uuid, 45),
			    "CreateServiceWOW64W");
	assert_null(dcerpc_operation_name(svcctl_uuid, 10));
	assert_null(dcerpc_operation_name(svcctl_uuid, 9999));
	assert_null(dcerpc_operation_name(unknown, 0));
	assert_string_equal(dcerpc_operation_name(atsvc_uuid, 0),
			    "NetrJobAdd");
	assert_string_equal(dcerpc_operation_name(tsch_uuid, 1),
			    "SchRpcRegisterTask");
	assert_string_equal(dcerpc_operation_name(tsch_uuid, 12),
			    "SchRpcRun");
	assert_string_equal(dcerpc_operation_name(scm_activator_uuid, 4),
			    "RemoteCreateInstance");
	assert_string_equal(dcerpc_operation_name(wbem_login_uuid, 6),
			    "NTLMLogin");
}

/* Pseudo-random bytes, partly shaped like headers, never crash. */
static void
test_random_input(void **state)
{
	static uint8_t buf[4096];
	uint32_t x = 12345;
	unsigned int round;

	(void)state;
	for (round = 0; round < 2000; round++) {
		size_t len, i;

		x = x * 1103515245 + 12345;
		len = (x >> 8) % sizeof(buf);
		for (i = 0; i < len; i++) {
			x = x * 1103515245 + 12345;
			buf[i] = (uint8_t)(x >> 16);
		}
		if (len >= 16 && (x & 1)) {
			memcpy(buf, smb2_create_service, 16);
			buf[2] = (uint8_t)((x >> 20) % 20);
			buf[3] = (uint8_t)(x >> 24);
		}
		dcerpc_conn_feed(&conn, (int)(x >> 30) & 1, buf, len, 0,
				 record, &rec);
		rec.count = 0;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_conn_fits_its_budget, setup),
		cmocka_unit_test_setup(test_psexec_smb2_svcctl, setup),
		cmocka_unit_test_setup(test_psexec_smb1_create_service, setup),
		cmocka_unit_test_setup(test_create_service_ascii_variants,
				       setup),
		cmocka_unit_test_setup(test_create_service_wide_variants,
				       setup),
		cmocka_unit_test_setup(test_change_service_config, setup),
		cmocka_unit_test_setup(test_open_service, setup),
		cmocka_unit_test_setup(test_netr_job_add, setup),
		cmocka_unit_test_setup(test_task_scheduler, setup),
		cmocka_unit_test_setup(test_task_xml_command, setup),
		cmocka_unit_test_setup(test_fragmented_call, setup),
		cmocka_unit_test_setup(test_fragment_sequence_errors, setup),
		cmocka_unit_test_setup(test_long_arguments_are_truncated,
				       setup),
		cmocka_unit_test_setup(test_auth_trailer, setup),
		cmocka_unit_test_setup(test_gap, setup),
		cmocka_unit_test_setup(test_alter_context_and_unknown_context,
				       setup),
		cmocka_unit_test_setup(test_bind_nak, setup),
		cmocka_unit_test_setup(test_context_table_bounds, setup),
		cmocka_unit_test_setup(test_offers_past_inline, setup),
		cmocka_unit_test_setup(test_control_pdus, setup),
		cmocka_unit_test_setup(test_truncated_stubs, setup),
		cmocka_unit_test_setup(test_utf8_output_bound, setup),
		cmocka_unit_test(test_utf8_account_name),
		cmocka_unit_test_setup(test_chunked_feeding, setup),
		cmocka_unit_test_setup(test_malformed_input, setup),
		cmocka_unit_test_setup(test_malformed_stub, setup),
		cmocka_unit_test_setup(test_looks_like_pdu, setup),
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_contexts_grow, setup),
		cmocka_unit_test_setup(test_cut_at_every_byte, setup),
		cmocka_unit_test_setup(test_bodies_refused, setup),
		cmocka_unit_test_setup(test_directions_held_in_flight, setup),
		cmocka_unit_test_setup(test_random_input, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
