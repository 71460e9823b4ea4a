/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE writer: JSON escaping, timestamps, one smb record per handle with
 * its byte counts, the handle table's bounds, dcerpc and flow records,
 * alerts, and reopening after logrotate; whole records only when the
 * disk fills (short writes, ENOSPC), counted, and resumed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "dcerpc.h"
#include "detector.h"
#include "eve.h"
#include "eve_syslog.h"
#include "event.h"
#include "flow.h"
#include "record_file.h"
#include "smb.h"

#define S 1000000000ull
/* 2026-11-24T08:46:04.123456789Z */
#define T0 (1795509964ull * S + 123456789ull)

static char path[64];
static char text[1 << 16];

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_eve.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	char rotated[80];

	(void)state;
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	unlink(path);
	unlink(rotated);
	return 0;
}

static struct eve *
open_eve(unsigned int max_handles)
{
	struct eve_params params;
	struct eve *eve;
	FILE *f = fopen(path, "w");	/* truncate what a test before wrote */

	assert_non_null(f);
	fclose(f);
	eve_params_set_defaults(&params);
	snprintf(params.path, sizeof(params.path), "%s", path);
	if (max_handles != 0)
		params.max_handles = max_handles;
	eve = eve_open(&params);
	assert_non_null(eve);
	return eve;
}

/* Reads <file> into text; returns the number of lines. */
static unsigned int
slurp(const char *file)
{
	FILE *f = fopen(file, "r");
	size_t n;
	unsigned int lines = 0;
	char *p;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			lines++;
	return lines;
}

/* Number of occurrences of <needle> in text. */
static unsigned int
occurrences(const char *needle)
{
	unsigned int n = 0;
	const char *p = text;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static void
assert_has(const char *needle)
{
	if (strstr(text, needle) == NULL)
		fail_msg("missing %s in:\n%s", needle, text);
}

static void
base(struct gw_event *ev, uint64_t ts, uint8_t kind, uint8_t subtype)
{
	static const uint8_t client[4] = { 198, 18, 1, 10 };
	static const uint8_t server[4] = { 198, 18, 2, 20 };

	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = ts;
	ev->flow_id = 77;
	ev->ip_version = 4;
	memcpy(ev->client_addr, client, 4);
	memcpy(ev->server_addr, server, 4);
	ev->client_port = 53134;
	ev->server_port = 445;
	ev->vlan_outer = 100;
	ev->kind = kind;
	ev->subtype = subtype;
}

static void
smb_file(struct gw_event *ev, uint64_t ts, uint8_t subtype, uint16_t command,
	bool response, uint8_t fid)
{
	base(ev, ts, EVENT_SMB, subtype);
	ev->command = command;
	if (response)
		ev->flags = EVENT_F_RESPONSE;
	ev->u.smb.version = 2;
	ev->u.smb.dialect = 0x0210;
	ev->u.smb.file_id[0] = fid;
	ev->u.smb.desired_access = 2;
	ev->u.smb.disposition = 5;
	snprintf(ev->u.smb.share, sizeof(ev->u.smb.share), "ADMIN$");
	snprintf(ev->u.smb.name, sizeof(ev->u.smb.name), "QmEyydJf.exe");
}

/*
 * Names go through the one JSON writer (ctl_json.h): escapes, and bytes
 * that are not UTF-8 (invalid, overlong, surrogates, cut short) become
 * U+FFFD.
 */
static void
test_json_string(void **state)
{
	struct eve *eve = open_eve(0);
	struct gw_event ev;

	(void)state;
	base(&ev, T0, EVENT_SMB, SMB_FACT_TREE_CONNECT);
	ev.command = SMB2_TREE_CONNECT;
	ev.flags = EVENT_F_RESPONSE;
	ev.u.smb.version = 2;
	ev.u.smb.share_type = SMB2_SHARE_TYPE_DISK;
	snprintf(ev.u.smb.share, sizeof(ev.u.smb.share), "a\"b\\c\n\t\x01");
	snprintf(ev.u.smb.name, sizeof(ev.u.smb.name),
		"caf\xc3\xa9 x\xff y\xc0\xaf z\xed\xa0\x80 \xe2\x82");
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);
	eve_close(eve);
	assert_int_equal(slurp(path), 1);
	assert_has("\"share\":\"a\\\"b\\\\c\\n\\t\\u0001\"");
	assert_has("\"path\":\"caf\xc3\xa9 x\\ufffd y\\ufffd\\ufffd "
		"z\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\"");
}

