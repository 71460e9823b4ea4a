/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control core's event rate with the Redis output on versus the EVE
 * file only, side by side in one run: the same synthetic connections (flow
 * classified, logon, tree connect, flow end: one EVE record (the flow) and two
 * report deltas each) through monitor_event(), flushed as the control loop
 * does. Redis is a redis-server of the benchmark's own on a Unix socket
 * (no persistence). With the default queue the control core never waits,
 * so what Redis cannot take at that rate is dropped and counted; a run with
 * a queue large enough for everything shows how fast Redis drains it.
 * Two rates: the control core thread's CPU time (its own work, what
 * forwarding could lose) and wall time (which also counts the sender
 * thread taking the same CPUs on a small machine). The three runs
 * alternate, three rounds, and each keeps its best CPU time (the machine
 * is shared).
 *
 * usage: bench_monitor [-n CONNECTIONS]
 * Exit 77 when redis-server is not installed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "monitor.h"
#include "smb.h"

static char dir[] = "/tmp/smbgw-bench-monitor.XXXXXX";
static char sock[256];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread: the control core's own work. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t
start_redis(void)
{
	char conf[512];
	struct stat st;
	FILE *f;
	pid_t pid;
	double until;

	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	snprintf(conf, sizeof(conf), "%s/redis.conf", dir);
	f = fopen(conf, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "port 0\nunixsocket %s\nsave \"\"\nappendonly no\n"
		"daemonize no\ndir %s\nlogfile %s/redis.log\n", sock, dir, dir);
	fclose(f);
	pid = fork();
	if (pid == 0) {
		execl("/usr/bin/redis-server", "redis-server", conf, (char *)NULL);
		_exit(127);
	}
	until = now_s() + 5;
	while (stat(sock, &st) != 0 && now_s() < until)
		usleep(20000);
	return stat(sock, &st) == 0 ? pid : -1;
}

static void
make_events(struct gw_event *ev, unsigned int i)
{
	unsigned int k;

	for (k = 0; k < 4; k++) {
		memset(&ev[k], 0, sizeof(ev[k]));
		ev[k].ts_ns = 1795478400ull * 1000000000ull + i * 1000000ull + k;
		ev[k].flow_id = i;
		ev[k].ip_version = 4;
		ev[k].client_addr[0] = 198;
		ev[k].client_addr[1] = 18;
		ev[k].client_addr[2] = 1;
		ev[k].client_addr[3] = (uint8_t)(i % 200);
		ev[k].server_addr[0] = 198;
		ev[k].server_addr[1] = 18;
		ev[k].server_addr[2] = 2;
		ev[k].server_addr[3] = (uint8_t)(i % 7);
		ev[k].client_port = (uint16_t)(32768 + i % 20000);
		ev[k].server_port = 445;
	}
	ev[0].kind = EVENT_FLOW;
	ev[0].subtype = EVENT_FLOW_CLASSIFIED;
	ev[0].u.flow.method = EVENT_DETECT_PORT;
	ev[1].kind = EVENT_SMB;
	ev[1].subtype = SMB_FACT_LOGON;
	ev[1].u.smb.version = 2;
	ev[1].u.smb.success = 1;
	snprintf(ev[1].u.smb.user, sizeof(ev[1].u.smb.user), "alice");
	snprintf(ev[1].u.smb.domain, sizeof(ev[1].u.smb.domain), "LAB");
	ev[2].kind = EVENT_SMB;
	ev[2].subtype = SMB_FACT_TREE_CONNECT;
	ev[2].u.smb.version = 2;
	snprintf(ev[2].u.smb.share, sizeof(ev[2].u.smb.share), "\\\\fs\\data");
	ev[3].kind = EVENT_FLOW;
	ev[3].subtype = EVENT_FLOW_END;
	ev[3].u.flow.packets[0] = 100;
	ev[3].u.flow.packets[1] = 120;
	ev[3].u.flow.bytes[0] = 10000 + i;
	ev[3].u.flow.bytes[1] = 200000 + i;
}

