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

enum {
	OPT_LIMIT = 256,
	OPT_TITLE,
	OPT_MAX_GROUPS,
	OPT_STRICT,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
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
	{ OPT_STRICT, "strict", 0, NULL,
		"stop at a malformed line (65); exit 1 when a record carries _error" },
	{ 'q', "quiet", 'q', NULL, "no warnings on stderr" },
	{ OPT_PROGRESS, "progress", 0, NULL, "show progress even when stderr is not a terminal" },
	{ OPT_NO_PROGRESS, "no-progress", 0, NULL, "never show progress" },
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
		case OPT_STRICT:
			rp->strict = true;
			break;
		case 'q':
			rp->quiet = true;
			break;
		case OPT_PROGRESS:
			rp->progress = PROGRESS_ON;
			break;
		case OPT_NO_PROGRESS:
			rp->progress = PROGRESS_OFF;
			break;
		}
	}
	rp->files = argv + st.operand;
	rp->nfiles = argc - st.operand;
	opt_free(&st);
}

/* One record, a failed one too, into the report; it writes no line. */
static enum recloop_verdict
add_record(void *arg, struct recloop_record *r, struct buf *out)
{
	struct report *rp = arg;
	jv rec = recloop_value(r);

	(void)out;
	if (rp->ncolumns == 0)
		default_columns(rp, rec);
	report_add(rp, jv_copy(rec));
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
