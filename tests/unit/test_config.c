/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration loader: defaults, the sample file, every kind of error;
 * files and includes that are not regular files, too big, unreadable,
 * cyclic or too deep; errors named by the file they are in; what a reload
 * can apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "config_files.h"
#include "config_reload.h"

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
	/* Unset, as many states as the flow table has entries. */
	assert_int_equal(cfg.sessions, 0);
	assert_int_equal(config_sessions(&cfg), 1u << 20);
	assert_int_equal(cfg.sessions_per_client, 64);
	assert_int_equal(cfg.session_idle_reclaim_ms, 5000);
	assert_int_equal(cfg.session_memory, 1024);
	assert_int_equal(cfg.session_memory_max, 512);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"flows: { max_flows = 8192; };\n"), 0);
	assert_int_equal(config_sessions(&cfg), 8192);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"flows: { max_flows = 8192; sessions = 64; };\n"), 0);
	assert_int_equal(config_sessions(&cfg), 64);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"flows: { session_memory = 64; session_memory_max = 0; };\n"), 0);
	assert_int_equal(cfg.session_memory, 64);
	assert_int_equal(cfg.session_memory_max, 0);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"flows: { session_memory = 0; };\n"), -EINVAL);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"flows: { sessions_per_client = 0;"
		" session_idle_reclaim_ms = 250; };\n"), 0);
	assert_int_equal(cfg.sessions_per_client, 0);
	assert_int_equal(cfg.session_idle_reclaim_ms, 250);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"flows: { session_idle_reclaim_ms = 3600001; };\n"), -EINVAL);
}

#define PORTS_LINE "gateway: { ports = [ \"a\", \"b\" ]; name = \"gw-1.lab\"; };\n"

/* gateway.name and output.redis: values, defaults and every refusal. */
static void
test_redis_output(void **state)
{
	(void)state;
	assert_int_equal(load(PORTS_LINE), 0);
	assert_string_equal(cfg.name, "gw-1.lab");
	assert_string_equal(cfg.redis.server, "");
	assert_int_equal(load(PORTS_LINE
		"output: { redis: { server = \"198.18.250.2\"; port = 6380;\n"
		"  mode = \"stream\"; key = \"k\"; user = \"u\"; password = \"p\";\n"
		"  queue_size = 64; timeout_ms = 250; stream_maxlen = 0;\n"
		"  report = false; report_key = \"r\"; tls = false; }; };\n"), 0);
	assert_string_equal(cfg.redis.server, "198.18.250.2");
	assert_int_equal(cfg.redis.port, 6380);
	assert_int_equal(cfg.redis.mode, REDIS_MODE_STREAM);
	assert_string_equal(cfg.redis.key, "k");
	assert_string_equal(cfg.redis.user, "u");
	assert_string_equal(cfg.redis.password, "p");
	assert_int_equal(cfg.redis.queue_size, 64);
	assert_int_equal(cfg.redis.timeout_ms, 250);
	assert_int_equal(cfg.redis.stream_maxlen, 0);
	assert_false(cfg.redis.report);
	assert_string_equal(cfg.redis.report_key, "r");

	assert_int_equal(load("gateway: { ports = [ \"a\", \"b\" ];\n"
		"  name = \"gw 1\"; };\n"), -EINVAL);
	assert_single_error("test.conf:2: gateway.name = \"gw 1\": only letters, digits, '.', '_' and '-' are allowed");
	assert_int_equal(load("gateway: { ports = [ \"a\", \"b\" ];\n"
		"  name = \"\"; };\n"), -EINVAL);
	assert_single_error("test.conf:2: gateway.name must be 1 to 63 characters");
	assert_int_equal(load(PORTS_LINE
		"output: { redis: { server = \"h\";\n  mode = \"kafka\"; }; };\n"),
		-EINVAL);
	assert_single_error("test.conf:3: output.redis.mode = \"kafka\" is not one of: list, stream, pubsub");
	assert_int_equal(load(PORTS_LINE
		"output: { redis: { server = \"h\";\n  tls = true; }; };\n"),
		-EINVAL);
	assert_single_error("test.conf:3: output.redis.tls: this build's hiredis has no TLS support; connect through a local TLS tunnel (stunnel) instead");
	assert_int_equal(load(PORTS_LINE
		"output: { redis: { port = 1; }; };\n"), -EINVAL);
	assert_single_error("test.conf:2: output.redis needs a server (host name or address)");
	assert_int_equal(load(PORTS_LINE
		"output: { redis: { server = \"h\";\n  queue_size = 8; }; };\n"),
		-EINVAL);
	assert_single_error("test.conf:3: output.redis.queue_size = 8 is out of range [16, 1048576]");
	assert_int_equal(load(PORTS_LINE
		"output: { redis: { server = \"h\";\n  colour = 1; }; };\n"),
		-EINVAL);
	assert_int_equal(errors.count, 1);
	assert_non_null(strstr(errors.messages[0],
		"test.conf:3: unknown key output.redis.colour"));
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
test_stream_fragments(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"), 0);
	assert_int_equal(cfg.fragments, CONFIG_FRAGMENTS_REASSEMBLE);
	assert_int_equal(cfg.fragment_table_size, 256);
	assert_int_equal(cfg.fragment_timeout_ms, 5000);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"stream: { fragments = \"drop\"; fragment_table_size = 64;\n"
		"  fragment_timeout_ms = 250; };\n"), 0);
	assert_int_equal(cfg.fragments, CONFIG_FRAGMENTS_DROP);
	assert_int_equal(cfg.fragment_table_size, 64);
	assert_int_equal(cfg.fragment_timeout_ms, 250);
	assert_string_equal(config_fragments_name(cfg.fragments), "drop");
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"stream: { fragments = \"keep\"; };\n"), -EINVAL);
	assert_single_error("test.conf:2: stream.fragments = \"keep\" is not one of: reassemble, drop, forward");
}

