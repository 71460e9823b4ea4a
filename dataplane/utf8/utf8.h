/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_UTF8_H
#define SMBGW_UTF8_H

/*
 * UTF-8 encoding shared by the parsers, which decode names from the wire
 * (UTF-16LE) into bounded UTF-8 buffers. Header-only and DPDK-free.
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

#endif /* SMBGW_UTF8_H */
