/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_EVENT_H
#define SMBGW_EVENT_H

/*
 * The record a worker sends to the control core: small (EVENT_SIZE bytes),
 * fixed size, timestamped, with both endpoints oriented client to server,
 * the VLAN, the flow id and one fact. Workers copy events into a
 * single-producer/single-consumer ring and never wait: a full ring is
 * counted per worker.
 *
 * Strings are NUL-terminated UTF-8, already bounded by the parsers; names
 * of interfaces and operations point to static tables of the parser
 * library, valid for the life of the process.
 */

#include <stdint.h>

#define EVENT_SIZE		1024
#define EVENT_ACCOUNT_MAX	64
#define EVENT_SHARE_MAX		80
#define EVENT_NAME_MAX		256
#define EVENT_COMMAND_MAX	384
#define EVENT_QUIC_ALPN_MAX	64

enum event_kind {
	EVENT_FLOW = 1,		/* subtype: enum event_flow_type */
	EVENT_SMB,		/* subtype: enum smb_fact_type */
	EVENT_DCERPC,		/* subtype: enum dcerpc_fact_type (over TCP or a pipe) */
	EVENT_POLICY,		/* subtype: enum event_policy_scope */
};

/* What a policy decision was about. */
enum event_policy_scope {
	EVENT_POLICY_PAIR = 1,	/* the segment pair of a connection */
	EVENT_POLICY_SMB,	/* an SMB message met a conditional rule */
	EVENT_POLICY_DATAGRAM,	/* a NetBIOS datagram (UDP 137/138) */
	/*
	 * A connection the parser has no state for, judged by the strictest
	 * verdict its pair could reach (an SMB-level deny: refused).
	 */
	EVENT_POLICY_NO_STATE,
};

/* Why a session's messages cannot be judged (event_policy.unverifiable). */
enum event_unverifiable {
	EVENT_UNVERIFIABLE_NONE = 0,
	EVENT_UNVERIFIABLE_ENCRYPTED,	/* the first sealed record */
	EVENT_UNVERIFIABLE_COMPRESSED,	/* a message the parser cannot inflate */
	EVENT_UNVERIFIABLE_QUIC,	/* SMB over QUIC: TLS from the start */
};

/* What the gateway did, as reported (EVE "action", the report). */
enum event_action {
	EVENT_ACTION_ALLOWED = 0,
	EVENT_ACTION_DENIED,	/* blocked */
	EVENT_ACTION_MONITORED,	/* forwarded and reported: a monitor rule,
				 * or a deny in monitor-only mode */
};

#define EVENT_SEGMENT_MAX 32

enum event_flow_type {
	EVENT_FLOW_CLASSIFIED = 1,	/* became SMB or DCE/RPC */
	EVENT_FLOW_END,			/* left the flow table */
	/*
	 * The TCP stream showed something the normaliser acted on:
	 * u.flow.end_reason holds an enum event_stream_anomaly, u.flow.action
	 * whether the segment was dropped; EVENT_F_RESPONSE: server to client.
	 */
	EVENT_FLOW_STREAM,
};

enum event_stream_anomaly {
	/* a retransmission or overlap with bytes other than those judged */
	EVENT_STREAM_CONFLICT = 1,
	/* a hole stayed open past stream.gap_timeout_ms */
	EVENT_STREAM_GAP_TIMEOUT,
};

/* How a flow's application was recognised. */
enum event_detect_method {
	EVENT_DETECT_NONE = 0,
	EVENT_DETECT_PORT,	/* TCP 139, 445 or 135 */
	EVENT_DETECT_CONTENT,	/* NBSS + SMB magic or a DCE/RPC header on another port */
	/* DCE/RPC to an endpoint an ept_map or DCOM answer named */
	EVENT_DETECT_EPM,
};

/* Bits of gw_event.flags. */
#define EVENT_F_RESPONSE	0x0001	/* server to client */
#define EVENT_F_NONSTANDARD_PORT 0x0002	/* SMB or DCE/RPC on an unexpected port */
#define EVENT_F_ON_PIPE		0x0004	/* DCE/RPC carried on an SMB named pipe */
#define EVENT_F_TRUNCATED	0x0008	/* a string was cut to fit */
/* Flow events: the connection carried SMB or DCE/RPC payload, or was
 * judged by the policy; the daily report counts it. */
#define EVENT_F_REPORTED	0x0010
/*
 * A UDP connection: SMB over QUIC (dataplane/inspect_quic.c), the only
 * UDP connections reported; u.flow's quic_* fields hold its hello.
 */
#define EVENT_F_QUIC		0x0020
/* The connection's packets came inside IP-in-IP or GRE tunnels
 * (dataplane/decode.h); its addresses are those inside. */
#define EVENT_F_TUNNEL_IP	0x0040
#define EVENT_F_TUNNEL_GRE	0x0080