/* Held fragments live in the ports' pools: the table must leave room. */
static void
test_fragment_table_fits_the_pool(void **state)
{
	(void)state;
	/* Unset: as large as fits, 1023 / 2 / 8 = 63. */
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; burst_size = 8; };\n"
		"memory: { mbufs = 1023; mbuf_cache = 0; rx_descriptors = 256;\n"
		"  tx_descriptors = 256; };\n"), 0);
	assert_int_equal(cfg.fragment_table_size, 63);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; workers = 2; };\n"
		"stream: { fragment_table_size = 1024; };\n"), -EINVAL);
	assert_single_error("test.conf:1: stream.fragment_table_size = 1024 lets gateway.workers = 2 hold 16384 fragments per port, more than half of memory.mbufs = 16383");
	/* Not reassembling, nothing is held. */
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; workers = 2; };\n"
		"stream: { fragments = \"forward\"; fragment_table_size = 1024; };\n"), 0);
}

/*
 * Kept segments hold the receiving port's buffers, up to stream.segments
 * per worker: all workers' together must leave the port room to receive
 * (two workers at the old fixed 8192 could keep all 16,383).
 */
static void
test_stream_segments_fit_the_pool(void **state)
{
	(void)state;
	/* Unset: the default, or half the pool shared by the workers. */
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"memory: { mbufs = 65535; };\n"), 0);
	assert_int_equal(config_stream_segments(&cfg),
		CONFIG_STREAM_SEGMENTS_DEFAULT);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"), 0);
	assert_int_equal(config_stream_segments(&cfg), 8191);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; workers = 2; };\n"), 0);
	assert_int_equal(config_stream_segments(&cfg), 4095);
	/* Set: below the pool with every worker's share. */
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; workers = 2; };\n"
		"stream: { segments = 8000; };\n"), 0);
	assert_int_equal(config_stream_segments(&cfg), 8000);
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; workers = 2; };\n"
		"stream: { segments = 8192; };\n"), -EINVAL);
	assert_single_error("test.conf:1: stream.segments = 8192 lets gateway.workers = 2 keep 16384 buffers of a port, not fewer than memory.mbufs = 16383: none would be left to receive into");
	/* Not normalising, nothing is kept. */
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; workers = 2; };\n"
		"stream: { mode = \"off\"; segments = 8192; };\n"), 0);
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

/* Files and includes: a directory of the test's own. */

#define NOBODY 65534
/* Paths in the test directory; short, so that messages hold them whole. */
#define TEST_PATH_MAX 160
#define EXPECTED_MAX (CONFIG_ERROR_LEN * 2)

static char test_dir[64];

static int
make_test_dir(void **state)
{
	(void)state;
	snprintf(test_dir, sizeof(test_dir), "/tmp/smbgw-test-config-XXXXXX");
	return mkdtemp(test_dir) == NULL ? -1 : 0;
}

static int
remove_test_dir(void **state)
{
	char command[128];

	(void)state;
	snprintf(command, sizeof(command), "rm -rf '%s'", test_dir);
	return system(command) == 0 ? 0 : -1;
}

/* <name> in the test directory, or <name> itself when absolute. */
static const char *
in_dir(char *buf, size_t len, const char *name)
{
	if (name[0] == '/')
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s/%s", test_dir, name);
	return buf;
}

