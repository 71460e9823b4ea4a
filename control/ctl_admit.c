/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who gets a control connection, and for how long. The socket's mode and
 * SO_PEERCRED decide who may connect at all; then no uid holds more than
 * max_clients_per_uid connections, and nobody more than max_clients. A
 * newcomer that finds its uid's share full takes the place of its uid's
 * oldest idle connection; one that finds the server full, that of the
 * oldest idle connection of the uid holding the most (never of a uid
 * holding fewer than its own). So clients that connect and sit, or
 * trickle a request byte by byte, or reconnect as soon as they are
 * closed, cannot lock out a user holding fewer connections. Deadlines bound the rest: a
 * request must arrive whole, and its reply leave, within
 * request_timeout_ms of its first byte, however its bytes are spaced; a
 * connection with no request for idle_timeout_ms is closed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "ctl.h"
#include "ctl_json.h"
#include "ctl_pvt.h"

/*
 * Sends the error line {"ok":false,"code":<code>,...} to <fd> without
 * waiting, then shuts its writing side.
 */
static void
say_goodbye(int fd, const char *code, const char *message)
{
	char buf[CTL_ERROR_MAX + 128];
	struct ctl_json_writer w;
	unsigned int i;
	size_t len;

	ctl_json_writer_init(&w, buf, sizeof(buf) - 1, NULL, NULL);
	ctl_compose_error(&w, NULL, code, message);
	len = ctl_json_length(&w);
	buf[len++] = '\n';
	if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		CTL_LOG(DEBUG, "goodbye not sent: %s", strerror(errno));
	/*
	 * Unread input would make the peer's read fail with ECONNRESET
	 * before it sees why; take what has arrived.
	 */
	for (i = 0; i < 4; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
	shutdown(fd, SHUT_WR);
}

/* Tells a connection not admitted why, and closes it. */
static void
refuse(int fd, const char *code, const char *message)
{
	say_goodbye(fd, code, message);
	close(fd);
}

void
ctl_client_close(struct ctl_server *server, struct ctl_client *c)
{
	epoll_ctl(server->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	c->in_len = 0;
	c->backlog = false;
	server->client_count--;
}

/* Closes <c> after telling it why (it has no reply in progress). */
static void
close_with(struct ctl_server *server, struct ctl_client *c, const char *code,
	const char *message)
{
	say_goodbye(c->fd, code, message);
	ctl_client_close(server, c);
}

void
ctl_admit_request_done(struct ctl_client *c, uint64_t now, bool replied)
{
	if (replied)
		c->idle_since_ms = now;
	c->request_start_ms = c->in_len > 0 || c->discarding ? now : 0;
}

/* True when process <pid> has <gid> among its supplementary groups. */
static bool
pid_in_group(pid_t pid, gid_t gid)
{
	char path[64], line[4096];
	bool found = false;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "re");
	if (fp == NULL)
		return false;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *save = NULL, *tok;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (tok = strtok_r(line + 7, " \t\n", &save); tok != NULL;
				tok = strtok_r(NULL, " \t\n", &save))
			if (strtoul(tok, NULL, 10) == (unsigned long)gid)
				found = true;
		break;
	}
	fclose(fp);
	return found;
}

static unsigned int
clients_of_uid(const struct ctl_server *server, uid_t uid)
{
	unsigned int i, count = 0;

	for (i = 0; i < server->max_clients; i++)
		if (server->clients[i].fd >= 0 && server->clients[i].uid == uid)
			count++;
	return count;
}

/*
 * Whether <c> may be closed for a newcomer: nothing of its own is being
 * answered or waits to be (a request that trickles in counts as idle),
 * or its reply has been stuck for CTL_EVICT_STALLED_MS: a reader that
 * stopped reading.
 */
static bool
evictable(const struct ctl_client *c, uint64_t now)
{
	if (c->fd < 0 || c->backlog)
		return false;
	if (c->out == NULL)
		return true;
	return now - c->request_start_ms >= CTL_EVICT_STALLED_MS;
}

/*
 * The connection to close for a newcomer from <uid>, which holds
 * <held> connections, or NULL. Only a connection of <uid> itself, or of
 * a uid that holds more than <uid> does, may be taken, so that a user
 * cannot push out one who holds fewer; among those, one of the uid that
 * holds the most, and of its, the oldest idle: whose last reply (or
 * connection, if it never had one) is the oldest. A request trickling
 * in does not make it younger.
 */
static struct ctl_client *
pick_victim(struct ctl_server *server, uid_t uid, unsigned int held,
	uint64_t now)
{
	struct ctl_client *victim = NULL;
	unsigned int i, count, victim_count = 0;

	for (i = 0; i < server->max_clients; i++) {
		struct ctl_client *c = &server->clients[i];

		if (!evictable(c, now))
			continue;
		count = c->uid == uid ? held : clients_of_uid(server, c->uid);
		if (c->uid != uid && count <= held)
			continue;
		if (victim == NULL || count > victim_count ||
				(count == victim_count &&
				 c->idle_since_ms < victim->idle_since_ms)) {
			victim = c;
			victim_count = count;
		}
	}
	return victim;
}

