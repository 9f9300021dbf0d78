/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The exit statuses every jlkit tool uses (doc/design.md §3.4), sysexits-based.
 * Each tool's man page lists the ones it can return.
 */
#ifndef JL_EXITCODES_H
#define JL_EXITCODES_H

enum jl_exit {
	EXIT_OK = 0,           /* every input record was emitted (some may carry _error) */
	EXIT_PARTIAL = 1,      /* --strict and at least one record carries _error */
	EXIT_USAGE = 64,       /* bad invocation */
	EXIT_DATAERR = 65,     /* malformed input that stops the run (only with --strict) */
	EXIT_NOINPUT = 66,     /* an input file cannot be opened */
	EXIT_UNAVAILABLE = 69, /* the service kept failing (circuit breaker) */
	EXIT_SOFTWARE = 70,    /* internal error, out of memory */
	EXIT_CANTCREAT = 73,   /* cannot create the database or an output file */
	EXIT_IOERR = 74,       /* read or write error (disk full, closed output) */
	EXIT_TEMPFAIL = 75,    /* stopped early; rerun the same command to resume */
	EXIT_NOPERM = 77,      /* a person must act on the account (key rejected, quota) */
	EXIT_CONFIG = 78,      /* configuration error: key, provider, model, template */
};

#endif
