/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "detector.h"
#include "detector_config.h"
#include "eve.h"
#include "report.h"
#include "rpc_rules_config.h"

/* What every message about one group needs. */
struct load_ctx {
	const char *group;	/* "detector", "output", "report" */
	const char *file;
	struct config_errors *errors;
};

static int
line_of(const config_setting_t *setting)
{
	int line = setting != NULL ? config_setting_source_line(setting) : 0;

	return line > 0 ? line : 1;
}

static bool
errors_added(const struct config_errors *errors, unsigned int count,
	unsigned int dropped)
{
	return errors->count != count || errors->dropped != dropped;
}

static void
load_uint(struct load_ctx *ctx, config_setting_t *s, unsigned int min,
	unsigned int max, unsigned int *out)
{
	int type = config_setting_type(s);
	long long value;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		config_error_add(ctx->errors, ctx->file, line_of(s),
			"%s.%s must be an integer, not %s", ctx->group,
			config_setting_name(s), config_type_name(type));
		return;
	}
	value = config_setting_get_int64(s);
	if (value < min || value > max) {
		config_error_add(ctx->errors, ctx->file, line_of(s),
			"%s.%s = %lld is out of range [%u, %u]", ctx->group,
			config_setting_name(s), value, min, max);
		return;
	}
	*out = (unsigned int)value;
}

static void
load_bool(struct load_ctx *ctx, const char *where, config_setting_t *s,
	bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_error_add(ctx->errors, ctx->file, line_of(s),
			"%s must be a boolean, not %s", where,
			config_type_name(config_setting_type(s)));
		return;
	}
	*out = config_setting_get_bool(s);
}

/*
 * Checks that <s> is an array of at most <max> strings; returns their
 * number, or -1 after an error.
 */
static int
string_array(struct load_ctx *ctx, config_setting_t *s, int max)
{
	int type = config_setting_type(s), i, count;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		config_error_add(ctx->errors, ctx->file, line_of(s),
			"%s.%s must be an array of strings [ \"...\" ], not %s",
			ctx->group, config_setting_name(s),
			config_type_name(type));
		return -1;
	}
	count = config_setting_length(s);
	if (count > max) {
		config_error_add(ctx->errors, ctx->file, line_of(s),
			"%s.%s has %d entries; at most %d", ctx->group,
			config_setting_name(s), count, max);
		return -1;
	}
	for (i = 0; i < count; i++) {
		config_setting_t *elem = config_setting_get_elem(s, i);

		if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
			config_error_add(ctx->errors, ctx->file, line_of(s),
				"%s.%s[%d] must be a string, not %s",
				ctx->group, config_setting_name(s), i,
				config_type_name(config_setting_type(elem)));
			return -1;
		}
	}
	return count;
}

static const char *
element(config_setting_t *s, int i)
{
	return config_setting_get_string(config_setting_get_elem(s, i));
}

/* detector { } */

static void
load_require(struct load_ctx *ctx, config_setting_t *s,
	struct detector_params *params)
{
	unsigned int required = 0, bit;
	int i, count = string_array(ctx, s, 3);

	if (count < 0)
		return;
	for (i = 0; i < count; i++) {
		bit = detector_condition_by_name(element(s, i));
		if (bit == 0) {
			config_error_add(ctx->errors, ctx->file, line_of(s),
				"detector.require[%d] = \"%s\" is not one of: logon, admin_exec, share_repeat",
				i, element(s, i));
			return;
		}
		if (required & bit) {
			config_error_add(ctx->errors, ctx->file, line_of(s),
				"detector.require names \"%s\" twice",
				element(s, i));
			return;
		}
		required |= bit;
	}
	if (required == 0) {
		config_error_add(ctx->errors, ctx->file, line_of(s),
			"detector.require is empty; at least one of logon, admin_exec, share_repeat");
		return;
	}
	params->required = required;
}

static void
load_segments(struct load_ctx *ctx, config_setting_t *s,
	struct detector_params *params)
{
	int i, j, count = string_array(ctx, s, DETECTOR_SEGMENTS_MAX);

	if (count < 0)
		return;
	for (i = 0; i < count; i++) {
		const char *name = element(s, i);

		if (name[0] == '\0' || strlen(name) >= DETECTOR_SEGMENT_NAME_MAX) {
			config_error_add(ctx->errors, ctx->file, line_of(s),
				"detector.workstation_segments[%d] must be 1 to %d characters",
				i, DETECTOR_SEGMENT_NAME_MAX - 1);
			return;
		}
		for (j = 0; j < i; j++)
			if (strcmp(element(s, j), name) == 0) {
				config_error_add(ctx->errors, ctx->file,
					line_of(s),
					"detector.workstation_segments names \"%s\" twice",
					name);
				return;
			}
		snprintf(params->workstation_segments[i],
			DETECTOR_SEGMENT_NAME_MAX, "%s", name);
	}
	params->workstation_segment_count = (unsigned int)count;
}

