/* SPDX-License-Identifier: BSD-2-Clause */
#include <jv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "prices.h"
#include "util.h"

/* $ per million tokens, as providers list them, to pico-dollars per token. */
#define PER_M(usd) ((int64_t)llround((usd)*1e6))

/*
 * The built-in table: LiteLLM's keys and litellm_provider, prices in USD per
 * million tokens as LiteLLM's model_prices_and_context_window.json and the
 * providers' pricing pages listed them on PRICES_DATE. -1: no separate price.
 */
static const struct {
	const char *name, *provider;
	double input, output, cache_read, reasoning;
} builtin[] = {
	{ "gpt-4o-mini", "openai", 0.15, 0.60, 0.075, -1 },
	{ "gpt-4o", "openai", 2.50, 10.00, 1.25, -1 },
	{ "gpt-4.1", "openai", 2.00, 8.00, 0.50, -1 },
	{ "gpt-4.1-mini", "openai", 0.40, 1.60, 0.10, -1 },
	{ "gpt-4.1-nano", "openai", 0.10, 0.40, 0.025, -1 },
	{ "o3", "openai", 2.00, 8.00, 0.50, -1 },
	{ "o3-mini", "openai", 1.10, 4.40, 0.55, -1 },
	{ "o4-mini", "openai", 1.10, 4.40, 0.275, -1 },
	{ "gpt-3.5-turbo", "openai", 0.50, 1.50, -1, -1 },
	{ "claude-3-haiku-20240307", "anthropic", 0.25, 1.25, 0.03, -1 },
	{ "claude-3-5-haiku-20241022", "anthropic", 0.80, 4.00, 0.08, -1 },
	{ "claude-3-5-haiku-latest", "anthropic", 0.80, 4.00, 0.08, -1 },
	{ "claude-3-5-sonnet-20241022", "anthropic", 3.00, 15.00, 0.30, -1 },
	{ "claude-3-5-sonnet-latest", "anthropic", 3.00, 15.00, 0.30, -1 },
	{ "claude-3-7-sonnet-20250219", "anthropic", 3.00, 15.00, 0.30, -1 },
	{ "claude-3-7-sonnet-latest", "anthropic", 3.00, 15.00, 0.30, -1 },
	{ "claude-sonnet-4-20250514", "anthropic", 3.00, 15.00, 0.30, -1 },
	{ "claude-opus-4-20250514", "anthropic", 15.00, 75.00, 1.50, -1 },
	{ "groq/llama-3.3-70b-versatile", "groq", 0.59, 0.79, -1, -1 },
	{ "groq/llama-3.1-8b-instant", "groq", 0.05, 0.08, -1, -1 },
	{ "groq/gemma2-9b-it", "groq", 0.20, 0.20, -1, -1 },
	{ "groq/meta-llama/llama-4-scout-17b-16e-instruct", "groq", 0.11, 0.34, -1, -1 },
	{ "groq/qwen/qwen3-32b", "groq", 0.29, 0.59, -1, -1 },
	{ "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "together_ai", 0.88, 0.88, -1,
		-1 },
	{ "together_ai/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "together_ai", 0.18, 0.18, -1,
		-1 },
	{ "together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", "together_ai", 0.88, 0.88, -1,
		-1 },
	{ "together_ai/Qwen/Qwen2.5-72B-Instruct-Turbo", "together_ai", 1.20, 1.20, -1, -1 },
	{ "openrouter/openai/gpt-4o-mini", "openrouter", 0.15, 0.60, 0.075, -1 },
	{ "openrouter/anthropic/claude-3.5-haiku", "openrouter", 0.80, 4.00, 0.08, -1 },
	{ "openrouter/meta-llama/llama-3.3-70b-instruct", "openrouter", 0.13, 0.40, -1, -1 },
	/*
	 * The providers jl-llm added in issue 15, as LiteLLM's file listed them on
	 * 2026-07-24 (the base tier where an entry has tiers, as for gemini-2.5-pro).
	 */
	{ "gemini/gemini-2.0-flash", "gemini", 0.10, 0.40, 0.025, -1 },
	{ "gemini/gemini-2.0-flash-lite", "gemini", 0.075, 0.30, 0.01875, -1 },
	{ "gemini/gemini-2.5-flash", "gemini", 0.30, 2.50, 0.03, 2.50 },
	{ "gemini/gemini-2.5-flash-lite", "gemini", 0.10, 0.40, 0.01, 0.40 },
	{ "gemini/gemini-2.5-pro", "gemini", 1.25, 10.00, 0.125, -1 },
	{ "mistral/mistral-small-latest", "mistral", 0.06, 0.18, -1, -1 },
	{ "mistral/mistral-large-latest", "mistral", 0.50, 1.50, -1, -1 },
	{ "mistral/open-mistral-nemo", "mistral", 0.30, 0.30, -1, -1 },
	{ "mistral/ministral-8b-latest", "mistral", 0.15, 0.15, -1, -1 },
	{ "deepseek/deepseek-chat", "deepseek", 0.28, 0.42, 0.028, -1 },
	{ "deepseek/deepseek-reasoner", "deepseek", 0.28, 0.42, 0.028, -1 },
	{ "xai/grok-3-mini", "xai", 0.30, 0.50, 0.075, -1 },
	{ "xai/grok-3", "xai", 3.00, 15.00, 0.75, -1 },
	{ "xai/grok-4", "xai", 3.00, 15.00, -1, -1 },
	{ "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct", "fireworks_ai", 0.10,
		0.10, -1, -1 },
	{ "fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct", "fireworks_ai", 0.90,
		0.90, -1, -1 },
	{ "fireworks_ai/accounts/fireworks/models/gpt-oss-120b", "fireworks_ai", 0.15, 0.60, 0.015,
		-1 },
	{ "cerebras/llama3.1-8b", "cerebras", 0.10, 0.10, -1, -1 },
	{ "cerebras/llama-3.3-70b", "cerebras", 0.85, 1.20, -1, -1 },
	{ "cerebras/gpt-oss-120b", "cerebras", 0.35, 0.75, -1, -1 },
	{ "azure/gpt-4o-mini", "azure", 0.165, 0.66, 0.075, -1 },
	{ "azure/gpt-4o", "azure", 2.50, 10.00, 1.25, -1 },
	{ "azure/gpt-4.1-mini", "azure", 0.40, 1.60, 0.10, -1 },
	{ "anthropic.claude-3-5-haiku-20241022-v1:0", "bedrock", 0.80, 4.00, 0.08, -1 },
	{ "us.anthropic.claude-3-5-haiku-20241022-v1:0", "bedrock", 0.80, 4.00, 0.08, -1 },
	{ "anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock", 3.00, 15.00, 0.30, -1 },
	{ "anthropic.claude-3-7-sonnet-20250219-v1:0", "bedrock_converse", 3.00, 15.00, 0.30, -1 },
	{ "anthropic.claude-sonnet-4-20250514-v1:0", "bedrock_converse", 3.00, 15.00, 0.30, -1 },
	{ "us.anthropic.claude-sonnet-4-20250514-v1:0", "bedrock_converse", 3.00, 15.00, 0.30, -1 },
	{ "amazon.nova-micro-v1:0", "bedrock_converse", 0.035, 0.14, -1, -1 },
	{ "amazon.nova-lite-v1:0", "bedrock_converse", 0.06, 0.24, -1, -1 },
	{ "amazon.nova-pro-v1:0", "bedrock_converse", 0.80, 3.20, -1, -1 },
};

