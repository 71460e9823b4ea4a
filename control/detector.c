/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dcerpc.h"
#include "detector.h"
#include "event.h"
#include "flow.h"
#include "match.h"
#include "smb.h"
#include "utf8.h"

#define NS_PER_S 1000000000ull

/* Writable handles on admin shares remembered per pair, waiting for a WRITE. */
#define DETECTOR_HANDLES_MAX	4
/* Shares whose accesses are counted per pair at once. */
#define DETECTOR_SHARES_MAX	4

#define NIL UINT32_MAX

/* Access bits that let a handle write (MS-SMB2 2.2.13.1). */
#define ACCESS_WRITE_DATA	0x00000002u
#define ACCESS_APPEND_DATA	0x00000004u
#define ACCESS_MAXIMUM_ALLOWED	0x02000000u
#define ACCESS_GENERIC_ALL	0x10000000u
#define ACCESS_GENERIC_WRITE	0x40000000u
#define ACCESS_WRITES (ACCESS_WRITE_DATA | ACCESS_APPEND_DATA | \
	ACCESS_MAXIMUM_ALLOWED | ACCESS_GENERIC_ALL | ACCESS_GENERIC_WRITE)
/* Every disposition but FILE_OPEN (1) may create or overwrite. */
#define DISPOSITION_OPEN	1u

static const struct detector_signature signatures[DETECTOR_RULE_COUNT] = {
	[DETECTOR_RULE_LATERAL_MOVEMENT] = { 9000001,
		"SMBGW CM0062 lateral movement: logon, execution from the admin path, share opened repeatedly",
		"Lateral Movement", 1, "T1021.002", "lateral_movement" },
	[DETECTOR_RULE_SERVICE_CREATION] = { 9000002,
		"SMBGW remote service created or reconfigured through svcctl",
		"Execution", 1, "T1569.002,T1543.003", "service_creation" },
	[DETECTOR_RULE_ADMIN_SHARE_EXECUTABLE] = { 9000003,
		"SMBGW executable written to an admin share",
		"Lateral Movement", 1, "T1021.002,T1570",
		"admin_share_executable" },
	[DETECTOR_RULE_LOGON_FAILURE_BURST] = { 9000004,
		"SMBGW burst of SMB logon failures from one client",
		"Credential Access", 2, "T1110", "logon_failure_burst" },
	[DETECTOR_RULE_SMB1] = { 9000005,
		"SMBGW SMB1 negotiated",
		"Policy Violation", 3, "", "smb1" },
	[DETECTOR_RULE_WORKSTATION_TARGET] = { 9000006,
		"SMBGW SMB towards a workstation segment",
		"Lateral Movement", 2, "T1021.002", "workstation_target" },
	[DETECTOR_RULE_NONSTANDARD_PORT] = { 9000007,
		"SMBGW SMB or DCE/RPC on a non-standard port",
		"Command and Control", 2, "T1572", "nonstandard_port" },
	[DETECTOR_RULE_ENCRYPTED] = { 9000008,
		"SMBGW encrypted SMB session: commands after logon not visible",
		"Visibility", 3, "", "encrypted" },
	[DETECTOR_RULE_UNVERIFIABLE] = { 9000009,
		"SMBGW SMB session the policy cannot verify (encrypted or compressed) on a pair with SMB-level deny rules",
		"Defense Evasion", 2, "T1573,T1021.002", "unverifiable" },
	/* What an IDS-evasion tool does: the bytes judged and those sent differ. */
	[DETECTOR_RULE_STREAM_CONFLICT] = { 9000010,
		"SMBGW inconsistent TCP retransmission: overlapping bytes differ from those judged",
		"Defense Evasion", 1, "", "stream_conflict" },
	[DETECTOR_RULE_STREAM_UNJUDGED] = { 9000011,
		"SMBGW TCP stream hole given up: later bytes judged without the missing ones",
		"Visibility", 3, "", "stream_unjudged" },
	/* Never reported as such: each alert carries its row's signature. */
	[DETECTOR_RULE_RPC] = { 9000100,
		"SMBGW DCE/RPC rule table",
		"Lateral Movement", 2, "", "rpc" },
};

static const char *const condition_names[] = {
	"logon", "admin_exec", "share_repeat",
};

/* NT statuses that mean the credentials or the account were refused. */
static const uint32_t logon_failure_statuses[] = {
	0xc000006du,	/* LOGON_FAILURE */
	0xc0000064u,	/* NO_SUCH_USER */
	0xc000006au,	/* WRONG_PASSWORD */
	0xc000006eu,	/* ACCOUNT_RESTRICTION */
	0xc000006fu,	/* INVALID_LOGON_HOURS */
	0xc0000070u,	/* INVALID_WORKSTATION */
	0xc0000071u,	/* PASSWORD_EXPIRED */
	0xc0000072u,	/* ACCOUNT_DISABLED */
	0xc0000193u,	/* ACCOUNT_EXPIRED */
	0xc0000234u,	/* ACCOUNT_LOCKED_OUT */
	0xc0000224u,	/* PASSWORD_MUST_CHANGE */
};

/* Both hosts of a pair; a client entry leaves <server> zero. */
struct host_key {
	uint8_t client[16];
	uint8_t server[16];
	uint8_t ip_version;
};

/* Head of every table entry: key, hash chain and LRU links (indexes). */
struct table_node {
	struct host_key key;
	uint8_t used;
	uint32_t hash_next;
	uint32_t lru_prev;	/* towards the most recently used */
	uint32_t lru_next;	/* towards the least recently used */
};

/*
 * Entries of fixed size with a hash index and an LRU list, both by index
 * into one array allocated at creation.
 */
struct host_table {
	uint8_t *entries;
	size_t entry_size;
	size_t clear_size;	/* zeroed for a new entry, from its start */
	uint32_t capacity;
	uint32_t in_use;
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t lru_head;	/* most recently used */
	uint32_t lru_tail;	/* least recently used */
	uint32_t free_head;	/* chained through hash_next */
};

/* Dedup of one rule: the open alert and what was reported of it. */
struct rule_state {
	uint64_t raised_ns;	/* 0: no alert open */
	uint64_t last_ns;
	uint32_t count;
	uint32_t reported;	/* count at the last report */
	uint32_t reported_kinds;	/* exec kinds at the last report */
};

/* Accesses to one share: the most recent times, a ring. */
struct share_slot {
	uint64_t name_hash;	/* 0: free */
	uint64_t last_ns;
	uint8_t head;		/* next slot to write */
	uint8_t count;
	uint64_t ts[DETECTOR_SHARE_THRESHOLD_MAX];
};

struct rpc_op {
	const char *interface;
	const char *operation;
	uint64_t ts_ns;
};

/* Dedup of one DCE/RPC table row on a pair; slots reused oldest first. */
struct rpc_slot {
	int16_t row;		/* enum rpc_rule_id + 1, 0 free */
	struct rule_state st;
};

#define DETECTOR_RPC_SLOTS	4
/* Registry key path remembered between an open and a write. */
#define DETECTOR_REG_KEY_MAX	160

/* The evidence strings of a pair (pair_set_text()). */
enum pair_text {
	PAIR_TEXT_USER,
	PAIR_TEXT_DOMAIN,
	PAIR_TEXT_WORKSTATION,
	PAIR_TEXT_SHARE,
	PAIR_TEXT_REPEATED_SHARE,
	PAIR_TEXT_FILE,
	PAIR_TEXT_SERVICE,
	PAIR_TEXT_COMMAND,
	PAIR_TEXT_RPC_TARGET,
	PAIR_TEXT_RPC_DETAIL,
	PAIR_TEXT_CLIENT_SEGMENT,
	PAIR_TEXT_COUNT
};
#define PAIR_TEXTS_ALL	((1u << PAIR_TEXT_COUNT) - 1)

/* Parts of a pair set up on first use (pair_rpc_slots() ...). */
#define PAIR_PART_RPC_SLOTS	0x1u
#define PAIR_PART_OPERATIONS	0x2u
#define PAIR_PART_SHARES	0x4u

/*
 * A pair's entry is 3.6 KB and a new one is taken for every new client
 * and server, a million in a logon storm, where clearing it whole was a
 * sixth of the control core's time. Only its head and its evidence's
 * numbers are cleared (struct detector_evidence keeps its numbers first);
 * every other part is read only as the head says it was set since:
 * rule states, DCE/RPC slots, operations and share slots through their
 * accessors, the evidence strings through pair_set_text() and
 * pair_evidence() (which empties those not set), handles by
 * handle_valid, the autostart key by autostart_ns.
 */
struct pair {
	struct table_node node;
	uint64_t file_ns;	/* last executable write */
	uint64_t service_ns;
	uint64_t task_ns;
	uint64_t wmi_ns;	/* IWbemServices::ExecMethod */
	uint64_t dcom_ns;	/* activation of a lateral-movement class */
	/* Last autostart key opened or created over winreg, and on which
	 * flow: a BaseRegSetValue there writes under it. */
	uint64_t autostart_ns;
	uint64_t autostart_flow;
	uint64_t repeat_first_ns;	/* share_repeat: oldest counted access */
	uint64_t repeat_last_ns;	/* 0: never met */
	/* Flow of the last unverifiable-session alert: no 9000008 note too. */
	uint64_t unverifiable_flow;
	uint16_t rules_set;	/* bit per rule: rule_states[] entry set up */
	uint16_t texts_set;	/* bit per enum pair_text: written or emptied */
	uint8_t parts_set;	/* PAIR_PART_* */
	uint8_t handle_next;
	uint8_t handle_valid;	/* bit per handle */
	/* Cleared up to here, and the numbers of: */
	struct detector_evidence evidence_unsettled;
	struct rule_state rule_states[DETECTOR_RULE_COUNT];
	struct rpc_slot rpc_slots[DETECTOR_RPC_SLOTS];
	struct rpc_op operations[DETECTOR_OPERATIONS_MAX];
	struct share_slot share_slots[DETECTOR_SHARES_MAX];
	uint8_t handles[DETECTOR_HANDLES_MAX][16];
	char autostart_key[DETECTOR_REG_KEY_MAX];
};

