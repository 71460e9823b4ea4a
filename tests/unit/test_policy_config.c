/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy loader: config text to spec, defaults, and every error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libconfig.h>

#include "config.h"
#include "match.h"
#include "policy.h"
#include "policy_config.h"
#include "watchlists.h"

static struct policy_spec spec;
static struct watchlist_spec watchlists;
static struct config_errors errors;

/* Parses <text>, loads its watchlists group (if any), then its policy. */
static int
load(const char *text)
{
	config_t lc;
	int ret;

	memset(&errors, 0, sizeof(errors));
	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		fail_msg("bad test config at line %d: %s",
			config_error_line(&lc), config_error_text(&lc));
	}
	if (watchlists_load(config_lookup(&lc, "watchlists"), "test.conf",
			&watchlists, &errors) < 0)
		fail_msg("bad test watchlists: %s", errors.messages[0]);
	ret = policy_config_load(config_lookup(&lc, "policy"), "test.conf",
		&spec, &watchlists, &errors);
	config_destroy(&lc);
	return ret;
}

static void
print_errors(void)
{
	unsigned int i;

	for (i = 0; i < errors.count; i++)
		print_message("  %s\n", errors.messages[i]);
}

/* Asserts that <text> is refused with exactly one error, <expected>. */
static void
assert_single_error(const char *text, const char *expected)
{
	assert_int_equal(load(text), -EINVAL);
	if (errors.count != 1 || strcmp(errors.messages[0], expected) != 0)
		print_errors();
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.messages[0], expected);
}

/* Segments most error tests use: lines 2 to 4. */
#define SEGMENTS \
	"policy: {\n" \
	"  segments = ( { name = \"ws\"; vlans = [ 100 ]; prefixes = [ \"198.18.1.0/24\" ]; },\n" \
	"               { name = \"srv\"; prefixes = [ \"198.18.2.0/24\", \"2001:db8:2::/48\" ]; },\n" \
	"               { name = \"dc\"; prefixes = [ \"198.18.3.10/32\" ]; } );\n"

