/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "match.h"
#include "watchlists.h"

/* Patterns longer than this are shortened with "..." in messages. */
#define QUOTED_PATTERN_MAX 32

/* The lists of a watchlists group and the kind of name each holds. */
static const struct {
	const char *key;
	enum watch_kind kind;
} lists[] = {
	{ "shares", WATCH_KIND_SHARE },
	{ "pipes", WATCH_KIND_PIPE },
	{ "files", WATCH_KIND_FILE },
};

/* What every message about one entry needs. */
struct load_ctx {
	const char *file;
	struct watchlist_spec *spec;
	struct config_errors *errors;
};

static int
line_of(const config_setting_t *setting, int fallback)
{
	int line = setting != NULL ? config_setting_source_line(setting) : 0;

	return line > 0 ? line : fallback;
}

/*
 * Writes <pattern> to <dst> as it is written in a libconfig string
 * (backslashes and quotes escaped), shortened with "..." if long.
 */
static void
quote_pattern(char *dst, size_t dst_len, const char *pattern)
{
	size_t o = 0, max = dst_len < QUOTED_PATTERN_MAX + 4 ?
		dst_len - 4 : QUOTED_PATTERN_MAX;
	const char *p;

	for (p = pattern; *p != '\0'; p++) {
		size_t need = (*p == '\\' || *p == '"') ? 2 : 1;

		if (o + need > max) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 2)
			dst[o++] = '\\';
		dst[o++] = *p;
	}
	dst[o] = '\0';
}

static bool
class_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= WATCHLIST_CLASS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* Adds the class of a new entry, refusing the one beyond the limit. */
static bool
class_fits(struct load_ctx *ctx, const char *where, const char *class_name,
	int line)
{
	unsigned int before = watchlist_spec_class_count(ctx->spec);
	unsigned int i;

	for (i = 0; i < ctx->spec->count; i++)
		if (strcmp(ctx->spec->entries[i].class_name, class_name) == 0)
			return true;
	if (before < WATCHLIST_CLASSES_MAX)
		return true;
	config_error_add(ctx->errors, ctx->file, line,
		"%s.class = \"%s\" is one class too many: at most %d, built-in ones included",
		where, class_name, WATCHLIST_CLASSES_MAX);
	return false;
}

static void
load_pattern(struct load_ctx *ctx, const char *list, const char *where,
	enum watch_kind kind, const char *class_name, bool caseless,
	config_setting_t *elem, int index, int fallback_line)
{
	int line = line_of(elem, fallback_line);
	char quoted[QUOTED_PATTERN_MAX + 4];
	char message[CONFIG_ERROR_LEN];
	const char *pattern;
	int ret;

	if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s.patterns[%d] must be a string, not %s", where,
			index, config_type_name(config_setting_type(elem)));
		return;
	}
	pattern = config_setting_get_string(elem);
	if (pattern[0] == '\0') {
		config_error_add(ctx->errors, ctx->file, line,
			"%s.patterns[%d] is empty", where, index);
		return;
	}
	if (strlen(pattern) >= WATCHLIST_PATTERN_MAX) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s.patterns[%d] is longer than %d bytes", where,
			index, WATCHLIST_PATTERN_MAX - 1);
		return;
	}
	if (watchlist_pattern_check(pattern, caseless, message,
			sizeof(message)) < 0) {
		quote_pattern(quoted, sizeof(quoted), pattern);
		config_error_add(ctx->errors, ctx->file, line,
			"watchlists.%s pattern \"%s\" (class %s): %s", list,
			quoted, class_name, message);
		return;
	}
	ret = watchlist_spec_add(ctx->spec, kind, class_name, pattern,
		caseless, line);
	if (ret == -ENOSPC)
		config_error_add(ctx->errors, ctx->file, line,
			"%s.patterns[%d]: more than %d patterns, built-in ones included",
			where, index, WATCHLIST_ENTRIES_MAX);
	else if (ret < 0)
		config_error_add(ctx->errors, ctx->file, line,
			"%s.patterns[%d] cannot be added: %s", where, index,
			strerror(-ret));
}

