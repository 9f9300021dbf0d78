/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Batches (tests/mock/README): OpenAI's Files and Batch APIs and
 * Anthropic's Message Batches. A batch's items are answered when it is
 * created, by the synchronous routes' own function (mock_chat); what the
 * batch shows of them is a function of the time since: its status moves
 * on over --batch-time seconds, its items finish one by one in a shuffled
 * order, and a cancel or --batch-expire stops it part way. Everything is
 * kept in memory under fixed caps.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json.h"
#include "mock.h"
#include "util.h"

#define MAX_FILES 256
#define MAX_BATCHES 256
#define MAX_ITEMS 50000
#define MAX_STORED (256L * 1024 * 1024) /* bytes of files and answers, all batches */
#define MAX_METADATA 16                 /* OpenAI: pairs of a batch's metadata */
#define MAX_METADATA_KEY 64             /* characters of a key */
#define MAX_METADATA_VALUE 512          /* characters of a value */

struct file {
	char id[32];
	char *name;
	char purpose[32];
	struct buf data;
	long created; /* Unix time */
};

enum outcome { O_OK, O_FAILED, O_EXPIRED, O_CANCELLED };

struct item {
	char *custom_id;
	int status;         /* of its answer */
	struct buf answer;  /* the answer's body */
	enum outcome final; /* set when the batch ends */
};

struct batch {
	char id[40];
	bool anthropic;
	char input_file_id[32];
	double created_ms;
	long created;     /* Unix time */
	double cancel_ms; /* < 0: not cancelled */
	long cancel_at;
	bool expire;
	struct item *items;
	size_t n;
	size_t *order; /* the order in which the items finish */
	bool ended;    /* the outcomes are set and the results written */
	char output_file_id[32], error_file_id[32];
	struct buf results;  /* Anthropic's JSONL results */
	struct buf metadata; /* OpenAI: the metadata as a JSON object; empty: null */
};

struct batch_store {
	struct file *files[MAX_FILES];
	size_t nfiles;
	struct batch *batches[MAX_BATCHES];
	size_t nbatches;
	long stored; /* bytes */
	unsigned long next_id;
};

/* The context of one answer. */
struct bctx {
	struct mock *m;
	struct batch_store *st;
	const struct request *req;
	double now_ms;
	struct response *resp;
	char *message;
	size_t size;
};

/* Set the error message (printf format); returns status. */
static int __attribute__((format(printf, 3, 4)))
fail(struct bctx *x, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->message, x->size, fmt, ap);
	va_end(ap);
	return status;
}

/* The store, created on first use. */
static struct batch_store *
store(struct mock *m)
{
	if (m->batches == NULL)
		m->batches = xcalloc(1, sizeof(*m->batches));
	return m->batches;
}

/* Free a file and its bytes (NULL: nothing). */
static void
file_free(struct file *f)
{
	if (f == NULL)
		return;
	free(f->name);
	buf_free(&f->data);
	free(f);
}

/* Free a batch, its items and its results (NULL: nothing). */
static void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->items[i].custom_id);
		buf_free(&b->items[i].answer);
	}
	free(b->items);
	free(b->order);
	buf_free(&b->results);
	buf_free(&b->metadata);
	free(b);
}

void
batch_store_free(struct batch_store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nfiles; i++)
		file_free(st->files[i]);
	for (size_t i = 0; i < st->nbatches; i++)
		batch_free(st->batches[i]);
	free(st);
}

/* The segment of the path after marker ("/files/", "/batches/"), into out. */
static void
path_id(const char *path, const char *marker, char *out, size_t size)
{
	const char *id = strstr(path, marker), *end;

	out[0] = '\0';
	if (id == NULL)
		return;
	id += strlen(marker);
	end = strchr(id, '/');
	if (end == NULL)
		end = id + strlen(id);
	snprintf(out, size, "%.*s", (int)(end - id), id);
}

/* The file with this id, or NULL. */
static struct file *
find_file(struct batch_store *st, const char *id)
{
	for (size_t i = 0; i < st->nfiles; i++)
		if (strcmp(st->files[i]->id, id) == 0)
			return st->files[i];
	return NULL;
}

/* The batch of this kind (OpenAI's or Anthropic's) with this id, or NULL. */
static struct batch *
find_batch(struct batch_store *st, const char *id, bool anthropic)
{
	for (size_t i = 0; i < st->nbatches; i++)
		if (st->batches[i]->anthropic == anthropic && strcmp(st->batches[i]->id, id) == 0)
			return st->batches[i];
	return NULL;
}

/* A new file of len bytes, or NULL when the store is full. */
static struct file *
add_file(struct batch_store *st, const char *name, const char *purpose, const void *data,
	size_t len)
{
	struct file *f;

	if (st->nfiles == MAX_FILES || st->stored + (long)len > MAX_STORED)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "file-mock%06lu", ++st->next_id);
	f->name = xstrdup(name);
	snprintf(f->purpose, sizeof(f->purpose), "%s", purpose);
	buf_add(&f->data, data, len);
	f->created = (long)time(NULL);
	st->stored += (long)len;
	st->files[st->nfiles++] = f;
	return f;
}

