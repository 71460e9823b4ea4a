/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The QUIC Initial reader: RFC 9001 A.2's client Initial, captures built
 * to RFC 9001 / RFC 9369 (tests/pcaps/make_quic_captures.py) and a real
 * QUIC stack's (ngtcp2), hellos of two datagrams, and damage.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "quic.h"

#define DATAGRAMS_MAX	64
#define SECOND		1000000000ull

struct datagram {
	struct quic_endpoints ends;
	uint8_t data[2048];
	size_t len;
	uint64_t ts_ns;
};

struct capture {
	struct datagram d[DATAGRAMS_MAX];
	int count;
};

/* The UDP payloads of tests/pcaps/<name> (Ethernet, IPv4 or IPv6). */
static void
capture_load(const char *name, struct capture *cap)
{
	char path[512], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const uint8_t *pkt;
	pcap_t *pc;

	snprintf(path, sizeof(path), "%s/pcaps/%s", TESTS_DIR, name);
	pc = pcap_open_offline(path, errbuf);
	assert_non_null(pc);
	memset(cap, 0, sizeof(*cap));
	while (pcap_next_ex(pc, &hdr, &pkt) == 1) {
		struct datagram *d = &cap->d[cap->count];
		const uint8_t *udp;
		size_t ulen;

		if (pkt[12] == 0x08 && pkt[13] == 0x00 && pkt[23] == 17) {
			udp = pkt + 14 + (pkt[14] & 0xf) * 4;
			memset(&d->ends, 0, sizeof(d->ends));
			memcpy(d->ends.src_addr, pkt + 26, 4);
			memcpy(d->ends.dst_addr, pkt + 30, 4);
		} else if (pkt[12] == 0x86 && pkt[13] == 0xdd && pkt[20] == 17) {
			udp = pkt + 54;
			memcpy(d->ends.src_addr, pkt + 22, 16);
			memcpy(d->ends.dst_addr, pkt + 38, 16);
		} else {
			continue;
		}
		d->ends.src_port = (uint16_t)(udp[0] << 8 | udp[1]);
		d->ends.dst_port = (uint16_t)(udp[2] << 8 | udp[3]);
		ulen = ((size_t)udp[4] << 8 | udp[5]) - 8;
		assert_true(ulen <= sizeof(d->data));
		assert_true(udp + 8 + ulen <= pkt + hdr->caplen);
		memcpy(d->data, udp + 8, ulen);
		d->len = ulen;
		d->ts_ns = (uint64_t)hdr->ts.tv_sec * SECOND +
			(uint64_t)hdr->ts.tv_usec * 1000u;
		assert_true(++cap->count < DATAGRAMS_MAX);
	}
	pcap_close(pc);
}

static struct capture cap;

static enum quic_result
read_datagram(struct quic_reader *r, const struct datagram *d,
	struct quic_hello *out)
{
	return quic_reader_read(r, &d->ends, d->data, d->len, d->ts_ns, out);
}

/* RFC 9001 A.2: the example client Initial, ALPN "alpn", example.com. */
static void
test_rfc9001_example(void **state)
{
	struct quic_reader *r = quic_reader_create();
	struct quic_hello h;

	(void)state;
	capture_load("quic_rfc9001_a2.pcap", &cap);
	assert_int_equal(cap.count, 1);
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_HELLO);
	assert_int_equal(h.version, QUIC_VERSION_1);
	assert_int_equal(h.dcid_len, 8);
	assert_memory_equal(h.dcid, "\x83\x94\xc8\xf0\x3e\x51\x57\x08", 8);
	assert_true(h.alpn_present);
	assert_false(h.alpn_smb);
	assert_string_equal(h.alpn, "alpn");
	assert_string_equal(h.sni, "example.com");
	assert_int_equal(h.hello_len, 241);
	assert_int_equal(h.datagrams, 1);
	assert_false(h.repeat);
	quic_reader_free(r);
}

/*
 * Reads every datagram of <name>: the first client Initial must be a
 * hello with ALPN <alpn> and SNI <sni>; the server's Initial does not
 * decrypt with the client's keys; nothing else is an Initial.
 */
