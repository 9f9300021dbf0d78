/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-llm --batch; batch.h says what it promises.
 *
 * The run database holds llm_batches (one row per batch: its state, the
 * provider's ids) and llm_batch_items (one row per request out in a batch,
 * keyed by the request's cache key, whose hex is its custom_id, until the
 * record it answers is written: "answered" once its answer is in the
 * cache). This process keeps its records in temporary tables of the same
 * connection: pending (every record not yet written, in input order),
 * open_items (the requests of the batch being filled), and what the
 * collected batches said of the requests that failed (outcome, retry).
 *
 * A batch's life: its rows are committed ("uploading"); the requests file
 * is uploaded (OpenAI); the state becomes "creating" just before the create
 * request, and "submitted" with the provider's id once it answers. A rerun
 * that finds "uploading" drops the batch (nothing was created); one that
 * finds "creating" looks for the batch among the provider's recent ones
 * (OpenAI: by the token in its metadata; Anthropic: by its size and time)
 * and adopts it, or drops it when the provider has none. A submitted batch
 * is polled until it ends, then its results are read: each answer goes to
 * the answer cache and its item is marked answered, in one transaction per
 * chunk, so a crash while reading leaves the rest to the next run. The
 * first record written with an answered item's answer is its paid one
 * (cached: false); the item row goes in the same transaction, committed
 * just before the record is written, so a crash cannot bill it twice and
 * leaves at most that chunk unbilled (as a synchronous run's commit, then
 * write).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "db.h"
#include "exitcodes.h"
#include "failure.h"
#include "json.h"
#include "jsonl.h"
#include "ledger.h"
#include "out.h"
#include "pricing.h"
#include "ratelimit.h"
#include "recloop.h"
#include "record.h"
#include "redact.h"
#include "strset.h"
#include "util.h"

#define CACHE_TABLE "llm_cache"
#define CHUNK 500      /* results committed per transaction */
#define EMIT_CHUNK 100 /* records written per transaction */

/* The providers' limits: doc/protocols.md §11. */
long
batch_max_requests(enum batch_api api)
{
	return api == BATCH_ANTHROPIC ? 100000 : api == BATCH_OPENAI ? 50000 : 0;
}

long long
batch_max_bytes(enum batch_api api)
{
	return api == BATCH_ANTHROPIC ? 256LL * 1000 * 1000
		: api == BATCH_OPENAI ? 200LL * 1000 * 1000
				      : 0;
}

enum stmt {
	S_PENDING_ADD,
	S_PENDING_DEL,
	S_ITEM_FIND,
	S_OPEN_ADD,
	S_OPEN_CLEAR,
	S_BATCH_NEW,
	S_ITEMS_FROM_OPEN,
	S_BATCH_STATE,
	S_BATCH_FILE,
	S_BATCH_REMOTE,
	S_BATCH_DROP,
	S_ITEMS_DROP,
	S_BATCHES_UNFINISHED,
	S_BATCHES_NEEDED,
	S_BATCH_KNOWN,
	S_ITEM_ATTEMPTS,
	S_ITEM_DEL,
	S_ITEMS_LEFT,
	S_RETRY_ADD,
	S_RETRY_GET,
	S_ANSWERED_ADD,
	S_ITEM_ANSWERED,
	S_BATCHES_SETTLED,
	S_OUTCOME_ADD,
	S_REQUEUE,
	S_EMIT,
	S_EMITTED_ADD,
	S_PENDING_LEFT,
	S_PENDING_RECORD,
	S_FAIL_BATCH,
	S_FAIL_OPEN,
	S_FAIL_PENDING,
	S_INTERRUPTED,
	NSTMT
};

static const char *const schema[] = {
	"CREATE TABLE llm_batches(id INTEGER PRIMARY KEY, target TEXT NOT NULL, "
	"base TEXT NOT NULL, token TEXT NOT NULL, state TEXT NOT NULL, file_id TEXT, "
	"remote_id TEXT, items INTEGER NOT NULL, created INTEGER NOT NULL, ended INTEGER);"
	"CREATE TABLE llm_batch_items(key BLOB PRIMARY KEY, batch INTEGER NOT NULL, "
	"attempts INTEGER NOT NULL, answered INTEGER NOT NULL DEFAULT 0, "
	"latency_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX llm_batch_items_by_batch ON llm_batch_items(batch)",
};

static const char temp_tables[] =
	"CREATE TEMP TABLE pending(seq INTEGER PRIMARY KEY, key BLOB, record TEXT, line TEXT);"
	"CREATE INDEX temp.pending_by_key ON pending(key);"
	"CREATE TEMP TABLE open_items(key BLOB PRIMARY KEY, attempts INTEGER NOT NULL) "
	"WITHOUT ROWID;"
	"CREATE TEMP TABLE retry(key BLOB PRIMARY KEY, attempts INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TEMP TABLE outcome(key BLOB PRIMARY KEY, code TEXT NOT NULL, message TEXT NOT "
	"NULL, "
	"status INTEGER NOT NULL, attempts INTEGER NOT NULL, raw TEXT) WITHOUT ROWID;"
	"CREATE TEMP TABLE emitted(key BLOB PRIMARY KEY) WITHOUT ROWID";

static const char *const sql[NSTMT] = {
	[S_PENDING_ADD] = "INSERT INTO pending(seq, key, record, line) VALUES(?, ?, ?, ?)",
	[S_PENDING_DEL] = "DELETE FROM pending WHERE seq = ?",
	[S_ITEM_FIND] = "SELECT 1 FROM llm_batch_items WHERE key = ? UNION ALL "
			"SELECT 1 FROM open_items WHERE key = ?",
	[S_OPEN_ADD] = "INSERT OR IGNORE INTO open_items(key, attempts) VALUES(?, ?)",
	[S_OPEN_CLEAR] = "DELETE FROM open_items",
	[S_BATCH_NEW] = "INSERT INTO llm_batches(target, base, token, state, items, created) "
			"VALUES(?, ?, ?, 'uploading', ?, ?)",
	[S_ITEMS_FROM_OPEN] = "INSERT OR REPLACE INTO llm_batch_items(key, batch, attempts) "
			      "SELECT key, ?, attempts FROM open_items",
	[S_BATCH_STATE] = "UPDATE llm_batches SET state = ?, created = coalesce(?, created), "
			  "ended = ? WHERE id = ?",
	[S_BATCH_FILE] = "UPDATE llm_batches SET file_id = ? WHERE id = ?",
	[S_BATCH_REMOTE] = "UPDATE llm_batches SET remote_id = ?, state = 'submitted' WHERE id = ?",
	[S_BATCH_DROP] = "DELETE FROM llm_batches WHERE id = ?",
	[S_ITEMS_DROP] = "DELETE FROM llm_batch_items WHERE batch = ?",
	[S_BATCHES_UNFINISHED] =
		"SELECT id, remote_id, items, created, state, token FROM llm_batches "
		"WHERE target = ? AND base = ? AND state IN ('uploading', 'creating', 'submitted') "
		"ORDER BY id",
	[S_BATCHES_NEEDED] =
		"SELECT b.id, b.remote_id, b.items, b.created FROM llm_batches b "
		"WHERE b.target = ? AND b.base = ? AND b.state = 'submitted' AND EXISTS (SELECT 1 "
		"FROM llm_batch_items i JOIN pending p ON p.key = i.key WHERE i.batch = b.id "
		"AND i.answered = 0) ORDER BY b.id",
	[S_BATCH_KNOWN] = "SELECT 1 FROM llm_batches WHERE remote_id = ?",
	[S_ITEM_ATTEMPTS] = "SELECT attempts FROM llm_batch_items WHERE key = ? AND batch = ? "
			    "AND answered = 0",
	[S_ITEM_DEL] = "DELETE FROM llm_batch_items WHERE key = ?",
	[S_ITEMS_LEFT] =
		"SELECT key, attempts FROM llm_batch_items WHERE batch = ? AND answered = 0",
	[S_RETRY_ADD] = "INSERT OR REPLACE INTO retry(key, attempts) VALUES(?, ?)",
	[S_RETRY_GET] = "SELECT attempts FROM retry WHERE key = ?",
	[S_ANSWERED_ADD] = "UPDATE llm_batch_items SET answered = 1, latency_ms = ? WHERE key = ?",
	[S_ITEM_ANSWERED] = "SELECT 1 FROM llm_batch_items WHERE key = ? AND answered = 1",
	[S_BATCHES_SETTLED] =
		"UPDATE llm_batches SET state = 'collected' WHERE state = 'submitted' AND "
		"NOT EXISTS (SELECT 1 FROM llm_batch_items i WHERE i.batch = llm_batches.id AND "
		"i.answered = 0)",
	[S_OUTCOME_ADD] =
		"INSERT OR REPLACE INTO outcome(key, code, message, status, attempts, raw) "
		"VALUES(?, ?, ?, ?, ?, ?)",
	/* Records whose request is nowhere: not answered, not out, not in the open batch. */
	[S_REQUEUE] = "SELECT p.seq FROM pending p WHERE p.key IS NOT NULL "
		      "AND NOT EXISTS (SELECT 1 FROM main.llm_batch_items i WHERE i.key = p.key) "
		      "AND NOT EXISTS (SELECT 1 FROM open_items o WHERE o.key = p.key) "
		      "AND NOT EXISTS (SELECT 1 FROM outcome o WHERE o.key = p.key) "
		      "AND NOT EXISTS (SELECT 1 FROM main." CACHE_TABLE " c WHERE c.key = p.key) "
		      "ORDER BY p.seq",
	[S_EMIT] =
		"SELECT p.seq, p.key, p.record, p.line, o.code, o.message, o.status, o.attempts, "
		"o.raw, a.latency_ms, a.attempts, c.value FROM pending p "
		"LEFT JOIN outcome o ON o.key = p.key "
		"LEFT JOIN main.llm_batch_items a ON a.key = p.key AND a.answered = 1 "
		"LEFT JOIN main." CACHE_TABLE " c ON c.key = p.key WHERE p.seq > ? ORDER BY p.seq",
	[S_EMITTED_ADD] = "INSERT OR IGNORE INTO emitted(key) VALUES(?)",
	[S_PENDING_LEFT] = "SELECT count(*) FROM pending",
	[S_PENDING_RECORD] = "SELECT record FROM pending WHERE seq = ?",
	/* The requests of batch ?4 fail with code ?1, message ?2, status ?3. */
	[S_FAIL_BATCH] =
		"INSERT OR REPLACE INTO outcome(key, code, message, status, attempts, raw) "
		"SELECT key, ?, ?, ?, attempts, NULL FROM main.llm_batch_items WHERE batch = ?",
	/* The requests of the open batch are held back by the budget, with message ?1. */
	[S_FAIL_OPEN] = "INSERT OR REPLACE INTO outcome(key, code, message, status, attempts, raw) "
			"SELECT key, '" ERR_BUDGET_EXCEEDED "', ?, 0, 0, NULL FROM open_items",
	/* The request of pending record ?3 fails with code ?1, message ?2, not tried. */
	[S_FAIL_PENDING] =
		"INSERT OR REPLACE INTO outcome(key, code, message, status, attempts, raw) "
		"SELECT key, ?, ?, 0, 0, NULL FROM pending WHERE seq = ?",
	/* Records not resolved, with the batch their request is out in, if any. */
	[S_INTERRUPTED] =
		"SELECT p.seq, b.remote_id, b.base FROM pending p "
		"LEFT JOIN main.llm_batch_items i ON i.key = p.key "
		"LEFT JOIN main.llm_batches b ON b.id = i.batch AND b.state = 'submitted' "
		"WHERE p.line IS NULL "
		"AND NOT EXISTS (SELECT 1 FROM outcome o WHERE o.key = p.key) "
		"AND NOT EXISTS (SELECT 1 FROM main." CACHE_TABLE " c WHERE c.key = p.key) "
		"ORDER BY p.seq",
};

