/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "config_files.h"
#include "detector_config.h"
#include "policy_config.h"
#include "redis_config.h"
#include "watchlists.h"

const char config_default_text[] =
	"# Built-in configuration: an inline pair of af_packet virtual ports.\n"
	"gateway: {\n"
	"  mode = \"inline\";\n"
	"  ports = [ \"net_af_packet0\", \"net_af_packet1\" ];\n"
	"  workers = 1;\n"
	"  fail_mode = \"open\";\n"
	"  mtu = 1500;\n"
	"  burst_size = 32;\n"
	"  stats_interval = 10;\n"
	"};\n";

/*
 * Every key the loader accepts, with its type and range. A table rather
 * than code per key so that unknown keys (usually typos) can be reported
 * and the configuration reference stays in step with what is accepted.
 */
enum key_kind {
	KEY_UINT,
	KEY_ENUM,
	KEY_PORTS,
	KEY_NAME,	/* a name: letters, digits, '.', '_', '-'; max - 1 bytes */
};

struct key_spec {
	const char *group;
	const char *name;
	enum key_kind kind;
	size_t offset;
	unsigned long min;
	unsigned long max;
	const char *const *choices;	/* KEY_ENUM: NULL-terminated */
};

static const char *const mode_choices[] = { "inline", "tap", NULL };
static const char *const fail_mode_choices[] = { "open", "closed", NULL };
static const char *const redirect_choices[] = { "auto", "on", "off", NULL };
static const char *const stream_mode_choices[] = { "normalise", "off", NULL };
static const char *const checksum_choices[] = { "verify", "auto", "off", NULL };
static const char *const fragments_choices[] = {
	"reassemble", "drop", "forward", NULL
};

