/* SPDX-License-Identifier: BSD-3-Clause */
/* Watchlists: defaults, name normalisation, user patterns, errors, scratch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"

/* A string literal as the (name, len) pair the matcher takes. */
#define NAME(s) (s), strlen(s)

struct fixture {
	struct watchlist_spec spec;
	struct watchlist *wl;
	struct watchlist_scratch *scratch;
};

static int
setup_defaults(void **state)
{
	static struct fixture f;

	watchlist_spec_set_defaults(&f.spec);
	f.wl = watchlist_compile(&f.spec, NULL, 0);
	if (f.wl == NULL)
		return -1;
	f.scratch = watchlist_scratch_alloc(f.wl);
	if (f.scratch == NULL)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	watchlist_scratch_free(f->scratch);
	watchlist_free(f->wl);
	return 0;
}

/* Mask of the class called <name>, failing the test if there is none. */
static uint32_t
bit(const struct watchlist *wl, const char *name)
{
	int id = watchlist_class_id(wl, name);

	assert_true(id >= 0);
	return UINT32_C(1) << id;
}

static uint32_t
match(struct fixture *f, enum watch_kind kind, const char *name)
{
	return watchlist_match(f->wl, f->scratch, kind, name, strlen(name));
}

static void
test_default_classes(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "admin_share", "ipc_share",
		"remote_exec_pipe", "recon_pipe", "executable" };
	unsigned int i;

	assert_int_equal(watchlist_class_count(f->wl), 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(watchlist_class_id(f->wl, names[i]), i);
		assert_string_equal(watchlist_class_name(f->wl, i), names[i]);
	}
	assert_int_equal(watchlist_class_id(f->wl, "nope"), -ENOENT);
	assert_int_equal(watchlist_class_id(f->wl, "Admin_share"), -ENOENT);
	assert_null(watchlist_class_name(f->wl, 5));
	assert_null(watchlist_class_name(f->wl, 31));
	assert_int_equal(watchlist_spec_class_count(&f->spec), 5);
}

static void
test_default_shares(void **state)
{
	struct fixture *f = *state;
	uint32_t admin = bit(f->wl, "admin_share");
	uint32_t ipc = bit(f->wl, "ipc_share");

	assert_int_equal(match(f, WATCH_KIND_SHARE, "ADMIN$"), admin);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "admin$"), admin);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "C$"), admin);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "D$"), admin);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "z$"), admin);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "IPC$"), ipc);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "ipc$"), ipc);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "data"), 0);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "ADMIN"), 0);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "CC$"), 0);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "1$"), 0);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "XADMIN$"), 0);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "ADMIN$x"), 0);
	assert_int_equal(match(f, WATCH_KIND_SHARE, ""), 0);

	/* Tree connect paths as they appear on the wire. */
	assert_int_equal(match(f, WATCH_KIND_SHARE, "\\\\198.18.2.20\\ADMIN$"),
		admin);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "\\\\DC01\\IPC$"), ipc);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "\\\\fs.corp.local\\c$"),
		admin);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "\\\\fs\\data"), 0);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "\\\\ADMIN$"), 0);
	assert_int_equal(match(f, WATCH_KIND_SHARE, "//srv/ADMIN$"), admin);
	/* A NUL left at the end of an SMB1 string changes nothing. */
	assert_int_equal(watchlist_match(f->wl, f->scratch, WATCH_KIND_SHARE,
		"\\\\srv\\IPC$\0", 11), ipc);
	/* Share names are not pipe or file names. */
	assert_int_equal(match(f, WATCH_KIND_PIPE, "ADMIN$"), 0);
	assert_int_equal(match(f, WATCH_KIND_FILE, "IPC$"), 0);
}

/* Asserts that (<out>, <len>) is the string <expected>. */
static void
assert_name(const char *out, size_t len, const char *expected)
{
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(out, expected, len);
}

