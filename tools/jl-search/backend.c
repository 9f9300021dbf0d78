/* SPDX-License-Identifier: BSD-2-Clause */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "json.h"
#include "results.h"
#include "util.h"

static const struct backend backends[] = {
	{ "tavily", BACKEND_TAVILY, "https://api.tavily.com", "TAVILY_API_KEY", FEATURE_ALL, 400,
		20 },
	{ "brave", BACKEND_BRAVE, "https://api.search.brave.com", "BRAVE_API_KEY",
		FEATURE_TIME_RANGE, 400, 20 },
	{ "serper", BACKEND_SERPER, "https://google.serper.dev", "SERPER_API_KEY",
		FEATURE_TIME_RANGE, 0, 100 },
	{ "searxng", BACKEND_SEARXNG, NULL, NULL, FEATURE_TIME_RANGE, 0, LONG_MAX },
	{ "exa", BACKEND_EXA, "https://api.exa.ai", "EXA_API_KEY",
		FEATURE_INCLUDE_DOMAIN | FEATURE_EXCLUDE_DOMAIN | FEATURE_RAW, 0, 100 },
	{ "fts", BACKEND_FTS, NULL, NULL, 0, 0, LONG_MAX },
};

const struct backend *
backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(*backends); i++)
		if (strcmp(backends[i].name, name) == 0)
			return &backends[i];
	return NULL;
}

const char *
backend_names(void)
{
	return "tavily, brave, serper, searxng, exa, fts";
}

const char *
feature_option(enum search_feature f)
{
	switch (f) {
	case FEATURE_DEPTH:
		return "--depth";
	case FEATURE_TOPIC:
		return "--topic";
	case FEATURE_TIME_RANGE:
		return "--time-range";
	case FEATURE_INCLUDE_DOMAIN:
		return "--include-domain";
	case FEATURE_EXCLUDE_DOMAIN:
		return "--exclude-domain";
	case FEATURE_ANSWER:
		return "--answer";
	case FEATURE_RAW:
		return "--raw";
	default:
		return "?";
	}
}

static void
add_param(struct buf *url, const char *name, const char *value)
{
	buf_putc(url, strchr(buf_cstr(url), '?') ? '&' : '?');
	buf_puts(url, name);
	buf_putc(url, '=');
	url_encode(url, value, strlen(value));
}

/* ,"name":"value" (or the first member, after '{'). */
static void
member(struct buf *b, const char *name)
{
	if (b->len > 0 && b->data[b->len - 1] != '{')
		buf_putc(b, ',');
	jw_cstring(b, name);
	buf_putc(b, ':');
}

static void
string_member(struct buf *b, const char *name, const char *value)
{
	member(b, name);
	jw_cstring(b, value);
}

static void
number_member(struct buf *b, const char *name, long value)
{
	member(b, name);
	buf_add_uint(b, (unsigned long long)value);
}

static void
strings_member(struct buf *b, const char *name, const char *const *v, size_t n)
{
	member(b, name);
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		jw_cstring(b, v[i]);
	}
	buf_putc(b, ']');
}

/* "day", "d", ... as the first letter Tavily, Brave and Serper all understand. */
static char
range_letter(const char *time_range)
{
	return time_range != NULL ? time_range[0] : '\0';
}

static void
tavily_body(const struct search_params *p, const char *query, struct buf *b)
{
	buf_putc(b, '{');
	string_member(b, "query", query);
	number_member(b, "max_results", p->max_results);
	if (p->depth != NULL)
		string_member(b, "search_depth", p->depth);
	if (p->topic != NULL)
		string_member(b, "topic", p->topic);
	if (p->time_range != NULL)
		string_member(b, "time_range", p->time_range);
	if (p->ninclude > 0)
		strings_member(b, "include_domains", p->include_domains, p->ninclude);
	if (p->nexclude > 0)
		strings_member(b, "exclude_domains", p->exclude_domains, p->nexclude);
	member(b, "include_answer");
	buf_puts(b, p->answer ? "true" : "false");
	member(b, "include_raw_content");
	buf_puts(b, p->raw ? "true" : "false");
	member(b, "include_usage");
	buf_puts(b, "true}");
}

