/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What jl-llm knows of each provider (doc/protocols.md §1-§4, §8-§10): its
 * endpoint, its key variable, its dialect; how to build a request body, read
 * an answer, and classify a failure into what to do next.
 */
#ifndef JL_LLM_PROVIDER_H
#define JL_LLM_PROVIDER_H

#include <jv.h>
#include <stdbool.h>
#include <time.h>

#include "buf.h"
#include "http.h"
#include "netloop.h"

/* How a request's body is built and its answer read. */
enum dialect {
	DIALECT_OPENAI,    /* chat completions: doc/protocols.md §1 */
	DIALECT_ANTHROPIC, /* messages: §3 */
	DIALECT_CONVERSE,  /* Bedrock's Converse: §10 */
};

/* Where a request goes and how it is authenticated. */
enum route {
	ROUTE_BASE,  /* {base}/chat/completions or {base}/messages; the dialect's key header */
	ROUTE_AZURE, /* {endpoint}/openai/deployments/{model}/chat/completions?api-version=V (§9) */
	ROUTE_BEDROCK, /* {base}/model/{model}/converse, signed with AWS Signature Version 4 (§10)
			*/
};

/* A provider's batch API (doc/protocols.md §11). */
enum batch_api {
	BATCH_NONE,      /* none jl-llm knows */
	BATCH_OPENAI,    /* {base}/files and {base}/batches: OpenAI, Groq */
	BATCH_ANTHROPIC, /* {base}/messages/batches */
};

struct provider {
	const char *name; /* "openai" */
	const char *
		base_url; /* "https://api.openai.com/v1"; NULL: base_env, or the region (Bedrock) */
	const char *base_env; /* the variable of the base URL when there is no default, or NULL */
	const char *key_env;  /* "OPENAI_API_KEY" (Bedrock: the secret access key), or NULL */
	bool key_required;    /* false: a local server (Ollama, llama.cpp, vLLM) */
	enum dialect dialect;
	enum route route;
	const char *max_tokens_field; /* "max_completion_tokens", "max_tokens", "maxTokens" */
	enum batch_api batch;
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

/* The size of a prompt_cache_key: "jl-", 16 hex digits and the NUL. */
#define PROMPT_CACHE_KEY_SIZE 20

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
	/* --cache: mark what the provider may cache (doc/protocols.md §1.2, §3) */
	bool cache;
	size_t prompt_head; /* the bytes of the prompt's fixed head (template_head_len) */
	char cache_key[PROMPT_CACHE_KEY_SIZE]; /* OpenAI's prompt_cache_key */
};

/*
 * The prompt_cache_key of a run, into key: "jl-" and the first 16 hex
 * digits of the SHA-256 of the system template's source (system may be
 * NULL: empty), a NUL, and the prompt template's source. The same
 * templates give the same key in every run and process.
 */
void prompt_cache_key(const char *system, const char *prompt, char key[PROMPT_CACHE_KEY_SIZE]);

/* The body of a request; deterministic for the same input (the cache key hashes it). */
void build_body(const struct model_ref *m, const struct llm_params *p, const char *system,
	size_t system_len, const char *prompt, size_t prompt_len, struct buf *out);

/*
 * Where a model's requests go and what else they need, from the options
 * and the environment: read once before the run by endpoint_init.
 */
struct endpoint {
	char *base; /* the base URL (--base-url, else base_env, else the default), no final '/' */
	char *api_version; /* Azure: OPENAI_API_VERSION, else AZURE_API_VERSION */
	char *region;      /* Bedrock: AWS_REGION, else AWS_DEFAULT_REGION */
	char *key_id;      /* Bedrock: AWS_ACCESS_KEY_ID */
	char *token;       /* Bedrock: AWS_SESSION_TOKEN, a secret (wiped when freed), or NULL */
};

/* The api-version Azure requests carry when OPENAI_API_VERSION is not set: the newest GA one. */
#define AZURE_API_VERSION "2024-10-21"

/*
 * Fill e for provider p: base_url is --base-url or NULL. Returns 0, or -1
 * with a message in err when a variable the provider needs is not set
 * (Azure's endpoint, Bedrock's region or access key id) or is not usable
 * (a region that is not a region name).
 */
int endpoint_init(const struct provider *p, const char *base_url, struct endpoint *e,
	struct buf *err);

/* Free what e holds, the session token wiped first. */
void endpoint_free(struct endpoint *e);

/*
 * Address and authenticate t, whose body is set, as m's chat request to e:
 * its URL and headers, and for Bedrock the signature at now (seconds since
 * the epoch). key may be NULL (a local server).
 */
void chat_request(const struct model_ref *m, const struct endpoint *e, const char *key, time_t now,
	struct http_transfer *t);

/*
 * Address and authenticate t as the key check of m's provider, a GET of its
 * model list. Returns false when the provider has no such request (Bedrock:
 * bedrock-runtime has no cheap authenticated GET).
 */
bool check_request(const struct model_ref *m, const struct endpoint *e, const char *key,
	struct http_transfer *t);

/*
 * Address and authenticate t as a request of m's batch API to path under
 * e's base ("/batches", "/messages/batches/ID"); its body, when it has one,
 * is JSON unless form is true (a multipart upload, whose Content-Type
 * libcurl sets).
 */
void batch_request(const struct model_ref *m, const struct endpoint *e, const char *key,
	const char *path, bool form, struct http_transfer *t);

/* Tokens a request is likely to take, before it is sent: bytes/4 plus the output cap. */
long estimate_tokens(size_t prompt_bytes, long max_tokens);

/* A successful answer, normalised. */
struct llm_answer {
	struct buf content;
	char finish_reason[32];
	long prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens;
	long cache_write_tokens; /* written to the prompt cache, counted in prompt_tokens too */
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

/*
 * Classify a finished attempt of provider p that did not succeed (t->result
 * or t->status), reading the error shapes of doc/protocols.md §4, §8 and
 * §10: f's step and code, and f->wait_ms when the body says how long to
 * wait (Google's RetryInfo).
 */
void classify_failure(const struct provider *p, const struct http_transfer *t, struct failure *f);

#endif