/* OpenAI's file object. */
static void
file_object(struct buf *b, const struct file *f)
{
	buf_puts(b, "{\"id\":");
	jw_cstring(b, f->id);
	buf_puts(b, ",\"object\":\"file\",\"bytes\":");
	buf_add_uint(b, f->data.len);
	buf_puts(b, ",\"created_at\":");
	buf_add_uint(b, (unsigned long long)f->created);
	buf_puts(b, ",\"filename\":");
	jw_cstring(b, f->name);
	buf_puts(b, ",\"purpose\":");
	jw_cstring(b, f->purpose);
	buf_puts(b, ",\"status\":\"processed\",\"expires_at\":null,\"status_details\":null}");
}

/* --- multipart/form-data ---------------------------------------------------- */

struct part {
	const char *name, *filename; /* NUL-terminated copies in the part's scratch */
	const char *data;
	size_t len;
	char scratch[512];
};

/* The value of attr="..." in a Content-Disposition line [s, end), into out. */
static bool
disposition_attr(const char *s, const char *end, const char *attr, char *out, size_t size)
{
	size_t n = strlen(attr);

	for (const char *p = s; p + n + 2 <= end; p++) {
		const char *v, *q;

		if (strncasecmp(p, attr, n) != 0 || p[n] != '=' || p[n + 1] != '"' ||
			(p > s && p[-1] != ' ' && p[-1] != ';'))
			continue;
		v = p + n + 2;
		q = memchr(v, '"', (size_t)(end - v));
		if (q == NULL)
			return false;
		snprintf(out, size, "%.*s", (int)(q - v), v);
		return true;
	}
	return false;
}

/*
 * The next part of a multipart body after *pos, delimited by "--boundary";
 * returns false at the end or on malformed input.
 */
static bool
next_part(const char *body, size_t len, const char *delim, size_t *pos, struct part *p)
{
	size_t dlen = strlen(delim);
	const char *s = body + *pos, *end = body + len, *head_end, *next, *line;
	char *name = p->scratch, *filename = p->scratch + 256;

	s = memmem(s, (size_t)(end - s), delim, dlen);
	if (s == NULL || (size_t)(end - s) < dlen + 2 || memcmp(s + dlen, "--", 2) == 0)
		return false;
	s += dlen;
	if (s + 2 > end || memcmp(s, "\r\n", 2) != 0)
		return false;
	s += 2;
	head_end = memmem(s, (size_t)(end - s), "\r\n\r\n", 4);
	if (head_end == NULL)
		return false;
	name[0] = filename[0] = '\0';
	for (line = s; line < head_end;) {
		const char *eol = memmem(line, (size_t)(head_end + 2 - line), "\r\n", 2);

		if (eol == NULL)
			eol = head_end;
		if ((size_t)(eol - line) > 20 &&
			strncasecmp(line, "Content-Disposition:", 20) == 0) {
			disposition_attr(line + 20, eol, "name", name, 256);
			disposition_attr(line + 20, eol, "filename", filename, 256);
		}
		line = eol + 2;
	}
	p->data = head_end + 4;
	next = memmem(p->data, (size_t)(end - p->data), delim, dlen);
	if (next == NULL || next < p->data + 2 || memcmp(next - 2, "\r\n", 2) != 0)
		return false;
	p->len = (size_t)(next - 2 - p->data);
	p->name = name;
	p->filename = filename;
	*pos = (size_t)(next - body);
	return true;
}

/* POST /v1/files: a multipart upload with purpose=batch and a file. */
static int
post_file(struct bctx *x)
{
	const char *ct = request_header(x->req, "Content-Type"), *b;
	char delim[256], purpose[32] = "", name[256] = "";
	struct part p = { 0 };
	const char *data = NULL;
	size_t len = 0, pos = 0;
	struct file *f;

	if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0 ||
		(b = strstr(ct, "boundary=")) == NULL)
		return fail(x, 400, "Expected a multipart/form-data body with a boundary.");
	b += strlen("boundary=");
	if (*b == '"')
		snprintf(delim, sizeof(delim), "--%.*s", (int)strcspn(b + 1, "\""), b + 1);
	else
		snprintf(delim, sizeof(delim), "--%.*s", (int)strcspn(b, "; "), b);
	while (next_part(x->req->body, x->req->body_len, delim, &pos, &p)) {
		if (strcmp(p.name, "purpose") == 0)
			snprintf(purpose, sizeof(purpose), "%.*s", (int)(p.len < 31 ? p.len : 31),
				p.data);
		else if (strcmp(p.name, "file") == 0) {
			data = p.data;
			len = p.len;
			snprintf(name, sizeof(name), "%s", p.filename[0] ? p.filename : "upload");
		}
	}
	if (purpose[0] == '\0')
		return fail(x, 400, "Missing required parameter: 'purpose'.");
	if (strcmp(purpose, "batch") != 0)
		return fail(x, 400, "Invalid value for 'purpose': '%s'; the mock takes 'batch'.",
			purpose);
	if (data == NULL)
		return fail(x, 400, "Missing required parameter: 'file'.");
	if ((f = add_file(x->st, name, purpose, data, len)) == NULL)
		return fail(x, 400, "The mock's file store is full.");
	file_object(&x->resp->body, f);
	return 200;
}

/* GET /v1/files/ID and /v1/files/ID/content. */
static int
get_file(struct bctx *x, bool content)
{
	char id[64];
	struct file *f;

	path_id(x->req->path, "/files/", id, sizeof(id));
	if ((f = find_file(x->st, id)) == NULL)
		return fail(x, 404, "No such File object: %s", id);
	if (content) {
		x->resp->content_type = "application/octet-stream";
		buf_add(&x->resp->body, f->data.data, f->data.len);
	} else {
		file_object(&x->resp->body, f);
	}
	return 200;
}