static int
segment_id(const char *name)
{
	unsigned int i;

	for (i = 0; i < spec.segment_count; i++)
		if (strcmp(spec.segments[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void
test_absent_group_gives_defaults(void **state)
{
	assert_int_equal(load("gateway: { workers = 1; };\n"), 0);
	assert_int_equal(spec.mode, POLICY_MODE_ENFORCE);
	assert_int_equal(spec.default_action, POLICY_ALLOW);
	assert_int_equal(spec.deny_action, POLICY_DENY_RESET);
	/* Documented default: a session that cannot be read is refused. */
	assert_int_equal(spec.unverifiable_action, POLICY_UNVERIFIABLE_DENY);
	assert_int_equal(spec.segment_count, 1);
	assert_string_equal(spec.segments[0].name, "unassigned");
	assert_int_equal(spec.rule_count, 0);
	assert_int_equal(load("policy: { };\n"), 0);
	assert_int_equal(spec.segment_count, 1);
}

static void
test_full_policy(void **state)
{
	const struct policy_rule_spec *r;
	struct watchlist *wl;
	int ws, srv, dc;

	assert_int_equal(load(
		"watchlists: { shares = ( { class = \"finance_share\"; patterns = [ \"^FINANCE$\" ]; } ); };\n"
		"policy: {\n"
		"  mode = \"monitor-only\";\n"
		"  default_action = \"deny\";\n"
		"  deny_action = \"drop\";\n"
		"  trusted = [ \"198.18.9.0/24\", \"2001:db8:9::/48\", \"198.18.10.1\" ];\n"
		"  rules = (\n"
		"    { name = \"no-smb1\"; from = \"any\"; to = \"any\"; action = \"deny\"; dialect = \"smb1\"; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"deny\"; deny_action = \"reset\";\n"
		"      share_class = [ \"admin_share\", \"finance_share\" ]; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"monitor\"; pipe_class = \"remote_exec_pipe\";\n"
		"      nonstandard_port = true; dialect = [ \"smb2\", \"3.0\" ]; },\n"
		"    { from = \"ws\"; to = \"dc\"; action = \"deny\"; dialect_below = \"3.0\"; file_class = \"executable\"; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"allow\"; },\n"
		"    { from = \"unassigned\"; to = \"any\"; action = \"deny\"; }\n"
		"  );\n"
		"  segments = ( { name = \"ws\"; vlans = [ 100, 101 ]; prefixes = [ \"198.18.1.0/24\" ]; },\n"
		"               { name = \"srv\"; prefixes = [ \"198.18.2.0/24\", \"2001:db8:2::/48\" ]; },\n"
		"               { name = \"dc\"; prefixes = [ \"198.18.3.10/32\" ]; } );\n"
		"};\n"), 0);
	print_errors();
	assert_int_equal(errors.count, 0);
	assert_int_equal(spec.mode, POLICY_MODE_MONITOR_ONLY);
	assert_int_equal(spec.default_action, POLICY_DENY);
	assert_int_equal(spec.deny_action, POLICY_DENY_DROP);

	/* Segments in file order after "unassigned", rules after them. */
	assert_int_equal(spec.segment_count, 4);
	ws = segment_id("ws");
	srv = segment_id("srv");
	dc = segment_id("dc");
	assert_int_equal(ws, 1);
	assert_int_equal(srv, 2);
	assert_int_equal(dc, 3);
	assert_int_equal(spec.segments[ws].line, 17);
	assert_int_equal(spec.vlan_segment[100], ws);
	assert_int_equal(spec.vlan_segment[101], ws);
	assert_int_equal(spec.vlan_segment[102], 0);
	assert_int_equal(spec.prefix_count, 4);
	assert_int_equal(spec.prefixes[1].segment, srv);
	assert_int_equal(spec.prefixes[2].ip_version, 6);
	assert_int_equal(spec.prefixes[2].depth, 48);
	assert_int_equal(spec.prefixes[3].depth, 32);
	assert_int_equal(spec.prefixes[3].addr[3], 10);

	assert_int_equal(spec.trusted_count, 3);
	assert_int_equal(spec.trusted[2].depth, 32);
	assert_int_equal(spec.trusted[1].ip_version, 6);

	/* Class ids are watchlist_compile()'s. */
	wl = watchlist_compile(&watchlists, NULL, 0);
	assert_non_null(wl);
	assert_int_equal(spec.rule_count, 6);
	r = &spec.rules[0];
	assert_string_equal(r->name, "no-smb1");
	assert_int_equal(r->from, POLICY_SEGMENT_ANY);
	assert_int_equal(r->to, POLICY_SEGMENT_ANY);
	assert_int_equal(r->dialects, 1u << POLICY_DIALECT_SMB1);
	assert_int_equal(r->deny_action, POLICY_DENY_INHERIT);
	assert_int_equal(r->nonstandard_port, -1);
	assert_int_equal(r->line, 8);
	r = &spec.rules[1];
	assert_int_equal(r->from, ws);
	assert_int_equal(r->to, srv);
	assert_int_equal(r->deny_action, POLICY_DENY_RESET);
	assert_int_equal(r->share_classes,
		1u << watchlist_class_id(wl, "admin_share") |
		1u << watchlist_class_id(wl, "finance_share"));
	r = &spec.rules[2];
	assert_int_equal(r->action, POLICY_MONITOR);
	assert_int_equal(r->pipe_classes,
		1u << watchlist_class_id(wl, "remote_exec_pipe"));
	assert_int_equal(r->nonstandard_port, 1);
	assert_int_equal(r->dialects, 1u << POLICY_DIALECT_2_0_2 |
		1u << POLICY_DIALECT_2_1 | 1u << POLICY_DIALECT_3_0);
	r = &spec.rules[3];
	assert_int_equal(r->to, dc);
	assert_int_equal(r->dialects, 1u << POLICY_DIALECT_SMB1 |
		1u << POLICY_DIALECT_2_0_2 | 1u << POLICY_DIALECT_2_1);
	assert_int_equal(r->file_classes,
		1u << watchlist_class_id(wl, "executable"));
	r = &spec.rules[4];
	assert_int_equal(r->action, POLICY_ALLOW);
	assert_int_equal(r->dialects, 0);
	assert_int_equal(r->share_classes | r->pipe_classes | r->file_classes,
		0);
	assert_int_equal(spec.rules[5].from, POLICY_SEGMENT_UNASSIGNED);
	watchlist_free(wl);
}

static void
test_prefix_parse(void **state)
{
	struct policy_prefix p;
	char text[64];

	assert_int_equal(policy_config_parse_prefix("198.18.1.0/24", &p), 0);
	assert_int_equal(p.ip_version, 4);
	assert_int_equal(p.depth, 24);
	assert_int_equal(policy_config_parse_prefix("0.0.0.0/0", &p), 0);
	assert_int_equal(policy_config_parse_prefix("2001:db8::", &p), 0);
	assert_int_equal(p.depth, 128);
	assert_int_equal(policy_config_parse_prefix("198.18.1.1/24", &p), -EDOM);
	assert_int_equal(policy_config_parse_prefix("198.18.1.0/33", &p), -EINVAL);
	assert_int_equal(policy_config_parse_prefix("198.18.1.0/", &p), -EINVAL);
	assert_int_equal(policy_config_parse_prefix("198.18.1.0/+8", &p), -EINVAL);
	assert_int_equal(policy_config_parse_prefix("198.18.1/24", &p), -EINVAL);
	assert_int_equal(policy_config_parse_prefix("/24", &p), -EINVAL);
	assert_int_equal(policy_config_parse_prefix("2001:db8::/129", &p), -EINVAL);
	assert_int_equal(policy_config_parse_prefix("host.example", &p), -EINVAL);
	assert_int_equal(policy_config_parse_prefix("2001:db8:1::/32", &p), -EDOM);
	assert_int_equal(policy_config_parse_prefix("2001:db8:1::/48", &p), 0);
	policy_config_format_prefix(&p, text, sizeof(text));
	assert_string_equal(text, "2001:db8:1::/48");
}

static void
test_policy_group_errors(void **state)
{
	assert_single_error("policy = 3;\n",
		"test.conf:1: policy must be a group { ... }, not an integer");
	assert_single_error("policy: {\n  modes = \"enforce\";\n};\n",
		"test.conf:2: unknown key policy.modes (expected mode, default_action, deny_action, unverifiable_action, trusted, segments, rules)");
	assert_single_error("policy: {\n  mode = \"block\";\n};\n",
		"test.conf:2: policy.mode = \"block\" is not one of: enforce, monitor-only");
	assert_single_error("policy: {\n  mode = 1;\n};\n",
		"test.conf:2: policy.mode must be a string, not an integer");
	assert_single_error("policy: {\n  default_action = \"permit\";\n};\n",
		"test.conf:2: policy.default_action = \"permit\" is not one of: allow, deny, monitor");
	assert_single_error("policy: {\n  deny_action = \"reject\";\n};\n",
		"test.conf:2: policy.deny_action = \"reject\" is not one of: reset, drop");
}

static void
test_trusted_errors(void **state)
{
	char text[8192];
	int i, n;

	assert_single_error("policy: {\n  trusted = \"198.18.9.0/24\";\n};\n",
		"test.conf:2: policy.trusted must be an array of prefixes [ \"198.18.9.0/24\", ... ], not a string");
	assert_single_error("policy: {\n  trusted = [ \"198.18.9.0/24\",\n    \"198.18.300.0/24\" ];\n};\n",
		"test.conf:3: policy.trusted[1] = \"198.18.300.0/24\" is not an IPv4 or IPv6 prefix (\"198.18.1.0/24\", \"2001:db8::/32\", or an address)");
	assert_single_error("policy: {\n  trusted = [ \"198.18.9.1/24\" ];\n};\n",
		"test.conf:2: policy.trusted[0] = \"198.18.9.1/24\" has bits set beyond /24 (the network is \"198.18.9.0/24\"; a single host is /32)");
	assert_single_error("policy: {\n  trusted = [ 7 ];\n};\n",
		"test.conf:2: policy.trusted[0] must be a string, not an integer");

	n = snprintf(text, sizeof(text), "policy: {\n  trusted = [");
	for (i = 0; i <= POLICY_TRUSTED_MAX; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s\"10.0.%d.0/24\"",
			i ? ", " : " ", i);
	snprintf(text + n, sizeof(text) - n, " ];\n};\n");
	assert_single_error(text,
		"test.conf:2: policy.trusted: more than 64 prefixes");
}

static void
test_segment_errors(void **state)
{
	assert_single_error("policy: {\n  segments = { name = \"ws\"; };\n};\n",
		"test.conf:2: policy.segments must be a list ( { name = ...; prefixes = [ ... ]; }, ... ), not a group");
	assert_single_error("policy: {\n  segments = ( \"ws\" );\n};\n",
		"test.conf:2: policy.segments[0] must be a group { name = ...; prefixes = [ ... ]; }, not a string");
	assert_single_error("policy: {\n  segments = ( { vlans = [ 1 ]; } );\n};\n",
		"test.conf:2: policy.segments[0] has no name");
	assert_single_error("policy: {\n  segments = ( { name = 5; vlans = [ 1 ]; } );\n};\n",
		"test.conf:2: policy.segments[0].name must be a string, not an integer");
	assert_single_error("policy: {\n  segments = ( { name = \"work stations\"; vlans = [ 1 ]; } );\n};\n",
		"test.conf:2: policy.segments[0].name = \"work stations\" must be 1 to 31 characters of [A-Za-z0-9_.-]");
	assert_single_error("policy: {\n  segments = ( { name = \"any\"; vlans = [ 1 ]; } );\n};\n",
		"test.conf:2: segment name \"any\" is reserved (\"any\" is every segment in rules, \"unassigned\" the addresses no segment claims)");
	assert_single_error("policy: {\n  segments = ( { name = \"unassigned\"; vlans = [ 1 ]; } );\n};\n",
		"test.conf:2: segment name \"unassigned\" is reserved (\"any\" is every segment in rules, \"unassigned\" the addresses no segment claims)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; vlans = [ 1 ]; },\n"
		"    { name = \"ws\"; vlans = [ 2 ]; } );\n};\n",
		"test.conf:3: segment ws is defined twice (first at line 2)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; vlans = [ 1 ];\n    vlan = 2; } );\n};\n",
		"test.conf:3: unknown key policy.segments[0].vlan (expected name, vlans, prefixes)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; } );\n};\n",
		"test.conf:2: segment ws has neither vlans nor prefixes, so no address belongs to it");
}

static void
test_vlan_errors(void **state)
{
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; vlans = 100; } );\n};\n",
		"test.conf:2: segment ws vlans must be an array of VLAN IDs [ 100, ... ], not an integer");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; vlans = [ \"100\" ]; } );\n};\n",
		"test.conf:2: segment ws vlans[0] must be an integer, not a string");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; vlans = ( 100, \"x\" ); } );\n};\n",
		"test.conf:2: segment ws vlans[1] must be an integer, not a string");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; vlans = [ 4095 ]; } );\n};\n",
		"test.conf:2: segment ws vlans[0] = 4095 is not a VLAN ID (1 to 4094)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; vlans = [ 0 ]; } );\n};\n",
		"test.conf:2: segment ws vlans[0] = 0 is not a VLAN ID (1 to 4094)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; vlans = [ 100 ]; },\n"
		"    { name = \"srv\"; vlans = [ 200, 100 ]; } );\n};\n",
		"test.conf:3: segment srv vlans: VLAN 100 already belongs to segment ws (line 2)");
}

