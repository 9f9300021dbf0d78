/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-csv: CSV or TSV files to JSON Lines, one object per data row, keys from
 * the header. The conversion itself is csvconv.c; this file is the command:
 * options, files, --encoding, stdout and the exit status.
 */
#include <csv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvconv.h"
#include "decode.h"
#include "io.h"
#include "opt.h"
#include "out.h"
#include "progress.h"
#include "recloop.h"
#include "util.h"
#include "version.h"

#define READ_SIZE (1024 * 1024)
#define DEFAULT_MAX_FIELD (16ULL << 20)
#define ERRORS_SHOWN 10 /* per-record messages on stderr before going quiet */

enum {
	OPT_TSV = 256,
	OPT_QUOTE,
	OPT_NO_HEADER,
	OPT_HEADER,
	OPT_INFER,
	OPT_LINE,
	OPT_ENCODING,
	OPT_MAX_FIELD,
	OPT_MAX_ROW,
	OPT_STRICT,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
};

static const struct opt_spec options[] = {
	{ 'd', "delimiter", 'd', "C", "field delimiter: one byte, or 'tab' (default ',')" },
	{ OPT_TSV, "tsv", 0, NULL, "tab-separated input (same as --delimiter tab)" },
	{ OPT_QUOTE, "quote", 0, "C", "quote character (default '\"')" },
	{ OPT_NO_HEADER, "no-header", 0, NULL, "no header row: keys are c1, c2, ..." },
	{ OPT_HEADER, "header", 0, "LIST", "column names a,b,c; the first row is data" },
	{ OPT_INFER, "infer", 0, NULL, "numbers, true/false and empty cells as JSON types" },
	{ OPT_LINE, "line", 0, NULL, "add _line (and _file with several files)" },
	{ OPT_ENCODING, "encoding", 0, "NAME",
		"input encoding for iconv (latin1, cp1252, utf-16)" },
	{ OPT_MAX_FIELD, "max-field", 0, "BYTES", "largest field (default 16M)" },
	{ OPT_MAX_ROW, "max-row", 0, "BYTES", "largest row as JSON (default 4 x --max-field)" },
	{ OPT_STRICT, "strict", 0, NULL, "ragged rows are errors; stop at malformed input" },
	{ 'q', "quiet", 'q', NULL, "no warnings, per-row messages or summary on stderr" },
	{ OPT_PROGRESS, "progress", 0, NULL, "show progress on stderr even when not a terminal" },
	{ OPT_NO_PROGRESS, "no-progress", 0, NULL, "never show progress" },
	{ 0, NULL, 0, NULL, NULL },
};

static void print_versions(void);

static const struct opt_tool tool = {
	.synopsis = "[options] [FILE...]",
	.summary = "Convert CSV or TSV to JSON Lines: one object per row, keys from the header.",
	.options = options,
	.version = print_versions,
};

struct csv_config {
	struct csvconv_config conv;
	const char *encoding; /* NULL: UTF-8 */
	bool quiet;
	bool max_row_given;
	enum progress_mode progress;
	char **files;
	int nfiles;
};

/* What the record loop shares with the emit callback. */
struct run {
	const struct csv_config *cfg;
	struct csvconv *conv;
	struct decoder decoder;
	struct progress progress;
	unsigned long long bytes_done, bytes_total;
	unsigned long long errors_shown;
};