#define UINT_KEY(grp, key, lo, hi) \
	{ grp, #key, KEY_UINT, offsetof(struct gateway_config, key), lo, hi, NULL }

static const struct key_spec key_specs[] = {
	{ "gateway", "mode", KEY_ENUM, offsetof(struct gateway_config, mode),
		0, 0, mode_choices },
	{ "gateway", "ports", KEY_PORTS, 0, 1, CONFIG_PORTS_MAX, NULL },
	UINT_KEY("gateway", workers, 1, 64),
	{ "gateway", "redirect", KEY_ENUM,
		offsetof(struct gateway_config, redirect), 0, 0,
		redirect_choices },
	{ "gateway", "fail_mode", KEY_ENUM,
		offsetof(struct gateway_config, fail_mode), 0, 0,
		fail_mode_choices },
	UINT_KEY("gateway", mtu, 68, 9600),
	UINT_KEY("gateway", burst_size, 1, 256),
	UINT_KEY("gateway", tx_retries, 0, 64),
	UINT_KEY("gateway", stats_interval, 0, 86400),
	{ "gateway", "name", KEY_NAME, offsetof(struct gateway_config, name),
		1, REDIS_GATEWAY_NAME_MAX, NULL },
	UINT_KEY("memory", mbufs, 1023, 1u << 24),
	UINT_KEY("memory", mbuf_cache, 0, 512),
	UINT_KEY("memory", mbuf_data_room, 1024, 65535 - 128),
	UINT_KEY("memory", rx_descriptors, 64, 16384),
	UINT_KEY("memory", tx_descriptors, 64, 16384),
	UINT_KEY("memory", event_ring_size, 64, 1u << 20),
	UINT_KEY("memory", redirect_ring_size, 64, 1u << 20),
	UINT_KEY("flows", max_flows, 1024, 1u << 28),
	UINT_KEY("flows", sessions, 16, 1u << 28),
	UINT_KEY("flows", sessions_per_client, 0, 1u << 20),
	UINT_KEY("flows", session_idle_reclaim_ms, 0, 3600000),
	UINT_KEY("flows", session_memory, 1, 1u << 20),
	UINT_KEY("flows", session_memory_max, 0, 1u << 20),
	UINT_KEY("flows", classify_packets, 1, 15),
	UINT_KEY("flows", quic_hellos_per_second, 100, 10000000),
	UINT_KEY("flows", timeout_embryonic, 1, 86400),
	UINT_KEY("flows", timeout_established, 1, 7 * 86400),
	UINT_KEY("flows", timeout_closing, 1, 86400),
	UINT_KEY("flows", timeout_closed, 1, 86400),
	UINT_KEY("flows", timeout_udp, 1, 86400),
	UINT_KEY("flows", timeout_other, 1, 86400),
	{ "stream", "mode", KEY_ENUM, offsetof(struct gateway_config,
		stream_mode), 0, 0, stream_mode_choices },
	{ "stream", "checksum", KEY_ENUM, offsetof(struct gateway_config,
		checksum), 0, 0, checksum_choices },
	{ "stream", "segments", KEY_UINT, offsetof(struct gateway_config,
		stream_segments), 64, 1u << 22, NULL },
	{ "stream", "flow_segments", KEY_UINT, offsetof(struct gateway_config,
		stream_flow_segments), 16, 65535, NULL },
	{ "stream", "gap_timeout", KEY_UINT, offsetof(struct gateway_config,
		stream_gap_timeout), 0, 3600, NULL },
	{ "stream", "client_segments", KEY_UINT, offsetof(struct gateway_config,
		stream_client_segments), 0, 1u << 22, NULL },
	/* stream { }: IP fragments */
	{ "stream", "fragments", KEY_ENUM,
		offsetof(struct gateway_config, fragments), 0, 0,
		fragments_choices },
	UINT_KEY("stream", fragment_table_size, 16, 65536),
	UINT_KEY("stream", fragment_timeout_ms, 100, 60000),
};

bool
config_table_key(unsigned int index, struct config_key_info *info)
{
	const struct key_spec *spec;

	if (index >= sizeof(key_specs) / sizeof(key_specs[0]))
		return false;
	spec = &key_specs[index];
	info->group = spec->group;
	info->name = spec->name;
	info->ports = spec->kind == KEY_PORTS;
	/* KEY_UINT and KEY_ENUM values are stored as unsigned int. */
	info->offset = info->ports ? offsetof(struct gateway_config, ports) :
		spec->offset;
	info->size = info->ports ? sizeof(((struct gateway_config *)0)->ports) :
		spec->kind == KEY_NAME ? spec->max : sizeof(unsigned int);
	return true;
}

static const char *const known_groups[] = {
	"gateway", "memory", "flows", "watchlists", "detector", "output", "control",
	"report", "policy", "stream", "dcerpc", NULL
};

void
config_set_defaults(struct gateway_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->source, sizeof(cfg->source), "<default>");
	cfg->mode = CONFIG_MODE_INLINE;
	cfg->port_count = 2;
	snprintf(cfg->ports[0], CONFIG_PORT_NAME_MAX, "net_af_packet0");
	snprintf(cfg->ports[1], CONFIG_PORT_NAME_MAX, "net_af_packet1");
	cfg->workers = 1;
	cfg->fail_mode = CONFIG_FAIL_OPEN;
	cfg->mtu = 1500;
	cfg->burst_size = 32;
	cfg->tx_retries = 4;
	cfg->stats_interval = 10;
	cfg->mbufs = 16383;
	cfg->mbuf_cache = 256;
	cfg->mbuf_data_room = 2048;
	cfg->rx_descriptors = 1024;
	cfg->tx_descriptors = 1024;
	/*
	 * 16 MiB a worker: the control core can be away for a report
	 * checkpoint (tens of ms) or a burst of new connections (each a
	 * new detector pair and summary row) without the ring overflowing.
	 */
	cfg->event_ring_size = 16384;
	cfg->redirect_ring_size = 4096;
	cfg->max_flows = 1u << 20;
	cfg->sessions = 0;	/* see config_sessions() */
	cfg->sessions_per_client = 64;
	cfg->session_idle_reclaim_ms = 5000;
	cfg->session_memory = 1024;
	cfg->session_memory_max = 512;
	cfg->classify_packets = 4;
	cfg->quic_hellos_per_second = 20000;
	cfg->timeout_embryonic = 30;
	cfg->timeout_established = 7200;
	cfg->timeout_closing = 120;
	cfg->timeout_closed = 10;
	cfg->timeout_udp = 60;
	cfg->timeout_other = 30;
	cfg->stream_mode = CONFIG_STREAM_NORMALISE;
	cfg->checksum = CONFIG_CHECKSUM_DEFAULT;
	cfg->stream_segments = 0;	/* see check_stream_segments() */
	cfg->stream_flow_segments = 2048;
	cfg->stream_gap_timeout = 30;
	cfg->stream_client_segments = 1024;
	cfg->fragments = CONFIG_FRAGMENTS_REASSEMBLE;
	cfg->fragment_table_size = 0;	/* see check_fragment_table() */
	cfg->fragment_timeout_ms = 5000;
	config_dcerpc_defaults(&cfg->dcerpc);
	watchlist_spec_set_defaults(&cfg->watchlists);
	ctl_config_set_defaults(&cfg->control);
	detector_params_set_defaults(&cfg->detector);
	eve_params_set_defaults(&cfg->output);
	report_params_set_defaults(&cfg->report);
	redis_output_params_set_defaults(&cfg->redis);
	policy_config_defaults(&cfg->policy);
}

