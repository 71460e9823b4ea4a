/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "output_status.h"

void
output_status_init(struct output_status *status, const char *what,
	const char *path, const char *unit)
{
	memset(status, 0, sizeof(*status));
	snprintf(status->name, sizeof(status->name), "%s%s%s", what,
		path != NULL ? " " : "", path != NULL ? path : "");
	status->unit = unit;
}

void
output_log(int priority, const char *fmt, ...)
{
	char line[OUTPUT_STATUS_NAME_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "smbgw: %s\n", line);
	fflush(stderr);
	syslog(LOG_DAEMON | priority, "%s", line);
}

void
output_status_written(struct output_status *status, uint64_t records)
{
	char line[OUTPUT_STATUS_NAME_MAX + 128];

	status->counters.written += records;
	if (!status->failing)
		return;
	status->failing = false;
	snprintf(line, sizeof(line), "%s: writing resumed after %" PRIu64
		" %s dropped", status->name, status->dropped_in_episode,
		status->unit);
	output_log(LOG_NOTICE, "%s", line);
}

static void
episode_begin(struct output_status *status, const char *cause)
{
	char line[OUTPUT_STATUS_NAME_MAX + 192];

	if (status->failing)
		return;
	status->failing = true;
	status->dropped_in_episode = 0;
	status->counters.episodes++;
	snprintf(line, sizeof(line), "%s: %s; %s are dropped and counted until it recovers",
		status->name, cause, status->unit);
	output_log(LOG_WARNING, "%s", line);
}

void
output_status_failed(struct output_status *status, int err, uint64_t records)
{
	char cause[128];

	status->counters.errors++;
	status->counters.dropped += records;
	snprintf(cause, sizeof(cause), "write failed: %s", strerror(err));
	episode_begin(status, cause);
	status->dropped_in_episode += records;
}

void
output_status_dropped(struct output_status *status, uint64_t records)
{
	status->counters.dropped += records;
	episode_begin(status, "not open");
	status->dropped_in_episode += records;
}
