/* SPDX-License-Identifier: BSD-2-Clause */
/* Declared options: the table's checks, getopt_long, the values, generated --help. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"
#include "util.h"
#include "version.h"

/* getopt_long's values: a table's entry i is VAL_FIRST + i. */
enum { VAL_HELP = 'h', VAL_VERSION = 1, VAL_FIRST = 256 };

static const struct opt builtin_options[] = {
	OPT_BOOL('h', "help", (bool *)NULL, "show this help and exit"),
	OPT_BOOL(0, "version", (bool *)NULL, "show the version and the libraries, and exit"),
};

/* A value of an option of a number kind, as convert reads it. */
union value {
	unsigned long long u; /* UINT, SIZE */
	int64_t micro;        /* USD */
	double d;             /* NUMBER */
	long ms;              /* SECONDS */
};

void
opt_usage_error(const struct opt_tool *tool, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: %s %s\ntry '%s --help' for more information\n", progname,
		tool->synopsis, progname);
	exit(EXIT_USAGE);
}

static JL_NORETURN void
bug(const struct opt *o, const char *what)
{
	fprintf(stderr, "%s: BUG in the option table: --%s: %s\n", progname, o->name, what);
	abort();
}

static bool
takes_argument(const struct opt *o)
{
	return o->kind != OPT_KIND_FLAG && (o->kind != OPT_KIND_CALLBACK || o->argname != NULL);
}

static bool
is_integer_kind(enum opt_kind kind)
{
	return kind == OPT_KIND_FLAG || kind == OPT_KIND_UINT || kind == OPT_KIND_SIZE;
}

static void
store_int(const struct opt *o, unsigned long long v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;
	uint64_t u64 = v;

	switch (o->size) {
	case 1:
		memcpy(o->value, &u8, 1);
		break;
	case 2:
		memcpy(o->value, &u16, 2);
		break;
	case 4:
		memcpy(o->value, &u32, 4);
		break;
	default:
		memcpy(o->value, &u64, 8);
	}
}

static unsigned long long
load_int(const struct opt *o)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (o->size) {
	case 1:
		memcpy(&u8, o->value, 1);
		return u8;
	case 2:
		memcpy(&u16, o->value, 2);
		return u16;
	case 4:
		memcpy(&u32, o->value, 4);
		return u32;
	default:
		memcpy(&u64, o->value, 8);
		return u64;
	}
}

/* Digits only (no sign, no space); *end gets what follows them. */
static bool
parse_whole(const char *arg, unsigned long long *v, char **end)
{
	if (!isdigit((unsigned char)arg[0]))
		return false;
	errno = 0;
	*v = strtoull(arg, end, 10);
	return errno == 0;
}

/* Whole bytes with an optional K, M or G (powers of 1024). */
static bool
parse_size(const char *arg, unsigned long long *v)
{
	char *end;
	unsigned shift = 0;

	if (!parse_whole(arg, v, &end))
		return false;
	switch (*end) {
	case '\0':
		return true;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return false;
	}
	if (end[1] != '\0' || *v > ~0ULL >> shift)
		return false;
	*v <<= shift;
	return true;
}

static bool
parse_decimal(const char *arg, double *v)
{
	char *end;

	*v = strtod(arg, &end);
	return end != arg && *end == '\0';
}

/* arg as a value of o's kind, in o's range. */
static bool
convert(const struct opt *o, const char *arg, union value *v)
{
	double d;

	switch (o->kind) {
	case OPT_KIND_UINT: {
		char *end;

		return parse_whole(arg, &v->u, &end) && *end == '\0' && v->u >= o->min &&
			v->u <= o->max;
	}
	case OPT_KIND_SIZE:
		return parse_size(arg, &v->u) && v->u >= o->min && v->u <= o->max;
	case OPT_KIND_USD:
		if (!parse_decimal(arg, &d) || !(d >= 0 && d < 1e9))
			return false;
		v->micro = llround(d * 1e6);
		return true;
	case OPT_KIND_NUMBER:
		return parse_decimal(arg, &v->d) && v->d >= o->dmin && v->d <= o->dmax;
	case OPT_KIND_SECONDS:
		if (!parse_decimal(arg, &d) || !(d >= o->dmin && d <= o->dmax))
			return false;
		v->ms = lround(d * 1000);
		return true;
	default:
		return false;
	}
}

