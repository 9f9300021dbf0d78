/* SPDX-License-Identifier: BSD-2-Clause */
/* jl-top's view: the published stages by pipeline, the spend of their databases, rendered. */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "ledger.h"
#include "util.h"
#include "view.h"

#define SGR_BOLD "\033[1m"
#define SGR_DIM "\033[2m"
#define SGR_RESET "\033[0m"
#define ENDED_MARK ", ended"

/* How long a read of the ledger may wait for a writer's lock. */
#define SPEND_BUSY_MS 500

char *
top_db_path(const char *path)
{
	char *real = realpath(path, NULL), *slash, *dir;
	struct buf abs = BUF_INIT;
	char cwd[PATH_MAX];

	if (real != NULL)
		return real;
	if (*path != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		buf_printf(&abs, "%s/%s", cwd, path);
	else
		buf_puts(&abs, path);
	/* A file that does not exist yet, in a directory that does: the directory's realpath. */
	slash = strrchr(buf_cstr(&abs), '/');
	if (slash != NULL && slash > abs.data && slash[1] != '\0') {
		*slash = '\0';
		dir = realpath(abs.data, NULL);
		*slash = '/';
		if (dir != NULL) {
			struct buf joined = BUF_INIT;

			buf_printf(&joined, "%s%s", strcmp(dir, "/") == 0 ? "" : dir, slash);
			free(dir);
			buf_free(&abs);
			abs = joined;
		}
	}
	real = xstrdup(buf_cstr(&abs));
	buf_free(&abs);
	return real;
}

/*
 * Whether path is a database in WAL mode (bytes 18 and 19 of its header are
 * 2) with no -wal beside it: no process has it open. A read-only connection
 * would make a -wal and a -shm that it cannot remove; such a file is read as
 * immutable instead, which makes none. That is safe: only a checkpoint
 * writes the main file of a WAL database, and a writer that opens it now
 * writes its -wal for a long while before one.
 */
static bool
idle_wal(const char *path)
{
	unsigned char header[20];
	struct buf wal = BUF_INIT;
	struct stat sb;
	bool idle = false;
	FILE *f = fopen(path, "rb");

	if (f != NULL) {
		if (fread(header, 1, sizeof(header), f) == sizeof(header) && header[18] == 2 &&
			header[19] == 2) {
			buf_printf(&wal, "%s-wal", path);
			idle = stat(buf_cstr(&wal), &sb) != 0 && errno == ENOENT;
		}
		fclose(f);
	}
	buf_free(&wal);
	return idle;
}

/* path as an SQLite URI that opens it immutable, read-only. */
static void
immutable_uri(struct buf *uri, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";

	buf_puts(uri, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr("/-._~", *p) != NULL) {
			buf_putc(uri, (char)*p);
		} else {
			buf_putc(uri, '%');
			buf_putc(uri, hex[*p >> 4]);
			buf_putc(uri, hex[*p & 15]);
		}
	}
	buf_puts(uri, "?immutable=1");
}