_Static_assert(DETECTOR_RULE_COUNT <= 16, "a rule's bit in rules_set");
_Static_assert(PAIR_TEXT_COUNT <= 16, "a text's bit in texts_set");

/* What a new pair entry has zeroed: the head and the evidence's numbers. */
#define PAIR_CLEAR_SIZE	(offsetof(struct pair, evidence_unsettled) + \
	offsetof(struct detector_evidence, interfaces))

struct client {
	struct table_node node;
	uint8_t last_server[16];	/* of the latest failure, for the alert */
	uint8_t head;
	uint8_t count;
	uint64_t failures[DETECTOR_LOGON_FAILURES_MAX];
	struct rule_state rule;
	struct detector_evidence evidence;
	/* Netlogon authentications counted in the window from the first. */
	uint64_t netlogon_first_ns;
	struct rule_state netlogon_rule;
	/* Discovery: window start, servers seen (hashes), note and breadth. */
	uint64_t discovery_first_ns;
	uint64_t discovery_servers[DETECTOR_DISCOVERY_SERVERS_MAX];
	uint8_t rpc_server[16];		/* latest server of these rules */
	struct detector_discovery discovery;
	struct rule_state discovery_rule;
	struct rule_state breadth_rule;
	/* Evidence of those three rules, apart from the logon failures'. */
	struct detector_evidence rpc_evidence;
};

struct detector {
	struct detector_params params;
	uint64_t window_ns;
	uint64_t failure_window_ns;
	int class_admin;	/* watchlist class ids, -1 if absent */
	int class_executable;
	struct host_table pairs;
	struct host_table clients;
	struct detector_counters counters;
	/* Rows of the DCE/RPC table with their configured severity. */
	struct detector_signature rpc_signatures[RPC_RULE_COUNT];
	/* Which rows list the calls seen lately: every request is checked
	 * against every row's list, a scan of a few hundred names. */
	struct rpc_listing_memo listing;
};

void
detector_params_set_defaults(struct detector_params *params)
{
	unsigned int i;

	memset(params, 0, sizeof(*params));
	params->window = 600;
	params->share_open_threshold = 3;
	params->required = DETECTOR_COND_ALL;
	params->max_pairs = 16384;
	params->max_clients = 4096;
	params->logon_failures = 5;
	params->logon_failure_window = 60;
	for (i = 0; i < DETECTOR_RULE_COUNT; i++)
		params->rules[i] = true;
	rpc_rules_params_set_defaults(&params->rpc);
}

static int
params_fail(char *why, size_t why_len, const char *text)
{
	if (why_len > 0)
		snprintf(why, why_len, "%s", text);
	return -EINVAL;
}

int
detector_params_check(const struct detector_params *p, char *why,
	size_t why_len)
{
	unsigned int i;

	if (p->window < 1 || p->window > 86400)
		return params_fail(why, why_len, "window must be 1..86400 seconds");
	if (p->share_open_threshold < 1 ||
			p->share_open_threshold > DETECTOR_SHARE_THRESHOLD_MAX)
		return params_fail(why, why_len, "share_open_threshold must be 1..16");
	if (p->required == 0 || (p->required & ~DETECTOR_COND_ALL) != 0)
		return params_fail(why, why_len,
			"require must name at least one of logon, admin_exec, share_repeat");
	if (p->max_pairs < 16 || p->max_pairs > (1u << 22))
		return params_fail(why, why_len, "max_pairs must be 16..4194304");
	if (p->max_clients < 16 || p->max_clients > (1u << 22))
		return params_fail(why, why_len, "max_clients must be 16..4194304");
	if (p->logon_failures < 1 ||
			p->logon_failures > DETECTOR_LOGON_FAILURES_MAX)
		return params_fail(why, why_len, "logon_failures must be 1..64");
	if (p->logon_failure_window < 1 || p->logon_failure_window > 86400)
		return params_fail(why, why_len,
			"logon_failure_window must be 1..86400 seconds");
	if (p->workstation_segment_count > DETECTOR_SEGMENTS_MAX)
		return params_fail(why, why_len, "too many workstation segments");
	for (i = 0; i < p->workstation_segment_count; i++)
		if (p->workstation_segments[i][0] == '\0')
			return params_fail(why, why_len,
				"empty workstation segment name");
	return rpc_rules_params_check(&p->rpc, why, why_len);
}

const struct detector_signature *
detector_signature(enum detector_rule rule)
{
	if ((unsigned int)rule >= DETECTOR_RULE_COUNT)
		return NULL;
	return &signatures[rule];
}

int
detector_rule_by_key(const char *key)
{
	unsigned int i;

	for (i = 0; i < DETECTOR_RULE_COUNT; i++)
		if (strcmp(signatures[i].key, key) == 0)
			return (int)i;
	return -ENOENT;
}

unsigned int
detector_condition_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(condition_names) / sizeof(condition_names[0]); i++)
		if (strcmp(condition_names[i], name) == 0)
			return 1u << i;
	return 0;
}

const char *
detector_condition_name(unsigned int cond)
{
	unsigned int i;

	for (i = 0; i < sizeof(condition_names) / sizeof(condition_names[0]); i++)
		if (cond == 1u << i)
			return condition_names[i];
	return "?";
}

size_t
detector_pair_bytes(void)
{
	return sizeof(struct pair) + 2 * sizeof(uint32_t);
}

size_t
detector_client_bytes(void)
{
	return sizeof(struct client) + 2 * sizeof(uint32_t);
}

/* Host table */

static struct table_node *
node_at(const struct host_table *t, uint32_t index)
{
	return (struct table_node *)(t->entries + (size_t)index * t->entry_size);
}

static uint32_t
index_of(const struct host_table *t, const struct table_node *node)
{
	return (uint32_t)(((const uint8_t *)node - t->entries) / t->entry_size);
}

static uint64_t
key_hash(const struct host_key *key)
{
	const uint8_t *bytes = (const uint8_t *)key;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	/*
	 * A word at a time (every event looks a key up, often two): only the
	 * bucket depends on it, never the order anything is reported in.
	 */
	for (i = 0; i + 8 <= sizeof(*key); i += 8) {
		uint64_t word;

		memcpy(&word, bytes + i, 8);
		h = (h ^ word) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; i < sizeof(*key); i++)
		h = (h ^ bytes[i]) * 0x100000001b3ull;
	return h ^ (h >> 31);
}

static int
table_init(struct host_table *t, uint32_t capacity, size_t entry_size,
	size_t clear_size)
{
	uint32_t buckets = 16, i;

	while (buckets < capacity)
		buckets <<= 1;
	memset(t, 0, sizeof(*t));
	t->entries = calloc(capacity, entry_size);
	t->buckets = malloc(buckets * sizeof(*t->buckets));
	if (t->entries == NULL || t->buckets == NULL) {
		free(t->entries);
		free(t->buckets);
		return -ENOMEM;
	}
	t->entry_size = entry_size;
	t->clear_size = clear_size;
	t->capacity = capacity;
	t->bucket_mask = buckets - 1;
	for (i = 0; i < buckets; i++)
		t->buckets[i] = NIL;
	for (i = 0; i < capacity; i++)
		node_at(t, i)->hash_next = i + 1 < capacity ? i + 1 : NIL;
	t->free_head = 0;
	t->lru_head = NIL;
	t->lru_tail = NIL;
	return 0;
}

static void
table_fini(struct host_table *t)
{
	free(t->entries);
	free(t->buckets);
}

static void
lru_unlink(struct host_table *t, struct table_node *node)
{
	if (node->lru_prev != NIL)
		node_at(t, node->lru_prev)->lru_next = node->lru_next;
	else
		t->lru_head = node->lru_next;
	if (node->lru_next != NIL)
		node_at(t, node->lru_next)->lru_prev = node->lru_prev;
	else
		t->lru_tail = node->lru_prev;
}

static void
lru_push_head(struct host_table *t, struct table_node *node)
{
	uint32_t index = index_of(t, node);

	node->lru_prev = NIL;
	node->lru_next = t->lru_head;
	if (t->lru_head != NIL)
		node_at(t, t->lru_head)->lru_prev = index;
	t->lru_head = index;
	if (t->lru_tail == NIL)
		t->lru_tail = index;
}

static void
hash_unlink(struct host_table *t, struct table_node *node)
{
	uint32_t *link = &t->buckets[key_hash(&node->key) & t->bucket_mask];
	uint32_t index = index_of(t, node);

	while (*link != NIL) {
		if (*link == index) {
			*link = node->hash_next;
			return;
		}
		link = &node_at(t, *link)->hash_next;
	}
}

/* The entry of <key> in bucket <bucket>, made most recently used; NULL. */
static struct table_node *
table_lookup(struct host_table *t, uint32_t bucket, const struct host_key *key)
{
	struct table_node *node;
	uint32_t index;

	for (index = t->buckets[bucket]; index != NIL; index = node->hash_next) {
		node = node_at(t, index);
		if (memcmp(&node->key, key, sizeof(*key)) == 0) {
			lru_unlink(t, node);
			lru_push_head(t, node);
			return node;
		}
	}
	return NULL;
}

/* The entry of <key>, made most recently used; NULL when there is none. */
static struct table_node *
table_find(struct host_table *t, const struct host_key *key)
{
	return table_lookup(t, key_hash(key) & t->bucket_mask, key);
}

/*
 * Finds the entry of <key>, made most recently used; or takes a free
 * entry, or evicts the least recently used (*evicted set), its first
 * clear_size bytes zeroed, with <key>. Never fails.
 */
