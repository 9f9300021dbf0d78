/* SPDX-License-Identifier: BSD-2-Clause */
/* Buffered, checked standard output with the EPIPE and flush rules. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "util.h"

#define OUT_BUFSIZE (128 * 1024)

static char *out_buf;
static size_t out_len;
static bool out_closed;         /* closed, or failed: nothing more is written */
static bool out_epipe_deferred; /* out_defer_epipe: EPIPE ends the process at out_close */
static bool out_epipe_seen;

int
write_full(int fd, const void *s, size_t n)
{
	const char *p = s;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The reader is gone: end as a killed filter should, silently, with 141. */
static JL_NORETURN void
die_of_sigpipe(void)
{
	signal(SIGPIPE, SIG_DFL);
	raise(SIGPIPE);
	_exit(128 + SIGPIPE);
}

static int
out_drain(void)
{
	if (out_len == 0)
		return 0;
	if (write_full(STDOUT_FILENO, out_buf, out_len) != 0) {
		int saved = errno;

		out_closed = true;
		out_len = 0;
		if (saved == EPIPE && out_epipe_deferred) {
			out_epipe_seen = true;
			return 0;
		}
		if (saved == EPIPE)
			die_of_sigpipe();
		errno = saved;
		return -1;
	}
	out_len = 0;
	return 0;
}

static void
out_flush_at_exit(void)
{
	if (!out_closed)
		(void)out_drain();
}

void
out_init(void)
{
	out_buf = xmalloc(OUT_BUFSIZE);
	out_len = 0;
	out_closed = false;
	atexit(out_flush_at_exit);
}

void
out_flush(void)
{
	if (out_closed)
		return;
	if (out_drain() != 0)
		die(EXIT_IOERR, "write error on standard output:");
}

void
out_write(const void *s, size_t n)
{
	if (out_closed || n == 0) /* s may be NULL when there is nothing */
		return;
	if (n > OUT_BUFSIZE - out_len) {
		out_flush();
		if (n >= OUT_BUFSIZE) {
			if (write_full(STDOUT_FILENO, s, n) != 0) {
				if (errno == EPIPE && out_epipe_deferred) {
					out_closed = out_epipe_seen = true;
					return;
				}
				if (errno == EPIPE)
					die_of_sigpipe();
				out_closed = true;
				die(EXIT_IOERR, "write error on standard output:");
			}
			return;
		}
	}
	memcpy(out_buf + out_len, s, n);
	out_len += n;
}

void
out_defer_epipe(void)
{
	out_epipe_deferred = true;
}

bool
out_broken(void)
{
	return out_epipe_seen;
}

int
out_close(int rc)
{
	if (out_epipe_seen)
		die_of_sigpipe();
	if (out_closed)
		return rc;
	if (out_drain() != 0) {
		warn("write error on standard output:");
		return EXIT_IOERR;
	}
	out_closed = true;
	free(out_buf);
	out_buf = NULL;
	if (close(STDOUT_FILENO) != 0 && errno != EINTR) {
		warn("error closing standard output:");
		return EXIT_IOERR;
	}
	return rc;
}
