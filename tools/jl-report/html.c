/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-report's HTML: one self-contained page (no network, no external
 * asset; a Content-Security-Policy that allows none): summary cards, an
 * inline SVG bar chart of the groups, and the results table, sortable and
 * filterable by a few lines of inline script, long text collapsed, error
 * rows marked. Everything from the input is escaped.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "utf8.h"

#define LONG_TEXT 160

static const char style[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}"
	"h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
	".cards{display:flex;flex-wrap:wrap;gap:12px}"
	".card{background:#fff;border:1px solid #d8dde6;border-radius:8px;padding:10px 16px;"
	"min-width:120px}.card b{display:block;font-size:20px}.card span{color:#5b6577}"
	"table{border-collapse:collapse;background:#fff;width:100%}"
	"th,td{border:1px solid #d8dde6;padding:4px 8px;text-align:left;vertical-align:top}"
	"th{background:#eef1f6;cursor:pointer;user-select:none}td.n{text-align:right}"
	"tr.error td{background:#fdecec}details summary{cursor:pointer;color:#2b5fb3}"
	"#filter{margin:8px 0;padding:6px;width:320px}svg text{font:12px system-ui,sans-serif}";

static const char script[] =
	"(function(){var t=document.getElementById('results');if(!t){document.body.dataset.ready="
	"'0';return;}var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);"
	"document.getElementById('filter').addEventListener('input',function(e){var q=e.target."
	"value.toLowerCase();rows.forEach(function(r){r.style.display=r.textContent.toLowerCase()."
	"indexOf(q)<0?'none':'';});});"
	"Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){var up=true;th."
	"addEventListener('click',function(){rows.sort(function(x,y){var a=x.cells[i].dataset.v,"
	"c=y.cells[i].dataset.v,p=parseFloat(a),q=parseFloat(c),r=(!isNaN(p)&&!isNaN(q))?p-q:"
	"a.localeCompare(c);return up?r:-r;});up=!up;rows.forEach(function(r){b.appendChild(r);});"
	"});});document.body.dataset.ready=String(rows.length);})();";

/* Text as HTML content or attribute value. */
static void
esc(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&#39;");
			break;
		default:
			buf_putc(b, *s);
		}
	}
}

static void
card(struct buf *b, const char *label, const char *value)
{
	buf_puts(b, "<div class=\"card\"><b>");
	esc(b, value);
	buf_puts(b, "</b><span>");
	esc(b, label);
	buf_puts(b, "</span></div>");
}

static void
cards(struct report *rp, struct buf *b)
{
	char v[64];

	buf_puts(b, "<div class=\"cards\">");
	snprintf(v, sizeof(v), "%llu", rp->records);
	card(b, "records", v);
	snprintf(v, sizeof(v), "%llu", rp->ok);
	card(b, "ok", v);
	snprintf(v, sizeof(v), "%llu", rp->failed);
	card(b, "failed", v);
	snprintf(v, sizeof(v), "$%.6f", rp->usd);
	card(b, "cost", v);
	if (rp->llm_records > 0) {
		snprintf(v, sizeof(v), "%.1f%%",
			100.0 * (double)rp->cached / (double)rp->llm_records);
		card(b, "cached", v);
		snprintf(v, sizeof(v), "%lld / %lld", rp->tokens_in, rp->tokens_out);
		card(b, "tokens in / out", v);
		snprintf(v, sizeof(v), "%.0f / %.0f / %.0f ms", hist_quantile(&rp->latency, 0.5),
			hist_quantile(&rp->latency, 0.95), rp->latency.max);
		card(b, "LLM latency p50 / p95 / max", v);
	}
	if (rp->search_records > 0) {
		snprintf(v, sizeof(v), "%.1f",
			(double)rp->search_results / (double)rp->search_records);
		card(b, "search results per record", v);
	}
	buf_puts(b, "</div>");
	if (rp->errors.n > 0) {
		buf_puts(b, "<h2>Failures</h2><ul>");
		for (size_t i = 0; i < rp->errors.n; i++) {
			buf_puts(b, "<li><code>");
			esc(b, rp->errors.t[i].name);
			snprintf(v, sizeof(v), "</code>: %llu</li>", rp->errors.t[i].count);
			buf_puts(b, v);
		}
		buf_puts(b, "</ul>");
	}
	if (rp->models.n > 0) {
		buf_puts(b, "<h2>Cost by model</h2><ul>");
		for (size_t i = 0; i < rp->models.n; i++) {
			buf_puts(b, "<li>");
			esc(b, rp->models.t[i].name);
			snprintf(v, sizeof(v), ": %llu records, $%.6f</li>", rp->models.t[i].count,
				rp->models.t[i].sum_usd);
			buf_puts(b, v);
		}
		buf_puts(b, "</ul>");
	}
}

