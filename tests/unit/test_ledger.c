/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/ledger.c, in a temporary directory: rows added in batches that
 * cross the 32-row statements, runs changing inside a batch, the totals
 * written at the commit equal to the sum of the rows, ledger_total counting
 * the rows not yet committed, a rollback leaving neither rows nor totals,
 * text copied when the row is added; ledger_usd's money; hash_words.
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

/* Add n rows of run, row i costing i + 1 micro-dollars of LLM and 10 of search. */
static int
add_rows(struct ledger *l, const char *run, int n)
{
	for (int i = 0; i < n; i++) {
		char model[32], hash[24];
		struct ledger_row row = { run, hash, model, "tavily", 100 + i, 10, i % 3, i + 1,
			10 };

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
	is_int(query_int(db, "SELECT micro FROM cost_totals WHERE run = 'a'"), a, "total of a");
	is_int(query_int(db, "SELECT micro FROM cost_totals WHERE run = 'b'"), b, "total of b");
	is_int(query_int(db, "SELECT micro FROM cost_totals WHERE run = ''"), a + b,
		"total of every run");
	is_int(query_int(db, "SELECT sum(micro) FROM cost_ledger"), a + b,
		"the totals are the sum of the rows");
	is_int(query_int(db,
		       "SELECT count(*) FROM cost_ledger WHERE micro != llm_micro + "
		       "search_micro OR model NOT LIKE 'model-_' OR backend != 'tavily' "
		       "OR length(record_hash) != 16 OR at < 1700000000000"),
		0, "every row as added: text copied, micro the sum, time in ms");
	ok(db_begin(db) == 0 && add_rows(l, "a", 3) == 0, "3 more rows of a");
	is_int(ledger_total(l, "a"), a + c, "counted before the commit");
	ledger_rollback(l);
	ok(db_begin(db) == 0 && ledger_commit(l) == 0, "rolled back, then an empty batch");
	is_int(query_int(db, "SELECT count(*) FROM cost_ledger"), 115, "no row of the rollback");
	is_int(query_int(db, "SELECT micro FROM cost_totals WHERE run = ''"), a + b,
		"nor its money");
	ledger_close(l);
	ok(db_close(db) == 0, "db_close");
}

static void
test_usd(void)
{
	static const struct {
		int64_t micro;
		const char *text;
	} cases[] = {
		{ 0, "0.000000" },
		{ 1, "0.000001" },
		{ 999999, "0.999999" },
		{ 1000000, "1.000000" },
		{ 1234567, "1.234567" },
		{ 50000000000, "50000.000000" },
		{ -1500000, "-1.500000" },
		{ INT64_MIN, "-9223372036854.775808" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		ledger_usd(&b, cases[i].micro);
		ok(strcmp(buf_cstr(&b), cases[i].text) == 0, "ledger_usd: %s", cases[i].text);
		buf_free(&b);
	}
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
	char dir[] = "/tmp/jlkit-ledger-XXXXXX";
	struct buf path = BUF_INIT;

	progname = "test-ledger";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	buf_puts(&path, dir);
	buf_puts(&path, "/run.db");
	test_batches(buf_cstr(&path));
	test_usd();
	test_hash_words();
	unlink(buf_cstr(&path));
	buf_puts(&path, "-wal");
	unlink(buf_cstr(&path));
	path.len -= 4;
	buf_puts(&path, "-shm");
	unlink(buf_cstr(&path));
	rmdir(dir);
	buf_free(&path);
	return done_testing();
}
