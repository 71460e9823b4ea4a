/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_COUNTERS_H
#define SMBGW_COUNTERS_H

/*
 * Packet accounting. Every frame a worker receives ends in exactly one
 * place: transmitted on the peer port, dropped for one counted reason, or,
 * for an IP fragment, forwarded as part of a reassembled datagram
 * (reassembled) or still waiting for the rest of its datagram (held); with
 * software flow affinity a frame may also pass from the worker that
 * received it to the one that owns its flow (redirected_out, then
 * redirected_in). So for every port and worker, rx + redirected_in ==
 * tx + sum(drops) + reassembled + held + redirected_out holds exactly
 * once workers have stopped (and within one burst while they run); summed
 * over the workers the redirected counts cancel and rx == tx + sum(drops)
 * + reassembled + held.
 *
 * Counters are written by one worker only and read by the control core;
 * 64-bit aligned stores are atomic on the platforms DPDK supports, so the
 * reader needs no lock and sees values at most one burst old.
 */

#include <stdbool.h>
#include <stdint.h>

#define DATAPLANE_PORTS_MAX 8

enum drop_reason {
	DROP_TX_FULL,		/* peer TX queue stayed full after retries */
	DROP_OVERSIZE,		/* frame longer than the configured MTU allows */
	DROP_RECEIVE_ONLY,	/* tap or capture input: analysed, never sent */
	DROP_STATE_FULL,	/* fail closed: SMB candidate with no flow state */
	DROP_POLICY,		/* denied by the segment-pair policy */
	DROP_BAD_CHECKSUM,	/* inspected TCP segment with a wrong checksum */
	DROP_STREAM,		/* stream normalisation: inconsistent or unkept */
	/* IP fragments of TCP (dataplane/frag.h) */
	DROP_FRAG_REFUSED,	/* stream.fragments = "drop" */
	DROP_FRAG_INVALID,	/* overlapping, inconsistent or malformed */
	DROP_FRAG_INCOMPLETE,	/* datagram timed out, or unfinished at exit */
	DROP_FRAG_TABLE_FULL,	/* no room for another datagram */
	DROP_FRAG_NO_BUFFER,	/* no mbufs to re-fragment the datagram */
	/* Frames handed to the worker that owns their flow (worker.h) */
	DROP_REDIRECT_FULL,	/* the owner's redirect ring was full */
	DROP_REDIRECT_STOPPED,	/* still in a redirect ring at shutdown */
	DROP_REASON_MAX,
};

struct port_counters {
	uint64_t rx;
	uint64_t rx_bytes;
	uint64_t tx;		/* frames from this port sent out of its peer */
	uint64_t tx_bytes;
	uint64_t drops[DROP_REASON_MAX];
	/* Frames the gateway made (TCP resets) for this port's traffic; not
	 * received, so outside rx == tx + drops. */
	uint64_t resets_sent;
	uint64_t resets_unsent;		/* receive-only link, or TX full */
	/* Fragments forwarded as part of a reassembled datagram. */
	uint64_t reassembled;
	uint64_t held;			/* fragments waiting for the rest, now */
	uint64_t datagrams;		/* datagrams reassembled from fragments */
	/* Fragments made by re-fragmenting datagrams; not received, so
	 * outside the identity, like resets. */
	uint64_t refragmented_sent;
	uint64_t refragmented_unsent;
	/*
	 * Frames received on this port by one worker and handled by the
	 * worker that owns their flow (software flow affinity): the
	 * receiver counts rx and redirected_out, the owner redirected_in
	 * and what became of them. Summed over the workers, once the rings
	 * are empty, the two are equal.
	 */
	uint64_t redirected_out;
	uint64_t redirected_in;
};

/*
 * Why the decoder gave up on a frame: each malformed frame counts in
 * exactly one of these and in the total.
 */
enum decode_malformed {
	DECODE_TRUNCATED_L2,	/* Ethernet header or a VLAN tag cut short */
	DECODE_TRUNCATED_L3,	/* IP header, its options or an IPv6
				 * extension header cut short */
	DECODE_TRUNCATED_L4,	/* TCP or UDP header cut short */
	DECODE_BAD_IP_VERSION,	/* version field not that of the ethertype */
	DECODE_BAD_IP_HEADER_LENGTH,	/* IPv4 IHL under 5 words */
	DECODE_BAD_IP_TOTAL_LENGTH,	/* IPv4 total length (IPv6 payload
					 * length) shorter than the headers
					 * it must hold */
	DECODE_BAD_TCP_OFFSET,	/* data offset under 5 words, or past the
				 * IP payload */
	DECODE_BAD_IPV6_EXT_HEADER,	/* extension headers longer than the
					 * payload length */
	DECODE_MALFORMED_MAX,
};

/* What the L2-L4 decoder saw; a frame counts once in each row it fits. */
struct decode_counters {
	uint64_t vlan;		/* one 802.1Q tag */
	uint64_t qinq;		/* two or more tags */
	uint64_t arp;
	uint64_t ipv4;
	uint64_t ipv6;
	uint64_t other_l3;	/* neither IP nor ARP */
	uint64_t tcp;
	uint64_t udp;
	uint64_t other_l4;
	/* Tunnels followed (decode.h), each level once; and frames whose
	 * tunnel was not followed (GRE with routing or of another version
	 * or payload, too deep). A tunnel's datagram in IP fragments counts
	 * as fragments: it is followed once reassembled (frag.h). */
	uint64_t gre;
	uint64_t ip_in_ip;
	uint64_t tunnel_unread;
	uint64_t ip_fragments;	/* non-first fragments: no L4 header */
	uint64_t fragmented;	/* IP fragments, the first ones included */
	uint64_t malformed;	/* header lengths that do not fit the frame */
	uint64_t malformed_by[DECODE_MALFORMED_MAX];	/* ... by reason */
};

struct worker_counters {
	struct port_counters port[DATAPLANE_PORTS_MAX];
	struct decode_counters decode;
	uint64_t bursts;	/* receive calls that returned frames */
	uint64_t polls;		/* receive calls in all */
	uint64_t busy_cycles;	/* TSC cycles spent on received bursts */
};

/* Name of <reason> as printed and exported, e.g. "tx_full". */
const char *
drop_reason_name(enum drop_reason reason);

/* Name of <reason> as printed and exported, e.g. "bad_tcp_offset". */
const char *
decode_malformed_name(enum decode_malformed reason);

/* Sum of the drops of <port>. */
uint64_t
port_counters_drops(const struct port_counters *port);

/*
 * Whether <port> satisfies rx + redirected_in == tx + drops + reassembled
 * + held + redirected_out.
 */
bool
port_counters_balanced(const struct port_counters *port);

/* Adds <from> into <into>, field by field. */
void
worker_counters_add(struct worker_counters *into,
	const struct worker_counters *from);

#endif /* SMBGW_COUNTERS_H */
