/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client Initial packets (RFC 9000 17.2.2, RFC 9369 for v2): header
 * protection and AEAD removed with the keys derived from the Destination
 * Connection ID (RFC 9001 5.2, 5.4), CRYPTO frames put back in order, and
 * the ClientHello handed to quic_parse_client_hello().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "quic.h"

#define QUIC_MAX_DATAGRAM		65527
#define QUIC_TAG_LEN			16
#define QUIC_SAMPLE_LEN			16

#define FRAME_PADDING		0x00
#define FRAME_PING		0x01
#define FRAME_ACK		0x02
#define FRAME_ACK_ECN		0x03
#define FRAME_CRYPTO		0x06
#define FRAME_CLOSE		0x1c

/*
 * The versions read: what Initial keys are derived with (RFC 9001 5.2,
 * RFC 9369 3.3, draft-ietf-quic-tls-29 and -27 5.2) and which packet type
 * is Initial. Windows' QUIC stack (msquic) accepts v2, v1, draft-29 and
 * its own 0xabcd0000 (draft-29's salt); drafts 27 and 28 were accepted by
 * its first releases.
 */
struct version_info {
	uint32_t number;
	uint8_t salt[20];
	const char *key_label;
	const char *iv_label;
	const char *hp_label;
	unsigned int initial_type;
	unsigned int retry_type;
};

#define SALT_V1 { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, \
	0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a }
#define SALT_V2 { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, \
	0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 }
#define SALT_DRAFT_29 { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, \
	0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 }
#define SALT_DRAFT_27 { 0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, \
	0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 }
#define LABELS_V1 "quic key", "quic iv", "quic hp", 0, 3

static const struct version_info versions[] = {
	{ QUIC_VERSION_1, SALT_V1, LABELS_V1 },
	{ QUIC_VERSION_2, SALT_V2, "quicv2 key", "quicv2 iv", "quicv2 hp",
		1, 0 },
	{ QUIC_VERSION_DRAFT_29, SALT_DRAFT_29, LABELS_V1 },
	{ QUIC_VERSION_MS_1, SALT_DRAFT_29, LABELS_V1 },
	{ QUIC_VERSION_DRAFT_28, SALT_DRAFT_27, LABELS_V1 },
	{ QUIC_VERSION_DRAFT_27, SALT_DRAFT_27, LABELS_V1 },
};

static const struct version_info *
version_of(uint32_t number)
{
	size_t i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i].number == number)
			return &versions[i];
	return NULL;
}

struct initial_keys {
	uint8_t key[16];
	uint8_t iv[12];
	uint8_t hp[16];
};

/* The CRYPTO stream of one connection's Initial packets, put in order. */
struct hello_buffer {
	uint8_t data[QUIC_HELLO_MAX];
	uint8_t have[QUIC_HELLO_MAX / 8];
	bool beyond;		/* bytes offered past QUIC_HELLO_MAX */
	/*
	 * Bytes sent again that differ from those held: two versions of the
	 * hello, one of which the server may never have received (a decoy
	 * with a bad checksum or a TTL that expires before it). Legitimate
	 * clients send the same hello again byte for byte.
	 */
	bool conflict;
};

enum slot_state { SLOT_FREE = 0, SLOT_PENDING, SLOT_DONE };

struct pending_slot {
	struct quic_endpoints ends;
	uint64_t ts_ns;
	uint32_t version;
	uint8_t state;
	uint8_t dcid_len;
	uint8_t datagrams;
	bool read_before;	/* SLOT_PENDING: the hello was read already */
	/*
	 * SLOT_PENDING: a hello was read from these ends under another
	 * connection ID (a Retry makes the client send its hello again
	 * under the server's), whose hash is earlier_hash.
	 */
	bool earlier;
	uint64_t earlier_hash;
	uint64_t hello_hash;	/* SLOT_DONE: of the hello's bytes */
	uint8_t dcid[QUIC_CID_MAX];
	struct quic_hello done;		/* SLOT_DONE: what was read */
	struct hello_buffer hello;	/* SLOT_PENDING: the pieces so far */
};