static struct table_node *
table_get(struct host_table *t, const struct host_key *key, bool *evicted)
{
	uint32_t bucket = key_hash(key) & t->bucket_mask;
	struct table_node *node = table_lookup(t, bucket, key);
	uint32_t index;

	*evicted = false;
	if (node != NULL)
		return node;
	if (t->free_head != NIL) {
		index = t->free_head;
		node = node_at(t, index);
		t->free_head = node->hash_next;
		t->in_use++;
	} else {
		index = t->lru_tail;
		node = node_at(t, index);
		lru_unlink(t, node);
		hash_unlink(t, node);
		*evicted = true;
	}
	memset(node, 0, t->clear_size);
	node->key = *key;
	node->used = 1;
	node->hash_next = t->buckets[bucket];
	t->buckets[bucket] = index;
	lru_push_head(t, node);
	return node;
}

/* Pair entries: the parts set up on first use (struct pair) */

/* Where each evidence string of a pair lies, and its size. */
#define EVIDENCE_TEXT(field) { \
	offsetof(struct detector_evidence, field), \
	sizeof(((struct detector_evidence *)NULL)->field) }

static const struct {
	size_t offset;
	size_t size;
} pair_texts[PAIR_TEXT_COUNT] = {
	[PAIR_TEXT_USER] = EVIDENCE_TEXT(user),
	[PAIR_TEXT_DOMAIN] = EVIDENCE_TEXT(domain),
	[PAIR_TEXT_WORKSTATION] = EVIDENCE_TEXT(workstation),
	[PAIR_TEXT_SHARE] = EVIDENCE_TEXT(share),
	[PAIR_TEXT_REPEATED_SHARE] = EVIDENCE_TEXT(repeated_share),
	[PAIR_TEXT_FILE] = EVIDENCE_TEXT(file),
	[PAIR_TEXT_SERVICE] = EVIDENCE_TEXT(service),
	[PAIR_TEXT_COMMAND] = EVIDENCE_TEXT(command),
	[PAIR_TEXT_RPC_TARGET] = EVIDENCE_TEXT(rpc_target),
	[PAIR_TEXT_RPC_DETAIL] = EVIDENCE_TEXT(rpc_detail),
	[PAIR_TEXT_CLIENT_SEGMENT] = EVIDENCE_TEXT(client_segment),
};

static char *
pair_text_at(struct pair *p, enum pair_text text)
{
	return (char *)&p->evidence_unsettled + pair_texts[text].offset;
}

/* Sets evidence string <text> of <p> to <value> (cut as utf8_copy()). */
static void
pair_set_text(struct pair *p, enum pair_text text, const char *value)
{
	utf8_copy(pair_text_at(p, text), value, pair_texts[text].size);
	p->texts_set |= (uint16_t)(1u << text);
}

/*
 * The evidence of <p> as a reader may see it: strings never set on this
 * entry emptied first (they hold an earlier pair's bytes otherwise).
 */
static struct detector_evidence *
pair_evidence(struct pair *p)
{
	if (p->texts_set != PAIR_TEXTS_ALL) {
		unsigned int text;

		for (text = 0; text < PAIR_TEXT_COUNT; text++)
			if (!(p->texts_set & (1u << text)))
				pair_text_at(p, (enum pair_text)text)[0] = '\0';
		p->texts_set = PAIR_TEXTS_ALL;
	}
	return &p->evidence_unsettled;
}

/* The state of <rule> on <p>, zeroed on its first use by this entry. */
static struct rule_state *
pair_rule(struct pair *p, enum detector_rule rule)
{
	if (!(p->rules_set & (1u << rule))) {
		memset(&p->rule_states[rule], 0, sizeof(p->rule_states[rule]));
		p->rules_set |= (uint16_t)(1u << rule);
	}
	return &p->rule_states[rule];
}

/* Sets up <part> (PAIR_PART_*) of <p> as zeroed, on its first use. */
static void
pair_part(struct pair *p, unsigned int part)
{
	unsigned int i;

	if (p->parts_set & part)
		return;
	if (part == PAIR_PART_RPC_SLOTS)
		memset(p->rpc_slots, 0, sizeof(p->rpc_slots));
	else if (part == PAIR_PART_OPERATIONS)
		memset(p->operations, 0, sizeof(p->operations));
	else
		/* Only what finds a slot: one is zeroed whole when taken. */
		for (i = 0; i < DETECTOR_SHARES_MAX; i++) {
			p->share_slots[i].name_hash = 0;
			p->share_slots[i].last_ns = 0;
		}
	p->parts_set |= (uint8_t)part;
}

static struct rpc_slot *
pair_rpc_slots(struct pair *p)
{
	pair_part(p, PAIR_PART_RPC_SLOTS);
	return p->rpc_slots;
}

static struct rpc_op *
pair_operations(struct pair *p)
{
	pair_part(p, PAIR_PART_OPERATIONS);
	return p->operations;
}

static struct share_slot *
pair_shares(struct pair *p)
{
	pair_part(p, PAIR_PART_SHARES);
	return p->share_slots;
}

/* Creation */

struct detector *
detector_create(const struct detector_params *params)
{
	struct detector *det;
	unsigned int i;
	int ret;

	if (params == NULL || detector_params_check(params, NULL, 0) < 0) {
		errno = EINVAL;
		return NULL;
	}
	det = calloc(1, sizeof(*det));
	if (det == NULL)
		return NULL;
	det->params = *params;
	det->window_ns = (uint64_t)params->window * NS_PER_S;
	det->failure_window_ns = (uint64_t)params->logon_failure_window * NS_PER_S;
	det->class_admin = -1;
	det->class_executable = -1;
	for (i = 0; i < RPC_RULE_COUNT; i++) {
		const struct rpc_rule *row = rpc_rule_at(i);
		struct detector_signature *sig = &det->rpc_signatures[i];

		sig->id = row->id;
		sig->name = row->name;
		sig->category = row->category;
		sig->severity = params->rpc.rules[i].severity;
		sig->mitre = row->mitre;
		sig->key = row->key;
	}
	if (params->watchlist != NULL) {
		det->class_admin = watchlist_class_id(params->watchlist,
			"admin_share");
		det->class_executable = watchlist_class_id(params->watchlist,
			"executable");
		if (det->class_admin < 0)
			det->class_admin = -1;
		if (det->class_executable < 0)
			det->class_executable = -1;
	}
	ret = table_init(&det->pairs, params->max_pairs, sizeof(struct pair),
		PAIR_CLEAR_SIZE);
	if (ret < 0)
		goto free_det;
	ret = table_init(&det->clients, params->max_clients,
		sizeof(struct client), sizeof(struct client));
	if (ret < 0)
		goto fini_pairs;
	return det;

fini_pairs:
	table_fini(&det->pairs);
free_det:
	free(det);
	errno = -ret;
	return NULL;
}

void
detector_free(struct detector *det)
{
	if (det == NULL)
		return;
	table_fini(&det->pairs);
	table_fini(&det->clients);
	free(det);
}

const struct detector_counters *
detector_counters(const struct detector *det)
{
	return &det->counters;
}

/* Helpers on names */

static uint64_t
name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *name != '\0'; name++)
		h = (h ^ (uint8_t)tolower((unsigned char)*name)) *
			0x100000001b3ull;
	return h != 0 ? h : 1;
}

