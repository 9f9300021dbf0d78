/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/ledger.c, in a temporary directory: rows added in batches that
 * cross the 32-row statements, runs changing inside a batch, the totals
 * written at the commit equal to the sum of the rows, ledger_total counting
 * the rows not yet committed, a rollback leaving neither rows nor totals,
 * text copied when the row is added; amounts past the largest refused, in a
 * row, a batch and a total; a version 1 ledger (micro-dollars) migrated to
 * pico-dollars, and one that cannot be refused whole; ledger_usd's money;
 * hash_words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "ledger.h"
#include "strset.h"
#include "tap.h"
#include "testdb.h"
#include "testutil.h"
#include "util.h"

/* Add n rows of run, row i costing i + 1 pico-dollars of LLM and 10 of search. */
static int
add_rows(struct ledger *l, const char *run, int n)
{
	for (int i = 0; i < n; i++) {
		char model[32], hash[24];
		struct ledger_row row = { run, hash, model, "tavily", 100 + i, 10, i % 3, i + 1, 10,
			0, 0 };

		snprintf(model, sizeof(model), "model-%d", i % 4);
		snprintf(hash, sizeof(hash), "%016x", (unsigned)i);
		if (ledger_add(l, &row) != 0)
			return -1;
		memset(model, 'x', sizeof(model) - 1); /* the ledger kept its own copy */
	}
	return 0;
}

static void
test_batches(const char *path)
{
	int code = 0;
	struct db *db = db_open(path, &code);
	struct ledger *l = db != NULL ? ledger_open(db) : NULL;
	/* rows 0..n-1 cost sum(i + 1) + 10 n */
	long long a = 75 * 76 / 2 + 750, b = 40 * 41 / 2 + 400, c = 3 * 4 / 2 + 30;

	ok(l != NULL, "ledger_open on a new database");
	if (l == NULL)
		return;
	ok(db_begin(db) == 0 && add_rows(l, "a", 75) == 0, "75 rows of run a");
	is_int(ledger_total(l, "a"), a, "ledger_total counts rows not yet committed");
	ok(add_rows(l, "b", 40) == 0, "then 40 of run b in the same batch");
	is_int(ledger_total(l, ""), a + b, "the total of every run, before the commit");
	/* a: 2 statements of 32, 11 rows when the run changes; b: one of 32 */
	is_int(query_int(db, "SELECT count(*) FROM cost_ledger"), 107,
		"rows go in 32 to a statement, and when the run changes: 107 of 115 written");
	ok(ledger_commit(l) == 0, "ledger_commit");
	is_int(query_int(db, "SELECT count(*) FROM cost_ledger"), 115, "every row committed");
	is_int(query_int(db, "SELECT pico FROM cost_totals WHERE run = 'a'"), a, "total of a");
	is_int(query_int(db, "SELECT pico FROM cost_totals WHERE run = 'b'"), b, "total of b");
	is_int(query_int(db, "SELECT pico FROM cost_totals WHERE run = ''"), a + b,
		"total of every run");
	is_int(query_int(db, "SELECT sum(pico) FROM cost_ledger"), a + b,
		"the totals are the sum of the rows");
	is_int(query_int(db,
		       "SELECT count(*) FROM cost_ledger WHERE pico != llm_pico + "
		       "search_pico OR model NOT LIKE 'model-_' OR backend != 'tavily' "
		       "OR length(record_hash) != 16 OR at < 1700000000000"),
		0, "every row as added: text copied, pico the sum, time in ms");
	ok(db_begin(db) == 0 && add_rows(l, "a", 3) == 0, "3 more rows of a");
	is_int(ledger_total(l, "a"), a + c, "counted before the commit");
	ledger_rollback(l);
	ok(db_begin(db) == 0 && ledger_commit(l) == 0, "rolled back, then an empty batch");
	is_int(query_int(db, "SELECT count(*) FROM cost_ledger"), 115, "no row of the rollback");
	is_int(query_int(db, "SELECT pico FROM cost_totals WHERE run = ''"), a + b,
		"nor its money");
	ledger_close(l);
	ok(db_close(db) == 0, "db_close");
}

/* One row of run costing llm and search pico-dollars; 0 or -1 as ledger_add. */
static int
add_one(struct ledger *l, const char *run, int64_t llm, int64_t search)
{
	struct ledger_row row = { run, NULL, "m", NULL, 1, 1, 0, llm, search, 0, 0 };

	return ledger_add(l, &row);
}

