/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-search's hooks for the record loop: evaluate the query, build the
 * backend's request (or search the local index), answer from the cache,
 * shape the results, and with --extract fetch the kept pages' text in a
 * second request to Tavily /extract.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "failure.h"
#include "record.h"
#include "sha256.h"
#include "utf8.h"
#include "util.h"

#define CACHE_TABLE "search_cache"

/* What jl-search keeps with each record. */
struct search_job {
	char *query;
	struct buf url, body; /* the search request */
	bool post;
	bool extracting; /* the search is done: the next request is /extract */
	jv search;       /* .search so far, while extracting */
	long requests;   /* billable requests made */
	double latency_ms;
};

static void
free_data(void *data)
{
	struct search_job *sj = data;

	free(sj->query);
	buf_free(&sj->url);
	buf_free(&sj->body);
	jv_free(sj->search);
	free(sj);
}

/* Characters of UTF-8 text (invalid bytes count one each). */
static size_t
count_chars(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		n += (*p & 0xC0) != 0x80;
	return n;
}

/* The record's query, or NULL after failing j with bad_query. */
static char *
eval_query(struct netloop *nl, struct net_job *j)
{
	const struct search_config *cfg = netloop_tool(nl);
	jv q = jqx_first(cfg->query, jv_copy(j->record));
	struct buf why = BUF_INIT;
	char *query = NULL;

	if (jv_get_kind(q) == JV_KIND_INVALID) {
		jv msg = jv_invalid_get_msg(q);

		buf_puts(&why, "the query expression failed");
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			buf_puts(&why, ": ");
			buf_puts(&why, jv_string_value(msg));
		}
		jv_free(msg);
		q = jv_invalid();
	} else if (jv_get_kind(q) != JV_KIND_STRING) {
		buf_puts(&why, "the query is not a string but ");
		buf_puts(&why, jv_kind_name(jv_get_kind(q)));
	} else if (jv_string_length_bytes(jv_copy(q)) == 0 ||
		strspn(jv_string_value(q), " \t\r\n") ==
			(size_t)jv_string_length_bytes(jv_copy(q))) {
		buf_puts(&why, "the query is empty");
	} else if (cfg->backend->max_query > 0 &&
		count_chars(jv_string_value(q)) > cfg->backend->max_query) {
		buf_puts(&why, "the query is ");
		buf_add_uint(&why, count_chars(jv_string_value(q)));
		buf_puts(&why, " characters; ");
		buf_puts(&why, cfg->backend->name);
		buf_puts(&why, " takes at most ");
		buf_add_uint(&why, cfg->backend->max_query);
	} else {
		query = xstrdup(jv_string_value(q));
	}
	jv_free(q);
	if (query == NULL)
		netloop_fail(nl, j, ERR_BAD_QUERY, buf_cstr(&why), 0);
	buf_free(&why);
	return query;
}

/* .search for results (consumed, already shaped) and the rest of the answer (consumed). */
static jv
make_search(const struct search_config *cfg, const char *query, jv results, jv answer)
{
	jv s = jv_object_set(jv_object(), jv_string("query"), jv_string(query));

	s = jv_object_set(s, jv_string("backend"), jv_string(cfg->backend->name));
	if (cfg->backend->kind == BACKEND_TAVILY)
		s = jv_object_set(s, jv_string("depth"),
			jv_string(cfg->params.depth != NULL ? cfg->params.depth : "basic"));
	s = jv_object_set(s, jv_string("results"), results);
	return jv_object_set(s, jv_string("answer"), answer);
}

/* Finish j with .search: the timing and counts of this run added, the rest cached. */
static void
finish(struct netloop *nl, struct net_job *j, jv search)
{
	struct search_job *sj = j->data;

	if (j->has_key)
		netloop_cache_put(nl, j, search);
	search = jv_object_set(search, jv_string("latency_ms"), jv_number(round(sj->latency_ms)));
	search = jv_object_set(search, jv_string("cached"), jv_false());
	search = jv_object_set(search, jv_string("requests"), jv_number((double)sj->requests));
	netloop_ok(nl, j, search);
}

