/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint learning and DCE/RPC authentication names: the ept_map tower
 * and DCOM string binding readers (dataplane/dcerpc/dcerpc_epm.c), the
 * NTLMSSP reader shared with SMB (ntlmssp.c), and the stream parser's
 * ENDPOINT and AUTH facts, on the real capture tests/pcaps/rpc_tcp_epm.pcap
 * and on synthetic and malformed input. Every reader is given buffers of
 * exactly the length it is told, so an over-read shows under ASan or
 * valgrind.
 */
#include <arpa/inet.h>
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
#include "dcerpc_epm.h"
#include "ntlmssp.h"

/* samr's tower from the ept_map answer in rpc_tcp_epm.pcap (IP 0.0.0.0). */
static const uint8_t samr_tower[] = {
	0x05, 0x00, 0x13, 0x00, 0x0d, 0x78, 0x57, 0x34, 0x12, 0x34, 0x12,
	0xcd, 0xab, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xac, 0x01,
	0x00, 0x02, 0x00, 0x00, 0x00, 0x13, 0x00, 0x0d, 0x04, 0x5d, 0x88,
	0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10,
	0x48, 0x60, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,
	0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x02, 0x00, 0xc0, 0x02,
	0x01, 0x00, 0x09, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t samr_uuid[16] = { 0x12, 0x34, 0x57, 0x78, 0x12, 0x34,
	0xab, 0xcd, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xac };

/* A copy of exactly <len> bytes, so reading past it is caught. */
static uint8_t *
dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len ? len : 1);

	assert_non_null(q);
	memcpy(q, p, len);
	return q;
}

static void
test_tower(void **state)
{
	struct dcerpc_endpoint ep;
	uint8_t t[sizeof(samr_tower)];
	size_t n;

	(void)state;
	assert_int_equal(dcerpc_epm_parse_tower(samr_tower, sizeof(samr_tower),
		&ep), 0);
	assert_int_equal(ep.port, 49154);
	assert_int_equal(ep.ip_version, 0);	/* 0.0.0.0: the answering host */
	assert_memory_equal(ep.iface_uuid, samr_uuid, 16);
	assert_int_equal(ep.iface_ver_major, 1);

	/* An address in the IP floor is taken. */
	memcpy(t, samr_tower, sizeof(t));
	t[sizeof(t) - 4] = 198;
	t[sizeof(t) - 3] = 18;
	t[sizeof(t) - 2] = 5;
	t[sizeof(t) - 1] = 21;
	assert_int_equal(dcerpc_epm_parse_tower(t, sizeof(t), &ep), 0);
	assert_int_equal(ep.ip_version, 4);
	assert_int_equal(ep.addr[0], 198);
	assert_int_equal(ep.addr[3], 21);

	/* Every cut is refused, and nothing past the cut is read. */
	for (n = 0; n < sizeof(samr_tower); n++) {
		uint8_t *cut = dup_exact(samr_tower, n);

		assert_int_equal(dcerpc_epm_parse_tower(cut, n, &ep), -EBADMSG);
		free(cut);
	}

	/* Not TCP (protocol 0x07 turned into 0x08, UDP): no endpoint. */
	memcpy(t, samr_tower, sizeof(t));
	assert_int_equal(t[61], 0x07);
	t[61] = 0x08;
	assert_int_equal(dcerpc_epm_parse_tower(t, sizeof(t), &ep), -ENOENT);
	/* Too many floors, a port of the wrong size, port 0. */
	memcpy(t, samr_tower, sizeof(t));
	t[0] = 200;
	assert_int_equal(dcerpc_epm_parse_tower(t, sizeof(t), &ep), -EBADMSG);
	memcpy(t, samr_tower, sizeof(t));
	t[64] = 0;
	t[65] = 0;
	assert_int_equal(dcerpc_epm_parse_tower(t, sizeof(t), &ep), -EBADMSG);
	assert_int_equal(dcerpc_epm_parse_tower(NULL, 10, &ep), -EBADMSG);
}

