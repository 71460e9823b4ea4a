/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_EVE_SYSLOG_H
#define SMBGW_EVE_SYSLOG_H

/*
 * Alerts as RFC 5424 syslog messages with structured data, to the local
 * syslog socket (/dev/log) or to a remote collector over UDP or TCP
 * (RFC 6587 octet counting). The SD-ID is "smbgw@32473" (32473 is the
 * private enterprise number RFC 5612 sets aside for documentation);
 * docs/detection.md, "Syslog", lists its parameters.
 *
 * Never blocks the control thread for long: the TCP connection is made
 * with a 200 ms limit at open and again, at most once a second, after it
 * broke; a message the socket does not take at once is dropped and
 * counted. Pure C, no DPDK; not thread-safe.
 */

#include <stdint.h>

#include "detector.h"

#define EVE_SYSLOG_TARGET_MAX 128

struct eve_syslog_counters {
	uint64_t sent;
	uint64_t dropped;	/* not taken by the socket, or not connected */
	uint64_t connects;	/* TCP connections made */
};

struct eve_syslog;

/*
 * Opens the output to <target>: "" or "local" for /dev/log,
 * "udp://ADDRESS:PORT" or "tcp://ADDRESS:PORT" (an IPv6 address in
 * brackets). Returns NULL and sets errno (EINVAL for a bad target).
 * A TCP collector that does not answer yet is not an error: messages are
 * dropped and counted until it does.
 */
struct eve_syslog *
eve_syslog_open(const char *target);

/* Checks <target> as eve_syslog_open() reads it: 0 or -EINVAL. */
int
eve_syslog_check_target(const char *target);

/*
 * Sends <alert> with the policy action <policy> ("allowed", "blocked",
 * "would-block"). Returns 0, or -EAGAIN when it was dropped (counted).
 */
int
eve_syslog_alert(struct eve_syslog *s, const struct detector_alert *alert,
	const char *policy);

/*
 * Formats the RFC 5424 message of <alert> into <buf> (NUL-terminated)
 * with <hostname>; returns its length, or 0 when it does not fit.
 */
size_t
eve_syslog_format(char *buf, size_t size, const struct detector_alert *alert,
	const char *policy, const char *hostname, int pid);

const struct eve_syslog_counters *
eve_syslog_counters(const struct eve_syslog *s);

void
eve_syslog_close(struct eve_syslog *s);

#endif /* SMBGW_EVE_SYSLOG_H */
