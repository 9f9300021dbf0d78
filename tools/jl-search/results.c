/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The normalised search result and the shaping of a result set
 * (doc/protocols.md §5.3): min-score, sort, dedup, max-results, max-chars,
 * max-total-chars, in that order. Lengths are bytes of UTF-8 and every cut
 * falls on a character boundary, so the output is always valid JSON text.
 *
 * Choices the contract in results.h leaves open, made here:
 * - a score that is not a finite number (NaN, infinity, a string) counts as
 *   no score: it is never dropped by min_score and sorts with the unscored;
 * - a result without a string url, or with an empty one, is never a
 *   duplicate (there is nothing to compare);
 * - elements that are not objects are kept as unscored and urlless, with no
 *   text, and are never cut;
 * - under max_total_chars, the result that does not fit gets content first,
 *   then raw_content from what is left; when nothing of its text is left
 *   (the budget is spent, or what is left is shorter than its first
 *   character) it is dropped as well, rather than kept with empty text.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "strset.h"
#include "utf8.h"
#include "util.h"

/* A string, or null for NULL. Longer than jq's int allows: cut at a boundary. */
static jv
string_or_null(const char *s)
{
	size_t n;

	if (s == NULL)
		return jv_null();
	n = strlen(s);
	if (n > INT_MAX)
		n = utf8_cut(s, INT_MAX);
	return jv_string_sized(s, (int)n);
}

jv
result_new(const char *title, const char *url, const char *content, const char *raw_content,
	const char *published_date, bool has_score, double score)
{
	jv r = jv_object();

	r = jv_object_set(r, jv_string("title"), string_or_null(title));
	r = jv_object_set(r, jv_string("url"), string_or_null(url));
	r = jv_object_set(r, jv_string("content"), string_or_null(content));
	r = jv_object_set(r, jv_string("score"),
		has_score && isfinite(score) ? jv_number(score) : jv_null());
	r = jv_object_set(r, jv_string("raw_content"), string_or_null(raw_content));
	r = jv_object_set(r, jv_string("published_date"), string_or_null(published_date));
	return r;
}

/* One result while the set is shaped. */
struct item {
	jv r;         /* owned */
	double score; /* when scored */
	bool scored;
	size_t index; /* position in the input, for a stable sort */
};

/* Whether r has a usable score; puts it in *score. Borrows r. */
static bool
get_score(jv r, double *score)
{
	jv s;
	bool ok = false;

	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return false;
	s = jv_object_get(jv_copy(r), jv_string("score"));
	if (jv_get_kind(s) == JV_KIND_NUMBER) {
		*score = jv_number_value(s);
		ok = !isnan(*score);
	}
	jv_free(s);
	return ok;
}

/* Highest score first; the unscored after, in input order. */
static int
item_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	if (a->scored != b->scored)
		return a->scored ? -1 : 1;
	if (a->scored && a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index ? 1 : 0;
}

/* Bytes of the string field name of r (0 when it is not a string). Borrows r. */
static size_t
text_len(jv r, const char *name)
{
	jv s = jv_object_get(jv_copy(r), jv_string(name));
	size_t n = 0;

	if (jv_get_kind(s) == JV_KIND_STRING)
		n = (size_t)jv_string_length_bytes(jv_copy(s));
	jv_free(s);
	return n;
}

/*
 * Cut the string field name of r (consumed; returned) to at most max bytes
 * at a character boundary; sets *cut when it was cut. Returns the bytes kept
 * in *kept.
 */
static jv
cut_field(jv r, const char *name, size_t max, bool *cut, size_t *kept)
{
	jv s = jv_object_get(jv_copy(r), jv_string(name));
	size_t n, m;

	*kept = 0;
	if (jv_get_kind(s) != JV_KIND_STRING) {
		jv_free(s);
		return r;
	}
	n = (size_t)jv_string_length_bytes(jv_copy(s));
	if (n <= max) {
		*kept = n;
		jv_free(s);
		return r;
	}
	m = utf8_cut(jv_string_value(s), max);
	*kept = m;
	*cut = true;
	r = jv_object_set(r, jv_string(name), jv_string_sized(jv_string_value(s), (int)m));
	jv_free(s);
	return r;
}

static jv
mark_truncated(jv r)
{
	return jv_object_set(r, jv_string("truncated"), jv_true());
}

/* Drop items[i] for i in [from, *n). */
static void
drop_from(struct item *items, size_t from, size_t *n)
{
	for (size_t i = from; i < *n; i++)
		jv_free(items[i].r);
	if (from < *n)
		*n = from;
}

/* min_score: keep the unscored and those scored at least min_score. */
static void
step_min_score(struct item *items, size_t *n, double min_score)
{
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		if (items[i].scored && items[i].score < min_score)
			jv_free(items[i].r);
		else
			items[k++] = items[i];
	}
	*n = k;
}

