/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fts backend: documents in a plain table docs(id, url UNIQUE, title,
 * content) and an external-content FTS5 table fts(title, content) over it,
 * kept in step by triggers, so the text is stored once and an update can
 * never leave a stale row in the index (the update trigger removes the old
 * terms before adding the new). Writing a document whose url is there
 * already with the same title and content changes nothing, so indexing the
 * same corpus again is cheap and idempotent.
 *
 * Searching never hands user text to the FTS5 query parser: the query is
 * split into words (runs of ASCII letters and digits and of bytes >= 0x80,
 * so any non-ASCII character counts as a letter), each word becomes an FTS5
 * string ("word", '"' doubled) and the strings are joined with OR. FTS5's
 * unicode61 tokenizer then splits a string with non-ASCII punctuation inside
 * ("foo—bar") into a phrase, and a string with no token in it matches
 * nothing. Ranking is bm25 with the title weighing 10 and the content 1;
 * b = bm25() is negative, better the lower, and the score is s / (s + 1)
 * with s = -b, which is in (0, 1) and keeps the order.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "fts.h"
#include "results.h"
#include "utf8.h"
#include "util.h"

static const char *const fts_schema[] = {
	/* version 1 */
	"CREATE TABLE docs(id INTEGER PRIMARY KEY, url TEXT UNIQUE NOT NULL, title TEXT, "
	"content TEXT);"
	"CREATE VIRTUAL TABLE fts USING fts5(title, content, content='docs', "
	"content_rowid='id', tokenize='unicode61 remove_diacritics 2');"
	"CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN "
	"INSERT INTO fts(rowid, title, content) VALUES(new.id, new.title, new.content); END;"
	"CREATE TRIGGER docs_ad AFTER DELETE ON docs BEGIN "
	"INSERT INTO fts(fts, rowid, title, content) "
	"VALUES('delete', old.id, old.title, old.content); END;"
	"CREATE TRIGGER docs_au AFTER UPDATE ON docs BEGIN "
	"INSERT INTO fts(fts, rowid, title, content) "
	"VALUES('delete', old.id, old.title, old.content); "
	"INSERT INTO fts(rowid, title, content) VALUES(new.id, new.title, new.content); END;",
};

#define FTS_SCHEMA_STEPS ((int)(sizeof(fts_schema) / sizeof(fts_schema[0])))

/* The statements, prepared once at open. */
enum {
	ST_FIND,   /* ?1 url → id, title, content */
	ST_INSERT, /* ?1 url, ?2 title, ?3 content */
	ST_UPDATE, /* ?1 id, ?2 title, ?3 content */
	ST_COUNT,
	ST_SEARCH, /* ?1 FTS5 query, ?2 limit → title, url, content, bm25 */
	ST_TERM,   /* ?1 term → the documents that hold it */
	ST_MAX
};

static const char *const fts_sql[ST_MAX] = {
	[ST_FIND] = "SELECT id, title, content FROM docs WHERE url = ?1",
	[ST_INSERT] = "INSERT INTO docs(url, title, content) VALUES(?1, ?2, ?3)",
	[ST_UPDATE] = "UPDATE docs SET title = ?2, content = ?3 WHERE id = ?1",
	[ST_COUNT] = "SELECT count(*) FROM docs",
	[ST_SEARCH] = "SELECT d.title, d.url, d.content, m.b FROM "
		      "(SELECT rowid AS id, bm25(fts, 10.0, 1.0) AS b FROM fts "
		      "WHERE fts MATCH ?1 ORDER BY b, rowid LIMIT ?2) AS m "
		      "JOIN docs AS d ON d.id = m.id ORDER BY m.b, m.id",
	[ST_TERM] = "SELECT doc FROM temp.fts_terms WHERE term = ?1",
};

struct fts {
	struct db *db;
	sqlite3_stmt *st[ST_MAX];
	long long ndocs; /* when opened */
};

/* Whether the index tables are there (jl_schema knows fts_index); -1 on error. */
static int
has_index(struct fts *f)
{
	sqlite3_stmt *st = NULL;
	int rc, found = 0;

	rc = sqlite3_prepare_v2(db_sqlite(f->db),
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'jl_schema'",
		-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		found = sqlite3_column_int(st, 0) > 0;
		rc = SQLITE_OK;
	}
	(void)sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_OK && found) {
		found = 0;
		rc = sqlite3_prepare_v2(db_sqlite(f->db),
			"SELECT count(*) FROM jl_schema WHERE component = 'fts_index'", -1, &st,
			NULL);
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			found = sqlite3_column_int(st, 0) > 0;
			rc = SQLITE_OK;
		}
		(void)sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK)
		return error("cannot read the index '%s': %s", db_path(f->db),
			sqlite3_errmsg(db_sqlite(f->db)));
	return found;
}

