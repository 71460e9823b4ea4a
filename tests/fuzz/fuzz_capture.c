/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the capture reader (dataplane/capture): the input
 * is a pcapng file. Every frame is taken as offline mode takes it: its
 * link header found and a synthetic Ethernet header written before its
 * network layer, over the bytes the reader says belong to no frame.
 * Checked on every run, besides memory safety (the file is a heap copy of
 * exactly its size, so a read or write past either end is caught): every
 * frame lies inside the file and after its headroom, and the synthetic
 * header never overlaps the frame's network layer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

/* Frames read per input, so that a file of tiny blocks cannot time out. */
#define FRAMES_MAX 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capture_pcapng ng;
	struct capture_record rec;
	char error[256];
	uint8_t *file;
	unsigned int frames = 0;
	int ret;

	file = malloc(size ? size : 1);
	if (file == NULL)
		return 0;
	memcpy(file, data, size);
	if (capture_pcapng_open(&ng, file, size, error, sizeof(error)) != 0) {
		if (error[0] == '\0')
			abort();
		free(file);
		return 0;
	}
	while (frames++ < FRAMES_MAX &&
			(ret = capture_pcapng_next(&ng, &rec, error,
			sizeof(error))) == 1) {
		uint16_t ethertype = 0;
		int l3;

		if (rec.data < file + rec.headroom ||
				rec.data > file + size ||
				rec.caplen > (size_t)(file + size - rec.data))
			abort();
		l3 = capture_link_l3(rec.link, rec.data, rec.caplen,
			&ethertype);
		if (l3 == -EINVAL || l3 == -EPROTONOSUPPORT)
			continue;
		if (l3 < 0 || (uint32_t)l3 > rec.caplen ||
				(uint32_t)l3 + rec.headroom <
				CAPTURE_ETHER_HEADER_LEN)
			abort();
		if (rec.link != CAPTURE_LINK_ETHERNET)
			capture_ethernet_header(rec.data + l3 -
				CAPTURE_ETHER_HEADER_LEN, ethertype);
	}
	capture_pcapng_close(&ng);
	free(file);
	return 0;
}
