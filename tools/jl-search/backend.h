/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The web search APIs jl-search speaks (doc/protocols.md §5): where each
 * lives, its key, the options it takes, how a query becomes its request,
 * and how its answer becomes normalised results. Also Tavily's /extract.
 */
#ifndef JL_SEARCH_BACKEND_H
#define JL_SEARCH_BACKEND_H

#include <jv.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "http.h"

/* The search options a backend may take (struct backend.features). */
enum search_feature {
	FEATURE_DEPTH = 1 << 0,
	FEATURE_TOPIC = 1 << 1,
	FEATURE_TIME_RANGE = 1 << 2,
	FEATURE_INCLUDE_DOMAIN = 1 << 3,
	FEATURE_EXCLUDE_DOMAIN = 1 << 4,
	FEATURE_ANSWER = 1 << 5,
	FEATURE_RAW = 1 << 6,
	FEATURE_ALL = (1 << 7) - 1,
};

enum backend_kind {
	BACKEND_TAVILY,
	BACKEND_BRAVE,
	BACKEND_SERPER,
	BACKEND_SEARXNG,
	BACKEND_EXA,
	BACKEND_FTS
};

struct backend {
	const char *name;
	enum backend_kind kind;
	const char *base_url; /* the public endpoint; NULL: must be given (SearxNG) */
	const char *key_env;  /* NULL: no key */
	unsigned features;    /* enum search_feature */
	size_t max_query;     /* longest query in bytes it takes (0: no limit) */
	long max_results;     /* the most results one request may ask for */
};

/* The backend called name, or NULL; the names, for messages. */
const struct backend *backend_find(const char *name);
const char *backend_names(void);

/* The name of option bit f ("--depth"). */
const char *feature_option(enum search_feature f);

/* What a search asks besides the query. Unset strings are NULL. */
struct search_params {
	const char *depth, *topic, *time_range;
	const char *const *include_domains;
	size_t ninclude;
	const char *const *exclude_domains;
	size_t nexclude;
	bool answer, raw;
	long max_results;
};

/*
 * The request for query: its URL under base_url (or the backend's own) in
 * url, and its JSON body in body when it is a POST. Returns whether it is
 * a POST. Deterministic, for the cache key.
 */
bool backend_request(const struct backend *b, const char *base_url, const struct search_params *p,
	const char *query, struct buf *url, struct buf *body);

/* The key check's URL (a free authenticated GET), or false when the backend has none. */
bool backend_check_url(const struct backend *b, const char *base_url, struct buf *url);

/* Add the backend's auth header for key (may be NULL) to t. */
void backend_auth(const struct backend *b, const char *key, struct http_transfer *t);

/*
 * Read a 200 answer of b into {results: [normalised], answer: string|null,
 * credits: number (when the backend reports what it billed)}; results keep
 * the backend's order and get rank (1-based). On a body that is not the
 * backend's answer returns an invalid jv with the reason in err.
 */
jv backend_parse(const struct backend *b, const char *body, size_t len, struct buf *err);

/* Tavily /extract: the request for urls (an array of strings, borrowed). */
void extract_request(const char *base_url, jv urls, const char *depth, struct buf *url,
	struct buf *body);

/*
 * Read an /extract answer into {pages: {url: raw_content}, failed: {url:
 * error}, credits}; an invalid jv with the reason in err when it is not one.
 */
jv extract_parse(const char *body, size_t len, struct buf *err);

#endif
