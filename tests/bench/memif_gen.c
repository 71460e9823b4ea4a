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
 *		[-f FLOWS] [-s BYTES] [-k LINGER] [-q QUEUES [-d SPREAD]]
 *		[-a] [-c [-T STALL_MS] [-r RAMP] [-e RAMP_LIMIT]]
 *		[CAPTURE.pcap ...]
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
 *		(open loop; -c closes the loop, see below)
 *	syn	a SYN storm: bare SYNs (no payload, 60-byte frames) to
 *		port 445, each from a source address and port never used
 *		before, that nobody answers
 *
 * Queues (-q, default 1): every port gets QUEUES queue pairs, and the
 * device under test must configure as many (memif pairs ring i of the
 * client with queue i of the server, so the generator decides which of
 * the device's queues, and so which of its workers, a frame reaches).
 * Both directions of a connection leave on the same queue index; which
 * one, SPREAD says:
 *	owner	the queue of the worker that smbgw's software flow affinity
 *		gives the address pair (dataplane/affinity.c): no frame has
 *		to cross between workers, as behind a NIC with symmetric RSS
 *	flow	connection id modulo QUEUES: a hash that is symmetric but is
 *		not smbgw's, so about (QUEUES - 1) / QUEUES of the frames
 *		reach a worker that does not own them and cross over through
 *		smbgw's redirect rings (a memif peer that spreads by its own
 *		hash)
 * Every EAL lcore sends: lcore i of L serves the queues q with q % L == i
 * (at most QUEUES lcores), each walking the whole schedule and sending
 * only the frames of its queues, so that a generator on several cores
 * does not bound a device with several workers.
 *
 * Closed loop (-c, smb mode, one lcore): every flow has its own place in
 * its capture and sends its next frame only once its previous one has
 * come back out of the device (received on the other port), as a real
 * peer answers only what reached it. The flow is found again from the
 * received frame's client address and port (client_addr() and
 * client_port() inverted) and checked against the frame it sent (side,
 * sequence and acknowledgement numbers). At the start every flow's first
 * frame is queued, so FLOWS frames are outstanding; flows whose frame came
 * back queue behind them (first come, first served). A frame the device
 * dropped would stall its flow: a frame not back after STALL_MS (default
 * 100) is sent again, as TCP retransmits, up to 3 times; then the flow is
 * counted as stalled, the side that sent it resets the connection (so
 * that the device lets go of what it keeps for it) and the flow starts
 * again as a new connection.
 *
 * Staggered start (-r, closed loop): flows start one after another, evenly
 * over RAMP seconds (the warm-up lasts at least as long), instead of all
 * at once, so that in the window they are at different places in their
 * sessions, as the sessions of a network are, rather than all at the same
 * frame.
 *
 * Ramp-up (-e, closed loop): the warm-up lasts at least WARMUP seconds and
 * until every flow has been past its capture's logon (the server's answer
 * that a SESSION_SETUP succeeded; a capture without one is under way from
 * its first frame), at most RAMP_LIMIT seconds; only then is the window
 * measured. Started together, a million flows log on at once for the
 * first seconds: a connection set-up storm that no network of established
 * sessions sees, measured on its own without -e (RFC 9411 likewise
 * measures throughput in a sustain phase after ramp-up, and connection
 * set-up rates in tests of their own).
 *
 * Prompt answers (-a, smb mode): after every data segment that the capture
 * does not answer with the server's next frame, the receiver sends a pure
 * ACK (the captures' receivers, behind segmentation offload and receive
 * coalescing, acknowledged bulk writes every few dozen segments). Closed
 * loop, the server's frames and those ACKs go out as soon as their turn
 * comes, ahead of the queue, while a client's next frame queues behind
 * the other flows: every flow advances a client step per pass, and what a
 * device keeps unacknowledged is bounded by the frames in flight, as on a
 * link with a short round trip, rather than growing with the flows
 * (session_acknowledge()).
 *
 * Output: one line "memif_gen: ..." for people and one "RESULT key=value
 * ..." for scripts (warmup_s: seconds before the window; under_way: flows
 * past their logon when it started), and when the window starts a line
 * "WINDOW warmup_s=..." (flushed) at which scripts read the device's
 * counters. After it the generator stops sending but keeps its
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
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "affinity.h"

#define GEN_BURST		32
#define GEN_PORTS		2
#define GEN_MBUFS		32767
#define GEN_MBUF_CACHE		512
#define GEN_DESCRIPTORS		1024
#define GEN_FRAME_MAX		1514
#define GEN_FRAMES_MAX		65536
#define GEN_CAPTURES_MAX	8
#define GEN_LINK_WAIT_S		15
#define GEN_QUEUES_MAX		16
#define GEN_AFFINITY_HEADER	34	/* Ethernet and IPv4 up to the addresses */
#define GEN_STALL_MS		100
#define GEN_RESENDS		3	/* a stalled frame is sent again so often */
#define GEN_STALL_SCAN		256	/* flows checked for a stall per loop */

