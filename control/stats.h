/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_STATS_H
#define SMBGW_STATS_H

/*
 * Counter reports for operators: the accounting table per port (with the
 * rx == tx + drops identity checked on every row), decode counts and, for
 * live ports, what the devices themselves counted.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"

struct worker;
struct watchlist;
struct watchlist_counters;
struct flowlog_counters;
struct inspect_counters;
struct flow_table_stats;
struct monitor;

/* Sums the counters of <worker_count> workers into <total>. */
void
stats_sum(struct worker_counters *total, struct worker *const *workers,
	unsigned int worker_count);

/*
 * Prints the accounting table for ports <names>[0..<port_count>) from
 * <total> to <out>, headed by <title>, and the IP fragment counts. Returns
 * true when every port satisfies rx == tx + sum(drops) + reassembled +
 * held.
 */
bool
stats_print(FILE *out, const char *title, const struct worker_counters *total,
	const char *const *names, unsigned int port_count);

/* Prints the device counters (rte_eth_stats) of DPDK ports <port_ids>. */
/*
 * Prints one line per worker and port when there are several workers:
 * what that worker received on its queue of the port and what became of
 * it, rx + redirected_in == tx + drops + reassembled + held +
 * redirected_out checked per queue. Returns whether every queue balances.
 */
bool
stats_print_queues(FILE *out, struct worker *const *workers,
	unsigned int worker_count, const char *const *names,
	unsigned int port_count);

void
stats_print_devices(FILE *out, const uint16_t *port_ids,
	const char *const *names, unsigned int port_count);

struct ctl_reply;

/*
 * Writes the decode counters <d> (frames by header, malformed in all and
 * by reason) into <reply> as the object <key>: the "decode" section of
 * the stats command.
 */
void
stats_reply_decode(struct ctl_reply *reply, const char *key,
	const struct decode_counters *d);

/*
 * Sums the inspection counters of <worker_count> workers: inspectors into
 * <ic>, flow tables into <fs>, watchlist scratches into <wc> (may be NULL).
 */
void
stats_sum_inspection(struct worker *const *workers, unsigned int worker_count,
	struct inspect_counters *ic, struct flow_table_stats *fs,
	struct watchlist_counters *wc);

/*
 * Prints the inspection counters of <worker_count> workers, summed: flow
 * table, SMB/DCE-RPC classification by method and dialect, parsers,
 * events, watchlist hits (class names from <watchlist>, may be NULL), and
 * the control core's event counters <log> (may be NULL).
 */
void
stats_print_inspection(FILE *out, struct worker *const *workers,
	unsigned int worker_count, const struct watchlist *watchlist,
	const struct flowlog_counters *log);

/*
 * Prints what the outputs wrote and lost: the EVE log's records and the
 * report checkpoints (written, dropped, errors). <monitor> may be NULL.
 */
void
stats_print_outputs(FILE *out, const struct monitor *monitor);

/*
 * Writes a stats record of the workers' and the monitor's counters to
 * the monitor's EVE log, if it has one (output.stats_interval).
 */
void
stats_write_eve(struct monitor *monitor, uint64_t ts_ns, uint64_t uptime_s,
	struct worker *const *workers, unsigned int worker_count,
	unsigned int port_count);

#endif /* SMBGW_STATS_H */
