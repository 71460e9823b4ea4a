/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DCE/RPC rule table (control/rpc_rules.c) through the detector: every
 * row raises exactly its alert with its ATT&CK ids and evidence, sealed
 * requests on interface + operation where the row allows it, per-row
 * enable / severity / allowed segments, the stateful rows (Netlogon burst,
 * autostart registry write, discovery note and breadth), CM0062 counting
 * WMI and DCOM, ordinary domain traffic raising nothing of severity 1-2,
 * and the configuration group detector.rpc_rules.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libconfig.h>

#include "config.h"
#include "dcerpc.h"
#include "detector.h"
#include "detector_config.h"
#include "event.h"
#include "rpc_rules.h"
#include "smb.h"

#define S 1000000000ull
#define T0 (1795334400ull * S)

#define SEEN_MAX 256
static struct {
	unsigned int count;
	struct detector_alert alert[SEEN_MAX];
	struct detector_evidence evidence[SEEN_MAX];
	struct detector_signature signature[SEEN_MAX];
} seen;

/* Last byte of the client address; .5 is in domain_controllers. */
static uint8_t client_ip = 10;
static uint8_t server_ip = 20;
#define DC_CLIENT 5

static void
on_alert(void *ctx, const struct detector_alert *alert)
{
	(void)ctx;
	assert_true(seen.count < SEEN_MAX);
	seen.alert[seen.count] = *alert;
	seen.evidence[seen.count] = *alert->evidence;
	seen.signature[seen.count] = *alert->signature;
	seen.alert[seen.count].evidence = &seen.evidence[seen.count];
	seen.alert[seen.count].signature = &seen.signature[seen.count];
	seen.alert[seen.count].event = NULL;
	seen.count++;
}

static const char *
segment_of(const uint8_t addr[16], uint8_t ip_version, void *arg)
{
	(void)ip_version;
	(void)arg;
	return addr[3] == DC_CLIENT ? "domain_controllers" : "workstations";
}

static int
setup(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	client_ip = 10;
	server_ip = 20;
	return 0;
}

static struct detector *
make(struct detector_params *p)
{
	struct detector *det;

	p->segment_of = segment_of;
	/* Small tables: a detector is made per case. */
	p->max_pairs = 64;
	p->max_clients = 64;
	det = detector_create(p);
	assert_non_null(det);
	return det;
}

static struct detector *
make_default(void)
{
	struct detector_params p;

	detector_params_set_defaults(&p);
	return make(&p);
}

/* A DCE/RPC request event. */
static void
request(struct gw_event *ev, uint64_t ts, const char *iface, const char *op)
{
	uint8_t uuid[16];
	uint16_t opnum = 0;

	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = ts;
	ev->flow_id = 0x77;
	ev->ip_version = 4;
	ev->client_addr[0] = 198;
	ev->client_addr[1] = 18;
	ev->client_addr[2] = 1;
	ev->client_addr[3] = client_ip;
	ev->server_addr[0] = 198;
	ev->server_addr[1] = 18;
	ev->server_addr[2] = 2;
	ev->server_addr[3] = server_ip;
	ev->client_port = 50000;
	ev->server_port = 445;
	ev->kind = EVENT_DCERPC;
	ev->subtype = DCERPC_FACT_REQUEST;
	ev->flags = EVENT_F_ON_PIPE;
	assert_int_equal(dcerpc_name_lookup(iface, op, uuid, &opnum), 0);
	memcpy(ev->u.dcerpc.iface_uuid, uuid, 16);
	ev->u.dcerpc.opnum = opnum;
	/* The parser's static names, as the dataplane gives them. */
	ev->u.dcerpc.interface = dcerpc_interface_name(uuid);
	ev->u.dcerpc.operation = dcerpc_operation_name(uuid, opnum);
}

static void
send_call(struct detector *det, uint64_t ts, const char *iface, const char *op,
	  uint8_t args, const char *name, const char *command, uint16_t flags)
{
	struct gw_event ev;

	request(&ev, ts, iface, op);
	ev.u.dcerpc.args = args;
	ev.u.dcerpc.rpc_flags = flags;
	if (flags & DCERPC_FACT_F_SEALED)
		ev.u.dcerpc.auth_level = 6;
	snprintf(ev.u.dcerpc.name, sizeof(ev.u.dcerpc.name), "%s",
		 name != NULL ? name : "");
	snprintf(ev.u.dcerpc.command, sizeof(ev.u.dcerpc.command), "%s",
		 command != NULL ? command : "");
	detector_add(det, &ev, on_alert, NULL);
}

/* New (not update) alerts with signature <id>. */
static unsigned int
new_alerts_of(uint32_t id)
{
	unsigned int i, n = 0;

	for (i = 0; i < seen.count; i++)
		if (seen.alert[i].signature->id == id && !seen.alert[i].update)
			n++;
	return n;
}

static unsigned int
new_alerts(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < seen.count; i++)
		if (!seen.alert[i].update)
			n++;
	return n;
}

static const struct detector_alert *
last_of(uint32_t id)
{
	unsigned int i;

	for (i = seen.count; i > 0; i--)
		if (seen.alert[i - 1].signature->id == id)
			return &seen.alert[i - 1];
	return NULL;
}

