/* SPDX-License-Identifier: BSD-2-Clause */
/* The state stages publish: one mapped file per stage, its counts a latch of two copies. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ledger.h"
#include "rundir.h"
#include "stagestate.h"
#include "util.h"

#define STAGE_MAGIC 0x4a4c5354u /* "JLST" */
#define STAGE_VERSION 1u

/*
 * The file, written by its stage only. The counts are a latch of two copies
 * (as Linux's seqcount latch): the writer makes seq odd and writes copy 0,
 * then makes it even and writes copy 1. A reader takes copy[seq & 1], the
 * one nobody writes (copy 1 while seq is odd, copy 0 while it is even), so
 * a writer stopped in mid-update never holds it up.
 */
struct stage_file {
	_Atomic uint32_t magic; /* set last, once info is written */
	uint32_t version;
	_Atomic uint32_t seq;
	uint32_t unused;
	struct stage_info info;
	struct stage_counts counts[2];
};

struct stagestate {
	struct stage_file *f;
	uint32_t shown; /* STAGE_SHOWN or 0, kept in every update */
	int dfd;
	char name[24];
};

int64_t
stagestate_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The start time of process pid in clock ticks after boot (/proc/PID/stat),
 * 0 when it is gone or a zombie.
 */
static uint64_t
process_start(pid_t pid)
{
	char path[64], text[1024];
	unsigned long long start = 0;
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	/* The name in parentheses may hold anything: fields start after the last ')'. */
	p = strrchr(text, ')');
	/* A zombie (killed, not yet reaped by its parent) has ended: it counts as gone. */
	if (p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return 0;
	/* After it: state (field 3) ... starttime (field 22). */
	for (int field = 2; p != NULL && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

/* The inode of fd's pipe, 0 when fd is not a pipe. */
static uint64_t
pipe_inode(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode) ? (uint64_t)sb.st_ino : 0;
}

/* Copy src into dst[size] with bytes outside printable ASCII as '?': it is drawn on terminals. */
static void
copy_printable(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src != NULL && src[i] != '\0' && i + 1 < size; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

/* db as an absolute path (a database that does not exist yet: from the working directory). */
static void
absolute_db(char *dst, size_t size, const char *db)
{
	char *real = db != NULL ? realpath(db, NULL) : NULL;
	char cwd[PATH_MAX];

	if (real != NULL) {
		snprintf(dst, size, "%s", real);
		free(real);
	} else if (db != NULL && *db != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		struct buf path = BUF_INIT;

		buf_printf(&path, "%s/%s", cwd, db);
		snprintf(dst, size, "%s", buf_cstr(&path));
		buf_free(&path);
	} else {
		snprintf(dst, size, "%s", db != NULL ? db : "");
	}
}

static void
fill_info(struct stage_info *info, const char *tool, const char *detail, const char *db)
{
	struct stat sb;
	const char *tty;

	copy_printable(info->tool, sizeof(info->tool), tool);
	copy_printable(info->detail, sizeof(info->detail), detail);
	absolute_db(info->db, sizeof(info->db), db);
	info->pid = (int32_t)getpid();
	info->pgid = (int32_t)getpgrp();
	info->starttime = process_start(getpid());
	info->started = (int64_t)time(NULL);
	info->in_pipe = pipe_inode(STDIN_FILENO);
	info->out_pipe = pipe_inode(STDOUT_FILENO);
	if (isatty(STDERR_FILENO) && fstat(STDERR_FILENO, &sb) == 0) {
		info->tty_dev = (uint64_t)sb.st_rdev;
		tty = ttyname(STDERR_FILENO);
		copy_printable(info->tty, sizeof(info->tty), tty);
	}
}

struct stagestate *
stagestate_open(const char *tool, const char *detail, const char *db, bool shown)
{
	struct stagestate *s;
	struct stage_file *f;
	struct stat sb;
	int dfd, fd;

	dfd = rundir_open_sub("stages");
	if (dfd < 0)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->dfd = dfd;
	snprintf(s->name, sizeof(s->name), "%ld", (long)getpid());
	/* A file of this pid left by a killed process is its own: replaced. */
	fd = openat(dfd, s->name, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
		ftruncate(fd, sizeof(*f)) != 0) {
		close(fd);
		goto fail_unlink;
	}
	f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		goto fail_unlink;
	s->f = f;
	f->version = STAGE_VERSION;
	fill_info(&f->info, tool, detail, db);
	s->shown = shown ? STAGE_SHOWN : 0;
	f->counts[0].budget_pico = f->counts[1].budget_pico = -1;
	f->counts[0].flags = f->counts[1].flags = s->shown;
	atomic_store_explicit(&f->magic, STAGE_MAGIC, memory_order_release);
	return s;

fail_unlink:
	unlinkat(dfd, s->name, 0);
fail:
	close(dfd);
	free(s);
	return NULL;
}

void
stagestate_update(struct stagestate *s, const struct stage_counts *c)
{
	struct stage_counts next = *c;
	uint32_t seq;

	if (s == NULL)
		return;
	next.flags = (c->flags & ~(uint32_t)STAGE_SHOWN) | s->shown;
	seq = atomic_load_explicit(&s->f->seq, memory_order_relaxed);
	for (int copy = 0; copy < 2; copy++) {
		atomic_store_explicit(&s->f->seq, ++seq, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		s->f->counts[copy] = next;
	}
	atomic_thread_fence(memory_order_release);
}

/*
 * A consistent copy of f's info and counts; false when f is not (yet) a
 * stage's. The copy readers take is one no writer touches (see stage_file):
 * they retry only when the writer moved on while they copied.
 */
static bool
read_file(const struct stage_file *f, struct stage_snapshot *out)
{
	if (atomic_load_explicit(&f->magic, memory_order_acquire) != STAGE_MAGIC ||
		f->version != STAGE_VERSION)
		return false;
	out->info = f->info; /* written before magic, never changed */
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t before = atomic_load_explicit(&f->seq, memory_order_acquire);

		out->counts = f->counts[before & 1];
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&f->seq, memory_order_relaxed) == before)
			return true;
	}
	return false;
}

/* Read the stage file name in dfd into out; false when it is not one (yet). */
static bool
read_stage(int dfd, const char *name, struct stage_snapshot *out)
{
	struct stage_file *f;
	struct stat sb;
	bool ok;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
		(size_t)sb.st_size != sizeof(*f)) {
		close(fd);
		return false;
	}
	f = mmap(NULL, sizeof(*f), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		return false;
	ok = read_file(f, out);
	munmap(f, sizeof(*f));
	return ok;
}

static bool
is_running(const struct stage_snapshot *s)
{
	return (s->counts.flags & STAGE_ENDED) == 0 && s->info.starttime != 0 &&
		process_start((pid_t)s->info.pid) == s->info.starttime;
}

/* Whether a running stage of l reads the pipe inode (0: none). */
static bool
pipe_read_by_running(const struct stage_list *l, uint64_t inode)
{
	for (size_t i = 0; inode != 0 && i < l->n; i++)
		if (l->v[i].running && l->v[i].info.in_pipe == inode)
			return true;
	return false;
}

/* Whether name is a pid's file of a process that is gone (a file being made has a live one). */
static bool
stale_name(const char *name)
{
	char *end;
	long pid = strtol(name, &end, 10);

	return *end != '\0' || pid <= 0 || process_start((pid_t)pid) == 0;
}

/* Read the stage files of directory d into l, removing the ones of processes long gone. */
static void
read_dir(DIR *d, int dir, struct stage_list *l, size_t *cap)
{
	struct dirent *e;

	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (l->n == *cap) {
			*cap = *cap ? 2 * *cap : 16;
			l->v = xreallocarray(l->v, *cap, sizeof(*l->v));
		}
		if (read_stage(dirfd(d), e->d_name, &l->v[l->n])) {
			l->v[l->n].running = is_running(&l->v[l->n]);
			l->v[l->n].dir = dir;
			l->n++;
		} else if (stale_name(e->d_name)) {
			unlinkat(dirfd(d), e->d_name, 0);
		}
	}
}

