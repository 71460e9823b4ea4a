/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic source for the live benchmark (scripts/bench.sh): two memif
 * client ports wired to a device under test (smbgw, or dpdk-testpmd in io
 * forwarding as the baseline) that bridges its own two memif ports.
 *
 *	gen port 0 <-> DUT port A    DUT port B <-> gen port 1
 *
 * Frames a client sends leave on port 0, frames a server sends leave on
 * port 1; whatever comes back on either port went through the device and
 * is counted. Sending never waits: a burst the device's ring cannot take
 * is kept and offered again. Rates are taken over a window that starts
 * after a warm-up, so memif connection and flow-table warm-up stay out.
 *
 *	memif_gen [EAL options] -- -m MODE [-t SECONDS] [-w WARMUP]
 *		[-f FLOWS] [-s BYTES] [-k LINGER] [CAPTURE.pcap ...]
 *	memif_gen [EAL options] -- -m MODE ... -o PREFIX [-n FRAMES]
 *
 * With -o nothing is sent: the first FRAMES (default 1,000,000) frames of
 * the schedule are written to PREFIX.port0.pcap and PREFIX.port1.pcap (by
 * the port they would leave on), for replay by Pktgen-DPDK on a real rig
 * (docs/benchmarks-rig.md); EAL needs no hugepages then (--no-huge).
 *
 * Modes:
 *	tcp	established non-SMB TCP (port 80), -s bytes per frame
 *		(without FCS; default 60, a 64-byte frame on a wire), -f flows
 *	imix	the same flows, 60/590/1514-byte frames (64/594/1518 with
 *		FCS) in the proportion 7:4:1
 *	smb	the captures' TCP sessions replayed over -f concurrent flows:
 *		flow f replays capture f % CAPTURES with a client address
 *		and port of its own; every flow advances one frame per pass,
 *		so all flows are in progress at once; a flow that reaches the
 *		end of its capture starts again as a new connection
 *	syn	a SYN storm: bare SYNs (no payload, 60-byte frames) to
 *		port 445, each from a source address and port never used
 *		before, that nobody answers
 *
 * Output: one line "memif_gen: ..." for people and one "RESULT key=value
 * ..." for scripts. After it the generator stops sending but keeps its
 * ports up, receiving and discarding, for -k seconds (default 0) or until
 * SIGINT/SIGTERM: memif clears a device's counters when its peer goes, so
 * a script stops the device under test (which then prints its counters)
 * before the generator. Exit status 0 when frames came through, 1
 * otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define GEN_BURST		32
#define GEN_PORTS		2
#define GEN_MBUFS		32767
#define GEN_MBUF_CACHE		512
#define GEN_DESCRIPTORS		1024
#define GEN_FRAME_MAX		1514
#define GEN_FRAMES_MAX		65536
#define GEN_CAPTURES_MAX	8
#define GEN_LINK_WAIT_S		15

/* Client addresses: 10.0.0.0/14 (2^18 hosts), ports 1024 and up. */
#define GEN_CLIENT_NET		0x0a000000u
#define GEN_HOST_BITS		18
#define GEN_HOST_MASK		((1u << GEN_HOST_BITS) - 1)
#define GEN_SERVER_ADDR		0xc6120214u	/* 198.18.2.20 */

enum gen_mode {
	GEN_MODE_TCP,
	GEN_MODE_IMIX,
	GEN_MODE_SMB,
	GEN_MODE_SYN,
};

/* A frame to send, with what a flow rewrites in it. */
struct gen_template {
	uint8_t data[GEN_FRAME_MAX];
	uint16_t len;
	uint16_t l4;		/* offset of the TCP header */
	uint8_t from_server;	/* leaves on port 1 */
};

/* One capture: its frames in order. */
struct gen_session {
	struct gen_template *frames;
	uint32_t count;
};

static struct gen_template templates[GEN_FRAMES_MAX];
static uint32_t template_count;
static struct gen_session sessions[GEN_CAPTURES_MAX];
static uint32_t session_count;

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: memif_gen [EAL options] -- -m tcp|imix|smb|syn [-t SECONDS] [-w WARMUP]\n"
		"                 [-f FLOWS] [-s BYTES] [-k LINGER] [-o PREFIX [-n FRAMES]]\n"
		"                 [CAPTURE.pcap ...]\n");
	exit(2);
}