void
config_error_add(struct config_errors *errors, const char *file, int line,
	const char *fmt, ...)
{
	char text[CONFIG_ERROR_LEN - CONFIG_PATH_MAX / 4];
	va_list ap;

	if (errors->count >= CONFIG_ERRORS_MAX) {
		errors->dropped++;
		return;
	}
	/* A line of the parsed text: say which file it is in. */
	if (errors->text != NULL && line > 0)
		config_text_locate(errors->text, line, &file, &line);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(errors->messages[errors->count++], CONFIG_ERROR_LEN,
		"%s:%d: %s", file, line, text);
}

const char *
config_error_where(const struct config_errors *errors, int line, char *buf,
	size_t len)
{
	const char *file;

	if (errors->text != NULL &&
			config_text_locate(errors->text, line, &file, &line) == 0)
		snprintf(buf, len, "%s:%d", file, line);
	else
		snprintf(buf, len, "line %d", line);
	return buf;
}

const char *
config_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: return "an integer";
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "an unknown type";
	}
}

static const struct key_spec *
find_key(const char *group, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(key_specs) / sizeof(key_specs[0]); i++)
		if (strcmp(key_specs[i].group, group) == 0 &&
				strcmp(key_specs[i].name, name) == 0)
			return &key_specs[i];
	return NULL;
}

static void
load_uint(const struct key_spec *spec, config_setting_t *setting,
	struct gateway_config *cfg, struct config_errors *errors,
	const char *file)
{
	int line = config_setting_source_line(setting);
	long long value;
	int type = config_setting_type(setting);

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		config_error_add(errors, file, line,
			"%s.%s must be an integer, not %s",
			spec->group, spec->name, config_type_name(type));
		return;
	}
	value = config_setting_get_int64(setting);
	if (value < (long long)spec->min || value > (long long)spec->max) {
		config_error_add(errors, file, line,
			"%s.%s = %lld is out of range [%lu, %lu]",
			spec->group, spec->name, value, spec->min, spec->max);
		return;
	}
	*(unsigned int *)((char *)cfg + spec->offset) = (unsigned int)value;
}

static void
load_enum(const struct key_spec *spec, config_setting_t *setting,
	struct gateway_config *cfg, struct config_errors *errors,
	const char *file)
{
	int line = config_setting_source_line(setting);
	char list[128] = "";
	const char *value;
	unsigned int i;

	if (config_setting_type(setting) != CONFIG_TYPE_STRING) {
		config_error_add(errors, file, line, "%s.%s must be a string, not %s",
			spec->group, spec->name,
			config_type_name(config_setting_type(setting)));
		return;
	}
	value = config_setting_get_string(setting);
	for (i = 0; spec->choices[i] != NULL; i++) {
		if (strcmp(value, spec->choices[i]) == 0) {
			*(unsigned int *)((char *)cfg + spec->offset) = i;
			return;
		}
	}
	for (i = 0; spec->choices[i] != NULL; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			"%s%s", i > 0 ? ", " : "", spec->choices[i]);
	config_error_add(errors, file, line, "%s.%s = \"%s\" is not one of: %s",
		spec->group, spec->name, value, list);
}

static void
load_name(const struct key_spec *spec, config_setting_t *setting,
	struct gateway_config *cfg, struct config_errors *errors,
	const char *file)
{
	int line = config_setting_source_line(setting);
	const char *value;
	size_t i, len;

	if (config_setting_type(setting) != CONFIG_TYPE_STRING) {
		config_error_add(errors, file, line, "%s.%s must be a string, not %s",
			spec->group, spec->name,
			config_type_name(config_setting_type(setting)));
		return;
	}
	value = config_setting_get_string(setting);
	len = strlen(value);
	if (len < spec->min || len >= spec->max) {
		config_error_add(errors, file, line,
			"%s.%s must be %lu to %lu characters",
			spec->group, spec->name, spec->min, spec->max - 1);
		return;
	}
	/* It becomes part of Redis keys and JSON: keep it plain. */
	for (i = 0; i < len; i++) {
		char c = value[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '.' || c == '_' ||
				c == '-')) {
			config_error_add(errors, file, line,
				"%s.%s = \"%s\": only letters, digits, '.', '_' and '-' are allowed",
				spec->group, spec->name, value);
			return;
		}
	}
	snprintf((char *)cfg + spec->offset, spec->max, "%s", value);
}

