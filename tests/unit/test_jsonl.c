/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/jsonl.c: JSON Lines records from files. Objects pass; blank lines
 * are skipped; every other line (arrays, scalars, invalid JSON, two values,
 * invalid UTF-8, too long) becomes a bad_input error record carrying the
 * physical line number, a message naming the input and line, and the line in
 * _raw; the unterminated flag of a last line without '\n'.
 */
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "io.h"
#include "jsonl.h"
#include "tap.h"
#include "testutil.h"
#include "utf8.h"
#include "util.h"

#define PROG "test-jsonl"

struct reader {
	char *path;
	struct input in;
	struct jsonl_reader r;
};

static void
open_reader(struct reader *rd, const char *data, size_t n, size_t max_line)
{
	rd->path = temp_file(data, n);
	if (input_open(&rd->in, rd->path) != 0) {
		perror("input_open");
		exit(2);
	}
	jsonl_init(&rd->r, &rd->in, max_line);
}

static void
close_reader(struct reader *rd)
{
	jsonl_free(&rd->r);
	input_close(&rd->in);
	unlink(rd->path);
	free(rd->path);
}

/* rec[key], owned by the caller; invalid when rec is not an object. rec is borrowed. */
static jv
member(jv rec, const char *key)
{
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(rec), jv_string(key));
}

/* Compact JSON text of v (borrowed), for comparisons. */
static void
dump(jv v, struct buf *out)
{
	jv s = jv_dump_string(jv_copy(v), JV_PRINT_SORTED);

	buf_reset(out);
	buf_puts(out, jv_string_value(s));
	jv_free(s);
}

/*
 * Check that rec (consumed) is the error record for line lineno holding raw
 * (rawlen bytes, before U+FFFD replacement), its message naming path, the
 * line and cause (a substring of the message).
 */
static void
check_bad(jv rec, const char *path, unsigned long lineno, const char *raw, size_t rawlen,
	const char *cause, const char *what)
{
	jv err = member(rec, "_error"), code = member(err, "code"), tool = member(err, "tool"),
	   line = member(err, "line"), msg = member(err, "message"), rawv = member(rec, "_raw");
	struct buf want_raw = BUF_INIT, prefix = BUF_INIT;
	bool shape, raw_ok, msg_ok;

	utf8_sanitize(&want_raw, raw, rawlen);
	buf_puts(&prefix, path);
	buf_putc(&prefix, ':');
	buf_add_uint(&prefix, lineno);
	buf_putc(&prefix, ':');
	shape = jv_get_kind(rec) == JV_KIND_OBJECT && jv_object_length(jv_copy(rec)) == 2 &&
		jv_get_kind(err) == JV_KIND_OBJECT && jv_get_kind(code) == JV_KIND_STRING &&
		strcmp(jv_string_value(code), "bad_input") == 0 &&
		jv_get_kind(tool) == JV_KIND_STRING && strcmp(jv_string_value(tool), PROG) == 0 &&
		jv_get_kind(line) == JV_KIND_NUMBER && jv_number_value(line) == (double)lineno;
	raw_ok = jv_get_kind(rawv) == JV_KIND_STRING &&
		(size_t)jv_string_length_bytes(jv_copy(rawv)) == want_raw.len &&
		memcmp(jv_string_value(rawv), want_raw.data ? want_raw.data : "", want_raw.len) ==
			0;
	msg_ok = jv_get_kind(msg) == JV_KIND_STRING &&
		strstr(jv_string_value(msg), buf_cstr(&prefix)) != NULL &&
		strstr(jv_string_value(msg), cause) != NULL;
	if (!ok(shape, "%s: error record with tool, code bad_input, line %lu", what, lineno)) {
		struct buf d = BUF_INIT;

		dump(rec, &d);
		printf("#   got %s\n", buf_cstr(&d));
		buf_free(&d);
	}
	ok(raw_ok, "%s: _raw holds the line", what);
	if (!ok(msg_ok, "%s: message names '%s' and says '%s'", what, buf_cstr(&prefix), cause))
		printf("#   message: %s\n",
			jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "(none)");
	jv_free(err);
	jv_free(code);
	jv_free(tool);
	jv_free(line);
	jv_free(msg);
	jv_free(rawv);
	jv_free(rec);
	buf_free(&want_raw);
	buf_free(&prefix);
}

