/* SPDX-License-Identifier: BSD-2-Clause */
/* Providers: endpoints, request bodies, answers and failures, per dialect and route. */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "failure.h"
#include "provider.h"
#include "record.h"
#include "sha256.h"
#include "sigv4.h"
#include "util.h"

/* doc/protocols.md §1.1, §3, §9, §10; jl-llm(1), Providers. */
static const struct provider providers[] = {
	{ "openai", "https://api.openai.com/v1", NULL, "OPENAI_API_KEY", true, DIALECT_OPENAI,
		ROUTE_BASE, "max_completion_tokens", BATCH_OPENAI },
	{ "groq", "https://api.groq.com/openai/v1", NULL, "GROQ_API_KEY", true, DIALECT_OPENAI,
		ROUTE_BASE, "max_tokens", BATCH_OPENAI },
	{ "openrouter", "https://openrouter.ai/api/v1", NULL, "OPENROUTER_API_KEY", true,
		DIALECT_OPENAI, ROUTE_BASE, "max_tokens", BATCH_NONE },
	{ "together", "https://api.together.xyz/v1", NULL, "TOGETHER_API_KEY", true, DIALECT_OPENAI,
		ROUTE_BASE, "max_tokens", BATCH_NONE },
	{ "anthropic", "https://api.anthropic.com/v1", NULL, "ANTHROPIC_API_KEY", true,
		DIALECT_ANTHROPIC, ROUTE_BASE, "max_tokens", BATCH_ANTHROPIC },
	{ "gemini", "https://generativelanguage.googleapis.com/v1beta/openai", NULL,
		"GEMINI_API_KEY", true, DIALECT_OPENAI, ROUTE_BASE, "max_tokens", BATCH_NONE },
	{ "mistral", "https://api.mistral.ai/v1", NULL, "MISTRAL_API_KEY", true, DIALECT_OPENAI,
		ROUTE_BASE, "max_tokens", BATCH_NONE },
	{ "deepseek", "https://api.deepseek.com/v1", NULL, "DEEPSEEK_API_KEY", true, DIALECT_OPENAI,
		ROUTE_BASE, "max_tokens", BATCH_NONE },
	{ "xai", "https://api.x.ai/v1", NULL, "XAI_API_KEY", true, DIALECT_OPENAI, ROUTE_BASE,
		"max_tokens", BATCH_NONE },
	{ "fireworks", "https://api.fireworks.ai/inference/v1", NULL, "FIREWORKS_API_KEY", true,
		DIALECT_OPENAI, ROUTE_BASE, "max_tokens", BATCH_NONE },
	{ "cerebras", "https://api.cerebras.ai/v1", NULL, "CEREBRAS_API_KEY", true, DIALECT_OPENAI,
		ROUTE_BASE, "max_completion_tokens", BATCH_NONE },
	{ "azure", NULL, "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", true, DIALECT_OPENAI,
		ROUTE_AZURE, "max_tokens", BATCH_NONE },
	{ "bedrock", NULL, NULL, "AWS_SECRET_ACCESS_KEY", true, DIALECT_CONVERSE, ROUTE_BEDROCK,
		"maxTokens", BATCH_NONE },
	{ "ollama", "http://localhost:11434/v1", NULL, NULL, false, DIALECT_OPENAI, ROUTE_BASE,
		"max_tokens", BATCH_NONE },
	{ "llamacpp", "http://127.0.0.1:8080/v1", NULL, "LLAMACPP_API_KEY", false, DIALECT_OPENAI,
		ROUTE_BASE, "max_tokens", BATCH_NONE },
	{ "vllm", "http://localhost:8000/v1", NULL, "VLLM_API_KEY", false, DIALECT_OPENAI,
		ROUTE_BASE, "max_tokens", BATCH_NONE },
};

#define NPROVIDERS (sizeof(providers) / sizeof(*providers))

/* Anthropic requires an output cap; this is jl-llm's when --max-tokens is not given. */
#define ANTHROPIC_DEFAULT_MAX_TOKENS 1024

/*
 * The shortest prefix Anthropic caches, in tokens: 2,048 for the Haiku
 * models, 1,024 for the others (doc/protocols.md §3).
 */
#define ANTHROPIC_CACHE_MIN 1024
#define ANTHROPIC_CACHE_MIN_HAIKU 2048

