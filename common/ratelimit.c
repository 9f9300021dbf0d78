/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared rate limiter: GCRA without burst over a small state file that
 * every process using the same key reads and writes under flock.
 *
 * The file, DIR/<sanitised key>-<hash>.rl, mode 0600, holds one struct
 * rl_state: a magic, a version and its own size, then three times in
 * CLOCK_REALTIME milliseconds. tat_req and tat_tok are GCRA's "theoretical
 * arrival times": the next request may start when tat_req <= now, and once it
 * does tat_req = max(tat_req, now) + interval (60000 / rpm, stretched by 1%).
 * Tokens are paced the same way: a request estimated at k tokens moves
 * tat_tok by k intervals of 60000 / tpm (x 1.01), and settle moves it again
 * by the difference when the real count is known. Tokens are paid after the
 * fact: a request goes when the tokens of the earlier ones have been paid for
 * by elapsed time, so one request bigger than tpm goes when the bucket is
 * idle instead of waiting forever. paused_until holds every sharer.
 *
 * Every operation locks, preads the struct, updates it, pwrites it and
 * unlocks: a few system calls, never a lock held while waiting. No fsync:
 * other processes see a write at once through the page cache, and only a
 * crash of the machine could lose one. A file of the wrong size, magic or
 * version, or holding a non-finite time, is reinitialised (idle).
 *
 * Each caller paces by its own rpm and tpm. Two processes with different
 * limits on one key share the arrival times and each pushes them by its own
 * interval: after a request every sharer waits the interval of the caller
 * that sent it. Together they keep the larger limit (every gap is at least
 * the shorter interval), not the smaller: give sharers one limit.
 *
 * Nothing is stored more than RL_AHEAD_MS ahead of the writer's now (pauses,
 * intervals and token charges are clamped to it), and a time more than
 * RL_FUTURE_MS ahead of the reader's now is forgotten: a stale file or a step
 * of the clock cannot freeze the tools. The difference is grace for sharers
 * whose now was read a little before another's write.
 *
 * The lock is flock, which belongs to the open file: two handles in one
 * process exclude each other, and a handle used after fork() reopens its file
 * first (a child sharing its parent's open file would share its lock). When
 * the file cannot be locked, read or written, the handle goes on alone with
 * its last copy of the state: pacing per process rather than none.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ratelimit.h"
#include "util.h"

#define RL_MAGIC 0x4c524c4aU /* "JLRL" on a little-endian machine */
#define RL_VERSION 1U
#define RL_STRETCH 1.01             /* intervals are 1% longer than the limit asks */
#define RL_AHEAD_MS (10 * 60000.0)  /* the furthest ahead anything is stored */
#define RL_FUTURE_MS (11 * 60000.0) /* further ahead than this is forgotten */
#define RL_KEY_CHARS 80             /* the readable part of the file name */

struct rl_state {
	uint32_t magic;      /* RL_MAGIC */
	uint32_t version;    /* RL_VERSION */
	uint32_t size;       /* sizeof(struct rl_state) */
	uint32_t reserved;   /* 0 */
	double tat_req;      /* the next request may start at this time */
	double tat_tok;      /* the tokens sent so far are paid for at this time */
	double paused_until; /* no request starts before this time; 0 for none */
};

struct ratelimit {
	int fd;               /* the state file, or -1 when it could not be reopened */
	pid_t pid;            /* the process that opened fd */
	char *path;           /* the state file, to reopen after fork() */
	double req_interval;  /* ms between requests; 0 for no limit */
	double tok_interval;  /* ms per token; 0 for no limit */
	double last_now;      /* the last now_ms given to acquire or pause */
	struct rl_state copy; /* the state as last seen, used when the file fails */
};

double
ratelimit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
state_init(struct rl_state *st)
{
	memset(st, 0, sizeof(*st));
	st->magic = RL_MAGIC;
	st->version = RL_VERSION;
	st->size = sizeof(*st);
}

static bool
state_valid(const struct rl_state *st)
{
	return st->magic == RL_MAGIC && st->version == RL_VERSION && st->size == sizeof(*st) &&
		isfinite(st->tat_req) && isfinite(st->tat_tok) && isfinite(st->paused_until);
}

/*
 * The milliseconds between requests at rpm. With rpm of 1 or more, at least
 * 60000 / floor(rpm), so that a fractional rpm still never lets more than
 * floor(rpm) requests into a 60-second window; at most RL_AHEAD_MS.
 */
static double
request_interval(double rpm)
{
	double iv;

	if (rpm <= 0)
		return 0;
	iv = 60000.0 * RL_STRETCH / rpm;
	if (rpm >= 1 && iv < 60000.0 / floor(rpm))
		iv = 60000.0 / floor(rpm);
	return fmin(iv, RL_AHEAD_MS);
}

/* Whether the handle may use its file in this process, reopening it after fork(). */
static bool
handle_ready(struct ratelimit *rl)
{
	pid_t pid = getpid();
	struct stat sb;
	int fd;

	if (rl->pid == pid)
		return rl->fd >= 0;
	/* A child of the process that opened the file: get an open file of its own. */
	if (rl->fd >= 0)
		close(rl->fd);
	rl->pid = pid;
	rl->fd = -1;
	fd = open(rl->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		close(fd);
		return false;
	}
	rl->fd = fd;
	return true;
}

/*
 * Lock the file and read the state into st. Returns whether the file is
 * locked (state_end writes and unlocks it); when not, st is the handle's own
 * copy. *dirty is set when st had to be reinitialised.
 */
static bool
state_begin(struct ratelimit *rl, struct rl_state *st, bool *dirty)
{
	unsigned char raw[sizeof(struct rl_state) + 1];
	ssize_t got;

	*dirty = false;
	*st = rl->copy;
	if (!handle_ready(rl))
		return false;
	while (flock(rl->fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return false;
	/* One byte more than the struct, to notice a file that is too long. */
	do
		got = pread(rl->fd, raw, sizeof(raw), 0);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		flock(rl->fd, LOCK_UN);
		return false;
	}
	if (got == (ssize_t)sizeof(*st)) {
		memcpy(st, raw, sizeof(*st));
		if (state_valid(st))
			return true;
	}
	if (got > (ssize_t)sizeof(*st))
		(void)ftruncate(rl->fd, sizeof(*st));
	state_init(st);
	*dirty = true;
	return true;
}

/*
 * Keep st as the handle's copy; when locked, write it if dirty and unlock. A
 * file that cannot be written is given up: the handle goes on alone.
 */
static void
state_end(struct ratelimit *rl, const struct rl_state *st, bool locked, bool dirty)
{
	ssize_t put = (ssize_t)sizeof(*st);

	rl->copy = *st;
	if (!locked)
		return;
	if (dirty) {
		do
			put = pwrite(rl->fd, st, sizeof(*st), 0);
		while (put < 0 && errno == EINTR);
	}
	flock(rl->fd, LOCK_UN);
	if (put != (ssize_t)sizeof(*st)) {
		close(rl->fd);
		rl->fd = -1;
	}
}

/* Forget the times further ahead of now than anyone stores; returns whether any was. */
static bool
forget_future(struct rl_state *st, double now)
{
	bool changed = false;

	if (st->tat_req > now + RL_FUTURE_MS) {
		st->tat_req = 0;
		changed = true;
	}
	if (st->tat_tok > now + RL_FUTURE_MS) {
		st->tat_tok = 0;
		changed = true;
	}
	if (st->paused_until > now + RL_FUTURE_MS) {
		st->paused_until = 0;
		changed = true;
	}
	return changed;
}

/*
 * Open the directory for the state, creating it mode 0700, and check that it
 * belongs to this user and nobody else can write to it (else EPERM or
 * EACCES). follow: whether the last component may be a symbolic link.
 */
static int
open_private_dir(const char *dir, bool follow)
{
	struct stat sb;
	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		close(fd);
		errno = sb.st_uid != geteuid() ? EPERM : EACCES;
		return -1;
	}
	return fd;
}

/* The default directory: $XDG_RUNTIME_DIR/jlkit, else /tmp/jlkit-UID. */
static void
default_dir(struct buf *path)
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

/*
 * The state file's name: the key with every byte outside [A-Za-z0-9._-]
 * replaced by '_' and cut to RL_KEY_CHARS, then the FNV-1a hash of the whole
 * key, so that keys differing only in replaced bytes get different files.
 */
static void
state_name(struct buf *name, const char *key)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t i;

	for (i = 0; key[i] != '\0'; i++) {
		unsigned char c = (unsigned char)key[i];

		h = (h ^ c) * UINT64_C(0x100000001b3);
		if (i >= RL_KEY_CHARS)
			continue;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '_' || c == '-')
			buf_putc(name, (char)c);
		else
			buf_putc(name, '_');
	}
	buf_putc(name, '-');
	for (int shift = 60; shift >= 0; shift -= 4)
		buf_putc(name, hex[(h >> shift) & 15]);
	buf_puts(name, ".rl");
}