/* stagestate_list, of the default directory only or (all) of the fallback too. */
static int
list_stages(struct stage_list *l, bool all)
{
	size_t cap = 0, kept = 0;
	int64_t now = stagestate_now();
	DIR *dirs[2] = { NULL, NULL };
	/* -1: rundir_open_subs reads fds[1] unset when /tmp/jlkit-UID has no stages/ */
	int fds[2] = { -1, -1 }, n;

	*l = (struct stage_list){ 0 };
	n = all ? rundir_open_subs("stages", fds) : (fds[0] = rundir_open_sub("stages")) >= 0;
	if (n <= 0)
		return -1;
	for (int i = 0; i < n; i++) {
		dirs[i] = fdopendir(fds[i]);
		if (dirs[i] == NULL)
			close(fds[i]);
		else
			read_dir(dirs[i], i, l, &cap);
	}
	/* Ended stages stay while a running stage reads what they wrote, or for the grace time. */
	for (size_t i = 0; i < l->n; i++) {
		const struct stage_snapshot *s = &l->v[i];
		bool ended = s->counts.flags & STAGE_ENDED, read_on;
		char name[24];

		if (s->running) {
			l->v[kept++] = *s;
			continue;
		}
		read_on = ended && pipe_read_by_running(l, s->info.out_pipe);
		if (read_on)
			l->v[kept++] = *s;
		if (read_on ||
			(ended && s->info.out_pipe != 0 &&
				now - s->counts.ended_ns < STAGE_GRACE_S * 1000000000LL))
			continue;
		snprintf(name, sizeof(name), "%ld", (long)s->info.pid);
		unlinkat(dirfd(dirs[s->dir]), name, 0);
	}
	l->n = kept;
	for (int i = 0; i < n; i++)
		if (dirs[i] != NULL)
			closedir(dirs[i]);
	return 0;
}