/* The batch being filled: its requests go to a file as they come. */
struct open_batch {
	FILE *file; /* unlinked: gone with the process */
	long count;
	long long bytes;
	int64_t estimate; /* pico-dollars, with --budget */
};

/* One submitted batch, as the database and the provider know it. */
struct remote_batch {
	sqlite3_int64 id;
	char remote_id[128];
	long items;
	double created; /* seconds since the epoch */
};

struct counts {
	unsigned long long records, ok, cached, failed, requests, batches, held_back;
	struct buf codes;
};

struct batcher {
	struct llm_config *cfg;
	const struct model_ref *model;
	const struct endpoint *endpoint;
	const char *key;
	enum batch_api api;
	long size;
	long long max_bytes;
	struct db *db;
	sqlite3 *sq;
	sqlite3_stmt *st[NSTMT];
	struct ledger *ledger; /* with --budget */
	struct prices *prices; /* with --budget: for the estimate */
	struct pricer pricer;
	int64_t submitted_pico; /* estimates of the batches this run submitted */
	struct http *http;
	FILE *log; /* --log */
	struct open_batch open;
	struct counts counts;
	struct progress progress;
	unsigned long long next_seq;
	uint64_t rng; /* xorshift: the backoff jitter, the batches' tokens */
	int stop_code;
	bool stopped_at_bad_line;
};

/* --- small helpers ------------------------------------------------------------- */

/* The batch of a row whose columns start id, remote_id, items, created. */
static void
batch_of_row(sqlite3_stmt *s, struct remote_batch *rb)
{
	const unsigned char *rid = sqlite3_column_text(s, 1);

	rb->id = sqlite3_column_int64(s, 0);
	snprintf(rb->remote_id, sizeof(rb->remote_id), "%s", rid != NULL ? (const char *)rid : "");
	rb->items = (long)sqlite3_column_int64(s, 2);
	rb->created = (double)sqlite3_column_int64(s, 3);
}

/* A statement, reset and with its bindings cleared, to bind and step. */
static sqlite3_stmt *
stmt(struct batcher *b, enum stmt s)
{
	sqlite3_reset(b->st[s]);
	sqlite3_clear_bindings(b->st[s]);
	return b->st[s];
}

/* Stop the run with code (the first one stays), after a message when why is set. */
static void
stop(struct batcher *b, int code, const char *why)
{
	if (b->stop_code == 0)
		b->stop_code = code;
	if (why != NULL)
		warn("%s", why);
}

/* Step a statement that returns no row; a failure stops the run (74). Returns 0 or -1. */
static int
run(struct batcher *b, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	error("run database '%s': %s", db_path(b->db), sqlite3_errmsg(b->sq));
	stop(b, EXIT_IOERR, NULL);
	return -1;
}

/* The single number a statement returns (0 when no row). */
static sqlite3_int64
number(struct batcher *b, sqlite3_stmt *s)
{
	sqlite3_int64 v = 0;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		error("run database '%s': %s", db_path(b->db), sqlite3_errmsg(b->sq));
		stop(b, EXIT_IOERR, NULL);
	}
	return v;
}

static void
bind_key(sqlite3_stmt *s, int i, const unsigned char key[SHA256_SIZE])
{
	sqlite3_bind_blob(s, i, key, SHA256_SIZE, SQLITE_TRANSIENT);
}

static void
bind_text(sqlite3_stmt *s, int i, const char *text, size_t len)
{
	sqlite3_bind_text(s, i, text != NULL ? text : "", (int)len, SQLITE_TRANSIENT);
}