/* Keep the first result of each url_key. */
static void
step_dedup(struct item *items, size_t *n)
{
	struct strset seen = STRSET_INIT;
	struct buf key = BUF_INIT;
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		jv u = jv_get_kind(items[i].r) == JV_KIND_OBJECT
			? jv_object_get(jv_copy(items[i].r), jv_string("url"))
			: jv_invalid();
		bool keep = true;

		if (jv_get_kind(u) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(u)) > 0) {
			buf_reset(&key);
			url_key(jv_string_value(u), &key);
			keep = strset_add(&seen, key.data, key.len);
		}
		jv_free(u);
		if (keep)
			items[k++] = items[i];
		else
			jv_free(items[i].r);
	}
	*n = k;
	buf_free(&key);
	strset_free(&seen);
}

/* Cut content and raw_content of each to max bytes. */
static void
step_max_chars(struct item *items, size_t n, size_t max)
{
	for (size_t i = 0; i < n; i++) {
		bool cut = false;
		size_t kept;

		if (jv_get_kind(items[i].r) != JV_KIND_OBJECT)
			continue;
		items[i].r = cut_field(items[i].r, "content", max, &cut, &kept);
		items[i].r = cut_field(items[i].r, "raw_content", max, &cut, &kept);
		if (cut)
			items[i].r = mark_truncated(items[i].r);
	}
}

/* Keep whole results while content + raw_content fit in budget; cut the first that does not. */
static void
step_max_total(struct item *items, size_t *n, size_t budget)
{
	size_t left = budget;

	for (size_t i = 0; i < *n; i++) {
		size_t need, kept_content, kept_raw;
		bool cut = false;

		if (jv_get_kind(items[i].r) != JV_KIND_OBJECT)
			continue;
		need = text_len(items[i].r, "content");
		need += text_len(items[i].r, "raw_content");
		if (need <= left) {
			left -= need;
			continue;
		}
		items[i].r = cut_field(items[i].r, "content", left, &cut, &kept_content);
		left -= kept_content;
		items[i].r = cut_field(items[i].r, "raw_content", left, &cut, &kept_raw);
		if (kept_content + kept_raw == 0) {
			drop_from(items, i, n); /* nothing of its text fits */
		} else {
			items[i].r = mark_truncated(items[i].r);
			drop_from(items, i + 1, n);
		}
		return;
	}
}

jv
results_post(jv results, const struct post_options *o)
{
	struct item *items;
	size_t n, i;
	jv out;

	if (jv_get_kind(results) != JV_KIND_ARRAY)
		return results;
	n = (size_t)jv_array_length(jv_copy(results));
	if (n == 0)
		return results;
	items = xcalloc(n, sizeof(*items));
	for (i = 0; i < n; i++) {
		items[i].r = jv_array_get(jv_copy(results), (int)i);
		items[i].scored = get_score(items[i].r, &items[i].score);
		items[i].index = i;
	}
	jv_free(results);

	if (o->has_min_score)
		step_min_score(items, &n, o->min_score);
	qsort(items, n, sizeof(*items), item_cmp);
	step_dedup(items, &n);
	if (o->max_results >= 0 && (size_t)o->max_results < n)
		drop_from(items, (size_t)o->max_results, &n);
	if (o->max_chars > 0)
		step_max_chars(items, n, o->max_chars);
	if (o->max_total_chars > 0)
		step_max_total(items, &n, o->max_total_chars);

	out = jv_array();
	for (i = 0; i < n; i++)
		out = jv_array_append(out, items[i].r);
	free(items);
	return out;
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
scheme_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/*
 * scheme "://" authority path ["?" query] ["#" fragment] (RFC 3986). The
 * scheme and the host are lower-cased (user info and the rest are not), the
 * fragment goes, and one '/' ending the path goes, before the query if there
 * is one: "https://A.com/x/?q=1" and "https://a.com/x?q=1" are one URL.
 * Text that is not "scheme:..." is only stripped of fragment and '/'.
 */
void
url_key(const char *url, struct buf *out)
{
	size_t n = strcspn(url, "#"); /* without the fragment */
	size_t i = 0, path_end;

	while (i < n && scheme_char(url[i], i == 0))
		i++;
	if (i > 0 && i < n && url[i] == ':') {
		for (size_t j = 0; j <= i; j++)
			buf_putc(out, ascii_lower(url[j]));
		i++;
		if (i + 1 < n && url[i] == '/' && url[i + 1] == '/') {
			size_t auth = i + 2, auth_end = auth, host = auth;

			while (auth_end < n && url[auth_end] != '/' && url[auth_end] != '?')
				auth_end++;
			for (size_t j = auth; j < auth_end; j++)
				if (url[j] == '@')
					host = j + 1;
			buf_add(out, url + i, host - i); /* "//" and user info as they are */
			for (size_t j = host; j < auth_end; j++)
				buf_putc(out, ascii_lower(url[j]));
			i = auth_end;
		}
	} else {
		i = 0;
	}
	path_end = i + strcspn(url + i, "?#");
	if (path_end > n)
		path_end = n;
	if (path_end > i && url[path_end - 1] == '/')
		buf_add(out, url + i, path_end - 1 - i);
	else
		buf_add(out, url + i, path_end - i);
	buf_add(out, url + path_end, n - path_end);
}
