/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>

#include "ctl.h"
#include "eve.h"
#include "flow.h"
#include "flowlog.h"
#include "inspect.h"
#include "match.h"
#include "monitor.h"
#include "smb.h"
#include "stats.h"
#include "worker.h"

void
stats_sum(struct worker_counters *total, struct worker *const *workers,
	unsigned int worker_count)
{
	unsigned int i;

	memset(total, 0, sizeof(*total));
	for (i = 0; i < worker_count; i++)
		worker_counters_add(total, &workers[i]->counters);
}

bool
stats_print(FILE *out, const char *title, const struct worker_counters *total,
	const char *const *names, unsigned int port_count)
{
	const struct decode_counters *d = &total->decode;
	uint64_t datagrams = 0, refragmented_sent = 0, refragmented_unsent = 0;
	bool balanced = true;
	unsigned int i, r;

	fprintf(out, "== %s ==\n", title);
	fprintf(out, "%-18s %12s %12s", "port", "rx", "tx");
	for (r = 0; r < DROP_REASON_MAX; r++)
		fprintf(out, " %12s", drop_reason_name(r));
	fprintf(out, " %12s %12s %10s\n", "reassembled", "held", "rx=tx+drop");

	for (i = 0; i < port_count; i++) {
		const struct port_counters *p = &total->port[i];
		bool ok = port_counters_balanced(p);

		balanced = balanced && ok;
		fprintf(out, "%-18s %12" PRIu64 " %12" PRIu64, names[i],
			p->rx, p->tx);
		for (r = 0; r < DROP_REASON_MAX; r++)
			fprintf(out, " %12" PRIu64, p->drops[r]);
		fprintf(out, " %12" PRIu64 " %12" PRIu64 " %10s\n",
			p->reassembled, p->held, ok ? "ok" : "MISMATCH");
		datagrams += p->datagrams;
		refragmented_sent += p->refragmented_sent;
		refragmented_unsent += p->refragmented_unsent;
	}
	fprintf(out,
		"fragments: received %" PRIu64 " datagrams %" PRIu64
		" refragmented_sent %" PRIu64 " refragmented_unsent %" PRIu64
		"\n", d->fragmented, datagrams, refragmented_sent,
		refragmented_unsent);
	fprintf(out,
		"decoded: vlan %" PRIu64 " qinq %" PRIu64 " arp %" PRIu64
		" ipv4 %" PRIu64 " ipv6 %" PRIu64 " other_l3 %" PRIu64
		" tcp %" PRIu64 " udp %" PRIu64 " other_l4 %" PRIu64
		" fragments %" PRIu64 " malformed %" PRIu64 " gre %" PRIu64
		" ip_in_ip %" PRIu64 " tunnel_unread %" PRIu64 "\n",
		d->vlan, d->qinq, d->arp, d->ipv4, d->ipv6, d->other_l3,
		d->tcp, d->udp, d->other_l4, d->ip_fragments, d->malformed,
		d->gre, d->ip_in_ip, d->tunnel_unread);
	fprintf(out, "malformed by reason:");
	for (r = 0; r < DECODE_MALFORMED_MAX; r++)
		fprintf(out, " %s %" PRIu64, decode_malformed_name(r),
			d->malformed_by[r]);
	fprintf(out, "\n");
	fflush(out);
	return balanced;
}

bool
stats_print_queues(FILE *out, struct worker *const *workers,
	unsigned int worker_count, const char *const *names,
	unsigned int port_count)
{
	bool balanced = true;
	unsigned int w, i;

	if (worker_count < 2)
		return true;
	for (w = 0; w < worker_count; w++) {
		for (i = 0; i < port_count; i++) {
			const struct port_counters *q =
				&workers[w]->counters.port[i];
			bool ok = port_counters_balanced(q);

			balanced = balanced && ok;
			fprintf(out, "queue %s/%u: rx %" PRIu64 " tx %" PRIu64
				" drops %" PRIu64 " reassembled %" PRIu64
				" held %" PRIu64 " redirected_out %" PRIu64
				" redirected_in %" PRIu64
				" rx+in=tx+drop+out %s\n", names[i], w,
				q->rx, q->tx, port_counters_drops(q),
				q->reassembled, q->held, q->redirected_out,
				q->redirected_in, ok ? "ok" : "MISMATCH");
		}
	}
	fflush(out);
	return balanced;
}