/*
 * Host part of client <id>: an odd multiplier spreads consecutive ids over
 * the whole /14 (and so over many policy segments) without repeats.
 */
static inline uint32_t
client_addr(uint64_t id)
{
	return GEN_CLIENT_NET | (((uint32_t)id * 40503u) & GEN_HOST_MASK);
}

static inline uint16_t
client_port(uint64_t id)
{
	return 1024 + (uint16_t)((id >> GEN_HOST_BITS) % 64000);
}

static uint16_t
sum16(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Sets the IPv4 and TCP checksums of a frame built from scratch. */
static void
frame_checksums(uint8_t *f, unsigned int l4, unsigned int ip_len)
{
	unsigned int tcp_len = ip_len - (l4 - 14);
	uint32_t pseudo = 0;
	uint16_t s;

	f[24] = f[25] = 0;
	s = ~sum16(f + 14, l4 - 14, 0);
	f[24] = s >> 8;
	f[25] = s & 0xff;
	pseudo += sum16(f + 26, 8, 0);
	pseudo += 6 + tcp_len;
	f[l4 + 16] = f[l4 + 17] = 0;
	s = ~sum16(f + l4, tcp_len, pseudo);
	f[l4 + 16] = s >> 8;
	f[l4 + 17] = s & 0xff;
}

/*
 * Adds a TCP frame of <len> bytes (at least 54) to the templates:
 * 10.0.0.1:1024 to <dst>:<dport>, <flags>, zero payload. The flow rewrites
 * the source address and port.
 */
static void
template_add_tcp(unsigned int len, uint32_t dst, uint16_t dport,
	uint8_t flags)
{
	struct gen_template *t = &templates[template_count++];
	uint8_t *f = t->data;
	unsigned int ip_len = len - 14;

	memset(t, 0, sizeof(*t));
	t->len = len;
	t->l4 = 34;
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00",
		14);
	f[14] = 0x45;
	f[16] = ip_len >> 8;
	f[17] = ip_len & 0xff;
	f[22] = 64;
	f[23] = 6;
	*(uint32_t *)(f + 26) = rte_cpu_to_be_32(client_addr(0));
	*(uint32_t *)(f + 30) = rte_cpu_to_be_32(dst);
	f[34] = 1024 >> 8;
	f[35] = 1024 & 0xff;
	f[36] = dport >> 8;
	f[37] = dport & 0xff;
	f[41] = 1;		/* seq 1 */
	f[45] = 1;		/* ack 1 */
	f[46] = 0x50;
	f[47] = flags;
	f[48] = 0xff;		/* window */
	frame_checksums(f, 34, ip_len);
}

/*
 * Loads the TCP/IPv4 frames of one capture as a session: the sender of the
 * first SYN (else of the first frame) is the client. The client's address
 * and port become 10.0.0.0 and 1024 so that a flow rewrites them with
 * plain checksum adjustments. Returns 0, or -1 with a message.
 */
