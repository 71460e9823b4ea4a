/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_EVE_H
#define SMBGW_EVE_H

/*
 * EVE output: one JSON object per line in Suricata's EVE layout: fields
 * Suricata defines keep its names, types and meanings, smbgw's own sit
 * beside them (docs/detection.md, "EVE records", lists both). Record
 * types: alert, smb, dcerpc, flow, stats. Records are made with the one
 * JSON writer of ctl_json.h.
 *
 * smb records stay readable at volume: one per logon, per tree connect
 * and per file handle; a handle is summarised when it is closed, when its
 * flow ends, or when it is evicted from the table of open handles
 * (max_handles, least recently opened first) — never one record per READ
 * or WRITE. DCE/RPC: one record per bind, request and fault, named from
 * the interface UUID and opnum; on a named pipe nested in an smb record
 * (smb.dcerpc), over TCP a dcerpc record. flow: the connection record,
 * when a tracked connection ends (output.flows).
 *
 * src is always the client and dest the server of the connection,
 * whichever direction the message went.
 *
 * Records go to a file, reopened by eve_reopen() (on SIGHUP, after
 * logrotate moved it), and optionally alerts also to syslog (RFC 5424,
 * eve_syslog.h). Each record reaches the file whole or not at all
 * (record_file.h): records the file does not take (full disk, I/O error)
 * are dropped, counted and the episode logged once, and writing resumes
 * by itself. Pure C: no DPDK; not thread-safe (one control thread owns
 * it).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "detector.h"
#include "eve_syslog.h"
#include "event.h"
#include "output_status.h"

struct watchlist;

#define EVE_PATH_MAX		512

/*
 * flow_id keeps 51 bits, as Suricata's does, so that JavaScript and jq
 * (doubles) read it exactly.
 */
#define EVE_FLOW_ID_MASK	((1ull << 51) - 1)

/* Which connections get a flow record (output.flows). */
enum eve_flows {
	EVE_FLOWS_ALL = 0,	/* every connection the gateway tracked */
	EVE_FLOWS_SMB_DCERPC,	/* SMB and DCE/RPC connections only */
	EVE_FLOWS_SAMPLED,	/* SMB/DCE-RPC all, others 1 in flows_sample */
};
/* Bytes of one record at most; longer ones are dropped and counted. */
#define EVE_RECORD_MAX		16384
#define EVE_GATEWAY_MAX		64

struct eve_params {
	char path[EVE_PATH_MAX];	/* "" for no file */
	bool syslog;			/* alerts also to syslog (RFC 5424) */
	/* "" (local /dev/log), "udp://ADDR:PORT" or "tcp://ADDR:PORT" */
	char syslog_target[EVE_SYSLOG_TARGET_MAX];
	unsigned int stats_interval;	/* seconds between stats records, 0: none */
	enum eve_flows flows;		/* which connections get flow records */
	unsigned int flows_sample;	/* flows = sampled: 1 in this many */
	unsigned int max_handles;	/* open handles tracked, 16..2^20 */
	/* Set at run time: names the watchlist classes of records. */
	const struct watchlist *watchlist;
	/*
	 * Set at run time: the gateway's name (gateway.name), written first
	 * in every record as "gateway"; "" leaves the member out.
	 */
	char gateway[EVE_GATEWAY_MAX];
	/*
	 * Set at run time, may be NULL: given every whole record, '\n'
	 * included, as it goes to the file (the Redis output). Must not block.
	 */
	void (*sink)(void *arg, const char *record, size_t len);
	void *sink_arg;
	/* write(2) unless set: tests inject short writes and errors. */
	ssize_t (*write)(int fd, const void *buf, size_t len);
};

/*
 * What the caller knows of a record beyond the event: the segments of the
 * two ends, the policy action and the rule.
 * Any field may be NULL, and the whole context may be NULL.
 */
struct eve_context {
	const char *src_segment;
	const char *dest_segment;
	const char *action;	/* "allowed", "blocked", "would-block" */
	const char *rule;	/* the policy rule that decided, or NULL */
};

/* One named counter of a stats record. */
struct eve_stat {
	const char *name;	/* JSON key; may contain '.' for nesting by consumers */
	uint64_t value;
};

struct eve_counters {
	uint64_t records[6];	/* alert, smb, dcerpc, flow, stats, quic */
	uint64_t write_errors;	/* writes that failed (eve_file_counters()) */
	uint64_t oversize;	/* records longer than EVE_RECORD_MAX, dropped */
	uint64_t handles_evicted;	/* summarised early: table full */
	uint64_t reopens;
};

struct eve;

/* Fills <params> with the defaults: no file, no syslog, 4096 handles. */
void
eve_params_set_defaults(struct eve_params *params);

/*
 * Opens the output described by <params>: the file is opened for
 * appending (created with mode 0640; a cut-off last line left by a crash
 * is removed), syslog opened if asked. Returns NULL and sets errno on
 * failure: EINVAL for bad params, ENOMEM, or the errno of open().
 */
struct eve *
eve_open(const struct eve_params *params);

/*
 * Closes and reopens the file (after logrotate renamed it). Returns 0, or
 * -errno if the file cannot be opened again; the writer then drops and
 * counts records until a later reopen succeeds.
 */
int
eve_reopen(struct eve *eve);

/*
 * Summarises every handle still open (reason "shutdown"), flushes and
 * closes. NULL is allowed.
 */
void
eve_close(struct eve *eve);

/*
 * As eve_close(), and copies the file's final counters (those of
 * eve_file_counters(), last flush included) to <file_counters>.
 */
void
eve_close_counted(struct eve *eve, struct output_counters *file_counters);

/*
 * Takes one worker event: writes the smb, dcerpc or flow record it makes,
 * if any, and keeps the open handle table. <ctx> may be NULL. Returns the
 * number of records written, or -EIO when the file refused one (counted).
 */
int
eve_write_event(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx);

/*
 * Writes an alert record for <alert> (new or update). <ctx> may be NULL.
 * Returns 0, or -EIO when the file refused it (counted).
 */
int
eve_write_alert(struct eve *eve, const struct detector_alert *alert,
	const struct eve_context *ctx);

/*
 * Writes a stats record at <ts_ns> with <count> counters. Returns 0 or
 * -EIO.
 */
int
eve_write_stats(struct eve *eve, uint64_t ts_ns, const struct eve_stat *stats,
	unsigned int count);

/*
 * Writes out the records buffered (call about once a second). Returns 0
 * or -EIO when the file refused them (dropped and counted).
 */
int
eve_flush(struct eve *eve);

/* Counters of <eve>, valid while it lives. Cannot fail. */
const struct eve_counters *
eve_counters(const struct eve *eve);

/*
 * What the file took: records written whole, dropped, failed writes and
 * failure episodes; all zero without a file (or for a NULL <eve>).
 * Valid while <eve> lives. Cannot fail.
 */
const struct output_counters *
eve_file_counters(const struct eve *eve);

/*
 * Writes <ts_ns> as "2026-11-24T08:46:04.123456+0000" into <buf> (at least
 * 32 bytes). Returns <buf>.
 */
char *
eve_format_time(uint64_t ts_ns, char *buf, size_t len);

/* The syslog output of <eve>, or NULL when alerts do not go to syslog. */
const struct eve_syslog *
eve_syslog_of(const struct eve *eve);

/* <id> as EVE writes it (flow_id): its low 51 bits. */
uint64_t
eve_flow_id(uint64_t id);

/* EVE's name of an enum event_action: "allowed", "blocked", "would-block". */
const char *
eve_action_name(uint8_t action);

#endif /* SMBGW_EVE_H */
