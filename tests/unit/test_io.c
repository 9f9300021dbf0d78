/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/io.c: input_open on files, directories, missing paths and stdin, and
 * the line reader over a temporary file and over a pipe, with buffers of 2,
 * 3, 7, 64 and 65536 bytes: NUL bytes, CRLF, empty lines, no final newline,
 * lines longer than max_line (in the buffer and spanning many reads), line
 * numbers, the NUL after each line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "io.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

static const size_t bufsizes[] = { 2, 3, 7, 64, 65536 };

/* Append a line's bytes readably: printable ASCII as is, anything else as \xNN. */
static void
describe_bytes(struct buf *d, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf_putc(d, (char)c);
		} else {
			buf_puts(d, "\\x");
			buf_putc(d, hex[c >> 4]);
			buf_putc(d, hex[c & 15]);
		}
	}
}

/*
 * Read every line of in and describe them, one "LINENO FLAGS BYTES" per line
 * (flags: - none, U unterminated, L too long); "!nul" marks a line without
 * its NUL, "!again" an end of input that does not stay ended.
 */
static void
read_lines(struct input *in, size_t bufsize, size_t max_line, struct buf *d)
{
	struct linereader lr;
	const char *line;
	size_t len;
	int flags, rc;

	linereader_init(&lr, in, bufsize, max_line);
	while ((rc = linereader_next(&lr, &line, &len, &flags)) == 1) {
		buf_add_uint(d, lr.lineno);
		buf_puts(d, flags == 0 ? " -" : "");
		if (flags != 0)
			buf_puts(d,
				(flags & LINE_TOO_LONG) && (flags & LINE_UNTERMINATED) ? " LU"
					: flags & LINE_TOO_LONG                        ? " L"
										       : " U");
		buf_putc(d, ' ');
		describe_bytes(d, line, len);
		if (line[len] != '\0')
			buf_puts(d, " !nul");
		buf_putc(d, '\n');
	}
	if (rc != 0)
		buf_puts(d, "!error\n");
	else if (linereader_next(&lr, &line, &len, &flags) != 0)
		buf_puts(d, "!again\n");
	linereader_free(&lr);
}

static void
read_file(const char *data, size_t n, size_t bufsize, size_t max_line, struct buf *d)
{
	char *path = temp_file(data, n);
	struct input in;

	if (input_open(&in, path) != 0) {
		buf_puts(d, "!open\n");
	} else {
		read_lines(&in, bufsize, max_line, d);
		input_close(&in);
	}
	unlink(path);
	free(path);
}

