/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "redis_view.h"
#include "report.h"

#define SCAN_COUNT	"1000"
#define RANGE_CHUNK	1000
#define ALERT_MARK	"\"event_type\":\"alert\""

int
redis_view_parse_address(const char *text, struct redis_output_params *params)
{
	const char *host = text, *colon;
	size_t host_len;
	char *end;
	unsigned long port = 6379;

	/* A Unix socket: the path as it is. */
	if (text[0] == '/') {
		if (strlen(text) >= sizeof(params->server))
			return -EINVAL;
		snprintf(params->server, sizeof(params->server), "%s", text);
		return 0;
	}

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL)
			return -EINVAL;
		host = text + 1;
		host_len = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL)
			return -EINVAL;
	} else {
		colon = strrchr(text, ':');
		/* A bare IPv6 address has several colons and no port. */
		if (colon != NULL && strchr(text, ':') != colon)
			colon = NULL;
		host_len = colon != NULL ? (size_t)(colon - text) :
			strlen(text);
	}
	if (host_len == 0 || host_len >= sizeof(params->server))
		return -EINVAL;
	if (colon != NULL) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || errno != 0 ||
				port < 1 || port > 65535)
			return -EINVAL;
	}
	memcpy(params->server, host, host_len);
	params->server[host_len] = '\0';
	params->port = (unsigned int)port;
	return 0;
}

static redisContext *
view_connect(const struct redis_output_params *params, char *error,
	size_t error_len)
{
	struct timeval tv = {
		.tv_sec = params->timeout_ms / 1000,
		.tv_usec = (params->timeout_ms % 1000) * 1000,
	};
	redisContext *ctx = params->server[0] == '/' ?
		redisConnectUnixWithTimeout(params->server, tv) :
		redisConnectWithTimeout(params->server, (int)params->port, tv);
	redisReply *reply;

	if (ctx == NULL || ctx->err) {
		snprintf(error, error_len, "cannot connect to Redis %s:%u: %s",
			params->server, params->port,
			ctx != NULL ? ctx->errstr : "out of memory");
		if (ctx != NULL)
			redisFree(ctx);
		return NULL;
	}
	redisSetTimeout(ctx, tv);
	if (params->password[0] == '\0')
		return ctx;
	if (params->user[0] != '\0')
		reply = redisCommand(ctx, "AUTH %s %s", params->user,
			params->password);
	else
		reply = redisCommand(ctx, "AUTH %s", params->password);
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		snprintf(error, error_len, "Redis %s:%u refused AUTH: %s",
			params->server, params->port,
			reply != NULL ? reply->str : ctx->errstr);
		if (reply != NULL)
			freeReplyObject(reply);
		redisFree(ctx);
		return NULL;
	}
	freeReplyObject(reply);
	return ctx;
}

