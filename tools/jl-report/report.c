/* SPDX-License-Identifier: BSD-2-Clause */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "out.h"
#include "record.h"
#include "report.h"
#include "util.h"

void
report_begin(struct report *rp)
{
	rp->groups.ncolumns = MAX_COLUMNS;
}

/* v (consumed) as cell text into out; *numeric says whether it was a number. */
static void
cell_text(jv v, struct buf *out, bool *numeric)
{
	jv_kind k = jv_get_kind(v);

	*numeric = k == JV_KIND_NUMBER;
	if (k == JV_KIND_STRING) {
		buf_add(out, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
	} else if (k != JV_KIND_NULL && k != JV_KIND_INVALID) {
		jv text = jv_dump_string(jv_copy(v), 0);

		buf_puts(out, jv_string_value(text));
		jv_free(text);
	}
	jv_free(v);
}

static double
number_at(jv obj, const char *a, const char *b, bool *present)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(a));

	if (b != NULL)
		v = jv_get_kind(v) == JV_KIND_OBJECT ? jv_object_get(v, jv_string(b))
						     : (jv_free(v), jv_invalid());
	*present = jv_get_kind(v) == JV_KIND_NUMBER && isfinite(jv_number_value(v));
	double n = *present ? jv_number_value(v) : 0;

	jv_free(v);
	return n;
}

/* The summary's counts from rec (borrowed). */
static void
count(struct report *rp, jv rec)
{
	jv err = jv_object_get(jv_copy(rec), jv_string("_error"));
	jv llm = jv_object_get(jv_copy(rec), jv_string("llm"));
	jv search = jv_object_get(jv_copy(rec), jv_string("search"));
	bool has;
	double usd = number_at(rec, "cost", "usd", &has);

	rp->records++;
	if (record_failed(rec)) {
		jv code = jv_get_kind(err) == JV_KIND_OBJECT ? jv_object_get(err, jv_string("code"))
							     : (jv_free(err), jv_invalid());

		rp->failed++;
		tally_get(&rp->errors,
			jv_get_kind(code) == JV_KIND_STRING ? jv_string_value(code) : "error")
			->count++;
		jv_free(code);
	} else {
		jv_free(err);
		rp->ok++;
	}
	if (has)
		rp->usd += usd;
	if (jv_get_kind(llm) == JV_KIND_OBJECT) {
		jv model = jv_object_get(jv_copy(llm), jv_string("model"));
		jv cached = jv_object_get(jv_copy(llm), jv_string("cached"));
		struct tally *t = tally_get(&rp->models,
			jv_get_kind(model) == JV_KIND_STRING ? jv_string_value(model) : "?");
		double lat = number_at(llm, "latency_ms", NULL, &has);

		rp->llm_records++;
		t->count++;
		if (jv_get_kind(cached) == JV_KIND_TRUE)
			rp->cached++;
		else if (has)
			hist_add(&rp->latency, lat);
		rp->tokens_in += (long long)number_at(llm, "usage", "prompt_tokens", &has);
		rp->tokens_out += (long long)number_at(llm, "usage", "completion_tokens", &has);
		t->sum_usd += usd;
		jv_free(model);
		jv_free(cached);
	}
	if (jv_get_kind(search) == JV_KIND_OBJECT) {
		jv results = jv_object_get(jv_copy(search), jv_string("results"));

		rp->search_records++;
		if (jv_get_kind(results) == JV_KIND_ARRAY)
			rp->search_results += (unsigned long long)jv_array_length(jv_copy(results));
		jv_free(results);
	}
	jv_free(llm);
	jv_free(search);
}

static void
row_free(struct row *r, size_t ncolumns)
{
	for (size_t i = 0; i < ncolumns; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r->numeric);
	jv_free(r->key);
}

/* Whether a should come after b in the table. */
static bool
later(const struct report *rp, const struct row *a, const struct row *b)
{
	int c = rp->sort != NULL ? jv_cmp(jv_copy(a->key), jv_copy(b->key)) : 0;

	if (rp->reverse)
		c = -c;
	return c != 0 ? c > 0 : a->seq > b->seq;
}

static void
swap(struct row *a, struct row *b)
{
	struct row t = *a;

	*a = *b;
	*b = t;
}

/* Max-heap by "later": the row that would be dropped first is on top. */
static void
sift_down(struct report *rp, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < rp->nrows && later(rp, &rp->rows[l], &rp->rows[m]))
			m = l;
		if (r < rp->nrows && later(rp, &rp->rows[r], &rp->rows[m]))
			m = r;
		if (m == i)
			return;
		swap(&rp->rows[i], &rp->rows[m]);
		i = m;
	}
}

