/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live mode: EAL, ports, workers, and the control loop on the main lcore.
 * Start-up and shut-down order is the module table below; terms run in
 * reverse, and only for the modules whose init succeeded.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "config.h"
#include "ctl.h"
#include "flowlog.h"
#include "frag.h"
#include "endpoints.h"
#include "gateway.h"
#include "gateway_api.h"
#include "inspect.h"
#include "live_pvt.h"
#include "match.h"
#include "monitor.h"
#include "policy.h"
#include "ports.h"
#include "redis_output.h"
#include "report.h"
#include "stats.h"
#include "supervise.h"
#include "worker.h"

#define FLOWLOG_ROWS 65536
#define CONTROL_REST_NS 1000000	/* idle: look again after 1 ms */
#define CONTROL_DRAIN_MAX 1024		/* events per ring per pass */
#define POLICY_FIRST_GENERATION 1


struct live_module {
	const char *name;
	int (*init)(struct live_context *ctx);
	void (*term)(struct live_context *ctx);
};

static volatile bool stop_requested;
static volatile sig_atomic_t reload_requested;

static void
on_reload_signal(int signum)
{
	(void)signum;
	reload_requested = 1;
}

static void
on_stop_signal(int signum)
{
	(void)signum;
	stop_requested = true;
}

/* Wall-clock time, for records written by the control core itself. */
static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
monotonic_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static const char *
eal_failure_hint(int err)
{
	switch (err) {
	case EACCES:
		return "no usable hugepages or insufficient permissions: reserve and mount hugepages (see README) or pass --no-huge -m 512";
	case ENOMEM:
		return "not enough memory: reserve more hugepages or lower -m";
	case EALREADY:
		return "EAL is already initialised";
	case EINVAL:
		return "invalid EAL option (see dpdk EAL parameters)";
	case ENOTSUP:
		return "an EAL feature is not supported on this machine";
	case EPROTO:
		return "the PCI bus could not be initialised";
	case ENODEV:
		return "memory or devices could not be initialised";
	default:
		return rte_strerror(err);
	}
}

/* Before EAL: what a killed instance left must not block this start. */
static int
leftovers_init(struct live_context *ctx)
{
	return supervise_clean_leftovers(ctx);
}

static void
leftovers_term(struct live_context *ctx)
{
	(void)ctx;
}

static int
eal_init(struct live_context *ctx)
{
	if (rte_eal_init(ctx->eal_argc, ctx->eal_argv) < 0) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot initialise DPDK: %s",
			eal_failure_hint(rte_errno));
		return -rte_errno;
	}
	return 0;
}

static void
eal_term(struct live_context *ctx)
{
	(void)ctx;
	gateway_eal_cleanup();
}

static int
signals_init(struct live_context *ctx)
{
	struct sigaction action;

	(void)ctx;
	memset(&action, 0, sizeof(action));
	action.sa_handler = on_stop_signal;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	action.sa_handler = on_reload_signal;
	sigaction(SIGHUP, &action, NULL);
	return 0;
}

