/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_DCERPC_EPM_H
#define SMBGW_DCERPC_EPM_H

/*
 * Where a DCE/RPC server says it listens: the endpoint mapper's towers
 * (ept_map, C706 appendix L and MS-RPCE 2.2.1.2) and DCOM's string
 * bindings (DUALSTRINGARRAY, MS-DCOM 2.2.19, returned by
 * IObjectExporter::ResolveOxid/ResolveOxid2/ServerAlive2 and
 * ISystemActivator::RemoteCreateInstance). Only TCP endpoints
 * (ncacn_ip_tcp) are reported: they are what a later connection to a
 * dynamic port is matched against.
 *
 * Pure C, no allocation; every reader is bounded by the length given.
 */

#include <stddef.h>
#include <stdint.h>

/* Protocol identifiers of tower floors (C706 appendix I). */
#define EPM_PROTO_UUID		0x0d
#define EPM_PROTO_TCP		0x07
#define EPM_PROTO_IP		0x09
/* DCOM wTowerId of ncacn_ip_tcp string bindings. */
#define DCOM_TOWER_TCP		0x0007

/* Most towers read from one ept_map response. */
#define EPM_TOWERS_MAX		16
/* Most floors of one tower (a TCP/IP tower has 5). */
#define EPM_FLOORS_MAX		8
/* Longest DCOM network address read, in characters. */
#define DCOM_ADDR_CHARS_MAX	128

/* One learned endpoint. */
struct dcerpc_endpoint {
	/* Interface of floor 1, textual byte order; all zero when the
	 * binding does not name one (DCOM). */
	uint8_t iface_uuid[16];
	uint16_t iface_ver_major;
	/* TCP port, host order. */
	uint16_t port;
	/* 4 or 6 with an address in addr (IPv4 in the first 4 bytes); 0
	 * when the binding names the answering server itself (tower IP
	 * 0.0.0.0, no IP floor, or a host name rather than an address):
	 * the caller substitutes the address the answer came from. */
	uint8_t ip_version;
	uint8_t addr[16];
};

typedef void (*dcerpc_endpoint_fn)(void *ctx,
				   const struct dcerpc_endpoint *ep);

/*
 * Reads one tower octet string <p> of <len> bytes (floor count, then per
 * floor: LHS length, LHS with the protocol id first, RHS length, RHS).
 * Returns 0 and fills <ep> for a tower with a TCP floor, -ENOENT for a
 * well-formed tower of another transport, -EBADMSG when malformed.
 */
int
dcerpc_epm_parse_tower(const uint8_t *p, size_t len,
		       struct dcerpc_endpoint *ep);

/*
 * Reads the NDR stub of an ept_map response (entry handle, num_towers,
 * the conformant varying array of tower pointers, the towers, status) of
 * <len> bytes, which may be cut short: towers complete within <len> are
 * reported. Calls <fn> for each TCP tower. Returns the number reported,
 * or -EBADMSG when the stub is not an ept_map response.
 */
int
dcerpc_epm_parse_map_response(const uint8_t *stub, size_t len,
			      dcerpc_endpoint_fn fn, void *ctx);

/*
 * Reads one string binding's network address, <chars> UTF-16LE code
 * units at <p> (no NUL), as "host[port]" with a decimal port 1-65535.
 * host is an IPv4 or IPv6 literal (addr set) or a name (ip_version 0).
 * Returns 0, or -EBADMSG when it is not of that form.
 */
int
dcerpc_parse_string_binding(const uint8_t *p, size_t chars,
			    struct dcerpc_endpoint *ep);

/*
 * Finds the ncacn_ip_tcp string bindings (wTowerId 7, then a
 * NUL-terminated UTF-16LE "host[port]") anywhere in the response stub
 * <stub> of <len> bytes, so that every DCOM answer that carries a
 * DUALSTRINGARRAY (ResolveOxid, ResolveOxid2, ServerAlive2,
 * RemoteCreateInstance's activation properties) is read the same way
 * without walking its NDR. Calls <fn> for each, at most <max> times.
 * Returns the number reported.
 */
int
dcerpc_dcom_scan_bindings(const uint8_t *stub, size_t len, unsigned int max,
			  dcerpc_endpoint_fn fn, void *ctx);

#endif /* SMBGW_DCERPC_EPM_H */
