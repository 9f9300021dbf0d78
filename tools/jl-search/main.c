/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-search: a web search per record (Tavily, Brave, Serper, SearxNG, Exa)
 * or a search of a local full-text index, added as .search; and the
 * building of that index. This file is the command: options, keys, checks,
 * and the index builder; engine.c runs the searches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "exitcodes.h"
#include "recloop.h"
#include "record.h"
#include "netopt.h"
#include "opt.h"
#include "out.h"
#include "progress.h"
#include "util.h"

#define MAX_DOMAINS 300
#define INDEX_BATCH 10000

enum {
	OPT_EXTRACT = 256,
	OPT_EXTRACT_URL,
	OPT_DEPTH,
	OPT_TOPIC,
	OPT_TIME_RANGE,
	OPT_INCLUDE_DOMAIN,
	OPT_EXCLUDE_DOMAIN,
	OPT_ANSWER,
	OPT_RAW,
	OPT_MIN_SCORE,
	OPT_MAX_RESULTS,
	OPT_MAX_CHARS,
	OPT_MAX_TOTAL_CHARS,
	OPT_INDEX,
	OPT_TITLE_FIELD,
	OPT_URL_FIELD,
	OPT_CONTENT_FIELD,
	OPT_INTO,
	OPT_TIMEOUT,
	OPT_QUIET,
};

static const struct opt_spec options[] = {
	{ 'q', "query", 'q', "EXPR", "jq expression giving the query (default .query)" },
	{ 'b', "backend", 'b', "NAME",
		"tavily, brave, serper, searxng, exa or fts (default tavily when "
		"TAVILY_API_KEY is set, else fts)" },
	{ OPT_DEPTH, "depth", 0, "DEPTH",
		"Tavily search_depth: basic, advanced, fast, ultra-fast" },
	{ OPT_TOPIC, "topic", 0, "TOPIC", "Tavily topic: general, news, finance" },
	{ OPT_TIME_RANGE, "time-range", 0, "RANGE", "day, week, month or year" },
	{ OPT_INCLUDE_DOMAIN, "include-domain", 0, "DOMAIN",
		"only results from DOMAIN (repeatable)" },
	{ OPT_EXCLUDE_DOMAIN, "exclude-domain", 0, "DOMAIN",
		"no results from DOMAIN (repeatable)" },
	{ OPT_ANSWER, "answer", 0, NULL, "ask for the backend's short answer (Tavily)" },
	{ OPT_RAW, "raw", 0, NULL, "ask for each page's text as raw_content" },
	{ OPT_EXTRACT, "extract", 0, NULL,
		"fetch the kept results' page text through Tavily /extract" },
	{ OPT_EXTRACT_URL, "extract-url", 0, "URL", "Tavily's endpoint for --extract" },
	{ OPT_MIN_SCORE, "min-score", 0, "X",
		"drop results scored below X (0..1; scored backends)" },
	{ OPT_MAX_RESULTS, "max-results", 0, "N", "results to keep (default 5)" },
	{ OPT_MAX_CHARS, "max-chars", 0, "N",
		"cut each result's content and raw_content to N bytes" },
	{ OPT_MAX_TOTAL_CHARS, "max-total-chars", 0, "N", "cut the whole result set to N bytes" },
	{ OPT_INDEX, "index", 0, "FILE",
		"the local index: build it from the input, or search it with -b fts" },
	{ OPT_TITLE_FIELD, "title-field", 0, "EXPR", "indexing: the title (default .title)" },
	{ OPT_URL_FIELD, "url-field", 0, "EXPR", "indexing: the URL (default .url)" },
	{ OPT_CONTENT_FIELD, "content-field", 0, "EXPR", "indexing: the text (default .content)" },
	{ OPT_INTO, "into", 0, "NAME", "the field to add (default search)" },
	{ OPT_TIMEOUT, "timeout", 0, "SECS", "per attempt (default 60)" },
	{ OPT_QUIET, "quiet", 0, NULL, "no warnings or summary on stderr" },
	NETLOOP_OPTIONS,
	{ 0, NULL, 0, NULL, NULL },
};

static const struct opt_tool tool = {
	.synopsis = "[options] [-b BACKEND] [-q EXPR]   |   jl-search --index FILE",
	.summary = "Search the web or a local index for each record; add the results as .search.",
	.options = options,
	.version = netopt_print_versions,
};

