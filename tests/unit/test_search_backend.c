/* SPDX-License-Identifier: BSD-2-Clause */
/* jl-search's backends: the requests they build, and how their answers are normalised. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "buf.h"
#include "tap.h"

/* The request of backend name for query with p: "URL" or "URL BODY". */
static const char *
request(const char *name, const char *base, const struct search_params *p, const char *query)
{
	static struct buf out;
	struct buf url = BUF_INIT, body = BUF_INIT;
	bool post = backend_request(backend_find(name), base, p, query, &url, &body);

	buf_reset(&out);
	buf_puts(&out, buf_cstr(&url));
	if (post) {
		buf_putc(&out, ' ');
		buf_puts(&out, buf_cstr(&body));
	}
	buf_free(&url);
	buf_free(&body);
	return buf_cstr(&out);
}

/* backend_parse of body by name, as compact JSON text ("invalid: WHY" when it fails). */
static const char *
parse(const char *name, const char *body)
{
	static struct buf out;
	struct buf err = BUF_INIT;
	jv got = backend_parse(backend_find(name), body, strlen(body), &err), text;

	buf_reset(&out);
	if (!jv_is_valid(got)) {
		jv_free(got);
		buf_puts(&out, "invalid: ");
		buf_puts(&out, buf_cstr(&err));
	} else {
		text = jv_dump_string(got, JV_PRINT_SORTED);
		buf_puts(&out, jv_string_value(text));
		jv_free(text);
	}
	buf_free(&err);
	return buf_cstr(&out);
}

static void
test_requests(void)
{
	static const char *const inc[] = { "a.example", "b.example" };
	struct search_params p = { .max_results = 3 };

	is_str(request("tavily", NULL, &p, "acme \"gpu\""),
		"https://api.tavily.com/search {\"query\":\"acme \\\"gpu\\\"\",\"max_results\":3,"
		"\"include_answer\":false,\"include_raw_content\":false,\"include_usage\":true}",
		"tavily: POST /search, the query JSON-escaped, usage asked");
	p.depth = "advanced";
	p.topic = "news";
	p.time_range = "week";
	p.include_domains = inc;
	p.ninclude = 2;
	p.answer = p.raw = true;
	is_str(request("tavily", "http://127.0.0.1:9/tavily/", &p, "q"),
		"http://127.0.0.1:9/tavily/search {\"query\":\"q\",\"max_results\":3,"
		"\"search_depth\":\"advanced\",\"topic\":\"news\",\"time_range\":\"week\","
		"\"include_domains\":[\"a.example\",\"b.example\"],\"include_answer\":true,"
		"\"include_raw_content\":true,\"include_usage\":true}",
		"tavily: every option, under a base URL with a trailing slash");
	is_str(request("brave", NULL, &p, "caf\xc3\xa9 & co/x"),
		"https://api.search.brave.com/res/v1/web/search?q=caf%C3%A9%20%26%20co%2Fx&count=3"
		"&text_decorations=false&freshness=pw",
		"brave: GET, the query percent-encoded, the time range as freshness");
	is_str(request("serper", NULL, &p, "q"),
		"https://google.serper.dev/search {\"q\":\"q\",\"num\":3,\"tbs\":\"qdr:w\"}",
		"serper: POST, num, the time range as tbs");
	is_str(request("searxng", "http://127.0.0.1:8888", &p, "a b"),
		"http://127.0.0.1:8888/search?q=a%20b&format=json&time_range=week",
		"searxng: GET with format=json");
	is_str(request("exa", NULL, &p, "q"),
		"https://api.exa.ai/search {\"query\":\"q\",\"numResults\":3,"
		"\"includeDomains\":[\"a.example\",\"b.example\"],"
		"\"contents\":{\"highlights\":true,\"text\":true}}",
		"exa: camelCase, the page text with --raw");
}

