/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-dedup: drop duplicates and work already done, record what is done.
 * Filter mode passes a record when its key is new, its content changed, or
 * it failed fewer than --max-attempts times, and drops the rest; --record
 * writes each record's outcome to the registry (registry.c) in the run
 * database; --replay, --stats, --reset, --forget-failed and --merge work on
 * the registry alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcodes.h"
#include "http.h"
#include "json.h"
#include "jsonl.h"
#include "key.h"
#include "opt.h"
#include "out.h"
#include "progress.h"
#include "recloop.h"
#include "record.h"
#include "registry.h"
#include "util.h"
#include "version.h"

#define MAX_MERGE 64

enum {
	OPT_DB = 256,
	OPT_KEY,
	OPT_HASH,
	OPT_MAX_ATTEMPTS,
	OPT_FORCE,
	OPT_KEEP_DUPLICATES,
	OPT_RECORD,
	OPT_STORE,
	OPT_REPLAY,
	OPT_STATS,
	OPT_RESET,
	OPT_FORGET_FAILED,
	OPT_MERGE,
	OPT_BATCH,
	OPT_BATCH_MS,
	OPT_INTO,
	OPT_STRICT,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
};

static const struct opt_spec options[] = {
	{ OPT_DB, "db", 0, "FILE", "the run database (default $JL_DB)" },
	{ OPT_KEY, "key", 0, "EXPR", "jq expression giving each record's key" },
	{ OPT_HASH, "hash", 0, "EXPR", "what counts as the content (default: the whole record)" },
	{ OPT_MAX_ATTEMPTS, "max-attempts", 0, "N",
		"retry a failed key until N tries (default 3)" },
	{ OPT_FORCE, "force", 0, NULL, "pass records done before too" },
	{ OPT_KEEP_DUPLICATES, "keep-duplicates", 0, NULL, "pass repeats of a key in the stream" },
	{ OPT_RECORD, "record", 0, NULL, "record each record as done or failed; pass all" },
	{ OPT_STORE, "store", 0, NULL, "with --record: keep the records, for --replay" },
	{ OPT_REPLAY, "replay", 0, NULL, "write the stored records of the done keys" },
	{ OPT_STATS, "stats", 0, NULL, "print the counts by status as JSON" },
	{ OPT_RESET, "reset", 0, NULL, "forget every key" },
	{ OPT_FORGET_FAILED, "forget-failed", 0, NULL, "forget the failed keys" },
	{ OPT_MERGE, "merge", 0, "FILE", "merge another run database's registry (repeatable)" },
	{ OPT_BATCH, "batch", 0, "N", "--record: commit every N records (default 1000)" },
	{ OPT_BATCH_MS, "batch-ms", 0, "MS", "--record: and every MS milliseconds (default 200)" },
	{ OPT_INTO, "into", 0, "NAME", "the field added in filter mode (default _dedup)" },
	{ OPT_STRICT, "strict", 0, NULL, "exit 1 when a record carries _error" },
	{ 'q', "quiet", 'q', NULL, "no summary on stderr" },
	{ OPT_PROGRESS, "progress", 0, NULL, "show progress even when stderr is not a terminal" },
	{ OPT_NO_PROGRESS, "no-progress", 0, NULL, "never show progress" },
	{ 0, NULL, 0, NULL, NULL },
};

static void
print_versions(void)
{
	version_line("sqlite", sqlite3_libversion());
	version_libjq();
	version_common();
}

static const struct opt_tool tool = {
	.synopsis = "--key EXPR [--db FILE] [--record [--store]] | --db FILE --replay|--stats|...",
	.summary = "Drop duplicate records and work already done; record what is done.",
	.options = options,
	.version = print_versions,
};

enum mode {
	MODE_FILTER,
	MODE_RECORD,
	MODE_REPLAY,
	MODE_STATS,
	MODE_RESET,
	MODE_FORGET,
	MODE_MERGE
};

