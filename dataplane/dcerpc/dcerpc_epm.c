/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dcerpc_epm.h"
#include "dcerpc_pvt.h"

#define CONTEXT_HANDLE_LEN	20
#define UUID_LEN		16

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int
dcerpc_epm_parse_tower(const uint8_t *p, size_t len,
		       struct dcerpc_endpoint *ep)
{
	size_t off = 2, i, floors;
	bool tcp = false;

	memset(ep, 0, sizeof(*ep));
	if (p == NULL || len < 2)
		return -EBADMSG;
	floors = rd16(p);
	if (floors == 0 || floors > EPM_FLOORS_MAX)
		return -EBADMSG;
	for (i = 0; i < floors; i++) {
		const uint8_t *lhs, *rhs;
		size_t lhs_len, rhs_len;

		if (len - off < 2)
			return -EBADMSG;
		lhs_len = rd16(p + off);
		off += 2;
		if (lhs_len < 1 || len - off < lhs_len)
			return -EBADMSG;
		lhs = p + off;
		off += lhs_len;
		if (len - off < 2)
			return -EBADMSG;
		rhs_len = rd16(p + off);
		off += 2;
		if (len - off < rhs_len)
			return -EBADMSG;
		rhs = p + off;
		off += rhs_len;

		switch (lhs[0]) {
		case EPM_PROTO_UUID:
			/* The first UUID floor is the interface; the second
			 * is the transfer syntax. */
			if (i == 0 && lhs_len >= 1 + UUID_LEN + 2) {
				dcerpc_uuid_from_wire(ep->iface_uuid, lhs + 1);
				ep->iface_ver_major = rd16(lhs + 1 + UUID_LEN);
			}
			break;
		case EPM_PROTO_TCP:
			if (rhs_len != 2)
				return -EBADMSG;
			/* Ports and addresses are in network order. */
			ep->port = (uint16_t)(rhs[0] << 8 | rhs[1]);
			tcp = true;
			break;
		case EPM_PROTO_IP:
			if (rhs_len != 4)
				return -EBADMSG;
			if (rhs[0] | rhs[1] | rhs[2] | rhs[3]) {
				memcpy(ep->addr, rhs, 4);
				ep->ip_version = 4;
			}
			break;
		default:
			break;
		}
	}
	if (!tcp)
		return -ENOENT;
	return ep->port != 0 ? 0 : -EBADMSG;
}

int
dcerpc_epm_parse_map_response(const uint8_t *stub, size_t len,
			      dcerpc_endpoint_fn fn, void *ctx)
{
	uint32_t referents[EPM_TOWERS_MAX];
	size_t off, i, count, wanted;
	int found = 0;

	if (stub == NULL || len < CONTEXT_HANDLE_LEN + 16)
		return -EBADMSG;
	/* entry handle, num_towers, then the array's max, offset, actual. */
	off = CONTEXT_HANDLE_LEN + 4;
	count = rd32(stub + off + 8);
	if (rd32(stub + off + 4) != 0 || count > rd32(stub + off) ||
	    count > rd32(stub + CONTEXT_HANDLE_LEN))
		return -EBADMSG;
	off += 12;
	wanted = count < EPM_TOWERS_MAX ? count : EPM_TOWERS_MAX;
	if ((len - off) / 4 < count) {
		/* The pointers themselves were cut: nothing follows. */
		return 0;
	}
	for (i = 0; i < wanted; i++)
		referents[i] = rd32(stub + off + 4 * i);
	off += 4 * count;
	for (i = 0; i < wanted; i++) {
		struct dcerpc_endpoint ep;
		uint32_t max, tower_len;

		if (referents[i] == 0)
			continue;
		/* twr_t: conformance (max count), tower_length, octets;
		 * each tower starts 4-aligned. */
		off = (off + 3) & ~(size_t)3;
		if (off > len || len - off < 8)
			break;
		max = rd32(stub + off);
		tower_len = rd32(stub + off + 4);
		off += 8;
		if (tower_len > max || tower_len > len - off)
			break;
		if (dcerpc_epm_parse_tower(stub + off, tower_len, &ep) == 0) {
			if (fn != NULL)
				fn(ctx, &ep);
			found++;
		}
		off += tower_len;
	}
	return found;
}

/* Reads a decimal TCP port of <n> ASCII digits; 0 if not one. */
static uint16_t
parse_port(const char *s, size_t n)
{
	uint32_t v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	return v <= 65535 ? (uint16_t)v : 0;
}

