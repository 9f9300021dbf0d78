/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CSV to JSON Lines on top of libcsv.
 *
 * libcsv parses; this file adds what it lacks (protocols.md 6.1): BOM
 * stripping, physical line numbers, kept spaces, a field size cap, detection
 * of an unterminated quote, and the record contract: every row leaves as a
 * JSON object or as an error record, and the output is valid UTF-8 JSON
 * whatever the input bytes were.
 *
 * Input is fed to libcsv in pieces that end at a line terminator ('\n' or
 * '\r'), so the line number of each piece is known and a row's first line
 * is the line of the piece in which it starts.
 */
#include <csv.h>
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

/* libcsv's parser states (libcsv.c); struct csv_parser is public, these are not. */
#define LIBCSV_FIELD_BEGUN 2

/* Column names that jl-csv's own metadata uses: a data column must not take them. */
static const char *const reserved_names[] = {"_error", "_raw", "_line", "_file", "_extra"};

static const char *const error_codes[CSV_ERR_COUNT] = {
	[CSV_ERR_NONE] = "none",
	[CSV_ERR_BAD_UTF8] = "bad_utf8",
	[CSV_ERR_UNTERMINATED_QUOTE] = "unterminated_quote",
	[CSV_ERR_FIELD_TOO_LARGE] = "field_too_large",
	[CSV_ERR_ROW_TOO_LARGE] = "row_too_large",
	[CSV_ERR_RAGGED_ROW] = "ragged_row",
};

struct csvconv {
	struct csvconv_config cfg;
	csvconv_emit_fn emit;
	void *emit_arg;
	struct csv_parser parser;
	struct csvconv_stats stats;
	int stop; /* EXIT_DATAERR once --strict met malformed input */

	/* The current input. */
	const char *name;
	const char *file_value;
	unsigned long line;	   /* physical line of the next byte */
	bool prev_cr;		   /* the last byte fed was '\r' */
	size_t bom_matched;	   /* bytes of a UTF-8 BOM seen at the start */
	bool bom_done;		   /* past the point where a BOM could be */
	unsigned long long offset; /* bytes of this input consumed */

	/* Columns: names as JSON keys ("\"name\":"), keys[i] at key_off[i]. */
	bool have_columns; /* names known for this input */
	bool width_from_row; /* --no-header: the first row sets the width */
	struct buf keys;
	size_t *key_off;
	size_t *key_len;
	char **col_names; /* as given, for messages */
	size_t ncols;
	size_t key_cap;
	struct buf header; /* the header row's fields while it is read */
	struct buf header_lens;

	/* The current row. */
	bool row_open;	       /* a row has started and not ended */
	unsigned long row_line;
	size_t field;	       /* fields seen in this row */
	bool field_overflow;   /* the field being parsed passed max_field */
	enum csvconv_error row_error;
	char message[512];
	struct buf out;	       /* the row's JSON */
	struct buf raw;	       /* the row's input bytes, at most JL_RAW_MAX + 4 */
	size_t raw_total;      /* the row's input length */
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
			if (!c->cfg.quiet)
				warn("%s:%lu: column %zu: name '%.*s' is taken, using '%s'", c->name,
					c->row_line, i + 1, (int)(base > 64 ? 64 : base), name.data,
					buf_cstr(&name));
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
	if (csv_init(&c->parser, 0) != 0)
		die(EXIT_SOFTWARE, "cannot initialise libcsv");
	csv_set_delim(&c->parser, cfg->delimiter);
	csv_set_quote(&c->parser, cfg->quote);
	csv_set_space_func(&c->parser, no_space);
	csv_set_blk_size(&c->parser, 64 * 1024);
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
JL_PRINTF(3, 4) static void
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
	} else if (digits > 16 || (digits == 16 && memcmp(s + (s[0] == '-'), "9007199254740992", 16) > 0)) {
		return false;
	}
	return nonzero || s[0] != '-'; /* -0 and -0.0 stay strings */
}