/* The fts backend: the answer is here. */
static void
search_index(struct netloop *nl, struct net_job *j)
{
	const struct search_config *cfg = netloop_tool(nl);
	struct search_job *sj = j->data;
	struct buf err = BUF_INIT;
	double start = clock_ms();
	jv results = fts_search(cfg->fts, sj->query,
		cfg->post.max_results >= 0 ? cfg->post.max_results * 2 + 10 : -1, &err);

	if (!jv_is_valid(results)) {
		jv_free(results);
		netloop_fail(nl, j, ERR_INDEX_ERROR, buf_cstr(&err), 0);
		buf_free(&err);
		return;
	}
	buf_free(&err);
	results = results_post(results, &cfg->post);
	sj->latency_ms = clock_ms() - start;
	finish(nl, j, make_search(cfg, sj->query, results, jv_null()));
}

/* The cache key: the backend, its request, and everything that shapes .search after it. */
static void
cache_key(const struct search_config *cfg, struct net_job *j)
{
	struct search_job *sj = j->data;
	struct buf opts = BUF_INIT;
	struct sha256 h;

	buf_puts(&opts, cfg->backend->name);
	buf_puts(&opts, cfg->extract ? "\nextract " : "\nno-extract ");
	buf_add_uint(&opts, (unsigned long long)cfg->post.max_results);
	buf_putc(&opts, ' ');
	buf_add_uint(&opts, cfg->post.max_chars);
	buf_putc(&opts, ' ');
	buf_add_uint(&opts, cfg->post.max_total_chars);
	if (cfg->post.has_min_score) {
		char s[32];

		snprintf(s, sizeof(s), " %.17g", cfg->post.min_score);
		buf_puts(&opts, s);
	}
	buf_putc(&opts, '\n');
	sha256_init(&h);
	sha256_update(&h, opts.data, opts.len);
	sha256_update(&h, sj->url.data, sj->url.len);
	sha256_update(&h, "\n", 1);
	sha256_update(&h, sj->body.data, sj->body.len);
	sha256_final(&h, j->key);
	j->has_key = true;
	buf_free(&opts);
}

static void
prepare(struct netloop *nl, struct net_job *j)
{
	const struct search_config *cfg = netloop_tool(nl);
	struct search_job *sj = xcalloc(1, sizeof(*sj));
	jv cached;

	sj->search = jv_invalid();
	j->data = sj;
	if ((sj->query = eval_query(nl, j)) == NULL)
		return;
	if (cfg->backend->kind == BACKEND_FTS) {
		search_index(nl, j);
		return;
	}
	sj->post = backend_request(cfg->backend, cfg->base_url, &cfg->params, sj->query, &sj->url,
		&sj->body);
	cache_key(cfg, j);
	cached = netloop_cache_get(nl, j);
	if (jv_get_kind(cached) != JV_KIND_OBJECT) {
		jv_free(cached);
		return; /* absent or unreadable: ask */
	}
	cached = jv_object_set(cached, jv_string("latency_ms"), jv_number(0));
	cached = jv_object_set(cached, jv_string("cached"), jv_true());
	cached = jv_object_set(cached, jv_string("requests"), jv_number(0));
	if (cfg->extract)
		cached = jv_object_set(cached, jv_string("extracted"), jv_number(0));
	netloop_count_cached(nl);
	netloop_ok(nl, j, cached);
}

/* The URLs of results (borrowed) to fetch: every result with a string url. */
static jv
urls_of(jv results)
{
	jv urls = jv_array();

	jv_array_foreach(results, i, r)
	{
		jv url = jv_object_get(r, jv_string("url"));

		(void)i;
		if (jv_get_kind(url) == JV_KIND_STRING && jv_array_length(jv_copy(urls)) < 20)
			urls = jv_array_append(urls, url);
		else
			jv_free(url);
	}
	return urls;
}

