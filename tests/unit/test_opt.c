/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/opt.c: opt_parse over declared options. Every kind's values (what
 * each accepts and stores, its range, every kind of rejection: exit 64 with
 * "invalid value 'ARG' for --NAME: expected ..." and the usage lines), the
 * width of the integer fields, a command line of many options (short and
 * long, clusters, "=", abbreviations, "--", operands, the last of a
 * repeated option, flags that set a value, callbacks), unknown options and
 * missing arguments, --help with its generated defaults, --version, and the
 * tables opt_parse refuses as bugs. Everything that may exit runs in a
 * fork()ed child.
 */
#include <inttypes.h>
#include <signal.h>
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
#define USAGE_LINES                                                                                \
	"usage: " PROG " [options] [FILE...]\ntry '" PROG " --help' for more information\n"

static void
test_version(void)
{
	printf("  libtest 9.9.9\n");
}

static const struct opt_tool test_tool = {
	.synopsis = "[options] [FILE...]",
	.summary = "A tool that exists only in a unit test.",
	.version = test_version,
};

/* Split a space-separated command line into a NULL-terminated argv (never freed: children). */
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

static void
show(const char *what, const struct child_result *r)
{
	printf("#   %s: status %d\n#   stdout: %s\n#   stderr: %s\n", what, r->status, r->out.data,
		r->err.data);
}

/* ---- one option of each kind: what it accepts, stores and rejects ---- */

struct value_call {
	enum opt_kind kind;
	unsigned long long min, max;
	double dmin, dmax;
	const char *arg;
};

static const char *
kind_option(enum opt_kind kind)
{
	switch (kind) {
	case OPT_KIND_UINT:
		return "jobs";
	case OPT_KIND_SIZE:
		return "max-field";
	case OPT_KIND_USD:
		return "budget";
	case OPT_KIND_NUMBER:
		return "ratio";
	case OPT_KIND_SECONDS:
		return "timeout";
	default:
		return "into";
	}
}

/* Parse "--NAME ARG" with one option of c's kind; print what it stored. */
static void
parse_value(void *arg)
{
	const struct value_call *c = arg;
	unsigned long long u = 7;
	int64_t micro = 7;
	double d = 7;
	long ms = 7;
	const char *s = "unset", *name = kind_option(c->kind);
	struct opt options[] = {
		OPT_UINT(0, "jobs", &u, c->min, c->max, "N", "jobs", NULL),
		OPT_SIZE(0, "max-field", &u, c->min, c->max, "BYTES", "largest field", NULL),
		OPT_USD(0, "budget", &micro, "USD", "the budget", NULL),
		OPT_NUMBER(0, "ratio", &d, c->dmin, c->dmax, "X", "a ratio", NULL),
		OPT_SECONDS(0, "timeout", &ms, c->dmin, c->dmax, "SECS", "per attempt", NULL),
		OPT_NAME(0, "into", &s, "NAME", "the field to add", NULL),
		OPT_END(),
	};
	char opt_arg[64];
	char prog[] = PROG;
	char *argv[] = { prog, opt_arg, (char *)c->arg, NULL };

	snprintf(opt_arg, sizeof(opt_arg), "--%s", name);
	opt_parse(&test_tool, options, 3, argv);
	switch (c->kind) {
	case OPT_KIND_USD:
		printf("%" PRId64, micro);
		break;
	case OPT_KIND_NUMBER:
		printf("%.17g", d);
		break;
	case OPT_KIND_SECONDS:
		printf("%ld", ms);
		break;
	case OPT_KIND_STRING:
		printf("%s", s);
		break;
	default:
		printf("%llu", u);
	}
}

static void
accepts(struct value_call c, const char *want)
{
	struct child_result r;

	run_in_child(parse_value, &c, &r);
	if (!ok(r.status == CHILD_RETURNED && strcmp(r.out.data, want) == 0 && r.err.len == 0,
		    "--%s '%s' gives %s", kind_option(c.kind), c.arg, want))
		show("accepts", &r);
	child_result_free(&r);
}

