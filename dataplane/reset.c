/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "reset.h"

#define RESET_TTL 64
#define ETHER_MIN_FRAME 60

/* Sequence space a segment takes: its payload, plus SYN and FIN. */
static uint32_t
segment_length(const struct decoded_frame *frame)
{
	return frame->payload_len +
		((frame->tcp_flags & DECODE_TCP_SYN) ? 1 : 0) +
		((frame->tcp_flags & DECODE_TCP_FIN) ? 1 : 0);
}

static void
fill_tcp(struct rte_tcp_hdr *tcp, const struct decoded_frame *frame,
	enum reset_target target)
{
	memset(tcp, 0, sizeof(*tcp));
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	if (target == RESET_TO_RECEIVER) {
		tcp->src_port = rte_cpu_to_be_16(frame->src_port);
		tcp->dst_port = rte_cpu_to_be_16(frame->dst_port);
		tcp->sent_seq = rte_cpu_to_be_32(frame->tcp_seq);
		tcp->recv_ack = rte_cpu_to_be_32(frame->tcp_ack);
		tcp->tcp_flags = RTE_TCP_RST_FLAG |
			((frame->tcp_flags & DECODE_TCP_ACK) ? RTE_TCP_ACK_FLAG : 0);
		return;
	}
	tcp->src_port = rte_cpu_to_be_16(frame->dst_port);
	tcp->dst_port = rte_cpu_to_be_16(frame->src_port);
	tcp->recv_ack = rte_cpu_to_be_32(frame->tcp_seq +
		segment_length(frame));
	tcp->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	/* A SYN's sender has no sequence of ours yet: it checks the ACK. */
	if (frame->tcp_flags & DECODE_TCP_ACK)
		tcp->sent_seq = rte_cpu_to_be_32(frame->tcp_ack);
}

struct rte_mbuf *
reset_build(struct rte_mempool *pool, const struct rte_mbuf *trigger,
	const struct decoded_frame *frame, enum reset_target target)
{
	const uint8_t *in = rte_pktmbuf_mtod(trigger, const uint8_t *);
	uint16_t l2_len = frame->l3_offset;
	uint16_t l3_len = frame->l3 == DECODE_L3_IPV6 ?
		sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint16_t len = l2_len + l3_len + sizeof(struct rte_tcp_hdr);
	struct rte_tcp_hdr *tcp;
	struct rte_mbuf *m;
	uint8_t *out;

	/* Inside a tunnel the reset would need the tunnel's headers too. */
	if (frame->l4_proto != IPPROTO_TCP || frame->malformed ||
			frame->fragment || frame->tunnel != DECODE_TUNNEL_NONE ||
			l2_len > trigger->data_len ||
			(frame->l3 != DECODE_L3_IPV4 && frame->l3 != DECODE_L3_IPV6))
		return NULL;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	out = (uint8_t *)rte_pktmbuf_append(m, RTE_MAX(len,
		(uint16_t)ETHER_MIN_FRAME));
	if (out == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(out, 0, RTE_MAX(len, (uint16_t)ETHER_MIN_FRAME));

	/* Ethernet header and VLAN tags as they were, MACs swapped back. */
	memcpy(out, in, l2_len);
	if (target == RESET_TO_SENDER) {
		memcpy(out, in + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
		memcpy(out + RTE_ETHER_ADDR_LEN, in, RTE_ETHER_ADDR_LEN);
	}
	tcp = (struct rte_tcp_hdr *)(out + l2_len + l3_len);
	fill_tcp(tcp, frame, target);

	if (frame->l3 == DECODE_L3_IPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(out + l2_len);
		const uint8_t *src = target == RESET_TO_RECEIVER ?
			frame->src_addr : frame->dst_addr;
		const uint8_t *dst = target == RESET_TO_RECEIVER ?
			frame->dst_addr : frame->src_addr;

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(l3_len + sizeof(*tcp));
		ip->time_to_live = RESET_TTL;
		ip->next_proto_id = IPPROTO_TCP;
		memcpy(&ip->src_addr, src, 4);
		memcpy(&ip->dst_addr, dst, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(out + l2_len);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*tcp));
		ip->proto = IPPROTO_TCP;
		ip->hop_limits = RESET_TTL;
		memcpy(ip->src_addr, target == RESET_TO_RECEIVER ?
			frame->src_addr : frame->dst_addr, 16);
		memcpy(ip->dst_addr, target == RESET_TO_RECEIVER ?
			frame->dst_addr : frame->src_addr, 16);
		tcp->cksum = rte_ipv6_udptcp_cksum(ip, tcp);
	}
	return m;
}
