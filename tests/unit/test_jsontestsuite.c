/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/jscan against JSONTestSuite's test_parsing files (vendored in
 * tests/data/JSONTestSuite, see its README.md): every y_ file must be
 * accepted as strict JSON, every n_ file rejected, an i_ file either way,
 * and no file may crash the checker or make it read past the text.
 *
 * jscan checks objects only, so each file's content is tested wrapped as
 * {"x": CONTENT}, whole: whitespace and newlines before or after the value
 * are still fine inside the wrapper, and a file that is invalid only as a
 * whole text (two values, a lone BOM, trailing garbage, no value at all)
 * stays invalid. That wrapping changes no file's verdict was checked with
 * python3's json module, strictly (bytes decoded as UTF-8 with errors
 * raised, parse_constant raising for NaN and Infinity, recursion errors as
 * rejections): for each of the 318 files, json.loads of the file and of
 * b'{"x": ' + file + b'}' give the same verdict, and the unwrapped one is the
 * one the name asks for for every y_ and n_ file. No file is left out. The
 * files whose content is itself an object are checked unwrapped as well.
 *
 * "Strict JSON" is what a tool's reader takes without libjq: the text is
 * UTF-8 (utf8_valid_prefix; jscan leaves that to its caller) and
 * jscan_object_valid accepts it. For every file also: jscan_object_pick
 * gives the same verdict and picks x as the content without its whitespace,
 * and whatever jscan accepts, libjq accepts (jscan.h promises it).
 *
 * The files are found in $SRCDIR/tests/data/JSONTestSuite/test_parsing, or
 * relative to the working directory (the top of the tree, as tests/run.sh
 * runs the unit tests, tests/ or tests/unit/). Texts go to jscan in buffers
 * of their exact length, so a read past the end shows under ASan and valgrind.
 */
#include <dirent.h>
#include <errno.h>
#include <jv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "jscan.h"
#include "tap.h"
#include "testutil.h"
#include "utf8.h"

#define SUITE_DIR "tests/data/JSONTestSuite/test_parsing"
#define SUITE_FILES 318
#define SUITE_Y 95
#define SUITE_N 188

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		perror("malloc");
		exit(2);
	}
	return p;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The test_parsing directory, or NULL. The caller frees it. */
static char *
suite_dir(void)
{
	static const char *const relative[] = {
		SUITE_DIR,
		"../" SUITE_DIR,
		"../../" SUITE_DIR,
	};
	const char *srcdir = getenv("SRCDIR");
	struct buf path = BUF_INIT;

	if (srcdir != NULL && *srcdir != '\0') {
		buf_puts(&path, srcdir);
		buf_puts(&path, "/" SUITE_DIR);
		if (is_dir(buf_cstr(&path)))
			return (char *)buf_cstr(&path);
		buf_free(&path);
	}
	for (size_t i = 0; i < sizeof(relative) / sizeof(relative[0]); i++)
		if (is_dir(relative[i])) {
			buf_puts(&path, relative[i]);
			return (char *)buf_cstr(&path);
		}
	return NULL;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the *.json files in dir, sorted; *count gets how many. */
static char **
list_files(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	*count = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		if (n == cap) {
			char **bigger;

			cap = cap ? 2 * cap : 512;
			bigger = realloc(names, cap * sizeof(*names));
			if (bigger == NULL) {
				perror("realloc");
				exit(2);
			}
			names = bigger;
		}
		names[n] = xmalloc(len + 1);
		memcpy(names[n], e->d_name, len + 1);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), compare_names);
	*count = n;
	return names;
}

/* The whole file dir/name into out. */
static bool
read_file(const char *dir, const char *name, struct buf *out)
{
	struct buf path = BUF_INIT;
	FILE *f;
	char chunk[65536];
	size_t got;
	bool good;

	buf_puts(&path, dir);
	buf_puts(&path, "/");
	buf_puts(&path, name);
	f = fopen(buf_cstr(&path), "rb");
	buf_free(&path);
	if (f == NULL)
		return false;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, got);
	good = !ferror(f);
	fclose(f);
	return good;
}

