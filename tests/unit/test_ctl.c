/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket: the JSON parser and writer, and the server in process
 * over a socket under a temporary directory (commands, malformed and
 * oversized requests, partial reads, many and slow clients, a second
 * instance, a refused peer; fairness: request deadlines, the per-uid
 * limit, eviction of the oldest idle client, trickling clients that
 * cannot lock others out), and the control { } loader.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <libconfig.h>

#include <rte_common.h>
#include <rte_eal.h>

#include "config.h"
#include "ctl.h"
#include "ctl_json.h"

#define REPLY_MAX (1 << 21)

static char dir[64];
static char sock_path[108];
static struct ctl_server *server;
static char reply[REPLY_MAX];

/* JSON */

static void
test_json_parse_values(void **state)
{
	char text[] = " {\"a\": [1, -2.5e3, true, false, null],"
		" \"s\": \"x\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\", \"o\": {}} ";
	struct ctl_json_node nodes[16];
	const struct ctl_json_node *a, *s;
	int n;

	(void)state;
	n = ctl_json_parse(text, nodes, 16, NULL, 0);
	assert_int_equal(n, 9);
	assert_int_equal(nodes[0].type, CTL_JSON_OBJECT);
	assert_int_equal(nodes[0].count, 3);
	a = ctl_json_member(nodes, &nodes[0], "a");
	assert_non_null(a);
	assert_int_equal(a->count, 5);
	assert_int_equal(nodes[a->child].type, CTL_JSON_NUMBER);
	assert_int_equal(nodes[a->child].len, 1);
	assert_memory_equal(nodes[nodes[a->child].next].str, "-2.5e3", 6);
	s = ctl_json_member(nodes, &nodes[0], "s");
	assert_string_equal(s->str, "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
	assert_null(ctl_json_member(nodes, &nodes[0], "missing"));
}

static void
expect_parse_error(const char *input, int expected, const char *message)
{
	struct ctl_json_node nodes[8];
	char text[256], error[128];

	snprintf(text, sizeof(text), "%s", input);
	assert_int_equal(ctl_json_parse(text, nodes, 8, error, sizeof(error)),
		expected);
	if (strstr(error, message) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", input, error,
			message);
}

static void
test_json_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("", -EINVAL, "unexpected end at byte 0");
	expect_parse_error("{\"a\":1,}", -EINVAL, "expected a member name");
	expect_parse_error("[1,]", -EINVAL, "unexpected character");
	expect_parse_error("{'a':1}", -EINVAL, "expected a member name");
	expect_parse_error("\"tab\there\"", -EINVAL, "control character");
	expect_parse_error("\"\\ud800\"", -EINVAL, "lone high surrogate");
	expect_parse_error("\"\\udc00\"", -EINVAL, "lone low surrogate");
	expect_parse_error("\"\\u0000\"", -EINVAL, "\\u0000");
	expect_parse_error("\"\\x\"", -EINVAL, "bad escape");
	expect_parse_error("\"\xc3\x28\"", -EINVAL, "invalid UTF-8");
	expect_parse_error("\"\xc0\xaf\"", -EINVAL, "invalid UTF-8");
	expect_parse_error("01", -EINVAL, "text after the value");
	expect_parse_error("1.", -EINVAL, "bad number");
	expect_parse_error("NaN", -EINVAL, "unexpected character");
	expect_parse_error("-x", -EINVAL, "bad number");
	expect_parse_error("{} {}", -EINVAL, "text after the value");
	expect_parse_error("[1,2,3,4,5,6,7,8]", -E2BIG, "too many values");
	expect_parse_error("\"open", -EINVAL, "unterminated string");
	{
		/* 15 containers nested: as deep as the writer writes back. */
		char deep[] = "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]";
		char deepest[] = "[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]";
		struct ctl_json_node nodes[32];
		struct ctl_json_writer w;
		char error[64], out[64];
		int i, n;

		assert_int_equal(ctl_json_parse(deep, nodes, 32, error,
			sizeof(error)), -E2BIG);
		assert_string_equal(error, "nested too deeply at byte 15");
		n = ctl_json_parse(deepest, nodes, 32, error, sizeof(error));
		assert_int_equal(n, 16);
		ctl_json_writer_init(&w, out, sizeof(out), NULL, NULL);
		for (i = 0; i < 15; i++)
			ctl_json_array_begin(&w, NULL);
		ctl_json_raw(&w, NULL, "1", 1);
		for (i = 0; i < 15; i++)
			ctl_json_array_end(&w);
		assert_true(ctl_json_complete(&w));
		assert_string_equal(out, "[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]");
	}
}

struct leaves {
	char text[1024];
};

static void
collect_leaf(void *arg, const char *path, const struct ctl_json_leaf *leaf)
{
	struct leaves *l = arg;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s=%s;", path,
		leaf->type == CTL_JSON_STRING || leaf->type == CTL_JSON_NUMBER ?
		leaf->str : leaf->type == CTL_JSON_TRUE ? "true" : "other");
}

