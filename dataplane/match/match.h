/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_MATCH_H
#define SMBGW_MATCH_H

/*
 * Watchlists: Hyperscan pattern sets run on decoded SMB names (share,
 * named pipe, file), never on raw packets. A name that matches tags the
 * fact it came from with a bitmask of classes ("admin_share",
 * "remote_exec_pipe", "executable", ...); policy rules and the detector
 * refer to classes by name.
 *
 * Pure C on Hyperscan (or Vectorscan, same API); no DPDK types.
 *
 * Lifetime and threads:
 *  - A struct watchlist_spec is plain data (fixed arrays, no allocation):
 *    the built-in defaults plus whatever the configuration adds.
 *  - watchlist_compile() turns a spec into a struct watchlist, which is
 *    immutable from then on and shared read-only by every worker.
 *  - Each worker owns one struct watchlist_scratch (Hyperscan scratch
 *    space plus that worker's per-class match counters). A scratch is
 *    used by one thread at a time and never shared.
 *
 * Scratch across reloads: a scratch is valid for every watchlist it has
 * been sized for, by watchlist_scratch_alloc() or watchlist_scratch_grow().
 * On reload the control thread compiles the new watchlist and then either
 *  (a) allocates a fresh scratch per worker with watchlist_scratch_alloc()
 *      and publishes { watchlist, scratches } together under RCU; after
 *      the grace period it reads the old scratches' counters and frees
 *      them with the old watchlist. Workers never allocate. Preferred.
 *  (b) or sends each worker the new watchlist; the worker, between bursts
 *      (never inside one), calls watchlist_scratch_grow() on its own
 *      scratch, which reallocates only when the new databases need more
 *      scratch than the old ones (rare: a few hundred bytes either way),
 *      then watchlist_scratch_reset_counters() since class ids are those
 *      of the new watchlist. The old watchlist is freed after every
 *      worker has switched.
 * Using a scratch that was not sized for a watchlist is safe: Hyperscan
 * rejects it, the name is reported as matching nothing and counted in
 * scan_errors.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of a spec; all storage is fixed-size. */
#define WATCHLIST_CLASSES_MAX		32	/* one bit each in a match mask */
#define WATCHLIST_ENTRIES_MAX		128	/* patterns, all kinds together */
#define WATCHLIST_PATTERN_MAX		256	/* bytes, NUL included */
#define WATCHLIST_CLASS_NAME_MAX	32	/* bytes, NUL included */

/* What a name is; each kind has its own pattern database. */
enum watch_kind {
	WATCH_KIND_SHARE,	/* tree connect path or share name */
	WATCH_KIND_PIPE,	/* named pipe, with or without \PIPE\ */
	WATCH_KIND_FILE,	/* file path within a share */
	WATCH_KIND_COUNT,
};

/* One pattern tagging names of <kind> with class <class_name>. */
struct watchlist_entry {
	enum watch_kind kind;
	bool caseless;
	int line;		/* source line in the config, 0 if built in */
	char class_name[WATCHLIST_CLASS_NAME_MAX];
	char pattern[WATCHLIST_PATTERN_MAX];	/* Hyperscan PCRE subset */
};

/* The patterns a watchlist is compiled from, in order. */
struct watchlist_spec {
	unsigned int count;
	struct watchlist_entry entries[WATCHLIST_ENTRIES_MAX];
};

struct watchlist;
struct watchlist_scratch;

/* Per-worker counters, read from a scratch by its owner or once quiescent. */
struct watchlist_counters {
	uint64_t names[WATCH_KIND_COUNT];	/* names classified, per kind */
	uint64_t matches[WATCHLIST_CLASSES_MAX];	/* names per class id */
	uint64_t scan_errors;	/* Hyperscan failures (scratch not sized) */
	uint64_t memo_hits;	/* names answered from memory, not scanned */
};

/* Empties <spec>. Never fails. */
void
watchlist_spec_clear(struct watchlist_spec *spec);

/*
 * Fills <spec> with the built-in watchlists (see README.md): classes
 * admin_share, ipc_share, remote_exec_pipe, recon_pipe, executable.
 * Never fails.
 */
void
watchlist_spec_set_defaults(struct watchlist_spec *spec);

/*
 * Appends one pattern to <spec>. <class_name> must be 1 to
 * WATCHLIST_CLASS_NAME_MAX - 1 characters of [A-Za-z0-9_]; <line> is kept
 * for error messages (0 if none). The pattern itself is checked only when
 * compiled. Returns 0, -ENOSPC when the spec already holds
 * WATCHLIST_ENTRIES_MAX entries, -ENAMETOOLONG when the pattern does not
 * fit WATCHLIST_PATTERN_MAX, or -EINVAL for a bad kind, an empty pattern
 * or a bad class name.
 */
int
watchlist_spec_add(struct watchlist_spec *spec, enum watch_kind kind,
	const char *class_name, const char *pattern, bool caseless, int line);

