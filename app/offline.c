/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offline mode: frames from a capture file go through the same
 * worker_handle_burst() as live traffic, on a receive-only link, with the
 * capture's timestamps as the clock. EAL runs without hugepages or
 * devices, only to give the pipeline its mbufs.
 *
 * Classic pcap and pcapng files are mapped and each frame reaches the
 * worker as an mbuf over the mapped bytes, never copied; libpcap reads
 * everything else (older formats, pipes). Both readers give the same
 * frames and the same errors.
 *
 * The worker decodes Ethernet. A frame of another link type (Linux
 * cooked, BSD loopback, raw IP) has its link header replaced by a
 * synthetic Ethernet header, written over bytes of the file that belong
 * to no frame (or put before the copy), so the worker is the same for
 * every capture and for live ports.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "capture.h"
#include "config.h"
#include "flowlog.h"
#include "frag.h"
#include "endpoints.h"
#include "gateway.h"
#include "inspect.h"
#include "match.h"
#include "monitor.h"
#include "policy.h"
#include "report.h"
#include "stats.h"
#include "worker.h"

/* Frames in flight, beyond those the stream normaliser keeps (stream.segments). */
#define OFFLINE_MBUFS 4095
#define OFFLINE_FLOWLOG_ROWS (1u << 20)
/* As live ports by default, so large frames arrive as mbuf chains here too. */
#define OFFLINE_DATA_ROOM 2048
#define OFFLINE_BURST_MAX 256
/* Per-lcore cache of the mbufs lent over a mapped capture. */
#define OFFLINE_FRAMES_CACHE 256

/* Classic pcap, the format libpcap writes. */
#define CAPTURE_HEADER_LEN 24
#define CAPTURE_RECORD_HEADER_LEN 16
#define CAPTURE_MAGIC_USEC 0xa1b2c3d4u
#define CAPTURE_MAGIC_NSEC 0xa1b23c4du
/*
 * libpcap's MAXIMUM_SNAPLEN: a longer record in an Ethernet capture is
 * damage to it, whatever snapshot length the file header claims.
 */
#define CAPTURE_MAX_CAPLEN 262144u
/* For the message refusing a file of another link type. */
#define OFFLINE_LINK_TYPES \
	"Ethernet, LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4 and IPV6"
/*
 * Bytes ahead of the record being read that the mapped reader keeps
 * prefetched, every line of them: the next records' headers and the
 * frames the checksum and the parsers will read.
 */
#define MAPPED_PREFETCH_WINDOW 8192
/*
 * The pages of a file mapping, as the TLB maps them (x86-64 maps page
 * cache in 4 KiB pages): each one entering the window is read once.
 */
#define MAPPED_PAGE_SIZE 4096
/*
 * Lines asked for a step of the prefetch loop: four, so that the loop's
 * own count and page test run once for 256 bytes, not for every line. A
 * page holds a whole number of steps, so a step that starts a page is
 * the one that reads it first.
 */
#define MAPPED_PREFETCH_STEP (4 * RTE_CACHE_LINE_SIZE)

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
 * Copies <len> bytes into <head>, a fresh mbuf from <pool>, chaining more
 * mbufs from <pool> for what does not fit. Returns 0, or -ENOMEM when the
 * pool is empty; <head> is then left empty and still the caller's.
 */
static int
mbuf_fill_chain(struct rte_mempool *pool, struct rte_mbuf *head,
	const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *seg = head;
	uint32_t done = 0;

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
			rte_pktmbuf_free(head->next);
			head->next = NULL;
			head->nb_segs = 1;
			head->data_len = 0;
			return -ENOMEM;
		}
		seg = seg->next;
		head->nb_segs++;
	}
	head->pkt_len = len;
	return 0;
}

/*
 * Copies <len> bytes into a chain of mbufs from <pool>, after <prefix_len>
 * bytes of <prefix> (a synthetic Ethernet header, or none) placed in the
 * first mbuf's headroom. Returns the chain, or NULL when the pool is
 * empty.
 */
