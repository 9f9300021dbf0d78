/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm: an LLM call per record, rate-limited, retried, cached. This file
 * is the command: options, keys, templates and checks; engine.c runs the
 * records.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "opt.h"
#include "out.h"
#include "util.h"
#include "version.h"

enum {
	OPT_BASE_URL = 256,
	OPT_KEY_FILE,
	OPT_PROMPT_FILE,
	OPT_SYSTEM_FILE,
	OPT_JSON,
	OPT_SCHEMA,
	OPT_TEMPERATURE,
	OPT_MAX_TOKENS,
	OPT_SEED,
	OPT_INTO,
	OPT_DRY_RUN,
	OPT_TRUNCATE,
	OPT_RPM,
	OPT_TPM,
	OPT_LIMITER_KEY,
	OPT_RETRIES,
	OPT_TIMEOUT,
	OPT_RETRY_BASE,
	OPT_MAX_RETRY_AFTER,
	OPT_FALLBACK,
	OPT_COOLDOWN,
	OPT_MAX_FAILURES,
	OPT_NO_CHECK,
	OPT_DB,
	OPT_LOG,
	OPT_CACERT,
	OPT_TOTAL,
	OPT_STRICT,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
};

static const struct opt_spec options[] = {
	{ 'm', "model", 'm', "PROVIDER/MODEL", "the model (default: $JL_MODEL)" },
	{ OPT_BASE_URL, "base-url", 0, "URL",
		"the provider's endpoint (any OpenAI-compatible server)" },
	{ OPT_KEY_FILE, "api-key-file", 0, "FILE", "read the key from FILE (mode 0600)" },
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
	{ 'j', "parallel", 'j', "N", "requests in flight (default 8)" },
	{ OPT_RPM, "rpm", 0, "N", "requests per minute, shared by every process (default none)" },
	{ OPT_TPM, "tpm", 0, "N", "tokens per minute, shared by every process (default none)" },
	{ OPT_LIMITER_KEY, "limiter-key", 0, "KEY", "share limits under KEY (default the model)" },
	{ OPT_RETRIES, "retries", 0, "N", "retries per record (default 6)" },
	{ OPT_TIMEOUT, "timeout", 0, "SECS", "per attempt (default 120)" },
	{ OPT_RETRY_BASE, "retry-base-ms", 0, "MS", "first backoff, doubling (default 1000)" },
	{ OPT_MAX_RETRY_AFTER, "max-retry-after", 0, "SECS",
		"longest wait a server may ask (default 120)" },
	{ OPT_FALLBACK, "fallback", 0, "PROVIDER/MODEL",
		"a model to use when the last fails (repeatable)" },
	{ OPT_COOLDOWN, "cooldown", 0, "SECS", "how long a fallback stands in (default 60)" },
	{ OPT_MAX_FAILURES, "max-consecutive-failures", 0, "N",
		"stop after N records fail on server errors (default 20)" },
	{ OPT_NO_CHECK, "no-check", 0, NULL, "do not check the key before reading input" },
	{ OPT_DB, "db", 0, "FILE", "cache answers in the run database FILE (default $JL_DB)" },
	{ OPT_LOG, "log", 0, "FILE", "append one JSON line per HTTP attempt" },
	{ OPT_CACERT, "cacert", 0, "FILE", "CA certificates to verify the server with" },
	{ 'k', "keep-order", 'k', NULL, "write records in input order" },
	{ OPT_TOTAL, "total", 0, "N", "the number of records, for the ETA" },
	{ OPT_STRICT, "strict", 0, NULL, "exit 1 when a record carries _error" },
	{ 'q', "quiet", 'q', NULL, "no warnings or summary on stderr" },
	{ 'v', "verbose", 'v', NULL, "a line on stderr for each failed attempt" },
	{ OPT_PROGRESS, "progress", 0, NULL, "show progress even when stderr is not a terminal" },
	{ OPT_NO_PROGRESS, "no-progress", 0, NULL, "never show progress" },
	{ 0, NULL, 0, NULL, NULL },
};

static void print_versions(void);

static const struct opt_tool tool = {
	.synopsis = "[options] -m PROVIDER/MODEL -p TEMPLATE",
	.summary = "Call an LLM for each record; add its answer as .llm.",
	.options = options,
	.version = print_versions,
};

