/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_QUIC_H
#define SMBGW_QUIC_H

/*
 * SMB over QUIC (MS-SMB2 2.1: TLS 1.3 over QUIC, ALPN "smb", UDP 443 by
 * default) told from other QUIC by the client's first flight.
 *
 * A client Initial packet is protected with keys every observer can derive
 * from its Destination Connection ID (RFC 9001 5.2), so its CRYPTO frames,
 * the TLS ClientHello, can be read on the wire: the ALPN extension says
 * whether the connection will speak SMB. Nothing after the Initial packets
 * can be read. The reader takes bytes and lengths and knows nothing of
 * DPDK, so it is unit-tested and fuzzed alone.
 *
 * A ClientHello larger than one datagram (post-quantum key shares, large
 * extensions) spans several Initial packets: quic_reader_read() keeps the
 * pieces of unfinished ones, per reader, in a small table keyed by the
 * datagram's addresses and the connection ID, so the datagram that
 * completes the ClientHello is the one classified. A datagram carrying a
 * later piece whose start the table no longer holds is QUIC_PART_ORPHAN,
 * a hello longer than the reader keeps QUIC_TOO_LARGE: the caller decides
 * what a first flight it could not read gets.
 *
 * Versions read: QUIC v1 (RFC 9000), v2 (RFC 9369), drafts 27 to 29 and
 * msquic's 0xabcd0000, which Windows servers accept. Other versions and
 * short-header packets are QUIC_NONE.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_CID_MAX		20
#define QUIC_ALPN_TEXT_MAX	64	/* the offered ALPN ids, comma separated */
#define QUIC_SNI_MAX		256
/* The ClientHello bytes kept: beyond, the hello is too large to read. */
#define QUIC_HELLO_MAX		8192
/* Unfinished ClientHellos a reader keeps at once. */
#define QUIC_PENDING_SLOTS	64
/*
 * How long an unfinished ClientHello's pieces, or a finished one's result
 * (for the client's retransmissions), are kept.
 */
#define QUIC_PENDING_NS		(10ull * 1000 * 1000 * 1000)

/* RFC 9000 14.1: a server discards a client Initial in a smaller datagram. */
#define QUIC_MIN_CLIENT_DATAGRAM	1200

#define QUIC_VERSION_1		0x00000001u
#define QUIC_VERSION_2		0x6b3343cfu
#define QUIC_VERSION_DRAFT_27	0xff00001bu
#define QUIC_VERSION_DRAFT_28	0xff00001cu
#define QUIC_VERSION_DRAFT_29	0xff00001du
#define QUIC_VERSION_MS_1	0xabcd0000u	/* msquic's, as draft-29 */

enum quic_result {
	QUIC_NONE = 0,		/* not a client Initial of a version read */
	QUIC_HELLO,		/* a whole ClientHello: see struct quic_hello */
	QUIC_PART,		/* a piece of one, kept until the rest comes */
	QUIC_PART_ORPHAN,	/* a later piece whose start is not held */
	QUIC_TOO_LARGE,		/* a hello longer than QUIC_HELLO_MAX */
	/*
	 * Hello bytes that differ from those read before at the same offsets
	 * (this datagram's, or earlier ones' of its connection): which
	 * version the server holds cannot be known.
	 */
	QUIC_CONFLICT,
	/*
	 * An Initial that does not decrypt with the client keys of its
	 * connection ID (a server's Initial, or damage: what the server
	 * cannot read either), or whose frames or hello do not parse.
	 */
	QUIC_UNREADABLE,
};

struct quic_hello {
	uint32_t version;
	uint8_t dcid_len;
	uint8_t dcid[QUIC_CID_MAX];
	bool alpn_smb;			/* "smb" is among the ALPN offered */
	bool alpn_present;
	char alpn[QUIC_ALPN_TEXT_MAX];	/* offered ids, "," between, cut */
	char sni[QUIC_SNI_MAX];		/* server_name, "" if none */
	uint16_t hello_len;		/* the ClientHello, handshake header in */
	uint8_t datagrams;		/* Initial datagrams it came in */
	bool repeat;			/* read before: a retransmission */
};

/* The addresses and ports of a datagram: what pieces are matched on. */
struct quic_endpoints {
	uint8_t src_addr[16];
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;
};

struct quic_reader;

/*
 * Creates a reader: cipher contexts, scratch and the table of unfinished
 * ClientHellos (about 600 KiB). One per worker. Returns NULL on
 * allocation failure.
 */
struct quic_reader *
quic_reader_create(void);

void
quic_reader_free(struct quic_reader *r);

/*
 * The cheap test a caller makes before quic_reader_read(): a long header
 * with the fixed bit, of a version read. Any packet type: a client may
 * coalesce other packets before its Initial (RFC 9000 12.2), and a server
 * reads every packet of a datagram.
 */
static inline bool
quic_maybe_long_header(const uint8_t *p, size_t len)
{
	uint32_t version;

	if (len < 7 || (p[0] & 0xc0) != 0xc0)
		return false;
	version = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 8 | p[4];
	return version == QUIC_VERSION_1 || version == QUIC_VERSION_2 ||
		version == QUIC_VERSION_DRAFT_29 ||
		version == QUIC_VERSION_MS_1 ||
		version == QUIC_VERSION_DRAFT_28 ||
		version == QUIC_VERSION_DRAFT_27;
}

/*
 * Reads the client Initial packets of UDP payload <dgram> (<len> bytes,
 * packets coalesced in it included) between <ends> at <now_ns>. On
 * QUIC_HELLO, <out> describes the ClientHello (pieces of earlier datagrams
 * included); otherwise <out> holds the version and connection ID at most.
 * Never fails otherwise: damage is QUIC_UNREADABLE.
 */
enum quic_result
quic_reader_read(struct quic_reader *r, const struct quic_endpoints *ends,
	const uint8_t *dgram, size_t len, uint64_t now_ns,
	struct quic_hello *out);

/*
 * Whether UDP payload <dgram> holds an Initial packet of a version read, its
 * headers walked without decrypting anything: what a caller checks before
 * spending a read on it.
 */
bool
quic_datagram_has_initial(const uint8_t *dgram, size_t len);

/*
 * The client Initial keys of <version> (a version read) for Destination
 * Connection ID <dcid> (RFC 9001 5.2, RFC 9369 3.3): AEAD key, IV and
 * header protection key. For tests that protect packets as a client does.
 * Returns 0, or -EINVAL on another version or a longer ID, -EIO when the
 * digest fails.
 */
int
quic_client_keys(struct quic_reader *r, uint32_t version, const uint8_t *dcid,
	size_t dcid_len, uint8_t key[16], uint8_t iv[12], uint8_t hp[16]);

/* What the reader's pending table has done, for the counters. */
struct quic_reader_stats {
	uint64_t pending_evicted;	/* a slot taken over before its end */
	uint64_t pending_expired;	/* a slot found past QUIC_PENDING_NS */
	uint64_t too_large;		/* hellos past QUIC_HELLO_MAX */
};

void
quic_reader_stats(const struct quic_reader *r, struct quic_reader_stats *out);

/*
 * Reads a TLS ClientHello handshake message at <msg> (<len> bytes, the
 * 4-byte handshake header in) into <out>'s ALPN and SNI fields. Returns 0,
 * or -EBADMSG when it is not a well-formed ClientHello. Exposed for tests.
 */
int
quic_parse_client_hello(const uint8_t *msg, size_t len,
	struct quic_hello *out);

#endif /* SMBGW_QUIC_H */
