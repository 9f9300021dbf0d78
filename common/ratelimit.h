/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared rate limiter (doc/design.md §6.2). Every process that uses
 * the same limiter key (e.g. "openai/gpt-4o-mini") maps one small state file
 * and takes a lock on it, so `xargs -P 8 jl-llm --rpm 30` sends at most 30
 * requests a minute in total, and what one process learns of the server's
 * limits paces them all.
 *
 * Requests and tokens are each paced by the first of these that is known:
 *
 *  1. the user's limit (--rpm, --tpm). The promise is strict: never more
 *     than rpm requests in any sliding 60-second window. A bucket that starts
 *     full and refills could send 2 x rpm in one window, so requests are
 *     spread evenly instead (GCRA, no burst): one every 60 s / rpm,
 *     stretched by 1% against network jitter;
 *  2. the server's limit, from its headers (ratelimit_observe): a bucket of
 *     limit units refilled over a minute, mirrored as the server keeps it. A
 *     request goes while the bucket, as the headers last showed it and less
 *     what was sent since, holds it; a request that did not fit
 *     waits until it does, not until the bucket is full;
 *  3. for requests, a rate learned from 429s that say nothing of the limits
 *     (ratelimit_refused, ratelimit_passed): the requests that passed
 *     between two 429s, over the time between them, are the server's rate
 *     (its bucket was empty at both); paced at 96% of it, raised 0.4% a
 *     second while requests pass, so that a rate that grew is found again.
 *     Before the first measure, a guess: half the process's pass rate of
 *     the last seconds (at least one request a second), raised half again each
 *     second while requests pass, halved at a 429.
 *     A learned rate also holds under a user's limit that is higher.
 *
 * A pause (a retry-after) holds every sharer until it ends. Tokens are paced
 * by their estimate, settled when the real count is known.
 *
 * Times are milliseconds on CLOCK_REALTIME (ratelimit_now), the clock all
 * processes share; state from the future (a clock step, a stale file) is
 * reset rather than waited for. Stored times are kept within 10 minutes of
 * now, so a pause, or one request's token charge, counts for 10 minutes at
 * most, and a server limit over a longer window (Groq's requests per day)
 * is not paced by. A fractional rpm of 1 or more paces as floor(rpm).
 * Sharers of a key should use one limit: each request spaces the next by its
 * caller's interval. Tokens are settled after the answer, so a minute may
 * briefly pass tpm by one request's size. When the state file cannot be
 * used after it was opened, the handle paces its own process alone.
 */
#ifndef JL_RATELIMIT_H
#define JL_RATELIMIT_H

#include <stdbool.h>

struct ratelimit;

/*
 * Open (creating) the shared state of key in dir: NULL means
 * $XDG_RUNTIME_DIR/jlkit, else /tmp/jlkit-UID (created mode 0700; a
 * directory owned by another user is refused). rpm and tpm: the limits, 0
 * for none. Returns NULL with errno set when the state cannot be opened.
 */
struct ratelimit *ratelimit_open(const char *dir, const char *key, double rpm, double tpm);

/* The two things a server limits. */
enum rl_unit { RL_REQUESTS, RL_TOKENS };

/*
 * A request's place among every sharer's: the requests and tokens sent
 * with the key when it went, itself included. The server's answer to it
 * counts none sent after it.
 */
struct rl_ticket {
	double sent[2]; /* by enum rl_unit */
};

/*
 * Ask to start a request estimated at tokens. Returns 0 when it may start
 * now (its slot is taken, and *ticket, when not NULL, is its place), else
 * the milliseconds to wait before asking again (nothing taken).
 */
double ratelimit_acquire(struct ratelimit *rl, double tokens, double now_ms,
	struct rl_ticket *ticket);

/*
 * The request took actual tokens, not the estimate: settle the difference
 * under the user's --tpm (under the server's limit, its headers say).
 */
void ratelimit_settle(struct ratelimit *rl, double estimated, double actual);

/* The server said to wait: no sharer starts a request before now_ms + ms. */
void ratelimit_pause(struct ratelimit *rl, double ms, double now_ms);

/* When the pause (if any) ends, in ms on the shared clock; 0 when none. */
double ratelimit_paused_until(struct ratelimit *rl);

/*
 * A server's answer to the request of ticket said its limit of unit (per
 * minute), what remains of it, and when the bucket is full again (reset_ms
 * from now, -1 when not said; resolution_ms: the precision the header gives
 * it). Returns whether the limit now paces unit; false for a limit whose
 * window the reset shows to be much longer than a minute (a day), which is
 * not paced by.
 */
bool ratelimit_observe(struct ratelimit *rl, enum rl_unit unit, double limit, double remaining,
	double reset_ms, double resolution_ms, const struct rl_ticket *ticket, double now_ms);

/*
 * A request sent at sent_ms passed (the server answered it): counts towards
 * the learned rate, and raises it.
 */
void ratelimit_passed(struct ratelimit *rl, double sent_ms, double now_ms);

/*
 * A request sent at sent_ms got a 429 that did not say the server's limits:
 * learn from it. Requests are paced by a learned rate from then on.
 */
void ratelimit_refused(struct ratelimit *rl, double sent_ms, double now_ms);

/* The requests a minute the handle paces by now (0: none): what the tests read of it. */
double ratelimit_request_rate(struct ratelimit *rl, double now_ms);

/* Milliseconds on CLOCK_REALTIME. */
double ratelimit_now(void);

void ratelimit_close(struct ratelimit *rl);

#endif
