/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/ratelimit.c against a simulated server, on a simulated clock: how
 * fast and with how many 429s a run of requests meets a token bucket when
 * the limiter must learn the rate (no headers), when the server's headers
 * say it (OpenAI's x-ratelimit-*), and when the binding limit is tokens a
 * minute while the request headers count a day (Groq). The clients behave
 * as netloop does: up to -j requests in flight per process, several
 * processes on one key, a 429 halving the process's concurrency and the
 * request retried in its turn, the concurrency growing back with answers.
 * The real runs against build/mockd are tests/t3011 and bench/llm.sh; this
 * shows the algorithm's figures without waiting for them, over several
 * latencies and process counts.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ratelimit.h"
#include "tap.h"
#include "util.h"

#define T0 1.7e12 /* the simulated clock's start, in 2023 */
#define MAX_PROCS 8
#define MAX_FLIGHT 64

enum hints { HINT_NONE, HINT_RETRY_DELAY, HINT_HEADERS, HINT_GROQ };

/* The server: a bucket of requests and one of tokens, refilled continuously. */
struct server {
	double rpm, burst, tpm, rpd; /* rpd: Groq's day limit, shown in the request headers */
	double requests, tokens, day;
	double last;
	enum hints hints;
};

struct answer {
	bool ok;
	double limit[2], remaining[2], reset_ms[2]; /* limit 0: no header */
	double retry_ms; /* a 429's wait until the next request fits (Gemini's retryDelay) */
};

static void
server_refill(struct server *s, double now)
{
	double dt = fmax(now - s->last, 0); /* arrivals decided a little out of order */

	s->requests = fmin(s->burst, s->requests + s->rpm * dt / 60000);
	if (s->tpm > 0)
		s->tokens = fmin(s->tpm, s->tokens + s->tpm * dt / 60000);
	if (s->rpd > 0)
		s->day = fmin(s->rpd, s->day + s->rpd * dt / 86400000);
	s->last = fmax(s->last, now);
}

/* A request of tokens arrives at now: taken or refused, and the headers. */
static struct answer
server_take(struct server *s, double tokens, double now)
{
	struct answer a = { 0 };

	server_refill(s, now);
	a.ok = (s->rpm <= 0 || s->requests >= 1) && (s->tpm <= 0 || s->tokens >= tokens);
	if (!a.ok && s->hints == HINT_RETRY_DELAY)
		a.retry_ms = (1 - s->requests) * 60000 / s->rpm;
	if (a.ok) {
		s->requests -= s->rpm > 0 ? 1 : 0;
		s->tokens -= s->tpm > 0 ? tokens : 0;
		s->day -= s->rpd > 0 ? 1 : 0;
	}
	if (s->hints == HINT_HEADERS && s->rpm > 0) {
		a.limit[RL_REQUESTS] = s->rpm;
		a.remaining[RL_REQUESTS] = floor(s->requests);
		a.reset_ms[RL_REQUESTS] = (s->burst - s->requests) * 60000 / s->rpm;
	}
	if (s->hints == HINT_GROQ) {
		a.limit[RL_REQUESTS] = s->rpd;
		a.remaining[RL_REQUESTS] = floor(s->day);
		a.reset_ms[RL_REQUESTS] = (s->rpd - s->day) * 86400000 / s->rpd;
	}
	if (s->hints != HINT_NONE && s->tpm > 0) {
		a.limit[RL_TOKENS] = s->tpm;
		a.remaining[RL_TOKENS] = floor(s->tokens);
		a.reset_ms[RL_TOKENS] = (s->tpm - s->tokens) * 60000 / s->tpm;
	}
	return a;
}

struct flight {
	double sent, arrives, answered;
	struct rl_ticket ticket;
	struct answer a;
	bool decided;
};

struct proc {
	struct ratelimit *rl;
	double concurrency;
	int jobs;
	struct flight flight[MAX_FLIGHT];
	int nflight;
	double next_ask; /* when it may ask the limiter again */
};

struct run {
	double seconds; /* until the last request passed */
	long requests;  /* sent */
	long refused;   /* 429s */
	long blind;     /* of them, sent before the first 429 came back: none can know */
	double tokens;  /* tokens of the requests that passed */
};

/*
 * n requests of `tokens` tokens (estimated as `estimate`) through procs
 * processes of -j jobs, each answer latency ms after it was sent (the server
 * decides halfway).
 */
static struct run
simulate(const char *dir, const char *key, struct server *s, int n, int procs, int jobs,
	double latency, double tokens, double estimate)
{
	struct proc p[MAX_PROCS];
	struct run r = { 0 };
	int queued = n, passed = 0;
	double now = T0, first_refusal = 0;

	s->requests = s->burst;
	s->tokens = s->tpm;
	s->day = s->rpd;
	s->last = T0;
	for (int i = 0; i < procs; i++) {
		p[i] = (struct proc){ .rl = ratelimit_open(dir, key, 0, 0),
			.concurrency = jobs,
			.jobs = jobs,
			.next_ask = T0 };
		if (p[i].rl == NULL) {
			perror("ratelimit_open");
			exit(2);
		}
	}
	while (passed < n && now < T0 + 3600000) {
		double next = INFINITY;

		/* Everything due now: the server's decisions, the answers, the sends. */
		for (int i = 0; i < procs; i++) {
			struct proc *q = &p[i];

			for (int k = 0; k < q->nflight; k++) {
				struct flight *f = &q->flight[k];

				if (!f->decided && f->arrives <= now) {
					f->a = server_take(s, tokens, f->arrives);
					f->decided = true;
				}
				if (f->answered > now)
					continue;
				for (int u = 0; u < 2; u++)
					if (f->a.limit[u] > 0)
						ratelimit_observe(q->rl, (enum rl_unit)u,
							f->a.limit[u], f->a.remaining[u],
							f->a.reset_ms[u], 1, &f->ticket, now);
				if (f->a.ok) {
					passed++;
					r.tokens += tokens;
					r.seconds = (now - T0) / 1000;
					ratelimit_settle(q->rl, estimate, tokens);
					ratelimit_passed(q->rl, f->sent, now);
					if (q->concurrency < q->jobs)
						q->concurrency += 1 / q->concurrency;
				} else {
					r.refused++;
					if (first_refusal == 0)
						first_refusal = now;
					if (f->sent <= first_refusal)
						r.blind++;
					queued++;
					q->concurrency = fmax(1, q->concurrency / 2);
					if (f->a.limit[RL_REQUESTS] == 0 &&
						f->a.limit[RL_TOKENS] == 0)
						ratelimit_refused(q->rl, f->sent, now);
					if (f->a.retry_ms > 0)
						ratelimit_pause(q->rl, f->a.retry_ms, now);
				}
				q->flight[k--] = q->flight[--q->nflight];
			}
			while (queued > 0 && q->nflight < (int)q->concurrency &&
				q->next_ask <= now) {
				struct rl_ticket ticket;
				double wait = ratelimit_acquire(q->rl, estimate, now, &ticket);

				if (wait > 0) {
					q->next_ask = now + wait;
					break;
				}
				q->flight[q->nflight++] = (struct flight){ .sent = now,
					.arrives = now + latency / 2,
					.answered = now + latency,
					.ticket = ticket };
				queued--;
				r.requests++;
			}
		}
		for (int i = 0; i < procs; i++) {
			for (int k = 0; k < p[i].nflight; k++) {
				struct flight *f = &p[i].flight[k];

				next = fmin(next, f->decided ? f->answered : f->arrives);
			}
			if (queued > 0 && p[i].nflight < (int)p[i].concurrency)
				next = fmin(next, fmax(p[i].next_ask, now + 0.001));
		}
		if (!isfinite(next))
			break;
		now = fmax(next, now + 0.001);
	}
	for (int i = 0; i < procs; i++)
		ratelimit_close(p[i].rl);
	return r;
}

static void
report(const char *what, const struct run *r)
{
	printf("# %s: %.1f s, %ld requests, %ld 429s (%.2f%%), %ld of them blind\n", what,
		r->seconds, r->requests, r->refused,
		100.0 * (double)r->refused / (double)r->requests, r->blind);
}

/*
 * 1,200 requests at a 600-a-minute bucket that starts full: 60 s at best.
 * The server says nothing of its limits; with Gemini's hint, a 429 says
 * when the next request fits.
 */
static void
test_no_hints(const char *dir, enum hints hints)
{
	static const struct {
		int procs, jobs;
		double latency;
	} runs[] = { { 1, 8, 200 }, { 1, 8, 20 }, { 1, 32, 500 }, { 4, 8, 200 }, { 8, 4, 300 } };
	char key[32], what[96];

	for (size_t i = 0; i < sizeof(runs) / sizeof(*runs); i++) {
		struct server s = { .rpm = 600, .burst = 600, .hints = hints };
		struct run r;

		snprintf(key, sizeof(key), "nohint-%d-%zu", (int)hints, i);
		snprintf(what, sizeof(what), "%s, %d process(es) x -j %d, %.0f ms",
			hints == HINT_NONE ? "no hints" : "retryDelay only", runs[i].procs,
			runs[i].jobs, runs[i].latency);
		r = simulate(dir, key, &s, 1200, runs[i].procs, runs[i].jobs, runs[i].latency, 0,
			0);
		report(what, &r);
		ok(r.seconds <= 70, "%s: done within 70 s", what);
		ok((r.refused - r.blind) * 100 <= r.requests * 3,
			"%s: at most 3%% of requests got 429 once one came back", what);
		ok(r.blind <= 2L * runs[i].procs * runs[i].jobs,
			"%s: before, at most the requests of two turns in flight", what);
		if (i == 0)
			ok(r.refused * 100 <= r.requests * 3, "%s: at most 3%% in all", what);
	}
}

/* The small runs of tests/t3011: 600 requests at 3,600 a minute from a bucket of 60, 20 ms, -j 4.
 */
static void
test_small_runs(const char *dir)
{
	static const enum hints modes[] = { HINT_NONE, HINT_RETRY_DELAY, HINT_HEADERS };
	static const char *const names[] = { "no hints", "retryDelay only", "limit headers" };

	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		struct server s = { .rpm = 3600, .burst = 60, .hints = modes[i] };
		char key[32], what[96];
		struct run r;

		snprintf(key, sizeof(key), "small-%zu", i);
		snprintf(what, sizeof(what), "t3011's small run, %s", names[i]);
		r = simulate(dir, key, &s, 600, 1, 4, 20, 0, 0);
		report(what, &r);
		ok(r.seconds <= 11, "%s: within 10%% of the 9 s the bucket allows", what);
		ok(r.refused * 100 <= r.requests * (modes[i] == HINT_HEADERS ? 1 : 3),
			"%s: at most %d%% of requests got 429", what,
			modes[i] == HINT_HEADERS ? 1 : 3);
	}
}

