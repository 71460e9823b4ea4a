/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_POLICY_CONFIG_H
#define SMBGW_POLICY_CONFIG_H

/*
 * Loader for the configuration group policy { } (syntax and every key in
 * docs/policy.md): fills the struct policy_spec that
 * policy_build() compiles. Needs no DPDK, so --check-config and reload
 * validation run it off the data path.
 *
 *	policy: {
 *	  mode = "enforce";		# or "monitor-only"
 *	  default_action = "allow";	# allow | deny | monitor
 *	  deny_action = "reset";	# reset | drop
 *	  trusted = [ "198.18.9.0/24" ];
 *	  segments = (
 *	    { name = "workstations"; vlans = [ 100 ];
 *	      prefixes = [ "198.18.1.0/24", "2001:db8:1::/48" ]; },
 *	    { name = "fileservers"; prefixes = [ "198.18.2.20/32" ]; }
 *	  );
 *	  rules = (
 *	    { from = "workstations"; to = "fileservers"; action = "deny";
 *	      share_class = "admin_share"; },
 *	    { from = "workstations"; to = "fileservers"; action = "allow"; }
 *	  );
 *	};
 */

#include <libconfig.h>

#include "config.h"
#include "match.h"
#include "policy.h"

/*
 * Fills <spec> with the policy of a configuration without a policy group:
 * enforce mode, default action allow, deny action reset, no segments but
 * "unassigned", no rules, nothing trusted. Never fails.
 */
void
policy_config_defaults(struct policy_spec *spec);

/*
 * Fills <spec> from the libconfig group <group> (NULL: the group is
 * absent, and <spec> gets the defaults of policy_config_defaults()).
 * Class names in rules are resolved against <watchlists>, the spec the watchlists
 * group was loaded into (so load that group first): a class id is its
 * position among the distinct class names of <watchlists> in order of
 * first appearance, as watchlist_compile() numbers them. Checks types,
 * unknown keys, names, prefixes, VLANs, duplicates, limits and rules that
 * can never match. Each problem is appended to <errors> as
 * "<file>:<line>: message"; loading goes on after an error so that one run
 * reports them all. Returns 0, or -EINVAL when it added errors (<spec>
 * must not be used then).
 */
int
policy_config_load(config_setting_t *group, const char *file,
	struct policy_spec *spec, const struct watchlist_spec *watchlists,
	struct config_errors *errors);

/*
 * Parses "198.18.1.0/24", "2001:db8::/32" or a bare address (a host:
 * /32 or /128) into <out> (line and segment left 0). Returns 0, -EINVAL
 * for bad syntax, or -EDOM when bits are set beyond the prefix length
 * (<out> then holds the address as written, for the message).
 */
int
policy_config_parse_prefix(const char *text, struct policy_prefix *out);

/* Writes <pfx> as "198.18.1.0/24" into <buf> (<len> bytes). */
void
policy_config_format_prefix(const struct policy_prefix *pfx, char *buf,
	size_t len);

#endif /* SMBGW_POLICY_CONFIG_H */