static void
print_versions(void)
{
	char csv_version[32];

	snprintf(csv_version, sizeof(csv_version), "%d.%d.%d", CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
	version_line("libcsv", csv_version);
	version_common();
}

static unsigned char
parse_char_option(const char *name, const char *arg)
{
	if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
		return '\t';
	if (strlen(arg) != 1)
		opt_usage_error(&tool, "--%s takes one byte (or 'tab'), not '%s'", name, arg);
	return (unsigned char)arg[0];
}

static void
parse_options(struct csv_config *cfg, int argc, char **argv)
{
	struct opt_state st;
	const char *arg;
	const char *header_list = NULL;
	int id;

	opt_init(&st, &tool, argc, argv);
	while ((id = opt_next(&st, &arg)) != OPT_DONE) {
		switch (id) {
		case 'd':
			cfg->conv.delimiter = parse_char_option("delimiter", arg);
			break;
		case OPT_TSV:
			cfg->conv.delimiter = '\t';
			break;
		case OPT_QUOTE:
			cfg->conv.quote = parse_char_option("quote", arg);
			break;
		case OPT_NO_HEADER:
			cfg->conv.header_row = false;
			break;
		case OPT_HEADER:
			header_list = arg;
			break;
		case OPT_INFER:
			cfg->conv.infer = true;
			break;
		case OPT_LINE:
			cfg->conv.line_field = true;
			break;
		case OPT_ENCODING:
			cfg->encoding = arg;
			break;
		case OPT_MAX_FIELD:
			cfg->conv.max_field = opt_size("max-field", arg, 1, SIZE_MAX / 8);
			break;
		case OPT_MAX_ROW:
			cfg->conv.max_row = opt_size("max-row", arg, 1, SIZE_MAX / 2);
			cfg->max_row_given = true;
			break;
		case OPT_STRICT:
			cfg->conv.strict = true;
			break;
		case 'q':
			cfg->quiet = true;
			break;
		case OPT_PROGRESS:
			cfg->progress = PROGRESS_ON;
			break;
		case OPT_NO_PROGRESS:
			cfg->progress = PROGRESS_OFF;
			break;
		}
	}
	if (header_list != NULL) {
		if (!cfg->conv.header_row)
			opt_usage_error(&tool, "--header and --no-header cannot be combined");
		cfg->conv.nnames =
			csvconv_split_names(header_list, &cfg->conv.names, &cfg->conv.name_lens);
		if (cfg->conv.nnames == 0)
			opt_usage_error(&tool, "--header needs at least one name");
		cfg->conv.header_row = false;
	}
	cfg->files = argv + st.operand;
	cfg->nfiles = argc - st.operand;
	opt_free(&st);
}

/* Cross-option checks; every input file is opened once so a bad name fails before any output. */
static void
validate_config(struct csv_config *cfg)
{
	struct input in;
	unsigned char d = cfg->conv.delimiter, q = cfg->conv.quote;

	if (d == q)
		opt_usage_error(&tool, "the delimiter and the quote character must differ");
	if (d == '\n' || d == '\r' || q == '\n' || q == '\r')
		opt_usage_error(&tool, "the delimiter and quote cannot be line terminators");
	if (!cfg->max_row_given)
		cfg->conv.max_row = cfg->conv.max_field * 4;
	if (cfg->encoding != NULL && !encoding_known(cfg->encoding))
		opt_usage_error(&tool, "unknown encoding '%s' (see iconv -l)", cfg->encoding);
	if (cfg->encoding != NULL && encoding_is_utf8(cfg->encoding))
		cfg->encoding = NULL;
	cfg->conv.encoding = cfg->encoding;
	cfg->conv.quiet = cfg->quiet;
	cfg->conv.file_field = cfg->conv.line_field && cfg->nfiles > 1;
	for (int i = 0; i < cfg->nfiles; i++) {
		if (strcmp(cfg->files[i], "-") == 0)
			continue;
		if (input_open(&in, cfg->files[i]) != 0)
			die(EXIT_NOINPUT, "cannot open '%s':", cfg->files[i]);
		input_close(&in);
	}
}

/* The converter's callback: a record to stdout, an error also to stderr (the first few). */
static void
emit_record(void *arg, const struct csvconv_record *rec)
{
	struct run *run = arg;
	const struct csvconv_stats *stats = csvconv_stats(run->conv);

	out_write(rec->json, rec->len + 1); /* the record and its '\n' */
	if (rec->error != CSV_ERR_NONE && !run->cfg->quiet) {
		if (run->errors_shown < ERRORS_SHOWN)
			warn("%s", rec->message);
		else if (run->errors_shown == ERRORS_SHOWN)
			warn("further errors are reported only in the output's _error records");
		run->errors_shown++;
	}
	progress_update(&run->progress, stats->rows + stats->errors, stats->errors, run->bytes_done,
		run->bytes_total);
}

static int
feed_converter(void *arg, const char *data, size_t n)
{
	struct run *run = arg;

	return csvconv_feed(run->conv, data, n);
}

/* Convert one input. Returns 0, or EXIT_DATAERR when --strict stops the run. */
static int
convert_input(struct run *run, const char *path, char *block)
{
	const struct csv_config *cfg = run->cfg;
	struct input in;
	ssize_t got = 0;
	int rc = 0;

	if (input_open(&in, path) != 0)
		die(EXIT_NOINPUT, "cannot open '%s':", path);
	csvconv_begin(run->conv, in.name, path);
	if (cfg->encoding != NULL)
		decoder_reset(&run->decoder);
	while (rc == 0 && (got = input_read(&in, block, READ_SIZE)) > 0) {
		run->bytes_done += (unsigned long long)got;
		if (cfg->encoding != NULL)
			rc = decoder_feed(&run->decoder, block, (size_t)got, false, feed_converter,
				run);
		else
			rc = csvconv_feed(run->conv, block, (size_t)got);
	}
	if (rc == 0 && got < 0)
		die(EXIT_IOERR, "read error on '%s':", in.name);
	if (rc == 0 && cfg->encoding != NULL)
		rc = decoder_feed(&run->decoder, block, 0, true, feed_converter, run);
	if (rc == 0)
		rc = csvconv_end(run->conv);
	input_close(&in);
	return rc;
}

/* The summary line on stderr: records out, error records by code, time. */
static void
print_summary(const struct csvconv_stats *s, double seconds)
{
	const char *sep = " (";

	fprintf(stderr, "%s: %llu record%s", progname, s->rows + s->errors,
		s->rows + s->errors == 1 ? "" : "s");
	if (s->errors > 0) {
		fprintf(stderr, ", %llu with _error", s->errors);
		for (int e = CSV_ERR_NONE + 1; e < CSV_ERR_COUNT; e++) {
			if (s->by_error[e] == 0)
				continue;
			fprintf(stderr, "%s%s %llu", sep, csvconv_error_code(e), s->by_error[e]);
			sep = ", ";
		}
		fputc(')', stderr);
	}
	fprintf(stderr, " in %.2f s\n", seconds);
}

/*
 * The record loop over every input; returns the exit status and leaves the
 * counts in *stats and the run time in *seconds.
 */
static int
run_conversion(const struct csv_config *cfg, struct csvconv_stats *stats, double *seconds)
{
	static char dash[] = "-";
	static char *stdin_only[] = { dash };
	char **files = cfg->nfiles > 0 ? cfg->files : stdin_only;
	int nfiles = cfg->nfiles > 0 ? cfg->nfiles : 1;
	struct run run = { .cfg = cfg };
	char *block = xmalloc(READ_SIZE);
	int rc = 0;

	if (cfg->encoding != NULL && decoder_open(&run.decoder, cfg->encoding) != 0)
		die(EXIT_SOFTWARE, "cannot open iconv for '%s':", cfg->encoding);
	for (int i = 0; i < nfiles; i++) {
		struct input in;

		if (input_open(&in, files[i]) == 0) {
			if (in.size < 0) {
				run.bytes_total = 0;
				input_close(&in);
				break;
			}
			run.bytes_total += (unsigned long long)in.size;
			input_close(&in);
		}
	}
	progress_init(&run.progress, cfg->progress);
	run.conv = csvconv_new(&cfg->conv, emit_record, &run);
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = convert_input(&run, files[i], block);
	progress_end(&run.progress);
	if (rc == EXIT_DATAERR)
		warn("stopped at malformed input (--strict)");
	if (rc == 0 || rc == EXIT_DATAERR)
		rc = recloop_status(cfg->conv.strict, rc == EXIT_DATAERR,
			csvconv_stats(run.conv)->errors);
	*stats = *csvconv_stats(run.conv);
	*seconds = progress_elapsed(&run.progress);
	csvconv_free(run.conv);
	if (cfg->encoding != NULL)
		decoder_close(&run.decoder);
	free(block);
	return rc;
}

static void
free_config(struct csv_config *cfg)
{
	for (size_t i = 0; i < cfg->conv.nnames; i++)
		free(cfg->conv.names[i]);
	free(cfg->conv.names);
	free(cfg->conv.name_lens);
}

int
main(int argc, char *argv[])
{
	struct csv_config cfg = {
		.conv = { .delimiter = ',',
			.quote = '"',
			.header_row = true,
			.max_field = DEFAULT_MAX_FIELD },
		.progress = PROGRESS_AUTO,
	};
	struct csvconv_stats stats;
	double seconds;
	int rc;

	tool_init(argv[0]);
	parse_options(&cfg, argc, argv);
	validate_config(&cfg);
	out_init();
	rc = run_conversion(&cfg, &stats, &seconds);
	rc = out_close(rc);
	if (!cfg.quiet && rc != EXIT_IOERR)
		print_summary(&stats, seconds);
	free_config(&cfg);
	return rc;
}
