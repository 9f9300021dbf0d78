/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AWS Signature Version 4 as AWS's documentation of the signing process
 * states it (canonical request, string to sign, the HMAC chain of the
 * signing key), checked against AWS's published test suite
 * (tests/unit/test_sigv4.c).
 */
#include <stdbool.h>
#include <string.h>

#include "sha256.h"
#include "http.h"
#include "sigv4.h"

void
sigv4_date(time_t now, char date[SIGV4_DATE_SIZE])
{
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, SIGV4_DATE_SIZE, "%Y%m%dT%H%M%SZ", &tm);
}

/* The path as sent, each segment encoded again (not S3's rule: every other service's). */
static void
canonical_uri(struct buf *out, const char *path)
{
	const char *p = path;

	if (*p == '\0') {
		buf_putc(out, '/');
		return;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		url_encode(out, p, n);
		p += n;
		if (*p == '/') {
			buf_putc(out, '/');
			p++;
		}
	}
}

/* "name:value\n", the value trimmed and its inner runs of spaces made one. */
static void
canonical_header(struct buf *out, const char *name, const char *value)
{
	const char *v = value + strspn(value, " \t");
	bool space = false;

	buf_puts(out, name);
	buf_putc(out, ':');
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			buf_putc(out, ' ');
		space = false;
		buf_putc(out, *v);
	}
	buf_putc(out, '\n');
}

/* The signed headers' names in order: content-type;host;x-amz-date[;x-amz-security-token]. */
static void
signed_headers(const struct sigv4_credentials *c, const struct sigv4_request *r, struct buf *out)
{
	if (r->content_type != NULL)
		buf_puts(out, "content-type;");
	buf_puts(out, "host;x-amz-date");
	if (c->token != NULL)
		buf_puts(out, ";x-amz-security-token");
}

static void
add_hex_sha256(struct buf *out, const void *data, size_t len)
{
	unsigned char hash[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 1];

	sha256(data, len, hash);
	sha256_hex(hash, hex);
	buf_puts(out, hex);
}

void
sigv4_canonical_request(const struct sigv4_credentials *c, const struct sigv4_request *r,
	const char *date, struct buf *out)
{
	buf_puts(out, r->method);
	buf_putc(out, '\n');
	canonical_uri(out, r->path);
	buf_putc(out, '\n');
	buf_puts(out, r->query);
	buf_putc(out, '\n');
	/* The headers sorted by name, as signed_headers lists them. */
	if (r->content_type != NULL)
		canonical_header(out, "content-type", r->content_type);
	canonical_header(out, "host", r->host);
	canonical_header(out, "x-amz-date", date);
	if (c->token != NULL)
		canonical_header(out, "x-amz-security-token", c->token);
	buf_putc(out, '\n');
	signed_headers(c, r, out);
	buf_putc(out, '\n');
	add_hex_sha256(out, r->body != NULL ? r->body : "", r->body_len);
}

/* DATE/REGION/SERVICE/aws4_request, DATE the first 8 characters of date. */
static void
scope(const struct sigv4_credentials *c, const char *date, struct buf *out)
{
	buf_add(out, date, 8);
	buf_putc(out, '/');
	buf_puts(out, c->region);
	buf_putc(out, '/');
	buf_puts(out, c->service);
	buf_puts(out, "/aws4_request");
}

void
sigv4_string_to_sign(const struct sigv4_credentials *c, const char *date, const char *canonical,
	size_t canonical_len, struct buf *out)
{
	buf_puts(out, "AWS4-HMAC-SHA256\n");
	buf_puts(out, date);
	buf_putc(out, '\n');
	scope(c, date, out);
	buf_putc(out, '\n');
	add_hex_sha256(out, canonical, canonical_len);
}

void
sigv4_authorization(const struct sigv4_credentials *c, const struct sigv4_request *r,
	const char *date, struct buf *out)
{
	struct buf canonical = BUF_INIT, sts = BUF_INIT, secret = BUF_INIT;
	unsigned char key[SHA256_SIZE], signature[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 1];

	sigv4_canonical_request(c, r, date, &canonical);
	sigv4_string_to_sign(c, date, canonical.data, canonical.len, &sts);
	/* The signing key: HMACs from "AWS4" + secret over date, region, service, aws4_request. */
	buf_puts(&secret, "AWS4");
	buf_puts(&secret, c->secret);
	hmac_sha256(secret.data, secret.len, date, 8, key);
	hmac_sha256(key, sizeof(key), c->region, strlen(c->region), key);
	hmac_sha256(key, sizeof(key), c->service, strlen(c->service), key);
	hmac_sha256(key, sizeof(key), "aws4_request", 12, key);
	hmac_sha256(key, sizeof(key), sts.data, sts.len, signature);
	sha256_hex(signature, hex);
	buf_puts(out, "AWS4-HMAC-SHA256 Credential=");
	buf_puts(out, c->key_id);
	buf_putc(out, '/');
	scope(c, date, out);
	buf_puts(out, ", SignedHeaders=");
	signed_headers(c, r, out);
	buf_puts(out, ", Signature=");
	buf_puts(out, hex);
	explicit_bzero(secret.data, secret.size);
	explicit_bzero(key, sizeof(key));
	buf_free(&secret);
	buf_free(&canonical);
	buf_free(&sts);
}