static void
test_limits(const char *path)
{
	int code = 0;
	struct db *db = db_open(path, &code);
	struct ledger *l = db != NULL ? ledger_open(db) : NULL;

	ok(l != NULL, "ledger_open");
	if (l == NULL)
		return;
	ok(db_begin(db) == 0 && add_one(l, "a", INT64_MAX, 1) == -1,
		"a row of more than the largest amount: refused");
	ok(add_one(l, "a", -1, 0) == -1, "a negative amount: refused");
	ok(add_one(l, "a", INT64_MAX - 10, 0) == 0 && add_one(l, "a", 11, 0) == -1,
		"a batch that would pass the largest: refused");
	is_int(ledger_total(l, "a"), INT64_MAX - 10, "the batch holds what fitted");
	ok(ledger_commit(l) == 0, "committed");
	is_int(query_int(db, "SELECT pico FROM cost_totals WHERE run = 'a'"), INT64_MAX - 10,
		"the largest total but 10, kept exactly");
	ok(db_begin(db) == 0 && add_one(l, "a", 5, 6) == 0, "a row of 11 more");
	is_int(ledger_total(l, "a"), -1, "ledger_total: the total would pass the largest");
	ok(ledger_commit(l) == -1, "ledger_commit fails rather than write a wrong total");
	is_int(query_int(db, "SELECT pico FROM cost_totals WHERE run = 'a'"), INT64_MAX - 10,
		"the total as it was");
	is_int(query_int(db, "SELECT count(*) FROM cost_ledger"), 1, "and the rows");
	ledger_close(l);
	ok(db_close(db) == 0, "db_close");
}

/* The ledger's tables at version 1, as jlkit wrote them: amounts in micro-dollars. */
static const char *const version1[] = {
	"CREATE TABLE cost_ledger(id INTEGER PRIMARY KEY, run TEXT NOT NULL, "
	"record_hash TEXT, model TEXT, backend TEXT, prompt_tokens INTEGER, "
	"completion_tokens INTEGER, cached_tokens INTEGER, llm_micro INTEGER NOT NULL, "
	"search_micro INTEGER NOT NULL, micro INTEGER NOT NULL, at INTEGER NOT NULL);"
	"CREATE TABLE cost_totals(run TEXT PRIMARY KEY, micro INTEGER NOT NULL) WITHOUT ROWID;",
};

/* A run database at version 1 of the ledger with rows (SQL) in it, at path. */
static struct db *
old_ledger(const char *path, const char *rows)
{
	int code = 0;
	struct db *db = db_open(path, &code);

	if (db == NULL || db_schema(db, "cost", version1, 1) != 0 ||
		sqlite3_exec(db_sqlite(db), rows, NULL, NULL, NULL) != SQLITE_OK)
		return NULL;
	return db;
}

static void
test_migration(const char *path, const char *path2)
{
	struct db *db = old_ledger(path,
		"INSERT INTO cost_ledger VALUES(1, 'r', 'h1', 'gpt-4o', NULL, 1000, 100, 0, "
		"3500, 0, 3500, 1700000000001);"
		"INSERT INTO cost_ledger VALUES(2, 'r', 'h2', NULL, 'tavily', 0, 0, 0, 0, 8000, "
		"8000, 1700000000002);"
		"INSERT INTO cost_totals VALUES('r', 11500), ('', 11500);");
	struct ledger *l;

	ok(db != NULL, "a version 1 ledger in micro-dollars");
	if (db == NULL)
		return;
	l = ledger_open(db);
	ok(l != NULL, "ledger_open migrates it");
	if (l == NULL)
		return;
	is_int(query_int(db, "SELECT version FROM jl_schema WHERE component = 'cost'"), 3,
		"version 3 (through 2)");
	is_int(ledger_total(l, ""), 11500000000, "the total in pico-dollars: $0.0115");
	is_int(ledger_total(l, "r"), 11500000000, "of the run too");
	is_int(query_int(db,
		       "SELECT count(*) FROM cost_ledger WHERE (id = 1 AND llm_pico = "
		       "3500000000 AND search_pico = 0 AND pico = 3500000000 AND model = "
		       "'gpt-4o' AND record_hash = 'h1' AND prompt_tokens = 1000 AND at = "
		       "1700000000001) OR (id = 2 AND llm_pico = 0 AND search_pico = 8000000000 "
		       "AND pico = 8000000000 AND backend = 'tavily')"),
		2, "every row kept, its amounts in pico-dollars");
	ok(db_begin(db) == 0 && add_one(l, "r", 150000, 0) == 0 && ledger_commit(l) == 0,
		"a new row after it");
	is_int(query_int(db, "SELECT pico FROM cost_totals WHERE run = ''"), 11500150000,
		"added to the migrated total, to the pico-dollar");
	is_int(query_int(db,
		       "SELECT count(*) FROM cost_ledger WHERE cache_write_tokens = 0 AND "
		       "batch = 0"),
		3, "version 3: the old rows and the new one without cache writes, not batch");
	{
		struct ledger_row row = { "r", "h3", "claude", NULL, 1000, 10, 200, 5, 0, 300, 1 };

		ok(db_begin(db) == 0 && ledger_add(l, &row) == 0 && ledger_commit(l) == 0,
			"a row of a batch answer with cache writes");
	}
	is_int(query_int(db,
		       "SELECT count(*) FROM cost_ledger WHERE record_hash = 'h3' AND "
		       "cache_write_tokens = 300 AND batch = 1 AND cached_tokens = 200"),
		1, "keeps its cache writes and that it was a batch answer");
	ledger_close(l);
	ok(db_close(db) == 0, "db_close");

	/* an amount version 1 held that pico-dollars cannot: nothing changes */
	db = old_ledger(path2,
		"INSERT INTO cost_ledger VALUES(1, 'r', 'h', 'm', NULL, 1, 1, 0, 9300000000000, 0, "
		"9300000000000, 1);"
		"INSERT INTO cost_totals VALUES('r', 9300000000000), ('', 9300000000000);");
	ok(db != NULL, "a version 1 ledger holding $9.3M");
	if (db == NULL)
		return;
	ok(ledger_open(db) == NULL, "ledger_open refuses to migrate it (an error, not a float)");
	is_int(query_int(db, "SELECT version FROM jl_schema WHERE component = 'cost'"), 1,
		"still version 1");
	is_int(query_int(db, "SELECT micro FROM cost_totals WHERE run = ''"), 9300000000000,
		"its tables as they were");
	ok(db_close(db) == 0, "db_close");
}