/* A custom_id (the hex of a cache key) back into the key. Returns 0, or -1 when it is not one. */
static int
key_of_custom_id(const char *id, unsigned char key[SHA256_SIZE])
{
	if (strlen(id) != 2 * SHA256_SIZE)
		return -1;
	for (size_t i = 0; i < SHA256_SIZE; i++) {
		int hi = hex_digit((unsigned char)id[2 * i]),
		    lo = hex_digit((unsigned char)id[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (unsigned char)(hi * 16 + lo);
	}
	return 0;
}

/* Sleep ms, waking early for a stop request. */
static void
nap(double ms)
{
	double until = clock_ms() + ms;

	while (!netloop_stop_requested()) {
		double left = until - clock_ms();
		struct timespec ts;

		if (left <= 0)
			return;
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e6);
		nanosleep(&ts, NULL);
	}
}

/* A duration for people: "42s", "3m05s", "2h01m". */
static void
add_age(struct buf *out, double secs)
{
	char text[32];
	long s = secs < 0 ? 0 : (long)secs;

	if (s < 60)
		snprintf(text, sizeof(text), "%lds", s);
	else if (s < 3600)
		snprintf(text, sizeof(text), "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(text, sizeof(text), "%ldh%02ldm", s / 3600, s / 60 % 60);
	buf_puts(out, text);
}

/* --- the provider's batch API ------------------------------------------------------ */

/* What an API call came to. */
enum call_result {
	CALL_OK,        /* a 2xx answer, its body in t->response (or t->response_file) */
	CALL_NOT_FOUND, /* a 404 */
	CALL_REFUSED,   /* a 4xx that retrying will not change; said in a message */
	CALL_STOPPED,   /* the run stops (b->stop_code set) */
	CALL_UNSENT,    /* the run stops, and the request was never sent */
};

/* --log: a line for an attempt of a request of the batch API (what names it). */
static void
log_request(struct batcher *b, const struct http_transfer *t, const char *what, int attempt,
	const char *code)
{
	struct buf line = BUF_INIT;

	if (b->log == NULL)
		return;
	buf_printf(&line, "{\"time\":%.0f,\"tool\":", ratelimit_now());
	jw_cstring(&line, progname);
	buf_puts(&line, ",\"provider\":");
	jw_cstring(&line, b->model->provider->name);
	buf_puts(&line, ",\"model\":");
	jw_cstring(&line, b->model->model);
	buf_puts(&line, ",\"batch_request\":");
	jw_cstring(&line, what);
	buf_printf(&line, ",\"attempt\":%d,\"status\":%ld,\"latency_ms\":%.1f,\"error\":", attempt,
		t->status, t->latency_ms);
	if (code != NULL)
		jw_cstring(&line, code);
	else
		buf_puts(&line, "null");
	buf_puts(&line, "}\n");
	redact_secret(&line, b->key);
	if (fwrite(line.data, 1, line.len, b->log) != line.len || fflush(b->log) != 0) {
		warn("cannot write the log '%s':", b->cfg->loop.log_path);
		stop(b, EXIT_IOERR, NULL);
	}
	buf_free(&line);
}

/*
 * Send t, a request of the batch API (what names it in messages), until it
 * answers: network failures, 408, 409, 429 and 5xx are retried with backoff
 * (or as the server asks) up to --retries times; a refused key stops the
 * run with 77.
 */
static enum call_result
call(struct batcher *b, struct http_transfer *t, const char *what)
{
	const struct netloop_config *lc = &b->cfg->loop;
	struct buf m = BUF_INIT;

	if (t->timeout_ms == 0)
		t->timeout_ms = b->cfg->timeout_ms;
	for (int attempt = 0;; attempt++) {
		struct failure f = { 0 };
		bool ready;
		double wait;

		if (netloop_stop_requested()) {
			stop(b, EXIT_TEMPFAIL, NULL);
			return attempt == 0 ? CALL_UNSENT : CALL_STOPPED;
		}
		b->counts.requests++;
		if (http_start(b->http, t) == 0)
			while (http_next_done(b->http) == NULL)
				if (http_poll(b->http, 200, -1, &ready) != 0)
					break;
		if (t->result == CURLE_OK && t->status >= 200 && t->status < 300) {
			log_request(b, t, what, attempt + 1, NULL);
			return CALL_OK;
		}
		classify_failure(b->model->provider, t, &f);
		log_request(b, t, what, attempt + 1, f.code);
		if (t->result == CURLE_OK && t->status == 404) {
			buf_free(&f.message);
			return CALL_NOT_FOUND;
		}
		redact_secret(&f.message, b->key);
		if (t->status == 401 || t->status == 403 || f.step == STEP_STOP_AUTH ||
			f.step == STEP_STOP_QUOTA) {
			buf_reset(&m);
			buf_printf(&m, "%s: %s", what, buf_cstr(&f.message));
			stop(b, EXIT_NOPERM, buf_cstr(&m));
			buf_free(&f.message);
			buf_free(&m);
			return CALL_STOPPED;
		}
		if ((f.step != STEP_RETRY && f.step != STEP_RATE) || attempt >= lc->retries) {
			warn("%s: %s%s", what, buf_cstr(&f.message),
				f.step == STEP_RETRY || f.step == STEP_RATE ? " (no retries left)"
									    : "");
			buf_free(&f.message);
			buf_free(&m);
			if (f.step != STEP_RETRY && f.step != STEP_RATE)
				return CALL_REFUSED;
			stop(b, EXIT_UNAVAILABLE, NULL);
			return CALL_STOPPED;
		}
		wait = netloop_retry_wait(lc, t, &f, f.step == STEP_RATE, attempt + 1, &b->rng);
		if (lc->verbose)
			warn("%s: %s; again in %.1f s", what, buf_cstr(&f.message), wait / 1000);
		buf_free(&f.message);
		nap(wait);
	}
}

/* The timeout of a transfer of a whole batch file (up to 256 MB): --timeout, at least 30 minutes.
 */
static long
long_timeout(const struct batcher *b)
{
	return b->cfg->timeout_ms > 1800000 ? b->cfg->timeout_ms : 1800000;
}

/* Append rb's path in the batch API: /batches/ID (OpenAI), /messages/batches/ID (Anthropic). */
static void
batch_path(const struct batcher *b, const struct remote_batch *rb, struct buf *path)
{
	buf_puts(path, b->api == BATCH_ANTHROPIC ? "/messages/batches/" : "/batches/");
	url_encode(path, rb->remote_id, strlen(rb->remote_id));
}

/* Address t as a request to path of the batch API (a JSON body unless form). */
static void
address(struct batcher *b, struct http_transfer *t, const char *path, bool form)
{
	http_clear_request(t);
	batch_request(b->model, b->endpoint, b->key, path, form, t);
}

/* The member name of the object o (borrowed) as a string living as long as o, or "". */
static const char *
str(jv o, const char *name)
{
	const char *s = "";
	jv v;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return s;
	v = jv_object_get(jv_copy(o), jv_string(name));
	if (jv_get_kind(v) == JV_KIND_STRING)
		s = jv_string_value(v); /* o holds it still */
	jv_free(v);
	return s;
}

/* The member name of the object o (borrowed) as a number, or 0. */
static double
num(jv o, const char *name)
{
	double d = 0;
	jv v;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return d;
	v = jv_object_get(jv_copy(o), jv_string(name));
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		d = jv_number_value(v);
	jv_free(v);
	return d;
}

/* --- the open batch ----------------------------------------------------------------- */

/* The file of the open batch, started when needed. */
static FILE *
open_file(struct batcher *b)
{
	if (b->open.file == NULL) {
		b->open.file = tmpfile();
		if (b->open.file == NULL)
			die(EXIT_CANTCREAT, "cannot create a temporary file for the batch:");
		if (b->api == BATCH_ANTHROPIC && fputs("{\"requests\":[", b->open.file) == EOF)
			die(EXIT_IOERR, "cannot write the batch's temporary file:");
	}
	return b->open.file;
}

static void submit(struct batcher *b);

/*
 * What lj's request is likely to cost as a batch answer, as jl-llm
 * --dry-run | jl-cost --estimate would price it: the prompt at 4 bytes a
 * token, the completion at --max-tokens (or 0). 0 without --budget.
 */
static int64_t
estimate(struct batcher *b, const struct llm_job *lj)
{
	int64_t pico = 0;

	if (b->prices != NULL &&
		price_tokens(&b->pricer, b->model->provider->name, b->model->model,
			(int64_t)((lj->prompt.len + lj->system.len + 3) / 4),
			b->cfg->params.max_tokens >= 0 ? b->cfg->params.max_tokens : 0, true,
			&pico) != 0)
		pico = INT64_MAX / 4; /* past any budget */
	return pico;
}

/*
 * Whether --budget lets the open batch go: what the ledger holds, with the
 * estimates of the batches this run submitted and of this one, stays
 * within the budget.
 */
static bool
within_budget(struct batcher *b)
{
	int64_t total;

	if (b->ledger == NULL)
		return true;
	total = ledger_total(b->ledger, b->cfg->loop.budget_run);
	if (total < 0) {
		stop(b, EXIT_IOERR, NULL);
		return false;
	}
	return (ledger_sum)total + b->submitted_pico + b->open.estimate <=
		ledger_pico(b->cfg->loop.budget_micro);
}

/* The open batch would pass the budget: its records leave with budget_exceeded. */
static void
hold_back_open(struct batcher *b)
{
	struct buf m = BUF_INIT;
	sqlite3_stmt *s = stmt(b, S_FAIL_OPEN);

	buf_printf(&m, "not sent: its batch of %ld requests, estimated at $", b->open.count);
	ledger_usd(&m, b->open.estimate);
	buf_puts(&m, ", would take the ledger");
	if (*b->cfg->loop.budget_run != '\0')
		buf_printf(&m, " of run '%s'", b->cfg->loop.budget_run);
	buf_puts(&m, " past the budget $");
	ledger_usd(&m, ledger_pico(b->cfg->loop.budget_micro));
	if (!b->cfg->loop.quiet)
		warn("a batch held back by --budget: %s", buf_cstr(&m) + strlen("not sent: its "));
	sqlite3_bind_text(s, 1, buf_cstr(&m), -1, SQLITE_TRANSIENT);
	run(b, s);
	buf_free(&m);
}

/*
 * Add the request body (of the record's model) under key to the open
 * batch, unless it is there or out in a batch already; submit the batch
 * when it is full.
 */
static void
add_request(struct batcher *b, const unsigned char key[SHA256_SIZE], const struct llm_job *lj,
	int attempts)
{
	char id[2 * SHA256_SIZE + 1];
	struct buf line = BUF_INIT;
	sqlite3_stmt *s = stmt(b, S_ITEM_FIND);

	bind_key(s, 1, key);
	bind_key(s, 2, key);
	if (sqlite3_step(s) == SQLITE_ROW) {
		sqlite3_reset(s);
		return; /* out already, or in this batch: one request serves every copy */
	}
	sqlite3_reset(s);
	sha256_hex(key, id);
	if (b->api == BATCH_ANTHROPIC) {
		buf_puts(&line, b->open.count > 0 ? ",{\"custom_id\":\"" : "{\"custom_id\":\"");
		buf_puts(&line, id);
		buf_puts(&line, "\",\"params\":");
		buf_add(&line, lj->body.data, lj->body.len);
		buf_puts(&line, "}");
	} else {
		buf_puts(&line, "{\"custom_id\":\"");
		buf_puts(&line, id);
		buf_puts(&line,
			"\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":");
		buf_add(&line, lj->body.data, lj->body.len);
		buf_puts(&line, "}\n");
	}
	if (b->open.count > 0 && b->open.bytes + (long long)line.len + 2 > b->max_bytes) {
		submit(b);
		if (b->stop_code != 0) {
			buf_free(&line);
			return;
		}
		if (b->api == BATCH_ANTHROPIC)
			memmove(line.data, line.data + 1, --line.len); /* no comma first */
	}
	if (fwrite(line.data, 1, line.len, open_file(b)) != line.len)
		die(EXIT_IOERR, "cannot write the batch's temporary file:");
	s = stmt(b, S_OPEN_ADD);
	bind_key(s, 1, key);
	sqlite3_bind_int(s, 2, attempts);
	run(b, s);
	b->open.count++;
	b->open.bytes += (long long)line.len;
	b->open.estimate += estimate(b, lj);
	buf_free(&line);
	if (b->open.count >= b->size)
		submit(b);
}

/* A new batch row and its items, committed before anything is sent. Returns its id, or 0. */
static sqlite3_int64
record_batch(struct batcher *b, const char *token)
{
	sqlite3_stmt *s;
	sqlite3_int64 id;

	if (db_begin(b->db) != 0) {
		stop(b, EXIT_IOERR, NULL);
		return 0;
	}
	s = stmt(b, S_BATCH_NEW);
	sqlite3_bind_text(s, 1, b->model->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, b->endpoint->base, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, b->open.count);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)time(NULL));
	if (run(b, s) != 0)
		return 0;
	id = sqlite3_last_insert_rowid(b->sq);
	s = stmt(b, S_ITEMS_FROM_OPEN);
	sqlite3_bind_int64(s, 1, id);
	if (run(b, s) != 0 || run(b, stmt(b, S_OPEN_CLEAR)) != 0)
		return 0;
	if (db_commit(b->db) != 0) {
		stop(b, EXIT_IOERR, NULL);
		return 0;
	}
	return id;
}

/* Set batch id's state (and when it was created, or ended). */
static void
set_state(struct batcher *b, sqlite3_int64 id, const char *state, bool created, bool ended)
{
	sqlite3_stmt *s = stmt(b, S_BATCH_STATE);

	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	if (created)
		sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	if (ended)
		sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(s, 4, id);
	run(b, s);
}

/* Forget batch id and its items: it was never created, so its records go out again. */
static void
drop_batch(struct batcher *b, sqlite3_int64 id)
{
	sqlite3_stmt *s = stmt(b, S_ITEMS_DROP);

	sqlite3_bind_int64(s, 1, id);
	run(b, s);
	s = stmt(b, S_BATCH_DROP);
	sqlite3_bind_int64(s, 1, id);
	run(b, s);
}

/*
 * The provider refused batch id (t's answer) as it was being uploaded or
 * created: no batch exists, so its row goes, and each of its requests
 * leaves with the provider's error code and message, the key taken out.
 */
static void
refuse_batch(struct batcher *b, sqlite3_int64 id, const struct http_transfer *t)
{
	struct failure f = { 0 };
	sqlite3_stmt *s = stmt(b, S_FAIL_BATCH);

	classify_failure(b->model->provider, t, &f);
	redact_secret(&f.message, b->key);
	sqlite3_bind_text(s, 1, f.code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, buf_cstr(&f.message), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, t->status);
	sqlite3_bind_int64(s, 4, id);
	run(b, s);
	drop_batch(b, id);
	buf_free(&f.message);
}

/*
 * OpenAI: upload the file of the open batch, recorded as row. Returns the
 * file id (to free), or NULL after refusing the batch or stopping the run.
 */
static char *
upload(struct batcher *b, sqlite3_int64 row, struct http_transfer *t)
{
	jv answer;
	char *id = NULL;

	address(b, t, "/files", true);
	t->post = true;
	t->body_file = b->open.file;
	t->form_field = "purpose";
	t->form_value = "batch";
	t->form_file = "file";
	t->form_filename = "batch.jsonl";
	t->timeout_ms = long_timeout(b);
	switch (call(b, t, "uploading the batch")) {
	case CALL_OK:
		answer = jv_parse_sized(t->response.data ? t->response.data : "",
			(int)t->response.len);
		if (*str(answer, "id") != '\0')
			id = xstrdup(str(answer, "id"));
		else
			stop(b, EXIT_UNAVAILABLE, "uploading the batch: the answer has no file id");
		jv_free(answer);
		break;
	case CALL_NOT_FOUND:
	case CALL_REFUSED:
		refuse_batch(b, row, t);
		break;
	case CALL_STOPPED:
	case CALL_UNSENT:
		drop_batch(b, row); /* not created: its requests go in a batch again */
		break;
	}
	return id;
}

/* The create request's body: OpenAI's batch, or Anthropic's requests (the open file). */
static void
create_body(struct batcher *b, struct http_transfer *t, const char *file_id, const char *token)
{
	t->post = true;
	if (b->api == BATCH_ANTHROPIC) {
		t->body_file = b->open.file;
		return;
	}
	buf_puts(&t->body, "{\"input_file_id\":");
	jw_cstring(&t->body, file_id);
	buf_puts(&t->body,
		",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\","
		"\"metadata\":{\"jlkit_batch\":");
	jw_cstring(&t->body, token);
	buf_puts(&t->body, "}}");
}

/*
 * Submit the open batch: record it, upload its file (OpenAI), create it.
 * Its records leave with _error when the provider refuses it.
 */
static void
submit(struct batcher *b)
{
	struct http_transfer *t = NULL;
	char token[40], *file_id = NULL;
	sqlite3_int64 id;
	jv answer;

	if (b->open.count == 0 || b->stop_code != 0)
		return;
	if (!within_budget(b)) {
		if (b->stop_code == 0)
			hold_back_open(b);
		goto out;
	}
	if (b->api == BATCH_ANTHROPIC && fputs("]}", b->open.file) == EOF)
		die(EXIT_IOERR, "cannot write the batch's temporary file:");
	if (fflush(b->open.file) != 0)
		die(EXIT_IOERR, "cannot write the batch's temporary file:");
	netloop_random01(&b->rng); /* the state itself: 64 random bits */
	snprintf(token, sizeof(token), "jl-%016llx%08lx", (unsigned long long)b->rng,
		(unsigned long)time(NULL));
	t = http_transfer_new();
	if ((id = record_batch(b, token)) == 0)
		goto out;
	b->submitted_pico += b->open.estimate;
	if (b->api == BATCH_OPENAI) {
		if ((file_id = upload(b, id, t)) == NULL)
			goto out;
		sqlite3_bind_text(stmt(b, S_BATCH_FILE), 1, file_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(b->st[S_BATCH_FILE], 2, id);
		run(b, b->st[S_BATCH_FILE]);
	}
	set_state(b, id, "creating", true, false);
	address(b, t, b->api == BATCH_ANTHROPIC ? "/messages/batches" : "/batches", false);
	create_body(b, t, file_id, token);
	if (b->api == BATCH_ANTHROPIC)
		t->timeout_ms = long_timeout(b); /* the requests themselves */
	switch (call(b, t, "creating the batch")) {
	case CALL_OK:
		answer = jv_parse_sized(t->response.data ? t->response.data : "",
			(int)t->response.len);
		if (*str(answer, "id") == '\0') {
			stop(b, EXIT_UNAVAILABLE, "creating the batch: the answer has no batch id");
		} else {
			sqlite3_bind_text(stmt(b, S_BATCH_REMOTE), 1, str(answer, "id"), -1,
				SQLITE_TRANSIENT);
			sqlite3_bind_int64(b->st[S_BATCH_REMOTE], 2, id);
			run(b, b->st[S_BATCH_REMOTE]);
			b->counts.batches++;
			if (!b->cfg->loop.quiet)
				warn("batch %s submitted: %ld requests", str(answer, "id"),
					b->open.count);
		}
		jv_free(answer);
		break;
	case CALL_NOT_FOUND:
	case CALL_REFUSED:
		refuse_batch(b, id, t); /* no batch exists */
		break;
	case CALL_UNSENT:
		drop_batch(b, id); /* not created: its requests go in a batch again */
		break;
	case CALL_STOPPED:
		break; /* "creating": the next run looks for it */
	}
out:
	http_transfer_free(t);
	free(file_id);
	if (b->open.file != NULL)
		fclose(b->open.file);
	b->open = (struct open_batch){ 0 };
	run(b, stmt(b, S_OPEN_CLEAR));
}

/* --- recovery of a batch whose create may have happened ------------------------- */

/* Seconds since the epoch of a batch object's created_at (a number, or RFC 3339). */
static double
created_at(jv batch)
{
	jv v = jv_object_get(jv_copy(batch), jv_string("created_at"));
	double secs = -1, ms;

	if (jv_get_kind(v) == JV_KIND_NUMBER)
		secs = jv_number_value(v);
	else if (jv_get_kind(v) == JV_KIND_STRING && parse_rfc3339(jv_string_value(v), &ms) == 0)
		secs = ms / 1000;
	jv_free(v);
	return secs;
}

/* The number of requests a batch object counts. */
static long
batch_total(jv batch)
{
	jv counts = jv_object_get(jv_copy(batch), jv_string("request_counts"));
	long n = 0;

	if (jv_get_kind(counts) == JV_KIND_OBJECT) {
		if (jv_object_has(jv_copy(counts), jv_string("total"))) {
			n = (long)num(counts, "total");
		} else {
			static const char *const parts[] = { "processing", "succeeded", "errored",
				"canceled", "expired" };

			for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++)
				n += (long)num(counts, parts[i]);
		}
	}
	jv_free(counts);
	return n;
}

/*
 * Batch rb was being created when a run ended: find it among the provider's
 * recent batches, by its metadata token (OpenAI) or, lacking one
 * (Anthropic), as the batch of the same size created closest after the
 * create request was sent and not known here. Adopt it, or drop the row.
 */
static void
recover(struct batcher *b, const struct remote_batch *rb, const char *token)
{
	struct http_transfer *t = http_transfer_new();
	jv list, data;
	char found[128] = "";
	double best = INFINITY;

	address(b, t,
		b->api == BATCH_ANTHROPIC ? "/messages/batches?limit=100" : "/batches?limit=100",
		false);
	if (call(b, t, "listing the batches") != CALL_OK) {
		if (b->stop_code == 0)
			stop(b, EXIT_UNAVAILABLE,
				"cannot list the batches to find one being created");
		http_transfer_free(t);
		return;
	}
	list = jv_parse_sized(t->response.data ? t->response.data : "", (int)t->response.len);
	data = jv_get_kind(list) == JV_KIND_OBJECT ? jv_object_get(jv_copy(list), jv_string("data"))
						   : jv_invalid();
	if (jv_get_kind(data) == JV_KIND_ARRAY) {
		jv_array_foreach(data, i, batch)
		{
			jv meta = jv_object_get(jv_copy(batch), jv_string("metadata"));
			const char *rid = str(batch, "id");
			sqlite3_stmt *s = stmt(b, S_BATCH_KNOWN);
			double at = created_at(batch);
			bool known;

			sqlite3_bind_text(s, 1, rid, -1, SQLITE_TRANSIENT);
			known = sqlite3_step(s) == SQLITE_ROW;
			sqlite3_reset(s);
			if (b->api == BATCH_OPENAI) {
				if (jv_get_kind(meta) == JV_KIND_OBJECT &&
					strcmp(str(meta, "jlkit_batch"), token) == 0 && !known)
					snprintf(found, sizeof(found), "%s", rid);
			} else if (!known && batch_total(batch) == rb->items &&
				at >= rb->created - 5 && at - rb->created < best) {
				best = at - rb->created;
				snprintf(found, sizeof(found), "%s", rid);
			}
			jv_free(meta);
			jv_free(batch);
		}
	}
	jv_free(data);
	jv_free(list);
	http_transfer_free(t);
	if (found[0] != '\0') {
		sqlite3_stmt *s = stmt(b, S_BATCH_REMOTE);

		sqlite3_bind_text(s, 1, found, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, rb->id);
		run(b, s);
		if (!b->cfg->loop.quiet)
			warn("batch %s, created by a run that ended before it knew its id, is "
			     "collected",
				found);
	} else {
		drop_batch(b, rb->id);
	}
}

/* The unfinished batches of this model at its endpoint: resolved when their creation is unknown. */
static void
recover_all(struct batcher *b)
{
	struct unfinished {
		struct remote_batch rb;
		bool uploading;
		char token[48];
	} rows[64];
	size_t n;

	/* A page at a time: each row resolved leaves the query's answer. */
	do {
		sqlite3_stmt *s = stmt(b, S_BATCHES_UNFINISHED);

		n = 0;
		sqlite3_bind_text(s, 1, b->model->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, b->endpoint->base, -1, SQLITE_STATIC);
		while (n < sizeof(rows) / sizeof(*rows) && sqlite3_step(s) == SQLITE_ROW) {
			const char *state = (const char *)sqlite3_column_text(s, 4);

			if (strcmp(state, "submitted") == 0)
				continue;
			batch_of_row(s, &rows[n].rb);
			rows[n].uploading = strcmp(state, "uploading") == 0;
			snprintf(rows[n].token, sizeof(rows[n].token), "%s",
				sqlite3_column_text(s, 5));
			n++;
		}
		sqlite3_reset(s);
		for (size_t i = 0; i < n && b->stop_code == 0; i++) {
			if (rows[i].uploading)
				drop_batch(b, rows[i].rb.id); /* never created */
			else
				recover(b, &rows[i].rb, rows[i].token);
		}
	} while (n == sizeof(rows) / sizeof(*rows) && b->stop_code == 0);
}

/* What a look at a batch found. */
struct batch_status {
	char state[32];
	bool ended;
	long done, failed, total;
	char output[128], errors[128]; /* OpenAI's file ids, or "" */
	char why[256];                 /* OpenAI's "failed": the first of its errors */
};

/* --- reading a batch's results ------------------------------------------------------ */

/* The Anthropic error type of a batch item, as the HTTP status the same error would have. */
static long
status_of_error_type(const char *type)
{
	static const struct {
		const char *type;
		long status;
	} map[] = {
		{ "invalid_request_error", 400 },
		{ "authentication_error", 401 },
		{ "permission_error", 403 },
		{ "not_found_error", 404 },
		{ "request_too_large", 413 },
		{ "rate_limit_error", 429 },
		{ "api_error", 500 },
		{ "overloaded_error", 529 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (strcmp(map[i].type, type) == 0)
			return map[i].status;
	return 500;
}

/*
 * A request of the batch that failed: its item goes, and it is retried in a
 * later batch, or its record fails.
 */
static void
item_failed(struct batcher *b, const unsigned char key[SHA256_SIZE], int attempts, bool retryable,
	const char *code, const char *message, long status)
{
	sqlite3_stmt *s = stmt(b, S_ITEM_DEL);

	bind_key(s, 1, key);
	run(b, s);
	if (retryable && attempts <= b->cfg->loop.retries) {
		s = stmt(b, S_RETRY_ADD);
		bind_key(s, 1, key);
		sqlite3_bind_int(s, 2, attempts);
		run(b, s);
		return;
	}
	s = stmt(b, S_OUTCOME_ADD);
	bind_key(s, 1, key);
	sqlite3_bind_text(s, 2, code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, message, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, status);
	sqlite3_bind_int(s, 5, attempts);
	run(b, s);
}

/* An item's error as a synchronous answer with that status and body would be classed. */
static void
item_error(struct batcher *b, const unsigned char key[SHA256_SIZE], int attempts, long status,
	jv body)
{
	struct http_transfer t = { .status = status, .result = CURLE_OK };
	struct failure f = { 0 };
	jv dumped = jv_dump_string(body, 0);

	buf_puts(&t.response, jv_string_value(dumped));
	jv_free(dumped);
	classify_failure(b->model->provider, &t, &f);
	redact_secret(&f.message, b->key);
	item_failed(b, key, attempts, f.step == STEP_RETRY || f.step == STEP_RATE, f.code,
		buf_cstr(&f.message), status);
	buf_free(&f.message);
	buf_free(&t.response);
}

/* A successful item: its answer into the cache, as a batch answer of rb. */
static void
item_answered(struct batcher *b, const struct remote_batch *rb,
	const unsigned char key[SHA256_SIZE], int attempts, jv message)
{
	struct llm_answer a = { 0 };
	struct buf text = BUF_INIT, m = BUF_INIT;
	char code[64];
	jv dumped = jv_dump_string(message, 0), llm;
	sqlite3_stmt *s;

	buf_puts(&text, jv_string_value(dumped));
	jv_free(dumped);
	if (parse_answer(b->model->provider->dialect, text.data, text.len, &a, code, sizeof(code),
		    &m) != ANSWER_OK) {
		item_failed(b, key, attempts, true, ERR_BAD_RESPONSE, "the answer is not the API's",
			200);
		goto out;
	}
	llm = llm_answer_value(b->cfg, 0, &a);
	if (!jv_is_valid(llm)) {
		jv_free(llm);
		s = stmt(b, S_ITEM_DEL);
		bind_key(s, 1, key);
		run(b, s);
		s = stmt(b, S_OUTCOME_ADD);
		bind_key(s, 1, key);
		sqlite3_bind_text(s, 2, ERR_BAD_JSON_OUTPUT, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, LLM_NOT_JSON, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 4, 200);
		sqlite3_bind_int(s, 5, attempts);
		bind_text(s, 6, a.content.data, a.content.len);
		run(b, s);
		goto out;
	}
	llm = jv_object_set(llm, jv_string("batch"), jv_true());
	llm = jv_object_set(llm, jv_string("batch_id"), jv_string(rb->remote_id));
	dumped = jv_dump_string(llm, 0);
	if (db_cache_put(b->db, CACHE_TABLE, key, jv_string_value(dumped),
		    (size_t)jv_string_length_bytes(jv_copy(dumped))) != 0)
		stop(b, EXIT_IOERR, NULL);
	jv_free(dumped);
	s = stmt(b, S_ANSWERED_ADD);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)((double)time(NULL) - rb->created) * 1000);
	bind_key(s, 2, key);
	run(b, s);
out:
	buf_free(&a.content);
	buf_free(&text);
	buf_free(&m);
}

/* One line of a results file. Returns whether it named an item of rb still out. */
static bool
result_line(struct batcher *b, const struct remote_batch *rb, const char *line, size_t len)
{
	jv r = jv_parse_sized(line, (int)len);
	unsigned char key[SHA256_SIZE];
	sqlite3_stmt *s;
	int attempts;
	bool mine = false;

	if (jv_get_kind(r) != JV_KIND_OBJECT || key_of_custom_id(str(r, "custom_id"), key) != 0)
		goto out;
	s = stmt(b, S_ITEM_ATTEMPTS);
	bind_key(s, 1, key);
	sqlite3_bind_int64(s, 2, rb->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		goto out; /* read by an earlier run, or not ours */
	}
	attempts = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	mine = true;
	if (b->api == BATCH_ANTHROPIC) {
		jv result = jv_object_get(jv_copy(r), jv_string("result"));
		const char *type = str(result, "type");

		if (strcmp(type, "succeeded") == 0) {
			item_answered(b, rb, key, attempts,
				jv_object_get(jv_copy(result), jv_string("message")));
		} else if (strcmp(type, "errored") == 0) {
			jv err = jv_object_get(jv_copy(result), jv_string("error"));
			jv inner = jv_object_get(jv_copy(err), jv_string("error"));

			item_error(b, key, attempts, status_of_error_type(str(inner, "type")),
				jv_copy(err));
			jv_free(inner);
			jv_free(err);
		} else { /* canceled, expired: not tried; a later batch tries it */
			item_failed(b, key, attempts, true,
				strcmp(type, "expired") == 0 ? "batch_expired" : "batch_cancelled",
				strcmp(type, "expired") == 0
					? "the batch expired before this request"
					: "the batch was cancelled",
				0);
		}
		jv_free(result);
	} else {
		jv response = jv_object_get(jv_copy(r), jv_string("response"));
		jv err = jv_object_get(jv_copy(r), jv_string("error"));
		long status = (long)num(response, "status_code");

		if (status == 200) {
			item_answered(b, rb, key, attempts,
				jv_object_get(jv_copy(response), jv_string("body")));
		} else if (status > 0) {
			item_error(b, key, attempts, status,
				jv_object_get(jv_copy(response), jv_string("body")));
		} else {
			const char *code = str(err, "code");
			struct buf m = BUF_INIT;

			buf_puts(&m, *str(err, "message") ? str(err, "message") : code);
			item_failed(b, key, attempts,
				strcmp(code, "batch_expired") == 0 ||
					strcmp(code, "batch_cancelled") == 0,
				*code ? code : ERR_PROVIDER_ERROR, buf_cstr(&m), 0);
			buf_free(&m);
		}
		jv_free(err);
		jv_free(response);
	}
out:
	jv_free(r);
	return mine;
}

/* Read a results file: each line, CHUNK to a transaction. */
static void
read_results(struct batcher *b, const struct remote_batch *rb, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long in_txn = 0;

	rewind(f);
	while (b->stop_code == 0 && (n = getline(&line, &cap, f)) > 0) {
		if (in_txn == 0 && db_begin(b->db) != 0) {
			stop(b, EXIT_IOERR, NULL);
			break;
		}
		if (result_line(b, rb, line, (size_t)n) && ++in_txn >= CHUNK) {
			if (db_commit(b->db) != 0)
				stop(b, EXIT_IOERR, NULL);
			in_txn = 0;
		}
	}
	if (ferror(f))
		stop(b, EXIT_IOERR, "cannot read a batch's results from its temporary file");
	if (db_in_transaction(b->db) && db_commit(b->db) != 0)
		stop(b, EXIT_IOERR, NULL);
	free(line);
}

/* Download path into f and read it. Returns 0, or -1 (the run stops, or the file is gone). */
static int
download(struct batcher *b, const struct remote_batch *rb, const char *path, const char *what)
{
	struct http_transfer *t = http_transfer_new();
	FILE *f = tmpfile();
	int rc = -1;

	if (f == NULL)
		die(EXIT_CANTCREAT, "cannot create a temporary file for the results:");
	address(b, t, path, false);
	t->response_file = f;
	t->timeout_ms = long_timeout(b);
	switch (call(b, t, what)) {
	case CALL_OK:
		if (fflush(f) != 0)
			stop(b, EXIT_IOERR, "cannot write a batch's results to a temporary file");
		read_results(b, rb, f);
		rc = b->stop_code == 0 ? 0 : -1;
		break;
	case CALL_NOT_FOUND:
	case CALL_REFUSED:
		stop(b, EXIT_UNAVAILABLE, NULL);
		break;
	case CALL_STOPPED:
	case CALL_UNSENT:
		break;
	}
	http_transfer_free(t);
	fclose(f);
	return rc;
}

/*
 * Requests of rb its results did not name: tried again in a later batch,
 * unless the provider failed the whole batch (bs->why).
 */
static void
leftovers(struct batcher *b, const struct remote_batch *rb, const struct batch_status *bs)
{
	sqlite3_stmt *s = stmt(b, S_ITEMS_LEFT);
	struct buf keys = BUF_INIT;
	struct buf attempts = BUF_INIT;

	sqlite3_bind_int64(s, 1, rb->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int a = sqlite3_column_int(s, 1);

		buf_add(&keys, sqlite3_column_blob(s, 0), SHA256_SIZE);
		buf_add(&attempts, &a, sizeof(a));
	}
	sqlite3_reset(s);
	if (db_begin(b->db) != 0) {
		stop(b, EXIT_IOERR, NULL);
		goto out;
	}
	for (size_t i = 0; i * SHA256_SIZE < keys.len; i++) {
		const unsigned char *key = (const unsigned char *)keys.data + i * SHA256_SIZE;
		int a;

		memcpy(&a, attempts.data + i * sizeof(a), sizeof(a));
		if (bs->why[0] != '\0')
			item_failed(b, key, a, false, "batch_failed", bs->why, 0);
		else
			item_failed(b, key, a, true, "batch_incomplete",
				"the batch ended without a result for this request", 0);
	}
	set_state(b, rb->id, "collected", false, true);
	if (db_commit(b->db) != 0)
		stop(b, EXIT_IOERR, NULL);
out:
	buf_free(&keys);
	buf_free(&attempts);
}

/* --- polling --------------------------------------------------------------------- */

/* The status of rb. Returns 0, or -1 (the run stops, or the batch is unknown: dropped). */
static int
look(struct batcher *b, const struct remote_batch *rb, struct batch_status *bs)
{
	struct http_transfer *t = http_transfer_new();
	struct buf path = BUF_INIT;
	jv o, counts;
	int rc = -1;

	batch_path(b, rb, &path);
	address(b, t, buf_cstr(&path), false);
	*bs = (struct batch_status){ .total = rb->items };
	switch (call(b, t, "polling the batch")) {
	case CALL_OK:
		rc = 0;
		break;
	case CALL_NOT_FOUND:
		/* The provider forgot it (deleted, or another account): its requests go out again.
		 */
		warn("batch %s is unknown to the provider: its requests go in a new batch",
			rb->remote_id);
		drop_batch(b, rb->id);
		break;
	case CALL_REFUSED:
		stop(b, EXIT_UNAVAILABLE, NULL);
		break;
	case CALL_STOPPED:
	case CALL_UNSENT:
		break;
	}
	if (rc != 0) {
		http_transfer_free(t);
		buf_free(&path);
		return rc;
	}
	o = jv_parse_sized(t->response.data ? t->response.data : "", (int)t->response.len);
	counts = jv_object_get(jv_copy(o), jv_string("request_counts"));
	if (b->api == BATCH_ANTHROPIC) {
		snprintf(bs->state, sizeof(bs->state), "%s", str(o, "processing_status"));
		bs->ended = strcmp(bs->state, "ended") == 0;
		bs->done = (long)num(counts, "succeeded");
		bs->failed = (long)(num(counts, "errored") + num(counts, "canceled") +
			num(counts, "expired"));
	} else {
		snprintf(bs->state, sizeof(bs->state), "%s", str(o, "status"));
		bs->ended = strcmp(bs->state, "completed") == 0 ||
			strcmp(bs->state, "failed") == 0 || strcmp(bs->state, "expired") == 0 ||
			strcmp(bs->state, "cancelled") == 0;
		bs->done = (long)num(counts, "completed");
		bs->failed = (long)num(counts, "failed");
		snprintf(bs->output, sizeof(bs->output), "%s", str(o, "output_file_id"));
		snprintf(bs->errors, sizeof(bs->errors), "%s", str(o, "error_file_id"));
		if (strcmp(bs->state, "failed") == 0) {
			jv errors = jv_object_get(jv_copy(o), jv_string("errors"));
			jv data = jv_object_get(jv_copy(errors), jv_string("data"));
			jv first = jv_get_kind(data) == JV_KIND_ARRAY
				? jv_array_get(jv_copy(data), 0)
				: jv_invalid();

			snprintf(bs->why, sizeof(bs->why), "the provider failed the batch: %s",
				*str(first, "message") ? str(first, "message") : "no reason given");
			jv_free(first);
			jv_free(data);
			jv_free(errors);
		}
	}
	if (bs->state[0] == '\0') {
		stop(b, EXIT_UNAVAILABLE, "polling the batch: the answer has no status");
		rc = -1;
	}
	jv_free(counts);
	jv_free(o);
	http_transfer_free(t);
	buf_free(&path);
	return rc;
}

/* Download and read the results of rb, which has ended. */
static void
collect(struct batcher *b, const struct remote_batch *rb, const struct batch_status *bs)
{
	struct buf path = BUF_INIT;

	if (b->api == BATCH_ANTHROPIC) {
		/* Built from the base, not the answer's results_url: the key goes nowhere else. */
		batch_path(b, rb, &path);
		buf_puts(&path, "/results");
		if (download(b, rb, buf_cstr(&path), "downloading the results") != 0)
			goto out;
	} else {
		const char *files[2] = { bs->output, bs->errors };

		for (size_t i = 0; i < 2; i++) {
			if (files[i][0] == '\0')
				continue;
			buf_reset(&path);
			buf_puts(&path, "/files/");
			url_encode(&path, files[i], strlen(files[i]));
			buf_puts(&path, "/content");
			if (download(b, rb, buf_cstr(&path),
				    i == 0 ? "downloading the results"
					   : "downloading the errors") != 0)
				goto out;
		}
	}
	leftovers(b, rb, bs);
	if (!b->cfg->loop.quiet) {
		struct buf m = BUF_INIT;

		buf_printf(&m, "batch %s %s: %ld done, %ld failed, after ", rb->remote_id,
			bs->state, bs->done, bs->failed);
		add_age(&m, (double)time(NULL) - rb->created);
		warn("%s", buf_cstr(&m));
		buf_free(&m);
	}
out:
	buf_free(&path);
}

/* Publish the counts (progress.h): what the batches hold is in flight. */
static void
publish(struct batcher *b)
{
	const struct counts *c = &b->counts;
	struct stage_counts *p = &b->progress.counts;

	p->read = c->records;
	p->done = c->ok + c->failed;
	p->failed = c->failed;
	p->cached = c->cached;
	p->in_flight = c->records - p->done;
	if (b->cfg->loop.total > 0 && !(p->flags & STAGE_INPUT_DONE))
		p->total = b->cfg->loop.total;
	progress_publish(&b->progress);
}

/* --- records -------------------------------------------------------------------------- */

/* Keep a record (its line, or its request's key) in pending, in input order. */
static void
keep(struct batcher *b, const unsigned char *key, jv record, const char *line, size_t len)
{
	sqlite3_stmt *s = stmt(b, S_PENDING_ADD);
	jv dumped;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)b->next_seq++);
	if (key != NULL)
		bind_key(s, 2, key);
	if (jv_is_valid(record)) {
		dumped = jv_dump_string(jv_copy(record), 0);
		bind_text(s, 3, jv_string_value(dumped),
			(size_t)jv_string_length_bytes(jv_copy(dumped)));
		jv_free(dumped);
	}
	if (line != NULL)
		bind_text(s, 4, line, len);
	run(b, s);
}

