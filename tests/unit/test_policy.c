/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy tables: prefix and VLAN lookup, most specific prefix, the pair
 * matrix against a rule-by-rule reference, SMB-condition rules, modes,
 * trusted prefixes, build errors, RCU publishing with a live reader, and
 * the sample deployment in conf/ deciding as its comments say.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <libconfig.h>

#include "config.h"
#include "match.h"
#include "policy.h"
#include "policy_config.h"
#include "watchlists.h"

static struct policy_spec spec;
static char error[256];

static void
spec_reset(void)
{
	memset(&spec, 0, sizeof(spec));
	spec.mode = POLICY_MODE_ENFORCE;
	spec.default_action = POLICY_ALLOW;
	spec.deny_action = POLICY_DENY_RESET;
	spec.segment_count = 1;
	snprintf(spec.segments[0].name, POLICY_NAME_MAX, "unassigned");
}

static uint16_t
add_segment(const char *name)
{
	uint16_t id = (uint16_t)spec.segment_count++;

	snprintf(spec.segments[id].name, POLICY_NAME_MAX, "%s", name);
	return id;
}

/* "a.b.c.d/len" or "v6/len" into <out>; the test's own parser. */
static void
parse_prefix(const char *text, struct policy_prefix *out)
{
	char addr[64];
	const char *slash = strchr(text, '/');

	memset(out, 0, sizeof(*out));
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - text), text);
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->ip_version = 4;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->ip_version = 6;
	else
		fail_msg("bad test prefix %s", text);
	out->depth = (uint8_t)atoi(slash + 1);
}

static void
add_prefix(uint16_t segment, const char *text)
{
	struct policy_prefix *pfx = &spec.prefixes[spec.prefix_count++];

	parse_prefix(text, pfx);
	pfx->segment = segment;
}

static struct policy_rule_spec *
add_rule(uint16_t from, uint16_t to, enum policy_action action)
{
	struct policy_rule_spec *r = &spec.rules[spec.rule_count++];

	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	r->action = action;
	r->deny_action = POLICY_DENY_INHERIT;
	r->nonstandard_port = -1;
	return r;
}

static struct policy *
build(void)
{
	struct policy *p = policy_build(&spec, 7, SOCKET_ID_ANY, error,
		sizeof(error));

	if (p == NULL)
		fail_msg("policy_build: %s", error);
	return p;
}

/* Segment of an address written as text, seen with <vlan>. */
static uint16_t
segment_of(const struct policy *p, const char *text, uint16_t vlan)
{
	uint8_t addr[16] = { 0 };

	if (inet_pton(AF_INET, text, addr) == 1)
		return policy_segment_of(p, 4, addr, vlan);
	if (inet_pton(AF_INET6, text, addr) == 1)
		return policy_segment_of(p, 6, addr, vlan);
	fail_msg("bad test address %s", text);
	return 0;
}

static void
test_prefix_lookup(void **state)
{
	uint16_t ws, srv;
	struct policy *p;

	spec_reset();
	ws = add_segment("workstations");
	srv = add_segment("servers");
	add_prefix(ws, "198.18.1.0/24");
	add_prefix(ws, "2001:db8:1::/48");
	add_prefix(srv, "198.18.2.0/24");
	add_prefix(srv, "2001:db8:2::/48");
	p = build();

	assert_int_equal(policy_generation(p), 7);
	assert_int_equal(policy_segment_count(p), 3);
	assert_int_equal(segment_of(p, "198.18.1.10", 0), ws);
	assert_int_equal(segment_of(p, "198.18.1.255", 0), ws);
	assert_int_equal(segment_of(p, "198.18.2.20", 0), srv);
	assert_int_equal(segment_of(p, "198.18.3.1", 0), 0);
	assert_int_equal(segment_of(p, "2001:db8:1:ffff::1", 0), ws);
	assert_int_equal(segment_of(p, "2001:db8:2::20", 0), srv);
	assert_int_equal(segment_of(p, "2001:db8:3::1", 0), 0);
	assert_string_equal(policy_segment_name(p, ws), "workstations");
	assert_string_equal(policy_segment_name(p, 0), "unassigned");
	assert_null(policy_segment_name(p, 3));
	policy_free(p);
}

static void
test_most_specific_prefix(void **state)
{
	uint16_t site, ws, host, host6;
	struct policy *p;

	spec_reset();
	site = add_segment("site");
	ws = add_segment("workstations");
	host = add_segment("jump-host");
	host6 = add_segment("jump-host6");
	add_prefix(site, "198.18.0.0/16");
	add_prefix(ws, "198.18.1.0/24");
	add_prefix(host, "198.18.1.77/32");
	add_prefix(site, "2001:db8::/32");
	add_prefix(host6, "2001:db8:1::77/128");
	p = build();

	assert_int_equal(segment_of(p, "198.18.9.9", 0), site);
	assert_int_equal(segment_of(p, "198.18.1.76", 0), ws);
	assert_int_equal(segment_of(p, "198.18.1.77", 0), host);
	assert_int_equal(segment_of(p, "198.18.1.78", 0), ws);
	assert_int_equal(segment_of(p, "2001:db8:1::77", 0), host6);
	assert_int_equal(segment_of(p, "2001:db8:1::78", 0), site);
	policy_free(p);
}

