/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_REDIS_VIEW_H
#define SMBGW_REDIS_VIEW_H

/*
 * The merged view of many gateways, read back from the Redis that their
 * outputs (redis_output.h) write to: the report summed over every
 * gateway, printed by the local report's own formatter, and the alerts of
 * every gateway. What `smbgwctl report --redis` and `smbgwctl alerts
 * --redis` call; blocking, for a command-line client, never for the
 * gateway itself.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "redis_output.h"

/*
 * Parses "HOST:PORT", "HOST" (port 6379), "[v6addr]:PORT" or a Unix
 * socket's path ("/run/redis/redis.sock") into
 * <params>' server and port. Returns 0 or -EINVAL.
 */
int
redis_view_parse_address(const char *text, struct redis_output_params *params);

/*
 * Prints the merged report of UTC day <day> (days since the epoch), or of
 * every day found with REPORT_ALL_DAYS, as report_write_csv() or
 * report_write_json() print a gateway's own: the hashes
 * <report_key>:YYYY-MM-DD of <params> summed into a report and written by
 * the same code; with <params>' gateway set, that gateway's own hashes
 * (<report_key>:YYYY-MM-DD:NAME) instead. Ports are listed in ascending order. Returns 0, or a
 * negative errno with a one-line cause in <error>: -EIO (connection,
 * AUTH), -EPROTO (a field that is not one the output writes), -ENOMEM.
 */
int
redis_view_report(const struct redis_output_params *params, uint32_t day,
	bool csv, FILE *out, char *error, size_t error_len);

/*
 * Prints the alert records (EVE lines with "event_type":"alert") of every
 * gateway from <params>' key and mode: what a list or stream holds, then,
 * with <follow>, new ones as they come until the connection ends (pubsub
 * can only follow). Returns 0, or a negative errno with <error> set.
 */
int
redis_view_alerts(const struct redis_output_params *params, bool follow,
	FILE *out, char *error, size_t error_len);

#endif /* SMBGW_REDIS_VIEW_H */
