/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/pricing.c and prices.c: exact money (a dollar amount read
 * from its digits, token costs in pico-dollars, the largest amount a record
 * may cost and one past it), token counts that are not counts (unpriced,
 * one warning per member and reason), counts too large to compute with,
 * search prices, the .cost object, totals past what an int64_t holds, and
 * the base tier of a LiteLLM entry that has only tiered_pricing, and batch
 * answers and cache writes at their prices or the providers' rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ledger.h"
#include "prices.h"
#include "pricing.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

/* A span over the C string s. */
static struct jspan
span(const char *s)
{
	struct jspan v = { s, strlen(s) };

	return v;
}

static void
test_usd_pico(void)
{
	static const struct {
		const char *text;
		int status;
		int64_t pico;
	} cases[] = {
		{ "0", 0, 0 },
		{ "0.0123", 0, 12300000000 },
		{ "1.5e-7", 0, 150000 },
		{ "15E-8", 0, 150000 },
		{ "0.00000015", 0, 150000 },
		{ "1e-12", 0, 1 },
		{ "4e-13", 0, 0 }, /* rounds half up: below half a pico-dollar */
		{ "5e-13", 0, 1 }, /* half */
		{ "0.0000000000015", 0, 2 },
		{ "1e-40", 0, 0 },
		{ "0.03", 0, 30000000000 },
		{ "12", 0, 12000000000000 },
		{ "1.2e1", 0, 12000000000000 },
		{ "0e99999999999", 0, 0 },
		{ "-0", 0, 0 },
		{ "-0.0e5", 0, 0 },
		{ "9223372.036854775807", 0, INT64_MAX },
		{ "9223372.0368547758074", 0, INT64_MAX }, /* the dropped 4 rounds down */
		{ "9223372.0368547758075", 2, 0 },         /* rounds up past the largest */
		{ "9223372.036854775808", 2, 0 },
		{ "1e7", 2, 0 },
		{ "1e99999999999", 2, 0 },
		{ "-1e-12", 1, 0 },
		{ "-5", 1, 0 },
		{ "\"0.5\"", 1, 0 },
		{ "{}", 1, 0 },
		{ "null", 1, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t pico = 0;
		int status = usd_pico(span(cases[i].text), &pico);

		ok(status == cases[i].status && (status != 0 || pico == cases[i].pico),
			"usd_pico(%s): %d, %lld", cases[i].text, status, (long long)pico);
	}
}

/* A record priced by pr: its text picked into a view, priced into p. */
static void
price_text(struct pricer *pr, const char *text, struct priced *p)
{
	struct record_view v;
	struct record_picks picks;

	memset(&v, 0, sizeof(v));
	record_picks(&picks, &v, "llm", "search", "cost");
	if (!jscan_object_pick(text, strlen(text), picks.top, TOP_PICKS)) {
		printf("# not a strict JSON object: %s\n", text);
		memset(p, 0, sizeof(*p));
		return;
	}
	v.line = span(text);
	price_record(pr, &v, 7, p);
}

/* The .cost object of text, priced by pr. */
static void
cost_of(struct pricer *pr, const char *text, struct buf *b)
{
	struct priced p;

	buf_reset(b);
	price_text(pr, text, &p);
	if (p.overflow != NULL)
		buf_puts(b, "overflow");
	else
		cost_object(b, &p);
}

static void
test_llm(struct pricer *pr)
{
	struct priced p;
	struct buf b = BUF_INIT;

	/* gpt-4o-mini: 0.15/M in, 0.075/M cached, 0.60/M out: 150000, 75000, 600000 pico */
	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":1,\"completion_tokens\":0}}}",
		&p);
	ok(p.overflow == NULL && p.priced && p.llm_pico == 150000,
		"one prompt token: 150000 pico-dollars, not rounded away");
	cost_of(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":1000,\"completion_tokens\":500,\"cached_tokens\":200}}}",
		&b);
	is_str(buf_cstr(&b),
		"{\"usd\":0.000435,\"llm_usd\":0.000435,\"search_usd\":0.000000,\"model\":"
		"\"gpt-4o-mini\",\"prompt_tokens\":1000,\"completion_tokens\":500,"
		"\"cached_tokens\":200,\"priced\":true}",
		"the .cost object");
	cost_of(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":3,\"completion_tokens\":1}}}",
		&b);
	ok(strncmp(buf_cstr(&b), "{\"usd\":0.00000105,", 18) == 0, "3 in, 1 out: 0.00000105 (%s)",
		buf_cstr(&b));

	/* the largest amount: INT64_MAX / 150000 prompt tokens fit, one more does not */
	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":61489146912365}}}",
		&p);
	ok(p.overflow == NULL && p.llm_pico == 61489146912365LL * 150000,
		"61489146912365 prompt tokens: $9223372.03685475, exactly");
	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":61489146912366}}}",
		&p);
	ok(p.overflow != NULL && !p.priced && p.llm_pico == 0, "one more token: overflow (%s)",
		p.overflow ? p.overflow : "none");
	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":62000000000000,\"completion_tokens\":0}}}",
		&p);
	ok(p.overflow != NULL, "the issue's 62e12 prompt tokens: overflow, not -$9146744.07");

	/* a count jq cannot read exactly, even at no price */
	price_text(pr,
		"{\"llm\":{\"model\":\"m\",\"provider\":\"ollama\",\"usage\":{"
		"\"prompt_tokens\":9007199254740991}}}",
		&p);
	ok(p.overflow == NULL && p.priced && p.prompt == 9007199254740991LL,
		"2^53 - 1 tokens of a local model: read exactly, $0");
	price_text(pr,
		"{\"llm\":{\"model\":\"m\",\"provider\":\"ollama\",\"usage\":{"
		"\"prompt_tokens\":9007199254740992}}}",
		&p);
	ok(p.overflow != NULL, "2^53 tokens: too large to compute with");
	price_text(pr,
		"{\"llm\":{\"model\":\"m\",\"provider\":\"ollama\",\"usage\":{"
		"\"completion_tokens\":1e300}}}",
		&p);
	ok(p.overflow != NULL, "1e300 tokens: too large to compute with");

	/* the provider's own figure, read from its digits */
	price_text(pr,
		"{\"llm\":{\"model\":\"x\",\"provider\":\"openrouter\",\"usage\":{"
		"\"prompt_tokens\":10,\"cost\":0.0000001234567}}}",
		&p);
	ok(p.overflow == NULL && p.priced && p.llm_pico == 123457,
		"usage.cost 0.0000001234567: 123457 pico-dollars (half up)");
	price_text(pr,
		"{\"llm\":{\"model\":\"x\",\"provider\":\"openrouter\",\"usage\":{\"cost\":1e7}}}",
		&p);
	ok(p.overflow != NULL, "usage.cost of $10M: overflow");

	/* a replay costs nothing; a search on top of the largest LLM amount overflows the sum */
	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"cached\":true,"
		"\"usage\":{\"prompt_tokens\":1000}}}",
		&p);
	ok(p.overflow == NULL && p.priced && !p.llm_billed && p.llm_pico == 0,
		"a cached replay: priced at 0");
	price_text(pr,
		"{\"llm\":{\"model\":\"x\",\"provider\":\"openrouter\",\"usage\":{"
		"\"cost\":9223372.036854775807}},\"search\":{\"backend\":\"brave\",\"requests\":1}"
		"}",
		&p);
	ok(p.overflow != NULL && p.llm_pico == 0 && p.search_pico == 0,
		"the largest LLM amount plus a search: overflow, nothing to bill");
	buf_free(&b);
}