static void
test_vlan_lookup(void **state)
{
	uint16_t guests, ws;
	struct policy *p;

	spec_reset();
	guests = add_segment("guests");
	ws = add_segment("workstations");
	spec.vlan_segment[300] = guests;
	spec.vlan_segment[100] = ws;
	add_prefix(ws, "198.18.1.0/24");
	p = build();

	/* No prefix: the VLAN decides; untagged or unknown VLAN: unassigned. */
	assert_int_equal(segment_of(p, "10.9.9.9", 300), guests);
	assert_int_equal(segment_of(p, "2001:db8:9::9", 300), guests);
	assert_int_equal(segment_of(p, "10.9.9.9", 0), 0);
	assert_int_equal(segment_of(p, "10.9.9.9", 301), 0);
	/* A prefix wins over the VLAN. */
	assert_int_equal(segment_of(p, "198.18.1.5", 300), ws);
	assert_int_equal(segment_of(p, "198.18.1.5", 0), ws);
	/* Unknown IP version: VLAN only. */
	assert_int_equal(policy_segment_of(p, 0, (const uint8_t[16]){ 0 }, 300),
		guests);
	policy_free(p);
}

/* The verdict of the first matching unconditional rule, by brute force. */
static struct policy_verdict
reference_verdict(uint16_t s, uint16_t d)
{
	struct policy_verdict v = { .rule = 0, .action = spec.default_action };
	unsigned int i;

	for (i = 0; i < spec.rule_count; i++) {
		const struct policy_rule_spec *r = &spec.rules[i];

		if ((r->from == POLICY_SEGMENT_ANY || r->from == s) &&
				(r->to == POLICY_SEGMENT_ANY || r->to == d)) {
			v.rule = (uint16_t)(i + 1);
			v.action = r->action;
			break;
		}
	}
	return v;
}

static void
test_matrix(void **state)
{
	uint16_t ws, srv, dc, mgmt;
	struct policy_verdict v;
	struct policy *p;

	spec_reset();
	spec.default_action = POLICY_DENY;
	ws = add_segment("workstations");
	srv = add_segment("servers");
	dc = add_segment("dcs");
	mgmt = add_segment("mgmt");
	add_rule(ws, ws, POLICY_DENY);				/* 1 */
	add_rule(ws, srv, POLICY_ALLOW);			/* 2 */
	add_rule(POLICY_SEGMENT_ANY, dc, POLICY_ALLOW);		/* 3 */
	add_rule(mgmt, POLICY_SEGMENT_ANY, POLICY_MONITOR);	/* 4 */
	add_rule(0, POLICY_SEGMENT_ANY, POLICY_DENY)->deny_action =
		POLICY_DENY_DROP;				/* 5 */
	p = build();

	v = policy_pair_verdict(p, ws, ws);
	assert_int_equal(v.rule, 1);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags, POLICY_VERDICT_BLOCK | POLICY_VERDICT_RESET);
	v = policy_pair_verdict(p, ws, srv);
	assert_int_equal(v.rule, 2);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_int_equal(v.flags, 0);
	assert_int_equal(policy_pair_verdict(p, mgmt, dc).rule, 3);
	assert_int_equal(policy_pair_verdict(p, mgmt, ws).rule, 4);
	assert_int_equal(policy_pair_verdict(p, mgmt, ws).action,
		POLICY_MONITOR);
	v = policy_pair_verdict(p, 0, srv);
	assert_int_equal(v.rule, 5);
	assert_int_equal(v.flags, POLICY_VERDICT_BLOCK);
	/* No rule: the default action, rule 0. */
	v = policy_pair_verdict(p, srv, ws);
	assert_int_equal(v.rule, 0);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags, POLICY_VERDICT_BLOCK | POLICY_VERDICT_RESET);
	/* Out-of-range ids are unassigned. */
	assert_int_equal(policy_pair_verdict(p, 999, srv).rule, 5);
	policy_free(p);
}

/* 1000 segments, random rules: every cell equals the reference. */
static void
test_matrix_large(void **state)
{
	uint16_t n = 1000, s, d, i;
	struct policy *p;

	spec_reset();
	srand(6);
	for (i = 0; i < n; i++) {
		char name[POLICY_NAME_MAX];

		snprintf(name, sizeof(name), "seg%u", i);
		add_segment(name);
	}
	for (i = 0; i < 3000; i++) {
		uint16_t from = rand() % 20 == 0 ? POLICY_SEGMENT_ANY :
			(uint16_t)(rand() % (n + 1));
		uint16_t to = rand() % 20 == 0 ? POLICY_SEGMENT_ANY :
			(uint16_t)(rand() % (n + 1));

		add_rule(from, to, (enum policy_action)(rand() % 3));
	}
	p = build();
	for (s = 0; s <= n; s++) {
		for (d = 0; d <= n; d++) {
			struct policy_verdict got = policy_pair_verdict(p, s, d);
			struct policy_verdict want = reference_verdict(s, d);

			if (got.rule != want.rule || got.action != want.action)
				fail_msg("pair %u -> %u: rule %u action %u, want rule %u action %u",
					s, d, got.rule, got.action, want.rule,
					want.action);
		}
	}
	policy_free(p);
}

