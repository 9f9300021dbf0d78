/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/json.c: jw_string escaping and U+FFFD replacement, checked on fixed
 * cases and against a byte-by-byte reference escaper on random inputs of
 * every length 0..40 (the 8-byte fast path), each output parsed back with
 * libjq; jw_cstring; the _raw member, _raw cut at JL_RAW_MAX on a
 * character boundary.
 */
#include <jv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "tap.h"
#include "testutil.h"
#include "utf8.h"
#include "util.h"

/* Reference escaper: one byte (or one valid sequence) at a time. */
static size_t
ref_escape(struct buf *b, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, replaced = 0;

	buf_putc(b, '"');
	while (i < n) {
		unsigned char c = s[i];
		size_t len;

		if (c == '"') {
			buf_puts(b, "\\\"");
		} else if (c == '\\') {
			buf_puts(b, "\\\\");
		} else if (c == '\n') {
			buf_puts(b, "\\n");
		} else if (c == '\r') {
			buf_puts(b, "\\r");
		} else if (c == '\t') {
			buf_puts(b, "\\t");
		} else if (c == '\b') {
			buf_puts(b, "\\b");
		} else if (c == '\f') {
			buf_puts(b, "\\f");
		} else if (c < 0x20) {
			buf_puts(b, "\\u00");
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		} else if (c < 0x80) {
			buf_putc(b, (char)c);
		} else if ((len = utf8_sequence_length(s + i, n - i)) != 0) {
			buf_add(b, s + i, len);
			i += len;
			continue;
		} else {
			buf_puts(b, "\xEF\xBF\xBD");
			replaced++;
		}
		i++;
	}
	buf_putc(b, '"');
	return replaced;
}

struct escape_case {
	const char *name;
	const char *in;
	size_t n;
	const char *want;
	size_t replaced;
};

#define E(name, in, want, replaced)                                                                \
	{                                                                                          \
		name, in, sizeof(in) - 1, want, replaced                                           \
	}

static const struct escape_case escape_cases[] = {
	E("empty", "", "\"\"", 0),
	E("plain", "hello world", "\"hello world\"", 0),
	E("quote", "a\"b", "\"a\\\"b\"", 0),
	E("backslash", "a\\b", "\"a\\\\b\"", 0),
	E("newline", "a\nb", "\"a\\nb\"", 0),
	E("carriage return", "a\rb", "\"a\\rb\"", 0),
	E("tab", "\t", "\"\\t\"", 0),
	E("backspace", "\b", "\"\\b\"", 0),
	E("form feed", "\f", "\"\\f\"", 0),
	E("NUL", "a\0b", "\"a\\u0000b\"", 0),
	E("0x01", "\x01", "\"\\u0001\"", 0),
	E("0x1b", "\x1b[0m", "\"\\u001b[0m\"", 0),
	E("0x1f", "\x1f", "\"\\u001f\"", 0),
	E("space and tilde kept", " ~", "\" ~\"", 0),
	E("DEL kept", "\x7f", "\"\x7f\"", 0),
	E("slash kept", "a/b", "\"a/b\"", 0),
	E("2-byte kept", "caf\xC3\xA9", "\"caf\xC3\xA9\"", 0),
	E("3-byte kept", "\xE2\x82\xAC", "\"\xE2\x82\xAC\"", 0),
	E("4-byte kept", "\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\"", 0),
	E("U+2028 kept", "\xE2\x80\xA8", "\"\xE2\x80\xA8\"", 0),
	E("FF replaced",
		"a\xFF"
		"b",
		"\"a\xEF\xBF\xBD"
		"b\"",
		1),
	E("lone continuation replaced", "\x80", "\"\xEF\xBF\xBD\"", 1),
	E("overlong C0 AF replaced byte by byte", "\xC0\xAF", "\"\xEF\xBF\xBD\xEF\xBF\xBD\"", 2),
	E("surrogate replaced byte by byte", "\xED\xA0\x80",
		"\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"", 3),
	E("truncated at end", "abc\xE2\x82", "\"abc\xEF\xBF\xBD\xEF\xBF\xBD\"", 2),
	E("invalid then quote", "\xFE\"", "\"\xEF\xBF\xBD\\\"\"", 1),
	E("long ASCII run then escape", "0123456789abcdef0123456789\n",
		"\"0123456789abcdef0123456789\\n\"", 0),
	E("escape at offset 7 and 8", "1234567\"\"", "\"1234567\\\"\\\"\"", 0),
};

static void
test_escape_cases(void)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(escape_cases) / sizeof(*escape_cases); i++) {
		const struct escape_case *c = &escape_cases[i];
		char *copy = malloc(c->n ? c->n : 1); /* exact size: overreads show */
		size_t got;

		memcpy(copy, c->in, c->n);
		buf_reset(&b);
		got = jw_string(&b, copy, c->n);
		is_mem(b.data, b.len, c->want, strlen(c->want), "jw_string: %s", c->name);
		is_int(got, c->replaced, "jw_string: %s: replacement count", c->name);
		free(copy);
	}
	buf_free(&b);
}

