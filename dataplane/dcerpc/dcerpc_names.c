/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Names of the interfaces and operations that matter for lateral movement:
 * remote service, task and job creation, registry, account and directory
 * access, and the DCOM / WMI activation path. Operation numbers are from
 * the Microsoft open specifications (MS-SCMR, MS-TSCH, MS-RRP, MS-SAMR,
 * MS-LSAD/LSAT, MS-DRSR, MS-SRVS, MS-WKST, MS-NRPC, MS-RPRN, MS-EFSR,
 * MS-DCOM, MS-WMI) and C706 for the endpoint mapper.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dcerpc.h"
#include "dcerpc_pvt.h"

#define OPS(a) (a), (uint16_t)(sizeof(a) / sizeof((a)[0]))

/* MS-SCMR 3.1.4 */
static const char *const svcctl_ops[] = {
	[0] = "CloseServiceHandle",
	[1] = "ControlService",
	[2] = "DeleteService",
	[3] = "LockServiceDatabase",
	[4] = "QueryServiceObjectSecurity",
	[5] = "SetServiceObjectSecurity",
	[6] = "QueryServiceStatus",
	[7] = "SetServiceStatus",
	[8] = "UnlockServiceDatabase",
	[9] = "NotifyBootConfigStatus",
	[11] = "ChangeServiceConfigW",
	[12] = "CreateServiceW",
	[13] = "EnumDependentServicesW",
	[14] = "EnumServicesStatusW",
	[15] = "OpenSCManagerW",
	[16] = "OpenServiceW",
	[17] = "QueryServiceConfigW",
	[18] = "QueryServiceLockStatusW",
	[19] = "StartServiceW",
	[20] = "GetServiceDisplayNameW",
	[21] = "GetServiceKeyNameW",
	[23] = "ChangeServiceConfigA",
	[24] = "CreateServiceA",
	[25] = "EnumDependentServicesA",
	[26] = "EnumServicesStatusA",
	[27] = "OpenSCManagerA",
	[28] = "OpenServiceA",
	[29] = "QueryServiceConfigA",
	[30] = "QueryServiceLockStatusA",
	[31] = "StartServiceA",
	[32] = "GetServiceDisplayNameA",
	[33] = "GetServiceKeyNameA",
	[35] = "EnumServiceGroupW",
	[36] = "ChangeServiceConfig2A",
	[37] = "ChangeServiceConfig2W",
	[38] = "QueryServiceConfig2A",
	[39] = "QueryServiceConfig2W",
	[40] = "QueryServiceStatusEx",
	[41] = "EnumServicesStatusExA",
	[42] = "EnumServicesStatusExW",
	[44] = "CreateServiceWOW64A",
	[45] = "CreateServiceWOW64W",
	[47] = "NotifyServiceStatusChange",
	[48] = "GetNotifyResults",
	[49] = "CloseNotifyHandle",
	[50] = "ControlServiceExA",
	[51] = "ControlServiceExW",
	[56] = "QueryServiceConfigEx",
	[60] = "CreateWowService",
	[61] = "OpenSCManager2",
};

/* MS-TSCH 3.2.5.2 */
static const char *const atsvc_ops[] = {
	[0] = "NetrJobAdd",
	[1] = "NetrJobDel",
	[2] = "NetrJobEnum",
	[3] = "NetrJobGetInfo",
};

/* MS-TSCH 3.2.5.4 */
static const char *const tsch_ops[] = {
	[0] = "SchRpcHighestVersion",
	[1] = "SchRpcRegisterTask",
	[2] = "SchRpcRetrieveTask",
	[3] = "SchRpcCreateFolder",
	[4] = "SchRpcSetSecurity",
	[5] = "SchRpcGetSecurity",
	[6] = "SchRpcEnumFolders",
	[7] = "SchRpcEnumTasks",
	[8] = "SchRpcEnumInstances",
	[9] = "SchRpcGetInstanceInfo",
	[10] = "SchRpcStopInstance",
	[11] = "SchRpcStop",
	[12] = "SchRpcRun",
	[13] = "SchRpcDelete",
	[14] = "SchRpcRename",
	[15] = "SchRpcScheduledRuntimes",
	[16] = "SchRpcGetLastRunInfo",
	[17] = "SchRpcGetTaskInfo",
	[18] = "SchRpcGetNumberOfMissedRuns",
	[19] = "SchRpcEnableTask",
};

