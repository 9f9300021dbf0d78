/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the CSV converter: the state that csvconv.c (cutting the input and
 * parsing it) and csvrows.c (turning rows into records) share. Not for use
 * outside tools/jl-csv.
 */
#ifndef JL_CSVCONV_INT_H
#define JL_CSVCONV_INT_H

#include <csv.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "csvconv.h"
#include "util.h"

/* Keys this short are copied as one fixed-size block; buffers keep this much slack. */
#define KEY_SLACK 16

/* libcsv's parser states (libcsv.c); struct csv_parser is public, these are not. */
#define LIBCSV_ROW_NOT_BEGUN 0
#define LIBCSV_FIELD_NOT_BEGUN 1
#define LIBCSV_FIELD_BEGUN 2
#define LIBCSV_FIELD_MIGHT_HAVE_ENDED 3

struct csvconv {
	struct csvconv_config cfg;
	csvconv_emit_fn emit;
	void *emit_arg;
	struct csv_parser parser;
	unsigned char special[256]; /* delimiter, quote, '\r', '\n': where plain fields stop */
	struct csvconv_stats stats;
	int stop; /* EXIT_DATAERR once --strict met malformed input */

	/* The current input. */
	const char *name;
	const char *file_value;
	unsigned long line;        /* physical line of the next byte */
	bool prev_cr;              /* the last byte fed was '\r' */
	size_t bom_matched;        /* bytes of a UTF-8 BOM seen at the start */
	bool bom_done;             /* past the point where a BOM could be */
	unsigned long long offset; /* bytes of this input consumed */

	/* Columns: names as JSON keys ("\"name\":"), keys[i] at key_off[i]. */
	bool have_columns;   /* names known for this input */
	bool width_from_row; /* --no-header: the first row sets the width */
	struct buf keys;
	size_t *key_off;
	size_t *key_len;
	char **col_names; /* as given, for messages */
	size_t ncols;
	size_t key_cap;
	struct buf header; /* the header row's fields while it is read */
	bool header_full;  /* the header row passed max_row: later fields get no name */
	struct buf header_lens;

	/* The current row. */
	bool row_open; /* a row has started and not ended */
	unsigned long row_line;
	size_t field;        /* fields seen in this row */
	bool field_overflow; /* the field being parsed passed max_field */
	enum csvconv_error row_error;
	char message[512];
	struct buf out; /* the row's JSON */
	/*
	 * The row's input, for "_raw" when it fails: the part in the data
	 * being parsed is [row_data, piece_end); what came in earlier feeds was
	 * copied to raw (at most JL_RAW_MAX + 4 bytes), so rows are copied only
	 * when they span feeds.
	 */
	const unsigned char *row_data;
	const unsigned char *piece_end;
	struct buf raw;
};

/* Columns (csvrows.c): forget them; set them from n header names. */
void reset_columns(struct csvconv *c);
void set_columns(struct csvconv *c, char *const *names, const size_t *lens, size_t n);

/* The callbacks libcsv, and the fast path, call for each field and at each row end. */
void on_field(void *data, size_t n, void *arg);
void on_row(int terminator, void *arg);

/* Mark the current row failed; the first failure of a row is the one reported. */
void fail_row(struct csvconv *c, enum csvconv_error e, const char *fmt, ...) JL_PRINTF(3, 4);

/* Keep the row's input bytes for "_raw", at most JL_RAW_MAX plus a partial character. */
void keep_raw(struct csvconv *c, const void *s, size_t n);

#endif