/* Every operation a row lists is one the parser names. */
static void
test_rows_name_parser_operations(void **state)
{
	unsigned int i, ids = 0;

	(void)state;
	for (i = 0; i < RPC_RULE_COUNT; i++) {
		const struct rpc_rule *row = rpc_rule_at(i);
		const struct rpc_op_ref *op;

		assert_non_null(row);
		assert_int_equal(rpc_rule_by_key(row->key), (int)i);
		assert_int_equal(row->id, 9000101 + i);
		assert_true(row->severity >= 1 && row->severity <= 3);
		assert_non_null(row->when_sealed);
		for (op = row->ops; op->interface != NULL; op++) {
			uint8_t uuid[16];
			uint16_t opnum;

			if (dcerpc_name_lookup(op->interface, op->operation,
					       uuid, &opnum) != 0)
				fail_msg("row %s: %s::%s not named by the parser",
					 row->key, op->interface,
					 op->operation);
			if (row->match == RPC_MATCH_DISCOVERY)
				assert_non_null(op->mitre);
			ids++;
		}
	}
	assert_true(ids > 60);
	assert_null(rpc_rule_at(RPC_RULE_COUNT));
	assert_int_equal(rpc_rule_by_key("nosuch"), -ENOENT);
}

/* The rows listing (interface, operation), asked row by row. */
static uint32_t
rows_listing(const char *interface, const char *operation)
{
	uint32_t rows = 0;
	unsigned int i;

	for (i = 0; i < RPC_RULE_COUNT; i++)
		if (rpc_rule_lists(i, interface, operation, NULL))
			rows |= 1u << i;
	return rows;
}

/*
 * rpc_rules_listing() is every row's rpc_rule_lists() at once, and its
 * memo gives the same on a first call, a repeat, and after more calls
 * than it has slots have pushed each other out (names as events carry
 * them: the parser's own). A wrong bit would turn a row off or on for a
 * call (test_each_row and the detector's tests go through the memo).
 */
static void
test_listing_memo(void **state)
{
	static struct rpc_listing_memo memo;
	unsigned int i, round, calls = 0, listed_calls = 0;

	(void)state;
	memset(&memo, 0, sizeof(memo));
	for (round = 0; round < 3; round++) {
		for (i = 0; i < RPC_RULE_COUNT; i++) {
			const struct rpc_op_ref *op;

			for (op = rpc_rule_at(i)->ops; op->interface != NULL;
					op++) {
				const char *iface, *name;
				uint8_t uuid[16];
				uint16_t opnum;
				uint32_t rows;

				assert_int_equal(dcerpc_name_lookup(
					op->interface, op->operation, uuid,
					&opnum), 0);
				iface = dcerpc_interface_name(uuid);
				name = dcerpc_operation_name(uuid, opnum);
				rows = rows_listing(iface, name);
				assert_true(rows & (1u << i));
				assert_int_equal(rpc_rules_listing(iface,
					name), rows);
				assert_int_equal(rpc_listing_memo_get(&memo,
					iface, name), rows);
				assert_int_equal(rpc_listing_memo_get(&memo,
					iface, name), rows);
				if (round == 0)
					listed_calls++;
			}
		}
		/* Calls no row lists, between the listed ones. */
		for (i = 0; i < 40; i++) {
			uint8_t uuid[16];
			uint16_t opnum;
			const char *iface, *name;

			assert_int_equal(dcerpc_name_lookup("srvsvc",
				"NetrShareEnum", uuid, &opnum), 0);
			iface = dcerpc_interface_name(uuid);
			name = dcerpc_operation_name(uuid, (uint16_t)i);
			if (name == NULL)
				continue;
			assert_int_equal(rpc_listing_memo_get(&memo, iface,
				name), rows_listing(iface, name));
			calls++;
		}
	}
	assert_true(listed_calls > RPC_LISTING_MEMO_SLOTS);
	assert_true(calls > 0);
	assert_int_equal(rpc_rules_listing("svcctl", "NoSuchOperation"), 0);
	assert_int_equal(rpc_listing_memo_get(&memo, NULL, NULL), 0);
}

/* One stateless call per row: exactly the row's alert. */
struct row_case {
	int row;
	const char *iface;
	const char *op;
	uint8_t args;
	const char *name;
	const char *command;
	uint16_t flags;
	const char *mitre;
	const char *target;
};

