/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading input: files or stdin, block by block or line by line.
 *
 * Before a read that may block (the input is not a regular file) queued
 * output is flushed, so a stage never sits on finished records while it
 * waits for more input (doc/design.md §2.6).
 */
#ifndef JL_IO_H
#define JL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct input {
	int fd;
	const char *name; /* for messages: the path, or "<stdin>" */
	bool may_block;   /* not a regular file: flush output before reading */
	off_t size;       /* size of a regular file, else -1 */
	off_t bytes_read; /* what input_read returned so far */
	bool is_stdin;
};

/*
 * Open path for reading; "-" is stdin. name is borrowed and must outlive in.
 * Returns 0, or -1 with errno set (the caller reports, usually EXIT_NOINPUT).
 */
int input_open(struct input *in, const char *path);

/*
 * Read up to n bytes, retrying EINTR. Returns the count, 0 at end of input,
 * or -1 with errno set.
 */
ssize_t input_read(struct input *in, void *buf, size_t n);

/* The size of the inputs paths ("-": stdin) when each is a regular file, else 0 (unknown). */
uint64_t inputs_size(char *const *paths, size_t n);

/* Close the input (stdin stays open). */
void input_close(struct input *in);

/* Flags of a line returned by linereader_next. */
enum {
	LINE_UNTERMINATED = 1, /* the input ended without a final '\n' */
	LINE_TOO_LONG = 2,     /* longer than max_line: cut to max_line bytes */
};

/*
 * Splits an input into '\n'-terminated lines of any length (NUL bytes
 * included), holding at most max_line bytes of one line in memory.
 */
struct linereader {
	struct input *in;
	char *buf;
	size_t size;          /* allocated */
	size_t start, end;    /* unread bytes are buf[start..end) */
	size_t max_line;      /* longer lines are cut and flagged */
	unsigned long lineno; /* physical line number of the last line returned */
	bool eof;
	bool nonblocking; /* read only what the fd has now (linereader_set_nonblocking) */
	bool skipping;    /* inside a line cut at max_line */
};

/*
 * Start reading lines from in (borrowed). bufsize is the initial buffer
 * (tests pass tiny ones to exercise block boundaries); max_line >= 1.
 */
void linereader_init(struct linereader *lr, struct input *in, size_t bufsize, size_t max_line);

/* What linereader_next returns in non-blocking mode when no line is complete yet. */
#define LINEREADER_AGAIN 2

/*
 * Non-blocking mode, for event loops: linereader_next reads only when the
 * input is readable now (poll), and returns LINEREADER_AGAIN instead of
 * waiting for more. The file descriptor itself stays as it is.
 */
void linereader_set_nonblocking(struct linereader *lr, bool on);

/*
 * Next line, without its '\n' (a '\r' before it is kept), followed by a NUL
 * (so libraries that print it as a C string stop there). *line points into
 * the reader's buffer and is valid until the next call. Returns 1 with a
 * line, 0 at end of input, -1 on a read error (errno set), or
 * LINEREADER_AGAIN (non-blocking mode only).
 */
int linereader_next(struct linereader *lr, const char **line, size_t *len, int *flags);

void linereader_free(struct linereader *lr);

#endif