/*
 * The batch and cache-write prices of built-in models, in USD per million
 * tokens, as LiteLLM's file listed them on PRICES_BATCH_DATE (its
 * input_cost_per_token_batches, output_cost_per_token_batches and
 * cache_creation_input_token_cost). -1: the file has none, and the
 * provider's rule applies (batch_percent, cache_write_quarters). Read
 * from LiteLLM's commit 00035b69f416: gpt-3.5-turbo and the groq/ models
 * above have none of the three; the other models of the table above were
 * not found there that day, so they follow the rules too.
 */
static const struct {
	const char *name;
	double cache_write, batch_input, batch_output;
} builtin_extra[] = {
	{ "gpt-4o-mini", -1, 0.075, 0.30 },
	{ "gpt-4o", -1, 1.25, 5.00 },
	{ "gpt-4.1", -1, 1.00, 4.00 },
	{ "gpt-4.1-mini", -1, 0.20, 0.80 },
	{ "gpt-4.1-nano", -1, 0.05, 0.20 },
	{ "claude-3-haiku-20240307", 0.30, -1, -1 },
	{ "claude-3-7-sonnet-20250219", 3.75, -1, -1 },
	{ "claude-opus-4-20250514", 18.75, -1, -1 },
	{ "us.anthropic.claude-3-5-haiku-20241022-v1:0", 1.00, -1, -1 },
};

