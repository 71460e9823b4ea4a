/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_dcerpc.h"

#define ENDPOINTS_MIN		16
#define ENDPOINTS_MAX		(1u << 20)
#define EXPIRY_MAX		(7u * 86400)

void
config_dcerpc_defaults(struct config_dcerpc *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->endpoints = ENDPOINT_DEFAULT_ENTRIES;
	cfg->endpoint_expiry = ENDPOINT_DEFAULT_EXPIRY_S;
	cfg->range_count = 2;
	cfg->ranges[0] = endpoint_default_ranges[0];
	cfg->ranges[1] = endpoint_default_ranges[1];
}

/* Reads a decimal port 1-65535 at *s, advancing it; 0 if none. */
static unsigned long
read_port(const char **s)
{
	char *end;
	unsigned long v;

	if (**s < '0' || **s > '9')
		return 0;
	v = strtoul(*s, &end, 10);
	*s = end;
	return v >= 1 && v <= 65535 ? v : 0;
}

/* "FIRST-LAST" or "PORT" into <r>; false if malformed. */
static bool
parse_range(const char *text, struct endpoint_port_range *r)
{
	const char *s = text;
	unsigned long first, last;

	first = read_port(&s);
	if (first == 0)
		return false;
	last = first;
	if (*s == '-') {
		s++;
		last = read_port(&s);
		if (last == 0)
			return false;
	}
	if (*s != '\0' || last < first)
		return false;
	r->first = (uint16_t)first;
	r->last = (uint16_t)last;
	return true;
}

static void
load_uint(config_setting_t *s, const char *file, const char *name,
	unsigned long min, unsigned long max, unsigned int *out,
	struct config_errors *errors)
{
	int line = config_setting_source_line(s);
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
			config_setting_type(s) != CONFIG_TYPE_INT64) {
		config_error_add(errors, file, line,
			"dcerpc.%s must be an integer, not %s", name,
			config_type_name(config_setting_type(s)));
		return;
	}
	v = config_setting_get_int64(s);
	if (v < (long long)min || v > (long long)max) {
		config_error_add(errors, file, line,
			"dcerpc.%s = %lld is out of range [%lu, %lu]", name, v,
			min, max);
		return;
	}
	*out = (unsigned int)v;
}

static void
load_ranges(config_setting_t *s, const char *file, struct config_dcerpc *cfg,
	struct config_errors *errors)
{
	int line = config_setting_source_line(s);
	int type = config_setting_type(s), i, count;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		config_error_add(errors, file, line,
			"dcerpc.dynamic_ports must be a list of \"FIRST-LAST\" port ranges, not %s",
			config_type_name(type));
		return;
	}
	count = config_setting_length(s);
	/* Entries past the list stay zero: a reload compares the array. */
	memset(cfg->ranges, 0, sizeof(cfg->ranges));
	cfg->range_count = 0;
	if (count > ENDPOINT_RANGES_MAX) {
		config_error_add(errors, file, line,
			"dcerpc.dynamic_ports has %d ranges; at most %d",
			count, ENDPOINT_RANGES_MAX);
		return;
	}
	for (i = 0; i < count; i++) {
		const char *text = config_setting_get_string(
			config_setting_get_elem(s, i));

		if (text == NULL || !parse_range(text, &cfg->ranges[i])) {
			config_error_add(errors, file, line,
				"dcerpc.dynamic_ports[%d] must be \"FIRST-LAST\" or \"PORT\" with ports 1-65535, FIRST <= LAST",
				i);
			cfg->range_count = 0;
			return;
		}
	}
	cfg->range_count = (unsigned int)count;
}

void
config_dcerpc_load(config_setting_t *group, const char *file,
	struct config_dcerpc *cfg, struct config_errors *errors)
{
	int i, count = config_setting_length(group);

	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "endpoints") == 0)
			load_uint(s, file, name, ENDPOINTS_MIN, ENDPOINTS_MAX,
				&cfg->endpoints, errors);
		else if (strcmp(name, "endpoint_expiry") == 0)
			load_uint(s, file, name, 1, EXPIRY_MAX,
				&cfg->endpoint_expiry, errors);
		else if (strcmp(name, "dynamic_ports") == 0)
			load_ranges(s, file, cfg, errors);
		else
			config_error_add(errors, file,
				config_setting_source_line(s),
				"unknown key dcerpc.%s (expected endpoints, endpoint_expiry, dynamic_ports)",
				name);
	}
}