enum spend_state
top_db_spend(const char *path, int64_t *pico, struct buf *err)
{
	static const char has_ledger[] =
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'cost_totals'";
	static const char total[] = "SELECT pico FROM cost_totals WHERE run = ''";
	enum spend_state state = SPEND_UNKNOWN;
	sqlite3_stmt *st = NULL;
	sqlite3 *conn = NULL;
	struct stat sb;
	int rc;

	*pico = 0;
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return SPEND_NONE;
		buf_printf(err, "%s", strerror(errno));
		return SPEND_UNKNOWN;
	}
	/* Read-only: jl-top never writes to a run database, nor makes one. */
	if (idle_wal(path)) {
		struct buf uri = BUF_INIT;

		immutable_uri(&uri, path);
		rc = sqlite3_open_v2(buf_cstr(&uri), &conn, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			NULL);
		buf_free(&uri);
	} else {
		rc = sqlite3_open_v2(path, &conn, SQLITE_OPEN_READONLY, NULL);
	}
	if (rc != SQLITE_OK)
		goto fail;
	(void)sqlite3_busy_timeout(conn, SPEND_BUSY_MS);
	if (sqlite3_prepare_v2(conn, has_ledger, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		goto fail;
	if (sqlite3_column_int64(st, 0) == 0) {
		state = SPEND_NONE;
		goto done;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(conn, total, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		state = SPEND_NONE;
	} else if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
		*pico = sqlite3_column_int64(st, 0);
		state = SPEND_KNOWN;
	} else if (rc == SQLITE_ROW) {
		buf_puts(err, "the ledger total is not an integer");
	} else {
		goto fail;
	}
	goto done;
fail:
	buf_puts(err, conn != NULL ? sqlite3_errmsg(conn) : sqlite3_errstr(rc));
done:
	sqlite3_finalize(st);
	sqlite3_close(conn);
	return state;
}

/* The database of v named path, added when it is not there yet. */
static struct top_db *
view_db(struct top_view *v, const char *path)
{
	for (size_t i = 0; i < v->ndbs; i++)
		if (strcmp(v->db[i].path, path) == 0)
			return &v->db[i];
	v->db = xreallocarray(v->db, v->ndbs + 1, sizeof(*v->db));
	v->db[v->ndbs] = (struct top_db){ .path = xstrdup(path), .budget_pico = -1 };
	return &v->db[v->ndbs++];
}

/* Whether pipeline p of v has a stage of database db. */
static bool
pipe_has_db(const struct top_view *v, const struct stage_pipeline *p, const char *db)
{
	for (size_t i = p->first; i < p->first + p->n; i++)
		if (strcmp(v->list.v[i].info.db, db) == 0)
			return true;
	return false;
}

/* Each stage's database as top_db_path resolves it, so paths compare equal. */
static void
resolve_dbs(struct stage_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct stage_info *info = &l->v[i].info;
		char *path;

		if (info->db[0] == '\0')
			continue;
		path = top_db_path(info->db);
		if (strlen(path) < sizeof(info->db))
			memcpy(info->db, path, strlen(path) + 1);
		free(path);
	}
}

int
top_view_read(struct top_view *v, const char *db)
{
	size_t kept = 0;

	*v = (struct top_view){ 0 };
	if (stagestate_list_all(&v->list) != 0)
		return -1;
	v->now_ns = stagestate_now();
	v->now = time(NULL);
	resolve_dbs(&v->list);
	v->pipe = stagestate_order(&v->list, &v->npipes);
	for (size_t k = 0; k < v->npipes; k++)
		if (db == NULL || pipe_has_db(v, &v->pipe[k], db))
			v->pipe[kept++] = v->pipe[k];
	v->npipes = kept;
	for (size_t k = 0; k < v->npipes; k++)
		for (size_t i = v->pipe[k].first; i < v->pipe[k].first + v->pipe[k].n; i++)
			if (v->list.v[i].info.db[0] != '\0')
				(void)view_db(v, v->list.v[i].info.db);
	/* The budget: the largest any running stage of the database works under. */
	for (size_t i = 0; i < v->list.n; i++) {
		const struct stage_snapshot *s = &v->list.v[i];

		for (size_t d = 0; d < v->ndbs; d++)
			if (s->running && s->counts.budget_pico >= 0 &&
				strcmp(s->info.db, v->db[d].path) == 0 &&
				s->counts.budget_pico > v->db[d].budget_pico)
				v->db[d].budget_pico = s->counts.budget_pico;
	}
	for (size_t d = 0; d < v->ndbs; d++) {
		struct buf err = BUF_INIT;

		v->db[d].state = top_db_spend(v->db[d].path, &v->db[d].spent_pico, &err);
		if (v->db[d].state == SPEND_UNKNOWN)
			v->db[d].error = xstrdup(buf_cstr(&err));
		buf_free(&err);
	}
	return 0;
}

void
top_view_free(struct top_view *v)
{
	for (size_t d = 0; d < v->ndbs; d++) {
		free(v->db[d].path);
		free(v->db[d].error);
	}
	free(v->db);
	free(v->pipe);
	stage_list_free(&v->list);
	*v = (struct top_view){ 0 };
}

/* --- what a pipeline is --------------------------------------------------------- */

/* The first terminal (db false) or run database (db true) p's stages name, or NULL. */
static const char *
pipe_first(const struct top_view *v, const struct stage_pipeline *p, bool db)
{
	for (size_t i = p->first; i < p->first + p->n; i++) {
		const struct stage_info *info = &v->list.v[i].info;
		const char *s = db ? info->db : info->tty;

		if (*s != '\0')
			return s;
	}
	return NULL;
}

