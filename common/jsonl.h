/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading JSON Lines records (doc/design.md §2): one JSON object per
 * line; blank lines skipped; anything else becomes an error record, never a
 * crash and never silence.
 *
 * Ownership follows jv.h: the jv handed out belongs to the caller.
 */
#ifndef JL_JSONL_H
#define JL_JSONL_H

#include <jv.h>
#include <stdbool.h>

#include "io.h"
#include "jscan.h"

/* Longest line parsed; longer lines become bad_input records. */
#define JSONL_MAX_LINE (256UL * 1024 * 1024)

enum jsonl_status {
	JSONL_EOF = 0,    /* no more records */
	JSONL_RECORD = 1, /* *rec is the record, a JSON object */
	JSONL_BAD = 2,    /* *rec is an error record to emit in the record's place */
	JSONL_AGAIN = 3,  /* non-blocking: no complete line yet (jsonl_set_nonblocking) */
	JSONL_IOERR = -1, /* read error, errno set */
};

struct jsonl_reader {
	struct linereader lines;
	bool unterminated; /* the record just returned ended without '\n' */
	const char *line;  /* the text of the record just returned (jsonl_line) */
	size_t len;
};

/* Read records from in (borrowed); max_line bounds memory per line. */
void jsonl_init(struct jsonl_reader *r, struct input *in, size_t max_line);

/*
 * The next record. On JSONL_BAD, *rec is
 *   {"_error":{"tool","code":"bad_input","message","line"},"_raw":"<line>"}
 * where message names the input, the line and the cause (not JSON, not an
 * object, invalid UTF-8, longer than max_line).
 */
enum jsonl_status jsonl_next(struct jsonl_reader *r, jv *rec);

/*
 * jsonl_next for a tool that reads the text itself (jscan.h): a line that is
 * strictly one JSON object is checked, not parsed: *rec is jv_invalid(),
 * the record is jsonl_line's text and the values of picks[0..npicks) are
 * its members (jscan_object_pick). Any other line is parsed as jsonl_next
 * parses it (jq's leniency, its error messages): JSONL_BAD, or JSONL_RECORD
 * with *rec the record, and the picks are not set.
 */
enum jsonl_status jsonl_next_lazy(struct jsonl_reader *r, jv *rec, const struct jscan_pick *picks,
	size_t npicks);

/* Non-blocking mode: jsonl_next returns JSONL_AGAIN instead of waiting for input. */
void jsonl_set_nonblocking(struct jsonl_reader *r, bool on);

/*
 * The text of the record jsonl_next just returned (JSONL_RECORD), without
 * its newline: valid UTF-8, valid until the next call. For a tool that hashes
 * or copies the record as it came.
 */
const char *jsonl_line(const struct jsonl_reader *r, size_t *len);

/* The physical line number of the record just returned. */
unsigned long jsonl_lineno(const struct jsonl_reader *r);

void jsonl_free(struct jsonl_reader *r);

#endif
