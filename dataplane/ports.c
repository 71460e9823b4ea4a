/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "ports.h"

RTE_LOG_REGISTER_DEFAULT(ports_logtype, INFO);
#define PORTS_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, ports_logtype, "ports: " fmt "\n", \
		##__VA_ARGS__)

/*
 * A Toeplitz key made of one repeated 16-bit pattern hashes (a, b) and
 * (b, a) alike, so both directions of a connection reach the same queue.
 */
static uint8_t symmetric_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

static int
port_socket(uint16_t port_id)
{
	int socket = rte_eth_dev_socket_id(port_id);

	return socket < 0 ? (int)rte_socket_id() : socket;
}

/* How many queues every port can give: all of them, or 1 for all. */
static int
grant_queues(const struct ports_params *params, struct port_set *set,
	char *error, size_t error_len)
{
	unsigned int i, granted = params->queues;

	for (i = 0; i < set->count; i++) {
		struct rte_eth_dev_info info;
		unsigned int most;
		int ret = rte_eth_dev_info_get(set->port_id[i], &info);

		if (ret != 0) {
			snprintf(error, error_len,
				"port %s: cannot read device info: %s",
				set->names[i], rte_strerror(-ret));
			return ret;
		}
		most = RTE_MIN(info.max_rx_queues, info.max_tx_queues);
		if (most >= params->queues)
			continue;
		if (most == 1) {
			granted = 1;
			continue;
		}
		snprintf(error, error_len,
			"port %s has %u queues, fewer than the %u workers configured (gateway.workers)",
			set->names[i], most, params->queues);
		return -EINVAL;
	}
	if (granted < params->queues)
		PORTS_LOG(WARNING,
			"a port has a single queue: running 1 worker instead of %u",
			params->queues);
	set->queues = granted;
	return 0;
}

static int
configure_port(const struct ports_params *params, struct port_set *set,
	unsigned int index, char *error, size_t error_len)
{
	uint16_t port_id = set->port_id[index];
	const char *name = set->names[index];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxconf;
	uint16_t rx_desc = params->rx_descriptors;
	uint16_t tx_desc = params->tx_descriptors;
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	unsigned int data_room = params->mbuf_data_room;
	unsigned int queue;
	int ret;

	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret != 0)
		goto info_failed;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = params->mtu;
	/* ethdev checks the MTU plus Ethernet header and CRC against this. */
	if (params->mtu > info.max_mtu || params->mtu + RTE_ETHER_HDR_LEN +
			RTE_ETHER_CRC_LEN > info.max_rx_pktlen) {
		snprintf(error, error_len,
			"port %s supports an MTU of at most %u; gateway.mtu is %u",
			name, RTE_MIN(info.max_mtu, info.max_rx_pktlen -
			RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN), params->mtu);
		return -EINVAL;
	}
	if (params->max_frame > data_room) {
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) {
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		} else {
			/*
			 * Without scatter a frame must fit one mbuf, or the
			 * driver drops it where nothing of ours counts it.
			 */
			data_room = params->max_frame;
			PORTS_LOG(INFO,
				"port %s cannot scatter: %u-byte mbufs so whole %u-byte frames fit",
				name, data_room, params->max_frame);
		}
	}
	/*
	 * Checksums of inspected TCP segments are verified: where the NIC
	 * does it, its verdict in the mbuf's flags spares the software sum.
	 */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (set->queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len =
			sizeof(symmetric_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP |
			RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
		if ((conf.rx_adv_conf.rss_conf.rss_hf & RTE_ETH_RSS_IP) == 0)
			set->unhashed++;
	}

	snprintf(pool_name, sizeof(pool_name), "mbufs_%u", index);
	set->pools[index] = rte_pktmbuf_pool_create(pool_name, params->mbufs,
		params->mbuf_cache, 0, data_room + RTE_PKTMBUF_HEADROOM,
		port_socket(port_id));
	if (set->pools[index] == NULL) {
		snprintf(error, error_len,
			"port %s: cannot create a pool of %u mbufs: %s (memory.mbufs, or more hugepages / -m)",
			name, params->mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}

	ret = rte_eth_dev_configure(port_id, set->queues, set->queues, &conf);
	if (ret != 0)
		goto configure_failed;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc);
	if (ret != 0)
		goto configure_failed;

	rxconf = info.default_rxconf;
	rxconf.offloads = conf.rxmode.offloads;
	for (queue = 0; queue < set->queues; queue++) {
		ret = rte_eth_rx_queue_setup(port_id, queue, rx_desc,
			port_socket(port_id), &rxconf, set->pools[index]);
		if (ret != 0)
			goto configure_failed;
		ret = rte_eth_tx_queue_setup(port_id, queue, tx_desc,
			port_socket(port_id), NULL);
		if (ret != 0)
			goto configure_failed;
	}
	return 0;

info_failed:
	snprintf(error, error_len, "port %s: cannot read device info: %s",
		name, rte_strerror(-ret));
	return ret;
configure_failed:
	snprintf(error, error_len, "port %s: configuration refused: %s",
		name, rte_strerror(-ret));
	return ret;
}

int
ports_start(const struct ports_params *params, struct port_set *set,
	char *error, size_t error_len)
{
	unsigned int i;
	int ret;

	memset(set, 0, sizeof(*set));
	set->count = params->port_count;
	for (i = 0; i < params->port_count; i++) {
		set->names[i] = params->names[i];
		ret = rte_eth_dev_get_port_by_name(params->names[i],
			&set->port_id[i]);
		if (ret != 0) {
			snprintf(error, error_len,
				"unknown port %s: no such DPDK device (give it to EAL with -a PCI or --vdev; %u ports exist)",
				params->names[i], rte_eth_dev_count_avail());
			return -ENODEV;
		}
	}
	ret = grant_queues(params, set, error, error_len);
	if (ret != 0)
		return ret;

	for (i = 0; i < set->count; i++) {
		ret = configure_port(params, set, i, error, error_len);
		if (ret != 0)
			goto undo;
		ret = rte_eth_dev_start(set->port_id[i]);
		if (ret != 0) {
			snprintf(error, error_len, "port %s: cannot start: %s",
				set->names[i], rte_strerror(-ret));
			goto undo;
		}
		set->started++;
		/* A bridge must see frames for every address on the wire. */
		ret = rte_eth_promiscuous_enable(set->port_id[i]);
		if (ret != 0 && ret != -ENOTSUP)
			PORTS_LOG(WARNING, "port %s: promiscuous mode: %s",
				set->names[i], rte_strerror(-ret));
	}
	return 0;

undo:
	ports_stop(set);
	return ret;
}

void
ports_stop(struct port_set *set)
{
	unsigned int i;

	for (i = 0; i < set->started; i++) {
		rte_eth_dev_stop(set->port_id[i]);
		/* Closing flushes capture-backed devices to disk. */
		rte_eth_dev_close(set->port_id[i]);
	}
	/* Only now: a port's TX ring may hold mbufs from its peer's pool. */
	for (i = 0; i < set->count; i++) {
		rte_mempool_free(set->pools[i]);
		set->pools[i] = NULL;
	}
	set->started = 0;
}