/* What parse_options gathers before the checks turn it into the engine's config. */
struct llm_args {
	const char *model;
	const char *fallbacks[MAX_MODELS];
	size_t nfallbacks;
	const char *prompt, *prompt_file, *system, *system_file, *schema_file, *key_file;
};

static void
print_versions(void)
{
	char jq[32];

	version_line("libcurl", curl_version_info(CURLVERSION_NOW)->version);
	version_line("sqlite", sqlite3_libversion());
	snprintf(jq, sizeof(jq), "%s (build)", JQ_BUILD_VERSION);
	version_line("libjq", jq);
	version_common();
}

static double
parse_number(const char *option, const char *arg, double min, double max)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(v >= min && v <= max))
		opt_usage_error(&tool,
			"invalid value '%s' for --%s: expected a number from %g to %g", arg, option,
			min, max);
	return v;
}

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
		switch (id) {
		case 'm':
			a->model = arg;
			break;
		case OPT_BASE_URL:
			cfg->base_url = arg;
			break;
		case OPT_KEY_FILE:
			a->key_file = arg;
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
			cfg->params.temperature = parse_number("temperature", arg, 0, 2);
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
		case 'j':
			cfg->loop.jobs = (long)opt_uint("parallel", arg, 1, 1024);
			break;
		case OPT_RPM:
			cfg->loop.rpm = parse_number("rpm", arg, 0, 1e7);
			break;
		case OPT_TPM:
			cfg->loop.tpm = parse_number("tpm", arg, 0, 1e10);
			break;
		case OPT_LIMITER_KEY:
			cfg->loop.limiter_key = arg;
			break;
		case OPT_RETRIES:
			cfg->loop.retries = (int)opt_uint("retries", arg, 0, 100);
			break;
		case OPT_TIMEOUT:
			cfg->timeout_ms = (long)(parse_number("timeout", arg, 0.001, 86400) * 1000);
			break;
		case OPT_RETRY_BASE:
			cfg->loop.retry_base_ms = (long)opt_uint("retry-base-ms", arg, 1, 600000);
			break;
		case OPT_MAX_RETRY_AFTER:
			cfg->loop.max_retry_after_ms =
				(long)(parse_number("max-retry-after", arg, 0, 86400) * 1000);
			break;
		case OPT_FALLBACK:
			if (a->nfallbacks == MAX_MODELS - 1)
				opt_usage_error(&tool, "at most %d --fallback models",
					MAX_MODELS - 1);
			a->fallbacks[a->nfallbacks++] = arg;
			break;
		case OPT_COOLDOWN:
			cfg->loop.cooldown_ms =
				(long)(parse_number("cooldown", arg, 0, 86400) * 1000);
			break;
		case OPT_MAX_FAILURES:
			cfg->loop.max_consecutive_failures =
				(int)opt_uint("max-consecutive-failures", arg, 1, 1000000);
			break;
		case OPT_NO_CHECK:
			cfg->loop.check = false;
			break;
		case OPT_DB:
			cfg->loop.db_path = arg;
			break;
		case OPT_LOG:
			cfg->loop.log_path = arg;
			break;
		case OPT_CACERT:
			cfg->loop.cacert = arg;
			break;
		case 'k':
			cfg->loop.keep_order = true;
			break;
		case OPT_TOTAL:
			cfg->loop.total = opt_uint("total", arg, 1, ~0ULL);
			break;
		case OPT_STRICT:
			cfg->loop.strict = true;
			break;
		case 'q':
			cfg->loop.quiet = true;
			break;
		case 'v':
			cfg->loop.verbose = true;
			break;
		case OPT_PROGRESS:
			cfg->loop.progress = PROGRESS_ON;
			break;
		case OPT_NO_PROGRESS:
			cfg->loop.progress = PROGRESS_OFF;
			break;
		}
	}
	if (st.operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[st.operand]);
	opt_free(&st);
}

/* Read a whole small file (a template, a schema, a key); dies with 78 when it cannot. */
static char *
read_file(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		die(EXIT_CONFIG, "cannot open the %s '%s':", what, path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f))
		die(EXIT_CONFIG, "cannot read the %s '%s':", what, path);
	fclose(f);
	return (char *)buf_cstr(&b);
}

/*
 * The key of a provider: from --api-key-file (refused when others may
 * read it) or its environment variable. NULL when none is needed.
 */
