/* SPDX-License-Identifier: BSD-2-Clause */
/* Input files, flush-before-blocking reads, and a bounded line splitter. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "out.h"
#include "util.h"

int
input_open(struct input *in, const char *path)
{
	struct stat st;

	in->is_stdin = strcmp(path, "-") == 0;
	in->bytes_read = 0;
	if (in->is_stdin) {
		in->fd = STDIN_FILENO;
		in->name = "<stdin>";
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0)
			return -1;
		in->name = path;
	}
	if (fstat(in->fd, &st) != 0) {
		int saved = errno;

		input_close(in);
		errno = saved;
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		input_close(in);
		errno = EISDIR;
		return -1;
	}
	in->may_block = !S_ISREG(st.st_mode);
	in->size = S_ISREG(st.st_mode) ? st.st_size : -1;
	return 0;
}

ssize_t
input_read(struct input *in, void *buf, size_t n)
{
	ssize_t r;

	if (in->may_block)
		out_flush();
	do
		r = read(in->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		in->bytes_read += r;
	return r;
}

uint64_t
inputs_size(char *const *paths, size_t n)
{
	uint64_t total = 0;
	struct stat sb;

	for (size_t i = 0; i < n; i++) {
		int rc =
			strcmp(paths[i], "-") == 0 ? fstat(STDIN_FILENO, &sb) : stat(paths[i], &sb);

		if (rc != 0 || !S_ISREG(sb.st_mode))
			return 0;
		total += (uint64_t)sb.st_size;
	}
	return total;
}

void
input_close(struct input *in)
{
	if (!in->is_stdin && in->fd >= 0)
		close(in->fd);
	in->fd = -1;
}

void
linereader_init(struct linereader *lr, struct input *in, size_t bufsize, size_t max_line)
{
	memset(lr, 0, sizeof(*lr));
	lr->in = in;
	lr->size = bufsize < 2 ? 2 : bufsize;
	lr->buf = xmalloc(lr->size);
	lr->max_line = max_line < 1 ? 1 : max_line;
}

/*
 * Read more input into buf[end..size), compacting or growing first.
 * Returns 0, -1 on a read error, or LINEREADER_AGAIN in non-blocking mode
 * when nothing can be read now.
 */
static int
fill(struct linereader *lr)
{
	ssize_t r;

	if (lr->nonblocking) {
		struct pollfd pfd = { .fd = lr->in->fd, .events = POLLIN };

		if (poll(&pfd, 1, 0) == 0)
			return LINEREADER_AGAIN;
	}

	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	if (lr->end + 1 >= lr->size) { /* keep a byte for the NUL after a last line */
		lr->size *= 2;
		lr->buf = xrealloc(lr->buf, lr->size);
	}
	r = input_read(lr->in, lr->buf + lr->end, lr->size - lr->end - 1);
	if (r < 0)
		return -1;
	if (r == 0)
		lr->eof = true;
	lr->end += (size_t)r;
	return 0;
}

/*
 * Drop the rest of a line that was cut at max_line: everything up to and
 * including the next '\n'. Returns 0, -1 on a read error, or LINEREADER_AGAIN.
 */
static int
skip_rest_of_line(struct linereader *lr)
{
	int r;

	for (;;) {
		char *nl = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);

		if (nl != NULL) {
			lr->start = (size_t)(nl - lr->buf) + 1;
			lr->skipping = false;
			return 0;
		}
		lr->start = lr->end;
		if (lr->eof) {
			lr->skipping = false;
			return 0;
		}
		if ((r = fill(lr)) != 0)
			return r;
	}
}

/*
 * Hand out the len bytes at buf[start] as the next line, cut to max_line, and
 * consume `used` bytes. rest_unread: the line goes on beyond what is buffered.
 */
static int
give_line(struct linereader *lr, size_t len, size_t used, bool rest_unread, const char **line,
	size_t *linelen, int *flags)
{
	*line = lr->buf + lr->start;
	*linelen = len;
	if (len > lr->max_line) {
		*linelen = lr->max_line;
		*flags |= LINE_TOO_LONG;
		lr->skipping = rest_unread;
	}
	/* Over the '\n', a byte of the dropped tail, or the byte kept spare by fill(). */
	lr->buf[lr->start + *linelen] = '\0';
	lr->start += used;
	lr->lineno++;
	return 1;
}

int
linereader_next(struct linereader *lr, const char **line, size_t *len, int *flags)
{
	size_t scanned = 0;
	int r;

	*flags = 0;
	if (lr->skipping && (r = skip_rest_of_line(lr)) != 0)
		return r;
	for (;;) {
		size_t avail = lr->end - lr->start;
		char *nl = memchr(lr->buf + lr->start + scanned, '\n', avail - scanned);

		if (nl != NULL) {
			size_t n = (size_t)(nl - (lr->buf + lr->start));

			return give_line(lr, n, n + 1, false, line, len, flags);
		}
		scanned = avail;
		if (avail > lr->max_line)
			return give_line(lr, avail, avail, !lr->eof, line, len, flags);
		if (lr->eof) {
			if (avail == 0)
				return 0;
			*flags |= LINE_UNTERMINATED;
			return give_line(lr, avail, avail, false, line, len, flags);
		}
		if ((r = fill(lr)) != 0) /* may move the unread bytes; scanned stays valid */
			return r;
	}
}

void
linereader_set_nonblocking(struct linereader *lr, bool on)
{
	lr->nonblocking = on;
}

void
linereader_free(struct linereader *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}
