/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif
#include <string.h>

#include "ntlmssp.h"

#define NTLMSSP_NEGOTIATE_UNICODE	0x00000001u
#define NTLMSSP_AUTHENTICATE		3
#define AUTHENTICATE_FIXED_LEN		64
/* Offsets of the fields (Len, MaxLen, Offset) in AUTHENTICATE. */
#define FIELD_DOMAIN		28
#define FIELD_USER		36
#define FIELD_WORKSTATION	44
#define FIELD_FLAGS		60

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Points <s> at the field at <field> of <msg> (<len> bytes, at least the
 * fixed header); false if its bytes are not all there. */
static bool
field(const uint8_t *msg, size_t len, size_t field,
      struct ntlmssp_string *s)
{
	uint16_t flen = (uint16_t)(msg[field] | msg[field + 1] << 8);
	uint32_t foff = get_le32(msg + field + 4);

	if (flen == 0)
		return true;
	if (foff > len || flen > len - foff)
		return false;
	s->data = msg + foff;
	s->len = flen;
	return true;
}

enum ntlmssp_result
ntlmssp_authenticate_names(const uint8_t *blob, size_t len,
			   struct ntlmssp_names *names)
{
	static const uint8_t sig[8] = "NTLMSSP";
	const uint8_t *msg;
	size_t mlen;
	bool ok;

	memset(names, 0, sizeof(*names));
	if (blob == NULL)
		return NTLMSSP_NONE;
	msg = memmem(blob, len, sig, sizeof(sig));
	if (msg == NULL)
		return NTLMSSP_NONE;
	mlen = (size_t)(blob + len - msg);
	if (mlen < 12 || get_le32(msg + 8) != NTLMSSP_AUTHENTICATE)
		return NTLMSSP_NONE;
	if (mlen < AUTHENTICATE_FIXED_LEN)
		return NTLMSSP_SHORT;
	names->unicode = (get_le32(msg + FIELD_FLAGS) &
			  NTLMSSP_NEGOTIATE_UNICODE) != 0;
	ok = field(msg, mlen, FIELD_DOMAIN, &names->domain);
	ok &= field(msg, mlen, FIELD_USER, &names->user);
	ok &= field(msg, mlen, FIELD_WORKSTATION, &names->workstation);
	return ok ? NTLMSSP_NAMES : NTLMSSP_BAD_FIELD;
}