static void
load_ports(const struct key_spec *spec, config_setting_t *setting,
	struct gateway_config *cfg, struct config_errors *errors,
	const char *file)
{
	int line = config_setting_source_line(setting);
	int type = config_setting_type(setting);
	int count, i, j;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		config_error_add(errors, file, line,
			"gateway.ports must be an array of port names, not %s",
			config_type_name(type));
		return;
	}
	count = config_setting_length(setting);
	if (count < (int)spec->min || count > (int)spec->max) {
		config_error_add(errors, file, line,
			"gateway.ports has %d entries; between %lu and %lu expected",
			count, spec->min, spec->max);
		return;
	}
	for (i = 0; i < count; i++) {
		config_setting_t *elem = config_setting_get_elem(setting, i);
		const char *name = config_setting_get_string(elem);

		if (name == NULL) {
			config_error_add(errors, file, line,
				"gateway.ports[%d] must be a string", i);
			return;
		}
		if (name[0] == '\0' || strlen(name) >= CONFIG_PORT_NAME_MAX) {
			config_error_add(errors, file, line,
				"gateway.ports[%d] must be 1 to %d characters",
				i, CONFIG_PORT_NAME_MAX - 1);
			return;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->ports[j], name) == 0) {
				config_error_add(errors, file, line,
					"gateway.ports names \"%s\" twice",
					name);
				return;
			}
		}
		snprintf(cfg->ports[i], CONFIG_PORT_NAME_MAX, "%s", name);
	}
	cfg->port_count = count;
}

static bool
group_known(const char *name)
{
	unsigned int i;

	for (i = 0; known_groups[i] != NULL; i++)
		if (strcmp(known_groups[i], name) == 0)
			return true;
	return false;
}

static void
load_group(config_setting_t *group, struct gateway_config *cfg,
	struct config_errors *errors, const char *file)
{
	const char *group_name = config_setting_name(group);
	int i, count = config_setting_length(group);

	for (i = 0; i < count; i++) {
		config_setting_t *setting = config_setting_get_elem(group, i);
		const char *name = config_setting_name(setting);
		const struct key_spec *spec = find_key(group_name, name);

		if (spec == NULL) {
			config_error_add(errors, file,
				config_setting_source_line(setting),
				"unknown key %s.%s", group_name, name);
			continue;
		}
		switch (spec->kind) {
		case KEY_UINT:
			load_uint(spec, setting, cfg, errors, file);
			break;
		case KEY_ENUM:
			load_enum(spec, setting, cfg, errors, file);
			break;
		case KEY_PORTS:
			load_ports(spec, setting, cfg, errors, file);
			break;
		case KEY_NAME:
			load_name(spec, setting, cfg, errors, file);
			break;
		}
	}
}

/*
 * Fragments wait in the receiving port's buffers: the tables of all
 * workers may take at most half of them. Unset, the table size is the
 * default or what fits; set, it must fit.
 */
static void
check_fragment_table(struct gateway_config *cfg,
	struct config_errors *errors, const char *file)
{
	unsigned long per_datagram = (unsigned long)cfg->workers *
		CONFIG_FRAGMENTS_PER_DATAGRAM;
	unsigned long fits = cfg->mbufs / 2 / per_datagram;

	if (cfg->fragment_table_size == 0) {
		if (fits > CONFIG_FRAGMENT_TABLE_DEFAULT)
			fits = CONFIG_FRAGMENT_TABLE_DEFAULT;
		cfg->fragment_table_size = fits < 16 ? 16 : (unsigned int)fits;
		return;
	}
	if (cfg->fragments == CONFIG_FRAGMENTS_REASSEMBLE &&
			cfg->fragment_table_size > fits)
		config_error_add(errors, file, 1,
			"stream.fragment_table_size = %u lets gateway.workers = %u hold %lu fragments per port, more than half of memory.mbufs = %u",
			cfg->fragment_table_size, cfg->workers,
			cfg->fragment_table_size * per_datagram, cfg->mbufs);
}

