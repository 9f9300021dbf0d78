/* SPDX-License-Identifier: BSD-2-Clause */
/* The terminal's protocol between the jlkit processes writing to it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"
#include "term.h"

static struct {
	pthread_mutex_t lock; /* the threads of this process */
	int fd;               /* <rundir>/term/DEV: its lock and the block's height */
	uint64_t dev;
} term = { PTHREAD_MUTEX_INITIALIZER, -1, 0 };

bool
term_usable(void)
{
	const char *t = getenv("TERM");

	return isatty(STDERR_FILENO) && (t == NULL || strcmp(t, "dumb") != 0);
}

int
term_file(const char *suffix)
{
	char name[48];
	int dfd, fd;

	dfd = rundir_open_sub("term");
	if (dfd < 0)
		return -1;
	snprintf(name, sizeof(name), "%llu%s", (unsigned long long)term.dev, suffix);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(dfd);
	return fd;
}

bool
term_attach(void)
{
	struct stat sb;

	if (term.fd >= 0)
		return true;
	if (!term_usable() || fstat(STDERR_FILENO, &sb) != 0)
		return false;
	term.dev = (uint64_t)sb.st_rdev;
	term.fd = term_file("");
	return term.fd >= 0;
}

bool
term_attached(void)
{
	return term.fd >= 0;
}

uint64_t
term_device(void)
{
	return term.dev;
}

void
term_write(const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a message that cannot be written has nowhere else to go */
		text += n;
		len -= (size_t)n;
	}
}

static void
flock_retry(int fd, int op)
{
	while (flock(fd, op) != 0 && errno == EINTR)
		;
}

unsigned
term_take(void)
{
	uint32_t lines = 0;

	pthread_mutex_lock(&term.lock);
	flock_retry(term.fd, LOCK_EX);
	if (pread(term.fd, &lines, sizeof(lines), 0) != (ssize_t)sizeof(lines))
		lines = 0;
	return lines;
}

void
term_give(unsigned lines)
{
	uint32_t n = lines;

	/* When this fails the next writer reads no block: at worst one is left on the screen. */
	(void)!pwrite(term.fd, &n, sizeof(n), 0);
	flock_retry(term.fd, LOCK_UN);
	pthread_mutex_unlock(&term.lock);
}

void
term_message(const char *text, size_t len)
{
	if (term_take() > 0)
		term_write("\r\033[J", 4);
	term_write(text, len);
	term_give(0);
}
