/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CTL_H
#define SMBGW_CTL_H

/*
 * The control socket: a Unix stream socket on the control core that
 * serves commands from a registry, one request per line, one JSON reply
 * per line. The same registry answers DPDK telemetry (/smbgw/<command>)
 * and in-process callers (ctl_execute(), e.g. on SIGHUP), so every front
 * end reaches the same handlers.
 *
 * Requests (at most ctl_params.max_line bytes before the newline), either
 *
 *	{"command": "policy check", "args": ["198.18.1.10", "198.18.2.20", "445"]}
 *
 * (args optional, strings or numbers; no other members), or a plain line
 * of words separated by blanks, as an operator types it:
 *
 *	policy check 198.18.1.10 198.18.2.20 445
 *
 * The command's words and the arguments form one word list; the longest
 * registered name that starts it is the command, the rest are its
 * arguments (so "policy check" and {"command":"policy","args":["check"]}
 * are the same). Replies, one line each:
 *
 *	{"ok":true,"command":"status","result":{...}}
 *	{"ok":false,"command":"stats","code":"unknown_command","error":"..."}
 *
 * Malformed, oversized and unknown requests get an error reply and the
 * connection stays open. Handlers run only on the thread that calls
 * ctl_server_poll(), telemetry ones included, so they may read the control
 * core's state without locks.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_SOCKET_DEFAULT "/run/smbgw/smbgw.sock"
#define CTL_GROUP_DEFAULT "root"
#define CTL_MAX_CLIENTS_DEFAULT 16
#define CTL_MAX_LINE_DEFAULT 4096
#define CTL_MAX_REPLY_DEFAULT (1u << 20)
#define CTL_MAX_CLIENTS_PER_UID_DEFAULT 8
#define CTL_IDLE_TIMEOUT_MS_DEFAULT 60000
#define CTL_REQUEST_TIMEOUT_MS_DEFAULT 10000
#define CTL_EVICT_STALLED_MS 1000	/* a reply not read for this long */
#define CTL_PATH_MAX 108	/* sun_path */
#define CTL_GROUP_MAX 64
#define CTL_ARGS_MAX 16
#define CTL_COMMANDS_MAX 64

struct ctl_server;
struct ctl_reply;

/* What ctl_server_create() needs; zero fields take the defaults above. */
struct ctl_params {
	const char *socket_path;	/* NULL: CTL_SOCKET_DEFAULT */
	const char *group;		/* name or number; NULL: "root" */
	unsigned int max_clients;	/* connections served at once */
	unsigned int max_line;		/* request bytes, newline excluded */
	size_t max_reply;		/* reply bytes, newline included */
	unsigned int max_clients_per_uid;	/* of them from one uid */
	unsigned int idle_timeout_ms;	/* between requests */
	unsigned int request_timeout_ms;	/* first byte to reply sent */
};

/* Where a request came from. */
enum ctl_source {
	CTL_SOURCE_SOCKET,
	CTL_SOURCE_TELEMETRY,
	CTL_SOURCE_LOCAL,	/* ctl_execute(): signals, start-up */
};

/* A request as a handler sees it; valid only during the call. */
struct ctl_request {
	const char *command;		/* registered name, e.g. "policy check" */
	unsigned int argc;
	const char *const *argv;	/* argc words after the name */
	enum ctl_source source;
	uid_t uid;			/* peer's uid (0 for local/telemetry) */
	pid_t pid;			/* peer's pid, 0 if not a socket */
};

/*
 * A command handler. Writes its result members into <reply> (the result
 * object is already open: use keys at the top) and returns 0, or returns
 * a negative errno, normally through ctl_reply_error(); whatever it wrote
 * is then discarded and the client gets the error.
 */
typedef int (*ctl_handler_t)(void *ctx, const struct ctl_request *req,
	struct ctl_reply *reply);

/*
 * Counters of the server itself (the "control" part of stats). Every
 * connection that ends other than by the peer closing it is counted by
 * why: refused_*, evicted, idle_closed, deadline_expired, slow_closed.
 */