static void
test_prefix_errors(void **state)
{
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; prefixes = \"198.18.1.0/24\"; } );\n};\n",
		"test.conf:2: segment ws prefixes must be an array of prefixes [ \"198.18.1.0/24\", ... ], not a string");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; prefixes = [ \"198.18.1.0/24\",\n"
		"    \"198.18.1.0-255\" ]; } );\n};\n",
		"test.conf:3: segment ws prefixes[1] = \"198.18.1.0-255\" is not an IPv4 or IPv6 prefix (\"198.18.1.0/24\", \"2001:db8::/32\", or an address)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; prefixes = [ \"198.18.1.5/24\" ]; } );\n};\n",
		"test.conf:2: segment ws prefixes[0] = \"198.18.1.5/24\" has bits set beyond /24 (the network is \"198.18.1.0/24\"; a single host is /32)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; prefixes = [ \"2001:db8:1::1/48\" ]; } );\n};\n",
		"test.conf:2: segment ws prefixes[0] = \"2001:db8:1::1/48\" has bits set beyond /48 (the network is \"2001:db8:1::/48\"; a single host is /128)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; prefixes = [ \"198.18.1.0/24\" ]; },\n"
		"    { name = \"srv\";\n      prefixes = [ \"198.18.1.0/24\" ]; } );\n};\n",
		"test.conf:4: prefix 198.18.1.0/24 of segment srv already belongs to segment ws (line 2)");
	assert_single_error("policy: {\n  segments = ( { name = \"ws\"; prefixes = [ \"2001:db8::/32\",\n"
		"    \"2001:0db8::/32\" ]; } );\n};\n",
		"test.conf:3: segment ws lists prefix 2001:db8::/32 twice");
	/* Nested prefixes are fine: the most specific wins. */
	assert_int_equal(load("policy: {\n  segments = ( { name = \"ws\"; prefixes = [ \"198.18.1.0/24\" ]; },\n"
		"    { name = \"host\"; prefixes = [ \"198.18.1.7/32\", \"198.18.0.0/16\" ]; } );\n};\n"), 0);
}

