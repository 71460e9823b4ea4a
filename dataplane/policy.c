/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include "policy.h"

/*
 * Next hop the FIBs return when no prefix contains the address: the
 * largest a 2-byte next hop holds (one bit of it flags extended entries),
 * above any segment id.
 */
#define NO_PREFIX 0x7fff

/* Per-pair lists of SMB-condition rules are indexed by 16 bits; 0 is none. */
#define LISTS_MAX 65535

/* Set on a pair's verdict while building, once its base rule is known. */
#define VERDICT_RESOLVED 0x80

/* An SMB-condition rule as policy_smb_verdict() tests it. */
struct compiled_rule {
	struct policy_verdict verdict;
	uint8_t dialects;
	int8_t nonstandard_port;
	uint8_t encrypted;	/* enum policy_encrypted */
	bool names;		/* has share, pipe or file conditions */
	uint8_t unverifiable;	/* enum policy_action, resolved: when deciding a pair */
	uint32_t share_classes;
	uint32_t pipe_classes;
	uint32_t file_classes;
	uint8_t rpc_count;
	struct policy_rpc_call rpc[POLICY_RPC_MAX];
};

struct policy {
	/* What every pair lookup reads, first. */
	struct policy_verdict *verdicts;	/* [src * segment_count + dst] */
	uint16_t *pair_lists;	/* same index: SMB-rule list id, 0 for none */
	uint32_t segment_count;
	uint32_t rule_count;
	bool pairs_block;	/* some pair's verdict blocks */

	/* Prefix lookups; NULL when the spec has no prefix of that family. */
	struct rte_fib *fib4;
	struct rte_fib6 *fib6;

	/* SMB-rule list id -> rule indices, in rule order. */
	uint32_t *list_start;
	uint8_t *list_len;
	uint16_t *list_rules;
	struct compiled_rule *rules;	/* [rule index], rule id - 1 */

	unsigned int generation;
	enum policy_mode mode;
	uint8_t unverifiable;	/* enum policy_action of the group, resolved */
	char (*names)[POLICY_NAME_MAX];	/* [segment id] */
	unsigned int trusted_count;
	struct policy_prefix trusted[POLICY_TRUSTED_MAX];
	uint16_t vlan_segment[POLICY_VLAN_IDS];
};

struct policy_publisher {
	struct policy *current;	/* read and swapped atomically */
	unsigned int readers;
	struct rte_rcu_qsbr *qsbr;
};

/* Distinguishes the FIB names of policies built with the same generation. */
static uint32_t build_seq;

enum policy_dialect
policy_dialect_of(uint16_t code, bool smb1)
{
	if (smb1)
		return POLICY_DIALECT_SMB1;
	switch (code) {
	case 0x0202: return POLICY_DIALECT_2_0_2;
	case 0x0210: return POLICY_DIALECT_2_1;
	case 0x0300: return POLICY_DIALECT_3_0;
	case 0x0302: return POLICY_DIALECT_3_0_2;
	case 0x0311: return POLICY_DIALECT_3_1_1;
	default: return POLICY_DIALECT_UNKNOWN;
	}
}

const char *
policy_action_name(enum policy_action action)
{
	switch (action) {
	case POLICY_ALLOW: return "allow";
	case POLICY_DENY: return "deny";
	case POLICY_MONITOR: return "monitor";
	default: return "?";
	}
}

const char *
policy_unverifiable_name(enum policy_unverifiable action)
{
	switch (action) {
	case POLICY_UNVERIFIABLE_DEFAULT: return "default";
	case POLICY_UNVERIFIABLE_DENY: return "deny";
	case POLICY_UNVERIFIABLE_ALLOW: return "allow";
	case POLICY_UNVERIFIABLE_MONITOR: return "monitor";
	default: return "?";
	}
}

/* The action an unverifiable setting stands for; DEFAULT takes <inherited>. */
static uint8_t
unverifiable_action_of(uint8_t setting, uint8_t inherited)
{
	switch (setting) {
	case POLICY_UNVERIFIABLE_DENY: return POLICY_DENY;
	case POLICY_UNVERIFIABLE_ALLOW: return POLICY_ALLOW;
	case POLICY_UNVERIFIABLE_MONITOR: return POLICY_MONITOR;
	default: return inherited;
	}
}

const char *
policy_mode_name(enum policy_mode mode)
{
	switch (mode) {
	case POLICY_MODE_ENFORCE: return "enforce";
	case POLICY_MODE_MONITOR_ONLY: return "monitor-only";
	default: return "?";
	}
}