/* A reply of <type> or an error message; NULL after an error. */
static redisReply *
expect(redisContext *ctx, redisReply *reply, int type, const char *what,
	char *error, size_t error_len)
{
	if (reply == NULL) {
		snprintf(error, error_len, "%s: %s", what, ctx->errstr);
		return NULL;
	}
	if (reply->type != type) {
		snprintf(error, error_len, "%s: %s", what,
			reply->type == REDIS_REPLY_ERROR ? reply->str :
			"unexpected reply");
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

/* Report */

/*
 * The day of "<report_key>:YYYY-MM-DD" (with <gateway>,
 * "<report_key>:YYYY-MM-DD:<gateway>"), or -1 if <key> is not one.
 */
static int64_t
day_of_key(const char *report_key, const char *gateway, const char *key,
	size_t len)
{
	size_t prefix = strlen(report_key), suffix = strlen(gateway);
	char date[11];
	struct tm tm;
	char *end;

	if (len != prefix + 11 + (suffix ? suffix + 1 : 0) ||
			strncmp(key, report_key, prefix) != 0 ||
			key[prefix] != ':')
		return -1;
	if (suffix && (key[prefix + 11] != ':' ||
			memcmp(key + prefix + 12, gateway, suffix) != 0))
		return -1;
	memcpy(date, key + prefix + 1, 10);
	date[10] = '\0';
	memset(&tm, 0, sizeof(tm));
	end = strptime(date, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	return timegm(&tm) / 86400;
}

struct day_hash {
	uint32_t day;
	redisReply *fields;	/* HGETALL: field, value, ... */
};

struct port_field {
	const struct report_entry *pair;
	uint16_t port;
};

/* "SRC|DST|COLUMN" into <entry> (pair only) and *column. */
static int
parse_field(const char *field, size_t len, struct report_entry *entry,
	const char **column)
{
	const char *bar1 = memchr(field, '|', len), *bar2;
	char addr[64];
	size_t n;

	if (bar1 == NULL)
		return -EPROTO;
	bar2 = memchr(bar1 + 1, '|', len - (size_t)(bar1 + 1 - field));
	if (bar2 == NULL || strlen(field) != len)
		return -EPROTO;
	*column = bar2 + 1;
	n = (size_t)(bar1 - field);
	if (n == 0 || n >= sizeof(addr))
		return -EPROTO;
	memcpy(addr, field, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, entry->client) == 1)
		entry->ip_version = 4;
	else if (inet_pton(AF_INET6, addr, entry->client) == 1)
		entry->ip_version = 6;
	else
		return -EPROTO;
	n = (size_t)(bar2 - bar1 - 1);
	if (n == 0 || n >= sizeof(addr))
		return -EPROTO;
	memcpy(addr, bar1 + 1, n);
	addr[n] = '\0';
	if (inet_pton(entry->ip_version == 4 ? AF_INET : AF_INET6, addr,
			entry->server) != 1)
		return -EPROTO;
	return 0;
}

static int
parse_count(const redisReply *value, uint64_t *out)
{
	char *end;

	if (value->type != REDIS_REPLY_STRING || value->len == 0 ||
			value->str[0] == '-')
		return -EPROTO;
	errno = 0;
	*out = strtoull(value->str, &end, 10);
	return errno != 0 || *end != '\0' ? -EPROTO : 0;
}

/*
 * Adds one field of day <day> to <report>. Port fields are only checked
 * here and listed afterwards (merge_ports()), in ascending order.
 */
static int
merge_field(struct report *report, uint32_t day, const redisReply *field,
	const redisReply *value)
{
	static const char *const actions[REPORT_ACTION_COUNT] = {
		"allowed", "denied", "monitored",
	};
	struct report_entry e;
	const char *column;
	uint64_t count;
	unsigned int a;
	int ret;

	if (field->type != REDIS_REPLY_STRING)
		return -EPROTO;
	memset(&e, 0, sizeof(e));
	e.day = day;
	if (parse_field(field->str, field->len, &e, &column) < 0 ||
			parse_count(value, &count) < 0)
		return -EPROTO;
	if (strncmp(column, "port:", 5) == 0)
		return 0;
	if (strcmp(column, "connections") == 0)
		e.connections = count;
	else if (strcmp(column, "bytes_toserver") == 0)
		e.bytes[0] = count;
	else if (strcmp(column, "bytes_toclient") == 0)
		e.bytes[1] = count;
	else if (strcmp(column, "by_port") == 0)
		e.by_port = count;
	else if (strcmp(column, "by_content") == 0)
		e.by_content = count;
	else {
		for (a = 0; a < REPORT_ACTION_COUNT; a++)
			if (strcmp(column, actions[a]) == 0)
				break;
		if (a == REPORT_ACTION_COUNT)
			return -EPROTO;
		e.actions[a] = count;
	}
	ret = report_merge(report, &e);
	return ret == -ESTALE ? 0 : ret;
}

struct port_item {
	uint32_t day;
	uint8_t ip_version;
	uint8_t client[16];
	uint8_t server[16];
	uint16_t port;
};

static int
compare_ports(const void *a, const void *b)
{
	const struct port_item *x = a, *y = b;
	int c;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	c = memcmp(x->client, y->client, 16);
	if (c == 0)
		c = memcmp(x->server, y->server, 16);
	if (c == 0 && x->port != y->port)
		c = x->port < y->port ? -1 : 1;
	return c;
}

/* Lists the port fields of every hash on their rows, ascending. */
static int
merge_ports(struct report *report, const struct day_hash *hashes,
	size_t hash_count, size_t field_count)
{
	struct port_item *items = calloc(field_count + 1, sizeof(*items));
	size_t n = 0, h, f, i;
	int ret = 0;

	if (items == NULL)
		return -ENOMEM;
	for (h = 0; h < hash_count; h++) {
		const redisReply *r = hashes[h].fields;

		for (f = 0; f + 1 < r->elements; f += 2) {
			struct report_entry e;
			const char *column;
			char *end;
			unsigned long port;

			memset(&e, 0, sizeof(e));
			if (r->element[f]->type != REDIS_REPLY_STRING ||
					parse_field(r->element[f]->str, r->element[f]->len,
					&e, &column) < 0 ||
					strncmp(column, "port:", 5) != 0)
				continue;
			errno = 0;
			port = strtoul(column + 5, &end, 10);
			if (column[5] == '\0' || *end != '\0' || errno != 0 ||
					port > 65535) {
				ret = -EPROTO;
				goto out;
			}
			items[n].day = hashes[h].day;
			items[n].ip_version = e.ip_version;
			memcpy(items[n].client, e.client, 16);
			memcpy(items[n].server, e.server, 16);
			items[n].port = (uint16_t)port;
			n++;
		}
	}
	qsort(items, n, sizeof(*items), compare_ports);
	for (i = 0; i < n && ret == 0; i++) {
		struct report_entry e;

		memset(&e, 0, sizeof(e));
		e.day = items[i].day;
		e.ip_version = items[i].ip_version;
		memcpy(e.client, items[i].client, 16);
		memcpy(e.server, items[i].server, 16);
		e.port_count = 1;
		e.ports[0] = items[i].port;
		ret = report_merge(report, &e);
		if (ret == -ESTALE)
			ret = 0;
	}
out:
	free(items);
	return ret;
}

/*
 * The days of the report hashes (of <gateway>'s own when not ""): SCAN
 * for "<report_key>:*".
 */
static int
find_days(redisContext *ctx, const char *report_key, const char *gateway,
	uint32_t **days, size_t *count, char *error, size_t error_len)
{
	char cursor[32] = "0", pattern[REDIS_KEY_MAX + 4];
	size_t cap = 0;

	*days = NULL;
	*count = 0;
	snprintf(pattern, sizeof(pattern), "%s:*", report_key);
	do {
		redisReply *reply = expect(ctx, redisCommand(ctx,
			"SCAN %s MATCH %s COUNT " SCAN_COUNT, cursor, pattern),
			REDIS_REPLY_ARRAY, "SCAN", error, error_len);
		size_t i;

		if (reply == NULL)
			return -EIO;
		if (reply->elements != 2 ||
				reply->element[0]->type != REDIS_REPLY_STRING ||
				reply->element[1]->type != REDIS_REPLY_ARRAY ||
				reply->element[0]->len >= sizeof(cursor)) {
			freeReplyObject(reply);
			snprintf(error, error_len, "SCAN: unexpected reply");
			return -EPROTO;
		}
		snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
		for (i = 0; i < reply->element[1]->elements; i++) {
			const redisReply *k = reply->element[1]->element[i];
			int64_t day;

			if (k->type != REDIS_REPLY_STRING)
				continue;
			day = day_of_key(report_key, gateway, k->str, k->len);
			if (day < 0 || day > UINT32_MAX - 1)
				continue;
			if (*count == cap) {
				uint32_t *more;

				cap = cap ? 2 * cap : 16;
				more = realloc(*days, cap * sizeof(**days));
				if (more == NULL) {
					freeReplyObject(reply);
					snprintf(error, error_len, "out of memory");
					return -ENOMEM;
				}
				*days = more;
			}
			(*days)[(*count)++] = (uint32_t)day;
		}
		freeReplyObject(reply);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

static int
compare_days(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
redis_view_report(const struct redis_output_params *params, uint32_t day,
	bool csv, FILE *out, char *error, size_t error_len)
{
	struct report_params report_params;
	struct day_hash *hashes = NULL;
	struct report *report = NULL;
	uint32_t *days = NULL;
	size_t day_count = 0, h, f, fields = 0;
	redisContext *ctx;
	int ret = 0;

	ctx = view_connect(params, error, error_len);
	if (ctx == NULL)
		return -EIO;
	if (day == REPORT_ALL_DAYS) {
		ret = find_days(ctx, params->report_key, params->gateway, &days,
			&day_count, error, error_len);
		if (ret < 0)
			goto out;
		/* Duplicates: SCAN may return a key twice. */
		qsort(days, day_count, sizeof(*days), compare_days);
		for (h = 0, f = 0; h < day_count; h++)
			if (f == 0 || days[f - 1] != days[h])
				days[f++] = days[h];
		day_count = f;
	} else {
		days = malloc(sizeof(*days));
		if (days == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		days[0] = day;
		day_count = 1;
	}
	hashes = calloc(day_count + 1, sizeof(*hashes));
	if (hashes == NULL) {
		ret = -ENOMEM;
		snprintf(error, error_len, "out of memory");
		goto out;
	}
	for (h = 0; h < day_count; h++) {
		char key[REDIS_KEY_MAX + 16 + REDIS_GATEWAY_NAME_MAX];

		redis_report_key(params->report_key, days[h], params->gateway,
			key, sizeof(key));
		hashes[h].day = days[h];
		hashes[h].fields = expect(ctx, redisCommand(ctx, "HGETALL %s",
			key), REDIS_REPLY_ARRAY, "HGETALL", error, error_len);
		if (hashes[h].fields == NULL) {
			ret = -EIO;
			goto out;
		}
		fields += hashes[h].fields->elements / 2;
	}
	/* A row per field at most; the report's own defaults otherwise. */
	report_params_set_defaults(&report_params);
	if (day_count > 0 && days[day_count - 1] - days[0] + 1 >
			report_params.days)
		report_params.days = days[day_count - 1] - days[0] + 1 > 366 ?
			366 : days[day_count - 1] - days[0] + 1;
	report_params.max_rows = fields < 16 ? 16 :
		fields > (1u << 22) ? 1u << 22 : (unsigned int)fields;
	report = report_create(&report_params);
	if (report == NULL) {
		ret = -ENOMEM;
		snprintf(error, error_len, "out of memory");
		goto out;
	}
	for (h = 0; h < day_count && ret == 0; h++) {
		const redisReply *r = hashes[h].fields;

		for (f = 0; f + 1 < r->elements && ret == 0; f += 2)
			ret = merge_field(report, hashes[h].day, r->element[f],
				r->element[f + 1]);
	}
	if (ret == 0)
		ret = merge_ports(report, hashes, day_count, fields);
	if (ret < 0) {
		snprintf(error, error_len,
			"%s: a hash field is not one smbgw writes",
			params->report_key);
		goto out;
	}
	ret = csv ? report_write_csv(report, out, day) :
		report_write_json(report, out, day);
	if (ret < 0)
		snprintf(error, error_len, "cannot write the report");
out:
	report_free(report);
	for (h = 0; hashes != NULL && h < day_count; h++)
		if (hashes[h].fields != NULL)
			freeReplyObject(hashes[h].fields);
	free(hashes);
	free(days);
	redisFree(ctx);
	return ret;
}

/* Alerts */

static void
print_if_alert(FILE *out, const char *line, size_t len)
{
	/* Records are single lines of JSON; a stray one is skipped whole. */
	if (memchr(line, '\n', len) != NULL || strlen(line) != len)
		return;
	if (strstr(line, ALERT_MARK) != NULL) {
		fwrite(line, 1, len, out);
		fputc('\n', out);
		fflush(out);
	}
}

static int
alerts_list(redisContext *ctx, const struct redis_output_params *params,
	bool follow, FILE *out, char *error, size_t error_len)
{
	long long start = 0;

	for (;;) {
		redisReply *reply = expect(ctx, redisCommand(ctx,
			"LRANGE %s %lld %lld", params->key, start,
			start + RANGE_CHUNK - 1), REDIS_REPLY_ARRAY, "LRANGE",
			error, error_len);
		size_t i;

		if (reply == NULL)
			return -EIO;
		for (i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_STRING)
				print_if_alert(out, reply->element[i]->str,
					reply->element[i]->len);
		start += (long long)reply->elements;
		i = reply->elements;
		freeReplyObject(reply);
		if (i == RANGE_CHUNK)
			continue;
		if (!follow)
			return 0;
		/* A list cannot be waited on without taking from it: poll. */
		nanosleep(&(struct timespec){ .tv_sec = 1 }, NULL);
	}
}

/* Prints the "eve" field of each entry of an XRANGE/XREAD entry list. */
static int
print_entries(const redisReply *entries, FILE *out, char *last_id,
	size_t id_size)
{
	size_t i, f;

	for (i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i];
		const redisReply *kv;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
				e->element[0]->type != REDIS_REPLY_STRING ||
				e->element[1]->type != REDIS_REPLY_ARRAY ||
				e->element[0]->len >= id_size)
			return -EPROTO;
		snprintf(last_id, id_size, "%s", e->element[0]->str);
		kv = e->element[1];
		for (f = 0; f + 1 < kv->elements; f += 2)
			if (kv->element[f]->type == REDIS_REPLY_STRING &&
					strcmp(kv->element[f]->str, "eve") == 0 &&
					kv->element[f + 1]->type == REDIS_REPLY_STRING)
				print_if_alert(out, kv->element[f + 1]->str,
					kv->element[f + 1]->len);
	}
	return 0;
}

static int
alerts_stream(redisContext *ctx, const struct redis_output_params *params,
	bool follow, FILE *out, char *error, size_t error_len)
{
	char last[64] = "0-0", start[80] = "-";
	struct timeval forever = { 0, 0 };

	for (;;) {
		redisReply *reply = expect(ctx, redisCommand(ctx,
			"XRANGE %s %s + COUNT %d", params->key, start,
			RANGE_CHUNK), REDIS_REPLY_ARRAY, "XRANGE", error,
			error_len);
		size_t n;

		if (reply == NULL)
			return -EIO;
		if (print_entries(reply, out, last, sizeof(last)) < 0) {
			freeReplyObject(reply);
			snprintf(error, error_len, "XRANGE: unexpected reply");
			return -EPROTO;
		}
		n = reply->elements;
		freeReplyObject(reply);
		/* "(" starts after the last entry read (Redis 6.2 and later). */
		snprintf(start, sizeof(start), "(%s", last);
		if (n < RANGE_CHUNK)
			break;
	}
	if (!follow)
		return 0;
	redisSetTimeout(ctx, forever);
	for (;;) {
		redisReply *reply = redisCommand(ctx,
			"XREAD BLOCK 0 COUNT %d STREAMS %s %s", RANGE_CHUNK,
			params->key, last);
		size_t s;

		if (reply == NULL) {
			snprintf(error, error_len, "XREAD: %s", ctx->errstr);
			return -EIO;
		}
		if (reply->type == REDIS_REPLY_ARRAY) {
			for (s = 0; s < reply->elements; s++) {
				const redisReply *st = reply->element[s];

				if (st->type == REDIS_REPLY_ARRAY &&
						st->elements == 2)
					print_entries(st->element[1], out, last,
						sizeof(last));
			}
		} else if (reply->type == REDIS_REPLY_ERROR) {
			snprintf(error, error_len, "XREAD: %s", reply->str);
			freeReplyObject(reply);
			return -EIO;
		}
		freeReplyObject(reply);
	}
}

static int
alerts_pubsub(redisContext *ctx, const struct redis_output_params *params,
	FILE *out, char *error, size_t error_len)
{
	struct timeval forever = { 0, 0 };
	redisReply *reply = expect(ctx, redisCommand(ctx, "SUBSCRIBE %s",
		params->key), REDIS_REPLY_ARRAY, "SUBSCRIBE", error, error_len);

	if (reply == NULL)
		return -EIO;
	freeReplyObject(reply);
	redisSetTimeout(ctx, forever);
	for (;;) {
		if (redisGetReply(ctx, (void **)&reply) != REDIS_OK) {
			snprintf(error, error_len, "SUBSCRIBE: %s", ctx->errstr);
			return -EIO;
		}
		if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
				reply->element[2]->type == REDIS_REPLY_STRING)
			print_if_alert(out, reply->element[2]->str,
				reply->element[2]->len);
		freeReplyObject(reply);
	}
}

int
redis_view_alerts(const struct redis_output_params *params, bool follow,
	FILE *out, char *error, size_t error_len)
{
	redisContext *ctx = view_connect(params, error, error_len);
	int ret;

	if (ctx == NULL)
		return -EIO;
	switch (params->mode) {
	case REDIS_MODE_STREAM:
		ret = alerts_stream(ctx, params, follow, out, error, error_len);
		break;
	case REDIS_MODE_PUBSUB:
		ret = alerts_pubsub(ctx, params, out, error, error_len);
		break;
	default:
		ret = alerts_list(ctx, params, follow, out, error, error_len);
		break;
	}
	redisFree(ctx);
	return ret;
}
