/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's commands on the running configuration: status,
 * reload, mode and log reopen.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway_pvt.h"

static uint64_t
monotonic_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

int
gateway_cmd_status(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	const struct gateway_config *cfg = gw->parts.cfg;

	(void)req;
	ctl_reply_str(r, "version", SMBGW_VERSION);
	ctl_reply_u64(r, "uptime_s",
		(monotonic_ns() - gw->parts.started_ns) / 1000000000ull);
	ctl_reply_str(r, "mode", policy_mode_name(gw->policy_spec->mode));
	ctl_reply_str(r, "gateway_mode", config_mode_name(cfg->mode));
	ctl_reply_u64(r, "policy_generation", gw->parts.generation);
	ctl_reply_str(r, "config", cfg->source);
	ctl_reply_u64(r, "ports", gw->dataplane.port_count);
	ctl_reply_u64(r, "workers", gw->dataplane.worker_count);
	return 0;
}

int
gateway_cmd_reload(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	struct config_errors *errors = gw->errors;
	struct config_changes changes;
	char text[4096];
	size_t used = 0;
	unsigned int i;

	(void)req;
	if (gateway_reload(gw, errors, &changes) != 0) {
		text[0] = '\0';
		for (i = 0; i < errors->count && used < sizeof(text); i++)
			used += snprintf(text + used, sizeof(text) - used,
				"%s%s", i ? "\n" : "", errors->messages[i]);
		return ctl_reply_error(r, -EINVAL, "%s", text);
	}
	ctl_reply_str(r, "config", gw->parts.cfg->source);
	ctl_reply_u64(r, "policy_generation", gw->parts.generation);
	ctl_reply_str(r, "applied", "policy, report.trusted");
	/* What the file changed but only a restart applies. */
	ctl_reply_array_begin(r, "restart_needed");
	for (i = 0; i < changes.count; i++) {
		snprintf(text, sizeof(text), "%s changed: %s",
			changes.keys[i], CONFIG_RESTART_NOTE);
		ctl_reply_str(r, NULL, text);
	}
	ctl_reply_array_end(r);
	return 0;
}

int
gateway_cmd_mode(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;

	if (req->argc != 1 || gateway_set_mode(gw, req->argv[0]) != 0)
		return ctl_reply_error(r, -EINVAL,
			"usage: mode enforce|monitor-only");
	ctl_reply_str(r, "mode", req->argv[0]);
	return 0;
}

int
gateway_cmd_log_reopen(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	int ret;

	(void)req;
	ret = gateway_reopen_logs(gw);
	if (ret != 0)
		return ctl_reply_error(r, ret, "cannot reopen %s: %s",
			gw->parts.cfg->output.path, strerror(-ret));
	ctl_reply_str(r, "eve", gw->parts.cfg->output.path);
	return 0;
}
