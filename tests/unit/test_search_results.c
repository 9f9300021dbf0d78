/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tools/jl-search/results.c: result_new (fields, order, nulls); url_key
 * (scheme and host lower-cased, path kept, fragment and one trailing '/'
 * dropped, query kept); results_post, each step alone (min_score,
 * sort, dedup, max_results, max_chars, max_total_chars) and their order
 * (a later higher-scored duplicate wins because sorting comes first;
 * min_score before max_results; max_chars before max_total_chars); ties,
 * all unscored, empty sets; UTF-8 text cut only at character boundaries
 * (checked for every budget on multi-byte text: valid UTF-8, JSON dumps
 * and parses back).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "results.h"
#include "tap.h"
#include "utf8.h"
#include "util.h"

static const struct post_options NO_POST = { false, 0, -1, 0, 0 };

/* Where urls() and key() put their answers; freed at the end. */
static struct buf urls_buf, key_buf;

/* A scored result with url u and content c (title "t"). */
static jv
r_sc(const char *u, double score, const char *c)
{
	return result_new("t", u, c, NULL, NULL, true, score);
}

/* An unscored result. */
static jv
r_un(const char *u, const char *c)
{
	return result_new("t", u, c, NULL, NULL, false, 0);
}

/* The urls of an array of results (borrowed), comma-separated, into a static buffer. */
static const char *
urls(jv a)
{
	struct buf *b = &urls_buf;

	buf_reset(b);
	if (jv_get_kind(a) != JV_KIND_ARRAY)
		return "(not an array)";
	for (int i = 0; i < jv_array_length(jv_copy(a)); i++) {
		jv r = jv_array_get(jv_copy(a), i);
		jv u = jv_get_kind(r) == JV_KIND_OBJECT
			? jv_object_get(r, jv_string("url"))
			: (jv_free(r), jv_string("(not an object)"));

		if (i > 0)
			buf_putc(b, ',');
		if (jv_get_kind(u) == JV_KIND_STRING)
			buf_puts(b, jv_string_value(u));
		else
			buf_puts(b, "null");
		jv_free(u);
	}
	return buf_cstr(b);
}

/* Field name of result i of a (borrowed) as compact JSON, into a static buffer. */
static const char *
field(jv a, int i, const char *name)
{
	static char out[4096];
	jv r = jv_get_kind(a) == JV_KIND_ARRAY ? jv_array_get(jv_copy(a), i) : jv_invalid();
	jv v, s;

	if (jv_get_kind(r) != JV_KIND_OBJECT) {
		jv_free(r);
		return "(no such result)";
	}
	v = jv_object_get(r, jv_string(name));
	if (!jv_is_valid(v)) {
		jv_free(v);
		return "(absent)";
	}
	s = jv_dump_string(v, 0);

	snprintf(out, sizeof(out), "%s", jv_string_value(s));
	jv_free(s);
	return out;
}

static const char *
key(const char *url)
{
	buf_reset(&key_buf);
	url_key(url, &key_buf);
	return buf_cstr(&key_buf);
}

static void
test_result_new(void)
{
	jv r = result_new("T", "https://a.com", "C", "R", "2024-01-02", true, 0.5);
	jv s = jv_dump_string(jv_copy(r), 0);

	is_str(jv_string_value(s),
		"{\"title\":\"T\",\"url\":\"https://a.com\",\"content\":\"C\",\"score\":0.5,"
		"\"raw_content\":\"R\",\"published_date\":\"2024-01-02\"}",
		"result_new: six fields in order");
	jv_free(s);
	jv_free(r);

	r = result_new(NULL, NULL, NULL, NULL, NULL, false, 0.9);
	s = jv_dump_string(r, 0);
	is_str(jv_string_value(s),
		"{\"title\":null,\"url\":null,\"content\":null,\"score\":null,"
		"\"raw_content\":null,\"published_date\":null}",
		"result_new: absent fields and no score are null");
	jv_free(s);

	r = result_new("", "u", "", NULL, NULL, true, 0);
	s = jv_dump_string(r, 0);
	is_str(jv_string_value(s),
		"{\"title\":\"\",\"url\":\"u\",\"content\":\"\",\"score\":0,"
		"\"raw_content\":null,\"published_date\":null}",
		"result_new: empty strings stay strings, score 0 is a number");
	jv_free(s);

	r = result_new("caf\xc3\xa9 \xe6\x9d\xb1", "u", "bad \xff byte", NULL, NULL, true, NAN);
	s = jv_dump_string(r, 0);
	is_str(jv_string_value(s),
		"{\"title\":\"caf\xc3\xa9 \xe6\x9d\xb1\",\"url\":\"u\",\"content\":\"bad "
		"\xef\xbf\xbd byte\",\"score\":null,\"raw_content\":null,\"published_date\":null}",
		"result_new: UTF-8 kept, invalid bytes replaced, NaN score is null");
	jv_free(s);
}