/* MS-RRP 3.1.5 */
static const char *const winreg_ops[] = {
	[0] = "OpenClassesRoot",
	[1] = "OpenCurrentUser",
	[2] = "OpenLocalMachine",
	[3] = "OpenPerformanceData",
	[4] = "OpenUsers",
	[5] = "BaseRegCloseKey",
	[6] = "BaseRegCreateKey",
	[7] = "BaseRegDeleteKey",
	[8] = "BaseRegDeleteValue",
	[9] = "BaseRegEnumKey",
	[10] = "BaseRegEnumValue",
	[11] = "BaseRegFlushKey",
	[12] = "BaseRegGetKeySecurity",
	[13] = "BaseRegLoadKey",
	[15] = "BaseRegOpenKey",
	[16] = "BaseRegQueryInfoKey",
	[17] = "BaseRegQueryValue",
	[18] = "BaseRegReplaceKey",
	[19] = "BaseRegRestoreKey",
	[20] = "BaseRegSaveKey",
	[21] = "BaseRegSetKeySecurity",
	[22] = "BaseRegSetValue",
	[23] = "BaseRegUnLoadKey",
	[24] = "BaseInitiateSystemShutdown",
	[25] = "BaseAbortSystemShutdown",
	[26] = "BaseRegGetVersion",
	[27] = "OpenCurrentConfig",
	[29] = "BaseRegQueryMultipleValues",
	[30] = "BaseInitiateSystemShutdownEx",
	[31] = "BaseRegSaveKeyEx",
	[32] = "OpenPerformanceText",
	[33] = "OpenPerformanceNlsText",
	[34] = "BaseRegQueryMultipleValues2",
	[35] = "BaseRegDeleteKeyEx",
};

/* MS-SAMR 3.1.5 */
static const char *const samr_ops[] = {
	[0] = "SamrConnect",
	[1] = "SamrCloseHandle",
	[2] = "SamrSetSecurityObject",
	[3] = "SamrQuerySecurityObject",
	[5] = "SamrLookupDomainInSamServer",
	[6] = "SamrEnumerateDomainsInSamServer",
	[7] = "SamrOpenDomain",
	[8] = "SamrQueryInformationDomain",
	[9] = "SamrSetInformationDomain",
	[10] = "SamrCreateGroupInDomain",
	[11] = "SamrEnumerateGroupsInDomain",
	[12] = "SamrCreateUserInDomain",
	[13] = "SamrEnumerateUsersInDomain",
	[14] = "SamrCreateAliasInDomain",
	[15] = "SamrEnumerateAliasesInDomain",
	[16] = "SamrGetAliasMembership",
	[17] = "SamrLookupNamesInDomain",
	[18] = "SamrLookupIdsInDomain",
	[19] = "SamrOpenGroup",
	[20] = "SamrQueryInformationGroup",
	[21] = "SamrSetInformationGroup",
	[22] = "SamrAddMemberToGroup",
	[23] = "SamrDeleteGroup",
	[24] = "SamrRemoveMemberFromGroup",
	[25] = "SamrGetMembersInGroup",
	[26] = "SamrSetMemberAttributesOfGroup",
	[27] = "SamrOpenAlias",
	[28] = "SamrQueryInformationAlias",
	[29] = "SamrSetInformationAlias",
	[30] = "SamrDeleteAlias",
	[31] = "SamrAddMemberToAlias",
	[32] = "SamrRemoveMemberFromAlias",
	[33] = "SamrGetMembersInAlias",
	[34] = "SamrOpenUser",
	[35] = "SamrDeleteUser",
	[36] = "SamrQueryInformationUser",
	[37] = "SamrSetInformationUser",
	[38] = "SamrChangePasswordUser",
	[39] = "SamrGetGroupsForUser",
	[40] = "SamrQueryDisplayInformation",
	[41] = "SamrGetDisplayEnumerationIndex",
	[44] = "SamrGetUserDomainPasswordInformation",
	[45] = "SamrRemoveMemberFromForeignDomain",
	[46] = "SamrQueryInformationDomain2",
	[47] = "SamrQueryInformationUser2",
	[48] = "SamrQueryDisplayInformation2",
	[49] = "SamrGetDisplayEnumerationIndex2",
	[50] = "SamrCreateUser2InDomain",
	[51] = "SamrQueryDisplayInformation3",
	[52] = "SamrAddMultipleMembersToAlias",
	[53] = "SamrRemoveMultipleMembersFromAlias",
	[54] = "SamrOemChangePasswordUser2",
	[55] = "SamrUnicodeChangePasswordUser2",
	[56] = "SamrGetDomainPasswordInformation",
	[57] = "SamrConnect2",
	[58] = "SamrSetInformationUser2",
	[62] = "SamrConnect4",
	[64] = "SamrConnect5",
	[65] = "SamrRidToSid",
	[66] = "SamrSetDSRMPassword",
	[67] = "SamrValidatePassword",
};

