/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_OUTPUT_STATUS_H
#define SMBGW_OUTPUT_STATUS_H

/*
 * The health of one output (the EVE log, the report checkpoint): what it
 * wrote, dropped and failed, and its failure episodes. An episode starts
 * at the first failure after a success and ends at the next success; each
 * is logged twice only, once when it starts ("... records are dropped and
 * counted until it recovers") and once when it ends ("writing resumed
 * after N records dropped"), to stderr and syslog, so that a full disk
 * neither floods the logs nor goes unnoticed.
 * Pure C: no DPDK; not thread-safe (one control thread owns it).
 */

#include <stdbool.h>
#include <stdint.h>

#define OUTPUT_STATUS_NAME_MAX	600

struct output_counters {
	uint64_t written;	/* records that reached the output whole */
	uint64_t dropped;	/* records that did not */
	uint64_t errors;	/* failed attempts (system calls that failed) */
	uint64_t episodes;	/* failure episodes begun */
};

struct output_status {
	char name[OUTPUT_STATUS_NAME_MAX];	/* "EVE log /var/log/eve.json" */
	const char *unit;	/* "records", "checkpoints" */
	bool failing;
	uint64_t dropped_in_episode;
	struct output_counters counters;
};

/*
 * Sets up <status> for the output called <what> at <path> (both copied,
 * <path> may be NULL), counting in <unit> (a static string). Cannot fail.
 */
void
output_status_init(struct output_status *status, const char *what,
	const char *path, const char *unit);

/*
 * <records> records reached the output. Ends an episode (logged) if one
 * was going on. Cannot fail.
 */
void
output_status_written(struct output_status *status, uint64_t records);

/*
 * An attempt failed with <err> (a positive errno) and <records> records
 * were lost with it (0 is allowed: the data may still be retried). Starts
 * an episode (logged) if none was going on. Cannot fail.
 */
void
output_status_failed(struct output_status *status, int err,
	uint64_t records);

/*
 * Logs one line, "smbgw: " and <fmt>, to stderr and to syslog (facility
 * daemon) at <priority> (LOG_WARNING, ...). Cannot fail.
 */
void
output_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* <records> records were lost without a failed call (no file open). */
void
output_status_dropped(struct output_status *status, uint64_t records);

#endif /* SMBGW_OUTPUT_STATUS_H */