static int
session_load(const char *path)
{
	char error[PCAP_ERRBUF_SIZE];
	struct gen_session *s = &sessions[session_count];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint32_t client = 0;
	uint16_t cport = 0;
	bool have_client = false;
	pcap_t *pcap;

	if (session_count == GEN_CAPTURES_MAX) {
		fprintf(stderr, "memif_gen: at most %d captures\n",
			GEN_CAPTURES_MAX);
		return -1;
	}
	pcap = pcap_open_offline(path, error);
	if (pcap == NULL) {
		fprintf(stderr, "memif_gen: %s: %s\n", path, error);
		return -1;
	}
	s->frames = &templates[template_count];
	while (pcap_next_ex(pcap, &h, &data) == 1) {
		struct gen_template *t;
		unsigned int l4;
		uint32_t src, dst;
		uint16_t sport, dport;
		uint32_t len = h->caplen;

		if (len < 54 || len > GEN_FRAME_MAX || len != h->len ||
				data[12] != 0x08 || data[13] != 0x00 ||
				(data[14] >> 4) != 4 || data[23] != 6)
			continue;
		l4 = 14 + (data[14] & 0xf) * 4;
		if (l4 + 20 > len)
			continue;
		if (template_count == GEN_FRAMES_MAX) {
			fprintf(stderr, "memif_gen: more than %d frames\n",
				GEN_FRAMES_MAX);
			pcap_close(pcap);
			return -1;
		}
		src = (uint32_t)data[26] << 24 | data[27] << 16 |
			data[28] << 8 | data[29];
		dst = (uint32_t)data[30] << 24 | data[31] << 16 |
			data[32] << 8 | data[33];
		sport = data[l4] << 8 | data[l4 + 1];
		dport = data[l4 + 2] << 8 | data[l4 + 3];
		if (!have_client) {
			bool syn_ack = (data[l4 + 13] & 0x12) == 0x12;

			client = syn_ack ? dst : src;
			cport = syn_ack ? dport : sport;
			have_client = true;
		}
		t = &templates[template_count++];
		memcpy(t->data, data, len);
		t->len = RTE_MAX(len, 60u);
		t->l4 = l4;
		t->from_server = !(src == client && sport == cport);
		/* The client becomes 10.0.0.0:1024 (see client_addr(0)). */
		if (t->from_server) {
			*(uint32_t *)(t->data + 30) =
				rte_cpu_to_be_32(client_addr(0));
			t->data[l4 + 2] = 1024 >> 8;
			t->data[l4 + 3] = 1024 & 0xff;
		} else {
			*(uint32_t *)(t->data + 26) =
				rte_cpu_to_be_32(client_addr(0));
			t->data[l4] = 1024 >> 8;
			t->data[l4 + 1] = 1024 & 0xff;
		}
		frame_checksums(t->data, l4, ((unsigned int)data[16] << 8 |
			data[17]));
		s->count++;
	}
	pcap_close(pcap);
	if (s->count == 0) {
		fprintf(stderr, "memif_gen: %s: no TCP/IPv4 frames\n", path);
		return -1;
	}
	session_count++;
	return 0;
}