/*
 * Kept segments hold buffers of the port they arrived on, up to
 * stream.segments per worker: every worker's share together must leave
 * the port's pool buffers to receive into, or a port whose pool is all
 * kept stops receiving. Set, the workers' total must stay below the pool;
 * unset, config_stream_segments() takes what fits.
 */
static void
check_stream_segments(const struct gateway_config *cfg,
	struct config_errors *errors, const char *file)
{
	unsigned long total = (unsigned long)cfg->stream_segments *
		cfg->workers;

	if (cfg->stream_segments != 0 &&
			cfg->stream_mode != CONFIG_STREAM_OFF &&
			total >= cfg->mbufs)
		config_error_add(errors, file, 1,
			"stream.segments = %u lets gateway.workers = %u keep %lu buffers of a port, not fewer than memory.mbufs = %u: none would be left to receive into",
			cfg->stream_segments, cfg->workers, total, cfg->mbufs);
}

/* Rules that tie several keys together, checked once all are loaded. */
static void
check_consistency(config_t *lc, struct gateway_config *cfg,
	struct config_errors *errors, const char *file)
{
	config_setting_t *gateway = config_lookup(lc, "gateway");
	config_setting_t *ports = config_lookup(lc, "gateway.ports");
	int gateway_line = gateway ? config_setting_source_line(gateway) : 1;
	int ports_line = gateway_line;
	/* The memory group, else the gateway group (burst_size): where the
	 * keys of the two rules below are. */
	config_setting_t *memory = config_lookup(lc, "memory");
	int memory_line = gateway_line;

	if (gateway == NULL) {
		config_error_add(errors, file, 1, "missing group gateway");
		return;
	}
	if (ports != NULL)
		ports_line = config_setting_source_line(ports);
	if (ports == NULL) {
		config_error_add(errors, file, gateway_line,
			"missing key gateway.ports (the DPDK port names)");
		return;
	}
	if (cfg->mode == CONFIG_MODE_INLINE && cfg->port_count != 2)
		config_error_add(errors, file, ports_line,
			"inline mode needs exactly 2 ports, %u given",
			cfg->port_count);
	if (memory != NULL)
		memory_line = config_setting_source_line(memory);
	if (cfg->mbuf_cache > cfg->mbufs / 2)
		config_error_add(errors, file, memory_line,
			"memory.mbuf_cache = %u must be at most half of memory.mbufs = %u",
			cfg->mbuf_cache, cfg->mbufs);
	if (cfg->mbufs < cfg->rx_descriptors + cfg->tx_descriptors +
			2 * cfg->burst_size)
		config_error_add(errors, file, memory_line,
			"memory.mbufs = %u cannot fill the rings: need at least rx_descriptors + tx_descriptors + 2 * burst_size = %u",
			cfg->mbufs, cfg->rx_descriptors + cfg->tx_descriptors +
			2 * cfg->burst_size);
	check_fragment_table(cfg, errors, file);
	check_stream_segments(cfg, errors, file);
}

static int
load_parsed(config_t *lc, const char *file, struct gateway_config *cfg,
	struct config_errors *errors)
{
	config_setting_t *root = config_root_setting(lc);
	config_setting_t *policy_group = NULL;
	int i, count = config_setting_length(root);

	for (i = 0; i < count; i++) {
		config_setting_t *group = config_setting_get_elem(root, i);
		const char *name = config_setting_name(group);

		if (!group_known(name)) {
			config_error_add(errors, file,
				config_setting_source_line(group),
				"unknown group or key %s", name);
			continue;
		}
		if (!config_setting_is_group(group)) {
			config_error_add(errors, file,
				config_setting_source_line(group),
				"%s must be a group { ... }, not %s", name,
				config_type_name(config_setting_type(group)));
			continue;
		}
		/* Groups with lists and names have loaders of their own. */
		if (strcmp(name, "policy") == 0)
			policy_group = group;	/* after the watchlists it names */
		else if (strcmp(name, "watchlists") == 0)
			watchlists_load(group, file, &cfg->watchlists, errors);
		else if (strcmp(name, "control") == 0)
			ctl_config_load(group, file, &cfg->control, errors);
		else if (strcmp(name, "dcerpc") == 0)
			config_dcerpc_load(group, file, &cfg->dcerpc, errors);
		else if (strcmp(name, "detector") == 0)
			detector_config_load_detector(group, file, &cfg->detector,
				errors);
		else if (strcmp(name, "output") == 0) {
			detector_config_load_output(group, file, &cfg->output,
				errors);
			redis_config_load(config_setting_get_member(group,
				"redis"), file, &cfg->redis, errors);
		}
		else if (strcmp(name, "report") == 0)
			detector_config_load_report(group, file, &cfg->report,
				errors);
		else
			load_group(group, cfg, errors, file);
	}
	if (policy_group != NULL)
		policy_config_load(policy_group, file, &cfg->policy,
			&cfg->watchlists, errors);
	check_consistency(lc, cfg, errors, file);
	return errors->count > 0 || errors->dropped > 0 ? -EINVAL : 0;
}