static char *
find_key(const struct provider *p, const char *key_file, bool needed)
{
	const char *env;
	char *key;
	struct stat st;

	if (key_file != NULL) {
		int fd = open(key_file, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) != 0)
			die(EXIT_CONFIG, "cannot open the key file '%s':", key_file);
		close(fd);
		if (st.st_mode & (S_IRWXG | S_IRWXO))
			die(EXIT_CONFIG,
				"the key file '%s' may be read by others (mode %03o): "
				"chmod 600 it",
				key_file, (unsigned)(st.st_mode & 0777));
		key = read_file(key_file, "key file");
		key[strcspn(key, "\r\n")] = '\0';
		return key;
	}
	env = p->key_env != NULL ? getenv(p->key_env) : NULL;
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (needed && p->key_required)
		die(EXIT_CONFIG, "%s is not set: export the key of %s, or give --api-key-file FILE",
			p->key_env, p->name);
	return NULL;
}

/* http only to this machine; anything else must be https. */
static void
check_base_url(const char *url)
{
	static const char *const loopback[] = { "http://127.", "http://localhost", "http://[::1]" };

	if (strncmp(url, "https://", 8) == 0)
		return;
	for (size_t i = 0; i < sizeof(loopback) / sizeof(*loopback); i++)
		if (strncmp(url, loopback[i], strlen(loopback[i])) == 0)
			return;
	die(EXIT_CONFIG,
		"--base-url '%s': only https, or http to this machine (127.0.0.1, localhost)", url);
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
	if (cfg->base_url != NULL)
		check_base_url(cfg->base_url);
	text = a->prompt_file ? read_file(a->prompt_file, "prompt file") : xstrdup(a->prompt);
	cfg->prompt = compile_template(text, "prompt");
	free(text);
	if (a->system != NULL || a->system_file != NULL) {
		text = a->system_file ? read_file(a->system_file, "system file")
				      : xstrdup(a->system);
		cfg->system = compile_template(text, "system");
		free(text);
	}
	if (a->schema_file != NULL) {
		text = read_file(a->schema_file, "schema");
		cfg->params.schema = jv_parse(text);
		free(text);
		if (jv_get_kind(cfg->params.schema) != JV_KIND_OBJECT)
			die(EXIT_CONFIG, "the schema '%s' is not a JSON object", a->schema_file);
	}
	if (cfg->loop.db_path == NULL && getenv("JL_DB") != NULL && *getenv("JL_DB") != '\0')
		cfg->loop.db_path = getenv("JL_DB");
	for (size_t i = 0; i < cfg->nmodels; i++)
		cfg->keys[i] = find_key(cfg->models[i].provider, a->key_file, !cfg->dry_run);
	cfg->key_from_file = a->key_file != NULL;
	if (!cfg->seeded) /* the retries of parallel processes must not move in step */
		cfg->loop.seed = (unsigned long long)getpid() * 2654435761ULL ^
			(unsigned long long)time(NULL);
	buf_free(&err);
}

static void
on_stop_signal(int sig)
{
	(void)sig;
	netloop_request_stop();
}

static void
free_config(struct llm_config *cfg)
{
	for (size_t i = 0; i < cfg->nmodels; i++) {
		if (cfg->keys[i] != NULL) {
			explicit_bzero(cfg->keys[i], strlen(cfg->keys[i]));
			free(cfg->keys[i]);
		}
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
		.loop = {
			.into = "llm",
			.jobs = 8,
			.retries = 6,
			.retry_base_ms = 1000,
			.max_retry_after_ms = 120000,
			.cooldown_ms = 60000,
			.fallback_after = 3,
			.max_consecutive_failures = 20,
			.grace_ms = 10000,
			.check = true,
			.progress = PROGRESS_AUTO,
			.seed = 1,
		},
		.params = { .max_tokens = -1 },
		.timeout_ms = 120000,
	};
	struct llm_args args = { 0 };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct rlimit no_core = { 0, 0 };
	int rc;

	tool_init(argv[0]);
	setrlimit(RLIMIT_CORE, &no_core); /* a core file would hold the key */
	cfg.params.schema = jv_null();
	cfg.params.options = jv_object();
	parse_options(&cfg, &args, argc, argv);
	validate_config(&cfg, &args);
	signal(SIGPIPE, SIG_IGN); /* a socket's EPIPE must not kill us mid-commit */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	out_init();
	out_defer_epipe();
	rc = engine_run(&cfg);
	free_config(&cfg);
	return out_close(rc);
}
