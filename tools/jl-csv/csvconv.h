/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CSV to JSON Lines conversion, fed in pieces of any size: the part of jl-csv
 * that main() and the fuzzer share. It knows nothing of files, encodings or
 * stdout; records go to a callback as complete JSON text.
 */
#ifndef JL_CSVCONV_H
#define JL_CSVCONV_H

#include <stdbool.h>
#include <stddef.h>

struct csvconv_config {
	unsigned char delimiter; /* ',' */
	unsigned char quote;     /* '"' */
	bool header_row;         /* the first row of each input holds the names */
	char **names;            /* --header names (header_row is then false), or NULL */
	size_t *name_lens;
	size_t nnames;
	bool infer;           /* numbers, booleans and null instead of strings */
	bool line_field;      /* add "_line" */
	bool file_field;      /* add "_file" */
	bool strict;          /* ragged rows are errors; malformed input stops the run */
	bool quiet;           /* no warnings about header names */
	const char *encoding; /* --encoding, for messages; NULL when UTF-8 */
	size_t max_field;     /* longest field in bytes */
	size_t max_row;       /* longest row of JSON output in bytes */
	bool libcsv_only;     /* every byte through libcsv, no fast path (for tests) */
};

/* Error codes of error records, in the order of csvconv_stats.errors[]. */
enum csvconv_error {
	CSV_ERR_NONE,
	CSV_ERR_BAD_UTF8,
	CSV_ERR_UNTERMINATED_QUOTE,
	CSV_ERR_FIELD_TOO_LARGE,
	CSV_ERR_ROW_TOO_LARGE,
	CSV_ERR_RAGGED_ROW,
	CSV_ERR_BAD_QUOTE, /* --strict only: a quote where RFC 4180 allows none */
	CSV_ERR_COUNT
};

/* The stable code word of an error ("bad_utf8", ...). */
const char *csvconv_error_code(enum csvconv_error e);

/*
 * One output record: a JSON object of len bytes, followed by a '\n' that is
 * not counted in len. Valid until the callback returns.
 */
struct csvconv_record {
	const char *json;
	size_t len;
	enum csvconv_error error; /* CSV_ERR_NONE for a data row */
	const char *message;      /* for errors: "FILE:LINE: cause" */
};

typedef void (*csvconv_emit_fn)(void *arg, const struct csvconv_record *rec);

struct csvconv_stats {
	unsigned long long rows;   /* data rows emitted */
	unsigned long long errors; /* error records emitted */
	unsigned long long by_error[CSV_ERR_COUNT];
};

struct csvconv;

/* A converter; cfg is copied (its names stay borrowed). emit gets every record. */
struct csvconv *csvconv_new(const struct csvconv_config *cfg, csvconv_emit_fn emit, void *arg);

/*
 * Start an input. name is used in messages ("<stdin>", "data.csv"),
 * file_value is the "_file" value; both are borrowed until csvconv_end.
 */
void csvconv_begin(struct csvconv *c, const char *name, const char *file_value);

/*
 * Convert the next n bytes of the input. Returns 0, or EXIT_DATAERR when
 * --strict met malformed input (the error record was emitted; stop then).
 */
int csvconv_feed(struct csvconv *c, const void *data, size_t n);

/* The input ended: emit the last row, report an unterminated quote. Same return. */
int csvconv_end(struct csvconv *c);

/* Input bytes consumed so far in the current input. */
unsigned long long csvconv_offset(const struct csvconv *c);

const struct csvconv_stats *csvconv_stats(const struct csvconv *c);

void csvconv_free(struct csvconv *c);

/*
 * Split a comma-separated list of names (CSV quoting allowed) into
 * malloc'ed arrays; returns the count. Used for --header.
 */
size_t csvconv_split_names(const char *list, char ***names, size_t **lens);

#endif