static void
test_url_key(void)
{
	is_str(key("HTTPS://Example.COM/Path/To?Q=A#Frag"), "https://example.com/Path/To?Q=A",
		"url_key: scheme and host lower-cased, path and query kept, fragment dropped");
	is_str(key("https://a.com/"), "https://a.com", "url_key: 'https://a.com/' -> no '/'");
	is_str(key("https://a.com"), "https://a.com", "url_key: no path");
	is_str(key("https://a.com/x/"), "https://a.com/x", "url_key: one trailing '/' dropped");
	is_str(key("https://a.com/x//"), "https://a.com/x/", "url_key: only one '/' dropped");
	is_str(key("https://a.com/x/?q=1"), "https://a.com/x?q=1",
		"url_key: '/' ending the path dropped before the query");
	is_str(key("https://a.com/?q=/"), "https://a.com?q=/", "url_key: the query is kept as is");
	is_str(key("https://a.com/#top"), "https://a.com", "url_key: '/' before a fragment");
	is_str(key("https://User:PW@A.com:8080/X"), "https://User:PW@a.com:8080/X",
		"url_key: user info kept, host and port lower-cased");
	is_str(key("Mailto:Someone@X.org"), "mailto:Someone@X.org",
		"url_key: scheme without authority: only the scheme lower-cased");
	is_str(key("Example.com/A/"), "Example.com/A", "url_key: no scheme: nothing lower-cased");
	is_str(key("https://\xc3\x89XAMPLE.com/\xc3\x89"), "https://\xc3\x89xample.com/\xc3\x89",
		"url_key: non-ASCII bytes untouched");
	is_str(key(""), "", "url_key: empty");
	is_str(key("/"), "", "url_key: '/' alone");
	is_str(key("#x"), "", "url_key: fragment alone");

	struct buf b = BUF_INIT;

	buf_puts(&b, "prefix:");
	url_key("HTTP://A.COM/", &b);
	is_str(buf_cstr(&b), "prefix:http://a.com", "url_key: appends to out");
	buf_free(&b);
}