static bool
ends_with_caseless(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The last path component of <path> (after \ or /). */
static const char *
base_name(const char *path)
{
	const char *base = path, *p;

	for (p = path; *p != '\0'; p++)
		if (*p == '\\' || *p == '/')
			base = p + 1;
	return base;
}

static const char *
find_caseless(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return NULL;
	for (; *haystack != '\0'; haystack++)
		if (strncasecmp(haystack, needle, n) == 0)
			return haystack;
	return NULL;
}

static bool
class_bit(const struct gw_event *ev, int class_id)
{
	return class_id >= 0 && (ev->watch_classes & (1u << class_id)) != 0;
}

/* ADMIN$ or a drive share C$..Z$, when no watchlist class says so. */
static bool
admin_share_fallback(const char *share)
{
	if (strcasecmp(share, "ADMIN$") == 0)
		return true;
	return strlen(share) == 2 && share[1] == '$' &&
		isalpha((unsigned char)share[0]);
}

static bool
executable_fallback(const char *name)
{
	static const char *const suffixes[] = {
		".exe", ".dll", ".sys", ".com", ".scr", ".cpl", ".ocx", ".msi",
		".bat", ".cmd", ".ps1", ".psm1", ".vbs", ".vbe", ".js", ".jse",
		".wsf", ".hta",
	};
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (ends_with_caseless(name, suffixes[i]))
			return true;
	return false;
}

static bool
on_admin_share(const struct detector *det, const struct gw_event *ev)
{
	if (det->class_admin >= 0)
		return class_bit(ev, det->class_admin);
	return admin_share_fallback(ev->u.smb.share);
}

static bool
is_executable(const struct detector *det, const struct gw_event *ev)
{
	if (det->class_executable >= 0)
		return class_bit(ev, det->class_executable);
	return executable_fallback(ev->u.smb.name);
}

static bool
within(uint64_t a, uint64_t b, uint64_t span)
{
	return (a > b ? a - b : b - a) <= span;
}

/* The earliest and latest of <n> times. */
static void
span_of(const uint64_t *ts, unsigned int n, uint64_t *first, uint64_t *last)
{
	unsigned int i;

	*first = ts[0];
	*last = ts[0];
	for (i = 1; i < n; i++) {
		if (ts[i] < *first)
			*first = ts[i];
		if (ts[i] > *last)
			*last = ts[i];
	}
}

/* Alerts */

static bool
is_power_of_two(uint32_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* Appends <id> to the alert's ATT&CK ids unless it is there already. */
static void
mitre_add(struct detector_alert *alert, const char *id)
{
	size_t n = strlen(id), len = strlen(alert->mitre);
	const char *at = alert->mitre;

	if (n == 0)
		return;
	while ((at = strstr(at, id)) != NULL) {
		if ((at == alert->mitre || at[-1] == ',') &&
				(at[n] == '\0' || at[n] == ','))
			return;
		at += n;
	}
	if (len + (len > 0) + n + 1 > sizeof(alert->mitre))
		return;
	if (len > 0)
		alert->mitre[len++] = ',';
	memcpy(alert->mitre + len, id, n + 1);
}

/* Discovery alerts name the techniques of the calls they counted. */
static void
rpc_fill_mitre(struct detector_alert *alert, const struct detector_evidence *e)
{
	unsigned int i;

	if (e->rpc_rule != RPC_RULE_DISCOVERY &&
			e->rpc_rule != RPC_RULE_DISCOVERY_BREADTH)
		return;
	if (e->discovery == NULL)
		return;
	for (i = 0; i < e->discovery->op_count; i++)
		if (e->discovery->ops[i].mitre != NULL)
			mitre_add(alert, e->discovery->ops[i].mitre);
}

static void
fill_mitre(struct detector_alert *alert, const struct detector_evidence *e)
{
	const char *base = alert->signature->mitre;
	/* snprintf("%s") without the format: this runs for every alert. */
	size_t n = strnlen(base, sizeof(alert->mitre) - 1);

	memcpy(alert->mitre, base, n);
	alert->mitre[n] = '\0';
	if (alert->rule == DETECTOR_RULE_RPC) {
		rpc_fill_mitre(alert, e);
		return;
	}
	if (alert->rule != DETECTOR_RULE_LATERAL_MOVEMENT)
		return;
	if (e->exec_kinds & DETECTOR_EXEC_SERVICE)
		strncat(alert->mitre, ",T1569.002",
			sizeof(alert->mitre) - strlen(alert->mitre) - 1);
	if (e->exec_kinds & DETECTOR_EXEC_TASK)
		strncat(alert->mitre, ",T1053",
			sizeof(alert->mitre) - strlen(alert->mitre) - 1);
	if (e->exec_kinds & DETECTOR_EXEC_WMI)
		strncat(alert->mitre, ",T1047",
			sizeof(alert->mitre) - strlen(alert->mitre) - 1);
	if (e->exec_kinds & DETECTOR_EXEC_DCOM)
		strncat(alert->mitre, ",T1021.003",
			sizeof(alert->mitre) - strlen(alert->mitre) - 1);
}

static void
report_as(struct detector *det, enum detector_rule rule,
	const struct detector_signature *sig, struct rule_state *st,
	bool update, const struct gw_event *ev, const struct host_key *key,
	const struct detector_evidence *evidence, detector_alert_fn fn,
	void *ctx)
{
	struct detector_alert alert;

	st->reported = st->count;
	st->reported_kinds = evidence->exec_kinds;
	if (update)
		det->counters.updates++;
	else
		det->counters.alerts[rule]++;
	if (fn == NULL)
		return;
	memset(&alert, 0, sizeof(alert));
	alert.rule = rule;
	alert.signature = sig != NULL ? sig : &signatures[rule];
	alert.update = update;
	alert.count = st->count;
	alert.first_ns = st->raised_ns;
	alert.last_ns = st->last_ns;
	alert.event = ev;
	memcpy(alert.client_addr, key->client, 16);
	memcpy(alert.server_addr, key->server, 16);
	alert.ip_version = key->ip_version;
	alert.evidence = evidence;
	fill_mitre(&alert, evidence);
	fn(ctx, &alert);
}

static void
report(struct detector *det, enum detector_rule rule, struct rule_state *st,
	bool update, const struct gw_event *ev, const struct host_key *key,
	const struct detector_evidence *evidence, detector_alert_fn fn,
	void *ctx)
{
	report_as(det, rule, NULL, st, update, ev, key, evidence, fn, ctx);
}

/*
 * One hit of <rule> (signature <sig>, or the rule's own when NULL) at the
 * time of <ev>: a new alert unless one is open within the window, which
 * then counts it.
 */
static void
hit_as(struct detector *det, enum detector_rule rule,
	const struct detector_signature *sig, struct rule_state *st,
	const struct gw_event *ev, const struct host_key *key,
	const struct detector_evidence *evidence, detector_alert_fn fn,
	void *ctx)
{
	uint64_t t = ev->ts_ns;

	if (st->raised_ns != 0 && (t < st->raised_ns ||
			t - st->raised_ns < det->window_ns)) {
		st->count++;
		if (t > st->last_ns)
			st->last_ns = t;
		if (is_power_of_two(st->count) ||
				(rule == DETECTOR_RULE_LATERAL_MOVEMENT &&
				(evidence->exec_kinds & ~st->reported_kinds) != 0))
			report_as(det, rule, sig, st, true, ev, key, evidence,
				fn, ctx);
		return;
	}
	st->raised_ns = t != 0 ? t : 1;
	st->last_ns = t;
	st->count = 1;
	report_as(det, rule, sig, st, false, ev, key, evidence, fn, ctx);
}

static void
hit(struct detector *det, enum detector_rule rule, struct rule_state *st,
	const struct gw_event *ev, const struct host_key *key,
	const struct detector_evidence *evidence, detector_alert_fn fn,
	void *ctx)
{
	hit_as(det, rule, NULL, st, ev, key, evidence, fn, ctx);
}

/*
 * The last count of a DCE/RPC row on a pair. The pair's evidence names
 * what the latest hit of any row showed: what belongs to another row is
 * left out.
 */
static void
flush_pair_rpc(struct detector *det, struct pair *p, struct rpc_slot *slot,
	detector_alert_fn fn, void *ctx)
{
	struct detector_evidence evidence;

	if (slot->row == 0 || slot->st.raised_ns == 0 ||
			slot->st.count == slot->st.reported)
		return;
	evidence = *pair_evidence(p);
	if (evidence.rpc_rule != slot->row - 1) {
		evidence.rpc_rule = slot->row - 1;
		evidence.rpc_sealed = false;
		evidence.rpc_target[0] = '\0';
		evidence.rpc_detail[0] = '\0';
		evidence.operation_count = 0;
	}
	report_as(det, DETECTOR_RULE_RPC, &det->rpc_signatures[slot->row - 1],
		&slot->st, true, NULL, &p->node.key, &evidence, fn, ctx);
}

static void
flush_client_rpc(struct detector *det, struct client *c,
	detector_alert_fn fn, void *ctx)
{
	static const int rows[] = { RPC_RULE_NETLOGON_BURST,
		RPC_RULE_DISCOVERY, RPC_RULE_DISCOVERY_BREADTH };
	struct rule_state *states[] = { &c->netlogon_rule,
		&c->discovery_rule, &c->breadth_rule };
	struct host_key key = c->node.key;
	unsigned int i;

	memcpy(key.server, c->rpc_server, 16);
	for (i = 0; i < 3; i++) {
		if (states[i]->raised_ns == 0 ||
				states[i]->count == states[i]->reported)
			continue;
		c->rpc_evidence.rpc_rule = rows[i];
		report_as(det, DETECTOR_RULE_RPC,
			&det->rpc_signatures[rows[i]], states[i], true, NULL,
			&key, &c->rpc_evidence, fn, ctx);
	}
}

static void
flush_table(struct detector *det, struct host_table *t, bool pairs,
	detector_alert_fn fn, void *ctx)
{
	uint32_t i, r;

	for (i = 0; i < t->capacity; i++) {
		struct table_node *node = node_at(t, i);

		if (!node->used)
			continue;
		if (pairs) {
			struct pair *p = (struct pair *)node;

			for (r = 0; r < DETECTOR_RULE_COUNT; r++) {
				struct rule_state *st = &p->rule_states[r];

				if ((p->rules_set & (1u << r)) &&
						st->raised_ns != 0 &&
						st->count != st->reported)
					report(det, r, st, true, NULL,
						&node->key, pair_evidence(p),
						fn, ctx);
			}
			if (p->parts_set & PAIR_PART_RPC_SLOTS)
				for (r = 0; r < DETECTOR_RPC_SLOTS; r++)
					flush_pair_rpc(det, p,
						&p->rpc_slots[r], fn, ctx);
		} else {
			struct client *c = (struct client *)node;

			struct host_key key = node->key;

			memcpy(key.server, c->last_server, 16);
			if (c->rule.raised_ns != 0 &&
					c->rule.count != c->rule.reported)
				report(det, DETECTOR_RULE_LOGON_FAILURE_BURST,
					&c->rule, true, NULL, &key,
					&c->evidence, fn, ctx);
			flush_client_rpc(det, c, fn, ctx);
		}
	}
}

void
detector_flush(struct detector *det, detector_alert_fn fn, void *ctx)
{
	flush_table(det, &det->pairs, true, fn, ctx);
	flush_table(det, &det->clients, false, fn, ctx);
}

/* CM0062 */

/* Latest time of the execution evidence, 0 if none. */
static uint64_t
exec_time(const struct pair *p)
{
	uint64_t t = p->file_ns;

	if (p->service_ns > t)
		t = p->service_ns;
	if (p->task_ns > t)
		t = p->task_ns;
	if (p->wmi_ns > t)
		t = p->wmi_ns;
	if (p->dcom_ns > t)
		t = p->dcom_ns;
	return t;
}

/*
 * Whether the required conditions hold with all their evidence inside one
 * window ending at <now>: every required time is set and the span from the
 * oldest to the newest is at most the window.
 */
static bool
lateral_movement_holds(const struct detector *det, struct pair *p,
	uint64_t now)
{
	uint64_t lo = now, hi = now;
	uint32_t have = 0;
	uint64_t t;

	const struct detector_evidence *e = &p->evidence_unsettled;

	if (e->logon_ns != 0 && within(now, e->logon_ns, det->window_ns))
		have |= DETECTOR_COND_LOGON;
	t = exec_time(p);
	if (t != 0 && within(now, t, det->window_ns))
		have |= DETECTOR_COND_ADMIN_EXEC;
	if (p->repeat_last_ns != 0 &&
			within(now, p->repeat_first_ns, det->window_ns))
		have |= DETECTOR_COND_SHARE_REPEAT;
	p->evidence_unsettled.conditions = have;
	if ((have & det->params.required) != det->params.required)
		return false;
	if (det->params.required & DETECTOR_COND_LOGON) {
		lo = lo < e->logon_ns ? lo : e->logon_ns;
		hi = hi > e->logon_ns ? hi : e->logon_ns;
	}
	if (det->params.required & DETECTOR_COND_ADMIN_EXEC) {
		t = exec_time(p);
		lo = lo < t ? lo : t;
		hi = hi > t ? hi : t;
	}
	if (det->params.required & DETECTOR_COND_SHARE_REPEAT) {
		lo = lo < p->repeat_first_ns ? lo : p->repeat_first_ns;
		hi = hi > p->repeat_last_ns ? hi : p->repeat_last_ns;
	}
	return hi - lo <= det->window_ns;
}

/* Execution kinds whose evidence lies in the window ending at <now>. */
static uint32_t
exec_kinds_at(const struct detector *det, const struct pair *p, uint64_t now)
{
	uint32_t kinds = 0;

	if (p->file_ns != 0 && within(now, p->file_ns, det->window_ns))
		kinds |= DETECTOR_EXEC_FILE;
	if (p->service_ns != 0 && within(now, p->service_ns, det->window_ns))
		kinds |= DETECTOR_EXEC_SERVICE;
	if (p->task_ns != 0 && within(now, p->task_ns, det->window_ns))
		kinds |= DETECTOR_EXEC_TASK;
	if (p->wmi_ns != 0 && within(now, p->wmi_ns, det->window_ns))
		kinds |= DETECTOR_EXEC_WMI;
	if (p->dcom_ns != 0 && within(now, p->dcom_ns, det->window_ns))
		kinds |= DETECTOR_EXEC_DCOM;
	return kinds;
}

/* Copies into the evidence the RPC operations seen in the window. */
static void
gather_operations(const struct detector *det, struct pair *p, uint64_t now)
{
	struct detector_evidence *e = &p->evidence_unsettled;
	const struct rpc_op *ops = pair_operations(p);
	unsigned int i;

	e->operation_count = 0;
	for (i = 0; i < DETECTOR_OPERATIONS_MAX; i++) {
		const struct rpc_op *op = &ops[i];

		if (op->operation == NULL || !within(now, op->ts_ns,
				det->window_ns))
			continue;
		e->interfaces[e->operation_count] = op->interface;
		e->operations[e->operation_count] = op->operation;
		e->operation_count++;
	}
}

/*
 * After an event that gave <p> evidence of <cond>: raises or counts
 * CM0062 when everything required holds. Only execution evidence counts
 * as a further hit of an open alert; logons and share accesses refresh
 * the evidence only.
 */
static void
check_lateral_movement(struct detector *det, struct pair *p,
	const struct gw_event *ev, unsigned int cond, detector_alert_fn fn,
	void *ctx)
{
	struct rule_state *st;
	uint64_t now = ev->ts_ns;
	uint32_t kinds;
	bool open;

	if (!det->params.rules[DETECTOR_RULE_LATERAL_MOVEMENT])
		return;
	if (!lateral_movement_holds(det, p, now))
		return;
	st = pair_rule(p, DETECTOR_RULE_LATERAL_MOVEMENT);
	kinds = exec_kinds_at(det, p, now);
	p->evidence_unsettled.exec_kinds = kinds;
	/* Evidence older than the window is not this alert's: drop it. */
	if (!(kinds & DETECTOR_EXEC_FILE)) {
		pair_set_text(p, PAIR_TEXT_SHARE, "");
		pair_set_text(p, PAIR_TEXT_FILE, "");
	}
	if (!(kinds & (DETECTOR_EXEC_SERVICE | DETECTOR_EXEC_TASK))) {
		pair_set_text(p, PAIR_TEXT_SERVICE, "");
		pair_set_text(p, PAIR_TEXT_COMMAND, "");
		p->evidence_unsettled.exact = false;
	}
	gather_operations(det, p, now);
	open = st->raised_ns != 0 && (now < st->raised_ns ||
		now - st->raised_ns < det->window_ns);
	if (open && cond != DETECTOR_COND_ADMIN_EXEC)
		return;
	hit(det, DETECTOR_RULE_LATERAL_MOVEMENT, st, ev, &p->node.key,
		pair_evidence(p), fn, ctx);
}

/* Event handlers */

static void
pair_key(const struct gw_event *ev, struct host_key *key)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->client, ev->client_addr, 16);
	memcpy(key->server, ev->server_addr, 16);
	key->ip_version = ev->ip_version;
}

