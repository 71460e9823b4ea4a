/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_RPC_RULES_H
#define SMBGW_RPC_RULES_H

/*
 * The DCE/RPC rule table: lateral movement, credential theft, defence
 * evasion and discovery recognised by (interface, operation), some with a
 * condition on the decoded request arguments. Every row has a fixed
 * signature id, ATT&CK ids, a default severity, the BZAR indicator it
 * corresponds to (docs/detection.md) and a configuration key; the
 * configuration may disable a row, change its severity and name the
 * source segments it does not apply to.
 *
 * The table and its matching are pure (no state, no clock): the detector
 * keeps what a row needs across calls (registry key opened before a
 * write, Netlogon authentications and discovery per client).
 *
 * Where the stub is sealed (packet privacy) the interface and operation
 * are still visible: rows that need arguments then match on them alone
 * and the evidence says the stub was sealed (rpc_rules_match()).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* The rows; rpc_rule_at() gives their definition. */
enum rpc_rule_id {
	RPC_RULE_DCSYNC = 0,		/* 9000101 */
	RPC_RULE_DCSHADOW,		/* 9000102 */
	RPC_RULE_EVENTLOG_CLEAR,	/* 9000103 */
	RPC_RULE_SERVICE_START,		/* 9000104 */
	RPC_RULE_WMI_EXEC,		/* 9000105 */
	RPC_RULE_ATSVC_JOB,		/* 9000106 */
	RPC_RULE_TASK,			/* 9000107 */
	RPC_RULE_SHUTDOWN,		/* 9000108 */
	RPC_RULE_SECLOGON,		/* 9000109 */
	RPC_RULE_PRINT_PERSISTENCE,	/* 9000110 */
	RPC_RULE_DCOM_LATERAL,		/* 9000111 */
	RPC_RULE_WMI_ACTIVATION,	/* 9000112 */
	RPC_RULE_ZEROLOGON,		/* 9000113 */
	RPC_RULE_NETLOGON_BURST,	/* 9000114 */
	RPC_RULE_PRINTNIGHTMARE,	/* 9000115 */
	RPC_RULE_PETITPOTAM,		/* 9000116 */
	RPC_RULE_PRINTER_BUG,		/* 9000117 */
	RPC_RULE_REGISTRY_AUTOSTART,	/* 9000118 */
	RPC_RULE_REGISTRY_HIVE_SAVE,	/* 9000119 */
	RPC_RULE_BACKUPKEY,		/* 9000120 */
	RPC_RULE_DISCOVERY,		/* 9000121: the aggregated note */
	RPC_RULE_DISCOVERY_BREADTH,	/* 9000122 */
	RPC_RULE_COUNT,
};

/* What, beyond the operation, a row needs. */
enum rpc_rule_match {
	RPC_MATCH_OPERATION = 0,	/* the operation alone */
	RPC_MATCH_DCOM_CLASS,		/* an activation naming one of classes */
	RPC_MATCH_ZERO_CREDENTIAL,	/* Netlogon challenge/credential zero */
	RPC_MATCH_AUTH_BURST,		/* netlogon_auth_burst authentications */
	RPC_MATCH_UNC,			/* a \\host path in the arguments */
	RPC_MATCH_AUTOSTART_WRITE,	/* a value set under an autostart key */
	RPC_MATCH_DISCOVERY,		/* one of the discovery operations */
	RPC_MATCH_BREADTH,		/* discovery towards many servers */
};

/* One endpoint::operation, as BZAR writes its indicators. */
struct rpc_op_ref {
	const char *interface;	/* dcerpc_interface_name() spelling */
	const char *operation;	/* dcerpc_operation_name() spelling */
	const char *mitre;	/* discovery rows: the technique of the call */
};

struct rpc_rule {
	uint32_t id;		/* EVE alert.signature_id */
	const char *key;	/* configuration name */
	const char *name;	/* EVE alert.signature */
	const char *category;
	uint8_t severity;	/* default: 1 high, 2 medium, 3 note */
	const char *mitre;	/* ATT&CK ids, comma separated */
	enum rpc_rule_match match;
	const struct rpc_op_ref *ops;	/* terminated by a NULL interface */
	const char *const *classes;	/* RPC_MATCH_DCOM_CLASS: class names */
	/* A sealed request of one of ops matches without its condition. */
	bool sealed_alone;
	/* What the row sees of a sealed request (docs/detection.md). */
	const char *when_sealed;
	/* Source segments the row does not apply to, by default. */
	const char *default_allowed;	/* NULL or one segment name */
	const char *bzar;	/* the BZAR indicator set, "" if none */
};

/* Limits of the per-row configuration. */
#define RPC_RULE_SEGMENTS_MAX		8
#define RPC_RULE_SEGMENT_NAME_MAX	32