/* A copy of s[0..n) with no terminator: reading past n trips ASan and valgrind. */
static char *
exact_copy(const char *s, size_t n)
{
	char *p = xmalloc(n);

	if (n > 0)
		memcpy(p, s, n);
	return p;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s[0..n) without the JSON whitespace around it. */
static struct jspan
trimmed(const char *s, size_t n)
{
	struct jspan v = { s, n };

	while (v.n > 0 && is_space(v.p[0])) {
		v.p++;
		v.n--;
	}
	while (v.n > 0 && is_space(v.p[v.n - 1]))
		v.n--;
	return v;
}

/* jscan_object_valid on an exact copy of s[0..n). */
static bool
jscan_valid(const char *s, size_t n)
{
	char *copy = exact_copy(s, n);
	bool valid = jscan_object_valid(copy, n);

	free(copy);
	return valid;
}

/*
 * jscan_object_pick of x on an exact copy of the wrapped text w[0..n): its
 * verdict, and whether x is the content without its whitespace (when valid)
 * or empty (when not).
 */
static bool
pick_agrees(const char *w, size_t n, size_t head, size_t content_n, bool valid)
{
	char *copy = exact_copy(w, n);
	struct jspan x = { NULL, 0 };
	struct jscan_pick pick = { "x", &x, NULL, 0 };
	bool picked_valid = jscan_object_pick(copy, n, &pick, 1);
	bool agrees = picked_valid == valid;

	if (agrees && valid) {
		struct jspan want = trimmed(copy + head, content_n);

		agrees = x.p == want.p && x.n == want.n;
	} else if (agrees) {
		agrees = x.n == 0;
	}
	free(copy);
	return agrees;
}

/* Whether libjq reads s[0..n) (a NUL follows it) as a value. */
static bool
jq_accepts(const char *s, size_t n)
{
	jv v = jv_parse_sized(s, (int)n);
	bool valid = jv_is_valid(v);

	jv_free(v);
	return valid;
}

struct tally {
	size_t y_accepted, n_rejected, i_accepted, i_rejected;
	size_t n_jscan_only_utf8; /* n_ files jscan alone accepts: only their UTF-8 is wrong */
	size_t pick_faults, jq_faults, unwrapped_faults;
};

static void
check_file(const char *dir, const char *name, struct tally *t)
{
	static const char head[] = "{\"x\": ";
	struct buf content = BUF_INIT, wrapped = BUF_INIT;
	struct jspan inner;
	bool utf8, jscan, strict;

	if (!read_file(dir, name, &content)) {
		ok(false, "%s: read", name);
		buf_free(&content);
		return;
	}
	buf_puts(&wrapped, head);
	if (content.len > 0) /* an empty file leaves content.data NULL */
		buf_add(&wrapped, content.data, content.len);
	buf_puts(&wrapped, "}");
	buf_cstr(&wrapped); /* jv_parse_sized's messages read up to a NUL */

	utf8 = utf8_valid_prefix(content.data, content.len) == content.len;
	jscan = jscan_valid(wrapped.data, wrapped.len);
	strict = utf8 && jscan;

	switch (name[0]) {
	case 'y':
		if (ok(strict, "%s: accepted", name))
			t->y_accepted++;
		else
			printf("#   UTF-8 %s, jscan %s\n", utf8 ? "valid" : "invalid",
				jscan ? "accepts" : "rejects");
		break;
	case 'n':
		if (ok(!strict, "%s: rejected", name))
			t->n_rejected++;
		if (!utf8 && jscan) {
			/* jscan leaves UTF-8 to its caller (jscan.h): said, not failed */
			printf("# %s: jscan alone accepts it; only its UTF-8 is invalid\n", name);
			t->n_jscan_only_utf8++;
		}
		break;
	default:
		ok(true, "%s: %s (either is fine), no crash", name,
			strict ? "accepted" : "rejected");
		if (strict)
			t->i_accepted++;
		else
			t->i_rejected++;
		break;
	}

	if (!pick_agrees(wrapped.data, wrapped.len, sizeof(head) - 1, content.len, jscan)) {
		printf("# %s: jscan_object_pick disagrees with jscan_object_valid\n", name);
		t->pick_faults++;
	}
	if (jscan && !jq_accepts(wrapped.data, wrapped.len)) {
		printf("# %s: jscan accepts it wrapped, libjq does not\n", name);
		t->jq_faults++;
	}
	inner = trimmed(content.data, content.len);
	if (inner.n > 0 && inner.p[0] == '{' && jscan_valid(content.data, content.len) != jscan) {
		printf("# %s: jscan's verdict on the object changes when it is wrapped\n", name);
		t->unwrapped_faults++;
	}
	buf_free(&content);
	buf_free(&wrapped);
}

int
main(void)
{
	char *dir = suite_dir();
	char **names;
	size_t count = 0, ny = 0, nn = 0, ni = 0;
	struct tally t = { 0 };

	if (!ok(dir != NULL, "the JSONTestSuite files are found (SRCDIR=%s)",
		    getenv("SRCDIR") ? getenv("SRCDIR") : "(unset)"))
		return done_testing();
	names = list_files(dir, &count);
	for (size_t i = 0; i < count; i++) {
		switch (names[i][0]) {
		case 'y':
			ny++;
			break;
		case 'n':
			nn++;
			break;
		case 'i':
			ni++;
			break;
		default:
			continue;
		}
		check_file(dir, names[i], &t);
	}
	is_int(count, SUITE_FILES, "all %d test_parsing files are there", SUITE_FILES);
	is_int(ny, SUITE_Y, "%d y_ files", SUITE_Y);
	is_int(nn, SUITE_N, "%d n_ files", SUITE_N);
	is_int(t.y_accepted, ny, "every y_ file is accepted");
	is_int(t.n_rejected, nn, "every n_ file is rejected");
	printf("# i_ files: %zu accepted, %zu rejected; n_ files jscan alone accepts for their "
	       "UTF-8 only: %zu\n",
		t.i_accepted, t.i_rejected, t.n_jscan_only_utf8);
	is_int(t.pick_faults, 0,
		"jscan_object_pick agrees with jscan_object_valid and picks x as the content");
	is_int(t.jq_faults, 0, "every wrapped text jscan accepts, libjq accepts");
	is_int(t.unwrapped_faults, 0, "an object file has the same verdict alone and wrapped");
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	free(dir);
	return done_testing();
}