/* The same through a pipe on stdin, written by a child a few bytes at a time. */
static void
read_pipe(const char *data, size_t n, size_t bufsize, size_t max_line, struct buf *d)
{
	int fds[2], saved = dup(STDIN_FILENO), status;
	struct input in;
	pid_t pid;

	fflush(stdout);
	if (saved < 0 || pipe(fds) != 0 || (pid = fork()) < 0) {
		perror("pipe/fork");
		exit(2);
	}
	if (pid == 0) {
		size_t piece = n < 4096 ? 5 : 4093; /* small writes, fewer for big inputs */

		close(fds[0]);
		for (size_t off = 0; off < n;) {
			size_t step = n - off < piece ? n - off : piece;
			ssize_t w = write(fds[1], data + off, step);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	if (input_open(&in, "-") != 0) {
		buf_puts(d, "!open\n");
	} else {
		if (!in.may_block || in.size != -1 || !in.is_stdin)
			buf_puts(d, "!not-a-pipe\n");
		read_lines(&in, bufsize, max_line, d);
		input_close(&in);
	}
	dup2(saved, STDIN_FILENO);
	close(saved);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		buf_puts(d, "!writer\n");
}

struct line_case {
	const char *name;
	const char *data;
	size_t n;
	size_t max_line;
	const char *want;
};

#define L(name, data, max, want)                                                                   \
	{                                                                                          \
		name, data, sizeof(data) - 1, max, want                                            \
	}

static const struct line_case line_cases[] = {
	L("plain lines, no final newline", "a\nbb\n\nccc", 100, "1 - a\n2 - bb\n3 - \n4 U ccc\n"),
	L("empty input", "", 100, ""),
	L("one empty line", "\n", 100, "1 - \n"),
	L("empty lines", "\n\n\n", 100, "1 - \n2 - \n3 - \n"),
	L("CRLF keeps the CR", "x\r\ny\r\n\r\n", 100, "1 - x\\x0d\n2 - y\\x0d\n3 - \\x0d\n"),
	L("bare CR is not a line end", "a\rb\n", 100, "1 - a\\x0db\n"),
	L("NUL bytes", "a\0b\n\0\n\0", 100, "1 - a\\x00b\n2 - \\x00\n3 U \\x00\n"),
	L("long line in the middle", "0123456789ABCDEF\nshort\n", 10,
		"1 L 0123456789\n2 - short\n"),
	L("exactly max_line, then one more", "0123456789\n01234567890\nx", 10,
		"1 - 0123456789\n2 L 0123456789\n3 U x\n"),
	L("exactly max_line, unterminated", "abcde", 5, "1 U abcde\n"),
	L("consecutive long lines", "aaaaaaa\nbbbbbbb\ncc\n", 4, "1 L aaaa\n2 L bbbb\n3 - cc\n"),
	L("long line of newline-free bytes with NULs", "\0\0\0\0\0\0\0\0\0\0\n\0\n", 3,
		"1 L \\x00\\x00\\x00\n2 - \\x00\n"),
	L("max_line 1", "ab\n\nc\n", 1, "1 L a\n2 - \n3 - c\n"),
};

static void
check_both(const char *name, const char *data, size_t n, size_t max_line, const char *want)
{
	struct buf d = BUF_INIT;

	for (size_t b = 0; b < sizeof(bufsizes) / sizeof(*bufsizes); b++) {
		for (int source = 0; source < 2; source++) {
			buf_reset(&d);
			if (source == 0)
				read_file(data, n, bufsizes[b], max_line, &d);
			else
				read_pipe(data, n, bufsizes[b], max_line, &d);
			if (!ok(strcmp(buf_cstr(&d), want) == 0, "lines: %s (%s, buffer %zu)", name,
				    source ? "pipe" : "file", bufsizes[b]))
				printf("#   got:\n%.*s#   want:\n%s", (int)d.len, d.data, want);
		}
	}
	buf_free(&d);
}

static void
test_line_cases(void)
{
	for (size_t i = 0; i < sizeof(line_cases) / sizeof(*line_cases); i++)
		check_both(line_cases[i].name, line_cases[i].data, line_cases[i].n,
			line_cases[i].max_line, line_cases[i].want);
}

/* Long lines that span many reads, between ordinary ones. */
static void
test_long_lines(void)
{
	struct buf data = BUF_INIT, want = BUF_INIT;

	for (size_t i = 0; i < 5000; i++)
		buf_putc(&data, 'x');
	buf_puts(&data, "\nnext\n");
	for (size_t i = 0; i < 300000; i++)
		buf_putc(&data, (char)('a' + i % 26));
	buf_puts(&data, "\n\nend");
	buf_puts(&want, "1 L xxxxxxxxxxxxxxxx\n2 - next\n3 L abcdefghijklmnop\n4 - \n5 U end\n");
	check_both("lines of 5000 and 300000 bytes, max_line 16", data.data, data.len, 16,
		buf_cstr(&want));
	buf_free(&data);
	buf_free(&want);
}

/* A long last line without a newline: cut and flagged (U may or may not be known). */
static void
test_long_last_line(void)
{
	struct buf d = BUF_INIT;

	for (size_t b = 0; b < sizeof(bufsizes) / sizeof(*bufsizes); b++) {
		buf_reset(&d);
		read_file("ok\nabcdefgh", 11, bufsizes[b], 4, &d);
		buf_cstr(&d);
		ok(strcmp(d.data, "1 - ok\n2 L abcd\n") == 0 ||
				strcmp(d.data, "1 - ok\n2 LU abcd\n") == 0,
			"lines: long unterminated last line cut and flagged too long (buffer %zu)",
			bufsizes[b]);
	}
	buf_free(&d);
}

/* Two thousand pseudo-random lines, some longer than max_line; expected text built alongside. */
static void
test_random_lines(void)
{
	uint64_t rng = 2024;
	struct buf data = BUF_INIT, want = BUF_INIT;
	char line[64];

	for (size_t i = 1; i <= 2000; i++) {
		size_t len = rng_below(&rng, 45), max = 30;

		for (size_t k = 0; k < len; k++) {
			char c = (char)rng_below(&rng, 256);

			line[k] = c == '\n' ? '\0' : c;
		}
		buf_add(&data, line, len);
		buf_putc(&data, '\n');
		buf_add_uint(&want, i);
		buf_puts(&want, len > max ? " L " : " - ");
		describe_bytes(&want, line, len > max ? max : len);
		buf_putc(&want, '\n');
	}
	check_both("2000 random lines, max_line 30", data.data, data.len, 30, buf_cstr(&want));
	buf_free(&data);
	buf_free(&want);
}

static void
test_input_open(void)
{
	struct input in;
	char dir[] = "/tmp/jlkit-unit-dir-XXXXXX";
	char *path, got[16];
	int rc;

	errno = 0;
	rc = input_open(&in, "/nonexistent-jlkit-dir/missing.csv");
	ok(rc == -1 && errno == ENOENT, "input_open: missing file gives -1 and ENOENT");

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	errno = 0;
	rc = input_open(&in, dir);
	ok(rc == -1 && errno != 0, "input_open: a directory gives -1 with errno set");
	is_int(errno, EISDIR, "input_open: ... errno EISDIR");
	rmdir(dir);

	path = temp_file("hello\n", 6);
	rc = input_open(&in, path);
	ok(rc == 0 && !in.may_block && in.size == 6 && !in.is_stdin && in.name == path && in.fd > 2,
		"input_open: regular file: fd, size, name, may not block");
	is_int(input_read(&in, got, sizeof(got)), 6, "input_read reads the file");
	ok(memcmp(got, "hello\n", 6) == 0, "input_read: the bytes");
	is_int(input_read(&in, got, sizeof(got)), 0, "input_read: 0 at end of input");
	input_close(&in);
	is_int(in.fd, -1, "input_close: fd is -1");
	unlink(path);
	free(path);

	rc = input_open(&in, "-");
	ok(rc == 0 && in.is_stdin && in.fd == STDIN_FILENO && strcmp(in.name, "<stdin>") == 0,
		"input_open(\"-\") is stdin, named <stdin>");
	input_close(&in);
	ok(fcntl(STDIN_FILENO, F_GETFD) != -1, "input_close leaves stdin open");
}

int
main(void)
{
	progname = "test-io";
	test_input_open();
	test_line_cases();
	test_long_lines();
	test_long_last_line();
	test_random_lines();
	return done_testing();
}