bool
backend_request(const struct backend *b, const char *base_url, const struct search_params *p,
	const char *query, struct buf *url, struct buf *body)
{
	char letter[2] = { range_letter(p->time_range), '\0' };
	char count[24];

	buf_puts(url, base_url != NULL ? base_url : b->base_url);
	while (url->len > 0 && url->data[url->len - 1] == '/')
		url->len--;
	snprintf(count, sizeof(count), "%ld", p->max_results);
	switch (b->kind) {
	case BACKEND_TAVILY:
		buf_puts(url, "/search");
		tavily_body(p, query, body);
		return true;
	case BACKEND_BRAVE:
		buf_puts(url, "/res/v1/web/search");
		add_param(url, "q", query);
		add_param(url, "count", count);
		add_param(url, "text_decorations", "false");
		if (letter[0] != '\0') {
			char freshness[3] = { 'p', letter[0], '\0' };

			add_param(url, "freshness", freshness);
		}
		return false;
	case BACKEND_SERPER:
		buf_puts(url, "/search");
		buf_putc(body, '{');
		string_member(body, "q", query);
		number_member(body, "num", p->max_results);
		if (letter[0] != '\0') {
			char tbs[6] = { 'q', 'd', 'r', ':', letter[0], '\0' };

			string_member(body, "tbs", tbs);
		}
		buf_putc(body, '}');
		return true;
	case BACKEND_SEARXNG:
		buf_puts(url, "/search");
		add_param(url, "q", query);
		add_param(url, "format", "json");
		if (p->time_range != NULL)
			add_param(url, "time_range",
				letter[0] == 'd'           ? "day"
					: letter[0] == 'w' ? "week"
					: letter[0] == 'm' ? "month"
							   : "year");
		return false;
	case BACKEND_EXA:
		buf_puts(url, "/search");
		buf_putc(body, '{');
		string_member(body, "query", query);
		number_member(body, "numResults", p->max_results);
		if (p->ninclude > 0)
			strings_member(body, "includeDomains", p->include_domains, p->ninclude);
		if (p->nexclude > 0)
			strings_member(body, "excludeDomains", p->exclude_domains, p->nexclude);
		member(body, "contents");
		buf_puts(body,
			p->raw ? "{\"highlights\":true,\"text\":true}}" : "{\"highlights\":true}}");
		return true;
	case BACKEND_FTS:
		break;
	}
	return false;
}

bool
backend_check_url(const struct backend *b, const char *base_url, struct buf *url)
{
	if (b->kind != BACKEND_TAVILY)
		return false; /* the others have no free authenticated call */
	buf_puts(url, base_url != NULL ? base_url : b->base_url);
	while (url->len > 0 && url->data[url->len - 1] == '/')
		url->len--;
	buf_puts(url, "/usage");
	return true;
}

void
backend_auth(const struct backend *b, const char *key, struct http_transfer *t)
{
	struct buf line = BUF_INIT;

	http_add_header(t, "Accept: application/json");
	if (t->post)
		http_add_header(t, "Content-Type: application/json");
	if (key == NULL)
		return;
	buf_puts(&line,
		b->kind == BACKEND_TAVILY           ? "Authorization: Bearer "
			: b->kind == BACKEND_BRAVE  ? "X-Subscription-Token: "
			: b->kind == BACKEND_SERPER ? "X-API-KEY: "
						    : "x-api-key: ");
	buf_puts(&line, key);
	http_add_header(t, buf_cstr(&line));
	explicit_bzero(line.data, line.len);
	buf_free(&line);
}

/* obj[name] (borrowed obj) as a C string in scratch, or NULL when it is not a string. */
static const char *
string_at(jv obj, const char *name, struct buf *scratch)
{
	jv v = jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(name))
						  : jv_invalid();

	buf_reset(scratch);
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return NULL;
	}
	buf_add(scratch, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
	jv_free(v);
	return buf_cstr(scratch);
}

/* Brave marks matches with <strong>: keep the text, drop the tags (a '<' that closes no tag stays).
 */
static const char *
strip_tags(const char *s, struct buf *out)
{
	const char *end;

	if (s == NULL)
		return NULL;
	buf_reset(out);
	for (; *s != '\0'; s++) {
		if (*s == '<' && (isalpha((unsigned char)s[1]) || s[1] == '/') &&
			(end = strchr(s, '>')) != NULL)
			s = end;
		else
			buf_putc(out, *s);
	}
	return buf_cstr(out);
}

