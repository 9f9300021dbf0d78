/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The record loop of jl-llm (DESIGN.md sections 2, 4, 5).
 *
 * Jobs move pending → in flight → done. Input is read without blocking,
 * only while fewer than `window` jobs are unfinished, so memory stays
 * bounded. Each turn of the loop: read what input is there, start what the
 * concurrency, the retry times and the shared limiter allow, wait in
 * curl_multi_poll (stdin watched too), handle what finished, commit the
 * answers to the database, and only then write the records out.
 */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "engine.h"
#include "exitcodes.h"
#include "http.h"
#include "io.h"
#include "json.h"
#include "jsonl.h"
#include "out.h"
#include "ratelimit.h"
#include "redact.h"
#include "sha256.h"
#include "util.h"

#define CACHE_TABLE "llm_cache"

static volatile sig_atomic_t stop_signal;

void
engine_request_stop(void)
{
	stop_signal = 1;
}

enum job_state { JOB_PENDING, JOB_FLIGHT, JOB_DONE };

struct job {
	unsigned long seq;
	jv record;
	struct buf system, prompt; /* rendered */
	size_t cap;                /* --truncate: the cap on placeholder values */
	size_t longest;            /* the longest placeholder value at the last render */
	int model;                 /* index into cfg->models */
	struct buf body;           /* the request for that model */
	unsigned char key[SHA256_SIZE];
	int attempts;
	bool json_retried;
	char last_code[48]; /* the last failed attempt, for a record the run stops before */
	long last_status;
	struct buf last_message;
	double not_before; /* clock_ms() before which it is not sent */
	long estimate;     /* tokens taken from the limiter */
	struct http_transfer *t;
	enum job_state state;
	struct buf line; /* the output line, once done */
	bool failed;
};

struct model_state {
	struct ratelimit *limiter;
	int overloads;     /* consecutive 429/503/529 */
	double cool_until; /* clock_ms(): don't use it before */
	bool dead;         /* 404: not for this run */
};

struct counts {
	unsigned long long records, ok, failed, cached, requests, rate_limited;
	unsigned long long prompt_tokens, completion_tokens;
	struct buf codes; /* "code count" pairs for the summary */
};

struct engine {
	const struct llm_config *cfg;
	struct http *http;
	struct db *db;
	FILE *log;
	struct model_state models[MAX_MODELS];
	struct input in;
	struct jsonl_reader reader;
	bool input_done;
	struct job **jobs; /* unfinished and undelivered jobs, in input order */
	size_t njobs, jobs_cap;
	size_t window;
	unsigned long next_seq;
	double concurrency; /* adapts to 429s, up to cfg->jobs */
	int in_flight;
	int consecutive_server_failures;
	int stop_code; /* set once the run must end: no new requests */
	double stop_deadline;
	struct counts counts;
	struct progress progress;
	uint64_t rng;
	struct buf scratch;
};

/* --- small helpers ---------------------------------------------------------- */