int
stagestate_list(struct stage_list *l)
{
	return list_stages(l, false);
}

int
stagestate_list_all(struct stage_list *l)
{
	return list_stages(l, true);
}

void
stage_list_free(struct stage_list *l)
{
	free(l->v);
	*l = (struct stage_list){ 0 };
}

void
stagestate_close(struct stagestate *s, const struct stage_counts *c)
{
	struct stage_counts last;

	if (s == NULL)
		return;
	last = *c;
	last.flags |= STAGE_ENDED;
	last.in_flight = 0;
	last.ended_ns = stagestate_now();
	stagestate_update(s, &last);
	if (s->f->info.out_pipe == 0) /* else kept for the stage reading it (see the header) */
		unlinkat(s->dfd, s->name, 0);
	munmap(s->f, sizeof(*s->f));
	close(s->dfd);
	free(s);
}

/* Whether a feeds b: the same process group, a's stdout is b's stdin. */
static bool
feeds(const struct stage_snapshot *a, const struct stage_snapshot *b)
{
	return a->info.out_pipe != 0 && a->info.out_pipe == b->info.in_pipe &&
		a->info.pgid == b->info.pgid;
}

/* Which starts first: by start time, then pid. */
static bool
earlier(const struct stage_snapshot *a, const struct stage_snapshot *b)
{
	if (a->info.starttime != b->info.starttime)
		return a->info.starttime < b->info.starttime;
	return a->info.pid < b->info.pid;
}

