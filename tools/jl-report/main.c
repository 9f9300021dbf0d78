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
#include "recloop.h"
#include "report.h"
#include "util.h"
#include "version.h"

static void
print_versions(void)
{
	version_libjq();
	version_common();
}

static const struct opt_tool tool = {
	.synopsis = "[-f md|csv|html|json] [-c SPEC] [-g EXPR] [-s EXPR [-r]] [FILE...]",
	.summary = "Write a report of a run: its summary, groups and results table.",
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

static const char *
set_format(const struct opt *o, const char *arg)
{
	static const char *const names[] = { "md", "csv", "html", "json" };
	static const enum format formats[] = { FORMAT_MD, FORMAT_CSV, FORMAT_HTML, FORMAT_JSON };

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(arg, names[i]) == 0) {
			*(enum format *)o->value = formats[i];
			return NULL;
		}
	return "expected md, csv, html or json";
}

static const char *
set_columns(const struct opt *o, const char *arg)
{
	parse_columns(o->value, arg);
	return NULL;
}

static const char *
set_group_by(const struct opt *o, const char *arg)
{
	struct report *rp = o->value;

	rp->group_expr = arg;
	rp->group = compile(arg, "--group-by");
	return NULL;
}

static const char *
set_sort(const struct opt *o, const char *arg)
{
	*(struct jqx **)o->value = compile(arg, "--sort");
	return NULL;
}

static void
parse_options(struct report *rp, int argc, char **argv)
{
	struct opt options[] = {
		OPT_CALLBACK('f', "format", &rp->format, "FORMAT", "md, csv, html or json", "md",
			set_format),
		OPT_CALLBACK('c', "columns", rp, "SPEC", "Title=expr,...",
			"the scalar fields and more", set_columns),
		OPT_CALLBACK('g', "group-by", rp, "EXPR",
			"count, share, cost and means per value of EXPR", NULL, set_group_by),
		OPT_CALLBACK('s', "sort", &rp->sort, "EXPR", "order the table by EXPR", NULL,
			set_sort),
		OPT_BOOL('r', "reverse", &rp->reverse, "with --sort: largest first"),
		OPT_UINT(0, "limit", &rp->limit, 0, 100000000, "N", "rows in the table; 0: none",
			"1000, or every row of CSV without --sort"),
		OPT_STRING(0, "title", &rp->title, "TEXT", "the report's title",
			"\"jlkit run report\""),
		OPT_UINT(0, "max-groups", &rp->groups.max, 1, 1000000, "N", "distinct groups kept",
			"1000"),
		OPT_BOOL(0, "strict", &rp->strict,
			"stop at a malformed line (65); exit 1 when a record carries _error"),
		OPT_BOOL('q', "quiet", &rp->quiet, "no warnings or progress on stderr"),
		OPT_SET(0, "progress", &rp->progress, PROGRESS_ON,
			"show progress even when stderr is not a terminal"),
		OPT_SET(0, "no-progress", &rp->progress, PROGRESS_OFF, "never show progress"),
		OPT_END(),
	};
	int operand = opt_parse(&tool, options, argc, argv);

	rp->files = argv + operand;
	rp->nfiles = argc - operand;
}

/* One record, a failed one too, into the report; it writes no line. */
static enum recloop_verdict
add_record(void *arg, struct recloop_record *r, struct buf *out)
{
	struct report *rp = arg;
	jv rec = recloop_take(r);

	(void)out;
	if (rp->ncolumns == 0)
		default_columns(rp, rec);
	report_add(rp, rec);
	return r->failed ? RECLOOP_FAILED : RECLOOP_PASSED;
}

int
main(int argc, char *argv[])
{
	struct report rp = { .format = FORMAT_MD, .limit = -1, .title = "jlkit run report" };
	struct recloop_counts counts;
	int rc;

	tool_init(argv[0]);
	rp.groups.max = 1000;
	parse_options(&rp, argc, argv);
	if (rp.limit < 0) /* CSV without a sort streams every row; the others keep 1000 */
		rp.limit = rp.format == FORMAT_CSV && rp.sort == NULL ? LONG_MAX : 1000;
	out_init();
	report_begin(&rp);
	rc = recloop_run(&(struct recloop_config){ .files = rp.files,
				 .nfiles = (size_t)rp.nfiles,
				 .see_failed = true,
				 .strict = rp.strict,
				 .quiet = rp.quiet,
				 .progress = rp.progress },
		&(struct recloop_ops){ .record = add_record }, &rp, &counts);
	if (rc == EXIT_OK || rc == EXIT_PARTIAL || rc == EXIT_DATAERR)
		report_end(&rp); /* the report of what was read */
	report_free(&rp);
	return out_close(rc);
}