/* --- the batches' state -------------------------------------------------------- */

enum phase { P_VALIDATING, P_IN_PROGRESS, P_FINALIZING, P_DONE, P_CANCELLING, P_CANCELLED };

/* The batch's phase at now_ms. */
static enum phase
phase_at(const struct mock *m, const struct batch *b, double now_ms)
{
	double t = m->cfg.batch_time * 1000.0, e = now_ms - b->created_ms;

	if (b->cancel_ms >= 0)
		return now_ms < b->cancel_ms + t / 4 ? P_CANCELLING : P_CANCELLED;
	if (e >= t)
		return P_DONE;
	if (b->anthropic)
		return P_IN_PROGRESS;
	if (e < t / 4)
		return P_VALIDATING;
	/* An expiring batch goes from in_progress to expired, not through finalizing. */
	return e < 3 * t / 4 || b->expire ? P_IN_PROGRESS : P_FINALIZING;
}

/*
 * How many items are done at now_ms: they finish evenly over the
 * in_progress phase (OpenAI: its second and third quarters; Anthropic: all
 * of it), up to half of them with --batch-expire, none after a cancel.
 */
static size_t
done_at(const struct mock *m, const struct batch *b, double now_ms)
{
	double t = m->cfg.batch_time * 1000.0, from = b->anthropic ? 0 : t / 4,
	       to = b->anthropic ? t : 3 * t / 4, f;
	size_t done;

	if (b->cancel_ms >= 0 && now_ms > b->cancel_ms)
		now_ms = b->cancel_ms;
	f = to > from ? (now_ms - b->created_ms - from) / (to - from) : 1;
	f = f < 0 ? 0 : f > 1 ? 1 : f;
	done = (size_t)(f * (double)b->n);
	if (b->expire && done > b->n / 2)
		done = b->n / 2;
	return done;
}

/* Counts of the done items that succeeded and failed. */
static void
count_done(const struct batch *b, size_t done, size_t *ok, size_t *failed)
{
	*ok = *failed = 0;
	for (size_t i = 0; i < done; i++)
		(b->items[b->order[i]].status == 200 ? ok : failed)[0]++;
}

/* OpenAI: one line of an output or error file. */
static void
openai_line(struct buf *out, const struct batch *b, size_t i)
{
	const struct item *it = &b->items[i];
	char id[64];

	snprintf(id, sizeof(id), "batch_req_%s_%zu", b->id + 6, i);
	buf_puts(out, "{\"id\":");
	jw_cstring(out, id);
	buf_puts(out, ",\"custom_id\":");
	jw_cstring(out, it->custom_id);
	if (it->final == O_OK || it->final == O_FAILED) {
		buf_puts(out, ",\"response\":{\"status_code\":");
		buf_add_uint(out, (unsigned long long)it->status);
		buf_puts(out, ",\"request_id\":");
		snprintf(id, sizeof(id), "req_mock_%s_%zu", b->id + 6, i);
		jw_cstring(out, id);
		buf_puts(out, ",\"body\":");
		buf_add(out, it->answer.data, it->answer.len);
		buf_puts(out, "},\"error\":null}\n");
		return;
	}
	buf_puts(out, ",\"response\":null,\"error\":");
	buf_puts(out,
		it->final == O_EXPIRED
			? "{\"code\":\"batch_expired\",\"message\":\"This request could not "
			  "be executed before the completion window expired.\"}}\n"
			: "{\"code\":\"batch_cancelled\",\"message\":\"This request was "
			  "cancelled before it was executed.\"}}\n");
}

/* Anthropic: one line of the results. */
static void
anthropic_line(struct buf *out, const struct item *it)
{
	buf_puts(out, "{\"custom_id\":");
	jw_cstring(out, it->custom_id);
	switch (it->final) {
	case O_OK:
		buf_puts(out, ",\"result\":{\"type\":\"succeeded\",\"message\":");
		buf_add(out, it->answer.data, it->answer.len);
		buf_puts(out, "}}\n");
		break;
	case O_FAILED:
		buf_puts(out, ",\"result\":{\"type\":\"errored\",\"error\":");
		buf_add(out, it->answer.data, it->answer.len);
		buf_puts(out, "}}\n");
		break;
	case O_EXPIRED:
		buf_puts(out, ",\"result\":{\"type\":\"expired\"}}\n");
		break;
	case O_CANCELLED:
		buf_puts(out, ",\"result\":{\"type\":\"canceled\"}}\n");
		break;
	}
}

/*
 * Once the batch has ended (completed, expired, cancelled): set each item's
 * outcome and write the results, in the shuffled order the items finished.
 */
static void
finish(struct bctx *x, struct batch *b)
{
	size_t done = done_at(x->m, b, x->now_ms);
	struct buf ok = BUF_INIT, err = BUF_INIT;
	struct file *f;

	if (b->ended)
		return;
	b->ended = true;
	for (size_t k = 0; k < b->n; k++) {
		struct item *it = &b->items[b->order[k]];

		it->final = k < done        ? (it->status == 200 ? O_OK : O_FAILED)
			: b->cancel_ms >= 0 ? O_CANCELLED
					    : O_EXPIRED;
		if (b->anthropic)
			anthropic_line(&b->results, it);
		else
			openai_line(it->final == O_OK ? &ok : &err, b, b->order[k]);
	}
	x->st->stored += (long)b->results.len;
	if (ok.len > 0 &&
		(f = add_file(x->st, "batch_output.jsonl", "batch_output", ok.data, ok.len)) !=
			NULL)
		snprintf(b->output_file_id, sizeof(b->output_file_id), "%s", f->id);
	if (err.len > 0 &&
		(f = add_file(x->st, "batch_errors.jsonl", "batch_output", err.data, err.len)) !=
			NULL)
		snprintf(b->error_file_id, sizeof(b->error_file_id), "%s", f->id);
	buf_free(&ok);
	buf_free(&err);
}