/* What parse_options gathers before the checks turn it into the engine's config. */
struct search_args {
	const char *backend, *query, *index;
	const char *title_field, *url_field, *content_field;
	const char *include[MAX_DOMAINS], *exclude[MAX_DOMAINS];
	unsigned given; /* enum search_feature: the options given */
	struct netopt net;
};

static const char *
one_of(const char *option, const char *arg, const char *const *allowed)
{
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(arg, allowed[i]) == 0)
			return arg;
	opt_usage_error(&tool, "invalid value '%s' for --%s", arg, option);
}

static void
add_domain(const char **list, size_t *n, const char *option, const char *arg)
{
	if (*n == MAX_DOMAINS)
		opt_usage_error(&tool, "at most %d --%s", MAX_DOMAINS, option);
	if (*arg == '\0')
		opt_usage_error(&tool, "--%s needs a domain", option);
	list[(*n)++] = arg;
}

static void
parse_options(struct search_config *cfg, struct search_args *a, int argc, char **argv)
{
	static const char *const depths[] = { "basic", "advanced", "fast", "ultra-fast", NULL };
	static const char *const topics[] = { "general", "news", "finance", NULL };
	static const char *const ranges[] = { "day", "week", "month", "year", "d", "w", "m", "y",
		NULL };
	struct search_params *p = &cfg->params;
	struct opt_state st;
	const char *arg;
	int id;

	opt_init(&st, &tool, argc, argv);
	while ((id = opt_next(&st, &arg)) != OPT_DONE) {
		if (netopt_parse(&tool, &cfg->loop, &a->net, id, arg))
			continue;
		switch (id) {
		case 'q':
			a->query = arg;
			break;
		case 'b':
			a->backend = arg;
			break;
		case OPT_DEPTH:
			p->depth = one_of("depth", arg, depths);
			a->given |= FEATURE_DEPTH;
			break;
		case OPT_TOPIC:
			p->topic = one_of("topic", arg, topics);
			a->given |= FEATURE_TOPIC;
			break;
		case OPT_TIME_RANGE:
			p->time_range = one_of("time-range", arg, ranges);
			a->given |= FEATURE_TIME_RANGE;
			break;
		case OPT_INCLUDE_DOMAIN:
			add_domain(a->include, &p->ninclude, "include-domain", arg);
			a->given |= FEATURE_INCLUDE_DOMAIN;
			break;
		case OPT_EXCLUDE_DOMAIN:
			add_domain(a->exclude, &p->nexclude, "exclude-domain", arg);
			a->given |= FEATURE_EXCLUDE_DOMAIN;
			break;
		case OPT_ANSWER:
			p->answer = true;
			a->given |= FEATURE_ANSWER;
			break;
		case OPT_RAW:
			p->raw = true;
			a->given |= FEATURE_RAW;
			break;
		case OPT_EXTRACT:
			cfg->extract = true;
			break;
		case OPT_EXTRACT_URL:
			cfg->extract_url = arg;
			break;
		case OPT_MIN_SCORE:
			cfg->post.has_min_score = true;
			cfg->post.min_score = netopt_number(&tool, "min-score", arg, 0, 1);
			break;
		case OPT_MAX_RESULTS:
			cfg->post.max_results = (long)opt_uint("max-results", arg, 1, 1000);
			break;
		case OPT_MAX_CHARS:
			cfg->post.max_chars = (size_t)opt_size("max-chars", arg, 1, 1ULL << 40);
			break;
		case OPT_MAX_TOTAL_CHARS:
			cfg->post.max_total_chars =
				(size_t)opt_size("max-total-chars", arg, 1, 1ULL << 40);
			break;
		case OPT_INDEX:
			a->index = arg;
			break;
		case OPT_TITLE_FIELD:
			a->title_field = arg;
			break;
		case OPT_URL_FIELD:
			a->url_field = arg;
			break;
		case OPT_CONTENT_FIELD:
			a->content_field = arg;
			break;
		case OPT_INTO:
			if (*arg == '\0')
				opt_usage_error(&tool, "--into needs a name");
			cfg->loop.into = arg;
			break;
		case OPT_TIMEOUT:
			cfg->timeout_ms =
				(long)(netopt_number(&tool, "timeout", arg, 0.001, 86400) * 1000);
			break;
		case OPT_QUIET:
			cfg->loop.quiet = true;
			break;
		}
	}
	if (st.operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[st.operand]);
	opt_free(&st);
	p->include_domains = a->include;
	p->exclude_domains = a->exclude;
}

