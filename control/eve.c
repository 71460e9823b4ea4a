/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "dcerpc.h"
#include "detector.h"
#include "eve.h"
#include "event.h"
#include "flow.h"
#include "match.h"
#include "record_file.h"
#include "smb.h"

#define NIL UINT32_MAX

enum eve_type {
	EVE_ALERT,
	EVE_SMB,
	EVE_DCERPC,
	EVE_FLOW,
	EVE_STATS,
};

/* One open file or pipe handle, summarised when it goes. */
struct handle {
	uint64_t flow_id;
	uint8_t file_id[16];
	uint32_t hash_next;	/* chain of the flow's bucket */
	uint32_t age_prev;	/* towards the most recently opened */
	uint32_t age_next;	/* towards the least recently opened */
	bool used;
	uint64_t opened_ns;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint32_t reads;
	uint32_t writes;
	uint32_t classes;
	/* The CREATE response, for the endpoints and names of the summary. */
	struct gw_event create;
};

struct eve {
	struct eve_params params;
	struct record_file *file;	/* NULL when there is no path */
	struct eve_counters counters;
	uint32_t capacity;
	uint32_t bucket_mask;
	uint32_t *buckets;
	struct handle *handles;
	uint32_t free_head;
	uint32_t newest;
	uint32_t oldest;
	uint64_t last_ns;	/* latest event time, for summaries at close */
	char record[EVE_RECORD_MAX];
};

/* JSON building into a fixed buffer; overflow marks the record bad. */
struct json {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
	bool first[8];	/* no member written yet, per nesting level */
	int depth;
};

/* Time */

char *
eve_format_time(uint64_t ts_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ts_ns / 1000000000ull);
	unsigned int usec = (unsigned int)(ts_ns % 1000000000ull / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, usec);
	return buf;
}

/* JSON */

static void
json_put(struct json *j, const char *s, size_t n)
{
	if (j->len + n >= j->size) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

/* Length of the valid UTF-8 sequence at <s>, or 0 if it is not one. */
static size_t
utf8_sequence(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
			(cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

size_t
eve_json_string(char *out, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = 0;
	char esc[8];

#define EMIT(str, n) do { \
		size_t n_ = (n); \
		if (size > 0 && need + n_ < size) \
			memcpy(out + need, (str), n_); \
		need += n_; \
	} while (0)

	EMIT("\"", 1);
	while (*p != '\0') {
		size_t n = utf8_sequence(p);

		if (n == 0) {
			EMIT("\\ufffd", 6);
			p++;
			continue;
		}
		if (n > 1) {
			EMIT((const char *)p, n);
			p += n;
			continue;
		}
		switch (*p) {
		case '"': EMIT("\\\"", 2); break;
		case '\\': EMIT("\\\\", 2); break;
		case '\n': EMIT("\\n", 2); break;
		case '\r': EMIT("\\r", 2); break;
		case '\t': EMIT("\\t", 2); break;
		case '\b': EMIT("\\b", 2); break;
		case '\f': EMIT("\\f", 2); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				EMIT(esc, 6);
			} else {
				EMIT((const char *)p, 1);
			}
			break;
		}
		p++;
	}
	EMIT("\"", 1);
#undef EMIT
	if (size > 0)
		out[need < size ? need : size - 1] = '\0';
	return need;
}

static void
json_key(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		json_put(j, ",", 1);
	j->first[j->depth] = false;
	if (key != NULL) {
		json_put(j, "\"", 1);
		json_put(j, key, strlen(key));
		json_put(j, "\":", 2);
	}
}

static void
json_string(struct json *j, const char *key, const char *value)
{
	size_t need;

	json_key(j, key);
	if (j->overflow)
		return;
	need = eve_json_string(j->buf + j->len, j->size - j->len, value);
	if (j->len + need >= j->size)
		j->overflow = true;
	else
		j->len += need;
}

/* A string member only when <value> is not empty. */
static void
json_text(struct json *j, const char *key, const char *value)
{
	if (value != NULL && value[0] != '\0')
		json_string(j, key, value);
}

static void
json_raw(struct json *j, const char *key, const char *text)
{
	json_key(j, key);
	json_put(j, text, strlen(text));
}

static void
json_u64(struct json *j, const char *key, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRIu64, value);
	json_raw(j, key, text);
}

static void
json_bool(struct json *j, const char *key, bool value)
{
	json_raw(j, key, value ? "true" : "false");
}

static void
json_hex32(struct json *j, const char *key, uint32_t value)
{
	char text[16];

	snprintf(text, sizeof(text), "0x%08x", value);
	json_string(j, key, text);
}

