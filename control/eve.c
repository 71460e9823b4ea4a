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
#include <time.h>
#include <unistd.h>

#include "ctl_json.h"
#include "dcerpc.h"
#include "detector.h"
#include "eve.h"
#include "eve_syslog.h"
#include "event.h"
#include "flow.h"
#include "match.h"
#include "record_file.h"
#include "smb.h"

#define NIL UINT32_MAX

/* FILE_DELETE_ON_CLOSE among a CREATE's options (MS-SMB2 2.2.13). */
#define SMB_FILE_DELETE_ON_CLOSE 0x00001000u

/* Flows that raised an alert, remembered for flow.alerted. */
#define ALERTED_FLOWS 1024

enum eve_type {
	EVE_ALERT,
	EVE_SMB,
	EVE_DCERPC,
	EVE_FLOW,
	EVE_STATS,
	EVE_QUIC,
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
	uint64_t alerted[ALERTED_FLOWS];	/* ring of flow ids, 0: none */
	unsigned int alerted_next;
	struct eve_syslog *syslog;	/* alerts to syslog, or NULL */
	char record[EVE_RECORD_MAX];
};

/*
 * Records are written with the control socket's JSON writer
 * (ctl_json.h): one escaping and one UTF-8 check for every JSON text the
 * gateway makes. The helpers below only add EVE's conventions to it.
 */

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

uint64_t
eve_flow_id(uint64_t id)
{
	return id & EVE_FLOW_ID_MASK;
}

/* JSON helpers */

/* A string member; a NULL value is written as "" (EVE has no nulls). */
static void
json_string(struct ctl_json_writer *j, const char *key, const char *value)
{
	ctl_json_str(j, key, value != NULL ? value : "");
}

/* A string member only when <value> is not empty. */
static void
json_text(struct ctl_json_writer *j, const char *key, const char *value)
{
	if (value != NULL && value[0] != '\0')
		ctl_json_str(j, key, value);
}

static void
json_u64(struct ctl_json_writer *j, const char *key, uint64_t value)
{
	ctl_json_u64(j, key, value);
}

static void
json_bool(struct ctl_json_writer *j, const char *key, bool value)
{
	ctl_json_bool(j, key, value);
}

static void
json_hex32(struct ctl_json_writer *j, const char *key, uint32_t value)
{
	char text[16];

	snprintf(text, sizeof(text), "0x%08x", value);
	ctl_json_str(j, key, text);
}

static void
json_time(struct ctl_json_writer *j, const char *key, uint64_t ts_ns)
{
	char text[40];

	ctl_json_str(j, key, eve_format_time(ts_ns, text, sizeof(text)));
}

static void
json_object(struct ctl_json_writer *j, const char *key)
{
	ctl_json_object_begin(j, key);
}

static void
json_array(struct ctl_json_writer *j, const char *key)
{
	ctl_json_array_begin(j, key);
}

static void
json_end_object(struct ctl_json_writer *j)
{
	ctl_json_object_end(j);
}

static void
json_end_array(struct ctl_json_writer *j)
{
	ctl_json_array_end(j);
}

/* Names, spelled as Suricata spells them */

/*
 * The dialect as Suricata writes it: SMB2/3 as major.minor with two
 * minor digits ("2.10", "3.11"), SMB1 by the dialect string it names.
 */
static const char *
dialect_name(uint16_t dialect, char *buf, size_t size)
{
	const char *name;

	switch (dialect) {
	case 0: return NULL;
	case SMB_DIALECT_SMB2_WILDCARD: return "2.??";
	case 0x0202: return "2.02";
	case 0x0210: return "2.10";
	case 0x0300: return "3.00";
	case 0x0302: return "3.02";
	case 0x0311: return "3.11";
	default: break;
	}
	/* SMB1: the dialect string (smb1.c's table). */
	name = smb_dialect_name(dialect);
	if (name != NULL)
		return name;
	snprintf(buf, size, "0x%04x", dialect);
	return buf;
}

static const char *
smb2_command_name(uint16_t command)
{
	static const char *const names[] = {
		"SMB2_COMMAND_NEGOTIATE_PROTOCOL", "SMB2_COMMAND_SESSION_SETUP",
		"SMB2_COMMAND_SESSION_LOGOFF", "SMB2_COMMAND_TREE_CONNECT",
		"SMB2_COMMAND_TREE_DISCONNECT", "SMB2_COMMAND_CREATE",
		"SMB2_COMMAND_CLOSE", "SMB2_COMMAND_FLUSH", "SMB2_COMMAND_READ",
		"SMB2_COMMAND_WRITE", "SMB2_COMMAND_LOCK", "SMB2_COMMAND_IOCTL",
		"SMB2_COMMAND_CANCEL", "SMB2_COMMAND_KEEPALIVE",
		"SMB2_COMMAND_FIND", "SMB2_COMMAND_CHANGE_NOTIFY",
		"SMB2_COMMAND_GET_INFO", "SMB2_COMMAND_SET_INFO",
		"SMB2_COMMAND_OPLOCK_BREAK",
	};

	return command < sizeof(names) / sizeof(names[0]) ?
		names[command] : NULL;
}