static struct pair *
pair_of(struct detector *det, const struct gw_event *ev)
{
	struct host_key key;
	bool evicted;
	struct pair *p;

	pair_key(ev, &key);
	p = (struct pair *)table_get(&det->pairs, &key, &evicted);
	if (evicted)
		det->counters.pairs_evicted++;
	det->counters.pairs = det->pairs.in_use;
	return p;
}

/*
 * The pair's entry if it has one: for events that only matter to state
 * an earlier event left (a WRITE to a handle remembered at its CREATE),
 * so that the many that do not neither make an entry nor evict one.
 */
static struct pair *
pair_find(struct detector *det, const struct gw_event *ev)
{
	struct host_key key;

	pair_key(ev, &key);
	return (struct pair *)table_find(&det->pairs, &key);
}

static bool
is_anonymous(const struct gw_event *ev)
{
	if (ev->u.smb.version == 2)
		return (ev->u.smb.session_flags & SMB2_SESSION_FLAG_IS_NULL) != 0;
	return ev->u.smb.user[0] == '\0';
}

static bool
is_logon_failure(uint32_t status)
{
	size_t i;

	for (i = 0; i < sizeof(logon_failure_statuses) /
			sizeof(logon_failure_statuses[0]); i++)
		if (status == logon_failure_statuses[i])
			return true;
	return false;
}

static void
on_logon_failure(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	unsigned int n = det->params.logon_failures;
	struct host_key key, client_key;
	struct client *c;
	uint64_t first, last;
	bool evicted;

	pair_key(ev, &key);
	client_key = key;
	memset(client_key.server, 0, sizeof(client_key.server));
	c = (struct client *)table_get(&det->clients, &client_key, &evicted);
	if (evicted)
		det->counters.clients_evicted++;
	det->counters.clients = det->clients.in_use;
	memcpy(c->last_server, ev->server_addr, 16);

	c->failures[c->head] = ev->ts_ns;
	c->head = (uint8_t)((c->head + 1) % n);
	if (c->count < n)
		c->count++;
	utf8_copy(c->evidence.user, ev->u.smb.user, sizeof(c->evidence.user));
	utf8_copy(c->evidence.domain, ev->u.smb.domain,
		sizeof(c->evidence.domain));
	utf8_copy(c->evidence.workstation, ev->u.smb.workstation,
		sizeof(c->evidence.workstation));
	c->evidence.status = ev->status;
	c->evidence.logon_ns = ev->ts_ns;
	if (c->count < n)
		return;
	span_of(c->failures, n, &first, &last);
	if (last - first > det->failure_window_ns)
		return;
	c->evidence.failures = n;
	hit(det, DETECTOR_RULE_LOGON_FAILURE_BURST, &c->rule, ev, &key,
		&c->evidence, fn, ctx);
}

static void
on_logon(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	struct pair *p;

	if (!(ev->flags & EVENT_F_RESPONSE))
		return;
	if (!ev->u.smb.success) {
		if (det->params.rules[DETECTOR_RULE_LOGON_FAILURE_BURST] &&
				is_logon_failure(ev->status))
			on_logon_failure(det, ev, fn, ctx);
		return;
	}
	if (is_anonymous(ev))
		return;
	p = pair_of(det, ev);
	p->evidence_unsettled.logon_ns = ev->ts_ns;
	pair_set_text(p, PAIR_TEXT_USER, ev->u.smb.user);
	pair_set_text(p, PAIR_TEXT_DOMAIN, ev->u.smb.domain);
	pair_set_text(p, PAIR_TEXT_WORKSTATION, ev->u.smb.workstation);
	p->evidence_unsettled.auth = ev->u.smb.auth;
	if (ev->u.smb.session_flags & SMB2_SESSION_FLAG_ENCRYPT_DATA &&
			ev->u.smb.version == 2)
		p->evidence_unsettled.encrypted = true;
	check_lateral_movement(det, p, ev, DETECTOR_COND_LOGON, fn, ctx);
}

/* Counts one access to the share of <ev>; true when the threshold is met. */
static bool
count_share_access(struct detector *det, struct pair *p,
	const struct gw_event *ev)
{
	unsigned int n = det->params.share_open_threshold;
	uint64_t h = name_hash(ev->u.smb.share);
	struct share_slot *shares = pair_shares(p);
	struct share_slot *slot = NULL, *oldest = &shares[0];
	uint64_t first, last;
	unsigned int i;

	for (i = 0; i < DETECTOR_SHARES_MAX; i++) {
		if (shares[i].name_hash == h) {
			slot = &shares[i];
			break;
		}
		if (shares[i].last_ns < oldest->last_ns ||
				shares[i].name_hash == 0)
			oldest = &shares[i];
	}
	if (slot == NULL) {
		slot = oldest;
		if (slot->name_hash != 0)
			det->counters.shares_evicted++;
		memset(slot, 0, sizeof(*slot));
		slot->name_hash = h;
	}
	slot->ts[slot->head] = ev->ts_ns;
	slot->head = (uint8_t)((slot->head + 1) % n);
	if (slot->count < n)
		slot->count++;
	if (ev->ts_ns > slot->last_ns)
		slot->last_ns = ev->ts_ns;
	if (slot->count < n)
		return false;
	/* Events of several workers may arrive out of time order. */
	span_of(slot->ts, n, &first, &last);
	if (last - first > det->window_ns)
		return false;
	p->repeat_first_ns = first;
	p->repeat_last_ns = last;
	p->evidence_unsettled.share_first_ns = first;
	p->evidence_unsettled.share_last_ns = last;
	p->evidence_unsettled.share_accesses = n;
	pair_set_text(p, PAIR_TEXT_REPEATED_SHARE, ev->u.smb.share);
	return true;
}