static void
test_json_writer(void **state)
{
	struct leaves leaves = { .text = "" };
	struct ctl_json_writer w;
	char buf[256];

	(void)state;
	ctl_json_writer_init(&w, buf, sizeof(buf), collect_leaf, &leaves);
	ctl_json_object_begin(&w, NULL);
	ctl_json_str(&w, "s", "a\"b\\c\n\x01\xff\xc3\xa9");
	ctl_json_u64(&w, "u", UINT64_MAX);
	ctl_json_i64(&w, "i", -5);
	ctl_json_array_begin(&w, "ports");
	ctl_json_object_begin(&w, NULL);
	ctl_json_u64(&w, "rx", 7);
	ctl_json_object_end(&w);
	ctl_json_bool(&w, NULL, true);
	ctl_json_array_end(&w);
	ctl_json_double(&w, "d", 1.5);
	ctl_json_str(&w, "n", NULL);
	ctl_json_object_end(&w);
	assert_true(ctl_json_complete(&w));
	assert_string_equal(buf,
		"{\"s\":\"a\\\"b\\\\c\\n\\u0001\\ufffd\xc3\xa9\","
		"\"u\":18446744073709551615,\"i\":-5,"
		"\"ports\":[{\"rx\":7},true],\"d\":1.5,\"n\":null}");
	assert_string_equal(leaves.text,
		"s=a\"b\\c\n\x01\xff\xc3\xa9;u=18446744073709551615;i=-5;"
		"ports.0.rx=7;ports.1=true;d=1.5;n=other;");

	/* Overflow: never a truncated text that looks whole. */
	ctl_json_writer_init(&w, buf, 16, NULL, NULL);
	ctl_json_object_begin(&w, NULL);
	ctl_json_str(&w, "key", "a long value that does not fit");
	ctl_json_object_end(&w);
	assert_true(ctl_json_overflow(&w));
	assert_false(ctl_json_complete(&w));
	assert_true(strlen(buf) < 16);

	/* Misuse: a key in an array, none in an object, unbalanced ends. */
	ctl_json_writer_init(&w, buf, sizeof(buf), NULL, NULL);
	ctl_json_array_begin(&w, NULL);
	ctl_json_u64(&w, "k", 1);
	assert_false(ctl_json_complete(&w));
	ctl_json_writer_init(&w, buf, sizeof(buf), NULL, NULL);
	ctl_json_object_begin(&w, NULL);
	ctl_json_u64(&w, NULL, 1);
	assert_false(ctl_json_complete(&w));
	ctl_json_writer_init(&w, buf, sizeof(buf), NULL, NULL);
	ctl_json_object_begin(&w, NULL);
	ctl_json_array_end(&w);
	assert_false(ctl_json_complete(&w));
}

/* Server helpers */

static int
echo_command(void *ctx, const struct ctl_request *req, struct ctl_reply *r)
{
	unsigned int i;

	ctl_reply_str(r, "command", req->command);
	ctl_reply_str(r, "tag", ctx);
	ctl_reply_array_begin(r, "args");
	for (i = 0; i < req->argc; i++)
		ctl_reply_str(r, NULL, req->argv[i]);
	ctl_reply_array_end(r);
	return 0;
}

static int
fail_command(void *ctx, const struct ctl_request *req, struct ctl_reply *r)
{
	(void)ctx;
	ctl_reply_u64(r, "partial", 1);
	return ctl_reply_error(r, -ENOENT, "no rule matches %s",
		req->argc > 0 ? req->argv[0] : "nothing");
}

/* Writes <argv[0]> rows of 100 bytes. */
static int
rows_command(void *ctx, const struct ctl_request *req, struct ctl_reply *r)
{
	unsigned long i, rows = req->argc > 0 ?
		strtoul(req->argv[0], NULL, 10) : 10;
	char row[101];

	(void)ctx;
	memset(row, 'x', 100);
	row[100] = '\0';
	ctl_reply_array_begin(r, "rows");
	for (i = 0; i < rows && !ctl_reply_full(r); i++)
		ctl_reply_str(r, NULL, row);
	ctl_reply_array_end(r);
	return 0;
}

static int
misuse_command(void *ctx, const struct ctl_request *req, struct ctl_reply *r)
{
	(void)ctx;
	(void)req;
	ctl_reply_array_begin(r, "unclosed");
	return 0;
}

static int
counters_command(void *ctx, const struct ctl_request *req,
	struct ctl_reply *r)
{
	(void)ctx;
	(void)req;
	ctl_server_reply_counters(server, r, "control");
	return 0;
}

/* Limits of the next setup_server(); 0 takes the server's default. */
static unsigned int next_per_uid, next_request_ms;

static int
setup_server(void **state, unsigned int max_clients, unsigned int max_line,
	size_t max_reply, unsigned int idle_ms)
{
	struct ctl_params params;
	char group[16];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/smbgw-ctl-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/run/smbgw.sock", dir);
	snprintf(group, sizeof(group), "%u", (unsigned int)getegid());
	memset(&params, 0, sizeof(params));
	params.socket_path = sock_path;
	params.group = group;
	params.max_clients = max_clients;
	params.max_line = max_line;
	params.max_reply = max_reply;
	params.idle_timeout_ms = idle_ms;
	params.max_clients_per_uid = next_per_uid;
	params.request_timeout_ms = next_request_ms;
	next_per_uid = next_request_ms = 0;
	server = ctl_server_create(&params);
	if (server == NULL) {
		print_error("ctl_server_create: %s\n", strerror(errno));
		return -1;
	}
	if (ctl_register(server, "echo", echo_command, "e", "echo args") ||
			ctl_register(server, "policy", echo_command, "p",
				"policy") ||
			ctl_register(server, "policy check", echo_command,
				"pc", "which rule") ||
			ctl_register(server, "fail", fail_command, NULL,
				"fails") ||
			ctl_register(server, "rows", rows_command, NULL,
				"rows") ||
			ctl_register(server, "misuse", misuse_command, NULL,
				"bad reply") ||
			ctl_register(server, "counters", counters_command,
				NULL, "the server's counters"))
		return -1;
	return 0;
}

static int
setup_default(void **state)
{
	return setup_server(state, 4, 256, 4096, 60000);
}

static int
teardown_server(void **state)
{
	char cmd[128];

	(void)state;
	ctl_server_free(server);
	server = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

static int
connect_client(void)
{
	struct sockaddr_un addr;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr,
		sizeof(addr)), 0);
	return fd;
}

