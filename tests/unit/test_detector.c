/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Detector: synthetic event streams modelled on the real captures
 * (tests/pcaps): window edges, thresholds, dedup, eviction, the clock
 * taken from event timestamps, and each stand-alone rule.
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
#include "eve.h"
#include "event.h"
#include "flow.h"
#include "match.h"
#include "report.h"
#include "smb.h"

#define S 1000000000ull
/* 2026-11-24T08:00:00Z, about when the captures were made. */
#define T0 (1795334400ull * S)

#define ACCESS_WRITE_DATA	0x00000002u
#define ACCESS_READ_CONTROL	0x00020000u

/* Alerts received by the callback. */
#define SEEN_MAX 64
static struct {
	unsigned int count;
	struct detector_alert alert[SEEN_MAX];
	struct detector_evidence evidence[SEEN_MAX];
} seen;

static struct watchlist *wl;
static uint32_t admin_bit, ipc_bit, exe_bit, pipe_bit;
static uint8_t client_ip = 10;	/* last byte of the client address */

static void
on_alert(void *ctx, const struct detector_alert *alert)
{
	(void)ctx;
	assert_true(seen.count < SEEN_MAX);
	seen.alert[seen.count] = *alert;
	seen.evidence[seen.count] = *alert->evidence;
	seen.alert[seen.count].evidence = &seen.evidence[seen.count];
	seen.alert[seen.count].event = NULL;
	seen.count++;
}

/* Number of new (not update) alerts of <rule> received. */
static unsigned int
new_alerts(enum detector_rule rule)
{
	unsigned int i, n = 0;

	for (i = 0; i < seen.count; i++)
		if (seen.alert[i].rule == rule && !seen.alert[i].update)
			n++;
	return n;
}

/* The last alert or update of <rule>, or NULL. */
static const struct detector_alert *
last_of(enum detector_rule rule)
{
	unsigned int i;

	for (i = seen.count; i > 0; i--)
		if (seen.alert[i - 1].rule == rule)
			return &seen.alert[i - 1];
	return NULL;
}

static void
base(struct gw_event *ev, uint64_t ts, uint8_t kind, uint8_t subtype)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = ts;
	ev->flow_id = 0x1234;
	ev->ip_version = 4;
	ev->client_addr[0] = 198;
	ev->client_addr[1] = 18;
	ev->client_addr[2] = 1;
	ev->client_addr[3] = client_ip;
	ev->server_addr[0] = 198;
	ev->server_addr[1] = 18;
	ev->server_addr[2] = 2;
	ev->server_addr[3] = 20;
	ev->client_port = 53134;
	ev->server_port = 445;
	ev->kind = kind;
	ev->subtype = subtype;
}

static void
add(struct detector *det, const struct gw_event *ev)
{
	detector_add(det, ev, on_alert, NULL);
}

static void
logon(struct detector *det, uint64_t ts, uint32_t status, const char *user)
{
	struct gw_event ev;

	base(&ev, ts, EVENT_SMB, SMB_FACT_LOGON);
	ev.flags = EVENT_F_RESPONSE;
	ev.command = SMB2_SESSION_SETUP;
	ev.status = status;
	ev.u.smb.version = 2;
	ev.u.smb.success = status == 0;
	snprintf(ev.u.smb.user, sizeof(ev.u.smb.user), "%s", user);
	snprintf(ev.u.smb.domain, sizeof(ev.u.smb.domain), "LAB");
	add(det, &ev);
}

static uint32_t
share_bits(const char *share)
{
	if (strcmp(share, "ADMIN$") == 0)
		return admin_bit;
	if (strcmp(share, "IPC$") == 0)
		return ipc_bit;
	return 0;
}

static void
tree(struct detector *det, uint64_t ts, const char *share)
{
	struct gw_event ev;

	base(&ev, ts, EVENT_SMB, SMB_FACT_TREE_CONNECT);
	ev.command = SMB2_TREE_CONNECT;
	ev.u.smb.version = 2;
	ev.watch_classes = share_bits(share);
	snprintf(ev.u.smb.share, sizeof(ev.u.smb.share), "%s", share);
	snprintf(ev.u.smb.name, sizeof(ev.u.smb.name), "\\\\198.18.2.20\\%s",
		share);
	add(det, &ev);
	/* The response is an event too and must not count twice. */
	ev.flags = EVENT_F_RESPONSE;
	ev.ts_ns = ts + 1000;
	add(det, &ev);
}

/* A CREATE request and its response; <fid> identifies the handle. */
static void
create(struct detector *det, uint64_t ts, const char *share, const char *name,
	uint8_t fid, uint32_t access, uint32_t disposition, uint32_t classes)
{
	struct gw_event ev;

	base(&ev, ts, EVENT_SMB, SMB_FACT_CREATE);
	ev.command = SMB2_CREATE;
	ev.u.smb.version = 2;
	ev.u.smb.desired_access = access;
	ev.u.smb.disposition = disposition;
	ev.watch_classes = share_bits(share) | classes;
	snprintf(ev.u.smb.share, sizeof(ev.u.smb.share), "%s", share);
	snprintf(ev.u.smb.name, sizeof(ev.u.smb.name), "%s", name);
	add(det, &ev);
	ev.flags = EVENT_F_RESPONSE;
	ev.ts_ns = ts + 1000;
	ev.u.smb.file_id[0] = fid;
	add(det, &ev);
}

static void
pipe_open(struct detector *det, uint64_t ts, const char *name, uint8_t fid)
{
	struct gw_event ev;

	base(&ev, ts, EVENT_SMB, SMB_FACT_CREATE);
	ev.u.smb.version = 2;
	ev.u.smb.is_pipe = 1;
	ev.u.smb.desired_access = 3;
	ev.u.smb.disposition = 1;
	ev.watch_classes = ipc_bit | pipe_bit;
	snprintf(ev.u.smb.share, sizeof(ev.u.smb.share), "IPC$");
	snprintf(ev.u.smb.name, sizeof(ev.u.smb.name), "%s", name);
	add(det, &ev);
	ev.flags = EVENT_F_RESPONSE;
	ev.u.smb.file_id[0] = fid;
	add(det, &ev);
}

static void
write_file(struct detector *det, uint64_t ts, const char *share,
	const char *name, uint8_t fid, uint32_t classes)
{
	struct gw_event ev;

	base(&ev, ts, EVENT_SMB, SMB_FACT_WRITE);
	ev.command = SMB2_WRITE;
	ev.u.smb.version = 2;
	ev.u.smb.length = 56320;
	ev.u.smb.file_id[0] = fid;
	ev.watch_classes = share_bits(share) | classes;
	snprintf(ev.u.smb.share, sizeof(ev.u.smb.share), "%s", share);
	snprintf(ev.u.smb.name, sizeof(ev.u.smb.name), "%s", name);
	add(det, &ev);
}