static const struct row_case row_cases[] = {
	{ RPC_RULE_DCSYNC, "drsuapi", "DRSGetNCChanges", 0, NULL, NULL,
	  DCERPC_FACT_F_SEALED, "T1003.006", "" },
	{ RPC_RULE_DCSYNC, "drsuapi", "DRSReplicaSync", 0, NULL, NULL, 0,
	  "T1003.006", "" },
	{ RPC_RULE_DCSHADOW, "drsuapi", "DRSReplicaAdd", 0, NULL, NULL, 0,
	  "T1207", "" },
	{ RPC_RULE_DCSHADOW, "drsuapi", "DRSAddEntry", 0, NULL, NULL,
	  DCERPC_FACT_F_SEALED, "T1207", "" },
	{ RPC_RULE_EVENTLOG_CLEAR, "eventlog", "ElfrClearELFW", 0, NULL, NULL,
	  0, "T1070.001", "" },
	{ RPC_RULE_EVENTLOG_CLEAR, "eventlog", "ElfrClearELFA", 0, NULL, NULL,
	  0, "T1070.001", "" },
	{ RPC_RULE_EVENTLOG_CLEAR, "IEventService", "EvtRpcClearLog", 0, NULL,
	  NULL, DCERPC_FACT_F_SEALED, "T1070.001", "" },
	{ RPC_RULE_SERVICE_START, "svcctl", "StartServiceW", 0, NULL, NULL, 0,
	  "T1569.002", "" },
	{ RPC_RULE_SERVICE_START, "svcctl", "StartServiceA", 0, NULL, NULL, 0,
	  "T1569.002", "" },
	{ RPC_RULE_WMI_EXEC, "IWbemServices", "ExecMethod", 0, NULL, NULL,
	  DCERPC_FACT_F_SEALED, "T1047", "" },
	{ RPC_RULE_WMI_EXEC, "IWbemServices", "ExecMethodAsync", 0, NULL,
	  NULL, 0, "T1047", "" },
	{ RPC_RULE_ATSVC_JOB, "atsvc", "NetrJobAdd", DCERPC_ARGS_JOB, NULL,
	  "cmd.exe /c whoami", 0, "T1053.002", "" },
	{ RPC_RULE_TASK, "ITaskSchedulerService", "SchRpcRegisterTask",
	  DCERPC_ARGS_TASK, "\\x", "cmd.exe", 0, "T1053.005", "" },
	{ RPC_RULE_TASK, "ITaskSchedulerService", "SchRpcRun",
	  DCERPC_ARGS_TASK, "\\x", NULL, 0, "T1053.005", "" },
	{ RPC_RULE_TASK, "ITaskSchedulerService", "SchRpcEnableTask", 0,
	  NULL, NULL, 0, "T1053.005", "" },
	{ RPC_RULE_SHUTDOWN, "winreg", "BaseInitiateSystemShutdown", 0, NULL,
	  NULL, 0, "T1529", "" },
	{ RPC_RULE_SHUTDOWN, "winreg", "BaseInitiateSystemShutdownEx", 0,
	  NULL, NULL, 0, "T1529", "" },
	{ RPC_RULE_SHUTDOWN, "InitShutdown", "BaseInitiateShutdown", 0, NULL,
	  NULL, 0, "T1529", "" },
	{ RPC_RULE_SHUTDOWN, "InitShutdown", "BaseInitiateShutdownEx", 0,
	  NULL, NULL, 0, "T1529", "" },
	{ RPC_RULE_SHUTDOWN, "WindowsShutdown", "WsdrInitiateShutdown", 0,
	  NULL, NULL, 0, "T1529", "" },
	{ RPC_RULE_SECLOGON, "ISecLogon", "SeclCreateProcessWithLogonW", 0,
	  NULL, NULL, 0, "T1547", "" },
	{ RPC_RULE_SECLOGON, "ISecLogon", "SeclCreateProcessWithLogonExW", 0,
	  NULL, NULL, 0, "T1547", "" },
	{ RPC_RULE_PRINT_PERSISTENCE, "spoolss", "RpcAddMonitor", 0, NULL,
	  NULL, 0, "T1547.010,T1547.012", "" },
	{ RPC_RULE_PRINT_PERSISTENCE, "spoolss", "RpcAddPrintProcessor", 0,
	  NULL, NULL, 0, "T1547.010,T1547.012", "" },
	{ RPC_RULE_PRINT_PERSISTENCE, "IRemoteWinspool", "RpcAsyncAddMonitor",
	  0, NULL, NULL, 0, "T1547.010,T1547.012", "" },
	{ RPC_RULE_DCOM_LATERAL, "IRemoteSCMActivator", "RemoteCreateInstance",
	  DCERPC_ARGS_DCOM_CLASS, "49b2791a-b1ae-4c90-9b8e-e860ba07f889",
	  "MMC20.Application", 0, "T1021.003", "MMC20.Application" },
	{ RPC_RULE_DCOM_LATERAL, "IRemoteSCMActivator", "RemoteCreateInstance",
	  DCERPC_ARGS_DCOM_CLASS, "9ba05972-f6a8-11cf-a442-00a0c90a8f39",
	  "ShellWindows", 0, "T1021.003", "ShellWindows" },
	{ RPC_RULE_DCOM_LATERAL, "IActivation", "RemoteActivation",
	  DCERPC_ARGS_DCOM_CLASS, "c08afd90-f2a1-11d1-8455-00a0c91f3880",
	  "ShellBrowserWindow", 0, "T1021.003", "ShellBrowserWindow" },
	{ RPC_RULE_WMI_ACTIVATION, "IRemoteSCMActivator",
	  "RemoteCreateInstance", DCERPC_ARGS_DCOM_CLASS,
	  "8bc3f05e-d86b-11d0-a075-00c04fb68820", "WbemLevel1Login", 0,
	  "T1047", "WbemLevel1Login" },
	{ RPC_RULE_ZEROLOGON, "netlogon", "NetrServerReqChallenge",
	  DCERPC_ARGS_NETLOGON, "DC1", NULL, DCERPC_FACT_F_ZERO_CREDENTIAL,
	  "T1210", "DC1" },
	{ RPC_RULE_ZEROLOGON, "netlogon", "NetrServerAuthenticate3",
	  DCERPC_ARGS_NETLOGON, "DC1", "DC1$", DCERPC_FACT_F_ZERO_CREDENTIAL,
	  "T1210", "DC1" },
	{ RPC_RULE_PRINTNIGHTMARE, "spoolss", "RpcAddPrinterDriverEx", 0,
	  NULL, NULL, 0, "T1210", "" },
	{ RPC_RULE_PRINTNIGHTMARE, "IRemoteWinspool",
	  "RpcAsyncInstallPrinterDriverFromPackage", 0, NULL, NULL,
	  DCERPC_FACT_F_SEALED, "T1210", "" },
	{ RPC_RULE_PETITPOTAM, "efsrpc", "EfsRpcOpenFileRaw", DCERPC_ARGS_UNC,
	  "\\\\198.18.1.66\\x\\y", NULL, 0, "T1187", "\\\\198.18.1.66\\x\\y" },
	{ RPC_RULE_PETITPOTAM, "efsr", "EfsRpcEncryptFileSrv", DCERPC_ARGS_UNC,
	  "\\\\attacker@80/x", NULL, 0, "T1187", "\\\\attacker@80/x" },
	{ RPC_RULE_PETITPOTAM, "efsrpc", "EfsRpcEncryptFileSrv", 0, NULL, NULL,
	  DCERPC_FACT_F_SEALED, "T1187", "" },
	{ RPC_RULE_PRINTER_BUG, "spoolss",
	  "RpcRemoteFindFirstPrinterChangeNotificationEx", DCERPC_ARGS_UNC,
	  "\\\\198.18.1.66", NULL, 0, "T1187", "\\\\198.18.1.66" },
	{ RPC_RULE_PRINTER_BUG, "spoolss",
	  "RpcRemoteFindFirstPrinterChangeNotification", DCERPC_ARGS_UNC,
	  "\\\\ws2", NULL, 0, "T1187", "\\\\ws2" },
	{ RPC_RULE_REGISTRY_HIVE_SAVE, "winreg", "BaseRegSaveKey",
	  DCERPC_ARGS_REGISTRY, "C:\\x\\sam", NULL, 0, "T1003.002", "" },
	{ RPC_RULE_REGISTRY_HIVE_SAVE, "winreg", "BaseRegSaveKeyEx",
	  DCERPC_ARGS_REGISTRY, "C:\\x\\system", NULL, 0, "T1003.002", "" },
	{ RPC_RULE_BACKUPKEY, "BackupKey", "BackuprKey", 0, NULL, NULL,
	  DCERPC_FACT_F_SEALED, "T1555", "" },
};

