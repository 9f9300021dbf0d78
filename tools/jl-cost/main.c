/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-cost: price each record's LLM and search usage (.llm, .search), add
 * .cost, append it to the ledger in the run database, and stop at a budget.
 * Also --gate (before a paid stage: pass records while the ledger is under
 * budget), --estimate (price a jl-llm --dry-run) and --list-prices.
 */
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "http.h"
#include "jscan.h"
#include "json.h"
#include "jsonl.h"
#include "ledger.h"
#include "opt.h"
#include "out.h"
#include "prices.h"
#include "strset.h"
#include "util.h"
#include "version.h"

#define MAX_PRICE_FILES 16
#define MAX_GROUPS 256

enum {
	OPT_DB = 256,
	OPT_BUDGET,
	OPT_GATE,
	OPT_ESTIMATE,
	OPT_SUMMARY,
	OPT_RUN,
	OPT_PRICES,
	OPT_LIST_PRICES,
	OPT_LLM_FIELD,
	OPT_SEARCH_FIELD,
	OPT_INTO,
	OPT_CREDIT_PRICE,
	OPT_BATCH,
	OPT_BATCH_MS,
	OPT_STRICT,
};

static const struct opt_spec options[] = {
	{ OPT_DB, "db", 0, "FILE", "the run database: the ledger and the budget (default $JL_DB)" },
	{ OPT_BUDGET, "budget", 0, "USD",
		"stop billing at USD: later records get _error, exit 75" },
	{ OPT_GATE, "gate", 0, NULL,
		"before a paid stage: pass records only while under --budget" },
	{ OPT_ESTIMATE, "estimate", 0, NULL, "price a jl-llm --dry-run: print the estimate only" },
	{ OPT_SUMMARY, "summary", 0, NULL, "print the totals by model and backend at the end" },
	{ OPT_RUN, "run", 0, "NAME", "tag the ledger rows (default: default)" },
	{ OPT_PRICES, "prices", 0, "FILE",
		"merge a LiteLLM price file over the table (repeatable)" },
	{ OPT_LIST_PRICES, "list-prices", 0, NULL, "list the known prices ([PATTERN] operand)" },
	{ OPT_LLM_FIELD, "llm-field", 0, "NAME", "where the LLM usage is (default llm)" },
	{ OPT_SEARCH_FIELD, "search-field", 0, "NAME",
		"where the search usage is (default search)" },
	{ OPT_INTO, "into", 0, "NAME", "the field to add (default cost)" },
	{ OPT_CREDIT_PRICE, "credit-price", 0, "USD",
		"the price of a Tavily credit (default 0.008)" },
	{ OPT_BATCH, "batch", 0, "N", "commit the ledger every N records (default 1000)" },
	{ OPT_BATCH_MS, "batch-ms", 0, "MS", "and every MS milliseconds (default 200)" },
	{ OPT_STRICT, "strict", 0, NULL, "exit 1 when a record carries _error" },
	{ 'q', "quiet", 'q', NULL, "no warnings or summary on stderr" },
	{ 0, NULL, 0, NULL, NULL },
};

static void print_versions(void);

static const struct opt_tool tool = {
	.synopsis = "[--db FILE] [--budget USD] [--gate | --estimate] | --list-prices [PATTERN]",
	.summary = "Price each record's LLM and search usage, keep the ledger, stop at a budget.",
	.options = options,
	.version = print_versions,
};

struct cost_config {
	const char *db_path, *run, *llm_field, *search_field, *into, *pattern;
	const char *price_files[MAX_PRICE_FILES];
	size_t nprice_files;
	bool has_budget, gate, estimate, summary, list, strict, quiet;
	int64_t budget_micro, credit_micro;
	long batch, batch_ms;
};

/* Totals for a model or a backend. */
struct group {
	char name[128];
	unsigned long long records;
	long long prompt, completion, cached;
	int64_t micro;
};

