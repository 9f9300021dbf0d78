/* SPDX-License-Identifier: BSD-2-Clause */
/* The record loop of the network tools; netloop.h says what it promises. */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcodes.h"
#include "io.h"
#include "json.h"
#include "jsonl.h"
#include "ledger.h"
#include "netloop.h"
#include "out.h"
#include "ratelimit.h"
#include "recloop.h"
#include "record.h"
#include "redact.h"
#include "util.h"

static volatile sig_atomic_t stop_signal;

void
netloop_request_stop(void)
{
	stop_signal = 1;
}

bool
netloop_stop_requested(void)
{
	return stop_signal != 0;
}

enum job_state { JOB_PENDING, JOB_FLIGHT, JOB_DONE };

/* A job as the loop keeps it: what the tool sees, and the loop's own state. */
struct job {
	struct net_job pub;
	enum job_state state;
	double not_before;       /* clock_ms() before which it is not sent */
	long estimate;           /* tokens taken from the limiter for the attempt in flight */
	double sent_ms;          /* ratelimit_now() when the attempt in flight was sent */
	struct rl_ticket ticket; /* its place among the sharers' requests */
	bool limits_said;        /* its answer's headers said the server's limits */
	struct buf line;         /* the output line, once done */
	bool failed;             /* done as an _error */
	char last_code[48];      /* the last failed attempt, for a record the run stops before */
	long last_status;
	struct buf last_message;
};

#define JOB(p) ((struct job *)(void *)(p))

struct target_state {
	struct ratelimit *limiter;
	int overloads;     /* consecutive 429/503/529 */
	double cool_until; /* clock_ms(): not used before */
	bool dead;         /* 404: not for this run */
};

struct counts {
	unsigned long long records, ok, failed, cached, requests, rate_limited;
	unsigned long long prompt_tokens, completion_tokens;
	struct buf codes; /* "code count\n" lines, for the summary */
};

struct netloop {
	const struct netloop_config *cfg;
	const struct netloop_ops *ops;
	void *tool;
	struct http *http;
	struct db *db;
	struct ledger *ledger;        /* with --budget */
	bool budget_reached;          /* the ledger held the budget: nothing more is sent */
	unsigned long long held_back; /* records failed budget_exceeded */
	FILE *log;
	struct target_state targets[NETLOOP_MAX_TARGETS];
	struct input in;
	struct jsonl_reader reader;
	bool input_done;
	bool stopped_at_bad_line; /* --strict met a malformed line */
	struct job **jobs;        /* unfinished or undelivered, in input order */
	size_t njobs, jobs_cap;
	size_t window;
	unsigned long next_seq;
	double concurrency; /* adapts to 429s, up to cfg->jobs */
	int in_flight;
	int consecutive_server_failures;
	int stop_code; /* set once the run must end: no new requests */
	double stop_deadline;
	long attempt_prompt, attempt_completion; /* tokens the answer hook reported */
	struct counts counts;
	struct progress progress;
	uint64_t rng;
};

/* --- small helpers ------------------------------------------------------------- */

void *
netloop_tool(struct netloop *nl)
{
	return nl->tool;
}

const struct netloop_config *
netloop_config(const struct netloop *nl)
{
	return nl->cfg;
}

void
netloop_redact(const struct netloop *nl, struct buf *text)
{
	for (size_t i = 0; i < nl->cfg->ntargets; i++)
		redact_secret(text, nl->cfg->targets[i].key);
	redact_secret(text, nl->cfg->other_secret);
}