struct quic_reader {
	EVP_CIPHER_CTX *ecb;
	EVP_CIPHER_CTX *gcm;
	EVP_CIPHER *aes_ecb;
	EVP_CIPHER *aes_gcm;
	/* Fetched once: OpenSSL 3 looks an algorithm up on every implicit use. */
	EVP_MD *sha256;
	EVP_MD_CTX *digest;
	struct quic_reader_stats stats;
	uint8_t plain[QUIC_MAX_DATAGRAM];
	uint8_t header[QUIC_MAX_DATAGRAM];
	struct hello_buffer scratch;
	struct pending_slot slots[QUIC_PENDING_SLOTS];
};

struct quic_reader *
quic_reader_create(void)
{
	struct quic_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->ecb = EVP_CIPHER_CTX_new();
	r->gcm = EVP_CIPHER_CTX_new();
	r->aes_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	r->aes_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	r->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	r->digest = EVP_MD_CTX_new();
	if (r->ecb == NULL || r->gcm == NULL || r->aes_ecb == NULL ||
			r->aes_gcm == NULL || r->sha256 == NULL ||
			r->digest == NULL) {
		quic_reader_free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void
quic_reader_free(struct quic_reader *r)
{
	if (r == NULL)
		return;
	EVP_CIPHER_CTX_free(r->ecb);
	EVP_CIPHER_CTX_free(r->gcm);
	EVP_CIPHER_free(r->aes_ecb);
	EVP_CIPHER_free(r->aes_gcm);
	EVP_MD_free(r->sha256);
	EVP_MD_CTX_free(r->digest);
	free(r);
}

void
quic_reader_stats(const struct quic_reader *r, struct quic_reader_stats *out)
{
	*out = r->stats;
}

/* ---- keys (RFC 9001 5.2, RFC 8446 7.1) ------------------------------- */

/* HMAC-SHA256 (RFC 2104) of <data> under <key> (at most 64 bytes). */
static bool
hmac_sha256(struct quic_reader *r, const uint8_t *key, size_t key_len,
	const uint8_t *data, size_t data_len, uint8_t out[32])
{
	uint8_t pad[64], inner[32];
	unsigned int n;
	size_t i;

	memset(pad, 0, sizeof(pad));
	memcpy(pad, key, key_len);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	if (EVP_DigestInit_ex2(r->digest, r->sha256, NULL) != 1 ||
			EVP_DigestUpdate(r->digest, pad, sizeof(pad)) != 1 ||
			EVP_DigestUpdate(r->digest, data, data_len) != 1 ||
			EVP_DigestFinal_ex(r->digest, inner, &n) != 1)
		return false;
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	return EVP_DigestInit_ex2(r->digest, r->sha256, NULL) == 1 &&
		EVP_DigestUpdate(r->digest, pad, sizeof(pad)) == 1 &&
		EVP_DigestUpdate(r->digest, inner, sizeof(inner)) == 1 &&
		EVP_DigestFinal_ex(r->digest, out, &n) == 1;
}

/* HKDF-Expand-Label(secret, label, "", len) for len <= 32: one block. */
static bool
expand_label(struct quic_reader *r, const uint8_t secret[32],
	const char *label, uint8_t *out, size_t len)
{
	uint8_t info[64], block[32];
	size_t label_len = strlen(label), n = 0;

	info[n++] = 0;
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)(6 + label_len);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = 0;		/* empty context */
	info[n++] = 1;		/* T(1) */
	if (!hmac_sha256(r, secret, 32, info, n, block))
		return false;
	memcpy(out, block, len);
	return true;
}

static bool
derive_client_keys(struct quic_reader *r, uint32_t version,
	const uint8_t *dcid, size_t dcid_len, struct initial_keys *k)
{
	const struct version_info *v = version_of(version);
	uint8_t initial[32], client[32];

	/* HKDF-Extract: the salt is the key. */
	if (v == NULL || !hmac_sha256(r, v->salt, sizeof(v->salt), dcid,
			dcid_len, initial))
		return false;
	return expand_label(r, initial, "client in", client, 32) &&
		expand_label(r, client, v->key_label, k->key,
			sizeof(k->key)) &&
		expand_label(r, client, v->iv_label, k->iv, sizeof(k->iv)) &&
		expand_label(r, client, v->hp_label, k->hp, sizeof(k->hp));
}

int
quic_client_keys(struct quic_reader *r, uint32_t version, const uint8_t *dcid,
	size_t dcid_len, uint8_t key[16], uint8_t iv[12], uint8_t hp[16])
{
	struct initial_keys k;

	if (version_of(version) == NULL || dcid_len > QUIC_CID_MAX)
		return -EINVAL;
	if (!derive_client_keys(r, version, dcid, dcid_len, &k))
		return -EIO;
	memcpy(key, k.key, sizeof(k.key));
	memcpy(iv, k.iv, sizeof(k.iv));
	memcpy(hp, k.hp, sizeof(k.hp));
	return 0;
}

/* ---- packets ---------------------------------------------------------- */

/* A QUIC variable-length integer (RFC 9000 16); false past <end>. */
static bool
read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	size_t n, i;

	if (*p >= end)
		return false;
	n = (size_t)1 << (**p >> 6);
	if ((size_t)(end - *p) < n)
		return false;
	*v = **p & 0x3f;
	for (i = 1; i < n; i++)
		*v = *v << 8 | (*p)[i];
	*p += n;
	return true;
}

