/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ledger in the run database, written by jl-cost and read by every
 * --budget: a row per billed record (table cost_ledger) and the running
 * total per run (cost_totals, "" for every run), written in the same
 * transaction (once per commit) so the total is the sum of the rows.
 *
 * Money is integer pico-dollars (1e-12 USD), exact: an amount (a row, a
 * total in the database) is an int64_t of at most $9,223,372.036854775807,
 * and what would pass that is refused, never wrapped; a sum kept in memory
 * is a ledger_sum (128 bits), which no count of records can overflow.
 */
#ifndef JL_LEDGER_H
#define JL_LEDGER_H

#include <stdint.h>

#include "buf.h"
#include "db.h"

/* Pico-dollars in a micro-dollar (opt_usd's unit). */
#define LEDGER_PICO_PER_MICRO 1000000

/* A sum of amounts in pico-dollars, and a sum of counts (tokens, records). */
__extension__ typedef __int128 ledger_sum;
__extension__ typedef unsigned __int128 ledger_count;

struct ledger;

struct ledger_row {
	const char *run, *record_hash, *model, *backend;
	long long prompt_tokens, completion_tokens, cached_tokens;
	int64_t llm_pico, search_pico; /* not negative; the row's amount is their sum */
	long long cache_write_tokens;  /* prompt tokens written to the provider's cache */
	int batch;                     /* 1: a provider's batch answer, at batch prices */
};

/* The ledger of db (borrowed), its tables made. NULL after a message. */
struct ledger *ledger_open(struct db *db);
void ledger_close(struct ledger *l);

/*
 * Append a row (inside the open transaction). Its run's total is updated
 * at ledger_commit, in the same transaction. Returns 0, or -1 after a
 * message (also when the row's amount, or the batch's, would pass the
 * largest amount; ledger_commit likewise fails when a total would).
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
 * The total of run ("" for every run) in pico-dollars, the rows not yet
 * committed included, or -1 after a message (also when it would pass the
 * largest amount).
 */
int64_t ledger_total(struct ledger *l, const char *run);

/* micro-dollars (opt_usd's --budget) as pico-dollars, exactly. */
ledger_sum ledger_pico(int64_t micro);

/*
 * Append pico-dollars to b as jlkit prints money: USD as an exact decimal,
 * with 6 to 12 decimals (those past the 6th only when not 0): 0.000435,
 * 0.00000015, 0.030000, -1.500000.
 */
void ledger_usd(struct buf *b, ledger_sum pico);

/* Append n to b in decimal. */
void ledger_uint(struct buf *b, ledger_count n);

#endif
