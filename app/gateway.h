/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_APP_GATEWAY_H
#define SMBGW_APP_GATEWAY_H

/*
 * The two ways the daemon runs once its configuration is loaded: live on
 * DPDK ports, or offline over a capture file. Both return the process
 * exit status.
 */

#include "config.h"

/* Runs on the ports of <cfg>; <eal_argc>/<eal_argv> go to rte_eal_init. */
int
gateway_run_live(const struct gateway_config *cfg, int eal_argc,
	char **eal_argv);

/* Runs the worker pipeline over the capture <pcap_path> and summarises. */
int
gateway_run_offline(const struct gateway_config *cfg, const char *pcap_path);

/*
 * Releases EAL (rte_eal_cleanup) and removes this process's EAL run
 * directory. Call once, last.
 */
void
gateway_eal_cleanup(void);

#endif /* SMBGW_APP_GATEWAY_H */