static void
test_time(void **state)
{
	char buf[40];

	(void)state;
	assert_string_equal(eve_format_time(T0, buf, sizeof(buf)),
		"2026-11-24T08:46:04.123456+0000");
	assert_string_equal(eve_format_time(0, buf, sizeof(buf)),
		"1970-01-01T00:00:00.000000+0000");
}

/* One record per handle, at CLOSE, with what went through it. */
static void
test_handle_summary(void **state)
{
	struct eve *eve = open_eve(0);
	struct gw_event ev;
	unsigned int i;

	(void)state;
	smb_file(&ev, T0, SMB_FACT_CREATE, SMB2_CREATE, false, 0);
	assert_int_equal(eve_write_event(eve, &ev, NULL), 0);
	smb_file(&ev, T0 + 1000, SMB_FACT_CREATE, SMB2_CREATE, true, 9);
	assert_int_equal(eve_write_event(eve, &ev, NULL), 0);
	for (i = 0; i < 3; i++) {
		smb_file(&ev, T0 + 2000 + i, SMB_FACT_WRITE, SMB2_WRITE, false, 9);
		ev.u.smb.length = 1000;
		assert_int_equal(eve_write_event(eve, &ev, NULL), 0);
	}
	for (i = 0; i < 2; i++) {
		smb_file(&ev, T0 + 3000 + i, SMB_FACT_READ, SMB2_READ, true, 9);
		ev.u.smb.length = 10;
		assert_int_equal(eve_write_event(eve, &ev, NULL), 0);
	}
	smb_file(&ev, T0 + S, SMB_FACT_CLOSE, SMB2_CLOSE, false, 9);
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);
	/* The CLOSE response finds nothing left to summarise. */
	smb_file(&ev, T0 + S, SMB_FACT_CLOSE, SMB2_CLOSE, true, 9);
	assert_int_equal(eve_write_event(eve, &ev, NULL), 0);
	eve_close(eve);

	assert_int_equal(slurp(path), 1);
	assert_has("\"timestamp\":\"2026-11-24T08:46:05.123456+0000\"");
	assert_has("\"event_type\":\"smb\"");
	assert_has("\"src_ip\":\"198.18.1.10\",\"src_port\":53134,"
		"\"dest_ip\":\"198.18.2.20\",\"dest_port\":445,"
		"\"proto\":\"TCP\",\"tx_id\":0,\"app_proto\":\"smb\"");
	assert_has("\"flow_id\":77,\"vlan\":[100],\"event_type\":\"smb\"");
	assert_has("\"command\":\"SMB2_COMMAND_CREATE\"");
	assert_has("\"dialect\":\"2.10\"");
	assert_has("\"share\":\"ADMIN$\",\"filename\":\"QmEyydJf.exe\"");
	assert_has("\"disposition\":\"FILE_OVERWRITE_IF\",\"access\":\"normal\","
		"\"fuid\":\"00000009-0000-0000-0000-000000000000\"");
	assert_has("\"closed_by\":\"close\",\"reads\":2,\"bytes_read\":20,"
		"\"writes\":3,\"bytes_written\":3000");
}

/* SMB1 dialects are named by their string, unknown codes in hex. */
static void
test_dialect_names(void **state)
{
	static const struct {
		uint16_t code;
		const char *json;
	} cases[] = {
		{ SMB_DIALECT_SMB1_NT_LANMAN_10, "\"dialect\":\"NT LANMAN 1.0\"" },
		{ SMB_DIALECT_SMB1_LANMAN_21, "\"dialect\":\"LANMAN2.1\"" },
		{ SMB_DIALECT_SMB1_OTHER, "\"dialect\":\"SMB1 (other)\"" },
		{ 0x0311, "\"dialect\":\"3.11\"" },
		{ 0x0123, "\"dialect\":\"0x0123\"" },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eve *eve = open_eve(0);
		struct gw_event ev;

		smb_file(&ev, T0, SMB_FACT_CREATE, SMB2_CREATE, true, 9);
		ev.u.smb.dialect = cases[i].code;
		assert_int_equal(eve_write_event(eve, &ev, NULL), 0);
		smb_file(&ev, T0 + S, SMB_FACT_CLOSE, SMB2_CLOSE, false, 9);
		ev.u.smb.dialect = cases[i].code;
		assert_int_equal(eve_write_event(eve, &ev, NULL), 1);
		eve_close(eve);
		assert_int_equal(slurp(path), 1);
		assert_has(cases[i].json);
	}
}

