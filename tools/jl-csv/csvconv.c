/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CSV to JSON Lines on top of libcsv.
 *
 * libcsv parses; this file adds what it lacks (protocols.md 6.1): BOM
 * stripping, physical line numbers, kept spaces, a field size cap, detection
 * of an unterminated quote, recovery from stray quotes, and the record
 * contract: every row leaves as a JSON object or as an error record, and the
 * output is valid UTF-8 JSON whatever the input bytes were.
 *
 * Input is parsed in pieces in which a row can end only at the last byte (a
 * line, or more lines when they are inside a quoted field), so a row starts
 * at a piece's start and its first line is known. Within a piece, plain
 * fields are cut straight from the input and the rest goes through libcsv
 * (parse_fields); the fuzzer checks the result equals libcsv's alone.
 */
#include <csv.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csvconv.h"
#include "exitcodes.h"
#include "json.h"
#include "strset.h"
#include "utf8.h"
#include "util.h"

/* libcsv is fed at most this much at once, so a growing field is checked often. */
#define PIECE_MAX (256 * 1024)

/* Keys this short are copied as one fixed-size block; buffers keep this much slack. */
#define KEY_SLACK 16

/* libcsv's parser states (libcsv.c); struct csv_parser is public, these are not. */
#define LIBCSV_ROW_NOT_BEGUN 0
#define LIBCSV_FIELD_NOT_BEGUN 1
#define LIBCSV_FIELD_BEGUN 2
#define LIBCSV_FIELD_MIGHT_HAVE_ENDED 3

/* Column names that jl-csv's own metadata uses: a data column must not take them. */
static const char *const reserved_names[] = { "_error", "_raw", "_line", "_file", "_extra" };

static const char *const error_codes[CSV_ERR_COUNT] = {
	[CSV_ERR_NONE] = "none",
	[CSV_ERR_BAD_UTF8] = "bad_utf8",
	[CSV_ERR_UNTERMINATED_QUOTE] = "unterminated_quote",
	[CSV_ERR_FIELD_TOO_LARGE] = "field_too_large",
	[CSV_ERR_ROW_TOO_LARGE] = "row_too_large",
	[CSV_ERR_RAGGED_ROW] = "ragged_row",
	[CSV_ERR_BAD_QUOTE] = "bad_quote",
};

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

const char *
csvconv_error_code(enum csvconv_error e)
{
	return e < CSV_ERR_COUNT ? error_codes[e] : "unknown";
}

/* libcsv trims spaces and tabs around unquoted fields unless told nothing is a space. */
static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void
reset_columns(struct csvconv *c)
{
	for (size_t i = 0; i < c->ncols; i++)
		free(c->col_names[i]);
	c->ncols = 0;
	buf_reset(&c->keys);
	c->have_columns = false;
}

static void
add_column(struct csvconv *c, const char *name, size_t len)
{
	if (c->ncols == c->key_cap) {
		c->key_cap = c->key_cap ? 2 * c->key_cap : 16;
		c->key_off = xreallocarray(c->key_off, c->key_cap, sizeof(*c->key_off));
		c->key_len = xreallocarray(c->key_len, c->key_cap, sizeof(*c->key_len));
		c->col_names = xreallocarray(c->col_names, c->key_cap, sizeof(*c->col_names));
	}
	c->key_off[c->ncols] = c->keys.len;
	jw_string(&c->keys, name, len);
	buf_putc(&c->keys, ':');
	c->key_len[c->ncols] = c->keys.len - c->key_off[c->ncols];
	buf_reserve(&c->keys, KEY_SLACK); /* on_field copies KEY_SLACK bytes of short keys */
	c->col_names[c->ncols] = xmemdup(name, len);
	c->ncols++;
}

/*
 * Set the columns from header names: empty ones become column_N, repeats
 * and jl-csv's metadata names get _2, _3, ... until unique.
 */