static void
signals_term(struct live_context *ctx)
{
	(void)ctx;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

static int
ports_init(struct live_context *ctx)
{
	const struct gateway_config *cfg = ctx->cfg;
	struct ports_params params;
	unsigned int i;

	if (rte_lcore_count() < 2) {
		snprintf(ctx->error, sizeof(ctx->error),
			"too few lcores: one control and at least one worker lcore are needed (e.g. -l 0-1)");
		return -EINVAL;
	}
	if (rte_lcore_count() - 1 < cfg->workers) {
		snprintf(ctx->error, sizeof(ctx->error),
			"too few lcores: gateway.workers = %u but EAL gave %u worker lcores (-l)",
			cfg->workers, rte_lcore_count() - 1);
		return -EINVAL;
	}
	memset(&params, 0, sizeof(params));
	params.port_count = cfg->port_count;
	for (i = 0; i < cfg->port_count; i++)
		params.names[i] = cfg->ports[i];
	params.receive_only = cfg->mode == CONFIG_MODE_TAP;
	params.queues = cfg->workers;
	params.mtu = cfg->mtu;
	params.max_frame = config_max_frame(cfg);
	params.rx_descriptors = cfg->rx_descriptors;
	params.tx_descriptors = cfg->tx_descriptors;
	params.mbufs = cfg->mbufs;
	params.mbuf_cache = cfg->mbuf_cache;
	params.mbuf_data_room = cfg->mbuf_data_room;
	return ports_start(&params, &ctx->ports, ctx->error,
		sizeof(ctx->error));
}

static void
ports_term(struct live_context *ctx)
{
	unsigned int w;

	ports_stop(&ctx->ports);
	/* Only now: resets may have sat in a TX ring until the ports closed. */
	for (w = 0; w < RTE_MAX_LCORE; w++) {
		rte_mempool_free(ctx->reset_pools[w]);
		ctx->reset_pools[w] = NULL;
	}
}

static int
inspection_init(struct live_context *ctx)
{
	ctx->watchlist = gateway_watchlist_create(ctx->cfg, ctx->error,
		sizeof(ctx->error));
	if (ctx->watchlist == NULL)
		return -ENOMEM;
	/* One table per configured worker, whatever runs in the end. */
	ctx->endpoints = gateway_endpoints_create(ctx->cfg, ctx->cfg->workers);
	if (ctx->endpoints == NULL) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot allocate the DCE/RPC endpoint table (dcerpc.endpoints = %u): %s",
			ctx->cfg->dcerpc.endpoints, strerror(errno));
		goto free_watchlist;
	}
	ctx->flowlog = flowlog_create(FLOWLOG_ROWS, ctx->watchlist);
	if (ctx->flowlog == NULL) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot allocate the flow summary");
		goto free_watchlist;
	}
	/* The Redis sender runs where DPDK puts control threads. */
	redis_output_set_thread_create(rte_ctrl_thread_create);
	ctx->monitor = monitor_create(ctx->cfg, ctx->watchlist, ctx->policy,
		ctx->error, sizeof(ctx->error));
	if (ctx->monitor == NULL)
		goto free_flowlog;
	/* Before any worker runs: the day's counts so far, from the last run. */
	monitor_restore_report(ctx->monitor);
	flowlog_set_sink(ctx->flowlog, monitor_event, ctx->monitor);
	return 0;

free_flowlog:
	flowlog_free(ctx->flowlog);
free_watchlist:
	endpoint_registry_free(ctx->endpoints);
	ctx->endpoints = NULL;
	watchlist_free(ctx->watchlist);
	return -ENOMEM;
}

static void
inspection_term(struct live_context *ctx)
{
	monitor_free(ctx->monitor);
	flowlog_free(ctx->flowlog);
	endpoint_registry_free(ctx->endpoints);
	ctx->endpoints = NULL;
	watchlist_free(ctx->watchlist);
}

/* The segment-pair policy, published before any worker reads it. */
static int
policy_init(struct live_context *ctx)
{
	ctx->policy = gateway_policy_start(ctx->cfg, ctx->ports.queues,
		POLICY_FIRST_GENERATION, ctx->error, sizeof(ctx->error));
	return ctx->policy == NULL ? -EINVAL : 0;
}

static void
policy_term(struct live_context *ctx)
{
	policy_publisher_free(ctx->policy);
}

/* Worker <w> serves queue <w> of every port. */
static void
set_links(struct live_context *ctx, struct worker *worker, unsigned int w)
{
	const struct port_set *ports = &ctx->ports;
	unsigned int i;

	worker->link_count = ports->count;
	for (i = 0; i < ports->count; i++) {
		struct worker_link *link = &worker->links[i];

		link->rx_port = ports->port_id[i];
		link->rx_queue = w;
		link->rx_index = i;
		link->transmit = ctx->cfg->mode == CONFIG_MODE_INLINE;
		/* Inline mode has exactly two ports: each is the other's peer. */
		link->tx_port = ports->port_id[ports->count - 1 - i];
		link->tx_queue = w;
	}
}