static void
test_each_row(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(row_cases) / sizeof(row_cases[0]); i++) {
		const struct row_case *c = &row_cases[i];
		const struct rpc_rule *row = rpc_rule_at((unsigned int)c->row);
		struct detector *det = make_default();
		const struct detector_alert *a;

		memset(&seen, 0, sizeof(seen));
		send_call(det, T0, c->iface, c->op, c->args, c->name,
			  c->command, c->flags);
		if (new_alerts() != 1 || new_alerts_of(row->id) != 1)
			fail_msg("%s::%s: %u alerts, %u of %u", c->iface, c->op,
				 new_alerts(), new_alerts_of(row->id), row->id);
		a = last_of(row->id);
		assert_int_equal(a->rule, DETECTOR_RULE_RPC);
		assert_string_equal(a->mitre, c->mitre);
		assert_int_equal(a->signature->severity, row->severity);
		assert_int_equal(a->evidence->rpc_rule, c->row);
		assert_int_equal(a->evidence->rpc_sealed,
				 (c->flags & DCERPC_FACT_F_SEALED) != 0);
		assert_string_equal(a->evidence->rpc_target, c->target);
		assert_string_equal(a->evidence->client_segment,
				    "workstations");
		assert_int_equal(a->evidence->operation_count, 1);
		assert_string_equal(a->evidence->operations[0], c->op);
		assert_string_equal(a->evidence->interfaces[0], c->iface);
		/* The same call again in the window: counted, not raised. */
		send_call(det, T0 + S, c->iface, c->op, c->args, c->name,
			  c->command, c->flags);
		assert_int_equal(new_alerts_of(row->id), 1);
		assert_int_equal(last_of(row->id)->count, 2);
		detector_free(det);
	}
}

/* Calls of the rows' operations that do not meet their condition. */
static void
test_conditions_not_met(void **state)
{
	struct detector *det = make_default();

	(void)state;
	/* Activation of an unlisted class, or sealed: class unknown. */
	send_call(det, T0, "IRemoteSCMActivator", "RemoteCreateInstance", 0,
		  NULL, NULL, 0);
	send_call(det, T0, "IRemoteSCMActivator", "RemoteCreateInstance", 0,
		  NULL, NULL, DCERPC_FACT_F_SEALED);
	/* Netlogon with a real challenge / credential. */
	send_call(det, T0, "netlogon", "NetrServerReqChallenge",
		  DCERPC_ARGS_NETLOGON, "WS1", NULL, 0);
	send_call(det, T0, "netlogon", "NetrServerAuthenticate3",
		  DCERPC_ARGS_NETLOGON, "WS1", "WS1$", 0);
	/* EFS on a local path, notification naming no UNC host. */
	send_call(det, T0, "efsrpc", "EfsRpcOpenFileRaw", DCERPC_ARGS_UNC,
		  "C:\\x\\y", NULL, 0);
	send_call(det, T0, "spoolss",
		  "RpcRemoteFindFirstPrinterChangeNotificationEx",
		  DCERPC_ARGS_UNC, "", NULL, 0);
	/* A registry value set under an ordinary key. */
	send_call(det, T0, "winreg", "BaseRegOpenKey", DCERPC_ARGS_REGISTRY,
		  "Software\\Vendor\\App", NULL, 0);
	send_call(det, T0 + S, "winreg", "BaseRegSetValue",
		  DCERPC_ARGS_REGISTRY, "Setting", "1", 0);
	assert_int_equal(new_alerts(), 0);
	detector_free(det);
}