static void
json_time(struct json *j, const char *key, uint64_t ts_ns)
{
	char text[40];

	json_string(j, key, eve_format_time(ts_ns, text, sizeof(text)));
}

static void
json_open(struct json *j, const char *key, char bracket)
{
	json_key(j, key);
	json_put(j, &bracket, 1);
	if (j->depth + 1 < (int)(sizeof(j->first) / sizeof(j->first[0])))
		j->depth++;
	else
		j->overflow = true;
	j->first[j->depth] = true;
}

static void
json_close(struct json *j, char bracket)
{
	json_put(j, &bracket, 1);
	if (j->depth > 0)
		j->depth--;
}

/* Names */

static const char *
dialect_name(uint16_t dialect, char *buf, size_t size)
{
	switch (dialect) {
	case 0: return NULL;
	case SMB_DIALECT_SMB1_NT_LM_012: return "NT LM 0.12";
	case 0x0202: return "2.02";
	case 0x0210: return "2.1";
	case 0x0300: return "3.0";
	case 0x0302: return "3.0.2";
	case 0x0311: return "3.1.1";
	case SMB_DIALECT_SMB2_WILDCARD: return "2.??";
	default:
		snprintf(buf, size, "0x%04x", dialect);
		return buf;
	}
}

static const char *
status_name(uint32_t status)
{
	switch (status) {
	case 0x00000000u: return "STATUS_SUCCESS";
	case 0xc0000022u: return "STATUS_ACCESS_DENIED";
	case 0xc0000034u: return "STATUS_OBJECT_NAME_NOT_FOUND";
	case 0xc0000035u: return "STATUS_OBJECT_NAME_COLLISION";
	case 0xc000003au: return "STATUS_OBJECT_PATH_NOT_FOUND";
	case 0xc0000043u: return "STATUS_SHARING_VIOLATION";
	case 0xc0000064u: return "STATUS_NO_SUCH_USER";
	case 0xc000006au: return "STATUS_WRONG_PASSWORD";
	case 0xc000006du: return "STATUS_LOGON_FAILURE";
	case 0xc000006eu: return "STATUS_ACCOUNT_RESTRICTION";
	case 0xc000006fu: return "STATUS_INVALID_LOGON_HOURS";
	case 0xc0000070u: return "STATUS_INVALID_WORKSTATION";
	case 0xc0000071u: return "STATUS_PASSWORD_EXPIRED";
	case 0xc0000072u: return "STATUS_ACCOUNT_DISABLED";
	case 0xc00000ccu: return "STATUS_BAD_NETWORK_NAME";
	case 0xc0000193u: return "STATUS_ACCOUNT_EXPIRED";
	case 0xc0000224u: return "STATUS_PASSWORD_MUST_CHANGE";
	case 0xc0000234u: return "STATUS_ACCOUNT_LOCKED_OUT";
	case 0xc0000225u: return "STATUS_NOT_FOUND";
	case 0x1c010002u: return "nca_s_op_rng_error";
	case 0x00000005u: return "ERROR_ACCESS_DENIED";
	default: return NULL;
	}
}

static void
json_status(struct json *j, uint32_t status)
{
	const char *name = status_name(status);

	if (name != NULL)
		json_string(j, "status", name);
	json_hex32(j, "status_code", status);
}

static const char *
disposition_name(uint32_t disposition)
{
	static const char *const names[] = {
		"supersede", "open", "create", "open_if", "overwrite",
		"overwrite_if",
	};

	return disposition < sizeof(names) / sizeof(names[0]) ?
		names[disposition] : "?";
}

static void
json_address(struct json *j, const char *key, const uint8_t addr[16],
	uint8_t ip_version)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, text,
			sizeof(text)) == NULL)
		text[0] = '\0';
	json_string(j, key, text);
}

static void
json_classes(struct json *j, const struct eve *eve, uint32_t classes)
{
	unsigned int id;

	if (classes == 0)
		return;
	json_open(j, "classes", '[');
	for (id = 0; id < 32; id++) {
		const char *name;
		char fallback[16];

		if (!(classes & (1u << id)))
			continue;
		name = eve->params.watchlist != NULL ?
			watchlist_class_name(eve->params.watchlist, id) : NULL;
		if (name == NULL) {
			snprintf(fallback, sizeof(fallback), "class%u", id);
			name = fallback;
		}
		json_string(j, NULL, name);
	}
	json_close(j, ']');
}

/* Records */

