/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_INSPECT_H
#define SMBGW_INSPECT_H

/*
 * Per-worker session inspection: flow tracking, SMB/DCE-RPC
 * classification, parsing, watchlist tagging and events to the control
 * core. One inspector per worker (or per offline run), never shared.
 *
 * Per burst the worker decodes its frames and calls inspector_process(),
 * which looks TCP flows up in bulk and says, per frame, whether to forward
 * it or why to drop it. Non-TCP frames and flows known not to be SMB cost
 * the lookup and nothing more.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "chunk.h"
#include "counters.h"
#include "decode.h"
#include "quic.h"
#include "stream.h"

struct gw_event;
struct rte_mempool;
struct rte_ring;
struct policy_publisher;
struct watchlist;
struct watchlist_scratch;
struct flow_table;
struct flow_table_stats;
struct endpoint_registry;

/* How TCP checksums of inspected segments are checked. */
enum inspect_checksum {
	INSPECT_CHECKSUM_VERIFY,	/* a wrong checksum is a bad segment */
	/*
	 * As VERIFY, except that a checksum holding only the pseudo-header
	 * sum (what a sender's offload leaves for its NIC to finish, as in
	 * captures taken on the sending host) counts as unverifiable, not bad.
	 */
	INSPECT_CHECKSUM_AUTO,
	INSPECT_CHECKSUM_OFF,
};

enum inspect_fail_mode {
	INSPECT_FAIL_OPEN,	/* untrackable traffic is forwarded */
	INSPECT_FAIL_CLOSED,	/* untrackable SMB candidates are dropped */
};

struct inspector_params {
	unsigned int worker_id;
	uint32_t max_flows;
	uint32_t sessions;		/* parser states for SMB/DCE-RPC flows */
	uint32_t sessions_per_client;	/* states one client's flows may hold; 0: no cap */
	/*
	 * With no state free, a session not yet authenticated and without an
	 * SMB message for this long gives its state to a new flow.
	 */
	uint64_t session_idle_reclaim_ns;
	/*
	 * Bytes the sessions' tables (open files, trees, pending requests,
	 * named pipes) may take in all, and one session at most (0: no cap
	 * but the total); they grow into it on demand.
	 */
	size_t session_memory;
	uint32_t session_memory_max;
	uint32_t classify_packets;	/* payload packets examined on other ports */
	/*
	 * QUIC datagrams the reader may decrypt a second, a second's worth
	 * at once (0: INSPECT_QUIC_READS_PER_SECOND); past it they count as
	 * not read.
	 */
	uint32_t quic_reads_per_second;
	enum inspect_fail_mode fail_mode;
	uint64_t timeout_embryonic_ns;
	uint64_t timeout_established_ns;
	uint64_t timeout_closing_ns;
	uint64_t timeout_closed_ns;
	uint64_t timeout_udp_ns;
	uint64_t timeout_other_ns;
	struct rte_ring *events;	/* SP/SC ring of struct gw_event; may be NULL */
	/*
	 * Without a ring, events go straight to this function: for offline
	 * analysis, where the control side runs on the same thread.
	 */
	void (*event_fn)(void *ctx, const struct gw_event *ev);
	void *event_ctx;
	const struct watchlist *watchlist;	/* may be NULL */
	/* The segment-pair policy (NULL: allow everything); this worker is
	 * its reader worker_id. */
	struct policy_publisher *policy;
	struct rte_mempool *reset_pool;	/* TCP resets come from here */
	/*
	 * TCP stream normalisation of inspected flows (docs/policy.md):
	 * segments kept per worker and per direction of a connection, how
	 * long a hole may stay open before the fail mode decides, checksums.
	 */
	bool stream_normalise;
	uint32_t stream_segments;
	uint32_t stream_flow_segments;
	uint64_t stream_gap_timeout_ns;
	/* Segments one client's flows may keep ahead of holes; 0: no cap. */
	uint32_t stream_client_segments;
	enum inspect_checksum checksum;
	/*
	 * The gateway forwards what it receives (inline), so that it can
	 * drop what must not reach the receiver; false in tap and offline
	 * modes, where everything is judged and nothing is dropped.
	 */
	bool forwards;
	/*
	 * Learned DCE/RPC endpoints and the dynamic port ranges, shared by
	 * all workers (dataplane/endpoints.h); this worker writes table
	 * worker_id. NULL: the inspector keeps a private one-table registry
	 * with the defaults.
	 */
	struct endpoint_registry *endpoints;
	/*
	 * Flow-end events of tracked connections that are not SMB or
	 * DCE/RPC (SMB candidates let go, handshakes that never carried
	 * payload): every one (1), none (0), or one in N by flow id.
	 */
	uint32_t other_flow_records;
	/*
	 * The mbuf flag (inspect_capture_cut_flag()) the offline reader sets
	 * on frames a capture recorded shorter than they were sent; 0 where
	 * frames are whole (live). A payload shorter than its IP header says
	 * is then a cut, not a lie: the missing bytes are given up as a hole
	 * at once instead of waited for.
	 */
	uint64_t capture_cut_flag;
};