static void
rpc_request(struct detector *det, uint64_t ts, const char *iface,
	const char *op, uint16_t opnum, uint8_t args, const char *name,
	const char *command)
{
	struct gw_event ev;

	base(&ev, ts, EVENT_DCERPC, DCERPC_FACT_REQUEST);
	ev.flags = EVENT_F_ON_PIPE;
	ev.u.dcerpc.interface = iface;
	ev.u.dcerpc.operation = op;
	ev.u.dcerpc.opnum = opnum;
	ev.u.dcerpc.args = args;
	snprintf(ev.u.dcerpc.pipe, sizeof(ev.u.dcerpc.pipe), "svcctl");
	snprintf(ev.u.dcerpc.name, sizeof(ev.u.dcerpc.name), "%s", name);
	snprintf(ev.u.dcerpc.command, sizeof(ev.u.dcerpc.command), "%s",
		command);
	add(det, &ev);
}

static void
create_service(struct detector *det, uint64_t ts, const char *command)
{
	rpc_request(det, ts, "svcctl", "OpenSCManagerW", 15, 0, "", "");
	rpc_request(det, ts + 1000, "svcctl", "CreateServiceW", 12,
		DCERPC_ARGS_SERVICE, "tMds", command);
}

/* The executable upload of psexec.py: CREATE with write access, WRITE. */
static void
upload(struct detector *det, uint64_t ts, const char *name, uint8_t fid)
{
	create(det, ts, "ADMIN$", name, fid, ACCESS_WRITE_DATA, 5, exe_bit);
	write_file(det, ts + 2000, "ADMIN$", name, fid, exe_bit);
}

static struct detector *
make(void (*tune)(struct detector_params *))
{
	struct detector_params params;
	struct detector *det;

	detector_params_set_defaults(&params);
	params.watchlist = wl;
	if (tune != NULL)
		tune(&params);
	det = detector_create(&params);
	assert_non_null(det);
	memset(&seen, 0, sizeof(seen));
	client_ip = 10;
	return det;
}

static int
setup(void **state)
{
	struct watchlist_spec spec;
	char error[256];

	(void)state;
	watchlist_spec_set_defaults(&spec);
	wl = watchlist_compile(&spec, error, sizeof(error));
	if (wl == NULL)
		return -1;
	admin_bit = 1u << watchlist_class_id(wl, "admin_share");
	ipc_bit = 1u << watchlist_class_id(wl, "ipc_share");
	exe_bit = 1u << watchlist_class_id(wl, "executable");
	pipe_bit = 1u << watchlist_class_id(wl, "remote_exec_pipe");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	watchlist_free(wl);
	return 0;
}

/* psexec.py over SMB2 as in psexec_smb2.pcap, compressed in time. */
static void
psexec_py(struct detector *det, uint64_t t)
{
	logon(det, t, 0, "root");
	tree(det, t + 1 * S / 1000, "IPC$");
	pipe_open(det, t + 2 * S / 1000, "svcctl", 1);
	pipe_open(det, t + 3 * S / 1000, "srvsvc", 2);
	tree(det, t + 4 * S / 1000, "ADMIN$");
	create(det, t + 5 * S / 1000, "ADMIN$", "", 3, ACCESS_WRITE_DATA, 1, 0);
	tree(det, t + 6 * S / 1000, "ADMIN$");
	upload(det, t + 7 * S / 1000, "QmEyydJf.exe", 4);
	pipe_open(det, t + 8 * S / 1000, "svcctl", 5);
	rpc_request(det, t + 9 * S / 1000, "svcctl", "OpenSCManagerW", 15, 0,
		"", "");
	rpc_request(det, t + 10 * S / 1000, "svcctl", "OpenServiceW", 16, 0,
		"", "");
	rpc_request(det, t + 11 * S / 1000, "svcctl", "CreateServiceW", 12,
		DCERPC_ARGS_SERVICE, "tMds", "%systemroot%\\QmEyydJf.exe");
	tree(det, t + 12 * S / 1000, "ADMIN$");
	create(det, t + 13 * S / 1000, "ADMIN$", "QmEyydJf.exe", 6, 0x10080, 1,
		exe_bit);
}

static void
test_psexec_py(void **state)
{
	struct detector *det = make(NULL);
	const struct detector_alert *a;
	const struct detector_evidence *e;

	(void)state;
	psexec_py(det, T0);
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	a = last_of(DETECTOR_RULE_LATERAL_MOVEMENT);
	e = a->evidence;
	assert_int_equal(a->signature->id, 9000001);
	assert_int_equal(a->count, 2);	/* the upload, then the service */
	assert_true(a->update);
	assert_string_equal(e->user, "root");
	assert_string_equal(e->domain, "LAB");
	assert_string_equal(e->share, "ADMIN$");
	assert_string_equal(e->file, "QmEyydJf.exe");
	assert_string_equal(e->service, "tMds");
	assert_string_equal(e->command, "%systemroot%\\QmEyydJf.exe");
	assert_true(e->exact);
	assert_int_equal(e->conditions, DETECTOR_COND_ALL);
	assert_int_equal(e->exec_kinds, DETECTOR_EXEC_FILE | DETECTOR_EXEC_SERVICE);
	assert_int_equal(e->operation_count, 3);
	assert_string_equal(e->operations[2], "CreateServiceW");
	assert_string_equal(a->mitre, "T1021.002,T1569.002");
	assert_int_equal(a->first_ns, T0 + 7 * S / 1000 + 2000);
	assert_int_equal(a->ip_version, 4);
	assert_int_equal(a->client_addr[3], 10);
	assert_int_equal(a->server_addr[3], 20);

	/* The stand-alone rules fired too, once each. */
	assert_int_equal(new_alerts(DETECTOR_RULE_SERVICE_CREATION), 1);
	assert_int_equal(new_alerts(DETECTOR_RULE_ADMIN_SHARE_EXECUTABLE), 1);
	assert_int_equal(new_alerts(DETECTOR_RULE_LOGON_FAILURE_BURST), 0);
	detector_free(det);
}

/*
 * Sysinternals PsExec connects to ADMIN$ and IPC$ once each and opens
 * four pipes on IPC$: the share is opened repeatedly only counting opens.
 */
static void
test_sysinternals_psexec(void **state)
{
	struct detector *det = make(NULL);

	(void)state;
	logon(det, T0, 0, "admin");
	tree(det, T0 + S, "ADMIN$");
	upload(det, T0 + 2 * S, "PSEXESVC.exe", 1);
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	tree(det, T0 + 3 * S, "IPC$");
	pipe_open(det, T0 + 4 * S, "svcctl", 2);
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	pipe_open(det, T0 + 5 * S, "PSEXESVC-HOST-1234-stdin", 3);
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	assert_string_equal(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->
		evidence->repeated_share, "IPC$");
	assert_string_equal(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->
		evidence->file, "PSEXESVC.exe");
	detector_free(det);
}

