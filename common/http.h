/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Many HTTP requests in flight from one thread (libcurl multi), as the
 * network tools need them: connections reused, HTTP/2 where offered, TLS
 * verification always on, no redirects (a redirect would carry a key to
 * another host), http and https only, a cap on every response body, and an
 * extra file descriptor (stdin) watched in the same wait.
 *
 * Keys travel only in request headers; transfers wipe their header strings
 * before freeing them, and nothing here logs a header.
 */
#ifndef JL_HTTP_H
#define JL_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>

#include "buf.h"

struct http_options {
	long max_connections; /* per host and in all; 0: libcurl's default */
	const char *cacert;   /* a CA bundle file, or NULL for the system's */
	size_t max_body;      /* responses longer than this fail (0: 64 MiB) */
};

/* One request and, once done, its response. */
struct http_transfer {
	/* The request: set before http_start. */
	char *url;                  /* owned */
	bool post;                  /* POST body, else GET */
	struct buf body;            /* the request body */
	struct curl_slist *headers; /* owned; add with http_add_header */
	long timeout_ms;            /* for the whole attempt; 0: none */
	void *user;                 /* the caller's */
	/*
	 * Large bodies stay out of memory. With body_file (borrowed), a POST
	 * sends that file from its start instead of body; with form_file also
	 * set, it sends multipart/form-data instead: the field form_field =
	 * form_value (when form_field is set), then the file as the field
	 * form_file, named form_filename. With response_file (borrowed), the
	 * response body is written there from its start (no max_body cap)
	 * instead of into response, unless the status is not a success: then
	 * its first 64 KiB are in response too (an error body).
	 */
	FILE *body_file;
	const char *form_field, *form_value, *form_file, *form_filename;
	FILE *response_file;

	/* The response: valid once http_next_done returned the transfer. */
	long status;                 /* HTTP status; 0 when there was no answer */
	CURLcode result;             /* CURLE_OK, or why the transfer failed */
	char error[CURL_ERROR_SIZE]; /* libcurl's message for result */
	struct buf response;         /* the body */
	bool too_large;              /* the body passed max_body: cut, result is an error */
	struct buf response_headers; /* the last response's headers, "name: value\n" lines */
	double latency_ms;           /* from start to done */

	/* Private. */
	CURL *easy;
	curl_mime *mime;
	double started_ms;
	size_t max_body;
};

struct http;

/* A transfer manager. Dies with EXIT_SOFTWARE when libcurl cannot start. */
struct http *http_new(const struct http_options *opt);
void http_free(struct http *h);

/* A new, empty transfer (caller frees it with http_transfer_free once done). */
struct http_transfer *http_transfer_new(void);

/*
 * Forget the request (url, headers wiped, body, files, method, timeout) of
 * a transfer that is not running, to reuse it.
 */
void http_clear_request(struct http_transfer *t);

/* Free a transfer that is not running; header strings are wiped first. */
void http_transfer_free(struct http_transfer *t);

/* Add a request header line, "Name: value". */
void http_add_header(struct http_transfer *t, const char *line);

/*
 * Start t (its response fields are reset). Returns 0, or -1 with t->error
 * set (a URL libcurl refuses, say).
 */
int http_start(struct http *h, struct http_transfer *t);

/* Stop a running transfer; it will not come back from http_next_done. */
void http_cancel(struct http *h, struct http_transfer *t);

/* Transfers started and not yet returned by http_next_done. */
int http_running(const struct http *h);

/*
 * Wait up to timeout_ms for network activity or for extra_fd (-1: none) to
 * become readable, then move the transfers on. *extra_ready tells whether
 * extra_fd is readable. Returns 0, or -1 after a message.
 */
int http_poll(struct http *h, int timeout_ms, int extra_fd, bool *extra_ready);

/* A finished transfer (no longer running), or NULL when none is waiting. */
struct http_transfer *http_next_done(struct http *h);

/* A response header's value (name in any case), NUL-terminated into out, or NULL. */
const char *http_response_header(const struct http_transfer *t, const char *name, struct buf *out);

/*
 * How long the server asked to wait, in ms, from retry-after-ms or
 * retry-after (seconds or an HTTP date), never negative; -1 when it did not
 * say.
 */
double http_retry_after_ms(const struct http_transfer *t);

/*
 * Append s (n bytes) percent-encoded as RFC 3986 (and AWS's UriEncode)
 * wants a path segment or a query value: A-Z, a-z, 0-9, '-', '_', '.' and
 * '~' as they are, every other byte as %XX in upper case.
 */
void url_encode(struct buf *out, const char *s, size_t n);

/*
 * A duration in Go's format as OpenAI and Groq send it ("6m0s", "7.66s",
 * "12ms", "1h2m3s") into *ms. Returns 0, or -1 when s is not one.
 */
int parse_go_duration(const char *s, double *ms);

/* An RFC 3339 UTC time ("2025-08-21T12:40:59Z") as ms since the epoch. Returns 0 or -1. */
int parse_rfc3339(const char *s, double *epoch_ms);

/* Milliseconds on a monotonic clock. */
double clock_ms(void);

#endif