static struct jqx *
compile(const char *expr, const char *option)
{
	struct buf err = BUF_INIT;
	struct jqx *q = jqx_compile(expr, &err);

	if (q == NULL)
		opt_usage_error(&tool, "bad --%s expression '%s': %s", option, expr,
			buf_cstr(&err));
	buf_free(&err);
	return q;
}

/* Say which of the options given the backend does not take. */
static void
warn_ignored(const struct search_config *cfg, unsigned given)
{
	struct buf list = BUF_INIT;
	unsigned ignored = given & ~cfg->backend->features;

	if (ignored == 0 || cfg->loop.quiet)
		return;
	for (unsigned f = 1; f < FEATURE_ALL; f <<= 1) {
		if (ignored & f) {
			if (list.len > 0)
				buf_puts(&list, ", ");
			buf_puts(&list, feature_option((enum search_feature)f));
		}
	}
	warn("the %s backend ignores %s", cfg->backend->name, buf_cstr(&list));
	buf_free(&list);
}

/* Cross-option checks, keys, the index: everything that can fail before any input is read. */
static void
validate_config(struct search_config *cfg, struct search_args *a)
{
	const char *name = a->backend;
	int code = 0;

	if (name == NULL) {
		const char *tavily = getenv("TAVILY_API_KEY");

		name = tavily != NULL && *tavily != '\0' ? "tavily" : "fts";
	}
	if ((cfg->backend = backend_find(name)) == NULL)
		opt_usage_error(&tool, "unknown backend '%s' (known: %s)", name, backend_names());
	cfg->query = compile(a->query != NULL ? a->query : ".query", "query");
	cfg->base_url = a->net.base_url;
	netopt_finish(&cfg->loop, &a->net, false);
	if (cfg->extract_url != NULL) {
		struct netopt extract = { .base_url = cfg->extract_url };

		netopt_finish(&cfg->loop, &extract, false);
	} else if (cfg->backend->kind == BACKEND_TAVILY) {
		cfg->extract_url = cfg->base_url;
	}
	cfg->params.max_results = cfg->post.max_results < cfg->backend->max_results
		? cfg->post.max_results
		: cfg->backend->max_results;
	warn_ignored(cfg, a->given);
	if (cfg->backend->kind == BACKEND_FTS) {
		if (a->index == NULL)
			die(EXIT_CONFIG,
				"the fts backend searches a local index: give --index FILE "
				"(or set TAVILY_API_KEY, or choose a backend with -b)");
		if (cfg->extract)
			die(EXIT_CONFIG, "--extract fetches web pages: not with the fts backend");
		if ((cfg->fts = fts_open(a->index, false, &code)) == NULL)
			exit(code);
		return;
	}
	if (a->index != NULL)
		opt_usage_error(&tool,
			"--index is for building an index, or searching it with -b fts");
	if (cfg->backend->kind == BACKEND_SEARXNG && cfg->base_url == NULL)
		die(EXIT_CONFIG, "the searxng backend needs --base-url of the instance");
	cfg->key_from_file = a->net.key_file != NULL;
	if (cfg->backend->key_env != NULL) {
		cfg->key = netopt_find_key(a->net.key_file, cfg->backend->key_env);
		if (cfg->key == NULL)
			die(EXIT_CONFIG,
				"%s is not set: export the key of %s, or give --api-key-file FILE",
				cfg->backend->key_env, cfg->backend->name);
	}
	if (cfg->extract) {
		if (cfg->backend->kind == BACKEND_TAVILY) {
			cfg->extract_key = cfg->key;
		} else if ((cfg->extract_key = netopt_find_key(NULL, "TAVILY_API_KEY")) == NULL) {
			die(EXIT_CONFIG, "--extract uses Tavily: TAVILY_API_KEY is not set");
		}
	}
}

/* --- building the index ---------------------------------------------------- */

struct indexer {
	struct fts *fts;
	struct jqx *title, *url, *content;
	unsigned long long added, updated;
};