static struct rte_mbuf *
mbuf_from_bytes(struct rte_mempool *pool, const uint8_t *prefix,
	uint16_t prefix_len, const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool);

	if (head != NULL && mbuf_fill_chain(pool, head, data, len) != 0) {
		rte_pktmbuf_free(head);
		head = NULL;
	}
	if (head != NULL && prefix_len > 0)
		memcpy(rte_pktmbuf_prepend(head, prefix_len), prefix,
			prefix_len);
	return head;
}

/* Distinct link types listed in the summary; more are counted, not named. */
#define SUMMARY_LINKS_MAX 8

struct capture_summary {
	uint64_t packets;
	uint64_t bytes;
	uint64_t truncated;	/* recorded shorter than on the wire */
	uint64_t first_ns;
	uint64_t last_ns;
	/* Frames not given to the worker, and why. */
	uint64_t link_cut_short;	/* shorter than their link header */
	uint64_t link_not_read;		/* of a link type not read */
	uint32_t links[SUMMARY_LINKS_MAX];	/* seen, in order */
	unsigned int link_count;
	uint32_t last_link;	/* UINT32_MAX before the first frame */
};

static void
summary_note_link(struct capture_summary *summary, uint32_t link)
{
	unsigned int i;

	summary->last_link = link;
	for (i = 0; i < summary->link_count; i++)
		if (summary->links[i] == link)
			return;
	if (summary->link_count < SUMMARY_LINKS_MAX)
		summary->links[summary->link_count++] = link;
}

/*
 * Where a frame of link type <link> (<data>, <caplen> bytes) starts as an
 * Ethernet frame: returns the offset of its network layer, the EtherType
 * to put before it in <ethertype>, or -1 when the frame cannot be given
 * to the worker (counted in <summary>). Ethernet frames return 0 at once.
 */
static inline int
summary_link_l3(struct capture_summary *summary, uint32_t link,
	const uint8_t *data, uint32_t caplen, uint16_t *ethertype)
{
	int l3;

	if (likely(link == CAPTURE_LINK_ETHERNET))
		return 0;
	l3 = capture_link_l3(link, data, caplen, ethertype);
	if (l3 == -EINVAL)
		summary->link_cut_short++;
	else if (l3 < 0)
		summary->link_not_read++;
	return l3 < 0 ? -1 : l3;
}

static void
flowlog_take(void *log, const struct gw_event *ev)
{
	flowlog_add(log, ev);
}

/*
 * The link types seen, and the frames that could not be given to the
 * worker (always printed, so that a test can tell none were lost).
 */
static void
summary_print_links(const struct capture_summary *summary)
{
	unsigned int i;

	printf("link types:");
	for (i = 0; i < summary->link_count; i++) {
		const char *name = capture_link_name(summary->links[i]);

		if (name != NULL)
			printf(" %s", name);
		else
			printf(" %u", summary->links[i]);
	}
	printf("\n");
	printf("link drops: %" PRIu64 " (header cut short %" PRIu64
		", link type not read %" PRIu64 ")\n",
		summary->link_cut_short + summary->link_not_read,
		summary->link_cut_short, summary->link_not_read);
}

/* One burst through the worker, then what the control core does with it. */
static void
run_burst(struct worker *worker, struct rte_mbuf **pkts, uint16_t count,
	const uint64_t *ts_ns)
{
	worker_handle_burst(worker, 0, pkts, count, ts_ns);
	inspector_expire(worker->inspector, ts_ns[count - 1]);
}

/*
 * One frame of the capture as both readers see it. Returns true when the
 * capture recorded it shorter than it was sent (snap length).
 */
static inline bool
summary_count(struct capture_summary *summary, uint64_t ns, uint32_t caplen,
	uint32_t len)
{
	if (summary->packets == 0)
		summary->first_ns = ns;
	summary->last_ns = ns;
	summary->packets++;
	summary->bytes += caplen;
	if (likely(caplen >= len))
		return false;
	summary->truncated++;
	return true;
}

/*
 * Reads the records with libpcap, each frame copied into mbufs: for what
 * cannot be mapped. Returns 0, -ENOMEM when the pool runs out or -EIO when
 * the capture is damaged; frames before the damage have been processed.
 */
