/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef SMBGW_DCERPC_PVT_H
#define SMBGW_DCERPC_PVT_H

/* Shared by the DCE/RPC stream parser, name tables and NDR decoders. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcerpc.h"

/* Interfaces whose operations the parser treats specially. */
enum dcerpc_iface_id {
	DCERPC_IFACE_OTHER = 0,
	DCERPC_IFACE_SVCCTL,
	DCERPC_IFACE_ATSVC,
	DCERPC_IFACE_TSCH,
	/* Interfaces whose request stubs dcerpc_stubs.c decodes. */
	DCERPC_IFACE_WINREG,
	DCERPC_IFACE_NETLOGON,
	DCERPC_IFACE_SPOOLSS,
	DCERPC_IFACE_EFSR,
	DCERPC_IFACE_SCM_ACTIVATOR,
	DCERPC_IFACE_IACTIVATION,
};

/* NDR argument decoders, one per request layout. */
enum dcerpc_decoder {
	DCERPC_DEC_NONE = 0,
	/* svcctl CreateServiceW / WOW64W / CreateWowService (UTF-16). */
	DCERPC_DEC_CREATE_SERVICE_W,
	/* svcctl CreateServiceA / WOW64A (8-bit strings). */
	DCERPC_DEC_CREATE_SERVICE_A,
	/* svcctl ChangeServiceConfigW. */
	DCERPC_DEC_CHANGE_SERVICE_W,
	/* svcctl ChangeServiceConfigA. */
	DCERPC_DEC_CHANGE_SERVICE_A,
	/* svcctl OpenServiceW. */
	DCERPC_DEC_OPEN_SERVICE_W,
	/* svcctl OpenServiceA. */
	DCERPC_DEC_OPEN_SERVICE_A,
	/* atsvc NetrJobAdd. */
	DCERPC_DEC_JOB_ADD,
	/* ITaskSchedulerService SchRpcRegisterTask. */
	DCERPC_DEC_TASK_REGISTER,
	/* ITaskSchedulerService SchRpcRun. */
	DCERPC_DEC_TASK_RUN,
	/* Responses that name endpoints (dcerpc_epm.h): ept_map towers. */
	DCERPC_DEC_LEARN_EPM,
	/* DCOM answers carrying string bindings (DUALSTRINGARRAY). */
	DCERPC_DEC_LEARN_DCOM,
	/* The decoders below are in dcerpc_stubs.c. */
	/* IRemoteSCMActivator RemoteCreateInstance / RemoteGetClassObject,
	 * IActivation RemoteActivation: known CLSIDs in the stub. */
	DCERPC_DEC_DCOM_ACTIVATION,
	/* netlogon NetrServerReqChallenge. */
	DCERPC_DEC_NETLOGON_CHALLENGE,
	/* netlogon NetrServerAuthenticate / 2 / 3. */
	DCERPC_DEC_NETLOGON_AUTHENTICATE,
	/* spoolss RpcRemoteFindFirstPrinterChangeNotification[Ex]. */
	DCERPC_DEC_PRINTER_NOTIFY,
	/* efsrpc calls whose first argument is a file name. */
	DCERPC_DEC_EFS_FILE,
	/* winreg BaseRegOpenKey / BaseRegCreateKey. */
	DCERPC_DEC_REG_OPEN_KEY,
	/* winreg BaseRegSetValue. */
	DCERPC_DEC_REG_SET_VALUE,
	/* winreg BaseRegSaveKey / BaseRegSaveKeyEx. */
	DCERPC_DEC_REG_SAVE_KEY,
};

/*
 * Returns the endpoint reader for the response to operation <opnum> of
 * interface <uuid>: DCERPC_DEC_LEARN_EPM for ept_map,
 * DCERPC_DEC_LEARN_DCOM for IObjectExporter ResolveOxid, ResolveOxid2 and
 * ServerAlive2 and ISystemActivator RemoteGetClassObject and
 * RemoteCreateInstance, else DCERPC_DEC_NONE.
 */
