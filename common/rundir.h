/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The per-user runtime directory that processes share state in: the rate
 * limiter's files and the stages' published progress (doc/design.md §4.5,
 * §4.8). It is $XDG_RUNTIME_DIR/jlkit, else /tmp/jlkit-UID, mode 0700,
 * owned by the user and writable by nobody else.
 */
#ifndef JL_RUNDIR_H
#define JL_RUNDIR_H

#include <stdbool.h>

#include "buf.h"

/* Append the default directory's path to path (it may not exist yet). */
void rundir_default(struct buf *path);

/*
 * Open the directory dir, creating it mode 0700, and check that it belongs to
 * this user and nobody else can write to it (else -1 with errno EPERM or
 * EACCES). follow: whether its last component may be a symbolic link (not
 * for the default, whose name others can guess). Returns an O_DIRECTORY fd
 * (close-on-exec), or -1 with errno set.
 */
int rundir_open(const char *dir, bool follow);

/*
 * Open (creating) the subdirectory name of the default directory with the
 * same checks. Returns its fd, or -1 with errno set.
 */
int rundir_open_sub(const char *name);

/*
 * For readers of what every process of the user publishes: the subdirectory
 * name of the default directory (made), and that of /tmp/jlkit-UID too when
 * the default is elsewhere and it exists (a job run by cron, without
 * $XDG_RUNTIME_DIR, publishes there). Fills fds; returns how many, or -1
 * with errno when the default cannot be opened.
 */
int rundir_open_subs(const char *name, int fds[2]);

#endif
