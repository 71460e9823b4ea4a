/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "detector.h"
#include "eve.h"
#include "flow.h"
#include "monitor.h"
#include "policy.h"
#include "redis_output.h"
#include "report.h"
#include "report_checkpoint.h"
#include "smb.h"
#include "utf8.h"

/* Alerts kept for operators; the EVE log has every one regardless. */
#define MONITOR_ALERTS_MAX 4096
/* Index of the kept alerts: open addressing, at most half full. */
#define MONITOR_INDEX_SLOTS (2 * MONITOR_ALERTS_MAX)
#define MONITOR_INDEX_EMPTY UINT16_MAX

struct monitor {
	size_t mapped_bytes;	/* of this structure, for munmap() */
	struct detector *detector;
	struct eve *eve;
	struct redis_output *redis;	/* NULL without output.redis */
	struct report *report;
	struct report_checkpoint *checkpoint;	/* NULL without report.path */
	uint64_t checkpoint_changes;	/* report changes in the last checkpoint */
	bool checkpointed;		/* one was written (or read) this run */
	struct output_counters eve_final;	/* the EVE log's, once closed */
	bool redis_on;
	struct redis_output_counters redis_final;	/* once stopped */
	struct monitor_counters counters;
	unsigned int alert_count;
	struct monitor_alert alerts[MONITOR_ALERTS_MAX];
	uint16_t index[MONITOR_INDEX_SLOTS];	/* alert positions by key */
	/* The policy's rule names, for connection records (flow.rule). */
	unsigned int rule_count;
	char rule_names[POLICY_RULES_MAX][POLICY_NAME_MAX];
};

/* An alert is one signature's, between one pair, raised at one time. */
static unsigned int
alert_slot(uint32_t signature_id, const uint8_t *client, const uint8_t *server,
	uint64_t first_ns)
{
	uint64_t h = 0xcbf29ce484222325ull ^ signature_id ^ first_ns;
	unsigned int i;

	for (i = 0; i < 16; i++)
		h = (h ^ client[i] ^ (uint64_t)server[i] << 8) * 0x100000001b3ull;
	return (unsigned int)(h ^ (h >> 32)) & (MONITOR_INDEX_SLOTS - 1);
}

static bool
alert_is(const struct monitor_alert *kept, const struct detector_alert *alert)
{
	return kept->signature_id == alert->signature->id &&
		kept->first_ns == alert->first_ns &&
		memcmp(kept->client_addr, alert->client_addr, 16) == 0 &&
		memcmp(kept->server_addr, alert->server_addr, 16) == 0;
}

/*
 * Finds the kept alert that <alert> updates; or, when it is new, returns
 * NULL with *free_slot set to the index slot it would take.
 */
static struct monitor_alert *
find_alert(struct monitor *monitor, const struct detector_alert *alert,
	unsigned int *free_slot)
{
	unsigned int slot = alert_slot(alert->signature->id,
		alert->client_addr, alert->server_addr, alert->first_ns);

	while (monitor->index[slot] != MONITOR_INDEX_EMPTY) {
		struct monitor_alert *kept =
			&monitor->alerts[monitor->index[slot]];

		if (alert_is(kept, alert))
			return kept;
		slot = (slot + 1) & (MONITOR_INDEX_SLOTS - 1);
	}
	*free_slot = slot;
	return NULL;
}

/*
 * Appends <src> to <dst> of <size> bytes, of which <used> are taken, as
 * snprintf(dst + used, size - used, "%s", src) would: cut to fit, always
 * terminated. Returns <used> plus the length of <src> (more than <size>
 * when cut), so that appends chain like snprintf's return values. Alerts
 * list an operation per DCE/RPC call: a format per name cost a thousand
 * instructions each.
 */
static size_t
append(char *dst, size_t size, size_t used, const char *src)
{
	size_t n = strlen(src);

	if (used + 1 < size) {
		size_t room = size - 1 - used;
		size_t copy = n < room ? n : room;

		memcpy(dst + used, src, copy);
		dst[used + copy] = '\0';
	}
	return used + n;
}