static void
test_search(struct pricer *pr)
{
	struct priced p;

	price_text(pr,
		"{\"search\":{\"backend\":\"tavily\",\"depth\":\"advanced\",\"requests\":1}}", &p);
	ok(p.priced && p.search_billed && p.search_pico == 16000000000,
		"tavily advanced: 2 credits of $0.008");
	price_text(pr, "{\"search\":{\"backend\":\"tavily\",\"requests\":2,\"extracted\":7}}", &p);
	ok(p.priced && p.search_pico == 24000000000,
		"a search and an extract of 7 pages: 3 credits");
	price_text(pr, "{\"search\":{\"backend\":\"brave\",\"requests\":3}}", &p);
	ok(p.priced && p.search_pico == 15000000000, "brave: $5 per 1000");
	price_text(pr, "{\"search\":{\"backend\":\"tavily\",\"requests\":1,\"credits\":3}}", &p);
	ok(p.priced && p.search_pico == 24000000000, "the credits Tavily reports");
	price_text(pr, "{\"search\":{\"backend\":\"nope\",\"requests\":1}}", &p);
	ok(!p.priced && p.search_pico == 0, "an unknown backend: unpriced");
	price_text(pr,
		"{\"search\":{\"backend\":\"tavily\",\"requests\":1,\"credits\":9007199254740991}}",
		&p);
	ok(p.overflow != NULL, "2^53 - 1 credits at $0.008: overflow");
}

