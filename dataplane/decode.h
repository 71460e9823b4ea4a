/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_DECODE_H
#define SMBGW_DECODE_H

/*
 * L2-L4 decoding of one Ethernet frame from its bytes. No DPDK types: the
 * worker passes the first segment of an mbuf, offline mode a capture
 * record, tests a byte array. Only headers are read, and only within
 * <len>; payload offsets may point past a segment for the caller to walk.
 */

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"

enum decode_l3 {
	DECODE_L3_OTHER,
	DECODE_L3_ARP,
	DECODE_L3_IPV4,
	DECODE_L3_IPV6,
};

#define DECODE_TCP_FIN 0x01
#define DECODE_TCP_SYN 0x02
#define DECODE_TCP_RST 0x04
#define DECODE_TCP_ACK 0x10

/*
 * VLAN tags (802.1Q, 802.1ad, 0x9100) decoded before the network layer;
 * a deeper stack is not IP to the gateway. The worker affinity
 * (affinity.c) walks the same depth, so that every frame decoded as IP
 * reaches the worker of its address pair.
 */
#define DECODE_VLAN_TAGS_MAX 4

/*
 * IP tunnels followed to the packet they carry: IPv4 or IPv6 in IPv4 or
 * IPv6 (protocols 4 and 41) and GRE version 0 carrying IPv4, IPv6 or
 * Ethernet (RFC 2784/2890, transparent Ethernet bridging), nested up to
 * DECODE_TUNNEL_DEPTH_MAX, as a decapsulating host would. The fields
 * below then describe the innermost packet (addresses, offsets, L4),
 * which flows, parsers and policy see; the frame as a whole is forwarded
 * or dropped. An outer datagram in IP fragments is not followed (there
 * is no inner header to read until it is reassembled: frag.h takes it),
 * nor is GRE with a routing header or another version (PPTP's), or any
 * other payload: those count as tunnel_unread and stay what they are at
 * the outer level.
 */
#define DECODE_TUNNEL_DEPTH_MAX 4

/* Bits of decoded_frame.tunnel: the kinds of tunnel followed. */
enum decode_tunnel {
	DECODE_TUNNEL_NONE = 0,
	DECODE_TUNNEL_IP = 0x01,	/* IP in IP (protocols 4, 41) */
	DECODE_TUNNEL_GRE = 0x02,
};

struct decoded_frame {
	uint16_t l3_offset;	/* innermost IP header */
	uint16_t l4_offset;	/* valid when l4_proto != 0 */
	uint16_t payload_offset;	/* TCP/UDP payload */
	uint16_t ethertype;	/* innermost */
	uint16_t vlan_outer;	/* VLAN IDs, 0 when untagged */
	uint16_t vlan_inner;
	uint8_t vlan_count;
	uint8_t l3;		/* enum decode_l3 */
	uint8_t l4_proto;	/* IPPROTO_TCP, IPPROTO_UDP, ...; 0 if unknown */
	uint8_t tcp_flags;
	bool malformed;
	bool fragment;		/* not the first fragment: no L4 header */
	bool fragmented;	/* any fragment, the first included */
	uint8_t tunnel;		/* enum decode_tunnel bits; 0: none */
	/* With tunnel set: the outermost IP header, as l3 and l3_offset
	 * say it for a frame without one. */
	uint8_t outer_l3;
	uint8_t tunnel_depth;
	uint16_t outer_l3_offset;
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t payload_len;	/* L4 payload length claimed by IP */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint8_t src_addr[16];	/* IPv4 in the first 4 bytes */
	uint8_t dst_addr[16];
};

/*
 * Decodes the headers of the frame <frame> of <len> bytes (the bytes held
 * contiguously; the full frame may be longer) into <out>. Returns 0, or
 * -EINVAL when a header does not fit in <len> bytes or is inconsistent,
 * in which case <out> has what was decoded before the fault and
 * out->malformed is set. Counts what it saw in <counters> if not NULL.
 */
int
decode_frame(const uint8_t *frame, uint32_t len, struct decoded_frame *out,
	struct decode_counters *counters);

/* The IP header the frame is forwarded by: the outermost one. */
static inline uint16_t
decode_outer_l3_offset(const struct decoded_frame *f)
{
	return f->tunnel != DECODE_TUNNEL_NONE ? f->outer_l3_offset :
		f->l3_offset;
}

static inline uint8_t
decode_outer_l3(const struct decoded_frame *f)
{
	return f->tunnel != DECODE_TUNNEL_NONE ? f->outer_l3 : f->l3;
}

#endif /* SMBGW_DECODE_H */
