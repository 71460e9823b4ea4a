/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "heartbeat.h"
#include "leftovers.h"
#include "live_pvt.h"
#include "sd_notify.h"
#include "supervise.h"
#include "worker.h"

/*
 * Test only: set by "debug stall-worker", read by worker <w> through
 * worker->stall, as it reads worker->stop.
 */
static volatile bool stall_requested[RTE_MAX_LCORE];

static struct {
	struct sd_notifier notifier;
	struct heartbeat_watch watch;
	bool stall_reported;
	bool debug_commands;
} supervision = { .notifier = { .fd = -1 } };

/* Removes the prefix's hugepage files from every hugetlbfs mount. */
static void
clean_hugepage_mounts(const char *prefix, struct leftovers_count *count)
{
	struct mntent *mount;
	FILE *mounts;

	mounts = setmntent("/proc/mounts", "r");
	if (mounts == NULL)
		return;
	while ((mount = getmntent(mounts)) != NULL)
		if (strcmp(mount->mnt_type, "hugetlbfs") == 0)
			leftovers_clean_hugepages(mount->mnt_dir, prefix,
				count);
	endmntent(mounts);
}

int
supervise_clean_leftovers(struct live_context *ctx)
{
	struct leftovers_count run = { 0 }, pages = { 0 }, sock = { 0 };
	struct leftovers_eal eal;
	struct ctl_params params;
	char dir[512];
	int ret;

	ret = leftovers_parse_eal(ctx->eal_argc, ctx->eal_argv, &eal);
	if (ret != 0) {
		snprintf(ctx->error, sizeof(ctx->error),
			"--file-prefix is too long");
		return ret;
	}
	if (eal.shared_files && leftovers_runtime_dir(eal.prefix, dir,
			sizeof(dir)) == 0) {
		ret = leftovers_clean_runtime_dir(dir, &run);
		if (ret == -EBUSY) {
			snprintf(ctx->error, sizeof(ctx->error),
				"DPDK file prefix '%s' is in use by process %d (%.200s/config is locked): stop it, or give this gateway its own --file-prefix",
				eal.prefix, (int)run.holder, dir);
			return ret;
		}
		/* Page files of a process that died; live ones are flocked. */
		if (eal.huge_dir != NULL)
			leftovers_clean_hugepages(eal.huge_dir, eal.prefix,
				&pages);
		else
			clean_hugepage_mounts(eal.prefix, &pages);
	}
	/* A live gateway on the socket is the control module's to report. */
	ctl_params_from_config(&params, &ctx->cfg->control);
	leftovers_clean_socket(params.socket_path != NULL ?
		params.socket_path : CTL_SOCKET_DEFAULT, &sock);
	if (run.removed + pages.removed + sock.removed > 0) {
		printf("smbgw: removed what a stopped instance left: %u DPDK run files (file prefix '%s'), %u hugepage files, %u control socket\n",
			run.removed, eal.prefix, pages.removed, sock.removed);
		fflush(stdout);
	}
	/* e.g. a dpdk-dumpcap still attached to the killed primary */
	if (run.in_use + pages.in_use > 0) {
		printf("smbgw: kept %u files of file prefix '%s' that another process holds; if EAL cannot start, stop the DPDK processes using the prefix\n",
			run.in_use + pages.in_use, eal.prefix);
		fflush(stdout);
	}
	return 0;
}

static void
read_heartbeats(const struct live_context *ctx, uint64_t *beats)
{
	unsigned int w;

	for (w = 0; w < ctx->worker_count && w < HEARTBEAT_WORKERS_MAX; w++)
		beats[w] = __atomic_load_n(&ctx->workers[w]->heartbeat,
			__ATOMIC_RELAXED);
}

void
supervise_ready(struct live_context *ctx)
{
	uint64_t beats[HEARTBEAT_WORKERS_MAX];
	struct timespec now;
	char status[128];
	int ret;

	ret = sd_notifier_open_env(&supervision.notifier);
	if (ret != 0) {
		printf("smbgw: NOTIFY_SOCKET unusable (%s): no service manager notifications\n",
			strerror(-ret));
		return;
	}
	if (!sd_notifier_enabled(&supervision.notifier))
		return;
	read_heartbeats(ctx, beats);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (heartbeat_watch_init(&supervision.watch,
			supervision.notifier.watchdog_usec,
			ctx->worker_count, beats,
			(uint64_t)now.tv_sec * 1000000000ull +
			(uint64_t)now.tv_nsec) != 0)
		printf("smbgw: more than %u workers: the watchdog is not used\n",
			HEARTBEAT_WORKERS_MAX);
	snprintf(status, sizeof(status),
		"READY=1\nSTATUS=forwarding: %s mode, %u ports, %u workers",
		config_mode_name(ctx->cfg->mode), ctx->ports.count,
		ctx->worker_count);
	sd_notifier_send(&supervision.notifier, status);
	if (supervision.watch.period_ns != 0)
		printf("smbgw: service manager watchdog: %" PRIu64 " ms, workers' heartbeats checked every %" PRIu64 " ms\n",
			supervision.notifier.watchdog_usec / 1000,
			supervision.watch.period_ns / 1000000);
	fflush(stdout);
}

