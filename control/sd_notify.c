/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sd_notify.h"

static int
parse_u64(const char *text, uint64_t *value)
{
	char *end;
	unsigned long long v;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*value = v;
	return 0;
}

int
sd_notifier_open(struct sd_notifier *n, const char *notify_socket,
	const char *watchdog_usec, const char *watchdog_pid, pid_t self)
{
	size_t len;
	uint64_t pid;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (notify_socket == NULL || notify_socket[0] == '\0')
		return 0;
	len = strlen(notify_socket);
	if ((notify_socket[0] != '/' && notify_socket[0] != '@') ||
			len >= sizeof(n->addr.sun_path))
		return -EINVAL;
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, notify_socket, len);
	/* An abstract name: '@' stands for the leading NUL byte. */
	if (notify_socket[0] == '@')
		n->addr.sun_path[0] = '\0';
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		len + (notify_socket[0] == '/' ? 1 : 0));

	if (parse_u64(watchdog_usec, &n->watchdog_usec) != 0)
		n->watchdog_usec = 0;
	if (watchdog_pid != NULL && (parse_u64(watchdog_pid, &pid) != 0 ||
			pid != (uint64_t)self))
		n->watchdog_usec = 0;

	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0) {
		n->watchdog_usec = 0;
		return -errno;
	}
	return 0;
}

int
sd_notifier_open_env(struct sd_notifier *n)
{
	return sd_notifier_open(n, getenv("NOTIFY_SOCKET"),
		getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid());
}

bool
sd_notifier_enabled(const struct sd_notifier *n)
{
	return n->fd >= 0;
}

int
sd_notifier_send(const struct sd_notifier *n, const char *state)
{
	ssize_t sent;

	if (n->fd < 0)
		return 0;
	sent = sendto(n->fd, state, strlen(state), MSG_NOSIGNAL,
		(const struct sockaddr *)&n->addr, n->addr_len);
	if (sent < 0)
		return -errno;
	return 0;
}

void
sd_notifier_close(struct sd_notifier *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->watchdog_usec = 0;
}
