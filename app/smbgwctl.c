/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smbgwctl: sends one command to a running gateway's control socket and
 * prints the reply, as readable tables or (--json) as the raw JSON line.
 * The rendering is generic (objects become "key value" lines, arrays of
 * objects become tables), so a command added to the gateway needs nothing
 * here. A gateway whose socket is full answers "busy": the request is
 * sent again for up to 2 s before that is reported.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"
#include "ctl_json.h"
#include "redis_view.h"
#include "report.h"

#ifndef SMBGW_VERSION
#define SMBGW_VERSION "unknown"
#endif

/* Exit statuses, documented in usage() and docs/operations.md. */
enum ctl_exit {
	EXIT_OK = 0,
	EXIT_COMMAND_FAILED = 1,	/* the gateway answered with an error */
	EXIT_USAGE = 2,
	EXIT_NOT_RUNNING = 3,		/* no socket, nobody listening, no answer */
	EXIT_DENIED = 4,		/* socket or gateway refused us */
};

#define REQUEST_MAX 65536
#define REPLY_MAX (64u << 20)
#define CELL_MAX 256
#define TABLE_COLUMNS_MAX 32
#define TIMEOUT_DEFAULT_S 30
/* "busy" (or "evicted" before an answer): try again for this long. */
#define BUSY_RETRY_MS 2000
#define BUSY_BACKOFF_FIRST_MS 50
#define BUSY_BACKOFF_MAX_MS 400

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: smbgwctl [-s SOCKET] [--json] [-t SECONDS] COMMAND [ARGS...]\n"
		"\n"
		"Sends COMMAND to the smbgw control socket and prints the reply.\n"
		"\"smbgwctl help\" lists the commands the running gateway knows.\n"
		"\n"
		"  -s, --socket PATH   control socket (default $SMBGW_SOCKET, else %s)\n"
		"  -j, --json          print the reply as one JSON line, for scripts\n"
		"  -t, --timeout SEC   wait at most SEC seconds for the reply (default %d)\n"
		"  -h, --help          this text\n"
		"  -V, --version       smbgwctl's version\n"
		"\n"
		"The merged view of many gateways, from their Redis (no socket):\n"
		"  smbgwctl report --redis HOST:PORT [--date YYYY-MM-DD] [--gateway NAME] [csv]\n"
		"  smbgwctl alerts --redis HOST:PORT [--mode list|stream|pubsub]\n"
		"                  [--key KEY] [--follow]\n"
		"  with [--report-key KEY] [--user USER] [--password-file FILE]\n"
		"  (or $SMBGW_REDIS_PASSWORD) as in output.redis.\n"
		"\n"
		"A gateway that answers \"busy\" (all control connections taken) is\n"
		"asked again for up to 2 s.\n"
		"\n"
		"Exit status: 0 done; 1 the gateway refused or failed the command;\n"
		"2 usage error; 3 gateway not running or not answering; 4 permission denied.\n",
		CTL_SOCKET_DEFAULT, TIMEOUT_DEFAULT_S);
}

/* Connects to <path>; on failure says why and returns -(exit status). */
static int
connect_gateway(const char *path)
{
	struct sockaddr_un addr;
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "smbgwctl: socket path too long: %s\n", path);
		return -EXIT_USAGE;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "smbgwctl: socket: %s\n", strerror(errno));
		return -EXIT_NOT_RUNNING;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	err = errno;
	close(fd);
	switch (err) {
	case ENOENT:
		fprintf(stderr,
			"smbgwctl: smbgw is not running: no control socket at %s\n"
			"  (start the gateway, or give its control.socket with -s)\n",
			path);
		return -EXIT_NOT_RUNNING;
	case ECONNREFUSED:
		fprintf(stderr,
			"smbgwctl: smbgw is not running: nothing listens on %s (a stale socket)\n",
			path);
		return -EXIT_NOT_RUNNING;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"smbgwctl: permission denied on %s: run as root or as a member of the gateway's control group (control.group)\n",
			path);
		return -EXIT_DENIED;
	case ENOTSOCK:
		fprintf(stderr, "smbgwctl: %s is not a socket\n", path);
		return -EXIT_NOT_RUNNING;
	default:
		fprintf(stderr, "smbgwctl: cannot connect to %s: %s\n", path,
			strerror(err));
		return -EXIT_NOT_RUNNING;
	}
}

