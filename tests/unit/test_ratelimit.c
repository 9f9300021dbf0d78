/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/ratelimit.c, driven by now_ms values rather than sleeps: the first
 * request and the 1%-stretched interval; 2,000 grants (one client, and
 * several polling at random) never more than rpm in any 60-second window and
 * at least 95% of the rate; a fractional rpm; tokens paced by estimate and
 * settled both ways, refunds making no credit, a request bigger than tpm;
 * pauses holding every handle; handles with different limits on one key;
 * different keys apart; state from the future forgotten and the clamps that
 * keep honest state from looking like it; the directory (created 0700,
 * $XDG_RUNTIME_DIR, symbolic links, foreign owner, writable by others) and
 * the state file (0600, planted, a link, corrupt in five ways); no limits;
 * bad arguments; a child that cannot reopen its file pacing alone. Last, 4
 * forked processes on the real clock for 1.5 s, two of them using a handle
 * opened before fork().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ratelimit.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

#define T0 1.7e12 /* a fixed "now", in 2023 */
#define EPS 1e-6  /* ms; times near 1.7e12 carry about 2e-4 ms of rounding */

/* A wait or a time that must be exactly 0 (is_int would truncate 0.5 to 0). */
#define is_zero(got, ...)                                                                          \
	do {                                                                                       \
		double z_ = (got);                                                                 \
		if (!ok(z_ == 0, __VA_ARGS__))                                                     \
			printf("#   got %.6f, want 0\n", z_);                                      \
	} while (0)

static int
near(double got, double want)
{
	if (fabs(got - want) <= 1e-3)
		return 1;
	printf("#   got %.6f, want %.6f\n", got, want);
	return 0;
}

/* A new private directory (mode 0700); the caller frees the path. */
static char *
make_tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");
	struct buf path = BUF_INIT;

	buf_puts(&path, tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	buf_puts(&path, "/jlkit-rl-XXXXXX");
	if (mkdtemp((char *)buf_cstr(&path)) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return path.data;
}

/* dir/sub as a new string. */
static char *
join(const char *dir, const char *sub)
{
	struct buf p = BUF_INIT;

	buf_puts(&p, dir);
	buf_putc(&p, '/');
	buf_puts(&p, sub);
	return (char *)buf_cstr(&p);
}

/*
 * The state files in dir whose names start with prefix: how many, and the
 * path of the last one in *path (or NULL; the caller frees it).
 */
static int
find_state(const char *dir, const char *prefix, char **path)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	*path = NULL;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || len < 3 ||
			strcmp(e->d_name + len - 3, ".rl") != 0)
			continue;
		n++;
		free(*path);
		*path = join(dir, e->d_name);
	}
	closedir(d);
	return n;
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void
test_first_request(const char *dir)
{
	struct ratelimit *rl = ratelimit_open(dir, "first", 600, 0);
	double iv = 60000.0 / 600 * 1.01;

	ok(rl != NULL, "open a limiter at rpm 600");
	is_zero(ratelimit_acquire(rl, 0, T0, NULL), "the first request may start at once");
	ok(near(ratelimit_acquire(rl, 0, T0, NULL), iv),
		"the next waits 60000 / 600 x 1.01 = 101 ms");
	ok(near(ratelimit_acquire(rl, 0, T0, NULL), iv), "asking again reserves nothing");
	ok(near(ratelimit_acquire(rl, 0, T0 + 50, NULL), iv - 50), "50 ms later, 51 ms to go");
	is_zero(ratelimit_acquire(rl, 0, T0 + iv, NULL), "at 101 ms the next one starts");
	ok(near(ratelimit_acquire(rl, 0, T0 + iv, NULL), iv), "then the one after waits 101 ms");
	is_zero(ratelimit_acquire(rl, 0, T0 + 10 * iv, NULL), "after an idle spell: at once");
	ok(near(ratelimit_acquire(rl, 0, T0 + 10 * iv, NULL), iv),
		"but no burst: 101 ms for the next");
	ratelimit_close(rl);
}

/*
 * clients handles on one key ask for n requests: each asks again at once
 * after a grant (or up to 50 ms later when jitter), after the wait it was
 * told, or (jitter, one time in four) at a random point before the wait ends.
 * Then every 60-second window starting at a grant holds at most max_window
 * grants, and, when min_rate > 0, the rate is at least min_rate a minute.
 */