/* A random byte with many quotes, controls, high bytes and parts of sequences. */
static unsigned char
random_byte(uint64_t *rng)
{
	static const unsigned char special[] = { '"', '\\', '\n', '\r', '\t', '\b', '\f', 0, 0x1f,
		0x7f, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF };

	switch (rng_below(rng, 4)) {
	case 0:
		return special[rng_below(rng, sizeof(special))];
	case 1:
		return (unsigned char)rng_below(rng, 256);
	default:
		return (unsigned char)(0x20 + rng_below(rng, 0x5f));
	}
}

static void
random_input(uint64_t *rng, unsigned char *s, size_t len)
{
	static const char *const seqs[] = { "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
		"\xED\x9F\xBF", "\xF4\x8F\xBF\xBF" };
	size_t i = 0;

	/* Mostly plain ASCII with rare specials, so runs of 8 clean bytes occur. */
	while (i < len) {
		size_t r = rng_below(rng, 10);

		if (r < 6) {
			s[i++] = (unsigned char)(0x20 + rng_below(rng, 0x5f));
		} else if (r < 8) {
			s[i++] = random_byte(rng);
		} else {
			const char *seq = seqs[rng_below(rng, 5)];
			size_t n = strlen(seq);

			for (size_t k = 0; k < n && i < len; k++)
				s[i++] = (unsigned char)seq[k];
		}
	}
}

static void
test_escape_random(void)
{
	uint64_t rng = 42;
	struct buf got = BUF_INIT, want = BUF_INIT, value = BUF_INIT;
	size_t bad_text = 0, bad_count = 0, bad_parse = 0, bad_value = 0, bad_utf8 = 0, total = 0;

	for (size_t len = 0; len <= 40; len++) {
		size_t bad_here = 0;

		for (size_t t = 0; t < 300; t++) {
			unsigned char *s = malloc(len ? len : 1);
			size_t r1, r2;
			jv parsed, expected;

			random_input(&rng, s, len);
			buf_reset(&got);
			buf_reset(&want);
			buf_puts(&got, "pre"); /* appends after what is there */
			r1 = jw_string(&got, s, len);
			r2 = ref_escape(&want, s, len);
			total++;
			if (got.len - 3 != want.len ||
				memcmp(got.data + 3, want.data, want.len) != 0 ||
				memcmp(got.data, "pre", 3) != 0) {
				bad_text++;
				if (bad_here++ == 0)
					printf("# length %zu: got %.*s want %.*s\n", len,
						(int)got.len, got.data, (int)want.len, want.data);
			}
			if (r1 != r2)
				bad_count++;
			if (utf8_valid_prefix(got.data, got.len) != got.len)
				bad_utf8++;
			/* The text parses back to the input with invalid bytes replaced. */
			buf_reset(&value);
			utf8_sanitize(&value, s, len);
			parsed = jv_parse_sized(got.data + 3, (int)(got.len - 3));
			expected = jv_string_sized(value.len ? value.data : "", (int)value.len);
			if (!jv_is_valid(parsed) || jv_get_kind(parsed) != JV_KIND_STRING)
				bad_parse++;
			else if (!jv_equal(jv_copy(parsed), jv_copy(expected)))
				bad_value++;
			jv_free(parsed);
			jv_free(expected);
			free(s);
		}
	}
	is_int(bad_text, 0, "jw_string equals the reference escaper (%zu inputs, lengths 0..40)",
		total);
	is_int(bad_count, 0, "jw_string returns the reference replacement count");
	is_int(bad_utf8, 0, "jw_string output is valid UTF-8");
	is_int(bad_parse, 0, "jw_string output parses as one JSON string");
	is_int(bad_value, 0, "the parsed string equals the input with invalid bytes as U+FFFD");
	buf_free(&got);
	buf_free(&want);
	buf_free(&value);
}

