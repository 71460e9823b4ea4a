/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "config_reload.h"

enum field_kind {
	FIELD_RAW,		/* compared byte for byte */
	FIELD_STRING,		/* a NUL-terminated array */
	FIELD_PORTS,		/* port_count names */
	FIELD_WORKSTATIONS,	/* detector.workstation_segments */
};

/* A key that only takes effect at restart, and where its value lives. */
struct restart_key {
	const char *key;
	enum field_kind kind;
	size_t offset;
	size_t size;
};

#define MEMBER_SIZE(member) sizeof(((struct gateway_config *)0)->member)
#define KEY(name, kind, member) \
	{ name, kind, offsetof(struct gateway_config, member), \
		MEMBER_SIZE(member) }
#define RAW(name, member) KEY(name, FIELD_RAW, member)

/*
 * Every key but policy { }, report.trusted (both applied) and
 * watchlists { }, in the order of docs/configuration.md. A key added to
 * the configuration belongs here unless reload applies it.
 */
static const struct restart_key restart_keys[] = {
	RAW("gateway.mode", mode),
	KEY("gateway.ports", FIELD_PORTS, ports),
	RAW("gateway.workers", workers),
	RAW("gateway.fail_mode", fail_mode),
	RAW("gateway.mtu", mtu),
	RAW("gateway.burst_size", burst_size),
	RAW("gateway.tx_retries", tx_retries),
	RAW("gateway.stats_interval", stats_interval),
	RAW("memory.mbufs", mbufs),
	RAW("memory.mbuf_cache", mbuf_cache),
	RAW("memory.mbuf_data_room", mbuf_data_room),
	RAW("memory.rx_descriptors", rx_descriptors),
	RAW("memory.tx_descriptors", tx_descriptors),
	RAW("memory.event_ring_size", event_ring_size),
	RAW("flows.max_flows", max_flows),
	RAW("flows.sessions", sessions),
	RAW("flows.sessions_per_client", sessions_per_client),
	RAW("flows.session_idle_reclaim_ms", session_idle_reclaim_ms),
	RAW("flows.classify_packets", classify_packets),
	RAW("flows.timeout_embryonic", timeout_embryonic),
	RAW("flows.timeout_established", timeout_established),
	RAW("flows.timeout_closing", timeout_closing),
	RAW("flows.timeout_closed", timeout_closed),
	RAW("flows.timeout_udp", timeout_udp),
	RAW("flows.timeout_other", timeout_other),
	RAW("stream.mode", stream_mode),
	RAW("stream.checksum", checksum),
	RAW("stream.segments", stream_segments),
	RAW("stream.flow_segments", stream_flow_segments),
	RAW("stream.gap_timeout", stream_gap_timeout),
	RAW("detector.window", detector.window),
	RAW("detector.share_open_threshold", detector.share_open_threshold),
	RAW("detector.require", detector.required),
	RAW("detector.max_pairs", detector.max_pairs),
	RAW("detector.max_clients", detector.max_clients),
	RAW("detector.logon_failures", detector.logon_failures),
	RAW("detector.logon_failure_window", detector.logon_failure_window),
	RAW("detector.rules", detector.rules),
	KEY("detector.workstation_segments", FIELD_WORKSTATIONS, detector),
	KEY("output.eve", FIELD_STRING, output.path),
	RAW("output.syslog", output.syslog),
	RAW("output.max_handles", output.max_handles),
	RAW("report.days", report.days),
	RAW("report.max_rows", report.max_rows),
	KEY("control.socket", FIELD_STRING, control.socket_path),
	KEY("control.group", FIELD_STRING, control.group),
	RAW("control.max_clients", control.max_clients),
	RAW("control.max_line", control.max_line),
};

_Static_assert(sizeof(restart_keys) / sizeof(restart_keys[0]) <=
	CONFIG_CHANGES_MAX, "CONFIG_CHANGES_MAX must cover every key");

static bool
ports_equal(const struct gateway_config *a, const struct gateway_config *b)
{
	unsigned int i;

	if (a->port_count != b->port_count)
		return false;
	for (i = 0; i < a->port_count; i++)
		if (strncmp(a->ports[i], b->ports[i], CONFIG_PORT_NAME_MAX) != 0)
			return false;
	return true;
}

static bool
workstations_equal(const struct detector_params *a,
	const struct detector_params *b)
{
	unsigned int i;

	if (a->workstation_segment_count != b->workstation_segment_count)
		return false;
	for (i = 0; i < a->workstation_segment_count &&
			i < DETECTOR_SEGMENTS_MAX; i++)
		if (strncmp(a->workstation_segments[i],
				b->workstation_segments[i],
				DETECTOR_SEGMENT_NAME_MAX) != 0)
			return false;
	return true;
}

static bool
key_equal(const struct restart_key *key, const struct gateway_config *a,
	const struct gateway_config *b)
{
	const char *field_a = (const char *)a + key->offset;
	const char *field_b = (const char *)b + key->offset;

	switch (key->kind) {
	case FIELD_RAW:
		return memcmp(field_a, field_b, key->size) == 0;
	case FIELD_STRING:
		return strncmp(field_a, field_b, key->size) == 0;
	case FIELD_PORTS:
		return ports_equal(a, b);
	case FIELD_WORKSTATIONS:
		return workstations_equal(&a->detector, &b->detector);
	}
	return false;
}

unsigned int
config_restart_changes(const struct gateway_config *running,
	const struct gateway_config *next, struct config_changes *changes)
{
	size_t i;

	changes->count = 0;
	for (i = 0; i < sizeof(restart_keys) / sizeof(restart_keys[0]); i++) {
		const struct restart_key *key = &restart_keys[i];

		/* -e FILE on the command line outranks output.eve. */
		if (running->eve_path_overridden &&
				key->offset == offsetof(struct gateway_config,
					output.path))
			continue;
		if (key_equal(key, running, next))
			continue;
		if (changes->count < CONFIG_CHANGES_MAX)
			changes->keys[changes->count++] = key->key;
	}
	return changes->count;
}

bool
config_watchlists_changed(const struct gateway_config *running,
	const struct gateway_config *next)
{
	const struct watchlist_spec *a = &running->watchlists;
	const struct watchlist_spec *b = &next->watchlists;
	unsigned int i;

	if (a->count != b->count)
		return true;
	/* The same classes and patterns, wherever their lines now are. */
	for (i = 0; i < a->count && i < WATCHLIST_ENTRIES_MAX; i++) {
		const struct watchlist_entry *x = &a->entries[i];
		const struct watchlist_entry *y = &b->entries[i];

		if (x->kind != y->kind || x->caseless != y->caseless ||
				strncmp(x->class_name, y->class_name,
					sizeof(x->class_name)) != 0 ||
				strncmp(x->pattern, y->pattern,
					sizeof(x->pattern)) != 0)
			return true;
	}
	return false;
}