struct rpc_rule_config {
	bool enabled;
	uint8_t severity;	/* 1..3 */
	unsigned int allowed_count;
	char allowed[RPC_RULE_SEGMENTS_MAX][RPC_RULE_SEGMENT_NAME_MAX];
};

struct rpc_rules_params {
	struct rpc_rule_config rules[RPC_RULE_COUNT];
	/* Distinct servers one client sends discovery calls to within the
	 * window that raise RPC_RULE_DISCOVERY_BREADTH (1..64, the servers a
	 * client entry remembers). */
	unsigned int discovery_breadth;
	/* NetrServerAuthenticate* calls from one client within the window
	 * that raise RPC_RULE_NETLOGON_BURST (2..100000). */
	unsigned int netlogon_auth_burst;
};

/* Returns row <id>, or NULL if <id> is not a row. */
const struct rpc_rule *
rpc_rule_at(unsigned int id);

/* Returns the row whose configuration key is <key>, or -ENOENT. */
int
rpc_rule_by_key(const char *key);

/*
 * Fills <params> with the defaults: every row enabled at its own
 * severity, allowed segments as the row says (DCSync and DCShadow:
 * "domain_controllers"), breadth 5 servers, burst 20 authentications.
 */
void
rpc_rules_params_set_defaults(struct rpc_rules_params *params);

/* Checks <params>; returns 0, or -EINVAL with the reason in <why>. */
int
rpc_rules_params_check(const struct rpc_rules_params *params, char *why,
	size_t why_len);

/*
 * Whether <segment> (may be NULL: the source is in no segment) is one
 * that row <id> does not apply to.
 */
bool
rpc_rule_allows_segment(const struct rpc_rules_params *params,
	unsigned int id, const char *segment);

/*
 * Whether row <id> lists (interface, operation), compared as strings; for
 * a discovery operation *mitre (when not NULL) is set to the technique of
 * the call.
 */
bool
rpc_rule_lists(unsigned int id, const char *interface, const char *operation,
	const char **mitre);

/*
 * The rows that list (interface, operation), a bit per enum rpc_rule_id:
 * rpc_rule_lists() of every row at once.
 */
uint32_t
rpc_rules_listing(const char *interface, const char *operation);

/*
 * rpc_rules_listing() remembered for the calls seen last, keyed by the
 * names' addresses: an event's interface and operation names are static
 * (event.h), so the same call always comes with the same two pointers.
 * Direct-mapped; one per thread (no locking). Zero it to start.
 */
#define RPC_LISTING_MEMO_SLOTS 64
struct rpc_listing_memo {
	struct rpc_listing_memo_slot {
		const char *interface;	/* NULL: empty */
		const char *operation;
		uint32_t rows;
	} slots[RPC_LISTING_MEMO_SLOTS];
};

uint32_t
rpc_listing_memo_get(struct rpc_listing_memo *memo, const char *interface,
	const char *operation);

/* What rpc_rules_match() found. */
struct rpc_rule_hit {
	int rule;		/* enum rpc_rule_id, or -1 */
	bool sealed;		/* judged on interface + operation alone */
	/* What the arguments named: CLSID class, UNC path, registry key,
	 * computer account; empty when sealed or absent. */
	const char *target;
};

/*
 * Judges one DCE/RPC request event by the rows that need no state:
 * RPC_MATCH_OPERATION, RPC_MATCH_DCOM_CLASS, RPC_MATCH_ZERO_CREDENTIAL
 * and RPC_MATCH_UNC. A sealed request matches the rows of its operation
 * whatever their condition (hit->sealed set). Disabled rows and rows that
 * allow <client_segment> do not match. Returns hit->rule.
 *
 * The stateful rows (burst, autostart write, discovery, breadth) are the
 * detector's; rpc_rule_lists() tells it which calls they see.
 */
int
rpc_rules_match(const struct rpc_rules_params *params,
	const struct gw_event *ev, const char *client_segment,
	struct rpc_rule_hit *hit);

/*
 * rpc_rules_match() for a caller that knows which rows list the call
 * (<listed>, from rpc_rules_listing() or a memo of it).
 */
int
rpc_rules_match_listed(const struct rpc_rules_params *params,
	const struct gw_event *ev, const char *client_segment,
	uint32_t listed, struct rpc_rule_hit *hit);

/*
 * Whether the registry path <path> (relative to a hive, any case, either
 * separator) is, or lies under, a key whose values start programs:
 * ...\CurrentVersion\Run, RunOnce, RunServices, Winlogon, Image File
 * Execution Options, Policies\Explorer\Run, CurrentControlSet\Services.
 */
bool
rpc_registry_is_autostart(const char *path);

#endif /* SMBGW_RPC_RULES_H */