static void
write_file(const char *name, const char *text)
{
	char path[TEST_PATH_MAX];
	FILE *fp = fopen(in_dir(path, sizeof(path), name), "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Loads <name> from the test directory. */
static int
load_file(const char *name)
{
	char path[TEST_PATH_MAX];

	return config_load_file(in_dir(path, sizeof(path), name), &cfg,
		&errors);
}

static const char valid_gateway[] = "gateway: { ports = [\"a\", \"b\"]; };\n";

/*
 * <name> is a file no configuration may be: as the main file its load
 * fails with -<main_errno> and "<path>:0: <why>"; included at line 2 of a
 * valid file, with -EINVAL and a message naming both files.
 */
static void
assert_refused(const char *name, int main_errno, const char *why)
{
	char path[TEST_PATH_MAX], main_path[TEST_PATH_MAX];
	char text[TEST_PATH_MAX + 64], expected[EXPECTED_MAX];
	struct timespec start, end;

	in_dir(path, sizeof(path), name);
	in_dir(main_path, sizeof(main_path), "main.conf");
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(load_file(name), -main_errno);
	snprintf(expected, sizeof(expected), "%s:0: %s", path, why);
	assert_single_error(expected);

	snprintf(text, sizeof(text), "%s@include \"%s\"\n", valid_gateway,
		name);
	write_file("main.conf", text);
	assert_int_equal(load_file("main.conf"), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:2: @include \"%s\": %s: %s",
		main_path, name, path, why);
	assert_single_error(expected);
	clock_gettime(CLOCK_MONOTONIC, &end);
	/* Refused at once: nothing is read from what is not a file. */
	assert_true(end.tv_sec - start.tv_sec < 2);
}

static void
test_refuses_directory(void **state)
{
	char path[TEST_PATH_MAX];

	(void)state;
	assert_int_equal(mkdir(in_dir(path, sizeof(path), "conf.d"), 0755), 0);
	assert_refused("conf.d", EISDIR,
		"refused: a directory, not a regular file");
}

static void
test_refuses_fifo(void **state)
{
	char path[TEST_PATH_MAX];

	(void)state;
	/* Nobody writes to it: reading it would block for ever. */
	assert_int_equal(mkfifo(in_dir(path, sizeof(path), "fifo"), 0644), 0);
	assert_refused("fifo", EINVAL, "refused: a FIFO, not a regular file");
}

static void
test_refuses_devices(void **state)
{
	(void)state;
	assert_refused("/dev/null", EINVAL,
		"refused: a character device, not a regular file");
	/* Endless: libconfig would read it until memory ran out. */
	assert_refused("/dev/zero", EINVAL,
		"refused: a character device, not a regular file");
}

static void
test_refuses_socket(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd >= 0);
	in_dir(addr.sun_path, sizeof(addr.sun_path), "sock");
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_refused("sock", EINVAL, "refused: a socket, not a regular file");
	close(fd);
}

static void
test_refuses_dangling_symlink(void **state)
{
	char path[TEST_PATH_MAX];

	(void)state;
	assert_int_equal(symlink("nowhere.conf",
		in_dir(path, sizeof(path), "link.conf")), 0);
	assert_refused("link.conf", ENOENT,
		"cannot open: a dangling symbolic link (to nowhere.conf, which does not exist)");
}

static void
test_refuses_big_sparse_file(void **state)
{
	char path[TEST_PATH_MAX];
	int fd;

	(void)state;
	fd = open(in_dir(path, sizeof(path), "big.conf"),
		O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 100 << 20), 0);
	close(fd);
	assert_refused("big.conf", EFBIG,
		"refused: 104857600 bytes, more than the 1048576 a configuration file may have");
}

/* Writes <name>: a valid configuration of exactly <size> bytes. */
static void
write_sized(const char *name, size_t size)
{
	char *text = malloc(size + 1);
	size_t used = strlen(valid_gateway);

	assert_non_null(text);
	memcpy(text, valid_gateway, used);
	while (used < size) {
		size_t line = size - used > 64 ? 64 : size - used;

		memset(text + used, '#', line);
		text[used + line - 1] = '\n';
		used += line;
	}
	text[size] = '\0';
	write_file(name, text);
	free(text);
}

static void
test_size_limit(void **state)
{
	(void)state;
	write_sized("limit.conf", CONFIG_FILE_SIZE_MAX);
	assert_int_equal(load_file("limit.conf"), 0);
	write_sized("over.conf", CONFIG_FILE_SIZE_MAX + 1);
	assert_int_equal(load_file("over.conf"), -EFBIG);
}

