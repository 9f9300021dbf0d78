/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What jl-llm knows of each provider (doc/protocols.md §1-§4): its
 * endpoint, its key variable, its dialect; how to build a request body, read
 * an answer, and classify a failure into what to do next.
 */
#ifndef JL_LLM_PROVIDER_H
#define JL_LLM_PROVIDER_H

#include <jv.h>
#include <stdbool.h>

#include "buf.h"
#include "http.h"
#include "netloop.h"

enum dialect { DIALECT_OPENAI, DIALECT_ANTHROPIC };

struct provider {
	const char *name;     /* "openai" */
	const char *base_url; /* "https://api.openai.com/v1" */
	const char *key_env;  /* "OPENAI_API_KEY", or NULL for none */
	bool key_required;    /* false: a local server (Ollama, llama.cpp) */
	enum dialect dialect;
	const char *max_tokens_field; /* "max_completion_tokens" or "max_tokens" */
};

/* The provider called name, or NULL. */
const struct provider *provider_find(const char *name);

/* The names of the known providers, for messages: "openai, groq, ...". */
const char *provider_names(void);

/* A model as the user names it: "openrouter/meta-llama/llama-3.1-8b-instruct". */
struct model_ref {
	const struct provider *provider;
	char *model; /* what the provider calls it: "meta-llama/llama-3.1-8b-instruct" */
	char *id;    /* the whole spec, for messages and the limiter key */
};

/* Split spec at the first '/' into provider and model. Returns 0, or -1 with a message in err. */
int model_parse(const char *spec, struct model_ref *m, struct buf *err);
void model_free(struct model_ref *m);

/* What a request holds besides the prompt (options that shape the body). */
struct llm_params {
	bool has_temperature;
	double temperature;
	long max_tokens; /* -1: not set */
	bool has_seed;
	long long seed;
	bool json;
	jv schema;  /* JSON schema for structured output, or jv_null() */
	jv options; /* -o KEY=VALUE pairs, an object merged into the body */
};

/* The body of a request; deterministic for the same input (the cache key hashes it). */
void build_body(const struct model_ref *m, const struct llm_params *p, const char *system,
	size_t system_len, const char *prompt, size_t prompt_len, struct buf *out);

/* The URL of the chat endpoint, and of the key check (the model list). */
void chat_url(const struct provider *p, const char *base_url, struct buf *out);
void models_url(const struct provider *p, const char *base_url, struct buf *out);

/* Add the auth (and version) headers of the provider to t; key may be NULL. */
void add_auth_headers(const struct provider *p, const char *key, struct http_transfer *t);

/* Tokens a request is likely to take, before it is sent: bytes/4 plus the output cap. */
long estimate_tokens(size_t prompt_bytes, long max_tokens);

/* A successful answer, normalised. */
struct llm_answer {
	struct buf content;
	char finish_reason[32];
	long prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens;
	bool has_cost;
	double cost; /* OpenRouter's usage.cost */
};

enum answer_status {
	ANSWER_OK,    /* *a is filled */
	ANSWER_BAD,   /* not the JSON the dialect promises (code "bad_response") */
	ANSWER_ERROR, /* an error object inside a 200 (OpenRouter); code as the provider says */
};

/*
 * Read a 200 body into *a, or the failure into code ("http_502",
 * "rate_limit_exceeded", "bad_response", ...) and message.
 */
enum answer_status parse_answer(enum dialect d, const char *body, size_t len, struct llm_answer *a,
	char *code, size_t code_size, struct buf *message);

/* Classify a finished attempt of provider p that did not succeed (t->result or t->status). */
void classify_failure(const struct provider *p, const struct http_transfer *t, struct failure *f);

#endif