static int
worker_create(struct live_context *ctx, unsigned int w, unsigned int lcore)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	struct worker *worker;
	struct timespec now;
	unsigned int i;

	worker = rte_zmalloc_socket("worker", sizeof(*worker),
		RTE_CACHE_LINE_SIZE, socket);
	if (worker == NULL) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot allocate worker state");
		return -ENOMEM;
	}
	ctx->workers[w] = worker;
	ctx->worker_lcores[w] = lcore;
	worker->id = w;
	worker->burst_size = ctx->cfg->burst_size;
	worker->tx_retries = ctx->cfg->tx_retries;
	worker->max_frame = config_max_frame(ctx->cfg);
	worker->stop = &stop_requested;
	worker->stall = supervise_stall_flag(w);
	clock_gettime(CLOCK_REALTIME, &now);
	worker->tsc_hz = rte_get_tsc_hz();
	worker->start_tsc = rte_rdtsc();
	worker->start_ns = (uint64_t)now.tv_sec * 1000000000ull +
		(uint64_t)now.tv_nsec;
	set_links(ctx, worker, w);
	for (i = 0; i < worker->link_count; i++) {
		worker->links[i].pool = ctx->ports.pools[i];
		if (gateway_fragments_create(ctx->cfg, &worker->links[i],
				socket, ctx->error, sizeof(ctx->error)) != 0)
			return -ENOMEM;
	}

	ctx->events[w] = gateway_event_ring_create(w,
		ctx->cfg->event_ring_size, socket);
	if (ctx->events[w] == NULL) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot create the event ring of worker %u: %s (memory.event_ring_size)",
			w, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	snprintf(pool_name, sizeof(pool_name), "resets_%u", w);
	/* TCP resets are small, and few: the policy sends two a connection. */
	ctx->reset_pools[w] = rte_pktmbuf_pool_create(pool_name, 1023, 32, 0,
		RTE_PKTMBUF_HEADROOM + 128, socket);
	if (ctx->reset_pools[w] == NULL) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot create the reset pool of worker %u: %s", w,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	worker->inspector = gateway_inspector_create(ctx->cfg, true, w,
		ctx->events[w], ctx->watchlist, ctx->policy,
		ctx->reset_pools[w], ctx->endpoints, NULL, NULL);
	if (worker->inspector == NULL) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot create the flow table of worker %u (flows.max_flows = %u, flows.sessions = %u): %s",
			w, ctx->cfg->max_flows, config_sessions(ctx->cfg),
			strerror(errno));
		return -ENOMEM;
	}
	worker->port_flags = inspector_port_flags(worker->inspector);
	return 0;
}

/*
 * Software flow affinity between the workers (dataplane/affinity.h), when
 * gateway.redirect asks for it or, on "auto", when a port cannot hash
 * connections to queues: a redirect ring per worker and port.
 */