static void
chart(struct report *rp, struct buf *b)
{
	unsigned long long most = 1;
	char text[256];
	int height = (int)rp->groups.n * 26 + 10;

	if (rp->group == NULL || rp->groups.n == 0)
		return;
	for (size_t i = 0; i < rp->groups.n; i++)
		if (rp->groups.t[i].count > most)
			most = rp->groups.t[i].count;
	buf_puts(b, "<h2>By ");
	esc(b, rp->group_expr);
	snprintf(text, sizeof(text),
		"</h2><svg role=\"img\" width=\"760\" height=\"%d\" viewBox=\"0 0 760 %d\">",
		height, height);
	buf_puts(b, text);
	for (size_t i = 0; i < rp->groups.n; i++) {
		const struct tally *t = &rp->groups.t[i];
		int w = (int)(380.0 * (double)t->count / (double)most), y = (int)i * 26 + 5;

		buf_puts(b, "<text x=\"0\" y=\"");
		buf_add_uint(b, (unsigned long long)(y + 15));
		buf_puts(b, "\">");
		esc(b, t->name);
		snprintf(text, sizeof(text),
			"</text><rect x=\"150\" y=\"%d\" width=\"%d\" height=\"20\" "
			"fill=\"#4a7bd0\"/>"
			"<text x=\"%d\" y=\"%d\">%llu (%.1f%%, $%.4f)</text>",
			y, w, 156 + w, y + 15, t->count,
			100.0 * (double)t->count / (double)rp->records, t->sum_usd);
		buf_puts(b, text);
	}
	buf_puts(b, "</svg>");
}

static void
cell(struct buf *b, const char *s, bool numeric)
{
	size_t n = strlen(s);

	buf_puts(b, numeric ? "<td class=\"n\" data-v=\"" : "<td data-v=\"");
	esc(b, s);
	buf_puts(b, "\">");
	if (n > LONG_TEXT) {
		struct buf head = BUF_INIT;

		buf_add(&head, s, utf8_cut(s, 120));
		buf_puts(b, "<details><summary>");
		esc(b, buf_cstr(&head));
		buf_puts(b, "…</summary>");
		esc(b, s);
		buf_puts(b, "</details>");
		buf_free(&head);
	} else {
		esc(b, s);
	}
	buf_puts(b, "</td>");
}

static void
table(struct report *rp, struct buf *b)
{
	char text[128];

	if (rp->nrows == 0)
		return;
	buf_puts(b,
		"<h2>Results</h2><input id=\"filter\" type=\"search\" placeholder=\"filter "
		"rows\"><table id=\"results\"><thead><tr>");
	for (size_t c = 0; c < rp->ncolumns; c++) {
		buf_puts(b, "<th>");
		esc(b, rp->columns[c].title);
		buf_puts(b, "</th>");
	}
	buf_puts(b, "</tr></thead><tbody>");
	for (size_t i = 0; i < rp->nrows; i++) {
		buf_puts(b, rp->rows[i].error ? "<tr class=\"error\">" : "<tr>");
		for (size_t c = 0; c < rp->ncolumns; c++)
			cell(b, rp->rows[i].cells[c], rp->rows[i].numeric[c]);
		buf_puts(b, "</tr>");
	}
	buf_puts(b, "</tbody></table>");
	if (rp->records > rp->nrows) {
		snprintf(text, sizeof(text), "<p>%zu of %llu records shown.</p>", rp->nrows,
			rp->records);
		buf_puts(b, text);
	}
}

void
write_html(struct report *rp, struct buf *b)
{
	buf_puts(b,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
		"<meta name=\"viewport\" content=\"width=device-width\"><title>");
	esc(b, rp->title);
	buf_puts(b, "</title><style>");
	buf_puts(b, style);
	buf_puts(b, "</style></head><body><h1>");
	esc(b, rp->title);
	buf_puts(b, "</h1>");
	cards(rp, b);
	chart(rp, b);
	table(rp, b);
	buf_puts(b, "<script>");
	buf_puts(b, script);
	buf_puts(b, "</script></body></html>\n");
}
