/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The options and set-up every network tool shares (DESIGN.md section 3 and
 * 5): the NETLOOP_OPTIONS entries of an option table, their parser, keys
 * from the environment or a 0600 file, the endpoint check, --version's
 * library lines, the signals.
 */
#ifndef JL_NETOPT_H
#define JL_NETOPT_H

#include <stdbool.h>

#include "netloop.h"
#include "opt.h"

enum {
	NETOPT_PARALLEL = 'j',
	NETOPT_KEEP_ORDER = 'k',
	NETOPT_VERBOSE = 'v',
	NETOPT_BASE_URL = 1024,
	NETOPT_KEY_FILE,
	NETOPT_RPM,
	NETOPT_LIMITER_KEY,
	NETOPT_RETRIES,
	NETOPT_RETRY_BASE,
	NETOPT_MAX_RETRY_AFTER,
	NETOPT_MAX_FAILURES,
	NETOPT_NO_CHECK,
	NETOPT_DB,
	NETOPT_BUDGET,
	NETOPT_RUN,
	NETOPT_LOG,
	NETOPT_CACERT,
	NETOPT_TOTAL,
	NETOPT_STRICT,
	NETOPT_PROGRESS,
	NETOPT_NO_PROGRESS,
};

/* The shared entries, to put in a tool's option table. */
#define NETLOOP_OPTIONS                                                                            \
	{ NETOPT_BASE_URL, "base-url", 0, "URL",                                                   \
		"the service's endpoint (https, or http to this machine)" },                       \
		{ NETOPT_KEY_FILE, "api-key-file", 0, "FILE",                                      \
			"read the key from FILE (mode 0600)" },                                    \
		{ 'j', "parallel", 'j', "N", "requests in flight (default 8)" },                   \
		{ NETOPT_RPM, "rpm", 0, "N",                                                       \
			"requests per minute, shared by every process (default none)" },           \
		{ NETOPT_LIMITER_KEY, "limiter-key", 0, "KEY",                                     \
			"share limits under KEY (default the target)" },                           \
		{ NETOPT_RETRIES, "retries", 0, "N", "retries per record (default 6)" },           \
		{ NETOPT_RETRY_BASE, "retry-base-ms", 0, "MS",                                     \
			"first backoff, doubling (default 1000)" },                                \
		{ NETOPT_MAX_RETRY_AFTER, "max-retry-after", 0, "SECS",                            \
			"longest wait a server may ask (default 120)" },                           \
		{ NETOPT_MAX_FAILURES, "max-consecutive-failures", 0, "N",                         \
			"stop after N records fail on server errors (default 20)" },               \
		{ NETOPT_NO_CHECK, "no-check", 0, NULL,                                            \
			"do not check the key before reading input" },                             \
		{ NETOPT_DB, "db", 0, "FILE",                                                      \
			"cache answers in the run database FILE (default $JL_DB)" },               \
		{ NETOPT_BUDGET, "budget", 0, "USD",                                               \
			"send nothing once jl-cost's ledger in --db holds USD" },                  \
		{ NETOPT_RUN, "run", 0, "NAME",                                                    \
			"count only this run of the ledger for --budget" },                        \
		{ NETOPT_LOG, "log", 0, "FILE", "append one JSON line per HTTP attempt" },         \
		{ NETOPT_CACERT, "cacert", 0, "FILE",                                              \
			"CA certificates to verify the server with" },                             \
		{ 'k', "keep-order", 'k', NULL, "write records in input order" },                  \
		{ NETOPT_TOTAL, "total", 0, "N", "the number of records, for the ETA" },           \
		{ NETOPT_STRICT, "strict", 0, NULL, "exit 1 when a record carries _error" },       \
		{ 'v', "verbose", 'v', NULL, "a line on stderr for each failed attempt" },         \
		{ NETOPT_PROGRESS, "progress", 0, NULL,                                            \
			"show progress even when stderr is not a terminal" },                      \
	{                                                                                          \
		NETOPT_NO_PROGRESS, "no-progress", 0, NULL, "never show progress"                  \
	}

/* What the shared options set besides the loop's configuration. */
struct netopt {
	const char *base_url;
	const char *key_file;
};

/* The defaults of the loop's configuration (DESIGN.md section 5); into is the field. */
void netopt_defaults(struct netloop_config *loop, const char *into);

/*
 * Handle option id (with arg) when it is a shared one; returns whether it
 * was. A bad value exits with EXIT_USAGE through tool's usage line.
 */
bool netopt_parse(const struct opt_tool *tool, struct netloop_config *loop, struct netopt *no,
	int id, const char *arg);

/* arg as a number in [min, max], else a usage error naming --option. */
double netopt_number(const struct opt_tool *tool, const char *option, const char *arg, double min,
	double max);

/*
 * After the options: --db from $JL_DB, a seed for the retry jitter that
 * differs per process unless seeded, the endpoint checked (only https, or
 * http to this machine; exits 78).
 */
void netopt_finish(struct netloop_config *loop, const struct netopt *no, bool seeded);

/* A whole small file (a template, a key); exits 78 naming what it is when it cannot. */
char *netopt_read_file(const char *path, const char *what);

/*
 * A key: from key_file when given (refused when others may read it), else
 * from the variable env_name; NULL when neither has one. Exits 78.
 */
char *netopt_find_key(const char *key_file, const char *env_name);

/* Wipe and free a key. */
void netopt_free_key(char *key);

/* --version's library lines: libcurl, sqlite, libjq, and the common ones. */
void netopt_print_versions(void);

/*
 * First thing in main: no core files (they would hold keys), SIGPIPE
 * ignored (a socket's EPIPE must not kill a commit; stdout's is handled
 * with out_defer_epipe), SIGINT and SIGTERM stop the run cleanly.
 */
void netopt_setup_process(void);

#endif
