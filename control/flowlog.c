/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dcerpc.h"
#include "flow.h"
#include "flowlog.h"
#include "inspect.h"
#include "match.h"
#include "smb.h"
#include "utf8.h"

#define FLOWLOG_DRAIN_BURST 32
#define FLOWLOG_PREFETCH_AHEAD 4
#define FLOWLOG_USER_MAX (2 * EVENT_ACCOUNT_MAX + 2)
/*
 * Slots a summary starts with (34 MB of rows, faulted in at creation so
 * that taking a row never waits for the kernel). One asked for more
 * (offline: every flow of a capture) doubles when half full, so that its
 * memory follows the flows it holds instead of a page fault per new flow
 * across a table sized for the largest capture.
 */
#define FLOWLOG_INITIAL_SLOTS (1u << 17)

struct flow_row {
	uint64_t flow_id;		/* 0: free slot */
	uint64_t first_seen_ns;
	uint64_t sequence;		/* order of arrival, for printing */
	uint8_t client_addr[16];
	uint8_t server_addr[16];
	uint16_t client_port;
	uint16_t server_port;
	uint16_t vlan_outer;
	uint16_t vlan_inner;
	uint8_t ip_version;
	uint8_t app;
	uint8_t method;
	bool nonstandard_port;
	bool encrypted;
	bool quic;			/* SMB over QUIC */
	uint8_t tunnels;		/* EVENT_F_TUNNEL_* seen */
	bool ended;
	uint16_t dialect;
	uint32_t classes;
	uint32_t logons_ok;
	uint32_t logons_failed;
	uint32_t tree_connects;
	uint32_t creates;
	uint32_t rpc_calls;
	uint64_t packets[2];
	uint64_t bytes[2];
	char user[FLOWLOG_USER_MAX];
};

struct flowlog {
	unsigned int capacity;		/* slots now, a power of two */
	unsigned int max_capacity;	/* slots it may grow to */
	size_t rows_bytes;		/* mapped, for munmap() */
	flowlog_sink_fn sink;
	void *sink_ctx;
	uint64_t next_sequence;
	const struct watchlist *watchlist;
	struct flowlog_counters counters;
	struct flow_row *rows;
	/*
	 * Flows whose end was seen, oldest first: when the table is full,
	 * the oldest ended flow's row gives way to a new flow, so that a
	 * gateway running for weeks keeps summarising its recent flows.
	 * Each row is queued at most once: capacity / 2 entries.
	 */
	uint64_t *ended;
	unsigned int ended_head, ended_count;
};

struct flowlog *
flowlog_create(unsigned int capacity, const struct watchlist *watchlist)
{
	struct flowlog *log;
	unsigned int size = 16;

	while (size < capacity * 2)
		size <<= 1;
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return NULL;
	log->max_capacity = size;
	if (size > FLOWLOG_INITIAL_SLOTS)
		size = FLOWLOG_INITIAL_SLOTS;
	log->rows = flow_huge_map((size_t)size * sizeof(*log->rows), true,
		&log->rows_bytes);
	log->ended = calloc(size / 2, sizeof(*log->ended));
	if (log->rows == NULL || log->ended == NULL) {
		if (log->rows != NULL)
			munmap(log->rows, log->rows_bytes);
		free(log->ended);
		free(log);
		errno = ENOMEM;
		return NULL;
	}
	log->capacity = size;
	log->watchlist = watchlist;
	return log;
}

void
flowlog_free(struct flowlog *log)
{
	if (log == NULL)
		return;
	munmap(log->rows, log->rows_bytes);
	free(log->ended);
	free(log);
}

/* The key of <ev>'s row: its flow id, never 0 (a free slot). */
static inline uint64_t
row_id(const struct gw_event *ev)
{
	return ev->flow_id != 0 ? ev->flow_id : 1;
}

/* Where the row of flow <id> is looked for first in <slots> slots. */
static inline unsigned int
slot_home(uint64_t id, unsigned int slots)
{
	return (unsigned int)(id ^ (id >> 32)) & (slots - 1);
}

