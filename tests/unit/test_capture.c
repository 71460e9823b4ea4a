/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture files for offline mode (dataplane/capture): where each link
 * type's network layer starts and what it carries, frames cut short, and
 * the pcapng reader: byte orders, sections, interfaces of different link
 * types, timestamp resolutions and offsets, the three packet blocks,
 * unknown blocks skipped, and damage named.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"

/* ---- pcapng writer -------------------------------------------------- */

struct ng_file {
	uint8_t buf[4096];
	size_t len;
	bool big;	/* big-endian section */
};

static void
put16(struct ng_file *f, uint16_t v)
{
	f->buf[f->len++] = (uint8_t)(f->big ? v >> 8 : v);
	f->buf[f->len++] = (uint8_t)(f->big ? v : v >> 8);
}

static void
put32(struct ng_file *f, uint32_t v)
{
	if (f->big) {
		put16(f, (uint16_t)(v >> 16));
		put16(f, (uint16_t)v);
	} else {
		put16(f, (uint16_t)v);
		put16(f, (uint16_t)(v >> 16));
	}
}

static void
put_bytes(struct ng_file *f, const void *p, size_t n)
{
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	while (f->len % 4 != 0)
		f->buf[f->len++] = 0;
}

/* Starts a block of <type>; block_end() writes both lengths. */
static size_t
block_begin(struct ng_file *f, uint32_t type)
{
	size_t start = f->len;

	put32(f, type);
	put32(f, 0);
	return start;
}

static void
block_end(struct ng_file *f, size_t start)
{
	uint32_t total = (uint32_t)(f->len - start + 4);
	size_t end = f->len;

	f->len = start + 4;
	put32(f, total);
	f->len = end;
	put32(f, total);
}

static void
shb(struct ng_file *f, bool big)
{
	size_t b;

	f->big = big;
	b = block_begin(f, 0x0a0d0d0a);
	put32(f, 0x1a2b3c4d);
	put16(f, 1);
	put16(f, 0);
	put32(f, 0xffffffff);
	put32(f, 0xffffffff);
	block_end(f, b);
}

/* An IDB of <link>; tsresol and tsoffset options when not 0xff / 0. */
static void
idb(struct ng_file *f, uint16_t link, uint8_t tsresol, int64_t tsoffset)
{
	size_t b = block_begin(f, 1);

	put16(f, link);
	put16(f, 0);
	put32(f, 0);
	if (tsresol != 0xff) {
		put16(f, 9);
		put16(f, 1);
		put_bytes(f, &tsresol, 1);
	}
	if (tsoffset != 0) {
		put16(f, 14);
		put16(f, 8);
		put32(f, f->big ? (uint32_t)((uint64_t)tsoffset >> 32) :
			(uint32_t)tsoffset);
		put32(f, f->big ? (uint32_t)tsoffset :
			(uint32_t)((uint64_t)tsoffset >> 32));
	}
	put16(f, 0);
	put16(f, 0);
	block_end(f, b);
}

static void
epb(struct ng_file *f, uint32_t iface, uint64_t ts, const void *frame,
	uint32_t len)
{
	size_t b = block_begin(f, 6);

	put32(f, iface);
	put32(f, (uint32_t)(ts >> 32));
	put32(f, (uint32_t)ts);
	put32(f, len);
	put32(f, len + 100);
	put_bytes(f, frame, len);
	block_end(f, b);
}

static void
spb(struct ng_file *f, uint32_t wire_len, const void *frame, uint32_t len)
{
	size_t b = block_begin(f, 3);

	put32(f, wire_len);
	put_bytes(f, frame, len);
	block_end(f, b);
}

static void
other_block(struct ng_file *f, uint32_t type)
{
	size_t b = block_begin(f, type);

	put_bytes(f, "opaque", 6);
	block_end(f, b);
}

static const uint8_t ipv4[20] = { 0x45, 0, 0, 20 };
static const uint8_t ipv6[40] = { 0x60 };

/* ---- link types ----------------------------------------------------- */