const struct provider *
provider_find(const char *name)
{
	for (size_t i = 0; i < NPROVIDERS; i++)
		if (strcmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

const char *
provider_names(void)
{
	static struct buf names = BUF_INIT; /* made once, from the table */

	if (names.len == 0)
		for (size_t i = 0; i < NPROVIDERS; i++) {
			buf_puts(&names, i > 0 ? ", " : "");
			buf_puts(&names, providers[i].name);
		}
	return buf_cstr(&names);
}

int
model_parse(const char *spec, struct model_ref *m, struct buf *err)
{
	const char *slash = strchr(spec, '/');
	char *name;

	if (slash == NULL || slash == spec || slash[1] == '\0') {
		buf_puts(err, "model '");
		buf_puts(err, spec);
		buf_puts(err, "' is not PROVIDER/MODEL (e.g. openai/gpt-4o-mini)");
		return -1;
	}
	name = xmemdup(spec, (size_t)(slash - spec));
	m->provider = provider_find(name);
	free(name);
	if (m->provider == NULL) {
		buf_puts(err, "unknown provider in '");
		buf_puts(err, spec);
		buf_puts(err, "' (known: ");
		buf_puts(err, provider_names());
		buf_puts(err, ")");
		return -1;
	}
	m->model = xstrdup(slash + 1);
	m->id = xstrdup(spec);
	return 0;
}

void
model_free(struct model_ref *m)
{
	free(m->model);
	free(m->id);
	m->model = m->id = NULL;
}

static bool
mentions_json(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	bool found;

	buf_add(&b, s, n);
	found = strcasestr(buf_cstr(&b), "json") != NULL;
	buf_free(&b);
	return found;
}

/* [{"text": s}]: a content list of Converse. */
static jv
text_blocks(const char *s, size_t n)
{
	return jv_array_append(jv_array(),
		jv_object_set(jv_object(), jv_string("text"), jv_string_sized(s, (int)n)));
}

static jv
message(const char *role, jv content)
{
	return jv_object_set(jv_object_set(jv_object(), jv_string("role"), jv_string(role)),
		jv_string("content"), content);
}

void
prompt_cache_key(const char *system, const char *prompt, char key[PROMPT_CACHE_KEY_SIZE])
{
	unsigned char hash[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 1];
	struct sha256 h;

	sha256_init(&h);
	if (system != NULL)
		sha256_update(&h, system, strlen(system));
	sha256_update(&h, "", 1); /* the NUL between the two */
	sha256_update(&h, prompt, strlen(prompt));
	sha256_final(&h, hash);
	sha256_hex(hash, hex);
	snprintf(key, PROMPT_CACHE_KEY_SIZE, "jl-%.16s", hex);
}

/* The OpenAI dialect's body (doc/protocols.md §1.2), without -o. */
static jv
openai_body(const struct model_ref *m, const struct llm_params *p, const struct buf *sys,
	const char *prompt, size_t prompt_len)
{
	jv body = jv_object_set(jv_object(), jv_string("model"), jv_string(m->model));
	jv messages = jv_array();

	if (sys->len > 0)
		messages = jv_array_append(messages,
			message("system", jv_string_sized(sys->data, (int)sys->len)));
	messages = jv_array_append(messages,
		message("user", jv_string_sized(prompt, (int)prompt_len)));
	body = jv_object_set(body, jv_string("messages"), messages);
	if (p->has_temperature)
		body = jv_object_set(body, jv_string("temperature"), jv_number(p->temperature));
	if (p->max_tokens >= 0)
		body = jv_object_set(body, jv_string(m->provider->max_tokens_field),
			jv_number((double)p->max_tokens));
	if (p->has_seed)
		body = jv_object_set(body, jv_string("seed"), jv_number((double)p->seed));
	if (p->json) {
		jv format = jv_object();

		if (jv_get_kind(p->schema) != JV_KIND_NULL) {
			jv spec =
				jv_object_set(jv_object(), jv_string("name"), jv_string("record"));

			spec = jv_object_set(spec, jv_string("strict"), jv_true());
			spec = jv_object_set(spec, jv_string("schema"), jv_copy(p->schema));
			format = jv_object_set(format, jv_string("type"), jv_string("json_schema"));
			format = jv_object_set(format, jv_string("json_schema"), spec);
		} else {
			format = jv_object_set(format, jv_string("type"), jv_string("json_object"));
		}
		body = jv_object_set(body, jv_string("response_format"), format);
	}
	/* Only OpenAI's own API is known to take it: Azure deployments of some models refuse it. */
	if (p->cache && strcmp(m->provider->name, "openai") == 0)
		body = jv_object_set(body, jv_string("prompt_cache_key"), jv_string(p->cache_key));
	return body;
}

/* An Anthropic text block of the n bytes of s, marked for the prompt cache when cached. */
static jv
anthropic_text(const char *s, size_t n, bool cached)
{
	jv block = jv_object_set(jv_object(), jv_string("type"), jv_string("text"));

	block = jv_object_set(block, jv_string("text"), jv_string_sized(s, (int)n));
	if (cached)
		block = jv_object_set(block, jv_string("cache_control"),
			jv_object_set(jv_object(), jv_string("type"), jv_string("ephemeral")));
	return block;
}

/*
 * The content of Anthropic's user message: the prompt, a string. With
 * --cache, when the system prompt (sys_len bytes) and the prompt's fixed
 * head reach the model's minimum cacheable length (bytes / 4 as tokens),
 * two text blocks instead: the head, marked for the cache, then the rest.
 */
static jv
anthropic_user(const struct model_ref *m, const struct llm_params *p, size_t sys_len,
	const char *prompt, size_t prompt_len)
{
	size_t head = p->prompt_head <= prompt_len ? p->prompt_head : 0;
	size_t min = strcasestr(m->model, "haiku") != NULL ? ANTHROPIC_CACHE_MIN_HAIKU
							   : ANTHROPIC_CACHE_MIN;
	jv content;

	if (!p->cache || head == 0 || (sys_len + head) / 4 < min)
		return jv_string_sized(prompt, (int)prompt_len);
	content = jv_array_append(jv_array(), anthropic_text(prompt, head, true));
	if (head < prompt_len) /* the API refuses an empty text block */
		content = jv_array_append(content,
			anthropic_text(prompt + head, prompt_len - head, false));
	return content;
}

/*
 * Anthropic's body (§3): the cap is required, the system prompt is
 * top-level, no seed; with --cache the system prompt is a text block marked
 * for the prompt cache, and the prompt perhaps two blocks (anthropic_user).
 */
static jv
anthropic_body(const struct model_ref *m, const struct llm_params *p, const struct buf *sys,
	const char *prompt, size_t prompt_len)
{
	jv body = jv_object_set(jv_object(), jv_string("model"), jv_string(m->model));

	body = jv_object_set(body, jv_string("max_tokens"),
		jv_number(
			p->max_tokens >= 0 ? (double)p->max_tokens : ANTHROPIC_DEFAULT_MAX_TOKENS));
	if (sys->len > 0 && p->cache)
		body = jv_object_set(body, jv_string("system"),
			jv_array_append(jv_array(), anthropic_text(sys->data, sys->len, true)));
	else if (sys->len > 0)
		body = jv_object_set(body, jv_string("system"),
			jv_string_sized(sys->data, (int)sys->len));
	body = jv_object_set(body, jv_string("messages"),
		jv_array_append(jv_array(),
			message("user", anthropic_user(m, p, sys->len, prompt, prompt_len))));
	if (p->has_temperature)
		body = jv_object_set(body, jv_string("temperature"), jv_number(p->temperature));
	return body;
}

/* Converse's body (§10): the model is in the URL; text blocks; the options in inferenceConfig. */
static jv
converse_body(const struct model_ref *m, const struct llm_params *p, const struct buf *sys,
	const char *prompt, size_t prompt_len)
{
	jv body = jv_object_set(jv_object(), jv_string("messages"),
		jv_array_append(jv_array(), message("user", text_blocks(prompt, prompt_len))));
	jv config = jv_object();

	if (sys->len > 0)
		body = jv_object_set(body, jv_string("system"), text_blocks(sys->data, sys->len));
	if (p->max_tokens >= 0)
		config = jv_object_set(config, jv_string(m->provider->max_tokens_field),
			jv_number((double)p->max_tokens));
	if (p->has_temperature)
		config = jv_object_set(config, jv_string("temperature"), jv_number(p->temperature));
	if (jv_object_length(jv_copy(config)) > 0)
		body = jv_object_set(body, jv_string("inferenceConfig"), config);
	else
		jv_free(config);
	return body;
}

void
build_body(const struct model_ref *m, const struct llm_params *p, const char *system,
	size_t system_len, const char *prompt, size_t prompt_len, struct buf *out)
{
	enum dialect d = m->provider->dialect;
	struct buf sys = BUF_INIT;
	jv body, dumped;

	if (system != NULL)
		buf_add(&sys, system, system_len);
	/*
	 * The OpenAI JSON mode needs the prompt to ask for JSON too; the other
	 * dialects have no JSON mode, so the system prompt always asks.
	 */
	if (p->json &&
		(d != DIALECT_OPENAI ||
			(!mentions_json(sys.data ? sys.data : "", sys.len) &&
				!mentions_json(prompt, prompt_len)))) {
		buf_puts(&sys, sys.len > 0 ? "\n\n" : "");
		buf_puts(&sys, "Answer with one JSON object and nothing else.");
		if (d != DIALECT_OPENAI && jv_get_kind(p->schema) != JV_KIND_NULL) {
			jv schema = jv_dump_string(jv_copy(p->schema), 0);

			buf_puts(&sys, " It must follow this JSON schema: ");
			buf_puts(&sys, jv_string_value(schema));
			jv_free(schema);
		}
	}
	body = d == DIALECT_ANTHROPIC   ? anthropic_body(m, p, &sys, prompt, prompt_len)
		: d == DIALECT_CONVERSE ? converse_body(m, p, &sys, prompt, prompt_len)
					: openai_body(m, p, &sys, prompt, prompt_len);
	if (jv_get_kind(p->options) == JV_KIND_OBJECT)
		body = jv_object_merge(body, jv_copy(p->options));
	dumped = jv_dump_string(body, 0);
	buf_add(out, jv_string_value(dumped), (size_t)jv_string_length_bytes(jv_copy(dumped)));
	jv_free(dumped);
	buf_free(&sys);
}

/* The value of the variable name, or NULL when it is not set or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* An AWS region's name: lower-case letters, digits and '-' ("us-east-1"), so a host stays one. */
static bool
is_region(const char *s)
{
	return *s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

int
endpoint_init(const struct provider *p, const char *base_url, struct endpoint *e, struct buf *err)
{
	struct buf base = BUF_INIT;
	const char *from = base_url != NULL ? base_url : p->base_url;
	size_t n;

	*e = (struct endpoint){ 0 };
	if (from == NULL && p->base_env != NULL && (from = env(p->base_env)) == NULL) {
		buf_puts(err, p->name);
		buf_puts(err, " needs its endpoint: export ");
		buf_puts(err, p->base_env);
		buf_puts(err, " (https://RESOURCE.openai.azure.com), or give --base-url URL");
		return -1;
	}
	if (p->route == ROUTE_BEDROCK) {
		const char *region = env("AWS_REGION"), *key_id = env("AWS_ACCESS_KEY_ID");

		if (region == NULL)
			region = env("AWS_DEFAULT_REGION");
		if (region == NULL || !is_region(region)) {
			buf_puts(err,
				region == NULL ? "bedrock needs a region: export AWS_REGION"
					       : "the region is not a region name: set AWS_REGION");
			buf_puts(err, " (or AWS_DEFAULT_REGION) to one, such as us-east-1");
			return -1;
		}
		if (key_id == NULL) {
			buf_puts(err,
				"AWS_ACCESS_KEY_ID is not set: export the access key id of bedrock "
				"(its secret comes from AWS_SECRET_ACCESS_KEY or --api-key-file)");
			return -1;
		}
		e->region = xstrdup(region);
		e->key_id = xstrdup(key_id);
		e->token = env("AWS_SESSION_TOKEN") ? xstrdup(env("AWS_SESSION_TOKEN")) : NULL;
		if (from == NULL) {
			buf_puts(&base, "https://bedrock-runtime.");
			buf_puts(&base, region);
			buf_puts(&base, ".amazonaws.com");
			from = buf_cstr(&base);
		}
	}
	if (p->route == ROUTE_AZURE)
		e->api_version = xstrdup(
			env("OPENAI_API_VERSION") ? env("OPENAI_API_VERSION") : AZURE_API_VERSION);
	n = strlen(from);
	while (n > 0 && from[n - 1] == '/')
		n--;
	e->base = xmemdup(from, n);
	buf_free(&base);
	return 0;
}

void
endpoint_free(struct endpoint *e)
{
	if (e->token != NULL)
		explicit_bzero(e->token, strlen(e->token));
	free(e->base);
	free(e->api_version);
	free(e->region);
	free(e->key_id);
	free(e->token);
	*e = (struct endpoint){ 0 };
}

/* Add the header head + value ("Authorization: Bearer " + key) to t; the copy is wiped. */
static void
add_header(struct http_transfer *t, const char *head, const char *value)
{
	struct buf line = BUF_INIT;

	buf_puts(&line, head);
	buf_puts(&line, value);
	http_add_header(t, buf_cstr(&line));
	explicit_bzero(line.data, line.size);
	buf_free(&line);
}

/* The version header, and the key as the provider takes it (none for Bedrock). */
static void
add_auth_headers(const struct provider *p, const char *key, struct http_transfer *t)
{
	if (p->dialect == DIALECT_ANTHROPIC)
		http_add_header(t, "anthropic-version: 2023-06-01");
	if (key == NULL || p->route == ROUTE_BEDROCK)
		return;
	if (p->dialect == DIALECT_ANTHROPIC)
		add_header(t, "x-api-key: ", key);
	else if (p->route == ROUTE_AZURE)
		add_header(t, "api-key: ", key);
	else
		add_header(t, "Authorization: Bearer ", key);
}

/* The headers of a JSON request, and the key as the provider takes it. */
static void
add_key_headers(const struct provider *p, const char *key, struct http_transfer *t)
{
	http_add_header(t, "Content-Type: application/json");
	http_add_header(t, "Expect:"); /* no 100-continue round trip for large prompts */
	add_auth_headers(p, key, t);
}

/*
 * Sign t, Bedrock's request to path on e's host, with AWS Signature Version
 * 4 at now: the Host, X-Amz-Date, X-Amz-Security-Token and Authorization
 * headers, with exactly the values signed.
 */
static void
sign_request(const struct endpoint *e, const char *secret, const char *path, time_t now,
	struct http_transfer *t)
{
	const char *scheme_end = strstr(e->base, "://");
	const char *host = scheme_end != NULL ? scheme_end + 3 : e->base;
	struct sigv4_credentials c = { e->key_id, secret != NULL ? secret : "", e->token, e->region,
		"bedrock" };
	struct sigv4_request r = { .method = "POST",
		.query = "",
		.content_type = "application/json",
		.body = t->body.data,
		.body_len = t->body.len };
	struct buf authority = BUF_INIT, full_path = BUF_INIT, authorization = BUF_INIT;
	char date[SIGV4_DATE_SIZE];

	/* The base's authority is the Host; its path, if any, comes before the request's. */
	buf_add(&authority, host, strcspn(host, "/"));
	buf_puts(&full_path, host + authority.len);
	buf_puts(&full_path, path);
	r.host = buf_cstr(&authority);
	r.path = buf_cstr(&full_path);
	sigv4_date(now, date);
	sigv4_authorization(&c, &r, date, &authorization);
	add_header(t, "Host: ", r.host);
	add_header(t, "X-Amz-Date: ", date);
	if (e->token != NULL)
		add_header(t, "X-Amz-Security-Token: ", e->token);
	add_header(t, "Authorization: ", buf_cstr(&authorization));
	buf_free(&authority);
	buf_free(&full_path);
	buf_free(&authorization);
}

void
chat_request(const struct model_ref *m, const struct endpoint *e, const char *key, time_t now,
	struct http_transfer *t)
{
	const struct provider *p = m->provider;
	struct buf path = BUF_INIT, url = BUF_INIT;

	switch (p->route) {
	case ROUTE_BASE:
		buf_puts(&path,
			p->dialect == DIALECT_ANTHROPIC ? "/messages" : "/chat/completions");
		break;
	case ROUTE_AZURE:
		buf_puts(&path, "/openai/deployments/");
		url_encode(&path, m->model, strlen(m->model));
		buf_puts(&path, "/chat/completions?api-version=");
		url_encode(&path, e->api_version, strlen(e->api_version));
		break;
	case ROUTE_BEDROCK:
		buf_puts(&path, "/model/");
		url_encode(&path, m->model, strlen(m->model));
		buf_puts(&path, "/converse");
		break;
	}
	buf_puts(&url, e->base);
	buf_puts(&url, buf_cstr(&path));
	t->url = xstrdup(buf_cstr(&url));
	add_key_headers(p, key, t);
	if (p->route == ROUTE_BEDROCK)
		sign_request(e, key, buf_cstr(&path), now, t);
	buf_free(&path);
	buf_free(&url);
}

bool
check_request(const struct model_ref *m, const struct endpoint *e, const char *key,
	struct http_transfer *t)
{
	const struct provider *p = m->provider;
	struct buf url = BUF_INIT;

	if (p->route == ROUTE_BEDROCK)
		return false; /* bedrock-runtime has no cheap authenticated GET */
	buf_puts(&url, e->base);
	if (p->route == ROUTE_AZURE) {
		buf_puts(&url, "/openai/models?api-version=");
		url_encode(&url, e->api_version, strlen(e->api_version));
	} else {
		buf_puts(&url, "/models");
	}
	t->url = xstrdup(buf_cstr(&url));
	add_key_headers(p, key, t);
	buf_free(&url);
	return true;
}

void
batch_request(const struct model_ref *m, const struct endpoint *e, const char *key,
	const char *path, bool form, struct http_transfer *t)
{
	struct buf url = BUF_INIT;

	buf_puts(&url, e->base);
	buf_puts(&url, path);
	t->url = xstrdup(buf_cstr(&url));
	if (form) {
		http_add_header(t, "Expect:");
		add_auth_headers(m->provider, key, t);
	} else {
		add_key_headers(m->provider, key, t);
	}
	buf_free(&url);
}

long
estimate_tokens(size_t prompt_bytes, long max_tokens)
{
	return (long)((prompt_bytes + 3) / 4) + (max_tokens >= 0 ? max_tokens : 256);
}

/* obj[name] as a number, or 0. Consumes obj? No: borrows. */
static long
number_at(jv obj, const char *name)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(name));
	long n = jv_get_kind(v) == JV_KIND_NUMBER ? (long)jv_number_value(v) : 0;

	jv_free(v);
	return n;
}

/* obj[a][b] as a number, or 0. */
static long
number_at2(jv obj, const char *a, const char *b)
{
	jv inner = jv_object_get(jv_copy(obj), jv_string(a));
	long n = jv_get_kind(inner) == JV_KIND_OBJECT ? number_at(inner, b) : 0;

	jv_free(inner);
	return n;
}

static void
copy_string(jv v, char *out, size_t size)
{
	snprintf(out, size, "%s", jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");
	jv_free(v);
}

/* The "text" of every block of content (consumed), joined, appended to out. */
static void
add_texts(jv content, struct buf *out)
{
	jv_array_foreach(content, i, block)
	{
		jv text = jv_get_kind(block) == JV_KIND_OBJECT
			? jv_object_get(jv_copy(block), jv_string("text"))
			: jv_null();

		(void)i;
		if (jv_get_kind(text) == JV_KIND_STRING)
			buf_add(out, jv_string_value(text),
				(size_t)jv_string_length_bytes(jv_copy(text)));
		jv_free(text);
		jv_free(block);
	}
	jv_free(content);
}

/* The provider's error object in a 200 body: code and message. Returns whether there is one. */
static bool
error_in_body(jv body, char *code, size_t code_size, struct buf *message)
{
	jv err = jv_object_get(jv_copy(body), jv_string("error"));
	bool is_error = jv_get_kind(err) == JV_KIND_OBJECT;

	jv_free(err);
	return is_error && failure_server_error(body, code, code_size, message);
}

static enum answer_status
parse_openai(jv body, struct llm_answer *a, char *code, size_t code_size, struct buf *message)
{
	jv choices, choice, msg, content, usage;

	if (error_in_body(body, code, code_size, message))
		return ANSWER_ERROR; /* OpenRouter: an error object inside a 200 */
	choices = jv_object_get(jv_copy(body), jv_string("choices"));
	if (jv_get_kind(choices) != JV_KIND_ARRAY || jv_array_length(jv_copy(choices)) == 0) {
		jv_free(choices);
		snprintf(code, code_size, "%s", ERR_BAD_RESPONSE);
		buf_puts(message, "the answer has no choices");
		return ANSWER_BAD;
	}
	choice = jv_array_get(choices, 0);
	msg = jv_object_get(jv_copy(choice), jv_string("message"));
	content = jv_get_kind(msg) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(msg), jv_string("content"))
		: jv_null();
	if (jv_get_kind(content) == JV_KIND_STRING)
		buf_add(&a->content, jv_string_value(content),
			(size_t)jv_string_length_bytes(jv_copy(content)));
	jv_free(content);
	jv_free(msg);
	copy_string(jv_object_get(choice, jv_string("finish_reason")), a->finish_reason,
		sizeof(a->finish_reason));
	usage = jv_object_get(jv_copy(body), jv_string("usage"));
	if (jv_get_kind(usage) == JV_KIND_OBJECT) {
		jv cost = jv_object_get(jv_copy(usage), jv_string("cost"));

		a->prompt_tokens = number_at(usage, "prompt_tokens");
		a->completion_tokens = number_at(usage, "completion_tokens");
		a->cached_tokens = number_at2(usage, "prompt_tokens_details", "cached_tokens");
		a->reasoning_tokens =
			number_at2(usage, "completion_tokens_details", "reasoning_tokens");
		if (jv_get_kind(cost) == JV_KIND_NUMBER) {
			a->has_cost = true;
			a->cost = jv_number_value(cost);
		}
		jv_free(cost);
	}
	jv_free(usage);
	return ANSWER_OK;
}

/*
 * a->finish_reason in OpenAI's words for Anthropic's stop_reason or
 * Converse's stopReason (the same words, and Bedrock's filters).
 */
static void
set_finish_reason(struct llm_answer *a, const char *stop)
{
	const char *reason = strcmp(stop, "max_tokens") == 0 ? "length"
		: strcmp(stop, "tool_use") == 0              ? "tool_calls"
		: strcmp(stop, "guardrail_intervened") == 0 || strcmp(stop, "content_filtered") == 0
		? "content_filter"
		: "stop";

	snprintf(a->finish_reason, sizeof(a->finish_reason), "%s", reason);
}

static enum answer_status
parse_anthropic(jv body, struct llm_answer *a, char *code, size_t code_size, struct buf *message)
{
	jv type = jv_object_get(jv_copy(body), jv_string("type")), content, usage;
	char stop[32];

	if (jv_get_kind(type) == JV_KIND_STRING && strcmp(jv_string_value(type), "error") == 0) {
		jv_free(type);
		error_in_body(body, code, code_size, message);
		return ANSWER_ERROR;
	}
	jv_free(type);
	content = jv_object_get(jv_copy(body), jv_string("content"));
	if (jv_get_kind(content) != JV_KIND_ARRAY) {
		jv_free(content);
		snprintf(code, code_size, "%s", ERR_BAD_RESPONSE);
		buf_puts(message, "the answer has no content");
		return ANSWER_BAD;
	}
	add_texts(content, &a->content);
	copy_string(jv_object_get(jv_copy(body), jv_string("stop_reason")), stop, sizeof(stop));
	set_finish_reason(a, stop);
	usage = jv_object_get(jv_copy(body), jv_string("usage"));
	if (jv_get_kind(usage) == JV_KIND_OBJECT) {
		/* input_tokens counts only uncached input: add the cache to compare with OpenAI. */
		a->cached_tokens = number_at(usage, "cache_read_input_tokens");
		a->cache_write_tokens = number_at(usage, "cache_creation_input_tokens");
		a->prompt_tokens =
			number_at(usage, "input_tokens") + a->cached_tokens + a->cache_write_tokens;
		a->completion_tokens = number_at(usage, "output_tokens");
	}
	jv_free(usage);
	return ANSWER_OK;
}

/* Converse's answer (doc/protocols.md §10): output.message.content[].text, stopReason, usage. */
static enum answer_status
parse_converse(jv body, struct llm_answer *a, char *code, size_t code_size, struct buf *message)
{
	jv output = jv_object_get(jv_copy(body), jv_string("output")), msg, content, usage;
	char stop[32];

	msg = jv_get_kind(output) == JV_KIND_OBJECT ? jv_object_get(output, jv_string("message"))
						    : (jv_free(output), jv_null());
	content = jv_get_kind(msg) == JV_KIND_OBJECT ? jv_object_get(msg, jv_string("content"))
						     : (jv_free(msg), jv_null());
	if (jv_get_kind(content) != JV_KIND_ARRAY) {
		jv_free(content);
		snprintf(code, code_size, "%s", ERR_BAD_RESPONSE);
		buf_puts(message, "the answer has no output message");
		return ANSWER_BAD;
	}
	add_texts(content, &a->content);
	copy_string(jv_object_get(jv_copy(body), jv_string("stopReason")), stop, sizeof(stop));
	set_finish_reason(a, stop);
	usage = jv_object_get(jv_copy(body), jv_string("usage"));
	if (jv_get_kind(usage) == JV_KIND_OBJECT) {
		/* As for Anthropic: inputTokens leaves out what the prompt cache read or wrote. */
		a->cached_tokens = number_at(usage, "cacheReadInputTokens");
		a->cache_write_tokens = number_at(usage, "cacheWriteInputTokens");
		a->prompt_tokens =
			number_at(usage, "inputTokens") + a->cached_tokens + a->cache_write_tokens;
		a->completion_tokens = number_at(usage, "outputTokens");
	}
	jv_free(usage);
	return ANSWER_OK;
}

enum answer_status
parse_answer(enum dialect d, const char *text, size_t len, struct llm_answer *a, char *code,
	size_t code_size, struct buf *message)
{
	jv body;
	enum answer_status rc;

	buf_reset(&a->content);
	a->finish_reason[0] = '\0';
	a->prompt_tokens = a->completion_tokens = a->cached_tokens = a->reasoning_tokens = 0;
	a->cache_write_tokens = 0;
	a->has_cost = false;
	body = len <= 0x7fffffff ? jv_parse_sized(text, (int)len) : jv_invalid();
	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		jv_free(body);
		snprintf(code, code_size, "%s", ERR_BAD_RESPONSE);
		buf_puts(message, "the answer is not a JSON object");
		return ANSWER_BAD;
	}
	rc = d == DIALECT_ANTHROPIC     ? parse_anthropic(body, a, code, code_size, message)
		: d == DIALECT_CONVERSE ? parse_converse(body, a, code, code_size, message)
					: parse_openai(body, a, code, code_size, message);
	jv_free(body);
	return rc;
}