/* A JSON member "name": a Unix time, or null when t is 0. */
static void
unix_member(struct buf *out, const char *name, long t)
{
	buf_puts(out, ",");
	jw_cstring(out, name);
	buf_putc(out, ':');
	if (t == 0)
		buf_puts(out, "null");
	else
		buf_add_uint(out, (unsigned long long)t);
}

/* The Unix time of ms after the batch's creation. */
static long
at(const struct batch *b, double ms)
{
	return b->created + (long)(ms / 1000.0);
}

/* OpenAI's batch object at now_ms. */
static void
openai_batch(struct bctx *x, struct batch *b)
{
	static const char *const names[] = { "validating", "in_progress", "finalizing", "completed",
		"cancelling", "cancelled" };
	struct buf *out = &x->resp->body;
	enum phase ph = phase_at(x->m, b, x->now_ms);
	double t = x->m->cfg.batch_time * 1000.0;
	size_t ok, failed, done = done_at(x->m, b, x->now_ms);
	const char *status = ph == P_DONE && b->expire ? "expired" : names[ph];
	/* It went in progress at T/4, unless cancelled before. */
	bool started = (b->cancel_ms >= 0 ? b->cancel_ms : x->now_ms) - b->created_ms >= t / 4;

	if (ph == P_DONE || ph == P_CANCELLED)
		finish(x, b);
	count_done(b, done, &ok, &failed);
	buf_puts(out, "{\"id\":");
	jw_cstring(out, b->id);
	buf_puts(out,
		",\"object\":\"batch\",\"endpoint\":\"/v1/chat/completions\","
		"\"errors\":null,\"input_file_id\":");
	jw_cstring(out, b->input_file_id);
	buf_puts(out, ",\"completion_window\":\"24h\",\"status\":");
	jw_cstring(out, status);
	buf_puts(out, ",\"output_file_id\":");
	if (b->output_file_id[0] != '\0')
		jw_cstring(out, b->output_file_id);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"error_file_id\":");
	if (b->error_file_id[0] != '\0')
		jw_cstring(out, b->error_file_id);
	else
		buf_puts(out, "null");
	unix_member(out, "created_at", b->created);
	unix_member(out, "in_progress_at", started ? at(b, t / 4) : 0);
	unix_member(out, "expires_at", b->created + 86400);
	unix_member(out, "finalizing_at",
		b->cancel_ms < 0 && ph >= P_FINALIZING && !b->expire ? at(b, 3 * t / 4) : 0);
	unix_member(out, "completed_at", ph == P_DONE && !b->expire ? at(b, t) : 0);
	unix_member(out, "failed_at", 0);
	unix_member(out, "expired_at", ph == P_DONE && b->expire ? at(b, t) : 0);
	unix_member(out, "cancelling_at", b->cancel_ms >= 0 ? b->cancel_at : 0);
	unix_member(out, "cancelled_at", ph == P_CANCELLED ? b->cancel_at + (long)(t / 4000.0) : 0);
	buf_puts(out, ",\"request_counts\":{\"total\":");
	buf_add_uint(out, b->n);
	buf_puts(out, ",\"completed\":");
	buf_add_uint(out, ok);
	buf_puts(out, ",\"failed\":");
	buf_add_uint(out, failed);
	buf_puts(out, "},\"metadata\":");
	if (b->metadata.len > 0)
		buf_add(out, b->metadata.data, b->metadata.len);
	else
		buf_puts(out, "null");
	buf_puts(out, "}");
}

/* An RFC 3339 time ("2026-01-01T00:00:00Z") member, or null when t is 0. */
static void
rfc3339_member(struct buf *out, const char *name, long t)
{
	char s[40];
	time_t tt = (time_t)t;
	struct tm tm;

	buf_puts(out, ",");
	jw_cstring(out, name);
	buf_putc(out, ':');
	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		buf_puts(out, "null");
		return;
	}
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_cstring(out, s);
}

