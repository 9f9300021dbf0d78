/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/jqx.c: compiling good and bad jq programs (messages without jq's
 * prefixes), first outputs, failures and empty output as invalid values with
 * messages, and 10,000 runs on fresh inputs to show that no state leaks from
 * one run to the next.
 */
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jqx.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

static jv
parse(const char *text)
{
	return jv_parse(text);
}

/* The compact JSON of v (consumed), or "invalid: MESSAGE". */
static void
describe(jv v, struct buf *out)
{
	buf_reset(out);
	if (jv_is_valid(v)) {
		jv s = jv_dump_string(v, 0);

		buf_puts(out, jv_string_value(s));
		jv_free(s);
	} else {
		jv msg = jv_invalid_get_msg(v);

		buf_puts(out, "invalid: ");
		buf_puts(out,
			jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "(no message)");
		jv_free(msg);
	}
	buf_cstr(out);
}

static void
test_compile(void)
{
	/* Each compile costs libjq 1.6 about 20 ms (it compiles its builtins): few of them. */
	static const char *const good[] = { ".a.b // \"x\"", "[.[] | select(. > 1)] | {k: .[0]}",
		"def f: . + 1; f" };
	static const char *const bad[] = { ".a |||", "{", "\\(", "undefined_function_xyz",
		"if . then 1", "$nope" };
	struct buf err = BUF_INIT;
	size_t multiline = 0;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		struct jqx *q;

		buf_reset(&err);
		q = jqx_compile(good[i], &err);
		ok(q != NULL && err.len == 0, "compiles: %s", good[i]);
		if (q != NULL)
			is_str(jqx_expr(q), good[i], "jqx_expr gives the text back: %s", good[i]);
		jqx_free(q);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct jqx *q;
		const char *msg;

		buf_reset(&err);
		q = jqx_compile(bad[i], &err);
		msg = buf_cstr(&err);
		ok(q == NULL, "does not compile: %s", bad[i]);
		ok(err.len > 0 && strstr(msg, "jq: error") == NULL && strncmp(msg, "jq: ", 4) != 0,
			"'%s': a message without jq's prefixes", bad[i]);
		if (strchr(msg, '\n') != NULL && multiline++ == 0)
			printf("# a message of several lines, for '%s':\n%s\n", bad[i], msg);
		if (strcmp(bad[i], "undefined_function_xyz") == 0)
			ok(strstr(msg, "undefined_function_xyz/0 is not defined") != NULL,
				"the message says what is wrong");
		jqx_free(q);
	}
	is_int(multiline, 0, "compile error messages are one line (jqx.h)");
	jqx_free(NULL);
	ok(1, "jqx_free(NULL) is harmless");
	buf_free(&err);
}

struct first_case {
	const char *program;
	const char *input;
	const char *want; /* compact JSON, or "invalid: MESSAGE" */
	bool prefix;      /* want is a prefix (jq's wording varies by version) */
};

static const struct first_case first_cases[] = {
	{ ".name", "{\"name\":\"Anthropic\",\"x\":1}", "\"Anthropic\"", false },
	{ ".name", "{\"x\":1}", "null", false },
	{ "\"\\(.a)-\\(.b)\"", "{\"a\":1,\"b\":\"two\"}", "\"1-two\"", false },
	{ "\"\\(.a)-\\(.b)\"", "{\"a\":[1],\"b\":{\"c\":null}}", "\"[1]-{\\\"c\\\":null}\"",
		false },
	{ ".[]", "[7,8,9]", "7", false },
	{ "empty", "{}", "invalid: produced no output", false },
	{ ".[] | select(. > 10)", "[1,2]", "invalid: produced no output", false },
	{ ".a.b", "{\"a\":5}", "invalid: Cannot index number with ", true },
	{ ".a.b", "5", "invalid: Cannot index number with ", true },
	{ "error(\"boom\")", "null", "invalid: boom", false },
	{ "error({\"code\":1})", "null", "invalid: {\"code\":1}", false },
	{ ".x + 1", "{\"x\":\"s\"}", "invalid: string (\"s\") and number (1) cannot be added",
		false },
};

