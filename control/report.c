/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_json.h"
#include "event.h"
#include "flow.h"
#include "report.h"
#include "report_csv.h"

#define NS_PER_DAY (86400ull * 1000000000ull)
#define NIL UINT32_MAX

static const char *const action_names[REPORT_ACTION_COUNT] = {
	"allowed", "denied", "monitored",
};

/* One day of one client/server pair. */
struct row {
	uint32_t day;
	uint32_t hash_next;
	uint8_t client[16];
	uint8_t server[16];
	uint8_t ip_version;
	bool used;
	uint8_t port_count;
	uint32_t ports_more;	/* distinct ports beyond REPORT_PORTS_MAX */
	uint16_t ports[REPORT_PORTS_MAX];
	uint64_t connections;
	uint64_t bytes[2];	/* to server, to client */
	uint64_t by_port;
	uint64_t by_content;
	uint64_t actions[REPORT_ACTION_COUNT];
};

struct report {
	struct report_params params;
	struct report_counters counters;
	uint32_t newest_day;	/* latest day seen, 0 before any event */
	uint32_t bucket_mask;
	uint32_t *buckets;
	uint32_t free_head;
	struct row *rows;
};

void
report_params_set_defaults(struct report_params *params)
{
	memset(params, 0, sizeof(*params));
	params->days = 7;
	params->max_rows = 65536;
	params->checkpoint_interval = 60;
}

size_t
report_row_bytes(void)
{
	return sizeof(struct row) + sizeof(uint32_t);
}

uint32_t
report_day_of(uint64_t ts_ns)
{
	return (uint32_t)(ts_ns / NS_PER_DAY);
}

static bool
prefix_valid(const struct report_prefix *p)
{
	unsigned int bits = p->ip_version == 6 ? 128 : 32, i;

	if (p->ip_version != 4 && p->ip_version != 6)
		return false;
	if (p->length > bits)
		return false;
	for (i = p->length; i < 128; i++)
		if (p->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

int
report_prefix_parse(const char *text, struct report_prefix *out)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	char *end;
	long bits;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->ip_version = 4;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->ip_version = 6;
	else
		return -EINVAL;
	bits = out->ip_version == 4 ? 32 : 128;
	if (slash != NULL) {
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || bits < 0)
			return -EINVAL;
	}
	out->length = (uint8_t)(bits > 255 ? 255 : bits);
	return prefix_valid(out) ? 0 : -EINVAL;
}