/* A finished record (consumed): written now, or kept for its turn with --keep-order. */
static void
finished(struct batcher *b, jv record)
{
	struct buf line = BUF_INIT;

	record_dump(&line, record);
	if (b->cfg->loop.keep_order)
		keep(b, NULL, jv_invalid(), line.data, line.len);
	else
		out_write(line.data, line.len);
	b->progress.counts.written += !b->cfg->loop.keep_order;
	buf_free(&line);
}

/* Render rec's request; fills key and lj. Returns 0, or -1 after the record failed. */
static int
prepare(struct batcher *b, jv *rec, struct llm_job *lj, unsigned char key[SHA256_SIZE])
{
	struct buf err = BUF_INIT;

	if (llm_render(b->cfg, *rec, lj, &err) != 0) {
		*rec = record_fail(*rec,
			&(struct record_error){ ERR_TEMPLATE, buf_cstr(&err), NULL, 0, 0, 0 });
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	llm_build(b->cfg, lj, 0, key);
	return 0;
}

/* Whether key's answer came from a batch and no record with it was written yet: it bills. */
static bool
answered_unwritten(struct batcher *b, const unsigned char key[SHA256_SIZE])
{
	sqlite3_stmt *s = stmt(b, S_ITEM_ANSWERED);

	bind_key(s, 1, key);
	return number(b, s) == 1;
}

/* A record from the input. */
static void
take(struct batcher *b, jv rec)
{
	struct llm_job *lj;
	unsigned char key[SHA256_SIZE];
	struct buf cached = BUF_INIT;
	int found;

	b->counts.records++;
	if (record_failed(rec)) { /* failed upstream: goes through untouched */
		b->counts.failed++;
		finished(b, rec);
		return;
	}
	lj = llm_job_new();
	if (prepare(b, &rec, lj, key) != 0) {
		b->counts.failed++;
		netloop_count_code(&b->counts.codes, ERR_TEMPLATE);
		finished(b, rec);
	} else if ((found = db_cache_get(b->db, CACHE_TABLE, key, &cached)) == 1 &&
		!b->cfg->loop.keep_order && !answered_unwritten(b, key)) {
		jv llm = jv_parse_sized(cached.data, (int)cached.len);

		b->counts.ok++;
		b->counts.cached++;
		finished(b, record_set(rec, b->cfg->loop.into, llm_run_fields(llm, 0, 0, true)));
	} else if (found < 0) {
		stop(b, EXIT_IOERR, NULL);
		jv_free(rec);
	} else {
		keep(b, key, rec, NULL, 0);
		if (found == 0)
			add_request(b, key, lj, 1);
		jv_free(rec);
	}
	buf_free(&cached);
	llm_job_free(lj);
}

/* Read every input record. */
static void
read_input(struct batcher *b)
{
	struct input in;
	struct jsonl_reader jr;
	enum jsonl_status st = JSONL_IOERR;
	jv rec;

	if (input_open(&in, "-") != 0)
		die(EXIT_NOINPUT, "cannot read standard input:");
	jsonl_init(&jr, &in, JSONL_MAX_LINE);
	while (b->stop_code == 0 && (st = jsonl_next(&jr, &rec)) != JSONL_EOF) {
		if (netloop_stop_requested()) {
			if (st == JSONL_RECORD || st == JSONL_BAD)
				jv_free(rec);
			stop(b, EXIT_TEMPFAIL, NULL);
			break;
		}
		if (st == JSONL_IOERR) {
			warn("read error on standard input:");
			stop(b, EXIT_IOERR, NULL);
			break;
		}
		if (st == JSONL_BAD) {
			b->counts.records++;
			b->counts.failed++;
			netloop_count_code(&b->counts.codes, ERR_BAD_INPUT);
			finished(b, rec);
			if (b->cfg->loop.strict) {
				warn("%s:%lu: stopping at a malformed line (--strict)", in.name,
					jsonl_lineno(&jr));
				b->stopped_at_bad_line = true;
				break;
			}
			continue;
		}
		take(b, rec);
		if (b->counts.records % 1024 == 0)
			out_flush();
		publish(b);
	}
	if (st == JSONL_EOF) {
		b->progress.counts.total = b->counts.records;
		b->progress.counts.flags |= STAGE_INPUT_DONE;
	}
	publish(b);
	jsonl_free(&jr);
	input_close(&in);
}

/* Records whose request is out nowhere (a failed item to retry, a dropped batch): into the open
 * batch. */
static void
requeue(struct batcher *b)
{
	sqlite3_stmt *s = stmt(b, S_REQUEUE), *q = b->st[S_PENDING_RECORD];
	struct buf seqs = BUF_INIT;

	/* Read them first: add_request may submit, which writes the tables read here. */
	while (sqlite3_step(s) == SQLITE_ROW) {
		sqlite3_int64 seq = sqlite3_column_int64(s, 0);

		buf_add(&seqs, &seq, sizeof(seq));
	}
	sqlite3_reset(s);
	for (size_t i = 0; i * sizeof(sqlite3_int64) < seqs.len && b->stop_code == 0; i++) {
		sqlite3_int64 seq;
		struct llm_job *lj;
		unsigned char key[SHA256_SIZE];
		jv rec;
		int attempts = 1;

		memcpy(&seq, seqs.data + i * sizeof(seq), sizeof(seq));
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, seq);
		if (sqlite3_step(q) != SQLITE_ROW)
			continue;
		rec = jv_parse((const char *)sqlite3_column_text(q, 0));
		sqlite3_reset(q);
		lj = llm_job_new();
		if (prepare(b, &rec, lj, key) == 0) {
			sqlite3_stmt *r = stmt(b, S_RETRY_GET);

			bind_key(r, 1, key);
			if (sqlite3_step(r) == SQLITE_ROW)
				attempts = sqlite3_column_int(r, 0) + 1;
			sqlite3_reset(r);
			add_request(b, key, lj, attempts);
		}
		jv_free(rec);
		llm_job_free(lj);
	}
	buf_free(&seqs);
}

