/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "pricing.h"
#include "util.h"

/* Counts are read as jq reads numbers, as doubles: exact below 2^53. */
#define COUNT_LIMIT 9007199254740992.0

/* Why a priced record overflows (the message of its cost_overflow). */
static const char huge_count[] = "a token or request count of 2^53 or more";
static const char huge_amount[] = "it would cost more than $9223372.036854775807";

void
record_picks(struct record_picks *rp, struct record_view *v, const char *llm_field,
	const char *search_field, const char *into)
{
	const struct jscan_pick usage[USAGE_PICKS] = {
		{ "cost", &v->cost, NULL, 0 },
		{ "prompt_tokens", &v->prompt, NULL, 0 },
		{ "completion_tokens", &v->completion, NULL, 0 },
		{ "cached_tokens", &v->cached_tokens, NULL, 0 },
		{ "reasoning_tokens", &v->reasoning, NULL, 0 },
		{ "cache_write_tokens", &v->cache_write, NULL, 0 },
	};
	const struct jscan_pick llm[LLM_PICKS] = {
		{ "model", &v->model, NULL, 0 },
		{ "provider", &v->provider, NULL, 0 },
		{ "usage", &v->usage, rp->usage, USAGE_PICKS },
		{ "dry_run", &v->dry_run, NULL, 0 },
		{ "cached", &v->llm_cached, NULL, 0 },
		{ "batch", &v->batch, NULL, 0 },
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
		{ llm_field, &v->llm, rp->llm, LLM_PICKS },
		{ search_field, &v->search, rp->search, SEARCH_PICKS },
		{ into, &v->into, NULL, 0 },
	};

	memcpy(rp->usage, usage, sizeof(usage));
	memcpy(rp->llm, llm, sizeof(llm));
	memcpy(rp->search, search, sizeof(search));
	memcpy(rp->top, top, sizeof(top));
}

void
pricer_init(struct pricer *pr, const struct prices *prices, int64_t credit_micro,
	const char *llm_field, const char *search_field, bool quiet)
{
	memset(pr, 0, sizeof(*pr));
	pr->prices = prices;
	pr->credit_micro = credit_micro;
	pr->llm_field = llm_field;
	pr->search_field = search_field;
	pr->quiet = quiet;
}

void
pricer_free(struct pricer *pr)
{
	strset_free(&pr->warned_models);
	strset_free(&pr->warned_members);
	strset_free(&pr->warned_batch);
}

/* --- reading counts and amounts -------------------------------------------------- */

enum { READ_OK, READ_BAD, READ_HUGE };

/* What the value v is, for a warning that it is not the number it should be. */
static const char *
kind_name(struct jspan v)
{
	switch (jscan_kind(v)) {
	case JSCAN_STRING:
		return "a string";
	case JSCAN_OBJECT:
		return "an object";
	case JSCAN_ARRAY:
		return "an array";
	case JSCAN_NUMBER:
		return "negative";
	default:
		return "a boolean";
	}
}

/*
 * A count member v: absent or null is 0; a whole number from 0 to 2^53
 * (excluded) is itself; a larger one READ_HUGE; anything else READ_BAD
 * with *why saying what it is.
 */
static int
count_of(struct jspan v, int64_t *out, const char **why)
{
	double n = 0;
	uint64_t small = 0;
	size_t i;

	for (i = 0; i < v.n && i < 15 && v.p[i] >= '0' && v.p[i] <= '9'; i++)
		small = small * 10 + (uint64_t)(v.p[i] - '0');
	*out = (int64_t)small;
	if (i == v.n && i > 0) /* the usual: digits, fewer than 2^53 */
		return READ_OK;
	*out = 0;
	if (jscan_kind(v) == JSCAN_NONE || jscan_kind(v) == JSCAN_NULL)
		return READ_OK;
	if (!jscan_number(v, &n) || !(n >= 0)) {
		*why = kind_name(v);
		return READ_BAD;
	}
	if (n >= COUNT_LIMIT)
		return READ_HUGE;
	*out = (int64_t)n;
	if ((double)*out != n) {
		*out = 0;
		*why = "not a whole number";
		return READ_BAD;
	}
	return READ_OK;
}