/*
 * The providers' batch discounts, as their documentation stated them on
 * PRICES_BATCH_DATE: OpenAI's Batch API and Anthropic's Message Batches
 * cost 50% of the on-demand prices, Groq's Batch API 25% less. Providers
 * not listed have no batch API jl-cost knows of.
 */
static const struct {
	const char *provider;
	int percent;
} batch_discounts[] = {
	{ "openai", 50 },
	{ "anthropic", 50 },
	{ "groq", 75 },
};

int
batch_percent(const char *provider)
{
	for (size_t i = 0; i < sizeof(batch_discounts) / sizeof(*batch_discounts); i++)
		if (provider != NULL && strcmp(provider, batch_discounts[i].provider) == 0)
			return batch_discounts[i].percent;
	return -1;
}

int
cache_write_quarters(const char *provider)
{
	/* Anthropic: a 5-minute cache write costs 1.25 times the input price */
	return provider != NULL && strcmp(provider, "anthropic") == 0 ? 5 : 4;
}

struct prices {
	struct model_price *m;
	size_t n, cap;
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct model_price *)a)->name, ((const struct model_price *)b)->name);
}

static struct model_price *
find_exact(const struct prices *p, const char *name)
{
	struct model_price key = { .name = (char *)name };

	return p->n == 0 ? NULL : bsearch(&key, p->m, p->n, sizeof(*p->m), by_name);
}

/* Add or replace (the table is sorted again by the caller). */
static void
put(struct prices *p, const struct model_price *mp)
{
	struct model_price *old = find_exact(p, mp->name);

	if (old != NULL) {
		free(old->name);
		free(old->provider);
		*old = *mp;
		return;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->m = xreallocarray(p->m, p->cap, sizeof(*p->m));
	}
	p->m[p->n++] = *mp;
	qsort(p->m, p->n, sizeof(*p->m), by_name);
}

struct prices *
prices_new(void)
{
	struct prices *p = xcalloc(1, sizeof(*p));

	for (size_t i = 0; i < sizeof(builtin) / sizeof(*builtin); i++) {
		struct model_price mp = {
			.name = xstrdup(builtin[i].name),
			.provider = xstrdup(builtin[i].provider),
			.input = PER_M(builtin[i].input),
			.output = PER_M(builtin[i].output),
			.cache_read = builtin[i].cache_read < 0 ? -1 : PER_M(builtin[i].cache_read),
			.reasoning = builtin[i].reasoning < 0 ? -1 : PER_M(builtin[i].reasoning),
			.source = "built-in",
			.cache_write = -1,
			.batch_input = -1,
			.batch_output = -1,
		};

		put(p, &mp);
	}
	for (size_t i = 0; i < sizeof(builtin_extra) / sizeof(*builtin_extra); i++) {
		struct model_price *mp = find_exact(p, builtin_extra[i].name);

		if (mp == NULL)
			continue; /* cannot be: every name is one of builtin[] */
		if (builtin_extra[i].cache_write >= 0)
			mp->cache_write = PER_M(builtin_extra[i].cache_write);
		if (builtin_extra[i].batch_input >= 0)
			mp->batch_input = PER_M(builtin_extra[i].batch_input);
		if (builtin_extra[i].batch_output >= 0)
			mp->batch_output = PER_M(builtin_extra[i].batch_output);
	}
	return p;
}

void
prices_free(struct prices *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->m[i].name);
		free(p->m[i].provider);
	}
	free(p->m);
	free(p);
}

/*
 * entry[field] in USD per token as pico-dollars into *out; absent leaves
 * *out. Returns false when the field is there but not a usable number.
 */
