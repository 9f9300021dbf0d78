/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-cost: price each record's LLM and search usage (.llm, .search), add
 * .cost, append it to the ledger in the run database, and stop at a budget.
 * Also --gate (before a paid stage: pass records while the ledger is under
 * budget), --estimate (price a jl-llm --dry-run) and --list-prices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "jscan.h"
#include "ledger.h"
#include "opt.h"
#include "out.h"
#include "prices.h"
#include "pricing.h"
#include "recloop.h"
#include "record.h"
#include "util.h"
#include "version.h"

static void print_versions(void);

static const struct opt_tool tool = {
	.synopsis = "[--db FILE] [--budget USD] [--gate | --estimate] | --list-prices [PATTERN]",
	.summary = "Price each record's LLM and search usage, keep the ledger, stop at a budget.",
	.version = print_versions,
};

struct cost_config {
	const char *db_path, *run, *llm_field, *search_field, *into, *pattern;
	const char *price_files[PRICES_MAX_FILES];
	size_t nprice_files;
	bool has_budget, gate, estimate, summary, list, strict, quiet;
	enum progress_mode progress;
	int64_t budget_micro, credit_micro;
	long batch, batch_ms;
};

struct cost {
	const struct cost_config *cfg;
	struct prices *prices;
	struct pricer pricer;
	struct db *db;
	struct ledger *ledger;
	struct cost_totals totals;
	unsigned long long over_budget;
	ledger_sum budget_pico;    /* --budget */
	ledger_sum ledger_pico;    /* the ledger's total for the budget, as last read */
	struct record_view view;   /* the members of the record at hand */
	struct record_picks picks; /* what fills view */
	struct buf line;
};

static void
print_versions(void)
{
	version_line("sqlite", sqlite3_libversion());
	version_libjq();
	version_common();
}

static void
parse_options(struct cost_config *cfg, int argc, char **argv)
{
	struct opt options[] = {
		OPT_STRING(0, "db", &cfg->db_path, "FILE",
			"the run database: the ledger and the budget", "$JL_DB"),
		OPT_USD(0, "budget", &cfg->budget_micro, "USD",
			"stop billing at USD: later records get _error, exit 75", NULL),
		OPT_BOOL(0, "gate", &cfg->gate,
			"before a paid stage: pass records only while under --budget"),
		OPT_BOOL(0, "estimate", &cfg->estimate,
			"price a jl-llm --dry-run: print the estimate only"),
		OPT_BOOL(0, "summary", &cfg->summary,
			"print the totals by model and backend at the end"),
		OPT_NAME(0, "run", &cfg->run, "NAME", "tag the ledger rows", "default"),
		OPT_LIST(0, "prices", cfg->price_files, &cfg->nprice_files, PRICES_MAX_FILES,
			"FILE", "merge a LiteLLM price file over the table (repeatable)"),
		OPT_BOOL(0, "list-prices", &cfg->list, "list the known prices ([PATTERN] operand)"),
		OPT_STRING(0, "llm-field", &cfg->llm_field, "NAME", "where the LLM usage is",
			"llm"),
		OPT_STRING(0, "search-field", &cfg->search_field, "NAME",
			"where the search usage is", "search"),
		OPT_NAME(0, "into", &cfg->into, "NAME", "the field to add", "cost"),
		OPT_USD(0, "credit-price", &cfg->credit_micro, "USD",
			"the price of a Tavily credit", "0.008"),
		OPT_UINT(0, "batch", &cfg->batch, 1, 10000000, "N",
			"commit the ledger every N records", "1000"),
		OPT_UINT(0, "batch-ms", &cfg->batch_ms, 0, 3600000, "MS",
			"and every MS milliseconds", "200"),
		OPT_BOOL(0, "strict", &cfg->strict,
			"stop at a malformed line (65); exit 1 when a record carries _error"),
		OPT_BOOL('q', "quiet", &cfg->quiet, "no warnings, summary or progress on stderr"),
		OPT_SET(0, "progress", &cfg->progress, PROGRESS_ON,
			"show progress even when stderr is not a terminal"),
		OPT_SET(0, "no-progress", &cfg->progress, PROGRESS_OFF, "never show progress"),
		OPT_END(),
	};
	int operand = opt_parse(&tool, options, argc, argv);

	if (cfg->list && operand < argc)
		cfg->pattern = argv[operand++];
	if (operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[operand]);
}

