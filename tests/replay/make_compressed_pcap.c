/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes a capture of one SMB 3.1.1 connection whose TREE_CONNECT to
 * \\198.18.2.20\SHARE is sent compressed (COMPRESSION_TRANSFORM, 0xFC):
 *
 *   make_compressed_pcap OUT ALGORITHM FORM SHARE [SEGMENT]
 *
 * ALGORITHM: lznt1, lz77, huffman (LZ77+Huffman), compressed with the
 * test compressors of tests/lib/xca_encode.c; lz4 (a literal-only LZ4
 * block: valid, but not an algorithm the gateway inflates); corrupt (LZ77
 * with its compressed data cut in half). FORM: chained (compressed, the
 * trailing zeros as a Pattern_V1 payload, compressed) or unchained.
 * SEGMENT: the compressed record is sent in TCP segments of at most this
 * many bytes (1 to 1460; default 1460, one segment).
 *
 * The connection, 198.18.1.10:49732 -> 198.18.2.20:445, is what a
 * Windows client sends: handshake; NEGOTIATE offering 2.0.2 to 3.1.1 with
 * preauthentication, encryption and compression contexts (ALGORITHM and
 * Pattern_V1, chained), answered 3.1.1 with the same; an NTLM logon as
 * LAB\root in two SESSION_SETUP rounds (SPNEGO); a signed TREE_CONNECT to
 * IPC$, plain; the compressed TREE_CONNECT to SHARE and its answer
 * (success); then FIN both ways. IPv4 and TCP checksums are valid,
 * sequence and acknowledgement numbers consistent, segments at most 1460
 * bytes. The same arguments always give the same file.
 */
#include <stdio.h>
#include <stdlib.h>

#include "smb2_build.h"

#define CLIENT_IP	0xc612010au	/* 198.18.1.10 */
#define SERVER_IP	0xc6120214u	/* 198.18.2.20 */
#define CLIENT_PORT	49732
#define SERVER_PORT	445
#define MSS		1460
#define FRAME_MAX	(14 + 20 + 20 + MSS)

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_PSH		0x08
#define TCP_ACK		0x10

#define SMB2_FLAGS_SIGNED	0x00000008u
#define STATUS_MORE_PROCESSING	0xc0000016u
#define XCA_LZ4			0x0005

static const uint8_t client_mac[6] = { 0x02, 0x00, 0xc6, 0x12, 0x01, 0x0a };
static const uint8_t server_mac[6] = { 0x02, 0x00, 0xc6, 0x12, 0x02, 0x14 };

/* ---- the capture ------------------------------------------------------ */

struct side {
	uint32_t ip;
	uint16_t port;
	const uint8_t *mac;
	uint32_t seq;		/* next sequence number to send */
	uint16_t ip_id;
};

struct capture {
	FILE *f;
	uint64_t now_us;
	struct side client, server;
	uint32_t rand_state;
};

static uint32_t
next_random(struct capture *c)
{
	c->rand_state = c->rand_state * 1103515245u + 12345u;
	return c->rand_state >> 8;
}

static void
fill_random(struct capture *c, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)next_random(c);
}

static void
put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v);
}

/* One's complement sum of <len> bytes, added to <sum>. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
write_le32(FILE *f, uint32_t v)
{
	uint8_t b[4];

	put_le32(b, v);
	fwrite(b, 1, 4, f);
}

/*
 * One TCP segment from <from> to <to> with <len> payload bytes and TCP
 * options <opt> (a multiple of 4 bytes), written <delay_us> after the
 * previous frame.
 */
