/* SPDX-License-Identifier: BSD-2-Clause */
/* Records and their _error: built one way, as text or as jv. */
#include <string.h>

#include "json.h"
#include "record.h"
#include "util.h"

void
record_error_object(struct buf *to, const struct record_error *e)
{
	buf_puts(to, "{\"tool\":");
	jw_cstring(to, progname);
	buf_puts(to, ",\"code\":");
	jw_cstring(to, e->code);
	buf_puts(to, ",\"message\":");
	jw_cstring(to, e->message != NULL ? e->message : "");
	if (e->file != NULL) {
		buf_puts(to, ",\"file\":");
		jw_cstring(to, e->file);
	}
	if (e->line != 0) {
		buf_puts(to, ",\"line\":");
		buf_add_uint(to, e->line);
	}
	if (e->status > 0) {
		buf_puts(to, ",\"status\":");
		buf_add_uint(to, (unsigned long long)e->status);
	}
	if (e->attempts >= 0) {
		buf_puts(to, ",\"attempts\":");
		buf_add_uint(to, (unsigned long long)e->attempts);
	}
	buf_putc(to, '}');
}

void
record_error_member(struct buf *to, const struct record_error *e)
{
	buf_puts(to, "\"_error\":");
	record_error_object(to, e);
}

jv
record_error_jv(const struct record_error *e)
{
	struct buf text = BUF_INIT;
	jv v;

	record_error_object(&text, e);
	v = jv_parse_sized(text.data, (int)text.len);
	buf_free(&text);
	if (!jv_is_valid(v))
		die(EXIT_SOFTWARE, "internal error: an _error object is not valid JSON");
	return v;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void
record_add_member(struct buf *to, const char *text, size_t len, bool present, const char *name,
	const char *value, size_t value_len)
{
	size_t end = len;

	while (end > 0 && text[end - 1] != '}')
		end--;
	if (present) { /* copy the members but every "name" */
		struct jspan obj = { text, end }, key, member;
		struct jscan_iter it;
		bool first = true;

		while (obj.n > 0 && *obj.p != '{') {
			obj.p++;
			obj.n--;
		}
		buf_putc(to, '{');
		jscan_iter_init(&it, obj);
		while (jscan_next(&it, &key, &member)) {
			if (jscan_key_is(key, name))
				continue;
			if (!first)
				buf_putc(to, ',');
			first = false;
			buf_add(to, key.p - 1, (size_t)(member.p + member.n - (key.p - 1)));
		}
		if (!first)
			buf_putc(to, ',');
	} else { /* everything up to the closing brace, then a comma unless it is empty */
		buf_add(to, text, end - 1);
		for (size_t i = end - 1; i-- > 0;) {
			if (text[i] == '{')
				break;
			if (!is_space(text[i])) {
				buf_putc(to, ',');
				break;
			}
		}
	}
	jw_cstring(to, name);
	buf_putc(to, ':');
	buf_add(to, value, value_len);
	buf_puts(to, "}\n");
}

jv
record_set(jv rec, const char *name, jv value)
{
	return jv_object_set(rec, jv_string(name), value);
}

void
record_fail_text(struct buf *to, const char *text, size_t len, bool present,
	const struct record_error *e)
{
	struct buf err = BUF_INIT;

	record_error_object(&err, e);
	record_add_member(to, text, len, present, "_error", err.data, err.len);
	buf_free(&err);
}

jv
record_fail(jv rec, const struct record_error *e)
{
	return record_set(rec, "_error", record_error_jv(e));
}

void
record_dump(struct buf *to, jv v)
{
	jv text = jv_dump_string(v, 0);

	buf_add(to, jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text)));
	buf_putc(to, '\n');
	jv_free(text);
}

bool
record_failed(jv rec)
{
	jv e = jv_object_get(jv_copy(rec), jv_string("_error"));
	bool failed = jv_is_valid(e) && jv_get_kind(e) != JV_KIND_NULL;

	jv_free(e);
	return failed;
}

bool
record_failed_span(struct jspan error)
{
	return jscan_kind(error) != JSCAN_NONE && jscan_kind(error) != JSCAN_NULL;
}

bool
record_has_member(const char *text, size_t len, const char *name)
{
	struct jspan value = { NULL, 0 };
	struct jscan_pick pick = { name, &value, NULL, 0 };

	while (len > 0 && is_space(*text)) {
		text++;
		len--;
	}
	jscan_pick((struct jspan){ text, len }, &pick, 1);
	return value.n > 0;
}

bool
record_held_back(const char *code)
{
	static const char *const held_back[] = { ERR_BUDGET_EXCEEDED, ERR_NOT_SENT, ERR_DAILY_QUOTA,
		ERR_INTERRUPTED };

	for (size_t i = 0; i < sizeof(held_back) / sizeof(held_back[0]); i++)
		if (strcmp(code, held_back[i]) == 0)
			return true;
	return false;
}
