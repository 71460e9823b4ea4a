/* SPDX-License-Identifier: BSD-3-Clause */
/* Configuration loader: defaults, the sample file, and every kind of error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static struct gateway_config cfg;
static struct config_errors errors;

static int
load(const char *text)
{
	return config_load_string("test.conf", text, &cfg, &errors);
}

/* Asserts that exactly one error was reported and that it is <expected>. */
static void
assert_single_error(const char *expected)
{
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.messages[0], expected);
}

static void
test_default_configuration(void **state)
{
	(void)state;
	assert_int_equal(config_load_string("<default>", config_default_text,
		&cfg, &errors), 0);
	assert_int_equal(errors.count, 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_INLINE);
	assert_int_equal(cfg.port_count, 2);
	assert_string_equal(cfg.ports[0], "net_af_packet0");
	assert_string_equal(cfg.ports[1], "net_af_packet1");
	assert_int_equal(cfg.workers, 1);
	assert_int_equal(cfg.mtu, 1500);
	assert_int_equal(config_max_frame(&cfg), 1522);
}

static void
test_sample_file(void **state)
{
	(void)state;
	assert_int_equal(config_load_file(TESTS_DIR "/../conf/smbgw.conf",
		&cfg, &errors), 0);
	assert_string_equal(cfg.ports[0], "0000:03:00.0");
	assert_string_equal(cfg.ports[1], "0000:03:00.1");
	assert_int_equal(cfg.fail_mode, CONFIG_FAIL_OPEN);
	assert_int_equal(cfg.mbufs, 16383);
}

static void
test_values_override_defaults(void **state)
{
	(void)state;
	assert_int_equal(load(
		"gateway: { mode = \"tap\"; ports = [\"a\", \"b\", \"c\"];\n"
		"  workers = 2; fail_mode = \"closed\"; mtu = 9000;\n"
		"  burst_size = 64; tx_retries = 0; stats_interval = 0; };\n"
		"memory: { mbufs = 65535; mbuf_cache = 512;\n"
		"  mbuf_data_room = 9216; rx_descriptors = 4096;\n"
		"  tx_descriptors = 512; };\n"), 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_TAP);
	assert_int_equal(cfg.port_count, 3);
	assert_string_equal(cfg.ports[2], "c");
	assert_int_equal(cfg.workers, 2);
	assert_int_equal(cfg.fail_mode, CONFIG_FAIL_CLOSED);
	assert_int_equal(cfg.mtu, 9000);
	assert_int_equal(cfg.burst_size, 64);
	assert_int_equal(cfg.tx_retries, 0);
	assert_int_equal(cfg.stats_interval, 0);
	assert_int_equal(cfg.mbufs, 65535);
	assert_int_equal(cfg.mbuf_cache, 512);
	assert_int_equal(cfg.mbuf_data_room, 9216);
	assert_int_equal(cfg.rx_descriptors, 4096);
	assert_int_equal(cfg.tx_descriptors, 512);
}

static void
test_session_pool_keys(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"), 0);
	assert_int_equal(cfg.sessions_per_client, 64);
	assert_int_equal(cfg.session_idle_reclaim_ms, 5000);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"flows: { sessions_per_client = 0;"
		" session_idle_reclaim_ms = 250; };\n"), 0);
	assert_int_equal(cfg.sessions_per_client, 0);
	assert_int_equal(cfg.session_idle_reclaim_ms, 250);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"flows: { session_idle_reclaim_ms = 3600001; };\n"), -EINVAL);
}

static void
test_missing_ports(void **state)
{
	(void)state;
	assert_int_equal(load("\ngateway: {\n  workers = 1;\n};\n"), -EINVAL);
	assert_single_error(
		"test.conf:2: missing key gateway.ports (the DPDK port names)");
}

static void
test_missing_gateway_group(void **state)
{
	(void)state;
	assert_int_equal(load("memory: { mbufs = 8191; };\n"), -EINVAL);
	assert_single_error("test.conf:1: missing group gateway");
}

static void
test_wrong_types(void **state)
{
	(void)state;
	assert_int_equal(load(
		"gateway: {\n"
		"  ports = [\"a\", \"b\"];\n"
		"  workers = \"two\";\n"
		"  mode = 1;\n"
		"  ports_extra = 1;\n"
		"};\n"), -EINVAL);
	assert_int_equal(errors.count, 3);
	assert_string_equal(errors.messages[0],
		"test.conf:3: gateway.workers must be an integer, not a string");
	assert_string_equal(errors.messages[1],
		"test.conf:4: gateway.mode must be a string, not an integer");
	assert_string_equal(errors.messages[2],
		"test.conf:5: unknown key gateway.ports_extra");
}

static void
test_ports_not_an_array(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = \"a\"; };\n"), -EINVAL);
	assert_string_equal(errors.messages[0],
		"test.conf:1: gateway.ports must be an array of port names, not a string");
}