/* The oldest idle connection of <uid>, or NULL. */
static struct ctl_client *
oldest_idle_of(struct ctl_server *server, uid_t uid, uint64_t now)
{
	struct ctl_client *oldest = NULL;
	unsigned int i;

	for (i = 0; i < server->max_clients; i++) {
		struct ctl_client *c = &server->clients[i];

		if (c->uid != uid || !evictable(c, now))
			continue;
		if (oldest == NULL || c->idle_since_ms < oldest->idle_since_ms)
			oldest = c;
	}
	return oldest;
}

static void
evict(struct ctl_server *server, struct ctl_client *c, uid_t for_uid)
{
	server->counters.evicted++;
	CTL_LOG(DEBUG, "evicted uid %u (pid %d), idle, for uid %u",
		(unsigned int)c->uid, (int)c->pid, (unsigned int)for_uid);
	/* A reply half sent cannot be followed by a word of ours. */
	if (c->out != NULL) {
		ctl_client_close(server, c);
		return;
	}
	close_with(server, c, "evicted",
		"closed while idle to admit another connection: the control socket was full");
}

/*
 * Makes room for a connection from <uid>: nothing to do under both
 * limits, else evicts a connection that frees the limit reached.
 * Returns 0, or -EBUSY after refusing <fd>.
 */
static int
make_room(struct ctl_server *server, int fd, uid_t uid, uint64_t now)
{
	unsigned int held = clients_of_uid(server, uid);
	struct ctl_client *victim;
	char message[160];

	if (held >= server->max_clients_per_uid) {
		victim = oldest_idle_of(server, uid, now);
		if (victim == NULL) {
			server->counters.refused_uid++;
			snprintf(message, sizeof(message),
				"uid %u has %u control connections open, the most one user may (control.max_clients_per_uid); try again",
				(unsigned int)uid, held);
			refuse(fd, "busy", message);
			return -EBUSY;
		}
		evict(server, victim, uid);
		return 0;
	}
	if (server->client_count < server->max_clients)
		return 0;
	victim = pick_victim(server, uid, held, now);
	if (victim == NULL) {
		server->counters.refused_busy++;
		refuse(fd, "busy", "too many control connections; try again");
		return -EBUSY;
	}
	evict(server, victim, uid);
	return 0;
}

void
ctl_admit_accept(struct ctl_server *server, uint64_t now)
{
	struct ucred cred;
	socklen_t cred_len;
	struct epoll_event ev;
	struct ctl_client *c;
	unsigned int i, n;
	int fd;

	for (n = 0; n < CTL_ACCEPTS_PER_POLL; n++) {
		fd = accept4(server->listen_fd, NULL, NULL,
			SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		cred_len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
				&cred_len) != 0) {
			close(fd);
			continue;
		}
		/* Defence in depth: the socket's mode already keeps others out. */
		if (cred.uid != 0 && cred.gid != server->gid &&
				!pid_in_group(cred.pid, server->gid)) {
			server->counters.refused_peer++;
			CTL_LOG(NOTICE, "refused uid %u (pid %d): neither root nor in group %u",
				(unsigned int)cred.uid, (int)cred.pid,
				(unsigned int)server->gid);
			refuse(fd, "permission_denied",
				"permission denied: the control socket serves root and its group only");
			continue;
		}
		if (make_room(server, fd, cred.uid, now) != 0)
			continue;
		for (i = 0; server->clients[i].fd >= 0; i++)
			;
		c = &server->clients[i];
		c->fd = fd;
		c->generation++;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->in_len = 0;
		c->discarding = false;
		c->eof = false;
		c->backlog = false;
		c->request_start_ms = 0;
		c->idle_since_ms = now;
		c->interest = EPOLLIN;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = ((uint64_t)c->generation << 32) | i;
		if (epoll_ctl(server->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			c->fd = -1;
			continue;
		}
		server->client_count++;
		server->counters.accepted++;
	}
}

void
ctl_admit_expire(struct ctl_server *server, uint64_t now)
{
	char message[128];
	unsigned int i;

	for (i = 0; i < server->max_clients; i++) {
		struct ctl_client *c = &server->clients[i];

		if (c->fd < 0)
			continue;
		if (c->request_start_ms != 0) {
			if (now - c->request_start_ms < server->request_timeout_ms)
				continue;
			if (c->out != NULL) {
				/* Its reply is half sent: nothing more to say. */
				server->counters.slow_closed++;
				ctl_client_close(server, c);
				continue;
			}
			server->counters.deadline_expired++;
			snprintf(message, sizeof(message),
				"request not complete within %u ms of its first byte",
				server->request_timeout_ms);
			close_with(server, c, "timeout", message);
			continue;
		}
		if (now - c->idle_since_ms < server->idle_timeout_ms)
			continue;
		if (c->out != NULL)
			server->counters.slow_closed++;
		else
			server->counters.idle_closed++;
		ctl_client_close(server, c);
	}
}