enum dcerpc_decoder
dcerpc_learner_for(const uint8_t uuid[16], uint16_t opnum);

/* A named interface and the names of its operations. */
struct dcerpc_iface_info {
	uint8_t uuid[16];
	enum dcerpc_iface_id id;
	const char *name;
	/* Operation names indexed by opnum; NULL entries are unnamed. */
	const char *const *ops;
	uint16_t op_count;
};

/*
 * Returns the table entry of interface <uuid> (textual byte order), or NULL
 * if the interface is not named.
 */
const struct dcerpc_iface_info *
dcerpc_iface_lookup(const uint8_t uuid[16]);

/*
 * Returns the argument decoder for operation <opnum> of interface <uuid>, or
 * DCERPC_DEC_NONE when the call does not launch code.
 */
enum dcerpc_decoder
dcerpc_decoder_for(const uint8_t uuid[16], uint16_t opnum);

/*
 * The decoder of dcerpc_stubs.c for operation <opnum> of interface <info>,
 * or DCERPC_DEC_NONE.
 */
enum dcerpc_decoder
dcerpc_stub_decoder_for(const struct dcerpc_iface_info *info, uint16_t opnum);

/*
 * As dcerpc_decode_args(), for the decoders of dcerpc_stubs.c; returns 0
 * for any other decoder.
 */
int
dcerpc_decode_stub(enum dcerpc_decoder decoder, const uint8_t *stub,
		   size_t len, bool complete, struct dcerpc_fact *fact);

/*
 * Decodes the NDR request stub <stub>[0..len) of a call with <decoder> into
 * fact->args, fact->name and fact->command. <complete> says whether <len>
 * is the whole stub or only the part that fit the body buffer.
 *
 * Returns 0 when all wanted arguments were decoded, -ENOSPC when the stub
 * ended early because it was cut by the buffer (what was decoded is kept),
 * or -EBADMSG when the stub is not the operation's NDR encoding.
 */
int
dcerpc_decode_args(enum dcerpc_decoder decoder, const uint8_t *stub,
		   size_t len, bool complete, struct dcerpc_fact *fact);

/*
 * Converts <len> bytes of little-endian UTF-16 to NUL-terminated UTF-8 in
 * <out> of <out_size> bytes (at least 1), stopping at the first NUL
 * character. Unpaired surrogates become U+FFFD; an odd trailing byte is
 * ignored. Returns false if the output was cut to fit <out_size>.
 */
bool
dcerpc_utf16le_to_utf8(const uint8_t *in, size_t len, char *out,
		       size_t out_size);

/*
 * Converts <len> bytes of little-endian UTF-16 XML character data to
 * NUL-terminated UTF-8 in <out> of <out_size> bytes (at least 1), as
 * dcerpc_utf16le_to_utf8() does, then replaces the entities &lt; &gt;
 * &amp; &quot; &apos; and &#N; / &#xN; by the characters they stand for
 * (U+FFFD for a reference to a code point that is not a character).
 * Returns false if the output was cut to fit <out_size>.
 */
bool
dcerpc_xml_text_to_utf8(const uint8_t *in, size_t len, char *out,
			size_t out_size);

/*
 * Converts <len> bytes of 8-bit text to NUL-terminated UTF-8 in <out> of
 * <out_size> bytes (at least 1), stopping at the first NUL. Bytes above
 * 0x7f (code page dependent) become U+FFFD. Returns false if the output
 * was cut to fit <out_size>.
 */
bool
dcerpc_ascii_to_utf8(const uint8_t *in, size_t len, char *out,
		     size_t out_size);

/* A little-endian wire UUID (C706 appendix A) in textual byte order. */
void
dcerpc_uuid_from_wire(uint8_t out[16], const uint8_t *wire);

#endif /* SMBGW_DCERPC_PVT_H */
