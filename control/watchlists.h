/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_WATCHLISTS_H
#define SMBGW_WATCHLISTS_H

/*
 * Loader for the configuration group watchlists { } (see
 * dataplane/match/README.md for the syntax): builds the struct
 * watchlist_spec the data path compiles, and checks every pattern with
 * Hyperscan so that a bad one is a configuration error at its line.
 *
 *	watchlists: {
 *	  defaults = true;
 *	  shares = ( { class = "finance_share"; patterns = [ "^FINANCE\\$?$" ]; } );
 *	  pipes  = ( { class = "custom_pipe"; patterns = [ "^evilpipe$" ]; } );
 *	  files  = ( { class = "script"; patterns = [ "\\.(js|hta)$" ];
 *	               caseless = false; } );
 *	};
 */

#include <libconfig.h>

#include "config.h"
#include "match.h"

/*
 * Fills <spec> from the libconfig group <group> (NULL: the group is
 * absent, and <spec> gets the built-in defaults): the built-in entries
 * unless "defaults = false;", then the entries of shares, pipes and files
 * in file order. Checks types, unknown keys, limits and each pattern (by
 * compiling it), then compiles the whole spec once. Each problem is
 * appended to <errors> as "<file>:<line>: message"; loading goes on after
 * an error so that one run reports them all. Returns 0, or -EINVAL when
 * it added errors (<spec> must not be used then).
 */
int
watchlists_load(config_setting_t *group, const char *file,
	struct watchlist_spec *spec, struct config_errors *errors);

#endif /* SMBGW_WATCHLISTS_H */
