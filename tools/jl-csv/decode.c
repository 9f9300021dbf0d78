/* SPDX-License-Identifier: BSD-2-Clause */
/* Streaming conversion to UTF-8 with iconv(3). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode.h"
#include "util.h"

#define OUT_SIZE (256 * 1024)

/* The marker written for a sequence that is invalid in the source encoding. */
static const char invalid_marker = (char)0xFF;

bool
encoding_known(const char *name)
{
	iconv_t cd;

	if (*name == '\0') /* iconv would take the locale's encoding */
		return false;
	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return false;
	iconv_close(cd);
	return true;
}

bool
encoding_is_utf8(const char *name)
{
	return strcasecmp(name, "utf-8") == 0 || strcasecmp(name, "utf8") == 0;
}

/*
 * The size of one code unit of encoding: the growth of "AA" over "A" once
 * encoded (1 for latin1 or cp1252, 2 for UTF-16, 4 for UTF-32), so a bad
 * sequence is skipped without losing the alignment of what follows.
 */
static size_t
code_unit(const char *encoding)
{
	iconv_t cd = iconv_open(encoding, "UTF-8");
	size_t one, two;
	char in[2] = { 'A', 'A' }, out[64];
	char *ip, *op;
	size_t il, ol;

	if (cd == (iconv_t)-1)
		return 1;
	ip = in, il = 1, op = out, ol = sizeof(out);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
		goto fail;
	one = sizeof(out) - ol;
	iconv(cd, NULL, NULL, NULL, NULL);
	ip = in, il = 2, op = out, ol = sizeof(out);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
		goto fail;
	two = sizeof(out) - ol;
	iconv_close(cd);
	return two > one && two - one <= 4 ? two - one : 1;
fail:
	iconv_close(cd);
	return 1;
}

int
decoder_open(struct decoder *d, const char *encoding)
{
	memset(d, 0, sizeof(*d));
	d->encoding = encoding;
	d->cd = iconv_open("UTF-8", encoding);
	if (d->cd == (iconv_t)-1)
		return -1;
	d->unit = code_unit(encoding);
	d->outsize = OUT_SIZE;
	d->out = xmalloc(d->outsize);
	return 0;
}

void
decoder_reset(struct decoder *d)
{
	/*
	 * A fresh descriptor: resetting the state with iconv(cd, NULL, ...)
	 * keeps the byte order glibc read from the last input's BOM.
	 */
	iconv_close(d->cd);
	d->cd = iconv_open("UTF-8", d->encoding);
	if (d->cd == (iconv_t)-1)
		die(EXIT_SOFTWARE, "cannot reopen iconv for '%s':", d->encoding);
	d->npending = 0;
}

/*
 * Convert as much of *in as iconv can. Returns 0 with *in advanced; stops at
 * an incomplete sequence at the end (leaving it in *in) unless final.
 */
static int
convert(struct decoder *d, char **in, size_t *n, bool final, decode_sink_fn sink, void *arg)
{
	int rc;

	while (*n > 0) {
		char *op = d->out;
		size_t ol = d->outsize;
		size_t r = iconv(d->cd, in, n, &op, &ol);
		int err = r == (size_t)-1 ? errno : 0;

		if (err == EILSEQ || (err == EINVAL && final)) {
			size_t skip = d->unit < *n ? d->unit : *n;

			if (ol == 0) { /* no room for the marker: hand over what is done first */
				if ((rc = sink(arg, d->out, (size_t)(op - d->out))) != 0)
					return rc;
				op = d->out;
				ol = d->outsize;
			}
			*op++ = invalid_marker;
			*in += skip;
			*n -= skip;
		}
		if (op > d->out && (rc = sink(arg, d->out, (size_t)(op - d->out))) != 0)
			return rc;
		if (err == EINVAL && !final)
			return 0; /* an incomplete sequence: wait for more input */
	}
	return 0;
}

int
decoder_feed(struct decoder *d, const char *in, size_t n, bool final, decode_sink_fn sink,
	void *arg)
{
	char *ip = (char *)in;
	int rc;

	if (d->npending > 0) {
		/* Finish the sequence left over from the last feed with bytes of this one. */
		size_t room = sizeof(d->pending) - d->npending, take = n < room ? n : room;
		char joined[sizeof(d->pending)], *jp = joined;
		size_t jl = d->npending + take, consumed;

		memcpy(joined, d->pending, d->npending);
		memcpy(joined + d->npending, ip, take);
		if ((rc = convert(d, &jp, &jl, final && take == n, sink, arg)) != 0)
			return rc;
		consumed = d->npending + take - jl;
		if (consumed < d->npending) {
			/* Still incomplete: this feed was too short to finish it. */
			memmove(d->pending, jp, jl);
			d->npending = jl;
			return 0;
		}
		ip += consumed - d->npending;
		n -= consumed - d->npending;
		d->npending = 0;
	}
	if ((rc = convert(d, &ip, &n, final, sink, arg)) != 0)
		return rc;
	if (n > 0) {
		/* iconv stopped at an incomplete sequence: keep it for the next feed. */
		if (n > sizeof(d->pending))
			die(EXIT_SOFTWARE, "internal error: incomplete sequence of %zu bytes", n);
		memcpy(d->pending, ip, n);
		d->npending = n;
	}
	return 0;
}

void
decoder_close(struct decoder *d)
{
	if (d->cd != (iconv_t)-1 && d->cd != NULL)
		iconv_close(d->cd);
	free(d->out);
	d->out = NULL;
}
