/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The answers: each route speaks its provider's dialect (doc/protocols.md),
 * with its auth header, its rate-limit headers and its error bodies.
 * Answers are a deterministic function of the request; only --latency,
 * --fail-rate and the rate limits depend on time and the seed.
 */
#define _GNU_SOURCE /* strcasestr */
#include <jv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json.h"
#include "mock.h"
#include "strset.h"
#include "utf8.h"
#include "util.h"

/* A fixed "created" time keeps answers a function of the request alone. */
#define CREATED 1767225600

/* The providers' messages that more than one answer uses. */
#define GEMINI_BILLING                                                                             \
	"You exceeded your current quota, please check your plan and billing details. For more "   \
	"information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
#define GEMINI_INTERNAL                                                                            \
	"An internal error has occurred. Please retry or report in "                               \
	"https://developers.generativeai.google/guide/troubleshooting"
#define GEMINI_REQUESTS_METRIC                                                                     \
	"generativelanguage.googleapis.com/generate_content_free_tier_requests"
#define GEMINI_TOKENS_METRIC                                                                       \
	"generativelanguage.googleapis.com/generate_content_free_tier_input_token_count"
#define GEMINI_TOKENS_ID "GenerateContentInputTokensPerModelPerMinute-FreeTier"
#define AZURE_ACCESS_DENIED                                                                        \
	"Access denied due to invalid subscription key or wrong API endpoint. Make sure to "       \
	"provide a valid key for an active subscription and use a correct regional API endpoint "  \
	"for your resource."
#define AZURE_NO_DEPLOYMENT                                                                        \
	"The API deployment for this resource does not exist. If you created the deployment "      \
	"within the last 5 minutes, please wait a moment and try again."
/* printf: operation, API version, "call" or "token", "Please retry after N seconds. " or "". */
#define AZURE_RATE_LIMIT                                                                           \
	"Requests to the %s Operation under Azure OpenAI API version %s have "                     \
	"exceeded %s rate limit of your current OpenAI S0 pricing tier. %sPlease go here: "        \
	"https://aka.ms/oai/quotaincrease if you would like to further increase the default rate " \
	"limit."
#define BEDROCK_BAD_TOKEN "The security token included in the request is invalid."
#define BEDROCK_THROTTLED "Too many requests, please wait before trying again."
#define BEDROCK_DAILY "Too many tokens per day, please wait before trying again."
#define BEDROCK_INTERNAL                                                                           \
	"The system encountered an unexpected error during processing. Try your request again."

enum dialect {
	D_OPENAI,
	D_GROQ,
	D_OPENROUTER,
	D_GEMINI, /* Google's OpenAI-compatible endpoint, /v1beta/openai/ */
	D_AZURE,  /* Azure OpenAI: /openai/deployments/NAME/..., api-key, api-version */
	D_ANTHROPIC,
	D_BEDROCK, /* AWS Bedrock's Converse API, SigV4 */
	D_TAVILY,
	D_BRAVE,
	D_SERPER,
	D_SEARXNG,
	D_EXA,
};

enum route_kind {
	R_CHAT,
	R_MODELS,
	R_MESSAGES,
	R_TAVILY_SEARCH,
	R_TAVILY_EXTRACT,
	R_TAVILY_USAGE,
	R_BRAVE,
	R_SERPER,
	R_SEARXNG,
	R_EXA,
	R_CONVERSE,
	R_FILES,             /* OpenAI: POST /v1/files */
	R_FILE,              /* GET /v1/files/ID */
	R_FILE_CONTENT,      /* GET /v1/files/ID/content */
	R_BATCHES,           /* POST /v1/batches */
	R_BATCHES_LIST,      /* GET /v1/batches */
	R_BATCH,             /* GET /v1/batches/ID */
	R_BATCH_CANCEL,      /* POST /v1/batches/ID/cancel */
	R_MSG_BATCHES,       /* Anthropic: POST /v1/messages/batches */
	R_MSG_BATCHES_LIST,  /* GET /v1/messages/batches */
	R_MSG_BATCH,         /* GET /v1/messages/batches/ID */
	R_MSG_BATCH_RESULTS, /* GET /v1/messages/batches/ID/results */
	R_MSG_BATCH_CANCEL,  /* POST /v1/messages/batches/ID/cancel */
	R_STATS,
	R_NONE,
};

struct route {
	enum route_kind kind;
	enum dialect dialect;
	const char *name;   /* for the log */
	const char *method; /* the one it answers */
};

/* What one answer needs while it is built. */
struct call {
	struct mock *m;
	const struct request *req;
	struct response *resp;
	struct request_info *info;
	struct route route;
	double now_ms;
	const char *key;        /* the key presented, "" for none */
	jv body;                /* the parsed request body, or invalid */
	struct buf path_model;  /* Azure's deployment, Bedrock's model id: from the path */
	struct buf api_version; /* Azure's api-version */
	char aws_key_id[128];   /* Bedrock: the access key id of the signature */
	bool batch;             /* an item of a batch: no limits, no failures, no headers */
	struct gemini_quota {
		const char *metric, *id; /* NULL: the error kind's own */
		long value;
		double retry_ms; /* < 0: no RetryInfo */
	} quota;
};

/* --- routing --------------------------------------------------------------- */

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static enum dialect
openai_dialect(const char *path)
{
	if (strncmp(path, "/api/", 5) == 0)
		return D_OPENROUTER;
	if (strncmp(path, "/openai/", 8) == 0)
		return D_GROQ;
	return D_OPENAI;
}

/* Whether path is .../openai/deployments/NAME/chat/completions (Azure). */
static bool
azure_chat_path(const char *path)
{
	const char *dep = strstr(path, "/openai/deployments/"), *slash;

	if (dep == NULL)
		return false;
	dep += strlen("/openai/deployments/");
	slash = strchr(dep, '/');
	return slash != NULL && slash > dep && strcmp(slash, "/chat/completions") == 0;
}

/* Whether path is .../model/ID/converse (Bedrock). */
static bool
converse_path(const char *path)
{
	const char *id = strstr(path, "/model/");

	return id != NULL && ends_with(path, "/converse") &&
		id + strlen("/model/") < path + strlen(path) - strlen("/converse");
}

/* The segment after marker in path is one non-empty segment followed by tail. */
static bool
id_then(const char *path, const char *marker, const char *tail)
{
	const char *id = strstr(path, marker), *slash;

	if (id == NULL)
		return false;
	id += strlen(marker);
	slash = strchr(id, '/');
	if (slash == NULL)
		return *tail == '\0' && *id != '\0';
	return slash > id && strcmp(slash, tail) == 0;
}

/*
 * The batch routes (files, batches, message batches) under any prefix: into
 * *r. A GET of the batches lists them; another method creates one (and is
 * refused unless it is a POST).
 */
static bool
batch_route(const char *path, const char *method, struct route *r)
{
	static const struct {
		const char *marker, *tail;
		struct route route;
	} routes[] = {
		{ "/v1/messages/batches/", "/results",
			{ R_MSG_BATCH_RESULTS, D_ANTHROPIC, "message-batch-results", "GET" } },
		{ "/v1/messages/batches/", "/cancel",
			{ R_MSG_BATCH_CANCEL, D_ANTHROPIC, "message-batch-cancel", "POST" } },
		{ "/v1/messages/batches/", "",
			{ R_MSG_BATCH, D_ANTHROPIC, "message-batch", "GET" } },
		{ "/v1/files/", "/content", { R_FILE_CONTENT, D_OPENAI, "file-content", "GET" } },
		{ "/v1/files/", "", { R_FILE, D_OPENAI, "file", "GET" } },
		{ "/v1/batches/", "/cancel", { R_BATCH_CANCEL, D_OPENAI, "batch-cancel", "POST" } },
		{ "/v1/batches/", "", { R_BATCH, D_OPENAI, "batch", "GET" } },
	};
	/* The collections: [0] creates (POST; another method is a 405), [1] lists. */
	static const struct route batches[] = {
		{ R_BATCHES, D_OPENAI, "batches", "POST" },
		{ R_BATCHES_LIST, D_OPENAI, "batches-list", "GET" },
	};
	static const struct route msg_batches[] = {
		{ R_MSG_BATCHES, D_ANTHROPIC, "message-batches", "POST" },
		{ R_MSG_BATCHES_LIST, D_ANTHROPIC, "message-batches-list", "GET" },
	};
	int list = strcmp(method, "GET") == 0;

	if (ends_with(path, "/v1/messages/batches")) {
		*r = msg_batches[list];
		return true;
	}
	if (ends_with(path, "/v1/files")) {
		*r = (struct route){ R_FILES, D_OPENAI, "files", "POST" };
		return true;
	}
	if (ends_with(path, "/v1/batches")) {
		*r = batches[list];
		return true;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(*routes); i++)
		if (id_then(path, routes[i].marker, routes[i].tail)) {
			*r = routes[i].route;
			return true;
		}
	return false;
}

static struct route
find_route(const char *path, const char *method)
{
	static const struct {
		const char *path;
		struct route route;
	} fixed[] = {
		{ "/tavily/search", { R_TAVILY_SEARCH, D_TAVILY, "tavily", "POST" } },
		{ "/tavily/extract", { R_TAVILY_EXTRACT, D_TAVILY, "tavily-extract", "POST" } },
		{ "/tavily/usage", { R_TAVILY_USAGE, D_TAVILY, "tavily-usage", "GET" } },
		{ "/brave/res/v1/web/search", { R_BRAVE, D_BRAVE, "brave", "GET" } },
		{ "/serper/search", { R_SERPER, D_SERPER, "serper", "POST" } },
		{ "/searxng/search", { R_SEARXNG, D_SEARXNG, "searxng", "GET" } },
		{ "/exa/search", { R_EXA, D_EXA, "exa", "POST" } },
		{ "/_stats", { R_STATS, D_OPENAI, "stats", "GET" } },
	};
	struct route none = { R_NONE, D_OPENAI, "none", NULL };

	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		if (strcmp(path, fixed[i].path) == 0)
			return fixed[i].route;
	if (strstr(path, "/v1beta/openai/") != NULL) {
		if (ends_with(path, "/chat/completions"))
			return (struct route){ R_CHAT, D_GEMINI, "chat", "POST" };
		if (ends_with(path, "/models"))
			return (struct route){ R_MODELS, D_GEMINI, "models", "GET" };
		none.dialect = D_GEMINI;
		return none;
	}
	if (strstr(path, "/openai/deployments/") != NULL) {
		if (azure_chat_path(path))
			return (struct route){ R_CHAT, D_AZURE, "azure", "POST" };
		none.dialect = D_AZURE;
		return none;
	}
	if (ends_with(path, "/openai/models"))
		return (struct route){ R_MODELS, D_AZURE, "azure-models", "GET" };
	if (converse_path(path))
		return (struct route){ R_CONVERSE, D_BEDROCK, "bedrock", "POST" };
	if (strncmp(path, "/model/", 7) == 0) {
		none.dialect = D_BEDROCK;
		return none;
	}
	if (batch_route(path, method, &none))
		return none;
	if (ends_with(path, "/chat/completions"))
		return (struct route){ R_CHAT, openai_dialect(path), "chat", "POST" };
	if (ends_with(path, "/models"))
		return (struct route){ R_MODELS, openai_dialect(path), "models", "GET" };
	if (ends_with(path, "/v1/messages"))
		return (struct route){ R_MESSAGES, D_ANTHROPIC, "messages", "POST" };
	return none;
}

/* --- small JSON helpers ------------------------------------------------------ */

static void
key(struct buf *b, const char *name)
{
	jw_cstring(b, name);
	buf_putc(b, ':');
}

static void
add_int(struct buf *b, long long v)
{
	if (v < 0) {
		buf_putc(b, '-');
		v = -v;
	}
	buf_add_uint(b, (unsigned long long)v);
}

static void
add_double(struct buf *b, double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.4g", v);
	buf_puts(b, s);
}

static void
header_line(struct response *resp, const char *name, const char *value)
{
	buf_puts(&resp->headers, name);
	buf_puts(&resp->headers, ": ");
	buf_puts(&resp->headers, value);
	buf_puts(&resp->headers, "\r\n");
}

static void
header_long(struct response *resp, const char *name, long value)
{
	char s[32];

	snprintf(s, sizeof(s), "%ld", value);
	header_line(resp, name, s);
}

/* A string member of the body, or NULL (the jv stays owned by the body). */
static const char *
body_string(const struct call *c, const char *name)
{
	jv v;
	const char *s;

	if (!jv_is_valid(c->body) || jv_get_kind(c->body) != JV_KIND_OBJECT)
		return NULL;
	v = jv_object_get(jv_copy(c->body), jv_string(name));
	s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
	jv_free(v); /* the object still holds the string */
	return s;
}

/* A number member of the body, or dflt. */
static double
body_number(const struct call *c, const char *name, double dflt)
{
	jv v;
	double d = dflt;

	if (!jv_is_valid(c->body) || jv_get_kind(c->body) != JV_KIND_OBJECT)
		return dflt;
	v = jv_object_get(jv_copy(c->body), jv_string(name));
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		d = jv_number_value(v);
	jv_free(v);
	return d;
}