/*
 * {"command": ARGV[0], "args": [ARGV[1..]]}: the gateway joins the words
 * and finds the longest registered name, so "policy check A B" works.
 */
static int
build_request(char *buf, size_t size, int argc, char **argv)
{
	struct ctl_json_writer w;
	int i;

	ctl_json_writer_init(&w, buf, size - 1, NULL, NULL);
	ctl_json_object_begin(&w, NULL);
	ctl_json_str(&w, "command", argv[0]);
	ctl_json_array_begin(&w, "args");
	for (i = 1; i < argc; i++)
		ctl_json_str(&w, NULL, argv[i]);
	ctl_json_array_end(&w);
	ctl_json_object_end(&w);
	if (!ctl_json_complete(&w))
		return -1;
	buf[ctl_json_length(&w)] = '\n';
	return (int)ctl_json_length(&w) + 1;
}

static int
send_request(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		/* A refusing gateway may close first: its reply still waits. */
		if (n < 0)
			return errno == EPIPE || errno == ECONNRESET ? 0 : -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reads one reply line (newline removed) into a malloc'd buffer. Returns
 * it, or NULL after saying why (*status set).
 */
static char *
read_reply(int fd, int timeout_s, int *status)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap), *grown;
	struct timespec start, now;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long waited_ms;
	ssize_t n;
	char *nl;

	*status = EXIT_NOT_RUNNING;
	if (buf == NULL) {
		fprintf(stderr, "smbgwctl: out of memory\n");
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited_ms = (now.tv_sec - start.tv_sec) * 1000 +
			(now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited_ms >= (long)timeout_s * 1000 ||
				poll(&pfd, 1, (int)((long)timeout_s * 1000 -
					waited_ms)) == 0) {
			fprintf(stderr,
				"smbgwctl: no reply within %d s: the gateway is not answering\n",
				timeout_s);
			break;
		}
		if (len + 1 == cap) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr,
					"smbgwctl: reply longer than %u bytes\n",
					REPLY_MAX);
				break;
			}
			grown = realloc(buf, cap * 2);
			if (grown == NULL) {
				fprintf(stderr, "smbgwctl: out of memory\n");
				break;
			}
			buf = grown;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr,
				"smbgwctl: the gateway closed the connection without a reply%s%s\n",
				n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			break;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl != NULL) {
			*nl = '\0';
			*status = EXIT_OK;
			return buf;
		}
	}
	free(buf);
	return NULL;
}

static long
ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
		(now.tv_nsec - start->tv_nsec) / 1000000;
}

/*
 * True when <line> is an error reply that means "not now": the socket
 * was full ("busy"), or this connection was closed while idle to admit
 * another ("evicted"); the request did not run, so it may be sent again.
 */
static bool
is_busy_reply(const char *line)
{
	struct ctl_json_node nodes[16];
	const struct ctl_json_node *code;
	char copy[1024];

	if (strncmp(line, "{\"ok\":false", 11) != 0 ||
			strlen(line) >= sizeof(copy))
		return false;
	memcpy(copy, line, strlen(line) + 1);
	if (ctl_json_parse(copy, nodes, (unsigned int)(sizeof(nodes) / sizeof(nodes[0])), NULL, 0) < 0 ||
			nodes[0].type != CTL_JSON_OBJECT)
		return false;
	code = ctl_json_member(nodes, &nodes[0], "code");
	return code != NULL && code->type == CTL_JSON_STRING &&
		(strcmp(code->str, "busy") == 0 ||
		 strcmp(code->str, "evicted") == 0);
}

/*
 * Connects, sends <request> and reads the reply, trying again for up to
 * BUSY_RETRY_MS (with growing pauses, within <timeout_s> in all) while
 * the gateway answers "busy". Returns the reply line (malloc'd), or NULL
 * after saying why, with *status set.
 */