/* Rejected with exit 64: the message (after "PROG: "), then the usage lines. */
static void
rejects(struct value_call c, const char *message)
{
	struct child_result r;
	struct buf want = BUF_INIT;

	buf_puts(&want, PROG ": ");
	buf_puts(&want, message);
	buf_puts(&want, "\n" USAGE_LINES);
	run_in_child(parse_value, &c, &r);
	if (!ok(r.status == EXIT_USAGE && r.out.len == 0 &&
			    strcmp(r.err.data, buf_cstr(&want)) == 0,
		    "--%s '%s' is refused: %s", kind_option(c.kind), c.arg, message))
		show("rejects", &r);
	child_result_free(&r);
	buf_free(&want);
}

/* The message of a bad whole number for --jobs min..max. */
static const char *
bad_uint(const char *arg, unsigned long long min, unsigned long long max)
{
	static char text[256];

	snprintf(text, sizeof(text),
		"invalid value '%s' for --jobs: expected a whole number from %llu to %llu", arg,
		min, max);
	return text;
}

static const char *
bad_size(const char *arg, unsigned long long min, unsigned long long max)
{
	static char text[256];

	snprintf(text, sizeof(text),
		"invalid value '%s' for --max-field: expected a size from %llu to %llu bytes, "
		"such as 4096, 64K or 16M",
		arg, min, max);
	return text;
}

static void
uint_ok(const char *arg, unsigned long long min, unsigned long long max, const char *want)
{
	accepts((struct value_call){ OPT_KIND_UINT, min, max, 0, 0, arg }, want);
}

static void
uint_bad(const char *arg, unsigned long long min, unsigned long long max)
{
	rejects((struct value_call){ OPT_KIND_UINT, min, max, 0, 0, arg }, bad_uint(arg, min, max));
}

static void
size_ok(const char *arg, unsigned long long min, unsigned long long max, const char *want)
{
	accepts((struct value_call){ OPT_KIND_SIZE, min, max, 0, 0, arg }, want);
}

static void
size_bad(const char *arg, unsigned long long min, unsigned long long max)
{
	rejects((struct value_call){ OPT_KIND_SIZE, min, max, 0, 0, arg }, bad_size(arg, min, max));
}

static void
test_uint_and_size(void)
{
	const unsigned long long big = 1ULL << 40, all = ~0ULL;

	uint_ok("1", 1, 100, "1");
	uint_ok("100", 1, 100, "100");
	uint_ok("42", 0, 100, "42");
	uint_ok("0", 0, 100, "0");
	uint_ok("007", 0, 100, "7");
	uint_ok("18446744073709551615", 0, all, "18446744073709551615");
	uint_bad("", 1, 100);
	uint_bad("-1", 0, 100);
	uint_bad("+1", 0, 100);
	uint_bad(" 1", 0, 100);
	uint_bad("1 ", 0, 100);
	uint_bad("12x", 0, 100);
	uint_bad("0x10", 0, 100);
	uint_bad("1.5", 0, 100);
	uint_bad("1e3", 0, 100000);
	uint_bad("1k", 0, 100000);
	uint_bad("0", 1, 100);
	uint_bad("101", 1, 100);
	uint_bad("99999999999999999999", 0, all);
	uint_bad("18446744073709551616", 0, all);

	size_ok("1", 1, big, "1");
	size_ok("4096", 1, big, "4096");
	size_ok("1k", 1, big, "1024");
	size_ok("2K", 1, big, "2048");
	size_ok("3m", 1, big, "3145728");
	size_ok("4M", 1, big, "4194304");
	size_ok("5g", 1, big, "5368709120");
	size_ok("1G", 1, big, "1073741824");
	size_ok("1M", 1, 1ULL << 20, "1048576");
	size_ok("2k", 2048, big, "2048");
	size_ok("17179869183G", 0, all, "18446744072635809792");
	size_bad("", 1, big);
	size_bad("k", 1, big);
	size_bad("-1", 1, big);
	size_bad("-1k", 1, big);
	size_bad("12x", 1, big);
	size_bad("1KB", 1, big);
	size_bad("1kk", 1, big);
	size_bad("1T", 1, big);
	size_bad("1.5M", 1, big);
	size_bad("1 k", 1, big);
	size_bad("0", 1, big);
	size_bad("0k", 1, big);
	size_bad("1k", 2048, big);
	size_bad("1025k", 1, 1ULL << 20);
	size_bad("2M", 1, 1ULL << 20);
	size_bad("99999999999999999999", 1, all);
	size_bad("17179869184G", 0, all); /* 2^64 bytes: overflows */
}