void
stats_print_devices(FILE *out, const uint16_t *port_ids,
	const char *const *names, unsigned int port_count)
{
	unsigned int i;

	for (i = 0; i < port_count; i++) {
		struct rte_eth_stats s;

		if (rte_eth_stats_get(port_ids[i], &s) != 0)
			continue;
		fprintf(out,
			"device %s: ipackets %" PRIu64 " opackets %" PRIu64
			" imissed %" PRIu64 " ierrors %" PRIu64
			" oerrors %" PRIu64 " rx_nombuf %" PRIu64 "\n",
			names[i], s.ipackets, s.opackets, s.imissed,
			s.ierrors, s.oerrors, s.rx_nombuf);
	}
	fflush(out);
}

void
stats_reply_decode(struct ctl_reply *reply, const char *key,
	const struct decode_counters *d)
{
	unsigned int r;

	ctl_reply_object_begin(reply, key);
	ctl_reply_u64(reply, "vlan", d->vlan);
	ctl_reply_u64(reply, "qinq", d->qinq);
	ctl_reply_u64(reply, "arp", d->arp);
	ctl_reply_u64(reply, "ipv4", d->ipv4);
	ctl_reply_u64(reply, "ipv6", d->ipv6);
	ctl_reply_u64(reply, "other_l3", d->other_l3);
	ctl_reply_u64(reply, "tcp", d->tcp);
	ctl_reply_u64(reply, "udp", d->udp);
	ctl_reply_u64(reply, "other_l4", d->other_l4);
	ctl_reply_u64(reply, "gre", d->gre);
	ctl_reply_u64(reply, "ip_in_ip", d->ip_in_ip);
	ctl_reply_u64(reply, "tunnel_unread", d->tunnel_unread);
	ctl_reply_u64(reply, "fragments", d->ip_fragments);
	ctl_reply_u64(reply, "fragmented", d->fragmented);
	ctl_reply_u64(reply, "malformed", d->malformed);
	ctl_reply_object_begin(reply, "malformed_by_reason");
	for (r = 0; r < DECODE_MALFORMED_MAX; r++)
		ctl_reply_u64(reply, decode_malformed_name(r),
			d->malformed_by[r]);
	ctl_reply_object_end(reply);
	ctl_reply_object_end(reply);
}

void
stats_sum_inspection(struct worker *const *workers, unsigned int worker_count,
	struct inspect_counters *ic, struct flow_table_stats *fs,
	struct watchlist_counters *wc)
{
	unsigned int w;

	memset(ic, 0, sizeof(*ic));
	memset(fs, 0, sizeof(*fs));
	if (wc != NULL)
		memset(wc, 0, sizeof(*wc));
	for (w = 0; w < worker_count; w++) {
		const struct inspector *ins = workers[w]->inspector;
		const struct watchlist_scratch *scratch;
		struct flow_table_stats one;
		const uint64_t *from;
		uint64_t *into;
		size_t i;

		if (ins == NULL)
			continue;
		/* All three hold only uint64_t: they add up as arrays. */
		from = (const uint64_t *)inspector_counters(ins);
		into = (uint64_t *)ic;
		for (i = 0; i < sizeof(*ic) / sizeof(uint64_t); i++)
			into[i] += from[i];
		inspector_flow_stats(ins, &one);
		from = (const uint64_t *)&one;
		into = (uint64_t *)fs;
		for (i = 0; i < sizeof(*fs) / sizeof(uint64_t); i++)
			into[i] += from[i];
		scratch = inspector_watch_scratch(ins);
		if (scratch == NULL || wc == NULL)
			continue;
		from = (const uint64_t *)watchlist_scratch_counters(scratch);
		into = (uint64_t *)wc;
		for (i = 0; i < sizeof(*wc) / sizeof(uint64_t); i++)
			into[i] += from[i];
	}
}