double
netloop_random01(uint64_t *rng)
{
	*rng ^= *rng >> 12;
	*rng ^= *rng << 25;
	*rng ^= *rng >> 27;
	return (double)((*rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

void
netloop_stop(struct netloop *nl, int code, const char *why)
{
	if (nl->stop_code != 0)
		return;
	nl->stop_code = code;
	nl->stop_deadline = clock_ms() + (double)nl->cfg->grace_ms;
	if (why != NULL)
		warn("%s", why);
}

void
netloop_add_codes(struct buf *out, const struct buf *codes)
{
	size_t from = out->len;

	if (codes->len == 0)
		return;
	buf_puts(out, " (");
	buf_add(out, codes->data, codes->len - 1);
	buf_putc(out, ')');
	for (size_t i = from; i < out->len; i++)
		if (out->data[i] == '\n')
			out->data[i] = ',';
}

void
netloop_count_code(struct buf *codes, const char *code)
{
	size_t n = strlen(code);

	for (size_t i = 0; i < codes->len;) {
		char *line = codes->data + i, *space = memchr(line, ' ', codes->len - i);
		char *nl = memchr(space, '\n', codes->len - (size_t)(space - codes->data));

		if ((size_t)(space - line) == n && memcmp(line, code, n) == 0) {
			struct buf rest = BUF_INIT;
			unsigned long v = strtoul(space + 1, NULL, 10) + 1;

			buf_add(&rest, nl, codes->len - (size_t)(nl - codes->data));
			codes->len = (size_t)(space + 1 - codes->data);
			buf_add_uint(codes, v);
			buf_add(codes, rest.data, rest.len);
			buf_free(&rest);
			return;
		}
		i = (size_t)(nl - codes->data) + 1;
	}
	buf_puts(codes, code);
	buf_puts(codes, " 1\n");
}

void
netloop_count_cached(struct netloop *nl)
{
	nl->counts.cached++;
}

void
netloop_count_tokens(struct netloop *nl, long prompt, long completion)
{
	nl->attempt_prompt = prompt;
	nl->attempt_completion = completion;
	nl->counts.prompt_tokens += (unsigned long long)prompt;
	nl->counts.completion_tokens += (unsigned long long)completion;
}

/* --- jobs ------------------------------------------------------------------------- */

static void
job_free(struct netloop *nl, struct job *j)
{
	jv_free(j->pub.record);
	if (nl->ops->free_data != NULL && j->pub.data != NULL)
		nl->ops->free_data(j->pub.data);
	buf_free(&j->line);
	buf_free(&j->last_message);
	http_transfer_free(j->pub.t);
	free(j);
}

static void
set_line(struct job *j, jv value)
{
	buf_reset(&j->line);
	record_dump(&j->line, value);
}

void
netloop_fail(struct netloop *nl, struct net_job *pj, const char *code, const char *message,
	long status)
{
	struct job *j = JOB(pj);

	pj->record = record_fail(pj->record,
		&(struct record_error){ code, message, NULL, 0, status, pj->attempts });
	set_line(j, jv_copy(pj->record));
	j->state = JOB_DONE;
	j->failed = true;
	snprintf(j->last_code, sizeof(j->last_code), "%s", code);
	nl->counts.failed++;
	netloop_count_code(&nl->counts.codes, code);
}

void
netloop_ok(struct netloop *nl, struct net_job *pj, jv value)
{
	struct job *j = JOB(pj);

	pj->record = record_set(pj->record, nl->cfg->into, value);
	set_line(j, jv_copy(pj->record));
	j->state = JOB_DONE;
	nl->counts.ok++;
}

void
netloop_send(struct netloop *nl, struct net_job *pj)
{
	(void)nl;
	JOB(pj)->state = JOB_PENDING;
	JOB(pj)->not_before = 0;
}

void
netloop_retry(struct netloop *nl, struct net_job *pj, double wait_ms)
{
	(void)nl;
	JOB(pj)->state = JOB_PENDING;
	JOB(pj)->not_before = clock_ms() + wait_ms;
}

jv
netloop_cache_get(struct netloop *nl, const struct net_job *j)
{
	struct buf value = BUF_INIT;
	jv v;

	if (nl->db == NULL || !j->has_key ||
		db_cache_get(nl->db, nl->cfg->cache_table, j->key, &value) != 1) {
		buf_free(&value);
		return jv_invalid();
	}
	v = jv_parse_sized(value.data, (int)value.len);
	buf_free(&value);
	return v;
}

void
netloop_cache_put(struct netloop *nl, const struct net_job *j, jv value)
{
	jv s;

	if (nl->db == NULL || !j->has_key)
		return;
	s = jv_dump_string(jv_copy(value), 0);
	if (db_begin(nl->db) != 0 ||
		db_cache_put(nl->db, nl->cfg->cache_table, j->key, jv_string_value(s),
			(size_t)jv_string_length_bytes(jv_copy(s))) != 0)
		netloop_stop(nl, EXIT_IOERR, NULL);
	jv_free(s);
}

int
netloop_first_target(struct netloop *nl)
{
	double now = clock_ms();
	int fallback = -1;

	for (size_t i = 0; i < nl->cfg->ntargets; i++) {
		if (nl->targets[i].dead)
			continue;
		if (nl->targets[i].cool_until <= now)
			return (int)i;
		if (fallback < 0)
			fallback = (int)i; /* every live target cools down: the first of them */
	}
	return fallback;
}

static struct job *
new_job(struct netloop *nl, jv record)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->pub.seq = nl->next_seq++;
	j->pub.record = record;
	j->pub.target = 0;
	j->state = JOB_PENDING;
	if (nl->njobs == nl->jobs_cap) {
		nl->jobs_cap = nl->jobs_cap ? 2 * nl->jobs_cap : 64;
		nl->jobs = xreallocarray(nl->jobs, nl->jobs_cap, sizeof(*nl->jobs));
	}
	nl->jobs[nl->njobs++] = j;
	nl->counts.records++;
	return j;
}

/* A new record: passed through when it failed upstream, else the tool prepares it. */
static void
add_record(struct netloop *nl, jv record)
{
	struct job *j = new_job(nl, record);
	int first = netloop_first_target(nl);

	if (record_failed(record)) { /* failed upstream: goes through untouched */
		set_line(j, jv_copy(record));
		j->state = JOB_DONE;
		j->failed = true;
		nl->counts.failed++;
		return;
	}
	j->pub.target = first < 0 ? 0 : first;
	nl->ops->prepare(nl, &j->pub);
}

/* A line that is not a JSON object leaves as the reader's error record. */
static void
add_bad_line(struct netloop *nl, jv error_record)
{
	struct job *j = new_job(nl, jv_null());

	set_line(j, error_record);
	j->state = JOB_DONE;
	j->failed = true;
	nl->counts.failed++;
	netloop_count_code(&nl->counts.codes, ERR_BAD_INPUT);
}

/* Read the records that are there now, while the window has room. */
static void
read_input(struct netloop *nl)
{
	while (!nl->input_done && nl->stop_code == 0 && nl->njobs < nl->window) {
		jv rec;
		enum jsonl_status st = jsonl_next(&nl->reader, &rec);

		if (st == JSONL_AGAIN)
			return;
		if (st == JSONL_EOF) {
			nl->input_done = true;
			return;
		}
		if (st == JSONL_IOERR) {
			warn("read error on standard input:");
			nl->input_done = true;
			netloop_stop(nl, EXIT_IOERR, NULL);
			return;
		}
		if (st == JSONL_BAD) {
			add_bad_line(nl, rec);
			if (nl->cfg->strict) { /* read no further; what was read is finished */
				warn("%s:%lu: stopping at a malformed line (--strict)",
					nl->reader.lines.in->name, jsonl_lineno(&nl->reader));
				nl->input_done = true;
				nl->stopped_at_bad_line = true;
			}
		} else {
			add_record(nl, rec);
		}
	}
}

/* --- sending ------------------------------------------------------------------------- */

/*
 * Whether --budget forbids a new request: jl-cost's ledger for the run holds
 * the budget. Read before each record's first request, until it does.
 */
static bool
over_budget(struct netloop *nl)
{
	int64_t total;

	if (nl->ledger == NULL || nl->budget_reached)
		return nl->budget_reached;
	total = ledger_total(nl->ledger, nl->cfg->budget_run);
	if (total < 0) {
		netloop_stop(nl, EXIT_IOERR, NULL);
		return false;
	}
	nl->budget_reached = total >= ledger_pico(nl->cfg->budget_micro);
	return nl->budget_reached;
}

/* j leaves unsent: the budget is spent. */
static void
hold_back(struct netloop *nl, struct job *j)
{
	struct buf message = BUF_INIT;

	buf_puts(&message, "not sent: the ledger");
	if (*nl->cfg->budget_run != '\0') {
		buf_puts(&message, " of run '");
		buf_puts(&message, nl->cfg->budget_run);
		buf_putc(&message, '\'');
	}
	buf_puts(&message, " reached the budget $");
	ledger_usd(&message, ledger_pico(nl->cfg->budget_micro));
	netloop_fail(nl, &j->pub, ERR_BUDGET_EXCEEDED, buf_cstr(&message), 0);
	buf_free(&message);
	nl->held_back++;
}

/* Start j now if the limiter lets it; returns 0, or the ms to wait. */
static double
start_job(struct netloop *nl, struct job *j)
{
	struct target_state *ts;
	int best;
	long estimate;
	double wait;

	if (j->pub.attempts == 0 && over_budget(nl)) {
		hold_back(nl, j);
		return 0;
	}
	if (nl->stop_code != 0)
		return 0; /* the ledger could not be read */
	best = netloop_first_target(nl);
	if (best < 0) {
		netloop_fail(nl, &j->pub, ERR_MODEL_NOT_FOUND, "no target is left to try", 404);
		return 0;
	}
	j->pub.target = best;
	ts = &nl->targets[best];
	if (j->pub.t == NULL)
		j->pub.t = http_transfer_new();
	else
		http_clear_request(j->pub.t);
	estimate = nl->ops->build(nl, &j->pub, j->pub.t);
	if (estimate < 0)
		return 0; /* the hook finished it (an answer kept for this target) */
	if (ts->limiter != NULL) {
		wait = ratelimit_acquire(ts->limiter, (double)estimate, ratelimit_now(),
			&j->ticket);
		if (wait > 0)
			return wait;
	}
	j->estimate = estimate;
	j->sent_ms = ratelimit_now();
	j->pub.t->user = j;
	if (http_start(nl->http, j->pub.t) != 0) {
		netloop_fail(nl, &j->pub, ERR_NETWORK, j->pub.t->error, 0);
		return 0;
	}
	j->pub.attempts++;
	j->state = JOB_FLIGHT;
	nl->in_flight++;
	nl->counts.requests++;
	return 0;
}

/*
 * Start the pending jobs that may go: within the concurrency, past their
 * retry time, as the limiter allows. Returns the ms until one may go (1000
 * when none waits).
 */
static double
dispatch(struct netloop *nl)
{
	double now = clock_ms(), next = 1000;

	if (nl->stop_code != 0)
		return next;
	for (size_t i = 0; i < nl->njobs && nl->in_flight < (int)nl->concurrency; i++) {
		struct job *j = nl->jobs[i];
		double wait;

		if (j->state != JOB_PENDING)
			continue;
		if (j->not_before > now) {
			if (j->not_before - now < next)
				next = j->not_before - now;
			continue;
		}
		wait = start_job(nl, j);
		if (wait > 0)
			return wait < next ? wait : next; /* the limiter paces everything */
	}
	return next;
}

/* --- answers ---------------------------------------------------------------------- */

static void
log_attempt(struct netloop *nl, const struct job *j, const char *code)
{
	const char *name = nl->cfg->targets[j->pub.target].name, *slash = strchr(name, '/');
	const struct http_transfer *t = j->pub.t;
	struct buf line = BUF_INIT, v = BUF_INIT;
	static const char *const limit_headers[] = { "x-ratelimit-limit-requests",
		"x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
		"x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
		"x-ratelimit-reset-tokens", "anthropic-ratelimit-requests-limit",
		"anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-tokens-limit",
		"anthropic-ratelimit-tokens-remaining", "retry-after" };
	char num[128];
	bool first = true;

	if (nl->log == NULL)
		return;
	snprintf(num, sizeof(num), "{\"time\":%.0f,\"tool\":", ratelimit_now());
	buf_puts(&line, num);
	jw_cstring(&line, progname);
	buf_puts(&line, ",\"provider\":");
	jw_string(&line, name, slash ? (size_t)(slash - name) : strlen(name));
	if (slash != NULL) {
		buf_puts(&line, ",\"model\":");
		jw_cstring(&line, slash + 1);
	}
	snprintf(num, sizeof(num), ",\"seq\":%lu,\"attempt\":%d,\"status\":%ld,\"latency_ms\":%.1f",
		j->pub.seq, j->pub.attempts, t->status, t->latency_ms);
	buf_puts(&line, num);
	if (code == NULL && (nl->attempt_prompt > 0 || nl->attempt_completion > 0)) {
		snprintf(num, sizeof(num), ",\"tokens\":{\"prompt\":%ld,\"completion\":%ld}",
			nl->attempt_prompt, nl->attempt_completion);
		buf_puts(&line, num);
	}
	buf_puts(&line, ",\"ratelimit\":{");
	for (size_t i = 0; i < sizeof(limit_headers) / sizeof(*limit_headers); i++) {
		if (http_response_header(t, limit_headers[i], &v) == NULL)
			continue;
		buf_puts(&line, first ? "" : ",");
		first = false;
		jw_cstring(&line, limit_headers[i]);
		buf_putc(&line, ':');
		jw_string(&line, v.data, v.len);
	}
	buf_puts(&line, "},\"error\":");
	if (code != NULL)
		jw_cstring(&line, code);
	else
		buf_puts(&line, "null");
	buf_puts(&line, "}\n");
	netloop_redact(nl, &line);
	if (fwrite(line.data, 1, line.len, nl->log) != line.len || fflush(nl->log) != 0)
		die(EXIT_IOERR, "cannot write the log '%s':", nl->cfg->log_path);
	buf_free(&line);
	buf_free(&v);
}

/* A header's value as a number, or NAN when absent or not one. */
static double
header_number(const struct http_transfer *t, const char *name, struct buf *v)
{
	char *end;
	double n;

	if (http_response_header(t, name, v) == NULL)
		return NAN;
	n = strtod(v->data, &end);
	return end != v->data && *end == '\0' ? n : NAN;
}

/*
 * What the server says of its limits, in any answer (429s too). A limit
 * with what remains of it paces every sharer by the server's bucket
 * (ratelimit_observe); a reset without a limit (some servers send only
 * remaining and reset) pauses the sharers until it when nothing remains.
 * Sets j->limits_said when a limit was taken.
 */
static void
read_limit_headers(struct netloop *nl, struct job *j)
{
	struct target_state *ts = &nl->targets[j->pub.target];
	const struct http_transfer *t = j->pub.t;
	struct buf v = BUF_INIT;
	double wait = 0, now = ratelimit_now();
	/* Per unit: limit, remaining, reset; OpenAI's (Go durations), Anthropic's (RFC 3339). */
	static const struct {
		const char *limit, *remaining, *reset;
		enum rl_unit unit;
		bool rfc3339;
	} sets[] = {
		{ "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
			"x-ratelimit-reset-requests", RL_REQUESTS, false },
		{ "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
			"x-ratelimit-reset-tokens", RL_TOKENS, false },
		{ "anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining",
			"anthropic-ratelimit-requests-reset", RL_REQUESTS, true },
		{ "anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining",
			"anthropic-ratelimit-tokens-reset", RL_TOKENS, true },
	};

	j->limits_said = false;
	if (ts->limiter == NULL)
		return;
	for (size_t i = 0; i < sizeof(sets) / sizeof(*sets); i++) {
		double limit = header_number(t, sets[i].limit, &v);
		double remaining = header_number(t, sets[i].remaining, &v);
		double reset = -1;

		if (isnan(remaining))
			continue;
		if (http_response_header(t, sets[i].reset, &v) != NULL) {
			double ms;

			if (!sets[i].rfc3339 && parse_go_duration(v.data, &ms) == 0)
				reset = ms;
			else if (sets[i].rfc3339 && parse_rfc3339(v.data, &ms) == 0)
				reset = ms - now;
		}
		if (!isnan(limit)) {
			if (ratelimit_observe(ts->limiter, sets[i].unit, limit, remaining, reset,
				    sets[i].rfc3339 ? 1000 : 1, &j->ticket, now))
				j->limits_said = true;
		} else if (remaining <= (sets[i].unit == RL_TOKENS ? (double)j->estimate : 0) &&
			reset > wait) {
			wait = reset;
		}
	}
	buf_free(&v);
	if (wait > (double)nl->cfg->max_retry_after_ms)
		wait = (double)nl->cfg->max_retry_after_ms;
	if (wait > 0)
		ratelimit_pause(ts->limiter, wait, now);
}

/* "Please try again in 1.146s." in a provider's message, in ms; -1 when absent. */
static double
try_again_in(const char *message)
{
	const char *p = message != NULL ? strstr(message, "try again in ") : NULL;
	char word[32];
	double ms;
	size_t n = 0;

	if (p == NULL)
		return -1;
	p += 13;
	while (p[n] != '\0' && p[n] != ' ' && n + 1 < sizeof(word))
		n++;
	memcpy(word, p, n);
	word[n] = '\0';
	if (n > 0 && word[n - 1] == '.')
		word[n - 1] = '\0';
	return parse_go_duration(word, &ms) == 0 ? ms : -1;
}

/* Remember why the last attempt failed, and say so with -v. */
static void
note_attempt_failed(struct netloop *nl, struct job *j, const struct failure *f)
{
	snprintf(j->last_code, sizeof(j->last_code), "%s", f->code);
	j->last_status = j->pub.t->status;
	buf_reset(&j->last_message);
	buf_add(&j->last_message, f->message.data, f->message.len);
	if (nl->cfg->verbose)
		warn("record %lu, attempt %d (%s): %s", j->pub.seq + 1, j->pub.attempts,
			nl->cfg->targets[j->pub.target].name, buf_cstr(&j->last_message));
}

static void
note_server_failure(struct netloop *nl, bool server)
{
	char why[160];

	if (!server) {
		nl->consecutive_server_failures = 0;
		return;
	}
	if (++nl->consecutive_server_failures < nl->cfg->max_consecutive_failures)
		return;
	snprintf(why, sizeof(why),
		"stopping: %d records in a row failed on server errors (the service is down?)",
		nl->consecutive_server_failures);
	netloop_stop(nl, EXIT_UNAVAILABLE, why);
}

/* An overload of j's target: after enough in a row, the next target takes over a while. */
static void
note_overload(struct netloop *nl, struct job *j)
{
	struct target_state *ts = &nl->targets[j->pub.target];

	if (++ts->overloads >= nl->cfg->fallback_after && nl->cfg->ntargets > 1) {
		ts->cool_until = clock_ms() + (double)nl->cfg->cooldown_ms;
		ts->overloads = 0;
	}
}

/*
 * The wait the server asked for, in ms: in its body (Gemini's retryDelay),
 * retry-after-ms or retry-after, or for a rate limit the "try again in" of
 * its message; -1 when it gave none.
 */
static double
server_wait(const struct http_transfer *t, struct failure *f, bool rate)
{
	double wait = f->wait_ms > 0 ? f->wait_ms : http_retry_after_ms(t);

	if (wait < 0 && rate)
		wait = try_again_in(buf_cstr(&f->message));
	return wait;
}

double
netloop_retry_wait(const struct netloop_config *cfg, const struct http_transfer *t,
	struct failure *f, bool rate, int attempts, uint64_t *rng)
{
	double wait = server_wait(t, f, rate);

	if (wait < 0) { /* exponential backoff with full jitter, capped at a minute */
		double cap =
			(double)cfg->retry_base_ms * pow(2.0, attempts > 20 ? 20 : attempts - 1);

		wait = netloop_random01(rng) * (cap > 60000 ? 60000 : cap);
	}
	if (wait > (double)cfg->max_retry_after_ms)
		wait = (double)cfg->max_retry_after_ms;
	return wait;
}

/* The wait before j's retry (netloop_retry_wait). */
static double
retry_wait(struct netloop *nl, struct job *j, struct failure *f, bool rate)
{
	return netloop_retry_wait(nl->cfg, j->pub.t, f, rate, j->pub.attempts, &nl->rng);
}

/*
 * A 429: how long j waits before its retry, and what the sharers learn.
 * When the answer said the server's limits, the limiter knows when the
 * next request fits: no more wait. Else the limiter learns a rate from it,
 * and every sharer pauses for the server's hint (retry-after, "try again
 * in", a wait in the body); with no hint, the learned pace is the wait.
 * Without a limiter (none could be opened), the backoff.
 */
static double
rate_limit_wait(struct netloop *nl, struct job *j, struct failure *f)
{
	struct ratelimit *limiter = nl->targets[j->pub.target].limiter;
	double wait, now = ratelimit_now();

	if (limiter == NULL)
		return retry_wait(nl, j, f, true);
	if (j->limits_said)
		return 0;
	ratelimit_refused(limiter, j->sent_ms, now);
	wait = server_wait(j->pub.t, f, true);
	if (wait <= 0)
		return 0;
	wait = fmin(wait, (double)nl->cfg->max_retry_after_ms);
	ratelimit_pause(limiter, wait, now);
	return wait;
}

/* A failed attempt: retry, fall back, fail the record, or stop the run. */
static void
handle_failure(struct netloop *nl, struct job *j, struct failure *f)
{
	netloop_redact(nl, &f->message);
	const struct netloop_target *target = &nl->cfg->targets[j->pub.target];
	struct target_state *ts = &nl->targets[j->pub.target];
	const char *message = buf_cstr(&f->message);
	bool retries_left = j->pub.attempts <= nl->cfg->retries;
	long status = j->pub.t->status;
	double wait;
	char why[600];

	if (f->overload)
		note_overload(nl, j);
	note_attempt_failed(nl, j, f);
	switch (f->step) {
	case STEP_RATE:
		nl->counts.rate_limited++;
		nl->concurrency = nl->concurrency / 2 < 1 ? 1 : nl->concurrency / 2;
		wait = rate_limit_wait(nl, j, f);
		if (retries_left) {
			netloop_retry(nl, &j->pub, wait);
			return;
		}
		netloop_fail(nl, &j->pub, f->code, message, status);
		netloop_stop(nl, EXIT_TEMPFAIL,
			"stopping: still rate-limited after every retry; rerun to resume");
		return;
	case STEP_RETRY:
		if (retries_left) {
			netloop_retry(nl, &j->pub, retry_wait(nl, j, f, false));
			return;
		}
		netloop_fail(nl, &j->pub, f->code, message, status);
		note_server_failure(nl, f->server);
		return;
	case STEP_CONTEXT:
		if (nl->ops->too_long != NULL && nl->ops->too_long(nl, &j->pub)) {
			netloop_send(nl, &j->pub);
			return;
		}
		netloop_fail(nl, &j->pub, ERR_CONTEXT_LENGTH, message, status);
		note_server_failure(nl, false);
		return;
	case STEP_FALLBACK:
		ts->dead = true;
		if (netloop_first_target(nl) >= 0) {
			if (!nl->cfg->quiet)
				warn("%s is unknown to the service (%s); using %s", target->name,
					message, nl->cfg->targets[netloop_first_target(nl)].name);
			netloop_send(nl, &j->pub);
			return;
		}
		netloop_fail(nl, &j->pub, f->code, message, status);
		snprintf(why, sizeof(why), "stopping: %s is unknown to the service (%s)",
			target->name, message);
		netloop_stop(nl, EXIT_CONFIG, why);
		return;
	case STEP_STOP_AUTH:
		netloop_fail(nl, &j->pub, f->code, message, status);
		snprintf(why, sizeof(why), "stopping: the server refused the key (%s)%s%s", message,
			target->key_env ? "; check " : "", target->key_env ? target->key_env : "");
		netloop_stop(nl, EXIT_NOPERM, why);
		return;
	case STEP_STOP_QUOTA:
		netloop_fail(nl, &j->pub, f->code, message, status);
		snprintf(why, sizeof(why),
			"stopping: the account has no quota or credits left (%s); top it up and "
			"rerun to resume",
			message);
		netloop_stop(nl, EXIT_NOPERM, why);
		return;
	case STEP_STOP_LATER:
		netloop_fail(nl, &j->pub, ERR_DAILY_QUOTA, message, status);
		snprintf(why, sizeof(why),
			"stopping: %s's quota for the day is used up (%s); rerun when it resets "
			"to resume",
			target->name, message);
		netloop_stop(nl, EXIT_TEMPFAIL, why);
		return;
	case STEP_RECORD:
		netloop_fail(nl, &j->pub, f->code, message, status);
		note_server_failure(nl, false);
		return;
	}
}

/* A transfer finished: the tool reads the answer, or the failure is handled. */
static void
handle_done(struct netloop *nl, struct http_transfer *t)
{
	struct job *j = t->user;
	struct target_state *ts = &nl->targets[j->pub.target];
	struct failure f = { 0 };

	nl->in_flight--;
	read_limit_headers(nl, j);
	nl->attempt_prompt = nl->attempt_completion = 0;
	if (t->result == CURLE_OK && t->status == 200) {
		long used = nl->ops->answer(nl, &j->pub);

		log_attempt(nl, j, j->state == JOB_DONE && j->failed ? j->last_code : NULL);
		if (ts->limiter != NULL) {
			if (used >= 0)
				ratelimit_settle(ts->limiter, (double)j->estimate, (double)used);
			ratelimit_passed(ts->limiter, j->sent_ms, ratelimit_now());
		}
		/* The service answers: no overload, concurrency grows back, the breaker rests. */
		ts->overloads = 0;
		if (nl->concurrency < (double)nl->cfg->jobs)
			nl->concurrency += 1.0 / nl->concurrency;
		note_server_failure(nl, false);
		return;
	}
	nl->ops->classify(nl, &j->pub, &f);
	log_attempt(nl, j, f.code);
	handle_failure(nl, j, &f);
	buf_free(&f.message);
}

void
netloop_attempt_failed(struct netloop *nl, struct net_job *j, struct failure *f)
{
	handle_failure(nl, JOB(j), f);
}

/* --- output ----------------------------------------------------------------------- */

/* Publish the counts (progress.h): the block and jl-top show them. */
static void
publish_progress(struct netloop *nl)
{
	const struct counts *c = &nl->counts;
	struct stage_counts *p = &nl->progress.counts;

	p->read = c->records;
	p->done = c->ok + c->failed;
	p->failed = c->failed;
	p->cached = c->cached;
	p->in_flight = (uint64_t)nl->in_flight;
	p->rate_limited = c->rate_limited;
	p->tokens = c->prompt_tokens + c->completion_tokens;
	p->bytes = (uint64_t)nl->in.bytes_read;
	p->total = nl->input_done ? c->records : nl->cfg->total;
	if (nl->input_done)
		p->flags |= STAGE_INPUT_DONE;
	progress_publish(&nl->progress);
}

/*
 * Commit what finished to the database, then write the done records: the
 * leading ones in input order with --keep-order, else every done one.
 */
static void
emit(struct netloop *nl)
{
	size_t kept = 0;

	if (nl->db != NULL && db_in_transaction(nl->db) && db_commit(nl->db) != 0)
		netloop_stop(nl, EXIT_IOERR, NULL);
	for (size_t i = 0; i < nl->njobs; i++) {
		struct job *j = nl->jobs[i];

		if (j->state != JOB_DONE || (nl->cfg->keep_order && kept > 0)) {
			nl->jobs[kept++] = j;
			continue;
		}
		out_write(j->line.data, j->line.len);
		nl->progress.counts.written++;
		job_free(nl, j);
	}
	nl->njobs = kept;
	publish_progress(nl);
}

/* The run stops: every job not yet sent leaves as an _error, so none is lost. */
static void
abandon_pending(struct netloop *nl)
{
	for (size_t i = 0; i < nl->njobs; i++) {
		struct job *j = nl->jobs[i];
		struct buf m = BUF_INIT;

		if (j->state != JOB_PENDING)
			continue;
		if (j->pub.attempts == 0) {
			netloop_fail(nl, &j->pub, ERR_NOT_SENT,
				"the run stopped before this record was sent", 0);
			continue;
		}
		/* Tried already: it leaves with what its last attempt met. */
		buf_add(&m, j->last_message.data, j->last_message.len);
		buf_puts(&m, " (the run stopped before the next retry)");
		netloop_fail(nl, &j->pub, j->last_code, buf_cstr(&m), j->last_status);
		buf_free(&m);
	}
}

/* After the grace time, the requests still in flight are given up. */
static void
abandon_in_flight(struct netloop *nl)
{
	for (size_t i = 0; i < nl->njobs; i++) {
		struct job *j = nl->jobs[i];

		if (j->state != JOB_FLIGHT)
			continue;
		http_cancel(nl->http, j->pub.t);
		nl->in_flight--;
		netloop_fail(nl, &j->pub, ERR_INTERRUPTED,
			"the run stopped while this request was in flight", 0);
	}
}

/* --- set-up and the loop ------------------------------------------------------------ */

/*
 * Before any input: one cheap authenticated request per target that asks
 * for it, so a refused key stops the run (77) with nothing consumed.
 */
static int
check_keys(struct netloop *nl)
{
	const struct netloop_config *cfg = nl->cfg;

	for (size_t i = 0; i < cfg->ntargets; i++) {
		struct http_transfer *t = http_transfer_new();
		struct job probe = { 0 };
		struct failure f = { 0 };
		bool ready;
		int rc = 0;

		if (!nl->ops->check(nl, (int)i, t)) {
			http_transfer_free(t);
			continue;
		}
		if (http_start(nl->http, t) == 0)
			while (http_next_done(nl->http) == NULL)
				if (http_poll(nl->http, 1000, -1, &ready) != 0)
					break;
		if (t->result != CURLE_OK) {
			warn("cannot reach %s: %s (--no-check skips this check)", t->url, t->error);
			rc = EXIT_UNAVAILABLE;
		} else if (t->status != 200) {
			/* 401, 403, or what the tool knows to be a refused key (Gemini's 400) */
			probe.pub.t = t;
			probe.pub.target = (int)i;
			nl->ops->classify(nl, &probe.pub, &f);
			netloop_redact(nl, &f.message);
			if (t->status == 401 || t->status == 403)
				f.step = STEP_STOP_AUTH;
			if (f.step == STEP_STOP_AUTH && cfg->targets[i].key == NULL) {
				warn("%s wants a key and none was given (%s)%s%s",
					cfg->targets[i].name, buf_cstr(&f.message),
					cfg->targets[i].key_env ? ": set " : "",
					cfg->targets[i].key_env ? cfg->targets[i].key_env : "");
				rc = EXIT_NOPERM;
			} else if (f.step == STEP_STOP_AUTH) {
				warn("the key%s%s was refused by %s (%s)",
					cfg->targets[i].key_env ? " in " : "",
					cfg->targets[i].key_env ? cfg->targets[i].key_env : "",
					cfg->targets[i].name, buf_cstr(&f.message));
				rc = EXIT_NOPERM;
			}
		}
		buf_free(&f.message);
		http_transfer_free(t);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Publish the stage as its first target and the field it adds: "openai/gpt-4o-mini -> .summary". */
static void
start_progress(struct netloop *nl)
{
	struct buf detail = BUF_INIT;

	if (nl->cfg->targets[0].name != NULL)
		buf_puts(&detail, nl->cfg->targets[0].name);
	if (nl->cfg->into != NULL)
		buf_printf(&detail, " -> .%s", nl->cfg->into);
	progress_start(&nl->progress, nl->cfg->progress, nl->cfg->quiet, buf_cstr(&detail),
		nl->cfg->db_path);
	buf_free(&detail);
}

static int
setup(struct netloop *nl)
{
	const struct netloop_config *cfg = nl->cfg;
	struct http_options ho = { .max_connections = cfg->jobs, .cacert = cfg->cacert };
	int code;

	nl->window = (size_t)cfg->jobs * 4 + 16;
	nl->concurrency = (double)cfg->jobs;
	nl->rng = cfg->seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
	if (input_open(&nl->in, "-") != 0)
		die(EXIT_NOINPUT, "cannot read standard input:");
	jsonl_init(&nl->reader, &nl->in, JSONL_MAX_LINE);
	jsonl_set_nonblocking(&nl->reader, true);
	if (cfg->db_path != NULL) {
		nl->db = db_open(cfg->db_path, &code);
		if (nl->db == NULL)
			return code;
		if (db_cache_table(nl->db, cfg->cache_table) != 0)
			return EXIT_CANTCREAT;
		if (cfg->budget_micro >= 0 && (nl->ledger = ledger_open(nl->db)) == NULL)
			return EXIT_CANTCREAT;
	}
	if (cfg->log_path != NULL && (nl->log = fopen(cfg->log_path, "a")) == NULL)
		die(EXIT_CANTCREAT, "cannot open the log '%s':", cfg->log_path);
	if (!cfg->no_network) {
		nl->http = http_new(&ho);
		if (cfg->check && nl->ops->check != NULL && (code = check_keys(nl)) != 0)
			return code;
		/* Even without --rpm/--tpm: a 429 seen by one process pauses its sharers. */
		for (size_t i = 0; i < cfg->ntargets; i++) {
			nl->targets[i].limiter = ratelimit_open(NULL,
				cfg->limiter_key ? cfg->limiter_key : cfg->targets[i].name,
				cfg->rpm, cfg->tpm);
			if (nl->targets[i].limiter == NULL)
				die(EXIT_CANTCREAT, "cannot open the shared rate limiter:");
		}
	}
	start_progress(nl);
	nl->progress.counts.total_bytes = nl->in.size > 0 ? (uint64_t)nl->in.size : 0;
	if (cfg->budget_micro >= 0)
		nl->progress.counts.budget_pico = (int64_t)ledger_pico(cfg->budget_micro);
	return 0;
}

static void
teardown(struct netloop *nl)
{
	for (size_t i = 0; i < nl->njobs; i++)
		job_free(nl, nl->jobs[i]);
	free(nl->jobs);
	for (size_t i = 0; i < nl->cfg->ntargets; i++)
		ratelimit_close(nl->targets[i].limiter);
	http_free(nl->http);
	jsonl_free(&nl->reader);
	ledger_close(nl->ledger);
	if (nl->db != NULL && db_close(nl->db) != 0 && nl->stop_code == 0)
		nl->stop_code = EXIT_IOERR;
	if (nl->log != NULL && fclose(nl->log) != 0)
		warn("cannot close the log '%s':", nl->cfg->log_path);
	buf_free(&nl->counts.codes);
}

static void
print_summary(struct netloop *nl)
{
	const struct counts *c = &nl->counts;
	struct buf line = BUF_INIT;
	char num[160];

	snprintf(num, sizeof(num), "%llu records, %llu ok (%llu cached), %llu failed", c->records,
		c->ok, c->cached, c->failed);
	buf_puts(&line, num);
	netloop_add_codes(&line, &c->codes);
	snprintf(num, sizeof(num), "; %llu requests, %llu rate-limited", c->requests,
		c->rate_limited);
	buf_puts(&line, num);
	if (c->prompt_tokens + c->completion_tokens > 0) {
		snprintf(num, sizeof(num), ", %llu+%llu tokens", c->prompt_tokens,
			c->completion_tokens);
		buf_puts(&line, num);
	}
	if (nl->ops->summary != NULL)
		nl->ops->summary(nl, &line);
	snprintf(num, sizeof(num), " in %.1f s", progress_elapsed(&nl->progress));
	buf_puts(&line, num);
	warn("%s", buf_cstr(&line));
	buf_free(&line);
}

int
netloop_run(const struct netloop_config *cfg, const struct netloop_ops *ops, void *tool)
{
	struct netloop nl = { .cfg = cfg, .ops = ops, .tool = tool };
	int rc = setup(&nl);

	if (rc != 0) {
		teardown(&nl);
		return rc;
	}
	for (;;) {
		double wait;
		bool stdin_ready = false, want_input;

		if (stop_signal && nl.stop_code == 0)
			netloop_stop(&nl, EXIT_TEMPFAIL,
				cfg->quiet ? NULL
					   : "interrupted: finishing the requests in flight");
		if (out_broken() && nl.stop_code == 0)
			netloop_stop(&nl, EXIT_IOERR, NULL); /* out_close then ends us by SIGPIPE */
		read_input(&nl);
		wait = dispatch(&nl);
		if (nl.stop_code != 0) {
			abandon_pending(&nl);
			if (nl.in_flight > 0 && clock_ms() > nl.stop_deadline)
				abandon_in_flight(&nl);
		}
		emit(&nl);
		if (nl.in_flight == 0 && (nl.stop_code != 0 || (nl.input_done && nl.njobs == 0)))
			break;
		out_flush();
		want_input = !nl.input_done && nl.stop_code == 0 && nl.njobs < nl.window;
		if (cfg->no_network) {
			struct pollfd pfd = { .fd = nl.in.fd, .events = POLLIN };

			if (!want_input)
				break; /* every job is answered at once: nothing else to wait for */
			poll(&pfd, 1, -1);
			continue;
		}
		if (http_poll(nl.http, (int)ceil(wait), want_input ? nl.in.fd : -1, &stdin_ready) !=
			0) {
			netloop_stop(&nl, EXIT_SOFTWARE, NULL);
			continue;
		}
		for (struct http_transfer *t; (t = http_next_done(nl.http)) != NULL;)
			handle_done(&nl, t);
	}
	emit(&nl);
	progress_end(&nl.progress);
	if (!cfg->quiet)
		print_summary(&nl);
	if (nl.held_back > 0)
		warn("%llu records held back by --budget left with _error budget_exceeded; rerun "
		     "with a higher --budget to resume",
			nl.held_back);
	rc = nl.stop_code != 0 ? nl.stop_code
		: nl.held_back > 0
		? EXIT_TEMPFAIL
		: recloop_status(cfg->strict, nl.stopped_at_bad_line, nl.counts.failed);
	teardown(&nl);
	return rc;
}
