/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_REPORT_CSV_H
#define SMBGW_REPORT_CSV_H

/*
 * The report's CSV rows, both ways: a row to its line (what
 * `smbgwctl report csv` and the exit summary print) and a line back to the
 * row (a checkpoint read at start). The parser takes untrusted bytes and
 * accepts only what the formatter writes.
 * Pure C: no DPDK.
 */

#include <stddef.h>

#include "report.h"

/* Longest line the formatter writes, '\n' and NUL included. */
#define REPORT_CSV_LINE_MAX	512

/* The header line, '\n' included. */
extern const char report_csv_header[];

/*
 * Writes the line of <entry>, '\n' included, into <buf> (<size> bytes,
 * NUL-terminated). Returns its length, or -ENOSPC if it does not fit.
 */
int
report_csv_format(const struct report_entry *entry, char *buf, size_t size);

/*
 * Parses one line (<len> bytes, without its '\n') into <entry>. Returns 0,
 * or -EINVAL when it is not a line report_csv_format() could have written.
 */
int
report_csv_parse(const char *line, size_t len, struct report_entry *entry);

/* <day> (days since the epoch) as YYYY-MM-DD. */
void
report_format_day(uint32_t day, char *buf, size_t size);

/* An address as text ("?" if it cannot be written). */
void
report_format_address(const uint8_t addr[16], uint8_t ip_version, char *buf,
	size_t size);

#endif /* SMBGW_REPORT_CSV_H */