static void
test_share_name_helper(void **state)
{
	const char *out;
	size_t len;

	(void)state;
	watchlist_share_name(NAME("\\\\srv\\ADMIN$"), &out, &len);
	assert_name(out, len, "ADMIN$");
	watchlist_share_name(NAME("ADMIN$"), &out, &len);
	assert_name(out, len, "ADMIN$");
	watchlist_share_name(NAME("\\\\srv"), &out, &len);
	assert_int_equal(len, 0);
	watchlist_share_name(NAME("\\\\srv\\"), &out, &len);
	assert_int_equal(len, 0);
	watchlist_share_name(NAME(""), &out, &len);
	assert_int_equal(len, 0);
	/* Only the first component after the server is the share. */
	watchlist_share_name(NAME("\\\\srv\\C$\\Windows"), &out, &len);
	assert_name(out, len, "C$");

	watchlist_pipe_name(NAME("\\PIPE\\svcctl"), &out, &len);
	assert_name(out, len, "svcctl");
	watchlist_pipe_name(NAME("\\pipe\\"), &out, &len);
	assert_int_equal(len, 0);
	watchlist_pipe_name(NAME("pipe"), &out, &len);
	assert_int_equal(len, 4);
	watchlist_pipe_name(NAME("pipex\\a"), &out, &len);
	assert_int_equal(len, 7);
}

static void
test_default_pipes(void **state)
{
	struct fixture *f = *state;
	uint32_t exec = bit(f->wl, "remote_exec_pipe");
	uint32_t recon = bit(f->wl, "recon_pipe");

	assert_int_equal(match(f, WATCH_KIND_PIPE, "svcctl"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "\\PIPE\\svcctl"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "\\pipe\\SVCCTL"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "\\svcctl"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "atsvc"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "winreg"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "PSEXESVC"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE,
		"PSEXESVC-WS01-4242-stdin"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "psexecsvc-x-stdout"),
		exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "RemCom_communicaton"),
		exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "\\RemCom_stdoutAbCd1234"),
		exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "PAExecIn12"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "csexecsvc"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "ahexec_stdin01"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "\\PIPE\\msagent_4f"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "MSSE-1234-server"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "postex_ssh_a1b2"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "status_0c"), exec);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "status_report"), 0);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "msagent_"), 0);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "samr"), recon);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "\\PIPE\\lsarpc"), recon);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "srvsvc"), recon);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "NETLOGON"), recon);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "svcctlx"), 0);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "xsvcctl"), 0);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "spoolss"), 0);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "\\PIPE\\"), 0);
	/* Pipe names are not share names. */
	assert_int_equal(match(f, WATCH_KIND_SHARE, "svcctl"), 0);
}

static void
test_default_files(void **state)
{
	struct fixture *f = *state;
	uint32_t exe = bit(f->wl, "executable");

	assert_int_equal(match(f, WATCH_KIND_FILE, "QmEyydJf.exe"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "x.EXE"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "dir\\a.ps1"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "\\Windows\\evil.DlL"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "a.sys"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "run.bat"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "run.cmd"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "x.vbs"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "x.scr"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "setup.MSI"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "a.hta"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "a.js"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "m.psm1"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "x.cpl"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "a.json"), 0);
	assert_int_equal(match(f, WATCH_KIND_FILE, "x.exe::$DATA"), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, "readme.txt"), 0);
	assert_int_equal(match(f, WATCH_KIND_FILE, "evil.exe.txt"), 0);
	assert_int_equal(match(f, WATCH_KIND_FILE, "exe"), 0);
	assert_int_equal(match(f, WATCH_KIND_FILE, "xexe"), 0);
	assert_int_equal(match(f, WATCH_KIND_FILE, "x.exe:ads"), 0);
	/* File names are not share names. */
	assert_int_equal(match(f, WATCH_KIND_SHARE, "a.exe"), 0);
}

