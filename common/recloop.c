/* SPDX-License-Identifier: BSD-2-Clause */
/* The local record loop: read, hand to the tool, commit, write, decide the exit status. */
#include <poll.h>
#include <string.h>

#include "exitcodes.h"
#include "http.h"
#include "jsonl.h"
#include "out.h"
#include "recloop.h"
#include "record.h"
#include "util.h"

/* The loop picks _error first, then the tool's picks. */
#define MAX_PICKS 64

struct loop {
	const struct recloop_config *cfg;
	const struct recloop_ops *ops;
	void *tool;
	struct recloop_counts *n;
	struct jscan_pick picks[MAX_PICKS];
	size_t npicks;
	struct jspan error; /* the _error member of the record at hand */
	struct buf pending, canonical;
	size_t pending_records, pending_written;
	double last_release;
	off_t bytes_before; /* read from the inputs before this one */
	struct progress progress;
	bool stopped;       /* --strict met a malformed line */
	bool commit_failed; /* what is pending is not durable: it must not leave */
};

jv
recloop_value(struct recloop_record *r)
{
	if (!jv_is_valid(r->value)) {
		jv_free(r->value);
		r->value = jv_parse_sized(r->text, (int)r->len);
		if (!jv_is_valid(r->value)) /* the reader checked it: cannot happen */
			die(EXIT_SOFTWARE, "internal error: a checked record does not parse");
	}
	return r->value;
}

jv
recloop_take(struct recloop_record *r)
{
	jv v = recloop_value(r);

	r->value = jv_invalid();
	return v;
}

int
recloop_status(bool strict, bool stopped_at_bad_line, unsigned long long failed)
{
	if (strict && stopped_at_bad_line)
		return EXIT_DATAERR;
	if (strict && failed > 0)
		return EXIT_PARTIAL;
	return EXIT_OK;
}

/* Commit what the hook did, then write what it wrote: nothing leaves before it is durable. */
static int
release(struct loop *l)
{
	int rc;

	if (l->ops->commit != NULL && (rc = l->ops->commit(l->tool)) != 0) {
		l->commit_failed = true;
		return rc;
	}
	out_write(l->pending.data, l->pending.len);
	buf_reset(&l->pending);
	l->pending_records = 0;
	l->progress.counts.written += l->pending_written;
	l->pending_written = 0;
	l->last_release = clock_ms();
	return 0;
}

/*
 * Fill r from what the reader returned: the line itself when it is strict
 * JSON (rec invalid), else rec (consumed) written as JSON by libjq.
 */
static void
take_record(struct loop *l, struct jsonl_reader *jr, enum jsonl_status st, jv rec,
	struct recloop_record *r)
{
	r->bad = st == JSONL_BAD;
	if (jv_is_valid(rec)) { /* a malformed line's error record, or a line only jq takes */
		jv text = jv_dump_string(jv_copy(rec), 0);

		buf_reset(&l->canonical);
		buf_add(&l->canonical, jv_string_value(text),
			(size_t)jv_string_length_bytes(jv_copy(text)));
		jv_free(text);
		r->text = l->canonical.data;
		r->len = l->canonical.len;
		r->value = rec;
		jscan_object_pick(r->text, r->len, l->picks, l->npicks);
	} else {
		r->text = jsonl_line(jr, &r->len);
		r->value = jv_invalid();
	}
	if (r->bad) {
		r->line = r->text;
		r->line_len = r->len;
	} else {
		r->line = jsonl_line(jr, &r->line_len);
	}
	r->error = l->error;
	r->failed = r->bad || record_failed_span(r->error);
}

/* One record through the hook, or past it. */
static void
handle(struct loop *l, struct recloop_record *r)
{
	enum recloop_verdict v = RECLOOP_PASSED;

	if (r->failed && !l->cfg->see_failed) { /* failed upstream: not ours to judge */
		buf_add(&l->pending, r->text, r->len);
		buf_putc(&l->pending, '\n');
	} else {
		v = l->ops->record(l->tool, r, &l->pending);
	}
	jv_free(r->value);
	r->value = jv_invalid();
	if (v == RECLOOP_FAILED || (v == RECLOOP_PASSED && r->failed))
		l->n->failed++;
	else if (v == RECLOOP_DROPPED)
		l->n->dropped++;
	l->pending_records++;
	l->pending_written += v != RECLOOP_DROPPED;
}