/*
 * Unreadable: root reads any file, so the load runs in a child as nobody
 * when the test runs as root. The child reports its results through a
 * pipe (a cmocka assertion in a child would go on with the parent's tests).
 */
static void
test_refuses_unreadable(void **state)
{
	char path[TEST_PATH_MAX], main_path[TEST_PATH_MAX];
	char text[TEST_PATH_MAX + 64], expected[EXPECTED_MAX];
	char got[2][EXPECTED_MAX];
	int fds[2], status;
	FILE *from_child;
	pid_t child;

	(void)state;
	in_dir(path, sizeof(path), "secret.conf");
	in_dir(main_path, sizeof(main_path), "main.conf");
	write_file("secret.conf", valid_gateway);
	snprintf(text, sizeof(text), "%s@include \"secret.conf\"\n",
		valid_gateway);
	write_file("main.conf", text);
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(chmod(main_path, 0644), 0);
	assert_int_equal(chmod(test_dir, 0711), 0);
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		FILE *to_parent = fdopen(fds[1], "w");
		int ret;

		close(fds[0]);
		if (geteuid() == 0 && (setgid(NOBODY) != 0 ||
				setuid(NOBODY) != 0))
			_exit(2);
		ret = config_load_file(path, &cfg, &errors);
		fprintf(to_parent, "%d %s\n", ret,
			errors.count ? errors.messages[0] : "");
		ret = config_load_file(main_path, &cfg, &errors);
		fprintf(to_parent, "%d %s\n", ret,
			errors.count ? errors.messages[0] : "");
		fclose(to_parent);
		_exit(0);
	}
	close(fds[1]);
	from_child = fdopen(fds[0], "r");
	assert_non_null(fgets(got[0], sizeof(got[0]), from_child));
	assert_non_null(fgets(got[1], sizeof(got[1]), from_child));
	fclose(from_child);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	chmod(test_dir, 0700);
	snprintf(expected, sizeof(expected), "%d %s:0: cannot open: %s\n",
		-EACCES, path, strerror(EACCES));
	assert_string_equal(got[0], expected);
	snprintf(expected, sizeof(expected),
		"%d %s:2: @include \"secret.conf\": %s: cannot open: %s\n",
		-EINVAL, main_path, path, strerror(EACCES));
	assert_string_equal(got[1], expected);
}

static void
test_errors_name_the_included_file(void **state)
{
	char path[4][TEST_PATH_MAX], expected[EXPECTED_MAX];

	(void)state;
	assert_int_equal(mkdir(in_dir(path[0], sizeof(path[0]), "sub"), 0755),
		0);
	write_file("main.conf",
		"# main\n"
		"gateway: {\n"
		"  ports = [\"a\", \"b\"];\n"
		"  @include \"gw.conf\"   # gateway keys\n"
		"  burst_size = 0;\n"
		"};\n"
		"@include \"sub/flows.conf\"\n"
		"memory: { mbuf_cache = 513; };\n");
	/* No newline at its end: the including file's next line is its own. */
	write_file("gw.conf", "# gateway keys\nmtu = 1;");
	/* Relative to the including file's directory: sub/timeouts.conf. */
	write_file("sub/flows.conf", "flows: {\n@include \"timeouts.conf\"\n};\n");
	write_file("sub/timeouts.conf", "timeout_udp = 0;\n");
	assert_int_equal(load_file("main.conf"), -EINVAL);
	assert_int_equal(errors.count, 4);
	in_dir(path[0], sizeof(path[0]), "gw.conf");
	in_dir(path[1], sizeof(path[1]), "main.conf");
	in_dir(path[2], sizeof(path[2]), "sub/timeouts.conf");
	snprintf(expected, sizeof(expected),
		"%s:2: gateway.mtu = 1 is out of range [68, 9600]", path[0]);
	assert_string_equal(errors.messages[0], expected);
	snprintf(expected, sizeof(expected),
		"%s:5: gateway.burst_size = 0 is out of range [1, 256]",
		path[1]);
	assert_string_equal(errors.messages[1], expected);
	snprintf(expected, sizeof(expected),
		"%s:1: flows.timeout_udp = 0 is out of range [1, 86400]",
		path[2]);
	assert_string_equal(errors.messages[2], expected);
	snprintf(expected, sizeof(expected),
		"%s:8: memory.mbuf_cache = 513 is out of range [0, 512]",
		path[1]);
	assert_string_equal(errors.messages[3], expected);

	/* libconfig's own errors too. */
	write_file("main.conf", "# main\n@include \"bad.conf\"\n");
	write_file("bad.conf", "gateway: {\n  ports = [\"a\", \"b\"];\n"
		"  workers = ;\n};\n");
	assert_int_equal(load_file("main.conf"), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:3: syntax error",
		in_dir(path[3], sizeof(path[3]), "bad.conf"));
	assert_single_error(expected);
}