int
usd_pico(struct jspan v, int64_t *pico)
{
	const char *s = v.p, *end = v.p + v.n, *ints, *fracs;
	size_t nints, nfracs, n, keep;
	long scale, exp10 = 0;
	bool negative = false, exp_negative = false, nonzero = false;
	uint64_t acc = 0;
	int round = 0;

	if (jscan_kind(v) != JSCAN_NUMBER)
		return READ_BAD;
	if (s < end && *s == '-') {
		negative = true;
		s++;
	}
	for (ints = s; s < end && *s >= '0' && *s <= '9'; s++)
		;
	nints = (size_t)(s - ints);
	fracs = s;
	if (s < end && *s == '.')
		for (fracs = ++s; s < end && *s >= '0' && *s <= '9'; s++)
			;
	nfracs = (size_t)(s - fracs);
	if (s < end && (*s == 'e' || *s == 'E')) {
		if (++s < end && (*s == '+' || *s == '-'))
			exp_negative = *s++ == '-';
		for (; s < end && *s >= '0' && *s <= '9'; s++)
			if (exp10 < 1000000) /* far past any amount; keeps the sum in range */
				exp10 = exp10 * 10 + (*s - '0');
	}
	if (s != end || nints == 0)
		return READ_BAD;
	/* the value is the digits (ints, then fracs) times 10^scale pico-dollars */
	scale = 12 + (exp_negative ? -exp10 : exp10) - (long)nfracs;
	n = nints + nfracs;
	keep = scale >= 0 ? n : (long)n + scale > 0 ? (size_t)((long)n + scale) : 0;
	for (size_t k = 0; k < n; k++) {
		int d = (k < nints ? ints[k] : fracs[k - nints]) - '0';

		nonzero = nonzero || d != 0;
		if (k < keep) {
			if (acc > ((uint64_t)INT64_MAX - (uint64_t)d) / 10)
				return READ_HUGE;
			acc = acc * 10 + (uint64_t)d;
		} else if (k == keep && (long)n + scale >= 0) {
			round = d >= 5; /* half up: the first digit dropped decides */
		}
	}
	for (long i = 0; i < scale && acc != 0; i++) {
		if (acc > (uint64_t)INT64_MAX / 10)
			return READ_HUGE;
		acc *= 10;
	}
	if (negative && nonzero)
		return READ_BAD;
	if (acc + (uint64_t)round > (uint64_t)INT64_MAX)
		return READ_HUGE;
	*pico = (int64_t)(acc + (uint64_t)round);
	return READ_OK;
}

/*
 * Warn (once per member and reason) that the member name of the record's
 * field (.llm.usage, .search) at lineno is not a count: its part is not priced.
 */
static void
warn_member(struct pricer *pr, unsigned long lineno, const char *field, const char *name,
	const char *why, const char *what)
{
	struct buf key = BUF_INIT;

	buf_putc(&key, '.');
	buf_puts(&key, field);
	buf_putc(&key, '.');
	buf_puts(&key, name);
	buf_putc(&key, ' ');
	buf_puts(&key, why);
	if (strset_add(&pr->warned_members, key.data, key.len) && !pr->quiet) {
		key.len -= strlen(why) + 1;
		warn("line %lu: %s is %s, not %s: the record's %s is not priced (said once for "
		     "each member and reason)",
			lineno, buf_cstr(&key), why,
			strcmp(name, "usage.cost") == 0 ? "an amount in USD" : "a count", what);
	}
	buf_free(&key);
}

/* Read the count members spans[0..n) named names[] of field into counts[]. */
static bool
read_counts(struct pricer *pr, unsigned long lineno, const char *field, const char *what,
	const struct jspan *spans, const char *const *names, int64_t *const *counts, size_t n,
	struct priced *p)
{
	bool counted = true;

	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;

		switch (count_of(spans[i], counts[i], &why)) {
		case READ_HUGE:
			p->overflow = huge_count;
			break;
		case READ_BAD:
			warn_member(pr, lineno, field, names[i], why, what);
			counted = false;
			break;
		default:
			break;
		}
	}
	return counted;
}

/* --- pricing ------------------------------------------------------------------------- */

