/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/buf.c and common/strset.c: the growable buffer (add, putc, puts,
 * add_uint, cstr, reset, free, growth over many doublings, the overflow
 * check) and the string set (10,000 strings, byte strings with NULs,
 * duplicates, copies, free and reuse, the FNV-1a hash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strset.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

static void
test_buf_basics(void)
{
	struct buf b = BUF_INIT;
	const char *s;

	ok(b.data == NULL && b.len == 0 && b.size == 0, "BUF_INIT is empty with no memory");
	buf_add(&b, "", 0);
	ok(b.data == NULL && b.len == 0, "adding nothing allocates nothing");
	s = buf_cstr(&b);
	ok(s != NULL && s[0] == '\0' && b.len == 0, "cstr of an empty buffer is \"\"");
	buf_free(&b);

	buf_puts(&b, "hello");
	buf_putc(&b, ',');
	buf_add(&b, " world!!", 6);
	is_mem(b.data, b.len, "hello, world", 12, "puts, putc and add append");
	ok(b.size > b.len, "size leaves room for the NUL");
	is_str(buf_cstr(&b), "hello, world", "cstr terminates");
	is_int(b.len, 12, "cstr does not count the NUL");
	buf_puts(&b, "?");
	is_str(buf_cstr(&b), "hello, world?", "adding after cstr overwrites the NUL");

	buf_add(&b, "a\0b", 3);
	is_mem(b.data, b.len, "hello, world?a\0b", 16, "add keeps NUL bytes");
	buf_free(&b);
}

static void
test_buf_uint(void)
{
	static const struct {
		unsigned long long n;
		const char *want;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 9, "9" },
		{ 10, "10" },
		{ 12345, "12345" },
		{ 4294967296ULL, "4294967296" },
		{ 18446744073709551615ULL, "18446744073709551615" },
	};
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		buf_reset(&b);
		buf_putc(&b, '[');
		buf_add_uint(&b, cases[i].n);
		buf_putc(&b, ']');
		buf_cstr(&b);
		ok(b.len == strlen(cases[i].want) + 2 &&
				memcmp(b.data + 1, cases[i].want, b.len - 2) == 0 &&
				b.data[0] == '[' && b.data[b.len - 1] == ']',
			"add_uint %s", cases[i].want);
	}
	buf_free(&b);
}

/* Growth past many doublings with pieces of every size; content checked byte by byte. */
static void
test_buf_growth(void)
{
	struct buf b = BUF_INIT;
	size_t total = 3 << 20, piece = 0, reallocs = 0, bad = 0;
	char chunk[1000];
	char *last = NULL;
	size_t last_size = 0;

	while (b.len < total) {
		size_t n = piece++ % sizeof(chunk), start = b.len;

		for (size_t i = 0; i < n; i++)
			chunk[i] = (char)((start + i) * 7 % 251);
		buf_add(&b, chunk, n);
		if (b.size != last_size) {
			reallocs++;
			last_size = b.size;
		}
		if (b.len > 0 && b.size <= b.len)
			bad++;
	}
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] != (char)(i * 7 % 251)) {
			bad++;
			break;
		}
	is_int(bad, 0, "buf_add: 3 MiB in pieces of 0..999 bytes, content intact");
	ok(reallocs >= 10 && reallocs <= 30, "growth doubles (%zu size changes to %zu bytes)",
		reallocs, b.size);

	/* putc one byte at a time past several doublings. */
	buf_free(&b);
	for (size_t i = 0; i < 100000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	bad = 0;
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] != (char)('a' + i % 26))
			bad++;
	ok(b.len == 100000 && bad == 0, "buf_putc: 100,000 bytes intact");
	ok(buf_cstr(&b)[100000] == '\0', "cstr after putc filled the buffer");

	/* reset keeps the memory. */
	last = b.data;
	last_size = b.size;
	buf_reset(&b);
	ok(b.len == 0 && b.data == last && b.size == last_size, "reset keeps the memory");
	buf_puts(&b, "again");
	is_str(buf_cstr(&b), "again", "usable after reset");

	/* grow makes room. */
	buf_grow(&b, 5000000);
	ok(b.size - b.len >= 5000000, "buf_grow makes room for at least extra bytes");
	ok(b.len == 5 && memcmp(b.data, "again", 5) == 0, "buf_grow keeps the content");

	buf_free(&b);
	ok(b.data == NULL && b.len == 0 && b.size == 0, "free empties the buffer");
	buf_puts(&b, "reused");
	is_str(buf_cstr(&b), "reused", "usable after free");
	buf_free(&b);
}

