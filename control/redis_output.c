/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "output_status.h"
#include "redis_output.h"
#include "report_csv.h"

/* Items sent in one pipeline. */
#define BATCH_MAX		256
/* Items the control core gathers before it takes the lock once for all. */
#define HANDOVER_MAX		64
#define BACKOFF_FIRST_MS	100
#define BACKOFF_MAX_MS		5000
/* Commands one report delta takes at most: columns, ports, EXPIRE. */
#define DELTA_COMMANDS_MAX	(8 + REPORT_PORTS_MAX + 1)

enum item_kind {
	ITEM_RECORD,
	ITEM_REPORT,
};

struct item {
	enum item_kind kind;
	struct report_entry delta;	/* ITEM_REPORT */
	size_t len;			/* ITEM_RECORD: bytes of line */
	char line[];
};

struct redis_output {
	struct redis_output_params params;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;			/* under lock */
	/* The control core's own, no lock: items not yet handed over. */
	struct item *pending[HANDOVER_MAX];
	unsigned int pending_count;
	/* The queue: a ring of <params.queue_size> items, under lock. */
	struct item **ring;
	unsigned int head;
	unsigned int count;
	/* Written by the sender thread only (and dropped by both): atomics. */
	uint64_t sent;
	uint64_t dropped;
	uint64_t errors;
	uint64_t connects;
	/* The sender's own. */
	redisContext *ctx;
	bool failing;			/* an episode is logged */
};

static const char *const mode_names[] = { "list", "stream", "pubsub" };

static redis_thread_create_fn thread_create;

void
redis_output_set_thread_create(redis_thread_create_fn create)
{
	thread_create = create;
}

void
redis_output_params_set_defaults(struct redis_output_params *params)
{
	memset(params, 0, sizeof(*params));
	params->port = 6379;
	snprintf(params->key, sizeof(params->key), "smbgw:eve");
	params->mode = REDIS_MODE_LIST;
	params->queue_size = 4096;
	params->timeout_ms = 1000;
	params->stream_maxlen = 100000;
	params->report = true;
	snprintf(params->report_key, sizeof(params->report_key),
		"smbgw:report");
	params->report_days = 7;
}

const char *
redis_mode_name(unsigned int mode)
{
	return mode < sizeof(mode_names) / sizeof(mode_names[0]) ?
		mode_names[mode] : NULL;
}

int
redis_mode_parse(const char *name, unsigned int *mode)
{
	unsigned int i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcmp(name, mode_names[i]) == 0) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

static void
count_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

char *
redis_report_key(const char *report_key, uint32_t day, const char *gateway,
	char *buf, size_t size)
{
	char date[16];

	report_format_day(day, date, sizeof(date));
	if (gateway != NULL && gateway[0] != '\0')
		snprintf(buf, size, "%s:%s:%s", report_key, date, gateway);
	else
		snprintf(buf, size, "%s:%s", report_key, date);
	return buf;
}

