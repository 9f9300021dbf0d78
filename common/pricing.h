/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pricing, without I/O (jl-cost's, and jl-llm --batch's estimate for
 * --budget): what the usage in a record's .llm and
 * .search costs (struct priced), the .cost object written for it, and the
 * totals by model and by backend. The record loop reads each record in
 * place into a struct record_view (jscan picks, record_picks), calls
 * price_record, then writes cost_object and bills the ledger.
 *
 * A batch answer (.llm.batch true) pays the model's batch prices, or its
 * provider's batch discount (batch_percent); prompt tokens written to the
 * cache (.llm.usage.cache_write_tokens, part of prompt_tokens) pay the
 * cache-write price, or the provider's rule (cache_write_quarters).
 *
 * Amounts are exact integer pico-dollars (ledger.h): a record costs at
 * most $9,223,372.036854775807, and what would cost more, or has a token
 * count of 2^53 or more (past what jq reads exactly), is flagged overflow
 * instead of priced. A usage member that is not a count (a string, an
 * object, a negative or fractional number) leaves its part unpriced, with
 * a warning once per member and reason.
 */
#ifndef JL_PRICING_H
#define JL_PRICING_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "jscan.h"
#include "ledger.h"
#include "prices.h"
#include "strset.h"

/* What jl-cost reads of a record: members picked while the line is checked. */
struct record_view {
	struct jspan line; /* the record's line as it came in */
	struct jspan error, llm, search, into;
	struct jspan model, provider, usage, dry_run, llm_cached;                 /* in llm */
	struct jspan cost, prompt, completion, cached_tokens, reasoning;          /* in llm.usage */
	struct jspan backend, depth, credits, requests, extracted, search_cached; /* in search */
	struct jspan batch;       /* .llm.batch: a provider's batch answer */
	struct jspan cache_write; /* .llm.usage.cache_write_tokens, part of prompt_tokens */
};

/* The picks that fill a record_view, as jscan_object_pick takes them (top: TOP_PICKS). */
enum { TOP_PICKS = 4, LLM_PICKS = 6, USAGE_PICKS = 6, SEARCH_PICKS = 6 };
struct record_picks {
	struct jscan_pick top[TOP_PICKS], llm[LLM_PICKS], usage[USAGE_PICKS], search[SEARCH_PICKS];
};

/*
 * Fill rp with the picks that fill v: _error and the members llm_field,
 * search_field and into (borrowed names), with the usage members below.
 */
void record_picks(struct record_picks *rp, struct record_view *v, const char *llm_field,
	const char *search_field, const char *into);

/* What prices records: the table, the settings, what was warned about. */
struct pricer {
	const struct prices *prices;             /* borrowed */
	const char *llm_field, *search_field;    /* for warnings; borrowed */
	int64_t credit_micro;                    /* a Tavily credit */
	bool quiet;                              /* no warnings */
	struct strset warned_models;             /* provider/model without a price */
	struct strset warned_members;            /* member and reason not a count */
	struct strset warned_batch;              /* providers without a batch price */
	char last_provider[64], last_model[128]; /* the last model looked up */
	const struct model_price *last_price;    /* and its price (NULL: none) */
	bool looked_up;
};

/*
 * Start pr on prices (borrowed, outlives pr); credit_micro is the price of
 * a Tavily credit in micro-dollars (opt_usd).
 */
void pricer_init(struct pricer *pr, const struct prices *prices, int64_t credit_micro,
	const char *llm_field, const char *search_field, bool quiet);
void pricer_free(struct pricer *pr);

/* What one record costs. */
struct priced {
	char model[128], backend[32];
	int64_t prompt, completion, cached, reasoning; /* tokens, each below 2^53 */
	int64_t llm_pico, search_pico;  /* not negative; their sum fits unless overflow */
	bool has_llm, has_search;       /* the record has the member (an object) */
	bool llm_billed, search_billed; /* not a cached replay (search: requests > 0) */
	bool priced;                    /* every part it has is priced */
	bool dry_run;                   /* .llm.dry_run: priced, never billed */
	const char *overflow; /* NULL, or why the record cannot be priced (cost_overflow) */
	int64_t cache_write;  /* prompt tokens written to the cache (below prompt - cached) */
	bool batch;           /* .llm.batch: priced at the batch prices */
};

/*
 * Price the usage v holds into p (all of it set). lineno is the record's
 * input line, for the warnings (unknown model, a member not a count, a
 * batch answer of a provider without a batch price, once each).
 */
void price_record(struct pricer *pr, const struct record_view *v, unsigned long lineno,
	struct priced *p);

/*
 * What prompt and completion tokens of model (jl-llm's provider and model
 * names) cost, as a batch answer when batch: the estimate of requests not
 * yet sent. Returns 0 with *pico set, or -1 when the model has no price or
 * the amount passes an int64_t.
 */
int price_tokens(struct pricer *pr, const char *provider, const char *model, int64_t prompt,
	int64_t completion, bool batch, int64_t *pico);

/* What p bills in all, in pico-dollars (p->overflow NULL). */
static inline int64_t
priced_pico(const struct priced *p)
{
	return p->llm_pico + p->search_pico;
}

/*
 * Append the .cost object of p (p->overflow NULL) to b: cache_write_tokens
 * and "batch": true only where the record has them.
 */
void cost_object(struct buf *b, const struct priced *p);

/* Totals for a model or a backend. */
struct cost_group {
	char name[128];
	unsigned long long records;
	ledger_count prompt, completion, cached;
	ledger_sum pico;
	ledger_count cache_write; /* prompt tokens written to the cache */
	unsigned long long batch; /* records that were batch answers */
	ledger_sum batch_pico;    /* and what they cost */
};

/* Groups kept; past that, the last one takes the rest. */
#define COST_MAX_GROUPS 256

/* The totals of the records priced: exact, whatever their number. */
struct cost_totals {
	struct cost_group models[COST_MAX_GROUPS], backends[COST_MAX_GROUPS];
	size_t nmodels, nbackends;
	unsigned long long records, priced, unpriced, cached, overflow;
	ledger_count unpriced_tokens;
	ledger_sum total_pico, llm_pico, search_pico;
	unsigned long long batch; /* batch answers priced */
	ledger_sum batch_pico;    /* and their LLM cost */
	ledger_count cache_write; /* prompt tokens written to the cache */
};

/* Count p into t (t zeroed to start). */
void cost_totals_add(struct cost_totals *t, const struct priced *p);

/*
 * A JSON number's text v (non-negative USD, such as 0.0123 or 1.5e-7) as
 * pico-dollars, read exactly from its digits and rounded half up to the
 * pico-dollar. Returns 0, 1 when v is not such a number (negative, not a
 * number), 2 when it passes $9,223,372.036854775807.
 */
int usd_pico(struct jspan v, int64_t *pico);

#endif
