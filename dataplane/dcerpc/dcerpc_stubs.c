/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Request arguments that tell credential theft and forced authentication
 * apart from ordinary use of the same operations: the class a DCOM
 * activation asks for, the Netlogon client challenge / credential
 * (Zerologon sends zeros), the host a print or EFS call makes the server
 * reach (PetitPotam, the printer bug), and the registry key and value of
 * a remote registry write. Only the leading arguments are read, so a stub
 * cut by the body buffer still yields what fits; a sealed stub yields
 * nothing (dcerpc.c does not call these then).
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dcerpc.h"
#include "dcerpc_ndr_reader.h"
#include "dcerpc_pvt.h"

/* Context handles (policy handles, printer handles, HKEYs) on the wire. */
#define CONTEXT_HANDLE_LEN	20
/* NETLOGON_CREDENTIAL and the client challenge. */
#define NETLOGON_CREDENTIAL_LEN	8
/* winreg value types whose data is UTF-16 text. */
#define REG_SZ			1
#define REG_EXPAND_SZ		2

/*
 * DCOM classes whose remote activation is a known way to run code
 * (MS-DCOM activation naming them): textual CLSID and name.
 */
static const struct dcom_class {
	uint8_t clsid[16];
	const char *name;
} dcom_classes[] = {
	/* 8bc3f05e-d86b-11d0-a075-00c04fb68820: WMI's entry point. */
	{ { 0x8b, 0xc3, 0xf0, 0x5e, 0xd8, 0x6b, 0x11, 0xd0,
	    0xa0, 0x75, 0x00, 0xc0, 0x4f, 0xb6, 0x88, 0x20 },
	  "WbemLevel1Login" },
	/* 49b2791a-b1ae-4c90-9b8e-e860ba07f889 */
	{ { 0x49, 0xb2, 0x79, 0x1a, 0xb1, 0xae, 0x4c, 0x90,
	    0x9b, 0x8e, 0xe8, 0x60, 0xba, 0x07, 0xf8, 0x89 },
	  "MMC20.Application" },
	/* 9ba05972-f6a8-11cf-a442-00a0c90a8f39 */
	{ { 0x9b, 0xa0, 0x59, 0x72, 0xf6, 0xa8, 0x11, 0xcf,
	    0xa4, 0x42, 0x00, 0xa0, 0xc9, 0x0a, 0x8f, 0x39 },
	  "ShellWindows" },
	/* c08afd90-f2a1-11d1-8455-00a0c91f3880 */
	{ { 0xc0, 0x8a, 0xfd, 0x90, 0xf2, 0xa1, 0x11, 0xd1,
	    0x84, 0x55, 0x00, 0xa0, 0xc9, 0x1f, 0x38, 0x80 },
	  "ShellBrowserWindow" },
	/* 00024500-0000-0000-c000-000000000046 */
	{ { 0x00, 0x02, 0x45, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 },
	  "Excel.Application" },
};

/*
 * RRP_UNICODE_STRING (MS-RRP 2.2.4): Length, MaximumLength, unique pointer
 * to the characters, then (deferred, as it is the only pointer of the
 * structure and the structure is a top-level argument) the string.
 */
static bool
ndr_rrp_string(struct ndr_reader *r, char *out, size_t out_size, bool *cut)
{
	uint16_t length, max_length;

	out[0] = '\0';
	if (!ndr_u16(r, &length) || !ndr_u16(r, &max_length)) {
		*cut = true;
		return false;
	}
	return ndr_unique_string(r, 2, out, out_size, cut);
}

/*
 * An activation names its class once (InstantiationInfoData.classId of
 * RemoteCreateInstance, Clsid of RemoteActivation), among CLSIDs of
 * activation properties that are always the same; looking for the classes
 * we know anywhere in the stub needs no walk through the activation blob's
 * custom marshalling.
 */
