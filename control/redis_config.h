/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_REDIS_CONFIG_H
#define SMBGW_REDIS_CONFIG_H

/*
 * Loader of output.redis { } (docs/configuration.md lists every key):
 *
 *	output: {
 *	  redis: {
 *	    server = "198.18.250.2"; port = 6379;
 *	    key = "smbgw:eve"; mode = "list";	# or "stream", "pubsub"
 *	    user = "smbgw"; password = "...";	# AUTH, ACL user optional
 *	    queue_size = 4096; timeout_ms = 1000; stream_maxlen = 100000;
 *	    report = true; report_key = "smbgw:report";
 *	  };
 *	};
 */

#include <libconfig.h>

#include "config.h"
#include "redis_output.h"

/*
 * Fills <params> from the group redis { } (<group> may be NULL: the
 * defaults, output off). Appends each problem to <errors> at its line and
 * goes on. Returns 0, or -EINVAL when it added errors.
 */
int
redis_config_load(config_setting_t *group, const char *file,
	struct redis_output_params *params, struct config_errors *errors);

#endif /* SMBGW_REDIS_CONFIG_H */