static void
test_smb_rules(void **state)
{
	struct policy_smb_facts facts = { 0 };
	struct policy_rule_spec *r;
	struct policy_verdict v;
	uint16_t ws, srv, dc;
	struct policy *p;

	spec_reset();
	ws = add_segment("workstations");
	srv = add_segment("servers");
	dc = add_segment("dcs");
	/* 1: SMB1 denied everywhere. */
	r = add_rule(POLICY_SEGMENT_ANY, POLICY_SEGMENT_ANY, POLICY_DENY);
	r->dialects = 1u << POLICY_DIALECT_SMB1;
	/* 2: admin shares (class 0) from workstations to servers, dropped. */
	r = add_rule(ws, srv, POLICY_DENY);
	r->share_classes = 1u << 0;
	r->deny_action = POLICY_DENY_DROP;
	/* 3: remote-exec pipes (class 2) monitored on non-standard ports. */
	r = add_rule(ws, srv, POLICY_MONITOR);
	r->pipe_classes = 1u << 2;
	r->nonstandard_port = 1;
	add_rule(ws, srv, POLICY_ALLOW);			/* 4 */
	add_rule(ws, dc, POLICY_ALLOW);				/* 5 */
	/* 6: after rule 5 for ws -> dc, so never reached for that pair. */
	r = add_rule(POLICY_SEGMENT_ANY, dc, POLICY_DENY);
	r->file_classes = 1u << 4;
	p = build();

	v = policy_pair_verdict(p, ws, srv);
	assert_int_equal(v.rule, 4);
	assert_true(v.flags & POLICY_VERDICT_SMB_RULES);
	/* Nothing special: the pair verdict. */
	facts.dialect = POLICY_DIALECT_3_1_1;
	facts.share_classes = 1u << 3;
	assert_int_equal(policy_smb_verdict(p, ws, srv, &facts).rule, 4);
	/* TREE_CONNECT to ADMIN$. */
	facts.share_classes = 1u << 0;
	v = policy_smb_verdict(p, ws, srv, &facts);
	assert_int_equal(v.rule, 2);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags, POLICY_VERDICT_BLOCK);
	/* The SMB1 rule comes first. */
	facts.dialect = POLICY_DIALECT_SMB1;
	assert_int_equal(policy_smb_verdict(p, ws, srv, &facts).rule, 1);
	/* Unknown dialect matches no dialect condition. */
	facts.dialect = POLICY_DIALECT_UNKNOWN;
	facts.share_classes = 0;
	assert_int_equal(policy_smb_verdict(p, ws, srv, &facts).rule, 4);
	/* Both conditions of rule 3 are needed. */
	facts.pipe_classes = 1u << 2;
	assert_int_equal(policy_smb_verdict(p, ws, srv, &facts).rule, 4);
	facts.nonstandard_port = true;
	v = policy_smb_verdict(p, ws, srv, &facts);
	assert_int_equal(v.rule, 3);
	assert_int_equal(v.action, POLICY_MONITOR);
	assert_int_equal(v.flags, 0);
	/* ws -> dc: rule 5 decides before rule 6; only rule 1 is kept. */
	memset(&facts, 0, sizeof(facts));
	facts.file_classes = 1u << 4;
	assert_int_equal(policy_smb_verdict(p, ws, dc, &facts).rule, 5);
	/* srv -> dc: rules 1 and 6 apply, then the default. */
	assert_int_equal(policy_pair_verdict(p, srv, dc).rule, 0);
	assert_int_equal(policy_smb_verdict(p, srv, dc, &facts).rule, 6);
	/* srv -> ws: only rule 1. */
	v = policy_pair_verdict(p, srv, ws);
	assert_int_equal(v.rule, 0);
	assert_true(v.flags & POLICY_VERDICT_SMB_RULES);
	assert_int_equal(policy_smb_verdict(p, srv, ws, &facts).rule, 0);
	facts.dialect = POLICY_DIALECT_SMB1;
	assert_int_equal(policy_smb_verdict(p, srv, ws, &facts).rule, 1);
	policy_free(p);
}

/*
 * Which pairs an unparsed connection could slip a deny through: the pair
 * flag and the strictest verdict, in enforce and monitor-only mode.
 */
static void
test_smb_blocking_pairs(void **state)
{
	struct policy_rule_spec *r;
	struct policy_verdict v;
	uint16_t ws, srv, mgmt;
	struct policy *p;

	(void)state;
	spec_reset();
	ws = add_segment("workstations");
	srv = add_segment("servers");
	mgmt = add_segment("management");
	/* 1: a conditional monitor rule, then 2: a conditional deny. */
	r = add_rule(ws, srv, POLICY_MONITOR);
	r->pipe_classes = 1u << 2;
	r = add_rule(ws, srv, POLICY_DENY);
	r->share_classes = 1u << 0;
	r->deny_action = POLICY_DENY_DROP;
	add_rule(ws, srv, POLICY_ALLOW);			/* 3 */
	/* 4: management has a conditional allow only. */
	r = add_rule(mgmt, srv, POLICY_ALLOW);
	r->share_classes = 1u << 0;
	p = build();

	v = policy_pair_verdict(p, ws, srv);
	assert_int_equal(v.rule, 3);
	assert_true(v.flags & POLICY_VERDICT_SMB_RULES);
	assert_true(v.flags & POLICY_VERDICT_SMB_BLOCKS);
	v = policy_smb_strictest(p, ws, srv);
	assert_int_equal(v.rule, 2);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags, POLICY_VERDICT_BLOCK);
	v = policy_pair_verdict(p, mgmt, srv);
	assert_true(v.flags & POLICY_VERDICT_SMB_RULES);
	assert_false(v.flags & POLICY_VERDICT_SMB_BLOCKS);
	assert_int_equal(policy_smb_strictest(p, mgmt, srv).rule, 0);
	/* No conditional rule at all; ids out of range are unassigned. */
	v = policy_pair_verdict(p, srv, ws);
	assert_int_equal(v.flags, 0);
	assert_int_equal(policy_smb_strictest(p, srv, ws).rule, 0);
	assert_int_equal(policy_smb_strictest(p, 999, 999).rule, 0);
	assert_int_equal(policy_rule_count(p), 4);
	policy_free(p);

	/* Monitor-only: nothing blocks, so nothing needs refusing. */
	spec.mode = POLICY_MODE_MONITOR_ONLY;
	p = build();
	v = policy_pair_verdict(p, ws, srv);
	assert_true(v.flags & POLICY_VERDICT_SMB_RULES);
	assert_false(v.flags & POLICY_VERDICT_SMB_BLOCKS);
	assert_int_equal(policy_smb_strictest(p, ws, srv).rule, 3);
	policy_free(p);
}