static void
usd_ok(const char *arg, const char *want)
{
	accepts((struct value_call){ OPT_KIND_USD, 0, 0, 0, 0, arg }, want);
}

static void
usd_bad(const char *arg)
{
	char text[256];

	snprintf(text, sizeof(text),
		"invalid amount '%s' for --budget: expected USD, e.g. 5 or 0.25", arg);
	rejects((struct value_call){ OPT_KIND_USD, 0, 0, 0, 0, arg }, text);
}

static void
number_ok(bool seconds, const char *arg, double min, double max, const char *want)
{
	accepts((struct value_call){ seconds ? OPT_KIND_SECONDS : OPT_KIND_NUMBER, 0, 0, min, max,
			arg },
		want);
}

static void
number_bad(bool seconds, const char *arg, double min, double max)
{
	char text[256];

	snprintf(text, sizeof(text),
		"invalid value '%s' for --%s: expected a number %sfrom %g to %g", arg,
		seconds ? "timeout" : "ratio", seconds ? "of seconds " : "", min, max);
	rejects((struct value_call){ seconds ? OPT_KIND_SECONDS : OPT_KIND_NUMBER, 0, 0, min, max,
			arg },
		text);
}

static void
test_usd_number_seconds(void)
{
	usd_ok("5", "5000000");
	usd_ok("0.25", "250000");
	usd_ok("0", "0");
	usd_ok("0.000001", "1");
	usd_ok("12.3456789", "12345679"); /* to the nearest micro-dollar */
	usd_ok("999999999.99", "999999999990000");
	usd_bad("");
	usd_bad("lots");
	usd_bad("-1");
	usd_bad("5$");
	usd_bad("$5");
	usd_bad("1e9");
	usd_bad("nan");
	usd_bad("inf");

	number_ok(false, "0", 0, 2, "0");
	number_ok(false, "2", 0, 2, "2");
	number_ok(false, "1.5", 0, 2, "1.5");
	number_ok(false, "1e-3", 0, 2, "0.001");
	number_ok(false, "10000000", 0, 1e7, "10000000");
	number_bad(false, "", 0, 2);
	number_bad(false, "x", 0, 2);
	number_bad(false, "1,5", 0, 2);
	number_bad(false, "1.5x", 0, 2);
	number_bad(false, "2.0001", 0, 2);
	number_bad(false, "-0.1", 0, 2);
	number_bad(false, "nan", 0, 2);
	number_bad(false, "inf", 0, 1e300);

	number_ok(true, "120", 0.001, 86400, "120000");
	number_ok(true, "0.001", 0.001, 86400, "1");
	number_ok(true, "0.29", 0.001, 86400, "290"); /* rounded, not cut to 289 */
	number_ok(true, "1.5", 0.001, 86400, "1500");
	number_ok(true, "86400", 0.001, 86400, "86400000");
	number_ok(true, "0", 0, 86400, "0");
	number_bad(true, "0", 0.001, 86400);
	number_bad(true, "86401", 0.001, 86400);
	number_bad(true, "-1", 0, 86400);
	number_bad(true, "1s", 0, 86400);
	number_bad(true, "", 0, 86400);

	accepts((struct value_call){ OPT_KIND_STRING, 0, 0, 0, 0, "x" }, "x");
	accepts((struct value_call){ OPT_KIND_STRING, 0, 0, 0, 0, "-" }, "-");
	rejects((struct value_call){ OPT_KIND_STRING, 0, 0, 0, 0, "" },
		"invalid value '' for --into: expected a non-empty NAME");
}

/* ---- integer fields of every width: the value lands in the field, its neighbours kept ---- */