struct long_header {
	uint32_t version;
	unsigned int type;
	bool initial;		/* the version's Initial type */
	uint8_t dcid_len;
	const uint8_t *dcid;
	size_t pn_offset;	/* from the packet's start */
	size_t packet_len;	/* the whole packet */
};

/* Reads the long header at <p>; false if it is not one that fits. */
static bool
read_long_header(const uint8_t *p, size_t len, struct long_header *h)
{
	const uint8_t *c = p + 5, *end = p + len;
	uint64_t token_len = 0, length;
	const struct version_info *v;
	unsigned int scid_len;

	if (len < 7 || (p[0] & 0xc0) != 0xc0)
		return false;
	h->version = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 8 | p[4];
	h->type = (p[0] >> 4) & 3;
	v = version_of(h->version);
	if (v == NULL)
		return false;
	h->initial = h->type == v->initial_type;
	h->dcid_len = *c++;
	if (h->dcid_len > QUIC_CID_MAX || (size_t)(end - c) < h->dcid_len + 1u)
		return false;
	h->dcid = c;
	c += h->dcid_len;
	scid_len = *c++;
	if (scid_len > QUIC_CID_MAX || (size_t)(end - c) < scid_len)
		return false;
	c += scid_len;
	if (h->initial) {
		if (!read_varint(&c, end, &token_len) ||
				(uint64_t)(end - c) < token_len)
			return false;
		c += token_len;
	} else if (h->type == v->retry_type) {
		/* 0-RTT and Handshake have no token; Retry ends the datagram */
		return false;
	}
	if (!read_varint(&c, end, &length) || (uint64_t)(end - c) < length)
		return false;
	h->pn_offset = (size_t)(c - p);
	h->packet_len = h->pn_offset + (size_t)length;
	return true;
}

static bool
is_initial(const struct long_header *h)
{
	return h->initial;
}

/*
 * Removes header protection and the AEAD of the Initial packet <p> with
 * keys <k>. Returns the plaintext length in r->plain, or -1 when it does
 * not authenticate.
 */