/* What o's kind takes, for a bad value's message. */
static void
expected(const struct opt *o, char *text, size_t size)
{
	switch (o->kind) {
	case OPT_KIND_UINT:
		snprintf(text, size, "expected a whole number from %llu to %llu", o->min, o->max);
		break;
	case OPT_KIND_SIZE:
		snprintf(text, size,
			"expected a size from %llu to %llu bytes, such as 4096, 64K or 16M", o->min,
			o->max);
		break;
	case OPT_KIND_USD:
		snprintf(text, size, "expected USD, e.g. 5 or 0.25");
		break;
	case OPT_KIND_NUMBER:
		snprintf(text, size, "expected a number from %.15g to %.15g", o->dmin, o->dmax);
		break;
	case OPT_KIND_SECONDS:
		snprintf(text, size, "expected a number of seconds from %.15g to %.15g", o->dmin,
			o->dmax);
		break;
	default: /* STRING, LIST */
		snprintf(text, size, "expected a non-empty %s", o->argname);
	}
}

/* Whether the field holds v now. */
static bool
holds(const struct opt *o, union value v)
{
	switch (o->kind) {
	case OPT_KIND_USD:
		return *(const int64_t *)o->value == v.micro;
	case OPT_KIND_NUMBER:
		return *(const double *)o->value == v.d;
	case OPT_KIND_SECONDS:
		return *(const long *)o->value == v.ms;
	default:
		return load_int(o) == v.u;
	}
}

static void
check_option(const struct opt *options, const struct opt *o)
{
	union value v;

	if (o->name == NULL || o->help == NULL || o->value == NULL)
		bug(o, "an entry needs a name, a help line and a value");
	if (o->kind != OPT_KIND_CALLBACK && (o->kind != OPT_KIND_FLAG) != (o->argname != NULL))
		bug(o, "an argument's name goes with the kinds that take one");
	if (o->kind == OPT_KIND_LIST && (o->count == NULL || o->max == 0))
		bug(o, "a list needs a count and room");
	if (o->kind == OPT_KIND_CALLBACK && o->callback == NULL)
		bug(o, "a callback option needs its callback");
	if (is_integer_kind(o->kind) && o->size != 1 && o->size != 2 && o->size != 4 &&
		o->size != 8)
		bug(o, "the value is not an integer");
	if ((o->kind == OPT_KIND_UINT || o->kind == OPT_KIND_SIZE) &&
		(o->max < o->min || (o->size < 8 && o->max >> (8 * o->size) != 0)))
		bug(o, "the range is empty, or more than the value can hold");
	if ((o->kind == OPT_KIND_NUMBER || o->kind == OPT_KIND_SECONDS) && !(o->dmin <= o->dmax))
		bug(o, "the range is empty");
	if (o->short_name == 'h')
		bug(o, "-h is --help");
	for (const struct opt *p = options; p < o; p++)
		if (strcmp(p->name, o->name) == 0 ||
			(o->short_name != 0 && p->short_name == o->short_name))
			bug(o, "two options with one name or letter");
	/* A default that is not a value of the kind ("none", "$JL_DB") is prose. */
	if (o->defval != NULL && o->kind >= OPT_KIND_UINT && o->kind <= OPT_KIND_SECONDS &&
		convert(o, o->defval, &v) && !holds(o, v))
		bug(o, "the default --help shows is not the value before parsing");
}

static JL_NORETURN void
bad_value(const struct opt_tool *tool, const struct opt *o, const char *arg, const char *why)
{
	if (arg == NULL)
		opt_usage_error(tool, "--%s: %s", o->name, why);
	opt_usage_error(tool, "invalid %s '%s' for --%s: %s",
		o->kind == OPT_KIND_USD ? "amount" : "value", arg, o->name, why);
}

static void
set_value(const struct opt_tool *tool, const struct opt *o, const char *arg)
{
	union value v;
	const char *why;
	char text[160];

	switch (o->kind) {
	case OPT_KIND_FLAG:
		store_int(o, (unsigned long long)o->set);
		return;
	case OPT_KIND_STRING:
		if (o->min > 0 && *arg == '\0') {
			expected(o, text, sizeof(text));
			bad_value(tool, o, arg, text);
		}
		*(const char **)o->value = arg;
		return;
	case OPT_KIND_CALLBACK:
		if ((why = o->callback(o, arg)) != NULL)
			bad_value(tool, o, arg, why);
		return;
	case OPT_KIND_LIST:
		if (*arg == '\0') {
			expected(o, text, sizeof(text));
			bad_value(tool, o, arg, text);
		}
		if (*o->count == o->max) {
			snprintf(text, sizeof(text), "at most %llu of them", o->max);
			bad_value(tool, o, arg, text);
		}
		((const char **)o->value)[(*o->count)++] = arg;
		return;
	default:
		if (!convert(o, arg, &v)) {
			expected(o, text, sizeof(text));
			bad_value(tool, o, arg, text);
		}
		if (o->kind == OPT_KIND_USD)
			*(int64_t *)o->value = v.micro;
		else if (o->kind == OPT_KIND_NUMBER)
			*(double *)o->value = v.d;
		else if (o->kind == OPT_KIND_SECONDS)
			*(long *)o->value = v.ms;
		else
			store_int(o, v.u);
	}
}

