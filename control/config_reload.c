/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config_reload.h"

/* A key outside the loader's table, and where its value lives. */
struct group_key {
	const char *key;
	bool string;		/* a NUL-terminated array */
	size_t offset;		/* in struct gateway_config */
	size_t size;
};

#define MEMBER_SIZE(member) sizeof(((struct gateway_config *)0)->member)
#define RAW(name, member) \
	{ name, false, offsetof(struct gateway_config, member), \
		MEMBER_SIZE(member) }
#define STRING(name, member) \
	{ name, true, offsetof(struct gateway_config, member), \
		MEMBER_SIZE(member) }

/*
 * The keys of the groups with loaders of their own that a reload does not
 * apply (detector.workstation_segments is compared on its own). A key
 * missing here is still caught, by group: see group_rest_differs().
 */
static const struct group_key group_keys[] = {
	RAW("detector.window", detector.window),
	RAW("detector.share_open_threshold", detector.share_open_threshold),
	RAW("detector.require", detector.required),
	RAW("detector.max_pairs", detector.max_pairs),
	RAW("detector.max_clients", detector.max_clients),
	RAW("detector.logon_failures", detector.logon_failures),
	RAW("detector.logon_failure_window", detector.logon_failure_window),
	RAW("detector.rules", detector.rules),
	STRING("output.eve", output.path),
	RAW("output.syslog", output.syslog),
	STRING("output.syslog_target", output.syslog_target),
	RAW("output.max_handles", output.max_handles),
	RAW("output.stats_interval", output.stats_interval),
	RAW("output.flows", output.flows),
	RAW("output.flows_sample", output.flows_sample),
	RAW("output.redis", redis),
	RAW("report.days", report.days),
	RAW("report.max_rows", report.max_rows),
	STRING("report.path", report.path),
	RAW("report.checkpoint_interval", report.checkpoint_interval),
	STRING("control.socket", control.socket_path),
	STRING("control.group", control.group),
	RAW("control.max_clients", control.max_clients),
	RAW("control.max_line", control.max_line),
	RAW("control.max_clients_per_uid", control.max_clients_per_uid),
	RAW("control.request_timeout_ms", control.request_timeout_ms),
	RAW("control.idle_timeout", control.idle_timeout_s),
	RAW("dcerpc.endpoints", dcerpc.endpoints),
	RAW("dcerpc.endpoint_expiry", dcerpc.endpoint_expiry),
	/* Unused entries are zero, so the array says it all. */
	RAW("dcerpc.dynamic_ports", dcerpc.ranges),
};

static void
note(struct config_changes *changes, const char *group, const char *name)
{
	if (changes->count == CONFIG_CHANGES_MAX) {
		changes->dropped++;
		return;
	}
	snprintf(changes->keys[changes->count++], CONFIG_KEY_NAME_MAX, "%s%s%s",
		group, name != NULL ? "." : "", name != NULL ? name : "");
}

static bool
ports_equal(const struct gateway_config *a, const struct gateway_config *b)
{
	unsigned int i;

	if (a->port_count != b->port_count)
		return false;
	for (i = 0; i < a->port_count && i < CONFIG_PORTS_MAX; i++)
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
group_key_equal(const struct group_key *key, const struct gateway_config *a,
	const struct gateway_config *b)
{
	const char *x = (const char *)a + key->offset;
	const char *y = (const char *)b + key->offset;

	return key->string ? strncmp(x, y, key->size) == 0 :
		memcmp(x, y, key->size) == 0;
}

/* The group's struct in <cfg>, as <size> bytes, for the catch-all. */
static const void *
group_struct(const struct gateway_config *cfg, const char *group,
	size_t *size)
{
	if (strcmp(group, "detector") == 0) {
		*size = sizeof(cfg->detector);
		return &cfg->detector;
	}
	if (strcmp(group, "output") == 0) {
		*size = sizeof(cfg->output);
		return &cfg->output;
	}
	if (strcmp(group, "report") == 0) {
		*size = sizeof(cfg->report);
		return &cfg->report;
	}
	if (strcmp(group, "dcerpc") == 0) {
		*size = sizeof(cfg->dcerpc);
		return &cfg->dcerpc;
	}
	*size = sizeof(cfg->control);
	return &cfg->control;
}

/*
 * Whether <group> differs in a key not in group_keys[]: the group's
 * structs compared whole with every listed key, and what reload applies
 * (report.trusted) or ignores (output.eve under -e), made equal first.
 * Both structs were filled by the same loader from the same defaults, so
 * bytes no key sets are equal too.
 */
static bool
group_rest_differs(const struct gateway_config *running,
	const struct gateway_config *next, const char *group)
{
	static struct gateway_config a, b;
	const void *x, *y;
	size_t i, size;

	a = *running;
	b = *next;
	for (i = 0; i < sizeof(group_keys) / sizeof(group_keys[0]); i++)
		memcpy((char *)&b + group_keys[i].offset,
			(const char *)&a + group_keys[i].offset,
			group_keys[i].size);
	b.detector.workstation_segment_count =
		a.detector.workstation_segment_count;
	memcpy(b.detector.workstation_segments, a.detector.workstation_segments,
		sizeof(a.detector.workstation_segments));
	b.report.trusted_count = a.report.trusted_count;
	memcpy(b.report.trusted, a.report.trusted, sizeof(a.report.trusted));
	x = group_struct(&a, group, &size);
	y = group_struct(&b, group, &size);
	return memcmp(x, y, size) != 0;
}

unsigned int
config_restart_changes(const struct gateway_config *running,
	const struct gateway_config *next, struct config_changes *changes)
{
	static const char *const groups[] = {
		"detector", "output", "report", "control", "dcerpc",
	};
	struct config_key_info info;
	unsigned int i, g, before;

	changes->count = 0;
	changes->dropped = 0;
	/* gateway, memory, flows, stream: the loader's table, whole. */
	for (i = 0; config_table_key(i, &info); i++) {
		bool equal = info.ports ? ports_equal(running, next) :
			memcmp((const char *)running + info.offset,
				(const char *)next + info.offset,
				info.size) == 0;

		if (!equal)
			note(changes, info.group, info.name);
	}
	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		size_t prefix = strlen(groups[g]);

		before = changes->count + changes->dropped;
		for (i = 0; i < sizeof(group_keys) / sizeof(group_keys[0]); i++) {
			const struct group_key *key = &group_keys[i];

			if (strncmp(key->key, groups[g], prefix) != 0 ||
					key->key[prefix] != '.')
				continue;
			/* -e FILE on the command line outranks output.eve. */
			if (running->eve_path_overridden &&
					key->offset == offsetof(struct
						gateway_config, output.path))
				continue;
			if (!group_key_equal(key, running, next))
				note(changes, key->key, NULL);
		}
		if (strcmp(groups[g], "detector") == 0 &&
				!workstations_equal(&running->detector,
					&next->detector))
			note(changes, "detector.workstation_segments", NULL);
		if (changes->count + changes->dropped == before &&
				group_rest_differs(running, next, groups[g]))
			note(changes, groups[g], NULL);
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