/* Frames the inspector made (TCP resets), to send with the burst. */
#define INSPECT_GENERATED_MAX 64

struct inspect_generated {
	uint16_t to_peer_count;		/* out through the peer port */
	uint16_t to_origin_count;	/* back out through the receiving port */
	struct rte_mbuf *to_peer[INSPECT_GENERATED_MAX];
	struct rte_mbuf *to_origin[INSPECT_GENERATED_MAX];
};

/* SMB dialects as counted; SMB1 and the SMB2/3 revisions. */
enum inspect_dialect {
	INSPECT_DIALECT_SMB1,
	INSPECT_DIALECT_202,
	INSPECT_DIALECT_210,
	INSPECT_DIALECT_300,
	INSPECT_DIALECT_302,
	INSPECT_DIALECT_311,
	INSPECT_DIALECT_OTHER,
	INSPECT_DIALECT_COUNT,
};

struct inspect_counters {
	uint64_t untracked;		/* candidate frames with no flow: table full */
	/*
	 * SYNs that found no flow and took none: the flow is created by the
	 * server's answer. Of them, refused by their pair's verdict.
	 */
	uint64_t syns_stateless;
	uint64_t syns_refused;
	uint64_t smb_flows_port;	/* SMB on 139/445 */
	uint64_t smb_flows_content;	/* SMB recognised on another port */
	uint64_t dcerpc_flows_port;	/* DCE/RPC on 135 */
	uint64_t dcerpc_flows_content;	/* DCE/RPC recognised on another port */
	uint64_t dcerpc_flows_epm;	/* DCE/RPC to a learned endpoint */
	uint64_t endpoints_learned;	/* new endpoints from ept_map / DCOM */
	uint64_t endpoints_renewed;	/* endpoints named again */
	uint64_t endpoints_evicted;	/* unexpired endpoints pushed out */
	uint64_t dcerpc_auth_users;	/* NTLMSSP users in DCE/RPC auth */
	uint64_t not_smb_flows;		/* examined and let go to the fast path */
	uint64_t sessions_exhausted;	/* SMB flows that found no state free */
	uint64_t sessions_client_capped;	/* ... or whose client was at its cap */
	uint64_t sessions_reclaimed;	/* idle states taken for new flows */
	uint64_t sessions_refused;	/* flows without state denied (or fail closed) */
	uint64_t sessions_unparsed;	/* flows without state forwarded unparsed */
	uint64_t smb_dialects[INSPECT_DIALECT_COUNT];
	uint64_t smb_messages;		/* SMB1 commands and SMB2 messages */
	uint64_t smb_encrypted;		/* sealed records */
	uint64_t smb_compressed;	/* compressed records (0xFC) */
	uint64_t smb_compressed_unverifiable;	/* ... not inflated and judged */
	uint64_t parser_errors;		/* SMB and DCE/RPC error facts */
	uint64_t parser_resyncs;
	uint64_t payload_bytes;		/* fed to the parsers */
	uint64_t retransmitted_bytes;	/* DCE/RPC over TCP, already seen */
	uint64_t events;		/* queued to the control core */
	uint64_t events_dropped;	/* ring full */
	uint64_t policy_allowed;	/* flows allowed by their pair */
	uint64_t policy_denied;		/* flows blocked by their pair */
	uint64_t policy_monitored;	/* flows under a monitor rule */
	uint64_t policy_would_deny;	/* monitor-only: denials not enforced */
	uint64_t policy_smb_denied;	/* connections blocked at an SMB message */
	uint64_t policy_datagrams_denied;	/* NetBIOS datagrams dropped */
	/*
	 * Connections judged where their messages became unreadable (first
	 * sealed record, or a compressed message not inflated) on a pair
	 * with deny rules they could slip past: refused, let through, or
	 * let through and reported (monitor, or a deny in monitor-only).
	 */
	uint64_t unverifiable_denied;
	uint64_t unverifiable_allowed;
	uint64_t unverifiable_monitored;
	/*
	 * SMB over QUIC (inspect_quic.c): client Initial datagrams read,
	 * hellos offering SMB and others (retransmissions not counted),
	 * Initials that do not decrypt (servers' included), first flights
	 * not read (a later piece without its start, a hello too large, an
	 * Initial in IP fragments, differing bytes, past the budget), the
	 * reader's table of unfinished hellos, and the datagrams dropped:
	 * SMB refused by the policy, first flights not read on pairs where
	 * SMB would be refused.
	 */
	uint64_t quic_initials;
	uint64_t quic_smb_hellos;
	uint64_t quic_other_hellos;
	uint64_t quic_unreadable;
	uint64_t quic_orphans;
	uint64_t quic_too_large;
	uint64_t quic_fragmented;	/* Initials sent in IP fragments */
	uint64_t quic_conflicts;	/* hello bytes sent twice, differing */
	uint64_t quic_over_budget;	/* past quic_reads_per_second */
	uint64_t quic_pending_evicted;
	uint64_t quic_pending_expired;
	uint64_t quic_smb_denied;
	uint64_t quic_unread_denied;
	uint64_t resets;		/* TCP resets made */
	uint64_t resets_failed;		/* no buffer, or no room in the burst */
	/* Stream normalisation of inspected flows. */
	uint64_t bad_checksums;		/* payload segments with a wrong TCP checksum */
	uint64_t checksums_offloaded;	/* auto: left for a NIC, not verifiable */
	uint64_t stream_no_room_drops;	/* segments dropped: keep budget spent */
	uint64_t stream_gap_resets;	/* holes past the timeout, fail closed */
	uint64_t stream_unjudged;	/* holes past the timeout, fail open */
	uint64_t stream_client_capped;	/* segments ahead refused: client's share */
	uint64_t stream_unseen_drops;	/* never-judged old bytes, not acknowledged */
	uint64_t stream_cut_short;	/* payload segments a capture cut short */
	struct stream_counters stream;	/* what the normaliser saw */
	/* The sessions' table memory (classes SMB_CHUNK_*): held, refused. */
	struct chunk_counters session_memory;
};