static void
test_rule_errors(void **state)
{
	assert_single_error(SEGMENTS "  rules = { from = \"ws\"; };\n};\n",
		"test.conf:5: policy.rules must be a list ( { from = ...; to = ...; action = ...; }, ... ), not a group");
	assert_single_error(SEGMENTS "  rules = ( [ \"ws\" ] );\n};\n",
		"test.conf:5: policy.rules[0] must be a group { from = ...; to = ...; action = ...; }, not an array");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; action = \"deny\"; } );\n};\n",
		"test.conf:5: policy.rules[0] needs from, to and action");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"wks\"; action = \"deny\"; } );\n};\n",
		"test.conf:5: policy.rules[0].to = \"wks\" is not a segment (nor \"any\" or \"unassigned\")");
	assert_single_error(SEGMENTS "  rules = ( { from = 1; to = \"ws\"; action = \"deny\"; } );\n};\n",
		"test.conf:5: policy.rules[0].from must be a segment name, \"any\" or \"unassigned\", not an integer");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"block\"; } );\n};\n",
		"test.conf:5: policy.rules[0].action = \"block\" is not one of: allow, deny, monitor");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\";\n"
		"    share = \"admin_share\"; } );\n};\n",
		"test.conf:6: unknown key policy.rules[0].share (expected from, to, action, deny_action, unverifiable_action, name, dialect, dialect_below, share_class, pipe_class, file_class, nonstandard_port, encrypted, rpc_interface, rpc_operation)");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"allow\"; deny_action = \"drop\"; } );\n};\n",
		"test.conf:5: policy.rules[0].deny_action applies only to action = \"deny\"");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; deny_action = \"rst\"; } );\n};\n",
		"test.conf:5: policy.rules[0].deny_action = \"rst\" is not one of: reset, drop");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; name = \"a b\"; } );\n};\n",
		"test.conf:5: policy.rules[0].name must be a string of 1 to 31 characters of [A-Za-z0-9_.-]");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; name = \"r\"; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"deny\"; name = \"r\"; } );\n};\n",
		"test.conf:6: rule name \"r\" is used twice (first at line 5)");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; nonstandard_port = 1; } );\n};\n",
		"test.conf:5: policy.rules[0].nonstandard_port must be a boolean, not an integer");
}

