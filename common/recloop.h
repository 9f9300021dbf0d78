/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The record loop of the local tools (doc/design.md §4.2): every tool
 * that reads JSON Lines runs it; netloop.h is its asynchronous form for the
 * network tools, with the same reader, record API and exit status.
 *
 * Each turn reads one line and hands the tool a record whose text is
 * strict JSON: the line as it came when it is strict JSON, else the record
 * as libjq reads and writes it (NaN becomes null, 01 becomes 1), so what a
 * tool writes from it is always valid. A line that is not a JSON object
 * leaves as a bad_input record. Records that carry _error pass through
 * untouched unless the tool asks for them. What the tool writes is held
 * until its commit hook has made the batch durable (commit-then-write), then
 * written. At the end the loop decides the exit status by the contract:
 *   65  --strict and a malformed line: the run stopped after writing it;
 *   1   --strict and a record carries _error (arrived so, or failed here);
 *   0   otherwise.
 */
#ifndef JL_RECLOOP_H
#define JL_RECLOOP_H

#include <jv.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "jscan.h"
#include "progress.h"

/* One record, as the tool's hook sees it. */
struct recloop_record {
	const char *text; /* the record, strict JSON, no newline */
	size_t len;
	const char *line; /* the line as it came (for a hash of the input) */
	size_t line_len;
	const char *file;     /* the input's name for messages */
	unsigned long lineno; /* its line in that input */
	struct jspan error;   /* its _error member (empty: none) */
	bool failed;          /* it carries an _error that is not null */
	bool bad;             /* it is the bad_input record of a malformed line */
	jv value;             /* private: see recloop_value */
};

/* The record as a jv, parsed on first use; borrowed, valid during the hook. */
jv recloop_value(struct recloop_record *r);

/*
 * The same, handed over to the caller (who frees it): for a hook that keeps
 * or changes the record, which a borrowed jv would make libjq copy.
 */
jv recloop_take(struct recloop_record *r);

enum recloop_verdict {
	RECLOOP_PASSED,  /* wrote the record (or what stands for it) */
	RECLOOP_FAILED,  /* wrote it with an _error */
	RECLOOP_DROPPED, /* wrote nothing for it, on purpose */
};

struct recloop_config {
	char *const *files; /* the inputs in turn; NULL or none: stdin */
	size_t nfiles;
	/* Members of every record to pick while its line is checked (jscan.h). */
	const struct jscan_pick *picks;
	size_t npicks;
	bool see_failed; /* hand records with _error (and bad lines) to the hook too */
	bool strict;
	bool quiet; /* -q: no progress unless progress is PROGRESS_ON */
	enum progress_mode progress;
	const char *detail, *db; /* what the stage publishes about itself (progress.h) */
	/* With a commit hook: commit every batch records or batch_ms milliseconds. */
	long batch, batch_ms;
};

struct recloop_ops {
	/* Append what leaves for r (zero or more lines) to out; say what it was. */
	enum recloop_verdict (*record)(void *tool, struct recloop_record *r, struct buf *out);
	/*
	 * Optional: make everything the hook did so far durable, before the
	 * lines are written. Returns 0, or the exit status to stop with.
	 */
	int (*commit)(void *tool);
	/* Optional: add the tool's own figures (spend, tokens, cached) to what it publishes. */
	void (*publish)(void *tool, struct stage_counts *c);
};

/* What a run saw. */
struct recloop_counts {
	unsigned long long records; /* lines read that held a record or a malformed line */
	unsigned long long failed;  /* records out with _error: bad, arrived failed, failed here */
	unsigned long long dropped; /* records the hook dropped */
};

/*
 * Run the records of cfg->files (or stdin) to stdout through ops, with tool
 * handed to the hooks. Fills *counts; returns the exit status (see above,
 * or a hook's, or EXIT_NOINPUT / EXIT_IOERR for an input that cannot be
 * read).
 */
int recloop_run(const struct recloop_config *cfg, const struct recloop_ops *ops, void *tool,
	struct recloop_counts *counts);

/*
 * The contract's exit status, for every tool: 65 when --strict stopped the
 * run at a malformed line, 1 when strict and failed > 0, else 0.
 */
int recloop_status(bool strict, bool stopped_at_bad_line, unsigned long long failed);

#endif
