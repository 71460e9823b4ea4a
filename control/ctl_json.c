/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl_json.h"

/*
 * Length of the UTF-8 sequence at <s> (at most <avail> bytes), or 0 when
 * it is not valid UTF-8 (overlong forms, surrogates and code points above
 * U+10FFFF included), so that neither side ever passes on invalid text.
 */
static size_t
utf8_sequence(const unsigned char *s, size_t avail)
{
	unsigned int cp, need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 1;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < need + 1)
		return 0;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
			(cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need + 1;
}

/* Parser */

struct parser {
	char *text;
	size_t pos;
	struct ctl_json_node *nodes;
	unsigned int max_nodes;
	unsigned int used;
	int err;
	char *error;
	size_t error_len;
};

static int
parse_fail(struct parser *p, int err, const char *what)
{
	if (p->err == 0) {
		p->err = err;
		if (p->error != NULL && p->error_len > 0)
			snprintf(p->error, p->error_len, "%s at byte %zu",
				what, p->pos);
	}
	return -1;
}

static void
skip_space(struct parser *p)
{
	while (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' ||
			p->text[p->pos] == '\n' || p->text[p->pos] == '\r')
		p->pos++;
}

static int
hex4(const char *s, unsigned int *out)
{
	unsigned int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
utf8_encode(char *dst, unsigned int cp)
{
	if (cp < 0x80) {
		dst[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = (char)(0xc0 | (cp >> 6));
		dst[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (char)(0xe0 | (cp >> 12));
		dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		dst[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	dst[0] = (char)(0xf0 | (cp >> 18));
	dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	dst[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* An escape \uXXXX (or a surrogate pair) at p->pos, past the backslash. */
static int
parse_unicode_escape(struct parser *p, unsigned int *cp)
{
	unsigned int hi, lo;

	if (hex4(p->text + p->pos + 1, &hi) != 0)
		return parse_fail(p, -EINVAL, "bad \\u escape");
	p->pos += 5;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return parse_fail(p, -EINVAL, "lone low surrogate");
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u' ||
				hex4(p->text + p->pos + 2, &lo) != 0 ||
				lo < 0xdc00 || lo > 0xdfff)
			return parse_fail(p, -EINVAL, "lone high surrogate");
		p->pos += 6;
		hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (hi == 0)
		return parse_fail(p, -EINVAL, "\\u0000 in a string");
	*cp = hi;
	return 0;
}

/*
 * Decodes the string whose opening quote is at p->pos into the same
 * place; the decoded text is never longer than its escaped form.
 */
static int
parse_string(struct parser *p, const char **out, size_t *out_len)
{
	char *dst = p->text + p->pos + 1;
	char *start = dst;
	/* Set by parse_unicode_escape() whenever it succeeds; GCC's -O3
	 * cannot see that through parse_fail(). */
	unsigned int cp = 0;
	size_t n;

	p->pos++;
	for (;;) {
		unsigned char c = (unsigned char)p->text[p->pos];

		if (c == '"')
			break;
		if (c == '\0')
			return parse_fail(p, -EINVAL, "unterminated string");
		if (c < 0x20)
			return parse_fail(p, -EINVAL,
				"control character in a string");
		if (c != '\\') {
			n = utf8_sequence((const unsigned char *)p->text +
				p->pos, strnlen(p->text + p->pos, 4));
			if (n == 0)
				return parse_fail(p, -EINVAL, "invalid UTF-8");
			memmove(dst, p->text + p->pos, n);
			dst += n;
			p->pos += n;
			continue;
		}
		p->pos++;
		switch (p->text[p->pos]) {
		case '"': *dst++ = '"'; break;
		case '\\': *dst++ = '\\'; break;
		case '/': *dst++ = '/'; break;
		case 'b': *dst++ = '\b'; break;
		case 'f': *dst++ = '\f'; break;
		case 'n': *dst++ = '\n'; break;
		case 'r': *dst++ = '\r'; break;
		case 't': *dst++ = '\t'; break;
		case 'u':
			if (parse_unicode_escape(p, &cp) != 0)
				return -1;
			dst += utf8_encode(dst, cp);
			continue;
		default:
			return parse_fail(p, -EINVAL, "bad escape");
		}
		p->pos++;
	}
	p->pos++;
	*out_len = (size_t)(dst - start);
	*dst = '\0';
	*out = start;
	return 0;
}

static int
parse_number(struct parser *p, struct ctl_json_node *node)
{
	const char *s = p->text;
	size_t start = p->pos, i = p->pos;

	if (s[i] == '-')
		i++;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return parse_fail(p, -EINVAL, "bad number");
	}
	if (s[i] == '.') {
		i++;
		if (!(s[i] >= '0' && s[i] <= '9'))
			return parse_fail(p, -EINVAL, "bad number");
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		if (!(s[i] >= '0' && s[i] <= '9'))
			return parse_fail(p, -EINVAL, "bad number");
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	node->type = CTL_JSON_NUMBER;
	node->str = s + start;
	node->len = i - start;
	p->pos = i;
	return 0;
}

static int
parse_literal(struct parser *p, const char *word, enum ctl_json_type type,
	struct ctl_json_node *node)
{
	size_t len = strlen(word);

	if (strncmp(p->text + p->pos, word, len) != 0)
		return parse_fail(p, -EINVAL, "unexpected character");
	p->pos += len;
	node->type = type;
	return 0;
}

static int parse_value(struct parser *p, unsigned int depth);

/* Elements of an array, or members of an object, up to <close>. */
static int
parse_children(struct parser *p, int parent, unsigned int depth, char close)
{
	bool object = close == '}';
	int last = -1, child;
	const char *key = NULL;
	size_t key_len;

	p->pos++;
	skip_space(p);
	if (p->text[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		skip_space(p);
		if (object) {
			if (p->text[p->pos] != '"')
				return parse_fail(p, -EINVAL,
					"expected a member name");
			if (parse_string(p, &key, &key_len) != 0)
				return -1;
			if (strlen(key) != key_len)
				return parse_fail(p, -EINVAL,
					"NUL in a member name");
			skip_space(p);
			if (p->text[p->pos] != ':')
				return parse_fail(p, -EINVAL, "expected ':'");
			p->pos++;
		}
		child = parse_value(p, depth + 1);
		if (child < 0)
			return -1;
		p->nodes[child].key = key;
		if (last < 0)
			p->nodes[parent].child = child;
		else
			p->nodes[last].next = child;
		last = child;
		p->nodes[parent].count++;
		skip_space(p);
		if (p->text[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->text[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return parse_fail(p, -EINVAL, object ?
			"expected ',' or '}'" : "expected ',' or ']'");
	}
}

/* Returns the index of the node parsed, or -1. */
static int
parse_value(struct parser *p, unsigned int depth)
{
	struct ctl_json_node *node;
	int index;

	if (p->used == p->max_nodes)
		return parse_fail(p, -E2BIG, "too many values");
	index = (int)p->used++;
	node = &p->nodes[index];
	memset(node, 0, sizeof(*node));
	node->child = -1;
	node->next = -1;
	skip_space(p);
	/* No deeper than the writer nests (CTL_JSON_DEPTH_MAX - 1
	 * containers; the root value is at depth 1): what is parsed can be
	 * written back. */
	if ((p->text[p->pos] == '{' || p->text[p->pos] == '[') &&
			depth >= CTL_JSON_DEPTH_MAX)
		return parse_fail(p, -E2BIG, "nested too deeply");
	switch (p->text[p->pos]) {
	case '{':
		node->type = CTL_JSON_OBJECT;
		return parse_children(p, index, depth, '}') == 0 ? index : -1;
	case '[':
		node->type = CTL_JSON_ARRAY;
		return parse_children(p, index, depth, ']') == 0 ? index : -1;
	case '"':
		node->type = CTL_JSON_STRING;
		return parse_string(p, &node->str, &node->len) == 0 ?
			index : -1;
	case 't':
		return parse_literal(p, "true", CTL_JSON_TRUE, node) == 0 ?
			index : -1;
	case 'f':
		return parse_literal(p, "false", CTL_JSON_FALSE, node) == 0 ?
			index : -1;
	case 'n':
		return parse_literal(p, "null", CTL_JSON_NULL, node) == 0 ?
			index : -1;
	case '\0':
		return parse_fail(p, -EINVAL, "unexpected end");
	case '-':
	case '0' ... '9':
		return parse_number(p, node) == 0 ? index : -1;
	default:
		return parse_fail(p, -EINVAL, "unexpected character");
	}
}

int
ctl_json_parse(char *text, struct ctl_json_node *nodes, unsigned int max_nodes,
	char *error, size_t error_len)
{
	struct parser p = {
		.text = text,
		.nodes = nodes,
		.max_nodes = max_nodes,
		.error = error,
		.error_len = error_len,
	};

	if (error != NULL && error_len > 0)
		error[0] = '\0';
	if (parse_value(&p, 1) < 0)
		return p.err;
	skip_space(&p);
	if (text[p.pos] != '\0') {
		parse_fail(&p, -EINVAL, "text after the value");
		return p.err;
	}
	return (int)p.used;
}

const struct ctl_json_node *
ctl_json_member(const struct ctl_json_node *nodes,
	const struct ctl_json_node *obj, const char *key)
{
	int i;

	if (obj->type != CTL_JSON_OBJECT)
		return NULL;
	for (i = obj->child; i >= 0; i = nodes[i].next)
		if (strcmp(nodes[i].key, key) == 0)
			return &nodes[i];
	return NULL;
}

/* Writer */

void
ctl_json_writer_init(struct ctl_json_writer *w, char *buf, size_t size,
	ctl_json_leaf_cb leaf_cb, void *leaf_arg)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->size = size;
	w->leaf_cb = leaf_cb;
	w->leaf_arg = leaf_arg;
	/* Level 0 is the document: one value, no key, like an array. */
	w->level[0].array = true;
	if (size > 0)
		buf[0] = '\0';
	else
		w->overflow = true;
}

static bool
usable(const struct ctl_json_writer *w)
{
	return !w->overflow && !w->misuse;
}

static void
put(struct ctl_json_writer *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	if (w->len + n + 1 > w->size) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void
putf(struct ctl_json_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
putf(struct ctl_json_writer *w, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		w->misuse = true;
		return;
	}
	put(w, tmp, (size_t)n);
}

/* Writes <s> as a JSON string; invalid UTF-8 bytes become U+FFFD. */
static void
put_string(struct ctl_json_writer *w, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, n, left = strlen(s);
	char esc[8];

	put(w, "\"", 1);
	while (i < left && !w->overflow) {
		unsigned char c = u[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			run++;
			i++;
			continue;
		}
		put(w, s + i - run, run);
		run = 0;
		if (c >= 0x80) {
			n = utf8_sequence(u + i, left - i);
			if (n == 0) {
				put(w, "\\ufffd", 6);
				i++;
			} else {
				put(w, s + i, n);
				i += n;
			}
			continue;
		}
		switch (c) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(w, esc, 6);
		}
		i++;
	}
	put(w, s + i - run, run);
	put(w, "\"", 1);
}

/*
 * Everything before a value: checks <key> against the container, writes
 * the comma and "key":, and extends the path. False when nothing may be
 * written.
 */
static bool
begin_value(struct ctl_json_writer *w, const char *key)
{
	unsigned int d = w->depth;
	size_t base = w->level[d].path_len;
	int n;

	if (!usable(w))
		return false;
	if ((key != NULL) == w->level[d].array ||
			(d == 0 && w->level[0].count > 0)) {
		w->misuse = true;
		return false;
	}
	if (w->level[d].count > 0)
		put(w, ",", 1);
	if (key != NULL) {
		put_string(w, key);
		put(w, ":", 1);
	}
	if (d > 0) {
		const char *dot = base > 0 ? "." : "";

		n = key != NULL ?
			snprintf(w->path + base, sizeof(w->path) - base,
				"%s%s", dot, key) :
			snprintf(w->path + base, sizeof(w->path) - base,
				"%s%u", dot, w->level[d].count);
		w->path_len = base + (n < 0 ? 0 : (size_t)n);
		if (w->path_len >= sizeof(w->path))
			w->path_len = sizeof(w->path) - 1;
	}
	w->level[d].count++;
	return !w->overflow;
}

/* After a scalar: tells the leaf callback, restores the container's path. */
static void
end_scalar(struct ctl_json_writer *w, const struct ctl_json_leaf *leaf)
{
	if (w->leaf_cb != NULL && usable(w))
		w->leaf_cb(w->leaf_arg, w->path, leaf);
	w->path_len = w->level[w->depth].path_len;
	w->path[w->path_len] = '\0';
}

static void
container_begin(struct ctl_json_writer *w, const char *key, bool array)
{
	if (w->depth + 1 >= CTL_JSON_DEPTH_MAX) {
		w->misuse = true;
		return;
	}
	if (!begin_value(w, key))
		return;
	put(w, array ? "[" : "{", 1);
	w->depth++;
	w->level[w->depth].array = array;
	w->level[w->depth].count = 0;
	w->level[w->depth].path_len = w->path_len;
}

static void
container_end(struct ctl_json_writer *w, bool array)
{
	if (!usable(w))
		return;
	if (w->depth == 0 || w->level[w->depth].array != array) {
		w->misuse = true;
		return;
	}
	put(w, array ? "]" : "}", 1);
	w->depth--;
	w->path_len = w->level[w->depth].path_len;
	w->path[w->path_len] = '\0';
}

void
ctl_json_object_begin(struct ctl_json_writer *w, const char *key)
{
	container_begin(w, key, false);
}

void
ctl_json_object_end(struct ctl_json_writer *w)
{
	container_end(w, false);
}

void
ctl_json_array_begin(struct ctl_json_writer *w, const char *key)
{
	container_begin(w, key, true);
}

void
ctl_json_array_end(struct ctl_json_writer *w)
{
	container_end(w, true);
}

void
ctl_json_str(struct ctl_json_writer *w, const char *key, const char *value)
{
	struct ctl_json_leaf leaf = { .type = CTL_JSON_STRING, .str = value };

	if (!begin_value(w, key))
		return;
	if (value == NULL) {
		put(w, "null", 4);
		leaf.type = CTL_JSON_NULL;
	} else {
		put_string(w, value);
	}
	end_scalar(w, &leaf);
}

void
ctl_json_u64(struct ctl_json_writer *w, const char *key, uint64_t value)
{
	struct ctl_json_leaf leaf = {
		.type = CTL_JSON_NUMBER,
		.u64 = value,
		.is_integer = true,
	};
	char *start;

	if (!begin_value(w, key))
		return;
	start = w->buf + w->len;
	putf(w, "%" PRIu64, value);
	leaf.str = start;
	end_scalar(w, &leaf);
}

void
ctl_json_i64(struct ctl_json_writer *w, const char *key, int64_t value)
{
	struct ctl_json_leaf leaf = {
		.type = CTL_JSON_NUMBER,
		.i64 = value,
		.is_integer = true,
		.is_signed = true,
	};
	char *start;

	if (!begin_value(w, key))
		return;
	start = w->buf + w->len;
	putf(w, "%" PRId64, value);
	leaf.str = start;
	end_scalar(w, &leaf);
}

void
ctl_json_bool(struct ctl_json_writer *w, const char *key, bool value)
{
	struct ctl_json_leaf leaf = {
		.type = value ? CTL_JSON_TRUE : CTL_JSON_FALSE,
	};

	if (!begin_value(w, key))
		return;
	put(w, value ? "true" : "false", value ? 4 : 5);
	end_scalar(w, &leaf);
}

void
ctl_json_double(struct ctl_json_writer *w, const char *key, double value)
{
	struct ctl_json_leaf leaf = { .type = CTL_JSON_NUMBER };
	char *start;

	if (!begin_value(w, key))
		return;
	start = w->buf + w->len;
	if (isfinite(value)) {
		putf(w, "%.6g", value);
		leaf.str = start;
	} else {
		put(w, "null", 4);
		leaf.type = CTL_JSON_NULL;
	}
	end_scalar(w, &leaf);
}

void
ctl_json_raw(struct ctl_json_writer *w, const char *key, const char *raw,
	size_t len)
{
	if (!begin_value(w, key))
		return;
	put(w, raw, len);
	w->path_len = w->level[w->depth].path_len;
	w->path[w->path_len] = '\0';
}

bool
ctl_json_overflow(const struct ctl_json_writer *w)
{
	return w->overflow;
}

bool
ctl_json_complete(const struct ctl_json_writer *w)
{
	return usable(w) && w->depth == 0 && w->level[0].count == 1;
}

size_t
ctl_json_length(const struct ctl_json_writer *w)
{
	return w->len;
}
