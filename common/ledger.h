/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ledger in the run database, written by jl-cost and read by every
 * --budget: a row per billed record (table cost_ledger) and the running
 * total per run (cost_totals, "" for every run), written in the same
 * transaction (once per commit) so the total is the sum of the rows.
 */
#ifndef JL_LEDGER_H
#define JL_LEDGER_H

#include <stdint.h>

#include "buf.h"
#include "db.h"

struct ledger;

struct ledger_row {
	const char *run, *record_hash, *model, *backend;
	long long prompt_tokens, completion_tokens, cached_tokens;
	int64_t llm_micro, search_micro;
};

/* The ledger of db (borrowed), its tables made. NULL after a message. */
struct ledger *ledger_open(struct db *db);
void ledger_close(struct ledger *l);

/*
 * Append a row (inside the open transaction). Its run's total is updated
 * at ledger_commit, in the same transaction. Returns 0, or -1 after a
 * message.
 */
int ledger_add(struct ledger *l, const struct ledger_row *row);

/*
 * Write the totals of the rows added since the last commit and commit the
 * transaction. Returns 0, or -1 after a message (the transaction rolled back).
 */
int ledger_commit(struct ledger *l);

/* Roll the transaction back, with the rows added since the last commit. */
void ledger_rollback(struct ledger *l);

/*
 * The total of run ("" for every run) in micro-dollars, the rows not yet
 * committed included, or -1 after a message.
 */
int64_t ledger_total(struct ledger *l, const char *run);

/* Append micro-dollars to b as jlkit prints money: USD with 6 decimals. */
void ledger_usd(struct buf *b, int64_t micro);

#endif
