/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/opt.c: opt_uint and opt_size (accepted values, suffixes, every kind
 * of rejection: exit 64 with a message naming the option), and opt_next over
 * a small option table (short and long options, arguments, operands, "--",
 * unknown options, missing arguments, --help and --version). Everything that
 * may exit runs in a fork()ed child.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "opt.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"
#include "version.h"

#define PROG "test-opt"

/* ---- opt_uint and opt_size ---- */

struct number_call {
	bool size; /* opt_size, else opt_uint */
	const char *option;
	const char *arg;
	unsigned long long min, max;
};

static void
call_number(void *arg)
{
	const struct number_call *c = arg;
	unsigned long long v = c->size ? opt_size(c->option, c->arg, c->min, c->max)
				       : opt_uint(c->option, c->arg, c->min, c->max);

	printf("%llu", v);
}

static void
number_accepts(bool size, const char *arg, unsigned long long min, unsigned long long max,
	unsigned long long want)
{
	struct number_call c = { size, "jobs", arg, min, max };
	struct child_result r;
	char want_text[32];

	snprintf(want_text, sizeof(want_text), "%llu", want);
	run_in_child(call_number, &c, &r);
	if (!ok(r.status == CHILD_RETURNED && strcmp(r.out.data, want_text) == 0 && r.err.len == 0,
		    "%s(\"%s\", %llu..%llu) = %s", size ? "opt_size" : "opt_uint", arg, min, max,
		    want_text))
		printf("#   status %d, stdout '%s', stderr '%s'\n", r.status, r.out.data,
			r.err.data);
	child_result_free(&r);
}

static void
number_rejects(bool size, const char *arg, unsigned long long min, unsigned long long max)
{
	struct number_call c = { size, "max-field", arg, min, max };
	struct child_result r;

	run_in_child(call_number, &c, &r);
	if (!ok(r.status == EXIT_USAGE && r.out.len == 0 &&
			    starts_with(r.err.data, r.err.len, PROG ": ") &&
			    strstr(r.err.data, "--max-field") != NULL &&
			    strchr(r.err.data, '\n') != NULL,
		    "%s rejects '%s' (%llu..%llu): exit 64, message names --max-field",
		    size ? "opt_size" : "opt_uint", arg, min, max))
		printf("#   status %d, stdout '%s', stderr '%s'\n", r.status, r.out.data,
			r.err.data);
	child_result_free(&r);
}

static void
test_numbers(void)
{
	const unsigned long long big = 1ULL << 40, all = ~0ULL;

	number_accepts(false, "1", 1, 100, 1);
	number_accepts(false, "100", 1, 100, 100);
	number_accepts(false, "42", 0, 100, 42);
	number_accepts(false, "0", 0, 100, 0);
	number_accepts(false, "18446744073709551615", 0, all, all);
	number_rejects(false, "", 1, 100);
	number_rejects(false, "-1", 0, 100);
	number_rejects(false, "+1", 0, 100);
	number_rejects(false, " 1", 0, 100);
	number_rejects(false, "1 ", 0, 100);
	number_rejects(false, "12x", 0, 100);
	number_rejects(false, "0x10", 0, 100);
	number_rejects(false, "1.5", 0, 100);
	number_rejects(false, "1k", 0, 100000);
	number_rejects(false, "0", 1, 100);
	number_rejects(false, "101", 1, 100);
	number_rejects(false, "99999999999999999999", 0, all);
	number_rejects(false, "18446744073709551616", 0, all);

	number_accepts(true, "1", 1, big, 1);
	number_accepts(true, "4096", 1, big, 4096);
	number_accepts(true, "1k", 1, big, 1024);
	number_accepts(true, "2K", 1, big, 2048);
	number_accepts(true, "3m", 1, big, 3ULL << 20);
	number_accepts(true, "4M", 1, big, 4ULL << 20);
	number_accepts(true, "5g", 1, big, 5ULL << 30);
	number_accepts(true, "1G", 1, big, 1ULL << 30);
	number_accepts(true, "1M", 1, 1ULL << 20, 1ULL << 20);
	number_accepts(true, "2k", 2048, big, 2048);
	number_accepts(true, "17179869183G", 0, all, 17179869183ULL << 30);
	number_rejects(true, "", 1, big);
	number_rejects(true, "k", 1, big);
	number_rejects(true, "-1", 1, big);
	number_rejects(true, "-1k", 1, big);
	number_rejects(true, "12x", 1, big);
	number_rejects(true, "1KB", 1, big);
	number_rejects(true, "1kk", 1, big);
	number_rejects(true, "1T", 1, big);
	number_rejects(true, "1.5M", 1, big);
	number_rejects(true, "1 k", 1, big);
	number_rejects(true, "0", 1, big);
	number_rejects(true, "0k", 1, big);
	number_rejects(true, "1k", 2048, big);
	number_rejects(true, "1025k", 1, 1ULL << 20);
	number_rejects(true, "2M", 1, 1ULL << 20);
	number_rejects(true, "99999999999999999999", 1, all);
	number_rejects(true, "17179869184G", 0, all); /* 2^64 bytes: overflows */
}