/* When the pipeline's first stage started (Unix seconds). */
static time_t
pipe_started(const struct top_view *v, const struct stage_pipeline *p)
{
	int64_t started = v->list.v[p->first].info.started;

	for (size_t i = p->first; i < p->first + p->n; i++)
		if (v->list.v[i].info.started < started)
			started = v->list.v[i].info.started;
	return (time_t)started;
}

static const struct top_db *
find_db(const struct top_view *v, const char *path)
{
	for (size_t d = 0; path != NULL && d < v->ndbs; d++)
		if (strcmp(v->db[d].path, path) == 0)
			return &v->db[d];
	return NULL;
}

/* --- the table ----------------------------------------------------------------- */

/* Append line (ASCII) to b cut to width (0: no limit), in sgr when color, and '\n'. */
static void
put_line(struct buf *b, struct buf *line, size_t width, const char *sgr, bool color)
{
	size_t n = width > 0 && line->len > width ? width : line->len;

	if (color && sgr != NULL)
		buf_puts(b, sgr);
	buf_add(b, line->data, n);
	if (color && sgr != NULL)
		buf_puts(b, SGR_RESET);
	buf_putc(b, '\n');
}

/* started as the table shows it: the local time, with the date when it is not today's. */
static void
put_started(struct buf *b, time_t started, time_t now)
{
	struct tm then, today;
	char text[32];

	if (localtime_r(&started, &then) == NULL || localtime_r(&now, &today) == NULL) {
		buf_puts(b, "?");
		return;
	}
	strftime(text, sizeof(text),
		then.tm_year == today.tm_year && then.tm_yday == today.tm_yday
			? "%H:%M:%S"
			: "%Y-%m-%d %H:%M:%S",
		&then);
	buf_puts(b, text);
}

static void
pipe_header(struct buf *b, const struct top_view *v, const struct stage_pipeline *p)
{
	const char *tty = pipe_first(v, p, false), *db = pipe_first(v, p, true);

	buf_printf(b, "pipeline %ld", (long)v->list.v[p->first].info.pgid);
	if (tty != NULL)
		buf_printf(b, " on %s", tty);
	if (db != NULL)
		buf_printf(b, ", db %s", db);
	buf_puts(b, ", started ");
	put_started(b, pipe_started(v, p), v->now);
}

/* The stage line of stage i of p: stagestate_line, indented, marked when it ended. */
static void
stage_row(struct buf *b, const struct top_view *v, const struct stage_pipeline *p, size_t i,
	size_t width, bool color)
{
	const struct stage_snapshot *s = &v->list.v[i];
	size_t avail = width == 0 ? 0 : width > 2 ? width - 2 : 1;
	size_t mark = s->running ? 0 : strlen(ENDED_MARK);
	struct stage_figures f;

	stagestate_figures(&v->list, p, i, v->now_ns, &f);
	if (mark > 0 && avail > 0) {
		if (avail > mark + 8)
			avail -= mark;
		else
			mark = 0; /* no room for it */
	}
	buf_puts(b, "  ");
	stagestate_line(b, s, &f, avail, color);
	if (mark > 0) {
		if (color)
			buf_puts(b, SGR_DIM);
		buf_puts(b, ENDED_MARK);
		if (color)
			buf_puts(b, SGR_RESET);
	}
	buf_putc(b, '\n');
}

static void
db_row(struct buf *line, const struct top_db *d)
{
	buf_printf(line, "db %s: ", d->path);
	if (d->state == SPEND_UNKNOWN) {
		buf_printf(line, "spent unknown (%s)", d->error);
	} else {
		buf_puts(line, "spent $");
		ledger_usd(line, d->spent_pico);
	}
	if (d->budget_pico < 0) {
		buf_puts(line, d->state == SPEND_UNKNOWN ? "; no budget" : ", no budget");
	} else if (d->state == SPEND_UNKNOWN) {
		buf_puts(line, "; budget $");
		ledger_usd(line, d->budget_pico);
	} else {
		ledger_sum left = (ledger_sum)d->budget_pico - d->spent_pico;

		buf_puts(line, " of budget $");
		ledger_usd(line, d->budget_pico);
		buf_puts(line, left >= 0 ? " ($" : " (over by $");
		ledger_usd(line, left >= 0 ? left : -left);
		buf_puts(line, left >= 0 ? " left)" : ")");
	}
}