static bool
field_price(jv entry, const char *field, int64_t *out)
{
	jv v = jv_object_get(jv_copy(entry), jv_string(field));
	bool ok = true;

	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		double usd = jv_number_value(v);

		if (!(usd >= 0 && usd < 1))
			ok = false;
		else
			*out = llround(usd * 1e12);
	} else if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
		ok = false;
	}
	jv_free(v);
	return ok;
}

/*
 * The base tier of entry's tiered_pricing (an array of objects with
 * "range": [from, to] and the prices of the tokens in it): the tier whose
 * range starts lowest, or the first when none has a range. jv_null() when
 * there is none.
 */
static jv
base_tier(jv entry)
{
	jv tiers = jv_object_get(jv_copy(entry), jv_string("tiered_pricing")), base = jv_null();
	double base_from = 0;

	if (jv_get_kind(tiers) != JV_KIND_ARRAY) {
		jv_free(tiers);
		return base;
	}
	jv_array_foreach(tiers, i, tier)
	{
		jv range = jv_get_kind(tier) == JV_KIND_OBJECT
			? jv_object_get(jv_copy(tier), jv_string("range"))
			: jv_null();
		jv from = jv_get_kind(range) == JV_KIND_ARRAY ? jv_array_get(range, 0)
							      : (jv_free(range), jv_null());
		double at = jv_get_kind(from) == JV_KIND_NUMBER ? jv_number_value(from) : INFINITY;

		jv_free(from);
		if (jv_get_kind(tier) == JV_KIND_OBJECT &&
			(jv_get_kind(base) == JV_KIND_NULL || at < base_from)) {
			jv_free(base);
			base = tier;
			base_from = at;
		} else {
			jv_free(tier);
		}
	}
	jv_free(tiers);
	return base;
}

int
prices_load(struct prices *p, const char *path, struct buf *err)
{
	static const char *const fields[] = { "input_cost_per_token", "output_cost_per_token",
		"cache_read_input_token_cost", "output_cost_per_reasoning_token",
		"cache_creation_input_token_cost", "input_cost_per_token_batches",
		"output_cost_per_token_batches" };
	enum { NFIELDS = sizeof(fields) / sizeof(*fields) };
	jv doc = jv_load_file(path, 0);

	if (!jv_is_valid(doc)) {
		jv msg = jv_invalid_get_msg(doc);

		buf_puts(err, path);
		buf_puts(err, ": ");
		buf_puts(err,
			jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg)
							   : "cannot read it");
		jv_free(msg);
		return -1;
	}
	/* jv_load_file reads every JSON value of the file into an array: want one object. */
	if (jv_get_kind(doc) == JV_KIND_ARRAY && jv_array_length(jv_copy(doc)) == 1)
		doc = jv_array_get(doc, 0);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		buf_puts(err, path);
		buf_puts(err, ": not a JSON object of models (LiteLLM's format)");
		jv_free(doc);
		return -1;
	}
	jv_object_foreach(doc, name, entry)
	{
		struct model_price mp = { .cache_read = -1,
			.reasoning = -1,
			.source = path,
			.cache_write = -1,
			.batch_input = -1,
			.batch_output = -1 };
		int64_t *slots[NFIELDS] = { &mp.input, &mp.output, &mp.cache_read, &mp.reasoning,
			&mp.cache_write, &mp.batch_input, &mp.batch_output };
		jv provider, tier;
		const char *bad = NULL, *where = ""; /* a price that is not one, and where */
		bool priced = false;

		if (strcmp(jv_string_value(name), "sample_spec") == 0 ||
			jv_get_kind(entry) != JV_KIND_OBJECT) {
			jv_free(name);
			jv_free(entry);
			continue;
		}
		mp.input = mp.output = -1;
		/* a price the entry does not give is its base tier's */
		tier = base_tier(entry);
		for (size_t i = 0; i < NFIELDS && bad == NULL; i++) {
			if (!field_price(entry, fields[i], slots[i]))
				bad = fields[i];
			else if (*slots[i] < 0 && jv_get_kind(tier) == JV_KIND_OBJECT &&
				!field_price(tier, fields[i], slots[i])) {
				bad = fields[i];
				where = "the base tier's ";
			}
		}
		jv_free(tier);
		if (bad != NULL) {
			buf_puts(err, path);
			buf_puts(err, ": model '");
			buf_puts(err, jv_string_value(name));
			buf_puts(err, "': ");
			buf_puts(err, where);
			buf_puts(err, bad);
			buf_puts(err, " is not a price in USD per token");
			jv_free(name);
			jv_free(entry);
			jv_free(doc);
			return -1;
		}
		priced = mp.input >= 0 || mp.output >= 0;
		if (priced) {
			provider = jv_object_get(jv_copy(entry), jv_string("litellm_provider"));
			mp.name = xstrdup(jv_string_value(name));
			mp.provider = xstrdup(jv_get_kind(provider) == JV_KIND_STRING
					? jv_string_value(provider)
					: "");
			if (mp.input < 0)
				mp.input = 0;
			if (mp.output < 0)
				mp.output = 0;
			put(p, &mp);
			jv_free(provider);
		}
		jv_free(name);
		jv_free(entry);
	}
	jv_free(doc);
	return 0;
}

