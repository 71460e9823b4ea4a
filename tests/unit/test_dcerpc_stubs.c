/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DCE/RPC request arguments of dataplane/dcerpc/dcerpc_stubs.c, fed through
 * the stream parser as the wire carries them (Impacket's NDR layout): the
 * DCOM class of an activation, the Netlogon zero challenge / credential,
 * the UNC host of printer-notify and EFS calls, winreg keys and values;
 * cut and malformed stubs; sealed requests flagged whatever the call.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcerpc.h"

#define MAX_FACTS 16

static struct {
	unsigned int count;
	struct dcerpc_fact facts[MAX_FACTS];
} rec;
static struct dcerpc_conn conn;

static void
record(void *ctx, const struct dcerpc_fact *fact)
{
	(void)ctx;
	if (rec.count < MAX_FACTS)
		rec.facts[rec.count] = *fact;
	rec.count++;
}

static int
setup(void **state)
{
	(void)state;
	memset(&rec, 0, sizeof(rec));
	dcerpc_conn_init(&conn);
	return 0;
}

struct wbuf {
	uint8_t data[4096];
	size_t len;
};

static void
put8(struct wbuf *b, uint8_t v)
{
	assert_true(b->len < sizeof(b->data));
	b->data[b->len++] = v;
}

static void
put16(struct wbuf *b, uint16_t v)
{
	put8(b, (uint8_t)v);
	put8(b, (uint8_t)(v >> 8));
}

static void
put32(struct wbuf *b, uint32_t v)
{
	put16(b, (uint16_t)v);
	put16(b, (uint16_t)(v >> 16));
}

static void
put_bytes(struct wbuf *b, const void *p, size_t n)
{
	assert_true(b->len + n <= sizeof(b->data));
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* Non-zero padding, to catch reads of it. */
static void
put_align(struct wbuf *b, size_t n)
{
	while (b->len % n != 0)
		put8(b, 0xaa);
}

static void
put_uuid(struct wbuf *b, const uint8_t uuid[16])
{
	static const uint8_t order[16] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15,
	};
	unsigned int i;

	for (i = 0; i < 16; i++)
		put8(b, uuid[order[i]]);
}

/* Conformant varying UTF-16 string with its NUL. */
static void
put_wstring(struct wbuf *b, const char *s)
{
	size_t i, n = strlen(s);

	put_align(b, 4);
	put32(b, (uint32_t)n + 1);
	put32(b, 0);
	put32(b, (uint32_t)n + 1);
	for (i = 0; i < n; i++)
		put16(b, (uint8_t)s[i]);
	put16(b, 0);
}

static void
put_unique_wstring(struct wbuf *b, const char *s)
{
	put_align(b, 4);
	put32(b, 0x00020000);
	put_wstring(b, s);
}

/* RRP_UNICODE_STRING and its deferred characters. */
static void
put_rrp_string(struct wbuf *b, const char *s)
{
	uint16_t bytes = (uint16_t)((strlen(s) + 1) * 2);

	put_align(b, 4);
	put16(b, bytes);
	put16(b, bytes);
	put32(b, 0x00020000);
	put_wstring(b, s);
}

static void
put_handle(struct wbuf *b)
{
	unsigned int i;

	for (i = 0; i < 20; i++)
		put8(b, (uint8_t)(0x30 + i));
}

static void
pdu_header(struct wbuf *b, uint8_t ptype, uint32_t call_id, size_t body_len,
	   uint16_t auth_len)
{
	size_t frag = 16 + body_len;

	put8(b, 5);
	put8(b, 0);
	put8(b, ptype);
	put8(b, DCERPC_PFC_FIRST_FRAG | DCERPC_PFC_LAST_FRAG);
	put32(b, 0x10);
	put16(b, (uint16_t)frag);
	put16(b, auth_len);
	put32(b, call_id);
}

static const uint8_t ndr_syntax[20] = {
	0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
	0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0,
};

/* BIND of <iface> as context 0 and its acknowledgement. */
static void
bind_iface(const char *iface)
{
	struct wbuf body = { .len = 0 }, pdu = { .len = 0 };
	uint8_t uuid[16];

	assert_int_equal(dcerpc_name_lookup(iface, NULL, uuid, NULL), 0);
	put16(&body, 4280);
	put16(&body, 4280);
	put32(&body, 0);
	put8(&body, 1);
	put8(&body, 0);
	put16(&body, 0);
	put16(&body, 0);
	put8(&body, 1);
	put8(&body, 0);
	put_uuid(&body, uuid);
	put16(&body, 1);
	put16(&body, 0);
	put_bytes(&body, ndr_syntax, sizeof(ndr_syntax));
	pdu_header(&pdu, DCERPC_PTYPE_BIND, 1, body.len, 0);
	put_bytes(&pdu, body.data, body.len);
	assert_int_equal(dcerpc_conn_feed(&conn, 0, pdu.data, pdu.len, 1,
					  record, NULL), 0);
	body.len = 0;
	pdu.len = 0;
	put16(&body, 4280);
	put16(&body, 4280);
	put32(&body, 0x99);
	put16(&body, 0);
	put_align(&body, 2);
	while ((body.len + 16) % 4 != 0)
		put8(&body, 0);
	put8(&body, 1);
	put8(&body, 0);
	put16(&body, 0);
	put16(&body, 0);
	put16(&body, 0);
	put_bytes(&body, ndr_syntax, sizeof(ndr_syntax));
	pdu_header(&pdu, DCERPC_PTYPE_BIND_ACK, 1, body.len, 0);
	put_bytes(&pdu, body.data, body.len);
	assert_int_equal(dcerpc_conn_feed(&conn, 1, pdu.data, pdu.len, 1,
					  record, NULL), 0);
	rec.count = 0;
}

/*
 * Sends <op> of <iface> with <stub> (auth level <level>, 0 for none) and
 * returns its REQUEST fact.
 */
static const struct dcerpc_fact *
call(const char *iface, const char *op, const struct wbuf *stub,
     uint8_t level)
{
	struct wbuf body = { .len = 0 }, pdu = { .len = 0 };
	uint8_t uuid[16];
	uint16_t opnum = 0;
	unsigned int i;

	assert_int_equal(dcerpc_name_lookup(iface, op, uuid, &opnum), 0);
	put32(&body, (uint32_t)stub->len);
	put16(&body, 0);
	put16(&body, opnum);
	put_bytes(&body, stub->data, stub->len);
	if (level != 0) {
		uint8_t pad = (uint8_t)((16 - stub->len % 16) % 16);

		for (i = 0; i < pad; i++)
			put8(&body, 0xcc);
		put8(&body, 10);
		put8(&body, level);
		put8(&body, pad);
		put8(&body, 0);
		put32(&body, 0);
		for (i = 0; i < 16; i++)
			put8(&body, 0xee);
	}
	pdu_header(&pdu, DCERPC_PTYPE_REQUEST, 7, body.len,
		   level != 0 ? 16 : 0);
	put_bytes(&pdu, body.data, body.len);
	rec.count = 0;
	dcerpc_conn_feed(&conn, 0, pdu.data, pdu.len, 2, record, NULL);
	for (i = 0; i < rec.count && i < MAX_FACTS; i++)
		if (rec.facts[i].type == DCERPC_FACT_REQUEST)
			return &rec.facts[i];
	fail_msg("no REQUEST fact for %s::%s", iface, op);
	return NULL;
}

static unsigned int
stub_errors(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < rec.count && i < MAX_FACTS; i++)
		if (rec.facts[i].type == DCERPC_FACT_ERROR &&
		    rec.facts[i].error == DCERPC_ERR_STUB)
			n++;
	return n;
}

