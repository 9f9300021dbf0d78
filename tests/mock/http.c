/* SPDX-License-Identifier: BSD-2-Clause */
/* HTTP/1.1 requests: a parser that can be called again as bytes arrive. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mock.h"
#include "util.h"

#define MAX_HEAD (64 * 1024)
#define MAX_BODY (64L * 1024 * 1024)

/* Trim spaces and tabs from both ends of s[0..*n). */
static char *
trim(char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t'))
		s++, (*n)--;
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/* Parse the request line and the headers of head (a copy, changed in place). */
static enum parse_status
parse_head(char *head, size_t len, struct request *req)
{
	char *line_end = memmem(head, len, "\r\n", 2);
	char *sp1, *sp2, *p, *q;
	size_t n;

	if (line_end == NULL)
		return PARSE_BAD;
	*line_end = '\0';
	sp1 = strchr(head, ' ');
	if (sp1 == NULL || (size_t)(sp1 - head) >= sizeof(req->method))
		return PARSE_BAD;
	memcpy(req->method, head, (size_t)(sp1 - head));
	req->method[sp1 - head] = '\0';
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 == NULL || sp2[1] == '\0' || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return PARSE_BAD;
	*sp2 = '\0';
	req->path = sp1 + 1;
	if (req->path[0] != '/')
		return PARSE_BAD;
	q = strchr(req->path, '?');
	if (q != NULL) {
		*q = '\0';
		req->query = q + 1;
	} else {
		req->query = sp2; /* the NUL just written: "" */
	}
	req->keep_alive = strcmp(sp2 + 1, "HTTP/1.0") != 0;
	req->nheaders = 0;
	for (p = line_end + 2; p < head + len;) {
		char *eol = memmem(p, (size_t)(head + len - p), "\r\n", 2), *colon;
		struct header *h;

		if (eol == NULL || eol == p)
			break;
		*eol = '\0';
		colon = strchr(p, ':');
		if (colon == NULL || colon == p || req->nheaders == MOCK_MAX_HEADERS)
			return PARSE_BAD;
		h = &req->headers[req->nheaders++];
		*colon = '\0';
		h->name = p;
		h->name_len = (size_t)(colon - p);
		n = (size_t)(eol - colon - 1);
		h->value = trim(colon + 1, &n);
		((char *)h->value)[n] = '\0';
		h->value_len = n;
		p = eol + 2;
	}
	return PARSE_DONE;
}

const char *
request_header(const struct request *req, const char *name)
{
	for (int i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* Whether the comma-separated header value list holds token (any case). */
static bool
header_has_token(const char *list, const char *token)
{
	size_t len = strlen(token);

	for (const char *p = list; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, token, len) == 0 &&
			(p[len] == '\0' || p[len] == ',' || p[len] == ' '))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

/*
 * Decode the chunked body at in[0..len) into out. Returns the bytes the
 * body took in the input, 0 when it is not complete yet, or -1 when it is
 * malformed or too large.
 */
static long
dechunk(const char *in, size_t len, struct buf *out)
{
	size_t pos = 0;

	for (;;) {
		const char *eol = memmem(in + pos, len - pos, "\r\n", 2);
		char *end;
		unsigned long size;

		if (eol == NULL)
			return len - pos > 32 ? -1 : 0;
		size = strtoul(in + pos, &end, 16);
		if (end == in + pos || out->len + size > (size_t)MAX_BODY)
			return -1;
		pos = (size_t)(eol - in) + 2;
		if (size == 0) {
			/* Trailers, then an empty line. */
			for (;;) {
				eol = memmem(in + pos, len - pos, "\r\n", 2);
				if (eol == NULL)
					return 0;
				if (eol == in + pos)
					return (long)(pos + 2);
				pos = (size_t)(eol - in) + 2;
			}
		}
		if (len - pos < size + 2)
			return 0;
		buf_add(out, in + pos, size);
		pos += size + 2;
	}
}

/* Keep the connection open after the answer? HTTP/1.1 says yes, unless told. */
static void
set_keep_alive(struct request *req)
{
	const char *conn = request_header(req, "Connection");

	if (conn != NULL && header_has_token(conn, "close"))
		req->keep_alive = false;
	else if (conn != NULL && header_has_token(conn, "keep-alive"))
		req->keep_alive = true;
}

static bool
wants_continue(const struct request *req)
{
	const char *expect = request_header(req, "Expect");

	return expect != NULL && strcasecmp(expect, "100-continue") == 0;
}

enum parse_status
http_parse(const char *in, size_t len, struct request *req, struct buf *scratch, size_t *used,
	bool *expect_continue)
{
	const char *head_end = memmem(in, len, "\r\n\r\n", 4);
	size_t head_len, body_len = 0, body_at;
	const char *te, *cl;
	enum parse_status st;
	char *head_copy;

	*expect_continue = false;
	if (head_end == NULL)
		return len > MAX_HEAD ? PARSE_TOO_BIG : PARSE_MORE;
	head_len = (size_t)(head_end - in) + 4;
	if (head_len > MAX_HEAD)
		return PARSE_TOO_BIG;
	/* The head is copied and cut up in place; the body follows it in scratch. */
	buf_reset(scratch);
	buf_add(scratch, in, head_len);
	head_copy = scratch->data;
	body_at = scratch->len;
	st = parse_head(scratch->data, head_len, req);
	if (st != PARSE_DONE)
		return st;
	te = request_header(req, "Transfer-Encoding");
	cl = request_header(req, "Content-Length");
	if (te != NULL && header_has_token(te, "chunked")) {
		long taken = dechunk(in + head_len, len - head_len, scratch);

		if (taken < 0)
			return PARSE_TOO_BIG;
		if (taken == 0) {
			*expect_continue = wants_continue(req);
			return PARSE_MORE;
		}
		*used = head_len + (size_t)taken;
	} else {
		if (cl != NULL) {
			char *end;
			long v = strtol(cl, &end, 10);

			if (end == cl || *end != '\0' || v < 0)
				return PARSE_BAD;
			if (v > MAX_BODY)
				return PARSE_TOO_BIG;
			body_len = (size_t)v;
		}
		if (len - head_len < body_len) {
			*expect_continue = wants_continue(req);
			return PARSE_MORE;
		}
		buf_add(scratch, in + head_len, body_len);
		*used = head_len + body_len;
	}
	body_len = scratch->len - body_at;
	buf_cstr(scratch);
	if (scratch->data != head_copy) {
		/* scratch grew and moved: cut up a fresh copy of the head where it lies now. */
		memcpy(scratch->data, in, head_len);
		if (parse_head(scratch->data, head_len, req) != PARSE_DONE)
			return PARSE_BAD;
	}
	set_keep_alive(req);
	req->body = scratch->data + body_at;
	req->body_len = body_len;
	return PARSE_DONE;
}

const char *
query_param(const struct request *req, const char *name, struct buf *out)
{
	size_t name_len = strlen(name);

	for (const char *p = req->query; *p != '\0';) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);

		if ((size_t)(end - p) >= name_len && strncmp(p, name, name_len) == 0 &&
			(p[name_len] == '=' || p + name_len == end)) {
			buf_reset(out);
			for (const char *v = p + name_len + (p[name_len] == '='); v < end; v++) {
				if (*v == '+') {
					buf_putc(out, ' ');
				} else if (*v == '%' && v + 2 < end + 1 && hex_digit(v[1]) >= 0 &&
					hex_digit(v[2]) >= 0) {
					buf_putc(out,
						(char)(hex_digit(v[1]) * 16 + hex_digit(v[2])));
					v += 2;
				} else {
					buf_putc(out, *v);
				}
			}
			return buf_cstr(out);
		}
		p = amp ? amp + 1 : end;
	}
	return NULL;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 432:
		return "Plan Limit Exceeded";
	case 433:
		return "Pay-As-You-Go Limit Exceeded";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 529:
		return "Site is overloaded";
	default:
		return "Status";
	}
}
