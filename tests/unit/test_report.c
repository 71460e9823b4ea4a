/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Report "SMB traffic allowed": per UTC day and pair, connections, bytes,
 * ports, detection method and action; trusted prefixes; retention; the
 * bounds of the row table; JSON and CSV output; CSV rows read back; the
 * checkpoint file (atomic save, load at start, damaged files set aside).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "event.h"
#include "flow.h"
#include "report.h"
#include "report_checkpoint.h"
#include "report_csv.h"

#define S 1000000000ull
#define DAY (86400ull * S)
/* 2026-11-24T00:00:00Z */
#define D0 (1795478400ull * S)

static char text[1 << 16];

static void
flow(struct report *report, uint64_t ts, uint8_t subtype, uint8_t client,
	uint8_t server, uint16_t port, uint8_t method, uint64_t up,
	uint64_t down, enum report_action action)
{
	struct gw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.kind = EVENT_FLOW;
	ev.subtype = subtype;
	ev.ip_version = 4;
	ev.client_addr[0] = 10;
	ev.client_addr[3] = client;
	ev.server_addr[0] = 192;
	ev.server_addr[1] = 168;
	ev.server_addr[3] = server;
	ev.client_port = 50000;
	ev.server_port = port;
	ev.u.flow.app = FLOW_APP_SMB;
	ev.u.flow.method = method;
	ev.u.flow.bytes[0] = up;
	ev.u.flow.bytes[1] = down;
	report_add_flow(report, &ev, action);
}

/* A whole connection: classified, then ended with its bytes. */
static void
connection(struct report *report, uint64_t ts, uint8_t client, uint8_t server,
	uint16_t port, enum report_action action)
{
	flow(report, ts, EVENT_FLOW_CLASSIFIED, client, server, port,
		port == 445 || port == 139 ? EVENT_DETECT_PORT :
		EVENT_DETECT_CONTENT, 0, 0, action);
	flow(report, ts + S, EVENT_FLOW_END, client, server, port, 0, 100, 1000,
		action);
}

static void
json_of(const struct report *report, uint32_t day)
{
	FILE *f = fmemopen(text, sizeof(text), "w");

	assert_non_null(f);
	assert_int_equal(report_write_json(report, f, day), 0);
	fclose(f);
}

static void
csv_of(const struct report *report, uint32_t day)
{
	FILE *f = fmemopen(text, sizeof(text), "w");

	assert_non_null(f);
	assert_int_equal(report_write_csv(report, f, day), 0);
	fclose(f);
}

static struct report *
make(unsigned int days, unsigned int rows)
{
	struct report_params params;
	struct report *report;

	report_params_set_defaults(&params);
	if (days != 0)
		params.days = days;
	if (rows != 0)
		params.max_rows = rows;
	report = report_create(&params);
	assert_non_null(report);
	return report;
}

static void
test_counts(void **state)
{
	struct report *report = make(0, 0);

	(void)state;
	connection(report, D0 + 10 * S, 1, 20, 445, REPORT_ACTION_ALLOWED);
	connection(report, D0 + 20 * S, 1, 20, 445, REPORT_ACTION_ALLOWED);
	connection(report, D0 + 30 * S, 1, 20, 8445, REPORT_ACTION_MONITORED);
	connection(report, D0 + 40 * S, 1, 20, 445, REPORT_ACTION_DENIED);
	connection(report, D0 + 50 * S, 2, 20, 139, REPORT_ACTION_ALLOWED);
	assert_int_equal(report_counters(report)->flows, 5);
	assert_int_equal(report_counters(report)->rows, 2);

	json_of(report, REPORT_ALL_DAYS);
	assert_string_equal(text,
		"{\"report\":\"smb_allowed\",\"days_kept\":7,\"days\":["
		"{\"date\":\"2026-11-24\",\"pairs\":["
		"{\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"192.168.0.20\","
		"\"connections\":4,\"bytes\":4400,\"bytes_toserver\":400,"
		"\"bytes_toclient\":4000,\"dest_ports\":[445,8445],"
		"\"detected_by\":{\"port\":3,\"content\":1},"
		"\"actions\":{\"allowed\":2,\"denied\":1,\"monitored\":1}},"
		"{\"src_ip\":\"10.0.0.2\",\"dest_ip\":\"192.168.0.20\","
		"\"connections\":1,\"bytes\":1100,\"bytes_toserver\":100,"
		"\"bytes_toclient\":1000,\"dest_ports\":[139],"
		"\"detected_by\":{\"port\":1,\"content\":0},"
		"\"actions\":{\"allowed\":1,\"denied\":0,\"monitored\":0}}"
		"]}]}\n");

	csv_of(report, report_day_of(D0));
	assert_string_equal(text,
		"date,src_ip,dest_ip,connections,bytes_toserver,bytes_toclient,"
		"dest_ports,detected_by_port,detected_by_content,allowed,denied,"
		"monitored\n"
		"2026-11-24,10.0.0.1,192.168.0.20,4,400,4000,\"445 8445\",3,1,2,1,1\n"
		"2026-11-24,10.0.0.2,192.168.0.20,1,100,1000,\"139\",1,0,1,0,0\n");

	/* Other event kinds do not count. */
	{
		struct gw_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.kind = EVENT_SMB;
		ev.ts_ns = D0;
		report_add_flow(report, &ev, REPORT_ACTION_ALLOWED);
	}
	assert_int_equal(report_counters(report)->flows, 5);
	report_free(report);
}