static void
test_include_of_a_missing_file(void **state)
{
	char path[2][TEST_PATH_MAX], expected[EXPECTED_MAX];

	(void)state;
	write_file("main.conf", "gateway: { ports = [\"a\", \"b\"]; };\n"
		"\n@include \"none.conf\"\n");
	assert_int_equal(load_file("main.conf"), -EINVAL);
	snprintf(expected, sizeof(expected),
		"%s:3: @include \"none.conf\": %s: cannot open: %s",
		in_dir(path[0], sizeof(path[0]), "main.conf"),
		in_dir(path[1], sizeof(path[1]), "none.conf"),
		strerror(ENOENT));
	assert_single_error(expected);
}

static void
test_include_cycles(void **state)
{
	char path[2][TEST_PATH_MAX], expected[EXPECTED_MAX];

	(void)state;
	write_file("a.conf", "# a\n@include \"b.conf\"\n");
	write_file("b.conf", "@include \"a.conf\"\n");
	assert_int_equal(load_file("a.conf"), -EINVAL);
	snprintf(expected, sizeof(expected),
		"%s:1: @include \"a.conf\": %s: an include cycle: the file is already being read",
		in_dir(path[0], sizeof(path[0]), "b.conf"),
		in_dir(path[1], sizeof(path[1]), "a.conf"));
	assert_single_error(expected);

	write_file("self.conf", "@include \"self.conf\"\n");
	assert_int_equal(load_file("self.conf"), -EINVAL);
	assert_int_equal(errors.count, 1);
	assert_non_null(strstr(errors.messages[0], "an include cycle"));

	/* The same file twice, one after the other, is no cycle. */
	write_file("note.conf", "# a note\n");
	write_file("twice.conf", "@include \"note.conf\"\n"
		"gateway: { ports = [\"a\", \"b\"]; };\n"
		"@include \"note.conf\"\n");
	assert_int_equal(load_file("twice.conf"), 0);
}

/* d0.conf includes d1.conf ... d<levels>.conf, which holds the gateway. */
static void
write_chain(unsigned int levels)
{
	char name[32], text[64];
	unsigned int i;

	for (i = 0; i < levels; i++) {
		snprintf(name, sizeof(name), "d%u.conf", i);
		snprintf(text, sizeof(text), "@include \"d%u.conf\"\n", i + 1);
		write_file(name, text);
	}
	snprintf(name, sizeof(name), "d%u.conf", levels);
	write_file(name, valid_gateway);
}

static void
test_include_depth(void **state)
{
	char path[2][TEST_PATH_MAX], expected[EXPECTED_MAX];
	char name[32];

	(void)state;
	write_chain(CONFIG_INCLUDE_DEPTH_MAX);
	assert_int_equal(load_file("d0.conf"), 0);
	write_chain(CONFIG_INCLUDE_DEPTH_MAX + 1);
	assert_int_equal(load_file("d0.conf"), -EINVAL);
	snprintf(name, sizeof(name), "d%u.conf", CONFIG_INCLUDE_DEPTH_MAX);
	in_dir(path[0], sizeof(path[0]), name);
	snprintf(name, sizeof(name), "d%u.conf", CONFIG_INCLUDE_DEPTH_MAX + 1);
	in_dir(path[1], sizeof(path[1]), name);
	snprintf(expected, sizeof(expected),
		"%s:1: @include \"%s\": %s: includes nest more than %u deep",
		path[0], name, path[1], CONFIG_INCLUDE_DEPTH_MAX);
	assert_single_error(expected);
}

static void
test_include_count_and_total_size(void **state)
{
	char text[CONFIG_FILES_MAX * 32 + 128];
	size_t used;
	unsigned int i;

	(void)state;
	write_file("note.conf", "# a note\n");
	used = snprintf(text, sizeof(text), "%s", valid_gateway);
	for (i = 0; i < CONFIG_FILES_MAX - 1; i++)
		used += snprintf(text + used, sizeof(text) - used,
			"@include \"note.conf\"\n");
	write_file("many.conf", text);
	assert_int_equal(load_file("many.conf"), 0);
	snprintf(text + used, sizeof(text) - used, "@include \"note.conf\"\n");
	write_file("many.conf", text);
	assert_int_equal(load_file("many.conf"), -EINVAL);
	assert_int_equal(errors.count, 1);
	assert_non_null(strstr(errors.messages[0],
		"more than 64 files in one configuration"));

	/* 1 MiB included five times: more than the whole text may have. */
	write_sized("limit.conf", CONFIG_FILE_SIZE_MAX);
	write_file("huge.conf", "@include \"limit.conf\"\n"
		"@include \"limit.conf\"\n@include \"limit.conf\"\n"
		"@include \"limit.conf\"\n@include \"limit.conf\"\n");
	assert_int_equal(load_file("huge.conf"), -EINVAL);
	assert_int_equal(errors.count, 1);
	assert_non_null(strstr(errors.messages[0], "huge.conf:5: @include"));
	assert_non_null(strstr(errors.messages[0],
		"refused: the configuration would exceed 4194304 bytes with its includes expanded"));
}