static long
unprotect(struct quic_reader *r, const uint8_t *p,
	const struct long_header *h, const struct initial_keys *k)
{
	uint8_t mask[32], nonce[12];
	size_t pn_len, i, header_len, ct_len;
	uint64_t pn = 0;
	int out_len = 0, final_len = 0;

	if (h->packet_len < h->pn_offset + 4 + QUIC_SAMPLE_LEN)
		return -1;
	if (EVP_EncryptInit_ex(r->ecb, r->aes_ecb, NULL, k->hp, NULL) != 1 ||
			EVP_CIPHER_CTX_set_padding(r->ecb, 0) != 1 ||
			EVP_EncryptUpdate(r->ecb, mask, &out_len,
				p + h->pn_offset + 4, QUIC_SAMPLE_LEN) != 1 ||
			out_len != QUIC_SAMPLE_LEN)
		return -1;
	r->header[0] = p[0] ^ (mask[0] & 0x0f);
	pn_len = (r->header[0] & 3) + 1;
	header_len = h->pn_offset + pn_len;
	if (h->packet_len < header_len + QUIC_TAG_LEN)
		return -1;
	memcpy(r->header + 1, p + 1, h->pn_offset - 1);
	for (i = 0; i < pn_len; i++) {
		r->header[h->pn_offset + i] = p[h->pn_offset + i] ^ mask[1 + i];
		pn = pn << 8 | r->header[h->pn_offset + i];
	}
	/* The first packets of a space: the truncated number is the number. */
	memcpy(nonce, k->iv, sizeof(nonce));
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	ct_len = h->packet_len - header_len - QUIC_TAG_LEN;
	if (EVP_DecryptInit_ex(r->gcm, r->aes_gcm, NULL, NULL, NULL) != 1 ||
			EVP_CIPHER_CTX_ctrl(r->gcm, EVP_CTRL_GCM_SET_IVLEN,
				sizeof(nonce), NULL) != 1 ||
			EVP_DecryptInit_ex(r->gcm, NULL, NULL, k->key,
				nonce) != 1 ||
			EVP_DecryptUpdate(r->gcm, NULL, &out_len, r->header,
				(int)header_len) != 1 ||
			EVP_DecryptUpdate(r->gcm, r->plain, &out_len,
				p + header_len, (int)ct_len) != 1 ||
			EVP_CIPHER_CTX_ctrl(r->gcm, EVP_CTRL_GCM_SET_TAG,
				QUIC_TAG_LEN,
				(void *)(uintptr_t)(p + header_len + ct_len)) != 1 ||
			EVP_DecryptFinal_ex(r->gcm, r->plain + out_len,
				&final_len) != 1)
		return -1;
	return out_len + final_len;
}

/* ---- the CRYPTO stream ------------------------------------------------ */

static void
hello_clear(struct hello_buffer *b)
{
	memset(b->have, 0, sizeof(b->have));
	b->beyond = false;
	b->conflict = false;
}

static void
hello_put(struct hello_buffer *b, uint64_t offset, const uint8_t *data,
	uint64_t len)
{
	uint64_t i;

	if (offset >= QUIC_HELLO_MAX) {
		b->beyond = true;
		return;
	}
	if (len > QUIC_HELLO_MAX - offset) {
		len = QUIC_HELLO_MAX - offset;
		b->beyond = true;
	}
	/* A byte sent twice keeps its first value, as a TLS stack does. */
	for (i = 0; i < len; ) {
		size_t at = (size_t)(offset + i);

		/* Eight bytes at once, the common case. */
		if ((at & 7) == 0 && len - i >= 8 && (b->have[at / 8] == 0 ||
				b->have[at / 8] == 0xff)) {
			if (b->have[at / 8] == 0)
				memcpy(b->data + at, data + i, 8);
			else if (memcmp(b->data + at, data + i, 8) != 0)
				b->conflict = true;
			b->have[at / 8] = 0xff;
			i += 8;
			continue;
		}
		if (!(b->have[at / 8] & (1u << (at % 8)))) {
			b->data[at] = data[i];
			b->have[at / 8] |= (uint8_t)(1u << (at % 8));
		} else if (b->data[at] != data[i]) {
			b->conflict = true;
		}
		i++;
	}
}

/* The bytes <src> holds put into <dst> as hello_put() would. */
static void
hello_merge(struct hello_buffer *dst, const struct hello_buffer *src)
{
	size_t at = 0, start;

	while (at < QUIC_HELLO_MAX) {
		if (!(src->have[at / 8] & (1u << (at % 8)))) {
			at++;
			continue;
		}
		start = at;
		while (at < QUIC_HELLO_MAX &&
				(src->have[at / 8] & (1u << (at % 8))))
			at++;
		hello_put(dst, start, src->data + start, at - start);
	}
}