int
redis_report_field(const struct report_entry *entry, const char *column,
	char *buf, size_t size)
{
	char src[64], dst[64];
	int n;

	report_format_address(entry->client, entry->ip_version, src,
		sizeof(src));
	report_format_address(entry->server, entry->ip_version, dst,
		sizeof(dst));
	n = snprintf(buf, size, "%s|%s|%s", src, dst, column);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* Queue */

/*
 * Moves the pending items into the queue under one lock; those that do
 * not fit are dropped and counted. Called by the control core only.
 */
static void
hand_over(struct redis_output *ro)
{
	unsigned int i, room, n = ro->pending_count;

	if (n == 0)
		return;
	pthread_mutex_lock(&ro->lock);
	room = ro->stopping ? 0 : ro->params.queue_size - ro->count;
	for (i = 0; i < n && i < room; i++)
		ro->ring[(ro->head + ro->count + i) % ro->params.queue_size] =
			ro->pending[i];
	/* Only an empty queue can have the sender asleep on it. */
	if (ro->count == 0 && i > 0)
		pthread_cond_signal(&ro->wake);
	ro->count += i;
	pthread_mutex_unlock(&ro->lock);
	if (i < n) {
		count_add(&ro->dropped, n - i);
		for (; i < n; i++)
			free(ro->pending[i]);
	}
	ro->pending_count = 0;
}

static int
enqueue(struct redis_output *ro, struct item *item)
{
	ro->pending[ro->pending_count++] = item;
	if (ro->pending_count == HANDOVER_MAX)
		hand_over(ro);
	return 0;
}

void
redis_output_flush(struct redis_output *ro)
{
	hand_over(ro);
}

int
redis_output_record(struct redis_output *ro, const char *line, size_t len)
{
	struct item *item;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	item = malloc(sizeof(*item) + len + 1);
	if (item == NULL) {
		count_add(&ro->dropped, 1);
		return -ENOMEM;
	}
	item->kind = ITEM_RECORD;
	item->len = len;
	memcpy(item->line, line, len);
	item->line[len] = '\0';
	return enqueue(ro, item);
}

int
redis_output_report(struct redis_output *ro, const struct report_entry *delta)
{
	struct item *item;

	if (!ro->params.report)
		return 0;
	item = malloc(sizeof(*item));
	if (item == NULL) {
		count_add(&ro->dropped, 1);
		return -ENOMEM;
	}
	item->kind = ITEM_REPORT;
	item->delta = *delta;
	item->len = 0;
	return enqueue(ro, item);
}

/* Takes up to <max> items off the queue; the lock is held. */
static unsigned int
dequeue(struct redis_output *ro, struct item **out, unsigned int max)
{
	unsigned int n = 0;

	while (n < max && ro->count > 0) {
		out[n++] = ro->ring[ro->head];
		ro->head = (ro->head + 1) % ro->params.queue_size;
		ro->count--;
	}
	return n;
}

/* Sender thread */

static void
sleep_ms_unless_stopping(struct redis_output *ro, unsigned int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ro->lock);
	while (!ro->stopping &&
			pthread_cond_timedwait(&ro->wake, &ro->lock, &until) == 0)
		;
	pthread_mutex_unlock(&ro->lock);
}

static void
connection_failed(struct redis_output *ro, const char *what)
{
	count_add(&ro->errors, 1);
	if (!ro->failing) {
		ro->failing = true;
		output_log(LOG_WARNING,
			"Redis %s:%u: %s; EVE records and report counters are dropped and counted (redis_dropped) while it is retried",
			ro->params.server, ro->params.port, what);
	}
	if (ro->ctx != NULL) {
		redisFree(ro->ctx);
		ro->ctx = NULL;
	}
}

static int
authenticate(struct redis_output *ro)
{
	redisReply *reply;
	bool ok;

	if (ro->params.password[0] == '\0')
		return 0;
	if (ro->params.user[0] != '\0')
		reply = redisCommand(ro->ctx, "AUTH %s %s", ro->params.user,
			ro->params.password);
	else
		reply = redisCommand(ro->ctx, "AUTH %s", ro->params.password);
	if (reply == NULL) {
		connection_failed(ro, ro->ctx->errstr);
		return -EIO;
	}
	ok = reply->type != REDIS_REPLY_ERROR;
	if (!ok) {
		char why[160];

		snprintf(why, sizeof(why), "AUTH refused: %.120s", reply->str);
		freeReplyObject(reply);
		connection_failed(ro, why);
		return -EACCES;
	}
	freeReplyObject(reply);
	return 0;
}

