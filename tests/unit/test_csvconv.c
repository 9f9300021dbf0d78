/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tools/jl-csv: the CSV converter (csvconv.c) and the --encoding decoder
 * (decode.c). The converter is driven with a collecting callback over a table
 * of CSV inputs whose exact JSON lines are checked, each also fed in chunks of
 * every size 1..17 (the output must not depend on where feeds end); then line
 * numbers, the field size cap on 1 MB fields, --strict, statistics, the input
 * offset, several inputs on one converter and --header lists. The decoder is
 * checked on latin1, cp1252, UTF-16 and UTF-32, in chunks of every size 1..9,
 * with invalid and incomplete sequences.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "csvconv.h"
#include "decode.h"
#include "exitcodes.h"
#include "json.h"
#include "record.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

#define PROG "test-csvconv"

/* ---- running the converter ---- */

struct result {
	struct buf out; /* every record, '\n' after each */
	int rc;         /* the first nonzero return of feed or end, else 0 */
	struct csvconv_stats stats;
	unsigned long long offset; /* csvconv_offset after the last feed */
	size_t inconsistent;       /* records whose error, message and text disagree */
};

static void
collect(void *arg, const struct csvconv_record *rec)
{
	struct result *r = arg;
	bool is_error = rec->len > 10 && memcmp(rec->json, "{\"_error\":", 10) == 0;

	buf_add(&r->out, rec->json, rec->len);
	buf_putc(&r->out, '\n');
	if (rec->json[rec->len] != '\n') /* csvconv.h: a '\n' follows, not counted */
		r->inconsistent++;
	if ((rec->error != CSV_ERR_NONE) != is_error ||
		(rec->error != CSV_ERR_NONE &&
			(rec->message == NULL ||
				!starts_with(rec->message, strlen(rec->message), "t.csv:"))))
		r->inconsistent++;
}

static void
result_free(struct result *r)
{
	buf_free(&r->out);
}

/*
 * Convert in[0..n) as one input named "t.csv", in feeds of chunk bytes (0:
 * one feed). Stops feeding at the first nonzero return, as jl-csv does.
 */
static void
convert(const struct csvconv_config *cfg, const char *in, size_t n, size_t chunk, struct result *r)
{
	struct csvconv *c;

	memset(r, 0, sizeof(*r));
	c = csvconv_new(cfg, collect, r);
	csvconv_begin(c, "t.csv", "t.csv");
	if (chunk == 0)
		chunk = n > 0 ? n : 1;
	for (size_t off = 0; off < n && r->rc == 0; off += chunk)
		r->rc = csvconv_feed(c, in + off, n - off < chunk ? n - off : chunk);
	r->offset = csvconv_offset(c);
	if (r->rc == 0)
		r->rc = csvconv_end(c);
	r->stats = *csvconv_stats(c);
	csvconv_free(c);
	buf_cstr(&r->out);
}

static bool
same_result(const struct result *a, const struct result *b)
{
	return a->out.len == b->out.len && memcmp(a->out.data, b->out.data, a->out.len) == 0 &&
		a->rc == b->rc && memcmp(&a->stats, &b->stats, sizeof(a->stats)) == 0;
}

/* ---- the table ---- */

enum {
	INFER = 1,
	NOHEADER = 2,
	LINE = 4,
	STRICT = 8,
	FILEF = 16,
};

struct csv_case {
	const char *name;
	const char *in;
	size_t n;
	unsigned flags;
	const char *names; /* a --header list, or NULL */
	char delimiter;    /* 0: ',' */
	size_t max_field;  /* 0: 1 MiB */
	size_t max_row;    /* 0: 4 x max_field */
	const char *want;  /* the output */
	int rc;
};

#define IN(s) s, sizeof(s) - 1

/* The start of an error record for t.csv, up to and including "_raw":". */
#define ERR(code, line, msg)                                                                       \
	"{\"_error\":{\"tool\":\"" PROG "\",\"code\":\"" code "\",\"message\":\"t.csv:" #line      \
	": " msg "\",\"file\":\"t.csv\",\"line\":" #line "},\"_raw\":\""

#define UTF8_HINT                                                                                  \
	"; if the file is not UTF-8, name its encoding with --encoding (e.g. latin1, cp1252, "     \
	"utf-16)"

#define U_FFFD "\xEF\xBF\xBD"