static void
expect_record(struct reader *rd, const char *want, unsigned long lineno, const char *what)
{
	struct buf d = BUF_INIT;
	jv rec = jv_null();
	enum jsonl_status st = jsonl_next(&rd->r, &rec);

	if (st == JSONL_RECORD || st == JSONL_BAD)
		dump(rec, &d);
	if (!ok(st == JSONL_RECORD && strcmp(buf_cstr(&d), want) == 0 &&
			    jsonl_lineno(&rd->r) == lineno,
		    "%s: record %s at line %lu", what, want, lineno))
		printf("#   status %d, got %s at line %lu\n", st, buf_cstr(&d),
			jsonl_lineno(&rd->r));
	jv_free(rec);
	buf_free(&d);
}

static void
expect_bad(struct reader *rd, unsigned long lineno, const char *raw, size_t rawlen,
	const char *cause, const char *what)
{
	jv rec = jv_null();
	enum jsonl_status st = jsonl_next(&rd->r, &rec);

	if (!ok(st == JSONL_BAD, "%s: JSONL_BAD", what)) {
		printf("#   status %d\n", st);
		if (st == JSONL_RECORD)
			jv_free(rec);
		return;
	}
	is_int(jsonl_lineno(&rd->r), lineno, "%s: jsonl_lineno is the physical line", what);
	check_bad(rec, rd->path, lineno, raw, rawlen, cause, what);
}

static void
expect_eof(struct reader *rd, const char *what)
{
	jv rec = jv_null();
	enum jsonl_status st = jsonl_next(&rd->r, &rec);

	is_int(st, JSONL_EOF, "%s: end of input", what);
	if (st > 0)
		jv_free(rec);
	st = jsonl_next(&rd->r, &rec);
	is_int(st, JSONL_EOF, "%s: still the end", what);
	if (st > 0)
		jv_free(rec);
}

static const char mixed[] = "{\"a\":1}\n"                  /* 1 */
			    "\n"                           /* 2 */
			    "   \t \n"                     /* 3 */
			    "[1,2]\n"                      /* 4 */
			    "{\"b\":[true,null]}\r\n"      /* 5 */
			    "42\n"                         /* 6 */
			    "\"str\"\n"                    /* 7 */
			    "null\n"                       /* 8 */
			    "{\"a\":\n"                    /* 9 */
			    "{\"a\":1} {\"b\":2}\n"        /* 10 */
			    "{\"a\":1}x\n"                 /* 11 */
			    "nope\n"                       /* 12 */
			    "{\"a\":\"\xff\"}\n"           /* 13 */
			    "\r\n"                         /* 14 */
			    "{\"a\":1}\0\n"                /* 15 */
			    "  {\"c\" : \"\xC3\xA9\"}  \n" /* 16 */
			    "{\"d\":{}}";                  /* 17, no newline */

static void
test_mixed(void)
{
	struct reader rd;

	open_reader(&rd, mixed, sizeof(mixed) - 1, JSONL_MAX_LINE);
	expect_record(&rd, "{\"a\":1}", 1, "object");
	ok(!rd.r.unterminated, "object with newline: not unterminated");
	expect_bad(&rd, 4, "[1,2]", 5, "not a JSON object", "array after blank lines");
	expect_record(&rd, "{\"b\":[true,null]}", 5, "object with CRLF");
	expect_bad(&rd, 6, "42", 2, "not a JSON object", "number");
	expect_bad(&rd, 7, "\"str\"", 5, "not a JSON object", "string");
	expect_bad(&rd, 8, "null", 4, "not a JSON object", "null");
	expect_bad(&rd, 9, "{\"a\":", 5, "not valid JSON", "truncated object");
	expect_bad(&rd, 10, "{\"a\":1} {\"b\":2}", 15, "not valid JSON", "two objects on a line");
	expect_bad(&rd, 11, "{\"a\":1}x", 8, "not valid JSON", "trailing garbage");
	expect_bad(&rd, 12, "nope", 4, "not valid JSON", "a word");
	expect_bad(&rd, 13, "{\"a\":\"\xff\"}", 9, "invalid UTF-8", "invalid UTF-8 in a string");
	expect_bad(&rd, 15, "{\"a\":1}\0", 8, "not valid JSON", "NUL after an object");
	expect_record(&rd, "{\"c\":\"\xC3\xA9\"}", 16, "object with spaces around it");
	ok(!rd.r.unterminated, "line 16: not unterminated");
	expect_record(&rd, "{\"d\":{}}", 17, "last line without newline");
	ok(rd.r.unterminated, "last line without newline: unterminated");
	expect_eof(&rd, "mixed");
	close_reader(&rd);
}