static int
connect_redis(struct redis_output *ro)
{
	struct timeval tv = {
		.tv_sec = ro->params.timeout_ms / 1000,
		.tv_usec = (ro->params.timeout_ms % 1000) * 1000,
	};

	ro->ctx = ro->params.server[0] == '/' ?
		redisConnectUnixWithTimeout(ro->params.server, tv) :
		redisConnectWithTimeout(ro->params.server, (int)ro->params.port,
			tv);
	if (ro->ctx == NULL) {
		connection_failed(ro, "cannot allocate a connection");
		return -ENOMEM;
	}
	if (ro->ctx->err) {
		char why[160];

		snprintf(why, sizeof(why), "cannot connect: %.120s",
			ro->ctx->errstr);
		connection_failed(ro, why);
		return -EIO;
	}
	/* A slow Redis holds this thread for at most this long a call. */
	redisSetTimeout(ro->ctx, tv);
	/* On a Unix socket it fails and marks the context failed. */
	if (ro->params.server[0] != '/')
		redisEnableKeepAlive(ro->ctx);
	if (authenticate(ro) < 0)
		return -EIO;
	count_add(&ro->connects, 1);
	if (ro->failing) {
		ro->failing = false;
		output_log(LOG_NOTICE, "Redis %s:%u: connected again",
			ro->params.server, ro->params.port);
	}
	return 0;
}

/*
 * Appends the command of record <item>; returns how many were appended
 * (0 when hiredis could not: out of memory), so that as many replies are
 * read.
 */
static int
append_record(struct redis_output *ro, const struct item *item)
{
	char maxlen[24];
	int ret;

	switch (ro->params.mode) {
	case REDIS_MODE_STREAM:
		if (ro->params.stream_maxlen == 0) {
			ret = redisAppendCommand(ro->ctx, "XADD %s * eve %b",
				ro->params.key, item->line, item->len);
			break;
		}
		snprintf(maxlen, sizeof(maxlen), "%u", ro->params.stream_maxlen);
		ret = redisAppendCommand(ro->ctx, "XADD %s MAXLEN ~ %s * eve %b",
			ro->params.key, maxlen, item->line, item->len);
		break;
	case REDIS_MODE_PUBSUB:
		ret = redisAppendCommand(ro->ctx, "PUBLISH %s %b", ro->params.key,
			item->line, item->len);
		break;
	default:
		ret = redisAppendCommand(ro->ctx, "RPUSH %s %b", ro->params.key,
			item->line, item->len);
		break;
	}
	return ret == REDIS_OK ? 1 : 0;
}

static void
hincrby(struct redis_output *ro, const char *key,
	const struct report_entry *e, const char *column, uint64_t by,
	int *commands)
{
	char field[160], value[24];

	if (redis_report_field(e, column, field, sizeof(field)) < 0)
		return;
	snprintf(value, sizeof(value), "%" PRIu64, by);
	if (redisAppendCommand(ro->ctx, "HINCRBY %s %s %s", key, field,
			value) == REDIS_OK)
		(*commands)++;
}

/*
 * One HINCRBY per column the delta moved; a port seen only at the end of
 * a connection is added by 0, which lists it without counting it, as the
 * local report does.
 */
static int
append_report_to(struct redis_output *ro, const struct report_entry *e,
	const char *key)
{
	static const char *const actions[REPORT_ACTION_COUNT] = {
		"allowed", "denied", "monitored",
	};
	char column[16], ttl[24];
	int commands = 0;
	unsigned int i;

	if (e->connections)
		hincrby(ro, key, e, "connections", e->connections, &commands);
	if (e->bytes[0])
		hincrby(ro, key, e, "bytes_toserver", e->bytes[0], &commands);
	if (e->bytes[1])
		hincrby(ro, key, e, "bytes_toclient", e->bytes[1], &commands);
	if (e->by_port)
		hincrby(ro, key, e, "by_port", e->by_port, &commands);
	if (e->by_content)
		hincrby(ro, key, e, "by_content", e->by_content, &commands);
	for (i = 0; i < REPORT_ACTION_COUNT; i++)
		if (e->actions[i])
			hincrby(ro, key, e, actions[i], e->actions[i],
				&commands);
	for (i = 0; i < e->port_count && i < REPORT_PORTS_MAX; i++) {
		snprintf(column, sizeof(column), "port:%u", e->ports[i]);
		hincrby(ro, key, e, column, e->connections, &commands);
	}
	/*
	 * Kept report.days after its last change, as long as the local
	 * report keeps it; relative to now, not to its day, so that a replay
	 * of an old capture does not write a hash that expires at once.
	 */
	snprintf(ttl, sizeof(ttl), "%u", (ro->params.report_days + 1) * 86400u);
	if (redisAppendCommand(ro->ctx, "EXPIRE %s %s", key, ttl) == REDIS_OK)
		commands++;
	return commands;
}

