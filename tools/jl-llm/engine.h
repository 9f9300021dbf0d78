/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm's record loop: read records as they come, render the templates,
 * send requests (many in flight, paced by the shared limiter), retry what
 * is transient, fall back to other models, cache answers in the run
 * database, and write every record out, as a result or an _error.
 */
#ifndef JL_LLM_ENGINE_H
#define JL_LLM_ENGINE_H

#include <stdbool.h>

#include "progress.h"
#include "provider.h"
#include "template.h"

#define MAX_MODELS 8

struct llm_config {
	struct model_ref models[MAX_MODELS]; /* the model, then --fallback ones */
	size_t nmodels;
	const char *base_url;
	char *keys[MAX_MODELS]; /* each model's key (NULL: none needed); wiped at the end */
	struct tmpl *prompt;
	struct tmpl *system; /* or NULL */
	struct llm_params params;
	const char *into;
	long jobs;
	double rpm, tpm;
	const char *limiter_key; /* or NULL: the model */
	int retries;
	long timeout_ms;
	long retry_base_ms;
	long max_retry_after_ms;
	long cooldown_ms;
	int fallback_after;
	int max_consecutive_failures;
	long grace_ms;
	bool keep_order;
	bool dry_run;
	bool truncate;
	bool check;
	bool quiet;
	bool strict;
	bool verbose;       /* -v: a line per failed attempt */
	bool key_from_file; /* --api-key-file, for messages */
	enum progress_mode progress;
	unsigned long long total;
	const char *db_path;
	const char *log_path;
	const char *cacert;
	unsigned long long seed; /* of the backoff jitter */
	bool seeded;             /* --seed given; else the seed differs per process */
};

/*
 * Run the records of stdin through the model(s) to stdout. Returns the exit
 * status (exitcodes.h): 0, 1 (--strict and errors), 69, 73, 74, 75, 77, 78.
 */
int engine_run(const struct llm_config *cfg);

/* Ask the loop to stop (SIGINT, SIGTERM): safe in a signal handler. */
void engine_request_stop(void);

#endif
