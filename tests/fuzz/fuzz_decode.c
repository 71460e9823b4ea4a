/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the L2-L4 decoder (dataplane/decode.c), the
 * tunnels it follows included: the input is one Ethernet frame, held in a
 * heap copy of exactly its size, so a read past its end is caught.
 * Checked on every run besides memory safety: a frame accepted has its
 * headers inside the bytes given (the IP header, the TCP or UDP header,
 * the outermost IP header before the innermost), a frame refused is
 * marked malformed and counted under exactly one reason, and decoding is
 * deterministic and the same with or without counters.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decoded_frame first, again;
	struct decode_counters counters;
	uint64_t by_reason = 0;
	uint8_t *frame;
	unsigned int r;
	int ret;

	if (size > UINT16_MAX)
		return 0;
	frame = malloc(size > 0 ? size : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data, size);
	memset(&counters, 0, sizeof(counters));
	ret = decode_frame(frame, (uint32_t)size, &first, &counters);
	for (r = 0; r < DECODE_MALFORMED_MAX; r++)
		by_reason += counters.malformed_by[r];
	if ((ret != 0) != first.malformed || (ret != 0 && ret != -EINVAL) ||
			counters.malformed != (ret != 0) ||
			by_reason != counters.malformed)
		abort();
	if (ret == 0 && (first.l3 == DECODE_L3_IPV4 ||
			first.l3 == DECODE_L3_IPV6)) {
		uint32_t ip_header = first.l3 == DECODE_L3_IPV4 ? 20 : 40;

		if ((uint32_t)first.l3_offset + ip_header > size)
			abort();
		if (first.tunnel != DECODE_TUNNEL_NONE &&
				(first.outer_l3_offset >= first.l3_offset ||
				first.tunnel_depth == 0 ||
				first.tunnel_depth > DECODE_TUNNEL_DEPTH_MAX))
			abort();
		if (!first.fragment && (first.l4_proto == IPPROTO_TCP ||
				first.l4_proto == IPPROTO_UDP) &&
				(first.l4_offset < first.l3_offset + ip_header ||
				first.payload_offset > size ||
				first.payload_offset < first.l4_offset + 8))
			abort();
	}
	if (decode_frame(frame, (uint32_t)size, &again, NULL) != ret ||
			memcmp(&first, &again, sizeof(first)) != 0)
		abort();
	free(frame);
	return 0;
}
