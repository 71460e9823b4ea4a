/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "dcerpc.h"
#include "match.h"
#include "policy.h"
#include "policy_config.h"

/* Names rules use besides the configured segments. */
#define NAME_ANY "any"
#define NAME_UNASSIGNED "unassigned"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const action_names[] = {
	[POLICY_ALLOW] = "allow",
	[POLICY_DENY] = "deny",
	[POLICY_MONITOR] = "monitor",
	NULL
};

static const char *const mode_names[] = {
	[POLICY_MODE_ENFORCE] = "enforce",
	[POLICY_MODE_MONITOR_ONLY] = "monitor-only",
	NULL
};

static const char *const deny_names[] = {
	[POLICY_DENY_RESET] = "reset",
	[POLICY_DENY_DROP] = "drop",
	NULL
};

/* unverifiable_action values, by enum policy_unverifiable (0 is unsaid). */
static const char *const unverifiable_names[] = {
	"deny", "allow", "monitor", NULL
};

#define DIALECT_BIT(d) (1u << (d))
#define DIALECTS_SMB2 (DIALECT_BIT(POLICY_DIALECT_2_0_2) | \
	DIALECT_BIT(POLICY_DIALECT_2_1))
#define DIALECTS_SMB3 (DIALECT_BIT(POLICY_DIALECT_3_0) | \
	DIALECT_BIT(POLICY_DIALECT_3_0_2) | DIALECT_BIT(POLICY_DIALECT_3_1_1))

/* Dialect words of rules; the specific ones are also dialect_below values. */
static const struct {
	const char *name;
	uint8_t mask;
	int below;	/* enum policy_dialect for dialect_below, or -1 */
} dialect_words[] = {
	{ "smb1", DIALECT_BIT(POLICY_DIALECT_SMB1), -1 },
	{ "2.0.2", DIALECT_BIT(POLICY_DIALECT_2_0_2), POLICY_DIALECT_2_0_2 },
	{ "2.1", DIALECT_BIT(POLICY_DIALECT_2_1), POLICY_DIALECT_2_1 },
	{ "3.0", DIALECT_BIT(POLICY_DIALECT_3_0), POLICY_DIALECT_3_0 },
	{ "3.0.2", DIALECT_BIT(POLICY_DIALECT_3_0_2), POLICY_DIALECT_3_0_2 },
	{ "3.1.1", DIALECT_BIT(POLICY_DIALECT_3_1_1), POLICY_DIALECT_3_1_1 },
	{ "smb2", DIALECTS_SMB2, -1 },
	{ "smb3", DIALECTS_SMB3, -1 },
};

#define DIALECT_WORDS "smb1, smb2, smb3, 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1"

/* The class conditions of a rule and the watchlist kind each names. */
static const struct {
	const char *key;
	enum watch_kind kind;
	size_t offset;
} class_keys[] = {
	{ "share_class", WATCH_KIND_SHARE,
		offsetof(struct policy_rule_spec, share_classes) },
	{ "pipe_class", WATCH_KIND_PIPE,
		offsetof(struct policy_rule_spec, pipe_classes) },
	{ "file_class", WATCH_KIND_FILE,
		offsetof(struct policy_rule_spec, file_classes) },
};

/* What every message needs. */
struct load_ctx {
	const char *file;
	struct policy_spec *spec;
	const struct watchlist_spec *watchlists;
	struct config_errors *errors;
	/* segment_ok[id]: the segment loaded without error (rules may use it) */
	bool segment_ok[POLICY_SEGMENTS_MAX + 1];
	/* Segments that failed to load, by name, so rules naming them are
	 * not reported a second time as unknown. */
	unsigned int failed_count;
	char failed[64][POLICY_NAME_MAX];
	/* Segment ids sorted by name, for rules to find them quickly. */
	uint16_t by_name[POLICY_SEGMENTS_MAX + 1];
};

static int
line_of(const config_setting_t *setting, int fallback)
{
	int line = setting != NULL ? config_setting_source_line(setting) : 0;

	return line > 0 ? line : fallback;
}

static bool
errors_added(const struct config_errors *errors, unsigned int count,
	unsigned int dropped)
{
	return errors->count != count || errors->dropped != dropped;
}

void
policy_config_defaults(struct policy_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->mode = POLICY_MODE_ENFORCE;
	spec->default_action = POLICY_ALLOW;
	spec->deny_action = POLICY_DENY_RESET;
	spec->unverifiable_action = POLICY_UNVERIFIABLE_DENY;
	spec->segment_count = 1;
	snprintf(spec->segments[0].name, POLICY_NAME_MAX, "%s",
		NAME_UNASSIGNED);
}

int
policy_config_parse_prefix(const char *text, struct policy_prefix *out)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned int depth, max, i;
	bool bits_beyond = false;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->ip_version = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->ip_version = 6;
		max = 128;
	} else {
		return -EINVAL;
	}
	depth = max;
	if (slash != NULL) {
		const char *d = slash + 1;
		char *end;
		unsigned long v;

		if (*d < '0' || *d > '9' || strlen(d) > 3)
			return -EINVAL;
		v = strtoul(d, &end, 10);
		if (*end != '\0' || v > max)
			return -EINVAL;
		depth = (unsigned int)v;
	}
	out->depth = (uint8_t)depth;
	for (i = depth; i < max; i++)
		if (out->addr[i / 8] & (0x80u >> (i % 8)))
			bits_beyond = true;
	return bits_beyond ? -EDOM : 0;
}