/* Flow end summarises the flow's open handles, then the flow. */
static void
test_flow_end(void **state)
{
	struct eve *eve = open_eve(0);
	struct gw_event ev;

	(void)state;
	smb_file(&ev, T0, SMB_FACT_CREATE, SMB2_CREATE, true, 1);
	eve_write_event(eve, &ev, NULL);
	smb_file(&ev, T0, SMB_FACT_CREATE, SMB2_CREATE, true, 2);
	eve_write_event(eve, &ev, NULL);
	/* A handle of another flow stays open. */
	smb_file(&ev, T0, SMB_FACT_CREATE, SMB2_CREATE, true, 1);
	ev.flow_id = 78;
	eve_write_event(eve, &ev, NULL);

	base(&ev, T0 + 2 * S, EVENT_FLOW, EVENT_FLOW_END);
	ev.flags |= EVENT_F_REPORTED;	/* it carried SMB */
	ev.u.flow.app = FLOW_APP_SMB;
	ev.u.flow.method = EVENT_DETECT_PORT;
	ev.u.flow.first_seen_ns = T0 - S;
	ev.u.flow.packets[0] = 79;
	ev.u.flow.bytes[1] = 7178;
	assert_int_equal(eve_write_event(eve, &ev, NULL), 3);
	assert_int_equal(eve_flush(eve), 0);
	assert_int_equal(slurp(path), 3);
	assert_int_equal(occurrences("\"closed_by\":\"flow_end\""), 2);
	assert_has("\"event_type\":\"flow\"");
	assert_has("\"pkts_toserver\":79");
	assert_has("\"bytes_toclient\":7178");
	assert_has("\"start\":\"2026-11-24T08:46:03.123456+0000\"");
	assert_has("\"detected_by\":\"port\"");
	/* Closing summarises what is left. */
	eve_close(eve);
	assert_int_equal(slurp(path), 4);
	assert_int_equal(occurrences("\"closed_by\":\"shutdown\""), 1);
}

static void
test_handle_eviction(void **state)
{
	struct eve *eve = open_eve(16);
	struct gw_event ev;
	unsigned int i;

	(void)state;
	for (i = 0; i < 17; i++) {
		smb_file(&ev, T0 + i, SMB_FACT_CREATE, SMB2_CREATE, true,
			(uint8_t)i);
		eve_write_event(eve, &ev, NULL);
	}
	assert_int_equal(eve_counters(eve)->handles_evicted, 1);
	eve_flush(eve);
	assert_int_equal(slurp(path), 1);
	assert_has("\"closed_by\":\"evicted\"");
	/* The oldest went: handle 0 was opened at T0. */
	assert_has("\"opened\":\"2026-11-24T08:46:04.123456+0000\"");
	eve_close(eve);
	assert_int_equal(slurp(path), 17);
}

