/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>

#include "inspect_pvt.h"

static uint16_t
server_port_of(const struct flow_entry *flow)
{
	struct flow_key key;

	flow_entry_key(flow, &key);
	return key.dst_port;
}

/* The flow no longer counts as recognised by content on its port. */
void
forget_content_port(struct inspector *ins, struct flow_entry *flow)
{
	if (flow->detect_method == EVENT_DETECT_CONTENT &&
			is_session_app(flow->app_class)) {
		uint16_t port = server_port_of(flow);

		if (--ins->content_ports[port] == 0)
			ins->port_flags[port] &= ~INSPECT_PORT_CONTENT;
	}
}

static bool
is_smb_port(uint16_t port)
{
	return port == PORT_SMB || port == PORT_NETBIOS_SSN;
}

/*
 * Whether <flow>'s server is an endpoint some worker learned from an
 * ept_map or DCOM answer; fills <info> (may be NULL).
 */
bool
learned_interface(struct inspector *ins, const struct flow_entry *flow,
	uint64_t ts_ns, struct endpoint_info *info)
{
	struct flow_key key;

	flow_entry_key(flow, &key);
	if (key.proto != IPPROTO_TCP)
		return false;
	return endpoint_lookup(ins->endpoints, ins->endpoint_table,
		key.dst_addr, key.ip_version, key.dst_port, ts_ns, info);
}

/*
 * Remembers the TCP endpoint of an ENDPOINT fact. An answer that names no
 * address (tower IP 0.0.0.0, a host name) means the server that answered.
 */
void
learn_endpoint(struct inspector *ins, const struct flow_entry *flow,
	const struct dcerpc_fact *rpc)
{
	const struct dcerpc_endpoint *ep = &rpc->endpoint;
	const uint8_t *addr = ep->addr;
	uint8_t ip_version = ep->ip_version;
	struct flow_key key;

	if (ip_version == 0) {
		flow_entry_key(flow, &key);
		addr = key.dst_addr;
		ip_version = key.ip_version;
	}
	switch (endpoint_learn(ins->endpoints, ins->endpoint_table, addr,
			ip_version, ep->port, ep->iface_uuid,
			ep->iface_ver_major, rpc->ts_ns)) {
	case ENDPOINT_LEARNED:
		ins->counters.endpoints_learned++;
		break;
	case ENDPOINT_EVICTED:
		ins->counters.endpoints_learned++;
		ins->counters.endpoints_evicted++;
		break;
	case ENDPOINT_RENEWED:
		ins->counters.endpoints_renewed++;
		break;
	default:
		break;
	}
}

/*
 * Whether DCE/RPC is normal on server port <port>: the RPC over HTTP
 * proxy, or the configured dynamic ranges Windows hands ports out of (135
 * is classified by port before this). Elsewhere (80, 443, 22, ...) no
 * Windows service listens, and RPC there is flagged.
 */
static bool
rpc_port_expected(const struct inspector *ins, uint16_t port)
{
	return port == PORT_RPC_OVER_HTTP ||
		endpoint_port_dynamic(ins->endpoints, port);
}

void
classify_by_port(struct inspector *ins, struct flow_entry *flow,
	const struct decoded_frame *frame, uint64_t ts_ns)
{
	if (is_smb_port(frame->src_port) || is_smb_port(frame->dst_port)) {
		flow->app_class = FLOW_APP_SMB;
		flow->detect_method = EVENT_DETECT_PORT;
		ins->counters.smb_flows_port++;
	} else if (frame->src_port == PORT_EPMAP ||
			frame->dst_port == PORT_EPMAP) {
		flow->app_class = FLOW_APP_DCERPC;
		flow->detect_method = EVENT_DETECT_PORT;
		ins->counters.dcerpc_flows_port++;
	} else if (learned_interface(ins, flow, ts_ns, NULL)) {
		/* Known before any payload: a connection whose BIND is
		 * missed (picked up late) is still DCE/RPC. */
		flow->app_class = FLOW_APP_DCERPC;
		flow->detect_method = EVENT_DETECT_EPM;
		ins->counters.dcerpc_flows_epm++;
	} else {
		flow->app_class = FLOW_APP_PENDING;
		return;
	}
}

