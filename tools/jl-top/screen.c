/* SPDX-License-Identifier: BSD-2-Clause */
/* jl-top's terminal: raw keys, the alternate screen, and signals through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "out.h"
#include "screen.h"
#include "util.h"

#define ENTER "\033[?1049h\033[?25l" /* the alternate screen, the cursor hidden */
#define LEAVE "\033[?25h\033[?1049l"

static int sig_pipe[2] = { -1, -1 }; /* the handler writes the signal's number */
static bool keys;                    /* stdin is a terminal in non-canonical mode */
static bool taken;                   /* the terminal is ours: to restore */
static bool exit_hook;               /* screen_restore is registered with atexit */
static struct termios saved;         /* stdin's mode before */
static bool have_saved;

static const int handled[] = { SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGCONT };

/* A signal: its number into the pipe, for screen_wait (async-signal-safe). */
static void
on_signal(int sig)
{
	int saved_errno = errno;
	unsigned char c = (unsigned char)sig;

	(void)!write(sig_pipe[1], &c, 1);
	errno = saved_errno;
}

static void
set_handlers(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll returns EINTR */
	for (size_t i = 0; i < sizeof(handled) / sizeof(*handled); i++)
		sigaction(handled[i], &sa, NULL);
}

/* Enter the alternate screen, keys unbuffered and not echoed (again, after a stop). */
static void
take(void)
{
	struct termios raw;

	if (!have_saved && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0)
		have_saved = true;
	if (have_saved) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		keys = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	if (write_full(STDOUT_FILENO, ENTER, strlen(ENTER)) != 0)
		die(EXIT_IOERR, "write error on standard output:");
	taken = true;
}

/* Put the terminal back; what fails here (a terminal gone) is past helping. */
static void
give_back(void)
{
	if (!taken)
		return;
	taken = false;
	(void)write_full(STDOUT_FILENO, LEAVE, strlen(LEAVE));
	if (keys)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	keys = false;
}

static void
screen_restore_at_exit(void)
{
	give_back();
}

void
screen_open(void)
{
	if (pipe(sig_pipe) != 0)
		die(EXIT_SOFTWARE, "cannot make a pipe:");
	for (int i = 0; i < 2; i++)
		if (fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK) != 0 ||
			fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC) != 0)
			die(EXIT_SOFTWARE, "cannot set up the signal pipe:");
	if (!exit_hook && atexit(screen_restore_at_exit) == 0)
		exit_hook = true;
	set_handlers(on_signal);
	take();
}

void
screen_size(size_t *rows, size_t *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

void
screen_draw(const struct buf *frame, size_t rows)
{
	struct buf out = BUF_INIT;
	const char *p = frame->data, *end = frame->data + frame->len;

	buf_puts(&out, "\033[H");
	for (size_t row = 0; row < rows && p < end; row++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (row > 0)
			buf_puts(&out, "\r\n"); /* never after the last row, which would scroll */
		buf_add(&out, p, n);
		buf_puts(&out, "\033[K");
		p += n + (nl != NULL);
	}
	buf_puts(&out, "\033[J");
	out_write(out.data, out.len);
	out_flush();
	buf_free(&out);
}

/* Stopped by Ctrl-Z: the terminal back, stop, and take it again when continued. */
static void
suspend(void)
{
	struct sigaction sa;

	out_flush();
	give_back();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, NULL);
	raise(SIGTSTP);
	/* continued */
	set_handlers(on_signal);
	take();
}

/* The signals in the pipe: what they mean for the loop. */
static enum screen_event
read_signals(void)
{
	enum screen_event ev = SCREEN_TIMEOUT;
	unsigned char sigs[64];
	ssize_t n;

	while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (sigs[i] == SIGINT || sigs[i] == SIGTERM || sigs[i] == SIGHUP)
				return SCREEN_QUIT;
			if (sigs[i] == SIGTSTP)
				suspend();
			else if (sigs[i] == SIGCONT && taken)
				take();     /* stopped and continued by others: the mode again */
			ev = SCREEN_REDRAW; /* the size, or the screen, changed */
		}
	return ev;
}

/* The keys waiting on stdin: SCREEN_QUIT for q, or when the terminal is gone. */
static enum screen_event
read_keys(void)
{
	char k[64];
	ssize_t n = read(STDIN_FILENO, k, sizeof(k));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? SCREEN_TIMEOUT : SCREEN_QUIT;
	if (n == 0 || memchr(k, 'q', (size_t)n) != NULL || memchr(k, 'Q', (size_t)n) != NULL)
		return SCREEN_QUIT;
	return SCREEN_TIMEOUT;
}

enum screen_event
screen_wait(long ms)
{
	struct pollfd fds[2] = { { .fd = sig_pipe[0], .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN } };
	enum screen_event ev;
	int n;

	n = poll(fds, keys ? 2 : 1, ms > 0 ? (int)ms : 0);
	if (n < 0 && errno != EINTR)
		die(EXIT_SOFTWARE, "poll:");
	/* A signal interrupts poll before or after its byte is seen: read the pipe anyway. */
	ev = read_signals();
	if (ev == SCREEN_QUIT)
		return ev;
	if (keys && n > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		read_keys() == SCREEN_QUIT)
		return SCREEN_QUIT;
	if (ev == SCREEN_TIMEOUT && n != 0)
		return SCREEN_REDRAW; /* woken early (a key, a signal): the caller redraws */
	return ev;
}

void
screen_close(void)
{
	out_flush();
	give_back();
	set_handlers(SIG_DFL);
	for (int i = 0; i < 2; i++)
		if (sig_pipe[i] >= 0) {
			close(sig_pipe[i]);
			sig_pipe[i] = -1;
		}
}