/* A RemoteCreateInstance stub shaped as Impacket sends it: ORPCTHIS, a
 * null pUnkOuter, then the activation blob whose InstantiationInfoData
 * names the class after the property CLSIDs. */
static void
build_activation(struct wbuf *s, const uint8_t clsid[16])
{
	static const uint8_t instantiation_info[16] = {
		0x00, 0x00, 0x01, 0xab, 0x00, 0x00, 0x00, 0x00,
		0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
	};
	unsigned int i;

	put16(s, 5);		/* COMVERSION */
	put16(s, 7);
	put32(s, 0);		/* flags */
	put32(s, 0);		/* reserved1 */
	for (i = 0; i < 16; i++)
		put8(s, (uint8_t)(0x70 + i));	/* causality id */
	put32(s, 0);		/* extensions */
	put32(s, 0);		/* pUnkOuter */
	put32(s, 0x00020000);	/* pActProperties */
	put32(s, 400);
	put32(s, 400);
	put_bytes(s, "MEOW", 4);
	put32(s, 4);		/* OBJREF_CUSTOM */
	for (i = 0; i < 16; i++)
		put8(s, (uint8_t)i);
	for (i = 0; i < 4; i++)
		put_uuid(s, instantiation_info);
	for (i = 0; i < 40; i++)
		put8(s, 0x11);
	put_uuid(s, clsid);
	for (i = 0; i < 64; i++)
		put8(s, 0x22);
}