void
policy_config_format_prefix(const struct policy_prefix *pfx, char *buf,
	size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (inet_ntop(pfx->ip_version == 4 ? AF_INET : AF_INET6, pfx->addr,
			addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, len, "%s/%u", addr, pfx->depth);
}

/* <pfx> with the bits beyond its depth cleared. */
static void
prefix_mask(struct policy_prefix *pfx)
{
	unsigned int max = pfx->ip_version == 4 ? 32 : 128, i;

	for (i = pfx->depth; i < max; i++)
		pfx->addr[i / 8] &= ~(0x80u >> (i % 8));
}

static bool
name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= POLICY_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '_' ||
				c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* Sets <*out> to the index of <value> in <choices>, else reports. */
static bool
load_choice(struct load_ctx *ctx, config_setting_t *s, const char *where,
	const char *const *choices, unsigned int *out)
{
	int line = line_of(s, 1);
	const char *value;
	char list[128] = "";
	unsigned int i;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s must be a string, not %s", where,
			config_type_name(config_setting_type(s)));
		return false;
	}
	value = config_setting_get_string(s);
	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(value, choices[i]) == 0) {
			*out = i;
			return true;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			"%s%s", i > 0 ? ", " : "", choices[i]);
	}
	config_error_add(ctx->errors, ctx->file, line,
		"%s = \"%s\" is not one of: %s", where, value, list);
	return false;
}

/*
 * Calls <fn> for each element of <s>, which must be an array or list;
 * a single scalar of the element type is taken as a one-element array
 * when <scalar_ok>.
 */
static int
elements(struct load_ctx *ctx, config_setting_t *s, const char *where,
	const char *what, bool scalar_ok)
{
	int type = config_setting_type(s);

	if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST)
		return config_setting_length(s);
	if (scalar_ok && type == CONFIG_TYPE_STRING)
		return -1;	/* the setting itself is the one element */
	config_error_add(ctx->errors, ctx->file, line_of(s, 1),
		"%s must be %s, not %s", where, what,
		config_type_name(type));
	return -2;
}

/* Parses one prefix string for <where>; reports and returns false if bad. */
static bool
load_prefix(struct load_ctx *ctx, config_setting_t *elem, const char *where,
	int index, int fallback_line, struct policy_prefix *out)
{
	int line = line_of(elem, fallback_line);
	char masked[64];
	const char *text;
	int ret;

	if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s[%d] must be a string, not %s", where, index,
			config_type_name(config_setting_type(elem)));
		return false;
	}
	text = config_setting_get_string(elem);
	ret = policy_config_parse_prefix(text, out);
	if (ret == -EDOM) {
		prefix_mask(out);
		policy_config_format_prefix(out, masked, sizeof(masked));
		config_error_add(ctx->errors, ctx->file, line,
			"%s[%d] = \"%s\" has bits set beyond /%u (the network is \"%s\"; a single host is /%u)",
			where, index, text, out->depth, masked,
			out->ip_version == 4 ? 32 : 128);
		return false;
	}
	if (ret < 0) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s[%d] = \"%s\" is not an IPv4 or IPv6 prefix (\"198.18.1.0/24\", \"2001:db8::/32\", or an address)",
			where, index, text);
		return false;
	}
	out->line = line;
	return true;
}

static void
load_trusted(struct load_ctx *ctx, config_setting_t *s)
{
	int i, count = elements(ctx, s, "policy.trusted",
		"an array of prefixes [ \"198.18.9.0/24\", ... ]", false);
	int line = line_of(s, 1);

	for (i = 0; i < count; i++) {
		struct policy_prefix pfx;

		if (!load_prefix(ctx, config_setting_get_elem(s, i),
				"policy.trusted", i, line, &pfx))
			continue;
		if (ctx->spec->trusted_count >= POLICY_TRUSTED_MAX) {
			config_error_add(ctx->errors, ctx->file, pfx.line,
				"policy.trusted: more than %d prefixes",
				POLICY_TRUSTED_MAX);
			return;
		}
		ctx->spec->trusted[ctx->spec->trusted_count++] = pfx;
	}
}

static void
load_vlans(struct load_ctx *ctx, config_setting_t *s, const char *where,
	uint16_t id, bool *any)
{
	char place[CONFIG_PATH_MAX + 16];
	int i, count = elements(ctx, s, where,
		"an array of VLAN IDs [ 100, ... ]", false);
	int line = line_of(s, 1);

	for (i = 0; i < count; i++) {
		config_setting_t *elem = config_setting_get_elem(s, i);
		int elem_line = line_of(elem, line);
		long long vlan;
		uint16_t owner;

		if (config_setting_type(elem) != CONFIG_TYPE_INT &&
				config_setting_type(elem) != CONFIG_TYPE_INT64) {
			config_error_add(ctx->errors, ctx->file, elem_line,
				"%s[%d] must be an integer, not %s", where, i,
				config_type_name(config_setting_type(elem)));
			continue;
		}
		vlan = config_setting_get_int64(elem);
		if (vlan < 1 || vlan > 4094) {
			config_error_add(ctx->errors, ctx->file, elem_line,
				"%s[%d] = %lld is not a VLAN ID (1 to 4094)",
				where, i, vlan);
			continue;
		}
		owner = ctx->spec->vlan_segment[vlan];
		if (owner != 0) {
			config_error_add(ctx->errors, ctx->file, elem_line,
				"%s: VLAN %lld already belongs to segment %s (%s)",
				where, vlan, ctx->spec->segments[owner].name,
				config_error_where(ctx->errors,
					ctx->spec->segments[owner].line, place,
					sizeof(place)));
			continue;
		}
		ctx->spec->vlan_segment[vlan] = id;
		*any = true;
	}
}

