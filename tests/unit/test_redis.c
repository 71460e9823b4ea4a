/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis output and merged view against a real redis-server of the test's
 * own (a Unix socket in a temporary directory, AUTH required, no
 * persistence): records and report deltas arrive and read back as the
 * local report; only alerts are listed; a wrong password and a missing
 * server lose records, counted, without ever blocking the caller.
 * Skipped when redis-server is not installed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "event.h"
#include "redis_output.h"
#include "redis_view.h"
#include "report.h"

#define S 1000000000ull
/* 2026-11-24T00:00:00Z */
#define D0 (1795478400ull * S)
#define PASSWORD "unit-secret"

static char dir[] = "/tmp/smbgw-test-redis.XXXXXX";
static char sock[256];
static pid_t server = -1;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
start_server(void **state)
{
	char conf[512];
	struct stat st;
	FILE *f;
	uint64_t until;

	(void)state;
	if (access("/usr/bin/redis-server", X_OK) != 0)
		return 0;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	snprintf(conf, sizeof(conf), "%s/redis.conf", dir);
	f = fopen(conf, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "port 0\nunixsocket %s\nsave \"\"\nappendonly no\n"
		"daemonize no\ndir %s\nrequirepass " PASSWORD "\n"
		"logfile %s/redis.log\n", sock, dir, dir);
	fclose(f);
	server = fork();
	if (server == 0) {
		execl("/usr/bin/redis-server", "redis-server", conf, (char *)NULL);
		_exit(127);
	}
	until = now_ms() + 5000;
	while (stat(sock, &st) != 0 && now_ms() < until)
		usleep(20000);
	return stat(sock, &st) == 0 ? 0 : -1;
}