static void
expect_capture(const char *name, const char *alpn, const char *sni,
	bool smb, uint32_t version, int datagrams)
{
	struct quic_reader *r = quic_reader_create();
	int i, hellos = 0, parts = 0, unreadable = 0;
	struct quic_hello h;

	capture_load(name, &cap);
	for (i = 0; i < cap.count; i++) {
		switch (read_datagram(r, &cap.d[i], &h)) {
		case QUIC_HELLO:
			hellos++;
			assert_string_equal(h.alpn, alpn);
			assert_string_equal(h.sni, sni);
			assert_int_equal(h.alpn_smb, smb);
			assert_int_equal(h.version, version);
			assert_int_equal(h.datagrams, datagrams);
			assert_false(h.repeat);
			break;
		case QUIC_PART:
			parts++;
			break;
		case QUIC_UNREADABLE:
			unreadable++;
			break;
		case QUIC_PART_ORPHAN:
		case QUIC_TOO_LARGE:
		case QUIC_CONFLICT:
			fail_msg("%s: datagram %d not read", name, i);
			break;
		case QUIC_NONE:
			break;
		}
	}
	assert_int_equal(hellos, 1);
	assert_int_equal(parts, datagrams - 1);
	/* The server's Initial, under the server's keys. */
	assert_true(unreadable <= 1);
	quic_reader_free(r);
}

static void
test_smb_over_quic(void **state)
{
	(void)state;
	expect_capture("quic_smb.pcap", "smb", "fs1.corp.example", true,
		QUIC_VERSION_1, 1);
}

static void
test_http3_is_not_smb(void **state)
{
	(void)state;
	expect_capture("quic_h3.pcap", "h3", "www.corp.example", false,
		QUIC_VERSION_1, 1);
	/* A real stack's first flight (ngtcp2 over GnuTLS). */
	expect_capture("quic_ngtcp2_h3.pcap", "h3", "localhost", false,
		QUIC_VERSION_1, 1);
}

/* The older versions Windows accepts: draft-29 and msquic's 0xabcd0000. */
static void
test_draft_versions(void **state)
{
	struct quic_reader *r = quic_reader_create();
	struct quic_hello h;

	(void)state;
	capture_load("quic_smb_draft29.pcap", &cap);
	assert_int_equal(cap.count, 2);
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_HELLO);
	assert_int_equal(h.version, QUIC_VERSION_DRAFT_29);
	assert_true(h.alpn_smb);
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_HELLO);
	assert_int_equal(h.version, QUIC_VERSION_MS_1);
	assert_true(h.alpn_smb);
	quic_reader_free(r);
}

/* A 0-RTT packet and an Initial that does not decrypt before the hello. */
static void
test_coalesced(void **state)
{
	(void)state;
	expect_capture("quic_smb_coalesced.pcap", "smb", "fs1.corp.example",
		true, QUIC_VERSION_1, 1);
}

/*
 * A decoy: the second datagram of a hello first with ALPN "xyz" (a UDP
 * checksum the server drops), then with "smb": the real one conflicts.
 */
static void
test_decoy(void **state)
{
	struct quic_reader *r = quic_reader_create();
	struct quic_hello h;

	(void)state;
	capture_load("quic_smb_decoy.pcap", &cap);
	assert_int_equal(cap.count, 3);
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_PART);
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_HELLO);
	assert_string_equal(h.alpn, "xyz");
	assert_false(h.alpn_smb);
	assert_int_equal(read_datagram(r, &cap.d[2], &h), QUIC_CONFLICT);
	/* ... and so do its retransmissions; the decoy's again is no news. */
	assert_int_equal(read_datagram(r, &cap.d[2], &h), QUIC_CONFLICT);
	quic_reader_free(r);
	/* The decoy first, then the real first piece: conflicts too. */
	r = quic_reader_create();
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_PART_ORPHAN);
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_PART);
	assert_int_equal(read_datagram(r, &cap.d[2], &h), QUIC_HELLO);
	assert_true(h.alpn_smb);
	quic_reader_free(r);
}

