/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "record.h"
#include "registry.h"
#include "util.h"

static const char *const schema[] = {
	/* version 1 */
	"CREATE TABLE dedup_items("
	"key TEXT PRIMARY KEY, " /* the key's JSON text */
	"hash TEXT NOT NULL, "   /* the content's hash when it was recorded */
	"status TEXT NOT NULL, " /* done or failed */
	"error TEXT, "           /* the _error code of a failure */
	"attempts INTEGER NOT NULL, "
	"updated INTEGER NOT NULL, " /* microseconds since the epoch: the newer wins a merge */
	"record TEXT) WITHOUT ROWID",
};

enum { ST_GET, ST_PUT, ST_STATS, ST_REPLAY, ST_MAX };

static const char *const sql[ST_MAX] = {
	[ST_GET] = "SELECT status, hash, attempts FROM dedup_items WHERE key = ?1",
	[ST_PUT] = "INSERT INTO dedup_items(key, hash, status, error, attempts, updated, record) "
		   "VALUES(?1, ?2, ?3, ?4, ?7, ?5, ?6) ON CONFLICT(key) DO UPDATE SET "
		   "hash = excluded.hash, status = excluded.status, error = excluded.error, "
		   "attempts = CASE WHEN dedup_items.status = 'done' AND excluded.status = "
		   "'done' THEN dedup_items.attempts ELSE dedup_items.attempts + ?7 END, "
		   "updated = excluded.updated, record = coalesce(excluded.record, "
		   "CASE WHEN excluded.status = 'done' THEN NULL ELSE dedup_items.record END)",
	[ST_STATS] = "SELECT status, count(*) FROM dedup_items GROUP BY status ORDER BY status",
	[ST_REPLAY] = "SELECT record FROM dedup_items WHERE status = 'done' AND record IS NOT "
		      "NULL ORDER BY key",
};

#define READS_PER_SNAPSHOT 8192

struct registry {
	struct db *db;
	sqlite3_stmt *st[ST_MAX];
	long reads;   /* lookups in the open read snapshot */
	bool reading; /* a read transaction of ours is open */
};

static int
fail(struct registry *r, const char *what)
{
	return error("%s: cannot %s: %s", db_path(r->db), what, sqlite3_errmsg(db_sqlite(r->db)));
}

struct registry *
registry_open(struct db *db)
{
	struct registry *r = xcalloc(1, sizeof(*r));

	r->db = db;
	if (db_schema(db, "dedup", schema, (int)(sizeof(schema) / sizeof(*schema))) != 0) {
		free(r);
		return NULL;
	}
	if (db_prepare_all(db, sql, r->st, ST_MAX) != 0) {
		fail(r, "prepare the registry");
		registry_close(r);
		return NULL;
	}
	return r;
}

void
registry_close(struct registry *r)
{
	if (r == NULL)
		return;
	registry_end_reads(r);
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(r->st[i]);
	free(r);
}

static void
done_with(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

void
registry_end_reads(struct registry *r)
{
	if (r != NULL && r->reading) {
		sqlite3_exec(db_sqlite(r->db), "COMMIT", NULL, NULL, NULL);
		r->reading = false;
	}
}

int
registry_get(struct registry *r, const char *key, size_t key_len, struct item *it)
{
	sqlite3_stmt *st = r->st[ST_GET];
	int rc;

	if (r->reading && ++r->reads >= READS_PER_SNAPSHOT)
		registry_end_reads(r);
	if (!r->reading && !db_in_transaction(r->db) &&
		sqlite3_exec(db_sqlite(r->db), "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
		r->reading = true;
		r->reads = 0;
	}
	rc = sqlite3_bind_text(st, 1, key, (int)key_len, SQLITE_STATIC);
	it->status = ITEM_NONE;
	it->hash[0] = '\0';
	it->attempts = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 0);
		const char *hash = (const char *)sqlite3_column_text(st, 1);

		it->status =
			status != NULL && strcmp(status, "done") == 0 ? ITEM_DONE : ITEM_FAILED;
		snprintf(it->hash, sizeof(it->hash), "%s", hash != NULL ? hash : "");
		it->attempts = (long)sqlite3_column_int64(st, 2);
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE) {
		fail(r, "read the registry");
		done_with(st);
		return -1;
	}
	done_with(st);
	return 0;
}

