/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/jscan.c: the strict checker on hand-written texts (what RFC 8259
 * accepts and what it does not, the depth limit, every prefix of a valid
 * text), the member walk, jscan_pick and jscan_object_pick (picks below
 * picks), jscan_key_is, jscan_string's cutting and jscan_number; then a
 * differential test against libjq on seeded random objects and mutations of
 * them: every text jscan accepts, jq accepts, every member jscan reads is the
 * value jq reads, and jscan_object_pick agrees with nested jscan_get.
 *
 * Texts handed to jscan are copied into buffers of their exact length, so a
 * read past the end shows under ASan and valgrind.
 */
#include <jv.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jscan.h"
#include "tap.h"
#include "testutil.h"
#include "utf8.h"

/* --- helpers ------------------------------------------------------------------ */

static bool
valid_n(const char *s, size_t n)
{
	char *copy = exact_copy(s, n);
	bool valid = jscan_object_valid(copy, n);

	free(copy);
	return valid;
}

static bool
valid(const char *s)
{
	return valid_n(s, strlen(s));
}

/* Whether jq reads s[0..n) as one object; s[n] must be '\0' (jq's messages read up to it). */
static bool
jq_object(const char *s, size_t n)
{
	jv v = jv_parse_sized(s, (int)n);
	bool object = jv_is_valid(v) && jv_get_kind(v) == JV_KIND_OBJECT;

	jv_free(v);
	return object;
}

static struct jspan
span(const char *s)
{
	struct jspan v = { s, strlen(s) };

	return v;
}

static bool
span_is(struct jspan v, const char *want)
{
	return v.n == strlen(want) && (v.n == 0 || memcmp(v.p, want, v.n) == 0);
}

/* Print s[0..n) on a TAP comment line, bytes outside printable ASCII as \xHH. */
static void
show(const char *what, const char *s, size_t n)
{
	printf("#   %s: '", what);
	for (size_t i = 0; i < n && i < 400; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02X", c);
	}
	printf("'%s\n", n > 400 ? "..." : "");
}

/* s with bytes outside printable ASCII as \xHH, for test names (four at a time). */
static const char *
vis(const char *s)
{
	static char bufs[4][512];
	static size_t next;
	char *out = bufs[next++ % 4];
	size_t o = 0;

	for (; *s != '\0' && o + 5 < sizeof(bufs[0]); s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof(bufs[0]) - o, "\\x%02X", c);
	}
	out[o] = '\0';
	return out;
}

/* Bitwise equality of doubles: -0 is not 0 here. */
static bool
same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* --- jscan_object_valid on hand-written texts ------------------------------------ */

struct vcase {
	const char *text;
	size_t len; /* 0: strlen(text) */
	bool want;
	const char *name;
};

static const struct vcase vcases[] = {
	/* accepted */
	{ "{}", 0, true, "empty object" },
	{ " {} ", 0, true, "spaces around" },
	{ "\t\r\n{\n}\r\n\t", 0, true, "tab, CR, LF around and inside" },
	{ "{\"\":\"\"}", 0, true, "empty key and string" },
	{ "{\"a\":1}", 0, true, "one number member" },
	{ "{\"a\":0}", 0, true, "0" },
	{ "{\"a\":-0}", 0, true, "-0" },
	{ "{\"a\":1.5e+10}", 0, true, "1.5e+10" },
	{ "{\"a\":1E-2}", 0, true, "1E-2" },
	{ "{\"a\":-0.0e0}", 0, true, "-0.0e0" },
	{ "{\"a\":1e007}", 0, true, "exponent with leading zeros" },
	{ "{\"a\":123456789012345678901234567890}", 0, true, "30-digit integer" },
	{ "{\"a\":1e400,\"b\":-1e-400}", 0, true, "out-of-range exponents" },
	{ "{\"a\":true,\"b\":false,\"c\":null}", 0, true, "true, false, null" },
	{ "{\"a\":[],\"b\":[ ],\"c\":{},\"d\":{ }}", 0, true, "empty containers" },
	{ "{\"a\":[1,\"x\",true,false,null,{},[],-2.5E-3]}", 0, true, "array of every kind" },
	{ "{\"a\":{\"b\":{\"c\":[[{\"d\":[]}]]}}}", 0, true, "nested" },
	{ "{ \"a\" : [ 1 , 2 ] , \"b\" : { \"c\" : null } }", 0, true, "spaces everywhere" },
	{ "{\n\t\"a\":\r\n1\n}", 0, true, "newlines inside" },
	{ "{\"a\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}", 0, true, "every short escape" },
	{ "{\"a\":\"\\u0041\\u00e9\\u20AC\\uFFFF\"}", 0, true, "\\u escapes, both cases" },
	{ "{\"a\":\"\\ud83d\\ude00\"}", 0, true, "surrogate pair" },
	{ "{\"\\uD83D\\uDE00\":\"\\uDBFF\\uDFFF\"}", 0, true, "surrogate pairs, key too" },
	{ "{\"a\":\"\\udc00\"}", 0, true, "lone low surrogate (jq: U+FFFD)" },
	{ "{\"a\":\"\\u0000\"}", 0, true, "\\u0000" },
	{ "{\"\xC3\xA9\":\"\xF0\x9F\x98\x80\xE2\x82\xAC\"}", 0, true, "raw UTF-8" },
	{ "{\"a\":\"\x7F\"}", 0, true, "raw DEL in a string" },
	{ "{\"a\":1,\"a\":2}", 0, true, "duplicate keys" },
	{ "{\"a\":\"}\",\"b\":\"]\",\"c\":\"{[\"}", 0, true, "brackets in strings" },
	{ "{\"a\":\"\\\\\"}", 0, true, "escaped backslash before the closing quote" },
	{ "{\"a\":\"x\",\"b\":[{\"c\":[1,{\"d\":\"\\\"}\"}]}]}", 0, true,
		"quote escapes in nested" },
	/* rejected: not one object */
	{ "", 0, false, "empty text" },
	{ "   ", 0, false, "only spaces" },
	{ "[]", 0, false, "array at the top" },
	{ "[{}]", 0, false, "object in an array" },
	{ "\"a\"", 0, false, "string at the top" },
	{ "1", 0, false, "number at the top" },
	{ "null", 0, false, "null at the top" },
	{ "true", 0, false, "true at the top" },
	{ "{\"a\":1}{\"b\":2}", 0, false, "two objects" },
	{ "{\"a\":1} {}", 0, false, "two objects with a space" },
	{ "{\"a\":1}x", 0, false, "trailing garbage" },
	{ "{\"a\":1},", 0, false, "trailing comma after the object" },
	{ "{\"a\":1}}", 0, false, "extra closing brace" },
	{ "{\"a\":1}]", 0, false, "extra closing bracket" },
	{ "\xEF\xBB\xBF{}", 0, false, "byte order mark" },
	{ "\f{}", 0, false, "form feed is no JSON space" },
	{ "\v{}", 0, false, "vertical tab is no JSON space" },
	{ "{}\f", 0, false, "form feed after" },
	{ "{", 0, false, "unterminated object" },
	{ "}", 0, false, "closing brace only" },
	{ "{\"a\":1", 0, false, "unterminated object after a member" },
	{ "{\"a\":[1}", 0, false, "unterminated array" },
	{ "{\"a\":{}]", 0, false, "mismatched brackets" },
	{ "{\"a\":[}", 0, false, "mismatched brackets inside" },
	{ "{\"a\":\"b}", 0, false, "unterminated string" },
	{ "{\"a", 0, false, "unterminated key" },
	/* rejected: commas, colons, keys */
	{ "{\"a\":1,}", 0, false, "trailing comma in an object" },
	{ "{,}", 0, false, "lone comma" },
	{ "{,\"a\":1}", 0, false, "leading comma" },
	{ "{\"a\":1,,\"b\":2}", 0, false, "double comma" },
	{ "{\"a\":[1,]}", 0, false, "trailing comma in an array" },
	{ "{\"a\":[,1]}", 0, false, "leading comma in an array" },
	{ "{\"a\" 1}", 0, false, "missing colon" },
	{ "{\"a\"::1}", 0, false, "double colon" },
	{ "{\"a\":}", 0, false, "missing value" },
	{ "{\"a\"}", 0, false, "key without value" },
	{ "{\"a\":1 \"b\":2}", 0, false, "missing comma" },
	{ "{\"a\":\"x\"\"b\":2}", 0, false, "missing comma after a string" },
	{ "{\"a\":1 2}", 0, false, "two values" },
	{ "{a:1}", 0, false, "unquoted key" },
	{ "{1:1}", 0, false, "number key" },
	{ "{null:1}", 0, false, "null key" },
	{ "{'a':1}", 0, false, "single-quoted key" },
	{ "{\"a\":'b'}", 0, false, "single-quoted string" },
	{ "{\"a\":[1]:2}", 0, false, "colon in an array" },
	/* rejected: numbers */
	{ "{\"a\":01}", 0, false, "leading zero" },
	{ "{\"a\":00}", 0, false, "two zeros" },
	{ "{\"a\":-01}", 0, false, "leading zero after minus" },
	{ "{\"a\":1.}", 0, false, "1." },
	{ "{\"a\":.5}", 0, false, ".5" },
	{ "{\"a\":-.5}", 0, false, "-.5" },
	{ "{\"a\":+1}", 0, false, "+1" },
	{ "{\"a\":-}", 0, false, "lone minus" },
	{ "{\"a\":--1}", 0, false, "double minus" },
	{ "{\"a\":1e}", 0, false, "empty exponent" },
	{ "{\"a\":1e+}", 0, false, "signed empty exponent" },
	{ "{\"a\":1.e5}", 0, false, "1.e5" },
	{ "{\"a\":1e5.3}", 0, false, "fractional exponent" },
	{ "{\"a\":1.2.3}", 0, false, "two points" },
	{ "{\"a\":0x10}", 0, false, "hex" },
	{ "{\"a\":NaN}", 0, false, "NaN" },
	{ "{\"a\":nan}", 0, false, "nan (jq reads it)" },
	{ "{\"a\":Infinity}", 0, false, "Infinity" },
	{ "{\"a\":-Infinity}", 0, false, "-Infinity" },
	{ "{\"a\":1x}", 0, false, "letter after a number" },
	/* rejected: words */
	{ "{\"a\":tru}", 0, false, "tru" },
	{ "{\"a\":truex}", 0, false, "truex" },
	{ "{\"a\":True}", 0, false, "True" },
	{ "{\"a\":nul}", 0, false, "nul" },
	{ "{\"a\":fals}", 0, false, "fals" },
	{ "{\"a\":undefined}", 0, false, "undefined" },
	/* rejected: comments */
	{ "{\"a\":1 /* c */}", 0, false, "block comment" },
	{ "{\"a\":1} // c", 0, false, "line comment after" },
	{ "# c\n{}", 0, false, "hash comment before" },
	/* rejected: strings */
	{ "{\"a\":\"\x01\"}", 0, false, "raw U+0001 in a string" },
	{ "{\"a\":\"\t\"}", 0, false, "raw tab in a string" },
	{ "{\"a\":\"\n\"}", 0, false, "raw newline in a string" },
	{ "{\"a\":\"\x1F\"}", 0, false, "raw U+001F in a string" },
	{ "{\"a\n\":1}", 0, false, "raw newline in a key" },
	{ "{\"a\":\"\0\"}", 9, false, "raw NUL in a string" },
	{ "{\"a\":1}\0", 8, false, "NUL after the object" },
	{ "{\"a\":\"\\x41\"}", 0, false, "\\x escape" },
	{ "{\"a\":\"\\'\"}", 0, false, "\\' escape" },
	{ "{\"a\":\"\\U0041\"}", 0, false, "\\U escape" },
	{ "{\"a\":\"\\a\"}", 0, false, "\\a escape" },
	{ "{\"a\":\"\\0\"}", 0, false, "\\0 escape" },
	{ "{\"a\":\"\\u12G4\"}", 0, false, "\\u12G4" },
	{ "{\"a\":\"\\u12\"}", 0, false, "truncated \\u12" },
	{ "{\"a\":\"\\u\"}", 0, false, "bare \\u" },
	{ "{\"a\":\"\\u12", 0, false, "\\u12 at the end of the text" },
	{ "{\"a\":\"\\", 0, false, "backslash at the end of the text" },
	{ "{\"a\":\"\\\"}", 0, false, "the closing quote escaped" },
};