/* MS-LSAD 3.1.4 and MS-LSAT 3.1.4 */
static const char *const lsarpc_ops[] = {
	[0] = "LsarClose",
	[6] = "LsarOpenPolicy",
	[7] = "LsarQueryInformationPolicy",
	[8] = "LsarSetInformationPolicy",
	[11] = "LsarEnumerateAccounts",
	[13] = "LsarEnumerateTrustedDomains",
	[14] = "LsarLookupNames",
	[15] = "LsarLookupSids",
	[44] = "LsarOpenPolicy2",
	[45] = "LsarGetUserName",
	[46] = "LsarQueryInformationPolicy2",
	[50] = "LsarEnumerateTrustedDomainsEx",
	[57] = "LsarLookupSids2",
	[58] = "LsarLookupNames2",
	[68] = "LsarLookupNames3",
	[76] = "LsarLookupSids3",
	[77] = "LsarLookupNames4",
};

/* MS-DRSR 4.1 */
static const char *const drsuapi_ops[] = {
	[0] = "DRSBind",
	[1] = "DRSUnbind",
	[2] = "DRSReplicaSync",
	[3] = "DRSGetNCChanges",
	[4] = "DRSUpdateRefs",
	[5] = "DRSReplicaAdd",
	[6] = "DRSReplicaDel",
	[7] = "DRSReplicaModify",
	[8] = "DRSVerifyNames",
	[9] = "DRSGetMemberships",
	[10] = "DRSInterDomainMove",
	[11] = "DRSGetNT4ChangeLog",
	[12] = "DRSCrackNames",
	[13] = "DRSWriteSPN",
	[14] = "DRSRemoveDsServer",
	[15] = "DRSRemoveDsDomain",
	[16] = "DRSDomainControllerInfo",
	[17] = "DRSAddEntry",
	[18] = "DRSExecuteKCC",
	[19] = "DRSGetReplInfo",
	[20] = "DRSAddSidHistory",
	[21] = "DRSGetMemberships2",
	[22] = "DRSReplicaVerifyObjects",
	[23] = "DRSGetObjectExistence",
	[24] = "DRSQuerySitesByCost",
};

/* MS-SRVS 3.1.4 */
static const char *const srvsvc_ops[] = {
	[8] = "NetrConnectionEnum",
	[9] = "NetrFileEnum",
	[12] = "NetrSessionEnum",
	[13] = "NetrSessionDel",
	[14] = "NetrShareAdd",
	[15] = "NetrShareEnum",
	[16] = "NetrShareGetInfo",
	[17] = "NetrShareSetInfo",
	[18] = "NetrShareDel",
	[21] = "NetrServerGetInfo",
	[22] = "NetrServerSetInfo",
	[23] = "NetrServerDiskEnum",
	[26] = "NetrServerTransportEnum",
	[28] = "NetrRemoteTOD",
	[31] = "NetprPathCanonicalize",
};

