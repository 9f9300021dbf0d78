/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm --batch: the records go to the provider's batch API (OpenAI and
 * Groq: files and batches; Anthropic: message batches) instead of one
 * request each, for the batch price. doc/design.md §4.4 and jl-llm(1),
 * BATCH MODE, describe it; doc/protocols.md §11 the wire.
 *
 * Crash-only: every batch and the cache key of each of its requests (its
 * custom_id) are in the run database before the batch is created, so a
 * rerun of the same command collects the batches it finds there instead of
 * submitting the records again. Records wait in the database (a temporary
 * table), not in memory, until their batch ends.
 */
#ifndef JL_LLM_BATCH_H
#define JL_LLM_BATCH_H

#include "engine.h"

/* The most requests and bytes one batch of api may hold (its provider's limits). */
long batch_max_requests(enum batch_api api);
long long batch_max_bytes(enum batch_api api);

/*
 * Run the records of stdin through cfg's model by batches, or with
 * --cancel cancel this model's unfinished batches in the run database and
 * keep what they finished. Returns the exit status (exitcodes.h).
 */
int batch_run(struct llm_config *cfg);

#endif
