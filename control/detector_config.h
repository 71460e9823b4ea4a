/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_DETECTOR_CONFIG_H
#define SMBGW_DETECTOR_CONFIG_H

/*
 * Loaders for the configuration groups of detection and its output
 * (docs/detection.md lists every key, default and range):
 *
 *	detector: {
 *	  window = 600; share_open_threshold = 3;
 *	  require = [ "logon", "admin_exec", "share_repeat" ];
 *	  max_pairs = 16384; max_clients = 4096;
 *	  logon_failures = 5; logon_failure_window = 60;
 *	  workstation_segments = [ "workstations" ];
 *	  rules: { service_creation = true; smb1 = false; };
 *	};
 *	output: { eve = "/var/log/smbgw/eve.json"; syslog = false; max_handles = 4096; };
 *	report: { days = 7; max_rows = 65536; trusted = [ "10.0.0.0/8" ]; };
 *
 * Each loader starts from the defaults, so an absent group (NULL) or key
 * keeps them; unknown keys, wrong types and values out of range are
 * errors at their line.
 */

#include <libconfig.h>

#include "config.h"
#include "detector.h"
#include "eve.h"
#include "report.h"

/*
 * Fills <params> from the group detector { } (<group> may be NULL).
 * Appends each problem to <errors> as "<file>:<line>: message" and goes
 * on. Returns 0, or -EINVAL when it added errors (<params> must not be
 * used then). The run-time fields (watchlist, segment lookup) are left
 * NULL.
 */
int
detector_config_load_detector(config_setting_t *group, const char *file,
	struct detector_params *params, struct config_errors *errors);

/* As above, for output { } into <params>. */
int
detector_config_load_output(config_setting_t *group, const char *file,
	struct eve_params *params, struct config_errors *errors);

/* As above, for report { } into <params>. */
int
detector_config_load_report(config_setting_t *group, const char *file,
	struct report_params *params, struct config_errors *errors);

#endif /* SMBGW_DETECTOR_CONFIG_H */
