/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offline mode: frames from a capture file go through the same
 * worker_handle_burst() as live traffic, on a receive-only link, with the
 * capture's timestamps as the clock. EAL runs without hugepages or
 * devices, only to give the pipeline its mbufs.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "config.h"
#include "flowlog.h"
#include "gateway.h"
#include "inspect.h"
#include "match.h"
#include "monitor.h"
#include "policy.h"
#include "report.h"
#include "stats.h"
#include "worker.h"

#define OFFLINE_MBUFS 4095
#define OFFLINE_FLOWLOG_ROWS (1u << 20)
/* As live ports by default, so large frames arrive as mbuf chains here too. */
#define OFFLINE_DATA_ROOM 2048

static int
offline_eal_init(void)
{
	char lcores[32], prefix[64];
	char *argv[] = {
		"smbgw", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"--file-prefix", prefix, "--no-telemetry",
		"--log-level=lib.eal:error", "-l", lcores,
	};
	int cpu = sched_getcpu();

	/* Lcore 0 may be outside our affinity: run where we already are. */
	snprintf(lcores, sizeof(lcores), "%d", cpu < 0 ? 0 : cpu);
	/* Several analyses may run at once; none shares anything. */
	snprintf(prefix, sizeof(prefix), "smbgw-offline-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(argv), argv) < 0) {
		fprintf(stderr, "smbgw: cannot initialise DPDK: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/*
 * Copies <len> bytes into a chain of mbufs from <pool>. Returns the chain,
 * or NULL when the pool is empty.
 */
static struct rte_mbuf *
mbuf_from_bytes(struct rte_mempool *pool, const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool);
	struct rte_mbuf *seg = head;
	uint32_t done = 0;

	if (head == NULL)
		return NULL;
	for (;;) {
		uint32_t chunk = RTE_MIN(len - done,
			(uint32_t)rte_pktmbuf_tailroom(seg));

		memcpy(rte_pktmbuf_mtod(seg, uint8_t *), data + done, chunk);
		seg->data_len = chunk;
		done += chunk;
		if (done == len)
			break;
		seg->next = rte_pktmbuf_alloc(pool);
		if (seg->next == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		seg = seg->next;
		head->nb_segs++;
	}
	head->pkt_len = len;
	return head;
}

struct capture_summary {
	uint64_t packets;
	uint64_t bytes;
	uint64_t truncated;	/* recorded shorter than on the wire */
	uint64_t first_ns;
	uint64_t last_ns;
};

static void
flowlog_take(void *log, const struct gw_event *ev)
{
	flowlog_add(log, ev);
}

/* One burst through the worker, then what the control core does with it. */
static void
run_burst(struct worker *worker, struct rte_mbuf **pkts, uint16_t count,
	const uint64_t *ts_ns)
{
	worker_handle_burst(worker, 0, pkts, count, ts_ns);
	inspector_expire(worker->inspector, ts_ns[count - 1]);
}

static int
replay(pcap_t *pcap, struct rte_mempool *pool, struct worker *worker,
	struct capture_summary *summary)
{
	struct rte_mbuf *pkts[256];
	uint64_t ts_ns[256];
	uint16_t count = 0;
	struct pcap_pkthdr *header;
	const u_char *data;
	int ret;

	while ((ret = pcap_next_ex(pcap, &header, &data)) == 1) {
		uint64_t ns = (uint64_t)header->ts.tv_sec * 1000000000ull +
			(uint64_t)header->ts.tv_usec * 1000ull;
		struct rte_mbuf *m = mbuf_from_bytes(pool, data,
			header->caplen);

		if (m == NULL) {
			fprintf(stderr, "smbgw: out of mbufs reading the capture\n");
			rte_pktmbuf_free_bulk(pkts, count);
			return -ENOMEM;
		}
		if (summary->packets == 0)
			summary->first_ns = ns;
		summary->last_ns = ns;
		summary->packets++;
		summary->bytes += header->caplen;
		if (header->caplen < header->len)
			summary->truncated++;
		ts_ns[count] = ns;
		pkts[count++] = m;
		if (count == worker->burst_size) {
			run_burst(worker, pkts, count, ts_ns);
			count = 0;
		}
	}
	if (count > 0)
		run_burst(worker, pkts, count, ts_ns);
	/* The capture ends: every flow still open ends with it. */
	inspector_flush(worker->inspector);
	if (ret == -1) {
		fprintf(stderr, "smbgw: reading the capture: %s\n",
			pcap_geterr(pcap));
		return -EIO;
	}
	return 0;
}

static double
seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
		(double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int
gateway_run_offline(const struct gateway_config *cfg, const char *pcap_path)
{
	char pcap_error[PCAP_ERRBUF_SIZE];
	char error[512];
	struct capture_summary summary;
	static struct worker worker;
	struct worker *workers[1] = { &worker };
	struct worker_counters *total = &worker.counters;
	const char *names[1] = { pcap_path };
	struct watchlist *watchlist;
	struct monitor *monitor;
	struct policy_publisher *policy;
	struct rte_mempool *pool;
	struct flowlog *log;
	struct timespec start;
	double elapsed;
	pcap_t *pcap;
	int status = EXIT_FAILURE;

	pcap = pcap_open_offline(pcap_path, pcap_error);
	if (pcap == NULL) {
		fprintf(stderr, "smbgw: cannot read %s: %s\n", pcap_path,
			pcap_error);
		return EXIT_FAILURE;
	}
	if (pcap_datalink(pcap) != DLT_EN10MB) {
		fprintf(stderr, "smbgw: %s: link type %s is not Ethernet\n",
			pcap_path,
			pcap_datalink_val_to_name(pcap_datalink(pcap)));
		goto close_pcap;
	}
	if (offline_eal_init() != 0)
		goto close_pcap;
	pool = rte_pktmbuf_pool_create("offline", OFFLINE_MBUFS, 0, 0,
		OFFLINE_DATA_ROOM + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "smbgw: cannot create the mbuf pool: %s\n",
			rte_strerror(rte_errno));
		goto cleanup_eal;
	}
	watchlist = gateway_watchlist_create(cfg, error, sizeof(error));
	if (watchlist == NULL) {
		fprintf(stderr, "smbgw: watchlists: %s\n", error);
		goto free_pool;
	}
	log = flowlog_create(OFFLINE_FLOWLOG_ROWS, watchlist);
	if (log == NULL) {
		fprintf(stderr, "smbgw: cannot allocate the flow summary\n");
		goto free_watchlist;
	}
	policy = gateway_policy_start(cfg, 1, 1, error, sizeof(error));
	if (policy == NULL) {
		fprintf(stderr, "smbgw: policy: %s\n", error);
		goto free_log;
	}
	monitor = monitor_create(cfg, watchlist, policy, error, sizeof(error));
	if (monitor == NULL) {
		fprintf(stderr, "smbgw: %s\n", error);
		goto free_policy;
	}
	flowlog_set_sink(log, monitor_event, monitor);

	memset(&worker, 0, sizeof(worker));
	worker.burst_size = cfg->burst_size;
	/* A capture holds what was on the wire: no MTU applies. */
	worker.max_frame = UINT32_MAX;
	worker.link_count = 1;
	worker.links[0].transmit = false;
	/* One thread: events go straight to the control side, no ring. */
	worker.inspector = gateway_inspector_create(cfg, 0, NULL, watchlist,
		policy, pool, flowlog_take, log);
	if (worker.inspector == NULL) {
		fprintf(stderr, "smbgw: cannot create the flow table (%u flows): %s\n",
			cfg->max_flows, strerror(errno));
		goto free_monitor;
	}
	inspector_online(worker.inspector);
	worker.port_flags = inspector_port_flags(worker.inspector);
	memset(&summary, 0, sizeof(summary));

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (replay(pcap, pool, &worker, &summary) != 0)
		goto free_inspector;
	elapsed = seconds_since(&start);

	printf("== capture %s ==\n", pcap_path);
	printf("packets: %" PRIu64 "\n", summary.packets);
	printf("bytes: %" PRIu64 "\n", summary.bytes);
	printf("truncated: %" PRIu64 "\n", summary.truncated);
	printf("capture span: %.6f s\n", summary.packets == 0 ? 0.0 :
		(double)(summary.last_ns - summary.first_ns) / 1e9);
	printf("processing: %.6f s (%.2f Mpps)\n", elapsed,
		elapsed > 0 ? (double)summary.packets / elapsed / 1e6 : 0.0);
	if (stats_print(stdout, "counters", total, names, 1))
		status = EXIT_SUCCESS;
	stats_print_inspection(stdout, workers, 1, watchlist,
		flowlog_counters(log));
	flowlog_print(log, stdout);
	monitor_finish(monitor);
	monitor_print_alerts(monitor, stdout);
	printf("== SMB traffic allowed (report) ==\n");
	report_write_csv(monitor_report(monitor), stdout, REPORT_ALL_DAYS);

free_inspector:
	inspector_offline(worker.inspector);
	inspector_free(worker.inspector);
free_monitor:
	monitor_free(monitor);
free_policy:
	policy_publisher_free(policy);
free_log:
	flowlog_free(log);
free_watchlist:
	watchlist_free(watchlist);
free_pool:
	rte_mempool_free(pool);
cleanup_eal:
	gateway_eal_cleanup();
close_pcap:
	pcap_close(pcap);
	return status;
}