/* jw_escape writes at most JW_ESCAPED_MAX(n) bytes (exact-size buffers) and adds to *replaced. */
static void
test_escape_direct(void)
{
	uint64_t rng = 77;
	struct buf want = BUF_INIT;
	size_t bad_text = 0, bad_count = 0, total = 0;

	for (size_t len = 0; len <= 100; len++) {
		for (size_t t = 0; t < 40; t++) {
			unsigned char *s = malloc(len ? len : 1);
			char *dst = malloc(JW_ESCAPED_MAX(len));
			size_t replaced = 5, r;
			char *end;

			if (t == 0)
				memset(s, 0x01, len); /* the worst case: every byte becomes 6 */
			else if (t == 1)
				memset(s, 0xFF, len); /* every byte replaced */
			else
				random_input(&rng, s, len);
			end = jw_escape(dst, s, len, &replaced);
			buf_reset(&want);
			r = ref_escape(&want, s, len);
			total++;
			if ((size_t)(end - dst) != want.len ||
				memcmp(dst, want.data, want.len) != 0)
				bad_text++;
			if (replaced != 5 + r)
				bad_count++;
			free(s);
			free(dst);
		}
	}
	is_int(bad_text, 0,
		"jw_escape into exact JW_ESCAPED_MAX buffers equals the reference (%zu)", total);
	is_int(bad_count, 0, "jw_escape adds the replacements to *replaced");
	buf_free(&want);
}

/* Strings past 64 KiB are escaped in slices: characters across slice ends stay whole. */
static void
test_escape_long(void)
{
	static const char *const seqs[] = { "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xC3\xA9",
		"\xE2\x82", "\xFF", "\"", "\n" };
	static const size_t lengths[] = { 65533, 65534, 65535, 65536, 65537, 65538, 65539,
		3 * 65536 + 1, 200003 };
	uint64_t rng = 99;
	struct buf got = BUF_INIT, want = BUF_INIT;
	size_t bad = 0, total = 0;

	for (size_t l = 0; l < sizeof(lengths) / sizeof(*lengths); l++) {
		size_t n = lengths[l];
		unsigned char *s = malloc(n);

		for (size_t k = 0; k < sizeof(seqs) / sizeof(*seqs); k++) {
			size_t sl = strlen(seqs[k]);

			/* A sequence at every offset around the 64 KiB mark, in plain text. */
			for (size_t at = 65536 - 5; at <= 65536 + 1 && at + sl <= n; at++) {
				size_t r1, r2;

				memset(s, 'x', n);
				memcpy(s + at, seqs[k], sl);
				buf_reset(&got);
				buf_reset(&want);
				r1 = jw_string(&got, s, n);
				r2 = ref_escape(&want, s, n);
				total++;
				if (r1 != r2 || got.len != want.len ||
					memcmp(got.data, want.data, got.len) != 0) {
					if (bad++ == 0)
						printf("# length %zu, '%s' at %zu: %zu vs %zu "
						       "bytes\n",
							n, seqs[k], at, got.len, want.len);
				}
			}
		}
		/* And random text of that length. */
		random_input(&rng, s, n);
		buf_reset(&got);
		buf_reset(&want);
		if (jw_string(&got, s, n) != ref_escape(&want, s, n) || got.len != want.len ||
			memcmp(got.data, want.data, got.len) != 0)
			bad++;
		total++;
		free(s);
	}
	is_int(bad, 0, "jw_string past 64 KiB equals the reference (%zu strings)", total);
	buf_free(&got);
	buf_free(&want);
}