/*
 * A failed attempt's body as JSON: Google's error array [{"error": ...}]
 * unwrapped to its first object (doc/protocols.md §8); jv_invalid() when
 * the body is not JSON.
 */
static jv
error_body(const struct http_transfer *t)
{
	jv body = t->response.len > 0 && t->response.len <= 0x7fffffff
		? jv_parse_sized(t->response.data, (int)t->response.len)
		: jv_invalid();

	if (jv_get_kind(body) == JV_KIND_ARRAY && jv_array_length(jv_copy(body)) > 0)
		body = jv_array_get(body, 0);
	return body;
}

/* Whether the string v (consumed) ends with suffix. */
static bool
string_ends_with(jv v, const char *suffix)
{
	size_t n = strlen(suffix), len;
	bool yes = false;

	if (jv_get_kind(v) == JV_KIND_STRING) {
		len = (size_t)jv_string_length_bytes(jv_copy(v));
		yes = len >= n && strcmp(jv_string_value(v) + len - n, suffix) == 0;
	}
	jv_free(v);
	return yes;
}

/* What Google's error details (google.rpc.*, in error.details) say. */
struct google_details {
	double wait_ms;   /* RetryInfo.retryDelay ("45.8s"); 0: none */
	bool per_day;     /* a QuotaFailure violation whose quotaId is per day */
	bool key_invalid; /* ErrorInfo.reason API_KEY_INVALID */
};

