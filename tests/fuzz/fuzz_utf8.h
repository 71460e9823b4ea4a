/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef SMBGW_FUZZ_UTF8_H
#define SMBGW_FUZZ_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Returns true if <s> holds a NUL within its <size> bytes and the bytes
 * before it are well-formed UTF-8 (no overlongs, surrogates or code points
 * above U+10FFFF): what the parsers promise for every fact string.
 */
static inline bool
fuzz_utf8_valid(const char *s, size_t size)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	while (i < size && p[i] != 0) {
		uint32_t cp;
		size_t n, k;

		if (p[i] < 0x80) {
			i++;
			continue;
		} else if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
		} else {
			return false;
		}
		if (i + n >= size)
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return i < size;
}

#endif /* SMBGW_FUZZ_UTF8_H */