struct inspector;

/* flows.quic_hellos_per_second's default */
#define INSPECT_QUIC_READS_PER_SECOND	20000

/* Bits of the per-port flags (inspector_port_flags()). */
#define INSPECT_PORT_WATCHED	0x01	/* 139, 445, 135 */
#define INSPECT_PORT_CONTENT	0x02	/* SMB or RPC found by content here */
#define INSPECT_PORT_DATAGRAM	0x04	/* UDP 137, 138 (with a policy) */

/*
 * A UDP datagram that may hold a QUIC client Initial (SMB over QUIC,
 * inspect_quic.c): a long header of a version read, 1,200 bytes at least.
 */
static inline bool
inspect_maybe_quic(const struct rte_mbuf *m, const struct decoded_frame *f)
{
	uint32_t datagram = f->payload_len;
	const uint8_t *p;

	/* Most UDP ends here: too short for a client Initial. */
	if ((datagram < QUIC_MIN_CLIENT_DATAGRAM && !f->fragmented) ||
			f->payload_offset < 8 ||
			(uint32_t)f->payload_offset + 7 > m->data_len)
		return false;
	p = rte_pktmbuf_mtod_offset(m, const uint8_t *, f->payload_offset);
	/* A first IP fragment: the datagram's length is the UDP header's. */
	if (f->fragmented) {
		uint32_t udp_len = (uint32_t)p[-4] << 8 | p[-3];

		datagram = udp_len >= 8 ? udp_len - 8 : 0;
	}
	return datagram >= QUIC_MIN_CLIENT_DATAGRAM &&
		quic_maybe_long_header(p, 7);
}

/*
 * Whether frame <f> (<m>) may concern an SMB or DCE/RPC conversation: TCP
 * to or from a flagged port, or a payload whose first byte could start an
 * NBSS message or a DCE/RPC PDU; UDP to or from NetBIOS datagram ports,
 * or a QUIC client Initial. False for everything the fast path lets
 * through without a flow lookup; <port_flags> from inspector_port_flags().
 */
