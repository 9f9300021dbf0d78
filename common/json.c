/* SPDX-License-Identifier: BSD-2-Clause */
/* JSON string escaping and the error record members every tool writes. */
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json.h"
#include "utf8.h"
#include "util.h"

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Nonzero when some byte of w is a zero byte. */
static inline uint64_t
has_zero_byte(uint64_t w)
{
	return (w - ONES) & ~w & HIGHS;
}

/*
 * Nonzero when one of the 8 bytes in w needs attention: below 0x20, '"', '\\'
 * or non-ASCII. Bytes >= 0x80 set the high bit, which also hides the
 * borrow tricks' false positives, so the test is exact for ASCII words.
 */
static inline uint64_t
needs_escape8(uint64_t w)
{
	uint64_t below_space = (w - ONES * 0x20) & ~w & HIGHS;
	uint64_t quote = has_zero_byte(w ^ (ONES * '"'));
	uint64_t backslash = has_zero_byte(w ^ (ONES * '\\'));

	return below_space | quote | backslash | (w & HIGHS);
}

/* needs_escape8 for 4 bytes, for the tails of short strings. */
static inline uint32_t
needs_escape4(uint32_t w)
{
	const uint32_t ones = 0x01010101U, highs = 0x80808080U;
	uint32_t below_space = (w - ones * 0x20) & ~w & highs;
	uint32_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');

	return below_space | ((q - ones) & ~q & highs) | ((bs - ones) & ~bs & highs) | (w & highs);
}

/* 1 for the bytes a JSON string holds as they are: printable ASCII but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
	[0x20 ... 0x21] = 1, /* '"' is 0x22 */
	[0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
	[0x5d ... 0x7f] = 1,
};

static const char hexdigits[] = "0123456789abcdef";

/* The letter after '\\' for the ASCII bytes with a two-character escape; 0 for the rest. */
static const char short_escape[128] = {
	['"'] = '"',
	['\\'] = '\\',
	['\n'] = 'n',
	['\r'] = 'r',
	['\t'] = 't',
	['\b'] = 'b',
	['\f'] = 'f',
};

/* Offset of the first byte flagged in a nonzero needs_escape8 mask. */
static inline size_t
first_flagged(uint64_t mask)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (size_t)__builtin_clzll(mask) >> 3;
#else
	return (size_t)__builtin_ctzll(mask) >> 3;
#endif
}

/*
 * Write the byte at s[0] that needs attention: an escape for a control
 * character, '"' or '\\', a valid UTF-8 sequence as it is, or U+FFFD for a
 * byte that starts none. Returns the input bytes consumed.
 */
static inline size_t
escape_one(char **out, const unsigned char *s, size_t n, size_t *replaced)
{
	char *o = *out;
	unsigned char c = s[0];
	size_t len;

	if (c >= 0xC2 && c < 0xE0 && n >= 2 && (s[1] & 0xC0) == 0x80) {
		memcpy(o, s, 2); /* the common two-byte sequence, inline */
		*out = o + 2;
		return 2;
	}
	if (c >= 0x80) {
		len = utf8_sequence_length(s, n);
		if (len != 0) {
			memcpy(o, s, len);
			*out = o + len;
			return len;
		}
		memcpy(o, "\xEF\xBF\xBD", 3);
		*out = o + 3;
		++*replaced;
		return 1;
	}
	*o++ = '\\';
	if (short_escape[c] != 0) {
		*o++ = short_escape[c];
	} else {
		memcpy(o, "u00", 3);
		o[3] = hexdigits[c >> 4];
		o[4] = hexdigits[c & 15];
		o += 5;
	}
	*out = o;
	return 1;
}

