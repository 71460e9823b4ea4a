/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory of concurrent SMB sessions on one worker: N connections (1M by
 * default) opened, logged on and holding a tree and an open file, all at
 * once, through the worker's per-packet path; then what the worker holds.
 *
 * The worker is the gateway's: gateway_inspector_create() from a gateway
 * configuration (the defaults, or -c FILE) with flows.max_flows and
 * flows.sessions sized for N, run by worker_handle_burst() in inline mode
 * with checksums verified and stream normalisation on, forwarding to a
 * net_null port. Events go straight to a counting function (as in offline
 * mode) rather than through a ring to a control core.
 *
 * Every connection replays the first TCP connection of a real capture
 * (tests/pcaps/smb2_basic.pcap: NEGOTIATE, SESSION_SETUP with NTLMSSP as
 * bob, TREE_CONNECT IPC$, an IOCTL, TREE_DISCONNECT, TREE_CONNECT data,
 * CREATE) up to its first successful CREATE response, followed by the
 * client's acknowledgement of it, and is then left open. Each is a
 * distinct client address and port in 198.18.0.0/15 (131,000 client
 * addresses, 8 connections from each for 1M: under the default
 * flows.sessions_per_client), with IP and TCP checksums recomputed. The
 * connections advance in lock step, a burst of BURST of them at a time.
 *
 * Then it reads /proc/self/status (VmRSS, VmHWM, HugetlbPages), the DPDK
 * heaps, the flow table and the session-memory pool's counters, and says
 * PASS when every connection reached its CREATE (its own events show a
 * dialect, a logon, a tree connect and the CREATE; the flow table holds
 * it as live SMB; nothing was refused, evicted or dropped) and the
 * worker's memory for the sessions, projected to 1,000,000 when N is
 * smaller (what was fixed at creation by the tables' size, what grew by
 * the sessions), is within the limit (2 GiB); FAIL, with the figures,
 * otherwise.
 *
 * usage: bench_sessions [-n SESSIONS] [-c CONFIG] [-m SESSION_MEMORY_MIB]
 *                       [-l LIMIT_MIB] TEMPLATE.pcap
 *
 * -c starts from a gateway configuration file rather than the defaults
 * (flows.max_flows is raised to the sessions' table if smaller); -m sets
 * flows.session_memory; -l 0 prints the memory without judging it (a
 * correctness run of the parsing alone).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "config.h"
#include "event.h"
#include "flow.h"
#include "gateway.h"
#include "inspect.h"
#include "match.h"
#include "smb.h"
#include "worker.h"

#define BURST 32
#define TEMPLATE_FRAMES_MAX 64
#define FRAME_MAX 2048
#define SESSIONS_DEFAULT 1000000u
#define SESSIONS_TARGET 1000000u
#define TABLE_TARGET 1048576u	/* flows and states for SESSIONS_TARGET */
#define LIMIT_MIB_DEFAULT 2048u

/*
 * Client addresses: 198.18.0.1 up, below the server's; connection i comes
 * from address i % CLIENT_ADDRS, port CLIENT_PORT_BASE + i / CLIENT_ADDRS
 * (8 connections an address for 1M sessions, well under the default
 * sessions_per_client of 64).
 */
#define CLIENT_ADDR_BASE	0xc6120001u	/* 198.18.0.1 */
#define CLIENT_ADDRS		131000u
#define SERVER_ADDR		0xc613fffeu	/* 198.19.255.254 */
#define CLIENT_PORT_BASE	1024u

#define SMB2_NEGOTIATE		0x0000
#define SMB2_SESSION_SETUP	0x0001
#define SMB2_TREE_CONNECT	0x0003
#define SMB2_CREATE		0x0005

struct template_frame {
	uint8_t bytes[FRAME_MAX];
	uint16_t len;
	bool from_client;
};

struct template {
	struct template_frame frames[TEMPLATE_FRAMES_MAX];
	unsigned int count;
	uint16_t server_port;
};

/* How far each connection got, by its events: bits of progress[]. */
#define REACHED_CLASSIFIED	0x01	/* flow classified SMB or DCE/RPC */
#define REACHED_DIALECT		0x02	/* NEGOTIATE answered with a dialect */
#define REACHED_LOGON		0x04	/* SESSION_SETUP answered with success */
#define REACHED_TREE		0x08	/* TREE_CONNECT answered with success */
#define REACHED_CREATE		0x10	/* CREATE answered with success */
#define REACHED_ALL		0x1f

/* What the events said, counted. */
struct event_tally {
	uint8_t *progress;		/* one byte a connection */
	uint32_t sessions;
	uint64_t events;
	uint64_t unknown;		/* events of no connection of ours */
	uint64_t logons;		/* successful LOGON responses */
	uint64_t logon_failures;
	uint64_t tree_connects;		/* successful, any share */
	uint64_t creates;		/* successful CREATE responses */
	uint64_t errors;		/* SMB parser error or resync facts */
	uint64_t flow_ends;		/* flows ended: must stay 0 */
	uint64_t policy;
	char share[EVENT_SHARE_MAX];	/* of the last tree connect */
	char name[EVENT_NAME_MAX];	/* of the last CREATE */
};

struct memory_sample {
	uint64_t rss_kib;
	uint64_t hwm_kib;
	uint64_t hugetlb_kib;
	uint64_t heap_bytes;	/* DPDK malloc heaps, allocated */
};

static struct rte_mempool *pool;
static uint16_t null_port;

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t
get16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static uint32_t
get32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		(uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/*
 * The IPv4/TCP layout of an untagged Ethernet frame: offsets of the IP
 * and TCP headers and of the payload, and its length. False for anything
 * else.
 */
struct tcp_layout {
	unsigned int ip;
	unsigned int tcp;
	unsigned int payload;
	unsigned int payload_len;
};

static bool
tcp_layout_of(const uint8_t *f, unsigned int len, struct tcp_layout *l)
{
	unsigned int ihl, ip_len, thl;

	if (len < 14 + 20 + 20 || get16(f + 12) != 0x0800)
		return false;
	l->ip = 14;
	ihl = (f[l->ip] & 0x0f) * 4u;
	ip_len = get16(f + l->ip + 2);
	if ((f[l->ip] >> 4) != 4 || ihl < 20 || f[l->ip + 9] != 6 ||
			ip_len < ihl + 20 || l->ip + ip_len > len)
		return false;
	l->tcp = l->ip + ihl;
	thl = (f[l->tcp + 12] >> 4) * 4u;
	if (thl < 20 || ihl + thl > ip_len)
		return false;
	l->payload = l->tcp + thl;
	l->payload_len = ip_len - ihl - thl;
	return true;
}

/*
 * The SMB2 command and status of a payload holding one NBSS message that
 * starts with an SMB2 header; false otherwise.
 */
static bool
smb2_header_of(const uint8_t *p, unsigned int len, uint16_t *command,
	bool *response, uint32_t *status)
{
	if (len < 4 + 64 || p[0] != 0x00 || p[4] != 0xfe || p[5] != 'S' ||
			p[6] != 'M' || p[7] != 'B')
		return false;
	*status = get32le(p + 4 + 8);
	*command = get16le(p + 4 + 12);
	*response = (get32le(p + 4 + 16) & 1) != 0;
	return true;
}

/*
 * Loads the first TCP connection of <path> (from its first SYN) up to
 * and including its first successful SMB2 CREATE response, then adds the
 * client's acknowledgement of that response, built from the handshake's
 * last ACK. Checks that the connection carries NEGOTIATE, SESSION_SETUP
 * and TREE_CONNECT on the way.
 */
static void
template_load(const char *path, struct template *t)
{
	char error[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pcap = pcap_open_offline(path, error);
	uint8_t client[4], server[4];
	uint16_t client_port = 0;
	bool have_syn = false, done = false;
	bool seen_negotiate = false, seen_setup = false, seen_tree = false;
	int handshake_ack = -1;
	uint32_t client_next = 0, server_next = 0;

	if (pcap == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, error);
		exit(1);
	}
	if (pcap_datalink(pcap) != DLT_EN10MB) {
		fprintf(stderr, "bench: %s: not an Ethernet capture\n", path);
		exit(1);
	}
	while (!done && pcap_next_ex(pcap, &h, &data) == 1) {
		struct tcp_layout l;
		struct template_frame *tf;
		const uint8_t *ip, *tcp;
		uint8_t flags;
		bool from_client;
		uint16_t command;
		uint32_t status;
		bool response;

		if (h->caplen != h->len || h->caplen > FRAME_MAX ||
				!tcp_layout_of(data, h->caplen, &l))
			continue;
		ip = data + l.ip;
		tcp = data + l.tcp;
		flags = tcp[13];
		if (!have_syn) {
			if ((flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) !=
					RTE_TCP_SYN_FLAG)
				continue;
			memcpy(client, ip + 12, 4);
			memcpy(server, ip + 16, 4);
			client_port = get16(tcp);
			t->server_port = get16(tcp + 2);
			have_syn = true;
		}
		if (memcmp(ip + 12, client, 4) == 0 &&
				memcmp(ip + 16, server, 4) == 0 &&
				get16(tcp) == client_port &&
				get16(tcp + 2) == t->server_port)
			from_client = true;
		else if (memcmp(ip + 12, server, 4) == 0 &&
				memcmp(ip + 16, client, 4) == 0 &&
				get16(tcp) == t->server_port &&
				get16(tcp + 2) == client_port)
			from_client = false;
		else
			continue;
		if (t->count == TEMPLATE_FRAMES_MAX - 1) {
			fprintf(stderr, "bench: %s: no CREATE response in the first %u frames of the connection\n",
				path, t->count);
			exit(1);
		}
		tf = &t->frames[t->count];
		memcpy(tf->bytes, data, h->caplen);
		tf->len = (uint16_t)h->caplen;
		tf->from_client = from_client;
		if (from_client && handshake_ack < 0 && l.payload_len == 0 &&
				flags == RTE_TCP_ACK_FLAG)
			handshake_ack = (int)t->count;
		t->count++;
		/* Next sequence numbers, for the closing acknowledgement. */
		if (from_client)
			client_next = get32(tcp + 4) + l.payload_len +
				((flags & RTE_TCP_SYN_FLAG) ? 1 : 0);
		else
			server_next = get32(tcp + 4) + l.payload_len +
				((flags & RTE_TCP_SYN_FLAG) ? 1 : 0);
		if (!smb2_header_of(data + l.payload, l.payload_len, &command,
				&response, &status))
			continue;
		if (!response || status != 0)
			continue;
		if (command == SMB2_NEGOTIATE)
			seen_negotiate = true;
		else if (command == SMB2_SESSION_SETUP)
			seen_setup = true;
		else if (command == SMB2_TREE_CONNECT)
			seen_tree = true;
		else if (command == SMB2_CREATE && seen_tree)
			done = true;
	}
	pcap_close(pcap);
	if (!done || !seen_negotiate || !seen_setup || handshake_ack < 0) {
		fprintf(stderr, "bench: %s: the first connection has no handshake, NEGOTIATE, SESSION_SETUP, TREE_CONNECT and CREATE answered with success\n",
			path);
		exit(1);
	}
	/* The client's acknowledgement of the CREATE response. */
	{
		struct template_frame *ack = &t->frames[t->count++];
		struct tcp_layout l;

		*ack = t->frames[handshake_ack];
		tcp_layout_of(ack->bytes, ack->len, &l);
		put32(ack->bytes + l.tcp + 4, client_next);
		put32(ack->bytes + l.tcp + 8, server_next);
	}
}

/*
 * Frame <step> of connection <index> in <m>: the template's, between
 * client address and port of <index> and the server.
 */
static void
frame_build(struct rte_mbuf *m, const struct template *t, unsigned int step,
	uint32_t index)
{
	const struct template_frame *tf = &t->frames[step];
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t client = CLIENT_ADDR_BASE + index % CLIENT_ADDRS;
	uint16_t port = (uint16_t)(CLIENT_PORT_BASE + index / CLIENT_ADDRS);
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *tcp;
	struct tcp_layout l;

	memcpy(f, tf->bytes, tf->len);
	m->data_len = m->pkt_len = tf->len;
	tcp_layout_of(f, tf->len, &l);	/* checked at load */
	put32(f + l.ip + (tf->from_client ? 12 : 16), client);
	put32(f + l.ip + (tf->from_client ? 16 : 12), SERVER_ADDR);
	put16(f + l.tcp + (tf->from_client ? 0 : 2), port);
	ip = (struct rte_ipv4_hdr *)(f + l.ip);
	tcp = (struct rte_tcp_hdr *)(f + l.tcp);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = 0;
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
}

static void
count_event(void *ctx, const struct gw_event *ev)
{
	struct event_tally *tally = ctx;
	bool response = (ev->flags & EVENT_F_RESPONSE) != 0;
	uint32_t addr = get32(ev->client_addr);
	uint8_t *progress;
	uint64_t index;

	tally->events++;
	index = (uint64_t)(ev->client_port - CLIENT_PORT_BASE) * CLIENT_ADDRS +
		(addr - CLIENT_ADDR_BASE);
	if (ev->ip_version != 4 || addr < CLIENT_ADDR_BASE ||
			addr - CLIENT_ADDR_BASE >= CLIENT_ADDRS ||
			ev->client_port < CLIENT_PORT_BASE ||
			index >= tally->sessions) {
		tally->unknown++;
		return;
	}
	progress = &tally->progress[index];
	switch (ev->kind) {
	case EVENT_FLOW:
		if (ev->subtype == EVENT_FLOW_CLASSIFIED)
			*progress |= REACHED_CLASSIFIED;
		else if (ev->subtype == EVENT_FLOW_END)
			tally->flow_ends++;
		break;
	case EVENT_SMB:
		switch (ev->subtype) {
		case SMB_FACT_NEGOTIATE:
			/* 0x02ff only says "go on in SMB2": not a dialect. */
			if (response && ev->status == 0 &&
					ev->u.smb.dialect != 0 &&
					ev->u.smb.dialect != 0x02ff)
				*progress |= REACHED_DIALECT;
			break;
		case SMB_FACT_LOGON:
			if (!response)
				break;
			if (ev->u.smb.success) {
				tally->logons++;
				*progress |= REACHED_LOGON;
			} else if (ev->status != 0xc0000016) {	/* more processing */
				tally->logon_failures++;
			}
			break;
		case SMB_FACT_TREE_CONNECT:
			if (!response || ev->status != 0)
				break;
			tally->tree_connects++;
			*progress |= REACHED_TREE;
			snprintf(tally->share, sizeof(tally->share), "%s",
				ev->u.smb.share);
			break;
		case SMB_FACT_CREATE:
			if (!response || ev->status != 0)
				break;
			tally->creates++;
			*progress |= REACHED_CREATE;
			snprintf(tally->name, sizeof(tally->name), "%s",
				ev->u.smb.name);
			break;
		case SMB_FACT_ERROR:
		case SMB_FACT_RESYNC:
			tally->errors++;
			break;
		default:
			break;
		}
		break;
	case EVENT_POLICY:
		tally->policy++;
		break;
	default:
		break;
	}
}

static void
memory_read(struct memory_sample *s)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	unsigned int socket;

	memset(s, 0, sizeof(*s));
	if (f == NULL) {
		fprintf(stderr, "bench: /proc/self/status: %s\n", strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long kib;

		if (sscanf(line, "VmRSS: %llu", &kib) == 1)
			s->rss_kib = kib;
		else if (sscanf(line, "VmHWM: %llu", &kib) == 1)
			s->hwm_kib = kib;
		else if (sscanf(line, "HugetlbPages: %llu", &kib) == 1)
			s->hugetlb_kib = kib;
	}
	fclose(f);
	for (socket = 0; socket < rte_socket_count(); socket++) {
		struct rte_malloc_socket_stats stats;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(socket),
				&stats) == 0)
			s->heap_bytes += stats.heap_allocsz_bytes;
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

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The worker's clock, as its loop keeps it. */
static void
worker_tick(struct worker *worker)
{
	uint64_t delta = rte_rdtsc() - worker->start_tsc;

	worker->now_ns = worker->start_ns +
		(uint64_t)((double)delta * 1e9 / (double)worker->tsc_hz);
}

/*
 * Opens connections [0, <sessions>) a burst at a time: step s of BURST
 * connections, then step s + 1 of the same, until each has sent its last
 * frame.
 */
static double
drive(struct worker *worker, const struct template *t, uint32_t sessions)
{
	struct rte_mbuf *burst[BURST];
	uint64_t start = rte_rdtsc();
	bool progress = isatty(STDERR_FILENO);
	uint32_t first;

	for (first = 0; first < sessions; first += BURST) {
		unsigned int n = RTE_MIN((uint32_t)BURST, sessions - first);
		unsigned int step, i;

		for (step = 0; step < t->count; step++) {
			if (rte_pktmbuf_alloc_bulk(pool, burst, n) != 0) {
				fprintf(stderr, "bench: mbuf pool empty\n");
				exit(1);
			}
			for (i = 0; i < n; i++)
				frame_build(burst[i], t, step, first + i);
			worker_tick(worker);
			worker_handle_burst(worker, 0, burst, (uint16_t)n, NULL);
		}
		inspector_expire(worker->inspector, worker->now_ns);
		if (progress && (first / BURST) % 8192 == 0 && first > 0) {
			fprintf(stderr, "\r  %" PRIu32 " sessions open", first);
			fflush(stderr);
		}
	}
	if (progress)
		fprintf(stderr, "\r");
	return (double)(rte_rdtsc() - start) / (double)rte_get_tsc_hz();
}

static double
mib(double bytes)
{
	return bytes / (1024.0 * 1024.0);
}

/* Prints a check and returns whether it holds. */
static bool
check(const char *what, uint64_t got, uint64_t want, bool at_least)
{
	bool ok = at_least ? got >= want : got == want;

	printf("  %-44s %12" PRIu64 "  %s %-10" PRIu64 " %s\n", what, got,
		at_least ? ">=" : "==", want, ok ? "ok" : "FAILED");
	return ok;
}

/* The SMB pool's chunk classes, as the stats name them. */
static const char *const chunk_class_label[SMB_CHUNK_CLASSES] = {
	[SMB_CHUNK_ENTRY] = "entries: requests, long-named files, file index",
	[SMB_CHUNK_PIPE] = "pipes: named pipes' DCE/RPC associations",
	[SMB_CHUNK_BUFFER] = "buffers: prefixes, logon names, DCE/RPC bodies",
	[SMB_CHUNK_SMALL] = "small_entries: trees, short-named files",
};

int
main(int argc, char **argv)
{
	static struct gateway_config cfg;
	static struct config_errors errors;
	static struct template t;
	static struct worker worker;
	static struct event_tally tally;
	char *eal_argv[] = { "bench", "--no-huge", "-m", "256", "--no-pci",
		"--no-shconf", "--no-telemetry", "--log-level=lib.eal:error",
		"--vdev", "net_null0", "-l", "0" };
	const char *config_path = NULL;
	uint32_t sessions = SESSIONS_DEFAULT, capacity;
	unsigned int session_memory_mib = 0, limit_mib = LIMIT_MIB_DEFAULT;
	struct memory_sample at_start, at_created, at_end;
	struct flow_table_params flow_params;
	struct flow_table_stats fs;
	const struct inspect_counters *ic;
	const struct chunk_counters *cm;
	const struct port_counters *pc;
	struct watchlist *watchlist;
	char error[256], prefix[64];
	double seconds, fixed, grown, heap, total, projected;
	struct chunk_pool_params chunk_classes = { 0 };
	uint64_t frames, refused;
	unsigned int c;
	bool ok = true;
	int opt;

	while ((opt = getopt(argc, argv, "n:c:m:l:")) != -1) {
		switch (opt) {
		case 'n':
			sessions = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'm':
			session_memory_mib = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			limit_mib = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || sessions < 1 || sessions > (1u << 20)) {
usage:
		fprintf(stderr, "usage: bench_sessions [-n SESSIONS (1..1048576)] [-c CONFIG] [-m SESSION_MEMORY_MIB] [-l LIMIT_MIB] TEMPLATE.pcap\n");
		return 2;
	}
	template_load(argv[optind], &t);

	/* With hugepages mounted (make bench), memory is as a live gateway's. */
	if (access("/dev/hugepages", F_OK) == 0 && getenv("BENCH_NO_HUGE") == NULL) {
		snprintf(prefix, sizeof(prefix),
			"--file-prefix=smbgw-bench-sessions-%d", (int)getpid());
		eal_argv[1] = prefix;
		eal_argv[2] = "-m";
		eal_argv[3] = "256";
	}
	if (rte_eal_init(RTE_DIM(eal_argv), eal_argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("bench", 8191, 256, 0, FRAME_MAX + 128,
		SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	null_port_start();

	if (config_path != NULL) {
		if (config_load_file(config_path, &cfg, &errors) != 0) {
			unsigned int e;

			for (e = 0; e < errors.count; e++)
				fprintf(stderr, "%s\n", errors.messages[e]);
			fprintf(stderr, "bench: %s: not a valid configuration\n",
				config_path);
			return 1;
		}
	} else {
		config_load_string("<default>", config_default_text, &cfg, &errors);
	}
	/*
	 * One worker sized for the sessions: a flow table of the next power
	 * of two (1,048,576, the default, for 1M) and a parser state for
	 * each of its flows.
	 */
	capacity = 1024;
	while (capacity < sessions)
		capacity <<= 1;
	cfg.max_flows = RTE_MAX(cfg.max_flows, capacity);
	if (config_path == NULL)
		cfg.max_flows = capacity;
	cfg.sessions = RTE_MIN(cfg.max_flows, 1u << 20);
	if (session_memory_mib != 0)
		cfg.session_memory = session_memory_mib;

	watchlist = gateway_watchlist_create(&cfg, error, sizeof(error));
	if (watchlist == NULL) {
		fprintf(stderr, "bench: %s\n", error);
		return 1;
	}
	memset(&worker, 0, sizeof(worker));
	worker.burst_size = BURST;
	worker.max_frame = 9000;
	worker.link_count = 1;
	worker.links[0].tx_port = null_port;
	worker.links[0].transmit = true;
	worker.tsc_hz = rte_get_tsc_hz();
	worker.start_tsc = rte_rdtsc();
	worker.start_ns = wall_ns();
	worker_tick(&worker);

	/* The bench's own record, resident before the first sample. */
	tally.sessions = sessions;
	tally.progress = malloc(sessions);
	if (tally.progress == NULL)
		return 1;
	memset(tally.progress, 0, sessions);
	memory_read(&at_start);
	worker.inspector = gateway_inspector_create(&cfg, true, 0, NULL,
		watchlist, NULL, NULL, NULL, count_event, &tally);
	if (worker.inspector == NULL) {
		fprintf(stderr, "bench: cannot create the inspector (max_flows %u, sessions %u): %s\n",
			cfg.max_flows, cfg.sessions, strerror(errno));
		return 1;
	}
	worker.port_flags = inspector_port_flags(worker.inspector);
	inspector_online(worker.inspector);
	memory_read(&at_created);

	printf("1M concurrent SMB sessions: %" PRIu32 " connections on one worker\n",
		sessions);
	printf("  template: %s, %u frames a connection (server port %u), ending in a CREATE left open\n",
		argv[optind], t.count, t.server_port);
	printf("  flows.max_flows %u, flows.sessions %u, flows.sessions_per_client %u, flows.session_memory %u MiB, stream %s\n",
		cfg.max_flows, cfg.sessions, cfg.sessions_per_client,
		cfg.session_memory,
		cfg.stream_mode == CONFIG_STREAM_NORMALISE ? "normalise" : "off");
	fflush(stdout);

	seconds = drive(&worker, &t, sessions);
	frames = (uint64_t)sessions * t.count;
	memory_read(&at_end);

	ic = inspector_counters(worker.inspector);
	cm = &ic->session_memory;
	pc = &worker.counters.port[0];
	inspector_flow_stats(worker.inspector, &fs);
	memset(&flow_params, 0, sizeof(flow_params));
	flow_params.max_flows = cfg.max_flows;

	printf("\n  %" PRIu64 " frames in %.1f s (%.2f M frames/s, %.0f k sessions/s)\n",
		frames, seconds, (double)frames / seconds / 1e6,
		sessions / seconds / 1e3);
	printf("  last tree connected: \"%s\"; last file opened: \"%s\"; %" PRIu64 " events\n",
		tally.share, tally.name, tally.events);

	printf("\nsessions (all must be open, parsed to their CREATE, none refused)\n");
	ok &= check("sessions held (flows active)", fs.active, sessions, false);
	ok &= check("flows live SMB", fs.active_live_smb, sessions, false);
	ok &= check("flows classified SMB (by port or content)",
		ic->smb_flows_port + ic->smb_flows_content, sessions, false);
	{
		uint64_t reached[5] = { 0 }, all = 0;
		uint32_t i;
		unsigned int b;

		for (i = 0; i < sessions; i++) {
			for (b = 0; b < RTE_DIM(reached); b++)
				reached[b] += (tally.progress[i] >> b) & 1;
			all += (tally.progress[i] & REACHED_ALL) == REACHED_ALL;
		}
		ok &= check("sessions classified SMB (events)", reached[0],
			sessions, false);
		ok &= check("sessions with a dialect negotiated", reached[1],
			sessions, false);
		ok &= check("sessions logged on (NTLMSSP, success)", reached[2],
			sessions, false);
		ok &= check("sessions with a tree connected", reached[3],
			sessions, false);
		ok &= check("sessions with a file opened (CREATE)", reached[4],
			sessions, false);
		ok &= check("sessions that reached all five", all, sessions,
			false);
	}
	ok &= check("logons (success), all sessions", tally.logons, sessions, true);
	ok &= check("tree connects (success), all sessions", tally.tree_connects, sessions, true);
	ok &= check("CREATE responses (success), all sessions", tally.creates, sessions, true);
	ok &= check("events of unknown connections", tally.unknown, 0, false);
	ok &= check("logon failures", tally.logon_failures, 0, false);
	ok &= check("parser errors and resyncs", ic->parser_errors + ic->parser_resyncs + tally.errors, 0, false);
	ok &= check("flows ended", tally.flow_ends, 0, false);
	ok &= check("flows evicted (pressure + expired)", fs.evicted_pressure + fs.evicted_expired, 0, false);
	ok &= check("flow inserts failed, untracked frames", fs.insert_failed + ic->untracked, 0, false);
	ok &= check("sessions exhausted", ic->sessions_exhausted, 0, false);
	ok &= check("sessions refused, unparsed, capped, reclaimed",
		ic->sessions_refused + ic->sessions_unparsed +
		ic->sessions_client_capped + ic->sessions_reclaimed, 0, false);
	refused = 0;
	for (c = 0; c < SMB_CHUNK_CLASSES; c++)
		refused += cm->cls[c].refused_budget + cm->cls[c].refused_owner;
	ok &= check("session memory refused (budget + session)", refused, 0,
		false);
	ok &= check("bad checksums, stream drops", ic->bad_checksums +
		ic->stream_no_room_drops + ic->stream_unseen_drops, 0, false);
	ok &= check("frames received", pc->rx, frames, false);
	ok &= check("frames forwarded", pc->tx, frames, false);
	ok &= check("frames dropped", port_counters_drops(pc), 0, false);
	ok &= check("stream segments still kept", ic->stream.kept, 0, false);

	fixed = (double)(at_created.rss_kib - at_start.rss_kib) * 1024.0;
	grown = ((double)at_end.rss_kib - (double)at_created.rss_kib) * 1024.0;
	heap = (double)at_end.heap_bytes - (double)at_start.heap_bytes;
	total = fixed + grown + RTE_MAX(heap, 0.0);
	/*
	 * Below 1M, what was fixed at creation scales with the table (1M
	 * sessions take the next power of two, as the run at 1M does) and
	 * what grew scales with the sessions.
	 */
	projected = sessions >= SESSIONS_TARGET ? total :
		fixed / cfg.max_flows * TABLE_TARGET +
		(grown + RTE_MAX(heap, 0.0)) / sessions * SESSIONS_TARGET;

	printf("\nmemory of the worker (RSS from /proc/self/status)\n");
	printf("  process VmRSS %.1f MiB, VmHWM %.1f MiB, HugetlbPages %.1f MiB; DPDK heaps allocated %.1f MiB (%.1f MiB before the worker)\n",
		at_end.rss_kib / 1024.0, at_end.hwm_kib / 1024.0,
		at_end.hugetlb_kib / 1024.0, mib((double)at_end.heap_bytes),
		mib((double)at_start.heap_bytes));
	printf("  %-56s %10.1f MiB\n", "inspector at creation (RSS growth)", mib(fixed));
	printf("    %-54s %10.1f MiB  (%.1f B a flow, %u flows)\n",
		"of which flow table (flow_table_memory_bytes)",
		mib((double)flow_table_memory_bytes(&flow_params)),
		(double)flow_table_memory_bytes(&flow_params) / cfg.max_flows,
		cfg.max_flows);
	printf("    %-54s %10.1f MiB  (%.0f B a state, %u states)\n",
		"of which session states and the rest",
		mib(fixed - (double)flow_table_memory_bytes(&flow_params)),
		(fixed - (double)flow_table_memory_bytes(&flow_params)) / cfg.sessions,
		cfg.sessions);
	printf("  %-56s %10.1f MiB  (%.0f B a session)\n",
		"growth while the sessions opened (RSS)", mib(grown),
		grown / sessions);
	printf("    %-54s %10.1f MiB  (%.0f B a session)\n",
		"session memory chunks in use", mib((double)cm->in_use_bytes),
		(double)cm->in_use_bytes / sessions);
	printf("    %-54s %10.1f MiB  (budget %.0f MiB, high water %.1f MiB)\n",
		"session memory carved into slabs", mib((double)cm->carved),
		mib((double)cm->budget), mib((double)cm->high_water_bytes));
	smb_chunk_params(&chunk_classes);
	for (c = 0; c < SMB_CHUNK_CLASSES; c++)
		printf("      %-52s %10" PRIu64 "  (high water %" PRIu64 ", %u B each)\n",
			chunk_class_label[c], cm->cls[c].in_use,
			cm->cls[c].high_water, chunk_classes.sizes[c]);
	printf("  %-56s %10.1f MiB\n", "DPDK heap growth", mib(heap));
	printf("  %-56s %10.1f MiB  (%.0f B a session)\n",
		"total for the worker", mib(total), total / sessions);
	if (sessions < SESSIONS_TARGET)
		printf("  %-56s %10.1f MiB\n", "projected to 1,000,000 sessions",
			mib(projected));
	if (limit_mib != 0) {
		bool within = projected <= (double)limit_mib * 1024 * 1024;

		printf("  %-56s %10u MiB  %s\n", "limit per worker",
			limit_mib, within ? "within" : "EXCEEDED");
		ok &= within;
	} else {
		printf("  %-56s %14s\n", "limit per worker", "not judged (-l 0)");
	}

	printf("\n%s: %" PRIu32 " SMB sessions held on one worker in %.1f MiB (%.0f B a session)",
		ok ? "PASS" : "FAIL", sessions, mib(total), total / sessions);
	if (limit_mib == 0)
		printf("; memory not judged\n");
	else if (sessions < SESSIONS_TARGET)
		printf("; %.1f MiB projected to 1M, limit %u MiB\n",
			mib(projected), limit_mib);
	else
		printf("; limit %u MiB\n", limit_mib);
	fflush(stdout);

	inspector_offline(worker.inspector);
	/* Freeing 1M flows reports each: the tally is no longer read. */
	inspector_free(worker.inspector);
	watchlist_free(watchlist);
	free(tally.progress);
	gateway_eal_cleanup();
	return ok ? 0 : 1;
}