static bool
creates_or_writes(const struct gw_event *ev)
{
	return (ev->u.smb.desired_access & ACCESS_WRITES) != 0 ||
		ev->u.smb.disposition != DISPOSITION_OPEN;
}

static void
remember_handle(struct detector *det, struct pair *p, const uint8_t id[16])
{
	unsigned int i = p->handle_next;

	if (p->handle_valid & (1u << i))
		det->counters.handles_evicted++;
	memcpy(p->handles[i], id, 16);
	p->handle_valid |= (uint8_t)(1u << i);
	p->handle_next = (uint8_t)((i + 1) % DETECTOR_HANDLES_MAX);
}

/* Forgets handle <id>; true if it was remembered. */
static bool
take_handle(struct pair *p, const uint8_t id[16])
{
	unsigned int i;

	for (i = 0; i < DETECTOR_HANDLES_MAX; i++)
		if ((p->handle_valid & (1u << i)) &&
				memcmp(p->handles[i], id, 16) == 0) {
			p->handle_valid &= (uint8_t)~(1u << i);
			return true;
		}
	return false;
}

static bool
handle_known(const struct pair *p, const uint8_t id[16])
{
	unsigned int i;

	for (i = 0; i < DETECTOR_HANDLES_MAX; i++)
		if ((p->handle_valid & (1u << i)) &&
				memcmp(p->handles[i], id, 16) == 0)
			return true;
	return false;
}

static void
on_share_access(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	struct pair *p;

	if (ev->flags & EVENT_F_RESPONSE || ev->u.smb.share[0] == '\0')
		return;
	p = pair_of(det, ev);
	if (count_share_access(det, p, ev))
		check_lateral_movement(det, p, ev, DETECTOR_COND_SHARE_REPEAT,
			fn, ctx);
}

static void
on_create_response(struct detector *det, const struct gw_event *ev)
{
	struct pair *p;

	if (ev->status != 0 || ev->u.smb.is_pipe || !creates_or_writes(ev) ||
			!on_admin_share(det, ev) || !is_executable(det, ev))
		return;
	p = pair_of(det, ev);
	if (!handle_known(p, ev->u.smb.file_id))
		remember_handle(det, p, ev->u.smb.file_id);
}

static void
on_write(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	struct pair *p;

	if (ev->flags & EVENT_F_RESPONSE || ev->u.smb.is_pipe)
		return;
	p = pair_find(det, ev);
	if (p == NULL || !handle_known(p, ev->u.smb.file_id))
		return;
	/* Once per handle: a file written in many WRITEs is one execution. */
	take_handle(p, ev->u.smb.file_id);
	p->file_ns = ev->ts_ns;
	p->evidence_unsettled.exec_ns = ev->ts_ns;
	pair_set_text(p, PAIR_TEXT_SHARE, ev->u.smb.share);
	pair_set_text(p, PAIR_TEXT_FILE, ev->u.smb.name);
	p->evidence_unsettled.exec_kinds |= DETECTOR_EXEC_FILE;
	if (det->params.rules[DETECTOR_RULE_ADMIN_SHARE_EXECUTABLE])
		hit(det, DETECTOR_RULE_ADMIN_SHARE_EXECUTABLE,
			pair_rule(p, DETECTOR_RULE_ADMIN_SHARE_EXECUTABLE), ev,
			&p->node.key, pair_evidence(p), fn, ctx);
	check_lateral_movement(det, p, ev, DETECTOR_COND_ADMIN_EXEC, fn, ctx);
}

static void
on_smb(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	struct pair *p;

	switch (ev->subtype) {
	case SMB_FACT_LOGON:
		on_logon(det, ev, fn, ctx);
		break;
	case SMB_FACT_TREE_CONNECT:
		on_share_access(det, ev, fn, ctx);
		break;
	case SMB_FACT_CREATE:
		if (ev->flags & EVENT_F_RESPONSE)
			on_create_response(det, ev);
		else
			on_share_access(det, ev, fn, ctx);
		break;
	case SMB_FACT_WRITE:
		on_write(det, ev, fn, ctx);
		break;
	case SMB_FACT_NEGOTIATE:
		if (!(ev->flags & EVENT_F_RESPONSE) || ev->u.smb.version != 1 ||
				!det->params.rules[DETECTOR_RULE_SMB1])
			break;
		p = pair_of(det, ev);
		hit(det, DETECTOR_RULE_SMB1,
			pair_rule(p, DETECTOR_RULE_SMB1), ev, &p->node.key,
			pair_evidence(p), fn, ctx);
		break;
	case SMB_FACT_ENCRYPTED:
		p = pair_of(det, ev);
		p->evidence_unsettled.encrypted = true;
		/* Already an alert: the policy could not verify this flow. */
		if (p->unverifiable_flow == ev->flow_id && pair_rule(p,
				DETECTOR_RULE_UNVERIFIABLE)->raised_ns != 0)
			break;
		if (det->params.rules[DETECTOR_RULE_ENCRYPTED])
			hit(det, DETECTOR_RULE_ENCRYPTED,
				pair_rule(p, DETECTOR_RULE_ENCRYPTED), ev,
				&p->node.key, pair_evidence(p), fn, ctx);
		break;
	default:
		break;
	}
}

/* Which execution a DCE/RPC request is, 0 if none. */
static uint32_t
rpc_exec_kind(const struct gw_event *ev, bool *creates_service)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	const char *op = rpc->operation;

	*creates_service = false;
	if (rpc->interface == NULL || op == NULL)
		return 0;
	if (strcmp(rpc->interface, "svcctl") == 0) {
		if (strncmp(op, "CreateService", 13) == 0) {
			*creates_service = true;
			return DETECTOR_EXEC_SERVICE;
		}
		if (strncmp(op, "ChangeServiceConfig", 19) == 0 &&
				op[19] != '2' && rpc->command[0] != '\0') {
			*creates_service = true;
			return DETECTOR_EXEC_SERVICE;
		}
		if (strncmp(op, "StartService", 12) == 0)
			return DETECTOR_EXEC_SERVICE;
		return 0;
	}
	if (strcmp(rpc->interface, "atsvc") == 0)
		return strcmp(op, "NetrJobAdd") == 0 ? DETECTOR_EXEC_TASK : 0;
	if (strcmp(rpc->interface, "ITaskSchedulerService") == 0)
		return strcmp(op, "SchRpcRegisterTask") == 0 ||
			strcmp(op, "SchRpcRun") == 0 ? DETECTOR_EXEC_TASK : 0;
	return 0;
}

/*
 * svcctl OpenService*: the service a later ChangeServiceConfig* or
 * StartService* acts on, as those carry only its handle.
 */
static bool
opens_service(const struct gw_event *ev)
{
	const char *op = ev->u.dcerpc.operation;

	return op != NULL && strncmp(op, "OpenService", 11) == 0 &&
		strcmp(ev->u.dcerpc.interface, "svcctl") == 0 &&
		ev->u.dcerpc.name[0] != '\0';
}

static bool
is_exec_interface(const char *iface)
{
	return iface != NULL && (strcmp(iface, "svcctl") == 0 ||
		strcmp(iface, "atsvc") == 0 ||
		strcmp(iface, "ITaskSchedulerService") == 0);
}

static void
remember_operation(struct pair *p, const struct gw_event *ev)
{
	struct rpc_op *ops = pair_operations(p);
	struct rpc_op *slot = &ops[0];
	unsigned int i;

	for (i = 0; i < DETECTOR_OPERATIONS_MAX; i++) {
		struct rpc_op *op = &ops[i];

		if (op->operation == ev->u.dcerpc.operation &&
				op->interface == ev->u.dcerpc.interface) {
			slot = op;
			break;
		}
		if (op->operation == NULL) {
			slot = op;
			break;
		}
		if (op->ts_ns < slot->ts_ns)
			slot = op;
	}
	slot->interface = ev->u.dcerpc.interface;
	slot->operation = ev->u.dcerpc.operation;
	slot->ts_ns = ev->ts_ns;
}

/*
 * The exact case: a binary under %SystemRoot% (what ADMIN$ maps to) or
 * naming the file just written to an admin share.
 */
static bool
command_is_exact(struct pair *p, const char *command)
{
	static const char *const roots[] = {
		"%systemroot%\\", "%windir%\\", "c:\\windows\\",
		"\\\\?\\c:\\windows\\", "\\??\\c:\\windows\\",
	};
	const char *cmd = command, *file;
	size_t i;

	while (*cmd == '"' || *cmd == ' ')
		cmd++;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (strncasecmp(cmd, roots[i], strlen(roots[i])) == 0)
			return true;
	file = pair_evidence(p)->file;
	return file[0] != '\0' &&
		find_caseless(command, base_name(file)) != NULL;
}

/*
 * NTLMSSP in a DCE/RPC auth verifier (BIND, ALTER_CONTEXT, AUTH3): a logon
 * as an SMB session setup's is, e.g. svcctl over TCP reached through the
 * endpoint mapper as PsExec does it. DCE/RPC has no logon response: a
 * refused one shows as a BIND_NAK or fault later, so the names presented
 * count.
 */