static void
test_condition_errors(void **state)
{
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; dialect = \"smb2.1\"; } );\n};\n",
		"test.conf:5: policy.rules[0].dialect = \"smb2.1\" is not one of: smb1, smb2, smb3, 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; dialect = [ ]; } );\n};\n",
		"test.conf:5: policy.rules[0].dialect is empty");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; dialect = 1; } );\n};\n",
		"test.conf:5: policy.rules[0].dialect must be a dialect or an array of them, not an integer");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; dialect_below = \"smb3\"; } );\n};\n",
		"test.conf:5: policy.rules[0].dialect_below = \"smb3\" is not one of: 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; share_class = \"admin_shares\"; } );\n};\n",
		"test.conf:5: policy.rules[0].share_class: no watchlist class \"admin_shares\" (classes come from the watchlists group and its defaults)");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; share_class = \"remote_exec_pipe\"; } );\n};\n",
		"test.conf:5: policy.rules[0].share_class: watchlist class \"remote_exec_pipe\" has no share patterns, so it never tags a share name");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; pipe_class = [ \"recon_pipe\",\n"
		"    \"executable\" ]; } );\n};\n",
		"test.conf:6: policy.rules[0].pipe_class: watchlist class \"executable\" has no pipe patterns, so it never tags a pipe name");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; file_class = [ ]; } );\n};\n",
		"test.conf:5: policy.rules[0].file_class is empty");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; file_class = [ 3 ]; } );\n};\n",
		"test.conf:5: policy.rules[0].file_class[0] must be a class name, not an integer");
}

