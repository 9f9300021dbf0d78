/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-report: what a run produced, at a glance. Reads records, counts the
 * run summary and the groups over every record, keeps at most --limit table
 * rows (the best by --sort in a heap), and writes Markdown, CSV, one
 * self-contained HTML page (html.c) or JSON.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "jqx.h"
#include "json.h"
#include "jsonl.h"
#include "opt.h"
#include "out.h"
#include "report.h"
#include "util.h"
#include "version.h"

enum {
	OPT_LIMIT = 256,
	OPT_TITLE,
	OPT_MAX_GROUPS,
};

static const struct opt_spec options[] = {
	{ 'f', "format", 'f', "FORMAT", "md, csv, html or json (default md)" },
	{ 'c', "columns", 'c', "SPEC", "Title=expr,... (default: the scalar fields and more)" },
	{ 'g', "group-by", 'g', "EXPR", "count, share, cost and means per value of EXPR" },
	{ 's', "sort", 's', "EXPR", "order the table by EXPR" },
	{ 'r', "reverse", 'r', NULL, "with --sort: largest first" },
	{ OPT_LIMIT, "limit", 0, "N", "rows in the table (default 1000; 0: none)" },
	{ OPT_TITLE, "title", 0, "TEXT", "the report's title" },
	{ OPT_MAX_GROUPS, "max-groups", 0, "N", "distinct groups kept (default 1000)" },
	{ 'q', "quiet", 'q', NULL, "no warnings on stderr" },
	{ 0, NULL, 0, NULL, NULL },
};

static void
print_versions(void)
{
	version_libjq();
	version_common();
}

static const struct opt_tool tool = {
	.synopsis = "[-f md|csv|html|json] [-c SPEC] [-g EXPR] [-s EXPR [-r]] [FILE...]",
	.summary = "Write a report of a run: its summary, groups and results table.",
	.options = options,
	.version = print_versions,
};

static struct jqx *
compile(const char *expr, const char *what)
{
	struct buf err = BUF_INIT;
	struct jqx *q = jqx_compile(expr, &err);

	if (q == NULL)
		opt_usage_error(&tool, "bad %s expression '%s': %s", what, expr, buf_cstr(&err));
	buf_free(&err);
	return q;
}

/* The expression for field name of obj: .["name"]. */
static void
field_expr(struct buf *b, const char *prefix, const char *name)
{
	buf_reset(b);
	buf_puts(b, prefix);
	buf_puts(b, "[");
	jw_cstring(b, name);
	buf_puts(b, "]");
}