static void
keep_alert(struct monitor *monitor, const struct detector_alert *alert)
{
	const struct detector_evidence *ev = alert->evidence;
	unsigned int free_slot = 0;
	struct monitor_alert *kept = find_alert(monitor, alert, &free_slot);
	size_t used = 0;
	unsigned int i;

	if (kept == NULL) {
		if (monitor->alert_count == MONITOR_ALERTS_MAX) {
			monitor->counters.alerts_dropped++;
			return;
		}
		monitor->index[free_slot] = (uint16_t)monitor->alert_count;
		kept = &monitor->alerts[monitor->alert_count++];
		memset(kept, 0, sizeof(*kept));
		kept->signature_id = alert->signature->id;
		kept->signature = alert->signature->name;
		kept->mitre_base = alert->signature->mitre;
		kept->first_ns = alert->first_ns;
		kept->ip_version = alert->ip_version;
		memcpy(kept->client_addr, alert->client_addr, 16);
		memcpy(kept->server_addr, alert->server_addr, 16);
	}
	kept->count = alert->count;
	kept->last_ns = alert->last_ns;
	utf8_copy(kept->mitre, alert->mitre, sizeof(kept->mitre));
	if (ev == NULL)
		return;
	if (ev->user[0] != '\0')
		utf8_account_name(kept->user, sizeof(kept->user),
			ev->domain, ev->user);
	if (smb_auth_name(ev->auth) != NULL)
		utf8_copy(kept->auth, smb_auth_name(ev->auth),
			sizeof(kept->auth));
	if (ev->share[0] != '\0' || ev->repeated_share[0] != '\0')
		utf8_copy(kept->share,
			ev->share[0] ? ev->share : ev->repeated_share, sizeof(kept->share));
	if (ev->file[0] != '\0')
		utf8_copy(kept->file, ev->file, sizeof(kept->file));
	if (ev->service[0] != '\0')
		utf8_copy(kept->service, ev->service, sizeof(kept->service));
	if (ev->command[0] != '\0')
		utf8_copy(kept->command, ev->command, sizeof(kept->command));
	kept->operations[0] = '\0';
	for (i = 0; i < ev->operation_count && used < sizeof(kept->operations); i++) {
		if (i != 0)
			used = append(kept->operations, sizeof(kept->operations),
				used, ",");
		used = append(kept->operations, sizeof(kept->operations), used,
			ev->interfaces[i] ? ev->interfaces[i] : "?");
		used = append(kept->operations, sizeof(kept->operations), used,
			".");
		used = append(kept->operations, sizeof(kept->operations), used,
			ev->operations[i] ? ev->operations[i] : "?");
	}
}

static void
on_alert(void *arg, const struct detector_alert *alert)
{
	struct monitor *monitor = arg;
	const struct gw_event *ev = alert->event;
	struct eve_context ctx = { NULL, NULL, NULL, NULL };

	/* An alert on a policy decision says what the policy did. */
	if (ev != NULL && ev->kind == EVENT_POLICY &&
			ev->u.policy.action <= EVENT_ACTION_MONITORED) {
		ctx.src_segment = ev->u.policy.client_segment;
		ctx.dest_segment = ev->u.policy.server_segment;
		ctx.action = eve_action_name(ev->u.policy.action);
	} else if (ev != NULL && ev->kind == EVENT_FLOW &&
			ev->subtype == EVENT_FLOW_CLASSIFIED) {
		/* A connection refused at its first packet (a SYN, an SMB
		 * over QUIC hello) is classified with the policy's action. */
		ctx.action = eve_action_name(ev->u.flow.action);
	}
	if (alert->update)
		monitor->counters.updates++;
	else
		monitor->counters.alerts++;
	if (monitor->eve != NULL)
		eve_write_alert(monitor->eve, alert,
			ctx.action != NULL ? &ctx : NULL);
	keep_alert(monitor, alert);
}

