/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_NTLMSSP_H
#define SMBGW_NTLMSSP_H

/*
 * The names of an NTLMSSP AUTHENTICATE message (MS-NLMP 2.2.1.3), found in
 * a security blob whatever wraps it: raw in an SMB1 extended session setup
 * or a DCE/RPC auth verifier (auth_type 10), inside SPNEGO in SMB2 and in
 * DCE/RPC auth_type 9. Shared by the SMB and DCE/RPC parsers; each turns
 * the strings into UTF-8 with its own conversion.
 *
 * Pure C, no allocation; never reads outside the bytes given.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One string field: where its bytes are, inside the blob given. */
struct ntlmssp_string {
	const uint8_t *data;
	uint16_t len;
};

struct ntlmssp_names {
	struct ntlmssp_string domain;
	struct ntlmssp_string user;
	struct ntlmssp_string workstation;
	/* NTLMSSP_NEGOTIATE_UNICODE: UTF-16LE, else OEM 8-bit. */
	bool unicode;
};

enum ntlmssp_result {
	/* No NTLMSSP signature, or a message other than AUTHENTICATE. */
	NTLMSSP_NONE = 0,
	/* An AUTHENTICATE whose three names are all within the bytes. */
	NTLMSSP_NAMES,
	/* An AUTHENTICATE cut before the end of its fixed header (64
	 * bytes): no names. */
	NTLMSSP_SHORT,
	/* An AUTHENTICATE with a name field pointing outside the bytes: that
	 * name is empty, the others are set. */
	NTLMSSP_BAD_FIELD,
};

/*
 * Looks for the "NTLMSSP\0" signature in <blob> of <len> bytes (by
 * signature rather than by walking SPNEGO's DER: cheaper, and indifferent
 * to the wrapping) and, when it opens an AUTHENTICATE, points <names> at
 * its domain, user and workstation strings. <names> is always set (empty
 * strings when absent).
 */
enum ntlmssp_result
ntlmssp_authenticate_names(const uint8_t *blob, size_t len,
			   struct ntlmssp_names *names);

#endif /* SMBGW_NTLMSSP_H */