/* The inside of a JSON string literal for s[0..n), written at o; returns the end. */
static inline char *
escape_body(char *o, const unsigned char *s, size_t n, size_t *replaced)
{
	size_t i = 0;

#ifdef __SSE2__
	/* Sixteen bytes at a time while they need nothing (x86-64 always has SSE2). */
	{
		const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
		const __m128i space = _mm_set1_epi8(0x20);

		while (i + 16 <= n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			/* Signed: bytes >= 0x80 are negative, so below 0x20 catches them too. */
			__m128i special = _mm_or_si128(_mm_cmplt_epi8(v, space),
				_mm_or_si128(_mm_cmpeq_epi8(v, quote),
					_mm_cmpeq_epi8(v, backslash)));
			unsigned mask = (unsigned)_mm_movemask_epi8(special);

			_mm_storeu_si128((__m128i *)(void *)o, v);
			if (mask == 0) {
				o += 16;
				i += 16;
				continue;
			}
			o += __builtin_ctz(mask);
			i += __builtin_ctz(mask);
			i += escape_one(&o, s + i, n - i, replaced);
		}
	}
#endif
	while (i + 8 <= n) {
		uint64_t w, mask;
		size_t k;

		memcpy(&w, s + i, 8);
		mask = needs_escape8(w);
		memcpy(o, &w, 8); /* room: escapes only ever lengthen the output */
		if (mask == 0) {
			o += 8;
			i += 8;
			continue;
		}
		k = first_flagged(mask);
		o += k;
		i += k;
		i += escape_one(&o, s + i, n - i, replaced);
	}
	/*
	 * The last 1 to 7 bytes, when they need nothing, in one step: from a
	 * load of the string's last 8 bytes without the ones already done, or
	 * for a short string from two loads of 4 that overlap.
	 */
	if (i < n && n >= 8) {
		uint64_t w, mask;
		unsigned shift = 8 * (unsigned)(i - (n - 8));

		memcpy(&w, s + n - 8, 8);
		mask = needs_escape8(w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w <<= shift, mask <<= shift;
#else
		w >>= shift, mask >>= shift;
#endif
		if (mask == 0) {
			memcpy(o, &w, 8); /* the bytes past n - i are slack, written over later */
			return o + (n - i);
		}
	} else if (i == 0 && n >= 4) {
		uint32_t head, tail;

		memcpy(&head, s, 4);
		memcpy(&tail, s + n - 4, 4);
		if ((needs_escape4(head) | needs_escape4(tail)) == 0) {
			memcpy(o, &head, 4);
			memcpy(o + n - 4, &tail, 4);
			return o + n;
		}
	}
	while (i < n) {
		if (plain_byte[s[i]])
			*o++ = (char)s[i++];
		else
			i += escape_one(&o, s + i, n - i, replaced);
	}
	return o;
}

char *
jw_escape(char *dst, const void *s, size_t n, size_t *replaced)
{
	*dst++ = '"';
	dst = escape_body(dst, s, n, replaced);
	*dst++ = '"';
	return dst;
}

/* Strings longer than this are escaped in slices, so the reserve stays small. */
#define SLICE (64 * 1024)

size_t
jw_string(struct buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t replaced = 0;

	if (n <= SLICE) {
		buf_reserve(b, JW_ESCAPED_MAX(n));
		b->len = (size_t)(jw_escape(b->data + b->len, s, n, &replaced) - b->data);
		return replaced;
	}
	buf_putc(b, '"');
	while (n > 0) {
		/* Cut where no valid character is split (invalid bytes are replaced anyway). */
		size_t len = n > SLICE ? utf8_cut(s, SLICE) : n;

		if (len == 0)
			len = SLICE;
		buf_grow(b, JW_ESCAPED_MAX(len));
		b->len = (size_t)(escape_body(b->data + b->len, s, len, &replaced) - b->data);
		s += len;
		n -= len;
	}
	buf_putc(b, '"');
	return replaced;
}

void
jw_cstring(struct buf *b, const char *s)
{
	jw_string(b, s, strlen(s));
}

void
jw_raw_member(struct buf *b, const void *raw, size_t n)
{
	buf_puts(b, "\"_raw\":");
	jw_string(b, raw, n > JL_RAW_MAX ? utf8_cut(raw, JL_RAW_MAX) : n);
}
