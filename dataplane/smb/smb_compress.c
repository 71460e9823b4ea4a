/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMB 3.1.1 compressed messages (MS-SMB2 2.2.42, COMPRESSION_TRANSFORM,
 * 0xFC 'SMB'): the start of the original message is inflated into a
 * per-thread buffer and parsed exactly as a plain message would be, so a
 * TREE_CONNECT or CREATE gives the same facts either way.
 *
 * Two budgets bound the work. Of the record, the first
 * SMB_COMPRESSED_PREFIX_MAX bytes are kept (header included); of the
 * message, at most SMB_INFLATE_MAX bytes are inflated. What a plain
 * message would have shown the parser - each compound element's first
 * SMB_RECORD_PREFIX_MAX bytes, named-pipe payload in full - must lie
 * within both, or the message is reported unverifiable
 * (SMB_UNVERIFIABLE_BUDGET). So is one that cannot be inflated: unknown
 * algorithm, malformed header or data, absurd size.
 */
#include <errno.h>
#include <string.h>

#include "smb_pvt.h"
#include "xca.h"

#define SMB2_COMPRESSION_FLAG_CHAINED	0x0001
#define UNCHAINED_HEADER_LEN		16	/* ..., Flags, Offset */
#define CHAINED_HEADER_LEN		8	/* ProtocolId, OriginalSize */
#define PAYLOAD_HEADER_LEN		8	/* Algorithm, Flags, Length */
#define PAYLOAD_SIZE_LEN		4	/* OriginalPayloadSize */
#define SMB2_HEADER_LEN			64
#define SMB2_NEXT_COMMAND_END		24	/* NextCommand at 20 */
/*
 * The SMB2 parser reads some fixed fields without reporting their absence
 * (a body's StructureSize, a response's ShareType): an element must have
 * this much inflated, or all of it, for its facts to be the plain ones.
 * Beyond, every field it reads reports running past the prefix.
 */
#define SMB2_SILENT_FIELDS_END		160

/* Where compressed messages are inflated: one per thread, not per flow. */
static _Thread_local uint8_t inflate_buf[SMB_INFLATE_MAX];

/* A record being inflated. */
struct inflate {
	const uint8_t *in;	/* the record's first bytes, as kept */
	uint32_t kept;		/* bytes in <in> */
	uint32_t rec_len;	/* bytes in the record */
	uint8_t *out;
	uint32_t cap;		/* bytes to inflate at most */
	uint32_t len;		/* bytes inflated */
	uint32_t total;		/* bytes of the original message */
	uint16_t algorithm;
	uint8_t algorithm_set;
	enum smb_unverifiable reason;
};

/* Segment results: all of it inflated, or the budget stopped it. */
#define SEGMENT_DONE	0
#define SEGMENT_STOP	1
#define SEGMENT_FAILED	(-1)

static uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static int
fail(struct inflate *inf, enum smb_unverifiable reason, uint16_t algorithm)
{
	inf->reason = reason;
	inf->algorithm = algorithm;
	inf->algorithm_set = 1;
	return SEGMENT_FAILED;
}

static void
note_algorithm(struct inflate *inf, uint16_t algorithm)
{
	if (!inf->algorithm_set && algorithm != XCA_NONE) {
		inf->algorithm = algorithm;
		inf->algorithm_set = 1;
	}
}

/*
 * Inflates the <len> bytes at record offset <off> (some possibly beyond
 * what was kept), compressed with <algorithm>, which stand for <size>
 * bytes of the message, appending to inf->out.
 */
static int
inflate_segment(struct inflate *inf, uint16_t algorithm, uint32_t off,
	uint32_t len, uint32_t size)
{
	uint32_t have = off < inf->kept ? min_u32(len, inf->kept - off) : 0;
	bool cut = have < len;
	size_t n = 0;
	int ret;

	if (!xca_algorithm_supported(algorithm))
		return fail(inf, SMB_UNVERIFIABLE_ALGORITHM, algorithm);
	ret = xca_decompress((enum xca_algorithm)algorithm, inf->in + off,
		have, inf->out + inf->len,
		min_u32(size, inf->cap - inf->len), &n);
	inf->len += (uint32_t)n;
	switch (ret) {
	case XCA_FULL:
		return n == size ? SEGMENT_DONE : SEGMENT_STOP;
	case XCA_COMPLETE:
		if (n == size)
			return SEGMENT_DONE;
		/* An end where the kept bytes end proves nothing. */
		return cut ? SEGMENT_STOP :
			fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
	case -ENODATA:
		return cut ? SEGMENT_STOP :
			fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
	default:
		return fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
	}
}

/*
 * SMB2_COMPRESSION_TRANSFORM_HEADER_UNCHAINED: Offset bytes sent as they
 * are, then OriginalCompressedSegmentSize bytes compressed with
 * CompressionAlgorithm.
 */