static int
stop_server(void **state)
{
	char cmd[600];

	(void)state;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	if (sock[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void
params_for(struct redis_output_params *p, const char *password)
{
	redis_output_params_set_defaults(p);
	snprintf(p->server, sizeof(p->server), "%s", sock);
	snprintf(p->password, sizeof(p->password), "%s", password);
	p->timeout_ms = 500;
}

/* Waits until <ro> has sent <n> items (or 5 s). */
static void
wait_sent(struct redis_output *ro, uint64_t n)
{
	struct redis_output_counters c;
	uint64_t until = now_ms() + 5000;

	do {
		redis_output_counters(ro, &c);
		if (c.sent >= n)
			return;
		usleep(10000);
	} while (now_ms() < until);
	fail_msg("sent %lu of %lu", (unsigned long)c.sent, (unsigned long)n);
}

static void
flow_event(struct gw_event *ev, uint8_t subtype, uint8_t client)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = D0 + 3600 * S;
	ev->kind = EVENT_FLOW;
	ev->subtype = subtype;
	ev->ip_version = 4;
	ev->client_addr[0] = 198;
	ev->client_addr[1] = 18;
	ev->client_addr[3] = client;
	ev->server_addr[0] = 198;
	ev->server_addr[1] = 18;
	ev->server_addr[2] = 2;
	ev->server_addr[3] = 20;
	ev->server_port = 445;
	ev->u.flow.method = EVENT_DETECT_PORT;
	ev->u.flow.bytes[0] = subtype == EVENT_FLOW_END ? 1234 : 0;
	ev->u.flow.bytes[1] = subtype == EVENT_FLOW_END ? 98765 : 0;
}

static void
test_address(void **state)
{
	struct redis_output_params p;

	(void)state;
	redis_output_params_set_defaults(&p);
	assert_int_equal(redis_view_parse_address("198.18.250.2:6380", &p), 0);
	assert_string_equal(p.server, "198.18.250.2");
	assert_int_equal(p.port, 6380);
	assert_int_equal(redis_view_parse_address("redis.lab", &p), 0);
	assert_int_equal(p.port, 6379);
	assert_int_equal(redis_view_parse_address("[fd00::1]:7000", &p), 0);
	assert_string_equal(p.server, "fd00::1");
	assert_int_equal(p.port, 7000);
	assert_int_equal(redis_view_parse_address("fd00::1", &p), 0);
	assert_string_equal(p.server, "fd00::1");
	assert_int_equal(redis_view_parse_address("/run/r.sock", &p), 0);
	assert_string_equal(p.server, "/run/r.sock");
	assert_int_equal(redis_view_parse_address("h:0", &p), -EINVAL);
	assert_int_equal(redis_view_parse_address("h:65536", &p), -EINVAL);
	assert_int_equal(redis_view_parse_address(":1", &p), -EINVAL);
	assert_int_equal(redis_view_parse_address("[fd00::1", &p), -EINVAL);
	assert_int_equal(redis_view_parse_address("h:12x", &p), -EINVAL);
}

/*
 * Two "gateways" (two outputs, two local reports) count connections of a
 * shared pair and pairs of their own: the merged report is their sum, in
 * the local report's CSV; the stream lists only alerts.
 */
static void
test_report_and_alerts(void **state)
{
	static char merged[4096], expected[4096], own[2][4096];
	static const char alert[] =
		"{\"gateway\":\"a\",\"event_type\":\"alert\",\"alert\":{}}\n";
	static const char other[] = "{\"gateway\":\"a\",\"event_type\":\"smb\"}\n";
	struct redis_output_params p;
	struct redis_output *gw[2];
	struct report_params rp;
	struct report *local[2], *sum;
	struct report_entry delta;
	struct gw_event ev;
	char error[256] = "";
	unsigned int g, i, k;
	FILE *f;

	(void)state;
	if (server <= 0)
		skip();
	params_for(&p, PASSWORD);
	report_params_set_defaults(&rp);
	sum = report_create(&rp);
	assert_non_null(sum);
	for (g = 0; g < 2; g++) {
		snprintf(p.gateway, sizeof(p.gateway), "%s", g ? "b" : "a");
		gw[g] = redis_output_create(&p);
		assert_non_null(gw[g]);
		local[g] = report_create(&rp);
		assert_non_null(local[g]);
	}
	for (g = 0; g < 2; g++) {
		for (i = 0; i < 3; i++) {
			for (k = 0; k < 2; k++) {
				/* client 10 on both, 11 + g on one each */
				flow_event(&ev, k ? EVENT_FLOW_END :
					EVENT_FLOW_CLASSIFIED,
					(uint8_t)(i == 0 ? 10 : 11 + g));
				assert_true(report_add_flow_delta(local[g], &ev,
					REPORT_ACTION_ALLOWED, &delta));
				assert_int_equal(report_merge(sum, &delta), 0);
				assert_int_equal(redis_output_report(gw[g],
					&delta), 0);
			}
		}
		assert_int_equal(redis_output_record(gw[g], alert,
			strlen(alert)), 0);
		assert_int_equal(redis_output_record(gw[g], other,
			strlen(other)), 0);
		redis_output_flush(gw[g]);
	}
	for (g = 0; g < 2; g++) {
		wait_sent(gw[g], 6 + 2);
		redis_output_free(gw[g]);
		f = fmemopen(own[g], sizeof(own[g]), "w");
		assert_int_equal(report_write_csv(local[g], f, REPORT_ALL_DAYS), 0);
		fclose(f);
		report_free(local[g]);
	}
	p.gateway[0] = '\0';

	f = fmemopen(expected, sizeof(expected), "w");
	assert_int_equal(report_write_csv(sum, f, REPORT_ALL_DAYS), 0);
	fclose(f);
	f = fmemopen(merged, sizeof(merged), "w");
	assert_int_equal(redis_view_report(&p, REPORT_ALL_DAYS, true, f,
		error, sizeof(error)), 0);
	fclose(f);
	assert_string_equal(merged, expected);
	assert_non_null(strstr(merged, ",198.18.0.10,198.18.2.20,2,2468,197530,\"445\",2,0,2,0,0\n"));
	/* One day asked for, the same rows. */
	f = fmemopen(merged, sizeof(merged), "w");
	assert_int_equal(redis_view_report(&p, report_day_of(D0), true, f,
		error, sizeof(error)), 0);
	fclose(f);
	assert_string_equal(merged, expected);
	/* Each gateway's own hashes: its local report. */
	for (g = 0; g < 2; g++) {
		snprintf(p.gateway, sizeof(p.gateway), "%s", g ? "b" : "a");
		f = fmemopen(merged, sizeof(merged), "w");
		assert_int_equal(redis_view_report(&p, REPORT_ALL_DAYS, true, f,
			error, sizeof(error)), 0);
		fclose(f);
		assert_string_equal(merged, own[g]);
	}
	p.gateway[0] = '\0';

	f = fmemopen(merged, sizeof(merged), "w");
	assert_int_equal(redis_view_alerts(&p, false, f, error,
		sizeof(error)), 0);
	fclose(f);
	assert_string_equal(merged, "{\"gateway\":\"a\",\"event_type\":\"alert\",\"alert\":{}}\n"
		"{\"gateway\":\"a\",\"event_type\":\"alert\",\"alert\":{}}\n");
	report_free(sum);
}

/* A refused AUTH and a missing server: lost and counted, never waited on. */
static void
test_failures(void **state)
{
	struct redis_output_params p;
	struct redis_output_counters c;
	struct redis_output *ro;
	char error[256] = "";
	uint64_t started;
	unsigned int i;

	(void)state;
	if (server <= 0)
		skip();
	params_for(&p, "wrong");
	ro = redis_output_create(&p);
	assert_non_null(ro);
	started = now_ms();
	for (i = 0; i < 100; i++)
		redis_output_record(ro, "{}\n", 3);
	redis_output_flush(ro);
	/* Handing over never waits on the network. */
	assert_true(now_ms() - started < 100);
	usleep(300000);
	redis_output_counters(ro, &c);
	assert_int_equal(c.sent, 0);
	assert_true(c.errors >= 1);
	assert_true(c.dropped >= 100 - p.queue_size || c.queued > 0);
	redis_output_close_counted(ro, &c);
	assert_int_equal(c.sent, 0);
	assert_int_equal(c.dropped, 100);

	assert_int_equal(redis_view_report(&p, REPORT_ALL_DAYS, true, stdout,
		error, sizeof(error)), -EIO);
	assert_non_null(strstr(error, "refused AUTH"));

	params_for(&p, PASSWORD);
	snprintf(p.server, sizeof(p.server), "%s/none.sock", dir);
	p.queue_size = 16;
	ro = redis_output_create(&p);
	assert_non_null(ro);
	for (i = 0; i < 40; i++)
		redis_output_record(ro, "{}\n", 3);
	redis_output_flush(ro);
	redis_output_counters(ro, &c);
	assert_true(c.dropped >= 24);
	assert_true(c.queued <= 16);
	redis_output_close_counted(ro, &c);
	assert_int_equal(c.dropped, 40);
	assert_true(c.errors >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_report_and_alerts),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, start_server, stop_server);
}
