/* SPDX-License-Identifier: BSD-2-Clause */
/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF). */
#ifndef JL_UTF8_H
#define JL_UTF8_H

#include <stddef.h>

#include "buf.h"

/*
 * Length of the longest valid UTF-8 prefix of s[0..n): n when all of s is
 * valid, else the offset of the first byte that starts no valid sequence.
 */
size_t utf8_valid_prefix(const void *s, size_t n);

/*
 * Length of the valid sequence starting at s[0] (1 to 4), or 0 when s[0]
 * starts no valid sequence within n bytes.
 */
size_t utf8_sequence_length(const unsigned char *s, size_t n);

/*
 * Largest m <= n such that s[0..m) does not end inside a multi-byte
 * sequence: where to cut valid UTF-8 text without splitting a character.
 */
size_t utf8_cut(const void *s, size_t n);

/*
 * Write code point cp (at most 0x10FFFF) to out[0..4) as UTF-8; returns
 * the bytes written. Not checked: surrogates are encoded as they are.
 */
size_t utf8_encode(unsigned long cp, unsigned char out[4]);

/* Append s[0..n) to out with every byte that is not valid UTF-8 replaced by U+FFFD. */
void utf8_sanitize(struct buf *out, const void *s, size_t n);

#endif