static void
test_dcsync_from_domain_controller(void **state)
{
	struct detector *det = make_default();

	(void)state;
	client_ip = DC_CLIENT;
	send_call(det, T0, "drsuapi", "DRSGetNCChanges", 0, NULL, NULL,
		  DCERPC_FACT_F_SEALED);
	send_call(det, T0, "drsuapi", "DRSReplicaAdd", 0, NULL, NULL,
		  DCERPC_FACT_F_SEALED);
	assert_int_equal(new_alerts(), 0);
	client_ip = 10;
	send_call(det, T0, "drsuapi", "DRSGetNCChanges", 0, NULL, NULL,
		  DCERPC_FACT_F_SEALED);
	assert_int_equal(new_alerts_of(9000101), 1);
	detector_free(det);
}

static void
test_row_config(void **state)
{
	struct detector_params p;
	struct detector *det;

	(void)state;
	detector_params_set_defaults(&p);
	p.rpc.rules[RPC_RULE_EVENTLOG_CLEAR].enabled = false;
	p.rpc.rules[RPC_RULE_BACKUPKEY].severity = 3;
	snprintf(p.rpc.rules[RPC_RULE_WMI_EXEC].allowed[0],
		 RPC_RULE_SEGMENT_NAME_MAX, "workstations");
	p.rpc.rules[RPC_RULE_WMI_EXEC].allowed_count = 1;
	det = make(&p);
	send_call(det, T0, "eventlog", "ElfrClearELFW", 0, NULL, NULL, 0);
	send_call(det, T0, "IWbemServices", "ExecMethod", 0, NULL, NULL, 0);
	if (new_alerts() != 0)
		fail_msg("raised %u", seen.alert[0].signature->id);
	send_call(det, T0, "BackupKey", "BackuprKey", 0, NULL, NULL, 0);
	assert_int_equal(new_alerts_of(9000120), 1);
	assert_int_equal(last_of(9000120)->signature->severity, 3);
	detector_free(det);

	/* The whole table off. */
	memset(&seen, 0, sizeof(seen));
	detector_params_set_defaults(&p);
	p.rules[DETECTOR_RULE_RPC] = false;
	det = make(&p);
	send_call(det, T0, "drsuapi", "DRSGetNCChanges", 0, NULL, NULL, 0);
	assert_int_equal(new_alerts(), 0);
	detector_free(det);

	detector_params_set_defaults(&p);
	p.rpc.rules[RPC_RULE_DCSYNC].severity = 0;
	assert_int_equal(detector_params_check(&p, NULL, 0), -EINVAL);
	detector_params_set_defaults(&p);
	p.rpc.discovery_breadth = 65;
	assert_int_equal(detector_params_check(&p, NULL, 0), -EINVAL);
	detector_params_set_defaults(&p);
	p.rpc.netlogon_auth_burst = 1;
	assert_int_equal(detector_params_check(&p, NULL, 0), -EINVAL);
}

static void
test_netlogon_burst(void **state)
{
	struct detector *det = make_default();
	const struct detector_alert *a;
	unsigned int i;

	(void)state;
	for (i = 0; i < 19; i++)
		send_call(det, T0 + i * S / 10, "netlogon",
			  "NetrServerAuthenticate3", DCERPC_ARGS_NETLOGON,
			  "DC1", "DC1$", 0);
	assert_int_equal(new_alerts(), 0);
	send_call(det, T0 + 2 * S, "netlogon", "NetrServerAuthenticate3",
		  DCERPC_ARGS_NETLOGON, "DC1", "DC1$", 0);
	assert_int_equal(new_alerts_of(9000114), 1);
	a = last_of(9000114);
	assert_int_equal(a->evidence->netlogon_authentications, 20);
	assert_string_equal(a->evidence->rpc_target, "DC1");
	assert_string_equal(a->evidence->rpc_detail, "DC1$");
	assert_string_equal(a->mitre, "T1210");
	/* Slow authentications, one a minute, never reach it. */
	detector_free(det);
	memset(&seen, 0, sizeof(seen));
	det = make_default();
	for (i = 0; i < 40; i++)
		send_call(det, T0 + i * 60 * S, "netlogon",
			  "NetrServerAuthenticate2", DCERPC_ARGS_NETLOGON,
			  "WS1", "WS1$", 0);
	assert_int_equal(new_alerts(), 0);
	detector_free(det);
}