static void
send_text(int fd, const char *text)
{
	size_t len = strlen(text);

	assert_int_equal(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

/*
 * Polls the server until a whole line arrives on <fd>, into reply
 * (without the newline). Returns its length, or -1 on EOF / no reply
 * within about 2 s.
 */
static ssize_t
read_line(int fd)
{
	size_t len = 0;
	int round;
	ssize_t n;

	for (round = 0; round < 2000; round++) {
		ctl_server_poll(server, 1);
		for (;;) {
			n = recv(fd, reply + len, 1, MSG_DONTWAIT);
			if (n <= 0)
				break;
			if (reply[len] == '\n') {
				reply[len] = '\0';
				return (ssize_t)len;
			}
			len++;
			assert_true(len < sizeof(reply) - 1);
		}
		if (n == 0)
			return -1;
	}
	return -1;
}

/* Sends <request> and asserts that the reply is <expected>. */
static void
exchange(int fd, const char *request, const char *expected)
{
	send_text(fd, request);
	assert_true(read_line(fd) >= 0);
	assert_string_equal(reply, expected);
}

/* Server tests */

static void
test_help_lists_commands(void **state)
{
	int fd = connect_client();

	(void)state;
	send_text(fd, "help\n");
	assert_true(read_line(fd) > 0);
	assert_non_null(strstr(reply,
		"{\"ok\":true,\"command\":\"help\",\"result\":{\"commands\":["
		"{\"command\":\"help\",\"help\":\"list the commands\",\"telemetry\":null},"));
	assert_non_null(strstr(reply,
		"{\"command\":\"policy check\",\"help\":\"which rule\",\"telemetry\":null}"));
	close(fd);
}

static void
test_plain_and_json_requests(void **state)
{
	int fd = connect_client();

	(void)state;
	exchange(fd, "echo a b\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"a\",\"b\"]}}");
	/* The longest registered name wins; words or args, the same. */
	exchange(fd, "  policy   check 198.18.1.10\t198.18.2.20 445\r\n",
		"{\"ok\":true,\"command\":\"policy check\",\"result\":{\"command\":\"policy check\",\"tag\":\"pc\",\"args\":[\"198.18.1.10\",\"198.18.2.20\",\"445\"]}}");
	exchange(fd, "{\"command\": \"policy check\", \"args\": [\"198.18.1.10\", \"198.18.2.20\", 445]}\n",
		"{\"ok\":true,\"command\":\"policy check\",\"result\":{\"command\":\"policy check\",\"tag\":\"pc\",\"args\":[\"198.18.1.10\",\"198.18.2.20\",\"445\"]}}");
	exchange(fd, "{\"command\":\"policy\",\"args\":[\"check\",\"a b\"]}\n",
		"{\"ok\":true,\"command\":\"policy check\",\"result\":{\"command\":\"policy check\",\"tag\":\"pc\",\"args\":[\"a b\"]}}");
	exchange(fd, "policy reload\n",
		"{\"ok\":true,\"command\":\"policy\",\"result\":{\"command\":\"policy\",\"tag\":\"p\",\"args\":[\"reload\"]}}");
	exchange(fd, "{\"command\":\"echo\"}\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[]}}");
	close(fd);
}

static void
test_malformed_requests_keep_connection(void **state)
{
	int fd = connect_client();

	(void)state;
	exchange(fd, "{\"command\": \"echo\"\n",
		"{\"ok\":false,\"code\":\"bad_request\",\"error\":\"malformed JSON: expected ',' or '}' at byte 18\"}");
	exchange(fd, "{\"command\": 5}\n",
		"{\"ok\":false,\"code\":\"bad_request\",\"error\":\"\\\"command\\\" must be given as a string\"}");
	exchange(fd, "{\"command\": \"echo\", \"extra\": 1}\n",
		"{\"ok\":false,\"code\":\"bad_request\",\"error\":\"unexpected member \\\"extra\\\": a request has \\\"command\\\" and optionally \\\"args\\\", once each\"}");
	exchange(fd, "{\"command\": \"echo\", \"args\": [[1]]}\n",
		"{\"ok\":false,\"code\":\"bad_request\",\"error\":\"\\\"args\\\" must hold strings (without NUL) or short numbers\"}");
	exchange(fd, "{\"command\": \"echo\", \"args\": \"a\"}\n",
		"{\"ok\":false,\"code\":\"bad_request\",\"error\":\"\\\"args\\\" must be an array of strings or numbers\"}");
	exchange(fd, "[\"echo\"]\n",
		"{\"ok\":false,\"code\":\"bad_request\",\"error\":\"a request is an object {\\\"command\\\": ..., \\\"args\\\": [...]} or a plain line\"}");
	exchange(fd, "{\"command\":\"echo\",\"args\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}\n",
		"{\"ok\":false,\"command\":\"echo\",\"code\":\"bad_request\",\"error\":\"too many arguments (at most 16)\"}");
	exchange(fd, "{\"command\":\"echo\",\"args\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\",\"18\",\"19\",\"20\",\"21\",\"22\",\"23\"]}\n",
		"{\"ok\":false,\"code\":\"bad_request\",\"error\":\"request too complex: at most 16 arguments, no nesting (too many values at byte 122)\"}");
	/* Blank lines are not requests. */
	exchange(fd, "\n \r\necho ok\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"ok\"]}}");
	close(fd);
}

static void
test_unknown_command(void **state)
{
	int fd = connect_client();

	(void)state;
	exchange(fd, "polcy check a b\n",
		"{\"ok\":false,\"code\":\"unknown_command\",\"error\":\"unknown command \\\"polcy check\\\" (\\\"help\\\" lists the commands)\"}");
	exchange(fd, "echo still\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"still\"]}}");
	assert_int_equal(ctl_server_counters(server)->unknown_commands, 1);
	close(fd);
}

static void
test_handler_errors(void **state)
{
	int fd = connect_client();

	(void)state;
	/* What the handler wrote before failing is not sent. */
	exchange(fd, "fail 10.0.0.1\n",
		"{\"ok\":false,\"command\":\"fail\",\"code\":\"ENOENT\",\"error\":\"no rule matches 10.0.0.1\"}");
	exchange(fd, "rows 100\n",
		"{\"ok\":false,\"command\":\"rows\",\"code\":\"reply_too_large\",\"error\":\"the reply would exceed 4096 bytes; ask for less (a filter or limit)\"}");
	exchange(fd, "misuse\n",
		"{\"ok\":false,\"command\":\"misuse\",\"code\":\"internal\",\"error\":\"the command wrote a malformed reply (a bug; see the gateway log)\"}");
	send_text(fd, "rows 3\n");
	assert_true(read_line(fd) > 300);
	close(fd);
}

static void
test_oversized_lines(void **state)
{
	char line[600];
	int fd = connect_client();

	(void)state;
	/* max_line is 256: 256 bytes pass, 257 do not. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "echo ", 5);
	line[256] = '\n';
	line[257] = '\0';
	send_text(fd, line);
	assert_true(read_line(fd) > 0);
	assert_non_null(strstr(reply, "\"ok\":true"));

	line[256] = 'a';
	line[257] = '\n';
	line[258] = '\0';
	exchange(fd, line,
		"{\"ok\":false,\"code\":\"too_long\",\"error\":\"request longer than 256 bytes\"}");
	/* Much longer, in pieces: one error, the rest of the line dropped. */
	memset(line, 'a', sizeof(line));
	line[sizeof(line) - 1] = '\0';
	send_text(fd, line);
	assert_true(read_line(fd) > 0);
	assert_non_null(strstr(reply, "too_long"));
	send_text(fd, line);
	send_text(fd, "tail of the long line\necho next\n");
	assert_true(read_line(fd) > 0);
	assert_string_equal(reply,
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"next\"]}}");
	assert_int_equal(ctl_server_counters(server)->bad_requests, 2);
	close(fd);
}

static void
test_partial_reads(void **state)
{
	const char *request = "{\"command\": \"echo\", \"args\": [\"\\u00e9t\\u00e9\"]}\n";
	int fd = connect_client();
	size_t i;

	(void)state;
	for (i = 0; request[i] != '\0'; i++) {
		assert_int_equal(send(fd, request + i, 1, MSG_NOSIGNAL), 1);
		assert_int_equal(ctl_server_poll(server, 0),
			request[i + 1] == '\0' ? 1 : 0);
	}
	assert_true(read_line(fd) > 0);
	assert_string_equal(reply,
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"\xc3\xa9t\xc3\xa9\"]}}");
	close(fd);
}

static void
test_pipelined_and_half_closed(void **state)
{
	int fd = connect_client();
	char expected[128];
	int i;

	(void)state;
	/* Twelve requests in one write: more than one poll's budget. */
	for (i = 0; i < 12; i++) {
		snprintf(expected, sizeof(expected), "echo %d\n", i);
		send_text(fd, expected);
	}
	for (i = 0; i < 12; i++) {
		snprintf(expected, sizeof(expected),
			"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"%d\"]}}",
			i);
		assert_true(read_line(fd) > 0);
		assert_string_equal(reply, expected);
	}
	/* A last line without newline is answered when the peer shuts. */
	send_text(fd, "echo last");
	shutdown(fd, SHUT_WR);
	assert_true(read_line(fd) > 0);
	assert_non_null(strstr(reply, "\"args\":[\"last\"]"));
	assert_int_equal(read_line(fd), -1);
	assert_int_equal(ctl_server_clients(server), 0);
	close(fd);
}

static void
test_many_clients(void **state)
{
	int fds[4], extra, i;
	char request[32];

	(void)state;
	for (i = 0; i < 4; i++)
		fds[i] = connect_client();
	/* Interleaved: each client's request in halves. */
	for (i = 0; i < 4; i++)
		send_text(fds[i], "ec");
	ctl_server_poll(server, 0);
	for (i = 3; i >= 0; i--) {
		snprintf(request, sizeof(request), "ho %d\n", i);
		send_text(fds[i], request);
	}
	for (i = 0; i < 4; i++) {
		assert_true(read_line(fds[i]) > 0);
		snprintf(request, sizeof(request), "\"args\":[\"%d\"]", i);
		assert_non_null(strstr(reply, request));
	}
	assert_int_equal(ctl_server_clients(server), 4);
	/*
	 * A fifth takes the place of the oldest idle one (the first
	 * answered), which is told why and closed; the others go on.
	 */
	extra = connect_client();
	exchange(extra, "echo 5\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"5\"]}}");
	assert_true(read_line(fds[0]) > 0);
	assert_string_equal(reply,
		"{\"ok\":false,\"code\":\"evicted\",\"error\":\"closed while idle to admit another connection: the control socket was full\"}");
	assert_int_equal(read_line(fds[0]), -1);
	close(extra);
	exchange(fds[2], "echo x\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"x\"]}}");
	assert_int_equal(ctl_server_counters(server)->refused_busy, 0);
	assert_int_equal(ctl_server_counters(server)->evicted, 1);
	for (i = 0; i < 4; i++)
		close(fds[i]);
}

static int
setup_slow(void **state)
{
	next_request_ms = 300;
	return setup_server(state, 4, 64, 1 << 22, 60000);
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
test_slow_client(void **state)
{
	int slow = connect_client(), fast = connect_client();
	uint64_t start, longest = 0, t;
	int round;

	(void)state;
	/* About 3 MB of reply that the slow client never reads. */
	send_text(slow, "rows 30000\n");
	for (round = 0; round < 5; round++) {
		start = ms_now();
		ctl_server_poll(server, 0);
		t = ms_now() - start;
		longest = t > longest ? t : longest;
	}
	assert_true(longest < 200);
	/* Meanwhile others are served. */
	exchange(fast, "echo fast\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"fast\"]}}");
	/* After the idle timeout the slow one is closed and counted. */
	for (round = 0; round < 100 &&
			ctl_server_counters(server)->slow_closed == 0; round++)
		ctl_server_poll(server, 10);
	assert_int_equal(ctl_server_counters(server)->slow_closed, 1);
	close(slow);
	close(fast);
}

/* Fairness: deadlines, per-uid limit, eviction */

/*
 * Whether the server has closed <fd>: reads what is there (a goodbye
 * line goes to reply) without waiting. True on EOF or reset.
 */
static bool
peer_closed(int fd)
{
	char buf[512];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			snprintf(reply, sizeof(reply), "%s", buf);
			continue;
		}
		return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
	}
}

/* Polls the server for <ms> milliseconds. */
static void
poll_for(unsigned int ms)
{
	uint64_t end = ms_now() + ms;

	while (ms_now() < end)
		ctl_server_poll(server, 5);
}

static int
setup_deadline(void **state)
{
	next_request_ms = 400;
	return setup_server(state, 4, 256, 4096, 2000);
}

static void
test_request_deadline_from_first_byte(void **state)
{
	const char *request = "echo trickled\n";
	int trickler = connect_client(), steady = connect_client();
	uint64_t start, closed_at = 0;
	size_t i;

	(void)state;
	/*
	 * A byte every 100 ms: each would reset a per-byte timer (idle
	 * timeout 2 s), yet the request must be whole within 400 ms of its
	 * first byte. Meanwhile a client sending whole requests as often is
	 * never cut off: the deadline is per request.
	 */
	start = ms_now();
	reply[0] = '\0';
	for (i = 0; request[i] != '\0'; i++) {
		if (peer_closed(trickler)) {
			closed_at = ms_now();
			break;
		}
		send(trickler, request + i, 1, MSG_NOSIGNAL);
		exchange(steady, "echo steady\n",
			"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"steady\"]}}");
		poll_for(100);
	}
	assert_true(closed_at != 0);
	assert_true(closed_at - start >= 400);
	assert_true(closed_at - start < 1500);
	assert_string_equal(reply,
		"{\"ok\":false,\"code\":\"timeout\",\"error\":\"request not complete within 400 ms of its first byte\"}\n");
	assert_int_equal(ctl_server_counters(server)->deadline_expired, 1);
	assert_int_equal(ctl_server_counters(server)->idle_closed, 0);
	exchange(steady, "echo still\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"still\"]}}");
	close(trickler);
	close(steady);

	/* Blank lines are no request: the idle timeout (2 s) closes. */
	trickler = connect_client();
	start = ms_now();
	while (!peer_closed(trickler) && ms_now() - start < 4000) {
		send(trickler, "\n", 1, MSG_NOSIGNAL);
		poll_for(100);
	}
	assert_true(ms_now() - start >= 2000);
	assert_true(ms_now() - start < 3500);
	assert_int_equal(ctl_server_counters(server)->idle_closed, 1);
	assert_int_equal(ctl_server_counters(server)->deadline_expired, 1);
	close(trickler);
}

static int
setup_per_uid(void **state)
{
	next_per_uid = 2;
	return setup_server(state, 8, 256, 1 << 22, 60000);
}

/* Connects and asserts that the server turns it away with <expected>. */
static void
expect_refused(const char *expected)
{
	int fd = connect_client();

	assert_true(read_line(fd) > 0);
	assert_string_equal(reply, expected);
	assert_int_equal(read_line(fd), -1);
	close(fd);
}

#define EVICTED "{\"ok\":false,\"code\":\"evicted\",\"error\":\"closed while idle to admit another connection: the control socket was full\"}"

/* Asks for 3 MB that it will not read: a reply stays half sent. */
static void
stall(int fd)
{
	send_text(fd, "rows 30000\n");
	poll_for(20);
}

static void
test_per_uid_limit_and_eviction(void **state)
{
	int a = connect_client(), b = connect_client(), c, d;
	char expected[256];

	(void)state;
	exchange(a, "echo a\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"a\"]}}");
	poll_for(10);
	exchange(b, "echo b\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"b\"]}}");
	/* The uid's share (2) is full: its oldest idle one (a) gives way. */
	c = connect_client();
	exchange(c, "echo c\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"c\"]}}");
	assert_true(read_line(a) > 0);
	assert_string_equal(reply, EVICTED);
	assert_int_equal(read_line(a), -1);
	close(a);
	assert_int_equal(ctl_server_counters(server)->evicted, 1);
	assert_int_equal(ctl_server_clients(server), 2);

	/* Both busy sending replies: nobody to evict, the newcomer is refused. */
	stall(b);
	stall(c);
	snprintf(expected, sizeof(expected),
		"{\"ok\":false,\"code\":\"busy\",\"error\":\"uid %u has 2 control connections open, the most one user may (control.max_clients_per_uid); try again\"}",
		(unsigned int)getuid());
	expect_refused(expected);
	assert_int_equal(ctl_server_counters(server)->refused_uid, 1);
	assert_int_equal(ctl_server_counters(server)->refused_busy, 0);

	/* Replies unread for CTL_EVICT_STALLED_MS: readers that stopped. */
	poll_for(CTL_EVICT_STALLED_MS + 100);
	d = connect_client();
	exchange(d, "echo d\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"d\"]}}");
	assert_int_equal(ctl_server_counters(server)->evicted, 2);
	assert_int_equal(ctl_server_clients(server), 2);
	close(b);
	close(c);
	close(d);
}

static int
setup_shared(void **state)
{
	next_per_uid = 3;
	return setup_server(state, 3, 256, 4096, 60000);
}

/*
 * Another uid holding one connection, the oldest idle of all, is not
 * pushed out by a uid holding more (root only: setuid).
 */
static void
test_heavier_uid_evicts_its_own(void **state)
{
	int to_child[2], from_child[2], a, b, c, status = -1, round;
	char byte = 0;
	pid_t child;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(from_child), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct sockaddr_un addr;
		char buf[512];
		ssize_t n, len;
		int fd, i;

		/* The socket's group (ours) keeps it a permitted peer. */
		if (setgroups(0, NULL) != 0 || setgid(getegid()) != 0 ||
				setuid(65534) != 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		memset(&addr, 0, sizeof(addr));
		addr.sun_family = AF_UNIX;
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
			_exit(11);
		/* Served once, then idle until told, then served again. */
		for (i = 0; i < 2; i++) {
			send(fd, "echo other\n", 11, MSG_NOSIGNAL);
			len = 0;
			while (len < (ssize_t)sizeof(buf) - 1 &&
					memchr(buf, '\n', (size_t)len) == NULL &&
					(n = recv(fd, buf + len,
						sizeof(buf) - 1 - len, 0)) > 0)
				len += n;
			buf[len] = '\0';
			if (strstr(buf, "\"args\":[\"other\"]") == NULL)
				_exit(12 + i);
			if (i == 0 && (write(from_child[1], "r", 1) != 1 ||
					read(to_child[0], buf, 1) != 1))
				_exit(14);
		}
		_exit(0);
	}
	close(to_child[0]);
	close(from_child[1]);
	assert_int_equal(fcntl(from_child[0], F_SETFL, O_NONBLOCK), 0);
	for (round = 0; round < 500 && read(from_child[0], &byte, 1) != 1;
			round++)
		ctl_server_poll(server, 10);
	assert_int_equal(byte, 'r');

	/* Root fills the server; its newcomer takes root's oldest, a. */
	a = connect_client();
	exchange(a, "echo a\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"a\"]}}");
	b = connect_client();
	exchange(b, "echo b\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"b\"]}}");
	c = connect_client();
	exchange(c, "echo c\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"c\"]}}");
	assert_true(read_line(a) > 0);
	assert_string_equal(reply, EVICTED);

	assert_int_equal(write(to_child[1], "q", 1), 1);
	for (round = 0; round < 500; round++) {
		ctl_server_poll(server, 10);
		if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(ctl_server_counters(server)->evicted, 1);
	close(to_child[1]);
	close(from_child[0]);
	close(a);
	close(b);
	close(c);
}

static int
setup_small(void **state)
{
	return setup_server(state, 3, 256, 1 << 22, 60000);
}

static void
test_full_server_evicts_oldest_idle(void **state)
{
	int silent = connect_client(), t1, t2, n1, n2, n3;

	(void)state;
	poll_for(10);
	t1 = connect_client();
	poll_for(10);
	t2 = connect_client();
	send_text(t1, "ec");
	send_text(t2, "ec");
	poll_for(20);
	assert_int_equal(ctl_server_clients(server), 3);

	/* Full: the silent one, connected first, gives way. */
	n1 = connect_client();
	exchange(n1, "echo n1\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"n1\"]}}");
	assert_true(read_line(silent) > 0);
	assert_string_equal(reply, EVICTED);
	/* Then the oldest trickler: trickled bytes do not make it younger. */
	send_text(t1, "h");
	poll_for(10);
	n2 = connect_client();
	exchange(n2, "echo n2\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"n2\"]}}");
	assert_true(peer_closed(t1));
	assert_string_equal(reply, EVICTED "\n");
	assert_false(peer_closed(t2));
	assert_int_equal(ctl_server_counters(server)->evicted, 2);

	/* All three with a reply on its way: busy, and counted. */
	send_text(t2, "ho t2\n");
	assert_true(read_line(t2) > 0);
	stall(t2);
	stall(n1);
	stall(n2);
	expect_refused("{\"ok\":false,\"code\":\"busy\",\"error\":\"too many control connections; try again\"}");
	assert_int_equal(ctl_server_counters(server)->refused_busy, 1);
	/* Until one of them has left its reply unread for too long. */
	poll_for(CTL_EVICT_STALLED_MS + 100);
	n3 = connect_client();
	exchange(n3, "echo n3\n",
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"n3\"]}}");
	assert_int_equal(ctl_server_counters(server)->evicted, 3);
	close(silent);
	close(t1);
	close(t2);
	close(n1);
	close(n2);
	close(n3);
}

static int
setup_acceptance(void **state)
{
	next_per_uid = 16;
	next_request_ms = 1000;
	return setup_server(state, 16, 256, 4096, 1500);
}

#define TRICKLERS 16
#define TRICKLE_MS 200

/*
 * Like smbgwctl: connects, sends <request>, and on "busy" or "evicted"
 * tries again with growing pauses for up to 2 s, all the while keeping
 * the server and the tricklers going through <tick>. Returns the
 * milliseconds until a reply other than busy, or -1.
 */
static long
timed_request(const char *request, void (*tick)(void))
{
	uint64_t start = ms_now(), next_try = start;
	unsigned int pause_ms = 50;
	size_t len = 0;
	int fd = -1;

	while (ms_now() - start < 10000) {
		tick();
		if (fd < 0 && ms_now() >= next_try) {
			fd = connect_client();
			send_text(fd, request);
			len = 0;
		}
		if (fd < 0)
			continue;
		while (recv(fd, reply + len, 1, MSG_DONTWAIT) == 1) {
			if (reply[len] != '\n') {
				len++;
				continue;
			}
			reply[len] = '\0';
			close(fd);
			fd = -1;
			if (strstr(reply, "\"code\":\"busy\"") == NULL &&
					strstr(reply, "\"code\":\"evicted\"") == NULL)
				return (long)(ms_now() - start);
			next_try = ms_now() + pause_ms;
			pause_ms *= 2;
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

static int tricklers[TRICKLERS + 1];	/* the last one stays silent */
static uint64_t next_trickle;
static bool reconnect;
static uint64_t reconnects;

/*
 * One step of the attack: polls the server; every TRICKLE_MS each
 * trickler sends one more byte of a request that never ends; with
 * <reconnect>, a client the server closed connects again at once.
 */
static void
trickle_tick(void)
{
	unsigned int i;

	ctl_server_poll(server, 2);
	for (i = 0; i <= TRICKLERS; i++) {
		if (tricklers[i] >= 0 && !peer_closed(tricklers[i]))
			continue;
		if (tricklers[i] >= 0) {
			close(tricklers[i]);
			tricklers[i] = -1;
		}
		if (!reconnect)
			continue;
		tricklers[i] = connect_client();
		reconnects++;
	}
	if (ms_now() < next_trickle)
		return;
	next_trickle = ms_now() + TRICKLE_MS;
	for (i = 0; i < TRICKLERS; i++)
		if (tricklers[i] >= 0)
			send(tricklers[i], "e", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void
trickle_for(unsigned int ms)
{
	uint64_t until = ms_now() + ms;

	while (ms_now() < until)
		trickle_tick();
}

/* Asks for status while the attack goes on: answered within 5 s. */
static void
expect_status_answered(void)
{
	long took = timed_request("echo status\n", trickle_tick);

	print_message("status answered in %ld ms\n", took);
	assert_true(took >= 0);
	assert_true(took < 5000);
	assert_non_null(strstr(reply, "\"args\":[\"status\"]"));
}

/*
 * The acceptance case, scaled down in time: 16 clients trickle a byte
 * every 200 ms (a per-byte idle timer of 1.5 s would never fire) and one
 * more connects and stays silent; a status request is still answered
 * within 5 s. First the tricklers stay closed once closed (they run
 * into the 1 s request deadline); then they reconnect at once, forever.
 */
static void
test_trickling_clients_cannot_lock_out(void **state)
{
	unsigned int i, round;

	(void)state;
	reconnects = 0;
	next_trickle = 0;
	for (i = 0; i <= TRICKLERS; i++)
		tricklers[i] = connect_client();
	reconnect = false;
	trickle_for(300);
	assert_int_equal(ctl_server_clients(server), 16);
	expect_status_answered();
	trickle_for(1200);
	assert_true(ctl_server_counters(server)->deadline_expired >= 14);

	reconnect = true;
	for (round = 0; round < 3; round++) {
		trickle_for(700);
		expect_status_answered();
	}
	print_message("evicted %" PRIu64 ", deadline_expired %" PRIu64
		", refused_busy %" PRIu64 ", reconnects %" PRIu64 "\n",
		ctl_server_counters(server)->evicted,
		ctl_server_counters(server)->deadline_expired,
		ctl_server_counters(server)->refused_busy, reconnects);
	assert_true(ctl_server_counters(server)->evicted > 0);
	for (i = 0; i <= TRICKLERS; i++)
		if (tricklers[i] >= 0)
			close(tricklers[i]);
}

static void
test_counters_reply(void **state)
{
	int fd = connect_client();

	(void)state;
	send_text(fd, "echo {\n");
	assert_true(read_line(fd) > 0);
	send_text(fd, "{\"command\":1}\n");
	assert_true(read_line(fd) > 0);
	send_text(fd, "counters\n");
	assert_true(read_line(fd) > 0);
	assert_string_equal(reply,
		"{\"ok\":true,\"command\":\"counters\",\"result\":{\"control\":{"
		"\"clients\":1,\"max_clients\":4,\"max_clients_per_uid\":8,"
		"\"accepted\":1,\"refused_busy\":0,\"refused_uid\":0,"
		"\"refused_peer\":0,\"evicted\":0,\"idle_closed\":0,"
		"\"deadline_expired\":0,\"slow_closed\":0,\"requests\":3,"
		"\"bad_requests\":1,\"unknown_commands\":0,"
		"\"failed_commands\":0,\"oversized_replies\":0,"
		"\"telemetry_requests\":0}}}");
	close(fd);
}

static void
test_second_instance_and_stale_socket(void **state)
{
	struct ctl_params params;
	struct sockaddr_un addr;
	struct stat st;
	char path[96];
	int fd;

	(void)state;
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, getegid());
	memset(&params, 0, sizeof(params));
	params.socket_path = sock_path;
	params.group = "0";
	errno = 0;
	assert_null(ctl_server_create(&params));
	assert_int_equal(errno, EADDRINUSE);

	/* A stale socket (nobody listening) is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	params.socket_path = path;
	{
		struct ctl_server *other = ctl_server_create(&params);

		assert_non_null(other);
		ctl_server_free(other);
		assert_int_equal(stat(path, &st), -1);
	}

	/* A file that is not a socket is left alone. */
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	params.socket_path = path;
	errno = 0;
	assert_null(ctl_server_create(&params));
	assert_int_equal(errno, EEXIST);
	params.group = "no-such-group-here";
	snprintf(path, sizeof(path), "%s/other.sock", dir);
	errno = 0;
	assert_null(ctl_server_create(&params));
	assert_int_equal(errno, ENOENT);
}

static void
test_execute_in_process(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(ctl_execute(server, "echo local", out, sizeof(out)), 0);
	assert_string_equal(out,
		"{\"ok\":true,\"command\":\"echo\",\"result\":{\"command\":\"echo\",\"tag\":\"e\",\"args\":[\"local\"]}}");
	assert_int_equal(ctl_execute(server, "fail", out, sizeof(out)),
		-ENOENT);
	assert_int_equal(ctl_execute(server, "nope", out, sizeof(out)),
		-ENOENT);
	assert_int_equal(ctl_execute(server, "echo local", out, 20),
		-ENOBUFS);
	assert_int_equal(ctl_register(server, "echo", echo_command, NULL, ""),
		-EEXIST);
	assert_int_equal(ctl_register(server, "Bad", echo_command, NULL, ""),
		-EINVAL);
	assert_int_equal(ctl_register(server, "two  spaces", echo_command,
		NULL, ""), -EINVAL);
}

static void
test_refused_peer(void **state)
{
	char dir_run[160];
	pid_t child;
	int status = -1, round;

	(void)state;
	if (geteuid() != 0)
		skip();
	/* Open the file modes so that only the credential check remains. */
	snprintf(dir_run, sizeof(dir_run), "%s/run", dir);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(dir_run, 0755), 0);
	assert_int_equal(chmod(sock_path, 0666), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct sockaddr_un addr;
		char buf[256];
		ssize_t n, len = 0;
		int fd;

		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
				setuid(65534) != 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		memset(&addr, 0, sizeof(addr));
		addr.sun_family = AF_UNIX;
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
			_exit(11);
		send(fd, "help\n", 5, MSG_NOSIGNAL);
		while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
			len += n;
		buf[len] = '\0';
		_exit(strstr(buf, "\"code\":\"permission_denied\"") != NULL ?
			0 : 12);
	}
	for (round = 0; round < 500; round++) {
		ctl_server_poll(server, 10);
		if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(ctl_server_counters(server)->refused_peer, 1);
}

/* Telemetry: a client thread asks DPDK's socket while this one polls. */

static const char *const tel_requests[] = {
	"/smbgw/echo,a,b",
	"/smbgw/policy_check,198.18.1.10 445",
	"/smbgw/fail,z",
	"/",
};
#define TEL_REQUESTS RTE_DIM(tel_requests)

static char tel_replies[TEL_REQUESTS][2048];
static volatile bool tel_done;

static void *
tel_client(void *arg)
{
	struct sockaddr_un addr;
	char info[1024];
	unsigned int i;
	ssize_t n;
	int fd;

	(void)arg;
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path),
		"%s/dpdk_telemetry.v2", rte_eal_get_runtime_dir());
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr,
			sizeof(addr)) == 0 &&
			recv(fd, info, sizeof(info), 0) > 0) {
		for (i = 0; i < TEL_REQUESTS; i++) {
			send(fd, tel_requests[i], strlen(tel_requests[i]), 0);
			n = recv(fd, tel_replies[i], sizeof(tel_replies[i]) - 1,
				0);
			if (n <= 0)
				break;
			tel_replies[i][n] = '\0';
		}
	}
	if (fd >= 0)
		close(fd);
	tel_done = true;
	return NULL;
}

static void
test_telemetry(void **state)
{
	pthread_t thread;
	int round;

	(void)state;
	assert_int_equal(ctl_telemetry_register(server, "echo"), 0);
	assert_int_equal(ctl_telemetry_register(server, "policy check"), 0);
	assert_int_equal(ctl_telemetry_register(server, "fail"), 0);
	assert_int_equal(ctl_telemetry_register(server, "nope"), -ENOENT);
	tel_done = false;
	assert_int_equal(pthread_create(&thread, NULL, tel_client, NULL), 0);
	for (round = 0; round < 500 && !tel_done; round++)
		ctl_server_poll(server, 10);
	pthread_join(thread, NULL);
	assert_string_equal(tel_replies[0],
		"{\"/smbgw/echo\":{\"command\":\"echo\",\"tag\":\"e\",\"args/0\":\"a\",\"args/1\":\"b\"}}");
	assert_string_equal(tel_replies[1],
		"{\"/smbgw/policy_check\":{\"command\":\"policy check\",\"tag\":\"pc\",\"args/0\":\"198.18.1.10\",\"args/1\":\"445\"}}");
	assert_string_equal(tel_replies[2],
		"{\"/smbgw/fail\":{\"code\":\"ENOENT\",\"error\":\"no rule matches z\"}}");
	assert_non_null(strstr(tel_replies[3], "\"/smbgw/policy_check\""));
	assert_int_equal(ctl_server_counters(server)->telemetry_requests, 3);
}

/* Configuration */

static int
load_control(const char *text, struct ctl_config *cfg,
	struct config_errors *errors)
{
	config_t lc;
	int ret;

	memset(errors, 0, sizeof(*errors));
	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE)
		fail_msg("bad test config: %s", config_error_text(&lc));
	ret = ctl_config_load(config_lookup(&lc, "control"), "test.conf", cfg,
		errors);
	config_destroy(&lc);
	return ret;
}

static void
test_config_loader(void **state)
{
	struct config_errors errors;
	struct ctl_config cfg;
	struct ctl_params params;

	(void)state;
	assert_int_equal(load_control("gateway: {};", &cfg, &errors), 0);
	assert_string_equal(cfg.socket_path, "/run/smbgw/smbgw.sock");
	assert_string_equal(cfg.group, "root");
	assert_int_equal(cfg.max_clients, 16);
	assert_int_equal(cfg.max_clients_per_uid, 8);
	assert_int_equal(cfg.max_line, 4096);
	assert_int_equal(cfg.request_timeout_ms, 10000);
	assert_int_equal(cfg.idle_timeout_s, 60);

	assert_int_equal(load_control("control: { socket = \"/tmp/x/gw.sock\";\n"
		"group = \"0\"; max_clients = 2; max_line = 100;\n"
		"max_clients_per_uid = 1; request_timeout_ms = 2500;\n"
		"idle_timeout = 5; };",
		&cfg, &errors), 0);
	ctl_params_from_config(&params, &cfg);
	assert_string_equal(params.socket_path, "/tmp/x/gw.sock");
	assert_string_equal(params.group, "0");
	assert_int_equal(params.max_clients, 2);
	assert_int_equal(params.max_line, 100);
	assert_int_equal(params.max_clients_per_uid, 1);
	assert_int_equal(params.request_timeout_ms, 2500);
	assert_int_equal(params.idle_timeout_ms, 5000);

	assert_int_equal(load_control("control: {\n"
		"  socket = \"relative.sock\";\n"
		"  group = \"no-such-group-here\";\n"
		"  max_clients = 0;\n"
		"  max_line = \"big\";\n"
		"  colour = 1;\n"
		"  max_clients_per_uid = 0;\n"
		"  request_timeout_ms = 50;\n"
		"  idle_timeout = 0;\n"
		"};", &cfg, &errors), -EINVAL);
	assert_int_equal(errors.count, 8);
	assert_string_equal(errors.messages[0],
		"test.conf:2: control.socket = \"relative.sock\" must be an absolute file path shorter than 108 bytes");
	assert_string_equal(errors.messages[1],
		"test.conf:3: control.group = \"no-such-group-here\" is not a group on this system");
	assert_string_equal(errors.messages[2],
		"test.conf:4: control.max_clients = 0 is out of range [1, 1024]");
	assert_string_equal(errors.messages[3],
		"test.conf:5: control.max_line must be an integer, not a string");
	assert_string_equal(errors.messages[4],
		"test.conf:6: unknown key control.colour");
	assert_string_equal(errors.messages[5],
		"test.conf:7: control.max_clients_per_uid = 0 is out of range [1, 1024]");
	assert_string_equal(errors.messages[6],
		"test.conf:8: control.request_timeout_ms = 50 is out of range [100, 600000]");
	assert_string_equal(errors.messages[7],
		"test.conf:9: control.idle_timeout = 0 is out of range [1, 86400]");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_parse_values),
		cmocka_unit_test(test_json_parse_errors),
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test_setup_teardown(test_help_lists_commands,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_plain_and_json_requests,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(
			test_malformed_requests_keep_connection,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_unknown_command,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_handler_errors,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_oversized_lines,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_partial_reads,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_pipelined_and_half_closed,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_many_clients,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_slow_client,
			setup_slow, teardown_server),
		cmocka_unit_test_setup_teardown(
			test_request_deadline_from_first_byte,
			setup_deadline, teardown_server),
		cmocka_unit_test_setup_teardown(
			test_per_uid_limit_and_eviction,
			setup_per_uid, teardown_server),
		cmocka_unit_test_setup_teardown(test_heavier_uid_evicts_its_own,
			setup_shared, teardown_server),
		cmocka_unit_test_setup_teardown(
			test_full_server_evicts_oldest_idle,
			setup_small, teardown_server),
		cmocka_unit_test_setup_teardown(
			test_trickling_clients_cannot_lock_out,
			setup_acceptance, teardown_server),
		cmocka_unit_test_setup_teardown(test_counters_reply,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(
			test_second_instance_and_stale_socket,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_execute_in_process,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_refused_peer,
			setup_default, teardown_server),
		cmocka_unit_test_setup_teardown(test_telemetry,
			setup_default, teardown_server),
		cmocka_unit_test(test_config_loader),
	};
	char prefix[64];
	char *argv[] = { "test_ctl", "--no-huge", "-m", "64", "--no-pci",
		"--no-shconf", "--log-level=lib.eal:error",
		"--log-level=lib.telemetry:error", "-l", "0",
		"--file-prefix", prefix };
	char runtime_dir[256], tel_socket[300];
	int failed;

	signal(SIGPIPE, SIG_IGN);
	/* EAL only for its telemetry socket. */
	snprintf(prefix, sizeof(prefix), "test-ctl-%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return 1;
	failed = cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	/* Telemetry removes its socket only at exit, after our rmdir. */
	snprintf(tel_socket, sizeof(tel_socket), "%s/dpdk_telemetry.v2",
		runtime_dir);
	unlink(tel_socket);
	rmdir(runtime_dir);
	return failed;
}