static void
validate_config(struct cost_config *cfg)
{
	const char *env = getenv("JL_DB");

	cfg->has_budget = cfg->budget_micro >= 0;
	if (cfg->db_path == NULL && env != NULL && *env != '\0' && !cfg->estimate && !cfg->list)
		cfg->db_path = env;
	if (cfg->gate + cfg->estimate + cfg->list > 1)
		opt_usage_error(&tool, "give one of --gate, --estimate and --list-prices");
	if (cfg->gate && (!cfg->has_budget || cfg->db_path == NULL))
		opt_usage_error(&tool, "--gate needs --budget and --db (the ledger it watches)");
	if (cfg->has_budget && cfg->db_path == NULL)
		opt_usage_error(&tool, "--budget needs --db: the ledger is what the budget counts");
}

/* --- writing records --------------------------------------------------------------- */

/* The record text[0..len) with _error budget_exceeded (over a null _error when error_present). */
static void
budget_error(struct buf *to, const char *text, size_t len, bool error_present, const struct cost *c)
{
	struct buf message = BUF_INIT;
	struct record_error e = { .code = ERR_BUDGET_EXCEEDED, .attempts = -1 };

	buf_puts(&message, "the ledger total $");
	ledger_usd(&message, c->ledger_pico);
	buf_puts(&message, " reached the budget $");
	ledger_usd(&message, c->budget_pico);
	e.message = buf_cstr(&message);
	record_fail_text(to, text, len, error_present, &e);
	buf_free(&message);
}

/* --- the loop -------------------------------------------------------------------- */

/* The loop's commit hook: the batch's ledger rows, before its records are written. */
static int
commit_ledger(void *arg)
{
	struct cost *c = arg;

	return db_in_transaction(c->db) && ledger_commit(c->ledger) != 0 ? EXIT_IOERR : 0;
}

static void
refresh_total(struct cost *c)
{
	if (c->ledger != NULL &&
		(c->ledger_pico = ledger_total(c->ledger, c->cfg->run ? c->cfg->run : "")) < 0)
		exit(EXIT_IOERR);
}

/* Open the batch's transaction, if it is not open yet. */
static void
begin_batch(struct cost *c)
{
	if (db_in_transaction(c->db))
		return;
	if (db_begin(c->db) != 0)
		exit(EXIT_IOERR);
	refresh_total(c); /* what every writer has spent, at the start of the batch */
}

/* Append the row of a billed record (inside the batch), line as it came, to the ledger. */
static void
bill(struct cost *c, const struct priced *p, struct jspan line)
{
	static const char hex[] = "0123456789abcdef";
	unsigned long long hash = hash_words(line.p, line.n);
	char record_hash[17];
	struct ledger_row row = { c->cfg->run ? c->cfg->run : "default", record_hash, p->model,
		p->backend, p->prompt, p->completion, p->cached, p->llm_pico, p->search_pico,
		p->cache_write, p->batch };

	for (int i = 15; i >= 0; i--, hash >>= 4)
		record_hash[i] = hex[hash & 15];
	record_hash[16] = '\0';
	if (ledger_add(c->ledger, &row) != 0)
		exit(EXIT_IOERR);
	c->ledger_pico += priced_pico(p);
}

/*
 * The record text[0..len) (v: its members, at input line lineno) that p
 * cannot price: _error cost_overflow and no .cost. One that failed before
 * keeps its _error, and a warning says it. Nothing is billed for either.
 */
static enum recloop_verdict
overflow_record(struct cost *c, const char *text, size_t len, const struct record_view *v,
	unsigned long lineno, const struct priced *p, bool failed, struct buf *out)
{
	struct buf message = BUF_INIT;
	struct record_error e = { .code = ERR_COST_OVERFLOW, .line = lineno, .attempts = -1 };

	buf_puts(&message, "cannot price the record: ");
	buf_puts(&message, p->overflow);
	buf_puts(&message, "; nothing is billed for it");
	if (failed) {
		if (!c->cfg->quiet)
			warn("line %lu: %s (cost_overflow); it keeps its _error", lineno,
				buf_cstr(&message));
		buf_add(out, text, len);
		buf_putc(out, '\n');
	} else {
		e.message = buf_cstr(&message);
		record_fail_text(out, text, len, v->error.n > 0, &e);
	}
	buf_free(&message);
	return RECLOOP_FAILED;
}