struct ratelimit *
ratelimit_open(const char *dir, const char *key, double rpm, double tpm)
{
	struct buf path = BUF_INIT, name = BUF_INIT;
	struct ratelimit *rl;
	struct stat sb;
	int dfd, fd, saved;

	if (key == NULL || !isfinite(rpm) || rpm < 0 || !isfinite(tpm) || tpm < 0) {
		errno = EINVAL;
		return NULL;
	}
	if (dir != NULL)
		buf_puts(&path, dir);
	else
		default_dir(&path);
	/* The default directory's name is known to others: it must not be a link. */
	dfd = open_private_dir(buf_cstr(&path), dir != NULL);
	if (dfd < 0)
		goto fail;
	state_name(&name, key);
	fd = openat(dfd, buf_cstr(&name), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	saved = errno;
	close(dfd);
	errno = saved;
	if (fd < 0)
		goto fail;
	if (fstat(fd, &sb) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		close(fd); /* planted by someone else, or not a file */
		errno = EPERM;
		goto fail;
	}
	if ((sb.st_mode & 077) != 0)
		(void)fchmod(fd, 0600);

	rl = xcalloc(1, sizeof(*rl));
	rl->fd = fd;
	rl->pid = getpid();
	buf_putc(&path, '/');
	buf_add(&path, name.data, name.len);
	rl->path = xstrdup(buf_cstr(&path));
	rl->req_interval = request_interval(rpm);
	rl->tok_interval = tpm > 0 ? 60000.0 * RL_STRETCH / tpm : 0;
	rl->last_now = ratelimit_now();
	state_init(&rl->copy);
	buf_free(&path);
	buf_free(&name);
	return rl;

fail:
	saved = errno;
	buf_free(&path);
	buf_free(&name);
	errno = saved;
	return NULL;
}

double
ratelimit_acquire(struct ratelimit *rl, double tokens, double now_ms)
{
	struct rl_state st;
	double wait = 0;
	bool locked, dirty;

	if (!(tokens > 0))
		tokens = 0;
	if (!isfinite(now_ms))
		now_ms = ratelimit_now();
	rl->last_now = now_ms;
	locked = state_begin(rl, &st, &dirty);
	if (forget_future(&st, now_ms))
		dirty = true;
	/* Wait for whatever ends last: the pause, the request slot, the tokens. */
	if (st.paused_until > now_ms)
		wait = st.paused_until - now_ms;
	if (rl->req_interval > 0 && st.tat_req - now_ms > wait)
		wait = st.tat_req - now_ms;
	if (rl->tok_interval > 0 && st.tat_tok - now_ms > wait)
		wait = st.tat_tok - now_ms;
	if (wait == 0) {
		if (rl->req_interval > 0) {
			st.tat_req = fmax(st.tat_req, now_ms) + rl->req_interval;
			dirty = true;
		}
		if (rl->tok_interval > 0) {
			st.tat_tok = fmax(st.tat_tok, now_ms) + tokens * rl->tok_interval;
			st.tat_tok = fmin(st.tat_tok, now_ms + RL_AHEAD_MS);
			dirty = true;
		}
	}
	state_end(rl, &st, locked, dirty);
	return wait;
}

void
ratelimit_settle(struct ratelimit *rl, double estimated, double actual)
{
	struct rl_state st;
	bool locked, dirty;

	if (rl->tok_interval <= 0 || !isfinite(estimated) || !isfinite(actual) ||
		estimated == actual)
		return;
	locked = state_begin(rl, &st, &dirty);
	st.tat_tok += (actual - estimated) * rl->tok_interval;
	/*
	 * A refund cannot make credit: the handle's last now is no later than
	 * the real now, and a time before now means "idle" already.
	 */
	st.tat_tok = fmax(st.tat_tok, rl->last_now);
	st.tat_tok = fmin(st.tat_tok, rl->last_now + RL_AHEAD_MS);
	state_end(rl, &st, locked, true);
}

void
ratelimit_pause(struct ratelimit *rl, double ms, double now_ms)
{
	struct rl_state st;
	bool locked, dirty;

	if (!(ms > 0))
		return;
	if (!isfinite(now_ms))
		now_ms = ratelimit_now();
	rl->last_now = now_ms;
	ms = fmin(ms, RL_AHEAD_MS);
	locked = state_begin(rl, &st, &dirty);
	if (forget_future(&st, now_ms))
		dirty = true;
	if (now_ms + ms > st.paused_until) {
		st.paused_until = now_ms + ms;
		dirty = true;
	}
	state_end(rl, &st, locked, dirty);
}

double
ratelimit_paused_until(struct ratelimit *rl)
{
	struct rl_state st;
	double now = ratelimit_now();
	bool locked, dirty;

	locked = state_begin(rl, &st, &dirty);
	state_end(rl, &st, locked, dirty);
	if (st.paused_until <= now || st.paused_until > now + RL_FUTURE_MS)
		return 0;
	return st.paused_until;
}

void
ratelimit_close(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	if (rl->fd >= 0)
		close(rl->fd);
	free(rl->path);
	free(rl);
}
