/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writing JSON text into a struct buf, fast and always valid: the output of
 * these functions is valid UTF-8 JSON for every input byte sequence.
 */
#ifndef JL_JSON_H
#define JL_JSON_H

#include <stddef.h>

#include "buf.h"

/* At most this many bytes of a bad input line are kept in "_raw". */
#define JL_RAW_MAX (64 * 1024)

/*
 * Append s[0..n) as a JSON string literal, quotes included. Control
 * characters, '"' and '\\' are escaped; bytes that are not valid UTF-8 are
 * each replaced by U+FFFD. Returns the number of bytes so replaced.
 */
size_t jw_string(struct buf *b, const void *s, size_t n);

/* The most bytes jw_escape writes for n input bytes (a control byte becomes 6). */
#define JW_ESCAPED_MAX(n) (6 * (n) + 2)

/*
 * The core of jw_string for callers that manage their own buffer: write
 * s[0..n) as a JSON string literal at dst, which must have room for
 * JW_ESCAPED_MAX(n) bytes. Adds the bytes replaced by U+FFFD to *replaced.
 * Returns the end of what was written.
 */
char *jw_escape(char *dst, const void *s, size_t n, size_t *replaced);

/* Append a C string as a JSON string literal (invalid UTF-8 replaced). */
void jw_cstring(struct buf *b, const char *s);

/*
 * Append the member "_raw":"..." holding at most JL_RAW_MAX bytes of
 * raw[0..n), cut at a character boundary, invalid UTF-8 replaced.
 */
void jw_raw_member(struct buf *b, const void *raw, size_t n);

#endif
