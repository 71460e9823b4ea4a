/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CTL_PVT_H
#define SMBGW_CTL_PVT_H

/*
 * Inside the control socket server: its state, shared by ctl.c (registry,
 * requests, client I/O, telemetry), ctl_admit.c (who gets a connection and
 * for how long) and ctl_config.c (control { }).
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <rte_log.h>

#include "ctl.h"
#include "ctl_json.h"

extern int ctl_logtype;
#define CTL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, ctl_logtype, "ctl: " fmt "\n", \
		##__VA_ARGS__)

#define CTL_NAME_MAX 64
#define CTL_WORDS_MAX (CTL_ARGS_MAX + 4)
#define CTL_REQUEST_NODES (CTL_ARGS_MAX + 8)
#define CTL_NUMBER_MAX 32		/* a numeric argument's literal */
#define CTL_EVENTS_PER_POLL 32
#define CTL_ACCEPTS_PER_POLL 16
#define CTL_LINES_PER_POLL 8		/* per client, so none starves others */
#define CTL_ENVELOPE_MAX 1024		/* reply line around the result */
#define CTL_ERROR_MAX 4096		/* room for a reload's file:line list */
#define CTL_TELEMETRY_WAIT_S 2

/* epoll tags beside client slots */
#define TAG_LISTEN UINT32_MAX
#define TAG_WAKE (UINT32_MAX - 1)

struct ctl_command {
	char name[CTL_NAME_MAX];
	char telemetry_name[CTL_NAME_MAX + 8];	/* "/smbgw/..." or "" */
	unsigned int words;
	ctl_handler_t handler;
	void *ctx;
	const char *help;
};

struct ctl_client {
	int fd;				/* -1: free slot */
	uint32_t generation;		/* tells reused slots apart in epoll */
	uint32_t interest;		/* epoll events registered */
	uid_t uid;
	pid_t pid;
	char *in;			/* max_line + 2 bytes */
	size_t in_len;
	bool discarding;		/* inside an oversized line */
	bool eof;
	bool backlog;			/* complete lines wait for the next poll */
	char *out;			/* the reply being sent, or NULL */
	size_t out_len;
	size_t out_off;
	/*
	 * The request in progress (received in part, or answered with its
	 * reply not yet gone) began at request_start_ms, 0 if none: the
	 * deadline runs from there and bytes that trickle in do not move it.
	 */
	uint64_t request_start_ms;
	/* Connected, or last reply sent: idleness and eviction order. */
	uint64_t idle_since_ms;
};

struct ctl_reply {
	struct ctl_json_writer w;
	int err;
	char error[CTL_ERROR_MAX];
};

struct ctl_server {
	char path[CTL_PATH_MAX];
	char lock_path[CTL_PATH_MAX + 8];
	ino_t socket_ino;		/* removed at free only if still ours */
	int listen_fd;
	int epoll_fd;
	int wake_fd;			/* eventfd: telemetry request waiting */
	int lock_fd;
	gid_t gid;
	unsigned int max_clients;
	unsigned int max_clients_per_uid;
	unsigned int max_line;
	size_t max_reply;
	unsigned int idle_timeout_ms;
	unsigned int request_timeout_ms;
	struct ctl_client *clients;
	unsigned int client_count;
	bool backlog;
	bool dispatching;		/* shared buffers in use */
	char *result_buf;		/* max_reply */
	char *line_buf;			/* max_reply + CTL_ENVELOPE_MAX */
	struct ctl_command commands[CTL_COMMANDS_MAX];
	unsigned int command_count;
	struct ctl_server_counters counters;
};

static inline uint64_t
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ctl.c */

/* Writes an error reply line {"ok":false,...} into <w>. */
void
ctl_compose_error(struct ctl_json_writer *w, const char *command,
	const char *code, const char *message);

/* ctl_admit.c */

/*
 * Accepts what waits on the listening socket (at most
 * CTL_ACCEPTS_PER_POLL): checks the peer, applies the per-uid and total
 * limits, evicting the oldest idle connection when one is full.
 */
void
ctl_admit_accept(struct ctl_server *server, uint64_t now);

/* Closes connections past their request deadline or idle timeout. */
void
ctl_admit_expire(struct ctl_server *server, uint64_t now);

/*
 * Marks <c>'s request as finished (its reply sent, or a blank line):
 * what is already buffered starts the next one's deadline at <now>.
 * <replied>: a reply left, so the client counts as active at <now>.
 */
void
ctl_admit_request_done(struct ctl_client *c, uint64_t now, bool replied);

/* Frees <c>'s slot: epoll, socket, pending reply. */
void
ctl_client_close(struct ctl_server *server, struct ctl_client *c);

/* ctl_config.c */

/* The gid of group <name> (a name or a number). 0 or -ENOENT. */
int
ctl_resolve_group(const char *name, gid_t *gid);

#endif /* SMBGW_CTL_PVT_H */
