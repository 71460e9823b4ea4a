/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_REDIS_OUTPUT_H
#define SMBGW_REDIS_OUTPUT_H

/*
 * EVE records and report counters to Redis, so that many gateways give
 * one view (docs/operations.md, "Many gateways, one Redis").
 *
 * The control core hands over whole EVE lines (already formatted by
 * eve.c) and report deltas (what report_add_flow_delta() added to a row);
 * a sender thread of this module's own takes them from a bounded queue
 * and talks to Redis with blocking hiredis calls bounded by timeout_ms.
 * The control core never waits on the network: items gather in a batch
 * of its own (64 at most) that goes into the queue under one short lock
 * when full and at redis_output_flush(); what the queue has no room for
 * is dropped, counted. A lost connection is retried with a backoff doubling from
 * 100 ms to 5 s; what was in flight when it broke is counted dropped.
 *
 * Records go to <key> by mode: RPUSH (list), XADD with MAXLEN ~
 * stream_maxlen and one field "eve" (stream), PUBLISH (pubsub). Report
 * deltas become HINCRBY on the hash <report_key>:YYYY-MM-DD, one field per
 * pair and column ("SRC|DST|connections", see redis_report_field()), so
 * that every gateway adds to the same counters and none is counted twice;
 * the hash expires report_days + 1 days after its last change. A gateway
 * with a name also counts in a hash of its own per day.
 *
 * Counters are read with redis_output_counters() from any thread.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define REDIS_SERVER_MAX	256
#define REDIS_KEY_MAX		128
#define REDIS_USER_MAX		64
#define REDIS_PASSWORD_MAX	256
#define REDIS_GATEWAY_NAME_MAX	64

enum redis_mode {
	REDIS_MODE_LIST = 0,
	REDIS_MODE_STREAM,
	REDIS_MODE_PUBSUB,
};

struct redis_output_params {
	/* host name or address, or a Unix socket's path (from '/'); "" for none */
	char server[REDIS_SERVER_MAX];
	unsigned int port;		/* 1..65535, default 6379 */
	char key[REDIS_KEY_MAX];	/* EVE records: default "smbgw:eve" */
	unsigned int mode;		/* enum redis_mode */
	char user[REDIS_USER_MAX];	/* ACL user ("" for AUTH password) */
	char password[REDIS_PASSWORD_MAX];	/* "" for no AUTH */
	unsigned int queue_size;	/* items waiting: 16..2^20, 4096 */
	unsigned int timeout_ms;	/* connect, read, write: 10..60000 */
	unsigned int stream_maxlen;	/* stream mode trim; 0: none */
	bool report;			/* report counters too (default) */
	char report_key[REDIS_KEY_MAX];	/* default "smbgw:report" */
	unsigned int report_days;	/* hash lifetime in days, 1..366 */
	/*
	 * Set at run time (gateway.name), "" for none: the report also goes
	 * to this gateway's own hash per day, <report_key>:YYYY-MM-DD:NAME,
	 * for a per-gateway view; redis_view.h reads that one when set.
	 */
	char gateway[REDIS_GATEWAY_NAME_MAX];
};

struct redis_output_counters {
	uint64_t sent;		/* items Redis acknowledged */
	uint64_t dropped;	/* items lost: queue full, connection lost */
	uint64_t errors;	/* failed connects, I/O errors, error replies */
	uint64_t connects;	/* connections made */
	uint64_t queued;	/* waiting now */
};

struct redis_output;

/*
 * How the sender thread is started: pthread_create() unless set. A DPDK
 * process sets rte_ctrl_thread_create(), so that the thread runs on the
 * CPUs left to control threads rather than on the main lcore it would
 * otherwise inherit (and compete with). Set once, before any output is
 * created.
 */
typedef int (*redis_thread_create_fn)(pthread_t *thread, const char *name,
	const pthread_attr_t *attr, void *(*start)(void *), void *arg);

void
redis_output_set_thread_create(redis_thread_create_fn create);

/* Fills <params> with the defaults: no server (off). Cannot fail. */
void
redis_output_params_set_defaults(struct redis_output_params *params);

/* The mode's name ("list", "stream", "pubsub"), or NULL. */
const char *
redis_mode_name(unsigned int mode);

/*
 * Parses "list", "stream" or "pubsub" into *mode. Returns 0 or -EINVAL.
 */
int
redis_mode_parse(const char *name, unsigned int *mode);

/*
 * Starts the output described by <params> (copied): allocates the queue
 * and starts the sender thread, which connects in the background (a
 * Redis that is down is not an error here: it is retried). Returns NULL
 * and sets errno: EINVAL for bad params, ENOMEM, or the error of
 * pthread_create().
 */
struct redis_output *
redis_output_create(const struct redis_output_params *params);

/*
 * Queues one EVE record of <len> bytes (its '\n' is left out of what is
 * sent). Never blocks. Returns 0, or -ENOMEM (the record is dropped and
 * counted); a full queue is found, and counted, at the handover.
 */
int
redis_output_record(struct redis_output *ro, const char *line, size_t len);

/*
 * Hands the items gathered so far to the sender; call about once a
 * control loop pass (monitor_flush()). Never blocks; cannot fail (what
 * does not fit is counted dropped).
 */
void
redis_output_flush(struct redis_output *ro);

/*
 * Queues the report delta <delta> (a row's day, pair and what one event
 * added to it). Never blocks. Returns 0 or -ENOMEM (dropped and counted).
 */
int
redis_output_report(struct redis_output *ro, const struct report_entry *delta);

/* Copies the counters into <out>. Safe from any thread; cannot fail. */
void
redis_output_counters(const struct redis_output *ro,
	struct redis_output_counters *out);

/*
 * Stops the sender: what is queued is sent if Redis is reachable within
 * about timeout_ms, the rest counted dropped; then frees. NULL is allowed.
 */
void
redis_output_free(struct redis_output *ro);

/* As redis_output_free(), and copies the final counters to <final>. */
void
redis_output_close_counted(struct redis_output *ro,
	struct redis_output_counters *final);

/*
 * Writes the hash field of <column> for the pair of <entry>:
 * "SRC|DST|COLUMN" into <buf>. Returns the length or -ENOSPC.
 */
int
redis_report_field(const struct report_entry *entry, const char *column,
	char *buf, size_t size);

/*
 * The hash of <day>: "<report_key>:YYYY-MM-DD", or with <gateway> (not
 * NULL or "") that gateway's own, "<report_key>:YYYY-MM-DD:<gateway>".
 * Returns <buf>.
 */
char *
redis_report_key(const char *report_key, uint32_t day, const char *gateway,
	char *buf, size_t size);

#endif /* SMBGW_REDIS_OUTPUT_H */