/* Keeps the whole hello of <src> (<len> bytes) in <dst>, for later pieces. */
static void
hello_keep(struct hello_buffer *dst, const struct hello_buffer *src,
	size_t len)
{
	hello_clear(dst);
	memcpy(dst->data, src->data, len);
	memset(dst->have, 0xff, len / 8);
	if (len % 8)
		dst->have[len / 8] = (uint8_t)((1u << (len % 8)) - 1);
}

static bool
hello_has_start(const struct hello_buffer *b)
{
	return (b->have[0] & 1) != 0;
}

/* The bytes in order from offset 0. */
static size_t
hello_prefix(const struct hello_buffer *b)
{
	size_t i = 0;

	while (i < QUIC_HELLO_MAX / 8 && b->have[i] == 0xff)
		i++;
	i *= 8;
	while (i < QUIC_HELLO_MAX && (b->have[i / 8] & (1u << (i % 8))))
		i++;
	return i;
}

/*
 * Puts the CRYPTO frames of plaintext <p> into <b>. False on a frame an
 * Initial may not carry, a malformed one, or a CONNECTION_CLOSE.
 */
static bool
read_frames(const uint8_t *p, size_t len, struct hello_buffer *b,
	bool *crypto_seen)
{
	const uint8_t *end = p + len;

	while (p < end) {
		uint64_t type, a, n, i, ranges;

		if (*p == FRAME_PADDING) {
			/* Most of a first flight: skipped a word at a time. */
			while (end - p >= 8) {
				uint64_t word;

				memcpy(&word, p, 8);
				if (word != 0)
					break;
				p += 8;
			}
			while (p < end && *p == FRAME_PADDING)
				p++;
			continue;
		}
		if (*p == FRAME_PING) {
			p++;
			continue;
		}
		if (!read_varint(&p, end, &type))
			return false;
		switch (type) {
		case FRAME_ACK:
		case FRAME_ACK_ECN:
			/* largest, delay, range count, first range */
			if (!read_varint(&p, end, &a) ||
					!read_varint(&p, end, &a) ||
					!read_varint(&p, end, &ranges) ||
					!read_varint(&p, end, &a))
				return false;
			for (i = 0; i < ranges; i++)
				if (!read_varint(&p, end, &a) ||
						!read_varint(&p, end, &a))
					return false;
			if (type == FRAME_ACK_ECN)
				for (i = 0; i < 3; i++)
					if (!read_varint(&p, end, &a))
						return false;
			break;
		case FRAME_CRYPTO:
			if (!read_varint(&p, end, &a) ||
					!read_varint(&p, end, &n) ||
					(uint64_t)(end - p) < n)
				return false;
			hello_put(b, a, p, n);
			*crypto_seen = true;
			p += n;
			break;
		default:
			/* CONNECTION_CLOSE or a frame Initial packets never
			 * carry (RFC 9000 12.4): nothing to open. */
			return false;
		}
	}
	return true;
}

/* ---- unfinished ClientHellos ------------------------------------------ */

/* FNV-1a of a hello: the same bytes again are the same client's hello. */
static uint64_t
hello_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint32_t
ends_hash(const struct quic_endpoints *e)
{
	const uint8_t *p = (const uint8_t *)e;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*e); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct pending_slot *
slot_find(struct quic_reader *r, const struct quic_endpoints *ends,
	uint64_t now_ns)
{
	struct pending_slot *s =
		&r->slots[ends_hash(ends) % QUIC_PENDING_SLOTS];

	if (s->state == SLOT_FREE || memcmp(&s->ends, ends, sizeof(*ends)))
		return NULL;
	/* Captures may step back in time: only a slot older than the hold
	 * has expired. */
	if (now_ns > s->ts_ns && now_ns - s->ts_ns > QUIC_PENDING_NS) {
		if (s->state == SLOT_PENDING)
			r->stats.pending_expired++;
		s->state = SLOT_FREE;
		return NULL;
	}
	return s;
}

