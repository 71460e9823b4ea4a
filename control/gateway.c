/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway object: its lifecycle and the control API proper (reload,
 * mode, log reopening, counters). The socket commands that call it are in
 * gateway_commands_*.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_memory.h>

#include "gateway_pvt.h"
#include "monitor.h"

struct gateway *
gateway_create(const struct gateway_parts *parts,
	const struct gateway_dataplane *dataplane, char *error,
	size_t error_len)
{
	struct gateway *gw;

	if (parts->cfg == NULL || parts->policy == NULL ||
			parts->monitor == NULL || parts->flowlog == NULL ||
			dataplane->sum == NULL || dataplane->worker == NULL ||
			dataplane->device == NULL) {
		snprintf(error, error_len,
			"the control API needs every running part");
		return NULL;
	}
	gw = calloc(1, sizeof(*gw));
	if (gw == NULL)
		goto no_memory;
	gw->parts = *parts;
	gw->dataplane = *dataplane;
	gw->policy_spec = malloc(sizeof(*gw->policy_spec));
	gw->next = malloc(sizeof(*gw->next));
	gw->errors = malloc(sizeof(*gw->errors));
	if (gw->policy_spec == NULL || gw->next == NULL || gw->errors == NULL) {
		gateway_free(gw);
		goto no_memory;
	}
	*gw->policy_spec = parts->cfg->policy;
	return gw;

no_memory:
	snprintf(error, error_len, "cannot allocate the control API");
	return NULL;
}

void
gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	free(gw->errors);
	free(gw->next);
	free(gw->policy_spec);
	free(gw);
}

/* Builds <spec> as the next generation and publishes it to the workers. */
static int
publish_policy(struct gateway *gw, const struct policy_spec *spec,
	char *error, size_t error_len)
{
	struct policy *next = policy_build(spec,
		(unsigned int)gw->parts.generation + 1, SOCKET_ID_ANY, error,
		error_len);

	if (next == NULL)
		return -EINVAL;
	/* Waits one loop pass of every worker, then frees the old policy. */
	if (policy_publish(gw->parts.policy, next) != 0) {
		snprintf(error, error_len, "cannot publish the policy");
		policy_free(next);
		return -EIO;
	}
	gw->parts.generation++;
	/* <spec> may be this very copy (a reload of the default). */
	if (spec != gw->policy_spec)
		*gw->policy_spec = *spec;
	return 0;
}

int
gateway_reload(struct gateway *gw, struct config_errors *errors,
	struct config_changes *changes)
{
	const struct gateway_config *cfg = gw->parts.cfg;
	char error[256];

	memset(errors, 0, sizeof(*errors));
	memset(changes, 0, sizeof(*changes));
	if (strcmp(cfg->source, "<default>") == 0)
		return publish_policy(gw, gw->policy_spec, error,
			sizeof(error)) == 0 ? 0 : -EINVAL;
	if (config_load_file(cfg->source, gw->next, errors) != 0)
		return -EINVAL;
	/*
	 * Policies name watchlist classes by id, and the workers' watchlists
	 * are fixed at start: a file that changes them needs a restart.
	 */
	if (config_watchlists_changed(cfg, gw->next)) {
		config_error_add(errors, cfg->source, 0,
			"the watchlists changed: restart the gateway to apply them");
		return -EINVAL;
	}
	/* The file decides again, its mode included. */
	if (publish_policy(gw, &gw->next->policy, error, sizeof(error)) != 0) {
		config_error_add(errors, cfg->source, 0, "%s", error);
		return -EINVAL;
	}
	/* The report leaves out the trusted prefixes of both groups. */
	monitor_set_trusted(gw->parts.monitor, gw->next);
	config_restart_changes(cfg, gw->next, changes);
	return 0;
}

int
gateway_reopen_logs(struct gateway *gw)
{
	return monitor_reopen(gw->parts.monitor);
}

int
gateway_set_mode(struct gateway *gw, const char *mode)
{
	/* The running policy in the other mode, built in reload's scratch. */
	struct policy_spec *spec = &gw->next->policy;
	char error[256];

	*spec = *gw->policy_spec;
	if (strcmp(mode, "enforce") == 0)
		spec->mode = POLICY_MODE_ENFORCE;
	else if (strcmp(mode, "monitor-only") == 0)
		spec->mode = POLICY_MODE_MONITOR_ONLY;
	else
		return -EINVAL;
	return publish_policy(gw, spec, error, sizeof(error));
}

uint64_t
gateway_generation(const struct gateway *gw)
{
	return gw->parts.generation;
}

void
gateway_stats(const struct gateway *gw, struct gateway_counters *out)
{
	memset(out, 0, sizeof(*out));
	gw->dataplane.sum(gw->dataplane.ctx, out);
}

int
gateway_register_commands(struct gateway *gw, struct ctl_server *server)
{
	/* In the order "help" lists them. */
	static const struct {
		const char *name;
		ctl_handler_t handler;
		const char *help;
	} commands[] = {
		{ "status", gateway_cmd_status,
			"version, uptime, mode, policy generation, config path" },
		{ "stats", gateway_cmd_stats,
			"ports, workers, drops by reason, decode (malformed by reason), flows, parsers, policy, events, control socket" },
		{ "flows", gateway_cmd_flows, "flows [FILTER] [LIMIT]: SMB and DCE/RPC flows" },
		{ "segments", gateway_cmd_segments, "segments: names, prefixes, VLANs" },
		{ "rules", gateway_cmd_rules, "rules: in order, first match wins" },
		{ "policy check", gateway_cmd_policy_check,
			"policy check SRC DST [PORT]: which rule, which verdict" },
		{ "alerts", gateway_cmd_alerts, "alerts [SINCE]: alerts raised, SINCE in epoch seconds" },
		{ "report", gateway_cmd_report, "report [YYYY-MM-DD] [csv]: SMB traffic allowed" },
		{ "reload", gateway_cmd_reload, "read and check the configuration file again" },
		{ "mode", gateway_cmd_mode, "mode enforce|monitor-only" },
		{ "log reopen", gateway_cmd_log_reopen, "reopen the EVE log" },
	};
	unsigned int i;
	int ret;

	gw->ctl = server;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		ret = ctl_register(server, commands[i].name,
			commands[i].handler, gw, commands[i].help);
		if (ret != 0)
			return ret;
	}
	return 0;
}