static void
print_option_help(const struct opt *o)
{
	char left[64];
	int n;

	if (o->short_name != 0)
		n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->name);
	else
		n = snprintf(left, sizeof(left), "    --%s", o->name);
	if (o->argname != NULL && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->argname);
	if (strlen(left) > 24)
		printf("  %s\n  %-24s  %s", left, "", o->help);
	else
		printf("  %-24s  %s", left, o->help);
	if (o->defval != NULL)
		printf(" (default %s)", o->defval);
	putchar('\n');
}

static JL_NORETURN void
print_help(const struct opt_tool *tool, const struct opt *options)
{
	printf("usage: %s %s\n%s\n\noptions:\n", progname, tool->synopsis, tool->summary);
	for (const struct opt *o = options; o->kind != OPT_KIND_END; o++)
		print_option_help(o);
	for (size_t i = 0; i < sizeof(builtin_options) / sizeof(*builtin_options); i++)
		print_option_help(&builtin_options[i]);
	if (tool->notes != NULL) {
		putchar('\n');
		tool->notes();
	}
	printf("\nSee %s(1) for the details.\n", progname);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_IOERR, "write error on standard output:");
	exit(EXIT_OK);
}

static JL_NORETURN void
print_version(const struct opt_tool *tool)
{
	printf("%s (jlkit) %s\n", progname, JLKIT_VERSION);
	if (tool->version != NULL)
		tool->version();
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_IOERR, "write error on standard output:");
	exit(EXIT_OK);
}

/* The entry getopt_long's value c stands for. */
static const struct opt *
find_option(const struct opt *options, size_t n, int c)
{
	if (c >= VAL_FIRST)
		return &options[c - VAL_FIRST];
	for (size_t i = 0; i < n; i++)
		if (options[i].short_name == c)
			return &options[i];
	return NULL;
}

/*
 * getopt_long's tables for the parse under way; not locals, so that an exit
 * in the middle of a parse (--help, a usage error) leaves nothing unreachable.
 */
static struct option *longopts;
static char *shortopts;

int
opt_parse(const struct opt_tool *tool, const struct opt *options, int argc, char **argv)
{
	size_t n = 0;
	char *s;
	int c;

	while (options[n].kind != OPT_KIND_END)
		check_option(options, &options[n++]);
	longopts = xcalloc(n + 3, sizeof(*longopts));
	s = shortopts = xmalloc(2 * n + 3);
	*s++ = ':'; /* report a missing argument as ':' */
	*s++ = 'h';
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &options[i];

		longopts[i] = (struct option){ o->name,
			takes_argument(o) ? required_argument : no_argument, NULL,
			VAL_FIRST + (int)i };
		if (o->short_name != 0) {
			*s++ = (char)o->short_name;
			if (takes_argument(o))
				*s++ = ':';
		}
	}
	*s = '\0';
	longopts[n] = (struct option){ "help", no_argument, NULL, VAL_HELP };
	longopts[n + 1] = (struct option){ "version", no_argument, NULL, VAL_VERSION };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const char *given = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
		const struct opt *o;

		if (c == VAL_HELP)
			print_help(tool, options);
		if (c == VAL_VERSION)
			print_version(tool);
		if (c == ':' && strncmp(given, "--", 2) != 0)
			opt_usage_error(tool, "option '-%c' needs an argument", optopt);
		if (c == ':')
			opt_usage_error(tool, "option '%s' needs an argument", given);
		if ((o = find_option(options, n, c)) == NULL) { /* '?' */
			if (optopt >= VAL_FIRST)                /* "--flag=value" */
				opt_usage_error(tool, "option '--%s' takes no argument",
					options[optopt - VAL_FIRST].name);
			if (optopt != 0 && strncmp(given, "--", 2) != 0)
				opt_usage_error(tool, "unknown option '-%c'", optopt);
			opt_usage_error(tool, "unknown option '%s'", given);
		}
		set_value(tool, o, optarg);
	}
	free(longopts);
	free(shortopts);
	longopts = NULL;
	shortopts = NULL;
	return optind;
}
