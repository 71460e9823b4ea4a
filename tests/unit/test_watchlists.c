/* SPDX-License-Identifier: BSD-3-Clause */
/* Watchlists loader: config text to spec, defaults, and every error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libconfig.h>

#include "config.h"
#include "match.h"
#include "watchlists.h"

static struct watchlist_spec spec;
static struct config_errors errors;

/* Parses <text> and loads its watchlists group (if any) into spec. */
static int
load(const char *text)
{
	config_t lc;
	int ret;

	memset(&errors, 0, sizeof(errors));
	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		fail_msg("bad test config at line %d: %s",
			config_error_line(&lc), config_error_text(&lc));
	}
	ret = watchlists_load(config_lookup(&lc, "watchlists"), "test.conf",
		&spec, &errors);
	config_destroy(&lc);
	return ret;
}

static void
print_errors(void)
{
	unsigned int i;

	for (i = 0; i < errors.count; i++)
		print_message("  %s\n", errors.messages[i]);
}

/* Asserts that exactly one error was reported and that it is <expected>. */
static void
assert_single_error(const char *expected)
{
	if (errors.count != 1)
		print_errors();
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.messages[0], expected);
}

/* Index of the first entry of class <name> in spec, or -1. */
static int
find_entry(const char *name)
{
	unsigned int i;

	for (i = 0; i < spec.count; i++)
		if (strcmp(spec.entries[i].class_name, name) == 0)
			return (int)i;
	return -1;
}

static void
test_absent_group_gives_defaults(void **state)
{
	struct watchlist_spec defaults;

	(void)state;
	watchlist_spec_set_defaults(&defaults);
	assert_int_equal(load("gateway: { workers = 1; };\n"), 0);
	assert_int_equal(errors.count, 0);
	assert_int_equal(spec.count, defaults.count);
	assert_memory_equal(&spec, &defaults,
		offsetof(struct watchlist_spec, entries) +
		defaults.count * sizeof(defaults.entries[0]));
	assert_int_equal(load("watchlists: { };\n"), 0);
	assert_int_equal(spec.count, defaults.count);
	assert_int_equal(load("watchlists: { defaults = true; };\n"), 0);
	assert_int_equal(spec.count, defaults.count);
}

static void
test_entries_appended(void **state)
{
	struct watchlist_spec defaults;
	const struct watchlist_entry *e;
	struct watchlist *wl;
	struct watchlist_scratch *s;
	int i;

	(void)state;
	watchlist_spec_set_defaults(&defaults);
	assert_int_equal(load(
		"watchlists: {\n"
		"  defaults = true;\n"
		"  shares = ( { class = \"finance_share\";\n"
		"               patterns = [ \"^FINANCE\\\\$?$\" ];\n"
		"               caseless = true; } );\n"
		"  pipes  = ( { class = \"custom_pipe\"; patterns = [ \"evilpipe\" ]; } );\n"
		"  files  = ( { class = \"script\";\n"
		"               patterns = [ \"\\\\.(py|rb)$\", \"\\\\.pl$\" ];\n"
		"               caseless = false; },\n"
		"             { class = \"executable\"; patterns = [ \"\\\\.appx$\" ]; } );\n"
		"};\n"), 0);
	assert_int_equal(errors.count, 0);
	assert_int_equal(spec.count, defaults.count + 5);

	i = find_entry("finance_share");
	assert_int_equal(i, (int)defaults.count);
	e = &spec.entries[i];
	assert_int_equal(e->kind, WATCH_KIND_SHARE);
	assert_true(e->caseless);
	assert_string_equal(e->pattern, "^FINANCE\\$?$");
	assert_int_equal(e->line, 4);

	e = &spec.entries[find_entry("custom_pipe")];
	assert_int_equal(e->kind, WATCH_KIND_PIPE);
	assert_true(e->caseless);	/* the default */
	assert_string_equal(e->pattern, "evilpipe");

	i = find_entry("script");
	e = &spec.entries[i];
	assert_int_equal(e->kind, WATCH_KIND_FILE);
	assert_false(e->caseless);
	assert_string_equal(e->pattern, "\\.(py|rb)$");
	assert_string_equal(spec.entries[i + 1].pattern, "\\.pl$");
	assert_string_equal(spec.entries[i + 2].class_name, "executable");
	assert_string_equal(spec.entries[i + 2].pattern, "\\.appx$");

	/* The spec compiles and does what the text says. */
	wl = watchlist_compile(&spec, NULL, 0);
	assert_non_null(wl);
	s = watchlist_scratch_alloc(wl);
	assert_non_null(s);
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_FILE, "x.appx", 6),
		UINT32_C(1) << watchlist_class_id(wl, "executable"));
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_FILE, "x.PY", 4),
		0);
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_FILE, "x.py", 4),
		UINT32_C(1) << watchlist_class_id(wl, "script"));
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_SHARE,
		"\\\\f\\Finance", 11),
		UINT32_C(1) << watchlist_class_id(wl, "finance_share"));
	watchlist_scratch_free(s);
	watchlist_free(wl);
}