static void
load_segment_prefixes(struct load_ctx *ctx, config_setting_t *s,
	const char *where, uint16_t id, bool *any)
{
	int i, count = elements(ctx, s, where,
		"an array of prefixes [ \"198.18.1.0/24\", ... ]", false);
	int line = line_of(s, 1);

	for (i = 0; i < count; i++) {
		struct policy_prefix pfx;

		if (!load_prefix(ctx, config_setting_get_elem(s, i), where, i,
				line, &pfx))
			continue;
		if (ctx->spec->prefix_count >= POLICY_PREFIXES_MAX) {
			config_error_add(ctx->errors, ctx->file, pfx.line,
				"%s: more than %d prefixes in all segments",
				where, POLICY_PREFIXES_MAX);
			return;
		}
		pfx.segment = id;
		ctx->spec->prefixes[ctx->spec->prefix_count++] = pfx;
		*any = true;
	}
}

static void
remember_failed(struct load_ctx *ctx, const char *name)
{
	if (ctx->failed_count < ARRAY_LEN(ctx->failed))
		snprintf(ctx->failed[ctx->failed_count++], POLICY_NAME_MAX,
			"%s", name);
}

static int
segment_find(const struct policy_spec *spec, const char *name)
{
	unsigned int i;

	for (i = 0; i < spec->segment_count; i++)
		if (strcmp(spec->segments[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* One { name = ...; vlans = [...]; prefixes = [...]; } of segments. */
static void
load_segment(struct load_ctx *ctx, config_setting_t *entry, int index,
	int list_line)
{
	char place[CONFIG_PATH_MAX + 16];
	struct policy_spec *spec = ctx->spec;
	config_setting_t *name_set = NULL, *vlans = NULL, *prefixes = NULL;
	unsigned int count0 = ctx->errors->count;
	unsigned int dropped0 = ctx->errors->dropped;
	int line = line_of(entry, list_line);
	const char *name;
	char where[80];
	bool any = false;
	int i, count, other;
	uint16_t id;

	snprintf(where, sizeof(where), "policy.segments[%d]", index);
	if (!config_setting_is_group(entry)) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s must be a group { name = ...; prefixes = [ ... ]; }, not %s",
			where, config_type_name(config_setting_type(entry)));
		return;
	}
	count = config_setting_length(entry);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(entry, i);
		const char *key = config_setting_name(s);

		if (strcmp(key, "name") == 0)
			name_set = s;
		else if (strcmp(key, "vlans") == 0)
			vlans = s;
		else if (strcmp(key, "prefixes") == 0)
			prefixes = s;
		else
			config_error_add(ctx->errors, ctx->file,
				line_of(s, line),
				"unknown key %s.%s (expected name, vlans, prefixes)",
				where, key);
	}
	if (name_set == NULL) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s has no name", where);
		return;
	}
	if (config_setting_type(name_set) != CONFIG_TYPE_STRING) {
		config_error_add(ctx->errors, ctx->file, line_of(name_set, line),
			"%s.name must be a string, not %s", where,
			config_type_name(config_setting_type(name_set)));
		return;
	}
	name = config_setting_get_string(name_set);
	line = line_of(name_set, line);
	if (!name_ok(name)) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s.name = \"%s\" must be 1 to %d characters of [A-Za-z0-9_.-]",
			where, name, POLICY_NAME_MAX - 1);
		remember_failed(ctx, name);
		return;
	}
	snprintf(where, sizeof(where), "segment %s", name);
	if (strcmp(name, NAME_ANY) == 0 || strcmp(name, NAME_UNASSIGNED) == 0) {
		config_error_add(ctx->errors, ctx->file, line,
			"segment name \"%s\" is reserved (\"any\" is every segment in rules, \"unassigned\" the addresses no segment claims)",
			name);
		remember_failed(ctx, name);
		return;
	}
	other = segment_find(spec, name);
	if (other > 0) {
		config_error_add(ctx->errors, ctx->file, line,
			"segment %s is defined twice (first at %s)", name,
			config_error_where(ctx->errors,
				spec->segments[other].line, place,
				sizeof(place)));
		return;
	}
	if (spec->segment_count > POLICY_SEGMENTS_MAX) {
		config_error_add(ctx->errors, ctx->file, line,
			"segment %s: more than %d segments", name,
			POLICY_SEGMENTS_MAX);
		remember_failed(ctx, name);
		return;
	}
	id = (uint16_t)spec->segment_count++;
	snprintf(spec->segments[id].name, POLICY_NAME_MAX, "%s", name);
	spec->segments[id].line = line;
	if (vlans != NULL) {
		snprintf(where, sizeof(where), "segment %s vlans", name);
		load_vlans(ctx, vlans, where, id, &any);
	}
	if (prefixes != NULL) {
		snprintf(where, sizeof(where), "segment %s prefixes", name);
		load_segment_prefixes(ctx, prefixes, where, id, &any);
	}
	if (!any && !errors_added(ctx->errors, count0, dropped0))
		config_error_add(ctx->errors, ctx->file, line,
			"segment %s has neither vlans nor prefixes, so no address belongs to it",
			name);
	ctx->segment_ok[id] = !errors_added(ctx->errors, count0, dropped0);
}