/* The report's action for a flow: what the policy did with it. */
static enum report_action
report_action_of(const struct gw_event *ev)
{
	switch (ev->u.flow.action) {
	case EVENT_ACTION_DENIED:
		return REPORT_ACTION_DENIED;
	case EVENT_ACTION_MONITORED:
		return REPORT_ACTION_MONITORED;
	default:
		return REPORT_ACTION_ALLOWED;
	}
}

void
monitor_event(void *arg, const struct gw_event *ev)
{
	struct monitor *monitor = arg;
	struct report_entry delta;

	if (monitor->eve != NULL) {
		struct eve_context ctx = { NULL, NULL, NULL, NULL };
		const char *rule_name;

		/* A connection record names the rule that decided. */
		if (ev->kind == EVENT_FLOW && ev->u.flow.rule != 0 &&
				ev->u.flow.rule <= monitor->rule_count) {
			rule_name = monitor->rule_names[ev->u.flow.rule - 1];
			ctx.rule = rule_name[0] != '\0' ? rule_name : NULL;
		}
		eve_write_event(monitor->eve, ev, &ctx);
	}
	/* Connections that are not SMB or DCE/RPC: an EVE record only. */
	if (ev->kind == EVENT_FLOW && ev->u.flow.app != FLOW_APP_SMB &&
			ev->u.flow.app != FLOW_APP_DCERPC)
		return;
	detector_add(monitor->detector, ev, on_alert, monitor);
	if (ev->kind != EVENT_FLOW)
		return;
	/* The shared counters move when, and as, the local report does. */
	if (report_add_flow_delta(monitor->report, ev, report_action_of(ev),
			&delta) && monitor->redis != NULL)
		redis_output_report(monitor->redis, &delta);
}

/* The EVE writer's sink: each whole record, as formatted, to Redis. */
static void
record_to_redis(void *arg, const char *record, size_t len)
{
	redis_output_record(arg, record, len);
}

/*
 * The report leaves out trusted prefixes: its own (report.trusted) and the
 * policy's (policy.trusted), which exist for the same purpose.
 */
/* Copies the rule names of <cfg>'s policy (after a reload: the new ones). */
static void
set_rule_names(struct monitor *monitor, const struct gateway_config *cfg)
{
	unsigned int i;

	monitor->rule_count = cfg->policy.rule_count <= POLICY_RULES_MAX ?
		cfg->policy.rule_count : POLICY_RULES_MAX;
	for (i = 0; i < monitor->rule_count; i++)
		memcpy(monitor->rule_names[i], cfg->policy.rules[i].name,
			POLICY_NAME_MAX);
}

static void
set_trusted(struct report *report, const struct gateway_config *cfg)
{
	static struct report_prefix all[REPORT_TRUSTED_MAX];
	unsigned int count = 0, i;

	for (i = 0; i < cfg->report.trusted_count && count < REPORT_TRUSTED_MAX; i++)
		all[count++] = cfg->report.trusted[i];
	for (i = 0; i < cfg->policy.trusted_count && count < REPORT_TRUSTED_MAX; i++) {
		memcpy(all[count].addr, cfg->policy.trusted[i].addr, 16);
		all[count].ip_version = cfg->policy.trusted[i].ip_version;
		all[count].length = cfg->policy.trusted[i].depth;
		count++;
	}
	report_set_trusted(report, all, count);
}

/* The segment of an address under the running policy, for the detector. */
static const char *
segment_of(const uint8_t addr[16], uint8_t ip_version, void *arg)
{
	const struct policy *pol = policy_current(arg);

	if (pol == NULL)
		return NULL;
	return policy_segment_name(pol,
		policy_segment_of(pol, ip_version, addr, 0));
}