static void
test_counters(void **state)
{
	struct fixture *f = *state;
	const struct watchlist_counters *c =
		watchlist_scratch_counters(f->scratch);
	int exe = watchlist_class_id(f->wl, "executable");
	int admin = watchlist_class_id(f->wl, "admin_share");

	watchlist_scratch_reset_counters(f->scratch);
	match(f, WATCH_KIND_FILE, "a.exe");
	match(f, WATCH_KIND_FILE, "b.exe");
	match(f, WATCH_KIND_FILE, "c.txt");
	match(f, WATCH_KIND_SHARE, "C$");
	assert_int_equal(c->names[WATCH_KIND_FILE], 3);
	assert_int_equal(c->names[WATCH_KIND_SHARE], 1);
	assert_int_equal(c->names[WATCH_KIND_PIPE], 0);
	assert_int_equal(c->matches[exe], 2);
	assert_int_equal(c->matches[admin], 1);
	assert_int_equal(c->scan_errors, 0);
	assert_int_equal(watchlist_match(f->wl, f->scratch, WATCH_KIND_COUNT,
		NAME("a.exe")), 0);
	watchlist_scratch_reset_counters(f->scratch);
	assert_int_equal(c->matches[exe], 0);
	assert_int_equal(c->names[WATCH_KIND_FILE], 0);
}

static void
test_user_patterns(void **state)
{
	struct watchlist_spec spec;
	struct watchlist *wl;
	struct watchlist_scratch *s;
	char error[256];
	uint32_t m;

	(void)state;
	watchlist_spec_set_defaults(&spec);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_SHARE,
		"finance_share", "^FINANCE\\$?$", true, 3), 0);
	/* More patterns for a built-in class, and one name in two classes. */
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_PIPE,
		"remote_exec_pipe", "^evilpipe$", false, 4), 0);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE,
		"script", "\\.(py|rb|ps1)$", true, 5), 0);
	/* A case-sensitive pattern. */
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE,
		"temp_drop", "^Windows\\\\Temp\\\\", false, 6), 0);
	wl = watchlist_compile(&spec, error, sizeof(error));
	assert_non_null(wl);
	assert_string_equal(error, "");
	s = watchlist_scratch_alloc(wl);
	assert_non_null(s);
	assert_int_equal(watchlist_class_count(wl), 8);
	assert_int_equal(watchlist_class_id(wl, "finance_share"), 5);
	assert_int_equal(watchlist_class_id(wl, "script"), 6);

	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_SHARE,
		NAME("\\\\fs\\finance")), 1u << 5);
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_SHARE,
		NAME("FINANCE$")), 1u << 5);
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_PIPE,
		NAME("\\PIPE\\evilpipe")), 1u << 2);
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_PIPE,
		NAME("EVILPIPE")), 0);
	m = watchlist_match(wl, s, WATCH_KIND_FILE, NAME("x\\run.PS1"));
	assert_int_equal(m, (1u << 4) | (1u << 6));
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_FILE,
		NAME("a.py")), 1u << 6);
	m = watchlist_match(wl, s, WATCH_KIND_FILE,
		NAME("\\Windows\\Temp\\x.exe"));
	assert_int_equal(m, (1u << 4) | (1u << 7));
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_FILE,
		NAME("windows\\temp\\x.txt")), 0);
	watchlist_scratch_free(s);
	watchlist_free(wl);
}

static void
test_spec_add_limits(void **state)
{
	struct watchlist_spec spec;
	char long_pattern[WATCHLIST_PATTERN_MAX + 1];
	unsigned int i;

	(void)state;
	watchlist_spec_clear(&spec);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "", "a",
		true, 0), -EINVAL);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "bad-name",
		"a", true, 0), -EINVAL);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE,
		"a_class_name_that_is_far_too_long", "a", true, 0), -EINVAL);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "c", "",
		true, 0), -EINVAL);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_COUNT, "c", "a",
		true, 0), -EINVAL);
	memset(long_pattern, 'a', WATCHLIST_PATTERN_MAX);
	long_pattern[WATCHLIST_PATTERN_MAX] = '\0';
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "c",
		long_pattern, true, 0), -ENAMETOOLONG);
	long_pattern[WATCHLIST_PATTERN_MAX - 1] = '\0';
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "c",
		long_pattern, true, 0), 0);
	for (i = 1; i < WATCHLIST_ENTRIES_MAX; i++)
		assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE,
			"c", "b", true, 0), 0);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "c", "b",
		true, 0), -ENOSPC);
	assert_int_equal(spec.count, WATCHLIST_ENTRIES_MAX);
}

