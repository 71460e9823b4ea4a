/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket server. One thread (the control core) owns it: the
 * listening socket, the clients and the telemetry hand-off are all driven
 * from ctl_server_poll(), which never blocks beyond its timeout. A client
 * is served strictly request by request: its next line is answered only
 * once the previous reply has left, so a client's output never holds more
 * than one reply and a client that stops reading stalls only itself (and
 * is closed at its request's deadline). Who is admitted, and for how
 * long, is ctl_admit.c's; control { } is ctl_config.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_pdump.h>
#include <rte_telemetry.h>

#include "ctl.h"
#include "ctl_json.h"
#include "ctl_pvt.h"

RTE_LOG_REGISTER_DEFAULT(ctl_logtype, INFO);

/* What one request dispatch yields besides the reply text. */
struct ctl_outcome {
	bool answered;			/* false for a blank line */
	int ret;
};

/* Registry */

static bool
command_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= CTL_NAME_MAX || name[0] == ' ' ||
			name[len - 1] == ' ')
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == ' ' && name[i + 1] == ' ')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				c == '_' || c == '-' || c == ' '))
			return false;
	}
	return true;
}

int
ctl_register(struct ctl_server *server, const char *name,
	ctl_handler_t handler, void *ctx, const char *help)
{
	struct ctl_command *cmd;
	unsigned int i;
	const char *p;

	if (server == NULL || name == NULL || handler == NULL ||
			!command_name_ok(name))
		return -EINVAL;
	for (i = 0; i < server->command_count; i++)
		if (strcmp(server->commands[i].name, name) == 0)
			return -EEXIST;
	if (server->command_count == CTL_COMMANDS_MAX)
		return -ENOSPC;
	cmd = &server->commands[server->command_count++];
	memset(cmd, 0, sizeof(*cmd));
	snprintf(cmd->name, sizeof(cmd->name), "%s", name);
	cmd->words = 1;
	for (p = name; *p != '\0'; p++)
		if (*p == ' ')
			cmd->words++;
	cmd->handler = handler;
	cmd->ctx = ctx;
	cmd->help = help != NULL ? help : "";
	return 0;
}

/*
 * The registered command that is the longest prefix of <words>, or NULL.
 * "policy check" beats "policy" for "policy check a b".
 */
static const struct ctl_command *
find_command(const struct ctl_server *server, char *const *words,
	unsigned int count)
{
	const struct ctl_command *best = NULL;
	unsigned int i, w;

	for (i = 0; i < server->command_count; i++) {
		const struct ctl_command *cmd = &server->commands[i];
		const char *p = cmd->name;

		if (cmd->words > count ||
				(best != NULL && cmd->words <= best->words))
			continue;
		for (w = 0; w < cmd->words; w++) {
			size_t len = strlen(words[w]);

			if (strncmp(p, words[w], len) != 0 ||
					(p[len] != ' ' && p[len] != '\0'))
				break;
			p += len + (p[len] == ' ');
		}
		if (w == cmd->words)
			best = cmd;
	}
	return best;
}

/* Reply writer for handlers */

void
ctl_reply_object_begin(struct ctl_reply *reply, const char *key)
{
	ctl_json_object_begin(&reply->w, key);
}

void
ctl_reply_object_end(struct ctl_reply *reply)
{
	ctl_json_object_end(&reply->w);
}

void
ctl_reply_array_begin(struct ctl_reply *reply, const char *key)
{
	ctl_json_array_begin(&reply->w, key);
}

void
ctl_reply_array_end(struct ctl_reply *reply)
{
	ctl_json_array_end(&reply->w);
}

void
ctl_reply_str(struct ctl_reply *reply, const char *key, const char *value)
{
	ctl_json_str(&reply->w, key, value);
}

void
ctl_reply_strf(struct ctl_reply *reply, const char *key, const char *fmt, ...)
{
	char text[CTL_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ctl_json_str(&reply->w, key, text);
}

void
ctl_reply_u64(struct ctl_reply *reply, const char *key, uint64_t value)
{
	ctl_json_u64(&reply->w, key, value);
}

void
ctl_reply_i64(struct ctl_reply *reply, const char *key, int64_t value)
{
	ctl_json_i64(&reply->w, key, value);
}

void
ctl_reply_bool(struct ctl_reply *reply, const char *key, bool value)
{
	ctl_json_bool(&reply->w, key, value);
}

void
ctl_reply_double(struct ctl_reply *reply, const char *key, double value)
{
	ctl_json_double(&reply->w, key, value);
}

bool
ctl_reply_full(const struct ctl_reply *reply)
{
	return ctl_json_overflow(&reply->w);
}

int
ctl_reply_error(struct ctl_reply *reply, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reply->error, sizeof(reply->error), fmt, ap);
	va_end(ap);
	reply->err = err < 0 ? err : -EINVAL;
	return reply->err;
}

/* Built-in commands */

