/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The run database: one SQLite file shared by every process of a run
 * (doc/design.md §5; doc/reliability.md §6).
 *
 * SQLITE_BUSY must never reach a tool: the busy handler (busy_timeout) is
 * skipped when SQLite sees a possible deadlock and during crash recovery, so
 * every statement that can meet another process's lock (BEGIN IMMEDIATE,
 * COMMIT, reads outside a write transaction, the set-up in db_open) is also
 * retried here, with a randomised backoff, until DB_BUSY_MS have passed in
 * all. Inside BEGIN IMMEDIATE nothing can be busy any more.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

#define DB_APPLICATION_ID 0x6a6c6b74 /* "jlkt" */
#define DB_BUSY_MS 10000             /* the busy timeout, and the retry budget */
#define DB_BACKOFF_MAX_MS 50
#define DB_TABLE_NAME_MAX 64

/* The prepared statements of one cache table. */
struct cache_stmts {
	char *table;
	sqlite3_stmt *get, *put;
};

struct db {
	sqlite3 *conn;
	char *path;
	struct cache_stmts *caches; /* ncaches of them, finalized at close */
	size_t ncaches;
	uint64_t rng; /* for the backoff */
};

/* One retried operation: when it started, how often it was busy. */
struct retry {
	struct timespec start;
	unsigned attempt;
	int timeout_ms; /* the busy timeout set on the connection */
};

static long long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - start->tv_sec) * 1000 +
		(now.tv_nsec - start->tv_nsec) / 1000000;
}

static void
retry_start(struct retry *r)
{
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->attempt = 0;
	r->timeout_ms = DB_BUSY_MS;
}

/*
 * After SQLITE_BUSY: whether to try again. Sleeps a random 1..cap ms first,
 * cap growing from 2 to DB_BACKOFF_MAX_MS, and lowers the connection's busy
 * timeout to what is left, so that the whole operation, waits in SQLite's
 * busy handler included, ends within DB_BUSY_MS. False once they have passed.
 */
static bool
retry_again(struct db *db, struct retry *r)
{
	long long left = DB_BUSY_MS - elapsed_ms(&r->start);
	unsigned cap = r->attempt < 5 ? 2u << r->attempt : DB_BACKOFF_MAX_MS;
	uint64_t x = db->rng;
	long long ms;
	struct timespec ts;

	if (cap > DB_BACKOFF_MAX_MS)
		cap = DB_BACKOFF_MAX_MS;
	if (left <= 0)
		return false;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	db->rng = x;
	ms = 1 + (long long)((x * UINT64_C(0x2545F4914F6CDD1D)) >> 33) % cap;
	if (ms > left)
		ms = left;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(ms * 1000000);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	r->attempt++;
	left = DB_BUSY_MS - elapsed_ms(&r->start);
	if (left <= 0)
		return false;
	r->timeout_ms = (int)left;
	/* Cannot fail on an open connection: it only installs the handler. */
	(void)sqlite3_busy_timeout(db->conn, r->timeout_ms);
	return true;
}

static void
retry_end(struct db *db, struct retry *r)
{
	if (r->timeout_ms != DB_BUSY_MS)
		(void)sqlite3_busy_timeout(db->conn, DB_BUSY_MS);
}

/*
 * Run one SQL statement that returns no rows, retrying while busy. Only for
 * statements that are safe to repeat after SQLITE_BUSY: BEGIN, COMMIT, and
 * any statement outside a transaction. Returns the last sqlite3 code.
 */
static int
exec_retry(struct db *db, const char *sql)
{
	struct retry r;
	int rc;

	retry_start(&r);
	while ((rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL)) == SQLITE_BUSY &&
		retry_again(db, &r))
		;
	retry_end(db, &r);
	return rc;
}

/*
 * Run a query (with an optional text parameter ?1), retrying while busy,
 * and take the first column of its first row: as a number into *num, and
 * as text appended to text when text is not NULL. No row gives 0 and no
 * text. Returns SQLITE_OK or the sqlite3 error code (sqlite3_errmsg tells).
 */