struct dedup_config {
	enum mode mode;
	int modes; /* how many were asked for */
	const char *db_path, *key, *hash, *into;
	const char *merge[MAX_MERGE];
	size_t nmerge;
	long max_attempts, batch, batch_ms;
	bool force, keep_duplicates, store, strict, quiet;
	enum progress_mode progress;
};

struct counts {
	unsigned long long fresh, changed, retried, forced, done, duplicate, exhausted, bad,
		recorded_done, recorded_failed;
};

/* The state of the record loops. */
struct dedup {
	const struct dedup_config *cfg;
	struct db *db;
	struct registry *reg;
	struct key_expr *key, *hash;
	struct keyset seen;
	struct counts n;
	struct jspan marker; /* the record's member named --into, when it has one */
	struct buf key_text, hash_text, mark;
};

static void
set_mode(struct dedup_config *cfg, enum mode m)
{
	if (cfg->modes++ > 0 && cfg->mode != m)
		opt_usage_error(&tool,
			"give one of --record, --replay, --stats, --reset, "
			"--forget-failed, --merge");
	cfg->mode = m;
}

static void
parse_options(struct dedup_config *cfg, int argc, char **argv)
{
	struct opt_state st;
	const char *arg;
	int id;

	opt_init(&st, &tool, argc, argv);
	while ((id = opt_next(&st, &arg)) != OPT_DONE) {
		switch (id) {
		case OPT_DB:
			cfg->db_path = arg;
			break;
		case OPT_KEY:
			cfg->key = arg;
			break;
		case OPT_HASH:
			cfg->hash = arg;
			break;
		case OPT_MAX_ATTEMPTS:
			cfg->max_attempts = (long)opt_uint("max-attempts", arg, 1, 1000000);
			break;
		case OPT_FORCE:
			cfg->force = true;
			break;
		case OPT_KEEP_DUPLICATES:
			cfg->keep_duplicates = true;
			break;
		case OPT_RECORD:
			set_mode(cfg, MODE_RECORD);
			break;
		case OPT_STORE:
			cfg->store = true;
			break;
		case OPT_REPLAY:
			set_mode(cfg, MODE_REPLAY);
			break;
		case OPT_STATS:
			set_mode(cfg, MODE_STATS);
			break;
		case OPT_RESET:
			set_mode(cfg, MODE_RESET);
			break;
		case OPT_FORGET_FAILED:
			set_mode(cfg, MODE_FORGET);
			break;
		case OPT_MERGE:
			set_mode(cfg, MODE_MERGE);
			if (cfg->nmerge == MAX_MERGE)
				opt_usage_error(&tool, "at most %d --merge", MAX_MERGE);
			cfg->merge[cfg->nmerge++] = arg;
			break;
		case OPT_BATCH:
			cfg->batch = (long)opt_uint("batch", arg, 1, 10000000);
			break;
		case OPT_BATCH_MS:
			cfg->batch_ms = (long)opt_uint("batch-ms", arg, 0, 3600000);
			break;
		case OPT_INTO:
			if (*arg == '\0')
				opt_usage_error(&tool, "--into needs a name");
			cfg->into = arg;
			break;
		case OPT_STRICT:
			cfg->strict = true;
			break;
		case 'q':
			cfg->quiet = true;
			break;
		case OPT_PROGRESS:
			cfg->progress = PROGRESS_ON;
			break;
		case OPT_NO_PROGRESS:
			cfg->progress = PROGRESS_OFF;
			break;
		}
	}
	if (st.operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[st.operand]);
	opt_free(&st);
}

static void
validate_config(struct dedup_config *cfg)
{
	const char *env = getenv("JL_DB");

	if (cfg->db_path == NULL && env != NULL && *env != '\0')
		cfg->db_path = env;
	if (cfg->mode == MODE_FILTER || cfg->mode == MODE_RECORD) {
		if (cfg->key == NULL)
			opt_usage_error(&tool, "give --key EXPR");
	} else if (cfg->key != NULL || cfg->hash != NULL) {
		opt_usage_error(&tool, "--key and --hash are for filtering and --record");
	}
	if (cfg->mode != MODE_FILTER && cfg->db_path == NULL)
		opt_usage_error(&tool, "this mode needs --db FILE (or JL_DB)");
	if (cfg->store && cfg->mode != MODE_RECORD)
		opt_usage_error(&tool, "--store goes with --record");
}