/* Append one cell's value to the row. Returns false when the row failed. */
static bool
add_value(struct csvconv *c, const char *s, size_t n, size_t index)
{
	size_t bad;
	char what[96];

	if (c->cfg.infer && index < c->ncols) {
		if (n == 0) {
			buf_add(&c->out, "null", 4);
			return true;
		}
		if (is_plain_literal(s, n)) {
			buf_add(&c->out, s, n);
			return true;
		}
	}
	bad = jw_string(&c->out, s, n);
	if (bad == 0)
		return true;
	describe_field(c, index, what, sizeof(what));
	if (c->cfg.encoding != NULL)
		fail_row(c, CSV_ERR_BAD_UTF8, "%s: byte sequence not valid in encoding '%s'", what,
			c->cfg.encoding);
	else
		fail_row(c, CSV_ERR_BAD_UTF8,
			"%s: invalid UTF-8 at byte %zu; if the file is not UTF-8, "
			"name its encoding with --encoding (e.g. latin1, cp1252, utf-16)",
			what, utf8_valid_prefix(s, n) + 1);
	return false;
}

/* A field of the header row: keep it until the row ends. */
static void
header_field(struct csvconv *c, const char *s, size_t n, bool too_large)
{
	size_t valid = utf8_valid_prefix(s, n), before;

	if (too_large) {
		if (!c->cfg.quiet)
			warn("%s:%lu: header field %zu is larger than --max-field; naming it column_%zu",
				c->name, c->row_line, c->field + 1, c->field + 1);
		n = 0;
		if (c->cfg.strict)
			c->stop = EXIT_DATAERR;
	} else if (valid != n) {
		if (!c->cfg.quiet || c->cfg.strict)
			warn("%s:%lu: header field %zu: invalid UTF-8 at byte %zu, replaced by U+FFFD%s",
				c->name, c->row_line, c->field + 1, valid + 1,
				c->cfg.encoding ? "" : "; name the file's encoding with --encoding");
		if (c->cfg.strict)
			c->stop = EXIT_DATAERR;
	}
	if (c->header.len + n > c->cfg.max_row)
		die(EXIT_DATAERR, "%s:%lu: header row is larger than --max-row (%zu bytes)", c->name,
			c->row_line, c->cfg.max_row);
	before = c->header.len;
	utf8_sanitize(&c->header, s, n);
	n = c->header.len - before;
	buf_add(&c->header_lens, &n, sizeof(n));
}

