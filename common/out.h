/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Buffered standard output for records.
 *
 * Rules kept here so no tool has to remember them:
 *  - every write is checked; a failure (disk full, closed terminal) is fatal
 *    with EXIT_IOERR and a message naming standard output;
 *  - EPIPE (the reader went away, "| head") ends the process by SIGPIPE, as
 *    git does, so the shell sees 141 and nothing is printed;
 *  - out_flush() before anything that can block (a read from a pipe, a
 *    network wait), so the next stage never waits for a finished record;
 *  - out_close() at the end: flush, close and report, for a checked exit.
 */
#ifndef JL_OUT_H
#define JL_OUT_H

#include <stdbool.h>
#include <stddef.h>

/* Buffer stdout; registers an exit handler that flushes on die(). */
void out_init(void);

/* Queue n bytes for stdout; may write when the buffer is full. */
void out_write(const void *s, size_t n);

/* Write everything queued. */
void out_flush(void);

/*
 * Flush, close stdout and check both. Returns rc when all went well, else
 * prints a message and returns EXIT_IOERR. Use as "return out_close(rc);".
 */
int out_close(int rc);

/*
 * For network tools, which ignore SIGPIPE: when the reader goes away
 * (EPIPE), writing stops but the process goes on, so it can finish and
 * commit the requests it paid for; out_broken() tells it so, and out_close()
 * then ends the process by SIGPIPE.
 */
void out_defer_epipe(void);
bool out_broken(void);

/*
 * write(2) all n bytes to fd, retrying short writes, EINTR and EAGAIN (a
 * zero-byte write counts as ENOSPC). Returns 0, or -1 with errno set.
 */
int write_full(int fd, const void *s, size_t n);

#endif
