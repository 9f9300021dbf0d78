/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-dedup's registry in the run database (table dedup_items): per key, the
 * content hash it was done with, done or failed (code, attempts), the time,
 * and with --store the record itself.
 */
#ifndef JL_DEDUP_REGISTRY_H
#define JL_DEDUP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

struct registry;

/* The registry of db (borrowed): its table made or brought up to date. NULL after a message. */
struct registry *registry_open(struct db *db);
void registry_close(struct registry *r);

enum item_status { ITEM_NONE, ITEM_DONE, ITEM_FAILED };

struct item {
	enum item_status status;
	char hash[65];
	long attempts;
};

/*
 * Hold one read snapshot over many lookups (a lookup alone takes and drops
 * the database's read lock each time); registry_get renews it every few
 * thousand lookups, so writers' checkpoints are not held back for long.
 * registry_end_reads ends it (before blocking on input, and at the end).
 */
void registry_end_reads(struct registry *r);

/* Look key up. Returns 0 with *it filled (ITEM_NONE when absent), -1 after a message. */
int registry_get(struct registry *r, const char *key, size_t key_len, struct item *it);

/*
 * Record key: done (error NULL) or failed with the error code; attempts
 * counts up, except for the codes of records held back rather than tried
 * (record_held_back); record (JSON text, or NULL) is kept with --store. In
 * the open transaction. Returns 0, or -1 after a message.
 */
int registry_put(struct registry *r, const char *key, size_t key_len, const char *hash,
	const char *error, const char *record, size_t record_len);

/* Counts by status as a JSON object, appended to out. */
int registry_stats(struct registry *r, struct buf *out);

/* Forget every key, or only the failed ones. Returns the rows removed, or -1. */
long long registry_forget(struct registry *r, bool failed_only);

/*
 * Merge the registry of the database at path into r's: for each key the
 * newer row wins. Returns the rows taken, or -1 after a message.
 */
long long registry_merge(struct registry *r, const char *path);

/*
 * Call emit(text, len, arg) with each stored record of a done key, in key
 * order. Returns the number emitted, or -1 after a message.
 */
long long registry_replay(struct registry *r, void (*emit)(const char *, size_t, void *),
	void *arg);

#endif
