/* SPDX-License-Identifier: BSD-2-Clause */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "ledger.h"
#include "util.h"

static const char *const schema[] = {
	/* version 1 */
	"CREATE TABLE cost_ledger(id INTEGER PRIMARY KEY, run TEXT NOT NULL, "
	"record_hash TEXT, model TEXT, backend TEXT, prompt_tokens INTEGER, "
	"completion_tokens INTEGER, cached_tokens INTEGER, llm_micro INTEGER NOT NULL, "
	"search_micro INTEGER NOT NULL, micro INTEGER NOT NULL, at INTEGER NOT NULL);"
	"CREATE TABLE cost_totals(run TEXT PRIMARY KEY, micro INTEGER NOT NULL) WITHOUT ROWID;",
};

enum { ST_ADD, ST_TOTAL_ADD, ST_TOTAL, ST_MAX };

static const char *const sql[ST_MAX] = {
	[ST_ADD] = "INSERT INTO cost_ledger(run, record_hash, model, backend, prompt_tokens, "
		   "completion_tokens, cached_tokens, llm_micro, search_micro, micro, at) "
		   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8 + ?9, ?10)",
	[ST_TOTAL_ADD] = "INSERT INTO cost_totals(run, micro) VALUES(?1, ?2), ('', ?2) "
			 "ON CONFLICT(run) DO UPDATE SET micro = micro + excluded.micro",
	[ST_TOTAL] = "SELECT micro FROM cost_totals WHERE run = ?1",
};

struct ledger {
	struct db *db;
	sqlite3_stmt *st[ST_MAX];
};

struct ledger *
ledger_open(struct db *db)
{
	struct ledger *l = xcalloc(1, sizeof(*l));

	l->db = db;
	if (db_schema(db, "cost", schema, 1) != 0) {
		free(l);
		return NULL;
	}
	if (db_prepare_all(db, sql, l->st, ST_MAX) != 0) {
		error("%s: cannot prepare the ledger: %s", db_path(db),
			sqlite3_errmsg(db_sqlite(db)));
		ledger_close(l);
		return NULL;
	}
	return l;
}

void
ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(l->st[i]);
	free(l);
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s == NULL ? sqlite3_bind_null(st, i)
			 : sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int
step_done(struct ledger *l, sqlite3_stmt *st, int rc)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return error("%s: cannot write the ledger: %s", db_path(l->db),
			sqlite3_errmsg(db_sqlite(l->db)));
	return 0;
}

int
ledger_add(struct ledger *l, const struct ledger_row *row)
{
	sqlite3_stmt *st = l->st[ST_ADD], *tot = l->st[ST_TOTAL_ADD];
	struct timeval tv;
	int rc;

	gettimeofday(&tv, NULL);
	rc = bind_text(st, 1, row->run);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, row->record_hash);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 3, row->model);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 4, row->backend);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, row->prompt_tokens);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, row->completion_tokens);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 7, row->cached_tokens);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, row->llm_micro);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, row->search_micro);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 10,
			(sqlite3_int64)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	if (step_done(l, st, rc) != 0)
		return -1;
	rc = bind_text(tot, 1, row->run);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(tot, 2, row->llm_micro + row->search_micro);
	return step_done(l, tot, rc);
}

int64_t
ledger_total(struct ledger *l, const char *run)
{
	sqlite3_stmt *st = l->st[ST_TOTAL];
	int64_t total = 0;
	int rc = bind_text(st, 1, run);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		total = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return error("%s: cannot read the ledger: %s", db_path(l->db),
			sqlite3_errmsg(db_sqlite(l->db)));
	return total;
}

void
ledger_usd(struct buf *b, int64_t micro)
{
	char text[40];

	snprintf(text, sizeof(text), "%" PRId64 ".%06" PRId64, micro / 1000000, micro % 1000000);
	buf_puts(b, text);
}