static double
random01(struct engine *e)
{
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return (double)((e->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void
stop_run(struct engine *e, int code, const char *why)
{
	if (e->stop_code != 0)
		return;
	e->stop_code = code;
	e->stop_deadline = clock_ms() + (double)e->cfg->grace_ms;
	if (why != NULL)
		warn("%s", why);
}

/* Count an error code for the summary. */
static void
count_code(struct counts *c, const char *code)
{
	char *p = c->codes.data;
	size_t n = strlen(code);

	for (size_t i = 0; p != NULL && i < c->codes.len;) {
		char *space = strchr(p + i, ' ');
		size_t len = (size_t)(space - (p + i));

		if (len == n && memcmp(p + i, code, n) == 0) {
			char *end;
			unsigned long v = strtoul(space + 1, &end, 10) + 1;
			struct buf rest = BUF_INIT;

			buf_add(&rest, end, c->codes.len - (size_t)(end - p));
			c->codes.len = (size_t)(space + 1 - p);
			buf_add_uint(&c->codes, v);
			buf_add(&c->codes, rest.data, rest.len);
			buf_free(&rest);
			return;
		}
		i = (size_t)(strchr(space, '\n') - p) + 1;
	}
	buf_puts(&c->codes, code);
	buf_puts(&c->codes, " 1\n");
}

/* Text from a server may echo a request's headers: take every key out of it. */
static void
redact_keys(const struct llm_config *cfg, struct buf *text)
{
	for (size_t i = 0; i < cfg->nmodels; i++)
		redact_secret(text, cfg->keys[i]);
}

/* --- jobs ---------------------------------------------------------------------- */

static void
job_free(struct job *j)
{
	jv_free(j->record);
	buf_free(&j->system);
	buf_free(&j->prompt);
	buf_free(&j->body);
	buf_free(&j->line);
	buf_free(&j->last_message);
	http_transfer_free(j->t);
	free(j);
}

/* The record with _error added, as the output line of j. */
static void
finish_error(struct engine *e, struct job *j, const char *code, const char *message, long status)
{
	jv err = jv_object();

	err = jv_object_set(err, jv_string("tool"), jv_string(progname));
	err = jv_object_set(err, jv_string("code"), jv_string(code));
	err = jv_object_set(err, jv_string("message"), jv_string(message));
	if (status > 0)
		err = jv_object_set(err, jv_string("status"), jv_number((double)status));
	err = jv_object_set(err, jv_string("attempts"), jv_number(j->attempts));
	j->record = jv_object_set(j->record, jv_string("_error"), err);
	buf_reset(&j->line);
	{
		jv s = jv_dump_string(jv_copy(j->record), 0);

		buf_add(&j->line, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
		jv_free(s);
	}
	j->state = JOB_DONE;
	j->failed = true;
	e->counts.failed++;
	count_code(&e->counts, code);
}

/* The record with .llm (cfg->into) set to llm (consumed), as the output line. */
static void
finish_ok(struct engine *e, struct job *j, jv llm)
{
	jv s;

	j->record = jv_object_set(j->record, jv_string(e->cfg->into), llm);
	s = jv_dump_string(jv_copy(j->record), 0);
	buf_reset(&j->line);
	buf_add(&j->line, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
	j->state = JOB_DONE;
	e->counts.ok++;
}

/* Render the templates of j with its current cap. Returns 0, or -1 after finishing j as an error.
 */
static int
render(struct engine *e, struct job *j)
{
	struct buf err = BUF_INIT;
	size_t longest_system = 0;

	buf_reset(&j->prompt);
	buf_reset(&j->system);
	if ((e->cfg->system != NULL &&
		    template_render(e->cfg->system, j->record, j->cap, &j->system, &longest_system,
			    &err) != 0) ||
		template_render(e->cfg->prompt, j->record, j->cap, &j->prompt, &j->longest, &err) !=
			0) {
		finish_error(e, j, "template", buf_cstr(&err), 0);
		buf_free(&err);
		return -1;
	}
	if (longest_system > j->longest)
		j->longest = longest_system;
	buf_free(&err);
	return 0;
}

/* Build j's request for model m and its cache key. */
static void
build_request(struct engine *e, struct job *j, int m)
{
	const struct model_ref *model = &e->cfg->models[m];
	struct sha256 h;

	j->model = m;
	buf_reset(&j->body);
	build_body(model, &e->cfg->params, e->cfg->system ? j->system.data : NULL, j->system.len,
		j->prompt.data ? j->prompt.data : "", j->prompt.len, &j->body);
	sha256_init(&h);
	sha256_update(&h, model->provider->name, strlen(model->provider->name));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, model->model, strlen(model->model));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, j->body.data, j->body.len);
	sha256_final(&h, j->key);
}

/* A cached answer for j's request, if the database has one: j is then done. */
static bool
replay_cached(struct engine *e, struct job *j)
{
	struct buf value = BUF_INIT;
	jv llm;

	if (e->db == NULL || db_cache_get(e->db, CACHE_TABLE, j->key, &value) != 1) {
		buf_free(&value);
		return false;
	}
	llm = jv_parse_sized(value.data, (int)value.len);
	buf_free(&value);
	if (jv_get_kind(llm) != JV_KIND_OBJECT) {
		jv_free(llm);
		return false; /* unreadable: ask again */
	}
	llm = jv_object_set(llm, jv_string("cached"), jv_true());
	llm = jv_object_set(llm, jv_string("attempts"), jv_number(0));
	llm = jv_object_set(llm, jv_string("latency_ms"), jv_number(0));
	e->counts.cached++;
	finish_ok(e, j, llm);
	return true;
}

/* --dry-run: the request that would be sent, and its estimated usage. */
static void
finish_dry_run(struct engine *e, struct job *j)
{
	const struct model_ref *m = &e->cfg->models[j->model];
	jv llm = jv_object(), usage = jv_object();
	long max_tokens = e->cfg->params.max_tokens;

	usage = jv_object_set(usage, jv_string("prompt_tokens"),
		jv_number((double)((j->prompt.len + j->system.len + 3) / 4)));
	usage = jv_object_set(usage, jv_string("completion_tokens"),
		jv_number(max_tokens >= 0 ? (double)max_tokens : 0));
	usage = jv_object_set(usage, jv_string("cached_tokens"), jv_number(0));
	usage = jv_object_set(usage, jv_string("reasoning_tokens"), jv_number(0));
	llm = jv_object_set(llm, jv_string("dry_run"), jv_true());
	llm = jv_object_set(llm, jv_string("model"), jv_string(m->model));
	llm = jv_object_set(llm, jv_string("provider"), jv_string(m->provider->name));
	llm = jv_object_set(llm, jv_string("request"),
		jv_parse_sized(j->body.data, (int)j->body.len));
	llm = jv_object_set(llm, jv_string("usage"), usage);
	llm = jv_object_set(llm, jv_string("cached"), jv_false());
	finish_ok(e, j, llm);
}

static int
first_usable_model(struct engine *e)
{
	double now = clock_ms();
	int fallback = -1;

	for (size_t i = 0; i < e->cfg->nmodels; i++) {
		if (e->models[i].dead)
			continue;
		if (e->models[i].cool_until <= now)
			return (int)i;
		if (fallback < 0)
			fallback = (int)i; /* every live model cools down: the first of them */
	}
	return fallback;
}

/* A new record from the input: passed through, failed, answered from the cache, or queued. */
static void
add_record(struct engine *e, jv record)
{
	struct job *j = xcalloc(1, sizeof(*j));
	jv err;

	j->seq = e->next_seq++;
	j->record = record;
	j->cap = SIZE_MAX;
	j->state = JOB_PENDING;
	if (e->njobs == e->jobs_cap) {
		e->jobs_cap = e->jobs_cap ? 2 * e->jobs_cap : 64;
		e->jobs = xreallocarray(e->jobs, e->jobs_cap, sizeof(*e->jobs));
	}
	e->jobs[e->njobs++] = j;
	e->counts.records++;
	err = jv_object_get(jv_copy(record), jv_string("_error"));
	if (jv_is_valid(err) && jv_get_kind(err) != JV_KIND_NULL) {
		/* A record that failed upstream goes through untouched. */
		jv s = jv_dump_string(jv_copy(record), 0);

		buf_add(&j->line, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
		jv_free(s);
		j->state = JOB_DONE;
		j->failed = true;
		e->counts.failed++;
		jv_free(err);
		return;
	}
	jv_free(err);
	if (render(e, j) != 0)
		return;
	build_request(e, j, first_usable_model(e) < 0 ? 0 : first_usable_model(e));
	if (e->cfg->dry_run) {
		finish_dry_run(e, j);
		return;
	}
	replay_cached(e, j);
}

/* A line that is not a JSON object: it leaves as the reader's error record. */
static void
add_bad_line(struct engine *e, jv error_record)
{
	struct job *j = xcalloc(1, sizeof(*j));
	jv s = jv_dump_string(error_record, 0);

	j->seq = e->next_seq++;
	j->record = jv_null();
	buf_add(&j->line, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
	j->state = JOB_DONE;
	j->failed = true;
	if (e->njobs == e->jobs_cap) {
		e->jobs_cap = e->jobs_cap ? 2 * e->jobs_cap : 64;
		e->jobs = xreallocarray(e->jobs, e->jobs_cap, sizeof(*e->jobs));
	}
	e->jobs[e->njobs++] = j;
	e->counts.records++;
	e->counts.failed++;
	count_code(&e->counts, "bad_input");
}

/* Read the records that are there now, while the window has room. */
static void
read_input(struct engine *e)
{
	while (!e->input_done && e->stop_code == 0 && e->njobs < e->window) {
		jv rec;
		enum jsonl_status st = jsonl_next(&e->reader, &rec);

		if (st == JSONL_AGAIN)
			return;
		if (st == JSONL_EOF) {
			e->input_done = true;
			return;
		}
		if (st == JSONL_IOERR) {
			warn("read error on standard input:");
			e->input_done = true;
			stop_run(e, EXIT_IOERR, NULL);
			return;
		}
		if (st == JSONL_BAD) {
			add_bad_line(e, rec);
			if (e->cfg->strict)
				stop_run(e, EXIT_DATAERR,
					"stopping at a malformed input line (--strict)");
		} else {
			add_record(e, rec);
		}
	}
}

/* --- sending ----------------------------------------------------------------------- */

/* Start j now if the limiter lets it; returns 0, or the ms to wait. */
static double
start_job(struct engine *e, struct job *j)
{
	const struct model_ref *m;
	struct model_state *ms;
	struct buf url = BUF_INIT;
	int best = first_usable_model(e);
	double wait;

	if (best < 0) {
		finish_error(e, j, "model_not_found", "no model is left to try", 404);
		return 0;
	}
	if (best != j->model) {
		build_request(e, j, best);
		if (replay_cached(e, j))
			return 0;
	}
	m = &e->cfg->models[j->model];
	ms = &e->models[j->model];
	j->estimate = estimate_tokens(j->prompt.len + j->system.len, e->cfg->params.max_tokens);
	if (ms->limiter != NULL) {
		wait = ratelimit_acquire(ms->limiter, (double)j->estimate, ratelimit_now());
		if (wait > 0)
			return wait;
	}
	if (j->t == NULL)
		j->t = http_transfer_new();
	else
		http_clear_request(j->t);
	chat_url(m->provider, e->cfg->base_url, &url);
	j->t->url = xstrdup(buf_cstr(&url));
	buf_free(&url);
	j->t->post = true;
	buf_add(&j->t->body, j->body.data, j->body.len);
	j->t->timeout_ms = e->cfg->timeout_ms;
	j->t->user = j;
	add_auth_headers(m->provider, e->cfg->keys[j->model], j->t);
	if (http_start(e->http, j->t) != 0) {
		finish_error(e, j, "network", j->t->error, 0);
		return 0;
	}
	j->attempts++;
	j->state = JOB_FLIGHT;
	e->in_flight++;
	e->counts.requests++;
	return 0;
}

/*
 * Start the pending jobs that may go: within the concurrency, past their
 * retry time, as the limiter allows. Returns the ms until one may go (or a
 * large number when none waits).
 */
static double
dispatch(struct engine *e)
{
	double now = clock_ms(), next = 1000;

	if (e->stop_code != 0)
		return next;
	for (size_t i = 0; i < e->njobs && e->in_flight < (int)e->concurrency; i++) {
		struct job *j = e->jobs[i];
		double wait;

		if (j->state != JOB_PENDING)
			continue;
		if (j->not_before > now) {
			if (j->not_before - now < next)
				next = j->not_before - now;
			continue;
		}
		wait = start_job(e, j);
		if (wait > 0) {
			/* The limiter paces everything: nothing else goes before this one. */
			return wait < next ? wait : next;
		}
	}
	return next;
}

/* --- answers ------------------------------------------------------------------------ */

static void
log_attempt(struct engine *e, const struct job *j, const char *code, const struct llm_answer *a)
{
	const struct model_ref *m = &e->cfg->models[j->model];
	struct buf line = BUF_INIT, v = BUF_INIT;
	static const char *const limit_headers[] = { "x-ratelimit-remaining-requests",
		"x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests",
		"x-ratelimit-reset-tokens", "anthropic-ratelimit-requests-remaining",
		"anthropic-ratelimit-tokens-remaining", "retry-after" };
	char num[96];
	bool first = true;

	if (e->log == NULL)
		return;
	snprintf(num, sizeof(num), "{\"time\":%.0f,\"tool\":", ratelimit_now());
	buf_puts(&line, num);
	jw_cstring(&line, progname);
	buf_puts(&line, ",\"provider\":");
	jw_cstring(&line, m->provider->name);
	buf_puts(&line, ",\"model\":");
	jw_cstring(&line, m->model);
	snprintf(num, sizeof(num), ",\"seq\":%lu,\"attempt\":%d,\"status\":%ld,\"latency_ms\":%.1f",
		j->seq, j->attempts, j->t->status, j->t->latency_ms);
	buf_puts(&line, num);
	if (a != NULL) {
		snprintf(num, sizeof(num), ",\"tokens\":{\"prompt\":%ld,\"completion\":%ld}",
			a->prompt_tokens, a->completion_tokens);
		buf_puts(&line, num);
	}
	buf_puts(&line, ",\"ratelimit\":{");
	for (size_t i = 0; i < sizeof(limit_headers) / sizeof(*limit_headers); i++) {
		if (http_response_header(j->t, limit_headers[i], &v) == NULL)
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
	redact_keys(e->cfg, &line);
	if (fwrite(line.data, 1, line.len, e->log) != line.len || fflush(e->log) != 0)
		die(EXIT_IOERR, "cannot write the log '%s':", e->cfg->log_path);
	buf_free(&line);
	buf_free(&v);
}

/*
 * What the server says of its limits: when nothing remains, every sharer
 * waits for the reset (OpenAI/Groq durations, Anthropic times).
 */
static void
read_limit_headers(struct engine *e, const struct job *j)
{
	struct model_state *ms = &e->models[j->model];
	struct buf v = BUF_INIT;
	double wait = 0, ms_value;
	static const char *const pairs[][2] = {
		{ "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests" },
		{ "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens" },
		{ "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset" },
		{ "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset" },
	};

	if (ms->limiter == NULL)
		return;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(*pairs); i++) {
		const char *remaining = http_response_header(j->t, pairs[i][0], &v);

		if (remaining == NULL || strtol(remaining, NULL, 10) > (i % 2 ? j->estimate : 0))
			continue;
		if (http_response_header(j->t, pairs[i][1], &v) == NULL)
			continue;
		if (i < 2 && parse_go_duration(v.data, &ms_value) == 0)
			wait = ms_value > wait ? ms_value : wait;
		else if (i >= 2 && parse_rfc3339(v.data, &ms_value) == 0 &&
			ms_value - ratelimit_now() > wait)
			wait = ms_value - ratelimit_now();
	}
	buf_free(&v);
	if (wait > (double)e->cfg->max_retry_after_ms)
		wait = (double)e->cfg->max_retry_after_ms;
	if (wait > 0)
		ratelimit_pause(ms->limiter, wait, ratelimit_now());
}

/* Exponential backoff with full jitter (base 2^attempt, capped at a minute). */
static double
backoff_ms(struct engine *e, int attempt)
{
	double cap = (double)e->cfg->retry_base_ms * pow(2.0, attempt > 20 ? 20 : attempt - 1);

	if (cap > 60000)
		cap = 60000;
	return random01(e) * cap;
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
note_attempt_failed(struct engine *e, struct job *j, const struct failure *f)
{
	snprintf(j->last_code, sizeof(j->last_code), "%s", f->code);
	j->last_status = j->t->status;
	buf_reset(&j->last_message);
	buf_add(&j->last_message, f->message.data, f->message.len);
	if (e->cfg->verbose)
		warn("record %lu, attempt %d (%s): %s", j->seq + 1, j->attempts,
			e->cfg->models[j->model].id, buf_cstr(&j->last_message));
}

/* Put j back in the queue, to be sent again after wait ms. */
static void
retry_later(struct engine *e, struct job *j, double wait)
{
	(void)e;
	j->state = JOB_PENDING;
	j->not_before = clock_ms() + wait;
}

static void
note_server_failure(struct engine *e, bool server)
{
	if (!server) {
		e->consecutive_server_failures = 0;
		return;
	}
	if (++e->consecutive_server_failures >= e->cfg->max_consecutive_failures) {
		char why[160];

		snprintf(why, sizeof(why),
			"stopping: %d records in a row failed on server errors (the service is "
			"down?)",
			e->consecutive_server_failures);
		stop_run(e, EXIT_UNAVAILABLE, why);
	}
}

/* An overload on j's model: after enough in a row, the next model takes over for a while. */
static void
note_overload(struct engine *e, struct job *j)
{
	struct model_state *ms = &e->models[j->model];

	if (++ms->overloads >= e->cfg->fallback_after && e->cfg->nmodels > 1) {
		ms->cool_until = clock_ms() + (double)e->cfg->cooldown_ms;
		ms->overloads = 0;
	}
}

/* The answer of a successful attempt, normalised into .llm. */
static void
accept_answer(struct engine *e, struct job *j, struct llm_answer *a)
{
	const struct model_ref *m = &e->cfg->models[j->model];
	jv llm, usage, content;
	jv s;

	if (e->cfg->params.json) {
		content =
			jv_parse_sized(a->content.data ? a->content.data : "", (int)a->content.len);
		if (!jv_is_valid(content)) {
			jv_free(content);
			if (!j->json_retried) {
				j->json_retried = true;
				retry_later(e, j, 0);
				return;
			}
			j->record = jv_object_set(j->record, jv_string("_raw_output"),
				jv_string_sized(a->content.data ? a->content.data : "",
					(int)a->content.len));
			finish_error(e, j, "bad_json_output", "the answer is not valid JSON", 200);
			return;
		}
	} else {
		content = jv_string_sized(a->content.data ? a->content.data : "",
			(int)a->content.len);
	}
	llm = jv_object();
	usage = jv_object_set(jv_object(), jv_string("prompt_tokens"),
		jv_number((double)a->prompt_tokens));
	usage = jv_object_set(usage, jv_string("completion_tokens"),
		jv_number((double)a->completion_tokens));
	usage = jv_object_set(usage, jv_string("cached_tokens"),
		jv_number((double)a->cached_tokens));
	usage = jv_object_set(usage, jv_string("reasoning_tokens"),
		jv_number((double)a->reasoning_tokens));
	if (a->has_cost)
		usage = jv_object_set(usage, jv_string("cost"), jv_number(a->cost));
	llm = jv_object_set(llm, jv_string("content"), content);
	llm = jv_object_set(llm, jv_string("model"), jv_string(m->model));
	llm = jv_object_set(llm, jv_string("provider"), jv_string(m->provider->name));
	llm = jv_object_set(llm, jv_string("usage"), usage);
	llm = jv_object_set(llm, jv_string("finish_reason"), jv_string(a->finish_reason));
	/* What the cache keeps: the answer without this run's timing. */
	if (e->db != NULL) {
		s = jv_dump_string(jv_copy(llm), 0);
		if (db_begin(e->db) != 0 ||
			db_cache_put(e->db, CACHE_TABLE, j->key, jv_string_value(s),
				(size_t)jv_string_length_bytes(jv_copy(s))) != 0)
			stop_run(e, EXIT_CANTCREAT, NULL);
		jv_free(s);
	}
	llm = jv_object_set(llm, jv_string("latency_ms"), jv_number(round(j->t->latency_ms)));
	llm = jv_object_set(llm, jv_string("attempts"), jv_number(j->attempts));
	llm = jv_object_set(llm, jv_string("cached"), jv_false());
	e->counts.prompt_tokens += (unsigned long long)a->prompt_tokens;
	e->counts.completion_tokens += (unsigned long long)a->completion_tokens;
	finish_ok(e, j, llm);
	note_server_failure(e, false);
}

/* A failed attempt: retry, fall back, fail the record, or stop the run. */
static void
handle_failure(struct engine *e, struct job *j, struct failure *f)
{
	struct model_state *ms = &e->models[j->model];
	const char *message = buf_cstr(&f->message);
	const char *key_env = e->cfg->models[j->model].provider->key_env;
	bool retries_left = j->attempts <= e->cfg->retries;
	double wait;
	char why[600];

	if (f->overload)
		note_overload(e, j);
	note_attempt_failed(e, j, f);
	switch (f->step) {
	case STEP_RATE:
		e->counts.rate_limited++;
		e->concurrency = e->concurrency / 2 < 1 ? 1 : e->concurrency / 2;
		wait = http_retry_after_ms(j->t);
		if (wait < 0)
			wait = try_again_in(message);
		if (wait < 0)
			wait = backoff_ms(e, j->attempts);
		if (wait > (double)e->cfg->max_retry_after_ms)
			wait = (double)e->cfg->max_retry_after_ms;
		if (ms->limiter != NULL)
			ratelimit_pause(ms->limiter, wait, ratelimit_now());
		if (retries_left) {
			retry_later(e, j, wait);
			return;
		}
		finish_error(e, j, f->code, message, j->t->status);
		stop_run(e, EXIT_TEMPFAIL,
			"stopping: still rate-limited after every retry; rerun to resume");
		return;
	case STEP_RETRY:
		if (retries_left) {
			wait = http_retry_after_ms(j->t);
			if (wait < 0)
				wait = backoff_ms(e, j->attempts);
			if (wait > (double)e->cfg->max_retry_after_ms)
				wait = (double)e->cfg->max_retry_after_ms;
			retry_later(e, j, wait);
			return;
		}
		finish_error(e, j, f->code, message, j->t->status);
		note_server_failure(e, f->server);
		return;
	case STEP_CONTEXT:
		if (e->cfg->truncate && (j->cap == SIZE_MAX ? j->longest : j->cap) > 16) {
			/* Cut the values to 60% of their longest, again at each refusal. */
			j->cap = (j->cap == SIZE_MAX ? j->longest : j->cap) * 6 / 10;
			if (render(e, j) != 0)
				return;
			build_request(e, j, j->model);
			retry_later(e, j, 0);
			return;
		}
		finish_error(e, j, "context_length", message, j->t->status);
		note_server_failure(e, false);
		return;
	case STEP_FALLBACK:
		ms->dead = true;
		if (first_usable_model(e) >= 0) {
			snprintf(why, sizeof(why),
				"model %s is unknown to the provider (%s); using %s",
				e->cfg->models[j->model].id, message,
				e->cfg->models[first_usable_model(e)].id);
			if (!e->cfg->quiet)
				warn("%s", why);
			retry_later(e, j, 0);
			return;
		}
		finish_error(e, j, f->code, message, j->t->status);
		snprintf(why, sizeof(why), "stopping: model %s is unknown to the provider (%s)",
			e->cfg->models[j->model].id, message);
		stop_run(e, EXIT_CONFIG, why);
		return;
	case STEP_STOP_AUTH:
		finish_error(e, j, f->code, message, j->t->status);
		snprintf(why, sizeof(why), "stopping: the server refused the key (%s)%s%s", message,
			key_env != NULL && !e->cfg->key_from_file ? "; check " : "",
			key_env != NULL && !e->cfg->key_from_file ? key_env : "");
		stop_run(e, EXIT_NOPERM, why);
		return;
	case STEP_STOP_QUOTA:
		finish_error(e, j, f->code, message, j->t->status);
		snprintf(why, sizeof(why),
			"stopping: the account has no quota or credits left (%s); top it up and "
			"rerun to resume",
			message);
		stop_run(e, EXIT_NOPERM, why);
		return;
	case STEP_RECORD:
		finish_error(e, j, f->code, message, j->t->status);
		note_server_failure(e, false);
		return;
	}
}

/* A transfer finished: a result, a retry, or an error for its job. */
static void
handle_done(struct engine *e, struct http_transfer *t)
{
	struct job *j = t->user;
	struct model_state *ms = &e->models[j->model];
	struct failure f = { 0 };
	struct llm_answer a = { 0 };
	char code[64];
	struct buf message = BUF_INIT;

	e->in_flight--;
	read_limit_headers(e, j);
	if (t->result == CURLE_OK && t->status == 200) {
		enum answer_status st = parse_answer(e->cfg->models[j->model].provider->dialect,
			t->response.data ? t->response.data : "", t->response.len, &a, code,
			sizeof(code), &message);

		if (st == ANSWER_OK) {
			log_attempt(e, j, NULL, &a);
			if (ms->limiter != NULL)
				ratelimit_settle(ms->limiter, (double)j->estimate,
					(double)(a.prompt_tokens + a.completion_tokens));
			ms->overloads = 0;
			if (e->concurrency < (double)e->cfg->jobs)
				e->concurrency += 1.0 / e->concurrency;
			accept_answer(e, j, &a);
			goto out;
		}
		/* An error inside a 200 (OpenRouter), or a body that is not an answer. */
		log_attempt(e, j, code, NULL);
		f.step = strncmp(code, "http_5", 6) == 0 || st == ANSWER_BAD ? STEP_RETRY
			: strcmp(code, "http_429") == 0 || strcmp(code, "rate_limit_exceeded") == 0
			? STEP_RATE
			: STEP_RECORD;
		f.server = f.step == STEP_RETRY;
		snprintf(f.code, sizeof(f.code), "%s",
			st == ANSWER_BAD ? "bad_response" : "provider_error");
		buf_puts(&f.message, "HTTP 200: ");
		buf_add(&f.message, message.data, message.len > 300 ? 300 : message.len);
	} else {
		classify_failure(e->cfg->models[j->model].provider, t, &f);
		log_attempt(e, j, f.code, NULL);
	}
	redact_keys(e->cfg, &f.message);
	handle_failure(e, j, &f);
out:
	buf_free(&f.message);
	buf_free(&a.content);
	buf_free(&message);
}

/* --- output ------------------------------------------------------------------------- */

/* The live line: done of total, failures, request and token rates, 429s, ETA. */
static void
show_progress(struct engine *e)
{
	const struct counts *c = &e->counts;
	double secs;
	char text[256], eta[32] = "";
	unsigned long long done = c->ok + c->failed;

	if (!progress_due(&e->progress))
		return;
	secs = progress_elapsed(&e->progress);
	if (e->cfg->total > 0 && done > 0 && done < e->cfg->total) {
		long left = (long)(secs / (double)done * (double)(e->cfg->total - done));

		snprintf(eta, sizeof(eta), ", ETA %ld:%02ld", left / 60, left % 60);
	}
	if (e->cfg->total > 0)
		snprintf(text, sizeof(text), "%llu/%llu done", done, e->cfg->total);
	else
		snprintf(text, sizeof(text), "%llu done", done);
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
		" (%llu failed, %llu cached), %.1f req/s, %.0f tok/s, %llu 429s%s", c->failed,
		c->cached, secs > 0 ? (double)c->requests / secs : 0,
		secs > 0 ? (double)(c->prompt_tokens + c->completion_tokens) / secs : 0,
		c->rate_limited, eta);
	progress_show(&e->progress, text);
}

/*
 * Commit what finished to the database, then write the done records: the
 * leading ones in input order with --keep-order, else every done one.
 */
static void
emit(struct engine *e)
{
	size_t kept = 0;

	if (e->db != NULL && db_in_transaction(e->db) && db_commit(e->db) != 0)
		stop_run(e, EXIT_CANTCREAT, NULL);
	for (size_t i = 0; i < e->njobs; i++) {
		struct job *j = e->jobs[i];

		if (j->state != JOB_DONE || (e->cfg->keep_order && kept > 0)) {
			e->jobs[kept++] = j;
			continue;
		}
		buf_putc(&j->line, '\n');
		out_write(j->line.data, j->line.len);
		job_free(j);
	}
	e->njobs = kept;
	show_progress(e);
}

/* The run stops: every job not yet sent leaves as an _error, so none is lost. */
static void
abandon_pending(struct engine *e, const char *code, const char *message)
{
	for (size_t i = 0; i < e->njobs; i++) {
		struct job *j = e->jobs[i];

		if (j->state != JOB_PENDING)
			continue;
		if (j->attempts == 0) {
			finish_error(e, j, code, message, 0);
		} else {
			/* Tried already: it leaves with what its last attempt met. */
			struct buf m = BUF_INIT;

			buf_add(&m, j->last_message.data, j->last_message.len);
			buf_puts(&m, " (the run stopped before the next retry)");
			finish_error(e, j, j->last_code, buf_cstr(&m), j->last_status);
			buf_free(&m);
		}
	}
}

/* After the grace time, the requests still in flight are given up. */
static void
abandon_in_flight(struct engine *e)
{
	for (size_t i = 0; i < e->njobs; i++) {
		struct job *j = e->jobs[i];

		if (j->state == JOB_FLIGHT) {
			http_cancel(e->http, j->t);
			e->in_flight--;
			finish_error(e, j, "interrupted",
				"the run stopped while this request was in flight", 0);
		}
	}
}

/* --- set-up and the loop -------------------------------------------------------------- */

/*
 * Before any input: one cheap authenticated request (the model list) per
 * provider, so a refused key stops the run (77) with nothing consumed.
 */
static int
check_keys(struct engine *e)
{
	const struct llm_config *cfg = e->cfg;

	for (size_t i = 0; i < cfg->nmodels; i++) {
		const struct provider *p = cfg->models[i].provider;
		struct http_transfer *t;
		struct buf url = BUF_INIT;
		bool ready;
		int rc = 0;

		for (size_t k = 0; k < i; k++)
			if (cfg->models[k].provider == p)
				goto next;
		t = http_transfer_new();
		models_url(p, cfg->base_url, &url);
		t->url = xstrdup(buf_cstr(&url));
		t->timeout_ms = cfg->timeout_ms < 30000 ? cfg->timeout_ms : 30000;
		add_auth_headers(p, cfg->keys[i], t);
		if (http_start(e->http, t) == 0) {
			while (http_next_done(e->http) == NULL)
				if (http_poll(e->http, 1000, -1, &ready) != 0)
					break;
		}
		if (t->result != CURLE_OK) {
			warn("cannot reach %s: %s (--no-check skips this check)", t->url, t->error);
			rc = EXIT_UNAVAILABLE;
		} else if (t->status == 401 || t->status == 403) {
			struct failure f = { 0 };

			classify_failure(p, t, &f);
			redact_keys(cfg, &f.message);
			if (cfg->keys[i] == NULL)
				warn("%s wants a key and none was given (%s): set %s or give "
				     "--api-key-file",
					p->name, buf_cstr(&f.message),
					p->key_env ? p->key_env : "one");
			else
				warn("the key %s was refused by %s (%s)",
					cfg->key_from_file   ? "in the key file"
						: p->key_env ? p->key_env
							     : "given",
					p->name, buf_cstr(&f.message));
			buf_free(&f.message);
			rc = EXIT_NOPERM;
		}
		http_transfer_free(t);
		buf_free(&url);
		if (rc != 0)
			return rc;
	next:;
	}
	return 0;
}

static int
setup(struct engine *e)
{
	const struct llm_config *cfg = e->cfg;
	struct http_options ho = { .max_connections = cfg->jobs, .cacert = cfg->cacert };
	int code;

	e->window = (size_t)cfg->jobs * 4 + 16;
	e->concurrency = (double)cfg->jobs;
	e->rng = cfg->seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
	if (input_open(&e->in, "-") != 0)
		die(EXIT_NOINPUT, "cannot read standard input:");
	jsonl_init(&e->reader, &e->in, JSONL_MAX_LINE);
	jsonl_set_nonblocking(&e->reader, true);
	if (cfg->db_path != NULL) {
		e->db = db_open(cfg->db_path, &code);
		if (e->db == NULL)
			return code;
		if (db_cache_table(e->db, CACHE_TABLE) != 0)
			return EXIT_CANTCREAT;
	}
	if (cfg->log_path != NULL && (e->log = fopen(cfg->log_path, "a")) == NULL)
		die(EXIT_CANTCREAT, "cannot open the log '%s':", cfg->log_path);
	if (!cfg->dry_run) {
		e->http = http_new(&ho);
		if (cfg->check && (code = check_keys(e)) != 0)
			return code;
		for (size_t i = 0; i < cfg->nmodels; i++) {
			e->models[i].limiter = ratelimit_open(NULL,
				cfg->limiter_key ? cfg->limiter_key : cfg->models[i].id, cfg->rpm,
				cfg->tpm);
			if (e->models[i].limiter == NULL)
				die(EXIT_CANTCREAT, "cannot open the shared rate limiter:");
		}
	}
	progress_init(&e->progress, cfg->progress);
	return 0;
}

static void
teardown(struct engine *e)
{
	for (size_t i = 0; i < e->njobs; i++)
		job_free(e->jobs[i]);
	free(e->jobs);
	for (size_t i = 0; i < e->cfg->nmodels; i++)
		ratelimit_close(e->models[i].limiter);
	http_free(e->http);
	jsonl_free(&e->reader);
	if (e->db != NULL && db_close(e->db) != 0 && e->stop_code == 0)
		e->stop_code = EXIT_CANTCREAT;
	if (e->log != NULL && fclose(e->log) != 0)
		warn("cannot close the log '%s':", e->cfg->log_path);
	buf_free(&e->counts.codes);
	buf_free(&e->scratch);
}

static void
print_summary(struct engine *e)
{
	const struct counts *c = &e->counts;

	fprintf(stderr, "%s: %llu records, %llu ok (%llu cached), %llu failed", progname,
		c->records, c->ok, c->cached, c->failed);
	if (c->codes.len > 0) {
		const char *p = c->codes.data, *end = p + c->codes.len;
		const char *sep = " (";

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			fprintf(stderr, "%s%.*s", sep, (int)(nl - p), p);
			sep = ", ";
			p = nl + 1;
		}
		fputc(')', stderr);
	}
	fprintf(stderr, "; %llu requests, %llu rate-limited, %llu+%llu tokens in %.1f s\n",
		c->requests, c->rate_limited, c->prompt_tokens, c->completion_tokens,
		progress_elapsed(&e->progress));
}

int
engine_run(const struct llm_config *cfg)
{
	struct engine e = { .cfg = cfg };
	int rc = setup(&e);

	if (rc != 0) {
		teardown(&e);
		return rc;
	}
	for (;;) {
		double wait;
		bool stdin_ready = false;
		bool want_input;

		if (stop_signal && e.stop_code == 0)
			stop_run(&e, EXIT_TEMPFAIL,
				cfg->quiet ? NULL
					   : "interrupted: finishing the requests in flight");
		if (out_broken() && e.stop_code == 0)
			stop_run(&e, EXIT_IOERR,
				NULL); /* the reader is gone: out_close ends us by SIGPIPE */
		read_input(&e);
		wait = dispatch(&e);
		if (e.stop_code != 0) {
			abandon_pending(&e, "not_sent",
				"the run stopped before this record was sent");
			if (e.in_flight > 0 && clock_ms() > e.stop_deadline)
				abandon_in_flight(&e);
		}
		emit(&e);
		if (e.in_flight == 0 && (e.stop_code != 0 || (e.input_done && e.njobs == 0)))
			break;
		if (e.stop_code != 0 && e.in_flight == 0)
			break;
		out_flush();
		want_input = !e.input_done && e.stop_code == 0 && e.njobs < e.window;
		if (cfg->dry_run) {
			if (!want_input && e.njobs == 0)
				break;
			/* No network: just wait for input. */
			{
				struct pollfd pfd = { .fd = e.in.fd, .events = POLLIN };

				if (want_input)
					poll(&pfd, 1, -1);
			}
			continue;
		}
		if (http_poll(e.http, (int)ceil(wait), want_input ? e.in.fd : -1, &stdin_ready) !=
			0) {
			stop_run(&e, EXIT_SOFTWARE, NULL);
			continue;
		}
		for (struct http_transfer *t; (t = http_next_done(e.http)) != NULL;)
			handle_done(&e, t);
	}
	emit(&e);
	progress_end(&e.progress);
	if (!cfg->quiet)
		print_summary(&e);
	rc = e.stop_code != 0                        ? e.stop_code
		: cfg->strict && e.counts.failed > 0 ? EXIT_PARTIAL
						     : EXIT_OK;
	teardown(&e);
	return rc;
}