static char *
run_request(const char *path, const char *request, size_t len, int timeout_s,
	int *status)
{
	unsigned int pause_ms = BUSY_BACKOFF_FIRST_MS;
	struct timespec start;
	char *reply;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		fd = connect_gateway(path);
		if (fd < 0) {
			*status = -fd;
			return NULL;
		}
		if (send_request(fd, request, len) != 0) {
			fprintf(stderr, "smbgwctl: cannot send to %s: %s\n",
				path, strerror(errno));
			close(fd);
			*status = EXIT_NOT_RUNNING;
			return NULL;
		}
		reply = read_reply(fd, timeout_s, status);
		close(fd);
		if (reply == NULL || !is_busy_reply(reply) ||
				ms_since(&start) + pause_ms > BUSY_RETRY_MS ||
				ms_since(&start) + pause_ms >=
					(long)timeout_s * 1000)
			return reply;
		free(reply);
		usleep(pause_ms * 1000);
		pause_ms = pause_ms * 2 > BUSY_BACKOFF_MAX_MS ?
			BUSY_BACKOFF_MAX_MS : pause_ms * 2;
	}
}

/* Rendering */

static bool
is_scalar(const struct ctl_json_node *node)
{
	return node->type != CTL_JSON_ARRAY && node->type != CTL_JSON_OBJECT;
}

/* Writes <node> as compact JSON into the writer. */
static void
write_node(struct ctl_json_writer *w, const struct ctl_json_node *nodes,
	const struct ctl_json_node *node, const char *key)
{
	char number[64];
	int i;

	switch (node->type) {
	case CTL_JSON_OBJECT:
	case CTL_JSON_ARRAY:
		if (node->type == CTL_JSON_OBJECT)
			ctl_json_object_begin(w, key);
		else
			ctl_json_array_begin(w, key);
		for (i = node->child; i >= 0; i = nodes[i].next)
			write_node(w, nodes, &nodes[i],
				node->type == CTL_JSON_OBJECT ?
				nodes[i].key : NULL);
		if (node->type == CTL_JSON_OBJECT)
			ctl_json_object_end(w);
		else
			ctl_json_array_end(w);
		break;
	case CTL_JSON_STRING:
		ctl_json_str(w, key, node->str);
		break;
	case CTL_JSON_NUMBER:
		snprintf(number, sizeof(number), "%.*s", (int)node->len,
			node->str);
		ctl_json_raw(w, key, number, strlen(number));
		break;
	case CTL_JSON_TRUE:
	case CTL_JSON_FALSE:
		ctl_json_bool(w, key, node->type == CTL_JSON_TRUE);
		break;
	default:
		ctl_json_str(w, key, NULL);
	}
}

/* The text of <node> in a table cell or after a key. */
static const char *
cell_text(const struct ctl_json_node *nodes, const struct ctl_json_node *node,
	char *buf, size_t size)
{
	struct ctl_json_writer w;

	switch (node->type) {
	case CTL_JSON_STRING:
		snprintf(buf, size, "%s", node->str);
		break;
	case CTL_JSON_NUMBER:
		snprintf(buf, size, "%.*s", (int)node->len, node->str);
		break;
	case CTL_JSON_TRUE:
		snprintf(buf, size, "yes");
		break;
	case CTL_JSON_FALSE:
		snprintf(buf, size, "no");
		break;
	case CTL_JSON_NULL:
		snprintf(buf, size, "-");
		break;
	default:
		ctl_json_writer_init(&w, buf, size, NULL, NULL);
		write_node(&w, nodes, node, NULL);
		if (ctl_json_overflow(&w) && size > 4)
			memcpy(buf + size - 4, "...", 4);
	}
	return buf;
}

static bool
is_table(const struct ctl_json_node *nodes, const struct ctl_json_node *array)
{
	int i;

	if (array->type != CTL_JSON_ARRAY || array->count == 0)
		return false;
	for (i = array->child; i >= 0; i = nodes[i].next)
		if (nodes[i].type != CTL_JSON_OBJECT)
			return false;
	return true;
}