static void
test_monitor_only_mode(void **state)
{
	struct policy_smb_facts facts = { .share_classes = 1 };
	struct policy_rule_spec *r;
	struct policy_verdict v;
	struct policy *p;
	uint16_t ws;

	spec_reset();
	spec.mode = POLICY_MODE_MONITOR_ONLY;
	spec.deny_action = POLICY_DENY_DROP;
	ws = add_segment("workstations");
	r = add_rule(ws, ws, POLICY_DENY);
	r->share_classes = 1;
	add_rule(ws, ws, POLICY_DENY)->deny_action = POLICY_DENY_RESET;
	p = build();

	assert_int_equal(policy_mode(p), POLICY_MODE_MONITOR_ONLY);
	/* Denied as configured, but nothing blocks. */
	v = policy_pair_verdict(p, ws, ws);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags & POLICY_VERDICT_BLOCK, 0);
	assert_true(v.flags & POLICY_VERDICT_RESET);
	v = policy_smb_verdict(p, ws, ws, &facts);
	assert_int_equal(v.rule, 1);
	assert_int_equal(v.flags, 0);
	policy_free(p);
}

/*
 * SMB over QUIC: a pair that denies SMB blocks it; a pair with a deny rule
 * on names lets the unverifiable action decide; a rule for connections on
 * a non-standard port meets it off 443 only; an allow-only pair allows.
 */
static void
test_quic_verdict(void **state)
{
	struct policy_rule_spec *r;
	struct policy_verdict v;
	uint16_t ws, srv, dc, other;
	bool unverifiable;
	struct policy *p;

	(void)state;
	spec_reset();
	ws = add_segment("workstations");
	srv = add_segment("servers");
	dc = add_segment("dcs");
	other = add_segment("other");
	add_rule(ws, srv, POLICY_DENY);				/* 1 */
	r = add_rule(ws, dc, POLICY_DENY);			/* 2 */
	r->share_classes = 1u << 0;
	r = add_rule(ws, other, POLICY_DENY);			/* 3 */
	r->nonstandard_port = 1;
	add_rule(ws, dc, POLICY_ALLOW);				/* 4 */
	add_rule(ws, other, POLICY_ALLOW);			/* 5 */
	p = build();

	v = policy_quic_verdict(p, ws, srv, 443, &unverifiable);
	assert_int_equal(v.rule, 1);
	assert_true(v.flags & POLICY_VERDICT_BLOCK);
	assert_false(unverifiable);
	v = policy_quic_verdict(p, ws, dc, 443, &unverifiable);
	assert_int_equal(v.rule, 2);
	assert_true(v.flags & POLICY_VERDICT_BLOCK);
	assert_true(unverifiable);
	v = policy_quic_verdict(p, ws, other, 443, &unverifiable);
	assert_int_equal(v.rule, 5);
	assert_false(v.flags & POLICY_VERDICT_BLOCK);
	assert_false(unverifiable);
	v = policy_quic_verdict(p, ws, other, 8443, &unverifiable);
	assert_int_equal(v.rule, 3);
	assert_true(v.flags & POLICY_VERDICT_BLOCK);
	v = policy_quic_verdict(p, srv, ws, 443, &unverifiable);
	assert_int_equal(v.rule, 0);
	assert_int_equal(v.action, POLICY_ALLOW);
	policy_free(p);
}

/*
 * Unverifiable sessions: what a sealed connection gets, by pair. The
 * segments: ws -> srv with deny admin_share, ws -> open with allow rules
 * only, ws -> dc with deny on SMB1 only, ws -> lab with an explicit
 * encrypted rule, ws -> mgr with an allow rule on names before the deny.
 */
