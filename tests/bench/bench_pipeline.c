/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-packet cost of the worker pipeline by traffic class, beside plain
 * forwarding of the same packets in the same run.
 *
 * Both sides run worker_handle_burst() and transmit to a net_null port
 * (which frees what it is given). "forward" is a worker without an
 * inspector: decode, accounting and transmit, what any bridge does. "smbgw"
 * adds the flow table, classification, parsing and events. Frames are
 * reused across bursts (their reference count is raised before each one),
 * so neither side pays for allocation. Cycles come from the TSC.
 *
 * The SMB cases replay real sessions, each pass on a new client port so
 * that every pass is a new connection parsed from its first byte: a bulk
 * copy (mostly READ data, skipped by length) and psexec (mostly
 * header-bearing messages, pipes and DCE/RPC).
 *
 * usage: bench_pipeline [-n ITERATIONS] BULK_COPY.pcap HEADER_HEAVY.pcap
 */
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "config.h"
#include "event.h"
#include "flowlog.h"
#include "gateway.h"
#include "inspect.h"
#include "match.h"
#include "worker.h"

#define BURST 32
#define FRAMES_MAX 8192

struct frame_set {
	const char *name;
	unsigned int count;
	struct rte_mbuf *frames[FRAMES_MAX];
};

static struct rte_mempool *pool;
static uint16_t null_port;

static struct rte_mbuf *
make_frame(const uint8_t *bytes, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == NULL || len > rte_pktmbuf_tailroom(m)) {
		fprintf(stderr, "bench: cannot build a %u-byte frame\n", len);
		exit(1);
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), bytes, len);
	m->data_len = m->pkt_len = len;
	return m;
}

/* An Ethernet/IPv4 frame: TCP (with <payload> bytes) or UDP. */
static struct rte_mbuf *
ipv4_frame(int tcp, uint32_t src, uint16_t sport, uint16_t dport,
	uint8_t tcp_flags, uint16_t payload)
{
	uint8_t f[1514];
	uint16_t l4 = tcp ? 20 : 8;
	uint16_t ip_len = 20 + l4 + payload;

	memset(f, 0, sizeof(f));
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	f[14] = 0x45;
	f[16] = ip_len >> 8;
	f[17] = ip_len & 0xff;
	f[22] = 64;
	f[23] = tcp ? 6 : 17;
	f[26] = 198; f[27] = 18 + (src >> 16 & 1);
	f[28] = src >> 8; f[29] = src;
	f[30] = 198; f[31] = 18; f[32] = 2; f[33] = 20;
	f[34] = sport >> 8; f[35] = sport;
	f[36] = dport >> 8; f[37] = dport;
	if (tcp) {
		f[46] = 5 << 4;
		f[47] = tcp_flags;
	} else {
		f[38] = (8 + payload) >> 8;
		f[39] = (8 + payload) & 0xff;
	}
	return make_frame(f, RTE_MAX(60, 14 + ip_len));
}

static void
load_capture(const char *path, struct frame_set *set)
{
	char error[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pcap = pcap_open_offline(path, error);

	if (pcap == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, error);
		exit(1);
	}
	while (pcap_next_ex(pcap, &h, &data) == 1 && set->count < FRAMES_MAX)
		set->frames[set->count++] = make_frame(data, h->caplen);
	pcap_close(pcap);
}

/*
 * Runs <set> through <worker> <iterations> times in bursts and returns the
 * TSC cycles per frame. With <new_port>, the client port of every frame is
 * rewritten before each pass (outside the timing) so that each pass is a
 * new connection, parsed from its start.
 */
static double
run(struct worker *worker, struct frame_set *set, unsigned int iterations,
	bool new_port)
{
	uint64_t cycles = 0;
	unsigned int it, i;

	for (it = 0; it < iterations; it++) {
		uint64_t start;

		if (new_port) {
			uint16_t port = 20000 + it % 40000;

			for (i = 0; i < set->count; i++) {
				uint8_t *p = rte_pktmbuf_mtod(set->frames[i],
					uint8_t *);
				/* The server's 445 stays; the client's changes. */
				unsigned int at = p[34] == 0x01 && p[35] == 0xbd ?
					36 : 34;

				p[at] = port >> 8;
				p[at + 1] = port & 0xff;
			}
		}
		for (i = 0; i < set->count; i++)
			rte_mbuf_refcnt_update(set->frames[i], 1);
		start = rte_rdtsc_precise();
		for (i = 0; i < set->count; i += BURST) {
			uint16_t n = RTE_MIN((unsigned int)BURST, set->count - i);

			worker_handle_burst(worker, 0, &set->frames[i], n, NULL);
		}
		cycles += rte_rdtsc_precise() - start;
	}
	return (double)cycles / ((double)iterations * set->count);
}