static void
set_columns(struct csvconv *c, char *const *names, const size_t *lens, size_t n)
{
	struct strset taken = STRSET_INIT;
	struct buf name = BUF_INIT;

	reset_columns(c);
	for (size_t i = 0; i < sizeof(reserved_names) / sizeof(*reserved_names); i++)
		strset_add(&taken, reserved_names[i], strlen(reserved_names[i]));
	for (size_t i = 0; i < n; i++) {
		buf_reset(&name);
		if (lens[i] == 0) {
			buf_puts(&name, "column_");
			buf_add_uint(&name, i + 1);
		} else {
			buf_add(&name, names[i], lens[i]);
		}
		if (!strset_add(&taken, name.data, name.len)) {
			size_t base = name.len;

			for (unsigned long k = 2;; k++) {
				name.len = base;
				buf_putc(&name, '_');
				buf_add_uint(&name, k);
				if (strset_add(&taken, name.data, name.len))
					break;
			}
			if (!c->cfg.quiet && c->cfg.names != NULL)
				warn("--header: column %zu: name '%.*s' is taken, using '%s'",
					i + 1, (int)(base > 64 ? 64 : base), name.data,
					buf_cstr(&name));
			else if (!c->cfg.quiet)
				warn("%s:%lu: column %zu: name '%.*s' is taken, using '%s'",
					c->name, c->row_line, i + 1, (int)(base > 64 ? 64 : base),
					name.data, buf_cstr(&name));
		}
		add_column(c, name.data, name.len);
	}
	c->have_columns = true;
	strset_free(&taken);
	buf_free(&name);
}

/* --no-header: key i is "c<i+1>"; made on demand while the first row is read. */
static void
add_generated_column(struct csvconv *c)
{
	char name[32];
	int n = snprintf(name, sizeof(name), "c%zu", c->ncols + 1);

	add_column(c, name, (size_t)n);
}

struct csvconv *
csvconv_new(const struct csvconv_config *cfg, csvconv_emit_fn emit, void *arg)
{
	struct csvconv *c = xcalloc(1, sizeof(*c));

	c->cfg = *cfg;
	c->emit = emit;
	c->emit_arg = arg;
	/* Strict, so libcsv stops at a stray quote and recover_quote() decides. */
	if (csv_init(&c->parser, CSV_STRICT) != 0)
		die(EXIT_SOFTWARE, "cannot initialise libcsv");
	csv_set_delim(&c->parser, cfg->delimiter);
	csv_set_quote(&c->parser, cfg->quote);
	csv_set_space_func(&c->parser, no_space);
	csv_set_blk_size(&c->parser, 64 * 1024);
	c->special[cfg->delimiter] = c->special[cfg->quote] = 1;
	c->special['\r'] = c->special['\n'] = 1;
	return c;
}

void
csvconv_begin(struct csvconv *c, const char *name, const char *file_value)
{
	c->name = name;
	c->file_value = file_value;
	c->line = 1;
	c->prev_cr = false;
	c->bom_matched = 0;
	c->bom_done = false;
	c->offset = 0;
	c->row_open = false;
	c->field = 0;
	c->row_error = CSV_ERR_NONE;
	c->field_overflow = false;
	c->width_from_row = false;
	if (c->cfg.names != NULL) {
		if (!c->have_columns)
			set_columns(c, c->cfg.names, c->cfg.name_lens, c->cfg.nnames);
	} else {
		reset_columns(c);
		c->width_from_row = !c->cfg.header_row;
	}
}

/* Mark the current row failed; the first failure of a row is the one reported. */
static void fail_row(struct csvconv *c, enum csvconv_error e, const char *fmt, ...) JL_PRINTF(3, 4);

static void
fail_row(struct csvconv *c, enum csvconv_error e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->row_error != CSV_ERR_NONE)
		return;
	c->row_error = e;
	n = snprintf(c->message, sizeof(c->message), "%s:%lu: ", c->name, c->row_line);
	if (n < 0 || (size_t)n >= sizeof(c->message))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(c->message + n, sizeof(c->message) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* A column's name for messages: "'city' (field 3)", or "field 5" past the header. */
static const char *
describe_field(struct csvconv *c, size_t index, char *out, size_t size)
{
	if (index < c->ncols && c->cfg.header_row)
		snprintf(out, size, "field %zu ('%.64s')", index + 1, c->col_names[index]);
	else
		snprintf(out, size, "field %zu", index + 1);
	return out;
}

/*
 * Whether --infer may write this cell as a JSON literal as it stands: true,
 * false, an integer that a double holds exactly (|n| <= 2^53, no leading
 * zeros, not -0), or a plain decimal of at most 15 digits. Anything
 * doubtful (exponents, "+1", ".5", "1.", "007", "-0") stays a string.
 */
static bool
is_plain_literal(const char *s, size_t n)
{
	size_t i = 0, digits = 0, int_digits;
	bool nonzero = false;

	if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0))
		return true;
	if (i < n && s[i] == '-')
		i++;
	if (i == n || s[i] < '0' || s[i] > '9')
		return false;
	if (s[i] == '0' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
		return false; /* leading zero */
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
		nonzero |= s[i] != '0';
	int_digits = digits;
	if (i < n && s[i] == '.') {
		i++;
		if (i == n)
			return false;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
			nonzero |= s[i] != '0';
		if (i != n || digits == int_digits)
			return false;
		if (digits > 15)
			return false;
	} else if (i != n) {
		return false;
	} else if (digits > 16 ||
		(digits == 16 && memcmp(s + (s[0] == '-'), "9007199254740992", 16) > 0)) {
		return false;
	}
	return nonzero || s[0] != '-'; /* -0 and -0.0 stay strings */
}

