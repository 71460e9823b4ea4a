/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_AFFINITY_H
#define SMBGW_AFFINITY_H

/*
 * Which worker owns a frame when the ports cannot spread connections over
 * their queues symmetrically (virtual ports without RSS: memif, af_packet,
 * whose fanout also rolls frames over to another socket when one ring is
 * full). The owner is taken from the IP address pair alone, symmetric in
 * source and destination, so that both directions of a connection, every
 * IP fragment of its datagrams (which carry no ports after the first),
 * and the dynamic-port DCE/RPC connection that follows an endpoint-mapper
 * answer between the same two hosts all reach one worker.
 *
 * DPDK-free, so it is unit-tested alone.
 */

#include <stdint.h>

/* Not an IP frame (ARP, LLDP, ...): stateless, handled where received. */
#define AFFINITY_ANY_WORKER	UINT32_MAX

/*
 * The symmetric hash of the address pair of the Ethernet frame <frame>
 * (<len> bytes, up to DECODE_VLAN_TAGS_MAX VLAN tags, as decode_frame()), or AFFINITY_ANY_WORKER when it is
 * not IPv4 or IPv6 or too short to carry both addresses.
 */
uint32_t
affinity_hash(const uint8_t *frame, uint32_t len);

/* The worker among <workers> that owns <hash> (not AFFINITY_ANY_WORKER). */
static inline unsigned int
affinity_worker(uint32_t hash, unsigned int workers)
{
	return (unsigned int)(((uint64_t)hash * workers) >> 32);
}

#endif /* SMBGW_AFFINITY_H */
