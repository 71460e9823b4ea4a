/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "capture.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

#define NULL_HEADER_LEN 4
#define SLL_HEADER_LEN 16
#define SLL_PROTOCOL_OFFSET 14
#define SLL2_HEADER_LEN 20
#define SLL2_PROTOCOL_OFFSET 0

/* Address families of IPv4 and IPv6 in NULL and LOOP headers. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24	/* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30
#define LINUX_AF_INET6 10

static const struct {
	uint32_t link;
	const char *name;
} link_names[] = {
	{ CAPTURE_LINK_NULL, "NULL" },
	{ CAPTURE_LINK_ETHERNET, "EN10MB" },
	{ CAPTURE_LINK_RAW_OLD, "RAW" },
	{ CAPTURE_LINK_RAW_BSD, "RAW" },
	{ CAPTURE_LINK_RAW, "RAW" },
	{ CAPTURE_LINK_LOOP, "LOOP" },
	{ CAPTURE_LINK_LINUX_SLL, "LINUX_SLL" },
	{ CAPTURE_LINK_IPV4, "IPV4" },
	{ CAPTURE_LINK_IPV6, "IPV6" },
	{ CAPTURE_LINK_LINUX_SLL2, "LINUX_SLL2" },
};

bool
capture_link_supported(uint32_t link)
{
	return capture_link_name(link) != NULL;
}

const char *
capture_link_name(uint32_t link)
{
	size_t i;

	for (i = 0; i < sizeof(link_names) / sizeof(link_names[0]); i++)
		if (link_names[i].link == link)
			return link_names[i].name;
	return NULL;
}

static uint16_t
read_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t
ethertype_of_family(uint32_t family)
{
	switch (family) {
	case BSD_AF_INET:
		return ETHERTYPE_IPV4;
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
	case LINUX_AF_INET6:
		return ETHERTYPE_IPV6;
	default:
		return 0;
	}
}

/* Raw IP: the version nibble says which. */
static uint16_t
ethertype_of_ip(const uint8_t *frame, uint32_t len)
{
	if (len == 0)
		return 0;
	switch (frame[0] >> 4) {
	case 4:
		return ETHERTYPE_IPV4;
	case 6:
		return ETHERTYPE_IPV6;
	default:
		return 0;
	}
}

int
capture_link_l3(uint32_t link, const uint8_t *frame, uint32_t len,
	uint16_t *ethertype)
{
	uint32_t family;

	switch (link) {
	case CAPTURE_LINK_ETHERNET:
		return 0;
	case CAPTURE_LINK_NULL:
		if (len < NULL_HEADER_LEN)
			return -EINVAL;
		/*
		 * In the byte order of the host that captured: family values
		 * are small, so a large one is the other order.
		 */
		family = (uint32_t)frame[0] | (uint32_t)frame[1] << 8 |
			(uint32_t)frame[2] << 16 | (uint32_t)frame[3] << 24;
		if ((family & 0xffff0000u) != 0)
			family = __builtin_bswap32(family);
		*ethertype = ethertype_of_family(family);
		return NULL_HEADER_LEN;
	case CAPTURE_LINK_LOOP:
		if (len < NULL_HEADER_LEN)
			return -EINVAL;
		family = (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 |
			(uint32_t)frame[2] << 8 | frame[3];
		*ethertype = ethertype_of_family(family);
		return NULL_HEADER_LEN;
	case CAPTURE_LINK_RAW_OLD:
	case CAPTURE_LINK_RAW_BSD:
	case CAPTURE_LINK_RAW:
		*ethertype = ethertype_of_ip(frame, len);
		return 0;
	case CAPTURE_LINK_IPV4:
		*ethertype = ETHERTYPE_IPV4;
		return 0;
	case CAPTURE_LINK_IPV6:
		*ethertype = ETHERTYPE_IPV6;
		return 0;
	case CAPTURE_LINK_LINUX_SLL:
		if (len < SLL_HEADER_LEN)
			return -EINVAL;
		/*
		 * Values below 1536 are not EtherTypes (802.3 lengths, Linux
		 * pseudo protocols such as 802.2 LLC): other L3.
		 */
		*ethertype = read_be16(frame + SLL_PROTOCOL_OFFSET);
		if (*ethertype < 0x0600)
			*ethertype = 0;
		return SLL_HEADER_LEN;
	case CAPTURE_LINK_LINUX_SLL2:
		if (len < SLL2_HEADER_LEN)
			return -EINVAL;
		*ethertype = read_be16(frame + SLL2_PROTOCOL_OFFSET);
		if (*ethertype < 0x0600)
			*ethertype = 0;
		return SLL2_HEADER_LEN;
	default:
		return -EPROTONOSUPPORT;
	}
}

void
capture_ethernet_header(uint8_t *out, uint16_t ethertype)
{
	/* No addresses are known; nothing downstream reads them offline. */
	memset(out, 0, CAPTURE_ETHER_HEADER_LEN - 2);
	out[12] = (uint8_t)(ethertype >> 8);
	out[13] = (uint8_t)ethertype;
}
