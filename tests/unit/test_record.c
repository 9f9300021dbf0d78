/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/record.c and recloop_status: the _error member and object (every
 * field, invalid UTF-8, the largest line), a member added to a record's
 * text (empty object, spaces, a member present once or twice, escaped
 * names), the same on a jv, failed records as jv and as picked spans, the
 * held-back codes, and the contract's exit status. Every text built is
 * parsed back with libjq.
 */
#include <jv.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "exitcodes.h"
#include "recloop.h"
#include "record.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

static void
test_error_member(void)
{
	struct buf b = BUF_INIT;
	jv v;

	progname = "test-json";
	record_error_member(&b,
		&(struct record_error){ "bad_input", "in.jsonl:3: not \"JSON\"", "in.jsonl", 3, 0,
			-1 });
	is_str(buf_cstr(&b),
		"\"_error\":{\"tool\":\"test-json\",\"code\":\"bad_input\","
		"\"message\":\"in.jsonl:3: not \\\"JSON\\\"\",\"file\":\"in.jsonl\",\"line\":3}",
		"record_error_member with file and line");
	v = parse_object(&b);
	ok(jv_is_valid(v) && jv_get_kind(v) == JV_KIND_OBJECT,
		"record_error_member in braces is a JSON object");
	jv_free(v);

	buf_reset(&b);
	record_error_member(&b, &(struct record_error){ "http_429", "slow down", NULL, 0, 0, -1 });
	is_str(buf_cstr(&b),
		"\"_error\":{\"tool\":\"test-json\",\"code\":\"http_429\",\"message\":\"slow "
		"down\"}",
		"record_error_member without file and line");

	buf_reset(&b);
	record_error_member(&b,
		&(struct record_error){ "bad_input", "bad \xFF byte", NULL, 18446744073709551615UL,
			0, -1 });
	is_str(buf_cstr(&b),
		"\"_error\":{\"tool\":\"test-json\",\"code\":\"bad_input\","
		"\"message\":\"bad \xEF\xBF\xBD byte\",\"line\":18446744073709551615}",
		"record_error_member: invalid UTF-8 replaced, largest line number");

	buf_reset(&b);
	buf_puts(&b, "\"id\":1,");
	record_error_member(&b, &(struct record_error){ "x", "y", NULL, 0, 0, -1 });
	v = parse_object(&b);
	if (jv_is_valid(v) && jv_get_kind(v) == JV_KIND_OBJECT) {
		jv id = jv_object_get(jv_copy(v), jv_string("id"));

		ok(jv_get_kind(id) == JV_KIND_NUMBER && jv_object_length(jv_copy(v)) == 2,
			"record_error_member appends after existing members");
		jv_free(id);
	} else {
		ok(0, "record_error_member appends after existing members");
	}
	jv_free(v);
	buf_free(&b);
}

static void
test_error_object(void)
{
	struct buf b = BUF_INIT;
	jv v, want;

	record_error_object(&b, &(struct record_error){ "http_503", "busy", NULL, 0, 503, 4 });
	is_str(buf_cstr(&b),
		"{\"tool\":\"test-json\",\"code\":\"http_503\",\"message\":\"busy\",\"status\":503,"
		"\"attempts\":4}",
		"record_error_object with status and attempts");
	v = record_error_jv(&(struct record_error){ "http_503", "busy", NULL, 0, 503, 4 });
	want = jv_parse_sized(b.data, (int)b.len);
	ok(jv_equal(v, want), "record_error_jv is the same object");
	buf_free(&b);
}

/* record_add_member on text, the result parsed; want is the expected JSON (compact). */
static void
check_add(const char *text, bool present, const char *name, const char *value, const char *want)
{
	struct buf b = BUF_INIT;
	jv got, expect;

	record_add_member(&b, text, strlen(text), present, name, value, strlen(value));
	ok(b.len > 0 && b.data[b.len - 1] == '\n', "add to %s: ends with a newline", text);
	got = jv_parse_sized(b.data, (int)b.len - 1);
	expect = jv_parse(want);
	if (!ok(jv_is_valid(got) && jv_equal(jv_copy(got), jv_copy(expect)), "add %s to %s", name,
		    text))
		printf("#   got %s\n", buf_cstr(&b));
	jv_free(got);
	jv_free(expect);
	buf_free(&b);
}