/* After a Retry, the same hello under another connection ID: a repeat. */
static void
test_retry(void **state)
{
	struct quic_reader *r = quic_reader_create();
	struct quic_hello h;

	(void)state;
	capture_load("quic_smb_retry.pcap", &cap);
	assert_int_equal(cap.count, 3);
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_HELLO);
	assert_false(h.repeat);
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_NONE);
	assert_int_equal(read_datagram(r, &cap.d[2], &h), QUIC_HELLO);
	assert_true(h.repeat);
	assert_true(h.alpn_smb);
	/* Another hello from the same ends and another ID: a new one. */
	capture_load("quic_h3.pcap", &cap);
	cap.d[0].ends.src_port = 50015;
	memset(cap.d[0].ends.src_addr, 0, 16);
	memcpy(cap.d[0].ends.src_addr, "\xc6\x12\x10\x0a", 4);
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_HELLO);
	assert_false(h.repeat);
	quic_reader_free(r);
}

static void
test_version_2_many_alpn(void **state)
{
	(void)state;
	expect_capture("quic_smb_v2_port8443.pcap", "h3,smb",
		"fs2.corp.example", true, QUIC_VERSION_2, 1);
}

/* A hello of two datagrams, its CRYPTO frames shuffled. */
static void
test_two_datagrams(void **state)
{
	struct quic_reader *r;
	struct quic_hello h;

	(void)state;
	expect_capture("quic_smb_two_datagrams.pcap", "smb",
		"fs1.corp.example", true, QUIC_VERSION_1, 2);

	/* The second alone: its start is not held. */
	r = quic_reader_create();
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_PART_ORPHAN);
	/* Both, then the second sent again: the hello read, a repeat. */
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_PART);
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_HELLO);
	assert_false(h.repeat);
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_HELLO);
	assert_true(h.repeat);
	assert_true(h.alpn_smb);
	/* The whole flight again: read again, still a repeat. */
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_PART);
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_HELLO);
	assert_true(h.repeat);
	assert_int_equal(h.datagrams, 2);
	quic_reader_free(r);
}

/* The first piece's slot expires, or another connection takes it. */
static void
test_pending_lost(void **state)
{
	struct quic_reader *r = quic_reader_create();
	struct quic_reader_stats st;
	struct datagram late;
	struct quic_hello h;
	int i, taken = -1;

	(void)state;
	capture_load("quic_smb_two_datagrams.pcap", &cap);
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_PART);
	late = cap.d[1];
	late.ts_ns += QUIC_PENDING_NS + SECOND;
	assert_int_equal(read_datagram(r, &late, &h), QUIC_PART_ORPHAN);
	quic_reader_stats(r, &st);
	assert_int_equal(st.pending_expired, 1);

	/* First pieces from other client ports until one takes the slot. */
	assert_int_equal(read_datagram(r, &cap.d[0], &h), QUIC_PART);
	for (i = 1; i < 10 * QUIC_PENDING_SLOTS && taken < 0; i++) {
		struct datagram other = cap.d[0];

		other.ends.src_port = (uint16_t)(other.ends.src_port + i);
		assert_int_equal(read_datagram(r, &other, &h), QUIC_PART);
		quic_reader_stats(r, &st);
		if (st.pending_evicted == 1)
			taken = i;
	}
	assert_true(taken > 0);
	assert_int_equal(read_datagram(r, &cap.d[1], &h), QUIC_PART_ORPHAN);
	quic_reader_free(r);
}

/* A length past any UDP payload is refused before the buffers see it. */
static void
test_oversized(void **state)
{
	struct quic_reader *r = quic_reader_create();
	struct quic_endpoints ends = { .src_port = 1 };
	static uint8_t big[70000];
	struct quic_hello h;

	(void)state;
	capture_load("quic_smb.pcap", &cap);
	memcpy(big, cap.d[0].data, cap.d[0].len);
	assert_int_equal(quic_reader_read(r, &ends, big, sizeof(big), 0, &h),
		QUIC_NONE);
	assert_false(quic_datagram_has_initial(big, sizeof(big)));
	assert_true(quic_datagram_has_initial(big, cap.d[0].len));
	quic_reader_free(r);
}

/* Damage: every byte flipped in turn, every length cut: never a hello
 * with another ALPN, never an over-read (ASan in the sanitized suite). */
