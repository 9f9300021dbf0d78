/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/utf8.c: utf8_valid_prefix and utf8_sequence_length on every class of
 * valid and invalid sequence, the 8-byte ASCII fast path at every offset, a
 * comparison with a plain reference validator on pseudo-random bytes,
 * utf8_cut and utf8_sanitize.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "testutil.h"
#include "utf8.h"

/* Reference: the length of the valid sequence at s (1..4), or 0; by code point. */
static size_t
ref_sequence(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2, cp = s[0] & 0x1F, min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3, cp = s[0] & 0x0F, min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static size_t
ref_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		len = ref_sequence(s + i, n - i);
		if (len == 0)
			return i;
		i += len;
	}
	return n;
}

static void
ref_sanitize(struct buf *out, const unsigned char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		len = ref_sequence(s + i, n - i);
		if (len == 0) {
			buf_add(out, "\xEF\xBF\xBD", 3);
			i++;
		} else {
			buf_add(out, s + i, len);
			i += len;
		}
	}
}

/* Code points near the edges of every length class, valid or not. */
static const uint32_t edge_points[] = { 0x00, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xD800, 0xDFFF,
	0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF, 0x110000, 0x1FFFFF };

/* Append one random piece: ASCII, any byte, a (possibly truncated) sequence. */
static void
random_piece(uint64_t *rng, struct buf *b, bool valid_only)
{
	unsigned char seq[4];
	size_t len;
	uint32_t cp;

	switch (rng_below(rng, valid_only ? 3 : 6)) {
	case 0:
		buf_putc(b, (char)rng_below(rng, 0x80));
		return;
	case 1:
		cp = (uint32_t)rng_below(rng, 0x110000);
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp -= 0x800;
		buf_add(b, seq, utf8_encode(cp, seq));
		return;
	case 2:
		cp = edge_points[rng_below(rng, 13)];
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xE000;
		buf_add(b, seq, utf8_encode(cp, seq));
		return;
	case 3:
		buf_putc(b, (char)rng_below(rng, 256));
		return;
	case 4: /* any edge point, surrogates and past U+10FFFF included */
		cp = edge_points[rng_below(rng, sizeof(edge_points) / sizeof(*edge_points))];
		buf_add(b, seq, utf8_encode(cp, seq));
		return;
	default: /* a truncated sequence */
		cp = 0x80 + (uint32_t)rng_below(rng, 0x10FF80);
		len = utf8_encode(cp, seq);
		buf_add(b, seq, 1 + rng_below(rng, len - 1 > 0 ? len - 1 : 1));
		return;
	}
}

struct prefix_case {
	const char *name;
	const char *s;
	size_t n;
	size_t want;
};

#define C(name, lit, want)                                                                         \
	{                                                                                          \
		name, lit, sizeof(lit) - 1, want                                                   \
	}