static inline unsigned int
row_home(const struct flowlog *log, uint64_t id)
{
	return slot_home(id, log->capacity);
}

/* The slot of flow <id>'s row, or -1. */
static int
row_find(const struct flowlog *log, uint64_t id)
{
	unsigned int mask = log->capacity - 1;
	unsigned int slot = row_home(log, id);
	unsigned int probes;

	for (probes = 0; probes < log->capacity; probes++) {
		if (log->rows[slot].flow_id == id)
			return (int)slot;
		if (log->rows[slot].flow_id == 0)
			return -1;
		slot = (slot + 1) & mask;
	}
	return -1;
}

/*
 * Empties slot <hole>, moving back the rows after it that would no
 * longer be found past the gap (linear probing without tombstones).
 */
static void
row_delete(struct flowlog *log, unsigned int hole)
{
	unsigned int mask = log->capacity - 1;
	unsigned int next = hole;

	for (;;) {
		unsigned int home;

		next = (next + 1) & mask;
		if (log->rows[next].flow_id == 0)
			break;
		home = row_home(log, log->rows[next].flow_id);
		/* Stays when its home lies cyclically in (hole, next]. */
		if (hole <= next ? (hole < home && home <= next) :
				(hole < home || home <= next))
			continue;
		log->rows[hole] = log->rows[next];
		hole = next;
	}
	memset(&log->rows[hole], 0, sizeof(log->rows[hole]));
	log->counters.rows--;
}

/* Gives the oldest ended flow's row up; false when no flow has ended. */
static bool
row_recycle(struct flowlog *log)
{
	unsigned int queue = log->capacity / 2;

	while (log->ended_count > 0) {
		uint64_t id = log->ended[log->ended_head];
		int slot;

		log->ended_head = (log->ended_head + 1) % queue;
		log->ended_count--;
		slot = row_find(log, id);
		if (slot < 0 || !log->rows[slot].ended)
			continue;
		row_delete(log, (unsigned int)slot);
		log->counters.rows_recycled++;
		return true;
	}
	return false;
}

/* Queues flow <row>'s end, once, for row_recycle(). */
static void
row_ended(struct flowlog *log, struct flow_row *row)
{
	unsigned int queue = log->capacity / 2;

	if (row->ended)
		return;
	row->ended = true;
	if (log->ended_count < queue) {
		log->ended[(log->ended_head + log->ended_count) % queue] =
			row->flow_id;
		log->ended_count++;
	}
}

/*
 * Doubles the table while it is below its largest size: every row moves
 * to its place in the new one, the ended flows keep their order. False,
 * changing nothing, at the largest size or without memory.
 */
static bool
summary_grow(struct flowlog *log)
{
	unsigned int size = log->capacity * 2, mask = size - 1;
	unsigned int queue = log->capacity / 2, i;
	struct flow_row *rows;
	uint64_t *ended;
	size_t bytes;

	if (log->capacity >= log->max_capacity)
		return false;
	rows = flow_huge_map((size_t)size * sizeof(*rows), true, &bytes);
	ended = calloc(size / 2, sizeof(*ended));
	if (rows == NULL || ended == NULL) {
		if (rows != NULL)
			munmap(rows, bytes);
		free(ended);
		return false;
	}
	for (i = 0; i < log->capacity; i++) {
		uint64_t id = log->rows[i].flow_id;
		unsigned int slot;

		if (id == 0)
			continue;
		slot = slot_home(id, size);
		while (rows[slot].flow_id != 0)
			slot = (slot + 1) & mask;
		rows[slot] = log->rows[i];
	}
	for (i = 0; i < log->ended_count; i++)
		ended[i] = log->ended[(log->ended_head + i) % queue];
	munmap(log->rows, log->rows_bytes);
	free(log->ended);
	log->rows = rows;
	log->rows_bytes = bytes;
	log->ended = ended;
	log->ended_head = 0;
	log->capacity = size;
	return true;
}

/*
 * Finds the row of <ev>'s flow, or claims a free one: in a table grown
 * when half full, up to its largest size, then giving up the oldest
 * ended flow's row; NULL when every row is a flow still open.
 */