static void
test_usd(void)
{
	static const struct {
		ledger_sum pico;
		const char *text;
	} cases[] = {
		{ 0, "0.000000" },
		{ 1, "0.000000000001" },
		{ 150000, "0.00000015" },
		{ 1000000, "0.000001" },
		{ 30000000000, "0.030000" },
		{ 999999000000, "0.999999" },
		{ 999999999999, "0.999999999999" },
		{ 1000000000000, "1.000000" },
		{ 1234567000000, "1.234567" },
		{ 1234567800000, "1.2345678" },
		{ 50000000000000000, "50000.000000" },
		{ -1500000000000, "-1.500000" },
		{ -150000, "-0.00000015" },
		{ INT64_MAX, "9223372.036854775807" },
		{ INT64_MIN, "-9223372.036854775808" },
		{ (ledger_sum)INT64_MAX * 4, "36893488.147419103228" },
		{ -(ledger_sum)((unsigned __int128)1 << 126),
			"-85070591730234615865843651.857942052864" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		ledger_usd(&b, cases[i].pico);
		ok(strcmp(buf_cstr(&b), cases[i].text) == 0, "ledger_usd: %s (%s)", cases[i].text,
			buf_cstr(&b));
		buf_free(&b);
	}
	for (size_t i = 0; i < 3; i++) {
		static const ledger_count n[] = { 0, UINT64_MAX,
			(ledger_count)UINT64_MAX * 10 + 9 };
		static const char *const text[] = { "0", "18446744073709551615",
			"184467440737095516159" };
		struct buf b = BUF_INIT;

		ledger_uint(&b, n[i]);
		is_str(buf_cstr(&b), text[i], "ledger_uint: %s", text[i]);
		buf_free(&b);
	}
	ok(ledger_pico(1000000000000000) == (ledger_sum)1000000000000000 * 1000000,
		"ledger_pico: a budget of $1e9 as pico-dollars, past an int64_t");
}

static void
test_hash_words(void)
{
	static const char text[] = "{\"id\":1,\"llm\":{\"model\":\"gpt-4o-mini\"}}";
	unsigned long long seen[sizeof(text)];
	bool distinct = true;

	/* fixed values: the ledger keeps them, so they must not change between versions */
	ok(hash_words("", 0) == 0x9341ca263702a9e6ULL, "hash_words(\"\")");
	ok(hash_words(text, sizeof(text) - 1) == hash_words(text, sizeof(text) - 1),
		"hash_words: the same bytes, the same hash");
	for (size_t n = 0; n < sizeof(text); n++) {
		seen[n] = hash_words(text, n);
		for (size_t k = 0; k < n; k++)
			distinct = distinct && seen[k] != seen[n];
	}
	ok(distinct, "hash_words: every prefix of a record hashes apart (%zu)", sizeof(text));
	ok(hash_words("ab", 2) != hash_words("ba", 2) && hash_words("a\0", 2) != hash_words("a", 1),
		"hash_words: order and length count");
}

int
main(void)
{
	static const char *const names[] = { "run", "limits", "old", "old2" };
	char dir[] = "/tmp/jlkit-ledger-XXXXXX";
	struct buf paths[4] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };

	progname = "test-ledger";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	for (int i = 0; i < 4; i++) {
		buf_puts(&paths[i], dir);
		buf_putc(&paths[i], '/');
		buf_puts(&paths[i], names[i]);
		buf_puts(&paths[i], ".db");
	}
	test_batches(buf_cstr(&paths[0]));
	test_limits(buf_cstr(&paths[1]));
	test_migration(buf_cstr(&paths[2]), buf_cstr(&paths[3]));
	test_usd();
	test_hash_words();
	for (int i = 0; i < 4; i++) {
		unlink(buf_cstr(&paths[i]));
		buf_puts(&paths[i], "-wal");
		unlink(buf_cstr(&paths[i]));
		paths[i].len -= 4;
		buf_puts(&paths[i], "-shm");
		unlink(buf_cstr(&paths[i]));
		buf_free(&paths[i]);
	}
	rmdir(dir);
	return done_testing();
}