static void
test_registry_autostart(void **state)
{
	struct detector *det = make_default();
	const struct detector_alert *a;

	(void)state;
	send_call(det, T0, "winreg", "OpenLocalMachine", 0, NULL, NULL, 0);
	send_call(det, T0, "winreg", "BaseRegOpenKey", DCERPC_ARGS_REGISTRY,
		  "Software\\Microsoft\\Windows\\CurrentVersion\\Run", NULL,
		  0);
	assert_int_equal(new_alerts(), 0);
	send_call(det, T0 + S, "winreg", "BaseRegSetValue",
		  DCERPC_ARGS_REGISTRY, "Updater", "C:\\x.exe", 0);
	assert_int_equal(new_alerts(), 1);
	a = last_of(9000118);
	assert_non_null(a);
	assert_string_equal(a->mitre, "T1112,T1547.001");
	assert_string_equal(a->evidence->rpc_target,
			    "Software\\Microsoft\\Windows\\CurrentVersion\\Run");
	assert_string_equal(a->evidence->rpc_detail, "Updater = C:\\x.exe");
	assert_false(a->evidence->rpc_sealed);
	detector_free(det);

	/* Services key, by CreateKey. */
	memset(&seen, 0, sizeof(seen));
	det = make_default();
	send_call(det, T0, "winreg", "BaseRegCreateKey", DCERPC_ARGS_REGISTRY,
		  "SYSTEM\\CurrentControlSet\\Services\\evil", NULL, 0);
	send_call(det, T0 + S, "winreg", "BaseRegSetValue",
		  DCERPC_ARGS_REGISTRY, "ImagePath", "C:\\e.exe", 0);
	assert_int_equal(new_alerts_of(9000118), 1);
	detector_free(det);

	/* Sealed: any value set, key unknown. */
	memset(&seen, 0, sizeof(seen));
	det = make_default();
	send_call(det, T0, "winreg", "BaseRegSetValue", 0, NULL, NULL,
		  DCERPC_FACT_F_SEALED);
	assert_int_equal(new_alerts_of(9000118), 1);
	assert_true(last_of(9000118)->evidence->rpc_sealed);
	detector_free(det);

	assert_true(rpc_registry_is_autostart(
		"SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce"));
	assert_true(rpc_registry_is_autostart(
		"software/microsoft/windows/currentversion/run/"));
	assert_true(rpc_registry_is_autostart(
		"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon"));
	assert_false(rpc_registry_is_autostart(
		"Software\\Microsoft\\Windows\\CurrentVersion\\Runner"));
	assert_false(rpc_registry_is_autostart(
		"Software\\Microsoft\\Windows\\CurrentVersion"));
	assert_false(rpc_registry_is_autostart(""));
	assert_false(rpc_registry_is_autostart(NULL));
}

static void
test_discovery(void **state)
{
	struct detector *det = make_default();
	const struct detector_alert *a;
	unsigned int i;

	(void)state;
	send_call(det, T0, "samr", "SamrEnumerateUsersInDomain", 0, NULL, NULL,
		  0);
	assert_int_equal(new_alerts_of(9000121), 1);
	a = last_of(9000121);
	assert_int_equal(a->signature->severity, 3);
	assert_string_equal(a->mitre, "T1087.002");
	for (i = 0; i < 6; i++)
		send_call(det, T0 + S, "samr", "SamrQueryDisplayInformation2",
			  0, NULL, NULL, 0);
	send_call(det, T0 + 2 * S, "srvsvc", "NetrShareEnum", 0, NULL, NULL,
		  0);
	/* One note per client and window, its count updated. */
	assert_int_equal(new_alerts(), 1);
	detector_flush(det, on_alert, NULL);
	a = last_of(9000121);
	assert_true(a->update);
	assert_int_equal(a->count, 8);
	assert_int_equal(a->evidence->discovery->calls, 8);
	assert_int_equal(a->evidence->discovery->servers, 1);
	assert_int_equal(a->evidence->discovery->op_count, 3);
	assert_string_equal(a->evidence->discovery->ops[1].operation,
			    "SamrQueryDisplayInformation2");
	assert_int_equal(a->evidence->discovery->ops[1].count, 6);
	assert_string_equal(a->mitre, "T1087.002,T1135");

	/* Towards 5 servers: the breadth alert, once. */
	for (i = 21; i <= 25; i++) {
		server_ip = (uint8_t)i;
		send_call(det, T0 + 3 * S, "wkssvc", "NetrWkstaUserEnum", 0,
			  NULL, NULL, 0);
	}
	assert_int_equal(new_alerts_of(9000122), 1);
	a = last_of(9000122);
	assert_int_equal(a->signature->severity, 2);
	assert_int_equal(a->evidence->discovery->servers, 6);
	assert_string_equal(a->mitre, "T1018,T1087.002,T1135,T1033");

	/* A new window starts a new note and counts afresh. */
	send_call(det, T0 + 700 * S, "srvsvc", "NetrSessionEnum", 0, NULL,
		  NULL, 0);
	assert_int_equal(new_alerts_of(9000121), 2);
	a = last_of(9000121);
	assert_int_equal(a->evidence->discovery->calls, 1);
	assert_int_equal(a->evidence->discovery->op_count, 1);
	detector_free(det);
}

static void
send_logon(struct detector *det, uint64_t ts)
{
	struct gw_event ev;

	request(&ev, ts, "svcctl", "OpenSCManagerW");
	ev.kind = EVENT_SMB;
	ev.subtype = SMB_FACT_LOGON;
	ev.flags = EVENT_F_RESPONSE;
	memset(&ev.u, 0, sizeof(ev.u));
	ev.u.smb.version = 2;
	ev.u.smb.success = 1;
	snprintf(ev.u.smb.user, sizeof(ev.u.smb.user), "admin");
	detector_add(det, &ev, on_alert, NULL);
}