static void
test_valid_cases(void)
{
	size_t n_cases = sizeof(vcases) / sizeof(vcases[0]);

	for (size_t i = 0; i < n_cases; i++) {
		const struct vcase *c = &vcases[i];
		size_t len = c->len ? c->len : strlen(c->text);

		ok(valid_n(c->text, len) == c->want, "jscan_object_valid %s: %s",
			c->want ? "accepts" : "rejects", c->name);
		if (c->want)
			ok(jq_object(c->text, len), "jq accepts it too: %s", c->name);
	}
}

/* Every prefix of an accepted text short of its closing brace is rejected; so is garbage after it.
 */
static void
test_prefixes(void)
{
	static const char *const garbage[] = { "x", ",", "{}", "]", "}", "0", "\"", "/", "\f" };
	size_t n_cases = sizeof(vcases) / sizeof(vcases[0]), bad_prefix = 0, prefixes = 0;
	size_t bad_tail = 0, tails = 0;
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n_cases; i++) {
		const struct vcase *c = &vcases[i];
		size_t len = c->len ? c->len : strlen(c->text), close = len;

		if (!c->want)
			continue;
		while (close > 0 && c->text[close - 1] != '}')
			close--;
		for (size_t n = 0; n < close; n++, prefixes++)
			if (valid_n(c->text, n)) {
				if (bad_prefix++ < 3)
					show("accepted prefix", c->text, n);
			}
		for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++, tails++) {
			buf_reset(&b);
			buf_add(&b, c->text, len);
			buf_puts(&b, garbage[g]);
			if (valid_n(b.data, b.len)) {
				if (bad_tail++ < 3)
					show("accepted with garbage", b.data, b.len);
			}
		}
	}
	is_int(bad_prefix, 0, "every proper prefix of an accepted text is rejected (%zu prefixes)",
		prefixes);
	is_int(bad_tail, 0, "an accepted text with garbage after it is rejected (%zu texts)",
		tails);
	buf_free(&b);
}

enum shape { ARRAYS, OBJECTS, MIXED };

/* {"k": then containers - 1 more arrays, objects or both in turn, 1 at the bottom. */
static void
nested(struct buf *b, size_t containers, enum shape shape)
{
	buf_reset(b);
	buf_puts(b, "{\"k\":");
	for (size_t i = 1; i < containers; i++)
		buf_puts(b, shape == ARRAYS || (shape == MIXED && i % 2) ? "[" : "{\"k\":");
	buf_putc(b, '1');
	for (size_t i = containers - 1; i >= 1; i--)
		buf_putc(b, shape == ARRAYS || (shape == MIXED && i % 2) ? ']' : '}');
	buf_putc(b, '}');
	buf_cstr(b);
}

/*
 * The weight jq 1.6's parser gives the nesting of nested(containers, shape)
 * (JSCAN_MAX_DEPTH): the top object 1, a container that is an object
 * member's value 2, one inside an array 1.
 */
static size_t
nesting_weight(size_t containers, enum shape shape)
{
	size_t weight = 1;

	for (size_t i = 1; i < containers; i++) {
		bool in_array = shape == ARRAYS ? i > 1 : shape == MIXED && i % 2 == 0;

		weight += in_array ? 1 : 2;
	}
	return weight;
}

static void
test_depth(void)
{
	static const char *const shape_name[] = { "arrays", "objects", "arrays and objects" };
	static const size_t deepest[] = { 255, 128, 171 };
	struct buf b = BUF_INIT;
	struct jspan v;
	double d = 0;
	size_t steps = 0, by_weight = 0, with_jq = 0, tried = 0;

	ok(JSCAN_MAX_DEPTH == 256, "JSCAN_MAX_DEPTH is jq's parsing limit (256)");
	for (int shape = ARRAYS; shape <= MIXED; shape++) {
		const char *what = shape_name[shape];

		nested(&b, deepest[shape], shape);
		ok(valid_n(b.data, b.len) && jq_object(b.data, b.len),
			"%zu nested %s: jscan and jq accept them", deepest[shape], what);
		nested(&b, deepest[shape] + 1, shape);
		ok(!valid_n(b.data, b.len), "%zu nested %s are rejected", deepest[shape] + 1, what);
		nested(&b, 100000, shape);
		ok(!valid_n(b.data, b.len), "100000 nested %s are rejected (no deep recursion)",
			what);
	}
	/* jscan takes a nesting exactly when jq does, and as the documented weights say. */
	for (int shape = ARRAYS; shape <= MIXED; shape++)
		for (size_t n = 1; n <= 300; n++, tried++) {
			bool jscan = (nested(&b, n, shape), valid_n(b.data, b.len));

			if (jscan != (nesting_weight(n, shape) <= JSCAN_MAX_DEPTH) &&
				by_weight++ == 0)
				printf("#   %zu nested %s: jscan %s, weight %zu\n", n,
					shape_name[shape], jscan ? "accepts" : "rejects",
					nesting_weight(n, shape));
			if (jscan != jq_object(b.data, b.len) && with_jq++ == 0)
				printf("#   %zu nested %s: jscan %s, jq does not\n", n,
					shape_name[shape], jscan ? "accepts" : "rejects");
		}
	is_int(by_weight, 0,
		"jscan takes a nesting when its weight is within JSCAN_MAX_DEPTH "
		"(%zu nestings)",
		tried);
	is_int(with_jq, 0, "jscan takes a nesting exactly when jq does (%zu nestings)", tried);
	/* Down the deepest accepted objects with jscan_get. */
	nested(&b, deepest[OBJECTS], OBJECTS);
	v = trimmed(b.data, b.len);
	while (jscan_kind(v) == JSCAN_OBJECT) {
		v = jscan_get(v, "k");
		steps++;
	}
	ok(steps == deepest[OBJECTS] && jscan_number(v, &d) && d == 1,
		"jscan_get walks down %zu objects to the 1 (%zu steps)", deepest[OBJECTS], steps);
	buf_free(&b);
}

/* --- the member walk and jscan_get ---------------------------------------------- */