/* Anthropic's message_batch object at now_ms. */
static void
anthropic_batch(struct bctx *x, struct batch *b)
{
	struct buf *out = &x->resp->body;
	enum phase ph = phase_at(x->m, b, x->now_ms);
	bool ended = ph == P_DONE || ph == P_CANCELLED;
	double t = x->m->cfg.batch_time * 1000.0;
	size_t ok, failed, done = done_at(x->m, b, x->now_ms);
	const char *host = request_header(x->req, "Host"), *mark;

	if (ended)
		finish(x, b);
	count_done(b, done, &ok, &failed);
	buf_puts(out, "{\"id\":");
	jw_cstring(out, b->id);
	buf_puts(out, ",\"type\":\"message_batch\",\"processing_status\":");
	jw_cstring(out, ended ? "ended" : ph == P_CANCELLING ? "canceling" : "in_progress");
	buf_puts(out, ",\"request_counts\":{\"processing\":");
	buf_add_uint(out, ended ? 0 : b->n - done);
	buf_puts(out, ",\"succeeded\":");
	buf_add_uint(out, ok);
	buf_puts(out, ",\"errored\":");
	buf_add_uint(out, failed);
	buf_puts(out, ",\"canceled\":");
	buf_add_uint(out, ended && b->cancel_ms >= 0 ? b->n - done : 0);
	buf_puts(out, ",\"expired\":");
	buf_add_uint(out, ended && b->cancel_ms < 0 ? b->n - done : 0);
	buf_puts(out, "}");
	rfc3339_member(out, "ended_at",
		!ended                      ? 0
			: b->cancel_ms >= 0 ? b->cancel_at + (long)(t / 4000.0)
					    : at(b, t));
	rfc3339_member(out, "created_at", b->created);
	rfc3339_member(out, "expires_at", b->created + 86400);
	rfc3339_member(out, "cancel_initiated_at", b->cancel_ms >= 0 ? b->cancel_at : 0);
	buf_puts(out, ",\"archived_at\":null,\"results_url\":");
	if (!ended) {
		buf_puts(out, "null}");
		return;
	}
	/* Under the prefix the request came with, on the host it was sent to. */
	mark = strstr(x->req->path, "/v1/messages/batches");
	{
		struct buf url = BUF_INIT;

		buf_puts(&url, "http://");
		buf_puts(&url, host != NULL ? host : "127.0.0.1");
		buf_add(&url, x->req->path, (size_t)(mark - x->req->path));
		buf_puts(&url, "/v1/messages/batches/");
		buf_puts(&url, b->id);
		buf_puts(&url, "/results");
		jw_string(out, url.data, url.len);
		buf_free(&url);
	}
	buf_puts(out, "}");
}

/* --- creating batches ---------------------------------------------------------- */

/* Whether an item fails by the script: its custom_id contains "fail", or --batch-fail-rate. */
static bool
scripted_failure(struct mock *m, const char *custom_id)
{
	if (strstr(custom_id, "fail") != NULL)
		return true;
	return m->cfg.batch_fail_rate > 0 && mock_random(m) < m->cfg.batch_fail_rate;
}

/* Add an item: answer its body now (a scripted failure gets a server error instead). */
static void
add_item(struct bctx *x, struct batch *b, const char *custom_id, jv body)
{
	struct item *it = &b->items[b->n++];

	it->custom_id = xstrdup(custom_id);
	if (scripted_failure(x->m, custom_id)) {
		it->status = 500;
		buf_puts(&it->answer,
			b->anthropic ? "{\"type\":\"error\",\"error\":{\"type\":\"api_error\","
				       "\"message\":"
				       "\"Internal server error\"}}"
				     : "{\"error\":{\"message\":\"The server had an error while "
				       "processing "
				       "your request.\",\"type\":\"server_error\",\"param\":null,"
				       "\"code\":null}}");
	} else {
		it->status = mock_chat(x->m, x->req, b->anthropic, body, &it->answer);
	}
	x->st->stored += (long)it->answer.len;
}

/* Whether custom_id is already among b's items. */
static bool
duplicate(const struct batch *b, const char *custom_id)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->items[i].custom_id, custom_id) == 0)
			return true;
	return false;
}

/* A new, empty batch for up to n items, or NULL when the store is full. */
static struct batch *
new_batch(struct bctx *x, bool anthropic, size_t n)
{
	struct batch *b;

	if (x->st->nbatches == MAX_BATCHES || x->st->stored > MAX_STORED)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->anthropic = anthropic;
	snprintf(b->id, sizeof(b->id), anthropic ? "msgbatch_mock%06lu" : "batch_mock%06lu",
		++x->st->next_id);
	b->created_ms = x->now_ms;
	b->created = (long)time(NULL);
	b->cancel_ms = -1;
	b->expire = x->m->cfg.batch_expire;
	b->items = xcalloc(n > 0 ? n : 1, sizeof(*b->items));
	return b;
}

/* Shuffle the finishing order (Fisher-Yates, the seeded generator) and keep the batch. */
static void
keep_batch(struct bctx *x, struct batch *b)
{
	b->order = xcalloc(b->n > 0 ? b->n : 1, sizeof(*b->order));
	for (size_t i = 0; i < b->n; i++)
		b->order[i] = i;
	for (size_t i = b->n; i > 1; i--) {
		size_t j = (size_t)(mock_random(x->m) * (double)i), t = b->order[i - 1];

		if (j >= i)
			j = i - 1;
		b->order[i - 1] = b->order[j];
		b->order[j] = t;
	}
	x->st->stored += (long)b->metadata.len;
	x->st->batches[x->st->nbatches++] = b;
}

/* The string member name of obj (borrowed), or NULL. */
static const char *
member_string(jv obj, const char *name)
{
	jv v;
	const char *s;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return NULL;
	v = jv_object_get(jv_copy(obj), jv_string(name));
	s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
	jv_free(v); /* obj still holds the string */
	return s;
}

/* Count the non-blank lines of a file. */
static size_t
count_lines(const struct buf *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->len; i++)
		if ((i == 0 || d->data[i - 1] == '\n') && d->data[i] != '\n' && d->data[i] != '\r')
			n++;
	return n;
}

