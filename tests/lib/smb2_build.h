/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_TESTS_SMB2_BUILD_H
#define SMBGW_TESTS_SMB2_BUILD_H

/*
 * Builders of SMB2 messages and NBSS records, plain and compressed
 * (COMPRESSION_TRANSFORM, unchained and chained), for the tests of
 * compressed messages: the unit test, the fuzz seed writer and the
 * replay captures. Static so that each program takes what it uses.
 * Builders that compress return 0 when the test compressor failed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smb.h"
#include "xca.h"
#include "xca_encode.h"

#define MSG_MAX		16384
#define REC_MAX		(2 * MSG_MAX)

/* ---- building messages ---------------------------------------------- */

static inline void
put_le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, v);
	put_le16(p + 2, v >> 16);
}

static inline void
put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline size_t
put_utf16(uint8_t *p, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		put_le16(p + 2 * i, (uint8_t)s[i]);
	return 2 * i;
}

#define SESSION_ID	0x0000400000000011ull
#define TREE_ID		5

static inline void
smb2_header(uint8_t *h, uint16_t command, uint64_t message_id,
	uint32_t tree_id, int response, uint32_t flags)
{
	memset(h, 0, 64);
	memcpy(h, "\xfeSMB", 4);
	put_le16(h + 4, 64);
	put_le16(h + 12, command);
	put_le32(h + 16, flags | (response ? 1 : 0));
	put_le64(h + 24, message_id);
	put_le32(h + 36, tree_id);
	put_le64(h + 40, SESSION_ID);
}

/* TREE_CONNECT request for <path>, with <pad> zero bytes after it. */
static inline size_t
tree_connect_req(uint8_t *m, const char *path, size_t pad)
{
	size_t n;

	smb2_header(m, SMB2_TREE_CONNECT, 4, 0, 0, 0);
	memset(m + 64, 0, 8);
	put_le16(m + 64, 9);
	put_le16(m + 68, 72);
	n = put_utf16(m + 72, path);
	put_le16(m + 70, (uint32_t)n);
	memset(m + 72 + n, 0, pad);
	return 72 + n + pad;
}

static inline size_t
tree_connect_resp(uint8_t *m)
{
	smb2_header(m, SMB2_TREE_CONNECT, 4, TREE_ID, 1, 0);
	memset(m + 64, 0, 16);
	put_le16(m + 64, 16);
	m[66] = SMB2_SHARE_TYPE_DISK;
	return 80;
}

/* CREATE request for <name> (at message offset <at>), <pad> zeros after. */
static inline size_t
create_req(uint8_t *m, uint64_t message_id, const char *name, size_t pad)
{
	uint8_t *b = m + 64;
	size_t n;

	smb2_header(m, SMB2_CREATE, message_id, TREE_ID, 0, 0);
	memset(b, 0, 56);
	put_le16(b, 57);
	put_le32(b + 24, 0x0012019f);	/* DesiredAccess */
	put_le32(b + 36, 5);		/* FILE_OVERWRITE_IF */
	put_le32(b + 40, 0x44);		/* CreateOptions */
	put_le16(b + 44, 120);
	n = put_utf16(m + 120, name);
	put_le16(b + 46, (uint32_t)n);
	memset(m + 120 + n, 0, pad);
	return 120 + n + pad;
}

static inline size_t
close_req(uint8_t *m, uint64_t message_id, uint32_t flags)
{
	smb2_header(m, SMB2_CLOSE, message_id, TREE_ID, 0, flags);
	memset(m + 64, 0xff, 24);
	put_le16(m + 64, 24);
	put_le16(m + 66, 0);
	put_le32(m + 68, 0);
	return 88;
}

/* A compound: CREATE x.exe, then a related CLOSE of it. */
static inline size_t
create_compound(uint8_t *m)
{
	size_t first = create_req(m, 7, "x.exe", 0);

	first = (first + 7) & ~(size_t)7;
	memset(m + 120 + 10, 0, first - 130);
	put_le32(m + 20, (uint32_t)first);
	return first + close_req(m + first, 8, 0x4);	/* RELATED */
}

/* WRITE request to FileId <fid> whose data is a DCE/RPC request of <len>. */
static inline size_t
pipe_write(uint8_t *m, uint64_t message_id, size_t len)
{
	uint8_t *b = m + 64, *d = m + 112;
	size_t i;

	smb2_header(m, SMB2_WRITE, message_id, TREE_ID, 0, 0);
	memset(b, 0, 48);
	put_le16(b, 49);
	put_le16(b + 2, 112);
	put_le32(b + 4, (uint32_t)len);
	memset(b + 16, 0x42, 16);	/* FileId */
	memset(d, 0, 24);
	d[0] = 5;
	d[2] = 0;			/* request */
	d[3] = 3;			/* first and last fragment */
	d[4] = 0x10;			/* little endian */
	put_le16(d + 8, (uint32_t)len);
	put_le32(d + 12, 77);		/* call id */
	put_le32(d + 16, (uint32_t)len - 24);
	put_le16(d + 22, 12);		/* opnum */
	for (i = 24; i < len; i++)
		d[i] = (uint8_t)(i * 7);
	return 112 + len;
}

/* ---- records -------------------------------------------------------- */