static void
test_logon_tree_dcerpc(void **state)
{
	struct eve *eve = open_eve(0);
	struct eve_context ctx = { "servers-a", "servers-b", "allowed", NULL };
	struct gw_event ev;

	(void)state;
	base(&ev, T0, EVENT_SMB, SMB_FACT_LOGON);
	ev.command = SMB2_SESSION_SETUP;
	eve_write_event(eve, &ev, NULL);	/* the request: no record */
	ev.flags = EVENT_F_RESPONSE;
	ev.status = 0xc000006d;
	ev.u.smb.version = 2;
	snprintf(ev.u.smb.user, sizeof(ev.u.smb.user), "alice \"x\"");
	snprintf(ev.u.smb.domain, sizeof(ev.u.smb.domain), "WORKGROUP");
	snprintf(ev.u.smb.workstation, sizeof(ev.u.smb.workstation), "VM");
	assert_int_equal(eve_write_event(eve, &ev, &ctx), 1);

	base(&ev, T0, EVENT_SMB, SMB_FACT_TREE_CONNECT);
	ev.command = SMB2_TREE_CONNECT;
	ev.flags = EVENT_F_RESPONSE;
	ev.u.smb.version = 2;
	ev.u.smb.share_type = SMB2_SHARE_TYPE_PIPE;
	snprintf(ev.u.smb.share, sizeof(ev.u.smb.share), "IPC$");
	snprintf(ev.u.smb.name, sizeof(ev.u.smb.name), "\\\\srv\\IPC$");
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);

	base(&ev, T0, EVENT_DCERPC, DCERPC_FACT_REQUEST);
	ev.flags = EVENT_F_ON_PIPE;
	ev.u.dcerpc.interface = "svcctl";
	ev.u.dcerpc.operation = "CreateServiceW";
	ev.u.dcerpc.opnum = 12;
	ev.u.dcerpc.args = DCERPC_ARGS_SERVICE;
	snprintf(ev.u.dcerpc.pipe, sizeof(ev.u.dcerpc.pipe), "svcctl");
	snprintf(ev.u.dcerpc.name, sizeof(ev.u.dcerpc.name), "tMds");
	snprintf(ev.u.dcerpc.command, sizeof(ev.u.dcerpc.command),
		"%%systemroot%%\\QmEyydJf.exe");
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);
	/* Responses are not records; a fault is. */
	ev.subtype = DCERPC_FACT_RESPONSE;
	assert_int_equal(eve_write_event(eve, &ev, NULL), 0);
	ev.subtype = DCERPC_FACT_FAULT;
	ev.status = 0x1c010002;
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);
	/* DCE/RPC over TCP. */
	base(&ev, T0, EVENT_DCERPC, DCERPC_FACT_REQUEST);
	ev.server_port = 135;
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);
	eve_close(eve);

	assert_int_equal(slurp(path), 5);
	assert_has("\"command\":\"SMB2_COMMAND_SESSION_SETUP\","
		"\"status\":\"STATUS_LOGON_FAILURE\",\"status_code\":\"0xc000006d\"");
	assert_has("\"ntlmssp\":{\"domain\":\"WORKGROUP\",\"user\":"
		"\"alice \\\"x\\\"\",\"host\":\"VM\"}");
	/* A pipe share is named in named_pipe, as Suricata does. */
	assert_has("\"named_pipe\":\"IPC$\",\"share_type\":\"PIPE\","
		"\"path\":\"\\\\\\\\srv\\\\IPC$\"");
	/* RPC on a pipe: nested in an smb record, as smb.dcerpc. */
	assert_has("\"event_type\":\"smb\"");
	assert_has("\"smb\":{\"named_pipe\":\"svcctl\",\"dcerpc\":{"
		"\"request\":\"REQUEST\",\"opnum\":12,\"req\":{\"stub_data_size\":0},"
		"\"interfaces\":[{\"uuid\":\"00000000-0000-0000-0000-000000000000\","
		"\"service\":\"svcctl\",\"procedure\":\"CreateServiceW\"}]");
	assert_has("\"service_name\":\"tMds\",\"command\":\"%systemroot%\\\\QmEyydJf.exe\"");
	assert_has("\"request\":\"REQUEST\",\"response\":\"FAULT\"");
	assert_has("\"fault\":\"nca_s_op_rng_error\",\"fault_code\":\"0x1c010002\"");
	/* Over TCP: a dcerpc record, opnum in req. */
	assert_has("\"tx_id\":0,\"app_proto\":\"dcerpc\",\"dcerpc\":{\"request\":\"REQUEST\","
		"\"req\":{\"opnum\":0,\"stub_data_size\":0},\"interfaces\":[{\"uuid\"");
	assert_has("\"rpc_version\":\"5.0\"");
}

static void
test_alert(void **state)
{
	struct eve *eve = open_eve(0);
	struct detector_evidence e;
	struct detector_alert a;
	struct gw_event ev;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.conditions = DETECTOR_COND_ALL;
	e.exec_kinds = DETECTOR_EXEC_FILE | DETECTOR_EXEC_SERVICE;
	e.exact = true;
	e.logon_ns = T0 - S;
	e.exec_ns = T0;
	snprintf(e.user, sizeof(e.user), "root");
	snprintf(e.domain, sizeof(e.domain), "LAB");
	snprintf(e.share, sizeof(e.share), "ADMIN$");
	snprintf(e.repeated_share, sizeof(e.repeated_share), "ADMIN$");
	e.share_accesses = 3;
	snprintf(e.file, sizeof(e.file), "QmEyydJf.exe");
	e.operation_count = 2;
	e.interfaces[0] = "svcctl";
	e.operations[0] = "OpenSCManagerW";
	e.interfaces[1] = "svcctl";
	e.operations[1] = "CreateServiceW";

	base(&ev, T0, EVENT_DCERPC, DCERPC_FACT_REQUEST);
	ev.flags = EVENT_F_ON_PIPE;
	memset(&a, 0, sizeof(a));
	a.rule = DETECTOR_RULE_LATERAL_MOVEMENT;
	a.signature = detector_signature(a.rule);
	a.count = 1;
	a.first_ns = T0;
	a.last_ns = T0;
	snprintf(a.mitre, sizeof(a.mitre), "T1021.002,T1569.002");
	a.event = &ev;
	memcpy(a.client_addr, ev.client_addr, 16);
	memcpy(a.server_addr, ev.server_addr, 16);
	a.ip_version = 4;
	a.evidence = &e;
	assert_int_equal(eve_write_alert(eve, &a, NULL), 0);
	/* From detector_flush(): no event, no ports. */
	a.event = NULL;
	a.update = true;
	a.count = 3;
	assert_int_equal(eve_write_alert(eve, &a, NULL), 0);
	eve_close(eve);

	assert_int_equal(slurp(path), 2);
	assert_has("\"event_type\":\"alert\"");
	assert_has("\"alert\":{\"action\":\"allowed\",\"gid\":1,"
		"\"signature_id\":9000001,\"rev\":1,");
	assert_has("\"category\":\"Lateral Movement\",\"severity\":1,"
		"\"policy_action\":\"allowed\",\"mitre\":[\"T1021.002\",\"T1569.002\"],\"update\":false,\"count\":1");
	assert_has("\"smb\":{\"share\":\"ADMIN$\",\"filename\":\"QmEyydJf.exe\","
		"\"ntlmssp\":{\"domain\":\"LAB\",\"user\":\"root\",\"host\":\"\"}}");
	assert_has("\"dcerpc\":{\"interfaces\":[{\"service\":\"svcctl\","
		"\"procedure\":\"OpenSCManagerW\"},{\"service\":\"svcctl\","
		"\"procedure\":\"CreateServiceW\"}]}");
	assert_has("\"conditions\":[\"logon\",\"admin_exec\",\"share_repeat\"]");
	assert_has("\"execution\":[\"file_written\",\"service\"]");
	assert_has("\"event_type\":\"alert\",\"src_ip\":\"198.18.1.10\","
		"\"dest_ip\":\"198.18.2.20\",\"alert\"");
	assert_has("\"update\":true,\"count\":3");
}

