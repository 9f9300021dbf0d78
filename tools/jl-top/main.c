/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-top: the jlkit pipelines running on this machine, from the state each
 * stage publishes (common/stagestate.h): per stage the progress block's
 * figures, per run database what the ledger has spent and the budget left.
 * A screen redrawn like top(1) on a terminal, one table (--once) or JSON
 * Lines (--json) otherwise. It only reads: the state, and the run databases
 * opened read-only (view.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "exitcodes.h"
#include "opt.h"
#include "out.h"
#include "rundir.h"
#include "screen.h"
#include "util.h"
#include "version.h"
#include "view.h"

struct top_config {
	const char *db;   /* --db as given */
	bool once, json;  /* one table, or JSON, then exit */
	long interval_ms; /* between two reads of the screen */
	/* from validate_config */
	char *db_path; /* --db resolved as the stages publish it; NULL: every pipeline */
	bool screen;   /* redraw on the terminal until q */
	bool color;
};

static void
print_versions(void)
{
	version_line("sqlite", sqlite3_libversion());
	version_common();
}

static void
print_notes(void)
{
	fputs("On a terminal jl-top redraws every --interval seconds until q or Ctrl-C; when\n"
	      "standard output is not a terminal, or TERM is dumb, it prints once (--once).\n",
		stdout);
}

static const struct opt_tool tool = {
	.synopsis = "[--db FILE] [--once | --json | --interval SECS]",
	.summary = "Show the jlkit pipelines running on this machine: progress, spend, budget.",
	.version = print_versions,
	.notes = print_notes,
};

static void
parse_options(struct top_config *cfg, int argc, char **argv)
{
	struct opt options[] = {
		OPT_NAME(0, "db", &cfg->db, "FILE", "only the pipelines of the run database FILE",
			NULL),
		OPT_BOOL(0, "once", &cfg->once, "print the table once and exit"),
		OPT_BOOL(0, "json", &cfg->json, "print one JSON object per pipeline and exit"),
		OPT_SECONDS(0, "interval", &cfg->interval_ms, 0.1, 3600, "SECS",
			"redraw every SECS seconds", "1"),
		OPT_END(),
	};
	int operand = opt_parse(&tool, options, argc, argv);

	if (operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s'", argv[operand]);
}

/* Whether the environment variable name is set and not empty. */
static bool
env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0';
}

static void
validate_config(struct top_config *cfg)
{
	const char *term = getenv("TERM");
	bool dumb = term == NULL || *term == '\0' || strcmp(term, "dumb") == 0;
	bool tty = isatty(STDOUT_FILENO);
	int dfd;

	if (cfg->once && cfg->json)
		opt_usage_error(&tool, "give one of --once and --json");
	if (cfg->db != NULL)
		cfg->db_path = top_db_path(cfg->db);
	dfd = rundir_open_sub("stages");
	if (dfd < 0) {
		struct buf dir = BUF_INIT;
		int saved = errno;

		rundir_default(&dir);
		errno = saved;
		die(EXIT_NOINPUT, "cannot open the state directory '%s/stages':", buf_cstr(&dir));
	}
	close(dfd);
	cfg->screen = !cfg->once && !cfg->json && tty && !dumb;
	cfg->color = tty && !dumb && !env_set("NO_COLOR");
}

/* Read the state into v (empty on failure, after a message): false when it cannot be read. */
static bool
read_view(const struct top_config *cfg, struct top_view *v)
{
	if (top_view_read(v, cfg->db_path) == 0)
		return true;
	warn("cannot read the state directory:");
	return false;
}

/* --once and --json: one read, printed. */
static int
print_once(const struct top_config *cfg)
{
	struct top_view v;
	struct buf b = BUF_INIT;

	if (!read_view(cfg, &v))
		return EXIT_NOINPUT;
	if (cfg->json)
		top_view_json(&b, &v);
	else
		top_view_table(&b, &v, 0, cfg->color);
	out_write(b.data, b.len);
	buf_free(&b);
	top_view_free(&v);
	return EXIT_OK;
}

/* The screen: a title line, a blank one, the table cut to the terminal's size. */
static void
draw(const struct top_config *cfg, const struct top_view *v)
{
	struct buf frame = BUF_INIT, title = BUF_INIT, body = BUF_INIT;
	size_t rows, cols, width, lines = 0, shown = 0;
	struct tm tm;
	char clock[16] = "";

	screen_size(&rows, &cols);
	width = cols > 1 ? cols - 1 : 1; /* the last column would wrap */
	top_view_table(&body, v, width, cfg->color);
	for (size_t i = 0; i < body.len; i++)
		lines += body.data[i] == '\n';
	if (localtime_r(&v->now, &tm) != NULL)
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	buf_printf(&title, "jl-top %s: %zu pipeline%s%s%s, every %.1fs, q quits", clock, v->npipes,
		v->npipes == 1 ? "" : "s", cfg->db_path ? " of " : "",
		cfg->db_path ? cfg->db_path : "", (double)cfg->interval_ms / 1000);
	if (title.len > width)
		title.len = width;
	if (cfg->color)
		buf_puts(&frame, "\033[7m");
	buf_add(&frame, title.data, title.len);
	if (cfg->color)
		buf_puts(&frame, "\033[0m");
	buf_puts(&frame, "\n\n");
	if (rows > 2 && lines > rows - 2) { /* what does not fit: said on the last row */
		size_t keep = rows - 3, at = 0;

		while (shown < keep && at < body.len) {
			const char *nl = memchr(body.data + at, '\n', body.len - at);

			at = (size_t)(nl - body.data) + 1;
			shown++;
		}
		buf_add(&frame, body.data, at);
		buf_printf(&frame, "(%zu more lines)\n", lines - shown);
	} else {
		buf_add(&frame, body.data, body.len);
	}
	screen_draw(&frame, rows);
	buf_free(&frame);
	buf_free(&title);
	buf_free(&body);
}

/* The screen, read every --interval, drawn again on a new size, until q. */
static int
run_screen(const struct top_config *cfg)
{
	struct top_view v = { 0 };
	enum screen_event ev = SCREEN_TIMEOUT;
	int64_t due = 0;

	screen_open();
	for (;;) {
		int64_t now = stagestate_now();

		if (ev == SCREEN_TIMEOUT || now >= due) {
			top_view_free(&v);
			if (top_view_read(&v, cfg->db_path) != 0) {
				screen_close(); /* the message is for the normal screen */
				die(EXIT_NOINPUT, "cannot read the state directory:");
			}
			due = now + (int64_t)cfg->interval_ms * 1000000;
		}
		draw(cfg, &v);
		ev = screen_wait((long)((due - stagestate_now()) / 1000000) + 1);
		if (ev == SCREEN_QUIT)
			break;
	}
	screen_close();
	top_view_free(&v);
	return EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct top_config cfg = { .interval_ms = 1000 };
	int rc;

	tool_init(argv[0]);
	parse_options(&cfg, argc, argv);
	validate_config(&cfg);
	out_init();
	rc = cfg.screen ? run_screen(&cfg) : print_once(&cfg);
	free(cfg.db_path);
	return out_close(rc);
}
