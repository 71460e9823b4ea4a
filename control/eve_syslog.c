/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "eve.h"
#include "eve_syslog.h"

#define SYSLOG_MESSAGE_MAX 4096
#define SYSLOG_FACILITY_DAEMON 3
#define CONNECT_TIMEOUT_MS 200

enum transport { LOCAL, UDP, TCP };

struct eve_syslog {
	enum transport transport;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int fd;
	time_t last_attempt;
	char hostname[256];
	struct eve_syslog_counters counters;
	char message[SYSLOG_MESSAGE_MAX + 16];
};

/* "udp://1.2.3.4:514", "tcp://[::1]:601", "" or "local". */
static int
parse_target(const char *target, enum transport *transport,
	struct sockaddr_storage *addr, socklen_t *addr_len)
{
	char host[EVE_SYSLOG_TARGET_MAX];
	const char *rest, *colon;
	unsigned long port;
	char *end;
	size_t len;

	memset(addr, 0, sizeof(*addr));
	if (target[0] == '\0' || strcmp(target, "local") == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)addr;

		*transport = LOCAL;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, "/dev/log");
		*addr_len = sizeof(*un);
		return 0;
	}
	if (strncmp(target, "udp://", 6) == 0)
		*transport = UDP;
	else if (strncmp(target, "tcp://", 6) == 0)
		*transport = TCP;
	else
		return -EINVAL;
	rest = target + 6;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		len = (size_t)(close - rest - 1);
		rest++;
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (colon == NULL)
			return -EINVAL;
		len = (size_t)(colon - rest);
	}
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, rest, len);
	host[len] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port == 0 || port > 65535 ||
			colon[1] == '\0')
		return -EINVAL;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)addr)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)addr;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*addr_len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*addr_len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

int
eve_syslog_check_target(const char *target)
{
	struct sockaddr_storage addr;
	enum transport transport;
	socklen_t len;

	return parse_target(target, &transport, &addr, &len);
}

/* (Re)connects; at most one attempt a second. */
static void
syslog_connect(struct eve_syslog *s)
{
	int type = s->transport == TCP ? SOCK_STREAM : SOCK_DGRAM;
	time_t now = time(NULL);
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t err_len = sizeof(err);

	if (s->fd >= 0 || now == s->last_attempt)
		return;
	s->last_attempt = now;
	fd = socket(s->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len) < 0) {
		if (errno != EINPROGRESS) {
			close(fd);
			return;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) != 1 ||
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
					&err_len) < 0 || err != 0) {
			close(fd);
			return;
		}
	}
	s->fd = fd;
	if (s->transport == TCP)
		s->counters.connects++;
}

struct eve_syslog *
eve_syslog_open(const char *target)
{
	struct eve_syslog *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	ret = parse_target(target, &s->transport, &s->addr, &s->addr_len);
	if (ret < 0) {
		free(s);
		errno = -ret;
		return NULL;
	}
	s->fd = -1;
	s->last_attempt = (time_t)-1;
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0 ||
			s->hostname[0] == '\0')
		strcpy(s->hostname, "-");
	syslog_connect(s);
	return s;
}

/* Appends an SD-PARAM: name="value" with '"', '\' and ']' escaped. */
static size_t
put_param(char *buf, size_t size, size_t at, const char *name,
	const char *value)
{
	size_t n;

	if (value == NULL || value[0] == '\0' || at >= size)
		return at;
	n = (size_t)snprintf(buf + at, size - at, " %s=\"", name);
	at += n;
	for (; *value != '\0' && at + 2 < size; value++) {
		if (*value == '"' || *value == '\\' || *value == ']')
			buf[at++] = '\\';
		buf[at++] = *value;
	}
	if (at + 1 < size)
		buf[at++] = '"';
	else
		at = size;
	if (at < size)
		buf[at] = '\0';
	return at;
}

/* RFC 5424 severity of a signature's severity (1 high .. 3 low). */
static int
syslog_severity(uint8_t severity)
{
	switch (severity) {
	case 1: return 1;	/* alert */
	case 2: return 4;	/* warning */
	default: return 5;	/* notice */
	}
}