static void
load_rules(struct load_ctx *ctx, config_setting_t *group,
	struct detector_params *params)
{
	int i, count;

	if (!config_setting_is_group(group)) {
		config_error_add(ctx->errors, ctx->file, line_of(group),
			"detector.rules must be a group { name = true; ... }, not %s",
			config_type_name(config_setting_type(group)));
		return;
	}
	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		int rule = detector_rule_by_key(name);
		char where[64];

		if (rule < 0) {
			config_error_add(ctx->errors, ctx->file, line_of(s),
				"unknown key detector.rules.%s (expected lateral_movement, service_creation, admin_share_executable, logon_failure_burst, smb1, workstation_target, nonstandard_port, encrypted, unverifiable, stream_conflict, stream_unjudged, rpc)",
				name);
			continue;
		}
		snprintf(where, sizeof(where), "detector.rules.%s", name);
		load_bool(ctx, where, s, &params->rules[rule]);
	}
}

int
detector_config_load_detector(config_setting_t *group, const char *file,
	struct detector_params *params, struct config_errors *errors)
{
	struct load_ctx ctx = { "detector", file, errors };
	unsigned int count0 = errors->count, dropped0 = errors->dropped;
	int i, count;

	detector_params_set_defaults(params);
	if (group == NULL)
		return 0;
	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "window") == 0)
			load_uint(&ctx, s, 1, 86400, &params->window);
		else if (strcmp(name, "share_open_threshold") == 0)
			load_uint(&ctx, s, 1, DETECTOR_SHARE_THRESHOLD_MAX,
				&params->share_open_threshold);
		else if (strcmp(name, "require") == 0)
			load_require(&ctx, s, params);
		else if (strcmp(name, "max_pairs") == 0)
			load_uint(&ctx, s, 16, 1u << 22, &params->max_pairs);
		else if (strcmp(name, "max_clients") == 0)
			load_uint(&ctx, s, 16, 1u << 22, &params->max_clients);
		else if (strcmp(name, "logon_failures") == 0)
			load_uint(&ctx, s, 1, DETECTOR_LOGON_FAILURES_MAX,
				&params->logon_failures);
		else if (strcmp(name, "logon_failure_window") == 0)
			load_uint(&ctx, s, 1, 86400,
				&params->logon_failure_window);
		else if (strcmp(name, "workstation_segments") == 0)
			load_segments(&ctx, s, params);
		else if (strcmp(name, "rules") == 0)
			load_rules(&ctx, s, params);
		else if (strcmp(name, "rpc_rules") == 0)
			rpc_rules_config_load(s, file, &params->rpc, errors);
		else if (strcmp(name, "discovery_breadth") == 0)
			load_uint(&ctx, s, 1, DETECTOR_DISCOVERY_SERVERS_MAX,
				&params->rpc.discovery_breadth);
		else if (strcmp(name, "netlogon_auth_burst") == 0)
			load_uint(&ctx, s, 2, 100000,
				&params->rpc.netlogon_auth_burst);
		else
			config_error_add(errors, file, line_of(s),
				"unknown key detector.%s (expected window, share_open_threshold, require, max_pairs, max_clients, logon_failures, logon_failure_window, workstation_segments, rules, rpc_rules, discovery_breadth, netlogon_auth_burst)",
				name);
	}
	return errors_added(errors, count0, dropped0) ? -EINVAL : 0;
}

/* output { } */

int
detector_config_load_output(config_setting_t *group, const char *file,
	struct eve_params *params, struct config_errors *errors)
{
	struct load_ctx ctx = { "output", file, errors };
	unsigned int count0 = errors->count, dropped0 = errors->dropped;
	int i, count;