static inline size_t
nbss(uint8_t *rec, size_t payload)
{
	rec[0] = 0;
	rec[1] = (uint8_t)(payload >> 16);
	rec[2] = (uint8_t)(payload >> 8);
	rec[3] = (uint8_t)payload;
	return payload + 4;
}

static inline size_t
plain_record(uint8_t *rec, const uint8_t *msg, size_t len)
{
	memcpy(rec + 4, msg, len);
	return nbss(rec, len);
}

/* Compresses <len> bytes with <alg> (variant <opt>); returns the size. */
static inline size_t
compress(uint16_t alg, int opt, const uint8_t *in, size_t len, uint8_t *out,
	size_t cap)
{
	size_t n = 0;

	switch (alg) {
	case XCA_LZ77:
		n = xca_encode_lz77(in, len, out, cap);
		break;
	case XCA_LZ77_HUFFMAN:
		n = xca_encode_huffman(in, len, out, cap, opt);
		break;
	case XCA_LZNT1:
		n = xca_encode_lznt1(in, len, out, cap, opt);
		break;
	}
	return n;
}

/* Unchained: the first <offset> bytes as they are, the rest compressed. */
static inline size_t
unchained_record(uint8_t *rec, const uint8_t *msg, size_t len,
	uint16_t alg, int opt, size_t offset)
{
	uint8_t *p = rec + 4;
	size_t n;

	memcpy(p, "\xfcSMB", 4);
	put_le32(p + 4, (uint32_t)(len - offset));
	put_le16(p + 8, alg);
	put_le16(p + 10, 0);
	put_le32(p + 12, (uint32_t)offset);
	memcpy(p + 16, msg, offset);
	n = compress(alg, opt, msg + offset, len - offset, p + 16 + offset,
		REC_MAX - 32 - offset);
	if (n == 0 && len > offset)
		return 0;
	return nbss(rec, 16 + offset + n);
}

/*
 * A payload of a chained message; <size> is what it stands for. Returns
 * its size with its header, 0 if it could not be compressed.
 */
static inline size_t
chain_payload(uint8_t *p, int first, uint16_t alg, int opt,
	const uint8_t *msg, size_t size)
{
	size_t n;

	put_le16(p, alg);
	put_le16(p + 2, first ? 1 : 0);
	switch (alg) {
	case XCA_NONE:
		memcpy(p + 8, msg, size);
		n = size;
		break;
	case XCA_PATTERN_V1:
		memset(p + 8, 0, 8);
		p[8] = msg[0];
		put_le32(p + 12, (uint32_t)size);
		n = 8;
		break;
	case XCA_LZNT1:
	case XCA_LZ77:
	case XCA_LZ77_HUFFMAN:
		put_le32(p + 8, (uint32_t)size);
		n = compress(alg, opt, msg, size, p + 12, REC_MAX - 64);
		if (n == 0 && size > 0)
			return 0;
		n += 4;
		break;
	default:	/* LZ4 or unknown: its size, the bytes as they are */
		put_le32(p + 8, (uint32_t)size);
		memcpy(p + 12, msg, size);
		n = 4 + size;
		break;
	}
	put_le32(p + 4, (uint32_t)n);
	return 8 + n;
}

/*
 * Chained: payloads as <plan> says, each a { algorithm, size } pair (size
 * 0: the rest of the message), ended by a 0xffff algorithm.
 */
static inline size_t
chained_record(uint8_t *rec, const uint8_t *msg, size_t len,
	const uint16_t (*plan)[2], int opt)
{
	uint8_t *p = rec + 4;
	size_t pos = 8, done = 0;
	int i;

	memcpy(p, "\xfcSMB", 4);
	put_le32(p + 4, (uint32_t)len);
	for (i = 0; plan[i][0] != 0xffff && done < len; i++) {
		size_t size = plan[i][1] ? plan[i][1] : len - done;

		size_t n = chain_payload(p + pos, i == 0, plan[i][0], opt,
			msg + done, size);

		if (n == 0)
			return 0;
		pos += n;
		done += size;
	}
	if (done != len)
		return 0;	/* a plan that does not cover the message */
	return nbss(rec, pos);
}

/* Every form a message can take compressed with <alg>, into <rec>. */
static inline size_t
form(int which, uint8_t *rec, const uint8_t *msg, size_t len, uint16_t alg,
	int opt, size_t zeros_at, size_t zeros)
{
	uint16_t plan[5][2];

	switch (which) {
	case 0:
		return unchained_record(rec, msg, len, alg, opt, 0);
	case 1:		/* the SMB2 header sent as it is */
		return unchained_record(rec, msg, len, alg, opt, 64);
	case 2:		/* header stored, the rest compressed */
		plan[0][0] = XCA_NONE;
		plan[0][1] = 64;
		plan[1][0] = alg;
		plan[1][1] = 0;
		plan[2][0] = 0xffff;
		return chained_record(rec, msg, len, plan, opt);
	default:	/* compressed, a run of zeros as Pattern_V1, compressed */
		plan[0][0] = alg;
		plan[0][1] = (uint16_t)zeros_at;
		plan[1][0] = XCA_PATTERN_V1;
		plan[1][1] = (uint16_t)zeros;
		plan[2][0] = alg;
		plan[2][1] = 0;
		plan[3][0] = 0xffff;
		return chained_record(rec, msg, len, plan, opt);
	}
}

#endif /* SMBGW_TESTS_SMB2_BUILD_H */