/* Builds an ept_map response stub with <count> copies of samr_tower. */
static size_t
map_response(uint8_t *out, unsigned int count)
{
	size_t off = 20, i;

	memset(out, 0, 20);	/* entry handle */
	out[off] = (uint8_t)count;	/* num_towers */
	memset(out + off + 1, 0, 3);
	off += 4;
	memset(out + off, 0, 12);
	out[off] = (uint8_t)count;	/* max */
	out[off + 8] = (uint8_t)count;	/* actual */
	off += 12;
	for (i = 0; i < count; i++) {
		memset(out + off, 0, 4);
		out[off] = (uint8_t)(3 + i);	/* referent */
		off += 4;
	}
	for (i = 0; i < count; i++) {
		off = (off + 3) & ~(size_t)3;
		memset(out + off, 0, 8);
		out[off] = sizeof(samr_tower);
		out[off + 4] = sizeof(samr_tower);
		off += 8;
		memcpy(out + off, samr_tower, sizeof(samr_tower));
		/* each tower a different port */
		out[off + 64] = (uint8_t)(0xc0 + i);
		off += sizeof(samr_tower);
	}
	memset(out + off, 0, 4);	/* status */
	return off + 4;
}

struct collected {
	unsigned int count;
	struct dcerpc_endpoint ep[32];
};

static void
collect(void *ctx, const struct dcerpc_endpoint *ep)
{
	struct collected *c = ctx;

	if (c->count < 32)
		c->ep[c->count] = *ep;
	c->count++;
}

static void
test_map_response(void **state)
{
	uint8_t stub[2048];
	struct collected c;
	size_t len, n;
	int full;

	(void)state;
	len = map_response(stub, 3);
	memset(&c, 0, sizeof(c));
	full = dcerpc_epm_parse_map_response(stub, len, collect, &c);
	assert_int_equal(full, 3);
	assert_int_equal(c.count, 3);
	assert_int_equal(c.ep[0].port, 0xc002);
	assert_int_equal(c.ep[2].port, 0xc202);

	/* Cut anywhere: never more than the towers wholly present. */
	for (n = 0; n < len; n++) {
		uint8_t *cut = dup_exact(stub, n);
		int got;

		memset(&c, 0, sizeof(c));
		got = dcerpc_epm_parse_map_response(cut, n, collect, &c);
		assert_true(got <= full);
		if (got > 0)
			assert_int_equal((unsigned int)got, c.count);
		free(cut);
	}
	/* More towers than the reader keeps: bounded. */
	len = map_response(stub, 20);
	memset(&c, 0, sizeof(c));
	assert_int_equal(dcerpc_epm_parse_map_response(stub, len, collect, &c),
		EPM_TOWERS_MAX);
	/* actual count above max: not an ept_map answer. */
	len = map_response(stub, 2);
	stub[20 + 4 + 8] = 9;
	assert_int_equal(dcerpc_epm_parse_map_response(stub, len, collect, &c),
		-EBADMSG);
	/* A tower length beyond its conformance. */
	len = map_response(stub, 1);
	stub[20 + 4 + 12 + 4 + 4] = 0xff;
	memset(&c, 0, sizeof(c));
	assert_int_equal(dcerpc_epm_parse_map_response(stub, len, collect, &c),
		0);
}

/* <text> as UTF-16LE into <out>; returns the code units. */
static size_t
utf16(uint8_t *out, const char *text)
{
	size_t i, n = strlen(text);

	for (i = 0; i < n; i++) {
		out[2 * i] = (uint8_t)text[i];
		out[2 * i + 1] = 0;
	}
	return n;
}