static void
test_out_of_range(void **state)
{
	(void)state;
	assert_int_equal(load(
		"gateway: { ports = [\"a\", \"b\"];\n"
		"  burst_size = 0;\n"
		"  mtu = 100000;\n"
		"};\n"
		"memory: { mbuf_cache = 513; };\n"), -EINVAL);
	assert_int_equal(errors.count, 3);
	assert_string_equal(errors.messages[0],
		"test.conf:2: gateway.burst_size = 0 is out of range [1, 256]");
	assert_string_equal(errors.messages[1],
		"test.conf:3: gateway.mtu = 100000 is out of range [68, 9600]");
	assert_string_equal(errors.messages[2],
		"test.conf:5: memory.mbuf_cache = 513 is out of range [0, 512]");
}

static void
test_negative_value(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"];\n"
		"  workers = -1; };\n"), -EINVAL);
	assert_single_error(
		"test.conf:2: gateway.workers = -1 is out of range [1, 64]");
}

static void
test_bad_enum(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"];\n"
		"  mode = \"bridge\"; };\n"), -EINVAL);
	assert_single_error(
		"test.conf:2: gateway.mode = \"bridge\" is not one of: inline, tap");
}

static void
test_syntax_error_has_line(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: {\n  ports = [\"a\", \"b\"];\n"
		"  workers = ;\n};\n"), -EINVAL);
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.messages[0], "test.conf:3: syntax error");
}

static void
test_inline_needs_two_ports(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: {\n  ports = [\"a\", \"b\", \"c\"];\n};\n"),
		-EINVAL);
	assert_single_error("test.conf:2: inline mode needs exactly 2 ports, 3 given");
}

static void
test_duplicate_and_empty_ports(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = [\"a\", \"a\"]; };\n"), -EINVAL);
	assert_string_equal(errors.messages[0],
		"test.conf:1: gateway.ports names \"a\" twice");
	assert_int_equal(load("gateway: { ports = [\"\", \"b\"]; };\n"), -EINVAL);
	assert_string_equal(errors.messages[0],
		"test.conf:1: gateway.ports[0] must be 1 to 63 characters");
	assert_int_equal(load("gateway: { mode = \"tap\"; ports = []; };\n"),
		-EINVAL);
	assert_string_equal(errors.messages[0],
		"test.conf:1: gateway.ports has 0 entries; between 1 and 8 expected");
}

static void
test_unknown_group(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"gatway: { workers = 2; };\n"), -EINVAL);
	assert_single_error("test.conf:2: unknown group or key gatway");
}

static void
test_memory_consistency(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"memory: { mbufs = 1023; mbuf_cache = 512; };\n"), -EINVAL);
	assert_int_equal(errors.count, 2);
	assert_string_equal(errors.messages[0],
		"test.conf:2: memory.mbuf_cache = 512 must be at most half of memory.mbufs = 1023");
}

static void
test_file_errors_name_the_file(void **state)
{
	char path[] = "/tmp/smbgw-test-config-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp;

	(void)state;
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("# comment\ngateway: {\n  ports = [\"a\", \"b\"];\n"
		"  burst_size = 1000;\n};\n", fp);
	fclose(fp);
	assert_int_equal(config_load_file(path, &cfg, &errors), -EINVAL);
	assert_int_equal(errors.count, 1);
	assert_non_null(strstr(errors.messages[0], ":4: gateway.burst_size"));
	assert_memory_equal(errors.messages[0], path, strlen(path));
	unlink(path);
}

static void
test_missing_file(void **state)
{
	(void)state;
	assert_int_equal(config_load_file("/nonexistent/smbgw.conf", &cfg,
		&errors), -ENOENT);
	assert_single_error(
		"/nonexistent/smbgw.conf:0: cannot open: No such file or directory");
}

static void
test_error_list_is_bounded(void **state)
{
	char text[8192];
	size_t used;
	int i;

	(void)state;
	used = snprintf(text, sizeof(text), "gateway: { ports = [\"a\", \"b\"];\n");
	for (i = 0; i < CONFIG_ERRORS_MAX + 5; i++)
		used += snprintf(text + used, sizeof(text) - used,
			"  unknown_%d = 1;\n", i);
	snprintf(text + used, sizeof(text) - used, "};\n");
	assert_int_equal(load(text), -EINVAL);
	assert_int_equal(errors.count, CONFIG_ERRORS_MAX);
	assert_int_equal(errors.dropped, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_configuration),
		cmocka_unit_test(test_sample_file),
		cmocka_unit_test(test_values_override_defaults),
		cmocka_unit_test(test_session_pool_keys),
		cmocka_unit_test(test_missing_ports),
		cmocka_unit_test(test_missing_gateway_group),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_ports_not_an_array),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_negative_value),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_syntax_error_has_line),
		cmocka_unit_test(test_inline_needs_two_ports),
		cmocka_unit_test(test_duplicate_and_empty_ports),
		cmocka_unit_test(test_unknown_group),
		cmocka_unit_test(test_memory_consistency),
		cmocka_unit_test(test_file_errors_name_the_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_error_list_is_bounded),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
