/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm's part of the record loop (common/netloop): how a record becomes a
 * chat request for a model, and how the answer becomes .llm.
 */
#ifndef JL_LLM_ENGINE_H
#define JL_LLM_ENGINE_H

#include <stdbool.h>

#include "netloop.h"
#include "prices.h"
#include "provider.h"
#include "sha256.h"
#include "template.h"

#define MAX_MODELS NETLOOP_MAX_TARGETS

/* --batch's settings (batch.c). */
struct batch_options {
	long size;    /* --batch-size: requests a batch; 0: the provider's most */
	long poll_ms; /* --poll: between two looks at a batch */
	bool cancel;  /* --cancel: cancel the unfinished batches instead */
	const char *price_files[PRICES_MAX_FILES]; /* --prices: for --budget's estimate */
	size_t nprice_files;
};

struct llm_config {
	struct netloop_config loop;          /* its targets are the models, in order */
	struct model_ref models[MAX_MODELS]; /* the model, then the --fallback ones */
	size_t nmodels;
	struct endpoint endpoints[MAX_MODELS]; /* where each model's requests go (not --dry-run) */
	char *keys[MAX_MODELS]; /* each model's key (NULL: none needed); wiped at the end */
	struct tmpl *prompt;
	struct tmpl *system; /* or NULL */
	struct llm_params params;
	long timeout_ms;
	bool dry_run;
	bool truncate;
	bool key_from_file; /* --api-key-file, for messages */
	bool seeded;        /* --seed given; else the jitter's seed differs per process */
	bool batch;         /* --batch: through the provider's batch API (batch.c) */
	struct batch_options batch_opt;
};

/* What jl-llm keeps with each record: its rendered templates and request. */
struct llm_job {
	struct buf system, prompt; /* rendered */
	size_t cap;                /* --truncate: the cap on placeholder values */
	size_t longest;            /* the longest placeholder value at the last render */
	struct buf body;           /* the request, for the model built_for */
	int built_for;             /* -1: none yet */
	bool json_retried;
};

/* A job with nothing rendered (no cap); freed by llm_job_free. */
struct llm_job *llm_job_new(void);
void llm_job_free(struct llm_job *lj);

/* Render the templates for record into lj. Returns 0, or -1 with the reason in err. */
int llm_render(const struct llm_config *cfg, jv record, struct llm_job *lj, struct buf *err);

/*
 * Build lj's request body for model m (from what llm_render left), and its
 * cache key: SHA-256 of the provider, the model and the body.
 */
void llm_build(const struct llm_config *cfg, struct llm_job *lj, int m,
	unsigned char key[SHA256_SIZE]);

/*
 * The .llm of an answer of model m, as the cache keeps it (no timing), or
 * an invalid jv when --json is given and the answer is not JSON.
 */
jv llm_answer_value(const struct llm_config *cfg, int m, const struct llm_answer *a);

/* The message of a record whose answer is not JSON under --json (bad_json_output). */
#define LLM_NOT_JSON "the answer is not valid JSON"

/* record (consumed) with text[0..len), an answer that is not JSON under --json, as _raw_output. */
jv llm_raw_output(jv record, const char *text, size_t len);

/* llm with this run's members: latency_ms, attempts and cached. */
jv llm_run_fields(jv llm, double latency_ms, int attempts, bool cached);

/* --dry-run's .llm for lj's request to model m: the request and its estimated usage. */
jv llm_dry_run_value(const struct llm_config *cfg, const struct llm_job *lj, int m);

/*
 * Run the records of stdin through the model(s) to stdout. Returns the exit
 * status (exitcodes.h): 0, 1 (--strict and errors), 65, 69, 73, 74, 75, 77, 78.
 */
int engine_run(struct llm_config *cfg);

#endif
