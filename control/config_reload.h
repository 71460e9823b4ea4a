/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CONFIG_RELOAD_H
#define SMBGW_CONFIG_RELOAD_H

/*
 * What a reload can and cannot apply. A running gateway applies the
 * policy { } of a file read again, and report.trusted; every other key was
 * used to size or start something (ports, pools, tables, the socket, the
 * EVE log) and takes effect only at the next start. Reload names each such key that changed,
 * so that "ok" never hides a change that did not happen.
 */

#include "config.h"

/* Keys listed at most; beyond, changes->dropped counts them. */
#define CONFIG_CHANGES_MAX 64
#define CONFIG_KEY_NAME_MAX 64

/* What reload says of each of them: "gateway.mtu changed: " CONFIG_RESTART_NOTE */
#define CONFIG_RESTART_NOTE "takes effect at restart"

/* Keys that differ but only take effect at restart. */
struct config_changes {
	unsigned int count;
	unsigned int dropped;
	char keys[CONFIG_CHANGES_MAX][CONFIG_KEY_NAME_MAX];	/* "gateway.mtu" */
};

/*
 * Compares <next>, the configuration file read again, with <running>, the
 * one the gateway started with, and lists in <changes> every key that
 * differs and that reload does not apply: all but policy { } and
 * report.trusted (applied) and watchlists { } (a file that changes them is
 * refused; see config_watchlists_changed()). output.eve is left out when
 * <running> took it from the command line. Every key of the loader's table
 * (config_table_key()) is compared, and the keys of the detector, output,
 * report and control groups; should one of those groups differ in a key
 * not named here, the group itself is listed ("report"), so that no change
 * goes unsaid. Returns the count.
 */
unsigned int
config_restart_changes(const struct gateway_config *running,
	const struct gateway_config *next, struct config_changes *changes);

/*
 * True when <next> defines other watchlist classes or patterns than
 * <running>: policies name classes by id, and the workers' watchlists are
 * fixed at start.
 */
bool
config_watchlists_changed(const struct gateway_config *running,
	const struct gateway_config *next);

#endif /* SMBGW_CONFIG_RELOAD_H */