static int
redirect_init(struct live_context *ctx)
{
	const struct gateway_config *cfg = ctx->cfg;
	char name[RTE_RING_NAMESIZE];
	unsigned int w, i;

	if (ctx->worker_count < 2 || cfg->redirect == CONFIG_REDIRECT_OFF ||
			(cfg->redirect == CONFIG_REDIRECT_AUTO &&
			ctx->ports.unhashed == 0))
		return 0;
	for (w = 0; w < ctx->worker_count; w++) {
		struct worker *worker = ctx->workers[w];
		int socket = (int)rte_lcore_to_socket_id(ctx->worker_lcores[w]);

		for (i = 0; i < worker->link_count; i++) {
			snprintf(name, sizeof(name), "redirect_%u_%u", w, i);
			worker->links[i].redirect_in = rte_ring_create(name,
				cfg->redirect_ring_size, socket,
				RING_F_SC_DEQ | RING_F_EXACT_SZ);
			if (worker->links[i].redirect_in == NULL) {
				snprintf(ctx->error, sizeof(ctx->error),
					"cannot create the redirect ring of worker %u: %s (memory.redirect_ring_size)",
					w, rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
		worker->peers = ctx->workers;
		worker->peer_count = ctx->worker_count;
	}
	printf("smbgw: %u workers, frames handed to the worker of their address pair (gateway.redirect = %s)\n",
		ctx->worker_count, config_redirect_name(cfg->redirect));
	return 0;
}

static int
workers_init(struct live_context *ctx)
{
	unsigned int lcore, w = 0, wanted = ctx->ports.queues;
	int ret;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (w == wanted)
			break;
		/* Counted first, so that term frees a half-built worker. */
		ctx->worker_count = w + 1;
		ret = worker_create(ctx, w, lcore);
		if (ret != 0)
			return ret;
		w++;
	}
	ret = redirect_init(ctx);
	if (ret != 0)
		return ret;
	for (w = 0; w < ctx->worker_count; w++)
		rte_eal_remote_launch(worker_main, ctx->workers[w],
			ctx->worker_lcores[w]);
	ctx->workers_launched = true;
	return 0;
}

/*
 * Returns how many events were taken from the workers' rings: each ring in
 * turn, CONTROL_DRAIN_MAX at most, so that a busy worker's full ring
 * cannot starve the others'.
 */
static unsigned int
drain_events(struct live_context *ctx)
{
	return flowlog_drain_rings(ctx->flowlog, ctx->events,
		ctx->worker_count, CONTROL_DRAIN_MAX);
}

/*
 * Stops the workers and waits for them, draining their event rings
 * meanwhile: a worker ends every flow it tracked on the way out, which may
 * be more events than its ring holds.
 */
static void
stop_workers(struct live_context *ctx)
{
	const struct timespec pause = { .tv_sec = 0, .tv_nsec = 1000000 };
	unsigned int w;

	stop_requested = true;
	if (!ctx->workers_launched)
		return;
	for (w = 0; w < ctx->worker_count; w++) {
		while (rte_eal_get_lcore_state(ctx->worker_lcores[w]) ==
				RUNNING) {
			drain_events(ctx);
			nanosleep(&pause, NULL);
		}
		rte_eal_wait_lcore(ctx->worker_lcores[w]);
	}
	for (w = 0; w < ctx->worker_count; w++)
		worker_drop_redirected(ctx->workers[w]);
	while (drain_events(ctx) > 0)
		;
	ctx->workers_launched = false;
}

static void
workers_term(struct live_context *ctx)
{
	unsigned int w, i;

	stop_workers(ctx);
	for (w = 0; w < ctx->worker_count; w++) {
		struct worker *worker = ctx->workers[w];

		if (worker != NULL) {
			inspector_free(worker->inspector);
			/* Before the ports' pools: tables hold their mbufs. */
			for (i = 0; i < worker->link_count; i++)
				frag_table_free(worker->links[i].frag,
					&worker->counters.port[
					worker->links[i].rx_index]);
			worker_drop_redirected(worker);
			for (i = 0; i < worker->link_count; i++)
				rte_ring_free(worker->links[i].redirect_in);
		}
		rte_ring_free(ctx->events[w]);
		rte_free(ctx->workers[w]);
	}
	ctx->worker_count = 0;
}

static int
control_init(struct live_context *ctx)
{
	struct ctl_params params;
	int ret;

	ctx->start_ns = monotonic_ns();
	ctl_params_from_config(&params, &ctx->cfg->control);
	ctx->ctl = ctl_server_create(&params);
	if (ctx->ctl == NULL) {
		snprintf(ctx->error, sizeof(ctx->error),
			"control socket %s: %s", params.socket_path,
			errno == EADDRINUSE ?
			"address already in use: another gateway serves it (stop it or set control.socket)" :
			strerror(errno));
		return -errno;
	}
	ret = ctl_pdump_init();
	if (ret != 0) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot initialise packet capture: %s", strerror(-ret));
		ctl_server_free(ctx->ctl);
		return ret;
	}
	return 0;
}

static void
control_term(struct live_context *ctx)
{
	ctl_pdump_uninit();
	ctl_server_free(ctx->ctl);
}

/*
 * The control API over the running pieces: the socket's commands (and so
 * telemetry's) answer from here on. Last, once the workers it counts run.
 */
static int
gateway_init(struct live_context *ctx)
{
	struct gateway_dataplane dataplane;
	struct gateway_parts parts = {
		.cfg = ctx->cfg,
		.policy = ctx->policy,
		.generation = POLICY_FIRST_GENERATION,
		.monitor = ctx->monitor,
		.flowlog = ctx->flowlog,
		.started_ns = ctx->start_ns,
	};
	int ret;

	live_dataplane(ctx, &dataplane);
	ctx->gateway = gateway_create(&parts, &dataplane, ctx->error,
		sizeof(ctx->error));
	if (ctx->gateway == NULL)
		return -ENOMEM;
	ret = gateway_register_commands(ctx->gateway, ctx->ctl);
	if (ret != 0) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot register the control commands: %s",
			strerror(-ret));
		gateway_free(ctx->gateway);
		return ret;
	}
	ret = supervise_register_debug_commands(ctx);
	if (ret != 0) {
		snprintf(ctx->error, sizeof(ctx->error),
			"cannot register the debug commands: %s",
			strerror(-ret));
		gateway_free(ctx->gateway);
		ctx->gateway = NULL;
		return ret;
	}
	ctl_telemetry_register(ctx->ctl, "status");
	ctl_telemetry_register(ctx->ctl, "stats");
	ctl_telemetry_register(ctx->ctl, "flows");
	return 0;
}