static void
on_dcerpc_auth(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	struct pair *p;

	if (rpc->user[0] == '\0')	/* anonymous */
		return;
	p = pair_of(det, ev);
	p->evidence_unsettled.logon_ns = ev->ts_ns;
	pair_set_text(p, PAIR_TEXT_USER, rpc->user);
	pair_set_text(p, PAIR_TEXT_DOMAIN, rpc->domain);
	pair_set_text(p, PAIR_TEXT_WORKSTATION, rpc->name);
	p->evidence_unsettled.auth = SMB_AUTH_NTLMSSP;
	check_lateral_movement(det, p, ev, DETECTOR_COND_LOGON, fn, ctx);
}

/* DCE/RPC rule table (rpc_rules.h) */

static const char *
client_segment_of(const struct detector *det, const struct gw_event *ev)
{
	if (det->params.segment_of == NULL)
		return NULL;
	return det->params.segment_of(ev->client_addr, ev->ip_version,
		det->params.segment_arg);
}

static bool
rpc_row_applies(const struct detector *det, int row, const char *segment)
{
	return det->params.rpc.rules[row].enabled &&
		!rpc_rule_allows_segment(&det->params.rpc, (unsigned int)row,
		segment);
}

/* The dedup state of <row> on <p>: its slot, or the oldest one reused. */
static struct rpc_slot *
rpc_slot_of(struct pair *p, int row)
{
	struct rpc_slot *slots = pair_rpc_slots(p);
	struct rpc_slot *oldest = NULL;
	unsigned int i;

	for (i = 0; i < DETECTOR_RPC_SLOTS; i++)
		if (slots[i].row == row + 1)
			return &slots[i];
	for (i = 0; i < DETECTOR_RPC_SLOTS; i++) {
		struct rpc_slot *slot = &slots[i];

		if (slot->row == 0) {
			oldest = slot;
			break;
		}
		if (oldest == NULL || slot->st.last_ns < oldest->st.last_ns)
			oldest = slot;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->row = (int16_t)(row + 1);
	return oldest;
}

static void
rpc_evidence_set(struct detector_evidence *e, const struct gw_event *ev,
	int row, bool sealed, const char *target, const char *detail,
	const char *segment)
{
	e->rpc_rule = row;
	e->rpc_sealed = sealed;
	e->rpc_opnum = ev->u.dcerpc.opnum;
	utf8_copy(e->rpc_target, target != NULL ? target : "",
		sizeof(e->rpc_target));
	utf8_copy(e->rpc_detail, detail != NULL ? detail : "",
		sizeof(e->rpc_detail));
	utf8_copy(e->client_segment, segment != NULL ? segment : "",
		sizeof(e->client_segment));
	e->operation_count = 1;
	e->interfaces[0] = ev->u.dcerpc.interface;
	e->operations[0] = ev->u.dcerpc.operation;
}

static struct pair *
rpc_pair_hit(struct detector *det, const struct gw_event *ev, int row,
	bool sealed, const char *target, const char *detail,
	const char *segment, detector_alert_fn fn, void *ctx)
{
	struct pair *p = pair_of(det, ev);
	struct rpc_slot *slot = rpc_slot_of(p, row);

	rpc_evidence_set(pair_evidence(p), ev, row, sealed, target, detail,
		segment);
	hit_as(det, DETECTOR_RULE_RPC, &det->rpc_signatures[row], &slot->st,
		ev, &p->node.key, pair_evidence(p), fn, ctx);
	return p;
}

static struct client *
client_of(struct detector *det, const struct gw_event *ev)
{
	struct host_key key;
	struct client *c;
	bool evicted;

	pair_key(ev, &key);
	memset(key.server, 0, sizeof(key.server));
	c = (struct client *)table_get(&det->clients, &key, &evicted);
	if (evicted)
		det->counters.clients_evicted++;
	det->counters.clients = det->clients.in_use;
	return c;
}

/* A client-wide alert names the latest server it concerns. */
static void
client_hit(struct detector *det, struct client *c, const struct gw_event *ev,
	int row, struct rule_state *st, detector_alert_fn fn, void *ctx)
{
	struct host_key key = c->node.key;

	memcpy(key.server, ev->server_addr, 16);
	c->rpc_evidence.rpc_rule = row;
	hit_as(det, DETECTOR_RULE_RPC, &det->rpc_signatures[row], st, ev,
		&key, &c->rpc_evidence, fn, ctx);
}

static bool
window_over(const struct detector *det, uint64_t first, uint64_t now)
{
	return first == 0 || now < first || now - first >= det->window_ns;
}

/* NetrServerAuthenticate*: many from one client in a window. */
static void
on_netlogon_authenticate(struct detector *det, const struct gw_event *ev,
	const char *segment, detector_alert_fn fn, void *ctx)
{
	struct detector_evidence *e;
	struct client *c;

	if (!rpc_row_applies(det, RPC_RULE_NETLOGON_BURST, segment))
		return;
	c = client_of(det, ev);
	e = &c->rpc_evidence;
	memcpy(c->rpc_server, ev->server_addr, 16);
	if (window_over(det, c->netlogon_first_ns, ev->ts_ns)) {
		c->netlogon_first_ns = ev->ts_ns != 0 ? ev->ts_ns : 1;
		e->netlogon_authentications = 0;
	}
	e->netlogon_authentications++;
	if (e->netlogon_authentications < det->params.rpc.netlogon_auth_burst)
		return;
	rpc_evidence_set(e, ev, RPC_RULE_NETLOGON_BURST,
		(ev->u.dcerpc.rpc_flags & DCERPC_FACT_F_SEALED) != 0,
		ev->u.dcerpc.args == DCERPC_ARGS_NETLOGON ?
		ev->u.dcerpc.name : "", ev->u.dcerpc.args ==
		DCERPC_ARGS_NETLOGON ? ev->u.dcerpc.command : "", segment);
	client_hit(det, c, ev, RPC_RULE_NETLOGON_BURST, &c->netlogon_rule, fn,
		ctx);
}

static uint64_t
addr_hash(const uint8_t addr[16])
{
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	return h != 0 ? h : 1;
}

/* One discovery call: counted per client and window, by operation. */
static void
on_discovery(struct detector *det, const struct gw_event *ev,
	const char *mitre, const char *segment, detector_alert_fn fn,
	void *ctx)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	bool note = rpc_row_applies(det, RPC_RULE_DISCOVERY, segment);
	bool breadth = rpc_row_applies(det, RPC_RULE_DISCOVERY_BREADTH,
		segment);
	struct detector_discovery *d;
	struct detector_evidence *e;
	uint64_t server;
	struct client *c;
	unsigned int i;

	if (!note && !breadth)
		return;
	c = client_of(det, ev);
	e = &c->rpc_evidence;
	d = &c->discovery;
	memcpy(c->rpc_server, ev->server_addr, 16);
	if (window_over(det, c->discovery_first_ns, ev->ts_ns)) {
		c->discovery_first_ns = ev->ts_ns != 0 ? ev->ts_ns : 1;
		memset(c->discovery_servers, 0, sizeof(c->discovery_servers));
		memset(d, 0, sizeof(*d));
	}
	e->discovery = d;
	d->calls++;
	for (i = 0; i < d->op_count; i++)
		if (strcmp(d->ops[i].interface, rpc->interface) == 0 &&
				strcmp(d->ops[i].operation, rpc->operation) == 0)
			break;
	if (i == d->op_count && d->op_count < DETECTOR_DISCOVERY_OPS_MAX) {
		d->ops[i].interface = rpc->interface;
		d->ops[i].operation = rpc->operation;
		d->ops[i].mitre = mitre;
		d->ops[i].count = 0;
		d->op_count++;
	}
	if (i < d->op_count)
		d->ops[i].count++;
	server = addr_hash(ev->server_addr);
	for (i = 0; i < DETECTOR_DISCOVERY_SERVERS_MAX; i++) {
		if (c->discovery_servers[i] == server)
			break;
		if (c->discovery_servers[i] == 0) {
			c->discovery_servers[i] = server;
			d->servers++;
			break;
		}
	}
	rpc_evidence_set(e, ev, RPC_RULE_DISCOVERY,
		(rpc->rpc_flags & DCERPC_FACT_F_SEALED) != 0, "", "", segment);
	if (note)
		client_hit(det, c, ev, RPC_RULE_DISCOVERY, &c->discovery_rule,
			fn, ctx);
	if (breadth && d->servers >= det->params.rpc.discovery_breadth)
		client_hit(det, c, ev, RPC_RULE_DISCOVERY_BREADTH,
			&c->breadth_rule, fn, ctx);
}

/*
 * winreg: remembers the last key opened or created on the flow when it is
 * an autostart key; a value set there afterwards is the write.
 */
static void
on_registry(struct detector *det, const struct gw_event *ev,
	uint32_t listed, const char *segment, detector_alert_fn fn, void *ctx)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	bool sealed = (rpc->rpc_flags & DCERPC_FACT_F_SEALED) != 0;
	/* Value name and data; cut to the evidence's size when copied. */
	char detail[EVENT_NAME_MAX + EVENT_COMMAND_MAX + 4];
	struct pair *p;

	if (strcmp(rpc->operation, "BaseRegOpenKey") == 0 ||
			strcmp(rpc->operation, "BaseRegCreateKey") == 0) {
		if (sealed || rpc->args != DCERPC_ARGS_REGISTRY)
			return;
		p = pair_of(det, ev);
		if (!rpc_registry_is_autostart(rpc->name)) {
			p->autostart_ns = 0;
			return;
		}
		p->autostart_ns = ev->ts_ns != 0 ? ev->ts_ns : 1;
		p->autostart_flow = ev->flow_id;
		utf8_copy(p->autostart_key, rpc->name,
			sizeof(p->autostart_key));
		return;
	}
	if (!(listed & (1u << RPC_RULE_REGISTRY_AUTOSTART)) ||
			!rpc_row_applies(det, RPC_RULE_REGISTRY_AUTOSTART, segment))
		return;
	if (sealed) {
		rpc_pair_hit(det, ev, RPC_RULE_REGISTRY_AUTOSTART, true, "", "",
			segment, fn, ctx);
		return;
	}
	p = pair_of(det, ev);
	if (p->autostart_ns == 0 || p->autostart_flow != ev->flow_id ||
			!within(ev->ts_ns, p->autostart_ns, det->window_ns))
		return;
	snprintf(detail, sizeof(detail), "%s%s%s", rpc->name,
		rpc->command[0] != '\0' ? " = " : "", rpc->command);
	rpc_pair_hit(det, ev, RPC_RULE_REGISTRY_AUTOSTART, false,
		p->autostart_key, detail, segment, fn, ctx);
}

