/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_FLOWLOG_H
#define SMBGW_FLOWLOG_H

/*
 * The control core's side of the worker event rings: drains them in
 * bursts, counts events by kind, and keeps one summary row per SMB or
 * DCE/RPC flow (endpoints, how it was recognised, dialect, logons, shares
 * and watchlist classes seen), in a table of fixed capacity.
 */

#include <stdint.h>
#include <stdio.h>

#include "event.h"

struct rte_ring;
struct watchlist;

struct flowlog_counters {
	uint64_t events;
	uint64_t flow_events;
	uint64_t smb_events;
	uint64_t dcerpc_events;
	uint64_t rows;			/* flows summarised */
	uint64_t rows_dropped;		/* summary table full of open flows */
	uint64_t rows_recycled;		/* ended flows' rows given to new ones */
};

struct flowlog;

/*
 * Creates a summary table for up to <capacity> flows; <watchlist> (may be
 * NULL) names the classes when printing. Returns NULL and sets errno on
 * failure.
 */
struct flowlog *
flowlog_create(unsigned int capacity, const struct watchlist *watchlist);

void
flowlog_free(struct flowlog *log);

/* Receives every event after the summary has taken it. */
typedef void (*flowlog_sink_fn)(void *ctx, const struct gw_event *ev);

/* Passes every event on to <fn> with <ctx> (NULL: to nobody). */
void
flowlog_set_sink(struct flowlog *log, flowlog_sink_fn fn, void *ctx);

/* Takes one event into the summary. */
void
flowlog_add(struct flowlog *log, const struct gw_event *ev);

/*
 * Drains up to <max> events from <ring> into <log>. Returns how many were
 * taken.
 */
unsigned int
flowlog_drain(struct flowlog *log, struct rte_ring *ring, unsigned int max);

/*
 * One pass of the control core over the workers' event rings <rings>[0..
 * <count>): up to <budget> events from each, in turn, so that a worker
 * whose ring never empties (a SYN storm, a scan) delays the others' events
 * by at most one budget each pass instead of starving them. Returns how
 * many were taken.
 */
unsigned int
flowlog_drain_rings(struct flowlog *log, struct rte_ring *const *rings,
	unsigned int count, unsigned int budget);

const struct flowlog_counters *
flowlog_counters(const struct flowlog *log);

#define FLOWLOG_LINE_MAX 1024

/* Receives one flow's line; a non-zero return stops the walk. */
typedef int (*flowlog_line_fn)(void *arg, const char *line);

/*
 * Calls <fn> with one line per summarised flow, in the order they were
 * first seen (the lines flowlog_print() prints). Returns 0, what <fn>
 * returned to stop, or -ENOMEM.
 */
int
flowlog_lines(const struct flowlog *log, flowlog_line_fn fn, void *arg);

/*
 * Prints one line per summarised flow, in the order they were first seen,
 * under the heading "== SMB and DCE/RPC flows ==".
 */
void
flowlog_print(const struct flowlog *log, FILE *out);

#endif /* SMBGW_FLOWLOG_H */
