/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm's hooks for the record loop: render the templates, build the chat
 * request of the model in turn, answer from the cache, read the answer into
 * .llm (parsing it with --json), and shrink a prompt that is too long.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "engine.h"
#include "exitcodes.h"
#include "record.h"
#include "util.h"

#define CACHE_TABLE "llm_cache"

struct llm_job *
llm_job_new(void)
{
	struct llm_job *lj = xcalloc(1, sizeof(*lj));

	lj->cap = SIZE_MAX;
	lj->built_for = -1;
	return lj;
}

void
llm_job_free(struct llm_job *lj)
{
	buf_free(&lj->system);
	buf_free(&lj->prompt);
	buf_free(&lj->body);
	free(lj);
}

static void
free_data(void *data)
{
	llm_job_free(data);
}

int
llm_render(const struct llm_config *cfg, jv record, struct llm_job *lj, struct buf *err)
{
	size_t longest_system = 0;

	buf_reset(&lj->prompt);
	buf_reset(&lj->system);
	if ((cfg->system != NULL &&
		    template_render(cfg->system, record, lj->cap, &lj->system, &longest_system,
			    err) != 0) ||
		template_render(cfg->prompt, record, lj->cap, &lj->prompt, &lj->longest, err) != 0)
		return -1;
	if (longest_system > lj->longest)
		lj->longest = longest_system;
	return 0;
}

/* Render the templates of j with its cap. Returns 0, or -1 after failing j. */
static int
render(struct netloop *nl, struct net_job *j)
{
	struct buf err = BUF_INIT;
	int rc = llm_render(netloop_tool(nl), j->record, j->data, &err);

	if (rc != 0)
		netloop_fail(nl, j, ERR_TEMPLATE, buf_cstr(&err), 0);
	buf_free(&err);
	return rc;
}

void
llm_build(const struct llm_config *cfg, struct llm_job *lj, int m, unsigned char key[SHA256_SIZE])
{
	const struct model_ref *model = &cfg->models[m];
	struct sha256 h;

	buf_reset(&lj->body);
	build_body(model, &cfg->params, cfg->system ? lj->system.data : NULL, lj->system.len,
		lj->prompt.data ? lj->prompt.data : "", lj->prompt.len, &lj->body);
	lj->built_for = m;
	sha256_init(&h);
	sha256_update(&h, model->provider->name, strlen(model->provider->name));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, model->model, strlen(model->model));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, lj->body.data, lj->body.len);
	sha256_final(&h, key);
}

/* Build j's request for model m, and its cache key: provider, model, body. */
static void
build_request(const struct llm_config *cfg, struct net_job *j, int m)
{
	llm_build(cfg, j->data, m, j->key);
	j->has_key = true;
}

jv
llm_run_fields(jv llm, double latency_ms, int attempts, bool cached)
{
	llm = jv_object_set(llm, jv_string("latency_ms"), jv_number(round(latency_ms)));
	llm = jv_object_set(llm, jv_string("attempts"), jv_number(attempts));
	return jv_object_set(llm, jv_string("cached"), jv_bool(cached));
}

/* Answer j from the run database when it holds the answer to its request. */
static bool
replay_cached(struct netloop *nl, struct net_job *j)
{
	jv llm = netloop_cache_get(nl, j);

	if (jv_get_kind(llm) != JV_KIND_OBJECT) {
		jv_free(llm);
		return false; /* absent or unreadable: ask */
	}
	netloop_count_cached(nl);
	netloop_ok(nl, j, llm_run_fields(llm, 0, 0, true));
	return true;
}

jv
llm_dry_run_value(const struct llm_config *cfg, const struct llm_job *lj, int m)
{
	const struct model_ref *model = &cfg->models[m];
	jv llm = jv_object(), usage = jv_object();
	long max_tokens = cfg->params.max_tokens;

	usage = jv_object_set(usage, jv_string("prompt_tokens"),
		jv_number((double)((lj->prompt.len + lj->system.len + 3) / 4)));
	usage = jv_object_set(usage, jv_string("completion_tokens"),
		jv_number(max_tokens >= 0 ? (double)max_tokens : 0));
	usage = jv_object_set(usage, jv_string("cached_tokens"), jv_number(0));
	usage = jv_object_set(usage, jv_string("reasoning_tokens"), jv_number(0));
	usage = jv_object_set(usage, jv_string("cache_write_tokens"), jv_number(0));
	llm = jv_object_set(llm, jv_string("dry_run"), jv_true());
	llm = jv_object_set(llm, jv_string("model"), jv_string(model->model));
	llm = jv_object_set(llm, jv_string("provider"), jv_string(model->provider->name));
	llm = jv_object_set(llm, jv_string("request"),
		jv_parse_sized(lj->body.data, (int)lj->body.len));
	llm = jv_object_set(llm, jv_string("usage"), usage);
	if (cfg->batch)
		llm = jv_object_set(llm, jv_string("batch"), jv_true());
	return jv_object_set(llm, jv_string("cached"), jv_false());
}