struct monitor *
monitor_create(const struct gateway_config *cfg,
	const struct watchlist *watchlist, struct policy_publisher *policy,
	char *error, size_t error_len)
{
	struct detector_params detector_params = cfg->detector;
	struct eve_params eve_params = cfg->output;
	size_t mapped_bytes;
	/*
	 * Faulted in now (the kept alerts are 6 MB): keeping an alert never
	 * waits for the kernel on the control core.
	 */
	struct monitor *monitor = flow_huge_map(sizeof(*monitor), true,
		&mapped_bytes);

	if (monitor == NULL) {
		snprintf(error, error_len, "cannot allocate the monitor");
		return NULL;
	}
	monitor->mapped_bytes = mapped_bytes;
	memset(monitor->index, 0xff, sizeof(monitor->index));
	detector_params.watchlist = watchlist;
	if (policy != NULL) {
		/* "SMB towards a workstation segment" names the policy's. */
		detector_params.segment_of = segment_of;
		detector_params.segment_arg = policy;
	}
	monitor->detector = detector_create(&detector_params);
	if (monitor->detector == NULL) {
		snprintf(error, error_len, "cannot create the detector: %s",
			strerror(errno));
		goto free_monitor;
	}
	if (cfg->redis.server[0] != '\0') {
		struct redis_output_params redis_params = cfg->redis;

		redis_params.report_days = cfg->report.days;
		snprintf(redis_params.gateway, sizeof(redis_params.gateway),
			"%s", cfg->name);
		monitor->redis = redis_output_create(&redis_params);
		if (monitor->redis == NULL) {
			snprintf(error, error_len,
				"cannot start the Redis output: %s",
				strerror(errno));
			goto free_detector;
		}
		monitor->redis_on = true;
		eve_params.sink = record_to_redis;
		eve_params.sink_arg = monitor->redis;
	}
	snprintf(eve_params.gateway, sizeof(eve_params.gateway), "%s",
		cfg->name);
	/* Without a file, records still go to Redis. */
	if (eve_params.path[0] != '\0' || monitor->redis != NULL) {
		eve_params.watchlist = watchlist;
		monitor->eve = eve_open(&eve_params);
		if (monitor->eve == NULL) {
			snprintf(error, error_len, "cannot open %s: %s",
				eve_params.path, strerror(errno));
			goto free_redis;
		}
	}
	monitor->report = report_create(&cfg->report);
	if (monitor->report == NULL) {
		snprintf(error, error_len, "cannot create the report: %s",
			strerror(errno));
		goto close_eve;
	}
	set_trusted(monitor->report, cfg);
	set_rule_names(monitor, cfg);
	if (cfg->report.path[0] != '\0') {
		monitor->checkpoint = report_checkpoint_create(cfg->report.path);
		if (monitor->checkpoint == NULL) {
			snprintf(error, error_len,
				"report.path %s: %s", cfg->report.path,
				strerror(errno));
			goto free_report;
		}
	}
	return monitor;

free_report:
	report_free(monitor->report);
close_eve:
	if (monitor->eve != NULL)
		eve_close(monitor->eve);
free_redis:
	redis_output_free(monitor->redis);
free_detector:
	detector_free(monitor->detector);
free_monitor:
	munmap(monitor, monitor->mapped_bytes);
	return NULL;
}

void
monitor_set_trusted(struct monitor *monitor, const struct gateway_config *cfg)
{
	set_trusted(monitor->report, cfg);
	set_rule_names(monitor, cfg);
}

int
monitor_reopen(struct monitor *monitor)
{
	return monitor->eve != NULL ? eve_reopen(monitor->eve) : 0;
}

void
monitor_flush(struct monitor *monitor)
{
	if (monitor->eve != NULL)
		eve_flush(monitor->eve);
	monitor_pass(monitor);
}

void
monitor_pass(struct monitor *monitor)
{
	if (monitor->redis != NULL)
		redis_output_flush(monitor->redis);
}

void
monitor_finish(struct monitor *monitor)
{
	if (monitor->detector != NULL)
		detector_flush(monitor->detector, on_alert, monitor);
	if (monitor->eve != NULL) {
		eve_close_counted(monitor->eve, &monitor->eve_final);
		monitor->eve = NULL;
	}
	/* Last, so that the records of the close above are sent too. */
	if (monitor->redis != NULL) {
		redis_output_close_counted(monitor->redis,
			&monitor->redis_final);
		monitor->redis = NULL;
	}
}

