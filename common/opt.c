/* SPDX-License-Identifier: BSD-2-Clause */
/* Option tables, getopt_long, generated --help, checked numeric arguments. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"
#include "util.h"
#include "version.h"

/* Ids of the built-in options; tools use letters or 256..0xffff. */
enum { OPT_HELP = 'h', OPT_VERSION = 0x10000 };

static const struct opt_spec builtin_options[] = {
	{ OPT_HELP, "help", 'h', NULL, "show this help and exit" },
	{ OPT_VERSION, "version", 0, NULL, "show the version and the libraries, and exit" },
};

static size_t
count_options(const struct opt_spec *options)
{
	size_t n = 0;

	while (options[n].name != NULL)
		n++;
	return n;
}

void
opt_init(struct opt_state *st, const struct opt_tool *tool, int argc, char **argv)
{
	size_t n = count_options(tool->options),
	       nb = sizeof(builtin_options) / sizeof(*builtin_options);
	struct option *lo = xcalloc(n + nb + 1, sizeof(*lo));
	char *so = xmalloc(3 * (n + nb) + 2);
	size_t j = 0, k = 0;

	so[k++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < n + nb; i++) {
		const struct opt_spec *o = i < n ? &tool->options[i] : &builtin_options[i - n];

		lo[j].name = o->name;
		lo[j].has_arg = o->argname != NULL ? required_argument : no_argument;
		lo[j].flag = NULL;
		lo[j].val = o->id;
		j++;
		if (o->short_name != 0) {
			so[k++] = (char)o->short_name;
			if (o->argname != NULL)
				so[k++] = ':';
		}
	}
	so[k] = '\0';
	st->tool = tool;
	st->argc = argc;
	st->argv = argv;
	st->operand = argc;
	st->longopts = lo;
	st->shortopts = so;
	opterr = 0;
	optind = 1;
}

void
opt_free(struct opt_state *st)
{
	free(st->longopts);
	free(st->shortopts);
	st->longopts = NULL;
	st->shortopts = NULL;
}

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

static void
print_option_help(FILE *f, const struct opt_spec *o)
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
		fprintf(f, "  %s\n  %-24s  %s\n", left, "", o->help);
	else
		fprintf(f, "  %-24s  %s\n", left, o->help);
}

static JL_NORETURN void
print_help(const struct opt_tool *tool)
{
	const struct opt_spec *o;

	printf("usage: %s %s\n%s\n\noptions:\n", progname, tool->synopsis, tool->summary);
	for (o = tool->options; o->name != NULL; o++)
		print_option_help(stdout, o);
	for (size_t i = 0; i < sizeof(builtin_options) / sizeof(*builtin_options); i++)
		print_option_help(stdout, &builtin_options[i]);
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

int
opt_next(struct opt_state *st, const char **arg)
{
	int c = getopt_long(st->argc, st->argv, st->shortopts, st->longopts, NULL);
	const char *given = optind > 0 && optind <= st->argc ? st->argv[optind - 1] : "?";

	*arg = optarg;
	switch (c) {
	case -1:
		st->operand = optind;
		return OPT_DONE;
	case OPT_HELP:
		print_help(st->tool);
	case OPT_VERSION:
		print_version(st->tool);
	case ':':
		if (strncmp(given, "--", 2) != 0)
			opt_usage_error(st->tool, "option '-%c' needs an argument", optopt);
		opt_usage_error(st->tool, "option '%s' needs an argument", given);
	case '?':
		if (optopt != 0 && strncmp(given, "--", 2) != 0)
			opt_usage_error(st->tool, "unknown option '-%c'", optopt);
		opt_usage_error(st->tool, "unknown option '%s'", given);
	default:
		return c;
	}
}

static JL_NORETURN void
bad_number(const char *option, const char *arg, unsigned long long min, unsigned long long max)
{
	die(EXIT_USAGE, "invalid value '%s' for --%s: expected a whole number from %llu to %llu",
		arg, option, min, max);
}

/* Parse the leading digits of arg; *end gets what follows. */
static unsigned long long
parse_digits(const char *option, const char *arg, char **end, unsigned long long min,
	unsigned long long max)
{
	unsigned long long v;

	if (!isdigit((unsigned char)arg[0]))
		bad_number(option, arg, min, max);
	errno = 0;
	v = strtoull(arg, end, 10);
	if (errno != 0)
		bad_number(option, arg, min, max);
	return v;
}

unsigned long long
opt_uint(const char *option, const char *arg, unsigned long long min, unsigned long long max)
{
	char *end;
	unsigned long long v = parse_digits(option, arg, &end, min, max);

	if (*end != '\0' || v < min || v > max)
		bad_number(option, arg, min, max);
	return v;
}

unsigned long long
opt_size(const char *option, const char *arg, unsigned long long min, unsigned long long max)
{
	char *end;
	unsigned long long v = parse_digits(option, arg, &end, min, max), unit = 1;

	switch (*end) {
	case 'k':
	case 'K':
		unit = 1ULL << 10;
		break;
	case 'm':
	case 'M':
		unit = 1ULL << 20;
		break;
	case 'g':
	case 'G':
		unit = 1ULL << 30;
		break;
	case '\0':
		break;
	default:
		bad_number(option, arg, min, max);
	}
	if (*end != '\0' && end[1] != '\0')
		bad_number(option, arg, min, max);
	if (v > max / unit || v * unit < min || v * unit > max)
		die(EXIT_USAGE,
			"invalid value '%s' for --%s: expected a size from %llu to %llu bytes", arg,
			option, min, max);
	return v * unit;
}

int64_t
opt_usd(const char *option, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(v >= 0 && v < 1e9))
		die(EXIT_USAGE, "invalid amount '%s' for --%s: expected USD, e.g. 5 or 0.25", arg,
			option);
	return llround(v * 1e6);
}