static int
query(struct db *db, const char *sql, const char *arg, long long *num, struct buf *text)
{
	sqlite3_stmt *st = NULL;
	struct retry r;
	int rc;

	*num = 0;
	retry_start(&r);
	for (;;) {
		rc = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
		if (rc == SQLITE_OK && arg != NULL)
			rc = sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				*num = sqlite3_column_int64(st, 0);
				if (text != NULL) {
					const unsigned char *s = sqlite3_column_text(st, 0);

					if (s != NULL)
						buf_add(text, s,
							(size_t)sqlite3_column_bytes(st, 0));
				}
				rc = SQLITE_OK;
			} else if (rc == SQLITE_DONE) {
				rc = SQLITE_OK;
			}
		}
		/*
		 * finalize returns the step's error again and leaves it, with its
		 * message, on the connection for sqlite3_errmsg.
		 */
		(void)sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_BUSY || !retry_again(db, &r))
			break;
	}
	retry_end(db, &r);
	return rc;
}

/* Prepare sql into *st, retrying while busy (reading the schema needs a lock). */
static int
prepare_retry(struct db *db, const char *sql, sqlite3_stmt **st)
{
	struct retry r;
	int rc;

	retry_start(&r);
	while ((rc = sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL)) ==
			SQLITE_BUSY &&
		retry_again(db, &r))
		;
	retry_end(db, &r);
	return rc;
}

int
db_prepare_all(struct db *db, const char *const sql[], sqlite3_stmt *st[], int n)
{
	for (int i = 0; i < n; i++)
		if (prepare_retry(db, sql[i], &st[i]) != SQLITE_OK)
			return -1;
	return 0;
}

/* Step a statement that may be repeated after SQLITE_BUSY, retrying while busy. */
static int
step_retry(struct db *db, sqlite3_stmt *st)
{
	struct retry r;
	int rc;

	retry_start(&r);
	while ((rc = sqlite3_step(st)) == SQLITE_BUSY && retry_again(db, &r))
		(void)sqlite3_reset(st); /* returns SQLITE_BUSY again */
	retry_end(db, &r);
	return rc;
}

/* BEGIN IMMEDIATE unless a transaction is open; returns an sqlite3 code. */
static int
begin_rc(struct db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		return SQLITE_OK;
	return exec_retry(db, "BEGIN IMMEDIATE");
}

/* A note for a message about rc: how long it was busy (DB_BUSY_MS), or nothing. */
static const char *
busy_note(int rc)
{
	return rc == SQLITE_BUSY ? " (still busy after 10 s)" : "";
}

/* Close and free what db_open made, after it failed; returns NULL. */
static struct db *
open_refused(struct db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		(void)sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL); /* closing anyway */
	(void)sqlite3_close_v2(db->conn); /* nothing prepared: cannot fail */
	free(db->path);
	free(db);
	return NULL;
}

/*
 * The message and exit code for a failure of db_open's set-up with sqlite3
 * code rc; closes what is open and returns NULL.
 */
static struct db *
open_failed(struct db *db, int rc, int *exit_code)
{
	int syserr = sqlite3_system_errno(db->conn);

	if (rc == SQLITE_NOTADB) {
		warn("'%s' is not a jlkit database (not an SQLite file)", db->path);
		*exit_code = EXIT_DATAERR;
	} else if (rc == SQLITE_CORRUPT) {
		warn("cannot open '%s': %s", db->path, sqlite3_errmsg(db->conn));
		*exit_code = EXIT_DATAERR;
	} else if (syserr != 0 && rc != SQLITE_BUSY) {
		warn("cannot open '%s': %s (%s)", db->path, sqlite3_errmsg(db->conn),
			strerror(syserr));
		*exit_code = EXIT_CANTCREAT;
	} else {
		warn("cannot open '%s': %s%s", db->path, sqlite3_errmsg(db->conn), busy_note(rc));
		*exit_code = EXIT_CANTCREAT;
	}
	return open_refused(db);
}

/*
 * What the file is: its application_id, whether it has any table, whether
 * it has jl_schema. Returns an sqlite3 code.
 */