static sqlite3_int64
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (sqlite3_int64)tv.tv_sec * 1000000 + tv.tv_usec;
}

int
registry_put(struct registry *r, const char *key, size_t key_len, const char *hash,
	const char *error, const char *record, size_t record_len)
{
	sqlite3_stmt *st = r->st[ST_PUT];
	int rc = sqlite3_bind_text(st, 1, key, (int)key_len, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, error == NULL ? "done" : "failed", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = error == NULL ? sqlite3_bind_null(st, 4)
				   : sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, now_us());
	if (rc == SQLITE_OK)
		rc = record == NULL ? sqlite3_bind_null(st, 6)
				    : sqlite3_bind_text64(st, 6, record, record_len, SQLITE_STATIC,
					      SQLITE_UTF8);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 7, error == NULL || !record_held_back(error));
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	done_with(st);
	if (rc != SQLITE_DONE)
		return fail(r, "write the registry");
	return 0;
}

int
registry_stats(struct registry *r, struct buf *out)
{
	sqlite3_stmt *st = r->st[ST_STATS];
	long long done = 0, failed = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 0);

		if (status != NULL && strcmp(status, "done") == 0)
			done = sqlite3_column_int64(st, 1);
		else
			failed += sqlite3_column_int64(st, 1);
	}
	done_with(st);
	if (rc != SQLITE_DONE)
		return fail(r, "count the registry");
	buf_puts(out, "{\"done\":");
	buf_add_uint(out, (unsigned long long)done);
	buf_puts(out, ",\"failed\":");
	buf_add_uint(out, (unsigned long long)failed);
	buf_puts(out, ",\"total\":");
	buf_add_uint(out, (unsigned long long)(done + failed));
	buf_putc(out, '}');
	return 0;
}

long long
registry_forget(struct registry *r, bool failed_only)
{
	sqlite3 *s = db_sqlite(r->db);

	if (db_begin(r->db) != 0)
		return -1;
	if (sqlite3_exec(s,
		    failed_only ? "DELETE FROM dedup_items WHERE status = 'failed'"
				: "DELETE FROM dedup_items",
		    NULL, NULL, NULL) != SQLITE_OK) {
		fail(r, "forget");
		db_rollback(r->db);
		return -1;
	}
	if (db_commit(r->db) != 0)
		return -1;
	return sqlite3_changes64(s);
}

long long
registry_merge(struct registry *r, const char *path)
{
	sqlite3 *s = db_sqlite(r->db);
	sqlite3_stmt *st = NULL;
	long long taken;
	int rc;

	/* ATTACH cannot run inside a transaction. */
	rc = sqlite3_prepare_v2(s, "ATTACH DATABASE ?1 AS other", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		error("cannot open '%s' to merge: %s", path, sqlite3_errmsg(s));
		return -1;
	}
	taken = -1;
	if (db_begin(r->db) == 0) {
		rc = sqlite3_exec(s,
			"INSERT INTO main.dedup_items SELECT * FROM other.dedup_items AS o WHERE "
			"true "
			"ON CONFLICT(key) DO UPDATE SET hash = excluded.hash, status = "
			"excluded.status, error = excluded.error, attempts = excluded.attempts, "
			"updated = excluded.updated, record = excluded.record "
			"WHERE excluded.updated > dedup_items.updated",
			NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			taken = sqlite3_changes64(s);
			if (db_commit(r->db) != 0)
				taken = -1;
		} else {
			error("cannot merge '%s': %s", path, sqlite3_errmsg(s));
			db_rollback(r->db);
		}
	}
	sqlite3_exec(s, "DETACH DATABASE other", NULL, NULL, NULL);
	return taken;
}

long long
registry_replay(struct registry *r, void (*emit)(const char *, size_t, void *), void *arg)
{
	sqlite3_stmt *st = r->st[ST_REPLAY];
	long long n = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		emit((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
			arg);
		n++;
	}
	done_with(st);
	if (rc != SQLITE_DONE)
		return fail(r, "read the stored records");
	return n;
}
