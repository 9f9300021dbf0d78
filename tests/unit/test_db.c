/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/db.c, in a temporary directory: create, reopen, WAL, synchronous,
 * busy timeout, application_id, mode 0600; foreign SQLite files, text files,
 * missing and read-only directories refused with the right exit code and
 * message; schema steps run once, kept per component, newer versions
 * refused, failed steps rolled back, db_schema inside a transaction; cache
 * tables (names checked, absent, first value wins, empty, NUL bytes, 1 MB);
 * begin, commit, rollback, close committing. Across processes
 * (doc/reliability.md §9.3), never carrying a connection over fork(): a writer waits for another's
 * lock; 4 writers start at once on a new file and upsert overlapping keys
 * in batches, racing through db_open and db_schema as well; a writer is
 * killed with SIGKILL mid-batch while another keeps writing, or alone and
 * the next writer recovers its -wal; then every batch is all there or not
 * at all, every reported commit is there, integrity_check is "ok".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "sha256.h"
#include "tap.h"
#include "testdb.h"
#include "testutil.h"
#include "util.h"

#define APP_ID 0x6a6c6b74
#define NOBODY 65534

static void
fail(const char *what)
{
	perror(what);
	exit(2);
}

static void
read_file(const char *path, struct buf *b)
{
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		fail(path);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(b, chunk, (size_t)n);
	if (n < 0)
		fail(path);
	close(fd);
}

static void
write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, n) != (ssize_t)n || close(fd) != 0)
		fail(path);
}

/* Remove a tree, making read-only directories writable first. */
static void
rm_tree(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	chmod(path, 0700);
	dir = opendir(path);
	if (dir == NULL)
		fail(path);
	while ((e = readdir(dir)) != NULL) {
		struct buf sub = BUF_INIT;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		buf_puts(&sub, path);
		buf_putc(&sub, '/');
		buf_puts(&sub, e->d_name);
		rm_tree(buf_cstr(&sub));
		buf_free(&sub);
	}
	closedir(dir);
	rmdir(path);
}

/* stderr into a file while a function that reports runs, then back. */
static int saved_stderr = -1;

static void
capture_start(void)
{
	int fd;

	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	fd = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved_stderr < 0 || fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		fail("capture stderr");
	close(fd);
}

/* The captured text, in b (reset first). */
static const char *
capture_end(struct buf *b)
{
	fflush(stderr);
	if (dup2(saved_stderr, STDERR_FILENO) < 0)
		fail("restore stderr");
	close(saved_stderr);
	buf_reset(b);
	read_file("stderr.txt", b);
	return buf_cstr(b);
}

/* ok() that got begins with prefix, showing got when not. */
static void
starts_ok(const struct buf *got, const char *prefix, const char *name)
{
	if (!ok(starts_with(got->data, got->len, prefix), "%s", name))
		printf("#   got '%s'\n#  want '%s...'\n", got->data, prefix);
}

static void
key_of(const char *s, unsigned char key[SHA256_SIZE])
{
	sha256(s, strlen(s), key);
}