size_t
eve_syslog_format(char *buf, size_t size, const struct detector_alert *a,
	const char *policy, const char *hostname, int pid)
{
	const struct detector_signature *sig = a->signature;
	const struct detector_evidence *e = a->evidence;
	const struct gw_event *ev = a->event;
	char when[40], src[INET6_ADDRSTRLEN], dest[INET6_ADDRSTRLEN];
	char number[24];
	size_t at;
	int af = a->ip_version == 6 ? AF_INET6 : AF_INET;

	if (size < 64)
		return 0;
	eve_format_time(ev != NULL ? ev->ts_ns : a->last_ns, when,
		sizeof(when));
	/* RFC 5424 wants the offset with a colon: +00:00. */
	memmove(when + strlen(when) - 2, when + strlen(when) - 3, 4);
	when[strlen(when) - 3] = ':';
	if (inet_ntop(af, a->client_addr, src, sizeof(src)) == NULL)
		src[0] = '\0';
	if (inet_ntop(af, a->server_addr, dest, sizeof(dest)) == NULL)
		dest[0] = '\0';
	at = (size_t)snprintf(buf, size, "<%d>1 %s %s smbgw %d alert [smbgw@32473",
		SYSLOG_FACILITY_DAEMON * 8 + syslog_severity(sig->severity),
		when, hostname, pid);
	if (at >= size)
		return 0;
	snprintf(number, sizeof(number), "%u", sig->id);
	at = put_param(buf, size, at, "sid", number);
	snprintf(number, sizeof(number), "%u", sig->severity);
	at = put_param(buf, size, at, "severity", number);
	at = put_param(buf, size, at, "category", sig->category);
	at = put_param(buf, size, at, "action", policy);
	at = put_param(buf, size, at, "src_ip", src);
	at = put_param(buf, size, at, "dest_ip", dest);
	if (ev != NULL) {
		snprintf(number, sizeof(number), "%u", ev->client_port);
		at = put_param(buf, size, at, "src_port", number);
		snprintf(number, sizeof(number), "%u", ev->server_port);
		at = put_param(buf, size, at, "dest_port", number);
		snprintf(number, sizeof(number), "%llu",
			(unsigned long long)eve_flow_id(ev->flow_id));
		at = put_param(buf, size, at, "flow_id", number);
	}
	at = put_param(buf, size, at, "mitre", a->mitre);
	at = put_param(buf, size, at, "user", e->user);
	at = put_param(buf, size, at, "domain", e->domain);
	at = put_param(buf, size, at, "share", e->share[0] != '\0' ?
		e->share : e->repeated_share);
	at = put_param(buf, size, at, "file", e->file);
	at = put_param(buf, size, at, "service", e->service);
	snprintf(number, sizeof(number), "%u", a->count);
	at = put_param(buf, size, at, "count", number);
	if (at + 3 >= size)
		return 0;
	at += (size_t)snprintf(buf + at, size - at, "] %s", sig->name);
	return at < size ? at : 0;
}

int
eve_syslog_alert(struct eve_syslog *s, const struct detector_alert *a,
	const char *policy)
{
	char *msg = s->message + 16;
	size_t len;
	ssize_t sent;
	int prefix;

	len = eve_syslog_format(msg, SYSLOG_MESSAGE_MAX, a, policy,
		s->hostname, (int)getpid());
	syslog_connect(s);
	if (len == 0 || s->fd < 0) {
		s->counters.dropped++;
		return -EAGAIN;
	}
	if (s->transport == TCP) {
		/* RFC 6587 octet counting: "LEN " before the message. */
		char count[16];

		prefix = snprintf(count, sizeof(count), "%zu ", len);
		msg -= prefix;
		memcpy(msg, count, (size_t)prefix);
		len += (size_t)prefix;
	}
	sent = send(s->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (sent == (ssize_t)len) {
		s->counters.sent++;
		return 0;
	}
	/* A stream cut inside a message cannot be resumed: reconnect. */
	if (s->transport == TCP || (sent < 0 && errno != EAGAIN)) {
		close(s->fd);
		s->fd = -1;
	}
	s->counters.dropped++;
	return -EAGAIN;
}

const struct eve_syslog_counters *
eve_syslog_counters(const struct eve_syslog *s)
{
	return &s->counters;
}

void
eve_syslog_close(struct eve_syslog *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
