/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "redis_config.h"
#include "redis_output.h"

static int
line_of(const config_setting_t *setting)
{
	int line = config_setting_source_line(setting);

	return line > 0 ? line : 1;
}

static void
load_string(config_setting_t *s, const char *file, char *out, size_t size,
	bool may_be_empty, struct config_errors *errors)
{
	const char *value;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error_add(errors, file, line_of(s),
			"output.redis.%s must be a string, not %s",
			config_setting_name(s),
			config_type_name(config_setting_type(s)));
		return;
	}
	value = config_setting_get_string(s);
	if (strlen(value) >= size || (!may_be_empty && value[0] == '\0')) {
		config_error_add(errors, file, line_of(s),
			"output.redis.%s must be %s%zu characters",
			config_setting_name(s), may_be_empty ? "at most " : "1 to ",
			size - 1);
		return;
	}
	snprintf(out, size, "%s", value);
}

static void
load_uint(config_setting_t *s, const char *file, unsigned int min,
	unsigned int max, unsigned int *out, struct config_errors *errors)
{
	int type = config_setting_type(s);
	long long value;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		config_error_add(errors, file, line_of(s),
			"output.redis.%s must be an integer, not %s",
			config_setting_name(s), config_type_name(type));
		return;
	}
	value = config_setting_get_int64(s);
	if (value < min || value > max) {
		config_error_add(errors, file, line_of(s),
			"output.redis.%s = %lld is out of range [%u, %u]",
			config_setting_name(s), value, min, max);
		return;
	}
	*out = (unsigned int)value;
}

static void
load_bool(config_setting_t *s, const char *file, bool *out,
	struct config_errors *errors)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_error_add(errors, file, line_of(s),
			"output.redis.%s must be a boolean, not %s",
			config_setting_name(s),
			config_type_name(config_setting_type(s)));
		return;
	}
	*out = config_setting_get_bool(s);
}

int
redis_config_load(config_setting_t *group, const char *file,
	struct redis_output_params *params, struct config_errors *errors)
{
	unsigned int count0 = errors->count, dropped0 = errors->dropped;
	bool tls = false;
	int i, count;

	redis_output_params_set_defaults(params);
	if (group == NULL)
		return 0;
	if (!config_setting_is_group(group)) {
		config_error_add(errors, file, line_of(group),
			"output.redis must be a group { ... }, not %s",
			config_type_name(config_setting_type(group)));
		return -EINVAL;
	}
	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "server") == 0) {
			load_string(s, file, params->server,
				sizeof(params->server), false, errors);
		} else if (strcmp(name, "port") == 0) {
			load_uint(s, file, 1, 65535, &params->port, errors);
		} else if (strcmp(name, "key") == 0) {
			load_string(s, file, params->key, sizeof(params->key),
				false, errors);
		} else if (strcmp(name, "mode") == 0) {
			char mode[16] = "";

			load_string(s, file, mode, sizeof(mode), false, errors);
			if (mode[0] != '\0' &&
					redis_mode_parse(mode, &params->mode) < 0)
				config_error_add(errors, file, line_of(s),
					"output.redis.mode = \"%s\" is not one of: list, stream, pubsub",
					mode);
		} else if (strcmp(name, "user") == 0) {
			load_string(s, file, params->user, sizeof(params->user),
				true, errors);
		} else if (strcmp(name, "password") == 0) {
			load_string(s, file, params->password,
				sizeof(params->password), true, errors);
		} else if (strcmp(name, "queue_size") == 0) {
			load_uint(s, file, 16, 1u << 20, &params->queue_size,
				errors);
		} else if (strcmp(name, "timeout_ms") == 0) {
			load_uint(s, file, 10, 60000, &params->timeout_ms,
				errors);
		} else if (strcmp(name, "stream_maxlen") == 0) {
			load_uint(s, file, 0, 1u << 30, &params->stream_maxlen,
				errors);
		} else if (strcmp(name, "report") == 0) {
			load_bool(s, file, &params->report, errors);
		} else if (strcmp(name, "report_key") == 0) {
			load_string(s, file, params->report_key,
				sizeof(params->report_key), false, errors);
		} else if (strcmp(name, "tls") == 0) {
			load_bool(s, file, &tls, errors);
			/*
			 * Debian 12's hiredis (0.14) has no TLS: refuse rather
			 * than send records in clear to a server that expects
			 * TLS (docs/operations.md: a local TLS tunnel).
			 */
			if (tls)
				config_error_add(errors, file, line_of(s),
					"output.redis.tls: this build's hiredis has no TLS support; connect through a local TLS tunnel (stunnel) instead");
		} else {
			config_error_add(errors, file, line_of(s),
				"unknown key output.redis.%s (expected server, port, key, mode, user, password, queue_size, timeout_ms, stream_maxlen, report, report_key, tls)",
				name);
		}
	}
	if (params->user[0] != '\0' && params->password[0] == '\0')
		config_error_add(errors, file, line_of(group),
			"output.redis.user needs output.redis.password");
	if (params->server[0] == '\0')
		config_error_add(errors, file, line_of(group),
			"output.redis needs a server (host name or address)");
	return errors->count != count0 || errors->dropped != dropped0 ?
		-EINVAL : 0;
}