static struct pending_slot *
slot_take(struct quic_reader *r, const struct quic_endpoints *ends,
	uint64_t now_ns)
{
	struct pending_slot *s =
		&r->slots[ends_hash(ends) % QUIC_PENDING_SLOTS];

	if (s->state == SLOT_PENDING &&
			memcmp(&s->ends, ends, sizeof(*ends)) != 0 &&
			(now_ns <= s->ts_ns ||
			now_ns - s->ts_ns <= QUIC_PENDING_NS))
		r->stats.pending_evicted++;
	memset(s, 0, offsetof(struct pending_slot, hello));
	hello_clear(&s->hello);
	s->ends = *ends;
	s->ts_ns = now_ns;
	return s;
}

/* ---- the datagram ------------------------------------------------------ */

bool
quic_datagram_has_initial(const uint8_t *dgram, size_t len)
{
	size_t at = 0;

	if (len < QUIC_MIN_CLIENT_DATAGRAM || len > QUIC_MAX_DATAGRAM)
		return false;
	while (at < len) {
		struct long_header h;

		if (!read_long_header(dgram + at, len - at, &h))
			return false;
		if (is_initial(&h))
			return true;
		at += h.packet_len;
	}
	return false;
}

enum quic_result
quic_reader_read(struct quic_reader *r, const struct quic_endpoints *ends,
	const uint8_t *dgram, size_t len, uint64_t now_ns,
	struct quic_hello *out)
{
	struct pending_slot *slot = slot_find(r, ends, now_ns);
	struct hello_buffer *work = NULL;
	struct initial_keys keys, slot_keys;
	bool keys_valid = false, slot_keys_valid = false;
	bool read_one = false, failed = false, crypto_seen = false;
	bool read_before, earlier = false;
	uint64_t earlier_hash = 0, hash;
	size_t at = 0, prefix, hello_len;
	uint8_t key_dcid[QUIC_CID_MAX], key_dcid_len = 0;
	uint32_t key_version = 0;

	memset(out, 0, sizeof(*out));
	/* A UDP payload is never longer: the scratch buffers are this long. */
	if (len < QUIC_MIN_CLIENT_DATAGRAM || len > QUIC_MAX_DATAGRAM ||
			!quic_maybe_long_header(dgram, len))
		return QUIC_NONE;

	while (at < len) {
		struct long_header h;
		const struct initial_keys *k;
		long plain_len;

		if (!read_long_header(dgram + at, len - at, &h))
			break;
		if (!is_initial(&h)) {
			at += h.packet_len;
			continue;
		}
		if (!keys_valid || key_version != h.version ||
				key_dcid_len != h.dcid_len ||
				memcmp(key_dcid, h.dcid, h.dcid_len) != 0) {
			keys_valid = derive_client_keys(r, h.version, h.dcid,
				h.dcid_len, &keys);
			key_version = h.version;
			key_dcid_len = h.dcid_len;
			memcpy(key_dcid, h.dcid, h.dcid_len);
		}
		k = keys_valid ? &keys : NULL;
		plain_len = k != NULL ? unprotect(r, dgram + at, &h, k) : -1;
		/*
		 * After the server's first Initial the client sends to the
		 * server's connection ID, but its Initial keys stay those of
		 * the first ID (RFC 9001 5.2): the held hello knows it.
		 */
		if (plain_len < 0 && slot != NULL && slot->version == h.version) {
			if (!slot_keys_valid)
				slot_keys_valid = derive_client_keys(r,
					slot->version, slot->dcid,
					slot->dcid_len, &slot_keys);
			if (slot_keys_valid)
				plain_len = unprotect(r, dgram + at, &h,
					&slot_keys);
		} else if (plain_len >= 0 && slot != NULL &&
				(slot->version != h.version ||
				slot->dcid_len != h.dcid_len ||
				memcmp(slot->dcid, h.dcid, h.dcid_len) != 0)) {
			/* A new connection from the same ends, or the same
			 * client after a Retry: its hello tells. */
			if (slot->state == SLOT_DONE) {
				earlier = true;
				earlier_hash = slot->hello_hash;
			} else if (slot->earlier) {
				earlier = true;
				earlier_hash = slot->earlier_hash;
			}
			slot->state = SLOT_FREE;
			slot = NULL;
		}
		if (plain_len < 0) {
			/* The server drops it and reads on: so does the reader. */
			failed = true;
			at += h.packet_len;
			continue;
		}
		if (!read_one) {
			out->version = h.version;
			out->dcid_len = h.dcid_len;
			memcpy(out->dcid, h.dcid, h.dcid_len);
			if (slot != NULL && slot->state == SLOT_PENDING) {
				work = &slot->hello;
			} else {
				work = &r->scratch;
				hello_clear(work);
			}
			read_one = true;
		}
		/*
		 * A frame an Initial may not carry is a connection error
		 * (RFC 9000 12.4): the server closes, nothing opens.
		 */
		if (!read_frames(r->plain, (size_t)plain_len, work,
				&crypto_seen))
			return QUIC_UNREADABLE;
		at += h.packet_len;
	}
	if (!read_one)
		return failed ? QUIC_UNREADABLE : QUIC_NONE;
	if (!crypto_seen)
		return QUIC_NONE;
	if (work->conflict)
		return QUIC_CONFLICT;

