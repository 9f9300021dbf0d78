/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A jq program compiled once and run per record (libjq 1.6).
 *
 * Ownership follows jv.h: jqx_run consumes its input and returns a value
 * the caller owns.
 */
#ifndef JL_JQX_H
#define JL_JQX_H

#include <jv.h>
#include <stdbool.h>

#include "buf.h"

struct jqx;

/*
 * Compile expr. On success returns the program; on a compile error returns
 * NULL and appends jq's messages (one line, without jq's "jq: error: "
 * prefixes) to err, for the caller to report with its own exit status.
 */
struct jqx *jqx_compile(const char *expr, struct buf *err);

/*
 * Run the program on input (consumed) and return its first output. When the
 * program fails, or produces no output, returns an invalid jv whose message
 * (jv_invalid_get_msg) is a string saying why.
 */
jv jqx_first(struct jqx *q, jv input);

/* The expression text, for messages. */
const char *jqx_expr(const struct jqx *q);

/*
 * Whether the expression is a simple path (.name, .a.b, .a."x y"), which
 * jqx_first walks directly, without a jq evaluation, with jq's results.
 */
bool jqx_is_path(const struct jqx *q);

void jqx_free(struct jqx *q);

#endif
