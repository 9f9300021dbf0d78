/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm's part of the record loop (common/netloop): how a record becomes a
 * chat request for a model, and how the answer becomes .llm.
 */
#ifndef JL_LLM_ENGINE_H
#define JL_LLM_ENGINE_H

#include <stdbool.h>

#include "netloop.h"
#include "provider.h"
#include "template.h"

#define MAX_MODELS NETLOOP_MAX_TARGETS

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
};

/*
 * Run the records of stdin through the model(s) to stdout. Returns the exit
 * status (exitcodes.h): 0, 1 (--strict and errors), 65, 69, 73, 74, 75, 77, 78.
 */
int engine_run(struct llm_config *cfg);

#endif