/* Logon, repeated share and execution exactly one window apart, or just over. */
static void
test_window_edges(void **state)
{
	uint64_t w = 600 * S;
	struct detector *det = make(NULL);

	(void)state;
	logon(det, T0, 0, "root");
	tree(det, T0 + S, "IPC$");
	tree(det, T0 + 2 * S, "IPC$");
	tree(det, T0 + 3 * S, "IPC$");
	create_service(det, T0 + w - 1000, "cmd.exe");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	detector_free(det);

	det = make(NULL);
	logon(det, T0, 0, "root");
	tree(det, T0 + S, "IPC$");
	tree(det, T0 + 2 * S, "IPC$");
	tree(det, T0 + 3 * S, "IPC$");
	/* 600 s and one nanosecond after the logon. */
	create_service(det, T0 + w, "cmd.exe");
	rpc_request(det, T0 + w + 1, "svcctl", "StartServiceW", 19, 0, "", "");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	/* A new logon brings everything back inside one window. */
	logon(det, T0 + w + 2, 0, "root");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	detector_free(det);

	/* Share accesses spread wider than the window do not add up. */
	det = make(NULL);
	logon(det, T0, 0, "root");
	tree(det, T0, "data");
	tree(det, T0 + w / 2, "data");
	create_service(det, T0 + w / 2, "cmd.exe");
	tree(det, T0 + w + S, "data");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	detector_free(det);
}

/* Evidence from before the window is not shown as this alert's. */
static void
test_stale_evidence(void **state)
{
	struct detector *det = make(NULL);
	const struct detector_evidence *e;

	(void)state;
	tree(det, T0, "ADMIN$");
	upload(det, T0 + S, "old.exe", 1);
	logon(det, T0 + 700 * S, 0, "root");
	tree(det, T0 + 701 * S, "IPC$");
	tree(det, T0 + 702 * S, "IPC$");
	tree(det, T0 + 703 * S, "IPC$");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	create_service(det, T0 + 704 * S, "%SystemRoot%\\new.exe");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	e = last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->evidence;
	assert_string_equal(e->file, "");
	assert_string_equal(e->share, "");
	assert_int_equal(e->exec_kinds, DETECTOR_EXEC_SERVICE);
	assert_string_equal(e->command, "%SystemRoot%\\new.exe");
	assert_true(e->exact);
	assert_string_equal(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->mitre,
		"T1021.002,T1569.002");
	detector_free(det);
}

static void
threshold_four(struct detector_params *p)
{
	p->share_open_threshold = 4;
}

static void
test_threshold(void **state)
{
	struct detector *det = make(NULL);

	(void)state;
	logon(det, T0, 0, "root");
	create_service(det, T0 + S, "%SystemRoot%\\x.exe");
	tree(det, T0 + 2 * S, "C$");
	tree(det, T0 + 3 * S, "C$");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	/* Other shares do not add to C$. */
	tree(det, T0 + 4 * S, "data");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	create(det, T0 + 5 * S, "C$", "Windows\\Temp", 1, 0x80, 1, 0);
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	assert_string_equal(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->
		evidence->repeated_share, "C$");
	assert_int_equal(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->
		evidence->share_accesses, 3);
	detector_free(det);

	det = make(threshold_four);
	logon(det, T0, 0, "root");
	create_service(det, T0 + S, "x.exe");
	tree(det, T0 + 2 * S, "C$");
	tree(det, T0 + 3 * S, "C$");
	tree(det, T0 + 4 * S, "C$");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	tree(det, T0 + 5 * S, "c$");	/* share names compare caseless */
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	detector_free(det);
}

/* What is not execution from the admin path. */
static void
test_not_admin_exec(void **state)
{
	struct detector *det = make(NULL);

	(void)state;
	logon(det, T0, 0, "bob");
	tree(det, T0 + S, "data");
	/* smb2_basic: up.txt written to data; benign_copy: a big file. */
	create(det, T0 + 2 * S, "data", "up.txt", 1, 0x12019f, 5, 0);
	write_file(det, T0 + 3 * S, "data", "up.txt", 1, 0);
	/* An executable on an ordinary share. */
	create(det, T0 + 4 * S, "data", "tool.exe", 2, 0x12019f, 5, exe_bit);
	write_file(det, T0 + 5 * S, "data", "tool.exe", 2, exe_bit);
	/* A WRITE on ADMIN$ whose CREATE only read. */
	tree(det, T0 + 6 * S, "ADMIN$");
	create(det, T0 + 7 * S, "ADMIN$", "x.exe", 3, 0x80, 1, exe_bit);
	write_file(det, T0 + 8 * S, "ADMIN$", "x.exe", 3, exe_bit);
	/* A WRITE on a handle never seen created. */
	write_file(det, T0 + 9 * S, "ADMIN$", "y.exe", 9, exe_bit);
	/* Reconnaissance on svcctl without creating anything. */
	rpc_request(det, T0 + 10 * S, "svcctl", "OpenSCManagerW", 15, 0, "", "");
	rpc_request(det, T0 + 10 * S, "svcctl", "EnumServicesStatusW", 14, 0,
		"", "");
	assert_int_equal(seen.count, 0);
	detector_free(det);
}

static void
test_dedup(void **state)
{
	struct detector *det = make(NULL);
	uint64_t w = 600 * S;
	unsigned int i;

	(void)state;
	for (i = 0; i < 9; i++)
		create_service(det, T0 + i * S, "svc.exe");
	/* One alert; updates at counts 2, 4 and 8 only. */
	assert_int_equal(new_alerts(DETECTOR_RULE_SERVICE_CREATION), 1);
	assert_int_equal(seen.count, 4);
	assert_int_equal(seen.alert[3].count, 8);
	assert_true(seen.alert[3].update);
	assert_int_equal(seen.alert[3].first_ns, T0 + 1000);
	assert_int_equal(seen.alert[3].last_ns, T0 + 7 * S + 1000);
	/* The ninth is reported at the flush. */
	detector_flush(det, on_alert, NULL);
	assert_int_equal(seen.count, 5);
	assert_int_equal(seen.alert[4].count, 9);
	assert_null(seen.alert[4].event);
	detector_flush(det, on_alert, NULL);
	assert_int_equal(seen.count, 5);
	/* A window after the first alert, a new one. */
	create_service(det, T0 + w, "svc.exe");
	assert_int_equal(new_alerts(DETECTOR_RULE_SERVICE_CREATION), 2);
	assert_int_equal(detector_counters(det)->alerts[
		DETECTOR_RULE_SERVICE_CREATION], 2);
	detector_free(det);
}