/* jl-llm's provider names as LiteLLM spells them. */
static const char *
litellm_provider(const char *provider)
{
	return strcmp(provider, "together") == 0     ? "together_ai"
		: strcmp(provider, "fireworks") == 0 ? "fireworks_ai"
						     : provider;
}

/* Whether a model LiteLLM files under the provider entry is one of lp (LiteLLM's name too). */
static bool
same_provider(const char *entry, const char *lp)
{
	/* LiteLLM files Bedrock's models under two names, by the API it calls them with. */
	return strcmp(entry, lp) == 0 ||
		(strcmp(lp, "bedrock") == 0 && strcmp(entry, "bedrock_converse") == 0);
}

struct prices *
prices_with_files(const char *const *files, size_t n)
{
	struct prices *p = prices_new();
	struct buf err = BUF_INIT;

	for (size_t i = 0; i < n; i++)
		if (prices_load(p, files[i], &err) != 0)
			die(EXIT_CONFIG, "bad price file %s", buf_cstr(&err));
	buf_free(&err);
	return p;
}

const struct model_price *
prices_find(const struct prices *p, const char *provider, const char *model)
{
	static char local_name[] = "local", local_provider[] = "local";
	static const struct model_price local = { local_name, local_provider, 0, 0, -1, -1,
		"a model on this machine", 0, 0, 0 };
	struct buf key = BUF_INIT;
	const struct model_price *mp;
	const char *lp = litellm_provider(provider != NULL ? provider : "");

	if (strcmp(lp, "ollama") == 0 || strcmp(lp, "llamacpp") == 0 || strcmp(lp, "vllm") == 0)
		return &local; /* a model on your own machine costs no money per token */
	buf_puts(&key, lp);
	buf_putc(&key, '/');
	buf_puts(&key, model);
	mp = find_exact(p, buf_cstr(&key));
	buf_free(&key);
	if (mp == NULL && (mp = find_exact(p, model)) != NULL && *lp != '\0' &&
		!same_provider(mp->provider, lp) && strncmp(model, lp, strlen(lp)) != 0)
		mp = NULL; /* the bare name of another provider's model */
	return mp;
}

void
prices_each(const struct prices *p, const char *pattern,
	void (*fn)(const struct model_price *, void *), void *arg)
{
	for (size_t i = 0; i < p->n; i++)
		if (pattern == NULL || strstr(p->m[i].name, pattern) != NULL)
			fn(&p->m[i], arg);
}

int64_t
search_price(const char *backend, const char *depth, int64_t credit_micro)
{
	if (strcmp(backend, "tavily") == 0)
		return (depth != NULL && strcmp(depth, "advanced") == 0 ? 2 : 1) * credit_micro;
	if (strcmp(backend, "brave") == 0)
		return 5000; /* $5 per 1,000 requests */
	if (strcmp(backend, "serper") == 0)
		return 1000; /* $1 per 1,000 queries (the smallest credit pack) */
	if (strcmp(backend, "exa") == 0)
		return 7000; /* $7 per 1,000 searches */
	if (strcmp(backend, "searxng") == 0 || strcmp(backend, "fts") == 0)
		return 0;
	return -1;
}