static void
test_shadowed_rules(void **state)
{
	assert_single_error(SEGMENTS "  rules = (\n"
		"    { from = \"ws\"; to = \"any\"; action = \"allow\"; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"deny\"; share_class = \"admin_share\"; } );\n};\n",
		"test.conf:7: rule 2 (ws to srv) can never match: rule 1 at line 6, without SMB conditions, decides every pair it covers first (the first matching rule wins)");
	assert_single_error(SEGMENTS "  rules = (\n"
		"    { from = \"any\"; to = \"any\"; action = \"deny\"; },\n"
		"    { from = \"any\"; to = \"dc\"; action = \"allow\"; } );\n};\n",
		"test.conf:7: rule 2 (any to dc) can never match: rule 1 at line 6, without SMB conditions, decides every pair it covers first (the first matching rule wins)");
	/* A conditional rule shadows nothing; "ws to any" does not cover "any to srv". */
	assert_int_equal(load(SEGMENTS "  rules = (\n"
		"    { from = \"any\"; to = \"any\"; action = \"deny\"; dialect = \"smb1\"; },\n"
		"    { from = \"ws\"; to = \"any\"; action = \"allow\"; },\n"
		"    { from = \"any\"; to = \"srv\"; action = \"deny\"; } );\n};\n"), 0);
}

/* encrypted and unverifiable_action: values, where they may stand, errors. */
static void
test_unverifiable_keys(void **state)
{
	assert_int_equal(load(SEGMENTS "  unverifiable_action = \"monitor\";\n"
		"  rules = (\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"deny\"; encrypted = true; dialect = \"smb2\"; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"monitor\"; encrypted = false; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"deny\"; share_class = \"admin_share\"; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"allow\"; unverifiable_action = \"allow\"; },\n"
		"    { from = \"ws\"; to = \"dc\"; action = \"allow\"; unverifiable_action = \"deny\"; },\n"
		"    { from = \"any\"; to = \"any\"; action = \"allow\"; } );\n};\n"), 0);
	print_errors();
	assert_int_equal(spec.unverifiable_action, POLICY_UNVERIFIABLE_MONITOR);
	assert_int_equal(spec.rule_count, 6);
	assert_int_equal(spec.rules[0].encrypted, POLICY_ENCRYPTED_YES);
	assert_int_equal(spec.rules[1].encrypted, POLICY_ENCRYPTED_NO);
	assert_int_equal(spec.rules[2].encrypted, POLICY_ENCRYPTED_ANY);
	assert_int_equal(spec.rules[2].unverifiable_action,
		POLICY_UNVERIFIABLE_DEFAULT);
	assert_int_equal(spec.rules[3].unverifiable_action,
		POLICY_UNVERIFIABLE_ALLOW);
	assert_int_equal(spec.rules[4].unverifiable_action,
		POLICY_UNVERIFIABLE_DENY);
	assert_int_equal(spec.rules[5].unverifiable_action,
		POLICY_UNVERIFIABLE_DEFAULT);
	/* An encrypted condition makes a rule conditional: it shadows nothing. */
	assert_int_equal(load(SEGMENTS "  rules = (\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"deny\"; encrypted = true; },\n"
		"    { from = \"ws\"; to = \"srv\"; action = \"allow\"; } );\n};\n"), 0);

	assert_single_error(SEGMENTS "  unverifiable_action = \"reset\";\n};\n",
		"test.conf:5: policy.unverifiable_action = \"reset\" is not one of: deny, allow, monitor");
	assert_single_error(SEGMENTS "  unverifiable_action = true;\n};\n",
		"test.conf:5: policy.unverifiable_action must be a string, not a boolean");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"deny\"; encrypted = \"yes\"; } );\n};\n",
		"test.conf:5: policy.rules[0].encrypted must be a boolean, not a string");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"ws\"; action = \"allow\"; unverifiable_action = \"drop\"; } );\n};\n",
		"test.conf:5: policy.rules[0].unverifiable_action = \"drop\" is not one of: deny, allow, monitor");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"srv\"; action = \"deny\"; share_class = \"admin_share\";\n"
		"    unverifiable_action = \"allow\"; } );\n};\n",
		"test.conf:6: policy.rules[0].unverifiable_action applies only to a rule without SMB conditions (the rule that decides its pairs)");
	assert_single_error(SEGMENTS "  rules = ( { from = \"ws\"; to = \"srv\"; action = \"deny\"; encrypted = true;\n"
		"    unverifiable_action = \"deny\"; } );\n};\n",
		"test.conf:6: policy.rules[0].unverifiable_action applies only to a rule without SMB conditions (the rule that decides its pairs)");
}