/* A member that is true, or a non-empty string other than "false". */
static bool
body_flag(const struct call *c, const char *name)
{
	jv v;
	bool on = false;

	if (!jv_is_valid(c->body) || jv_get_kind(c->body) != JV_KIND_OBJECT)
		return false;
	v = jv_object_get(jv_copy(c->body), jv_string(name));
	on = jv_get_kind(v) == JV_KIND_TRUE ||
		(jv_get_kind(v) == JV_KIND_STRING && strcmp(jv_string_value(v), "false") != 0);
	jv_free(v);
	return on;
}

/* --- errors ------------------------------------------------------------------ */

struct error_kind {
	const char *name;
	int status;
	const char *openai_type, *openai_code; /* code NULL: JSON null */
	const char *anthropic_type;
	const char *message;
};

static const struct error_kind error_kinds[] = {
	{ "invalid_key", 401, "invalid_request_error", "invalid_api_key", "authentication_error",
		"Incorrect API key provided." },
	{ "forbidden", 403, "invalid_request_error", "permission_denied", "permission_error",
		"You are not allowed to sample from this model." },
	{ "model_not_found", 404, "invalid_request_error", "model_not_found", "not_found_error",
		"The model does not exist or you do not have access to it." },
	{ "context_length", 400, "invalid_request_error", "context_length_exceeded",
		"invalid_request_error", "This model's maximum context length is exceeded." },
	{ "bad_request", 400, "invalid_request_error", NULL, "invalid_request_error",
		"Invalid request." },
	{ "rate_limit", 429, "requests", "rate_limit_exceeded", "rate_limit_error",
		"Rate limit reached for requests. Please try again in 1s." },
	{ "request_too_large", 429, "tokens", "rate_limit_exceeded", "rate_limit_error",
		"Request too large for mock-model in organization org-mock on tokens per min "
		"(TPM): Limit 1000, Requested 2000. The input or output tokens must be reduced "
		"in order to run successfully." },
	{ "insufficient_quota", 429, "insufficient_quota", "insufficient_quota", "billing_error",
		"You exceeded your current quota, please check your plan and billing details." },
	{ "daily_quota", 429, "requests", "rate_limit_exceeded", "rate_limit_error",
		"Rate limit reached for requests per day (RPD). Please try again in 12h0m0s." },
	{ "credits", 402, "insufficient_quota", "insufficient_quota", "billing_error",
		"Insufficient credits. Add more using https://openrouter.ai/credits" },
	{ "server", 500, "server_error", NULL, "api_error",
		"The server had an error while processing your request." },
	{ "bad_gateway", 502, "server_error", NULL, "api_error", "Bad gateway." },
	{ "unavailable", 503, "server_error", NULL, "api_error",
		"The engine is currently overloaded, please try again later." },
	{ "timeout", 504, "server_error", NULL, "api_error", "Gateway timeout." },
	{ "overloaded", 529, "server_error", NULL, "overloaded_error", "Overloaded" },
	{ "plan_limit", 432, "insufficient_quota", "insufficient_quota", "billing_error",
		"This request exceeds your plan's set usage limit. Please upgrade your plan or "
		"contact support@tavily.com" },
	{ "payg_limit", 433, "insufficient_quota", "insufficient_quota", "billing_error",
		"This request exceeds the pay-as-you-go limit. You can increase your limit on "
		"the Tavily dashboard." },
	{ "error_in_200", 200, "server_error", NULL, "api_error", "Provider returned error" },
};

static const struct error_kind *
kind_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(error_kinds) / sizeof(*error_kinds); i++)
		if (strcmp(error_kinds[i].name, name) == 0)
			return &error_kinds[i];
	return NULL;
}

/* A kind's message without its hint of a wait (--no-hints), or NULL when it has none. */
static const char *
plain_message(const struct error_kind *kind)
{
	if (strcmp(kind->name, "rate_limit") == 0)
		return "Rate limit reached for requests";
	if (strcmp(kind->name, "daily_quota") == 0)
		return "Rate limit reached for requests per day (RPD)";
	return NULL;
}

/* The kind a bare status stands for, or NULL for a status with none. */
static const struct error_kind *
kind_by_status(int status)
{
	for (size_t i = 0; i < sizeof(error_kinds) / sizeof(*error_kinds); i++)
		if (error_kinds[i].status == status && status != 200)
			return &error_kinds[i];
	return NULL;
}

static const char *
brave_code(int status)
{
	switch (status) {
	case 401:
		return "SUBSCRIPTION_TOKEN_INVALID";
	case 422:
		return "VALIDATION";
	case 429:
		return "RATE_LIMITED";
	default:
		return "ERROR";
	}
}

/* --- Gemini's errors: a JSON array around Google's error object --- */

/* Google's canonical status name for an HTTP status. */
static const char *
google_status(int status)
{
	switch (status) {
	case 400:
		return "INVALID_ARGUMENT";
	case 401:
		return "UNAUTHENTICATED";
	case 403:
		return "PERMISSION_DENIED";
	case 404:
		return "NOT_FOUND";
	case 409:
		return "ABORTED";
	case 429:
		return "RESOURCE_EXHAUSTED";
	case 499:
		return "CANCELLED";
	case 500:
		return "INTERNAL";
	case 501:
		return "UNIMPLEMENTED";
	case 503:
		return "UNAVAILABLE";
	case 504:
		return "DEADLINE_EXCEEDED";
	default:
		return "UNKNOWN";
	}
}

enum google_details { G_NONE, G_ERROR_INFO, G_QUOTA, G_HELP };

/* How a provider with its own error shape (Gemini, Bedrock) answers an error kind. */
struct provider_kind {
	const char *name; /* the error kind */
	int status;
	const char *message;
	const char *exception;       /* Bedrock's x-amzn-ErrorType, or NULL */
	enum google_details details; /* what Gemini's details hold */
};

/*
 * The row of table (n rows) for kind, or NULL; *status (when 0) and
 * *message (when NULL) become the row's, else the kind's, else the
 * status's own.
 */
static const struct provider_kind *
provider_kind(const struct provider_kind *table, size_t n, const struct error_kind *kind,
	int *status, const char **message)
{
	const struct provider_kind *k = NULL;

	for (size_t i = 0; kind != NULL && i < n; i++)
		if (strcmp(table[i].name, kind->name) == 0)
			k = &table[i];
	if (*status == 0)
		*status = k != NULL ? k->status : kind != NULL ? kind->status : 500;
	if (*message == NULL)
		*message = k != NULL   ? k->message
			: kind != NULL ? kind->message
				       : http_reason(*status);
	return k;
}

/* What Gemini answers for an error kind. */
static const struct provider_kind google_kinds[] = {
	{ "invalid_key", 400, "API key not valid. Please pass a valid API key.", NULL,
		G_ERROR_INFO },
	{ "forbidden", 403, "The caller does not have permission", NULL, G_NONE },
	{ "model_not_found", 404, "Requested entity was not found.", NULL, G_NONE },
	{ "context_length", 400,
		"The input token count exceeds the maximum number of tokens allowed.", NULL,
		G_NONE },
	{ "bad_request", 400, "Request contains an invalid argument.", NULL, G_NONE },
	{ "rate_limit", 429, "Resource has been exhausted (e.g. check quota).", NULL, G_QUOTA },
	{ "daily_quota", 429, "Resource has been exhausted (e.g. check quota).", NULL, G_QUOTA },
	{ "request_too_large", 429, "Resource has been exhausted (e.g. check quota).", NULL,
		G_QUOTA },
	{ "insufficient_quota", 429, GEMINI_BILLING, NULL, G_HELP },
	{ "credits", 429, GEMINI_BILLING, NULL, G_HELP },
	{ "plan_limit", 429, GEMINI_BILLING, NULL, G_HELP },
	{ "payg_limit", 429, GEMINI_BILLING, NULL, G_HELP },
	{ "server", 500, GEMINI_INTERNAL, NULL, G_NONE },
	{ "bad_gateway", 500, GEMINI_INTERNAL, NULL, G_NONE },
	{ "error_in_200", 500, GEMINI_INTERNAL, NULL, G_NONE },
	{ "unavailable", 503, "The model is overloaded. Please try again later.", NULL, G_NONE },
	{ "overloaded", 503, "The model is overloaded. Please try again later.", NULL, G_NONE },
	{ "timeout", 504, "Deadline expired before operation could complete.", NULL, G_NONE },
};

/* The quota a 429 of the kind (or of the limiter, in c->quota) violated. */
static struct gemini_quota
gemini_quota(const struct call *c, const char *kind)
{
	const struct mock_config *cfg = &c->m->cfg;

	if (c->quota.id != NULL)
		return c->quota;
	if (strcmp(kind, "daily_quota") == 0)
		return (struct gemini_quota){ GEMINI_REQUESTS_METRIC,
			"GenerateRequestsPerDayPerProjectPerModel-FreeTier",
			cfg->rpd > 0 ? cfg->rpd : 1500, 43200000.0 };
	if (strcmp(kind, "request_too_large") == 0)
		return (struct gemini_quota){ GEMINI_TOKENS_METRIC, GEMINI_TOKENS_ID,
			cfg->tpm > 0 ? cfg->tpm : 1000000, -1 };
	return (struct gemini_quota){ GEMINI_REQUESTS_METRIC,
		"GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
		cfg->rpm > 0 ? cfg->rpm : 15, 1000.0 };
}

/* A wait as Google's Duration: seconds with up to 3 decimals, at least "0.001s". */
static void
google_duration(char *out, size_t size, double ms)
{
	long long t = ms > 1 ? (long long)ceil(ms) : 1;
	size_t n;

	snprintf(out, size, "%lld.%03lld", t / 1000, t % 1000);
	n = strlen(out);
	while (out[n - 1] == '0')
		out[--n] = '\0';
	if (out[n - 1] == '.')
		out[--n] = '\0';
	if (n + 1 < size) {
		out[n] = 's';
		out[n + 1] = '\0';
	}
}

static void
google_help(struct buf *b)
{
	buf_puts(b,
		"{\"@type\":\"type.googleapis.com/google.rpc.Help\",\"links\":[{\"description\":"
		"\"Learn more about Gemini API quotas\",\"url\":"
		"\"https://ai.google.dev/gemini-api/docs/rate-limits\"}]}");
}

