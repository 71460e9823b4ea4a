/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * impair: a two-port Ethernet forwarder that impairs one direction the way
 * the netem qdisc does, for kernels built without sch_netem. Frames read
 * from IN are delayed, reordered, lost or duplicated and written to OUT;
 * frames read from OUT go back to IN untouched. The e2e tests put it
 * between a host's link and its switch uplink, which then behaves like
 * "tc qdisc add dev eth0 root netem delay D reorder R C loss L duplicate P"
 * on the host.
 *
 * What netem does, and so what this does (net/sched/sch_netem.c):
 * - a frame is duplicated with probability P: the copy goes through the
 *   same decisions of its own;
 * - it is lost with probability L;
 * - it is sent at once ("reordered", ahead of the frames still held) with
 *   probability R, correlated by C with the previous decision (gap 1);
 *   otherwise it is held for D;
 * - at most LIMIT frames are held; more are dropped (netem's limit,
 *   default 1000).
 *
 * usage: impair IN OUT [-d DELAY_MS] [-r REORDER_PCT] [-c CORRELATION_PCT]
 *                      [-l LOSS_PCT] [-p DUPLICATE_PCT] [-n LIMIT] [-s SEED]
 * Runs until SIGTERM or SIGINT, then prints its counters on one line.
 * Exit: 0 after a signal, 1 on a socket error, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

/* Larger than any frame of a 1500-byte MTU link with a VLAN tag. */
#define IMPAIR_FRAME_MAX 2048
/* Frames read from one socket before the other gets its turn. */
#define IMPAIR_BURST 64
#define IMPAIR_LIMIT_DEFAULT 1000
#define IMPAIR_LIMIT_MAX 65536

struct impair_frame {
	uint64_t due_ns;
	uint16_t len;
	uint8_t data[IMPAIR_FRAME_MAX];
};

/* netem's correlated random numbers: 32-bit fractions, rho the weight of the last value. */
struct impair_crandom {
	uint32_t rho;
	uint32_t last;
};

struct impair_params {
	uint64_t delay_ns;
	uint32_t reorder;	/* probabilities as fractions of 2^32 - 1 */
	uint32_t loss;
	uint32_t duplicate;
	struct impair_crandom reorder_cor;
	unsigned int limit;
};

struct impair_counters {
	uint64_t in;		/* frames read from IN */
	uint64_t back;		/* frames read from OUT and sent to IN */
	uint64_t sent;		/* frames written to OUT */
	uint64_t held;		/* of them, held for the delay */
	uint64_t reordered;	/* of them, sent ahead of the held ones */
	uint64_t lost;
	uint64_t duplicated;
	uint64_t over_limit;
	uint64_t truncated;	/* larger than IMPAIR_FRAME_MAX, dropped */
	uint64_t send_errors;
};

/* The held frames, in due order (the delay is constant): a ring. */
struct impair_queue {
	struct impair_frame *frames;
	unsigned int size;
	unsigned int head;
	unsigned int count;
};