static long
build(struct netloop *nl, struct net_job *j, struct http_transfer *t)
{
	const struct search_config *cfg = netloop_tool(nl);
	struct search_job *sj = j->data;

	t->timeout_ms = cfg->timeout_ms;
	if (sj->extracting) {
		struct buf url = BUF_INIT;
		jv results = jv_object_get(jv_copy(sj->search), jv_string("results"));
		jv urls = urls_of(results);

		extract_request(cfg->extract_url, urls, cfg->params.depth, &url, &t->body);
		jv_free(urls);
		jv_free(results);
		t->url = xstrdup(buf_cstr(&url));
		buf_free(&url);
		t->post = true;
		backend_auth(backend_find("tavily"), cfg->extract_key, t);
		return 0;
	}
	t->url = xstrdup(buf_cstr(&sj->url));
	t->post = sj->post;
	if (sj->post)
		buf_add(&t->body, sj->body.data, sj->body.len);
	backend_auth(cfg->backend, cfg->key, t);
	return 0;
}

/* A 200 that is not an answer: retried as a server fault. */
static void
bad_answer(struct netloop *nl, struct net_job *j, const char *why)
{
	struct failure f = { 0 };

	failure_set(&f, STEP_RETRY, ERR_BAD_RESPONSE);
	f.server = true;
	buf_puts(&f.message, "HTTP 200: ");
	buf_puts(&f.message, why);
	netloop_attempt_failed(nl, j, &f);
	buf_free(&f.message);
}

/* Put the pages /extract fetched into the results; the others keep their snippet and say why. */
static jv
merge_pages(jv results, jv pages, jv failed, long *extracted)
{
	jv out = jv_array();

	jv_array_foreach(results, i, r)
	{
		jv url = jv_object_get(jv_copy(r), jv_string("url"));
		jv page = jv_get_kind(url) == JV_KIND_STRING
			? jv_object_get(jv_copy(pages), jv_copy(url))
			: jv_invalid();

		(void)i;
		if (jv_get_kind(page) == JV_KIND_STRING) {
			r = jv_object_set(r, jv_string("raw_content"), page);
			(*extracted)++;
		} else {
			jv why = jv_get_kind(url) == JV_KIND_STRING
				? jv_object_get(jv_copy(failed), jv_copy(url))
				: jv_invalid();

			jv_free(page);
			r = jv_object_set(r, jv_string("extract_error"),
				jv_get_kind(why) == JV_KIND_STRING
					? why
					: (jv_free(why), jv_string("not in the extract answer")));
		}
		jv_free(url);
		out = jv_array_append(out, r);
	}
	jv_free(results);
	jv_free(pages);
	jv_free(failed);
	return out;
}

/* The /extract answer: merge it, cut the set, finish. */
static void
answer_extract(struct netloop *nl, struct net_job *j)
{
	const struct search_config *cfg = netloop_tool(nl);
	struct search_job *sj = j->data;
	const struct http_transfer *t = j->t;
	struct buf err = BUF_INIT;
	jv got = extract_parse(t->response.data ? t->response.data : "", t->response.len, &err);
	jv search, results, credits;
	long extracted = 0;

	if (!jv_is_valid(got)) {
		jv_free(got);
		bad_answer(nl, j, buf_cstr(&err));
		buf_free(&err);
		return;
	}
	buf_free(&err);
	sj->requests++;
	sj->latency_ms += t->latency_ms;
	search = sj->search;
	sj->search = jv_invalid();
	results = merge_pages(jv_object_get(jv_copy(search), jv_string("results")),
		jv_object_get(jv_copy(got), jv_string("pages")),
		jv_object_get(jv_copy(got), jv_string("failed")), &extracted);
	results = results_post(results, &cfg->post);
	search = jv_object_set(search, jv_string("results"), results);
	search = jv_object_set(search, jv_string("extracted"), jv_number((double)extracted));
	credits = jv_object_get(jv_copy(search), jv_string("credits"));
	if (jv_get_kind(credits) == JV_KIND_NUMBER) {
		jv more = jv_object_get(jv_copy(got), jv_string("credits"));

		search = jv_object_set(search, jv_string("credits"),
			jv_number(jv_number_value(credits) + jv_number_value(more)));
		jv_free(more);
	}
	jv_free(credits);
	jv_free(got);
	finish(nl, j, search);
}