/*
 * Measures <set> ROUNDS times on each worker, alternating so that both see
 * the same machine, and keeps each side's best: the figures least
 * disturbed by whatever else the machine runs.
 */
#define ROUNDS 5

static void
best_of(struct worker *plain, struct worker *full, struct frame_set *set,
	unsigned int iterations, bool new_port, double *base, double *cost)
{
	unsigned int round;

	*base = *cost = 1e18;
	for (round = 0; round < ROUNDS; round++) {
		*base = RTE_MIN(*base, run(plain, set, iterations, new_port));
		*cost = RTE_MIN(*cost, run(full, set, iterations, new_port));
	}
}

static void
null_port_start(void)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_get_port_by_name("net_null0", &null_port) != 0 ||
			rte_eth_dev_configure(null_port, 1, 1, &conf) != 0 ||
			rte_eth_rx_queue_setup(null_port, 0, 256, SOCKET_ID_ANY,
				NULL, pool) != 0 ||
			rte_eth_tx_queue_setup(null_port, 0, 256, SOCKET_ID_ANY,
				NULL) != 0 ||
			rte_eth_dev_start(null_port) != 0) {
		fprintf(stderr, "bench: cannot start net_null0\n");
		exit(1);
	}
}

static void
worker_init(struct worker *worker, struct inspector *inspector)
{
	memset(worker, 0, sizeof(*worker));
	worker->burst_size = BURST;
	worker->max_frame = 9000;
	worker->link_count = 1;
	worker->links[0].tx_port = null_port;
	worker->links[0].transmit = true;
	worker->inspector = inspector;
	worker->port_flags = inspector != NULL ?
		inspector_port_flags(inspector) : NULL;
	worker->tsc_hz = rte_get_tsc_hz();
	worker->start_tsc = rte_rdtsc();
}

