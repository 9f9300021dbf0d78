/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/template.c: template_head_len, the literal text before the first
 * placeholder, and that every rendering starts with it (jl-llm --cache
 * marks it for the provider's prompt cache).
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "template.h"

/* Check the head of text is want bytes, and that a rendering on record starts with them. */
static void
check_head(const char *text, size_t want, const char *record)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct tmpl *t = template_compile(text, &err);
	size_t longest;
	jv r = jv_parse(record);

	if (!ok(t != NULL, "'%s' compiles", text)) {
		printf("#   %s\n", buf_cstr(&err));
		buf_free(&err);
		jv_free(r);
		return;
	}
	is_int(template_head_len(t), want, "'%s': a head of %zu bytes", text, want);
	ok(template_render(t, r, SIZE_MAX, &out, &longest, &err) == 0 && out.len >= want &&
			memcmp(out.data ? out.data : "", text, want) == 0,
		"'%s': the rendering starts with the head", text);
	buf_reset(&out);
	/* A cap cuts the placeholders' values, never the head. */
	ok(template_render(t, r, 1, &out, &longest, &err) == 0 && out.len >= want &&
			memcmp(out.data ? out.data : "", text, want) == 0,
		"'%s': cut to 1 byte a value, the rendering still starts with the head", text);
	jv_free(r);
	buf_free(&out);
	buf_free(&err);
	template_free(t);
}

int
main(void)
{
	check_head("Company: {{.name}}, of {{.city}}", 9, "{\"name\":\"Acme\",\"city\":\"Paris\"}");
	check_head("{{.name}} is a company", 0, "{\"name\":\"Acme\"}");
	check_head("no placeholder at all", 21, "{}");
	check_head("", 0, "{}");
	check_head("a {{ \"}}\" }} b", 2, "{}");
	check_head("x {{ {a: 1} | .a }}", 2, "{}");
	check_head("h\xc3\xa9 {{.v}}", 4, "{\"v\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}");
	return done_testing();
}
