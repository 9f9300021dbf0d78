/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How a failed HTTP attempt is classed into what to do next (doc/design.md
 * §6.4), by the rules every API shares. A tool classes a failure in
 * three steps: failure_transport (no answer at all), its own special cases
 * or failure_by_status, then failure_finish.
 */
#ifndef JL_FAILURE_H
#define JL_FAILURE_H

#include <jv.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "http.h"
#include "netloop.h"

/* Set f's step and code. */
void failure_set(struct failure *f, enum next_step step, const char *code);

/*
 * When t got no HTTP answer (network, timeout, an answer over the cap),
 * class it into f and return true; else reset f and return false.
 */
bool failure_transport(const struct http_transfer *t, struct failure *f);

/*
 * The error a server put in a body (borrowed), in any of the shapes the
 * APIs use: {"error": {"code"|"type", "message"|"detail"}}, {"error": "..."},
 * {"detail": {"error": "..."}}, {"detail": "..."}, {"message": "..."}.
 * Fills code (a number becomes "http_N"; "" when none) and appends the
 * message. Returns whether the body held an error.
 */
bool failure_server_error(jv body, char *code, size_t code_size, struct buf *message);

/* The same, from a response body that may not be JSON. */
void failure_server_text(const struct http_transfer *t, char *code, size_t code_size,
	struct buf *message);

/*
 * Class HTTP status s: 400/413/422 the record, 401/403 a refused key (stop),
 * 402/432/433 an exhausted quota (stop), 404 the target is unknown, 429 a
 * rate limit (or a quota, or a request too large, by server_code and
 * message), 408/409/5xx transient, anything else the record.
 */
void failure_by_status(long s, const char *server_code, const char *server_message,
	struct failure *f);

/*
 * Apply the server's x-should-retry header (the OpenAI SDK's rule) and
 * write f->message: "HTTP <status>: <server message, at most 300 bytes>".
 */
void failure_finish(const struct http_transfer *t, const char *server_message, struct failure *f);

#endif
