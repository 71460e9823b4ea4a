/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control API and the control socket's commands. SIGHUP, the socket
 * (and so smbgwctl) and DPDK telemetry all call these functions, on the
 * control thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "ctl.h"
#include "flow.h"
#include "flowlog.h"
#include "inspect.h"
#include "live_pvt.h"
#include "match.h"
#include "monitor.h"
#include "policy.h"
#include "policy_config.h"
#include "report.h"
#include "stats.h"
#include "worker.h"

#define FLOWS_LIMIT_DEFAULT 100

/* Builds <spec> as the next generation and publishes it to the workers. */
static int
publish_policy(struct live_context *ctx, const struct policy_spec *spec,
	char *error, size_t error_len)
{
	struct policy *next = policy_build(spec,
		(unsigned int)ctx->generation + 1, SOCKET_ID_ANY, error,
		error_len);

	if (next == NULL)
		return -EINVAL;
	/* Waits one loop pass of every worker, then frees the old policy. */
	if (policy_publish(ctx->policy, next) != 0) {
		snprintf(error, error_len, "cannot publish the policy");
		policy_free(next);
		return -EIO;
	}
	ctx->generation++;
	*ctx->policy_spec = *spec;
	return 0;
}

int
gateway_reload(struct live_context *ctx, struct config_errors *errors,
	struct config_changes *changes)
{
	static struct gateway_config next;
	char error[256];

	memset(errors, 0, sizeof(*errors));
	changes->count = 0;
	if (strcmp(ctx->cfg->source, "<default>") == 0)
		return publish_policy(ctx, ctx->policy_spec, error,
			sizeof(error)) == 0 ? 0 : -EINVAL;
	if (config_load_file(ctx->cfg->source, &next, errors) != 0)
		return -EINVAL;
	/*
	 * Policies name watchlist classes by id, and the workers' watchlists
	 * are fixed at start: a file that changes them needs a restart.
	 */
	if (config_watchlists_changed(ctx->cfg, &next)) {
		config_error_add(errors, ctx->cfg->source, 0,
			"the watchlists changed: restart the gateway to apply them");
		return -EINVAL;
	}
	/* The file decides again, its mode included. */
	if (publish_policy(ctx, &next.policy, error, sizeof(error)) != 0) {
		config_error_add(errors, ctx->cfg->source, 0, "%s", error);
		return -EINVAL;
	}
	/* The report leaves out the trusted prefixes of both groups. */
	monitor_set_trusted(ctx->monitor, &next);
	config_restart_changes(ctx->cfg, &next, changes);
	return 0;
}

int
gateway_reopen_logs(struct live_context *ctx)
{
	return monitor_reopen(ctx->monitor);
}

int
gateway_set_mode(struct live_context *ctx, const char *mode)
{
	static struct policy_spec spec;
	char error[256];

	spec = *ctx->policy_spec;
	if (strcmp(mode, "enforce") == 0)
		spec.mode = POLICY_MODE_ENFORCE;
	else if (strcmp(mode, "monitor-only") == 0)
		spec.mode = POLICY_MODE_MONITOR_ONLY;
	else
		return -EINVAL;
	return publish_policy(ctx, &spec, error, sizeof(error));
}

static int
cmd_status(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;

	(void)req;
	ctl_reply_str(r, "version", SMBGW_VERSION);
	ctl_reply_u64(r, "uptime_s", (rte_rdtsc() - ctx->start_tsc) /
		rte_get_tsc_hz());
	ctl_reply_str(r, "mode", policy_mode_name(ctx->policy_spec->mode));
	ctl_reply_str(r, "gateway_mode", config_mode_name(ctx->cfg->mode));
	ctl_reply_u64(r, "policy_generation", ctx->generation);
	ctl_reply_str(r, "config", ctx->cfg->source);
	ctl_reply_u64(r, "ports", ctx->ports.count);
	ctl_reply_u64(r, "workers", ctx->worker_count);
	return 0;
}

