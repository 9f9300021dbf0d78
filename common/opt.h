/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Table-driven command-line options on top of getopt_long.
 *
 * A tool describes its options once, in a table; the same table drives
 * parsing, "--help" and the check that the man page lists every option.
 * --help (-h) and --version are added to every tool. A bad option prints one
 * usage line and "try 'PROG --help'" on stderr and exits with EXIT_USAGE.
 *
 *	while ((id = opt_next(&st, &arg)) != OPT_DONE)
 *		switch (id) { case 'd': ...; }
 */
#ifndef JL_OPT_H
#define JL_OPT_H

#include <stddef.h>
#include <stdint.h>

#define OPT_DONE (-1)

struct opt_spec {
	int id;              /* what opt_next returns: the short letter, or a value >= 256 */
	const char *name;    /* long name, without "--" */
	int short_name;      /* 0 when there is none */
	const char *argname; /* NULL for a flag, else the argument's name in --help */
	const char *help;    /* one line for --help */
};

struct opt_tool {
	const char *synopsis;           /* after the name: "[options] [FILE...]" */
	const char *summary;            /* one sentence for the top of --help */
	const struct opt_spec *options; /* ends with an entry whose name is NULL */
	void (*version)(void);          /* prints the library lines of --version */
};

struct opt_state {
	const struct opt_tool *tool;
	int argc;
	char **argv;
	int operand; /* after OPT_DONE: index of the first operand in argv */
	void *longopts;
	char *shortopts;
};

/* Prepare to parse argv with tool's table. */
void opt_init(struct opt_state *st, const struct opt_tool *tool, int argc, char **argv);

/*
 * The next option's id with *arg set to its argument (or NULL), or OPT_DONE.
 * Handles --help and --version itself (print on stdout, exit 0) and bad
 * options (exit EXIT_USAGE).
 */
int opt_next(struct opt_state *st, const char **arg);

/* Release what opt_init allocated. */
void opt_free(struct opt_state *st);

/* Print "usage: PROG SYNOPSIS" and the try-help line on stderr; exit EXIT_USAGE. */
void opt_usage_error(const struct opt_tool *tool, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/*
 * Checked numbers for option arguments. Each exits with EXIT_USAGE and a
 * message naming the option when arg is not a number in [min, max].
 * opt_size also takes a K, M or G suffix (powers of 1024).
 */
unsigned long long opt_uint(const char *option, const char *arg, unsigned long long min,
	unsigned long long max);
unsigned long long opt_size(const char *option, const char *arg, unsigned long long min,
	unsigned long long max);

/* An amount of USD ("5", "0.25") as micro-dollars; EXIT_USAGE when it is not one. */
int64_t opt_usd(const char *option, const char *arg);

#endif