static void
test_unverifiable(void **state)
{
	struct policy_smb_facts sealed = {
		.dialect = POLICY_DIALECT_3_1_1, .encrypted = true,
		/* Ignored: names cannot be seen. */
		.share_classes = 1u << 3,
	};
	struct policy_smb_facts clear = { .dialect = POLICY_DIALECT_3_1_1 };
	struct policy_rule_spec *r;
	struct policy_verdict v;
	uint16_t ws, srv, open, dc, lab, mgr;
	struct policy *p;

	spec_reset();
	ws = add_segment("workstations");
	srv = add_segment("servers");
	open = add_segment("open");
	dc = add_segment("dcs");
	lab = add_segment("lab");
	mgr = add_segment("managers");
	/* 1: admin shares (class 0) from ws to srv, dropped not reset. */
	r = add_rule(ws, srv, POLICY_DENY);
	r->share_classes = 1u << 0;
	r->deny_action = POLICY_DENY_DROP;
	add_rule(ws, srv, POLICY_ALLOW);			/* 2 */
	add_rule(ws, open, POLICY_ALLOW);			/* 3 */
	r = add_rule(ws, dc, POLICY_DENY);			/* 4: SMB1 */
	r->dialects = 1u << POLICY_DIALECT_SMB1;
	r = add_rule(ws, dc, POLICY_DENY);			/* 5: SMB1 + names */
	r->dialects = 1u << POLICY_DIALECT_SMB1;
	r->share_classes = 1u << 0;
	add_rule(ws, dc, POLICY_ALLOW);				/* 6 */
	/* 7: sealed sessions monitored explicitly, before the name rule. */
	r = add_rule(ws, lab, POLICY_MONITOR);
	r->encrypted = POLICY_ENCRYPTED_YES;
	r = add_rule(ws, lab, POLICY_DENY);			/* 8 */
	r->share_classes = 1u << 0;
	/* 9: clear sessions only: a sealed one does not meet it. */
	r = add_rule(ws, lab, POLICY_DENY);
	r->encrypted = POLICY_ENCRYPTED_NO;
	add_rule(ws, lab, POLICY_ALLOW);			/* 10 */
	r = add_rule(ws, mgr, POLICY_ALLOW);			/* 11: data share */
	r->share_classes = 1u << 1;
	r = add_rule(ws, mgr, POLICY_DENY);			/* 12 */
	r->share_classes = 1u << 0;
	add_rule(ws, mgr, POLICY_ALLOW)->unverifiable_action =	/* 13 */
		POLICY_UNVERIFIABLE_MONITOR;
	p = build();

	/* Default (deny): the deny rule's own drop, no reset. */
	v = policy_unverifiable_verdict(p, ws, srv, &sealed);
	assert_int_equal(v.rule, 1);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags, POLICY_VERDICT_UNVERIFIABLE |
		POLICY_VERDICT_BLOCK);
	/* Allow-only pairs: no rule list, the pair verdict. */
	v = policy_pair_verdict(p, ws, open);
	assert_int_equal(v.flags & POLICY_VERDICT_SMB_RULES, 0);
	v = policy_unverifiable_verdict(p, ws, open, &sealed);
	assert_int_equal(v.rule, 3);
	assert_int_equal(v.flags, 0);
	/* SMB1 rules cannot be slipped past by an SMB 3 session. */
	v = policy_unverifiable_verdict(p, ws, dc, &sealed);
	assert_int_equal(v.rule, 6);
	assert_int_equal(v.flags & POLICY_VERDICT_UNVERIFIABLE, 0);
	/* An explicit encrypted rule decides; no unverifiable action. */
	v = policy_unverifiable_verdict(p, ws, lab, &sealed);
	assert_int_equal(v.rule, 7);
	assert_int_equal(v.action, POLICY_MONITOR);
	assert_int_equal(v.flags, 0);
	/* ... and a clear message does not meet it, nor rule 8 without a
	 * name, but rule 9 (encrypted = false). */
	v = policy_smb_verdict(p, ws, lab, &clear);
	assert_int_equal(v.rule, 9);
	assert_true(v.flags & POLICY_VERDICT_BLOCK);
	clear.share_classes = 1u << 0;
	assert_int_equal(policy_smb_verdict(p, ws, lab, &clear).rule, 8);
	/* A compressed, not sealed, message does not meet rule 7. */
	sealed.encrypted = false;
	v = policy_unverifiable_verdict(p, ws, lab, &sealed);
	assert_int_equal(v.rule, 8);
	assert_true(v.flags & POLICY_VERDICT_UNVERIFIABLE);
	sealed.encrypted = true;
	/* An allow rule on names does not stop the walk; rule 13 says monitor. */
	v = policy_unverifiable_verdict(p, ws, mgr, &sealed);
	assert_int_equal(v.rule, 12);
	assert_int_equal(v.action, POLICY_MONITOR);
	assert_int_equal(v.flags, POLICY_VERDICT_UNVERIFIABLE);
	policy_free(p);

	/* The group says allow; a rule deciding its pair says deny. */
	spec.unverifiable_action = POLICY_UNVERIFIABLE_ALLOW;
	spec.rules[5].unverifiable_action = POLICY_UNVERIFIABLE_DENY;
	p = build();
	v = policy_unverifiable_verdict(p, ws, srv, &sealed);
	assert_int_equal(v.rule, 1);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_int_equal(v.flags, POLICY_VERDICT_UNVERIFIABLE);
	/* ws -> dc: the SMB1 session on ADMIN$ could pass rule 5 unseen. */
	sealed.dialect = POLICY_DIALECT_SMB1;
	v = policy_unverifiable_verdict(p, ws, dc, &sealed);
	assert_int_equal(v.rule, 4);	/* rule 4 has no names: it decides */
	sealed.dialect = POLICY_DIALECT_3_1_1;
	policy_free(p);

	/* Monitor-only: the deny is reported, nothing blocks. */
	spec.unverifiable_action = POLICY_UNVERIFIABLE_DEFAULT;
	spec.mode = POLICY_MODE_MONITOR_ONLY;
	p = build();
	v = policy_unverifiable_verdict(p, ws, srv, &sealed);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags, POLICY_VERDICT_UNVERIFIABLE);
	policy_free(p);
	assert_string_equal(policy_unverifiable_name(POLICY_UNVERIFIABLE_ALLOW),
		"allow");
}