/* -c "Title=expr,expr2": columns; a title may not hold '=' and an expression no ','. */
static void
parse_columns(struct report *rp, const char *spec)
{
	char *copy = xstrdup(spec), *save = NULL;

	for (char *item = strtok_r(copy, ",", &save); item != NULL;
		item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		const char *title = item, *expr = item;

		if (eq != NULL && eq[1] != '=' && eq > item && eq[-1] != '!' && eq[-1] != '<' &&
			eq[-1] != '>') {
			*eq = '\0';
			expr = eq + 1;
		}
		if (rp->ncolumns == MAX_COLUMNS)
			opt_usage_error(&tool, "at most %d columns", MAX_COLUMNS);
		rp->columns[rp->ncolumns].title = xstrdup(title);
		if (expr[strspn(expr,
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")] ==
			'\0') { /* a bare field name: .name */
			struct buf path = BUF_INIT;

			field_expr(&path, ".", expr);
			rp->columns[rp->ncolumns].expr = compile(buf_cstr(&path), "column");
			buf_free(&path);
		} else {
			rp->columns[rp->ncolumns].expr = compile(expr, "column");
		}
		rp->ncolumns++;
	}
	free(copy);
	if (rp->ncolumns == 0)
		opt_usage_error(&tool, "--columns needs at least one column");
}

static void
add_column(struct report *rp, const char *title, const char *expr)
{
	if (rp->ncolumns == MAX_COLUMNS)
		return;
	rp->columns[rp->ncolumns].title = xstrdup(title);
	rp->columns[rp->ncolumns].expr = compile(expr, "column");
	rp->ncolumns++;
}

/* The default columns, from the first record: its scalar fields, the answer's, cost, error. */
static void
default_columns(struct report *rp, jv rec)
{
	struct buf e = BUF_INIT;
	jv content;

	jv_object_foreach(rec, k, v) /* the macro borrows the object it walks */
	{
		jv_kind kind = jv_get_kind(v);

		if (jv_string_value(k)[0] != '_' && kind != JV_KIND_OBJECT &&
			kind != JV_KIND_ARRAY) {
			field_expr(&e, ".", jv_string_value(k));
			add_column(rp, jv_string_value(k), buf_cstr(&e));
		}
		jv_free(k);
		jv_free(v);
	}
	content = jv_object_get(jv_copy(rec), jv_string("llm"));
	content = jv_get_kind(content) == JV_KIND_OBJECT
		? jv_object_get(content, jv_string("content"))
		: (jv_free(content), jv_invalid());
	if (jv_get_kind(content) == JV_KIND_OBJECT) {
		jv_object_foreach(content, k, v)
		{
			if (jv_get_kind(v) != JV_KIND_OBJECT && jv_get_kind(v) != JV_KIND_ARRAY) {
				field_expr(&e, ".llm.content", jv_string_value(k));
				add_column(rp, jv_string_value(k), buf_cstr(&e));
			}
			jv_free(k);
			jv_free(v);
		}
	} else if (jv_get_kind(content) == JV_KIND_STRING) {
		add_column(rp, "answer", ".llm.content");
	}
	jv_free(content);
	add_column(rp, "cost", ".cost.usd");
	add_column(rp, "error", "._error.code");
	buf_free(&e);
}

static void
parse_options(struct report *rp, int argc, char **argv)
{
	struct opt_state st;
	const char *arg;
	int id;

	opt_init(&st, &tool, argc, argv);
	while ((id = opt_next(&st, &arg)) != OPT_DONE) {
		switch (id) {
		case 'f':
			if (strcmp(arg, "md") == 0)
				rp->format = FORMAT_MD;
			else if (strcmp(arg, "csv") == 0)
				rp->format = FORMAT_CSV;
			else if (strcmp(arg, "html") == 0)
				rp->format = FORMAT_HTML;
			else if (strcmp(arg, "json") == 0)
				rp->format = FORMAT_JSON;
			else
				opt_usage_error(&tool, "unknown format '%s' (md, csv, html, json)",
					arg);
			break;
		case 'c':
			parse_columns(rp, arg);
			break;
		case 'g':
			rp->group_expr = arg;
			rp->group = compile(arg, "--group-by");
			break;
		case 's':
			rp->sort = compile(arg, "--sort");
			break;
		case 'r':
			rp->reverse = true;
			break;
		case OPT_LIMIT:
			rp->limit = (long)opt_uint("limit", arg, 0, 100000000);
			break;
		case OPT_TITLE:
			rp->title = arg;
			break;
		case OPT_MAX_GROUPS:
			rp->groups.max = (size_t)opt_uint("max-groups", arg, 1, 1000000);
			break;
		case 'q':
			rp->quiet = true;
			break;
		}
	}
	rp->files = argv + st.operand;
	rp->nfiles = argc - st.operand;
	opt_free(&st);
}

static void
read_file(struct report *rp, const char *path)
{
	struct input in;
	struct jsonl_reader r;
	enum jsonl_status st;
	jv rec;

	if (input_open(&in, path) != 0)
		die(EXIT_NOINPUT, "cannot open '%s':", path);
	jsonl_init(&r, &in, JSONL_MAX_LINE);
	while ((st = jsonl_next(&r, &rec)) != JSONL_EOF) {
		if (st == JSONL_IOERR)
			die(EXIT_IOERR, "cannot read '%s':", path);
		if (rp->ncolumns == 0)
			default_columns(rp, rec);
		report_add(rp, rec);
	}
	jsonl_free(&r);
	input_close(&in);
}

int
main(int argc, char *argv[])
{
	struct report rp = { .format = FORMAT_MD, .limit = -1, .title = "jlkit run report" };

	tool_init(argv[0]);
	rp.groups.max = 1000;
	parse_options(&rp, argc, argv);
	if (rp.limit < 0) /* CSV without a sort streams every row; the others keep 1000 */
		rp.limit = rp.format == FORMAT_CSV && rp.sort == NULL ? LONG_MAX : 1000;
	out_init();
	report_begin(&rp);
	if (rp.nfiles == 0)
		read_file(&rp, "-");
	for (int i = 0; i < rp.nfiles; i++)
		read_file(&rp, rp.files[i]);
	report_end(&rp);
	report_free(&rp);
	return out_close(EXIT_OK);
}