/* All errors of a file in one run; a bad segment is reported once. */
static void
test_errors_collected(void **state)
{
	assert_int_equal(load("policy: {\n"
		"  mode = \"on\";\n"
		"  segments = ( { name = \"ws\"; vlans = [ 5000 ]; },\n"
		"               { name = \"any\"; vlans = [ 7 ]; } );\n"
		"  rules = ( { from = \"ws\"; to = \"any\"; action = \"deny\"; },\n"
		"            { from = \"ws\"; to = \"nowhere\"; action = \"deny\"; } );\n"
		"};\n"), -EINVAL);
	if (errors.count != 4)
		print_errors();
	assert_int_equal(errors.count, 4);
	assert_string_equal(errors.messages[0],
		"test.conf:2: policy.mode = \"on\" is not one of: enforce, monitor-only");
	assert_string_equal(errors.messages[1],
		"test.conf:3: segment ws vlans[0] = 5000 is not a VLAN ID (1 to 4094)");
	assert_string_equal(errors.messages[2],
		"test.conf:4: segment name \"any\" is reserved (\"any\" is every segment in rules, \"unassigned\" the addresses no segment claims)");
	assert_string_equal(errors.messages[3],
		"test.conf:6: policy.rules[1].to = \"nowhere\" is not a segment (nor \"any\" or \"unassigned\")");
}

static void
test_segment_limit(void **state)
{
	size_t size = (POLICY_SEGMENTS_MAX + 2) * 64 + 64;
	char *text = malloc(size);
	size_t n;
	int i;

	assert_non_null(text);
	n = (size_t)snprintf(text, size, "policy: {\n  segments = (\n");
	for (i = 0; i <= POLICY_SEGMENTS_MAX; i++)
		n += (size_t)snprintf(text + n, size - n,
			"%s{ name = \"s%d\"; vlans = [ %d ]; }\n", i ? "," : "",
			i, i % 4094 + 1);
	snprintf(text + n, size - n, "  );\n};\n");
	/* One too many: the VLANs stay unique up to 4094. */
	assert_single_error(text,
		"test.conf:2051: segment s2048: more than 2048 segments");
	free(text);
}

/* The sample deployment in conf/ loads. */
static void
test_example_config(void **state)
{
	const char *path = TESTS_DIR "/../conf/policy-example.conf";
	config_t lc;
	int ret;

	memset(&errors, 0, sizeof(errors));
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE)
		fail_msg("%s:%d: %s", path, config_error_line(&lc),
			config_error_text(&lc));
	assert_int_equal(watchlists_load(config_lookup(&lc, "watchlists"),
		path, &watchlists, &errors), 0);
	ret = policy_config_load(config_lookup(&lc, "policy"), path, &spec,
		&watchlists, &errors);
	config_destroy(&lc);
	print_errors();
	assert_int_equal(ret, 0);
	assert_true(spec.segment_count > 4);
	assert_true(spec.rule_count > 4);
	assert_true(segment_id("workstations") > 0);
	assert_true(segment_id("domain-controllers") > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent_group_gives_defaults),
		cmocka_unit_test(test_full_policy),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_policy_group_errors),
		cmocka_unit_test(test_trusted_errors),
		cmocka_unit_test(test_segment_errors),
		cmocka_unit_test(test_vlan_errors),
		cmocka_unit_test(test_prefix_errors),
		cmocka_unit_test(test_rule_errors),
		cmocka_unit_test(test_condition_errors),
		cmocka_unit_test(test_shadowed_rules),
		cmocka_unit_test(test_unverifiable_keys),
		cmocka_unit_test(test_errors_collected),
		cmocka_unit_test(test_segment_limit),
		cmocka_unit_test(test_example_config),
	};

	return cmocka_run_group_tests_name("policy_config", tests, NULL,
		NULL);
}