static const char *
smb1_command_name(uint16_t command)
{
	switch (command) {
	case SMB1_COM_CLOSE: return "SMB1_COMMAND_CLOSE";
	case SMB1_COM_TRANSACTION: return "SMB1_COMMAND_TRANS";
	case SMB1_COM_READ_ANDX: return "SMB1_COMMAND_READ_ANDX";
	case SMB1_COM_WRITE_ANDX: return "SMB1_COMMAND_WRITE_ANDX";
	case SMB1_COM_TREE_DISCONNECT: return "SMB1_COMMAND_TREE_DISCONNECT";
	case SMB1_COM_NEGOTIATE: return "SMB1_COMMAND_NEGOTIATE_PROTOCOL";
	case SMB1_COM_SESSION_SETUP_ANDX: return "SMB1_COMMAND_SESSION_SETUP_ANDX";
	case SMB1_COM_LOGOFF_ANDX: return "SMB1_COMMAND_LOGOFF_ANDX";
	case SMB1_COM_TREE_CONNECT_ANDX: return "SMB1_COMMAND_TREE_CONNECT_ANDX";
	case SMB1_COM_NT_CREATE_ANDX: return "SMB1_COMMAND_NT_CREATE_ANDX";
	default: return NULL;
	}
}

static const char *
command_name(uint8_t version, uint16_t command)
{
	return version == 1 ? smb1_command_name(command) :
		smb2_command_name(command);
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
	case 0xc0000016u: return "STATUS_MORE_PROCESSING_REQUIRED";
	default: return NULL;
	}
}

/*
 * status and status_code as Suricata writes them for an NT status: the
 * name (else the number in decimal) and the code in unpadded hex.
 */
static void
json_status(struct ctl_json_writer *j, uint32_t status)
{
	const char *name = status_name(status);
	char text[16];

	if (name == NULL) {
		snprintf(text, sizeof(text), "%" PRIu32, status);
		name = text;
	}
	ctl_json_str(j, "status", name);
	snprintf(text, sizeof(text), "0x%" PRIx32, status);
	ctl_json_str(j, "status_code", text);
}

static const char *
disposition_name(uint32_t disposition)
{
	static const char *const names[] = {
		"FILE_SUPERSEDE", "FILE_OPEN", "FILE_CREATE", "FILE_OPEN_IF",
		"FILE_OVERWRITE", "FILE_OVERWRITE_IF",
	};

	return disposition < sizeof(names) / sizeof(names[0]) ?
		names[disposition] : "UNKNOWN";
}

/* A file id as Suricata's fuid: the GUID form of the 16 bytes. */
static void
json_fuid(struct ctl_json_writer *j, const uint8_t id[16])
{
	char text[40];

	snprintf(text, sizeof(text),
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		id[3], id[2], id[1], id[0], id[5], id[4], id[7], id[6],
		id[9], id[8], id[11], id[10], id[15], id[14], id[13], id[12]);
	ctl_json_str(j, "fuid", text);
}

static void
json_address(struct ctl_json_writer *j, const char *key, const uint8_t addr[16],
	uint8_t ip_version)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, text,
			sizeof(text)) == NULL)
		text[0] = '\0';
	ctl_json_str(j, key, text);
}

static void
json_classes(struct ctl_json_writer *j, const struct eve *eve, uint32_t classes)
{
	unsigned int id;

	if (classes == 0)
		return;
	json_array(j, "classes");
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
	json_end_array(j);
}

/* Records */

static void
record_begin(struct eve *eve, struct ctl_json_writer *j)
{
	/* One byte kept for the newline that ends the line. */
	ctl_json_writer_init(j, eve->record, sizeof(eve->record) - 1, NULL,
		NULL);
	ctl_json_object_begin(j, NULL);
	/* First, so that a merged stream says at once whose record it is. */
	if (eve->params.gateway[0] != '\0')
		json_string(j, "gateway", eve->params.gateway);
}

static const char *const type_names[] = {
	"alert", "smb", "dcerpc", "flow", "stats", "quic",
};

/* Suricata's app_proto of the connection an event is about. */
static const char *
app_proto_of(const struct gw_event *ev)
{
	/* SMB over QUIC: Suricata names the transport it can parse. */
	if (ev->flags & EVENT_F_QUIC)
		return "quic";
	switch (ev->kind) {
	case EVENT_FLOW:
		/*
		 * As Suricata: no app_proto before the application spoke. A
		 * connection to 445 that never carried SMB (a port probe, the
		 * 139 connection a client drops) is not SMB traffic.
		 */
		if ((ev->u.flow.app == FLOW_APP_SMB ||
				ev->u.flow.app == FLOW_APP_DCERPC) &&
				!(ev->flags & EVENT_F_REPORTED))
			return NULL;
		switch (ev->u.flow.app) {
		case FLOW_APP_SMB: return "smb";
		case FLOW_APP_DCERPC: return "dcerpc";
		/* Suricata's name for a connection no parser took. */
		default: return "failed";
		}
	case EVENT_DCERPC:
		return ev->flags & EVENT_F_ON_PIPE ? "smb" : "dcerpc";
	default:
		return "smb";
	}
}

/*
 * The members every record about a connection starts with, in Suricata's
 * order. <tx_id> is written when it is not UINT64_MAX.
 */
