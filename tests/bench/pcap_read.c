/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Baseline for the offline benchmark: reads a capture with libpcap the way
 * `smbgw -r` does (pcap_next_ex, each frame copied out of libpcap's buffer
 * and its bytes summed so nothing is optimised away) and does nothing else.
 * Prints "processing: X s (Y Mpps)" like smbgw, start-up excluded.
 *
 * usage: pcap_read FILE.pcap
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

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

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_read FILE.pcap\n");
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
	elapsed = (double)(end.tv_sec - start.tv_sec) +
		(double)(end.tv_nsec - start.tv_nsec) / 1e9;
	printf("packets: %" PRIu64 "\nbytes: %" PRIu64 "\nchecksum: %" PRIu64 "\n",
		packets, bytes, sum);
	printf("processing: %.6f s (%.2f Mpps)\n", elapsed,
		elapsed > 0 ? (double)packets / elapsed / 1e6 : 0.0);
	return EXIT_SUCCESS;
}
