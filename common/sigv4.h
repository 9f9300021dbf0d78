/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AWS Signature Version 4, the "Authorization: AWS4-HMAC-SHA256 ..." header
 * AWS's APIs require, as AWS computes it for services other than S3 (each
 * segment of the path is URI-encoded once more in the canonical request).
 * jl-llm signs Bedrock's Converse requests with it (doc/protocols.md §10).
 * libcurl's CURLOPT_AWS_SIGV4 (7.88) encodes the path only once, which
 * Bedrock refuses for a model ID with a ':'; hence this signer.
 *
 * The signed headers are content-type (when given), host, x-amz-date and,
 * with a session token, x-amz-security-token: the caller sends exactly the
 * values it signed (Host included, set explicitly).
 */
#ifndef JL_SIGV4_H
#define JL_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

/* Who signs, and for what: borrowed strings. */
struct sigv4_credentials {
	const char *key_id;  /* AWS_ACCESS_KEY_ID */
	const char *secret;  /* AWS_SECRET_ACCESS_KEY */
	const char *token;   /* AWS_SESSION_TOKEN (sent as x-amz-security-token), or NULL */
	const char *region;  /* "us-east-1" */
	const char *service; /* "bedrock" */
};

/* The request as it goes on the wire: borrowed. */
struct sigv4_request {
	const char *method;       /* "POST" */
	const char *host;         /* the Host header: "bedrock-runtime.us-east-1.amazonaws.com" */
	const char *path;         /* as sent, segments percent-encoded; no "." or ".." segment */
	const char *query;        /* the canonical query (sorted, encoded), "" for none */
	const char *content_type; /* the Content-Type header, signed; or NULL: none */
	const void *body;
	size_t body_len;
};

/* "20150830T123600Z" and a NUL. */
#define SIGV4_DATE_SIZE 17

/* now in UTC as X-Amz-Date writes it: YYYYMMDDTHHMMSSZ. */
void sigv4_date(time_t now, char date[SIGV4_DATE_SIZE]);

/*
 * Append the canonical request of r signed at date (X-Amz-Date's value) to
 * out: method, canonical URI (each path segment encoded again), query,
 * the signed headers with their values, their names, and the hex SHA-256
 * of the body, one per line.
 */
void sigv4_canonical_request(const struct sigv4_credentials *c, const struct sigv4_request *r,
	const char *date, struct buf *out);

/*
 * Append the string to sign for a canonical request to out:
 * "AWS4-HMAC-SHA256", date, the scope DATE/REGION/SERVICE/aws4_request and
 * the hex SHA-256 of the canonical request, one per line.
 */
void sigv4_string_to_sign(const struct sigv4_credentials *c, const char *date,
	const char *canonical, size_t canonical_len, struct buf *out);

/*
 * Append the value of the Authorization header for r signed at date to out:
 * "AWS4-HMAC-SHA256 Credential=KEY_ID/SCOPE, SignedHeaders=..., Signature=HEX".
 * The keys derived from the secret are wiped before it returns. Cannot fail.
 */
void sigv4_authorization(const struct sigv4_credentials *c, const struct sigv4_request *r,
	const char *date, struct buf *out);

#endif