static int
help_command(void *ctx, const struct ctl_request *req, struct ctl_reply *reply)
{
	const struct ctl_server *server = ctx;
	unsigned int i;

	(void)req;
	ctl_reply_array_begin(reply, "commands");
	for (i = 0; i < server->command_count; i++) {
		const struct ctl_command *cmd = &server->commands[i];

		ctl_reply_object_begin(reply, NULL);
		ctl_reply_str(reply, "command", cmd->name);
		ctl_reply_str(reply, "help", cmd->help);
		ctl_reply_str(reply, "telemetry", cmd->telemetry_name[0] ?
			cmd->telemetry_name : NULL);
		ctl_reply_object_end(reply);
	}
	ctl_reply_array_end(reply);
	return 0;
}

/* Requests */

/* Splits <text> in place at blanks into <words>; -E2BIG when too many. */
static int
split_words(char *text, const char *separators, char **words,
	unsigned int *count, unsigned int max)
{
	char *save = NULL, *word;

	for (word = strtok_r(text, separators, &save); word != NULL;
			word = strtok_r(NULL, separators, &save)) {
		if (*count == max)
			return -E2BIG;
		words[(*count)++] = word;
	}
	return 0;
}

/*
 * Parses the JSON request <line> into <words>: the command's words, then
 * the args. Numbers are copied as written into <numbers>.
 */
static int
parse_json_request(char *line, char **words, unsigned int *count,
	char numbers[][CTL_NUMBER_MAX], char *error, size_t error_len)
{
	struct ctl_json_node nodes[CTL_REQUEST_NODES];
	const struct ctl_json_node *root = &nodes[0], *command = NULL;
	const struct ctl_json_node *args = NULL;
	unsigned int numbers_used = 0;
	char where[128];
	int ret, i;

	ret = ctl_json_parse(line, nodes, CTL_REQUEST_NODES, where,
		sizeof(where));
	if (ret == -E2BIG) {
		snprintf(error, error_len,
			"request too complex: at most %d arguments, no nesting (%s)",
			CTL_ARGS_MAX, where);
		return ret;
	}
	if (ret < 0) {
		snprintf(error, error_len, "malformed JSON: %s", where);
		return ret;
	}
	if (root->type != CTL_JSON_OBJECT) {
		snprintf(error, error_len,
			"a request is an object {\"command\": ..., \"args\": [...]} or a plain line");
		return -EINVAL;
	}
	for (i = root->child; i >= 0; i = nodes[i].next) {
		if (strcmp(nodes[i].key, "command") == 0 && command == NULL) {
			command = &nodes[i];
		} else if (strcmp(nodes[i].key, "args") == 0 && args == NULL) {
			args = &nodes[i];
		} else {
			snprintf(error, error_len,
				"unexpected member \"%.64s\": a request has \"command\" and optionally \"args\", once each",
				nodes[i].key);
			return -EINVAL;
		}
	}
	if (command == NULL || command->type != CTL_JSON_STRING ||
			strlen(command->str) != command->len) {
		snprintf(error, error_len,
			"\"command\" must be given as a string");
		return -EINVAL;
	}
	if (args != NULL && args->type != CTL_JSON_ARRAY) {
		snprintf(error, error_len,
			"\"args\" must be an array of strings or numbers");
		return -EINVAL;
	}
	/* The decoded command lives in <line>, which is ours to cut up. */
	ret = split_words((char *)(uintptr_t)command->str, " \t", words,
		count, CTL_WORDS_MAX);
	if (ret != 0 || *count == 0) {
		snprintf(error, error_len, ret != 0 ?
			"too many words in \"command\"" :
			"\"command\" is empty");
		return -EINVAL;
	}
	for (i = args != NULL ? args->child : -1; i >= 0; i = nodes[i].next) {
		const struct ctl_json_node *arg = &nodes[i];

		if (*count == CTL_WORDS_MAX) {
			snprintf(error, error_len, "too many arguments (at most %d)",
				CTL_ARGS_MAX);
			return -E2BIG;
		}
		if (arg->type == CTL_JSON_STRING &&
				strlen(arg->str) == arg->len) {
			words[(*count)++] = (char *)(uintptr_t)arg->str;
		} else if (arg->type == CTL_JSON_NUMBER &&
				arg->len < CTL_NUMBER_MAX) {
			memcpy(numbers[numbers_used], arg->str, arg->len);
			numbers[numbers_used][arg->len] = '\0';
			words[(*count)++] = numbers[numbers_used++];
		} else {
			snprintf(error, error_len,
				"\"args\" must hold strings (without NUL) or short numbers");
			return -EINVAL;
		}
	}
	return 0;
}

static const char *
errno_code(int err)
{
	const char *name = strerrorname_np(err < 0 ? -err : err);

	return name != NULL ? name : "failed";
}

/* Writes the reply line for a request, into <w> (the line buffer). */
void
ctl_compose_error(struct ctl_json_writer *w, const char *command,
	const char *code, const char *message)
{
	ctl_json_object_begin(w, NULL);
	ctl_json_bool(w, "ok", false);
	if (command != NULL)
		ctl_json_str(w, "command", command);
	ctl_json_str(w, "code", code);
	ctl_json_str(w, "error", message);
	ctl_json_object_end(w);
}

