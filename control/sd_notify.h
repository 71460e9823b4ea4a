/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_SD_NOTIFY_H
#define SMBGW_SD_NOTIFY_H

/*
 * The service manager's notification protocol (sd_notify(3)) without
 * libsystemd: datagrams such as "READY=1" or "WATCHDOG=1" to the AF_UNIX
 * socket named by $NOTIFY_SOCKET (a path, or an abstract name written with
 * a leading '@'). Outside systemd the variable is unset and every call
 * does nothing.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

struct sd_notifier {
	int fd;				/* -1: no service manager */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_usec;		/* 0: no watchdog asked for */
};

/*
 * Prepares <n> from the values of NOTIFY_SOCKET, WATCHDOG_USEC and
 * WATCHDOG_PID (each may be NULL) for the process <self>: a watchdog
 * meant for another process (WATCHDOG_PID set and not <self>) is ignored,
 * as sd_watchdog_enabled(3) does. Returns 0 (also when there is nothing to
 * notify), or -errno for a socket name that cannot be used.
 */
int
sd_notifier_open(struct sd_notifier *n, const char *notify_socket,
	const char *watchdog_usec, const char *watchdog_pid, pid_t self);

/* sd_notifier_open() with this process's environment and pid. */
int
sd_notifier_open_env(struct sd_notifier *n);

/* Whether a service manager listens. */
bool
sd_notifier_enabled(const struct sd_notifier *n);

/*
 * Sends <state> ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=...",
 * several separated by '\n') without blocking. Returns 0, also when no
 * manager listens, or -errno.
 */
int
sd_notifier_send(const struct sd_notifier *n, const char *state);

void
sd_notifier_close(struct sd_notifier *n);

#endif /* SMBGW_SD_NOTIFY_H */