static const struct prefix_case prefix_cases[] = {
	C("empty", "", 0),
	C("ASCII", "hello, world", 12),
	C("NUL bytes are ASCII", "a\0b", 3),
	C("2-byte U+0080", "\xC2\x80", 2),
	C("2-byte U+00E9", "caf\xC3\xA9", 5),
	C("2-byte U+07FF", "\xDF\xBF", 2),
	C("3-byte U+0800", "\xE0\xA0\x80", 3),
	C("3-byte U+20AC", "\xE2\x82\xAC!", 4),
	C("3-byte U+D7FF", "\xED\x9F\xBF", 3),
	C("3-byte U+E000", "\xEE\x80\x80", 3),
	C("3-byte U+FFFF", "\xEF\xBF\xBF", 3),
	C("4-byte U+10000", "\xF0\x90\x80\x80", 4),
	C("4-byte U+1F600", "x\xF0\x9F\x98\x80y", 6),
	C("4-byte U+10FFFF", "\xF4\x8F\xBF\xBF", 4),
	C("lone continuation 80", "\x80", 0),
	C("lone continuation BF after ASCII", "ab\xBF", 2),
	C("continuation after a complete 2-byte", "\xC3\xA9\xA9", 2),
	C("C0 overlong", "\xC0\x80", 0),
	C("C1 overlong", "a\xC1\xBF", 1),
	C("E0 80 80 overlong", "\xE0\x80\x80", 0),
	C("E0 9F BF overlong", "\xE0\x9F\xBF", 0),
	C("F0 80 80 80 overlong", "\xF0\x80\x80\x80", 0),
	C("F0 8F BF BF overlong", "\xF0\x8F\xBF\xBF", 0),
	C("ED A0 80 surrogate U+D800", "\xED\xA0\x80", 0),
	C("ED BF BF surrogate U+DFFF", "ok\xED\xBF\xBF", 2),
	C("F4 90 80 80 beyond U+10FFFF", "\xF4\x90\x80\x80", 0),
	C("F5 lead", "\xF5\x80\x80\x80", 0),
	C("F8 5-byte lead", "\xF8\x88\x80\x80\x80", 0),
	C("FC 6-byte lead", "\xFC\x84\x80\x80\x80\x80", 0),
	C("FE", "a\xFE", 1),
	C("FF", "\xFF", 0),
	C("2-byte truncated at end", "ab\xC3", 2),
	C("3-byte truncated after 1", "ab\xE2", 2),
	C("3-byte truncated after 2", "ab\xE2\x82", 2),
	C("4-byte truncated after 1", "\xF0", 0),
	C("4-byte truncated after 2", "x\xF0\x9F", 1),
	C("4-byte truncated after 3", "x\xF0\x9F\x98", 1),
	C("2-byte with ASCII second byte",
		"\xC3"
		"A",
		0),
	C("3-byte with ASCII third byte",
		"\xE2\x82"
		"A",
		0),
	C("4-byte with lead as fourth byte", "\xF0\x9F\x98\xF0", 0),
};

static void
test_prefix_cases(void)
{
	for (size_t i = 0; i < sizeof(prefix_cases) / sizeof(*prefix_cases); i++) {
		const struct prefix_case *c = &prefix_cases[i];
		/* An exact-size heap copy, so a read past n shows under ASan and valgrind. */
		char *copy = malloc(c->n ? c->n : 1);

		memcpy(copy, c->s, c->n);
		is_int(utf8_valid_prefix(copy, c->n), c->want, "valid_prefix: %s", c->name);
		free(copy);
	}
}

static void
test_sequence_length(void)
{
	const unsigned char *u;

	u = (const unsigned char *)"A";
	is_int(utf8_sequence_length(u, 1), 1, "sequence_length: ASCII is 1");
	u = (const unsigned char *)"\xC3\xA9";
	is_int(utf8_sequence_length(u, 2), 2, "sequence_length: C3 A9 is 2");
	is_int(utf8_sequence_length(u, 1), 0, "sequence_length: C3 A9 with n=1 is 0");
	u = (const unsigned char *)"\xE2\x82\xAC";
	is_int(utf8_sequence_length(u, 3), 3, "sequence_length: E2 82 AC is 3");
	is_int(utf8_sequence_length(u, 2), 0, "sequence_length: E2 82 AC with n=2 is 0");
	u = (const unsigned char *)"\xF0\x9F\x98\x80";
	is_int(utf8_sequence_length(u, 4), 4, "sequence_length: F0 9F 98 80 is 4");
	is_int(utf8_sequence_length(u, 3), 0, "sequence_length: F0 9F 98 80 with n=3 is 0");
	u = (const unsigned char *)"\xED\xA0\x80";
	is_int(utf8_sequence_length(u, 3), 0, "sequence_length: surrogate is 0");
	u = (const unsigned char *)"\xBF";
	is_int(utf8_sequence_length(u, 1), 0, "sequence_length: continuation is 0");
}

/*
 * The fast path reads 8 bytes at a time: put one bad (or one valid multi-byte)
 * sequence at every offset of ASCII runs of every length up to 40, from an
 * aligned and from an unaligned start, in exact-size heap buffers.
 */