static void
test_link_l3(void **state)
{
	uint8_t frame[64];
	uint16_t et;

	(void)state;
	memset(frame, 0, sizeof(frame));
	assert_int_equal(capture_link_l3(CAPTURE_LINK_ETHERNET, frame, 0, &et),
		0);

	/* Linux cooked: protocol at 14 (SLL) or 0 (SLL2). */
	frame[14] = 0x86;
	frame[15] = 0xdd;
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LINUX_SLL, frame, 16,
		&et), 16);
	assert_int_equal(et, 0x86dd);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LINUX_SLL, frame, 15,
		&et), -EINVAL);
	frame[14] = 0x00;
	frame[15] = 0x04;	/* 802.2 LLC: no EtherType */
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LINUX_SLL, frame, 16,
		&et), 16);
	assert_int_equal(et, 0);
	frame[0] = 0x08;
	frame[1] = 0x00;
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LINUX_SLL2, frame, 20,
		&et), 20);
	assert_int_equal(et, 0x0800);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LINUX_SLL2, frame, 19,
		&et), -EINVAL);

	/* NULL: host order, either; LOOP: network order. */
	memset(frame, 0, 4);
	frame[0] = 2;
	assert_int_equal(capture_link_l3(CAPTURE_LINK_NULL, frame, 4, &et), 4);
	assert_int_equal(et, 0x0800);
	frame[0] = 0;
	frame[3] = 30;		/* Darwin AF_INET6, big-endian host */
	assert_int_equal(capture_link_l3(CAPTURE_LINK_NULL, frame, 4, &et), 4);
	assert_int_equal(et, 0x86dd);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LOOP, frame, 4, &et), 4);
	assert_int_equal(et, 0x86dd);
	frame[3] = 2;
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LOOP, frame, 4, &et), 4);
	assert_int_equal(et, 0x0800);
	frame[3] = 7;		/* not IP */
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LOOP, frame, 4, &et), 4);
	assert_int_equal(et, 0);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_NULL, frame, 3, &et),
		-EINVAL);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_LOOP, frame, 0, &et),
		-EINVAL);

	/* Raw IP by its version; IPV4 and IPV6 by their link type. */
	assert_int_equal(capture_link_l3(CAPTURE_LINK_RAW, ipv6, 40, &et), 0);
	assert_int_equal(et, 0x86dd);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_RAW_OLD, ipv4, 20, &et),
		0);
	assert_int_equal(et, 0x0800);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_RAW, ipv4, 0, &et), 0);
	assert_int_equal(et, 0);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_IPV4, frame, 0, &et), 0);
	assert_int_equal(et, 0x0800);
	assert_int_equal(capture_link_l3(CAPTURE_LINK_IPV6, frame, 0, &et), 0);
	assert_int_equal(et, 0x86dd);

	assert_int_equal(capture_link_l3(147, frame, 64, &et),
		-EPROTONOSUPPORT);
	assert_false(capture_link_supported(147));
	assert_true(capture_link_supported(CAPTURE_LINK_LINUX_SLL2));
	assert_string_equal(capture_link_name(CAPTURE_LINK_LINUX_SLL2),
		"LINUX_SLL2");
	assert_null(capture_link_name(147));

	capture_ethernet_header(frame, 0x86dd);
	assert_int_equal(frame[12], 0x86);
	assert_int_equal(frame[13], 0xdd);
	assert_int_equal(frame[0] | frame[5] | frame[6] | frame[11], 0);
}

/* ---- pcapng --------------------------------------------------------- */

/* Reads every frame of <f> into <recs>; returns the last result. */
static int
read_all(struct ng_file *f, struct capture_record *recs, int max, int *count,
	char *error, size_t error_len)
{
	struct capture_pcapng ng;
	int ret;

	*count = 0;
	assert_int_equal(capture_pcapng_open(&ng, f->buf, f->len, error,
		error_len), 0);
	while ((ret = capture_pcapng_next(&ng, &recs[*count], error,
			error_len)) == 1) {
		assert_true(*count < max - 1);
		(*count)++;
	}
	capture_pcapng_close(&ng);
	return ret;
}