static void
test_defaults_off(void **state)
{
	(void)state;
	assert_int_equal(load(
		"watchlists: {\n"
		"  files = ( { class = \"script\"; patterns = [ \"\\\\.js$\" ]; } );\n"
		"  defaults = false;\n"	/* order does not matter */
		"};\n"), 0);
	assert_int_equal(spec.count, 1);
	assert_string_equal(spec.entries[0].class_name, "script");
	assert_int_equal(find_entry("admin_share"), -1);

	assert_int_equal(load("watchlists: { defaults = false; };\n"), 0);
	assert_int_equal(spec.count, 0);
}

static void
test_broken_pattern(void **state)
{
	(void)state;
	assert_int_equal(load(
		"watchlists: {\n"
		"  files = (\n"
		"    { class = \"script\";\n"
		"      patterns = [ \"\\\\.(exe\" ]; } );\n"
		"};\n"), -EINVAL);
	assert_single_error(
		"test.conf:4: watchlists.files pattern \"\\\\.(exe\" (class script): Missing close parenthesis for group started at index 2.");

	/* Each bad pattern is named, on its own line. */
	assert_int_equal(load(
		"watchlists: {\n"
		"  pipes = ( { class = \"p\"; patterns = [\n"
		"    \"^ok$\",\n"
		"    \"(a)\\\\1\",\n"
		"    \"x*\" ]; } );\n"
		"};\n"), -EINVAL);
	if (errors.count != 2)
		print_errors();
	assert_int_equal(errors.count, 2);
	assert_non_null(strstr(errors.messages[0],
		"test.conf:4: watchlists.pipes pattern \"(a)\\\\1\" (class p): "));
	assert_non_null(strstr(errors.messages[1],
		"test.conf:5: watchlists.pipes pattern \"x*\" (class p): "));

	/* A long pattern is shortened in the message. */
	assert_int_equal(load(
		"watchlists: { shares = ( { class = \"s\"; patterns = [\n"
		"  \"0123456789012345678901234567890123456789012345678901234567890123456789(\" ]; } ); };\n"),
		-EINVAL);
	assert_int_equal(errors.count, 1);
	assert_non_null(strstr(errors.messages[0],
		"test.conf:2: watchlists.shares pattern \"01234567890123456789012345678901...\" (class s): Missing close"));
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	assert_int_equal(load(
		"watchlists: {\n"
		"  defaults = true;\n"
		"  file = ( );\n"
		"};\n"), -EINVAL);
	assert_single_error(
		"test.conf:3: unknown key watchlists.file (expected defaults, shares, pipes, files)");

	assert_int_equal(load(
		"watchlists: {\n"
		"  pipes = ( { class = \"p\"; patterns = [ \"^x$\" ];\n"
		"              casless = true; } );\n"
		"};\n"), -EINVAL);
	assert_single_error(
		"test.conf:3: unknown key watchlists.pipes[0].casless (expected class, patterns, caseless)");
}

static void
test_wrong_types(void **state)
{
	(void)state;
	assert_int_equal(load("watchlists = 1;\n"), -EINVAL);
	assert_single_error(
		"test.conf:1: watchlists must be a group { ... }, not an integer");

	assert_int_equal(load("watchlists: { defaults = \"no\"; };\n"),
		-EINVAL);
	assert_single_error(
		"test.conf:1: watchlists.defaults must be a boolean, not a string");

	assert_int_equal(load(
		"watchlists: {\n  files = [ \"\\\\.exe$\" ];\n};\n"), -EINVAL);
	assert_single_error(
		"test.conf:2: watchlists.files must be a list ( { class = ...; patterns = [ ... ]; }, ... ), not an array");

	assert_int_equal(load(
		"watchlists: {\n  files = ( \"\\\\.exe$\" );\n};\n"), -EINVAL);
	assert_single_error(
		"test.conf:2: watchlists.files[0] must be a group { class = ...; patterns = [ ... ]; }, not a string");

	assert_int_equal(load(
		"watchlists: {\n  files = ( { class = 1; patterns = [ \"a\" ]; } );\n};\n"),
		-EINVAL);
	assert_single_error(
		"test.conf:2: watchlists.files[0].class must be a string, not an integer");

	assert_int_equal(load(
		"watchlists: {\n  files = ( { class = \"bad name\"; patterns = [ \"a\" ]; } );\n};\n"),
		-EINVAL);
	assert_single_error(
		"test.conf:2: watchlists.files[0].class = \"bad name\" must be 1 to 31 characters of [A-Za-z0-9_]");

	assert_int_equal(load(
		"watchlists: {\n  files = ( { class = \"c\"; patterns = \"a\"; } );\n};\n"),
		-EINVAL);
	assert_single_error(
		"test.conf:2: watchlists.files[0].patterns must be an array of strings [ \"...\" ], not a string");

	assert_int_equal(load(
		"watchlists: {\n  files = ( { class = \"c\"; patterns = [ 1 ]; } );\n};\n"),
		-EINVAL);
	assert_single_error(
		"test.conf:2: watchlists.files[0].patterns[0] must be a string, not an integer");

	assert_int_equal(load(
		"watchlists: {\n  files = ( { class = \"c\"; patterns = [ \"a\" ];\n"
		"    caseless = 1; } );\n};\n"),
		-EINVAL);
	assert_single_error(
		"test.conf:3: watchlists.files[0].caseless must be a boolean, not an integer");
}

