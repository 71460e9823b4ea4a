/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapng (draft-ietf-opsawg-pcapng) from bytes in memory. libpcap reads
 * pcapng too, but refuses a file whose interfaces differ in link type,
 * which is what a capture merged from several links is; here each
 * interface keeps its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

#define BLOCK_SHB 0x0a0d0d0au
#define BLOCK_IDB 0x00000001u
#define BLOCK_PB 0x00000002u	/* obsolete Packet Block */
#define BLOCK_SPB 0x00000003u
#define BLOCK_EPB 0x00000006u

#define BYTE_ORDER_MAGIC 0x1a2b3c4du
#define BLOCK_HEADER_LEN 8	/* type, total length */
#define BLOCK_TRAILER_LEN 4	/* total length again */
#define BLOCK_MIN_LEN (BLOCK_HEADER_LEN + BLOCK_TRAILER_LEN)
#define SHB_BODY_MIN 16		/* magic, version, section length */
#define IDB_BODY_MIN 8		/* link type, reserved, snaplen */
#define EPB_BODY_MIN 20		/* interface, time, lengths */
#define PB_BODY_MIN 20
#define SPB_BODY_MIN 4		/* length on the wire */

#define OPT_ENDOFOPT 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

/* The first interfaces' room; it doubles as needed. */
#define INTERFACES_FIRST_ROOM 8

static uint16_t
ng_u16(const struct capture_pcapng *ng, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ng->swapped ? __builtin_bswap16(v) : v;
}

static uint32_t
ng_u32(const struct capture_pcapng *ng, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ng->swapped ? __builtin_bswap32(v) : v;
}

static uint64_t
ng_u64(const struct capture_pcapng *ng, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return ng->swapped ? __builtin_bswap64(v) : v;
}

bool
capture_is_pcapng(const uint8_t *base, size_t size)
{
	uint32_t type;

	if (size < sizeof(type))
		return false;
	memcpy(&type, base, sizeof(type));
	/* The same in both byte orders. */
	return type == BLOCK_SHB;
}

/*
 * Reads the Section Header Block at <offset>: sets the byte order and
 * forgets the previous section's interfaces. Returns its total length, or
 * 0 with the reason in <error>.
 */
static uint32_t
read_section_header(struct capture_pcapng *ng, size_t offset, char *error,
	size_t error_len)
{
	const uint8_t *p = ng->base + offset;
	size_t left = ng->size - offset;
	uint32_t magic, total;

	if (left < BLOCK_HEADER_LEN + SHB_BODY_MIN + BLOCK_TRAILER_LEN) {
		snprintf(error, error_len,
			"section header block at offset %zu cut short", offset);
		return 0;
	}
	memcpy(&magic, p + BLOCK_HEADER_LEN, sizeof(magic));
	if (magic == BYTE_ORDER_MAGIC) {
		ng->swapped = false;
	} else if (magic == __builtin_bswap32(BYTE_ORDER_MAGIC)) {
		ng->swapped = true;
	} else {
		snprintf(error, error_len,
			"section header block at offset %zu has a bad byte-order magic 0x%08x",
			offset, magic);
		return 0;
	}
	if (ng_u16(ng, p + BLOCK_HEADER_LEN + 4) != 1) {
		snprintf(error, error_len,
			"section header block at offset %zu: pcapng version %u.%u is not read",
			offset, ng_u16(ng, p + BLOCK_HEADER_LEN + 4),
			ng_u16(ng, p + BLOCK_HEADER_LEN + 6));
		return 0;
	}
	total = ng_u32(ng, p + 4);
	if (total < BLOCK_HEADER_LEN + SHB_BODY_MIN + BLOCK_TRAILER_LEN) {
		snprintf(error, error_len,
			"section header block at offset %zu has a bad length %u",
			offset, total);
		return 0;
	}
	ng->interface_count = 0;
	return total;
}

int
capture_pcapng_open(struct capture_pcapng *ng, uint8_t *base, size_t size,
	char *error, size_t error_len)
{
	memset(ng, 0, sizeof(*ng));
	ng->base = base;
	ng->size = size;
	if (!capture_is_pcapng(base, size)) {
		snprintf(error, error_len, "not a pcapng file");
		return -EINVAL;
	}
	/* Checked again, with its length, when the block is read. */
	if (read_section_header(ng, 0, error, error_len) == 0)
		return -EINVAL;
	return 0;
}

void
capture_pcapng_close(struct capture_pcapng *ng)
{
	free(ng->interfaces);
	ng->interfaces = NULL;
	ng->interface_count = ng->interface_room = 0;
}