/*
 * Price the record text[0..len) (v: its members, at input line lineno)
 * into the ledger and the output. A failed record (_error) is billed for
 * the usage it carries (the search of a record whose model call failed was
 * paid) but keeps its error.
 */
static enum recloop_verdict
cost_record(struct cost *c, const char *text, size_t len, const struct record_view *v,
	unsigned long lineno, bool failed, struct buf *out)
{
	const struct cost_config *cfg = c->cfg;
	struct priced p;
	bool billed, over;

	price_record(&c->pricer, v, lineno, &p);
	cost_totals_add(&c->totals, &p);
	if (cfg->estimate)
		return RECLOOP_DROPPED;
	if (p.overflow != NULL)
		return overflow_record(c, text, len, v, lineno, &p, failed, out);
	billed = c->ledger != NULL && !p.dry_run && priced_pico(&p) > 0;
	if (billed)
		begin_batch(c);
	over = !failed && cfg->has_budget && c->ledger_pico >= c->budget_pico;
	if (billed)
		bill(c, &p, v->line);
	buf_reset(&c->line);
	cost_object(&c->line, &p);
	if (over) {
		struct buf with_cost = BUF_INIT;

		c->over_budget++;
		record_add_member(&with_cost, text, len, v->into.n > 0, cfg->into, c->line.data,
			c->line.len);
		budget_error(out, with_cost.data, with_cost.len - 1, v->error.n > 0, c);
		buf_free(&with_cost);
		return RECLOOP_FAILED;
	}
	record_add_member(out, text, len, v->into.n > 0, cfg->into, c->line.data, c->line.len);
	return RECLOOP_PASSED;
}

/* Whether a failed record (v: its members) carries usage to bill, and no price yet. */
static bool
has_usage(const struct record_view *v)
{
	return (jscan_kind(v->llm) == JSCAN_OBJECT || jscan_kind(v->search) == JSCAN_OBJECT) &&
		jscan_kind(v->into) != JSCAN_OBJECT;
}

static enum recloop_verdict
gate_record(struct cost *c, const char *text, size_t len, const struct record_view *v,
	struct buf *out)
{
	refresh_total(c);
	c->totals.records++;
	if (c->ledger_pico >= c->budget_pico) {
		c->over_budget++;
		budget_error(out, text, len, v->error.n > 0, c);
		return RECLOOP_FAILED;
	}
	buf_add(out, text, len);
	buf_putc(out, '\n');
	return RECLOOP_PASSED;
}

/*
 * The loop's record hook. A record that failed before passes on as it is,
 * unless it carries usage to bill; --estimate writes no record.
 */
static enum recloop_verdict
cost_hook(void *arg, struct recloop_record *r, struct buf *out)
{
	struct cost *c = arg;
	const struct cost_config *cfg = c->cfg;
	struct record_view *v = &c->view;

	v->error = r->error;
	v->line = (struct jspan){ r->line, r->line_len };
	if (r->failed && (r->bad || cfg->estimate || cfg->gate || !has_usage(v))) {
		if (cfg->estimate)
			return RECLOOP_DROPPED;
		buf_add(out, r->text, r->len);
		buf_putc(out, '\n');
		return RECLOOP_PASSED;
	}
	if (cfg->gate)
		return gate_record(c, r->text, r->len, v, out);
	return cost_record(c, r->text, r->len, v, r->lineno, r->failed, out);
}

/* What jl-cost publishes besides the loop's counts: the spend, replays, the budget. */
static void
publish_spend(void *arg, struct stage_counts *p)
{
	const struct cost *c = arg;
	ledger_sum spent = c->totals.total_pico;

	p->usd_pico = spent > INT64_MAX ? INT64_MAX : (int64_t)spent;
	p->cached = c->totals.cached;
	p->flags |= STAGE_SPEND;
	if (c->cfg->has_budget)
		p->budget_pico = c->budget_pico > INT64_MAX ? INT64_MAX : (int64_t)c->budget_pico;
}