/* --- keys and hashes --------------------------------------------------------- */

static void
hex_hash(const void *data, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h[2];

	hash128(data, len, h);
	buf_reset(out);
	for (int i = 0; i < 2; i++)
		for (int shift = 60; shift >= 0; shift -= 4)
			buf_putc(out, hex[(h[i] >> shift) & 15]);
}

/*
 * The content hash of r into d->hash_text: --hash's value, or the record
 * as it came (without the field this tool adds).
 */
static void
content_hash(struct dedup *d, struct recloop_record *r)
{
	if (d->hash != NULL || d->marker.n > 0) {
		jv rec = recloop_value(r);
		jv v = d->hash != NULL ? key_eval(d->hash, rec)
				       : jv_object_delete(jv_copy(rec), jv_string(d->cfg->into));
		jv text = jv_dump_string(jv_is_valid(v) ? v : (jv_free(v), jv_null()),
			JV_PRINT_SORTED);

		hex_hash(jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text)),
			&d->hash_text);
		jv_free(text);
	} else {
		hex_hash(r->line, r->line_len, &d->hash_text);
	}
}

/* The key of r into d->key_text; false with *why when it has none. */
static bool
record_key(struct dedup *d, struct recloop_record *r, const char **why)
{
	buf_reset(&d->key_text);
	return key_text(key_eval(d->key, recloop_value(r)), &d->key_text, why);
}

/* r with _error bad_key, into out. */
static enum recloop_verdict
bad_key(struct dedup *d, struct recloop_record *r, const char *why, struct buf *out)
{
	record_fail_text(out, r->text, r->len, r->error.n > 0,
		&(struct record_error){ ERR_BAD_KEY, why, NULL, r->lineno, 0, -1 });
	d->n.bad++;
	return RECLOOP_FAILED;
}

/* --- filter mode --------------------------------------------------------------- */

static enum recloop_verdict
filter_record(void *arg, struct recloop_record *r, struct buf *out)
{
	struct dedup *d = arg;
	struct item it = { ITEM_NONE, "", 0 };
	const char *why = NULL;

	if (!record_key(d, r, &why))
		return bad_key(d, r, why, out);
	if (!d->cfg->keep_duplicates && keyset_add(&d->seen, d->key_text.data, d->key_text.len)) {
		d->n.duplicate++;
		return RECLOOP_DROPPED;
	}
	content_hash(d, r);
	if (d->reg != NULL && registry_get(d->reg, d->key_text.data, d->key_text.len, &it) != 0)
		exit(EXIT_IOERR);
	if (it.status == ITEM_NONE) {
		d->n.fresh++;
	} else if (strcmp(it.hash, buf_cstr(&d->hash_text)) != 0) {
		d->n.changed++;
	} else if (d->cfg->force) {
		d->n.forced++;
	} else if (it.status == ITEM_DONE) {
		d->n.done++;
		return RECLOOP_DROPPED;
	} else if (it.attempts >= d->cfg->max_attempts) {
		d->n.exhausted++;
		return RECLOOP_DROPPED;
	} else {
		d->n.retried++;
	}
	buf_reset(&d->mark);
	buf_puts(&d->mark, "{\"key\":");
	buf_add(&d->mark, d->key_text.data, d->key_text.len);
	buf_puts(&d->mark, ",\"hash\":\"");
	buf_puts(&d->mark, buf_cstr(&d->hash_text));
	buf_puts(&d->mark, "\"}");
	record_add_member(out, r->text, r->len, d->marker.n > 0, d->cfg->into, d->mark.data,
		d->mark.len);
	return RECLOOP_PASSED;
}