static void
test_dcom_class(void **state)
{
	static const uint8_t mmc20[16] = {
		0x49, 0xb2, 0x79, 0x1a, 0xb1, 0xae, 0x4c, 0x90,
		0x9b, 0x8e, 0xe8, 0x60, 0xba, 0x07, 0xf8, 0x89,
	};
	static const uint8_t wbem[16] = {
		0x8b, 0xc3, 0xf0, 0x5e, 0xd8, 0x6b, 0x11, 0xd0,
		0xa0, 0x75, 0x00, 0xc0, 0x4f, 0xb6, 0x88, 0x20,
	};
	static const uint8_t other[16] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	};
	struct wbuf s = { .len = 0 };
	const struct dcerpc_fact *f;

	(void)state;
	bind_iface("IRemoteSCMActivator");
	build_activation(&s, mmc20);
	f = call("IRemoteSCMActivator", "RemoteCreateInstance", &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_DCOM_CLASS);
	assert_string_equal(f->name, "49b2791a-b1ae-4c90-9b8e-e860ba07f889");
	assert_string_equal(f->command, "MMC20.Application");

	s.len = 0;
	build_activation(&s, wbem);
	f = call("IRemoteSCMActivator", "RemoteCreateInstance", &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_DCOM_CLASS);
	assert_string_equal(f->command, "WbemLevel1Login");

	/* A class not known for lateral movement: no arguments. */
	s.len = 0;
	build_activation(&s, other);
	f = call("IRemoteSCMActivator", "RemoteCreateInstance", &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_NONE);
	assert_int_equal(stub_errors(), 0);

	/* Sealed: nothing decoded, the request still flagged. */
	s.len = 0;
	build_activation(&s, mmc20);
	f = call("IRemoteSCMActivator", "RemoteCreateInstance", &s, 6);
	assert_int_equal(f->args, DCERPC_ARGS_NONE);
	assert_true(f->flags & DCERPC_FACT_F_SEALED);
}

static void
build_challenge(struct wbuf *s, const char *computer, uint8_t fill)
{
	unsigned int i;

	put_unique_wstring(s, "\\\\DC1");
	put_wstring(s, computer);
	for (i = 0; i < 8; i++)
		put8(s, fill);
}

static void
build_authenticate(struct wbuf *s, const char *account, const char *computer,
		   uint8_t fill)
{
	unsigned int i;

	put_unique_wstring(s, "\\\\DC1");
	put_wstring(s, account);
	put_align(s, 2);
	put16(s, 6);		/* ServerSecureChannel */
	put_wstring(s, computer);
	for (i = 0; i < 8; i++)
		put8(s, fill);
	put_align(s, 4);
	put32(s, 0x212fffff);
}

