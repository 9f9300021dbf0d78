/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tools/jl-search/fts.c, in a temporary directory: build an index, reopen
 * it for searching, update (the same url twice is one document, its new
 * text found and its old text not, the FTS5 index checked against the
 * documents with FTS5's integrity-check), an unchanged document rewritten,
 * batches, a batch left open at close; ranking (the query words in a
 * title beat one word in a content; scores descending, in (0, 1]; limit);
 * FTS5 syntax in queries never an error; queries without words; Unicode
 * (diacritics folded both ways, case folding beyond ASCII, CJK words);
 * a missing index when searching (EXIT_NOINPUT, the message, no file
 * made), a jlkit database without an index and a file that is not SQLite
 * (EXIT_DATAERR); then a large generated index, timed: 10,000 documents by
 * default, 100,000 with JLKIT_TEST_EXPENSIVE set (about 17 s), 1,000 under
 * valgrind (TEST_VALGRIND set), or JLKIT_TEST_FTS_DOCS=N.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "fts.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

static void
fail(const char *what)
{
	perror(what);
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fts_search with no error expected: the result, or an invalid jv after a diagnostic. */
static jv
search(struct fts *f, const char *q, long limit)
{
	struct buf err = BUF_INIT;
	jv r = fts_search(f, q, limit, &err);

	if (!jv_is_valid(r))
		printf("# fts_search('%s'): %s\n", q, buf_cstr(&err));
	buf_free(&err);
	return r;
}

/* Where urls() puts its answer; freed at the end. */
static struct buf urls_buf;

/* The urls of a result array (borrowed), comma-separated. */
static const char *
urls(jv a)
{
	buf_reset(&urls_buf);
	if (jv_get_kind(a) != JV_KIND_ARRAY)
		return "(error)";
	for (int i = 0; i < jv_array_length(jv_copy(a)); i++) {
		jv u = jv_object_get(jv_array_get(jv_copy(a), i), jv_string("url"));

		if (i > 0)
			buf_putc(&urls_buf, ',');
		buf_puts(&urls_buf, jv_get_kind(u) == JV_KIND_STRING ? jv_string_value(u) : "?");
		jv_free(u);
	}
	return buf_cstr(&urls_buf);
}

/* The urls found for q (all of them), best first. */
static const char *
found(struct fts *f, const char *q)
{
	jv r = search(f, q, -1);
	const char *s = urls(r);

	jv_free(r);
	return s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The urls found for q, in alphabetical order: for matches whose ranking is not the point. */
static const char *
found_set(struct fts *f, const char *q)
{
	char *copy = xstrdup(found(f, q)), *parts[64] = { NULL };
	size_t n = 0;

	for (char *p = *copy != '\0' ? copy : NULL; p != NULL && n < 64;) {
		parts[n++] = p;
		p = strchr(p, ',');
		if (p != NULL)
			*p++ = '\0';
	}
	qsort(parts, n, sizeof(parts[0]), cmp_str);
	buf_reset(&urls_buf);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&urls_buf, ',');
		buf_puts(&urls_buf, parts[i]);
	}
	free(copy);
	return buf_cstr(&urls_buf);
}

/* Whether the scores of a (borrowed) are numbers in (0, 1], not increasing. */
static bool
scores_ok(jv a)
{
	double prev = 2;

	if (jv_get_kind(a) != JV_KIND_ARRAY)
		return false;
	for (int i = 0; i < jv_array_length(jv_copy(a)); i++) {
		jv s = jv_object_get(jv_array_get(jv_copy(a), i), jv_string("score"));
		double x = jv_get_kind(s) == JV_KIND_NUMBER ? jv_number_value(s) : -1;

		jv_free(s);
		if (!(x > 0 && x <= 1 && x <= prev))
			return false;
		prev = x;
	}
	return true;
}

/* Run one SQL query on path with a connection of our own; the first column of the first row. */
static void
sql_text(const char *path, const char *sql, struct buf *out)
{
	sqlite3 *c = NULL;
	sqlite3_stmt *st = NULL;

	if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail("sqlite3_open_v2");
	if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
		buf_puts(out, "error: ");
		buf_puts(out, sqlite3_errmsg(c));
	} else {
		int rc = sqlite3_step(st);

		if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
			buf_puts(out, (const char *)sqlite3_column_text(st, 0));
		else if (rc == SQLITE_DONE)
			buf_puts(out, "done");
		else if (rc != SQLITE_ROW) {
			buf_puts(out, "error: ");
			buf_puts(out, sqlite3_errmsg(c));
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(c);
}

/* Where integrity() puts its answer; freed at the end. */
static struct buf integrity_buf;

/* FTS5's own check that the index matches the documents: "done" when it does. */
static const char *
integrity(const char *path)
{
	buf_reset(&integrity_buf);
	sql_text(path, "INSERT INTO fts(fts, rank) VALUES('integrity-check', 1)", &integrity_buf);
	return buf_cstr(&integrity_buf);
}

static void
test_build(void)
{
	int code = 0;
	struct fts *f = fts_open("idx.db", true, &code);
	jv r;

	ok(f != NULL, "build: fts_open creates an index");
	if (f == NULL)
		exit(1);
	is_int(fts_count(f), 0, "build: empty at first");
	is_int(fts_add(f, "https://a.example/1", "Alpha report", "the quick brown fox"), 1,
		"build: a new document gives 1");
	is_int(fts_add(f, "https://a.example/2", "Beta notes", "lazy dogs sleep all day"), 1,
		"build: another");
	is_int(fts_add(f, "https://a.example/3", NULL, NULL), 1, "build: no title, no content");
	is_int(fts_count(f), 3, "build: three documents");
	is_int(fts_add(f, "https://a.example/1", "Alpha report", "the quick brown fox"), 0,
		"build: the same document again gives 0");
	is_int(fts_count(f), 3, "build: still three");
	is_int(fts_add(f, NULL, "t", "c"), -1, "build: no url is an error");
	is_int(fts_add(f, "", "t", "c"), -1, "build: an empty url is an error");
	is_int(fts_close(f), 0, "build: close");

	f = fts_open("idx.db", false, &code);
	ok(f != NULL, "reopen: for searching");
	if (f == NULL)
		exit(1);
	is_int(fts_count(f), 3, "reopen: three documents");
	r = search(f, "fox", 10);
	is_str(urls(r), "https://a.example/1", "reopen: found in content");
	{
		jv s = jv_dump_string(jv_array_get(jv_copy(r), 0), 0);
		const char *t = jv_string_value(s);

		ok(strncmp(t,
			   "{\"title\":\"Alpha report\",\"url\":\"https://a.example/1\","
			   "\"content\":\"the quick brown fox\",\"score\":",
			   strlen("{\"title\":\"Alpha report\",\"url\":\"https://a.example/1\","
				  "\"content\":\"the quick brown fox\",\"score\":")) == 0 &&
				strstr(t, ",\"raw_content\":null,\"published_date\":null}") != NULL,
			"reopen: a normalised result: %s", t);
		jv_free(s);
	}
	jv_free(r);
	is_str(found(f, "beta"), "https://a.example/2", "reopen: found in title, any case");
	is_str(found(f, "FOX dogs"), "https://a.example/1,https://a.example/2",
		"reopen: any of the words");
	is_str(found(f, "fo"), "", "reopen: no prefix match");
	is_str(found(f, "cat"), "", "reopen: nothing found: []");
	is_int(fts_close(f), 0, "reopen: close");
	is_str(integrity("idx.db"), "done", "build: FTS5 integrity-check");
}

static void
test_update(void)
{
	int code = 0;
	struct fts *f = fts_open("upd.db", true, &code);

	if (f == NULL)
		exit(1);
	is_int(fts_add(f, "https://u.example/", "Old title", "original zebra text"), 1,
		"update: first version");
	is_int(fts_add(f, "https://u.example/other", "Other", "unrelated text"), 1,
		"update: a second document");
	is_int(fts_add(f, "https://u.example/", "New title", "replacement giraffe text"), 0,
		"update: the same url again gives 0");
	is_int(fts_count(f), 2, "update: the same url twice is one document");
	is_str(found(f, "giraffe"), "https://u.example/", "update: new content found");
	is_str(found(f, "new"), "https://u.example/", "update: new title found");
	is_str(found(f, "zebra"), "", "update: old content gone");
	is_str(found(f, "old"), "", "update: old title gone");
	is_str(found(f, "original OR zebra"), "", "update: old words gone, with OR as a word");
	is_int(fts_add(f, "https://u.example/", NULL, "giraffe only"), 0, "update: title to null");
	is_str(found(f, "title"), "", "update: the title's words gone");
	is_int(fts_add(f, "https://u.example/", "Title back", NULL), 0, "update: content to null");
	is_str(found(f, "giraffe"), "", "update: the content's words gone");
	is_str(found(f, "back"), "https://u.example/", "update: the title found");
	/* A url differing in case or with '/' is another document: the index keeps urls exact. */
	is_int(fts_add(f, "https://U.example/", "Title back", NULL), 1,
		"update: urls are compared exactly");
	is_int(fts_count(f), 3, "update: three documents");
	is_int(fts_close(f), 0, "update: close");
	is_str(integrity("upd.db"), "done", "update: FTS5 integrity-check (no stale rows)");
}

static void
test_batches(void)
{
	int code = 0;
	struct fts *f = fts_open("batch.db", true, &code);
	char url[64];
	int news = 0, olds = 0;

	if (f == NULL)
		exit(1);
	is_int(fts_begin(f), 0, "batch: begin");
	for (int i = 0; i < 300; i++) {
		snprintf(url, sizeof(url), "https://b.example/%d", i % 200);
		int r = fts_add(f, url, "batch", i < 200 ? "first pass" : "second pass");

		news += r == 1;
		olds += r == 0;
	}
	is_int(fts_commit(f), 0, "batch: commit");
	is_int(news, 200, "batch: 200 new in one transaction");
	is_int(olds, 100, "batch: 100 updated in the same transaction");
	is_int(fts_count(f), 200, "batch: 200 documents");
	{
		jv r = search(f, "second", -1);

		is_int(jv_array_length(r), 100, "batch: the updated ones found by their new text");
	}
	is_int(fts_commit(f), 0, "batch: commit with nothing open");
	is_int(fts_begin(f), 0, "batch: begin again");
	is_int(fts_add(f, "https://b.example/left-open", "open", "pending at close"), 1,
		"batch: one more");
	is_int(fts_close(f), 0, "batch: close commits the open batch");
	f = fts_open("batch.db", false, &code);
	if (f == NULL)
		exit(1);
	is_int(fts_count(f), 201, "batch: it is there after reopening");
	is_int(fts_close(f), 0, "batch: close");
	is_str(integrity("batch.db"), "done", "batch: FTS5 integrity-check");
}

static void
test_ranking(void)
{
	int code = 0;
	struct fts *f = fts_open("rank.db", true, &code);
	jv r;

	if (f == NULL)
		exit(1);
	fts_begin(f);
	fts_add(f, "content-one", "Weekly notes",
		"a long text about many things, among them a gpu somewhere in the middle of it all "
		"and nothing else of interest to anyone");
	fts_add(f, "title-both", "GPU cluster", "hardware for the data centre");
	fts_add(f, "content-both", "Hardware notes",
		"the gpu cluster in the basement, a gpu cluster for training");
	fts_add(f, "nothing", "Cooking", "recipes for bread and cake");
	for (int i = 0; i < 20; i++) {
		char url[32];

		snprintf(url, sizeof(url), "filler-%d", i);
		fts_add(f, url, "Filler", "words that fill the index so that idf means something");
	}
	fts_commit(f);

	r = search(f, "gpu cluster", 10);
	is_str(urls(r), "title-both,content-both,content-one",
		"ranking: both words in the title first, one word in a content last");
	ok(scores_ok(r), "ranking: scores in (0, 1], descending");
	jv_free(r);

	r = search(f, "GPU cluster", 1);
	is_str(urls(r), "title-both", "ranking: limit 1 keeps the best");
	jv_free(r);
	r = search(f, "gpu", 0);
	is_int(jv_array_length(r), 0, "ranking: limit 0 gives []");
	r = search(f, "the", -1);
	ok(jv_array_length(jv_copy(r)) == 23 && scores_ok(r), "ranking: limit -1 gives all (23)");
	jv_free(r);

	r = search(f, "filler", 100);
	ok(jv_array_length(jv_copy(r)) == 20 && scores_ok(r),
		"ranking: 20 equal matches, scores valid");
	jv_free(r);
	fts_close(f);
}

static void
test_syntax(void)
{
	static const char *const queries[] = { "\"", "\"\"", "\"gpu", "gpu\"", "gpu*", "*",
		"title:gpu", "content:", ":", "NEAR(gpu cluster)", "NEAR", "NEAR/2", "-gpu",
		"gpu -cluster", "(gpu", "gpu)", "()", "AND", "OR", "NOT", "gpu AND", "OR gpu",
		"NOT gpu", "^gpu", "+gpu", "{title content}: gpu", "'", "\\", "\\\"",
		"'; DROP TABLE docs; --", "gpu\" OR \"x", "a\"\"b", "\xe2\x80\x9cgpu\xe2\x80\x9d",
		"\xe2\x80\x94", "gpu \xe2\x80\x94 cluster", "\xff\xfe gpu", "%_", "x*y", "rank:1",
		"bm25(fts)", "\t\n\r", "0", "00000000000000000000000000000000000000000000" };
	int code = 0, errors = 0, wrong = 0;
	struct fts *f = fts_open("rank.db", false, &code);
	struct buf many = BUF_INIT;
	jv r;

	if (f == NULL)
		exit(1);
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		r = search(f, queries[i], 10);
		if (!jv_is_valid(r))
			errors++;
		else if (!scores_ok(r))
			wrong++;
		jv_free(r);
	}
	is_int(errors, 0, "syntax: %zu queries with FTS5 syntax, no error",
		sizeof(queries) / sizeof(queries[0]));
	is_int(wrong, 0, "syntax: their scores valid");
	is_str(found(f, "\"gpu"), "title-both,content-both,content-one", "syntax: '\"gpu' = gpu");
	is_str(found(f, "gpu*"), "title-both,content-both,content-one", "syntax: 'gpu*' = gpu");
	is_str(found(f, "title:cooking"), "nothing", "syntax: 'title:cooking' = title OR cooking");
	is_str(found(f, "NOT cooking"), "nothing", "syntax: NOT is a word, not an operator");
	is_str(found(f, "-bread"), "nothing", "syntax: '-' is not an operator");
	is_str(found(f,
		       "\xe2\x80\x9c"
		       "bread\xe2\x80\x9d"),
		"nothing", "syntax: curly quotes around a word");
	for (int i = 0; i < 3000; i++) {
		buf_puts(&many, "zz");
		buf_add_uint(&many, (unsigned)i);
		buf_puts(&many, " (\"*:^ ");
	}
	buf_puts(&many, "bread");
	is_str(found(f, buf_cstr(&many)), "nothing", "syntax: 3001 words");
	buf_free(&many);

	r = search(f, "", 10);
	is_str(jv_kind_name(jv_get_kind(r)), "array", "empty query: an array");
	is_int(jv_array_length(r), 0, "empty query: []");
	r = search(f, " \t,.;:!?\"'()*-+^{}[]<>/\\|&%$#@~`=_", 10);
	is_int(jv_array_length(r), 0, "query of punctuation only: []");
	fts_close(f);
}

static void
test_unicode(void)
{
	int code = 0;
	struct fts *f = fts_open("uni.db", true, &code);
	jv r;

	if (f == NULL)
		exit(1);
	fts_begin(f);
	fts_add(f, "fr", "Caf\xc3\xa9 cr\xc3\xa8me",
		"na\xc3\xafve r\xc3\xa9sum\xc3\xa9 \xc3\xa0 Paris");
	fts_add(f, "plain", "Cafe", "resume naive");
	fts_add(f, "ja", "\xe6\x9d\xb1\xe4\xba\xac \xe5\xa4\xa7\xe5\xad\xa6",
		"\xe7\xa0\x94\xe7\xa9\xb6\xe3\x80\x81\xe6\x95\x99\xe8\x82\xb2");
	fts_add(f, "ru", "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
		"\xd0\x93\xd0\x9e\xd0\xa0\xd0\x9e\xd0\x94");
	fts_add(f, "de",
		"Stra\xc3\x9f"
		"e",
		"\xc3\x9c"
		"bung macht den Meister");
	fts_commit(f);

	is_str(found_set(f, "cafe"), "fr,plain", "unicode: 'cafe' finds 'Caf\xc3\xa9' and 'Cafe'");
	is_str(found_set(f, "CAF\xc3\x89"), "fr,plain",
		"unicode: 'CAF\xc3\x89' finds both as well");
	is_str(found_set(f, "r\xc3\xa9sum\xc3\xa9"), "fr,plain",
		"unicode: diacritics in the query");
	is_str(found_set(f, "naive"), "fr,plain", "unicode: 'na\xc3\xafve' = 'naive'");
	is_str(found(f, "\xe6\x9d\xb1\xe4\xba\xac"), "ja", "unicode: a CJK word");
	is_str(found(f, "\xe5\xa4\xa7\xe5\xad\xa6"), "ja", "unicode: another CJK word");
	is_str(found(f, "\xe6\x95\x99\xe8\x82\xb2"), "ja",
		"unicode: CJK after an ideographic comma");
	is_str(found(f, "\xe7\xa0\x94\xe7\xa9\xb6\xe3\x80\x81\xe6\x95\x99\xe8\x82\xb2"), "ja",
		"unicode: CJK words joined by punctuation, as a phrase");
	is_str(found(f, "\xe6\x9d\xb1"), "", "unicode: part of a CJK word is no word (unicode61)");
	is_str(found(f, "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0"), "ru",
		"unicode: Cyrillic case folding (title)");
	is_str(found(f, "\xd0\xb3\xd0\xbe\xd1\x80\xd0\xbe\xd0\xb4"), "ru",
		"unicode: Cyrillic case folding (content)");
	is_str(found(f, "ubung"), "de",
		"unicode: '\xc3\x9c"
		"bung' = 'ubung'");
	r = search(f, "caf\xc3\xa9", 10);
	{
		jv s = jv_dump_string(jv_copy(r), 0);

		ok(strstr(jv_string_value(s), "\"title\":\"Caf\xc3\xa9 cr\xc3\xa8me\"") != NULL,
			"unicode: the text comes back as stored");
		jv_free(s);
	}
	jv_free(r);
	fts_close(f);
}

static void
open_missing(void *arg)
{
	int code = 0;
	struct fts *f = fts_open(arg, false, &code);

	printf("%s %d", f == NULL ? "NULL" : "index", code);
	fts_close(f);
}

static void
test_open_errors(void)
{
	struct child_result cr;
	struct stat st;
	struct db *db;
	int code = 0;

	run_in_child(open_missing, (char *)"missing.db", &cr);
	is_str(cr.out.data, "NULL 66", "missing index: NULL, EXIT_NOINPUT");
	is_str(cr.err.data,
		"jl-search: cannot open the index 'missing.db': No such file or directory\n",
		"missing index: the message");
	ok(stat("missing.db", &st) != 0 && errno == ENOENT, "missing index: no file made");
	child_result_free(&cr);

	run_in_child(open_missing, (char *)"nodir/x.db", &cr);
	is_str(cr.out.data, "NULL 66", "missing directory: EXIT_NOINPUT");
	child_result_free(&cr);

	db = db_open("other.db", &code);
	if (db == NULL)
		exit(1);
	db_close(db);
	run_in_child(open_missing, (char *)"other.db", &cr);
	is_str(cr.out.data, "NULL 65", "a jlkit database without an index: EXIT_DATAERR");
	ok(strstr(cr.err.data, "'other.db' is not a jl-search index") != NULL,
		"... with a message: %s", cr.err.data);
	child_result_free(&cr);

	{
		int fd = open("text.db", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || write(fd, "not sqlite, just some text\n", 27) != 27 || close(fd) != 0)
			fail("text.db");
	}
	run_in_child(open_missing, (char *)"text.db", &cr);
	is_str(cr.out.data, "NULL 65", "a text file: EXIT_DATAERR");
	child_result_free(&cr);

	run_in_child(open_missing, (char *)"idx.db", &cr);
	is_str(cr.out.data, "index 0", "an index opens for searching");
	is_str(cr.err.data, "", "... silently");
	child_result_free(&cr);

	ok(fts_open("nodir/x.db", true, &code) == NULL && code == EXIT_CANTCREAT,
		"cannot create an index: EXIT_CANTCREAT");
}

/*
 * Generated text. A vocabulary of VOCAB pseudo-words ("kalo", "mizeru"...:
 * word i spells i in base 20 with a syllable per digit), drawn with a
 * log-uniform law over the ranks, close to Zipf's: the first words are in
 * almost every document, like "the", the last ones in a few.
 */
#define VOCAB 20000

static const char *const syllables[20] = { "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze",
	"pa", "qu", "be", "do", "fi", "gu", "ha", "jo", "xe", "wi", "yu" };

/* Word number rank (0 is the most frequent). */
static void
add_word(struct buf *b, size_t rank)
{
	size_t digits = rank < 400 ? 2 : rank < 8000 ? 3 : 4;
	size_t div = 1;

	for (size_t i = 1; i < digits; i++)
		div *= 20;
	for (; div > 0; div /= 20)
		buf_puts(b, syllables[rank / div % 20]);
}

/* A rank in [lo, VOCAB), log-uniform. */
static size_t
zipf_rank(uint64_t *rng, size_t lo)
{
	double u = (double)(rng_next(rng) >> 11) / 9007199254740992.0; /* [0, 1) */
	double x = exp(log((double)lo + 1) + u * (log((double)VOCAB + 1) - log((double)lo + 1)));
	size_t r = (size_t)x - 1;

	return r < lo ? lo : r >= VOCAB ? VOCAB - 1 : r;
}

/* n words drawn from the ranks [lo, VOCAB), separated by spaces. */
static void
add_words(struct buf *b, uint64_t *rng, int n, size_t lo)
{
	for (int i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ' ');
		add_word(b, zipf_rank(rng, lo));
	}
}