static void
test_walk(void)
{
	static const char text[] = "{ \"a\" : 1 , \"b\":[1,{\"c\":\"}\"}] ,\"c\" : \"x\\\"y\" ,"
				   "\"d\":{\"e\" :null\t}\n,\"f\":-2.5e3}";
	static const char *const want_keys[] = { "a", "b", "c", "d", "f" };
	static const char *const want_values[] = { "1", "[1,{\"c\":\"}\"}]", "\"x\\\"y\"",
		"{\"e\" :null\t}", "-2.5e3" };
	char *copy = exact_copy(text, strlen(text));
	struct jspan obj = { copy, strlen(text) }, key, value, v;
	struct jscan_iter it;
	size_t i = 0;
	bool spans_ok = true;

	ok(jscan_object_valid(copy, obj.n), "walk: the text is valid");
	jscan_iter_init(&it, obj);
	while (jscan_next(&it, &key, &value)) {
		if (i >= 5 || !span_is(key, want_keys[i]) || !span_is(value, want_values[i])) {
			spans_ok = false;
			show("key", key.p, key.n);
			show("value", value.p, value.n);
		}
		i++;
	}
	ok(spans_ok && i == 5, "jscan_next gives each key and value span exactly (%zu members)", i);
	ok(!jscan_next(&it, &key, &value), "jscan_next stays false after the last member");
	{
		static const char esc_text[] = "{\"a\":1,\"\\u0062\":2,\"c\\\"\":3,\"d\":\"\\n\"}";
		static const bool want_escaped[] = { false, true, true, false };
		char *c = exact_copy(esc_text, strlen(esc_text));
		struct jspan o = { c, strlen(esc_text) };
		size_t k = 0;
		bool same = true;

		jscan_iter_init(&it, o);
		while (jscan_next(&it, &key, &value))
			same = same && k < 4 && it.key_escaped == want_escaped[k++];
		ok(same && k == 4, "jscan_iter key_escaped says which keys have an escape in them");
		free(c);
	}

	ok(span_is(jscan_get(obj, "f"), "-2.5e3"), "jscan_get: a number before the closing brace");
	v = jscan_get(obj, "d");
	is_int(jscan_kind(v), JSCAN_OBJECT, "jscan_get: an object value");
	ok(span_is(jscan_get(v, "e"), "null"), "jscan_get in a nested object, space after null");
	v = jscan_get(obj, "missing");
	ok(v.p == NULL && v.n == 0 && jscan_kind(v) == JSCAN_NONE,
		"jscan_get: a missing name gives an empty span, kind JSCAN_NONE");
	v = jscan_get(jscan_get(obj, "b"), "c");
	ok(v.n == 0, "jscan_get on an array gives an empty span");
	v = jscan_get(jscan_get(obj, "a"), "c");
	ok(v.n == 0, "jscan_get on a number gives an empty span");
	v = jscan_get(jscan_get(obj, "zzz"), "c");
	ok(v.n == 0, "jscan_get on an empty span gives an empty span");
	ok(jscan_get(obj, "e").n == 0, "jscan_get does not find members of nested objects");
	free(copy);

	{
		static const struct {
			const char *text, *name, *want;
		} dups[] = {
			{ "{\"a\":1,\"b\":2,\"a\":3}", "a", "3" },
			{ "{\"a\":1,\"\\u0061\":[2]}", "a", "[2]" },
			{ "{\"\\u0061\":1,\"a\":2,\"b\":0,\"\\u0061\":{\"x\":1}}", "a",
				"{\"x\":1}" },
			{ "{\"llm\":1,\"llm\\u0000\":2}", "llm", "1" },
			{ "{\"llm\\u0000\":2}", "llm", "" },
			{ "{\"ll\\u006d\":\"x\",\"llm\":\"y\"}", "llm", "\"y\"" },
			{ "{\"\":5,\"a\":6}", "", "5" },
			{ "{}", "a", "" },
			{ "{ }", "", "" },
		};

		for (size_t k = 0; k < sizeof(dups) / sizeof(dups[0]); k++) {
			size_t n = strlen(dups[k].text);
			char *c = exact_copy(dups[k].text, n);
			struct jspan o = { c, n };

			ok(jscan_object_valid(c, n) &&
					span_is(jscan_get(o, dups[k].name), dups[k].want),
				"jscan_get(%s, \"%s\") is '%s' (the last one)", vis(dups[k].text),
				dups[k].name, vis(dups[k].want));
			free(c);
		}
	}
}

static void
test_pick(void)
{
	static const char text[] = "{\"a\":1,\"b\":\"x\",\"a\":3,\"c\":{\"a\":9},\"\\u0062\":true}";
	static const char *const names[] = { "a", "b", "missing", "c", "a" };
	static const char *const want[] = { "3", "true", "", "{\"a\":9}", "3" };
	char *copy = exact_copy(text, strlen(text));
	struct jspan obj = { copy, strlen(text) }, values[5];
	struct jscan_pick picks[5];
	bool same = true;

	for (size_t i = 0; i < 5; i++)
		picks[i] = (struct jscan_pick){ names[i], &values[i], NULL, 0 };
	jscan_pick(obj, picks, 5);
	for (size_t i = 0; i < 5; i++)
		if (!span_is(values[i], want[i])) {
			same = false;
			show(names[i], values[i].p, values[i].n);
		}
	ok(same, "jscan_pick: the last of each name, empty for a missing one, a name twice");
	for (size_t i = 0; i < 5; i++)
		values[i] = obj;
	jscan_pick(jscan_get(obj, "b"), picks, 5);
	same = true;
	for (size_t i = 0; i < 5; i++)
		same = same && values[i].n == 0 && values[i].p == NULL;
	ok(same, "jscan_pick on a value that is no object (true): every value is an empty span");
	jscan_pick(obj, picks, 0);
	ok(1, "jscan_pick with no names");

	free(copy);
}

/* jscan_object_pick with picks below picks, duplicates, and texts that are not valid. */
static void
test_object_pick(void)
{
	static const char text[] = "{\"a\":1,\"b\":\"x\",\"a\":3,\"c\":{\"a\":9,\"d\":{\"e\":[]}},"
				   "\"\\u0062\":true}";
	struct jspan a, b, missing, ma, c, ca, cd, cde, cmissing, a2, a2x;
	const struct jscan_pick below_missing[] = { { "a", &ma, NULL, 0 } };
	const struct jscan_pick below_cd[] = { { "e", &cde, NULL, 0 } };
	const struct jscan_pick below_c[] = { { "a", &ca, NULL, 0 }, { "d", &cd, below_cd, 1 },
		{ "zz", &cmissing, NULL, 0 } };
	const struct jscan_pick below_a2[] = { { "x", &a2x, NULL, 0 } };
	const struct jscan_pick picks[] = { { "a", &a, NULL, 0 }, { "b", &b, NULL, 0 },
		{ "missing", &missing, below_missing, 1 }, { "c", &c, below_c, 3 },
		{ "a", &a2, below_a2, 1 } };
	char *copy = exact_copy(text, strlen(text));

	ok(jscan_object_pick(copy, strlen(text), picks, 5), "jscan_object_pick: a valid text");
	ok(span_is(a, "3") && span_is(a2, "3") && span_is(b, "true") && missing.n == 0 &&
			ma.n == 0 && a2x.n == 0,
		"jscan_object_pick: the last of each name, empty for a missing one and below it, "
		"a name twice");
	ok(span_is(c, "{\"a\":9,\"d\":{\"e\":[]}}") && span_is(ca, "9") &&
			span_is(cd, "{\"e\":[]}") && span_is(cde, "[]") && cmissing.n == 0,
		"jscan_object_pick: members below a member, two levels down");
	free(copy);

	{
		static const struct {
			const char *text, *u, *x, *y;
		} cases[] = {
			{ "{\"u\":{\"x\":1},\"u\":{\"y\":2}}", "{\"y\":2}", NULL, "2" },
			{ "{\"u\":{\"x\":1},\"u\":5}", "5", NULL, NULL },
			{ "{\"u\":5,\"u\":{\"x\":1,\"x\":[3]}}", "{\"x\":1,\"x\":[3]}", "[3]",
				NULL },
			{ "{\"u\":[{\"x\":1}]}", "[{\"x\":1}]", NULL, NULL },
			{ "{\"\\u0075\":{\"\\u0078\":\"a\",\"y\":\"b\"}}",
				"{\"\\u0078\":\"a\",\"y\":\"b\"}", "\"a\"", "\"b\"" },
			{ "{\"v\":{\"u\":{\"x\":1}},\"u\":{}}", "{}", NULL, NULL },
			{ " \t{ \"u\" : { \"x\" : 1 , \"y\" : 2 } }\n", "{ \"x\" : 1 , \"y\" : 2 }",
				"1", "2" },
		};

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			struct jspan u, x, y;
			const struct jscan_pick below[] = { { "x", &x, NULL, 0 },
				{ "y", &y, NULL, 0 } };
			const struct jscan_pick top[] = { { "u", &u, below, 2 } };
			size_t n = strlen(cases[k].text);

			copy = exact_copy(cases[k].text, n);
			ok(jscan_object_pick(copy, n, top, 1) && span_is(u, cases[k].u) &&
					span_is(x, cases[k].x ? cases[k].x : "") &&
					span_is(y, cases[k].y ? cases[k].y : ""),
				"jscan_object_pick(%s): u, u.x and u.y as jq reads them",
				vis(cases[k].text));
			free(copy);
		}
	}
	copy = exact_copy(text, strlen(text));
	ok(jscan_object_pick(copy, strlen(text), NULL, 0),
		"jscan_object_pick with no picks is jscan_object_valid");
	free(copy);
	{
		static const char *const bad[] = { "{\"a\":1,}", "{\"a\":1}x", "{\"a\":1,\"b\":[}",
			"{\"a\":1,\"a\":2", "{\"a\":1}{\"a\":2}", "{\"b\":\"x\",\"a\":01}",
			"{\"c\":{\"a\":9,\"d\":{\"e\":1}},\"x\":}",
			"{\"c\":{\"a\":9,\"d\":{\"e\":1,}}}" };

		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			size_t n = strlen(bad[k]);
			struct jspan *all[] = { &a, &b, &missing, &ma, &c, &ca, &cd, &cde,
				&cmissing, &a2, &a2x };
			bool empty = true;

			copy = exact_copy(bad[k], n);
			for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
				*all[i] = span(bad[k]);
			ok(!jscan_object_pick(copy, n, picks, 5), "jscan_object_pick(%s) is false",
				bad[k]);
			for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
				empty = empty && all[i]->p == NULL && all[i]->n == 0;
			ok(empty,
				"jscan_object_pick: every value, nested ones too, is empty when %s "
				"is not valid",
				bad[k]);
			free(copy);
		}
	}
}