/*
 * Parses <text>, which stands for file <name>, and loads it. With
 * <source> (a file read by config_text_read()), messages name the files
 * the lines came from.
 */
static int
parse_and_load(const char *name, const char *text,
	const struct config_text *source, struct gateway_config *cfg,
	struct config_errors *errors)
{
	config_t lc;
	int ret;

	config_init(&lc);
	/*
	 * Every @include was expanded by config_text_read(); should libconfig
	 * still meet one, its path is looked for under a directory that cannot
	 * exist, so that no file is ever opened without the checks.
	 */
	config_set_include_dir(&lc, "/dev/null");
	errors->text = source;
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		config_error_add(errors, name, config_error_line(&lc), "%s",
			config_error_text(&lc));
		ret = -EINVAL;
	} else {
		ret = load_parsed(&lc, name, cfg, errors);
	}
	errors->text = NULL;
	config_destroy(&lc);
	return ret;
}

int
config_load_file(const char *path, struct gateway_config *cfg,
	struct config_errors *errors)
{
	struct config_text *text;
	int ret;

	memset(errors, 0, sizeof(*errors));
	config_set_defaults(cfg);
	snprintf(cfg->source, sizeof(cfg->source), "%s", path);
	text = config_text_read(path, errors);
	if (text == NULL)
		return -errno;
	ret = parse_and_load(path, config_text_string(text), text, cfg, errors);
	config_text_free(text);
	return ret;
}

int
config_load_string(const char *name, const char *text,
	struct gateway_config *cfg, struct config_errors *errors)
{
	memset(errors, 0, sizeof(*errors));
	config_set_defaults(cfg);
	snprintf(cfg->source, sizeof(cfg->source), "%s", name);
	return parse_and_load(name, text, NULL, cfg, errors);
}

/*
 * Unset, stream.segments stays 0 in the configuration (so that a change
 * of workers or mbufs is not also reported as one of stream.segments) and
 * is worked out here: the default, or half a port's pool shared by the
 * workers.
 */
unsigned int
config_stream_segments(const struct gateway_config *cfg)
{
	unsigned long fits = cfg->mbufs / 2 / (cfg->workers ? cfg->workers : 1);

	if (cfg->stream_segments != 0)
		return cfg->stream_segments;
	if (fits > CONFIG_STREAM_SEGMENTS_DEFAULT)
		fits = CONFIG_STREAM_SEGMENTS_DEFAULT;
	return fits < 64 ? 64 : (unsigned int)fits;
}

unsigned int
config_max_frame(const struct gateway_config *cfg)
{
	/* Ethernet header plus an outer and an inner VLAN tag (QinQ). */
	return cfg->mtu + 14 + 2 * 4;
}

/*
 * Unset, flows.sessions stays 0 in the configuration (so that a change of
 * flows.max_flows is not also reported as one of flows.sessions) and
 * follows the flow table: every flow it holds may be a parsed session.
 */
unsigned int
config_sessions(const struct gateway_config *cfg)
{
	return cfg->sessions != 0 ? cfg->sessions : cfg->max_flows;
}

const char *
config_mode_name(enum config_mode mode)
{
	return mode_choices[mode];
}

const char *
config_fail_mode_name(enum config_fail_mode mode)
{
	return fail_mode_choices[mode];
}

const char *
config_redirect_name(enum config_redirect redirect)
{
	return redirect_choices[redirect];
}

const char *
config_checksum_name(enum config_checksum checksum)
{
	return checksum == CONFIG_CHECKSUM_DEFAULT ? "default" :
		checksum_choices[checksum];
}

const char *
config_fragments_name(enum config_fragments mode)
{
	return fragments_choices[mode];
}