/* Read one JSONL input line into b; returns 0 or the error status (message set). */
static int
openai_input_line(struct bctx *x, struct batch *b, const char *line, size_t len, size_t lineno)
{
	jv v = jv_parse_sized(line, (int)len), body;
	const char *cid = member_string(v, "custom_id"), *method = member_string(v, "method"),
		   *url = member_string(v, "url");
	int status = 0;

	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT)
		status = fail(x, 400, "Line %zu of the input file is not a JSON object.", lineno);
	else if (cid == NULL || method == NULL || url == NULL || strcmp(method, "POST") != 0 ||
		strcmp(url, "/v1/chat/completions") != 0)
		status = fail(x, 400,
			"Line %zu of the input file needs custom_id, method POST and url "
			"/v1/chat/completions.",
			lineno);
	else if (duplicate(b, cid))
		status = fail(x, 400, "Duplicate custom_id: %s", cid);
	if (status != 0 || cid == NULL) {
		jv_free(v);
		return status;
	}
	body = jv_object_get(jv_copy(v), jv_string("body"));
	add_item(x, b, cid, body);
	jv_free(body);
	jv_free(v);
	return 0;
}

/* A JSON value's kind with its article, for messages: "a string", "an array". */
static const char *
a_kind(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		return "a boolean";
	case JV_KIND_NUMBER:
		return "a number";
	case JV_KIND_STRING:
		return "a string";
	case JV_KIND_ARRAY:
		return "an array";
	case JV_KIND_OBJECT:
		return "an object";
	default:
		return "nothing";
	}
}

/*
 * OpenAI's metadata, member "metadata" of req: absent or null, or an object
 * of at most 16 string values, keys of at most 64 characters and values of
 * at most 512. Written into out as a JSON object (keys sorted), nothing for
 * null; returns 0 or 400 (message set).
 */
static int
read_metadata(struct bctx *x, jv req, struct buf *out)
{
	jv m = jv_object_get(jv_copy(req), jv_string("metadata")), keys;
	int n, status = 0;

	if (!jv_is_valid(m) || jv_get_kind(m) == JV_KIND_NULL) {
		jv_free(m);
		return 0;
	}
	if (jv_get_kind(m) != JV_KIND_OBJECT) {
		status = fail(x, 400,
			"Invalid type for 'metadata': expected an object, but got %s instead.",
			a_kind(m));
		jv_free(m);
		return status;
	}
	if ((n = jv_object_length(jv_copy(m))) > MAX_METADATA) {
		status = fail(x, 400,
			"Invalid 'metadata': too many properties. Expected an object with at "
			"most %d properties, but got an object with %d properties instead.",
			MAX_METADATA, n);
		jv_free(m);
		return status;
	}
	keys = jv_keys(jv_copy(m));
	buf_putc(out, '{');
	jv_array_foreach(keys, i, k)
	{
		jv v = jv_object_get(jv_copy(m), jv_copy(k));
		int klen = jv_string_length_codepoints(jv_copy(k));

		if (status != 0) {
			/* an earlier pair was refused */
		} else if (klen > MAX_METADATA_KEY) {
			status = fail(x, 400,
				"Invalid 'metadata': key too long. Expected a key with maximum "
				"length %d, but got a key with length %d instead.",
				MAX_METADATA_KEY, klen);
		} else if (jv_get_kind(v) != JV_KIND_STRING) {
			status = fail(x, 400,
				"Invalid type for 'metadata.%.64s': expected a string, but got %s "
				"instead.",
				jv_string_value(k), a_kind(v));
		} else if (jv_string_length_codepoints(jv_copy(v)) > MAX_METADATA_VALUE) {
			status = fail(x, 400,
				"Invalid 'metadata.%.64s': string too long. Expected a string with "
				"maximum length %d, but got a string with length %d instead.",
				jv_string_value(k), MAX_METADATA_VALUE,
				jv_string_length_codepoints(jv_copy(v)));
		} else {
			if (i > 0)
				buf_putc(out, ',');
			jw_string(out, jv_string_value(k),
				(size_t)jv_string_length_bytes(jv_copy(k)));
			buf_putc(out, ':');
			jw_string(out, jv_string_value(v),
				(size_t)jv_string_length_bytes(jv_copy(v)));
		}
		jv_free(v);
		jv_free(k);
	}
	buf_putc(out, '}');
	jv_free(keys);
	jv_free(m);
	return status;
}

