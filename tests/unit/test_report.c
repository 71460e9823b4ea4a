/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Report "SMB traffic allowed": per UTC day and pair, connections, bytes,
 * ports, detection method and action; trusted prefixes; retention; the
 * bounds of the row table; JSON and CSV output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "flow.h"
#include "report.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
