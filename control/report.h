/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_REPORT_H
#define SMBGW_REPORT_H

/*
 * The report "SMB traffic allowed": per UTC day and per source (client)
 * / destination (server) pair, the SMB and DCE/RPC connections seen, their
 * bytes, the server ports, how they were recognised (port or content) and
 * what policy did (allowed, denied, monitored). Exported as one JSON
 * document or as CSV.
 *
 * A connection is counted on the day it was classified (EVENT_FLOW
 * CLASSIFIED); its bytes are added on the day it ended (EVENT_FLOW END,
 * which carries the totals). A connection whose client or server lies in
 * a trusted prefix is left out. Days come from the event timestamps; when
 * a day beyond the retention arrives, the oldest days are dropped.
 *
 * Memory is fixed at creation: max_rows rows of report_row_bytes() each;
 * a row that does not fit is dropped and counted, never another evicted.
 * Pure C: no DPDK; not thread-safe (one control thread owns it).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"

#define REPORT_TRUSTED_MAX	64
/* Distinct server ports listed per row; more are counted. */
#define REPORT_PORTS_MAX	8
#define REPORT_ALL_DAYS		UINT32_MAX
#define REPORT_PATH_MAX		512

enum report_action {
	REPORT_ACTION_ALLOWED = 0,
	REPORT_ACTION_DENIED,
	REPORT_ACTION_MONITORED,
	REPORT_ACTION_COUNT,
};

/* An address prefix: <length> leading bits of <addr>. */
struct report_prefix {
	uint8_t addr[16];	/* IPv4 in the first 4 bytes */
	uint8_t ip_version;	/* 4 or 6 */
	uint8_t length;		/* 0..32 or 0..128 */
};

struct report_params {
	unsigned int days;	/* days kept, today included: 1..366 */
	unsigned int max_rows;	/* day x pair rows: 16..2^22 */
	unsigned int trusted_count;
	struct report_prefix trusted[REPORT_TRUSTED_MAX];
	/*
	 * Kept by the caller (report_checkpoint.h), not by the report: the
	 * file the report is checkpointed to ("" for none) and the seconds
	 * between checkpoints (0: only at stop).
	 */
	char path[REPORT_PATH_MAX];
	unsigned int checkpoint_interval;
};

/* One row of the report: one UTC day of one client/server pair. */
struct report_entry {
	uint32_t day;		/* days since 1970-01-01 */
	uint8_t ip_version;	/* 4 or 6 */
	uint8_t client[16];
	uint8_t server[16];
	uint8_t port_count;
	uint16_t ports[REPORT_PORTS_MAX];
	uint32_t ports_more;	/* distinct ports beyond REPORT_PORTS_MAX */
	uint64_t connections;
	uint64_t bytes[2];	/* to server, to client */
	uint64_t by_port;
	uint64_t by_content;
	uint64_t actions[REPORT_ACTION_COUNT];
};

struct report_counters {
	uint64_t flows;		/* CLASSIFIED events counted */
	uint64_t trusted;	/* left out: an end in a trusted prefix */
	uint64_t rows;		/* in use */
	uint64_t rows_dropped;	/* no room: the connection went uncounted */
	uint64_t days_expired;	/* days with rows dropped for retention */
	uint64_t late;		/* events of a day already dropped */
	uint64_t changes;	/* rows changed: a checkpoint is due when it moved */
};

struct report;

/*
 * Fills <params> with the defaults: 7 days, 65536 rows, nothing trusted,
 * no checkpoint file, a checkpoint every 60 s when there is one.
 */
void
report_params_set_defaults(struct report_params *params);

/*
 * Parses "10.0.0.0/8", "fd00::/8" or a bare address (a host prefix) into
 * <out>. Bits beyond the length must be zero. Returns 0 or -EINVAL.
 */
int
report_prefix_parse(const char *text, struct report_prefix *out);

/*
 * Creates an empty report with <params> (copied). Returns NULL and sets
 * errno: EINVAL for bad params, ENOMEM.
 */
struct report *
report_create(const struct report_params *params);

/* Frees <report> (NULL is allowed). */
void
report_free(struct report *report);

/*
 * Replaces the trusted prefixes (on reload). Rows already counted stay.
 * Returns 0, or -EINVAL if <count> exceeds REPORT_TRUSTED_MAX or a prefix
 * is malformed.
 */
int
report_set_trusted(struct report *report, const struct report_prefix *prefixes,
	unsigned int count);

/*
 * Takes one event; only EVENT_FLOW CLASSIFIED and END count. <action> is
 * what policy did with the connection (REPORT_ACTION_ALLOWED until policy
 * exists). Cannot fail: what does not fit is counted.
 */
void
report_add_flow(struct report *report, const struct gw_event *ev,
	enum report_action action);

/*
 * As report_add_flow(), and says what the event added: returns true, with
 * <delta> set to the row's day and pair and the counts it moved (one
 * connection, its port, method and action at CLASSIFIED; bytes and the
 * port, uncounted, at END), when the event counts: an EVENT_FLOW
 * CLASSIFIED or END whose ends are not trusted and whose day is kept.
 * That is also true when the local row could not be stored (counted
 * rows_dropped), so that a shared view (redis_output.h) counts every
 * connection exactly once, when the local report counts it.
 */
bool
report_add_flow_delta(struct report *report, const struct gw_event *ev,
	enum report_action action, struct report_entry *delta);

/*
 * Writes the rows of UTC day <day> (days since 1970-01-01), or of every
 * day kept with REPORT_ALL_DAYS, sorted by day, source and destination:
 * as one JSON document, or as CSV with a header line. Returns 0, or -EIO
 * if <out> reported an error.
 */
int
report_write_json(const struct report *report, FILE *out, uint32_t day);

int
report_write_csv(const struct report *report, FILE *out, uint32_t day);

/*
 * Calls <fn> with each row of UTC day <day> (or of every day kept with
 * REPORT_ALL_DAYS), in the order report_write_*() use. Returns 0,
 * -ENOMEM when the rows cannot be sorted, or the first non-zero value
 * <fn> returned (which ends the walk).
 */
int
report_foreach(const struct report *report, uint32_t day,
	int (*fn)(const struct report_entry *entry, void *arg), void *arg);

/*
 * Adds the counts of <entry> to its row, creating the row if needed (a
 * checkpoint read back at start). Days move on as with events: a newer
 * day drops the days beyond the retention. Returns 0, -EINVAL for a
 * malformed entry, -ESTALE for a day older than the retention (counted
 * late), or -ENOSPC when no row is free (counted rows_dropped).
 */
int
report_merge(struct report *report, const struct report_entry *entry);

/* The UTC day of <ts_ns>, for report_write_*(). */
uint32_t
report_day_of(uint64_t ts_ns);

/* Counters of <report>, valid while it lives. Cannot fail. */
const struct report_counters *
report_counters(const struct report *report);

/* Bytes of one row, index included: what max_rows costs. Cannot fail. */
size_t
report_row_bytes(void);

#endif /* SMBGW_REPORT_H */
