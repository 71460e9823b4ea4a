/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report_csv.h"

#define REPORT_CSV_FIELDS	12

const char report_csv_header[] =
	"date,src_ip,dest_ip,connections,bytes_toserver,bytes_toclient,"
	"dest_ports,detected_by_port,detected_by_content,allowed,denied,"
	"monitored\n";

void
report_format_day(uint32_t day, char *buf, size_t size)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday);
}

void
report_format_address(const uint8_t addr[16], uint8_t ip_version, char *buf,
	size_t size)
{
	if (inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, buf,
			(socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

int
report_csv_format(const struct report_entry *e, char *buf, size_t size)
{
	char date[32], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	size_t used;
	unsigned int p;
	int n;

	report_format_day(e->day, date, sizeof(date));
	report_format_address(e->client, e->ip_version, src, sizeof(src));
	report_format_address(e->server, e->ip_version, dst, sizeof(dst));
	n = snprintf(buf, size, "%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",\"", date, src, dst, e->connections, e->bytes[0],
		e->bytes[1]);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	used = (size_t)n;
	for (p = 0; p < e->port_count && p < REPORT_PORTS_MAX; p++) {
		n = snprintf(buf + used, size - used, "%s%u", p ? " " : "",
			e->ports[p]);
		if (n < 0 || (size_t)n >= size - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	if (e->ports_more) {
		n = snprintf(buf + used, size - used, " +%" PRIu32,
			e->ports_more);
		if (n < 0 || (size_t)n >= size - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	n = snprintf(buf + used, size - used, "\",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", e->by_port,
		e->by_content, e->actions[REPORT_ACTION_ALLOWED],
		e->actions[REPORT_ACTION_DENIED],
		e->actions[REPORT_ACTION_MONITORED]);
	if (n < 0 || (size_t)n >= size - used)
		return -ENOSPC;
	return (int)(used + (size_t)n);
}

/* Parsing */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
parse_digits(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return false;
	for (i = 0; i < n; i++) {
		unsigned int digit;

		if (s[i] < '0' || s[i] > '9')
			return false;
		digit = (unsigned int)(s[i] - '0');
		if (v > (max - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

static bool
parse_day(const char *s, uint32_t *day)
{
	uint64_t y, m, d;
	int64_t days;
	char back[32];

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
			!parse_digits(s, 4, 9999, &y) ||
			!parse_digits(s + 5, 2, 12, &m) ||
			!parse_digits(s + 8, 2, 31, &d) ||
			y < 1970 || m < 1 || d < 1)
		return false;
	days = days_from_civil((int64_t)y, (unsigned int)m, (unsigned int)d);
	if (days < 0 || days > UINT32_MAX)
		return false;
	/* 2026-02-30 is not a day: it must read back as written. */
	report_format_day((uint32_t)days, back, sizeof(back));
	if (strcmp(back, s) != 0)
		return false;
	*day = (uint32_t)days;
	return true;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	return parse_digits(s, strlen(s), UINT64_MAX, out);
}

static uint8_t
parse_address(const char *s, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return 6;
	return 0;
}

/* "445 139 +3" between quotes: the ports, then the count beyond them. */
static bool
parse_ports(const char *s, struct report_entry *e)
{
	size_t len = strlen(s), start;
	uint64_t v;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	s++;
	len -= 2;
	start = 0;
	while (start < len) {
		const char *tok = s + start;
		const char *space = memchr(tok, ' ', len - start);
		size_t n = space != NULL ? (size_t)(space - tok) : len - start;

		if (tok[0] == '+') {
			/* The count beyond the list comes last, after a full list. */
			if (space != NULL || e->port_count != REPORT_PORTS_MAX ||
					!parse_digits(tok + 1, n - 1, UINT32_MAX, &v) ||
					v == 0)
				return false;
			e->ports_more = (uint32_t)v;
		} else {
			if (e->port_count == REPORT_PORTS_MAX ||
					!parse_digits(tok, n, 65535, &v))
				return false;
			e->ports[e->port_count++] = (uint16_t)v;
		}
		start += n + 1;
		if (space != NULL && start >= len)
			return false;	/* a trailing space */
	}
	return true;
}

int
report_csv_parse(const char *line, size_t len, struct report_entry *e)
{
	char copy[REPORT_CSV_LINE_MAX];
	char *fields[REPORT_CSV_FIELDS];
	unsigned int count = 0, a;
	char *p;

	memset(e, 0, sizeof(*e));
	if (len >= sizeof(copy) || memchr(line, '\0', len) != NULL)
		return -EINVAL;
	memcpy(copy, line, len);
	copy[len] = '\0';
	for (p = copy; ; p++) {
		char *comma = strchr(p, ',');

		if (count == REPORT_CSV_FIELDS)
			return -EINVAL;
		fields[count++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma;
	}
	if (count != REPORT_CSV_FIELDS)
		return -EINVAL;
	if (!parse_day(fields[0], &e->day))
		return -EINVAL;
	e->ip_version = parse_address(fields[1], e->client);
	if (e->ip_version == 0 ||
			parse_address(fields[2], e->server) != e->ip_version)
		return -EINVAL;
	if (!parse_u64(fields[3], &e->connections) ||
			!parse_u64(fields[4], &e->bytes[0]) ||
			!parse_u64(fields[5], &e->bytes[1]) ||
			!parse_ports(fields[6], e) ||
			!parse_u64(fields[7], &e->by_port) ||
			!parse_u64(fields[8], &e->by_content))
		return -EINVAL;
	for (a = 0; a < REPORT_ACTION_COUNT; a++)
		if (!parse_u64(fields[9 + a], &e->actions[a]))
			return -EINVAL;
	return 0;
}
