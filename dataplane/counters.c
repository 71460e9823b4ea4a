/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>

#include "counters.h"

static const char *const drop_reason_names[DROP_REASON_MAX] = {
	[DROP_TX_FULL] = "tx_full",
	[DROP_OVERSIZE] = "oversize",
	[DROP_RECEIVE_ONLY] = "receive_only",
	[DROP_STATE_FULL] = "state_full",
	[DROP_POLICY] = "policy",
	[DROP_BAD_CHECKSUM] = "bad_checksum",
	[DROP_STREAM] = "stream",
	[DROP_FRAG_REFUSED] = "frag_refused",
	[DROP_FRAG_INVALID] = "frag_invalid",
	[DROP_FRAG_INCOMPLETE] = "frag_incomplete",
	[DROP_FRAG_TABLE_FULL] = "frag_table_full",
	[DROP_FRAG_NO_BUFFER] = "frag_no_buffer",
	[DROP_REDIRECT_FULL] = "redirect_full",
	[DROP_REDIRECT_STOPPED] = "redirect_stopped",
};

const char *
drop_reason_name(enum drop_reason reason)
{
	if (reason >= DROP_REASON_MAX)
		return "unknown";
	return drop_reason_names[reason];
}

static const char *const decode_malformed_names[DECODE_MALFORMED_MAX] = {
	[DECODE_TRUNCATED_L2] = "truncated_l2",
	[DECODE_TRUNCATED_L3] = "truncated_l3",
	[DECODE_TRUNCATED_L4] = "truncated_l4",
	[DECODE_BAD_IP_VERSION] = "bad_ip_version",
	[DECODE_BAD_IP_HEADER_LENGTH] = "bad_ip_header_length",
	[DECODE_BAD_IP_TOTAL_LENGTH] = "bad_ip_total_length",
	[DECODE_BAD_TCP_OFFSET] = "bad_tcp_offset",
	[DECODE_BAD_IPV6_EXT_HEADER] = "bad_ipv6_ext_header",
};

const char *
decode_malformed_name(enum decode_malformed reason)
{
	if (reason >= DECODE_MALFORMED_MAX)
		return "unknown";
	return decode_malformed_names[reason];
}

uint64_t
port_counters_drops(const struct port_counters *port)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < DROP_REASON_MAX; i++)
		sum += port->drops[i];
	return sum;
}

bool
port_counters_balanced(const struct port_counters *port)
{
	return port->rx + port->redirected_in == port->tx +
		port_counters_drops(port) + port->reassembled + port->held +
		port->redirected_out;
}

/* The counter structs hold only uint64_t, so they add up as arrays. */
static void
add_u64_array(uint64_t *into, const uint64_t *from, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		into[i] += from[i];
}

void
worker_counters_add(struct worker_counters *into,
	const struct worker_counters *from)
{
	add_u64_array((uint64_t *)into, (const uint64_t *)from,
		sizeof(*into) / sizeof(uint64_t));
}