/* CM0062 with only logon and execution required counts WMI and DCOM. */
static void
test_lateral_movement_counts_wmi_dcom(void **state)
{
	struct detector_params p;
	struct detector *det;
	const struct detector_alert *a;

	(void)state;
	detector_params_set_defaults(&p);
	p.required = DETECTOR_COND_LOGON | DETECTOR_COND_ADMIN_EXEC;
	p.rpc.rules[RPC_RULE_WMI_EXEC].enabled = false;
	det = make(&p);
	send_logon(det, T0);
	send_call(det, T0 + S, "IWbemServices", "ExecMethod", 0, NULL, NULL,
		  DCERPC_FACT_F_SEALED);
	assert_int_equal(new_alerts_of(9000001), 1);
	a = last_of(9000001);
	assert_true(a->evidence->exec_kinds & DETECTOR_EXEC_WMI);
	assert_string_equal(a->mitre, "T1021.002,T1047");
	send_call(det, T0 + 2 * S, "IRemoteSCMActivator",
		  "RemoteCreateInstance", DCERPC_ARGS_DCOM_CLASS,
		  "49b2791a-b1ae-4c90-9b8e-e860ba07f889", "MMC20.Application",
		  0);
	a = last_of(9000001);
	assert_true(a->update);
	assert_true(a->evidence->exec_kinds & DETECTOR_EXEC_DCOM);
	assert_string_equal(a->mitre, "T1021.002,T1047,T1021.003");
	assert_int_equal(new_alerts_of(9000111), 1);
	detector_free(det);
}

/* Flushed counts of two rows on one pair keep their own evidence. */
static void
test_flush_two_rows(void **state)
{
	struct detector *det = make_default();
	unsigned int i, petit = 0, mmc = 0;

	(void)state;
	send_call(det, T0, "efsrpc", "EfsRpcOpenFileRaw", DCERPC_ARGS_UNC,
		  "\\\\198.18.1.66\\x", NULL, 0);
	send_call(det, T0 + S, "efsrpc", "EfsRpcOpenFileRaw", DCERPC_ARGS_UNC,
		  "\\\\198.18.1.66\\x", NULL, 0);
	send_call(det, T0 + 2 * S, "efsrpc", "EfsRpcOpenFileRaw",
		  DCERPC_ARGS_UNC, "\\\\198.18.1.66\\x", NULL, 0);
	send_call(det, T0 + 3 * S, "IRemoteSCMActivator",
		  "RemoteCreateInstance", DCERPC_ARGS_DCOM_CLASS,
		  "49b2791a-b1ae-4c90-9b8e-e860ba07f889", "MMC20.Application",
		  0);
	send_call(det, T0 + 4 * S, "IRemoteSCMActivator",
		  "RemoteCreateInstance", DCERPC_ARGS_DCOM_CLASS,
		  "49b2791a-b1ae-4c90-9b8e-e860ba07f889", "MMC20.Application",
		  0);
	send_call(det, T0 + 5 * S, "IRemoteSCMActivator",
		  "RemoteCreateInstance", DCERPC_ARGS_DCOM_CLASS,
		  "49b2791a-b1ae-4c90-9b8e-e860ba07f889", "MMC20.Application",
		  0);
	seen.count = 0;
	detector_flush(det, on_alert, NULL);
	for (i = 0; i < seen.count; i++) {
		const struct detector_alert *a = &seen.alert[i];

		assert_true(a->update);
		assert_int_equal(a->count, 3);
		if (a->signature->id == 9000116) {
			petit++;
			assert_int_equal(a->evidence->rpc_rule,
					 RPC_RULE_PETITPOTAM);
			assert_string_equal(a->evidence->rpc_target, "");
		} else if (a->signature->id == 9000111) {
			mmc++;
			assert_string_equal(a->evidence->rpc_target,
					    "MMC20.Application");
		}
	}
	assert_int_equal(petit, 1);
	assert_int_equal(mmc, 1);
	detector_free(det);
}