static void
check_pacing(const char *dir, const char *key, double rpm, int n, int clients, int jitter,
	int max_window, double min_rate)
{
	struct ratelimit *h[8];
	double next[8], *t = xcalloc((size_t)n, sizeof(double));
	uint64_t rng = 42;
	int got = 0, worst = 0, early = 0;
	long asks = 0;

	for (int c = 0; c < clients; c++) {
		h[c] = ratelimit_open(dir, key, rpm, 0);
		next[c] = T0 + c;
	}
	while (got < n && asks < 100L * n) {
		int c = 0;
		double now, w;

		for (int i = 1; i < clients; i++)
			if (next[i] < next[c])
				c = i;
		now = next[c];
		w = ratelimit_acquire(h[c], 0, now, NULL);
		asks++;
		if (w < 0 || isnan(w))
			break;
		if (w == 0) {
			if (got > 0 && now < t[got - 1])
				early++; /* the simulation itself went wrong */
			t[got++] = now;
			next[c] = now + (jitter ? (double)rng_below(&rng, 50) : 0);
		} else if (jitter && rng_below(&rng, 4) == 0) {
			next[c] = now + w * (double)rng_below(&rng, 1000) / 1000.0;
		} else {
			next[c] = now + w;
		}
	}
	is_int(got, n, "rpm %g, %d client(s)%s: %d requests granted", rpm, clients,
		jitter ? " polling at random" : "", n);
	/* Every window [t[i], t[i] + 60000) that starts at a grant. */
	for (int i = 0, j = 0; i < got; i++) {
		while (j < got && t[j] < t[i] + 60000.0)
			j++;
		if (j - i > worst)
			worst = j - i;
	}
	ok(early == 0 && worst <= max_window, "rpm %g: at most %d in any 60 s window (worst %d)",
		rpm, max_window, worst);
	if (min_rate > 0 && got > 1) {
		double rate = (got - 1) * 60000.0 / (t[got - 1] - t[0]);

		ok(rate >= min_rate && rate <= rpm, "rpm %g: %.1f a minute, at least %.1f", rpm,
			rate, min_rate);
	}
	for (int c = 0; c < clients; c++)
		ratelimit_close(h[c]);
	free(t);
}

static void
test_pacing(const char *dir)
{
	check_pacing(dir, "pace1", 600, 2000, 1, 0, 600, 0.95 * 600);
	check_pacing(dir, "pace3", 600, 2000, 3, 1, 600, 0.95 * 600);
	check_pacing(dir, "pace8", 1000, 3000, 8, 1, 1000, 0.95 * 1000);
	check_pacing(dir, "pace7", 7, 50, 2, 1, 7, 0.95 * 7);
	check_pacing(dir, "pace1.5", 1.5, 20, 2, 1, 1, 0);
	check_pacing(dir, "pace0.5", 0.5, 10, 1, 0, 1, 0);
}

static void
test_tokens(const char *dir)
{
	struct ratelimit *rl = ratelimit_open(dir, "tokens", 0, 6000);
	double per = 60000.0 / 6000 * 1.01; /* ms per token */

	is_zero(ratelimit_acquire(rl, 100, T0, NULL), "tpm 6000: a 100-token request starts");
	ok(near(ratelimit_acquire(rl, 100, T0, NULL), 100 * per), "the next waits 100 x 10.1 ms");
	ratelimit_settle(rl, 100, 50);
	ok(near(ratelimit_acquire(rl, 100, T0, NULL), 50 * per), "it used 50: the next waits half");
	ratelimit_settle(rl, 50, 200);
	ok(near(ratelimit_acquire(rl, 100, T0, NULL), 200 * per),
		"it used 200: the next waits 2020 ms");
	ratelimit_settle(rl, 200, 200);
	ok(near(ratelimit_acquire(rl, 100, T0, NULL), 200 * per),
		"settling the same count changes nothing");
	is_zero(ratelimit_acquire(rl, 100, T0 + 200 * per, NULL),
		"the next goes when they are paid");
	ok(near(ratelimit_acquire(rl, 5, T0 + 200 * per, NULL), 100 * per),
		"and charges its estimate");

	ratelimit_settle(rl, 1e9, 0);
	is_zero(ratelimit_acquire(rl, 100, T0 + 200 * per, NULL), "a huge refund: the next starts");
	ok(near(ratelimit_acquire(rl, 100, T0 + 200 * per, NULL), 100 * per),
		"but a refund makes no credit: the one after waits its share");
	ratelimit_settle(rl, NAN, 5);
	ratelimit_settle(rl, 5, INFINITY);
	ok(near(ratelimit_acquire(rl, 100, T0 + 200 * per, NULL), 100 * per),
		"NaN and inf are ignored");
	ratelimit_close(rl);

	rl = ratelimit_open(dir, "huge", 0, 1000);
	per = 60000.0 / 1000 * 1.01;
	is_zero(ratelimit_acquire(rl, 5000, T0, NULL),
		"tpm 1000: a 5000-token request goes when idle");
	ok(near(ratelimit_acquire(rl, 5000, T0, NULL), 5000 * per), "the next waits 5 x 60.6 s");
	is_zero(ratelimit_acquire(rl, 5000, T0 + 5000 * per, NULL),
		"and then goes: no waiting forever");
	is_zero(ratelimit_acquire(rl, 0, T0 + 10000 * per, NULL),
		"a request without estimate starts");
	is_zero(ratelimit_acquire(rl, 0, T0 + 10000 * per, NULL),
		"and charges nothing until settled");
	ratelimit_settle(rl, 0, 10);
	ok(near(ratelimit_acquire(rl, 0, T0 + 10000 * per, NULL), 10 * per),
		"settled at 10 tokens");
	ratelimit_close(rl);

	rl = ratelimit_open(dir, "both", 600, 6000);
	per = 60000.0 / 6000 * 1.01;
	is_zero(ratelimit_acquire(rl, 1, T0, NULL), "rpm 600 and tpm 6000: a 1-token request");
	ok(near(ratelimit_acquire(rl, 1, T0, NULL), 101),
		"the request limit is the longer wait: 101");
	is_zero(ratelimit_acquire(rl, 100, T0 + 101, NULL), "a 100-token request");
	ok(near(ratelimit_acquire(rl, 1, T0 + 101, NULL), 100 * per),
		"now the token limit is the longer wait");
	ratelimit_close(rl);
}

