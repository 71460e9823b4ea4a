/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC policy (CM0100): rpc_interface / rpc_operation conditions of
 * segment-pair rules, from configuration text to verdicts: names and
 * UUID / operation numbers, binds against whole-interface rules, requests
 * against operation rules, DCE/RPC over TCP judged by rpc rules only,
 * monitor-only mode, and every configuration error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include <libconfig.h>

#include "config.h"
#include "dcerpc.h"
#include "match.h"
#include "policy.h"
#include "policy_config.h"
#include "watchlists.h"

static struct policy_spec spec;
static struct watchlist_spec watchlists;
static struct config_errors errors;

static int
load(const char *text)
{
	config_t lc;
	int ret;

	memset(&errors, 0, sizeof(errors));
	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE)
		fail_msg("bad test config at line %d: %s",
			config_error_line(&lc), config_error_text(&lc));
	if (watchlists_load(config_lookup(&lc, "watchlists"), "test.conf",
			&watchlists, &errors) < 0)
		fail_msg("bad test watchlists: %s", errors.messages[0]);
	ret = policy_config_load(config_lookup(&lc, "policy"), "test.conf",
		&spec, &watchlists, &errors);
	config_destroy(&lc);
	return ret;
}

static void
assert_single_error(const char *text, const char *expected)
{
	unsigned int i;

	assert_int_equal(load(text), -EINVAL);
	if (errors.count != 1 || strcmp(errors.messages[0], expected) != 0)
		for (i = 0; i < errors.count; i++)
			print_message("  %s\n", errors.messages[i]);
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.messages[0], expected);
}

#define SEGMENTS \
	"policy: {\n" \
	"  segments = ( { name = \"workstations\"; prefixes = [ \"198.18.1.0/24\" ]; },\n" \
	"               { name = \"servers\"; prefixes = [ \"198.18.2.0/24\" ]; },\n" \
	"               { name = \"domain_controllers\"; prefixes = [ \"198.18.3.0/24\" ]; } );\n"

/* The example of docs/policy.md. */
static const char example[] = SEGMENTS
	"  rules = (\n"
	"    { name = \"no-remote-admin\"; from = \"workstations\"; to = \"any\"; action = \"deny\";\n"
	"      rpc_interface = [ \"drsuapi\", \"svcctl\", \"atsvc\", \"ITaskSchedulerService\" ]; },\n"
	"    { name = \"no-dcsync-ops\"; from = \"servers\"; to = \"domain_controllers\"; action = \"deny\";\n"
	"      rpc_interface = \"e3514235-4b06-11d1-ab04-00c04fc2dcd2\";\n"
	"      rpc_operation = ( \"DRSGetNCChanges\", 5 ); },\n"
	"    { name = \"watch-winreg\"; from = \"any\"; to = \"any\"; action = \"monitor\";\n"
	"      rpc_interface = \"winreg\"; rpc_operation = \"BaseRegSetValue\"; },\n"
	"    { from = \"any\"; to = \"any\"; action = \"allow\"; }\n"
	"  );\n"
	"};\n";

static struct policy *
build(void)
{
	static unsigned int generation = 1;
	char error[256];
	struct policy *p;

	p = policy_build(&spec, generation++, SOCKET_ID_ANY, error,
		sizeof(error));
	if (p == NULL)
		fail_msg("policy_build: %s", error);
	return p;
}

static int
segment(const char *name)
{
	unsigned int i;

	for (i = 0; i < spec.segment_count; i++)
		if (strcmp(spec.segments[i].name, name) == 0)
			return (int)i;
	fail_msg("no segment %s", name);
	return -1;
}

static void
call(struct policy_smb_facts *f, const char *iface, const char *op)
{
	memset(f, 0, sizeof(*f));
	f->rpc = true;
	f->rpc_opnum = POLICY_RPC_ANY_OP;
	if (dcerpc_name_lookup(iface, op, f->rpc_uuid,
			op != NULL ? &f->rpc_opnum : NULL) != 0)
		fail_msg("no %s::%s", iface, op != NULL ? op : "");
}

static void
test_load(void **state)
{
	const struct policy_rule_spec *r;
	uint8_t uuid[16];

	(void)state;
	assert_int_equal(load(example), 0);
	assert_int_equal(spec.rule_count, 4);
	r = &spec.rules[0];
	assert_int_equal(r->rpc_count, 4);
	assert_int_equal(dcerpc_name_lookup("svcctl", NULL, uuid, NULL), 0);
	assert_memory_equal(r->rpc[1].uuid, uuid, 16);
	assert_int_equal(r->rpc[1].opnum, POLICY_RPC_ANY_OP);
	r = &spec.rules[1];
	assert_int_equal(r->rpc_count, 2);
	assert_int_equal(r->rpc[0].opnum, 3);
	assert_int_equal(r->rpc[1].opnum, 5);
	r = &spec.rules[2];
	assert_int_equal(r->rpc_count, 1);
	assert_int_equal(r->rpc[0].opnum, 22);
}

