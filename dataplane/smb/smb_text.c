/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Strings from the wire (UTF-16LE, OEM), NetBIOS names, and the parts of
 * security blobs worth reporting: NTLMSSP AUTHENTICATE names and the
 * Kerberos ticket realm.
 */
#include <string.h>

#include "ntlmssp.h"
#include "smb_pvt.h"
#include "utf8.h"

#define SMB_REPLACEMENT_UTF8	"\xef\xbf\xbd"	/* U+FFFD */

/* Appends code point <cp> to <dst>; false (nothing written) if it does not fit. */
static bool
utf8_put(char *dst, size_t size, size_t *pos, uint32_t cp)
{
	/* Control characters would let a name forge log lines downstream. */
	if (cp < 0x20 || cp == 0x7f)
		cp = 0xfffd;
	return utf8_append(dst, size, pos, cp);
}

/*
 * Decodes <nbytes> of UTF-16LE at <src> into NUL-terminated UTF-8 in <dst>
 * of <size> bytes (size >= 1), stopping at a NUL code unit. Unpaired
 * surrogates and control characters become U+FFFD; a trailing odd byte
 * is ignored. Returns true if the output was cut to fit.
 */
bool
smb_utf16_to_utf8(const uint8_t *src, size_t nbytes, char *dst, size_t size)
{
	size_t pos = 0;
	size_t i = 0;

	dst[0] = '\0';
	while (i + 1 < nbytes) {
		uint32_t cp = smb_le16(src + i);

		i += 2;
		if (cp == 0)
			break;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			uint32_t lo = i + 1 < nbytes ? smb_le16(src + i) : 0;

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
					(lo - 0xdc00);
				i += 2;
			} else {
				cp = 0xfffd;
			}
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cp = 0xfffd;
		}
		if (!utf8_put(dst, size, &pos, cp)) {
			dst[pos] = '\0';
			return true;
		}
	}
	dst[pos] = '\0';
	return false;
}

/*
 * Copies <nbytes> of an OEM string at <src> into <dst> of <size> bytes,
 * stopping at NUL. Bytes above 0x7f have no known code page and become
 * U+FFFD. Returns true if the output was cut to fit.
 */
bool
smb_ascii_to_utf8(const uint8_t *src, size_t nbytes, char *dst, size_t size)
{
	size_t pos = 0;
	size_t i;

	dst[0] = '\0';
	for (i = 0; i < nbytes && src[i] != 0; i++) {
		if (!utf8_put(dst, size, &pos, src[i] < 0x80 ? src[i] : 0xfffd)) {
			dst[pos] = '\0';
			return true;
		}
	}
	dst[pos] = '\0';
	return false;
}

/*
 * Decodes a first-level encoded NetBIOS name (RFC 1001 14.1: a length byte
 * 0x20, 32 letters 'A'..'P', a NUL label) at <p> of <len> bytes into
 * "NAME<xx>" with trailing spaces dropped. Writes "" if malformed.
 */
