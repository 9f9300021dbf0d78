/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared rate limiter (doc/design.md §6.2). Every process that uses
 * the same limiter key (e.g. "openai/gpt-4o-mini") maps one small state file
 * and takes a lock on it, so `xargs -P 8 jl-llm --rpm 30` sends at most 30
 * requests a minute in total.
 *
 * The promise is strict: never more than rpm requests in any sliding
 * 60-second window. A bucket that starts full and refills could send 2 x rpm
 * in one window, so requests are spread evenly instead (GCRA, no burst): one
 * every 60 s / rpm, stretched by 1% against network jitter. Tokens (tpm) are
 * paced the same way, by their estimate, settled when the real count is known.
 * A pause (a 429, a reset header) holds every sharer until it ends.
 *
 * Times are milliseconds on CLOCK_REALTIME (ratelimit_now), the clock all
 * processes share; state from the future (a clock step, a stale file) is
 * reset rather than waited for. Stored times are kept within 10 minutes of
 * now, so a pause, or one request's token charge, counts for 10 minutes at
 * most. A fractional rpm of 1 or more paces as floor(rpm). Sharers of a key
 * should use one limit: each request spaces the next by its caller's
 * interval. Tokens are settled after the answer, so a minute may briefly
 * pass tpm by one request's size. When the state file cannot be used after
 * it was opened, the handle paces its own process alone.
 */
#ifndef JL_RATELIMIT_H
#define JL_RATELIMIT_H

struct ratelimit;

/*
 * Open (creating) the shared state of key in dir: NULL means
 * $XDG_RUNTIME_DIR/jlkit, else /tmp/jlkit-UID (created mode 0700; a
 * directory owned by another user is refused). rpm and tpm: the limits, 0
 * for none. Returns NULL with errno set when the state cannot be opened.
 */
struct ratelimit *ratelimit_open(const char *dir, const char *key, double rpm, double tpm);

/*
 * Ask to start a request estimated at tokens. Returns 0 when it may start
 * now (its slot is taken), else the milliseconds to wait before asking
 * again (nothing taken).
 */
double ratelimit_acquire(struct ratelimit *rl, double tokens, double now_ms);

/* The request took actual tokens, not the estimate: settle the difference. */
void ratelimit_settle(struct ratelimit *rl, double estimated, double actual);

/* The server said to wait: no sharer starts a request before now_ms + ms. */
void ratelimit_pause(struct ratelimit *rl, double ms, double now_ms);

/* When the pause (if any) ends, in ms on the shared clock; 0 when none. */
double ratelimit_paused_until(struct ratelimit *rl);

/* Milliseconds on CLOCK_REALTIME. */
double ratelimit_now(void);

void ratelimit_close(struct ratelimit *rl);

#endif
