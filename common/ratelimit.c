/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared rate limiter: GCRA over a small state file that every process
 * using the same key reads and writes under flock.
 *
 * The file, DIR/<sanitised key>-<hash>.rl, mode 0600, holds one struct
 * rl_state: a magic, a version and its own size, then times in
 * CLOCK_REALTIME milliseconds and what was learned of the server. tat_req
 * and tat_tok are GCRA's "theoretical arrival times": a request may start
 * when tat_req <= now + tolerance, and once it does tat_req = max(tat_req,
 * now) + interval. The tolerance is 0 under a user's limit or a learned
 * rate (no burst), and the server's bucket less the request (its one
 * request, or its tokens) under a server's limit. Tokens are paced alike: a
 * request estimated at k tokens moves tat_tok by k intervals, and (under
 * --tpm) settle moves it again by the difference when the real count is
 * known. Without a tolerance tokens are paid after the fact: a request goes
 * when the tokens of the earlier ones have been paid for by elapsed time, so
 * one request bigger than tpm goes when the bucket is idle instead of
 * waiting forever.
 * paused_until holds every sharer.
 *
 * The server's limit (srv_interval) comes from its headers: interval =
 * 60000 / limit (x 1.01), and each answer sets tat to now + (limit -
 * remaining + what the sharers sent after the request it answers, counted
 * by tickets) x interval. The learned rate (learned_interval) is measured
 * between 429s: anchor is when a refused request was sent (the server's
 * bucket empty then), anchor_passed the requests sent after it that passed;
 * at the next 429, sent at least LEARN_MIN_WINDOW_MS later with
 * LEARN_MIN_PASSED passes, the rate is anchor_passed over the time between.
 * Feedback on a rate that has since changed (a 429 for a request sent
 * before learned_at) is ignored.
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
#include "rundir.h"
#include "util.h"

#define RL_MAGIC 0x4c524c4aU /* "JLRL" on a little-endian machine */
#define RL_VERSION 2U
#define RL_STRETCH 1.01             /* intervals are 1% longer than the limit asks */
#define RL_AHEAD_MS (10 * 60000.0)  /* the furthest ahead anything is stored */
#define RL_FUTURE_MS (11 * 60000.0) /* further ahead than this is forgotten */
#define RL_KEY_CHARS 80             /* the readable part of the file name */
#define RL_MINUTE_MS 60000.0        /* the window of the limits servers' headers give */

/* Learning a rate from 429s: requests a second, ms, growth per second of passes. */
#define LEARN_FIRST_RATE 1.0            /* the least first guess */
#define LEARN_RECENT_MS 2000.0          /* the time constant of the recent pass rate */
#define LEARN_GUESS_GROWTH 0.4054651081 /* ln 1.5: a guess grows by half */
#define LEARN_EXACT_GROWTH 0.004        /* a measured rate by 0.4% */
#define LEARN_MARGIN 0.96               /* pace at 96% of a measured rate */
#define LEARN_MIN_WINDOW_MS 2000.0      /* a measure spans at least this */
#define LEARN_MIN_PASSED 5.0            /* and this many passed requests */
#define LEARN_MAX_RATE 1e5              /* the most a learned rate grows to */

struct rl_state {
	uint32_t magic;          /* RL_MAGIC */
	uint32_t version;        /* RL_VERSION */
	uint32_t size;           /* sizeof(struct rl_state) */
	uint32_t measured;       /* learned_interval is a measure, not a guess */
	double tat_req;          /* the next request may start at this time (plus the tolerance) */
	double tat_tok;          /* the tokens sent so far are paid for at this time */
	double paused_until;     /* no request starts before this time; 0 for none */
	double srv_interval[2];  /* the server's limit, ms per request / token; 0: not said */
	double learned_interval; /* ms per request, learned from 429s; 0: nothing learned */
	double learned_at;       /* when it last changed */
	double grown_at;         /* when it last grew */
	double anchor;           /* when a refused request was sent; 0: none */
	double anchor_passed;    /* requests sent since anchor that passed */
	double sent[2];          /* requests and (estimated) tokens sent, ever */
};

struct ratelimit {
	int fd;               /* the state file, or -1 when it could not be reopened */
	pid_t pid;            /* the process that opened fd */
	char *path;           /* the state file, to reopen after fork() */
	double req_interval;  /* ms between requests; 0 for no limit */
	double tok_interval;  /* ms per token; 0 for no limit */
	double last_now;      /* the last now_ms given to acquire or pause */
	struct rl_state copy; /* the state as last seen, used when the file fails */
	double recent_passes; /* this process's passes, each fading as e^(-age / LEARN_RECENT_MS) */
	double recent_at;     /* when recent_passes was last brought up to date */
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
	const double *times[] = { &st->tat_req, &st->tat_tok, &st->paused_until,
		&st->srv_interval[0], &st->srv_interval[1], &st->learned_interval, &st->learned_at,
		&st->grown_at, &st->anchor, &st->anchor_passed, &st->sent[0], &st->sent[1] };