/* Lines libjq 1.6 would leak a string on: rejected first, with jq's message and column. */
static const char separator[] = "{\"x\":{\"a\" \"b\"}}\n"   /* 1 */
				"{\"x\":[1 \"b\"]}\n"       /* 2 */
				"{\"x\":\"a\\\" \\\"b\"}\n" /* 3: one string */
				"{\"x\":[nan \"b\"]}\n";    /* 4 */

static void
test_missing_separator(void)
{
	struct reader rd;

	open_reader(&rd, separator, sizeof(separator) - 1, JSONL_MAX_LINE);
	expect_bad(&rd, 1, "{\"x\":{\"a\" \"b\"}}", 15,
		"Expected separator between values at line 1, column 13", "a key without a colon");
	expect_bad(&rd, 2, "{\"x\":[1 \"b\"]}", 13,
		"Expected separator between values at line 1, column 11",
		"a string after a number");
	expect_record(&rd, "{\"x\":\"a\\\" \\\"b\"}", 3, "escaped quotes are not a separator");
	expect_bad(&rd, 4, "{\"x\":[nan \"b\"]}", 15,
		"Expected separator between values at line 1, column 13", "a string after nan");
	expect_eof(&rd, "separator");
	close_reader(&rd);
}

static void
test_blank_and_empty(void)
{
	struct reader rd;

	open_reader(&rd, "", 0, JSONL_MAX_LINE);
	expect_eof(&rd, "empty file");
	close_reader(&rd);

	open_reader(&rd, "\n \n\t\n\r\n", 7, JSONL_MAX_LINE);
	expect_eof(&rd, "only blank lines");
	close_reader(&rd);

	open_reader(&rd, "\n\n{}\n \n", 7, JSONL_MAX_LINE);
	expect_record(&rd, "{}", 3, "empty object after blank lines");
	expect_eof(&rd, "trailing blank line");
	close_reader(&rd);
}

static void
test_too_long(void)
{
	struct reader rd;
	struct buf data = BUF_INIT, line = BUF_INIT;

	buf_puts(&line, "{\"a\":\"");
	for (int i = 0; i < 200; i++)
		buf_putc(&line, (char)('a' + i % 26));
	buf_puts(&line, "\"}");
	buf_puts(&data, "{\"x\":1}\n");
	buf_add(&data, line.data, line.len);
	buf_puts(&data, "\n{\"y\":2}\n");
	open_reader(&rd, data.data, data.len, 100);
	expect_record(&rd, "{\"x\":1}", 1, "before the long line");
	expect_bad(&rd, 2, line.data, 100, "longer than 100", "line longer than max_line");
	expect_record(&rd, "{\"y\":2}", 3, "after the long line");
	expect_eof(&rd, "long line");
	close_reader(&rd);

	/*
	 * A long line whose first max_line bytes are blank is still a long line,
	 * not a blank one: it must not vanish (jsonl.h: never silence).
	 */
	buf_reset(&data);
	buf_reset(&line);
	buf_puts(&line, "                    {\"lost\":true}");
	buf_add(&data, line.data, line.len);
	buf_puts(&data, "\n{\"z\":3}\n");
	open_reader(&rd, data.data, data.len, 16);
	expect_bad(&rd, 1, line.data, 16, "longer than 16", "long line that starts with 20 spaces");
	expect_record(&rd, "{\"z\":3}", 2, "after the long line with leading spaces");
	close_reader(&rd);
	buf_free(&data);
	buf_free(&line);
}

