/* SPDX-License-Identifier: BSD-2-Clause */
/* JSON string escaping and the error record members every tool writes. */
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "utf8.h"
#include "util.h"

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Nonzero when some byte of w is a zero byte. */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

/*
 * Nonzero when one of the 8 bytes in w needs attention: below 0x20, '"', '\\'
 * or non-ASCII. Bytes >= 0x80 set the high bit, which also hides the
 * borrow tricks' false positives, so the test is exact for ASCII words.
 */
static inline uint64_t
needs_escape8(uint64_t w)
{
	uint64_t below_space = (w - ONES * 0x20) & ~w & HIGHS;
	uint64_t quote = HAS_ZERO(w ^ (ONES * '"'));
	uint64_t backslash = HAS_ZERO(w ^ (ONES * '\\'));

	return below_space | quote | backslash | (w & HIGHS);
}

static const char hexdigits[] = "0123456789abcdef";

static void
escape_ascii(struct buf *b, unsigned char c)
{
	char esc[6] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15]};

	switch (c) {
	case '"':
		buf_add(b, "\\\"", 2);
		return;
	case '\\':
		buf_add(b, "\\\\", 2);
		return;
	case '\n':
		buf_add(b, "\\n", 2);
		return;
	case '\r':
		buf_add(b, "\\r", 2);
		return;
	case '\t':
		buf_add(b, "\\t", 2);
		return;
	case '\b':
		buf_add(b, "\\b", 2);
		return;
	case '\f':
		buf_add(b, "\\f", 2);
		return;
	default:
		buf_add(b, esc, sizeof(esc));
	}
}

size_t
jw_string(struct buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0, run = 0, replaced = 0;

	buf_grow(b, n + 2);
	buf_putc(b, '"');
	while (i < n) {
		unsigned char c;
		size_t len;

		while (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (needs_escape8(w))
				break;
			i += 8;
		}
		if (i >= n)
			break;
		c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			len = utf8_sequence_length(s + i, n - i);
			if (len != 0) {
				i += len;
				continue;
			}
		}
		buf_add(b, s + run, i - run);
		if (c >= 0x80) {
			buf_add(b, "\xEF\xBF\xBD", 3);
			replaced++;
		} else {
			escape_ascii(b, c);
		}
		run = ++i;
	}
	buf_add(b, s + run, n - run);
	buf_putc(b, '"');
	return replaced;
}

void
jw_cstring(struct buf *b, const char *s)
{
	jw_string(b, s, strlen(s));
}

void
jw_error_member(struct buf *b, const char *code, const char *message, const char *file,
	unsigned long line)
{
	buf_puts(b, "\"_error\":{\"tool\":");
	jw_cstring(b, progname);
	buf_puts(b, ",\"code\":");
	jw_cstring(b, code);
	buf_puts(b, ",\"message\":");
	jw_cstring(b, message);
	if (file != NULL) {
		buf_puts(b, ",\"file\":");
		jw_cstring(b, file);
	}
	if (line != 0) {
		buf_puts(b, ",\"line\":");
		buf_add_uint(b, line);
	}
	buf_putc(b, '}');
}

void
jw_raw_member(struct buf *b, const void *raw, size_t n)
{
	buf_puts(b, "\"_raw\":");
	jw_string(b, raw, n > JL_RAW_MAX ? utf8_cut(raw, JL_RAW_MAX) : n);
}
