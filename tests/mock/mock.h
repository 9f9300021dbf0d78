/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mockd, the mock of the LLM and search APIs (tests/mock/README): what its
 * parts share. main.c runs the event loop and the connections, http.c
 * parses requests, routes.c answers them as each provider would, limiter.c
 * keeps the rate limits, scenario.c the scripted answers and sigv4.c checks
 * AWS signatures.
 */
#ifndef JL_MOCK_H
#define JL_MOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jv.h>

#include "buf.h"

#define MOCK_MAX_HEADERS 64

/* --- requests (http.c) --------------------------------------------------- */

struct header {
	const char *name; /* as sent; compare without case */
	size_t name_len;
	const char *value; /* without surrounding spaces */
	size_t value_len;
};

struct request {
	char method[16];
	char *path;  /* NUL-terminated, without the query */
	char *query; /* after '?', NUL-terminated; "" when none */
	struct header headers[MOCK_MAX_HEADERS];
	int nheaders;
	char *body; /* body_len bytes, NUL-terminated (chunked bodies decoded) */
	size_t body_len;
	bool keep_alive;
};

enum parse_status {
	PARSE_MORE = 0,     /* need more bytes */
	PARSE_DONE = 1,     /* *req is complete; *used bytes of the input were consumed */
	PARSE_BAD = -1,     /* malformed: answer 400 and close */
	PARSE_TOO_BIG = -2, /* headers or body over the limits: answer 413 and close */
};

/*
 * Parse one request from in[0..len). The request's strings point into
 * scratch, which the function fills (and which must outlive *req). Sets
 * *expect_continue when the headers are complete, the body is not, and the
 * client asked for "100 Continue".
 */
enum parse_status http_parse(const char *in, size_t len, struct request *req, struct buf *scratch,
	size_t *used, bool *expect_continue);

/* The value of the header called name (any case), NUL-terminated, or NULL. */
const char *request_header(const struct request *req, const char *name);

/* The value of the query parameter name, %-decoded into out, or NULL. */
const char *query_param(const struct request *req, const char *name, struct buf *out);

/* The reason phrase of an HTTP status. */
const char *http_reason(int status);

/* --- answers (routes.c) --------------------------------------------------- */

enum fault {
	FAULT_NONE,
	FAULT_STALL,               /* never answer */
	FAULT_RESET,               /* close with a TCP reset */
	FAULT_CLOSE_AFTER_HEADERS, /* the headers, then close */
	FAULT_TRUNCATE,            /* the headers, truncate_at bytes of the body, close */
	FAULT_DRIP,                /* drip_bps bytes per second */
};

struct response {
	int status;
	struct buf headers; /* extra header lines, each "Name: value\r\n" */
	struct buf body;
	const char *content_type;
	long delay_ms;
	enum fault fault;
	size_t truncate_at;
	long drip_bps;
	const char *fault_name; /* for the log, or NULL */
};

/* What the log says of a request, filled while it is answered. */
struct request_info {
	const char *route;
	bool auth;       /* an auth header was present */
	int key;         /* 1-based index of the --key it matched; 0 none */
	char model[128]; /* the request's model, if any */
	bool counted;    /* an API request (not /_stats): numbered and logged */
	unsigned long n; /* its number */
};

/* An AWS access key (--aws-key ID:SECRET). */
struct aws_key {
	char *id;
	char *secret; /* never logged nor echoed */
};

struct mock_config {
	char **keys;
	size_t nkeys;
	char **models;
	size_t nmodels;
	struct aws_key *aws_keys;
	size_t naws_keys;
	const char *aws_token; /* the session token the AWS keys need, or NULL */
	long context;
	long rpm, tpm, burst, rpd;
	bool no_hints; /* no rate-limit headers, no retry-after, no "try again in" */
	long latency_min, latency_max;
	bool latency_tail;
	double fail_rate;
	unsigned long long seed;
	double batch_time;      /* seconds from a batch's creation to its end */
	double batch_fail_rate; /* items of a batch that fail, with this probability */
	bool batch_expire;      /* batches expire with half of their items done */
	const char *scenario_path;
	const char *log_path;
	long lifetime;
	const char *port_file;
	int port;
	bool quiet;
};

struct stats {
	unsigned long long requests;
	unsigned long long by_status[600];
	unsigned long long rate_limited;
	long in_flight;
	long connections;
};

struct scenario;
struct limiter;
struct batch_store;

/* The state every answer may read or change. */
struct mock {
	struct mock_config cfg;
	struct scenario *scenario;
	struct limiter *limiter;
	struct stats stats;
	uint64_t rng;
	unsigned long next_n;
	struct batch_store *batches; /* files and batches (batch.c) */
	uint64_t *prefixes;          /* prompt caching: hashes of the prefixes seen, or NULL */
};

/*
 * Decide the answer to req at now_ms (since start): routing, scenario,
 * auth, rate limits, failures, and the provider's body. resp must be
 * empty; info is filled for the log.
 */
void answer_request(struct mock *m, const struct request *req, double now_ms, struct response *resp,
	struct request_info *info);

/* A random number in [0, 1) from the mock's seeded generator. */
double mock_random(struct mock *m);