static int
compare_prefix_index(const void *a, const void *b, void *arg)
{
	const struct policy_prefix *prefixes = arg;
	const struct policy_prefix *x = &prefixes[*(const unsigned int *)a];
	const struct policy_prefix *y = &prefixes[*(const unsigned int *)b];

	if (x->ip_version != y->ip_version)
		return x->ip_version - y->ip_version;
	if (x->depth != y->depth)
		return x->depth - y->depth;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* The same prefix twice, in one segment or two, is an error. */
static void
check_duplicate_prefixes(struct load_ctx *ctx)
{
	const struct policy_spec *spec = ctx->spec;
	unsigned int *order, i;

	if (spec->prefix_count < 2)
		return;
	order = malloc(sizeof(*order) * spec->prefix_count);
	if (order == NULL) {
		config_error_add(ctx->errors, ctx->file, 1,
			"policy: out of memory checking prefixes");
		return;
	}
	for (i = 0; i < spec->prefix_count; i++)
		order[i] = i;
	qsort_r(order, spec->prefix_count, sizeof(*order),
		compare_prefix_index, (void *)spec->prefixes);
	for (i = 1; i < spec->prefix_count; i++) {
		const struct policy_prefix *a = &spec->prefixes[order[i - 1]];
		const struct policy_prefix *b = &spec->prefixes[order[i]];
		const struct policy_prefix *first = a->line <= b->line ? a : b;
		const struct policy_prefix *second = a->line <= b->line ? b : a;
		char place[CONFIG_PATH_MAX + 16];
		char text[64];

		if (compare_prefix_index(&order[i - 1], &order[i],
				(void *)spec->prefixes) != 0)
			continue;
		policy_config_format_prefix(second, text, sizeof(text));
		if (first->segment == second->segment)
			config_error_add(ctx->errors, ctx->file, second->line,
				"segment %s lists prefix %s twice",
				spec->segments[second->segment].name, text);
		else
			config_error_add(ctx->errors, ctx->file, second->line,
				"prefix %s of segment %s already belongs to segment %s (%s)",
				text, spec->segments[second->segment].name,
				spec->segments[first->segment].name,
				config_error_where(ctx->errors, first->line,
					place, sizeof(place)));
	}
	free(order);
}

static void
load_segments(struct load_ctx *ctx, config_setting_t *s)
{
	int line = line_of(s, 1);
	int i, count;

	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		config_error_add(ctx->errors, ctx->file, line,
			"policy.segments must be a list ( { name = ...; prefixes = [ ... ]; }, ... ), not %s",
			config_type_name(config_setting_type(s)));
		return;
	}
	count = config_setting_length(s);
	for (i = 0; i < count; i++)
		load_segment(ctx, config_setting_get_elem(s, i), i, line);
	check_duplicate_prefixes(ctx);
}

static int
compare_segment_names(const void *a, const void *b, void *arg)
{
	const struct policy_spec *spec = arg;

	return strcmp(spec->segments[*(const uint16_t *)a].name,
		spec->segments[*(const uint16_t *)b].name);
}

/* Sorts the segment ids by name, once all segments are loaded. */
static void
index_segments(struct load_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->spec->segment_count; i++)
		ctx->by_name[i] = (uint16_t)i;
	qsort_r(ctx->by_name, ctx->spec->segment_count,
		sizeof(ctx->by_name[0]), compare_segment_names, ctx->spec);
}

/* Id of the segment called <name> (names are unique), or -1. */
static int
segment_lookup(const struct load_ctx *ctx, const char *name)
{
	unsigned int lo = 0, hi = ctx->spec->segment_count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		uint16_t id = ctx->by_name[mid];
		int c = strcmp(name, ctx->spec->segments[id].name);

		if (c == 0)
			return id;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * Resolves "from"/"to" <s> to a segment id or POLICY_SEGMENT_ANY. Returns
 * false (reporting unless the segment is one that already failed).
 */
static bool
load_endpoint(struct load_ctx *ctx, config_setting_t *s, const char *where,
	uint16_t *out)
{
	int line = line_of(s, 1);
	const char *name;
	unsigned int i;
	int id;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s must be a segment name, \"any\" or \"unassigned\", not %s",
			where, config_type_name(config_setting_type(s)));
		return false;
	}
	name = config_setting_get_string(s);
	if (strcmp(name, NAME_ANY) == 0) {
		*out = POLICY_SEGMENT_ANY;
		return true;
	}
	id = segment_lookup(ctx, name);
	if (id >= 0) {
		*out = (uint16_t)id;
		return id == 0 || ctx->segment_ok[id];
	}
	for (i = 0; i < ctx->failed_count; i++)
		if (strcmp(ctx->failed[i], name) == 0)
			return false;
	config_error_add(ctx->errors, ctx->file, line,
		"%s = \"%s\" is not a segment (nor \"any\" or \"unassigned\")",
		where, name);
	return false;
}

/*
 * Id of watchlist class <name>: its position among the distinct class
 * names of the watchlists spec in order of first appearance, the
 * numbering of watchlist_compile(). Sets <*has_kind> when the class has
 * patterns of <kind>. Returns -1 if no such class.
 */
static int
class_lookup(const struct watchlist_spec *wl, const char *name,
	enum watch_kind kind, bool *has_kind)
{
	unsigned int i, j, distinct = 0;
	int id = -1;