static inline bool
inspect_maybe_candidate(const uint8_t *port_flags, const struct rte_mbuf *m,
	const struct decoded_frame *f)
{
	const uint8_t *p;
	uint32_t len;

	if (f->malformed || f->fragment)
		return false;
	/* NetBIOS datagrams follow the policy; SMB over QUIC is read. */
	if (f->l4_proto == IPPROTO_UDP)
		return ((port_flags[f->src_port] | port_flags[f->dst_port]) &
			INSPECT_PORT_DATAGRAM) || inspect_maybe_quic(m, f);
	if (f->l4_proto != IPPROTO_TCP)
		return false;
	if (((port_flags[f->src_port] | port_flags[f->dst_port]) &
			~INSPECT_PORT_DATAGRAM) != 0)
		return true;
	if (f->payload_len == 0 || f->payload_offset >= m->data_len)
		return false;
	p = rte_pktmbuf_mtod_offset(m, const uint8_t *, f->payload_offset);
	len = RTE_MIN(f->payload_len, (uint32_t)m->data_len - f->payload_offset);
	/* An NBSS session message carries "SMB" after its magic byte. */
	if (p[0] == 0x00)
		return len >= 8 && p[5] == 'S' && p[6] == 'M' && p[7] == 'B';
	/* Other NBSS message types, or DCE/RPC version 5. */
	return p[0] == 0x05 || (p[0] >= 0x81 && p[0] <= 0x85);
}

/* The per-port flags of <ins>, read-only, valid for its life. */
const uint8_t *
inspector_port_flags(const struct inspector *ins);

/*
 * The ol_flags bit that marks an mbuf whose frame a capture recorded
 * shorter than it was sent (snap length), registered as a dynamic mbuf
 * flag on the first call (after the EAL is up); 0 when none is free.
 */
uint64_t
inspect_capture_cut_flag(void);

/*
 * Creates an inspector with the flow table and parser states <params>
 * asks for (memory is allocated and touched here, never in the data
 * path). Returns NULL and sets errno (EINVAL for bad parameters, ENOMEM)
 * on failure.
 */
struct inspector *
inspector_create(const struct inspector_params *params);

/* Frees <ins>, its flow table and parser states; NULL is ignored. */
void
inspector_free(struct inspector *ins);

/*
 * Inspects the frames <pkts>[0..<count>) decoded into <frames>, with each
 * frame's time in <ts_ns> (or <now_ns> for all when NULL). <verdicts>
 * holds DROP_REASON_MAX for each frame to forward, or a drop reason; frames
 * already dropped are passed over, and a frame the inspector drops gets
 * its reason written. TCP resets the policy asks for are appended to
 * <generated> (zeroed by the caller).
 */
void
inspector_process(struct inspector *ins, struct rte_mbuf **pkts,
	const struct decoded_frame *frames, uint16_t count,
	const uint64_t *ts_ns, uint64_t now_ns, uint8_t *verdicts,
	struct inspect_generated *generated);

/*
 * The worker's side of the policy's RCU: online before its loop, offline
 * after it (a reader left online would stall every reload).
 */
void
inspector_online(struct inspector *ins);

void
inspector_offline(struct inspector *ins);

/*
 * Ages flows idle past their timeout, with bounded work, and reports the
 * worker quiescent to the policy's RCU: call once each loop pass.
 */
void
inspector_expire(struct inspector *ins, uint64_t now_ns);

/*
 * Whether the policy <ins> reads is in enforce mode (true without a
 * policy). For the worker's own drops, e.g. of IP fragments.
 */
bool
inspector_enforcing(const struct inspector *ins);

/* Ends every flow (flow-end events included), e.g. at shutdown. */
void
inspector_flush(struct inspector *ins);

const struct inspect_counters *
inspector_counters(const struct inspector *ins);

/* Copies the flow table's counters into <stats>. */
void
inspector_flow_stats(const struct inspector *ins,
	struct flow_table_stats *stats);

/* The worker's watchlist counters (NULL without a watchlist). */
const struct watchlist_scratch *
inspector_watch_scratch(const struct inspector *ins);

/* Names <dialect> as printed: "smb1", "2.1", "3.1.1", ... */
const char *
inspect_dialect_name(enum inspect_dialect dialect);

/* The dialect a negotiated SMB dialect code counts as. */
enum inspect_dialect
inspect_dialect_of(uint16_t code);

#endif /* SMBGW_INSPECT_H */
