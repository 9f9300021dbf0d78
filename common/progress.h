/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A stage's progress (doc/design.md §4.8). Every stage publishes its counts
 * (stagestate.h), which costs it a few stores per update. On a terminal the
 * stages of a pipeline draw one block, a line per stage in pipeline order,
 * redrawn four times a second by one of them (the first to take the
 * terminal's drawing lock; another takes over when it ends) from a thread of
 * its own, so a stage waiting for input does not freeze it. Messages of every
 * stage on that terminal (warn, die, summaries) are printed above the block.
 *
 * When progress is shown: PROGRESS_AUTO when stderr is a terminal and
 * stdout is not (records on the screen would run through the block),
 * PROGRESS_ON always, PROGRESS_OFF never. Not on a terminal (or TERM=dumb), --progress prints
 * the stage's line as a plain line every 5 seconds: no escape codes, no
 * carriage returns. NO_COLOR turns colour off.
 */
#ifndef JL_PROGRESS_H
#define JL_PROGRESS_H

#include <time.h>

#include "stagestate.h"

enum progress_mode { PROGRESS_AUTO, PROGRESS_ON, PROGRESS_OFF };

struct progress_display;

struct progress {
	struct stage_counts counts; /* the stage's figures: set them, then progress_publish */
	struct stagestate *state;
	struct progress_display *display;
	struct timespec start;
};

/*
 * Start the stage's progress: publish its state as progname with detail
 * (what tells it apart, or NULL) and db (its run database, or NULL), and
 * draw or print it as mode says. quiet (-q) turns PROGRESS_AUTO off: as
 * curl -s, a quiet stage shows nothing unless --progress asks for it.
 */
void progress_start(struct progress *p, enum progress_mode mode, bool quiet, const char *detail,
	const char *db);

/* Publish p->counts (first_ns is set at the first record read). */
void progress_publish(struct progress *p);

/* The stage ends: publish its last counts, take its line away, stop drawing. */
void progress_end(struct progress *p);

/* Seconds since progress_start, for summaries. */
double progress_elapsed(const struct progress *p);

#endif