	if (st->magic != RL_MAGIC || st->version != RL_VERSION || st->size != sizeof(*st))
		return false;
	for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++)
		if (!isfinite(*times[i]) || *times[i] < 0)
			return false;
	return true;
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

/*
 * Forget the times further ahead of now than anyone stores, and a learned
 * rate unused for 10 minutes; returns whether anything was.
 */
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
	/* What was learned is forgotten from the future, or after 10 minutes unused. */
	if (st->learned_at > now + RL_FUTURE_MS || st->grown_at > now + RL_FUTURE_MS ||
		st->anchor > now + RL_FUTURE_MS ||
		(st->learned_interval > 0 &&
			now - fmax(st->learned_at, st->grown_at) > RL_AHEAD_MS)) {
		st->learned_interval = st->learned_at = st->grown_at = 0;
		st->anchor = st->anchor_passed = 0;
		st->measured = 0;
		changed = true;
	}
	return changed;
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
		rundir_default(&path);
	/* The default directory's name is known to others: it must not be a link. */
	dfd = rundir_open(buf_cstr(&path), dir != NULL);
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

/* How a unit is paced now: ms per unit (0: not paced), and how far ahead of now tat may be. */
struct pace {
	double interval;
	double tolerance;
};

/*
 * The pace of unit for a request of units (1 for requests, its estimate for
 * tokens): the user's limit, else the server's, else (requests) the
 * learned rate; a learned rate slower than the user's limit holds too.
 */
static struct pace
pace_of(const struct ratelimit *rl, const struct rl_state *st, enum rl_unit unit, double units)
{
	double user = unit == RL_REQUESTS ? rl->req_interval : rl->tok_interval;
	double learned = unit == RL_REQUESTS ? st->learned_interval : 0;
	struct pace p = { 0, 0 };

	if (user > 0) {
		p.interval = fmax(user, learned);
	} else if (st->srv_interval[unit] > 0) {
		/* The server's bucket, less this request. */
		p.interval = st->srv_interval[unit];
		p.tolerance = fmax(RL_MINUTE_MS * RL_STRETCH - p.interval * units, 0);
	} else {
		p.interval = learned;
	}
	return p;
}

/* Move tat past a request of units paced by p; returns the new tat. */
static double
gcra_take(double tat, struct pace p, double units, double now_ms)
{
	return fmin(fmax(tat, now_ms) + units * p.interval, now_ms + RL_AHEAD_MS);
}

double
ratelimit_acquire(struct ratelimit *rl, double tokens, double now_ms, struct rl_ticket *ticket)
{
	struct rl_state st;
	struct pace req, tok;
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
	req = pace_of(rl, &st, RL_REQUESTS, 1);
	tok = pace_of(rl, &st, RL_TOKENS, tokens);
	/* Wait for whatever ends last: the pause, the request slot, the tokens. */
	if (st.paused_until > now_ms)
		wait = st.paused_until - now_ms;
	if (req.interval > 0 && st.tat_req - req.tolerance - now_ms > wait)
		wait = st.tat_req - req.tolerance - now_ms;
	if (tok.interval > 0 && st.tat_tok - tok.tolerance - now_ms > wait)
		wait = st.tat_tok - tok.tolerance - now_ms;
	if (wait == 0) {
		if (req.interval > 0)
			st.tat_req = gcra_take(st.tat_req, req, 1, now_ms);
		if (tok.interval > 0)
			st.tat_tok = gcra_take(st.tat_tok, tok, tokens, now_ms);
		st.sent[RL_REQUESTS] += 1;
		st.sent[RL_TOKENS] += tokens;
		if (ticket != NULL)
			*ticket =
				(struct rl_ticket){ { st.sent[RL_REQUESTS], st.sent[RL_TOKENS] } };
		dirty = true;
	}
	state_end(rl, &st, locked, dirty);
	return wait;
}