/* --- jscan_key_is ----------------------------------------------------------------- */

static void
test_key_is(void)
{
	static const struct {
		const char *key, *name;
		bool want;
	} cases[] = {
		{ "llm", "llm", true },
		{ "ll\\u006d", "llm", true },
		{ "ll\\u006D", "llm", true },
		{ "\\u006c\\u006C\\u006d", "llm", true },
		{ "llm\\u0000", "llm", false },
		{ "ll\\u0000m", "ll", false },
		{ "\\u0000", "", false },
		{ "ll\\u006dx", "llm", false },
		{ "ll\\u006d", "llmx", false },
		{ "ll\\u006d", "ll", false },
		{ "ll\\u006d", "l", false },
		{ "llm", "LLM", false },
		{ "llm", "ll", false },
		{ "ll", "llm", false },
		{ "", "", true },
		{ "", "a", false },
		{ "a", "", false },
		{ "\\\"", "\"", true },
		{ "\\u0022", "\"", true },
		{ "a\\\"b", "a\"b", true },
		{ "a\\\"b", "a\\\"b", false },
		{ "a\\\\b", "a\\b", true },
		{ "\\/", "/", true },
		{ "\\b\\f\\n\\r\\t", "\b\f\n\r\t", true },
		{ "\\u00e9", "\xC3\xA9", true },
		{ "\\u00e9", "e", false },
		{ "\xC3\xA9", "\xC3\xA9", true },
		{ "\xC3\xA9", "\\u00e9", false },
		{ "\\u20ac", "\xE2\x82\xAC", true },
		{ "\\ud83d\\ude00", "\xF0\x9F\x98\x80", true },
		{ "\\uD83D\\uDE00x", "\xF0\x9F\x98\x80x", true },
		{ "\\udc00", "\xEF\xBF\xBD", true },
		{ "\\u0061\xF0\x9F\x98\x80", "a\xF0\x9F\x98\x80", true },
	};
	struct buf key = BUF_INIT, name = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].key);
		char *copy = exact_copy(cases[i].key, n);
		struct jspan k = { copy, n };

		ok(jscan_key_is(k, cases[i].name) == cases[i].want,
			"jscan_key_is(\"%s\", \"%s\") is %s", vis(cases[i].key), vis(cases[i].name),
			cases[i].want ? "true" : "false");
		free(copy);
	}

	/* Names around 256 bytes and of 300: the stack buffer and the malloc'ed one. */
	for (size_t len = 254; len <= 300; len += len < 258 ? 1 : 42) {
		char *copy;
		struct jspan k;

		buf_reset(&key);
		buf_reset(&name);
		buf_puts(&key, "\\u0061"); /* 'a' */
		buf_putc(&name, 'a');
		for (size_t i = 1; i < len; i++) {
			buf_putc(&key, (char)('a' + i % 26));
			buf_putc(&name, (char)('a' + i % 26));
		}
		copy = exact_copy(key.data, key.len);
		k.p = copy;
		k.n = key.len;
		ok(jscan_key_is(k, buf_cstr(&name)), "jscan_key_is: an escaped key of %zu bytes",
			len);
		name.data[len - 1] = 'Z';
		ok(!jscan_key_is(k, name.data), "jscan_key_is: the last of %zu bytes differs", len);
		name.data[len - 1] = (char)('a' + (len - 1) % 26);
		buf_putc(&name, 'x');
		ok(!jscan_key_is(k, buf_cstr(&name)), "jscan_key_is: a name one byte longer (%zu)",
			len);
		name.len = len - 1;
		ok(!jscan_key_is(k, buf_cstr(&name)), "jscan_key_is: a name one byte shorter (%zu)",
			len);
		free(copy);
	}
	buf_free(&key);
	buf_free(&name);
}

/* --- jscan_string --------------------------------------------------------------------- */

static void
test_string(void)
{
	static const struct {
		const char *json, *want, *name;
	} cases[] = {
		{ "\"\"", "", "empty" },
		{ "\"abc\"", "abc", "plain" },
		{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", "short escapes" },
		{ "\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"",
			"A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", "\\u escapes and a pair" },
		{ "\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF", "U+10FFFF" },
		{ "\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"",
			"\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF", "UTF-8 length boundaries" },
		{ "\"ab\\u0000cd\"", "ab", "cut at U+0000" },
		{ "\"\\u0000\"", "", "only U+0000" },
		{ "\"\\udc00x\"", "\xEF\xBF\xBDx", "lone low surrogate" },
		{ "\"\\ude00\\ud83d\"", "\xEF\xBF\xBD\xEF\xBF\xBD", "a pair the wrong way round" },
		{ "\"\\ud800\\u0071\"", "\xEF\xBF\xBDq", "lone high surrogate, then q" },
		{ "\"\\ud800\\ud800\\udc00\"", "\xEF\xBF\xBD\xF0\x90\x80\x80",
			"lone high surrogate, then a pair" },
		{ "\"\xC3\xA9\\n\xF0\x9F\x98\x80\"", "\xC3\xA9\n\xF0\x9F\x98\x80",
			"raw UTF-8 and escapes" },
	};
	/* "a", U+00E9, U+20AC, U+1F600, "z": characters end at 1 3 6 10 11 bytes; three spellings.
	 */
	static const char *const cut_texts[] = {
		"\"a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z\"",
		"\"a\\u00e9\\u20ac\\ud83d\\ude00z\"",
		"\"\\u0061\xC3\xA9\\u20AC\xF0\x9F\x98\x80\\u007a\"",
	};
	static const char *const cut_names[] = { "raw UTF-8", "\\u escapes", "a mix" };
	static const size_t bounds[] = { 0, 1, 3, 6, 10, 11 };
	static const char full[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";
	static const char *const not_strings[] = { "1", "-1", "true", "false", "null", "{}", "[]",
		"{\"a\":\"b\"}", "[\"a\"]" };
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].json);
		char *copy = exact_copy(cases[i].json, n);
		struct jspan v = { copy, n };
		bool got = jscan_string(v, out, sizeof(out));

		ok(got && strcmp(out, cases[i].want) == 0, "jscan_string: %s", cases[i].name);
		free(copy);
	}

	for (size_t t = 0; t < sizeof(cut_texts) / sizeof(cut_texts[0]); t++) {
		size_t n = strlen(cut_texts[t]), bad = 0;
		char *copy = exact_copy(cut_texts[t], n);
		struct jspan v = { copy, n };
		char sentinel = 'Z';

		for (size_t size = 1; size <= 14; size++) {
			char *o = xmalloc(size); /* exact: a write past size shows */
			size_t want = 0;

			for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++)
				if (bounds[b] <= size - 1)
					want = bounds[b];
			if (!jscan_string(v, o, size) || strlen(o) != want ||
				memcmp(o, full, want) != 0) {
				if (bad++ == 0)
					printf("#   size %zu: got %zu bytes, want %zu\n", size,
						strlen(o), want);
			}
			free(o);
		}
		is_int(bad, 0, "jscan_string cuts %s at a character boundary, sizes 1..14",
			cut_names[t]);
		ok(jscan_string(v, &sentinel, 0) && sentinel == 'Z',
			"jscan_string with size 0: true, nothing written");
		free(copy);
	}

	{
		char one[1] = { 'Z' };
		struct jspan v = span("\"abc\"");

		ok(jscan_string(v, one, 1) && one[0] == '\0',
			"jscan_string with size 1 gives \"\"");
	}
	for (size_t i = 0; i < sizeof(not_strings) / sizeof(not_strings[0]); i++) {
		size_t n = strlen(not_strings[i]);
		char *copy = exact_copy(not_strings[i], n);
		struct jspan v = { copy, n };

		memset(out, 'Z', sizeof(out));
		ok(!jscan_string(v, out, sizeof(out)) && out[0] == '\0',
			"jscan_string on %s: false, out \"\"", not_strings[i]);
		free(copy);
	}
	{
		struct jspan none = { NULL, 0 };

		memset(out, 'Z', sizeof(out));
		ok(!jscan_string(none, out, sizeof(out)) && out[0] == '\0',
			"jscan_string on an empty span: false, out \"\"");
		ok(!jscan_string(none, out, 0), "jscan_string on an empty span with size 0: false");
	}
}

/* --- jscan_number ------------------------------------------------------------------- */