/* ... as text, into b (reset first). */
static const char *
query_text(struct db *db, const char *sql, struct buf *b)
{
	sqlite3_stmt *st;

	buf_reset(b);
	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK) {
		buf_puts(b, "(error)");
		return buf_cstr(b);
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		buf_puts(b, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf_cstr(b);
}

/* An SQLite file made without db.c: sql run on a new file at path. */
static void
make_sqlite_file(const char *path, const char *sql)
{
	sqlite3 *conn;

	if (sqlite3_open(path, &conn) != SQLITE_OK ||
		sqlite3_exec(conn, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(conn));
		exit(2);
	}
	sqlite3_close(conn);
}

static int
file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void
test_open(void)
{
	struct buf b = BUF_INIT;
	struct db *db;
	int code = -1;

	db = db_open("run.db", &code);
	ok(db != NULL, "db_open creates a new file");
	if (db == NULL)
		exit(1);
	is_str(db_path(db), "run.db", "db_path is the path given");
	is_str(query_text(db, "PRAGMA journal_mode", &b), "wal", "journal_mode is WAL");
	is_int(query_int(db, "PRAGMA synchronous"), 1, "synchronous is NORMAL");
	is_int(query_int(db, "PRAGMA busy_timeout"), 10000, "busy timeout is 10 s");
	is_int(query_int(db, "PRAGMA application_id"), APP_ID, "application_id is 'jlkt'");
	is_int(file_mode("run.db"), 0600, "a created file has mode 0600");
	is_int(file_mode("run.db-wal"), 0600, "... and so has its -wal");
	ok(!db_in_transaction(db), "no transaction open after db_open");
	is_int(db_close(db), 0, "db_close");
	ok(access("run.db-wal", F_OK) != 0, "the last close removes the -wal");

	chmod("run.db", 0644);
	db = db_open("run.db", &code);
	ok(db != NULL, "db_open reopens it");
	if (db != NULL) {
		is_int(query_int(db, "PRAGMA application_id"), APP_ID, "application_id kept");
		is_str(query_text(db, "PRAGMA journal_mode", &b), "wal", "journal_mode still WAL");
	}
	is_int(db_close(db), 0, "db_close");
	is_int(file_mode("run.db"), 0644, "the mode of an existing file is left alone");
	is_int(db_close(NULL), 0, "db_close(NULL) does nothing");

	write_file("empty.db", "", 0);
	db = db_open("empty.db", &code);
	ok(db != NULL && query_int(db, "PRAGMA application_id") == APP_ID,
		"an empty existing file is taken as new");
	db_close(db);
	buf_free(&b);
}

/* The first bytes of a file, for checking that a refused file was not changed. */
static void
file_head(const char *path, struct buf *b)
{
	buf_reset(b);
	read_file(path, b);
}

static void
test_foreign(void)
{
	struct buf err = BUF_INIT, before = BUF_INIT, after = BUF_INIT;
	static const char text[] = "id,name\n1,hello, world\n2,another line of text\n";
	struct db *db;
	int code;

	make_sqlite_file("foreign.db", "PRAGMA application_id = 1234; CREATE TABLE foo(x);");
	file_head("foreign.db", &before);
	code = -1;
	capture_start();
	db = db_open("foreign.db", &code);
	capture_end(&err);
	ok(db == NULL, "a SQLite file with another application_id is refused");
	is_int(code, EXIT_DATAERR, "... with EXIT_DATAERR");
	is_str(err.data,
		"test-db: 'foreign.db' is not a jlkit database (application_id 0x000004d2)\n",
		"... and a message naming the file and the id");
	file_head("foreign.db", &after);
	ok(before.len == after.len && memcmp(before.data, after.data, before.len) == 0 &&
			access("foreign.db-wal", F_OK) != 0,
		"... and left exactly as it was (not turned to WAL)");

	make_sqlite_file("other.db", "CREATE TABLE foo(x); INSERT INTO foo VALUES(1);");
	file_head("other.db", &before);
	code = -1;
	capture_start();
	db = db_open("other.db", &code);
	capture_end(&err);
	ok(db == NULL && code == EXIT_DATAERR,
		"a SQLite file with no application_id and tables of its own is refused");
	is_str(err.data,
		"test-db: 'other.db' is not a jlkit database (it has tables but no "
		"application_id)\n",
		"... with a message");
	file_head("other.db", &after);
	ok(before.len == after.len && memcmp(before.data, after.data, before.len) == 0,
		"... and left as it was");

	make_sqlite_file("old.db",
		"CREATE TABLE jl_schema(component TEXT PRIMARY KEY, "
		"version INTEGER NOT NULL); CREATE TABLE foo(x);");
	db = db_open("old.db", &code);
	ok(db != NULL, "a jlkit file from before application_id is accepted");
	if (db != NULL)
		is_int(query_int(db, "PRAGMA application_id"), APP_ID, "... and its id set");
	db_close(db);

	write_file("notes.txt", text, sizeof(text) - 1);
	code = -1;
	capture_start();
	db = db_open("notes.txt", &code);
	capture_end(&err);
	ok(db == NULL && code == EXIT_DATAERR, "a text file is refused with EXIT_DATAERR");
	is_str(err.data, "test-db: 'notes.txt' is not a jlkit database (not an SQLite file)\n",
		"... with a message");
	buf_reset(&after);
	read_file("notes.txt", &after);
	is_mem(after.data, after.len, text, sizeof(text) - 1, "... and left as it was");
	ok(access("notes.txt-wal", F_OK) != 0 && access("notes.txt-shm", F_OK) != 0,
		"... with no -wal or -shm beside it");

	db = db_open("broken.db", &code);
	db_close(db);
	{
		unsigned char junk[200];
		int fd = open("broken.db", O_WRONLY);

		memset(junk, 0xff, sizeof(junk));
		if (fd < 0 || pwrite(fd, junk, sizeof(junk), 100) != (ssize_t)sizeof(junk) ||
			close(fd) != 0)
			fail("broken.db");
	}
	code = -1;
	capture_start();
	db = db_open("broken.db", &code);
	capture_end(&err);
	ok(db == NULL && code == EXIT_DATAERR, "a damaged jlkit file is refused with EXIT_DATAERR");
	is_str(err.data, "test-db: cannot open 'broken.db': database disk image is malformed\n",
		"... with a message");

	mkdir("adir", 0700);
	code = -1;
	capture_start();
	db = db_open("adir", &code);
	capture_end(&err);
	ok(db == NULL && code == EXIT_CANTCREAT, "a directory is refused with EXIT_CANTCREAT");
	starts_ok(&err, "test-db: cannot open 'adir': ", "... with a message");

	code = -1;
	capture_start();
	db = db_open("nodir/run.db", &code);
	capture_end(&err);
	ok(db == NULL && code == EXIT_CANTCREAT, "a missing directory gives EXIT_CANTCREAT");
	is_str(err.data, "test-db: cannot create 'nodir/run.db': No such file or directory\n",
		"... with a message");
	ok(access("nodir", F_OK) != 0, "... and creates nothing");
	buf_free(&err);
	buf_free(&before);
	buf_free(&after);
}

/* In a child without root's powers: open the read-only cases, print the exit codes. */
static void
readonly_child(void *arg)
{
	static const char *const paths[] = { "rodir/run.db", "rodir2/run.db", "ro.db" };

	if (geteuid() == 0 &&
		(setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)) {
		printf("skip\n");
		return;
	}
	if (geteuid() == 0 || access(".", X_OK) != 0) {
		printf("skip\n");
		return;
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int code = -1;
		struct db *db = db_open(paths[i], &code);

		printf("%d\n", db == NULL ? code : 0);
		db_close(db);
	}
}

static void
test_readonly(void)
{
	struct child_result r;
	bool root = geteuid() == 0;
	struct db *db;
	int code;

	mkdir("rodir", 0755);
	mkdir("rodir2", 0755);
	db = db_open("rodir2/run.db", &code);
	db_close(db);
	db = db_open("ro.db", &code);
	db_close(db);
	if (root &&
		(chown("rodir2/run.db", NOBODY, NOBODY) != 0 ||
			chown("ro.db", NOBODY, NOBODY) != 0))
		fail("chown");
	chmod("rodir", 0555);
	chmod("rodir2", 0555);
	chmod("ro.db", 0400);
	chmod(".", 0711); /* so that nobody can reach the files */
	run_in_child(readonly_child, NULL, &r);
	chmod(".", 0700);
	if (strcmp(r.out.data, "skip\n") == 0) {
		for (int i = 0; i < 6; i++)
			ok(1, "# skip read-only cases (root, and cannot become nobody)");
		child_result_free(&r);
		return;
	}
	is_str(r.out.data, "73\n73\n73\n",
		"read-only directory, existing file in one, read-only file: EXIT_CANTCREAT");
	ok(strstr(r.err.data, "test-db: cannot create 'rodir/run.db': Permission denied\n") != NULL,
		"... a new file in a read-only directory: cannot create, Permission denied");
	ok(strstr(r.err.data, "test-db: cannot open 'rodir2/run.db': ") != NULL,
		"... an existing file in a read-only directory (no room for -wal): cannot open");
	ok(strstr(r.err.data,
		   "test-db: cannot open 'ro.db' for writing: the file is read-only\n") != NULL,
		"... a read-only file: cannot open for writing");
	ok(access("rodir/run.db", F_OK) != 0, "... nothing created");
	is_int(file_mode("ro.db"), 0400, "... the read-only file left alone");
	child_result_free(&r);
}

static void
test_schema(void)
{
	static const char *const steps[] = {
		"CREATE TABLE s_log(step INTEGER); INSERT INTO s_log VALUES(1)",
		"INSERT INTO s_log VALUES(2)",
		"ALTER TABLE s_log ADD COLUMN note TEXT; INSERT INTO s_log VALUES(3, 'three')",
	};
	static const char *const other[] = { "CREATE TABLE o_items(x)" };
	static const char *const nested[] = { "CREATE TABLE n_items(x)" };
	static const char *const bad[] = { "CREATE TABLE f_items(x)", "CREATE TABLE f_more(",
		"CREATE TABLE f_last(x)" };
	struct buf err = BUF_INIT;
	struct db *db;
	int code;

	db = db_open("schema.db", &code);
	if (db == NULL)
		exit(1);
	is_int(db_schema(db, "s", steps, 2), 0, "db_schema: two steps on a new database");
	is_int(query_int(db, "SELECT count(*) FROM s_log"), 2, "... both ran");
	is_int(query_int(db, "SELECT version FROM jl_schema WHERE component = 's'"), 2,
		"... version 2 kept in jl_schema");
	ok(!db_in_transaction(db), "... committed");
	is_int(db_schema(db, "s", steps, 2), 0, "db_schema again at the same version");
	is_int(query_int(db, "SELECT count(*) FROM s_log"), 2, "... runs nothing");
	is_int(db_schema(db, "o", other, 1), 0, "another component");
	is_int(query_int(db, "SELECT version FROM jl_schema WHERE component = 'o'"), 1,
		"... has its own version");
	is_int(db_schema(db, "none", NULL, 0), 0, "a component with no steps");
	db_close(db);

	db = db_open("schema.db", &code);
	if (db == NULL)
		exit(1);
	is_int(db_schema(db, "s", steps, 3), 0, "after reopening, a third step");
	is_int(query_int(db, "SELECT count(*) FROM s_log"), 3, "... only the third ran");
	is_int(query_int(db, "SELECT version FROM jl_schema WHERE component = 's'"), 3,
		"... version 3");

	capture_start();
	is_int(db_schema(db, "s", steps, 2), -1, "a newer version than known is refused");
	capture_end(&err);
	is_str(err.data, "test-db: schema.db: s is at version 3, this test-db knows 2\n",
		"... with a message");
	is_int(query_int(db, "SELECT version FROM jl_schema WHERE component = 's'"), 3,
		"... and the version stays");

	capture_start();
	is_int(db_schema(db, "f", bad, 3), -1, "a failing step fails db_schema");
	capture_end(&err);
	starts_ok(&err, "test-db: schema.db: cannot bring f to version 2: ", "... with a message");
	is_int(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'f_%'"), 0,
		"... and the steps before it are rolled back");
	is_int(query_int(db, "SELECT count(*) FROM jl_schema WHERE component = 'f'"), 0,
		"... as is the version");
	ok(!db_in_transaction(db), "... no transaction left open");

	/* Inside the caller's transaction: a savepoint, the transaction stays. */
	is_int(db_begin(db), 0, "db_begin");
	sqlite3_exec(db_sqlite(db), "INSERT INTO s_log VALUES(10, 'mine')", NULL, NULL, NULL);
	capture_start();
	is_int(db_schema(db, "f", bad, 3), -1, "a failing db_schema inside a transaction");
	capture_end(&err);
	ok(db_in_transaction(db), "... leaves the caller's transaction open");
	is_int(db_schema(db, "o2", other + 0, 0), 0, "... and a no-step component works in it");
	is_int(db_commit(db), 0, "db_commit");
	is_int(query_int(db, "SELECT count(*) FROM s_log WHERE step = 10"), 1,
		"... the caller's row survived the failed db_schema");
	is_int(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'f_%'"), 0,
		"... whose steps did not");

	is_int(db_begin(db), 0, "db_begin");
	is_int(db_schema(db, "n", nested, 1), 0, "db_schema inside a transaction");
	ok(db_in_transaction(db), "... leaves it open");
	db_rollback(db);
	is_int(query_int(db, "SELECT count(*) FROM jl_schema WHERE component = 'n'"), 0,
		"... and a rollback undoes it");
	db_close(db);
	buf_free(&err);
}

static void
test_cache(void)
{
	static const char *const bad_names[] = { "", "Cache", "a-b",
		"x\"; DROP TABLE jl_schema; --", "a b", "\xc3\xa9t\xc3\xa9",
		"a1234567890123456789012345678901234567890123456789012345678901234" };
	struct buf v = BUF_INIT, err = BUF_INIT, big = BUF_INIT;
	unsigned char k1[SHA256_SIZE], k2[SHA256_SIZE], k3[SHA256_SIZE], k4[SHA256_SIZE];
	time_t before = time(NULL);
	struct db *db;
	long long created;
	int code, bad = 0;

	key_of("k1", k1);
	key_of("k2", k2);
	key_of("k3", k3);
	key_of("k4", k4);
	db = db_open("cache.db", &code);
	if (db == NULL)
		exit(1);
	is_int(db_cache_table(db, "llm_cache"), 0, "db_cache_table creates a table");
	is_int(db_cache_table(db, "llm_cache"), 0, "... again: nothing to do");
	is_int(query_int(db, "SELECT version FROM jl_schema WHERE component = 'cache:llm_cache'"),
		1, "... component cache:llm_cache at version 1");
	is_int(query_int(db,
		       "SELECT count(*) FROM sqlite_master WHERE name = 'llm_cache' "
		       "AND sql LIKE '%WITHOUT ROWID'"),
		1, "... a WITHOUT ROWID table");
	is_int(db_cache_table(db, "9_starts_with_a_digit"), 0, "a name starting with a digit");

	capture_start();
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		if (db_cache_table(db, bad_names[i]) != -1 ||
			db_cache_get(db, bad_names[i], k1, &v) != -1 ||
			db_cache_put(db, bad_names[i], k1, "x", 1) != -1)
			bad++;
	capture_end(&err);
	is_int(bad, 0, "bad table names are refused by db_cache_table, get and put");
	ok(starts_with(err.data, err.len,
		   "test-db: cache.db: invalid cache table name '' (1 to 64 of a-z, 0-9 and _)\n"),
		"... with a message");
	is_int(query_int(db, "SELECT count(*) FROM jl_schema"), 2, "... and nothing created");

	buf_puts(&v, "untouched");
	is_int(db_cache_get(db, "llm_cache", k1, &v), 0, "get of an absent key gives 0");
	is_str(buf_cstr(&v), "untouched", "... and leaves the value alone");
	buf_reset(&v);
	is_int(db_cache_put(db, "llm_cache", k1, "first", 5), 0, "put");
	ok(!db_in_transaction(db), "... in its own transaction, committed");
	is_int(db_cache_get(db, "llm_cache", k1, &v), 1, "get finds it");
	is_str(buf_cstr(&v), "first", "... the value");
	is_int(db_cache_put(db, "llm_cache", k1, "second", 6), 0, "put of the same key again");
	buf_reset(&v);
	db_cache_get(db, "llm_cache", k1, &v);
	is_str(buf_cstr(&v), "first", "... the first value stays");
	buf_puts(&v, "+");
	db_cache_get(db, "llm_cache", k1, &v);
	is_str(buf_cstr(&v), "first+first", "get appends to the buffer");
	created = query_int(db, "SELECT created FROM llm_cache");
	ok(created >= (long long)before && created <= (long long)time(NULL) + 1,
		"created is the time of storing");

	is_int(db_cache_put(db, "llm_cache", k2, NULL, 0), 0, "put of an empty value");
	buf_reset(&v);
	is_int(db_cache_get(db, "llm_cache", k2, &v), 1, "... found");
	is_int(v.len, 0, "... empty");
	is_int(db_cache_put(db, "llm_cache", k3, "a\0b", 3), 0, "put of a value with a NUL");
	buf_reset(&v);
	db_cache_get(db, "llm_cache", k3, &v);
	is_mem(v.data, v.len, "a\0b", 3, "... all its bytes come back");

	for (size_t i = 0; i < 1024 * 1024; i++)
		buf_putc(&big, (char)('a' + i % 26));
	is_int(db_cache_put(db, "9_starts_with_a_digit", k1, big.data, big.len), 0,
		"put of a 1 MB value");
	buf_reset(&v);
	is_int(db_cache_get(db, "9_starts_with_a_digit", k1, &v), 1, "... found");
	ok(v.len == big.len && memcmp(v.data, big.data, big.len) == 0, "... all of it");
	buf_reset(&v);
	is_int(db_cache_get(db, "llm_cache", k4, &v), 0, "tables are separate");

	capture_start();
	is_int(db_cache_get(db, "never_made", k1, &v), -1, "get from a missing table fails");
	is_int(db_cache_put(db, "never_made", k1, "x", 1), -1, "... as does put");
	capture_end(&err);
	starts_ok(&err, "test-db: cache.db: cannot use cache table 'never_made': no such table",
		"... with a message");

	/* Transactions. */
	is_int(db_commit(db), 0, "db_commit with no transaction does nothing");
	is_int(db_begin(db), 0, "db_begin");
	ok(db_in_transaction(db), "... a transaction is open");
	is_int(db_begin(db), 0, "db_begin again does nothing");
	is_int(db_cache_put(db, "llm_cache", k4, "rolled back", 11), 0, "put inside it");
	ok(db_in_transaction(db), "... leaves it open");
	db_rollback(db);
	ok(!db_in_transaction(db), "db_rollback ends it");
	is_int(db_cache_get(db, "llm_cache", k4, &v), 0, "... and the put is gone");
	db_rollback(db);
	ok(1, "db_rollback with no transaction does nothing");
	db_begin(db);
	db_cache_put(db, "llm_cache", k4, "committed", 9);
	is_int(db_commit(db), 0, "db_begin, put, db_commit");
	buf_reset(&v);
	is_int(db_cache_get(db, "llm_cache", k4, &v), 1, "... the put stays");
	is_str(buf_cstr(&v), "committed", "... with its value");

	is_int(db_begin(db), 0, "db_begin, then db_close");
	db_cache_put(db, "llm_cache", k4, "ignored", 7);
	sqlite3_exec(db_sqlite(db), "DELETE FROM llm_cache WHERE value = 'first'", NULL, NULL,
		NULL);
	is_int(db_close(db), 0, "... db_close with a transaction open");
	db = db_open("cache.db", &code);
	if (db == NULL)
		exit(1);
	is_int(db_cache_get(db, "llm_cache", k1, &v), 0, "... committed it");
	is_str(query_text(db, "PRAGMA integrity_check", &v), "ok", "integrity_check: ok");
	db_close(db);
	buf_free(&v);
	buf_free(&err);
	buf_free(&big);
}

/*
 * A child of the multi-process tests: stderr into a file, so the parent can
 * check that nothing was reported. Returns the pid.
 */
static pid_t
start_child(const char *errfile, void (*fn)(const void *), const void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(3);
		close(fd);
		fn(arg);
		fflush(stderr);
		_exit(0);
	}
	return pid;
}

