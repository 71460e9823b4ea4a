/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * NDR (C706 chapter 14, little-endian transfer syntax) decoding of the
 * request arguments of calls that launch code: the service binary path of
 * svcctl CreateService* / ChangeServiceConfig* and the name of the service
 * OpenService* opens for them, the atsvc job command and
 * the task path of ITaskSchedulerService. Only the leading arguments are
 * decoded, so a stub cut by the body buffer still yields what fits.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dcerpc.h"
#include "dcerpc_ndr_reader.h"
#include "dcerpc_pvt.h"
#include "utf8.h"

/* SC_RPC_HANDLE / context handles are 20 bytes on the wire. */
#define NDR_CONTEXT_HANDLE_LEN 20

/*
 * RCreateServiceW / A and the WOW64 variants share the leading arguments:
 * hSCManager, lpServiceName (ref string), lpDisplayName (unique string),
 * dwDesiredAccess, dwServiceType, dwStartType, dwErrorControl,
 * lpBinaryPathName (ref string).
 */
static void
decode_create_service(struct ndr_reader *r, size_t char_size,
		      struct dcerpc_fact *fact, bool *cut)
{
	char display[DCERPC_ARG_NAME_MAX];
	bool display_cut = false;

	fact->args = DCERPC_ARGS_SERVICE;
	if (!ndr_skip(r, NDR_CONTEXT_HANDLE_LEN) ||
	    !ndr_string(r, char_size, fact->name, sizeof(fact->name), cut))
		goto short_read;
	/* The display name is not reported; cutting it loses nothing. */
	if (!ndr_unique_string(r, char_size, display, sizeof(display),
			       &display_cut) ||
	    !ndr_align(r, 4) || !ndr_skip(r, 16))
		goto short_read;
	ndr_string(r, char_size, fact->command, sizeof(fact->command), cut);
	return;
short_read:
	if (r->short_read)
		*cut = true;
}

/*
 * RChangeServiceConfigW / A: hService, dwServiceType, dwStartType,
 * dwErrorControl, lpBinaryPathName (unique string).
 */
static void
decode_change_service(struct ndr_reader *r, size_t char_size,
		      struct dcerpc_fact *fact, bool *cut)
{
	fact->args = DCERPC_ARGS_SERVICE;
	if (!ndr_skip(r, NDR_CONTEXT_HANDLE_LEN) || !ndr_skip(r, 12)) {
		*cut = true;
		return;
	}
	ndr_unique_string(r, char_size, fact->command, sizeof(fact->command),
			  cut);
}

/*
 * ROpenServiceW / A: hSCManager, lpServiceName (ref string),
 * dwDesiredAccess. The name is what a later ChangeServiceConfig* or
 * StartService* on the returned handle acts on: those carry only the
 * handle.
 */
static void
decode_open_service(struct ndr_reader *r, size_t char_size,
		    struct dcerpc_fact *fact, bool *cut)
{
	fact->args = DCERPC_ARGS_SERVICE;
	if (!ndr_skip(r, NDR_CONTEXT_HANDLE_LEN)) {
		*cut = true;
		return;
	}
	ndr_string(r, char_size, fact->name, sizeof(fact->name), cut);
}

/*
 * NetrJobAdd: ServerName (unique string), then AT_INFO { JobTime,
 * DaysOfMonth, DaysOfWeek, Flags, Command (unique string, deferred after
 * the structure) }.
 */
static void
decode_job_add(struct ndr_reader *r, struct dcerpc_fact *fact, bool *cut)
{
	char server[DCERPC_ARG_NAME_MAX];
	bool server_cut = false;
	uint32_t referent;

	fact->args = DCERPC_ARGS_JOB;
	if (!ndr_unique_string(r, 2, server, sizeof(server), &server_cut) ||
	    !ndr_align(r, 4) || !ndr_skip(r, 4 + 4 + 1 + 1) ||
	    !ndr_u32(r, &referent)) {
		*cut = true;
		return;
	}
	if (referent != 0)
		ndr_string(r, 2, fact->command, sizeof(fact->command), cut);
}

static void
decode_task_register(struct ndr_reader *r, struct dcerpc_fact *fact,
		     bool *cut)
{
	fact->args = DCERPC_ARGS_TASK;
	ndr_unique_string(r, 2, fact->name, sizeof(fact->name), cut);
}

static void
decode_task_run(struct ndr_reader *r, struct dcerpc_fact *fact, bool *cut)
{
	fact->args = DCERPC_ARGS_TASK;
	ndr_string(r, 2, fact->name, sizeof(fact->name), cut);
}

