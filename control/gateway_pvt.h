/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_GATEWAY_PVT_H
#define SMBGW_GATEWAY_PVT_H

/*
 * The gateway object, shared by its lifecycle (gateway.c) and its control
 * socket commands (gateway_commands_*.c). Only the control thread touches
 * it.
 */

#include "ctl.h"
#include "gateway_api.h"
#include "policy.h"

struct gateway {
	struct gateway_parts parts;
	struct gateway_dataplane dataplane;
	struct policy_spec *policy_spec;	/* the running policy */
	struct gateway_config *next;		/* reload's, mode's scratch */
	struct config_errors *errors;		/* reload command's scratch */
	struct ctl_server *ctl;			/* once registered */
};

/* The commands, one group per file; arg is the struct gateway. */
int gateway_cmd_status(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);
int gateway_cmd_reload(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);
int gateway_cmd_mode(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);
int gateway_cmd_log_reopen(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);

int gateway_cmd_stats(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);

int gateway_cmd_flows(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);
int gateway_cmd_alerts(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);
int gateway_cmd_report(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);

int gateway_cmd_segments(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);
int gateway_cmd_rules(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);
int gateway_cmd_policy_check(void *arg, const struct ctl_request *req,
	struct ctl_reply *r);

#endif /* SMBGW_GATEWAY_PVT_H */