static void
test_fast_path(void)
{
	static const struct {
		const char *what;
		const char *seq;
		size_t n;
		bool valid;
	} inserts[] = {
		{ "80", "\x80", 1, false },
		{ "FF", "\xFF", 1, false },
		{ "C0 AF", "\xC0\xAF", 2, false },
		{ "ED A0 80", "\xED\xA0\x80", 3, false },
		{ "F4 90 80 80", "\xF4\x90\x80\x80", 4, false },
		{ "C3 A9", "\xC3\xA9", 2, true },
		{ "E2 82 AC", "\xE2\x82\xAC", 3, true },
		{ "F0 9F 98 80", "\xF0\x9F\x98\x80", 4, true },
	};

	for (size_t k = 0; k < sizeof(inserts) / sizeof(*inserts); k++) {
		size_t bad = 0, tried = 0;
		char first[96] = "";

		for (size_t len = 1; len <= 40; len++) {
			for (size_t at = 0; at < len; at++) {
				for (size_t shift = 0; shift < 2; shift++) {
					size_t n = shift + len + inserts[k].n;
					char *s = malloc(n);
					size_t want = inserts[k].valid ? n - shift : at, got;

					memset(s, 'a', n);
					memcpy(s + shift + at, inserts[k].seq, inserts[k].n);
					got = utf8_valid_prefix(s + shift, n - shift);
					tried++;
					if (got != want && bad++ == 0)
						snprintf(first, sizeof(first),
							"len %zu at %zu shift %zu: got %zu want "
							"%zu",
							len, at, shift, got, want);
					free(s);
				}
			}
		}
		if (!ok(bad == 0, "fast path: %s at every offset (%zu cases)", inserts[k].what,
			    tried))
			printf("#   %zu wrong, first: %s\n", bad, first);
	}
}

/* A few thousand pseudo-random strings: prefix, sequence length, sanitize vs the reference. */
static void
test_random(void)
{
	uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);
	size_t bad_prefix = 0, bad_seq = 0, bad_sanitize = 0, bad_valid = 0, strings = 4000;
	struct buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT;

	for (size_t t = 0; t < strings; t++) {
		size_t pieces = rng_below(&rng, 24);
		unsigned char *s;

		buf_reset(&in);
		for (size_t p = 0; p < pieces; p++)
			random_piece(&rng, &in, false);
		s = malloc(in.len ? in.len : 1);
		memcpy(s, buf_cstr(&in), in.len);
		if (utf8_valid_prefix(s, in.len) != ref_valid_prefix(s, in.len) &&
			bad_prefix++ == 0)
			printf("# first prefix mismatch at string %zu\n", t);
		for (size_t i = 0; i < in.len; i++)
			if (utf8_sequence_length(s + i, in.len - i) !=
				ref_sequence(s + i, in.len - i))
				bad_seq++;
		buf_reset(&got);
		buf_reset(&want);
		utf8_sanitize(&got, s, in.len);
		ref_sanitize(&want, s, in.len);
		buf_cstr(&got);
		buf_cstr(&want);
		if ((got.len != want.len || memcmp(got.data, want.data, got.len) != 0) &&
			bad_sanitize++ == 0)
			printf("# first sanitize mismatch at string %zu\n", t);
		if (utf8_valid_prefix(got.data, got.len) != got.len)
			bad_valid++;
		free(s);
	}
	is_int(bad_prefix, 0, "random: valid_prefix equals the reference on %zu strings", strings);
	is_int(bad_seq, 0, "random: sequence_length equals the reference at every offset");
	is_int(bad_sanitize, 0, "random: sanitize equals the reference");
	is_int(bad_valid, 0, "random: sanitize output is always valid UTF-8");
	buf_free(&in);
	buf_free(&got);
	buf_free(&want);
}