static int
identify(struct db *db, long long *app_id, long long *tables, long long *jl_schema)
{
	int rc;

	rc = query(db, "PRAGMA application_id", NULL, app_id, NULL);
	if (rc == SQLITE_OK)
		rc = query(db, "SELECT count(*) FROM sqlite_master", NULL, tables, NULL);
	if (rc == SQLITE_OK)
		rc = query(db,
			"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
			"'jl_schema'",
			NULL, jl_schema, NULL);
	return rc;
}

/* Refuse a file of another application (message, EXIT_DATAERR); 0 when it is ours or new. */
static int
check_foreign(struct db *db, long long app_id, long long tables, long long jl_schema,
	int *exit_code)
{
	if (app_id != 0 && app_id != DB_APPLICATION_ID) {
		warn("'%s' is not a jlkit database (application_id 0x%08llx)", db->path,
			(unsigned long long)app_id & 0xffffffffULL);
		*exit_code = EXIT_DATAERR;
		return -1;
	}
	if (app_id == 0 && tables > 0 && jl_schema == 0) {
		warn("'%s' is not a jlkit database (it has tables but no application_id)",
			db->path);
		*exit_code = EXIT_DATAERR;
		return -1;
	}
	return 0;
}

struct db *
db_open(const char *path, int *exit_code)
{
	struct db *db;
	struct buf mode = BUF_INIT;
	struct timespec now;
	long long app_id, tables, jl_schema;
	int fd, rc, unused;

	if (exit_code == NULL)
		exit_code = &unused;

	/*
	 * Create the file ourselves, so that it is 0600 from the start (it may
	 * hold cached answers); SQLite gives its -wal and -shm the same mode.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (fchmod(fd, 0600) != 0) { /* against an odd umask */
			warn("cannot create '%s':", path);
			close(fd);
			*exit_code = EXIT_CANTCREAT;
			return NULL;
		}
		if (close(fd) != 0) {
			warn("cannot create '%s':", path);
			*exit_code = EXIT_CANTCREAT;
			return NULL;
		}
	} else if (errno != EEXIST) {
		warn("cannot create '%s':", path);
		*exit_code = EXIT_CANTCREAT;
		return NULL;
	}

	db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(path);
	clock_gettime(CLOCK_MONOTONIC, &now);
	db->rng = ((uint64_t)getpid() << 32 ^ (uint64_t)now.tv_nsec ^ (uint64_t)(uintptr_t)db) | 1;
	/* one thread per connection in every tool: no mutex around each call */
	rc = sqlite3_open_v2(path, &db->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (db->conn == NULL)
		die(EXIT_SOFTWARE, "out of memory (opening '%s')", path);
	if (rc != SQLITE_OK)
		return open_failed(db, rc, exit_code);
	rc = sqlite3_busy_timeout(db->conn, DB_BUSY_MS);
	if (rc != SQLITE_OK)
		return open_failed(db, rc, exit_code);
	if (sqlite3_db_readonly(db->conn, "main") == 1) {
		warn("cannot open '%s' for writing: the file is read-only", path);
		*exit_code = EXIT_CANTCREAT;
		return open_refused(db);
	}

	/* Look before changing anything: a foreign file stays as it was. */
	rc = identify(db, &app_id, &tables, &jl_schema);
	if (rc != SQLITE_OK)
		return open_failed(db, rc, exit_code);
	if (check_foreign(db, app_id, tables, jl_schema, exit_code) != 0)
		return open_refused(db);

	/* 16 KiB pages for a new file (a no-op on one that has pages): a quarter of
	 * the write calls for the ledger's and the caches' streams of rows */
	rc = exec_retry(db, "PRAGMA page_size = 16384");
	if (rc != SQLITE_OK)
		return open_failed(db, rc, exit_code);
	rc = query(db, "PRAGMA journal_mode = WAL", NULL, &(long long){ 0 }, &mode);
	if (rc != SQLITE_OK) {
		buf_free(&mode);
		return open_failed(db, rc, exit_code);
	}
	if (strcmp(buf_cstr(&mode), "wal") != 0) {
		warn("cannot open '%s': cannot use WAL mode (journal mode stays '%s')", path,
			buf_cstr(&mode));
		buf_free(&mode);
		*exit_code = EXIT_CANTCREAT;
		return open_refused(db);
	}
	buf_free(&mode);
	rc = exec_retry(db, "PRAGMA synchronous = NORMAL");
	if (rc != SQLITE_OK)
		return open_failed(db, rc, exit_code);

	if (app_id == 0) {
		/* New, or made before application_id was set: claim it, looking again under the
		 * lock. */
		rc = begin_rc(db);
		if (rc == SQLITE_OK)
			rc = identify(db, &app_id, &tables, &jl_schema);
		if (rc != SQLITE_OK)
			return open_failed(db, rc, exit_code);
		if (check_foreign(db, app_id, tables, jl_schema, exit_code) != 0)
			return open_refused(db);
		if (app_id == 0) {
			char sql[64];

			snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", DB_APPLICATION_ID);
			rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);
		}
		if (rc == SQLITE_OK)
			rc = exec_retry(db, "COMMIT");
		if (rc != SQLITE_OK)
			return open_failed(db, rc, exit_code);
	}
	return db;
}