void
stats_print_inspection(FILE *out, struct worker *const *workers,
	unsigned int worker_count, const struct watchlist *watchlist,
	const struct flowlog_counters *log)
{
	struct inspect_counters ic;
	struct flow_table_stats fs;
	struct watchlist_counters wc;
	unsigned int d, id;

	stats_sum_inspection(workers, worker_count, &ic, &fs, &wc);
	fprintf(out,
		"flows: active %" PRIu64 " live_smb %" PRIu64
		" created %" PRIu64 " closed %" PRIu64 " aged %" PRIu64
		" evicted_expired %" PRIu64 " evicted_pressure %" PRIu64
		" insert_failed %" PRIu64 " untracked_frames %" PRIu64
		" lookups %" PRIu64 " syns_stateless %" PRIu64
		" syns_refused %" PRIu64 "\n",
		fs.active, fs.active_live_smb, fs.created, fs.closed, fs.aged,
		fs.evicted_expired, fs.evicted_pressure, fs.insert_failed,
		ic.untracked, fs.lookups, ic.syns_stateless, ic.syns_refused);
	fprintf(out,
		"classified: smb_by_port %" PRIu64 " smb_by_content %" PRIu64
		" dcerpc_by_port %" PRIu64 " dcerpc_by_content %" PRIu64
		" dcerpc_by_endpoint_mapper %" PRIu64
		" not_smb %" PRIu64 " sessions_exhausted %" PRIu64 "\n",
		ic.smb_flows_port, ic.smb_flows_content, ic.dcerpc_flows_port,
		ic.dcerpc_flows_content, ic.dcerpc_flows_epm, ic.not_smb_flows,
		ic.sessions_exhausted);
	fprintf(out,
		"quic: initials %" PRIu64 " smb_hellos %" PRIu64
		" other_hellos %" PRIu64 " unreadable %" PRIu64
		" orphans %" PRIu64 " too_large %" PRIu64 " fragmented %" PRIu64
		" over_budget %" PRIu64 " conflicts %" PRIu64
		" pending_evicted %" PRIu64 " pending_expired %" PRIu64
		" smb_denied %" PRIu64 " unread_denied %" PRIu64 "\n",
		ic.quic_initials, ic.quic_smb_hellos, ic.quic_other_hellos,
		ic.quic_unreadable, ic.quic_orphans, ic.quic_too_large,
		ic.quic_fragmented, ic.quic_over_budget, ic.quic_conflicts,
		ic.quic_pending_evicted, ic.quic_pending_expired,
		ic.quic_smb_denied, ic.quic_unread_denied);
	fprintf(out,
		"dcerpc endpoints: learned %" PRIu64 " renewed %" PRIu64
		" evicted %" PRIu64 " auth_users %" PRIu64 "\n",
		ic.endpoints_learned, ic.endpoints_renewed,
		ic.endpoints_evicted, ic.dcerpc_auth_users);
	fprintf(out,
		"sessions: exhausted %" PRIu64 " client_capped %" PRIu64
		" reclaimed %" PRIu64 " refused %" PRIu64 " unparsed %" PRIu64
		"\n",
		ic.sessions_exhausted, ic.sessions_client_capped,
		ic.sessions_reclaimed, ic.sessions_refused,
		ic.sessions_unparsed);
	fprintf(out, "smb dialects:");
	for (d = 0; d < INSPECT_DIALECT_COUNT; d++)
		fprintf(out, " %s %" PRIu64, inspect_dialect_name(d),
			ic.smb_dialects[d]);
	fprintf(out, "\n");
	fprintf(out,
		"parsers: smb_messages %" PRIu64 " encrypted %" PRIu64
		" compressed %" PRIu64 " compressed_unverifiable %" PRIu64
		" errors %" PRIu64 " resyncs %" PRIu64 " payload_bytes %" PRIu64
		" retransmitted_bytes %" PRIu64 "\n",
		ic.smb_messages, ic.smb_encrypted, ic.smb_compressed,
		ic.smb_compressed_unverifiable, ic.parser_errors,
		ic.parser_resyncs, ic.payload_bytes, ic.retransmitted_bytes);
	fprintf(out,
		"stream: delivered_bytes %" PRIu64 " out_of_order %" PRIu64
		" retransmitted_bytes %" PRIu64 " conflicts %" PRIu64
		" rewritten %" PRIu64 " no_room %" PRIu64
		" no_room_drops %" PRIu64 " bad_checksums %" PRIu64
		" checksums_offloaded %" PRIu64 " cut_short %" PRIu64
		" gaps_skipped %" PRIu64
		" gap_bytes %" PRIu64 " unjudged %" PRIu64 " gap_resets %" PRIu64
		" client_capped %" PRIu64 " unseen_old_drops %" PRIu64
		" acked_unseen %" PRIu64 " kept %" PRIu64 " kept_max %" PRIu64
		"\n",
		ic.stream.delivered_bytes, ic.stream.out_of_order,
		ic.stream.retransmitted_bytes, ic.stream.conflicts,
		ic.stream.rewritten, ic.stream.no_room,
		ic.stream_no_room_drops, ic.bad_checksums,
		ic.checksums_offloaded, ic.stream_cut_short,
		ic.stream.gaps_skipped,
		ic.stream.gap_bytes, ic.stream_unjudged, ic.stream_gap_resets,
		ic.stream_client_capped, ic.stream_unseen_drops,
		ic.stream.acked_unseen, ic.stream.kept, ic.stream.kept_max);
	{
		const struct chunk_counters *sm = &ic.session_memory;
		uint64_t refused_budget = 0, refused_owner = 0;
		unsigned int c;

		for (c = 0; c < SMB_CHUNK_CLASSES; c++) {
			refused_budget += sm->cls[c].refused_budget;
			refused_owner += sm->cls[c].refused_owner;
		}
		fprintf(out,
			"session_memory: budget %" PRIu64 " carved %" PRIu64
			" in_use %" PRIu64 " high_water %" PRIu64
			" entries %" PRIu64 " pipes %" PRIu64
			" buffers %" PRIu64
			" refused_budget %" PRIu64 " refused_session %" PRIu64
			"\n",
			sm->budget, sm->carved, sm->in_use_bytes,
			sm->high_water_bytes,
			sm->cls[SMB_CHUNK_ENTRY].in_use +
			sm->cls[SMB_CHUNK_SMALL].in_use,
			sm->cls[SMB_CHUNK_PIPE].in_use,
			sm->cls[SMB_CHUNK_BUFFER].in_use,
			refused_budget, refused_owner);
	}
	fprintf(out,
		"policy: allowed_flows %" PRIu64 " denied_flows %" PRIu64
		" monitored_flows %" PRIu64 " would_deny %" PRIu64
		" smb_denied %" PRIu64 " datagrams_denied %" PRIu64
		" resets %" PRIu64 " resets_failed %" PRIu64
		" unverifiable_denied %" PRIu64
		" unverifiable_allowed %" PRIu64
		" unverifiable_monitored %" PRIu64 "\n",
		ic.policy_allowed, ic.policy_denied, ic.policy_monitored,
		ic.policy_would_deny, ic.policy_smb_denied,
		ic.policy_datagrams_denied, ic.resets, ic.resets_failed,
		ic.unverifiable_denied, ic.unverifiable_allowed,
		ic.unverifiable_monitored);
	fprintf(out, "events: queued %" PRIu64 " ring_full %" PRIu64,
		ic.events, ic.events_dropped);
	if (log != NULL)
		fprintf(out, " received %" PRIu64 " flow %" PRIu64
			" smb %" PRIu64 " dcerpc %" PRIu64 " summary_full %" PRIu64
			" summary_recycled %" PRIu64,
			log->events, log->flow_events, log->smb_events,
			log->dcerpc_events, log->rows_dropped, log->rows_recycled);
	fprintf(out, "\n");
	if (watchlist != NULL) {
		fprintf(out, "watchlist hits:");
		for (id = 0; id < watchlist_class_count(watchlist); id++)
			fprintf(out, " %s %" PRIu64,
				watchlist_class_name(watchlist, id),
				wc.matches[id]);
		fprintf(out, " scan_errors %" PRIu64 "\n", wc.scan_errors);
	}
	fflush(out);
}