/* ---- opt_next ---- */

enum { OPT_INTO = 256, OPT_STRICT };

static const struct opt_spec test_options[] = {
	{ 'v', "verbose", 'v', NULL, "more messages" },
	{ 'o', "output", 'o', "FILE", "write the records to FILE" },
	{ OPT_INTO, "into", 0, "NAME", "the field to add" },
	{ OPT_STRICT, "strict", 0, NULL, "stop at malformed input" },
	{ 0, NULL, 0, NULL, NULL },
};

static void
test_version(void)
{
	printf("  libtest 9.9.9\n");
}

static const struct opt_tool test_tool = {
	.synopsis = "[options] [FILE...]",
	.summary = "A tool that exists only in a unit test.",
	.options = test_options,
	.version = test_version,
};

/* Split a space-separated command line into a NULL-terminated argv (tokens owned by argv). */
static char **
make_argv(const char *line, int *argc)
{
	char **argv = NULL;
	const char *p = line;
	int n = 0;

	argv = xreallocarray(argv, 1, sizeof(*argv));
	argv[n++] = xstrdup(PROG);
	while (*p != '\0') {
		const char *end = strchr(p, ' ');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		argv = xreallocarray(argv, (size_t)n + 1, sizeof(*argv));
		argv[n++] = xmemdup(p, len);
		p += len;
		if (*p == ' ')
			p++;
	}
	argv = xreallocarray(argv, (size_t)n + 1, sizeof(*argv));
	argv[n] = NULL;
	*argc = n;
	return argv;
}

/* Parse line and print "ID ARG" per option, then "operand X" per operand. */
static void
parse_line(const char *line)
{
	int argc, id;
	char **argv = make_argv(line, &argc);
	char **keep = xreallocarray(NULL, (size_t)argc + 1, sizeof(*keep)); /* getopt permutes */
	struct opt_state st;
	const char *arg;

	memcpy(keep, argv, ((size_t)argc + 1) * sizeof(*keep));
	opt_init(&st, &test_tool, argc, argv);
	while ((id = opt_next(&st, &arg)) != OPT_DONE)
		printf("%d %s\n", id, arg != NULL ? arg : "(null)");
	for (int i = st.operand; i < argc; i++)
		printf("operand %s\n", argv[i]);
	opt_free(&st);
	for (int i = 0; i < argc; i++)
		free(keep[i]);
	free(keep);
	free(argv);
}

static void
parse_in_child(void *arg)
{
	parse_line(arg);
}

/* Two command lines, one after the other, in one process. */
static void
parse_twice_in_child(void *arg)
{
	const char *const *lines = arg;

	parse_line(lines[0]);
	printf("--\n");
	parse_line(lines[1]);
}

static void
parses(const char *line, const char *want)
{
	struct child_result r;

	run_in_child(parse_in_child, (void *)line, &r);
	if (!ok(r.status == CHILD_RETURNED && strcmp(r.out.data, want) == 0 && r.err.len == 0,
		    "opt_next: '%s'", line))
		printf("#   status %d\n#   stdout: %s\n#   want:   %s\n#   stderr: %s\n", r.status,
			r.out.data, want, r.err.data);
	child_result_free(&r);
}

static void
usage_error(const char *line, const char *mention, const char *what)
{
	struct child_result r;

	run_in_child(parse_in_child, (void *)line, &r);
	if (!ok(r.status == EXIT_USAGE && starts_with(r.err.data, r.err.len, PROG ": ") &&
			    strstr(r.err.data, mention) != NULL &&
			    strstr(r.err.data, "usage: " PROG " [options] [FILE...]") != NULL &&
			    strstr(r.err.data, PROG " --help") != NULL,
		    "opt_next: %s '%s': exit 64, message names %s, usage line", what, line,
		    mention))
		printf("#   status %d\n#   stdout: %s\n#   stderr: %s\n", r.status, r.out.data,
			r.err.data);
	child_result_free(&r);
}