static long
answer(struct netloop *nl, struct net_job *j)
{
	const struct search_config *cfg = netloop_tool(nl);
	struct search_job *sj = j->data;
	const struct http_transfer *t = j->t;
	struct post_options shape = cfg->post;
	struct buf err = BUF_INIT;
	jv got, search, results, credits;

	if (sj->extracting) {
		answer_extract(nl, j);
		return 1;
	}
	got = backend_parse(cfg->backend, t->response.data ? t->response.data : "", t->response.len,
		&err);
	if (!jv_is_valid(got)) {
		jv_free(got);
		bad_answer(nl, j, buf_cstr(&err));
		buf_free(&err);
		return 1;
	}
	buf_free(&err);
	sj->requests++;
	sj->latency_ms += t->latency_ms;
	if (cfg->extract) /* cut after the pages are in */
		shape.max_chars = shape.max_total_chars = 0;
	results = results_post(jv_object_get(jv_copy(got), jv_string("results")), &shape);
	search = make_search(cfg, sj->query, results,
		jv_object_get(jv_copy(got), jv_string("answer")));
	credits = jv_object_get(got, jv_string("credits"));
	if (jv_get_kind(credits) == JV_KIND_NUMBER)
		search = jv_object_set(search, jv_string("credits"), credits);
	else
		jv_free(credits);
	if (!cfg->extract) {
		finish(nl, j, search);
		return 1;
	}
	results = jv_object_get(jv_copy(search), jv_string("results"));
	if (jv_array_length(results) == 0) {
		search = jv_object_set(search, jv_string("extracted"), jv_number(0));
		finish(nl, j, search);
		return 1;
	}
	sj->search = search;
	sj->extracting = true;
	netloop_send(nl, j);
	return 1;
}

static void
classify(struct netloop *nl, const struct net_job *j, struct failure *f)
{
	const struct search_config *cfg = netloop_tool(nl);
	const struct search_job *sj = j->data;
	char code[64] = "";
	struct buf message = BUF_INIT;

	if (failure_transport(j->t, f))
		return;
	failure_server_text(j->t, code, sizeof(code), &message);
	if (cfg->backend->kind == BACKEND_SEARXNG && !sj->extracting && j->t->status == 403)
		buf_puts(&message,
			" (SearxNG refuses format=json unless settings.yml lists json in "
			"search.formats)");
	failure_by_status(j->t->status, code, buf_cstr(&message), f);
	failure_finish(j->t, buf_cstr(&message), f);
	buf_free(&message);
}

/* The key check: Tavily's free /usage; the others have no free call. */
static bool
check(struct netloop *nl, int target, struct http_transfer *t)
{
	const struct search_config *cfg = netloop_tool(nl);
	struct buf url = BUF_INIT;

	(void)target;
	if (cfg->key == NULL || !backend_check_url(cfg->backend, cfg->base_url, &url)) {
		buf_free(&url);
		return false;
	}
	t->url = xstrdup(buf_cstr(&url));
	buf_free(&url);
	t->timeout_ms = cfg->timeout_ms < 30000 ? cfg->timeout_ms : 30000;
	backend_auth(cfg->backend, cfg->key, t);
	return true;
}

int
engine_run(struct search_config *cfg)
{
	static const struct netloop_ops ops = {
		.prepare = prepare,
		.build = build,
		.answer = answer,
		.classify = classify,
		.check = check,
		.free_data = free_data,
	};

	cfg->loop.cache_table = CACHE_TABLE;
	cfg->loop.ntargets = 1;
	cfg->loop.targets[0].name = cfg->backend->name;
	cfg->loop.targets[0].key = cfg->key;
	cfg->loop.targets[0].key_env = cfg->key_from_file ? NULL : cfg->backend->key_env;
	cfg->loop.other_secret = cfg->extract_key;
	cfg->loop.no_network = cfg->backend->kind == BACKEND_FTS;
	return netloop_run(&cfg->loop, &ops, cfg);
}