/* Client addresses: 10.0.0.0/14 (2^18 hosts), ports 1024 and up. */
#define GEN_CLIENT_NET		0x0a000000u
#define GEN_HOST_BITS		18
#define GEN_HOST_MASK		((1u << GEN_HOST_BITS) - 1)
#define GEN_CLIENT_PORTS	64000
#define GEN_ADDR_MULTIPLIER	40503u	/* odd: invertible mod 2^HOST_BITS */
#define GEN_SERVER_ADDR		0xc6120214u	/* 198.18.2.20 */

enum gen_spread {
	GEN_SPREAD_OWNER,
	GEN_SPREAD_FLOW,
};

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
	uint8_t prompt;		/* -a, closed loop: sent as soon as its turn comes */
};

/* One capture: its frames in order. */
struct gen_session {
	struct gen_template *frames;
	uint32_t count;
	uint32_t logged_on;	/* frames up to the logon's success answer */
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
		"                 [-f FLOWS] [-s BYTES] [-k LINGER] [-q QUEUES [-d owner|flow]]\n"
		"                 [-a] [-c [-T STALL_MS] [-r RAMP] [-e RAMP_LIMIT]]\n"
		"                 [-o PREFIX [-n FRAMES]]\n"
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
	return GEN_CLIENT_NET |
		(((uint32_t)id * GEN_ADDR_MULTIPLIER) & GEN_HOST_MASK);
}

static inline uint16_t
client_port(uint64_t id)
{
	return 1024 + (uint16_t)((id >> GEN_HOST_BITS) % GEN_CLIENT_PORTS);
}

/* The inverse of GEN_ADDR_MULTIPLIER mod 2^32 (Newton's iteration). */
static uint32_t
multiplier_inverse(void)
{
	uint32_t x = GEN_ADDR_MULTIPLIER, inv = x;
	int i;

	for (i = 0; i < 5; i++)
		inv *= 2 - x * inv;
	return inv;
}

/*
 * The client id (modulo 2^HOST_BITS * CLIENT_PORTS, far more ids than a
 * run uses) whose address and port are <addr>:<port>; false when they are
 * not a generated client's.
 */