static void
grow_too_much(void *arg)
{
	struct buf b = BUF_INIT;

	(void)arg;
	buf_putc(&b, 'x');
	buf_grow(&b, SIZE_MAX - 1);
	buf_free(&b);
}

static void
test_buf_overflow(void)
{
	struct child_result r;

	run_in_child(grow_too_much, NULL, &r);
	is_int(r.status, EXIT_SOFTWARE, "buf_grow past SIZE_MAX dies with EXIT_SOFTWARE");
	ok(starts_with(r.err.data, r.err.len, "test-buf: "),
		"... and a message with the program name");
	child_result_free(&r);
}

static void
test_strset_basics(void)
{
	struct strset set = STRSET_INIT;
	char key[8] = "abc";

	ok(!strset_has(&set, "a", 1), "empty set has nothing");
	ok(strset_add(&set, "a", 1), "add new string: true");
	ok(!strset_add(&set, "a", 1), "add duplicate: false");
	ok(strset_has(&set, "a", 1), "has it");
	ok(!strset_has(&set, "b", 1), "has not another");
	is_int(set.count, 1, "count 1");

	ok(strset_add(&set, "", 0), "empty string added");
	ok(!strset_add(&set, "", 0), "empty string duplicate");
	ok(strset_has(&set, "", 0), "has the empty string");

	ok(strset_add(&set, "a\0b", 3), "a NUL b added");
	ok(strset_add(&set, "a\0c", 3), "a NUL c is different");
	ok(strset_add(&set, "a\0", 2), "a NUL is different from a");
	ok(strset_add(&set, "\0", 1), "NUL alone is different from the empty string");
	ok(!strset_add(&set, "a\0b", 3), "a NUL b duplicate");
	ok(strset_has(&set, "a\0c", 3) && strset_has(&set, "a\0", 2) && strset_has(&set, "\0", 1),
		"has the NUL strings");
	ok(!strset_has(&set, "a\0d", 3), "has not a NUL d");
	ok(!strset_has(&set, "ab", 2), "prefix 'ab' of nothing is absent");

	ok(strset_add(&set, key, 3), "add from a buffer");
	memcpy(key, "xyz", 3);
	ok(strset_has(&set, "abc", 3) && !strset_has(&set, "xyz", 3), "the set keeps a copy");
	is_int(set.count, 7, "count 7");

	strset_free(&set);
	ok(set.count == 0 && !strset_has(&set, "a", 1), "free empties the set");
	ok(strset_add(&set, "a", 1) && strset_has(&set, "a", 1), "usable after free");
	strset_free(&set);
}

static void
test_strset_many(void)
{
	struct strset set = STRSET_INIT;
	char key[64];
	size_t added = 0, found = 0, dups = 0, absent = 0, n = 10000;

	for (size_t i = 0; i < n; i++) {
		int len = snprintf(key, sizeof(key), "key-%zu", i);

		/* Every tenth key carries a NUL byte in the middle. */
		if (i % 10 == 0)
			key[2] = '\0';
		added += strset_add(&set, key, (size_t)len);
	}
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(key, sizeof(key), "key-%zu", i);

		if (i % 10 == 0)
			key[2] = '\0';
		found += strset_has(&set, key, (size_t)len);
		dups += !strset_add(&set, key, (size_t)len);
		len = snprintf(key, sizeof(key), "nokey-%zu", i);
		absent += !strset_has(&set, key, (size_t)len);
	}
	is_int(added, n, "10,000 distinct strings all added");
	is_int(set.count, n, "count is 10,000");
	is_int(found, n, "all 10,000 found");
	is_int(dups, n, "all 10,000 re-adds are duplicates");
	is_int(absent, n, "10,000 other strings absent");
	ok(!strset_has(&set, "key-10", 6), "key-10 was stored with a NUL, plain key-10 is absent");
	ok(set.size >= 2 * set.count && (set.size & (set.size - 1)) == 0,
		"table is a power of two at most half full (%zu slots)", set.size);
	strset_free(&set);
}

static void
test_fnv(void)
{
	/* Published FNV-1a 64-bit test vectors. */
	ok(hash_fnv1a("", 0) == 0xcbf29ce484222325ULL, "fnv1a(\"\")");
	ok(hash_fnv1a("a", 1) == 0xaf63dc4c8601ec8cULL, "fnv1a(\"a\")");
	ok(hash_fnv1a("foobar", 6) == 0x85944171f73967e8ULL, "fnv1a(\"foobar\")");
}

int
main(void)
{
	progname = "test-buf";
	test_buf_basics();
	test_buf_uint();
	test_buf_growth();
	test_buf_overflow();
	test_strset_basics();
	test_strset_many();
	test_fnv();
	return done_testing();
}
