/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The record loop of the network tools (jl-llm, jl-search): doc/design.md
 * §4.3, which keeps §2, §5 and §6 in one place.
 *
 * Records are read from stdin without blocking, only while fewer than a
 * window of jobs is unfinished, so memory stays bounded. Each turn: read
 * the input that is there, start what the concurrency, the retry times and
 * the shared limiter allow, wait in curl_multi_poll with stdin watched too,
 * handle what finished, commit the answers to the run database, and only
 * then write the records out. Failures are retried with backoff and full
 * jitter or a server's retry-after; a 429 or a reset header pauses every
 * process that shares the limiter; targets (models, backends) fall back in
 * turn; a run stops cleanly on a refused key (77), an exhausted quota (77),
 * a target no one knows (78), a failing service (69), or a signal (75).
 *
 * A tool supplies the hooks of struct netloop_ops: how a record becomes a
 * request, how an answer becomes a field of the record, how a failure is
 * classed. The hooks finish jobs with netloop_ok / netloop_fail, or send
 * them (again) with netloop_send / netloop_retry.
 */
#ifndef JL_NETLOOP_H
#define JL_NETLOOP_H

#include <jv.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "progress.h"
#include "sha256.h"

#define NETLOOP_MAX_TARGETS 8

/* What to do after a failed attempt. */
enum next_step {
	STEP_RETRY,      /* transient: retry with backoff (network, 408, 409, 5xx, 529) */
	STEP_RATE,       /* 429 rate limit: wait as the server says, pause the sharers */
	STEP_RECORD,     /* this record fails: 400, 422, too large, ... */
	STEP_CONTEXT,    /* the request is too long (the too_long hook may shrink it) */
	STEP_FALLBACK,   /* the target is unknown (404): next target, or stop with 78 */
	STEP_STOP_AUTH,  /* key rejected: stop, 77 */
	STEP_STOP_QUOTA, /* quota or credits gone: stop, 77 */
	STEP_STOP_LATER, /* a quota that resets by itself (per day) is used up: stop, 75 */
};

struct failure {
	enum next_step step;
	bool overload;      /* 429/503/529: counts towards moving to a fallback */
	bool server;        /* a server-side failure, for the circuit breaker */
	char code[48];      /* the stable _error code */
	double wait_ms;     /* the wait the server asked for in its body (Gemini); 0: none */
	struct buf message; /* for people: status, the provider's message (keys are redacted) */
};

/* Where requests go: a model of a provider, a search backend. */
struct netloop_target {
	const char *name;    /* "openai/gpt-4o-mini": messages, and the default limiter key */
	const char *key;     /* its API key (redacted from what servers say), or NULL */
	const char *key_env; /* the variable the key came from, for messages, or NULL */
};

struct netloop_config {
	struct netloop_target targets[NETLOOP_MAX_TARGETS]; /* the first, then fallbacks */
	size_t ntargets;
	const char *other_secret; /* another key the hooks send (redacted too), or NULL */
	const char *into;         /* the field the tool adds */
	long jobs;                /* requests in flight, at most */
	double rpm, tpm;          /* shared limits, 0 for none */
	const char *limiter_key;  /* or NULL: each target's name */
	int retries;
	long retry_base_ms;
	long max_retry_after_ms;
	long cooldown_ms;   /* how long a fallback stands in */
	int fallback_after; /* overloads in a row before falling back */
	int max_consecutive_failures;
	long grace_ms; /* after a stop, how long requests in flight may finish */
	bool keep_order;
	bool quiet, verbose, strict;
	bool check;      /* the key check before any input */
	bool no_network; /* every record is answered in prepare (--dry-run, a local backend) */
	enum progress_mode progress;
	unsigned long long total;
	const char *db_path;
	const char *cache_table; /* the tool's table of answers in the run database */
	int64_t budget_micro;    /* --budget: no request once the ledger holds it; -1: none */
	const char *budget_run;  /* the ledger run it counts, "" for every run */
	const char *log_path;
	const char *cacert;
	unsigned long long seed;
};

/* One record on its way through the loop. */
struct net_job {
	unsigned long seq;              /* its place in the input */
	jv record;                      /* the input record (owned by the job) */
	int target;                     /* where it goes now */
	int attempts;                   /* HTTP attempts so far */
	unsigned char key[SHA256_SIZE]; /* its request's cache key, when has_key */
	bool has_key;
	struct http_transfer *t; /* the last attempt: its answer, in the answer hook */
	void *data;              /* the tool's */
};

struct netloop;