/*
 * Reads the options of an Interface Description Block, <len> bytes at
 * <p>, into <ifc>. Returns 0, or -EIO with the reason in <error>.
 */
static int
read_interface_options(const struct capture_pcapng *ng, const uint8_t *p,
	uint32_t len, struct capture_interface *ifc, size_t offset,
	char *error, size_t error_len)
{
	uint32_t at = 0;

	while (at + 4 <= len) {
		uint16_t code = ng_u16(ng, p + at);
		uint16_t value_len = ng_u16(ng, p + at + 2);
		uint32_t padded = (value_len + 3u) & ~3u;

		if (code == OPT_ENDOFOPT)
			return 0;
		at += 4;
		if (padded > len - at) {
			snprintf(error, error_len,
				"interface description block at offset %zu: option %u runs past the block",
				offset, code);
			return -EIO;
		}
		if (code == OPT_IF_TSRESOL) {
			uint8_t v;

			if (value_len != 1)
				goto bad_option;
			v = p[at];
			ifc->tsresol_binary = (v & 0x80) != 0;
			ifc->tsresol_exp = v & 0x7f;
			/* Finer than 2^-63 or 10^-19 cannot be held. */
			if ((ifc->tsresol_binary && ifc->tsresol_exp > 63) ||
					(!ifc->tsresol_binary &&
					ifc->tsresol_exp > 19))
				goto bad_option;
		} else if (code == OPT_IF_TSOFFSET) {
			if (value_len != 8)
				goto bad_option;
			ifc->tsoffset = (int64_t)ng_u64(ng, p + at);
		}
		at += padded;
	}
	return 0;
bad_option:
	snprintf(error, error_len,
		"interface description block at offset %zu: bad option %u",
		offset, ng_u16(ng, p + at - 4));
	return -EIO;
}

static int
add_interface(struct capture_pcapng *ng, const uint8_t *body, uint32_t len,
	size_t offset, char *error, size_t error_len)
{
	struct capture_interface ifc;
	int ret;

	if (len < IDB_BODY_MIN) {
		snprintf(error, error_len,
			"interface description block at offset %zu is too short",
			offset);
		return -EIO;
	}
	if (ng->interface_count >= CAPTURE_INTERFACES_MAX) {
		snprintf(error, error_len,
			"more than %u interfaces in one section",
			CAPTURE_INTERFACES_MAX);
		return -EIO;
	}
	memset(&ifc, 0, sizeof(ifc));
	ifc.link = ng_u16(ng, body);
	ifc.snaplen = ng_u32(ng, body + 4);
	ifc.tsresol_exp = 6;
	ret = read_interface_options(ng, body + IDB_BODY_MIN,
		len - IDB_BODY_MIN, &ifc, offset, error, error_len);
	if (ret != 0)
		return ret;
	if (ng->interface_count == ng->interface_room) {
		uint32_t room = ng->interface_room == 0 ?
			INTERFACES_FIRST_ROOM : ng->interface_room * 2;
		struct capture_interface *grown = realloc(ng->interfaces,
			room * sizeof(*grown));

		if (grown == NULL)
			return -ENOMEM;
		ng->interfaces = grown;
		ng->interface_room = room;
	}
	ng->interfaces[ng->interface_count++] = ifc;
	return 0;
}

/* A timestamp in <ifc>'s units, as ns since the epoch. */
static uint64_t
timestamp_ns(const struct capture_interface *ifc, uint64_t units)
{
	unsigned __int128 ns;

	if (ifc->tsresol_binary) {
		ns = ((unsigned __int128)units * 1000000000u) >>
			ifc->tsresol_exp;
	} else if (ifc->tsresol_exp <= 9) {
		static const uint32_t scale[10] = { 1000000000, 100000000,
			10000000, 1000000, 100000, 10000, 1000, 100, 10, 1 };

		ns = (unsigned __int128)units * scale[ifc->tsresol_exp];
	} else {
		uint64_t divisor = 1;
		unsigned int i;

		for (i = 9; i < ifc->tsresol_exp; i++)
			divisor *= 10;
		ns = units / divisor;
	}
	ns += (unsigned __int128)((__int128)ifc->tsoffset * 1000000000);
	return (uint64_t)ns;
}

/*
 * The interface <id> of the block at <offset>, or NULL with the reason in
 * <error>.
 */
static const struct capture_interface *
interface_of(const struct capture_pcapng *ng, uint32_t id, size_t offset,
	char *error, size_t error_len)
{
	if (id < ng->interface_count)
		return &ng->interfaces[id];
	snprintf(error, error_len,
		"a packet at offset %zu arrived on interface %u, but there's no Interface Description Block for that interface",
		offset, id);
	return NULL;
}

