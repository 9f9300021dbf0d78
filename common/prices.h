/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What jl-cost knows of prices: a built-in table of the common models and
 * search APIs, merged with files in LiteLLM's
 * model_prices_and_context_window.json format. Prices are integer
 * pico-dollars (1e-12 USD) per token or micro-dollars per request, so sums
 * are exact.
 */
#ifndef JL_PRICES_H
#define JL_PRICES_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* The date the built-in prices were taken. */
#define PRICES_DATE "2025-06-01"

struct model_price {
	char *name;           /* LiteLLM's key: "gpt-4o-mini", "groq/llama-3.3-70b-versatile" */
	char *provider;       /* LiteLLM's litellm_provider: "openai", "groq" */
	int64_t input;        /* pico-dollars per uncached prompt token */
	int64_t output;       /* per completion token */
	int64_t cache_read;   /* per cached prompt token (-1: as input) */
	int64_t reasoning;    /* per reasoning token (-1: as output) */
	const char *source;   /* "built-in" or the file it came from */
	int64_t cache_write;  /* per prompt token written to the cache (-1: cache_write_rule) */
	int64_t batch_input;  /* per uncached prompt token of a batch answer (-1: batch_percent) */
	int64_t batch_output; /* per completion token of a batch answer (-1: batch_percent) */
};

/* The date the built-in batch and cache-write prices were read from LiteLLM's file. */
#define PRICES_BATCH_DATE "2026-12-03"

/*
 * The documented batch price of provider (jl-llm's or LiteLLM's name) in
 * percent of its on-demand price, for a model without batch prices: 50 for
 * openai and anthropic, 75 for groq; -1 for a provider with no batch API
 * known to jl-cost (jl-cost(1) lists them).
 */
int batch_percent(const char *provider);

/*
 * What a token written to the prompt cache costs, in quarters of the input
 * price, for a model without a cache-write price: 5 (1.25x) for anthropic,
 * whose 5-minute writes cost that, 4 (the input price) for the others.
 */
int cache_write_quarters(const char *provider);

struct prices;

/* The built-in table. */
struct prices *prices_new(void);
void prices_free(struct prices *p);

/*
 * Merge a LiteLLM-format file over the table (its entries win). A price an
 * entry does not give at its top level is its base tier's: the tier of
 * tiered_pricing whose range starts lowest. Returns 0, or -1 with the file
 * and the reason in err (not JSON, not an object, a price that is not a
 * number).
 */
int prices_load(struct prices *p, const char *path, struct buf *err);

/* The most --prices files a command takes. */
#define PRICES_MAX_FILES 16

/*
 * The built-in table with the n files of LiteLLM's format merged over it
 * in turn (--prices): dies with EXIT_CONFIG naming a bad file and why.
 */
struct prices *prices_with_files(const char *const *files, size_t n);

/*
 * The price of model of provider (as jl-llm writes them: "gpt-4o-mini",
 * "openai"), or NULL: tried as provider/model, then model, then with
 * LiteLLM's provider names (together_ai, ...).
 */
const struct model_price *prices_find(const struct prices *p, const char *provider,
	const char *model);

/* Every model whose name contains pattern (NULL: all), in name order. */
void prices_each(const struct prices *p, const char *pattern,
	void (*fn)(const struct model_price *, void *), void *arg);

/* Micro-dollars per request of a search backend at depth (may be NULL); -1: unknown. */
int64_t search_price(const char *backend, const char *depth, int64_t credit_micro);

#endif
