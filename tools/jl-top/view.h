/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What jl-top shows, read once: the pipelines of the stages published in
 * the state directory (common/stagestate.h; /tmp/jlkit-UID too, where a job
 * run without $XDG_RUNTIME_DIR publishes), in pipeline order, and for each
 * run database they name what its ledger has spent and the budget the
 * stages work under. Rendered as the table (the same stage lines as the
 * progress block) or as JSON Lines, one object per pipeline.
 */
#ifndef JL_TOP_VIEW_H
#define JL_TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "stagestate.h"

/* What a run database's ledger says. */
enum spend_state {
	SPEND_KNOWN,   /* spent_pico is the ledger's total over every run */
	SPEND_NONE,    /* no database or no ledger yet: nothing spent */
	SPEND_UNKNOWN, /* the ledger could not be read: error says why */
};

struct top_db {
	char *path; /* absolute, as the stages publish it */
	enum spend_state state;
	int64_t spent_pico;  /* SPEND_KNOWN: cost_totals of run '' */
	int64_t budget_pico; /* the largest budget a running stage of it publishes; -1 none */
	char *error;         /* SPEND_UNKNOWN: the reason */
};

struct top_view {
	struct stage_list list;      /* the stages, in pipeline order */
	struct stage_pipeline *pipe; /* the pipelines shown (those of the filter) */
	size_t npipes;
	struct top_db *db; /* the databases of the pipelines shown, first seen first */
	size_t ndbs;
	int64_t now_ns; /* CLOCK_MONOTONIC when read, for the figures */
	time_t now;     /* the wall clock when read */
};

/*
 * Resolve path as the stages publish a database: its realpath, or when it
 * does not exist the absolute path it names. Returns a string to free().
 */
char *top_db_path(const char *path);

/*
 * Read the published stages into v: only the pipelines with a stage whose
 * database is db (a top_db_path), every pipeline when db is NULL; then the
 * spend and budget of each database they name. Returns 0, or -1 with errno
 * when the state directory cannot be read (v is then empty). Free v with
 * top_view_free.
 */
int top_view_read(struct top_view *v, const char *db);
void top_view_free(struct top_view *v);

/*
 * Read the ledger's total spend (run '', every run) of the run database
 * path, opened read-only. Returns SPEND_KNOWN with *pico, SPEND_NONE when
 * the file or its ledger does not exist, or SPEND_UNKNOWN with the reason
 * in err. Writes nothing to the database, prints nothing.
 */
enum spend_state top_db_spend(const char *path, int64_t *pico, struct buf *err);

/*
 * Append the table to b, one '\n'-ended line each: per pipeline a header
 * and an indented stage line each (stagestate_line; "ended" after a stage
 * that ended), then a line per database; "No jlkit pipelines running."
 * when there are none. Lines are cut to width columns (0: no limit);
 * color: failures and 429s in colour, headers in bold.
 */
void top_view_table(struct buf *b, const struct top_view *v, size_t width, bool color);

/* Append one JSON object per pipeline to b, each on its own line (see jl-top(1)). */
void top_view_json(struct buf *b, const struct top_view *v);

#endif