#define GUARDED(type)                                                                              \
	struct {                                                                                   \
		type lo, v, hi;                                                                    \
	}

static void
parse_widths(void *arg)
{
	GUARDED(uint8_t) g8 = { 0xaa, 0, 0xaa };
	GUARDED(uint16_t) g16 = { 0xaaaa, 0, 0xaaaa };
	GUARDED(uint32_t) g32 = { 0xaaaaaaaa, 0, 0xaaaaaaaa };
	GUARDED(uint64_t) g64 = { ~0ULL, 0, ~0ULL };
	long signed_long = -1;
	int set_int = 5;
	struct opt options[] = {
		OPT_UINT(0, "u8", &g8.v, 0, UINT8_MAX, "N", "8 bits", NULL),
		OPT_UINT(0, "u16", &g16.v, 0, UINT16_MAX, "N", "16 bits", NULL),
		OPT_UINT(0, "u32", &g32.v, 0, UINT32_MAX, "N", "32 bits", NULL),
		OPT_SIZE(0, "u64", &g64.v, 0, ~0ULL, "N", "64 bits", NULL),
		OPT_UINT(0, "long", &signed_long, 0, 1000, "N", "a long that starts at -1", NULL),
		OPT_SET(0, "minus", &set_int, -1, "a flag that stores -1"),
		OPT_END(),
	};
	int argc;
	char **argv = make_argv(arg, &argc);

	opt_parse(&test_tool, options, argc, argv);
	printf("%d %d %d|%d %d %d|%lu %lu %lu|%llu %d %d|%ld %d\n", g8.lo, g8.v, g8.hi, g16.lo,
		g16.v, g16.hi, (unsigned long)g32.lo, (unsigned long)g32.v, (unsigned long)g32.hi,
		(unsigned long long)g64.v, g64.lo == ~0ULL, g64.hi == ~0ULL, signed_long, set_int);
}

static void
test_widths(void)
{
	struct child_result r;

	run_in_child(parse_widths,
		(void *)"--u8 255 --u16 65535 --u32 4294967295 --u64 16G --long 1000 --minus", &r);
	is_str(r.out.data,
		"170 255 170|43690 65535 43690|2863311530 4294967295 2863311530|17179869184 1 "
		"1|1000 "
		"-1\n",
		"each integer field gets its value, whatever its width; the fields around it are "
		"kept");
	child_result_free(&r);
	run_in_child(parse_widths, (void *)"--u8 256", &r);
	ok(r.status == EXIT_USAGE &&
			strstr(r.err.data,
				"invalid value '256' for --u8: expected a whole number "
				"from 0 to 255") != NULL,
		"a value past the range of an 8-bit field is refused");
	child_result_free(&r);
}

/* ---- a command line of many options ---- */

enum mode { MODE_A, MODE_B, MODE_C };

struct config {
	bool verbose, strict;
	const char *output, *into;
	int jobs;
	enum mode mode;
	struct buf seen; /* what the callbacks saw */
	const char *domains[2];
	size_t ndomains;
};

static const char *
add_tag(const struct opt *o, const char *arg)
{
	struct config *c = o->value;

	if (strcmp(arg, "bad") == 0)
		return "expected a good tag";
	buf_puts(&c->seen, "tag=");
	buf_puts(&c->seen, arg);
	buf_putc(&c->seen, ';');
	return NULL;
}

static const char *
ping(const struct opt *o, const char *arg)
{
	struct config *c = o->value;

	if (arg != NULL)
		return "expected no argument";
	if (strstr(buf_cstr(&c->seen), "ping") != NULL)
		return "only once";
	buf_puts(&c->seen, "ping;");
	return NULL;
}