/* The cell at index had bytes that are not valid UTF-8: the row fails. */
static void
fail_bad_utf8(struct csvconv *c, const char *s, size_t n, size_t index)
{
	char what[96];

	describe_field(c, index, what, sizeof(what));
	if (c->cfg.encoding != NULL)
		fail_row(c, CSV_ERR_BAD_UTF8, "%s: byte sequence not valid in encoding '%s'", what,
			c->cfg.encoding);
	else
		fail_row(c, CSV_ERR_BAD_UTF8,
			"%s: invalid UTF-8 at byte %zu; if the file is not UTF-8, "
			"name its encoding with --encoding (e.g. latin1, cp1252, utf-16)",
			what, utf8_valid_prefix(s, n) + 1);
}

/* The most bytes write_value writes for a cell of n bytes ("null" for an empty one). */
#define VALUE_MAX(n) (JW_ESCAPED_MAX(n) + 4)

/*
 * Write the value of the cell at index at o, which has room for
 * VALUE_MAX(n) bytes: a string, or with --infer a literal or null.
 * Returns the end, and fails the row when the cell is not valid UTF-8.
 */
static inline char *
write_value(struct csvconv *c, char *o, const char *s, size_t n, size_t index)
{
	size_t bad = 0;

	if (c->cfg.infer && index < c->ncols) {
		if (n == 0) {
			memcpy(o, "null", 4);
			return o + 4;
		}
		if (is_plain_literal(s, n)) {
			memcpy(o, s, n);
			return o + n;
		}
	}
	o = jw_escape(o, s, n, &bad);
	if (bad != 0)
		fail_bad_utf8(c, s, n, index);
	return o;
}

/*
 * A field of the header row (index from 0): keep it until the row ends.
 * Problems are warnings, not error records; --strict stops at them.
 */
static void
header_field(struct csvconv *c, const char *s, size_t n, size_t index, bool too_large)
{
	size_t valid = utf8_valid_prefix(s, n), before;

	if (c->header_full)
		return;
	if (too_large) {
		if (!c->cfg.quiet || c->cfg.strict)
			warn("%s:%lu: header field %zu is larger than --max-field: "
			     "naming it column_%zu",
				c->name, c->row_line, index + 1, index + 1);
		n = 0;
		if (c->cfg.strict)
			c->stop = EXIT_DATAERR;
	} else if (valid != n) {
		if (!c->cfg.quiet || c->cfg.strict)
			warn("%s:%lu: header field %zu: invalid UTF-8 at byte %zu, "
			     "replaced by U+FFFD%s",
				c->name, c->row_line, index + 1, valid + 1,
				c->cfg.encoding ? ""
						: "; name the file's encoding with --encoding");
		if (c->cfg.strict)
			c->stop = EXIT_DATAERR;
	}
	if (c->header.len + n > c->cfg.max_row) {
		c->header_full = true;
		if (!c->cfg.quiet || c->cfg.strict)
			warn("%s:%lu: header row is larger than --max-row (%zu bytes): "
			     "columns from %zu on have no name, their cells go to _extra",
				c->name, c->row_line, c->cfg.max_row, index + 1);
		if (c->cfg.strict)
			c->stop = EXIT_DATAERR;
		return;
	}
	before = c->header.len;
	utf8_sanitize(&c->header, s, n);
	n = c->header.len - before;
	buf_add(&c->header_lens, &n, sizeof(n));
}

/* Fields larger than this are escaped in slices by jw_string instead of at once. */
#define FIELD_AT_ONCE (64 * 1024)

/*
 * The uncommon cases of on_field: the header row, --no-header's first row,
 * oversized fields, cells past the header (_extra), rows already failed.
 */