/* The price of the model of provider, looked up only when it changes (a run has a few). */
static const struct model_price *
lookup(struct pricer *pr, const char *provider, const char *model)
{
	if (!pr->looked_up || strcmp(provider, pr->last_provider) != 0 ||
		strcmp(model, pr->last_model) != 0) {
		snprintf(pr->last_provider, sizeof(pr->last_provider), "%s", provider);
		snprintf(pr->last_model, sizeof(pr->last_model), "%s", model);
		pr->last_price = prices_find(pr->prices, provider, model);
		pr->looked_up = true;
	}
	return pr->last_price;
}

/* Amounts are summed in 1/AMOUNT_DIV pico-dollars: 50%, 75% and 1.25x of a price are exact. */
#define AMOUNT_DIV 400

/*
 * The tokens of p at the prices of mp, exactly, rounded half up to the
 * pico-dollar; false when it passes an int64_t. provider (LiteLLM's name)
 * gives the rules for a price mp lacks: a cache write costs
 * cache_write_quarters of the input price; a batch answer (p->batch) pays
 * mp's batch prices, and percent (batch_percent, or 100 when there is
 * none) of each price mp has no batch price for.
 */
static bool
llm_amount(const struct model_price *mp, const struct priced *p, const char *provider, int percent,
	int64_t *out)
{
	/* each price with its multiplier, in 1/AMOUNT_DIV */
	int64_t on_demand = p->batch ? (int64_t)percent * AMOUNT_DIV / 100 : AMOUNT_DIV;
	bool batch_in = p->batch && mp->batch_input >= 0,
	     batch_out = p->batch && mp->batch_output >= 0;
	int64_t in = batch_in ? mp->batch_input : mp->input,
		in_x = batch_in ? AMOUNT_DIV : on_demand;
	int64_t out_price = batch_out ? mp->batch_output : mp->output;
	int64_t out_x = batch_out ? AMOUNT_DIV : on_demand;
	int64_t read = mp->cache_read >= 0 ? mp->cache_read : in;
	int64_t read_x = mp->cache_read >= 0 ? on_demand : in_x;
	int64_t write = mp->cache_write >= 0 ? mp->cache_write : in;
	int64_t write_x =
		mp->cache_write >= 0 ? on_demand : in_x * cache_write_quarters(provider) / 4;
	int64_t reason = mp->reasoning >= 0 ? mp->reasoning : out_price;
	int64_t reason_x = mp->reasoning >= 0 ? on_demand : out_x;
	/*
	 * counts below 2^53 times prices below 2^40 (a dollar a token) times
	 * multipliers below 2^9: each term below 2^102, no 128-bit overflow
	 */
	ledger_sum sum = (ledger_sum)(p->prompt - p->cached - p->cache_write) * in * in_x +
		(ledger_sum)p->cached * read * read_x +
		(ledger_sum)p->cache_write * write * write_x +
		(ledger_sum)(p->completion - p->reasoning) * out_price * out_x +
		(ledger_sum)p->reasoning * reason * reason_x;
	ledger_sum pico = (sum + AMOUNT_DIV / 2) / AMOUNT_DIV;

	if (pico > INT64_MAX)
		return false;
	*out = (int64_t)pico;
	return true;
}

/*
 * The percent of the on-demand prices that a batch answer of provider pays
 * for what mp has no batch price for: batch_percent, or 100 with a warning
 * (once per provider) when the provider has no batch discount jl-cost knows.
 */
static int
batch_share(struct pricer *pr, const struct model_price *mp, const char *provider,
	unsigned long lineno)
{
	int percent = batch_percent(provider);

	if (percent >= 0)
		return percent;
	if ((mp->batch_input < 0 || mp->batch_output < 0) && (mp->input > 0 || mp->output > 0) &&
		strset_add(&pr->warned_batch, provider, strlen(provider)) && !pr->quiet)
		warn("line %lu: a batch answer of '%s', which has no batch price here and no batch "
		     "discount jl-cost knows: priced as on demand (said once for each provider; "
		     "--prices FILE with input_cost_per_token_batches adds one)",
			lineno, provider);
	return 100;
}