/* Parse line with the test table; print the configuration, then each operand. */
static void
parse_line(const char *line)
{
	struct config c = { .into = "x", .jobs = 4, .seen = BUF_INIT };
	struct opt options[] = {
		OPT_BOOL('v', "verbose", &c.verbose, "more messages"),
		OPT_STRING('o', "output", &c.output, "FILE", "write the records to FILE", NULL),
		OPT_NAME(0, "into", &c.into, "NAME", "the field to add", "x"),
		OPT_UINT('j', "jobs", &c.jobs, 1, 64, "N", "jobs at once", "4"),
		OPT_SET('b', "mode-b", &c.mode, MODE_B, "mode b"),
		OPT_SET(0, "mode-c", &c.mode, MODE_C, "mode c"),
		OPT_CALLBACK('t', "tag", &c, "TAG", "add a tag (repeatable)", NULL, add_tag),
		OPT_CALLBACK(0, "ping", &c, NULL, "a callback without an argument", NULL, ping),
		OPT_BOOL(0, "strict", &c.strict, "stop at malformed input"),
		OPT_LIST('d', "domain", c.domains, &c.ndomains, 2, "DOMAIN",
			"a domain (repeatable)"),
		OPT_UINT(0, "a-long-option-name", &c.jobs, 1, 64, "N", "its help goes below",
			"the jobs'"),
		OPT_END(),
	};
	int argc, first;
	char **argv = make_argv(line, &argc);

	first = opt_parse(&test_tool, options, argc, argv);
	printf("v=%d o=%s into=%s j=%d mode=%d strict=%d seen=%s first=%d\n", c.verbose,
		c.output != NULL ? c.output : "(null)", c.into, c.jobs, (int)c.mode, c.strict,
		buf_cstr(&c.seen), first);
	for (size_t i = 0; i < c.ndomains; i++)
		printf("domain %s\n", c.domains[i]);
	for (int i = first; i < argc; i++)
		printf("operand %s\n", argv[i]);
	buf_free(&c.seen);
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
	parse_line(lines[1]);
}

#define DEFAULTS "v=0 o=(null) into=x j=4 mode=0 strict=0 seen="

static void
parses(const char *line, const char *want)
{
	struct child_result r;

	run_in_child(parse_in_child, (void *)line, &r);
	if (!ok(r.status == CHILD_RETURNED && strcmp(r.out.data, want) == 0 && r.err.len == 0,
		    "opt_parse: '%s'", line))
		printf("#   status %d\n#   stdout: %s\n#   want:   %s\n#   stderr: %s\n", r.status,
			r.out.data, want, r.err.data);
	child_result_free(&r);
}

/* Exit 64, nothing on stdout, stderr is exactly "PROG: message" and the usage lines. */
static void
usage_error(const char *line, const char *message)
{
	struct child_result r;
	struct buf want = BUF_INIT;

	buf_puts(&want, PROG ": ");
	buf_puts(&want, message);
	buf_puts(&want, "\n" USAGE_LINES);
	run_in_child(parse_in_child, (void *)line, &r);
	if (!ok(r.status == EXIT_USAGE && r.out.len == 0 &&
			    strcmp(r.err.data, buf_cstr(&want)) == 0,
		    "opt_parse: '%s': exit 64, \"%s\", the usage lines", line, message))
		show("usage error", &r);
	child_result_free(&r);
	buf_free(&want);
}