struct ctl_server_counters {
	uint64_t accepted;
	uint64_t refused_busy;		/* full, and nobody idle to evict */
	uint64_t refused_uid;		/* uid at max_clients_per_uid, none idle */
	uint64_t refused_peer;		/* SO_PEERCRED not root nor group */
	uint64_t evicted;		/* idle clients closed to admit others */
	uint64_t requests;
	uint64_t bad_requests;		/* malformed or oversized */
	uint64_t unknown_commands;
	uint64_t failed_commands;	/* handler returned an error */
	uint64_t oversized_replies;
	uint64_t deadline_expired;	/* request not complete in time */
	uint64_t slow_closed;		/* reply not read in time */
	uint64_t idle_closed;		/* no request for idle_timeout */
	uint64_t telemetry_requests;
};

/*
 * Creates the control socket described by <params>: creates its
 * directory (0750, root:group) if missing, takes the lock file
 * "<socket>.lock", refuses to start when another process answers on the
 * socket, removes a stale socket, binds with mode 0660 and group <group>,
 * and listens. The built-in command "help" is registered. Returns the
 * server, or NULL with errno set: EADDRINUSE (a live instance holds the
 * socket or the lock), EEXIST (the path is not a socket), ENOENT (unknown
 * group), ENAMETOOLONG, EINVAL (bad params), or what the system calls
 * report (EACCES, ...).
 */
struct ctl_server *
ctl_server_create(const struct ctl_params *params);

/*
 * Closes every connection, removes the socket (if it is still the one it
 * bound; the empty lock file stays), and frees <server>. Telemetry commands registered for it answer with an error
 * from then on. NULL is ignored.
 */
void
ctl_server_free(struct ctl_server *server);

/*
 * Registers command <name> (words of [a-z0-9_-] separated by single
 * spaces, at most 63 bytes) with <handler>, its <ctx>, and a one-line
 * <help> text (kept by pointer: must outlive the server). Returns 0,
 * -EINVAL for a bad name or NULL handler, -EEXIST if taken, -ENOSPC when
 * CTL_COMMANDS_MAX are registered.
 */
int
ctl_register(struct ctl_server *server, const char *name,
	ctl_handler_t handler, void *ctx, const char *help);

/*
 * Does the socket's work without blocking longer than <timeout_ms> (0:
 * not at all; the control loop calls it every tick): accepts clients,
 * reads what they sent, answers complete lines, writes pending replies,
 * closes idle and slow clients, and runs waiting telemetry requests.
 *
 * Fairness: a request must arrive whole and its reply leave within
 * request_timeout_ms of its first byte (bytes that trickle in do not
 * extend it); a connection without a request in progress is closed after
 * idle_timeout_ms. A uid holds at most max_clients_per_uid connections:
 * beyond, a newcomer evicts the oldest idle connection of its uid. When
 * the server is full, a newcomer evicts the oldest idle connection of
 * the uid holding the most connections, if that uid holds more than the
 * newcomer's (or is the newcomer's). Idle: no request being answered
 * (one trickling in counts as idle), or a reply unread for
 * CTL_EVICT_STALLED_MS; oldest: whose last reply, or connection if it
 * never had one, is the oldest. With none to evict the newcomer is told
 * "busy" and closed; an evicted client is told "evicted" (its request,
 * if any, did not run) when it has no reply half sent.
 *
 * Work per call is bounded (events per call, lines per client), so many
 * clients never stall the caller. Returns the number of requests
 * answered, or a negative errno if waiting itself failed.
 */
int
ctl_server_poll(struct ctl_server *server, int timeout_ms);

/*
 * Runs the request <line> (either format, no newline) in process, as
 * CTL_SOURCE_LOCAL, and writes the reply line (NUL-terminated, no
 * newline) to <out> of <out_len> bytes: how SIGHUP runs "reload" and
 * "log reopen" through the same handlers. Call it from the polling
 * thread, never from a signal handler or from a handler. Returns 0 when
 * the command succeeded, or the negative errno of the failure (the reply
 * says why); -ENOBUFS if the reply did not fit in <out>, -EBUSY when
 * called from a handler.
 */
int
ctl_execute(struct ctl_server *server, const char *line, char *out,
	size_t out_len);

/* The server's own counters. */
const struct ctl_server_counters *
ctl_server_counters(const struct ctl_server *server);

/*
 * Writes the server's counters and the connections open now into
 * <reply> as the object <key> (the "control" section of stats).
 */