/* Publish the counts so far (in: the input being read). */
static void
publish(struct loop *l, const struct input *in)
{
	struct stage_counts *c = &l->progress.counts;

	c->read = c->done = l->n->records;
	c->failed = l->n->failed;
	c->dropped = l->n->dropped;
	c->bytes = (uint64_t)(l->bytes_before + in->bytes_read);
	if (l->ops->publish != NULL)
		l->ops->publish(l->tool, c);
	progress_publish(&l->progress);
}

/* The records of one input. Returns 0 or an exit status that ends the run. */
static int
run_input(struct loop *l, const char *path)
{
	const struct recloop_config *cfg = l->cfg;
	struct input in;
	struct jsonl_reader jr;
	enum jsonl_status st;
	int rc = 0;
	jv rec;

	if (input_open(&in, path) != 0) {
		error("cannot open '%s':", path);
		return EXIT_NOINPUT;
	}
	jsonl_init(&jr, &in, JSONL_MAX_LINE);
	if (l->ops->commit != NULL) /* commit before waiting for input, not after */
		jsonl_set_nonblocking(&jr, true);
	while (rc == 0 && (st = jsonl_next_lazy(&jr, &rec, l->picks, l->npicks)) != JSONL_EOF) {
		struct recloop_record r = { .file = in.name };

		if (st == JSONL_IOERR) {
			error("cannot read '%s':", in.name);
			rc = EXIT_IOERR;
			break;
		}
		if (st == JSONL_AGAIN) {
			struct pollfd pfd = { .fd = in.fd, .events = POLLIN };

			if ((rc = release(l)) == 0) {
				publish(l, &in); /* what was written, before the wait */
				out_flush();
				poll(&pfd, 1, -1);
			}
			continue;
		}
		l->n->records++;
		r.lineno = jsonl_lineno(&jr);
		take_record(l, &jr, st, rec, &r);
		handle(l, &r);
		if (l->ops->commit == NULL ||
			l->pending_records >= (size_t)(cfg->batch > 0 ? cfg->batch : 1) ||
			clock_ms() - l->last_release >= (double)cfg->batch_ms)
			rc = release(l);
		publish(l, &in);
		if (r.bad && cfg->strict) {
			warn("%s:%lu: stopping at a malformed line (--strict)", in.name, r.lineno);
			l->stopped = true;
			break;
		}
	}
	l->bytes_before += in.bytes_read;
	jsonl_free(&jr);
	input_close(&in);
	return rc;
}

int
recloop_run(const struct recloop_config *cfg, const struct recloop_ops *ops, void *tool,
	struct recloop_counts *counts)
{
	static char dash[] = "-";
	static char *const stdin_only[] = { dash };
	char *const *files = cfg->nfiles > 0 ? cfg->files : stdin_only;
	size_t nfiles = cfg->nfiles > 0 ? cfg->nfiles : 1;
	struct loop l = { .cfg = cfg, .ops = ops, .tool = tool, .n = counts };
	int rc = 0;

	if (cfg->npicks + 1 > MAX_PICKS)
		die(EXIT_SOFTWARE, "internal error: too many members to pick");
	*counts = (struct recloop_counts){ 0 };
	l.picks[0] = (struct jscan_pick){ "_error", &l.error, NULL, 0 };
	if (cfg->npicks > 0)
		memcpy(&l.picks[1], cfg->picks, cfg->npicks * sizeof(*cfg->picks));
	l.npicks = cfg->npicks + 1;
	l.last_release = clock_ms();
	progress_start(&l.progress, cfg->progress, cfg->quiet, cfg->detail, cfg->db);
	l.progress.counts.total_bytes = inputs_size(files, nfiles);
	for (size_t i = 0; i < nfiles && rc == 0 && !l.stopped; i++)
		rc = run_input(&l, files[i]);
	if (!l.commit_failed) { /* what was read before a read error goes out too */
		int released = release(&l);

		rc = rc != 0 ? rc : released;
	}
	l.progress.counts.total = counts->records;
	l.progress.counts.flags |= STAGE_INPUT_DONE;
	if (ops->publish != NULL)
		ops->publish(tool, &l.progress.counts);
	progress_end(&l.progress);
	buf_free(&l.pending);
	buf_free(&l.canonical);
	return rc != 0 ? rc : recloop_status(cfg->strict, l.stopped, counts->failed);
}
