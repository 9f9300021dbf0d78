/* SPDX-License-Identifier: BSD-2-Clause */
/* Program name, start-up hygiene, diagnostics and checked allocation. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "term.h"
#include "util.h"

const char *progname = "jlkit";

void
tool_init(const char *argv0)
{
	const char *slash;
	int fd;

	if (argv0 != NULL && *argv0 != '\0') {
		slash = strrchr(argv0, '/');
		progname = slash != NULL ? slash + 1 : argv0;
	}
	/*
	 * Make sure fds 0-2 exist: if the caller closed one, the next open()
	 * would get it, and a diagnostic could be written into that file.
	 */
	do {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			die(EXIT_SOFTWARE, "cannot open '/dev/null':");
	} while (fd <= 2);
	close(fd);
	signal(SIGPIPE, SIG_DFL);
	/* On a terminal other stages may draw a progress block on: messages go above it. */
	term_attach();
}

void
report_text(const char *text, size_t len)
{
	if (term_attached()) {
		term_message(text, len);
		return;
	}
	fwrite(text, 1, len, stderr);
	fflush(stderr);
}

void
vreport(const char *fmt, va_list ap)
{
	int saved_errno = errno;
	size_t flen = strlen(fmt), len;
	char text[4096]; /* no allocation: this also reports that memory ran out */
	int n;

	n = snprintf(text, sizeof(text), "%s: ", progname);
	len = n > 0 ? (size_t)n : 0;
	n = vsnprintf(text + len, sizeof(text) - len, fmt, ap);
	len += n > 0 ? (size_t)n : 0;
	if (flen > 0 && fmt[flen - 1] == ':' && len < sizeof(text)) {
		n = snprintf(text + len, sizeof(text) - len, " %s", strerror(saved_errno));
		len += n > 0 ? (size_t)n : 0;
	}
	if (len > sizeof(text) - 5) /* cut: say so */
		len = sizeof(text) - 5 + (size_t)snprintf(text + sizeof(text) - 5, 5, "...");
	text[len++] = '\n';
	report_text(text, len);
}

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	exit(code);
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

int
error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return -1;
}

static JL_NORETURN void
out_of_memory(size_t size)
{
	die(EXIT_SOFTWARE, "out of memory (allocating %zu bytes)", size);
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(nmemb * size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		die(EXIT_SOFTWARE, "allocation of %zu x %zu bytes overflows", nmemb, size);
	return xrealloc(ptr, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

char *
xmemdup(const void *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		out_of_memory(n);
	p = xmalloc(n + 1);
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