void
smb_netbios_name(const uint8_t *p, uint32_t len, char *dst, size_t size)
{
	char name[16];
	uint8_t suffix = 0;
	int n, i;

	dst[0] = '\0';
	if (len < 33 || p[0] != 0x20 || size < SMB_NETBIOS_NAME_MAX)
		return;
	for (i = 0; i < 16; i++) {
		uint8_t hi = p[1 + 2 * i] - 'A';
		uint8_t lo = p[2 + 2 * i] - 'A';
		uint8_t c;

		if (hi > 15 || lo > 15)
			return;
		c = (uint8_t)(hi << 4 | lo);
		suffix = c;	/* the 16th byte is the name type */
		name[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	n = 15;
	while (n > 0 && name[n - 1] == ' ')
		n--;
	memcpy(dst, name, n);
	dst[n++] = '<';
	dst[n++] = "0123456789abcdef"[suffix >> 4];
	dst[n++] = "0123456789abcdef"[suffix & 0xf];
	dst[n++] = '>';
	dst[n] = '\0';
}

/* Finds <needle> of <nlen> bytes in <hay> of <hlen>; NULL if absent. */
static const uint8_t *
find_bytes(const uint8_t *hay, size_t hlen, const uint8_t *needle,
	size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

/* Converts an NTLMSSP name into <dst>; sets *truncated if cut. */
static void
ntlm_name(const struct ntlmssp_string *s, bool unicode, char *dst,
	size_t size, uint8_t *truncated)
{
	dst[0] = '\0';
	if (s->len == 0)
		return;
	if (unicode ? smb_utf16_to_utf8(s->data, s->len, dst, size) :
			smb_ascii_to_utf8(s->data, s->len, dst, size))
		*truncated = 1;
}

/*
 * Whether <blob> of <len> bytes holds a Kerberos AP-REQ GSS-API token: the
 * Kerberos 5 OID (1.2.840.113554.1.2.2, or Microsoft's 1.2.840.48018.1.2.2)
 * and the token id 01 00. In an SPNEGO mechTypes list the same OIDs are
 * followed by the next OID (06), never by 01 00.
 */
static bool
has_krb5_ap_req(const uint8_t *blob, uint32_t len)
{
	static const uint8_t krb5[13] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
		0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00 };
	static const uint8_t ms_krb5[13] = { 0x06, 0x09, 0x2a, 0x86, 0x48,
		0x82, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00 };

	return find_bytes(blob, len, krb5, sizeof(krb5)) != NULL ||
		find_bytes(blob, len, ms_krb5, sizeof(ms_krb5)) != NULL;
}

/*
 * Looks at a request's security blob (raw NTLMSSP, or SPNEGO wrapping
 * NTLMSSP or Kerberos) of <len> bytes and, when it authenticates, records
 * the names in the connection's logon slot for the response. <complete> is
 * false when the blob continues beyond the prefix kept. Returns true if the
 * blob authenticates (NTLMSSP AUTHENTICATE or a Kerberos ticket), false for
 * other legs of the exchange. NTLMSSP is found by
 * its signature rather than by walking the SPNEGO DER, which is both cheaper
 * and indifferent to the wrapping. Kerberos is found by its ticket (which
 * gives the realm) or, when the ticket lies beyond the bytes kept or is
 * encoded otherwise, by the Kerberos mechanism OID followed by the AP-REQ
 * token id that opens the GSS-API token (RFC 4121 4.1), so the kind of a
 * logon is known either way.
 */
bool
smb_security_blob(const struct smb_msg *m, const uint8_t *blob, uint32_t len,
	bool complete)
{
	static const uint8_t ntlm_sig[8] = "NTLMSSP";
	/* Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0] 5, realm [1]
	 * GeneralString: the tkt-vno element then the realm's tags. The
	 * AP-REQ's own pvno is followed by [1] INTEGER, never a string. */
	static const uint8_t krb_ticket[6] = { 0xa0, 0x03, 0x02, 0x01, 0x05,
		0xa1 };
	struct smb_auth *auth = &m->run->st->auth;
	struct ntlmssp_names names;
	enum ntlmssp_result result;
	const uint8_t *tkt;

	result = ntlmssp_authenticate_names(blob, len, &names);
	if (result != NTLMSSP_NONE) {
		memset(auth, 0, sizeof(*auth));
		auth->key = m->pending_key;
		auth->version = m->version;
		auth->mech = SMB_AUTH_NTLMSSP;
		auth->valid = 1;
		if (result == NTLMSSP_SHORT) {
			smb_error(m, complete ? SMB_ERR_SECURITY_BLOB :
				SMB_ERR_PREFIX_EXCEEDED, "ntlmssp header");
			return true;
		}
		ntlm_name(&names.domain, names.unicode, auth->domain,
			sizeof(auth->domain), &auth->truncated);
		ntlm_name(&names.user, names.unicode, auth->user,
			sizeof(auth->user), &auth->truncated);
		ntlm_name(&names.workstation, names.unicode, auth->workstation,
			sizeof(auth->workstation), &auth->truncated);
		if (result == NTLMSSP_BAD_FIELD)
			smb_error(m, complete ? SMB_ERR_SECURITY_BLOB :
				SMB_ERR_PREFIX_EXCEEDED, "ntlmssp name field");
		return true;
	}
	if (memmem(blob, len, ntlm_sig, sizeof(ntlm_sig)) != NULL)
		return false;
	tkt = find_bytes(blob, len, krb_ticket, sizeof(krb_ticket));
	if (tkt == NULL && !has_krb5_ap_req(blob, len))
		return false;
	memset(auth, 0, sizeof(*auth));
	auth->key = m->pending_key;
	auth->version = m->version;
	auth->mech = SMB_AUTH_KERBEROS;
	auth->valid = 1;
	while (tkt != NULL) {
		uint32_t off = (uint32_t)(tkt - blob) + sizeof(krb_ticket);

		/* [1] length, then GeneralString tag 0x1b and its length;
		 * short-form lengths only, as realms are short. */
		if (smb_fits(len, off, 3) && blob[off] < 0x80 &&
		    blob[off + 1] == 0x1b && blob[off + 2] < 0x80 &&
		    smb_fits(len, off + 3, blob[off + 2])) {
			if (smb_ascii_to_utf8(blob + off + 3, blob[off + 2],
					auth->realm, sizeof(auth->realm)))
				auth->truncated = 1;
			break;
		}
		tkt = find_bytes(tkt + 1, (size_t)(blob + len - tkt - 1),
			krb_ticket, sizeof(krb_ticket));
	}
	return true;
}

const char *
smb_auth_name(uint8_t auth)
{
	switch (auth) {
	case SMB_AUTH_NTLMSSP: return "ntlm";
	case SMB_AUTH_KERBEROS: return "kerberos";
	case SMB_AUTH_PLAINTEXT: return "plaintext";
	default: return NULL;
	}
}
