/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_DETECTOR_H
#define SMBGW_DETECTOR_H

/*
 * Detection rules over the workers' events, run on the control core.
 *
 * The detector keeps state per client/server host pair (addresses only:
 * every port and flow between two hosts counts, so SMB on 445 and
 * DCE/RPC over TCP add to the same pair) and per client (logon failures
 * towards any server). It reads no clock: every time it compares comes
 * from the events, so a replay always gives the same alerts.
 *
 * CM0062 (lateral movement) is raised when the required conditions all
 * hold with their evidence inside one window (default 600 s):
 *
 *   logon       a successful, non-anonymous SESSION_SETUP;
 *   admin_exec  an executable written to an admin share (a CREATE with
 *               write access or a create/overwrite disposition, then a
 *               WRITE on that handle), or a svcctl service created,
 *               reconfigured or started, or an atsvc job or a
 *               ITaskSchedulerService task registered or run;
 *   share_repeat at least share_open_threshold accesses (tree connects
 *               and CREATEs, requests as sent) to one share.
 *
 * Other rules stand alone (see enum detector_rule). A session the policy
 * cannot read (EVENT_POLICY with event_policy.unverifiable: sealed, or
 * compressed beyond inflation) on a pair whose SMB-level deny rules it
 * could pass unseen raises 9000009, allowed or denied, with the user and
 * the kind of logon (NTLM or Kerberos) of the pair's last logon; the
 * severity-3 note 9000008 is then not raised for that connection.
 *
 * Every rule raises at most one alert per pair (per client for logon
 * failures) per window:
 * later hits inside the window add to its count and are reported as
 * updates when the count reaches a power of two or, for CM0062, when the
 * evidence gains a kind of execution; detector_flush() reports the counts
 * not yet reported.
 *
 * Memory is fixed at creation: max_pairs pair entries of
 * detector_pair_bytes() each and max_clients client entries of
 * detector_client_bytes() each; when full, the least recently used entry
 * is evicted and counted.
 *
 * Pure C: no DPDK, no allocation after detector_create(), not thread-safe
 * (one control thread owns it).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rpc_rules.h"

struct watchlist;

/* Limits of the configuration. */
#define DETECTOR_SHARE_THRESHOLD_MAX	16
#define DETECTOR_LOGON_FAILURES_MAX	64
#define DETECTOR_SEGMENTS_MAX		16
#define DETECTOR_SEGMENT_NAME_MAX	32
/* Distinct RPC operations kept as evidence per pair. */
#define DETECTOR_OPERATIONS_MAX		8
/* ATT&CK ids of one alert, comma separated. */
#define DETECTOR_MITRE_MAX		48

/* The rules; each has a fixed signature id (detector_signature()). */
enum detector_rule {
	DETECTOR_RULE_LATERAL_MOVEMENT = 0,	/* 9000001 CM0062 */
	DETECTOR_RULE_SERVICE_CREATION,		/* 9000002 */
	DETECTOR_RULE_ADMIN_SHARE_EXECUTABLE,	/* 9000003 */
	DETECTOR_RULE_LOGON_FAILURE_BURST,	/* 9000004 */
	DETECTOR_RULE_SMB1,			/* 9000005 */
	DETECTOR_RULE_WORKSTATION_TARGET,	/* 9000006 */
	DETECTOR_RULE_NONSTANDARD_PORT,		/* 9000007 */
	DETECTOR_RULE_ENCRYPTED,		/* 9000008 */
	DETECTOR_RULE_UNVERIFIABLE,		/* 9000009 */
	DETECTOR_RULE_STREAM_CONFLICT,		/* 9000010 */
	DETECTOR_RULE_STREAM_UNJUDGED,		/* 9000011 */
	/*
	 * The DCE/RPC rule table (rpc_rules.h), 9000101 onwards: an alert of
	 * this rule carries the row's signature; its key "rpc" turns the
	 * whole table off.
	 */
	DETECTOR_RULE_RPC,
	DETECTOR_RULE_COUNT,
};

/* Conditions of CM0062 (bits of detector_params.required and evidence). */
#define DETECTOR_COND_LOGON		0x1u
#define DETECTOR_COND_ADMIN_EXEC	0x2u
#define DETECTOR_COND_SHARE_REPEAT	0x4u
#define DETECTOR_COND_ALL		0x7u

/* Kinds of execution evidence (bits of detector_evidence.exec_kinds). */
#define DETECTOR_EXEC_FILE		0x1u	/* executable written to an admin share */
#define DETECTOR_EXEC_SERVICE		0x2u	/* svcctl create / change / start */
#define DETECTOR_EXEC_TASK		0x4u	/* atsvc job or scheduled task */
#define DETECTOR_EXEC_WMI		0x8u	/* IWbemServices::ExecMethod */
#define DETECTOR_EXEC_DCOM		0x10u	/* activation of a lateral-movement class */

