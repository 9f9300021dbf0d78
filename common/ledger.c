/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

enum { ST_ADD, ST_ADD_CHUNK, ST_TOTAL_ADD, ST_TOTAL, ST_MAX };

/* Rows are inserted LEDGER_CHUNK to a statement: fewer statements, the same rows. */
#define LEDGER_CHUNK 32
#define ROW_COLUMNS                                                                                \
	"INSERT INTO cost_ledger(run, record_hash, model, backend, prompt_tokens, "                \
	"completion_tokens, cached_tokens, llm_micro, search_micro, micro, at) VALUES"
#define ROW_VALUES "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
enum { ROW_PARAMS = 11 };

/* A row ledger_add took, not yet inserted: its own copy of the text. */
struct held_row {
	char record_hash[24], model[128], backend[32];
	bool has_hash, has_model, has_backend;
	long long prompt_tokens, completion_tokens, cached_tokens;
	int64_t llm_micro, search_micro, at;
};

struct ledger {
	struct db *db;
	sqlite3_stmt *st[ST_MAX];
	char *pending_run;     /* the run of the rows added since the last flush */
	int64_t pending_micro; /* and what they add to its total */
	struct held_row held[LEDGER_CHUNK];
	size_t nheld;
};

struct ledger *
ledger_open(struct db *db)
{
	struct ledger *l = xcalloc(1, sizeof(*l));
	struct buf chunk = BUF_INIT;
	const char *sql[ST_MAX] = {
		[ST_ADD] = ROW_COLUMNS ROW_VALUES,
		[ST_TOTAL_ADD] = "INSERT INTO cost_totals(run, micro) VALUES(?1, ?2), ('', ?2) "
				 "ON CONFLICT(run) DO UPDATE SET micro = micro + excluded.micro",
		[ST_TOTAL] = "SELECT micro FROM cost_totals WHERE run = ?1",
	};

	l->db = db;
	if (db_schema(db, "cost", schema, 1) != 0) {
		free(l);
		return NULL;
	}
	buf_puts(&chunk, ROW_COLUMNS);
	for (int i = 0; i < LEDGER_CHUNK; i++)
		buf_puts(&chunk, i == 0 ? ROW_VALUES : "," ROW_VALUES);
	sql[ST_ADD_CHUNK] = buf_cstr(&chunk);
	if (db_prepare_all(db, sql, l->st, ST_MAX) != 0) {
		error("%s: cannot prepare the ledger: %s", db_path(db),
			sqlite3_errmsg(db_sqlite(db)));
		buf_free(&chunk);
		ledger_close(l);
		return NULL;
	}
	buf_free(&chunk);
	return l;
}

void
ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(l->st[i]);
	free(l->pending_run);
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
	if (rc != SQLITE_DONE)
		return error("%s: cannot write the ledger: %s", db_path(l->db),
			sqlite3_errmsg(db_sqlite(l->db)));
	return 0;
}

/* Bind row to the ROW_PARAMS parameters of st from first on. */
static int
bind_row(sqlite3_stmt *st, int first, const char *run, const struct held_row *row)
{
	int rc = bind_text(st, first, run);

	if (rc == SQLITE_OK)
		rc = bind_text(st, first + 1, row->has_hash ? row->record_hash : NULL);
	if (rc == SQLITE_OK)
		rc = bind_text(st, first + 2, row->has_model ? row->model : NULL);
	if (rc == SQLITE_OK)
		rc = bind_text(st, first + 3, row->has_backend ? row->backend : NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 4, row->prompt_tokens);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 5, row->completion_tokens);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 6, row->cached_tokens);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 7, row->llm_micro);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 8, row->search_micro);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 9, row->llm_micro + row->search_micro);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 10, row->at);
	return rc;
}

/* Insert the rows held: a chunk in one statement, fewer one by one. */
static int
flush_rows(struct ledger *l)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;

	if (l->nheld == LEDGER_CHUNK) {
		st = l->st[ST_ADD_CHUNK];
		for (size_t i = 0; i < l->nheld && rc == SQLITE_OK; i++)
			rc = bind_row(st, (int)i * ROW_PARAMS + 1, l->pending_run, &l->held[i]);
		if (step_done(l, st, rc) != 0)
			return -1;
	} else {
		st = l->st[ST_ADD];
		for (size_t i = 0; i < l->nheld; i++)
			if (step_done(l, st, bind_row(st, 1, l->pending_run, &l->held[i])) != 0)
				return -1;
	}
	l->nheld = 0;
	return 0;
}

/* Insert the rows held and add what they cost to the totals of their run and of "". */
static int
flush(struct ledger *l)
{
	sqlite3_stmt *tot = l->st[ST_TOTAL_ADD];
	int rc;

	if (flush_rows(l) != 0)
		return -1;
	if (l->pending_micro == 0)
		return 0;
	rc = bind_text(tot, 1, l->pending_run);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(tot, 2, l->pending_micro);
	if (step_done(l, tot, rc) != 0)
		return -1;
	l->pending_micro = 0;
	return 0;
}

/* Copy the C string s (may be NULL) into to[size], saying whether there was one. */
static bool
hold_text(char *to, size_t size, const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strnlen(s, size - 1);
	memcpy(to, s, n);
	to[n] = '\0';
	return true;
}

int
ledger_add(struct ledger *l, const struct ledger_row *row)
{
	struct held_row *h;
	struct timespec now;

	if (l->pending_run == NULL || strcmp(l->pending_run, row->run) != 0) {
		if (flush(l) != 0)
			return -1;
		free(l->pending_run);
		l->pending_run = xstrdup(row->run);
	}
	if (l->nheld == LEDGER_CHUNK && flush_rows(l) != 0)
		return -1;
	h = &l->held[l->nheld++];
	clock_gettime(CLOCK_REALTIME_COARSE, &now); /* a clock tick (ms) is fine for a ledger */
	h->has_hash = hold_text(h->record_hash, sizeof(h->record_hash), row->record_hash);
	h->has_model = hold_text(h->model, sizeof(h->model), row->model);
	h->has_backend = hold_text(h->backend, sizeof(h->backend), row->backend);
	h->prompt_tokens = row->prompt_tokens;
	h->completion_tokens = row->completion_tokens;
	h->cached_tokens = row->cached_tokens;
	h->llm_micro = row->llm_micro;
	h->search_micro = row->search_micro;
	h->at = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	l->pending_micro += row->llm_micro + row->search_micro;
	return 0;
}

int
ledger_commit(struct ledger *l)
{
	if (flush(l) != 0) {
		ledger_rollback(l);
		return -1;
	}
	return db_commit(l->db);
}

void
ledger_rollback(struct ledger *l)
{
	l->nheld = 0;
	l->pending_micro = 0;
	db_rollback(l->db);
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
	if (rc != SQLITE_DONE)
		return error("%s: cannot read the ledger: %s", db_path(l->db),
			sqlite3_errmsg(db_sqlite(l->db)));
	if (l->pending_run != NULL && (*run == '\0' || strcmp(run, l->pending_run) == 0))
		total += l->pending_micro;
	return total;
}

void
ledger_usd(struct buf *b, int64_t micro)
{
	char text[32];
	size_t i = sizeof(text);
	uint64_t n = micro < 0 ? -(uint64_t)micro : (uint64_t)micro;

	for (int digit = 0; digit < 7 || n != 0; digit++) { /* at least 0.000000 */
		if (digit == 6)
			text[--i] = '.';
		text[--i] = (char)('0' + n % 10);
		n /= 10;
	}
	if (micro < 0)
		text[--i] = '-';
	buf_add(b, text + i, sizeof(text) - i);
}
