/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-search's part of the record loop (common/netloop): how a record
 * becomes a search, how the answer (and Tavily /extract's) becomes .search.
 */
#ifndef JL_SEARCH_ENGINE_H
#define JL_SEARCH_ENGINE_H

#include <stdbool.h>

#include "backend.h"
#include "fts.h"
#include "jqx.h"
#include "netloop.h"
#include "results.h"

struct search_config {
	struct netloop_config loop;
	const struct backend *backend;
	const char *base_url;    /* or NULL: the backend's */
	const char *extract_url; /* Tavily's endpoint for --extract, or NULL */
	char *key;               /* the backend's key, or NULL; wiped at the end */
	char *extract_key;       /* Tavily's key for --extract (may be key) */
	bool key_from_file;
	struct jqx *query;
	struct search_params params;
	struct post_options post;
	bool extract;
	long timeout_ms;
	struct fts *fts; /* the fts backend's index */
};

/*
 * Run the records of stdin through the search to stdout. Returns the exit
 * status (exitcodes.h): 0, 1 (--strict and errors), 65, 69, 73, 74, 75, 77, 78.
 */
int engine_run(struct search_config *cfg);

#endif