/* One's complement adjustment of <csum> for a changed 32-bit quantity. */
static inline uint16_t
csum_adjust(uint16_t csum, uint32_t old_v, uint32_t new_v)
{
	uint32_t sum = (uint16_t)~csum;

	sum += (uint16_t)~(old_v >> 16) + (uint16_t)~(old_v & 0xffff);
	sum += (new_v >> 16) + (new_v & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Copies <t> into <f> as client <id>: its address and port replace
 * 10.0.0.0:1024 on the client's side, checksums adjusted. Returns the
 * frame's length.
 */
static inline uint16_t
frame_fill(uint8_t *f, const struct gen_template *t, uint64_t id)
{
	uint32_t addr = client_addr(id);
	uint16_t port = client_port(id);
	unsigned int at_addr = t->from_server ? 30 : 26;
	unsigned int at_port = t->l4 + (t->from_server ? 2 : 0);
	uint32_t old_addr = client_addr(0);
	uint16_t c;

	rte_memcpy(f, t->data, t->len);
	*(uint32_t *)(f + at_addr) = rte_cpu_to_be_32(addr);
	f[at_port] = port >> 8;
	f[at_port + 1] = port & 0xff;
	c = (uint16_t)(f[24] << 8 | f[25]);
	c = csum_adjust(c, old_addr, addr);
	f[24] = c >> 8;
	f[25] = c & 0xff;
	c = (uint16_t)(f[t->l4 + 16] << 8 | f[t->l4 + 17]);
	c = csum_adjust(c, old_addr, addr);
	c = csum_adjust(c, 1024, port);
	f[t->l4 + 16] = c >> 8;
	f[t->l4 + 17] = c & 0xff;
	return t->len;
}

static inline void
frame_write(struct rte_mbuf *m, const struct gen_template *t, uint64_t id)
{
	uint16_t len = frame_fill(rte_pktmbuf_mtod(m, uint8_t *), t, id);

	m->data_len = len;
	m->pkt_len = len;
}

/* Where the schedule is: which frame of which flow comes next. */
struct gen_cursor {
	enum gen_mode mode;
	uint64_t flows;
	uint64_t flow;		/* next flow */
	uint64_t pass;		/* smb: frame index of every flow; else passes */
	uint64_t serial;	/* syn: sources used so far */
};

/*
 * Picks the next frame to send: its template and client id. In smb mode
 * flow f replays session f % sessions; at pass p it sends frame
 * p % length, as connection p / length of that flow (a new client id).
 */
static inline const struct gen_template *
cursor_next(struct gen_cursor *c, uint64_t *id)
{
	const struct gen_template *t;

	switch (c->mode) {
	case GEN_MODE_SMB: {
		const struct gen_session *s = &sessions[c->flow % session_count];
		uint64_t round = c->pass / s->count;

		t = &s->frames[c->pass % s->count];
		*id = round * c->flows + c->flow;
		break;
	}
	case GEN_MODE_SYN:
		t = &templates[0];
		*id = c->serial++;
		return t;
	case GEN_MODE_IMIX:
		t = &templates[(c->pass * c->flows + c->flow) % template_count];
		*id = c->flow;
		break;
	default:
		t = &templates[0];
		*id = c->flow;
		break;
	}
	if (++c->flow == c->flows) {
		c->flow = 0;
		c->pass++;
	}
	return t;
}

static int
port_start(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, GEN_DESCRIPTORS,
			rte_eth_dev_socket_id(port), NULL, pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, GEN_DESCRIPTORS,
			rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	return ret;
}

static bool
links_up(void)
{
	struct rte_eth_link link;
	uint16_t p;

	for (p = 0; p < GEN_PORTS; p++) {
		if (rte_eth_link_get_nowait(p, &link) != 0 ||
				link.link_status != RTE_ETH_LINK_UP)
			return false;
	}
	return true;
}

struct gen_counts {
	uint64_t tx[GEN_PORTS];
	uint64_t rx[GEN_PORTS];
	uint64_t rx_bytes;
	uint64_t tx_full;	/* bursts the device could not take whole */
};

static const char *const mode_names[] = {
	[GEN_MODE_TCP] = "tcp", [GEN_MODE_IMIX] = "imix",
	[GEN_MODE_SMB] = "smb", [GEN_MODE_SYN] = "syn",
};

/*
 * Writes the first <count> frames of the schedule to PREFIX.port0.pcap
 * (frames that leave on port 0) and PREFIX.port1.pcap, for replay by
 * another generator (tests/bench/pktgen). Returns 0, or -1 with a message.
 */
static int
write_pcaps(struct gen_cursor *cursor, const char *prefix, uint64_t count)
{
	pcap_dumper_t *out[GEN_PORTS] = { NULL, NULL };
	uint8_t frame[GEN_FRAME_MAX];
	char path[PATH_MAX];
	pcap_t *dead;
	uint64_t i;
	int p, ret = -1;

	dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (dead == NULL)
		return -1;
	for (p = 0; p < GEN_PORTS; p++) {
		snprintf(path, sizeof(path), "%s.port%d.pcap", prefix, p);
		out[p] = pcap_dump_open(dead, path);
		if (out[p] == NULL) {
			fprintf(stderr, "memif_gen: %s: %s\n", path,
				pcap_geterr(dead));
			goto close_files;
		}
	}
	for (i = 0; i < count; i++) {
		struct pcap_pkthdr h;
		const struct gen_template *t;
		uint64_t id;

		t = cursor_next(cursor, &id);
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = i / 1000000;
		h.ts.tv_usec = i % 1000000;
		h.caplen = h.len = frame_fill(frame, t, id);
		pcap_dump((u_char *)out[t->from_server], &h, frame);
	}
	ret = 0;
close_files:
	for (p = 0; p < GEN_PORTS; p++)
		if (out[p] != NULL)
			pcap_dump_close(out[p]);
	pcap_close(dead);
	return ret;
}

int
main(int argc, char **argv)
{
	struct rte_mbuf *pending[GEN_PORTS][GEN_BURST];
	unsigned int npending[GEN_PORTS] = { 0, 0 };
	struct rte_mbuf *rx[GEN_BURST];
	struct gen_counts now, start;
	struct gen_cursor cursor;
	struct rte_mempool *pool;
	enum gen_mode mode = GEN_MODE_TCP;
	double seconds = 5.0, warmup = 1.0, linger = 0, window;
	uint64_t flows = 1000, frames_out = 1000000, hz, t_start, t_end, t_warm, tsc;
	const char *pcap_prefix = NULL;
	unsigned int frame_len = 60;
	bool warmed = false;
	uint16_t p;
	int ret, opt, i;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "memif_gen: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt(argc, argv, "m:t:w:f:s:k:o:n:")) != -1) {
		switch (opt) {
		case 'm':
			for (i = 0; i < (int)RTE_DIM(mode_names); i++)
				if (strcmp(optarg, mode_names[i]) == 0)
					break;
			if (i == (int)RTE_DIM(mode_names))
				usage();
			mode = i;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'w':
			warmup = atof(optarg);
			break;
		case 'f':
			flows = strtoull(optarg, NULL, 0);
			break;
		case 's':
			frame_len = atoi(optarg);
			break;
		case 'k':
			linger = atof(optarg);
			break;
		case 'o':
			pcap_prefix = optarg;
			break;
		case 'n':
			frames_out = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (flows == 0 || seconds <= 0 || warmup < 0 || frame_len < 60 ||
			frame_len > GEN_FRAME_MAX)
		usage();

	switch (mode) {
	case GEN_MODE_TCP:
		template_add_tcp(frame_len, GEN_SERVER_ADDR, 80, 0x10);
		break;
	case GEN_MODE_IMIX: {
		/* 7:4:1, interleaved so that no size comes in long runs. */
		static const uint16_t imix[12] = { 60, 590, 60, 60, 590, 60,
			1514, 60, 590, 60, 590, 60 };

		for (i = 0; i < 12; i++)
			template_add_tcp(imix[i], GEN_SERVER_ADDR, 80, 0x10);
		break;
	}
	case GEN_MODE_SYN:
		template_add_tcp(60, GEN_SERVER_ADDR, 445, 0x02);
		/*
		 * A bare SYN, as floods send it: no TCP payload, the frame
		 * padded to 60 bytes (a SYN with data is TCP Fast Open).
		 */
		templates[0].data[16] = 0;
		templates[0].data[17] = 40;
		frame_checksums(templates[0].data, 34, 40);
		break;
	case GEN_MODE_SMB:
		if (optind == argc)
			usage();
		for (i = optind; i < argc; i++)
			if (session_load(argv[i]) != 0)
				return 1;
		break;
	}

	memset(&cursor, 0, sizeof(cursor));
	cursor.mode = mode;
	cursor.flows = flows;
	if (pcap_prefix != NULL) {
		ret = write_pcaps(&cursor, pcap_prefix, frames_out);
		rte_eal_cleanup();
		return ret == 0 ? 0 : 1;
	}

	if (rte_eth_dev_count_avail() < GEN_PORTS) {
		fprintf(stderr, "memif_gen: needs 2 ports (--vdev net_memif0,role=client,... twice)\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("gen_pool", GEN_MBUFS, GEN_MBUF_CACHE,
		0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "memif_gen: mbuf pool: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	for (p = 0; p < GEN_PORTS; p++) {
		ret = port_start(p, pool);
		if (ret != 0) {
			fprintf(stderr, "memif_gen: port %u: %s\n", p,
				rte_strerror(-ret));
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	hz = rte_get_tsc_hz();
	tsc = rte_get_tsc_cycles();
	while (!links_up()) {
		if (stop_requested ||
				rte_get_tsc_cycles() - tsc > GEN_LINK_WAIT_S * hz) {
			fprintf(stderr, "memif_gen: links not up after %d s (is the device under test running?)\n",
				GEN_LINK_WAIT_S);
			return 1;
		}
		rte_delay_ms(10);
	}

	memset(&now, 0, sizeof(now));
	memset(&start, 0, sizeof(start));
	t_start = rte_get_tsc_cycles();
	t_warm = t_start + (uint64_t)(warmup * hz);
	t_end = t_warm + (uint64_t)(seconds * hz);
	tsc = t_start;

	while (!stop_requested && tsc < t_end) {
		/* Fill both pending bursts, then offer them. */
		while (npending[0] < GEN_BURST && npending[1] < GEN_BURST) {
			const struct gen_template *t;
			struct rte_mbuf *m;
			uint64_t id;

			m = rte_pktmbuf_alloc(pool);
			if (m == NULL)
				break;
			t = cursor_next(&cursor, &id);
			frame_write(m, t, id);
			pending[t->from_server][npending[t->from_server]++] = m;
		}
		for (p = 0; p < GEN_PORTS; p++) {
			uint16_t sent;

			if (npending[p] == 0)
				continue;
			sent = rte_eth_tx_burst(p, 0, pending[p], npending[p]);
			now.tx[p] += sent;
			if (sent < npending[p]) {
				now.tx_full++;
				memmove(pending[p], pending[p] + sent,
					(npending[p] - sent) * sizeof(pending[p][0]));
			}
			npending[p] -= sent;
		}
		for (p = 0; p < GEN_PORTS; p++) {
			uint16_t n = rte_eth_rx_burst(p, 0, rx, GEN_BURST);
			uint16_t k;

			now.rx[p] += n;
			for (k = 0; k < n; k++)
				now.rx_bytes += rx[k]->pkt_len;
			if (n != 0)
				rte_pktmbuf_free_bulk(rx, n);
		}
		tsc = rte_get_tsc_cycles();
		if (!warmed && tsc >= t_warm) {
			start = now;
			t_warm = tsc;
			warmed = true;
		}
	}
	if (!warmed) {
		start = now;
		t_warm = t_start;
	}
	window = (double)(tsc - t_warm) / hz;

	{
		uint64_t tx = now.tx[0] + now.tx[1] - start.tx[0] - start.tx[1];
		uint64_t rxn = now.rx[0] + now.rx[1] - start.rx[0] - start.rx[1];
		double bytes = now.rx_bytes - start.rx_bytes;

		printf("memif_gen: %s, %" PRIu64 " flows, %.2f s: tx %.3f Mpps, rx %.3f Mpps (%.2f Gbit/s), "
			"%" PRIu64 " frames through, tx port0/port1 %" PRIu64 "/%" PRIu64 ", busy rings %" PRIu64 "\n",
			mode_names[mode], flows, window, tx / window / 1e6,
			rxn / window / 1e6, bytes * 8 / window / 1e9, rxn,
			now.tx[0] - start.tx[0], now.tx[1] - start.tx[1],
			now.tx_full - start.tx_full);
		printf("RESULT mode=%s flows=%" PRIu64 " seconds=%.3f tx_mpps=%.4f rx_mpps=%.4f rx_gbps=%.3f tx=%" PRIu64 " rx=%" PRIu64 " total_tx=%" PRIu64 " total_rx=%" PRIu64 "\n",
			mode_names[mode], flows, window, tx / window / 1e6,
			rxn / window / 1e6, bytes * 8 / window / 1e9, tx, rxn,
			now.tx[0] + now.tx[1], now.rx[0] + now.rx[1]);
		fflush(stdout);
		ret = rxn > 0 ? 0 : 1;
	}
	/* Keep the links up, draining, until the device has reported. */
	t_end = rte_get_tsc_cycles() + (uint64_t)(linger * hz);
	while (!stop_requested && rte_get_tsc_cycles() < t_end) {
		for (p = 0; p < GEN_PORTS; p++) {
			uint16_t n = rte_eth_rx_burst(p, 0, rx, GEN_BURST);

			if (n != 0)
				rte_pktmbuf_free_bulk(rx, n);
		}
		rte_delay_us_sleep(100);
	}
	for (p = 0; p < GEN_PORTS; p++) {
		if (npending[p] != 0)
			rte_pktmbuf_free_bulk(pending[p], npending[p]);
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_eal_cleanup();
	return ret;
}
