/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_PORTS_H
#define SMBGW_PORTS_H

/*
 * Port set-up: resolves DPDK port names, creates one mbuf pool per port,
 * configures one RX and one TX queue per worker (symmetric RSS when there
 * are several, so both directions of a flow land on the same worker), and
 * starts the ports.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"

struct rte_mempool;

struct ports_params {
	unsigned int port_count;
	const char *names[DATAPLANE_PORTS_MAX];
	bool receive_only;		/* tap mode: never transmit */
	unsigned int queues;		/* wanted: one per worker */
	unsigned int mtu;
	unsigned int max_frame;		/* mtu plus L2 headers */
	unsigned int rx_descriptors;
	unsigned int tx_descriptors;
	unsigned int mbufs;		/* per port */
	unsigned int mbuf_cache;
	unsigned int mbuf_data_room;
};

struct port_set {
	unsigned int count;
	unsigned int queues;		/* granted: may be 1 for single-queue devices */
	uint16_t port_id[DATAPLANE_PORTS_MAX];
	const char *names[DATAPLANE_PORTS_MAX];
	struct rte_mempool *pools[DATAPLANE_PORTS_MAX];
	unsigned int started;		/* ports started so far, for unwinding */
	/*
	 * Ports whose queues are not fed by a hash of the connection (no
	 * RSS: memif, af_packet, pcap): with several queues, one connection
	 * may arrive on several, and the workers redirect frames to the
	 * flow's owner (worker.h).
	 */
	unsigned int unhashed;
};

/*
 * Resolves, configures and starts the ports of <params> into <set>. When
 * a port has a single queue and several were asked for, one queue is
 * used on every port and set->queues says so. Returns 0, or a negative
 * errno with a one-line cause (naming the port) written to <error>, after
 * undoing what was done.
 */
int
ports_start(const struct ports_params *params, struct port_set *set,
	char *error, size_t error_len);

/* Stops and closes every port of <set> and frees its pools. */
void
ports_stop(struct port_set *set);

#endif /* SMBGW_PORTS_H */