void
ctl_server_reply_counters(const struct ctl_server *server,
	struct ctl_reply *reply, const char *key);

/* Connections open now. */
unsigned int
ctl_server_clients(const struct ctl_server *server);

/* The socket path in use. */
const char *
ctl_server_path(const struct ctl_server *server);

/*
 * Reply writer for handlers. <key> names the value inside an object and
 * must be NULL inside an array. Values that do not fit the reply make it
 * "reply_too_large" for the client; loops over many rows should stop when
 * ctl_reply_full() says so.
 */
void
ctl_reply_object_begin(struct ctl_reply *reply, const char *key);

void
ctl_reply_object_end(struct ctl_reply *reply);

void
ctl_reply_array_begin(struct ctl_reply *reply, const char *key);

void
ctl_reply_array_end(struct ctl_reply *reply);

void
ctl_reply_str(struct ctl_reply *reply, const char *key, const char *value);

void
ctl_reply_strf(struct ctl_reply *reply, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void
ctl_reply_u64(struct ctl_reply *reply, const char *key, uint64_t value);

void
ctl_reply_i64(struct ctl_reply *reply, const char *key, int64_t value);

void
ctl_reply_bool(struct ctl_reply *reply, const char *key, bool value);

void
ctl_reply_double(struct ctl_reply *reply, const char *key, double value);

/* True once the reply has run out of room. */
bool
ctl_reply_full(const struct ctl_reply *reply);

/*
 * Records the error message for the client (up to 4 KiB; several lines,
 * such as a reload's "file:line: message" list, may be joined with '\n')
 * and returns <err> (a negative errno), so that a handler can "return
 * ctl_reply_error(reply, -EINVAL, ...)". The reply's code is the errno's
 * name ("EINVAL").
 */
int
ctl_reply_error(struct ctl_reply *reply, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Makes the read-only command <name> (already registered) a DPDK
 * telemetry command "/smbgw/<name>" (spaces become '_'); telemetry
 * parameters ("/smbgw/flows,10") are split at commas and blanks into
 * arguments. The reply becomes a dictionary with one entry per scalar,
 * keyed by its path ("ports/0/rx"), at most 256 entries. Requests
 * wait for the next ctl_server_poll() (at most 2 s). Only one server at a
 * time serves telemetry. Returns 0, -ENOENT for an unregistered name, or
 * the error of rte_telemetry_register_cmd().
 */
int
ctl_telemetry_register(struct ctl_server *server, const char *name);

/*
 * Lets dpdk-dumpcap capture on the gateway's ports (rte_pdump_init());
 * call after EAL init in the primary process. Returns 0 or a negative
 * errno.
 */
int
ctl_pdump_init(void);

void
ctl_pdump_uninit(void);

/* Configuration group control { } */

struct config_setting_t;
struct config_errors;

struct ctl_config {
	char socket_path[CTL_PATH_MAX];
	char group[CTL_GROUP_MAX];
	unsigned int max_clients;
	unsigned int max_clients_per_uid;
	unsigned int max_line;
	unsigned int request_timeout_ms;
	unsigned int idle_timeout_s;
};

/* Fills <cfg> with the defaults. Never fails. */
void
ctl_config_set_defaults(struct ctl_config *cfg);

/*
 * Loads the libconfig group <group> (NULL: absent, defaults apply) into
 * <out>, starting from the defaults:
 *
 *	control: { socket = "/run/smbgw/smbgw.sock"; group = "root";
 *	           max_clients = 16; max_clients_per_uid = 8;
 *	           max_line = 4096; request_timeout_ms = 10000;
 *	           idle_timeout = 60; };
 *
 * Each problem (unknown key, wrong type, out of range, relative or too
 * long path, unknown group) is appended to <errors> as "<file>:<line>:
 * message". Returns 0, or -EINVAL when it added errors.
 */
int
ctl_config_load(struct config_setting_t *group, const char *file,
	struct ctl_config *out, struct config_errors *errors);

/* Fills <params> from <cfg>; <params> points into <cfg>. */
void
ctl_params_from_config(struct ctl_params *params, const struct ctl_config *cfg);

#endif /* SMBGW_CTL_H */