/*
 * nq queries of 1 to 3 words from the ranks [lo, VOCAB), limit 10; counts
 * the bad answers and those that found nothing. Returns the time taken.
 */
static double
run_queries(struct fts *f, uint64_t *rng, int nq, size_t lo, int *bad, int *empty)
{
	struct buf q = BUF_INIT;
	double t0 = now_s();

	for (int i = 0; i < nq; i++) {
		jv r;

		buf_reset(&q);
		add_words(&q, rng, 1 + (int)rng_below(rng, 3), lo);
		r = search(f, buf_cstr(&q), 10);
		if (!jv_is_valid(r) || jv_array_length(jv_copy(r)) > 10 || !scores_ok(r))
			(*bad)++;
		else if (jv_array_length(jv_copy(r)) == 0)
			(*empty)++;
		jv_free(r);
	}
	buf_free(&q);
	return now_s() - t0;
}

static void
test_large(void)
{
	const char *env = getenv("JLKIT_TEST_FTS_DOCS");
	bool expensive = getenv("JLKIT_TEST_EXPENSIVE") != NULL;
	bool valgrind = getenv("TEST_VALGRIND") != NULL && *getenv("TEST_VALGRIND") != '\0';
	long ndocs = 10000;
	int nqueries = 1000, ncommon = 100, code = 0, bad = 0, empty = 0, cbad = 0, cempty = 0;
	struct buf title = BUF_INIT, content = BUF_INIT;
	uint64_t rng = 0x9E3779B97F4A7C15ULL;
	double t0, t_build, t_query, t_common;
	const char *why = "the default; JLKIT_TEST_EXPENSIVE=1 for 100,000";
	char url[64];
	struct fts *f;
	jv r;

	if (env != NULL && *env != '\0') {
		ndocs = strtol(env, NULL, 10);
		why = "JLKIT_TEST_FTS_DOCS";
	} else if (expensive) {
		ndocs = 100000;
		why = "JLKIT_TEST_EXPENSIVE is set";
	} else if (valgrind) {
		/* About 50 times slower under valgrind: a tenth of everything. */
		ndocs = 1000;
		nqueries = 100;
		ncommon = 10;
		why = "TEST_VALGRIND is set";
	}
	if (ndocs < 10)
		ndocs = 10;
	printf("# large index: %ld documents (%s)\n", ndocs, why);

	f = fts_open("large.db", true, &code);
	if (f == NULL)
		exit(1);
	t0 = now_s();
	for (long i = 0; i < ndocs; i++) {
		if (i % 10000 == 0 && fts_begin(f) != 0)
			bad++;
		buf_reset(&title);
		buf_reset(&content);
		add_words(&title, &rng, 3 + (int)rng_below(&rng, 5), 0);
		add_words(&content, &rng, 30 + (int)rng_below(&rng, 60), 0);
		if (i == ndocs / 2) {
			buf_puts(&title, " uniquetitleword");
			buf_puts(&content, " uniquecontentword");
		}
		snprintf(url, sizeof(url), "https://large.example/doc/%ld", i);
		if (fts_add(f, url, buf_cstr(&title), buf_cstr(&content)) != 1)
			bad++;
		if (((i + 1) % 10000 == 0 || i + 1 == ndocs) && fts_commit(f) != 0)
			bad++;
	}
	t_build = now_s() - t0;
	is_int(bad, 0, "large: %ld documents added, one transaction per 10,000", ndocs);
	is_int(fts_count(f), ndocs, "large: fts_count");

	/* Content words (not the 100 most frequent), then the most frequent ones. */
	t_query = run_queries(f, &rng, nqueries, 100, &bad, &empty);
	is_int(bad, 0, "large: %d queries, at most 10 results each, scores valid", nqueries);
	ok(empty < nqueries / 2, "large: most queries find something (%d found nothing)", empty);
	t_common = run_queries(f, &rng, ncommon, 0, &cbad, &cempty);
	is_int(cbad, 0, "large: %d queries with common words too", ncommon);
	printf("# %ld documents in %.2f s (%.0f docs/s); %d queries in %.2f s (%.0f queries/s)\n",
		ndocs, t_build, (double)ndocs / t_build, nqueries, t_query,
		(double)nqueries / t_query);
	printf("# %d queries that may have the most frequent words (matching up to every "
	       "document) in %.2f s (%.0f queries/s)\n",
		ncommon, t_common, (double)ncommon / t_common);

	snprintf(url, sizeof(url), "https://large.example/doc/%ld", ndocs / 2);
	r = search(f, "uniquetitleword", 10);
	is_str(urls(r), url, "large: a word in one title finds its document");
	jv_free(r);
	r = search(f, "uniquecontentword", 10);
	is_str(urls(r), url, "large: a word in one content finds its document");
	jv_free(r);
	r = search(f, "kaka uniquecontentword", 5);
	is_str(urls(r), url,
		"large: a word in most documents is left out beside a rarer one (BM25 gives it "
		"no weight)");
	jv_free(r);
	r = search(f, "kaka", 5);
	ok(jv_array_length(jv_copy(r)) == 5 && scores_ok(r),
		"large: a common word alone still finds documents, limit 5");
	jv_free(r);

	/* Re-indexing with a new text updates in place. */
	is_int(fts_add(f, url, "replaced", "replaced text"), 0, "large: update one");
	is_int(fts_count(f), ndocs, "large: still the same count");
	is_str(found(f, "uniquetitleword"), "", "large: its old title gone");
	is_int(fts_close(f), 0, "large: close");

	buf_free(&title);
	buf_free(&content);
}

int
main(void)
{
	struct buf dir = BUF_INIT;
	const char *tmp = getenv("TMPDIR");

	progname = "jl-search";
	buf_puts(&dir, tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	buf_puts(&dir, "/jlkit-fts-XXXXXX");
	if (mkdtemp((char *)buf_cstr(&dir)) == NULL || chdir(dir.data) != 0)
		fail("mkdtemp");

	test_build();
	test_update();
	test_batches();
	test_ranking();
	test_syntax();
	test_unicode();
	test_open_errors();
	test_large();

	/* Clean up the directory: only files we made, nothing below. */
	static const char *const files[] = { "idx.db", "upd.db", "batch.db", "rank.db", "uni.db",
		"other.db", "text.db", "large.db" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		static const char *const suffix[] = { "", "-wal", "-shm" };

		for (size_t j = 0; j < 3; j++) {
			char name[64];

			snprintf(name, sizeof(name), "%s%s", files[i], suffix[j]);
			(void)unlink(name);
		}
	}
	if (chdir("/") != 0 || rmdir(dir.data) != 0)
		perror("rmdir");
	buf_free(&dir);
	buf_free(&urls_buf);
	buf_free(&integrity_buf);
	return done_testing();
}