	eve_params_set_defaults(params);
	if (group == NULL)
		return 0;
	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "eve") == 0) {
			const char *path;

			if (config_setting_type(s) != CONFIG_TYPE_STRING) {
				config_error_add(errors, file, line_of(s),
					"output.eve must be a string (a file name, or \"\" for none), not %s",
					config_type_name(config_setting_type(s)));
				continue;
			}
			path = config_setting_get_string(s);
			if (strlen(path) >= EVE_PATH_MAX) {
				config_error_add(errors, file, line_of(s),
					"output.eve is longer than %d bytes",
					EVE_PATH_MAX - 1);
				continue;
			}
			snprintf(params->path, sizeof(params->path), "%s", path);
		} else if (strcmp(name, "syslog") == 0) {
			load_bool(&ctx, "output.syslog", s, &params->syslog);
		} else if (strcmp(name, "syslog_target") == 0) {
			const char *target = config_setting_type(s) ==
				CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;

			if (target == NULL || strlen(target) >= EVE_SYSLOG_TARGET_MAX ||
					eve_syslog_check_target(target) != 0) {
				config_error_add(errors, file, line_of(s),
					"output.syslog_target must be \"local\", \"udp://ADDRESS:PORT\" or \"tcp://ADDRESS:PORT\"");
				continue;
			}
			snprintf(params->syslog_target, sizeof(params->syslog_target),
				"%s", target);
		} else if (strcmp(name, "max_handles") == 0) {
			load_uint(&ctx, s, 16, 1u << 20, &params->max_handles);
		} else if (strcmp(name, "stats_interval") == 0) {
			load_uint(&ctx, s, 0, 86400, &params->stats_interval);
		} else if (strcmp(name, "flows_sample") == 0) {
			load_uint(&ctx, s, 1, 1000000, &params->flows_sample);
		} else if (strcmp(name, "flows") == 0) {
			static const char *const modes[] = {
				[EVE_FLOWS_ALL] = "all",
				[EVE_FLOWS_SMB_DCERPC] = "smb_dcerpc",
				[EVE_FLOWS_SAMPLED] = "sampled",
			};
			const char *mode = config_setting_type(s) ==
				CONFIG_TYPE_STRING ? config_setting_get_string(s) : "";
			unsigned int m;

			for (m = 0; m < 3; m++)
				if (strcmp(mode, modes[m]) == 0)
					break;
			if (m == 3) {
				config_error_add(errors, file, line_of(s),
					"output.flows must be \"all\", \"smb_dcerpc\" or \"sampled\"");
				continue;
			}
			params->flows = (enum eve_flows)m;
		} else if (strcmp(name, "redis") == 0) {
			/* redis_config_load() reads it. */
		} else {
			config_error_add(errors, file, line_of(s),
				"unknown key output.%s (expected eve, syslog, syslog_target, max_handles, stats_interval, flows, flows_sample, redis)",
				name);
		}
	}
	return errors_added(errors, count0, dropped0) ? -EINVAL : 0;
}

/* report { } */

static void
load_trusted(struct load_ctx *ctx, config_setting_t *s,
	struct report_params *params)
{
	int i, count = string_array(ctx, s, REPORT_TRUSTED_MAX);

	if (count < 0)
		return;
	for (i = 0; i < count; i++)
		if (report_prefix_parse(element(s, i), &params->trusted[i]) < 0) {
			config_error_add(ctx->errors, ctx->file, line_of(s),
				"report.trusted[%d] = \"%s\" is not an address prefix like \"10.0.0.0/8\" or \"fd00::/8\" (no bits set beyond the length)",
				i, element(s, i));
			return;
		}
	params->trusted_count = (unsigned int)count;
}

static void
load_report_path(struct load_ctx *ctx, config_setting_t *s,
	struct report_params *params)
{
	const char *path;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error_add(ctx->errors, ctx->file, line_of(s),
			"report.path must be a string (a file name, or \"\" for none), not %s",
			config_type_name(config_setting_type(s)));
		return;
	}
	path = config_setting_get_string(s);
	/* Room for the ".tmp" and ".bad" siblings. */
	if (strlen(path) + 4 >= REPORT_PATH_MAX) {
		config_error_add(ctx->errors, ctx->file, line_of(s),
			"report.path is longer than %d bytes",
			REPORT_PATH_MAX - 5);
		return;
	}
	snprintf(params->path, sizeof(params->path), "%s", path);
}

int
detector_config_load_report(config_setting_t *group, const char *file,
	struct report_params *params, struct config_errors *errors)
{
	struct load_ctx ctx = { "report", file, errors };
	unsigned int count0 = errors->count, dropped0 = errors->dropped;
	int i, count;

	report_params_set_defaults(params);
	if (group == NULL)
		return 0;
	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "days") == 0)
			load_uint(&ctx, s, 1, 366, &params->days);
		else if (strcmp(name, "max_rows") == 0)
			load_uint(&ctx, s, 16, 1u << 22, &params->max_rows);
		else if (strcmp(name, "trusted") == 0)
			load_trusted(&ctx, s, params);
		else if (strcmp(name, "path") == 0)
			load_report_path(&ctx, s, params);
		else if (strcmp(name, "checkpoint_interval") == 0)
			load_uint(&ctx, s, 0, 86400,
				&params->checkpoint_interval);
		else
			config_error_add(errors, file, line_of(s),
				"unknown key report.%s (expected days, max_rows, trusted, path, checkpoint_interval)",
				name);
	}
	return errors_added(errors, count0, dropped0) ? -EINVAL : 0;
}