static void
prepare(struct netloop *nl, struct net_job *j)
{
	const struct llm_config *cfg = netloop_tool(nl);
	struct llm_job *lj = llm_job_new();

	j->data = lj;
	if (render(nl, j) != 0)
		return;
	build_request(cfg, j, j->target);
	if (cfg->dry_run)
		netloop_ok(nl, j, llm_dry_run_value(cfg, lj, j->target));
	else
		replay_cached(nl, j);
}

static long
build(struct netloop *nl, struct net_job *j, struct http_transfer *t)
{
	const struct llm_config *cfg = netloop_tool(nl);
	const struct model_ref *m = &cfg->models[j->target];
	struct llm_job *lj = j->data;

	if (lj->built_for != j->target) {
		/* A fallback model: its own body, and perhaps its own cached answer. */
		build_request(cfg, j, j->target);
		if (replay_cached(nl, j))
			return -1;
	}
	t->post = true;
	buf_add(&t->body, lj->body.data, lj->body.len);
	t->timeout_ms = cfg->timeout_ms;
	/* Signed anew for each attempt (Bedrock): a signature holds for 15 minutes. */
	chat_request(m, &cfg->endpoints[j->target], cfg->keys[j->target], time(NULL), t);
	return estimate_tokens(lj->prompt.len + lj->system.len, cfg->params.max_tokens);
}

jv
llm_answer_value(const struct llm_config *cfg, int m, const struct llm_answer *a)
{
	const struct model_ref *model = &cfg->models[m];
	jv llm, usage, content;
	const char *text = a->content.data ? a->content.data : "";

	if (cfg->params.json) {
		content = jv_parse_sized(text, (int)a->content.len);
		if (!jv_is_valid(content)) {
			jv_free(content);
			return jv_invalid();
		}
	} else {
		content = jv_string_sized(text, (int)a->content.len);
	}
	usage = jv_object_set(jv_object(), jv_string("prompt_tokens"),
		jv_number((double)a->prompt_tokens));
	usage = jv_object_set(usage, jv_string("completion_tokens"),
		jv_number((double)a->completion_tokens));
	usage = jv_object_set(usage, jv_string("cached_tokens"),
		jv_number((double)a->cached_tokens));
	usage = jv_object_set(usage, jv_string("reasoning_tokens"),
		jv_number((double)a->reasoning_tokens));
	usage = jv_object_set(usage, jv_string("cache_write_tokens"),
		jv_number((double)a->cache_write_tokens));
	if (a->has_cost)
		usage = jv_object_set(usage, jv_string("cost"), jv_number(a->cost));
	llm = jv_object_set(jv_object(), jv_string("content"), content);
	llm = jv_object_set(llm, jv_string("model"), jv_string(model->model));
	llm = jv_object_set(llm, jv_string("provider"), jv_string(model->provider->name));
	llm = jv_object_set(llm, jv_string("usage"), usage);
	return jv_object_set(llm, jv_string("finish_reason"), jv_string(a->finish_reason));
}

jv
llm_raw_output(jv record, const char *text, size_t len)
{
	return jv_object_set(record, jv_string("_raw_output"),
		jv_string_sized(text != NULL ? text : "", (int)len));
}

/* The answer of a successful attempt, normalised into .llm (and kept in the cache). */
static void
accept_answer(struct netloop *nl, struct net_job *j, struct llm_answer *a)
{
	const struct llm_config *cfg = netloop_tool(nl);
	struct llm_job *lj = j->data;
	jv llm = llm_answer_value(cfg, j->target, a);

	if (!jv_is_valid(llm)) {
		jv_free(llm);
		if (!lj->json_retried) {
			lj->json_retried = true;
			netloop_retry(nl, j, 0);
			return;
		}
		j->record = llm_raw_output(j->record, a->content.data, a->content.len);
		netloop_fail(nl, j, ERR_BAD_JSON_OUTPUT, LLM_NOT_JSON, 200);
		return;
	}
	/* The cache keeps the answer without this run's timing. */
	netloop_cache_put(nl, j, llm);
	netloop_ok(nl, j, llm_run_fields(llm, j->t->latency_ms, j->attempts, false));
}

