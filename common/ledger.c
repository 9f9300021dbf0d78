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
	/*
	 * version 2: pico-dollars, the amounts multiplied by a million. What
	 * SQLite would turn into a float (an amount past the largest) fails
	 * instead: the rows' new amounts go through a check, and the totals'
	 * column keeps one, for the totals written later. (The rows need none:
	 * they are bound as 64-bit integers.)
	 */
	"ALTER TABLE cost_ledger RENAME COLUMN llm_micro TO llm_pico;"
	"ALTER TABLE cost_ledger RENAME COLUMN search_micro TO search_pico;"
	"ALTER TABLE cost_ledger RENAME COLUMN micro TO pico;"
	"UPDATE cost_ledger SET llm_pico = llm_pico * 1000000, "
	"search_pico = search_pico * 1000000, pico = pico * 1000000;"
	"CREATE TEMP TABLE cost_migrated(pico INTEGER CHECK(typeof(pico) = 'integer'));"
	"INSERT INTO cost_migrated SELECT llm_pico FROM cost_ledger UNION ALL "
	"SELECT search_pico FROM cost_ledger UNION ALL SELECT pico FROM cost_ledger;"
	"DROP TABLE cost_migrated;"
	"CREATE TABLE cost_totals2(run TEXT PRIMARY KEY, "
	"pico INTEGER NOT NULL CHECK(typeof(pico) = 'integer')) WITHOUT ROWID;"
	"INSERT INTO cost_totals2 SELECT run, micro * 1000000 FROM cost_totals;"
	"DROP TABLE cost_totals;"
	"ALTER TABLE cost_totals2 RENAME TO cost_totals;",
	/* version 3: what of a row's prompt was written to the cache, and batch answers */
	"ALTER TABLE cost_ledger ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cost_ledger ADD COLUMN batch INTEGER NOT NULL DEFAULT 0;",
};

enum { ST_ADD, ST_ADD_CHUNK, ST_TOTAL_ADD, ST_TOTAL, ST_MAX };

/* Rows are inserted LEDGER_CHUNK to a statement: fewer statements, the same rows. */
#define LEDGER_CHUNK 32
#define ROW_COLUMNS                                                                                \
	"INSERT INTO cost_ledger(run, record_hash, model, backend, prompt_tokens, "                \
	"completion_tokens, cached_tokens, llm_pico, search_pico, pico, at, "                      \
	"cache_write_tokens, batch) VALUES"
#define ROW_VALUES "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
enum { ROW_PARAMS = 13 };

/* A row ledger_add took, not yet inserted: its own copy of the text. */
struct held_row {
	char record_hash[24], model[128], backend[32];
	bool has_hash, has_model, has_backend;
	long long prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens;
	int64_t llm_pico, search_pico, pico, at;
	int batch;
};