static void
test_damage(void **state)
{
	struct quic_reader *r = quic_reader_create();
	struct quic_hello h;
	struct datagram d;
	size_t i;

	(void)state;
	capture_load("quic_smb.pcap", &cap);
	for (i = 0; i < cap.d[0].len; i++) {
		enum quic_result res;

		d = cap.d[0];
		d.data[i] ^= 0x5a;
		d.ends.src_port = (uint16_t)i;	/* no slot shared */
		res = read_datagram(r, &d, &h);
		/* Header bytes are in the AEAD's associated data, the rest
		 * is its ciphertext: no damaged packet is read. */
		assert_int_not_equal(res, QUIC_HELLO);
	}
	for (i = 0; i < cap.d[0].len; i++) {
		d = cap.d[0];
		d.ends.src_port = (uint16_t)i;
		assert_int_not_equal(quic_reader_read(r, &d.ends, d.data, i,
			d.ts_ns, &h), QUIC_HELLO);
	}
	quic_reader_free(r);
}

static void
test_client_hello_parse(void **state)
{
	/* Two ALPN extensions: a server refuses it, but "smb" is read. */
	static const uint8_t twice[] = {
		0x01, 0x00, 0x00, 0x3e,
		0x03, 0x03,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00,			/* session id */
		0x00, 0x02, 0x13, 0x01,	/* cipher suites */
		0x01, 0x00,		/* compression */
		0x00, 0x13,		/* extensions */
		0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h', '3',
		0x00, 0x10, 0x00, 0x06, 0x00, 0x04, 0x03, 's', 'm', 'b',
	};
	struct quic_hello h;
	uint8_t buf[sizeof(twice)];
	size_t cut;

	(void)state;
	assert_int_equal(quic_parse_client_hello(twice, sizeof(twice), &h), 0);
	assert_true(h.alpn_smb);
	assert_string_equal(h.alpn, "h3,smb");
	assert_string_equal(h.sni, "");
	/* A length that claims more than the message holds. */
	memcpy(buf, twice, sizeof(buf));
	buf[3]++;
	assert_int_equal(quic_parse_client_hello(buf, sizeof(buf), &h),
		-EBADMSG);
	memcpy(buf, twice, sizeof(buf));
	buf[sizeof(buf) - 7] = 0x07;	/* the second ALPN extension's length */
	assert_int_equal(quic_parse_client_hello(buf, sizeof(buf), &h),
		-EBADMSG);
	memcpy(buf, twice, sizeof(buf));
	buf[0] = 0x02;		/* a ServerHello */
	assert_int_equal(quic_parse_client_hello(buf, sizeof(buf), &h),
		-EBADMSG);
	memcpy(buf, twice, sizeof(buf));
	/* ALPN ids are bytes, compared whole: "SMB" and ",sm" are not "smb"
	 * (a server offering "smb" refuses them), and the text keeps one id
	 * one item. */
	memcpy(buf, twice, sizeof(buf));
	memcpy(buf + sizeof(buf) - 3, "SMB", 3);
	assert_int_equal(quic_parse_client_hello(buf, sizeof(buf), &h), 0);
	assert_false(h.alpn_smb);
	assert_string_equal(h.alpn, "h3,SMB");
	memcpy(buf + sizeof(buf) - 3, ",sm", 3);
	assert_int_equal(quic_parse_client_hello(buf, sizeof(buf), &h), 0);
	assert_false(h.alpn_smb);
	assert_string_equal(h.alpn, "h3,?sm");
	memcpy(buf, twice, sizeof(buf));
	for (cut = 0; cut < sizeof(buf); cut++)
		assert_int_equal(quic_parse_client_hello(buf, cut, &h),
			-EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc9001_example),
		cmocka_unit_test(test_smb_over_quic),
		cmocka_unit_test(test_http3_is_not_smb),
		cmocka_unit_test(test_version_2_many_alpn),
		cmocka_unit_test(test_coalesced),
		cmocka_unit_test(test_draft_versions),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_decoy),
		cmocka_unit_test(test_two_datagrams),
		cmocka_unit_test(test_pending_lost),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_client_hello_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