/*
 * The logon's kind: "auth" in logon records and alerts; a Kerberos
 * logon has no NTLMSSP object; the unverifiable-session alert's evidence.
 */
static void
test_auth_and_unverifiable(void **state)
{
	struct eve *eve = open_eve(0);
	struct eve_context ctx = { "clients", "servers", "blocked", NULL };
	struct detector_evidence e;
	struct detector_alert a;
	struct gw_event ev;

	(void)state;
	base(&ev, T0, EVENT_SMB, SMB_FACT_LOGON);
	ev.command = SMB2_SESSION_SETUP;
	ev.flags = EVENT_F_RESPONSE;
	ev.u.smb.version = 2;
	ev.u.smb.success = 1;
	ev.u.smb.auth = SMB_AUTH_NTLMSSP;
	snprintf(ev.u.smb.user, sizeof(ev.u.smb.user), "root");
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);
	ev.u.smb.auth = SMB_AUTH_KERBEROS;
	ev.u.smb.user[0] = '\0';
	ev.flow_id = 78;
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);

	memset(&e, 0, sizeof(e));
	e.encrypted = true;
	e.auth = SMB_AUTH_NTLMSSP;
	e.unverifiable = EVENT_UNVERIFIABLE_ENCRYPTED;
	e.unverifiable_action = 1;
	e.policy_rule = 1;
	snprintf(e.user, sizeof(e.user), "root");
	base(&ev, T0, EVENT_POLICY, EVENT_POLICY_SMB);
	memset(&a, 0, sizeof(a));
	a.rule = DETECTOR_RULE_UNVERIFIABLE;
	a.signature = detector_signature(a.rule);
	a.count = 1;
	a.first_ns = T0;
	a.last_ns = T0;
	a.event = &ev;
	memcpy(a.client_addr, ev.client_addr, 16);
	memcpy(a.server_addr, ev.server_addr, 16);
	a.ip_version = 4;
	a.evidence = &e;
	assert_int_equal(eve_write_alert(eve, &a, &ctx), 0);
	eve_close(eve);

	assert_int_equal(slurp(path), 3);
	assert_has("\"ntlmssp\":{\"domain\":\"\",\"user\":\"root\",\"host\":\"\"},"
		"\"success\":true,\"guest\":false,\"anonymous\":false,"
		"\"encrypt_data\":false,\"auth\":\"ntlm\"");
	assert_has("\"flow_id\":78,");
	assert_int_equal(occurrences("\"auth\":\"kerberos\"}"), 1);
	assert_has("\"dest_segment\":\"servers\",\"alert\":{\"action\":\"blocked\",\"gid\":1,"
		"\"signature_id\":9000009,");
	assert_has("\"policy_action\":\"blocked\"");
	assert_has("\"smb\":{\"auth\":\"ntlm\",\"ntlmssp\":{\"domain\":\"\",\"user\":\"root\"");
	assert_has("\"evidence\":{\"encrypted\":true,\"unverifiable\":\"encrypted\","
		"\"unverifiable_action\":true,\"policy_rule\":1}");
}

/*
 * The connection record: Suricata's flow members (state, reason, alerted,
 * action, age), the pair and the rule; flow_id kept to 51 bits; a
 * connection no parser took is app_proto "failed".
 */