struct netloop_ops {
	/*
	 * A new record (one that did not arrive failed): set j up (render,
	 * cache key, target), then leave it to be sent, or finish it at once
	 * (netloop_ok / netloop_fail: a cached answer, a bad query).
	 */
	void (*prepare)(struct netloop *nl, struct net_job *j);
	/*
	 * Fill t (url, post, body, headers, timeout) for j's next attempt at
	 * j->target. Returns the tokens it will take from the limiter, or -1
	 * after finishing j itself (an answer kept for that target).
	 */
	long (*build)(struct netloop *nl, struct net_job *j, struct http_transfer *t);
	/*
	 * An attempt answered 200: finish j (netloop_ok, netloop_fail), send
	 * it on (netloop_send: a second step), or retry it (netloop_retry).
	 * Returns the tokens it actually took (for the limiter), or -1.
	 */
	long (*answer)(struct netloop *nl, struct net_job *j);
	/* An attempt that failed (no answer, or not 200): fill f. */
	void (*classify)(struct netloop *nl, const struct net_job *j, struct failure *f);
	/* STEP_CONTEXT: shrink j and return true to send it again, else false (optional). */
	bool (*too_long)(struct netloop *nl, struct net_job *j);
	/*
	 * The key check of target i: fill t (a cheap authenticated GET) and
	 * return true, or return false for none (optional).
	 */
	bool (*check)(struct netloop *nl, int target, struct http_transfer *t);
	/* Free j->data (optional). */
	void (*free_data)(void *data);
	/* Add the tool's own figures to the summary line, after the counts (optional). */
	void (*summary)(struct netloop *nl, struct buf *out);
};

/* Run the records of stdin to stdout. Returns the exit status (exitcodes.h). */
int netloop_run(const struct netloop_config *cfg, const struct netloop_ops *ops, void *tool);

/* Ask the loop to stop (SIGINT, SIGTERM): safe in a signal handler. */
void netloop_request_stop(void);

/* Whether a stop was asked for (a loop of the tool's own, jl-llm --batch, reads it). */
bool netloop_stop_requested(void);

/* The tool pointer given to netloop_run, and the configuration. */
void *netloop_tool(struct netloop *nl);
const struct netloop_config *netloop_config(const struct netloop *nl);

/* --- what the hooks call --------------------------------------------------- */

/* j is done: the record with cfg->into set to value (consumed). */
void netloop_ok(struct netloop *nl, struct net_job *j, jv value);

/* j failed: the record with _error {tool, code, message, status (if > 0), attempts}. */
void netloop_fail(struct netloop *nl, struct net_job *j, const char *code, const char *message,
	long status);

/* Send j (again) as soon as the limiter lets it: a first try, or a next step. */
void netloop_send(struct netloop *nl, struct net_job *j);

/* Send j again after wait_ms (an answer that must be asked for again). */
void netloop_retry(struct netloop *nl, struct net_job *j, double wait_ms);

/*
 * The 200 the answer hook got is a failure after all (an error object
 * inside it): handle it as any failed attempt (retry, pause, stop, ...).
 */
void netloop_attempt_failed(struct netloop *nl, struct net_job *j, struct failure *f);

/* Stop the run with code: no new requests; records not yet sent leave as _error. */
void netloop_stop(struct netloop *nl, int code, const char *why);

/* The cached answer to j's request (j->key), or an invalid jv. */
jv netloop_cache_get(struct netloop *nl, const struct net_job *j);

/* Keep value (borrowed) as the answer to j's request, committed before j is written. */
void netloop_cache_put(struct netloop *nl, const struct net_job *j, jv value);

/* Count code in codes, "code count\n" lines in the order first seen (for a summary). */
void netloop_count_code(struct buf *codes, const char *code);

/* Append codes, counted by netloop_count_code, as " (code count, code count)"; nothing when empty.
 */
void netloop_add_codes(struct buf *out, const struct buf *codes);

/* Count for the summary: an answer from the cache, tokens used. */
void netloop_count_cached(struct netloop *nl);
void netloop_count_tokens(struct netloop *nl, long prompt, long completion);

/* Whether target i is usable now, and the first usable one (-1: none). */
int netloop_first_target(struct netloop *nl);

/* A number in [0, 1) from the xorshift state *rng (not 0), which it advances. */
double netloop_random01(uint64_t *rng);

/*
 * The wait in ms before retrying an attempt that failed with f (transfer
 * t), after attempts attempts: what the server asked for (f->wait_ms,
 * retry-after-ms or retry-after, and when rate the "try again in" of its
 * message), else cfg's exponential backoff with full jitter drawn from
 * *rng (capped at a minute); at most cfg->max_retry_after_ms.
 */
double netloop_retry_wait(const struct netloop_config *cfg, const struct http_transfer *t,
	struct failure *f, bool rate, int attempts, uint64_t *rng);

/* Take every key of the configuration out of text. */
void netloop_redact(const struct netloop *nl, struct buf *text);

#endif