static void
test_steps_alone(void)
{
	struct post_options o;
	jv a, out;

	/* min_score alone: scored below dropped, unscored kept, order kept. */
	o = NO_POST;
	o.has_min_score = true;
	o.min_score = 0.5;
	a = jv_array();
	a = jv_array_append(a, r_sc("a", 0.4, "x"));
	a = jv_array_append(a, r_un("b", "x"));
	a = jv_array_append(a, r_sc("c", 0.5, "x"));
	a = jv_array_append(a, r_sc("d", 0.9, "x"));
	out = results_post(a, &o);
	is_str(urls(out), "d,c,b", "min_score: below dropped, equal kept, unscored kept");
	jv_free(out);

	/* Without has_min_score nothing is dropped, even score 0. */
	a = jv_array();
	a = jv_array_append(a, r_sc("a", 0, "x"));
	a = jv_array_append(a, r_sc("b", -1, "x"));
	out = results_post(a, &NO_POST);
	is_str(urls(out), "a,b", "no min_score: nothing dropped");
	jv_free(out);

	/* Sort: highest first, stable on ties, unscored after in input order. */
	a = jv_array();
	a = jv_array_append(a, r_un("u1", "x"));
	a = jv_array_append(a, r_sc("s1", 0.3, "x"));
	a = jv_array_append(a, r_sc("t1", 0.7, "x"));
	a = jv_array_append(a, r_un("u2", "x"));
	a = jv_array_append(a, r_sc("t2", 0.7, "x"));
	a = jv_array_append(a, r_sc("s2", 0.3, "x"));
	a = jv_array_append(a, r_sc("top", 0.99, "x"));
	a = jv_array_append(a, r_un("u3", "x"));
	a = jv_array_append(a, r_sc("t3", 0.7, "x"));
	out = results_post(a, &NO_POST);
	is_str(urls(out), "top,t1,t2,t3,s1,s2,u1,u2,u3",
		"sort: by score, ties stable, unscored last in input order");
	jv_free(out);

	/* Stability on many ties (qsort is not stable by itself). */
	{
		struct buf want = BUF_INIT;
		char u[32];

		a = jv_array();
		for (int i = 0; i < 200; i++) {
			snprintf(u, sizeof(u), "%d", i);
			a = jv_array_append(a, r_sc(u, i % 2 ? 0.5 : 0.25, "x"));
		}
		for (int pass = 1; pass >= 0; pass--)
			for (int i = 0; i < 200; i++)
				if (i % 2 == pass) {
					snprintf(u, sizeof(u), "%s%d", want.len ? "," : "", i);
					buf_puts(&want, u);
				}
		out = results_post(a, &NO_POST);
		is_str(urls(out), buf_cstr(&want), "sort: 200 results with two scores, stable");
		jv_free(out);
		buf_free(&want);
	}

	/* All unscored: order untouched. */
	a = jv_array();
	a = jv_array_append(a, r_un("c", "x"));
	a = jv_array_append(a, r_un("a", "x"));
	a = jv_array_append(a, r_un("b", "x"));
	o = NO_POST;
	o.has_min_score = true;
	o.min_score = 0.99;
	out = results_post(a, &o);
	is_str(urls(out), "c,a,b", "all unscored: order kept, min_score drops none");
	jv_free(out);

	/* Dedup: the first of each key stays; null, empty and missing urls are never duplicates. */
	a = jv_array();
	a = jv_array_append(a, r_un("https://A.com/x/", "first"));
	a = jv_array_append(a, r_un("https://a.com/x#frag", "second"));
	a = jv_array_append(a, r_un("https://a.com/X", "other path"));
	a = jv_array_append(a, r_un(NULL, "n1"));
	a = jv_array_append(a, r_un(NULL, "n2"));
	a = jv_array_append(a, r_un("", "e1"));
	a = jv_array_append(a, r_un("", "e2"));
	a = jv_array_append(a, r_un("https://a.com/x?p=1", "query differs"));
	a = jv_array_append(a, r_un("HTTPS://a.com/x", "third"));
	out = results_post(a, &NO_POST);
	is_str(urls(out), "https://A.com/x/,https://a.com/X,null,null,,,https://a.com/x?p=1",
		"dedup: first per url_key kept; null and empty urls kept");
	is_str(field(out, 0, "content"), "\"first\"", "dedup: the first one's content");
	jv_free(out);

	/* max_results. */
	for (long n = -1; n <= 4; n++) {
		static const char *const want[] = { "a,b,c", "", "a", "a,b", "a,b,c", "a,b,c" };

		o = NO_POST;
		o.max_results = n;
		a = jv_array();
		a = jv_array_append(a, r_sc("a", 0.9, "x"));
		a = jv_array_append(a, r_sc("b", 0.8, "x"));
		a = jv_array_append(a, r_sc("c", 0.7, "x"));
		out = results_post(a, &o);
		is_str(urls(out), want[n + 1], "max_results %ld", n);
		jv_free(out);
	}

	/* max_chars: content and raw_content each, truncated marked only when cut. */
	o = NO_POST;
	o.max_chars = 5;
	a = jv_array();
	a = jv_array_append(a,
		result_new("a title longer than 5", "a", "0123456789", "abcdefgh", NULL, true,
			0.9));
	a = jv_array_append(a, result_new("t", "b", "01234", "abcde", NULL, true, 0.8));
	a = jv_array_append(a, result_new("t", "c", "012", "abcdefg", NULL, true, 0.7));
	a = jv_array_append(a, result_new("t", "d", NULL, NULL, NULL, true, 0.6));
	out = results_post(a, &o);
	is_str(field(out, 0, "content"), "\"01234\"", "max_chars: content cut");
	is_str(field(out, 0, "raw_content"), "\"abcde\"", "max_chars: raw_content cut");
	is_str(field(out, 0, "title"), "\"a title longer than 5\"", "max_chars: title not cut");
	is_str(field(out, 0, "truncated"), "true", "max_chars: cut result marked truncated");
	is_str(field(out, 1, "truncated"), "(absent)", "max_chars: exactly max is not cut");
	is_str(field(out, 2, "content"), "\"012\"", "max_chars: short content kept");
	is_str(field(out, 2, "raw_content"), "\"abcde\"", "max_chars: only raw_content cut");
	is_str(field(out, 2, "truncated"), "true", "max_chars: either cut marks it");
	is_str(field(out, 3, "content"), "null", "max_chars: null content stays null");
	is_str(field(out, 3, "truncated"), "(absent)", "max_chars: null content is not cut");
	{
		jv s = jv_dump_string(jv_array_get(jv_copy(out), 0), 0);

		is_str(jv_string_value(s),
			"{\"title\":\"a title longer than 5\",\"url\":\"a\",\"content\":\"01234\","
			"\"score\":0.9,\"raw_content\":\"abcde\",\"published_date\":null,"
			"\"truncated\":true}",
			"max_chars: fields keep their order, truncated last");
		jv_free(s);
	}
	jv_free(out);

	/* max_total_chars: whole results while they fit, the next cut, the rest dropped. */
	o = NO_POST;
	o.max_total_chars = 25;
	a = jv_array();
	a = jv_array_append(a, result_new("t", "a", "0123456789", NULL, NULL, true, 0.9));
	a = jv_array_append(a, result_new("t", "b", "01234", "abcde", NULL, true, 0.8));
	a = jv_array_append(a, result_new("t", "c", "0123456789", "abcdefgh", NULL, true, 0.7));
	a = jv_array_append(a, result_new("t", "d", "0", NULL, NULL, true, 0.6));
	out = results_post(a, &o);
	is_str(urls(out), "a,b,c", "max_total_chars: the rest dropped after the cut one");
	is_str(field(out, 0, "truncated"), "(absent)", "max_total_chars: first whole");
	is_str(field(out, 1, "truncated"), "(absent)",
		"max_total_chars: content + raw_content whole");
	is_str(field(out, 2, "content"), "\"01234\"", "max_total_chars: third cut to what is left");
	is_str(field(out, 2, "raw_content"), "\"\"", "max_total_chars: nothing left for its raw");
	is_str(field(out, 2, "truncated"), "true", "max_total_chars: the cut one is marked");
	jv_free(out);

	o.max_total_chars = 22;
	a = jv_array();
	a = jv_array_append(a, result_new("t", "a", "0123456789", "abcdefgh", NULL, true, 0.9));
	a = jv_array_append(a, result_new("t", "b", "01", "abcdefgh", NULL, true, 0.8));
	out = results_post(a, &o);
	is_str(field(out, 1, "content"), "\"01\"", "max_total_chars: content whole");
	is_str(field(out, 1, "raw_content"), "\"ab\"",
		"max_total_chars: raw_content gets the rest");
	jv_free(out);

	/* A budget spent exactly: what follows with text is dropped, not kept empty. */
	o.max_total_chars = 10;
	a = jv_array();
	a = jv_array_append(a, r_sc("a", 0.9, "0123456789"));
	a = jv_array_append(a, r_sc("b", 0.8, "more"));
	out = results_post(a, &o);
	is_str(urls(out), "a", "max_total_chars: spent exactly, the next one dropped");
	is_str(field(out, 0, "truncated"), "(absent)", "max_total_chars: exact fit not marked");
	jv_free(out);

	/* Results without text cost nothing. */
	o.max_total_chars = 3;
	a = jv_array();
	a = jv_array_append(a, r_sc("a", 0.9, "abc"));
	a = jv_array_append(a, r_sc("b", 0.8, NULL));
	a = jv_array_append(a, r_sc("c", 0.7, ""));
	a = jv_array_append(a, r_sc("d", 0.6, "x"));
	a = jv_array_append(a, r_sc("e", 0.5, NULL));
	out = results_post(a, &o);
	is_str(urls(out), "a,b,c", "max_total_chars: results without text fit for free");
	jv_free(out);
}