static void
test_pause(const char *dir)
{
	struct ratelimit *a = ratelimit_open(dir, "pause", 600, 0);
	struct ratelimit *b = ratelimit_open(dir, "pause", 0, 0);
	struct ratelimit *c = ratelimit_open(dir, "pause-other", 600, 0);
	double t = ratelimit_now();

	ok(a != NULL && b != NULL && c != NULL, "two handles on one key, one on another");
	is_zero(ratelimit_paused_until(a), "no pause at first");
	ratelimit_pause(a, 5000, t);
	ok(near(ratelimit_acquire(b, 0, t, NULL), 5000),
		"a pause by one holds the other (even unlimited)");
	ok(near(ratelimit_acquire(a, 0, t + 1000, NULL), 4000), "and itself, until its end");
	ok(near(ratelimit_paused_until(b), t + 5000), "paused_until tells its end");
	is_zero(ratelimit_acquire(c, 0, t, NULL), "another key is not paused");
	ratelimit_pause(b, 1000, t);
	ok(near(ratelimit_paused_until(a), t + 5000), "a shorter pause does not shorten it");
	ratelimit_pause(b, 0, t);
	ratelimit_pause(b, -5, t);
	ratelimit_pause(b, NAN, t);
	ok(near(ratelimit_paused_until(a), t + 5000), "0, negative and NaN pauses do nothing");
	ratelimit_pause(b, 7000, t + 1000);
	ok(near(ratelimit_paused_until(a), t + 8000), "a longer one extends it");
	is_zero(ratelimit_acquire(a, 0, t + 8000, NULL), "at its end the first request starts");
	is_zero(ratelimit_acquire(b, 0, t + 8000, NULL), "the unlimited handle starts too");
	ok(near(ratelimit_acquire(a, 0, t + 8000, NULL), 101), "and the rpm pacing resumes");
	ratelimit_close(a);
	ratelimit_close(b);
	ratelimit_close(c);
}

static void
test_sharing(const char *dir)
{
	struct ratelimit *a = ratelimit_open(dir, "share", 600, 0);
	struct ratelimit *b = ratelimit_open(dir, "share", 600, 0);
	struct ratelimit *slow;

	is_zero(ratelimit_acquire(a, 0, T0, NULL), "two handles on one key: the first starts");
	ok(near(ratelimit_acquire(b, 0, T0, NULL), 101),
		"the second handle waits for the shared slot");
	is_zero(ratelimit_acquire(b, 0, T0 + 101, NULL), "then starts");
	ok(near(ratelimit_acquire(a, 0, T0 + 101, NULL), 101), "and the first waits for it");
	ratelimit_close(a);
	ok(near(ratelimit_acquire(b, 0, T0 + 150, NULL), 52),
		"closing one leaves the other working");
	ratelimit_close(b);

	/* Different limits on one key: each pushes the shared time by its own interval. */
	a = ratelimit_open(dir, "mixed", 600, 0);
	slow = ratelimit_open(dir, "mixed", 60, 0);
	is_zero(ratelimit_acquire(a, 0, T0, NULL),
		"rpm 600 and rpm 60 on one key: the fast one starts");
	ok(near(ratelimit_acquire(slow, 0, T0, NULL), 101),
		"the slow one waits the fast one's interval");
	is_zero(ratelimit_acquire(slow, 0, T0 + 101, NULL), "then starts");
	ok(near(ratelimit_acquire(a, 0, T0 + 202, NULL), 1010 - 101),
		"and the fast one waits the slow one's 1010 ms");
	ratelimit_close(a);
	ratelimit_close(slow);
}

static void
test_keys(const char *dir)
{
	static const char *keys[] = { "a/b", "a_b", "a?b", "A_b", "", "../../x", "openai/gpt-4o",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"x1",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"x2" };
	size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	struct ratelimit *h[sizeof(keys) / sizeof(keys[0])];
	char *sub = join(dir, "keys"), *path;
	int all = 1, files = 0, n;
	DIR *d;

	for (size_t i = 0; i < nkeys; i++) {
		h[i] = ratelimit_open(sub, keys[i], 600, 0);
		if (h[i] == NULL || ratelimit_acquire(h[i], 0, T0, NULL) != 0)
			all = 0;
	}
	ok(all, "keys that look alike once sanitised are independent");
	for (size_t i = 0; i < nkeys; i++)
		if (ratelimit_acquire(h[i], 0, T0, NULL) == 0)
			all = 0;
	ok(all, "and each is paced");
	d = opendir(sub);
	if (d != NULL) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);

			files += len > 3 && strcmp(e->d_name + len - 3, ".rl") == 0;
		}
		closedir(d);
	}
	is_int(files, nkeys, "one file per key, all inside the directory");
	is_int(find_state(sub, "openai_gpt-4o-", &path), 1, "the name keeps the readable key");
	free(path);
	n = find_state(sub, "a_b-", &path);
	free(path);
	is_int(n, 3, "a/b, a_b and a?b differ only by their hash");
	for (size_t i = 0; i < nkeys; i++)
		ratelimit_close(h[i]);
	free(sub);
}