static void
test_parse(void)
{
	is_str(parse("tavily",
		       "{\"query\":\"q\",\"answer\":\"A.\",\"results\":[{\"title\":\"T\",\"url\":"
		       "\"https://x.example/"
		       "\",\"content\":\"c\",\"score\":0.5,\"raw_content\":null}],"
		       "\"usage\":{\"credits\":2}}"),
		"{\"answer\":\"A.\",\"credits\":2,\"results\":[{\"content\":\"c\",\"published_"
		"date\":"
		"null,\"rank\":1,\"raw_content\":null,\"score\":0.5,\"title\":\"T\",\"url\":"
		"\"https://x.example/\"}]}",
		"tavily: answer, credits, the result normalised");
	is_str(parse("tavily", "{\"query\":\"q\"}"), "{\"answer\":null,\"results\":[]}",
		"tavily: no results field means none");
	is_str(parse("tavily", "{\"results\":{}}"),
		"invalid: the answer's results are not an array",
		"results that are not an array: a bad answer");
	is_str(parse("brave", "[1]"), "invalid: the answer is not a JSON object",
		"an answer that is not an object");
	is_str(parse("brave",
		       "{\"web\":{\"results\":[{\"title\":\"T\",\"url\":\"u\",\"description\":"
		       "\"a <strong>GPU</strong> a<b\",\"age\":\"May 1\"}]}}"),
		"{\"answer\":null,\"results\":[{\"content\":\"a GPU a<b\",\"published_date\":"
		"\"May 1\",\"rank\":1,\"raw_content\":null,\"score\":null,\"title\":\"T\",\"url\":"
		"\"u\"}]}",
		"brave: tags stripped (a lone < kept), age as the date, no score");
	is_str(parse("brave", "{\"type\":\"search\"}"), "{\"answer\":null,\"results\":[]}",
		"brave: no web section means no results");
	is_str(parse("serper",
		       "{\"organic\":[{\"title\":\"T\",\"link\":\"L\",\"snippet\":\"S\","
		       "\"position\":1,"
		       "\"score\":9}],\"credits\":1}"),
		"{\"answer\":null,\"credits\":1,\"results\":[{\"content\":\"S\",\"published_date\":"
		"null,\"rank\":1,\"raw_content\":null,\"score\":null,\"title\":\"T\",\"url\":\"L\"}"
		"]}",
		"serper: link is the url, snippet the content, never a score");
	is_str(parse("searxng",
		       "{\"results\":[{\"url\":\"u\",\"title\":\"t\",\"content\":\"c\",\"score\":3."
		       "0}]}"),
		"{\"answer\":null,\"results\":[{\"content\":\"c\",\"published_date\":null,\"rank\":"
		"1,"
		"\"raw_content\":null,\"score\":null,\"title\":\"t\",\"url\":\"u\"}]}",
		"searxng: its own weights are not 0..1 scores");
	is_str(parse("searxng",
		       "{\"results\":[],\"unresponsive_engines\":[[\"google\",\"timeout\"]]}"),
		"invalid: no results: every SearxNG engine failed (unresponsive_engines)",
		"searxng: no results because every engine failed is a bad answer (retried)");
	is_str(parse("searxng", "{\"results\":[],\"unresponsive_engines\":[]}"),
		"{\"answer\":null,\"results\":[]}", "searxng: no results, engines fine: none");
	is_str(parse("exa",
		       "{\"results\":[{\"url\":\"u\",\"title\":\"t\",\"score\":0.7,\"highlights\":["
		       "\"h1\","
		       "\"h2\"],\"text\":\"full\",\"publishedDate\":\"2026-01-01\"}]}"),
		"{\"answer\":null,\"results\":[{\"content\":\"h1 ... h2\",\"published_date\":"
		"\"2026-01-01\",\"rank\":1,\"raw_content\":\"full\",\"score\":0.7,\"title\":\"t\","
		"\"url\":\"u\"}]}",
		"exa: highlights joined, text as raw_content, its score");
	is_str(parse("exa", "{\"results\":[{\"url\":\"u\",\"summary\":\"s\"}]}"),
		"{\"answer\":null,\"results\":[{\"content\":\"s\",\"published_date\":null,\"rank\":"
		"1,"
		"\"raw_content\":null,\"score\":null,\"title\":null,\"url\":\"u\"}]}",
		"exa: the summary when there are no highlights");
	is_str(parse("tavily", "{\"results\":[1,\"x\",{\"url\":\"u\"}]}"),
		"{\"answer\":null,\"results\":[{\"content\":null,\"published_date\":null,\"rank\":"
		"3,"
		"\"raw_content\":null,\"score\":null,\"title\":null,\"url\":\"u\"}]}",
		"items that are not objects are skipped; rank is the place in the answer");
}

static void
test_extract(void)
{
	struct buf url = BUF_INIT, body = BUF_INIT, err = BUF_INIT;
	jv urls = jv_array_append(jv_array_append(jv_array(), jv_string("https://a/")),
		jv_string("https://b/"));
	const char *answer = "{\"results\":[{\"url\":\"https://a/\",\"raw_content\":\"page\"}],"
			     "\"failed_results\":[{\"url\":\"https://b/\",\"error\":\"timeout\"}],"
			     "\"usage\":{\"credits\":1}}";
	jv got, text;

	extract_request("http://127.0.0.1:9/tavily", urls, NULL, &url, &body);
	is_str(buf_cstr(&url), "http://127.0.0.1:9/tavily/extract", "extract: the URL");
	is_str(buf_cstr(&body),
		"{\"urls\":[\"https://a/\",\"https://b/\"],\"extract_depth\":\"basic\","
		"\"format\":\"text\",\"include_usage\":true}",
		"extract: the body");
	got = extract_parse(answer, strlen(answer), &err);
	text = jv_dump_string(got, JV_PRINT_SORTED);
	is_str(jv_string_value(text),
		"{\"credits\":1,\"failed\":{\"https://b/\":\"timeout\"},\"pages\":{\"https://a/\":"
		"\"page\"}}",
		"extract: pages and failures by URL, credits");
	jv_free(text);
	got = extract_parse("nope", 4, &err);
	ok(!jv_is_valid(got), "extract: a body that is not JSON is a bad answer");
	jv_free(got);
	jv_free(urls);
	buf_free(&url);
	buf_free(&body);
	buf_free(&err);
}

int
main(void)
{
	test_requests();
	test_parse();
	test_extract();
	ok(backend_find("bing") == NULL, "an unknown backend");
	ok(backend_find("fts") != NULL && backend_find("fts")->key_env == NULL, "fts needs no key");
	return done_testing();
}