struct cost {
	const struct cost_config *cfg;
	struct prices *prices;
	struct db *db;
	struct ledger *ledger;
	struct strset warned; /* unknown models warned about */
	struct group models[MAX_GROUPS], backends[MAX_GROUPS];
	size_t nmodels, nbackends;
	unsigned long long records, priced, unpriced, over_budget, errors, cached;
	long long unpriced_tokens;
	int64_t total_micro, llm_micro, search_micro;
	int64_t ledger_micro; /* the ledger's total for the budget, as last read */
	struct buf pending, line;
	size_t pending_records;
	char last_provider[64], last_model[128]; /* the last model looked up */
	const struct model_price *last_price;    /* and its price (NULL: none) */
	bool looked_up;
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
	struct opt_state st;
	const char *arg;
	int id;

	opt_init(&st, &tool, argc, argv);
	while ((id = opt_next(&st, &arg)) != OPT_DONE) {
		switch (id) {
		case OPT_DB:
			cfg->db_path = arg;
			break;
		case OPT_BUDGET:
			cfg->has_budget = true;
			cfg->budget_micro = opt_usd("budget", arg);
			break;
		case OPT_GATE:
			cfg->gate = true;
			break;
		case OPT_ESTIMATE:
			cfg->estimate = true;
			break;
		case OPT_SUMMARY:
			cfg->summary = true;
			break;
		case OPT_RUN:
			if (*arg == '\0')
				opt_usage_error(&tool, "--run needs a name");
			cfg->run = arg;
			break;
		case OPT_PRICES:
			if (cfg->nprice_files == MAX_PRICE_FILES)
				opt_usage_error(&tool, "at most %d --prices", MAX_PRICE_FILES);
			cfg->price_files[cfg->nprice_files++] = arg;
			break;
		case OPT_LIST_PRICES:
			cfg->list = true;
			break;
		case OPT_LLM_FIELD:
			cfg->llm_field = arg;
			break;
		case OPT_SEARCH_FIELD:
			cfg->search_field = arg;
			break;
		case OPT_INTO:
			if (*arg == '\0')
				opt_usage_error(&tool, "--into needs a name");
			cfg->into = arg;
			break;
		case OPT_CREDIT_PRICE:
			cfg->credit_micro = opt_usd("credit-price", arg);
			break;
		case OPT_BATCH:
			cfg->batch = (long)opt_uint("batch", arg, 1, 10000000);
			break;
		case OPT_BATCH_MS:
			cfg->batch_ms = (long)opt_uint("batch-ms", arg, 0, 3600000);
			break;
		case OPT_STRICT:
			cfg->strict = true;
			break;
		case 'q':
			cfg->quiet = true;
			break;
		}
	}
	if (cfg->list && st.operand < argc)
		cfg->pattern = argv[st.operand++];
	if (st.operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[st.operand]);
	opt_free(&st);
}

static void
validate_config(struct cost_config *cfg)
{
	const char *env = getenv("JL_DB");

	if (cfg->db_path == NULL && env != NULL && *env != '\0' && !cfg->estimate && !cfg->list)
		cfg->db_path = env;
	if (cfg->gate + cfg->estimate + cfg->list > 1)
		opt_usage_error(&tool, "give one of --gate, --estimate and --list-prices");
	if (cfg->gate && (!cfg->has_budget || cfg->db_path == NULL))
		opt_usage_error(&tool, "--gate needs --budget and --db (the ledger it watches)");
	if (cfg->has_budget && cfg->db_path == NULL)
		opt_usage_error(&tool, "--budget needs --db: the ledger is what the budget counts");
}

/* --- pricing ----------------------------------------------------------------- */

/* What jl-cost reads of a record: members picked while the line is checked. */
struct record_view {
	struct jspan line; /* the record's line as it came in */
	struct jspan error, llm, search, into;
	struct jspan model, provider, usage, dry_run, llm_cached;                 /* in llm */
	struct jspan cost, prompt, completion, cached_tokens, reasoning;          /* in llm.usage */
	struct jspan backend, depth, credits, requests, extracted, search_cached; /* in search */
};

/* The picks that fill a record_view, as jscan_object_pick takes them. */
enum { TOP_PICKS = 4, LLM_PICKS = 5, USAGE_PICKS = 5, SEARCH_PICKS = 6 };
struct record_picks {
	struct jscan_pick top[TOP_PICKS], llm[LLM_PICKS], usage[USAGE_PICKS], search[SEARCH_PICKS];
};

