/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm: an LLM call per record, rate-limited, retried, cached. This file
 * is the command: options, keys, templates and checks; engine.c runs the
 * records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "engine.h"
#include "exitcodes.h"
#include "netopt.h"
#include "opt.h"
#include "out.h"
#include "util.h"
#include "version.h"

/* --help's list of the providers -m knows, from the provider table, in lines of 80 columns. */
static void
print_providers(void)
{
	const char *p = provider_names();
	size_t column = 2;

	fputs("providers (-m PROVIDER/MODEL):\n ", stdout);
	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (column + 1 + n > 80) {
			fputs("\n ", stdout);
			column = 2;
		}
		printf(" %.*s", (int)n, p);
		column += 1 + n;
		p += n + strspn(p + n, " ");
	}
	putchar('\n');
}

static const struct opt_tool tool = {
	.synopsis = "[options] -m PROVIDER/MODEL -p TEMPLATE",
	.summary = "Call an LLM for each record; add its answer as .llm.",
	.version = netopt_print_versions,
	.notes = print_providers,
};

/* What parse_options gathers before the checks turn it into the engine's config. */
struct llm_args {
	const char *model;
	const char *fallbacks[MAX_MODELS];
	size_t nfallbacks;
	const char *prompt, *prompt_file, *system, *system_file, *schema_file;
	struct netopt net;
};

/* -o KEY=VALUE into the llm_config: VALUE as JSON when it parses, else as a string. */
static const char *
add_option(const struct opt *o, const char *arg)
{
	struct llm_config *cfg = o->value;
	const char *eq = strchr(arg, '=');
	char *key;
	jv value;

	if (eq == NULL || eq == arg)
		return "expected KEY=VALUE";
	key = xmemdup(arg, (size_t)(eq - arg));
	value = jv_parse(eq + 1);
	if (!jv_is_valid(value)) {
		jv_free(value);
		value = jv_string(eq + 1);
	}
	cfg->params.options = jv_object_set(cfg->params.options, jv_string(key), value);
	free(key);
	return NULL;
}

static void
parse_options(struct llm_config *cfg, struct llm_args *a, int argc, char **argv)
{
	struct llm_params *p = &cfg->params;
	struct opt options[] = {
		OPT_STRING('m', "model", &a->model, "PROVIDER/MODEL", "the model", "$JL_MODEL"),
		OPT_STRING('p', "prompt", &a->prompt, "TEMPLATE",
			"the prompt, with {{ jq }} placeholders", NULL),
		OPT_STRING(0, "prompt-file", &a->prompt_file, "FILE",
			"the prompt template from FILE", NULL),
		OPT_STRING('s', "system", &a->system, "TEXT", "the system prompt (a template too)",
			NULL),
		OPT_STRING(0, "system-file", &a->system_file, "FILE", "the system prompt from FILE",
			NULL),
		OPT_BOOL(0, "json", &p->json,
			"ask for a JSON object and parse it into .llm.content"),
		OPT_STRING(0, "schema", &a->schema_file, "FILE",
			"a JSON schema for the answer (implies --json)", NULL),
		OPT_NUMBER(0, "temperature", &p->temperature, 0, 2, "T", "sampling temperature",
			NULL),
		OPT_UINT(0, "max-tokens", &p->max_tokens, 1, 10000000, "N",
			"cap on the answer's tokens", NULL),
		OPT_UINT(0, "seed", &p->seed, 0, 1ULL << 62, "N",
			"the provider's sampling seed (and the retry jitter's)", NULL),
		OPT_CALLBACK('o', "option", cfg, "KEY=VALUE",
			"set KEY in the request body (VALUE as JSON if it is)", NULL, add_option),
		OPT_BOOL(0, "cache", &p->cache,
			"mark the fixed prompt for the provider's prompt cache (off by default)"),
		OPT_NAME(0, "into", &cfg->loop.into, "NAME", "the field to add", "llm"),
		OPT_BOOL(0, "dry-run", &cfg->dry_run,
			"no requests: emit each request and its estimated usage"),
		OPT_BOOL(0, "truncate", &cfg->truncate,
			"shrink the longest value when the prompt is too long"),
		OPT_NUMBER(0, "tpm", &cfg->loop.tpm, 0, 1e10, "N",
			"tokens per minute, shared by every process; 0: no limit", "0"),
		OPT_SECONDS(0, "timeout", &cfg->timeout_ms, 0.001, 86400, "SECS", "per attempt",
			"120"),
		OPT_LIST(0, "fallback", a->fallbacks, &a->nfallbacks, MAX_MODELS - 1,
			"PROVIDER/MODEL", "a model to use when the last fails (repeatable)"),
		OPT_SECONDS(0, "cooldown", &cfg->loop.cooldown_ms, 0, 86400, "SECS",
			"how long a fallback stands in", "60"),
		OPT_BOOL(0, "batch", &cfg->batch,
			"send the records as the provider's batches (needs --db)"),
		OPT_UINT(0, "batch-size", &cfg->batch_opt.size, 1, 1000000000, "N",
			"requests a batch", "the provider's limit"),
		OPT_SECONDS(0, "poll", &cfg->batch_opt.poll_ms, 0.01, 86400, "SECS",
			"between two looks at a batch", "30"),
		OPT_BOOL(0, "cancel", &cfg->batch_opt.cancel,
			"with --batch: cancel the unfinished batches, keep what they did"),
		OPT_LIST(0, "prices", cfg->batch_opt.price_files, &cfg->batch_opt.nprice_files,
			PRICES_MAX_FILES, "FILE",
			"with --batch --budget: prices in LiteLLM's format (repeatable)"),
		OPT_BOOL('q', "quiet", &cfg->loop.quiet,
			"no warnings, summary or progress on stderr"),
		NETLOOP_OPTIONS(&cfg->loop, &a->net),
		OPT_END(),
	};
	int operand = opt_parse(&tool, options, argc, argv);

	if (operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[operand]);
}

