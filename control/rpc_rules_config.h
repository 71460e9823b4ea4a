/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_RPC_RULES_CONFIG_H
#define SMBGW_RPC_RULES_CONFIG_H

/*
 * Loader of detector.rpc_rules, the per-row configuration of the DCE/RPC
 * rule table (docs/detection.md):
 *
 *	rpc_rules: {
 *	  dcsync = { severity = 1; allowed_segments = [ "domain_controllers" ]; };
 *	  discovery = false;		# the same as { enabled = false; }
 *	  backupkey = { enabled = true; severity = 3; };
 *	};
 *
 * A row absent keeps its defaults; a row given as a group keeps the
 * defaults of the keys it does not name (allowed_segments, when given,
 * replaces the default list).
 */

#include <libconfig.h>

#include "config.h"
#include "rpc_rules.h"

/*
 * Applies the group <group> (not NULL) to <params>. Appends each problem to
 * <errors> as "<file>:<line>: message" and goes on.
 */
void
rpc_rules_config_load(config_setting_t *group, const char *file,
	struct rpc_rules_params *params, struct config_errors *errors);

#endif /* SMBGW_RPC_RULES_CONFIG_H */