static void
test_pcapng_interfaces(void **state)
{
	static struct ng_file f;
	struct capture_record recs[16];
	uint8_t sll[16 + 20] = { 0 };
	char error[256];
	int count;

	(void)state;
	memset(&f, 0, sizeof(f));
	sll[14] = 0x08;
	memcpy(sll + 16, ipv4, sizeof(ipv4));
	shb(&f, false);
	idb(&f, CAPTURE_LINK_ETHERNET, 0xff, 0);	/* microseconds */
	idb(&f, CAPTURE_LINK_LINUX_SLL, 9, 0);	/* nanoseconds */
	idb(&f, CAPTURE_LINK_RAW, 0x80 | 10, 5);	/* 2^-10 s, +5 s */
	other_block(&f, 4);		/* name resolution */
	other_block(&f, 0x40000bad);	/* custom */
	epb(&f, 1, 1700000000123456789ull, sll, sizeof(sll));
	epb(&f, 0, 1700000000123456ull, ipv4, sizeof(ipv4));
	epb(&f, 2, 3 * 1024 + 512, ipv4, sizeof(ipv4));
	assert_int_equal(read_all(&f, recs, 16, &count, error, sizeof(error)),
		0);
	assert_int_equal(count, 3);
	assert_int_equal(recs[0].link, CAPTURE_LINK_LINUX_SLL);
	assert_int_equal(recs[0].ts_ns, 1700000000123456789ull);
	assert_int_equal(recs[0].caplen, sizeof(sll));
	assert_int_equal(recs[0].len, sizeof(sll) + 100);
	assert_memory_equal(recs[0].data, sll, sizeof(sll));
	assert_true(recs[0].headroom >= 14);
	assert_int_equal(recs[1].link, CAPTURE_LINK_ETHERNET);
	assert_int_equal(recs[1].ts_ns, 1700000000123456000ull);
	assert_int_equal(recs[2].link, CAPTURE_LINK_RAW);
	/* 3.5 s in units of 2^-10, plus the 5 s offset. */
	assert_int_equal(recs[2].ts_ns, 8500000000ull);
}

static void
test_pcapng_sections(void **state)
{
	static struct ng_file f;
	struct capture_record recs[16];
	char error[256];
	int count;

	(void)state;
	memset(&f, 0, sizeof(f));
	shb(&f, true);
	idb(&f, CAPTURE_LINK_RAW, 3, 0);	/* milliseconds */
	epb(&f, 0, 1500, ipv6, sizeof(ipv6));
	/* A Simple Packet Block: cut to its block, and no time. */
	spb(&f, 1000, ipv4, sizeof(ipv4));
	spb(&f, 8, ipv4, sizeof(ipv4));
	shb(&f, false);
	idb(&f, CAPTURE_LINK_ETHERNET, 0xff, 0);
	epb(&f, 0, 7, ipv4, sizeof(ipv4));
	assert_int_equal(read_all(&f, recs, 16, &count, error, sizeof(error)),
		0);
	assert_int_equal(count, 4);
	assert_int_equal(recs[0].ts_ns, 1500000000ull);
	assert_int_equal(recs[0].link, CAPTURE_LINK_RAW);
	assert_int_equal(recs[1].caplen, sizeof(ipv4));
	assert_int_equal(recs[1].len, 1000);
	assert_int_equal(recs[1].ts_ns, 0);
	assert_true(recs[1].headroom >= 14);
	assert_int_equal(recs[2].caplen, 8);
	assert_int_equal(recs[3].link, CAPTURE_LINK_ETHERNET);
	assert_int_equal(recs[3].ts_ns, 7000);

	/* A new section forgets the interfaces of the one before. */
	memset(&f, 0, sizeof(f));
	shb(&f, false);
	idb(&f, CAPTURE_LINK_ETHERNET, 0xff, 0);
	shb(&f, false);
	epb(&f, 0, 7, ipv4, sizeof(ipv4));
	assert_int_equal(read_all(&f, recs, 16, &count, error, sizeof(error)),
		-EIO);
	assert_int_equal(count, 0);
	assert_non_null(strstr(error, "arrived on interface 0, but there's no Interface Description Block"));
}