/* Price records whose counts are not counts, in a child: what it warns. */
static void
bad_counts(void *arg)
{
	struct pricer *pr = arg;
	struct priced p;

	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":\"1000\",\"completion_tokens\":5}},"
		"\"search\":{\"backend\":\"brave\",\"requests\":1}}",
		&p);
	printf("%d %lld %lld %lld|", p.priced, (long long)p.llm_pico, (long long)p.search_pico,
		(long long)p.prompt);
	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":\"7\"}}}",
		&p);
	printf("%d|", p.priced);
	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":{},\"completion_tokens\":-1,\"cached_tokens\":1.5,"
		"\"reasoning_tokens\":true}}}",
		&p);
	printf("%d|", p.priced);
	price_text(pr, "{\"search\":{\"backend\":\"brave\",\"requests\":[1]}}", &p);
	printf("%d %lld|", p.priced, (long long)p.search_pico);
	price_text(pr,
		"{\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{"
		"\"prompt_tokens\":null,\"completion_tokens\":10}}}",
		&p);
	printf("%d %lld|", p.priced, (long long)p.llm_pico);
	price_text(pr,
		"{\"llm\":{\"model\":\"x\",\"provider\":\"openrouter\",\"usage\":{\"cost\":\"0.1\"}"
		"}}",
		&p);
	printf("%d %lld", p.priced, (long long)p.llm_pico);
}

static void
test_bad_counts(const struct prices *prices)
{
	struct pricer pr;
	struct child_result r;
	const char *e;

	pricer_init(&pr, prices, 8000, "llm", "search", false);
	run_in_child(bad_counts, &pr, &r);
	is_str(buf_cstr(&r.out), "0 0 5000000000 0|0|0|0 0|1 6000000|0 0",
		"counts that are not counts: that part unpriced, the other billed; null is 0");
	e = buf_cstr(&r.err);
	ok(strstr(e,
		   "line 7: .llm.usage.prompt_tokens is a string, not a count: the record's "
		   "LLM usage is not priced") != NULL,
		"the warning names the line, the member and what it is");
	ok(strstr(e, "prompt_tokens is a string") != NULL &&
			strstr(strstr(e, "prompt_tokens is a string") + 1,
				"prompt_tokens is a string") == NULL,
		"once per member and reason");
	ok(strstr(e, ".llm.usage.prompt_tokens is an object") != NULL &&
			strstr(e, ".llm.usage.completion_tokens is negative") != NULL &&
			strstr(e, ".llm.usage.cached_tokens is not a whole number") != NULL &&
			strstr(e, ".llm.usage.reasoning_tokens is a boolean") != NULL &&
			strstr(e, ".search.requests is an array") != NULL &&
			strstr(e, ".llm.usage.cost is a string, not an amount in USD") != NULL,
		"each member and reason said once");
	child_result_free(&r);
	pricer_free(&pr);
}