struct ledger {
	struct db *db;
	sqlite3_stmt *st[ST_MAX];
	char *pending_run;    /* the run of the rows added since the last flush */
	int64_t pending_pico; /* and what they add to its total */
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
		[ST_TOTAL_ADD] = "INSERT INTO cost_totals(run, pico) VALUES(?1, ?2), ('', ?2) "
				 "ON CONFLICT(run) DO UPDATE SET pico = pico + excluded.pico",
		[ST_TOTAL] = "SELECT pico FROM cost_totals WHERE run = ?1",
	};

	l->db = db;
	if (db_schema(db, "cost", schema, sizeof(schema) / sizeof(schema[0])) != 0) {
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

/* An amount past the largest an int64_t holds. */
static int
too_large(const struct ledger *l, const char *what)
{
	return error("%s: %s would pass $9223372.036854775807, the most the ledger holds",
		db_path(l->db), what);
}

static int
step_done(struct ledger *l, sqlite3_stmt *st, int rc)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE &&
		sqlite3_extended_errcode(db_sqlite(l->db)) == SQLITE_CONSTRAINT_CHECK)
		return too_large(l, "a total"); /* SQLite would have made it a float */
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
		rc = sqlite3_bind_int64(st, first + 7, row->llm_pico);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 8, row->search_pico);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 9, row->pico);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 10, row->at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, first + 11, row->cache_write_tokens);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, first + 12, row->batch != 0);
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
	if (l->pending_pico == 0)
		return 0;
	rc = bind_text(tot, 1, l->pending_run);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(tot, 2, l->pending_pico);
	if (step_done(l, tot, rc) != 0)
		return -1;
	l->pending_pico = 0;
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
	int64_t pico, total;

	if (row->llm_pico < 0 || row->search_pico < 0)
		return error("%s: a ledger row of a negative amount", db_path(l->db));
	if (__builtin_add_overflow(row->llm_pico, row->search_pico, &pico))
		return too_large(l, "a ledger row");
	if (l->pending_run == NULL || strcmp(l->pending_run, row->run) != 0) {
		if (flush(l) != 0)
			return -1;
		free(l->pending_run);
		l->pending_run = xstrdup(row->run);
	}
	if (l->nheld == LEDGER_CHUNK && flush_rows(l) != 0)
		return -1;
	if (__builtin_add_overflow(l->pending_pico, pico, &total))
		return too_large(l, "the batch's total");
	l->pending_pico = total;
	h = &l->held[l->nheld++];
	clock_gettime(CLOCK_REALTIME_COARSE, &now); /* a clock tick (ms) is fine for a ledger */
	h->has_hash = hold_text(h->record_hash, sizeof(h->record_hash), row->record_hash);
	h->has_model = hold_text(h->model, sizeof(h->model), row->model);
	h->has_backend = hold_text(h->backend, sizeof(h->backend), row->backend);
	h->prompt_tokens = row->prompt_tokens;
	h->completion_tokens = row->completion_tokens;
	h->cached_tokens = row->cached_tokens;
	h->cache_write_tokens = row->cache_write_tokens;
	h->batch = row->batch;
	h->llm_pico = row->llm_pico;
	h->search_pico = row->search_pico;
	h->pico = pico;
	h->at = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
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
	l->pending_pico = 0;
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
	if (l->pending_run != NULL && (*run == '\0' || strcmp(run, l->pending_run) == 0) &&
		__builtin_add_overflow(total, l->pending_pico, &total))
		return too_large(l, "the ledger's total");
	return total;
}

ledger_sum
ledger_pico(int64_t micro)
{
	return (ledger_sum)micro * LEDGER_PICO_PER_MICRO;
}

/*
 * The decimal digits of n, written backwards ending at end; returns where
 * they start. At least min digits (leading zeros).
 */
static char *
put_u64(char *end, uint64_t n, int min)
{
	static const char pairs[] = /* "00" to "99" */
		"00010203040506070809"
		"10111213141516171819"
		"20212223242526272829"
		"30313233343536373839"
		"40414243444546474849"
		"50515253545556575859"
		"60616263646566676869"
		"70717273747576777879"
		"80818283848586878889"
		"90919293949596979899";

	while (n >= 100 || min > 2) { /* two digits a division */
		end -= 2;
		memcpy(end, pairs + n % 100 * 2, 2);
		n /= 100;
		min -= 2;
	}
	if (n >= 10 || min == 2) {
		end -= 2;
		memcpy(end, pairs + n * 2, 2);
	} else {
		*--end = (char)('0' + (int)n);
	}
	return end;
}

/* put_u64 for a 128-bit n. */
static char *
put_digits(char *end, unsigned __int128 n, int min)
{
	while (n > UINT64_MAX) { /* 128-bit division only for what needs it */
		*--end = (char)('0' + (int)(n % 10));
		n /= 10;
		min--;
	}
	return put_u64(end, (uint64_t)n, min);
}

void
ledger_usd(struct buf *b, ledger_sum pico)
{
	static const uint64_t per_usd = UINT64_C(1000000000000);
	unsigned __int128 n = pico < 0 ? -(unsigned __int128)pico : (unsigned __int128)pico;
	uint64_t fraction = n <= UINT64_MAX ? (uint64_t)n % per_usd : (uint64_t)(n % per_usd);
	int decimals = 12;
	char text[64], *start, *end = text + sizeof(text);

	if (fraction % 1000000 == 0) { /* whole micro-dollars, the usual: 6 decimals */
		fraction /= 1000000;
		decimals = 6;
	}
	while (decimals > 6 && fraction % 10 == 0) {
		fraction /= 10;
		decimals--;
	}
	start = put_u64(end, fraction, decimals);
	*--start = '.';
	if (n <= UINT64_MAX) /* the usual amount: 64-bit arithmetic */
		start = put_u64(start, (uint64_t)n / per_usd, 1);
	else
		start = put_digits(start, n / per_usd, 1);
	if (pico < 0)
		*--start = '-';
	buf_add(b, start, (size_t)(end - start));
}

void
ledger_uint(struct buf *b, ledger_count n)
{
	char text[48], *end = text + sizeof(text), *start = put_digits(end, n, 1);

	buf_add(b, start, (size_t)(end - start));
}