int
dcerpc_parse_string_binding(const uint8_t *p, size_t chars,
			    struct dcerpc_endpoint *ep)
{
	char text[DCOM_ADDR_CHARS_MAX + 1];
	size_t i, open = 0, host_len;
	uint16_t port;

	memset(ep, 0, sizeof(*ep));
	if (p == NULL || chars < 4 || chars > DCOM_ADDR_CHARS_MAX)
		return -EBADMSG;
	for (i = 0; i < chars; i++) {
		uint16_t c = rd16(p + 2 * i);

		/* Printable ASCII only: names, literals and brackets. */
		if (c < 0x21 || c > 0x7e)
			return -EBADMSG;
		text[i] = (char)c;
		if (c == '[' && open == 0)
			open = i;
	}
	text[chars] = '\0';
	if (open == 0 || text[chars - 1] != ']')
		return -EBADMSG;
	port = parse_port(text + open + 1, chars - open - 2);
	if (port == 0)
		return -EBADMSG;
	ep->port = port;
	host_len = open;
	text[host_len] = '\0';
	if (inet_pton(AF_INET, text, ep->addr) == 1)
		ep->ip_version = 4;
	else if (inet_pton(AF_INET6, text, ep->addr) == 1)
		ep->ip_version = 6;
	else
		memset(ep->addr, 0, sizeof(ep->addr));
	if (ep->ip_version == 4 && rd32(ep->addr) == 0)
		ep->ip_version = 0;
	return 0;
}

int
dcerpc_dcom_scan_bindings(const uint8_t *stub, size_t len, unsigned int max,
			  dcerpc_endpoint_fn fn, void *ctx)
{
	size_t i;
	int found = 0;

	if (stub == NULL)
		return 0;
	/* Entries are 2-aligned within their array; the array's own
	 * alignment inside an activation blob is not known, so both
	 * parities are tried. */
	for (i = 0; i + 4 <= len && (unsigned int)found < max; i++) {
		struct dcerpc_endpoint ep;
		size_t start = i + 2, n = 0;

		if (rd16(stub + i) != DCOM_TOWER_TCP)
			continue;
		while (n <= DCOM_ADDR_CHARS_MAX && start + 2 * n + 2 <= len &&
		       rd16(stub + start + 2 * n) != 0)
			n++;
		if (n > DCOM_ADDR_CHARS_MAX || start + 2 * n + 2 > len)
			continue;
		if (dcerpc_parse_string_binding(stub + start, n, &ep) != 0)
			continue;
		if (fn != NULL)
			fn(ctx, &ep);
		found++;
		i = start + 2 * n + 1;
	}
	return found;
}

/* Interfaces whose answers name endpoints, textual byte order. */
static const uint8_t epm_uuid[16] = { 0xe1, 0xaf, 0x83, 0x08, 0x5d, 0x1f,
	0x11, 0xc9, 0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa };
static const uint8_t object_exporter_uuid[16] = { 0x99, 0xfc, 0xfe, 0xc4,
	0x52, 0x60, 0x10, 0x1b, 0xbb, 0xcb, 0x00, 0xaa, 0x00, 0x21, 0x34,
	0x7a };
static const uint8_t system_activator_uuid[16] = { 0x00, 0x00, 0x01, 0xa0,
	0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x46 };

/* Operation numbers (C706 appendix O, MS-DCOM 3.1.2.5, 3.1.2.5.2.3). */
#define EPT_MAP				3
#define RESOLVE_OXID			0
#define RESOLVE_OXID2			4
#define SERVER_ALIVE2			5
#define REMOTE_GET_CLASS_OBJECT		3
#define REMOTE_CREATE_INSTANCE		4

enum dcerpc_decoder
dcerpc_learner_for(const uint8_t uuid[16], uint16_t opnum)
{
	if (memcmp(uuid, epm_uuid, 16) == 0)
		return opnum == EPT_MAP ? DCERPC_DEC_LEARN_EPM :
					  DCERPC_DEC_NONE;
	if (memcmp(uuid, object_exporter_uuid, 16) == 0)
		return opnum == RESOLVE_OXID || opnum == RESOLVE_OXID2 ||
		       opnum == SERVER_ALIVE2 ? DCERPC_DEC_LEARN_DCOM :
						DCERPC_DEC_NONE;
	if (memcmp(uuid, system_activator_uuid, 16) == 0)
		return opnum == REMOTE_GET_CLASS_OBJECT ||
		       opnum == REMOTE_CREATE_INSTANCE ?
		       DCERPC_DEC_LEARN_DCOM : DCERPC_DEC_NONE;
	return DCERPC_DEC_NONE;
}
