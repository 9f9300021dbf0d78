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

static const struct opt_tool tool = {
	.synopsis = "[options] [-b BACKEND] [-Q EXPR]   |   jl-search --index FILE",
	.summary = "Search the web or a local index for each record; add the results as .search.",
	.version = netopt_print_versions,
};

/* --include-domain and --exclude-domain, each repeatable. */
struct domains {
	const char *names[MAX_DOMAINS];
	size_t n;
};

/* What parse_options gathers before the checks turn it into the engine's config. */
struct search_args {
	const char *backend, *query, *index;
	const char *title_field, *url_field, *content_field;
	struct domains include, exclude;
	unsigned given; /* enum search_feature: the options given */
	struct netopt net;
};

/* Store arg in *o->value when it is one of allowed, else say what is. */
static const char *
one_of(const struct opt *o, const char *arg, const char *const *allowed, const char *expected)
{
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(arg, allowed[i]) == 0) {
			*(const char **)o->value = arg;
			return NULL;
		}
	return expected;
}

static const char *
set_depth(const struct opt *o, const char *arg)
{
	static const char *const depths[] = { "basic", "advanced", "fast", "ultra-fast", NULL };

	return one_of(o, arg, depths, "expected basic, advanced, fast or ultra-fast");
}

static const char *
set_topic(const struct opt *o, const char *arg)
{
	static const char *const topics[] = { "general", "news", "finance", NULL };

	return one_of(o, arg, topics, "expected general, news or finance");
}

static const char *
set_time_range(const struct opt *o, const char *arg)
{
	static const char *const ranges[] = { "day", "week", "month", "year", "d", "w", "m", "y",
		NULL };

	return one_of(o, arg, ranges, "expected day, week, month or year (or d, w, m, y)");
}

/* -q and --quiet, counted: the old form "-q EXPR" takes one back (see parse_options). */
static const char *
count_quiet(const struct opt *o, const char *arg)
{
	(void)arg;
	++*(int *)o->value;
	return NULL;
}

static void
parse_options(struct search_config *cfg, struct search_args *a, int argc, char **argv)
{
	struct search_params *p = &cfg->params;
	int quiet = 0, operand;
	struct opt options[] = {
		OPT_STRING('Q', "query", &a->query, "EXPR", "jq expression giving the query",
			".query"),
		OPT_STRING('b', "backend", &a->backend, "NAME",
			"tavily, brave, serper, searxng, exa or fts",
			"tavily when TAVILY_API_KEY is set, else fts"),
		OPT_CALLBACK(0, "depth", &p->depth, "DEPTH",
			"Tavily search_depth: basic, advanced, fast, ultra-fast", "basic",
			set_depth),
		OPT_CALLBACK(0, "topic", &p->topic, "TOPIC", "Tavily topic: general, news, finance",
			NULL, set_topic),
		OPT_CALLBACK(0, "time-range", &p->time_range, "RANGE", "day, week, month or year",
			NULL, set_time_range),
		OPT_LIST(0, "include-domain", a->include.names, &a->include.n, MAX_DOMAINS,
			"DOMAIN", "only results from DOMAIN (repeatable)"),
		OPT_LIST(0, "exclude-domain", a->exclude.names, &a->exclude.n, MAX_DOMAINS,
			"DOMAIN", "no results from DOMAIN (repeatable)"),
		OPT_BOOL(0, "answer", &p->answer, "ask for the backend's short answer (Tavily)"),
		OPT_BOOL(0, "raw", &p->raw, "ask for each page's text as raw_content"),
		OPT_BOOL(0, "extract", &cfg->extract,
			"fetch the kept results' page text through Tavily /extract"),
		OPT_STRING(0, "extract-url", &cfg->extract_url, "URL",
			"Tavily's endpoint for --extract", NULL),
		OPT_NUMBER(0, "min-score", &cfg->post.min_score, 0, 1, "X",
			"drop results scored below X (0..1; scored backends)", NULL),
		OPT_UINT(0, "max-results", &cfg->post.max_results, 1, 1000, "N", "results to keep",
			"5"),
		OPT_SIZE(0, "max-chars", &cfg->post.max_chars, 1, 1ULL << 40, "N",
			"cut each result's content and raw_content to N bytes", NULL),
		OPT_SIZE(0, "max-total-chars", &cfg->post.max_total_chars, 1, 1ULL << 40, "N",
			"cut the whole result set to N bytes", NULL),
		OPT_STRING(0, "index", &a->index, "FILE",
			"the local index: build it from the input, or search it with -b fts", NULL),
		OPT_STRING(0, "title-field", &a->title_field, "EXPR", "indexing: the title",
			".title"),
		OPT_STRING(0, "url-field", &a->url_field, "EXPR", "indexing: the URL", ".url"),
		OPT_STRING(0, "content-field", &a->content_field, "EXPR", "indexing: the text",
			".content"),
		OPT_NAME(0, "into", &cfg->loop.into, "NAME", "the field to add", "search"),
		OPT_SECONDS(0, "timeout", &cfg->timeout_ms, 0.001, 86400, "SECS", "per attempt",
			"60"),
		OPT_CALLBACK('q', "quiet", &quiet, NULL,
			"no warnings, summary or progress on stderr", NULL, count_quiet),
		NETLOOP_OPTIONS(&cfg->loop, &a->net),
		OPT_END(),
	};

	operand = opt_parse(&tool, options, argc, argv);
	/* -q was --query until this release; for one release "-q EXPR" still is, with a warning. */
	if (quiet > 0 && a->query == NULL && argc - operand == 1) {
		warn("-q is now --quiet: taking '%s' as the query for this release only; "
		     "write -Q EXPR or --query EXPR",
			argv[operand]);
		a->query = argv[operand++];
		quiet--;
	}
	if (operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s' (records come on stdin)",
			argv[operand]);
	cfg->loop.quiet = quiet > 0;
	cfg->post.has_min_score = cfg->post.min_score >= 0;
	p->include_domains = a->include.names;
	p->ninclude = a->include.n;
	p->exclude_domains = a->exclude.names;
	p->nexclude = a->exclude.n;
	a->given = (p->depth != NULL ? FEATURE_DEPTH : 0) | (p->topic != NULL ? FEATURE_TOPIC : 0) |
		(p->time_range != NULL ? FEATURE_TIME_RANGE : 0) |
		(p->ninclude > 0 ? FEATURE_INCLUDE_DOMAIN : 0) |
		(p->nexclude > 0 ? FEATURE_EXCLUDE_DOMAIN : 0) | (p->answer ? FEATURE_ANSWER : 0) |
		(p->raw ? FEATURE_RAW : 0);
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
	netopt_finish(&tool, &cfg->loop, &a->net, false);
	if (cfg->extract_url != NULL) {
		struct netopt extract = { .base_url = cfg->extract_url };

		netopt_finish(&tool, &cfg->loop, &extract, false);
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
				 .detail = "--index",
				 .db = a->index,
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
		.post = { .min_score = -1, .max_results = 5 }, /* min_score -1: not given */
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