static void
test_command_lines(void)
{
	static const char *const twice[] = { "-v -o a -j 9 x", "--into=b y z" };
	struct child_result r;

	parses("", DEFAULTS " first=1\n");
	parses("-v -o out.txt --into=x2 --into y -j 8 --strict a b",
		"v=1 o=out.txt into=y j=8 mode=0 strict=1 seen= first=10\noperand a\noperand b\n");
	parses("-vo file", "v=1 o=file into=x j=4 mode=0 strict=0 seen= first=3\n");
	parses("-ofile -v", "v=1 o=file into=x j=4 mode=0 strict=0 seen= first=3\n");
	parses("-vj16", "v=1 o=(null) into=x j=16 mode=0 strict=0 seen= first=2\n");
	parses("--output=f --verbose", "v=1 o=f into=x j=4 mode=0 strict=0 seen= first=3\n");
	parses("--output -v", "v=0 o=-v into=x j=4 mode=0 strict=0 seen= first=3\n");
	parses("--verb --out f", "v=1 o=f into=x j=4 mode=0 strict=0 seen= first=4\n");
	parses("-- -v --strict", DEFAULTS " first=2\noperand -v\noperand --strict\n");
	parses("-v -- -o", "v=1 o=(null) into=x j=4 mode=0 strict=0 seen= first=3\noperand -o\n");
	parses("a -v b",
		"v=1 o=(null) into=x j=4 mode=0 strict=0 seen= first=2\noperand a\n"
		"operand b\n");
	parses("- -v", "v=1 o=(null) into=x j=4 mode=0 strict=0 seen= first=2\noperand -\n");
	parses("-j 2 --jobs=3", "v=0 o=(null) into=x j=3 mode=0 strict=0 seen= first=4\n");
	parses("-j 64", "v=0 o=(null) into=x j=64 mode=0 strict=0 seen= first=3\n");
	parses("--mode-c", "v=0 o=(null) into=x j=4 mode=2 strict=0 seen= first=2\n");
	parses("--mode-c -b", "v=0 o=(null) into=x j=4 mode=1 strict=0 seen= first=3\n");
	parses("-b --mode-c", "v=0 o=(null) into=x j=4 mode=2 strict=0 seen= first=3\n");
	parses("-t one --tag=two -tthree",
		"v=0 o=(null) into=x j=4 mode=0 strict=0 seen=tag=one;tag=two;tag=three; "
		"first=5\n");
	parses("--ping -t a", "v=0 o=(null) into=x j=4 mode=0 strict=0 seen=ping;tag=a; first=4\n");
	parses("-d a.com --domain=b.org x",
		DEFAULTS " first=4\ndomain a.com\ndomain b.org\noperand x\n");
	usage_error("-d a -d b -d c", "invalid value 'c' for --domain: at most 2 of them");
	usage_error("--domain=", "invalid value '' for --domain: expected a non-empty DOMAIN");

	run_in_child(parse_twice_in_child, (void *)twice, &r);
	is_str(r.out.data,
		"v=1 o=a into=x j=9 mode=0 strict=0 seen= first=6\noperand x\n"
		"v=0 o=(null) into=b j=4 mode=0 strict=0 seen= first=2\noperand y\noperand z\n",
		"a second opt_parse in one process parses its argv from the start");
	child_result_free(&r);

	usage_error("-x", "unknown option '-x'");
	usage_error("-v -q file", "unknown option '-q'");
	usage_error("-vq", "unknown option '-q'");
	usage_error("--bogus", "unknown option '--bogus'");
	usage_error("--bogus=1 file", "unknown option '--bogus=1'");
	usage_error("--mode", "unknown option '--mode'"); /* ambiguous: --mode-b or --mode-c */
	usage_error("-o", "option '-o' needs an argument");
	usage_error("-vo", "option '-o' needs an argument");
	usage_error("--output", "option '--output' needs an argument");
	usage_error("-v --into", "option '--into' needs an argument");
	usage_error("--strict=yes", "option '--strict' takes no argument");
	usage_error("--ping=1", "option '--ping' takes no argument");
	usage_error("-j 0", "invalid value '0' for --jobs: expected a whole number from 1 to 64");
	usage_error("--jobs=65",
		"invalid value '65' for --jobs: expected a whole number from 1 to 64");
	usage_error("-j x a", "invalid value 'x' for --jobs: expected a whole number from 1 to 64");
	usage_error("--into=", "invalid value '' for --into: expected a non-empty NAME");
	usage_error("-t one -t bad", "invalid value 'bad' for --tag: expected a good tag");
	usage_error("--ping --ping", "--ping: only once");
}

/* ---- --help and --version ---- */

static const char help_text[] =
	"usage: " PROG " [options] [FILE...]\n"
	"A tool that exists only in a unit test.\n"
	"\n"
	"options:\n"
	"  -v, --verbose             more messages\n"
	"  -o, --output FILE         write the records to FILE\n"
	"      --into NAME           the field to add (default x)\n"
	"  -j, --jobs N              jobs at once (default 4)\n"
	"  -b, --mode-b              mode b\n"
	"      --mode-c              mode c\n"
	"  -t, --tag TAG             add a tag (repeatable)\n"
	"      --ping                a callback without an argument\n"
	"      --strict              stop at malformed input\n"
	"  -d, --domain DOMAIN       a domain (repeatable)\n"
	"      --a-long-option-name N\n"
	"                            its help goes below (default the jobs')\n"
	"  -h, --help                show this help and exit\n"
	"      --version             show the version and the libraries, and exit\n"
	"\n"
	"See " PROG "(1) for the details.\n";