static void
test_flow_record(void **state)
{
	struct eve *eve = open_eve(0);
	struct eve_context ctx = { NULL, NULL, NULL, "admins-in" };
	struct detector_evidence e;
	struct detector_alert a;
	struct gw_event ev;

	(void)state;
	/* An alert on the flow first: flow.alerted. */
	base(&ev, T0, EVENT_SMB, SMB_FACT_LOGON);
	ev.flow_id = (1ull << 60) | 77;
	memset(&e, 0, sizeof(e));
	memset(&a, 0, sizeof(a));
	a.rule = DETECTOR_RULE_SMB1;
	a.signature = detector_signature(a.rule);
	a.count = 1;
	a.event = &ev;
	a.ip_version = 4;
	a.evidence = &e;
	assert_int_equal(eve_write_alert(eve, &a, NULL), 0);

	base(&ev, T0 + 3 * S, EVENT_FLOW, EVENT_FLOW_END);
	ev.flow_id = (1ull << 60) | 77;
	ev.flags |= EVENT_F_REPORTED;	/* it carried SMB */
	ev.u.flow.app = FLOW_APP_SMB;
	ev.u.flow.first_seen_ns = T0 - S;
	ev.u.flow.tcp_state = FLOW_TCP_CLOSED;
	ev.u.flow.end_reason = FLOW_REMOVED_CLOSED;
	ev.u.flow.action = EVENT_ACTION_DENIED;
	ev.u.flow.rule = 2;
	snprintf(ev.u.flow.client_segment, sizeof(ev.u.flow.client_segment),
		"admins");
	snprintf(ev.u.flow.server_segment, sizeof(ev.u.flow.server_segment),
		"servers");
	assert_int_equal(eve_write_event(eve, &ev, &ctx), 1);

	/* Another flow, not SMB, idle: monitor-only would have blocked it. */
	base(&ev, T0 + 4 * S, EVENT_FLOW, EVENT_FLOW_END);
	ev.flow_id = 78;
	ev.server_port = 8445;
	ev.u.flow.app = FLOW_APP_NOT_SMB;
	ev.u.flow.first_seen_ns = T0;
	ev.u.flow.tcp_state = FLOW_TCP_ESTABLISHED;
	ev.u.flow.end_reason = FLOW_REMOVED_AGED;
	ev.u.flow.action = EVENT_ACTION_MONITORED;
	assert_int_equal(eve_write_event(eve, &ev, NULL), 1);
	eve_close(eve);

	assert_int_equal(slurp(path), 3);
	assert_int_equal(occurrences("\"flow_id\":77,"), 2);
	assert_has("\"app_proto\":\"smb\",\"src_segment\":\"admins\","
		"\"dest_segment\":\"servers\",\"flow\":{");
	assert_has("\"start\":\"2026-11-24T08:46:03.123456+0000\","
		"\"end\":\"2026-11-24T08:46:07.123456+0000\",\"age\":4,"
		"\"state\":\"closed\",\"reason\":\"tcp_closed\",\"alerted\":true,"
		"\"action\":\"blocked\",\"rule\":\"admins-in\",\"rule_id\":2,"
		"\"detected_by\":\"port\"");
	assert_has("\"dest_port\":8445,\"proto\":\"TCP\",\"app_proto\":\"failed\"");
	assert_has("\"state\":\"established\",\"reason\":\"timeout\","
		"\"alerted\":false,\"action\":\"would-block\"}");
	assert_int_equal(occurrences("\"detected_by\""), 1);
	assert_int_equal(eve_flow_id(UINT64_MAX), (1ull << 51) - 1);
}

/* Dotted counter names nest as Suricata's stats objects. */
static void
test_stats_nesting(void **state)
{
	struct eve *eve = open_eve(0);
	struct eve_stat stats[] = {
		{ "uptime", 5 }, { "decoder.pkts", 10 }, { "decoder.bytes", 600 },
		{ "ips.accepted", 9 }, { "ips.drop_reason.rules", 1 },
		{ "ips.rejected", 2 }, { "smbgw.events", 3 },
	};

	(void)state;
	assert_int_equal(eve_write_stats(eve, T0, stats, 7), 0);
	eve_close(eve);
	assert_int_equal(slurp(path), 1);
	assert_has("\"stats\":{\"uptime\":5,\"decoder\":{\"pkts\":10,\"bytes\":600},"
		"\"ips\":{\"accepted\":9,\"drop_reason\":{\"rules\":1},\"rejected\":2},"
		"\"smbgw\":{\"events\":3}}}\n");
}

