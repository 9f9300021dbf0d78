/* SPDX-License-Identifier: BSD-2-Clause */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

#define HIST_MIN 0.01
#define HIST_STEP 1.01

void
hist_add(struct histogram *h, double v)
{
	int b;

	if (!isfinite(v) || v < 0)
		return;
	b = v <= HIST_MIN ? 0 : (int)(log(v / HIST_MIN) / log(HIST_STEP)) + 1;
	if (b >= HIST_BUCKETS)
		b = HIST_BUCKETS - 1;
	h->count[b]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

double
hist_quantile(const struct histogram *h, double q)
{
	unsigned long long rank, seen = 0;

	if (h->n == 0)
		return 0;
	rank = (unsigned long long)ceil(q * (double)h->n);
	if (rank == 0)
		rank = 1;
	for (int b = 0; b < HIST_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= rank) {
			double lo = b == 0 ? 0 : HIST_MIN * pow(HIST_STEP, b - 1);
			double hi = HIST_MIN * pow(HIST_STEP, b);
			double mid = b == 0 ? HIST_MIN / 2 : (lo + hi) / 2;

			return mid > h->max ? h->max : mid;
		}
	}
	return h->max;
}

struct tally *
tally_get(struct tallies *ts, const char *name)
{
	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].name, name) == 0)
			return &ts->t[i];
	if (ts->max > 0 && ts->n >= ts->max)
		name = "(other)";
	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].name, name) == 0)
			return &ts->t[i];
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 16;
		ts->t = xreallocarray(ts->t, ts->cap, sizeof(*ts->t));
	}
	ts->t[ts->n] = (struct tally){ .name = xstrdup(name) };
	if (ts->ncolumns > 0) {
		ts->t[ts->n].sums = xcalloc(ts->ncolumns, sizeof(double));
		ts->t[ts->n].nums = xcalloc(ts->ncolumns, sizeof(unsigned long long));
	}
	return &ts->t[ts->n++];
}

void
tallies_free(struct tallies *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		free(ts->t[i].name);
		free(ts->t[i].sums);
		free(ts->t[i].nums);
	}
	free(ts->t);
	ts->t = NULL;
	ts->n = ts->cap = 0;
}