void
stats_print_outputs(FILE *out, const struct monitor *monitor)
{
	struct monitor_outputs o;

	if (monitor == NULL)
		return;
	monitor_outputs(monitor, &o);
	fprintf(out,
		"outputs: eve_written %" PRIu64 " eve_dropped %" PRIu64
		" eve_errors %" PRIu64 " report_written %" PRIu64
		" report_dropped %" PRIu64 " report_errors %" PRIu64
		" report_rows_restored %" PRIu64 " report_set_aside %" PRIu64
		" syslog_sent %" PRIu64 " syslog_dropped %" PRIu64 "\n",
		o.eve.written, o.eve.dropped, o.eve.errors, o.report.written,
		o.report.dropped, o.report.errors, o.report_rows_restored,
		o.report_set_aside, o.syslog_sent, o.syslog_dropped);
	if (o.redis)
		fprintf(out, "outputs: redis_sent %" PRIu64 " redis_dropped %"
			PRIu64 " redis_errors %" PRIu64 " redis_connects %" PRIu64
			"\n", o.redis_counters.sent, o.redis_counters.dropped,
			o.redis_counters.errors, o.redis_counters.connects);
	fflush(out);
}

/*
 * A stats record in the EVE log: Suricata's names where Suricata counts
 * the same thing (decoder, flow, tcp, ips, detect, app_layer.flow), the
 * rest under "smbgw" (docs/detection.md, "stats"). Grouped by prefix, as
 * eve_write_stats() needs them.
 */