static struct flow_row *
row_of(struct flowlog *log, const struct gw_event *ev)
{
	unsigned int mask = log->capacity - 1;
	uint64_t id = row_id(ev);
	unsigned int slot = row_home(log, id);
	unsigned int probes;

	for (probes = 0; probes < log->capacity; probes++) {
		struct flow_row *row = &log->rows[slot];

		if (row->flow_id == id)
			return row;
		if (row->flow_id == 0) {
			/* Half full at most, so that probes stay short. */
			if (log->counters.rows >= log->capacity / 2) {
				if (summary_grow(log))
					return row_of(log, ev);
				if (!row_recycle(log)) {
					log->counters.rows_dropped++;
					return NULL;
				}
				/* Rows may have moved back: probe again. */
				return row_of(log, ev);
			}
			row->flow_id = id;
			row->sequence = log->next_sequence++;
			memcpy(row->client_addr, ev->client_addr, 16);
			memcpy(row->server_addr, ev->server_addr, 16);
			row->client_port = ev->client_port;
			row->server_port = ev->server_port;
			row->vlan_outer = ev->vlan_outer;
			row->vlan_inner = ev->vlan_inner;
			row->ip_version = ev->ip_version;
			log->counters.rows++;
			return row;
		}
		slot = (slot + 1) & mask;
	}
	return NULL;
}

static void
add_flow_event(struct flowlog *log, struct flow_row *row,
	const struct gw_event *ev)
{
	const struct event_flow *flow = &ev->u.flow;

	row->app = flow->app;
	row->method = flow->method;
	row->first_seen_ns = flow->first_seen_ns;
	row->nonstandard_port = (ev->flags & EVENT_F_NONSTANDARD_PORT) != 0;
	/* SMB over QUIC is sealed from its first message. */
	if (ev->flags & EVENT_F_QUIC)
		row->quic = row->encrypted = true;
	row->tunnels |= (uint8_t)(ev->flags &
		(EVENT_F_TUNNEL_IP | EVENT_F_TUNNEL_GRE));
	if (flow->dialect != 0)
		row->dialect = flow->dialect;
	row->classes |= ev->watch_classes;
	if (ev->subtype == EVENT_FLOW_END) {
		row_ended(log, row);
		row->packets[0] = flow->packets[0];
		row->packets[1] = flow->packets[1];
		row->bytes[0] = flow->bytes[0];
		row->bytes[1] = flow->bytes[1];
	}
}

static void
add_smb_event(struct flow_row *row, const struct gw_event *ev)
{
	const struct event_smb *smb = &ev->u.smb;

	row->classes |= ev->watch_classes;
	switch (ev->subtype) {
	case SMB_FACT_NEGOTIATE:
		if (smb->dialect != 0 && smb->dialect != SMB_DIALECT_SMB2_WILDCARD)
			row->dialect = smb->dialect;
		break;
	case SMB_FACT_LOGON:
		if (smb->success) {
			row->logons_ok++;
			if (row->user[0] == '\0')
				utf8_account_name(row->user, sizeof(row->user),
					smb->domain, smb->user);
		} else {
			row->logons_failed++;
		}
		break;
	case SMB_FACT_TREE_CONNECT:
		if (ev->flags & EVENT_F_RESPONSE)
			row->tree_connects++;
		break;
	case SMB_FACT_CREATE:
		if (ev->flags & EVENT_F_RESPONSE)
			row->creates++;
		break;
	case SMB_FACT_ENCRYPTED:
		row->encrypted = true;
		break;
	default:
		break;
	}
}

void
flowlog_set_sink(struct flowlog *log, flowlog_sink_fn fn, void *ctx)
{
	log->sink = fn;
	log->sink_ctx = ctx;
}