int
monitor_restore_report(struct monitor *monitor)
{
	int ret;

	if (monitor->checkpoint == NULL)
		return 0;
	ret = report_checkpoint_load(monitor->checkpoint, monitor->report);
	/* The file already has what was read: no need to write it again. */
	monitor->checkpoint_changes = report_counters(monitor->report)->changes;
	monitor->checkpointed = ret >= 0;
	return ret;
}

int
monitor_checkpoint_report(struct monitor *monitor)
{
	uint64_t changes;
	int ret;

	if (monitor->checkpoint == NULL)
		return 0;
	/* An idle gateway neither costs the control core nor wears the disk. */
	changes = report_counters(monitor->report)->changes;
	if (monitor->checkpointed && changes == monitor->checkpoint_changes)
		return 0;
	ret = report_checkpoint_save(monitor->checkpoint, monitor->report);
	if (ret == 0) {
		monitor->checkpoint_changes = changes;
		monitor->checkpointed = true;
	}
	return ret;
}

void
monitor_outputs(const struct monitor *monitor, struct monitor_outputs *out)
{
	memset(out, 0, sizeof(*out));
	out->eve = monitor->eve != NULL ?
		*eve_file_counters(monitor->eve) : monitor->eve_final;
	if (monitor->eve != NULL && eve_syslog_of(monitor->eve) != NULL) {
		const struct eve_syslog_counters *s =
			eve_syslog_counters(eve_syslog_of(monitor->eve));

		out->syslog_sent = s->sent;
		out->syslog_dropped = s->dropped;
	}
	if (monitor->checkpoint != NULL) {
		const struct report_checkpoint_counters *c =
			report_checkpoint_counters(monitor->checkpoint);

		out->report = c->saves;
		out->report_rows_restored = c->rows_restored;
		out->report_set_aside = c->set_aside;
	}
	out->redis = monitor->redis_on;
	if (monitor->redis != NULL)
		redis_output_counters(monitor->redis, &out->redis_counters);
	else
		out->redis_counters = monitor->redis_final;
}

void
monitor_free(struct monitor *monitor)
{
	if (monitor == NULL)
		return;
	monitor_finish(monitor);
	detector_free(monitor->detector);
	report_checkpoint_free(monitor->checkpoint);
	report_free(monitor->report);
	munmap(monitor, monitor->mapped_bytes);
}

struct eve *
monitor_eve(struct monitor *monitor)
{
	return monitor->eve;
}

const struct monitor_counters *
monitor_counters(const struct monitor *monitor)
{
	return &monitor->counters;
}

const struct monitor_alert *
monitor_alerts(const struct monitor *monitor, unsigned int *count)
{
	*count = monitor->alert_count;
	return monitor->alerts;
}

const struct report *
monitor_report(const struct monitor *monitor)
{
	return monitor->report;
}

void
monitor_print_alerts(const struct monitor *monitor, FILE *out)
{
	unsigned int i;

	fprintf(out, "== alerts ==\n");
	for (i = 0; i < monitor->alert_count; i++) {
		const struct monitor_alert *a = &monitor->alerts[i];
		int family = a->ip_version == 6 ? AF_INET6 : AF_INET;
		char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN];

		inet_ntop(family, a->client_addr, client, sizeof(client));
		inet_ntop(family, a->server_addr, server, sizeof(server));
		fprintf(out, "alert %" PRIu32 " \"%s\" %s -> %s count %" PRIu32
			" mitre %s user %s share %s file %s service %s command \"%s\" operations %s auth %s\n",
			a->signature_id, a->signature, client, server, a->count,
			a->mitre[0] ? a->mitre : "-",
			a->user[0] ? a->user : "-", a->share[0] ? a->share : "-",
			a->file[0] ? a->file : "-",
			a->service[0] ? a->service : "-", a->command,
			a->operations[0] ? a->operations : "-",
			a->auth[0] ? a->auth : "-");
	}
	fflush(out);
}