static void
test_string_binding(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint8_t ip_version;
		uint16_t port;
	} cases[] = {
		{ "198.18.5.20[49155]", 0, 4, 49155 },
		{ "DC01[135]", 0, 0, 135 },
		{ "dc01.smbgw.test[65535]", 0, 0, 65535 },
		{ "fe80::1[49160]", 0, 6, 49160 },
		{ "0.0.0.0[1024]", 0, 0, 1024 },
		{ "DC01[0]", -EBADMSG, 0, 0 },
		{ "DC01[65536]", -EBADMSG, 0, 0 },
		{ "DC01[12a]", -EBADMSG, 0, 0 },
		{ "DC01[]", -EBADMSG, 0, 0 },
		{ "[135]", -EBADMSG, 0, 0 },
		{ "DC01", -EBADMSG, 0, 0 },
		{ "DC01[135", -EBADMSG, 0, 0 },
		{ "DC 01[135]", -EBADMSG, 0, 0 },
		{ "DC01[123456]", -EBADMSG, 0, 0 },
	};
	uint8_t buf[512];
	struct dcerpc_endpoint ep;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *p;

		n = utf16(buf, cases[i].text);
		p = dup_exact(buf, 2 * n);
		assert_int_equal(dcerpc_parse_string_binding(p, n, &ep),
			cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(ep.ip_version, cases[i].ip_version);
			assert_int_equal(ep.port, cases[i].port);
		}
		free(p);
	}
	/* Longer than the reader takes. */
	memset(buf, 'a', sizeof(buf));
	for (i = 0; i < sizeof(buf) / 2; i++)
		buf[2 * i + 1] = 0;
	assert_int_equal(dcerpc_parse_string_binding(buf, sizeof(buf) / 2, &ep),
		-EBADMSG);
}

/* A DUALSTRINGARRAY as ResolveOxid2 returns it, after <prefix> bytes. */
static size_t
dualstringarray(uint8_t *out, size_t prefix)
{
	static const char *const bindings[] = { "DC01[49155]",
		"198.18.5.20[49155]" };
	size_t off = prefix, i, sec;

	memset(out, 0xee, prefix);
	off += 4;	/* wNumEntries, wSecurityOffset, set below */
	for (i = 0; i < 2; i++) {
		out[off] = 0x07;
		out[off + 1] = 0;
		off += 2;
		off += 2 * utf16(out + off, bindings[i]);
		out[off] = out[off + 1] = 0;
		off += 2;
	}
	out[off] = out[off + 1] = 0;
	off += 2;
	sec = (off - prefix - 4) / 2;
	/* security binding: RPC_C_AUTHN_WINNT, no principal */
	out[off] = 0x0a;
	out[off + 1] = 0;
	out[off + 2] = 0xff;
	out[off + 3] = 0xff;
	out[off + 4] = out[off + 5] = 0;
	out[off + 6] = out[off + 7] = 0;
	off += 8;
	out[prefix] = (uint8_t)((off - prefix - 4) / 2);
	out[prefix + 1] = 0;
	out[prefix + 2] = (uint8_t)sec;
	out[prefix + 3] = 0;
	return off;
}

static void
test_dcom_scan(void **state)
{
	uint8_t buf[1024];
	struct collected c;
	size_t len, n, prefix;

	(void)state;
	for (prefix = 0; prefix < 4; prefix++) {
		len = dualstringarray(buf, 20 + prefix);
		memset(&c, 0, sizeof(c));
		assert_int_equal(dcerpc_dcom_scan_bindings(buf, len, 16,
			collect, &c), 2);
		assert_int_equal(c.ep[0].ip_version, 0);
		assert_int_equal(c.ep[0].port, 49155);
		assert_int_equal(c.ep[1].ip_version, 4);
		assert_int_equal(c.ep[1].addr[3], 20);
	}
	/* max is respected */
	memset(&c, 0, sizeof(c));
	assert_int_equal(dcerpc_dcom_scan_bindings(buf, len, 1, collect, &c), 1);
	/* cut anywhere: bounded, at most what is whole */
	for (n = 0; n < len; n++) {
		uint8_t *cut = dup_exact(buf, n);

		memset(&c, 0, sizeof(c));
		assert_true(dcerpc_dcom_scan_bindings(cut, n, 16, collect,
			&c) <= 2);
		free(cut);
	}
	/* noise full of tower ids and brackets finds nothing */
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = "\x07\x00[]9"[n % 5];
	memset(&c, 0, sizeof(c));
	assert_int_equal(dcerpc_dcom_scan_bindings(buf, sizeof(buf), 16,
		collect, &c), 0);
}

