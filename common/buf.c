/* SPDX-License-Identifier: BSD-2-Clause */
/* A growable byte buffer. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "util.h"

void
buf_grow(struct buf *b, size_t extra)
{
	size_t need, size;

	if (extra > SIZE_MAX - b->len - 1)
		die(EXIT_SOFTWARE, "buffer size overflow");
	need = b->len + extra + 1; /* room for buf_cstr's NUL */
	if (need <= b->size)
		return;
	size = b->size ? b->size : 64;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	b->data = xrealloc(b->data, size);
	b->size = size;
}

void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (n == 0)
		return;
	if (b->size - b->len <= n)
		buf_grow(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_add_uint(struct buf *b, unsigned long long n)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	buf_add(b, digits + i, sizeof(digits) - i);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *
buf_cstr(struct buf *b)
{
	if (b->size == b->len)
		buf_grow(b, 1);
	b->data[b->len] = '\0';
	return b->data;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}
