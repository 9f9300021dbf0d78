/* SPDX-License-Identifier: BSD-2-Clause */
/* Redacting keys from text that came from a server. */
#include <stdbool.h>
#include <string.h>

#include "redact.h"
#include "util.h"

#define MIN_RUN 8         /* of the key itself */
#define MIN_RUN_BASE64 12 /* of its base64 form, which has more ordinary runs */

static void
base64(const char *s, size_t n, struct buf *out)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)(unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		buf_putc(out, digits[(v >> 18) & 63]);
		buf_putc(out, digits[(v >> 12) & 63]);
		buf_putc(out, i + 1 < n ? digits[(v >> 6) & 63] : '=');
		buf_putc(out, i + 2 < n ? digits[v & 63] : '=');
	}
}

/* The length of the longest prefix of text[0..n) that occurs somewhere in s[0..m). */
static size_t
longest_shared(const char *text, size_t n, const char *s, size_t m)
{
	size_t best = 0;

	for (size_t j = 0; j < m; j++) {
		size_t k = 0;

		while (k < n && j + k < m && text[k] == s[j + k])
			k++;
		if (k > best)
			best = k;
	}
	return best;
}

/* Redact in b the runs of at least min bytes shared with s[0..m). */
static void
redact_runs(struct buf *b, const char *s, size_t m, size_t min)
{
	struct buf out = BUF_INIT;
	size_t i = 0;
	bool changed = false;

	while (i < b->len) {
		size_t run = longest_shared(b->data + i, b->len - i, s, m);

		if (run >= min) {
			buf_puts(&out, "[redacted]");
			i += run;
			changed = true;
		} else {
			buf_putc(&out, b->data[i++]);
		}
	}
	if (changed) {
		buf_reset(b);
		buf_add(b, out.data, out.len);
	}
	explicit_bzero(out.data, out.size);
	buf_free(&out);
}

void
redact_secret(struct buf *b, const char *secret)
{
	struct buf b64 = BUF_INIT;
	size_t n;

	if (secret == NULL || (n = strlen(secret)) < MIN_RUN || b->len == 0)
		return;
	redact_runs(b, secret, n, MIN_RUN);
	base64(secret, n, &b64);
	redact_runs(b, b64.data, b64.len, MIN_RUN_BASE64);
	explicit_bzero(b64.data, b64.size);
	buf_free(&b64);
}