/* The line of a pending record that is resolved: its answer, or its _error. */
static void
resolved_line(struct batcher *b, sqlite3_stmt *s, struct buf *line)
{
	jv rec = jv_parse((const char *)sqlite3_column_text(s, 2));

	if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
		const char *code = (const char *)sqlite3_column_text(s, 4);

		if (sqlite3_column_type(s, 8) != SQLITE_NULL)
			rec = llm_raw_output(rec, (const char *)sqlite3_column_text(s, 8),
				(size_t)sqlite3_column_bytes(s, 8));
		rec = record_fail(rec,
			&(struct record_error){ code, (const char *)sqlite3_column_text(s, 5), NULL,
				0, (long)sqlite3_column_int64(s, 6), sqlite3_column_int(s, 7) });
		b->counts.failed++;
		netloop_count_code(&b->counts.codes, code);
		if (record_held_back(code))
			b->counts.held_back++;
	} else {
		jv llm = jv_parse((const char *)sqlite3_column_text(s, 11));
		bool first = false;

		if (sqlite3_column_type(s, 9) != SQLITE_NULL) {
			sqlite3_stmt *e = stmt(b, S_EMITTED_ADD);

			sqlite3_bind_blob(e, 1, sqlite3_column_blob(s, 1), SHA256_SIZE,
				SQLITE_TRANSIENT);
			run(b, e);
			first = sqlite3_changes(b->sq) > 0;
		}
		/*
		 * Paid once: the first record written with an answered item's
		 * answer bills it, and the item goes; its copies, and records
		 * of answers written before, are replays.
		 */
		if (first) {
			sqlite3_stmt *d = stmt(b, S_ITEM_DEL);

			sqlite3_bind_blob(d, 1, sqlite3_column_blob(s, 1), SHA256_SIZE,
				SQLITE_TRANSIENT);
			run(b, d);
		}
		llm = first ? llm_run_fields(llm, (double)sqlite3_column_int64(s, 9),
				      sqlite3_column_int(s, 10), false)
			    : llm_run_fields(llm, 0, 0, true);
		b->counts.ok++;
		if (!first)
			b->counts.cached++;
		rec = record_set(rec, b->cfg->loop.into, llm);
	}
	record_dump(line, rec);
}