static const struct csv_case csv_cases[] = {
	{ "RFC 4180 basic", IN("a,b\n1,2\n3,4\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":\"2\"}\n{\"a\":\"3\",\"b\":\"4\"}\n", 0 },
	{ "no final newline", IN("a,b\n1,2"), 0, NULL, 0, 0, 0, "{\"a\":\"1\",\"b\":\"2\"}\n", 0 },
	{ "quoted delimiter and doubled quotes", IN("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n"), 0, NULL,
		0, 0, 0, "{\"a\":\"x,y\",\"b\":\"say \\\"hi\\\"\"}\n", 0 },
	{ "quoted empty fields, CRLF, no final newline", IN("a,b,c\r\n1,\"\",\"\""), 0, NULL, 0, 0,
		0, "{\"a\":\"1\",\"b\":\"\",\"c\":\"\"}\n", 0 },
	{ "CRLF line ends", IN("a,b\r\n1,2\r\n3,4\r\n"), LINE, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":\"2\",\"_line\":2}\n{\"a\":\"3\",\"b\":\"4\",\"_line\":3}\n",
		0 },
	{ "bare CR line ends", IN("a,b\r1,2\r3,4"), LINE, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":\"2\",\"_line\":2}\n{\"a\":\"3\",\"b\":\"4\",\"_line\":3}\n",
		0 },
	{ "LF inside quotes", IN("a,b\n\"x\ny\",2\n3,4\n"), LINE, NULL, 0, 0, 0,
		"{\"a\":\"x\\ny\",\"b\":\"2\",\"_line\":2}\n{\"a\":\"3\",\"b\":\"4\",\"_line\":4}"
		"\n",
		0 },
	{ "CRLF inside quotes", IN("a,b\r\n\"x\r\ny\",2\r\n3,4\r\n"), LINE, NULL, 0, 0, 0,
		"{\"a\":\"x\\r\\ny\",\"b\":\"2\",\"_line\":2}\n{\"a\":\"3\",\"b\":\"4\",\"_line\":"
		"4}\n",
		0 },
	{ "CR inside quotes", IN("a,b\r\"x\ry\",2\r3,4\r"), LINE, NULL, 0, 0, 0,
		"{\"a\":\"x\\ry\",\"b\":\"2\",\"_line\":2}\n{\"a\":\"3\",\"b\":\"4\",\"_line\":4}"
		"\n",
		0 },
	{ "BOM",
		IN("\xEF\xBB\xBF"
		   "a,b\n1,2\n"),
		0, NULL, 0, 0, 0, "{\"a\":\"1\",\"b\":\"2\"}\n", 0 },
	{ "BOM before a quoted header", IN("\xEF\xBB\xBF\"a\",b\n1,2\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":\"2\"}\n", 0 },
	{ "BOM alone", IN("\xEF\xBB\xBF"), 0, NULL, 0, 0, 0, "", 0 },
	{ "two bytes of a BOM, then text", IN("\xEF\xBBx\n1\n"), 0, NULL, 0, 0, 0,
		"{\"" U_FFFD U_FFFD "x\":\"1\"}\n", 0 },
	{ "a BOM after the start is data",
		IN("a\n\xEF\xBB\xBF"
		   "b\n"),
		0, NULL, 0, 0, 0,
		"{\"a\":\"\xEF\xBB\xBF"
		"b\"}\n",
		0 },
	{ "blank lines", IN("a,b\n\n1,2\n\r\n\n3,4\n\n"), LINE, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":\"2\",\"_line\":3}\n{\"a\":\"3\",\"b\":\"4\",\"_line\":6}\n",
		0 },
	{ "spaces around fields kept", IN("a , b\n 1 ,\t2 \n"), 0, NULL, 0, 0, 0,
		"{\"a \":\" 1 \",\" b\":\"\\t2 \"}\n", 0 },
	{ "spaces around a quoted field kept", IN("a,b\n \"x\" ,2\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\" \\\"x\\\" \",\"b\":\"2\"}\n", 0 },
	{ "short rows padded with null", IN("a,b,c\n1\n1,2\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":null,\"c\":null}\n{\"a\":\"1\",\"b\":\"2\",\"c\":null}\n", 0 },
	{ "long row: _extra", IN("a,b\n1,2,3,4\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":\"2\",\"_extra\":[\"3\",\"4\"]}\n", 0 },
	{ "row of empty fields", IN("a,b\n,\n"), 0, NULL, 0, 0, 0, "{\"a\":\"\",\"b\":\"\"}\n", 0 },
	{ "empty header names", IN(",b,\n1,2,3\n"), 0, NULL, 0, 0, 0,
		"{\"column_1\":\"1\",\"b\":\"2\",\"column_3\":\"3\"}\n", 0 },
	{ "duplicate header names", IN("a,a,b,a\n1,2,3,4\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"a_2\":\"2\",\"b\":\"3\",\"a_3\":\"4\"}\n", 0 },
	{ "metadata names in the header", IN("_line,_error,x\n1,2,3\n"), LINE, NULL, 0, 0, 0,
		"{\"_line_2\":\"1\",\"_error_2\":\"2\",\"x\":\"3\",\"_line\":2}\n", 0 },
	{ "invalid UTF-8", IN("a,b\n\xff,2\n3,4\n"), LINE, NULL, 0, 0, 0,
		ERR("bad_utf8", 2, "field 1 ('a'): invalid UTF-8 at byte 1" UTF8_HINT) U_FFFD
		",2\",\"_line\":2}\n{\"a\":\"3\",\"b\":\"4\",\"_line\":3}\n",
		0 },
	{ "truncated UTF-8 sequence in the second field", IN("a,b\nok,x\xC3\n"), 0, NULL, 0, 0, 0,
		ERR("bad_utf8", 2, "field 2 ('b'): invalid UTF-8 at byte 2" UTF8_HINT) "ok,x" U_FFFD
										       "\"}\n",
		0 },
	{ "invalid UTF-8 on a CRLF line", IN("a,b\r\n\xff,2\r\n3,4\r\n"), LINE, NULL, 0, 0, 0,
		ERR("bad_utf8", 2, "field 1 ('a'): invalid UTF-8 at byte 1" UTF8_HINT) U_FFFD
		",2\",\"_line\":2}\n{\"a\":\"3\",\"b\":\"4\",\"_line\":3}\n",
		0 },
	{ "--no-header, the first row fails", IN("\xff,2\n3,4,5\n"), NOHEADER, NULL, 0, 0, 0,
		ERR("bad_utf8", 1, "field 1: invalid UTF-8 at byte 1" UTF8_HINT) U_FFFD
		",2\"}\n{\"c1\":\"3\",\"c2\":\"4\",\"_extra\":[\"5\"]}\n",
		0 },
	{ "invalid UTF-8 in the header", IN("\xff,b\n1,2\n"), 0, NULL, 0, 0, 0,
		"{\"" U_FFFD "\":\"1\",\"b\":\"2\"}\n", 0 },
	{ "NUL bytes", IN("a\nx\0y\n"), 0, NULL, 0, 0, 0, "{\"a\":\"x\\u0000y\"}\n", 0 },
	{ "unterminated quote at EOF", IN("a,b\n1,2\n\"x,3\n4,5\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":\"2\"}\n" ERR("unterminated_quote", 3,
			"quoted field never closed: the quote runs to the end of the input") "\\\"x"
											     ",3\\n"
											     "4,"
											     "5\"}"
											     "\n",
		0 },
	{ "unterminated quote in the header", IN("\"a,b\n1,2\n"), 0, NULL, 0, 0, 0,
		ERR("unterminated_quote", 1,
			"quoted field never closed: the quote runs to the end of the input") "\\\"a"
											     ",b\\n"
											     "1,"
											     "2\"}"
											     "\n",
		0 },
	{ "quote inside an unquoted field", IN("a\nx\"y\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"x\\\"y\"}\n", 0 },
	{ "text after a closing quote goes on unquoted", IN("a,b\n\"x\"y,2\n3,4\n"), 0, NULL, 0, 0,
		0, "{\"a\":\"xy\",\"b\":\"2\"}\n{\"a\":\"3\",\"b\":\"4\"}\n", 0 },
	{ "a space after a closing quote is kept", IN("a,b\n\"x\" ,2\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"x \",\"b\":\"2\"}\n", 0 },
	{ "stray quotes swallow no row", IN("a,b\nx\"y,2\n\"p\"q\"r,3\n4,5\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"x\\\"y\",\"b\":\"2\"}\n{\"a\":\"pq\\\"r\",\"b\":\"3\"}\n"
		"{\"a\":\"4\",\"b\":\"5\"}\n",
		0 },
	{ "--strict: text after a closing quote", IN("a,b\n\"x\"y,2\n3,4\n"), STRICT, NULL, 0, 0, 0,
		ERR("bad_quote", 2, "field 1: text after the closing quote") "\\\"x\\\"y,2\"}\n",
		EXIT_DATAERR },
	{ "--strict: a quote inside an unquoted field", IN("a,b\n1,x\"y\n"), STRICT, NULL, 0, 0, 0,
		ERR("bad_quote", 2, "field 2: quote inside an unquoted field") "1,x\\\"y\"}\n",
		EXIT_DATAERR },
	{ "all header names empty", IN(",,\n1,2,3\n"), 0, NULL, 0, 0, 0,
		"{\"column_1\":\"1\",\"column_2\":\"2\",\"column_3\":\"3\"}\n", 0 },
	{ "--infer, every cell empty", IN("a,b,c\n,,\n"), INFER, NULL, 0, 0, 0,
		"{\"a\":null,\"b\":null,\"c\":null}\n", 0 },
	{ "header row larger than max_row: later cells go to _extra",
		IN("a,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n1,2\n"), 0, NULL, 0, 100, 30,
		"{\"a\":\"1\",\"_extra\":[\"2\"]}\n", 0 },
	{ "trailing delimiter", IN("a,b,\n1,2,\n"), 0, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"b\":\"2\",\"column_3\":\"\"}\n", 0 },
	{ "semicolon delimiter", IN("a;b\n1;\"x;y\"\n"), 0, NULL, ';', 0, 0,
		"{\"a\":\"1\",\"b\":\"x;y\"}\n", 0 },
	{ "--infer",
		IN("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n0,-0,007,1.50,9007199254740992,"
		   "9007199254740993,1e5,true,TRUE,,false,-12,-9007199254740992,"
		   "-9007199254740993,0.0,-0.0,\" 1\"\n"),
		INFER, NULL, 0, 0, 0,
		"{\"a\":0,\"b\":\"-0\",\"c\":\"007\",\"d\":1.50,\"e\":9007199254740992,"
		"\"f\":\"9007199254740993\",\"g\":\"1e5\",\"h\":true,\"i\":\"TRUE\",\"j\":null,"
		"\"k\":false,\"l\":-12,\"m\":-9007199254740992,\"n\":\"-9007199254740993\","
		"\"o\":0.0,\"p\":\"-0.0\",\"q\":\" 1\"}\n",
		0 },
	{ "--infer keeps doubtful numbers as strings",
		IN("a,b,c,d,e,f,g,h\n1.,.5,+1,0x1F,12345678901234567,1234567890.12345,"
		   "1234567890.123456,-\n"),
		INFER, NULL, 0, 0, 0,
		"{\"a\":\"1.\",\"b\":\".5\",\"c\":\"+1\",\"d\":\"0x1F\",\"e\":"
		"\"12345678901234567\","
		"\"f\":1234567890.12345,\"g\":\"1234567890.123456\",\"h\":\"-\"}\n",
		0 },
	{ "--no-header", IN("1,2\n3,4,5\n6\n"), NOHEADER, NULL, 0, 0, 0,
		"{\"c1\":\"1\",\"c2\":\"2\"}\n{\"c1\":\"3\",\"c2\":\"4\",\"_extra\":[\"5\"]}\n"
		"{\"c1\":\"6\",\"c2\":null}\n",
		0 },
	{ "supplied names", IN("1,2\n3\n"), 0, "x,y", 0, 0, 0,
		"{\"x\":\"1\",\"y\":\"2\"}\n{\"x\":\"3\",\"y\":null}\n", 0 },
	{ "supplied names with --infer and _line", IN("1,a\n\n2,b\n"), INFER | LINE, "n,s", 0, 0, 0,
		"{\"n\":1,\"s\":\"a\",\"_line\":1}\n{\"n\":2,\"s\":\"b\",\"_line\":3}\n", 0 },
	{ "line numbers after quoted newlines, CRLF and CR", IN("a\n\"multi\nline\"\n2\r\n3\r4\n"),
		LINE, NULL, 0, 0, 0,
		"{\"a\":\"multi\\nline\",\"_line\":2}\n{\"a\":\"2\",\"_line\":4}\n"
		"{\"a\":\"3\",\"_line\":5}\n{\"a\":\"4\",\"_line\":6}\n",
		0 },
	{ "_file and _line", IN("a\n1\n"), FILEF | LINE, NULL, 0, 0, 0,
		"{\"a\":\"1\",\"_file\":\"t.csv\",\"_line\":2}\n", 0 },
	{ "empty input", IN(""), 0, NULL, 0, 0, 0, "", 0 },
	{ "header only", IN("a,b\n"), 0, NULL, 0, 0, 0, "", 0 },
	{ "--strict: ragged rows are errors, the run goes on", IN("a,b\n1\n3,4\n5,6,7\n"), STRICT,
		NULL, 0, 0, 0,
		ERR("ragged_row", 2,
			"row has 1 field, the header has 2") "1\"}\n"
							     "{\"a\":\"3\",\"b\":\"4\"}\n" ERR("rag"
											       "ged"
											       "_ro"
											       "w",
								     4,
								     "row has 3 fields, the header "
								     "has 2") "5,6,7\"}\n",
		0 },
	{ "--strict: invalid UTF-8 stops the run", IN("a,b\n\xff,2\n3,4\n"), STRICT, NULL, 0, 0, 0,
		ERR("bad_utf8", 2, "field 1 ('a'): invalid UTF-8 at byte 1" UTF8_HINT) U_FFFD
		",2\"}\n",
		EXIT_DATAERR },
	{ "--strict: unterminated quote stops the run", IN("a\n\"x\n"), STRICT, NULL, 0, 0, 0,
		ERR("unterminated_quote", 2,
			"quoted field never closed: the quote runs to the end of the input") "\\\"x"
											     "\"}"
											     "\n",
		EXIT_DATAERR },
	{ "max_field: a quoted field of exactly max_field bytes",
		IN("a,b\n\"abc\",xyz\n\"abcd\",1\nabcd,2\n"), 0, NULL, 0, 3, 1000,
		"{\"a\":\"abc\",\"b\":\"xyz\"}\n" ERR("field_too_large", 3,
			"field 1 ('a') is larger than --max-field (3 bytes)") "\\\"abcd\\\",1\"}"
									      "\n" ERR("field_too_"
										       "large",
										      4,
										      "field 1 "
										      "('a') is "
										      "larger than "
										      "--max-field "
										      "(3 bytes)") "abcd,2\"}\n",
		0 },
	{ "max_row", IN("a\nshort\na_value_too_long_for_the_row\nok\n"), 0, NULL, 0, 100, 20,
		"{\"a\":\"short\"}\n" ERR("row_too_large", 3,
			"row is larger than --max-row (20 bytes)") "a_value_too_long_for_the_row\"}"
								   "\n"
								   "{\"a\":\"ok\"}\n",
		0 },
};

static void
make_config(const struct csv_case *c, struct csvconv_config *cfg, char ***names, size_t **lens)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->delimiter = c->delimiter ? (unsigned char)c->delimiter : ',';
	cfg->quote = '"';
	cfg->header_row = !(c->flags & NOHEADER) && c->names == NULL;
	cfg->infer = c->flags & INFER;
	cfg->line_field = c->flags & LINE;
	cfg->file_field = c->flags & FILEF;
	cfg->strict = c->flags & STRICT;
	cfg->quiet = true;
	cfg->max_field = c->max_field ? c->max_field : 1 << 20;
	cfg->max_row = c->max_row ? c->max_row : 4 * cfg->max_field;
	*names = NULL;
	*lens = NULL;
	if (c->names != NULL) {
		cfg->nnames = csvconv_split_names(c->names, names, lens);
		cfg->names = *names;
		cfg->name_lens = *lens;
	}
}

static void
free_names(char **names, size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(lens);
}

/* Records in out that are error records. */
static unsigned long long
count_errors(const struct buf *out)
{
	unsigned long long n = 0;

	for (size_t i = 0; i + 10 <= out->len; i++)
		if ((i == 0 || out->data[i - 1] == '\n') &&
			memcmp(out->data + i, "{\"_error\":", 10) == 0)
			n++;
	return n;
}

static unsigned long long
count_lines(const struct buf *out)
{
	unsigned long long n = 0;

	for (size_t i = 0; i < out->len; i++)
		n += out->data[i] == '\n';
	return n;
}

static void
test_table(void)
{
	for (size_t i = 0; i < sizeof(csv_cases) / sizeof(*csv_cases); i++) {
		const struct csv_case *c = &csv_cases[i];
		struct csvconv_config cfg;
		struct result whole, part;
		char **names;
		size_t *lens, bad_chunk = 0;
		unsigned long long errors;

		make_config(c, &cfg, &names, &lens);
		convert(&cfg, c->in, c->n, 0, &whole);
		is_str(whole.out.data, c->want, "csv: %s", c->name);
		is_int(whole.rc, c->rc, "csv: %s: return value", c->name);
		errors = count_errors(&whole.out);
		ok(whole.stats.errors == errors &&
				whole.stats.rows + whole.stats.errors == count_lines(&whole.out) &&
				whole.inconsistent == 0,
			"csv: %s: stats and records agree (%llu rows, %llu errors)", c->name,
			whole.stats.rows, whole.stats.errors);
		for (size_t chunk = 1; chunk <= 17; chunk++) {
			convert(&cfg, c->in, c->n, chunk, &part);
			if (!same_result(&whole, &part) && bad_chunk++ == 0)
				printf("# chunks of %zu: rc %d\n%s", chunk, part.rc, part.out.data);
			result_free(&part);
		}
		is_int(bad_chunk, 0, "csv: %s: feeds of 1..17 bytes give the same output", c->name);
		result_free(&whole);
		free_names(names, lens, cfg.nnames);
	}
}

/*
 * Pseudo-random inputs from an alphabet of CSV syntax, line ends, BOM bytes
 * and invalid UTF-8, under random options: feeds cut at random places give
 * the output of one feed.
 */
static void
test_random_chunks(void)
{
	static const char alphabet[] = "ab1,\"\r\n \xff\xef\xbb\xbf";
	uint64_t rng = 7;
	size_t bad = 0, inputs = 3000;
	int saved_stderr = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);

	/* --strict warns about bad header names even when quiet: keep stderr clean. */
	fflush(stderr);
	if (devnull >= 0) {
		dup2(devnull, STDERR_FILENO);
		close(devnull);
	}
	for (size_t t = 0; t < inputs; t++) {
		struct csvconv_config cfg = {
			.delimiter = ',',
			.quote = '"',
			.header_row = rng_below(&rng, 2),
			.infer = rng_below(&rng, 2),
			.line_field = true,
			.strict = rng_below(&rng, 2),
			.quiet = true,
			.max_field = 1000,
			.max_row = 20 + rng_below(&rng, 40),
		};
		char in[40];
		size_t n = rng_below(&rng, sizeof(in)), chunk = 1 + rng_below(&rng, 6);
		struct result whole, part;

		for (size_t i = 0; i < n; i++)
			in[i] = alphabet[rng_below(&rng, sizeof(alphabet) - 1)];
		convert(&cfg, in, n, 0, &whole);
		convert(&cfg, in, n, chunk, &part);
		if (!same_result(&whole, &part) && bad++ == 0)
			printf("# input %zu, chunks of %zu:\n%s--\n%s", t, chunk, whole.out.data,
				part.out.data);
		result_free(&whole);
		result_free(&part);
	}
	fflush(stderr);
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
	}
	is_int(bad, 0, "csv: %zu random inputs fed in chunks of 1..6 give the same output", inputs);
}

/* ---- fields larger than max_field ---- */

static const struct csvconv_config big_cfg = {
	.delimiter = ',',
	.quote = '"',
	.header_row = true,
	.line_field = true,
	.quiet = true,
	.max_field = 1000,
	.max_row = 4000,
};

/* The error record jl-csv writes for a field_too_large row. */
static void
too_large_record(struct buf *want, unsigned long line, const char *field, const char *raw,
	size_t rawlen)
{
	struct buf msg = BUF_INIT;

	buf_puts(&msg, "t.csv:");
	buf_add_uint(&msg, line);
	buf_puts(&msg, ": ");
	buf_puts(&msg, field);
	buf_puts(&msg, " is larger than --max-field (1000 bytes)");
	buf_putc(want, '{');
	record_error_member(want,
		&(struct record_error){ "field_too_large", buf_cstr(&msg), "t.csv", line, 0, -1 });
	buf_putc(want, ',');
	jw_raw_member(want, raw, rawlen);
	buf_puts(want, ",\"_line\":");
	buf_add_uint(want, line);
	buf_puts(want, "}\n");
	buf_free(&msg);
}

static void
check_big(const char *what, const struct buf *in, const struct buf *want)
{
	static const size_t chunks[] = { 0, 1000, 4096, 65537, 300000 };
	struct result r;

	for (size_t i = 0; i < sizeof(chunks) / sizeof(*chunks); i++) {
		convert(&big_cfg, in->data, in->len, chunks[i], &r);
		if (!ok(r.out.len == want->len && memcmp(r.out.data, want->data, want->len) == 0 &&
				    r.rc == 0,
			    "max_field: %s (%s%zu)", what, chunks[i] ? "feeds of " : "one feed",
			    chunks[i] ? chunks[i] : in->len))
			printf("#   rc %d, got %zu bytes, want %zu: got starts %.300s\n", r.rc,
				r.out.len, want->len, r.out.data);
		if (i == 0)
			ok(r.stats.rows == 2 && r.stats.errors == 1 &&
					r.stats.by_error[CSV_ERR_FIELD_TOO_LARGE] == 1,
				"max_field: %s: stats 2 rows, 1 field_too_large", what);
		result_free(&r);
	}
}

static void
test_max_field(void)
{
	struct buf in = BUF_INIT, want = BUF_INIT;
	size_t row_start, newlines = 0;

	/* An unquoted 1 MB field. */
	buf_puts(&in, "a,b\nok,1\n");
	row_start = in.len;
	buf_puts(&in, "x,");
	for (size_t i = 0; i < 1000000; i++)
		buf_putc(&in, (char)('a' + i % 26));
	buf_puts(&in, "\n1,2\n");
	buf_puts(&want, "{\"a\":\"ok\",\"b\":\"1\",\"_line\":2}\n");
	too_large_record(&want, 3, "field 2 ('b')", in.data + row_start,
		in.len - 5 - row_start - 1);
	buf_puts(&want, "{\"a\":\"1\",\"b\":\"2\",\"_line\":4}\n");
	check_big("unquoted 1 MB field", &in, &want);

	/* A quoted 1 MB field with newlines, CRLFs, doubled quotes and commas inside. */
	buf_reset(&in);
	buf_reset(&want);
	buf_puts(&in, "a,b\nok,1\n");
	row_start = in.len;
	buf_putc(&in, '"');
	for (size_t i = 0; i < 1000000; i++) {
		if (i % 997 == 0) {
			buf_puts(&in, "\n");
			newlines++;
		} else if (i % 1999 == 0) {
			buf_puts(&in, "\r\n");
			newlines++;
		} else if (i % 101 == 0) {
			buf_puts(&in, "\"\"");
		} else if (i % 13 == 0) {
			buf_putc(&in, ',');
		} else {
			buf_putc(&in, (char)('a' + i % 26));
		}
	}
	buf_puts(&in, "\",tail\n");
	{
		size_t raw_len = in.len - row_start - 1;

		buf_puts(&in, "1,2\n");
		buf_puts(&want, "{\"a\":\"ok\",\"b\":\"1\",\"_line\":2}\n");
		too_large_record(&want, 3, "field 1 ('a')", in.data + row_start, raw_len);
		buf_puts(&want, "{\"a\":\"1\",\"b\":\"2\",\"_line\":");
		buf_add_uint(&want, 3 + newlines + 1);
		buf_puts(&want, "}\n");
	}
	check_big("quoted 1 MB field with line ends inside", &in, &want);

	/* A header field past max_field is named column_N. */
	buf_reset(&in);
	for (size_t i = 0; i < 2000; i++)
		buf_putc(&in, 'h');
	buf_puts(&in, ",b\n1,2\n");
	{
		struct result r;

		convert(&big_cfg, in.data, in.len, 0, &r);
		is_str(r.out.data, "{\"column_1\":\"1\",\"b\":\"2\",\"_line\":2}\n",
			"max_field: a header field past max_field becomes column_1");
		result_free(&r);
	}

	/* A field of exactly max_field bytes, a feed ending right after its closing quote. */
	{
		struct csvconv_config cfg = big_cfg;
		struct result r = { 0 };
		struct csvconv *c;

		cfg.max_field = 3;
		cfg.line_field = false;
		c = csvconv_new(&cfg, collect, &r);
		csvconv_begin(c, "t.csv", "t.csv");
		csvconv_feed(c, "a\n\"abc\"", 7);
		csvconv_feed(c, "\n", 1);
		csvconv_end(c);
		is_str(buf_cstr(&r.out), "{\"a\":\"abc\"}\n",
			"max_field 3: \"abc\" split after the closing quote is not too large");
		csvconv_free(c);
		result_free(&r);
	}
	buf_free(&in);
	buf_free(&want);
}

/* ---- --strict return values, statistics, offsets, several inputs ---- */

static void
test_strict_returns(void)
{
	struct csvconv_config cfg = big_cfg;
	struct result r = { 0 };
	struct csvconv *c;
	int rc;

	cfg.strict = true;
	cfg.line_field = false;
	c = csvconv_new(&cfg, collect, &r);
	csvconv_begin(c, "t.csv", "t.csv");
	rc = csvconv_feed(c, "a,b\n1\n", 6);
	is_int(rc, 0, "strict: csvconv_feed returns 0 after a ragged row");
	rc = csvconv_feed(c, "1,2,3", 5);
	is_int(rc, 0, "strict: csvconv_feed returns 0 with a ragged row pending");
	rc = csvconv_end(c);
	is_int(rc, 0, "strict: csvconv_end returns 0 after a ragged last row");
	is_int(csvconv_stats(c)->by_error[CSV_ERR_RAGGED_ROW], 2, "strict: two ragged_row records");
	csvconv_free(c);
	result_free(&r);

	memset(&r, 0, sizeof(r));
	c = csvconv_new(&cfg, collect, &r);
	csvconv_begin(c, "t.csv", "t.csv");
	rc = csvconv_feed(c, "a,b\n1,\xff\n3,4\n", 12);
	is_int(rc, EXIT_DATAERR, "strict: bad UTF-8 makes csvconv_feed return 65");
	is_int(count_lines(&r.out), 1, "strict: nothing after the bad row");
	csvconv_free(c);
	result_free(&r);
}

static void
test_stats(void)
{
	struct csvconv_config cfg = big_cfg;
	struct result r;
	static const char in[] = "a,b\n1,2\n\xff,2\n3,4,5\n6\n\"never closed\n7,8\n";

	cfg.line_field = false;
	convert(&cfg, in, sizeof(in) - 1, 0, &r);
	ok(r.stats.rows == 3 && r.stats.errors == 2 && r.stats.by_error[CSV_ERR_BAD_UTF8] == 1 &&
			r.stats.by_error[CSV_ERR_UNTERMINATED_QUOTE] == 1 &&
			r.stats.by_error[CSV_ERR_RAGGED_ROW] == 0,
		"stats: 3 rows; errors 2: bad_utf8 1, unterminated_quote 1");
	result_free(&r);
	cfg.strict = true;
	convert(&cfg, in, sizeof(in) - 1, 0, &r);
	ok(r.stats.rows == 1 && r.stats.errors == 1 && r.stats.by_error[CSV_ERR_BAD_UTF8] == 1 &&
			r.rc == EXIT_DATAERR,
		"stats: --strict stops after 1 row and 1 bad_utf8");
	result_free(&r);

	is_str(csvconv_error_code(CSV_ERR_BAD_UTF8), "bad_utf8", "error code bad_utf8");
	is_str(csvconv_error_code(CSV_ERR_UNTERMINATED_QUOTE), "unterminated_quote",
		"error code unterminated_quote");
	is_str(csvconv_error_code(CSV_ERR_FIELD_TOO_LARGE), "field_too_large",
		"error code field_too_large");
	is_str(csvconv_error_code(CSV_ERR_ROW_TOO_LARGE), "row_too_large",
		"error code row_too_large");
	is_str(csvconv_error_code(CSV_ERR_RAGGED_ROW), "ragged_row", "error code ragged_row");
	is_str(csvconv_error_code(CSV_ERR_BAD_QUOTE), "bad_quote", "error code bad_quote");
	is_str(csvconv_error_code(CSV_ERR_COUNT), "unknown", "error code past the table");
}

/* csvconv_offset counts the input bytes fed, BOM included, however they were split. */
static void
test_offset(void)
{
	static const struct {
		const char *name;
		const char *in;
		size_t n;
	} cases[] = {
		{ "plain", IN("a,b\n1,2\n") },
		{ "BOM",
			IN("\xEF\xBB\xBF"
			   "a\n1\n") },
		{ "two bytes of a BOM", IN("\xEF\xBBx\n1\n") },
		{ "one byte of a BOM",
			IN("\xEF"
			   "a\n1\n") },
	};
	struct csvconv_config cfg = big_cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t bad = 0;

		for (size_t chunk = 0; chunk <= 4; chunk++) {
			struct result r;

			convert(&cfg, cases[i].in, cases[i].n, chunk, &r);
			if (r.offset != cases[i].n && bad++ == 0)
				printf("# %s, chunk %zu: offset %llu, fed %zu\n", cases[i].name,
					chunk, r.offset, cases[i].n);
			result_free(&r);
		}
		is_int(bad, 0, "offset: %s: equals the bytes fed", cases[i].name);
	}
}

/* Two inputs on one converter: each has its own header and line numbers. */
static void
test_two_inputs(void)
{
	struct csvconv_config cfg = big_cfg;
	struct result r = { 0 };
	struct csvconv *c;
	char **names;
	size_t *lens;

	c = csvconv_new(&cfg, collect, &r);
	csvconv_begin(c, "t.csv", "one.csv");
	csvconv_feed(c, "a,b\n1,2\n", 8);
	csvconv_end(c);
	csvconv_begin(c, "t.csv", "two.csv");
	csvconv_feed(c, "\n\nx\n\"open", 9);
	csvconv_end(c);
	is_str(buf_cstr(&r.out),
		"{\"a\":\"1\",\"b\":\"2\",\"_line\":2}\n"
		"{\"_error\":{\"tool\":\"" PROG "\",\"code\":\"unterminated_quote\",\"message\":"
		"\"t.csv:4: quoted field never closed: the quote runs to the end of the input\","
		"\"file\":\"t.csv\",\"line\":4},\"_raw\":\"\\\"open\",\"_line\":4}\n",
		"two inputs: the second has its own header and line numbers");
	ok(csvconv_stats(c)->rows == 1 && csvconv_stats(c)->errors == 1,
		"two inputs: stats add up");
	csvconv_free(c);
	result_free(&r);

	/* With supplied names every input's first row is data. */
	memset(&r, 0, sizeof(r));
	cfg.header_row = false;
	cfg.line_field = false;
	cfg.file_field = true;
	cfg.nnames = csvconv_split_names("k", &names, &lens);
	cfg.names = names;
	cfg.name_lens = lens;
	c = csvconv_new(&cfg, collect, &r);
	csvconv_begin(c, "t.csv", "one.csv");
	csvconv_feed(c, "1\n", 2);
	csvconv_end(c);
	csvconv_begin(c, "t.csv", "two.csv");
	csvconv_feed(c, "2", 1);
	csvconv_end(c);
	is_str(buf_cstr(&r.out),
		"{\"k\":\"1\",\"_file\":\"one.csv\"}\n{\"k\":\"2\",\"_file\":\"two.csv\"}\n",
		"two inputs with supplied names and _file");
	csvconv_free(c);
	result_free(&r);
	free_names(names, lens, cfg.nnames);
}

static void
test_split_names(void)
{
	char **names;
	size_t *lens;
	size_t n = csvconv_split_names("a,\"b,c\",,d", &names, &lens);

	is_int(n, 4, "split_names: 4 names");
	if (n == 4) {
		is_mem(names[0], lens[0], "a", 1, "split_names: a");
		is_mem(names[1], lens[1], "b,c", 3, "split_names: quoted b,c");
		is_mem(names[2], lens[2], "", 0, "split_names: empty");
		is_mem(names[3], lens[3], "d", 1, "split_names: d");
		ok(names[1][3] == '\0', "split_names: names are NUL-terminated");
	}
	free_names(names, lens, n);
	n = csvconv_split_names(" x ,\"y \"\"z\"\"\"", &names, &lens);
	ok(n == 2 && lens[0] == 3 && memcmp(names[0], " x ", 3) == 0 && lens[1] == 5 &&
			memcmp(names[1], "y \"z\"", 5) == 0,
		"split_names: spaces kept, doubled quotes");
	free_names(names, lens, n);
}

/* ---- the decoder ---- */

static int
sink_collect(void *arg, const char *utf8, size_t n)
{
	buf_add(arg, utf8, n);
	return 0;
}

static int
sink_fail(void *arg, const char *utf8, size_t n)
{
	(void)arg;
	(void)utf8;
	(void)n;
	return 7;
}

/*
 * Decode in[0..n) in feeds of chunk bytes (0: one feed). final_last: the last
 * feed carries final, else an empty final feed follows. Returns decoder_feed's
 * first nonzero result, -1 when decoder_open failed, else 0.
 */
static int
decode(const char *encoding, const char *in, size_t n, size_t chunk, bool final_last,
	struct buf *out)
{
	struct decoder d;
	int rc = 0;

	buf_reset(out);
	if (decoder_open(&d, encoding) != 0)
		return -1;
	decoder_reset(&d);
	if (chunk == 0)
		chunk = n > 0 ? n : 1;
	for (size_t off = 0; off < n && rc == 0; off += chunk) {
		size_t len = n - off < chunk ? n - off : chunk;

		rc = decoder_feed(&d, in + off, len, final_last && off + len == n, sink_collect,
			out);
	}
	if (rc == 0 && (!final_last || n == 0))
		rc = decoder_feed(&d, in, 0, true, sink_collect, out);
	decoder_close(&d);
	buf_cstr(out);
	return rc;
}

struct decode_case {
	const char *name;
	const char *encoding;
	const char *in;
	size_t n;
	const char *want;
};

static const struct decode_case decode_cases[] = {
	{ "latin1", "latin1", IN("caf\xe9"), "caf\xc3\xa9" },
	{ "cp1252 quotes and euro", "cp1252", IN("\x93q\x94 \x80"),
		"\xe2\x80\x9cq\xe2\x80\x9d \xe2\x82\xac" },
	{ "UTF-16LE", "UTF-16LE", IN("h\0\xe9\0\x3d\xd8\x00\xde\n\0"),
		"h\xc3\xa9\xf0\x9f\x98\x80\n" },
	{ "UTF-16 with a little-endian BOM", "UTF-16", IN("\xff\xfeh\0\xe9\0\x3d\xd8\x00\xde\n\0"),
		"h\xc3\xa9\xf0\x9f\x98\x80\n" },
	{ "UTF-16 with a big-endian BOM", "UTF-16", IN("\xfe\xff\0h\0\xe9\xd8\x3d\xde\x00\0\n"),
		"h\xc3\xa9\xf0\x9f\x98\x80\n" },
	{ "cp1252 undefined byte 0x81", "cp1252",
		IN("a\x81"
		   "b\x81"),
		"a\xff"
		"b\xff" },
	{ "UTF-16LE lone high surrogate", "UTF-16LE",
		IN("\x00\xd8"
		   "A\0B\0"),
		"\xff"
		"AB" },
	{ "UTF-16LE lone low surrogate", "UTF-16LE",
		IN("A\0\x00\xdc"
		   "B\0"),
		"A\xff"
		"B" },
	{ "UTF-16 (BOM) lone surrogate", "UTF-16",
		IN("\xff\xfe\x00\xd8"
		   "A\0"),
		"\xff"
		"A" },
	{ "UTF-16LE odd byte at the end", "UTF-16LE", IN("A\0B"), "A\xff" },
	{ "UTF-16LE high surrogate at the end", "UTF-16LE", IN("A\0\x3d\xd8"), "A\xff" },
	{ "UTF-32LE past U+10FFFF", "UTF-32LE",
		IN("A\0\0\0\0\0\x11\0"
		   "B\0\0\0"),
		"A\xff"
		"B" },
};

static void
test_decoder_cases(void)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(*decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		size_t bad = 0;
		int rc = decode(c->encoding, c->in, c->n, 0, true, &out);

		if (!ok(rc == 0 && out.len == strlen(c->want) &&
				    memcmp(out.data, c->want, out.len) == 0,
			    "decode: %s", c->name))
			printf("#   rc %d, got %zu bytes: %.*s\n", rc, out.len, (int)out.len,
				out.data);
		for (size_t chunk = 1; chunk <= 9; chunk++)
			for (int final_last = 0; final_last < 2; final_last++) {
				rc = decode(c->encoding, c->in, c->n, chunk, final_last, &out);
				if ((rc != 0 || out.len != strlen(c->want) ||
					    memcmp(out.data, c->want, out.len) != 0) &&
					bad++ == 0)
					printf("# chunks of %zu%s: rc %d, %zu bytes\n", chunk,
						final_last ? ", last final" : "", rc, out.len);
			}
		is_int(bad, 0, "decode: %s: feeds of 1..9 bytes give the same UTF-8", c->name);
	}
	buf_free(&out);
}

static void
test_decoder_misc(void)
{
	struct buf in = BUF_INIT, out = BUF_INIT, want = BUF_INIT;
	struct decoder d;

	ok(decoder_open(&d, "no-such-encoding-jlkit") == -1,
		"decoder_open: unknown encoding is -1");

	/* Output beyond the decoder's 256 KiB buffer. */
	for (size_t i = 0; i < 300000; i++) {
		buf_putc(&in, '\xe9');
		buf_add(&want, "\xc3\xa9", 2);
	}
	ok(decode("latin1", in.data, in.len, 0, true, &out) == 0 && out.len == want.len &&
			memcmp(out.data, want.data, want.len) == 0,
		"decode: 300,000 latin1 bytes to 600,000 UTF-8 bytes");

	/* An invalid byte right where the output buffer fills. */
	buf_reset(&in);
	buf_reset(&want);
	for (size_t i = 0; i < 256 * 1024; i++)
		buf_putc(&in, 'a');
	buf_add(&want, in.data, in.len);
	buf_add(&in,
		"\x81"
		"b",
		2);
	buf_add(&want,
		"\xff"
		"b",
		2);
	ok(decode("cp1252", in.data, in.len, 0, true, &out) == 0 && out.len == want.len &&
			memcmp(out.data, want.data, want.len) == 0,
		"decode: an invalid byte after exactly 256 KiB of output");

	/* A sink's error stops the conversion and is returned. */
	if (decoder_open(&d, "latin1") == 0) {
		is_int(decoder_feed(&d, "abc", 3, true, sink_fail, NULL), 7,
			"decoder_feed returns the sink's error");
		decoder_close(&d);
	}

	/* decoder_reset forgets an incomplete sequence. */
	if (decoder_open(&d, "UTF-16LE") == 0) {
		buf_reset(&out);
		decoder_feed(&d, "A\0B", 3, false, sink_collect, &out);
		decoder_reset(&d);
		decoder_feed(&d, "C\0", 2, true, sink_collect, &out);
		is_mem(out.data, out.len, "AC", 2,
			"decoder_reset drops a pending partial sequence");
		decoder_close(&d);
	}

	/* decoder_reset starts byte order detection again (decode.h). */
	if (decoder_open(&d, "UTF-16") == 0) {
		buf_reset(&out);
		decoder_feed(&d, "\xfe\xff\0A", 4, true, sink_collect, &out);
		decoder_reset(&d);
		decoder_feed(&d,
			"\xff\xfe"
			"B\0",
			4, true, sink_collect, &out);
		is_mem(out.data, out.len, "AB", 2,
			"decoder_reset: a big-endian input, then a little-endian one");
		decoder_close(&d);
	}
	if (decoder_open(&d, "UTF-16") == 0) {
		buf_reset(&out);
		decoder_feed(&d,
			"\xff\xfe"
			"A\0",
			4, true, sink_collect, &out);
		decoder_reset(&d);
		decoder_feed(&d, "\xfe\xff\0B", 4, true, sink_collect, &out);
		is_mem(out.data, out.len, "AB", 2,
			"decoder_reset: a little-endian input, then a big-endian one");
		decoder_close(&d);
	}

	ok(encoding_is_utf8("UTF-8") && encoding_is_utf8("utf-8") && encoding_is_utf8("utf8") &&
			encoding_is_utf8("Utf8"),
		"encoding_is_utf8: UTF-8, utf-8, utf8, Utf8");
	ok(!encoding_is_utf8("latin1") && !encoding_is_utf8("UTF-16") &&
			!encoding_is_utf8("utf-8x") && !encoding_is_utf8(""),
		"encoding_is_utf8: not latin1, UTF-16, utf-8x or empty");
	buf_free(&in);
	buf_free(&out);
	buf_free(&want);
}

int
main(void)
{
	progname = PROG;
	test_table();
	test_random_chunks();
	test_max_field();
	test_strict_returns();
	test_stats();
	test_offset();
	test_two_inputs();
	test_split_names();
	test_decoder_cases();
	test_decoder_misc();
	return done_testing();
}