/* --- record mode --------------------------------------------------------------- */

/* The key and hash a filter upstream put in r's marker, into d; false when absent. */
static bool
marked_key(struct dedup *d, struct recloop_record *r)
{
	jv mark = jv_object_get(jv_copy(recloop_value(r)), jv_string(d->cfg->into));
	jv key = jv_get_kind(mark) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(mark), jv_string("key"))
		: jv_invalid();
	jv hash = jv_get_kind(mark) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(mark), jv_string("hash"))
		: jv_invalid();
	const char *why;
	bool ok = jv_get_kind(hash) == JV_KIND_STRING;

	buf_reset(&d->key_text);
	if (ok && key_text(key, &d->key_text, &why)) {
		buf_reset(&d->hash_text);
		buf_puts(&d->hash_text, jv_string_value(hash));
	} else {
		if (ok)
			key = jv_invalid(); /* consumed by key_text */
		ok = false;
		jv_free(key);
	}
	jv_free(hash);
	jv_free(mark);
	return ok;
}

/* The _error code of r, a failed record, into code ("error" when it has none). */
static void
error_code(const struct recloop_record *r, char *code, size_t size)
{
	if (!jscan_string(jscan_get(r->error, "code"), code, size) || *code == '\0')
		snprintf(code, size, "error");
}

static enum recloop_verdict
record_record(void *arg, struct recloop_record *r, struct buf *out)
{
	struct dedup *d = arg;
	char code[64];
	const char *why = NULL;
	bool marked = !r->bad && marked_key(d, r);

	if (!marked && (r->bad || !record_key(d, r, &why))) {
		if (r->failed) { /* failed before it had a key: passed on as it is */
			buf_add(out, r->text, r->len);
			buf_putc(out, '\n');
			return RECLOOP_PASSED;
		}
		return bad_key(d, r, why, out);
	}
	if (!marked)
		content_hash(d, r);
	if (r->failed)
		error_code(r, code, sizeof(code));
	if (!db_in_transaction(d->db) && db_begin(d->db) != 0)
		exit(EXIT_IOERR);
	buf_reset(&d->mark);
	if (d->cfg->store) { /* without the marker: what the next stage saw */
		record_dump(&d->mark,
			jv_object_delete(jv_copy(recloop_value(r)), jv_string(d->cfg->into)));
		d->mark.len--; /* the newline */
	}
	if (registry_put(d->reg, d->key_text.data, d->key_text.len, buf_cstr(&d->hash_text),
		    r->failed ? code : NULL, d->cfg->store ? d->mark.data : NULL, d->mark.len) != 0)
		exit(EXIT_IOERR);
	if (r->failed)
		d->n.recorded_failed++;
	else
		d->n.recorded_done++;
	buf_add(out, r->text, r->len);
	buf_putc(out, '\n');
	return RECLOOP_PASSED;
}

/* Commit what is recorded: nothing leaves before it is in the registry. */
static int
commit_records(void *arg)
{
	struct dedup *d = arg;

	if (db_in_transaction(d->db) && db_commit(d->db) != 0)
		return EXIT_IOERR;
	return 0;
}

/* --- the loops ----------------------------------------------------------------- */

static void
summary(const struct dedup *d, const struct recloop_counts *rc)
{
	const struct counts *n = &d->n;

	if (d->cfg->quiet)
		return;
	if (d->cfg->mode == MODE_RECORD)
		warn("%llu records: %llu recorded done, %llu failed, %llu bad keys", rc->records,
			n->recorded_done, n->recorded_failed, n->bad);
	else
		warn("%llu records: %llu passed (%llu new, %llu changed, %llu retried, %llu "
		     "forced), "
		     "%llu dropped as done, %llu as duplicates, %llu failed too often; %llu bad "
		     "keys",
			rc->records, rc->records - rc->dropped, n->fresh, n->changed, n->retried,
			n->forced, n->done, n->duplicate, n->exhausted, n->bad);
}