static void
test_order(void)
{
	struct post_options o;
	jv a, out;

	/* Sort before dedup: the later duplicate with the higher score survives. */
	a = jv_array();
	a = jv_array_append(a, r_sc("https://a.com/x", 0.3, "low, seen first"));
	a = jv_array_append(a, r_sc("https://b.com", 0.5, "b"));
	a = jv_array_append(a, r_sc("https://A.com/x/#y", 0.9, "high, seen later"));
	out = results_post(a, &NO_POST);
	is_str(urls(out), "https://A.com/x/#y,https://b.com",
		"order: sort before dedup, the higher-scored duplicate survives");
	is_str(field(out, 0, "content"), "\"high, seen later\"", "order: its content");
	jv_free(out);

	/* min_score before dedup: a dropped low duplicate does not hide anything. */
	o = NO_POST;
	o.has_min_score = true;
	o.min_score = 0.4;
	a = jv_array();
	a = jv_array_append(a, r_sc("https://a.com", 0.1, "low"));
	a = jv_array_append(a, r_un("https://a.com/", "unscored duplicate"));
	out = results_post(a, &o);
	is_str(urls(out), "https://a.com/", "order: min_score before dedup");
	jv_free(out);

	/* min_score before max_results: max_results counts what is left. */
	o = NO_POST;
	o.has_min_score = true;
	o.min_score = 0.5;
	o.max_results = 2;
	a = jv_array();
	a = jv_array_append(a, r_sc("a", 0.9, "x"));
	a = jv_array_append(a, r_sc("b", 0.2, "x"));
	a = jv_array_append(a, r_sc("c", 0.3, "x"));
	a = jv_array_append(a, r_sc("d", 0.8, "x"));
	a = jv_array_append(a, r_sc("e", 0.7, "x"));
	out = results_post(a, &o);
	is_str(urls(out), "a,d", "order: min_score, sort, then max_results");
	jv_free(out);

	/* Dedup before max_results: duplicates do not use up places. */
	o = NO_POST;
	o.max_results = 2;
	a = jv_array();
	a = jv_array_append(a, r_sc("https://a.com", 0.9, "x"));
	a = jv_array_append(a, r_sc("https://a.com/", 0.8, "x"));
	a = jv_array_append(a, r_sc("https://b.com", 0.7, "x"));
	out = results_post(a, &o);
	is_str(urls(out), "https://a.com,https://b.com", "order: dedup before max_results");
	jv_free(out);

	/* max_results before the budget: a dropped result takes no budget. */
	o = NO_POST;
	o.max_results = 1;
	o.max_total_chars = 100;
	a = jv_array();
	a = jv_array_append(a, r_sc("a", 0.9, "0123456789"));
	a = jv_array_append(a, r_sc("b", 0.8, "0123456789"));
	out = results_post(a, &o);
	is_str(urls(out), "a", "order: max_results before max_total_chars");
	jv_free(out);

	/* max_chars before max_total_chars: the budget sees the cut texts. */
	o = NO_POST;
	o.max_chars = 4;
	o.max_total_chars = 10;
	a = jv_array();
	a = jv_array_append(a, r_sc("a", 0.9, "0123456789"));
	a = jv_array_append(a, r_sc("b", 0.8, "0123456789"));
	a = jv_array_append(a, r_sc("c", 0.7, "0123456789"));
	out = results_post(a, &o);
	is_str(urls(out), "a,b,c", "order: max_chars before max_total_chars (3 results)");
	is_str(field(out, 0, "content"), "\"0123\"", "order: first cut by max_chars");
	is_str(field(out, 1, "content"), "\"0123\"", "order: second cut by max_chars");
	is_str(field(out, 2, "content"), "\"01\"", "order: third cut by the budget");
	jv_free(out);

	/* Everything at once. */
	o.has_min_score = true;
	o.min_score = 0.4;
	o.max_results = 3;
	o.max_chars = 6;
	o.max_total_chars = 15;
	a = jv_array();
	a = jv_array_append(a, r_sc("https://x.com/1", 0.5, "aaaaaaaaaa"));
	a = jv_array_append(a, r_sc("https://x.com/2", 0.1, "bbbbbbbbbb"));
	a = jv_array_append(a, r_un("https://x.com/3", "cccccccccc"));
	a = jv_array_append(a, r_sc("https://X.com/1/", 0.95, "dddddddddd"));
	a = jv_array_append(a, r_sc("https://x.com/4", 0.6, "eeeeeeeeee"));
	a = jv_array_append(a, r_sc("https://x.com/5", 0.55, "ffffffffff"));
	out = results_post(a, &o);
	is_str(urls(out), "https://X.com/1/,https://x.com/4,https://x.com/5",
		"order: all steps together");
	is_str(field(out, 0, "content"), "\"dddddd\"", "order: all steps, first");
	is_str(field(out, 2, "content"), "\"fff\"", "order: all steps, budget cut the last");
	jv_free(out);
}