static void
test_first(void)
{
	struct buf err = BUF_INIT, got = BUF_INIT, again = BUF_INIT;

	struct jqx *q = NULL;

	for (size_t i = 0; i < sizeof(first_cases) / sizeof(*first_cases); i++) {
		const struct first_case *c = &first_cases[i];

		/* Cases with the same program are neighbours: compile it once for them. */
		if (q == NULL || strcmp(jqx_expr(q), c->program) != 0) {
			jqx_free(q);
			q = jqx_compile(c->program, &err);
			if (q == NULL) {
				ok(0, "%s on %s: compiles (%s)", c->program, c->input,
					buf_cstr(&err));
				continue;
			}
			is_str(jqx_expr(q), c->program, "jqx_expr gives the text back: %s",
				c->program);
		}
		describe(jqx_first(q, parse(c->input)), &got);
		if (c->prefix)
			ok(starts_with(got.data, got.len, c->want), "%s on %s: %s", c->program,
				c->input, got.data);
		else
			is_str(got.data, c->want, "%s on %s", c->program, c->input);
		/* The same program again: the same answer. */
		buf_reset(&again);
		buf_add(&again, got.data, got.len);
		describe(jqx_first(q, parse(c->input)), &got);
		is_str(got.data, buf_cstr(&again), "%s on %s, second run", c->program, c->input);
	}
	jqx_free(q);
	buf_free(&err);
	buf_free(&got);
	buf_free(&again);
}

/* 10,000 runs on fresh inputs, failures in between: every answer is the right one. */
static void
test_many_runs(void)
{
	struct buf err = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	struct jqx *q = jqx_compile("\"\\(.id):\\(.tags[0])\"", &err);
	struct jqx *e = jqx_compile(".[] | select(.ok) | .id", &err);
	size_t bad = 0, bad_fail = 0, bad_each = 0;
	char text[128];

	if (q == NULL || e == NULL) {
		ok(0, "programs for the many-runs test compile: %s", buf_cstr(&err));
		jqx_free(q);
		jqx_free(e);
		buf_free(&err);
		return;
	}
	for (int i = 0; i < 10000; i++) {
		jv result;

		if (i % 7 == 3) {
			/* A failing run: indexing a number. */
			describe(jqx_first(q, jv_number(i)), &got);
			if (!starts_with(got.data, got.len, "invalid: Cannot index number with ")) {
				if (bad_fail++ == 0)
					printf("# run %d: got %s\n", i, got.data);
			}
			continue;
		}
		snprintf(text, sizeof(text), "{\"id\":%d,\"tags\":[\"t%d\",\"u\"]}", i, i * 3);
		result = jqx_first(q, parse(text));
		buf_reset(&want);
		snprintf(text, sizeof(text), "\"%d:t%d\"", i, i * 3);
		buf_puts(&want, text);
		describe(result, &got);
		if (strcmp(got.data, buf_cstr(&want)) != 0 && bad++ == 0)
			printf("# run %d: got %s want %s\n", i, got.data, want.data);

		/* A generator left unfinished must not leak into the next run. */
		snprintf(text, sizeof(text),
			"[{\"ok\":false,\"id\":0},{\"ok\":true,\"id\":%d},{\"ok\":true,\"id\":-1}]",
			i);
		describe(jqx_first(e, parse(text)), &got);
		snprintf(text, sizeof(text), "%d", i);
		if (strcmp(got.data, text) != 0)
			bad_each++;
	}
	is_int(bad, 0, "10,000 runs of a string interpolation give the right answers");
	is_int(bad_fail, 0, "failing runs in between give their message");
	is_int(bad_each, 0, "runs of an unfinished generator give the right first output");
	jqx_free(q);
	jqx_free(e);
	buf_free(&err);
	buf_free(&got);
	buf_free(&want);
}

int
main(void)
{
	progname = "test-jqx";
	test_compile();
	test_first();
	test_many_runs();
	return done_testing();
}