static struct tmpl *
compile_template(const char *text, const char *what)
{
	struct buf err = BUF_INIT;
	struct tmpl *t = template_compile(text, &err);

	if (t == NULL)
		die(EXIT_CONFIG, "bad %s template: %s", what, buf_cstr(&err));
	buf_free(&err);
	return t;
}

/* --batch's checks: a run database, one model, a provider with a batch API, its limits. */
static void
validate_batch(const struct llm_config *cfg)
{
	const struct provider *p = cfg->models[0].provider;

	if (!cfg->batch) {
		if (cfg->batch_opt.cancel || cfg->batch_opt.size > 0 ||
			cfg->batch_opt.nprice_files > 0)
			opt_usage_error(&tool, "--%s goes with --batch",
				cfg->batch_opt.cancel             ? "cancel"
					: cfg->batch_opt.size > 0 ? "batch-size"
								  : "prices");
		return;
	}
	if (cfg->loop.db_path == NULL && !cfg->dry_run)
		opt_usage_error(&tool, "--batch needs --db: the batches are kept there");
	if (cfg->nmodels > 1)
		opt_usage_error(&tool, "--batch takes one model: no --fallback");
	if (cfg->truncate)
		opt_usage_error(&tool, "--batch cannot --truncate: a batch is sent as it is");
	if (p->batch == BATCH_NONE)
		die(EXIT_CONFIG,
			"%s has no batch API jl-llm knows (--batch: openai, groq, anthropic)",
			p->name);
	if (cfg->batch_opt.size > batch_max_requests(p->batch))
		die(EXIT_CONFIG, "--batch-size %ld: a batch of %s holds at most %ld requests",
			cfg->batch_opt.size, p->name, batch_max_requests(p->batch));
}

