/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "rpc_rules.h"
#include "rpc_rules_config.h"

static int
line_of(const config_setting_t *setting)
{
	int line = setting != NULL ? config_setting_source_line(setting) : 0;

	return line > 0 ? line : 1;
}

static void
load_segments(config_setting_t *s, const char *file, const char *key,
	struct rpc_rule_config *c, struct config_errors *errors)
{
	int type = config_setting_type(s), i, j, count;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		config_error_add(errors, file, line_of(s),
			"detector.rpc_rules.%s.allowed_segments must be an array of strings",
			key);
		return;
	}
	count = config_setting_length(s);
	if (count > RPC_RULE_SEGMENTS_MAX) {
		config_error_add(errors, file, line_of(s),
			"detector.rpc_rules.%s.allowed_segments has %d entries; at most %d",
			key, count, RPC_RULE_SEGMENTS_MAX);
		return;
	}
	for (i = 0; i < count; i++) {
		config_setting_t *elem = config_setting_get_elem(s, i);
		const char *name;

		if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
			config_error_add(errors, file, line_of(s),
				"detector.rpc_rules.%s.allowed_segments[%d] must be a string",
				key, i);
			return;
		}
		name = config_setting_get_string(elem);
		if (name[0] == '\0' || strlen(name) >= RPC_RULE_SEGMENT_NAME_MAX) {
			config_error_add(errors, file, line_of(s),
				"detector.rpc_rules.%s.allowed_segments[%d] must be 1 to %d characters",
				key, i, RPC_RULE_SEGMENT_NAME_MAX - 1);
			return;
		}
		for (j = 0; j < i; j++)
			if (strcmp(c->allowed[j], name) == 0) {
				config_error_add(errors, file, line_of(s),
					"detector.rpc_rules.%s.allowed_segments names \"%s\" twice",
					key, name);
				return;
			}
		snprintf(c->allowed[i], sizeof(c->allowed[i]), "%s", name);
	}
	c->allowed_count = (unsigned int)count;
}

static void
load_row(config_setting_t *s, const char *file, const char *key,
	struct rpc_rule_config *c, struct config_errors *errors)
{
	int i, count;

	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		c->enabled = config_setting_get_bool(s);
		return;
	}
	if (!config_setting_is_group(s)) {
		config_error_add(errors, file, line_of(s),
			"detector.rpc_rules.%s must be a boolean or a group { enabled; severity; allowed_segments; }",
			key);
		return;
	}
	count = config_setting_length(s);
	for (i = 0; i < count; i++) {
		config_setting_t *e = config_setting_get_elem(s, i);
		const char *name = config_setting_name(e);

		if (strcmp(name, "enabled") == 0) {
			if (config_setting_type(e) != CONFIG_TYPE_BOOL) {
				config_error_add(errors, file, line_of(e),
					"detector.rpc_rules.%s.enabled must be a boolean",
					key);
				continue;
			}
			c->enabled = config_setting_get_bool(e);
		} else if (strcmp(name, "severity") == 0) {
			int type = config_setting_type(e);
			long long v = config_setting_get_int64(e);

			if ((type != CONFIG_TYPE_INT &&
					type != CONFIG_TYPE_INT64) ||
					v < 1 || v > 3) {
				config_error_add(errors, file, line_of(e),
					"detector.rpc_rules.%s.severity must be 1, 2 or 3",
					key);
				continue;
			}
			c->severity = (uint8_t)v;
		} else if (strcmp(name, "allowed_segments") == 0) {
			load_segments(e, file, key, c, errors);
		} else {
			config_error_add(errors, file, line_of(e),
				"unknown key detector.rpc_rules.%s.%s (expected enabled, severity, allowed_segments)",
				key, name);
		}
	}
}

void
rpc_rules_config_load(config_setting_t *group, const char *file,
	struct rpc_rules_params *params, struct config_errors *errors)
{
	int i, count;

	if (!config_setting_is_group(group)) {
		config_error_add(errors, file, line_of(group),
			"detector.rpc_rules must be a group { row = ...; }");
		return;
	}
	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		int row = rpc_rule_by_key(name);

		if (row < 0) {
			config_error_add(errors, file, line_of(s),
				"unknown key detector.rpc_rules.%s (docs/detection.md lists the rows)",
				name);
			continue;
		}
		load_row(s, file, name, &params->rules[row], errors);
	}
}
