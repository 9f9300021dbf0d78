/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-tool: common/ internals for the shell tests, one subcommand each.
 *
 *   test-tool json-check          every stdin line is one JSON object in valid
 *                                 UTF-8, '\n'-terminated; exit 1 naming the first
 *                                 line that is not
 *   test-tool jsonl [BUFSIZE [MAXLINE]]
 *                                 run the JSONL record reader over stdin and
 *                                 print each record (or error record) compactly,
 *                                 "# unterminated" after a record without '\n'
 */
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "jsonl.h"
#include "out.h"
#include "util.h"

static void
print_jv(jv v)
{
	jv s = jv_dump_string(v, 0);

	out_write(jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	out_write("\n", 1);
	jv_free(s);
}

static int
cmd_json_check(void)
{
	struct input in;
	struct jsonl_reader r;
	enum jsonl_status st;
	jv rec;
	int rc = 0;

	if (input_open(&in, "-") != 0)
		die(EXIT_NOINPUT, "cannot open stdin:");
	jsonl_init(&r, &in, JSONL_MAX_LINE);
	while ((st = jsonl_next(&r, &rec)) > 0) {
		if (st == JSONL_BAD) {
			jv msg = jv_object_get(jv_object_get(rec, jv_string("_error")),
				jv_string("message"));

			warn("%s", jv_string_value(msg));
			jv_free(msg);
			rc = 1;
			break;
		}
		if (r.unterminated) {
			warn("line %lu: no final newline", jsonl_lineno(&r));
			rc = 1;
		}
		jv_free(rec);
	}
	if (st == JSONL_IOERR)
		die(EXIT_IOERR, "read error:");
	jsonl_free(&r);
	return rc;
}

/* A size given to a subcommand: from 1 to 2^30. */
static size_t
size_arg(const char *what, const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (end == arg || *end != '\0' || v < 1 || v > 1UL << 30)
		die(EXIT_USAGE, "bad %s '%s': expected 1 to 2^30", what, arg);
	return v;
}

static int
cmd_jsonl(int argc, char **argv)
{
	struct input in;
	struct jsonl_reader r;
	enum jsonl_status st;
	size_t bufsize = argc > 2 ? size_arg("bufsize", argv[2]) : 65536;
	size_t max_line = argc > 3 ? size_arg("max-line", argv[3]) : JSONL_MAX_LINE;
	jv rec;

	if (input_open(&in, "-") != 0)
		die(EXIT_NOINPUT, "cannot open stdin:");
	jsonl_init(&r, &in, max_line);
	linereader_free(&r.lines);
	linereader_init(&r.lines, &in, bufsize, max_line);
	while ((st = jsonl_next(&r, &rec)) > 0) {
		print_jv(rec);
		if (r.unterminated)
			out_write("# unterminated\n", 15);
	}
	if (st == JSONL_IOERR)
		die(EXIT_IOERR, "read error:");
	jsonl_free(&r);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	tool_init(argv[0]);
	out_init();
	if (argc < 2)
		die(EXIT_USAGE, "usage: test-tool json-check | jsonl [BUFSIZE [MAXLINE]]");
	if (strcmp(argv[1], "json-check") == 0)
		rc = cmd_json_check();
	else if (strcmp(argv[1], "jsonl") == 0)
		rc = cmd_jsonl(argc, argv);
	else
		die(EXIT_USAGE, "unknown subcommand '%s'", argv[1]);
	return out_close(rc);
}