static void
on_field_slow(struct csvconv *c, const char *data, size_t n, size_t index, bool too_large)
{
	char what[96];
	size_t bad;

	if (c->stop)
		return;
	/* --no-header: the first row's width sets the columns, even when it fails. */
	if (c->width_from_row && !c->have_columns && c->keys.len <= c->cfg.max_row)
		add_generated_column(c);
	if (c->row_error != CSV_ERR_NONE)
		return;
	if (!c->have_columns && c->cfg.header_row) {
		header_field(c, data, n, index, too_large);
		return;
	}
	if (too_large) {
		describe_field(c, index, what, sizeof(what));
		fail_row(c, CSV_ERR_FIELD_TOO_LARGE, "%s is larger than --max-field (%zu bytes)",
			what, c->cfg.max_field);
		return;
	}
	if (index == 0)
		buf_putc(&c->out, '{');
	if (index < c->ncols) {
		if (index > 0)
			buf_putc(&c->out, ',');
		buf_add(&c->out, c->keys.data + c->key_off[index], c->key_len[index]);
	} else if (index == c->ncols) {
		buf_puts(&c->out, index > 0 ? ",\"_extra\":[" : "\"_extra\":[");
	} else {
		buf_putc(&c->out, ',');
	}
	if (n <= FIELD_AT_ONCE) {
		buf_grow(&c->out, VALUE_MAX(n));
		c->out.len = (size_t)(write_value(c, c->out.data + c->out.len, data, n, index) -
			c->out.data);
	} else if ((bad = jw_string(&c->out, data, n)) != 0) {
		fail_bad_utf8(c, data, n, index);
	}
	if (c->out.len > c->cfg.max_row)
		fail_row(c, CSV_ERR_ROW_TOO_LARGE, "row is larger than --max-row (%zu bytes)",
			c->cfg.max_row);
}

/* libcsv's field callback: the common case, a cell under a header column, inline. */
static void
on_field(void *data, size_t n, void *arg)
{
	struct csvconv *c = arg;
	size_t index = c->field++, key_len;
	bool too_large = c->field_overflow || n > c->cfg.max_field;
	char *o;

	c->field_overflow = false;
	if (too_large || c->stop || c->row_error != CSV_ERR_NONE || !c->have_columns ||
		index >= c->ncols || n > FIELD_AT_ONCE) {
		on_field_slow(c, data, n, index, too_large);
		return;
	}
	key_len = c->key_len[index];
	buf_reserve(&c->out, 1 + key_len + KEY_SLACK + VALUE_MAX(n));
	o = c->out.data + c->out.len;
	*o++ = index == 0 ? '{' : ',';
	if (key_len <= KEY_SLACK)
		memcpy(o, c->keys.data + c->key_off[index], KEY_SLACK); /* one fixed-size copy */
	else
		memcpy(o, c->keys.data + c->key_off[index], key_len);
	o = write_value(c, o + key_len, data, n, index);
	c->out.len = (size_t)(o - c->out.data);
	if (c->out.len > c->cfg.max_row)
		fail_row(c, CSV_ERR_ROW_TOO_LARGE, "row is larger than --max-row (%zu bytes)",
			c->cfg.max_row);
}

static void
add_metadata(struct csvconv *c, struct buf *b)
{
	if (c->cfg.file_field) {
		buf_puts(b, ",\"_file\":");
		jw_cstring(b, c->file_value);
	}
	if (c->cfg.line_field) {
		buf_puts(b, ",\"_line\":");
		buf_add_uint(b, c->row_line);
	}
}

/* Keep the row's input bytes for "_raw", at most JL_RAW_MAX plus a partial character. */
static void
keep_raw(struct csvconv *c, const void *s, size_t n)
{
	size_t room = JL_RAW_MAX + 4 > c->raw.len ? JL_RAW_MAX + 4 - c->raw.len : 0;

	buf_add(&c->raw, s, n < room ? n : room);
}