/* MS-WKST 3.2.4 */
static const char *const wkssvc_ops[] = {
	[0] = "NetrWkstaGetInfo",
	[1] = "NetrWkstaSetInfo",
	[2] = "NetrWkstaUserEnum",
	[5] = "NetrWkstaTransportEnum",
};

/* C706 appendix O */
static const char *const epmapper_ops[] = {
	[0] = "ept_insert",
	[1] = "ept_delete",
	[2] = "ept_lookup",
	[3] = "ept_map",
	[4] = "ept_lookup_handle_free",
	[5] = "ept_inq_object",
	[6] = "ept_mgmt_delete",
};

/* MS-NRPC 3.5.4 */
static const char *const netlogon_ops[] = {
	[2] = "NetrLogonSamLogon",
	[4] = "NetrServerReqChallenge",
	[5] = "NetrServerAuthenticate",
	[6] = "NetrServerPasswordSet",
	[15] = "NetrServerAuthenticate2",
	[21] = "NetrLogonGetCapabilities",
	[26] = "NetrServerAuthenticate3",
	[29] = "NetrLogonGetDomainInfo",
	[30] = "NetrServerPasswordSet2",
	[31] = "NetrServerPasswordGet",
	[34] = "DsrGetDcNameEx2",
	[39] = "NetrLogonSamLogonEx",
	[42] = "NetrServerTrustPasswordsGet",
	[46] = "NetrServerGetTrustInfo",
};

/* MS-RPRN 3.1.4 */
static const char *const spoolss_ops[] = {
	[0] = "RpcEnumPrinters",
	[1] = "RpcOpenPrinter",
	[9] = "RpcAddPrinterDriver",
	[14] = "RpcAddPrintProcessor",
	[29] = "RpcClosePrinter",
	[46] = "RpcAddMonitor",
	[62] = "RpcRemoteFindFirstPrinterChangeNotification",
	[65] = "RpcRemoteFindFirstPrinterChangeNotificationEx",
	[69] = "RpcOpenPrinterEx",
	[89] = "RpcAddPrinterDriverEx",
};

/* MS-PAR 3.1.4 */
static const char *const winspool_ops[] = {
	[0] = "RpcAsyncOpenPrinter",
	[39] = "RpcAsyncAddPrinterDriver",
	[62] = "RpcAsyncInstallPrinterDriverFromPackage",
	[68] = "RpcAsyncAddPrintProcessor",
	[72] = "RpcAsyncAddMonitor",
};

/* MS-EVEN 3.1.4 */
static const char *const eventlog_ops[] = {
	[0] = "ElfrClearELFW",
	[1] = "ElfrBackupELFW",
	[2] = "ElfrCloseEL",
	[4] = "ElfrNumberOfRecords",
	[5] = "ElfrOldestRecord",
	[7] = "ElfrOpenELW",
	[8] = "ElfrRegisterEventSourceW",
	[9] = "ElfrOpenBELW",
	[10] = "ElfrReadELW",
	[11] = "ElfrReportEventW",
	[12] = "ElfrClearELFA",
	[13] = "ElfrBackupELFA",
	[14] = "ElfrOpenELA",
	[17] = "ElfrReadELA",
};

/* MS-EVEN6 3.1.4 */
static const char *const even6_ops[] = {
	[5] = "EvtRpcRegisterLogQuery",
	[6] = "EvtRpcClearLog",
	[7] = "EvtRpcExportLog",
	[11] = "EvtRpcQueryNext",
	[13] = "EvtRpcClose",
	[17] = "EvtRpcOpenLogHandle",
	[19] = "EvtRpcGetChannelList",
};

/* MS-RSP 3.2.4 */
static const char *const initshutdown_ops[] = {
	[0] = "BaseInitiateShutdown",
	[1] = "BaseAbortShutdown",
	[2] = "BaseInitiateShutdownEx",
};