/* logon_fail_smb2.pcap: five wrong passwords for alice within a second. */
static void
test_logon_failure_burst(void **state)
{
	struct detector *det = make(NULL);
	const struct detector_alert *a;
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++)
		logon(det, T0 + i * S / 10, 0xc000006d, "alice");
	assert_int_equal(seen.count, 0);
	logon(det, T0 + S / 2, 0xc000006d, "alice");
	assert_int_equal(seen.count, 1);
	a = &seen.alert[0];
	assert_int_equal(a->rule, DETECTOR_RULE_LOGON_FAILURE_BURST);
	assert_int_equal(a->signature->id, 9000004);
	assert_string_equal(a->evidence->user, "alice");
	assert_int_equal(a->evidence->status, 0xc000006d);
	assert_int_equal(a->evidence->failures, 5);
	assert_int_equal(a->server_addr[3], 20);
	detector_free(det);

	/* Five failures spread over more than 60 s: no burst. */
	det = make(NULL);
	for (i = 0; i < 5; i++)
		logon(det, T0 + i * 15 * S + (i == 4 ? 1 : 0), 0xc0000064, "x");
	assert_int_equal(seen.count, 0);
	/* A sixth makes the last five fit. */
	logon(det, T0 + 61 * S, 0xc000006a, "x");
	assert_int_equal(seen.count, 1);
	detector_free(det);

	/* ACCESS_DENIED (multichannel binds) and other statuses do not count. */
	det = make(NULL);
	for (i = 0; i < 10; i++)
		logon(det, T0 + i * S / 10, 0xc0000022, "alice");
	for (i = 0; i < 10; i++)
		logon(det, T0 + S + i * S / 10, 0xc000000d, "alice");
	assert_int_equal(seen.count, 0);
	/* Failures from one client to several servers add up. */
	for (i = 0; i < 5; i++) {
		struct gw_event ev;

		base(&ev, T0 + 3 * S + i, EVENT_SMB, SMB_FACT_LOGON);
		ev.flags = EVENT_F_RESPONSE;
		ev.status = 0xc0000234;
		ev.u.smb.version = 2;
		ev.server_addr[3] = (uint8_t)(30 + i);
		add(det, &ev);
	}
	assert_int_equal(new_alerts(DETECTOR_RULE_LOGON_FAILURE_BURST), 1);
	assert_int_equal(seen.alert[0].server_addr[3], 34);
	detector_free(det);
}

static void
small_tables(struct detector_params *p)
{
	p->max_pairs = 16;
	p->max_clients = 16;
}

static void
test_eviction(void **state)
{
	struct detector *det = make(small_tables);
	const struct detector_counters *c = detector_counters(det);
	unsigned int i;

	(void)state;
	/* Pair .10 logs on, then 16 other pairs push it out. */
	logon(det, T0, 0, "root");
	for (i = 0; i < 16; i++) {
		client_ip = (uint8_t)(100 + i);
		logon(det, T0 + (i + 1) * S, 0, "other");
	}
	assert_int_equal(c->pairs, 16);
	assert_int_equal(c->pairs_evicted, 1);
	client_ip = 10;
	tree(det, T0 + 20 * S, "IPC$");
	tree(det, T0 + 21 * S, "IPC$");
	tree(det, T0 + 22 * S, "IPC$");
	create_service(det, T0 + 23 * S, "x.exe");
	/* Its logon was forgotten with it. */
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	assert_int_equal(c->pairs_evicted, 2);

	/* Use keeps an entry: the least recently used one goes. */
	logon(det, T0 + 30 * S, 0, "root");
	for (i = 0; i < 15; i++) {
		client_ip = (uint8_t)(200 + i);
		tree(det, T0 + 31 * S + i, "data");
		client_ip = 10;
		tree(det, T0 + 31 * S + i, "IPC$");
	}
	create_service(det, T0 + 40 * S, "x.exe");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	assert_true(detector_pair_bytes() > sizeof(struct detector_evidence));
	detector_free(det);
}

/*
 * A pair entry taken again, the table full, starts as a new one: nothing
 * of the pair it held (names, the handle of an executable CREATE, share
 * counts, open alerts, DCE/RPC operations and row texts) reaches the new
 * pair. A new entry is not cleared whole, only its head: each part the
 * detector set up on first use instead would show here if it were not.
 */
static void
test_reused_entries_start_empty(void **state)
{
	struct detector *det = make(small_tables);
	const struct detector_counters *c = detector_counters(det);
	const struct detector_alert *a;
	const struct detector_evidence *e;
	unsigned int i, old_cm0062 = 0, old_services = 0, old_rows = 0;
	uint64_t t;

	(void)state;
	for (i = 0; i < 16; i++) {
		memset(&seen, 0, sizeof(seen));
		client_ip = (uint8_t)(100 + i);
		t = T0 + i * S;
		logon(det, t, 0, "olduser");
		tree(det, t + 1000000, "DATA");
		tree(det, t + 2000000, "DATA");
		tree(det, t + 3000000, "ADMIN$");
		tree(det, t + 4000000, "ADMIN$");
		tree(det, t + 5000000, "ADMIN$");
		upload(det, t + 6000000, "old.exe", 3);
		create(det, t + 7000000, "ADMIN$", "later.exe", 9,
			ACCESS_WRITE_DATA, 5, exe_bit);
		create_service(det, t + 8000000, "C:\\old\\old.exe");
		rpc_request(det, t + 9000000, "IRemoteSCMActivator",
			"RemoteCreateInstance", 4, DCERPC_ARGS_DCOM_CLASS,
			"{49B2791A-B1AE-4C90-9B8E-E860BA07F889}",
			"MMC20.Application");
		old_cm0062 += new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT);
		old_services += new_alerts(DETECTOR_RULE_SERVICE_CREATION);
		old_rows += new_alerts(DETECTOR_RULE_RPC);
	}
	assert_int_equal(old_cm0062, 16);
	assert_int_equal(old_services, 16);
	assert_int_equal(old_rows, 16);
	assert_int_equal(c->pairs, 16);

	/*
	 * Sixteen others take those entries: eight create a service after
	 * one access to the old pairs' share, eight upload an executable
	 * to ADMIN$ and activate the same DCOM class.
	 */
	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < 8; i++) {
		client_ip = (uint8_t)(200 + i);
		t = T0 + 100 * S + i * S;
		logon(det, t, 0, "newuser");
		/* The handle the old pair's CREATE named: not this pair's. */
		write_file(det, t + 1000000, "ADMIN$", "later.exe", 9,
			exe_bit);
		/* One access: with the old counts it would be the third. */
		tree(det, t + 2000000, "DATA");
		create_service(det, t + 3000000, "C:\\new\\new.exe");
	}
	assert_int_equal(new_alerts(DETECTOR_RULE_ADMIN_SHARE_EXECUTABLE), 0);
	/* No share opened repeatedly, no executable written: no CM0062. */
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	/* A new alert per new pair, not an update of the old pair's. */
	assert_int_equal(new_alerts(DETECTOR_RULE_SERVICE_CREATION), 8);
	assert_int_equal(seen.count, 8);
	a = last_of(DETECTOR_RULE_SERVICE_CREATION);
	assert_non_null(a);
	assert_int_equal(a->count, 1);
	e = a->evidence;
	assert_string_equal(e->user, "newuser");
	assert_string_equal(e->service, "tMds");
	assert_string_equal(e->command, "C:\\new\\new.exe");
	assert_string_equal(e->share, "");
	assert_string_equal(e->repeated_share, "");
	assert_string_equal(e->file, "");
	assert_string_equal(e->workstation, "");
	assert_string_equal(e->rpc_target, "");
	assert_string_equal(e->rpc_detail, "");
	assert_string_equal(e->client_segment, "");
	assert_false(e->exact);
	assert_int_equal(e->share_accesses, 0);
	assert_int_equal(e->share_first_ns, 0);
	assert_int_equal(e->exec_kinds & DETECTOR_EXEC_FILE, 0);

	for (i = 8; i < 16; i++) {
		memset(&seen, 0, sizeof(seen));
		client_ip = (uint8_t)(200 + i);
		t = T0 + 100 * S + i * S;
		logon(det, t, 0, "newuser");
		tree(det, t + 1000000, "ADMIN$");
		tree(det, t + 2000000, "ADMIN$");
		tree(det, t + 3000000, "ADMIN$");
		upload(det, t + 4000000, "new.exe", 5);
		a = last_of(DETECTOR_RULE_LATERAL_MOVEMENT);
		assert_non_null(a);
		assert_false(a->update);
		e = a->evidence;
		/* No DCE/RPC call of this pair: none of the old pair's. */
		assert_int_equal(e->operation_count, 0);
		assert_int_equal(e->exec_kinds, DETECTOR_EXEC_FILE);
		assert_string_equal(e->file, "new.exe");
		assert_string_equal(e->service, "");
		assert_string_equal(e->command, "");
		rpc_request(det, t + 5000000, "IRemoteSCMActivator",
			"RemoteCreateInstance", 4, DCERPC_ARGS_DCOM_CLASS,
			"{49B2791A-B1AE-4C90-9B8E-E860BA07F889}",
			"MMC20.Application");
		assert_int_equal(new_alerts(DETECTOR_RULE_RPC), 1);
	}
	assert_int_equal(c->pairs, 16);
	assert_int_equal(c->pairs_evicted, 16);
	detector_free(det);
}

