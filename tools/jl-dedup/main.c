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
	enum mode mode; /* from the options below */
	bool record, replay, stats, reset, forget_failed;
	const char *db_path, *key, *hash, *into;
	const char *merge[MAX_MERGE];
	size_t nmerge;
	long max_attempts, batch, batch_ms;
	bool force, keep_duplicates, store, strict, quiet;
	enum progress_mode progress;
};

static void
parse_options(struct dedup_config *cfg, int argc, char **argv)
{
	struct opt options[] = {
		OPT_STRING(0, "db", &cfg->db_path, "FILE", "the run database", "$JL_DB"),
		OPT_STRING(0, "key", &cfg->key, "EXPR", "jq expression giving each record's key",
			NULL),
		OPT_STRING(0, "hash", &cfg->hash, "EXPR", "what counts as the content",
			"the whole record"),
		OPT_UINT(0, "max-attempts", &cfg->max_attempts, 1, 1000000, "N",
			"retry a failed key until N tries", "3"),
		OPT_BOOL(0, "force", &cfg->force, "pass records done before too"),
		OPT_BOOL(0, "keep-duplicates", &cfg->keep_duplicates,
			"pass repeats of a key in the stream"),
		OPT_BOOL(0, "record", &cfg->record,
			"record each record as done or failed; pass all"),
		OPT_BOOL(0, "store", &cfg->store, "with --record: keep the records, for --replay"),
		OPT_BOOL(0, "replay", &cfg->replay, "write the stored records of the done keys"),
		OPT_BOOL(0, "stats", &cfg->stats, "print the counts by status as JSON"),
		OPT_BOOL(0, "reset", &cfg->reset, "forget every key"),
		OPT_BOOL(0, "forget-failed", &cfg->forget_failed, "forget the failed keys"),
		OPT_LIST(0, "merge", cfg->merge, &cfg->nmerge, MAX_MERGE, "FILE",
			"merge another run database's registry (repeatable)"),
		OPT_UINT(0, "batch", &cfg->batch, 1, 10000000, "N",
			"--record: commit every N records", "1000"),
		OPT_UINT(0, "batch-ms", &cfg->batch_ms, 0, 3600000, "MS",
			"--record: and every MS milliseconds", "200"),
		OPT_NAME(0, "into", &cfg->into, "NAME", "the field added in filter mode", "_dedup"),
		OPT_BOOL(0, "strict", &cfg->strict,
			"stop at a malformed line (65); exit 1 when a record carries _error"),
		OPT_BOOL('q', "quiet", &cfg->quiet, "no summary or progress on stderr"),
		OPT_SET(0, "progress", &cfg->progress, PROGRESS_ON,
			"show progress even when stderr is not a terminal"),
		OPT_SET(0, "no-progress", &cfg->progress, PROGRESS_OFF, "never show progress"),
		OPT_END(),
	};
	int operand = opt_parse(&tool, options, argc, argv);

	if (operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[operand]);
}

static void
validate_config(struct dedup_config *cfg)
{
	const char *env = getenv("JL_DB");
	int modes = cfg->record + cfg->replay + cfg->stats + cfg->reset + cfg->forget_failed +
		(cfg->nmerge > 0);

	if (modes > 1)
		opt_usage_error(&tool,
			"give one of --record, --replay, --stats, --reset, --forget-failed, "
			"--merge");
	if (cfg->record)
		cfg->mode = MODE_RECORD;
	else if (cfg->replay)
		cfg->mode = MODE_REPLAY;
	else if (cfg->stats)
		cfg->mode = MODE_STATS;
	else if (cfg->reset)
		cfg->mode = MODE_RESET;
	else if (cfg->forget_failed)
		cfg->mode = MODE_FORGET;
	else if (cfg->nmerge > 0)
		cfg->mode = MODE_MERGE;
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
		.detail = cfg->mode == MODE_RECORD ? "--record" : NULL,
		.db = cfg->db_path,
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