/*
 * Write the pending records that are resolved (with --keep-order, only the
 * leading ones), EMIT_CHUNK at a time: their rows (and the items they
 * bill) leave the database in a transaction committed just before the
 * chunk is written.
 */
static void
emit(struct batcher *b)
{
	sqlite3_int64 after = -1;
	struct buf chunk = BUF_INIT;
	bool more = true;

	while (more) { /* also once the run stops: what is resolved is written */
		sqlite3_stmt *s = stmt(b, S_EMIT), *d;
		long n = 0;

		more = false;
		sqlite3_bind_int64(s, 1, after);
		if (db_begin(b->db) != 0) {
			stop(b, EXIT_IOERR, NULL);
			break;
		}
		while (sqlite3_step(s) == SQLITE_ROW) {
			bool ready = sqlite3_column_type(s, 3) != SQLITE_NULL ||
				sqlite3_column_type(s, 4) != SQLITE_NULL ||
				sqlite3_column_type(s, 11) != SQLITE_NULL;

			after = sqlite3_column_int64(s, 0);
			if (!ready) {
				if (b->cfg->loop.keep_order)
					break;
				continue;
			}
			if (sqlite3_column_type(s, 3) != SQLITE_NULL)
				buf_add(&chunk, sqlite3_column_text(s, 3),
					(size_t)sqlite3_column_bytes(s, 3));
			else
				resolved_line(b, s, &chunk);
			d = stmt(b, S_PENDING_DEL);
			sqlite3_bind_int64(d, 1, after);
			run(b, d); /* deleting the row a SELECT stands on is safe in SQLite */
			if (++n == EMIT_CHUNK) {
				more = true;
				break;
			}
		}
		sqlite3_reset(s);
		if (db_commit(b->db) != 0) {
			stop(b, EXIT_IOERR, NULL);
			break;
		}
		out_write(chunk.data, chunk.len);
		b->progress.counts.written += n;
		publish(b);
		buf_reset(&chunk);
		out_flush();
	}
	buf_free(&chunk);
}