/*
 * Writes of other pairs, to handles no CREATE of theirs announced (a
 * bulk copy, or a flood of them), take no detector entry: they cannot
 * push out the pair whose executable CREATE on ADMIN$ is remembered, and
 * its WRITE still raises the alert.
 */
static void
test_writes_do_not_evict(void **state)
{
	struct detector *det = make(small_tables);
	const struct detector_counters *c = detector_counters(det);
	unsigned int i;

	(void)state;
	create(det, T0, "ADMIN$", "x.exe", 7, ACCESS_WRITE_DATA, 5, exe_bit);
	assert_int_equal(c->pairs, 1);
	for (i = 0; i < 64; i++) {
		client_ip = (uint8_t)(100 + i);
		write_file(det, T0 + S + i, "data", "big.iso", 3, 0);
	}
	assert_int_equal(c->pairs, 1);
	assert_int_equal(c->pairs_evicted, 0);
	client_ip = 10;
	write_file(det, T0 + 2 * S, "ADMIN$", "x.exe", 7, exe_bit);
	assert_int_equal(new_alerts(DETECTOR_RULE_ADMIN_SHARE_EXECUTABLE), 1);
	detector_free(det);
}

/* Every time comes from the events: far apart or out of order. */
static void
test_clock_from_timestamps(void **state)
{
	struct detector *det = make(NULL);
	uint64_t far = 4000000000ull * S;	/* the year 2096 */

	(void)state;
	/* A capture replayed: timestamps years away from the wall clock. */
	logon(det, far, 0, "root");
	tree(det, far + S, "ADMIN$");
	tree(det, far + 2 * S, "ADMIN$");
	/* An event of another worker arrives late, earlier in time. */
	tree(det, far - 10 * S, "ADMIN$");
	upload(det, far + 3 * S, "a.exe", 7);
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	assert_int_equal(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->first_ns,
		far + 3 * S + 2000);
	assert_int_equal(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->
		evidence->share_first_ns, far - 10 * S);
	detector_free(det);

	/* The same stream, twice: the same alerts. */
	det = make(NULL);
	psexec_py(det, T0);
	{
		unsigned int n = seen.count;
		struct detector_alert first = seen.alert[0];

		detector_free(det);
		det = make(NULL);
		psexec_py(det, T0);
		assert_int_equal(seen.count, n);
		assert_int_equal(seen.alert[0].rule, first.rule);
		assert_int_equal(seen.alert[0].first_ns, first.first_ns);
	}
	detector_free(det);
}

static void
require_logon_and_exec(struct detector_params *p)
{
	p->required = DETECTOR_COND_LOGON | DETECTOR_COND_ADMIN_EXEC;
	p->rules[DETECTOR_RULE_SERVICE_CREATION] = false;
}

static void
test_required_and_switches(void **state)
{
	struct detector *det = make(require_logon_and_exec);

	(void)state;
	logon(det, T0, 0, "root");
	create_service(det, T0 + S, "x.exe");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	assert_int_equal(new_alerts(DETECTOR_RULE_SERVICE_CREATION), 0);
	assert_false(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->evidence->exact);
	detector_free(det);

	/* Anonymous logons are no logon. */
	det = make(require_logon_and_exec);
	{
		struct gw_event ev;

		base(&ev, T0, EVENT_SMB, SMB_FACT_LOGON);
		ev.flags = EVENT_F_RESPONSE;
		ev.u.smb.version = 2;
		ev.u.smb.success = 1;
		ev.u.smb.session_flags = SMB2_SESSION_FLAG_IS_NULL;
		add(det, &ev);
	}
	create_service(det, T0 + S, "x.exe");
	assert_int_equal(seen.count, 0);
	detector_free(det);
}

/* An NTLMSSP logon carried in a DCE/RPC auth verifier (AUTH3). */
static void
rpc_auth(struct detector *det, uint64_t ts, const char *user)
{
	struct gw_event ev;

	base(&ev, ts, EVENT_DCERPC, DCERPC_FACT_AUTH);
	ev.server_port = 49154;
	ev.command = DCERPC_PTYPE_AUTH3;
	ev.u.dcerpc.interface = "svcctl";
	snprintf(ev.u.dcerpc.user, sizeof(ev.u.dcerpc.user), "%s", user);
	snprintf(ev.u.dcerpc.domain, sizeof(ev.u.dcerpc.domain), "LAB");
	snprintf(ev.u.dcerpc.name, sizeof(ev.u.dcerpc.name), "WS01");
	add(det, &ev);
}

/*
 * svcctl over TCP through the endpoint mapper, as Sysinternals PsExec can:
 * the DCE/RPC authentication is the logon.
 */
static void
test_dcerpc_auth_logon(void **state)
{
	struct detector *det = make(require_logon_and_exec);
	const struct detector_evidence *e;

	(void)state;
	rpc_auth(det, T0, "svcadmin");
	create_service(det, T0 + S, "x.exe");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	e = last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->evidence;
	assert_string_equal(e->user, "svcadmin");
	assert_string_equal(e->domain, "LAB");
	assert_string_equal(e->workstation, "WS01");
	assert_int_equal(e->auth, SMB_AUTH_NTLMSSP);
	assert_true(e->conditions & DETECTOR_COND_LOGON);
	detector_free(det);

	/* An anonymous bind is no logon. */
	det = make(require_logon_and_exec);
	rpc_auth(det, T0, "");
	create_service(det, T0 + S, "x.exe");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 0);
	detector_free(det);
}

