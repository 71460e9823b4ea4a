/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's stats command: every counter of the data plane
 * (through the gateway's data plane view), the control socket and the
 * outputs, as one reply.
 */
#include <string.h>

#include "flowlog.h"
#include "gateway_pvt.h"
#include "monitor.h"
#include "smb.h"
#include "stats.h"

static void
reply_ports(const struct gateway *gw, struct ctl_reply *r,
	const struct worker_counters *total)
{
	const struct gateway_dataplane *dp = &gw->dataplane;
	unsigned int i, d;

	ctl_reply_array_begin(r, "ports");
	for (i = 0; i < dp->port_count; i++) {
		const struct port_counters *pc = &total->port[i];
		struct gateway_device_counters dev;

		ctl_reply_object_begin(r, NULL);
		ctl_reply_str(r, "port", dp->port_names[i]);
		ctl_reply_u64(r, "rx", pc->rx);
		ctl_reply_u64(r, "tx", pc->tx);
		for (d = 0; d < DROP_REASON_MAX; d++)
			ctl_reply_u64(r, drop_reason_name(d), pc->drops[d]);
		ctl_reply_u64(r, "reassembled", pc->reassembled);
		ctl_reply_u64(r, "held", pc->held);
		ctl_reply_u64(r, "datagrams", pc->datagrams);
		ctl_reply_u64(r, "refragmented_sent", pc->refragmented_sent);
		ctl_reply_u64(r, "refragmented_unsent",
			pc->refragmented_unsent);
		ctl_reply_u64(r, "redirected_out", pc->redirected_out);
		ctl_reply_u64(r, "redirected_in", pc->redirected_in);
		ctl_reply_bool(r, "balanced", port_counters_balanced(pc));
		if (dp->device(dp->ctx, i, &dev)) {
			ctl_reply_u64(r, "device_imissed", dev.imissed);
			ctl_reply_u64(r, "device_rx_nombuf", dev.rx_nombuf);
			ctl_reply_u64(r, "device_oerrors", dev.oerrors);
		}
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
}

/*
 * Worker <w>'s queue of every port: per port and queue, rx + redirected_in
 * == tx + drops + reassembled + held + redirected_out (without redirect,
 * rx == tx + drops), so a queue that loses frames shows alone.
 */
static void
reply_queues(const struct gateway *gw, struct ctl_reply *r, unsigned int w,
	const struct gateway_worker_counters *wc)
{
	const struct gateway_dataplane *dp = &gw->dataplane;
	unsigned int i;

	ctl_reply_array_begin(r, "queues");
	for (i = 0; i < dp->port_count && i < DATAPLANE_PORTS_MAX; i++) {
		const struct port_counters *q = &wc->queue[i];

		ctl_reply_object_begin(r, NULL);
		ctl_reply_str(r, "port", dp->port_names[i]);
		ctl_reply_u64(r, "queue", w);
		ctl_reply_u64(r, "rx", q->rx);
		ctl_reply_u64(r, "tx", q->tx);
		ctl_reply_u64(r, "drops", port_counters_drops(q));
		ctl_reply_u64(r, "reassembled", q->reassembled);
		ctl_reply_u64(r, "held", q->held);
		ctl_reply_u64(r, "redirected_out", q->redirected_out);
		ctl_reply_u64(r, "redirected_in", q->redirected_in);
		ctl_reply_bool(r, "balanced", port_counters_balanced(q));
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
}

static void
reply_workers(const struct gateway *gw, struct ctl_reply *r)
{
	const struct gateway_dataplane *dp = &gw->dataplane;
	unsigned int w;

	ctl_reply_array_begin(r, "workers");
	for (w = 0; w < dp->worker_count; w++) {
		struct gateway_worker_counters wc;

		memset(&wc, 0, sizeof(wc));
		dp->worker(dp->ctx, w, &wc);
		ctl_reply_object_begin(r, NULL);
		ctl_reply_u64(r, "worker", w);
		ctl_reply_u64(r, "lcore", wc.lcore);
		ctl_reply_u64(r, "rx", wc.rx);
		ctl_reply_u64(r, "bursts", wc.bursts);
		ctl_reply_u64(r, "polls", wc.polls);
		ctl_reply_double(r, "cycles_per_packet", wc.rx == 0 ? 0.0 :
			(double)wc.busy_cycles / (double)wc.rx);
		ctl_reply_u64(r, "events", wc.events);
		ctl_reply_u64(r, "ring_full", wc.ring_full);
		ctl_reply_u64(r, "redirected_out", wc.redirected_out);
		ctl_reply_u64(r, "redirected_in", wc.redirected_in);
		ctl_reply_u64(r, "flows_created", wc.flows_created);
		ctl_reply_u64(r, "smb_messages", wc.smb_messages);
		ctl_reply_bool(r, "balanced", wc.balanced);
		reply_queues(gw, r, w, &wc);
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
}

/* What the EVE log and the report checkpoint wrote and lost. */
static void
reply_outputs(const struct gateway *gw, struct ctl_reply *r)
{
	struct monitor_outputs o;

	monitor_outputs(gw->parts.monitor, &o);
	ctl_reply_object_begin(r, "outputs");
	ctl_reply_u64(r, "eve_written", o.eve.written);
	ctl_reply_u64(r, "eve_dropped", o.eve.dropped);
	ctl_reply_u64(r, "eve_errors", o.eve.errors);
	ctl_reply_u64(r, "report_written", o.report.written);
	ctl_reply_u64(r, "report_dropped", o.report.dropped);
	ctl_reply_u64(r, "report_errors", o.report.errors);
	ctl_reply_u64(r, "report_rows_restored", o.report_rows_restored);
	ctl_reply_u64(r, "report_set_aside", o.report_set_aside);
	ctl_reply_u64(r, "syslog_sent", o.syslog_sent);
	ctl_reply_u64(r, "syslog_dropped", o.syslog_dropped);
	if (o.redis) {
		ctl_reply_u64(r, "redis_sent", o.redis_counters.sent);
		ctl_reply_u64(r, "redis_dropped", o.redis_counters.dropped);
		ctl_reply_u64(r, "redis_errors", o.redis_counters.errors);
		ctl_reply_u64(r, "redis_connects", o.redis_counters.connects);
		ctl_reply_u64(r, "redis_queued", o.redis_counters.queued);
	}
	ctl_reply_object_end(r);
}

/*
 * The SMB sessions' table memory, summed over workers: what the budget
 * holds and what it refused, by the budget (the worker's) or by one
 * session's share (flows.session_memory_max).
 */
static void
reply_session_memory(struct ctl_reply *r, const struct chunk_counters *m)
{
	static const char *const class_names[SMB_CHUNK_CLASSES] = {
		[SMB_CHUNK_ENTRY] = "entries",
		[SMB_CHUNK_PIPE] = "pipes",
		[SMB_CHUNK_BUFFER] = "buffers",
		[SMB_CHUNK_SMALL] = "small_entries",
	};
	unsigned int c;

	ctl_reply_object_begin(r, "session_memory");
	ctl_reply_u64(r, "budget_bytes", m->budget);
	ctl_reply_u64(r, "carved_bytes", m->carved);
	ctl_reply_u64(r, "in_use_bytes", m->in_use_bytes);
	ctl_reply_u64(r, "high_water_bytes", m->high_water_bytes);
	for (c = 0; c < SMB_CHUNK_CLASSES; c++) {
		ctl_reply_object_begin(r, class_names[c]);
		ctl_reply_u64(r, "in_use", m->cls[c].in_use);
		ctl_reply_u64(r, "high_water", m->cls[c].high_water);
		ctl_reply_u64(r, "allocs", m->cls[c].allocs);
		ctl_reply_u64(r, "frees", m->cls[c].frees);
		ctl_reply_u64(r, "refused_budget", m->cls[c].refused_budget);
		ctl_reply_u64(r, "refused_session", m->cls[c].refused_owner);
		ctl_reply_object_end(r);
	}
	ctl_reply_object_end(r);
}

int
gateway_cmd_stats(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	struct gateway_counters c;
	const struct inspect_counters *ic = &c.inspect;
	const struct flow_table_stats *fs = &c.flows;
	const struct monitor_counters *mc = monitor_counters(gw->parts.monitor);
	unsigned int d;

	(void)req;
	gateway_stats(gw, &c);
	reply_ports(gw, r, &c.total);
	reply_workers(gw, r);
	stats_reply_decode(r, "decode", &c.total.decode);
	ctl_server_reply_counters(gw->ctl, r, "control");
	ctl_reply_object_begin(r, "flows");
	ctl_reply_u64(r, "active", fs->active);
	ctl_reply_u64(r, "live_smb", fs->active_live_smb);
	ctl_reply_u64(r, "created", fs->created);
	ctl_reply_u64(r, "closed", fs->closed);
	ctl_reply_u64(r, "aged", fs->aged);
	ctl_reply_u64(r, "evicted_expired", fs->evicted_expired);
	ctl_reply_u64(r, "evicted_pressure", fs->evicted_pressure);
	ctl_reply_u64(r, "insert_failed", fs->insert_failed);
	ctl_reply_u64(r, "untracked_frames", ic->untracked);
	ctl_reply_u64(r, "syns_stateless", ic->syns_stateless);
	ctl_reply_u64(r, "syns_refused", ic->syns_refused);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "classified");
	ctl_reply_u64(r, "smb_by_port", ic->smb_flows_port);
	ctl_reply_u64(r, "smb_by_content", ic->smb_flows_content);
	ctl_reply_u64(r, "dcerpc_by_port", ic->dcerpc_flows_port);
	ctl_reply_u64(r, "dcerpc_by_content", ic->dcerpc_flows_content);
	ctl_reply_u64(r, "dcerpc_by_endpoint_mapper", ic->dcerpc_flows_epm);
	ctl_reply_u64(r, "endpoints_learned", ic->endpoints_learned);
	ctl_reply_u64(r, "endpoints_renewed", ic->endpoints_renewed);
	ctl_reply_u64(r, "endpoints_evicted", ic->endpoints_evicted);
	ctl_reply_u64(r, "dcerpc_auth_users", ic->dcerpc_auth_users);
	ctl_reply_u64(r, "not_smb", ic->not_smb_flows);
	ctl_reply_u64(r, "sessions_exhausted", ic->sessions_exhausted);
	for (d = 0; d < INSPECT_DIALECT_COUNT; d++)
		ctl_reply_u64(r, inspect_dialect_name(d), ic->smb_dialects[d]);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "sessions");
	ctl_reply_u64(r, "exhausted", ic->sessions_exhausted);
	ctl_reply_u64(r, "client_capped", ic->sessions_client_capped);
	ctl_reply_u64(r, "reclaimed", ic->sessions_reclaimed);
	ctl_reply_u64(r, "refused", ic->sessions_refused);
	ctl_reply_u64(r, "unparsed", ic->sessions_unparsed);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "parsers");
	ctl_reply_u64(r, "smb_messages", ic->smb_messages);
	ctl_reply_u64(r, "encrypted", ic->smb_encrypted);
	ctl_reply_u64(r, "compressed", ic->smb_compressed);
	ctl_reply_u64(r, "compressed_unverifiable",
		ic->smb_compressed_unverifiable);
	ctl_reply_u64(r, "errors", ic->parser_errors);
	ctl_reply_u64(r, "resyncs", ic->parser_resyncs);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "stream");
	ctl_reply_u64(r, "delivered_bytes", ic->stream.delivered_bytes);
	ctl_reply_u64(r, "out_of_order", ic->stream.out_of_order);
	ctl_reply_u64(r, "retransmitted_bytes", ic->stream.retransmitted_bytes);
	ctl_reply_u64(r, "conflicts", ic->stream.conflicts);
	ctl_reply_u64(r, "rewritten", ic->stream.rewritten);
	ctl_reply_u64(r, "no_room", ic->stream.no_room);
	ctl_reply_u64(r, "no_room_drops", ic->stream_no_room_drops);
	ctl_reply_u64(r, "bad_checksums", ic->bad_checksums);
	ctl_reply_u64(r, "checksums_offloaded", ic->checksums_offloaded);
	ctl_reply_u64(r, "cut_short", ic->stream_cut_short);
	ctl_reply_u64(r, "gaps_skipped", ic->stream.gaps_skipped);
	ctl_reply_u64(r, "gap_bytes", ic->stream.gap_bytes);
	ctl_reply_u64(r, "unjudged", ic->stream_unjudged);
	ctl_reply_u64(r, "gap_resets", ic->stream_gap_resets);
	ctl_reply_u64(r, "client_capped", ic->stream_client_capped);
	ctl_reply_u64(r, "unseen_old_drops", ic->stream_unseen_drops);
	ctl_reply_u64(r, "acked_unseen", ic->stream.acked_unseen);
	ctl_reply_u64(r, "kept", ic->stream.kept);
	ctl_reply_object_end(r);
	reply_session_memory(r, &ic->session_memory);
	ctl_reply_object_begin(r, "quic");
	ctl_reply_u64(r, "initials", ic->quic_initials);
	ctl_reply_u64(r, "smb_hellos", ic->quic_smb_hellos);
	ctl_reply_u64(r, "other_hellos", ic->quic_other_hellos);
	ctl_reply_u64(r, "unreadable", ic->quic_unreadable);
	ctl_reply_u64(r, "orphans", ic->quic_orphans);
	ctl_reply_u64(r, "too_large", ic->quic_too_large);
	ctl_reply_u64(r, "fragmented", ic->quic_fragmented);
	ctl_reply_u64(r, "over_budget", ic->quic_over_budget);
	ctl_reply_u64(r, "conflicts", ic->quic_conflicts);
	ctl_reply_u64(r, "pending_evicted", ic->quic_pending_evicted);
	ctl_reply_u64(r, "pending_expired", ic->quic_pending_expired);
	ctl_reply_u64(r, "smb_denied", ic->quic_smb_denied);
	ctl_reply_u64(r, "unread_denied", ic->quic_unread_denied);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "policy");
	ctl_reply_u64(r, "allowed_flows", ic->policy_allowed);
	ctl_reply_u64(r, "denied_flows", ic->policy_denied);
	ctl_reply_u64(r, "monitored_flows", ic->policy_monitored);
	ctl_reply_u64(r, "would_deny", ic->policy_would_deny);
	ctl_reply_u64(r, "smb_denied", ic->policy_smb_denied);
	ctl_reply_u64(r, "datagrams_denied", ic->policy_datagrams_denied);
	ctl_reply_u64(r, "resets", ic->resets);
	ctl_reply_u64(r, "resets_failed", ic->resets_failed);
	ctl_reply_u64(r, "unverifiable_denied", ic->unverifiable_denied);
	ctl_reply_u64(r, "unverifiable_allowed", ic->unverifiable_allowed);
	ctl_reply_u64(r, "unverifiable_monitored", ic->unverifiable_monitored);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "events");
	ctl_reply_u64(r, "queued", ic->events);
	ctl_reply_u64(r, "ring_full", ic->events_dropped);
	ctl_reply_u64(r, "alerts", mc->alerts);
	ctl_reply_u64(r, "alerts_dropped", mc->alerts_dropped);
	ctl_reply_u64(r, "summary_full",
		flowlog_counters(gw->parts.flowlog)->rows_dropped);
	ctl_reply_u64(r, "summary_recycled",
		flowlog_counters(gw->parts.flowlog)->rows_recycled);
	ctl_reply_object_end(r);
	reply_outputs(gw, r);
	return 0;
}