static void
test_future(const char *dir)
{
	struct ratelimit *rl = ratelimit_open(dir, "future", 600, 6000);
	double hour = 3600e3, per = 60000.0 / 6000 * 1.01;

	ratelimit_pause(rl, 5000, T0 + hour);
	ok(near(ratelimit_acquire(rl, 100, T0 + hour, NULL), 5000), "an hour ahead: paused");
	is_zero(ratelimit_acquire(rl, 100, T0 + hour + 5000, NULL), "an hour ahead: a request");
	ok(near(ratelimit_acquire(rl, 100, T0 + hour + 5000, NULL), 100 * per),
		"an hour ahead: paced");
	is_zero(ratelimit_acquire(rl, 100, T0, NULL), "the clock steps back an hour: no freeze");
	ok(near(ratelimit_acquire(rl, 100, T0, NULL), 100 * per), "and pacing resumes from now");
	ratelimit_close(rl);

	rl = ratelimit_open(dir, "ahead", 0, 1000);
	per = 60000.0 / 1000 * 1.01;
	is_zero(ratelimit_acquire(rl, 9000, T0, NULL), "tpm 1000: 9000 tokens");
	ok(near(ratelimit_acquire(rl, 1, T0, NULL), 9000 * per),
		"9 minutes ahead is honoured, not reset");
	ok(near(ratelimit_acquire(rl, 1, T0 + 9000 * per - 60000, NULL), 60000),
		"and counted down to its end");
	is_zero(ratelimit_acquire(rl, 20000, T0 + 9000 * per, NULL), "then 20000 tokens");
	ok(near(ratelimit_acquire(rl, 1, T0 + 9000 * per, NULL), 600000),
		"are charged at most 10 minutes, so honest state never looks stale");
	ratelimit_close(rl);

	rl = ratelimit_open(dir, "longpause", 600, 0);
	ratelimit_pause(rl, 3 * hour, T0);
	ok(near(ratelimit_acquire(rl, 0, T0, NULL), 600000),
		"a 3-hour pause is clamped to 10 minutes");
	ratelimit_close(rl);

	rl = ratelimit_open(dir, "slowest", 0.05, 0);
	is_zero(ratelimit_acquire(rl, 0, T0, NULL), "rpm 0.05: a request");
	ok(near(ratelimit_acquire(rl, 0, T0, NULL), 600000),
		"its interval is clamped to 10 minutes");
	ratelimit_close(rl);
}

static void
test_unlimited(const char *dir)
{
	struct ratelimit *rl = ratelimit_open(dir, "free", 0, 0);
	int all = 1;

	ok(rl != NULL, "rpm 0 and tpm 0: no limit");
	for (int i = 0; i < 1000; i++)
		if (ratelimit_acquire(rl, 1e6, T0, NULL) != 0)
			all = 0;
	ok(all, "1000 requests of a million tokens at one instant all start");
	ratelimit_settle(rl, 0, 1e9);
	is_zero(ratelimit_acquire(rl, 1, T0, NULL), "settling does not matter");
	ratelimit_close(rl);

	rl = ratelimit_open(dir, "tokens-only", 0, 6000);
	all = 1;
	for (int i = 0; i < 100; i++)
		if (ratelimit_acquire(rl, 0, T0, NULL) != 0)
			all = 0;
	ok(all, "rpm 0, tpm 6000: requests estimated at 0 tokens are not held");
	ok(ratelimit_acquire(rl, 10, T0, NULL) == 0 &&
			near(ratelimit_acquire(rl, 10, T0, NULL), 101),
		"those with tokens are");
	ratelimit_close(rl);
}

static void
test_arguments(const char *dir)
{
	char *missing = join(dir, "no/such/dir");

	errno = 0;
	ok(ratelimit_open(dir, NULL, 1, 1) == NULL && errno == EINVAL, "a NULL key: EINVAL");
	errno = 0;
	ok(ratelimit_open(dir, "k", -1, 0) == NULL && errno == EINVAL, "rpm -1: EINVAL");
	errno = 0;
	ok(ratelimit_open(dir, "k", 0, NAN) == NULL && errno == EINVAL, "tpm NaN: EINVAL");
	errno = 0;
	ok(ratelimit_open(dir, "k", INFINITY, 0) == NULL && errno == EINVAL, "rpm inf: EINVAL");
	errno = 0;
	ok(ratelimit_open(missing, "k", 1, 0) == NULL && errno == ENOENT,
		"a directory whose parent is missing: ENOENT");
	ratelimit_close(NULL);
	ok(1, "closing NULL does nothing");
	free(missing);
}