/* A scheduled task (atsvc / ITaskSchedulerService) is execution too. */
static void
test_scheduled_task(void **state)
{
	struct detector *det = make(NULL);

	(void)state;
	logon(det, T0, 0, "root");
	tree(det, T0 + S, "IPC$");
	pipe_open(det, T0 + 2 * S, "atsvc", 1);
	pipe_open(det, T0 + 3 * S, "atsvc", 2);
	rpc_request(det, T0 + 4 * S, "ITaskSchedulerService",
		"SchRpcRegisterTask", 1, DCERPC_ARGS_TASK, "\\abc",
		"cmd.exe /C whoami");
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	assert_string_equal(last_of(DETECTOR_RULE_LATERAL_MOVEMENT)->mitre,
		"T1021.002,T1053");
	assert_int_equal(new_alerts(DETECTOR_RULE_SERVICE_CREATION), 0);
	detector_free(det);
}

static void
no_unverifiable_rule(struct detector_params *params)
{
	params->rules[DETECTOR_RULE_UNVERIFIABLE] = false;
}

/*
 * A session the policy cannot verify: the policy event raises 9000009
 * with the last logon's user and kind, denied or allowed; the note
 * 9000008 is not repeated for that flow; other policy events are quiet.
 */
static void
test_unverifiable(void **state)
{
	struct detector *det = make(NULL);
	struct gw_event ev;
	const struct detector_alert *a;

	(void)state;
	logon(det, T0, 0, "root");
	/* The logon's kind, as the parser found it in the request's blob. */
	base(&ev, T0 + S, EVENT_SMB, SMB_FACT_LOGON);
	ev.flags = EVENT_F_RESPONSE;
	ev.u.smb.version = 2;
	ev.u.smb.success = 1;
	ev.u.smb.auth = SMB_AUTH_KERBEROS;
	snprintf(ev.u.smb.user, sizeof(ev.u.smb.user), "alice");
	add(det, &ev);

	/* A pair decision, or an SMB rule on a readable message: nothing. */
	base(&ev, T0 + 2 * S, EVENT_POLICY, EVENT_POLICY_PAIR);
	add(det, &ev);
	base(&ev, T0 + 2 * S, EVENT_POLICY, EVENT_POLICY_SMB);
	ev.u.policy.action = EVENT_ACTION_DENIED;
	add(det, &ev);
	assert_int_equal(seen.count, 0);

	ev.u.policy.unverifiable = EVENT_UNVERIFIABLE_ENCRYPTED;
	ev.u.policy.unverifiable_action = 1;
	ev.u.policy.rule = 3;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_UNVERIFIABLE), 1);
	a = last_of(DETECTOR_RULE_UNVERIFIABLE);
	assert_int_equal(a->signature->id, 9000009);
	assert_int_equal(a->signature->severity, 2);
	assert_string_equal(a->evidence->user, "alice");
	assert_int_equal(a->evidence->auth, SMB_AUTH_KERBEROS);
	assert_true(a->evidence->encrypted);
	assert_int_equal(a->evidence->unverifiable,
		EVENT_UNVERIFIABLE_ENCRYPTED);
	assert_int_equal(a->evidence->policy_action, EVENT_ACTION_DENIED);
	assert_int_equal(a->evidence->policy_rule, 3);
	/* The flow's sealed record: no note on top of the alert. */
	base(&ev, T0 + 2 * S, EVENT_SMB, SMB_FACT_ENCRYPTED);
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_ENCRYPTED), 0);
	/* Another flow of the pair, sealed and allowed: counted. */
	base(&ev, T0 + 3 * S, EVENT_POLICY, EVENT_POLICY_SMB);
	ev.flow_id = 0x5678;
	ev.u.policy.action = EVENT_ACTION_ALLOWED;
	ev.u.policy.unverifiable = EVENT_UNVERIFIABLE_COMPRESSED;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_UNVERIFIABLE), 1);
	assert_true(last_of(DETECTOR_RULE_UNVERIFIABLE)->update);
	assert_int_equal(last_of(DETECTOR_RULE_UNVERIFIABLE)->count, 2);
	detector_free(det);

	/* Switched off: nothing. */
	det = make(no_unverifiable_rule);
	base(&ev, T0, EVENT_POLICY, EVENT_POLICY_SMB);
	ev.u.policy.unverifiable = EVENT_UNVERIFIABLE_ENCRYPTED;
	add(det, &ev);
	assert_int_equal(seen.count, 0);
	detector_free(det);
}

static void
test_single_rules(void **state)
{
	struct detector *det = make(NULL);
	struct gw_event ev;

	(void)state;
	/* SMB1 negotiated: the response decides (psexec_smb2 offers SMB1). */
	base(&ev, T0, EVENT_SMB, SMB_FACT_NEGOTIATE);
	ev.u.smb.version = 1;
	add(det, &ev);
	assert_int_equal(seen.count, 0);
	ev.flags = EVENT_F_RESPONSE;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_SMB1), 1);

	/* Encrypted: noted once per pair and window. */
	base(&ev, T0 + S, EVENT_SMB, SMB_FACT_ENCRYPTED);
	add(det, &ev);
	ev.ts_ns += S;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_ENCRYPTED), 1);
	assert_true(last_of(DETECTOR_RULE_ENCRYPTED)->evidence->encrypted);
	assert_int_equal(last_of(DETECTOR_RULE_ENCRYPTED)->signature->severity, 3);

	/* Non-standard port (tunnel_port8445). */
	base(&ev, T0 + 3 * S, EVENT_FLOW, EVENT_FLOW_CLASSIFIED);
	ev.server_port = 8445;
	ev.u.flow.app = FLOW_APP_SMB;
	ev.u.flow.method = EVENT_DETECT_CONTENT;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_NONSTANDARD_PORT), 0);
	ev.flags = EVENT_F_NONSTANDARD_PORT;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_NONSTANDARD_PORT), 1);
	assert_string_equal(last_of(DETECTOR_RULE_NONSTANDARD_PORT)->mitre,
		"T1572");
	detector_free(det);
}

static const char *
segment_by_last_byte(const uint8_t addr[16], uint8_t ip_version, void *arg)
{
	(void)arg;
	if (ip_version != 4)
		return NULL;
	return addr[2] == 2 ? "clients" : "servers";
}

static void
workstations(struct detector_params *p)
{
	p->segment_of = segment_by_last_byte;
	p->workstation_segment_count = 1;
	snprintf(p->workstation_segments[0], DETECTOR_SEGMENT_NAME_MAX,
		"clients");
}

static void
test_workstation_target(void **state)
{
	struct detector *det = make(NULL);
	struct gw_event ev;

	(void)state;
	base(&ev, T0, EVENT_FLOW, EVENT_FLOW_CLASSIFIED);
	ev.u.flow.app = FLOW_APP_SMB;
	add(det, &ev);
	assert_int_equal(seen.count, 0);	/* no segment lookup: inactive */
	detector_free(det);

	det = make(workstations);
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_WORKSTATION_TARGET), 1);
	ev.server_addr[2] = 9;
	ev.client_addr[3] = 99;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_WORKSTATION_TARGET), 1);
	detector_free(det);
}

