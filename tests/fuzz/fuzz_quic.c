/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer harness for dataplane/quic. Random bytes never pass an AEAD,
 * so the input is the plaintext of up to four client Initial packets,
 * which the harness protects as a client does (RFC 9001 5.3, 5.4) before
 * the reader sees them, one datagram each, from the same endpoints:
 *
 *	uint8_t  flags      bits 0 and 3: the version (v1, v2, draft-29,
 *	                    msquic's); bit 1: the datagrams also go out of
 *	                    order; bit 2: a late datagram (past the reader's
 *	                    hold)
 *	uint8_t  dcid_len   (mod 21)
 *	uint8_t  dcid[dcid_len]
 *	then per packet: uint16_t len (little-endian), uint8_t plain[len]
 *
 * The frames, the CRYPTO reassembly across datagrams and the ClientHello
 * parser all see fuzzed bytes. The raw input is also read as a datagram,
 * for the header checks. Checks: the results are those documented, a
 * hello's texts are NUL-terminated within their arrays, and a hello's
 * length fits the reader's buffer.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "quic.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PACKETS_MAX	4
#define DATAGRAM_LEN	1250

static struct quic_reader *reader;

/* By flags bits 0 and 3. */
static const uint32_t versions[4] = {
	QUIC_VERSION_1, QUIC_VERSION_2, QUIC_VERSION_DRAFT_29,
	QUIC_VERSION_MS_1,
};

/* A client Initial of <plain> in <out> (DATAGRAM_LEN bytes, padded). */
static size_t
protect(uint32_t version, const uint8_t *dcid, size_t dcid_len, uint32_t pn,
	const uint8_t *plain, size_t plain_len, uint8_t *out)
{
	bool v2 = version == QUIC_VERSION_2;
	uint8_t key[16], iv[12], hp[16], mask[16];
	uint8_t payload[DATAGRAM_LEN];
	size_t header_len, payload_len, i;
	EVP_CIPHER_CTX *ctx;
	int n;

	if (quic_client_keys(reader, version, dcid, dcid_len, key, iv,
			hp) != 0)
		abort();

	/* Header: 1 + 4 + 1 + dcid + 1 (scid 0) + 1 (token 0) + 2 + 4. */
	header_len = 14 + dcid_len;
	payload_len = DATAGRAM_LEN - header_len - 16;
	memset(payload, 0, sizeof(payload));
	memcpy(payload, plain, plain_len < payload_len ? plain_len :
		payload_len);
	/* v2's Initial type is 1, the others' 0 */
	out[0] = (uint8_t)(0xc3 | (v2 ? 1 : 0) << 4);
	out[1] = (uint8_t)(version >> 24);
	out[2] = (uint8_t)(version >> 16);
	out[3] = (uint8_t)(version >> 8);
	out[4] = (uint8_t)version;
	out[5] = (uint8_t)dcid_len;
	memcpy(out + 6, dcid, dcid_len);
	out[6 + dcid_len] = 0;
	out[7 + dcid_len] = 0;
	out[8 + dcid_len] = (uint8_t)(0x40 | (payload_len + 4 + 16) >> 8);
	out[9 + dcid_len] = (uint8_t)(payload_len + 4 + 16);
	for (i = 0; i < 4; i++)
		out[10 + dcid_len + i] = (uint8_t)(pn >> (24 - 8 * i));
	for (i = 0; i < 4; i++)
		iv[8 + i] ^= (uint8_t)(pn >> (24 - 8 * i));
	ctx = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, iv);
	EVP_EncryptUpdate(ctx, NULL, &n, out, (int)header_len);
	EVP_EncryptUpdate(ctx, out + header_len, &n, payload,
		(int)payload_len);
	EVP_EncryptFinal_ex(ctx, out + header_len + payload_len, &n);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
		out + header_len + payload_len);
	EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, hp, NULL);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	EVP_EncryptUpdate(ctx, mask, &n, out + header_len - 4 + 4, 16);
	EVP_CIPHER_CTX_free(ctx);
	out[0] ^= mask[0] & 0x0f;
	for (i = 0; i < 4; i++)
		out[header_len - 4 + i] ^= mask[1 + i];
	return DATAGRAM_LEN;
}

static void
check(enum quic_result res, const struct quic_hello *h)
{
	if (res != QUIC_NONE && res != QUIC_HELLO && res != QUIC_PART &&
			res != QUIC_PART_ORPHAN && res != QUIC_TOO_LARGE &&
			res != QUIC_CONFLICT &&
			res != QUIC_UNREADABLE)
		abort();
	if (res != QUIC_HELLO)
		return;
	if (memchr(h->alpn, '\0', sizeof(h->alpn)) == NULL ||
			memchr(h->sni, '\0', sizeof(h->sni)) == NULL ||
			h->hello_len > QUIC_HELLO_MAX || h->dcid_len > QUIC_CID_MAX)
		abort();
	if (h->alpn_smb && strstr(h->alpn, "smb") == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t datagrams[PACKETS_MAX][DATAGRAM_LEN];
	struct quic_endpoints ends = { .src_port = 50000, .dst_port = 443 };
	const uint8_t *p = data, *end = data + size, *dcid;
	size_t dcid_len, count = 0, i;
	uint64_t now = 1000;
	struct quic_hello h;
	uint8_t flags, *raw;

	if (reader == NULL)
		reader = quic_reader_create();
	if (size < 2)
		return 0;
	flags = *p++;
	dcid_len = *p++ % (QUIC_CID_MAX + 1);
	if ((size_t)(end - p) < dcid_len)
		return 0;
	dcid = p;
	p += dcid_len;
	while (count < PACKETS_MAX && end - p >= 2) {
		size_t len = (size_t)p[0] | (size_t)p[1] << 8;

		p += 2;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		protect(versions[(flags & 1) | (flags >> 2 & 2)], dcid,
			dcid_len, (uint32_t)count, p, len,
			datagrams[count]);
		p += len;
		count++;
	}
	/* Each input its own endpoints: no state carried between inputs. */
	ends.src_port = (uint16_t)(ends.src_port + (size & 0x3ff));
	for (i = 0; i < count; i++) {
		check(quic_reader_read(reader, &ends, datagrams[i],
			DATAGRAM_LEN, now, &h), &h);
		now += (flags & 4) ? QUIC_PENDING_NS + 1 : 1000;
	}
	if (flags & 2)
		for (i = count; i-- > 0;)
			check(quic_reader_read(reader, &ends, datagrams[i],
				DATAGRAM_LEN, now, &h), &h);
	/* The input itself, in an exact-size block. */
	raw = malloc(size);
	if (raw != NULL) {
		memcpy(raw, data, size);
		check(quic_reader_read(reader, &ends, raw, size, now, &h), &h);
		free(raw);
	}
	return 0;
}