static volatile sig_atomic_t stop_requested;
static uint64_t prng_state;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast, and reproducible from a seed. */
static uint32_t
prng_u32(void)
{
	prng_state ^= prng_state >> 12;
	prng_state ^= prng_state << 25;
	prng_state ^= prng_state >> 27;
	return (uint32_t)((prng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* As netem's get_crandom(): without correlation a fresh value. */
static uint32_t
crandom(struct impair_crandom *state)
{
	uint64_t value = prng_u32();

	if (state == NULL || state->rho == 0)
		return (uint32_t)value;
	value = (value * ((1ull << 32) - state->rho) +
		(uint64_t)state->last * state->rho) >> 32;
	state->last = (uint32_t)value;
	return (uint32_t)value;
}

/* A percentage (0..100, decimals allowed) as a fraction of 2^32 - 1; -1 if invalid. */
static int
parse_percent(const char *text, uint32_t *out)
{
	char *end;
	double pct;

	errno = 0;
	pct = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || pct < 0.0 || pct > 100.0)
		return -1;
	*out = (uint32_t)(pct / 100.0 * 4294967295.0);
	return 0;
}

/*
 * Opens a raw socket on interface <name> that receives every frame arriving
 * there (promiscuous) but none it sent itself. Returns the socket, or -1
 * with a message on stderr.
 */
static int
open_port(const char *name)
{
	struct sockaddr_ll addr;
	struct packet_mreq mreq;
	unsigned int ifindex;
	int fd, one = 1;

	ifindex = if_nametoindex(name);
	if (ifindex == 0) {
		fprintf(stderr, "impair: no interface %s: %s\n", name, strerror(errno));
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		fprintf(stderr, "impair: socket: %s\n", strerror(errno));
		return -1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sll_family = AF_PACKET;
	addr.sll_protocol = htons(ETH_P_ALL);
	addr.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "impair: bind to %s: %s\n", name, strerror(errno));
		goto close_fd;
	}
	memset(&mreq, 0, sizeof(mreq));
	mreq.mr_ifindex = (int)ifindex;
	mreq.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
		fprintf(stderr, "impair: promiscuous %s: %s\n", name, strerror(errno));
		goto close_fd;
	}
	/* Without it each frame we send would come back to us from this socket. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0) {
		fprintf(stderr, "impair: PACKET_IGNORE_OUTGOING on %s: %s\n", name,
			strerror(errno));
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return -1;
}

/*
 * Reads one frame from <fd> into <buf>. Returns its length, 0 if there is
 * none (or it was one of ours going out), or -1 on an error. A frame larger
 * than IMPAIR_FRAME_MAX is counted and dropped (returns 0).
 */
static ssize_t
read_frame(int fd, uint8_t *buf, struct impair_counters *c)
{
	struct sockaddr_ll from;
	socklen_t from_len = sizeof(from);
	ssize_t len;

	len = recvfrom(fd, buf, IMPAIR_FRAME_MAX, MSG_TRUNC,
		(struct sockaddr *)&from, &from_len);
	if (len < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
	if (from.sll_pkttype == PACKET_OUTGOING)
		return 0;
	if (len > IMPAIR_FRAME_MAX) {
		c->truncated++;
		return 0;
	}
	return len;
}

static void
write_frame(int fd, const uint8_t *buf, size_t len, uint64_t *sent,
	struct impair_counters *c)
{
	if (send(fd, buf, len, 0) == (ssize_t)len)
		(*sent)++;
	else
		c->send_errors++;
}

/* One copy of a frame from IN, after the loss and duplication decisions. */
static void
delay_or_reorder(const struct impair_params *p, struct impair_crandom *reorder_cor,
	struct impair_queue *q, int out_fd, const uint8_t *buf, size_t len,
	uint64_t now, struct impair_counters *c)
{
	struct impair_frame *f;

	/* netem with gap 1: a frame is reordered when the draw is below R. */
	if (p->delay_ns != 0 && p->reorder != 0 && crandom(reorder_cor) < p->reorder) {
		write_frame(out_fd, buf, len, &c->sent, c);
		c->reordered++;
		return;
	}
	if (p->delay_ns == 0) {
		write_frame(out_fd, buf, len, &c->sent, c);
		return;
	}
	if (q->count >= p->limit) {
		c->over_limit++;
		return;
	}
	f = &q->frames[(q->head + q->count) % q->size];
	f->due_ns = now + p->delay_ns;
	f->len = (uint16_t)len;
	memcpy(f->data, buf, len);
	q->count++;
	c->held++;
}

static void
impair_frame(const struct impair_params *p, struct impair_crandom *reorder_cor,
	struct impair_queue *q, int out_fd, const uint8_t *buf, size_t len,
	uint64_t now, struct impair_counters *c)
{
	int copies = 1;

	if (p->duplicate != 0 && crandom(NULL) < p->duplicate)
		copies++;
	if (p->loss != 0 && crandom(NULL) < p->loss)
		copies--;
	if (copies == 0) {
		c->lost++;
		return;
	}
	if (copies > 1) {
		c->duplicated++;
		delay_or_reorder(p, reorder_cor, q, out_fd, buf, len, now, c);
	}
	delay_or_reorder(p, reorder_cor, q, out_fd, buf, len, now, c);
}

/* Sends every held frame that is due; returns the time the next one is, or 0. */
static uint64_t
release_due(struct impair_queue *q, int out_fd, uint64_t now,
	struct impair_counters *c)
{
	while (q->count > 0) {
		struct impair_frame *f = &q->frames[q->head];

		if (f->due_ns > now)
			return f->due_ns;
		write_frame(out_fd, f->data, f->len, &c->sent, c);
		q->head = (q->head + 1) % q->size;
		q->count--;
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: impair IN OUT [-d DELAY_MS] [-r REORDER_PCT] [-c CORRELATION_PCT]\n"
		"                     [-l LOSS_PCT] [-p DUPLICATE_PCT] [-n LIMIT] [-s SEED]\n"
		"Forwards frames between interfaces IN and OUT; those from IN to OUT are\n"
		"impaired as by netem delay DELAY_MS reorder REORDER_PCT CORRELATION_PCT\n"
		"loss LOSS_PCT duplicate DUPLICATE_PCT limit LIMIT (default limit %d).\n",
		IMPAIR_LIMIT_DEFAULT);
}

static int
parse_args(int argc, char **argv, struct impair_params *p)
{
	char *end;
	long value;
	int opt;

	memset(p, 0, sizeof(*p));
	p->limit = IMPAIR_LIMIT_DEFAULT;
	prng_state = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
	while ((opt = getopt(argc, argv, "d:r:c:l:p:n:s:h")) != -1) {
		switch (opt) {
		case 'd':
			errno = 0;
			value = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || value < 0 || value > 10000)
				return -1;
			p->delay_ns = (uint64_t)value * 1000000ull;
			break;
		case 'r':
			if (parse_percent(optarg, &p->reorder) != 0)
				return -1;
			break;
		case 'c':
			if (parse_percent(optarg, &p->reorder_cor.rho) != 0)
				return -1;
			break;
		case 'l':
			if (parse_percent(optarg, &p->loss) != 0)
				return -1;
			break;
		case 'p':
			if (parse_percent(optarg, &p->duplicate) != 0)
				return -1;
			break;
		case 'n':
			errno = 0;
			value = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || value < 1 || value > IMPAIR_LIMIT_MAX)
				return -1;
			p->limit = (unsigned int)value;
			break;
		case 's':
			errno = 0;
			prng_state = strtoull(optarg, &end, 0);
			if (errno != 0 || *end != '\0')
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (prng_state == 0)
		prng_state = 1;	/* xorshift stays at 0 forever */
	return argc - optind == 2 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static uint8_t buf[IMPAIR_FRAME_MAX];
	struct impair_counters c = { 0 };
	struct impair_queue q = { 0 };
	struct impair_params p;
	struct sigaction sa;
	struct pollfd fds[2];
	int in_fd, out_fd, status = 1;

	if (parse_args(argc, argv, &p) != 0) {
		usage(stderr);
		return 2;
	}
	q.size = p.limit;
	q.frames = calloc(q.size, sizeof(*q.frames));
	if (q.frames == NULL) {
		fprintf(stderr, "impair: no memory for %u frames\n", q.size);
		return 1;
	}
	in_fd = open_port(argv[optind]);
	if (in_fd < 0)
		goto free_queue;
	out_fd = open_port(argv[optind + 1]);
	if (out_fd < 0)
		goto close_in;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fds[0].fd = in_fd;
	fds[0].events = POLLIN;
	fds[1].fd = out_fd;
	fds[1].events = POLLIN;

	while (!stop_requested) {
		uint64_t now = now_ns(), next;
		struct timespec wait = { 0, 50000000 };	/* checks the signal flag */
		ssize_t len;
		int i;

		for (i = 0; i < IMPAIR_BURST; i++) {
			len = read_frame(in_fd, buf, &c);
			if (len <= 0)
				break;
			c.in++;
			impair_frame(&p, &p.reorder_cor, &q, out_fd, buf, (size_t)len, now, &c);
		}
		if (len < 0) {
			fprintf(stderr, "impair: receive on %s: %s\n", argv[optind], strerror(errno));
			break;
		}
		for (i = 0; i < IMPAIR_BURST; i++) {
			len = read_frame(out_fd, buf, &c);
			if (len <= 0)
				break;
			write_frame(in_fd, buf, (size_t)len, &c.back, &c);
		}
		if (len < 0) {
			fprintf(stderr, "impair: receive on %s: %s\n", argv[optind + 1], strerror(errno));
			break;
		}
		now = now_ns();
		next = release_due(&q, out_fd, now, &c);
		if (next != 0 && next - now < 50000000ull) {
			wait.tv_sec = 0;
			wait.tv_nsec = (long)(next - now);
		}
		if (ppoll(fds, 2, &wait, NULL) < 0 && errno != EINTR) {
			fprintf(stderr, "impair: poll: %s\n", strerror(errno));
			break;
		}
	}
	if (stop_requested)
		status = 0;
	printf("impair %s -> %s: in %" PRIu64 " sent %" PRIu64 " held %" PRIu64
		" reordered %" PRIu64 " lost %" PRIu64 " duplicated %" PRIu64
		" over_limit %" PRIu64 " truncated %" PRIu64 " send_errors %" PRIu64
		" back %" PRIu64 "\n",
		argv[optind], argv[optind + 1], c.in, c.sent, c.held, c.reordered,
		c.lost, c.duplicated, c.over_limit, c.truncated, c.send_errors, c.back);
	fflush(stdout);
	close(out_fd);
close_in:
	close(in_fd);
free_queue:
	free(q.frames);
	return status;
}