/* Distinct discovery operations and servers counted per client. */
#define DETECTOR_DISCOVERY_OPS_MAX	12
#define DETECTOR_DISCOVERY_SERVERS_MAX	64

/* What a rule is: static, for the life of the process. */
struct detector_signature {
	uint32_t id;		/* EVE alert.signature_id */
	const char *name;	/* EVE alert.signature */
	const char *category;	/* EVE alert.category */
	uint8_t severity;	/* 1 high, 2 medium, 3 informational */
	const char *mitre;	/* ATT&CK ids always implied, "" if none */
	const char *key;	/* configuration name, e.g. "service_creation" */
};

/*
 * Returns the signature of <rule>, or NULL if <rule> is not a rule.
 */
const struct detector_signature *
detector_signature(enum detector_rule rule);

/*
 * Returns the rule whose configuration name is <key>, or -ENOENT.
 * "lateral_movement" names CM0062.
 */
int
detector_rule_by_key(const char *key);

/*
 * Returns the condition bit (DETECTOR_COND_*) named <name> ("logon",
 * "admin_exec", "share_repeat"), or 0 if unknown.
 */
unsigned int
detector_condition_by_name(const char *name);

/* Name of a single DETECTOR_COND_* bit, or "?". */
const char *
detector_condition_name(unsigned int cond);

/*
 * Optional segment lookup: the name of the segment <addr> (IPv4 in the
 * first 4 bytes when <ip_version> is 4) belongs to, or NULL if none.
 */
typedef const char *(*detector_segment_fn)(const uint8_t addr[16],
	uint8_t ip_version, void *arg);

struct detector_params {
	unsigned int window;		/* seconds, 1..86400 */
	unsigned int share_open_threshold;	/* 1..DETECTOR_SHARE_THRESHOLD_MAX */
	unsigned int required;		/* DETECTOR_COND_* bits, not 0 */
	unsigned int max_pairs;		/* 16..2^22 */
	unsigned int max_clients;	/* 16..2^22 */
	unsigned int logon_failures;	/* 1..DETECTOR_LOGON_FAILURES_MAX */
	unsigned int logon_failure_window;	/* seconds, 1..86400 */
	bool rules[DETECTOR_RULE_COUNT];	/* enabled */
	unsigned int workstation_segment_count;
	char workstation_segments[DETECTOR_SEGMENTS_MAX][DETECTOR_SEGMENT_NAME_MAX];
	/* The DCE/RPC rule table: per-row configuration and thresholds. */
	struct rpc_rules_params rpc;

	/* Set at run time, not from the configuration. */
	const struct watchlist *watchlist;	/* classes admin_share, executable */
	detector_segment_fn segment_of;		/* NULL: workstation rule inactive */
	void *segment_arg;
};

/* Bytes kept of what a DCE/RPC request names (UTF-8, NUL included). */
#define DETECTOR_RPC_TEXT_MAX		192

/* Discovery calls of one client in one window (rows 9000121/9000122). */
struct detector_discovery {
	uint32_t calls;
	uint32_t servers;	/* distinct, up to DETECTOR_DISCOVERY_SERVERS_MAX */
	unsigned int op_count;
	struct detector_discovery_op {
		const char *interface;	/* static */
		const char *operation;	/* static */
		const char *mitre;	/* static */
		uint32_t count;
	} ops[DETECTOR_DISCOVERY_OPS_MAX];
};

/*
 * What an alert rests on. Strings are empty when not seen. The numbers
 * come first and the strings last: the detector starts a new entry's
 * evidence by clearing the numbers only (its entries are kilobytes).
 */
struct detector_evidence {
	uint32_t conditions;	/* DETECTOR_COND_* holding (CM0062) */
	uint32_t exec_kinds;	/* DETECTOR_EXEC_* seen in the window */
	bool exact;		/* service binary under %SystemRoot% or naming
				 * the file written to an admin share */
	bool encrypted;		/* a session of the pair was sealed */
	uint8_t auth;		/* SMB_AUTH_* of the last logon */
	/* unverifiable session: enum event_unverifiable, and what policy did */
	uint8_t unverifiable;
	uint8_t unverifiable_action;	/* 1: the unverifiable_action decided */
	uint8_t policy_action;		/* enum event_action */
	uint16_t policy_rule;		/* the rule that decided or was at stake */
	uint32_t status;	/* logon failure burst: the last NT status */
	uint32_t share_accesses;	/* accesses to repeated_share in the window */
	uint32_t failures;	/* logon failure burst: failures in its window */
	uint64_t logon_ns;	/* last successful logon */
	uint64_t exec_ns;	/* last execution evidence */
	uint64_t share_first_ns;	/* first and last of the counted accesses */
	uint64_t share_last_ns;
	unsigned int operation_count;	/* of interfaces[] and operations[] */

