/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control API without ports: a gateway object over a policy
 * publisher, monitor and flow summary built from a configuration file, and
 * a fake data plane with fixed counters. Reload, mode, stats, and command
 * round trips through the control socket's handlers in process.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "config.h"
#include "ctl.h"
#include "flowlog.h"
#include "gateway_api.h"
#include "match.h"
#include "monitor.h"
#include "policy.h"

#define REPLY_MAX 65536

static char dir[64];
static char conf_path[128];
static char sock_path[128];
static struct gateway_config cfg;
static struct policy_publisher *publisher;
static struct watchlist *watchlist;
static struct flowlog *flowlog;
static struct monitor *monitor;
static struct ctl_server *server;
static struct gateway *gw;
static char reply[REPLY_MAX];
static const char *const port_names[] = { "port_a", "port_b" };

/* The fake data plane: fixed, recognisable counts. */
static void
fake_sum(void *ctx, struct gateway_counters *out)
{
	(void)ctx;
	out->total.port[0].rx = 1001;
	out->total.port[0].tx = 1000;
	out->total.port[0].drops[0] = 1;
	out->total.port[1].rx = 2002;
	out->total.port[1].tx = 2002;
	out->inspect.smb_flows_port = 77;
	out->inspect.policy_denied = 5;
	out->flows.active = 42;
}

static void
fake_worker(void *ctx, unsigned int worker,
	struct gateway_worker_counters *out)
{
	(void)ctx;
	out->lcore = 10 + worker;
	out->rx = 3003;
	out->bursts = 300;
	out->events = 9;
	/* Queue 0 of port_a: 5 frames in from the other worker, 3 out to
	 * it; queue 0 of port_b one frame short. */
	out->queue[0].rx = 1000;
	out->queue[0].tx = 996;
	out->queue[0].drops[0] = 6;
	out->queue[0].redirected_in = 5;
	out->queue[0].redirected_out = 3;
	out->queue[1].rx = 2003;
	out->queue[1].tx = 2002;
}

static bool
fake_device(void *ctx, unsigned int port, struct gateway_device_counters *out)
{
	(void)ctx;
	if (port != 0)
		return false;
	out->imissed = 123;
	return true;
}

static const struct gateway_dataplane fake_dataplane = {
	.port_count = 2,
	.port_names = port_names,
	.worker_count = 1,
	.sum = fake_sum,
	.worker = fake_worker,
	.device = fake_device,
};

/* Writes the configuration file: <mtu>, the policy's <mode>, <extra>. */
static void
write_config(unsigned int mtu, const char *mode, const char *extra)
{
	FILE *f = fopen(conf_path, "w");

	assert_non_null(f);
	fprintf(f,
		"gateway: { mode = \"inline\"; ports = [ \"a\", \"b\" ]; workers = 1; mtu = %u; };\n"
		"control: { socket = \"%s\"; };\n"
		"output: { eve = \"%s/eve.json\"; };\n"
		"report: { path = \"\"; };\n"
		"policy: {\n"
		"  mode = \"%s\"; default_action = \"allow\";\n"
		"  segments = (\n"
		"    { name = \"clients\"; prefixes = [ \"198.18.1.0/24\" ]; },\n"
		"    { name = \"servers\"; prefixes = [ \"198.18.2.0/24\" ]; }\n"
		"  );\n"
		"  rules = ( { name = \"no-smb\"; from = \"clients\"; to = \"servers\"; action = \"deny\"; } );\n"
		"};\n%s", mtu, sock_path, dir, mode, extra);
	fclose(f);
}