/*
 * One HINCRBY per column the delta moved, on the shared hash of its day
 * and on this gateway's own; a port seen only at the end of a connection
 * is added by 0, which lists it without counting it, as the local report
 * does.
 */
static int
append_report(struct redis_output *ro, const struct item *item)
{
	char key[REDIS_KEY_MAX + 16 + REDIS_GATEWAY_NAME_MAX];
	int commands;

	redis_report_key(ro->params.report_key, item->delta.day, NULL, key,
		sizeof(key));
	commands = append_report_to(ro, &item->delta, key);
	if (ro->params.gateway[0] == '\0')
		return commands;
	redis_report_key(ro->params.report_key, item->delta.day,
		ro->params.gateway, key, sizeof(key));
	return commands + append_report_to(ro, &item->delta, key);
}

/*
 * Sends <n> items in one pipeline and reads every reply. An item counts
 * as sent when all its commands were acknowledged; an error reply
 * (WRONGTYPE, NOAUTH, ...) loses that item; a broken connection loses
 * every item not yet acknowledged.
 */
static void
send_batch(struct redis_output *ro, struct item **batch, unsigned int n)
{
	int commands[BATCH_MAX];
	unsigned int i, sent = 0, lost = 0;
	int c;

	for (i = 0; i < n; i++)
		commands[i] = batch[i]->kind == ITEM_RECORD ?
			append_record(ro, batch[i]) :
			append_report(ro, batch[i]);
	for (i = 0; i < n; i++) {
		bool item_ok = commands[i] > 0;

		for (c = 0; c < commands[i]; c++) {
			redisReply *reply = NULL;

			if (ro->ctx == NULL ||
					redisGetReply(ro->ctx, (void **)&reply) != REDIS_OK) {
				if (ro->ctx != NULL)
					connection_failed(ro, ro->ctx->errstr[0] ?
						ro->ctx->errstr : "connection lost");
				item_ok = false;
				break;
			}
			if (reply->type == REDIS_REPLY_ERROR) {
				if (item_ok)
					count_add(&ro->errors, 1);
				item_ok = false;
			}
			freeReplyObject(reply);
		}
		if (item_ok)
			sent++;
		else
			lost++;
		free(batch[i]);
	}
	count_add(&ro->sent, sent);
	count_add(&ro->dropped, lost);
}

static void *
sender_main(void *arg)
{
	struct redis_output *ro = arg;
	unsigned int backoff_ms = BACKOFF_FIRST_MS;
	struct item *batch[BATCH_MAX];
	unsigned int n;
	bool stopping;

	for (;;) {
		pthread_mutex_lock(&ro->lock);
		stopping = ro->stopping;
		pthread_mutex_unlock(&ro->lock);
		if (ro->ctx == NULL) {
			/* At stop, one last attempt: then what is left is lost. */
			if (connect_redis(ro) < 0) {
				if (stopping)
					break;
				sleep_ms_unless_stopping(ro, backoff_ms);
				backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ?
					BACKOFF_MAX_MS : backoff_ms * 2;
				continue;
			}
			backoff_ms = BACKOFF_FIRST_MS;
		}
		pthread_mutex_lock(&ro->lock);
		while (ro->count == 0 && !ro->stopping)
			pthread_cond_wait(&ro->wake, &ro->lock);
		n = dequeue(ro, batch, BATCH_MAX);
		stopping = ro->stopping;
		pthread_mutex_unlock(&ro->lock);
		if (n == 0 && stopping)
			break;
		send_batch(ro, batch, n);
	}
	/* Whatever is still queued will not be sent. */
	pthread_mutex_lock(&ro->lock);
	while ((n = dequeue(ro, batch, BATCH_MAX)) > 0) {
		count_add(&ro->dropped, n);
		while (n > 0)
			free(batch[--n]);
	}
	pthread_mutex_unlock(&ro->lock);
	if (ro->ctx != NULL) {
		redisFree(ro->ctx);
		ro->ctx = NULL;
	}
	return NULL;
}