static void
test_directory(const char *dir)
{
	char *sub = join(dir, "made"), *path, *link_dir, *target, *xdg, *xdg_sub;
	const char *old_xdg = getenv("XDG_RUNTIME_DIR");
	char *saved_xdg = old_xdg != NULL ? xstrdup(old_xdg) : NULL;
	struct ratelimit *rl;
	struct stat sb;
	int n;

	rl = ratelimit_open(sub, "mode", 60, 0);
	ok(rl != NULL && stat(sub, &sb) == 0 && (sb.st_mode & 07777) == 0700,
		"a missing directory is created mode 0700");
	if (rl == NULL)
		exit(1);
	ratelimit_acquire(rl, 0, T0, NULL);
	ok(find_state(sub, "mode-", &path) == 1 && stat(path, &sb) == 0 &&
			(sb.st_mode & 07777) == 0600 && sb.st_size > 0,
		"the state file is written, mode 0600");
	ratelimit_close(rl);

	/* A state file planted by someone else, or a link in its place. */
	if (geteuid() == 0 && chown(path, 65534, 65534) == 0) {
		errno = 0;
		ok(ratelimit_open(sub, "mode", 60, 0) == NULL && errno == EPERM,
			"a state file owned by another user: EPERM");
	} else {
		ok(1, "# skip a state file owned by another user (needs root)");
	}
	unlink(path);
	if (symlink("/dev/null", path) != 0)
		perror("symlink");
	errno = 0;
	ok(ratelimit_open(sub, "mode", 60, 0) == NULL && errno == ELOOP,
		"a symbolic link as the state file: ELOOP");
	unlink(path);
	free(path);
	path = NULL;

	/* Directories others can write to. */
	chmod(sub, 0777);
	errno = 0;
	ok(ratelimit_open(sub, "k", 60, 0) == NULL && errno == EACCES,
		"a world-writable directory: EACCES");
	chmod(sub, 01777);
	errno = 0;
	ok(ratelimit_open(sub, "k", 60, 0) == NULL && errno == EACCES,
		"a world-writable sticky directory (like /tmp): EACCES");
	chmod(sub, 0770);
	errno = 0;
	ok(ratelimit_open(sub, "k", 60, 0) == NULL && errno == EACCES,
		"a group-writable directory: EACCES");
	chmod(sub, 0755);
	rl = ratelimit_open(sub, "k", 60, 0);
	ok(rl != NULL, "mode 0755 is fine");
	ratelimit_close(rl);

	/* A directory owned by another user. */
	if (geteuid() == 0) {
		if (chown(sub, 65534, 65534) != 0)
			perror("chown");
		errno = 0;
		ok(ratelimit_open(sub, "k", 60, 0) == NULL && errno == EPERM,
			"a directory owned by another user (nobody): EPERM");
		if (chown(sub, 0, 0) != 0)
			perror("chown");
	} else {
		errno = 0;
		ok(ratelimit_open("/", "k", 60, 0) == NULL && errno == EPERM,
			"a directory owned by another user (/): EPERM");
	}

	/* Explicit directories may be links; the default one may not. */
	link_dir = join(dir, "link");
	if (symlink(sub, link_dir) != 0)
		perror("symlink");
	rl = ratelimit_open(link_dir, "k", 60, 0);
	ok(rl != NULL, "an explicit directory may be a symbolic link");
	ratelimit_close(rl);

	xdg = join(dir, "xdg");
	xdg_sub = join(xdg, "jlkit");
	mkdir(xdg, 0700);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	rl = ratelimit_open(NULL, "default", 60, 0);
	n = find_state(xdg_sub, "default-", &path);
	free(path);
	ok(rl != NULL && stat(xdg_sub, &sb) == 0 && (sb.st_mode & 07777) == 0700 && n == 1,
		"no directory: $XDG_RUNTIME_DIR/jlkit, created 0700");
	ratelimit_close(rl);
	remove_tree(xdg_sub);
	target = join(dir, "target");
	mkdir(target, 0700);
	if (symlink(target, xdg_sub) != 0)
		perror("symlink");
	errno = 0;
	rl = ratelimit_open(NULL, "default", 60, 0);
	ok(rl == NULL && (errno == ELOOP || errno == ENOTDIR),
		"the default directory must not be a symbolic link");
	ratelimit_close(rl);

	/* XDG_RUNTIME_DIR naming a file: /tmp/jlkit-UID. */
	{
		struct buf tmp = BUF_INIT;
		char key[64];
		int existed;

		char *file = join(dir, "made/not-a-dir");

		setenv("XDG_RUNTIME_DIR", file, 1);
		close(open(file, O_WRONLY | O_CREAT, 0600));
		free(file);
		snprintf(key, sizeof(key), "unit-test-%ld", (long)getpid());
		buf_puts(&tmp, "/tmp/jlkit-");
		buf_add_uint(&tmp, (unsigned long long)geteuid());
		existed = lstat(buf_cstr(&tmp), &sb) == 0;
		rl = ratelimit_open(NULL, key, 60, 0);
		if (rl == NULL && (errno == EPERM || errno == EACCES)) {
			ok(1, "# skip %s is not ours to use", buf_cstr(&tmp));
		} else {
			n = find_state(buf_cstr(&tmp), key, &path);
			ok(rl != NULL && n == 1, "$XDG_RUNTIME_DIR not a directory: %s",
				buf_cstr(&tmp));
			if (path != NULL)
				unlink(path);
			free(path);
		}
		ratelimit_close(rl);
		if (!existed)
			rmdir(tmp.data); /* leave /tmp as it was */
		buf_free(&tmp);
	}
	if (saved_xdg != NULL)
		setenv("XDG_RUNTIME_DIR", saved_xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(saved_xdg);
	free(sub);
	free(link_dir);
	free(target);
	free(xdg);
	free(xdg_sub);
}

/* Write n bytes at offset, or the whole file when trunc. */
static void
write_at(const char *path, const void *data, size_t n, off_t offset, int trunc)
{
	int fd = open(path, O_WRONLY | (trunc ? O_TRUNC : 0));

	if (fd < 0 || pwrite(fd, data, n, offset) != (ssize_t)n)
		perror(path);
	if (fd >= 0)
		close(fd);
}

static void
test_corrupt(const char *dir)
{
	static const char *what[] = { "random bytes", "3 bytes", "a valid state plus 100 bytes",
		"NaN times", "an empty file" };
	struct ratelimit *rl;
	unsigned char junk[256];
	uint64_t rng = 7;
	char *path;
	off_t size;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rng_next(&rng);
	rl = ratelimit_open(dir, "corrupt", 600, 0);
	ratelimit_acquire(rl, 0, T0, NULL);
	ratelimit_close(rl);
	find_state(dir, "corrupt-", &path);
	size = file_size(path);
	ok(size > 16 && size < (off_t)sizeof(junk), "a state file of %ld bytes", (long)size);

	for (int k = 0; k < 5; k++) {
		double w1, w2;

		rl = ratelimit_open(dir, "corrupt", 600, 0);
		ratelimit_acquire(rl, 0, T0 + 1000 * k, NULL); /* a valid state, busy for 101 ms */
		switch (k) {
		case 0:
			write_at(path, junk, (size_t)size, 0, 1);
			break;
		case 1:
			write_at(path, "abc", 3, 0, 1);
			break;
		case 2:
			write_at(path, junk, 100, size, 0);
			break;
		case 3:
			memset(junk, 0xff, sizeof(junk));
			write_at(path, junk, (size_t)size - 16, 16, 0);
			break;
		case 4:
			write_at(path, "", 0, 0, 1);
			break;
		}
		w1 = ratelimit_acquire(rl, 0, T0 + 1000 * k, NULL);
		w2 = ratelimit_acquire(rl, 0, T0 + 1000 * k, NULL);
		ok(w1 == 0 && near(w2, 101) && file_size(path) == size,
			"%s: reinitialised (waits %g then %g, %ld bytes)", what[k], w1, w2,
			(long)file_size(path));
		ratelimit_close(rl);
	}
	free(path);
}

static void
alone_child(void *arg)
{
	struct ratelimit *rl = arg;
	double w1 = ratelimit_acquire(rl, 0, T0, NULL);
	double w2 = ratelimit_acquire(rl, 0, T0 + 101, NULL);
	double w3 = ratelimit_acquire(rl, 0, T0 + 101, NULL);

	printf("%.3f %.3f %.3f", w1, w2, w3);
}

/* A child whose file is gone cannot reopen it: it paces alone from its copy. */
static void
test_alone(const char *dir)
{
	char *sub = join(dir, "alone");
	struct ratelimit *rl = ratelimit_open(sub, "alone", 600, 0);
	struct child_result r;

	ratelimit_acquire(rl, 0, T0, NULL);
	remove_tree(sub);
	run_in_child(alone_child, rl, &r);
	is_int(r.status, CHILD_RETURNED, "a child whose state file is gone goes on");
	is_str(r.out.data, "101.000 0.000 101.000", "pacing alone from its last copy of the state");
	child_result_free(&r);
	ok(ratelimit_acquire(rl, 0, T0, NULL) > 0, "the parent keeps its open (unlinked) file");
	ratelimit_close(rl);
	free(sub);
}

static void
test_now(void)
{
	double now = ratelimit_now(), t = (double)time(NULL) * 1000.0;

	ok(fabs(now - t) < 2000, "ratelimit_now is CLOCK_REALTIME in ms");
}

static void
sleep_ms(double ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define FORK_CHILDREN 4
#define FORK_RPM 1200.0
#define FORK_MS 1500.0
#define FORK_MAX 64

/*
 * Four processes ask for requests on the real clock for FORK_MS, sleeping the
 * waits they are told; each writes its grant times to its pipe.
 */
static void
test_fork(const char *dir)
{
	struct ratelimit *inherited = ratelimit_open(dir, "fork", FORK_RPM, 0);
	double start = ratelimit_now() + 100, end = start + FORK_MS,
	       times[FORK_CHILDREN * FORK_MAX];
	double iv = 60000.0 / FORK_RPM * 1.01, gap = INFINITY;
	int fds[FORK_CHILDREN][2], total = 0, failed = 0;
	int limit = (int)(FORK_RPM / 60 * FORK_MS / 1000) + 1;
	pid_t pids[FORK_CHILDREN];

	fflush(stdout);
	for (int c = 0; c < FORK_CHILDREN; c++) {
		if (pipe(fds[c]) != 0 || (pids[c] = fork()) < 0) {
			perror("fork");
			exit(2);
		}
		if (pids[c] == 0) {
			/* Two children use the parent's handle, two open their own. */
			struct ratelimit *rl =
				c < 2 ? inherited : ratelimit_open(dir, "fork", FORK_RPM, 0);
			double mine[FORK_MAX], now;
			int n = 0;

			close(fds[c][0]);
			if (rl == NULL)
				_exit(1);
			while ((now = ratelimit_now()) < end) {
				double w;

				if (now < start) {
					sleep_ms(start - now);
					continue;
				}
				w = ratelimit_acquire(rl, 0, now, NULL);
				if (w == 0 && n < FORK_MAX)
					mine[n++] = now;
				else
					sleep_ms(fmin(w, end - now));
			}
			if (rl != inherited)
				ratelimit_close(rl);
			ratelimit_close(inherited);
			if (write(fds[c][1], mine, (size_t)n * sizeof(double)) < 0)
				_exit(1);
			_exit(0);
		}
		close(fds[c][1]);
	}
	for (int c = 0; c < FORK_CHILDREN; c++) {
		int status;
		ssize_t got;

		while ((got = read(fds[c][0], times + total,
				(size_t)(FORK_MAX * FORK_CHILDREN - total) * sizeof(double))) > 0)
			total += (int)(got / (ssize_t)sizeof(double));
		close(fds[c][0]);
		if (waitpid(pids[c], &status, 0) < 0 || !WIFEXITED(status) ||
			WEXITSTATUS(status) != 0)
			failed++;
	}
	ratelimit_close(inherited);
	qsort(times, (size_t)total, sizeof(double), cmp_double);
	for (int i = 1; i < total; i++)
		gap = fmin(gap, times[i] - times[i - 1]);
	is_int(failed, 0, "4 processes asked for requests for 1.5 s at rpm 1200");
	ok(total <= limit && total >= limit / 2, "together they got %d, at most %d", total, limit);
	ok(total < 2 || gap >= iv - EPS, "no two closer than %.1f ms (closest %.3f)", iv, gap);
}

/* A server's limit from its headers: its bucket's burst, then its pace; a 429 waits until one fits.
 */
static void
test_server_limit(const char *dir)
{
	struct ratelimit *rl = ratelimit_open(dir, "server", 0, 0);
	struct rl_ticket t1, t;
	double iv = 60000.0 / 600 * 1.01;
	int burst = 0;

	is_zero(ratelimit_acquire(rl, 0, T0, &t1), "no limit known: the first request goes");
	is_zero(ratelimit_acquire(rl, 0, T0, &t), "and the second (nothing is paced yet)");
	ok(t.sent[RL_REQUESTS] == t1.sent[RL_REQUESTS] + 1, "tickets count the requests sent");
	ok(ratelimit_observe(rl, RL_REQUESTS, 600, 599, 100, 1, &t1, T0 + 200),
		"the first answer's headers: 600 a minute, 599 left, full in 100 ms");
	ok(near(ratelimit_request_rate(rl, T0 + 200), 600 / 1.01),
		"requests are paced at 600 a minute (x 1.01)");
	while (ratelimit_acquire(rl, 0, T0 + 200, NULL) == 0 && burst < 1000)
		burst++;
	/* 600 in the bucket, 2 sent: the answer to the first counts one, its ticket the other. */
	is_int(burst, 598, "the rest of the bucket goes at once");
	ok(near(ratelimit_acquire(rl, 0, T0 + 200, NULL), iv), "then one every 101 ms");
	is_zero(ratelimit_acquire(rl, 0, T0 + 200 + iv, NULL), "101 ms later, the next");
	/* A 429's headers: nothing left, full in a minute; the next fits in 101 ms. */
	ok(ratelimit_observe(rl, RL_REQUESTS, 600, 0, 60000, 1, NULL, T0 + 1000),
		"a 429 with its headers");
	ok(near(ratelimit_acquire(rl, 0, T0 + 1000, NULL), iv),
		"a 429 waits until a request fits, not until the bucket is full");
	ok(!ratelimit_observe(rl, RL_REQUESTS, 14400, 14399, 6000, 1, NULL, T0 + 1000),
		"14,400 with one used and full in 6 s: a day's limit (Groq), not paced by");
	ok(!ratelimit_observe(rl, RL_REQUESTS, 0, 0, 0, 1, NULL, T0 + 1000) &&
			!ratelimit_observe(rl, RL_REQUESTS, NAN, 1, 0, 1, NULL, T0 + 1000) &&
			!ratelimit_observe(rl, RL_TOKENS, 100, -1, 0, 1, NULL, T0 + 1000),
		"a limit of 0, NaN or a negative remaining is refused");
	ratelimit_close(rl);

	/*
	 * Under the user's --rpm the pace is that limit: the server's count (a
	 * bucket with a minute's burst) is not read as a backlog to wait for,
	 * which paced --rpm 600 against a server of 600 at 300 a minute.
	 */
	rl = ratelimit_open(dir, "server-and-user", 600, 0);
	is_zero(ratelimit_acquire(rl, 0, T0, &t1), "--rpm 600: the first request goes");
	ok(ratelimit_observe(rl, RL_REQUESTS, 600, 540, 6000, 1, &t1, T0 + 200),
		"the server: 600 a minute, 60 used");
	ok(ratelimit_acquire(rl, 0, T0 + 200, NULL) <= iv,
		"the next waits one interval of --rpm at most, not the 60 used (6 s)");
	ratelimit_close(rl);

	/* Tokens: the bucket's room for this request's estimate. */
	rl = ratelimit_open(dir, "server-tokens", 0, 0);
	is_zero(ratelimit_acquire(rl, 400, T0, &t), "tokens: the first request goes");
	ok(ratelimit_observe(rl, RL_TOKENS, 1000, 600, 24000, 1, &t, T0 + 10),
		"1,000 tokens a minute, 600 left");
	is_zero(ratelimit_acquire(rl, 500, T0 + 10, NULL), "500 fit in 600");
	ok(near(ratelimit_acquire(rl, 500, T0 + 10, NULL), 400 * 60.6),
		"the next 500 wait until 400 more have come back: 24.24 s");
	ratelimit_settle(rl, 500, 100);
	ok(near(ratelimit_acquire(rl, 500, T0 + 10, NULL), 400 * 60.6),
		"under the server's limit, an answer's usage settles nothing");
	ok(ratelimit_observe(rl, RL_TOKENS, 1000, 500, 30000, 1, NULL, T0 + 20),
		"the next answer's headers: 500 left");
	is_zero(ratelimit_acquire(rl, 500, T0 + 20, NULL),
		"they replace the sharers' count: 500 fit now");
	ratelimit_close(rl);

	/* The user's limit rules: the server's is not used for that unit. */
	rl = ratelimit_open(dir, "server-user", 60, 0);
	ok(ratelimit_observe(rl, RL_REQUESTS, 600, 599, 100, 1, NULL, T0),
		"headers under --rpm 60");
	ok(near(ratelimit_request_rate(rl, T0), 60 / 1.01), "--rpm 60 paces, not the server's 600");
	ratelimit_close(rl);
}

/* A rate learned from 429s that say nothing: a guess, then a measure between two 429s. */
static void
test_learned(const char *dir)
{
	struct ratelimit *rl = ratelimit_open(dir, "learned", 0, 0), *other;
	double t = T0;

	is_zero(ratelimit_request_rate(rl, t), "nothing learned: not paced");
	ratelimit_refused(rl, t, t + 100);
	ok(near(ratelimit_request_rate(rl, t + 100), 60), "a first 429: one request a second");
	other = ratelimit_open(dir, "learned", 0, 0);
	ok(near(ratelimit_request_rate(other, t + 100), 60), "a sharer paces by it too");
	ratelimit_refused(rl, t - 50, t + 150);
	ok(near(ratelimit_request_rate(rl, t + 150), 60),
		"a 429 for a request sent before the rate changed teaches nothing");
	/* Requests pass for a second: the guess grows half again. */
	for (int i = 1; i <= 10; i++)
		ratelimit_passed(i % 2 ? rl : other, t + 100 * i, t + 100 + 100 * i);
	ok(near(ratelimit_request_rate(rl, t + 1100), 90), "a second of passes: 1.5 a second");
	/* 3 s after the first 429, the next: 10 passed in between. */
	ratelimit_refused(other, t + 3000, t + 3100);
	ok(near(ratelimit_request_rate(rl, t + 3100), 10.0 / 3 * 60 * 0.96),
		"the second 429: what passed between them, 10 in 3 s, at 96%%: 192 a minute");
	ratelimit_refused(rl, t + 3200, t + 3300);
	ok(near(ratelimit_request_rate(rl, t + 3300), 192),
		"a 429 too soon after a measure changes nothing: the next one measures again");
	for (int i = 1; i <= 10; i++)
		ratelimit_passed(rl, t + 3300 + 1000 * i, t + 3300 + 1000 * i);
	ok(near(ratelimit_request_rate(rl, t + 13300), 192 * exp(0.04)),
		"a measured rate grows 0.4%% a second while requests pass");
	ok(near(ratelimit_request_rate(rl, t + 13300 + 11 * 60000), 0),
		"forgotten after 10 minutes unused");
	ratelimit_close(other);
	ratelimit_close(rl);

	/* The first guess: half the pass rate of the last seconds, when that is more than 1/s. */
	rl = ratelimit_open(dir, "learned-busy", 0, 0);
	for (int i = 0; i < 400; i++)
		ratelimit_passed(rl, t + 10 * i, t + 10 * i);
	ratelimit_refused(rl, t + 4000, t + 4000);
	ok(fabs(ratelimit_request_rate(rl, t + 4000) / 60 - 100 * (1 - exp(-2.0)) / 2) < 1,
		"100 passes a second for 4 s, then a 429: a guess of about half of that");
	ratelimit_close(rl);

	/* Under a user's limit a slower learned rate holds; a faster one does not. */
	rl = ratelimit_open(dir, "learned-user", 120, 0);
	ratelimit_refused(rl, t, t);
	ok(near(ratelimit_request_rate(rl, t), 60), "--rpm 120 and a 429: one a second");
	ratelimit_close(rl);
	rl = ratelimit_open(dir, "learned-user2", 30, 0);
	ratelimit_refused(rl, t, t);
	ok(near(ratelimit_request_rate(rl, t), 30 / 1.01), "--rpm 30 is slower: it holds");
	ratelimit_close(rl);
}

int
main(void)
{
	char *dir = make_tmpdir();

	test_now();
	test_first_request(dir);
	test_pacing(dir);
	test_tokens(dir);
	test_pause(dir);
	test_sharing(dir);
	test_keys(dir);
	test_future(dir);
	test_server_limit(dir);
	test_learned(dir);
	test_unlimited(dir);
	test_arguments(dir);
	test_directory(dir);
	test_corrupt(dir);
	test_alone(dir);
	test_fork(dir);
	remove_tree(dir);
	free(dir);
	return done_testing();
}