static void
record_picks(const struct cost_config *cfg, struct record_view *v, struct record_picks *rp)
{
	const struct jscan_pick usage[USAGE_PICKS] = {
		{ "cost", &v->cost, NULL, 0 },
		{ "prompt_tokens", &v->prompt, NULL, 0 },
		{ "completion_tokens", &v->completion, NULL, 0 },
		{ "cached_tokens", &v->cached_tokens, NULL, 0 },
		{ "reasoning_tokens", &v->reasoning, NULL, 0 },
	};
	const struct jscan_pick llm[LLM_PICKS] = {
		{ "model", &v->model, NULL, 0 },
		{ "provider", &v->provider, NULL, 0 },
		{ "usage", &v->usage, rp->usage, USAGE_PICKS },
		{ "dry_run", &v->dry_run, NULL, 0 },
		{ "cached", &v->llm_cached, NULL, 0 },
	};
	const struct jscan_pick search[SEARCH_PICKS] = {
		{ "backend", &v->backend, NULL, 0 },
		{ "depth", &v->depth, NULL, 0 },
		{ "credits", &v->credits, NULL, 0 },
		{ "requests", &v->requests, NULL, 0 },
		{ "extracted", &v->extracted, NULL, 0 },
		{ "cached", &v->search_cached, NULL, 0 },
	};
	const struct jscan_pick top[TOP_PICKS] = {
		{ "_error", &v->error, NULL, 0 },
		{ cfg->llm_field, &v->llm, rp->llm, LLM_PICKS },
		{ cfg->search_field, &v->search, rp->search, SEARCH_PICKS },
		{ cfg->into, &v->into, NULL, 0 },
	};

	memcpy(rp->usage, usage, sizeof(usage));
	memcpy(rp->llm, llm, sizeof(llm));
	memcpy(rp->search, search, sizeof(search));
	memcpy(rp->top, top, sizeof(top));
}

/* Whether the record failed upstream: an _error that is not null. */
static bool
view_failed(const struct record_view *v)
{
	return jscan_kind(v->error) != JSCAN_NONE && jscan_kind(v->error) != JSCAN_NULL;
}

/* A number member as jl-cost counts: 0 unless finite and positive. */
static double
count_of(struct jspan v, bool *present)
{
	double n = 0;
	bool number = jscan_number(v, &n);

	if (present != NULL)
		*present = number;
	return number && isfinite(n) && n > 0 ? n : 0;
}

/* What one record costs. */
struct priced {
	char model[128], backend[32];
	long long prompt, completion, cached, reasoning;
	int64_t llm_micro, search_micro;
	bool has_llm, has_search, llm_billed, search_billed, priced, dry_run;
};

static struct group *
group_of(struct group *g, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(g[i].name, name) == 0)
			return &g[i];
	if (*n == MAX_GROUPS)
		return &g[MAX_GROUPS - 1]; /* the last one takes the rest */
	snprintf(g[*n].name, sizeof(g[*n].name), "%s", name);
	return &g[(*n)++];
}

/* Pico-dollars to micro-dollars, rounded half up. */
static int64_t
pico_to_micro(int64_t pico)
{
	return (pico + 500000) / 1000000;
}