struct event_flow {
	uint8_t app;		/* enum flow_app_class */
	uint8_t method;		/* enum event_detect_method */
	uint8_t end_reason;	/* enum flow_remove_reason (END only) */
	uint8_t action;		/* enum event_action of the policy */
	uint16_t dialect;	/* SMB dialect negotiated, 0 if unseen */
	uint8_t tcp_state;	/* enum flow_tcp_state when it was sent */
	uint16_t rule;		/* END: policy rule that decided (1-based), 0 none */
	uint64_t first_seen_ns;
	uint64_t packets[2];	/* client to server, server to client */
	uint64_t bytes[2];
	/* END: the segments of the two ends under the current policy. */
	char client_segment[EVENT_SEGMENT_MAX];
	char server_segment[EVENT_SEGMENT_MAX];
	/* EVENT_F_QUIC: the version and the hello's server name and ALPN. */
	uint32_t quic_version;
	char quic_sni[EVENT_NAME_MAX];
	char quic_alpn[EVENT_QUIC_ALPN_MAX];	/* ids offered, "," between */
};

struct event_smb {
	uint8_t version;	/* 1 or 2 (SMB2/3) */
	uint8_t success;	/* LOGON */
	uint8_t is_pipe;	/* CREATE and file facts */
	uint8_t share_type;	/* TREE_CONNECT */
	uint16_t dialect;	/* NEGOTIATE chosen, or the connection's */
	uint16_t session_flags;	/* LOGON */
	uint8_t auth;		/* LOGON: SMB_AUTH_* (NTLMSSP, Kerberos, ...) */
	uint32_t desired_access;
	uint32_t disposition;
	uint32_t options;
	uint32_t length;	/* READ, WRITE, IOCTL */
	uint64_t offset;
	uint64_t session_id;
	uint64_t message_id;
	uint32_t tree_id;
	uint8_t file_id[16];
	char user[EVENT_ACCOUNT_MAX];
	char domain[EVENT_ACCOUNT_MAX];
	char workstation[EVENT_ACCOUNT_MAX];
	char share[EVENT_SHARE_MAX];
	char name[EVENT_NAME_MAX];	/* tree path, file or pipe name */
};

struct event_dcerpc {
	const char *interface;	/* static, or NULL if unknown */
	const char *operation;	/* static, or NULL */
	uint8_t iface_uuid[16];
	uint16_t opnum;
	uint16_t context_id;
	uint32_t call_id;
	uint32_t stub_len;
	uint8_t args;		/* enum dcerpc_args */
	uint8_t auth_level;	/* REQUEST: 6 = packet privacy (sealed stub) */
	uint16_t rpc_flags;	/* DCERPC_FACT_F_* of the fact */
	char pipe[EVENT_SHARE_MAX];	/* the named pipe, when on one */
	char name[EVENT_NAME_MAX];	/* service or task name */
	char command[EVENT_COMMAND_MAX];	/* binary path or job command */
	/* DCERPC_FACT_AUTH: the NTLMSSP names (workstation in name). */
	char user[EVENT_ACCOUNT_MAX];
	char domain[EVENT_ACCOUNT_MAX];
};

struct event_policy {
	uint8_t action;		/* enum event_action: what was done */
	uint8_t rule_action;	/* enum policy_action of the rule */
	uint8_t reset;		/* resets sent (or, monitor-only, would be) */
	uint8_t enforced;	/* 0 in monitor-only mode */
	uint16_t rule;		/* 1-based rule position; 0 default action */
	/*
	 * SMB scope: enum event_unverifiable when the decision is about a
	 * session the gateway cannot read; with unverifiable_action set, the
	 * pair's unverifiable action decided, because of deny rule <rule>.
	 */
	uint8_t unverifiable;
	uint8_t unverifiable_action;
	uint32_t generation;	/* of the policy that decided */
	char client_segment[EVENT_SEGMENT_MAX];
	char server_segment[EVENT_SEGMENT_MAX];
};

struct gw_event {
	uint64_t ts_ns;
	uint64_t flow_id;
	uint8_t client_addr[16];	/* IPv4 in the first 4 bytes */
	uint8_t server_addr[16];
	uint16_t client_port;
	uint16_t server_port;
	uint16_t vlan_outer;
	uint16_t vlan_inner;
	uint8_t ip_version;
	uint8_t worker;
	uint8_t kind;		/* enum event_kind */
	uint8_t subtype;
	uint16_t flags;		/* EVENT_F_* */
	uint16_t command;	/* SMB command, or DCE/RPC packet type */
	uint32_t status;	/* NT status, RPC fault or bind result */
	uint32_t watch_classes;	/* watchlist classes matched by the names */
	union {
		struct event_flow flow;
		struct event_smb smb;
		struct event_dcerpc dcerpc;
		struct event_policy policy;
		uint8_t raw[EVENT_SIZE - 72];
	} u;
};

_Static_assert(sizeof(struct gw_event) == EVENT_SIZE,
	"struct gw_event must keep its fixed size");

#endif /* SMBGW_EVENT_H */