/* The row failed: emit an error record in its place. */
static void
emit_error_row(struct csvconv *c)
{
	struct csvconv_record rec;
	size_t raw_len;

	keep_raw(c, c->row_data, (size_t)(c->piece_end - c->row_data));
	c->row_data = c->piece_end;
	/*
	 * Show at most JL_RAW_MAX bytes, without the terminator that ended the
	 * row: libcsv ends a row at the '\r' of a CRLF, and the '\n' may have
	 * come along in the same piece, or not.
	 */
	raw_len = c->raw.len > JL_RAW_MAX ? utf8_cut(c->raw.data, JL_RAW_MAX) : c->raw.len;
	if (raw_len > 0 && c->raw.data[raw_len - 1] == '\n')
		raw_len--;
	if (raw_len > 0 && c->raw.data[raw_len - 1] == '\r')
		raw_len--;
	buf_reset(&c->out);
	buf_putc(&c->out, '{');
	jw_error_member(&c->out, csvconv_error_code(c->row_error), c->message, c->name,
		c->row_line);
	buf_putc(&c->out, ',');
	jw_raw_member(&c->out, c->raw.data, raw_len);
	add_metadata(c, &c->out);
	buf_putc(&c->out, '}');
	buf_putc(&c->out, '\n');
	rec.json = c->out.data;
	rec.len = c->out.len - 1;
	rec.error = c->row_error;
	rec.message = c->message;
	c->stats.errors++;
	c->stats.by_error[c->row_error]++;
	c->emit(c->emit_arg, &rec);
	if (c->cfg.strict && c->row_error != CSV_ERR_RAGGED_ROW)
		c->stop = EXIT_DATAERR;
}

static void
end_header_row(struct csvconv *c)
{
	size_t n = c->header_lens.len / sizeof(size_t);
	char **names = xcalloc(n, sizeof(*names));
	size_t *lens = xcalloc(n, sizeof(*lens));
	const char *text = buf_cstr(&c->header); /* never NULL, even when all names are empty */
	size_t off = 0;

	memcpy(lens, c->header_lens.data, n * sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		names[i] = (char *)text + off;
		off += lens[i];
	}
	set_columns(c, names, lens, n);
	free(names);
	free(lens);
	buf_reset(&c->header);
	buf_reset(&c->header_lens);
	c->header_full = false;
}

/* libcsv's row callback. */
static void
on_row(int terminator, void *arg)
{
	struct csvconv *c = arg;
	struct csvconv_record rec;

	(void)terminator;
	c->row_open = false;
	if (c->stop)
		return;
	if (!c->have_columns && c->cfg.header_row && c->row_error == CSV_ERR_NONE) {
		end_header_row(c);
		goto next_row;
	}
	if (c->width_from_row && !c->have_columns)
		c->have_columns = true;
	if (c->row_error == CSV_ERR_NONE && c->field != c->ncols && c->cfg.strict)
		fail_row(c, CSV_ERR_RAGGED_ROW, "row has %zu field%s, the header has %zu", c->field,
			c->field == 1 ? "" : "s", c->ncols);
	if (c->row_error != CSV_ERR_NONE) {
		emit_error_row(c);
		goto next_row;
	}
	for (size_t i = c->field; i < c->ncols; i++) {
		buf_putc(&c->out, ',');
		buf_add(&c->out, c->keys.data + c->key_off[i], c->key_len[i]);
		buf_add(&c->out, "null", 4);
	}
	if (c->field > c->ncols)
		buf_putc(&c->out, ']');
	add_metadata(c, &c->out);
	buf_putc(&c->out, '}');
	buf_putc(&c->out, '\n');
	rec.json = c->out.data;
	rec.len = c->out.len - 1;
	rec.error = CSV_ERR_NONE;
	rec.message = NULL;
	c->stats.rows++;
	c->emit(c->emit_arg, &rec);
next_row:
	buf_reset(&c->out);
	c->field = 0;
	c->row_error = CSV_ERR_NONE;
}

/*
 * The length of the field libcsv is in the middle of: its buffer, without
 * the quote (and spaces) it keeps after what may be the closing quote.
 */
static size_t
field_length(const struct csv_parser *p)
{
	if (p->pstate == LIBCSV_FIELD_MIGHT_HAVE_ENDED)
		return p->entry_pos - p->spaces - 1;
	return p->entry_pos;
}

/*
 * libcsv holds a field that grew past max_field: drop its bytes but the last
 * few that libcsv's state may still refer to (the closing-quote candidate
 * and the spaces after it), and remember that the field is too large.
 */
static void
drop_oversized_field(struct csvconv *c)
{
	struct csv_parser *p = &c->parser;
	size_t keep = p->spaces + 1 < p->entry_pos ? p->spaces + 1 : p->entry_pos;

	memmove(p->entry_buf, p->entry_buf + p->entry_pos - keep, keep);
	p->entry_pos = keep;
	c->field_overflow = true;
}

/*
 * libcsv in strict mode stopped at byte ch, a quote it will not take: one
 * inside an unquoted field (a"b), or text after a closing quote ("a"b or
 * "a" ,). Carry on as Python's csv module does, so no row is swallowed: the
 * quote inside an unquoted field is kept as it is, and after a closing quote
 * the field goes on unquoted ("a"b gives ab, "a" , gives "a "). With
 * --strict the row becomes a bad_quote error record.
 */