/* MS-RSP 3.3.4 */
static const char *const windowsshutdown_ops[] = {
	[0] = "WsdrInitiateShutdown",
	[1] = "WsdrAbortShutdown",
};

/* ISecLogon (seclogon service): both start a process as another user. */
static const char *const seclogon_ops[] = {
	[0] = "SeclCreateProcessWithLogonW",
	[1] = "SeclCreateProcessWithLogonExW",
};

/* MS-BKRP 3.1.4 */
static const char *const bkrp_ops[] = {
	[0] = "BackuprKey",
};

/* MS-EFSR 3.1.4 */
static const char *const efsr_ops[] = {
	[0] = "EfsRpcOpenFileRaw",
	[4] = "EfsRpcEncryptFileSrv",
	[5] = "EfsRpcDecryptFileSrv",
	[6] = "EfsRpcQueryUsersOnFile",
	[7] = "EfsRpcQueryRecoveryAgents",
	[12] = "EfsRpcFileKeyInfo",
	[13] = "EfsRpcDuplicateEncryptionInfoFile",
	[15] = "EfsRpcAddUsersToFileEx",
};

/* MS-DCOM 3.1.2.5.2: opnums 0-2 are reserved. */
static const char *const scm_activator_ops[] = {
	[3] = "RemoteGetClassObject",
	[4] = "RemoteCreateInstance",
};

/* MS-DCOM 3.1.2.5.1 */
static const char *const iactivation_ops[] = {
	[0] = "RemoteActivation",
};

/* MS-DCOM 3.1.2.5.1 */
static const char *const oxid_ops[] = {
	[0] = "ResolveOxid",
	[1] = "SimplePing",
	[2] = "ComplexPing",
	[3] = "ServerAlive",
	[4] = "ResolveOxid2",
	[5] = "ServerAlive2",
};

/* MS-DCOM 3.1.1.5.6: the IUnknown methods are opnums 0-2. */
static const char *const remunknown_ops[] = {
	[3] = "RemQueryInterface",
	[4] = "RemAddRef",
	[5] = "RemRelease",
	[6] = "RemQueryInterface2",
};

/* MS-WMI 3.1.4.1 */
static const char *const wbem_login_ops[] = {
	[3] = "EstablishPosition",
	[4] = "RequestChallenge",
	[5] = "WBEMLogin",
	[6] = "NTLMLogin",
};

/* MS-WMI 3.1.4.3 */
static const char *const wbem_services_ops[] = {
	[3] = "OpenNamespace",
	[4] = "CancelAsyncCall",
	[5] = "QueryObjectSink",
	[6] = "GetObject",
	[7] = "GetObjectAsync",
	[8] = "PutClass",
	[9] = "PutClassAsync",
	[10] = "DeleteClass",
	[11] = "DeleteClassAsync",
	[12] = "CreateClassEnum",
	[13] = "CreateClassEnumAsync",
	[14] = "PutInstance",
	[15] = "PutInstanceAsync",
	[16] = "DeleteInstance",
	[17] = "DeleteInstanceAsync",
	[18] = "CreateInstanceEnum",
	[19] = "CreateInstanceEnumAsync",
	[20] = "ExecQuery",
	[21] = "ExecQueryAsync",
	[22] = "ExecNotificationQuery",
	[23] = "ExecNotificationQueryAsync",
	[24] = "ExecMethod",
	[25] = "ExecMethodAsync",
};