static void
price_llm(struct pricer *pr, const struct record_view *v, unsigned long lineno, struct priced *p)
{
	static const char *const names[] = { "usage.prompt_tokens", "usage.completion_tokens",
		"usage.cached_tokens", "usage.reasoning_tokens", "usage.cache_write_tokens" };
	const struct jspan spans[] = { v->prompt, v->completion, v->cached_tokens, v->reasoning,
		v->cache_write };
	int64_t *const counts[] = { &p->prompt, &p->completion, &p->cached, &p->reasoning,
		&p->cache_write };
	char provider[64];
	const struct model_price *mp;
	bool counted;

	p->has_llm = true;
	p->dry_run = jscan_kind(v->dry_run) == JSCAN_TRUE;
	p->llm_billed = jscan_kind(v->llm_cached) != JSCAN_TRUE;
	p->batch = jscan_kind(v->batch) == JSCAN_TRUE;
	jscan_string(v->model, p->model, sizeof(p->model));
	jscan_string(v->provider, provider, sizeof(provider));
	counted = read_counts(pr, lineno, pr->llm_field, "LLM usage", spans, names, counts, 5, p);
	if (p->cached > p->prompt)
		p->cached = p->prompt;
	if (p->cache_write > p->prompt - p->cached)
		p->cache_write = p->prompt - p->cached;
	if (p->reasoning > p->completion)
		p->reasoning = p->completion;
	if (p->overflow != NULL)
		return;
	if (!counted) {
		p->priced = false;
		return;
	}
	if (!p->llm_billed)
		return; /* a replay: nothing to pay */
	if (jscan_kind(v->cost) != JSCAN_NONE && jscan_kind(v->cost) != JSCAN_NULL) {
		/* the provider's own figure wins (OpenRouter's usage.cost) */
		switch (usd_pico(v->cost, &p->llm_pico)) {
		case READ_HUGE:
			p->overflow = huge_amount;
			break;
		case READ_BAD:
			warn_member(pr, lineno, pr->llm_field, "usage.cost", kind_name(v->cost),
				"LLM usage");
			p->priced = false;
			break;
		default:
			break;
		}
		return;
	}
	if ((mp = lookup(pr, provider, p->model)) == NULL) {
		struct buf name = BUF_INIT;

		buf_puts(&name, provider);
		buf_putc(&name, '/');
		buf_puts(&name, p->model);
		if (strset_add(&pr->warned_models, name.data, name.len) && !pr->quiet)
			warn("no price for the model '%s': its records are not priced "
			     "(--prices FILE adds one)",
				buf_cstr(&name));
		buf_free(&name);
		p->priced = false;
		return;
	}
	if (provider[0] == '\0')
		snprintf(provider, sizeof(provider), "%s", mp->provider);
	if (!llm_amount(mp, p, provider, p->batch ? batch_share(pr, mp, provider, lineno) : 100,
		    &p->llm_pico))
		p->overflow = huge_amount;
}

int
price_tokens(struct pricer *pr, const char *provider, const char *model, int64_t prompt,
	int64_t completion, bool batch, int64_t *pico)
{
	const struct model_price *mp = lookup(pr, provider, model);
	struct priced p = { .prompt = prompt, .completion = completion, .batch = batch };

	if (mp == NULL)
		return -1;
	return llm_amount(mp, &p, provider, batch ? batch_share(pr, mp, provider, 0) : 100, pico)
		? 0
		: -1;
}