/* Days are UTC days of the event times; a connection over midnight. */
static void
test_days(void **state)
{
	struct report *report = make(0, 0);

	(void)state;
	flow(report, D0 - S, EVENT_FLOW_CLASSIFIED, 1, 20, 445,
		EVENT_DETECT_PORT, 0, 0, REPORT_ACTION_ALLOWED);
	flow(report, D0 + S, EVENT_FLOW_END, 1, 20, 445, EVENT_DETECT_PORT,
		5, 7, REPORT_ACTION_ALLOWED);
	assert_int_equal(report_counters(report)->rows, 2);
	csv_of(report, REPORT_ALL_DAYS);
	assert_non_null(strstr(text,
		"2026-11-23,10.0.0.1,192.168.0.20,1,0,0,\"445\",1,0,1,0,0\n"
		"2026-11-24,10.0.0.1,192.168.0.20,0,5,7,\"445\",0,0,0,0,0\n"));
	json_of(report, report_day_of(D0 - S));
	assert_non_null(strstr(text, "\"date\":\"2026-11-23\""));
	assert_null(strstr(text, "2026-11-24"));
	/* An empty day is an empty list. */
	json_of(report, report_day_of(D0 + 5 * DAY));
	assert_string_equal(text,
		"{\"report\":\"smb_allowed\",\"days_kept\":7,\"days\":[]}\n");
	report_free(report);
}

static void
test_retention(void **state)
{
	struct report *report = make(3, 0);
	const struct report_counters *c = report_counters(report);

	(void)state;
	connection(report, D0, 1, 20, 445, REPORT_ACTION_ALLOWED);
	connection(report, D0 + DAY, 1, 20, 445, REPORT_ACTION_ALLOWED);
	connection(report, D0 + 2 * DAY, 1, 20, 445, REPORT_ACTION_ALLOWED);
	assert_int_equal(c->rows, 3);
	assert_int_equal(c->days_expired, 0);
	/* The fourth day pushes the first out. */
	connection(report, D0 + 3 * DAY, 1, 20, 445, REPORT_ACTION_ALLOWED);
	assert_int_equal(c->rows, 3);
	assert_int_equal(c->days_expired, 1);
	csv_of(report, REPORT_ALL_DAYS);
	assert_null(strstr(text, "2026-11-24"));
	assert_non_null(strstr(text, "2026-11-27"));
	/* An event of a dropped day is late, not counted. */
	connection(report, D0, 1, 20, 445, REPORT_ACTION_ALLOWED);
	assert_int_equal(c->late, 2);
	/* A jump of many days empties the table. */
	connection(report, D0 + 100 * DAY, 1, 20, 445, REPORT_ACTION_ALLOWED);
	assert_int_equal(c->rows, 1);
	assert_int_equal(c->days_expired, 4);
	report_free(report);
}