static void
segment(struct capture *c, struct side *from, struct side *to, uint8_t flags,
	const uint8_t *payload, size_t len, const uint8_t *opt, size_t opt_len,
	uint32_t delay_us)
{
	uint8_t frame[FRAME_MAX + 40], pseudo[12];
	uint8_t *ip = frame + 14, *tcp = ip + 20;
	size_t tcp_len = 20 + opt_len + len;
	uint32_t sum;

	memcpy(frame, to->mac, 6);
	memcpy(frame + 6, from->mac, 6);
	put_be16(frame + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, (uint32_t)(20 + tcp_len));
	put_be16(ip + 4, from->ip_id++);
	put_be16(ip + 6, 0x4000);		/* DF */
	ip[8] = from == &c->client ? 128 : 64;
	ip[9] = 6;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, from->ip);
	put_be32(ip + 16, to->ip);
	put_be16(ip + 10, fold(sum16(0, ip, 20)));

	put_be16(tcp, from->port);
	put_be16(tcp + 2, to->port);
	put_be32(tcp + 4, from->seq);
	put_be32(tcp + 8, flags & TCP_ACK ? to->seq : 0);
	tcp[12] = (uint8_t)((20 + opt_len) / 4 << 4);
	tcp[13] = flags;
	put_be16(tcp + 14, flags & TCP_SYN ? 64240 : 513);	/* scaled by 256 */
	put_be16(tcp + 16, 0);
	put_be16(tcp + 18, 0);
	if (opt_len != 0)
		memcpy(tcp + 20, opt, opt_len);
	if (len != 0)
		memcpy(tcp + 20 + opt_len, payload, len);
	put_be32(pseudo, from->ip);
	put_be32(pseudo + 4, to->ip);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put_be16(pseudo + 10, (uint32_t)tcp_len);
	sum = sum16(sum16(0, pseudo, sizeof(pseudo)), tcp, tcp_len);
	put_be16(tcp + 16, fold(sum));

	from->seq += (uint32_t)len + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
	c->now_us += delay_us;
	write_le32(c->f, (uint32_t)(c->now_us / 1000000));
	write_le32(c->f, (uint32_t)(c->now_us % 1000000));
	write_le32(c->f, (uint32_t)(14 + 20 + tcp_len));
	write_le32(c->f, (uint32_t)(14 + 20 + tcp_len));
	fwrite(frame, 1, 14 + 20 + tcp_len, c->f);
}

/* A record (NBSS header included) in segments of at most <mss> bytes. */
static void
send_record_in(struct capture *c, struct side *from, struct side *to,
	const uint8_t *rec, size_t len, uint32_t delay_us, size_t mss)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < mss ? len - off : mss;
		segment(c, from, to, TCP_ACK |
			(off + n == len ? TCP_PSH : 0), rec + off, n, NULL, 0,
			off == 0 ? delay_us : 5);
	}
}

static void
send_record(struct capture *c, struct side *from, struct side *to,
	const uint8_t *rec, size_t len, uint32_t delay_us)
{
	send_record_in(c, from, to, rec, len, delay_us, MSS);
}

/* ---- SPNEGO and NTLMSSP --------------------------------------------- */

/*
 * DER: <tag>, its length, then the <len> bytes at <content>, which may
 * overlap <out> (wrapped where it lies).
 */
static size_t
der(uint8_t *out, uint8_t tag, const uint8_t *content, size_t len)
{
	size_t h = len < 0x80 ? 2 : len < 0x100 ? 3 : 4;

	memmove(out + h, content, len);
	out[0] = tag;
	if (h == 2) {
		out[1] = (uint8_t)len;
	} else if (h == 3) {
		out[1] = 0x81;
		out[2] = (uint8_t)len;
	} else {
		out[1] = 0x82;
		put_be16(out + 2, (uint32_t)len);
	}
	return h + len;
}