/* Without a watchlist, ADMIN$/C$ and executable suffixes stand in. */
static void
test_no_watchlist(void **state)
{
	struct detector_params params;
	struct detector *det;

	(void)state;
	detector_params_set_defaults(&params);
	det = detector_create(&params);
	assert_non_null(det);
	memset(&seen, 0, sizeof(seen));
	logon(det, T0, 0, "root");
	tree(det, T0 + S, "C$");
	tree(det, T0 + 2 * S, "C$");
	create(det, T0 + 3 * S, "C$", "Windows\\x.EXE", 1, 0x40000000, 5, 0);
	write_file(det, T0 + 4 * S, "C$", "Windows\\x.EXE", 1, 0);
	assert_int_equal(new_alerts(DETECTOR_RULE_LATERAL_MOVEMENT), 1);
	rpc_request(det, T0 + 5 * S, "svcctl", "CreateServiceW", 12,
		DCERPC_ARGS_SERVICE, "s", "C:\\x.exe");
	assert_true(last_of(DETECTOR_RULE_SERVICE_CREATION)->evidence->exact);
	detector_free(det);
}

static void
test_params(void **state)
{
	struct detector_params p;
	char why[128];

	(void)state;
	detector_params_set_defaults(&p);
	assert_int_equal(detector_params_check(&p, why, sizeof(why)), 0);
	p.share_open_threshold = DETECTOR_SHARE_THRESHOLD_MAX + 1;
	assert_int_equal(detector_params_check(&p, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "share_open_threshold must be 1..16");
	errno = 0;
	assert_null(detector_create(&p));
	assert_int_equal(errno, EINVAL);
	detector_params_set_defaults(&p);
	p.required = 0;
	assert_int_equal(detector_params_check(&p, NULL, 0), -EINVAL);

	assert_int_equal(detector_rule_by_key("lateral_movement"),
		DETECTOR_RULE_LATERAL_MOVEMENT);
	assert_int_equal(detector_rule_by_key("encrypted"),
		DETECTOR_RULE_ENCRYPTED);
	assert_int_equal(detector_rule_by_key("nope"), -ENOENT);
	assert_int_equal(detector_condition_by_name("share_repeat"),
		DETECTOR_COND_SHARE_REPEAT);
	assert_int_equal(detector_condition_by_name("x"), 0);
	assert_null(detector_signature(DETECTOR_RULE_COUNT));
	assert_int_equal(detector_signature(DETECTOR_RULE_ENCRYPTED)->id,
		9000008);
}

/* Loaders of detector { }, output { } and report { }. */

static struct config_errors errors;

/* Parses <text> and runs the three loaders; returns how many failed. */
static int
load_groups(const char *text, struct detector_params *dp,
	struct eve_params *ep, struct report_params *rp)
{
	config_t lc;
	int failed = 0;

	memset(&errors, 0, sizeof(errors));
	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE)
		fail_msg("bad test config at line %d: %s",
			config_error_line(&lc), config_error_text(&lc));
	failed += detector_config_load_detector(config_lookup(&lc, "detector"),
		"t.conf", dp, &errors) < 0;
	failed += detector_config_load_output(config_lookup(&lc, "output"),
		"t.conf", ep, &errors) < 0;
	failed += detector_config_load_report(config_lookup(&lc, "report"),
		"t.conf", rp, &errors) < 0;
	config_destroy(&lc);
	return failed;
}

static void
assert_error(unsigned int i, const char *expected)
{
	unsigned int k;

	if (i >= errors.count || strcmp(errors.messages[i], expected) != 0) {
		for (k = 0; k < errors.count; k++)
			print_message("  %s\n", errors.messages[k]);
		fail_msg("expected error %u: %s", i, expected);
	}
}

static void
test_config_defaults(void **state)
{
	struct detector_params dp, want;
	struct eve_params ep;
	struct report_params rp;

	(void)state;
	assert_int_equal(load_groups("", &dp, &ep, &rp), 0);
	detector_params_set_defaults(&want);
	assert_memory_equal(&dp, &want, sizeof(dp));
	assert_int_equal(dp.window, 600);
	assert_int_equal(dp.share_open_threshold, 3);
	assert_int_equal(dp.required, DETECTOR_COND_ALL);
	assert_int_equal(dp.logon_failures, 5);
	assert_int_equal(dp.logon_failure_window, 60);
	assert_string_equal(ep.path, "");
	assert_false(ep.syslog);
	assert_int_equal(ep.max_handles, 4096);
	assert_int_equal(ep.stats_interval, 60);
	assert_int_equal(ep.flows, EVE_FLOWS_ALL);
	assert_int_equal(ep.flows_sample, 100);
	assert_int_equal(rp.days, 7);
	assert_int_equal(rp.trusted_count, 0);
}

static void
test_config_values(void **state)
{
	struct detector_params dp;
	struct eve_params ep;
	struct report_params rp;

	(void)state;
	assert_int_equal(load_groups(
		"detector: { window = 300; share_open_threshold = 5;\n"
		"  require = [ \"logon\", \"admin_exec\" ];\n"
		"  max_pairs = 1024; max_clients = 64;\n"
		"  logon_failures = 10; logon_failure_window = 30;\n"
		"  workstation_segments = [ \"clients\", \"laptops\" ];\n"
		"  rules: { smb1 = false; encrypted = false; }; };\n"
		"output: { eve = \"/var/log/smbgw/eve.json\"; syslog = true;\n"
		"  max_handles = 100; syslog_target = \"tcp://198.18.250.1:6514\";\n"
		"  stats_interval = 10; flows = \"sampled\"; flows_sample = 7; };\n"
		"report: { days = 30; max_rows = 1000;\n"
		"  trusted = [ \"10.0.0.0/8\", \"fd00::/8\" ];\n"
		"  path = \"/var/lib/smbgw/report.csv\"; checkpoint_interval = 5; };\n",
		&dp, &ep, &rp), 0);
	assert_int_equal(dp.window, 300);
	assert_int_equal(dp.share_open_threshold, 5);
	assert_int_equal(dp.required, DETECTOR_COND_LOGON | DETECTOR_COND_ADMIN_EXEC);
	assert_int_equal(dp.max_pairs, 1024);
	assert_int_equal(dp.max_clients, 64);
	assert_int_equal(dp.logon_failures, 10);
	assert_int_equal(dp.logon_failure_window, 30);
	assert_int_equal(dp.workstation_segment_count, 2);
	assert_string_equal(dp.workstation_segments[1], "laptops");
	assert_false(dp.rules[DETECTOR_RULE_SMB1]);
	assert_false(dp.rules[DETECTOR_RULE_ENCRYPTED]);
	assert_true(dp.rules[DETECTOR_RULE_LATERAL_MOVEMENT]);
	assert_int_equal(detector_params_check(&dp, NULL, 0), 0);
	assert_string_equal(ep.path, "/var/log/smbgw/eve.json");
	assert_true(ep.syslog);
	assert_int_equal(ep.max_handles, 100);
	assert_string_equal(ep.syslog_target, "tcp://198.18.250.1:6514");
	assert_int_equal(ep.stats_interval, 10);
	assert_int_equal(ep.flows, EVE_FLOWS_SAMPLED);
	assert_int_equal(ep.flows_sample, 7);
	assert_int_equal(rp.days, 30);
	assert_int_equal(rp.max_rows, 1000);
	assert_int_equal(rp.trusted_count, 2);
	assert_int_equal(rp.trusted[1].ip_version, 6);
	assert_int_equal(rp.trusted[1].length, 8);
	assert_string_equal(rp.path, "/var/lib/smbgw/report.csv");
	assert_int_equal(rp.checkpoint_interval, 5);
	assert_int_equal(load_groups("report: { days = 2; };\n", &dp, &ep, &rp), 0);
	assert_string_equal(rp.path, "");
	assert_int_equal(rp.checkpoint_interval, 60);
}

