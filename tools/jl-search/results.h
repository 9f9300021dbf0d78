/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Search results as jl-search hands them on: the normalised record
 * {title, url, content, score, raw_content, published_date} (doc/protocols.md
 * §5.3), and the steps that shape a result set for an LLM prompt.
 *
 * Ownership follows jv.h: functions consume the jv they are given and
 * return one the caller owns.
 */
#ifndef JL_SEARCH_RESULTS_H
#define JL_SEARCH_RESULTS_H

#include <jv.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct post_options {
	bool has_min_score;
	double min_score;       /* --min-score: drop results scored below (only scored ones) */
	long max_results;       /* --max-results: keep this many (-1: all) */
	size_t max_chars;       /* --max-chars: cut content and raw_content of each (0: no cut) */
	size_t max_total_chars; /* --max-total-chars: over the whole set (0: no budget) */
};

/*
 * A normalised result. Absent fields are null; score is a number or null.
 * Consumes nothing: the strings are copied (len -1: NUL-terminated).
 */
jv result_new(const char *title, const char *url, const char *content, const char *raw_content,
	const char *published_date, bool has_score, double score);

/*
 * Shape a result set (an array of results, consumed), in this order:
 * drop those scored below min_score (results without a score stay), sort by
 * score, highest first (stable: unscored ones keep their order, after the
 * scored ones), drop results whose URL was seen earlier (url_key),
 * keep max_results, cut content and raw_content to max_chars bytes at a
 * UTF-8 character boundary (a cut result gets "truncated": true), then cut
 * the set to max_total_chars of content + raw_content in all: results are
 * kept whole in order while they fit, the first that does not fit is cut to
 * what is left (and marked truncated), the rest are dropped.
 */
jv results_post(jv results, const struct post_options *o);

/*
 * The URL as a duplicate check sees it: scheme and host in lower case, no
 * fragment, no trailing '/'. Appended to out.
 */
void url_key(const char *url, struct buf *out);

#endif
