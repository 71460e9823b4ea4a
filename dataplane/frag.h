/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_FRAG_H
#define SMBGW_FRAG_H

/*
 * IP fragments of TCP, reassembled before they are judged. A fragment
 * carries part of a segment, so a verdict taken on fragments would be
 * taken on bytes the server never sees as such; the policy must see the
 * datagram the server's IP layer will build.
 *
 * One table per worker and receiving link (DPDK's rte_ip_frag: bounded
 * entries, a timeout from each datagram's first fragment). TCP fragments
 * (IPv4 protocol 6; IPv6 Fragment header followed by TCP or another
 * extension header) are taken out of the burst; when the last one
 * arrives, the datagram takes the place of the fragment that completed it
 * and goes through decoding and inspection like any frame. If it is
 * forwarded it is fragmented again, to at most the size of its largest
 * fragment, and the pieces leave in order. Other fragments (UDP, ...)
 * keep the fast path and leave unchanged.
 *
 * rte_ip_frag keeps at most 8 fragments of a datagram; fragments that
 * continue one another are joined first (frag.c, "runs"), so 8-byte
 * fragments in order or last first still complete.
 *
 * rte_ip_frag never completes a datagram whose fragments overlap: once
 * the last fragment fixes the length, a byte count above it, or a hole in
 * the chain when the count matches, drops the whole set, as do a second
 * first or last fragment and a ninth run. Checks made here before
 * the table sees a fragment reject what the table would mishandle (empty
 * or truncated fragments, a datagram past 65,535 bytes, a non-final
 * fragment whose length is not a multiple of 8, IPv6 headers between the
 * fixed header and the Fragment header). Overlapping fragments are never
 * legitimate: they are dropped, never normalised.
 *
 * Accounting: every fragment taken ends in exactly one place. Still in the
 * table: port->held. Part of a completed datagram: the datagram's fate,
 * once per fragment (port->reassembled when forwarded, else the drop
 * reason of the datagram: policy, receive_only, ...). Dropped by the
 * table or the checks: DROP_FRAG_INVALID, DROP_FRAG_INCOMPLETE (timed
 * out, or unfinished when the table is flushed), DROP_FRAG_TABLE_FULL,
 * DROP_FRAG_NO_BUFFER (no mbuf for the headers of a completed datagram).
 */

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "decode.h"

struct rte_mbuf;
struct rte_mempool;

enum frag_mode {
	FRAG_MODE_REASSEMBLE,	/* reassemble, judge, re-fragment */
	FRAG_MODE_DROP,		/* drop TCP fragments (enforce mode) */
	FRAG_MODE_FORWARD,	/* leave them alone: not judged */
};

struct frag_params {
	enum frag_mode mode;
	uint32_t max_datagrams;	/* datagrams in reassembly at once */
	uint64_t timeout_ns;	/* from a datagram's first fragment */
	int socket;
	/* The receiving port's pool: a datagram whose first fragment was
	 * too short to hold its headers gets a head with them from here. */
	struct rte_mempool *pool;
};

/* Verdict of a burst slot whose fragment the table took (see frag_take). */
#define FRAG_VERDICT_TAKEN (DROP_REASON_MAX + 1)

/* Fragments a datagram may have: rte_ip_frag's limit. */
#define FRAG_PER_DATAGRAM_MAX 8

/* A datagram completed in a burst. */
struct frag_datagram {
	uint16_t slot;		/* where it replaced its last fragment */
	uint16_t fragments;	/* received fragments it is made of */
	uint16_t largest;	/* IP length of its largest fragment */
	uint32_t ipv6_id;	/* IPv6 identification, network order */
};

#define FRAG_BURST_MAX 256

/* Bytes of a datagram kept together in its first segment. */
#define FRAG_HEAD_BYTES 256

struct frag_burst {
	uint16_t count;
	struct frag_datagram datagrams[FRAG_BURST_MAX];
};

struct frag_table;

/*
 * Creates a table for the fragments of one receiving link, as <params>
 * says (the mode must not be FRAG_MODE_FORWARD). Returns NULL and sets
 * rte_errno (EINVAL, ENOMEM) on failure.
 */
struct frag_table *
frag_table_create(const struct frag_params *params);

/*
 * Drops every fragment <table> holds, counted DROP_FRAG_INCOMPLETE in
 * <port>, and frees the table; NULL is ignored.
 */
void
frag_table_free(struct frag_table *table, struct port_counters *port);

/* Drops what <table> holds, counted in <port> as frag_table_free() does. */
void
frag_flush(struct frag_table *table, struct port_counters *port);

/*
 * Takes the TCP fragments out of the burst <pkts>[0..<count>), decoded in
 * <frames>, whose verdict is still DROP_REASON_MAX (forward). A fragment
 * the table keeps, or drops, gets FRAG_VERDICT_TAKEN: the slot is no
 * longer the caller's. A fragment that completes a datagram is replaced in
 * <pkts> by the datagram (an mbuf chain), decoded again into <frames>, and
 * listed in <out>. In FRAG_MODE_DROP, TCP fragments get DROP_FRAG_REFUSED
 * when <enforce>, else they are left alone. Fragments of other protocols
 * are left alone. Times are <ts_ns>[i], or <now_ns> when <ts_ns> is NULL.
 * Counts into <port> (held, datagrams, drops).
 */
void
frag_take(struct frag_table *table, struct rte_mbuf **pkts,
	struct decoded_frame *frames, uint8_t *verdicts, uint16_t count,
	const uint64_t *ts_ns, uint64_t now_ns, bool enforce,
	struct port_counters *port, struct frag_burst *out);

/*
 * Drops the datagrams of <table> whose first fragment is older than the
 * timeout at <now_ns>, counted DROP_FRAG_INCOMPLETE in <port>. Cheap when
 * nothing expires: call every loop pass.
 */
void
frag_expire(struct frag_table *table, uint64_t now_ns,
	struct port_counters *port);

/*
 * Fragments the reassembled datagram <m> (decoded in <frame>, described
 * by <d>) again, to at most d->largest bytes of IP (never below the
 * protocol's minimum MTU: 68 for IPv4, 1280 for IPv6), into <out> (room
 * for <out_max>), each fragment with <m>'s Ethernet header and VLAN tags.
 * Headers come from <pool>, data are indirect mbufs over <m>'s segments.
 * Returns the number of fragments, <m> consumed; or a negative errno
 * (-ENOMEM: <pool> empty; -EINVAL: more pieces than <out_max>) with <m>
 * untouched and still the caller's.
 */
int
frag_refragment(struct rte_mbuf *m, const struct decoded_frame *frame,
	const struct frag_datagram *d, struct rte_mempool *pool,
	struct rte_mbuf **out, uint16_t out_max);

#endif /* SMBGW_FRAG_H */