static void
record_begin(struct eve *eve, struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->buf = eve->record;
	j->size = sizeof(eve->record);
	j->buf[0] = '\0';
	j->first[0] = true;
	json_put(j, "{", 1);
	j->depth = 1;
	j->first[1] = true;
	/* First, so that a merged stream says at once whose record it is. */
	if (eve->params.gateway[0] != '\0')
		json_string(j, "gateway", eve->params.gateway);
}

static const char *const type_names[] = {
	"alert", "smb", "dcerpc", "flow", "stats",
};

static const char *
app_proto_of(const struct gw_event *ev)
{
	switch (ev->kind) {
	case EVENT_FLOW:
		return ev->u.flow.app == FLOW_APP_DCERPC ? "dcerpc" : "smb";
	case EVENT_DCERPC:
		return ev->flags & EVENT_F_ON_PIPE ? "smb" : "dcerpc";
	default:
		return "smb";
	}
}

/* The members every record about a connection starts with. */
static void
record_header(struct json *j, enum eve_type type, uint64_t ts_ns,
	const struct gw_event *ev, const uint8_t *client,
	const uint8_t *server, uint8_t ip_version,
	const struct eve_context *ctx)
{
	json_time(j, "timestamp", ts_ns);
	if (ev != NULL)
		json_u64(j, "flow_id", ev->flow_id & INT64_MAX);
	json_string(j, "event_type", type_names[type]);
	json_address(j, "src_ip", client, ip_version);
	if (ev != NULL)
		json_u64(j, "src_port", ev->client_port);
	json_address(j, "dest_ip", server, ip_version);
	if (ev != NULL) {
		json_u64(j, "dest_port", ev->server_port);
		if (ev->vlan_outer != 0 || ev->vlan_inner != 0) {
			json_open(j, "vlan", '[');
			json_u64(j, NULL, ev->vlan_outer);
			if (ev->vlan_inner != 0)
				json_u64(j, NULL, ev->vlan_inner);
			json_close(j, ']');
		}
		json_string(j, "proto", "TCP");
		json_string(j, "app_proto", app_proto_of(ev));
	}
	if (ctx != NULL) {
		json_text(j, "src_segment", ctx->src_segment);
		json_text(j, "dest_segment", ctx->dest_segment);
		json_text(j, "action", ctx->action);
	}
}

static int
record_end(struct eve *eve, struct json *j, enum eve_type type, int priority)
{
	json_put(j, "}\n", 2);
	if (j->overflow) {
		eve->counters.oversize++;
		return 0;
	}
	if (eve->params.syslog && type == EVE_ALERT) {
		j->buf[j->len - 1] = '\0';
		syslog(priority, "%s", j->buf);
		j->buf[j->len - 1] = '\n';
	}
	if (eve->params.sink != NULL)
		eve->params.sink(eve->params.sink_arg, j->buf, j->len);
	if (eve->file != NULL && record_file_append(eve->file, j->buf,
			j->len) < 0) {
		eve->counters.write_errors++;
		return -EIO;
	}
	eve->counters.records[type]++;
	return 0;
}

/* Handle table */

static uint32_t
bucket_of(const struct eve *eve, uint64_t flow_id)
{
	uint64_t h = flow_id * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & eve->bucket_mask;
}

static struct handle *
handle_find(struct eve *eve, uint64_t flow_id, const uint8_t file_id[16])
{
	uint32_t i;

	for (i = eve->buckets[bucket_of(eve, flow_id)]; i != NIL;
			i = eve->handles[i].hash_next) {
		struct handle *h = &eve->handles[i];

		if (h->flow_id == flow_id && memcmp(h->file_id, file_id, 16) == 0)
			return h;
	}
	return NULL;
}

static void
handle_remove(struct eve *eve, struct handle *h)
{
	uint32_t index = (uint32_t)(h - eve->handles);
	uint32_t *link = &eve->buckets[bucket_of(eve, h->flow_id)];

	while (*link != NIL && *link != index)
		link = &eve->handles[*link].hash_next;
	if (*link == index)
		*link = h->hash_next;
	if (h->age_prev != NIL)
		eve->handles[h->age_prev].age_next = h->age_next;
	else
		eve->newest = h->age_next;
	if (h->age_next != NIL)
		eve->handles[h->age_next].age_prev = h->age_prev;
	else
		eve->oldest = h->age_prev;
	h->used = false;
	h->hash_next = eve->free_head;
	eve->free_head = index;
}