/*
 * Answers the request <line> (NUL-terminated, no newline; cut up in
 * place) from <source>/<uid>/<pid>, writing the reply line into <line_w>,
 * or, when <tel_cb> is set, the result's scalars to it (telemetry).
 */
static struct ctl_outcome
dispatch(struct ctl_server *server, char *line, enum ctl_source source,
	uid_t uid, pid_t pid, struct ctl_json_writer *line_w,
	ctl_json_leaf_cb tel_cb, void *tel_arg)
{
	char numbers[CTL_ARGS_MAX][CTL_NUMBER_MAX];
	char *words[CTL_WORDS_MAX];
	char error[CTL_ERROR_MAX];
	const struct ctl_command *cmd;
	struct ctl_outcome outcome = { .answered = true, .ret = 0 };
	struct ctl_request req;
	struct ctl_reply reply;
	unsigned int count = 0;
	char *start = line;
	int ret;

	while (*start == ' ' || *start == '\t')
		start++;
	if (*start == '\0') {
		outcome.answered = false;
		return outcome;
	}
	server->counters.requests++;
	/* What starts like JSON is JSON, so that a typo is not a command. */
	if (*start == '{' || *start == '[' || *start == '"') {
		ret = parse_json_request(start, words, &count, numbers, error,
			sizeof(error));
	} else {
		ret = split_words(start, " \t", words, &count, CTL_WORDS_MAX);
		if (ret != 0)
			snprintf(error, sizeof(error),
				"too many words (at most %d arguments)",
				CTL_ARGS_MAX);
	}
	if (ret != 0) {
		server->counters.bad_requests++;
		ctl_compose_error(line_w, NULL, "bad_request", error);
		outcome.ret = -EINVAL;
		return outcome;
	}
	cmd = find_command(server, words, count);
	if (cmd == NULL) {
		server->counters.unknown_commands++;
		snprintf(error, sizeof(error),
			"unknown command \"%.64s%s%.64s\" (\"help\" lists the commands)",
			words[0], count > 1 ? " " : "", count > 1 ? words[1] : "");
		ctl_compose_error(line_w, NULL, "unknown_command", error);
		outcome.ret = -ENOENT;
		return outcome;
	}
	if (count - cmd->words > CTL_ARGS_MAX) {
		server->counters.bad_requests++;
		snprintf(error, sizeof(error),
			"too many arguments (at most %d)", CTL_ARGS_MAX);
		ctl_compose_error(line_w, cmd->name, "bad_request", error);
		outcome.ret = -E2BIG;
		return outcome;
	}

	memset(&req, 0, sizeof(req));
	req.command = cmd->name;
	req.argc = count - cmd->words;
	req.argv = (const char *const *)&words[cmd->words];
	req.source = source;
	req.uid = uid;
	req.pid = pid;
	reply.err = 0;
	reply.error[0] = '\0';
	ctl_json_writer_init(&reply.w, server->result_buf, server->max_reply,
		tel_cb, tel_arg);
	ctl_json_object_begin(&reply.w, NULL);
	ret = cmd->handler(cmd->ctx, &req, &reply);
	ctl_json_object_end(&reply.w);

	if (ret < 0) {
		server->counters.failed_commands++;
		if (reply.error[0] == '\0')
			snprintf(reply.error, sizeof(reply.error), "%s failed: %s",
				cmd->name, strerror(-ret));
		ctl_compose_error(line_w, cmd->name, errno_code(ret),
			reply.error);
		outcome.ret = ret;
		return outcome;
	}
	if (ctl_json_overflow(&reply.w)) {
		server->counters.oversized_replies++;
		snprintf(error, sizeof(error),
			"the reply would exceed %zu bytes; ask for less (a filter or limit)",
			server->max_reply);
		ctl_compose_error(line_w, cmd->name, "reply_too_large", error);
		outcome.ret = -EMSGSIZE;
		return outcome;
	}
	if (!ctl_json_complete(&reply.w)) {
		server->counters.failed_commands++;
		CTL_LOG(ERR, "command \"%s\" wrote a malformed reply",
			cmd->name);
		ctl_compose_error(line_w, cmd->name, "internal",
			"the command wrote a malformed reply (a bug; see the gateway log)");
		outcome.ret = -EPROTO;
		return outcome;
	}
	ctl_json_object_begin(line_w, NULL);
	ctl_json_bool(line_w, "ok", true);
	ctl_json_str(line_w, "command", cmd->name);
	ctl_json_raw(line_w, "result", server->result_buf,
		ctl_json_length(&reply.w));
	ctl_json_object_end(line_w);
	return outcome;
}

/* Clients */

