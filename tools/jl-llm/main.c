/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm: an LLM call per record, rate-limited, retried, cached. This file
 * is the command: options, keys, templates and checks; engine.c runs the
 * records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "exitcodes.h"
#include "netopt.h"
#include "opt.h"
#include "out.h"
#include "util.h"
#include "version.h"

enum {
	OPT_PROMPT_FILE = 256,
	OPT_SYSTEM_FILE,
	OPT_JSON,
	OPT_SCHEMA,
	OPT_TEMPERATURE,
	OPT_MAX_TOKENS,
	OPT_SEED,
	OPT_INTO,
	OPT_DRY_RUN,
	OPT_TRUNCATE,
	OPT_TPM,
	OPT_TIMEOUT,
	OPT_FALLBACK,
	OPT_COOLDOWN,
};

static const struct opt_spec options[] = {
	{ 'm', "model", 'm', "PROVIDER/MODEL", "the model (default: $JL_MODEL)" },
	{ 'p', "prompt", 'p', "TEMPLATE", "the prompt, with {{ jq }} placeholders" },
	{ OPT_PROMPT_FILE, "prompt-file", 0, "FILE", "the prompt template from FILE" },
	{ 's', "system", 's', "TEXT", "the system prompt (a template too)" },
	{ OPT_SYSTEM_FILE, "system-file", 0, "FILE", "the system prompt from FILE" },
	{ OPT_JSON, "json", 0, NULL, "ask for a JSON object and parse it into .llm.content" },
	{ OPT_SCHEMA, "schema", 0, "FILE", "a JSON schema for the answer (implies --json)" },
	{ OPT_TEMPERATURE, "temperature", 0, "T", "sampling temperature" },
	{ OPT_MAX_TOKENS, "max-tokens", 0, "N", "cap on the answer's tokens" },
	{ OPT_SEED, "seed", 0, "N", "the provider's sampling seed (and the retry jitter's)" },
	{ 'o', "option", 'o', "KEY=VALUE", "set KEY in the request body (VALUE as JSON if it is)" },
	{ OPT_INTO, "into", 0, "NAME", "the field to add (default llm)" },
	{ OPT_DRY_RUN, "dry-run", 0, NULL,
		"no requests: emit each request and its estimated usage" },
	{ OPT_TRUNCATE, "truncate", 0, NULL,
		"shrink the longest value when the prompt is too long" },
	{ OPT_TPM, "tpm", 0, "N", "tokens per minute, shared by every process (default none)" },
	{ OPT_TIMEOUT, "timeout", 0, "SECS", "per attempt (default 120)" },
	{ OPT_FALLBACK, "fallback", 0, "PROVIDER/MODEL",
		"a model to use when the last fails (repeatable)" },
	{ OPT_COOLDOWN, "cooldown", 0, "SECS", "how long a fallback stands in (default 60)" },
	{ 'q', "quiet", 'q', NULL, "no warnings or summary on stderr" },
	NETLOOP_OPTIONS,
	{ 0, NULL, 0, NULL, NULL },
};

static const struct opt_tool tool = {
	.synopsis = "[options] -m PROVIDER/MODEL -p TEMPLATE",
	.summary = "Call an LLM for each record; add its answer as .llm.",
	.options = options,
	.version = netopt_print_versions,
};

/* What parse_options gathers before the checks turn it into the engine's config. */
struct llm_args {
	const char *model;
	const char *fallbacks[MAX_MODELS];
	size_t nfallbacks;
	const char *prompt, *prompt_file, *system, *system_file, *schema_file;
	struct netopt net;
};

/* -o KEY=VALUE: VALUE as JSON when it parses, else as a string. */
static void
add_option(struct llm_config *cfg, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *key;
	jv value;

	if (eq == NULL || eq == arg)
		opt_usage_error(&tool, "--option takes KEY=VALUE, not '%s'", arg);
	key = xmemdup(arg, (size_t)(eq - arg));
	value = jv_parse(eq + 1);
	if (!jv_is_valid(value)) {
		jv_free(value);
		value = jv_string(eq + 1);
	}
	cfg->params.options = jv_object_set(cfg->params.options, jv_string(key), value);
	free(key);
}