/* UUIDs in textual byte order. */
static const struct dcerpc_iface_info dcerpc_ifaces[] = {
	{ { 0x36, 0x7a, 0xbb, 0x81, 0x98, 0x44, 0x35, 0xf1,
	    0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10, 0x03 },
	  DCERPC_IFACE_SVCCTL, "svcctl", OPS(svcctl_ops) },
	{ { 0x1f, 0xf7, 0x06, 0x82, 0x0a, 0x51, 0x30, 0xe8,
	    0x07, 0x6d, 0x74, 0x0b, 0xe8, 0xce, 0xe9, 0x8b },
	  DCERPC_IFACE_ATSVC, "atsvc", OPS(atsvc_ops) },
	{ { 0x86, 0xd3, 0x59, 0x49, 0x83, 0xc9, 0x40, 0x44,
	    0xb4, 0x24, 0xdb, 0x36, 0x32, 0x31, 0xfd, 0x0c },
	  DCERPC_IFACE_TSCH, "ITaskSchedulerService", OPS(tsch_ops) },
	{ { 0x37, 0x8e, 0x52, 0xb0, 0xc0, 0xa9, 0x11, 0xcf,
	    0x82, 0x2d, 0x00, 0xaa, 0x00, 0x51, 0xe4, 0x0f },
	  DCERPC_IFACE_OTHER, "sasec", NULL, 0 },
	{ { 0x33, 0x8c, 0xd0, 0x01, 0x22, 0x44, 0x31, 0xf1,
	    0xaa, 0xaa, 0x90, 0x00, 0x38, 0x00, 0x10, 0x03 },
	  DCERPC_IFACE_WINREG, "winreg", OPS(winreg_ops) },
	{ { 0x12, 0x34, 0x57, 0x78, 0x12, 0x34, 0xab, 0xcd,
	    0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xac },
	  DCERPC_IFACE_OTHER, "samr", OPS(samr_ops) },
	{ { 0x12, 0x34, 0x57, 0x78, 0x12, 0x34, 0xab, 0xcd,
	    0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab },
	  DCERPC_IFACE_OTHER, "lsarpc", OPS(lsarpc_ops) },
	{ { 0xe3, 0x51, 0x42, 0x35, 0x4b, 0x06, 0x11, 0xd1,
	    0xab, 0x04, 0x00, 0xc0, 0x4f, 0xc2, 0xdc, 0xd2 },
	  DCERPC_IFACE_OTHER, "drsuapi", OPS(drsuapi_ops) },
	{ { 0x4b, 0x32, 0x4f, 0xc8, 0x16, 0x70, 0x01, 0xd3,
	    0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88 },
	  DCERPC_IFACE_OTHER, "srvsvc", OPS(srvsvc_ops) },
	{ { 0x6b, 0xff, 0xd0, 0x98, 0xa1, 0x12, 0x36, 0x10,
	    0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a },
	  DCERPC_IFACE_OTHER, "wkssvc", OPS(wkssvc_ops) },
	{ { 0xe1, 0xaf, 0x83, 0x08, 0x5d, 0x1f, 0x11, 0xc9,
	    0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa },
	  DCERPC_IFACE_OTHER, "epmapper", OPS(epmapper_ops) },
	{ { 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0xab, 0xcd,
	    0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0xcf, 0xfb },
	  DCERPC_IFACE_NETLOGON, "netlogon", OPS(netlogon_ops) },
	{ { 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0xab, 0xcd,
	    0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab },
	  DCERPC_IFACE_SPOOLSS, "spoolss", OPS(spoolss_ops) },
	{ { 0xc6, 0x81, 0xd4, 0x88, 0xd8, 0x50, 0x11, 0xd0,
	    0x8c, 0x52, 0x00, 0xc0, 0x4f, 0xd9, 0x0f, 0x7e },
	  DCERPC_IFACE_EFSR, "efsrpc", OPS(efsr_ops) },
	{ { 0xdf, 0x19, 0x41, 0xc5, 0xfe, 0x89, 0x4e, 0x79,
	    0xbf, 0x10, 0x46, 0x36, 0x57, 0xac, 0xf4, 0x4d },
	  DCERPC_IFACE_EFSR, "efsr", OPS(efsr_ops) },
	/* MS-DCOM calls it IRemoteSCMActivator; Windows headers and
	 * dissectors call the same IID ISystemActivator. */
	{ { 0x00, 0x00, 0x01, 0xa0, 0x00, 0x00, 0x00, 0x00,
	    0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 },
	  DCERPC_IFACE_SCM_ACTIVATOR, "IRemoteSCMActivator",
	  OPS(scm_activator_ops) },
	{ { 0x4d, 0x9f, 0x4a, 0xb8, 0x7d, 0x1c, 0x11, 0xcf,
	    0x86, 0x1e, 0x00, 0x20, 0xaf, 0x6e, 0x7c, 0x57 },
	  DCERPC_IFACE_IACTIVATION, "IActivation", OPS(iactivation_ops) },
	{ { 0x99, 0xfc, 0xfe, 0xc4, 0x52, 0x60, 0x10, 0x1b,
	    0xbb, 0xcb, 0x00, 0xaa, 0x00, 0x21, 0x34, 0x7a },
	  DCERPC_IFACE_OTHER, "IOXIDResolver", OPS(oxid_ops) },
	{ { 0x00, 0x00, 0x01, 0x31, 0x00, 0x00, 0x00, 0x00,
	    0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 },
	  DCERPC_IFACE_OTHER, "IRemUnknown", OPS(remunknown_ops) },
	{ { 0x00, 0x00, 0x01, 0x43, 0x00, 0x00, 0x00, 0x00,
	    0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 },
	  DCERPC_IFACE_OTHER, "IRemUnknown2", OPS(remunknown_ops) },
	{ { 0xf3, 0x09, 0xad, 0x18, 0xd8, 0x6a, 0x11, 0xd0,
	    0xa0, 0x75, 0x00, 0xc0, 0x4f, 0xb6, 0x88, 0x20 },
	  DCERPC_IFACE_OTHER, "IWbemLevel1Login", OPS(wbem_login_ops) },
	{ { 0x95, 0x56, 0xdc, 0x99, 0x82, 0x8c, 0x11, 0xcf,
	    0xa3, 0x7e, 0x00, 0xaa, 0x00, 0x32, 0x40, 0xc7 },
	  DCERPC_IFACE_OTHER, "IWbemServices", OPS(wbem_services_ops) },
	{ { 0x76, 0xf0, 0x3f, 0x96, 0xcd, 0xfd, 0x44, 0xfc,
	    0xa2, 0x2c, 0x64, 0x95, 0x0a, 0x00, 0x12, 0x09 },
	  DCERPC_IFACE_OTHER, "IRemoteWinspool", OPS(winspool_ops) },
	{ { 0x82, 0x27, 0x3f, 0xdc, 0xe3, 0x2a, 0x18, 0xc3,
	    0x3f, 0x78, 0x82, 0x79, 0x29, 0xdc, 0x23, 0xea },
	  DCERPC_IFACE_OTHER, "eventlog", OPS(eventlog_ops) },
	{ { 0xf6, 0xbe, 0xaf, 0xf7, 0x1e, 0x19, 0x4f, 0xbb,
	    0x9f, 0x8f, 0xb8, 0x9e, 0x20, 0x18, 0x33, 0x7c },
	  DCERPC_IFACE_OTHER, "IEventService", OPS(even6_ops) },
	{ { 0x89, 0x4d, 0xe0, 0xc0, 0x0d, 0x55, 0x11, 0xd3,
	    0xa3, 0x22, 0x00, 0xc0, 0x4f, 0xa3, 0x21, 0xa1 },
	  DCERPC_IFACE_OTHER, "InitShutdown", OPS(initshutdown_ops) },
	{ { 0xd9, 0x5a, 0xfe, 0x70, 0xa6, 0xd5, 0x42, 0x59,
	    0x82, 0x2e, 0x2c, 0x84, 0xda, 0x1d, 0xdb, 0x0d },
	  DCERPC_IFACE_OTHER, "WindowsShutdown", OPS(windowsshutdown_ops) },
	{ { 0x12, 0xb8, 0x1e, 0x99, 0xf2, 0x07, 0x4a, 0x4c,
	    0x85, 0xd3, 0x77, 0xb4, 0x2f, 0x76, 0xfd, 0x14 },
	  DCERPC_IFACE_OTHER, "ISecLogon", OPS(seclogon_ops) },
	{ { 0x3d, 0xde, 0x7c, 0x30, 0x16, 0x5d, 0x11, 0xd1,
	    0xab, 0x8f, 0x00, 0x80, 0x5f, 0x14, 0xdb, 0x40 },
	  DCERPC_IFACE_OTHER, "BackupKey", OPS(bkrp_ops) },
};