static void
client_set_interest(struct ctl_server *server, struct ctl_client *c)
{
	size_t cap = server->max_line + 1;
	uint32_t want = 0;
	struct epoll_event ev;

	if (c->out != NULL)
		want |= EPOLLOUT;
	else if (!c->eof && c->in_len < cap)
		want |= EPOLLIN;
	if (want == c->interest)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.u64 = ((uint64_t)c->generation << 32) |
		(uint64_t)(c - server->clients);
	if (epoll_ctl(server->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->interest = want;
}

/* Sends what is pending. Returns 0, or -1 when the client is gone. */
static int
client_flush(struct ctl_server *server, struct ctl_client *c, uint64_t now)
{
	ssize_t n;

	while (c->out != NULL) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			ctl_client_close(server, c);
			return -1;
		}
		c->out_off += (size_t)n;
		if (c->out_off == c->out_len) {
			free(c->out);
			c->out = NULL;
			c->out_len = c->out_off = 0;
			ctl_admit_request_done(c, now, true);
		}
	}
	return 0;
}

/*
 * Queues the text of <w> plus a newline as <c>'s reply. Allocation
 * failure closes the client: nothing else can be told to it.
 */
static int
client_queue(struct ctl_server *server, struct ctl_client *c,
	const struct ctl_json_writer *w)
{
	size_t len = ctl_json_length(w);

	c->out = malloc(len + 1);
	if (c->out == NULL) {
		ctl_client_close(server, c);
		return -1;
	}
	memcpy(c->out, w->buf, len);
	c->out[len] = '\n';
	c->out_len = len + 1;
	c->out_off = 0;
	return 0;
}

/*
 * Answers the complete lines buffered for <c>, at most
 * CTL_LINES_PER_POLL, each only after the previous reply has left.
 * Returns how many requests were answered.
 */
static int
client_process(struct ctl_server *server, struct ctl_client *c, uint64_t now)
{
	size_t cap = server->max_line + 1;
	unsigned int budget = CTL_LINES_PER_POLL;
	struct ctl_json_writer line_w;
	struct ctl_outcome outcome;
	char error[128];
	int answered = 0;
	char *nl;
	size_t len;

	c->backlog = false;
	while (c->fd >= 0 && c->out == NULL) {
		nl = memchr(c->in, '\n', c->in_len);
		if (nl == NULL && c->discarding) {
			c->in_len = 0;
			if (c->eof)
				c->discarding = false;
			break;
		}
		if (nl == NULL && c->in_len >= cap) {
			/* Oversized: answer once, then drop up to the newline. */
			server->counters.bad_requests++;
			snprintf(error, sizeof(error),
				"request longer than %u bytes", server->max_line);
			ctl_json_writer_init(&line_w, server->line_buf,
				server->max_reply + CTL_ENVELOPE_MAX, NULL, NULL);
			ctl_compose_error(&line_w, NULL, "too_long", error);
			c->in_len = 0;
			c->discarding = true;
			if (client_queue(server, c, &line_w) != 0 ||
					client_flush(server, c, now) != 0)
				return answered;
			answered++;
			continue;
		}
		if (nl == NULL && !(c->eof && c->in_len > 0))
			break;
		if (budget == 0) {
			c->backlog = true;
			server->backlog = true;
			break;
		}
		budget--;
		/* A last line without newline counts when the peer closes. */
		len = nl != NULL ? (size_t)(nl - c->in) : c->in_len;
		if (c->discarding) {
			c->discarding = false;
			memmove(c->in, c->in + len + 1, c->in_len - len - 1);
			c->in_len -= len + 1;
			ctl_admit_request_done(c, now, false);
			continue;
		}
		c->in[len] = '\0';
		if (len > 0 && c->in[len - 1] == '\r')
			c->in[len - 1] = '\0';
		ctl_json_writer_init(&line_w, server->line_buf,
			server->max_reply + CTL_ENVELOPE_MAX, NULL, NULL);
		server->dispatching = true;
		outcome = dispatch(server, c->in, CTL_SOURCE_SOCKET, c->uid,
			c->pid, &line_w, NULL, NULL);
		server->dispatching = false;
		len = nl != NULL ? len + 1 : c->in_len;
		memmove(c->in, c->in + len, c->in_len - len);
		c->in_len -= len;
		if (!outcome.answered) {
			ctl_admit_request_done(c, now, false);
			continue;
		}
		if (client_queue(server, c, &line_w) != 0 ||
				client_flush(server, c, now) != 0)
			return answered;
		answered++;
	}
	return answered;
}