	*has_kind = false;
	for (i = 0; i < wl->count; i++) {
		const struct watchlist_entry *e = &wl->entries[i];
		bool seen = false;

		for (j = 0; j < i && !seen; j++)
			seen = strcmp(wl->entries[j].class_name,
				e->class_name) == 0;
		if (strcmp(e->class_name, name) == 0) {
			if (id < 0)
				id = (int)distinct;
			if (e->kind == kind)
				*has_kind = true;
		}
		if (!seen)
			distinct++;
	}
	return id;
}

static bool
load_classes(struct load_ctx *ctx, config_setting_t *s, const char *where,
	enum watch_kind kind, uint32_t *mask)
{
	int line = line_of(s, 1);
	int i, count = elements(ctx, s, where,
		"a class name or an array of them", true);
	bool ok = true;

	if (count == -2)
		return false;
	if (count == 0) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s is empty", where);
		return false;
	}
	for (i = 0; i < (count < 0 ? 1 : count); i++) {
		config_setting_t *elem = count < 0 ? s :
			config_setting_get_elem(s, i);
		const char *name;
		bool has_kind;
		int id;

		if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
			config_error_add(ctx->errors, ctx->file,
				line_of(elem, line),
				"%s[%d] must be a class name, not %s", where, i,
				config_type_name(config_setting_type(elem)));
			ok = false;
			continue;
		}
		name = config_setting_get_string(elem);
		id = class_lookup(ctx->watchlists, name, kind, &has_kind);
		if (id < 0 || id >= WATCHLIST_CLASSES_MAX) {
			config_error_add(ctx->errors, ctx->file,
				line_of(elem, line),
				"%s: no watchlist class \"%s\" (classes come from the watchlists group and its defaults)",
				where, name);
			ok = false;
			continue;
		}
		if (!has_kind) {
			config_error_add(ctx->errors, ctx->file,
				line_of(elem, line),
				"%s: watchlist class \"%s\" has no %s patterns, so it never tags a %s name",
				where, name, watchlist_kind_name(kind),
				watchlist_kind_name(kind));
			ok = false;
			continue;
		}
		*mask |= 1u << id;
	}
	return ok;
}

static bool
load_dialects(struct load_ctx *ctx, config_setting_t *s, const char *where,
	uint8_t *mask)
{
	int line = line_of(s, 1);
	int i, count = elements(ctx, s, where,
		"a dialect or an array of them", true);
	bool ok = true;
	size_t w;

	if (count == -2)
		return false;
	if (count == 0) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s is empty", where);
		return false;
	}
	for (i = 0; i < (count < 0 ? 1 : count); i++) {
		config_setting_t *elem = count < 0 ? s :
			config_setting_get_elem(s, i);
		const char *name;

		if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
			config_error_add(ctx->errors, ctx->file,
				line_of(elem, line),
				"%s[%d] must be a string, not %s", where, i,
				config_type_name(config_setting_type(elem)));
			ok = false;
			continue;
		}
		name = config_setting_get_string(elem);
		for (w = 0; w < ARRAY_LEN(dialect_words); w++)
			if (strcmp(dialect_words[w].name, name) == 0)
				break;
		if (w == ARRAY_LEN(dialect_words)) {
			config_error_add(ctx->errors, ctx->file,
				line_of(elem, line),
				"%s = \"%s\" is not one of: %s", where, name,
				DIALECT_WORDS);
			ok = false;
			continue;
		}
		*mask |= dialect_words[w].mask;
	}
	return ok;
}

static bool
load_dialect_below(struct load_ctx *ctx, config_setting_t *s,
	const char *where, uint8_t *mask)
{
	int line = line_of(s, 1);
	const char *name;
	size_t w;
	int d;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s must be a string, not %s", where,
			config_type_name(config_setting_type(s)));
		return false;
	}
	name = config_setting_get_string(s);
	for (w = 0; w < ARRAY_LEN(dialect_words); w++)
		if (dialect_words[w].below >= 0 &&
				strcmp(dialect_words[w].name, name) == 0)
			break;
	if (w == ARRAY_LEN(dialect_words)) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s = \"%s\" is not one of: 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1",
			where, name);
		return false;
	}
	/* SMB1 and every SMB2/3 dialect before the one named. */
	for (d = POLICY_DIALECT_SMB1; d < dialect_words[w].below; d++)
		*mask |= DIALECT_BIT(d);
	return true;
}

static const char *
endpoint_name(const struct policy_spec *spec, uint16_t id)
{
	return id == POLICY_SEGMENT_ANY ? NAME_ANY : spec->segments[id].name;
}

static bool
rule_has_conditions(const struct policy_rule_spec *r)
{
	return r->dialects != 0 || r->nonstandard_port >= 0 ||
		r->encrypted != POLICY_ENCRYPTED_ANY ||
		r->share_classes != 0 || r->pipe_classes != 0 ||
		r->file_classes != 0 || r->rpc_count != 0;
}