static void
test_include_syntax(void **state)
{
	char path[TEST_PATH_MAX], expected[EXPECTED_MAX];

	(void)state;
	/* In comments and strings, as for libconfig, no directive. */
	write_file("main.conf", "gateway: { ports = [\"a\", \"b\"]; };\n"
		"/*\n@include \"missing.conf\"\n*/\n"
		"# @include \"missing.conf\"\n"
		"watchlists: { shares = ( { class = \"x\"; patterns = [ \"a\n"
		"@include \\\"missing.conf\\\"\" ]; } ); };\n");
	assert_int_equal(load_file("main.conf"), 0);

	in_dir(path, sizeof(path), "main.conf");
	write_file("main.conf", "@include \"note.conf\" gateway: {};\n");
	assert_int_equal(load_file("main.conf"), -EINVAL);
	snprintf(expected, sizeof(expected),
		"%s:1: @include: only a # or // comment may follow the path on its line",
		path);
	assert_single_error(expected);

	write_file("main.conf", "\n@include \"note.conf\n");
	assert_int_equal(load_file("main.conf"), -EINVAL);
	snprintf(expected, sizeof(expected),
		"%s:2: @include: the path has no closing quote on its line", path);
	assert_single_error(expected);

	write_file("main.conf", "@include \"\"\n");
	assert_int_equal(load_file("main.conf"), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:1: @include: the path is empty",
		path);
	assert_single_error(expected);

	/* An included file's comment cannot swallow its includer's text. */
	write_file("open.conf", "# fine\n/* never closed\n");
	write_file("main.conf", "@include \"open.conf\"\n");
	assert_int_equal(load_file("main.conf"), -EINVAL);
	snprintf(expected, sizeof(expected),
		"%s:2: the comment opened here does not end before the end of the file",
		in_dir(path, sizeof(path), "open.conf"));
	assert_single_error(expected);
}

static void
test_nul_byte(void **state)
{
	char path[TEST_PATH_MAX], expected[EXPECTED_MAX];
	FILE *fp;

	(void)state;
	fp = fopen(in_dir(path, sizeof(path), "nul.conf"), "w");
	assert_non_null(fp);
	fwrite("gateway: {};\n#\0junk\n", 1, 20, fp);
	fclose(fp);
	assert_int_equal(load_file("nul.conf"), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:2: a NUL byte: not a text file",
		path);
	assert_single_error(expected);
}

/* A text never opens files: should libconfig see @include, it fails. */
static void
test_string_does_not_include(void **state)
{
	(void)state;
	assert_int_equal(load("@include \"/etc/hostname\"\n"), -EINVAL);
	assert_single_error("test.conf:1: cannot open include file");
}

static void
test_policy_lines_name_the_file(void **state)
{
	char path[TEST_PATH_MAX], expected[EXPECTED_MAX];

	(void)state;
	write_file("main.conf", "gateway: { ports = [\"a\", \"b\"]; };\n"
		"policy: {\n"
		"  segments = (\n"
		"    { name = \"ws\"; prefixes = [ \"198.18.1.0/24\" ]; },\n"
		"@include \"more.conf\"\n"
		"  );\n"
		"};\n");
	write_file("more.conf",
		"    { name = \"ws\"; prefixes = [ \"198.18.2.0/24\" ]; }\n");
	assert_int_equal(load_file("main.conf"), -EINVAL);
	snprintf(expected, sizeof(expected), "(first at %s:4)",
		in_dir(path, sizeof(path), "main.conf"));
	assert_int_equal(errors.count, 1);
	assert_non_null(strstr(errors.messages[0], expected));
	assert_memory_equal(errors.messages[0],
		in_dir(path, sizeof(path), "more.conf"), strlen(path));
}

/* Reload: which keys take effect only at restart */

struct restart_case {
	const char *gateway;	/* inside gateway { } */
	const char *groups;	/* other groups */
	const char *key;	/* the one key reported */
};

