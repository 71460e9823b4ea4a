/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CONFIG_DCERPC_H
#define SMBGW_CONFIG_DCERPC_H

/*
 * The dcerpc { } configuration group: the table of DCE/RPC endpoints
 * learned from the endpoint mapper and DCOM (dataplane/endpoints.h) and
 * the port ranges where Windows hands out dynamic RPC ports.
 *
 *	dcerpc: {
 *	  endpoints = 4096;		# per worker
 *	  endpoint_expiry = 1800;	# seconds after the last answer
 *	  dynamic_ports = [ "49152-65535", "1024-5000" ];
 *	};
 */

#include <libconfig.h>

#include "endpoints.h"

struct config_errors;

struct config_dcerpc {
	unsigned int endpoints;
	unsigned int endpoint_expiry;	/* seconds */
	unsigned int range_count;
	struct endpoint_port_range ranges[ENDPOINT_RANGES_MAX];
};

void
config_dcerpc_defaults(struct config_dcerpc *cfg);

/* Loads <group> (the dcerpc { } setting) into <cfg>; errors to <errors>. */
void
config_dcerpc_load(config_setting_t *group, const char *file,
	struct config_dcerpc *cfg, struct config_errors *errors);

#endif /* SMBGW_CONFIG_DCERPC_H */