/* One { class = ...; patterns = [...]; caseless = ...; } of list <list>. */
static void
load_entry(struct load_ctx *ctx, const char *list, enum watch_kind kind,
	config_setting_t *entry, int index, int list_line)
{
	config_setting_t *class_set = NULL, *patterns = NULL;
	int line = line_of(entry, list_line);
	const char *class_name;
	bool caseless = true, ok = true;
	char where[64];
	int i, count;

	snprintf(where, sizeof(where), "watchlists.%s[%d]", list, index);
	if (!config_setting_is_group(entry)) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s must be a group { class = ...; patterns = [ ... ]; }, not %s",
			where, config_type_name(config_setting_type(entry)));
		return;
	}
	count = config_setting_length(entry);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(entry, i);
		const char *name = config_setting_name(s);
		int type = config_setting_type(s);

		if (strcmp(name, "class") == 0) {
			class_set = s;
		} else if (strcmp(name, "patterns") == 0) {
			patterns = s;
		} else if (strcmp(name, "caseless") == 0) {
			if (type != CONFIG_TYPE_BOOL) {
				config_error_add(ctx->errors, ctx->file,
					line_of(s, line),
					"%s.caseless must be a boolean, not %s",
					where, config_type_name(type));
				ok = false;
			} else {
				caseless = config_setting_get_bool(s);
			}
		} else {
			config_error_add(ctx->errors, ctx->file,
				line_of(s, line),
				"unknown key %s.%s (expected class, patterns, caseless)",
				where, name);
			ok = false;
		}
	}

	if (class_set == NULL) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s has no class", where);
		return;
	}
	if (config_setting_type(class_set) != CONFIG_TYPE_STRING) {
		config_error_add(ctx->errors, ctx->file,
			line_of(class_set, line),
			"%s.class must be a string, not %s", where,
			config_type_name(config_setting_type(class_set)));
		return;
	}
	class_name = config_setting_get_string(class_set);
	if (!class_name_ok(class_name)) {
		config_error_add(ctx->errors, ctx->file,
			line_of(class_set, line),
			"%s.class = \"%s\" must be 1 to %d characters of [A-Za-z0-9_]",
			where, class_name, WATCHLIST_CLASS_NAME_MAX - 1);
		return;
	}
	if (patterns == NULL) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s has no patterns", where);
		return;
	}
	line = line_of(patterns, line);
	if (config_setting_type(patterns) != CONFIG_TYPE_ARRAY &&
			config_setting_type(patterns) != CONFIG_TYPE_LIST) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s.patterns must be an array of strings [ \"...\" ], not %s",
			where, config_type_name(config_setting_type(patterns)));
		return;
	}
	count = config_setting_length(patterns);
	if (count == 0) {
		config_error_add(ctx->errors, ctx->file, line,
			"%s.patterns is empty", where);
		return;
	}
	if (!ok || !class_fits(ctx, where, class_name,
			line_of(class_set, line)))
		return;
	for (i = 0; i < count; i++)
		load_pattern(ctx, list, where, kind, class_name, caseless,
			config_setting_get_elem(patterns, i), i, line);
}

static void
load_list(struct load_ctx *ctx, const char *list, enum watch_kind kind,
	config_setting_t *setting)
{
	int line = line_of(setting, 1);
	int i, count;

	if (config_setting_type(setting) != CONFIG_TYPE_LIST) {
		config_error_add(ctx->errors, ctx->file, line,
			"watchlists.%s must be a list ( { class = ...; patterns = [ ... ]; }, ... ), not %s",
			list, config_type_name(config_setting_type(setting)));
		return;
	}
	count = config_setting_length(setting);
	for (i = 0; i < count; i++)
		load_entry(ctx, list, kind, config_setting_get_elem(setting, i),
			i, line);
}

static bool
errors_added(const struct config_errors *errors, unsigned int count,
	unsigned int dropped)
{
	return errors->count != count || errors->dropped != dropped;
}

int
watchlists_load(config_setting_t *group, const char *file,
	struct watchlist_spec *spec, struct config_errors *errors)
{
	struct load_ctx ctx = { file, spec, errors };
	unsigned int count0 = errors->count, dropped0 = errors->dropped;
	config_setting_t *defaults;
	struct watchlist *wl;
	char message[CONFIG_ERROR_LEN];
	int line, i, count;
	size_t l;

	watchlist_spec_set_defaults(spec);
	if (group == NULL)
		return 0;
	line = line_of(group, 1);
	if (!config_setting_is_group(group)) {
		config_error_add(errors, file, line,
			"watchlists must be a group { ... }, not %s",
			config_type_name(config_setting_type(group)));
		return -EINVAL;
	}

	/* defaults decides what the lists append to, wherever it is. */
	defaults = config_setting_get_member(group, "defaults");
	if (defaults != NULL) {
		if (config_setting_type(defaults) != CONFIG_TYPE_BOOL)
			config_error_add(errors, file, line_of(defaults, line),
				"watchlists.defaults must be a boolean, not %s",
				config_type_name(config_setting_type(defaults)));
		else if (!config_setting_get_bool(defaults))
			watchlist_spec_clear(spec);
	}

	count = config_setting_length(group);
	for (i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "defaults") == 0)
			continue;
		for (l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
			if (strcmp(name, lists[l].key) == 0)
				break;
		if (l == sizeof(lists) / sizeof(lists[0])) {
			config_error_add(errors, file, line_of(s, line),
				"unknown key watchlists.%s (expected defaults, shares, pipes, files)",
				name);
			continue;
		}
		load_list(&ctx, lists[l].key, lists[l].kind, s);
	}
	if (errors_added(errors, count0, dropped0))
		return -EINVAL;

	/* Every pattern compiled alone; now the sets, as the workers will. */
	wl = watchlist_compile(spec, message, sizeof(message));
	if (wl == NULL) {
		config_error_add(errors, file, line, "watchlists: %s", message);
		return -EINVAL;
	}
	watchlist_free(wl);
	return 0;
}