struct stage_pipeline *
stagestate_order(struct stage_list *l, size_t *npipes)
{
	struct stage_snapshot *out = xcalloc(l->n ? l->n : 1, sizeof(*out));
	struct stage_pipeline *p = xcalloc(l->n ? l->n : 1, sizeof(*p));
	bool *placed = xcalloc(l->n ? l->n : 1, sizeof(*placed));
	size_t n = 0;

	*npipes = 0;
	while (n < l->n) {
		size_t head = l->n;

		/* The earliest stage not placed that nothing unplaced feeds: the next pipeline's
		 * head. */
		for (size_t i = 0; i < l->n; i++) {
			bool fed = false;

			if (placed[i])
				continue;
			for (size_t k = 0; k < l->n && !fed; k++)
				fed = !placed[k] && k != i && feeds(&l->v[k], &l->v[i]);
			if (!fed && (head == l->n || earlier(&l->v[i], &l->v[head])))
				head = i;
		}
		if (head == l->n) /* a cycle, which pipes cannot make: take the earliest */
			for (size_t i = 0; i < l->n; i++)
				if (!placed[i] && (head == l->n || earlier(&l->v[i], &l->v[head])))
					head = i;
		p[*npipes] = (struct stage_pipeline){ .first = n, .n = 0 };
		/* Follow the pipes: the earliest unplaced stage the last one feeds. */
		for (size_t at = head; at != l->n;) {
			size_t next = l->n;

			placed[at] = true;
			out[n++] = l->v[at];
			p[*npipes].n++;
			for (size_t i = 0; i < l->n; i++)
				if (!placed[i] && feeds(&l->v[at], &l->v[i]) &&
					(next == l->n || earlier(&l->v[i], &l->v[next])))
					next = i;
			at = next;
		}
		(*npipes)++;
	}
	if (l->n > 0) /* an empty list has no array to copy to */
		memcpy(l->v, out, l->n * sizeof(*out));
	free(out);
	free(placed);
	return p;
}

/* The records stage i of p will have done, 0 unknown (see stagestate_figures). */
static uint64_t
expected(const struct stage_list *l, const struct stage_pipeline *p, size_t i)
{
	const struct stage_snapshot *s = &l->v[i], *up;
	uint64_t up_expected;

	if (s->counts.total > 0)
		return s->counts.total;
	if (s->counts.total_bytes > 0 && s->counts.bytes > 0)
		return (uint64_t)((double)s->counts.read * (double)s->counts.total_bytes /
				(double)s->counts.bytes +
			0.5);
	if (i == p->first || !feeds(&l->v[i - 1], s))
		return 0;
	up = &l->v[i - 1];
	if (up->counts.flags & STAGE_ENDED)
		return up->counts.written;
	up_expected = expected(l, p, i - 1);
	if (up_expected == 0)
		return 0;
	if (up_expected <= up->counts.done || up->counts.done == 0)
		return up->counts.written +
			(up_expected > up->counts.done ? up_expected - up->counts.done : 0);
	return up->counts.written +
		(uint64_t)((double)(up_expected - up->counts.done) * (double)up->counts.written /
				(double)up->counts.done +
			0.5);
}

void
stagestate_figures(const struct stage_list *l, const struct stage_pipeline *p, size_t i,
	int64_t now_ns, struct stage_figures *f)
{
	const struct stage_snapshot *s = &l->v[i];
	int64_t until = s->counts.ended_ns > 0 ? s->counts.ended_ns : now_ns;
	double secs = s->counts.first_ns > 0 ? (double)(until - s->counts.first_ns) / 1e9 : 0;

	*f = (struct stage_figures){ .eta_s = -1 };
	f->rate = secs > 0.05 ? (double)s->counts.done / secs : 0;
	f->expected = expected(l, p, i);
	if (s->counts.flags & STAGE_ENDED) {
		f->eta_s = 0;
		return;
	}
	if (f->expected > 0 && f->rate > 0)
		f->eta_s = f->expected > s->counts.done
			? (double)(f->expected - s->counts.done) / f->rate
			: 0;
	if (f->eta_s >= 0 && i > p->first && feeds(&l->v[i - 1], s)) {
		struct stage_figures up;

		stagestate_figures(l, p, i - 1, now_ns, &up);
		if (up.eta_s > f->eta_s) {
			f->eta_s = up.eta_s;
			f->upstream_eta = true;
		}
	}
}

/* A line being built: fields are added whole while they fit in width columns. */
struct line {
	struct buf *b;
	size_t width, used;
	bool full, color;
};

