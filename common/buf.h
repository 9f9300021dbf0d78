/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A growable byte buffer. Owns its memory; contents are bytes, not a C string,
 * unless buf_cstr() is called. A zeroed struct (BUF_INIT) is an empty buffer.
 */
#ifndef JL_BUF_H
#define JL_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *data;  /* len bytes of content; NULL while nothing was ever added */
	size_t len;  /* bytes in use */
	size_t size; /* bytes allocated */
};

/* clang-format off */
#define BUF_INIT {NULL, 0, 0}
/* clang-format on */

/* Make room for at least extra more bytes; dies when memory runs out. */
void buf_grow(struct buf *b, size_t extra);

/* buf_grow, inline when there is room already: for hot paths that write directly. */
static inline void
buf_reserve(struct buf *b, size_t extra)
{
	if (b->size - b->len <= extra)
		buf_grow(b, extra);
}

/* Append n bytes. */
void buf_add(struct buf *b, const void *s, size_t n);

/* Append a C string. */
void buf_puts(struct buf *b, const char *s);

/* Append one byte. */
static inline void
buf_putc(struct buf *b, char c)
{
	if (b->len == b->size)
		buf_grow(b, 1);
	b->data[b->len++] = c;
}

/* Append an unsigned number in decimal. */
void buf_add_uint(struct buf *b, unsigned long long n);

/* Append what printf would print for fmt and its arguments. */
__attribute__((format(printf, 2, 3))) void buf_printf(struct buf *b, const char *fmt, ...);

/* NUL-terminate the content (not counted in len) and return it. */
const char *buf_cstr(struct buf *b);

/* Empty the buffer, keeping its memory. */
static inline void
buf_reset(struct buf *b)
{
	b->len = 0;
}

/* Free the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

#endif