static void
price_search(struct pricer *pr, const struct record_view *v, unsigned long lineno, struct priced *p)
{
	static const char *const names[] = { "credits", "requests", "extracted" };
	const struct jspan spans[] = { v->credits, v->requests, v->extracted };
	int64_t credits = 0, requests = 0, extracted = 0, each;
	int64_t *const counts[] = { &credits, &requests, &extracted };
	char depth[32];
	bool counted;
	ledger_sum pico, credit;

	p->has_search = true;
	jscan_string(v->backend, p->backend, sizeof(p->backend));
	jscan_string(v->depth, depth, sizeof(depth));
	counted = read_counts(pr, lineno, pr->search_field, "search usage", spans, names, counts, 3,
		p);
	if (p->overflow != NULL)
		return;
	if (!counted) {
		p->priced = false;
		return;
	}
	p->search_billed = jscan_kind(v->search_cached) != JSCAN_TRUE && requests > 0;
	if (!p->search_billed)
		return;
	credit = ledger_pico(pr->credit_micro);
	if (strcmp(p->backend, "tavily") == 0 && jscan_kind(v->credits) == JSCAN_NUMBER) {
		pico = credits * credit; /* what Tavily says it charged */
	} else if ((each = search_price(p->backend, depth, pr->credit_micro)) < 0) {
		p->priced = false;
		return;
	} else {
		pico = ledger_pico(each) * (extracted > 0 ? requests - 1 : requests);
		if (extracted > 0) /* Tavily /extract: a credit per 5 pages (advanced: 2) */
			pico += (ledger_sum)((extracted + 4) / 5) *
				(strcmp(depth, "advanced") == 0 ? 2 : 1) * credit;
	}
	if (pico > INT64_MAX)
		p->overflow = huge_amount;
	else
		p->search_pico = (int64_t)pico;
}

void
price_record(struct pricer *pr, const struct record_view *v, unsigned long lineno, struct priced *p)
{
	memset(p, 0, sizeof(*p));
	p->priced = true;
	if (jscan_kind(v->llm) == JSCAN_OBJECT)
		price_llm(pr, v, lineno, p);
	if (jscan_kind(v->search) == JSCAN_OBJECT && p->overflow == NULL)
		price_search(pr, v, lineno, p);
	if (p->overflow == NULL && p->llm_pico > INT64_MAX - p->search_pico)
		p->overflow = huge_amount;
	if (p->overflow != NULL) {
		p->priced = false;
		p->llm_pico = p->search_pico = 0;
	}
}

/* --- writing and counting -------------------------------------------------------- */

void
cost_object(struct buf *b, const struct priced *p)
{
	buf_puts(b, "{\"usd\":");
	ledger_usd(b, priced_pico(p));
	buf_puts(b, ",\"llm_usd\":");
	ledger_usd(b, p->llm_pico);
	buf_puts(b, ",\"search_usd\":");
	ledger_usd(b, p->search_pico);
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
	if (p->cache_write > 0) {
		buf_puts(b, ",\"cache_write_tokens\":");
		buf_add_uint(b, (unsigned long long)p->cache_write);
	}
	if (p->batch)
		buf_puts(b, ",\"batch\":true");
	buf_puts(b, p->priced ? ",\"priced\":true}" : ",\"priced\":false}");
}

static struct cost_group *
group_of(struct cost_group *g, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(g[i].name, name) == 0)
			return &g[i];
	if (*n == COST_MAX_GROUPS)
		return &g[COST_MAX_GROUPS - 1]; /* the last one takes the rest */
	snprintf(g[*n].name, sizeof(g[*n].name), "%s", name);
	return &g[(*n)++];
}

void
cost_totals_add(struct cost_totals *t, const struct priced *p)
{
	struct cost_group *g;

	t->records++;
	if (p->overflow != NULL) {
		t->overflow++;
		return;
	}
	if (!p->priced) {
		t->unpriced++;
		t->unpriced_tokens += (ledger_count)p->prompt + (ledger_count)p->completion;
	} else {
		t->priced++;
	}
	if (p->has_llm && !p->llm_billed)
		t->cached++;
	t->llm_pico += p->llm_pico;
	t->search_pico += p->search_pico;
	t->total_pico += priced_pico(p);
	t->cache_write += (ledger_count)p->cache_write;
	if (p->has_llm && p->batch) {
		t->batch++;
		t->batch_pico += p->llm_pico;
	}
	if (p->has_llm) {
		g = group_of(t->models, &t->nmodels, p->model[0] ? p->model : "?");
		g->records++;
		g->prompt += (ledger_count)p->prompt;
		g->completion += (ledger_count)p->completion;
		g->cached += (ledger_count)p->cached;
		g->pico += p->llm_pico;
		g->cache_write += (ledger_count)p->cache_write;
		if (p->batch) {
			g->batch++;
			g->batch_pico += p->llm_pico;
		}
	}
	if (p->has_search) {
		g = group_of(t->backends, &t->nbackends, p->backend[0] ? p->backend : "?");
		g->records++;
		g->pico += p->search_pico;
	}
}