static void
test_totals(void)
{
	static struct cost_totals t; /* large: not on the stack */
	struct priced p = { .priced = true, .has_llm = true, .llm_billed = true };
	struct buf b = BUF_INIT;

	snprintf(p.model, sizeof(p.model), "big");
	p.prompt = 9007199254740991LL;
	p.llm_pico = INT64_MAX;
	for (int i = 0; i < 4; i++)
		cost_totals_add(&t, &p);
	p.llm_pico = 150000;
	p.prompt = 1;
	cost_totals_add(&t, &p);
	ledger_usd(&b, t.total_pico);
	/* 4 x (2^63 - 1) + 150000 pico-dollars */
	is_str(buf_cstr(&b), "36893488.147419253228", "totals past an int64_t are exact");
	buf_reset(&b);
	ledger_usd(&b, t.models[0].pico);
	is_str(buf_cstr(&b), "36893488.147419253228", "and so is the model's group");
	buf_reset(&b);
	ledger_uint(&b, t.models[0].prompt);
	is_str(buf_cstr(&b), "36028797018963965", "its tokens too: 4 x (2^53 - 1) + 1");
	is_int(t.records, 5, "5 records");
	p.overflow = "x";
	cost_totals_add(&t, &p);
	is_int(t.overflow, 1, "an overflow is counted apart");
	is_int(t.models[0].records, 5, "and in no group");
	buf_free(&b);
}

/* A price file in a temporary file: its path in path. */
static int
write_file(struct buf *path, const char *text)
{
	char name[] = "/tmp/jlkit-pricing-XXXXXX";
	int fd = mkstemp(name);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) != 0)
		return -1;
	buf_reset(path);
	buf_puts(path, name);
	return 0;
}

static void
test_tiers(struct prices *prices)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	const struct model_price *mp;
	int rc;

	if (!ok(write_file(&path,
			"{\"qwen-tiered\": {\"litellm_provider\": \"dashscope\", "
			"\"tiered_pricing\": ["
			"{\"range\": [32000.0, 128000.0], \"input_cost_per_token\": 2.4e-06, "
			"\"output_cost_per_token\": 1.2e-05},"
			"{\"range\": [0, 32000.0], \"input_cost_per_token\": 1.2e-06, "
			"\"output_cost_per_token\": 6e-06, \"cache_read_input_token_cost\": "
			"2.4e-07}]},"
			"\"half\": {\"litellm_provider\": \"openai\", \"output_cost_per_token\": "
			"1.6e-06, \"tiered_pricing\": [{\"range\": [0, 1000], "
			"\"input_cost_per_token\": 4e-07, \"output_cost_per_token\": 9e-06}]},"
			"\"no-range\": {\"litellm_provider\": \"openai\", \"tiered_pricing\": ["
			"1, {\"input_cost_per_token\": 1e-06}, {\"input_cost_per_token\": "
			"2e-06}]}}") == 0,
		    "a price file with tiers"))
		return;
	rc = prices_load(prices, buf_cstr(&path), &err);
	ok(rc == 0, "loads: %s", buf_cstr(&err));
	mp = prices_find(prices, "dashscope", "qwen-tiered");
	ok(mp != NULL && mp->input == 1200000 && mp->output == 6000000 &&
			mp->cache_read == 240000 && mp->reasoning == -1,
		"only tiered_pricing: the prices of the tier from 0, whatever the order");
	mp = prices_find(prices, "openai", "half");
	ok(mp != NULL && mp->input == 400000 && mp->output == 1600000,
		"a price at the top level wins over the tier's; one it lacks is the tier's");
	mp = prices_find(prices, "openai", "no-range");
	ok(mp != NULL && mp->input == 1000000 && mp->output == 0,
		"no range: the first tier (an object)");
	unlink(buf_cstr(&path));
	if (write_file(&path,
		    "{\"bad\": {\"tiered_pricing\": [{\"range\": [0, 1], "
		    "\"input_cost_per_token\": \"0.1\"}]}}") != 0)
		return;
	buf_reset(&err);
	rc = prices_load(prices, buf_cstr(&path), &err);
	ok(rc != 0 &&
			strstr(buf_cstr(&err),
				"model 'bad': the base tier's input_cost_per_token is not a "
				"price") != NULL,
		"a tier's price that is not a number: refused (%s)", buf_cstr(&err));
	unlink(buf_cstr(&path));
	buf_free(&path);
	buf_free(&err);
}