static void
print_table(const struct ctl_json_node *nodes, const struct ctl_json_node *array,
	int indent)
{
	const char *columns[TABLE_COLUMNS_MAX];
	size_t widths[TABLE_COLUMNS_MAX];
	bool numeric[TABLE_COLUMNS_MAX];
	unsigned int ncol = 0, c;
	char cell[CELL_MAX];
	int row, m;

	/* Columns: every member name, in order of first appearance. */
	for (row = array->child; row >= 0; row = nodes[row].next) {
		for (m = nodes[row].child; m >= 0; m = nodes[m].next) {
			for (c = 0; c < ncol; c++)
				if (strcmp(columns[c], nodes[m].key) == 0)
					break;
			if (c == ncol && ncol < TABLE_COLUMNS_MAX) {
				columns[ncol] = nodes[m].key;
				widths[ncol] = strlen(nodes[m].key);
				numeric[ncol] = true;
				ncol++;
			}
		}
	}
	for (row = array->child; row >= 0; row = nodes[row].next) {
		for (c = 0; c < ncol; c++) {
			const struct ctl_json_node *v = ctl_json_member(nodes,
				&nodes[row], columns[c]);
			size_t len;

			if (v == NULL)
				continue;
			len = strlen(cell_text(nodes, v, cell, sizeof(cell)));
			widths[c] = len > widths[c] ? len : widths[c];
			if (v->type != CTL_JSON_NUMBER)
				numeric[c] = false;
		}
	}
	printf("%*s", indent, "");
	for (c = 0; c < ncol; c++) {
		if (c + 1 == ncol && !numeric[c])
			printf("%s\n", columns[c]);
		else
			printf(numeric[c] ? "%*s%s" : "%-*s%s", (int)widths[c],
				columns[c], c + 1 < ncol ? "  " : "\n");
	}
	for (row = array->child; row >= 0; row = nodes[row].next) {
		printf("%*s", indent, "");
		for (c = 0; c < ncol; c++) {
			const struct ctl_json_node *v = ctl_json_member(nodes,
				&nodes[row], columns[c]);
			const char *text = v != NULL ?
				cell_text(nodes, v, cell, sizeof(cell)) : "";

			if (c + 1 == ncol && !numeric[c])
				printf("%s\n", text);
			else
				printf(numeric[c] ? "%*s%s" : "%-*s%s",
					(int)widths[c], text,
					c + 1 < ncol ? "  " : "\n");
		}
	}
}

static void print_object(const struct ctl_json_node *nodes,
	const struct ctl_json_node *obj, int indent);

/*
 * One member: scalars and lists of scalars on a "key  value" line (keys
 * padded to <key_width>), objects as an indented section, arrays of
 * objects as tables.
 */
static void
print_member(const struct ctl_json_node *nodes,
	const struct ctl_json_node *node, const char *key, int key_width,
	int indent)
{
	char cell[CELL_MAX];
	int i;

	if (is_scalar(node)) {
		/* Strings in full here; only table cells are shortened. */
		printf("%*s%-*s  %s\n", indent, "", key_width, key,
			node->type == CTL_JSON_STRING ? node->str :
			cell_text(nodes, node, cell, sizeof(cell)));
		return;
	}
	if (node->count == 0) {
		printf("%*s%-*s  %s\n", indent, "", key_width, key,
			node->type == CTL_JSON_ARRAY ? "(none)" : "-");
		return;
	}
	if (node->type == CTL_JSON_OBJECT) {
		printf("%*s%s:\n", indent, "", key);
		print_object(nodes, node, indent + 2);
		return;
	}
	if (is_table(nodes, node)) {
		printf("%*s%s:\n", indent, "", key);
		print_table(nodes, node, indent + 2);
		return;
	}
	printf("%*s%-*s  ", indent, "", key_width, key);
	for (i = node->child; i >= 0; i = nodes[i].next)
		printf("%s%s", cell_text(nodes, &nodes[i], cell, sizeof(cell)),
			nodes[i].next >= 0 ? ", " : "\n");
}