static void
price_llm(struct cost *c, const struct record_view *v, struct priced *p)
{
	char provider[64];
	bool reported;
	double cost = count_of(v->cost, &reported);
	const struct model_price *mp;

	p->has_llm = true;
	p->dry_run = jscan_kind(v->dry_run) == JSCAN_TRUE;
	jscan_string(v->model, p->model, sizeof(p->model));
	jscan_string(v->provider, provider, sizeof(provider));
	p->prompt = (long long)count_of(v->prompt, NULL);
	p->completion = (long long)count_of(v->completion, NULL);
	p->cached = (long long)count_of(v->cached_tokens, NULL);
	p->reasoning = (long long)count_of(v->reasoning, NULL);
	if (p->cached > p->prompt)
		p->cached = p->prompt;
	if (p->reasoning > p->completion)
		p->reasoning = p->completion;
	p->llm_billed = jscan_kind(v->llm_cached) != JSCAN_TRUE;
	if (!p->llm_billed) {
		p->priced = true; /* a replay: nothing to pay */
		return;
	}
	if (reported) { /* the provider's own figure wins (OpenRouter's usage.cost) */
		p->llm_micro = llround(cost * 1e6);
		p->priced = true;
		return;
	}
	if (!c->looked_up || strcmp(provider, c->last_provider) != 0 ||
		strcmp(p->model, c->last_model) != 0) {
		/* a run prices one or a few models: look up only when it changes */
		snprintf(c->last_provider, sizeof(c->last_provider), "%s", provider);
		snprintf(c->last_model, sizeof(c->last_model), "%s", p->model);
		c->last_price = prices_find(c->prices, provider, p->model);
		c->looked_up = true;
	}
	if ((mp = c->last_price) == NULL) {
		struct buf name = BUF_INIT;

		buf_puts(&name, provider);
		buf_putc(&name, '/');
		buf_puts(&name, p->model);
		if (strset_add(&c->warned, name.data, name.len)) {
			if (!c->cfg->quiet)
				warn("no price for the model '%s': its records are not priced "
				     "(--prices FILE adds one)",
					buf_cstr(&name));
		}
		buf_free(&name);
		p->priced = false;
		return;
	}
	p->priced = true;
	p->llm_micro = pico_to_micro((p->prompt - p->cached) * mp->input +
		p->cached * (mp->cache_read >= 0 ? mp->cache_read : mp->input) +
		(p->completion - p->reasoning) * mp->output +
		p->reasoning * (mp->reasoning >= 0 ? mp->reasoning : mp->output));
}

static void
price_search(struct cost *c, const struct record_view *v, struct priced *p)
{
	char depth[32];
	bool has_credits;
	double credits = count_of(v->credits, &has_credits);
	double requests = count_of(v->requests, NULL);
	double extracted = count_of(v->extracted, NULL);
	int64_t each;

	p->has_search = true;
	jscan_string(v->backend, p->backend, sizeof(p->backend));
	jscan_string(v->depth, depth, sizeof(depth));
	p->search_billed = jscan_kind(v->search_cached) != JSCAN_TRUE && requests > 0;
	if (!p->search_billed)
		return;
	if (strcmp(p->backend, "tavily") == 0 && has_credits) {
		p->search_micro = llround(credits * (double)c->cfg->credit_micro);
		return;
	}
	if ((each = search_price(p->backend, depth, c->cfg->credit_micro)) < 0) {
		p->priced = false;
		return;
	}
	p->search_micro = each * (int64_t)(extracted > 0 ? requests - 1 : requests);
	if (extracted > 0) /* Tavily /extract: a credit per 5 pages (advanced: 2) */
		p->search_micro += ((int64_t)extracted + 4) / 5 *
			(strcmp(depth, "advanced") == 0 ? 2 : 1) * c->cfg->credit_micro;
}

/* --- writing records --------------------------------------------------------------- */

static void
cost_object(struct buf *b, const struct priced *p)
{
	buf_puts(b, "{\"usd\":");
	ledger_usd(b, p->llm_micro + p->search_micro);
	buf_puts(b, ",\"llm_usd\":");
	ledger_usd(b, p->llm_micro);
	buf_puts(b, ",\"search_usd\":");
	ledger_usd(b, p->search_micro);
	buf_puts(b, ",\"model\":");
	if (p->model[0] != '\0')
		jw_cstring(b, p->model);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"prompt_tokens\":");
	buf_add_uint(b, (unsigned long long)p->prompt);
	buf_puts(b, ",\"completion_tokens\":");
	buf_add_uint(b, (unsigned long long)p->completion);
	buf_puts(b, ",\"cached_tokens\":");
	buf_add_uint(b, (unsigned long long)p->cached);
	buf_puts(b, p->priced ? ",\"priced\":true}" : ",\"priced\":false}");
}

/*
 * Append to `to` the record text[0..len) (one JSON object) with the member
 * name: value (JSON text) as its last member and a newline. present says
 * the record has a member name already: it is dropped (every copy of it).
 */
