/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the C unit tests (test code only): a seeded PRNG, temporary
 * files, and running a function in a fork()ed child whose exit status, stdout
 * and stderr are captured, for code that calls exit() (die, opt_parse).
 */
#ifndef JL_TESTUTIL_H
#define JL_TESTUTIL_H

#include <errno.h>
#include <jv.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "jscan.h"
#include "util.h"

/* xorshift64*: deterministic pseudo-random numbers from a fixed seed. */
static inline uint64_t
rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* A number in [0, n). */
static inline size_t
rng_below(uint64_t *state, size_t n)
{
	return (size_t)(rng_next(state) % n);
}

/* The exit status a child gets when the function it ran returned normally. */
#define CHILD_RETURNED 99

struct child_result {
	int status;     /* exit status, or 128 + signal number */
	struct buf out; /* what the child wrote on stdout */
	struct buf err; /* what the child wrote on stderr */
};

static inline void
child_result_free(struct child_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

/*
 * Run fn(arg) in a child with stdout and stderr on pipes. The child exits with
 * CHILD_RETURNED when fn returns. Fills r (free it with child_result_free).
 */
static inline void
run_in_child(void (*fn)(void *), void *arg, struct child_result *r)
{
	int out[2], err[2], status;
	pid_t pid;
	struct pollfd pfd[2];
	struct buf *dest[2];
	int open_fds = 2;

	memset(r, 0, sizeof(*r));
	fflush(stdout);
	fflush(stderr);
	if (pipe(out) != 0 || pipe(err) != 0) {
		perror("pipe");
		exit(2);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		fn(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(CHILD_RETURNED);
	}
	close(out[1]);
	close(err[1]);
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	dest[0] = &r->out;
	dest[1] = &r->err;
	while (open_fds > 0) {
		for (int i = 0; i < 2; i++)
			pfd[i].events = pfd[i].fd >= 0 ? POLLIN : 0;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			exit(2);
		}
		for (int i = 0; i < 2; i++) {
			char chunk[4096];
			ssize_t got;

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			got = read(pfd[i].fd, chunk, sizeof(chunk));
			if (got > 0) {
				buf_add(dest[i], chunk, (size_t)got);
			} else if (got == 0 || errno != EINTR) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("waitpid");
			exit(2);
		}
	if (WIFEXITED(status))
		r->status = WEXITSTATUS(status);
	else
		r->status = 128 + WTERMSIG(status);
	buf_cstr(&r->out);
	buf_cstr(&r->err);
}

/* A copy of s[0..n) with no terminator: reading past n trips ASan and valgrind. */
static inline char *
exact_copy(const char *s, size_t n)
{
	char *p = xmalloc(n);

	if (n > 0)
		memcpy(p, s, n);
	return p;
}

static inline bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s[0..n) without the JSON whitespace around it. */
static inline struct jspan
trimmed(const char *s, size_t n)
{
	struct jspan v = { s, n };

	while (v.n > 0 && is_json_space(v.p[0])) {
		v.p++;
		v.n--;
	}
	while (v.n > 0 && is_json_space(v.p[v.n - 1]))
		v.n--;
	return v;
}

/* Wrap members in braces and parse them; returns the object (invalid when not one). */
static inline jv
parse_object(const struct buf *members)
{
	struct buf o = BUF_INIT;
	jv v;

	buf_putc(&o, '{');
	buf_add(&o, members->data, members->len);
	buf_putc(&o, '}');
	v = jv_parse_sized(o.data, (int)o.len);
	buf_free(&o);
	return v;
}

/* Whether the n bytes at s begin with the C string prefix. */
static inline bool
starts_with(const char *s, size_t n, const char *prefix)
{
	size_t len = strlen(prefix);

	return n >= len && memcmp(s, prefix, len) == 0;
}

/*
 * Write n bytes to a new temporary file; returns its path (malloc'ed) or
 * exits. The caller unlinks and frees it.
 */
static inline char *
temp_file(const void *data, size_t n)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT;
	const char *p = data;
	char *name;
	int fd;

	buf_puts(&path, dir != NULL && *dir != '\0' ? dir : "/tmp");
	buf_puts(&path, "/jlkit-unit-XXXXXX");
	name = (char *)buf_cstr(&path);
	fd = mkstemp(name);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("write");
			exit(2);
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
	return name; /* the buffer's memory, now owned by the caller */
}

/* Remove dir and everything in it (files, links and directories). */
static inline void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			struct buf p = BUF_INIT;
			struct stat sb;

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			buf_puts(&p, dir);
			buf_putc(&p, '/');
			buf_puts(&p, e->d_name);
			if (lstat(buf_cstr(&p), &sb) == 0 && S_ISDIR(sb.st_mode))
				remove_tree(p.data);
			else
				unlink(p.data);
			buf_free(&p);
		}
		closedir(d);
	}
	chmod(dir, 0700);
	rmdir(dir);
}

#endif
