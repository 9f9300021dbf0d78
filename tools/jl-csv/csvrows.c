/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a CSV row becomes: the columns and their keys, the JSON object of a
 * row (with --infer's literals, _extra, _line and _file), the header row,
 * and the error record that takes a failed row's place.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvconv_int.h"
#include "exitcodes.h"
#include "json.h"
#include "record.h"
#include "strset.h"
#include "utf8.h"

/* Column names that jl-csv's own metadata uses: a data column must not take them. */
static const char *const reserved_names[] = { "_error", "_raw", "_line", "_file", "_extra" };

static const char *const error_codes[CSV_ERR_COUNT] = {
	[CSV_ERR_NONE] = "none",
	[CSV_ERR_BAD_UTF8] = ERR_BAD_UTF8,
	[CSV_ERR_UNTERMINATED_QUOTE] = ERR_UNTERMINATED_QUOTE,
	[CSV_ERR_FIELD_TOO_LARGE] = ERR_FIELD_TOO_LARGE,
	[CSV_ERR_ROW_TOO_LARGE] = ERR_ROW_TOO_LARGE,
	[CSV_ERR_RAGGED_ROW] = ERR_RAGGED_ROW,
	[CSV_ERR_BAD_QUOTE] = ERR_BAD_QUOTE,
};

const char *
csvconv_error_code(enum csvconv_error e)
{
	return e < CSV_ERR_COUNT ? error_codes[e] : "unknown";
}

void
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
void
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

void
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
void
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

void
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
	record_error_member(&c->out,
		&(struct record_error){ csvconv_error_code(c->row_error), c->message, c->name,
			c->row_line, 0, -1 });
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

void
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