const char *
policy_dialect_name(enum policy_dialect dialect)
{
	static const char *const names[POLICY_DIALECT_COUNT] = {
		"unknown", "smb1", "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1",
	};

	return (unsigned int)dialect < POLICY_DIALECT_COUNT ?
		names[dialect] : "unknown";
}

static void __attribute__((format(printf, 3, 4)))
set_error(char *error, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (error == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(error, len, fmt, ap);
	va_end(ap);
}

static bool
rule_has_conditions(const struct policy_rule_spec *r)
{
	return r->dialects != 0 || r->nonstandard_port >= 0 ||
		r->encrypted != POLICY_ENCRYPTED_ANY ||
		r->share_classes != 0 || r->pipe_classes != 0 ||
		r->file_classes != 0 || r->rpc_count != 0;
}

static struct policy_verdict
make_verdict(const struct policy_spec *spec, uint16_t rule, uint8_t action,
	uint8_t deny_action)
{
	struct policy_verdict v = { .rule = rule, .action = action };

	if (deny_action == POLICY_DENY_INHERIT)
		deny_action = spec->deny_action;
	if (action == POLICY_DENY) {
		if (spec->mode == POLICY_MODE_ENFORCE)
			v.flags |= POLICY_VERDICT_BLOCK;
		if (deny_action == POLICY_DENY_RESET)
			v.flags |= POLICY_VERDICT_RESET;
	}
	return v;
}

static bool
prefix_ok(const struct policy_prefix *pfx)
{
	return (pfx->ip_version == 4 && pfx->depth <= 32) ||
		(pfx->ip_version == 6 && pfx->depth <= 128);
}

/* Checks what the tables rely on; the loader has checked the rest. */
static int
check_spec(const struct policy_spec *spec, char *error, size_t len)
{
	unsigned int n = spec->segment_count, i;

	if (n < 1 || n > POLICY_SEGMENTS_MAX + 1) {
		set_error(error, len, "segment_count %u is not in [1, %d]", n,
			POLICY_SEGMENTS_MAX + 1);
		return -EINVAL;
	}
	if (spec->prefix_count > POLICY_PREFIXES_MAX ||
			spec->trusted_count > POLICY_TRUSTED_MAX ||
			spec->rule_count > POLICY_RULES_MAX) {
		set_error(error, len, "more prefixes, trusted prefixes or rules than the limits");
		return -EINVAL;
	}
	if ((unsigned int)spec->mode > POLICY_MODE_MONITOR_ONLY ||
			(unsigned int)spec->default_action > POLICY_MONITOR ||
			(unsigned int)spec->deny_action > POLICY_DENY_DROP ||
			(unsigned int)spec->unverifiable_action >=
			POLICY_UNVERIFIABLE_COUNT) {
		set_error(error, len, "bad mode, default action, deny action or unverifiable action");
		return -EINVAL;
	}
	for (i = 0; i < spec->prefix_count; i++) {
		const struct policy_prefix *pfx = &spec->prefixes[i];

		if (!prefix_ok(pfx) || pfx->segment >= n) {
			set_error(error, len,
				"prefix %u: bad IP version, depth or segment", i);
			return -EINVAL;
		}
	}
	for (i = 0; i < spec->trusted_count; i++) {
		if (!prefix_ok(&spec->trusted[i])) {
			set_error(error, len,
				"trusted prefix %u: bad IP version or depth", i);
			return -EINVAL;
		}
	}
	for (i = 0; i < POLICY_VLAN_IDS; i++) {
		if (spec->vlan_segment[i] >= n) {
			set_error(error, len, "VLAN %u: segment out of range", i);
			return -EINVAL;
		}
	}
	for (i = 0; i < spec->rule_count; i++) {
		const struct policy_rule_spec *r = &spec->rules[i];

		if ((r->from >= n && r->from != POLICY_SEGMENT_ANY) ||
				(r->to >= n && r->to != POLICY_SEGMENT_ANY) ||
				r->action > POLICY_MONITOR ||
				r->deny_action > POLICY_DENY_INHERIT ||
				r->dialects >> POLICY_DIALECT_COUNT != 0 ||
				r->encrypted > POLICY_ENCRYPTED_YES ||
				r->unverifiable_action >=
				POLICY_UNVERIFIABLE_COUNT) {
			set_error(error, len,
				"rule %u: bad segment, action, deny action, dialect, encrypted or unverifiable action",
				i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int
build_fib4(struct policy *p, const struct policy_spec *spec, int socket,
	const char *tag)
{
	struct rte_fib_conf conf = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = NO_PREFIX,
	};
	char name[32];
	unsigned int i, count = 0, deep = 0;

	for (i = 0; i < spec->prefix_count; i++) {
		if (spec->prefixes[i].ip_version != 4)
			continue;
		count++;
		/* Each prefix longer than /24 may need a tbl8 group of its own. */
		if (spec->prefixes[i].depth > 24)
			deep++;
	}
	if (count == 0)
		return 0;
	conf.max_routes = (int)count;
	conf.dir24_8.nh_sz = RTE_FIB_DIR24_8_2B;
	conf.dir24_8.num_tbl8 = deep + 1;
	snprintf(name, sizeof(name), "pol4_%s", tag);
	p->fib4 = rte_fib_create(name, socket, &conf);
	if (p->fib4 == NULL)
		return -rte_errno;
	for (i = 0; i < spec->prefix_count; i++) {
		const struct policy_prefix *pfx = &spec->prefixes[i];
		uint32_t ip;
		int ret;

		if (pfx->ip_version != 4)
			continue;
		ip = (uint32_t)pfx->addr[0] << 24 | (uint32_t)pfx->addr[1] << 16 |
			(uint32_t)pfx->addr[2] << 8 | pfx->addr[3];
		ret = rte_fib_add(p->fib4, ip, pfx->depth, pfx->segment);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
build_fib6(struct policy *p, const struct policy_spec *spec, int socket,
	const char *tag)
{
	struct rte_fib6_conf conf = {
		.type = RTE_FIB6_TRIE,
		.default_nh = NO_PREFIX,
	};
	char name[32];
	unsigned int i, count = 0, tbl8 = 0;

	for (i = 0; i < spec->prefix_count; i++) {
		if (spec->prefixes[i].ip_version != 6)
			continue;
		count++;
		/* Every byte beyond the first 24 bits may take a tbl8 group. */
		if (spec->prefixes[i].depth > 24)
			tbl8 += (spec->prefixes[i].depth - 24 + 7) / 8;
	}
	if (count == 0)
		return 0;
	conf.max_routes = (int)count;
	conf.trie.nh_sz = RTE_FIB6_TRIE_2B;
	conf.trie.num_tbl8 = tbl8 + 1;
	snprintf(name, sizeof(name), "pol6_%s", tag);
	p->fib6 = rte_fib6_create(name, socket, &conf);
	if (p->fib6 == NULL)
		return -rte_errno;
	for (i = 0; i < spec->prefix_count; i++) {
		const struct policy_prefix *pfx = &spec->prefixes[i];
		int ret;

		if (pfx->ip_version != 6)
			continue;
		ret = rte_fib6_add(p->fib6, pfx->addr, pfx->depth,
			pfx->segment);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * The per-pair SMB-rule lists are built as a trie: list <id> is list
 * parent[id] followed by rule last[id]. Pairs reached by the same rules
 * share one list, so a rule "from any to any" costs one new list, not one
 * per pair. A hash on (parent, rule) finds a list that already exists.
 */
struct list_builder {
	uint32_t count;		/* lists, the empty list 0 included */
	uint16_t parent[LISTS_MAX + 1];
	uint16_t last[LISTS_MAX + 1];
	uint8_t depth[LISTS_MAX + 1];
	uint32_t slots;		/* power of two, over twice LISTS_MAX */
	uint32_t *keys;		/* (parent << 12 | rule) + 1; 0 is free */
	uint16_t *values;
};

static uint32_t
list_hash(uint32_t key)
{
	key ^= key >> 16;
	key *= 0x7feb352d;
	key ^= key >> 15;
	return key;
}

/*
 * List <parent> followed by rule <rule>: its id, new or found. Returns
 * the id, -ENOSPC when no id is left, or -E2BIG when the list would be
 * longer than POLICY_PAIR_RULES_MAX.
 */
static int
list_extend(struct list_builder *b, uint16_t parent, uint16_t rule)
{
	uint32_t key = ((uint32_t)parent << 12 | rule) + 1;
	uint32_t slot = list_hash(key) & (b->slots - 1);
	uint32_t id;

	while (b->keys[slot] != 0) {
		if (b->keys[slot] == key)
			return b->values[slot];
		slot = (slot + 1) & (b->slots - 1);
	}
	if (b->depth[parent] >= POLICY_PAIR_RULES_MAX)
		return -E2BIG;
	if (b->count > LISTS_MAX)
		return -ENOSPC;
	id = b->count++;
	b->parent[id] = parent;
	b->last[id] = rule;
	b->depth[id] = b->depth[parent] + 1;
	b->keys[slot] = key;
	b->values[slot] = (uint16_t)id;
	return (int)id;
}

/*
 * Walks the rules in order over the pairs each covers: the first rule
 * without conditions fixes a pair's verdict; conditional rules before it
 * are appended to the pair's list.
 */
static int
build_pairs(struct policy *p, const struct policy_spec *spec,
	struct list_builder *b, char *error, size_t len)
{
	uint32_t n = p->segment_count;
	struct policy_verdict base = make_verdict(spec, 0,
		spec->default_action, POLICY_DENY_INHERIT);
	unsigned int r;
	uint64_t i;

	for (r = 0; r < spec->rule_count; r++) {
		const struct policy_rule_spec *rule = &spec->rules[r];
		struct policy_verdict v = make_verdict(spec, (uint16_t)(r + 1),
			rule->action, rule->deny_action);
		bool conditional = rule_has_conditions(rule);
		uint32_t s0 = rule->from == POLICY_SEGMENT_ANY ? 0 : rule->from;
		uint32_t s1 = rule->from == POLICY_SEGMENT_ANY ? n : s0 + 1u;
		uint32_t d0 = rule->to == POLICY_SEGMENT_ANY ? 0 : rule->to;
		uint32_t d1 = rule->to == POLICY_SEGMENT_ANY ? n : d0 + 1u;
		/* Neighbouring pairs mostly share a list: remember the last. */
		int memo_from = -1, memo_to = -1;
		uint32_t s, d;

		v.flags |= VERDICT_RESOLVED;
		for (s = s0; s < s1; s++) {
			for (d = d0; d < d1; d++) {
				uint32_t idx = s * n + d;
				int next;

				if (p->verdicts[idx].flags & VERDICT_RESOLVED)
					continue;
				if (!conditional) {
					p->verdicts[idx] = v;
					continue;
				}
				if (p->pair_lists[idx] == memo_from) {
					p->pair_lists[idx] = (uint16_t)memo_to;
					continue;
				}
				next = list_extend(b, p->pair_lists[idx],
					(uint16_t)r);
				if (next == -E2BIG) {
					set_error(error, len,
						"segments %s to %s: more than %d rules with SMB conditions apply (rule %u)",
						p->names[s], p->names[d],
						POLICY_PAIR_RULES_MAX, r + 1);
					return -EINVAL;
				}
				if (next < 0) {
					set_error(error, len,
						"more than %d distinct lists of SMB-condition rules",
						LISTS_MAX);
					return -ENOSPC;
				}
				memo_from = p->pair_lists[idx];
				memo_to = next;
				p->pair_lists[idx] = (uint16_t)next;
			}
		}
	}
	for (i = 0; i < (uint64_t)n * n; i++) {
		if (p->verdicts[i].flags & VERDICT_RESOLVED)
			p->verdicts[i].flags &= ~VERDICT_RESOLVED;
		else
			p->verdicts[i] = base;
		if (p->pair_lists[i] != 0)
			p->verdicts[i].flags |= POLICY_VERDICT_SMB_RULES;
		if (p->verdicts[i].flags & POLICY_VERDICT_BLOCK)
			p->pairs_block = true;
	}
	return 0;
}

/* Lays the trie's lists out flat: list id -> its rules in order. */
static int
build_lists(struct policy *p, const struct policy_spec *spec,
	const struct list_builder *b, int socket)
{
	uint32_t total = 0, id, r;

	for (id = 0; id < b->count; id++)
		total += b->depth[id];
	p->list_start = rte_zmalloc_socket("policy_lists",
		sizeof(*p->list_start) * b->count, 0, socket);
	p->list_len = rte_zmalloc_socket("policy_lists", b->count, 0, socket);
	p->list_rules = rte_zmalloc_socket("policy_lists",
		sizeof(*p->list_rules) * (total + 1), 0, socket);
	p->rules = rte_zmalloc_socket("policy_rules",
		sizeof(*p->rules) * (spec->rule_count + 1), 0, socket);
	if (p->list_start == NULL || p->list_len == NULL ||
			p->list_rules == NULL || p->rules == NULL)
		return -ENOMEM;
	total = 0;
	for (id = 0; id < b->count; id++) {
		uint32_t at = id, k = b->depth[id];

		p->list_start[id] = total;
		p->list_len[id] = b->depth[id];
		while (k > 0) {
			p->list_rules[total + --k] = b->last[at];
			at = b->parent[at];
		}
		total += b->depth[id];
	}
	for (r = 0; r < spec->rule_count; r++) {
		const struct policy_rule_spec *rule = &spec->rules[r];
		struct compiled_rule *c = &p->rules[r];

		c->verdict = make_verdict(spec, (uint16_t)(r + 1), rule->action,
			rule->deny_action);
		c->dialects = rule->dialects;
		c->nonstandard_port = rule->nonstandard_port;
		c->encrypted = rule->encrypted;
		/* A DCE/RPC call is a name too: sealed SMB hides it. */
		c->names = rule->share_classes != 0 ||
			rule->pipe_classes != 0 || rule->file_classes != 0 ||
			rule->rpc_count != 0;
		c->unverifiable = unverifiable_action_of(
			rule->unverifiable_action, p->unverifiable);
		c->share_classes = rule->share_classes;
		c->pipe_classes = rule->pipe_classes;
		c->file_classes = rule->file_classes;
		c->rpc_count = rule->rpc_count < POLICY_RPC_MAX ?
			rule->rpc_count : POLICY_RPC_MAX;
		memcpy(c->rpc, rule->rpc, sizeof(c->rpc));
	}
	p->rule_count = spec->rule_count;
	return 0;
}

/*
 * Marks the pairs with a blocking SMB-condition rule, once the lists are
 * laid out: a list's rules are few, and each list is read once.
 */
static int
mark_blocking_pairs(struct policy *p, uint32_t list_count)
{
	uint64_t cells = (uint64_t)p->segment_count * p->segment_count, i;
	uint8_t *blocks = calloc(list_count, 1);
	uint32_t id, k;

	if (blocks == NULL)
		return -ENOMEM;
	for (id = 1; id < list_count; id++)
		for (k = 0; k < p->list_len[id]; k++)
			if (p->rules[p->list_rules[p->list_start[id] + k]]
					.verdict.flags & POLICY_VERDICT_BLOCK)
				blocks[id] = 1;
	for (i = 0; i < cells; i++)
		if (blocks[p->pair_lists[i]])
			p->verdicts[i].flags |= POLICY_VERDICT_SMB_BLOCKS;
	free(blocks);
	return 0;
}

struct policy *
policy_build(const struct policy_spec *spec, unsigned int generation,
	int socket, char *error, size_t len)
{
	struct list_builder *b = NULL;
	struct policy *p = NULL;
	char tag[20];
	uint64_t cells;
	unsigned int i;
	int ret;

	/* list_extend() packs a rule index into 12 bits. */
	RTE_BUILD_BUG_ON(POLICY_RULES_MAX > 4096);
	set_error(error, len, "no error");
	if (spec == NULL) {
		set_error(error, len, "no spec");
		ret = -EINVAL;
		goto fail;
	}
	ret = check_spec(spec, error, len);
	if (ret < 0)
		goto fail;
	p = rte_zmalloc_socket("policy", sizeof(*p), RTE_CACHE_LINE_SIZE,
		socket);
	if (p == NULL)
		goto out_of_memory;
	p->generation = generation;
	p->mode = spec->mode;
	p->unverifiable = unverifiable_action_of(spec->unverifiable_action,
		POLICY_DENY);
	p->segment_count = spec->segment_count;
	p->trusted_count = spec->trusted_count;
	memcpy(p->trusted, spec->trusted,
		sizeof(p->trusted[0]) * spec->trusted_count);
	memcpy(p->vlan_segment, spec->vlan_segment, sizeof(p->vlan_segment));
	p->vlan_segment[0] = POLICY_SEGMENT_UNASSIGNED;
	p->names = rte_zmalloc_socket("policy_names",
		sizeof(*p->names) * p->segment_count, 0, socket);
	cells = (uint64_t)p->segment_count * p->segment_count;
	p->verdicts = rte_zmalloc_socket("policy_verdicts",
		sizeof(*p->verdicts) * cells, RTE_CACHE_LINE_SIZE, socket);
	p->pair_lists = rte_zmalloc_socket("policy_pairs",
		sizeof(*p->pair_lists) * cells, RTE_CACHE_LINE_SIZE, socket);
	if (p->names == NULL || p->verdicts == NULL || p->pair_lists == NULL)
		goto out_of_memory;
	for (i = 0; i < p->segment_count; i++)
		snprintf(p->names[i], POLICY_NAME_MAX, "%s",
			i == 0 ? "unassigned" : spec->segments[i].name);

	snprintf(tag, sizeof(tag), "%x_%x", generation,
		__atomic_fetch_add(&build_seq, 1, __ATOMIC_RELAXED));
	ret = build_fib4(p, spec, socket, tag);
	if (ret == 0)
		ret = build_fib6(p, spec, socket, tag);
	if (ret < 0) {
		set_error(error, len, "cannot build the prefix tables: %s",
			rte_strerror(-ret));
		goto fail;
	}

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto out_of_memory;
	b->count = 1;
	b->slots = 1u << 18;
	b->keys = calloc(b->slots, sizeof(*b->keys));
	b->values = calloc(b->slots, sizeof(*b->values));
	if (b->keys == NULL || b->values == NULL)
		goto out_of_memory;
	ret = build_pairs(p, spec, b, error, len);
	if (ret < 0)
		goto fail;
	ret = build_lists(p, spec, b, socket);
	if (ret == 0)
		ret = mark_blocking_pairs(p, b->count);
	if (ret < 0)
		goto out_of_memory;
	free(b->keys);
	free(b->values);
	free(b);
	return p;

out_of_memory:
	ret = -ENOMEM;
	set_error(error, len, "out of memory building the policy tables");
fail:
	if (b != NULL) {
		free(b->keys);
		free(b->values);
		free(b);
	}
	policy_free(p);
	rte_errno = -ret;
	errno = -ret;
	return NULL;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	rte_fib_free(p->fib4);
	rte_fib6_free(p->fib6);
	rte_free(p->verdicts);
	rte_free(p->pair_lists);
	rte_free(p->list_start);
	rte_free(p->list_len);
	rte_free(p->list_rules);
	rte_free(p->rules);
	rte_free(p->names);
	rte_free(p);
}

unsigned int
policy_generation(const struct policy *p)
{
	return p->generation;
}

enum policy_mode
policy_mode(const struct policy *p)
{
	return p->mode;
}

unsigned int
policy_rule_count(const struct policy *p)
{
	return p->rule_count;
}

unsigned int
policy_segment_count(const struct policy *p)
{
	return p->segment_count;
}

const char *
policy_segment_name(const struct policy *p, uint16_t id)
{
	return id < p->segment_count ? p->names[id] : NULL;
}

uint16_t
policy_segment_of(const struct policy *p, uint8_t ip_version,
	const uint8_t addr[16], uint16_t vlan)
{
	uint64_t nh = NO_PREFIX;

	if (ip_version == 4 && p->fib4 != NULL) {
		uint32_t ip = (uint32_t)addr[0] << 24 |
			(uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 |
			addr[3];

		rte_fib_lookup_bulk(p->fib4, &ip, &nh, 1);
	} else if (ip_version == 6 && p->fib6 != NULL) {
		uint8_t ip[1][RTE_FIB6_IPV6_ADDR_SIZE];

		/* The lookup takes a mutable array; it only reads it. */
		memcpy(ip[0], addr, sizeof(ip[0]));
		rte_fib6_lookup_bulk(p->fib6, ip, &nh, 1);
	}
	if (nh != NO_PREFIX)
		return (uint16_t)nh;
	return p->vlan_segment[vlan & (POLICY_VLAN_IDS - 1)];
}

bool
policy_pairs_block(const struct policy *p)
{
	return p->pairs_block;
}

struct policy_verdict
policy_pair_verdict(const struct policy *p, uint16_t src, uint16_t dst)
{
	uint32_t n = p->segment_count;

	if (src >= n)
		src = POLICY_SEGMENT_UNASSIGNED;
	if (dst >= n)
		dst = POLICY_SEGMENT_UNASSIGNED;
	return p->verdicts[(uint32_t)src * n + dst];
}

/* The conditions of <r> that do not name anything. */
static bool
rule_matches_unnamed(const struct compiled_rule *r,
	const struct policy_smb_facts *facts)
{
	if (r->dialects != 0 && (facts->dialect == POLICY_DIALECT_UNKNOWN ||
			facts->dialect >= POLICY_DIALECT_COUNT ||
			(r->dialects & (1u << facts->dialect)) == 0))
		return false;
	if (r->nonstandard_port >= 0 &&
			facts->nonstandard_port != (r->nonstandard_port != 0))
		return false;
	if (r->encrypted != POLICY_ENCRYPTED_ANY &&
			facts->encrypted != (r->encrypted == POLICY_ENCRYPTED_YES))
		return false;
	return true;
}

/* Whether the DCE/RPC message of <facts> is one of the calls of <r>. */
static bool
rpc_matches(const struct compiled_rule *r,
	const struct policy_smb_facts *facts)
{
	unsigned int i;

	if (!facts->rpc)
		return false;
	for (i = 0; i < r->rpc_count; i++) {
		const struct policy_rpc_call *c = &r->rpc[i];

		if (memcmp(c->uuid, facts->rpc_uuid, 16) != 0)
			continue;
		if (c->opnum == POLICY_RPC_ANY_OP ||
				c->opnum == facts->rpc_opnum)
			return true;
	}
	return false;
}

static bool
rule_matches(const struct compiled_rule *r,
	const struct policy_smb_facts *facts)
{
	if (facts->rpc_only && r->rpc_count == 0)
		return false;
	if (!rule_matches_unnamed(r, facts))
		return false;
	if (r->share_classes != 0 &&
			(r->share_classes & facts->share_classes) == 0)
		return false;
	if (r->pipe_classes != 0 &&
			(r->pipe_classes & facts->pipe_classes) == 0)
		return false;
	if (r->file_classes != 0 &&
			(r->file_classes & facts->file_classes) == 0)
		return false;
	if (r->rpc_count != 0 && !rpc_matches(r, facts))
		return false;
	return true;
}

/*
 * The cell of the pair (<src>, <dst>) in the verdict matrix, ids out of
 * range taken as unassigned; its rule list (0: none) in <list>.
 */
static uint32_t
pair_cell(const struct policy *p, uint16_t src, uint16_t dst, uint16_t *list)
{
	uint32_t n = p->segment_count, idx;

	if (src >= n)
		src = POLICY_SEGMENT_UNASSIGNED;
	if (dst >= n)
		dst = POLICY_SEGMENT_UNASSIGNED;
	idx = (uint32_t)src * n + dst;
	*list = p->pair_lists[idx];
	return idx;
}

struct policy_verdict
policy_smb_verdict(const struct policy *p, uint16_t src, uint16_t dst,
	const struct policy_smb_facts *facts)
{
	uint32_t idx, i, start;
	struct policy_verdict v;
	uint16_t list;

	idx = pair_cell(p, src, dst, &list);
	v = p->verdicts[idx];
	if (list == 0)
		return v;
	start = p->list_start[list];
	for (i = 0; i < p->list_len[list]; i++) {
		const struct compiled_rule *r =
			&p->rules[p->list_rules[start + i]];

		if (rule_matches(r, facts))
			return r->verdict;
	}
	return v;
}

struct policy_verdict
policy_unverifiable_verdict(const struct policy *p, uint16_t src,
	uint16_t dst, const struct policy_smb_facts *facts)
{
	uint32_t idx, i, start;
	struct policy_verdict v, out;
	uint16_t list;

	idx = pair_cell(p, src, dst, &list);
	v = p->verdicts[idx];
	if (list == 0)
		return v;
	start = p->list_start[list];
	for (i = 0; i < p->list_len[list]; i++) {
		const struct compiled_rule *r =
			&p->rules[p->list_rules[start + i]];

		if (!rule_matches_unnamed(r, facts))
			continue;
		if (!r->names)
			return r->verdict;
		/*
		 * An allow or monitor rule on names is no reason to stop:
		 * whether the session meets it cannot be known, and a deny
		 * rule further down may be the one it meets.
		 */
		if (r->verdict.action != POLICY_DENY)
			continue;
		out.rule = r->verdict.rule;
		out.action = v.rule == 0 ? p->unverifiable :
			p->rules[v.rule - 1].unverifiable;
		out.flags = POLICY_VERDICT_UNVERIFIABLE;
		if (out.action == POLICY_DENY)
			out.flags |= r->verdict.flags &
				(POLICY_VERDICT_BLOCK | POLICY_VERDICT_RESET);
		return out;
	}
	return v;
}

struct policy_verdict
policy_quic_verdict(const struct policy *p, uint16_t src, uint16_t dst,
	uint16_t port, bool *unverifiable)
{
	struct policy_verdict v = policy_pair_verdict(p, src, dst);
	struct policy_smb_facts facts;
	struct policy_verdict u;

	*unverifiable = false;
	if (!(v.flags & POLICY_VERDICT_SMB_RULES))
		return v;
	memset(&facts, 0, sizeof(facts));
	facts.dialect = POLICY_DIALECT_3_1_1;
	facts.nonstandard_port = port != POLICY_QUIC_PORT;
	facts.encrypted = true;
	u = policy_unverifiable_verdict(p, src, dst, &facts);
	/* As for a sealed TCP session: nothing to slip past, untouched. */
	if (!(u.flags & POLICY_VERDICT_UNVERIFIABLE) && u.rule == v.rule)
		return v;
	*unverifiable = true;
	return u;
}

struct policy_verdict
policy_smb_strictest(const struct policy *p, uint16_t src, uint16_t dst)
{
	uint32_t idx, i, start;
	uint16_t list;

	idx = pair_cell(p, src, dst, &list);
	if (list == 0)
		return p->verdicts[idx];
	start = p->list_start[list];
	for (i = 0; i < p->list_len[list]; i++) {
		const struct compiled_rule *r =
			&p->rules[p->list_rules[start + i]];

		if (r->verdict.flags & POLICY_VERDICT_BLOCK)
			return r->verdict;
	}
	return p->verdicts[idx];
}

static bool
prefix_contains(const struct policy_prefix *pfx, const uint8_t *addr)
{
	unsigned int full = pfx->depth / 8, rest = pfx->depth % 8;

	if (memcmp(pfx->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((pfx->addr[full] ^ addr[full]) & (0xff00u >> rest)) == 0;
}

bool
policy_is_trusted(const struct policy *p, uint8_t ip_version,
	const uint8_t addr[16])
{
	unsigned int i;

	for (i = 0; i < p->trusted_count; i++)
		if (p->trusted[i].ip_version == ip_version &&
				prefix_contains(&p->trusted[i], addr))
			return true;
	return false;
}

struct policy_publisher *
policy_publisher_create(const struct policy_publisher_params *params)
{
	struct policy_publisher *pub;
	size_t size;
	unsigned int i;

	if (params == NULL || params->readers == 0 ||
			params->readers > RTE_MAX_LCORE) {
		rte_errno = EINVAL;
		return NULL;
	}
	pub = rte_zmalloc_socket("policy_publisher", sizeof(*pub),
		RTE_CACHE_LINE_SIZE, params->socket);
	if (pub == NULL)
		goto out_of_memory;
	size = rte_rcu_qsbr_get_memsize(params->readers);
	pub->qsbr = rte_zmalloc_socket("policy_qsbr", size,
		RTE_CACHE_LINE_SIZE, params->socket);
	if (pub->qsbr == NULL)
		goto free_pub;
	if (rte_rcu_qsbr_init(pub->qsbr, params->readers) != 0)
		goto free_qsbr;
	/* Registered but offline: a publish waits only for online readers. */
	for (i = 0; i < params->readers; i++)
		rte_rcu_qsbr_thread_register(pub->qsbr, i);
	pub->readers = params->readers;
	return pub;

free_qsbr:
	rte_free(pub->qsbr);
free_pub:
	rte_free(pub);
out_of_memory:
	rte_errno = ENOMEM;
	return NULL;
}

void
policy_publisher_free(struct policy_publisher *pub)
{
	if (pub == NULL)
		return;
	policy_free(pub->current);
	rte_free(pub->qsbr);
	rte_free(pub);
}

int
policy_publish(struct policy_publisher *pub, struct policy *next)
{
	struct policy *old;

	if (pub == NULL || next == NULL)
		return -EINVAL;
	old = __atomic_exchange_n(&pub->current, next, __ATOMIC_SEQ_CST);
	/* Readers that saw <old> have all passed a quiescent state after. */
	rte_rcu_qsbr_synchronize(pub->qsbr, RTE_QSBR_THRID_INVALID);
	policy_free(old);
	return 0;
}

int
policy_reader_online(struct policy_publisher *pub, unsigned int reader)
{
	if (reader >= pub->readers)
		return -EINVAL;
	rte_rcu_qsbr_thread_online(pub->qsbr, reader);
	return 0;
}

int
policy_reader_offline(struct policy_publisher *pub, unsigned int reader)
{
	if (reader >= pub->readers)
		return -EINVAL;
	rte_rcu_qsbr_thread_offline(pub->qsbr, reader);
	return 0;
}

const struct policy *
policy_current(const struct policy_publisher *pub)
{
	return __atomic_load_n(&pub->current, __ATOMIC_ACQUIRE);
}

void
policy_quiescent(struct policy_publisher *pub, unsigned int reader)
{
	rte_rcu_qsbr_quiescent(pub->qsbr, reader);
}