static void
test_trusted(void **state)
{
	uint8_t a[16] = { 0 };
	struct policy *p;

	spec_reset();
	parse_prefix("198.18.9.0/24", &spec.trusted[0]);
	parse_prefix("2001:db8:9::/48", &spec.trusted[1]);
	parse_prefix("198.18.10.3/32", &spec.trusted[2]);
	spec.trusted_count = 3;
	p = build();

	inet_pton(AF_INET, "198.18.9.200", a);
	assert_true(policy_is_trusted(p, 4, a));
	inet_pton(AF_INET, "198.18.10.3", a);
	assert_true(policy_is_trusted(p, 4, a));
	inet_pton(AF_INET, "198.18.10.4", a);
	assert_false(policy_is_trusted(p, 4, a));
	inet_pton(AF_INET6, "2001:db8:9:1::1", a);
	assert_true(policy_is_trusted(p, 6, a));
	/* The same bytes as IPv4 are not an IPv6 match, and vice versa. */
	assert_false(policy_is_trusted(p, 4, a));
	inet_pton(AF_INET6, "2001:db8:a::1", a);
	assert_false(policy_is_trusted(p, 6, a));
	policy_free(p);
}

static void
test_no_prefixes(void **state)
{
	struct policy *p;
	uint16_t ws;

	/* No prefix tables at all: VLANs only. */
	spec_reset();
	ws = add_segment("workstations");
	spec.vlan_segment[100] = ws;
	p = build();
	assert_int_equal(segment_of(p, "198.18.1.1", 100), ws);
	assert_int_equal(segment_of(p, "2001:db8::1", 0), 0);
	assert_int_equal(policy_pair_verdict(p, ws, ws).action, POLICY_ALLOW);
	policy_free(p);
}

static void
test_build_errors(void **state)
{
	struct policy_rule_spec *r;
	unsigned int i;
	uint16_t ws;

	spec_reset();
	ws = add_segment("workstations");
	add_rule(ws, 5, POLICY_DENY);
	assert_null(policy_build(&spec, 1, SOCKET_ID_ANY, error,
		sizeof(error)));
	assert_int_equal(rte_errno, EINVAL);
	assert_string_equal(error,
		"rule 1: bad segment, action, deny action, dialect, encrypted or unverifiable action");

	spec_reset();
	ws = add_segment("workstations");
	add_prefix(ws, "198.18.1.0/33");
	assert_null(policy_build(&spec, 1, SOCKET_ID_ANY, error,
		sizeof(error)));
	assert_int_equal(rte_errno, EINVAL);

	spec_reset();
	ws = add_segment("workstations");
	spec.vlan_segment[7] = 9;
	assert_null(policy_build(&spec, 1, SOCKET_ID_ANY, error,
		sizeof(error)));
	assert_int_equal(errno, EINVAL);

	/* Too many SMB-condition rules reach one pair. */
	spec_reset();
	ws = add_segment("workstations");
	for (i = 0; i <= POLICY_PAIR_RULES_MAX; i++) {
		r = add_rule(POLICY_SEGMENT_ANY, ws, POLICY_DENY);
		r->dialects = 1u << POLICY_DIALECT_SMB1;
	}
	assert_null(policy_build(&spec, 1, SOCKET_ID_ANY, error,
		sizeof(error)));
	assert_int_equal(rte_errno, EINVAL);
	assert_string_equal(error,
		"segments unassigned to workstations: more than 32 rules with SMB conditions apply (rule 33)");
	assert_null(policy_build(NULL, 1, SOCKET_ID_ANY, error,
		sizeof(error)));
}

/* Two policies of the same generation coexist (FIB names differ). */
static void
test_same_generation_twice(void **state)
{
	struct policy *a, *b;
	uint16_t ws;

	spec_reset();
	ws = add_segment("workstations");
	add_prefix(ws, "198.18.1.0/24");
	add_prefix(ws, "2001:db8:1::/48");
	a = build();
	b = build();
	assert_int_equal(segment_of(a, "198.18.1.1", 0), ws);
	assert_int_equal(segment_of(b, "2001:db8:1::1", 0), ws);
	policy_free(a);
	policy_free(b);
}

static void
test_dialect_of(void **state)
{
	assert_int_equal(policy_dialect_of(0x0001, true), POLICY_DIALECT_SMB1);
	assert_int_equal(policy_dialect_of(0x0202, false), POLICY_DIALECT_2_0_2);
	assert_int_equal(policy_dialect_of(0x0210, false), POLICY_DIALECT_2_1);
	assert_int_equal(policy_dialect_of(0x0300, false), POLICY_DIALECT_3_0);
	assert_int_equal(policy_dialect_of(0x0302, false), POLICY_DIALECT_3_0_2);
	assert_int_equal(policy_dialect_of(0x0311, false), POLICY_DIALECT_3_1_1);
	assert_int_equal(policy_dialect_of(0x02ff, false),
		POLICY_DIALECT_UNKNOWN);
	assert_int_equal(policy_dialect_of(0, false), POLICY_DIALECT_UNKNOWN);
	assert_string_equal(policy_dialect_name(POLICY_DIALECT_3_0_2), "3.0.2");
	assert_string_equal(policy_action_name(POLICY_MONITOR), "monitor");
	assert_string_equal(policy_mode_name(POLICY_MODE_MONITOR_ONLY),
		"monitor-only");
}

