/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Baselines for the offline benchmark, start-up excluded, each printing
 * "processing: X s (Y Mpps)" like smbgw:
 *
 * - read (default): reads a capture with libpcap the way a libpcap-based
 *   analyser does (pcap_next_ex, each frame copied out of libpcap's buffer
 *   and its bytes summed so nothing is optimised away), nothing else.
 * - --map: maps a classic pcap file, as `smbgw -r` does, and adds up every
 *   byte of every frame once, nothing else: the least any analyser pays
 *   that reads each frame's bytes once (a TCP checksum does), the page
 *   faults of the mapping included.
 *
 * usage: pcap_read [--map] FILE.pcap
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#define PCAP_FILE_HEADER_LEN	24
#define PCAP_RECORD_HEADER_LEN	16

static double
seconds_between(const struct timespec *start, const struct timespec *end)
{
	return (double)(end->tv_sec - start->tv_sec) +
		(double)(end->tv_nsec - start->tv_nsec) / 1e9;
}

static void
print_result(uint64_t packets, uint64_t bytes, uint64_t sum, double elapsed)
{
	printf("packets: %" PRIu64 "\nbytes: %" PRIu64 "\nchecksum: %" PRIu64 "\n",
		packets, bytes, sum);
	printf("processing: %.6f s (%.2f Mpps)\n", elapsed,
		elapsed > 0 ? (double)packets / elapsed / 1e6 : 0.0);
}

/*
 * Every byte of <len> at <p> added up, 32 bytes a step in vector words
 * (AVX2 where the build targets it), so that the floor is set by reading
 * the bytes and not by the adding.
 */
typedef uint64_t sum_vector __attribute__((vector_size(32)));

static uint64_t
sum_bytes(const uint8_t *p, uint32_t len)
{
	sum_vector acc = { 0, 0, 0, 0 }, word;
	uint64_t sum, tail;
	uint32_t i;

	for (i = 0; i + 32 <= len; i += 32) {
		memcpy(&word, p + i, 32);
		acc += word;
	}
	sum = acc[0] + acc[1] + acc[2] + acc[3];
	for (; i + 8 <= len; i += 8) {
		memcpy(&tail, p + i, 8);
		sum += tail;
	}
	for (; i < len; i++)
		sum += p[i];
	return sum;
}

static uint32_t
load_u32(const uint8_t *p, int swapped)
{
	uint32_t value;

	memcpy(&value, p, 4);
	return swapped ? __builtin_bswap32(value) : value;
}

/* --map: the mapped file's frames, each byte read once. */
static int
map_read(const char *path)
{
	struct timespec start, end;
	uint64_t packets = 0, bytes = 0, sum = 0;
	const uint8_t *base;
	size_t size, offset;
	struct stat st;
	uint32_t magic;
	int fd, swapped;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(path);
		return EXIT_FAILURE;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "pcap_read: %s: not a regular file\n", path);
		return EXIT_FAILURE;
	}
	size = (size_t)st.st_size;
	if (size < PCAP_FILE_HEADER_LEN) {
		fprintf(stderr, "pcap_read: %s: not a classic pcap file\n", path);
		return EXIT_FAILURE;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED) {
		perror(path);
		return EXIT_FAILURE;
	}
	madvise((void *)base, size, MADV_SEQUENTIAL);
	memcpy(&magic, base, 4);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		swapped = 0;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		swapped = 1;
	else {
		fprintf(stderr, "pcap_read: %s: --map reads classic pcap files only\n",
			path);
		return EXIT_FAILURE;
	}
	for (offset = PCAP_FILE_HEADER_LEN;
			size - offset >= PCAP_RECORD_HEADER_LEN;) {
		uint32_t caplen = load_u32(base + offset + 8, swapped);

		offset += PCAP_RECORD_HEADER_LEN;
		if (caplen > size - offset) {
			fprintf(stderr, "pcap_read: %s: cut short in a record\n",
				path);
			return EXIT_FAILURE;
		}
		sum += sum_bytes(base + offset, caplen);
		offset += caplen;
		packets++;
		bytes += caplen;
	}
	if (offset != size) {
		fprintf(stderr, "pcap_read: %s: cut short in a record header\n",
			path);
		return EXIT_FAILURE;
	}
	munmap((void *)base, size);
	clock_gettime(CLOCK_MONOTONIC, &end);
	close(fd);
	print_result(packets, bytes, sum, seconds_between(&start, &end));
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	static uint8_t frame[65536];
	char error[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *header;
	const u_char *data;
	struct timespec start, end;
	uint64_t packets = 0, bytes = 0, sum = 0;
	double elapsed;
	pcap_t *pcap;
	int ret;

	if (argc == 3 && strcmp(argv[1], "--map") == 0)
		return map_read(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: pcap_read [--map] FILE.pcap\n");
		return EXIT_FAILURE;
	}
	pcap = pcap_open_offline(argv[1], error);
	if (pcap == NULL) {
		fprintf(stderr, "pcap_read: %s: %s\n", argv[1], error);
		return EXIT_FAILURE;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while ((ret = pcap_next_ex(pcap, &header, &data)) == 1) {
		uint32_t len = header->caplen < sizeof(frame) ?
			header->caplen : sizeof(frame);

		memcpy(frame, data, len);
		sum += frame[0] + frame[len > 0 ? len - 1 : 0];
		packets++;
		bytes += len;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (ret == -1) {
		fprintf(stderr, "pcap_read: %s\n", pcap_geterr(pcap));
		pcap_close(pcap);
		return EXIT_FAILURE;
	}
	pcap_close(pcap);
	elapsed = seconds_between(&start, &end);
	print_result(packets, bytes, sum, elapsed);
	return EXIT_SUCCESS;
}