static void
test_config_errors(void **state)
{
	struct detector_params dp;
	struct eve_params ep;
	struct report_params rp;

	(void)state;
	assert_int_equal(load_groups(
		"detector: {\n"
		"  window = 0;\n"
		"  share_open_threshold = \"3\";\n"
		"  require = [ \"logon\", \"exec\" ];\n"
		"  rules: { smb2 = true; smb1 = 1; };\n"
		"  windw = 5;\n"
		"  workstation_segments = [ \"a\", \"a\" ];\n"
		"};\n"
		"output: { eve = 5; verbose = true; };\n"
		"report: { days = 400; trusted = [ \"10.0.0.1/8\" ]; };\n",
		&dp, &ep, &rp), 3);
	assert_int_equal(errors.count, 11);
	assert_error(0, "t.conf:2: detector.window = 0 is out of range [1, 86400]");
	assert_error(1, "t.conf:3: detector.share_open_threshold must be an integer, not a string");
	assert_error(2, "t.conf:4: detector.require[1] = \"exec\" is not one of: logon, admin_exec, share_repeat");
	assert_error(3, "t.conf:5: unknown key detector.rules.smb2 (expected lateral_movement, service_creation, admin_share_executable, logon_failure_burst, smb1, workstation_target, nonstandard_port, encrypted, unverifiable, stream_conflict, stream_unjudged, rpc)");
	assert_error(4, "t.conf:5: detector.rules.smb1 must be a boolean, not an integer");
	assert_error(5, "t.conf:6: unknown key detector.windw (expected window, share_open_threshold, require, max_pairs, max_clients, logon_failures, logon_failure_window, workstation_segments, rules, rpc_rules, discovery_breadth, netlogon_auth_burst)");
	assert_error(6, "t.conf:7: detector.workstation_segments names \"a\" twice");
	assert_error(7, "t.conf:9: output.eve must be a string (a file name, or \"\" for none), not an integer");
	assert_error(8, "t.conf:9: unknown key output.verbose (expected eve, syslog, syslog_target, max_handles, stats_interval, flows, flows_sample, redis)");
	assert_error(9, "t.conf:10: report.days = 400 is out of range [1, 366]");
	assert_error(10, "t.conf:10: report.trusted[0] = \"10.0.0.1/8\" is not an address prefix like \"10.0.0.0/8\" or \"fd00::/8\" (no bits set beyond the length)");

	assert_int_equal(load_groups(
		"detector: { require = [ ]; rules = 5; };\n"
		"output: { max_handles = 1; };\n"
		"report: { path = 1; checkpoint_interval = 86401; checkpoint = 5; };\n",
		&dp, &ep, &rp), 3);
	assert_int_equal(errors.count, 6);
	assert_error(0, "t.conf:1: detector.require is empty; at least one of logon, admin_exec, share_repeat");
	assert_error(1, "t.conf:1: detector.rules must be a group { name = true; ... }, not an integer");
	assert_error(2, "t.conf:2: output.max_handles = 1 is out of range [16, 1048576]");
	assert_error(3, "t.conf:3: report.path must be a string (a file name, or \"\" for none), not an integer");
	assert_error(4, "t.conf:3: report.checkpoint_interval = 86401 is out of range [0, 86400]");
	assert_error(5, "t.conf:3: unknown key report.checkpoint (expected days, max_rows, trusted, path, checkpoint_interval)");

	assert_int_equal(load_groups(
		"output: { syslog_target = \"tcp://syslog.example:514\"; flows = \"some\";\n"
		"  flows_sample = 0; stats_interval = 86401; };\n",
		&dp, &ep, &rp), 1);
	assert_int_equal(errors.count, 4);
	assert_error(0, "t.conf:1: output.syslog_target must be \"local\", \"udp://ADDRESS:PORT\" or \"tcp://ADDRESS:PORT\"");
	assert_error(1, "t.conf:1: output.flows must be \"all\", \"smb_dcerpc\" or \"sampled\"");
	assert_error(2, "t.conf:2: output.flows_sample = 0 is out of range [1, 1000000]");
	assert_error(3, "t.conf:2: output.stats_interval = 86401 is out of range [0, 86400]");
}

/* The normaliser's findings become alerts naming the session's user. */
static void
test_stream_anomalies(void **state)
{
	struct detector *det = make(NULL);
	const struct detector_alert *alert;
	struct gw_event ev;

	(void)state;
	seen.count = 0;
	logon(det, 1000000000ull, 0, "mallory");
	base(&ev, 2000000000ull, EVENT_FLOW, EVENT_FLOW_STREAM);
	ev.u.flow.app = FLOW_APP_SMB;
	ev.u.flow.end_reason = EVENT_STREAM_CONFLICT;
	ev.u.flow.action = EVENT_ACTION_DENIED;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_STREAM_CONFLICT), 1);
	alert = last_of(DETECTOR_RULE_STREAM_CONFLICT);
	assert_string_equal(alert->evidence->user, "mallory");
	assert_int_equal(alert->signature->id, 9000010);
	assert_int_equal(alert->signature->severity, 1);
	assert_int_equal(new_alerts(DETECTOR_RULE_STREAM_UNJUDGED), 0);

	base(&ev, 3000000000ull, EVENT_FLOW, EVENT_FLOW_STREAM);
	ev.u.flow.app = FLOW_APP_SMB;
	ev.u.flow.end_reason = EVENT_STREAM_GAP_TIMEOUT;
	add(det, &ev);
	assert_int_equal(new_alerts(DETECTOR_RULE_STREAM_UNJUDGED), 1);
	assert_int_equal(last_of(DETECTOR_RULE_STREAM_UNJUDGED)->signature->id,
		9000011);
	detector_free(det);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psexec_py),
		cmocka_unit_test(test_sysinternals_psexec),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_stale_evidence),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_not_admin_exec),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_logon_failure_burst),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_writes_do_not_evict),
		cmocka_unit_test(test_reused_entries_start_empty),
		cmocka_unit_test(test_clock_from_timestamps),
		cmocka_unit_test(test_required_and_switches),
		cmocka_unit_test(test_dcerpc_auth_logon),
		cmocka_unit_test(test_scheduled_task),
		cmocka_unit_test(test_single_rules),
		cmocka_unit_test(test_unverifiable),
		cmocka_unit_test(test_workstation_target),
		cmocka_unit_test(test_no_watchlist),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_stream_anomalies),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