/* An NTLMSSP AUTHENTICATE with names, optionally a bad user offset. */
static size_t
authenticate(uint8_t *out, size_t prefix, bool bad_user, bool unicode)
{
	uint8_t *m = out + prefix;
	size_t off = 64, n;
	const char *names[3] = { "SMBGW", "alice", "WS01" };
	const size_t fields[3] = { 28, 36, 44 };
	size_t i;

	memset(out, 0xa1, prefix);
	memset(m, 0, 64);
	memcpy(m, "NTLMSSP", 8);
	m[8] = 3;
	for (i = 0; i < 3; i++) {
		n = unicode ? 2 * utf16(m + off, names[i]) : strlen(names[i]);
		if (!unicode)
			memcpy(m + off, names[i], n);
		m[fields[i]] = (uint8_t)n;
		m[fields[i] + 2] = (uint8_t)n;
		m[fields[i] + 4] = (uint8_t)off;
		off += n;
	}
	if (bad_user)
		m[36 + 4] = 0xf0;
	m[60] = unicode ? 0x01 : 0x02;	/* NEGOTIATE_UNICODE / OEM */
	/* an NT response after the names, as Windows orders them */
	memset(m + off, 0x5a, 48);
	m[20] = 48;
	m[22] = 48;
	m[24] = (uint8_t)off;
	off += 48;
	return prefix + off;
}

static void
test_ntlmssp(void **state)
{
	uint8_t buf[512];
	struct ntlmssp_names names;
	size_t len, n;

	(void)state;
	len = authenticate(buf, 0, false, true);
	assert_int_equal(ntlmssp_authenticate_names(buf, len, &names),
		NTLMSSP_NAMES);
	assert_true(names.unicode);
	assert_int_equal(names.user.len, 10);
	assert_memory_equal(names.user.data, "a\0l\0i\0c\0e\0", 10);
	/* inside SPNEGO: found by signature */
	len = authenticate(buf, 37, false, false);
	assert_int_equal(ntlmssp_authenticate_names(buf, len, &names),
		NTLMSSP_NAMES);
	assert_false(names.unicode);
	assert_memory_equal(names.domain.data, "SMBGW", 5);
	len = authenticate(buf, 0, true, true);
	assert_int_equal(ntlmssp_authenticate_names(buf, len, &names),
		NTLMSSP_BAD_FIELD);
	assert_int_equal(names.user.len, 0);
	assert_int_equal(names.domain.len, 10);
	/* NEGOTIATE is not a logon */
	len = authenticate(buf, 0, false, true);
	buf[8] = 1;
	assert_int_equal(ntlmssp_authenticate_names(buf, len, &names),
		NTLMSSP_NONE);
	/* every cut of an AUTHENTICATE: bounded */
	len = authenticate(buf, 3, false, true);
	for (n = 0; n < len; n++) {
		uint8_t *cut = dup_exact(buf, n);
		enum ntlmssp_result r = ntlmssp_authenticate_names(cut, n,
			&names);

		if (n < 3 + 12)
			assert_int_equal(r, NTLMSSP_NONE);
		else if (n < 3 + 64)
			assert_int_equal(r, NTLMSSP_SHORT);
		if (names.user.len != 0)
			assert_true(names.user.data + names.user.len <=
				cut + n);
		free(cut);
	}
	assert_int_equal(ntlmssp_authenticate_names(NULL, 0, &names),
		NTLMSSP_NONE);
}

/* ---- the stream parser on the real capture ---- */