static void
splice(struct buf *to, const char *text, size_t len, bool present, const char *name,
	const char *value, size_t value_len)
{
	size_t end = len;

	while (end > 0 && text[end - 1] != '}')
		end--;
	if (present) {
		struct jspan obj = { text, end }, key, member;
		struct jscan_iter it;
		bool first = true;

		while (*obj.p != '{') {
			obj.p++;
			obj.n--;
		}
		buf_putc(to, '{');
		jscan_iter_init(&it, obj);
		while (jscan_next(&it, &key, &member)) {
			if (jscan_key_is(key, name))
				continue;
			if (!first)
				buf_putc(to, ',');
			first = false;
			buf_add(to, key.p - 1, (size_t)(member.p + member.n - (key.p - 1)));
		}
		if (!first)
			buf_putc(to, ',');
	} else {
		buf_add(to, text, end - 1);
		for (size_t i = end - 1; i-- > 0;) {
			if (text[i] == '{')
				break;
			if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' &&
				text[i] != '\n') {
				buf_putc(to, ',');
				break;
			}
		}
	}
	jw_cstring(to, name);
	buf_putc(to, ':');
	buf_add(to, value, value_len);
	buf_puts(to, "}\n");
}

/* The record text[0..len) with _error budget_exceeded (over a null _error when error_present). */
static void
budget_error(struct buf *to, const char *text, size_t len, bool error_present, const struct cost *c)
{
	struct buf e = BUF_INIT;

	buf_puts(&e,
		"{\"tool\":\"jl-cost\",\"code\":\"budget_exceeded\",\"message\":\"the ledger "
		"total $");
	ledger_usd(&e, c->ledger_micro);
	buf_puts(&e, " reached the budget $");
	ledger_usd(&e, c->cfg->budget_micro);
	buf_puts(&e, "\"}");
	splice(to, text, len, error_present, "_error", e.data, e.len);
	buf_free(&e);
}

/* --- the loop -------------------------------------------------------------------- */

static void
release(struct cost *c)
{
	if (c->db != NULL && db_in_transaction(c->db) && ledger_commit(c->ledger) != 0)
		exit(EXIT_IOERR);
	out_write(c->pending.data, c->pending.len);
	buf_reset(&c->pending);
	c->pending_records = 0;
}

static void
refresh_total(struct cost *c)
{
	if (c->ledger != NULL &&
		(c->ledger_micro = ledger_total(c->ledger, c->cfg->run ? c->cfg->run : "")) < 0)
		exit(EXIT_IOERR);
}

static void
count_record(struct cost *c, const struct priced *p)
{
	struct group *g;

	c->records++;
	if (!p->priced) {
		c->unpriced++;
		c->unpriced_tokens += p->prompt + p->completion;
	} else {
		c->priced++;
	}
	if (p->has_llm && !p->llm_billed)
		c->cached++;
	c->llm_micro += p->llm_micro;
	c->search_micro += p->search_micro;
	c->total_micro += p->llm_micro + p->search_micro;
	if (p->has_llm) {
		g = group_of(c->models, &c->nmodels, p->model[0] ? p->model : "?");
		g->records++;
		g->prompt += p->prompt;
		g->completion += p->completion;
		g->cached += p->cached;
		g->micro += p->llm_micro;
	}
	if (p->has_search) {
		g = group_of(c->backends, &c->nbackends, p->backend[0] ? p->backend : "?");
		g->records++;
		g->micro += p->search_micro;
	}
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
		p->backend, p->prompt, p->completion, p->cached, p->llm_micro, p->search_micro };

	for (int i = 15; i >= 0; i--, hash >>= 4)
		record_hash[i] = hex[hash & 15];
	record_hash[16] = '\0';
	if (ledger_add(c->ledger, &row) != 0)
		exit(EXIT_IOERR);
	c->ledger_micro += p->llm_micro + p->search_micro;
}

/*
 * Price the record text[0..len) (v: its members) into the ledger and the
 * output. A failed record (_error) is billed for the usage it carries (the
 * search of a record whose model call failed was paid) but keeps its error.
 */