/* The exit status of pid: its code, or 128 + the signal. */
static int
wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Whether path exists and is empty. */
static bool
file_empty(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_size == 0;
}

/* One writer holds the lock for a while; db_begin elsewhere waits for it. */
struct holder {
	int ready; /* write end of a pipe: a byte once the lock is held */
	int hold_ms;
};

static void
holder_child(const void *arg)
{
	const struct holder *h = arg;
	struct timespec ts = { 0, (long)h->hold_ms * 1000000L };
	unsigned char key[SHA256_SIZE];
	int code;
	struct db *db = db_open("busy.db", &code);

	key_of("held", key);
	if (db == NULL || db_begin(db) != 0 || db_cache_put(db, "c", key, "held", 4) != 0)
		_exit(1);
	if (write(h->ready, "x", 1) != 1)
		_exit(1);
	nanosleep(&ts, NULL);
	if (db_close(db) != 0)
		_exit(1);
}

static long long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
test_busy_wait(void)
{
	struct holder h = { -1, 150 };
	unsigned char key[SHA256_SIZE];
	struct timespec t0;
	struct buf v = BUF_INIT;
	struct db *db;
	int fds[2], code;
	char byte;
	pid_t pid;

	db = db_open("busy.db", &code);
	if (db == NULL || db_cache_table(db, "c") != 0)
		exit(1);
	db_close(db);
	if (pipe(fds) != 0)
		fail("pipe");
	h.ready = fds[1];
	pid = start_child("holder.err", holder_child, &h);
	close(fds[1]);
	if (read(fds[0], &byte, 1) != 1)
		fail("read");
	close(fds[0]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	db = db_open("busy.db", &code);
	ok(db != NULL, "db_open while another process holds the write lock");
	if (db == NULL)
		exit(1);
	is_int(db_begin(db), 0, "db_begin waits for the other writer");
	ok(ms_since(&t0) >= 100, "... until it is done (%lld ms)", ms_since(&t0));
	key_of("held", key);
	is_int(db_cache_get(db, "c", key, &v), 1, "... and then sees its row");
	is_int(db_commit(db), 0, "db_commit");
	db_close(db);
	is_int(wait_child(pid), 0, "the other writer ended well");
	ok(file_empty("holder.err"), "... and reported nothing");
	buf_free(&v);
}

/* Four writers at once on a new file: overlapping keys in batches of ten. */
#define WRITERS 4
#define WRITER_KEYS 500
#define WRITER_STRIDE 250
#define BATCH 10

struct writer {
	int start; /* read end of a pipe: EOF means go */
	int go;    /* its write end, which the child must close */
	int id;
};

static void
writer_child(const void *arg)
{
	static const char *const race[] = { "CREATE TABLE race_t(x)",
		"INSERT INTO race_t VALUES(1)" };
	const struct writer *w = arg;
	unsigned char key[SHA256_SIZE];
	char byte, text[64];
	struct db *db;
	int code;

	close(w->go);
	if (read(w->start, &byte, 1) != 0)
		_exit(4);
	db = db_open("conc.db", &code);
	if (db == NULL)
		_exit(code);
	if (db_schema(db, "race", race, 2) != 0 || db_cache_table(db, "conc") != 0)
		_exit(5);
	for (int i = 0; i < WRITER_KEYS; i += BATCH) {
		if (db_begin(db) != 0)
			_exit(6);
		for (int j = i; j < i + BATCH; j++) {
			int n = w->id * WRITER_STRIDE + j;

			snprintf(text, sizeof(text), "key %d", n);
			key_of(text, key);
			snprintf(text, sizeof(text), "key %d from writer %d", n, w->id);
			if (db_cache_put(db, "conc", key, text, strlen(text)) != 0)
				_exit(7);
		}
		if (db_commit(db) != 0)
			_exit(8);
	}
	if (db_close(db) != 0)
		_exit(9);
}

static void
test_concurrent_writers(void)
{
	struct writer w[WRITERS];
	struct buf v = BUF_INIT, name = BUF_INIT;
	struct timespec t0;
	pid_t pid[WRITERS];
	int fds[2], code, bad_status = 0, noisy = 0;
	struct db *db;

	if (pipe(fds) != 0)
		fail("pipe");
	for (int i = 0; i < WRITERS; i++) {
		w[i].start = fds[0];
		w[i].go = fds[1];
		w[i].id = i;
		buf_reset(&name);
		buf_puts(&name, "writer");
		buf_add_uint(&name, (unsigned)i);
		buf_puts(&name, ".err");
		pid[i] = start_child(buf_cstr(&name), writer_child, &w[i]);
	}
	close(fds[0]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	close(fds[1]); /* go */
	for (int i = 0; i < WRITERS; i++) {
		int status = wait_child(pid[i]);

		if (status != 0) {
			printf("# writer %d exited with %d\n", i, status);
			bad_status++;
		}
		buf_reset(&name);
		buf_puts(&name, "writer");
		buf_add_uint(&name, (unsigned)i);
		buf_puts(&name, ".err");
		if (!file_empty(buf_cstr(&name))) {
			buf_reset(&v);
			read_file(buf_cstr(&name), &v);
			printf("# writer %d said: %s", i, buf_cstr(&v));
			noisy++;
		}
	}
	is_int(bad_status, 0, "4 writers on a new file at once: all succeed (%lld ms)",
		ms_since(&t0));
	is_int(noisy, 0, "... none reports an error (no SQLITE_BUSY surfaces)");
	db = db_open("conc.db", &code);
	if (db == NULL)
		exit(1);
	is_int(query_int(db, "SELECT count(*) FROM conc"),
		(WRITERS - 1) * WRITER_STRIDE + WRITER_KEYS, "... rows = distinct keys");
	is_int(query_int(db, "SELECT count(*) FROM race_t"), 1,
		"... racing db_schema ran each step once");
	is_int(query_int(db, "SELECT version FROM jl_schema WHERE component = 'race'"), 2,
		"... and kept version 2");
	is_str(query_text(db, "PRAGMA integrity_check", &v), "ok", "... integrity_check: ok");
	is_int(query_int(db, "PRAGMA application_id"), APP_ID, "... application_id set");
	is_int(file_mode("conc.db"), 0600, "... mode 0600");
	db_close(db);
	buf_free(&v);
	buf_free(&name);
}

/*
 * kill -9 in the middle of writing. The victim writes batches of BATCH rows
 * (value "batch N") forever and reports each batch number on a pipe after
 * its commit; a second writer writes steadily meanwhile. After the kill, the
 * second writer must finish without error; then every batch is all there
 * or not at all and every reported batch is there.
 */
#define KILL_ROUNDS 4
#define STEADY_BATCHES 40

struct victim {
	int report; /* write end: one int per committed batch */
	int round;
	int batches; /* 0: forever */
};

static void
victim_child(const void *arg)
{
	const struct victim *vi = arg;
	unsigned char key[SHA256_SIZE];
	char text[64], value[64];
	struct db *db;
	int code;

	db = db_open("kill.db", &code);
	if (db == NULL)
		_exit(code);
	for (int b = 0; vi->batches == 0 || b < vi->batches; b++) {
		int batch = vi->round * 100000 + b;

		if (db_begin(db) != 0)
			_exit(6);
		snprintf(value, sizeof(value), "batch %d", batch);
		for (int j = 0; j < BATCH; j++) {
			snprintf(text, sizeof(text), "%d.%d", batch, j);
			key_of(text, key);
			if (db_cache_put(db, "k", key, value, strlen(value)) != 0)
				_exit(7);
		}
		if (db_commit(db) != 0)
			_exit(8);
		if (vi->report >= 0 && write(vi->report, &batch, sizeof(batch)) != sizeof(batch))
			_exit(10);
	}
	if (db_close(db) != 0)
		_exit(9);
}

static void
test_kill(void)
{
	struct buf v = BUF_INIT, reported = BUF_INIT;
	struct db *db;
	int code, partial = 0, missing = 0, batches = 0, steady_bad = 0;
	sqlite3_stmt *st;

	db = db_open("kill.db", &code);
	if (db == NULL || db_cache_table(db, "k") != 0)
		exit(1);
	db_close(db);

	for (int round = 1; round <= KILL_ROUNDS; round++) {
		struct victim vi = { -1, round, 0 }, steady = { -1, round + 50, STEADY_BATCHES };
		int fds[2], got = 0, batch;
		pid_t victim, other = -1;
		ssize_t n;

		if (pipe(fds) != 0)
			fail("pipe");
		vi.report = fds[1];
		victim = start_child("victim.err", victim_child, &vi);
		close(fds[1]);
		/* Let it commit a few batches (more each round), then kill it mid-write. */
		while (got < 3 * round &&
			(n = read(fds[0], &batch, sizeof(batch))) == sizeof(batch)) {
			buf_add(&reported, &batch, sizeof(batch));
			got++;
		}
		/* Even rounds: another writer works through the kill. */
		if (round % 2 == 0)
			other = start_child("steady.err", victim_child, &steady);
		while (got < 6 * round &&
			(n = read(fds[0], &batch, sizeof(batch))) == sizeof(batch)) {
			buf_add(&reported, &batch, sizeof(batch));
			got++;
		}
		kill(victim, SIGKILL);
		wait_child(victim);
		/* Odd rounds: the victim was alone; the next writer recovers its -wal. */
		if (round % 2 == 1)
			other = start_child("steady.err", victim_child, &steady);
		while (read(fds[0], &batch, sizeof(batch)) == sizeof(batch))
			buf_add(&reported, &batch, sizeof(batch));
		close(fds[0]);
		if (wait_child(other) != 0 || !file_empty("steady.err"))
			steady_bad++;
	}
	is_int(steady_bad, 0,
		"SIGKILL of a writer: another keeps writing through it, or the next recovers (x%d)",
		KILL_ROUNDS);

	db = db_open("kill.db", &code);
	ok(db != NULL, "the next opener opens the database");
	if (db == NULL)
		exit(1);
	is_str(query_text(db, "PRAGMA integrity_check", &v), "ok", "... integrity_check: ok");
	if (sqlite3_prepare_v2(db_sqlite(db), "SELECT value, count(*) FROM k GROUP BY value", -1,
		    &st, NULL) != SQLITE_OK)
		exit(1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		batches++;
		if (sqlite3_column_int(st, 1) != BATCH) {
			printf("# %s: %d rows\n", sqlite3_column_text(st, 0),
				sqlite3_column_int(st, 1));
			partial++;
		}
	}
	sqlite3_finalize(st);
	is_int(partial, 0, "every batch is all there or not at all (%d batches)", batches);
	ok(batches >= KILL_ROUNDS * STEADY_BATCHES + (int)(reported.len / sizeof(int)),
		"... including all the steady writer's");
	if (sqlite3_prepare_v2(db_sqlite(db), "SELECT count(*) FROM k WHERE value = ?1", -1, &st,
		    NULL) != SQLITE_OK)
		exit(1);
	for (size_t i = 0; i < reported.len / sizeof(int); i++) {
		char value[64];
		int batch;

		memcpy(&batch, reported.data + i * sizeof(int), sizeof(int));
		snprintf(value, sizeof(value), "batch %d", batch);
		sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != BATCH)
			missing++;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	is_int(missing, 0, "every batch committed before the kill is there (%zu)",
		reported.len / sizeof(int));
	{
		unsigned char key[SHA256_SIZE];

		key_of("after the kill", key);
		ok(db_begin(db) == 0 && db_cache_put(db, "k", key, "x", 1) == 0 &&
				db_commit(db) == 0,
			"... and it writes");
	}
	is_str(query_text(db, "PRAGMA integrity_check", &v), "ok", "... integrity_check: ok");
	db_close(db);
	buf_free(&v);
	buf_free(&reported);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	struct buf dir = BUF_INIT;
	char cwd[4096];

	progname = "test-db";
	alarm(60); /* a hang is a failure */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fail("getcwd");
	buf_puts(&dir, tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	buf_puts(&dir, "/jlkit-unit-db-XXXXXX");
	if (mkdtemp((char *)buf_cstr(&dir)) == NULL || chdir(dir.data) != 0)
		fail("mkdtemp");

	test_open();
	test_foreign();
	test_readonly();
	test_schema();
	test_cache();
	test_busy_wait();
	test_concurrent_writers();
	test_kill();

	if (chdir(cwd) != 0)
		fail("chdir");
	if (tap_failed == 0)
		rm_tree(dir.data);
	else
		printf("# files kept in %s\n", dir.data);
	buf_free(&dir);
	return done_testing();
}