/* RFC 5424 with structured data; SD-PARAM values escaped. */
static void
test_syslog_format(void **state)
{
	struct detector_evidence e;
	struct detector_alert a;
	struct gw_event ev;
	const char *want;
	char buf[1024];
	size_t n;

	(void)state;
	base(&ev, T0, EVENT_SMB, SMB_FACT_LOGON);
	memset(&e, 0, sizeof(e));
	snprintf(e.user, sizeof(e.user), "al\"i]c\\e");
	snprintf(e.share, sizeof(e.share), "ADMIN$");
	memset(&a, 0, sizeof(a));
	a.rule = DETECTOR_RULE_LATERAL_MOVEMENT;
	a.signature = detector_signature(a.rule);
	a.count = 2;
	a.event = &ev;
	memcpy(a.client_addr, ev.client_addr, 16);
	memcpy(a.server_addr, ev.server_addr, 16);
	a.ip_version = 4;
	a.evidence = &e;
	snprintf(a.mitre, sizeof(a.mitre), "T1021.002");
	n = eve_syslog_format(buf, sizeof(buf), &a, "would-block", "gw1", 42);
	assert_int_equal(n, strlen(buf));
	want = "<25>1 2026-11-24T08:46:04.123456+00:00 gw1 smbgw 42 alert "
		"[smbgw@32473 sid=\"9000001\" severity=\"1\" category=\"Lateral Movement\" "
		"action=\"would-block\" src_ip=\"198.18.1.10\" dest_ip=\"198.18.2.20\" "
		"src_port=\"53134\" dest_port=\"445\" flow_id=\"77\" mitre=\"T1021.002\" "
		"user=\"al\\\"i\\]c\\\\e\" share=\"ADMIN$\" count=\"2\"] SMBGW CM0062";
	assert_int_equal(strncmp(buf, want, strlen(want)), 0);
	/* Too small: nothing half written. */
	assert_int_equal(eve_syslog_format(buf, 80, &a, "allowed", "gw1", 42), 0);
	assert_int_equal(eve_syslog_check_target("tcp://198.18.250.1:6514"), 0);
	assert_int_equal(eve_syslog_check_target("udp://[2001:db8::1]:514"), 0);
	assert_int_equal(eve_syslog_check_target("local"), 0);
	assert_int_equal(eve_syslog_check_target("tcp://198.18.250.1"), -EINVAL);
	assert_int_equal(eve_syslog_check_target("tcp://198.18.250.1:0"), -EINVAL);
	assert_int_equal(eve_syslog_check_target("http://198.18.250.1:80"), -EINVAL);
	assert_int_equal(eve_syslog_check_target("udp://host.example:514"), -EINVAL);
}

static void
test_stats_and_reopen(void **state)
{
	struct eve *eve = open_eve(0);
	struct eve_stat stats[] = { { "events", 62 }, { "alerts", 4 } };
	char rotated[80];

	(void)state;
	assert_int_equal(eve_write_stats(eve, T0, stats, 2), 0);
	eve_flush(eve);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(eve_reopen(eve), 0);
	assert_int_equal(eve_write_stats(eve, T0 + S, stats, 1), 0);
	eve_close(eve);
	assert_int_equal(slurp(rotated), 1);
	assert_has("{\"timestamp\":\"2026-11-24T08:46:04.123456+0000\","
		"\"event_type\":\"stats\",\"stats\":{\"events\":62,\"alerts\":4}}\n");
	assert_int_equal(slurp(path), 1);
	assert_has("\"stats\":{\"events\":62}}");
}

static void
test_open_errors(void **state)
{
	struct eve_params params;

	(void)state;
	eve_params_set_defaults(&params);
	params.max_handles = 1;
	errno = 0;
	assert_null(eve_open(&params));
	assert_int_equal(errno, EINVAL);
	eve_params_set_defaults(&params);
	snprintf(params.path, sizeof(params.path), "/nonexistent/dir/eve.json");
	errno = 0;
	assert_null(eve_open(&params));
	assert_int_equal(errno, ENOENT);
}


/* A disk with <room> bytes left: short writes, then ENOSPC. */
static size_t room;

static ssize_t
write_with_room(int fd, const void *buf, size_t len)
{
	size_t n = len;

	if (room == 0) {
		errno = ENOSPC;
		return -1;
	}
	/* At most 100 bytes a call, so that records straddle calls. */
	if (n > 100)
		n = 100;
	if (n > room)
		n = room;
	room -= n;
	return write(fd, buf, n);
}