static void
test_headers(const char *dir)
{
	static const struct {
		int procs, jobs;
		double latency;
	} runs[] = { { 1, 8, 200 }, { 1, 64, 50 }, { 4, 8, 200 } };
	char key[32], what[96];

	for (size_t i = 0; i < sizeof(runs) / sizeof(*runs); i++) {
		struct server s = { .rpm = 600, .burst = 600, .hints = HINT_HEADERS };
		struct run r;

		snprintf(key, sizeof(key), "headers-%zu", i);
		snprintf(what, sizeof(what), "limit headers, %d process(es) x -j %d, %.0f ms",
			runs[i].procs, runs[i].jobs, runs[i].latency);
		r = simulate(dir, key, &s, 1200, runs[i].procs, runs[i].jobs, runs[i].latency, 0,
			0);
		report(what, &r);
		ok(r.seconds <= 62, "%s: done within 62 s", what);
		ok(r.refused * 100 <= r.requests, "%s: at most 1%% of requests got 429", what);
	}
}

/*
 * Groq: request headers count a day (14,400), tokens a minute bind. The
 * server counts 150 tokens a request; the estimate is 180, then 120.
 */
static void
test_groq_tokens(const char *dir)
{
	static const double estimates[] = { 180, 120 };
	struct ratelimit *day;

	for (size_t i = 0; i < sizeof(estimates) / sizeof(*estimates); i++) {
		struct server s = { .tpm = 30000, .rpd = 14400, .hints = HINT_GROQ };
		char key[32], what[96];
		struct run r;
		double bound;

		snprintf(key, sizeof(key), "groq-%zu", i);
		snprintf(what, sizeof(what), "Groq-style, tokens bind, estimated %.0f for 150",
			estimates[i]);
		r = simulate(dir, key, &s, 500, 1, 8, 200, 150, estimates[i]);
		bound = (r.tokens - s.tpm) / s.tpm * 60;
		report(what, &r);
		printf("# token bound %.1f s\n", bound);
		ok(r.seconds <= bound * 1.15, "%s: within 15%% of the token bound", what);
		ok(r.refused * 100 <= r.requests, "%s: at most 1%% 429s", what);
	}
	day = ratelimit_open(dir, "groq-day", 0, 0);
	ok(!ratelimit_observe(day, RL_REQUESTS, 14400, 14399, 6000, 1, NULL, T0),
		"a request limit whose reset shows a day is not paced by");
	ratelimit_close(day);
}

/* Remove the state files in dir, then dir. */
static void
remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

int
main(void)
{
	char dir[] = "/tmp/jlkit-rl-learn-XXXXXX";
	int status;

	if (mkdtemp(dir) == NULL)
		return 2;
	test_no_hints(dir, HINT_NONE);
	test_no_hints(dir, HINT_RETRY_DELAY);
	test_headers(dir);
	test_groq_tokens(dir);
	test_small_runs(dir);
	status = done_testing();
	remove_dir(dir);
	return status;
}