static void
inflate_unchained(struct inflate *inf)
{
	uint32_t segment = smb_le32(inf->in + 4);
	uint16_t algorithm = smb_le16(inf->in + 8);
	uint32_t offset = smb_le32(inf->in + 12);

	inf->algorithm = algorithm;
	inf->algorithm_set = 1;
	if (segment == 0 || (uint64_t)offset + segment >
			SMB_COMPRESSED_ORIGINAL_MAX) {
		inf->reason = SMB_UNVERIFIABLE_SIZE;
		return;
	}
	if (offset > inf->rec_len - UNCHAINED_HEADER_LEN) {
		inf->reason = SMB_UNVERIFIABLE_CORRUPT;
		return;
	}
	if (algorithm == XCA_NONE || !xca_algorithm_supported(algorithm)) {
		inf->reason = SMB_UNVERIFIABLE_ALGORITHM;
		return;
	}
	inf->total = offset + segment;
	inf->cap = min_u32(inf->total, SMB_INFLATE_MAX);
	if (inflate_segment(inf, XCA_NONE, UNCHAINED_HEADER_LEN, offset,
			offset) != SEGMENT_DONE)
		return;
	if (inflate_segment(inf, algorithm, UNCHAINED_HEADER_LEN + offset,
			inf->rec_len - UNCHAINED_HEADER_LEN - offset,
			segment) != SEGMENT_DONE)
		return;
	/* The segment was all inflated: it must have been the last thing. */
	if (inf->len != inf->total)
		inf->reason = SMB_UNVERIFIABLE_CORRUPT;
}

/*
 * SMB2_COMPRESSION_TRANSFORM_HEADER_CHAINED: the message is the payloads
 * of a chain of SMB2_COMPRESSION_CHAINED_PAYLOAD_HEADERs put end to end,
 * each stored (NONE), a Pattern_V1 run or compressed (with its
 * OriginalPayloadSize first).
 */
static void
inflate_chained(struct inflate *inf)
{
	uint32_t pos = CHAINED_HEADER_LEN;
	int ret = SEGMENT_DONE;

	inf->total = smb_le32(inf->in + 4);
	if (inf->total == 0 || inf->total > SMB_COMPRESSED_ORIGINAL_MAX) {
		inf->reason = SMB_UNVERIFIABLE_SIZE;
		return;
	}
	inf->cap = min_u32(inf->total, SMB_INFLATE_MAX);
	while (pos < inf->rec_len && ret == SEGMENT_DONE) {
		uint32_t data = pos + PAYLOAD_HEADER_LEN;
		uint32_t left = inf->total - inf->len;
		uint16_t algorithm;
		uint32_t len, size;

		if (inf->rec_len - pos < PAYLOAD_HEADER_LEN) {
			inf->reason = SMB_UNVERIFIABLE_CORRUPT;
			return;
		}
		if (inf->len == inf->cap && inf->cap < inf->total)
			return;		/* inflated all the budget allows */
		if (pos > inf->kept || inf->kept - pos < PAYLOAD_HEADER_LEN)
			return;		/* the rest was not kept */
		algorithm = smb_le16(inf->in + pos);
		len = smb_le32(inf->in + pos + 4);
		if (len > inf->rec_len - data) {
			fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
			return;
		}
		note_algorithm(inf, algorithm);
		switch (algorithm) {
		case XCA_NONE:
			if (len > left) {
				fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
				return;
			}
			ret = inflate_segment(inf, algorithm, data, len, len);
			break;
		case XCA_PATTERN_V1:
			if (len != XCA_PATTERN_V1_LEN) {
				fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
				return;
			}
			if (inf->kept - data < len)
				return;
			size = smb_le32(inf->in + data + 4);
			if (size > left) {
				fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
				return;
			}
			ret = inflate_segment(inf, algorithm, data, len, size);
			break;
		case XCA_LZNT1:
		case XCA_LZ77:
		case XCA_LZ77_HUFFMAN:
			if (len < PAYLOAD_SIZE_LEN) {
				fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
				return;
			}
			if (inf->kept - data < PAYLOAD_SIZE_LEN)
				return;
			size = smb_le32(inf->in + data);
			if (size > left) {
				fail(inf, SMB_UNVERIFIABLE_CORRUPT, algorithm);
				return;
			}
			ret = inflate_segment(inf, algorithm,
				data + PAYLOAD_SIZE_LEN,
				len - PAYLOAD_SIZE_LEN, size);
			break;
		default:	/* LZ4 and anything else */
			fail(inf, SMB_UNVERIFIABLE_ALGORITHM, algorithm);
			return;
		}
		pos = data + len;
	}
	/* Every payload was inflated: they must make up the message. */
	if (ret == SEGMENT_DONE && inf->len != inf->total)
		inf->reason = SMB_UNVERIFIABLE_CORRUPT;
}