/* Reads once from <c> and answers what is complete. */
static int
client_event(struct ctl_server *server, struct ctl_client *c,
	uint32_t events, uint64_t now)
{
	size_t cap = server->max_line + 1;
	int answered;
	ssize_t n;

	if (c->out != NULL && client_flush(server, c, now) != 0)
		return 0;
	if (c->out == NULL && !c->eof && c->in_len < cap &&
			(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		n = recv(c->fd, c->in + c->in_len, cap - c->in_len,
			MSG_DONTWAIT);
		if (n > 0) {
			/* The deadline runs from a request's first byte. */
			if (c->request_start_ms == 0)
				c->request_start_ms = now;
			c->in_len += (size_t)n;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
				errno != EINTR) {
			ctl_client_close(server, c);
			return 0;
		}
	} else if (c->out != NULL && (events & (EPOLLHUP | EPOLLERR))) {
		ctl_client_close(server, c);
		return 0;
	}
	answered = client_process(server, c, now);
	if (c->fd < 0)
		return answered;
	if (c->eof && c->out == NULL && !c->backlog) {
		ctl_client_close(server, c);
		return answered;
	}
	client_set_interest(server, c);
	return answered;
}

/* Telemetry: requests cross from the telemetry thread to the poller. */

enum tel_state {
	TEL_IDLE,
	TEL_PENDING,
	TEL_RUNNING,
	TEL_DONE,
};

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tel_cond = PTHREAD_COND_INITIALIZER;
static struct ctl_server *tel_server;
static struct {
	enum tel_state state;
	const char *cmd;
	const char *params;
	struct rte_tel_data *data;
	int ret;
} tel_call;

struct tel_sink {
	struct rte_tel_data *data;
	unsigned int entries;
	bool truncated;
};

static void
tel_leaf(void *arg, const char *path, const struct ctl_json_leaf *leaf)
{
	struct tel_sink *sink = arg;
	char text[RTE_TEL_MAX_STRING_LEN];
	char key[RTE_TEL_MAX_STRING_LEN];
	char *p;

	/*
	 * Telemetry names allow letters, digits, '_' and '/': the path
	 * "ports.0.rx" becomes "ports/0/rx".
	 */
	snprintf(key, sizeof(key), "%s", path[0] != '\0' ? path : "value");
	for (p = key; *p != '\0'; p++) {
		if (*p == '.')
			*p = '/';
		else if (!isalnum((unsigned char)*p) && *p != '_')
			*p = '_';
	}

	/* One entry stays free for "truncated". */
	if (sink->entries + 1 >= RTE_TEL_MAX_DICT_ENTRIES) {
		sink->truncated = true;
		return;
	}
	sink->entries++;
	switch (leaf->type) {
	case CTL_JSON_STRING:
		rte_tel_data_add_dict_string(sink->data, key, leaf->str);
		break;
	case CTL_JSON_NUMBER:
		if (leaf->is_integer && !leaf->is_signed) {
			rte_tel_data_add_dict_u64(sink->data, key, leaf->u64);
		} else if (leaf->is_integer && leaf->i64 >= INT_MIN &&
				leaf->i64 <= INT_MAX) {
			rte_tel_data_add_dict_int(sink->data, key,
				(int)leaf->i64);
		} else {
			snprintf(text, sizeof(text), "%s", leaf->str);
			rte_tel_data_add_dict_string(sink->data, key, text);
		}
		break;
	case CTL_JSON_TRUE:
	case CTL_JSON_FALSE:
		rte_tel_data_add_dict_string(sink->data, key,
			leaf->type == CTL_JSON_TRUE ? "true" : "false");
		break;
	default:
		rte_tel_data_add_dict_string(sink->data, key, "null");
		break;
	}
}

/*
 * Replaces what <d> holds by the code and message of the error reply
 * <line> (parsed in place).
 */
static void
tel_error(struct rte_tel_data *d, char *line)
{
	struct ctl_json_node nodes[8];
	const struct ctl_json_node *code = NULL, *error = NULL;

	if (ctl_json_parse(line, nodes, RTE_DIM(nodes), NULL, 0) > 0) {
		code = ctl_json_member(nodes, &nodes[0], "code");
		error = ctl_json_member(nodes, &nodes[0], "error");
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "code", code != NULL &&
		code->type == CTL_JSON_STRING ? code->str : "failed");
	rte_tel_data_add_dict_string(d, "error", error != NULL &&
		error->type == CTL_JSON_STRING ? error->str : "failed");
}

/* Runs the telemetry request waiting, if any, on the polling thread. */
static void
tel_service(struct ctl_server *server)
{
	char line[CTL_NAME_MAX + RTE_TEL_MAX_SINGLE_STRING_LEN];
	struct ctl_json_writer line_w;
	struct ctl_outcome outcome;
	struct tel_sink sink;
	const struct ctl_command *cmd = NULL;
	char *p;
	unsigned int i;

	pthread_mutex_lock(&tel_lock);
	if (tel_server != server || tel_call.state != TEL_PENDING) {
		pthread_mutex_unlock(&tel_lock);
		return;
	}
	tel_call.state = TEL_RUNNING;
	pthread_mutex_unlock(&tel_lock);

	for (i = 0; i < server->command_count; i++)
		if (strcmp(server->commands[i].telemetry_name,
				tel_call.cmd) == 0)
			cmd = &server->commands[i];
	server->counters.telemetry_requests++;
	memset(&sink, 0, sizeof(sink));
	sink.data = tel_call.data;
	rte_tel_data_start_dict(sink.data);
	if (cmd == NULL) {
		tel_call.ret = -ENOENT;
	} else {
		/* Parameters become arguments: "/smbgw/flows,10" */
		snprintf(line, sizeof(line), "%s %s", cmd->name,
			tel_call.params != NULL ? tel_call.params : "");
		for (p = line; *p != '\0'; p++)
			if (*p == ',' || (unsigned char)*p < 0x20)
				*p = ' ';
		ctl_json_writer_init(&line_w, server->line_buf,
			server->max_reply + CTL_ENVELOPE_MAX, NULL, NULL);
		server->dispatching = true;
		outcome = dispatch(server, line, CTL_SOURCE_TELEMETRY, 0, 0,
			&line_w, tel_leaf, &sink);
		server->dispatching = false;
		tel_call.ret = 0;
		if (outcome.ret != 0)
			tel_error(sink.data, server->line_buf);
		else if (sink.truncated) {
			rte_tel_data_add_dict_string(sink.data, "truncated",
				"true: more than the 256 entries telemetry allows; use smbgwctl");
		}
	}

	pthread_mutex_lock(&tel_lock);
	tel_call.state = TEL_DONE;
	pthread_cond_broadcast(&tel_cond);
	pthread_mutex_unlock(&tel_lock);
}

static int
tel_callback(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct timespec deadline;
	uint64_t one = 1;
	int ret;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += CTL_TELEMETRY_WAIT_S;
	pthread_mutex_lock(&tel_lock);
	while (tel_server != NULL && tel_call.state != TEL_IDLE)
		if (pthread_cond_timedwait(&tel_cond, &tel_lock,
				&deadline) == ETIMEDOUT)
			break;
	if (tel_server == NULL || tel_call.state != TEL_IDLE) {
		pthread_mutex_unlock(&tel_lock);
		return tel_server == NULL ? -ENODEV : -EBUSY;
	}
	tel_call.state = TEL_PENDING;
	tel_call.cmd = cmd;
	tel_call.params = params;
	tel_call.data = d;
	tel_call.ret = -ETIMEDOUT;
	if (write(tel_server->wake_fd, &one, sizeof(one)) < 0)
		CTL_LOG(DEBUG, "wake-up not sent: %s", strerror(errno));
	while (tel_call.state == TEL_PENDING || tel_call.state == TEL_RUNNING) {
		/* Once running, the poller writes into <d>: wait it out. */
		if (tel_call.state == TEL_RUNNING) {
			pthread_cond_wait(&tel_cond, &tel_lock);
			continue;
		}
		if (pthread_cond_timedwait(&tel_cond, &tel_lock,
				&deadline) == ETIMEDOUT &&
				tel_call.state == TEL_PENDING)
			break;
	}
	ret = tel_call.state == TEL_DONE ? tel_call.ret : -ETIMEDOUT;
	tel_call.state = TEL_IDLE;
	pthread_cond_broadcast(&tel_cond);
	pthread_mutex_unlock(&tel_lock);
	return ret;
}

int
ctl_telemetry_register(struct ctl_server *server, const char *name)
{
	struct ctl_command *cmd = NULL;
	unsigned int i;
	char *p;
	int ret;

	for (i = 0; i < server->command_count; i++)
		if (strcmp(server->commands[i].name, name) == 0)
			cmd = &server->commands[i];
	if (cmd == NULL)
		return -ENOENT;
	snprintf(cmd->telemetry_name, sizeof(cmd->telemetry_name),
		"/smbgw/%s", cmd->name);
	/* Telemetry names allow letters, digits, '_' and '/' only. */
	for (p = cmd->telemetry_name; *p != '\0'; p++)
		if (*p == ' ' || *p == '-')
			*p = '_';
	ret = rte_telemetry_register_cmd(cmd->telemetry_name, tel_callback,
		cmd->help);
	if (ret != 0) {
		cmd->telemetry_name[0] = '\0';
		return ret < 0 ? ret : -ret;
	}
	pthread_mutex_lock(&tel_lock);
	tel_server = server;
	pthread_mutex_unlock(&tel_lock);
	return 0;
}

int
ctl_pdump_init(void)
{
	if (rte_pdump_init() != 0)
		return -rte_errno;
	return 0;
}

void
ctl_pdump_uninit(void)
{
	rte_pdump_uninit();
}

/* Server */

int
ctl_server_poll(struct ctl_server *server, int timeout_ms)
{
	struct epoll_event events[CTL_EVENTS_PER_POLL];
	int answered = 0, n, i;
	uint64_t now, count;

	if (server->backlog)
		timeout_ms = 0;
	n = epoll_wait(server->epoll_fd, events, CTL_EVENTS_PER_POLL,
		timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	now = ctl_now_ms();
	for (i = 0; i < n; i++) {
		uint32_t tag = (uint32_t)events[i].data.u64;
		uint32_t generation = (uint32_t)(events[i].data.u64 >> 32);
		struct ctl_client *c;

		if (tag == TAG_LISTEN) {
			ctl_admit_accept(server, now);
			continue;
		}
		if (tag == TAG_WAKE) {
			if (read(server->wake_fd, &count, sizeof(count)) < 0)
				CTL_LOG(DEBUG, "wake-up: %s", strerror(errno));
			continue;
		}
		c = &server->clients[tag];
		if (c->fd < 0 || c->generation != generation)
			continue;	/* closed earlier in this round */
		answered += client_event(server, c, events[i].events, now);
	}
	if (server->backlog) {
		server->backlog = false;
		for (i = 0; i < (int)server->max_clients; i++) {
			struct ctl_client *c = &server->clients[i];

			if (c->fd < 0 || !c->backlog)
				continue;
			answered += client_event(server, c, 0, now);
		}
	}
	tel_service(server);
	ctl_admit_expire(server, now);
	return answered;
}

int
ctl_execute(struct ctl_server *server, const char *line, char *out,
	size_t out_len)
{
	struct ctl_json_writer line_w;
	struct ctl_outcome outcome;
	char *copy;

	if (server->dispatching)
		return -EBUSY;
	copy = strdup(line);
	if (copy == NULL)
		return -ENOMEM;
	ctl_json_writer_init(&line_w, out, out_len, NULL, NULL);
	server->dispatching = true;
	outcome = dispatch(server, copy, CTL_SOURCE_LOCAL, 0, getpid(),
		&line_w, NULL, NULL);
	server->dispatching = false;
	free(copy);
	if (!outcome.answered)
		return -EINVAL;
	if (ctl_json_overflow(&line_w))
		return -ENOBUFS;
	return outcome.ret;
}

const struct ctl_server_counters *
ctl_server_counters(const struct ctl_server *server)
{
	return &server->counters;
}

void
ctl_server_reply_counters(const struct ctl_server *server,
	struct ctl_reply *reply, const char *key)
{
	const struct ctl_server_counters *c = &server->counters;

	ctl_reply_object_begin(reply, key);
	ctl_reply_u64(reply, "clients", server->client_count);
	ctl_reply_u64(reply, "max_clients", server->max_clients);
	ctl_reply_u64(reply, "max_clients_per_uid",
		server->max_clients_per_uid);
	ctl_reply_u64(reply, "accepted", c->accepted);
	ctl_reply_u64(reply, "refused_busy", c->refused_busy);
	ctl_reply_u64(reply, "refused_uid", c->refused_uid);
	ctl_reply_u64(reply, "refused_peer", c->refused_peer);
	ctl_reply_u64(reply, "evicted", c->evicted);
	ctl_reply_u64(reply, "idle_closed", c->idle_closed);
	ctl_reply_u64(reply, "deadline_expired", c->deadline_expired);
	ctl_reply_u64(reply, "slow_closed", c->slow_closed);
	ctl_reply_u64(reply, "requests", c->requests);
	ctl_reply_u64(reply, "bad_requests", c->bad_requests);
	ctl_reply_u64(reply, "unknown_commands", c->unknown_commands);
	ctl_reply_u64(reply, "failed_commands", c->failed_commands);
	ctl_reply_u64(reply, "oversized_replies", c->oversized_replies);
	ctl_reply_u64(reply, "telemetry_requests", c->telemetry_requests);
	ctl_reply_object_end(reply);
}

unsigned int
ctl_server_clients(const struct ctl_server *server)
{
	return server->client_count;
}

const char *
ctl_server_path(const struct ctl_server *server)
{
	return server->path;
}

/*
 * Creates the directories above the socket: missing intermediate ones
 * 0755, the socket's own 0750 and group <gid>, so that only root and the
 * group reach the socket.
 */
static int
make_socket_dir(const char *path, gid_t gid)
{
	char dir[CTL_PATH_MAX];
	char *slash, *p;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0750) != 0)
		return errno == EEXIST ? 0 : -errno;
	if (chown(dir, (uid_t)-1, gid) != 0)
		return -errno;
	return 0;
}