static void
test_netlogon_zero_credential(void **state)
{
	struct wbuf s = { .len = 0 };
	const struct dcerpc_fact *f;

	(void)state;
	bind_iface("netlogon");
	build_challenge(&s, "DC1", 0);
	f = call("netlogon", "NetrServerReqChallenge", &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_NETLOGON);
	assert_string_equal(f->name, "DC1");
	assert_true(f->flags & DCERPC_FACT_F_ZERO_CREDENTIAL);

	s.len = 0;
	build_challenge(&s, "WS1", 0x5a);
	f = call("netlogon", "NetrServerReqChallenge", &s, 0);
	assert_false(f->flags & DCERPC_FACT_F_ZERO_CREDENTIAL);

	s.len = 0;
	build_authenticate(&s, "DC1$", "DC1", 0);
	f = call("netlogon", "NetrServerAuthenticate3", &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_NETLOGON);
	assert_string_equal(f->name, "DC1");
	assert_string_equal(f->command, "DC1$");
	assert_true(f->flags & DCERPC_FACT_F_ZERO_CREDENTIAL);
	assert_int_equal(stub_errors(), 0);

	s.len = 0;
	build_authenticate(&s, "WS1$", "WS1", 0x33);
	f = call("netlogon", "NetrServerAuthenticate2", &s, 0);
	assert_string_equal(f->command, "WS1$");
	assert_false(f->flags & DCERPC_FACT_F_ZERO_CREDENTIAL);

	/* Cut before the credential: no verdict on it, flagged cut. */
	s.len = 0;
	build_authenticate(&s, "DC1$", "DC1", 0);
	s.len -= 14;
	f = call("netlogon", "NetrServerAuthenticate3", &s, 0);
	assert_false(f->flags & DCERPC_FACT_F_ZERO_CREDENTIAL);
	assert_true(f->flags & DCERPC_FACT_F_ARGS_TRUNCATED);
}

static void
test_forced_authentication(void **state)
{
	struct wbuf s = { .len = 0 };
	const struct dcerpc_fact *f;

	(void)state;
	bind_iface("spoolss");
	put_handle(&s);
	put32(&s, 0x100);	/* fdwFlags */
	put32(&s, 0);		/* fdwOptions */
	put_unique_wstring(&s, "\\\\198.18.16.66");
	put32(&s, 0);		/* dwPrinterLocal */
	put32(&s, 0);		/* pOptions */
	f = call("spoolss", "RpcRemoteFindFirstPrinterChangeNotificationEx",
		 &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_UNC);
	assert_string_equal(f->name, "\\\\198.18.16.66");

	dcerpc_conn_init(&conn);
	bind_iface("efsrpc");
	s.len = 0;
	put_wstring(&s, "\\\\198.18.16.66\\share\\file.txt");
	put32(&s, 0);
	f = call("efsrpc", "EfsRpcOpenFileRaw", &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_UNC);
	assert_string_equal(f->name, "\\\\198.18.16.66\\share\\file.txt");
	f = call("efsrpc", "EfsRpcEncryptFileSrv", &s, 0);
	assert_string_equal(f->name, "\\\\198.18.16.66\\share\\file.txt");

	/* actual_count beyond max_count: not NDR. */
	s.len = 0;
	put32(&s, 2);
	put32(&s, 0);
	put32(&s, 9);
	put32(&s, 0);
	f = call("efsrpc", "EfsRpcOpenFileRaw", &s, 0);
	assert_int_equal(f->name[0], '\0');
	assert_int_equal(stub_errors(), 1);
}