	prefix = hello_prefix(work);
	hello_len = prefix >= 4 ? 4 + ((size_t)work->data[1] << 16 |
		(size_t)work->data[2] << 8 | work->data[3]) : 0;
	if (hello_len > QUIC_HELLO_MAX) {
		r->stats.too_large++;
		if (work != &r->scratch)
			slot->state = SLOT_FREE;
		return QUIC_TOO_LARGE;
	}
	if (hello_len != 0 && prefix >= hello_len) {
		bool repeat = slot != NULL && (slot->state == SLOT_DONE ||
			slot->read_before);

		hash = hello_hash(work->data, hello_len);
		if (slot != NULL && slot->state == SLOT_PENDING &&
				slot->earlier) {
			earlier = true;
			earlier_hash = slot->earlier_hash;
		}
		repeat |= earlier && earlier_hash == hash;

		if (quic_parse_client_hello(work->data, hello_len, out) < 0)
			return QUIC_UNREADABLE;
		out->hello_len = (uint16_t)hello_len;
		if (work != &r->scratch) {
			out->datagrams = (uint8_t)(slot->datagrams + 1);
			out->dcid_len = slot->dcid_len;
			memcpy(out->dcid, slot->dcid, slot->dcid_len);
		} else {
			out->datagrams = 1;
		}
		out->repeat = repeat;
		if (slot == NULL)
			slot = slot_take(r, ends, now_ns);
		if (work == &r->scratch)
			hello_keep(&slot->hello, work, hello_len);
		slot->state = SLOT_DONE;
		slot->version = out->version;
		slot->dcid_len = out->dcid_len;
		memcpy(slot->dcid, out->dcid, out->dcid_len);
		slot->ts_ns = now_ns;
		slot->hello_hash = hash;
		slot->done = *out;
		return QUIC_HELLO;
	}
	if (work != &r->scratch) {
		slot->datagrams++;
		slot->ts_ns = now_ns;
		return QUIC_PART;
	}
	if (!hello_has_start(work)) {
		/*
		 * A piece sent again after the hello was read: as the hello,
		 * if its bytes are the hello's.
		 */
		if (slot != NULL && slot->state == SLOT_DONE) {
			hello_merge(&slot->hello, work);
			if (slot->hello.conflict)
				return QUIC_CONFLICT;
			*out = slot->done;
			out->repeat = true;
			return QUIC_HELLO;
		}
		return QUIC_PART_ORPHAN;
	}
	/* The whole flight sent again, once read: its hello is a repeat. */
	read_before = slot != NULL && slot->state == SLOT_DONE;
	slot = slot_take(r, ends, now_ns);
	slot->state = SLOT_PENDING;
	slot->read_before = read_before;
	slot->earlier = earlier;
	slot->earlier_hash = earlier_hash;
	slot->version = out->version;
	slot->dcid_len = out->dcid_len;
	memcpy(slot->dcid, out->dcid, out->dcid_len);
	slot->datagrams = 1;
	memcpy(&slot->hello, work, sizeof(*work));
	return QUIC_PART;
}
