/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What jl-report counts over every record, in memory bounded by the number
 * of groups, codes and models: counts, sums, and percentiles from a
 * log-bucketed histogram (relative error under 1%).
 */
#ifndef JL_REPORT_STATS_H
#define JL_REPORT_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Latencies from 0.01 ms up, in buckets 1% apart. */
#define HIST_BUCKETS 2400

struct histogram {
	unsigned long long count[HIST_BUCKETS];
	unsigned long long n;
	double max;
};

void hist_add(struct histogram *h, double v);

/* The q-quantile (0..1): the midpoint of its bucket, within 1% of the exact value; 0 when empty. */
double hist_quantile(const struct histogram *h, double q);

/* A tally by name: error codes, models, groups. */
struct tally {
	char *name;
	unsigned long long count;
	double sum_usd;
	double *sums; /* per numeric column */
	unsigned long long *nums;
};

struct tallies {
	struct tally *t;
	size_t n, cap, max; /* beyond max distinct names, "(other)" takes the rest */
	size_t ncolumns;
};

/* The tally called name, added when new. */
struct tally *tally_get(struct tallies *ts, const char *name);
void tallies_free(struct tallies *ts);

#endif