/* What jq reads text (one number) as. */
static double
jq_number(const char *text)
{
	jv v = jv_parse(text);
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : NAN;

	jv_free(v);
	return d;
}

static void
test_number(void)
{
	static const struct {
		const char *text;
		double want;
	} cases[] = {
		{ "0", 0.0 },
		{ "-0", -0.0 },
		{ "7", 7.0 },
		{ "42", 42.0 },
		{ "-17", -17.0 },
		{ "1e3", 1000.0 },
		{ "1E-2", 0.01 },
		{ "-1.5e+10", -1.5e10 },
		{ "2.5", 2.5 },
		{ "0.1", 0.1 },
		{ "-0.0e0", -0.0 },
		{ "1e007", 1e7 },
		{ "999999999999999999", 1e18 },
		{ "123456789012345678", 123456789012345678.0 },
		{ "1234567890123456789", 1234567890123456789.0 },
		{ "18446744073709551615", 18446744073709551615.0 },
		{ "18446744073709551616", 18446744073709551616.0 },
		{ "9007199254740993", 9007199254740992.0 },
		{ "9007199254740995", 9007199254740996.0 },
		{ "-9007199254740993", -9007199254740992.0 },
		{ "1e400", HUGE_VAL },
		{ "-1e400", -HUGE_VAL },
		{ "1e-400", 0.0 },
		{ "-1e-400", -0.0 },
		{ "4.9406564584124654e-324", 4.9406564584124654e-324 },
		{ "2.4703282292062328e-324", 4.9406564584124654e-324 },
		{ "1.7976931348623157e308", 1.7976931348623157e308 },
		{ "1.00000000000000011102230246251565404236316680908203125", 1.0 },
		{ "1.00000000000000011102230246251565404236316680908203126", 1.0000000000000002 },
		{ "10000000000000000000000000000000000000000000000000000000000000000000000", 1e70 },
		{ "0.00000000000000000000000000000000000000000000000000000000000000000000001",
			1e-71 },
		{ "123456789012345678901234567890123456789012345678901234567890123", /* 63 */
			123456789012345678901234567890123456789012345678901234567890123.0 },
		{ "1234567890123456789012345678901234567890123456789012345678901234", /* 64 */
			1234567890123456789012345678901234567890123456789012345678901234.0 },
		{ "-1234567890123456789012345678901234567890123456789012345678901234567890e-60",
			-1234567890.123456789012345678901234567890123456789012345678901234567890 },
	};
	static const char *const not_numbers[] = { "\"1\"", "\"-1\"", "true", "false", "null", "{}",
		"[1]", "{\"a\":1}" };
	static const struct {
		const char *text, *name;
		double want;
	} members[] = {
		{ "{\"n\":-12.5e1 }", "n", -125.0 },
		{ "{\"n\":7}", "n", 7.0 },
		{ "{\"n\":7,\"m\":8}", "m", 8.0 },
		{ "{\"n\":123456789012345678\n}", "n", 123456789012345678.0 },
		{ "{\"n\":12\t,\"m\":\"x\"}", "n", 12.0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].text);
		char *copy = exact_copy(cases[i].text, n);
		struct jspan v = { copy, n };
		double got = NAN;
		bool ret = jscan_number(v, &got);

		if (!ok(ret && same_double(got, cases[i].want), "jscan_number(%s)", cases[i].text))
			printf("#   got %.17g, want %.17g\n", got, cases[i].want);
		if (!ok(same_double(got, jq_number(cases[i].text)), "jscan_number(%s) is jq's",
			    cases[i].text))
			printf("#   got %.17g, jq %.17g\n", got, jq_number(cases[i].text));
		free(copy);
	}
	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++) {
		size_t n = strlen(not_numbers[i]);
		char *copy = exact_copy(not_numbers[i], n);
		struct jspan v = { copy, n };
		double got = 5;

		ok(!jscan_number(v, &got), "jscan_number(%s) is false", not_numbers[i]);
		free(copy);
	}
	{
		struct jspan none = { NULL, 0 };
		double got = 5;

		ok(!jscan_number(none, &got), "jscan_number of an empty span is false");
	}
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		size_t n = strlen(members[i].text);
		char *copy = exact_copy(members[i].text, n);
		struct jspan obj = { copy, n };
		double got = NAN;

		ok(jscan_number(jscan_get(obj, members[i].name), &got) && got == members[i].want,
			"jscan_number(jscan_get(%s, \"%s\"))", vis(members[i].text),
			members[i].name);
		free(copy);
	}
}

/* --- lone high surrogates (jq 1.6 rejects them) -------------------------------------- */

/*
 * A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF escape: jq 1.6
 * fails the whole text ("Invalid \uXXXX\uXXXX surrogate pair escape"), and
 * so must jscan, or jsonl_next_lazy would hand jl-cost a line every other
 * tool reports as bad input. A lone low surrogate jq takes (as U+FFFD).
 */
static void
test_lone_high_surrogate(void)
{
	static const char *const rejected[] = {
		"{\"a\":\"\\ud800\"}",
		"{\"a\":\"x\\uDBFF\"}",
		"{\"a\":\"\\ud800x\"}",
		"{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"\\ud800\\ud800\\udc00\"}",
		"{\"a\":\"\\ud83d\\\\ude00\"}",
		"{\"a\":\"\\ud83d\\n\"}",
		"{\"\\ud800\":1}",
		"{\"a\":[{\"b\":\"\\udbff\"}]}",
	};
	static const char *const accepted[] = {
		"{\"a\":\"\\ud800\\udc00\"}",
		"{\"a\":\"\\uDBFF\\uDFFF\"}",
		"{\"a\":\"\\udc00\"}",
		"{\"a\":\"\\udfff\\ud800\\udc00\"}",
		"{\"a\":\"\\\\ud800\"}",
	};

	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		ok(!jq_object(rejected[i], strlen(rejected[i])), "jq rejects %s", rejected[i]);
		ok(!valid(rejected[i]), "jscan_object_valid rejects %s as jq does", rejected[i]);
	}
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		ok(valid(accepted[i]) && jq_object(accepted[i], strlen(accepted[i])),
			"jscan and jq accept %s", accepted[i]);
}

/* --- random objects ------------------------------------------------------------------ */

struct gen {
	uint64_t rng;
	struct buf b;
	bool allow_high; /* may write lone high surrogates (jq 1.6 rejects the text) */
	bool lone_high;  /* wrote one */
};

static size_t
pick(struct gen *g, size_t n)
{
	return rng_below(&g->rng, n);
}

static void
gen_space(struct gen *g)
{
	static const char ws[] = " \t\n\r";

	if (pick(g, 3) != 0)
		return;
	for (size_t k = 1 + pick(g, 3); k > 0; k--)
		buf_putc(&g->b, ws[pick(g, 4)]);
}

/* A \u escape of cp, each hex digit in either case. */
static void
gen_u(struct gen *g, unsigned long cp)
{
	static const char *const hex[] = { "0123456789abcdef", "0123456789ABCDEF" };

	buf_puts(&g->b, "\\u");
	for (int shift = 12; shift >= 0; shift -= 4)
		buf_putc(&g->b, hex[pick(g, 2)][cp >> shift & 0xF]);
}

/* A code point of the BMP that is no surrogate; U+0000 now and then. */
static unsigned long
gen_bmp(struct gen *g)
{
	unsigned long cp;

	switch (pick(g, 6)) {
	case 0:
		return pick(g, 0x20);
	case 1:
	case 2:
		return 0x20 + pick(g, 0x60);
	case 3:
		return 0x80 + pick(g, 0x780);
	default:
		cp = 0x800 + pick(g, 0xF000);
		return cp >= 0xD800 ? cp + 0x800 : cp;
	}
}

/* One character of a string body; never a low surrogate right after a high one. */
static void
gen_char(struct gen *g, bool last)
{
	static const char *const raw[] = { "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
		"\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBD", "\xF4\x8F\xBF\xBF", "\xC2\x80",
		"\x7F" };
	static const char *const esc[] = { "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r",
		"\\t" };
	static const char plain[] = "abcxyzABC019 _-.:,{}[]'#/";
	char c;

	switch (pick(g, 12)) {
	case 5:
		buf_puts(&g->b, esc[pick(g, sizeof(esc) / sizeof(esc[0]))]);
		break;
	case 6:
		buf_puts(&g->b, raw[pick(g, sizeof(raw) / sizeof(raw[0]))]);
		break;
	case 7:
		gen_u(g, gen_bmp(g));
		break;
	case 8: /* a surrogate pair */
		gen_u(g, 0xD800 + pick(g, 0x400));
		gen_u(g, 0xDC00 + pick(g, 0x400));
		break;
	case 9: /* a lone low surrogate: jq reads U+FFFD */
		gen_u(g, 0xDC00 + pick(g, 0x400));
		break;
	case 10:
		c = (char)(0x20 + pick(g, 0x5f));
		buf_putc(&g->b, c == '"' || c == '\\' ? 'q' : c);
		break;
	case 11:
		if (g->allow_high) {
			gen_u(g, 0xD800 + pick(g, 0x400));
			g->lone_high = true;
			if (!last) { /* anything but a low surrogate after it */
				if (pick(g, 2))
					buf_putc(&g->b, 'x');
				else
					gen_u(g, gen_bmp(g));
			}
			break;
		}
		/* fall through */
	default:
		buf_putc(&g->b, plain[pick(g, sizeof(plain) - 1)]);
		break;
	}
}