void
stats_write_eve(struct monitor *monitor, uint64_t ts_ns, uint64_t uptime_s,
	struct worker *const *workers, unsigned int worker_count,
	unsigned int port_count)
{
	struct eve_stat s[64];
	struct monitor_outputs outputs;
	struct worker_counters total;
	struct inspect_counters ic;
	struct flow_table_stats fs;
	const struct monitor_counters *mc = monitor_counters(monitor);
	uint64_t rx = 0, rx_bytes = 0, tx = 0, drops[DROP_REASON_MAX] = { 0 };
	uint64_t resets = 0;
	unsigned int n = 0, p, r;

	if (monitor_eve(monitor) == NULL)
		return;
	stats_sum(&total, workers, worker_count);
	stats_sum_inspection(workers, worker_count, &ic, &fs, NULL);
	for (p = 0; p < port_count && p < DATAPLANE_PORTS_MAX; p++) {
		rx += total.port[p].rx;
		rx_bytes += total.port[p].rx_bytes;
		tx += total.port[p].tx;
		resets += total.port[p].resets_sent;
		for (r = 0; r < DROP_REASON_MAX; r++)
			drops[r] += total.port[p].drops[r];
	}
#define STAT(name_, value_) do { \
		s[n].name = (name_); \
		s[n].value = (value_); \
		n++; \
	} while (0)
	STAT("uptime", uptime_s);
	STAT("decoder.pkts", rx);
	STAT("decoder.bytes", rx_bytes);
	STAT("decoder.invalid", total.decode.malformed);
	STAT("decoder.ipv4", total.decode.ipv4);
	STAT("decoder.ipv6", total.decode.ipv6);
	STAT("decoder.tcp", total.decode.tcp);
	STAT("decoder.udp", total.decode.udp);
	STAT("decoder.arp", total.decode.arp);
	STAT("decoder.vlan", total.decode.vlan);
	STAT("decoder.vlan_qinq", total.decode.qinq);
	STAT("decoder.gre", total.decode.gre);
	STAT("flow.total", fs.created);
	STAT("flow.active", fs.active);
	STAT("flow.tcp_reuse", fs.tcp_restarts);
	STAT("tcp.invalid_checksum", ic.bad_checksums);
	STAT("tcp.reassembly_gap", ic.stream_gap_resets + ic.stream_unjudged);
	STAT("detect.alert", mc->alerts);
	STAT("app_layer.flow.smb", ic.smb_flows_port + ic.smb_flows_content);
	STAT("app_layer.flow.dcerpc_tcp", ic.dcerpc_flows_port +
		ic.dcerpc_flows_content);
	STAT("ips.accepted", tx);
	STAT("ips.blocked", drops[DROP_POLICY] + drops[DROP_STREAM] +
		drops[DROP_STATE_FULL] + drops[DROP_BAD_CHECKSUM] +
		drops[DROP_FRAG_REFUSED] + drops[DROP_FRAG_INVALID]);
	STAT("ips.drop_reason.rules", drops[DROP_POLICY]);
	STAT("ips.drop_reason.stream_error", drops[DROP_STREAM] +
		drops[DROP_BAD_CHECKSUM]);
	STAT("ips.drop_reason.flow_memcap", drops[DROP_STATE_FULL]);
	STAT("ips.drop_reason.defrag_error", drops[DROP_FRAG_REFUSED] +
		drops[DROP_FRAG_INVALID]);
	STAT("ips.rejected", resets);
	STAT("smbgw.tx_full", drops[DROP_TX_FULL]);
	STAT("smbgw.oversize", drops[DROP_OVERSIZE]);
	STAT("smbgw.flows_evicted_pressure", fs.evicted_pressure);
	STAT("smbgw.flows_insert_failed", fs.insert_failed);
	STAT("smbgw.untracked", ic.untracked);
	STAT("smbgw.syns_stateless", ic.syns_stateless);
	STAT("smbgw.syns_refused", ic.syns_refused);
	STAT("smbgw.smb_messages", ic.smb_messages);
	STAT("smbgw.smb_encrypted", ic.smb_encrypted);
	STAT("smbgw.smb_compressed", ic.smb_compressed);
	STAT("smbgw.parser_errors", ic.parser_errors);
	STAT("smbgw.events", ic.events);
	STAT("smbgw.events_dropped", ic.events_dropped);
	STAT("smbgw.policy_denied", ic.policy_denied);
	STAT("smbgw.policy_would_deny", ic.policy_would_deny);
	STAT("smbgw.policy_smb_denied", ic.policy_smb_denied);
	STAT("smbgw.sessions_refused", ic.sessions_refused);
	STAT("smbgw.sessions_unparsed", ic.sessions_unparsed);
	STAT("smbgw.alert_updates", mc->updates);
	monitor_outputs(monitor, &outputs);
	STAT("smbgw.eve_dropped", outputs.eve.dropped);
	STAT("smbgw.syslog_sent", outputs.syslog_sent);
	STAT("smbgw.syslog_dropped", outputs.syslog_dropped);
#undef STAT
	eve_write_stats(monitor_eve(monitor), ts_ns, s, n);
}
