/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tools/jl-top/view.c, in a temporary directory: a database path resolved
 * as the stages publish one (a file that exists, one that does not yet,
 * relative, through ".."); the ledger's spend read read-only: no file, a
 * run database without a ledger, a ledger with rows of two runs, a file
 * that is not SQLite, one named with URI characters, one a writer has
 * open; and the database left byte for byte as it was, with no -wal or
 * -shm made beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "ledger.h"
#include "tap.h"
#include "util.h"
#include "view.h"

static char dir[] = "/tmp/jlkit-top-XXXXXX";

/* dir/name into b. */
static const char *
path_of(struct buf *b, const char *name)
{
	buf_reset(b);
	buf_printf(b, "%s/%s", dir, name);
	return buf_cstr(b);
}

/* The whole file at path into b (empty when it cannot be read). */
static void
slurp(struct buf *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	buf_reset(b);
	if (f == NULL)
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(b, chunk, n);
	fclose(f);
}

static bool
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void
test_paths(void)
{
	struct buf p = BUF_INIT, want = BUF_INIT;
	char *real = realpath(dir, NULL), *got;
	FILE *f = fopen(path_of(&p, "there.db"), "w");

	if (f != NULL)
		fclose(f);
	buf_printf(&want, "%s/there.db", real);
	got = top_db_path(path_of(&p, "sub/../there.db"));
	is_str(got, buf_cstr(&p), "a missing directory on the way: the path as given");
	free(got);
	mkdir(path_of(&p, "sub"), 0700);
	got = top_db_path(path_of(&p, "sub/../there.db"));
	is_str(got, buf_cstr(&want), "a file that exists: its realpath");
	free(got);
	buf_reset(&want);
	buf_printf(&want, "%s/later.db", real);
	got = top_db_path(path_of(&p, "sub/../later.db"));
	is_str(got, buf_cstr(&want), "a file not made yet: its directory's realpath and its name");
	free(got);
	if (chdir(dir) == 0) {
		got = top_db_path("later.db");
		is_str(got, buf_cstr(&want), "a relative name: from the working directory");
		free(got);
	}
	free(real);
	buf_free(&p);
	buf_free(&want);
}

/* A run database at path with rows of run a (5 pico) and b (7 pico), or none when rows is 0. */
static int
make_db(const char *path, int rows)
{
	int code = 0;
	struct db *db = db_open(path, &code);
	struct ledger *l;
	int rc = 0;

	if (db == NULL)
		return -1;
	if (rows > 0) {
		struct ledger_row a = { "a", "0000000000000001", "m", "b", 1, 1, 0, 5, 0, 0, 0 };
		struct ledger_row b = { "b", "0000000000000002", "m", "b", 1, 1, 0, 3, 4, 0, 0 };

		l = ledger_open(db);
		rc = l == NULL || db_begin(db) != 0 || ledger_add(l, &a) != 0 ||
				ledger_add(l, &b) != 0 || ledger_commit(l) != 0
			? -1
			: 0;
		ledger_close(l);
	}
	return db_close(db) != 0 ? -1 : rc;
}

/* A writer has the database open: what it committed counts (from its -wal), not its open batch. */
static void
test_open_writer(const char *path)
{
	struct ledger_row row = { "a", "0000000000000003", "m", "b", 1, 1, 0, 100, 0, 0, 0 };
	struct buf err = BUF_INIT;
	int64_t pico = -1;
	int code = 0;
	struct db *db = db_open(path, &code);
	struct ledger *l = db != NULL ? ledger_open(db) : NULL;

	ok(l != NULL && db_begin(db) == 0 && ledger_add(l, &row) == 0 && ledger_commit(l) == 0,
		"a writer commits a row of 100 pico-dollars and stays open");
	is_int(top_db_spend(path, &pico, &err), SPEND_KNOWN, "its ledger is read");
	is_int(pico, 100, "with what it committed");
	ok(l != NULL && db_begin(db) == 0 && ledger_add(l, &row) == 0,
		"it adds a row, not committed");
	is_int(top_db_spend(path, &pico, &err), SPEND_KNOWN, "read again while it writes");
	is_int(pico, 100, "its open batch does not count");
	if (l != NULL)
		ledger_rollback(l);
	ledger_close(l);
	if (db != NULL)
		db_close(db);
	buf_free(&err);
}

static void
test_spend(void)
{
	struct buf p = BUF_INIT, err = BUF_INIT, before = BUF_INIT, after = BUF_INIT;
	int64_t pico = -1;

	is_int(top_db_spend(path_of(&p, "none.db"), &pico, &err), SPEND_NONE,
		"no database: nothing spent yet");
	is_int(pico, 0, "0 pico-dollars");
	ok(!exists(buf_cstr(&p)), "and no database made");
	ok(make_db(path_of(&p, "empty.db"), 0) == 0, "a run database without a ledger");
	is_int(top_db_spend(buf_cstr(&p), &pico, &err), SPEND_NONE, "no ledger: nothing spent yet");
	ok(make_db(path_of(&p, "run.db"), 2) == 0, "a ledger with rows of runs a and b");
	slurp(&before, buf_cstr(&p));
	is_int(top_db_spend(buf_cstr(&p), &pico, &err), SPEND_KNOWN, "the ledger is read");
	is_int(pico, 12, "its total over every run");
	slurp(&after, path_of(&p, "run.db"));
	ok(before.len > 0 && before.len == after.len &&
			memcmp(before.data, after.data, before.len) == 0,
		"the database is as it was");
	ok(!exists(path_of(&p, "run.db-wal")) && !exists(path_of(&p, "run.db-shm")),
		"no -wal or -shm left beside it");
	ok(make_db(path_of(&p, "odd ?#%.db"), 2) == 0, "a ledger in a file named with ?, # and %%");
	is_int(top_db_spend(buf_cstr(&p), &pico, &err), SPEND_KNOWN, "is read");
	is_int(pico, 12, "all of it");
	test_open_writer(path_of(&p, "open.db"));
	path_of(&p, "text.db");
	{
		FILE *f = fopen(buf_cstr(&p), "w");

		if (f != NULL) {
			fputs("not a database, but long enough to look at: 0123456789abcdef\n", f);
			fclose(f);
		}
	}
	buf_reset(&err);
	is_int(top_db_spend(buf_cstr(&p), &pico, &err), SPEND_UNKNOWN,
		"a file that is not SQLite: unknown");
	ok(strstr(buf_cstr(&err), "not a database") != NULL, "with SQLite's reason: %s",
		buf_cstr(&err));
	buf_free(&p);
	buf_free(&err);
	buf_free(&before);
	buf_free(&after);
}

int
main(void)
{
	struct buf cmd = BUF_INIT;

	progname = "test-top-view";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_paths();
	test_spend();
	/* the files made here, and the directory */
	static const char *const names[] = { "there.db", "sub", "empty.db", "run.db", "text.db",
		"empty.db-wal", "empty.db-shm", "run.db-wal", "run.db-shm", "open.db",
		"open.db-wal", "open.db-shm", "odd ?#%.db" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		buf_reset(&cmd);
		buf_printf(&cmd, "%s/%s", dir, names[i]);
		if (unlink(buf_cstr(&cmd)) != 0)
			rmdir(buf_cstr(&cmd));
	}
	rmdir(dir);
	buf_free(&cmd);
	return done_testing();
}
