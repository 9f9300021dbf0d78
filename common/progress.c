/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Progress: the published counts, and the block one stage draws for all
 * the stages on its terminal (term.h: the protocol that keeps messages
 * above it).
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "buf.h"
#include "progress.h"
#include "term.h"
#include "util.h"

#define REDRAW_NS 250000000L        /* the block, four times a second */
#define PLAIN_EVERY_NS 5000000000LL /* a plain line every 5 seconds */

struct progress_display {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	bool block; /* drawn on the terminal; else plain lines */
	bool color;
	int draw_fd; /* <rundir>/term/DEV.draw; locked: this process draws */
	bool drawing;
	int64_t last_plain;
};

/* The block: the running stages drawn on this terminal, in pipeline order, cut to its size. */
static void
compose_block(struct progress_display *d, struct buf *out, unsigned *nlines)
{
	struct winsize ws = { 0 };
	struct stage_pipeline *pipes;
	struct stage_list l;
	size_t npipes, width = 80, rows = 24, shown = 0, more = 0;
	int64_t now = stagestate_now();

	*nlines = 0;
	if (stagestate_list(&l) != 0)
		return;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		width = ws.ws_col;
		rows = ws.ws_row > 1 ? ws.ws_row : 2;
	}
	pipes = stagestate_order(&l, &npipes);
	for (size_t k = 0; k < npipes; k++)
		for (size_t i = pipes[k].first; i < pipes[k].first + pipes[k].n; i++) {
			const struct stage_snapshot *s = &l.v[i];
			struct stage_figures f;

			if (!s->running || s->info.tty_dev != term_device() ||
				!(s->counts.flags & STAGE_SHOWN))
				continue;
			if (shown + 1 >= rows - 1 && shown > 0) {
				more++;
				continue;
			}
			stagestate_figures(&l, &pipes[k], i, now, &f);
			if (shown > 0)
				buf_putc(out, '\n');
			buf_putc(out, '\r');
			stagestate_line(out, s, &f, width - 1, d->color);
			buf_puts(out, "\033[K");
			shown++;
		}
	if (more > 0) {
		buf_printf(out, "\n\r... and %zu more stages\033[K", more);
		shown++;
	}
	free(pipes);
	stage_list_free(&l);
	*nlines = (unsigned)shown;
}

/* Draw the block in place of the one on the screen (or erase it when no stage is left). */
static void
draw_block(struct progress_display *d)
{
	struct buf out = BUF_INIT;
	unsigned lines;

	compose_block(d, &out, &lines);
	if (lines > 0) {
		buf_puts(&out, "\033[J");
		if (lines > 1)
			buf_printf(&out, "\033[%uA", lines - 1);
		buf_putc(&out, '\r');
	}
	if (term_take() > 0 && lines == 0)
		buf_puts(&out, "\r\033[J");
	term_write(out.data, out.len);
	term_give(lines);
	buf_free(&out);
}

/* The plain line of this stage, for a log: no escape codes, no carriage return. */
static void
print_plain(void)
{
	struct stage_pipeline *pipes;
	struct stage_list l;
	struct buf out = BUF_INIT;
	size_t npipes;

	if (stagestate_list(&l) != 0)
		return;
	pipes = stagestate_order(&l, &npipes);
	for (size_t k = 0; k < npipes; k++)
		for (size_t i = pipes[k].first; i < pipes[k].first + pipes[k].n; i++) {
			struct stage_figures f;

			if (l.v[i].info.pid != (int32_t)getpid())
				continue;
			stagestate_figures(&l, &pipes[k], i, stagestate_now(), &f);
			stagestate_line(&out, &l.v[i], &f, 0, false);
			buf_putc(&out, '\n');
			report_text(out.data, out.len);
		}
	free(pipes);
	stage_list_free(&l);
	buf_free(&out);
}

static void *
display_main(void *arg)
{
	struct progress_display *d = arg;
	struct timespec until;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += REDRAW_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&d->wake, &d->lock, &until);
		if (d->stop)
			break;
		pthread_mutex_unlock(&d->lock);
		if (!d->block) {
			int64_t now = stagestate_now();

			if (now - d->last_plain >= PLAIN_EVERY_NS) {
				d->last_plain = now;
				print_plain();
			}
		} else {
			if (!d->drawing)
				d->drawing = flock(d->draw_fd, LOCK_EX | LOCK_NB) == 0;
			if (d->drawing)
				draw_block(d);
		}
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Start the thread that draws (block) or prints (plain); NULL when it cannot run. */
static struct progress_display *
display_start(bool block)
{
	struct progress_display *d = xcalloc(1, sizeof(*d));
	const char *no_color = getenv("NO_COLOR");
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc;

	d->block = block;
	d->color = block && (no_color == NULL || *no_color == '\0');
	d->draw_fd = block ? term_file(".draw") : -1;
	d->last_plain = stagestate_now();
	if (block && d->draw_fd < 0) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);
	/* Signals are for the record loop: the thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&d->thread, NULL, display_main, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		if (d->draw_fd >= 0)
			close(d->draw_fd);
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

/* Stop the thread (the stage's last counts are published). */
static void
display_stop(struct progress_display *d)
{
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
}

/*
 * After the stage's state is gone: the block drawn once more without it, left to the others.
 * A stage that never drew draws it too when no one else does (the drawer ended before it):
 * else its line would stay on the screen.
 */
static void
display_free(struct progress_display *d)
{
	if (d->block && !d->drawing)
		d->drawing = flock(d->draw_fd, LOCK_EX | LOCK_NB) == 0;
	if (d->drawing)
		draw_block(d);
	if (d->draw_fd >= 0)
		close(d->draw_fd); /* the drawing lock goes with it */
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void
progress_start(struct progress *p, enum progress_mode mode, bool quiet, const char *detail,
	const char *db)
{
	bool on_terminal = term_usable();
	/* Records written to the terminal would run through the block: as curl does, none then. */
	bool shown = mode == PROGRESS_ON ||
		(mode == PROGRESS_AUTO && !quiet && on_terminal && !isatty(STDOUT_FILENO));
	bool block = shown && on_terminal && term_attach();

	*p = (struct progress){ 0 };
	p->counts.budget_pico = -1;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->state = stagestate_open(progname, detail, db, block);
	if (shown && p->state != NULL)
		p->display = display_start(block);
}

void
progress_publish(struct progress *p)
{
	if (p->counts.first_ns == 0 && p->counts.read > 0)
		p->counts.first_ns = stagestate_now();
	stagestate_update(p->state, &p->counts);
}

void
progress_end(struct progress *p)
{
	progress_publish(p);
	if (p->display != NULL)
		display_stop(p->display);
	stagestate_close(p->state, &p->counts);
	p->state = NULL;
	if (p->display != NULL)
		display_free(p->display);
	p->display = NULL;
}

double
progress_elapsed(const struct progress *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - p->start.tv_sec) +
		(double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
}
