/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS 1.3 ClientHello (RFC 8446 4.1.2) a QUIC client's Initial packets
 * carry: only what says which protocol the connection will speak, ALPN
 * (RFC 7301) and server_name (RFC 6066).
 */
#include <errno.h>
#include <string.h>

#include "quic.h"

#define TLS_HANDSHAKE_CLIENT_HELLO	1
#define TLS_EXT_SERVER_NAME		0
#define TLS_EXT_ALPN			16
#define TLS_SNI_HOST_NAME		0

/* SMB over QUIC's ALPN id (MS-SMB2 2.1). */
static const char smb_alpn[] = "smb";

struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *
take(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || n > c->left) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static size_t
take_u8(struct cursor *c)
{
	const uint8_t *p = take(c, 1);

	return p != NULL ? p[0] : 0;
}

static size_t
take_u16(struct cursor *c)
{
	const uint8_t *p = take(c, 2);

	return p != NULL ? (size_t)p[0] << 8 | p[1] : 0;
}

/* A sub-cursor over the next <n> bytes of <c>. */
static struct cursor
take_vector(struct cursor *c, size_t n)
{
	struct cursor sub = { .p = take(c, n), .left = n, .bad = false };

	if (sub.p == NULL) {
		sub.left = 0;
		sub.bad = true;
	}
	return sub;
}

/*
 * Appends printable bytes of <s> to the NUL-terminated <out>, other bytes
 * and <sep> (the list's separator, or 0) as '?'; cut to fit.
 */
static void
append_text(char *out, size_t size, const uint8_t *s, size_t n, char sep)
{
	size_t used = strlen(out), i;

	for (i = 0; i < n && used + 1 < size; i++)
		out[used++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != sep ?
			(char)s[i] : '?';
	out[used] = '\0';
}

static void
read_alpn(struct cursor ext, struct quic_hello *out)
{
	struct cursor list = take_vector(&ext, take_u16(&ext));

	out->alpn_present = true;
	while (!list.bad && list.left > 0) {
		size_t n = take_u8(&list);
		const uint8_t *id = take(&list, n);

		if (id == NULL || n == 0)
			break;
		if (n == sizeof(smb_alpn) - 1 && memcmp(id, smb_alpn, n) == 0)
			out->alpn_smb = true;
		if (out->alpn[0] != '\0')
			append_text(out->alpn, sizeof(out->alpn),
				(const uint8_t *)",", 1, 0);
		/* An id holding a comma must not read as two. */
		append_text(out->alpn, sizeof(out->alpn), id, n, ',');
	}
}

static void
read_server_name(struct cursor ext, struct quic_hello *out)
{
	struct cursor list = take_vector(&ext, take_u16(&ext));

	while (!list.bad && list.left > 0) {
		size_t type = take_u8(&list);
		size_t n = take_u16(&list);
		const uint8_t *name = take(&list, n);

		if (name == NULL)
			break;
		if (type == TLS_SNI_HOST_NAME && out->sni[0] == '\0')
			append_text(out->sni, sizeof(out->sni), name, n, 0);
	}
}

int
quic_parse_client_hello(const uint8_t *msg, size_t len,
	struct quic_hello *out)
{
	struct cursor c = { .p = msg, .left = len, .bad = false };
	struct cursor body, exts;
	size_t body_len;

	out->alpn_present = false;
	out->alpn_smb = false;
	out->alpn[0] = '\0';
	out->sni[0] = '\0';
	if (take_u8(&c) != TLS_HANDSHAKE_CLIENT_HELLO)
		return -EBADMSG;
	body_len = take_u8(&c) << 16;
	body_len |= take_u16(&c);
	body = take_vector(&c, body_len);
	take(&body, 2 + 32);				/* version, random */
	take(&body, take_u8(&body));			/* legacy_session_id */
	take(&body, take_u16(&body));			/* cipher_suites */
	take(&body, take_u8(&body));			/* compression */
	exts = take_vector(&body, take_u16(&body));
	if (body.bad || exts.bad)
		return -EBADMSG;
	while (exts.left > 0) {
		size_t type = take_u16(&exts);
		struct cursor ext = take_vector(&exts, take_u16(&exts));

		if (exts.bad)
			return -EBADMSG;
		/* A server refuses a repeated extension; every one is read
		 * so that a decoy first cannot hide "smb" in a second. */
		if (type == TLS_EXT_ALPN)
			read_alpn(ext, out);
		else if (type == TLS_EXT_SERVER_NAME)
			read_server_name(ext, out);
	}
	return 0;
}