struct facts {
	unsigned int endpoints, auths, requests, unknown_context, errors;
	uint16_t ports[8];
	uint8_t ifaces[8][16];
	char users[4][DCERPC_ACCOUNT_MAX];
	char domains[4][DCERPC_ACCOUNT_MAX];
	uint8_t auth_types[4];
	char auth_iface[4][32];
};

static void
on_fact(void *ctx, const struct dcerpc_fact *f)
{
	struct facts *x = ctx;

	switch (f->type) {
	case DCERPC_FACT_ENDPOINT:
		if (x->endpoints < 8) {
			x->ports[x->endpoints] = f->endpoint.port;
			memcpy(x->ifaces[x->endpoints], f->iface_uuid, 16);
		}
		x->endpoints++;
		break;
	case DCERPC_FACT_AUTH:
		if (x->auths < 4) {
			snprintf(x->users[x->auths], DCERPC_ACCOUNT_MAX, "%s",
				f->user);
			snprintf(x->domains[x->auths], DCERPC_ACCOUNT_MAX,
				"%s", f->domain);
			x->auth_types[x->auths] = f->auth_type;
			snprintf(x->auth_iface[x->auths], 32, "%s",
				f->iface_name ? f->iface_name : "");
		}
		x->auths++;
		break;
	case DCERPC_FACT_REQUEST:
		x->requests++;
		if (f->flags & DCERPC_FACT_F_UNKNOWN_CONTEXT)
			x->unknown_context++;
		break;
	case DCERPC_FACT_ERROR:
		x->errors++;
		break;
	default:
		break;
	}
}

/* One TCP connection of the capture, by client port. */
struct conn {
	uint16_t client_port;
	struct dcerpc_conn rpc;
};

/*
 * Feeds every TCP payload of <file> to a parser per connection, direction
 * by the client address 198.18.5.10, <chunk> bytes at a time (0: whole
 * segments). The capture is clean: no loss, no reordering.
 */
static void
feed_capture(const char *file, size_t chunk, struct facts *x)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	static struct conn conns[16];
	unsigned int nconns = 0, i;
	struct pcap_pkthdr *h;
	const u_char *p;
	pcap_t *pc;

	pc = pcap_open_offline(file, errbuf);
	assert_non_null(pc);
	memset(x, 0, sizeof(*x));
	while (pcap_next_ex(pc, &h, &p) == 1) {
		size_t ihl, thl, plen, off;
		uint16_t sport, dport, cport;
		bool from_server;
		struct conn *c = NULL;

		if (h->caplen < 14 + 20 || p[12] != 0x08 || p[13] != 0x00 ||
				p[14 + 9] != 6)
			continue;
		ihl = (size_t)(p[14] & 0x0f) * 4;
		plen = (size_t)(p[16] << 8 | p[17]);
		thl = (size_t)(p[14 + ihl + 12] >> 4) * 4;
		sport = (uint16_t)(p[14 + ihl] << 8 | p[14 + ihl + 1]);
		dport = (uint16_t)(p[14 + ihl + 2] << 8 | p[14 + ihl + 3]);
		from_server = !(p[26] == 198 && p[27] == 18 && p[28] == 5 &&
			p[29] == 10);
		cport = from_server ? dport : sport;
		off = 14 + ihl + thl;
		if (plen < ihl + thl || 14 + plen > h->caplen ||
				plen == ihl + thl)
			continue;
		for (i = 0; i < nconns; i++)
			if (conns[i].client_port == cport)
				c = &conns[i];
		if (c == NULL) {
			assert_true(nconns < 16);
			c = &conns[nconns++];
			c->client_port = cport;
			dcerpc_conn_init(&c->rpc);
		}
		plen = 14 + plen - off;
		if (chunk == 0) {
			dcerpc_conn_feed(&c->rpc, from_server, p + off, plen,
				0, on_fact, x);
		} else {
			size_t k;

			for (k = 0; k < plen; k += chunk)
				dcerpc_conn_feed(&c->rpc, from_server,
					p + off + k, plen - k < chunk ?
					plen - k : chunk, 0, on_fact, x);
		}
	}
	pcap_close(pc);
}