static void
print_object(const struct ctl_json_node *nodes,
	const struct ctl_json_node *obj, int indent)
{
	int i, width = 0, len;

	for (i = obj->child; i >= 0; i = nodes[i].next) {
		len = (int)strlen(nodes[i].key);
		if (len > width)
			width = len;
	}
	for (i = obj->child; i >= 0; i = nodes[i].next)
		print_member(nodes, &nodes[i], nodes[i].key, width, indent);
}

/*
 * Prints the reply <line> for people; returns the exit status it
 * implies. <line> is parsed in place.
 */
static int
print_reply(char *line)
{
	size_t max_nodes = strlen(line) / 2 + 16;
	struct ctl_json_node *nodes = calloc(max_nodes, sizeof(*nodes));
	const struct ctl_json_node *ok, *result, *error, *code;
	char error_text[128];
	int status = EXIT_COMMAND_FAILED;

	if (nodes == NULL) {
		fprintf(stderr, "smbgwctl: out of memory\n");
		return EXIT_COMMAND_FAILED;
	}
	if (ctl_json_parse(line, nodes, (unsigned int)max_nodes, error_text,
			sizeof(error_text)) < 0 ||
			nodes[0].type != CTL_JSON_OBJECT) {
		fprintf(stderr, "smbgwctl: the gateway's reply is not JSON (%s)\n",
			error_text);
		goto out;
	}
	ok = ctl_json_member(nodes, &nodes[0], "ok");
	result = ctl_json_member(nodes, &nodes[0], "result");
	error = ctl_json_member(nodes, &nodes[0], "error");
	code = ctl_json_member(nodes, &nodes[0], "code");
	if (ok != NULL && ok->type == CTL_JSON_TRUE) {
		if (result != NULL && result->type == CTL_JSON_OBJECT)
			print_object(nodes, result, 0);
		status = EXIT_OK;
		goto out;
	}
	fprintf(stderr, "smbgwctl: %s\n",
		error != NULL && error->type == CTL_JSON_STRING ?
		error->str : "the command failed");
	if (code != NULL && code->type == CTL_JSON_STRING &&
			strcmp(code->str, "permission_denied") == 0)
		status = EXIT_DENIED;
out:
	free(nodes);
	return status;
}

/* With --json the line is printed as is; the status still follows "ok". */
static int
json_status(const char *line)
{
	return strncmp(line, "{\"ok\":true", 10) == 0 ? EXIT_OK :
		strstr(line, "\"code\":\"permission_denied\"") != NULL ?
		EXIT_DENIED : EXIT_COMMAND_FAILED;
}

/* The first line of <path>, without its newline, into <buf>. */
static int
read_password(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (f == NULL || fgets(buf, (int)size, f) == NULL) {
		fprintf(stderr, "smbgwctl: cannot read %s: %s\n", path,
			f == NULL ? strerror(errno) : "empty");
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	return 0;
}

static bool
asks_redis(int argc, char **argv)
{
	int i;

	if (argc < 1 || (strcmp(argv[0], "report") != 0 &&
			strcmp(argv[0], "alerts") != 0))
		return false;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--redis") == 0 ||
				strncmp(argv[i], "--redis=", 8) == 0)
			return true;
	return false;
}

/*
 * report|alerts --redis ...: the merged view of every gateway writing to
 * that Redis, read by the control library (redis_view.h), not asked of a
 * gateway.
 */
