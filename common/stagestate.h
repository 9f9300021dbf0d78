/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The state each stage publishes while it runs (doc/design.md §4.8), for the
 * progress block of its pipeline and for jl-top: a file of its own,
 * <rundir>/stages/PID (rundir.h), mode 0600, mapped shared and updated
 * as a latch of two copies. It holds who the stage is (tool, pid, process
 * group, the pipes of its stdin and stdout, its terminal, its run database)
 * and its counters; never record content, never a key.
 *
 * A reader lists the stages that run (stagestate_list), removing the file
 * of one whose process is gone, unless it ended normally and a running stage
 * still reads what it wrote (its count is that stage's total): such a stage
 * is listed as ended, and its file is kept for STAGE_GRACE_S seconds for a
 * reader that has not yet started. Stages are
 * put in pipeline order by their pipes: a stage whose stdout is the pipe
 * another one reads comes before it (stagestate_order).
 */
#ifndef JL_STAGESTATE_H
#define JL_STAGESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Flags of struct stage_counts. */
enum {
	STAGE_ENDED = 1,      /* the stage finished (its counts are final) */
	STAGE_INPUT_DONE = 2, /* its input ended: total is what it read */
	STAGE_SPEND = 4,      /* usd_pico is known (a stage that prices) */
	STAGE_SHOWN = 8,      /* its progress is drawn on its terminal */
};

/* What a stage counts; a stage publishes all of them at once. */
struct stage_counts {
	uint64_t read;         /* records read */
	uint64_t done;         /* records finished: written, dropped or failed */
	uint64_t failed;       /* of which they left with an _error */
	uint64_t cached;       /* of which answered from the run database */
	uint64_t dropped;      /* of which dropped on purpose (duplicates, done work) */
	uint64_t written;      /* records written to stdout */
	uint64_t in_flight;    /* requests under way */
	uint64_t rate_limited; /* 429 answers */
	uint64_t tokens;       /* tokens used (prompt and completion) */
	uint64_t total; /* records expected (--total, or read when the input ended); 0 unknown */
	uint64_t bytes; /* input bytes read, of */
	uint64_t total_bytes; /* the input file's size; 0 unknown */
	int64_t usd_pico;     /* money spent, pico-dollars (with STAGE_SPEND) */
	int64_t budget_pico;  /* the budget it works under; -1 none */
	int64_t first_ns;     /* CLOCK_MONOTONIC ns at the first record read; 0 none yet */
	int64_t ended_ns;     /* CLOCK_MONOTONIC ns when it ended; 0 running */
	uint32_t flags;
};

/* Who a stage is. */
struct stage_info {
	char tool[16];
	char detail[64]; /* what tells two stages of one tool apart (jl-llm: model → field) */
	char db[512];    /* its run database, an absolute path; "" none */
	char tty[32];    /* its stderr's terminal ("/dev/pts/3"); "" none */
	int32_t pid, pgid;
	uint64_t starttime; /* the process's start, clock ticks after boot */
	int64_t started;    /* the same as Unix seconds */
	uint64_t in_pipe;   /* stdin's pipe inode; 0: not a pipe */
	uint64_t out_pipe;  /* stdout's pipe inode; 0: not a pipe */
	uint64_t tty_dev;   /* stderr's terminal device; 0 none */
};

struct stage_snapshot {
	struct stage_info info;
	struct stage_counts counts;
	bool running; /* the process runs (false: ended, kept for its reader) */
	int dir;      /* private: the directory it was read from */
};

struct stagestate;

/*
 * Start publishing for this process as tool. detail and db (its run
 * database, or NULL) name it; shown: whether its progress is drawn on a
 * terminal. Returns NULL when the directory cannot be used: the stage then
 * runs unpublished, which costs it nothing else.
 */
struct stagestate *stagestate_open(const char *tool, const char *detail, const char *db,
	bool shown);

/* Publish c (two copies of a few stores: readers never wait). s may be NULL. */
void stagestate_update(struct stagestate *s, const struct stage_counts *c);

/* How long the file of an ended stage waits for the stage reading its stdout to start. */
#define STAGE_GRACE_S 3

/*
 * The stage ends with the counts c: its file is removed, or, when its
 * stdout is a pipe, marked ended for the stage that reads it. s may be NULL.
 */
void stagestate_close(struct stagestate *s, const struct stage_counts *c);

/* The stages on the machine (this user's): a list to free with stage_list_free. */
struct stage_list {
	struct stage_snapshot *v;
	size_t n;
};

/*
 * Read every published stage into l, removing the files of stages that are
 * gone (see above). Returns 0, or -1 with errno when the directory cannot be
 * read (none yet is an empty list).
 */
int stagestate_list(struct stage_list *l);

/*
 * The same, with the stages of /tmp/jlkit-UID too when the default is
 * elsewhere: a job run without $XDG_RUNTIME_DIR (cron) publishes there.
 */
int stagestate_list_all(struct stage_list *l);
void stage_list_free(struct stage_list *l);

/* A pipeline: stages [first, first + n) of an ordered list. */
struct stage_pipeline {
	size_t first, n;
};

/*
 * Order l by pipeline: the stages of one process group joined by pipes,
 * each after the one whose stdout it reads; pipelines by their first
 * stage's start. Returns the pipelines (n of them, to free()).
 */
struct stage_pipeline *stagestate_order(struct stage_list *l, size_t *n);

/* What is derived from a stage's counts, the same for the progress block and jl-top. */
struct stage_figures {
	double rate;       /* records done per second since the first was read */
	uint64_t expected; /* records it will have done, 0 unknown */
	double eta_s;      /* seconds left, -1 unknown */
	bool upstream_eta; /* eta_s is the stage upstream's (it is faster) */
};

/*
 * The figures of stage i of pipeline p in l at now_ns (CLOCK_MONOTONIC):
 * its total from --total, its input's end, its input file's size, or what
 * the stage upstream will write; the ETA no earlier than upstream's.
 */
void stagestate_figures(const struct stage_list *l, const struct stage_pipeline *p, size_t i,
	int64_t now_ns, struct stage_figures *f);

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t stagestate_now(void);

/*
 * Append the stage's line of a progress block to b: tool, detail, counts,
 * rate, 429s, tokens, spend and ETA, at most width columns (0: no limit);
 * color: failures and 429s in colour.
 */
void stagestate_line(struct buf *b, const struct stage_snapshot *s, const struct stage_figures *f,
	size_t width, bool color);

#endif