static void
test_verdicts(void **state)
{
	struct policy_smb_facts f;
	struct policy_verdict v;
	struct policy *p;
	int ws, srv, dc;

	(void)state;
	assert_int_equal(load(example), 0);
	p = build();
	ws = segment("workstations");
	srv = segment("servers");
	dc = segment("domain_controllers");
	v = policy_pair_verdict(p, ws, dc);
	assert_int_equal(v.rule, 4);
	assert_true(v.flags & POLICY_VERDICT_SMB_RULES);
	assert_true(v.flags & POLICY_VERDICT_SMB_BLOCKS);

	/* Workstation: the bind of drsuapi is refused already. */
	call(&f, "drsuapi", NULL);
	v = policy_smb_verdict(p, ws, dc, &f);
	assert_int_equal(v.rule, 1);
	assert_true(v.flags & POLICY_VERDICT_BLOCK);
	assert_true(v.flags & POLICY_VERDICT_RESET);
	call(&f, "svcctl", "CreateServiceW");
	assert_int_equal(policy_smb_verdict(p, ws, srv, &f).rule, 1);
	call(&f, "ITaskSchedulerService", "SchRpcRegisterTask");
	assert_int_equal(policy_smb_verdict(p, ws, srv, &f).rule, 1);
	call(&f, "samr", "SamrConnect5");
	assert_int_equal(policy_smb_verdict(p, ws, dc, &f).rule, 4);

	/* Server to DC: DRSBind passes, DRSGetNCChanges and opnum 5 not. */
	call(&f, "drsuapi", NULL);
	assert_int_equal(policy_smb_verdict(p, srv, dc, &f).rule, 4);
	call(&f, "drsuapi", "DRSBind");
	assert_int_equal(policy_smb_verdict(p, srv, dc, &f).rule, 4);
	call(&f, "drsuapi", "DRSGetNCChanges");
	v = policy_smb_verdict(p, srv, dc, &f);
	assert_int_equal(v.rule, 2);
	assert_true(v.flags & POLICY_VERDICT_BLOCK);
	call(&f, "drsuapi", "DRSReplicaAdd");
	assert_int_equal(policy_smb_verdict(p, srv, dc, &f).rule, 2);
	/* DC to DC: replication allowed. */
	call(&f, "drsuapi", "DRSGetNCChanges");
	assert_int_equal(policy_smb_verdict(p, dc, dc, &f).rule, 4);

	/* Monitor rule on one operation. */
	call(&f, "winreg", "BaseRegSetValue");
	v = policy_smb_verdict(p, srv, srv, &f);
	assert_int_equal(v.rule, 3);
	assert_int_equal(v.action, POLICY_MONITOR);
	assert_false(v.flags & POLICY_VERDICT_BLOCK);
	call(&f, "winreg", "BaseRegQueryValue");
	assert_int_equal(policy_smb_verdict(p, srv, srv, &f).rule, 4);

	/* An SMB message that is no DCE/RPC never meets an rpc rule. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(policy_smb_verdict(p, ws, dc, &f).rule, 4);

	/* Unverifiable: a sealed SMB session could hide the calls. */
	memset(&f, 0, sizeof(f));
	f.encrypted = true;
	v = policy_unverifiable_verdict(p, ws, dc, &f);
	assert_true(v.flags & POLICY_VERDICT_UNVERIFIABLE);
	assert_int_equal(v.rule, 1);
	policy_free(p);
}

/* Over TCP only the rules naming calls are judged. */
static void
test_rpc_only(void **state)
{
	struct policy_smb_facts f;
	struct policy *p;
	int ws, srv;

	(void)state;
	assert_int_equal(load(SEGMENTS
		"  rules = (\n"
		"    { from = \"workstations\"; to = \"servers\"; action = \"deny\"; nonstandard_port = true; },\n"
		"    { from = \"workstations\"; to = \"servers\"; action = \"deny\"; rpc_interface = \"atsvc\"; },\n"
		"    { from = \"any\"; to = \"any\"; action = \"allow\"; }\n"
		"  );\n};\n"), 0);
	p = build();
	ws = segment("workstations");
	srv = segment("servers");
	call(&f, "epmapper", "ept_map");
	f.nonstandard_port = true;
	f.rpc_only = true;
	assert_int_equal(policy_smb_verdict(p, ws, srv, &f).rule, 3);
	call(&f, "atsvc", "NetrJobAdd");
	f.rpc_only = true;
	assert_int_equal(policy_smb_verdict(p, ws, srv, &f).rule, 2);
	policy_free(p);
}