/* POST /v1/batches {"input_file_id","endpoint","completion_window","metadata"}. */
static int
post_batch(struct bctx *x, jv req)
{
	const char *fid = member_string(req, "input_file_id"),
		   *endpoint = member_string(req, "endpoint"),
		   *window = member_string(req, "completion_window");
	struct buf metadata = BUF_INIT;
	struct file *f = NULL;
	struct batch *b = NULL;
	size_t n = 0, lineno = 0;
	int status;

	if (fid == NULL || endpoint == NULL || window == NULL)
		return fail(x, 400, "input_file_id, endpoint and completion_window are required.");
	if ((status = read_metadata(x, req, &metadata)) != 0)
		; /* its message is set */
	else if (strcmp(endpoint, "/v1/chat/completions") != 0)
		status = fail(x, 400, "The mock batches only /v1/chat/completions, not %s.",
			endpoint);
	else if (strcmp(window, "24h") != 0)
		status = fail(x, 400, "Invalid completion_window: %s; only 24h is supported.",
			window);
	else if ((f = find_file(x->st, fid)) == NULL)
		status = fail(x, 404, "No such File object: %s", fid);
	else if ((n = count_lines(&f->data)) == 0 || n > MAX_ITEMS)
		status = fail(x, 400, "The input file has no request, or more than 50000.");
	else if ((b = new_batch(x, false, n)) == NULL)
		status = fail(x, 400, "The mock's batch store is full.");
	if (status != 0) {
		buf_free(&metadata);
		return status;
	}
	b->metadata = metadata; /* the batch owns it now */
	snprintf(b->input_file_id, sizeof(b->input_file_id), "%s", f->id);
	for (size_t i = 0; i < f->data.len;) {
		const char *line = f->data.data + i, *nl = memchr(line, '\n', f->data.len - i);
		size_t len = nl != NULL ? (size_t)(nl - line) : f->data.len - i;

		i += len + 1;
		lineno++;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if (len > 0x7fffffff ||
			(status = openai_input_line(x, b, line, len, lineno)) != 0) {
			batch_free(b);
			return len > 0x7fffffff ? fail(x, 400, "A line is too long.") : status;
		}
	}
	keep_batch(x, b);
	openai_batch(x, b);
	return 200;
}

/* POST /v1/messages/batches {"requests":[{"custom_id","params"}]}. */
static int
post_message_batch(struct bctx *x, jv req)
{
	jv requests = jv_get_kind(req) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(req), jv_string("requests"))
		: jv_invalid();
	struct batch *b = NULL;
	size_t n;
	int status = 0;

	if (jv_get_kind(requests) != JV_KIND_ARRAY ||
		(n = (size_t)jv_array_length(jv_copy(requests))) == 0 || n > MAX_ITEMS) {
		status = fail(x, 400, "requests: a list of 1 to 50000 requests is required");
		goto out;
	}
	if ((b = new_batch(x, true, n)) == NULL) {
		status = fail(x, 400, "The mock's batch store is full.");
		goto out;
	}
	jv_array_foreach(requests, i, r)
	{
		const char *cid = member_string(r, "custom_id");
		jv params = jv_get_kind(r) == JV_KIND_OBJECT
			? jv_object_get(jv_copy(r), jv_string("params"))
			: jv_invalid();

		if (status != 0) {
			/* an earlier request was refused: the batch is not created */
		} else if (cid == NULL || jv_get_kind(params) != JV_KIND_OBJECT) {
			status = fail(x, 400, "requests.%d: custom_id and params are required", i);
		} else if (duplicate(b, cid)) {
			status = fail(x, 400, "Duplicate custom_id: %s", cid);
		} else {
			add_item(x, b, cid, params);
		}
		jv_free(params);
		jv_free(r);
	}
	if (status != 0) {
		batch_free(b);
		goto out;
	}
	keep_batch(x, b);
	anthropic_batch(x, b);
	status = 200;
out:
	jv_free(requests);
	return status;
}

/* --- the other routes ----------------------------------------------------------- */

/* GET or cancel a batch of either kind. */
static int
get_batch(struct bctx *x, bool anthropic, bool cancel)
{
	char id[64];
	struct batch *b;
	enum phase ph;

	path_id(x->req->path, "/batches/", id, sizeof(id));
	if ((b = find_batch(x->st, id, anthropic)) == NULL)
		return fail(x, 404,
			anthropic ? "No batch found with id '%s'." : "No batch found with id '%s'.",
			id);
	ph = phase_at(x->m, b, x->now_ms);
	if (cancel) {
		if (ph == P_DONE || ph == P_CANCELLED || ph == P_CANCELLING)
			return fail(x, 400,
				anthropic ? "Batch %s cannot be canceled: it has ended or is "
					    "already canceling."
					  : "Cannot cancel a batch with status other than "
					    "validating, in_progress or finalizing (%s).",
				id);
		b->cancel_ms = x->now_ms;
		b->cancel_at = (long)time(NULL);
	}
	if (anthropic)
		anthropic_batch(x, b);
	else
		openai_batch(x, b);
	return 200;
}

/* GET /v1/messages/batches/ID/results: the JSONL results once the batch has ended. */
static int
get_results(struct bctx *x)
{
	char id[64];
	struct batch *b;
	enum phase ph;

	path_id(x->req->path, "/batches/", id, sizeof(id));
	if ((b = find_batch(x->st, id, true)) == NULL)
		return fail(x, 404, "No batch found with id '%s'.", id);
	ph = phase_at(x->m, b, x->now_ms);
	if (ph != P_DONE && ph != P_CANCELLED)
		return fail(x, 400, "Batch %s is still processing; its results are not ready.", id);
	finish(x, b);
	x->resp->content_type = "application/binary";
	buf_add(&x->resp->body, b->results.data, b->results.len);
	return 200;
}

/* --- listing the batches ------------------------------------------------------ */

/* The batches of one kind into out[], newest first; returns their count. */
static size_t
newest_first(const struct batch_store *st, bool anthropic, struct batch **out)
{
	size_t n = 0;

	for (size_t i = st->nbatches; i > 0; i--)
		if (st->batches[i - 1]->anthropic == anthropic)
			out[n++] = st->batches[i - 1];
	return n;
}

/*
 * The query's limit into *limit: 1 to max, default 20. Returns 0, or 400
 * with the provider's kind of message.
 */