/*
 * RCU: a reader thread keeps reading the current policy (its names and
 * matrix) and reports quiescence once per pass, as a worker does, while
 * this thread publishes new generations. Each policy's segment name
 * carries its generation, so a reader that used a freed policy would see
 * garbage (and ASan would report the use after free).
 */
#define PUBLISHES 200

struct reader_arg {
	struct policy_publisher *pub;
	volatile bool stop;
	uint64_t passes;
	unsigned int last_generation;
	bool went_back;		/* saw an older generation after a newer one */
	bool mismatch;		/* a policy's contents did not match its tag */
};

static void *
reader_main(void *opaque)
{
	struct reader_arg *arg = opaque;

	policy_reader_online(arg->pub, 0);
	while (!arg->stop) {
		const struct policy *p = policy_current(arg->pub);

		if (p != NULL) {
			unsigned int gen = policy_generation(p);
			char want[POLICY_NAME_MAX];
			unsigned int i;

			snprintf(want, sizeof(want), "gen%u", gen);
			/* A while with <p>, as a worker with a burst. */
			for (i = 0; i < 64; i++) {
				uint16_t s = (uint16_t)(i % 3);

				if (strcmp(policy_segment_name(p, 1), want) != 0 ||
						policy_pair_verdict(p, s, 1).rule !=
						(gen % 2 ? 1 : 0))
					arg->mismatch = true;
			}
			/* Freed and reused meanwhile, it would say so here. */
			if (policy_generation(p) != gen)
				arg->mismatch = true;
			if (gen < arg->last_generation)
				arg->went_back = true;
			arg->last_generation = gen;
		}
		arg->passes++;
		policy_quiescent(arg->pub, 0);
	}
	policy_reader_offline(arg->pub, 0);
	return NULL;
}

static void
test_publish_under_rcu(void **state)
{
	struct policy_publisher_params params = {
		.readers = 2, .socket = SOCKET_ID_ANY,
	};
	struct reader_arg arg = { 0 };
	struct policy_publisher *pub;
	pthread_t reader;
	unsigned int gen;

	pub = policy_publisher_create(&params);
	assert_non_null(pub);
	assert_null(policy_current(pub));
	arg.pub = pub;
	assert_int_equal(pthread_create(&reader, NULL, reader_main, &arg), 0);
	for (gen = 1; gen <= PUBLISHES; gen++) {
		char name[POLICY_NAME_MAX];
		struct policy *p;
		uint16_t seg;

		spec_reset();
		snprintf(name, sizeof(name), "gen%u", gen);
		seg = add_segment(name);
		add_prefix(seg, "198.18.1.0/24");
		/* Odd generations have a rule to segment 1, even ones not. */
		if (gen % 2)
			add_rule(POLICY_SEGMENT_ANY, seg, POLICY_DENY);
		p = policy_build(&spec, gen, SOCKET_ID_ANY, error,
			sizeof(error));
		assert_non_null(p);
		/* Reader 1 never goes online: a publish must not wait for it. */
		assert_int_equal(policy_publish(pub, p), 0);
		assert_ptr_equal(policy_current(pub), p);
	}
	arg.stop = true;
	pthread_join(reader, NULL);
	assert_false(arg.mismatch);
	assert_false(arg.went_back);
	assert_true(arg.passes > 0);
	assert_int_equal(arg.last_generation, PUBLISHES);
	assert_int_equal(policy_publish(pub, NULL), -EINVAL);
	assert_int_equal(policy_reader_online(pub, 2), -EINVAL);
	policy_publisher_free(pub);

	params.readers = 0;
	assert_null(policy_publisher_create(&params));
	assert_int_equal(rte_errno, EINVAL);
}