static void
test_registry(void **state)
{
	static const char data[] = "c:\\windows\\temp\\x.exe";
	struct wbuf s = { .len = 0 };
	const struct dcerpc_fact *f;
	size_t i;

	(void)state;
	bind_iface("winreg");
	put_handle(&s);
	put_rrp_string(&s, "Software\\Microsoft\\Windows\\CurrentVersion\\Run");
	put32(&s, 0);		/* dwOptions */
	put32(&s, 0x2001f);	/* samDesired */
	f = call("winreg", "BaseRegOpenKey", &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_REGISTRY);
	assert_string_equal(f->name,
			    "Software\\Microsoft\\Windows\\CurrentVersion\\Run");

	s.len = 0;
	put_handle(&s);
	put_rrp_string(&s, "Updater");
	put32(&s, 1);		/* REG_SZ */
	put32(&s, (uint32_t)(sizeof(data) * 2));
	for (i = 0; i < sizeof(data); i++)
		put16(&s, (uint8_t)data[i]);
	put_align(&s, 4);
	put32(&s, (uint32_t)(sizeof(data) * 2));
	f = call("winreg", "BaseRegSetValue", &s, 0);
	assert_int_equal(f->args, DCERPC_ARGS_REGISTRY);
	assert_string_equal(f->name, "Updater");
	assert_string_equal(f->command, data);

	/* Binary data is not reported as text. */
	s.len = 0;
	put_handle(&s);
	put_rrp_string(&s, "Blob");
	put32(&s, 3);		/* REG_BINARY */
	put32(&s, 4);
	put32(&s, 0x41414141);
	put32(&s, 4);
	f = call("winreg", "BaseRegSetValue", &s, 0);
	assert_string_equal(f->name, "Blob");
	assert_string_equal(f->command, "");

	s.len = 0;
	put_handle(&s);
	put_rrp_string(&s, "C:\\Windows\\Temp\\sam.save");
	put32(&s, 0);
	f = call("winreg", "BaseRegSaveKey", &s, 0);
	assert_string_equal(f->name, "C:\\Windows\\Temp\\sam.save");
	assert_int_equal(stub_errors(), 0);

	/* Every length of a cut stub is bounded and reports at most one
	 * stub error (the stub is complete on the wire, so cut = bad). */
	for (i = 0; i < 60; i++) {
		struct wbuf cut = { .len = 0 };

		put_handle(&cut);
		put_rrp_string(&cut, "Software\\Run");
		cut.len = i;
		f = call("winreg", "BaseRegOpenKey", &cut, 0);
		assert_true(stub_errors() <= 1);
	}
}

/* Every sealed request is flagged, decoded or not. */
static void
test_sealed_flag(void **state)
{
	struct wbuf s = { .len = 0 };
	const struct dcerpc_fact *f;

	(void)state;
	bind_iface("drsuapi");
	put_handle(&s);
	put32(&s, 8);
	f = call("drsuapi", "DRSGetNCChanges", &s, 6);
	assert_true(f->flags & DCERPC_FACT_F_SEALED);
	assert_int_equal(f->auth_level, 6);
	f = call("drsuapi", "DRSGetNCChanges", &s, 5);
	assert_false(f->flags & DCERPC_FACT_F_SEALED);
	f = call("drsuapi", "DRSGetNCChanges", &s, 0);
	assert_false(f->flags & DCERPC_FACT_F_SEALED);
}

static void
test_name_lookup(void **state)
{
	uint8_t uuid[16];
	uint16_t opnum = 0;
	char text[37];

	(void)state;
	assert_int_equal(dcerpc_name_lookup("drsuapi", "DRSGetNCChanges",
					    uuid, &opnum), 0);
	assert_int_equal(opnum, 3);
	assert_string_equal(dcerpc_uuid_format(uuid, text),
			    "e3514235-4b06-11d1-ab04-00c04fc2dcd2");
	assert_int_equal(dcerpc_name_lookup("IEventService", "EvtRpcClearLog",
					    uuid, &opnum), 0);
	assert_int_equal(opnum, 6);
	assert_int_equal(dcerpc_name_lookup("BackupKey", NULL, uuid, NULL), 0);
	assert_string_equal(dcerpc_uuid_format(uuid, text),
			    "3dde7c30-165d-11d1-ab8f-00805f14db40");
	assert_int_equal(dcerpc_name_lookup("drsuapi", "NoSuchCall", uuid,
					    &opnum), -ENOENT);
	assert_int_equal(dcerpc_name_lookup("nosuch", NULL, uuid, NULL),
			 -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_dcom_class, setup),
		cmocka_unit_test_setup(test_netlogon_zero_credential, setup),
		cmocka_unit_test_setup(test_forced_authentication, setup),
		cmocka_unit_test_setup(test_registry, setup),
		cmocka_unit_test_setup(test_sealed_flag, setup),
		cmocka_unit_test_setup(test_name_lookup, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
