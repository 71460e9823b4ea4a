/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the control socket's JSON (control/ctl_json): what
 * a client sends is parsed as the gateway parses a request. Text accepted
 * must come back out of the writer whole, and parse again to the same
 * tree: written once more, the same bytes. Every node's links stay inside
 * the array, every string's length is what strlen() says (the parser
 * refuses \u0000), numbers hold no NUL and every member has a key.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"

#define NODES 256

static char first[1 << 17], second[1 << 17], third[1 << 17];

/* Writes node <i> of <nodes> (<count> used) with <key> into <w>. */
static void
write_node(struct ctl_json_writer *w, const struct ctl_json_node *nodes,
	int count, int i, const char *key, unsigned int depth)
{
	const struct ctl_json_node *n = &nodes[i];
	int c;

	if (i < 0 || i >= count || depth > CTL_JSON_DEPTH_MAX)
		abort();
	switch (n->type) {
	case CTL_JSON_NULL:
		ctl_json_str(w, key, NULL);
		break;
	case CTL_JSON_TRUE:
	case CTL_JSON_FALSE:
		ctl_json_bool(w, key, n->type == CTL_JSON_TRUE);
		break;
	case CTL_JSON_NUMBER:
		/* A literal as written, in place: not terminated. */
		if (n->len == 0 || memchr(n->str, '\0', n->len) != NULL)
			abort();
		ctl_json_raw(w, key, n->str, n->len);
		break;
	case CTL_JSON_STRING:
		if (strlen(n->str) != n->len)
			abort();
		ctl_json_str(w, key, n->str);
		break;
	case CTL_JSON_ARRAY:
		ctl_json_array_begin(w, key);
		for (c = n->child; c >= 0; c = nodes[c].next) {
			if (c >= count || nodes[c].key != NULL)
				abort();
			write_node(w, nodes, count, c, NULL, depth + 1);
		}
		ctl_json_array_end(w);
		break;
	case CTL_JSON_OBJECT:
		ctl_json_object_begin(w, key);
		for (c = n->child; c >= 0; c = nodes[c].next) {
			if (c >= count || nodes[c].key == NULL)
				abort();
			write_node(w, nodes, count, c, nodes[c].key, depth + 1);
		}
		ctl_json_object_end(w);
		break;
	default:
		abort();
	}
}

/* Every scalar's dotted path fits the writer's path buffer. */
static void
check_leaf(void *arg, const char *path, const struct ctl_json_leaf *leaf)
{
	(void)arg;
	(void)leaf;
	if (strlen(path) >= CTL_JSON_PATH_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_json_node nodes[NODES], again[NODES];
	struct ctl_json_writer w;
	char error[128], *text;
	int count, count_again;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	count = ctl_json_parse(text, nodes, NODES, error, sizeof(error));
	if (count > NODES || (count <= 0 && count != -EINVAL &&
			count != -E2BIG))
		abort();
	if (count > 0) {
		ctl_json_writer_init(&w, first, sizeof(first), check_leaf, NULL);
		write_node(&w, nodes, count, 0, NULL, 0);
		if (!ctl_json_complete(&w) && !ctl_json_overflow(&w))
			abort();
		if (ctl_json_complete(&w)) {
			/* The writer's text is JSON the parser takes back. */
			memcpy(second, first, ctl_json_length(&w) + 1);
			count_again = ctl_json_parse(second, again, NODES,
				error, sizeof(error));
			if (count_again != count)
				abort();
			ctl_json_writer_init(&w, third, sizeof(third), NULL,
				NULL);
			write_node(&w, again, count_again, 0, NULL, 0);
			if (!ctl_json_complete(&w) || strcmp(first, third) != 0)
				abort();
		}
	}
	free(text);
	return 0;
}
