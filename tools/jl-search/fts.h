/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The local full-text backend: an SQLite FTS5 index of documents
 * {url, title, content}, searched with BM25, so a pipeline runs offline
 * and on private documents. The index is its own SQLite file (opened with
 * common/db, so it is a jlkit database: WAL, application_id, schema).
 */
#ifndef JL_SEARCH_FTS_H
#define JL_SEARCH_FTS_H

#include <jv.h>
#include <stdbool.h>

#include "buf.h"

struct fts;

/*
 * Open the index at path; create tells whether a missing one may be
 * created (indexing) or must exist (searching). On failure returns NULL
 * after a message, with *exit_code EXIT_NOINPUT (missing, when searching),
 * EXIT_CANTCREAT or EXIT_DATAERR.
 */
struct fts *fts_open(const char *path, bool create, int *exit_code);

/*
 * Add or update one document (the same url twice updates it). Part of the
 * open write batch (fts_begin/fts_commit), else its own transaction.
 * Returns 1 when the document is new, 0 when it replaced one, -1 on error.
 */
int fts_add(struct fts *f, const char *url, const char *title, const char *content);

/* Batches of writes: one transaction for many documents. Return 0 or -1 after a message. */
int fts_begin(struct fts *f);
int fts_commit(struct fts *f);

/* Documents in the index. */
long long fts_count(struct fts *f);

/*
 * Search for the words of query (free text: each word is matched as a
 * term, prefix-free, any of them; FTS5 syntax in the query is not
 * interpreted). Returns an array of at most limit results, best first, each
 * {title, url, content, score, raw_content: null, published_date: null}
 * with score in (0, 1] mapped monotonically from BM25; content is the
 * document's text (the caller cuts it). A query with no word gives []. On an
 * SQLite error returns an invalid jv after putting the message in err.
 */
jv fts_search(struct fts *f, const char *query, long limit, struct buf *err);

/* Close; returns 0 or -1 after a message. */
int fts_close(struct fts *f);

#endif
