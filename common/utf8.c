/* SPDX-License-Identifier: BSD-2-Clause */
/* UTF-8 validation with an ASCII fast path. */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

size_t
utf8_sequence_length(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0; /* continuation byte, overlong lead C0/C1, or past U+10FFFF */
	if (c < 0xE0) {
		if (n < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && s[1] > 0x9F)
			return 0; /* UTF-16 surrogate */
		return 3;
	}
	if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
		return 0;
	if (c == 0xF0 && s[1] < 0x90)
		return 0; /* overlong */
	if (c == 0xF4 && s[1] > 0x8F)
		return 0; /* past U+10FFFF */
	return 4;
}

size_t
utf8_valid_prefix(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0, len;

	while (i < n) {
		/* Eight ASCII bytes at a time. */
		while (i + 8 <= n) {
			uint64_t word;

			memcpy(&word, s + i, 8);
			if (word & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		len = utf8_sequence_length(s + i, n - i);
		if (len == 0)
			return i;
		i += len;
	}
	return n;
}

size_t
utf8_cut(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = n, back = 0;

	/* Step back over at most three continuation bytes to a lead byte. */
	while (i > 0 && back < 4 && (s[i - 1] & 0xC0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0)
		return n;
	if (s[i - 1] >= 0xC0) {
		size_t want = s[i - 1] >= 0xF0 ? 4 : s[i - 1] >= 0xE0 ? 3 : 2;

		if (back + 1 < want)
			return i - 1; /* the sequence is incomplete: cut before its lead */
	}
	return n;
}

void
utf8_sanitize(struct buf *out, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;

	while (i < n) {
		size_t valid = utf8_valid_prefix(s + i, n - i);

		buf_add(out, s + i, valid);
		i += valid;
		if (i < n) {
			buf_add(out, "\xEF\xBF\xBD", 3);
			i++;
		}
	}
}

size_t
utf8_encode(unsigned long cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}
