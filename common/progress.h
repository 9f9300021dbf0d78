/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live progress line on stderr: shown when stderr is a terminal or
 * --progress was given, never with --no-progress. Redrawn at most four times
 * a second; progress_update costs one clock read when enabled, nothing when not.
 */
#ifndef JL_PROGRESS_H
#define JL_PROGRESS_H

#include <stdbool.h>
#include <time.h>

enum progress_mode { PROGRESS_AUTO, PROGRESS_ON, PROGRESS_OFF };

struct progress {
	bool enabled;
	bool drawn; /* a line is on the screen and needs clearing */
	struct timespec start, last;
	unsigned long long done, failed;
	unsigned long long bytes, total_bytes; /* total 0: unknown */
};

/* Decide whether to show progress (PROGRESS_AUTO: when stderr is a tty). */
void progress_init(struct progress *p, enum progress_mode mode);

/*
 * Record the counts so far: records done, of which failed, input bytes
 * consumed and the input's total size (0 when unknown, e.g. a pipe).
 */
void progress_update(struct progress *p, unsigned long long done, unsigned long long failed,
	unsigned long long bytes, unsigned long long total_bytes);

/*
 * For a tool's own progress text: progress_due says whether a redraw is
 * due (enabled, and a quarter second has passed), progress_show draws text.
 */
bool progress_due(struct progress *p);
void progress_show(struct progress *p, const char *text);

/* Remove the line, so the summary that follows stands alone. */
void progress_end(struct progress *p);

/* Seconds since progress_init, for summaries. */
double progress_elapsed(const struct progress *p);

#endif