static const struct restart_case restart_cases[] = {
	{ "mode = \"tap\";", "", "gateway.mode" },
	{ "", "*ports", "gateway.ports" },
	{ "workers = 2;", "", "gateway.workers" },
	{ "fail_mode = \"closed\";", "", "gateway.fail_mode" },
	{ "mtu = 9000;", "", "gateway.mtu" },
	{ "burst_size = 64;", "", "gateway.burst_size" },
	{ "tx_retries = 0;", "", "gateway.tx_retries" },
	{ "stats_interval = 0;", "", "gateway.stats_interval" },
	{ "", "memory: { mbufs = 32767; };", "memory.mbufs" },
	{ "", "memory: { mbuf_cache = 128; };", "memory.mbuf_cache" },
	{ "", "memory: { mbuf_data_room = 4096; };", "memory.mbuf_data_room" },
	{ "", "memory: { rx_descriptors = 512; };", "memory.rx_descriptors" },
	{ "", "memory: { tx_descriptors = 512; };", "memory.tx_descriptors" },
	{ "", "memory: { event_ring_size = 1024; };",
		"memory.event_ring_size" },
	{ "", "flows: { max_flows = 4096; };", "flows.max_flows" },
	{ "", "flows: { sessions = 64; };", "flows.sessions" },
	{ "", "flows: { sessions_per_client = 0; };",
		"flows.sessions_per_client" },
	{ "", "flows: { session_idle_reclaim_ms = 1; };",
		"flows.session_idle_reclaim_ms" },
	{ "", "flows: { classify_packets = 2; };", "flows.classify_packets" },
	{ "", "flows: { timeout_embryonic = 5; };", "flows.timeout_embryonic" },
	{ "", "flows: { timeout_established = 5; };",
		"flows.timeout_established" },
	{ "", "flows: { timeout_closing = 5; };", "flows.timeout_closing" },
	{ "", "flows: { timeout_closed = 5; };", "flows.timeout_closed" },
	{ "", "flows: { timeout_udp = 5; };", "flows.timeout_udp" },
	{ "", "flows: { timeout_other = 5; };", "flows.timeout_other" },
	{ "", "stream: { mode = \"off\"; };", "stream.mode" },
	{ "", "stream: { checksum = \"off\"; };", "stream.checksum" },
	{ "", "stream: { segments = 128; };", "stream.segments" },
	{ "", "stream: { flow_segments = 32; };", "stream.flow_segments" },
	{ "", "stream: { gap_timeout = 5; };", "stream.gap_timeout" },
	{ "", "detector: { window = 60; };", "detector.window" },
	{ "", "detector: { share_open_threshold = 5; };",
		"detector.share_open_threshold" },
	{ "", "detector: { require = [ \"logon\" ]; };", "detector.require" },
	{ "", "detector: { max_pairs = 32; };", "detector.max_pairs" },
	{ "", "detector: { max_clients = 32; };", "detector.max_clients" },
	{ "", "detector: { logon_failures = 3; };", "detector.logon_failures" },
	{ "", "detector: { logon_failure_window = 30; };",
		"detector.logon_failure_window" },
	{ "", "detector: { rules = { smb1 = false; }; };", "detector.rules" },
	{ "", "detector: { workstation_segments = [ \"ws\" ]; };",
		"detector.workstation_segments" },
	{ "", "dcerpc: { endpoints = 64; };", "dcerpc.endpoints" },
	{ "", "dcerpc: { endpoint_expiry = 60; };", "dcerpc.endpoint_expiry" },
	{ "", "dcerpc: { dynamic_ports = [ \"49152-65535\" ]; };",
		"dcerpc.dynamic_ports" },
	{ "", "output: { eve = \"/tmp/other.json\"; };", "output.eve" },
	{ "", "output: { syslog = true; };", "output.syslog" },
	{ "", "output: { max_handles = 32; };", "output.max_handles" },
	{ "", "output: { syslog_target = \"udp://198.18.250.1:514\"; };",
		"output.syslog_target" },
	{ "", "output: { stats_interval = 5; };", "output.stats_interval" },
	{ "", "output: { flows = \"smb_dcerpc\"; };", "output.flows" },
	{ "", "output: { flows_sample = 5; };", "output.flows_sample" },
	{ "", "report: { days = 2; };", "report.days" },
	{ "", "report: { max_rows = 32; };", "report.max_rows" },
	{ "", "control: { socket = \"/tmp/other.sock\"; };", "control.socket" },
	{ "", "control: { group = \"0\"; };", "control.group" },
	{ "", "control: { max_clients = 2; };", "control.max_clients" },
	{ "", "control: { max_line = 100; };", "control.max_line" },
};

static struct gateway_config running, next;