static void
decode_dcom_activation(struct ndr_reader *r, struct dcerpc_fact *fact)
{
	size_t off, i;

	for (off = 0; off + 16 <= r->len; off++) {
		uint8_t uuid[16];

		for (i = 0; i < sizeof(dcom_classes) / sizeof(dcom_classes[0]);
		     i++) {
			/* The fourth wire byte is the first textual one:
			 * most offsets are ruled out without converting. */
			if (r->buf[off + 3] != dcom_classes[i].clsid[0])
				continue;
			dcerpc_uuid_from_wire(uuid, r->buf + off);
			if (memcmp(uuid, dcom_classes[i].clsid, 16) != 0)
				continue;
			fact->args = DCERPC_ARGS_DCOM_CLASS;
			dcerpc_uuid_format(uuid, fact->name);
			snprintf(fact->command, sizeof(fact->command), "%s",
				 dcom_classes[i].name);
			return;
		}
	}
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * The 8-byte challenge or credential that ends both Netlogon requests
 * below: all zero is Zerologon's (CVE-2020-1472) guess.
 */
static void
read_netlogon_credential(struct ndr_reader *r, struct dcerpc_fact *fact)
{
	if (r->len - r->off < NETLOGON_CREDENTIAL_LEN) {
		r->short_read = true;
		return;
	}
	if (all_zero(r->buf + r->off, NETLOGON_CREDENTIAL_LEN))
		fact->flags |= DCERPC_FACT_F_ZERO_CREDENTIAL;
	r->off += NETLOGON_CREDENTIAL_LEN;
}

/* NetrServerReqChallenge: PrimaryName, ComputerName, ClientChallenge. */
static void
decode_netlogon_challenge(struct ndr_reader *r, struct dcerpc_fact *fact,
			  bool *cut)
{
	char primary[DCERPC_ARG_NAME_MAX];
	bool primary_cut = false;

	fact->args = DCERPC_ARGS_NETLOGON;
	if (ndr_unique_string(r, 2, primary, sizeof(primary), &primary_cut) &&
	    ndr_string(r, 2, fact->name, sizeof(fact->name), cut))
		read_netlogon_credential(r, fact);
}

/*
 * NetrServerAuthenticate / 2 / 3: PrimaryName, AccountName,
 * SecureChannelType (an enum: 16 bits in NDR), ComputerName,
 * ClientCredential.
 */
static void
decode_netlogon_authenticate(struct ndr_reader *r, struct dcerpc_fact *fact,
			     bool *cut)
{
	char primary[DCERPC_ARG_NAME_MAX];
	bool primary_cut = false;
	uint16_t channel;

	fact->args = DCERPC_ARGS_NETLOGON;
	if (ndr_unique_string(r, 2, primary, sizeof(primary), &primary_cut) &&
	    ndr_string(r, 2, fact->command, sizeof(fact->command), cut) &&
	    ndr_u16(r, &channel) &&
	    ndr_string(r, 2, fact->name, sizeof(fact->name), cut))
		read_netlogon_credential(r, fact);
}

/*
 * RpcRemoteFindFirstPrinterChangeNotification[Ex]: hPrinter, fdwFlags,
 * fdwOptions, pszLocalMachine: the client the server will call back.
 */
static void
decode_printer_notify(struct ndr_reader *r, struct dcerpc_fact *fact,
		      bool *cut)
{
	fact->args = DCERPC_ARGS_UNC;
	if (!ndr_skip(r, CONTEXT_HANDLE_LEN + 8))
		return;
	ndr_unique_string(r, 2, fact->name, sizeof(fact->name), cut);
}

/* EfsRpcOpenFileRaw, EfsRpcEncryptFileSrv, ...: FileName comes first. */
static void
decode_efs_file(struct ndr_reader *r, struct dcerpc_fact *fact, bool *cut)
{
	fact->args = DCERPC_ARGS_UNC;
	ndr_string(r, 2, fact->name, sizeof(fact->name), cut);
}

/* BaseRegOpenKey / BaseRegCreateKey: hKey, lpSubKey. */
static void
decode_reg_open_key(struct ndr_reader *r, struct dcerpc_fact *fact,
		    bool *cut)
{
	fact->args = DCERPC_ARGS_REGISTRY;
	if (!ndr_skip(r, CONTEXT_HANDLE_LEN))
		return;
	ndr_rrp_string(r, fact->name, sizeof(fact->name), cut);
}

/*
 * BaseRegSetValue: hKey, lpValueName, dwType, lpData (conformant byte
 * array), cbData. Text data (REG_SZ, REG_EXPAND_SZ) goes to command: what
 * an autostart entry would run.
 */
static void
decode_reg_set_value(struct ndr_reader *r, struct dcerpc_fact *fact,
		     bool *cut)
{
	uint32_t type, count;
	size_t take;

	fact->args = DCERPC_ARGS_REGISTRY;
	if (!ndr_skip(r, CONTEXT_HANDLE_LEN) ||
	    !ndr_rrp_string(r, fact->name, sizeof(fact->name), cut) ||
	    !ndr_u32(r, &type) || !ndr_u32(r, &count))
		return;
	if (type != REG_SZ && type != REG_EXPAND_SZ)
		return;
	take = count < r->len - r->off ? count : r->len - r->off;
	if (!dcerpc_utf16le_to_utf8(r->buf + r->off, take, fact->command,
				    sizeof(fact->command)))
		*cut = true;
	if (take < count) {
		*cut = true;
		r->short_read = true;
		r->off = r->len;
		return;
	}
	r->off += take;
}

/* BaseRegSaveKey / BaseRegSaveKeyEx: hKey, lpFile. */
static void
decode_reg_save_key(struct ndr_reader *r, struct dcerpc_fact *fact,
		    bool *cut)
{
	fact->args = DCERPC_ARGS_REGISTRY;
	if (!ndr_skip(r, CONTEXT_HANDLE_LEN))
		return;
	ndr_rrp_string(r, fact->name, sizeof(fact->name), cut);
}

enum dcerpc_decoder
dcerpc_stub_decoder_for(const struct dcerpc_iface_info *info, uint16_t opnum)
{
	if (info == NULL)
		return DCERPC_DEC_NONE;
	switch (info->id) {
	case DCERPC_IFACE_SCM_ACTIVATOR:
		/* RemoteGetClassObject, RemoteCreateInstance */
		return opnum == 3 || opnum == 4 ? DCERPC_DEC_DCOM_ACTIVATION :
						  DCERPC_DEC_NONE;
	case DCERPC_IFACE_IACTIVATION:
		return opnum == 0 ? DCERPC_DEC_DCOM_ACTIVATION :
				    DCERPC_DEC_NONE;
	case DCERPC_IFACE_NETLOGON:
		if (opnum == 4)
			return DCERPC_DEC_NETLOGON_CHALLENGE;
		if (opnum == 5 || opnum == 15 || opnum == 26)
			return DCERPC_DEC_NETLOGON_AUTHENTICATE;
		return DCERPC_DEC_NONE;
	case DCERPC_IFACE_SPOOLSS:
		return opnum == 62 || opnum == 65 ? DCERPC_DEC_PRINTER_NOTIFY :
						    DCERPC_DEC_NONE;
	case DCERPC_IFACE_EFSR:
		switch (opnum) {
		case 0: case 4: case 5: case 6: case 7: case 12: case 13:
			return DCERPC_DEC_EFS_FILE;
		default:
			return DCERPC_DEC_NONE;
		}
	case DCERPC_IFACE_WINREG:
		switch (opnum) {
		case 6:		/* BaseRegCreateKey */
		case 15:	/* BaseRegOpenKey */
			return DCERPC_DEC_REG_OPEN_KEY;
		case 22:
			return DCERPC_DEC_REG_SET_VALUE;
		case 20:	/* BaseRegSaveKey */
		case 31:	/* BaseRegSaveKeyEx */
			return DCERPC_DEC_REG_SAVE_KEY;
		default:
			return DCERPC_DEC_NONE;
		}
	default:
		return DCERPC_DEC_NONE;
	}
}

int
dcerpc_decode_stub(enum dcerpc_decoder decoder, const uint8_t *stub,
		   size_t len, bool complete, struct dcerpc_fact *fact)
{
	struct ndr_reader r = { .buf = stub, .len = len };
	bool cut = false;

	switch (decoder) {
	case DCERPC_DEC_DCOM_ACTIVATION:
		/* A class not found in a cut stub may lie beyond the cut. */
		decode_dcom_activation(&r, fact);
		if (fact->args == DCERPC_ARGS_NONE && !complete)
			fact->flags |= DCERPC_FACT_F_ARGS_TRUNCATED;
		return 0;
	case DCERPC_DEC_NETLOGON_CHALLENGE:
		decode_netlogon_challenge(&r, fact, &cut);
		break;
	case DCERPC_DEC_NETLOGON_AUTHENTICATE:
		decode_netlogon_authenticate(&r, fact, &cut);
		break;
	case DCERPC_DEC_PRINTER_NOTIFY:
		decode_printer_notify(&r, fact, &cut);
		break;
	case DCERPC_DEC_EFS_FILE:
		decode_efs_file(&r, fact, &cut);
		break;
	case DCERPC_DEC_REG_OPEN_KEY:
		decode_reg_open_key(&r, fact, &cut);
		break;
	case DCERPC_DEC_REG_SET_VALUE:
		decode_reg_set_value(&r, fact, &cut);
		break;
	case DCERPC_DEC_REG_SAVE_KEY:
		decode_reg_save_key(&r, fact, &cut);
		break;
	default:
		return 0;
	}
	if (cut || r.short_read)
		fact->flags |= DCERPC_FACT_F_ARGS_TRUNCATED;
	/* Running out of a complete stub means it was not this encoding. */
	return ndr_reader_status(&r, complete);
}