static void
test_trusted(void **state)
{
	struct report_prefix prefixes[2];
	struct report *report = make(0, 0);

	(void)state;
	assert_int_equal(report_prefix_parse("10.0.0.0/30", &prefixes[0]), 0);
	assert_int_equal(report_prefix_parse("192.168.0.99", &prefixes[1]), 0);
	assert_int_equal(prefixes[1].length, 32);
	assert_int_equal(report_set_trusted(report, prefixes, 2), 0);
	connection(report, D0, 1, 20, 445, REPORT_ACTION_ALLOWED);	/* client trusted */
	connection(report, D0, 9, 99, 445, REPORT_ACTION_ALLOWED);	/* server trusted */
	connection(report, D0, 9, 20, 445, REPORT_ACTION_ALLOWED);
	assert_int_equal(report_counters(report)->trusted, 2);
	assert_int_equal(report_counters(report)->flows, 1);
	assert_int_equal(report_counters(report)->rows, 1);
	report_free(report);
}

/*
 * report_add_flow_delta(): the deltas of a report's events, summed into
 * another report (as Redis sums them with HINCRBY), give the same rows;
 * trusted and late events give none; a row the report has no room for
 * still gives its delta.
 */
static void
test_deltas(void **state)
{
	static char direct[sizeof(text)];
	struct report *local = make(0, 0), *small = make(0, 16);
	struct report *shared = make(0, 0);
	struct report_prefix trusted;
	struct report_entry delta;
	struct gw_event ev;
	unsigned int i, k;

	(void)state;
	assert_int_equal(report_prefix_parse("10.0.0.99", &trusted), 0);
	assert_int_equal(report_set_trusted(local, &trusted, 1), 0);
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENT_FLOW;
	ev.ip_version = 4;
	ev.client_addr[0] = 10;
	ev.server_addr[0] = 192;
	ev.server_port = 445;
	for (i = 0; i < 24; i++) {
		for (k = 0; k < 2; k++) {
			ev.ts_ns = D0 + (i % 2) * DAY + i * S + k;
			ev.subtype = k == 0 ? EVENT_FLOW_CLASSIFIED : EVENT_FLOW_END;
			ev.client_addr[3] = (uint8_t)(i % 5);
			ev.server_addr[3] = (uint8_t)(i % 3);
			ev.server_port = i % 4 == 3 ? 8445 : 445;
			ev.u.flow.method = i % 4 == 3 ? EVENT_DETECT_CONTENT :
				EVENT_DETECT_PORT;
			ev.u.flow.bytes[0] = k ? 100 + i : 0;
			ev.u.flow.bytes[1] = k ? 1000 * i : 0;
			if (report_add_flow_delta(local, &ev,
					(enum report_action)(i % 3), &delta))
				assert_int_equal(report_merge(shared, &delta), 0);
		}
	}
	csv_of(local, REPORT_ALL_DAYS);
	memcpy(direct, text, sizeof(direct));
	csv_of(shared, REPORT_ALL_DAYS);
	assert_string_equal(text, direct);

	/* A trusted end: neither counted nor handed on. */
	ev.subtype = EVENT_FLOW_CLASSIFIED;
	ev.server_port = 445;
	ev.client_addr[3] = 99;
	assert_false(report_add_flow_delta(local, &ev, REPORT_ACTION_ALLOWED,
		&delta));
	/* A day beyond the retention: late, not handed on. */
	ev.client_addr[3] = 1;
	ev.ts_ns = D0 - 30 * DAY;
	assert_false(report_add_flow_delta(local, &ev, REPORT_ACTION_ALLOWED,
		&delta));
	/* No room for the row here: the shared view still counts it. */
	for (i = 0; i < 20; i++) {
		ev.ts_ns = D0;
		ev.client_addr[3] = (uint8_t)i;
		ev.server_addr[3] = 200;
		assert_true(report_add_flow_delta(small, &ev,
			REPORT_ACTION_DENIED, &delta));
		assert_int_equal(delta.connections, 1);
		assert_int_equal(delta.actions[REPORT_ACTION_DENIED], 1);
		assert_int_equal(delta.ports[0], 445);
	}
	assert_int_equal(report_counters(small)->rows_dropped, 4);
	report_free(local);
	report_free(small);
	report_free(shared);
}

static void
test_prefix_parse(void **state)
{
	struct report_prefix p;

	(void)state;
	assert_int_equal(report_prefix_parse("fd00::/8", &p), 0);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.length, 8);
	assert_int_equal(report_prefix_parse("0.0.0.0/0", &p), 0);
	assert_int_equal(report_prefix_parse("10.0.0.1/8", &p), -EINVAL);
	assert_int_equal(report_prefix_parse("10.0.0.0/33", &p), -EINVAL);
	assert_int_equal(report_prefix_parse("10.0.0.0/", &p), -EINVAL);
	assert_int_equal(report_prefix_parse("10.0.0.0/8x", &p), -EINVAL);
	assert_int_equal(report_prefix_parse("host/8", &p), -EINVAL);
	assert_int_equal(report_prefix_parse("", &p), -EINVAL);
}