/* Remote execution by WMI or DCOM: evidence for CM0062 too. */
static void
rpc_exec_evidence(struct detector *det, const struct gw_event *ev,
	uint32_t listed, detector_alert_fn fn, void *ctx)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	struct pair *p;
	uint32_t kind;

	if (listed & (1u << RPC_RULE_WMI_EXEC))
		kind = DETECTOR_EXEC_WMI;
	else if (rpc->args == DCERPC_ARGS_DCOM_CLASS &&
			strcmp(rpc->command, "WbemLevel1Login") != 0)
		kind = DETECTOR_EXEC_DCOM;
	else
		return;
	p = pair_of(det, ev);
	if (kind == DETECTOR_EXEC_WMI)
		p->wmi_ns = ev->ts_ns;
	else
		p->dcom_ns = ev->ts_ns;
	p->evidence_unsettled.exec_ns = ev->ts_ns;
	p->evidence_unsettled.exec_kinds |= kind;
	check_lateral_movement(det, p, ev, DETECTOR_COND_ADMIN_EXEC, fn, ctx);
}

static void
on_rpc_request(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	const char *segment, *mitre = NULL;
	struct rpc_rule_hit found;
	const char *detail = "";
	uint32_t listed;

	if (rpc->interface == NULL || rpc->operation == NULL)
		return;
	listed = rpc_listing_memo_get(&det->listing, rpc->interface,
		rpc->operation);
	segment = client_segment_of(det, ev);
	if (rpc_rules_match_listed(&det->params.rpc, ev, segment, listed,
			&found) >= 0) {
		if (found.rule == RPC_RULE_DCOM_LATERAL ||
				found.rule == RPC_RULE_WMI_ACTIVATION)
			detail = rpc->name;	/* the CLSID */
		else if (found.rule == RPC_RULE_ZEROLOGON)
			detail = rpc->command;	/* the account */
		else if (found.rule == RPC_RULE_REGISTRY_HIVE_SAVE &&
				rpc->args == DCERPC_ARGS_REGISTRY)
			detail = rpc->name;	/* the file written */
		rpc_pair_hit(det, ev, found.rule, found.sealed, found.target,
			detail, segment, fn, ctx);
	}
	if (listed & (1u << RPC_RULE_NETLOGON_BURST))
		on_netlogon_authenticate(det, ev, segment, fn, ctx);
	/* The technique is the listed call's own: asked only when listed. */
	if ((listed & (1u << RPC_RULE_DISCOVERY)) &&
			rpc_rule_lists(RPC_RULE_DISCOVERY, rpc->interface,
			rpc->operation, &mitre))
		on_discovery(det, ev, mitre, segment, fn, ctx);
	if (strcmp(rpc->interface, "winreg") == 0)
		on_registry(det, ev, listed, segment, fn, ctx);
	if (det->params.rules[DETECTOR_RULE_LATERAL_MOVEMENT])
		rpc_exec_evidence(det, ev, listed, fn, ctx);
}

static void
on_dcerpc(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	bool creates_service;
	uint32_t kind;
	struct pair *p;

	if (ev->subtype == DCERPC_FACT_AUTH) {
		on_dcerpc_auth(det, ev, fn, ctx);
		return;
	}
	if (ev->subtype == DCERPC_FACT_REQUEST &&
			det->params.rules[DETECTOR_RULE_RPC])
		on_rpc_request(det, ev, fn, ctx);
	if (ev->subtype != DCERPC_FACT_REQUEST ||
			!is_exec_interface(ev->u.dcerpc.interface))
		return;
	p = pair_of(det, ev);
	if (ev->u.dcerpc.operation != NULL)
		remember_operation(p, ev);
	kind = rpc_exec_kind(ev, &creates_service);
	if (kind == 0) {
		if (opens_service(ev))
			pair_set_text(p, PAIR_TEXT_SERVICE, ev->u.dcerpc.name);
		return;
	}
	if (kind == DETECTOR_EXEC_SERVICE)
		p->service_ns = ev->ts_ns;
	else
		p->task_ns = ev->ts_ns;
	p->evidence_unsettled.exec_ns = ev->ts_ns;
	p->evidence_unsettled.exec_kinds |= kind;
	if (ev->u.dcerpc.name[0] != '\0')
		pair_set_text(p, PAIR_TEXT_SERVICE, ev->u.dcerpc.name);
	if (ev->u.dcerpc.command[0] != '\0') {
		pair_set_text(p, PAIR_TEXT_COMMAND, ev->u.dcerpc.command);
		p->evidence_unsettled.exact = command_is_exact(p,
			ev->u.dcerpc.command);
	}
	if (creates_service &&
			det->params.rules[DETECTOR_RULE_SERVICE_CREATION]) {
		gather_operations(det, p, ev->ts_ns);
		hit(det, DETECTOR_RULE_SERVICE_CREATION,
			pair_rule(p, DETECTOR_RULE_SERVICE_CREATION), ev,
			&p->node.key, pair_evidence(p), fn, ctx);
	}
	check_lateral_movement(det, p, ev, DETECTOR_COND_ADMIN_EXEC, fn, ctx);
}

static bool
is_workstation_segment(const struct detector *det, const char *segment)
{
	unsigned int i;

	for (i = 0; i < det->params.workstation_segment_count; i++)
		if (strcmp(det->params.workstation_segments[i], segment) == 0)
			return true;
	return false;
}

static void
on_flow(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	const char *segment;
	struct pair *p;

	if (ev->subtype == EVENT_FLOW_STREAM) {
		enum detector_rule rule =
			ev->u.flow.end_reason == EVENT_STREAM_CONFLICT ?
			DETECTOR_RULE_STREAM_CONFLICT :
			DETECTOR_RULE_STREAM_UNJUDGED;

		if (!det->params.rules[rule])
			return;
		p = pair_of(det, ev);
		hit(det, rule, pair_rule(p, rule), ev, &p->node.key,
			pair_evidence(p), fn, ctx);
		return;
	}
	if (ev->subtype != EVENT_FLOW_CLASSIFIED)
		return;
	if ((ev->flags & EVENT_F_NONSTANDARD_PORT) &&
			det->params.rules[DETECTOR_RULE_NONSTANDARD_PORT]) {
		p = pair_of(det, ev);
		hit(det, DETECTOR_RULE_NONSTANDARD_PORT,
			pair_rule(p, DETECTOR_RULE_NONSTANDARD_PORT), ev,
			&p->node.key, pair_evidence(p), fn, ctx);
	}
	if (ev->u.flow.app != FLOW_APP_SMB || det->params.segment_of == NULL ||
			!det->params.rules[DETECTOR_RULE_WORKSTATION_TARGET])
		return;
	segment = det->params.segment_of(ev->server_addr, ev->ip_version,
		det->params.segment_arg);
	if (segment == NULL || !is_workstation_segment(det, segment))
		return;
	p = pair_of(det, ev);
	hit(det, DETECTOR_RULE_WORKSTATION_TARGET,
		pair_rule(p, DETECTOR_RULE_WORKSTATION_TARGET), ev, &p->node.key,
		pair_evidence(p), fn, ctx);
}

/*
 * A policy decision on a session the gateway cannot read, on a pair with
 * SMB-level deny rules: an alert whatever was decided, naming the pair's
 * last logon (user, kind).
 */
static void
on_policy(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	const struct event_policy *pol = &ev->u.policy;
	struct pair *p;

	if (ev->subtype != EVENT_POLICY_SMB ||
			pol->unverifiable == EVENT_UNVERIFIABLE_NONE ||
			!det->params.rules[DETECTOR_RULE_UNVERIFIABLE])
		return;
	p = pair_of(det, ev);
	if (pol->unverifiable == EVENT_UNVERIFIABLE_ENCRYPTED ||
			pol->unverifiable == EVENT_UNVERIFIABLE_QUIC)
		p->evidence_unsettled.encrypted = true;
	p->evidence_unsettled.unverifiable = pol->unverifiable;
	p->evidence_unsettled.unverifiable_action = pol->unverifiable_action;
	p->evidence_unsettled.policy_action = pol->action;
	p->evidence_unsettled.policy_rule = pol->rule;
	p->unverifiable_flow = ev->flow_id;
	hit(det, DETECTOR_RULE_UNVERIFIABLE,
		pair_rule(p, DETECTOR_RULE_UNVERIFIABLE), ev, &p->node.key,
		pair_evidence(p), fn, ctx);
}

void
detector_add(struct detector *det, const struct gw_event *ev,
	detector_alert_fn fn, void *ctx)
{
	det->counters.events++;
	switch (ev->kind) {
	case EVENT_FLOW:
		on_flow(det, ev, fn, ctx);
		break;
	case EVENT_SMB:
		on_smb(det, ev, fn, ctx);
		break;
	case EVENT_DCERPC:
		on_dcerpc(det, ev, fn, ctx);
		break;
	case EVENT_POLICY:
		on_policy(det, ev, fn, ctx);
		break;
	default:
		break;
	}
}