static void
gen_string(struct gen *g)
{
	size_t n = pick(g, 10) == 0 ? 20 + pick(g, 80) : pick(g, 8);

	buf_putc(&g->b, '"');
	for (size_t i = 0; i < n; i++)
		gen_char(g, i + 1 == n);
	buf_putc(&g->b, '"');
}

/* A key, mostly from a small pool written plain or escaped, so names repeat. */
static void
gen_key(struct gen *g)
{
	static const char *const pool[][2] = {
		{ "a", "\\u0061" },
		{ "b", "b" },
		{ "llm", "ll\\u006d" },
		{ "usage", "us\\u0061ge" },
		{ "\xC3\xA9", "\\u00E9" },
		{ "", "" },
		{ "a\\\"b", "a\\u0022b" },
		{ "\xF0\x9F\x98\x80", "\\ud83d\\uDE00" },
		{ "llm\\u0000", "ll\\u006D\\u0000" },
		{ "\\\\", "\\u005c" },
		{ "\xEF\xBF\xBD", "\\udc00" },
	};

	if (pick(g, 3) == 0) {
		gen_string(g);
		return;
	}
	buf_putc(&g->b, '"');
	buf_puts(&g->b, pool[pick(g, sizeof(pool) / sizeof(pool[0]))][pick(g, 2)]);
	buf_putc(&g->b, '"');
}

static void
gen_digits(struct gen *g, size_t n)
{
	for (; n > 0; n--)
		buf_putc(&g->b, (char)('0' + pick(g, 10)));
}

/* How many more digits: mostly few, sometimes around 17, now and then 60 to 100. */
static size_t
gen_count(struct gen *g)
{
	switch (pick(g, 6)) {
	case 0:
		return 0;
	case 1:
	case 2:
		return pick(g, 4);
	case 3:
		return pick(g, 18);
	case 4:
		return 14 + pick(g, 12);
	default:
		return pick(g, 8) == 0 ? 60 + pick(g, 40) : pick(g, 6);
	}
}

static void
gen_number(struct gen *g)
{
	static const char *const special[] = { "0", "-0", "9007199254740993",
		"18446744073709551615", "18446744073709551616", "999999999999999999",
		"123456789012345678", "2.4703282292062327e-324", "2.4703282292062328e-324",
		"4.9406564584124654e-324", "1.7976931348623157e308", "1.7976931348623158e308",
		"1.7976931348623159e308", "1e400", "-1e400", "1e-400", "0.1",
		"1.00000000000000011102230246251565404236316680908203125",
		"1.00000000000000011102230246251565404236316680908203126", "-0.0e-0", "1E+2",
		"0e999999999999", "1e-99999999999999999999", "2.2250738585072011e-308",
		"2.2250738585072012e-308" };

	if (pick(g, 8) == 0) {
		buf_puts(&g->b, special[pick(g, sizeof(special) / sizeof(special[0]))]);
		return;
	}
	if (pick(g, 3) == 0)
		buf_putc(&g->b, '-');
	if (pick(g, 4) == 0) {
		buf_putc(&g->b, '0');
	} else {
		buf_putc(&g->b, (char)('1' + pick(g, 9)));
		gen_digits(g, gen_count(g));
	}
	if (pick(g, 3) == 0) {
		buf_putc(&g->b, '.');
		gen_digits(g, 1 + gen_count(g));
	}
	if (pick(g, 3) == 0) {
		buf_putc(&g->b, pick(g, 2) ? 'e' : 'E');
		if (pick(g, 3) == 0)
			buf_putc(&g->b, '+');
		else if (pick(g, 2) == 0)
			buf_putc(&g->b, '-');
		switch (pick(g, 4)) {
		case 0: /* near the ends of the range */
			buf_putc(&g->b, '3');
			gen_digits(g, 2);
			break;
		case 1:
			buf_puts(&g->b, "00");
			gen_digits(g, 1);
			break;
		default:
			gen_digits(g, 1 + pick(g, 2));
			break;
		}
	}
}

static void gen_value(struct gen *g, int depth);
static void gen_object(struct gen *g, int depth);

static void
gen_array(struct gen *g, int depth)
{
	size_t n = pick(g, 5);

	buf_putc(&g->b, '[');
	gen_space(g);
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			buf_putc(&g->b, ',');
			gen_space(g);
		}
		gen_value(g, depth);
		gen_space(g);
	}
	buf_putc(&g->b, ']');
}

static void
gen_value(struct gen *g, int depth)
{
	switch (pick(g, depth < 5 ? 12 : 9)) {
	case 0:
	case 1:
	case 2:
		gen_string(g);
		break;
	case 3:
	case 4:
	case 5:
		gen_number(g);
		break;
	case 6:
		buf_puts(&g->b, "true");
		break;
	case 7:
		buf_puts(&g->b, "false");
		break;
	case 8:
		buf_puts(&g->b, "null");
		break;
	case 9:
	case 10:
		gen_array(g, depth + 1);
		break;
	default:
		gen_object(g, depth + 1);
		break;
	}
}

static void
gen_object(struct gen *g, int depth)
{
	size_t n = pick(g, depth == 0 ? 9 : 5);

	buf_putc(&g->b, '{');
	gen_space(g);
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			buf_putc(&g->b, ',');
			gen_space(g);
		}
		gen_key(g);
		gen_space(g);
		buf_putc(&g->b, ':');
		gen_space(g);
		gen_value(g, depth);
		gen_space(g);
	}
	buf_putc(&g->b, '}');
}

/* Change 1 to 3 bytes of from into to: delete, insert or replace, mostly with JSON punctuation. */
static void
mutate(uint64_t *rng, const struct buf *from, struct buf *to)
{
	static const char bytes[] = "{}[]:,\"\\ \t\n0123456789-+.eEtrufalsn/u";

	buf_reset(to);
	buf_add(to, from->data, from->len);
	for (size_t k = 1 + rng_below(rng, 3); k > 0; k--) {
		size_t len = to->len, pos = rng_below(rng, len + 1);
		char c = rng_below(rng, 8) == 0 ? (char)rng_below(rng, 256)
						: bytes[rng_below(rng, sizeof(bytes) - 1)];

		switch (rng_below(rng, 3)) {
		case 0:
			if (pos < len) {
				memmove(to->data + pos, to->data + pos + 1, len - pos - 1);
				to->len--;
			}
			break;
		case 1:
			buf_putc(to, c);
			memmove(to->data + pos + 1, to->data + pos, len - pos);
			to->data[pos] = c;
			break;
		default:
			if (pos < len)
				to->data[pos] = c;
			break;
		}
	}
	buf_cstr(to);
}

/* --- comparing with jq --------------------------------------------------------------- */

enum fault {
	F_GENERATOR,    /* jq disagrees with how the text was generated */
	F_VALID,        /* jscan rejects a text valid by construction */
	F_CONTRACT,     /* jscan accepts, jq rejects */
	F_LONE_HIGH,    /* the same, for a text with a lone high surrogate */
	F_WALK,         /* jscan_next's spans, or the member count */
	F_KEY,          /* a key's decoding or jscan_key_is */
	F_GET,          /* jscan_get is not the last member of the name */
	F_PICK,         /* jscan_pick differs from jscan_get, or jscan_object_pick from both */
	F_PICK_INVALID, /* jscan_object_pick leaves values on a text that is not valid */
	F_KIND,         /* jscan_kind differs from jq's kind */
	F_NUMBER,       /* jscan_number differs from jq's number */
	F_STRING,       /* jscan_string differs from jq's string */
	F_CUT,          /* jscan_string with a small buffer */
	N_FAULTS
};

struct diff {
	size_t faults[N_FAULTS];
	size_t accepted, compared, members, numbers, strings, cuts, picks, nested_found;
	uint64_t rng; /* the sizes of the cuts */
	const char *text;
	size_t n;
};

__attribute__((format(printf, 3, 4))) static void
fault(struct diff *d, enum fault f, const char *fmt, ...)
{
	va_list ap;

	if (d->faults[f]++ >= 3)
		return;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	show("text", d->text, d->n);
}

static bool
has_nul(jv s)
{
	return memchr(jv_string_value(s), '\0', (size_t)jv_string_length_bytes(jv_copy(s))) != NULL;
}

/* jscan_string of v, whole and with buffers of many sizes, against jq's want. */
static void
compare_string(struct diff *d, struct jspan v, const char *want)
{
	char *full = xmalloc(v.n);
	size_t len, sizes[12], n_sizes = 0;

	d->strings++;
	if (!jscan_string(v, full, v.n) || strcmp(full, want) != 0) {
		fault(d, F_STRING, "jscan_string differs from jq");
		show("value", v.p, v.n);
		show("jscan", full, strlen(full));
		show("jq", want, strlen(want));
		free(full);
		return;
	}
	len = strlen(full);
	if (len <= 10) {
		for (size_t s = 1; s <= len + 2; s++)
			sizes[n_sizes++] = s;
	} else {
		sizes[n_sizes++] = 1;
		sizes[n_sizes++] = len;
		sizes[n_sizes++] = len + 1;
		while (n_sizes < 12)
			sizes[n_sizes++] = 2 + rng_below(&d->rng, len - 1);
	}
	for (size_t i = 0; i < n_sizes; i++) {
		size_t size = sizes[i], m, next;
		char *cut = xmalloc(size);

		d->cuts++;
		if (!jscan_string(v, cut, size)) {
			fault(d, F_CUT, "jscan_string with size %zu is false", size);
		} else if ((m = strlen(cut)) > size - 1 || memcmp(cut, full, m) != 0) {
			fault(d, F_CUT, "size %zu: not a prefix that fits", size);
		} else if (utf8_valid_prefix(cut, m) != m) {
			fault(d, F_CUT, "size %zu: cut inside a character", size);
		} else if (m < len) {
			next = utf8_sequence_length((const unsigned char *)full + m, len - m);
			if (next == 0 || m + next <= size - 1)
				fault(d, F_CUT, "size %zu: cut at %zu, the next character fits",
					size, m);
		}
		free(cut);
	}
	free(full);
}