/*
 * Whether another process serves <path>: -EADDRINUSE if something
 * answers, 0 if there is no socket or a stale one (then removed),
 * -EEXIST if the path is not a socket.
 */
static int
check_existing(const char *path)
{
	struct sockaddr_un addr;
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (ret == 0 || errno == EAGAIN || errno == EINPROGRESS)
		ret = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		ret = unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
	else
		ret = -errno;
	close(fd);
	return ret;
}

static int
open_listener(struct ctl_server *server)
{
	struct sockaddr_un addr;
	struct stat st;
	mode_t old_mask;
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, server->path, strlen(server->path));
	/* Born 0660: no moment where others could connect. */
	old_mask = umask(0117);
	ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (ret != 0)
		goto close_fd;
	/*
	 * lchown and lstat: in a directory others can write, the path could
	 * be swapped for a symlink after bind; never follow it.
	 */
	if (lchown(server->path, (uid_t)-1, server->gid) != 0 ||
			lstat(server->path, &st) != 0 ||
			listen(fd, 64) != 0)
		goto unlink_path;
	server->socket_ino = st.st_ino;
	server->listen_fd = fd;
	return 0;

unlink_path:
	ret = -errno;
	unlink(server->path);
	close(fd);
	return ret;
close_fd:
	ret = -errno;
	close(fd);
	return ret;
}