static void
record_header(struct ctl_json_writer *j, enum eve_type type, uint64_t ts_ns,
	const struct gw_event *ev, const uint8_t *client,
	const uint8_t *server, uint8_t ip_version, uint64_t tx_id)
{
	json_time(j, "timestamp", ts_ns);
	if (ev != NULL)
		json_u64(j, "flow_id", eve_flow_id(ev->flow_id));
	if (ev != NULL && (ev->vlan_outer != 0 || ev->vlan_inner != 0)) {
		json_array(j, "vlan");
		json_u64(j, NULL, ev->vlan_outer);
		if (ev->vlan_inner != 0)
			json_u64(j, NULL, ev->vlan_inner);
		json_end_array(j);
	}
	json_string(j, "event_type", type_names[type]);
	json_address(j, "src_ip", client, ip_version);
	if (ev != NULL)
		json_u64(j, "src_port", ev->client_port);
	json_address(j, "dest_ip", server, ip_version);
	if (ev != NULL) {
		json_u64(j, "dest_port", ev->server_port);
		json_string(j, "proto",
			ev->flags & EVENT_F_QUIC ? "UDP" : "TCP");
		if (tx_id != UINT64_MAX)
			json_u64(j, "tx_id", tx_id);
		json_text(j, "app_proto", app_proto_of(ev));
		if (ev->flags & EVENT_F_QUIC)
			json_bool(j, "smb_over_quic", true);
		/* Suricata's object for a tunnelled packet; the addresses
		 * above are those inside (docs/policy.md, "Tunnels"). */
		if (ev->flags & (EVENT_F_TUNNEL_GRE | EVENT_F_TUNNEL_IP)) {
			json_object(j, "tunnel");
			json_string(j, "proto", ev->flags & EVENT_F_TUNNEL_GRE ?
				"GRE" : "IPIP");
			json_end_object(j);
		}
	}
}

/*
 * Ends the record and writes it. Alerts also go to syslog when asked,
 * as RFC 5424 messages (eve_syslog.c).
 */