static void
gateway_term(struct live_context *ctx)
{
	gateway_free(ctx->gateway);
	ctx->gateway = NULL;
}

static const struct live_module live_modules[] = {
	{ "leftovers", leftovers_init, leftovers_term },
	{ "eal", eal_init, eal_term },
	{ "signals", signals_init, signals_term },
	{ "control", control_init, control_term },
	{ "ports", ports_init, ports_term },
	{ "policy", policy_init, policy_term },
	{ "inspection", inspection_init, inspection_term },
	{ "workers", workers_init, workers_term },
	{ "gateway", gateway_init, gateway_term },
};

#define LIVE_MODULE_COUNT (sizeof(live_modules) / sizeof(live_modules[0]))

static bool
print_counters(struct live_context *ctx, const char *title)
{
	struct worker_counters total;
	bool balanced;

	stats_sum(&total, ctx->workers, ctx->worker_count);
	balanced = stats_print(stdout, title, &total, ctx->ports.names,
		ctx->ports.count);
	balanced = stats_print_queues(stdout, ctx->workers, ctx->worker_count,
		ctx->ports.names, ctx->ports.count) && balanced;
	stats_print_devices(stdout, ctx->ports.port_id, ctx->ports.names,
		ctx->ports.count);
	stats_print_inspection(stdout, ctx->workers, ctx->worker_count,
		ctx->watchlist, flowlog_counters(ctx->flowlog));
	stats_print_outputs(stdout, ctx->monitor);
	return balanced;
}

/* SIGHUP: the same reload and log reopening as the control socket's. */
static void
control_on_sighup(struct live_context *ctx)
{
	static struct config_errors errors;
	struct config_changes changes;
	unsigned int i;

	if (gateway_reopen_logs(ctx->gateway) != 0)
		printf("smbgw: cannot reopen the EVE log %s: %s\n",
			ctx->cfg->output.path, strerror(errno));
	if (gateway_reload(ctx->gateway, &errors, &changes) == 0) {
		printf("smbgw: reload: %s is valid (generation %" PRIu64 ")\n",
			ctx->cfg->source, gateway_generation(ctx->gateway));
		for (i = 0; i < changes.count; i++)
			printf("smbgw: reload: %s changed: %s\n",
				changes.keys[i], CONFIG_RESTART_NOTE);
	} else {
		printf("smbgw: reload rejected, the running configuration stays:\n");
		for (i = 0; i < errors.count; i++)
			printf("  %s\n", errors.messages[i]);
	}
	fflush(stdout);
}

