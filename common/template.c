/* SPDX-License-Identifier: BSD-2-Clause */
/* {{ jq-expr }} templates: literal text and compiled jq programs, in turn. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jqx.h"
#include "template.h"
#include "utf8.h"
#include "util.h"

struct part {
	char *text; /* literal text, or NULL for a placeholder */
	size_t len;
	struct jqx *expr; /* the placeholder's program */
};

struct tmpl {
	struct part *parts;
	size_t nparts;
	size_t nplaceholders;
};

static void
add_part(struct tmpl *t, struct part p)
{
	t->parts = xreallocarray(t->parts, t->nparts + 1, sizeof(*t->parts));
	t->parts[t->nparts++] = p;
}

/*
 * The end of the placeholder whose expression starts at s: the "}}" that
 * closes it outside any string and any braces of the expression, or NULL.
 */
static const char *
placeholder_end(const char *s)
{
	int depth = 0;
	bool in_string = false;

	for (; *s != '\0'; s++) {
		if (in_string) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				in_string = false;
		} else if (*s == '"') {
			in_string = true;
		} else if (*s == '{') {
			depth++;
		} else if (*s == '}') {
			if (depth == 0 && s[1] == '}')
				return s;
			if (depth > 0)
				depth--;
		}
	}
	return NULL;
}

struct tmpl *
template_compile(const char *text, struct buf *err)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	const char *p = text;

	while (*p != '\0') {
		const char *open = strstr(p, "{{"), *close;
		struct buf jqerr = BUF_INIT;
		char *expr;

		if (open == NULL) {
			add_part(t, (struct part){ xstrdup(p), strlen(p), NULL });
			break;
		}
		if (open > p)
			add_part(t,
				(struct part){ xmemdup(p, (size_t)(open - p)), (size_t)(open - p),
					NULL });
		close = placeholder_end(open + 2);
		if (close == NULL) {
			buf_puts(err, "placeholder '");
			buf_add(err, open, strlen(open) > 40 ? 40 : strlen(open));
			buf_puts(err, "' is not closed with }}");
			template_free(t);
			return NULL;
		}
		expr = xmemdup(open + 2, (size_t)(close - open - 2));
		add_part(t, (struct part){ NULL, 0, jqx_compile(expr, &jqerr) });
		if (t->parts[t->nparts - 1].expr == NULL) {
			buf_puts(err, "placeholder {{");
			buf_puts(err, expr);
			buf_puts(err, "}}: ");
			buf_add(err, jqerr.data, jqerr.len);
			buf_free(&jqerr);
			free(expr);
			template_free(t);
			return NULL;
		}
		buf_free(&jqerr);
		free(expr);
		t->nplaceholders++;
		p = close + 2;
	}
	return t;
}

int
template_render(struct tmpl *t, jv record, size_t cap, struct buf *out, size_t *longest,
	struct buf *err)
{
	*longest = 0;
	for (size_t i = 0; i < t->nparts; i++) {
		struct part *p = &t->parts[i];
		jv v;
		const char *s;
		size_t len;

		if (p->text != NULL) {
			buf_add(out, p->text, p->len);
			continue;
		}
		v = jqx_first(p->expr, jv_copy(record));
		if (!jv_is_valid(v)) {
			jv msg = jv_invalid_get_msg(v);

			buf_puts(err, "placeholder {{");
			buf_puts(err, jqx_expr(p->expr));
			buf_puts(err, "}}: ");
			buf_puts(err,
				jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg)
								   : "failed");
			jv_free(msg);
			return -1;
		}
		if (jv_get_kind(v) != JV_KIND_STRING)
			v = jv_dump_string(v, 0);
		s = jv_string_value(v);
		len = (size_t)jv_string_length_bytes(jv_copy(v));
		if (len > *longest)
			*longest = len;
		buf_add(out, s, len > cap ? utf8_cut(s, cap) : len);
		jv_free(v);
	}
	return 0;
}

size_t
template_placeholders(const struct tmpl *t)
{
	return t->nplaceholders;
}

size_t
template_head_len(const struct tmpl *t)
{
	size_t len = 0;

	for (size_t i = 0; i < t->nparts && t->parts[i].text != NULL; i++)
		len += t->parts[i].len;
	return len;
}

void
template_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nparts; i++) {
		free(t->parts[i].text);
		jqx_free(t->parts[i].expr);
	}
	free(t->parts);
	free(t);
}