static void
cost_record(struct cost *c, const char *text, size_t len, const struct record_view *v, bool failed)
{
	const struct cost_config *cfg = c->cfg;
	struct priced p = { .priced = true };
	bool billed, over;

	if (jscan_kind(v->llm) == JSCAN_OBJECT)
		price_llm(c, v, &p);
	if (jscan_kind(v->search) == JSCAN_OBJECT)
		price_search(c, v, &p);
	count_record(c, &p);
	if (cfg->estimate)
		return;
	billed = c->ledger != NULL && !p.dry_run && p.llm_micro + p.search_micro > 0;
	if (billed)
		begin_batch(c);
	over = !failed && cfg->has_budget && c->ledger_micro >= cfg->budget_micro;
	if (billed)
		bill(c, &p, v->line);
	buf_reset(&c->line);
	cost_object(&c->line, &p);
	if (over) {
		struct buf with_cost = BUF_INIT;

		c->over_budget++;
		splice(&with_cost, text, len, v->into.n > 0, cfg->into, c->line.data, c->line.len);
		budget_error(&c->pending, with_cost.data, with_cost.len - 1, v->error.n > 0, c);
		buf_free(&with_cost);
	} else {
		splice(&c->pending, text, len, v->into.n > 0, cfg->into, c->line.data, c->line.len);
	}
	c->pending_records++;
}

/* Whether a failed record (v: its members) carries usage to bill, and no price yet. */
static bool
has_usage(const struct record_view *v)
{
	return (jscan_kind(v->llm) == JSCAN_OBJECT || jscan_kind(v->search) == JSCAN_OBJECT) &&
		jscan_kind(v->into) != JSCAN_OBJECT;
}

static void
gate_record(struct cost *c, const char *text, size_t len, const struct record_view *v)
{
	refresh_total(c);
	c->records++;
	if (c->ledger_micro >= c->cfg->budget_micro) {
		c->over_budget++;
		budget_error(&c->pending, text, len, v->error.n > 0, c);
	} else {
		buf_add(&c->pending, text, len);
		buf_putc(&c->pending, '\n');
	}
	c->pending_records++;
}

static void
run_records(struct cost *c)
{
	const struct cost_config *cfg = c->cfg;
	struct input in;
	struct jsonl_reader r;
	enum jsonl_status st;
	struct buf canonical = BUF_INIT;
	double last = clock_ms();
	struct record_view v;
	struct record_picks picks;
	jv rec;

	if (input_open(&in, "-") != 0)
		die(EXIT_NOINPUT, "cannot read stdin:");
	jsonl_init(&r, &in, JSONL_MAX_LINE);
	jsonl_set_nonblocking(&r, true);
	record_picks(cfg, &v, &picks);
	while ((st = jsonl_next_lazy(&r, &rec, picks.top, TOP_PICKS)) != JSONL_EOF) {
		const char *text;
		size_t len;
		bool failed;

		if (st == JSONL_IOERR)
			die(EXIT_IOERR, "cannot read stdin:");
		if (st == JSONL_AGAIN) {
			struct pollfd pfd = { .fd = in.fd, .events = POLLIN };

			release(c);
			out_flush();
			poll(&pfd, 1, -1);
			continue;
		}
		if (jv_is_valid(rec)) { /* a bad line's error record, or a line only jq takes */
			jv dump = jv_dump_string(rec, 0);

			buf_reset(&canonical);
			buf_add(&canonical, jv_string_value(dump),
				(size_t)jv_string_length_bytes(jv_copy(dump)));
			jv_free(dump);
			text = canonical.data;
			len = canonical.len;
			jscan_object_pick(text, len, picks.top, TOP_PICKS);
		} else {
			jv_free(rec);
			text = jsonl_line(&r, &len);
		}
		v.line.p = jsonl_line(&r, &v.line.n);
		failed = st == JSONL_BAD || view_failed(&v);
		if (failed) /* failed before: passed on as it is, unless it carries usage */
			c->errors++;
		if (failed && (st == JSONL_BAD || cfg->estimate || cfg->gate || !has_usage(&v))) {
			if (!cfg->estimate) {
				buf_add(&c->pending, text, len);
				buf_putc(&c->pending, '\n');
				c->pending_records++;
			}
			continue;
		}
		if (cfg->gate)
			gate_record(c, text, len, &v);
		else
			cost_record(c, text, len, &v, failed);
		if (c->pending_records >= (size_t)cfg->batch ||
			clock_ms() - last >= (double)cfg->batch_ms) {
			release(c);
			last = clock_ms();
		}
	}
	release(c);
	buf_free(&canonical);
	jsonl_free(&r);
	input_close(&in);
}

/* --- output ---------------------------------------------------------------------- */

