/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rate limits per API key: a request bucket (--rpm, holding --burst), a
 * token bucket (--tpm) and a day's request bucket (--rpd) that refill
 * continuously, as the providers' limits do. A request that is refused
 * takes nothing from the buckets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"
#include "util.h"

struct bucket_pair {
	char *key;
	double requests, tokens, day; /* what is left */
	double last_ms;               /* when they were last refilled */
};

struct limiter {
	long rpm, tpm, burst, rpd; /* burst: the request bucket's capacity */
	struct bucket_pair *keys;
	size_t nkeys, cap;
};

struct limiter *
limiter_new(long rpm, long tpm, long burst, long rpd)
{
	struct limiter *l = xcalloc(1, sizeof(*l));

	l->rpm = rpm;
	l->tpm = tpm;
	l->burst = burst > 0 ? burst : rpm;
	l->rpd = rpd;
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
	b->requests = (double)l->burst;
	b->tokens = (double)l->tpm;
	b->day = (double)l->rpd;
	b->last_ms = now_ms;
	return b;
}

/* Refill a bucket of capacity cap at rate per ms over elapsed ms. */
static double
refill(double level, long cap, double rate, double elapsed_ms)
{
	level += rate * elapsed_ms;
	return level > (double)cap ? (double)cap : level;
}

/*
 * The wait until a bucket (level, refilled at rate per ms) holds need, or 0
 * when it does; a limit of 0 is no limit.
 */
static double
wait_for(long limit, double level, double need, double rate)
{
	return limit > 0 && level < need ? (need - level) / rate : 0;
}

enum limit_result
limiter_take(struct limiter *l, const char *key, long tokens, double now_ms, struct limit_state *st)
{
	struct bucket_pair *b = find_key(l, key, now_ms);
	double rate_requests = (double)l->rpm / 60000.0, rate_tokens = (double)l->tpm / 60000.0;
	double rate_day = (double)l->rpd / 86400000.0, wait_requests, wait_tokens, wait_day;
	enum limit_result result = LIMIT_OK;

	b->requests = refill(b->requests, l->burst, rate_requests, now_ms - b->last_ms);
	b->tokens = refill(b->tokens, l->tpm, rate_tokens, now_ms - b->last_ms);
	b->day = refill(b->day, l->rpd, rate_day, now_ms - b->last_ms);
	b->last_ms = now_ms;
	wait_day = wait_for(l->rpd, b->day, 1.0, rate_day);
	wait_requests = wait_for(l->rpm, b->requests, 1.0, rate_requests);
	wait_tokens = wait_for(l->tpm, b->tokens, (double)tokens, rate_tokens);
	/* A refused request waits for the emptiest bucket: its retry is the longest wait. */
	st->retry_ms = 0;
	if (l->tpm > 0 && tokens > l->tpm) {
		result = LIMIT_TOO_LARGE;
	} else if (wait_day > 0 && wait_day >= wait_requests && wait_day >= wait_tokens) {
		result = LIMIT_DAY;
		st->retry_ms = wait_day;
	} else if (wait_requests > 0 && wait_requests >= wait_tokens) {
		result = LIMIT_REQUESTS;
		st->retry_ms = wait_requests;
	} else if (wait_tokens > 0) {
		result = LIMIT_TOKENS;
		st->retry_ms = wait_tokens;
	} else {
		if (l->rpm > 0)
			b->requests -= 1.0;
		if (l->tpm > 0)
			b->tokens -= (double)tokens;
		if (l->rpd > 0)
			b->day -= 1.0;
	}
	st->limit_requests = l->rpm;
	st->limit_tokens = l->tpm;
	st->limit_day = l->rpd;
	st->remaining_requests = (long)floor(b->requests);
	st->remaining_tokens = (long)floor(b->tokens);
	st->remaining_day = (long)floor(b->day);
	st->reset_requests_ms = l->rpm > 0 ? ((double)l->burst - b->requests) / rate_requests : 0;
	st->reset_tokens_ms = l->tpm > 0 ? ((double)l->tpm - b->tokens) / rate_tokens : 0;
	st->reset_day_ms = l->rpd > 0 ? ((double)l->rpd - b->day) / rate_day : 0;
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