const struct dcerpc_iface_info *
dcerpc_iface_lookup(const uint8_t uuid[16])
{
	size_t i;

	for (i = 0; i < sizeof(dcerpc_ifaces) / sizeof(dcerpc_ifaces[0]); i++)
		if (memcmp(dcerpc_ifaces[i].uuid, uuid, 16) == 0)
			return &dcerpc_ifaces[i];
	return NULL;
}

const char *
dcerpc_interface_name(const uint8_t uuid[16])
{
	const struct dcerpc_iface_info *info;

	if (uuid == NULL)
		return NULL;
	info = dcerpc_iface_lookup(uuid);
	return info != NULL ? info->name : NULL;
}

const char *
dcerpc_operation_name(const uint8_t uuid[16], uint16_t opnum)
{
	const struct dcerpc_iface_info *info;

	if (uuid == NULL)
		return NULL;
	info = dcerpc_iface_lookup(uuid);
	if (info == NULL || opnum >= info->op_count)
		return NULL;
	return info->ops[opnum];
}

enum dcerpc_decoder
dcerpc_decoder_for(const uint8_t uuid[16], uint16_t opnum)
{
	const struct dcerpc_iface_info *info;

	info = dcerpc_iface_lookup(uuid);
	if (info == NULL)
		return DCERPC_DEC_NONE;
	switch (info->id) {
	case DCERPC_IFACE_SVCCTL:
		switch (opnum) {
		case 11:
			return DCERPC_DEC_CHANGE_SERVICE_W;
		case 12:	/* CreateServiceW */
		case 45:	/* CreateServiceWOW64W */
		case 60:	/* CreateWowService */
			return DCERPC_DEC_CREATE_SERVICE_W;
		case 23:
			return DCERPC_DEC_CHANGE_SERVICE_A;
		case 16:
			return DCERPC_DEC_OPEN_SERVICE_W;
		case 28:
			return DCERPC_DEC_OPEN_SERVICE_A;
		case 24:	/* CreateServiceA */
		case 44:	/* CreateServiceWOW64A */
			return DCERPC_DEC_CREATE_SERVICE_A;
		default:
			return DCERPC_DEC_NONE;
		}
	case DCERPC_IFACE_ATSVC:
		return opnum == 0 ? DCERPC_DEC_JOB_ADD : DCERPC_DEC_NONE;
	case DCERPC_IFACE_TSCH:
		if (opnum == 1)
			return DCERPC_DEC_TASK_REGISTER;
		if (opnum == 12)
			return DCERPC_DEC_TASK_RUN;
		return DCERPC_DEC_NONE;
	default:
		return dcerpc_stub_decoder_for(info, opnum);
	}
}

int
dcerpc_name_lookup(const char *iface, const char *op, uint8_t uuid[16],
		   uint16_t *opnum)
{
	size_t i;
	uint16_t n;

	if (iface == NULL)
		return -ENOENT;
	for (i = 0; i < sizeof(dcerpc_ifaces) / sizeof(dcerpc_ifaces[0]); i++) {
		const struct dcerpc_iface_info *info = &dcerpc_ifaces[i];

		if (strcmp(info->name, iface) != 0)
			continue;
		if (op == NULL) {
			memcpy(uuid, info->uuid, 16);
			return 0;
		}
		for (n = 0; n < info->op_count; n++)
			if (info->ops[n] != NULL && strcmp(info->ops[n], op) == 0) {
				memcpy(uuid, info->uuid, 16);
				if (opnum != NULL)
					*opnum = n;
				return 0;
			}
	}
	return -ENOENT;
}

char *
dcerpc_uuid_format(const uint8_t uuid[16], char buf[37])
{
	snprintf(buf, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5],
		 uuid[6], uuid[7], uuid[8], uuid[9], uuid[10], uuid[11],
		 uuid[12], uuid[13], uuid[14], uuid[15]);
	return buf;
}
