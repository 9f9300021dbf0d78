/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What every tool needs first: its name, start-up hygiene, diagnostics and
 * allocation that cannot fail silently.
 *
 * Diagnostics go to stderr as "PROG: message". A format ending in ':' gets
 * ": strerror(errno)" appended, so call sites stay one line:
 *	die(EXIT_NOINPUT, "cannot open '%s':", path);
 */
#ifndef JL_UTIL_H
#define JL_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include "exitcodes.h"

#define JL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define JL_NORETURN __attribute__((noreturn))

/* The tool's name for messages ("jl-csv"); set by tool_init. */
extern const char *progname;

/*
 * Prepare the process: progname from argv0's basename; fds 0, 1 and 2 opened
 * on /dev/null when closed (so no later open() lands on them and a message
 * cannot end up inside a database); SIGPIPE back to its default action, so a
 * closed pipe ends a local filter as the shell expects (status 141); on a
 * terminal, messages printed above the progress block of other stages (term.h).
 */
void tool_init(const char *argv0);

/* Print "PROG: message" and exit with code (a value of enum jl_exit). */
JL_NORETURN JL_PRINTF(2, 3) void die(int code, const char *fmt, ...);

/* Print "PROG: message"; carry on. */
JL_PRINTF(1, 2) void warn(const char *fmt, ...);

/* Print "PROG: message" and return -1, for "return error(...)". */
JL_PRINTF(1, 2) int error(const char *fmt, ...);

/*
 * Print text (whole lines) on stderr, above the progress block on a
 * terminal (term.h). For summaries that are not "PROG: message" lines.
 */
void report_text(const char *text, size_t len);

/* The va_list form behind die, warn and error. */
JL_PRINTF(1, 0) void vreport(const char *fmt, va_list ap);

/*
 * Allocation that dies with EXIT_SOFTWARE and a message when memory runs
 * out. xreallocarray checks nmemb * size for overflow. All return memory the
 * caller frees with free().
 */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xmemdup(const void *s, size_t n); /* n bytes plus a terminating NUL */

/* The value of the hexadecimal digit c, or -1 when it is not one. */
int hex_digit(int c);

#endif