/* Every record of stdin through the shared loop; returns its exit status. */
static int
run_records(struct cost *c, struct recloop_counts *n)
{
	const struct cost_config *cfg = c->cfg;

	record_picks(&c->picks, &c->view, cfg->llm_field, cfg->search_field, cfg->into);
	return recloop_run(&(struct recloop_config){ .picks = c->picks.top +
					   1, /* the loop picks _error */
				   .npicks = TOP_PICKS - 1,
				   .see_failed = true,
				   .strict = cfg->strict,
				   .quiet = cfg->quiet,
				   .progress = cfg->progress,
				   .db = cfg->db_path,
				   .batch = cfg->batch,
				   .batch_ms = cfg->batch_ms },
		&(struct recloop_ops){ .record = cost_hook,
			.commit = c->db != NULL ? commit_ledger : NULL,
			.publish = publish_spend },
		c, n);
}

/* --- output ---------------------------------------------------------------------- */

static void
print_groups(struct buf *b, const char *what, const struct cost_group *g, size_t n)
{
	struct buf in = BUF_INIT, out = BUF_INIT, usd = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		buf_reset(&in);
		buf_reset(&out);
		buf_reset(&usd);
		ledger_uint(&in, g[i].prompt);
		ledger_uint(&out, g[i].completion);
		ledger_usd(&usd, g[i].pico);
		buf_printf(b, "  %-8s %-40s %8llu records %12s in %10s out  $%s", what, g[i].name,
			g[i].records, buf_cstr(&in), buf_cstr(&out), buf_cstr(&usd));
		if (g[i].cache_write > 0) {
			buf_reset(&in);
			ledger_uint(&in, g[i].cache_write);
			buf_printf(b, "  %s cache-write", buf_cstr(&in));
		}
		if (g[i].batch > 0) {
			buf_reset(&usd);
			ledger_usd(&usd, g[i].batch_pico);
			buf_printf(b, "  %llu batch $%s", g[i].batch, buf_cstr(&usd));
		}
		buf_putc(b, '\n');
	}
	buf_free(&in);
	buf_free(&out);
	buf_free(&usd);
}

/* Append the summary to out: the totals' line after title, then the groups. */
static void
summary_text(const struct cost *c, struct buf *out, const char *title)
{
	const struct cost_totals *t = &c->totals;
	struct buf b = BUF_INIT;

	buf_puts(&b, title);
	buf_add_uint(&b, t->records);
	buf_puts(&b, " records, $");
	ledger_usd(&b, t->total_pico);
	buf_puts(&b, " (LLM $");
	ledger_usd(&b, t->llm_pico);
	buf_puts(&b, ", search $");
	ledger_usd(&b, t->search_pico);
	buf_putc(&b, ')');
	if (t->batch > 0) {
		buf_puts(&b, "; ");
		buf_add_uint(&b, t->batch);
		buf_puts(&b, " batch answers $");
		ledger_usd(&b, t->batch_pico);
	}
	if (t->cache_write > 0) {
		buf_puts(&b, "; ");
		ledger_uint(&b, t->cache_write);
		buf_puts(&b, " prompt tokens written to the cache");
	}
	if (t->unpriced > 0) {
		buf_puts(&b, "; ");
		buf_add_uint(&b, t->unpriced);
		buf_puts(&b, " records (");
		ledger_uint(&b, t->unpriced_tokens);
		buf_puts(&b, " tokens) unpriced");
	}
	if (t->overflow > 0) {
		buf_puts(&b, "; ");
		buf_add_uint(&b, t->overflow);
		buf_puts(&b, " records cost_overflow, not billed");
	}
	if (t->cached > 0) {
		buf_puts(&b, "; ");
		buf_add_uint(&b, t->cached);
		buf_puts(&b, " cached replays not billed");
	}
	buf_add(out, b.data, b.len);
	buf_putc(out, '\n');
	buf_free(&b);
	if (c->cfg->summary || c->cfg->estimate) {
		print_groups(out, "model", t->models, t->nmodels);
		print_groups(out, "backend", t->backends, t->nbackends);
	}
}