/*
 * The run stops: every record not written leaves as an _error, naming the
 * batch its request is still out in (interrupted) or saying it was not
 * sent; the batches left running are named once more on stderr.
 */
static void
abandon(struct batcher *b)
{
	sqlite3_stmt *s = stmt(b, S_INTERRUPTED), *q = b->st[S_FAIL_PENDING];
	struct buf m = BUF_INIT;
	struct strset named = STRSET_INIT;

	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *batch = (const char *)sqlite3_column_text(s, 1);
		const char *base = (const char *)sqlite3_column_text(s, 2);
		bool here = base == NULL || strcmp(base, b->endpoint->base) == 0;

		buf_reset(&m);
		if (batch == NULL) {
			buf_puts(&m, "the run stopped before this record was sent");
		} else {
			buf_printf(&m, "in batch %s", batch);
			if (!here)
				buf_printf(&m, " at %s", base);
			buf_printf(&m, ", still running at the provider: rerun %s to collect it",
				here ? "the same command" : "with that --base-url");
			if (strset_add(&named, batch, strlen(batch)))
				warn("batch %s is left running; rerun %s to collect it", batch,
					here ? "the same command"
					     : "with --base-url where it runs");
		}
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, batch != NULL ? ERR_INTERRUPTED : ERR_NOT_SENT, -1,
			SQLITE_STATIC);
		sqlite3_bind_text(q, 2, buf_cstr(&m), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 3, sqlite3_column_int64(s, 0));
		if (run(b, q) != 0)
			break;
	}
	sqlite3_reset(s);
	buf_free(&m);
	strset_free(&named);
}

/* --- the run -------------------------------------------------------------------------- */