/* What a domain member does on join, logon and GPO refresh. */
static void
test_ordinary_domain_traffic(void **state)
{
	static const struct {
		const char *iface, *op;
		uint8_t args;
		const char *name, *command;
	} calls[] = {
		{ "epmapper", "ept_map", 0, NULL, NULL },
		{ "netlogon", "NetrServerReqChallenge", DCERPC_ARGS_NETLOGON,
		  "WS1", NULL },
		{ "netlogon", "NetrServerAuthenticate3", DCERPC_ARGS_NETLOGON,
		  "WS1", "WS1$" },
		{ "netlogon", "NetrLogonGetCapabilities", 0, NULL, NULL },
		{ "netlogon", "NetrLogonSamLogonEx", 0, NULL, NULL },
		{ "netlogon", "DsrGetDcNameEx2", 0, NULL, NULL },
		{ "netlogon", "NetrLogonGetDomainInfo", 0, NULL, NULL },
		{ "netlogon", "NetrServerPasswordSet2", 0, NULL, NULL },
		{ "lsarpc", "LsarOpenPolicy2", 0, NULL, NULL },
		{ "lsarpc", "LsarQueryInformationPolicy2", 0, NULL, NULL },
		{ "lsarpc", "LsarLookupNames3", 0, NULL, NULL },
		{ "lsarpc", "LsarLookupSids3", 0, NULL, NULL },
		{ "samr", "SamrConnect5", 0, NULL, NULL },
		{ "samr", "SamrOpenDomain", 0, NULL, NULL },
		{ "samr", "SamrLookupNamesInDomain", 0, NULL, NULL },
		{ "samr", "SamrCreateUser2InDomain", 0, NULL, NULL },
		{ "samr", "SamrSetInformationUser2", 0, NULL, NULL },
		{ "drsuapi", "DRSBind", 0, NULL, NULL },
		{ "drsuapi", "DRSCrackNames", 0, NULL, NULL },
		{ "drsuapi", "DRSUnbind", 0, NULL, NULL },
		{ "srvsvc", "NetrServerGetInfo", 0, NULL, NULL },
		{ "spoolss", "RpcOpenPrinterEx", 0, NULL, NULL },
		{ "winreg", "OpenLocalMachine", 0, NULL, NULL },
		{ "winreg", "BaseRegOpenKey", DCERPC_ARGS_REGISTRY,
		  "Software\\Policies\\Microsoft", NULL },
		{ "winreg", "BaseRegQueryValue", 0, NULL, NULL },
		{ "BackupKey", "BackuprKey", 0, NULL, NULL },
	};
	struct detector *det = make_default();
	unsigned int i, round;

	(void)state;
	/* Three rounds a few minutes apart, as logons and refreshes. */
	for (round = 0; round < 3; round++)
		for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
			send_call(det, T0 + round * 300 * S + i * S,
				  calls[i].iface, calls[i].op, calls[i].args,
				  calls[i].name, calls[i].command, 0);
	detector_flush(det, on_alert, NULL);
	for (i = 0; i < seen.count; i++) {
		/* BackuprKey is a documented note-worthy call. */
		if (seen.alert[i].signature->id == 9000120)
			continue;
		if (seen.alert[i].signature->severity < 3)
			fail_msg("ordinary traffic raised %u (%s)",
				 seen.alert[i].signature->id,
				 seen.alert[i].signature->name);
	}
	detector_free(det);
}

static void
load(const char *text, struct detector_params *p, struct config_errors *errs)
{
	config_t cfg;
	config_setting_t *group;
	int ret;

	config_init(&cfg);
	assert_int_equal(config_read_string(&cfg, text), CONFIG_TRUE);
	group = config_lookup(&cfg, "detector");
	ret = detector_config_load_detector(group, "t.conf", p, errs);
	(void)ret;
	config_destroy(&cfg);
}

static struct config_errors errs;

static void
test_config(void **state)
{
	struct detector_params p;

	(void)state;
	memset(&errs, 0, sizeof(errs));
	load("detector: {\n"
	     "  discovery_breadth = 10;\n"
	     "  netlogon_auth_burst = 50;\n"
	     "  rpc_rules: {\n"
	     "    dcsync = { severity = 2; allowed_segments = [ \"dcs\", \"backup\" ]; };\n"
	     "    discovery = false;\n"
	     "    backupkey = { enabled = false; };\n"
	     "  };\n"
	     "};\n", &p, &errs);
	assert_int_equal(errs.count, 0);
	assert_int_equal(p.rpc.discovery_breadth, 10);
	assert_int_equal(p.rpc.netlogon_auth_burst, 50);
	assert_int_equal(p.rpc.rules[RPC_RULE_DCSYNC].severity, 2);
	assert_int_equal(p.rpc.rules[RPC_RULE_DCSYNC].allowed_count, 2);
	assert_string_equal(p.rpc.rules[RPC_RULE_DCSYNC].allowed[1], "backup");
	assert_false(p.rpc.rules[RPC_RULE_DISCOVERY].enabled);
	assert_false(p.rpc.rules[RPC_RULE_BACKUPKEY].enabled);
	assert_true(p.rpc.rules[RPC_RULE_DCSHADOW].enabled);
	assert_string_equal(p.rpc.rules[RPC_RULE_DCSHADOW].allowed[0],
			    "domain_controllers");

	memset(&errs, 0, sizeof(errs));
	load("detector: {\n"
	     "  rpc_rules: {\n"
	     "    dcsink = true;\n"
	     "    dcsync = { severity = 4; };\n"
	     "    zerologon = { enabled = 1; colour = \"red\"; };\n"
	     "    petitpotam = { allowed_segments = [ \"\" ]; };\n"
	     "    printer_bug = 3;\n"
	     "  };\n"
	     "  discovery_breadth = 100;\n"
	     "};\n", &p, &errs);
	assert_int_equal(errs.count, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rows_name_parser_operations, setup),
		cmocka_unit_test_setup(test_each_row, setup),
		cmocka_unit_test(test_listing_memo),
		cmocka_unit_test_setup(test_conditions_not_met, setup),
		cmocka_unit_test_setup(test_dcsync_from_domain_controller,
				       setup),
		cmocka_unit_test_setup(test_row_config, setup),
		cmocka_unit_test_setup(test_netlogon_burst, setup),
		cmocka_unit_test_setup(test_registry_autostart, setup),
		cmocka_unit_test_setup(test_discovery, setup),
		cmocka_unit_test_setup(test_lateral_movement_counts_wmi_dcom,
				       setup),
		cmocka_unit_test_setup(test_flush_two_rows, setup),
		cmocka_unit_test_setup(test_ordinary_domain_traffic, setup),
		cmocka_unit_test_setup(test_config, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