static void
test_pcapng_damage(void **state)
{
	static struct ng_file f;
	struct capture_pcapng ng;
	struct capture_record recs[4];
	char error[256];
	size_t good, whole;
	int count;

	(void)state;
	/* Not pcapng, or a Section Header Block that is not one. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(capture_pcapng_open(&ng, f.buf, 2, error,
		sizeof(error)), -EINVAL);
	shb(&f, false);
	f.buf[8] = 0x99;
	assert_int_equal(capture_pcapng_open(&ng, f.buf, f.len, error,
		sizeof(error)), -EINVAL);
	assert_non_null(strstr(error, "byte-order magic"));

	memset(&f, 0, sizeof(f));
	shb(&f, false);
	idb(&f, CAPTURE_LINK_ETHERNET, 0xff, 0);
	good = f.len;
	epb(&f, 0, 0, ipv4, sizeof(ipv4));
	whole = f.len;
	assert_int_equal(whole - good, 52);

	/* Cut short anywhere in the packet block. */
	for (f.len = good + 1; f.len < whole; f.len++) {
		assert_int_equal(read_all(&f, recs, 4, &count, error,
			sizeof(error)), -EIO);
		assert_int_equal(count, 0);
	}

	/* A captured length past the block. */
	f.len = whole;
	f.buf[good + 20] = 200;
	assert_int_equal(read_all(&f, recs, 4, &count, error, sizeof(error)),
		-EIO);
	assert_non_null(strstr(error, "runs past the block"));
	f.buf[good + 20] = 20;

	/* A length not a multiple of 4, and lengths that differ. */
	f.buf[good + 4] = 51;
	assert_int_equal(read_all(&f, recs, 4, &count, error, sizeof(error)),
		-EIO);
	assert_non_null(strstr(error, "bad length 51"));
	f.buf[good + 4] = 52;
	f.buf[good + 48] = 56;
	assert_int_equal(read_all(&f, recs, 4, &count, error, sizeof(error)),
		-EIO);
	assert_non_null(strstr(error, "lengths differ"));
	f.buf[good + 48] = 52;
	assert_int_equal(read_all(&f, recs, 4, &count, error, sizeof(error)),
		0);
	assert_int_equal(count, 1);

	/* A frame longer than any capture keeps. */
	{
		uint32_t caplen = CAPTURE_CAPLEN_MAX + 4;
		uint32_t total = 8 + 20 + caplen + 4;
		size_t head = good;
		uint8_t *big = calloc(1, head + total);
		struct capture_record rec;
		uint32_t v[7] = { 6, total, 0, 0, 0, caplen, caplen };

		assert_non_null(big);
		memcpy(big, f.buf, head);
		memcpy(big + head, v, sizeof(v));
		memcpy(big + head + total - 4, &total, 4);
		assert_int_equal(capture_pcapng_open(&ng, big, head + total,
			error, sizeof(error)), 0);
		assert_int_equal(capture_pcapng_next(&ng, &rec, error,
			sizeof(error)), -EIO);
		assert_non_null(strstr(error,
			"captured length 262148 is more than 262144"));
		capture_pcapng_close(&ng);
		free(big);
	}

	/* An option running past its block, and a bad time resolution. */
	memset(&f, 0, sizeof(f));
	shb(&f, false);
	idb(&f, CAPTURE_LINK_ETHERNET, 0x80 | 64, 0);
	assert_int_equal(read_all(&f, recs, 4, &count, error, sizeof(error)),
		-EIO);
	assert_non_null(strstr(error, "bad option 9"));
	memset(&f, 0, sizeof(f));
	shb(&f, false);
	idb(&f, CAPTURE_LINK_ETHERNET, 6, 0);
	f.buf[f.len - 4 - 12 + 2] = 200;	/* if_tsresol's length */
	assert_int_equal(read_all(&f, recs, 4, &count, error, sizeof(error)),
		-EIO);
	assert_non_null(strstr(error, "runs past the block"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_l3),
		cmocka_unit_test(test_pcapng_interfaces),
		cmocka_unit_test(test_pcapng_sections),
		cmocka_unit_test(test_pcapng_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
