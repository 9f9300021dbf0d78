/* SPDX-License-Identifier: BSD-2-Clause */
/* Compile-once, run-per-record wrapper around libjq. */
#include <jq.h>
#include <stdlib.h>
#include <string.h>

#include "jqx.h"
#include "util.h"

#define MAX_PATH 16

struct jqx {
	jq_state *jq;
	char *expr;
	struct buf *errors;   /* where messages go while compiling, else NULL */
	char *path[MAX_PATH]; /* a simple path .a.b."c d", walked without jq */
	size_t npath;         /* 0: not one */
};

/* Parse expr as .a.b."c d" into q->path; false (and nothing kept) when it is not one. */
static bool
parse_path(const char *expr, struct jqx *q)
{
	const char *p = expr;

	while (*p == ' ')
		p++;
	if (*p != '.' || p[1] == '\0')
		return false;
	while (*p == '.') {
		struct buf name = BUF_INIT;

		p++;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0' || *p == '\\') { /* escapes: leave them to jq */
					buf_free(&name);
					goto no;
				}
				buf_putc(&name, *p);
			}
			p++;
		} else {
			while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
				(*p >= '0' && *p <= '9' && name.len > 0))
				buf_putc(&name, *p++);
		}
		if (name.len == 0 || q->npath == MAX_PATH) {
			buf_free(&name);
			goto no;
		}
		q->path[q->npath++] = (char *)buf_cstr(&name);
	}
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return true;
no:
	while (q->npath > 0)
		free(q->path[--q->npath]);
	return false;
}

/* libjq's error callback: collect messages while compiling, drop them after. */
static void
collect_error(void *data, jv msg)
{
	struct jqx *q = data;
	const char *text;

	if (q->errors != NULL) {
		msg = jq_format_error(msg);
		text = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "error";
		if (strncmp(text, "jq: error: ", 11) == 0)
			text += 11;
		if (strncmp(text, "jq: ", 4) != 0) { /* skip the "jq: 1 compile error" tally */
			/* One line: jq goes on with a copy of the program after a newline. */
			size_t len = strcspn(text, "\n");

			if (len > 0 && text[len - 1] == ':')
				len--;
			if (q->errors->len > 0)
				buf_puts(q->errors, "; ");
			buf_add(q->errors, text, len);
		}
	}
	jv_free(msg);
}

struct jqx *
jqx_compile(const char *expr, struct buf *err)
{
	struct jqx *q = xcalloc(1, sizeof(*q));
	size_t before = err->len;

	q->jq = jq_init();
	if (q->jq == NULL)
		die(EXIT_SOFTWARE, "cannot initialise libjq");
	q->expr = xstrdup(expr);
	q->errors = err;
	jq_set_error_cb(q->jq, collect_error, q);
	/* An object of named arguments: arrays were double-freed before 1.6-2.1+deb12u3. */
	if (!jq_compile_args(q->jq, expr, jv_object())) {
		if (err->len == before)
			buf_puts(err, "syntax error");
		jqx_free(q);
		return NULL;
	}
	q->errors = NULL;
	parse_path(expr, q);
	return q;
}

bool
jqx_is_path(const struct jqx *q)
{
	return q->npath > 0;
}

/* A simple path on input (consumed): its value, or invalid when jq must say why not. */
static jv
walk(const struct jqx *q, jv input)
{
	jv v = input;

	for (size_t i = 0; i < q->npath; i++) {
		if (jv_get_kind(v) == JV_KIND_NULL)
			return v; /* .a of null is null */
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			return jv_invalid(); /* an error: jq's own message */
		}
		v = jv_object_get(v, jv_string(q->path[i]));
		if (!jv_is_valid(v)) {
			jv_free(v);
			return jv_null();
		}
	}
	return v;
}

jv
jqx_first(struct jqx *q, jv input)
{
	jv result;

	if (q->npath > 0) {
		result = walk(q, jv_copy(input));
		if (jv_is_valid(result)) {
			jv_free(input);
			return result;
		}
	}
	jq_start(q->jq, input, 0); /* also resets what the last run left */
	result = jq_next(q->jq);
	if (!jv_is_valid(result)) {
		jv msg = jv_invalid_get_msg(result);

		if (jv_get_kind(msg) == JV_KIND_NULL) {
			jv_free(msg);
			return jv_invalid_with_msg(jv_string("produced no output"));
		}
		if (jv_get_kind(msg) != JV_KIND_STRING)
			msg = jv_dump_string(msg, 0);
		return jv_invalid_with_msg(msg);
	}
	return result;
}

const char *
jqx_expr(const struct jqx *q)
{
	return q->expr;
}

void
jqx_free(struct jqx *q)
{
	if (q == NULL)
		return;
	jq_teardown(&q->jq);
	while (q->npath > 0)
		free(q->path[--q->npath]);
	free(q->expr);
	free(q);
}
