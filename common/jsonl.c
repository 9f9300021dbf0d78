/* SPDX-License-Identifier: BSD-2-Clause */
/* JSON Lines records in, error records for every line that is not one. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "jscan.h"
#include "json.h"
#include "jsonl.h"
#include "record.h"
#include "utf8.h"
#include "util.h"

void
jsonl_init(struct jsonl_reader *r, struct input *in, size_t max_line)
{
	if (max_line > INT_MAX)
		max_line = INT_MAX; /* jv_parse_sized takes an int */
	linereader_init(&r->lines, in, 64 * 1024, max_line);
	r->unterminated = false;
	r->line = NULL;
	r->len = 0;
}

static bool
is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* The error record for a bad line: built as text, parsed back into a jv. */
static jv
bad_line(struct jsonl_reader *r, const char *line, size_t len, const char *why)
{
	struct buf msg = BUF_INIT, rec = BUF_INIT;
	jv v;

	buf_puts(&msg, r->lines.in->name);
	buf_putc(&msg, ':');
	buf_add_uint(&msg, r->lines.lineno);
	buf_puts(&msg, ": ");
	buf_puts(&msg, why);
	buf_putc(&rec, '{');
	record_error_member(&rec,
		&(struct record_error){ ERR_BAD_INPUT, buf_cstr(&msg), NULL, r->lines.lineno, 0,
			-1 });
	buf_putc(&rec, ',');
	jw_raw_member(&rec, line, len);
	buf_putc(&rec, '}');
	v = jv_parse_sized(rec.data, (int)rec.len);
	buf_free(&msg);
	buf_free(&rec);
	if (!jv_is_valid(v))
		die(EXIT_SOFTWARE, "internal error: error record is not valid JSON");
	return v;
}

/* jq's parse message, without the copy of the input it appends. Consumes err. */
static void
parse_message(jv err, char *out, size_t size)
{
	jv msg = jv_invalid_get_msg(err);
	const char *text = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "";
	const char *cut = strstr(text, " (while parsing");
	int n = cut != NULL ? (int)(cut - text) : (int)strlen(text);

	snprintf(out, size, "not valid JSON: %.*s", n, text);
	jv_free(msg);
}

/*
 * Whether libjq 1.6 would reject line as "Expected separator between values"
 * for a string that follows a value inside a container: its parser leaks
 * that string (18 bytes and more a line, without bound on a long input), so
 * such a line is rejected here, with jq's message, before libjq sees it.
 * *column is where jq reports it: the string's closing quote, from 1.
 */
static bool
string_without_separator(const char *s, size_t n, size_t *column)
{
	int depth = 0;
	bool after_value = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '"') {
			bool follows_value = after_value && depth > 0;

			while (++i < n && s[i] != '"')
				if (s[i] == '\\')
					i++;
			if (follows_value && i < n) {
				*column = i + 1;
				return true;
			}
			after_value = true;
		} else if (c == '{' || c == '[') {
			depth++;
			after_value = false;
		} else if (c == '}' || c == ']') {
			depth--;
			after_value = true;
		} else if (c == ',' || c == ':') {
			after_value = false;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			after_value = true; /* a number or a word */
		}
	}
	return false;
}

/*
 * The next record. When lazy, a strict JSON object line is only checked,
 * its members picks[0..npicks) picked.
 */
static enum jsonl_status
next_record(struct jsonl_reader *r, jv *rec, bool lazy, const struct jscan_pick *picks,
	size_t npicks)
{
	const char *line;
	size_t len;
	int flags, got;
	size_t column;
	char why[256];
	jv v;

	do {
		got = linereader_next(&r->lines, &line, &len, &flags);
		if (got == LINEREADER_AGAIN)
			return JSONL_AGAIN;
		if (got <= 0)
			return got == 0 ? JSONL_EOF : JSONL_IOERR;
	} while (!(flags & LINE_TOO_LONG) && is_blank(line, len));
	r->unterminated = (flags & LINE_UNTERMINATED) != 0;
	if (flags & LINE_TOO_LONG) {
		snprintf(why, sizeof(why), "line longer than %zu bytes", r->lines.max_line);
		*rec = bad_line(r, line, len, why);
		return JSONL_BAD;
	}
	if (utf8_valid_prefix(line, len) != len) {
		snprintf(why, sizeof(why), "invalid UTF-8 at byte %zu",
			utf8_valid_prefix(line, len) + 1);
		*rec = bad_line(r, line, len, why);
		return JSONL_BAD;
	}
	r->line = line;
	r->len = len;
	if (lazy && jscan_object_pick(line, len, picks, npicks)) {
		*rec = jv_invalid();
		return JSONL_RECORD;
	}
	if (string_without_separator(line, len, &column)) {
		snprintf(why, sizeof(why),
			"not valid JSON: Expected separator between values at line 1, column %zu",
			column);
		*rec = bad_line(r, line, len, why);
		return JSONL_BAD;
	}
	v = jv_parse_sized(line, (int)len);
	if (!jv_is_valid(v)) {
		parse_message(v, why, sizeof(why));
		*rec = bad_line(r, line, len, why);
		return JSONL_BAD;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		snprintf(why, sizeof(why), "not a JSON object but %s",
			jv_kind_name(jv_get_kind(v)));
		jv_free(v);
		*rec = bad_line(r, line, len, why);
		return JSONL_BAD;
	}
	*rec = v;
	return JSONL_RECORD;
}

enum jsonl_status
jsonl_next(struct jsonl_reader *r, jv *rec)
{
	return next_record(r, rec, false, NULL, 0);
}

enum jsonl_status
jsonl_next_lazy(struct jsonl_reader *r, jv *rec, const struct jscan_pick *picks, size_t npicks)
{
	return next_record(r, rec, true, picks, npicks);
}

const char *
jsonl_line(const struct jsonl_reader *r, size_t *len)
{
	*len = r->len;
	return r->line;
}

void
jsonl_set_nonblocking(struct jsonl_reader *r, bool on)
{
	linereader_set_nonblocking(&r->lines, on);
}

unsigned long
jsonl_lineno(const struct jsonl_reader *r)
{
	return r->lines.lineno;
}

void
jsonl_free(struct jsonl_reader *r)
{
	linereader_free(&r->lines);
}