static void
test_monitor_only(void **state)
{
	struct policy_smb_facts f;
	struct policy_verdict v;
	struct policy *p;

	(void)state;
	assert_int_equal(load(SEGMENTS
		"  mode = \"monitor-only\";\n"
		"  rules = ( { from = \"workstations\"; to = \"any\"; action = \"deny\"; rpc_interface = \"drsuapi\"; } );\n"
		"};\n"), 0);
	p = build();
	call(&f, "drsuapi", "DRSGetNCChanges");
	v = policy_smb_verdict(p, segment("workstations"),
		segment("domain_controllers"), &f);
	assert_int_equal(v.rule, 1);
	assert_int_equal(v.action, POLICY_DENY);
	/* Would deny: reported and counted, not blocked. */
	assert_false(v.flags & POLICY_VERDICT_BLOCK);
	policy_free(p);
}

static void
test_errors(void **state)
{
	(void)state;
	assert_single_error(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\"; rpc_operation = \"DRSBind\"; } );\n};\n",
		"test.conf:5: policy.rules[0].rpc_operation needs rpc_interface");
	assert_single_error(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\"; rpc_interface = \"drsuapii\"; } );\n};\n",
		"test.conf:5: policy.rules[0].rpc_interface: \"drsuapii\" is neither an interface name (docs/policy.md) nor a UUID");
	assert_single_error(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\"; rpc_interface = [ ]; } );\n};\n",
		"test.conf:5: policy.rules[0].rpc_interface must name 1 to 8 interfaces");
	assert_single_error(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\"; rpc_interface = 3; } );\n};\n",
		"test.conf:5: rpc_interface must be a string or an array of strings, not an integer");
	assert_single_error(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\"; rpc_interface = \"svcctl\";\n"
		"    rpc_operation = \"DRSGetNCChanges\"; } );\n};\n",
		"test.conf:6: policy.rules[0].rpc_operation: \"DRSGetNCChanges\" is not an operation of the rule's interfaces");
	assert_single_error(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\"; rpc_interface = \"svcctl\"; rpc_operation = 70000; } );\n};\n",
		"test.conf:5: policy.rules[0].rpc_operation[0] = 70000 is not an operation number");
	/* A UUID the parser does not name takes numbers only. */
	assert_single_error(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\";\n"
		"    rpc_interface = \"01020304-0506-0708-090a-0b0c0d0e0f10\"; rpc_operation = \"Open\"; } );\n};\n",
		"test.conf:6: policy.rules[0].rpc_operation: \"Open\" is not an operation of the rule's interfaces");
	assert_int_equal(load(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\";\n"
		"    rpc_interface = \"01020304-0506-0708-090a-0b0c0d0e0f10\"; rpc_operation = ( 1, \"2\" ); } );\n};\n"), 0);
	assert_int_equal(spec.rules[0].rpc_count, 2);
	assert_int_equal(spec.rules[0].rpc[1].opnum, 2);
	assert_int_equal(spec.rules[0].rpc[0].uuid[15], 0x10);
	/* unverifiable_action belongs to rules without conditions. */
	assert_single_error(SEGMENTS "  rules = ( { from = \"any\"; to = \"any\"; action = \"deny\"; rpc_interface = \"svcctl\";\n"
		"    unverifiable_action = \"allow\"; } );\n};\n",
		"test.conf:6: policy.rules[0].unverifiable_action applies only to a rule without SMB conditions (the rule that decides its pairs)");
}

int
main(void)
{
	char prefix[64];
	char *argv[] = { "test_policy_rpc", "--no-huge", "-m", "128",
		"--no-pci", "--no-shconf", "--no-telemetry",
		"--log-level=lib.eal:error", "-l", "0", "--file-prefix",
		prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_rpc_only),
		cmocka_unit_test(test_monitor_only),
		cmocka_unit_test(test_errors),
	};
	char runtime_dir[256];
	int failed;

	snprintf(prefix, sizeof(prefix), "test-policy-rpc-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return 1;
	failed = cmocka_run_group_tests_name("policy_rpc", tests, NULL, NULL);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir);	/* EAL leaves its empty run directory */
	return failed;
}