/* The smb record of a handle: what was opened and what went through it. */
static int
handle_summary(struct eve *eve, struct handle *h, uint64_t ts_ns,
	const char *reason)
{
	const struct gw_event *c = &h->create;
	const struct event_smb *smb = &c->u.smb;
	char dialect[16];
	struct json j;
	int ret;

	record_begin(eve, &j);
	record_header(&j, EVE_SMB, ts_ns, c, c->client_addr, c->server_addr,
		c->ip_version, NULL);
	json_open(&j, "smb", '{');
	json_string(&j, "command", smb_command_name(smb->version, c->command));
	json_status(&j, c->status);
	json_text(&j, "dialect", dialect_name(smb->dialect, dialect,
		sizeof(dialect)));
	json_u64(&j, "session_id", smb->session_id);
	json_u64(&j, "tree_id", smb->tree_id);
	json_text(&j, "share", smb->share);
	json_string(&j, "filename", smb->name);
	json_bool(&j, "named_pipe", smb->is_pipe);
	json_hex32(&j, "access", smb->desired_access);
	json_string(&j, "disposition", disposition_name(smb->disposition));
	json_time(&j, "opened", h->opened_ns);
	json_time(&j, "closed", ts_ns);
	json_string(&j, "closed_by", reason);
	json_u64(&j, "reads", h->reads);
	json_u64(&j, "bytes_read", h->bytes_read);
	json_u64(&j, "writes", h->writes);
	json_u64(&j, "bytes_written", h->bytes_written);
	json_classes(&j, eve, h->classes);
	json_close(&j, '}');
	ret = record_end(eve, &j, EVE_SMB, LOG_INFO);
	handle_remove(eve, h);
	return ret;
}

static int
handle_open(struct eve *eve, const struct gw_event *ev)
{
	struct handle *h = handle_find(eve, ev->flow_id, ev->u.smb.file_id);
	uint32_t index, bucket;
	int ret = 0;

	if (h != NULL)
		ret = handle_summary(eve, h, ev->ts_ns, "reopened");
	if (eve->free_head == NIL) {
		eve->counters.handles_evicted++;
		if (handle_summary(eve, &eve->handles[eve->oldest], ev->ts_ns,
				"evicted") < 0)
			ret = -EIO;
	}
	index = eve->free_head;
	h = &eve->handles[index];
	eve->free_head = h->hash_next;
	memset(h, 0, sizeof(*h));
	h->used = true;
	h->flow_id = ev->flow_id;
	memcpy(h->file_id, ev->u.smb.file_id, 16);
	h->opened_ns = ev->ts_ns;
	h->classes = ev->watch_classes;
	h->create = *ev;
	bucket = bucket_of(eve, ev->flow_id);
	h->hash_next = eve->buckets[bucket];
	eve->buckets[bucket] = index;
	h->age_prev = NIL;
	h->age_next = eve->newest;
	if (eve->newest != NIL)
		eve->handles[eve->newest].age_prev = index;
	eve->newest = index;
	if (eve->oldest == NIL)
		eve->oldest = index;
	return ret;
}

/* Summarises every handle of <flow_id> still open. */
static int
handles_end_flow(struct eve *eve, uint64_t flow_id, uint64_t ts_ns)
{
	uint32_t i = eve->buckets[bucket_of(eve, flow_id)];
	int ret = 0;

	while (i != NIL) {
		struct handle *h = &eve->handles[i];

		i = h->hash_next;
		if (h->flow_id == flow_id &&
				handle_summary(eve, h, ts_ns, "flow_end") < 0)
			ret = -EIO;
	}
	return ret;
}

/* Creation */

void
eve_params_set_defaults(struct eve_params *params)
{
	memset(params, 0, sizeof(*params));
	params->max_handles = 4096;
}