static const uint8_t spnego_oid[] = {
	0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
static const uint8_t ntlmssp_oid[] = {
	0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };

/* NegTokenInit offering NTLMSSP, with <token> (may be empty). */
static size_t
spnego_init(uint8_t *out, const uint8_t *token, size_t token_len)
{
	uint8_t a[1024], b[1024];
	size_t n, m;

	n = der(a, 0x30, ntlmssp_oid, sizeof(ntlmssp_oid));	/* MechTypeList */
	n = der(b, 0xa0, a, n);					/* mechTypes */
	if (token_len > 0) {
		m = der(b + n, 0x04, token, token_len);
		n += der(b + n, 0xa2, b + n, m);		/* mechToken */
	}
	n = der(a, 0x30, b, n);
	n = der(b + sizeof(spnego_oid), 0xa0, a, n);
	memcpy(b, spnego_oid, sizeof(spnego_oid));
	return der(out, 0x60, b, sizeof(spnego_oid) + n);
}

/* NegTokenResp: <state> (0xff: none), NTLMSSP as supportedMech if
 * <mech>, <token> (may be empty). */
static size_t
spnego_resp(uint8_t *out, int state, int mech, const uint8_t *token,
	size_t token_len)
{
	uint8_t a[1024], b[1024];
	size_t n = 0, m;

	if (state != 0xff) {
		const uint8_t e[3] = { 0x0a, 0x01, (uint8_t)state };

		n += der(b + n, 0xa0, e, sizeof(e));
	}
	if (mech)
		n += der(b + n, 0xa1, ntlmssp_oid, sizeof(ntlmssp_oid));
	if (token_len > 0) {
		m = der(a, 0x04, token, token_len);
		n += der(b + n, 0xa2, a, m);
	}
	n = der(a, 0x30, b, n);
	return der(out, 0xa1, a, n);
}

#define NTLM_FLAGS	0xe2888215u	/* 56, KEY_EXCH, 128, VERSION, TARGET_INFO,
					 * EXTENDED_SESSIONSECURITY, ALWAYS_SIGN,
					 * NTLM, SIGN, REQUEST_TARGET, UNICODE */

static void
ntlm_version(uint8_t *p)
{
	/* Windows 10.0 build 19041, NTLM revision 15 */
	p[0] = 10;
	p[1] = 0;
	put_le16(p + 2, 19041);
	p[4] = p[5] = p[6] = 0;
	p[7] = 15;
}

/* A security buffer field (Len, MaxLen, Offset) for <len> bytes at <off>. */
static void
ntlm_field(uint8_t *p, size_t len, size_t off)
{
	put_le16(p, (uint32_t)len);
	put_le16(p + 2, (uint32_t)len);
	put_le32(p + 4, (uint32_t)off);
}

static size_t
ntlm_negotiate(uint8_t *p)
{
	memset(p, 0, 40);
	memcpy(p, "NTLMSSP", 8);
	put_le32(p + 8, 1);
	put_le32(p + 12, NTLM_FLAGS | 0x00000004u);	/* + OEM */
	ntlm_field(p + 16, 0, 40);
	ntlm_field(p + 24, 0, 40);
	ntlm_version(p + 32);
	return 40;
}

static size_t
av_pair(uint8_t *p, uint16_t id, const char *s)
{
	size_t n = put_utf16(p + 4, s);

	put_le16(p, id);
	put_le16(p + 2, (uint32_t)n);
	return 4 + n;
}

/* The server's AV pairs (domain LAB, host FS1), its time last. */
static size_t
target_info(struct capture *c, uint8_t *p)
{
	size_t n = 0;

	n += av_pair(p + n, 2, "LAB");
	n += av_pair(p + n, 1, "FS1");
	n += av_pair(p + n, 4, "lab.test");
	n += av_pair(p + n, 3, "fs1.lab.test");
	n += av_pair(p + n, 5, "lab.test");
	put_le16(p + n, 7);
	put_le16(p + n + 2, 8);
	put_le64(p + n + 4, (c->now_us + 11644473600ull * 1000000) * 10);
	n += 12;
	put_le32(p + n, 0);		/* MsvAvEOL */
	return n + 4;
}

static size_t
ntlm_challenge(struct capture *c, uint8_t *p)
{
	size_t name, info;

	memset(p, 0, 56);
	memcpy(p, "NTLMSSP", 8);
	put_le32(p + 8, 2);
	name = put_utf16(p + 56, "LAB");
	ntlm_field(p + 12, name, 56);
	put_le32(p + 20, NTLM_FLAGS | 0x00010000u);	/* + TARGET_TYPE_DOMAIN */
	fill_random(c, p + 24, 8);			/* ServerChallenge */
	info = target_info(c, p + 56 + name);
	ntlm_field(p + 40, info, 56 + name);
	ntlm_version(p + 48);
	return 56 + name + info;
}

/* AUTHENTICATE as <domain>\<user> from <host>, NTLMv2. */
static size_t
ntlm_authenticate(struct capture *c, uint8_t *p, const char *domain,
	const char *user, const char *host)
{
	size_t off = 88, n;
	uint8_t *nt;

	memset(p, 0, 88);
	memcpy(p, "NTLMSSP", 8);
	put_le32(p + 8, 3);
	/* LmChallengeResponse: 24 zeros, as with NTLMv2 and a timestamp */
	memset(p + off, 0, 24);
	ntlm_field(p + 12, 24, off);
	off += 24;
	/* NtChallengeResponse: NTProofStr, then the NTLMv2 client blob */
	nt = p + off;
	fill_random(c, nt, 16);
	nt[16] = 1;
	nt[17] = 1;
	memset(nt + 18, 0, 6);
	put_le64(nt + 24, (c->now_us + 11644473600ull * 1000000) * 10);
	fill_random(c, nt + 32, 8);			/* ClientChallenge */
	put_le32(nt + 40, 0);
	n = 44 + target_info(c, nt + 44);
	put_le32(nt + n, 0);
	n += 4;
	ntlm_field(p + 20, n, off);
	off += n;
	n = put_utf16(p + off, domain);
	ntlm_field(p + 28, n, off);
	off += n;
	n = put_utf16(p + off, user);
	ntlm_field(p + 36, n, off);
	off += n;
	n = put_utf16(p + off, host);
	ntlm_field(p + 44, n, off);
	off += n;
	fill_random(c, p + off, 16);			/* EncryptedRandomSessionKey */
	ntlm_field(p + 52, 16, off);
	off += 16;
	put_le32(p + 60, NTLM_FLAGS);
	ntlm_version(p + 64);
	fill_random(c, p + 72, 16);			/* MIC */
	return off;
}

/* ---- SMB2 messages ---------------------------------------------------- */

/* Header fields smb2_header() leaves: credits, session, signature. */
static void
smb2_finish(struct capture *c, uint8_t *m, uint64_t session_id, int sign)
{
	put_le16(m + 6, 1);		/* CreditCharge */
	put_le16(m + 14, m[16] & 1 ? 1 : 31);	/* CreditResponse/Request */
	put_le64(m + 40, session_id);
	if (sign) {
		m[16] |= SMB2_FLAGS_SIGNED;
		fill_random(c, m + 48, 16);
	}
}

static size_t
negotiate_context(uint8_t *m, size_t off, uint16_t type, const uint8_t *data,
	size_t len)
{
	off = (off + 7) & ~(size_t)7;
	put_le16(m + off, type);
	put_le16(m + off + 2, (uint32_t)len);
	put_le32(m + off + 4, 0);
	memcpy(m + off + 8, data, len);
	return off + 8 + len;
}

/*
 * The contexts of a 3.1.1 NEGOTIATE at <off>, 8-aligned: SHA-512
 * preauthentication with <salt>, ciphers, compression with <algorithm>
 * and Pattern_V1, chained. Returns the end of the last; <count> is set.
 */
static size_t
negotiate_contexts(struct capture *c, uint8_t *m, size_t off, int response,
	uint16_t algorithm, uint16_t *count)
{
	uint8_t d[64];

	put_le16(d, 1);			/* HashAlgorithmCount */
	put_le16(d + 2, 32);		/* SaltLength */
	put_le16(d + 4, 1);		/* SHA-512 */
	fill_random(c, d + 6, 32);
	off = negotiate_context(m, off, 1, d, 38);
	if (response) {
		put_le16(d, 1);
		put_le16(d + 2, 2);	/* AES-128-GCM */
		off = negotiate_context(m, off, 2, d, 4);
	} else {
		put_le16(d, 4);
		put_le16(d + 2, 4);	/* AES-256-GCM */
		put_le16(d + 4, 3);	/* AES-256-CCM */
		put_le16(d + 6, 2);	/* AES-128-GCM */
		put_le16(d + 8, 1);	/* AES-128-CCM */
		off = negotiate_context(m, off, 2, d, 10);
	}
	put_le16(d, 2);			/* CompressionAlgorithmCount */
	put_le16(d + 2, 0);
	put_le32(d + 4, 1);		/* SMB2_COMPRESSION_CAPABILITIES_FLAG_CHAINED */
	put_le16(d + 8, algorithm);
	put_le16(d + 10, XCA_PATTERN_V1);
	off = negotiate_context(m, off, 3, d, 12);
	*count = 3;
	return off;
}

static const uint16_t dialects[] = { 0x0202, 0x0210, 0x0300, 0x0302, 0x0311 };

static size_t
negotiate_req(struct capture *c, uint8_t *m, uint16_t algorithm)
{
	uint8_t *b = m + 64;
	uint16_t count;
	size_t i, end;

	smb2_header(m, SMB2_NEGOTIATE, 0, 0, 0, 0);
	smb2_finish(c, m, 0, 0);
	memset(b, 0, 36);
	put_le16(b, 36);
	put_le16(b + 2, sizeof(dialects) / sizeof(dialects[0]));
	put_le16(b + 4, 1);			/* signing enabled */
	put_le32(b + 8, 0x7f);			/* DFS ... ENCRYPTION */
	fill_random(c, b + 12, 16);		/* ClientGuid */
	for (i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++)
		put_le16(b + 36 + 2 * i, dialects[i]);
	end = 64 + 36 + 2 * i;
	memset(m + end, 0, 8);
	put_le32(b + 28, (uint32_t)((end + 7) & ~(size_t)7));
	end = negotiate_contexts(c, m, end, 0, algorithm, &count);
	put_le16(b + 32, count);
	return end;
}

static size_t
negotiate_resp(struct capture *c, uint8_t *m, uint16_t algorithm)
{
	uint8_t *b = m + 64;
	uint16_t count;
	size_t blob, end;

	smb2_header(m, SMB2_NEGOTIATE, 0, 0, 1, 0);
	smb2_finish(c, m, 0, 0);
	memset(b, 0, 64);
	put_le16(b, 65);
	put_le16(b + 2, 1);			/* signing enabled */
	put_le16(b + 4, 0x0311);
	fill_random(c, b + 8, 16);		/* ServerGuid */
	put_le32(b + 24, 0x2f);			/* DFS, LEASING, LARGE_MTU,
						 * MULTI_CHANNEL, DIRECTORY_LEASING */
	put_le32(b + 28, 8388608);
	put_le32(b + 32, 8388608);
	put_le32(b + 36, 8388608);
	put_le64(b + 40, (c->now_us + 11644473600ull * 1000000) * 10);
	blob = spnego_init(m + 128, NULL, 0);
	put_le16(b + 56, 128);
	put_le16(b + 58, (uint32_t)blob);
	end = 128 + blob;
	memset(m + end, 0, 8);
	put_le32(b + 60, (uint32_t)((end + 7) & ~(size_t)7));
	end = negotiate_contexts(c, m, end, 1, algorithm, &count);
	put_le16(b + 6, count);
	return end;
}

static size_t
session_setup_req(struct capture *c, uint8_t *m, uint64_t message_id,
	uint64_t session_id, const uint8_t *blob, size_t blob_len)
{
	uint8_t *b = m + 64;

	smb2_header(m, SMB2_SESSION_SETUP, message_id, 0, 0, 0);
	smb2_finish(c, m, session_id, 0);
	memset(b, 0, 24);
	put_le16(b, 25);
	b[3] = 1;				/* signing enabled */
	put_le32(b + 4, 1);			/* DFS */
	put_le16(b + 12, 88);
	put_le16(b + 14, (uint32_t)blob_len);
	memcpy(m + 88, blob, blob_len);
	return 88 + blob_len;
}

static size_t
session_setup_resp(struct capture *c, uint8_t *m, uint64_t message_id,
	uint32_t status, const uint8_t *blob, size_t blob_len)
{
	uint8_t *b = m + 64;

	smb2_header(m, SMB2_SESSION_SETUP, message_id, 0, 1, 0);
	smb2_finish(c, m, SESSION_ID, status == 0);
	put_le32(m + 8, status);
	memset(b, 0, 8);
	put_le16(b, 9);
	put_le16(b + 4, 72);
	put_le16(b + 6, (uint32_t)blob_len);
	memcpy(m + 72, blob, blob_len);
	return 72 + blob_len;
}

/* Answer to a TREE_CONNECT (message <message_id>): <tree_id>, <type>. */
static size_t
tree_connect_answer(struct capture *c, uint8_t *m, uint64_t message_id,
	uint32_t tree_id, uint8_t type)
{
	size_t len = tree_connect_resp(m);

	put_le64(m + 24, message_id);
	put_le32(m + 36, tree_id);
	smb2_finish(c, m, SESSION_ID, 1);
	m[66] = type;
	put_le32(m + 68, type == SMB2_SHARE_TYPE_DISK ? 0 : 0x30);
	put_le32(m + 76, 0x001f01ff);		/* MaximalAccess */
	return len;
}

/* ---- compressed records ---------------------------------------------- */

/*
 * An LZ4 block (the format SMB's LZ4 uses, without frame) holding <len>
 * bytes as a single literal run: valid, and all a decoder needs.
 */
static size_t
lz4_literals(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t n = 1, left;

	out[0] = (uint8_t)((len < 15 ? len : 15) << 4);
	if (len >= 15) {
		for (left = len - 15; left >= 255; left -= 255)
			out[n++] = 255;
		out[n++] = (uint8_t)left;
	}
	memcpy(out + n, in, len);
	return n + len;
}

/* TREE_CONNECT <msg> (<zeros> trailing zero bytes) as <alg> and <form>. */
static size_t
compressed_record(uint8_t *rec, const uint8_t *msg, size_t len, size_t zeros,
	const char *alg, int chained)
{
	static const struct {
		const char *name;
		uint16_t alg;
		int opt;
	} algs[] = {
		{ "lznt1", XCA_LZNT1, 0 },
		{ "lz77", XCA_LZ77, 0 },
		{ "huffman", XCA_LZ77_HUFFMAN, 0 },
		{ "corrupt", XCA_LZ77, 0 },
	};
	uint8_t *p = rec + 4;
	size_t i, n;

	if (strcmp(alg, "lz4") == 0) {
		memcpy(p, "\xfcSMB", 4);
		put_le32(p + 4, (uint32_t)len);
		put_le16(p + 8, XCA_LZ4);
		put_le16(p + 10, 0);
		put_le32(p + 12, 0);
		return nbss(rec, 16 + lz4_literals(msg, len, p + 16));
	}
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(alg, algs[i].name) == 0)
			break;
	if (i == sizeof(algs) / sizeof(algs[0]))
		return 0;
	if (strcmp(alg, "corrupt") == 0) {
		/* Unchained, the compressed data cut to half. */
		n = unchained_record(rec, msg, len, algs[i].alg, algs[i].opt, 0);
		if (n == 0)
			return 0;
		return nbss(rec, 16 + (n - 4 - 16) / 2);
	}
	return form(chained ? 3 : 0, rec, msg, len, algs[i].alg, algs[i].opt,
		len - zeros, zeros);
}

