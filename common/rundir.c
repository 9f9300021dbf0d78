/* SPDX-License-Identifier: BSD-2-Clause */
/* The private runtime directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"

void
rundir_default(struct buf *path)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat sb;

	if (xdg != NULL && *xdg == '/' && stat(xdg, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		buf_puts(path, xdg);
		buf_puts(path, "/jlkit");
	} else {
		buf_puts(path, "/tmp/jlkit-");
		buf_add_uint(path, (unsigned long long)geteuid());
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