int
capture_pcapng_next(struct capture_pcapng *ng, struct capture_record *rec,
	char *error, size_t error_len)
{
	for (;;) {
		size_t offset = ng->offset;
		size_t left = ng->size - offset;
		const struct capture_interface *ifc;
		uint8_t *p = ng->base + offset;
		uint32_t type, total, body_len, caplen, header_len;
		uint8_t *body;
		uint64_t units;
		int ret;

		if (left == 0)
			return 0;
		if (left < BLOCK_MIN_LEN) {
			snprintf(error, error_len,
				"block at offset %zu cut short: %zu bytes left",
				offset, left);
			return -EIO;
		}
		memcpy(&type, p, sizeof(type));
		if (type == BLOCK_SHB) {
			total = read_section_header(ng, offset, error,
				error_len);
			if (total == 0)
				return -EIO;
		} else {
			type = ng_u32(ng, p);
			total = ng_u32(ng, p + 4);
		}
		if (total < BLOCK_MIN_LEN || total % 4 != 0) {
			snprintf(error, error_len,
				"block at offset %zu has a bad length %u",
				offset, total);
			return -EIO;
		}
		if (total > left) {
			snprintf(error, error_len,
				"block at offset %zu cut short: %u bytes, only %zu in the file",
				offset, total, left);
			return -EIO;
		}
		if (ng_u32(ng, p + total - BLOCK_TRAILER_LEN) != total) {
			snprintf(error, error_len,
				"block at offset %zu: its lengths differ", offset);
			return -EIO;
		}
		ng->offset += total;
		body = p + BLOCK_HEADER_LEN;
		body_len = total - BLOCK_MIN_LEN;

		switch (type) {
		case BLOCK_SHB:
			continue;
		case BLOCK_IDB:
			ret = add_interface(ng, body, body_len, offset, error,
				error_len);
			if (ret != 0)
				return ret;
			continue;
		case BLOCK_EPB:
		case BLOCK_PB:
			if (body_len < EPB_BODY_MIN) {
				snprintf(error, error_len,
					"packet block at offset %zu is too short",
					offset);
				return -EIO;
			}
			ifc = interface_of(ng, type == BLOCK_EPB ?
				ng_u32(ng, body) : ng_u16(ng, body), offset,
				error, error_len);
			if (ifc == NULL)
				return -EIO;
			units = (uint64_t)ng_u32(ng, body + 4) << 32 |
				ng_u32(ng, body + 8);
			caplen = ng_u32(ng, body + 12);
			rec->len = ng_u32(ng, body + 16);
			header_len = EPB_BODY_MIN;
			if (caplen > body_len - header_len) {
				snprintf(error, error_len,
					"packet block at offset %zu: captured length %u runs past the block",
					offset, caplen);
				return -EIO;
			}
			rec->ts_ns = timestamp_ns(ifc, units);
			break;
		case BLOCK_SPB:
			if (body_len < SPB_BODY_MIN) {
				snprintf(error, error_len,
					"simple packet block at offset %zu is too short",
					offset);
				return -EIO;
			}
			ifc = interface_of(ng, 0, offset, error, error_len);
			if (ifc == NULL)
				return -EIO;
			rec->len = ng_u32(ng, body);
			header_len = SPB_BODY_MIN;
			/* No captured length: the least of the three. */
			caplen = body_len - header_len;
			if (rec->len < caplen)
				caplen = rec->len;
			if (ifc->snaplen != 0 && ifc->snaplen < caplen)
				caplen = ifc->snaplen;
			/* No time either. */
			rec->ts_ns = 0;
			break;
		default:
			/* Name resolution, statistics, custom, ...: no frame. */
			ng->blocks_skipped++;
			continue;
		}
		if (caplen > CAPTURE_CAPLEN_MAX) {
			snprintf(error, error_len,
				"packet block at offset %zu: captured length %u is more than %u",
				offset, caplen, CAPTURE_CAPLEN_MAX);
			return -EIO;
		}
		rec->data = body + header_len;
		rec->caplen = caplen;
		rec->link = ifc->link;
		/*
		 * Before an SPB's data: its 12 header bytes and the trailer of
		 * the block before it, which there always is (an SHB first).
		 */
		rec->headroom = BLOCK_HEADER_LEN + header_len +
			(type == BLOCK_SPB ? BLOCK_TRAILER_LEN : 0);
		return 1;
	}
}