struct result {
	double seconds;
	double cpu;		/* the control core's CPU time for the same */
	double drained;		/* until Redis had everything (or gave up) */
	struct monitor_outputs out;
};

static int
run(const char *name, unsigned int connections, const char *redis,
	unsigned int queue_size, struct result *res)
{
	static struct gateway_config cfg;
	struct gw_event ev[4];
	struct monitor *monitor;
	char error[256];
	double start, cpu_start;
	unsigned int i, k;

	config_set_defaults(&cfg);
	snprintf(cfg.output.path, sizeof(cfg.output.path), "%s/%s.json", dir,
		name);
	snprintf(cfg.name, sizeof(cfg.name), "bench");
	if (redis != NULL) {
		snprintf(cfg.redis.server, sizeof(cfg.redis.server), "%s", redis);
		cfg.redis.queue_size = queue_size;
		snprintf(cfg.redis.key, sizeof(cfg.redis.key), "bench:%s", name);
	}
	monitor = monitor_create(&cfg, NULL, NULL, error, sizeof(error));
	if (monitor == NULL) {
		fprintf(stderr, "bench_monitor: %s\n", error);
		return -1;
	}
	/* Let the sender connect first, as a running gateway's has. */
	usleep(200000);
	start = now_s();
	cpu_start = cpu_s();
	for (i = 0; i < connections; i++) {
		make_events(ev, i);
		for (k = 0; k < 4; k++)
			monitor_event(monitor, &ev[k]);
		/* The control loop flushes about once a second; often enough. */
		if ((i & 4095) == 4095)
			monitor_flush(monitor);
	}
	monitor_flush(monitor);
	res->seconds = now_s() - start;
	res->cpu = cpu_s() - cpu_start;
	monitor_finish(monitor);
	res->drained = now_s() - start;
	monitor_outputs(monitor, &res->out);
	monitor_free(monitor);
	return 0;
}

static void
print(const char *name, unsigned int connections, const struct result *r,
	const struct result *base)
{
	printf("%-26s CPU %8.0f events/s %5.2fx   wall %8.0f events/s %5.2fx",
		name, 4.0 * connections / r->cpu,
		base != NULL ? base->cpu / r->cpu : 1.0,
		4.0 * connections / r->seconds,
		base != NULL ? base->seconds / r->seconds : 1.0);
	if (r->out.redis)
		printf("  redis_sent %" PRIu64 " redis_dropped %" PRIu64
			" (all sent %.2f s after the start)",
			r->out.redis_counters.sent, r->out.redis_counters.dropped,
			r->drained);
	printf("\n");
}

int
main(int argc, char **argv)
{
	unsigned int connections = 100000;
	struct result file, redis, redis_big, r;
	char cmd[600];
	unsigned int round;
	pid_t pid;
	int opt, ret = 1;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt == 'n')
			connections = (unsigned int)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (access("/usr/bin/redis-server", X_OK) != 0) {
		printf("skipped: bench_monitor needs redis-server\n");
		return 77;
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	pid = start_redis();
	if (pid < 0) {
		fprintf(stderr, "bench_monitor: redis-server did not start\n");
		goto out;
	}
	printf("control core, %u connections (4 events: 1 EVE record and 2 report deltas each):\n",
		connections);
	for (round = 0; round < 3; round++) {
		if (run("file", connections, NULL, 0, &r) < 0)
			goto stop;
		if (round == 0 || r.cpu < file.cpu)
			file = r;
		if (run("redis", connections, sock, 4096, &r) < 0)
			goto stop;
		if (round == 0 || r.cpu < redis.cpu)
			redis = r;
		if (run("redis_all", connections, sock, 1u << 20, &r) < 0)
			goto stop;
		if (round == 0 || r.cpu < redis_big.cpu)
			redis_big = r;
	}
	print("EVE file only", connections, &file, NULL);
	print("file + Redis (queue 4096)", connections, &redis, &file);
	print("file + Redis (queue 2^20)", connections, &redis_big, &file);
	ret = 0;
stop:
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		ret = 1;
	return ret;
}