/* Parses "e3514235-4b06-11d1-ab04-00c04fc2dcd2" into textual byte order. */
static bool
parse_uuid(const char *text, uint8_t uuid[16])
{
	static const int dash[] = { 8, 13, 18, 23 };
	unsigned int i, n = 0, d = 0;

	if (strlen(text) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		int hi, lo;

		if (d < 4 && (int)i == dash[d]) {
			if (text[i] != '-')
				return false;
			d++;
			continue;
		}
		if (!isxdigit((unsigned char)text[i]) ||
				!isxdigit((unsigned char)text[i + 1]))
			return false;
		hi = isdigit((unsigned char)text[i]) ? text[i] - '0' :
			(tolower((unsigned char)text[i]) - 'a' + 10);
		lo = isdigit((unsigned char)text[i + 1]) ? text[i + 1] - '0' :
			(tolower((unsigned char)text[i + 1]) - 'a' + 10);
		uuid[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return n == 16;
}

/* One interface of rpc_interface: a name the parser knows, or a UUID. */
struct rpc_iface_ref {
	uint8_t uuid[16];
	const char *name;	/* NULL when given as a UUID */
};

/*
 * rpc_interface and rpc_operation of a rule into rule->rpc: every
 * interface with every operation that belongs to it (an operation number
 * belongs to all), or the whole interface when no operation is given.
 */
static bool
load_rpc(struct load_ctx *ctx, config_setting_t *ifaces, config_setting_t *ops,
	const char *where, int line, struct policy_rule_spec *rule)
{
	struct rpc_iface_ref refs[POLICY_RPC_MAX];
	int n_if, n_op, i, j, k;
	unsigned int count = 0;

	if (ifaces == NULL) {
		config_error_add(ctx->errors, ctx->file, line_of(ops, line),
			"%s.rpc_operation needs rpc_interface", where);
		return false;
	}
	n_if = elements(ctx, ifaces, "rpc_interface",
		"a string or an array of strings", true);
	if (n_if == -2)
		return false;
	if (n_if == 0 || n_if > POLICY_RPC_MAX) {
		config_error_add(ctx->errors, ctx->file, line_of(ifaces, line),
			"%s.rpc_interface must name 1 to %d interfaces", where,
			POLICY_RPC_MAX);
		return false;
	}
	for (i = 0; i < (n_if < 0 ? 1 : n_if); i++) {
		config_setting_t *e = n_if < 0 ? ifaces :
			config_setting_get_elem(ifaces, i);
		const char *text = config_setting_get_string(e);

		if (text == NULL) {
			config_error_add(ctx->errors, ctx->file,
				line_of(ifaces, line),
				"%s.rpc_interface[%d] must be a string", where, i);
			return false;
		}
		refs[i].name = NULL;
		if (parse_uuid(text, refs[i].uuid)) {
			refs[i].name = dcerpc_interface_name(refs[i].uuid);
		} else if (dcerpc_name_lookup(text, NULL, refs[i].uuid,
				NULL) == 0) {
			refs[i].name = text;
		} else {
			config_error_add(ctx->errors, ctx->file,
				line_of(ifaces, line),
				"%s.rpc_interface: \"%s\" is neither an interface name (docs/policy.md) nor a UUID",
				where, text);
			return false;
		}
	}
	if (n_if < 0)
		n_if = 1;
	if (ops == NULL) {
		for (i = 0; i < n_if; i++) {
			memcpy(rule->rpc[count].uuid, refs[i].uuid, 16);
			rule->rpc[count++].opnum = POLICY_RPC_ANY_OP;
		}
		rule->rpc_count = (uint8_t)count;
		return true;
	}
	n_op = config_setting_type(ops) == CONFIG_TYPE_INT ? -1 :
		elements(ctx, ops, "rpc_operation",
		"a string, a number or an array of them", true);
	if (n_op == -2)
		return false;
	for (j = 0; j < (n_op < 0 ? 1 : n_op); j++) {
		config_setting_t *e = n_op < 0 ? ops :
			config_setting_get_elem(ops, j);
		const char *text = config_setting_get_string(e);
		bool number = config_setting_type(e) == CONFIG_TYPE_INT;
		long value = number ? config_setting_get_int(e) : -1;
		bool found = false;
		char *end;

		if (!number && text != NULL && text[0] != '\0') {
			value = strtol(text, &end, 10);
			number = *end == '\0';
		}
		if (number && (value < 0 || value >= POLICY_RPC_ANY_OP)) {
			config_error_add(ctx->errors, ctx->file,
				line_of(ops, line),
				"%s.rpc_operation[%d] = %ld is not an operation number",
				where, j, value);
			return false;
		}
		if (!number && text == NULL) {
			config_error_add(ctx->errors, ctx->file,
				line_of(ops, line),
				"%s.rpc_operation[%d] must be a name or a number",
				where, j);
			return false;
		}
		for (k = 0; k < n_if; k++) {
			uint16_t opnum;
			uint8_t uuid[16];

			if (number) {
				opnum = (uint16_t)value;
			} else if (refs[k].name == NULL ||
					dcerpc_name_lookup(refs[k].name, text,
					uuid, &opnum) != 0) {
				continue;
			}
			if (count == POLICY_RPC_MAX) {
				config_error_add(ctx->errors, ctx->file,
					line_of(ops, line),
					"%s names more than %d interface/operation pairs",
					where, POLICY_RPC_MAX);
				return false;
			}
			memcpy(rule->rpc[count].uuid, refs[k].uuid, 16);
			rule->rpc[count++].opnum = opnum;
			found = true;
		}
		if (!found) {
			config_error_add(ctx->errors, ctx->file,
				line_of(ops, line),
				"%s.rpc_operation: \"%s\" is not an operation of the rule's interfaces",
				where, text);
			return false;
		}
	}
	rule->rpc_count = (uint8_t)count;
	return true;
}

/* A boolean rule key into <*out>: <no> for false, <yes> for true. */
static bool
load_rule_bool(struct load_ctx *ctx, config_setting_t *s, const char *where,
	int line, int no, int yes, int *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_error_add(ctx->errors, ctx->file, line_of(s, line),
			"%s must be a boolean, not %s", where,
			config_type_name(config_setting_type(s)));
		return false;
	}
	*out = config_setting_get_bool(s) ? yes : no;
	return true;
}

/* One { from = ...; to = ...; action = ...; <conditions> } of rules. */
static void
load_rule(struct load_ctx *ctx, config_setting_t *entry, int index,
	int list_line)
{
	char place[CONFIG_PATH_MAX + 16];
	struct policy_spec *spec = ctx->spec;
	config_setting_t *from = NULL, *to = NULL, *action = NULL;
	config_setting_t *deny = NULL, *unverifiable = NULL;
	config_setting_t *rpc_iface = NULL, *rpc_op = NULL;
	struct policy_rule_spec rule;
	int flag;
	int line = line_of(entry, list_line);
	unsigned int value;
	char where[96];
	bool ok = true;
	int i, count;
	size_t c;

	memset(&rule, 0, sizeof(rule));
	rule.nonstandard_port = -1;
	rule.deny_action = POLICY_DENY_INHERIT;
	rule.line = line;
	snprintf(where, sizeof(where), "policy.rules[%d]", index);
	if (!config_setting_is_group(entry)) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s must be a group { from = ...; to = ...; action = ...; }, not %s",
			where, config_type_name(config_setting_type(entry)));
		return;
	}
	count = config_setting_length(entry);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(entry, i);
		const char *key = config_setting_name(s);
		char sub[128];

		snprintf(sub, sizeof(sub), "%s.%s", where, key);
		for (c = 0; c < ARRAY_LEN(class_keys); c++)
			if (strcmp(key, class_keys[c].key) == 0)
				break;
		if (c < ARRAY_LEN(class_keys)) {
			ok &= load_classes(ctx, s, sub, class_keys[c].kind,
				(uint32_t *)((char *)&rule +
					class_keys[c].offset));
		} else if (strcmp(key, "from") == 0) {
			from = s;
		} else if (strcmp(key, "to") == 0) {
			to = s;
		} else if (strcmp(key, "action") == 0) {
			action = s;
		} else if (strcmp(key, "deny_action") == 0) {
			deny = s;
		} else if (strcmp(key, "name") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_STRING ||
					!name_ok(config_setting_get_string(s))) {
				config_error_add(ctx->errors, ctx->file,
					line_of(s, line),
					"%s must be a string of 1 to %d characters of [A-Za-z0-9_.-]",
					sub, POLICY_NAME_MAX - 1);
				ok = false;
			} else {
				snprintf(rule.name, sizeof(rule.name), "%s",
					config_setting_get_string(s));
			}
		} else if (strcmp(key, "dialect") == 0) {
			ok &= load_dialects(ctx, s, sub, &rule.dialects);
		} else if (strcmp(key, "dialect_below") == 0) {
			ok &= load_dialect_below(ctx, s, sub, &rule.dialects);
		} else if (strcmp(key, "nonstandard_port") == 0) {
			if (load_rule_bool(ctx, s, sub, line, 0, 1, &flag))
				rule.nonstandard_port = (int8_t)flag;
			else
				ok = false;
		} else if (strcmp(key, "encrypted") == 0) {
			if (load_rule_bool(ctx, s, sub, line,
					POLICY_ENCRYPTED_NO, POLICY_ENCRYPTED_YES,
					&flag))
				rule.encrypted = (uint8_t)flag;
			else
				ok = false;
		} else if (strcmp(key, "unverifiable_action") == 0) {
			unverifiable = s;
		} else if (strcmp(key, "rpc_interface") == 0) {
			rpc_iface = s;
		} else if (strcmp(key, "rpc_operation") == 0) {
			rpc_op = s;
		} else {
			config_error_add(ctx->errors, ctx->file,
				line_of(s, line),
				"unknown key %s (expected from, to, action, deny_action, unverifiable_action, name, dialect, dialect_below, share_class, pipe_class, file_class, nonstandard_port, encrypted, rpc_interface, rpc_operation)",
				sub);
			ok = false;
		}
	}

	if (rpc_iface != NULL || rpc_op != NULL)
		ok &= load_rpc(ctx, rpc_iface, rpc_op, where, line, &rule);
	if (from == NULL || to == NULL || action == NULL) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s needs from, to and action", where);
		return;
	}
	snprintf(where, sizeof(where), "policy.rules[%d].from", index);
	ok &= load_endpoint(ctx, from, where, &rule.from);
	snprintf(where, sizeof(where), "policy.rules[%d].to", index);
	ok &= load_endpoint(ctx, to, where, &rule.to);
	snprintf(where, sizeof(where), "policy.rules[%d].action", index);
	if (load_choice(ctx, action, where, action_names, &value))
		rule.action = (uint8_t)value;
	else
		ok = false;
	if (deny != NULL) {
		snprintf(where, sizeof(where), "policy.rules[%d].deny_action",
			index);
		if (!load_choice(ctx, deny, where, deny_names, &value))
			ok = false;
		else if (rule.action != POLICY_DENY) {
			config_error_add(ctx->errors, ctx->file,
				line_of(deny, line),
				"%s applies only to action = \"deny\"", where);
			ok = false;
		} else
			rule.deny_action = (uint8_t)value;
	}
	if (unverifiable != NULL) {
		snprintf(where, sizeof(where),
			"policy.rules[%d].unverifiable_action", index);
		if (!load_choice(ctx, unverifiable, where, unverifiable_names,
				&value)) {
			ok = false;
		} else if (rule_has_conditions(&rule)) {
			/* Only the rule deciding a pair is asked for it. */
			config_error_add(ctx->errors, ctx->file,
				line_of(unverifiable, line),
				"%s applies only to a rule without SMB conditions (the rule that decides its pairs)",
				where);
			ok = false;
		} else {
			rule.unverifiable_action = (uint8_t)(value + 1);
		}
	}
	if (!ok)
		return;
	if (rule.name[0] != '\0') {
		for (value = 0; value < spec->rule_count; value++) {
			if (strcmp(spec->rules[value].name, rule.name) != 0)
				continue;
			config_error_add(ctx->errors, ctx->file, line,
				"rule name \"%s\" is used twice (first at %s)",
				rule.name, config_error_where(ctx->errors,
					spec->rules[value].line, place,
					sizeof(place)));
			return;
		}
	}
	if (spec->rule_count >= POLICY_RULES_MAX) {
		config_error_add(ctx->errors, ctx->file, line,
			"policy.rules: more than %d rules", POLICY_RULES_MAX);
		return;
	}
	spec->rules[spec->rule_count++] = rule;
}