/* Whether a is an array whose every string is valid UTF-8 and whose JSON parses back equal. */
static bool
valid_everywhere(jv a)
{
	jv s = jv_dump_string(jv_copy(a), 0);
	const char *t = jv_string_value(s);
	size_t n = strlen(t);
	jv back = jv_parse_sized(t, (int)n);
	bool good = utf8_valid_prefix(t, n) == n && jv_is_valid(back) &&
		jv_equal(jv_copy(back), jv_copy(a));

	jv_free(back);
	jv_free(s);
	return good;
}

static void
test_utf8(void)
{
	/* 2-, 3- and 4-byte characters and ASCII mixed. */
	static const char text[] = "a\xc3\xa9"
				   "b\xe6\x9d\xb1\xe4\xba\xac"
				   "c\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
				   "d\xc3\xa9\xc3\xa9";
	size_t len = strlen(text);
	int bad_chars = 0, bad_total = 0, bad_max = 0;
	struct post_options o;
	jv out;

	for (size_t max = 1; max <= len + 1; max++) {
		size_t want = utf8_cut(text, max < len ? max : len);
		size_t got_len;
		jv c;

		o = NO_POST;
		o.max_chars = max;
		out = results_post(jv_array_append(jv_array(),
					   result_new("t", "u", text, text, NULL, true, 0.5)),
			&o);
		c = jv_object_get(jv_array_get(jv_copy(out), 0), jv_string("content"));
		got_len = (size_t)jv_string_length_bytes(jv_copy(c));
		if (!valid_everywhere(out) || got_len != want || got_len > max ||
			memcmp(jv_string_value(c), text, got_len) != 0)
			bad_chars++;
		if (got_len + 4 <= max && max <= len)
			bad_max++; /* a cut never loses a whole character */
		jv_free(c);
		jv_free(out);

		/* The same budget over the set, two results. */
		o = NO_POST;
		o.max_total_chars = max;
		out = jv_array();
		out = jv_array_append(out, result_new("t", "u1", text, NULL, NULL, true, 0.9));
		out = jv_array_append(out, result_new("t", "u2", text, text, NULL, true, 0.8));
		out = results_post(out, &o);
		{
			size_t total = 0;

			for (int i = 0; i < jv_array_length(jv_copy(out)); i++) {
				jv r = jv_array_get(jv_copy(out), i);
				jv x = jv_object_get(jv_copy(r), jv_string("content"));
				jv y = jv_object_get(r, jv_string("raw_content"));

				if (jv_get_kind(x) == JV_KIND_STRING)
					total += (size_t)jv_string_length_bytes(jv_copy(x));
				if (jv_get_kind(y) == JV_KIND_STRING)
					total += (size_t)jv_string_length_bytes(jv_copy(y));
				jv_free(x);
				jv_free(y);
			}
			if (!valid_everywhere(out) || total > max || total + 4 <= max)
				bad_total++;
		}
		jv_free(out);
	}
	is_int(bad_chars, 0, "utf8: max_chars 1..%zu cuts at boundaries, valid JSON", len + 1);
	is_int(bad_max, 0, "utf8: a cut keeps all but at most one character's bytes");
	is_int(bad_total, 0, "utf8: max_total_chars 1..%zu within budget, boundaries, valid",
		len + 1);

	/* A first character longer than the budget: nothing fits, the result is dropped. */
	o = NO_POST;
	o.max_total_chars = 3;
	out = results_post(jv_array_append(jv_array(), r_sc("u", 0.5, "\xf0\x9f\x98\x80")), &o);
	is_int(jv_array_length(out), 0, "utf8: a budget shorter than the first character");

	o = NO_POST;
	o.max_chars = 2;
	out = results_post(jv_array_append(jv_array(), r_sc("u", 0.5, "\xe6\x9d\xb1x")), &o);
	is_str(field(out, 0, "content"), "\"\"", "utf8: max_chars shorter than the first char");
	is_str(field(out, 0, "truncated"), "true", "utf8: ... still marked truncated");
	jv_free(out);
}

