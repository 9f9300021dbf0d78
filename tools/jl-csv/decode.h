/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --encoding: convert an input stream to UTF-8 with iconv(3), in pieces of
 * any size. A byte sequence that is not valid in the source encoding is not
 * dropped or guessed: it becomes a 0xFF byte, which is never valid UTF-8, so
 * the row that holds it turns into a bad_utf8 error record with its line.
 */
#ifndef JL_DECODE_H
#define JL_DECODE_H

#include <iconv.h>
#include <stdbool.h>
#include <stddef.h>

/* Where converted bytes go; returns 0, or a nonzero code that stops the conversion. */
typedef int (*decode_sink_fn)(void *arg, const char *utf8, size_t n);

struct decoder {
	const char *encoding; /* borrowed from decoder_open's caller */
	iconv_t cd;
	size_t unit;      /* bytes per code unit of the source: skipped on a bad sequence */
	char pending[32]; /* an incomplete sequence from the end of the last feed */
	size_t npending;
	char *out;
	size_t outsize;
};

/*
 * Open a decoder from encoding (borrowed: it must outlive the decoder) to
 * UTF-8. Returns 0, or -1 when iconv does not know the encoding.
 */
int decoder_open(struct decoder *d, const char *encoding);

/* Start a new input (resets the shift state and byte order detection). */
void decoder_reset(struct decoder *d);

/*
 * Convert in[0..n) and hand the UTF-8 to sink. final: the input ends here
 * (an incomplete sequence left over is then a bad one). Returns 0 or the
 * sink's nonzero code.
 */
int decoder_feed(struct decoder *d, const char *in, size_t n, bool final, decode_sink_fn sink,
	void *arg);

void decoder_close(struct decoder *d);

/* Whether iconv can convert from the encoding called name to UTF-8 ("" is not a name). */
bool encoding_known(const char *name);

/* Whether name is a spelling of UTF-8 (then no decoder is needed). */
bool encoding_is_utf8(const char *name);

#endif