/* Lifecycle */

static int
params_check(const struct redis_output_params *p)
{
	if (p->server[0] == '\0' || p->port < 1 || p->port > 65535 ||
			p->key[0] == '\0' || p->report_key[0] == '\0' ||
			redis_mode_name(p->mode) == NULL ||
			p->queue_size < 16 || p->queue_size > (1u << 20) ||
			p->timeout_ms < 10 || p->timeout_ms > 60000 ||
			p->report_days < 1 || p->report_days > 366)
		return -EINVAL;
	return 0;
}

struct redis_output *
redis_output_create(const struct redis_output_params *params)
{
	struct redis_output *ro;
	int ret;

	if (params == NULL || params_check(params) < 0) {
		errno = EINVAL;
		return NULL;
	}
	ro = calloc(1, sizeof(*ro));
	if (ro == NULL)
		return NULL;
	ro->params = *params;
	ro->ring = calloc(params->queue_size, sizeof(*ro->ring));
	if (ro->ring == NULL)
		goto free_output;
	pthread_mutex_init(&ro->lock, NULL);
	pthread_cond_init(&ro->wake, NULL);
	if (thread_create != NULL) {
		ret = thread_create(&ro->thread, "smbgw-redis", NULL, sender_main,
			ro);
		/* rte_ctrl_thread_create() returns -errno. */
		ret = ret < 0 ? -ret : ret;
	} else {
		ret = pthread_create(&ro->thread, NULL, sender_main, ro);
		if (ret == 0)
			pthread_setname_np(ro->thread, "smbgw-redis");
	}
	if (ret != 0) {
		errno = ret;
		goto destroy_lock;
	}
	return ro;

destroy_lock:
	pthread_cond_destroy(&ro->wake);
	pthread_mutex_destroy(&ro->lock);
	free(ro->ring);
free_output:
	free(ro);
	if (errno == 0)
		errno = ENOMEM;
	return NULL;
}

void
redis_output_counters(const struct redis_output *ro,
	struct redis_output_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (ro == NULL)
		return;
	out->sent = __atomic_load_n(&ro->sent, __ATOMIC_RELAXED);
	out->dropped = __atomic_load_n(&ro->dropped, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&ro->errors, __ATOMIC_RELAXED);
	out->connects = __atomic_load_n(&ro->connects, __ATOMIC_RELAXED);
	pthread_mutex_lock((pthread_mutex_t *)&ro->lock);
	out->queued = ro->count;
	pthread_mutex_unlock((pthread_mutex_t *)&ro->lock);
}

void
redis_output_close_counted(struct redis_output *ro,
	struct redis_output_counters *final)
{
	if (ro == NULL)
		return;
	hand_over(ro);
	pthread_mutex_lock(&ro->lock);
	ro->stopping = true;
	pthread_cond_signal(&ro->wake);
	pthread_mutex_unlock(&ro->lock);
	pthread_join(ro->thread, NULL);
	if (final != NULL)
		redis_output_counters(ro, final);
	pthread_cond_destroy(&ro->wake);
	pthread_mutex_destroy(&ro->lock);
	free(ro->ring);
	free(ro);
}

void
redis_output_free(struct redis_output *ro)
{
	redis_output_close_counted(ro, NULL);
}