/*
 * The synchronous answer to one chat request body (borrowed): OpenAI's
 * chat completion, or with anthropic a Messages answer, without limits or
 * failures; its body appended to out. Returns its HTTP status.
 */
int mock_chat(struct mock *m, const struct request *req, bool anthropic, jv body, struct buf *out);

/* --- batches (batch.c) ------------------------------------------------------ */

/* The batch routes, in the order of routes.c's route kinds from R_FILES. */
enum batch_route {
	B_FILES,
	B_FILE,
	B_FILE_CONTENT,
	B_BATCHES,
	B_BATCHES_LIST,
	B_BATCH,
	B_BATCH_CANCEL,
	B_MSG_BATCHES,
	B_MSG_BATCHES_LIST,
	B_MSG_BATCH,
	B_MSG_BATCH_RESULTS,
	B_MSG_BATCH_CANCEL,
};

/* Free the files and batches (NULL: nothing). */
void batch_store_free(struct batch_store *st);

/*
 * Answer a batch route (auth already checked) at now_ms: fills resp's body
 * (and content type) and returns a 2xx status, or returns the error status
 * with its message in message[0..size).
 */
int batch_answer(struct mock *m, int route, const struct request *req, jv body, double now_ms,
	struct response *resp, char *message, size_t size);

/* --- rate limits (limiter.c) ---------------------------------------------- */

enum limit_result { LIMIT_OK, LIMIT_REQUESTS, LIMIT_TOKENS, LIMIT_DAY, LIMIT_TOO_LARGE };

struct limit_state {
	long limit_requests, remaining_requests; /* limit: --rpm; remaining: in the bucket */
	long limit_tokens, remaining_tokens;
	long limit_day, remaining_day;
	double reset_requests_ms, reset_tokens_ms, reset_day_ms; /* until the bucket is full */
	double retry_ms; /* with LIMIT_REQUESTS/TOKENS/DAY: the wait until the request fits */
};

/*
 * Buckets per key: rpm requests a minute in a bucket of burst (0: rpm),
 * tpm tokens a minute, rpd requests a day; 0 is no limit.
 */
struct limiter *limiter_new(long rpm, long tpm, long burst, long rpd);
void limiter_free(struct limiter *l);

/*
 * Take one request and tokens from key's buckets at now_ms. Returns
 * LIMIT_OK (taken) or why not (of several buckets short, the one with the
 * longest wait); *st gets the numbers for the headers.
 */
enum limit_result limiter_take(struct limiter *l, const char *key, long tokens, double now_ms,
	struct limit_state *st);

/* A duration as Go prints it ("12ms", "7.66s", "6m0s", "1h2m3s"), into out. */
void go_duration(char *out, size_t size, double ms);

/* --- AWS Signature Version 4 (sigv4.c) ----------------------------------- */

enum awssig_result {
	AWSSIG_OK,
	AWSSIG_MISSING,     /* no Authorization: MissingAuthenticationTokenException */
	AWSSIG_INCOMPLETE,  /* malformed: IncompleteSignatureException */
	AWSSIG_UNKNOWN_KEY, /* an access key id not given: UnrecognizedClientException */
	AWSSIG_BAD_TOKEN,   /* session token missing or wrong: UnrecognizedClientException */
	AWSSIG_INVALID,     /* signature, scope or date wrong: InvalidSignatureException */
};

struct awssig_check {
	/* in */
	const struct aws_key *keys; /* none: any well-formed header passes */
	size_t nkeys;
	const char *token; /* the session token required, or NULL */
	const char *service;
	time_t now;
	/* out */
	char access_key[128]; /* the access key id of the Credential, or "" */
	int key;              /* 1-based index in keys; 0: none */
	char message[400];    /* why not, with AWSSIG_INCOMPLETE and AWSSIG_INVALID */
};

/*
 * Verify req's Authorization header as AWS does (the canonical request of
 * the request as received, the string to sign, the key derived from the
 * secret), and the X-Amz-Date (within 15 minutes of chk->now), the scope
 * and the session token. Fills the out members of chk.
 */
enum awssig_result awssig_verify(const struct request *req, struct awssig_check *chk);

/* HMAC-SHA256 (RFC 2104) of msg with key, into out (32 bytes). */
void awssig_hmac(const void *key, size_t key_len, const void *msg, size_t msg_len,
	unsigned char out[32]);

/* --- scenarios (scenario.c) ----------------------------------------------- */

struct rule;

/* Read a scenario file; on an error, print "FILE:LINE: why" and return NULL. */
struct scenario *scenario_load(const char *path);
void scenario_free(struct scenario *s);

/*
 * Count the request (path) under every rule's numbering and return the
 * first rule that applies to it, or NULL.
 */
const struct rule *scenario_match(struct scenario *s, const char *path);

/*
 * Apply a rule to resp: status, headers, body, faults. Sets *error_kind to
 * the rule's error= (or NULL) and returns whether the rule fixes the status
 * (then the caller writes only a missing body).
 */
bool scenario_apply(const struct rule *r, struct response *resp, const char **error_kind,
	bool *has_body, bool *garbage);

#endif
