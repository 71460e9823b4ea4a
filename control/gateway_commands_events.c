/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's commands on what the control core saw: flows,
 * alerts and the report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowlog.h"
#include "gateway_pvt.h"
#include "monitor.h"
#include "report.h"

#define FLOWS_LIMIT_DEFAULT 100

struct flows_walk {
	struct ctl_reply *reply;
	const char *filter;
	unsigned int left;
};

static int
reply_flow_line(void *arg, const char *line)
{
	struct flows_walk *walk = arg;

	if (walk->filter != NULL && strstr(line, walk->filter) == NULL)
		return 0;
	if (walk->left == 0)
		return 1;
	walk->left--;
	ctl_reply_str(walk->reply, NULL, line);
	return 0;
}

/* flows [FILTER] [LIMIT]: SMB and DCE/RPC flows whose line has FILTER. */
int
gateway_cmd_flows(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	struct flows_walk walk = { r, NULL, FLOWS_LIMIT_DEFAULT };
	unsigned int i;

	for (i = 0; i < req->argc; i++) {
		char *end;
		unsigned long limit = strtoul(req->argv[i], &end, 10);

		if (*end == '\0' && end != req->argv[i])
			walk.left = (unsigned int)limit;
		else
			walk.filter = req->argv[i];
	}
	ctl_reply_array_begin(r, "flows");
	flowlog_lines(gw->parts.flowlog, reply_flow_line, &walk);
	ctl_reply_array_end(r);
	return 0;
}

/* alerts [SINCE]: SINCE in seconds since the epoch. */
int
gateway_cmd_alerts(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	const struct monitor_alert *alerts;
	uint64_t since_ns = 0;
	unsigned int count, i;

	if (req->argc > 1)
		return ctl_reply_error(r, -EINVAL, "usage: alerts [SINCE]");
	if (req->argc == 1) {
		char *end;
		unsigned long long since = strtoull(req->argv[0], &end, 10);

		if (*end != '\0')
			return ctl_reply_error(r, -EINVAL,
				"SINCE is seconds since the epoch, not '%s'",
				req->argv[0]);
		since_ns = since * 1000000000ull;
	}
	alerts = monitor_alerts(gw->parts.monitor, &count);
	ctl_reply_array_begin(r, "alerts");
	for (i = 0; i < count; i++) {
		const struct monitor_alert *a = &alerts[i];

		if (a->last_ns < since_ns)
			continue;
		ctl_reply_object_begin(r, NULL);
		ctl_reply_u64(r, "signature_id", a->signature_id);
		ctl_reply_str(r, "signature", a->signature);
		ctl_reply_str(r, "mitre", a->mitre);
		ctl_reply_u64(r, "count", a->count);
		ctl_reply_u64(r, "first_seen", a->first_ns / 1000000000ull);
		ctl_reply_u64(r, "last_seen", a->last_ns / 1000000000ull);
		ctl_reply_str(r, "user", a->user);
		ctl_reply_str(r, "auth", a->auth);
		ctl_reply_str(r, "share", a->share);
		ctl_reply_str(r, "file", a->file);
		ctl_reply_str(r, "service", a->service);
		ctl_reply_str(r, "command", a->command);
		ctl_reply_str(r, "operations", a->operations);
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
	return 0;
}

/* report [DAY] [csv]: DAY as YYYY-MM-DD (UTC), all days kept otherwise. */
int
gateway_cmd_report(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	uint32_t day = REPORT_ALL_DAYS;
	bool csv = false;
	char *text = NULL;
	size_t len = 0;
	unsigned int i;
	FILE *out;

	for (i = 0; i < req->argc; i++) {
		struct tm tm;

		if (strcmp(req->argv[i], "csv") == 0) {
			csv = true;
			continue;
		}
		memset(&tm, 0, sizeof(tm));
		if (strptime(req->argv[i], "%Y-%m-%d", &tm) == NULL)
			return ctl_reply_error(r, -EINVAL,
				"usage: report [YYYY-MM-DD] [csv]");
		day = (uint32_t)(timegm(&tm) / 86400);
	}
	out = open_memstream(&text, &len);
	if (out == NULL)
		return ctl_reply_error(r, -ENOMEM, "out of memory");
	if (csv)
		report_write_csv(monitor_report(gw->parts.monitor), out, day);
	else
		report_write_json(monitor_report(gw->parts.monitor), out, day);
	fclose(out);
	ctl_reply_str(r, csv ? "csv" : "json", text);
	free(text);
	return 0;
}