static void
test_cstring(void)
{
	struct buf b = BUF_INIT;

	jw_cstring(&b, "say \"hi\"\n");
	is_str(buf_cstr(&b), "\"say \\\"hi\\\"\\n\"", "jw_cstring escapes");
	buf_reset(&b);
	jw_cstring(&b, "x\xFFy");
	is_str(buf_cstr(&b), "\"x\xEF\xBF\xBDy\"", "jw_cstring replaces invalid UTF-8");
	buf_free(&b);
}

/* The _raw member for raw[0..n), parsed: the string's byte length, or -1. */
static int
raw_value_length(const char *raw, size_t n, struct buf *value)
{
	struct buf b = BUF_INIT;
	jv v, s;
	int len = -1;

	jw_raw_member(&b, raw, n);
	if (!starts_with(b.data, b.len, "\"_raw\":\"")) {
		buf_free(&b);
		return -1;
	}
	v = parse_object(&b);
	if (jv_is_valid(v) && jv_get_kind(v) == JV_KIND_OBJECT) {
		s = jv_object_get(jv_copy(v), jv_string("_raw"));
		if (jv_get_kind(s) == JV_KIND_STRING) {
			len = jv_string_length_bytes(jv_copy(s));
			buf_reset(value);
			buf_add(value, jv_string_value(s), (size_t)len);
		}
		jv_free(s);
	}
	jv_free(v);
	buf_free(&b);
	return len;
}

static void
test_raw_member(void)
{
	size_t big = JL_RAW_MAX + 100;
	char *raw = malloc(big);
	struct buf b = BUF_INIT, value = BUF_INIT;

	jw_raw_member(&b, "[1,\"x\"]", 7);
	is_str(buf_cstr(&b), "\"_raw\":\"[1,\\\"x\\\"]\"", "jw_raw_member: short line kept whole");
	buf_reset(&b);
	jw_raw_member(&b, "a\xFF", 2);
	is_str(buf_cstr(&b), "\"_raw\":\"a\xEF\xBF\xBD\"", "jw_raw_member: invalid UTF-8 replaced");

	memset(raw, 'x', big);
	is_int(raw_value_length(raw, JL_RAW_MAX, &value), JL_RAW_MAX,
		"jw_raw_member: exactly JL_RAW_MAX bytes kept whole");
	is_int(raw_value_length(raw, big, &value), JL_RAW_MAX,
		"jw_raw_member: longer ASCII cut at JL_RAW_MAX");

	/* A 3-byte character over the limit: cut before it. */
	memcpy(raw + JL_RAW_MAX - 1, "\xE2\x82\xAC", 3);
	is_int(raw_value_length(raw, big, &value), JL_RAW_MAX - 1,
		"jw_raw_member: cut before a 3-byte character that crosses the limit");
	ok(value.len == JL_RAW_MAX - 1 && utf8_valid_prefix(value.data, value.len) == value.len &&
			value.data[value.len - 1] == 'x',
		"jw_raw_member: no partial character or U+FFFD at the cut");
	memset(raw, 'x', big);
	memcpy(raw + JL_RAW_MAX - 3, "\xF0\x9F\x98\x80", 4);
	is_int(raw_value_length(raw, big, &value), JL_RAW_MAX - 3,
		"jw_raw_member: cut before a 4-byte character that crosses the limit");
	memset(raw, 'x', big);
	memcpy(raw + JL_RAW_MAX - 2, "\xC3\xA9", 2);
	is_int(raw_value_length(raw, big, &value), JL_RAW_MAX,
		"jw_raw_member: a character ending at the limit is kept");
	ok(value.len == JL_RAW_MAX && memcmp(value.data + JL_RAW_MAX - 2, "\xC3\xA9", 2) == 0,
		"jw_raw_member: ... with its bytes intact");

	/* Escapes do not count against the limit: it is on input bytes. */
	memset(raw, '"', big);
	is_int(raw_value_length(raw, big, &value), JL_RAW_MAX,
		"jw_raw_member: JL_RAW_MAX input bytes of quotes kept");
	free(raw);
	buf_free(&b);
	buf_free(&value);
}

int
main(void)
{
	test_escape_cases();
	test_escape_random();
	test_escape_direct();
	test_escape_long();
	test_cstring();
	test_raw_member();
	return done_testing();
}