static void
check_capture_facts(const struct facts *x)
{
	static const uint8_t lsarpc_uuid[16] = { 0x12, 0x34, 0x57, 0x78, 0x12,
		0x34, 0xab, 0xcd, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89,
		0xab };

	assert_int_equal(x->errors, 0);
	/* ept_map named samr on 49154, then lsarpc on 49153 */
	assert_int_equal(x->endpoints, 2);
	assert_int_equal(x->ports[0], 49154);
	assert_memory_equal(x->ifaces[0], samr_uuid, 16);
	assert_int_equal(x->ports[1], 49153);
	assert_memory_equal(x->ifaces[1], lsarpc_uuid, 16);
	/* AUTH3 of each authenticated connection names the user */
	assert_int_equal(x->auths, 2);
	assert_string_equal(x->users[0], "Administrator");
	assert_string_equal(x->domains[0], "SMBGW");
	assert_int_equal(x->auth_types[0], 10);
	assert_string_equal(x->auth_iface[0], "samr");
	assert_string_equal(x->users[1], "Administrator");
	assert_string_equal(x->auth_iface[1], "lsarpc");
	assert_int_equal(x->unknown_context, 0);
}


/* PDU header of <ptype>, flags <pfc>, call <call_id>, <len> bytes. */
static void
header(uint8_t *pdu, uint8_t ptype, uint8_t pfc, uint32_t call_id,
	size_t len)
{
	memset(pdu, 0, 16);
	pdu[0] = 5;
	pdu[2] = ptype;
	pdu[3] = pfc;
	pdu[4] = 0x10;
	pdu[8] = (uint8_t)len;
	pdu[9] = (uint8_t)(len >> 8);
	pdu[12] = (uint8_t)call_id;
}

/*
 * DCOM: BIND IObjectExporter, ResolveOxid2 (opnum 4), and its answer with
 * a DUALSTRINGARRAY behind <pad> bytes, in <frags> fragments: the answer
 * outgrows the server's own body buffer, so this also covers the borrowed
 * one.
 */
static void
run_resolve_oxid2(size_t pad, unsigned int frags, struct facts *x)
{
	/* 99fcfec4-5260-101b-bbcb-00aa0021347a in wire order */
	static const uint8_t exporter[16] = { 0xc4, 0xfe, 0xfc, 0x99, 0x60,
		0x52, 0x1b, 0x10, 0xbb, 0xcb, 0x00, 0xaa, 0x00, 0x21, 0x34,
		0x7a };
	uint8_t pdu[2048], stub[1400];
	struct dcerpc_conn conn;
	size_t len, stub_len, off, piece;
	unsigned int i;

	memset(x, 0, sizeof(*x));
	dcerpc_conn_init(&conn);
	/* BIND, one context */
	len = 16 + 12 + 44;
	header(pdu, DCERPC_PTYPE_BIND, 3, 1, len);
	memset(pdu + 16, 0, len - 16);
	pdu[16 + 8] = 1;
	pdu[28 + 2] = 1;
	memcpy(pdu + 28 + 4, exporter, 16);
	assert_int_equal(dcerpc_conn_feed(&conn, 0, pdu, len, 0, on_fact, x),
		0);
	/* BIND_ACK: no secondary address, one result: accepted */
	len = 16 + 8 + 2 + 2 + 4 + 24;
	header(pdu, DCERPC_PTYPE_BIND_ACK, 3, 1, len);
	memset(pdu + 16, 0, len - 16);
	pdu[16 + 12] = 1;
	assert_int_equal(dcerpc_conn_feed(&conn, 1, pdu, len, 0, on_fact, x),
		0);
	/* REQUEST ResolveOxid2: OXID and protocol sequences (not read) */
	len = 16 + 8 + 16;
	header(pdu, DCERPC_PTYPE_REQUEST, 3, 2, len);
	memset(pdu + 16, 0, len - 16);
	pdu[22] = 4;
	assert_int_equal(dcerpc_conn_feed(&conn, 0, pdu, len, 0, on_fact, x),
		0);
	/* RESPONSE: referent, then the array, after <pad> bytes */
	stub_len = dualstringarray(stub, pad) + 16;
	memset(stub + stub_len - 16, 0, 16);	/* IPID, auth hint, status */
	piece = (stub_len + frags - 1) / frags;
	for (i = 0, off = 0; off < stub_len; i++, off += piece) {
		size_t n = stub_len - off < piece ? stub_len - off : piece;
		uint8_t pfc = (off == 0 ? 1 : 0) |
			(off + n >= stub_len ? 2 : 0);

		len = 16 + 8 + n;
		header(pdu, DCERPC_PTYPE_RESPONSE, pfc, 2, len);
		memset(pdu + 16, 0, 8);
		memcpy(pdu + 24, stub + off, n);
		assert_int_equal(dcerpc_conn_feed(&conn, 1, pdu, len, 0,
			on_fact, x), 0);
	}
}