static int
run_redis_view(int argc, char **argv)
{
	static const struct option options[] = {
		{ "redis", required_argument, NULL, 'r' },
		{ "date", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },
		{ "report-key", required_argument, NULL, 'R' },
		{ "mode", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "follow", no_argument, NULL, 'f' },
		{ "gateway", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct redis_output_params params;
	uint32_t day = REPORT_ALL_DAYS;
	bool report = strcmp(argv[0], "report") == 0, csv = false;
	bool follow = false;
	const char *password = getenv("SMBGW_REDIS_PASSWORD");
	char error[512] = "";
	int opt, ret;

	redis_output_params_set_defaults(&params);
	params.timeout_ms = 5000;
	if (password != NULL)
		snprintf(params.password, sizeof(params.password), "%s",
			password);
	/* 0: glibc starts a new scan; options may come after "csv". */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		struct tm tm;
		char *end;

		switch (opt) {
		case 'r':
			if (redis_view_parse_address(optarg, &params) < 0) {
				fprintf(stderr,
					"smbgwctl: --redis takes HOST:PORT, not %s\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			memset(&tm, 0, sizeof(tm));
			end = strptime(optarg, "%Y-%m-%d", &tm);
			if (end == NULL || *end != '\0') {
				fprintf(stderr,
					"smbgwctl: --date takes YYYY-MM-DD, not %s\n",
					optarg);
				return EXIT_USAGE;
			}
			day = (uint32_t)(timegm(&tm) / 86400);
			break;
		case 'k':
		case 'R':
			if (strlen(optarg) == 0 ||
					strlen(optarg) >= sizeof(params.key)) {
				fprintf(stderr, "smbgwctl: key too long or empty\n");
				return EXIT_USAGE;
			}
			snprintf(opt == 'k' ? params.key : params.report_key,
				sizeof(params.key), "%s", optarg);
			break;
		case 'm':
			if (redis_mode_parse(optarg, &params.mode) < 0) {
				fprintf(stderr,
					"smbgwctl: --mode takes list, stream or pubsub\n");
				return EXIT_USAGE;
			}
			break;
		case 'u':
			snprintf(params.user, sizeof(params.user), "%s", optarg);
			break;
		case 'p':
			if (read_password(optarg, params.password,
					sizeof(params.password)) < 0)
				return EXIT_USAGE;
			break;
		case 'f':
			follow = true;
			break;
		case 'g':
			if (strlen(optarg) == 0 ||
					strlen(optarg) >= sizeof(params.gateway)) {
				fprintf(stderr,
					"smbgwctl: --gateway takes a gateway.name\n");
				return EXIT_USAGE;
			}
			snprintf(params.gateway, sizeof(params.gateway), "%s",
				optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (report && strcmp(argv[optind], "csv") == 0) {
			csv = true;
		} else if (report && strcmp(argv[optind], "json") == 0) {
			csv = false;
		} else {
			fprintf(stderr, "smbgwctl: unexpected argument %s\n",
				argv[optind]);
			return EXIT_USAGE;
		}
	}
	ret = report ? redis_view_report(&params, day, csv, stdout, error,
		sizeof(error)) :
		redis_view_alerts(&params, follow, stdout, error, sizeof(error));
	if (ret < 0) {
		fprintf(stderr, "smbgwctl: %s\n", error);
		return ret == -EIO ? EXIT_NOT_RUNNING : EXIT_COMMAND_FAILED;
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_COMMAND_FAILED;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("SMBGW_SOCKET");
	int timeout_s = TIMEOUT_DEFAULT_S, opt, len, status;
	bool json = false;
	char request[REQUEST_MAX];
	char *reply, *end;

	if (path == NULL || path[0] == '\0')
		path = CTL_SOCKET_DEFAULT;
	/* '+': options end at the command, so its arguments stay its own. */
	while ((opt = getopt_long(argc, argv, "+s:jt:hV", options,
			NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			timeout_s = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || timeout_s < 1 || timeout_s > 3600) {
				fprintf(stderr,
					"smbgwctl: --timeout takes 1 to 3600 seconds\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("smbgwctl %s\n", SMBGW_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (asks_redis(argc - optind, argv + optind))
		return run_redis_view(argc - optind, argv + optind);
	len = build_request(request, sizeof(request), argc - optind,
		argv + optind);
	if (len < 0) {
		fprintf(stderr, "smbgwctl: the command is too long\n");
		return EXIT_USAGE;
	}

	reply = run_request(path, request, (size_t)len, timeout_s, &status);
	if (reply == NULL)
		return status;
	if (json) {
		printf("%s\n", reply);
		status = json_status(reply);
	} else {
		status = print_reply(reply);
	}
	free(reply);
	if (fflush(stdout) != 0)
		return EXIT_COMMAND_FAILED;
	return status;
}