static void
parse_options(struct llm_config *cfg, struct llm_args *a, int argc, char **argv)
{
	struct opt_state st;
	const char *arg;
	int id;

	opt_init(&st, &tool, argc, argv);
	while ((id = opt_next(&st, &arg)) != OPT_DONE) {
		if (netopt_parse(&tool, &cfg->loop, &a->net, id, arg))
			continue;
		switch (id) {
		case 'm':
			a->model = arg;
			break;
		case 'p':
			a->prompt = arg;
			break;
		case OPT_PROMPT_FILE:
			a->prompt_file = arg;
			break;
		case 's':
			a->system = arg;
			break;
		case OPT_SYSTEM_FILE:
			a->system_file = arg;
			break;
		case OPT_JSON:
			cfg->params.json = true;
			break;
		case OPT_SCHEMA:
			a->schema_file = arg;
			cfg->params.json = true;
			break;
		case OPT_TEMPERATURE:
			cfg->params.has_temperature = true;
			cfg->params.temperature = netopt_number(&tool, "temperature", arg, 0, 2);
			break;
		case OPT_MAX_TOKENS:
			cfg->params.max_tokens = (long)opt_uint("max-tokens", arg, 1, 10000000);
			break;
		case OPT_SEED:
			cfg->params.has_seed = true;
			cfg->params.seed = (long long)opt_uint("seed", arg, 0, 1ULL << 62);
			cfg->loop.seed = (unsigned long long)cfg->params.seed;
			cfg->seeded = true;
			break;
		case 'o':
			add_option(cfg, arg);
			break;
		case OPT_INTO:
			if (*arg == '\0')
				opt_usage_error(&tool, "--into needs a name");
			cfg->loop.into = arg;
			break;
		case OPT_DRY_RUN:
			cfg->dry_run = true;
			break;
		case OPT_TRUNCATE:
			cfg->truncate = true;
			break;
		case OPT_TPM:
			cfg->loop.tpm = netopt_number(&tool, "tpm", arg, 0, 1e10);
			break;
		case OPT_TIMEOUT:
			cfg->timeout_ms =
				(long)(netopt_number(&tool, "timeout", arg, 0.001, 86400) * 1000);
			break;
		case OPT_FALLBACK:
			if (a->nfallbacks == MAX_MODELS - 1)
				opt_usage_error(&tool, "at most %d --fallback models",
					MAX_MODELS - 1);
			a->fallbacks[a->nfallbacks++] = arg;
			break;
		case OPT_COOLDOWN:
			cfg->loop.cooldown_ms =
				(long)(netopt_number(&tool, "cooldown", arg, 0, 86400) * 1000);
			break;
		case 'q':
			cfg->loop.quiet = true;
			break;
		}
	}
	if (st.operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[st.operand]);
	opt_free(&st);
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

/* Cross-option checks, files, keys: everything that can fail before any input is read. */
static void
validate_config(struct llm_config *cfg, struct llm_args *a)
{
	struct buf err = BUF_INIT;
	const char *specs[MAX_MODELS];
	char *text;

	if (a->model == NULL)
		a->model = getenv("JL_MODEL");
	if (a->model == NULL || *a->model == '\0')
		opt_usage_error(&tool, "no model: give -m PROVIDER/MODEL or set JL_MODEL");
	if ((a->prompt == NULL) == (a->prompt_file == NULL))
		opt_usage_error(&tool, "give one of --prompt and --prompt-file");
	if (a->system != NULL && a->system_file != NULL)
		opt_usage_error(&tool, "give --system or --system-file, not both");
	specs[0] = a->model;
	memcpy(specs + 1, a->fallbacks, a->nfallbacks * sizeof(*specs));
	cfg->nmodels = 1 + a->nfallbacks;
	for (size_t i = 0; i < cfg->nmodels; i++)
		if (model_parse(specs[i], &cfg->models[i], &err) != 0)
			die(EXIT_CONFIG, "%s", buf_cstr(&err));
	cfg->base_url = a->net.base_url;
	netopt_finish(&cfg->loop, &a->net, cfg->seeded);
	text = a->prompt_file ? netopt_read_file(a->prompt_file, "prompt file")
			      : xstrdup(a->prompt);
	cfg->prompt = compile_template(text, "prompt");
	free(text);
	if (a->system != NULL || a->system_file != NULL) {
		text = a->system_file ? netopt_read_file(a->system_file, "system file")
				      : xstrdup(a->system);
		cfg->system = compile_template(text, "system");
		free(text);
	}
	if (a->schema_file != NULL) {
		text = netopt_read_file(a->schema_file, "schema");
		cfg->params.schema = jv_parse(text);
		free(text);
		if (jv_get_kind(cfg->params.schema) != JV_KIND_OBJECT)
			die(EXIT_CONFIG, "the schema '%s' is not a JSON object", a->schema_file);
	}
	for (size_t i = 0; i < cfg->nmodels; i++) {
		const struct provider *p = cfg->models[i].provider;

		cfg->keys[i] = netopt_find_key(a->net.key_file, p->key_env);
		if (cfg->keys[i] == NULL && p->key_required && !cfg->dry_run)
			die(EXIT_CONFIG,
				"%s is not set: export the key of %s, or give --api-key-file FILE",
				p->key_env, p->name);
	}
	cfg->key_from_file = a->net.key_file != NULL;
	buf_free(&err);
}

static void
free_config(struct llm_config *cfg)
{
	for (size_t i = 0; i < cfg->nmodels; i++) {
		netopt_free_key(cfg->keys[i]);
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
	struct llm_config cfg = { .params = { .max_tokens = -1 }, .timeout_ms = 120000 };
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