int
db_close(struct db *db)
{
	int ret = 0;

	if (db == NULL)
		return 0;
	for (size_t i = 0; i < db->ncaches; i++) {
		/* finalize only repeats the last step's error, reported already */
		(void)sqlite3_finalize(db->caches[i].get);
		(void)sqlite3_finalize(db->caches[i].put);
		free(db->caches[i].table);
	}
	free(db->caches);
	if (db_commit(db) != 0)
		ret = -1;
	if (sqlite3_close(db->conn) != SQLITE_OK) {
		ret = error("%s: cannot close: %s", db->path, sqlite3_errmsg(db->conn));
		(void)sqlite3_close_v2(db->conn); /* freed when its last statement is */
	}
	free(db->path);
	free(db);
	return ret;
}

sqlite3 *
db_sqlite(struct db *db)
{
	return db->conn;
}

const char *
db_path(const struct db *db)
{
	return db->path;
}

int
db_begin(struct db *db)
{
	int rc = begin_rc(db);

	if (rc != SQLITE_OK)
		return error("%s: cannot start a write transaction: %s%s", db->path,
			sqlite3_errmsg(db->conn), busy_note(rc));
	return 0;
}

int
db_commit(struct db *db)
{
	int rc;

	if (sqlite3_get_autocommit(db->conn))
		return 0;
	rc = exec_retry(db, "COMMIT");
	if (rc != SQLITE_OK) {
		error("%s: cannot commit: %s%s", db->path, sqlite3_errmsg(db->conn), busy_note(rc));
		db_rollback(db); /* leave no transaction open */
		return -1;
	}
	return 0;
}

void
db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->conn))
		return;
	if (sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		warn("%s: cannot roll back: %s", db->path, sqlite3_errmsg(db->conn));
}

bool
db_in_transaction(const struct db *db)
{
	return !sqlite3_get_autocommit(db->conn);
}

/* The version of component (0 when absent) into *version; returns an sqlite3 code. */
static int
schema_version(struct db *db, const char *component, long long *version)
{
	long long exists;
	int rc;

	*version = 0;
	rc = query(db,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'jl_schema'",
		NULL, &exists, NULL);
	if (rc == SQLITE_OK && exists)
		rc = query(db, "SELECT version FROM jl_schema WHERE component = ?1", component,
			version, NULL);
	return rc;
}

/* Refuse a version this program does not know; 0 when it can be used or upgraded. */
static int
check_version(struct db *db, const char *component, long long version, int nsteps)
{
	if (version > nsteps)
		return error("%s: %s is at version %lld, this %s knows %d", db->path, component,
			version, progname, nsteps);
	if (version < 0)
		return error("%s: %s is at version %lld in jl_schema", db->path, component,
			version);
	return 0;
}