/* The LLM cost of text in pico-dollars, priced by pr (-1: overflow or unpriced). */
static int64_t
llm_pico(struct pricer *pr, const char *text)
{
	struct priced p;

	price_text(pr, text, &p);
	return p.overflow == NULL && p.priced ? p.llm_pico : -1;
}

/* A record of model of provider with usage (the members inside "usage") and extra members. */
#define REC(model, provider, usage, extra)                                                         \
	"{\"llm\":{\"model\":\"" model "\",\"provider\":\"" provider "\",\"usage\":{" usage        \
	"}" extra "}}"

/*
 * Batch answers and cache writes: a LiteLLM entry with the four prices
 * (its shape as LiteLLM's file has it for claude-sonnet-4-5), the built-in
 * batch and cache-write prices, the discount table for models without batch
 * prices, a provider without a batch API, and exact rounding of half a
 * pico-dollar. Every amount is computed by hand in the comments.
 */
static void
test_batch_cache(struct prices *prices)
{
	struct buf path = BUF_INIT, err = BUF_INIT, b = BUF_INIT;
	struct pricer pr;
	struct priced p;
	int rc;

	if (!ok(write_file(&path,
			"{\"mock-claude\": {\"cache_creation_input_token_cost\": 3.75e-06, "
			"\"cache_creation_input_token_cost_above_1hr\": 6e-06, "
			"\"cache_read_input_token_cost\": 3e-07, \"input_cost_per_token\": 3e-06, "
			"\"input_cost_per_token_batches\": 1.5e-06, "
			"\"litellm_provider\": \"anthropic\", \"max_input_tokens\": 200000, "
			"\"max_output_tokens\": 64000, \"max_tokens\": 64000, \"mode\": \"chat\", "
			"\"output_cost_per_token\": 1.5e-05, "
			"\"output_cost_per_token_batches\": 7.5e-06, "
			"\"search_context_cost_per_query\": {\"search_context_size_high\": 0.01}, "
			"\"supports_prompt_caching\": true, \"prompt_cache_min_tokens\": 1024}, "
			"\"mock-tiny\": {\"input_cost_per_token\": 1e-12, "
			"\"output_cost_per_token\": 0, "
			"\"litellm_provider\": \"openai\", \"mode\": \"chat\"}}") == 0,
		    "a LiteLLM file with batch and cache-write prices"))
		return;
	rc = prices_load(prices, buf_cstr(&path), &err);
	ok(rc == 0, "loaded (%s)", buf_cstr(&err));
	unlink(buf_cstr(&path));
	pricer_init(&pr, prices, 8000, "llm", "search", true);

	/*
	 * on demand: 5000 uncached x 3e6 + 2000 cached x 3e5 + 3000 written x
	 * 3.75e6 + 1000 out x 1.5e7 = 1.5e10 + 6e8 + 1.125e10 + 1.5e10
	 */
	is_int(llm_pico(&pr,
		       REC("mock-claude", "anthropic",
			       "\"prompt_tokens\":10000,\"completion_tokens\":1000,"
			       "\"cached_tokens\":2000,\"cache_write_tokens\":3000",
			       "")),
		41850000000, "cache writes at cache_creation_input_token_cost");
	/*
	 * batch: 5000 x 1.5e6 (its batch price) + 2000 x 3e5 x 50% + 3000 x
	 * 3.75e6 x 50% (Anthropic's discount) + 1000 x 7.5e6 = 7.5e9 + 3e8 +
	 * 5.625e9 + 7.5e9
	 */
	cost_of(&pr,
		REC("mock-claude", "anthropic",
			"\"prompt_tokens\":10000,\"completion_tokens\":1000,\"cached_tokens\":2000,"
			"\"cache_write_tokens\":3000",
			",\"batch\":true"),
		&b);
	is_str(buf_cstr(&b),
		"{\"usd\":0.020925,\"llm_usd\":0.020925,\"search_usd\":0.000000,\"model\":"
		"\"mock-claude\",\"prompt_tokens\":10000,\"completion_tokens\":1000,"
		"\"cached_tokens\":2000,\"cache_write_tokens\":3000,\"batch\":true,"
		"\"priced\":true}",
		"a batch answer at the batch prices: .cost says batch and the cache writes");
	/* "batch": false, or not a boolean, is on demand */
	is_int(llm_pico(&pr,
		       REC("mock-claude", "anthropic",
			       "\"prompt_tokens\":1000,\"completion_tokens\":0",
			       ",\"batch\":false")),
		3000000000, "batch false: on demand");
	is_int(llm_pico(&pr,
		       REC("mock-claude", "anthropic",
			       "\"prompt_tokens\":1000,\"completion_tokens\":0",
			       ",\"batch\":\"yes\"")),
		3000000000, "batch not true: on demand");

	/* built-in claude-3-5-haiku-latest: no cache-write price, Anthropic's 1.25 x 0.80/M */
	/* 600 x 8e5 + 400 x 1e6 + 100 x 4e6 = 4.8e8 + 4e8 + 4e8 */
	is_int(llm_pico(&pr,
		       REC("claude-3-5-haiku-latest", "anthropic",
			       "\"prompt_tokens\":1000,\"completion_tokens\":100,"
			       "\"cache_write_tokens\":400",
			       "")),
		1280000000, "no cache-write price (anthropic): 1.25 x the input price");
	/* batch, no batch price: Anthropic's 50% of each */
	is_int(llm_pico(&pr,
		       REC("claude-3-5-haiku-latest", "anthropic",
			       "\"prompt_tokens\":1000,\"completion_tokens\":100,"
			       "\"cache_write_tokens\":400",
			       ",\"batch\":true")),
		640000000, "a batch answer without batch prices: the provider's 50%%");
	/* built-in claude-3-haiku-20240307: LiteLLM's cache write 0.30/M, not 1.25 x 0.25/M */
	is_int(llm_pico(&pr,
		       REC("claude-3-haiku-20240307", "anthropic",
			       "\"prompt_tokens\":1000,\"completion_tokens\":0,"
			       "\"cache_write_tokens\":1000",
			       "")),
		300000000, "the built-in cache-write price wins over the rule");
	/* another provider: cache writes at the input price (gpt-4.1-mini 0.40/M) */
	is_int(llm_pico(&pr,
		       REC("gpt-4.1-mini", "openai",
			       "\"prompt_tokens\":1000,\"completion_tokens\":0,"
			       "\"cache_write_tokens\":1000",
			       "")),
		400000000, "cache writes of another provider: the input price");
	/* cache writes past prompt - cached count as prompt - cached: 40 x 3.75e6 + 60 x 3e5 */
	price_text(&pr,
		REC("mock-claude", "anthropic",
			"\"prompt_tokens\":100,\"completion_tokens\":0,\"cached_tokens\":60,"
			"\"cache_write_tokens\":80",
			""),
		&p);
	ok(p.priced && p.cache_write == 40 && p.llm_pico == 168000000,
		"cache writes past the uncached prompt: clamped to it (%lld, %lld)",
		(long long)p.cache_write, (long long)p.llm_pico);

	/* built-in gpt-4o-mini batch prices 0.075/0.30; its cached reads at 50% of 0.075 */
	/* 800 x 75000 + 200 x 75000 x 50% + 500 x 300000 = 6e7 + 7.5e6 + 1.5e8 */
	is_int(llm_pico(&pr,
		       REC("gpt-4o-mini", "openai",
			       "\"prompt_tokens\":1000,\"completion_tokens\":500,"
			       "\"cached_tokens\":200",
			       ",\"batch\":true")),
		217500000, "built-in batch prices (gpt-4o-mini)");
	/* gpt-3.5-turbo has none: OpenAI's 50%: 1000 x 5e5 / 2 + 1000 x 1.5e6 / 2 */
	is_int(llm_pico(&pr,
		       REC("gpt-3.5-turbo", "openai",
			       "\"prompt_tokens\":1000,\"completion_tokens\":1000",
			       ",\"batch\":true")),
		1000000000, "no batch price (openai): 50%%");
	/* groq: 75% (25% off): 1000 x 5e4 x 3/4 + 1000 x 8e4 x 3/4 */
	is_int(llm_pico(&pr,
		       REC("llama-3.1-8b-instant", "groq",
			       "\"prompt_tokens\":1000,\"completion_tokens\":1000",
			       ",\"batch\":true")),
		97500000, "no batch price (groq): 75%%");
	/* mistral: no batch API known: on demand, 1000 x 6e4 + 1000 x 1.8e5, a warning once */
	is_int(llm_pico(&pr,
		       REC("mistral-small-latest", "mistral",
			       "\"prompt_tokens\":1000,\"completion_tokens\":1000",
			       ",\"batch\":true")),
		240000000, "a provider without a batch API: on demand");
	ok(strset_has(&pr.warned_batch, "mistral", 7), "and warned about, once per provider");
	ok(!strset_has(&pr.warned_batch, "openai", 6), "not for a provider with a discount");
	/* half a pico-dollar rounds up: 1 x 1 pico x 50% = 0.5; 3 x 0.5 = 1.5 */
	is_int(llm_pico(&pr,
		       REC("mock-tiny", "openai", "\"prompt_tokens\":1,\"completion_tokens\":0",
			       ",\"batch\":true")),
		1, "half a pico-dollar rounds up");
	is_int(llm_pico(&pr,
		       REC("mock-tiny", "openai", "\"prompt_tokens\":3,\"completion_tokens\":0",
			       ",\"batch\":true")),
		2, "1.5 pico-dollars: 2");
	/* the provider's own figure still wins */
	is_int(llm_pico(&pr,
		       REC("mock-claude", "anthropic",
			       "\"prompt_tokens\":1000,\"completion_tokens\":0,\"cost\":0.001",
			       ",\"batch\":true")),
		1000000000, "usage.cost wins over batch prices");
	/* a cache_write_tokens that is not a count: unpriced */
	is_int(llm_pico(&pr,
		       REC("mock-claude", "anthropic",
			       "\"prompt_tokens\":1000,\"completion_tokens\":0,"
			       "\"cache_write_tokens\":\"9\"",
			       "")),
		-1, "cache_write_tokens a string: unpriced");
	pricer_free(&pr);

	/* a batch price that is not a price: the file is refused, naming the field */
	if (write_file(&path,
		    "{\"m\": {\"input_cost_per_token\": 1e-06, "
		    "\"input_cost_per_token_batches\": \"5e-07\"}}") == 0) {
		buf_reset(&err);
		rc = prices_load(prices, buf_cstr(&path), &err);
		ok(rc != 0 &&
				strstr(buf_cstr(&err),
					"model 'm': input_cost_per_token_batches is not a price") !=
					NULL,
			"a batch price that is not a number: refused (%s)", buf_cstr(&err));
		unlink(buf_cstr(&path));
	}
	buf_free(&path);
	buf_free(&err);
	buf_free(&b);
}

int
main(void)
{
	struct prices *prices = prices_new();
	struct pricer pr;

	progname = "test-pricing";
	test_usd_pico();
	pricer_init(&pr, prices, 8000, "llm", "search", true);
	test_llm(&pr);
	test_search(&pr);
	pricer_free(&pr);
	test_bad_counts(prices);
	test_totals();
	test_tiers(prices);
	test_batch_cache(prices);
	prices_free(prices);
	return done_testing();
}
