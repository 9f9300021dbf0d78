/* SPDX-License-Identifier: BSD-2-Clause */
/* Providers: endpoints, request bodies, answers and failures, per dialect. */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "failure.h"
#include "provider.h"
#include "record.h"
#include "util.h"

static const struct provider providers[] = {
	{ "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", true, DIALECT_OPENAI,
		"max_completion_tokens" },
	{ "groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", true, DIALECT_OPENAI,
		"max_tokens" },
	{ "openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", true, DIALECT_OPENAI,
		"max_tokens" },
	{ "together", "https://api.together.xyz/v1", "TOGETHER_API_KEY", true, DIALECT_OPENAI,
		"max_tokens" },
	{ "anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", true, DIALECT_ANTHROPIC,
		"max_tokens" },
	{ "ollama", "http://localhost:11434/v1", NULL, false, DIALECT_OPENAI, "max_tokens" },
	{ "llamacpp", "http://127.0.0.1:8080/v1", "LLAMACPP_API_KEY", false, DIALECT_OPENAI,
		"max_tokens" },
};

/* Anthropic requires an output cap; this is jl-llm's when --max-tokens is not given. */
#define ANTHROPIC_DEFAULT_MAX_TOKENS 1024

const struct provider *
provider_find(const char *name)
{
	for (size_t i = 0; i < sizeof(providers) / sizeof(*providers); i++)
		if (strcmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

const char *
provider_names(void)
{
	return "openai, groq, openrouter, together, anthropic, ollama, llamacpp";
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

void
build_body(const struct model_ref *m, const struct llm_params *p, const char *system,
	size_t system_len, const char *prompt, size_t prompt_len, struct buf *out)
{
	bool anthropic = m->provider->dialect == DIALECT_ANTHROPIC;
	jv body = jv_object(), messages = jv_array();
	struct buf sys = BUF_INIT;
	jv dumped;

	if (system != NULL)
		buf_add(&sys, system, system_len);
	/* JSON mode needs the prompt to ask for JSON too (OpenAI), or asks for it (Anthropic). */
	if (p->json &&
		(anthropic ||
			(!mentions_json(sys.data ? sys.data : "", sys.len) &&
				!mentions_json(prompt, prompt_len)))) {
		buf_puts(&sys, sys.len > 0 ? "\n\n" : "");
		buf_puts(&sys, "Answer with one JSON object and nothing else.");
		if (anthropic && jv_get_kind(p->schema) != JV_KIND_NULL) {
			jv s = jv_dump_string(jv_copy(p->schema), 0);

			buf_puts(&sys, " It must follow this JSON schema: ");
			buf_puts(&sys, jv_string_value(s));
			jv_free(s);
		}
	}
	body = jv_object_set(body, jv_string("model"), jv_string(m->model));
	if (anthropic) {
		body = jv_object_set(body, jv_string("max_tokens"),
			jv_number(p->max_tokens >= 0 ? (double)p->max_tokens
						     : ANTHROPIC_DEFAULT_MAX_TOKENS));
		if (sys.len > 0)
			body = jv_object_set(body, jv_string("system"),
				jv_string_sized(sys.data, (int)sys.len));
	} else if (sys.len > 0) {
		messages = jv_array_append(messages,
			jv_object_set(jv_object_set(jv_object(), jv_string("role"),
					      jv_string("system")),
				jv_string("content"), jv_string_sized(sys.data, (int)sys.len)));
	}
	messages = jv_array_append(messages,
		jv_object_set(jv_object_set(jv_object(), jv_string("role"), jv_string("user")),
			jv_string("content"), jv_string_sized(prompt, (int)prompt_len)));
	body = jv_object_set(body, jv_string("messages"), messages);
	if (p->has_temperature)
		body = jv_object_set(body, jv_string("temperature"), jv_number(p->temperature));
	if (!anthropic && p->max_tokens >= 0)
		body = jv_object_set(body, jv_string(m->provider->max_tokens_field),
			jv_number((double)p->max_tokens));
	if (p->has_seed && !anthropic)
		body = jv_object_set(body, jv_string("seed"), jv_number((double)p->seed));
	if (p->json && !anthropic) {
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
	if (jv_get_kind(p->options) == JV_KIND_OBJECT)
		body = jv_object_merge(body, jv_copy(p->options));
	dumped = jv_dump_string(body, 0);
	buf_add(out, jv_string_value(dumped), (size_t)jv_string_length_bytes(jv_copy(dumped)));
	jv_free(dumped);
	buf_free(&sys);
}

static void
endpoint(const struct provider *p, const char *base_url, const char *path, struct buf *out)
{
	const char *base = base_url != NULL ? base_url : p->base_url;
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	buf_add(out, base, n);
	buf_puts(out, path);
}

void
chat_url(const struct provider *p, const char *base_url, struct buf *out)
{
	endpoint(p, base_url, p->dialect == DIALECT_ANTHROPIC ? "/messages" : "/chat/completions",
		out);
}

void
models_url(const struct provider *p, const char *base_url, struct buf *out)
{
	endpoint(p, base_url, "/models", out);
}

void
add_auth_headers(const struct provider *p, const char *key, struct http_transfer *t)
{
	struct buf line = BUF_INIT;

	http_add_header(t, "Content-Type: application/json");
	http_add_header(t, "Expect:"); /* no 100-continue round trip for large prompts */
	if (p->dialect == DIALECT_ANTHROPIC) {
		http_add_header(t, "anthropic-version: 2023-06-01");
		if (key != NULL) {
			buf_puts(&line, "x-api-key: ");
			buf_puts(&line, key);
		}
	} else if (key != NULL) {
		buf_puts(&line, "Authorization: Bearer ");
		buf_puts(&line, key);
	}
	if (line.len > 0)
		http_add_header(t, buf_cstr(&line));
	explicit_bzero(line.data, line.size);
	buf_free(&line);
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
	jv_array_foreach(content, i, block)
	{
		jv text = jv_object_get(jv_copy(block), jv_string("text"));

		(void)i;
		if (jv_get_kind(text) == JV_KIND_STRING)
			buf_add(&a->content, jv_string_value(text),
				(size_t)jv_string_length_bytes(jv_copy(text)));
		jv_free(text);
		jv_free(block);
	}
	jv_free(content);
	copy_string(jv_object_get(jv_copy(body), jv_string("stop_reason")), stop, sizeof(stop));
	snprintf(a->finish_reason, sizeof(a->finish_reason), "%s",
		strcmp(stop, "max_tokens") == 0         ? "length"
			: strcmp(stop, "tool_use") == 0 ? "tool_calls"
							: "stop");
	usage = jv_object_get(jv_copy(body), jv_string("usage"));
	if (jv_get_kind(usage) == JV_KIND_OBJECT) {
		/* input_tokens counts only uncached input: add the cache to compare with OpenAI. */
		a->cached_tokens = number_at(usage, "cache_read_input_tokens");
		a->prompt_tokens = number_at(usage, "input_tokens") + a->cached_tokens +
			number_at(usage, "cache_creation_input_tokens");
		a->completion_tokens = number_at(usage, "output_tokens");
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
	a->has_cost = false;
	body = len <= 0x7fffffff ? jv_parse_sized(text, (int)len) : jv_invalid();
	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		jv_free(body);
		snprintf(code, code_size, "%s", ERR_BAD_RESPONSE);
		buf_puts(message, "the answer is not a JSON object");
		return ANSWER_BAD;
	}
	rc = d == DIALECT_ANTHROPIC ? parse_anthropic(body, a, code, code_size, message)
				    : parse_openai(body, a, code, code_size, message);
	jv_free(body);
	return rc;
}

void
classify_failure(const struct provider *p, const struct http_transfer *t, struct failure *f)
{
	bool openrouter = strcmp(p->name, "openrouter") == 0;
	char code[64] = "";
	struct buf message = BUF_INIT;
	const char *text;
	long s = t->status;

	if (failure_transport(t, f))
		return;
	failure_server_text(t, code, sizeof(code), &message);
	text = buf_cstr(&message);
	if ((s == 400 || s == 413 || s == 422) &&
		(strcmp(code, "context_length_exceeded") == 0 ||
			strcasestr(text, "context length") ||
			strcasestr(text, "prompt is too long") ||
			strcasestr(text, "maximum context"))) {
		failure_set(f, STEP_CONTEXT, ERR_CONTEXT_LENGTH);
	} else if (s == 403 && openrouter) {
		failure_set(f, STEP_RECORD, "http_403"); /* moderation refused this prompt */
	} else if (s == 402 && openrouter && http_retry_after_ms(t) >= 0) {
		failure_set(f, STEP_RETRY, "http_402"); /* a budget in flight: it says when */
	} else if (s == 404) {
		failure_set(f, STEP_FALLBACK, ERR_MODEL_NOT_FOUND);
	} else {
		failure_by_status(s, code, text, f);
	}
	failure_finish(t, text, f);
	buf_free(&message);
}