/* The steps from version to nsteps and the new version, in the open transaction. */
static int
schema_upgrade(struct db *db, const char *component, const char *const *steps, int nsteps)
{
	static const char set_version[] =
		"INSERT INTO jl_schema(component, version) VALUES(?1, ?2) "
		"ON CONFLICT(component) DO UPDATE SET version = excluded.version";
	sqlite3_stmt *st = NULL;
	long long version;
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(db->conn,
		"CREATE TABLE IF NOT EXISTS jl_schema("
		"component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
		NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = schema_version(db, component, &version);
	if (rc != SQLITE_OK)
		return error("%s: cannot read the version of %s: %s", db->path, component,
			sqlite3_errmsg(db->conn));
	if (check_version(db, component, version, nsteps) != 0)
		return -1;
	if (version == nsteps)
		return 0; /* another process was first */
	for (int i = (int)version; i < nsteps; i++) {
		if (sqlite3_exec(db->conn, steps[i], NULL, NULL, &msg) != SQLITE_OK) {
			error("%s: cannot bring %s to version %d: %s", db->path, component, i + 1,
				msg != NULL ? msg : sqlite3_errmsg(db->conn));
			sqlite3_free(msg);
			return -1;
		}
	}
	rc = sqlite3_prepare_v2(db->conn, set_version, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 2, nsteps);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		error("%s: cannot record version %d of %s: %s", db->path, nsteps, component,
			sqlite3_errmsg(db->conn));
	(void)sqlite3_finalize(st); /* its error is reported above */
	return rc == SQLITE_OK ? 0 : -1;
}

int
db_schema(struct db *db, const char *component, const char *const *steps, int nsteps)
{
	long long version;
	bool nested;
	int rc;

	if (component == NULL || *component == '\0' || nsteps < 0)
		return error("%s: db_schema: no component or a negative number of steps", db->path);
	/* Usually all is there already: look without taking the write lock. */
	rc = schema_version(db, component, &version);
	if (rc != SQLITE_OK)
		return error("%s: cannot read the version of %s: %s%s", db->path, component,
			sqlite3_errmsg(db->conn), busy_note(rc));
	if (check_version(db, component, version, nsteps) != 0)
		return -1;
	if (version == nsteps)
		return 0;

	/* Inside a caller's transaction, a savepoint keeps a failure from undoing its work. */
	nested = db_in_transaction(db);
	if (nested)
		rc = sqlite3_exec(db->conn, "SAVEPOINT jl_schema", NULL, NULL, NULL);
	else
		rc = begin_rc(db);
	if (rc != SQLITE_OK)
		return error("%s: cannot start a write transaction: %s%s", db->path,
			sqlite3_errmsg(db->conn), busy_note(rc));
	if (schema_upgrade(db, component, steps, nsteps) != 0) {
		if (nested) {
			if (sqlite3_exec(db->conn, "ROLLBACK TO jl_schema; RELEASE jl_schema", NULL,
				    NULL, NULL) != SQLITE_OK)
				warn("%s: cannot roll back: %s", db->path,
					sqlite3_errmsg(db->conn));
		} else {
			db_rollback(db);
		}
		return -1;
	}
	if (nested) {
		if (sqlite3_exec(db->conn, "RELEASE jl_schema", NULL, NULL, NULL) != SQLITE_OK)
			return error("%s: cannot release a savepoint: %s", db->path,
				sqlite3_errmsg(db->conn));
		return 0;
	}
	return db_commit(db);
}

/* Whether name may go into SQL text as a table name: [a-z0-9_]{1,64}. */
static bool
valid_table_name(const char *name)
{
	size_t n;

	for (n = 0; name[n] != '\0'; n++)
		if (!((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9') ||
			    name[n] == '_'))
			return false;
	return n > 0 && n <= DB_TABLE_NAME_MAX;
}

static int
bad_table_name(const struct db *db, const char *table)
{
	return error("%s: invalid cache table name '%s' (1 to %d of a-z, 0-9 and _)", db->path,
		table, DB_TABLE_NAME_MAX);
}

int
db_cache_table(struct db *db, const char *table)
{
	struct buf component = BUF_INIT, sql = BUF_INIT;
	const char *steps[1];
	int rc;

	if (!valid_table_name(table))
		return bad_table_name(db, table);
	buf_puts(&component, "cache:");
	buf_puts(&component, table);
	buf_puts(&sql, "CREATE TABLE \"");
	buf_puts(&sql, table);
	buf_puts(&sql,
		"\"(key BLOB PRIMARY KEY, value TEXT NOT NULL, "
		"created INTEGER NOT NULL) WITHOUT ROWID");
	steps[0] = buf_cstr(&sql);
	rc = db_schema(db, buf_cstr(&component), steps, 1);
	buf_free(&component);
	buf_free(&sql);
	return rc;
}

/* The statements of a cache table, prepared on first use; NULL after a message. */
static struct cache_stmts *
cache_stmts(struct db *db, const char *table)
{
	struct cache_stmts c = { NULL, NULL, NULL };
	struct buf sql = BUF_INIT;
	int rc;

	for (size_t i = 0; i < db->ncaches; i++)
		if (strcmp(db->caches[i].table, table) == 0)
			return &db->caches[i];
	if (!valid_table_name(table)) {
		bad_table_name(db, table);
		return NULL;
	}
	buf_puts(&sql, "SELECT value FROM \"");
	buf_puts(&sql, table);
	buf_puts(&sql, "\" WHERE key = ?1");
	rc = prepare_retry(db, buf_cstr(&sql), &c.get);
	if (rc == SQLITE_OK) {
		buf_reset(&sql);
		buf_puts(&sql, "INSERT OR IGNORE INTO \"");
		buf_puts(&sql, table);
		buf_puts(&sql, "\"(key, value, created) VALUES(?1, ?2, ?3)");
		rc = prepare_retry(db, buf_cstr(&sql), &c.put);
	}
	buf_free(&sql);
	if (rc != SQLITE_OK) {
		error("%s: cannot use cache table '%s': %s%s", db->path, table,
			sqlite3_errmsg(db->conn), busy_note(rc));
		(void)sqlite3_finalize(c.get); /* NULL or a good statement */
		return NULL;
	}
	c.table = xstrdup(table);
	db->caches = xreallocarray(db->caches, db->ncaches + 1, sizeof(*db->caches));
	db->caches[db->ncaches] = c;
	return &db->caches[db->ncaches++];
}

int
db_cache_get(struct db *db, const char *table, const unsigned char key[SHA256_SIZE],
	struct buf *value)
{
	struct cache_stmts *c = cache_stmts(db, table);
	int rc, ret = -1;

	if (c == NULL)
		return -1;
	rc = sqlite3_bind_blob(c->get, 1, key, SHA256_SIZE, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = step_retry(db, c->get);
	if (rc == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(c->get, 0);
		int n = sqlite3_column_bytes(c->get, 0);

		if (s == NULL && sqlite3_errcode(db->conn) == SQLITE_NOMEM) {
			rc = SQLITE_NOMEM;
		} else {
			buf_add(value, s, (size_t)n);
			ret = 1;
		}
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	if (ret < 0)
		error("%s: cannot read cache table '%s': %s%s", db->path, table,
			sqlite3_errmsg(db->conn), busy_note(rc));
	/* Both return the step's error again, reported above. */
	(void)sqlite3_reset(c->get);
	(void)sqlite3_clear_bindings(c->get);
	return ret;
}

int
db_cache_put(struct db *db, const char *table, const unsigned char key[SHA256_SIZE],
	const void *value, size_t len)
{
	struct cache_stmts *c = cache_stmts(db, table);
	bool own;
	int rc;

	if (c == NULL)
		return -1;
	own = !db_in_transaction(db);
	if (own && db_begin(db) != 0)
		return -1;
	rc = sqlite3_bind_blob(c->put, 1, key, SHA256_SIZE, SQLITE_STATIC);
	if (rc == SQLITE_OK) /* value NULL would bind SQL NULL */
		rc = sqlite3_bind_text64(c->put, 2, value != NULL ? value : "", len, SQLITE_STATIC,
			SQLITE_UTF8);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(c->put, 3, (sqlite3_int64)time(NULL));
	if (rc == SQLITE_OK && (rc = sqlite3_step(c->put)) == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		error("%s: cannot write to cache table '%s': %s", db->path, table,
			sqlite3_errmsg(db->conn));
	(void)sqlite3_reset(c->put); /* repeats the step's error, reported above */
	(void)sqlite3_clear_bindings(c->put);
	if (rc != SQLITE_OK) {
		if (own)
			db_rollback(db);
		return -1;
	}
	return own ? db_commit(db) : 0;
}