static void
recover_quote(struct csvconv *c, unsigned char ch)
{
	struct csv_parser *p = &c->parser;

	if (c->cfg.strict && c->row_error == CSV_ERR_NONE && !c->stop)
		fail_row(c, CSV_ERR_BAD_QUOTE, "field %zu: %s", c->field + 1,
			p->pstate == LIBCSV_FIELD_MIGHT_HAVE_ENDED
				? "text after the closing quote"
				: "quote inside an unquoted field");
	if (p->pstate == LIBCSV_FIELD_MIGHT_HAVE_ENDED) {
		/* Drop the closing quote, which libcsv kept in case it was doubled. */
		p->entry_pos--;
		p->quoted = 0;
		p->pstate = LIBCSV_FIELD_BEGUN;
	}
	/* libcsv grows its buffer before it looks at a byte, so there is room for it. */
	p->entry_buf[p->entry_pos++] = ch;
	p->status = 0;
}

/* Parse [s, end) with libcsv, recovering from stray quotes. Returns end. */
static const unsigned char *
parse_with_libcsv(struct csvconv *c, const unsigned char *s, const unsigned char *end)
{
	size_t n = (size_t)(end - s);

	for (size_t done = 0; done < n; done++) {
		done += csv_parse(&c->parser, s + done, n - done, on_field, on_row, c);
		if (done == n)
			break;
		if (csv_error(&c->parser) != CSV_EPARSE)
			die(EXIT_SOFTWARE, "%s:%lu: libcsv: %s", c->name, c->line,
				csv_strerror(csv_error(&c->parser)));
		recover_quote(c, s[done]);
	}
	return end;
}

/*
 * The first delimiter, quote, '\r' or '\n' in [s, end), or end: where a
 * field that starts unquoted at s stops being plain.
 */
static const unsigned char *
find_special(const struct csvconv *c, const unsigned char *s, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i delim = _mm_set1_epi8((char)c->cfg.delimiter);
	const __m128i quote = _mm_set1_epi8((char)c->cfg.quote);
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');

	while (s + 16 <= end) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, delim),
						   _mm_cmpeq_epi8(v, quote)),
			_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);

		if (mask != 0)
			return s + __builtin_ctz(mask);
		s += 16;
	}
#endif
	while (s < end && !c->special[*s])
		s++;
	return s;
}

/*
 * Inside a quoted field at s: just past the byte that follows its closing
 * quote (a quote not doubled), or end when the field goes on past end.
 */
static const unsigned char *
quoted_field_end(const struct csvconv *c, const unsigned char *s, const unsigned char *end)
{
	const unsigned char *q;

	while ((q = memchr(s, c->cfg.quote, (size_t)(end - s))) != NULL) {
		if (q + 1 == end)
			return end;
		if (q[1] != c->cfg.quote)
			return q + 2;
		s = q + 2;
	}
	return end;
}

/* The field just passed on ends at *at, a delimiter or a line terminator. */
static const unsigned char *
end_field(struct csvconv *c, const unsigned char *at)
{
	if (*at == c->cfg.delimiter) {
		c->parser.pstate = LIBCSV_FIELD_NOT_BEGUN;
	} else {
		on_row(*at, c);
		c->parser.pstate = LIBCSV_ROW_NOT_BEGUN;
	}
	return at + 1;
}

/*
 * Parse [s, end), the fast way: between fields, a plain field (unquoted
 * without quotes, or quoted without doubled quotes, ending within [s, end))
 * goes to on_field straight from the input, exactly as libcsv would pass it
 * on; everything else (doubled or stray quotes, fields that go on past end)
 * goes through libcsv from the field's start. libcsv's state is kept as it
 * would be, so either way of parsing can follow the other at any field.
 * The fuzzer checks that the output equals parse_with_libcsv's.
 */
