/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Declared command-line options, on top of getopt_long (git's parse-options
 * is the model). A tool builds a table of its options inside the function
 * that parses them, each entry pointing at the field its value goes to:
 *
 *	struct opt options[] = {
 *		OPT_BOOL('k', "keep-order", &cfg->keep_order, "write records in input order"),
 *		OPT_UINT('j', "parallel", &cfg->jobs, 1, 1024, "N", "requests in flight", "8"),
 *		OPT_END(),
 *	};
 *	int first_operand = opt_parse(&tool, options, argc, argv);
 *
 * One table drives the parsing, the checks of every value and "--help",
 * which prints each option's help followed by "(default X)" from its
 * declared default. The declared default is what --help shows; when it is a
 * value of the option's kind it must also be the field's value before
 * parsing (opt_parse checks it), so the two cannot drift apart.
 *
 * Every tool also gets -h/--help and --version. Every mistake on the command
 * line (an unknown option, a missing argument, a bad value) prints one
 * message, the usage line and "try 'PROG --help'" on stderr and exits with
 * EXIT_USAGE; a bad value's message is
 *	PROG: invalid value 'ARG' for --NAME: expected ...
 * ("invalid amount" for USD).
 *
 * A table that contradicts itself (two options with one letter, a range
 * the field cannot hold, a shown default that is not the field's value) is
 * a bug: opt_parse says so on stderr and aborts, whatever argv holds.
 */
#ifndef JL_OPT_H
#define JL_OPT_H

#include <stddef.h>
#include <stdint.h>

enum opt_kind {
	OPT_KIND_END,      /* the end of a table */
	OPT_KIND_FLAG,     /* no argument: stores .set in the integer (bool, enum) *value */
	OPT_KIND_STRING,   /* const char *: the argument itself (not empty when .min is 1) */
	OPT_KIND_UINT,     /* an integer: a whole number from .min to .max */
	OPT_KIND_SIZE,     /* the same, with an optional K, M or G suffix (powers of 1024) */
	OPT_KIND_USD,      /* int64_t micro-dollars: an amount of USD, "5" or "0.25" */
	OPT_KIND_NUMBER,   /* double: a decimal number from .dmin to .dmax */
	OPT_KIND_SECONDS,  /* long milliseconds: seconds (fractions allowed), .dmin to .dmax */
	OPT_KIND_CALLBACK, /* .callback(o, arg): for what needs code */
	OPT_KIND_LIST,     /* repeatable: each argument (not empty) appended, at most .max */
};

struct opt;

/*
 * A callback option's handler: arg is the argument (NULL when the entry
 * has no argname). Returns NULL when arg is good, else what was expected
 * ("expected md, csv, html or json"), which opt_parse reports as a bad value.
 */
typedef const char *opt_callback(const struct opt *o, const char *arg);

struct opt {
	enum opt_kind kind;
	int short_name;         /* 0 when there is none */
	const char *name;       /* long name, without "--" */
	void *value;            /* where the value goes */
	size_t size;            /* sizeof(*value), for the integer kinds */
	const char *argname;    /* the argument's name in --help; NULL: no argument */
	const char *help;       /* one line for --help */
	const char *defval;     /* the default as --help shows it, or NULL */
	long long set;          /* FLAG: the value stored */
	unsigned long long min; /* UINT, SIZE: the range; STRING: 1 when it may not be empty */
	unsigned long long max;
	double dmin, dmax;      /* NUMBER, SECONDS: the range */
	opt_callback *callback; /* CALLBACK */
	size_t *count;          /* LIST: how many arguments the array holds */
};

/* value as a pointer to type, with a compiler warning when it is not one. */
#define OPT_TYPED(type, v) (1 ? (v) : (type *)0)

#define OPT_END()                                                                                  \
	{                                                                                          \
		.kind = OPT_KIND_END                                                               \
	}
/* A flag that sets *v (bool or other integer) to 1, or to val. */
#define OPT_BOOL(s, l, v, h) OPT_SET(s, l, v, 1, h)
#define OPT_SET(s, l, v, val, h)                                                                   \
	{                                                                                          \
		.kind = OPT_KIND_FLAG, .short_name = (s), .name = (l), .value = (v),               \
		.size = sizeof(*(v)), .help = (h), .set = (val)                                    \
	}
/* *v (const char *) = the argument; OPT_NAME's may not be empty. */
#define OPT_STRING(s, l, v, a, h, d)                                                               \
	{                                                                                          \
		.kind = OPT_KIND_STRING, .short_name = (s), .name = (l),                           \
		.value = OPT_TYPED(const char *, v), .argname = (a), .help = (h), .defval = (d)    \
	}
#define OPT_NAME(s, l, v, a, h, d)                                                                 \
	{                                                                                          \
		.kind = OPT_KIND_STRING, .short_name = (s), .name = (l),                           \
		.value = OPT_TYPED(const char *, v), .argname = (a), .help = (h), .defval = (d),   \
		.min = 1                                                                           \
	}
/* *v (any unsigned or signed integer wide enough for hi) = a number in [lo, hi]. */
#define OPT_UINT(s, l, v, lo, hi, a, h, d)                                                         \
	{                                                                                          \
		.kind = OPT_KIND_UINT, .short_name = (s), .name = (l), .value = (v),               \
		.size = sizeof(*(v)), .argname = (a), .help = (h), .defval = (d), .min = (lo),     \
		.max = (hi)                                                                        \
	}
#define OPT_SIZE(s, l, v, lo, hi, a, h, d)                                                         \
	{                                                                                          \
		.kind = OPT_KIND_SIZE, .short_name = (s), .name = (l), .value = (v),               \
		.size = sizeof(*(v)), .argname = (a), .help = (h), .defval = (d), .min = (lo),     \
		.max = (hi)                                                                        \
	}
/* *v (int64_t) = micro-dollars, from 0 to less than a billion USD. */
#define OPT_USD(s, l, v, a, h, d)                                                                  \
	{                                                                                          \
		.kind = OPT_KIND_USD, .short_name = (s), .name = (l),                              \
		.value = OPT_TYPED(int64_t, v), .argname = (a), .help = (h), .defval = (d)         \
	}
/* *v (double) = a number in [lo, hi]. */
#define OPT_NUMBER(s, l, v, lo, hi, a, h, d)                                                       \
	{                                                                                          \
		.kind = OPT_KIND_NUMBER, .short_name = (s), .name = (l),                           \
		.value = OPT_TYPED(double, v), .argname = (a), .help = (h), .defval = (d),         \
		.dmin = (lo), .dmax = (hi)                                                         \
	}
/* *v (long) = milliseconds, from a number of seconds in [lo, hi]. */
#define OPT_SECONDS(s, l, v, lo, hi, a, h, d)                                                      \
	{                                                                                          \
		.kind = OPT_KIND_SECONDS, .short_name = (s), .name = (l),                          \
		.value = OPT_TYPED(long, v), .argname = (a), .help = (h), .defval = (d),           \
		.dmin = (lo), .dmax = (hi)                                                         \
	}
/* fn(o, arg) with o->value = v; a is NULL for an option without argument. */
#define OPT_CALLBACK(s, l, v, a, h, d, fn)                                                         \
	{                                                                                          \
		.kind = OPT_KIND_CALLBACK, .short_name = (s), .name = (l), .value = (v),           \
		.argname = (a), .help = (h), .defval = (d), .callback = (fn)                       \
	}
/* v (an array of const char *) gets each argument in turn, *n counting them, at most max. */
#define OPT_LIST(s, l, v, n, max_, a, h)                                                           \
	{                                                                                          \
		.kind = OPT_KIND_LIST, .short_name = (s), .name = (l),                             \
		.value = OPT_TYPED(const char *, v), .count = OPT_TYPED(size_t, n),                \
		.argname = (a), .help = (h), .max = (max_)                                         \
	}

struct opt_tool {
	const char *synopsis;  /* after the name: "[options] [FILE...]" */
	const char *summary;   /* one sentence for the top of --help */
	void (*version)(void); /* prints the library lines of --version */
	void (*notes)(void);   /* prints what --help shows after the options, or NULL */
};

/*
 * Parse argv with options (ended by OPT_END()), storing each value where
 * its entry points, in the order given (the last of a repeated option
 * wins). Handles --help and --version (print on stdout, exit 0) and every
 * mistake (exit EXIT_USAGE). Returns the index in argv of the first
 * operand; getopt_long has moved the operands after the options.
 */
int opt_parse(const struct opt_tool *tool, const struct opt *options, int argc, char **argv);

/* Print "PROG: message", the usage line and the try-help line on stderr; exit EXIT_USAGE. */
void opt_usage_error(const struct opt_tool *tool, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

#endif