/* Raw lines longer than JL_RAW_MAX are cut in _raw, not in the error itself. */
static void
test_long_raw(void)
{
	struct reader rd;
	struct buf data = BUF_INIT;
	jv rec = jv_null(), raw;
	enum jsonl_status st;

	buf_putc(&data, '[');
	for (int i = 0; i < 100000; i++)
		buf_putc(&data, '1');
	buf_puts(&data, "]\n");
	open_reader(&rd, data.data, data.len, JSONL_MAX_LINE);
	st = jsonl_next(&rd.r, &rec);
	is_int(st, JSONL_BAD, "100 kB array line: JSONL_BAD");
	raw = member(rec, "_raw");
	ok(jv_get_kind(raw) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(raw)) == 64 * 1024,
		"100 kB line: _raw holds its first 64 KiB");
	jv_free(raw);
	jv_free(rec);
	close_reader(&rd);
	buf_free(&data);
}

/* jsonl_next_lazy: strict lines checked and picked in place, the rest as jsonl_next reads them. */
static void
test_lazy(void)
{
	static const char data[] = "{\"id\":1,\"llm\":{\"model\":\"m\"}}\n"
				   "\n"
				   "{\"id\":01,\"llm\":{\"model\":\"n\"}}\n"
				   "[1]\n"
				   "{\"id\":3,\"llm\":7,\"llm\":{\"model\":\"\\u00e9\"}}";
	struct jspan id, llm, model;
	const struct jscan_pick in_llm[] = { { "model", &model, NULL, 0 } };
	const struct jscan_pick picks[] = { { "id", &id, NULL, 0 }, { "llm", &llm, in_llm, 1 } };
	struct reader rd;
	jv rec = jv_null(), value;
	enum jsonl_status st;
	const char *line;
	size_t len;
	char text[16];

	open_reader(&rd, data, sizeof(data) - 1, JSONL_MAX_LINE);
	st = jsonl_next_lazy(&rd.r, &rec, picks, 2);
	line = jsonl_line(&rd.r, &len);
	ok(st == JSONL_RECORD && !jv_is_valid(rec) && len == 28 && line[0] == '{',
		"lazy: a strict line is a record left as text");
	jv_free(rec);
	ok(jscan_kind(id) == JSCAN_NUMBER && jscan_kind(llm) == JSCAN_OBJECT &&
			jscan_string(model, text, sizeof(text)) && strcmp(text, "m") == 0,
		"lazy: its members picked, below members too");
	st = jsonl_next_lazy(&rd.r, &rec, picks, 2);
	value = member(rec, "id");
	ok(st == JSONL_RECORD && jv_get_kind(value) == JV_KIND_NUMBER &&
			jv_number_value(value) == 1,
		"lazy: a line only jq takes (01) is parsed, past the blank line");
	jv_free(value);
	jv_free(rec);
	st = jsonl_next_lazy(&rd.r, &rec, picks, 2);
	ok(st == JSONL_BAD && jsonl_lineno(&rd.r) == 4, "lazy: an array is bad input, line 4");
	jv_free(rec);
	st = jsonl_next_lazy(&rd.r, &rec, picks, 2);
	ok(st == JSONL_RECORD && !jv_is_valid(rec) && jscan_string(model, text, sizeof(text)) &&
			strcmp(text, "\xc3\xa9") == 0,
		"lazy: the last of a repeated name, escapes decoded, unterminated last line");
	jv_free(rec);
	is_int(jsonl_next_lazy(&rd.r, &rec, picks, 2), JSONL_EOF, "lazy: then EOF");
	close_reader(&rd);
}

int
main(void)
{
	progname = PROG;
	test_mixed();
	test_missing_separator();
	test_blank_and_empty();
	test_too_long();
	test_long_raw();
	test_lazy();
	return done_testing();
}