static void
parse_fields(struct csvconv *c, const unsigned char *s, const unsigned char *end)
{
	struct csv_parser *p = &c->parser;
	const unsigned char quote = c->cfg.quote;

	while (s < end && !c->stop) {
		const unsigned char *stop;

		if (p->pstate == LIBCSV_FIELD_BEGUN && p->quoted) {
			/* A quoted field that began earlier: libcsv, up to its end. */
			s = parse_with_libcsv(c, s, quoted_field_end(c, s, end));
			continue;
		}
		if (p->pstate != LIBCSV_ROW_NOT_BEGUN && p->pstate != LIBCSV_FIELD_NOT_BEGUN) {
			parse_with_libcsv(c, s,
				end); /* an unquoted field from earlier, or a quote */
			return;
		}
		if (*s == quote) {
			stop = memchr(s + 1, quote, (size_t)(end - s - 1));
			if (stop != NULL && stop + 1 < end && c->special[stop[1]] &&
				stop[1] != quote) {
				on_field((void *)(s + 1), (size_t)(stop - s - 1), c);
				s = end_field(c, stop + 1);
			} else {
				s = parse_with_libcsv(c, s, quoted_field_end(c, s + 1, end));
			}
			continue;
		}
		stop = find_special(c, s, end);
		if (stop == end || *stop == quote) {
			parse_with_libcsv(c, s, end);
			return;
		}
		if (stop == s && *stop != c->cfg.delimiter && p->pstate == LIBCSV_ROW_NOT_BEGUN) {
			s++; /* a line end between rows: libcsv skips it too */
			continue;
		}
		on_field((void *)s, (size_t)(stop - s), c);
		s = end_field(c, stop);
	}
}

/*
 * Feed libcsv one piece: bytes in which no row can end but at the last byte
 * (so a row starts only at a piece's start); lines is the number of line
 * terminators the piece completes.
 */
static void
parse_piece(struct csvconv *c, const unsigned char *s, size_t n, unsigned long lines)
{
	unsigned char last = s[n - 1];
	bool terminated = last == '\n' || last == '\r';
	bool blank = terminated && (n == 1 || (n == 2 && s[0] == '\r'));

	if (!c->row_open && !blank) {
		c->row_open = true;
		c->row_line = c->line;
		c->row_data = s;
		buf_reset(&c->raw);
	}
	c->piece_end = s + n;
	if (c->cfg.libcsv_only)
		parse_with_libcsv(c, s, s + n);
	else
		parse_fields(c, s, s + n);
	if (field_length(&c->parser) > c->cfg.max_field)
		drop_oversized_field(c);
	c->line += lines;
	c->prev_cr = last == '\r';
	c->offset += n;
}

/* Whether s[0..n) has a '\r' that is not followed by '\n' (one at the very end counts). */
static bool
has_lone_cr(const unsigned char *s, size_t n)
{
	const unsigned char *end = s + n, *cr;

	while ((cr = memchr(s, '\r', (size_t)(end - s))) != NULL) {
		if (cr + 1 == end || cr[1] != '\n')
			return true;
		s = cr + 2;
	}
	return false;
}

/* The number of '\n' bytes in s[0..n). */
static unsigned long
count_newlines(const unsigned char *s, size_t n)
{
	const unsigned char *end = s + n;
	unsigned long count = 0;

	while ((s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		count++;
		s++;
	}
	return count;
}

/*
 * The next piece of s[0..n) when the data has no lone '\r' (every line ends
 * in '\n'): up to the first '\n', or, inside a quoted field, where no row
 * can end before the next quote, up to the first '\n' after that quote.
 * Sets *lines to the lines the piece completes.
 */
static size_t
next_piece_lf(struct csvconv *c, const unsigned char *s, size_t n, unsigned long *lines)
{
	const unsigned char *from = s, *nl;
	size_t len;

	if (c->parser.pstate == LIBCSV_FIELD_BEGUN && c->parser.quoted) {
		const unsigned char *quote = memchr(s, c->cfg.quote, n);

		from = quote != NULL ? quote : s + n;
	}
	nl = memchr(from, '\n', (size_t)(s + n - from));
	len = nl != NULL ? (size_t)(nl - s) + 1 : n;
	*lines = count_newlines(s, (size_t)(from - s)) + (nl != NULL);
	/* A '\n' at the start completes the CRLF whose '\r' ended the last feed. */
	if (c->prev_cr && s[0] == '\n')
		--*lines;
	return len;
}

/*
 * The next piece of s[0..n) when the data has a lone '\r': one line, up to
 * a '\n', a '\r' not followed by '\n', or a '\r' that ends the data (its
 * '\n' may open the next feed). Sets *lines to 0 or 1.
 */
static size_t
next_piece_cr(struct csvconv *c, const unsigned char *s, size_t n, unsigned long *lines)
{
	const unsigned char *nl = memchr(s, '\n', n), *cr;
	size_t len = nl != NULL ? (size_t)(nl - s) + 1 : n;
	unsigned char last;

	cr = memchr(s, '\r', len);
	if (cr != NULL && (cr + 1 == s + n || cr[1] != '\n'))
		len = (size_t)(cr - s) + 1;
	last = s[len - 1];
	*lines = last == '\r' || (last == '\n' && !(len == 1 && c->prev_cr));
	return len;
}

/* Split data into pieces in which a row can end only at the last byte, and parse them. */
static void
parse_data(struct csvconv *c, const unsigned char *s, size_t n)
{
	bool lone_cr = has_lone_cr(s, n);

	c->row_data = c->piece_end = s; /* an open row goes on here */
	while (n > 0 && !c->stop) {
		size_t limit = n < PIECE_MAX ? n : PIECE_MAX, len;
		unsigned long lines;

		if (lone_cr)
			len = next_piece_cr(c, s, limit, &lines);
		else
			len = next_piece_lf(c, s, limit, &lines);
		parse_piece(c, s, len, lines);
		s += len;
		n -= len;
	}
	if (c->row_open) { /* the row goes on in the next feed: keep its start now */
		keep_raw(c, c->row_data, (size_t)(s - c->row_data));
		c->row_data = s;
	}
}

int
csvconv_feed(struct csvconv *c, const void *data, size_t n)
{
	static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };
	const unsigned char *s = data;

	/* A UTF-8 byte order mark at the start is dropped, even when split across feeds. */
	while (!c->bom_done && n > 0) {
		if (*s != bom[c->bom_matched]) {
			c->bom_done = true;
			parse_data(c, bom, c->bom_matched);
			break;
		}
		s++;
		n--;
		if (++c->bom_matched == sizeof(bom)) {
			c->bom_done = true;
			c->offset +=
				sizeof(bom); /* bytes given back on a mismatch are counted then */
		}
	}
	parse_data(c, s, n);
	return c->stop;
}

