/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_RESET_H
#define SMBGW_RESET_H

/*
 * TCP resets the endpoints accept. When policy denies a connection, the
 * gateway drops the offending segment and resets both ends so that the
 * client fails at once instead of retransmitting into silence.
 *
 * Acceptance (RFC 793, RFC 5961): a RST is taken when its sequence number
 * is exactly the receiver's next expected one. The dropped segment tells
 * both: its sequence number is what the receiver expects next, and its
 * acknowledgement number is what its sender expects next. A reset in
 * answer to a SYN acknowledges the SYN instead.
 */

#include <stdbool.h>

#include "decode.h"

struct rte_mbuf;
struct rte_mempool;

enum reset_target {
	RESET_TO_RECEIVER,	/* as if from the sender, out the way it went */
	RESET_TO_SENDER,	/* as if from the receiver, back where it came from */
};

/*
 * Builds a RST for the TCP segment <trigger> (decoded into <frame>),
 * addressed to <target>, with the trigger's MAC addresses and VLAN tags
 * (swapped for RESET_TO_SENDER) and valid checksums. Returns the frame, or
 * NULL when <pool> is empty or <frame> is not a decodable TCP segment, or
 * one inside a tunnel (decode.h): a reset there would need the tunnel's
 * own headers, addressed between its ends, so a tunnelled connection is
 * refused by dropping alone.
 */
struct rte_mbuf *
reset_build(struct rte_mempool *pool, const struct rte_mbuf *trigger,
	const struct decoded_frame *frame, enum reset_target target);

#endif /* SMBGW_RESET_H */