void
supervise_tick(struct live_context *ctx, uint64_t now_ns)
{
	struct heartbeat_watch *watch = &supervision.watch;
	uint64_t beats[HEARTBEAT_WORKERS_MAX];
	char status[128];
	unsigned int w;

	if (watch->period_ns == 0 || now_ns < watch->next_ns)
		return;
	read_heartbeats(ctx, beats);
	switch (heartbeat_watch_tick(watch, beats, now_ns)) {
	case HEARTBEAT_ALIVE:
		sd_notifier_send(&supervision.notifier, "WATCHDOG=1");
		if (supervision.stall_reported) {
			supervision.stall_reported = false;
			printf("smbgw: every worker moves again: watchdog notified\n");
			sd_notifier_send(&supervision.notifier,
				"STATUS=forwarding");
			fflush(stdout);
		}
		break;
	case HEARTBEAT_STALLED:
		if (supervision.stall_reported)
			break;
		supervision.stall_reported = true;
		w = watch->stalled_worker;
		/* Once per episode; the service manager restarts us. */
		printf("smbgw: worker %u (lcore %u) made no progress for %" PRIu64 " ms: the watchdog is no longer notified\n",
			w, ctx->worker_lcores[w], watch->period_ns / 1000000);
		snprintf(status, sizeof(status),
			"STATUS=worker %u stalled: watchdog withheld", w);
		sd_notifier_send(&supervision.notifier, status);
		fflush(stdout);
		break;
	case HEARTBEAT_WAIT:
		break;
	}
}

void
supervise_stopping(struct live_context *ctx)
{
	(void)ctx;
	sd_notifier_send(&supervision.notifier, "STOPPING=1");
	sd_notifier_close(&supervision.notifier);
	supervision.watch.period_ns = 0;
}

const volatile bool *
supervise_stall_flag(unsigned int worker_id)
{
	return worker_id < RTE_MAX_LCORE ? &stall_requested[worker_id] : NULL;
}

void
supervise_allow_debug_commands(bool allow)
{
	supervision.debug_commands = allow;
}

/* "debug stall-worker N" / "debug resume-worker N": N, or -1. */
static int
worker_argument(const struct live_context *ctx, const struct ctl_request *req)
{
	char *end;
	unsigned long w;

	if (req->argc != 1 || req->argv[0][0] < '0' || req->argv[0][0] > '9')
		return -1;
	errno = 0;
	w = strtoul(req->argv[0], &end, 10);
	if (errno != 0 || *end != '\0' || w >= ctx->worker_count)
		return -1;
	return (int)w;
}

static int
set_stall(void *arg, const struct ctl_request *req, struct ctl_reply *r,
	bool stall)
{
	struct live_context *ctx = arg;
	int w;

	if (req->uid != 0)
		return ctl_reply_error(r, -EPERM,
			"debug commands are for root only");
	w = worker_argument(ctx, req);
	if (w < 0)
		return ctl_reply_error(r, -EINVAL,
			"usage: debug %s-worker N (N below %u)",
			stall ? "stall" : "resume", ctx->worker_count);
	stall_requested[w] = stall;
	printf("smbgw: debug: worker %d %s on request\n", w,
		stall ? "stalled" : "resumed");
	fflush(stdout);
	ctl_reply_u64(r, "worker", (uint64_t)w);
	ctl_reply_bool(r, "stalled", stall);
	return 0;
}

static int
cmd_stall_worker(void *arg, const struct ctl_request *req, struct ctl_reply *r)
{
	return set_stall(arg, req, r, true);
}

static int
cmd_resume_worker(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	return set_stall(arg, req, r, false);
}

int
supervise_register_debug_commands(struct live_context *ctx)
{
	int ret;

	if (!supervision.debug_commands)
		return 0;
	printf("smbgw: debug commands enabled (--debug-commands): not for production\n");
	ret = ctl_register(ctx->ctl, "debug stall-worker", cmd_stall_worker,
		ctx, "debug stall-worker N: stop worker N's loop (test only)");
	if (ret == 0)
		ret = ctl_register(ctx->ctl, "debug resume-worker",
			cmd_resume_worker, ctx,
			"debug resume-worker N: let worker N run again");
	return ret;
}