static int
read_limit(struct bctx *x, bool anthropic, size_t max, size_t *limit)
{
	struct buf v = BUF_INIT;
	const char *s = query_param(x->req, "limit", &v);
	unsigned long n = 0;
	int status = 0;

	*limit = 20;
	if (s == NULL)
		goto out;
	if (s[0] == '\0' || strlen(s) > 9 || s[strspn(s, "0123456789")] != '\0') {
		if (anthropic)
			status = fail(x, 400, "limit: Input should be a valid integer");
		else
			status = fail(x, 400,
				"Invalid 'limit': expected an integer, but got '%.40s' instead.",
				s);
		goto out;
	}
	n = strtoul(s, NULL, 10);
	if (n < 1 || n > max) {
		bool low = n < 1;
		size_t bound = low ? 1 : max;

		if (anthropic)
			status = fail(x, 400, "limit: Input should be %s than or equal to %zu",
				low ? "greater" : "less", bound);
		else
			status = fail(x, 400,
				"Invalid 'limit': integer %s value. Expected a value %s %zu, "
				"but got %lu instead.",
				low ? "below minimum" : "above maximum", low ? ">=" : "<=", bound,
				n);
		goto out;
	}
	*limit = (size_t)n;
out:
	buf_free(&v);
	return status;
}

/*
 * The position in list[0..n) of the batch the query parameter name (a
 * cursor) names, into *pos. Returns 0 (*pos = n when it is absent) or 400
 * for an id not in the list.
 */
static int
read_cursor(struct bctx *x, const char *name, struct batch **list, size_t n, size_t *pos)
{
	struct buf v = BUF_INIT;
	const char *id = query_param(x->req, name, &v);
	int status = 0;

	*pos = n;
	if (id == NULL)
		goto out;
	for (*pos = 0; *pos < n; (*pos)++)
		if (strcmp(list[*pos]->id, id) == 0)
			goto out;
	status = fail(x, 400, "%s: no batch with id '%.64s'.", name, id);
out:
	buf_free(&v);
	return status;
}

/*
 * GET /v1/batches?limit=N&after=ID and /v1/messages/batches?limit=N
 * &after_id=ID&before_id=ID: a page of the batches of that kind (every
 * key's), newest first. after (after_id) starts the page after that batch;
 * before_id ends it before that batch, with the limit nearest to it.
 */
static int
list_batches(struct bctx *x, bool anthropic)
{
	struct batch *list[MAX_BATCHES];
	struct buf *out = &x->resp->body;
	size_t n = newest_first(x->st, anthropic, list), limit, after, before, from, to;
	int status;

	if ((status = read_limit(x, anthropic, anthropic ? 1000 : 100, &limit)) != 0 ||
		(status = read_cursor(x, anthropic ? "after_id" : "after", list, n, &after)) != 0 ||
		(status = anthropic ? read_cursor(x, "before_id", list, n, &before) : 0) != 0)
		return status;
	if (!anthropic)
		before = n;
	if (after < n && before < n)
		return fail(x, 400, "after_id and before_id cannot be given together.");
	if (before < n) {
		to = before;
		from = to > limit ? to - limit : 0;
	} else {
		from = after < n ? after + 1 : 0;
		to = n - from > limit ? from + limit : n;
	}
	buf_puts(out, anthropic ? "{\"data\":[" : "{\"object\":\"list\",\"data\":[");
	for (size_t i = from; i < to; i++) {
		if (i > from)
			buf_putc(out, ',');
		if (anthropic)
			anthropic_batch(x, list[i]);
		else
			openai_batch(x, list[i]);
	}
	buf_puts(out, "]");
	if (anthropic) {
		/* In the direction asked for: newer with before_id, else older. */
		buf_puts(out, ",\"has_more\":");
		buf_puts(out, (before < n ? from > 0 : to < n) ? "true" : "false");
	}
	buf_puts(out, ",\"first_id\":");
	if (to > from)
		jw_cstring(out, list[from]->id);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"last_id\":");
	if (to > from)
		jw_cstring(out, list[to - 1]->id);
	else
		buf_puts(out, "null");
	if (!anthropic) {
		buf_puts(out, ",\"has_more\":");
		buf_puts(out, to < n ? "true" : "false");
	}
	buf_puts(out, "}");
	return 200;
}

int
batch_answer(struct mock *m, int route, const struct request *req, jv body, double now_ms,
	struct response *resp, char *message, size_t size)
{
	struct bctx x = { m, store(m), req, now_ms, resp, message, size };

	switch ((enum batch_route)route) {
	case B_FILES:
		return post_file(&x);
	case B_FILE:
		return get_file(&x, false);
	case B_FILE_CONTENT:
		return get_file(&x, true);
	case B_BATCHES:
		if (jv_get_kind(body) != JV_KIND_OBJECT)
			return fail(&x, 400, "We could not parse the JSON body of your request.");
		return post_batch(&x, body);
	case B_BATCHES_LIST:
		return list_batches(&x, false);
	case B_BATCH:
		return get_batch(&x, false, false);
	case B_BATCH_CANCEL:
		return get_batch(&x, false, true);
	case B_MSG_BATCHES:
		return post_message_batch(&x, body);
	case B_MSG_BATCHES_LIST:
		return list_batches(&x, true);
	case B_MSG_BATCH:
		return get_batch(&x, true, false);
	case B_MSG_BATCH_RESULTS:
		return get_results(&x);
	case B_MSG_BATCH_CANCEL:
		return get_batch(&x, true, true);
	}
	return fail(&x, 404, "Unknown batch route.");
}
