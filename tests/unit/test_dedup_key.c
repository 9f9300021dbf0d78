/* SPDX-License-Identifier: BSD-2-Clause */
/* jl-dedup's keys: simple paths without jq, key text, the in-stream set. */
#include <stdio.h>
#include <string.h>

#include "key.h"
#include "tap.h"

/* The key text of expr on the JSON text record, or "!why". */
static const char *
key_of(const char *expr, const char *record)
{
	static struct buf out;
	struct buf err = BUF_INIT;
	struct key_expr *k = key_compile(expr, &err);
	jv rec = jv_parse(record);
	const char *why = NULL;

	buf_reset(&out);
	if (k == NULL) {
		buf_puts(&out, "!compile");
	} else if (!key_text(key_eval(k, rec), &out, &why)) {
		buf_reset(&out);
		buf_putc(&out, '!');
		buf_puts(&out, why);
	}
	jv_free(rec);
	key_free(k);
	buf_free(&err);
	return buf_cstr(&out);
}

static bool
is_path(const char *expr)
{
	struct buf err = BUF_INIT;
	struct key_expr *k = key_compile(expr, &err);
	bool path = k != NULL && key_is_path(k);

	key_free(k);
	buf_free(&err);
	return path;
}

int
main(void)
{
	struct keyset set = { 0 };
	char text[32];
	uint64_t a[2], b[2];
	int dups = 0;

	ok(is_path(".name") && is_path(".a.b") && is_path(".a.\"b c\"") && is_path(" .x1 "),
		"simple paths are walked without jq");
	ok(!is_path(".") && !is_path(".a[0]") && !is_path(".a | .b") && !is_path("[.a,.b]") &&
			!is_path(".\"a\\\"b\"") && !is_path(".1a"),
		"anything else goes through jq");
	is_str(key_of(".name", "{\"name\":\"Acme\"}"), "\"Acme\"", "a string key is its JSON text");
	is_str(key_of(".name", "{\"name\":\"007\"}"), "\"007\"", "\"007\" keeps its zeros");
	is_str(key_of(".name", "{\"name\":7}"), "7", "a number is its JSON text");
	is_str(key_of(".a.b", "{\"a\":{\"b\":\"x\"}}"), "\"x\"", "a nested path");
	is_str(key_of(".a.b", "{\"a\":\"str\"}"), "!the key is missing",
		"through a non-object: none");
	is_str(key_of(".name", "{}"), "!the key is missing", "missing");
	is_str(key_of(".name", "{\"name\":null}"), "!the key is missing", "null");
	is_str(key_of(".name", "{\"name\":true}"), "!the key is a boolean", "a boolean");
	is_str(key_of(".name", "{\"name\":[1]}"), "!the key is an array", "an array");
	is_str(key_of(".name", "{\"name\":{}}"), "!the key is an object", "an object");
	is_str(key_of("[.a, .b] | join(\"/\")", "{\"a\":\"x\",\"b\":\"y\"}"), "\"x/y\"",
		"a jq expression");
	is_str(key_of(".[", "{}"), "!compile", "a bad expression");
	is_str(key_of(".a.\"b c\"", "{\"a\":{\"b c\":1}}"), "1", "a quoted name");

	hash128("abc", 3, a);
	hash128("abd", 3, b);
	ok(a[0] != b[0] && a[1] != b[1], "hash128: one byte changes both halves");
	hash128("abc", 3, b);
	ok(a[0] == b[0] && a[1] == b[1], "hash128: deterministic");

	for (int i = 0; i < 200000; i++) {
		int n = snprintf(text, sizeof(text), "\"Company %d\"", i);

		dups += keyset_add(&set, text, (size_t)n);
	}
	is_int(dups, 0, "keyset: 200,000 distinct keys, no false duplicate");
	is_int((long)set.used, 200000, "keyset: all held");
	for (int i = 0; i < 200000; i += 997) {
		int n = snprintf(text, sizeof(text), "\"Company %d\"", i);

		dups += keyset_add(&set, text, (size_t)n);
	}
	is_int(dups, 201, "keyset: every repeat found");
	ok(!keyset_add(&set, "", 0) && keyset_add(&set, "", 0),
		"keyset: the empty text is a key too");
	keyset_free(&set);
	return done_testing();
}