/* Every line of text is a whole record: starts with '{', ends with '}'. */
static void
assert_whole_lines(void)
{
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		if (nl == NULL)
			fail_msg("cut-off last line: %s", p);
		if (p[0] != '{' || nl[-1] != '}')
			fail_msg("not a whole record: %.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

static void
test_disk_full(void **state)
{
	struct eve_params params;
	struct eve_stat stats[] = { { "events", 62 }, { "alerts", 4 } };
	const struct output_counters *c;
	unsigned int i, lines;
	struct eve *eve;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	fclose(f);
	eve_params_set_defaults(&params);
	snprintf(params.path, sizeof(params.path), "%s", path);
	params.write = write_with_room;
	eve = eve_open(&params);
	assert_non_null(eve);
	c = eve_file_counters(eve);

	/* Room for 3.5 records: 3 stay, the cut-off fourth is taken back. */
	room = 1 << 20;
	assert_int_equal(eve_write_stats(eve, T0, stats, 2), 0);
	assert_true(eve_flush(eve) == 0);
	lines = slurp(path);
	assert_int_equal(lines, 1);
	room = strlen(text) * 7 / 2;
	for (i = 0; i < 10; i++)
		assert_int_equal(eve_write_stats(eve, T0 + i * S, stats, 2), 0);
	assert_int_equal(eve_flush(eve), -EIO);
	assert_int_equal(slurp(path), 4);
	assert_whole_lines();
	assert_int_equal(c->written, 4);
	assert_int_equal(c->dropped, 7);
	assert_int_equal(c->errors, 1);
	assert_int_equal(c->episodes, 1);

	/* Still full: dropped and counted, the same episode. */
	for (i = 0; i < 5; i++)
		eve_write_stats(eve, T0 + i * S, stats, 1);
	assert_int_equal(eve_flush(eve), -EIO);
	assert_int_equal(slurp(path), 4);
	assert_whole_lines();
	assert_int_equal(c->dropped, 12);
	assert_int_equal(c->episodes, 1);

	/* Space returns: writing resumes by itself. */
	room = 1 << 20;
	for (i = 0; i < 5; i++)
		eve_write_stats(eve, T0 + i * S, stats, 1);
	assert_int_equal(eve_flush(eve), 0);
	assert_int_equal(slurp(path), 9);
	assert_whole_lines();
	assert_int_equal(c->written, 9);
	assert_int_equal(c->dropped, 12);
	assert_int_equal(c->episodes, 1);

	eve_close(eve);
	assert_int_equal(slurp(path), 9);
	assert_whole_lines();
}

static void
test_record_file(void **state)
{
	struct record_file_params params = { .path = path, .what = "test",
		.buffer_size = 64, .write = write_with_room };
	static char big[200];
	struct record_file *rf;
	const struct output_counters *c;

	(void)state;
	/* A crash left a cut-off line: it goes at open. */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("{\"a\":1}\n{\"b\":", f);
		fclose(f);
	}
	rf = record_file_open(&params);
	assert_non_null(rf);
	c = record_file_counters(rf);
	assert_int_equal(slurp(path), 1);
	assert_string_equal(text, "{\"a\":1}\n");
	/* Not one line: refused and counted. */
	assert_int_equal(record_file_append(rf, "{}", 2), -EINVAL);
	assert_int_equal(record_file_append(rf, "{}\n{}\n", 6), -EINVAL);
	assert_int_equal(c->dropped, 2);
	/* Longer than the buffer: written on its own; no room: dropped. */
	memset(big, 'x', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\n';
	room = 150;
	assert_int_equal(record_file_append(rf, big, sizeof(big)), -EIO);
	assert_int_equal(slurp(path), 1);
	assert_whole_lines();
	room = 1000;
	assert_int_equal(record_file_append(rf, big, sizeof(big)), 0);
	assert_int_equal(slurp(path), 2);
	assert_whole_lines();
	/* Buffered records go when the buffer fills. */
	assert_int_equal(record_file_append(rf, "{\"c\":1}\n", 8), 0);
	assert_int_equal(slurp(path), 2);
	assert_int_equal(record_file_flush(rf), 0);
	assert_int_equal(slurp(path), 3);
	assert_int_equal(c->written, 2);
	assert_int_equal(c->dropped, 3);
	assert_int_equal(c->episodes, 1);
	record_file_close(rf);
	params.path = "";
	assert_null(record_file_open(&params));
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_handle_summary),
		cmocka_unit_test(test_dialect_names),
		cmocka_unit_test(test_flow_end),
		cmocka_unit_test(test_handle_eviction),
		cmocka_unit_test(test_logon_tree_dcerpc),
		cmocka_unit_test(test_alert),
		cmocka_unit_test(test_auth_and_unverifiable),
		cmocka_unit_test(test_flow_record),
		cmocka_unit_test(test_stats_nesting),
		cmocka_unit_test(test_syslog_format),
		cmocka_unit_test(test_stats_and_reopen),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_record_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