/*
 * The control core: drains the event rings as fast as they fill (a ring
 * only overflows when events come faster than the detector takes them),
 * and rests a little only when there was nothing to do.
 */
static void
control_loop(struct live_context *ctx)
{
	const struct timespec rest = { .tv_sec = 0,
		.tv_nsec = CONTROL_REST_NS };
	uint64_t next_second = monotonic_ns() + 1000000000ull;
	unsigned int seconds = 0;
	char title[64];

	while (!stop_requested) {
		unsigned int taken = drain_events(ctx);

		if (taken > 0)
			monitor_pass(ctx->monitor);
		supervise_tick(ctx, monotonic_ns());

		ctl_server_poll(ctx->ctl, 0);
		if (reload_requested) {
			reload_requested = 0;
			control_on_sighup(ctx);
		}
		if (monotonic_ns() >= next_second) {
			next_second += 1000000000ull;
			seconds++;
			monitor_flush(ctx->monitor);
			if (ctx->cfg->report.checkpoint_interval != 0 &&
					seconds % ctx->cfg->report.checkpoint_interval == 0)
				monitor_checkpoint_report(ctx->monitor);
			if (ctx->cfg->stats_interval != 0 &&
					seconds % ctx->cfg->stats_interval == 0) {
				snprintf(title, sizeof(title),
					"counters after %u s", seconds);
				print_counters(ctx, title);
			}
			if (ctx->cfg->output.stats_interval != 0 &&
					seconds % ctx->cfg->output.stats_interval == 0)
				stats_write_eve(ctx->monitor, realtime_ns(), seconds,
					ctx->workers, ctx->worker_count,
					ctx->cfg->port_count);
		}
		if (taken == 0)
			nanosleep(&rest, NULL);
	}
}

int
gateway_run_live(const struct gateway_config *cfg, int eal_argc,
	char **eal_argv)
{
	static struct live_context ctx;
	unsigned int started = 0;
	int status = EXIT_SUCCESS;
	unsigned int i;

	ctx.cfg = cfg;
	ctx.eal_argc = eal_argc;
	ctx.eal_argv = eal_argv;

	for (started = 0; started < LIVE_MODULE_COUNT; started++) {
		if (live_modules[started].init(&ctx) != 0) {
			fprintf(stderr, "smbgw: %s\n", ctx.error);
			status = EXIT_FAILURE;
			break;
		}
	}
	if (status == EXIT_SUCCESS) {
		printf("smbgw: %s mode on %u ports, %u workers (config %s)\n",
			config_mode_name(cfg->mode), ctx.ports.count,
			ctx.worker_count, cfg->source);
		fflush(stdout);
		supervise_ready(&ctx);
		control_loop(&ctx);
		supervise_stopping(&ctx);
		printf("smbgw: stopping\n");
		/* Workers finish their burst first so the counts are exact. */
		stop_workers(&ctx);
		if (!print_counters(&ctx, "final counters"))
			status = EXIT_FAILURE;
		flowlog_print(ctx.flowlog, stdout);
		monitor_finish(ctx.monitor);
		/* Every flow has ended: the last checkpoint has all the counts. */
		monitor_checkpoint_report(ctx.monitor);
		monitor_print_alerts(ctx.monitor, stdout);
		printf("== SMB traffic allowed (report) ==\n");
		report_write_csv(monitor_report(ctx.monitor), stdout,
			REPORT_ALL_DAYS);
	}

	for (i = started; i > 0; i--)
		live_modules[i - 1].term(&ctx);
	return status;
}