/*
 * A rule after one without conditions that covers all its pairs can
 * never match: most likely the order is wrong (first match wins).
 */
static void
check_shadowed(struct load_ctx *ctx)
{
	char place[CONFIG_PATH_MAX + 16];
	const struct policy_spec *spec = ctx->spec;
	unsigned int i, j;

	for (j = 1; j < spec->rule_count; j++) {
		const struct policy_rule_spec *r = &spec->rules[j];

		for (i = 0; i < j; i++) {
			const struct policy_rule_spec *e = &spec->rules[i];

			if (rule_has_conditions(e))
				continue;
			if ((e->from != POLICY_SEGMENT_ANY &&
					e->from != r->from) ||
					(e->to != POLICY_SEGMENT_ANY &&
					e->to != r->to))
				continue;
			config_error_add(ctx->errors, ctx->file, r->line,
				"rule %u (%s to %s) can never match: rule %u at %s, without SMB conditions, decides every pair it covers first (the first matching rule wins)",
				j + 1, endpoint_name(spec, r->from),
				endpoint_name(spec, r->to), i + 1,
				config_error_where(ctx->errors, e->line, place,
					sizeof(place)));
			break;
		}
	}
}

static void
load_rules(struct load_ctx *ctx, config_setting_t *s)
{
	int line = line_of(s, 1);
	int i, count;

	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		config_error_add(ctx->errors, ctx->file, line,
			"policy.rules must be a list ( { from = ...; to = ...; action = ...; }, ... ), not %s",
			config_type_name(config_setting_type(s)));
		return;
	}
	count = config_setting_length(s);
	for (i = 0; i < count; i++)
		load_rule(ctx, config_setting_get_elem(s, i), i, line);
	check_shadowed(ctx);
}