static void
test_help_version(void)
{
	static const char *const helps[] = { "--help", "-h", "--he", "-v --help -j 0 extra",
		"-vh" };
	struct child_result r;

	for (size_t h = 0; h < sizeof(helps) / sizeof(*helps); h++) {
		run_in_child(parse_in_child, (void *)helps[h], &r);
		is_int(r.status, 0, "'%s' exits 0", helps[h]);
		is_int(r.err.len, 0, "'%s' writes nothing on stderr", helps[h]);
		is_str(r.out.data, help_text,
			"'%s' prints every option, its argument, its help and its declared default",
			helps[h]);
		child_result_free(&r);
	}

	run_in_child(parse_in_child, (void *)"--version -j 0", &r);
	is_int(r.status, 0, "--version exits 0");
	ok(starts_with(r.out.data, r.out.len, PROG " (jlkit) " JLKIT_VERSION "\n"),
		"--version prints the name and the jlkit version first");
	ok(strstr(r.out.data, "  libtest 9.9.9\n") != NULL,
		"--version prints the tool's libraries");
	is_int(r.err.len, 0, "--version writes nothing on stderr");
	child_result_free(&r);
}

/* ---- tables that contradict themselves: a bug, reported and aborted ---- */

enum table_bug {
	BUG_NONE,
	BUG_SAME_LETTER,
	BUG_SAME_NAME,
	BUG_H,
	BUG_TOO_WIDE,
	BUG_EMPTY_RANGE,
	BUG_EMPTY_NUMBER_RANGE,
	BUG_NO_ARGNAME,
	BUG_FLAG_ARGNAME,
	BUG_NO_CALLBACK,
	BUG_UINT_DEFAULT,
	BUG_SIZE_DEFAULT,
	BUG_USD_DEFAULT,
	BUG_NUMBER_DEFAULT,
	BUG_SECONDS_DEFAULT,
};

static void
parse_table(void *arg)
{
	enum table_bug bug = (enum table_bug)(intptr_t)arg;
	uint8_t small = 0;
	unsigned jobs = 8, other = 0;
	size_t size = 16 << 20;
	int64_t micro = 8000;
	double rpm = 0;
	long ms = 120000;
	bool flag = false;
	const char *s = NULL;
	struct opt options[] = {
		OPT_UINT('j', "jobs", &jobs, 1, 1024, "N", "requests in flight", "8"),
		OPT_SIZE(0, "max-field", &size, 1, 1ULL << 40, "BYTES", "largest field", "16M"),
		OPT_USD(0, "credit-price", &micro, "USD", "a credit", "0.008"),
		OPT_NUMBER(0, "rpm", &rpm, 0, 1e7, "N", "requests a minute", "0"),
		OPT_SECONDS(0, "timeout", &ms, 0.001, 86400, "SECS", "per attempt", "120"),
		OPT_STRING(0, "db", &s, "FILE", "the database", "$JL_DB"),
		OPT_UINT(0, "retries", &other, 0, 100, "N", "retries", "none"), /* prose */
		OPT_END(), /* the bug goes here */
		OPT_END(),
	};
	struct opt *extra = &options[7];
	char prog[] = PROG;
	char *argv[] = { prog, NULL };

	switch (bug) {
	case BUG_NONE:
		break;
	case BUG_SAME_LETTER:
		*extra = (struct opt)OPT_BOOL('j', "json", &flag, "JSON");
		break;
	case BUG_SAME_NAME:
		*extra = (struct opt)OPT_BOOL(0, "rpm", &flag, "again");
		break;
	case BUG_H:
		*extra = (struct opt)OPT_BOOL('h', "human", &flag, "-h is --help");
		break;
	case BUG_TOO_WIDE:
		*extra = (struct opt)OPT_UINT(0, "small", &small, 0, 256, "N", "8 bits", NULL);
		break;
	case BUG_EMPTY_RANGE:
		*extra = (struct opt)OPT_UINT(0, "small", &small, 2, 1, "N", "nothing fits", NULL);
		break;
	case BUG_EMPTY_NUMBER_RANGE:
		*extra = (struct opt)OPT_NUMBER(0, "ratio", &rpm, 1, 0, "X", "nothing fits", NULL);
		break;
	case BUG_NO_ARGNAME:
		*extra = (struct opt)OPT_STRING(0, "log", &s, NULL, "no argument name", NULL);
		break;
	case BUG_FLAG_ARGNAME:
		*extra = (struct opt)OPT_BOOL(0, "json", &flag, "a flag");
		extra->argname = "X";
		break;
	case BUG_NO_CALLBACK:
		*extra =
			(struct opt)OPT_CALLBACK(0, "tag", &flag, "TAG", "no callback", NULL, NULL);
		break;
	case BUG_UINT_DEFAULT:
		options[0].defval = "7";
		break;
	case BUG_SIZE_DEFAULT:
		options[1].defval = "16K";
		break;
	case BUG_USD_DEFAULT:
		options[2].defval = "0.009";
		break;
	case BUG_NUMBER_DEFAULT:
		options[3].defval = "60";
		break;
	case BUG_SECONDS_DEFAULT:
		options[4].defval = "60";
		break;
	}
	printf("first=%d\n", opt_parse(&test_tool, options, 1, argv));
}