static void
test_missing_and_empty(void **state)
{
	(void)state;
	assert_int_equal(load(
		"watchlists: {\n  files = ( { patterns = [ \"a\" ]; } );\n};\n"),
		-EINVAL);
	assert_single_error("test.conf:2: watchlists.files[0] has no class");

	assert_int_equal(load(
		"watchlists: {\n  files = ( { class = \"c\"; } );\n};\n"), -EINVAL);
	assert_single_error("test.conf:2: watchlists.files[0] has no patterns");

	assert_int_equal(load(
		"watchlists: {\n  files = ( { class = \"c\"; patterns = [ ]; } );\n};\n"),
		-EINVAL);
	assert_single_error("test.conf:2: watchlists.files[0].patterns is empty");

	assert_int_equal(load(
		"watchlists: {\n  files = ( { class = \"c\"; patterns = [ \"\" ]; } );\n};\n"),
		-EINVAL);
	assert_single_error(
		"test.conf:2: watchlists.files[0].patterns[0] is empty");

	/* An empty list is fine. */
	assert_int_equal(load("watchlists: { files = ( ); };\n"), 0);
}

static void
test_limits(void **state)
{
	char text[16384], *p = text;
	unsigned int i;

	(void)state;
	/* 5 built-in classes + 27 = 32 classes: accepted; one more is not. */
	p += sprintf(p, "watchlists: {\n  files = (\n");
	for (i = 0; i < 28; i++)
		p += sprintf(p, "    { class = \"c%u\"; patterns = [ \"^x%u$\" ]; }%s\n",
			i, i, i < 27 ? "," : "");
	sprintf(p, "  );\n};\n");
	assert_int_equal(load(text), -EINVAL);
	assert_single_error(
		"test.conf:30: watchlists.files[27].class = \"c27\" is one class too many: at most 32, built-in ones included");

	/*
	 * 128 patterns in all. (libconfig dates an array element by the token
	 * after it: keep the closing bracket on the last pattern's line.)
	 */
	p = text;
	p += sprintf(p, "watchlists: {\n  defaults = false;\n  files = (\n"
		"    { class = \"c\"; patterns = [\n");
	for (i = 0; i < 129; i++)
		p += sprintf(p, "      \"^x%u$\"%s\n", i, i < 128 ? "," : " ];");
	sprintf(p, "  } );\n};\n");
	assert_int_equal(load(text), -EINVAL);
	assert_single_error(
		"test.conf:133: watchlists.files[0].patterns[128]: more than 128 patterns, built-in ones included");

	p = text;
	p += sprintf(p, "watchlists: { files = ( { class = \"c\"; patterns = [ \"");
	for (i = 0; i < WATCHLIST_PATTERN_MAX; i++)
		*p++ = 'a';
	sprintf(p, "\" ]; } ); };\n");
	assert_int_equal(load(text), -EINVAL);
	assert_single_error(
		"test.conf:1: watchlists.files[0].patterns[0] is longer than 255 bytes");
}

/* Several problems in one file are all reported. */
static void
test_all_errors_reported(void **state)
{
	(void)state;
	assert_int_equal(load(
		"watchlists: {\n"
		"  defaults = 0;\n"
		"  bogus = 1;\n"
		"  pipes = ( { class = \"p\"; patterns = [ \"(\" ]; } );\n"
		"  files = ( { class = \"f\"; patterns = [ \"[\" ]; } );\n"
		"};\n"), -EINVAL);
	if (errors.count != 4)
		print_errors();
	assert_int_equal(errors.count, 4);
	assert_non_null(strstr(errors.messages[0], "test.conf:2: "));
	assert_non_null(strstr(errors.messages[1], "test.conf:3: "));
	assert_non_null(strstr(errors.messages[2],
		"test.conf:4: watchlists.pipes pattern \"(\" (class p): "));
	assert_non_null(strstr(errors.messages[3],
		"test.conf:5: watchlists.files pattern \"[\" (class f): "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent_group_gives_defaults),
		cmocka_unit_test(test_entries_appended),
		cmocka_unit_test(test_defaults_off),
		cmocka_unit_test(test_broken_pattern),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_missing_and_empty),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_all_errors_reported),
	};

	return cmocka_run_group_tests_name("watchlists", tests, NULL, NULL);
}