void
ratelimit_settle(struct ratelimit *rl, double estimated, double actual)
{
	struct rl_state st;
	bool locked, dirty;

	/*
	 * Only under the user's --tpm: under the server's limit its next answer
	 * says what it counted (many count the output cap, not the output).
	 */
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

bool
ratelimit_observe(struct ratelimit *rl, enum rl_unit unit, double limit, double remaining,
	double reset_ms, double resolution_ms, const struct rl_ticket *ticket, double now_ms)
{
	struct rl_state st;
	double used, later, interval, *tat;
	bool locked, dirty;

	if (!isfinite(limit) || limit < 1 || !isfinite(remaining) || remaining < 0)
		return false;
	if (!isfinite(now_ms))
		now_ms = ratelimit_now();
	used = limit - fmin(remaining, limit);
	/* The window is a minute, unless the reset shows it is far longer (a day). */
	if (used > 0 && isfinite(reset_ms) && isfinite(resolution_ms) && reset_ms > resolution_ms &&
		limit * (reset_ms - resolution_ms) / used > RL_AHEAD_MS)
		return false;
	interval = RL_MINUTE_MS * RL_STRETCH / limit;
	rl->last_now = now_ms;
	locked = state_begin(rl, &st, &dirty);
	forget_future(&st, now_ms);
	st.srv_interval[unit] = interval;
	/*
	 * Under the user's own limit the pace is that limit, spaced evenly
	 * (pace_of): the server's count, a bucket that allows a minute's burst,
	 * read as time to wait would halve it.
	 */
	if ((unit == RL_REQUESTS ? rl->req_interval : rl->tok_interval) > 0) {
		state_end(rl, &st, locked, true);
		return true;
	}
	tat = unit == RL_REQUESTS ? &st.tat_req : &st.tat_tok;
	/*
	 * The bucket as the server shows it, less what the sharers sent after
	 * this request (the answer cannot count it yet): the server's count
	 * replaces the sharers' own, which holds estimates and misses other
	 * clients of the account.
	 */
	later = ticket != NULL ? fmax(st.sent[unit] - ticket->sent[unit], 0) : 0;
	*tat = fmin(now_ms + (used + later) * interval, now_ms + RL_AHEAD_MS);
	state_end(rl, &st, locked, true);
	return true;
}

/* This process's passes of the last seconds, as they stand at now. */
static double
recent_passes(const struct ratelimit *rl, double now_ms)
{
	return rl->recent_passes * exp(-fmax(now_ms - rl->recent_at, 0) / LEARN_RECENT_MS);
}

void
ratelimit_passed(struct ratelimit *rl, double sent_ms, double now_ms)
{
	struct rl_state st;
	bool locked, dirty;

	if (!isfinite(now_ms))
		now_ms = ratelimit_now();
	rl->recent_passes = recent_passes(rl, now_ms) + 1;
	rl->recent_at = now_ms;
	/* Nothing to learn (no 429 yet, as last seen): no need of the file. */
	if (rl->copy.anchor == 0 && rl->copy.learned_interval == 0)
		return;
	locked = state_begin(rl, &st, &dirty);
	if (forget_future(&st, now_ms))
		dirty = true;
	if (st.anchor > 0 && sent_ms >= st.anchor) {
		st.anchor_passed += 1;
		dirty = true;
	}
	if (st.learned_interval > 0) {
		/* Grow with the time requests keep passing (a second at most per answer). */
		double seconds = fmin(fmax(now_ms - st.grown_at, 0), 1000) / 1000;
		double growth = st.measured ? LEARN_EXACT_GROWTH : LEARN_GUESS_GROWTH;

		st.learned_interval =
			fmax(st.learned_interval / exp(growth * seconds), 1000 / LEARN_MAX_RATE);
		st.grown_at = now_ms;
		dirty = true;
	}
	state_end(rl, &st, locked, dirty);
}

void
ratelimit_refused(struct ratelimit *rl, double sent_ms, double now_ms)
{
	struct rl_state st;
	bool locked, dirty;
	double window;

	if (!isfinite(now_ms))
		now_ms = ratelimit_now();
	if (!isfinite(sent_ms) || sent_ms > now_ms)
		sent_ms = now_ms;
	locked = state_begin(rl, &st, &dirty);
	forget_future(&st, now_ms);
	if (st.learned_interval > 0 && sent_ms < st.learned_at) {
		/* Sent before the rate last changed: it says nothing of the new one. */
		state_end(rl, &st, locked, dirty);
		return;
	}
	window = sent_ms - st.anchor;
	if (st.anchor > 0 && window >= LEARN_MIN_WINDOW_MS && window <= RL_AHEAD_MS &&
		st.anchor_passed >= LEARN_MIN_PASSED) {
		/* The server's bucket was empty at both 429s: what passed between is its rate. */
		st.learned_interval = window / (st.anchor_passed * LEARN_MARGIN);
		st.measured = 1;
		st.anchor = sent_ms;
		st.anchor_passed = 0;
	} else if (st.measured) {
		/* Too soon to measure again: the next 429 will. */
		state_end(rl, &st, locked, dirty);
		return;
	} else {
		if (st.learned_interval > 0)
			st.learned_interval *= 2; /* the guess is too fast still */
		else /* Half this process's recent pass rate: the server's was at least that. */
			st.learned_interval = 1000 /
				fmax(LEARN_FIRST_RATE,
					recent_passes(rl, now_ms) / (LEARN_RECENT_MS / 1000) / 2);
		if (st.anchor == 0 || window > RL_AHEAD_MS) {
			st.anchor = sent_ms;
			st.anchor_passed = 0;
		}
	}
	st.learned_interval = fmin(st.learned_interval, RL_AHEAD_MS);
	st.learned_at = st.grown_at = now_ms;
	state_end(rl, &st, locked, true);
}

double
ratelimit_request_rate(struct ratelimit *rl, double now_ms)
{
	struct rl_state st;
	struct pace req;
	bool locked, dirty;

	locked = state_begin(rl, &st, &dirty);
	if (forget_future(&st, now_ms))
		dirty = true;
	req = pace_of(rl, &st, RL_REQUESTS, 1);
	state_end(rl, &st, locked, dirty);
	return req.interval > 0 ? RL_MINUTE_MS / req.interval : 0;
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