static void
test_add_member(void)
{
	check_add("{}", false, "x", "1", "{\"x\":1}");
	check_add("  { \t }  ", false, "x", "1", "{\"x\":1}");
	check_add("{\"a\":1}", false, "x", "[2]", "{\"a\":1,\"x\":[2]}");
	check_add("{\"a\":{\"x\":0} }", false, "x", "true", "{\"a\":{\"x\":0},\"x\":true}");
	check_add("{\"x\":0,\"a\":1}", true, "x", "2", "{\"a\":1,\"x\":2}");
	check_add("{\"x\":0,\"a\":1,\"x\":5}", true, "x", "2", "{\"a\":1,\"x\":2}");
	check_add("{\"\\u0078\":0,\"a\":1}", true, "x", "2", "{\"a\":1,\"x\":2}");
	check_add("{\"x\":0}", true, "x", "null", "{\"x\":null}");
	check_add("{\"a\":\"}\"}", false, "x", "1", "{\"a\":\"}\",\"x\":1}");
}

static void
test_fail(void)
{
	struct buf b = BUF_INIT;
	const char *text = "{\"n\":1,\"_error\":null}";
	struct record_error e = { ERR_BUDGET_EXCEEDED, "over", NULL, 0, 0, -1 };
	jv v, err, code;

	record_fail_text(&b, text, strlen(text), true, &e);
	v = jv_parse_sized(b.data, (int)b.len - 1);
	err = jv_object_get(jv_copy(v), jv_string("_error"));
	code = jv_object_get(jv_copy(err), jv_string("code"));
	ok(jv_get_kind(code) == JV_KIND_STRING &&
			strcmp(jv_string_value(code), "budget_exceeded") == 0 &&
			jv_object_length(jv_copy(v)) == 2,
		"record_fail_text replaces a null _error");
	ok(record_failed(v), "record_failed: the record with _error");
	jv_free(code);
	jv_free(err);
	jv_free(v);

	v = record_fail(jv_parse("{\"n\":1}"), &e);
	ok(record_failed(v), "record_fail sets _error on a jv");
	jv_free(v);
	v = jv_parse("{\"n\":1,\"_error\":null}");
	ok(!record_failed(v), "record_failed: a null _error is no failure");
	jv_free(v);
	buf_reset(&b);
	record_dump(&b, jv_parse("{\"a\": [1, 2]}"));
	is_str(buf_cstr(&b), "{\"a\":[1,2]}\n", "record_dump: compact, one line");
	buf_free(&b);
}

static void
test_spans(void)
{
	const char *with = "{\"a\":1,\"_error\":{\"code\":\"x\"}}", *null = "{\"_error\":null}";
	struct jspan error = { NULL, 0 };
	struct jscan_pick pick = { "_error", &error, NULL, 0 };

	ok(jscan_object_pick(with, strlen(with), &pick, 1) && record_failed_span(error),
		"record_failed_span: an _error object");
	ok(jscan_object_pick(null, strlen(null), &pick, 1) && !record_failed_span(error),
		"record_failed_span: a null _error");
	ok(jscan_object_pick("{}", 2, &pick, 1) && !record_failed_span(error),
		"record_failed_span: no _error");
	ok(record_has_member(with, strlen(with), "_error"), "record_has_member: present");
	ok(!record_has_member(" {\"b\":{\"a\":1}}", 14, "a"), "record_has_member: only nested");
	ok(record_has_member(" {\"b\":{\"a\":1}}", 14, "b"), "record_has_member: after a space");
}

static void
test_codes_and_status(void)
{
	ok(record_held_back(ERR_BUDGET_EXCEEDED) && record_held_back(ERR_NOT_SENT) &&
			record_held_back(ERR_INTERRUPTED),
		"held back: budget_exceeded, not_sent, interrupted");
	ok(!record_held_back(ERR_BAD_INPUT) && !record_held_back("http_429"),
		"not held back: bad_input, http_429");
	is_int(recloop_status(false, false, 3), EXIT_OK, "status: failures without --strict");
	is_int(recloop_status(true, false, 0), EXIT_OK, "status: --strict, no failure");
	is_int(recloop_status(true, false, 1), EXIT_PARTIAL, "status: --strict, a failure");
	is_int(recloop_status(true, true, 1), EXIT_DATAERR, "status: --strict, a malformed line");
	is_int(recloop_status(false, true, 1), EXIT_OK, "status: a malformed line, no --strict");
}

int
main(void)
{
	progname = "test-json";
	test_error_member();
	test_error_object();
	test_add_member();
	test_fail();
	test_spans();
	test_codes_and_status();
	return done_testing();
}