/*
 * Parses the SMB2 messages (a compound chain) inflated, as stream_parse()
 * would have parsed them plain: each element from a prefix of at most
 * SMB_RECORD_PREFIX_MAX bytes. Notes in run->inflate_short what a plain
 * parse would have had that was not inflated.
 */
static void
parse_inflated(const struct smb_msg *tm, struct inflate *inf)
{
	struct smb_run *run = tm->run;
	uint32_t off = 0;

	while (off < inf->total) {
		uint32_t avail = inf->len > off ? inf->len - off : 0;
		uint32_t element = inf->total - off;
		struct smb_msg m;
		uint32_t next;

		if (avail >= SMB2_NEXT_COMMAND_END) {
			uint32_t next_command = smb_le32(inf->out + off + 20);

			if (next_command != 0 && next_command < element)
				element = next_command;
		}
		run->inflate_partial = 0;
		if (avail < min_u32(element, SMB_RECORD_PREFIX_MAX)) {
			/* Fewer bytes than a plain parse would have had: fine
			 * as long as nothing needed lies beyond them. */
			if (avail < min_u32(element, SMB2_SILENT_FIELDS_END))
				run->inflate_short = 1;
			else
				run->inflate_partial = 1;
			if (avail < SMB2_HEADER_LEN)
				return;
		}
		memset(&m, 0, sizeof(m));
		m.run = run;
		m.s = tm->s;
		m.dir = tm->dir;
		m.p = inf->out + off;
		m.avail = avail;
		m.len = min_u32(avail, SMB_RECORD_PREFIX_MAX);
		m.msg_len = inf->total - off;
		m.rec_off = off;
		m.inflated = 1;
		if (tm->dir == SMB_DIR_TO_CLIENT)
			m.flags = SMB_FACT_F_RESPONSE;
		if (m.len < 4 || memcmp(m.p, "\xfeSMB", 4) != 0) {
			/* Only SMB2 messages are compressed. */
			smb_error(&m, off == 0 ? SMB_ERR_FRAMING :
				SMB_ERR_CHAIN, "inflated protocol id");
			if (inf->reason == SMB_UNVERIFIABLE_NONE)
				inf->reason = SMB_UNVERIFIABLE_CORRUPT;
			return;
		}
		next = smb2_parse(&m);
		run->inflate_partial = 0;
		if (next <= off || next >= inf->total)
			return;
		off = next;
	}
}

void
smb_compressed(struct smb_msg *m)
{
	struct smb_impl *st = m->run->st;
	struct inflate inf;
	struct smb_fact f;

	memset(&inf, 0, sizeof(inf));
	inf.in = m->p;
	inf.kept = m->len;
	inf.rec_len = m->msg_len;
	inf.out = inflate_buf;
	st->counters->compressed++;
	m->version = 2;
	if (m->rec_off != 0 || m->len < UNCHAINED_HEADER_LEN) {
		/* Inside a compound, or shorter than any header. */
		smb_error(m, m->rec_off != 0 ? SMB_ERR_CHAIN : SMB_ERR_HEADER,
			"compression header");
		inf.reason = SMB_UNVERIFIABLE_CORRUPT;
	} else if (smb_le16(m->p + 10) & SMB2_COMPRESSION_FLAG_CHAINED) {
		inflate_chained(&inf);
	} else {
		inflate_unchained(&inf);
	}
	m->run->inflate_short = 0;
	m->run->inflate_partial = 0;
	if (inf.reason == SMB_UNVERIFIABLE_NONE) {
		parse_inflated(m, &inf);
		m->run->inflate_partial = 0;
		if (inf.reason == SMB_UNVERIFIABLE_NONE &&
		    m->run->inflate_short)
			inf.reason = SMB_UNVERIFIABLE_BUDGET;
	}
	st->counters->inflated_bytes += inf.len;

	if (inf.len >= SMB2_HEADER_LEN && memcmp(inf.out, "\xfeSMB", 4) == 0)
		m->session_id = smb_le64(inf.out + 40);
	smb_fact_begin(m, &f, SMB_FACT_COMPRESSED);
	if (m->len >= UNCHAINED_HEADER_LEN) {
		f.u.transform.original_size = smb_le32(m->p + 4);
		f.u.transform.chained = (smb_le16(m->p + 10) &
			SMB2_COMPRESSION_FLAG_CHAINED) != 0;
	}
	f.u.transform.record_size = m->s->rec_len + 4;
	f.u.transform.algorithm = inf.algorithm;
	f.u.transform.inflated = inf.len;
	f.u.transform.unverifiable = (uint8_t)inf.reason;
	if (inf.reason != SMB_UNVERIFIABLE_NONE) {
		f.flags |= SMB_FACT_F_UNVERIFIABLE;
		st->counters->compressed_unverifiable++;
	}
	smb_fact_emit(m->run, &f);
}
