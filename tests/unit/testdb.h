/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers for the unit tests that look inside a run database. */
#ifndef JL_TESTDB_H
#define JL_TESTDB_H

#include "db.h"

/* The first column of the first row of sql as a number (-1 on error). */
static inline long long
query_int(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#endif