/* Add text (ASCII) in colour sgr (NULL: none) after ", " when it is not the first. */
static void
field(struct line *ln, const char *sgr, const char *text)
{
	size_t len = strlen(text), sep = ln->used > 0 ? 2 : 0;

	if (ln->full)
		return;
	if (ln->width > 0 && ln->used + sep + len > ln->width) {
		ln->full = true;
		if (ln->used > 0)
			return;
		len = ln->width; /* the first field is cut, not left out */
	}
	if (sep)
		buf_puts(ln->b, ", ");
	if (ln->color && sgr != NULL)
		buf_puts(ln->b, sgr);
	buf_add(ln->b, text, len);
	if (ln->color && sgr != NULL)
		buf_puts(ln->b, "\033[0m");
	ln->used += sep + len;
}

/* n as 950, 12.3k, 4.5M. */
static void
human(char *dst, size_t size, uint64_t n)
{
	if (n < 10000)
		snprintf(dst, size, "%llu", (unsigned long long)n);
	else if (n < 10000000)
		snprintf(dst, size, "%.1fk", (double)n / 1e3);
	else
		snprintf(dst, size, "%.1fM", (double)n / 1e6);
}

void
stagestate_line(struct buf *b, const struct stage_snapshot *s, const struct stage_figures *f,
	size_t width, bool color)
{
	const struct stage_counts *c = &s->counts;
	struct line ln = { .b = b, .width = width, .color = color };
	struct buf head = BUF_INIT;
	char text[96], num[32];
	long eta;

	buf_puts(&head, s->info.tool);
	if (s->info.detail[0] != '\0') {
		buf_puts(&head, " (");
		buf_puts(&head, s->info.detail);
		buf_putc(&head, ')');
	}
	buf_puts(&head, ": ");
	buf_add_uint(&head, c->done);
	if (f->expected > 0) {
		buf_putc(&head, '/');
		buf_add_uint(&head, f->expected);
	}
	buf_puts(&head, " done");
	field(&ln, NULL, buf_cstr(&head));
	buf_free(&head);
	snprintf(text, sizeof(text), "%llu failed", (unsigned long long)c->failed);
	field(&ln, c->failed > 0 ? "\033[31m" : NULL, text);
	if (c->cached > 0) {
		snprintf(text, sizeof(text), "%llu cached", (unsigned long long)c->cached);
		field(&ln, NULL, text);
	}
	if (c->dropped > 0) {
		snprintf(text, sizeof(text), "%llu dropped", (unsigned long long)c->dropped);
		field(&ln, NULL, text);
	}
	if (c->in_flight > 0) {
		snprintf(text, sizeof(text), "%llu in flight", (unsigned long long)c->in_flight);
		field(&ln, NULL, text);
	}
	snprintf(text, sizeof(text), "%.1f/s", f->rate);
	field(&ln, NULL, text);
	if (c->rate_limited > 0) {
		snprintf(text, sizeof(text), "%llu 429s", (unsigned long long)c->rate_limited);
		field(&ln, "\033[33m", text);
	}
	if (c->tokens > 0) {
		human(num, sizeof(num), c->tokens);
		snprintf(text, sizeof(text), "%s tokens", num);
		field(&ln, NULL, text);
	}
	if (c->flags & STAGE_SPEND) {
		struct buf usd = BUF_INIT;

		buf_putc(&usd, '$');
		ledger_usd(&usd, c->usd_pico);
		field(&ln, NULL, buf_cstr(&usd));
		buf_free(&usd);
	}
	if (f->eta_s >= 0 && !(c->flags & STAGE_ENDED)) {
		eta = f->eta_s < 360000 ? (long)(f->eta_s + 0.5)
					: 359999; /* shown as 99:59:59 at most */
		if (eta >= 3600)
			snprintf(text, sizeof(text), "ETA %ld:%02ld:%02ld", eta / 3600,
				eta / 60 % 60, eta % 60);
		else
			snprintf(text, sizeof(text), "ETA %ld:%02ld", eta / 60, eta % 60);
		field(&ln, NULL, text);
	}
}
