/* SPDX-License-Identifier: BSD-2-Clause */
/* A rate-limited progress line on stderr. */
#include <stdio.h>
#include <unistd.h>

#include "progress.h"
#include "util.h"

#define REDRAW_NS 250000000LL

static long long
ns_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

void
progress_init(struct progress *p, enum progress_mode mode)
{
	*p = (struct progress){ 0 };
	p->enabled = mode == PROGRESS_ON || (mode == PROGRESS_AUTO && isatty(STDERR_FILENO));
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

double
progress_elapsed(const struct progress *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)ns_between(&p->start, &now) / 1e9;
}

static void
draw(struct progress *p, const struct timespec *now)
{
	double secs = (double)ns_between(&p->start, now) / 1e9;
	double rate = secs > 0 ? (double)p->done / secs : 0;

	fprintf(stderr, "\r%s: %llu records", progname, p->done);
	if (p->failed > 0)
		fprintf(stderr, " (%llu failed)", p->failed);
	if (p->total_bytes > 0) {
		double frac = (double)p->bytes / (double)p->total_bytes;

		fprintf(stderr, ", %.0f%% of %.1f MB", 100 * frac, (double)p->total_bytes / 1e6);
		if (frac > 0.01 && frac < 1) {
			long eta = (long)(secs / frac - secs);

			fprintf(stderr, ", ETA %ld:%02ld", eta / 60, eta % 60);
		}
	}
	fprintf(stderr, ", %.0f/s\033[K", rate);
	fflush(stderr);
	p->drawn = true;
}

void
progress_update(struct progress *p, unsigned long long done, unsigned long long failed,
	unsigned long long bytes, unsigned long long total_bytes)
{
	struct timespec now;

	if (!p->enabled)
		return;
	p->done = done;
	p->failed = failed;
	p->bytes = bytes;
	p->total_bytes = total_bytes;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ns_between(&p->last, &now) < REDRAW_NS)
		return;
	p->last = now;
	draw(p, &now);
}

void
progress_end(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
}

bool
progress_due(struct progress *p)
{
	struct timespec now;

	if (!p->enabled)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ns_between(&p->last, &now) < REDRAW_NS)
		return false;
	p->last = now;
	return true;
}

void
progress_show(struct progress *p, const char *text)
{
	fprintf(stderr, "\r%s: %s\033[K", progname, text);
	fflush(stderr);
	p->drawn = true;
}