static inline bool
client_id(uint32_t addr, uint16_t port, uint32_t inverse, uint64_t *id)
{
	if ((addr & ~GEN_HOST_MASK) != GEN_CLIENT_NET || port < 1024 ||
			port - 1024 >= GEN_CLIENT_PORTS)
		return false;
	*id = (uint64_t)(port - 1024) << GEN_HOST_BITS |
		(((addr & GEN_HOST_MASK) * inverse) & GEN_HOST_MASK);
	return true;
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

/* Set by -a (session_acknowledge()). */
static bool receiver_acks;

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* TCP payload bytes of template <t>; 0 when its lengths do not add up. */
static unsigned int
template_payload(const struct gen_template *t)
{
	unsigned int ip_len = (unsigned int)t->data[16] << 8 | t->data[17];
	unsigned int headers = (t->l4 - 14) + (t->data[t->l4 + 12] >> 4) * 4;

	return ip_len > headers ? ip_len - headers : 0;
}

/* What session_acknowledge() follows of one side of a connection. */
struct gen_side {
	int last;		/* template index of its latest frame, -1: none */
	uint32_t next_seq;	/* its highest sequence number sent, + 1 */
	uint32_t data_end;	/* end of its latest data segment */
	uint32_t ack_sent;	/* acknowledgement number of its latest ACK */
	bool acked;		/* ack_sent is set */
};

/*
 * A pure ACK from <receiver> for everything <sender> has sent, built on
 * the receiver's latest frame (addresses, ports, window and options, as a
 * stack repeats them), added to the templates.
 */
static void
template_add_ack(struct gen_side *receiver, const struct gen_side *sender)
{
	const struct gen_template *model = &templates[receiver->last];
	struct gen_template *t = &templates[template_count++];
	unsigned int len = model->l4 + (model->data[model->l4 + 12] >> 4) * 4;

	/* A data offset the captured frame does not hold: no options. */
	if (len > model->len || len < model->l4 + 20u)
		len = model->l4 + 20;

	memcpy(t->data, model->data, len);
	t->l4 = model->l4;
	t->from_server = model->from_server;
	t->prompt = 1;
	t->len = RTE_MAX(len, 60u);
	memset(t->data + len, 0, t->len - len);
	t->data[16] = (len - 14) >> 8;
	t->data[17] = (len - 14) & 0xff;
	put_be32(t->data + t->l4 + 4, receiver->next_seq);
	put_be32(t->data + t->l4 + 8, sender->data_end);
	t->data[t->l4 + 13] = 0x10;
	frame_checksums(t->data, t->l4, len - 14);
	receiver->ack_sent = sender->data_end;
	receiver->acked = true;
}

/*
 * -a: the receivers of session <s> acknowledge at once. The captures were
 * taken where segmentation offload and receive coalescing let a receiver
 * acknowledge a bulk write every few dozen segments (the copy capture:
 * runs of up to 264 full segments with no answer); here, after every data
 * segment that the capture does not answer with the server's next frame,
 * the receiver sends a pure ACK. In the closed loop the server's frames
 * and these ACKs are prompt (the peer answers as soon as the frame has
 * reached it) while a client's own next frame waits its turn behind the
 * other flows: a flow advances one client step per pass over the flows,
 * as a client paces itself, and what the device keeps unacknowledged is
 * bounded by the frames in flight, as on a link whose round trip is short,
 * not by the number of flows. A pure ACK of the capture that repeats the
 * last acknowledgement of its side is left out (no duplicate ACKs).
 * Returns 0, or -1 with a message.
 */
static int
session_acknowledge(struct gen_session *s)
{
	struct gen_side sides[2] = { { .last = -1 }, { .last = -1 } };
	struct gen_template *loaded;
	uint32_t i, count = s->count;

	loaded = malloc(count * sizeof(*loaded));
	if (loaded == NULL) {
		fprintf(stderr, "memif_gen: out of memory\n");
		return -1;
	}
	memcpy(loaded, s->frames, count * sizeof(*loaded));
	template_count -= count;
	s->count = 0;
	for (i = 0; i < count; i++) {
		const struct gen_template *t = &loaded[i];
		struct gen_side *side = &sides[t->from_server];
		unsigned int payload = template_payload(t);
		uint32_t seq_end = get_be32(t->data + t->l4 + 4) + payload +
			!!(t->data[t->l4 + 13] & 0x03);	/* SYN, FIN */
		bool answered = !t->from_server && i + 1 < count &&
			loaded[i + 1].from_server;
		uint32_t ack = get_be32(t->data + t->l4 + 8);
		uint8_t flags = t->data[t->l4 + 13];

		if (template_count + 2 > GEN_FRAMES_MAX) {
			fprintf(stderr, "memif_gen: more than %d frames\n",
				GEN_FRAMES_MAX);
			free(loaded);
			return -1;
		}
		if (payload == 0 && flags == 0x10 && side->acked &&
				ack == side->ack_sent)
			continue;
		if (flags & 0x10) {
			side->ack_sent = ack;
			side->acked = true;
		}
		templates[template_count] = *t;
		templates[template_count].prompt = t->from_server;
		if (side->last < 0 || (int32_t)(seq_end - side->next_seq) > 0)
			side->next_seq = seq_end;
		side->last = (int)template_count++;
		s->count++;
		if (payload == 0)
			continue;
		side->data_end = seq_end;
		if (!answered && sides[!t->from_server].last >= 0) {
			template_add_ack(&sides[!t->from_server], side);
			s->count++;
		}
	}
	free(loaded);
	return 0;
}

/*
 * Whether template <t> is a server's answer that a logon succeeded: a TCP
 * payload starting with a NetBIOS session message whose SMB2 SESSION_SETUP
 * response has status 0 ([MS-SMB2] 2.2.1, 2.2.6), or whose SMB1
 * SESSION_SETUP_ANDX (0x73) reply has status 0 ([MS-CIFS] 2.2.3.1).
 */
static bool
template_logon_success(const struct gen_template *t)
{
	unsigned int payload = template_payload(t);
	const uint8_t *nb, *smb;

	if (!t->from_server || payload < 4 + 32)
		return false;
	nb = t->data + t->l4 + (t->data[t->l4 + 12] >> 4) * 4;
	if (nb + payload > t->data + t->len || nb[0] != 0x00)
		return false;
	smb = nb + 4;
	if (smb[0] == 0xfe && smb[1] == 'S' && smb[2] == 'M' && smb[3] == 'B')
		return payload >= 4 + 64 && (smb[12] | smb[13] << 8) == 0x0001 &&
			(smb[16] & 0x01) != 0 &&
			(smb[8] | smb[9] | smb[10] | smb[11]) == 0;
	if (smb[0] == 0xff && smb[1] == 'S' && smb[2] == 'M' && smb[3] == 'B')
		return smb[4] == 0x73 && (smb[9] & 0x80) != 0 &&
			(smb[5] | smb[6] | smb[7] | smb[8]) == 0;
	return false;
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
	if (receiver_acks && session_acknowledge(s) != 0)
		return -1;
	/* Without a logon in it, a flow is under way from its first frame. */
	s->logged_on = 0;
	for (uint32_t i = 0; i < s->count; i++)
		if (template_logon_success(&s->frames[i])) {
			s->logged_on = i + 1;
			break;
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
port_start(uint16_t port, uint16_t queues, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	uint16_t q;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, queues, queues, &conf);
	for (q = 0; ret == 0 && q < queues; q++) {
		ret = rte_eth_rx_queue_setup(port, q, GEN_DESCRIPTORS,
			rte_eth_dev_socket_id(port), NULL, pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(port, q, GEN_DESCRIPTORS,
				rte_eth_dev_socket_id(port), NULL);
	}
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	return ret;
}

/*
 * The queue (of <queues>) that client <id>'s frame <t> leaves on: the same
 * for both directions of a connection.
 */
static inline unsigned int
frame_queue(const struct gen_template *t, uint64_t id, unsigned int queues,
	enum gen_spread spread)
{
	uint8_t header[GEN_AFFINITY_HEADER];
	uint32_t addr;

	if (queues == 1)
		return 0;
	if (spread == GEN_SPREAD_FLOW)
		return (unsigned int)(id % queues);
	/* Only the addresses matter to the owner: the template's header
	 * with the client's address in place. */
	memcpy(header, t->data, sizeof(header));
	addr = rte_cpu_to_be_32(client_addr(id));
	memcpy(header + (t->from_server ? 30 : 26), &addr, sizeof(addr));
	return affinity_worker(affinity_hash(header, sizeof(header)), queues);
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

/* Closed loop: where a flow is, and since when its frame is out. */
struct gen_flow {
	uint32_t frame;		/* index in its capture of the frame out */
	uint32_t round;		/* connection number: id round * flows + f */
	uint16_t resends;	/* of the frame out */
	uint8_t reset;		/* stalled: a reset goes out before the SYN */
	uint8_t under_way;	/* has been past its capture's logon */
	uint64_t sent_tsc;	/* 0: not out (queued to send) */
};

/*
 * Closed loop state: the flows, and a queue of the flows whose next frame
 * may be sent (each flow is in it at most once, so FLOWS entries do).
 */
struct gen_closed {
	struct gen_flow *flows;
	struct gen_template reset_frame;	/* built for the flow reset */
	uint32_t *ready;
	uint64_t head, tail;	/* ready[head % flows .. tail % flows);
				 * both start at flows, so that head can
				 * go back for a prompt frame */
	uint64_t scan;		/* next flow checked for a stall */
	uint64_t stall_tsc;
	uint32_t inverse;
	uint64_t resent;	/* frames sent again after a stall */
	uint64_t stalled;	/* flows restarted after a stall */
	uint64_t unmatched;	/* frames back that no flow was waiting for */
	uint64_t connections;	/* captures replayed to the end */
	uint64_t under_way;	/* flows that have been past their logon */
	uint64_t started;	/* flows whose first frame has been queued */
	uint64_t start_tsc;	/* -r: TSC over which flows start, 0: at once */
};

/* What the sending lcores share, set before they start. */
struct gen_plan {
	struct rte_mempool *pool;
	struct gen_cursor cursor;	/* each lane walks its own copy */
	unsigned int queues;		/* per port */
	unsigned int lanes;		/* sending lcores */
	enum gen_spread spread;
	struct gen_closed *closed;	/* NULL: open loop */
	bool ramp_up;		/* -e: the window waits for every logon */
	uint64_t t_start, t_warm;	/* TSC: start, earliest window start */
	uint64_t t_ramp_limit;	/* TSC: latest window start with -e */
	uint64_t window_tsc;	/* length of the measured window */
};

/*
 * One sending lcore: its queues, what it has counted in all and at the
 * end of the warm-up, and frames a queue has not taken yet.
 */
struct gen_lane {
	const struct gen_plan *plan;
	unsigned int index;
	struct gen_counts now, start;
	uint64_t queue_tx[GEN_PORTS][GEN_QUEUES_MAX];
	uint64_t queue_rx[GEN_PORTS][GEN_QUEUES_MAX];
	double window;			/* seconds measured */
	double warmed_after;		/* seconds before the window */
	uint64_t under_way;		/* closed loop: flows past their logon
					 * when the window started */
	struct rte_mbuf *pending[GEN_PORTS][GEN_QUEUES_MAX][GEN_BURST];
	unsigned int npending[GEN_PORTS][GEN_QUEUES_MAX];
} __rte_cache_aligned;

static struct gen_lane lanes[RTE_MAX_LCORE];

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

/* Offers the frames pending for <port>'s queue <q>; keeps what it left. */
static inline void
lane_flush(struct gen_lane *lane, uint16_t port, unsigned int q)
{
	unsigned int n = lane->npending[port][q];
	uint16_t sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(port, q, lane->pending[port][q], n);
	lane->now.tx[port] += sent;
	lane->queue_tx[port][q] += sent;
	if (sent < n) {
		lane->now.tx_full++;
		memmove(lane->pending[port][q], lane->pending[port][q] + sent,
			(n - sent) * sizeof(lane->pending[port][q][0]));
	}
	lane->npending[port][q] = n - sent;
}

/*
 * Moves <cursor> to the next frame that leaves on one of <lane>'s queues
 * and returns it, with its client id and queue; NULL when none came in
 * a million frames of the schedule (too few flows for this many lanes).
 */
static inline const struct gen_template *
lane_next(const struct gen_lane *lane, struct gen_cursor *cursor,
	uint64_t *id, unsigned int *queue)
{
	const struct gen_plan *plan = lane->plan;
	unsigned int tries;

	for (tries = 0; tries < (1u << 20); tries++) {
		const struct gen_template *t = cursor_next(cursor, id);

		*queue = frame_queue(t, *id, plan->queues, plan->spread);
		if (*queue % plan->lanes == lane->index)
			return t;
	}
	return NULL;
}

static inline void
closed_queue(struct gen_closed *c, uint64_t flows, uint32_t flow)
{
	c->ready[c->tail++ % flows] = flow;
}

/*
 * Closed loop, -r: queues the first frame of every flow due to start
 * <elapsed> TSC cycles into the run (evenly over the ramp).
 */
static inline void
closed_start_flows(struct gen_closed *c, uint64_t flows, uint64_t elapsed)
{
	uint64_t due = flows;

	if (c->started == flows)
		return;
	if (elapsed < c->start_tsc)
		due = (uint64_t)((double)flows * elapsed / c->start_tsc);
	while (c->started < due)
		closed_queue(c, flows, (uint32_t)c->started++);
}

/*
 * Closed loop: a reset (RST and ACK, no payload) from the side that sent
 * <t>, at its sequence number, so that the device drops the connection
 * and the segments it keeps for it, as a peer that gives up does.
 */
static const struct gen_template *
closed_reset(struct gen_closed *c, const struct gen_template *t)
{
	struct gen_template *r = &c->reset_frame;
	unsigned int tcp_len = (t->data[t->l4 + 12] >> 4) * 4;
	unsigned int len = t->l4 + RTE_MAX(tcp_len, 20u);

	if (len > t->len)
		len = t->l4 + 20;
	memcpy(r->data, t->data, len);
	r->l4 = t->l4;
	r->from_server = t->from_server;
	r->len = RTE_MAX(len, 60u);
	memset(r->data + len, 0, r->len - len);
	r->data[16] = (len - 14) >> 8;
	r->data[17] = (len - 14) & 0xff;
	r->data[t->l4 + 13] = 0x14;
	frame_checksums(r->data, t->l4, len - 14);
	return r;
}

/*
 * Closed loop: the next frame to send (of the first flow in the ready
 * queue), its client id and queue; NULL when no flow is ready.
 */
static inline const struct gen_template *
closed_next(const struct gen_plan *plan, uint64_t *id, unsigned int *queue,
	uint64_t tsc)
{
	struct gen_closed *c = plan->closed;
	uint64_t flows = plan->cursor.flows;
	const struct gen_session *s;
	struct gen_flow *fl;
	uint32_t f;

	if (c->head == c->tail)
		return NULL;
	f = c->ready[c->head++ % flows];
	fl = &c->flows[f];
	s = &sessions[f % session_count];
	*id = (uint64_t)fl->round * flows + f;
	if (fl->reset) {
		const struct gen_template *t = closed_reset(c,
			&s->frames[fl->frame]);

		/* Not waited for: the flow's next frame is its new SYN. */
		fl->reset = 0;
		fl->frame = 0;
		fl->round++;
		closed_queue(c, flows, f);
		*queue = frame_queue(t, *id, plan->queues, plan->spread);
		return t;
	}
	fl->sent_tsc = tsc | 1;
	*queue = frame_queue(&s->frames[fl->frame], *id, plan->queues,
		plan->spread);
	return &s->frames[fl->frame];
}

/*
 * Closed loop: moves flow <f> on to its next frame and queues it: at the
 * front when that frame is prompt (-a), else behind the other flows.
 */
static inline void
closed_advance(struct gen_closed *c, uint64_t flows, uint32_t f)
{
	const struct gen_session *s = &sessions[f % session_count];
	struct gen_flow *fl = &c->flows[f];

	fl->sent_tsc = 0;
	fl->resends = 0;
	if (++fl->frame >= s->logged_on && !fl->under_way) {
		fl->under_way = 1;
		c->under_way++;
	}
	if (fl->frame == s->count) {
		c->connections++;
		fl->frame = 0;
		fl->round++;
	}
	if (s->frames[fl->frame].prompt)
		c->ready[--c->head % flows] = f;
	else
		closed_queue(c, flows, f);
}

/*
 * Closed loop: frame <m> came back on <port>. When it is the frame its
 * flow has out (the client's side came back on port 1, the server's on
 * port 0; same sequence and acknowledgement numbers), the flow moves on.
 */
static inline void
closed_receive(const struct gen_plan *plan, struct rte_mbuf *m, uint16_t port)
{
	struct gen_closed *c = plan->closed;
	uint64_t flows = plan->cursor.flows;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct gen_template *t;
	const struct gen_flow *fl;
	bool from_server = port == 0;
	unsigned int l4;
	uint32_t addr;
	uint16_t cport;
	uint64_t id, flow, round;

	if (rte_pktmbuf_data_len(m) < 54 || f[12] != 0x08 || f[13] != 0x00 ||
			(f[14] >> 4) != 4 || f[23] != 6)
		goto unmatched;
	l4 = 14 + (f[14] & 0xf) * 4;
	if (l4 + 20 > rte_pktmbuf_data_len(m))
		goto unmatched;
	addr = rte_be_to_cpu_32(*(const unaligned_uint32_t *)
		(f + (from_server ? 30 : 26)));
	cport = f[l4 + (from_server ? 2 : 0)] << 8 |
		f[l4 + (from_server ? 3 : 1)];
	if (!client_id(addr, cport, c->inverse, &id))
		goto unmatched;
	flow = id % flows;
	round = id / flows;
	fl = &c->flows[flow];
	/* Not out (queued to be sent again): the late original is let go,
	 * so that a flow is never queued twice. */
	if (fl->sent_tsc == 0 || fl->round != round)
		goto unmatched;
	t = &sessions[flow % session_count].frames[fl->frame];
	if (t->from_server != from_server ||
			memcmp(f + l4 + 4, t->data + t->l4 + 4, 8) != 0)
		goto unmatched;
	closed_advance(c, flows, (uint32_t)flow);
	return;
unmatched:
	c->unmatched++;
}

/*
 * Closed loop: checks the next GEN_STALL_SCAN flows; one whose frame has
 * been out for longer than the stall time was dropped by the device (or
 * is held by it): the frame is sent again, as TCP retransmits, up to
 * GEN_RESENDS times, then the connection is reset and the flow starts
 * again as a new one.
 */
static inline void
closed_scan(struct gen_closed *c, uint64_t flows, uint64_t tsc)
{
	unsigned int i;

	for (i = 0; i < GEN_STALL_SCAN && i < flows; i++) {
		uint32_t f = (uint32_t)(c->scan++ % flows);
		const struct gen_flow *fl = &c->flows[f];

		if (fl->sent_tsc == 0 || tsc - fl->sent_tsc <= c->stall_tsc)
			continue;
		if (fl->resends < GEN_RESENDS) {
			c->flows[f].resends++;
			c->flows[f].sent_tsc = 0;
			c->resent++;
			closed_queue(c, flows, f);
		} else {
			c->stalled++;
			c->flows[f].sent_tsc = 0;
			c->flows[f].resends = 0;
			c->flows[f].reset = 1;
			closed_queue(c, flows, f);
		}
	}
}

/*
 * One sending lcore: fills its queues' bursts from the schedule until one
 * is full, offers them all, receives on its queues of both ports, until
 * the plan's end. Frames of other lanes' queues are skipped, so the lanes
 * together send the schedule once.
 */
static int
lane_run(void *arg)
{
	struct gen_lane *lane = arg;
	const struct gen_plan *plan = lane->plan;
	struct gen_cursor cursor = plan->cursor;
	struct rte_mbuf *rx[GEN_BURST];
	uint64_t hz = rte_get_tsc_hz(), tsc = plan->t_start;
	uint64_t t_warm = plan->t_warm, t_end = UINT64_MAX;
	bool warmed = false, idle = false;
	unsigned int q;
	uint16_t p;

	while (!stop_requested && tsc < t_end) {
		bool full = false;

		if (plan->closed != NULL)
			closed_start_flows(plan->closed, plan->cursor.flows,
				tsc - plan->t_start);
		/* A burst a queue did not take whole waits, full, for room:
		 * fill nothing until every burst has some. */
		for (p = 0; p < GEN_PORTS && !full; p++)
			for (q = lane->index; q < plan->queues; q += plan->lanes)
				full = full ||
					lane->npending[p][q] == GEN_BURST;
		while (!full && !idle) {
			const struct gen_template *t;
			struct rte_mbuf *m;
			uint64_t id;
			unsigned int n;

			m = rte_pktmbuf_alloc(plan->pool);
			if (m == NULL)
				break;
			if (plan->closed != NULL) {
				t = closed_next(plan, &id, &q, tsc);
				if (t == NULL) {
					rte_pktmbuf_free(m);
					break;
				}
			} else {
				t = lane_next(lane, &cursor, &id, &q);
				if (t == NULL) {
					rte_pktmbuf_free(m);
					idle = true;
					break;
				}
			}
			frame_write(m, t, id);
			n = lane->npending[t->from_server][q];
			lane->pending[t->from_server][q][n] = m;
			lane->npending[t->from_server][q] = n + 1;
			full = n + 1 == GEN_BURST;
		}
		for (p = 0; p < GEN_PORTS; p++)
			for (q = lane->index; q < plan->queues; q += plan->lanes)
				lane_flush(lane, p, q);
		for (p = 0; p < GEN_PORTS; p++) {
			for (q = lane->index; q < plan->queues; q += plan->lanes) {
				uint16_t n = rte_eth_rx_burst(p, q, rx, GEN_BURST);
				uint16_t k;

				if (n == 0)
					continue;
				lane->now.rx[p] += n;
				lane->queue_rx[p][q] += n;
				for (k = 0; k < n; k++)
					lane->now.rx_bytes += rx[k]->pkt_len;
				if (plan->closed != NULL)
					for (k = 0; k < n; k++)
						closed_receive(plan, rx[k], p);
				rte_pktmbuf_free_bulk(rx, n);
			}
		}
		tsc = rte_get_tsc_cycles();
		if (plan->closed != NULL)
			closed_scan(plan->closed, plan->cursor.flows, tsc);
		if (!warmed && tsc >= t_warm && (!plan->ramp_up ||
				plan->closed->under_way == plan->cursor.flows ||
				tsc >= plan->t_ramp_limit)) {
			lane->start = lane->now;
			t_warm = tsc;
			t_end = tsc + plan->window_tsc;
			warmed = true;
			if (plan->closed != NULL)
				lane->under_way = plan->closed->under_way;
			lane->warmed_after = (double)(tsc - plan->t_start) / hz;
			/* Scripts read the device's counters here, so that
			 * theirs cover the same window. */
			if (lane->index == 0) {
				printf("WINDOW warmup_s=%.3f\n",
					lane->warmed_after);
				fflush(stdout);
			}
		}
	}
	if (!warmed) {
		lane->start = lane->now;
		t_warm = plan->t_start;
	}
	lane->window = (double)(tsc - t_warm) / hz;
	for (p = 0; p < GEN_PORTS; p++)
		for (q = 0; q < plan->queues; q++)
			if (lane->npending[p][q] != 0) {
				rte_pktmbuf_free_bulk(lane->pending[p][q],
					lane->npending[p][q]);
				lane->npending[p][q] = 0;
			}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct gen_plan plan;
	static struct gen_closed closed;
	bool closed_loop = false;
	double stall_ms = GEN_STALL_MS;
	struct rte_mbuf *rx[GEN_BURST];
	struct gen_cursor cursor;
	struct rte_mempool *pool;
	enum gen_mode mode = GEN_MODE_TCP;
	enum gen_spread spread = GEN_SPREAD_OWNER;
	double seconds = 5.0, warmup = 1.0, linger = 0, ramp_limit = -1;
	double ramp_start = 0;
	uint64_t flows = 1000, frames_out = 1000000, hz, t_end, tsc;
	const char *pcap_prefix = NULL;
	unsigned int frame_len = 60, queues = 1, lane_count, l, q, lcore;
	uint16_t p;
	int ret, opt, i;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "memif_gen: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt(argc, argv, "m:t:w:e:r:f:s:k:o:n:q:d:acT:")) != -1) {
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
		case 'e':
			ramp_limit = atof(optarg);
			break;
		case 'r':
			ramp_start = atof(optarg);
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
		case 'q':
			queues = (unsigned int)atoi(optarg);
			break;
		case 'c':
			closed_loop = true;
			break;
		case 'a':
			receiver_acks = true;
			break;
		case 'T':
			stall_ms = atof(optarg);
			break;
		case 'd':
			if (strcmp(optarg, "owner") == 0)
				spread = GEN_SPREAD_OWNER;
			else if (strcmp(optarg, "flow") == 0)
				spread = GEN_SPREAD_FLOW;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (flows == 0 || seconds <= 0 || warmup < 0 || frame_len < 60 ||
			frame_len > GEN_FRAME_MAX || queues < 1 ||
			queues > GEN_QUEUES_MAX || stall_ms <= 0 ||
			(receiver_acks && mode != GEN_MODE_SMB) ||
			((ramp_limit >= 0 || ramp_start != 0) && !closed_loop) ||
			ramp_start < 0 ||
			(closed_loop && (mode != GEN_MODE_SMB ||
			pcap_prefix != NULL || flows > UINT32_MAX)))
		usage();
	lane_count = rte_lcore_count();
	if (lane_count > queues) {
		fprintf(stderr, "memif_gen: %u lcores for %u queues: at most one lcore per queue\n",
			lane_count, queues);
		return 1;
	}
	/* A flow's frame may come back on any queue, so one lane sends and
	 * receives for all flows. */
	if (closed_loop && lane_count > 1) {
		fprintf(stderr, "memif_gen: -c takes one lcore\n");
		return 1;
	}

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
		ret = port_start(p, queues, pool);
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

	plan.pool = pool;
	plan.cursor = cursor;
	plan.queues = queues;
	plan.lanes = lane_count;
	plan.spread = spread;
	if (closed_loop) {
		uint32_t f;

		/* In huge pages: at a million flows the generator's own state
		 * (28 MB) in 4 KiB pages costs it a page walk per frame, and
		 * its rate, not the device's, would set the figure. */
		closed.flows = rte_zmalloc("gen_flows",
			flows * sizeof(*closed.flows), RTE_CACHE_LINE_SIZE);
		closed.ready = rte_zmalloc("gen_ready",
			flows * sizeof(*closed.ready), RTE_CACHE_LINE_SIZE);
		if (closed.flows == NULL || closed.ready == NULL) {
			fprintf(stderr, "memif_gen: no memory for %" PRIu64 " flows\n",
				flows);
			return 1;
		}
		closed.head = closed.tail = flows;
		closed.start_tsc = (uint64_t)(ramp_start * hz);
		for (f = 0; f < flows; f++) {
			if (ramp_start == 0)
				closed_queue(&closed, flows, f);
			if (sessions[f % session_count].logged_on == 0) {
				closed.flows[f].under_way = 1;
				closed.under_way++;
			}
		}
		if (ramp_start == 0)
			closed.started = flows;
		closed.inverse = multiplier_inverse();
		closed.stall_tsc = (uint64_t)(stall_ms * hz / 1000);
		plan.closed = &closed;
	}
	plan.t_start = rte_get_tsc_cycles();
	/* Flows that start over -r seconds are all started before the
	 * window. */
	warmup = RTE_MAX(warmup, ramp_start);
	plan.t_warm = plan.t_start + (uint64_t)(warmup * hz);
	plan.ramp_up = ramp_limit >= 0;
	plan.t_ramp_limit = plan.t_start + (uint64_t)(RTE_MAX(ramp_limit,
		warmup) * hz);
	plan.window_tsc = (uint64_t)(seconds * hz);
	for (l = 0; l < lane_count; l++) {
		lanes[l].plan = &plan;
		lanes[l].index = l;
	}
	l = 1;
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(lane_run, &lanes[l++], lcore);
	lane_run(&lanes[0]);
	rte_eal_mp_wait_lcore();

	{
		double tx_rate = 0, rx_rate = 0, bit_rate = 0, window = 0;
		double warmed_after = 0;
		uint64_t tx = 0, rxn = 0, tx_port[GEN_PORTS] = { 0, 0 };
		uint64_t tx_full = 0, total_tx = 0, total_rx = 0;

		/* Each lane measured its own window: rates add up. */
		for (l = 0; l < lane_count; l++) {
			const struct gen_lane *lane = &lanes[l];
			uint64_t lt = 0, lr = 0;

			for (p = 0; p < GEN_PORTS; p++) {
				lt += lane->now.tx[p] - lane->start.tx[p];
				lr += lane->now.rx[p] - lane->start.rx[p];
				tx_port[p] += lane->now.tx[p] - lane->start.tx[p];
				total_tx += lane->now.tx[p];
				total_rx += lane->now.rx[p];
			}
			tx += lt;
			rxn += lr;
			tx_full += lane->now.tx_full - lane->start.tx_full;
			if (lane->window > 0) {
				tx_rate += lt / lane->window;
				rx_rate += lr / lane->window;
				bit_rate += 8.0 * (lane->now.rx_bytes -
					lane->start.rx_bytes) / lane->window;
			}
			window = RTE_MAX(window, lane->window);
			warmed_after = RTE_MAX(warmed_after,
				lane->warmed_after);
		}
		printf("memif_gen: %s, %" PRIu64 " flows, %.2f s: tx %.3f Mpps, rx %.3f Mpps (%.2f Gbit/s), "
			"%" PRIu64 " frames through, tx port0/port1 %" PRIu64 "/%" PRIu64 ", busy rings %" PRIu64 "\n",
			mode_names[mode], flows, window, tx_rate / 1e6,
			rx_rate / 1e6, bit_rate / 1e9, rxn,
			tx_port[0], tx_port[1], tx_full);
		if (queues > 1) {
			for (p = 0; p < GEN_PORTS; p++) {
				printf("memif_gen: port %u, %u queues (%s spread, %u lcores): tx", p,
					queues, spread == GEN_SPREAD_OWNER ? "owner" : "flow",
					lane_count);
				for (q = 0; q < queues; q++)
					printf("%s%" PRIu64, q ? "/" : " ",
						lanes[q % lane_count].queue_tx[p][q]);
				printf(", rx");
				for (q = 0; q < queues; q++)
					printf("%s%" PRIu64, q ? "/" : " ",
						lanes[q % lane_count].queue_rx[p][q]);
				printf("\n");
			}
		}
		if (closed_loop)
			printf("memif_gen: closed loop: %" PRIu64 " connections replayed to the end, %" PRIu64 " frames sent again (nothing back in %.0f ms), %" PRIu64 " flows stalled (reset and restarted after %d resends), %" PRIu64 " frames back that no flow waited for; window after %.2f s, %" PRIu64 " flows then past their logon\n",
				closed.connections, closed.resent, stall_ms,
				closed.stalled, GEN_RESENDS, closed.unmatched,
				warmed_after, lanes[0].under_way);
		printf("RESULT mode=%s flows=%" PRIu64 " seconds=%.3f tx_mpps=%.4f rx_mpps=%.4f rx_gbps=%.3f tx=%" PRIu64 " rx=%" PRIu64 " total_tx=%" PRIu64 " total_rx=%" PRIu64 " queues=%u lcores=%u spread=%s loop=%s resent=%" PRIu64 " stalled=%" PRIu64 " unmatched=%" PRIu64 " warmup_s=%.3f under_way=%" PRIu64 "\n",
			mode_names[mode], flows, window, tx_rate / 1e6,
			rx_rate / 1e6, bit_rate / 1e9, tx, rxn, total_tx,
			total_rx, queues, lane_count,
			spread == GEN_SPREAD_OWNER ? "owner" : "flow",
			closed_loop ? "closed" : "open", closed.resent,
			closed.stalled,
			closed.unmatched, warmed_after,
			closed_loop ? lanes[0].under_way : flows);
		fflush(stdout);
		ret = rxn > 0 ? 0 : 1;
	}
	/* Keep the links up, draining, until the device has reported. */
	t_end = rte_get_tsc_cycles() + (uint64_t)(linger * hz);
	while (!stop_requested && rte_get_tsc_cycles() < t_end) {
		for (p = 0; p < GEN_PORTS; p++) {
			for (q = 0; q < queues; q++) {
				uint16_t n = rte_eth_rx_burst(p, q, rx, GEN_BURST);

				if (n != 0)
					rte_pktmbuf_free_bulk(rx, n);
			}
		}
		rte_delay_us_sleep(100);
	}
	for (p = 0; p < GEN_PORTS; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_eal_cleanup();
	return ret;
}