static void
test_bounds(void **state)
{
	struct report *report = make(0, 16);
	struct report_params params;
	unsigned int i;

	(void)state;
	for (i = 0; i < 20; i++)
		connection(report, D0, (uint8_t)i, 20, 445, REPORT_ACTION_ALLOWED);
	assert_int_equal(report_counters(report)->rows, 16);
	/* Each of the last four lost its CLASSIFIED and its END. */
	assert_int_equal(report_counters(report)->rows_dropped, 8);
	/* More ports than a row lists are counted. */
	for (i = 0; i < REPORT_PORTS_MAX + 2; i++)
		connection(report, D0, 0, 20, (uint16_t)(1000 + i),
			REPORT_ACTION_ALLOWED);
	csv_of(report, REPORT_ALL_DAYS);
	assert_non_null(strstr(text, "\"445 1000 1001 1002 1003 1004 1005 1006 +3\""));
	report_free(report);

	report_params_set_defaults(&params);
	params.days = 0;
	errno = 0;
	assert_null(report_create(&params));
	assert_int_equal(errno, EINVAL);
	assert_true(report_row_bytes() < 256);
}


static int
parse_text(const char *line, struct report_entry *e)
{
	return report_csv_parse(line, strlen(line), e);
}

static void
test_csv_rows(void **state)
{
	struct report_entry e, back;
	char line[REPORT_CSV_LINE_MAX];
	unsigned int i;
	int n;
	static const char *const bad[] = {
		"",
		"2026-02-30,10.0.0.1,192.168.0.20,1,0,0,\"445\",1,0,1,0,0",
		"2026-11-24,10.0.0.1,fd00::1,1,0,0,\"445\",1,0,1,0,0",
		"2026-11-24,10.0.0.1,192.168.0.20,-1,0,0,\"445\",1,0,1,0,0",
		"2026-11-24,10.0.0.1,192.168.0.20,18446744073709551616,0,0,\"445\",1,0,1,0,0",
		"2026-11-24,10.0.0.1,192.168.0.20,1,0,0,\"445 \",1,0,1,0,0",
		"2026-11-24,10.0.0.1,192.168.0.20,1,0,0,\"445 +2\",1,0,1,0,0",
		"2026-11-24,10.0.0.1,192.168.0.20,1,0,0,\"65536\",1,0,1,0,0",
		"2026-11-24,10.0.0.1,192.168.0.20,1,0,0,445,1,0,1,0,0",
		"2026-11-24,10.0.0.1,192.168.0.20,1,0,0,\"445\",1,0,1,0",
		"2026-11-24,10.0.0.1,192.168.0.20,1,0,0,\"445\",1,0,1,0,0,",
		"2026-11-24,10.0.0.1,192.168.0.20,1,0,0,\"445\",1,0,1,0, 0",
	};

	(void)state;
	memset(&e, 0, sizeof(e));
	e.day = (uint32_t)(D0 / DAY);
	e.ip_version = 6;
	e.client[0] = 0xfd;
	e.client[15] = 1;
	e.server[0] = 0xfd;
	e.server[15] = 2;
	for (i = 0; i < REPORT_PORTS_MAX; i++)
		e.ports[e.port_count++] = (uint16_t)(445 + i);
	e.ports_more = 3;
	e.connections = UINT64_MAX;
	e.bytes[0] = 1;
	e.bytes[1] = 2;
	e.by_port = 3;
	e.by_content = 4;
	e.actions[REPORT_ACTION_DENIED] = 5;
	n = report_csv_format(&e, line, sizeof(line));
	assert_true(n > 0);
	assert_string_equal(line, "2026-11-24,fd00::1,fd00::2,18446744073709551615,1,2,"
		"\"445 446 447 448 449 450 451 452 +3\",3,4,0,5,0\n");
	assert_int_equal(report_csv_parse(line, (size_t)n - 1, &back), 0);
	assert_memory_equal(&e, &back, sizeof(e));
	assert_int_equal(report_csv_format(&e, line, 40), -ENOSPC);
	assert_int_equal(parse_text("2026-11-24,10.0.0.1,192.168.0.20,1,0,0,\"\",1,0,1,0,0",
		&back), 0);
	assert_int_equal(back.port_count, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_text(bad[i], &back) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
}

static char cp_dir[64];
static char cp_path[128];

static int
cp_setup(void **state)
{
	(void)state;
	snprintf(cp_dir, sizeof(cp_dir), "/tmp/test_report.XXXXXX");
	if (mkdtemp(cp_dir) == NULL)
		return -1;
	snprintf(cp_path, sizeof(cp_path), "%s/report.csv", cp_dir);
	return 0;
}

static int
cp_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", cp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
}

