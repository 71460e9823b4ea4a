/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The DCE/RPC rule table (see rpc_rules.h). Operation names are those of
 * dataplane/dcerpc/dcerpc_names.c; a row whose operation the parser does
 * not name can never match, which the unit test checks for every row.
 */

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dcerpc.h"
#include "event.h"
#include "rpc_rules.h"

static const struct rpc_op_ref dcsync_ops[] = {
	{ "drsuapi", "DRSGetNCChanges", NULL },
	{ "drsuapi", "DRSReplicaSync", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref dcshadow_ops[] = {
	{ "drsuapi", "DRSReplicaAdd", NULL },
	{ "drsuapi", "DRSAddEntry", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref eventlog_clear_ops[] = {
	{ "eventlog", "ElfrClearELFW", NULL },
	{ "eventlog", "ElfrClearELFA", NULL },
	{ "IEventService", "EvtRpcClearLog", NULL },
	{ NULL, NULL, NULL },
};

/* CreateService* is 9000002, raised by the detector itself. */
static const struct rpc_op_ref service_start_ops[] = {
	{ "svcctl", "StartServiceW", NULL },
	{ "svcctl", "StartServiceA", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref wmi_exec_ops[] = {
	{ "IWbemServices", "ExecMethod", NULL },
	{ "IWbemServices", "ExecMethodAsync", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref atsvc_ops[] = {
	{ "atsvc", "NetrJobAdd", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref task_ops[] = {
	{ "ITaskSchedulerService", "SchRpcRegisterTask", NULL },
	{ "ITaskSchedulerService", "SchRpcRun", NULL },
	{ "ITaskSchedulerService", "SchRpcEnableTask", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref shutdown_ops[] = {
	{ "winreg", "BaseInitiateSystemShutdown", NULL },
	{ "winreg", "BaseInitiateSystemShutdownEx", NULL },
	{ "InitShutdown", "BaseInitiateShutdown", NULL },
	{ "InitShutdown", "BaseInitiateShutdownEx", NULL },
	{ "WindowsShutdown", "WsdrInitiateShutdown", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref seclogon_ops[] = {
	{ "ISecLogon", "SeclCreateProcessWithLogonW", NULL },
	{ "ISecLogon", "SeclCreateProcessWithLogonExW", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref print_persistence_ops[] = {
	{ "spoolss", "RpcAddMonitor", NULL },
	{ "spoolss", "RpcAddPrintProcessor", NULL },
	{ "IRemoteWinspool", "RpcAsyncAddMonitor", NULL },
	{ "IRemoteWinspool", "RpcAsyncAddPrintProcessor", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref activation_ops[] = {
	{ "IRemoteSCMActivator", "RemoteCreateInstance", NULL },
	{ "IRemoteSCMActivator", "RemoteGetClassObject", NULL },
	{ "IActivation", "RemoteActivation", NULL },
	{ NULL, NULL, NULL },
};

static const char *const dcom_lateral_classes[] = {
	"MMC20.Application", "ShellWindows", "ShellBrowserWindow",
	"Excel.Application", NULL,
};

static const char *const wmi_classes[] = {
	"WbemLevel1Login", NULL,
};

static const struct rpc_op_ref netlogon_challenge_ops[] = {
	{ "netlogon", "NetrServerReqChallenge", NULL },
	{ "netlogon", "NetrServerAuthenticate", NULL },
	{ "netlogon", "NetrServerAuthenticate2", NULL },
	{ "netlogon", "NetrServerAuthenticate3", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref netlogon_auth_ops[] = {
	{ "netlogon", "NetrServerAuthenticate", NULL },
	{ "netlogon", "NetrServerAuthenticate2", NULL },
	{ "netlogon", "NetrServerAuthenticate3", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref printnightmare_ops[] = {
	{ "spoolss", "RpcAddPrinterDriverEx", NULL },
	{ "spoolss", "RpcAddPrinterDriver", NULL },
	{ "IRemoteWinspool", "RpcAsyncInstallPrinterDriverFromPackage", NULL },
	{ "IRemoteWinspool", "RpcAsyncAddPrinterDriver", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref petitpotam_ops[] = {
	{ "efsrpc", "EfsRpcOpenFileRaw", NULL },
	{ "efsrpc", "EfsRpcEncryptFileSrv", NULL },
	{ "efsrpc", "EfsRpcDecryptFileSrv", NULL },
	{ "efsrpc", "EfsRpcQueryUsersOnFile", NULL },
	{ "efsrpc", "EfsRpcQueryRecoveryAgents", NULL },
	{ "efsrpc", "EfsRpcFileKeyInfo", NULL },
	{ "efsrpc", "EfsRpcDuplicateEncryptionInfoFile", NULL },
	{ "efsr", "EfsRpcOpenFileRaw", NULL },
	{ "efsr", "EfsRpcEncryptFileSrv", NULL },
	{ "efsr", "EfsRpcDecryptFileSrv", NULL },
	{ "efsr", "EfsRpcQueryUsersOnFile", NULL },
	{ "efsr", "EfsRpcQueryRecoveryAgents", NULL },
	{ "efsr", "EfsRpcFileKeyInfo", NULL },
	{ "efsr", "EfsRpcDuplicateEncryptionInfoFile", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref printer_bug_ops[] = {
	{ "spoolss", "RpcRemoteFindFirstPrinterChangeNotification", NULL },
	{ "spoolss", "RpcRemoteFindFirstPrinterChangeNotificationEx", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref registry_write_ops[] = {
	{ "winreg", "BaseRegSetValue", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref hive_save_ops[] = {
	{ "winreg", "BaseRegSaveKey", NULL },
	{ "winreg", "BaseRegSaveKeyEx", NULL },
	{ NULL, NULL, NULL },
};

static const struct rpc_op_ref backupkey_ops[] = {
	{ "BackupKey", "BackuprKey", NULL },
	{ NULL, NULL, NULL },
};

/* Discovery: each call with the technique it serves. */
static const struct rpc_op_ref discovery_ops[] = {
	{ "srvsvc", "NetrShareEnum", "T1135" },
	{ "srvsvc", "NetrShareGetInfo", "T1135" },
	{ "srvsvc", "NetrSessionEnum", "T1049" },
	{ "srvsvc", "NetrConnectionEnum", "T1049" },
	{ "srvsvc", "NetrFileEnum", "T1083" },
	{ "srvsvc", "NetrServerGetInfo", "T1082" },
	{ "srvsvc", "NetrServerDiskEnum", "T1082" },
	{ "srvsvc", "NetrServerTransportEnum", "T1016" },
	{ "srvsvc", "NetrRemoteTOD", "T1124" },
	{ "wkssvc", "NetrWkstaGetInfo", "T1082" },
	{ "wkssvc", "NetrWkstaUserEnum", "T1033" },
	{ "wkssvc", "NetrWkstaTransportEnum", "T1016" },
	{ "samr", "SamrEnumerateDomainsInSamServer", "T1087.002" },
	{ "samr", "SamrEnumerateUsersInDomain", "T1087.002" },
	{ "samr", "SamrQueryDisplayInformation", "T1087.002" },
	{ "samr", "SamrQueryDisplayInformation2", "T1087.002" },
	{ "samr", "SamrQueryDisplayInformation3", "T1087.002" },
	{ "samr", "SamrEnumerateGroupsInDomain", "T1069.002" },
	{ "samr", "SamrEnumerateAliasesInDomain", "T1069.001" },
	{ "samr", "SamrGetMembersInGroup", "T1069.002" },
	{ "samr", "SamrGetMembersInAlias", "T1069.001" },
	{ "samr", "SamrGetGroupsForUser", "T1069.002" },
	{ "lsarpc", "LsarEnumerateAccounts", "T1087" },
	{ "lsarpc", "LsarEnumerateTrustedDomains", "T1482" },
	{ "lsarpc", "LsarEnumerateTrustedDomainsEx", "T1482" },
	{ "lsarpc", "LsarLookupSids", "T1087" },
	{ "lsarpc", "LsarLookupSids2", "T1087" },
	{ "lsarpc", "LsarLookupSids3", "T1087" },
	{ NULL, NULL, NULL },
};

static const char sealed_operation[] =
	"interface and operation: the row needs nothing more";

static const struct rpc_rule rules[RPC_RULE_COUNT] = {
	[RPC_RULE_DCSYNC] = { 9000101, "dcsync",
		"SMBGW DCSync: directory replication requested by a host outside the domain controllers",
		"Credential Access", 1, "T1003.006", RPC_MATCH_OPERATION,
		dcsync_ops, NULL, true, sealed_operation,
		"domain_controllers", "T1003.006 drsuapi::DRSGetNCChanges, DRSReplicaSync" },
	[RPC_RULE_DCSHADOW] = { 9000102, "dcshadow",
		"SMBGW DCShadow: replica added or directory object written over drsuapi by a host outside the domain controllers",
		"Defense Evasion", 1, "T1207", RPC_MATCH_OPERATION,
		dcshadow_ops, NULL, true, sealed_operation,
		"domain_controllers", "" },
	[RPC_RULE_EVENTLOG_CLEAR] = { 9000103, "eventlog_clear",
		"SMBGW Windows event log cleared remotely",
		"Defense Evasion", 1, "T1070.001", RPC_MATCH_OPERATION,
		eventlog_clear_ops, NULL, true, sealed_operation, NULL,
		"T1070.001 eventlog::ElfrClearELFW/A, IEventService::EvtRpcClearLog" },
	[RPC_RULE_SERVICE_START] = { 9000104, "service_start",
		"SMBGW remote service started through svcctl",
		"Execution", 2, "T1569.002", RPC_MATCH_OPERATION,
		service_start_ops, NULL, true, sealed_operation, NULL,
		"T1569.002 svcctl::StartServiceW/A (CreateService*: 9000002)" },
	[RPC_RULE_WMI_EXEC] = { 9000105, "wmi_exec",
		"SMBGW remote WMI method executed (IWbemServices::ExecMethod)",
		"Execution", 1, "T1047", RPC_MATCH_OPERATION,
		wmi_exec_ops, NULL, true, sealed_operation, NULL,
		"T1047 IWbemServices::ExecMethod, ExecMethodAsync" },
	[RPC_RULE_ATSVC_JOB] = { 9000106, "atsvc_job",
		"SMBGW remote at job created (atsvc::NetrJobAdd)",
		"Execution", 1, "T1053.002", RPC_MATCH_OPERATION,
		atsvc_ops, NULL, true, sealed_operation, NULL,
		"T1053.002 atsvc::JobAdd" },
	[RPC_RULE_TASK] = { 9000107, "scheduled_task",
		"SMBGW remote scheduled task registered, run or enabled",
		"Execution", 1, "T1053.005", RPC_MATCH_OPERATION,
		task_ops, NULL, true, sealed_operation, NULL,
		"T1053.005 ITaskSchedulerService::SchRpcRegisterTask, SchRpcRun, SchRpcEnableTask" },
	[RPC_RULE_SHUTDOWN] = { 9000108, "remote_shutdown",
		"SMBGW remote shutdown or restart requested",
		"Impact", 2, "T1529", RPC_MATCH_OPERATION,
		shutdown_ops, NULL, true, sealed_operation, NULL,
		"T1529 winreg/InitShutdown/WindowsShutdown shutdown calls" },
	[RPC_RULE_SECLOGON] = { 9000109, "seclogon",
		"SMBGW process created with other credentials through ISecLogon",
		"Persistence", 2, "T1547", RPC_MATCH_OPERATION,
		seclogon_ops, NULL, true, sealed_operation, NULL,
		"T1547 ISecLogon::SeclCreateProcessWithLogonW, SeclCreateProcessWithLogonExW" },
	[RPC_RULE_PRINT_PERSISTENCE] = { 9000110, "print_persistence",
		"SMBGW print monitor or print processor added remotely",
		"Persistence", 1, "T1547.010,T1547.012", RPC_MATCH_OPERATION,
		print_persistence_ops, NULL, true, sealed_operation, NULL,
		"T1547 spoolss::RpcAddMonitor, RpcAddPrintProcessor" },
	[RPC_RULE_DCOM_LATERAL] = { 9000111, "dcom_lateral",
		"SMBGW remote DCOM activation of a class used for lateral movement",
		"Lateral Movement", 1, "T1021.003", RPC_MATCH_DCOM_CLASS,
		activation_ops, dcom_lateral_classes, false,
		"nothing: the class is in the sealed stub, no alert", NULL, "" },
	[RPC_RULE_WMI_ACTIVATION] = { 9000112, "wmi_activation",
		"SMBGW remote WMI activation (WbemLevel1Login)",
		"Execution", 2, "T1047", RPC_MATCH_DCOM_CLASS,
		activation_ops, wmi_classes, false,
		"nothing: the class is in the sealed stub; 9000105 still sees ExecMethod",
		NULL, "" },
	[RPC_RULE_ZEROLOGON] = { 9000113, "zerologon",
		"SMBGW Zerologon: Netlogon challenge or authenticator of zeros (CVE-2020-1472)",
		"Lateral Movement", 1, "T1210", RPC_MATCH_ZERO_CREDENTIAL,
		netlogon_challenge_ops, NULL, false,
		"never sealed: the secure channel is not set up yet", NULL, "" },
	[RPC_RULE_NETLOGON_BURST] = { 9000114, "netlogon_auth_burst",
		"SMBGW burst of Netlogon authentications from one client (Zerologon attempt)",
		"Lateral Movement", 1, "T1210", RPC_MATCH_AUTH_BURST,
		netlogon_auth_ops, NULL, true, sealed_operation, NULL, "" },
	[RPC_RULE_PRINTNIGHTMARE] = { 9000115, "printnightmare",
		"SMBGW printer driver installed remotely (PrintNightmare, CVE-2021-34527)",
		"Lateral Movement", 1, "T1210", RPC_MATCH_OPERATION,
		printnightmare_ops, NULL, true, sealed_operation, NULL, "" },
	[RPC_RULE_PETITPOTAM] = { 9000116, "petitpotam",
		"SMBGW forced authentication through EFSRPC naming a UNC path (PetitPotam)",
		"Credential Access", 1, "T1187", RPC_MATCH_UNC,
		petitpotam_ops, NULL, true,
		"interface and operation; the UNC path is not seen", NULL, "" },
	[RPC_RULE_PRINTER_BUG] = { 9000117, "printer_bug",
		"SMBGW forced authentication through the print spooler change notification (printer bug)",
		"Credential Access", 1, "T1187", RPC_MATCH_UNC,
		printer_bug_ops, NULL, true,
		"interface and operation; the host to call back is not seen", NULL,
		"" },
	[RPC_RULE_REGISTRY_AUTOSTART] = { 9000118, "registry_autostart",
		"SMBGW remote registry value written under an autostart key",
		"Persistence", 1, "T1112,T1547.001", RPC_MATCH_AUTOSTART_WRITE,
		registry_write_ops, NULL, true,
		"BaseRegSetValue on any key, key and value not seen", NULL, "" },
	[RPC_RULE_REGISTRY_HIVE_SAVE] = { 9000119, "registry_hive_save",
		"SMBGW registry hive saved to a file remotely (SAM/SECURITY/SYSTEM dump)",
		"Credential Access", 1, "T1003.002", RPC_MATCH_OPERATION,
		hive_save_ops, NULL, true, sealed_operation, NULL, "" },
	[RPC_RULE_BACKUPKEY] = { 9000120, "backupkey",
		"SMBGW DPAPI domain backup key requested (BackupKey)",
		"Credential Access", 2, "T1555", RPC_MATCH_OPERATION,
		backupkey_ops, NULL, true, sealed_operation, NULL, "" },
	[RPC_RULE_DISCOVERY] = { 9000121, "discovery",
		"SMBGW discovery calls over DCE/RPC (operations and counts per client)",
		"Discovery", 3, "", RPC_MATCH_DISCOVERY,
		discovery_ops, NULL, true, sealed_operation, NULL,
		"T1016, T1033, T1049, T1069, T1082, T1083, T1087, T1124, T1135 srvsvc/wkssvc/samr/lsarpc enumeration" },
	[RPC_RULE_DISCOVERY_BREADTH] = { 9000122, "discovery_breadth",
		"SMBGW discovery over DCE/RPC towards many servers from one client",
		"Discovery", 2, "T1018", RPC_MATCH_BREADTH,
		discovery_ops, NULL, true, sealed_operation, NULL, "" },
};

const struct rpc_rule *
rpc_rule_at(unsigned int id)
{
	return id < RPC_RULE_COUNT ? &rules[id] : NULL;
}

int
rpc_rule_by_key(const char *key)
{
	unsigned int i;

	for (i = 0; i < RPC_RULE_COUNT; i++)
		if (strcmp(rules[i].key, key) == 0)
			return (int)i;
	return -ENOENT;
}

void
rpc_rules_params_set_defaults(struct rpc_rules_params *params)
{
	unsigned int i;

	memset(params, 0, sizeof(*params));
	for (i = 0; i < RPC_RULE_COUNT; i++) {
		struct rpc_rule_config *c = &params->rules[i];

		c->enabled = true;
		c->severity = rules[i].severity;
		if (rules[i].default_allowed != NULL) {
			snprintf(c->allowed[0], sizeof(c->allowed[0]), "%s",
				rules[i].default_allowed);
			c->allowed_count = 1;
		}
	}
	params->discovery_breadth = 5;
	params->netlogon_auth_burst = 20;
}

int
rpc_rules_params_check(const struct rpc_rules_params *params, char *why,
	size_t why_len)
{
	unsigned int i, j;

	for (i = 0; i < RPC_RULE_COUNT; i++) {
		const struct rpc_rule_config *c = &params->rules[i];

		if (c->severity < 1 || c->severity > 3) {
			snprintf(why, why_len, "rpc_rules.%s: severity must be 1..3",
				rules[i].key);
			return -EINVAL;
		}
		if (c->allowed_count > RPC_RULE_SEGMENTS_MAX) {
			snprintf(why, why_len,
				"rpc_rules.%s: at most %d allowed segments",
				rules[i].key, RPC_RULE_SEGMENTS_MAX);
			return -EINVAL;
		}
		for (j = 0; j < c->allowed_count; j++)
			if (c->allowed[j][0] == '\0') {
				snprintf(why, why_len,
					"rpc_rules.%s: empty segment name",
					rules[i].key);
				return -EINVAL;
			}
	}
	if (params->discovery_breadth < 1 || params->discovery_breadth > 64) {
		snprintf(why, why_len, "discovery_breadth must be 1..64");
		return -EINVAL;
	}
	if (params->netlogon_auth_burst < 2 ||
			params->netlogon_auth_burst > 100000) {
		snprintf(why, why_len, "netlogon_auth_burst must be 2..100000");
		return -EINVAL;
	}
	return 0;
}

bool
rpc_rule_allows_segment(const struct rpc_rules_params *params,
	unsigned int id, const char *segment)
{
	const struct rpc_rule_config *c;
	unsigned int i;

	if (id >= RPC_RULE_COUNT || segment == NULL)
		return false;
	c = &params->rules[id];
	for (i = 0; i < c->allowed_count; i++)
		if (strcmp(c->allowed[i], segment) == 0)
			return true;
	return false;
}

/*
 * Whether names <a> and <b> are the same: the same pointer (the names'
 * tables and the rules' may share literals), else the first bytes before
 * a call. Every DCE/RPC request is checked against every row's list.
 */
static inline bool
same_name(const char *a, const char *b)
{
	return a == b || (a[0] == b[0] && strcmp(a, b) == 0);
}

static bool
lists(const struct rpc_op_ref *ops, const char *interface,
	const char *operation, const char **mitre)
{
	for (; ops->interface != NULL; ops++)
		if (same_name(ops->interface, interface) &&
				same_name(ops->operation, operation)) {
			if (mitre != NULL)
				*mitre = ops->mitre;
			return true;
		}
	return false;
}

bool
rpc_rule_lists(unsigned int id, const char *interface, const char *operation,
	const char **mitre)
{
	if (id >= RPC_RULE_COUNT || interface == NULL || operation == NULL)
		return false;
	return lists(rules[id].ops, interface, operation, mitre);
}

static bool
names_class(const char *const *classes, const char *name)
{
	for (; *classes != NULL; classes++)
		if (strcmp(*classes, name) == 0)
			return true;
	return false;
}

_Static_assert(RPC_RULE_COUNT <= 32, "a row's bit in a uint32_t listing");

uint32_t
rpc_rules_listing(const char *interface, const char *operation)
{
	uint32_t rows = 0;
	unsigned int i;

	if (interface == NULL || operation == NULL)
		return 0;
	for (i = 0; i < RPC_RULE_COUNT; i++)
		if (lists(rules[i].ops, interface, operation, NULL))
			rows |= 1u << i;
	return rows;
}

uint32_t
rpc_listing_memo_get(struct rpc_listing_memo *memo, const char *interface,
	const char *operation)
{
	uintptr_t mix = (uintptr_t)interface * 31u ^ (uintptr_t)operation;
	struct rpc_listing_memo_slot *slot = &memo->slots[
		(mix ^ mix >> 7 ^ mix >> 13) % RPC_LISTING_MEMO_SLOTS];

	if (slot->interface != interface || slot->operation != operation ||
			interface == NULL) {
		slot->interface = interface;
		slot->operation = operation;
		slot->rows = rpc_rules_listing(interface, operation);
	}
	return slot->rows;
}

/* Whether the condition of <rule> holds for the arguments of <ev>. */
static bool
condition_holds(const struct rpc_rule *rule, const struct gw_event *ev,
	const char **target)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;

	switch (rule->match) {
	case RPC_MATCH_OPERATION:
		return true;
	case RPC_MATCH_DCOM_CLASS:
		if (rpc->args != DCERPC_ARGS_DCOM_CLASS ||
				!names_class(rule->classes, rpc->command))
			return false;
		*target = rpc->command;
		return true;
	case RPC_MATCH_ZERO_CREDENTIAL:
		if (rpc->args != DCERPC_ARGS_NETLOGON ||
				!(rpc->rpc_flags & DCERPC_FACT_F_ZERO_CREDENTIAL))
			return false;
		*target = rpc->name;
		return true;
	case RPC_MATCH_UNC:
		if (rpc->args != DCERPC_ARGS_UNC || rpc->name[0] != '\\' ||
				rpc->name[1] != '\\')
			return false;
		*target = rpc->name;
		return true;
	default:
		/* Stateful rows are the detector's. */
		return false;
	}
}

int
rpc_rules_match(const struct rpc_rules_params *params,
	const struct gw_event *ev, const char *client_segment,
	struct rpc_rule_hit *hit)
{
	uint32_t listed = 0;

	if (ev->kind == EVENT_DCERPC && ev->subtype == DCERPC_FACT_REQUEST)
		listed = rpc_rules_listing(ev->u.dcerpc.interface,
			ev->u.dcerpc.operation);
	return rpc_rules_match_listed(params, ev, client_segment, listed, hit);
}

int
rpc_rules_match_listed(const struct rpc_rules_params *params,
	const struct gw_event *ev, const char *client_segment,
	uint32_t listed, struct rpc_rule_hit *hit)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	bool sealed = (rpc->rpc_flags & DCERPC_FACT_F_SEALED) != 0;
	unsigned int i;

	hit->rule = -1;
	hit->sealed = false;
	hit->target = "";
	if (ev->kind != EVENT_DCERPC || ev->subtype != DCERPC_FACT_REQUEST ||
			rpc->interface == NULL || rpc->operation == NULL)
		return -1;
	for (i = 0; i < RPC_RULE_COUNT; i++) {
		const struct rpc_rule *rule = &rules[i];
		const char *target = "";

		if (rule->match != RPC_MATCH_OPERATION &&
				rule->match != RPC_MATCH_DCOM_CLASS &&
				rule->match != RPC_MATCH_ZERO_CREDENTIAL &&
				rule->match != RPC_MATCH_UNC)
			continue;
		if (!params->rules[i].enabled || !(listed & (1u << i)))
			continue;
		if (sealed) {
			if (!rule->sealed_alone)
				continue;
		} else if (!condition_holds(rule, ev, &target)) {
			continue;
		}
		if (rpc_rule_allows_segment(params, i, client_segment))
			continue;
		hit->rule = (int)i;
		hit->sealed = sealed;
		hit->target = target;
		return hit->rule;
	}
	return -1;
}

/*
 * Whether <path> holds the key path <key> as whole components: at its
 * start or after a separator, and at its end or before one.
 */
static bool
path_names_key(const char *path, const char *key)
{
	size_t n = strlen(key), len = strlen(path), i;

	while (len > 0 && (path[len - 1] == '\\' || path[len - 1] == '/'))
		len--;
	for (i = 0; i + n <= len; i++) {
		size_t j;

		for (j = 0; j < n; j++) {
			char a = path[i + j] == '/' ? '\\' : path[i + j];

			if (tolower((unsigned char)a) !=
					tolower((unsigned char)key[j]))
				break;
		}
		if (j == n && (i == 0 || path[i - 1] == '\\' ||
				path[i - 1] == '/') &&
				(i + n == len || path[i + n] == '\\' ||
				path[i + n] == '/'))
			return true;
	}
	return false;
}

bool
rpc_registry_is_autostart(const char *path)
{
	static const char *const keys[] = {
		"CurrentVersion\\Run",
		"CurrentVersion\\RunOnce",
		"CurrentVersion\\RunOnceEx",
		"CurrentVersion\\RunServices",
		"CurrentVersion\\RunServicesOnce",
		"CurrentVersion\\Winlogon",
		"CurrentVersion\\Image File Execution Options",
		"Policies\\Explorer\\Run",
		"CurrentControlSet\\Services",
		"ControlSet001\\Services",
		"Active Setup\\Installed Components",
	};
	size_t i;

	if (path == NULL)
		return false;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (path_names_key(path, keys[i]))
			return true;
	return false;
}