static void
test_broken_pattern(void **state)
{
	struct watchlist_spec spec;
	char error[256];

	(void)state;
	watchlist_spec_set_defaults(&spec);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "script",
		"\\.(exe", true, 4), 0);
	errno = 0;
	assert_null(watchlist_compile(&spec, error, sizeof(error)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(error,
		"pattern \"\\\\.(exe\" (class script, file): Missing close parenthesis for group started at index 2.");

	assert_int_equal(watchlist_pattern_check("\\.(exe", true, error,
		sizeof(error)), -EINVAL);
	assert_string_equal(error,
		"Missing close parenthesis for group started at index 2.");
	assert_int_equal(watchlist_pattern_check("\\.(exe)$", true, error,
		sizeof(error)), 0);
	/* Hyperscan refuses patterns that match the empty name. */
	assert_int_equal(watchlist_pattern_check("x*", false, error,
		sizeof(error)), -EINVAL);
	/* Back-references are outside the subset Hyperscan supports. */
	assert_int_equal(watchlist_pattern_check("(a)\\1", false, error,
		sizeof(error)), -EINVAL);

	/* A spec filled by hand is checked too. */
	watchlist_spec_clear(&spec);
	spec.count = 1;
	memset(&spec.entries[0], 0, sizeof(spec.entries[0]));
	strcpy(spec.entries[0].class_name, "x");
	assert_null(watchlist_compile(&spec, error, sizeof(error)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(error, "pattern must be"));
}

static void
test_too_many_classes(void **state)
{
	struct watchlist_spec spec;
	struct watchlist *wl;
	char error[256], name[16];
	unsigned int i;

	(void)state;
	watchlist_spec_clear(&spec);
	for (i = 0; i < WATCHLIST_CLASSES_MAX; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		assert_int_equal(watchlist_spec_add(&spec, i % WATCH_KIND_COUNT,
			name, "^x$", true, 0), 0);
	}
	wl = watchlist_compile(&spec, error, sizeof(error));
	assert_non_null(wl);
	assert_int_equal(watchlist_class_count(wl), 32);
	assert_string_equal(watchlist_class_name(wl, 31), "c31");
	watchlist_free(wl);

	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "c32",
		"^y$", true, 0), 0);
	assert_int_equal(watchlist_spec_class_count(&spec), 33);
	errno = 0;
	assert_null(watchlist_compile(&spec, error, sizeof(error)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(error,
		"too many classes: \"c32\" would be class 33, at most 32 are allowed");
}

static void
test_class_bit_31(void **state)
{
	struct watchlist_spec spec;
	struct watchlist *wl;
	struct watchlist_scratch *s;
	char name[16];
	unsigned int i;

	(void)state;
	watchlist_spec_clear(&spec);
	for (i = 0; i < WATCHLIST_CLASSES_MAX; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE,
			name, i == 31 ? "\\.exe$" : "^nomatch$", true, 0), 0);
	}
	wl = watchlist_compile(&spec, NULL, 0);
	assert_non_null(wl);
	s = watchlist_scratch_alloc(wl);
	assert_non_null(s);
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_FILE, NAME("a.exe")),
		UINT32_C(1) << 31);
	assert_int_equal(watchlist_scratch_counters(s)->matches[31], 1);
	watchlist_scratch_free(s);
	watchlist_free(wl);
}