static int
setup(void **state)
{
	static struct config_errors errors;
	struct gateway_parts parts;
	struct policy_publisher_params pp = { .readers = 1,
		.socket = SOCKET_ID_ANY };
	struct ctl_params params;
	struct policy *policy;
	char error[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-gateway-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/smbgw.conf", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	write_config(1500, "enforce", "");
	if (config_load_file(conf_path, &cfg, &errors) != 0) {
		fprintf(stderr, "%s\n", errors.messages[0]);
		return -1;
	}
	policy = policy_build(&cfg.policy, 1, SOCKET_ID_ANY, error,
		sizeof(error));
	assert_non_null(policy);
	publisher = policy_publisher_create(&pp);
	assert_non_null(publisher);
	/* No reader is ever online: publishing waits for nobody. */
	assert_int_equal(policy_publish(publisher, policy), 0);
	watchlist = watchlist_compile(&cfg.watchlists, error, sizeof(error));
	assert_non_null(watchlist);
	flowlog = flowlog_create(64, watchlist);
	assert_non_null(flowlog);
	monitor = monitor_create(&cfg, watchlist, publisher, error,
		sizeof(error));
	if (monitor == NULL) {
		fprintf(stderr, "%s\n", error);
		return -1;
	}
	memset(&params, 0, sizeof(params));
	ctl_params_from_config(&params, &cfg.control);
	params.group = "0";
	server = ctl_server_create(&params);
	assert_non_null(server);

	memset(&parts, 0, sizeof(parts));
	parts.cfg = &cfg;
	parts.policy = publisher;
	parts.generation = 1;
	parts.monitor = monitor;
	parts.flowlog = flowlog;
	parts.started_ns = 0;
	gw = gateway_create(&parts, &fake_dataplane, error, sizeof(error));
	assert_non_null(gw);
	assert_int_equal(gateway_register_commands(gw, server), 0);
	return 0;
}

static int
teardown(void **state)
{
	char path[160];

	(void)state;
	gateway_free(gw);
	ctl_server_free(server);
	monitor_free(monitor);
	flowlog_free(flowlog);
	watchlist_free(watchlist);
	policy_publisher_free(publisher);
	unlink(conf_path);
	snprintf(path, sizeof(path), "%s/eve.json", dir);
	unlink(path);
	/* The server keeps its lock file: the next one takes it over. */
	snprintf(path, sizeof(path), "%s.lock", sock_path);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
test_create_needs_parts(void **state)
{
	struct gateway_parts parts;
	char error[128];

	(void)state;
	memset(&parts, 0, sizeof(parts));
	parts.cfg = &cfg;
	error[0] = '\0';
	assert_null(gateway_create(&parts, &fake_dataplane, error,
		sizeof(error)));
	assert_non_null(strstr(error, "control API"));
	gateway_free(NULL);
}

static void
test_reload_valid(void **state)
{
	static struct config_errors errors;
	struct config_changes changes;
	uint64_t before = gateway_generation(gw);

	(void)state;
	write_config(1500, "monitor-only", "");
	assert_int_equal(gateway_reload(gw, &errors, &changes), 0);
	assert_int_equal(errors.count, 0);
	assert_int_equal(changes.count, 0);
	assert_int_equal(gateway_generation(gw), before + 1);
	assert_int_equal(policy_mode(policy_current(publisher)),
		POLICY_MODE_MONITOR_ONLY);
	assert_int_equal(policy_generation(policy_current(publisher)),
		before + 1);
}

static void
test_reload_invalid(void **state)
{
	static struct config_errors errors;
	struct config_changes changes;
	uint64_t before = gateway_generation(gw);
	const struct policy *running = policy_current(publisher);

	(void)state;
	write_config(1500, "enforce", "flows: { max_flows = \"many\"; };\n");
	assert_int_equal(gateway_reload(gw, &errors, &changes), -EINVAL);
	assert_true(errors.count > 0);
	/* The error names the file and the key. */
	assert_non_null(strstr(errors.messages[0], conf_path));
	assert_non_null(strstr(errors.messages[0], "max_flows"));
	assert_int_equal(gateway_generation(gw), before);
	assert_ptr_equal(policy_current(publisher), running);

	/* A file that is not a regular file is refused, named. */
	unlink(conf_path);
	assert_int_equal(mkdir(conf_path, 0700), 0);
	assert_int_equal(gateway_reload(gw, &errors, &changes), -EINVAL);
	assert_true(errors.count > 0);
	assert_non_null(strstr(errors.messages[0], conf_path));
	assert_int_equal(gateway_generation(gw), before);
	assert_int_equal(rmdir(conf_path), 0);
	write_config(1500, "enforce", "");
}

static void
test_reload_restart_only(void **state)
{
	static struct config_errors errors;
	struct config_changes changes;
	uint64_t before = gateway_generation(gw);
	unsigned int i;
	bool mtu = false;

	(void)state;
	write_config(9000, "enforce", "");
	assert_int_equal(gateway_reload(gw, &errors, &changes), 0);
	assert_int_equal(gateway_generation(gw), before + 1);
	for (i = 0; i < changes.count; i++)
		if (strcmp(changes.keys[i], "gateway.mtu") == 0)
			mtu = true;
	assert_true(mtu);

	/* The same, through the socket's handler. */
	assert_int_equal(ctl_execute(server, "reload", reply, sizeof(reply)),
		0);
	assert_non_null(strstr(reply,
		"\"restart_needed\":[\"gateway.mtu changed: takes effect at restart\"]"));
	assert_non_null(strstr(reply,
		"\"applied\":\"policy, report.trusted\""));
	write_config(1500, "enforce", "");
	assert_int_equal(gateway_reload(gw, &errors, &changes), 0);
	assert_int_equal(changes.count, 0);
}

static void
test_set_mode(void **state)
{
	uint64_t before = gateway_generation(gw);

	(void)state;
	assert_int_equal(gateway_set_mode(gw, "monitor-only"), 0);
	assert_int_equal(gateway_generation(gw), before + 1);
	assert_int_equal(policy_mode(policy_current(publisher)),
		POLICY_MODE_MONITOR_ONLY);
	assert_int_equal(gateway_set_mode(gw, "sometimes"), -EINVAL);
	assert_int_equal(gateway_generation(gw), before + 1);
	assert_int_equal(gateway_set_mode(gw, "enforce"), 0);
	assert_int_equal(policy_mode(policy_current(publisher)),
		POLICY_MODE_ENFORCE);

	assert_int_equal(ctl_execute(server, "mode monitor-only", reply,
		sizeof(reply)), 0);
	assert_non_null(strstr(reply, "\"mode\":\"monitor-only\""));
	assert_int_equal(ctl_execute(server, "mode maybe", reply,
		sizeof(reply)), -EINVAL);
	assert_non_null(strstr(reply, "usage: mode enforce|monitor-only"));
	assert_int_equal(ctl_execute(server, "status", reply, sizeof(reply)),
		0);
	assert_non_null(strstr(reply, "\"mode\":\"monitor-only\""));
	assert_non_null(strstr(reply, "\"gateway_mode\":\"inline\""));
	assert_non_null(strstr(reply, "\"ports\":2"));
	assert_non_null(strstr(reply, "\"workers\":1"));
	assert_int_equal(gateway_set_mode(gw, "enforce"), 0);
}

static void
test_stats(void **state)
{
	struct gateway_counters c;

	(void)state;
	gateway_stats(gw, &c);
	assert_int_equal(c.total.port[0].rx, 1001);
	assert_int_equal(c.inspect.smb_flows_port, 77);
	assert_int_equal(c.flows.active, 42);

	assert_int_equal(ctl_execute(server, "stats", reply, sizeof(reply)),
		0);
	assert_non_null(strstr(reply,
		"{\"port\":\"port_a\",\"rx\":1001,\"tx\":1000,"));
	assert_non_null(strstr(reply,
		"\"balanced\":true,\"device_imissed\":123,"));
	assert_non_null(strstr(reply, "{\"port\":\"port_b\",\"rx\":2002,"));
	assert_non_null(strstr(reply,
		"{\"worker\":0,\"lcore\":10,\"rx\":3003,\"bursts\":300,"));
	/* Per port and queue: each balanced on its own. */
	assert_non_null(strstr(reply,
		"\"queues\":[{\"port\":\"port_a\",\"queue\":0,\"rx\":1000,"
		"\"tx\":996,\"drops\":6,\"reassembled\":0,\"held\":0,"
		"\"redirected_out\":3,\"redirected_in\":5,\"balanced\":true}"));
	assert_non_null(strstr(reply,
		"{\"port\":\"port_b\",\"queue\":0,\"rx\":2003,\"tx\":2002,"
		"\"drops\":0,\"reassembled\":0,\"held\":0,"
		"\"redirected_out\":0,\"redirected_in\":0,\"balanced\":false}]"));
	assert_non_null(strstr(reply, "\"flows\":{\"active\":42,"));
	assert_non_null(strstr(reply, "\"smb_by_port\":77"));
	assert_non_null(strstr(reply, "\"denied_flows\":5"));
	assert_non_null(strstr(reply, "\"control\":{"));
	assert_non_null(strstr(reply, "\"outputs\":{\"eve_written\":"));
	/* port_b's device could not say: no device counters for it. */
	assert_null(strstr(strstr(reply, "\"port_b\""), "device_imissed"));
}

/* Which worker each drained event came from, in the order taken. */
#define DRAIN_EVENTS_MAX 8192
static uint8_t drained_from[DRAIN_EVENTS_MAX];
static unsigned int drained;

static void
record_drained(void *ctx, const struct gw_event *ev)
{
	(void)ctx;
	if (drained < DRAIN_EVENTS_MAX)
		drained_from[drained++] = ev->worker;
}

/* Queues <count> events of worker <worker> into <ring>. */
static void
fill_ring(struct rte_ring *ring, uint8_t worker, unsigned int count)
{
	static struct gw_event ev;
	unsigned int i;

	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENT_POLICY;	/* summarised nowhere: counted only */
	ev.worker = worker;
	for (i = 0; i < count; i++)
		assert_int_equal(rte_ring_enqueue_elem(ring, &ev, sizeof(ev)),
			0);
}

static unsigned int
taken_from(uint8_t worker, unsigned int from, unsigned int to)
{
	unsigned int i, n = 0;

	for (i = from; i < to; i++)
		n += drained_from[i] == worker;
	return n;
}

/*
 * The control core takes each worker's ring in turn, a budget from each: a
 * worker whose ring stays full does not keep a quiet worker's events
 * waiting behind all of its own.
 */
static void
test_drain_fair(void **state)
{
	struct rte_ring *rings[3];
	struct flowlog *log;
	unsigned int w, taken, budget = 100;
	char name[32];

	(void)state;
	log = flowlog_create(16, NULL);
	assert_non_null(log);
	flowlog_set_sink(log, record_drained, NULL);
	for (w = 0; w < 3; w++) {
		snprintf(name, sizeof(name), "test-drain-%u", w);
		rings[w] = rte_ring_create_elem(name, sizeof(struct gw_event),
			1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		assert_non_null(rings[w]);
	}
	/* Worker 0 flooding, worker 1 with a few, worker 2 with none. */
	fill_ring(rings[0], 0, 1000);
	fill_ring(rings[1], 1, 7);

	drained = 0;
	taken = flowlog_drain_rings(log, rings, 3, budget);
	assert_int_equal(taken, budget + 7);
	assert_int_equal(taken_from(0, 0, drained), budget);
	assert_int_equal(taken_from(1, 0, drained), 7);
	assert_int_equal(rte_ring_count(rings[0]), 1000 - budget);
	assert_int_equal(rte_ring_count(rings[1]), 0);

	/* Both flooding: each pass takes a budget from each. */
	fill_ring(rings[1], 1, 500);
	fill_ring(rings[2], 2, 50);
	drained = 0;
	taken = flowlog_drain_rings(log, rings, 3, budget);
	assert_int_equal(taken, 2 * budget + 50);
	assert_int_equal(taken_from(0, 0, drained), budget);
	assert_int_equal(taken_from(1, 0, drained), budget);
	assert_int_equal(taken_from(2, 0, drained), 50);

	/* Until all are empty, every event taken exactly once. */
	while (flowlog_drain_rings(log, rings, 3, budget) > 0)
		;
	for (w = 0; w < 3; w++)
		assert_int_equal(rte_ring_count(rings[w]), 0);
	assert_int_equal(flowlog_counters(log)->events, 1000 + 7 + 500 + 50);

	for (w = 0; w < 3; w++)
		rte_ring_free(rings[w]);
	flowlog_free(log);
}

static void
test_policy_commands(void **state)
{
	(void)state;
	assert_int_equal(ctl_execute(server,
		"policy check 198.18.1.5 198.18.2.9 445", reply, sizeof(reply)),
		0);
	assert_non_null(strstr(reply, "\"src_segment\":\"clients\""));
	assert_non_null(strstr(reply, "\"dst_segment\":\"servers\""));
	assert_non_null(strstr(reply, "\"rule_name\":\"no-smb\""));
	assert_non_null(strstr(reply, "\"verdict\":\"deny\""));
	assert_int_equal(ctl_execute(server, "policy check 198.18.1.5",
		reply, sizeof(reply)), -EINVAL);
	assert_int_equal(ctl_execute(server, "rules", reply, sizeof(reply)),
		0);
	assert_non_null(strstr(reply, "\"name\":\"no-smb\""));
	assert_int_equal(ctl_execute(server, "segments", reply,
		sizeof(reply)), 0);
	assert_non_null(strstr(reply, "\"198.18.2.0/24\""));
}

static void
test_event_commands(void **state)
{
	(void)state;
	assert_int_equal(ctl_execute(server, "flows", reply, sizeof(reply)),
		0);
	assert_non_null(strstr(reply, "\"flows\":[]"));
	assert_int_equal(ctl_execute(server, "alerts", reply, sizeof(reply)),
		0);
	assert_non_null(strstr(reply, "\"alerts\":[]"));
	assert_int_equal(ctl_execute(server, "alerts soon", reply,
		sizeof(reply)), -EINVAL);
	assert_int_equal(ctl_execute(server, "report csv", reply,
		sizeof(reply)), 0);
	assert_non_null(strstr(reply, "\"csv\":"));
	assert_int_equal(ctl_execute(server, "log reopen", reply,
		sizeof(reply)), 0);
	assert_non_null(strstr(reply, "\"eve\":"));
}

/* A flow event of flow <id> (client port <id> too) for the summary. */
static void
summary_event(struct flowlog *log, uint64_t id, uint8_t subtype)
{
	struct gw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENT_FLOW;
	ev.subtype = subtype;
	ev.flow_id = id;
	ev.ip_version = 4;
	ev.client_port = (uint16_t)id;
	ev.server_port = 445;
	ev.u.flow.app = FLOW_APP_SMB;
	flowlog_add(log, &ev);
}

static unsigned int summary_lines;

static int
count_line(void *arg, const char *line)
{
	(void)arg;
	(void)line;
	summary_lines++;
	return 0;
}

/* How many lines the summary prints: one per flow it holds. */
static unsigned int
summary_line_count(const struct flowlog *log)
{
	summary_lines = 0;
	assert_int_equal(flowlog_lines(log, count_line, NULL), 0);
	return summary_lines;
}

/* Opens flows <first>..<last> with ids spread over the table. */
static void
spread_flows(struct flowlog *log, uint64_t first, uint64_t last)
{
	uint64_t k;

	for (k = first; k <= last; k++)
		summary_event(log, k * 0x9e3779b97f4aull,
			EVENT_FLOW_CLASSIFIED);
}

/*
 * A full flow summary gives the oldest ended flow's row to a new flow,
 * and drops a new flow only while every row is an open flow. The ids
 * share one home slot, so that every removal moves rows back: every
 * flow still summarised must be found again, not summarised twice.
 */
static void
test_summary_recycles(void **state)
{
	struct flowlog *log = flowlog_create(16, NULL);	/* 16 rows */
	const struct flowlog_counters *c;
	uint64_t k;

	(void)state;
	assert_non_null(log);
	c = flowlog_counters(log);
	for (k = 0; k < 16; k++)
		summary_event(log, 5 + 32 * k, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(c->rows, 16);
	/* Full of open flows: a new one is not summarised. */
	summary_event(log, 1000, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(c->rows_dropped, 1);
	assert_int_equal(c->rows_recycled, 0);

	/* Six flows end, in the middle of the chain and at its ends. */
	summary_event(log, 5 + 32 * 7, EVENT_FLOW_END);
	summary_event(log, 5 + 32 * 0, EVENT_FLOW_END);
	summary_event(log, 5 + 32 * 15, EVENT_FLOW_END);
	summary_event(log, 5 + 32 * 3, EVENT_FLOW_END);
	summary_event(log, 5 + 32 * 4, EVENT_FLOW_END);
	summary_event(log, 5 + 32 * 9, EVENT_FLOW_END);
	/* A second end of one flow is not queued twice. */
	summary_event(log, 5 + 32 * 3, EVENT_FLOW_END);

	/* Eight new flows: six take the ended rows, two find none. */
	for (k = 0; k < 8; k++)
		summary_event(log, 2000 + 32 * k, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(c->rows, 16);
	assert_int_equal(c->rows_recycled, 6);
	assert_int_equal(c->rows_dropped, 3);

	/* The open flows and the new ones are all found where they are:
	 * more events of theirs take no new row. */
	for (k = 0; k < 16; k++)
		if (k != 0 && k != 3 && k != 4 && k != 7 && k != 9 && k != 15)
			summary_event(log, 5 + 32 * k, EVENT_FLOW_CLASSIFIED);
	for (k = 0; k < 6; k++)
		summary_event(log, 2000 + 32 * k, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(c->rows, 16);
	assert_int_equal(c->rows_dropped, 3);
	assert_int_equal(summary_line_count(log), 16);

	/* A recycled flow's late event makes it a new row again, once
	 * another row has ended. */
	summary_event(log, 2000, EVENT_FLOW_END);
	summary_event(log, 5 + 32 * 7, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(c->rows_recycled, 7);
	assert_int_equal(c->rows, 16);
	flowlog_free(log);
}

/*
 * A summary asked for more flows than it starts with grows when half
 * full: every flow stays found where the larger table put it (no second
 * row for its later events), the flows that ended before the growth are
 * still given up oldest first once the largest table is full, and only
 * then is a new flow dropped.
 */
static void
test_summary_grows(void **state)
{
	/* Up to 131,072 rows; it starts with room for 65,536. */
	struct flowlog *log = flowlog_create(1u << 17, NULL);
	const struct flowlog_counters *c;
	uint64_t k;

	(void)state;
	assert_non_null(log);
	c = flowlog_counters(log);
	for (k = 1; k <= 1000; k++) {
		summary_event(log, k, EVENT_FLOW_CLASSIFIED);
		summary_event(log, k, EVENT_FLOW_END);
	}
	spread_flows(log, 1001, 100000);
	assert_int_equal(c->rows, 100000);
	assert_int_equal(c->rows_dropped, 0);
	assert_int_equal(c->rows_recycled, 0);
	/* Every flow is found again after the move. */
	for (k = 1; k <= 1000; k++)
		summary_event(log, k, EVENT_FLOW_CLASSIFIED);
	spread_flows(log, 1001, 100000);
	assert_int_equal(c->rows, 100000);

	/* Full at 131,072 rows: the 1,000 ended flows give way, in order. */
	spread_flows(log, 100001, 131072);
	assert_int_equal(c->rows, 131072);
	assert_int_equal(c->rows_recycled, 0);
	spread_flows(log, 131073, 131572);
	assert_int_equal(c->rows_recycled, 500);
	/* Flow 501 ended after flows 1-500: its row is still there. */
	summary_event(log, 501, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(c->rows_recycled, 500);
	assert_int_equal(c->rows_dropped, 0);
	spread_flows(log, 131573, 132072);
	assert_int_equal(c->rows_recycled, 1000);
	summary_event(log, 7ull << 40, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(c->rows_dropped, 1);
	assert_int_equal(c->rows, 131072);
	assert_int_equal(summary_line_count(log), 131072);
	flowlog_free(log);
}

/*
 * Flows whose ids share one home slot, the last of the table in its
 * first size and in its grown one, so that their probe run wraps to
 * the start: after the growth every one of them is found again.
 */
static void
test_summary_grows_colliding(void **state)
{
	struct flowlog *log = flowlog_create(1u << 17, NULL);
	const struct flowlog_counters *c;
	uint64_t k;

	(void)state;
	assert_non_null(log);
	c = flowlog_counters(log);
	for (k = 1; k <= 2000; k++)
		summary_event(log, 0x3ffffull | k << 18, EVENT_FLOW_CLASSIFIED);
	/* Others until the table grows (at 65,536 rows) and beyond. */
	spread_flows(log, 1, 70000);
	assert_int_equal(c->rows, 72000);
	for (k = 1; k <= 2000; k++)
		summary_event(log, 0x3ffffull | k << 18, EVENT_FLOW_CLASSIFIED);
	assert_int_equal(c->rows, 72000);
	assert_int_equal(c->rows_dropped, 0);
	assert_int_equal(summary_line_count(log), 72000);
	flowlog_free(log);
}

int
main(void)
{
	char prefix[64];
	char *argv[] = { "test_gateway", "--no-huge", "-m", "256", "--no-pci",
		"--no-shconf", "--no-telemetry", "--log-level=lib.eal:error",
		"-l", "0", "--file-prefix", prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_needs_parts),
		cmocka_unit_test(test_reload_valid),
		cmocka_unit_test(test_reload_invalid),
		cmocka_unit_test(test_reload_restart_only),
		cmocka_unit_test(test_set_mode),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_drain_fair),
		cmocka_unit_test(test_summary_recycles),
		cmocka_unit_test(test_summary_grows),
		cmocka_unit_test(test_summary_grows_colliding),
		cmocka_unit_test(test_policy_commands),
		cmocka_unit_test(test_event_commands),
	};
	char runtime_dir[256];
	int failed;

	snprintf(prefix, sizeof(prefix), "test-gateway-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return 1;
	failed = cmocka_run_group_tests_name("gateway", tests, setup,
		teardown);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir);	/* EAL leaves its empty run directory */
	return failed;
}