static int
epoll_add(int epoll_fd, int fd, uint32_t tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = tag;
	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

struct ctl_server *
ctl_server_create(const struct ctl_params *params)
{
	struct ctl_server *server;
	const char *path, *group;
	unsigned int i;
	int ret;

	path = params->socket_path != NULL ? params->socket_path :
		CTL_SOCKET_DEFAULT;
	group = params->group != NULL ? params->group : CTL_GROUP_DEFAULT;
	if (strlen(path) >= CTL_PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (path[0] == '\0' || params->max_line > (1u << 20)) {
		errno = EINVAL;
		return NULL;
	}
	server = calloc(1, sizeof(*server));
	if (server == NULL)
		return NULL;
	server->listen_fd = server->epoll_fd = server->wake_fd = -1;
	snprintf(server->path, sizeof(server->path), "%s", path);
	snprintf(server->lock_path, sizeof(server->lock_path), "%s.lock",
		path);
	server->max_clients = params->max_clients ? params->max_clients :
		CTL_MAX_CLIENTS_DEFAULT;
	server->max_line = params->max_line ? params->max_line :
		CTL_MAX_LINE_DEFAULT;
	server->max_reply = params->max_reply ? params->max_reply :
		CTL_MAX_REPLY_DEFAULT;
	server->max_clients_per_uid = params->max_clients_per_uid ?
		params->max_clients_per_uid : CTL_MAX_CLIENTS_PER_UID_DEFAULT;
	server->idle_timeout_ms = params->idle_timeout_ms ?
		params->idle_timeout_ms : CTL_IDLE_TIMEOUT_MS_DEFAULT;
	server->request_timeout_ms = params->request_timeout_ms ?
		params->request_timeout_ms : CTL_REQUEST_TIMEOUT_MS_DEFAULT;
	ret = ctl_resolve_group(group, &server->gid);
	if (ret != 0)
		goto free_server;

	server->clients = calloc(server->max_clients,
		sizeof(*server->clients));
	server->result_buf = malloc(server->max_reply);
	server->line_buf = malloc(server->max_reply + CTL_ENVELOPE_MAX);
	if (server->clients == NULL || server->result_buf == NULL ||
			server->line_buf == NULL) {
		ret = -ENOMEM;
		goto free_buffers;
	}
	for (i = 0; i < server->max_clients; i++) {
		server->clients[i].fd = -1;
		server->clients[i].in = malloc(server->max_line + 2);
		if (server->clients[i].in == NULL) {
			ret = -ENOMEM;
			goto free_buffers;
		}
	}

	ret = make_socket_dir(server->path, server->gid);
	if (ret != 0)
		goto free_buffers;
	server->lock_fd = open(server->lock_path,
		O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (server->lock_fd < 0) {
		ret = -errno;
		goto free_buffers;
	}
	if (flock(server->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		ret = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
		goto close_lock;
	}
	ret = check_existing(server->path);
	if (ret != 0)
		goto close_lock;
	ret = open_listener(server);
	if (ret != 0)
		goto close_lock;

	server->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	server->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (server->epoll_fd < 0 || server->wake_fd < 0) {
		ret = -errno;
		goto close_listener;
	}
	ret = epoll_add(server->epoll_fd, server->listen_fd, TAG_LISTEN);
	if (ret == 0)
		ret = epoll_add(server->epoll_fd, server->wake_fd, TAG_WAKE);
	if (ret != 0)
		goto close_listener;
	ret = ctl_register(server, "help", help_command, server,
		"list the commands");
	if (ret != 0)
		goto close_listener;
	return server;

close_listener:
	if (server->wake_fd >= 0)
		close(server->wake_fd);
	if (server->epoll_fd >= 0)
		close(server->epoll_fd);
	close(server->listen_fd);
	unlink(server->path);
close_lock:
	close(server->lock_fd);
free_buffers:
	for (i = 0; server->clients != NULL && i < server->max_clients; i++)
		free(server->clients[i].in);
	free(server->clients);
	free(server->result_buf);
	free(server->line_buf);
free_server:
	free(server);
	errno = -ret;
	return NULL;
}

void
ctl_server_free(struct ctl_server *server)
{
	struct stat st;
	unsigned int i;

	if (server == NULL)
		return;
	pthread_mutex_lock(&tel_lock);
	if (tel_server == server) {
		tel_server = NULL;
		if (tel_call.state == TEL_PENDING) {
			tel_call.ret = -ENODEV;
			tel_call.state = TEL_DONE;
		}
		pthread_cond_broadcast(&tel_cond);
	}
	pthread_mutex_unlock(&tel_lock);

	for (i = 0; i < server->max_clients; i++) {
		if (server->clients[i].fd >= 0)
			ctl_client_close(server, &server->clients[i]);
		free(server->clients[i].in);
	}
	/* A successor may already have replaced a socket we lost. */
	if (lstat(server->path, &st) == 0 && st.st_ino == server->socket_ino)
		unlink(server->path);
	close(server->listen_fd);
	close(server->epoll_fd);
	close(server->wake_fd);
	close(server->lock_fd);
	free(server->clients);
	free(server->result_buf);
	free(server->line_buf);
	free(server);
}