/* The first string of obj[name] (an array of strings), joined by " ... " when more. */
static const char *
joined_at(jv obj, const char *name, struct buf *out)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(name));

	buf_reset(out);
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv_array_foreach(v, i, s)
		{
			if (jv_get_kind(s) == JV_KIND_STRING) {
				if (out->len > 0)
					buf_puts(out, " ... ");
				buf_puts(out, jv_string_value(s));
			}
			(void)i;
			jv_free(s);
		}
	}
	jv_free(v);
	return out->len > 0 ? buf_cstr(out) : NULL;
}

/* One result of backend b from item (borrowed), normalised (doc/protocols.md §5.3). */
static jv
normalise(const struct backend *b, jv item, long rank)
{
	struct buf title = BUF_INIT, url = BUF_INIT, content = BUF_INIT, raw = BUF_INIT,
		   date = BUF_INIT, tmp = BUF_INIT;
	const char *c, *r = NULL, *d;
	jv score = jv_object_get(jv_copy(item), jv_string("score")), result;
	bool scored = (b->kind == BACKEND_TAVILY || b->kind == BACKEND_EXA) &&
		jv_get_kind(score) == JV_KIND_NUMBER;

	string_at(item, "title", &title);
	string_at(item, b->kind == BACKEND_SERPER ? "link" : "url", &url);
	switch (b->kind) {
	case BACKEND_BRAVE:
		c = strip_tags(string_at(item, "description", &tmp), &content);
		d = string_at(item, "page_age", &date);
		if (d == NULL)
			d = string_at(item, "age", &date);
		break;
	case BACKEND_SERPER:
		c = string_at(item, "snippet", &content);
		d = string_at(item, "date", &date);
		break;
	case BACKEND_EXA:
		c = joined_at(item, "highlights", &content);
		if (c == NULL)
			c = string_at(item, "summary", &content);
		r = string_at(item, "text", &raw);
		d = string_at(item, "publishedDate", &date);
		break;
	case BACKEND_SEARXNG:
		c = string_at(item, "content", &content);
		d = string_at(item, "publishedDate", &date);
		break;
	default:
		c = string_at(item, "content", &content);
		r = string_at(item, "raw_content", &raw);
		d = string_at(item, "published_date", &date);
		break;
	}
	result = result_new(title.len ? buf_cstr(&title) : NULL, url.len ? buf_cstr(&url) : NULL, c,
		r, d, scored, scored ? jv_number_value(score) : 0);
	result = jv_object_set(result, jv_string("rank"), jv_number((double)rank));
	jv_free(score);
	buf_free(&title);
	buf_free(&url);
	buf_free(&content);
	buf_free(&raw);
	buf_free(&date);
	buf_free(&tmp);
	return result;
}

jv
backend_parse(const struct backend *b, const char *body, size_t len, struct buf *err)
{
	jv doc = len <= INT_MAX ? jv_parse_sized(body, (int)len) : jv_invalid();
	jv items, results = jv_array(), answer, out, usage;

	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		jv_free(results);
		buf_puts(err, "the answer is not a JSON object");
		return jv_invalid();
	}
	if (b->kind == BACKEND_BRAVE) {
		jv web = jv_object_get(jv_copy(doc), jv_string("web"));

		items = jv_get_kind(web) == JV_KIND_OBJECT
			? jv_object_get(web, jv_string("results"))
			: (jv_free(web), jv_null());
	} else {
		items = jv_object_get(jv_copy(doc),
			jv_string(b->kind == BACKEND_SERPER ? "organic" : "results"));
	}
	if (!jv_is_valid(items)) { /* absent */
		jv_free(items);
		items = jv_null();
	}
	if (jv_get_kind(items) != JV_KIND_ARRAY && jv_get_kind(items) != JV_KIND_NULL) {
		jv_free(items);
		jv_free(doc);
		jv_free(results);
		buf_puts(err, "the answer's results are not an array");
		return jv_invalid();
	}
	if (b->kind == BACKEND_SEARXNG && jv_get_kind(items) == JV_KIND_ARRAY &&
		jv_array_length(jv_copy(items)) == 0) {
		/* Every engine failing still gives a 200 with no results. */
		jv down = jv_object_get(jv_copy(doc), jv_string("unresponsive_engines"));
		bool failed = jv_get_kind(down) == JV_KIND_ARRAY && jv_array_length(down) > 0;

		if (jv_get_kind(down) != JV_KIND_ARRAY)
			jv_free(down);
		if (failed) {
			jv_free(items);
			jv_free(doc);
			jv_free(results);
			buf_puts(err,
				"no results: every SearxNG engine failed (unresponsive_engines)");
			return jv_invalid();
		}
	}
	if (jv_get_kind(items) == JV_KIND_ARRAY) { /* a missing list means none */
		jv_array_foreach(items, i, item)
		{
			if (jv_get_kind(item) == JV_KIND_OBJECT)
				results = jv_array_append(results, normalise(b, item, i + 1));
			jv_free(item);
		}
	}
	jv_free(items);
	answer = b->kind == BACKEND_TAVILY ? jv_object_get(jv_copy(doc), jv_string("answer"))
					   : jv_null();
	if (jv_get_kind(answer) != JV_KIND_STRING) {
		jv_free(answer);
		answer = jv_null();
	}
	out = jv_object_set(jv_object(), jv_string("results"), results);
	out = jv_object_set(out, jv_string("answer"), answer);
	usage = jv_object_get(jv_copy(doc),
		jv_string(b->kind == BACKEND_SERPER ? "credits" : "usage"));
	if (b->kind == BACKEND_TAVILY && jv_get_kind(usage) == JV_KIND_OBJECT)
		usage = jv_object_get(usage, jv_string("credits"));
	if (jv_get_kind(usage) == JV_KIND_NUMBER)
		out = jv_object_set(out, jv_string("credits"), usage);
	else
		jv_free(usage);
	jv_free(doc);
	return out;
}

