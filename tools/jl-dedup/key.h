/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-dedup's keys: the expression that gives a record's key (common/jqx:
 * a simple path such as .name or .a."b c" is walked without jq), the key's
 * text, and the set of keys seen in this stream.
 */
#ifndef JL_DEDUP_KEY_H
#define JL_DEDUP_KEY_H

#include <jv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct key_expr;

/* Compile expr; NULL with the reason in err when jq cannot compile it. */
struct key_expr *key_compile(const char *expr, struct buf *err);

/* Whether expr is a simple path walked without jq (for tests and --help's word). */
bool key_is_path(const struct key_expr *k);

/*
 * The value of k for record (borrowed): its first output, or an invalid jv
 * (no output, or an error).
 */
jv key_eval(struct key_expr *k, jv record);

void key_free(struct key_expr *k);

/*
 * A key value (consumed) as its text, appended to out: a string as JSON
 * text ("007" with its quotes), a number as JSON text (7). Other kinds (null,
 * missing, bool, array, object) are no key: returns false with why set.
 */
bool key_text(jv value, struct buf *out, const char **why);

/*
 * A 128-bit hash of data: two 64-bit multiply-xorshift hashes with
 * different seeds. Not cryptographic: for telling keys and contents apart
 * (a collision among 10^9 keys has a chance near 10^-21), not for defence
 * against inputs crafted to collide.
 */
void hash128(const void *data, size_t len, uint64_t out[2]);

/* The keys seen in this stream: 128-bit digests in an open-addressing table. */
struct keyset {
	uint64_t *slots; /* pairs; 0,0 is empty */
	size_t cap, used;
};

/* Add the key text (len bytes); returns true when it was there already. */
bool keyset_add(struct keyset *s, const char *text, size_t len);
void keyset_free(struct keyset *s);

#endif