static void
table_bug(enum table_bug bug, const char *option, const char *what)
{
	struct child_result r;
	char want[128];

	snprintf(want, sizeof(want), PROG ": BUG in the option table: --%s: ", option);
	run_in_child(parse_table, (void *)(intptr_t)bug, &r);
	if (!ok(r.status == 128 + SIGABRT && r.out.len == 0 &&
			    starts_with(r.err.data, r.err.len, want),
		    "a table with %s: '%s...', abort", what, want))
		show("table", &r);
	child_result_free(&r);
}

static void
test_table_bugs(void)
{
	struct child_result r;

	run_in_child(parse_table, (void *)(intptr_t)BUG_NONE, &r);
	if (!ok(r.status == CHILD_RETURNED && strcmp(r.out.data, "first=1\n") == 0 &&
			    r.err.len == 0,
		    "a table whose declared defaults are the fields' values (or prose) parses"))
		show("table", &r);
	child_result_free(&r);
	table_bug(BUG_SAME_LETTER, "json", "two options of one letter");
	table_bug(BUG_SAME_NAME, "rpm", "two options of one name");
	table_bug(BUG_H, "human", "-h, which is --help");
	table_bug(BUG_TOO_WIDE, "small", "a range wider than the field");
	table_bug(BUG_EMPTY_RANGE, "small", "an empty range");
	table_bug(BUG_EMPTY_NUMBER_RANGE, "ratio", "an empty range of numbers");
	table_bug(BUG_NO_ARGNAME, "log", "an argument without a name");
	table_bug(BUG_FLAG_ARGNAME, "json", "a flag with an argument's name");
	table_bug(BUG_NO_CALLBACK, "tag", "a callback option without its callback");
	table_bug(BUG_UINT_DEFAULT, "jobs", "a whole number's shown default that is not its value");
	table_bug(BUG_SIZE_DEFAULT, "max-field", "a size's shown default that is not its value");
	table_bug(BUG_USD_DEFAULT, "credit-price",
		"an amount's shown default that is not its value");
	table_bug(BUG_NUMBER_DEFAULT, "rpm", "a number's shown default that is not its value");
	table_bug(BUG_SECONDS_DEFAULT, "timeout", "a time's shown default that is not its value");
}

int
main(void)
{
	progname = PROG;
	unsetenv("POSIXLY_CORRECT"); /* GNU argument permutation, as the tools get it */
	test_uint_and_size();
	test_usd_number_seconds();
	test_widths();
	test_command_lines();
	test_help_version();
	test_table_bugs();
	return done_testing();
}