int
policy_config_load(config_setting_t *group, const char *file,
	struct policy_spec *spec, const struct watchlist_spec *watchlists,
	struct config_errors *errors)
{
	unsigned int count0 = errors->count, dropped0 = errors->dropped;
	config_setting_t *segments, *rules;
	struct load_ctx *ctx;
	unsigned int value;
	int line, i, count;

	policy_config_defaults(spec);
	if (group == NULL)
		return 0;
	line = line_of(group, 1);
	if (!config_setting_is_group(group)) {
		config_error_add(errors, file, line,
			"policy must be a group { ... }, not %s",
			config_type_name(config_setting_type(group)));
		return -EINVAL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		config_error_add(errors, file, line, "policy: out of memory");
		return -ENOMEM;
	}
	ctx->file = file;
	ctx->spec = spec;
	ctx->watchlists = watchlists;
	ctx->errors = errors;

	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "mode") == 0) {
			if (load_choice(ctx, s, "policy.mode", mode_names,
					&value))
				spec->mode = value;
		} else if (strcmp(name, "default_action") == 0) {
			if (load_choice(ctx, s, "policy.default_action",
					action_names, &value))
				spec->default_action = value;
		} else if (strcmp(name, "deny_action") == 0) {
			if (load_choice(ctx, s, "policy.deny_action",
					deny_names, &value))
				spec->deny_action = value;
		} else if (strcmp(name, "unverifiable_action") == 0) {
			if (load_choice(ctx, s, "policy.unverifiable_action",
					unverifiable_names, &value))
				spec->unverifiable_action = value + 1;
		} else if (strcmp(name, "trusted") == 0) {
			load_trusted(ctx, s);
		} else if (strcmp(name, "segments") != 0 &&
				strcmp(name, "rules") != 0) {
			config_error_add(errors, file, line_of(s, line),
				"unknown key policy.%s (expected mode, default_action, deny_action, unverifiable_action, trusted, segments, rules)",
				name);
		}
	}
	/* Segments before rules, wherever each is written. */
	segments = config_setting_get_member(group, "segments");
	if (segments != NULL)
		load_segments(ctx, segments);
	index_segments(ctx);
	rules = config_setting_get_member(group, "rules");
	if (rules != NULL)
		load_rules(ctx, rules);
	free(ctx);
	return errors_added(errors, count0, dropped0) ? -EINVAL : 0;
}