static void
load_restart_case(const struct restart_case *c, struct gateway_config *out)
{
	char text[1024];

	if (strcmp(c->groups, "*ports") == 0)
		snprintf(text, sizeof(text),
			"gateway: { ports = [\"a\", \"c\"]; };\n");
	else
		snprintf(text, sizeof(text),
			"gateway: { ports = [\"a\", \"b\"]; %s };\n%s\n",
			c->gateway, c->groups);
	if (config_load_string("test.conf", text, out, &errors) != 0)
		fail_msg("%s: %s", c->key, errors.messages[0]);
}

static void
test_restart_keys(void **state)
{
	struct config_changes changes;
	size_t i;

	(void)state;
	assert_int_equal(load(valid_gateway), 0);
	running = cfg;
	assert_int_equal(config_restart_changes(&running, &cfg, &changes), 0);
	for (i = 0; i < sizeof(restart_cases) / sizeof(restart_cases[0]); i++) {
		load_restart_case(&restart_cases[i], &next);
		assert_int_equal(config_restart_changes(&running, &next,
			&changes), 1);
		assert_string_equal(changes.keys[0], restart_cases[i].key);
		/* And back: the difference is the key, not its direction. */
		assert_int_equal(config_restart_changes(&next, &running,
			&changes), 1);
	}

	/* The policy and report.trusted are what reload applies. */
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; mtu = 9000; };\n"
		"policy: { mode = \"monitor-only\"; };\n"
		"report: { trusted = [ \"198.18.0.1/32\" ]; };\n"), 0);
	assert_int_equal(config_restart_changes(&running, &cfg, &changes), 1);
	assert_string_equal(changes.keys[0], "gateway.mtu");

	/* -e FILE outranks output.eve: a file that names another is no change. */
	running.eve_path_overridden = true;
	snprintf(running.output.path, sizeof(running.output.path),
		"/tmp/command-line.json");
	assert_int_equal(config_restart_changes(&running, &next, &changes), 1);
	assert_string_equal(changes.keys[0], "control.max_line");

	/* A difference in a group no listed key explains names the group. */
	next = running;
	next.detector.segment_arg = &next;
	assert_int_equal(config_restart_changes(&running, &next, &changes), 1);
	assert_string_equal(changes.keys[0], "detector");
}

static void
test_watchlists_changed(void **state)
{
	(void)state;
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"watchlists: { shares = ( { class = \"x\"; patterns = [ \"^a$\" ]; } ); };\n"),
		0);
	running = cfg;
	/* Moved down two lines: the same watchlists. */
	assert_int_equal(load("# moved\n\ngateway: { ports = [\"a\", \"b\"]; };\n"
		"watchlists: { shares = ( { class = \"x\"; patterns = [ \"^a$\" ]; } ); };\n"),
		0);
	assert_false(config_watchlists_changed(&running, &cfg));
	assert_int_equal(load("gateway: { ports = [\"a\", \"b\"]; };\n"
		"watchlists: { shares = ( { class = \"x\"; patterns = [ \"^b$\" ]; } ); };\n"),
		0);
	assert_true(config_watchlists_changed(&running, &cfg));
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
		cmocka_unit_test(test_stream_fragments),
		cmocka_unit_test(test_fragment_table_fits_the_pool),
		cmocka_unit_test(test_stream_segments_fit_the_pool),
		cmocka_unit_test(test_file_errors_name_the_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_error_list_is_bounded),
		cmocka_unit_test(test_string_does_not_include),
		cmocka_unit_test(test_restart_keys),
		cmocka_unit_test(test_watchlists_changed),
	};
	const struct CMUnitTest file_tests[] = {
		cmocka_unit_test(test_refuses_directory),
		cmocka_unit_test(test_refuses_fifo),
		cmocka_unit_test(test_refuses_devices),
		cmocka_unit_test(test_refuses_socket),
		cmocka_unit_test(test_refuses_dangling_symlink),
		cmocka_unit_test(test_refuses_big_sparse_file),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_refuses_unreadable),
		cmocka_unit_test(test_errors_name_the_included_file),
		cmocka_unit_test(test_include_of_a_missing_file),
		cmocka_unit_test(test_include_cycles),
		cmocka_unit_test(test_include_depth),
		cmocka_unit_test(test_include_count_and_total_size),
		cmocka_unit_test(test_include_syntax),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_policy_lines_name_the_file),
		cmocka_unit_test(test_redis_output),
	};
	int failed;

	/* A load that blocks (a FIFO read) fails the run instead of hanging. */
	alarm(60);
	failed = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("config files", file_tests,
		make_test_dir, remove_test_dir);
	return failed;
}
