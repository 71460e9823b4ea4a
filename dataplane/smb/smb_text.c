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

/* U+2026, where a name too long to keep whole lost its middle. */
#define SMB_ELISION_UTF8	"\xe2\x80\xa6"
#define SMB_ELISION_LEN		3
/* Below this, a cut name keeps only its start. */
#define SMB_ELIDE_MIN_SIZE	32

/* The code point utf8_put() writes for <cp>, and how many bytes it takes. */
static size_t
utf8_len(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f)
		cp = 0xfffd;
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/*
 * The code point of the UTF-16LE code unit(s) at unit <i> of <units>,
 * reading forward; *<step> is how many units it takes. Unpaired
 * surrogates are U+FFFD.
 */
static uint32_t
utf16_next(const uint8_t *src, size_t units, size_t i, size_t *step)
{
	uint32_t cp = smb_le16(src + 2 * i);

	*step = 1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		uint32_t lo = i + 1 < units ? smb_le16(src + 2 * (i + 1)) : 0;

		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*step = 2;
			return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		return 0xfffd;
	}
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return 0xfffd;
	return cp;
}

/*
 * The same, reading backward: the code point that ends just before unit
 * <j> (j > 0).
 */
static uint32_t
utf16_prev(const uint8_t *src, size_t j, size_t *step)
{
	uint32_t cp = smb_le16(src + 2 * (j - 1));

	*step = 1;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		uint32_t hi = j >= 2 ? smb_le16(src + 2 * (j - 2)) : 0;

		if (hi >= 0xd800 && hi <= 0xdbff) {
			*step = 2;
			return 0x10000 + ((hi - 0xd800) << 10) + (cp - 0xdc00);
		}
		return 0xfffd;
	}
	if (cp >= 0xd800 && cp <= 0xdbff)
		return 0xfffd;
	return cp;
}

/*
 * Decodes <nbytes> of UTF-16LE at <src> into NUL-terminated UTF-8 in <dst>
 * of <size> bytes (size >= 1), stopping at a NUL code unit. Unpaired
 * surrogates and control characters become U+FFFD; a trailing odd byte
 * is ignored. Returns true if the output was cut to fit.
 *
 * A string that does not fit keeps its start and its end around U+2026:
 * a path's share and directories are at its start, but the file name and
 * its extension, which watchlists and policy rules look at, are at its
 * end, and a long directory name must not hide them.
 */
bool
smb_utf16_to_utf8(const uint8_t *src, size_t nbytes, char *dst, size_t size)
{
	size_t units = nbytes / 2;
	size_t end, i, j, step, pos = 0, total = 0, head, tail = 0;

	dst[0] = '\0';
	/* No code unit takes more than 3 bytes: most names surely fit, and
	 * need no counting pass. */
	if (units * 3 + 1 <= size) {
		for (i = 0; i < units; i += step) {
			uint32_t cp = smb_le16(src + 2 * i);

			/* Printable ASCII, most of any name: itself, one byte. */
			if (cp - 0x20u < 0x5fu) {
				dst[pos++] = (char)cp;
				step = 1;
				continue;
			}
			cp = utf16_next(src, units, i, &step);
			if (cp == 0)
				break;
			utf8_put(dst, size, &pos, cp);
		}
		dst[pos] = '\0';
		return false;
	}
	for (end = 0; end < units; end += step) {
		uint32_t cp = utf16_next(src, units, end, &step);

		if (cp == 0)
			break;
		total += utf8_len(cp);
	}
	if (total + 1 <= size) {
		for (i = 0; i < end; i += step)
			utf8_put(dst, size, &pos, utf16_next(src, end, i, &step));
		dst[pos] = '\0';
		return false;
	}
	if (size < SMB_ELIDE_MIN_SIZE) {
		for (i = 0; i < end; i += step)
			if (!utf8_put(dst, size, &pos,
					utf16_next(src, end, i, &step)))
				break;
		dst[pos] = '\0';
		return true;
	}
	/* Half the room for the end, the rest for the start and U+2026. */
	for (j = end; j > 0; j -= step) {
		size_t n = utf8_len(utf16_prev(src, j, &step));

		if (tail + n > (size - 1) / 2)
			break;
		tail += n;
	}
	head = size - 1 - SMB_ELISION_LEN - tail;
	for (i = 0; i < j; i += step)
		if (!utf8_put(dst, head + 1, &pos, utf16_next(src, j, i, &step)))
			break;
	memcpy(dst + pos, SMB_ELISION_UTF8, SMB_ELISION_LEN);
	pos += SMB_ELISION_LEN;
	for (i = j; i < end; i += step)
		utf8_put(dst, size, &pos, utf16_next(src, end, i, &step));
	dst[pos] = '\0';
	return true;
}

/* The code point utf8_put() writes for OEM byte <b>. */
static uint32_t
oem_cp(uint8_t b)
{
	return b < 0x80 ? b : 0xfffd;
}

/*
 * Copies <nbytes> of an OEM string at <src> into <dst> of <size> bytes,
 * stopping at NUL. Bytes above 0x7f have no known code page and become
 * U+FFFD. Returns true if the output was cut to fit; a cut string keeps
 * its start and its end, as smb_utf16_to_utf8() does.
 */
bool
smb_ascii_to_utf8(const uint8_t *src, size_t nbytes, char *dst, size_t size)
{
	size_t end, i, j, pos = 0, total = 0, head, tail = 0;

	dst[0] = '\0';
	for (end = 0; end < nbytes && src[end] != 0; end++)
		total += utf8_len(oem_cp(src[end]));
	if (total + 1 <= size || size < SMB_ELIDE_MIN_SIZE) {
		for (i = 0; i < end; i++)
			if (!utf8_put(dst, size, &pos, oem_cp(src[i])))
				break;
		dst[pos] = '\0';
		return total + 1 > size;
	}
	for (j = end; j > 0; j--) {
		size_t n = utf8_len(oem_cp(src[j - 1]));

		if (tail + n > (size - 1) / 2)
			break;
		tail += n;
	}
	head = size - 1 - SMB_ELISION_LEN - tail;
	for (i = 0; i < j; i++)
		if (!utf8_put(dst, head + 1, &pos, oem_cp(src[i])))
			break;
	memcpy(dst + pos, SMB_ELISION_UTF8, SMB_ELISION_LEN);
	pos += SMB_ELISION_LEN;
	for (i = j; i < end; i++)
		utf8_put(dst, size, &pos, oem_cp(src[i]));
	dst[pos] = '\0';
	return true;
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
	struct smb_auth *auth;
	struct ntlmssp_names names;
	enum ntlmssp_result result;
	const uint8_t *tkt;

	result = ntlmssp_authenticate_names(blob, len, &names);
	if (result != NTLMSSP_NONE) {
		auth = smb_auth_begin(m);
		if (auth == NULL)
			return true;
		auth->mech = SMB_AUTH_NTLMSSP;
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
	auth = smb_auth_begin(m);
	if (auth == NULL)
		return true;
	auth->mech = SMB_AUTH_KERBEROS;
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