	/* DETECTOR_RULE_RPC: the row, and what its request showed. */
	int rpc_rule;		/* enum rpc_rule_id, -1 if none */
	bool rpc_sealed;	/* judged on interface + operation alone */
	uint16_t rpc_opnum;
	uint32_t netlogon_authentications;	/* burst: in its window */
	/* Discovery rows: the client's calls in the window, else NULL. */
	const struct detector_discovery *discovery;

	const char *interfaces[DETECTOR_OPERATIONS_MAX];	/* static */
	const char *operations[DETECTOR_OPERATIONS_MAX];	/* static */
	char user[EVENT_ACCOUNT_MAX];
	char domain[EVENT_ACCOUNT_MAX];
	char workstation[EVENT_ACCOUNT_MAX];
	char share[EVENT_SHARE_MAX];	/* admin share written to */
	char repeated_share[EVENT_SHARE_MAX];
	char file[EVENT_NAME_MAX];	/* executable written */
	char service[EVENT_NAME_MAX];	/* service or task name */
	char command[EVENT_COMMAND_MAX];	/* service binary path or job command */
	char rpc_target[DETECTOR_RPC_TEXT_MAX];	/* class, UNC, key, computer */
	char rpc_detail[DETECTOR_RPC_TEXT_MAX];	/* registry value and data */
	char client_segment[DETECTOR_SEGMENT_NAME_MAX];
};

struct detector_alert {
	enum detector_rule rule;
	const struct detector_signature *signature;
	bool update;		/* false: new alert; true: its count or evidence grew */
	uint32_t count;		/* hits in this alert's window so far */
	uint64_t first_ns;	/* when it was raised */
	uint64_t last_ns;	/* the latest hit */
	char mitre[DETECTOR_MITRE_MAX];	/* e.g. "T1021.002,T1569.002" */
	/* The event of the latest hit (NULL from detector_flush()): endpoints,
	 * VLAN and flow of the EVE record. */
	const struct gw_event *event;
	/* Endpoints of the pair (client, server), set also when event is NULL. */
	uint8_t client_addr[16];
	uint8_t server_addr[16];
	uint8_t ip_version;
	const struct detector_evidence *evidence;
};

/*
 * Receives an alert; <alert> and what it points to are valid only during
 * the call.
 */
typedef void (*detector_alert_fn)(void *ctx, const struct detector_alert *alert);

struct detector_counters {
	uint64_t events;
	uint64_t alerts[DETECTOR_RULE_COUNT];	/* new alerts per rule */
	uint64_t updates;	/* update reports */
	uint64_t pairs;		/* pair entries in use */
	uint64_t pairs_evicted;	/* least recently used pair dropped */
	uint64_t clients;
	uint64_t clients_evicted;
	uint64_t handles_evicted;	/* writable handles forgotten (4 per pair) */
	uint64_t shares_evicted;	/* share counters reused (4 per pair) */
};

struct detector;

/*
 * Fills <params> with the defaults: window 600 s, threshold 3, all three
 * conditions required, 16384 pairs, 4096 clients, 5 logon failures in
 * 60 s, every rule enabled, no workstation segments, no watchlist, no
 * segment lookup. Never fails.
 */
void
detector_params_set_defaults(struct detector_params *params);

/*
 * Checks <params> against the ranges above. Returns 0, or -EINVAL and
 * writes the reason to <why> (<why_len> bytes, may be 0).
 */
int
detector_params_check(const struct detector_params *params, char *why,
	size_t why_len);

/*
 * Creates a detector with <params> (copied). The watchlist, if given, must
 * outlive the detector; without one, or without the classes admin_share
 * and executable in it, the file-based evidence uses the share names
 * ADMIN$ and C$..Z$ and names with the suffixes of the default
 * watchlist's executable class (dataplane/match/README.md). Allocates all
 * memory now. Returns NULL and sets
 * errno: EINVAL for bad params, ENOMEM.
 */
struct detector *
detector_create(const struct detector_params *params);

/* Frees <det> (NULL is allowed). */
void
detector_free(struct detector *det);

/*
 * Takes one event; for each alert raised or updated calls <fn> with
 * <ctx> (<fn> may be NULL). Events of other kinds are ignored. Cannot
 * fail: state that does not fit evicts the least recently used.
 */
void
detector_add(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx);

/*
 * Reports, as updates, every alert whose count grew since it was last
 * reported (at shutdown, or when a summary is wanted). Cannot fail.
 */
void
detector_flush(struct detector *det, detector_alert_fn fn, void *ctx);

/* Counters of <det>, valid while it lives. Cannot fail. */
const struct detector_counters *
detector_counters(const struct detector *det);

/*
 * Bytes of one pair entry and one client entry, index included: what
 * max_pairs and max_clients cost. Cannot fail.
 */
size_t
detector_pair_bytes(void);

size_t
detector_client_bytes(void);

#endif /* SMBGW_DETECTOR_H */