int
csvconv_end(struct csvconv *c)
{
	if (!c->bom_done) {
		c->bom_done = true;
		if (c->bom_matched < 3)
			parse_data(c, (const unsigned char *)"\xEF\xBB\xBF", c->bom_matched);
	}
	if (c->stop)
		return c->stop;
	if (c->parser.pstate == LIBCSV_FIELD_BEGUN && c->parser.quoted)
		fail_row(c, CSV_ERR_UNTERMINATED_QUOTE,
			"quoted field never closed: the quote runs to the end of the input");
	if (csv_fini(&c->parser, on_field, on_row, c) != 0)
		die(EXIT_SOFTWARE, "%s: libcsv: %s", c->name, csv_strerror(csv_error(&c->parser)));
	c->row_open = false;
	buf_reset(&c->header);
	buf_reset(&c->header_lens);
	c->header_full = false;
	return c->stop;
}

unsigned long long
csvconv_offset(const struct csvconv *c)
{
	return c->offset;
}

const struct csvconv_stats *
csvconv_stats(const struct csvconv *c)
{
	return &c->stats;
}

void
csvconv_free(struct csvconv *c)
{
	if (c == NULL)
		return;
	csv_free(&c->parser);
	reset_columns(c);
	free(c->key_off);
	free(c->key_len);
	free(c->col_names);
	buf_free(&c->keys);
	buf_free(&c->header);
	buf_free(&c->header_lens);
	buf_free(&c->out);
	buf_free(&c->raw);
	free(c);
}

struct name_list {
	char **names;
	size_t *lens;
	size_t n;
};

static void
on_name(void *s, size_t n, void *arg)
{
	struct name_list *l = arg;

	l->names = xreallocarray(l->names, l->n + 1, sizeof(*l->names));
	l->lens = xreallocarray(l->lens, l->n + 1, sizeof(*l->lens));
	l->names[l->n] = xmemdup(s, n);
	l->lens[l->n] = n;
	l->n++;
}

size_t
csvconv_split_names(const char *list, char ***names, size_t **lens)
{
	struct csv_parser p;
	struct name_list l = { NULL, NULL, 0 };
	size_t len = strlen(list);

	if (csv_init(&p, 0) != 0)
		die(EXIT_SOFTWARE, "cannot initialise libcsv");
	csv_set_space_func(&p, no_space);
	if (csv_parse(&p, list, len, on_name, NULL, &l) != len ||
		csv_fini(&p, on_name, NULL, &l) != 0)
		die(EXIT_SOFTWARE, "libcsv: %s", csv_strerror(csv_error(&p)));
	csv_free(&p);
	*names = l.names;
	*lens = l.lens;
	return l.n;
}