int
dcerpc_decode_args(enum dcerpc_decoder decoder, const uint8_t *stub,
		   size_t len, bool complete, struct dcerpc_fact *fact)
{
	struct ndr_reader r = { .buf = stub, .len = len };
	bool cut = false;

	fact->name[0] = '\0';
	fact->command[0] = '\0';
	switch (decoder) {
	case DCERPC_DEC_CREATE_SERVICE_W:
		decode_create_service(&r, 2, fact, &cut);
		break;
	case DCERPC_DEC_CREATE_SERVICE_A:
		decode_create_service(&r, 1, fact, &cut);
		break;
	case DCERPC_DEC_CHANGE_SERVICE_W:
		decode_change_service(&r, 2, fact, &cut);
		break;
	case DCERPC_DEC_CHANGE_SERVICE_A:
		decode_change_service(&r, 1, fact, &cut);
		break;
	case DCERPC_DEC_OPEN_SERVICE_W:
		decode_open_service(&r, 2, fact, &cut);
		break;
	case DCERPC_DEC_OPEN_SERVICE_A:
		decode_open_service(&r, 1, fact, &cut);
		break;
	case DCERPC_DEC_JOB_ADD:
		decode_job_add(&r, fact, &cut);
		break;
	case DCERPC_DEC_TASK_REGISTER:
		decode_task_register(&r, fact, &cut);
		break;
	case DCERPC_DEC_TASK_RUN:
		decode_task_run(&r, fact, &cut);
		break;
	default:
		return dcerpc_decode_stub(decoder, stub, len, complete, fact);
	}
	if (cut)
		fact->flags |= DCERPC_FACT_F_ARGS_TRUNCATED;
	/* Running out of a complete stub means it was not this encoding. */
	return ndr_reader_status(&r, complete);
}

/* Appends code point <cp> as UTF-8 if it fits before the final NUL. */
static bool
utf8_put(char *out, size_t out_size, size_t *pos, uint32_t cp)
{
	return utf8_append(out, out_size, pos, cp);
}

#define UTF8_REPLACEMENT 0xfffd

bool
dcerpc_utf16le_to_utf8(const uint8_t *in, size_t len, char *out,
		       size_t out_size)
{
	size_t i = 0, pos = 0;
	bool fit = true;

	while (i + 1 < len) {
		uint32_t cp = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;

		i += 2;
		if (cp == 0)
			break;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			uint32_t lo = 0;

			if (i + 1 < len)
				lo = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				i += 2;
			} else {
				cp = UTF8_REPLACEMENT;
			}
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cp = UTF8_REPLACEMENT;
		}
		if (!utf8_put(out, out_size, &pos, cp)) {
			fit = false;
			break;
		}
	}
	out[pos] = '\0';
	return fit;
}

/*
 * Decodes the entity at <s> (which starts with '&') into <enc>. Returns the
 * length of the entity and sets *enc_len, or returns 0 if <s> does not
 * start an entity we know.
 */
static size_t
xml_entity(const char *s, char enc[5], size_t *enc_len)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	uint32_t cp = 0;
	size_t i, n;
	int hex;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		n = strlen(named[i].name);
		if (strncmp(s, named[i].name, n) == 0) {
			enc[0] = named[i].c;
			*enc_len = 1;
			return n;
		}
	}
	if (s[1] != '#')
		return 0;
	hex = s[2] == 'x' || s[2] == 'X';
	for (n = hex ? 3 : 2; s[n] != ';'; n++) {
		int digit;

		if (s[n] >= '0' && s[n] <= '9')
			digit = s[n] - '0';
		else if (hex && s[n] >= 'a' && s[n] <= 'f')
			digit = s[n] - 'a' + 10;
		else if (hex && s[n] >= 'A' && s[n] <= 'F')
			digit = s[n] - 'A' + 10;
		else
			return 0;
		cp = cp * (hex ? 16 : 10) + (uint32_t)digit;
		if (cp > 0x10ffff)
			cp = 0x110000;	/* stays invalid, no overflow */
	}
	if (n == (size_t)(hex ? 3 : 2))
		return 0;
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = UTF8_REPLACEMENT;
	*enc_len = 0;
	utf8_put(enc, 5, enc_len, cp);
	return n + 1;
}

bool
dcerpc_xml_text_to_utf8(const uint8_t *in, size_t len, char *out,
			size_t out_size)
{
	bool fit = dcerpc_utf16le_to_utf8(in, len, out, out_size);
	size_t r = 0, w = 0;

	/* Every entity is longer than the UTF-8 it stands for, so the text
	 * is rewritten in place. */
	while (out[r] != '\0') {
		char enc[5];
		size_t enc_len, n = 0;

		if (out[r] == '&')
			n = xml_entity(out + r, enc, &enc_len);
		if (n == 0) {
			out[w++] = out[r++];
			continue;
		}
		memcpy(out + w, enc, enc_len);
		w += enc_len;
		r += n;
	}
	out[w] = '\0';
	return fit;
}

bool
dcerpc_ascii_to_utf8(const uint8_t *in, size_t len, char *out,
		     size_t out_size)
{
	size_t i, pos = 0;
	bool fit = true;

	for (i = 0; i < len && in[i] != 0; i++) {
		uint32_t cp = in[i] < 0x80 ? in[i] : UTF8_REPLACEMENT;

		if (!utf8_put(out, out_size, &pos, cp)) {
			fit = false;
			break;
		}
	}
	out[pos] = '\0';
	return fit;
}