void
top_view_table(struct buf *b, const struct top_view *v, size_t width, bool color)
{
	struct buf line = BUF_INIT;

	if (v->npipes == 0) {
		buf_puts(&line, "No jlkit pipelines running.");
		put_line(b, &line, width, NULL, color);
	}
	for (size_t k = 0; k < v->npipes; k++) {
		const struct stage_pipeline *p = &v->pipe[k];

		buf_reset(&line);
		pipe_header(&line, v, p);
		put_line(b, &line, width, SGR_BOLD, color);
		for (size_t i = p->first; i < p->first + p->n; i++)
			stage_row(b, v, p, i, width, color);
	}
	for (size_t d = 0; d < v->ndbs; d++) {
		buf_reset(&line);
		db_row(&line, &v->db[d]);
		put_line(b, &line, width, NULL, color);
	}
	buf_free(&line);
}

/* --- JSON ---------------------------------------------------------------------- */

/* "name": the string s, or null when it is empty or NULL. */
static void
json_string_or_null(struct buf *b, const char *name, const char *s)
{
	buf_printf(b, ",\"%s\":", name);
	if (s != NULL && *s != '\0')
		jw_cstring(b, s);
	else
		buf_puts(b, "null");
}

/* "name": pico-dollars as an exact USD number. */
static void
json_usd(struct buf *b, const char *name, ledger_sum pico)
{
	buf_printf(b, ",\"%s\":", name);
	ledger_usd(b, pico);
}

static void
json_stage(struct buf *b, const struct top_view *v, const struct stage_pipeline *p, size_t i)
{
	const struct stage_snapshot *s = &v->list.v[i];
	const struct stage_counts *c = &s->counts;
	struct stage_figures f;

	stagestate_figures(&v->list, p, i, v->now_ns, &f);
	buf_puts(b, "{\"tool\":");
	jw_cstring(b, s->info.tool);
	json_string_or_null(b, "detail", s->info.detail);
	buf_printf(b, ",\"pid\":%ld,\"running\":%s", (long)s->info.pid,
		s->running ? "true" : "false");
	buf_printf(b,
		",\"done\":%llu,\"failed\":%llu,\"cached\":%llu,\"dropped\":%llu,"
		"\"written\":%llu,\"in_flight\":%llu,\"rate\":%.2f,\"rate_limited\":%llu,"
		"\"tokens\":%llu",
		(unsigned long long)c->done, (unsigned long long)c->failed,
		(unsigned long long)c->cached, (unsigned long long)c->dropped,
		(unsigned long long)c->written, (unsigned long long)c->in_flight, f.rate,
		(unsigned long long)c->rate_limited, (unsigned long long)c->tokens);
	if (c->flags & STAGE_SPEND)
		json_usd(b, "usd", c->usd_pico);
	else
		buf_puts(b, ",\"usd\":null");
	if (f.expected > 0)
		buf_printf(b, ",\"expected\":%llu", (unsigned long long)f.expected);
	else
		buf_puts(b, ",\"expected\":null");
	if (f.eta_s >= 0)
		buf_printf(b, ",\"eta_s\":%.0f", f.eta_s);
	else
		buf_puts(b, ",\"eta_s\":null");
	buf_putc(b, '}');
}

void
top_view_json(struct buf *b, const struct top_view *v)
{
	for (size_t k = 0; k < v->npipes; k++) {
		const struct stage_pipeline *p = &v->pipe[k];
		const struct top_db *d = find_db(v, pipe_first(v, p, true));
		time_t started = pipe_started(v, p);
		struct tm tm;
		char iso[32] = "";

		if (gmtime_r(&started, &tm) != NULL)
			strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_printf(b, "{\"pgid\":%ld", (long)v->list.v[p->first].info.pgid);
		json_string_or_null(b, "tty", pipe_first(v, p, false));
		json_string_or_null(b, "db", d != NULL ? d->path : NULL);
		json_string_or_null(b, "started", iso);
		buf_puts(b, ",\"stages\":[");
		for (size_t i = p->first; i < p->first + p->n; i++) {
			if (i > p->first)
				buf_putc(b, ',');
			json_stage(b, v, p, i);
		}
		buf_putc(b, ']');
		if (d != NULL && d->state != SPEND_UNKNOWN)
			json_usd(b, "spent_usd", d->spent_pico);
		else
			buf_puts(b, ",\"spent_usd\":null");
		if (d != NULL && d->budget_pico >= 0)
			json_usd(b, "budget_usd", d->budget_pico);
		else
			buf_puts(b, ",\"budget_usd\":null");
		buf_puts(b, "}\n");
	}
}
