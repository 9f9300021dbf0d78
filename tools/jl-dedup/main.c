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
#include "filter.h"
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

/* --- the loops ----------------------------------------------------------------- */

static void
summary(const struct dedup_config *cfg, const struct dedup *d, const struct recloop_counts *rc)
{
	const struct dedup_counts *n = &d->n;

	if (cfg->quiet)
		return;
	if (cfg->mode == MODE_RECORD)
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
run_stream(const struct dedup_config *cfg, struct dedup *d)
{
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
		.record = cfg->mode == MODE_RECORD ? dedup_record : dedup_filter,
		.commit = cfg->mode == MODE_RECORD ? dedup_commit : NULL,
	};
	struct recloop_counts counts;
	int rc = recloop_run(&loop, &ops, d, &counts);

	summary(cfg, d, &counts);
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
run_registry(const struct dedup_config *cfg, struct dedup *d)
{
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
	struct dedup d = { 0 };
	struct buf err = BUF_INIT;
	int rc, code = 0;

	tool_init(argv[0]);
	parse_options(&cfg, argc, argv);
	validate_config(&cfg);
	d.rules = (struct dedup_rules){ cfg.into, cfg.max_attempts, cfg.force, cfg.keep_duplicates,
		cfg.store };
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
	rc = cfg.mode == MODE_FILTER || cfg.mode == MODE_RECORD ? run_stream(&cfg, &d)
								: run_registry(&cfg, &d);
	registry_close(d.reg);
	if (d.db != NULL && db_close(d.db) != 0 && rc == EXIT_OK)
		rc = EXIT_IOERR;
	dedup_free(&d);
	buf_free(&err);
	return out_close(rc);
}