static bool
prefix_contains(const struct report_prefix *p, const uint8_t addr[16],
	uint8_t ip_version)
{
	unsigned int full = p->length / 8, rest = p->length % 8;

	if (p->ip_version != ip_version)
		return false;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	return rest == 0 ||
		((p->addr[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

static bool
is_trusted(const struct report *report, const uint8_t addr[16],
	uint8_t ip_version)
{
	unsigned int i;

	for (i = 0; i < report->params.trusted_count; i++)
		if (prefix_contains(&report->params.trusted[i], addr, ip_version))
			return true;
	return false;
}

static int
params_check(const struct report_params *params)
{
	unsigned int i;

	if (params->days < 1 || params->days > 366 ||
			params->max_rows < 16 || params->max_rows > (1u << 22) ||
			params->trusted_count > REPORT_TRUSTED_MAX)
		return -EINVAL;
	for (i = 0; i < params->trusted_count; i++)
		if (!prefix_valid(&params->trusted[i]))
			return -EINVAL;
	return 0;
}

struct report *
report_create(const struct report_params *params)
{
	struct report *report;
	uint32_t buckets = 16, i;

	if (params == NULL || params_check(params) < 0) {
		errno = EINVAL;
		return NULL;
	}
	report = calloc(1, sizeof(*report));
	if (report == NULL)
		return NULL;
	report->params = *params;
	while (buckets < params->max_rows)
		buckets <<= 1;
	report->bucket_mask = buckets - 1;
	report->buckets = malloc(buckets * sizeof(*report->buckets));
	report->rows = calloc(params->max_rows, sizeof(*report->rows));
	if (report->buckets == NULL || report->rows == NULL) {
		free(report->buckets);
		free(report->rows);
		free(report);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < buckets; i++)
		report->buckets[i] = NIL;
	for (i = 0; i < params->max_rows; i++)
		report->rows[i].hash_next = i + 1 < params->max_rows ? i + 1 : NIL;
	report->free_head = 0;
	return report;
}

void
report_free(struct report *report)
{
	if (report == NULL)
		return;
	free(report->buckets);
	free(report->rows);
	free(report);
}

int
report_set_trusted(struct report *report, const struct report_prefix *prefixes,
	unsigned int count)
{
	unsigned int i;

	if (count > REPORT_TRUSTED_MAX)
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (!prefix_valid(&prefixes[i]))
			return -EINVAL;
	memcpy(report->params.trusted, prefixes, count * sizeof(*prefixes));
	report->params.trusted_count = count;
	return 0;
}

const struct report_counters *
report_counters(const struct report *report)
{
	return &report->counters;
}

static uint32_t
row_hash(const struct report *report, uint32_t day, const uint8_t client[16],
	const uint8_t server[16])
{
	uint64_t h = 0xcbf29ce484222325ull ^ day;
	unsigned int i;

	for (i = 0; i < 16; i++)
		h = (h ^ client[i]) * 0x100000001b3ull;
	for (i = 0; i < 16; i++)
		h = (h ^ server[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32)) & report->bucket_mask;
}

/* The first day kept when <day> is the newest. */
static uint32_t
oldest_kept(const struct report *report, uint32_t day)
{
	return day + 1 >= report->params.days ? day + 1 - report->params.days : 0;
}

/*
 * <day> is newer than any before: drops the rows of days now beyond the
 * retention and rebuilds the index and the free list around the rest.
 */
static void
expire(struct report *report, uint32_t day)
{
	uint32_t keep = oldest_kept(report, day);
	uint32_t before = oldest_kept(report, report->newest_day);
	/* Rows lie in [before, before + days): a flag per day dropped. */
	bool dropped[366] = { false };
	uint32_t i;

	for (i = 0; i <= report->bucket_mask; i++)
		report->buckets[i] = NIL;
	report->free_head = NIL;
	for (i = report->params.max_rows; i > 0; i--) {
		struct row *r = &report->rows[i - 1];
		uint32_t b;

		if (r->used && r->day < keep) {
			if (r->day >= before && r->day - before < 366 &&
					!dropped[r->day - before]) {
				dropped[r->day - before] = true;
				report->counters.days_expired++;
			}
			memset(r, 0, sizeof(*r));
			report->counters.rows--;
		}
		if (!r->used) {
			r->hash_next = report->free_head;
			report->free_head = i - 1;
			continue;
		}
		b = row_hash(report, r->day, r->client, r->server);
		r->hash_next = report->buckets[b];
		report->buckets[b] = i - 1;
	}
}

static struct row *
row_get(struct report *report, uint32_t day, const uint8_t client[16],
	const uint8_t server[16], uint8_t ip_version)
{
	uint32_t b = row_hash(report, day, client, server);
	struct row *r;
	uint32_t i;

	for (i = report->buckets[b]; i != NIL; i = r->hash_next) {
		r = &report->rows[i];
		if (r->day == day && r->ip_version == ip_version &&
				memcmp(r->client, client, 16) == 0 &&
				memcmp(r->server, server, 16) == 0)
			return r;
	}
	if (report->free_head == NIL) {
		report->counters.rows_dropped++;
		return NULL;
	}
	i = report->free_head;
	r = &report->rows[i];
	report->free_head = r->hash_next;
	memset(r, 0, sizeof(*r));
	r->used = true;
	r->day = day;
	r->ip_version = ip_version;
	memcpy(r->client, client, 16);
	memcpy(r->server, server, 16);
	r->hash_next = report->buckets[b];
	report->buckets[b] = i;
	report->counters.rows++;
	return r;
}

/*
 * Lists <port> on <r>; a port beyond the list is counted only when
 * <count_more> (once per connection, at CLASSIFIED).
 */
static void
add_port(struct row *r, uint16_t port, bool count_more)
{
	unsigned int i;

	for (i = 0; i < r->port_count; i++)
		if (r->ports[i] == port)
			return;
	if (r->port_count < REPORT_PORTS_MAX)
		r->ports[r->port_count++] = port;
	else if (count_more)
		r->ports_more++;
}

/*
 * Moves the newest day on to <day> if it is newer; returns whether <day>
 * is still kept (counted late if not).
 */
static bool
day_admit(struct report *report, uint32_t day)
{
	if (day > report->newest_day) {
		if (report->counters.rows > 0)
			expire(report, day);
		report->newest_day = day;
	}
	if (day < oldest_kept(report, report->newest_day)) {
		report->counters.late++;
		return false;
	}
	return true;
}

void
report_add_flow(struct report *report, const struct gw_event *ev,
	enum report_action action)
{
	struct report_entry delta;

	report_add_flow_delta(report, ev, action, &delta);
}

/* What a counted event adds to its row, whether or not the row is kept. */
static void
delta_of(const struct gw_event *ev, enum report_action action, uint32_t day,
	struct report_entry *d)
{
	memset(d, 0, sizeof(*d));
	d->day = day;
	d->ip_version = ev->ip_version;
	memcpy(d->client, ev->client_addr, 16);
	memcpy(d->server, ev->server_addr, 16);
	d->port_count = 1;
	d->ports[0] = ev->server_port;
	if (ev->subtype == EVENT_FLOW_CLASSIFIED) {
		d->connections = 1;
		if (ev->u.flow.method == EVENT_DETECT_CONTENT)
			d->by_content = 1;
		else
			d->by_port = 1;
		if ((unsigned int)action < REPORT_ACTION_COUNT)
			d->actions[action] = 1;
	} else {
		d->bytes[0] = ev->u.flow.bytes[0];
		d->bytes[1] = ev->u.flow.bytes[1];
	}
}

bool
report_add_flow_delta(struct report *report, const struct gw_event *ev,
	enum report_action action, struct report_entry *delta)
{
	uint32_t day = report_day_of(ev->ts_ns);
	struct row *r;

	if (ev->kind != EVENT_FLOW || (ev->subtype != EVENT_FLOW_CLASSIFIED &&
			ev->subtype != EVENT_FLOW_END))
		return false;
	/*
	 * "SMB traffic allowed" counts SMB connections: DCE/RPC over TCP
	 * (135, learned and dynamic ports) is not SMB; RPC on a named pipe
	 * is inside an SMB connection, counted as such.
	 */
	if (ev->u.flow.app == FLOW_APP_DCERPC)
		return false;
	if (is_trusted(report, ev->client_addr, ev->ip_version) ||
			is_trusted(report, ev->server_addr, ev->ip_version)) {
		if (ev->subtype == EVENT_FLOW_CLASSIFIED)
			report->counters.trusted++;
		return false;
	}
	if (!day_admit(report, day))
		return false;
	delta_of(ev, action, day, delta);
	r = row_get(report, day, ev->client_addr, ev->server_addr,
		ev->ip_version);
	if (r == NULL)
		return true;
	report->counters.changes++;
	if (ev->subtype == EVENT_FLOW_CLASSIFIED) {
		report->counters.flows++;
		r->connections++;
		add_port(r, ev->server_port, true);
		if (ev->u.flow.method == EVENT_DETECT_CONTENT)
			r->by_content++;
		else
			r->by_port++;
		if ((unsigned int)action < REPORT_ACTION_COUNT)
			r->actions[action]++;
	} else {
		add_port(r, ev->server_port, false);
		r->bytes[0] += ev->u.flow.bytes[0];
		r->bytes[1] += ev->u.flow.bytes[1];
	}
	return true;
}

int
report_merge(struct report *report, const struct report_entry *e)
{
	struct row *r;
	unsigned int i, a;

	if ((e->ip_version != 4 && e->ip_version != 6) ||
			e->port_count > REPORT_PORTS_MAX)
		return -EINVAL;
	if (!day_admit(report, e->day))
		return -ESTALE;
	r = row_get(report, e->day, e->client, e->server, e->ip_version);
	if (r == NULL)
		return -ENOSPC;
	report->counters.changes++;
	r->connections += e->connections;
	r->bytes[0] += e->bytes[0];
	r->bytes[1] += e->bytes[1];
	r->by_port += e->by_port;
	r->by_content += e->by_content;
	for (a = 0; a < REPORT_ACTION_COUNT; a++)
		r->actions[a] += e->actions[a];
	for (i = 0; i < e->port_count; i++)
		add_port(r, e->ports[i], true);
	r->ports_more += e->ports_more;
	return 0;
}

/* Output */

static int
compare_rows(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a;
	const struct row *y = *(const struct row *const *)b;
	int c;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->ip_version != y->ip_version)
		return x->ip_version < y->ip_version ? -1 : 1;
	c = memcmp(x->client, y->client, 16);
	if (c != 0)
		return c;
	return memcmp(x->server, y->server, 16);
}

/* The rows of <day> (or all), sorted; NULL with *count 0 if none or no memory. */
static const struct row **
sorted_rows(const struct report *report, uint32_t day, size_t *count)
{
	const struct row **order;
	size_t n = 0;
	uint32_t i;

	*count = 0;
	order = malloc((report->counters.rows + 1) * sizeof(*order));
	if (order == NULL)
		return NULL;
	for (i = 0; i < report->params.max_rows; i++) {
		const struct row *r = &report->rows[i];

		if (r->used && (day == REPORT_ALL_DAYS || r->day == day))
			order[n++] = r;
	}
	qsort(order, n, sizeof(*order), compare_rows);
	*count = n;
	return order;
}

/* Bytes of one pair (and of its day's object) in the JSON report: at most
 * about 560 with every number at its largest. */
#define REPORT_JSON_ROW_MAX 1024

int
report_write_json(const struct report *report, FILE *out, uint32_t day)
{
	char date[32], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	struct ctl_json_writer w;
	const struct row **order;
	uint32_t current = NIL;
	size_t n, i, p, size;
	unsigned int a;
	char *buf;
	int ret = 0;

	order = sorted_rows(report, day, &n);
	/* The gateway's one JSON writer, into a buffer sized for the rows. */
	size = 256 + (n + 1) * REPORT_JSON_ROW_MAX;
	buf = malloc(size);
	if (buf == NULL) {
		free(order);
		return -ENOMEM;
	}
	ctl_json_writer_init(&w, buf, size, NULL, NULL);
	ctl_json_object_begin(&w, NULL);
	ctl_json_str(&w, "report", "smb_allowed");
	ctl_json_u64(&w, "days_kept", report->params.days);
	ctl_json_array_begin(&w, "days");
	for (i = 0; i < n; i++) {
		const struct row *r = order[i];

		if (r->day != current) {
			if (current != NIL) {
				ctl_json_array_end(&w);
				ctl_json_object_end(&w);
			}
			report_format_day(r->day, date, sizeof(date));
			ctl_json_object_begin(&w, NULL);
			ctl_json_str(&w, "date", date);
			ctl_json_array_begin(&w, "pairs");
			current = r->day;
		}
		report_format_address(r->client, r->ip_version, src, sizeof(src));
		report_format_address(r->server, r->ip_version, dst, sizeof(dst));
		ctl_json_object_begin(&w, NULL);
		ctl_json_str(&w, "src_ip", src);
		ctl_json_str(&w, "dest_ip", dst);
		ctl_json_u64(&w, "connections", r->connections);
		ctl_json_u64(&w, "bytes", r->bytes[0] + r->bytes[1]);
		ctl_json_u64(&w, "bytes_toserver", r->bytes[0]);
		ctl_json_u64(&w, "bytes_toclient", r->bytes[1]);
		ctl_json_array_begin(&w, "dest_ports");
		for (p = 0; p < r->port_count; p++)
			ctl_json_u64(&w, NULL, r->ports[p]);
		ctl_json_array_end(&w);
		if (r->ports_more)
			ctl_json_u64(&w, "dest_ports_more", r->ports_more);
		ctl_json_object_begin(&w, "detected_by");
		ctl_json_u64(&w, "port", r->by_port);
		ctl_json_u64(&w, "content", r->by_content);
		ctl_json_object_end(&w);
		ctl_json_object_begin(&w, "actions");
		for (a = 0; a < REPORT_ACTION_COUNT; a++)
			ctl_json_u64(&w, action_names[a], r->actions[a]);
		ctl_json_object_end(&w);
		ctl_json_object_end(&w);
	}
	if (current != NIL) {
		ctl_json_array_end(&w);
		ctl_json_object_end(&w);
	}
	ctl_json_array_end(&w);
	ctl_json_object_end(&w);
	if (!ctl_json_complete(&w))
		ret = -EOVERFLOW;
	else if (fputs(buf, out) == EOF || fputc('\n', out) == EOF || ferror(out))
		ret = -EIO;
	free(buf);
	free(order);
	return ret;
}

static void
entry_of(const struct row *r, struct report_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->day = r->day;
	e->ip_version = r->ip_version;
	memcpy(e->client, r->client, 16);
	memcpy(e->server, r->server, 16);
	e->port_count = r->port_count;
	memcpy(e->ports, r->ports, sizeof(e->ports));
	e->ports_more = r->ports_more;
	e->connections = r->connections;
	e->bytes[0] = r->bytes[0];
	e->bytes[1] = r->bytes[1];
	e->by_port = r->by_port;
	e->by_content = r->by_content;
	memcpy(e->actions, r->actions, sizeof(e->actions));
}

int
report_foreach(const struct report *report, uint32_t day,
	int (*fn)(const struct report_entry *entry, void *arg), void *arg)
{
	const struct row **order;
	struct report_entry e;
	size_t n, i;
	int ret = 0;

	order = sorted_rows(report, day, &n);
	if (order == NULL)
		return -ENOMEM;
	for (i = 0; i < n && ret == 0; i++) {
		entry_of(order[i], &e);
		ret = fn(&e, arg);
	}
	free(order);
	return ret;
}

static int
write_csv_row(const struct report_entry *e, void *arg)
{
	char line[REPORT_CSV_LINE_MAX];

	if (report_csv_format(e, line, sizeof(line)) < 0)
		return -ENOSPC;
	fputs(line, arg);
	return 0;
}

int
report_write_csv(const struct report *report, FILE *out, uint32_t day)
{
	fputs(report_csv_header, out);
	report_foreach(report, day, write_csv_row, out);
	return ferror(out) ? -EIO : 0;
}