static void
test_opt_next(void)
{
	static const char *const twice[] = { "-v -o a x", "--into=b -v y z" };
	struct child_result r;
	char want[512];

	snprintf(want, sizeof(want),
		"118 (null)\n111 out.txt\n%d x\n%d y\n%d (null)\noperand a\noperand b\n", OPT_INTO,
		OPT_INTO, OPT_STRICT);
	parses("-v -o out.txt --into=x --into y --strict a b", want);
	parses("-vo file", "118 (null)\n111 file\n");
	parses("-ofile -v", "111 file\n118 (null)\n");
	parses("--output=f --verbose", "111 f\n118 (null)\n");
	parses("--output -v", "111 -v\n"); /* an argument may look like an option */
	parses("-- -v --strict", "operand -v\noperand --strict\n");
	parses("-v -- -o", "118 (null)\noperand -o\n");
	parses("a -v b", "118 (null)\noperand a\noperand b\n");
	parses("- -v", "118 (null)\noperand -\n");
	parses("", "");
	snprintf(want, sizeof(want), "%d \n", OPT_INTO);
	parses("--into=", want);

	run_in_child(parse_twice_in_child, (void *)twice, &r);
	snprintf(want, sizeof(want),
		"118 (null)\n111 a\noperand x\n--\n%d b\n118 (null)\noperand y\noperand z\n",
		OPT_INTO);
	if (!ok(r.status == CHILD_RETURNED && strcmp(r.out.data, want) == 0,
		    "opt_next: a second opt_init parses a new argv from the start"))
		printf("#   status %d\n#   stdout: %s\n#   stderr: %s\n", r.status, r.out.data,
			r.err.data);
	child_result_free(&r);

	usage_error("-x", "-x", "unknown short option");
	usage_error("-v -q file", "-q", "unknown short option after a known one");
	usage_error("--bogus", "--bogus", "unknown long option");
	usage_error("--bogus=1 file", "--bogus", "unknown long option with a value");
	usage_error("-o", "-o", "missing argument of a short option");
	usage_error("-vo", "'-o'", "missing argument of a short option in a cluster");
	usage_error("--output", "--output", "missing argument of a long option");
	usage_error("-v --into", "--into", "missing argument of a long-only option");
	usage_error("--strict=yes", "--strict", "argument to a flag");
}

static void
test_help_version(void)
{
	static const char *const names[] = { "--verbose", "--output FILE", "--into NAME",
		"--strict", "--help", "--version", "-v, --verbose", "-o, --output", "-h, --help",
		"write the records to FILE", "the field to add", "stop at malformed input",
		"more messages", "usage: " PROG " [options] [FILE...]",
		"A tool that exists only in a unit test." };
	static const char *const helps[] = { "--help", "-h", "--help -v extra" };
	struct child_result r;

	for (size_t h = 0; h < sizeof(helps) / sizeof(*helps); h++) {
		size_t missing = 0;

		run_in_child(parse_in_child, (void *)helps[h], &r);
		is_int(r.status, 0, "'%s' exits 0", helps[h]);
		is_int(r.err.len, 0, "'%s' writes nothing on stderr", helps[h]);
		for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
			if (strstr(r.out.data, names[i]) == NULL) {
				printf("#   missing from --help: '%s'\n", names[i]);
				missing++;
			}
		is_int(missing, 0, "'%s' lists every option of the table on stdout", helps[h]);
		ok(strstr(r.out.data, "118 ") == NULL, "'%s' stops before any option is returned",
			helps[h]);
		child_result_free(&r);
	}

	run_in_child(parse_in_child, (void *)"--version", &r);
	is_int(r.status, 0, "--version exits 0");
	ok(starts_with(r.out.data, r.out.len, PROG " (jlkit) " JLKIT_VERSION "\n"),
		"--version prints the name and the jlkit version first");
	ok(strstr(r.out.data, "  libtest 9.9.9\n") != NULL,
		"--version prints the tool's libraries");
	is_int(r.err.len, 0, "--version writes nothing on stderr");
	child_result_free(&r);
}

int
main(void)
{
	progname = PROG;
	unsetenv("POSIXLY_CORRECT"); /* GNU argument permutation, as the tools get it */
	test_numbers();
	test_opt_next();
	test_help_version();
	return done_testing();
}
