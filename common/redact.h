/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Keeping keys out of what a tool prints: a provider's error message may
 * echo the request's headers, so text from a server is redacted before it
 * reaches stderr, a log, the database or an error record.
 */
#ifndef JL_REDACT_H
#define JL_REDACT_H

#include "buf.h"

/*
 * Replace in b each run of 8 or more bytes that also occurs in secret (the
 * whole key, its first 12 characters, any long piece of it), and each run
 * of 12 or more that occurs in its base64 form, by "[redacted]". A NULL or
 * short (under 8 bytes) secret changes nothing.
 */
void redact_secret(struct buf *b, const char *secret);

#endif