static void
test_dcom_stream(void **state)
{
	static const uint8_t zero[16];
	struct facts x;
	size_t pad;

	(void)state;
	for (pad = 8; pad <= 808; pad += 400) {
		run_resolve_oxid2(pad, 1, &x);
		assert_int_equal(x.errors, 0);
		assert_int_equal(x.endpoints, 2);
		assert_int_equal(x.ports[0], 49155);
		assert_int_equal(x.ports[1], 49155);
		assert_memory_equal(x.ifaces[0], zero, 16);
		run_resolve_oxid2(pad, 3, &x);
		assert_int_equal(x.endpoints, 2);
	}
	/* An answer beyond the client's buffer loses what is past it, and
	 * nothing else. */
	run_resolve_oxid2(1100, 2, &x);
	assert_int_equal(x.errors, 0);
	assert_true(x.endpoints <= 2);
}

static void
test_capture(void **state)
{
	struct facts x;

	(void)state;
	feed_capture(TESTS_DIR "/pcaps/rpc_tcp_epm.pcap", 0, &x);
	check_capture_facts(&x);
	assert_int_equal(x.requests, 2 + 5 + 1);
}

static void
test_capture_bytewise(void **state)
{
	struct facts x;
	size_t chunk;

	(void)state;
	for (chunk = 1; chunk <= 7; chunk += 3) {
		feed_capture(TESTS_DIR "/pcaps/rpc_tcp_epm.pcap", chunk, &x);
		check_capture_facts(&x);
	}
}

/* A client BIND offering samr with <auth_type> and an auth value. */
static size_t
bind_with_auth(uint8_t *pdu, uint8_t ptype, uint8_t auth_type,
	const uint8_t *auth, size_t auth_len)
{
	size_t off = 16;

	memset(pdu, 0, 16);
	pdu[0] = 5;
	pdu[2] = ptype;
	pdu[3] = 3;
	pdu[4] = 0x10;
	pdu[12] = 1;
	if (ptype == DCERPC_PTYPE_AUTH3) {
		memset(pdu + off, 0, 4);
		off += 4;
	} else {
		memset(pdu + off, 0, 12);
		pdu[off] = pdu[off + 2] = 0xb8;
		pdu[off + 1] = pdu[off + 3] = 0x10;
		pdu[off + 8] = 1;	/* one context */
		off += 12;
		memset(pdu + off, 0, 44);
		pdu[off + 2] = 1;	/* one transfer syntax */
		/* samr in wire order */
		pdu[off + 4] = 0x78; pdu[off + 5] = 0x57;
		pdu[off + 6] = 0x34; pdu[off + 7] = 0x12;
		pdu[off + 8] = 0x34; pdu[off + 9] = 0x12;
		pdu[off + 10] = 0xcd; pdu[off + 11] = 0xab;
		memcpy(pdu + off + 12, samr_uuid + 8, 8);
		pdu[off + 20] = 1;
		off += 44;
	}
	memset(pdu + off, 0, 8);
	pdu[off] = auth_type;
	pdu[off + 1] = 5;	/* integrity */
	off += 8;
	memcpy(pdu + off, auth, auth_len);
	off += auth_len;
	pdu[8] = (uint8_t)off;
	pdu[9] = (uint8_t)(off >> 8);
	pdu[10] = (uint8_t)auth_len;
	pdu[11] = (uint8_t)(auth_len >> 8);
	return off;
}