static void
reply_ports(struct live_context *ctx, struct ctl_reply *r,
	const struct worker_counters *total)
{
	unsigned int i, d;

	ctl_reply_array_begin(r, "ports");
	for (i = 0; i < ctx->ports.count; i++) {
		const struct port_counters *pc = &total->port[i];
		struct rte_eth_stats dev;

		ctl_reply_object_begin(r, NULL);
		ctl_reply_str(r, "port", ctx->ports.names[i]);
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
		ctl_reply_bool(r, "balanced", port_counters_balanced(pc));
		if (rte_eth_stats_get(ctx->ports.port_id[i], &dev) == 0) {
			ctl_reply_u64(r, "device_imissed", dev.imissed);
			ctl_reply_u64(r, "device_rx_nombuf", dev.rx_nombuf);
			ctl_reply_u64(r, "device_oerrors", dev.oerrors);
		}
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
}

static void
reply_workers(struct live_context *ctx, struct ctl_reply *r)
{
	unsigned int w, p;

	ctl_reply_array_begin(r, "workers");
	for (w = 0; w < ctx->worker_count; w++) {
		const struct worker *worker = ctx->workers[w];
		const struct inspect_counters *ic =
			inspector_counters(worker->inspector);
		uint64_t rx = 0;

		for (p = 0; p < ctx->ports.count; p++)
			rx += worker->counters.port[p].rx;
		ctl_reply_object_begin(r, NULL);
		ctl_reply_u64(r, "worker", w);
		ctl_reply_u64(r, "lcore", ctx->worker_lcores[w]);
		ctl_reply_u64(r, "rx", rx);
		ctl_reply_u64(r, "bursts", worker->counters.bursts);
		ctl_reply_u64(r, "polls", worker->counters.polls);
		ctl_reply_double(r, "cycles_per_packet", rx == 0 ? 0.0 :
			(double)worker->counters.busy_cycles / (double)rx);
		ctl_reply_u64(r, "events", ic->events);
		ctl_reply_u64(r, "ring_full", ic->events_dropped);
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
}

/* What the EVE log and the report checkpoint wrote and lost. */
static void
reply_outputs(struct live_context *ctx, struct ctl_reply *r)
{
	struct monitor_outputs o;

	monitor_outputs(ctx->monitor, &o);
	ctl_reply_object_begin(r, "outputs");
	ctl_reply_u64(r, "eve_written", o.eve.written);
	ctl_reply_u64(r, "eve_dropped", o.eve.dropped);
	ctl_reply_u64(r, "eve_errors", o.eve.errors);
	ctl_reply_u64(r, "report_written", o.report.written);
	ctl_reply_u64(r, "report_dropped", o.report.dropped);
	ctl_reply_u64(r, "report_errors", o.report.errors);
	ctl_reply_u64(r, "report_rows_restored", o.report_rows_restored);
	ctl_reply_u64(r, "report_set_aside", o.report_set_aside);
	ctl_reply_object_end(r);
}

static int
cmd_stats(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	struct worker_counters total;
	struct inspect_counters ic;
	struct flow_table_stats fs;
	unsigned int d;

	(void)req;
	stats_sum(&total, ctx->workers, ctx->worker_count);
	stats_sum_inspection(ctx->workers, ctx->worker_count, &ic, &fs, NULL);
	reply_ports(ctx, r, &total);
	reply_workers(ctx, r);
	stats_reply_decode(r, "decode", &total.decode);
	ctl_server_reply_counters(ctx->ctl, r, "control");
	ctl_reply_object_begin(r, "flows");
	ctl_reply_u64(r, "active", fs.active);
	ctl_reply_u64(r, "live_smb", fs.active_live_smb);
	ctl_reply_u64(r, "created", fs.created);
	ctl_reply_u64(r, "closed", fs.closed);
	ctl_reply_u64(r, "aged", fs.aged);
	ctl_reply_u64(r, "evicted_expired", fs.evicted_expired);
	ctl_reply_u64(r, "evicted_pressure", fs.evicted_pressure);
	ctl_reply_u64(r, "insert_failed", fs.insert_failed);
	ctl_reply_u64(r, "untracked_frames", ic.untracked);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "classified");
	ctl_reply_u64(r, "smb_by_port", ic.smb_flows_port);
	ctl_reply_u64(r, "smb_by_content", ic.smb_flows_content);
	ctl_reply_u64(r, "dcerpc_by_port", ic.dcerpc_flows_port);
	ctl_reply_u64(r, "dcerpc_by_content", ic.dcerpc_flows_content);
	ctl_reply_u64(r, "not_smb", ic.not_smb_flows);
	ctl_reply_u64(r, "sessions_exhausted", ic.sessions_exhausted);
	for (d = 0; d < INSPECT_DIALECT_COUNT; d++)
		ctl_reply_u64(r, inspect_dialect_name(d), ic.smb_dialects[d]);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "sessions");
	ctl_reply_u64(r, "exhausted", ic.sessions_exhausted);
	ctl_reply_u64(r, "client_capped", ic.sessions_client_capped);
	ctl_reply_u64(r, "reclaimed", ic.sessions_reclaimed);
	ctl_reply_u64(r, "refused", ic.sessions_refused);
	ctl_reply_u64(r, "unparsed", ic.sessions_unparsed);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "parsers");
	ctl_reply_u64(r, "smb_messages", ic.smb_messages);
	ctl_reply_u64(r, "encrypted", ic.smb_encrypted);
	ctl_reply_u64(r, "compressed", ic.smb_compressed);
	ctl_reply_u64(r, "compressed_unverifiable",
		ic.smb_compressed_unverifiable);
	ctl_reply_u64(r, "errors", ic.parser_errors);
	ctl_reply_u64(r, "resyncs", ic.parser_resyncs);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "stream");
	ctl_reply_u64(r, "delivered_bytes", ic.stream.delivered_bytes);
	ctl_reply_u64(r, "out_of_order", ic.stream.out_of_order);
	ctl_reply_u64(r, "retransmitted_bytes", ic.stream.retransmitted_bytes);
	ctl_reply_u64(r, "conflicts", ic.stream.conflicts);
	ctl_reply_u64(r, "rewritten", ic.stream.rewritten);
	ctl_reply_u64(r, "no_room", ic.stream.no_room);
	ctl_reply_u64(r, "no_room_drops", ic.stream_no_room_drops);
	ctl_reply_u64(r, "bad_checksums", ic.bad_checksums);
	ctl_reply_u64(r, "checksums_offloaded", ic.checksums_offloaded);
	ctl_reply_u64(r, "gaps_skipped", ic.stream.gaps_skipped);
	ctl_reply_u64(r, "gap_bytes", ic.stream.gap_bytes);
	ctl_reply_u64(r, "unjudged", ic.stream_unjudged);
	ctl_reply_u64(r, "gap_resets", ic.stream_gap_resets);
	ctl_reply_u64(r, "client_capped", ic.stream_client_capped);
	ctl_reply_u64(r, "acked_unseen", ic.stream.acked_unseen);
	ctl_reply_u64(r, "kept", ic.stream.kept);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "policy");
	ctl_reply_u64(r, "allowed_flows", ic.policy_allowed);
	ctl_reply_u64(r, "denied_flows", ic.policy_denied);
	ctl_reply_u64(r, "monitored_flows", ic.policy_monitored);
	ctl_reply_u64(r, "would_deny", ic.policy_would_deny);
	ctl_reply_u64(r, "smb_denied", ic.policy_smb_denied);
	ctl_reply_u64(r, "datagrams_denied", ic.policy_datagrams_denied);
	ctl_reply_u64(r, "resets", ic.resets);
	ctl_reply_u64(r, "resets_failed", ic.resets_failed);
	ctl_reply_u64(r, "unverifiable_denied", ic.unverifiable_denied);
	ctl_reply_u64(r, "unverifiable_allowed", ic.unverifiable_allowed);
	ctl_reply_u64(r, "unverifiable_monitored", ic.unverifiable_monitored);
	ctl_reply_object_end(r);
	ctl_reply_object_begin(r, "events");
	ctl_reply_u64(r, "queued", ic.events);
	ctl_reply_u64(r, "ring_full", ic.events_dropped);
	ctl_reply_u64(r, "alerts", monitor_counters(ctx->monitor)->alerts);
	ctl_reply_u64(r, "alerts_dropped",
		monitor_counters(ctx->monitor)->alerts_dropped);
	ctl_reply_u64(r, "summary_full",
		flowlog_counters(ctx->flowlog)->rows_dropped);
	ctl_reply_object_end(r);
	reply_outputs(ctx, r);
	return 0;
}