static void
sift_up(struct report *rp, size_t i)
{
	while (i > 0 && later(rp, &rp->rows[i], &rp->rows[(i - 1) / 2])) {
		swap(&rp->rows[i], &rp->rows[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static int
table_order(const void *a, const void *b, void *arg)
{
	const struct report *rp = arg;

	return later(rp, a, b) ? 1 : later(rp, b, a) ? -1 : 0;
}

static const struct report *sort_report;
static int
table_order_qsort(const void *a, const void *b)
{
	return table_order(a, b, (void *)sort_report);
}

void
row_sorted(struct report *rp)
{
	if (rp->nrows < 2) /* rows is NULL when nothing was kept */
		return;
	sort_report = rp;
	qsort(rp->rows, rp->nrows, sizeof(*rp->rows), table_order_qsort);
}

/* --- CSV ------------------------------------------------------------------------ */

/* RFC 4180, with the spreadsheet formula guard: a leading = + - @ tab or CR gets a '. */
static void
csv_cell(struct buf *b, const char *s, bool numeric)
{
	bool guard = !numeric &&
		(s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
			s[0] == '\r');
	bool quote = guard || strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		buf_putc(b, '"');
	if (guard)
		buf_putc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	if (quote)
		buf_putc(b, '"');
}

static void
csv_header(struct report *rp, struct buf *b)
{
	for (size_t i = 0; i < rp->ncolumns; i++) {
		if (i > 0)
			buf_putc(b, ',');
		csv_cell(b, rp->columns[i].title, false);
	}
	buf_puts(b, "\r\n");
}

static void
csv_row(struct report *rp, const struct row *r, struct buf *b)
{
	for (size_t i = 0; i < rp->ncolumns; i++) {
		if (i > 0)
			buf_putc(b, ',');
		csv_cell(b, r->cells[i], r->numeric[i]);
	}
	buf_puts(b, "\r\n");
}

/* --- rows --------------------------------------------------------------------------- */

void
report_add(struct report *rp, jv rec)
{
	struct row r = { .key = jv_null(), .seq = rp->records };
	struct buf cell = BUF_INIT;
	struct tally *g = NULL;

	count(rp, rec);
	r.error = record_failed(rec);
	if (rp->group != NULL) {
		jv gv = jqx_first(rp->group, jv_copy(rec));

		cell_text(gv, &cell, &(bool){ false });
		g = tally_get(&rp->groups, cell.len ? buf_cstr(&cell) : "(none)");
		g->count++;
		g->sum_usd += number_at(rec, "cost", "usd", &(bool){ false });
		buf_reset(&cell);
	}
	r.cells = xcalloc(rp->ncolumns, sizeof(char *));
	r.numeric = xcalloc(rp->ncolumns, sizeof(bool));
	for (size_t i = 0; i < rp->ncolumns; i++) {
		jv v = jqx_first(rp->columns[i].expr, jv_copy(rec));

		if (g != NULL && jv_get_kind(v) == JV_KIND_NUMBER && isfinite(jv_number_value(v))) {
			g->sums[i] += jv_number_value(v);
			g->nums[i]++;
		}
		buf_reset(&cell);
		cell_text(v, &cell, &r.numeric[i]);
		r.cells[i] = xstrdup(buf_cstr(&cell));
	}
	buf_free(&cell);
	if (rp->sort != NULL) {
		r.key = jqx_first(rp->sort, jv_copy(rec));
		if (!jv_is_valid(r.key)) {
			jv_free(r.key);
			r.key = jv_null();
		}
	}
	jv_free(rec);
	if (rp->format == FORMAT_CSV && rp->sort == NULL) { /* streamed */
		struct buf line = BUF_INIT;

		if (!rp->header_done) {
			csv_header(rp, &line);
			rp->header_done = true;
		}
		if ((long)rp->records <= rp->limit)
			csv_row(rp, &r, &line);
		out_write(line.data, line.len);
		buf_free(&line);
		row_free(&r, rp->ncolumns);
		return;
	}
	if (rp->limit == 0 || (rp->nrows == (size_t)rp->limit && !later(rp, &rp->rows[0], &r))) {
		row_free(&r, rp->ncolumns);
		return;
	}
	if (rp->nrows == (size_t)rp->limit) { /* drop the worst */
		row_free(&rp->rows[0], rp->ncolumns);
		rp->rows[0] = r;
		sift_down(rp, 0);
		return;
	}
	rp->rows = xreallocarray(rp->rows, rp->nrows + 1, sizeof(*rp->rows));
	rp->rows[rp->nrows++] = r;
	sift_up(rp, rp->nrows - 1);
}

/* --- shared -------------------------------------------------------------------------- */

void
add_usd(struct buf *b, double usd)
{
	char text[48];

	snprintf(text, sizeof(text), "%.6f", usd);
	buf_puts(b, text);
}

void
add_number(struct buf *b, double v)
{
	char text[48];

	snprintf(text, sizeof(text), "%.6g", v);
	buf_puts(b, text);
}

/* --- Markdown ------------------------------------------------------------------------ */

/* Text in a table cell: pipes, backslashes and the Markdown marks escaped, lines joined. */
static void
md_text(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			buf_puts(b, "<br>");
		else if (*s == '\r')
			continue;
		else if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else if (*s == '&')
			buf_puts(b, "&amp;");
		else if (strchr("|\\`*_[]#", *s) != NULL) {
			buf_putc(b, '\\');
			buf_putc(b, *s);
		} else
			buf_putc(b, *s);
	}
}

static void
md_summary(struct report *rp, struct buf *b)
{
	char line[256];

	buf_puts(b, "# ");
	md_text(b, rp->title);
	buf_puts(b, "\n\n## Summary\n\n");
	snprintf(line, sizeof(line), "- records: %llu (%llu ok, %llu failed)\n", rp->records,
		rp->ok, rp->failed);
	buf_puts(b, line);
	for (size_t i = 0; i < rp->errors.n; i++) {
		buf_puts(b, "  - ");
		md_text(b, rp->errors.t[i].name);
		snprintf(line, sizeof(line), ": %llu\n", rp->errors.t[i].count);
		buf_puts(b, line);
	}
	if (rp->llm_records > 0) {
		snprintf(line, sizeof(line),
			"- cached: %.1f%% of %llu LLM answers\n- tokens: %lld in, %lld out\n",
			100.0 * (double)rp->cached / (double)rp->llm_records, rp->llm_records,
			rp->tokens_in, rp->tokens_out);
		buf_puts(b, line);
		snprintf(line, sizeof(line),
			"- LLM latency: p50 %.0f ms, p95 %.0f ms, max %.0f ms\n",
			hist_quantile(&rp->latency, 0.5), hist_quantile(&rp->latency, 0.95),
			rp->latency.max);
		buf_puts(b, line);
	}
	buf_puts(b, "- cost: $");
	add_usd(b, rp->usd);
	buf_putc(b, '\n');
	for (size_t i = 0; i < rp->models.n; i++) {
		buf_puts(b, "  - ");
		md_text(b, rp->models.t[i].name);
		snprintf(line, sizeof(line), ": %llu records, $%.6f\n", rp->models.t[i].count,
			rp->models.t[i].sum_usd);
		buf_puts(b, line);
	}
	if (rp->search_records > 0) {
		snprintf(line, sizeof(line), "- search results per record: %.1f\n",
			(double)rp->search_results / (double)rp->search_records);
		buf_puts(b, line);
	}
}

/* Whether column c held a number in some group: only those get a mean. */
static bool
numeric_column(const struct report *rp, size_t c)
{
	for (size_t i = 0; i < rp->groups.n; i++)
		if (rp->groups.t[i].nums[c] > 0)
			return true;
	return false;
}

static void
md_groups(struct report *rp, struct buf *b)
{
	if (rp->group == NULL)
		return;
	buf_puts(b, "\n## By ");
	md_text(b, rp->group_expr);
	buf_puts(b, "\n\n| group | records | share | cost |");
	for (size_t c = 0; c < rp->ncolumns; c++) {
		if (!numeric_column(rp, c))
			continue;
		buf_puts(b, " mean ");
		md_text(b, rp->columns[c].title);
		buf_puts(b, " |");
	}
	buf_puts(b, "\n|---|---:|---:|---:|");
	for (size_t c = 0; c < rp->ncolumns; c++)
		if (numeric_column(rp, c))
			buf_puts(b, "---:|");
	buf_putc(b, '\n');
	for (size_t i = 0; i < rp->groups.n; i++) {
		const struct tally *t = &rp->groups.t[i];
		char cell[64];

		buf_puts(b, "| ");
		md_text(b, t->name);
		snprintf(cell, sizeof(cell), " | %llu | %.1f%% | $%.6f |", t->count,
			100.0 * (double)t->count / (double)rp->records, t->sum_usd);
		buf_puts(b, cell);
		for (size_t c = 0; c < rp->ncolumns; c++) {
			if (!numeric_column(rp, c))
				continue;
			buf_putc(b, ' ');
			if (t->nums[c] > 0)
				add_number(b, t->sums[c] / (double)t->nums[c]);
			buf_puts(b, " |");
		}
		buf_putc(b, '\n');
	}
}

static void
md_table(struct report *rp, struct buf *b)
{
	char line[128];

	if (rp->nrows == 0)
		return;
	buf_puts(b, "\n## Results\n\n|");
	for (size_t c = 0; c < rp->ncolumns; c++) {
		buf_putc(b, ' ');
		md_text(b, rp->columns[c].title);
		buf_puts(b, " |");
	}
	buf_puts(b, "\n|");
	for (size_t c = 0; c < rp->ncolumns; c++)
		buf_puts(b, "---|");
	buf_putc(b, '\n');
	for (size_t i = 0; i < rp->nrows; i++) {
		buf_putc(b, '|');
		for (size_t c = 0; c < rp->ncolumns; c++) {
			buf_putc(b, ' ');
			md_text(b, rp->rows[i].cells[c]);
			buf_puts(b, " |");
		}
		buf_putc(b, '\n');
	}
	if (rp->records > rp->nrows) {
		snprintf(line, sizeof(line), "\n%zu of %llu records shown.\n", rp->nrows,
			rp->records);
		buf_puts(b, line);
	}
}

/* --- JSON ----------------------------------------------------------------------------- */

static void
json_tallies(struct buf *b, const char *name, const struct tallies *ts, bool usd)
{
	jw_cstring(b, name);
	buf_puts(b, ":{");
	for (size_t i = 0; i < ts->n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		jw_cstring(b, ts->t[i].name);
		buf_putc(b, ':');
		if (usd) {
			buf_puts(b, "{\"records\":");
			buf_add_uint(b, ts->t[i].count);
			buf_puts(b, ",\"usd\":");
			add_usd(b, ts->t[i].sum_usd);
			buf_putc(b, '}');
		} else {
			buf_add_uint(b, ts->t[i].count);
		}
	}
	buf_putc(b, '}');
}

static void
write_json(struct report *rp, struct buf *b)
{
	char text[512];

	buf_puts(b, "{\"title\":");
	jw_cstring(b, rp->title);
	snprintf(text, sizeof(text),
		",\"summary\":{\"records\":%llu,\"ok\":%llu,\"failed\":%llu,\"cached\":%llu,"
		"\"llm_records\":%llu,\"tokens_in\":%lld,\"tokens_out\":%lld,\"usd\":%.6f,"
		"\"latency_ms\":{\"p50\":%.1f,\"p95\":%.1f,\"max\":%.1f},"
		"\"search_results_per_record\":%.3f,",
		rp->records, rp->ok, rp->failed, rp->cached, rp->llm_records, rp->tokens_in,
		rp->tokens_out, rp->usd, hist_quantile(&rp->latency, 0.5),
		hist_quantile(&rp->latency, 0.95), rp->latency.max,
		rp->search_records ? (double)rp->search_results / (double)rp->search_records : 0.0);
	buf_puts(b, text);
	json_tallies(b, "errors", &rp->errors, false);
	buf_putc(b, ',');
	json_tallies(b, "models", &rp->models, true);
	buf_puts(b, "},\"groups\":[");
	for (size_t i = 0; i < rp->groups.n; i++) {
		const struct tally *t = &rp->groups.t[i];

		buf_puts(b, i ? ",{\"group\":" : "{\"group\":");
		jw_cstring(b, t->name);
		snprintf(text, sizeof(text),
			",\"records\":%llu,\"share\":%.6f,\"usd\":%.6f,\"means\":{", t->count,
			(double)t->count / (double)rp->records, t->sum_usd);
		buf_puts(b, text);
		for (size_t c = 0, n = 0; c < rp->ncolumns; c++) {
			if (t->nums[c] == 0)
				continue;
			if (n++ > 0)
				buf_putc(b, ',');
			jw_cstring(b, rp->columns[c].title);
			buf_putc(b, ':');
			add_number(b, t->sums[c] / (double)t->nums[c]);
		}
		buf_puts(b, "}}");
	}
	buf_puts(b, "]}\n");
}

void
report_end(struct report *rp)
{
	struct buf b = BUF_INIT;

	row_sorted(rp);
	switch (rp->format) {
	case FORMAT_CSV:
		if (!rp->header_done)
			csv_header(rp, &b);
		for (size_t i = 0; i < rp->nrows && rp->sort != NULL; i++)
			csv_row(rp, &rp->rows[i], &b);
		break;
	case FORMAT_MD:
		md_summary(rp, &b);
		md_groups(rp, &b);
		md_table(rp, &b);
		break;
	case FORMAT_JSON:
		write_json(rp, &b);
		break;
	case FORMAT_HTML:
		write_html(rp, &b);
		break;
	}
	out_write(b.data, b.len);
	buf_free(&b);
}

void
report_free(struct report *rp)
{
	for (size_t i = 0; i < rp->nrows; i++)
		row_free(&rp->rows[i], rp->ncolumns);
	free(rp->rows);
	for (size_t c = 0; c < rp->ncolumns; c++) {
		free(rp->columns[c].title);
		jqx_free(rp->columns[c].expr);
	}
	jqx_free(rp->group);
	jqx_free(rp->sort);
	tallies_free(&rp->errors);
	tallies_free(&rp->models);
	tallies_free(&rp->groups);
}