/* conf/policy-example.conf, loaded and built, decides as it says. */
static void
test_example_deployment(void **state)
{
	const char *path = TESTS_DIR "/../conf/policy-example.conf";
	static struct watchlist_spec watchlists;
	static struct config_errors errors;
	struct policy_smb_facts facts = { .dialect = POLICY_DIALECT_3_1_1 };
	struct policy_verdict v;
	struct watchlist *wl;
	uint16_t ws, fs, fin, dc, mgmt, infra;
	uint8_t a[16] = { 0 };
	struct policy *p;
	config_t lc;

	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE)
		fail_msg("%s:%d: %s", path, config_error_line(&lc),
			config_error_text(&lc));
	assert_int_equal(watchlists_load(config_lookup(&lc, "watchlists"),
		path, &watchlists, &errors), 0);
	if (policy_config_load(config_lookup(&lc, "policy"), path, &spec,
			&watchlists, &errors) < 0)
		fail_msg("%s", errors.messages[0]);
	config_destroy(&lc);
	wl = watchlist_compile(&watchlists, NULL, 0);
	assert_non_null(wl);
	p = build();

	ws = segment_of(p, "198.18.16.5", 0);
	fs = segment_of(p, "198.18.2.5", 0);
	fin = segment_of(p, "198.18.2.20", 0);
	dc = segment_of(p, "2001:db8:3::10", 0);
	mgmt = segment_of(p, "10.1.1.1", 150);
	infra = segment_of(p, "198.18.9.10", 0);
	assert_string_equal(policy_segment_name(p, ws), "workstations");
	assert_string_equal(policy_segment_name(p, fs), "file-servers");
	assert_string_equal(policy_segment_name(p, fin), "finance-server");
	assert_string_equal(policy_segment_name(p, dc), "domain-controllers");
	assert_string_equal(policy_segment_name(p, mgmt), "management");
	assert_int_equal(segment_of(p, "198.18.17.9", 0), ws);
	assert_int_equal(segment_of(p, "203.0.113.1", 0), 0);

	/* Workstation to workstation: dropped silently. */
	v = policy_pair_verdict(p, ws, segment_of(p, "198.18.17.9", 0));
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags & (POLICY_VERDICT_BLOCK |
		POLICY_VERDICT_RESET), POLICY_VERDICT_BLOCK);
	/* Workstation to file server: allowed, but not ADMIN$ (reset). */
	v = policy_pair_verdict(p, ws, fs);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_true(v.flags & POLICY_VERDICT_SMB_RULES);
	facts.share_classes = 1u << watchlist_class_id(wl, "admin_share");
	v = policy_smb_verdict(p, ws, fs, &facts);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.flags, POLICY_VERDICT_BLOCK | POLICY_VERDICT_RESET);
	facts.share_classes = 0;
	assert_int_equal(policy_smb_verdict(p, ws, fs, &facts).action,
		POLICY_ALLOW);
	/* SMB1 nowhere, even between allowed segments. */
	facts.dialect = POLICY_DIALECT_SMB1;
	assert_int_equal(policy_smb_verdict(p, ws, fs, &facts).rule, 1);
	/* The finance server: finance desktops only, SMB 3 only. */
	assert_int_equal(policy_pair_verdict(p, ws, fin).action, POLICY_DENY);
	facts.dialect = POLICY_DIALECT_2_1;
	v = policy_smb_verdict(p, segment_of(p, "198.18.24.5", 0), fin,
		&facts);
	assert_int_equal(v.action, POLICY_DENY);
	facts.dialect = POLICY_DIALECT_3_1_1;
	v = policy_smb_verdict(p, segment_of(p, "198.18.24.5", 0), fin,
		&facts);
	assert_int_equal(v.action, POLICY_ALLOW);
	/* Sealed sessions: refused where admin shares are denied ... */
	memset(&facts, 0, sizeof(facts));
	facts.dialect = POLICY_DIALECT_3_1_1;
	facts.encrypted = true;
	v = policy_unverifiable_verdict(p, ws, fs, &facts);
	assert_int_equal(v.action, POLICY_DENY);
	assert_true(v.flags & POLICY_VERDICT_UNVERIFIABLE);
	assert_true(v.flags & POLICY_VERDICT_BLOCK);
	/* ... but let through to the finance server, as its rule says. */
	v = policy_unverifiable_verdict(p, segment_of(p, "198.18.24.5", 0),
		fin, &facts);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_int_equal(v.flags, POLICY_VERDICT_UNVERIFIABLE);
	memset(&facts, 0, sizeof(facts));
	/* Domain controllers: reachable, not their service control. */
	assert_int_equal(policy_pair_verdict(p, ws, dc).action, POLICY_ALLOW);
	facts.pipe_classes = 1u << watchlist_class_id(wl, "remote_exec_pipe");
	assert_int_equal(policy_smb_verdict(p, ws, dc, &facts).action,
		POLICY_DENY);
	/* Administrators: monitored everywhere. */
	assert_int_equal(policy_pair_verdict(p, mgmt, ws).action,
		POLICY_MONITOR);
	/* Unknown hosts: denied by a named rule, not the default. */
	v = policy_pair_verdict(p, 0, fs);
	assert_int_equal(v.action, POLICY_DENY);
	assert_string_equal(spec.rules[v.rule - 1].name, "unknown-hosts");
	/* Backup hosts are trusted, and still bound by the rules. */
	inet_pton(AF_INET, "198.18.9.10", a);
	assert_true(policy_is_trusted(p, 4, a));
	assert_int_equal(policy_pair_verdict(p, infra, ws).action,
		POLICY_DENY);
	policy_free(p);
	watchlist_free(wl);
}

int
main(void)
{
	char prefix[64];
	char *argv[] = { "test_policy", "--no-huge", "-m", "256", "--no-pci",
		"--no-shconf", "--no-telemetry", "--log-level=lib.eal:error",
		"-l", "0", "--file-prefix", prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_lookup),
		cmocka_unit_test(test_most_specific_prefix),
		cmocka_unit_test(test_vlan_lookup),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_matrix_large),
		cmocka_unit_test(test_smb_rules),
		cmocka_unit_test(test_smb_blocking_pairs),
		cmocka_unit_test(test_monitor_only_mode),
		cmocka_unit_test(test_unverifiable),
		cmocka_unit_test(test_quic_verdict),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_no_prefixes),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_same_generation_twice),
		cmocka_unit_test(test_dialect_of),
		cmocka_unit_test(test_publish_under_rcu),
		cmocka_unit_test(test_example_deployment),
	};
	char runtime_dir[256];
	int failed;

	snprintf(prefix, sizeof(prefix), "test-policy-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return 1;
	failed = cmocka_run_group_tests_name("policy", tests, NULL, NULL);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir);	/* EAL leaves its empty run directory */
	return failed;
}