static void
test_empty_spec(void **state)
{
	struct watchlist_spec spec;
	struct watchlist *wl;
	struct watchlist_scratch *s;

	(void)state;
	watchlist_spec_clear(&spec);
	wl = watchlist_compile(&spec, NULL, 0);
	assert_non_null(wl);
	assert_int_equal(watchlist_class_count(wl), 0);
	s = watchlist_scratch_alloc(wl);
	assert_non_null(s);
	assert_int_equal(watchlist_match(wl, s, WATCH_KIND_FILE, NAME("a.exe")),
		0);
	watchlist_scratch_free(s);
	watchlist_free(wl);
	errno = 0;
	assert_null(watchlist_scratch_alloc(NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(watchlist_compile(NULL, NULL, 0));
	assert_int_equal(errno, EINVAL);
}

/*
 * Reload: a worker keeps its scratch, grows it for the rebuilt watchlist
 * (which here needs more scratch than the old one), and goes on matching
 * with the old one until it switches. A scratch never sized for a
 * watchlist is refused without harm.
 */
static void
test_scratch_reuse_after_reload(void **state)
{
	struct watchlist_spec small, big;
	struct watchlist *wl_old, *wl_new;
	struct watchlist_scratch *s, *other;
	const struct watchlist_counters *c;
	char pattern[64];
	unsigned int i;

	(void)state;
	watchlist_spec_clear(&small);
	assert_int_equal(watchlist_spec_add(&small, WATCH_KIND_FILE, "exe",
		"\\.exe$", true, 0), 0);
	wl_old = watchlist_compile(&small, NULL, 0);
	assert_non_null(wl_old);
	s = watchlist_scratch_alloc(wl_old);
	assert_non_null(s);
	c = watchlist_scratch_counters(s);
	assert_int_equal(watchlist_match(wl_old, s, WATCH_KIND_FILE,
		NAME("a.exe")), 1);

	watchlist_spec_set_defaults(&big);
	for (i = 0; i < 40; i++) {
		snprintf(pattern, sizeof(pattern), "^[a-z]{%u}x.{2,%u}[0-9]$",
			i + 1, i + 3);
		assert_int_equal(watchlist_spec_add(&big, WATCH_KIND_FILE,
			"odd", pattern, i & 1, 0), 0);
	}
	wl_new = watchlist_compile(&big, NULL, 0);
	assert_non_null(wl_new);

	/* A scratch sized for a small watchlist may not fit a bigger one. */
	other = watchlist_scratch_alloc(wl_old);
	assert_non_null(other);
	watchlist_match(wl_new, other, WATCH_KIND_FILE, NAME("abx123"));
	watchlist_match(wl_new, other, WATCH_KIND_FILE, NAME("a.exe"));
	if (watchlist_scratch_counters(other)->scan_errors > 0)
		print_message("scratch for the old list refused as expected\n");
	watchlist_scratch_free(other);

	assert_int_equal(watchlist_scratch_grow(s, wl_new), 0);
	assert_int_equal(watchlist_scratch_grow(s, wl_new), 0);
	assert_int_equal(watchlist_scratch_grow(NULL, wl_new), -EINVAL);
	assert_int_equal(watchlist_scratch_grow(s, NULL), -EINVAL);
	/* Valid for both until the worker switches. */
	assert_int_equal(watchlist_match(wl_old, s, WATCH_KIND_FILE,
		NAME("b.exe")), 1);
	assert_int_equal(c->matches[0], 2);
	watchlist_scratch_reset_counters(s);
	watchlist_free(wl_old);
	assert_int_equal(watchlist_match(wl_new, s, WATCH_KIND_FILE,
		NAME("b.exe")), bit(wl_new, "executable"));
	assert_int_equal(watchlist_match(wl_new, s, WATCH_KIND_FILE,
		NAME("abx123")), bit(wl_new, "odd"));
	assert_int_equal(watchlist_match(wl_new, s, WATCH_KIND_SHARE,
		NAME("\\\\h\\ADMIN$")), bit(wl_new, "admin_share"));
	assert_int_equal(c->scan_errors, 0);
	assert_int_equal(c->matches[watchlist_class_id(wl_new, "odd")], 1);
	watchlist_scratch_free(s);
	watchlist_free(wl_new);
}

/*
 * Names seen before are answered from memory, with the same classes and
 * counts as a scan; a name differing in one byte or in kind is scanned;
 * another watchlist on the same scratch never gets the first one's answers.
 */
static void
test_memo(void **state)
{
	struct fixture *f = *state;
	const struct watchlist_counters *c =
		watchlist_scratch_counters(f->scratch);
	uint32_t exe = bit(f->wl, "executable");
	char long_name[200];
	struct watchlist_spec spec;
	struct watchlist *other;
	uint64_t hits;
	int i;

	watchlist_scratch_reset_counters(f->scratch);
	for (i = 0; i < 3; i++)
		assert_int_equal(match(f, WATCH_KIND_FILE,
			"Windows\\PSEXESVC.exe"), exe);
	assert_int_equal(c->memo_hits, 2);
	assert_int_equal(c->names[WATCH_KIND_FILE], 3);
	assert_int_equal(c->matches[watchlist_class_id(f->wl, "executable")],
		3);
	/* One byte off, and the same bytes as another kind. */
	assert_int_equal(match(f, WATCH_KIND_FILE, "Windows\\PSEXESVC.exf"),
		0);
	assert_int_equal(match(f, WATCH_KIND_PIPE, "Windows\\PSEXESVC.exe"),
		0);
	assert_int_equal(c->memo_hits, 2);
	/* Switched off, every name is scanned; on again, remembered. */
	watchlist_scratch_remember(f->scratch, false);
	assert_int_equal(match(f, WATCH_KIND_FILE, "Windows\\PSEXESVC.exe"),
		exe);
	assert_int_equal(c->memo_hits, 2);
	watchlist_scratch_remember(f->scratch, true);
	assert_int_equal(match(f, WATCH_KIND_FILE, "Windows\\PSEXESVC.exe"),
		exe);
	assert_int_equal(c->memo_hits, 3);
	/* Too long to remember: scanned every time, still right. */
	memset(long_name, 'a', sizeof(long_name));
	memcpy(long_name + sizeof(long_name) - 5, ".exe", 5);
	assert_int_equal(match(f, WATCH_KIND_FILE, long_name), exe);
	assert_int_equal(match(f, WATCH_KIND_FILE, long_name), exe);
	assert_int_equal(c->memo_hits, 3);

	/* A different watchlist through the same scratch. */
	watchlist_spec_clear(&spec);
	assert_int_equal(watchlist_spec_add(&spec, WATCH_KIND_FILE, "svc",
		"psexesvc", true, 0), 0);
	other = watchlist_compile(&spec, NULL, 0);
	assert_non_null(other);
	assert_int_equal(watchlist_scratch_grow(f->scratch, other), 0);
	hits = c->memo_hits;
	assert_int_equal(watchlist_match(other, f->scratch, WATCH_KIND_FILE,
		NAME("Windows\\PSEXESVC.exe")), 1);
	assert_int_equal(c->memo_hits, hits);
	assert_int_equal(watchlist_match(other, f->scratch, WATCH_KIND_FILE,
		NAME("a.exe")), 0);
	watchlist_free(other);
	assert_int_equal(match(f, WATCH_KIND_FILE, "Windows\\PSEXESVC.exe"),
		exe);
}

int
main(void)
{
	const struct CMUnitTest with_defaults[] = {
		cmocka_unit_test(test_default_classes),
		cmocka_unit_test(test_default_shares),
		cmocka_unit_test(test_default_pipes),
		cmocka_unit_test(test_default_files),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_memo),
	};
	const struct CMUnitTest standalone[] = {
		cmocka_unit_test(test_share_name_helper),
		cmocka_unit_test(test_user_patterns),
		cmocka_unit_test(test_spec_add_limits),
		cmocka_unit_test(test_broken_pattern),
		cmocka_unit_test(test_too_many_classes),
		cmocka_unit_test(test_class_bit_31),
		cmocka_unit_test(test_empty_spec),
		cmocka_unit_test(test_scratch_reuse_after_reload),
	};
	int failed;

	failed = cmocka_run_group_tests_name("match_defaults", with_defaults,
		setup_defaults, teardown);
	failed += cmocka_run_group_tests_name("match", standalone, NULL, NULL);
	return failed;
}