static bool
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static void
test_checkpoint_round_trip(void **state)
{
	static char before[1 << 16];
	struct report *report = make(0, 0), *again;
	struct report_checkpoint *cp = report_checkpoint_create(cp_path);
	char tmp[160];
	unsigned int port;

	(void)state;
	assert_non_null(cp);
	/* Nothing to read yet: an empty report, no warning, no .bad. */
	assert_int_equal(report_checkpoint_load(cp, report), 0);
	connection(report, D0 + 10 * S, 1, 20, 445, REPORT_ACTION_ALLOWED);
	connection(report, D0 + 20 * S, 1, 20, 445, REPORT_ACTION_DENIED);
	connection(report, D0 + DAY + 5 * S, 2, 20, 8445, REPORT_ACTION_MONITORED);
	for (port = 1; port <= 10; port++)
		connection(report, D0 + DAY + port * S, 3, 21, (uint16_t)(9000 + port),
			REPORT_ACTION_ALLOWED);
	assert_int_equal(report_checkpoint_save(cp, report), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", cp_path);
	assert_false(exists(tmp));
	read_file(cp_path);
	assert_true(strncmp(text, REPORT_CHECKPOINT_MAGIC,
		strlen(REPORT_CHECKPOINT_MAGIC)) == 0);
	assert_non_null(strstr(text, "\n# end rows 3 fnv1a64 "));
	csv_of(report, REPORT_ALL_DAYS);
	memcpy(before, text, sizeof(before));

	/* A restart: a new report, the file read back. */
	again = make(0, 0);
	assert_int_equal(report_checkpoint_load(cp, again), 3);
	csv_of(again, REPORT_ALL_DAYS);
	assert_string_equal(text, before);
	assert_int_equal(report_checkpoint_counters(cp)->rows_restored, 3);
	assert_int_equal(report_checkpoint_counters(cp)->saves.written, 1);

	/* Counting goes on from there. */
	connection(again, D0 + DAY + 30 * S, 2, 20, 8445, REPORT_ACTION_MONITORED);
	csv_of(again, (uint32_t)(D0 / DAY) + 1);
	assert_non_null(strstr(text, "2026-11-25,10.0.0.2,192.168.0.20,2,200,2000,\"8445\",0,2,0,0,2\n"));
	assert_non_null(strstr(text, "2026-11-25,10.0.0.3,192.168.0.21,10,1000,10000,"
		"\"9001 9002 9003 9004 9005 9006 9007 9008 +2\",0,10,10,0,0\n"));

	/* A report keeping fewer days drops the old rows, as it would live. */
	report_free(again);
	again = make(1, 0);
	assert_int_equal(report_checkpoint_load(cp, again), 3);
	assert_int_equal(report_counters(again)->rows, 2);
	assert_int_equal(report_counters(again)->days_expired, 1);
	/* A full report leaves out what does not fit. */
	report_free(again);
	again = make(0, 16);
	for (port = 0; port < 15; port++)
		connection(again, D0 + 2 * DAY, (uint8_t)(100 + port), 20, 445,
			REPORT_ACTION_ALLOWED);
	assert_int_equal(report_checkpoint_load(cp, again), 1);
	assert_int_equal(report_checkpoint_counters(cp)->rows_left_out, 2);
	report_free(again);
	report_free(report);
	report_checkpoint_free(cp);
}

/* A damaged checkpoint is set aside, never read in part, never fatal. */
static void
expect_set_aside(const char *content, const char *what)
{
	struct report_checkpoint *cp = report_checkpoint_create(cp_path);
	struct report *report = make(0, 0);
	char bad[160];

	assert_non_null(cp);
	if (content != NULL)
		write_file(cp_path, content);
	if (report_checkpoint_load(cp, report) != -EBADMSG)
		fail_msg("not set aside: %s", what);
	snprintf(bad, sizeof(bad), "%s.bad", cp_path);
	assert_true(exists(bad));
	assert_false(exists(cp_path));
	assert_int_equal(report_counters(report)->rows, 0);
	assert_int_equal(report_checkpoint_counters(cp)->set_aside, 1);
	unlink(bad);
	rmdir(bad);
	report_free(report);
	report_checkpoint_free(cp);
}

static void
test_checkpoint_damaged(void **state)
{
	static char good[1 << 16], edited[1 << 16];
	struct report *report = make(0, 0);
	struct report_checkpoint *cp = report_checkpoint_create(cp_path);
	char *p;

	(void)state;
	connection(report, D0 + 10 * S, 1, 20, 445, REPORT_ACTION_ALLOWED);
	connection(report, D0 + 20 * S, 2, 20, 445, REPORT_ACTION_ALLOWED);
	assert_int_equal(report_checkpoint_save(cp, report), 0);
	read_file(cp_path);
	memcpy(good, text, sizeof(good));

	expect_set_aside("", "empty");
	expect_set_aside("\x7f" "ELF\x02\x01\x01 binary", "foreign binary");
	expect_set_aside("date,src_ip\n", "foreign CSV");
	expect_set_aside("# smbgw report checkpoint 9\n", "newer version");
	/* Cut off: without its last line, or in the middle of a row. */
	memcpy(edited, good, sizeof(edited));
	p = strstr(edited, "# end");
	*p = '\0';
	expect_set_aside(edited, "no end line");
	memcpy(edited, good, sizeof(edited));
	edited[strlen(edited) / 2] = '\0';
	expect_set_aside(edited, "cut in half");
	/* A count changed: the hash no longer matches. */
	memcpy(edited, good, sizeof(edited));
	p = strstr(edited, "10.0.0.2,192.168.0.20,1,");
	assert_non_null(p);
	p[strlen("10.0.0.2,192.168.0.20,")] = '7';
	expect_set_aside(edited, "edited count");
	/* Text after the end, a row too long. */
	snprintf(edited, sizeof(edited), "%sextra\n", good);
	expect_set_aside(edited, "trailing text");
	memcpy(edited, good, sizeof(edited));
	p = strstr(edited, "10.0.0.2");
	memset(p, '1', 2000);
	strcpy(p + 2000, "\n");
	expect_set_aside(edited, "long line");
	/* Not a file at all: a directory, a FIFO (must not hang). */
	assert_int_equal(mkdir(cp_path, 0700), 0);
	expect_set_aside(NULL, "directory");
	assert_int_equal(mkfifo(cp_path, 0600), 0);
	expect_set_aside(NULL, "fifo");

	/* The good one still loads. */
	write_file(cp_path, good);
	report_free(report);
	report = make(0, 0);
	assert_int_equal(report_checkpoint_load(cp, report), 2);
	report_free(report);
	report_checkpoint_free(cp);
}

static void
test_checkpoint_save_failure(void **state)
{
	struct report *report = make(0, 0);
	struct report_checkpoint *cp;
	const struct output_counters *c;
	char path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing/report.csv", cp_dir);
	cp = report_checkpoint_create(path);
	assert_non_null(cp);
	c = &report_checkpoint_counters(cp)->saves;
	connection(report, D0 + 10 * S, 1, 20, 445, REPORT_ACTION_ALLOWED);
	assert_int_equal(report_checkpoint_save(cp, report), -ENOENT);
	assert_int_equal(report_checkpoint_save(cp, report), -ENOENT);
	assert_int_equal(c->written, 0);
	assert_int_equal(c->dropped, 2);
	assert_int_equal(c->errors, 2);
	assert_int_equal(c->episodes, 1);
	/* The directory appears: the next save works, no new episode. */
	snprintf(path, sizeof(path), "%s/missing", cp_dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(report_checkpoint_save(cp, report), 0);
	assert_int_equal(c->written, 1);
	assert_int_equal(c->episodes, 1);
	assert_null(report_checkpoint_create(""));
	assert_int_equal(errno, EINVAL);
	report_free(report);
	report_checkpoint_free(cp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_deltas),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_csv_rows),
		cmocka_unit_test_setup_teardown(test_checkpoint_round_trip,
			cp_setup, cp_teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_damaged,
			cp_setup, cp_teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_save_failure,
			cp_setup, cp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
