/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CAPTURE_H
#define SMBGW_CAPTURE_H

/*
 * Reading capture files for offline mode, from bytes in memory (no DPDK,
 * no libpcap): the link layers offline mode accepts, and the pcapng
 * format, whose interfaces may each have their own link type.
 *
 * The worker decodes Ethernet only. A frame of another link type is given
 * to it with its link header replaced by a synthetic Ethernet header
 * (zero addresses, the EtherType the link header names), so that live
 * ports and Ethernet captures keep the same decoder and the same cost.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types by their number in capture files (LINKTYPE_*). */
#define CAPTURE_LINK_NULL	0	/* BSD loopback, host byte order */
#define CAPTURE_LINK_ETHERNET	1
#define CAPTURE_LINK_RAW_OLD	12	/* libpcap's DLT_RAW on Linux */
#define CAPTURE_LINK_RAW_BSD	14	/* DLT_RAW on some BSDs */
#define CAPTURE_LINK_RAW	101	/* raw IPv4 or IPv6 */
#define CAPTURE_LINK_LOOP	108	/* OpenBSD loopback, network order */
#define CAPTURE_LINK_LINUX_SLL	113	/* Linux cooked, tcpdump -i any */
#define CAPTURE_LINK_IPV4	228
#define CAPTURE_LINK_IPV6	229
#define CAPTURE_LINK_LINUX_SLL2	276	/* Linux cooked v2 */

#define CAPTURE_ETHER_HEADER_LEN 14

/* True if frames of link type <link> can be read. */
bool
capture_link_supported(uint32_t link);

/* A short name for <link> ("EN10MB", "LINUX_SLL2", ...), or NULL if unknown. */
const char *
capture_link_name(uint32_t link);

/*
 * Finds where the network layer starts in the frame <frame> of <len>
 * bytes of link type <link>, and which EtherType it is (0 when the link
 * header names no EtherType: such a frame is decoded as "other L3").
 * Returns the offset of the network layer (0 for raw IP), -EINVAL when
 * the frame is shorter than its link header, or -EPROTONOSUPPORT for a
 * link type that is not read. For Ethernet it returns 0 and sets nothing:
 * the frame is given as it is.
 */
int
capture_link_l3(uint32_t link, const uint8_t *frame, uint32_t len,
	uint16_t *ethertype);

/* Writes a synthetic Ethernet header carrying <ethertype> to <out>. */
void
capture_ethernet_header(uint8_t *out, uint16_t ethertype);

/* One frame of a capture file. */
struct capture_record {
	uint8_t *data;
	uint32_t caplen;	/* bytes at <data> */
	uint32_t len;		/* bytes on the wire */
	uint64_t ts_ns;		/* since the epoch */
	uint32_t link;		/* link type of the frame's interface */
	/*
	 * Bytes just before <data> that belong to no frame (block headers,
	 * the previous block's trailer): a synthetic Ethernet header may be
	 * written over them.
	 */
	uint32_t headroom;
};

/* A pcapng interface (Interface Description Block). */
struct capture_interface {
	uint32_t link;
	uint32_t snaplen;	/* 0: none */
	/* Timestamp units: 10^-exp seconds, or 2^-exp if binary. */
	uint8_t tsresol_exp;
	bool tsresol_binary;
	int64_t tsoffset;	/* seconds added to every timestamp */
};

/*
 * The longest frame read (libpcap's MAXIMUM_SNAPLEN): a longer one is
 * damage to the file.
 */
#define CAPTURE_CAPLEN_MAX 262144u

/* Interfaces one pcapng section may describe before the file is refused. */
#define CAPTURE_INTERFACES_MAX 65536

/*
 * A pcapng file in memory, read block by block. Every length is checked
 * against the bytes there are; unknown block types are skipped as the
 * format says. Fill with capture_pcapng_open(), free with
 * capture_pcapng_close().
 */
struct capture_pcapng {
	uint8_t *base;
	size_t size;
	size_t offset;		/* of the next block */
	bool swapped;		/* section in the other byte order */
	uint32_t interface_count;
	uint32_t interface_room;
	struct capture_interface *interfaces;
	uint64_t blocks_skipped;	/* of types that carry no frame */
};

/*
 * True if <base> (<size> bytes) starts like a pcapng file (a Section
 * Header Block's type).
 */
bool
capture_is_pcapng(const uint8_t *base, size_t size);

/*
 * Prepares <ng> to read the pcapng file at <base> of <size> bytes, which
 * stays the caller's and must outlive <ng>. Returns 0, or -EINVAL with the
 * reason in <error> when it does not start with a valid Section Header
 * Block.
 */
int
capture_pcapng_open(struct capture_pcapng *ng, uint8_t *base, size_t size,
	char *error, size_t error_len);

/*
 * Reads the next frame into <rec>. Returns 1 for a frame, 0 at the end of
 * the file, -ENOMEM when the interface table cannot grow, or -EIO with the
 * damage described in <error> (a block cut short or of impossible length,
 * a frame on an interface never described or longer than
 * CAPTURE_CAPLEN_MAX, a bad option, too many interfaces).
 */
int
capture_pcapng_next(struct capture_pcapng *ng, struct capture_record *rec,
	char *error, size_t error_len);

/* Frees what <ng> allocated; <ng> may then be opened again. */
void
capture_pcapng_close(struct capture_pcapng *ng);

#endif /* SMBGW_CAPTURE_H */
