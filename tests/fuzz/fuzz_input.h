/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef SMBGW_FUZZ_INPUT_H
#define SMBGW_FUZZ_INPUT_H

/*
 * Input format shared by the fuzz harnesses and the seed corpus
 * (tests/fuzz/make_corpus.py writes it): a sequence of records, each
 *
 *	uint8_t  flags   bit 0: direction (0 client to server, 1 back)
 *	                 bit 1: retransmission: reuse the previous record's
 *	                        sequence number in this direction
 *	                 bits 2-7: split: 0 feeds the payload in one call,
 *	                        n feeds it in pieces of n bytes
 *	uint16_t len     payload bytes that follow (little-endian)
 *	uint16_t gap     sequence space skipped before the payload (bytes
 *	                 never seen, e.g. bulk data left out of a seed)
 *	uint8_t  payload[len]
 *
 * A record cut short by the end of the input carries what is left. The
 * format lets the fuzzer choose directions, chunk boundaries, gaps and
 * retransmissions while the seeds stay real TCP payloads.
 */

#include <stddef.h>
#include <stdint.h>

#define FUZZ_RECORD_HEADER_LEN	5

struct fuzz_record {
	int from_server;
	int retransmit;
	size_t split;
	uint32_t gap;
	const uint8_t *payload;
	size_t len;
};

struct fuzz_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
};

/*
 * Reads the next record of <r> into <rec>. Returns 1 if a record was read,
 * 0 at the end of the input.
 */
static inline int
fuzz_next_record(struct fuzz_reader *r, struct fuzz_record *rec)
{
	const uint8_t *h = r->data + r->off;
	size_t left = r->len - r->off;
	size_t want;

	if (left < FUZZ_RECORD_HEADER_LEN)
		return 0;
	rec->from_server = h[0] & 1;
	rec->retransmit = (h[0] >> 1) & 1;
	rec->split = h[0] >> 2;
	want = (size_t)h[1] | (size_t)h[2] << 8;
	rec->gap = (uint32_t)h[3] | (uint32_t)h[4] << 8;
	left -= FUZZ_RECORD_HEADER_LEN;
	rec->payload = h + FUZZ_RECORD_HEADER_LEN;
	rec->len = want < left ? want : left;
	r->off += FUZZ_RECORD_HEADER_LEN + rec->len;
	return 1;
}

#endif /* SMBGW_FUZZ_INPUT_H */