/* Wait for the batches the pending records need, collecting each as it ends. */
static void
wait_for_batches(struct batcher *b)
{
	while (b->stop_code == 0 && number(b, stmt(b, S_PENDING_LEFT)) > 0) {
		sqlite3_stmt *s;
		struct remote_batch rbs[16];
		size_t n = 0;
		bool any_ended = false;

		requeue(b);
		submit(b);
		s = stmt(b, S_BATCHES_NEEDED);
		sqlite3_bind_text(s, 1, b->model->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, b->endpoint->base, -1, SQLITE_STATIC);
		while (n < sizeof(rbs) / sizeof(*rbs) && sqlite3_step(s) == SQLITE_ROW)
			batch_of_row(s, &rbs[n++]);
		sqlite3_reset(s);
		for (size_t i = 0; i < n && b->stop_code == 0; i++) {
			struct batch_status bs;

			if (look(b, &rbs[i], &bs) != 0)
				continue;
			if (bs.ended) {
				collect(b, &rbs[i], &bs);
				any_ended = true;
			} else {
				publish(b);
			}
		}
		emit(b);
		if (n == 0 && number(b, stmt(b, S_PENDING_LEFT)) > 0) {
			/* nothing out, nothing to send: what is left waits for nothing */
			requeue(b);
			if (b->open.count == 0)
				break;
			continue;
		}
		if (!any_ended && b->stop_code == 0)
			nap((double)b->cfg->batch_opt.poll_ms);
		if (netloop_stop_requested())
			stop(b, EXIT_TEMPFAIL, NULL);
	}
}

/* Ask the provider to cancel rb; one that has ended already refuses (400), and is collected all the
 * same. */
static void
cancel_one(struct batcher *b, const struct remote_batch *rb)
{
	struct http_transfer *t = http_transfer_new();
	struct buf path = BUF_INIT;

	batch_path(b, rb, &path);
	buf_puts(&path, "/cancel");
	address(b, t, buf_cstr(&path), false);
	t->post = true;
	call(b, t, "cancelling the batch");
	http_transfer_free(t);
	buf_free(&path);
}

/* --cancel: cancel this model's submitted batches, wait for them to end, keep what they did. */
static void
cancel_all(struct batcher *b)
{
	struct remote_batch rbs[64];
	size_t n, pages = 0;

	/* A page at a time: each batch collected or dropped leaves the query's answer. */
	do {
		sqlite3_stmt *s = stmt(b, S_BATCHES_UNFINISHED);
		size_t fetched;

		n = 0;
		sqlite3_bind_text(s, 1, b->model->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, b->endpoint->base, -1, SQLITE_STATIC);
		while (n < sizeof(rbs) / sizeof(*rbs) && sqlite3_step(s) == SQLITE_ROW)
			if (strcmp((const char *)sqlite3_column_text(s, 4), "submitted") == 0)
				batch_of_row(s, &rbs[n++]);
		sqlite3_reset(s);
		if (n == 0 && pages == 0 && !b->cfg->loop.quiet)
			warn("no unfinished batch of %s in '%s'", b->model->id, db_path(b->db));
		pages++;
		fetched = n;
		for (size_t i = 0; i < n && b->stop_code == 0; i++)
			cancel_one(b, &rbs[i]);
		/* Then wait for them all, keeping each one's answers as it ends. */
		while (b->stop_code == 0 && n > 0) {
			for (size_t i = 0; i < n && b->stop_code == 0;) {
				struct batch_status bs;

				if (look(b, &rbs[i], &bs) != 0) {
					rbs[i] = rbs[--n]; /* unknown to the provider: dropped */
					continue;
				}
				if (!bs.ended) {
					publish(b);
					i++;
					continue;
				}
				collect(b, &rbs[i],
					&bs); /* what the cancel stopped is not retried */
				b->counts.batches++;
				rbs[i] = rbs[--n];
			}
			if (n > 0)
				nap((double)b->cfg->batch_opt.poll_ms);
			if (netloop_stop_requested())
				stop(b, EXIT_TEMPFAIL, NULL);
		}
		n = fetched;
	} while (n == sizeof(rbs) / sizeof(*rbs) && b->stop_code == 0);
}

/* The key check, before any input: the model list, as without --batch; a refused key stops (77). */
static void
check_key(struct batcher *b)
{
	struct http_transfer *t = http_transfer_new();

	if (check_request(b->model, b->endpoint, b->key, t)) {
		switch (call(b, t, "the key check")) {
		case CALL_OK:
		case CALL_STOPPED:
		case CALL_UNSENT:
			break;
		case CALL_NOT_FOUND:
		case CALL_REFUSED:
			stop(b, EXIT_UNAVAILABLE, "the key check failed (--no-check skips it)");
			break;
		}
	}
	http_transfer_free(t);
}

/* Publish the stage as its model and field, in batches. */
static void
start_progress(struct batcher *b)
{
	struct buf detail = BUF_INIT;

	buf_printf(&detail, "%s -> .%s, batch", b->model->id, b->cfg->loop.into);
	progress_start(&b->progress, b->cfg->loop.progress, b->cfg->loop.quiet, buf_cstr(&detail),
		b->cfg->loop.db_path);
	buf_free(&detail);
}

static int
setup(struct batcher *b, struct llm_config *cfg)
{
	struct http_options ho = { .max_connections = 2, .cacert = cfg->loop.cacert };
	int code;
	char *errmsg = NULL;

	b->cfg = cfg;
	b->model = &cfg->models[0];
	b->endpoint = &cfg->endpoints[0];
	b->key = cfg->keys[0];
	b->api = b->model->provider->batch;
	b->size = cfg->batch_opt.size > 0 ? cfg->batch_opt.size : batch_max_requests(b->api);
	b->max_bytes = batch_max_bytes(b->api);
	b->rng = (cfg->loop.seed * 0x9E3779B97F4A7C15ULL + (unsigned long long)clock_ms()) | 1;
	if ((b->db = db_open(cfg->loop.db_path, &code)) == NULL)
		return code;
	b->sq = db_sqlite(b->db);
	if (db_cache_table(b->db, CACHE_TABLE) != 0 ||
		db_schema(b->db, "llm_batch", schema, sizeof(schema) / sizeof(*schema)) != 0)
		return EXIT_CANTCREAT;
	if (sqlite3_exec(b->sq, temp_tables, NULL, NULL, &errmsg) != SQLITE_OK) {
		error("run database '%s': %s", db_path(b->db), errmsg ? errmsg : "");
		sqlite3_free(errmsg);
		return EXIT_CANTCREAT;
	}
	if (db_prepare_all(b->db, sql, b->st, NSTMT) != 0) {
		error("run database '%s': %s", db_path(b->db), sqlite3_errmsg(b->sq));
		return EXIT_SOFTWARE;
	}
	if (cfg->loop.budget_micro >= 0) {
		int64_t pico;

		if ((b->ledger = ledger_open(b->db)) == NULL)
			return EXIT_CANTCREAT;
		b->prices =
			prices_with_files(cfg->batch_opt.price_files, cfg->batch_opt.nprice_files);
		pricer_init(&b->pricer, b->prices, 0, cfg->loop.into, "search", true);
		if (price_tokens(&b->pricer, b->model->provider->name, b->model->model, 1, 1, true,
			    &pico) != 0)
			die(EXIT_CONFIG,
				"--budget with --batch needs the price of %s to estimate a batch: "
				"give "
				"--prices FILE (LiteLLM's format)",
				b->model->id);
	}
	if (cfg->loop.log_path != NULL && (b->log = fopen(cfg->loop.log_path, "a")) == NULL)
		die(EXIT_CANTCREAT, "cannot open the log '%s':", cfg->loop.log_path);
	b->http = http_new(&ho);
	start_progress(b);
	return 0;
}

static void
teardown(struct batcher *b)
{
	for (int i = 0; i < NSTMT; i++)
		sqlite3_finalize(b->st[i]);
	ledger_close(b->ledger);
	if (b->prices != NULL) {
		pricer_free(&b->pricer);
		prices_free(b->prices);
	}
	if (b->db != NULL && db_close(b->db) != 0 && b->stop_code == 0)
		b->stop_code = EXIT_IOERR;
	http_free(b->http);
	if (b->log != NULL && fclose(b->log) != 0)
		warn("cannot close the log '%s':", b->cfg->loop.log_path);
	if (b->open.file != NULL)
		fclose(b->open.file);
	buf_free(&b->counts.codes);
}

static void
print_summary(struct batcher *b)
{
	const struct counts *c = &b->counts;
	struct buf line = BUF_INIT;

	if (b->cfg->batch_opt.cancel) {
		warn("%llu batches cancelled and collected, %llu requests in %.1f s", c->batches,
			c->requests, progress_elapsed(&b->progress));
		return;
	}
	buf_printf(&line, "%llu records, %llu ok (%llu cached), %llu failed", c->records, c->ok,
		c->cached, c->failed);
	netloop_add_codes(&line, &c->codes);
	buf_printf(&line, "; %llu batches submitted, %llu requests in %.1f s", c->batches,
		c->requests, progress_elapsed(&b->progress));
	warn("%s", buf_cstr(&line));
	buf_free(&line);
}

int
batch_run(struct llm_config *cfg)
{
	struct batcher b = { 0 };
	int rc = setup(&b, cfg);

	if (rc != 0) {
		teardown(&b);
		return rc;
	}
	if (cfg->loop.check)
		check_key(&b);
	if (b.stop_code == 0)
		recover_all(&b);
	/* a run killed between a batch's last results and its state left it submitted */
	run(&b, stmt(&b, S_BATCHES_SETTLED));
	if (cfg->batch_opt.cancel) {
		cancel_all(&b);
	} else {
		if (b.stop_code == 0)
			read_input(&b);
		submit(&b);
		emit(&b);
		wait_for_batches(&b);
		abandon(&b); /* what is left (a stop) leaves as _error */
		emit(&b);
	}
	progress_end(&b.progress);
	if (!cfg->loop.quiet)
		print_summary(&b);
	rc = b.stop_code != 0 ? b.stop_code
		: b.counts.held_back > 0
		? EXIT_TEMPFAIL
		: recloop_status(cfg->loop.strict, b.stopped_at_bad_line, b.counts.failed);
	teardown(&b);
	return rc;
}