/* Finalize what is prepared, close the database; returns 0 or -1 after a message. */
static int
fts_release(struct fts *f)
{
	int ret;

	for (int i = 0; i < ST_MAX; i++)
		(void)sqlite3_finalize(f->st[i]); /* repeats an error reported already */
	ret = db_close(f->db);
	free(f);
	return ret;
}

struct fts *
fts_open(const char *path, bool create, int *exit_code)
{
	struct fts *f;
	struct stat st;
	int unused, found;

	if (exit_code == NULL)
		exit_code = &unused;
	if (!create && stat(path, &st) != 0) {
		warn("cannot open the index '%s':", path);
		*exit_code = EXIT_NOINPUT;
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->db = db_open(path, exit_code);
	if (f->db == NULL) {
		free(f);
		return NULL;
	}
	if (!create) {
		found = has_index(f);
		if (found <= 0) {
			if (found == 0)
				warn("'%s' is not a jl-search index (build one with "
				     "jl-search --index)",
					path);
			*exit_code = EXIT_DATAERR;
			(void)fts_release(f);
			return NULL;
		}
	}
	if (db_schema(f->db, "fts_index", fts_schema, FTS_SCHEMA_STEPS) != 0) {
		*exit_code = EXIT_DATAERR;
		(void)fts_release(f);
		return NULL;
	}
	if (sqlite3_exec(db_sqlite(f->db),
		    "CREATE VIRTUAL TABLE temp.fts_terms USING fts5vocab(main, 'fts', 'row')", NULL,
		    NULL, NULL) != SQLITE_OK) {
		warn("cannot use the index '%s': %s", path, sqlite3_errmsg(db_sqlite(f->db)));
		*exit_code = EXIT_DATAERR;
		(void)fts_release(f);
		return NULL;
	}
	if (db_prepare_all(f->db, fts_sql, f->st, ST_MAX) != 0) {
		warn("cannot use the index '%s': %s", path, sqlite3_errmsg(db_sqlite(f->db)));
		*exit_code = EXIT_DATAERR;
		(void)fts_release(f);
		return NULL;
	}
	f->ndocs = fts_count(f);
	return f;
}

/* Bind a C string, or NULL as SQL NULL. */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Whether column i of st holds s (NULL matches NULL only). */
static bool
column_is(sqlite3_stmt *st, int i, const char *s)
{
	const unsigned char *c;
	size_t n;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return s == NULL;
	c = sqlite3_column_text(st, i);
	if (s == NULL || c == NULL)
		return false;
	n = strlen(s);
	return (size_t)sqlite3_column_bytes(st, i) == n && memcmp(c, s, n) == 0;
}

static void
stmt_done(sqlite3_stmt *st)
{
	(void)sqlite3_reset(st); /* repeats the step's error, reported by the caller */
	(void)sqlite3_clear_bindings(st);
}

/* Report a failed statement of fts_add (before the reset), then reset it; returns -1. */
static int
add_failed(struct fts *f, sqlite3_stmt *st, const char *url)
{
	error("%s: cannot index '%s': %s", db_path(f->db), url, sqlite3_errmsg(db_sqlite(f->db)));
	stmt_done(st);
	return -1;
}

/* fts_add inside the open transaction; returns 1, 0 or -1 after a message. */
static int
add_in_transaction(struct fts *f, const char *url, const char *title, const char *content)
{
	sqlite3_stmt *find = f->st[ST_FIND], *w;
	sqlite3_int64 id = 0;
	bool exists = false, same = false;
	int rc;

	rc = sqlite3_bind_text(find, 1, url, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(find);
	if (rc == SQLITE_ROW) {
		exists = true;
		id = sqlite3_column_int64(find, 0);
		same = column_is(find, 1, title) && column_is(find, 2, content);
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		return add_failed(f, find, url);
	stmt_done(find);
	if (same)
		return 0;
	if (exists) {
		w = f->st[ST_UPDATE];
		rc = sqlite3_bind_int64(w, 1, id);
	} else {
		w = f->st[ST_INSERT];
		rc = sqlite3_bind_text(w, 1, url, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK)
		rc = bind_text(w, 2, title);
	if (rc == SQLITE_OK)
		rc = bind_text(w, 3, content);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(w);
	if (rc != SQLITE_DONE)
		return add_failed(f, w, url);
	stmt_done(w);
	return exists ? 0 : 1;
}

int
fts_add(struct fts *f, const char *url, const char *title, const char *content)
{
	bool own = !db_in_transaction(f->db);
	int ret;

	if (url == NULL || *url == '\0')
		return error("%s: cannot index a document without a url", db_path(f->db));
	if (own && db_begin(f->db) != 0)
		return -1;
	ret = add_in_transaction(f, url, title, content);
	if (ret < 0) {
		if (own)
			db_rollback(f->db);
		return -1;
	}
	if (own && db_commit(f->db) != 0)
		return -1;
	if (ret == 1) /* a batch rolled back later leaves it high: fewer words left out */
		f->ndocs++;
	return ret;
}

int
fts_begin(struct fts *f)
{
	return db_begin(f->db);
}

int
fts_commit(struct fts *f)
{
	return db_commit(f->db);
}

long long
fts_count(struct fts *f)
{
	sqlite3_stmt *st = f->st[ST_COUNT];
	long long n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		error("%s: cannot count the documents: %s", db_path(f->db),
			sqlite3_errmsg(db_sqlite(f->db)));
	stmt_done(st);
	return n;
}

static bool
word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		c >= 0x80;
}

/*
 * How many documents hold word w[0..n) (ASCII only: how FTS5 folds other
 * text is its tokenizer's business), or -1 when unknown.
 */
static long long
term_docs(struct fts *f, const char *w, size_t n)
{
	sqlite3_stmt *st = f->st[ST_TERM];
	char term[64];
	long long docs = -1;

	if (n >= sizeof(term))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)w[i] >= 0x80)
			return -1;
		term[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] - 'A' + 'a' : w[i]);
	}
	if (sqlite3_bind_text(st, 1, term, (int)n, SQLITE_STATIC) == SQLITE_OK) {
		int rc = sqlite3_step(st);

		docs = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
	}
	stmt_done(st);
	return docs;
}

