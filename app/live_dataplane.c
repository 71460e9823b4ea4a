/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live data plane as the control API reads it: counters summed over
 * the workers, each worker's own, and the ports' device counters.
 */
#include <string.h>

#include <rte_ethdev.h>

#include "flow.h"
#include "inspect.h"
#include "live_pvt.h"
#include "stats.h"
#include "worker.h"

static void
live_sum(void *arg, struct gateway_counters *out)
{
	struct live_context *ctx = arg;

	stats_sum(&out->total, ctx->workers, ctx->worker_count);
	stats_sum_inspection(ctx->workers, ctx->worker_count, &out->inspect,
		&out->flows, NULL);
}

static void
live_worker(void *arg, unsigned int w, struct gateway_worker_counters *out)
{
	struct live_context *ctx = arg;
	const struct worker *worker = ctx->workers[w];
	const struct inspect_counters *ic =
		inspector_counters(worker->inspector);
	struct flow_table_stats flows;
	unsigned int p;

	memset(out, 0, sizeof(*out));
	for (p = 0; p < ctx->ports.count; p++) {
		const struct port_counters *pc = &worker->counters.port[p];

		out->rx += pc->rx;
		out->redirected_out += pc->redirected_out;
		out->redirected_in += pc->redirected_in;
		out->queue[p] = *pc;
	}
	out->balanced = true;
	for (p = 0; p < ctx->ports.count; p++)
		out->balanced = out->balanced &&
			port_counters_balanced(&worker->counters.port[p]);
	inspector_flow_stats(worker->inspector, &flows);
	out->flows_created = flows.created;
	out->smb_messages = ic->smb_messages;
	out->lcore = ctx->worker_lcores[w];
	out->bursts = worker->counters.bursts;
	out->polls = worker->counters.polls;
	out->busy_cycles = worker->counters.busy_cycles;
	out->events = ic->events;
	out->ring_full = ic->events_dropped;
}

static bool
live_device(void *arg, unsigned int port, struct gateway_device_counters *out)
{
	struct live_context *ctx = arg;
	struct rte_eth_stats dev;

	if (rte_eth_stats_get(ctx->ports.port_id[port], &dev) != 0)
		return false;
	out->imissed = dev.imissed;
	out->rx_nombuf = dev.rx_nombuf;
	out->oerrors = dev.oerrors;
	return true;
}

void
live_dataplane(struct live_context *ctx, struct gateway_dataplane *out)
{
	memset(out, 0, sizeof(*out));
	out->port_count = ctx->ports.count;
	out->port_names = ctx->ports.names;
	out->worker_count = ctx->worker_count;
	out->ctx = ctx;
	out->sum = live_sum;
	out->worker = live_worker;
	out->device = live_device;
}
