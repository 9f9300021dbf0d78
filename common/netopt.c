/* SPDX-License-Identifier: BSD-2-Clause */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "netopt.h"
#include "util.h"
#include "version.h"

void
netopt_defaults(struct netloop_config *loop, const char *into)
{
	*loop = (struct netloop_config){
		.into = into,
		.jobs = 8,
		.retries = 6,
		.retry_base_ms = 1000,
		.max_retry_after_ms = 120000,
		.cooldown_ms = 60000,
		.fallback_after = 3,
		.max_consecutive_failures = 20,
		.grace_ms = 10000,
		.check = true,
		.progress = PROGRESS_AUTO,
		.seed = 1,
		.budget_micro = -1,
		.budget_run = "", /* every run */
	};
}

/* http only to this machine; anything else must be https. */
void
netopt_check_url(const char *url, const char *what)
{
	static const char *const loopback[] = { "http://127.", "http://localhost", "http://[::1]" };

	if (strncmp(url, "https://", 8) == 0)
		return;
	for (size_t i = 0; i < sizeof(loopback) / sizeof(*loopback); i++)
		if (strncmp(url, loopback[i], strlen(loopback[i])) == 0)
			return;
	die(EXIT_CONFIG, "%s '%s': only https, or http to this machine (127.0.0.1, localhost)",
		what, url);
}

void
netopt_finish(const struct opt_tool *tool, struct netloop_config *loop, const struct netopt *no,
	bool seeded)
{
	const char *db = getenv("JL_DB");

	if (loop->db_path == NULL && db != NULL && *db != '\0')
		loop->db_path = db;
	if (!seeded) /* the retries of parallel processes must not move in step */
		loop->seed = (unsigned long long)getpid() * 2654435761ULL ^
			(unsigned long long)time(NULL);
	if (no->base_url != NULL)
		netopt_check_url(no->base_url, "--base-url");
	if (loop->budget_micro >= 0 && loop->db_path == NULL)
		opt_usage_error(tool,
			"--budget needs --db: the ledger of jl-cost is what it counts");
}

char *
netopt_read_file(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		die(EXIT_CONFIG, "cannot open the %s '%s':", what, path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f))
		die(EXIT_CONFIG, "cannot read the %s '%s':", what, path);
	fclose(f);
	return (char *)buf_cstr(&b);
}

char *
netopt_find_key(const char *key_file, const char *env_name)
{
	const char *env;
	char *key;
	struct stat st;

	if (key_file != NULL) {
		int fd = open(key_file, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) != 0)
			die(EXIT_CONFIG, "cannot open the key file '%s':", key_file);
		close(fd);
		if (st.st_mode & (S_IRWXG | S_IRWXO))
			die(EXIT_CONFIG,
				"the key file '%s' may be read by others (mode %03o): chmod 600 it",
				key_file, (unsigned)(st.st_mode & 0777));
		key = netopt_read_file(key_file, "key file");
		key[strcspn(key, "\r\n")] = '\0';
		return key;
	}
	env = env_name != NULL ? getenv(env_name) : NULL;
	return env != NULL && *env != '\0' ? xstrdup(env) : NULL;
}

void
netopt_free_key(char *key)
{
	if (key == NULL)
		return;
	explicit_bzero(key, strlen(key));
	free(key);
}

void
netopt_print_versions(void)
{
	version_line("libcurl", curl_version_info(CURLVERSION_NOW)->version);
	version_line("sqlite", sqlite3_libversion());
	version_libjq();
	version_common();
}

static void
on_stop_signal(int sig)
{
	(void)sig;
	netloop_request_stop();
}

void
netopt_setup_process(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