void
flowlog_add(struct flowlog *log, const struct gw_event *ev)
{
	struct flow_row *row;

	log->counters.events++;
	if (log->sink != NULL)
		log->sink(log->sink_ctx, ev);
	/* Connections that are not SMB or DCE/RPC: an EVE record only. */
	if (ev->kind == EVENT_FLOW && ev->u.flow.app != FLOW_APP_SMB &&
			ev->u.flow.app != FLOW_APP_DCERPC)
		return;
	switch (ev->kind) {
	case EVENT_FLOW:
		log->counters.flow_events++;
		break;
	case EVENT_SMB:
		log->counters.smb_events++;
		break;
	case EVENT_DCERPC:
		log->counters.dcerpc_events++;
		break;
	default:
		return;
	}
	row = row_of(log, ev);
	if (row == NULL)
		return;
	switch (ev->kind) {
	case EVENT_FLOW:
		add_flow_event(log, row, ev);
		break;
	case EVENT_SMB:
		add_smb_event(row, ev);
		break;
	case EVENT_DCERPC:
		row->classes |= ev->watch_classes;
		if (ev->subtype == DCERPC_FACT_REQUEST)
			row->rpc_calls++;
		else if (ev->subtype == DCERPC_FACT_AUTH &&
				row->user[0] == '\0')
			utf8_account_name(row->user, sizeof(row->user),
				ev->u.dcerpc.domain, ev->u.dcerpc.user);
		break;
	}
}

/*
 * Events are read where the worker wrote them, in the ring, and their
 * slots given back afterwards: no kilobyte copy per event on this side
 * either. With many connections each event's row is out of cache: the
 * row of the event FLOWLOG_PREFETCH_AHEAD further on is asked for while
 * this one is handled, and that event's header with it.
 */
unsigned int
flowlog_drain(struct flowlog *log, struct rte_ring *ring, unsigned int max)
{
	const struct gw_event *burst[FLOWLOG_DRAIN_BURST];
	unsigned int taken = 0;

	while (taken < max) {
		struct rte_ring_zc_data zcd;
		const struct gw_event *events;
		unsigned int i, n;

		n = rte_ring_dequeue_zc_burst_elem_start(ring,
			sizeof(struct gw_event),
			RTE_MIN((unsigned int)FLOWLOG_DRAIN_BURST, max - taken),
			&zcd, NULL);
		if (n == 0)
			break;
		events = zcd.ptr1;
		for (i = 0; i < zcd.n1; i++)
			burst[i] = &events[i];
		events = zcd.ptr2;
		for (i = zcd.n1; i < n; i++)
			burst[i] = &events[i - zcd.n1];
		for (i = 0; i < n && i < FLOWLOG_PREFETCH_AHEAD; i++)
			rte_prefetch0(&log->rows[row_home(log,
				row_id(burst[i]))]);
		for (i = 0; i < n; i++) {
			if (i + FLOWLOG_PREFETCH_AHEAD < n) {
				const struct gw_event *ahead =
					burst[i + FLOWLOG_PREFETCH_AHEAD];

				rte_prefetch0(&log->rows[row_home(log,
					row_id(ahead))]);
			}
			flowlog_add(log, burst[i]);
		}
		rte_ring_dequeue_zc_elem_finish(ring, n);
		taken += n;
	}
	return taken;
}

unsigned int
flowlog_drain_rings(struct flowlog *log, struct rte_ring *const *rings,
	unsigned int count, unsigned int budget)
{
	unsigned int i, taken = 0;

	for (i = 0; i < count; i++)
		taken += flowlog_drain(log, rings[i], budget);
	return taken;
}

const struct flowlog_counters *
flowlog_counters(const struct flowlog *log)
{
	return &log->counters;
}

static void
format_endpoint(char *out, size_t size, uint8_t ip_version,
	const uint8_t *addr, uint16_t port)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, text,
		sizeof(text));
	snprintf(out, size, ip_version == 6 ? "[%s]:%u" : "%s:%u", text, port);
}

/* " tunnel gre", " tunnel ip-in-ip", both, or nothing. */
static const char *
tunnel_text(uint8_t tunnels)
{
	switch (tunnels & (EVENT_F_TUNNEL_IP | EVENT_F_TUNNEL_GRE)) {
	case EVENT_F_TUNNEL_GRE: return " tunnel gre";
	case EVENT_F_TUNNEL_IP: return " tunnel ip-in-ip";
	case EVENT_F_TUNNEL_IP | EVENT_F_TUNNEL_GRE:
		return " tunnel gre,ip-in-ip";
	default: return "";
	}
}

