/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-report's report: the columns, the rows kept, the summary and the
 * groups, and the writers of each format (report.c: md, csv, json; html.c).
 */
#ifndef JL_REPORT_REPORT_H
#define JL_REPORT_REPORT_H

#include <jv.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "jqx.h"
#include "progress.h"
#include "stats.h"

#define MAX_COLUMNS 64

enum format { FORMAT_MD, FORMAT_CSV, FORMAT_HTML, FORMAT_JSON };

struct column {
	char *title;
	struct jqx *expr;
};

/* A table row: its cells as text, and what it sorts by. */
struct row {
	char **cells;
	bool *numeric; /* the cell was a number */
	bool error;    /* the record carries _error */
	jv key;        /* --sort's value */
	unsigned long seq;
};

struct report {
	enum format format;
	const char *title, *group_expr;
	struct column columns[MAX_COLUMNS];
	size_t ncolumns;
	struct jqx *group, *sort;
	bool reverse, quiet, strict;
	enum progress_mode progress;
	long limit; /* rows kept; LONG_MAX: every row, streamed (CSV) */
	char **files;
	int nfiles;

	struct row *rows; /* a heap by sort key (the worst on top) when sorted */
	size_t nrows;
	bool header_done;

	unsigned long long records, ok, failed, cached, llm_records, search_records, search_results;
	long long tokens_in, tokens_out;
	double usd;
	struct histogram latency;
	struct tallies errors, models, groups;
};

/* Set up once the columns are known (after the first record, or at the end). */
void report_begin(struct report *rp);

/* Count rec (consumed) and keep or write its row. */
void report_add(struct report *rp, jv rec);

/* Write what is left: the whole report, or the CSV rows kept. */
void report_end(struct report *rp);

void report_free(struct report *rp);

/* Helpers the writers share. */
void row_sorted(struct report *rp); /* rp->rows in table order */
void add_usd(struct buf *b, double usd);
void add_number(struct buf *b, double v);

/* The HTML page (html.c). */
void write_html(struct report *rp, struct buf *out);

#endif
