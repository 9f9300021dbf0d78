/* SPDX-License-Identifier: BSD-2-Clause */
/* Compile-once, run-per-record wrapper around libjq. */
#include <jq.h>
#include <stdlib.h>
#include <string.h>

#include "jqx.h"
#include "util.h"

struct jqx {
	jq_state *jq;
	char *expr;
	struct buf *errors; /* where messages go while compiling, else NULL */
};

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
	return q;
}

jv
jqx_first(struct jqx *q, jv input)
{
	jv result;

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
	free(q->expr);
	free(q);
}