static int
replay_pcap(pcap_t *pcap, struct rte_mempool *pool, struct worker *worker,
	struct capture_summary *summary)
{
	struct rte_mbuf *pkts[OFFLINE_BURST_MAX];
	uint64_t ts_ns[OFFLINE_BURST_MAX];
	uint8_t ether[CAPTURE_ETHER_HEADER_LEN];
	uint32_t link = (uint32_t)pcap_datalink(pcap);
	uint64_t cut_flag = inspect_capture_cut_flag();
	uint16_t count = 0;
	struct pcap_pkthdr *header;
	const u_char *data;
	int ret;

	summary_note_link(summary, link);
	while ((ret = pcap_next_ex(pcap, &header, &data)) == 1) {
		/* Opened with nanosecond precision: tv_usec holds ns. */
		uint64_t ns = (uint64_t)header->ts.tv_sec * 1000000000ull +
			(uint64_t)header->ts.tv_usec;
		uint16_t ethertype = 0, prefix = 0;
		struct rte_mbuf *m;
		bool cut;
		int l3;

		cut = summary_count(summary, ns, header->caplen, header->len);
		l3 = summary_link_l3(summary, link, data, header->caplen,
			&ethertype);
		if (l3 < 0)
			continue;
		if (link != CAPTURE_LINK_ETHERNET) {
			capture_ethernet_header(ether, ethertype);
			prefix = sizeof(ether);
		}
		m = mbuf_from_bytes(pool, ether, prefix, data + l3,
			header->caplen - (uint32_t)l3);
		if (m == NULL) {
			fprintf(stderr, "smbgw: out of mbufs reading the capture\n");
			rte_pktmbuf_free_bulk(pkts, count);
			return -ENOMEM;
		}
		if (unlikely(cut))
			m->ol_flags |= cut_flag;
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

/*
 * A classic pcap or pcapng file mapped whole. libpcap has opened it and
 * checked its file header; the records are walked here, classic ones by
 * libpcap's rules, so that both readers give the same frames and the same
 * errors for any file. pcapng is read by dataplane/capture, which unlike
 * libpcap keeps a link type per interface.
 */
struct mapped_capture {
	uint8_t *base;		/* NULL until mapped */
	size_t size;
	size_t span;		/* mapped: the file's pages and a guard page */
	int fd;			/* libpcap's, open until pcap_close() */
	bool pcapng;
	bool swapped;		/* written in the other byte order */
	bool nanoseconds;	/* record timestamps in ns rather than us */
	uint32_t snapshot;	/* longer records are cut to it, as libpcap does */
	uint32_t link;		/* classic: the file's link type */
	size_t prefetched;	/* classic: offset prefetched up to */
	struct capture_pcapng ng;	/* pcapng: the reader */
	/*
	 * The mbufs lent to the worker over the mapped bytes: mbuf headers
	 * without a buffer of their own, in a pool of their own, which
	 * nothing else allocates from. Each is a direct mbuf whose buffer
	 * is set to its frame on every use, so the worker's free is the
	 * plain return to the pool that a live port's mbufs get (an mbuf
	 * attached to an external buffer is detached on free, about 100
	 * instructions a frame). The mapping goes only once all are back.
	 */
	struct rte_mempool *frames;
};

/*
 * Decides whether the file libpcap opened as <pcap> from <path> can be
 * mapped: a regular file in classic pcap format version 2.4 (older
 * versions and Kuznetzov's variant have other record layouts; libpcap
 * keeps those) or in pcapng. Fills <cap> and returns true if so;
 * otherwise <cap>'s fd is -1.
 */
static bool
mapped_capture_init(struct mapped_capture *cap, pcap_t *pcap,
	const char *path)
{
	uint8_t header[CAPTURE_HEADER_LEN];
	uint16_t major, minor;
	uint32_t magic;
	struct stat st;
	int fd;

	memset(cap, 0, sizeof(*cap));
	cap->fd = -1;
	/* To libpcap "-" is standard input, which may be a pipe. */
	if (strcmp(path, "-") == 0)
		return false;
	fd = fileno(pcap_file(pcap));
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
			st.st_size < CAPTURE_HEADER_LEN ||
			pread(fd, header, sizeof(header), 0) != sizeof(header))
		return false;
	cap->link = (uint32_t)pcap_datalink(pcap);
	if (capture_is_pcapng(header, sizeof(header))) {
		cap->pcapng = true;
		goto mappable;
	}
	memcpy(&magic, header, sizeof(magic));
	memcpy(&major, header + 4, sizeof(major));
	memcpy(&minor, header + 6, sizeof(minor));
	if (magic != CAPTURE_MAGIC_USEC && magic != CAPTURE_MAGIC_NSEC) {
		magic = rte_bswap32(magic);
		if (magic != CAPTURE_MAGIC_USEC && magic != CAPTURE_MAGIC_NSEC)
			return false;
		cap->swapped = true;
		major = rte_bswap16(major);
		minor = rte_bswap16(minor);
	}
	if (major != 2 || minor != 4)
		return false;
	cap->nanoseconds = magic == CAPTURE_MAGIC_NSEC;
mappable:
	cap->fd = fd;
	cap->size = (size_t)st.st_size;
	cap->snapshot = (uint32_t)pcap_snapshot(pcap);
	return true;
}

/*
 * A mapped file that shrinks while it is read (another program truncating
 * it) turns reads past its new end into SIGBUS. Within the mapping that is
 * damage to the input like any other: said in one line, exit 1, not a
 * crash. Only async-signal-safe calls here.
 */
static const uint8_t *mapped_fault_base;
static size_t mapped_fault_size;
static struct sigaction mapped_fault_previous;

static void
on_mapped_fault(int sig, siginfo_t *info, void *context)
{
	static const char message[] =
		"smbgw: reading the capture: the file shrank while it was being read\n";
	const uint8_t *addr = info->si_addr;

	(void)context;
	if (addr >= mapped_fault_base &&
			addr < mapped_fault_base + mapped_fault_size) {
		ssize_t ignored = write(STDERR_FILENO, message,
			sizeof(message) - 1);

		(void)ignored;
		_exit(EXIT_FAILURE);
	}
	/* Not ours: as if we had never caught it. */
	sigaction(sig, &mapped_fault_previous, NULL);
	raise(sig);
}

static void
mapped_fault_catch(const uint8_t *base, size_t size)
{
	struct sigaction action;

	mapped_fault_base = base;
	mapped_fault_size = size;
	memset(&action, 0, sizeof(action));
	action.sa_sigaction = on_mapped_fault;
	action.sa_flags = SA_SIGINFO;
	sigemptyset(&action.sa_mask);
	sigaction(SIGBUS, &action, &mapped_fault_previous);
}

static void
mapped_fault_release(void)
{
	sigaction(SIGBUS, &mapped_fault_previous, NULL);
	mapped_fault_base = NULL;
	mapped_fault_size = 0;
}

/*
 * Maps the file of <cap>, private and writable so that a write into a
 * frame copies its page rather than faulting or reaching the file.
 * Returns 0 or a negative errno.
 */
static int
mapped_capture_map(struct mapped_capture *cap)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *reserved, *base;
	int err;