/* QuotaFailure, Help and (unless --no-hints or no wait fits) RetryInfo. */
static void
google_quota_details(struct buf *b, const struct call *c, const struct gemini_quota *q)
{
	char value[32], delay[40];

	snprintf(value, sizeof(value), "%ld", q->value);
	buf_puts(b,
		"{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":[{"
		"\"quotaMetric\":");
	jw_cstring(b, q->metric);
	buf_puts(b, ",\"quotaId\":");
	jw_cstring(b, q->id);
	buf_puts(b, ",\"quotaDimensions\":{\"location\":\"global\",\"model\":");
	jw_cstring(b, c->info->model[0] ? c->info->model : "mock-model");
	buf_puts(b, "},\"quotaValue\":");
	jw_cstring(b, value);
	buf_puts(b, "}]},");
	google_help(b);
	if (q->retry_ms >= 0 && !c->m->cfg.no_hints) {
		google_duration(delay, sizeof(delay), q->retry_ms);
		buf_puts(b,
			",{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":");
		jw_cstring(b, delay);
		buf_putc(b, '}');
	}
}

/* Gemini's error: [{"error":{"code","message","status","details"}}]. */
static void
gemini_error(struct call *c, int status, const struct error_kind *kind, const char *message)
{
	const struct provider_kind *g = provider_kind(google_kinds,
		sizeof(google_kinds) / sizeof(*google_kinds), kind, &status, &message);
	struct buf *b = &c->resp->body;
	struct gemini_quota q;

	c->resp->status = status;
	buf_reset(b);
	buf_puts(b, "[{\"error\":{\"code\":");
	add_int(b, status);
	buf_puts(b, ",\"message\":");
	jw_cstring(b, message);
	buf_puts(b, ",\"status\":");
	jw_cstring(b, google_status(status));
	switch (g != NULL ? g->details : G_NONE) {
	case G_ERROR_INFO:
		buf_puts(b,
			",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
			"\"reason\":\"API_KEY_INVALID\",\"domain\":\"googleapis.com\",\"metadata\":"
			"{\"service\":\"generativelanguage.googleapis.com\"}}]");
		break;
	case G_QUOTA:
		q = gemini_quota(c, kind->name);
		buf_puts(b, ",\"details\":[");
		google_quota_details(b, c, &q);
		buf_putc(b, ']');
		break;
	case G_HELP:
		buf_puts(b, ",\"details\":[");
		google_help(b);
		buf_putc(b, ']');
		break;
	case G_NONE:
		break;
	}
	buf_puts(b, "}}]");
}

/* --- Azure's errors: its gateway's {"error":{"code","message"}} --- */

/* The operation Azure names in its 429s. */
static const char *
azure_operation(const struct call *c)
{
	return c->route.kind == R_MODELS ? "Models_List" : "ChatCompletions_Create";
}

/*
 * Azure's own error for a status its gateway answers (401, 403, 404, 408,
 * 429); returns false for the others, which pass OpenAI's body through.
 */
static bool
azure_error(struct call *c, int status, const struct error_kind *kind, const char *message)
{
	struct buf *b = &c->resp->body;
	char code[32], text[512];

	if (status == 0)
		status = kind != NULL ? kind->status : 500;
	if (status != 401 && status != 403 && status != 404 && status != 408 && status != 429)
		return false;
	snprintf(code, sizeof(code), "%d", status);
	if (message == NULL && kind != NULL && status == 401)
		message = AZURE_ACCESS_DENIED;
	if (message == NULL && kind != NULL && strcmp(kind->name, "model_not_found") == 0)
		message = AZURE_NO_DEPLOYMENT;
	if (message == NULL && status == 429) {
		snprintf(text, sizeof(text), AZURE_RATE_LIMIT, azure_operation(c),
			c->api_version.len ? c->api_version.data : "", "call",
			c->m->cfg.no_hints ? "" : "Please retry after 1 seconds. ");
		message = text;
	}
	if (message == NULL)
		message = status == 404 ? "Resource not found"
			: kind != NULL  ? kind->message
					: http_reason(status);
	if (kind != NULL && strcmp(kind->name, "model_not_found") == 0)
		snprintf(code, sizeof(code), "DeploymentNotFound");
	c->resp->status = status;
	buf_reset(b);
	buf_puts(b, "{\"error\":{\"code\":");
	jw_cstring(b, code);
	buf_puts(b, ",\"message\":");
	jw_cstring(b, message);
	buf_puts(b, "}}");
	return true;
}

/* --- Bedrock's errors: x-amzn-ErrorType and {"message"} --- */

/*
 * A Bedrock error: the exception's name in x-amzn-ErrorType (with the
 * namespace of the authorizer, coral, or of Bedrock) and {"message"}.
 */
static void
bedrock_error(struct call *c, int status, const char *exception, bool coral, const char *message)
{
	struct buf *b = &c->resp->body;

	c->resp->status = status;
	buf_puts(&c->resp->headers, "x-amzn-ErrorType: ");
	buf_puts(&c->resp->headers, exception);
	buf_puts(&c->resp->headers,
		coral ? ":http://internal.amazon.com/coral/com.amazon.coral.service/\r\n"
		      : ":http://internal.amazon.com/coral/com.amazon.bedrock/\r\n");
	buf_reset(b);
	buf_puts(b, "{\"message\":");
	jw_cstring(b, message);
	buf_putc(b, '}');
}

/* What Bedrock answers for an error kind. */
static const struct provider_kind bedrock_kinds[] = {
	{ "invalid_key", 403, BEDROCK_BAD_TOKEN, "UnrecognizedClientException", G_NONE },
	{ "forbidden", 403, "You don't have access to the model with the specified model ID.",
		"AccessDeniedException", G_NONE },
	{ "model_not_found", 400, "The provided model identifier is invalid.",
		"ValidationException", G_NONE },
	{ "context_length", 400, "Input is too long for requested model.", "ValidationException",
		G_NONE },
	{ "bad_request", 400, "Malformed input request, please reformat your input and try again.",
		"ValidationException", G_NONE },
	{ "rate_limit", 429, BEDROCK_THROTTLED, "ThrottlingException", G_NONE },
	{ "request_too_large", 429, "Too many tokens, please wait before trying again.",
		"ThrottlingException", G_NONE },
	{ "insufficient_quota", 429, BEDROCK_DAILY, "ThrottlingException", G_NONE },
	{ "daily_quota", 429, BEDROCK_DAILY, "ThrottlingException", G_NONE },
	{ "credits", 429, BEDROCK_DAILY, "ThrottlingException", G_NONE },
	{ "plan_limit", 429, BEDROCK_DAILY, "ThrottlingException", G_NONE },
	{ "payg_limit", 429, BEDROCK_DAILY, "ThrottlingException", G_NONE },
	{ "server", 500, BEDROCK_INTERNAL, "InternalServerException", G_NONE },
	{ "bad_gateway", 500, BEDROCK_INTERNAL, "InternalServerException", G_NONE },
	{ "error_in_200", 424, "The model returned an error.", "ModelErrorException", G_NONE },
	{ "unavailable", 503, "Bedrock is unable to process your request.",
		"ServiceUnavailableException", G_NONE },
	{ "overloaded", 503, "Too many connections, please wait before trying again.",
		"ServiceUnavailableException", G_NONE },
	{ "timeout", 408, "Model has timed out in processing the request. Try your request again.",
		"ModelTimeoutException", G_NONE },
};

/* Bedrock's exception for a status that no error kind names. */
static const char *
bedrock_exception(int status)
{
	switch (status) {
	case 403:
		return "AccessDeniedException";
	case 404:
		return "ResourceNotFoundException";
	case 408:
		return "ModelTimeoutException";
	case 424:
		return "ModelErrorException";
	case 429:
		return "ThrottlingException";
	case 503:
		return "ServiceUnavailableException";
	default:
		return status >= 500 ? "InternalServerException" : "ValidationException";
	}
}

static void
bedrock_kind_error(struct call *c, int status, const struct error_kind *kind, const char *message)
{
	const struct provider_kind *k = provider_kind(bedrock_kinds,
		sizeof(bedrock_kinds) / sizeof(*bedrock_kinds), kind, &status, &message);

	bedrock_error(c, status, k != NULL ? k->exception : bedrock_exception(status),
		k != NULL && strcmp(k->name, "invalid_key") == 0, message);
}

/*
 * Answer with the provider's error body: status (0: the kind's own), the
 * kind (NULL: a generic error for the status), and a message (NULL: the
 * kind's own).
 */
static void
send_error(struct call *c, int status, const struct error_kind *kind, const char *message)
{
	struct response *resp = c->resp;
	struct buf *b = &resp->body;
	char id[32];

	if (c->route.dialect == D_GEMINI) {
		gemini_error(c, status, kind, message);
		return;
	}
	if (c->route.dialect == D_BEDROCK) {
		bedrock_kind_error(c, status, kind, message);
		return;
	}
	if (c->route.dialect == D_AZURE && azure_error(c, status, kind, message))
		return;
	if (message == NULL && kind != NULL && c->m->cfg.no_hints)
		message = plain_message(kind);
	if (status == 0)
		status = kind != NULL ? kind->status : 500;
	if (message == NULL)
		message = kind != NULL ? kind->message : http_reason(status);
	resp->status = status;
	buf_reset(b);
	snprintf(id, sizeof(id), "req_mock_%lu", c->info->n);
	switch (c->route.dialect) {
	case D_OPENAI:
	case D_GROQ:
	case D_GEMINI:
	case D_AZURE:
	case D_BEDROCK:
		buf_puts(b, "{\"error\":{");
		key(b, "message");
		jw_cstring(b, message);
		buf_putc(b, ',');
		key(b, "type");
		jw_cstring(b, kind != NULL ? kind->openai_type : "invalid_request_error");
		buf_puts(b, ",\"param\":null,");
		key(b, "code");
		if (kind != NULL && kind->openai_code != NULL)
			jw_cstring(b, kind->openai_code);
		else
			buf_puts(b, "null");
		buf_puts(b, "}}");
		break;
	case D_OPENROUTER:
		buf_puts(b, "{\"error\":{");
		key(b, "code");
		add_int(b, status == 200 ? 502 : status);
		buf_putc(b, ',');
		key(b, "message");
		jw_cstring(b, message);
		if (kind != NULL && strcmp(kind->name, "credits") == 0)
			buf_puts(b, ",\"metadata\":{\"limit_source\":\"openrouter_credits\"}");
		else if (status == 200 || status >= 500)
			buf_puts(b,
				",\"metadata\":{\"provider_name\":\"Mock\","
				"\"raw\":\"upstream failure\"}");
		buf_puts(b, "}");
		if (status == 200)
			buf_puts(b, ",\"id\":\"gen-mock\",\"object\":\"chat.completion\"");
		buf_puts(b, "}");
		break;
	case D_ANTHROPIC:
		buf_puts(b, "{\"type\":\"error\",\"error\":{");
		key(b, "type");
		jw_cstring(b,
			kind != NULL            ? kind->anthropic_type
				: status >= 500 ? "api_error"
						: "invalid_request_error");
		buf_putc(b, ',');
		key(b, "message");
		jw_cstring(b, message);
		buf_puts(b, "},");
		key(b, "request_id");
		jw_cstring(b, id);
		buf_putc(b, '}');
		header_line(resp, "request-id", id);
		break;
	case D_TAVILY:
		buf_puts(b, "{\"detail\":{");
		key(b, "error");
		jw_cstring(b, message);
		buf_puts(b, "}}");
		break;
	case D_BRAVE:
		buf_puts(b, "{\"type\":\"ErrorResponse\",\"error\":{");
		key(b, "id");
		jw_cstring(b, id);
		buf_putc(b, ',');
		key(b, "status");
		add_int(b, status);
		buf_putc(b, ',');
		key(b, "code");
		jw_cstring(b, brave_code(status));
		buf_putc(b, ',');
		key(b, "detail");
		jw_cstring(b, message);
		buf_puts(b, "},\"time\":");
		add_int(b, CREATED);
		buf_putc(b, '}');
		break;
	case D_SERPER:
		buf_puts(b, "{");
		key(b, "message");
		jw_cstring(b, message);
		buf_putc(b, ',');
		key(b, "statusCode");
		add_int(b, status);
		buf_putc(b, '}');
		break;
	case D_SEARXNG:
		resp->content_type = "text/html; charset=utf-8";
		buf_puts(b, "<!DOCTYPE html><html><head><title>");
		buf_puts(b, http_reason(status));
		buf_puts(b, "</title></head><body><h1>");
		buf_puts(b, http_reason(status));
		buf_puts(b, "</h1></body></html>\n");
		break;
	case D_EXA:
		buf_puts(b, "{");
		key(b, "requestId");
		jw_cstring(b, id);
		buf_putc(b, ',');
		key(b, "error");
		jw_cstring(b, message);
		buf_puts(b, ",\"tag\":\"MOCK_ERROR\"}");
		break;
	}
}

/* --- auth -------------------------------------------------------------------- */

/* The key presented in the route's own header, or NULL when there is none. */
static const char *
presented_key(const struct call *c)
{
	const char *v;

	switch (c->route.dialect) {
	case D_ANTHROPIC:
	case D_EXA:
		return request_header(c->req, "x-api-key");
	case D_BRAVE:
		return request_header(c->req, "X-Subscription-Token");
	case D_SERPER:
		return request_header(c->req, "X-API-KEY");
	case D_AZURE:
		return request_header(c->req, "api-key");
	case D_BEDROCK:
		return request_header(c->req, "Authorization"); /* a signature, not a key */
	case D_SEARXNG:
		return NULL;
	default:
		/* Only the Bearer scheme carries a key; anything else is a wrong one. */
		v = request_header(c->req, "Authorization");
		if (v != NULL && strncasecmp(v, "Bearer ", 7) == 0)
			return v + 7;
		return v != NULL ? "" : NULL;
	}
}

/* "sk-t****************1234", as OpenAI shows a key it refused. */
static void
masked_key(char *out, size_t size, const char *k)
{
	size_t n = strlen(k), i, o = 0;

	for (i = 0; i < n && o + 1 < size && i < 64; i++)
		out[o++] = (n >= 12 && (i < 3 || i >= n - 4)) ? k[i] : '*';
	out[o] = '\0';
}

/* What each provider says when no key came. */
static const char *
missing_key_message(enum dialect d)
{
	switch (d) {
	case D_ANTHROPIC:
		return "x-api-key header is required";
	case D_OPENROUTER:
		return "No auth credentials found";
	case D_TAVILY:
		return "Unauthorized: missing or invalid API key.";
	case D_BRAVE:
		return "The X-Subscription-Token header is required.";
	case D_SERPER:
		return "Unauthorized: the X-API-KEY header is required.";
	case D_EXA:
		return "Missing x-api-key header";
	default:
		return "You didn't provide an API key. You need to provide your API key in an "
		       "Authorization header using Bearer auth.";
	}
}

/*
 * Bedrock: check the request's AWS signature (--aws-key, --aws-token);
 * answers AWS's 403 and returns false when it does not hold.
 */
static bool
check_aws_auth(struct call *c)
{
	struct awssig_check chk = { .keys = c->m->cfg.aws_keys,
		.nkeys = c->m->cfg.naws_keys,
		.token = c->m->cfg.aws_token,
		.service = "bedrock",
		.now = time(NULL) };
	enum awssig_result r = awssig_verify(c->req, &chk);

	c->info->auth = request_header(c->req, "Authorization") != NULL;
	snprintf(c->aws_key_id, sizeof(c->aws_key_id), "%s", chk.access_key);
	c->key = c->aws_key_id;
	switch (r) {
	case AWSSIG_OK:
		c->info->key = chk.key;
		return true;
	case AWSSIG_MISSING:
		bedrock_error(c, 403, "MissingAuthenticationTokenException", true,
			"Missing Authentication Token");
		break;
	case AWSSIG_INCOMPLETE:
		bedrock_error(c, 403, "IncompleteSignatureException", true, chk.message);
		break;
	case AWSSIG_UNKNOWN_KEY:
	case AWSSIG_BAD_TOKEN:
		bedrock_error(c, 403, "UnrecognizedClientException", true, BEDROCK_BAD_TOKEN);
		break;
	case AWSSIG_INVALID:
		bedrock_error(c, 403, "InvalidSignatureException", true, chk.message);
		break;
	}
	return false;
}

/*
 * Azure takes its key in api-key only; an Authorization header alone is
 * taken for an Entra ID token, and refused (also without --key).
 */
static bool
azure_bearer_refused(struct call *c)
{
	if (request_header(c->req, "api-key") != NULL ||
		request_header(c->req, "Authorization") == NULL)
		return false;
	c->info->auth = true;
	c->resp->status = 401;
	buf_reset(&c->resp->body);
	buf_puts(&c->resp->body,
		"{\"statusCode\":401,\"message\":\"Unauthorized. Access token is missing, invalid, "
		"audience is incorrect (https://cognitiveservices.azure.com), or have expired.\"}");
	return true;
}

/* Check the key; answers 401 and returns false when it is missing or wrong. */
static bool
check_auth(struct call *c)
{
	const char *k = presented_key(c);
	char message[256], masked[80];

	if (c->route.dialect == D_BEDROCK)
		return check_aws_auth(c);
	if (c->route.dialect == D_AZURE && azure_bearer_refused(c))
		return false;
	c->info->auth = k != NULL;
	c->key = k != NULL ? k : "";
	if (c->route.dialect == D_SEARXNG || c->m->cfg.nkeys == 0)
		return true;
	for (size_t i = 0; k != NULL && i < c->m->cfg.nkeys; i++)
		if (strcmp(k, c->m->cfg.keys[i]) == 0) {
			c->info->key = (int)i + 1;
			return true;
		}
	if (c->route.dialect == D_GEMINI) {
		/* Google: no key is an unregistered caller; a wrong one an invalid argument. */
		if (k == NULL)
			send_error(c, 403, NULL,
				"Method doesn't allow unregistered callers (callers without "
				"established identity). Please use API Key or other form of API "
				"consumer identity to call this API.");
		else
			send_error(c, 400, kind_by_name("invalid_key"), NULL);
		return false;
	}
	if (c->route.dialect == D_AZURE) {
		send_error(c, 401, kind_by_name("invalid_key"), NULL);
		return false;
	}
	if (k == NULL) {
		send_error(c, 401, kind_by_name("invalid_key"),
			missing_key_message(c->route.dialect));
		return false;
	}
	masked_key(masked, sizeof(masked), k);
	snprintf(message, sizeof(message),
		c->route.dialect == D_ANTHROPIC        ? "invalid x-api-key"
			: c->route.dialect == D_TAVILY ? "Unauthorized: missing or invalid API key."
			: c->route.dialect == D_BRAVE
			? "The provided subscription token is invalid."
			: c->route.dialect == D_SERPER ? "Unauthorized."
			: c->route.dialect == D_EXA
			? "Invalid API key"
			: "Incorrect API key provided: %s. You can find your "
			  "API key at https://platform.openai.com/account/api-keys.",
		masked);
	send_error(c, 401, kind_by_name("invalid_key"), message);
	return false;
}

/* --- rate limits and failures ------------------------------------------------ */

/* OpenAI's headers; with --rpd, the request headers describe the day (as Groq's do). */
static void
openai_limit_headers(struct call *c, const struct limit_state *st)
{
	char d[32];

	if (st->limit_day > 0) {
		header_long(c->resp, "x-ratelimit-limit-requests", st->limit_day);
		header_long(c->resp, "x-ratelimit-remaining-requests", st->remaining_day);
		go_duration(d, sizeof(d), st->reset_day_ms);
		header_line(c->resp, "x-ratelimit-reset-requests", d);
	} else if (st->limit_requests > 0) {
		header_long(c->resp, "x-ratelimit-limit-requests", st->limit_requests);
		header_long(c->resp, "x-ratelimit-remaining-requests", st->remaining_requests);
		go_duration(d, sizeof(d), st->reset_requests_ms);
		header_line(c->resp, "x-ratelimit-reset-requests", d);
	}
	if (st->limit_tokens > 0) {
		header_long(c->resp, "x-ratelimit-limit-tokens", st->limit_tokens);
		header_long(c->resp, "x-ratelimit-remaining-tokens", st->remaining_tokens);
		go_duration(d, sizeof(d), st->reset_tokens_ms);
		header_line(c->resp, "x-ratelimit-reset-tokens", d);
	}
}

/* An RFC 3339 UTC time ms after now. */
static void
rfc3339_after(char *out, size_t size, double ms)
{
	time_t t = time(NULL) + (time_t)ceil(ms / 1000.0);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
anthropic_limit_headers(struct call *c, const struct limit_state *st)
{
	char when[40];

	if (st->limit_requests > 0) {
		header_long(c->resp, "anthropic-ratelimit-requests-limit", st->limit_requests);
		header_long(c->resp, "anthropic-ratelimit-requests-remaining",
			st->remaining_requests);
		rfc3339_after(when, sizeof(when), st->reset_requests_ms);
		header_line(c->resp, "anthropic-ratelimit-requests-reset", when);
	}
	if (st->limit_tokens > 0) {
		header_long(c->resp, "anthropic-ratelimit-tokens-limit", st->limit_tokens);
		header_long(c->resp, "anthropic-ratelimit-tokens-remaining", st->remaining_tokens);
		rfc3339_after(when, sizeof(when), st->reset_tokens_ms);
		header_line(c->resp, "anthropic-ratelimit-tokens-reset", when);
	}
}

/* Azure's 200s: what remains, nothing of limits or resets. */
static void
azure_limit_headers(struct call *c, const struct limit_state *st)
{
	if (st->limit_day > 0)
		header_long(c->resp, "x-ratelimit-remaining-requests", st->remaining_day);
	else if (st->limit_requests > 0)
		header_long(c->resp, "x-ratelimit-remaining-requests", st->remaining_requests);
	if (st->limit_tokens > 0)
		header_long(c->resp, "x-ratelimit-remaining-tokens", st->remaining_tokens);
}

/* The rate-limit headers of the route's provider (Gemini and Bedrock send none). */
static void
limit_headers(struct call *c, const struct limit_state *st, enum limit_result r)
{
	switch (c->route.dialect) {
	case D_ANTHROPIC:
		anthropic_limit_headers(c, st);
		break;
	case D_AZURE:
		if (r == LIMIT_OK)
			azure_limit_headers(c, st);
		break;
	case D_GEMINI:
	case D_BEDROCK:
		break;
	default:
		if (c->route.kind == R_CHAT || c->route.kind == R_MODELS)
			openai_limit_headers(c, st);
		break;
	}
}

static void
header_retry_after(struct call *c, double retry_ms, bool with_ms)
{
	long secs = (long)ceil(retry_ms / 1000.0);

	header_long(c->resp, "retry-after", secs < 1 ? 1 : secs);
	if (with_ms)
		header_long(c->resp, "retry-after-ms", retry_ms < 1 ? 1 : (long)ceil(retry_ms));
}

/* OpenAI's 429 (also what the other OpenAI-like and the search routes send). */
static void
openai_limit_error(struct call *c, enum limit_result r, const struct limit_state *st, long tokens)
{
	struct error_kind kind = *kind_by_name("rate_limit");
	const char *model = c->info->model[0] ? c->info->model : "mock-model", *what;
	char message[512], wait[32];
	long limit, used;

	if (r == LIMIT_TOO_LARGE) {
		snprintf(message, sizeof(message),
			"Request too large for %s in organization org-mock on tokens per min "
			"(TPM): "
			"Limit %ld, Requested %ld. The input or output tokens must be reduced in "
			"order to run successfully.",
			model, st->limit_tokens, tokens);
		send_error(c, 429, kind_by_name("request_too_large"), message);
		return;
	}
	if (r == LIMIT_TOKENS)
		kind.openai_type = "tokens";
	if (c->m->cfg.no_hints) {
		send_error(c, 429, &kind,
			r == LIMIT_TOKENS ? "Rate limit reached for tokens"
					  : "Rate limit reached for requests");
		return;
	}
	switch (r) {
	case LIMIT_DAY:
		what = "requests per day (RPD)";
		limit = st->limit_day;
		used = limit - st->remaining_day;
		go_duration(wait, sizeof(wait), st->retry_ms);
		break;
	case LIMIT_REQUESTS:
		what = "requests per min (RPM)";
		limit = st->limit_requests;
		used = limit - st->remaining_requests;
		snprintf(wait, sizeof(wait), "%.3fs", st->retry_ms / 1000.0);
		break;
	default:
		what = "tokens per min (TPM)";
		limit = st->limit_tokens;
		used = limit - st->remaining_tokens;
		snprintf(wait, sizeof(wait), "%.3fs", st->retry_ms / 1000.0);
		break;
	}
	snprintf(message, sizeof(message),
		"Rate limit reached for %s in organization org-mock on %s: Limit %ld, Used %ld, "
		"Requested %ld. Please try again in %s. Visit "
		"https://platform.openai.com/account/rate-limits to learn more.",
		model, what, limit, used, r == LIMIT_TOKENS ? tokens : 1L, wait);
	send_error(c, 429, &kind, message);
	header_retry_after(c, st->retry_ms, false);
}

/* Gemini's 429: the quota violated, and when the next request fits (RetryInfo). */
static void
gemini_limit_error(struct call *c, enum limit_result r, const struct limit_state *st)
{
	switch (r) {
	case LIMIT_DAY:
		c->quota = (struct gemini_quota){ GEMINI_REQUESTS_METRIC,
			"GenerateRequestsPerDayPerProjectPerModel-FreeTier", st->limit_day,
			st->retry_ms };
		break;
	case LIMIT_REQUESTS:
		c->quota = (struct gemini_quota){ GEMINI_REQUESTS_METRIC,
			"GenerateRequestsPerMinutePerProjectPerModel-FreeTier", st->limit_requests,
			st->retry_ms };
		break;
	default:
		c->quota = (struct gemini_quota){ GEMINI_TOKENS_METRIC, GEMINI_TOKENS_ID,
			st->limit_tokens, r == LIMIT_TOO_LARGE ? -1 : st->retry_ms };
		break;
	}
	send_error(c, 429, kind_by_name(r == LIMIT_TOO_LARGE ? "request_too_large" : "rate_limit"),
		NULL);
}

/* Azure's 429: the wait in the message, retry-after and retry-after-ms. */
static void
azure_limit_error(struct call *c, enum limit_result r, const struct limit_state *st)
{
	char message[600], retry[64];
	long secs = (long)ceil(st->retry_ms / 1000.0);
	bool hint = !c->m->cfg.no_hints && r != LIMIT_TOO_LARGE;

	snprintf(retry, sizeof(retry), "Please retry after %ld seconds. ", secs < 1 ? 1 : secs);
	snprintf(message, sizeof(message), AZURE_RATE_LIMIT, azure_operation(c),
		c->api_version.len ? c->api_version.data : "",
		r == LIMIT_REQUESTS || r == LIMIT_DAY ? "call" : "token", hint ? retry : "");
	send_error(c, 429, kind_by_name("rate_limit"), message);
	if (hint)
		header_retry_after(c, st->retry_ms, true);
}

/*
 * Take tokens (and one request) from the key's buckets; answers 429 with
 * the provider's headers and returns false when the limits say no.
 */
static bool
check_limits(struct call *c, long tokens)
{
	const struct mock_config *cfg = &c->m->cfg;
	struct limit_state st;
	enum limit_result r;

	if (c->batch || (cfg->rpm <= 0 && cfg->tpm <= 0 && cfg->rpd <= 0))
		return true;
	r = limiter_take(c->m->limiter, c->key, tokens, c->now_ms, &st);
	if (!cfg->no_hints)
		limit_headers(c, &st, r);
	if (r == LIMIT_OK)
		return true;
	switch (c->route.dialect) {
	case D_GEMINI:
		gemini_limit_error(c, r, &st);
		break;
	case D_AZURE:
		azure_limit_error(c, r, &st);
		break;
	case D_BEDROCK:
		send_error(c, 429, kind_by_name("rate_limit"),
			r == LIMIT_TOKENS || r == LIMIT_TOO_LARGE
				? "Too many tokens, please wait before trying again."
				: NULL);
		break;
	default:
		openai_limit_error(c, r, &st, tokens);
		break;
	}
	return false;
}

/* --fail-rate: a transient server error. Returns false when one was sent. */
static bool
check_failure(struct call *c)
{
	static const int statuses[] = { 500, 502, 503 };

	if (c->batch || c->m->cfg.fail_rate <= 0 || mock_random(c->m) >= c->m->cfg.fail_rate)
		return true;
	if (c->route.dialect == D_ANTHROPIC)
		send_error(c, 529, kind_by_name("overloaded"), NULL);
	else
		send_error(c, 0, kind_by_status(statuses[(int)(mock_random(c->m) * 3) % 3]), NULL);
	return false;
}

/* --- chat answers -------------------------------------------------------------- */

static const char *const vocabulary[] = {
	"builds",
	"GPU",
	"clusters",
	"for",
	"training",
	"and",
	"inference",
	"of",
	"large",
	"models",
	"with",
	"enterprise",
	"customers",
	"in",
	"the",
	"cloud",
	"on",
	"premise",
	"regulated",
	"industries",
	"across",
	"three",
	"regions",
	"growing",
	"fast",
};

/* The prompt as the mock counts it: bytes of text, a hash, the last user message. */
struct prompt {
	size_t bytes;
	unsigned long long hash;
	struct buf text;      /* every message's text, for the hash */
	struct buf last_user; /* the last user message's text */
};

/* Append a message content's text: a string, or an array of text parts. */
static void
content_text(jv content, struct buf *out)
{
	if (jv_get_kind(content) == JV_KIND_STRING) {
		buf_add(out, jv_string_value(content),
			(size_t)jv_string_length_bytes(jv_copy(content)));
	} else if (jv_get_kind(content) == JV_KIND_ARRAY) {
		jv_array_foreach(content, i, part)
		{
			jv text = jv_object_get(jv_copy(part), jv_string("text"));

			(void)i;
			if (jv_get_kind(text) == JV_KIND_STRING)
				content_text(text, out); /* consumes text */
			else
				jv_free(text);
			jv_free(part);
		}
	}
	jv_free(content);
}

/*
 * Read the messages (consumed) and the system prompt (Anthropic's, or
 * jv_null). Returns false when messages is not a non-empty array.
 */
static bool
read_prompt(const char *model, jv messages, jv system, struct prompt *p)
{
	bool ok = jv_get_kind(messages) == JV_KIND_ARRAY && jv_array_length(jv_copy(messages)) > 0;

	buf_puts(&p->text, model);
	buf_putc(&p->text, '\n');
	if (jv_get_kind(system) != JV_KIND_NULL && jv_get_kind(system) != JV_KIND_INVALID)
		content_text(jv_copy(system), &p->text);
	jv_free(system);
	if (ok) {
		jv_array_foreach(messages, i, msg)
		{
			jv role = jv_object_get(jv_copy(msg), jv_string("role"));
			size_t before = p->text.len;

			(void)i;
			buf_putc(&p->text, '\n');
			content_text(jv_object_get(jv_copy(msg), jv_string("content")), &p->text);
			if (jv_get_kind(role) == JV_KIND_STRING &&
				strcmp(jv_string_value(role), "user") == 0) {
				buf_reset(&p->last_user);
				buf_add(&p->last_user, p->text.data + before + 1,
					p->text.len - before - 1);
			}
			jv_free(role);
			jv_free(msg);
		}
	}
	jv_free(messages);
	p->bytes = p->text.len - strlen(model) - 1;
	p->hash = hash_fnv1a(p->text.data, p->text.len);
	return ok;
}

static long
tokens_of(size_t bytes)
{
	return (long)((bytes + 3) / 4);
}

/*
 * The reply to a prompt: in JSON mode an object with tier, score and
 * reason, else a sentence; both depend only on the hash and the subject.
 */
static void
make_reply(struct buf *out, unsigned long long h, bool json, const struct buf *subject)
{
	char head[64];
	size_t cut = subject->len > 60 ? utf8_cut(subject->data, 60) : subject->len;

	if (json) {
		int score = (int)(h % 101);

		buf_puts(out, "{\"tier\":");
		jw_cstring(out, score >= 70 ? "HOT" : score >= 40 ? "WATCH" : "COLD");
		buf_puts(out, ",\"score\":");
		add_int(out, score);
		snprintf(head, sizeof(head), "Mock assessment %08llx of: ", h & 0xffffffffULL);
		buf_puts(out, ",\"reason\":");
		{
			struct buf reason = BUF_INIT;

			buf_puts(&reason, head);
			utf8_sanitize(&reason, subject->data, cut);
			jw_string(out, reason.data, reason.len);
			buf_free(&reason);
		}
		buf_putc(out, '}');
		return;
	}
	snprintf(head, sizeof(head), "Mock summary %08llx:", h & 0xffffffffULL);
	buf_puts(out, head);
	for (unsigned long long k = 8 + h % 17, x = h; k > 0; k--) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		buf_putc(out, ' ');
		buf_puts(out, vocabulary[(x >> 33) % (sizeof(vocabulary) / sizeof(*vocabulary))]);
	}
	buf_putc(out, '.');
}

/* --- prompt caching: the hashes of the prefixes seen, in a capped table --- */

#define PREFIX_SLOTS 8192 /* 2^13, direct-mapped: a colliding prefix evicts the older one */
#define FNV_OFFSET 0xcbf29ce484222325ULL

/* FNV-1a of n more bytes, continuing from h. */
static uint64_t
fnv_more(uint64_t h, const void *s, size_t n)
{
	const unsigned char *p = s;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Whether the prefix hash h was seen before; remembers it either way. */
static bool
prefix_seen(struct mock *m, uint64_t h)
{
	uint64_t *slot;
	bool seen;

	if (m->prefixes == NULL)
		m->prefixes = xcalloc(PREFIX_SLOTS, sizeof(*m->prefixes));
	h |= 1; /* 0 marks an empty slot */
	/* The top bits of a Fibonacci hash: FNV-1a's low bits repeat over a periodic text. */
	slot = &m->prefixes[(h * 0x9E3779B97F4A7C15ULL) >> 51];
	seen = *slot == h;
	*slot = h;
	return seen;
}

/*
 * OpenAI's automatic caching: the tokens of the longest prefix of p, of
 * 1,024 tokens and then whole 128-token steps, seen before (under the same
 * model and prompt_cache_key, or none).
 */
static long
openai_cached_tokens(struct mock *m, const struct prompt *p, const char *cache_key)
{
	size_t start = p->text.len - p->bytes, pos = 0;
	long tokens = tokens_of(p->bytes), cached = 0;
	uint64_t h = FNV_OFFSET;

	if (cache_key != NULL)
		h = fnv_more(h, cache_key, strlen(cache_key) + 1);
	for (long t = 1024; t <= tokens; t += 128) {
		size_t end = start + (size_t)t * 4;

		if (end > p->text.len)
			end = p->text.len;
		h = fnv_more(h, p->text.data + pos, end - pos);
		pos = end;
		if (prefix_seen(m, h))
			cached = t;
	}
	return cached;
}

/* Whether a content block carries "cache_control":{"type":"ephemeral"}. */
static bool
cache_marked(jv block)
{
	jv cc = jv_object_get(jv_copy(block), jv_string("cache_control")), type;
	bool on = false;

	if (jv_get_kind(cc) == JV_KIND_OBJECT) {
		type = jv_object_get(jv_copy(cc), jv_string("type"));
		on = jv_get_kind(type) == JV_KIND_STRING &&
			strcmp(jv_string_value(type), "ephemeral") == 0;
		jv_free(type);
	}
	jv_free(cc);
	return on;
}

/*
 * The blocks of content (borrowed): their text appended to text as
 * read_prompt appends it, and the text's length after each marked block
 * into marks (at most nmax; *n counts them).
 */
static void
cache_blocks(jv content, struct buf *text, size_t *marks, size_t *n, size_t nmax)
{
	if (jv_get_kind(content) != JV_KIND_ARRAY) {
		content_text(jv_copy(content), text);
		return;
	}
	jv_array_foreach(content, i, block)
	{
		jv one = jv_array(); /* content_text of this block alone */

		(void)i;
		one = jv_array_append(one, jv_copy(block));
		content_text(one, text);
		if (jv_get_kind(block) == JV_KIND_OBJECT && cache_marked(block) && *n < nmax)
			marks[(*n)++] = text->len;
		jv_free(block);
	}
}

/*
 * Anthropic's prompt caching: the prefixes up to each block marked with
 * cache_control. *read gets the tokens of the longest marked prefix seen
 * before, *created those of the rest up to the last mark; every marked
 * prefix is remembered.
 */
static void
anthropic_cache(struct mock *m, const char *model, jv body, long prompt_tokens, long *read,
	long *created)
{
	struct buf text = BUF_INIT;
	size_t marks[16], n = 0, start = strlen(model) + 1;
	jv messages = jv_object_get(jv_copy(body), jv_string("messages"));
	jv system = jv_object_get(jv_copy(body), jv_string("system"));
	long last = 0;

	*read = *created = 0;
	buf_puts(&text, model);
	buf_putc(&text, '\n');
	if (jv_get_kind(system) == JV_KIND_STRING || jv_get_kind(system) == JV_KIND_ARRAY)
		cache_blocks(system, &text, marks, &n, 16);
	if (jv_get_kind(messages) == JV_KIND_ARRAY) {
		jv_array_foreach(messages, i, msg)
		{
			(void)i;
			buf_putc(&text, '\n');
			if (jv_get_kind(msg) == JV_KIND_OBJECT) {
				jv content = jv_object_get(jv_copy(msg), jv_string("content"));

				cache_blocks(content, &text, marks, &n, 16);
				jv_free(content);
			}
			jv_free(msg);
		}
	}
	for (size_t i = 0; i < n; i++) {
		long tokens = tokens_of(marks[i] - start);

		if (tokens > prompt_tokens)
			tokens = prompt_tokens;
		if (prefix_seen(m, fnv_more(FNV_OFFSET, text.data, marks[i])))
			*read = tokens;
		last = tokens;
	}
	*created = last > *read ? last - *read : 0;
	jv_free(messages);
	jv_free(system);
	buf_free(&text);
}

/* Whether the model is served (--model), answering the provider's 404 if not. */
static bool
check_model(struct call *c, const char *model)
{
	char message[400];

	if (c->m->cfg.nmodels == 0)
		return true;
	/* Gemini takes "models/NAME" for NAME too. */
	if (c->route.dialect == D_GEMINI && strncmp(model, "models/", 7) == 0)
		model += 7;
	for (size_t i = 0; i < c->m->cfg.nmodels; i++)
		if (strcmp(model, c->m->cfg.models[i]) == 0)
			return true;
	if (c->route.dialect == D_GEMINI) {
		snprintf(message, sizeof(message),
			"models/%.200s is not found for API version v1beta, or is not supported "
			"for "
			"generateContent. Call ListModels to see the list of available models and "
			"their supported methods.",
			model);
		send_error(c, 404, kind_by_name("model_not_found"), message);
		return false;
	}
	if (c->route.dialect == D_AZURE || c->route.dialect == D_BEDROCK) {
		send_error(c, 0, kind_by_name("model_not_found"), NULL);
		return false;
	}
	snprintf(message, sizeof(message),
		c->route.dialect == D_ANTHROPIC
			? "model: %.200s"
			: "The model `%.200s` does not exist or you do not have access to it.",
		model);
	send_error(c, 404, kind_by_name("model_not_found"), message);
	return false;
}

static bool
check_context(struct call *c, long prompt_tokens)
{
	char message[300];

	if (prompt_tokens <= c->m->cfg.context)
		return true;
	if (c->route.dialect == D_BEDROCK) {
		send_error(c, 400, kind_by_name("context_length"), NULL);
		return false;
	}
	if (c->route.dialect == D_GEMINI) {
		snprintf(message, sizeof(message),
			"The input token count (%ld) exceeds the maximum number of tokens allowed "
			"(%ld).",
			prompt_tokens, c->m->cfg.context);
		send_error(c, 400, kind_by_name("context_length"), message);
		return false;
	}
	snprintf(message, sizeof(message),
		c->route.dialect == D_ANTHROPIC
			? "prompt is too long: %ld tokens > %ld maximum"
			: "This model's maximum context length is %ld tokens. However, your "
			  "messages "
			  "resulted in %ld tokens. Please reduce the length of the messages.",
		c->route.dialect == D_ANTHROPIC ? prompt_tokens : c->m->cfg.context,
		c->route.dialect == D_ANTHROPIC ? c->m->cfg.context : prompt_tokens);
	send_error(c, 400, kind_by_name("context_length"), message);
	return false;
}

/* The reply, cut to max_tokens (-1: no cap); returns whether it was cut. */
static bool
cap_reply(struct buf *reply, long max_tokens)
{
	size_t max_bytes;

	if (max_tokens < 0 || tokens_of(reply->len) <= max_tokens)
		return false;
	max_bytes = (size_t)max_tokens * 4;
	reply->len = utf8_cut(reply->data, max_bytes < reply->len ? max_bytes : reply->len);
	return true;
}

/* What a chat answer holds besides its text. */
struct chat_usage {
	long prompt_tokens, completion_tokens;
	bool cut; /* the reply was cut to the output cap */
};

/*
 * The reply to the prompt p into reply (JSON when json), cut to max_tokens
 * (-1: no cap), once the model, the context, the rate limits (the prompt
 * and the cap, else the reply) and --fail-rate let it through. Returns
 * false when one of them answered instead.
 */
static bool
chat_reply(struct call *c, const char *model, const struct prompt *p, bool json, long max_tokens,
	struct buf *reply, struct chat_usage *u)
{
	u->prompt_tokens = tokens_of(p->bytes);
	make_reply(reply, p->hash, json, &p->last_user);
	u->cut = cap_reply(reply, max_tokens);
	u->completion_tokens = tokens_of(reply->len);
	return check_model(c, model) && check_context(c, u->prompt_tokens) &&
		check_limits(c,
			u->prompt_tokens + (max_tokens >= 0 ? max_tokens : u->completion_tokens)) &&
		check_failure(c);
}

static bool
wants_json(const struct call *c)
{
	jv format, type;
	bool json = false;

	if (jv_get_kind(c->body) != JV_KIND_OBJECT)
		return false;
	format = jv_object_get(jv_copy(c->body), jv_string("response_format"));
	if (jv_get_kind(format) == JV_KIND_OBJECT) {
		type = jv_object_get(jv_copy(format), jv_string("type"));
		json = jv_get_kind(type) == JV_KIND_STRING &&
			(strcmp(jv_string_value(type), "json_object") == 0 ||
				strcmp(jv_string_value(type), "json_schema") == 0);
		jv_free(type);
	}
	jv_free(format);
	return json;
}

static void
answer_chat(struct call *c)
{
	struct prompt p = { 0 };
	struct buf reply = BUF_INIT, *b = &c->resp->body;
	/* Azure's model is the deployment in the path; a "model" in the body is ignored. */
	const char *model =
		c->route.dialect == D_AZURE ? buf_cstr(&c->path_model) : body_string(c, "model");
	struct chat_usage u;
	long max_tokens, cached;

	if (jv_get_kind(c->body) != JV_KIND_OBJECT) {
		send_error(c, 400, kind_by_name("bad_request"),
			"We could not parse the JSON body of your request. (HINT: This likely "
			"means "
			"you aren't using your HTTP library correctly.)");
		return;
	}
	if (model == NULL) {
		send_error(c, 400, kind_by_name("bad_request"),
			"you must provide a model parameter");
		return;
	}
	if (!read_prompt(model, jv_object_get(jv_copy(c->body), jv_string("messages")), jv_null(),
		    &p)) {
		send_error(c, 400, kind_by_name("bad_request"),
			"'messages' must be a non-empty array");
		goto out;
	}
	max_tokens =
		(long)body_number(c, "max_completion_tokens", body_number(c, "max_tokens", -1));
	if (!chat_reply(c, model, &p, wants_json(c), max_tokens, &reply, &u))
		goto out;
	cached = openai_cached_tokens(c->m, &p, body_string(c, "prompt_cache_key"));
	c->resp->status = 200;
	buf_puts(b, "{\"id\":\"chatcmpl-mock");
	buf_add_uint(b, p.hash & 0xffffffffffULL);
	buf_puts(b, "\",\"object\":\"chat.completion\",\"created\":");
	add_int(b, CREATED);
	buf_puts(b, ",\"model\":");
	jw_cstring(b, model);
	buf_puts(b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
	jw_string(b, reply.data, reply.len);
	buf_puts(b, "},\"logprobs\":null,\"finish_reason\":");
	jw_cstring(b, u.cut ? "length" : "stop");
	buf_puts(b, "}],\"usage\":{\"prompt_tokens\":");
	add_int(b, u.prompt_tokens);
	buf_puts(b, ",\"completion_tokens\":");
	add_int(b, u.completion_tokens);
	buf_puts(b, ",\"total_tokens\":");
	add_int(b, u.prompt_tokens + u.completion_tokens);
	buf_puts(b, ",\"prompt_tokens_details\":{\"cached_tokens\":");
	add_int(b, cached);
	buf_puts(b, "},\"completion_tokens_details\":{\"reasoning_tokens\":0}");
	if (c->route.dialect == D_OPENROUTER) {
		/* gpt-4o-mini's prices, in credits (dollars). */
		buf_puts(b, ",\"cost\":");
		add_double(b,
			(double)u.prompt_tokens * 1.5e-7 + (double)u.completion_tokens * 6e-7);
	}
	buf_puts(b, "}");
	if (c->route.dialect == D_OPENROUTER)
		buf_puts(b, ",\"provider\":\"Mock\"");
	buf_puts(b, "}");
out:
	buf_free(&p.text);
	buf_free(&p.last_user);
	buf_free(&reply);
}

static void
answer_messages(struct call *c)
{
	struct prompt p = { 0 };
	struct buf reply = BUF_INIT, *b = &c->resp->body;
	const char *model = body_string(c, "model");
	struct chat_usage u;
	long max_tokens, cache_read, cache_created;
	bool json;

	if (!c->batch && request_header(c->req, "anthropic-version") == NULL) {
		send_error(c, 400, kind_by_name("bad_request"),
			"anthropic-version: header is required");
		return;
	}
	if (jv_get_kind(c->body) != JV_KIND_OBJECT) {
		send_error(c, 400, kind_by_name("bad_request"),
			"There was an error parsing the body.");
		return;
	}
	if (model == NULL || (max_tokens = (long)body_number(c, "max_tokens", -1)) < 0) {
		send_error(c, 400, kind_by_name("bad_request"),
			model == NULL ? "model: Field required" : "max_tokens: Field required");
		return;
	}
	if (!read_prompt(model, jv_object_get(jv_copy(c->body), jv_string("messages")),
		    jv_object_get(jv_copy(c->body), jv_string("system")), &p)) {
		send_error(c, 400, kind_by_name("bad_request"), "messages: Field required");
		goto out;
	}
	/* No response_format: a system prompt that asks for JSON gets JSON. */
	json = body_string(c, "system") != NULL && strcasestr(body_string(c, "system"), "json");
	if (!chat_reply(c, model, &p, json, max_tokens, &reply, &u))
		goto out;
	anthropic_cache(c->m, model, c->body, u.prompt_tokens, &cache_read, &cache_created);
	c->resp->status = 200;
	buf_puts(b, "{\"id\":\"msg_mock");
	buf_add_uint(b, p.hash & 0xffffffffffULL);
	buf_puts(b, "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
	jw_cstring(b, model);
	buf_puts(b, ",\"content\":[{\"type\":\"text\",\"text\":");
	jw_string(b, reply.data, reply.len);
	buf_puts(b, "}],\"stop_reason\":");
	jw_cstring(b, u.cut ? "max_tokens" : "end_turn");
	buf_puts(b, ",\"stop_sequence\":null,\"usage\":{\"input_tokens\":");
	add_int(b, u.prompt_tokens - cache_read - cache_created);
	buf_puts(b, ",\"output_tokens\":");
	add_int(b, u.completion_tokens);
	buf_puts(b, ",\"cache_creation_input_tokens\":");
	add_int(b, cache_created);
	buf_puts(b, ",\"cache_read_input_tokens\":");
	add_int(b, cache_read);
	buf_puts(b, "}}");
out:
	buf_free(&p.text);
	buf_free(&p.last_user);
	buf_free(&reply);
}

static void
answer_models(struct call *c)
{
	struct buf *b = &c->resp->body;
	size_t n = c->m->cfg.nmodels;
	bool anthropic = c->route.dialect == D_ANTHROPIC;

	if (!check_limits(c, 0) || !check_failure(c))
		return;
	c->resp->status = 200;
	if (c->route.dialect == D_AZURE) {
		/* Azure: the models of the resource, fewer members. */
		buf_puts(b, "{\"data\":[");
		for (size_t i = 0; i < (n > 0 ? n : 1); i++) {
			buf_puts(b, i ? ",{\"id\":" : "{\"id\":");
			jw_cstring(b, n > 0 ? c->m->cfg.models[i] : "mock-model");
			buf_puts(b, ",\"object\":\"model\"}");
		}
		buf_puts(b, "],\"object\":\"list\"}");
		return;
	}
	buf_puts(b, anthropic ? "{\"data\":[" : "{\"object\":\"list\",\"data\":[");
	for (size_t i = 0; i < (n > 0 ? n : 1); i++) {
		const char *id = n > 0 ? c->m->cfg.models[i] : "mock-model";

		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, anthropic ? "{\"type\":\"model\",\"id\":" : "{\"id\":");
		if (c->route.dialect == D_GEMINI && strncmp(id, "models/", 7) != 0) {
			/* Google names its models "models/NAME". */
			struct buf name = BUF_INIT;

			buf_puts(&name, "models/");
			buf_puts(&name, id);
			jw_string(b, name.data, name.len);
			buf_free(&name);
		} else {
			jw_cstring(b, id);
		}
		if (anthropic) {
			buf_puts(b,
				",\"display_name\":\"Mock\",\"created_at\":\"2026-01-01T00:00:"
				"00Z\"}");
			continue;
		}
		buf_puts(b, ",\"object\":\"model\",\"created\":");
		add_int(b, CREATED);
		buf_puts(b,
			c->route.dialect == D_GEMINI ? ",\"owned_by\":\"google\"}"
						     : ",\"owned_by\":\"mock\"}");
	}
	buf_puts(b, anthropic ? "],\"has_more\":false}" : "]}");
}

/* A member of an object that is an object (Bedrock's inferenceConfig), or jv_null. */
static jv
body_object(const struct call *c, const char *name)
{
	jv v;

	if (jv_get_kind(c->body) != JV_KIND_OBJECT)
		return jv_null();
	v = jv_object_get(jv_copy(c->body), jv_string(name));
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return v;
	jv_free(v);
	return jv_null();
}

/* Bedrock's Converse: messages of content blocks, system blocks, inferenceConfig. */
static void
answer_converse(struct call *c)
{
	struct prompt p = { 0 };
	struct buf reply = BUF_INIT, system = BUF_INIT, *b = &c->resp->body;
	const char *model = buf_cstr(&c->path_model);
	jv config = body_object(c, "inferenceConfig"), max;
	struct chat_usage u;
	long max_tokens = -1;
	bool json;

	if (jv_get_kind(c->body) != JV_KIND_OBJECT) {
		jv_free(config);
		send_error(c, 400, kind_by_name("bad_request"), NULL);
		return;
	}
	max = jv_get_kind(config) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(config), jv_string("maxTokens"))
		: jv_invalid();
	if (jv_get_kind(max) == JV_KIND_NUMBER)
		max_tokens = (long)jv_number_value(max);
	jv_free(max);
	jv_free(config);
	content_text(jv_object_get(jv_copy(c->body), jv_string("system")), &system);
	if (!read_prompt(model, jv_object_get(jv_copy(c->body), jv_string("messages")),
		    jv_object_get(jv_copy(c->body), jv_string("system")), &p)) {
		send_error(c, 400, kind_by_name("bad_request"),
			"1 validation error detected: Value at 'messages' failed to satisfy "
			"constraint: Member must not be null");
		goto out;
	}
	/* As for Anthropic: a system prompt that asks for JSON gets JSON. */
	json = strcasestr(buf_cstr(&system), "json") != NULL;
	if (!chat_reply(c, model, &p, json, max_tokens, &reply, &u))
		goto out;
	c->resp->status = 200;
	buf_puts(b, "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":");
	jw_string(b, reply.data, reply.len);
	buf_puts(b, "}]}},\"stopReason\":");
	jw_cstring(b, u.cut ? "max_tokens" : "end_turn");
	buf_puts(b, ",\"usage\":{\"inputTokens\":");
	add_int(b, u.prompt_tokens);
	buf_puts(b, ",\"outputTokens\":");
	add_int(b, u.completion_tokens);
	buf_puts(b, ",\"totalTokens\":");
	add_int(b, u.prompt_tokens + u.completion_tokens);
	buf_puts(b, "},\"metrics\":{\"latencyMs\":");
	add_int(b, c->resp->delay_ms);
	buf_puts(b, "}}");
out:
	buf_free(&p.text);
	buf_free(&p.last_user);
	buf_free(&reply);
	buf_free(&system);
}

/* --- search answers ------------------------------------------------------------ */

/* A search as the mock answers it: n results derived from the query. */
struct search {
	const char *query;
	unsigned long long hash;
	long n;
};

/* "GPU Cluster Vendors" → "gpu-cluster-vendors", at most 40 characters. */
static void
slug(struct buf *b, const char *query)
{
	size_t start = b->len;
	bool dash = false;

	for (const char *q = query; *q != '\0' && b->len - start < 40; q++) {
		char ch = *q;

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
			if (dash && b->len > start)
				buf_putc(b, '-');
			buf_putc(b, ch);
			dash = false;
		} else if (ch >= 'A' && ch <= 'Z') {
			if (dash && b->len > start)
				buf_putc(b, '-');
			buf_putc(b, (char)(ch - 'A' + 'a'));
			dash = false;
		} else {
			dash = true;
		}
	}
	if (b->len == start)
		buf_puts(b, "result");
}

static void
result_title(struct buf *b, const struct search *s, long i)
{
	struct buf t = BUF_INIT;
	char tail[48];

	utf8_sanitize(&t, s->query,
		strlen(s->query) > 80 ? utf8_cut(s->query, 80) : strlen(s->query));
	snprintf(tail, sizeof(tail), " - mock result %ld", i + 1);
	buf_puts(&t, tail);
	jw_string(b, t.data, t.len);
	buf_free(&t);
}

static void
result_url(struct buf *b, const struct search *s, long i)
{
	struct buf u = BUF_INIT;
	char host[64];

	snprintf(host, sizeof(host), "https://site%04llx.example.com/",
		(s->hash >> (i % 48)) & 0xffff);
	buf_puts(&u, host);
	slug(&u, s->query);
	snprintf(host, sizeof(host), "/%ld", i + 1);
	buf_puts(&u, host);
	jw_string(b, u.data, u.len);
	buf_free(&u);
}

/* A snippet that mentions the query; long=true gives a page's worth. */
static void
result_text(struct buf *b, const struct search *s, long i, bool longer)
{
	struct buf t = BUF_INIT;
	char head[64];
	int sentences = longer ? 6 : 1;

	for (int k = 0; k < sentences; k++) {
		snprintf(head, sizeof(head), "%sMock page %ld (%04llx) about ", k ? " " : "", i + 1,
			(s->hash >> ((i + k) % 48)) & 0xffff);
		buf_puts(&t, head);
		utf8_sanitize(&t, s->query, strlen(s->query));
		buf_puts(&t, ": the company builds GPU clusters for training and inference.");
	}
	jw_string(b, t.data, t.len);
	buf_free(&t);
}

/* Relevance in 0..1, descending with i, spread over the range. */
static double
result_score(const struct search *s, long i)
{
	double step = s->n > 1 ? 0.96 / (double)(s->n - 1) : 0;
	double jitter = (double)((s->hash >> (i % 56)) & 0xff) / 255.0 * 0.004;

	return 0.98 - step * (double)i + jitter;
}

static void
published(struct buf *b, long i, bool iso)
{
	char d[40];

	snprintf(d, sizeof(d), iso ? "2026-11-%02ldT00:00:00.000Z" : "2026-11-%02ld", 20 - i % 19);
	jw_cstring(b, d);
}

/* Read a result count: absent → dflt; out of [min, max] → a 400 in the dialect. */
static bool
result_count(struct call *c, double v, long min, long max, long *n, const char *name)
{
	char message[96];

	if (v < (double)min || v > (double)max || v != floor(v)) {
		snprintf(message, sizeof(message), "%s must be between %ld and %ld", name, min,
			max);
		send_error(c, c->route.dialect == D_BRAVE ? 422 : 400, kind_by_name("bad_request"),
			message);
		return false;
	}
	*n = (long)v;
	return true;
}

/* The query is required and, as Tavily and Brave check, at most 400 characters. */
/* Characters of UTF-8 text, as the services count a query's length. */
static size_t
count_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static bool
check_query(struct call *c, const char *q)
{
	if (q == NULL || *q == '\0') {
		send_error(c, c->route.dialect == D_BRAVE ? 422 : 400, kind_by_name("bad_request"),
			c->route.dialect == D_TAVILY ? "Query is missing." : "query is required");
		return false;
	}
	if ((c->route.dialect == D_TAVILY || c->route.dialect == D_BRAVE) && count_chars(q) > 400) {
		send_error(c, c->route.dialect == D_BRAVE ? 422 : 400, kind_by_name("bad_request"),
			"Query is too long. Max query length is 400 characters.");
		return false;
	}
	return true;
}

static void
answer_tavily(struct call *c)
{
	struct search s = { body_string(c, "query"), 0, 5 };
	struct buf *b = &c->resp->body;
	const char *depth = body_string(c, "search_depth"), *topic = body_string(c, "topic");
	bool answer = body_flag(c, "include_answer"), raw = body_flag(c, "include_raw_content");
	bool news = topic != NULL && strcmp(topic, "news") == 0;

	if (!check_query(c, s.query) ||
		!result_count(c, body_number(c, "max_results", 5), 0, 20, &s.n, "max_results") ||
		!check_limits(c, 0) || !check_failure(c))
		return;
	s.hash = hash_fnv1a(s.query, strlen(s.query));
	c->resp->status = 200;
	buf_puts(b, "{\"query\":");
	jw_cstring(b, s.query);
	buf_puts(b, ",\"follow_up_questions\":null,\"answer\":");
	if (answer) {
		struct buf a = BUF_INIT;

		buf_puts(&a, "Mock answer: ");
		utf8_sanitize(&a, s.query, strlen(s.query));
		buf_puts(&a, " is covered by the mock results below.");
		jw_string(b, a.data, a.len);
		buf_free(&a);
	} else {
		buf_puts(b, "null");
	}
	buf_puts(b, ",\"images\":[],\"results\":[");
	for (long i = 0; i < s.n; i++) {
		buf_puts(b, i ? ",{\"title\":" : "{\"title\":");
		result_title(b, &s, i);
		buf_puts(b, ",\"url\":");
		result_url(b, &s, i);
		buf_puts(b, ",\"content\":");
		result_text(b, &s, i, false);
		buf_puts(b, ",\"score\":");
		add_double(b, result_score(&s, i));
		buf_puts(b, ",\"raw_content\":");
		if (raw)
			result_text(b, &s, i, true);
		else
			buf_puts(b, "null");
		if (news) {
			buf_puts(b, ",\"published_date\":");
			published(b, i, false);
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"response_time\":0.01");
	if (body_flag(c, "include_usage")) {
		buf_puts(b, ",\"usage\":{\"credits\":");
		add_int(b, depth != NULL && strcmp(depth, "advanced") == 0 ? 2 : 1);
		buf_putc(b, '}');
	}
	buf_puts(b, ",\"request_id\":\"mock-");
	buf_add_uint(b, c->info->n);
	buf_puts(b, "\"}");
}

static void
answer_tavily_extract(struct call *c)
{
	struct buf *b = &c->resp->body, failed = BUF_INIT;
	jv urls = jv_get_kind(c->body) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(c->body), jv_string("urls"))
		: jv_invalid();
	const char *depth = body_string(c, "extract_depth");
	long ok = 0, nfailed = 0;

	if (jv_get_kind(urls) == JV_KIND_STRING)
		urls = jv_array_append(jv_array(), urls);
	if (jv_get_kind(urls) != JV_KIND_ARRAY || jv_array_length(jv_copy(urls)) == 0 ||
		jv_array_length(jv_copy(urls)) > 20) {
		jv_free(urls);
		send_error(c, 400, kind_by_name("bad_request"), "urls must hold 1 to 20 URLs");
		return;
	}
	if (!check_limits(c, 0) || !check_failure(c)) {
		jv_free(urls);
		return;
	}
	c->resp->status = 200;
	buf_puts(b, "{\"results\":[");
	jv_array_foreach(urls, i, url)
	{
		const char *u = jv_get_kind(url) == JV_KIND_STRING ? jv_string_value(url) : "";
		struct search s = { u, hash_fnv1a(u, strlen(u)), 1 };
		struct buf *to = strstr(u, "fail") != NULL ? &failed : b;

		(void)i;
		if (to == &failed) {
			buf_puts(to, nfailed++ ? ",{\"url\":" : "{\"url\":");
			jw_cstring(to, u);
			buf_puts(to, ",\"error\":\"Failed to fetch url\"}");
		} else {
			buf_puts(to, ok++ ? ",{\"url\":" : "{\"url\":");
			jw_cstring(to, u);
			buf_puts(to, ",\"raw_content\":");
			result_text(to, &s, 0, true);
			buf_puts(to, ",\"images\":[]}");
		}
		jv_free(url);
	}
	jv_free(urls);
	buf_puts(b, "],\"failed_results\":[");
	buf_add(b, failed.data, failed.len);
	buf_puts(b, "],\"response_time\":0.02");
	if (body_flag(c, "include_usage")) {
		buf_puts(b, ",\"usage\":{\"credits\":");
		add_int(b,
			(ok + 4) / 5 * (depth != NULL && strcmp(depth, "advanced") == 0 ? 2 : 1));
		buf_putc(b, '}');
	}
	buf_puts(b, ",\"request_id\":\"mock-");
	buf_add_uint(b, c->info->n);
	buf_puts(b, "\"}");
	buf_free(&failed);
}

/* Tavily's GET /usage: the key's and the plan's credits (free, for the key check). */
static void
answer_tavily_usage(struct call *c)
{
	struct buf *b = &c->resp->body;

	if (!check_limits(c, 0) || !check_failure(c))
		return;
	c->resp->status = 200;
	buf_puts(b, "{\"key\":{\"usage\":");
	add_int(b, (long long)c->m->stats.requests);
	buf_puts(b, ",\"limit\":null},\"account\":{\"current_plan\":\"Mock\",\"plan_usage\":");
	add_int(b, (long long)c->m->stats.requests);
	buf_puts(b, ",\"plan_limit\":null}}");
}

static void
answer_brave(struct call *c, struct buf *scratch)
{
	const char *count = query_param(c->req, "count", scratch);
	double want = count != NULL ? strtod(count, NULL) : 10;
	struct buf *b = &c->resp->body;
	struct search s = { query_param(c->req, "q", scratch), 0, 10 };

	/* scratch holds q from here on: read count first. */
	if (!check_query(c, s.query) || !result_count(c, want, 1, 20, &s.n, "count") ||
		!check_limits(c, 0) || !check_failure(c))
		return;
	s.hash = hash_fnv1a(s.query, strlen(s.query));
	c->resp->status = 200;
	if (!c->m->cfg.no_hints)
		header_line(c->resp, "X-RateLimit-Limit", "1, 15000");
	buf_puts(b, "{\"type\":\"search\",\"query\":{\"original\":");
	jw_cstring(b, s.query);
	buf_puts(b,
		",\"more_results_available\":false},\"web\":{\"type\":\"search\","
		"\"family_friendly\":true,\"results\":[");
	for (long i = 0; i < s.n; i++) {
		buf_puts(b,
			i ? ",{\"type\":\"search_result\",\"title\":"
			  : "{\"type\":\"search_result\",\"title\":");
		result_title(b, &s, i);
		buf_puts(b, ",\"url\":");
		result_url(b, &s, i);
		buf_puts(b, ",\"description\":");
		result_text(b, &s, i, false);
		buf_puts(b, ",\"age\":\"November 20, 2026\",\"page_age\":");
		published(b, i, true);
		buf_puts(b, ",\"extra_snippets\":[");
		result_text(b, &s, i + 1, false);
		buf_puts(b, "]}");
	}
	buf_puts(b, "]}}");
}

static void
answer_serper(struct call *c)
{
	struct search s = { body_string(c, "q"), 0, 10 };
	struct buf *b = &c->resp->body;

	if (!check_query(c, s.query) ||
		!result_count(c, body_number(c, "num", 10), 1, 100, &s.n, "num") ||
		!check_limits(c, 0) || !check_failure(c))
		return;
	s.hash = hash_fnv1a(s.query, strlen(s.query));
	c->resp->status = 200;
	buf_puts(b, "{\"searchParameters\":{\"q\":");
	jw_cstring(b, s.query);
	buf_puts(b, ",\"type\":\"search\",\"num\":");
	add_int(b, s.n);
	buf_puts(b, ",\"engine\":\"google\"},\"organic\":[");
	for (long i = 0; i < s.n; i++) {
		buf_puts(b, i ? ",{\"title\":" : "{\"title\":");
		result_title(b, &s, i);
		buf_puts(b, ",\"link\":");
		result_url(b, &s, i);
		buf_puts(b, ",\"snippet\":");
		result_text(b, &s, i, false);
		buf_puts(b, ",\"position\":");
		add_int(b, i + 1);
		buf_puts(b, ",\"date\":\"Nov 20, 2026\"}");
	}
	buf_puts(b, "],\"credits\":1}");
}

static void
answer_searxng(struct call *c, struct buf *scratch)
{
	const char *format = query_param(c->req, "format", scratch);
	bool json = format != NULL && strcmp(format, "json") == 0;
	struct search s = { query_param(c->req, "q", scratch), 0, 10 };
	struct buf *b = &c->resp->body;

	if (!json) {
		send_error(c, 403, NULL, "Forbidden");
		return;
	}
	if (!check_query(c, s.query) || !check_limits(c, 0) || !check_failure(c))
		return;
	s.hash = hash_fnv1a(s.query, strlen(s.query));
	c->resp->status = 200;
	buf_puts(b, "{\"query\":");
	jw_cstring(b, s.query);
	buf_puts(b, ",\"number_of_results\":");
	add_int(b, s.n);
	buf_puts(b, ",\"results\":[");
	for (long i = 0; i < s.n; i++) {
		buf_puts(b, i ? ",{\"url\":" : "{\"url\":");
		result_url(b, &s, i);
		buf_puts(b, ",\"title\":");
		result_title(b, &s, i);
		buf_puts(b, ",\"content\":");
		result_text(b, &s, i, false);
		buf_puts(b, ",\"engine\":\"mock\",\"engines\":[\"mock\"],\"score\":");
		add_double(b, 3.0 - 0.25 * (double)i);
		buf_puts(b, ",\"category\":\"general\",\"publishedDate\":null}");
	}
	buf_puts(b, "],\"answers\":[],\"suggestions\":[],\"unresponsive_engines\":[]}");
}

static void
answer_exa(struct call *c)
{
	struct search s = { body_string(c, "query"), 0, 10 };
	struct buf *b = &c->resp->body;
	jv contents = jv_get_kind(c->body) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(c->body), jv_string("contents"))
		: jv_invalid();
	bool text = false, highlights = false, summary = false;

	if (jv_get_kind(contents) == JV_KIND_OBJECT) {
		jv v;

		v = jv_object_get(jv_copy(contents), jv_string("text"));
		text = jv_get_kind(v) != JV_KIND_NULL && jv_get_kind(v) != JV_KIND_INVALID &&
			jv_get_kind(v) != JV_KIND_FALSE;
		jv_free(v);
		v = jv_object_get(jv_copy(contents), jv_string("highlights"));
		highlights = jv_get_kind(v) != JV_KIND_NULL && jv_get_kind(v) != JV_KIND_INVALID &&
			jv_get_kind(v) != JV_KIND_FALSE;
		jv_free(v);
		v = jv_object_get(jv_copy(contents), jv_string("summary"));
		summary = jv_get_kind(v) != JV_KIND_NULL && jv_get_kind(v) != JV_KIND_INVALID &&
			jv_get_kind(v) != JV_KIND_FALSE;
		jv_free(v);
	}
	jv_free(contents);
	if (!check_query(c, s.query) ||
		!result_count(c, body_number(c, "numResults", 10), 1, 100, &s.n, "numResults") ||
		!check_limits(c, 0) || !check_failure(c))
		return;
	s.hash = hash_fnv1a(s.query, strlen(s.query));
	c->resp->status = 200;
	buf_puts(b, "{\"requestId\":\"mock-");
	buf_add_uint(b, c->info->n);
	buf_puts(b, "\",\"resolvedSearchType\":\"neural\",\"results\":[");
	for (long i = 0; i < s.n; i++) {
		buf_puts(b, i ? ",{\"id\":" : "{\"id\":");
		result_url(b, &s, i);
		buf_puts(b, ",\"url\":");
		result_url(b, &s, i);
		buf_puts(b, ",\"title\":");
		result_title(b, &s, i);
		buf_puts(b, ",\"score\":");
		add_double(b, result_score(&s, i));
		buf_puts(b, ",\"publishedDate\":");
		published(b, i, true);
		buf_puts(b, ",\"author\":null");
		if (text) {
			buf_puts(b, ",\"text\":");
			result_text(b, &s, i, true);
		}
		if (highlights) {
			buf_puts(b, ",\"highlights\":[");
			result_text(b, &s, i, false);
			buf_putc(b, ']');
		}
		if (summary) {
			buf_puts(b, ",\"summary\":");
			result_text(b, &s, i, false);
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"costDollars\":{\"total\":0.005}}");
}

/* --- the mock's own route ----------------------------------------------------- */

static void
answer_stats(struct mock *m, struct response *resp)
{
	struct buf *b = &resp->body;
	bool first = true;

	resp->status = 200;
	buf_puts(b, "{\"requests\":");
	buf_add_uint(b, m->stats.requests);
	buf_puts(b, ",\"in_flight\":");
	add_int(b, m->stats.in_flight);
	buf_puts(b, ",\"by_status\":{");
	for (int s = 0; s < 600; s++) {
		char code[8];

		if (m->stats.by_status[s] == 0)
			continue;
		snprintf(code, sizeof(code), "%d", s);
		if (!first)
			buf_putc(b, ',');
		first = false;
		key(b, code);
		buf_add_uint(b, m->stats.by_status[s]);
	}
	buf_puts(b, "},\"rate_limited\":");
	buf_add_uint(b, m->stats.rate_limited);
	buf_puts(b, ",\"connections\":");
	add_int(b, m->stats.connections);
	buf_puts(b, "}");
}

/* --- putting it together ------------------------------------------------------- */

/*
 * The model a path names, %-decoded into c->path_model and the log:
 * Azure's deployment, Bedrock's model id.
 */
static void
read_path_model(struct call *c)
{
	const char *path = c->req->path, *start, *end;

	if (c->route.kind == R_CHAT && c->route.dialect == D_AZURE) {
		start = strstr(path, "/openai/deployments/") + strlen("/openai/deployments/");
		end = strchr(start, '/');
	} else if (c->route.kind == R_CONVERSE) {
		start = strstr(path, "/model/") + strlen("/model/");
		end = path + strlen(path) - strlen("/converse");
	} else {
		return;
	}
	for (const char *q = start; q < end; q++) {
		if (*q == '%' && q + 2 < end && hex_digit(q[1]) >= 0 && hex_digit(q[2]) >= 0) {
			buf_putc(&c->path_model, (char)(hex_digit(q[1]) * 16 + hex_digit(q[2])));
			q += 2;
		} else {
			buf_putc(&c->path_model, *q);
		}
	}
	snprintf(c->info->model, sizeof(c->info->model), "%s", buf_cstr(&c->path_model));
}

/* Azure wants ?api-version=V on every route (read by answer_request); without it, 404. */
static bool
check_api_version(struct call *c)
{
	if (c->api_version.len > 0)
		return true;
	send_error(c, 404, NULL, "Resource not found");
	return false;
}

static long
latency(struct mock *m)
{
	double u;

	if (m->cfg.latency_max <= m->cfg.latency_min)
		return m->cfg.latency_min;
	u = mock_random(m);
	if (m->cfg.latency_tail)
		u = u * u * u * u; /* most answers near the minimum, a few near the maximum */
	return m->cfg.latency_min + (long)((double)(m->cfg.latency_max - m->cfg.latency_min) * u);
}

/*
 * A scenario rule decides the answer, or only adds faults. Returns true
 * when the answer is complete.
 */
static bool
apply_scenario(struct call *c, const struct rule *r)
{
	const char *error_kind;
	bool has_body, garbage;
	bool fixed = scenario_apply(r, c->resp, &error_kind, &has_body, &garbage);

	c->info->auth = presented_key(c) != NULL;
	if (has_body) {
		if (!fixed)
			c->resp->status = error_kind ? kind_by_name(error_kind)->status : 200;
		return true;
	}
	if (error_kind != NULL) {
		send_error(c, fixed ? c->resp->status : 0, kind_by_name(error_kind), NULL);
		return true;
	}
	if (garbage) {
		if (!fixed)
			c->resp->status = 200;
		buf_puts(&c->resp->body, "{\"id\":\"chatcmpl-garbage\",\"choices\":[{\"message\":");
		return true;
	}
	if (fixed && c->resp->status != 200) {
		send_error(c, c->resp->status, kind_by_status(c->resp->status), NULL);
		return true;
	}
	return false;
}

int
mock_chat(struct mock *m, const struct request *req, bool anthropic, jv body, struct buf *out)
{
	struct response resp = { 0 };
	struct request_info info = { 0 };
	struct call c = { .m = m,
		.req = req,
		.resp = &resp,
		.info = &info,
		.route = anthropic ? (struct route){ R_MESSAGES, D_ANTHROPIC, "messages", "POST" }
				   : (struct route){ R_CHAT, D_OPENAI, "chat", "POST" },
		.key = "",
		.body = body,
		.batch = true };

	if (anthropic)
		answer_messages(&c);
	else
		answer_chat(&c);
	buf_add(out, resp.body.data, resp.body.len);
	buf_free(&resp.body);
	buf_free(&resp.headers);
	return resp.status;
}

/* A batch route: the auth is checked; batch.c answers, or says why not. */
static void
answer_batch(struct call *c)
{
	char message[300] = "";
	const struct error_kind *kind;
	int status;

	if (c->route.dialect == D_ANTHROPIC &&
		request_header(c->req, "anthropic-version") == NULL) {
		send_error(c, 400, kind_by_name("bad_request"),
			"anthropic-version: header is required");
		return;
	}
	if (!check_limits(c, 0) || !check_failure(c))
		return;
	status = batch_answer(c->m, (int)c->route.kind - R_FILES, c->req, c->body, c->now_ms,
		c->resp, message, sizeof(message));
	if (status >= 200 && status < 300) {
		c->resp->status = status;
		return;
	}
	buf_reset(&c->resp->body);
	if (status == 400)
		kind = kind_by_name("bad_request");
	else if (status == 404) /* OpenAI's 404 has no code; Anthropic's is not_found_error */
		kind = c->route.dialect == D_ANTHROPIC ? kind_by_name("model_not_found") : NULL;
	else
		kind = kind_by_status(status);
	send_error(c, status, kind, message);
}

void
answer_request(struct mock *m, const struct request *req, double now_ms, struct response *resp,
	struct request_info *info)
{
	struct buf scratch = BUF_INIT;
	struct call c = { .m = m,
		.req = req,
		.resp = resp,
		.info = info,
		.route = find_route(req->path, req->method),
		.now_ms = now_ms,
		.key = "",
		.body = jv_invalid() };
	const char *model;
	const struct rule *rule;

	/* Anthropic lists its models at /v1/models too, with its own headers and shape. */
	if (c.route.kind == R_MODELS && c.route.dialect != D_GEMINI && c.route.dialect != D_AZURE &&
		request_header(req, "anthropic-version") != NULL)
		c.route.dialect = D_ANTHROPIC;
	info->route = c.route.name;
	if (c.route.kind == R_STATS) {
		answer_stats(m, resp);
		return;
	}
	info->counted = true;
	info->n = ++m->next_n;
	m->stats.requests++;
	if (req->body_len > 0 && req->body_len <= 0x7fffffff)
		c.body = jv_parse_sized(req->body, (int)req->body_len);
	if ((model = body_string(&c, "model")) != NULL)
		snprintf(info->model, sizeof(info->model), "%s", model);
	read_path_model(&c);
	if (c.route.dialect == D_AZURE && query_param(req, "api-version", &c.api_version) == NULL)
		buf_reset(&c.api_version);
	resp->delay_ms = latency(m);
	rule = m->scenario != NULL ? scenario_match(m->scenario, req->path) : NULL;
	if (rule != NULL && apply_scenario(&c, rule))
		goto done;
	if (c.route.kind == R_NONE) {
		char message[300];

		snprintf(message, sizeof(message), "Unknown request URL: %s %.200s", req->method,
			req->path);
		send_error(&c, 404, NULL,
			c.route.dialect == D_AZURE ? "Resource not found" : message);
		goto done;
	}
	if (strcmp(req->method, c.route.method) != 0) {
		send_error(&c, 405, NULL, "Method not allowed");
		goto done;
	}
	if (c.route.dialect == D_AZURE && !check_api_version(&c))
		goto done;
	if (!check_auth(&c))
		goto done;
	switch (c.route.kind) {
	case R_CHAT:
		answer_chat(&c);
		break;
	case R_MODELS:
		answer_models(&c);
		break;
	case R_MESSAGES:
		answer_messages(&c);
		break;
	case R_TAVILY_SEARCH:
		answer_tavily(&c);
		break;
	case R_TAVILY_EXTRACT:
		answer_tavily_extract(&c);
		break;
	case R_TAVILY_USAGE:
		answer_tavily_usage(&c);
		break;
	case R_BRAVE:
		answer_brave(&c, &scratch);
		break;
	case R_SERPER:
		answer_serper(&c);
		break;
	case R_SEARXNG:
		answer_searxng(&c, &scratch);
		break;
	case R_EXA:
		answer_exa(&c);
		break;
	case R_CONVERSE:
		answer_converse(&c);
		break;
	case R_FILES:
	case R_FILE:
	case R_FILE_CONTENT:
	case R_BATCHES:
	case R_BATCHES_LIST:
	case R_BATCH:
	case R_BATCH_CANCEL:
	case R_MSG_BATCHES:
	case R_MSG_BATCHES_LIST:
	case R_MSG_BATCH:
	case R_MSG_BATCH_RESULTS:
	case R_MSG_BATCH_CANCEL:
		answer_batch(&c);
		break;
	default:
		break;
	}
done:
	if (c.route.dialect == D_BEDROCK) {
		char id[64];

		snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012lx", info->n);
		header_line(resp, "x-amzn-RequestId", id);
	}
	if (resp->status == 429)
		m->stats.rate_limited++;
	jv_free(c.body);
	buf_free(&scratch);
	buf_free(&c.path_model);
	buf_free(&c.api_version);
}
