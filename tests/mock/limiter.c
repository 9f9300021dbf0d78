/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rate limits per API key: a request bucket (--rpm) and a token bucket
 * (--tpm) that refill continuously, as the providers' limits do. A request
 * that is refused takes nothing from the buckets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"
#include "util.h"

struct bucket_pair {
	char *key;
	double requests, tokens; /* what is left */
	double last_ms;          /* when they were last refilled */
};

struct limiter {
	long rpm, tpm;
	struct bucket_pair *keys;
	size_t nkeys, cap;
};

struct limiter *
limiter_new(long rpm, long tpm)
{
	struct limiter *l = xcalloc(1, sizeof(*l));

	l->rpm = rpm;
	l->tpm = tpm;
	return l;
}

void
limiter_free(struct limiter *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nkeys; i++)
		free(l->keys[i].key);
	free(l->keys);
	free(l);
}

static struct bucket_pair *
find_key(struct limiter *l, const char *key, double now_ms)
{
	struct bucket_pair *b;

	for (size_t i = 0; i < l->nkeys; i++)
		if (strcmp(l->keys[i].key, key) == 0)
			return &l->keys[i];
	if (l->nkeys == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->keys = xreallocarray(l->keys, l->cap, sizeof(*l->keys));
	}
	b = &l->keys[l->nkeys++];
	b->key = xstrdup(key);
	b->requests = (double)l->rpm;
	b->tokens = (double)l->tpm;
	b->last_ms = now_ms;
	return b;
}

/* Refill a bucket of capacity cap (per minute) over elapsed ms. */
static double
refill(double level, long cap, double elapsed_ms)
{
	level += (double)cap * elapsed_ms / 60000.0;
	return level > (double)cap ? (double)cap : level;
}

enum limit_result
limiter_take(struct limiter *l, const char *key, long tokens, double now_ms, struct limit_state *st)
{
	struct bucket_pair *b = find_key(l, key, now_ms);
	double per_ms_requests = (double)l->rpm / 60000.0, per_ms_tokens = (double)l->tpm / 60000.0;
	enum limit_result result = LIMIT_OK;

	b->requests = refill(b->requests, l->rpm, now_ms - b->last_ms);
	b->tokens = refill(b->tokens, l->tpm, now_ms - b->last_ms);
	b->last_ms = now_ms;
	st->retry_ms = 0;
	if (l->tpm > 0 && tokens > l->tpm) {
		result = LIMIT_TOO_LARGE;
	} else if (l->rpm > 0 && b->requests < 1.0) {
		result = LIMIT_REQUESTS;
		st->retry_ms = (1.0 - b->requests) / per_ms_requests;
	} else if (l->tpm > 0 && b->tokens < (double)tokens) {
		result = LIMIT_TOKENS;
		st->retry_ms = ((double)tokens - b->tokens) / per_ms_tokens;
	} else {
		if (l->rpm > 0)
			b->requests -= 1.0;
		if (l->tpm > 0)
			b->tokens -= (double)tokens;
	}
	st->limit_requests = l->rpm;
	st->limit_tokens = l->tpm;
	st->remaining_requests = (long)floor(b->requests);
	st->remaining_tokens = (long)floor(b->tokens);
	st->reset_requests_ms = l->rpm > 0 ? ((double)l->rpm - b->requests) / per_ms_requests : 0;
	st->reset_tokens_ms = l->tpm > 0 ? ((double)l->tpm - b->tokens) / per_ms_tokens : 0;
	return result;
}

void
go_duration(char *out, size_t size, double ms)
{
	long long total = ms > 0 ? llround(ms) : 0;
	long long hours = total / 3600000, minutes = total / 60000 % 60;
	long long millis = total % 60000;
	char secs[32];
	size_t n;

	if (total == 0) {
		snprintf(out, size, "0s");
		return;
	}
	if (total < 1000) {
		snprintf(out, size, "%lldms", total);
		return;
	}
	/* Seconds with up to three decimals, trailing zeros dropped: 7.66s, 6m0s. */
	snprintf(secs, sizeof(secs), "%lld.%03lld", millis / 1000, millis % 1000);
	n = strlen(secs);
	while (secs[n - 1] == '0')
		secs[--n] = '\0';
	if (secs[n - 1] == '.')
		secs[--n] = '\0';
	if (hours > 0)
		snprintf(out, size, "%lldh%lldm%ss", hours, minutes, secs);
	else if (minutes > 0)
		snprintf(out, size, "%lldm%ss", minutes, secs);
	else
		snprintf(out, size, "%ss", secs);
}