static void
test_auth_synthetic(void **state)
{
	uint8_t auth[1200], pdu[1400];
	struct dcerpc_conn conn;
	struct facts x;
	size_t alen, plen;

	(void)state;
	/* BIND carrying SPNEGO-wrapped AUTHENTICATE (auth_type 9) */
	alen = authenticate(auth, 29, false, true);
	plen = bind_with_auth(pdu, DCERPC_PTYPE_BIND, 9, auth, alen);
	memset(&x, 0, sizeof(x));
	dcerpc_conn_init(&conn);
	assert_int_equal(dcerpc_conn_feed(&conn, 0, pdu, plen, 0, on_fact, &x),
		0);
	assert_int_equal(x.auths, 1);
	assert_string_equal(x.users[0], "alice");
	assert_string_equal(x.domains[0], "SMBGW");
	assert_int_equal(x.auth_types[0], 9);
	assert_string_equal(x.auth_iface[0], "samr");

	/* The same from the server: not a logon. */
	memset(&x, 0, sizeof(x));
	dcerpc_conn_init(&conn);
	dcerpc_conn_feed(&conn, 1, pdu, plen, 0, on_fact, &x);
	assert_int_equal(x.auths, 0);

	/* Other auth types (Kerberos 16) are not read for NTLMSSP. */
	plen = bind_with_auth(pdu, DCERPC_PTYPE_BIND, 16, auth, alen);
	memset(&x, 0, sizeof(x));
	dcerpc_conn_init(&conn);
	dcerpc_conn_feed(&conn, 0, pdu, plen, 0, on_fact, &x);
	assert_int_equal(x.auths, 0);

	/* AUTH3 with a user field pointing outside: names that fit, and an
	 * error. */
	alen = authenticate(auth, 0, true, false);
	plen = bind_with_auth(pdu, DCERPC_PTYPE_AUTH3, 10, auth, alen);
	memset(&x, 0, sizeof(x));
	dcerpc_conn_init(&conn);
	assert_int_equal(dcerpc_conn_feed(&conn, 0, pdu, plen, 0, on_fact, &x),
		-EBADMSG);
	assert_int_equal(x.auths, 1);
	assert_string_equal(x.users[0], "");
	assert_string_equal(x.domains[0], "SMBGW");

	/* An auth value larger than the body buffer: the names come
	 * first, so they are still read. */
	alen = authenticate(auth, 0, false, true);
	memset(auth + alen, 0x33, 1100 - alen);
	plen = bind_with_auth(pdu, DCERPC_PTYPE_AUTH3, 10, auth, 1100);
	memset(&x, 0, sizeof(x));
	dcerpc_conn_init(&conn);
	dcerpc_conn_feed(&conn, 0, pdu, plen, 0, on_fact, &x);
	assert_int_equal(x.auths, 1);
	assert_string_equal(x.users[0], "alice");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tower),
		cmocka_unit_test(test_map_response),
		cmocka_unit_test(test_string_binding),
		cmocka_unit_test(test_dcom_scan),
		cmocka_unit_test(test_ntlmssp),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_dcom_stream),
		cmocka_unit_test(test_capture_bytewise),
		cmocka_unit_test(test_auth_synthetic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