/* The string expr gives for rec (borrowed), or NULL with why set. Appends it to out. */
static const char *
field(struct jqx *expr, jv rec, struct buf *out, const char **why)
{
	jv v = jqx_first(expr, jv_copy(rec));

	buf_reset(out);
	if (jv_get_kind(v) == JV_KIND_STRING)
		buf_add(out, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
	else
		*why = jv_get_kind(v) == JV_KIND_NULL || jv_get_kind(v) == JV_KIND_INVALID
			? "is missing"
			: "is not a string";
	jv_free(v);
	return *why == NULL ? buf_cstr(out) : NULL;
}

/* Index one record; a document that cannot be indexed is written out as _error. */
static enum recloop_verdict
index_record(void *arg, struct recloop_record *r, struct buf *out)
{
	struct indexer *ix = arg;
	struct buf url = BUF_INIT, title = BUF_INIT, content = BUF_INIT, msg = BUF_INIT;
	const char *why = NULL, *which = "url", *u, *t = NULL, *c = NULL;
	struct record_error e = { NULL, NULL, NULL, r->lineno, 0, -1 };
	jv rec = recloop_value(r);
	int rc = 0;

	if ((u = field(ix->url, rec, &url, &why)) != NULL && *u == '\0')
		why = "is empty";
	if (why == NULL && (t = field(ix->title, rec, &title, &why)) == NULL) {
		which = "title";
		why = NULL; /* a document may have no title */
		t = "";
	}
	if (why == NULL && (c = field(ix->content, rec, &content, &why)) == NULL)
		which = "content";
	if (why != NULL) {
		buf_puts(&msg, "the document's ");
		buf_puts(&msg, which);
		buf_putc(&msg, ' ');
		buf_puts(&msg, why);
		e.code = ERR_BAD_DOCUMENT;
		e.message = buf_cstr(&msg);
	} else if ((rc = fts_add(ix->fts, u, t, c)) < 0) {
		e.code = ERR_INDEX_ERROR;
		e.message = "the index refused the document";
	} else if (rc == 1) {
		ix->added++;
	} else {
		ix->updated++;
	}
	if (e.code != NULL)
		record_fail_text(out, r->text, r->len, r->error.n > 0, &e);
	buf_free(&url);
	buf_free(&title);
	buf_free(&content);
	buf_free(&msg);
	return e.code != NULL ? RECLOOP_FAILED : RECLOOP_DROPPED;
}

/* Commit the documents indexed so far and go on in a new transaction. */
static int
commit_index(void *arg)
{
	struct indexer *ix = arg;

	return fts_commit(ix->fts) != 0 || fts_begin(ix->fts) != 0 ? EXIT_IOERR : 0;
}

static int
build_index(struct search_config *cfg, struct search_args *a)
{
	struct indexer ix = { 0 };
	struct recloop_counts n;
	int code = 0, rc;

	if ((ix.fts = fts_open(a->index, true, &code)) == NULL)
		return code;
	ix.title = compile(a->title_field ? a->title_field : ".title", "title-field");
	ix.url = compile(a->url_field ? a->url_field : ".url", "url-field");
	ix.content = compile(a->content_field ? a->content_field : ".content", "content-field");
	if (fts_begin(ix.fts) != 0)
		return EXIT_IOERR;
	rc = recloop_run(&(struct recloop_config){ .strict = cfg->loop.strict,
				 .quiet = cfg->loop.quiet,
				 .progress = cfg->loop.progress,
				 .batch = INDEX_BATCH,
				 .batch_ms = 1000 },
		&(struct recloop_ops){ .record = index_record, .commit = commit_index }, &ix, &n);
	if (fts_commit(ix.fts) != 0 && rc == EXIT_OK)
		rc = EXIT_IOERR;
	if (!cfg->loop.quiet)
		warn("indexed %llu documents: %llu new, %llu updated or unchanged, %llu failed; "
		     "the index holds %lld",
			n.records, ix.added, ix.updated, n.failed, fts_count(ix.fts));
	jqx_free(ix.title);
	jqx_free(ix.url);
	jqx_free(ix.content);
	if (fts_close(ix.fts) != 0 && rc == EXIT_OK)
		rc = EXIT_IOERR;
	return rc;
}

static void
free_config(struct search_config *cfg)
{
	if (cfg->extract_key != cfg->key)
		netopt_free_key(cfg->extract_key);
	netopt_free_key(cfg->key);
	jqx_free(cfg->query);
	if (cfg->fts != NULL && fts_close(cfg->fts) != 0)
		warn("cannot close the index");
}

int
main(int argc, char *argv[])
{
	struct search_config cfg = {
		.post = { .max_results = 5 },
		.timeout_ms = 60000,
	};
	struct search_args args = { 0 };
	int rc;

	tool_init(argv[0]);
	netopt_setup_process();
	netopt_defaults(&cfg.loop, "search");
	parse_options(&cfg, &args, argc, argv);
	out_init();
	if (args.index != NULL && args.backend == NULL) {
		rc = build_index(&cfg, &args);
		return out_close(rc);
	}
	validate_config(&cfg, &args);
	out_defer_epipe();
	rc = engine_run(&cfg);
	free_config(&cfg);
	return out_close(rc);
}