/*
 * The FTS5 query for free text q[0..n) (valid UTF-8): its words as FTS5
 * strings joined by OR, into out. Returns the number of words.
 *
 * A word held by more than half of the documents is left out when another
 * word is not: FTS5's BM25 gives such a word an IDF of 1e-6 (its formula is
 * negative there and clamped), so it changes no ranking, while scoring every
 * document that holds it made such queries many times slower.
 */
static size_t
fts_query(struct fts *f, const char *q, size_t n, struct buf *out)
{
	size_t i = 0, words = 0, pass;

	for (pass = 0; pass < 2 && words == 0; pass++) {
		i = 0;
		while (i < n) {
			size_t start;

			while (i < n && !word_byte((unsigned char)q[i]))
				i++;
			if (i == n)
				break;
			start = i;
			while (i < n && word_byte((unsigned char)q[i]))
				i++;
			if (pass == 0 && f->ndocs > 0 &&
				term_docs(f, q + start, i - start) * 2 > f->ndocs)
				continue; /* common: only if nothing else is left (pass 1) */
			if (words++ > 0)
				buf_puts(out, " OR ");
			buf_putc(out, '"');
			for (size_t j = start; j < i; j++) {
				if (q[j] == '"') /* not a word byte now; kept for safety */
					buf_putc(out, '"');
				buf_putc(out, q[j]);
			}
			buf_putc(out, '"');
		}
	}
	return words;
}

/* A column as a C string, or NULL for SQL NULL (text is NUL-terminated by SQLite). */
static const char *
column_cstr(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(st, i);
}

jv
fts_search(struct fts *f, const char *query, long limit, struct buf *err)
{
	sqlite3_stmt *st = f->st[ST_SEARCH];
	struct buf text = BUF_INIT, match = BUF_INIT;
	jv out = jv_array();
	int rc;

	if (query != NULL)
		utf8_sanitize(&text, query, strlen(query));
	if (fts_query(f, text.data != NULL ? text.data : "", text.len, &match) == 0 || limit == 0) {
		buf_free(&text);
		buf_free(&match);
		return out;
	}
	rc = sqlite3_bind_text64(st, 1, match.data, match.len, SQLITE_STATIC, SQLITE_UTF8);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, limit < 0 ? -1 : (sqlite3_int64)limit);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		double s = -sqlite3_column_double(st, 3);
		const char *title = column_cstr(st, 0), *url = column_cstr(st, 1),
			   *content = column_cstr(st, 2);

		if (!(s > 1e-12)) /* bm25 is below 0 for every match; guard against 0 */
			s = 1e-12;
		out = jv_array_append(out,
			result_new(title, url, content, NULL, NULL, true, s / (s + 1.0)));
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		jv_free(out);
		out = jv_invalid();
		buf_puts(err, "cannot search the index '");
		buf_puts(err, db_path(f->db));
		buf_puts(err, "': ");
		buf_puts(err, sqlite3_errmsg(db_sqlite(f->db)));
	}
	stmt_done(st);
	buf_free(&text);
	buf_free(&match);
	return out;
}

int
fts_close(struct fts *f)
{
	if (f == NULL)
		return 0;
	return fts_release(f);
}
