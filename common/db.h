/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The run database (doc/design.md §5): one SQLite file that holds a
 * run's state and that several processes share. Each tool owns its tables
 * and creates them on first use, at a schema version.
 *
 * Writers follow the crash-only rule: BEGIN IMMEDIATE (retried while
 * another process writes), insert, COMMIT, and only then emit the record.
 * No transaction is held across network I/O or a read that may block: a
 * tool batches the records that are ready now, commits, then waits.
 *
 * A struct db belongs to the process that opened it: not across fork().
 */
#ifndef JL_DB_H
#define JL_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "sha256.h"

struct db;

/*
 * Open the run database at path, creating it when missing: WAL journal,
 * synchronous=NORMAL, a 10 s busy timeout, application_id checked (a
 * SQLite file of another application is refused, as is a file that is not
 * SQLite). On failure returns NULL after a message naming the file and the
 * cause, with *exit_code EXIT_CANTCREAT (cannot create or open, e.g. a
 * read-only directory) or EXIT_DATAERR (not a jlkit database).
 */
struct db *db_open(const char *path, int *exit_code);

/* Commit what is pending and close. Returns 0, or -1 after a message. */
int db_close(struct db *db);

/* The SQLite connection, for a tool's prepared statements on its own tables. */
sqlite3 *db_sqlite(struct db *db);

/*
 * Prepare the n statements sql[] into st[] (persistent, retried while the
 * database is busy). Returns 0, or -1 with sqlite3_errmsg(db_sqlite(db))
 * saying why; st[] is then partly filled, for the caller to finalize.
 */
int db_prepare_all(struct db *db, const char *const sql[], sqlite3_stmt *st[], int n);

/* The file's path, for messages. */
const char *db_path(const struct db *db);

/*
 * Bring a component's tables (e.g. "llm_cache") to the newest version.
 * steps[i] is the SQL that takes the component from version i to i + 1;
 * they run in one write transaction, and the version is kept in the table
 * jl_schema(component, version). Several processes may call this at once.
 * A database whose version of the component is newer than nsteps is
 * refused. Returns 0, or -1 after a message.
 */
int db_schema(struct db *db, const char *component, const char *const *steps, int nsteps);

/*
 * Start a write transaction (BEGIN IMMEDIATE), retrying with a short
 * randomised backoff while the database is busy (another writer, or crash
 * recovery), for up to the busy timeout. Returns 0, or -1 after a message.
 * Does nothing when a transaction is already open.
 */
int db_begin(struct db *db);

/*
 * Commit the open transaction (retried while busy). Returns 0 (also when
 * none is open), or -1 after a message, having rolled back.
 */
int db_commit(struct db *db);

/* Roll back the open transaction, if any. */
void db_rollback(struct db *db);

/* Whether a transaction is open. */
bool db_in_transaction(const struct db *db);

/*
 * A cache table: key (SHA-256 of the exact request) → value (text), with
 * the time it was stored. db_cache_table creates it (component "cache:NAME",
 * version 1) if missing.
 */
int db_cache_table(struct db *db, const char *table);

/* Look up key. Returns 1 with the value appended to *value, 0 when absent, -1 on error. */
int db_cache_get(struct db *db, const char *table, const unsigned char key[SHA256_SIZE],
	struct buf *value);

/*
 * Store key → value; the first value stored for a key stays (INSERT OR
 * IGNORE). Inside the open transaction if there is one, else in its own.
 * Returns 0, or -1 after a message.
 */
int db_cache_put(struct db *db, const char *table, const unsigned char key[SHA256_SIZE],
	const void *value, size_t len);

#endif