static void
print_groups(FILE *f, const char *what, const struct group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f,
			"  %-8s %-40s %8llu records %12lld in %10lld out  $%" PRId64 ".%06" PRId64
			"\n",
			what, g[i].name, g[i].records, g[i].prompt, g[i].completion,
			g[i].micro / 1000000, g[i].micro % 1000000);
}

static void
print_summary(const struct cost *c, FILE *f, const char *title)
{
	fprintf(f,
		"%s%llu records, $%" PRId64 ".%06" PRId64 " (LLM $%" PRId64 ".%06" PRId64
		", search $%" PRId64 ".%06" PRId64 ")",
		title, c->records, c->total_micro / 1000000, c->total_micro % 1000000,
		c->llm_micro / 1000000, c->llm_micro % 1000000, c->search_micro / 1000000,
		c->search_micro % 1000000);
	if (c->unpriced > 0)
		fprintf(f, "; %llu records (%lld tokens) unpriced", c->unpriced,
			c->unpriced_tokens);
	if (c->cached > 0)
		fprintf(f, "; %llu cached replays not billed", c->cached);
	fputc('\n', f);
	if (c->cfg->summary || c->cfg->estimate) {
		print_groups(f, "model", c->models, c->nmodels);
		print_groups(f, "backend", c->backends, c->nbackends);
	}
}

static void
list_one(const struct model_price *mp, void *arg)
{
	struct buf *b = arg;
	char line[512];

	snprintf(line, sizeof(line), "%-56s %-12s in %9.4f out %9.4f cached %9s  (%s)\n", mp->name,
		mp->provider, (double)mp->input / 1e6, (double)mp->output / 1e6,
		mp->cache_read >= 0 ? "" : "as in", mp->source);
	if (mp->cache_read >= 0) {
		char cached[16];

		snprintf(cached, sizeof(cached), "%9.4f", (double)mp->cache_read / 1e6);
		memcpy(strstr(line, "cached ") + 7, cached, 9);
	}
	buf_puts(b, line);
}

int
main(int argc, char *argv[])
{
	struct cost_config cfg = {
		.llm_field = "llm",
		.search_field = "search",
		.into = "cost",
		.credit_micro = 8000,
		.batch = 1000,
		.batch_ms = 200,
	};
	struct cost c = { .cfg = &cfg };
	struct buf err = BUF_INIT;
	int code = 0, rc = EXIT_OK;

	tool_init(argv[0]);
	parse_options(&cfg, argc, argv);
	validate_config(&cfg);
	c.prices = prices_new();
	for (size_t i = 0; i < cfg.nprice_files; i++)
		if (prices_load(c.prices, cfg.price_files[i], &err) != 0)
			die(EXIT_CONFIG, "bad price file %s", buf_cstr(&err));
	out_init();
	if (cfg.list) {
		struct buf list = BUF_INIT;

		buf_puts(&list, "# USD per million tokens; built-in prices of " PRICES_DATE "\n");
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
	run_records(&c);
	if (cfg.estimate) {
		out_flush();
		print_summary(&c, stdout, "[ESTIMATE] ");
		if (fflush(stdout) != 0)
			die(EXIT_IOERR, "cannot write the estimate:");
	} else if (!cfg.quiet) {
		fputs("jl-cost: ", stderr);
		print_summary(&c, stderr, "");
		if (cfg.has_budget)
			fprintf(stderr,
				"jl-cost: the ledger holds $%" PRId64 ".%06" PRId64
				" of the budget $%" PRId64 ".%06" PRId64 "\n",
				c.ledger_micro / 1000000, c.ledger_micro % 1000000,
				cfg.budget_micro / 1000000, cfg.budget_micro % 1000000);
	}
	if (c.over_budget > 0) {
		if (!cfg.quiet)
			warn("%llu records over the budget left with _error budget_exceeded; rerun "
			     "with a higher --budget to go on",
				c.over_budget);
		rc = EXIT_TEMPFAIL;
	} else if (cfg.strict && c.errors > 0) {
		rc = EXIT_FAILURE;
	}
	ledger_close(c.ledger);
	if (c.db != NULL && db_close(c.db) != 0 && rc == EXIT_OK)
		rc = EXIT_IOERR;
	prices_free(c.prices);
	strset_free(&c.warned);
	buf_free(&c.pending);
	buf_free(&c.line);
	buf_free(&err);
	return out_close(rc);
}