int
main(int argc, char **argv)
{
	static struct worker plain, full;
	static struct frame_set udp = { .name = "non-TCP (UDP, 64 B)" };
	static struct frame_set tcp = { .name = "established non-SMB TCP (64 B, 1k flows)" };
	static struct frame_set bulk = { .name = "SMB bulk data (3 MB copy session)" };
	static struct frame_set headers = { .name = "SMB header-bearing (psexec session)" };
	static struct frame_set syns = { .name = "bare SYNs to port 445 (no flow taken)" };
	static struct frame_set answers = { .name = "new flows (SYN-ACK from port 445)" };
	static struct gateway_config cfg;
	static struct config_errors errors;
	char *eal_argv[] = { "bench", "--no-huge", "-m", "512", "--no-pci",
		"--no-shconf", "--no-telemetry", "--log-level=lib.eal:error",
		"--vdev", "net_null0", "-l", "0" };
	struct watchlist *watchlist;
	struct rte_ring *events;
	struct flowlog *log;
	char error[256];
	unsigned int iterations = 200, i;
	int only_case = -1;	/* -c N: run case N only (for profiling) */
	int opt;

	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		if (opt == 'n')
			iterations = (unsigned int)atoi(optarg);
		else if (opt == 'c')
			only_case = atoi(optarg);
	}
	if (optind != argc - 2) {
		fprintf(stderr, "usage: bench_pipeline [-n N] BULK_COPY.pcap HEADER_HEAVY.pcap\n");
		return 1;
	}
	/* With hugepages mounted (make bench), memory is as a live gateway's. */
	if (access("/dev/hugepages", F_OK) == 0 && getenv("BENCH_NO_HUGE") == NULL) {
		eal_argv[1] = "--file-prefix=smbgw-bench";
		eal_argv[2] = "-m";
		eal_argv[3] = "512";
	}
	if (rte_eal_init(RTE_DIM(eal_argv), eal_argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("bench", 65535, 0, 0, 2048 + 128,
		SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	null_port_start();

	config_load_string("<default>", config_default_text, &cfg, &errors);
	/* Every pass is a new connection of one client: no per-client cap. */
	cfg.sessions_per_client = 0;
	watchlist = gateway_watchlist_create(&cfg, error, sizeof(error));
	events = gateway_event_ring_create(0, 1u << 13, SOCKET_ID_ANY);
	log = flowlog_create(1u << 16, watchlist);
	if (watchlist == NULL || events == NULL || log == NULL)
		return 1;
	worker_init(&plain, NULL);
	worker_init(&full, gateway_inspector_create(&cfg, false, 0,
		getenv("BENCH_NO_EVENTS") ? NULL : events, watchlist, NULL,
		NULL, NULL, NULL, NULL));
	if (full.inspector == NULL)
		return 1;

	for (i = 0; i < 4096; i++)
		udp.frames[udp.count++] = ipv4_frame(0, i, 5353, 5353, 0, 18);
	for (i = 0; i < 4096; i++)
		tcp.frames[tcp.count++] = ipv4_frame(1, i % 1000,
			40000 + i % 1000, 80, 0x10, 6);
	for (i = 0; i < 4096; i++)
		syns.frames[syns.count++] = ipv4_frame(1, i, 30000, 445, 0x02, 0);
	/* The answer from a server on 445: it creates the flow. */
	for (i = 0; i < 4096; i++)
		answers.frames[answers.count++] = ipv4_frame(1, i, 445, 30000,
			0x12, 0);
	load_capture(argv[optind], &bulk);
	load_capture(argv[optind + 1], &headers);

	/*
	 * Touch every page of the event ring once: without hugepages its
	 * memory would otherwise fault in during the first measurements.
	 */
	{
		static struct gw_event ev;

		while (rte_ring_sp_enqueue_elem(events, &ev, sizeof(ev)) == 0)
			;
		flowlog_drain(log, events, UINT32_MAX);
	}

	/* Warm up: the established flows exist and are classified not-SMB. */
	for (i = 0; i < 8; i++)
		run(&full, &tcp, 1, false);

	printf("%-48s %12s %12s %8s\n", "case (cycles per packet)", "forward",
		"smbgw", "ratio");
	{
		struct frame_set *sets[] = { &udp, &tcp, &bulk, &headers };
		unsigned int s;

		for (s = 0; s < RTE_DIM(sets); s++) {
			if (only_case >= 0 && only_case != (int)s)
				continue;
			bool session = sets[s] == &bulk || sets[s] == &headers;
			unsigned int passes = session ?
				iterations / 10 + 1 : iterations;
			double base, cost;

			/* A pass of each first, outside the figures. */
			run(&plain, sets[s], 1, session);
			run(&full, sets[s], 1, session);
			best_of(&plain, &full, sets[s], passes, session, &base,
				&cost);
			printf("%-48s %12.1f %12.1f %8.2f\n", sets[s]->name,
				base, cost, cost / base);
			flowlog_drain(log, events, UINT32_MAX);
		}
	}
	if (only_case < 0 || only_case == 4) {
		double base, cost, ghz = (double)rte_get_tsc_hz() / 1e9;

		/* Each pass uses new source ports: no SYN finds a flow. */
		best_of(&plain, &full, &syns, iterations, true, &base, &cost);
		printf("%-48s %12.1f %12.1f %8.2f   (%.1f M SYNs/s per core)\n",
			syns.name, base, cost, cost / base, ghz * 1e3 / cost);
		flowlog_drain(log, events, UINT32_MAX);
	}
	if (only_case < 0 || only_case == 5) {
		double base, cost, ghz = (double)rte_get_tsc_hz() / 1e9;

		/* New client ports each pass: every answer is a new flow. */
		best_of(&plain, &full, &answers, iterations, true, &base,
			&cost);
		printf("%-48s %12.1f %12.1f %8.2f   (%.1f M new flows/s per core)\n",
			answers.name, base, cost, cost / base, ghz * 1e3 / cost);
		flowlog_drain(log, events, UINT32_MAX);
	}
	printf("TSC %.2f GHz; %u iterations; events received %" PRIu64 "\n",
		(double)rte_get_tsc_hz() / 1e9, iterations,
		flowlog_counters(log)->events);
	gateway_eal_cleanup();
	return 0;
}