static void
test_edges(void)
{
	struct post_options o = NO_POST;
	jv out;

	out = results_post(jv_array(), &NO_POST);
	is_int(jv_array_length(out), 0, "empty set: []");
	o.has_min_score = true;
	o.min_score = 0.5;
	o.max_results = 0;
	o.max_chars = 1;
	o.max_total_chars = 1;
	out = results_post(jv_array(), &o);
	is_int(jv_array_length(out), 0, "empty set, every option: []");

	out = results_post(jv_array_append(jv_array(), r_sc("a", 0.1, "x")), &o);
	is_int(jv_array_length(out), 0, "all dropped by min_score: []");

	out = results_post(jv_null(), &NO_POST);
	ok(jv_get_kind(out) == JV_KIND_NULL, "not an array: returned as it is");
	jv_free(out);

	/* Odd members: a string score counts as none, a non-object is kept. */
	out = jv_array();
	out = jv_array_append(out, jv_string("not an object"));
	out = jv_array_append(out,
		jv_object_set(r_sc("s", 0.1, "x"), jv_string("score"), jv_string("0.9")));
	out = jv_array_append(out, r_sc("n", 0.2, "x"));
	o = NO_POST;
	o.has_min_score = true;
	o.min_score = 0.5;
	o.max_chars = 1;
	o.max_total_chars = 100;
	out = results_post(out, &o);
	is_int(jv_array_length(jv_copy(out)), 2, "odd members: a non-object and a string score");
	{
		jv s = jv_dump_string(jv_array_get(jv_copy(out), 0), 0);

		is_str(jv_string_value(s), "\"not an object\"",
			"odd members: the non-object as is");
		jv_free(s);
	}
	jv_free(out);

	/* The same score everywhere (ties) and negative or large scores. */
	out = jv_array();
	out = jv_array_append(out, r_sc("a", 1, "x"));
	out = jv_array_append(out, r_sc("b", -3, "x"));
	out = jv_array_append(out, r_sc("c", 1e300, "x"));
	out = jv_array_append(out, r_sc("d", 1, "x"));
	out = jv_array_append(out, r_sc("e", -3, "x"));
	out = results_post(out, &NO_POST);
	is_str(urls(out), "c,a,d,b,e", "scores out of 0..1 sort too, ties stable");
	jv_free(out);
}

int
main(void)
{
	progname = "test-search-results";
	test_result_new();
	test_url_key();
	test_steps_alone();
	test_order();
	test_utf8();
	test_edges();
	buf_free(&urls_buf);
	buf_free(&key_buf);
	return done_testing();
}
