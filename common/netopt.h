/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The options and set-up every network tool shares: the NETLOOP_OPTIONS
 * entries of an option table, keys from the environment or a 0600 file, the
 * endpoint check, --version's library lines, the signals.
 */
#ifndef JL_NETOPT_H
#define JL_NETOPT_H

#include <stdbool.h>

#include "netloop.h"
#include "opt.h"

/*
 * The shared entries, for a tool's option table: loop is its struct
 * netloop_config, net its struct netopt. jlkit(7), NETWORK OPTIONS,
 * describes them once for every network tool.
 */
#define NETLOOP_OPTIONS(loop, net)                                                                 \
	OPT_STRING(0, "base-url", &(net)->base_url, "URL",                                         \
		"the service's endpoint (https, or http to this machine)", NULL),                  \
		OPT_STRING(0, "api-key-file", &(net)->key_file, "FILE",                            \
			"read the key from FILE (mode 0600)", NULL),                               \
		OPT_UINT('j', "parallel", &(loop)->jobs, 1, 1024, "N", "requests in flight", "8"), \
		OPT_NUMBER(0, "rpm", &(loop)->rpm, 0, 1e7, "N",                                    \
			"requests per minute, shared by every process; 0: no limit", "0"),         \
		OPT_STRING(0, "limiter-key", &(loop)->limiter_key, "KEY",                          \
			"share limits under KEY", "the model or backend"),                         \
		OPT_UINT(0, "retries", &(loop)->retries, 0, 100, "N", "retries per record", "6"),  \
		OPT_UINT(0, "retry-base-ms", &(loop)->retry_base_ms, 1, 600000, "MS",              \
			"first backoff, doubling", "1000"),                                        \
		OPT_SECONDS(0, "max-retry-after", &(loop)->max_retry_after_ms, 0, 86400, "SECS",   \
			"longest wait a server may ask", "120"),                                   \
		OPT_UINT(0, "max-consecutive-failures", &(loop)->max_consecutive_failures, 1,      \
			1000000, "N", "stop after N records fail on server errors", "20"),         \
		OPT_SET(0, "no-check", &(loop)->check, false,                                      \
			"do not check the key before reading input"),                              \
		OPT_STRING(0, "db", &(loop)->db_path, "FILE",                                      \
			"cache answers in the run database FILE", "$JL_DB"),                       \
		OPT_USD(0, "budget", &(loop)->budget_micro, "USD",                                 \
			"send nothing once jl-cost's ledger in --db holds USD", NULL),             \
		OPT_STRING(0, "run", &(loop)->budget_run, "NAME",                                  \
			"count only this run of the ledger for --budget", "every run"),            \
		OPT_STRING(0, "log", &(loop)->log_path, "FILE",                                    \
			"append one JSON line per HTTP attempt", NULL),                            \
		OPT_STRING(0, "cacert", &(loop)->cacert, "FILE",                                   \
			"CA certificates to verify the server with", NULL),                        \
		OPT_BOOL('k', "keep-order", &(loop)->keep_order, "write records in input order"),  \
		OPT_UINT(0, "total", &(loop)->total, 1, ~0ULL, "N",                                \
			"the number of records, for the ETA", NULL),                               \
		OPT_BOOL(0, "strict", &(loop)->strict,                                             \
			"stop at a malformed line (65); exit 1 when a record carries _error"),     \
		OPT_BOOL('v', "verbose", &(loop)->verbose,                                         \
			"a line on stderr for each failed attempt"),                               \
		OPT_SET(0, "progress", &(loop)->progress, PROGRESS_ON,                             \
			"show progress even when stderr is not a terminal"),                       \
		OPT_SET(0, "no-progress", &(loop)->progress, PROGRESS_OFF, "never show progress")

/* What the shared options set besides the loop's configuration. */
struct netopt {
	const char *base_url;
	const char *key_file;
};

/* The defaults of the loop's configuration (the ones NETLOOP_OPTIONS shows); into is the field. */
void netopt_defaults(struct netloop_config *loop, const char *into);

/*
 * After the options: --db from $JL_DB, a seed for the retry jitter that
 * differs per process unless seeded, the endpoint checked (only https, or
 * http to this machine; exits 78), --budget without --db refused as a
 * usage error of tool.
 */
void netopt_finish(const struct opt_tool *tool, struct netloop_config *loop,
	const struct netopt *no, bool seeded);

/*
 * Refuse (exit 78, naming it as what: "--base-url", a variable) an endpoint
 * that is not https, or http to this machine: keys must not travel in clear.
 */
void netopt_check_url(const char *url, const char *what);

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