static void
read_google_details(jv body, struct google_details *g)
{
	jv err = jv_get_kind(body) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(body), jv_string("error"))
		: jv_null();
	jv details = jv_get_kind(err) == JV_KIND_OBJECT ? jv_object_get(err, jv_string("details"))
							: (jv_free(err), jv_null());

	*g = (struct google_details){ 0 };
	if (jv_get_kind(details) != JV_KIND_ARRAY) {
		jv_free(details);
		return;
	}
	jv_array_foreach(details, i, d)
	{
		jv type = jv_get_kind(d) == JV_KIND_OBJECT
			? jv_object_get(jv_copy(d), jv_string("@type"))
			: jv_null();

		(void)i;
		if (string_ends_with(jv_copy(type), "google.rpc.RetryInfo")) {
			jv delay = jv_object_get(jv_copy(d), jv_string("retryDelay"));

			if (jv_get_kind(delay) != JV_KIND_STRING ||
				parse_go_duration(jv_string_value(delay), &g->wait_ms) != 0)
				g->wait_ms = 0;
			jv_free(delay);
		} else if (string_ends_with(jv_copy(type), "google.rpc.QuotaFailure")) {
			jv violations = jv_object_get(jv_copy(d), jv_string("violations"));

			if (jv_get_kind(violations) == JV_KIND_ARRAY) {
				jv_array_foreach(violations, k, v)
				{
					jv id = jv_get_kind(v) == JV_KIND_OBJECT
						? jv_object_get(jv_copy(v), jv_string("quotaId"))
						: jv_null();

					(void)k;
					if (jv_get_kind(id) == JV_KIND_STRING &&
						strstr(jv_string_value(id), "PerDay") != NULL)
						g->per_day = true;
					jv_free(id);
					jv_free(v);
				}
			}
			jv_free(violations);
		} else if (string_ends_with(jv_copy(type), "google.rpc.ErrorInfo")) {
			jv reason = jv_object_get(jv_copy(d), jv_string("reason"));

			g->key_invalid = g->key_invalid ||
				(jv_get_kind(reason) == JV_KIND_STRING &&
					strcmp(jv_string_value(reason), "API_KEY_INVALID") == 0);
			jv_free(reason);
		}
		jv_free(type);
		jv_free(d);
	}
	jv_free(details);
}