static void
test_cut_cases(void)
{
	static const struct prefix_case cuts[] = {
		C("empty", "", 0),
		C("ASCII", "abc", 3),
		C("complete 2-byte", "ab\xC3\xA9", 4),
		C("2-byte missing 1", "ab\xC3", 2),
		C("complete 3-byte", "ab\xE2\x82\xAC", 5),
		C("3-byte missing 1", "ab\xE2\x82", 2),
		C("3-byte missing 2", "ab\xE2", 2),
		C("complete 4-byte", "\xF0\x9F\x98\x80", 4),
		C("4-byte missing 1", "\xF0\x9F\x98", 0),
		C("4-byte missing 2", "a\xF0\x9F", 1),
		C("4-byte missing 3", "a\xF0", 1),
		C("3-byte then 4-byte missing 1", "\xE2\x82\xAC\xF0\x9F\x98", 3),
	};

	for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		char *copy = malloc(cuts[i].n ? cuts[i].n : 1);

		memcpy(copy, cuts[i].s, cuts[i].n);
		is_int(utf8_cut(copy, cuts[i].n), cuts[i].want, "cut: %s", cuts[i].name);
		free(copy);
	}
}

/* On valid text, utf8_cut(s, m) is the largest character boundary <= m, for every m. */
static void
test_cut_random(void)
{
	uint64_t rng = 12345;
	struct buf in = BUF_INIT;
	size_t bad = 0, tried = 0;
	char first[128] = "";

	for (size_t t = 0; t < 1000; t++) {
		bool boundary[200];
		size_t pieces = 1 + rng_below(&rng, 30);

		buf_reset(&in);
		memset(boundary, 0, sizeof(boundary));
		boundary[0] = true;
		for (size_t p = 0; p < pieces && in.len < 190; p++) {
			random_piece(&rng, &in, true);
			boundary[in.len] = true;
		}
		for (size_t m = 0; m <= in.len; m++) {
			size_t want = m, got;

			while (!boundary[want])
				want--;
			got = utf8_cut(in.data, m);
			tried++;
			if (got != want && bad++ == 0)
				snprintf(first, sizeof(first),
					"string %zu, m %zu: got %zu want %zu", t, m, got, want);
		}
	}
	if (!ok(bad == 0, "cut: largest character boundary <= m on random valid text (%zu cuts)",
		    tried))
		printf("#   %zu wrong, first: %s\n", bad, first);
	buf_free(&in);
}

static void
test_sanitize(void)
{
	struct buf b = BUF_INIT;

	utf8_sanitize(&b, "caf\xC3\xA9 \xE2\x82\xAC", 9);
	is_mem(b.data, b.len, "caf\xC3\xA9 \xE2\x82\xAC", 9, "sanitize: valid text unchanged");
	buf_reset(&b);
	utf8_sanitize(&b,
		"a\xFF"
		"b",
		3);
	is_mem(b.data, b.len,
		"a\xEF\xBF\xBD"
		"b",
		5, "sanitize: FF becomes U+FFFD");
	buf_reset(&b);
	utf8_sanitize(&b,
		"\xE2\x82"
		"x",
		3);
	is_mem(b.data, b.len, "\xEF\xBF\xBD\xEF\xBF\xBDx", 7,
		"sanitize: each byte of a truncated sequence is replaced");
	buf_reset(&b);
	utf8_sanitize(&b, "\xED\xA0\x80", 3);
	is_mem(b.data, b.len, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 9,
		"sanitize: a surrogate is three replacements");
	buf_reset(&b);
	utf8_sanitize(&b, "ab\xC3", 3);
	is_mem(b.data, b.len, "ab\xEF\xBF\xBD", 5, "sanitize: truncated at the end");
	buf_reset(&b);
	buf_puts(&b, "keep:");
	utf8_sanitize(&b, "\x80", 1);
	is_mem(b.data, b.len, "keep:\xEF\xBF\xBD", 8, "sanitize: appends to what is there");
	buf_reset(&b);
	utf8_sanitize(&b, "", 0);
	is_int(b.len, 0, "sanitize: empty input appends nothing");
	buf_free(&b);
}

int
main(void)
{
	test_prefix_cases();
	test_sequence_length();
	test_fast_path();
	test_random();
	test_cut_cases();
	test_cut_random();
	test_sanitize();
	return done_testing();
}
