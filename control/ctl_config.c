/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration group control { }: the socket and its limits. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "ctl.h"
#include "ctl_pvt.h"

int
ctl_resolve_group(const char *name, gid_t *gid)
{
	struct group grp, *found = NULL;
	char buf[4096];
	char *end;
	unsigned long number;

	if (name[0] >= '0' && name[0] <= '9') {
		errno = 0;
		number = strtoul(name, &end, 10);
		if (*end != '\0' || errno != 0 || number > INT_MAX)
			return -ENOENT;
		*gid = (gid_t)number;
		return 0;
	}
	if (getgrnam_r(name, &grp, buf, sizeof(buf), &found) != 0 ||
			found == NULL)
		return -ENOENT;
	*gid = grp.gr_gid;
	return 0;
}

void
ctl_config_set_defaults(struct ctl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s",
		CTL_SOCKET_DEFAULT);
	snprintf(cfg->group, sizeof(cfg->group), "%s", CTL_GROUP_DEFAULT);
	cfg->max_clients = CTL_MAX_CLIENTS_DEFAULT;
	cfg->max_clients_per_uid = CTL_MAX_CLIENTS_PER_UID_DEFAULT;
	cfg->max_line = CTL_MAX_LINE_DEFAULT;
	cfg->request_timeout_ms = CTL_REQUEST_TIMEOUT_MS_DEFAULT;
	cfg->idle_timeout_s = CTL_IDLE_TIMEOUT_MS_DEFAULT / 1000;
}

static const char *
load_string(config_setting_t *setting, const char *file,
	struct config_errors *errors)
{
	if (config_setting_type(setting) != CONFIG_TYPE_STRING) {
		config_error_add(errors, file,
			config_setting_source_line(setting),
			"control.%s must be a string, not %s",
			config_setting_name(setting),
			config_type_name(config_setting_type(setting)));
		return NULL;
	}
	return config_setting_get_string(setting);
}

static void
load_uint(config_setting_t *setting, const char *file,
	struct config_errors *errors, unsigned int *out, unsigned int min,
	unsigned int max)
{
	int line = config_setting_source_line(setting);
	int type = config_setting_type(setting);
	long long value;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		config_error_add(errors, file, line,
			"control.%s must be an integer, not %s",
			config_setting_name(setting), config_type_name(type));
		return;
	}
	value = config_setting_get_int64(setting);
	if (value < min || value > max) {
		config_error_add(errors, file, line,
			"control.%s = %lld is out of range [%u, %u]",
			config_setting_name(setting), value, min, max);
		return;
	}
	*out = (unsigned int)value;
}

int
ctl_config_load(struct config_setting_t *group, const char *file,
	struct ctl_config *out, struct config_errors *errors)
{
	unsigned int before = errors->count + errors->dropped;
	int i, count, line;
	const char *name, *value;
	gid_t gid;

	ctl_config_set_defaults(out);
	if (group == NULL)
		return 0;
	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *setting = config_setting_get_elem(group, i);

		name = config_setting_name(setting);
		line = config_setting_source_line(setting);
		if (strcmp(name, "socket") == 0) {
			value = load_string(setting, file, errors);
			if (value == NULL)
				continue;
			if (value[0] != '/' || strlen(value) >= CTL_PATH_MAX ||
					value[strlen(value) - 1] == '/')
				config_error_add(errors, file, line,
					"control.socket = \"%s\" must be an absolute file path shorter than %d bytes",
					value, CTL_PATH_MAX);
			else
				snprintf(out->socket_path,
					sizeof(out->socket_path), "%s", value);
		} else if (strcmp(name, "group") == 0) {
			value = load_string(setting, file, errors);
			if (value == NULL)
				continue;
			if (value[0] == '\0' || strlen(value) >= CTL_GROUP_MAX ||
					ctl_resolve_group(value, &gid) != 0)
				config_error_add(errors, file, line,
					"control.group = \"%s\" is not a group on this system",
					value);
			else
				snprintf(out->group, sizeof(out->group), "%s",
					value);
		} else if (strcmp(name, "max_clients") == 0) {
			load_uint(setting, file, errors, &out->max_clients, 1,
				1024);
		} else if (strcmp(name, "max_clients_per_uid") == 0) {
			load_uint(setting, file, errors,
				&out->max_clients_per_uid, 1, 1024);
		} else if (strcmp(name, "max_line") == 0) {
			load_uint(setting, file, errors, &out->max_line, 64,
				65536);
		} else if (strcmp(name, "request_timeout_ms") == 0) {
			load_uint(setting, file, errors,
				&out->request_timeout_ms, 100, 600000);
		} else if (strcmp(name, "idle_timeout") == 0) {
			load_uint(setting, file, errors, &out->idle_timeout_s,
				1, 86400);
		} else {
			config_error_add(errors, file, line,
				"unknown key control.%s", name);
		}
	}
	return errors->count + errors->dropped > before ? -EINVAL : 0;
}

void
ctl_params_from_config(struct ctl_params *params, const struct ctl_config *cfg)
{
	memset(params, 0, sizeof(*params));
	params->socket_path = cfg->socket_path;
	params->group = cfg->group;
	params->max_clients = cfg->max_clients;
	params->max_clients_per_uid = cfg->max_clients_per_uid;
	params->max_line = cfg->max_line;
	params->request_timeout_ms = cfg->request_timeout_ms;
	params->idle_timeout_ms = cfg->idle_timeout_s * 1000;
}