static long
answer(struct netloop *nl, struct net_job *j)
{
	const struct llm_config *cfg = netloop_tool(nl);
	const struct http_transfer *t = j->t;
	struct llm_answer a = { 0 };
	struct failure f = { 0 };
	struct buf message = BUF_INIT;
	char code[64];
	enum answer_status st = parse_answer(cfg->models[j->target].provider->dialect,
		t->response.data ? t->response.data : "", t->response.len, &a, code, sizeof(code),
		&message);
	long used = -1;

	if (st == ANSWER_OK) {
		netloop_count_tokens(nl, a.prompt_tokens, a.completion_tokens);
		used = a.prompt_tokens + a.completion_tokens;
		accept_answer(nl, j, &a);
	} else {
		/* An error inside a 200 (OpenRouter), or a body that is not an answer. */
		f.step = strncmp(code, "http_5", 6) == 0 || st == ANSWER_BAD ? STEP_RETRY
			: strcmp(code, "http_429") == 0 || strcmp(code, "rate_limit_exceeded") == 0
			? STEP_RATE
			: STEP_RECORD;
		f.server = f.step == STEP_RETRY;
		snprintf(f.code, sizeof(f.code), "%s",
			st == ANSWER_BAD ? ERR_BAD_RESPONSE : ERR_PROVIDER_ERROR);
		buf_puts(&f.message, "HTTP 200: ");
		buf_add(&f.message, message.data, message.len > 300 ? 300 : message.len);
		netloop_attempt_failed(nl, j, &f);
		buf_free(&f.message);
	}
	buf_free(&a.content);
	buf_free(&message);
	return used;
}

static void
classify(struct netloop *nl, const struct net_job *j, struct failure *f)
{
	const struct llm_config *cfg = netloop_tool(nl);

	classify_failure(cfg->models[j->target].provider, j->t, f);
}

/* --truncate: cut every placeholder value to 60% of the longest, again at each refusal. */
static bool
too_long(struct netloop *nl, struct net_job *j)
{
	const struct llm_config *cfg = netloop_tool(nl);
	struct llm_job *lj = j->data;
	size_t cap = lj->cap == SIZE_MAX ? lj->longest : lj->cap;

	if (!cfg->truncate || cap <= 16)
		return false;
	lj->cap = cap * 6 / 10;
	if (render(nl, j) != 0)
		return true; /* failed as a template error: nothing to send */
	build_request(cfg, j, j->target);
	return true;
}

/* The key check: the model list, authenticated (none for Bedrock). */
static bool
check(struct netloop *nl, int target, struct http_transfer *t)
{
	const struct llm_config *cfg = netloop_tool(nl);
	const struct provider *p = cfg->models[target].provider;

	for (int k = 0; k < target; k++)
		if (cfg->models[k].provider == p)
			return false; /* checked already */
	t->timeout_ms = cfg->timeout_ms < 30000 ? cfg->timeout_ms : 30000;
	return check_request(&cfg->models[target], &cfg->endpoints[target], cfg->keys[target], t);
}

int
engine_run(struct llm_config *cfg)
{
	static const struct netloop_ops ops = {
		.prepare = prepare,
		.build = build,
		.answer = answer,
		.classify = classify,
		.too_long = too_long,
		.check = check,
		.free_data = free_data,
	};

	cfg->loop.cache_table = CACHE_TABLE;
	cfg->loop.ntargets = cfg->nmodels;
	for (size_t i = 0; i < cfg->nmodels; i++) {
		cfg->loop.targets[i].name = cfg->models[i].id;
		cfg->loop.targets[i].key = cfg->keys[i];
		cfg->loop.targets[i].key_env =
			cfg->key_from_file ? NULL : cfg->models[i].provider->key_env;
		if (cfg->endpoints[i].token != NULL) /* Bedrock's session token: one variable */
			cfg->loop.other_secret = cfg->endpoints[i].token;
	}
	cfg->loop.no_network = cfg->dry_run;
	if (cfg->batch && !cfg->dry_run)
		return batch_run(cfg);
	return netloop_run(&cfg->loop, &ops, cfg);
}