/* libcsv's field callback. */
static void
on_field(void *data, size_t n, void *arg)
{
	struct csvconv *c = arg;
	size_t index = c->field++;
	bool too_large = c->field_overflow || n > c->cfg.max_field;
	char what[96];

	c->field_overflow = false;
	if (c->stop)
		return;
	/* --no-header: the first row's width sets the columns, even when it fails. */
	if (c->width_from_row && !c->have_columns && c->keys.len <= c->cfg.max_row)
		add_generated_column(c);
	if (c->row_error != CSV_ERR_NONE)
		return;
	if (!c->have_columns && c->cfg.header_row) {
		header_field(c, data, n, too_large);
		return;
	}
	if (index == 0)
		buf_putc(&c->out, '{');
	if (too_large) {
		describe_field(c, index, what, sizeof(what));
		fail_row(c, CSV_ERR_FIELD_TOO_LARGE, "%s is larger than --max-field (%zu bytes)",
			what, c->cfg.max_field);
		return;
	}
	if (index < c->ncols) {
		if (index > 0)
			buf_putc(&c->out, ',');
		buf_add(&c->out, c->keys.data + c->key_off[index], c->key_len[index]);
	} else {
		buf_puts(&c->out, index == c->ncols ? ",\"_extra\":[" : ",");
	}
	if (!add_value(c, data, n, index))
		return;
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

/* The row failed: emit an error record in its place. */
static void
emit_error_row(struct csvconv *c)
{
	struct csvconv_record rec;
	size_t raw_len = c->raw.len;

	/* Drop the terminator that ended the row from what is shown. */
	if (raw_len == c->raw_total && raw_len > 0 &&
		(c->raw.data[raw_len - 1] == '\n' || c->raw.data[raw_len - 1] == '\r'))
		raw_len--;
	buf_reset(&c->out);
	buf_putc(&c->out, '{');
	jw_error_member(&c->out, csvconv_error_code(c->row_error), c->message, c->name,
		c->row_line);
	buf_putc(&c->out, ',');
	jw_raw_member(&c->out, c->raw.data, raw_len);
	add_metadata(c, &c->out);
	buf_putc(&c->out, '}');
	rec.json = c->out.data;
	rec.len = c->out.len;
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
	size_t off = 0;

	memcpy(lens, c->header_lens.data, n * sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		names[i] = c->header.data + off;
		off += lens[i];
	}
	set_columns(c, names, lens, n);
	free(names);
	free(lens);
	buf_reset(&c->header);
	buf_reset(&c->header_lens);
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
	rec.json = c->out.data;
	rec.len = c->out.len;
	rec.error = CSV_ERR_NONE;
	rec.message = NULL;
	c->stats.rows++;
	c->emit(c->emit_arg, &rec);
next_row:
	buf_reset(&c->out);
	c->field = 0;
	c->row_error = CSV_ERR_NONE;
}

/* Keep the row's input bytes for "_raw", at most JL_RAW_MAX plus a partial character. */
static void
keep_raw(struct csvconv *c, const void *s, size_t n)
{
	size_t room = JL_RAW_MAX + 4 > c->raw.len ? JL_RAW_MAX + 4 - c->raw.len : 0;

	buf_add(&c->raw, s, n < room ? n : room);
	c->raw_total += n;
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

/* Feed libcsv one piece: bytes that end at a line terminator, or hold none. */
static void
parse_piece(struct csvconv *c, const unsigned char *s, size_t n)
{
	unsigned char last = s[n - 1];
	bool terminated = last == '\n' || last == '\r';

	if (!c->row_open && (n > 1 || !terminated)) {
		c->row_open = true;
		c->row_line = c->line;
		buf_reset(&c->raw);
		c->raw_total = 0;
	}
	if (c->row_open)
		keep_raw(c, s, n);
	if (csv_parse(&c->parser, s, n, on_field, on_row, c) != n)
		die(EXIT_SOFTWARE, "%s:%lu: libcsv: %s", c->name, c->line,
			csv_strerror(csv_error(&c->parser)));
	if (c->parser.entry_pos > c->cfg.max_field)
		drop_oversized_field(c);
	if (last == '\r' || (last == '\n' && !(n == 1 && c->prev_cr)))
		c->line++;
	c->prev_cr = last == '\r';
	c->offset += n;
}

/* Split data into pieces that end at '\n' or '\r' (or PIECE_MAX) and parse them. */
static void
parse_data(struct csvconv *c, const unsigned char *s, size_t n)
{
	while (n > 0 && !c->stop) {
		size_t limit = n < PIECE_MAX ? n : PIECE_MAX, len;
		const unsigned char *nl = memchr(s, '\n', limit), *cr;

		len = nl != NULL ? (size_t)(nl - s) + 1 : limit;
		cr = memchr(s, '\r', len);
		if (cr != NULL)
			len = (size_t)(cr - s) + 1;
		parse_piece(c, s, len);
		s += len;
		n -= len;
	}
}

int
csvconv_feed(struct csvconv *c, const void *data, size_t n)
{
	static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
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
		c->offset++;
		if (++c->bom_matched == sizeof(bom))
			c->bom_done = true;
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
	struct name_list l = {NULL, NULL, 0};
	size_t len = strlen(list);

	if (csv_init(&p, 0) != 0)
		die(EXIT_SOFTWARE, "cannot initialise libcsv");
	csv_set_space_func(&p, no_space);
	if (csv_parse(&p, list, len, on_name, NULL, &l) != len || csv_fini(&p, on_name, NULL, &l) != 0)
		die(EXIT_SOFTWARE, "libcsv: %s", csv_strerror(csv_error(&p)));
	csv_free(&p);
	*names = l.names;
	*lens = l.lens;
	return l.n;
}
