/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_UTF8_H
#define SMBGW_UTF8_H

/*
 * UTF-8 shared by the parsers, which decode names from the wire (UTF-16LE)
 * into bounded UTF-8 buffers, and by everything that copies those names on
 * into other bounded buffers. Header-only and DPDK-free.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Appends code point <cp> (at most U+10FFFF; callers map invalid input to
 * U+FFFD first) to <out> at *pos, keeping one byte free for a NUL.
 * Returns false, writing nothing, when it does not fit in <out_size>.
 */
static inline bool
utf8_append(char *out, size_t out_size, size_t *pos, uint32_t cp)
{
	uint8_t enc[4];
	size_t n;

	if (cp < 0x80) {
		enc[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		enc[0] = (uint8_t)(0xc0 | cp >> 6);
		enc[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		enc[0] = (uint8_t)(0xe0 | cp >> 12);
		enc[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		enc[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		enc[0] = (uint8_t)(0xf0 | cp >> 18);
		enc[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		enc[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		enc[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*pos + n + 1 > out_size)
		return false;
	memcpy(out + *pos, enc, n);
	*pos += n;
	return true;
}

/*
 * Copies NUL-terminated UTF-8 <src> (always one of our own buffers, never
 * bytes from the wire) into <dst> of <size> bytes (at least 1), cutting,
 * if it must, before a multi-byte sequence rather than inside it. Returns
 * true if it was cut.
 */
static inline bool
utf8_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	bool cut = n >= size;

	if (cut) {
		n = size - 1;
		while (n > 0 && ((uint8_t)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return cut;
}

/*
 * As utf8_copy(), for names: one that does not fit keeps its start and its
 * end around U+2026, since a path's end (the file name and its extension,
 * which watchlists and policy rules look at) matters as much as its start.
 * Buffers under 16 bytes keep only the start. Returns true if it was cut.
 */
static inline bool
utf8_copy_ends(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src), head, tail_start;

	if (n < size) {
		memcpy(dst, src, n + 1);
		return false;
	}
	if (size < 16)
		return utf8_copy(dst, src, size);
	/* Half the room for the end, from a character boundary on. */
	tail_start = n - (size - 1) / 2;
	while (tail_start < n && ((uint8_t)src[tail_start] & 0xc0) == 0x80)
		tail_start++;
	head = size - 1 - 3 - (n - tail_start);
	while (head > 0 && ((uint8_t)src[head] & 0xc0) == 0x80)
		head--;
	memcpy(dst, src, head);
	memcpy(dst + head, "\xe2\x80\xa6", 3);
	memcpy(dst + head + 3, src + tail_start, n - tail_start);
	dst[head + 3 + n - tail_start] = '\0';
	return true;
}

/*
 * An account as Windows writes it, "<domain>\<user>", or <user> alone
 * when <domain> is empty, into <dst> of <size> bytes (at least 1), each
 * part cut as utf8_copy() cuts: what snprintf("%s%s%s") would write, for
 * a fraction of its cost, and never inside a character.
 */
static inline void
utf8_account_name(char *dst, size_t size, const char *domain,
	const char *user)
{
	size_t pos;

	utf8_copy(dst, domain, size);
	pos = strlen(dst);
	if (domain[0] != '\0') {
		if (pos + 2 > size)
			return;
		dst[pos++] = '\\';
		dst[pos] = '\0';
	}
	utf8_copy(dst + pos, user, size - pos);
}

#endif /* SMBGW_UTF8_H */
