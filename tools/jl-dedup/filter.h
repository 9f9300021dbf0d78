/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-dedup's record hooks for the shared record loop (recloop.h): filter
 * mode passes a record when its key is new in the stream and in the
 * registry, its content changed, or it failed fewer than max_attempts times,
 * with the marker {"key","hash"} added under the rules' into; --record puts
 * each record's outcome in the registry and passes it on.
 */
#ifndef JL_DEDUP_FILTER_H
#define JL_DEDUP_FILTER_H

#include <stdbool.h>

#include "buf.h"
#include "key.h"
#include "recloop.h"
#include "registry.h"

/* What the hooks take of the options. */
struct dedup_rules {
	const char *into;     /* the marker's field */
	long max_attempts;    /* a failed key is passed again until this many tries */
	bool force;           /* pass records done before too */
	bool keep_duplicates; /* pass repeats of a key in the stream */
	bool store;           /* --record: keep the records for --replay */
};

/* What the hooks counted, for the summary. */
struct dedup_counts {
	unsigned long long fresh, changed, retried, forced, done, duplicate, exhausted, bad,
		recorded_done, recorded_failed;
};

struct dedup {
	struct dedup_rules rules;
	struct db *db;        /* NULL in filter mode without --db */
	struct registry *reg; /* on db */
	struct key_expr *key, *hash;
	struct keyset seen;
	struct dedup_counts n;
	struct jspan marker; /* the record's member named into: the loop picks it */
	struct buf key_text, hash_text, mark;
};

/* Filter mode: the record hook (arg is a struct dedup). */
enum recloop_verdict dedup_filter(void *arg, struct recloop_record *r, struct buf *out);

/* --record: the record hook; begins the batch's transaction in d->db. */
enum recloop_verdict dedup_record(void *arg, struct recloop_record *r, struct buf *out);

/* --record: the commit hook. Returns 0, or EXIT_IOERR when the commit failed. */
int dedup_commit(void *arg);

/* Free what the hooks and the key expressions hold (not db and reg). */
void dedup_free(struct dedup *d);

#endif