/*
 * Number of distinct class names in <spec> (which may exceed
 * WATCHLIST_CLASSES_MAX; watchlist_compile() then refuses it).
 */
unsigned int
watchlist_spec_class_count(const struct watchlist_spec *spec);

/*
 * Checks one pattern on its own, as watchlist_compile() would compile it.
 * Returns 0 if Hyperscan accepts it, or -EINVAL with Hyperscan's message
 * in <error> (<error_len> bytes, NUL-terminated).
 */
int
watchlist_pattern_check(const char *pattern, bool caseless, char *error,
	size_t error_len);

/*
 * Compiles <spec> into a watchlist: one Hyperscan block-mode database per
 * kind that has patterns. Class ids are given in order of first appearance
 * in the spec, from 0. Returns the watchlist, or NULL with errno set and a
 * message in <error> (<error_len> bytes; may be NULL if 0):
 *  EINVAL  a pattern Hyperscan refuses: 'pattern "..." (class C, kind K):
 *          <Hyperscan message>'; or more than WATCHLIST_CLASSES_MAX classes;
 *          or an entry that watchlist_spec_add() would refuse
 *  ENOMEM  out of memory
 * An empty spec compiles to a watchlist that matches nothing.
 */
struct watchlist *
watchlist_compile(const struct watchlist_spec *spec, char *error,
	size_t error_len);

/* Frees <wl> (NULL is allowed). No scratch may be scanning with it. */
void
watchlist_free(struct watchlist *wl);

/* Number of classes in <wl> (ids 0 to count - 1). */
unsigned int
watchlist_class_count(const struct watchlist *wl);

/* Name of class <id> in <wl>, or NULL if there is no such class. */
const char *
watchlist_class_name(const struct watchlist *wl, unsigned int id);

/* Id of the class called <name> in <wl>, or -ENOENT. */
int
watchlist_class_id(const struct watchlist *wl, const char *name);

/*
 * Allocates a scratch for one worker, valid for <wl>, with zeroed
 * counters; cache-line aligned. Returns NULL with errno EINVAL (NULL
 * <wl>) or ENOMEM. Call from a control path, not per packet.
 */
struct watchlist_scratch *
watchlist_scratch_alloc(const struct watchlist *wl);

/*
 * Makes <scratch> valid for <wl> as well as for the watchlists it was
 * already sized for; reallocates the Hyperscan part only if <wl> needs
 * more. Counters are kept. <scratch> must not be in use by another thread.
 * Returns 0, -EINVAL for NULL arguments or -ENOMEM (the scratch then
 * stays valid for what it was valid for before).
 */
int
watchlist_scratch_grow(struct watchlist_scratch *scratch,
	const struct watchlist *wl);

/*
 * Whether <scratch> remembers the classes of recent names (on by default):
 * off, every name is scanned (to measure the scan alone).
 */
void
watchlist_scratch_remember(struct watchlist_scratch *scratch, bool on);

/* Frees <scratch> (NULL is allowed). */
void
watchlist_scratch_free(struct watchlist_scratch *scratch);

/* Counters of <scratch>; valid while the scratch lives. */
const struct watchlist_counters *
watchlist_scratch_counters(const struct watchlist_scratch *scratch);

/* Zeroes the counters of <scratch>. Never fails. */
void
watchlist_scratch_reset_counters(struct watchlist_scratch *scratch);

/*
 * Classifies one decoded name (UTF-8 or ASCII bytes, not NUL-terminated)
 * of <kind> against <wl>, using <scratch>. Names are normalised first:
 *  share  the share component of a UNC path ("\\srv\ADMIN$" -> "ADMIN$");
 *         a bare share name is used as is
 *  pipe   leading '\' or '/' and a "PIPE\" prefix (any case) removed
 *         ("\PIPE\svcctl" -> "svcctl")
 *  file   the whole path, less a trailing "::$DATA" stream suffix
 * Returns the bitmask of class ids that matched (bit id), 0 for none, for
 * an empty name, an unknown kind, or a Hyperscan failure (counted). Counts
 * the name and each matching class in <scratch>. No allocation, no locks.
 */
uint32_t
watchlist_match(const struct watchlist *wl, struct watchlist_scratch *scratch,
	enum watch_kind kind, const char *name, size_t len);

/*
 * Finds the share name in <path> (<len> bytes), as watchlist_match() does
 * for WATCH_KIND_SHARE: "\\server\share" gives "share", "share" gives
 * "share", "\\server" gives an empty name. Sets <*out> (inside <path>) and
 * <*out_len>. Never fails.
 */
void
watchlist_share_name(const char *path, size_t len, const char **out,
	size_t *out_len);

/* Strips a pipe name as watchlist_match() does for WATCH_KIND_PIPE. */
void
watchlist_pipe_name(const char *name, size_t len, const char **out,
	size_t *out_len);

/* "share", "pipe", "file", or "?" for an unknown kind. */
const char *
watchlist_kind_name(enum watch_kind kind);

#endif /* SMBGW_MATCH_H */