static uint16_t
negotiated_algorithm(const char *alg)
{
	if (strcmp(alg, "lznt1") == 0)
		return XCA_LZNT1;
	if (strcmp(alg, "huffman") == 0)
		return XCA_LZ77_HUFFMAN;
	if (strcmp(alg, "lz4") == 0)
		return XCA_LZ4;
	return XCA_LZ77;
}

/* ---- the connection ---------------------------------------------------- */

/* Zeros after the compressed TREE_CONNECT's path (a Pattern_V1 run). */
#define TRAILING_ZEROS	96

int
main(int argc, char **argv)
{
	static uint8_t msg[MSG_MAX], rec[REC_MAX], blob[2048], token[1024];
	static const uint8_t mss_opts[] = {
		0x02, 0x04, MSS >> 8, MSS & 0xff,	/* MSS */
		0x01, 0x03, 0x03, 0x08,			/* NOP, window scale 8 */
		0x01, 0x01, 0x04, 0x02,			/* NOP, NOP, SACK permitted */
	};
	const char *alg, *share;
	char path[128];
	struct capture c;
	uint16_t algorithm;
	uint8_t header[24];
	size_t len, n, mss = MSS;
	int chained;

	if (argc == 6)
		mss = strtoul(argv[5], NULL, 10);
	if ((argc != 5 && argc != 6) || mss == 0 || mss > MSS ||
			(strcmp(argv[3], "chained") != 0 &&
			strcmp(argv[3], "unchained") != 0)) {
		fprintf(stderr, "usage: %s OUT lznt1|lz77|huffman|lz4|corrupt "
			"chained|unchained SHARE [SEGMENT]\n", argv[0]);
		return 2;
	}
	alg = argv[2];
	chained = strcmp(argv[3], "chained") == 0;
	share = argv[4];
	algorithm = negotiated_algorithm(alg);
	if (snprintf(path, sizeof(path), "\\\\198.18.2.20\\%s", share) >=
			(int)sizeof(path)) {
		fprintf(stderr, "share name too long\n");
		return 2;
	}

	memset(&c, 0, sizeof(c));
	c.rand_state = 0x5eed;
	c.now_us = 1795000000ull * 1000000;	/* 2026-11-18 */
	c.client = (struct side){ CLIENT_IP, CLIENT_PORT, client_mac,
		0x3a1f0c5b, 0x51a0 };
	c.server = (struct side){ SERVER_IP, SERVER_PORT, server_mac,
		0x9c04e1a2, 0x0000 };
	c.f = fopen(argv[1], "wb");
	if (c.f == NULL) {
		perror(argv[1]);
		return 1;
	}
	put_le32(header, 0xa1b2c3d4);
	put_le16(header + 4, 2);
	put_le16(header + 6, 4);
	put_le32(header + 8, 0);
	put_le32(header + 12, 0);
	put_le32(header + 16, 65535);
	put_le32(header + 20, 1);		/* Ethernet */
	fwrite(header, 1, sizeof(header), c.f);

	/* The handshake. */
	segment(&c, &c.client, &c.server, TCP_SYN, NULL, 0, mss_opts,
		sizeof(mss_opts), 0);
	segment(&c, &c.server, &c.client, TCP_SYN | TCP_ACK, NULL, 0, mss_opts,
		sizeof(mss_opts), 150);
	segment(&c, &c.client, &c.server, TCP_ACK, NULL, 0, NULL, 0, 60);

	/* NEGOTIATE: 3.1.1 with compression. */
	len = negotiate_req(&c, msg, algorithm);
	send_record(&c, &c.client, &c.server, rec, plain_record(rec, msg, len), 400);
	len = negotiate_resp(&c, msg, algorithm);
	send_record(&c, &c.server, &c.client, rec, plain_record(rec, msg, len), 350);

	/* SESSION_SETUP: NTLM in two rounds, LAB\root. */
	n = spnego_init(blob, token, ntlm_negotiate(token));
	len = session_setup_req(&c, msg, 1, 0, blob, n);
	send_record(&c, &c.client, &c.server, rec, plain_record(rec, msg, len), 900);
	n = spnego_resp(blob, 1, 1, token, ntlm_challenge(&c, token));
	len = session_setup_resp(&c, msg, 1, STATUS_MORE_PROCESSING, blob, n);
	send_record(&c, &c.server, &c.client, rec, plain_record(rec, msg, len), 600);
	n = spnego_resp(blob, 0xff, 0, token,
		ntlm_authenticate(&c, token, "LAB", "root", "WS01"));
	len = session_setup_req(&c, msg, 2, SESSION_ID, blob, n);
	send_record(&c, &c.client, &c.server, rec, plain_record(rec, msg, len), 1200);
	n = spnego_resp(blob, 0, 0, NULL, 0);
	len = session_setup_resp(&c, msg, 2, 0, blob, n);
	send_record(&c, &c.server, &c.client, rec, plain_record(rec, msg, len), 2500);

	/* TREE_CONNECT to IPC$, plain and signed. */
	len = tree_connect_req(msg, "\\\\198.18.2.20\\IPC$", 0);
	put_le64(msg + 24, 3);
	smb2_finish(&c, msg, SESSION_ID, 1);
	send_record(&c, &c.client, &c.server, rec, plain_record(rec, msg, len), 700);
	len = tree_connect_answer(&c, msg, 3, 1, 0x02);	/* pipe */
	send_record(&c, &c.server, &c.client, rec, plain_record(rec, msg, len), 300);

	/* TREE_CONNECT to SHARE, signed, then compressed. */
	len = tree_connect_req(msg, path, TRAILING_ZEROS);
	smb2_finish(&c, msg, SESSION_ID, 1);
	n = compressed_record(rec, msg, len, TRAILING_ZEROS, alg, chained);
	if (n == 0) {
		fprintf(stderr, "%s: cannot compress as %s\n", argv[0], alg);
		fclose(c.f);
		return 1;
	}
	send_record_in(&c, &c.client, &c.server, rec, n, 5000, mss);
	len = tree_connect_answer(&c, msg, 4, TREE_ID, SMB2_SHARE_TYPE_DISK);
	send_record(&c, &c.server, &c.client, rec, plain_record(rec, msg, len), 400);
	segment(&c, &c.client, &c.server, TCP_ACK, NULL, 0, NULL, 0, 200);

	/* Closed by the client. */
	segment(&c, &c.client, &c.server, TCP_FIN | TCP_ACK, NULL, 0, NULL, 0,
		30000);
	segment(&c, &c.server, &c.client, TCP_FIN | TCP_ACK, NULL, 0, NULL, 0,
		120);
	segment(&c, &c.client, &c.server, TCP_ACK, NULL, 0, NULL, 0, 60);

	if (fclose(c.f) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