	/*
	 * The file's pages, then a page that cannot be read: a read past the
	 * file's last page (the reader reads ahead of its record) faults
	 * instead of reading whatever mapping the kernel put next.
	 */
	cap->span = RTE_ALIGN_CEIL(cap->size, page) + page;
	reserved = mmap(NULL, cap->span, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (reserved == MAP_FAILED)
		return -errno;
	base = mmap(reserved, cap->size, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_FIXED, cap->fd, 0);
	if (base == MAP_FAILED) {
		err = errno;
		munmap(reserved, cap->span);
		return -err;
	}
	/*
	 * Read-ahead for a file not in the page cache; as fast as anything
	 * when it is. MAP_POPULATE would copy every page of a writable
	 * private mapping up front; MADV_POPULATE_READ and MADV_WILLNEED
	 * read a cold file in one blocking go, slower. Advice only: its
	 * failure changes nothing.
	 */
	madvise(base, cap->size, MADV_SEQUENTIAL);
	mapped_fault_catch(base, cap->size);
	cap->base = base;
	if (cap->pcapng) {
		char error[PCAP_ERRBUF_SIZE];

		/* libpcap has read the same header: a failure is not expected. */
		if (capture_pcapng_open(&cap->ng, base, cap->size, error,
				sizeof(error)) != 0) {
			mapped_fault_release();
			munmap(base, cap->span);
			cap->base = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Unmaps <cap> if it is mapped and no mbuf still points into it (that
 * would be a bug; the mapping then stays until exit).
 */
static void
mapped_capture_unmap(struct mapped_capture *cap)
{
	if (cap->base == NULL || (cap->frames != NULL &&
			!rte_mempool_full(cap->frames)))
		return;
	capture_pcapng_close(&cap->ng);
	mapped_fault_release();
	munmap(cap->base, cap->span);
	cap->base = NULL;
}

static inline uint32_t
mapped_u32(const struct mapped_capture *cap, const uint8_t *p)
{
	uint32_t value;

	memcpy(&value, p, sizeof(value));
	return cap->swapped ? rte_bswap32(value) : value;
}

/*
 * Reads the record at *<offset> into <rec> and moves *<offset> past it.
 * Returns 1 for a frame, 0 at the end of the file, or -EIO with libpcap's
 * words for the damage in <error>.
 */
static inline int
mapped_classic_next(struct mapped_capture *cap, size_t *offset,
	struct capture_record *rec, char *error, size_t error_len)
{
	size_t left = cap->size - *offset;
	const uint8_t *header = cap->base + *offset;
	size_t window_end = *offset + RTE_MIN(left,
		(size_t)MAPPED_PREFETCH_WINDOW);
	uint32_t caplen;
	int64_t sec, frac;

	if (left == 0)
		return 0;
	/*
	 * Where the next record starts is known only once this one is
	 * read, and the hardware prefetcher stops at page ends: each record
	 * header would be a miss the reader waits for, and each frame's
	 * lines misses for the checksum. Every line of a window ahead is
	 * asked for instead, once. A prefetch into a page the TLB does not
	 * hold yet may be dropped (it was, on this project's machines: the
	 * header load stayed the reader's main wait with every line
	 * prefetched), so the first line of each page entering the window
	 * is read, which brings the page's translation in for the
	 * prefetches after it (copy mix +5 %).
	 */
	if (cap->prefetched < *offset)
		cap->prefetched = *offset & ~(size_t)(MAPPED_PREFETCH_STEP - 1);
	/*
	 * The last step may ask for up to three lines past the window or
	 * the file: a prefetch never faults; the page read is always inside.
	 */
	for (; cap->prefetched < window_end;
			cap->prefetched += MAPPED_PREFETCH_STEP) {
		const uint8_t *line = cap->base + cap->prefetched;

		if ((cap->prefetched & (MAPPED_PAGE_SIZE - 1)) == 0)
			(void)*(volatile const uint8_t *)line;
		rte_prefetch0(line);
		rte_prefetch0(line + RTE_CACHE_LINE_SIZE);
		rte_prefetch0(line + 2 * RTE_CACHE_LINE_SIZE);
		rte_prefetch0(line + 3 * RTE_CACHE_LINE_SIZE);
	}
	if (left < CAPTURE_RECORD_HEADER_LEN) {
		snprintf(error, error_len,
			"truncated dump file; tried to read %u header bytes, only got %zu",
			CAPTURE_RECORD_HEADER_LEN, left);
		return -EIO;
	}
	left -= CAPTURE_RECORD_HEADER_LEN;
	/* Signed, as libpcap's struct pcap_timeval has them. */
	sec = (int32_t)mapped_u32(cap, header);
	frac = (int32_t)mapped_u32(cap, header + 4);
	caplen = mapped_u32(cap, header + 8);
	rec->len = mapped_u32(cap, header + 12);
	rec->ts_ns = (uint64_t)(sec * 1000000000 +
		(cap->nanoseconds ? frac : frac * 1000));
	rec->data = cap->base + *offset + CAPTURE_RECORD_HEADER_LEN;
	if (unlikely(caplen > CAPTURE_MAX_CAPLEN)) {
		/* The snapshot never exceeds the maximum: libpcap names it. */
		snprintf(error, error_len,
			"invalid packet capture length %u, bigger than snaplen of %u",
			caplen, cap->snapshot);
		return -EIO;
	}
	if (unlikely(caplen > left)) {
		/* libpcap reads up to its snapshot length first. */
		uint32_t first = RTE_MIN(caplen, cap->snapshot);

		snprintf(error, error_len,
			"truncated dump file; tried to read %u captured bytes, only got %zu",
			left < first ? first : caplen, left);
		return -EIO;
	}
	/* Longer than the file says it keeps: libpcap cuts it. */
	rec->caplen = RTE_MIN(caplen, cap->snapshot);
	rec->link = cap->link;
	rec->headroom = CAPTURE_RECORD_HEADER_LEN;
	*offset += CAPTURE_RECORD_HEADER_LEN + caplen;
	return 1;
}

/* As mapped_classic_next(), for either format. */
static inline int
mapped_capture_next(struct mapped_capture *cap, size_t *offset,
	struct capture_record *rec, char *error, size_t error_len)
{
	if (cap->pcapng)
		return capture_pcapng_next(&cap->ng, rec, error, error_len);
	return mapped_classic_next(cap, offset, rec, error, error_len);
}

/*
 * Makes <rec>, of a link type other than Ethernet, an Ethernet frame: its
 * link header is replaced by a synthetic one, written over the bytes
 * before its network layer (its own link header and the record's header,
 * which are no frame's; the mapping is private). Returns false, counted
 * in <summary>, when the frame cannot be given to the worker.
 */
static bool
mapped_record_to_ethernet(struct capture_record *rec,
	struct capture_summary *summary)
{
	uint16_t ethertype = 0;
	int l3 = summary_link_l3(summary, rec->link, rec->data, rec->caplen,
		&ethertype);

	if (l3 < 0)
		return false;
	/* Never short: record headers are 12 bytes or more, plus a trailer. */
	if ((uint32_t)l3 + rec->headroom < CAPTURE_ETHER_HEADER_LEN) {
		summary->link_not_read++;
		return false;
	}
	rec->data += l3 - CAPTURE_ETHER_HEADER_LEN;
	rec->caplen += CAPTURE_ETHER_HEADER_LEN - (uint32_t)l3;
	capture_ethernet_header(rec->data, ethertype);
	return true;
}

/*
 * Lends <m>, from the frames pool of a mapped capture, to the <len> bytes
 * of a frame at <data>: what rte_pktmbuf_attach_extbuf() would set, as a
 * direct mbuf (no external buffer to detach from on free).
 */
static inline void
mapped_frame_lend(struct rte_mbuf *m, uint8_t *data, uint16_t len)
{
	m->buf_addr = data;
	m->buf_iova = RTE_BAD_IOVA;
	m->buf_len = len;
	m->data_off = 0;
	m->data_len = len;
	m->pkt_len = len;
}

/*
 * Walks the records of <cap>, mapping the file first; every frame becomes
 * one mbuf lent over the mapped bytes (a chain of copies from <pool> if
 * longer than an mbuf can point at). Returns 0, -ENOMEM when a pool runs
 * out, -EIO when the capture is damaged (frames before the damage have
 * been processed), or -EAGAIN, with nothing read, when the file cannot be
 * mapped.
 */
static int
replay_mapped(struct mapped_capture *cap, struct rte_mempool *pool,
	struct worker *worker, struct capture_summary *summary)
{
	struct rte_mbuf *pkts[OFFLINE_BURST_MAX];
	uint64_t ts_ns[OFFLINE_BURST_MAX];
	uint16_t burst = worker->burst_size;
	uint64_t cut_flag = inspect_capture_cut_flag();
	size_t offset = CAPTURE_HEADER_LEN;
	char error[PCAP_ERRBUF_SIZE];
	struct capture_record rec;
	int ret = 1;

	if (cap->frames == NULL || mapped_capture_map(cap) != 0)
		return -EAGAIN;
	while (ret == 1) {
		uint16_t count = 0;

		if (rte_pktmbuf_alloc_bulk(cap->frames, pkts, burst) != 0) {
			fprintf(stderr, "smbgw: out of mbufs reading the capture\n");
			return -ENOMEM;
		}
		while (count < burst &&
				(ret = mapped_capture_next(cap, &offset, &rec,
					error, sizeof(error))) == 1) {
			struct rte_mbuf *m = pkts[count];
			bool cut = summary_count(summary, rec.ts_ns,
				rec.caplen, rec.len);

			if (unlikely(rec.link != summary->last_link))
				summary_note_link(summary, rec.link);
			if (unlikely(rec.link != CAPTURE_LINK_ETHERNET) &&
					!mapped_record_to_ethernet(&rec, summary))
				continue;
			if (likely(rec.caplen <= UINT16_MAX)) {
				mapped_frame_lend(m, rec.data,
					(uint16_t)rec.caplen);
			} else {
				/* A lent mbuf has no room to copy into. */
				struct rte_mbuf *copy = mbuf_from_bytes(pool,
					NULL, 0, rec.data, rec.caplen);

				if (copy == NULL) {
					ret = -ENOMEM;
					break;
				}
				rte_pktmbuf_free(m);
				pkts[count] = copy;
			}
			if (unlikely(cut))
				pkts[count]->ol_flags |= cut_flag;
			ts_ns[count++] = rec.ts_ns;
		}
		if (ret == -ENOMEM) {
			fprintf(stderr, "smbgw: out of mbufs reading the capture\n");
			rte_pktmbuf_free_bulk(pkts, burst);
			return -ENOMEM;
		}
		rte_pktmbuf_free_bulk(pkts + count, burst - count);
		if (count > 0)
			run_burst(worker, pkts, count, ts_ns);
	}
	/* The capture ends: every flow still open ends with it. */
	inspector_flush(worker->inspector);
	if (ret < 0) {
		fprintf(stderr, "smbgw: reading the capture: %s\n", error);
		return ret;
	}
	return 0;
}

/*
 * Feeds every frame of the capture to <worker>: mapped when <cap> says the
 * file allows it, else (or if mapping fails) through libpcap. Returns 0 or
 * a negative errno, the reason printed.
 */
static int
replay(pcap_t *pcap, struct mapped_capture *cap, struct rte_mempool *pool,
	struct worker *worker, struct capture_summary *summary)
{
	if (cap->fd >= 0) {
		int ret = replay_mapped(cap, pool, worker, summary);

		if (ret != -EAGAIN)
			return ret;
	}
	return replay_pcap(pcap, pool, worker, summary);
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
	struct mapped_capture capture = { .base = NULL, .frames = NULL };
	static struct worker worker;
	struct worker *workers[1] = { &worker };
	struct worker_counters *total = &worker.counters;
	const char *names[1] = { pcap_path };
	struct watchlist *watchlist;
	struct endpoint_registry *endpoints = NULL;
	struct monitor *monitor;
	struct policy_publisher *policy;
	struct rte_mempool *pool;
	struct flowlog *log;
	struct timespec start;
	uint64_t start_tsc, tsc_cycles;
	double elapsed;
	pcap_t *pcap;
	int status = EXIT_FAILURE;

	/* Nanoseconds whatever the file holds: none of its precision is lost. */
	pcap = pcap_open_offline_with_tstamp_precision(pcap_path,
		PCAP_TSTAMP_PRECISION_NANO, pcap_error);
	if (pcap == NULL) {
		fprintf(stderr, "smbgw: cannot read %s: %s\n", pcap_path,
			pcap_error);
		return EXIT_FAILURE;
	}
	/*
	 * A classic file has one link type; pcapng (major version 1 to
	 * libpcap) one per interface, checked frame by frame.
	 */
	if (pcap_major_version(pcap) != 1 &&
			!capture_link_supported((uint32_t)pcap_datalink(pcap))) {
		const char *name = pcap_datalink_val_to_name(
			pcap_datalink(pcap));

		fprintf(stderr,
			"smbgw: %s: link type %s%s%d%s is not read; offline mode reads %s\n",
			pcap_path, name != NULL ? name : "", name != NULL ? " (" : "",
			pcap_datalink(pcap), name != NULL ? ")" : "",
			OFFLINE_LINK_TYPES);
		goto close_pcap;
	}
	if (offline_eal_init() != 0)
		goto close_pcap;
	pool = rte_pktmbuf_pool_create("offline",
		OFFLINE_MBUFS + config_stream_segments(cfg), 0, 0,
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
	endpoints = gateway_endpoints_create(cfg, 1);
	worker.inspector = endpoints == NULL ? NULL :
		gateway_inspector_create(cfg, false, 0, NULL, watchlist,
			policy, pool, endpoints, flowlog_take, log);
	if (worker.inspector == NULL) {
		fprintf(stderr, "smbgw: cannot create the flow table (%u flows): %s\n",
			cfg->max_flows, strerror(errno));
		goto free_monitor;
	}
	inspector_online(worker.inspector);
	worker.port_flags = inspector_port_flags(worker.inspector);
	worker.links[0].pool = pool;
	if (gateway_fragments_create(cfg, &worker.links[0], SOCKET_ID_ANY,
			error, sizeof(error)) != 0) {
		fprintf(stderr, "smbgw: %s\n", error);
		goto free_inspector;
	}
	memset(&summary, 0, sizeof(summary));
	summary.last_link = UINT32_MAX;
	if (mapped_capture_init(&capture, pcap, pcap_path)) {
		/*
		 * As many as the copying pool holds (frames in flight and
		 * those the stream normaliser keeps); no data room, and a
		 * cache, as a port's receive pool has. Without it, libpcap
		 * reads the file.
		 */
		capture.frames = rte_pktmbuf_pool_create("offline-frames",
			pool->size, OFFLINE_FRAMES_CACHE, 0, 0, SOCKET_ID_ANY);
	}

	/* Mapping the file is reading it: it counts, as the records do. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	start_tsc = rte_rdtsc();
	if (replay(pcap, &capture, pool, &worker, &summary) != 0)
		goto free_inspector;
	/* Fragments of datagrams the capture never completed. */
	worker_flush_fragments(&worker);
	elapsed = seconds_since(&start);
	tsc_cycles = rte_rdtsc() - start_tsc;

	printf("== capture %s ==\n", pcap_path);
	printf("packets: %" PRIu64 "\n", summary.packets);
	printf("bytes: %" PRIu64 "\n", summary.bytes);
	printf("truncated: %" PRIu64 "\n", summary.truncated);
	summary_print_links(&summary);
	printf("capture span: %.6f s\n", summary.packets == 0 ? 0.0 :
		(double)(summary.last_ns - summary.first_ns) / 1e9);
	/*
	 * Cycles a frame as the live counters count them (the TSC's), so that
	 * a figure from a machine of another clock can be compared.
	 */
	printf("processing: %.6f s (%.2f Mpps, %.0f cycles a frame at %.0f MHz)\n",
		elapsed,
		elapsed > 0 ? (double)summary.packets / elapsed / 1e6 : 0.0,
		summary.packets > 0 ? (double)tsc_cycles / summary.packets : 0.0,
		(double)rte_get_tsc_hz() / 1e6);
	if (stats_print(stdout, "counters", total, names, 1))
		status = EXIT_SUCCESS;
	stats_print_inspection(stdout, workers, 1, watchlist,
		flowlog_counters(log));
	flowlog_print(log, stdout);
	/* Offline, one stats record: the whole capture's. */
	if (cfg->output.stats_interval != 0)
		stats_write_eve(monitor, summary.last_ns,
			(summary.last_ns - summary.first_ns) / 1000000000ull,
			workers, 1, 1);
	monitor_finish(monitor);
	monitor_print_alerts(monitor, stdout);
	printf("== SMB traffic allowed (report) ==\n");
	report_write_csv(monitor_report(monitor), stdout, REPORT_ALL_DAYS);

free_inspector:
	inspector_offline(worker.inspector);
	inspector_free(worker.inspector);
	frag_table_free(worker.links[0].frag, &total->port[0]);
	/* After the last mbuf that might point into it. */
	mapped_capture_unmap(&capture);
	if (capture.base == NULL)
		rte_mempool_free(capture.frames);
free_monitor:
	endpoint_registry_free(endpoints);
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