static const char *
dialect_text(uint16_t dialect, char *buf, size_t size)
{
	enum inspect_dialect known = inspect_dialect_of(dialect);

	if (dialect == 0)
		return "-";
	if (known != INSPECT_DIALECT_OTHER)
		return inspect_dialect_name(known);
	snprintf(buf, size, "0x%04x", dialect);
	return buf;
}

static void
format_classes(const struct flowlog *log, uint32_t classes, char *out,
	size_t size)
{
	size_t used = 0;
	unsigned int id;

	out[0] = '\0';
	for (id = 0; id < 32 && used < size; id++) {
		const char *name;

		if (!(classes & (1u << id)))
			continue;
		name = log->watchlist != NULL ?
			watchlist_class_name(log->watchlist, id) : NULL;
		used += snprintf(out + used, size - used, "%s%s",
			used ? "," : "", name != NULL ? name : "?");
	}
	if (used == 0)
		snprintf(out, size, "-");
}

static int
compare_rows(const void *a, const void *b)
{
	const struct flow_row *x = *(const struct flow_row *const *)a;
	const struct flow_row *y = *(const struct flow_row *const *)b;

	if (x->first_seen_ns != y->first_seen_ns)
		return x->first_seen_ns < y->first_seen_ns ? -1 : 1;
	return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

int
flowlog_lines(const struct flowlog *log, flowlog_line_fn fn, void *arg)
{
	const struct flow_row **order;
	unsigned int i, n = 0;
	int ret = 0;

	order = calloc(log->counters.rows + 1, sizeof(*order));
	if (order == NULL)
		return -ENOMEM;
	for (i = 0; i < log->capacity; i++)
		if (log->rows[i].flow_id != 0)
			order[n++] = &log->rows[i];
	qsort(order, n, sizeof(*order), compare_rows);
	for (i = 0; i < n && ret == 0; i++) {
		const struct flow_row *row = order[i];
		char client[64], server[64], classes[256], dialect[16];
		char line[FLOWLOG_LINE_MAX];

		format_endpoint(client, sizeof(client), row->ip_version,
			row->client_addr, row->client_port);
		format_endpoint(server, sizeof(server), row->ip_version,
			row->server_addr, row->server_port);
		format_classes(log, row->classes, classes, sizeof(classes));
		snprintf(line, sizeof(line),
			"%s %s -> %s vlan %u detected %s%s%s dialect %s user %s logons %u/%u trees %u opens %u rpc %u%s classes %s packets %" PRIu64 "/%" PRIu64 " bytes %" PRIu64 "/%" PRIu64,
			row->app != FLOW_APP_SMB ? "dcerpc" :
			row->quic ? "smb-over-quic" : "smb",
			client, server, row->vlan_outer,
			row->method == EVENT_DETECT_PORT ? "by-port" :
			row->method == EVENT_DETECT_EPM ? "by-endpoint-mapper" :
			"by-content",
			row->nonstandard_port ? " nonstandard-port" : "",
			tunnel_text(row->tunnels),
			dialect_text(row->dialect, dialect, sizeof(dialect)),
			row->user[0] ? row->user : "-",
			row->logons_ok, row->logons_failed,
			row->tree_connects, row->creates, row->rpc_calls,
			row->encrypted ? " encrypted" : "", classes,
			row->packets[0], row->packets[1],
			row->bytes[0], row->bytes[1]);
		ret = fn(arg, line);
	}
	free(order);
	return ret;
}

static int
print_line(void *arg, const char *line)
{
	fprintf(arg, "%s\n", line);
	return 0;
}

void
flowlog_print(const struct flowlog *log, FILE *out)
{
	fprintf(out, "== SMB and DCE/RPC flows ==\n");
	flowlog_lines(log, print_line, out);
	fflush(out);
}
