/* SPDX-License-Identifier: BSD-2-Clause */
/* The private runtime directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"

/* The directory without $XDG_RUNTIME_DIR. */
static void
fallback(struct buf *path)
{
	buf_puts(path, "/tmp/jlkit-");
	buf_add_uint(path, (unsigned long long)geteuid());
}

void
rundir_default(struct buf *path)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat sb;

	if (xdg != NULL && *xdg == '/' && stat(xdg, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		buf_puts(path, xdg);
		buf_puts(path, "/jlkit");
	} else {
		fallback(path);
	}
}

int
rundir_open(const char *dir, bool follow)
{
	struct stat sb;
	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		close(fd);
		errno = sb.st_uid != geteuid() ? EPERM : EACCES;
		return -1;
	}
	return fd;
}

int
rundir_open_sub(const char *name)
{
	struct buf path = BUF_INIT;
	int fd;

	rundir_default(&path);
	fd = rundir_open(buf_cstr(&path), false);
	if (fd >= 0) {
		close(fd);
		buf_putc(&path, '/');
		buf_puts(&path, name);
		fd = rundir_open(buf_cstr(&path), false);
	}
	buf_free(&path);
	return fd;
}

int
rundir_open_subs(const char *name, int fds[2])
{
	struct buf def = BUF_INIT, other = BUF_INIT;
	struct stat sb;
	int n = 0;

	fds[n] = rundir_open_sub(name);
	if (fds[n++] < 0)
		return -1;
	rundir_default(&def);
	fallback(&other);
	if (strcmp(buf_cstr(&def), buf_cstr(&other)) != 0) {
		buf_putc(&other, '/');
		buf_puts(&other, name);
		/* Only looked at when it exists: it is not this process's to make. */
		if (lstat(buf_cstr(&other), &sb) == 0 && S_ISDIR(sb.st_mode) &&
			(fds[n] = rundir_open(buf_cstr(&other), false)) >= 0)
			n++;
	}
	buf_free(&def);
	buf_free(&other);
	return n;
}