static int
record_end(struct eve *eve, struct ctl_json_writer *j, enum eve_type type)
{
	size_t len;

	ctl_json_object_end(j);
	if (!ctl_json_complete(j)) {
		eve->counters.oversize++;
		return 0;
	}
	len = ctl_json_length(j);
	eve->record[len] = '\n';
	if (eve->params.sink != NULL)
		eve->params.sink(eve->params.sink_arg, eve->record, len + 1);
	if (eve->file != NULL && record_file_append(eve->file, eve->record,
			len + 1) < 0) {
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

/*
 * The smb fields of a CREATE, as Suricata lays them out, then smbgw's own
 * (desired_access, classes). A pipe is named in named_pipe as well.
 */
static void
smb_create_fields(struct ctl_json_writer *j, const struct eve *eve,
	const struct gw_event *ev, uint32_t classes)
{
	const struct event_smb *smb = &ev->u.smb;

	json_text(j, "share", smb->share);
	json_string(j, "filename", smb->name[0] != '\0' ? smb->name :
		"<share_root>");
	if (smb->is_pipe)
		json_string(j, "named_pipe", smb->name);
	json_string(j, "disposition", disposition_name(smb->disposition));
	json_string(j, "access", smb->options & SMB_FILE_DELETE_ON_CLOSE ?
		"delete on close" : "normal");
	if (ev->status == 0)
		json_fuid(j, smb->file_id);
	json_hex32(j, "desired_access", smb->desired_access);
	json_classes(j, eve, classes);
}

/*
 * Opens an smb record: the EVE header of <ev>, then "smb": { id, dialect,
 * command, status, status_code, session_id, tree_id, left open for the
 * caller's fields.
 */
static void
smb_record_begin(struct eve *eve, struct ctl_json_writer *j,
	const struct gw_event *ev, uint64_t ts_ns)
{
	const struct event_smb *smb = &ev->u.smb;
	char dialect[16];

	record_begin(eve, j);
	record_header(j, EVE_SMB, ts_ns, ev, ev->client_addr, ev->server_addr,
		ev->ip_version, smb->message_id);
	json_object(j, "smb");
	json_u64(j, "id", smb->message_id);
	json_text(j, "dialect", dialect_name(smb->dialect, dialect,
		sizeof(dialect)));
	json_text(j, "command", command_name(smb->version, ev->command));
	json_status(j, ev->status);
	json_u64(j, "session_id", smb->session_id);
	json_u64(j, "tree_id", smb->tree_id);
}

/* The smb record of a handle: what was opened and what went through it. */
static int
handle_summary(struct eve *eve, struct handle *h, uint64_t ts_ns,
	const char *reason)
{
	const struct gw_event *c = &h->create;
	struct ctl_json_writer j;
	int ret;

	smb_record_begin(eve, &j, c, ts_ns);
	smb_create_fields(&j, eve, c, h->classes);
	json_time(&j, "opened", h->opened_ns);
	json_time(&j, "closed", ts_ns);
	json_string(&j, "closed_by", reason);
	json_u64(&j, "reads", h->reads);
	json_u64(&j, "bytes_read", h->bytes_read);
	json_u64(&j, "writes", h->writes);
	json_u64(&j, "bytes_written", h->bytes_written);
	json_end_object(&j);
	ret = record_end(eve, &j, EVE_SMB);
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
	params->stats_interval = 60;
	params->flows = EVE_FLOWS_ALL;
	params->flows_sample = 100;
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
	if (params->syslog) {
		eve->syslog = eve_syslog_open(params->syslog_target);
		if (eve->syslog == NULL) {
			record_file_close(eve->file);
			goto free_tables;
		}
	}
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
	eve_syslog_close(eve->syslog);
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

const struct eve_syslog *
eve_syslog_of(const struct eve *eve)
{
	return eve->syslog;
}

const struct eve_counters *
eve_counters(const struct eve *eve)
{
	return &eve->counters;
}

/* Event records */

static int
write_logon(struct eve *eve, const struct gw_event *ev)
{
	const struct event_smb *smb = &ev->u.smb;
	struct ctl_json_writer j;

	smb_record_begin(eve, &j, ev, ev->ts_ns);
	/* A Kerberos ticket names no user: no NTLMSSP object to mislead. */
	if (smb->auth != SMB_AUTH_KERBEROS) {
		json_object(&j, "ntlmssp");
		json_string(&j, "domain", smb->domain);
		json_string(&j, "user", smb->user);
		json_string(&j, "host", smb->workstation);
		json_end_object(&j);
	}
	json_bool(&j, "success", smb->success);
	if (smb->version == 2) {
		json_bool(&j, "guest", smb->session_flags & SMB2_SESSION_FLAG_IS_GUEST);
		json_bool(&j, "anonymous", smb->session_flags & SMB2_SESSION_FLAG_IS_NULL);
		json_bool(&j, "encrypt_data",
			smb->session_flags & SMB2_SESSION_FLAG_ENCRYPT_DATA);
	}
	json_text(&j, "auth", smb_auth_name(smb->auth));
	json_end_object(&j);
	return record_end(eve, &j, EVE_SMB);
}

static int
write_tree(struct eve *eve, const struct gw_event *ev)
{
	const struct event_smb *smb = &ev->u.smb;
	static const char *const share_types[] = {
		"UNKNOWN", "FILE", "PIPE", "PRINT",
	};
	struct ctl_json_writer j;

	smb_record_begin(eve, &j, ev, ev->ts_ns);
	/* Suricata names a pipe share (IPC$) in named_pipe, not share. */
	if (smb->share_type == SMB2_SHARE_TYPE_PIPE)
		json_string(&j, "named_pipe", smb->share);
	else
		json_string(&j, "share", smb->share);
	if (smb->version == 2)
		json_string(&j, "share_type", share_types[
			smb->share_type < 4 ? smb->share_type : 0]);
	json_text(&j, "path", smb->name);
	json_classes(&j, eve, ev->watch_classes);
	json_end_object(&j);
	return record_end(eve, &j, EVE_SMB);
}

/* A CREATE that failed has no handle: one record says so. */
static int
write_failed_create(struct eve *eve, const struct gw_event *ev)
{
	struct ctl_json_writer j;

	smb_record_begin(eve, &j, ev, ev->ts_ns);
	smb_create_fields(&j, eve, ev, ev->watch_classes);
	json_end_object(&j);
	return record_end(eve, &j, EVE_SMB);
}

/* The first sealed record of a flow: what cannot be seen is said. */
static int
write_encrypted(struct eve *eve, const struct gw_event *ev)
{
	char dialect[16];
	struct ctl_json_writer j;

	record_begin(eve, &j);
	record_header(&j, EVE_SMB, ev->ts_ns, ev, ev->client_addr,
		ev->server_addr, ev->ip_version, UINT64_MAX);
	json_object(&j, "smb");
	json_text(&j, "dialect", dialect_name(ev->u.smb.dialect, dialect,
		sizeof(dialect)));
	json_u64(&j, "session_id", ev->u.smb.session_id);
	json_bool(&j, "encrypted", true);
	json_string(&j, "note",
		"session sealed: later commands, names and RPC calls not visible");
	json_end_object(&j);
	return record_end(eve, &j, EVE_SMB);
}

static int
on_smb_event(struct eve *eve, const struct gw_event *ev)
{
	bool response = (ev->flags & EVENT_F_RESPONSE) != 0;
	struct handle *h;

	switch (ev->subtype) {
	case SMB_FACT_LOGON:
		return response ? write_logon(eve, ev) : 0;
	case SMB_FACT_TREE_CONNECT:
		return response ? write_tree(eve, ev) : 0;
	case SMB_FACT_CREATE:
		if (!response)
			return 0;
		if (ev->status != 0)
			return write_failed_create(eve, ev);
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
		return write_encrypted(eve, ev);
	default:
		return 0;
	}
}

/* Suricata's names of the DCE/RPC packet types (request, response). */
static const char *
rpc_request_name(uint8_t subtype)
{
	switch (subtype) {
	case DCERPC_FACT_BIND: return "BIND";
	case DCERPC_FACT_ALTER_CONTEXT: return "ALTER_CONTEXT";
	case DCERPC_FACT_REQUEST: return "REQUEST";
	case DCERPC_FACT_FAULT: return "REQUEST";
	case DCERPC_FACT_BIND_NAK: return "BIND";
	case DCERPC_FACT_AUTH: return "AUTH";
	default: return NULL;
	}
}

static const char *
rpc_response_name(uint8_t subtype)
{
	switch (subtype) {
	case DCERPC_FACT_FAULT: return "FAULT";
	case DCERPC_FACT_BIND_NAK: return "BINDNAK";
	default: return NULL;
	}
}

/*
 * A fault's or a rejected bind's status (smbgw's own: Suricata does not
 * log it): fault_code in hex, fault by name where known.
 */
static void
json_rpc_fault(struct ctl_json_writer *j, uint32_t status)
{
	const char *name = NULL;
	char text[16];

	switch (status) {
	case 0x00000005u: name = "ERROR_ACCESS_DENIED"; break;
	case 0x1c010002u: name = "nca_s_op_rng_error"; break;
	case 0x1c010003u: name = "nca_s_unk_if"; break;
	case 0x1c01000bu: name = "nca_s_proto_error"; break;
	default: break;
	}
	json_text(j, "fault", name);
	snprintf(text, sizeof(text), "0x%08" PRIx32, status);
	ctl_json_str(j, "fault_code", text);
}

/*
 * The dcerpc object's members, the same inside smb.dcerpc (on a pipe) and
 * in a dcerpc record (over TCP), where Suricata differs only in where
 * opnum goes (<nested>: beside request, else in req). smbgw's own
 * members follow Suricata's: the launch arguments, classes, truncated.
 */
static void
dcerpc_fields(struct ctl_json_writer *j, const struct eve *eve,
	const struct gw_event *ev, bool nested)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	bool call = ev->subtype == DCERPC_FACT_REQUEST ||
		ev->subtype == DCERPC_FACT_FAULT;
	char uuid[37];

	json_string(j, "request", rpc_request_name(ev->subtype));
	json_text(j, "response", rpc_response_name(ev->subtype));
	if (nested && call && rpc->opnum != 0xffff)
		json_u64(j, "opnum", rpc->opnum);
	if (ev->subtype == DCERPC_FACT_REQUEST) {
		json_object(j, "req");
		if (!nested && rpc->opnum != 0xffff)
			json_u64(j, "opnum", rpc->opnum);
		json_u64(j, "stub_data_size", rpc->stub_len);
		json_end_object(j);
	}
	json_array(j, "interfaces");
	json_object(j, NULL);
	json_string(j, "uuid", dcerpc_uuid_format(rpc->iface_uuid, uuid));
	json_text(j, "service", rpc->interface);
	if (call)
		json_text(j, "procedure", rpc->operation);
	json_end_object(j);
	json_end_array(j);
	json_u64(j, "call_id", rpc->call_id);
	if (!nested)
		json_string(j, "rpc_version", "5.0");
	if (ev->subtype == DCERPC_FACT_FAULT || ev->subtype == DCERPC_FACT_BIND_NAK)
		json_rpc_fault(j, ev->status);
	if (rpc->args == DCERPC_ARGS_SERVICE)
		json_text(j, "service_name", rpc->name);
	else if (rpc->args == DCERPC_ARGS_TASK)
		json_text(j, "task", rpc->name);
	json_text(j, "command", rpc->command);
	if (ev->subtype == DCERPC_FACT_AUTH) {
		/* NTLMSSP names of the auth verifier (workstation in name) */
		json_object(j, "ntlmssp");
		json_string(j, "user", rpc->user);
		json_string(j, "domain", rpc->domain);
		json_string(j, "host", rpc->name);
		json_end_object(j);
	}
	if (ev->flags & EVENT_F_TRUNCATED)
		json_bool(j, "truncated", true);
	json_classes(j, eve, ev->watch_classes);
}

/*
 * DCE/RPC over TCP is a dcerpc record; on a named pipe Suricata nests it
 * in an smb record (smb.dcerpc) beside the pipe's name.
 */
static int
on_dcerpc_event(struct eve *eve, const struct gw_event *ev)
{
	const struct event_dcerpc *rpc = &ev->u.dcerpc;
	bool on_pipe = (ev->flags & EVENT_F_ON_PIPE) != 0;
	struct ctl_json_writer j;

	if (rpc_request_name(ev->subtype) == NULL)
		return 0;
	record_begin(eve, &j);
	/*
	 * The SMB message that carried a pipe's call is not in the event:
	 * no tx_id (a call id would collide with the SMB message ids).
	 */
	record_header(&j, on_pipe ? EVE_SMB : EVE_DCERPC, ev->ts_ns, ev,
		ev->client_addr, ev->server_addr, ev->ip_version,
		on_pipe ? UINT64_MAX : rpc->call_id);
	if (on_pipe) {
		json_object(&j, "smb");
		json_text(&j, "named_pipe", rpc->pipe);
		json_object(&j, "dcerpc");
		dcerpc_fields(&j, eve, ev, true);
		json_end_object(&j);
		json_end_object(&j);
	} else {
		json_object(&j, "dcerpc");
		dcerpc_fields(&j, eve, ev, false);
		json_end_object(&j);
	}
	return record_end(eve, &j, on_pipe ? EVE_SMB : EVE_DCERPC);
}

static bool
flow_alerted(const struct eve *eve, uint64_t flow_id)
{
	unsigned int i;

	for (i = 0; i < ALERTED_FLOWS; i++)
		if (eve->alerted[i] == flow_id)
			return true;
	return false;
}

static void
flow_mark_alerted(struct eve *eve, uint64_t flow_id)
{
	if (flow_id == 0 || flow_alerted(eve, flow_id))
		return;
	eve->alerted[eve->alerted_next] = flow_id;
	eve->alerted_next = (eve->alerted_next + 1) % ALERTED_FLOWS;
}

const char *
eve_action_name(uint8_t action)
{
	switch (action) {
	case EVENT_ACTION_DENIED: return "blocked";
	case EVENT_ACTION_MONITORED: return "would-block";
	default: return "allowed";
	}
}

/* Suricata's flow.state: new, established or closed. */
static const char *
flow_state_name(uint8_t tcp_state)
{
	switch (tcp_state) {
	case FLOW_TCP_ESTABLISHED:
	case FLOW_TCP_CLOSING:
		return "established";
	case FLOW_TCP_CLOSED:
		return "closed";
	default:
		return "new";
	}
}

/* Suricata's flow.reason: why the record was written. */
static const char *
flow_reason_name(uint8_t end_reason, uint8_t tcp_state)
{
	if (tcp_state == FLOW_TCP_CLOSED)
		return "tcp_closed";
	switch (end_reason) {
	case FLOW_REMOVED_CLOSED:
		return "tcp_closed";
	case FLOW_REMOVED_CALLER:
	case FLOW_REMOVED_TABLE_FREE:
		return "shutdown";
	case FLOW_REMOVED_PRESSURE:
		return "forced";
	default:
		return "timeout";
	}
}

/*
 * A new SMB-over-QUIC connection: Suricata's quic record of the client's
 * hello (version, server name, the ALPN ids offered), with what the
 * policy did. Its connection has no flow record: the gateway keeps no
 * state for it.
 */
static int
on_quic_hello(struct eve *eve, const struct gw_event *ev)
{
	const struct event_flow *flow = &ev->u.flow;
	const char *alpn = flow->quic_alpn;
	struct ctl_json_writer j;
	char version[16];

	/* RFC versions by number, drafts by name, others in hex. */
	if (flow->quic_version == 1 || flow->quic_version == 0x6b3343cfu)
		snprintf(version, sizeof(version), "%u",
			flow->quic_version == 1 ? 1u : 2u);
	else if ((flow->quic_version & 0xffffff00u) == 0xff000000u)
		snprintf(version, sizeof(version), "draft-%u",
			flow->quic_version & 0xffu);
	else
		snprintf(version, sizeof(version), "0x%08x",
			flow->quic_version);
	record_begin(eve, &j);
	record_header(&j, EVE_QUIC, ev->ts_ns, ev, ev->client_addr,
		ev->server_addr, ev->ip_version, UINT64_MAX);
	json_string(&j, "policy_action", eve_action_name(flow->action));
	json_object(&j, "quic");
	json_string(&j, "version", version);
	json_text(&j, "sni", flow->quic_sni);
	if (alpn[0] != '\0') {
		json_array(&j, "extensions");
		json_object(&j, NULL);
		json_string(&j, "name", "alpn");
		json_u64(&j, "type", 16);
		json_array(&j, "values");
		while (*alpn != '\0') {
			char id[EVENT_QUIC_ALPN_MAX];
			size_t n = strcspn(alpn, ",");

			memcpy(id, alpn, n);
			id[n] = '\0';
			json_string(&j, NULL, id);
			alpn += n + (alpn[n] == ',');
		}
		json_end_array(&j);
		json_end_object(&j);
		json_end_array(&j);
	}
	json_end_object(&j);
	return record_end(eve, &j, EVE_QUIC) < 0 ? -EIO : 0;
}

static int
on_flow_event(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	const struct event_flow *flow = &ev->u.flow;
	char dialect[16];
	struct ctl_json_writer j;
	int ret;

	if (ev->subtype == EVENT_FLOW_CLASSIFIED && (ev->flags & EVENT_F_QUIC))
		return on_quic_hello(eve, ev);
	if (ev->subtype != EVENT_FLOW_END)
		return 0;
	ret = handles_end_flow(eve, ev->flow_id, ev->ts_ns);
	record_begin(eve, &j);
	record_header(&j, EVE_FLOW, ev->ts_ns, ev, ev->client_addr,
		ev->server_addr, ev->ip_version, UINT64_MAX);
	json_text(&j, "src_segment", flow->client_segment);
	json_text(&j, "dest_segment", flow->server_segment);
	json_object(&j, "flow");
	json_u64(&j, "pkts_toserver", flow->packets[0]);
	json_u64(&j, "pkts_toclient", flow->packets[1]);
	json_u64(&j, "bytes_toserver", flow->bytes[0]);
	json_u64(&j, "bytes_toclient", flow->bytes[1]);
	json_time(&j, "start", flow->first_seen_ns);
	json_time(&j, "end", ev->ts_ns);
	json_u64(&j, "age", ev->ts_ns > flow->first_seen_ns ?
		(ev->ts_ns - flow->first_seen_ns) / 1000000000ull : 0);
	json_string(&j, "state", flow_state_name(flow->tcp_state));
	json_string(&j, "reason", flow_reason_name(flow->end_reason,
		flow->tcp_state));
	json_bool(&j, "alerted", flow_alerted(eve, eve_flow_id(ev->flow_id)));
	json_string(&j, "action", eve_action_name(flow->action));
	if (ctx != NULL && ctx->rule != NULL)
		json_text(&j, "rule", ctx->rule);
	if (flow->rule != 0)
		json_u64(&j, "rule_id", flow->rule);
	if (flow->app == FLOW_APP_SMB || flow->app == FLOW_APP_DCERPC) {
		json_string(&j, "detected_by", flow->method ==
			EVENT_DETECT_CONTENT ? "content" : flow->method ==
			EVENT_DETECT_EPM ? "endpoint_mapper" : "port");
		json_bool(&j, "nonstandard_port",
			(ev->flags & EVENT_F_NONSTANDARD_PORT) != 0);
	}
	json_text(&j, "dialect", dialect_name(flow->dialect, dialect,
		sizeof(dialect)));
	json_classes(&j, eve, ev->watch_classes);
	json_end_object(&j);
	if (record_end(eve, &j, EVE_FLOW) < 0)
		ret = -EIO;
	return ret;
}

int
eve_write_event(struct eve *eve, const struct gw_event *ev,
	const struct eve_context *ctx)
{
	uint64_t before = eve->counters.records[EVE_SMB] +
		eve->counters.records[EVE_DCERPC] + eve->counters.records[EVE_FLOW] +
		eve->counters.records[EVE_QUIC];
	int ret;

	if (ev->ts_ns > eve->last_ns)
		eve->last_ns = ev->ts_ns;
	switch (ev->kind) {
	case EVENT_FLOW:
		ret = on_flow_event(eve, ev, ctx);
		break;
	case EVENT_SMB:
		ret = on_smb_event(eve, ev);
		break;
	case EVENT_DCERPC:
		ret = on_dcerpc_event(eve, ev);
		break;
	default:
		return 0;
	}
	if (ret < 0)
		return ret;
	return (int)(eve->counters.records[EVE_SMB] +
		eve->counters.records[EVE_DCERPC] +
		eve->counters.records[EVE_FLOW] +
		eve->counters.records[EVE_QUIC] - before);
}

/* Alerts */

static void
json_mitre(struct ctl_json_writer *j, const char *ids)
{
	char id[16];
	size_t n;

	json_array(j, "mitre");
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
	json_end_array(j);
}

/*
 * Evidence of the DCE/RPC rule table (rpc_rules.h): the row, what the
 * request named, whether the stub was sealed and what is then visible,
 * and for discovery the calls counted per operation.
 */
static void
json_rpc_evidence(struct ctl_json_writer *j, const struct detector_alert *a)
{
	const struct detector_evidence *e = a->evidence;
	const struct rpc_rule *row = e->rpc_rule >= 0 ?
		rpc_rule_at((unsigned int)e->rpc_rule) : NULL;
	unsigned int i;

	if (row == NULL)
		return;
	json_string(j, "rpc_rule", row->key);
	json_u64(j, "opnum", e->rpc_opnum);
	json_bool(j, "stub_sealed", e->rpc_sealed);
	if (e->rpc_sealed)
		json_string(j, "visible_when_sealed", row->when_sealed);
	json_text(j, "target", e->rpc_target);
	json_text(j, "detail", e->rpc_detail);
	json_text(j, "client_segment", e->client_segment);
	if (e->rpc_rule == RPC_RULE_NETLOGON_BURST)
		json_u64(j, "netlogon_authentications",
			e->netlogon_authentications);
	if ((e->rpc_rule != RPC_RULE_DISCOVERY &&
			e->rpc_rule != RPC_RULE_DISCOVERY_BREADTH) ||
			e->discovery == NULL)
		return;
	json_u64(j, "discovery_calls", e->discovery->calls);
	json_u64(j, "discovery_servers", e->discovery->servers);
	json_array(j, "discovery_operations");
	for (i = 0; i < e->discovery->op_count; i++) {
		const struct detector_discovery_op *op = &e->discovery->ops[i];

		json_object(j, NULL);
		json_string(j, "interface", op->interface);
		json_string(j, "operation", op->operation);
		json_text(j, "mitre", op->mitre);
		json_u64(j, "count", op->count);
		json_end_object(j);
	}
	json_end_array(j);
}

static void
json_evidence(struct ctl_json_writer *j, const struct detector_alert *a)
{
	const struct detector_evidence *e = a->evidence;
	unsigned int bit;

	json_object(j, "evidence");
	if (a->rule == DETECTOR_RULE_LATERAL_MOVEMENT) {
		json_array(j, "conditions");
		for (bit = DETECTOR_COND_LOGON; bit <= DETECTOR_COND_SHARE_REPEAT;
				bit <<= 1)
			if (e->conditions & bit)
				json_string(j, NULL, detector_condition_name(bit));
		json_end_array(j);
	}
	if (e->logon_ns != 0)
		json_time(j, a->rule == DETECTOR_RULE_LOGON_FAILURE_BURST ?
			"last_failure" : "logon", e->logon_ns);
	if (e->exec_kinds != 0) {
		json_array(j, "execution");
		if (e->exec_kinds & DETECTOR_EXEC_FILE)
			json_string(j, NULL, "file_written");
		if (e->exec_kinds & DETECTOR_EXEC_SERVICE)
			json_string(j, NULL, "service");
		if (e->exec_kinds & DETECTOR_EXEC_TASK)
			json_string(j, NULL, "task");
		if (e->exec_kinds & DETECTOR_EXEC_WMI)
			json_string(j, NULL, "wmi");
		if (e->exec_kinds & DETECTOR_EXEC_DCOM)
			json_string(j, NULL, "dcom");
		json_end_array(j);
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
			"compressed" : e->unverifiable ==
			EVENT_UNVERIFIABLE_QUIC ? "quic" : "encrypted");
		json_bool(j, "unverifiable_action", e->unverifiable_action);
		json_u64(j, "policy_rule", e->policy_rule);
	}
	if (a->rule == DETECTOR_RULE_RPC)
		json_rpc_evidence(j, a);
	json_end_object(j);
}

/*
 * The alert record's layout: Suricata's alert object, then the smb and
 * dcerpc context of the evidence and smbgw's evidence object. <policy> is
 * the policy's action ("allowed", "blocked", "would-block").
 */
static void
alert_fields(struct ctl_json_writer *j, const struct detector_alert *a,
	const char *policy)
{
	const struct detector_evidence *e = a->evidence;
	const struct detector_signature *sig = a->signature;
	unsigned int i;

	json_object(j, "alert");
	/* Suricata's action: what happened to the traffic. */
	json_string(j, "action", strcmp(policy, "blocked") == 0 ?
		"blocked" : "allowed");
	json_u64(j, "gid", 1);
	json_u64(j, "signature_id", sig->id);
	json_u64(j, "rev", 1);
	json_string(j, "signature", sig->name);
	json_string(j, "category", sig->category);
	json_u64(j, "severity", sig->severity);
	json_string(j, "policy_action", policy);
	json_mitre(j, a->mitre);
	json_bool(j, "update", a->update);
	json_u64(j, "count", a->count);
	json_time(j, "first_seen", a->first_ns);
	json_time(j, "last_seen", a->last_ns);
	json_end_object(j);

	if (e->user[0] != '\0' || e->share[0] != '\0' || e->file[0] != '\0' ||
			e->repeated_share[0] != '\0' ||
			smb_auth_name(e->auth) != NULL) {
		json_object(j, "smb");
		json_text(j, "share", e->share[0] != '\0' ? e->share :
			e->repeated_share);
		json_text(j, "filename", e->file);
		json_text(j, "auth", smb_auth_name(e->auth));
		if (e->user[0] != '\0' || e->domain[0] != '\0') {
			json_object(j, "ntlmssp");
			json_string(j, "domain", e->domain);
			json_string(j, "user", e->user);
			json_string(j, "host", e->workstation);
			json_end_object(j);
		}
		json_end_object(j);
	}
	if (e->operation_count > 0 || e->command[0] != '\0' ||
			e->service[0] != '\0') {
		json_object(j, "dcerpc");
		if (e->operation_count > 0) {
			json_array(j, "interfaces");
			for (i = 0; i < e->operation_count; i++) {
				json_object(j, NULL);
				json_text(j, "service", e->interfaces[i]);
				json_text(j, "procedure", e->operations[i]);
				json_end_object(j);
			}
			json_end_array(j);
		}
		json_text(j, "service_name", e->service);
		json_text(j, "command", e->command);
		json_end_object(j);
	}
	json_evidence(j, a);
}

int
eve_write_alert(struct eve *eve, const struct detector_alert *a,
	const struct eve_context *ctx)
{
	const char *policy = ctx != NULL && ctx->action != NULL ?
		ctx->action : "allowed";
	struct ctl_json_writer j;
	int ret;

	if (a->event != NULL)
		flow_mark_alerted(eve, eve_flow_id(a->event->flow_id));
	record_begin(eve, &j);
	record_header(&j, EVE_ALERT, a->event != NULL ? a->event->ts_ns :
		a->last_ns, a->event, a->client_addr, a->server_addr,
		a->ip_version, UINT64_MAX);
	if (ctx != NULL) {
		json_text(&j, "src_segment", ctx->src_segment);
		json_text(&j, "dest_segment", ctx->dest_segment);
	}
	alert_fields(&j, a, policy);
	if (eve->syslog != NULL)
		eve_syslog_alert(eve->syslog, a, policy);
	ret = record_end(eve, &j, EVE_ALERT);
	if (ret == 0)
		ret = eve_flush(eve);
	return ret;
}

/*
 * A stats record: Suricata's layout for the counters it has (dotted names
 * nest: "decoder.pkts" is {"decoder":{"pkts":..}}), smbgw's under
 * "smbgw". Names must come grouped by their prefixes, as
 * eve_stats_collect() gives them.
 */
int
eve_write_stats(struct eve *eve, uint64_t ts_ns, const struct eve_stat *stats,
	unsigned int count)
{
	char open[CTL_JSON_DEPTH_MAX][48];
	unsigned int depth = 0, i, k;
	struct ctl_json_writer j;

	record_begin(eve, &j);
	json_time(&j, "timestamp", ts_ns);
	json_string(&j, "event_type", "stats");
	json_object(&j, "stats");
	for (i = 0; i < count; i++) {
		const char *name = stats[i].name;
		char parts[CTL_JSON_DEPTH_MAX][48];
		unsigned int n = 0;
		const char *p = name;

		/* Split the dotted name into its levels. */
		while (n < CTL_JSON_DEPTH_MAX - 3) {
			size_t len = strcspn(p, ".");

			if (len >= sizeof(parts[0]))
				len = sizeof(parts[0]) - 1;
			memcpy(parts[n], p, len);
			parts[n][len] = '\0';
			n++;
			p += strcspn(p, ".");
			if (*p != '.')
				break;
			p++;
		}
		/* Close the levels this name does not share, open its own. */
		for (k = 0; k < depth && k + 1 < n &&
				strcmp(open[k], parts[k]) == 0; k++)
			;
		while (depth > k) {
			json_end_object(&j);
			depth--;
		}
		for (; depth + 1 < n; depth++) {
			strcpy(open[depth], parts[depth]);
			json_object(&j, parts[depth]);
		}
		json_u64(&j, parts[n - 1], stats[i].value);
	}
	while (depth > 0) {
		json_end_object(&j);
		depth--;
	}
	json_end_object(&j);
	return record_end(eve, &j, EVE_STATS);
}