static int
run_stream(struct dedup *d)
{
	const struct dedup_config *cfg = d->cfg;
	struct jscan_pick marker = { cfg->into, &d->marker, NULL, 0 };
	struct recloop_config loop = {
		.picks = &marker,
		.npicks = 1,
		.see_failed = cfg->mode == MODE_RECORD,
		.strict = cfg->strict,
		.quiet = cfg->quiet,
		.progress = cfg->progress,
		.batch = cfg->batch,
		.batch_ms = cfg->batch_ms,
	};
	struct recloop_ops ops = {
		.record = cfg->mode == MODE_RECORD ? record_record : filter_record,
		.commit = cfg->mode == MODE_RECORD ? commit_records : NULL,
	};
	struct recloop_counts counts;
	int rc = recloop_run(&loop, &ops, d, &counts);

	summary(d, &counts);
	return rc;
}

static void
emit_stored(const char *text, size_t len, void *arg)
{
	(void)arg;
	out_write(text, len);
	out_write("\n", 1);
}

static int
run_registry(struct dedup *d)
{
	const struct dedup_config *cfg = d->cfg;
	struct buf stats = BUF_INIT;
	long long n;

	switch (cfg->mode) {
	case MODE_REPLAY:
		if ((n = registry_replay(d->reg, emit_stored, NULL)) < 0)
			return EXIT_IOERR;
		if (!cfg->quiet)
			warn("%lld stored records replayed", n);
		break;
	case MODE_STATS:
		if (registry_stats(d->reg, &stats) != 0)
			return EXIT_IOERR;
		buf_putc(&stats, '\n');
		out_write(stats.data, stats.len);
		break;
	case MODE_RESET:
	case MODE_FORGET:
		if ((n = registry_forget(d->reg, cfg->mode == MODE_FORGET)) < 0)
			return EXIT_IOERR;
		if (!cfg->quiet)
			warn("%lld keys forgotten", n);
		break;
	case MODE_MERGE:
		for (size_t i = 0; i < cfg->nmerge; i++) {
			if ((n = registry_merge(d->reg, cfg->merge[i])) < 0)
				return EXIT_DATAERR;
			if (!cfg->quiet)
				warn("%s: %lld keys taken", cfg->merge[i], n);
		}
		break;
	default:
		break;
	}
	buf_free(&stats);
	return EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct dedup_config cfg = {
		.into = "_dedup",
		.max_attempts = 3,
		.batch = 1000,
		.batch_ms = 200,
		.progress = PROGRESS_AUTO,
	};
	struct dedup d = { .cfg = &cfg };
	struct buf err = BUF_INIT;
	int rc, code = 0;

	tool_init(argv[0]);
	parse_options(&cfg, argc, argv);
	validate_config(&cfg);
	if (cfg.key != NULL && (d.key = key_compile(cfg.key, &err)) == NULL)
		opt_usage_error(&tool, "bad --key expression: %s", buf_cstr(&err));
	if (cfg.hash != NULL && (d.hash = key_compile(cfg.hash, &err)) == NULL)
		opt_usage_error(&tool, "bad --hash expression: %s", buf_cstr(&err));
	if (cfg.db_path != NULL) {
		if ((d.db = db_open(cfg.db_path, &code)) == NULL)
			return code;
		if ((d.reg = registry_open(d.db)) == NULL)
			return EXIT_CANTCREAT;
	}
	out_init();
	rc = cfg.mode == MODE_FILTER || cfg.mode == MODE_RECORD ? run_stream(&d) : run_registry(&d);
	registry_close(d.reg);
	if (d.db != NULL && db_close(d.db) != 0 && rc == EXIT_OK)
		rc = EXIT_IOERR;
	key_free(d.key);
	key_free(d.hash);
	keyset_free(&d.seen);
	buf_free(&d.key_text);
	buf_free(&d.hash_text);
	buf_free(&d.mark);
	buf_free(&err);
	return out_close(rc);
}
