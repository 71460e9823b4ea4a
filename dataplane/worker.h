/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_WORKER_H
#define SMBGW_WORKER_H

/*
 * The per-packet pipeline and the poll-mode loop around it. One struct
 * worker per worker lcore holds everything the loop touches, so nothing
 * in the loop is shared with another core.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "counters.h"

struct rte_mbuf;
struct rte_mempool;
struct inspector;
struct frag_table;

/* One receive queue and where its frames go. */
struct worker_link {
	uint16_t rx_port;
	uint16_t rx_queue;
	uint16_t tx_port;
	uint16_t tx_queue;
	uint8_t rx_index;	/* index of rx_port in the configuration */
	bool transmit;		/* false: receive-only (tap, capture file) */
	/* TCP fragments of this link (NULL: they pass as other frames) */
	struct frag_table *frag;
	struct rte_mempool *pool;	/* for re-fragmented datagrams */
	/*
	 * Frames other workers received on rx_port whose flows this worker
	 * owns (multi-producer, single-consumer); NULL without software
	 * flow affinity.
	 */
	struct rte_ring *redirect_in;
};

struct worker {
	unsigned int id;
	unsigned int link_count;
	struct worker_link links[DATAPLANE_PORTS_MAX];
	uint16_t burst_size;
	uint16_t tx_retries;
	uint32_t max_frame;
	const volatile bool *stop;	/* set by the control core to end the loop */
	struct inspector *inspector;	/* NULL: forward without inspection */
	const uint8_t *port_flags;	/* the inspector's, for the fast path */
	uint64_t tsc_hz;		/* clock: ns = start_ns + tsc delta */
	uint64_t start_tsc;
	uint64_t start_ns;
	uint64_t now_ns;		/* read once per loop pass */
	/*
	 * Loop passes, sampled by the control core for the service
	 * manager's watchdog (control/heartbeat.h).
	 */
	uint64_t heartbeat;
	/*
	 * Test only, set by the control core (smbgwctl debug stall-worker):
	 * spin without a heartbeat. NULL: never.
	 */
	const volatile bool *stall;
	/*
	 * Software flow affinity (affinity.h): every worker by id, each
	 * frame handled by the worker its address pair maps to, so that one
	 * connection is never split over two workers when the ports cannot
	 * spread connections symmetrically. NULL: frames are handled where
	 * they arrive.
	 */
	struct worker *const *peers;
	unsigned int peer_count;
	struct worker_counters counters;
} __rte_cache_aligned;

/*
 * Runs the frames <pkts>[0..<count>) received on link <link_index>
 * through the pipeline: decode, reassembly of TCP fragments (when the link
 * has a fragment table), inspect (flows, classification, parsing,
 * events), verdict, then transmit on the link's peer
 * (with up to tx_retries retries; what still does not fit is freed and
 * counted tx_full) or, for a receive-only link, free and count
 * receive_only. <ts_ns> holds each frame's time in ns since the epoch, or
 * is NULL for "now". Every frame is accounted for exactly once.
 */
void
worker_handle_burst(struct worker *worker, unsigned int link_index,
	struct rte_mbuf **pkts, uint16_t count, const uint64_t *ts_ns);

/*
 * Drops the IP fragments the worker's links still hold, counted
 * frag_incomplete: at the end of the loop or of a capture, before the
 * counters are read.
 */
void
worker_flush_fragments(struct worker *worker);

/*
 * Frees the frames still waiting in <worker>'s redirect rings, counted
 * redirect_stopped: once every worker has stopped, before the counters
 * are read.
 */
void
worker_drop_redirected(struct worker *worker);

/* The worker's clock: ns since the epoch, from the TSC. */
uint64_t
worker_now_ns(const struct worker *worker);

/*
 * The poll-mode loop, launched on a worker lcore with rte_eal_remote_launch
 * and <arg> a struct worker. Returns 0 once *worker->stop is set, after
 * handling the frames it had received and ending every flow it tracked
 * (so that flow-end events reach the control core).
 */
int
worker_main(void *arg);

#endif /* SMBGW_WORKER_H */