struct flows_walk {
	struct ctl_reply *reply;
	const char *filter;
	unsigned int left;
};

static int
reply_flow_line(void *arg, const char *line)
{
	struct flows_walk *walk = arg;

	if (walk->filter != NULL && strstr(line, walk->filter) == NULL)
		return 0;
	if (walk->left == 0)
		return 1;
	walk->left--;
	ctl_reply_str(walk->reply, NULL, line);
	return 0;
}

/* flows [FILTER] [LIMIT]: SMB and DCE/RPC flows whose line has FILTER. */
static int
cmd_flows(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	struct flows_walk walk = { r, NULL, FLOWS_LIMIT_DEFAULT };
	unsigned int i;

	for (i = 0; i < req->argc; i++) {
		char *end;
		unsigned long limit = strtoul(req->argv[i], &end, 10);

		if (*end == '\0' && end != req->argv[i])
			walk.left = (unsigned int)limit;
		else
			walk.filter = req->argv[i];
	}
	ctl_reply_array_begin(r, "flows");
	flowlog_lines(ctx->flowlog, reply_flow_line, &walk);
	ctl_reply_array_end(r);
	return 0;
}

/* alerts [SINCE]: SINCE in seconds since the epoch. */
static int
cmd_alerts(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	const struct monitor_alert *alerts;
	uint64_t since_ns = 0;
	unsigned int count, i;

	if (req->argc > 1)
		return ctl_reply_error(r, -EINVAL, "usage: alerts [SINCE]");
	if (req->argc == 1) {
		char *end;
		unsigned long long since = strtoull(req->argv[0], &end, 10);

		if (*end != '\0')
			return ctl_reply_error(r, -EINVAL,
				"SINCE is seconds since the epoch, not '%s'",
				req->argv[0]);
		since_ns = since * 1000000000ull;
	}
	alerts = monitor_alerts(ctx->monitor, &count);
	ctl_reply_array_begin(r, "alerts");
	for (i = 0; i < count; i++) {
		const struct monitor_alert *a = &alerts[i];

		if (a->last_ns < since_ns)
			continue;
		ctl_reply_object_begin(r, NULL);
		ctl_reply_u64(r, "signature_id", a->signature_id);
		ctl_reply_str(r, "signature", a->signature);
		ctl_reply_str(r, "mitre", a->mitre);
		ctl_reply_u64(r, "count", a->count);
		ctl_reply_u64(r, "first_seen", a->first_ns / 1000000000ull);
		ctl_reply_u64(r, "last_seen", a->last_ns / 1000000000ull);
		ctl_reply_str(r, "user", a->user);
		ctl_reply_str(r, "auth", a->auth);
		ctl_reply_str(r, "share", a->share);
		ctl_reply_str(r, "file", a->file);
		ctl_reply_str(r, "service", a->service);
		ctl_reply_str(r, "command", a->command);
		ctl_reply_str(r, "operations", a->operations);
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
	return 0;
}

/* report [DAY] [csv]: DAY as YYYY-MM-DD (UTC), all days kept otherwise. */
static int
cmd_report(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	uint32_t day = REPORT_ALL_DAYS;
	bool csv = false;
	char *text = NULL;
	size_t len = 0;
	unsigned int i;
	FILE *out;

	for (i = 0; i < req->argc; i++) {
		struct tm tm;

		if (strcmp(req->argv[i], "csv") == 0) {
			csv = true;
			continue;
		}
		memset(&tm, 0, sizeof(tm));
		if (strptime(req->argv[i], "%Y-%m-%d", &tm) == NULL)
			return ctl_reply_error(r, -EINVAL,
				"usage: report [YYYY-MM-DD] [csv]");
		day = (uint32_t)(timegm(&tm) / 86400);
	}
	out = open_memstream(&text, &len);
	if (out == NULL)
		return ctl_reply_error(r, -ENOMEM, "out of memory");
	if (csv)
		report_write_csv(monitor_report(ctx->monitor), out, day);
	else
		report_write_json(monitor_report(ctx->monitor), out, day);
	fclose(out);
	ctl_reply_str(r, csv ? "csv" : "json", text);
	free(text);
	return 0;
}

static int
cmd_reload(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	static struct config_errors errors;
	struct config_changes changes;
	char text[4096];
	size_t used = 0;
	unsigned int i;

	(void)req;
	if (gateway_reload(ctx, &errors, &changes) != 0) {
		text[0] = '\0';
		for (i = 0; i < errors.count && used < sizeof(text); i++)
			used += snprintf(text + used, sizeof(text) - used,
				"%s%s", i ? "\n" : "", errors.messages[i]);
		return ctl_reply_error(r, -EINVAL, "%s", text);
	}
	ctl_reply_str(r, "config", ctx->cfg->source);
	ctl_reply_u64(r, "policy_generation", ctx->generation);
	ctl_reply_str(r, "applied", "policy, report.trusted");
	/* What the file changed but only a restart applies. */
	ctl_reply_array_begin(r, "restart_needed");
	for (i = 0; i < changes.count; i++) {
		snprintf(text, sizeof(text), "%s changed: %s",
			changes.keys[i], CONFIG_RESTART_NOTE);
		ctl_reply_str(r, NULL, text);
	}
	ctl_reply_array_end(r);
	return 0;
}

static int
cmd_mode(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;

	if (req->argc != 1 || gateway_set_mode(ctx, req->argv[0]) != 0)
		return ctl_reply_error(r, -EINVAL,
			"usage: mode enforce|monitor-only");
	ctl_reply_str(r, "mode", req->argv[0]);
	return 0;
}

static int
cmd_log_reopen(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	int ret;

	(void)req;
	ret = gateway_reopen_logs(ctx);
	if (ret != 0)
		return ctl_reply_error(r, ret, "cannot reopen %s: %s",
			ctx->cfg->output.path, strerror(-ret));
	ctl_reply_str(r, "eve", ctx->cfg->output.path);
	return 0;
}

static int
cmd_segments(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	const struct policy_spec *spec = ctx->policy_spec;
	unsigned int id, i, v;
	char text[64];

	(void)req;
	ctl_reply_array_begin(r, "segments");
	for (id = 0; id <= spec->segment_count; id++) {
		ctl_reply_object_begin(r, NULL);
		ctl_reply_u64(r, "id", id);
		ctl_reply_str(r, "name", spec->segments[id].name);
		ctl_reply_array_begin(r, "prefixes");
		for (i = 0; i < spec->prefix_count; i++) {
			if (spec->prefixes[i].segment != id)
				continue;
			policy_config_format_prefix(&spec->prefixes[i], text,
				sizeof(text));
			ctl_reply_str(r, NULL, text);
		}
		ctl_reply_array_end(r);
		ctl_reply_array_begin(r, "vlans");
		for (v = 1; v < POLICY_VLAN_IDS; v++)
			if (spec->vlan_segment[v] == id && id != 0)
				ctl_reply_u64(r, NULL, v);
		ctl_reply_array_end(r);
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
	return 0;
}

static const char *
segment_or_any(const struct policy_spec *spec, uint16_t id)
{
	return id == POLICY_SEGMENT_ANY ? "any" : spec->segments[id].name;
}

static int
cmd_rules(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	const struct policy_spec *spec = ctx->policy_spec;
	unsigned int i;

	(void)req;
	ctl_reply_str(r, "mode", policy_mode_name(spec->mode));
	ctl_reply_str(r, "default_action",
		policy_action_name(spec->default_action));
	ctl_reply_str(r, "unverifiable_action",
		policy_unverifiable_name(spec->unverifiable_action ==
			POLICY_UNVERIFIABLE_DEFAULT ? POLICY_UNVERIFIABLE_DENY :
			spec->unverifiable_action));
	ctl_reply_array_begin(r, "rules");
	for (i = 0; i < spec->rule_count; i++) {
		const struct policy_rule_spec *rule = &spec->rules[i];

		ctl_reply_object_begin(r, NULL);
		ctl_reply_u64(r, "rule", i + 1);
		ctl_reply_str(r, "name", rule->name);
		ctl_reply_str(r, "from", segment_or_any(spec, rule->from));
		ctl_reply_str(r, "to", segment_or_any(spec, rule->to));
		ctl_reply_str(r, "action", policy_action_name(rule->action));
		if (rule->unverifiable_action != POLICY_UNVERIFIABLE_DEFAULT)
			ctl_reply_str(r, "unverifiable_action",
				policy_unverifiable_name(
					rule->unverifiable_action));
		ctl_reply_bool(r, "conditional", rule->dialects != 0 ||
			rule->share_classes != 0 || rule->pipe_classes != 0 ||
			rule->file_classes != 0 || rule->nonstandard_port >= 0 ||
			rule->encrypted != POLICY_ENCRYPTED_ANY);
		ctl_reply_u64(r, "line", (uint64_t)rule->line);
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
	return 0;
}

static int
parse_address(const char *text, uint8_t addr[16], uint8_t *ip_version)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*ip_version = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*ip_version = 6;
		return 0;
	}
	return -EINVAL;
}

/* policy check SRC DST [PORT]: which rule decides, and what it does. */
static int
cmd_policy_check(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	struct live_context *ctx = arg;
	const struct policy *pol = policy_current(ctx->policy);
	uint8_t src[16], dst[16], src_version, dst_version;
	uint16_t src_segment, dst_segment;
	struct policy_verdict v;

	if (req->argc < 2 || req->argc > 3)
		return ctl_reply_error(r, -EINVAL,
			"usage: policy check SRC DST [PORT]");
	if (parse_address(req->argv[0], src, &src_version) != 0 ||
			parse_address(req->argv[1], dst, &dst_version) != 0 ||
			src_version != dst_version)
		return ctl_reply_error(r, -EINVAL,
			"SRC and DST must be IPv4 or IPv6 addresses of one family");
	if (req->argc == 3 && (atoi(req->argv[2]) <= 0 ||
			atoi(req->argv[2]) > 65535))
		return ctl_reply_error(r, -EINVAL, "PORT must be 1 to 65535");
	src_segment = policy_segment_of(pol, src_version, src, 0);
	dst_segment = policy_segment_of(pol, dst_version, dst, 0);
	v = policy_pair_verdict(pol, src_segment, dst_segment);
	ctl_reply_str(r, "src_segment", policy_segment_name(pol, src_segment));
	ctl_reply_str(r, "dst_segment", policy_segment_name(pol, dst_segment));
	ctl_reply_u64(r, "rule", v.rule);
	ctl_reply_str(r, "rule_name", v.rule == 0 ? "default_action" :
		ctx->policy_spec->rules[v.rule - 1].name);
	ctl_reply_str(r, "verdict", policy_action_name(v.action));
	ctl_reply_bool(r, "blocks", (v.flags & POLICY_VERDICT_BLOCK) != 0);
	ctl_reply_bool(r, "resets", (v.flags & POLICY_VERDICT_RESET) != 0);
	ctl_reply_bool(r, "smb_conditions",
		(v.flags & POLICY_VERDICT_SMB_RULES) != 0);
	if (v.flags & POLICY_VERDICT_SMB_RULES) {
		/* What an SMB 3.1.1 session sealed after its logon gets. */
		struct policy_smb_facts sealed = {
			.dialect = POLICY_DIALECT_3_1_1,
			.encrypted = true,
		};
		struct policy_verdict u = policy_unverifiable_verdict(pol,
			src_segment, dst_segment, &sealed);

		ctl_reply_str(r, "sealed_session",
			policy_action_name(u.action));
		ctl_reply_u64(r, "sealed_session_rule", u.rule);
		ctl_reply_bool(r, "sealed_session_unverifiable",
			(u.flags & POLICY_VERDICT_UNVERIFIABLE) != 0);
	}
	ctl_reply_bool(r, "smb_conditions_block",
		(v.flags & POLICY_VERDICT_SMB_BLOCKS) != 0);
	ctl_reply_str(r, "mode", policy_mode_name(policy_mode(pol)));
	if (req->argc == 3)
		ctl_reply_str(r, "port_note", atoi(req->argv[2]) == 445 ||
			atoi(req->argv[2]) == 139 || atoi(req->argv[2]) == 135 ?
			"an SMB or RPC port" :
			"the policy applies here to SMB or DCE/RPC found by content");
	return 0;
}

int
commands_register(struct live_context *ctx)
{
	static const struct {
		const char *name;
		ctl_handler_t handler;
		const char *help;
	} commands[] = {
		{ "status", cmd_status,
			"version, uptime, mode, policy generation, config path" },
		{ "stats", cmd_stats,
			"ports, workers, drops by reason, decode (malformed by reason), flows, parsers, policy, events, control socket" },
		{ "flows", cmd_flows, "flows [FILTER] [LIMIT]: SMB and DCE/RPC flows" },
		{ "segments", cmd_segments, "segments: names, prefixes, VLANs" },
		{ "rules", cmd_rules, "rules: in order, first match wins" },
		{ "policy check", cmd_policy_check,
			"policy check SRC DST [PORT]: which rule, which verdict" },
		{ "alerts", cmd_alerts, "alerts [SINCE]: alerts raised, SINCE in epoch seconds" },
		{ "report", cmd_report, "report [YYYY-MM-DD] [csv]: SMB traffic allowed" },
		{ "reload", cmd_reload, "read and check the configuration file again" },
		{ "mode", cmd_mode, "mode enforce|monitor-only" },
		{ "log reopen", cmd_log_reopen, "reopen the EVE log" },
	};
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		ret = ctl_register(ctx->ctl, commands[i].name,
			commands[i].handler, ctx, commands[i].help);
		if (ret != 0)
			return ret;
	}
	return 0;
}
