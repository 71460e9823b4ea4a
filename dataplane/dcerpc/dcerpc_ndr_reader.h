/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_DCERPC_NDR_READER_H
#define SMBGW_DCERPC_NDR_READER_H

/*
 * A bounded cursor over a DCE/RPC request stub in NDR (C706 chapter 14,
 * little-endian transfer syntax), shared by the argument decoders of
 * dcerpc_ndr.c and dcerpc_stubs.c. Every read checks the stub's end;
 * a read past it sets short_read, data that contradicts NDR sets
 * malformed, and neither ever reads out of the buffer.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcerpc_pvt.h"

/* Cursor over a stub. Alignment is relative to the stub start. */
struct ndr_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;
	/* The stub ended before the data it announces. */
	bool short_read;
	/* The data contradicts NDR (e.g. actual_count > max_count). */
	bool malformed;
};

static inline bool
ndr_align(struct ndr_reader *r, size_t n)
{
	size_t off = (r->off + n - 1) & ~(n - 1);

	if (off > r->len) {
		r->short_read = true;
		return false;
	}
	r->off = off;
	return true;
}

static inline bool
ndr_skip(struct ndr_reader *r, size_t n)
{
	if (n > r->len - r->off) {
		r->short_read = true;
		return false;
	}
	r->off += n;
	return true;
}

static inline bool
ndr_u16(struct ndr_reader *r, uint16_t *v)
{
	if (!ndr_align(r, 2) || r->len - r->off < 2) {
		r->short_read = true;
		return false;
	}
	*v = (uint16_t)(r->buf[r->off] | r->buf[r->off + 1] << 8);
	r->off += 2;
	return true;
}

static inline bool
ndr_u32(struct ndr_reader *r, uint32_t *v)
{
	const uint8_t *p;

	if (!ndr_align(r, 4) || r->len - r->off < 4) {
		r->short_read = true;
		return false;
	}
	p = r->buf + r->off;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	     (uint32_t)p[3] << 24;
	r->off += 4;
	return true;
}

/*
 * Reads a conformant varying string ([string] wchar_t* or char*) of
 * <char_size> byte characters into <out>. A string cut by the end of the
 * stub is converted as far as it goes. Returns false when the reader cannot
 * continue past the string; sets *cut when <out> holds less than the
 * string.
 */
static inline bool
ndr_string(struct ndr_reader *r, size_t char_size, char *out,
	   size_t out_size, bool *cut)
{
	uint32_t max_count, offset, actual;
	uint64_t bytes;
	size_t avail, take;
	bool fit;

	out[0] = '\0';
	if (!ndr_u32(r, &max_count) || !ndr_u32(r, &offset) ||
	    !ndr_u32(r, &actual)) {
		*cut = true;
		return false;
	}
	if (offset != 0 || actual > max_count) {
		r->malformed = true;
		return false;
	}
	bytes = (uint64_t)actual * char_size;
	avail = r->len - r->off;
	take = bytes < avail ? (size_t)bytes : avail;
	if (char_size == 2)
		fit = dcerpc_utf16le_to_utf8(r->buf + r->off, take, out,
					     out_size);
	else
		fit = dcerpc_ascii_to_utf8(r->buf + r->off, take, out,
					   out_size);
	if (!fit)
		*cut = true;
	if (take < bytes) {
		*cut = true;
		r->short_read = true;
		r->off = r->len;
		return false;
	}
	r->off += take;
	return true;
}

/*
 * Reads a unique pointer to a string: a referent id, then the string if
 * the id is not zero. Returns false when the reader cannot continue.
 */
static inline bool
ndr_unique_string(struct ndr_reader *r, size_t char_size, char *out,
		  size_t out_size, bool *cut)
{
	uint32_t referent;

	out[0] = '\0';
	if (!ndr_u32(r, &referent)) {
		*cut = true;
		return false;
	}
	if (referent == 0)
		return true;
	return ndr_string(r, char_size, out, out_size, cut);
}

/*
 * What a decoder's walk of a stub came to: -EBADMSG when the stub is not
 * the encoding expected (contradicts NDR, or a complete stub ran out),
 * -ENOSPC when it was cut before the arguments ended, else 0.
 */
static inline int
ndr_reader_status(const struct ndr_reader *r, bool complete)
{
	if (r->malformed || (r->short_read && complete))
		return -EBADMSG;
	if (r->short_read)
		return -ENOSPC;
	return 0;
}

#endif /* SMBGW_DCERPC_NDR_READER_H */