/* Cross-option checks, files, keys: everything that can fail before any input is read. */
static void
validate_config(struct llm_config *cfg, struct llm_args *a)
{
	struct buf err = BUF_INIT;
	const char *specs[MAX_MODELS];
	char *text, *system_text = NULL;

	if (a->model == NULL)
		a->model = getenv("JL_MODEL");
	if (a->model == NULL || *a->model == '\0')
		opt_usage_error(&tool, "no model: give -m PROVIDER/MODEL or set JL_MODEL");
	if ((a->prompt == NULL) == (a->prompt_file == NULL))
		opt_usage_error(&tool, "give one of --prompt and --prompt-file");
	if (a->system != NULL && a->system_file != NULL)
		opt_usage_error(&tool, "give --system or --system-file, not both");
	cfg->params.has_temperature = cfg->params.temperature >= 0;
	cfg->params.has_seed = cfg->params.seed >= 0;
	if (cfg->params.has_seed) {
		cfg->loop.seed = (unsigned long long)cfg->params.seed;
		cfg->seeded = true;
	}
	specs[0] = a->model;
	memcpy(specs + 1, a->fallbacks, a->nfallbacks * sizeof(*specs));
	cfg->nmodels = 1 + a->nfallbacks;
	for (size_t i = 0; i < cfg->nmodels; i++)
		if (model_parse(specs[i], &cfg->models[i], &err) != 0)
			die(EXIT_CONFIG, "%s", buf_cstr(&err));
	netopt_finish(&tool, &cfg->loop, &a->net, cfg->seeded);
	text = a->prompt_file ? netopt_read_file(a->prompt_file, "prompt file")
			      : xstrdup(a->prompt);
	cfg->prompt = compile_template(text, "prompt");
	if (a->system != NULL || a->system_file != NULL) {
		system_text = a->system_file ? netopt_read_file(a->system_file, "system file")
					     : xstrdup(a->system);
		cfg->system = compile_template(system_text, "system");
	}
	if (cfg->params.cache) {
		cfg->params.prompt_head = template_head_len(cfg->prompt);
		prompt_cache_key(system_text, text, cfg->params.cache_key);
	}
	free(text);
	free(system_text);
	if (a->schema_file != NULL) {
		cfg->params.json = true;
		text = netopt_read_file(a->schema_file, "schema");
		cfg->params.schema = jv_parse(text);
		free(text);
		if (jv_get_kind(cfg->params.schema) != JV_KIND_OBJECT)
			die(EXIT_CONFIG, "the schema '%s' is not a JSON object", a->schema_file);
	}
	for (size_t i = 0; i < cfg->nmodels; i++) {
		const struct provider *p = cfg->models[i].provider;

		cfg->keys[i] = netopt_find_key(a->net.key_file, p->key_env);
		if (cfg->dry_run)
			continue; /* no request: no key, endpoint or region needed */
		if (cfg->keys[i] == NULL && p->key_required)
			die(EXIT_CONFIG,
				"%s is not set: export the key of %s, or give --api-key-file FILE",
				p->key_env, p->name);
		if (endpoint_init(p, a->net.base_url, &cfg->endpoints[i], &err) != 0)
			die(EXIT_CONFIG, "%s", buf_cstr(&err));
		if (p->base_env != NULL && a->net.base_url == NULL)
			netopt_check_url(cfg->endpoints[i].base, p->base_env);
	}
	cfg->key_from_file = a->net.key_file != NULL;
	buf_free(&err);
	validate_batch(cfg);
}

static void
free_config(struct llm_config *cfg)
{
	for (size_t i = 0; i < cfg->nmodels; i++) {
		netopt_free_key(cfg->keys[i]);
		endpoint_free(&cfg->endpoints[i]);
		model_free(&cfg->models[i]);
	}
	template_free(cfg->prompt);
	template_free(cfg->system);
	jv_free(cfg->params.schema);
	jv_free(cfg->params.options);
}

int
main(int argc, char *argv[])
{
	struct llm_config cfg = {
		.params = { .temperature = -1, .max_tokens = -1, .seed = -1 }, /* -1: not given */
		.timeout_ms = 120000,
		.batch_opt = { .poll_ms = 30000 },
	};
	struct llm_args args = { 0 };
	int rc;

	tool_init(argv[0]);
	netopt_setup_process();
	netopt_defaults(&cfg.loop, "llm");
	cfg.params.schema = jv_null();
	cfg.params.options = jv_object();
	parse_options(&cfg, &args, argc, argv);
	validate_config(&cfg, &args);
	out_init();
	out_defer_epipe();
	rc = engine_run(&cfg);
	free_config(&cfg);
	return out_close(rc);
}
