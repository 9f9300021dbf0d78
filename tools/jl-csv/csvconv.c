/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CSV to JSON Lines on top of libcsv: cutting the input and parsing it.
 * (csvrows.c turns the rows into records.)
 *
 * libcsv parses; this file adds what it lacks (doc/protocols.md §6): BOM
 * stripping, physical line numbers, kept spaces, a field size cap, detection
 * of an unterminated quote and recovery from stray quotes.
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

#include "csvconv_int.h"
#include "exitcodes.h"
#include "util.h"

/* libcsv is fed at most this much at once, so a growing field is checked often. */
#define PIECE_MAX (256 * 1024)

/* libcsv trims spaces and tabs around unquoted fields unless told nothing is a space. */
static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
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
