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

static void print_versions(void);

static const struct opt_tool tool = {
	.synopsis = "[options] [FILE...]",
	.summary = "Convert CSV or TSV to JSON Lines: one object per row, keys from the header.",
	.version = print_versions,
};

struct csv_config {
	struct csvconv_config conv;
	const char *encoding; /* NULL: UTF-8 */
	bool quiet;
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
	unsigned long long bytes_done;
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

/* -d and --quote: one byte, or "tab", into an unsigned char. */
static const char *
set_char(const struct opt *o, const char *arg)
{
	if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
		*(unsigned char *)o->value = '\t';
	else if (strlen(arg) == 1)
		*(unsigned char *)o->value = (unsigned char)arg[0];
	else
		return "expected one byte, or 'tab'";
	return NULL;
}

static void
parse_options(struct csv_config *cfg, int argc, char **argv)
{
	struct csvconv_config *c = &cfg->conv;
	const char *header_list = NULL;
	struct opt options[] = {
		OPT_CALLBACK('d', "delimiter", &c->delimiter, "C",
			"field delimiter: one byte, or 'tab'", "','", set_char),
		OPT_SET(0, "tsv", &c->delimiter, '\t',
			"tab-separated input (same as --delimiter tab)"),
		OPT_CALLBACK(0, "quote", &c->quote, "C", "quote character", "'\"'", set_char),
		OPT_SET(0, "no-header", &c->header_row, false,
			"no header row: keys are c1, c2, ..."),
		OPT_STRING(0, "header", &header_list, "LIST",
			"column names a,b,c; the first row is data", NULL),
		OPT_BOOL(0, "infer", &c->infer,
			"numbers, true/false and empty cells as JSON types"),
		OPT_BOOL(0, "line", &c->line_field, "add _line (and _file with several files)"),
		OPT_STRING(0, "encoding", &cfg->encoding, "NAME",
			"input encoding for iconv (latin1, cp1252, utf-16)", "UTF-8"),
		OPT_SIZE(0, "max-field", &c->max_field, 1, SIZE_MAX / 8, "BYTES", "largest field",
			"16M"),
		OPT_SIZE(0, "max-row", &c->max_row, 1, SIZE_MAX / 2, "BYTES", "largest row as JSON",
			"4 x --max-field"),
		OPT_BOOL(0, "strict", &c->strict,
			"ragged rows are errors; stop at malformed input"),
		OPT_BOOL('q', "quiet", &cfg->quiet,
			"no warnings, per-row messages, summary or progress on stderr"),
		OPT_SET(0, "progress", &cfg->progress, PROGRESS_ON,
			"show progress on stderr even when not a terminal"),
		OPT_SET(0, "no-progress", &cfg->progress, PROGRESS_OFF, "never show progress"),
		OPT_END(),
	};
	int operand = opt_parse(&tool, options, argc, argv);

	if (header_list != NULL) {
		if (!c->header_row)
			opt_usage_error(&tool, "--header and --no-header cannot be combined");
		c->nnames = csvconv_split_names(header_list, &c->names, &c->name_lens);
		if (c->nnames == 0)
			opt_usage_error(&tool, "--header needs at least one name");
		c->header_row = false;
	}
	cfg->files = argv + operand;
	cfg->nfiles = argc - operand;
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
	if (cfg->conv.max_row == 0) /* not given */
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
	run->progress.counts.read = run->progress.counts.done = stats->rows + stats->errors;
	run->progress.counts.written = stats->rows + stats->errors;
	run->progress.counts.failed = stats->errors;
	run->progress.counts.bytes = run->bytes_done;
	progress_publish(&run->progress);
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
	struct buf line = BUF_INIT;
	const char *sep = " (";

	buf_printf(&line, "%llu record%s", s->rows + s->errors,
		s->rows + s->errors == 1 ? "" : "s");
	if (s->errors > 0) {
		buf_printf(&line, ", %llu with _error", s->errors);
		for (int e = CSV_ERR_NONE + 1; e < CSV_ERR_COUNT; e++) {
			if (s->by_error[e] == 0)
				continue;
			buf_printf(&line, "%s%s %llu", sep, csvconv_error_code(e), s->by_error[e]);
			sep = ", ";
		}
		buf_putc(&line, ')');
	}
	buf_printf(&line, " in %.2f s", seconds);
	warn("%s", buf_cstr(&line));
	buf_free(&line);
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
	progress_start(&run.progress, cfg->progress, cfg->quiet, NULL, NULL);
	run.progress.counts.total_bytes = inputs_size(files, (size_t)nfiles);
	run.conv = csvconv_new(&cfg->conv, emit_record, &run);
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = convert_input(&run, files[i], block);
	run.progress.counts.total = run.progress.counts.done;
	run.progress.counts.flags |= STAGE_INPUT_DONE;
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