struct eve *
eve_open(const struct eve_params *params)
{
	uint32_t buckets = 16, i;
	struct eve *eve;
	int saved;

	if (params == NULL || params->max_handles < 16 ||
			params->max_handles > (1u << 20) ||
			strnlen(params->path, EVE_PATH_MAX) == EVE_PATH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	eve = calloc(1, sizeof(*eve));
	if (eve == NULL)
		return NULL;
	eve->params = *params;
	eve->capacity = params->max_handles;
	while (buckets < eve->capacity)
		buckets <<= 1;
	eve->bucket_mask = buckets - 1;
	eve->buckets = malloc(buckets * sizeof(*eve->buckets));
	eve->handles = calloc(eve->capacity, sizeof(*eve->handles));
	if (eve->buckets == NULL || eve->handles == NULL) {
		errno = ENOMEM;
		goto free_tables;
	}
	for (i = 0; i < buckets; i++)
		eve->buckets[i] = NIL;
	for (i = 0; i < eve->capacity; i++)
		eve->handles[i].hash_next = i + 1 < eve->capacity ? i + 1 : NIL;
	eve->free_head = 0;
	eve->newest = NIL;
	eve->oldest = NIL;
	if (params->path[0] != '\0') {
		struct record_file_params file_params = {
			.path = params->path,
			.what = "EVE log",
			.write = params->write,
		};

		eve->file = record_file_open(&file_params);
		if (eve->file == NULL)
			goto free_tables;
	}
	if (params->syslog)
		openlog("smbgw", LOG_NDELAY | LOG_PID, LOG_DAEMON);
	return eve;

free_tables:
	saved = errno;
	free(eve->buckets);
	free(eve->handles);
	free(eve);
	errno = saved;
	return NULL;
}

int
eve_reopen(struct eve *eve)
{
	eve->counters.reopens++;
	if (eve->file == NULL)
		return 0;
	return record_file_reopen(eve->file);
}

void
eve_close_counted(struct eve *eve, struct output_counters *file_counters)
{
	if (eve == NULL)
		return;
	while (eve->oldest != NIL) {
		struct handle *h = &eve->handles[eve->oldest];

		handle_summary(eve, h, eve->last_ns > h->opened_ns ?
			eve->last_ns : h->opened_ns, "shutdown");
	}
	if (eve->file != NULL)
		record_file_flush(eve->file);
	if (file_counters != NULL)
		*file_counters = *eve_file_counters(eve);
	record_file_close(eve->file);
	if (eve->params.syslog)
		closelog();
	free(eve->buckets);
	free(eve->handles);
	free(eve);
}

void
eve_close(struct eve *eve)
{
	eve_close_counted(eve, NULL);
}

int
eve_flush(struct eve *eve)
{
	if (eve->file != NULL && record_file_flush(eve->file) < 0) {
		eve->counters.write_errors++;
		return -EIO;
	}
	return 0;
}

const struct output_counters *
eve_file_counters(const struct eve *eve)
{
	static const struct output_counters none;

	return eve != NULL && eve->file != NULL ?
		record_file_counters(eve->file) : &none;
}

const struct eve_counters *
eve_counters(const struct eve *eve)
{
	return &eve->counters;
}

/* Event records */

/*
 * Opens an smb record: the EVE header of <ev>, then "smb": { command,
 * status, dialect, session_id, ... left open for the caller's fields.
 */
static void
smb_record_begin(struct eve *eve, struct json *j, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	const struct event_smb *smb = &ev->u.smb;
	char dialect[16];

	record_begin(eve, j);
	record_header(j, EVE_SMB, ev->ts_ns, ev, ev->client_addr,
		ev->server_addr, ev->ip_version, ctx);
	json_open(j, "smb", '{');
	json_string(j, "command", smb_command_name(smb->version, ev->command));
	json_status(j, ev->status);
	json_text(j, "dialect", dialect_name(smb->dialect, dialect,
		sizeof(dialect)));
	json_u64(j, "session_id", smb->session_id);
}


static int
write_logon(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	const struct event_smb *smb = &ev->u.smb;
	struct json j;

	smb_record_begin(eve, &j, ev, ctx);
	json_bool(&j, "success", smb->success);
	if (smb->version == 2) {
		json_bool(&j, "guest", smb->session_flags & SMB2_SESSION_FLAG_IS_GUEST);
		json_bool(&j, "anonymous", smb->session_flags & SMB2_SESSION_FLAG_IS_NULL);
		json_bool(&j, "encrypt_data",
			smb->session_flags & SMB2_SESSION_FLAG_ENCRYPT_DATA);
	}
	json_text(&j, "auth", smb_auth_name(smb->auth));
	/* A Kerberos ticket names no user: no NTLMSSP object to mislead. */
	if (smb->auth != SMB_AUTH_KERBEROS) {
		json_open(&j, "ntlmssp", '{');
		json_string(&j, "user", smb->user);
		json_string(&j, "domain", smb->domain);
		json_string(&j, "host", smb->workstation);
		json_close(&j, '}');
	}
	json_close(&j, '}');
	return record_end(eve, &j, EVE_SMB, LOG_INFO);
}

static int
write_tree(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	const struct event_smb *smb = &ev->u.smb;
	static const char *const share_types[] = { "?", "disk", "pipe", "print" };
	struct json j;

	smb_record_begin(eve, &j, ev, ctx);
	json_u64(&j, "tree_id", smb->tree_id);
	json_string(&j, "share", smb->share);
	json_text(&j, "path", smb->name);
	if (smb->share_type < 4 && smb->share_type != 0)
		json_string(&j, "share_type", share_types[smb->share_type]);
	json_classes(&j, eve, ev->watch_classes);
	json_close(&j, '}');
	return record_end(eve, &j, EVE_SMB, LOG_INFO);
}

/* A CREATE that failed has no handle: one record says so. */
static int
write_failed_create(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	const struct event_smb *smb = &ev->u.smb;
	struct json j;

	smb_record_begin(eve, &j, ev, ctx);
	json_u64(&j, "tree_id", smb->tree_id);
	json_text(&j, "share", smb->share);
	json_string(&j, "filename", smb->name);
	json_bool(&j, "named_pipe", smb->is_pipe);
	json_hex32(&j, "access", smb->desired_access);
	json_string(&j, "disposition", disposition_name(smb->disposition));
	json_classes(&j, eve, ev->watch_classes);
	json_close(&j, '}');
	return record_end(eve, &j, EVE_SMB, LOG_INFO);
}

/* The first sealed record of a flow: what cannot be seen is said. */
static int
write_encrypted(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	char dialect[16];
	struct json j;

	record_begin(eve, &j);
	record_header(&j, EVE_SMB, ev->ts_ns, ev, ev->client_addr,
		ev->server_addr, ev->ip_version, ctx);
	json_open(&j, "smb", '{');
	json_string(&j, "command", "TRANSFORM");
	json_text(&j, "dialect", dialect_name(ev->u.smb.dialect, dialect,
		sizeof(dialect)));
	json_bool(&j, "encrypted", true);
	json_string(&j, "note",
		"session sealed: later commands, names and RPC calls not visible");
	json_close(&j, '}');
	return record_end(eve, &j, EVE_SMB, LOG_INFO);
}

static int
on_smb_event(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	bool response = (ev->flags & EVENT_F_RESPONSE) != 0;
	struct handle *h;

	switch (ev->subtype) {
	case SMB_FACT_LOGON:
		return response ? write_logon(eve, ev, ctx) : 0;
	case SMB_FACT_TREE_CONNECT:
		return response ? write_tree(eve, ev, ctx) : 0;
	case SMB_FACT_CREATE:
		if (!response)
			return 0;
		if (ev->status != 0)
			return write_failed_create(eve, ev, ctx);
		return handle_open(eve, ev);
	case SMB_FACT_READ:
	case SMB_FACT_WRITE:
		h = handle_find(eve, ev->flow_id, ev->u.smb.file_id);
		if (h == NULL)
			return 0;
		if (ev->subtype == SMB_FACT_READ) {
			h->reads++;
			h->bytes_read += ev->u.smb.length;
		} else {
			h->writes++;
			h->bytes_written += ev->u.smb.length;
		}
		return 0;
	case SMB_FACT_CLOSE:
		h = handle_find(eve, ev->flow_id, ev->u.smb.file_id);
		return h != NULL ? handle_summary(eve, h, ev->ts_ns, "close") : 0;
	case SMB_FACT_ENCRYPTED:
		return write_encrypted(eve, ev, ctx);
	default:
		return 0;
	}
}

static const char *
rpc_type_name(uint8_t subtype)
{
	switch (subtype) {
	case DCERPC_FACT_BIND: return "BIND";
	case DCERPC_FACT_BIND_NAK: return "BIND_NAK";
	case DCERPC_FACT_ALTER_CONTEXT: return "ALTER_CONTEXT";
	case DCERPC_FACT_REQUEST: return "REQUEST";
	case DCERPC_FACT_FAULT: return "FAULT";
	default: return NULL;
	}
}

static int
on_dcerpc_event(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	const char *type = rpc_type_name(ev->subtype);
	char uuid[37];
	struct json j;

	if (type == NULL)
		return 0;
	record_begin(eve, &j);
	record_header(&j, EVE_DCERPC, ev->ts_ns, ev, ev->client_addr,
		ev->server_addr, ev->ip_version, ctx);
	json_open(&j, "dcerpc", '{');
	json_string(&j, "request", type);
	json_string(&j, "interface", rpc->interface != NULL ?
		rpc->interface : "unknown");
	json_string(&j, "interface_uuid", dcerpc_uuid_format(rpc->iface_uuid,
		uuid));
	if (ev->subtype == DCERPC_FACT_REQUEST || ev->subtype == DCERPC_FACT_FAULT) {
		if (rpc->opnum != 0xffff)
			json_u64(&j, "opnum", rpc->opnum);
		json_text(&j, "operation", rpc->operation);
		json_u64(&j, "call_id", rpc->call_id);
	}
	if (ev->subtype == DCERPC_FACT_REQUEST)
		json_u64(&j, "stub_data_size", rpc->stub_len);
	if (ev->subtype == DCERPC_FACT_FAULT || ev->subtype == DCERPC_FACT_BIND_NAK)
		json_status(&j, ev->status);
	if (ev->flags & EVENT_F_ON_PIPE)
		json_text(&j, "pipe", rpc->pipe);
	if (rpc->args == DCERPC_ARGS_SERVICE)
		json_text(&j, "service", rpc->name);
	else if (rpc->args == DCERPC_ARGS_TASK)
		json_text(&j, "task", rpc->name);
	json_text(&j, "command", rpc->command);
	if (ev->flags & EVENT_F_TRUNCATED)
		json_bool(&j, "truncated", true);
	json_classes(&j, eve, ev->watch_classes);
	json_close(&j, '}');
	return record_end(eve, &j, EVE_DCERPC, LOG_INFO);
}

static int
on_flow_event(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	const struct event_flow *flow = &ev->u.flow;
	char dialect[16];
	struct json j;
	int ret;

	if (ev->subtype != EVENT_FLOW_END)
		return 0;
	ret = handles_end_flow(eve, ev->flow_id, ev->ts_ns);
	record_begin(eve, &j);
	record_header(&j, EVE_FLOW, ev->ts_ns, ev, ev->client_addr,
		ev->server_addr, ev->ip_version, ctx);
	json_open(&j, "flow", '{');
	json_u64(&j, "pkts_toserver", flow->packets[0]);
	json_u64(&j, "pkts_toclient", flow->packets[1]);
	json_u64(&j, "bytes_toserver", flow->bytes[0]);
	json_u64(&j, "bytes_toclient", flow->bytes[1]);
	json_time(&j, "start", flow->first_seen_ns);
	json_time(&j, "end", ev->ts_ns);
	json_string(&j, "detected_by", flow->method == EVENT_DETECT_CONTENT ?
		"content" : "port");
	json_bool(&j, "nonstandard_port",
		(ev->flags & EVENT_F_NONSTANDARD_PORT) != 0);
	json_text(&j, "dialect", dialect_name(flow->dialect, dialect,
		sizeof(dialect)));
	json_classes(&j, eve, ev->watch_classes);
	json_close(&j, '}');
	if (record_end(eve, &j, EVE_FLOW, LOG_INFO) < 0)
		ret = -EIO;
	return ret;
}

int
eve_write_event(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	uint64_t before = eve->counters.records[EVE_SMB] +
		eve->counters.records[EVE_DCERPC] + eve->counters.records[EVE_FLOW];
	int ret;

	if (ev->ts_ns > eve->last_ns)
		eve->last_ns = ev->ts_ns;
	switch (ev->kind) {
	case EVENT_FLOW:
		ret = on_flow_event(eve, ev, ctx);
		break;
	case EVENT_SMB:
		ret = on_smb_event(eve, ev, ctx);
		break;
	case EVENT_DCERPC:
		ret = on_dcerpc_event(eve, ev, ctx);
		break;
	default:
		return 0;
	}
	if (ret < 0)
		return ret;
	return (int)(eve->counters.records[EVE_SMB] +
		eve->counters.records[EVE_DCERPC] +
		eve->counters.records[EVE_FLOW] - before);
}

/* Alerts */

static void
json_mitre(struct json *j, const char *ids)
{
	char id[16];
	size_t n;

	json_open(j, "mitre", '[');
	while (*ids != '\0') {
		n = strcspn(ids, ",");
		if (n > 0 && n < sizeof(id)) {
			memcpy(id, ids, n);
			id[n] = '\0';
			json_string(j, NULL, id);
		}
		ids += n;
		if (*ids == ',')
			ids++;
	}
	json_close(j, ']');
}

static void
json_evidence(struct json *j, const struct detector_alert *a)
{
	const struct detector_evidence *e = a->evidence;
	unsigned int bit;

	json_open(j, "evidence", '{');
	if (a->rule == DETECTOR_RULE_LATERAL_MOVEMENT) {
		json_open(j, "conditions", '[');
		for (bit = DETECTOR_COND_LOGON; bit <= DETECTOR_COND_SHARE_REPEAT;
				bit <<= 1)
			if (e->conditions & bit)
				json_string(j, NULL, detector_condition_name(bit));
		json_close(j, ']');
	}
	if (e->logon_ns != 0)
		json_time(j, a->rule == DETECTOR_RULE_LOGON_FAILURE_BURST ?
			"last_failure" : "logon", e->logon_ns);
	if (e->exec_kinds != 0) {
		json_open(j, "execution", '[');
		if (e->exec_kinds & DETECTOR_EXEC_FILE)
			json_string(j, NULL, "file_written");
		if (e->exec_kinds & DETECTOR_EXEC_SERVICE)
			json_string(j, NULL, "service");
		if (e->exec_kinds & DETECTOR_EXEC_TASK)
			json_string(j, NULL, "task");
		json_close(j, ']');
		json_time(j, "execution_time", e->exec_ns);
		json_bool(j, "exact", e->exact);
	}
	if (e->repeated_share[0] != '\0') {
		json_string(j, "repeated_share", e->repeated_share);
		json_u64(j, "share_accesses", e->share_accesses);
		json_time(j, "share_first", e->share_first_ns);
		json_time(j, "share_last", e->share_last_ns);
	}
	if (a->rule == DETECTOR_RULE_LOGON_FAILURE_BURST) {
		json_u64(j, "failures", e->failures);
		json_hex32(j, "last_status", e->status);
	}
	if (e->encrypted)
		json_bool(j, "encrypted", true);
	if (a->rule == DETECTOR_RULE_UNVERIFIABLE) {
		json_string(j, "unverifiable",
			e->unverifiable == EVENT_UNVERIFIABLE_COMPRESSED ?
			"compressed" : "encrypted");
		json_bool(j, "unverifiable_action", e->unverifiable_action);
		json_u64(j, "policy_rule", e->policy_rule);
	}
	json_close(j, '}');
}

int
eve_write_alert(struct eve *eve, const struct detector_alert *a,
	const struct eve_context *ctx)
{
	const struct detector_evidence *e = a->evidence;
	const struct detector_signature *sig = a->signature;
	static const int priorities[] = { LOG_WARNING, LOG_ALERT, LOG_WARNING,
		LOG_NOTICE };
	const char *action = ctx != NULL && ctx->action != NULL ?
		ctx->action : "allowed";
	unsigned int i;
	struct json j;
	int ret;

	record_begin(eve, &j);
	record_header(&j, EVE_ALERT, a->event != NULL ? a->event->ts_ns :
		a->last_ns, a->event, a->client_addr, a->server_addr,
		a->ip_version, ctx);
	json_open(&j, "alert", '{');
	json_string(&j, "action", action);
	json_u64(&j, "gid", 1);
	json_u64(&j, "signature_id", sig->id);
	json_u64(&j, "rev", 1);
	json_string(&j, "signature", sig->name);
	json_string(&j, "category", sig->category);
	json_u64(&j, "severity", sig->severity);
	json_mitre(&j, a->mitre);
	json_bool(&j, "update", a->update);
	json_u64(&j, "count", a->count);
	json_time(&j, "first_seen", a->first_ns);
	json_time(&j, "last_seen", a->last_ns);
	json_close(&j, '}');

	if (e->user[0] != '\0' || e->share[0] != '\0' || e->file[0] != '\0' ||
			e->repeated_share[0] != '\0' ||
			smb_auth_name(e->auth) != NULL) {
		json_open(&j, "smb", '{');
		json_text(&j, "share", e->share[0] != '\0' ? e->share :
			e->repeated_share);
		json_text(&j, "filename", e->file);
		json_text(&j, "auth", smb_auth_name(e->auth));
		if (e->user[0] != '\0' || e->domain[0] != '\0') {
			json_open(&j, "ntlmssp", '{');
			json_string(&j, "user", e->user);
			json_string(&j, "domain", e->domain);
			json_string(&j, "host", e->workstation);
			json_close(&j, '}');
		}
		json_close(&j, '}');
	}
	if (e->operation_count > 0 || e->command[0] != '\0' ||
			e->service[0] != '\0') {
		json_open(&j, "dcerpc", '{');
		if (e->operation_count > 0) {
			json_string(&j, "interface", e->interfaces[
				e->operation_count - 1]);
			json_open(&j, "operations", '[');
			for (i = 0; i < e->operation_count; i++)
				json_string(&j, NULL, e->operations[i]);
			json_close(&j, ']');
		}
		json_text(&j, "service", e->service);
		json_text(&j, "command", e->command);
		json_close(&j, '}');
	}
	json_evidence(&j, a);
	ret = record_end(eve, &j, EVE_ALERT,
		priorities[sig->severity < 4 ? sig->severity : 3]);
	if (ret == 0)
		ret = eve_flush(eve);
	return ret;
}

int
eve_write_stats(struct eve *eve, uint64_t ts_ns, const struct eve_stat *stats,
	unsigned int count)
{
	struct json j;
	unsigned int i;

	record_begin(eve, &j);
	json_time(&j, "timestamp", ts_ns);
	json_string(&j, "event_type", "stats");
	json_open(&j, "stats", '{');
	for (i = 0; i < count; i++)
		json_u64(&j, stats[i].name, stats[i].value);
	json_close(&j, '}');
	return record_end(eve, &j, EVE_STATS, LOG_INFO);
}