/*
 * On other ports, the first payload bytes decide: an NBSS header with an
 * SMB magic is tunnelled SMB, a DCE/RPC header is RPC on a dynamic port.
 * After classify_packets payloads with neither, the flow is let go.
 */
void
classify_by_content(struct inspector *ins, struct flow_entry *flow,
	const struct rte_mbuf *m, const struct decoded_frame *frame)
{
	const uint8_t *payload;
	uint32_t len;

	if (frame->payload_len == 0 || frame->payload_offset >= m->data_len)
		return;
	payload = rte_pktmbuf_mtod_offset(m, const uint8_t *,
		frame->payload_offset);
	len = RTE_MIN(frame->payload_len,
		(uint32_t)m->data_len - frame->payload_offset);

	if (smb_looks_like_smb(payload, len)) {
		flow->app_class = FLOW_APP_SMB;
		ins->counters.smb_flows_content++;
	} else if (dcerpc_looks_like_pdu(payload, len)) {
		flow->app_class = FLOW_APP_DCERPC;
		ins->counters.dcerpc_flows_content++;
	} else {
		uint8_t examined = (flow->user_flags & USER_EXAMINED_MASK) + 1;

		flow->user_flags = (flow->user_flags & ~USER_EXAMINED_MASK) |
			(examined & USER_EXAMINED_MASK);
		if (examined >= ins->params.classify_packets) {
			flow->app_class = FLOW_APP_NOT_SMB;
			ins->counters.not_smb_flows++;
		}
		return;
	}
	flow->detect_method = EVENT_DETECT_CONTENT;
	{
		uint16_t port = server_port_of(flow);

		/* SMB belongs on 139 and 445 only (T1572 when elsewhere);
		 * DCE/RPC also on the ports Windows services use. */
		if (flow->app_class == FLOW_APP_SMB ||
				!rpc_port_expected(ins, port))
			flow->user_flags |= USER_NONSTANDARD_PORT;
		ins->content_ports[port]++;
		ins->port_flags[port] |= INSPECT_PORT_CONTENT;
	}
}


/* The part of content_sender() past the first-byte filter. */
static int __attribute__((noinline))
content_sender_slow(const uint8_t *p, uint32_t len)
{
	if (smb_looks_like_smb(p, len)) {
		if (p[0] == 0x81)	/* NBSS session request */
			return FLOW_KEY_SENDER_CLIENT;
		if (p[0] != 0x00)
			return FLOW_KEY_SENDER_SERVER;
		if (p[4] == 0xfe && len >= 4 + 20)	/* SMB2 Flags bit 0 */
			return p[4 + 16] & 0x01 ? FLOW_KEY_SENDER_SERVER :
				FLOW_KEY_SENDER_CLIENT;
		if (p[4] == 0xff && len >= 4 + 10)	/* SMB1 Flags bit 7 */
			return p[4 + 9] & 0x80 ? FLOW_KEY_SENDER_SERVER :
				FLOW_KEY_SENDER_CLIENT;
		return 0;
	}
	if (dcerpc_looks_like_pdu(p, len)) {
		switch (p[2]) {
		case DCERPC_PTYPE_REQUEST:
		case DCERPC_PTYPE_BIND:
		case DCERPC_PTYPE_ALTER_CONTEXT:
		case DCERPC_PTYPE_AUTH3:
			return FLOW_KEY_SENDER_CLIENT;
		default:
			return FLOW_KEY_SENDER_SERVER;
		}
	}
	return -1;
}

/*
 * Whether the payload of <frame> starts like SMB or DCE/RPC: -1 if not,
 * else who sent it as FLOW_KEY_SENDER_* (0 when the header does not say).
 * Only for frames inspect_maybe_candidate() let through on their payload.
 */
int
content_sender(const struct rte_mbuf *m, const struct decoded_frame *frame)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *,
		frame->payload_offset);
	uint32_t len = RTE_MIN(frame->payload_len,
		(uint32_t)m->data_len - frame->payload_offset);

	return content_sender_slow(p, len);
}
