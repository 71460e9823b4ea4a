/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_MONITOR_H
#define SMBGW_MONITOR_H

/*
 * The control core's monitoring: every worker event goes, in this order,
 * to the EVE log (so records precede the alerts they cause), the detector
 * (whose alerts go to the EVE log and a bounded in-memory list) and the
 * daily "SMB traffic allowed" report. One module so that live mode,
 * offline mode and the control socket drive it the same way.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "event.h"
#include "output_status.h"
#include "redis_output.h"

struct watchlist;
struct policy_publisher;
struct report;

/* What the operator sees of one alert (the latest state of it). */
struct monitor_alert {
	uint32_t signature_id;
	const char *signature;	/* static */
	const char *mitre_base;	/* static */
	char mitre[64];
	uint32_t count;
	uint64_t first_ns;
	uint64_t last_ns;
	uint8_t ip_version;
	uint8_t client_addr[16];
	uint8_t server_addr[16];
	char user[2 * EVENT_ACCOUNT_MAX + 2];	/* DOMAIN\user */
	char auth[12];		/* kind of that logon: ntlm, kerberos, "" */
	char share[EVENT_SHARE_MAX];
	char file[EVENT_NAME_MAX];
	char service[EVENT_NAME_MAX];
	char command[EVENT_COMMAND_MAX];
	char operations[256];
};

struct monitor_counters {
	uint64_t alerts;	/* raised (new) */
	uint64_t updates;	/* count or evidence grew */
	uint64_t alerts_dropped;	/* not kept in the list: it is full */
};

/* What the outputs wrote and lost (smbgwctl stats "outputs"). */
struct monitor_outputs {
	struct output_counters eve;	/* records of the EVE log file */
	struct output_counters report;	/* checkpoints of the report file */
	uint64_t report_rows_restored;	/* read back at start */
	uint64_t report_set_aside;	/* damaged checkpoints renamed .bad */
	uint64_t syslog_sent;		/* alerts the syslog socket took */
	uint64_t syslog_dropped;	/* ... and those it did not */
	bool redis;			/* output.redis is on */
	struct redis_output_counters redis_counters;
};

struct eve;
struct monitor;

/*
 * Creates the detector, opens the EVE log (cfg->output.path; none when
 * empty) and the report, as <cfg> says, with <watchlist> naming classes
 * and <policy> (may be NULL) naming segments. Call on the thread that
 * publishes <policy>. Returns NULL with a one-line cause in <error>.
 */
struct monitor *
monitor_create(const struct gateway_config *cfg,
	const struct watchlist *watchlist, struct policy_publisher *policy,
	char *error, size_t error_len);

/* Takes one worker event; a flowlog sink (void * for <monitor>). */
void
monitor_event(void *monitor, const struct gw_event *ev);

/*
 * From now on leaves out of the report the trusted prefixes of <cfg>,
 * report.trusted and policy.trusted: what a reload applies of them. Never
 * fails.
 */
void
monitor_set_trusted(struct monitor *monitor, const struct gateway_config *cfg);

/* Reopens the EVE log (SIGHUP, after logrotate). Returns 0 or -errno. */
int
monitor_reopen(struct monitor *monitor);

/* Writes out what the EVE log buffers; call about once a second. */
void
monitor_flush(struct monitor *monitor);

/*
 * Hands what the Redis output gathered to its sender (a short lock, never
 * a wait): call after each control loop pass that took events, so that
 * records reach Redis within a pass, not a second.
 */
void
monitor_pass(struct monitor *monitor);

/*
 * Reads the report checkpoint (report.path) back into the report: call
 * once at start, live only (a replay has its own days). A damaged file is
 * set aside with a warning. Returns the rows restored, 0 without a
 * checkpoint file, or a negative errno (the report then starts empty).
 */
int
monitor_restore_report(struct monitor *monitor);

/*
 * Saves the report checkpoint when report.path is set and the report
 * changed since the last one: call every report.checkpoint_interval
 * seconds and once at stop. Returns 0 or -errno (counted and logged; the
 * file keeps the previous checkpoint, and the next call tries again).
 */
int
monitor_checkpoint_report(struct monitor *monitor);

/* Fills <out> with the outputs' counters. Cannot fail. */
void
monitor_outputs(const struct monitor *monitor, struct monitor_outputs *out);

/*
 * Ends monitoring: the detector's open alerts are settled, open file
 * handles summarised and the EVE log closed. The report and alerts stay
 * readable until monitor_free().
 */
void
monitor_finish(struct monitor *monitor);

void
monitor_free(struct monitor *monitor);

const struct monitor_counters *
monitor_counters(const struct monitor *monitor);

/* The EVE log, or NULL when there is none. */
struct eve *
monitor_eve(struct monitor *monitor);

/* The alerts kept, oldest first; *count is set. */
const struct monitor_alert *
monitor_alerts(const struct monitor *monitor, unsigned int *count);

/* The daily report. */
const struct report *
monitor_report(const struct monitor *monitor);

/* Prints the alerts kept, one line each, under "== alerts ==". */
void
monitor_print_alerts(const struct monitor *monitor, FILE *out);

#endif /* SMBGW_MONITOR_H */