static void
list_one(const struct model_price *mp, void *arg)
{
	struct buf *b = arg;
	char line[512];

	snprintf(line, sizeof(line), "%-56s %-12s in %9.4f out %9.4f cached %9s  (%s)", mp->name,
		mp->provider, (double)mp->input / 1e6, (double)mp->output / 1e6,
		mp->cache_read >= 0 ? "" : "as in", mp->source);
	if (mp->cache_read >= 0) {
		char cached[16];

		snprintf(cached, sizeof(cached), "%9.4f", (double)mp->cache_read / 1e6);
		memcpy(strstr(line, "cached ") + 7, cached, 9);
	}
	buf_puts(b, line);
	/* the batch and cache-write prices, where the model has them */
	if (mp->cache_write >= 0) {
		snprintf(line, sizeof(line), "  cache-write %.4f", (double)mp->cache_write / 1e6);
		buf_puts(b, line);
	}
	if (mp->batch_input >= 0 || mp->batch_output >= 0) {
		snprintf(line, sizeof(line), "  batch in %.4f out %.4f",
			(double)(mp->batch_input >= 0 ? mp->batch_input : mp->input) / 1e6,
			(double)(mp->batch_output >= 0 ? mp->batch_output : mp->output) / 1e6);
		buf_puts(b, line);
	}
	buf_putc(b, '\n');
}

int
main(int argc, char *argv[])
{
	struct cost_config cfg = {
		.llm_field = "llm",
		.search_field = "search",
		.into = "cost",
		.budget_micro = -1, /* none */
		.credit_micro = 8000,
		.batch = 1000,
		.batch_ms = 200,
	};
	struct cost c = { .cfg = &cfg };
	struct recloop_counts counts;
	struct buf err = BUF_INIT;
	int code = 0, rc = EXIT_OK;

	tool_init(argv[0]);
	parse_options(&cfg, argc, argv);
	validate_config(&cfg);
	c.prices = prices_with_files(cfg.price_files, cfg.nprice_files);
	pricer_init(&c.pricer, c.prices, cfg.credit_micro, cfg.llm_field, cfg.search_field,
		cfg.quiet);
	c.budget_pico = ledger_pico(cfg.budget_micro);
	out_init();
	if (cfg.list) {
		struct buf list = BUF_INIT;

		buf_puts(&list,
			"# USD per million tokens; built-in prices of " PRICES_DATE
			" (batch and cache-write prices of " PRICES_BATCH_DATE ")\n");
		prices_each(c.prices, cfg.pattern, list_one, &list);
		out_write(list.data, list.len);
		buf_free(&list);
		prices_free(c.prices);
		return out_close(EXIT_OK);
	}
	if (cfg.db_path != NULL && !cfg.estimate) {
		if ((c.db = db_open(cfg.db_path, &code)) == NULL)
			return code;
		if ((c.ledger = ledger_open(c.db)) == NULL)
			return EXIT_CANTCREAT;
		refresh_total(&c);
	}
	rc = run_records(&c, &counts);
	if (cfg.estimate) {
		buf_reset(&err);
		summary_text(&c, &err, "[ESTIMATE] ");
		out_write(err.data, err.len);
	} else if (!cfg.quiet) {
		buf_reset(&err);
		summary_text(&c, &err, "jl-cost: ");
		if (cfg.has_budget) {
			buf_puts(&err, "jl-cost: the ledger holds $");
			ledger_usd(&err, c.ledger_pico);
			buf_puts(&err, " of the budget $");
			ledger_usd(&err, c.budget_pico);
			buf_putc(&err, '\n');
		}
		report_text(err.data, err.len);
	}
	if (c.over_budget > 0) {
		if (!cfg.quiet)
			warn("%llu records over the budget left with _error budget_exceeded; rerun "
			     "with a higher --budget to go on",
				c.over_budget);
		if (rc == EXIT_OK || rc == EXIT_PARTIAL)
			rc = EXIT_TEMPFAIL;
	}
	ledger_close(c.ledger);
	if (c.db != NULL && db_close(c.db) != 0 && rc == EXIT_OK)
		rc = EXIT_IOERR;
	pricer_free(&c.pricer);
	prices_free(c.prices);
	buf_free(&c.line);
	buf_free(&err);
	return out_close(rc);
}
