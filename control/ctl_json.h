/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CTL_JSON_H
#define SMBGW_CTL_JSON_H

/*
 * The JSON of the control socket: a strict, bounded parser and a writer,
 * both without allocation and without DPDK, shared by the gateway's
 * control server (control/ctl.c) and the client (app/smbgwctl.c).
 *
 * Parser: RFC 8259 text into a caller-provided array of nodes. Strings are
 * decoded in place (escapes resolved, NUL-terminated), so the input buffer
 * must stay alive as long as the nodes. Limits: CTL_JSON_DEPTH_MAX - 1
 * containers nested (as deep as the writer nests, so that whatever is
 * parsed can be written back) and as many nodes as the caller provides. \u0000, lone
 * surrogates, raw control characters and anything beyond RFC 8259
 * (trailing commas, comments, single quotes, NaN) are refused.
 *
 * Writer: appends compact JSON to a fixed buffer. Commas and nesting are
 * tracked; a value that does not fit sets the overflow flag and nothing
 * more is written, so a truncated text is never mistaken for a whole one.
 * Misuse (a key inside an array, none inside an object, unbalanced ends)
 * sets the misuse flag. An optional leaf callback sees every scalar with
 * its dotted path ("ports.0.rx"), which is how replies become DPDK
 * telemetry dictionaries.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_JSON_DEPTH_MAX 16
#define CTL_JSON_PATH_MAX 128

enum ctl_json_type {
	CTL_JSON_NULL,
	CTL_JSON_FALSE,
	CTL_JSON_TRUE,
	CTL_JSON_NUMBER,	/* text kept as written, see ctl_json_node.str */
	CTL_JSON_STRING,
	CTL_JSON_ARRAY,
	CTL_JSON_OBJECT,
};

/*
 * One parsed value. Children of an array or object are linked by <next>
 * from <child>; indices are into the caller's node array, -1 for none.
 */
struct ctl_json_node {
	enum ctl_json_type type;
	const char *key;	/* member name inside an object, else NULL */
	const char *str;	/* STRING: decoded text; NUMBER: its literal */
	size_t len;		/* bytes of <str> (a string may hold no NUL) */
	int child;		/* first element or member */
	int next;		/* next sibling */
	unsigned int count;	/* ARRAY/OBJECT: number of children */
};

/*
 * Parses the NUL-terminated <text> (modified in place) as one JSON value,
 * surrounded by optional white space, into <nodes>[0..<max_nodes>); the
 * root is nodes[0]. Returns the number of nodes used, or -EINVAL when the
 * text is not JSON and -E2BIG when it needs more nodes or deeper nesting
 * than allowed; then <error> (may be NULL) receives a message naming the
 * byte offset.
 */
int
ctl_json_parse(char *text, struct ctl_json_node *nodes, unsigned int max_nodes,
	char *error, size_t error_len);

/* The member <key> of object node <obj> in <nodes>, or NULL. */
const struct ctl_json_node *
ctl_json_member(const struct ctl_json_node *nodes,
	const struct ctl_json_node *obj, const char *key);

/*
 * Called for each scalar written, with the dotted path of keys and array
 * indices that leads to it. Exactly one of the value arguments is
 * meaningful, as <type> says: STRING uses <str>; NUMBER uses <str> (the
 * literal), and for integers also <u64> or <i64> with <is_signed>;
 * TRUE/FALSE/NULL use nothing.
 */
struct ctl_json_leaf {
	enum ctl_json_type type;
	const char *str;
	uint64_t u64;
	int64_t i64;
	bool is_integer;
	bool is_signed;
};

typedef void (*ctl_json_leaf_cb)(void *arg, const char *path,
	const struct ctl_json_leaf *leaf);

/*
 * Writer state. The fields are the writer functions' business: create it
 * with ctl_json_writer_init() and read it through the accessors below.
 */
struct ctl_json_writer {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
	bool misuse;
	unsigned int depth;
	struct {
		bool array;
		unsigned int count;
		size_t path_len;
	} level[CTL_JSON_DEPTH_MAX];
	char path[CTL_JSON_PATH_MAX];
	size_t path_len;
	ctl_json_leaf_cb leaf_cb;
	void *leaf_arg;
};

/*
 * Starts writing into <buf> of <size> bytes (at least 1; the text is kept
 * NUL-terminated). <leaf_cb> (may be NULL) is called with <leaf_arg> for
 * every scalar.
 */
void
ctl_json_writer_init(struct ctl_json_writer *w, char *buf, size_t size,
	ctl_json_leaf_cb leaf_cb, void *leaf_arg);

/*
 * Opens an object or array. <key> names it inside an object and must be
 * NULL at the top and inside arrays.
 */
void
ctl_json_object_begin(struct ctl_json_writer *w, const char *key);

void
ctl_json_object_end(struct ctl_json_writer *w);

void
ctl_json_array_begin(struct ctl_json_writer *w, const char *key);

void
ctl_json_array_end(struct ctl_json_writer *w);

/* Scalars; <key> as for ctl_json_object_begin(). NULL <value> writes null. */
void
ctl_json_str(struct ctl_json_writer *w, const char *key, const char *value);

void
ctl_json_u64(struct ctl_json_writer *w, const char *key, uint64_t value);

void
ctl_json_i64(struct ctl_json_writer *w, const char *key, int64_t value);

void
ctl_json_bool(struct ctl_json_writer *w, const char *key, bool value);

/* Written with up to 6 significant digits; NaN and infinities as null. */
void
ctl_json_double(struct ctl_json_writer *w, const char *key, double value);

/*
 * Appends <len> bytes of already valid JSON <raw> as one value (the
 * leaf callback does not see it).
 */
void
ctl_json_raw(struct ctl_json_writer *w, const char *key, const char *raw,
	size_t len);

/* True when something did not fit in the buffer. */
bool
ctl_json_overflow(const struct ctl_json_writer *w);

/*
 * True when the text is complete and well formed: every object and array
 * closed, no overflow, no misuse.
 */
bool
ctl_json_complete(const struct ctl_json_writer *w);

/* Bytes written so far (the text is NUL-terminated in the buffer). */
size_t
ctl_json_length(const struct ctl_json_writer *w);

#endif /* SMBGW_CTL_JSON_H */
