/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prompt templates: text with {{ jq-expr }} placeholders evaluated on each
 * record (doc/design.md §3.2). A string value is inserted as it is, any
 * other value as compact JSON. Templates compile once, before any input is
 * read, so a bad one is found at once.
 */
#ifndef JL_TEMPLATE_H
#define JL_TEMPLATE_H

#include <jv.h>
#include <stddef.h>

#include "buf.h"

struct tmpl;

/*
 * Compile text. Returns NULL with a message in err (naming the placeholder)
 * when a placeholder is not closed or its expression does not compile.
 */
struct tmpl *template_compile(const char *text, struct buf *err);

/*
 * Render on record (borrowed) into out (appended). Each placeholder's value
 * is cut to at most cap bytes at a character boundary (SIZE_MAX: no cap);
 * *longest gets the length of the longest value before the cut, for
 * --truncate. Returns 0, or -1 with a message in err naming the
 * placeholder and why it failed on this record.
 */
int template_render(struct tmpl *t, jv record, size_t cap, struct buf *out, size_t *longest,
	struct buf *err);

/* The number of placeholders. */
size_t template_placeholders(const struct tmpl *t);

/*
 * The length in bytes of t's literal text before its first placeholder (the
 * whole text when there is none): every rendering of t starts with these
 * bytes, whatever the record and the cap. 0 when t starts with a placeholder.
 */
size_t template_head_len(const struct tmpl *t);

void template_free(struct tmpl *t);

#endif