static void compare_object(struct diff *d, struct jspan obj, jv o);

/* The value span v against jq's value j (borrowed). */
static void
compare_value(struct diff *d, struct jspan v, jv j)
{
	enum jscan_kind want;
	double got = 0;
	char small[8];

	switch (jv_get_kind(j)) {
	case JV_KIND_OBJECT:
		want = JSCAN_OBJECT;
		break;
	case JV_KIND_ARRAY:
		want = JSCAN_ARRAY;
		break;
	case JV_KIND_STRING:
		want = JSCAN_STRING;
		break;
	case JV_KIND_NUMBER:
		want = JSCAN_NUMBER;
		break;
	case JV_KIND_TRUE:
		want = JSCAN_TRUE;
		break;
	case JV_KIND_FALSE:
		want = JSCAN_FALSE;
		break;
	case JV_KIND_NULL:
		want = JSCAN_NULL;
		break;
	default:
		want = JSCAN_NONE;
		break;
	}
	if (jscan_kind(v) != want) {
		fault(d, F_KIND, "jscan_kind %d, jq's kind %s", (int)jscan_kind(v),
			jv_kind_name(jv_get_kind(j)));
		return;
	}
	if (want == JSCAN_NUMBER) {
		d->numbers++;
		if (!jscan_number(v, &got) || !same_double(got, jv_number_value(j))) {
			fault(d, F_NUMBER, "jscan_number %.17g, jq %.17g", got, jv_number_value(j));
			show("value", v.p, v.n);
		}
	} else if (jscan_number(v, &got)) {
		fault(d, F_NUMBER, "jscan_number is true for a %s", jv_kind_name(jv_get_kind(j)));
	}
	if (want == JSCAN_STRING) {
		compare_string(d, v, jv_string_value(j));
	} else {
		memset(small, 'Z', sizeof(small));
		if (jscan_string(v, small, sizeof(small)) || small[0] != '\0')
			fault(d, F_STRING, "jscan_string is true for a %s, or out is not \"\"",
				jv_kind_name(jv_get_kind(j)));
	}
	if (want == JSCAN_OBJECT)
		compare_object(d, v, j);
}

/* A key span decoded by jq: parse a copy with its quotes. */
static jv
jq_key(struct jspan key)
{
	struct buf b = BUF_INIT;
	jv name;

	buf_add(&b, key.p - 1, key.n + 2);
	name = jv_parse_sized(buf_cstr(&b), (int)b.len);
	buf_free(&b);
	return name;
}

/* The key span against jq's decoding of it (borrowed). */
static void
check_key(struct diff *d, struct jspan key, jv name)
{
	struct jspan quoted = { key.p - 1, key.n + 2 };
	char *out = xmalloc(key.n + 1);
	const char *c = jv_string_value(name);
	struct buf other = BUF_INIT;

	if (!jscan_string(quoted, out, key.n + 1) || strcmp(out, c) != 0) {
		fault(d, F_KEY, "jscan_string of the quoted key differs from jq");
		show("key", key.p, key.n);
	}
	if (has_nul(name)) {
		if (jscan_key_is(key, c))
			fault(d, F_KEY, "jscan_key_is ignores the U+0000 of a key");
	} else {
		if (!jscan_key_is(key, c)) {
			fault(d, F_KEY, "jscan_key_is is false for jq's name");
			show("key", key.p, key.n);
		}
		buf_puts(&other, c);
		buf_putc(&other, 'x');
		if (jscan_key_is(key, buf_cstr(&other)))
			fault(d, F_KEY, "jscan_key_is is true for a longer name");
		if (other.len > 1) {
			other.len -= 2;
			if (jscan_key_is(key, buf_cstr(&other)))
				fault(d, F_KEY, "jscan_key_is is true for a shorter name");
		}
	}
	buf_free(&other);
	free(out);
}

#define MAX_MEMBERS 64

/* The members of obj against jq's object o (borrowed). */
static void
compare_object(struct diff *d, struct jspan obj, jv o)
{
	struct jspan keys[MAX_MEMBERS], values[MAX_MEMBERS], picked[MAX_MEMBERS];
	struct jspan want_picked[MAX_MEMBERS], key, value;
	const char *names_c[MAX_MEMBERS];
	struct jscan_pick picks[MAX_MEMBERS];
	jv names[MAX_MEMBERS];
	size_t count = 0, distinct = 0, n_pick = 0;
	struct jscan_iter it;
	const char *end = obj.p + obj.n;

	jscan_iter_init(&it, obj);
	while (jscan_next(&it, &key, &value)) {
		if (count == MAX_MEMBERS) {
			fault(d, F_WALK, "more than %d members", MAX_MEMBERS);
			break;
		}
		if (key.p < obj.p + 2 || key.p + key.n >= end || key.p[-1] != '"' ||
			key.p[key.n] != '"' || value.n == 0 || value.p <= key.p + key.n ||
			value.p + value.n >= end || is_json_space(value.p[0]) ||
			is_json_space(value.p[value.n - 1])) {
			fault(d, F_WALK, "jscan_next: bad key or value span");
			show("key", key.p, key.n);
			show("value", value.p, value.n);
			break;
		}
		names[count] = jq_key(key);
		if (jv_get_kind(names[count]) != JV_KIND_STRING) {
			fault(d, F_KEY, "jq cannot read the key as a string");
			jv_free(names[count]);
			break;
		}
		keys[count] = key;
		values[count] = value;
		count++;
	}
	d->members += count;
	for (size_t i = 0; i < count; i++) {
		bool last = true;
		jv want;

		check_key(d, keys[i], names[i]);
		for (size_t k = i + 1; k < count && last; k++)
			last = !jv_equal(jv_copy(names[i]), jv_copy(names[k]));
		if (!last)
			continue;
		distinct++;
		want = jv_object_get(jv_copy(o), jv_copy(names[i]));
		if (jv_is_valid(want))
			compare_value(d, values[i], want);
		else
			fault(d, F_KEY, "jq has no member of jscan's key");
		jv_free(want);
		if (!has_nul(names[i])) {
			const char *c = jv_string_value(names[i]);
			struct jspan got = jscan_get(obj, c);

			if (got.p != values[i].p || got.n != values[i].n) {
				fault(d, F_GET, "jscan_get(\"%s\") is not the last such member", c);
				show("got", got.p, got.n);
				show("want", values[i].p, values[i].n);
			}
			names_c[n_pick] = c;
			want_picked[n_pick++] = values[i];
		}
	}
	if (distinct != (size_t)jv_object_length(jv_copy(o)))
		fault(d, F_WALK, "%zu distinct names, jq has %d members", distinct,
			jv_object_length(jv_copy(o)));
	for (size_t i = 0; i < n_pick; i++)
		picks[i] = (struct jscan_pick){ names_c[i], &picked[i], NULL, 0 };
	jscan_pick(obj, picks, n_pick);
	for (size_t i = 0; i < n_pick; i++)
		if (picked[i].p != want_picked[i].p || picked[i].n != want_picked[i].n)
			fault(d, F_PICK, "jscan_pick(\"%s\") differs from jscan_get", names_c[i]);
	if (jscan_get(obj, "no such name\x01").n != 0)
		fault(d, F_GET, "jscan_get finds a name no member has");
	for (size_t i = 0; i < count; i++)
		jv_free(names[i]);
}

/* Names jscan_object_pick looks for below a picked member, two levels deep. */
static const char *const sub_names[] = { "a", "b", "llm", "\xC3\xA9" };
#define N_SUB (sizeof(sub_names) / sizeof(sub_names[0]))
#define N_TOP 24

/* Picks three levels deep: every other top-level one with members below it. */
struct pick_tree {
	struct jscan_pick top[N_TOP], mid[N_TOP][N_SUB], low[N_TOP][N_SUB][N_SUB];
	struct jspan v_top[N_TOP], v_mid[N_TOP][N_SUB], v_low[N_TOP][N_SUB][N_SUB];
};

static void
pick_tree_init(struct pick_tree *t, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < N_SUB; j++) {
			for (size_t k = 0; k < N_SUB; k++) {
				t->low[i][j][k] = (struct jscan_pick){ sub_names[k],
					&t->v_low[i][j][k], NULL, 0 };
				t->v_low[i][j][k] = (struct jspan){ names[i], 1 }; /* not empty */
			}
			t->mid[i][j] = (struct jscan_pick){ sub_names[j], &t->v_mid[i][j],
				t->low[i][j], N_SUB };
			t->v_mid[i][j] = (struct jspan){ names[i], 1 };
		}
		t->top[i] =
			(struct jscan_pick){ names[i], &t->v_top[i], t->mid[i], i % 2 ? 0 : N_SUB };
		t->v_top[i] = (struct jspan){ names[i], 1 };
	}
}