/*
 * AWS's error type (doc/protocols.md §10): the x-amzn-ErrorType header up
 * to its ':' ("ThrottlingException"), else the body's "__type" after its
 * '#', appended to out.
 */
static void
aws_error_type(const struct http_transfer *t, jv body, struct buf *out)
{
	struct buf value = BUF_INIT;
	const char *type = http_response_header(t, "x-amzn-ErrorType", &value);
	jv v = jv_null();

	if (type == NULL && jv_get_kind(body) == JV_KIND_OBJECT) {
		v = jv_object_get(jv_copy(body), jv_string("__type"));
		if (jv_get_kind(v) == JV_KIND_STRING) {
			type = jv_string_value(v);
			if (strchr(type, '#') != NULL)
				type = strchr(type, '#') + 1;
		}
	}
	if (type != NULL)
		buf_add(out, type, strcspn(type, ":"));
	jv_free(v);
	buf_free(&value);
}

void
classify_failure(const struct provider *p, const struct http_transfer *t, struct failure *f)
{
	bool openrouter = strcmp(p->name, "openrouter") == 0;
	char code[64] = "", http_code[24];
	struct buf message = BUF_INIT, type = BUF_INIT;
	struct google_details google;
	const char *text;
	long s = t->status;
	jv body;

	if (failure_transport(t, f))
		return;
	f->wait_ms = 0;
	snprintf(http_code, sizeof(http_code), "http_%ld", s);
	body = error_body(t);
	if (p->route == ROUTE_BEDROCK) {
		/* AWS: the type, then {"message": ...} (or "Message"). */
		aws_error_type(t, body, &type);
		if (type.len > 0) {
			buf_add(&message, type.data, type.len);
			buf_puts(&message, ": ");
		}
	}
	if (!failure_server_error(body, code, sizeof(code), &message) &&
		jv_get_kind(body) == JV_KIND_OBJECT) {
		jv m = jv_object_get(jv_copy(body), jv_string("Message"));

		if (jv_get_kind(m) == JV_KIND_STRING)
			buf_puts(&message, jv_string_value(m));
		jv_free(m);
	}
	read_google_details(body, &google);
	jv_free(body);
	text = buf_cstr(&message);
	f->wait_ms = google.wait_ms;
	if (google.key_invalid) {
		failure_set(f, STEP_STOP_AUTH, http_code); /* Google refuses a key with a 400 */
	} else if (s == 429 && google.per_day) {
		failure_set(f, STEP_STOP_LATER,
			ERR_DAILY_QUOTA); /* it resets by itself, tomorrow */
	} else if ((s == 400 || s == 413 || s == 422) &&
		(strcmp(code, "context_length_exceeded") == 0 ||
			strcasestr(text, "context length") ||
			strcasestr(text, "prompt is too long") ||
			strcasestr(text, "maximum context") ||
			strcasestr(text, "input is too long"))) {
		failure_set(f, STEP_CONTEXT, ERR_CONTEXT_LENGTH);
	} else if (s == 403 && openrouter) {
		failure_set(f, STEP_RECORD, "http_403"); /* moderation refused this prompt */
	} else if (s == 402 && openrouter && http_retry_after_ms(t) >= 0) {
		failure_set(f, STEP_RETRY, "http_402"); /* a budget in flight: it says when */
	} else if (s == 404 || (s == 400 && strcasestr(text, "model identifier is invalid"))) {
		failure_set(f, STEP_FALLBACK, ERR_MODEL_NOT_FOUND);
	} else if (strcmp(buf_cstr(&type), "ModelNotReadyException") == 0) {
		failure_set(f, STEP_RETRY, http_code); /* Bedrock loads the model: a 429 to retry */
		f->server = true;
	} else {
		failure_by_status(s, code, text, f);
	}
	failure_finish(t, text, f);
	buf_free(&message);
	buf_free(&type);
}