void
extract_request(const char *base_url, jv urls, const char *depth, struct buf *url, struct buf *body)
{
	buf_puts(url, base_url != NULL ? base_url : "https://api.tavily.com");
	while (url->len > 0 && url->data[url->len - 1] == '/')
		url->len--;
	buf_puts(url, "/extract");
	buf_putc(body, '{');
	member(body, "urls");
	buf_putc(body, '[');
	jv_array_foreach(urls, i, u)
	{
		if (i > 0)
			buf_putc(body, ',');
		jw_cstring(body, jv_string_value(u));
		jv_free(u);
	}
	buf_putc(body, ']');
	string_member(body, "extract_depth", depth != NULL ? depth : "basic");
	string_member(body, "format", "text");
	member(body, "include_usage");
	buf_puts(body, "true}");
}

jv
extract_parse(const char *body, size_t len, struct buf *err)
{
	jv doc = len <= INT_MAX ? jv_parse_sized(body, (int)len) : jv_invalid();
	jv pages = jv_object(), failed = jv_object(), list, out, usage;
	struct buf url = BUF_INIT, text = BUF_INIT;

	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		jv_free(pages);
		jv_free(failed);
		buf_puts(err, "the extract answer is not a JSON object");
		return jv_invalid();
	}
	list = jv_object_get(jv_copy(doc), jv_string("results"));
	if (jv_get_kind(list) == JV_KIND_ARRAY) {
		jv_array_foreach(list, i, item)
		{
			if (string_at(item, "url", &url) != NULL &&
				string_at(item, "raw_content", &text) != NULL)
				pages = jv_object_set(pages, jv_string(buf_cstr(&url)),
					jv_string_sized(text.data, (int)text.len));
			(void)i;
			jv_free(item);
		}
	}
	jv_free(list);
	list = jv_object_get(jv_copy(doc), jv_string("failed_results"));
	if (jv_get_kind(list) == JV_KIND_ARRAY) {
		jv_array_foreach(list, i, item)
		{
			if (string_at(item, "url", &url) != NULL) {
				const char *why = string_at(item, "error", &text);

				failed = jv_object_set(failed, jv_string(buf_cstr(&url)),
					jv_string(why != NULL ? why : "failed"));
			}
			(void)i;
			jv_free(item);
		}
	}
	jv_free(list);
	out = jv_object_set(jv_object(), jv_string("pages"), pages);
	out = jv_object_set(out, jv_string("failed"), failed);
	usage = jv_object_get(jv_copy(doc), jv_string("usage"));
	usage = jv_get_kind(usage) == JV_KIND_OBJECT ? jv_object_get(usage, jv_string("credits"))
						     : (jv_free(usage), jv_null());
	out = jv_object_set(out, jv_string("credits"),
		jv_get_kind(usage) == JV_KIND_NUMBER ? usage : (jv_free(usage), jv_number(0)));
	jv_free(doc);
	buf_free(&url);
	buf_free(&text);
	return out;
}