static bool
same_span(struct jspan a, struct jspan b)
{
	return a.p == b.p && a.n == b.n;
}

/*
 * jscan_object_pick on the text (copy, exact length) against
 * jscan_object_valid and nested jscan_get, for the names of a pool and the
 * text's own top-level keys.
 */
static void
check_object_pick(struct diff *d, const char *copy, size_t n, bool accepted)
{
	static const char *const pool[] = { "a", "b", "llm", "usage", "\xC3\xA9", "", "a\"b",
		"\xF0\x9F\x98\x80", "\\", "\xEF\xBF\xBD", "missing" };
	enum { N_POOL = sizeof(pool) / sizeof(pool[0]) };
	const char *names[N_TOP];
	char *own[N_TOP];
	struct pick_tree *t = xmalloc(sizeof(*t));
	struct jspan key, value;
	size_t count = 0, n_own = 0;
	bool picked, bad = false;

	for (size_t i = 0; i < N_POOL; i++)
		names[count++] = pool[i];
	if (accepted) {
		struct jscan_iter it;

		jscan_iter_init(&it, trimmed(copy, n));
		while (count < N_TOP && jscan_next(&it, &key, &value)) {
			struct jspan quoted = { key.p - 1, key.n + 2 };

			own[n_own] = xmalloc(key.n + 1);
			jscan_string(quoted, own[n_own], key.n + 1);
			names[count++] = own[n_own++];
		}
	}
	pick_tree_init(t, names, count);
	picked = jscan_object_pick(copy, n, t->top, count);
	if (picked != accepted) {
		fault(d, F_PICK, "jscan_object_pick is %s, jscan_object_valid %s",
			picked ? "true" : "false", accepted ? "true" : "false");
		bad = true;
	}
	for (size_t i = 0; i < count && !bad; i++) {
		struct jspan top = accepted ? jscan_get(trimmed(copy, n), names[i])
					    : (struct jspan){ NULL, 0 };

		bad = !same_span(t->v_top[i], top);
		for (size_t j = 0; j < N_SUB && !bad; j++) {
			struct jspan mid = t->top[i].nmembers ? jscan_get(top, sub_names[j])
							      : (struct jspan){ names[i], 1 };

			bad = !same_span(t->v_mid[i][j], mid);
			for (size_t k = 0; k < N_SUB && !bad; k++) {
				struct jspan low = t->top[i].nmembers
					? jscan_get(mid, sub_names[k])
					: (struct jspan){ names[i], 1 };

				bad = !same_span(t->v_low[i][j][k], low);
				d->nested_found += t->top[i].nmembers && low.n > 0;
			}
			d->nested_found += t->top[i].nmembers && mid.n > 0;
		}
		if (bad)
			fault(d, accepted ? F_PICK : F_PICK_INVALID,
				"jscan_object_pick(\"%s\" and below) differs from jscan_get%s",
				vis(names[i]), accepted ? "" : ": a value left on an invalid text");
	}
	d->picks++;
	for (size_t i = 0; i < n_own; i++)
		free(own[i]);
	free(t);
}

enum expect { EXPECT_VALID, EXPECT_JQ_REJECTS, EXPECT_ANY };

/* One text (NUL-terminated at n, for jq) through jscan and jq. */
static void
check_text(struct diff *d, const char *text, size_t n, enum expect expect)
{
	char *copy = exact_copy(text, n);
	bool accepted = jscan_object_valid(copy, n), jq_ok;
	jv root;

	d->text = text;
	d->n = n;
	check_object_pick(d, copy, n, accepted);
	/* jq 1.6 leaks on some invalid texts ("Expected separator between values"): ask it only
	 * here. */
	if (!accepted && expect == EXPECT_ANY) {
		free(copy);
		return;
	}
	root = jv_parse_sized(text, (int)n);
	jq_ok = jv_is_valid(root) && jv_get_kind(root) == JV_KIND_OBJECT;
	if ((expect == EXPECT_VALID && !jq_ok) || (expect == EXPECT_JQ_REJECTS && jq_ok))
		fault(d, F_GENERATOR, "jq %s a text generated %s", jq_ok ? "accepts" : "rejects",
			expect == EXPECT_VALID ? "valid" : "with a lone high surrogate");
	if (expect == EXPECT_VALID && !accepted)
		fault(d, F_VALID, "jscan rejects a text valid by construction");
	if (accepted && !jq_ok) {
		bool surrogate = false;

		if (!jv_is_valid(root)) {
			jv msg = jv_invalid_get_msg(jv_copy(root));

			surrogate = jv_get_kind(msg) == JV_KIND_STRING &&
				strstr(jv_string_value(msg), "surrogate pair") != NULL;
			jv_free(msg);
		}
		fault(d, surrogate ? F_LONE_HIGH : F_CONTRACT, "jscan accepts a text jq rejects%s",
			surrogate ? " (a lone high surrogate)" : "");
	}
	if (accepted)
		d->accepted++;
	/* The caller checks UTF-8 (jq replaces bad bytes): compare valid text only. */
	if (accepted && jq_ok && utf8_valid_prefix(text, n) == n) {
		d->compared++;
		compare_object(d, trimmed(copy, n), root);
	}
	jv_free(root);
	free(copy);
}

static void
test_random(void)
{
	struct diff d = { .rng = 99 };
	struct gen g = { .rng = 20261203, .b = BUF_INIT };
	struct buf m = BUF_INIT;
	uint64_t mrng = 4242;
	size_t generated = 0, lone_high = 0, mutated = 0, accepted_generated, accepted_mutated;
	size_t n_cases = sizeof(vcases) / sizeof(vcases[0]);

	for (size_t i = 0; i < n_cases; i++) {
		size_t len = vcases[i].len ? vcases[i].len : strlen(vcases[i].text);

		check_text(&d, vcases[i].text, len, vcases[i].want ? EXPECT_VALID : EXPECT_ANY);
	}
	for (size_t t = 0; t < 3000; t++) {
		buf_reset(&g.b);
		g.allow_high = pick(&g, 12) == 0;
		g.lone_high = false;
		gen_space(&g);
		gen_object(&g, 0);
		gen_space(&g);
		buf_cstr(&g.b);
		generated++;
		lone_high += g.lone_high;
		check_text(&d, g.b.data, g.b.len, g.lone_high ? EXPECT_JQ_REJECTS : EXPECT_VALID);
	}
	accepted_generated = d.accepted;
	g.rng = 20261203;
	for (size_t t = 0; t < 3000; t++) { /* the same texts again, mutated */
		buf_reset(&g.b);
		g.allow_high = pick(&g, 12) == 0;
		g.lone_high = false;
		gen_space(&g);
		gen_object(&g, 0);
		gen_space(&g);
		for (int k = 0; k < 3; k++) {
			mutate(&mrng, &g.b, &m);
			mutated++;
			check_text(&d, m.data, m.len, EXPECT_ANY);
		}
	}
	accepted_mutated = d.accepted - accepted_generated;

	printf("# %zu texts generated (%zu with a lone high surrogate), %zu mutated; jscan "
	       "accepted %zu generated and %zu mutated; %zu compared with jq: %zu members, %zu "
	       "numbers, %zu strings, %zu cuts; jscan_object_pick on %zu texts found %zu nested "
	       "values\n",
		generated, lone_high, mutated, accepted_generated, accepted_mutated, d.compared,
		d.members, d.numbers, d.strings, d.cuts, d.picks, d.nested_found);
	ok(lone_high > 50 && generated - lone_high > 2000 && accepted_mutated > 500 &&
			d.numbers > 3000 && d.strings > 3000 && d.nested_found > 300,
		"random: the generator covers enough (see the counts above)");
	is_int(d.faults[F_GENERATOR], 0, "random: jq agrees with how each text was generated");
	is_int(d.faults[F_VALID], 0, "random: jscan accepts every text valid by construction");
	is_int(d.faults[F_CONTRACT], 0,
		"random: every text jscan accepts, jq accepts (those with a lone high surrogate "
		"counted below)");
	is_int(d.faults[F_LONE_HIGH], 0,
		"random: jscan rejects the texts with a lone high surrogate, as jq does");
	is_int(d.faults[F_WALK], 0, "random: jscan_next's spans and distinct names match jq");
	is_int(d.faults[F_KEY], 0, "random: keys decode as jq's, jscan_key_is agrees");
	is_int(d.faults[F_GET], 0, "random: jscan_get is the last member of a name");
	is_int(d.faults[F_PICK], 0,
		"random: jscan_pick agrees with jscan_get, jscan_object_pick with both");
	is_int(d.faults[F_PICK_INVALID], 0,
		"random: jscan_object_pick leaves every value empty when the text is not valid");
	is_int(d.faults[F_KIND], 0, "random: jscan_kind is jq's kind");
	is_int(d.faults[F_NUMBER], 0, "random: jscan_number is jq's number, bit for bit");
	is_int(d.faults[F_STRING], 0, "random: jscan_string is jq's string up to any U+0000");
	is_int(d.faults[F_CUT], 0, "random: jscan_string cuts at the last character that fits");
	buf_free(&g.b);
	buf_free(&m);
}

int
main(void)
{
	test_valid_cases();
	test_prefixes();
	test_depth();
	test_walk();
	test_pick();
	test_object_pick();
	test_key_is();
	test_string();
	test_number();
	test_lone_high_surrogate();
	test_random();
	return done_testing();
}
