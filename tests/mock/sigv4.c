/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AWS Signature Version 4, the server's side: mockd checks the signature
 * of a Bedrock request the way AWS does, from the request as it arrived,
 * so that a client's signing code is tested against an implementation
 * that shares nothing with it (HMAC-SHA256 is built here on common/sha256).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mock.h"
#include "sha256.h"
#include "util.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAX_SKEW (15 * 60)
#define MISMATCH                                                                                   \
	"The request signature we calculated does not match the signature you provided. Check "    \
	"your AWS Secret Access Key and signing method. Consult the service documentation for "    \
	"details."

void
awssig_hmac(const void *key, size_t key_len, const void *msg, size_t msg_len,
	unsigned char out[SHA256_SIZE])
{
	unsigned char k[64] = { 0 }, pad[64], inner[SHA256_SIZE];
	struct sha256 h;

	if (key_len > sizeof(k))
		sha256(key, key_len, k);
	else
		memcpy(k, key, key_len);
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&h);
	sha256_update(&h, pad, sizeof(pad));
	sha256_update(&h, msg, msg_len);
	sha256_final(&h, inner);
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&h);
	sha256_update(&h, pad, sizeof(pad));
	sha256_update(&h, inner, sizeof(inner));
	sha256_final(&h, out);
}

/* The parts of an Authorization header, pointing into a copy of it. */
struct auth_header {
	char *copy;
	char *credential, *signed_headers, *signature;
	char *scope[5]; /* access key id, date, region, service, terminator */
};

static bool
unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

/* Append s[0..len) URI-encoded as SigV4 wants (RFC 3986; keep_slash for paths). */
static void
uri_encode(struct buf *b, const char *s, size_t len, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (unreserved(ch) || (keep_slash && ch == '/')) {
			buf_putc(b, (char)ch);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[ch >> 4]);
			buf_putc(b, hex[ch & 15]);
		}
	}
}

/* s[0..len) with %XX decoded, NUL-terminated, in a new string. */
static char *
percent_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 &&
			hex_digit(s[i + 2]) >= 0) {
			*o++ = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

struct query_pair {
	char *name, *value; /* decoded */
};

static int
pair_cmp(const void *a, const void *b)
{
	const struct query_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/*
 * The canonical query: each parameter decoded and encoded again, sorted by
 * name, then value.
 */
static void
canonical_query(struct buf *b, const char *query)
{
	size_t n = 1, np = 0;
	struct query_pair *pairs;

	for (const char *p = query; *p != '\0'; p++)
		n += *p == '&';
	pairs = xcalloc(n, sizeof(*pairs));
	for (const char *p = query; *p != '\0';) {
		const char *end = strchr(p, '&'), *eq;

		if (end == NULL)
			end = p + strlen(p);
		if (end > p) {
			eq = memchr(p, '=', (size_t)(end - p));
			pairs[np].name = percent_decode(p, (size_t)((eq ? eq : end) - p));
			pairs[np].value = eq ? percent_decode(eq + 1, (size_t)(end - eq - 1))
					     : percent_decode("", 0);
			np++;
		}
		p = *end == '&' ? end + 1 : end;
	}
	qsort(pairs, np, sizeof(*pairs), pair_cmp);
	for (size_t i = 0; i < np; i++) {
		if (i > 0)
			buf_putc(b, '&');
		uri_encode(b, pairs[i].name, strlen(pairs[i].name), false);
		buf_putc(b, '=');
		uri_encode(b, pairs[i].value, strlen(pairs[i].value), false);
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

/* Append a header value with its ends trimmed and inner runs of blanks made one space. */
static void
trimall(struct buf *b, const char *v, size_t len)
{
	bool space = false;
	size_t start = b->len;

	for (size_t i = 0; i < len; i++) {
		if (v[i] == ' ' || v[i] == '\t') {
			space = true;
			continue;
		}
		if (space && b->len > start)
			buf_putc(b, ' ');
		space = false;
		buf_putc(b, v[i]);
	}
}

/*
 * Append "name:value\n" for each name of the signed headers list; a header
 * sent more than once has its values joined by commas.
 */
static void
canonical_headers(struct buf *b, const struct request *req, const char *list)
{
	for (const char *p = list; *p != '\0';) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		bool first = true;

		buf_add(b, p, len);
		buf_putc(b, ':');
		for (int i = 0; i < req->nheaders; i++) {
			const struct header *h = &req->headers[i];

			if (h->name_len != len || strncasecmp(h->name, p, len) != 0)
				continue;
			if (!first)
				buf_putc(b, ',');
			first = false;
			trimall(b, h->value, h->value_len);
		}
		buf_putc(b, '\n');
		p += len + (end != NULL);
	}
}

static void
hex_encode(char *out, const unsigned char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* The canonical request of req, signed over the headers in list, into b. */
static void
canonical_request(struct buf *b, const struct request *req, const char *list)
{
	unsigned char hash[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 1];

	buf_puts(b, req->method);
	buf_putc(b, '\n');
	/* The path as sent, each segment encoded again (not S3: no normalization of %XX). */
	if (req->path[0] == '\0')
		buf_putc(b, '/');
	uri_encode(b, req->path, strlen(req->path), true);
	buf_putc(b, '\n');
	canonical_query(b, req->query);
	buf_putc(b, '\n');
	canonical_headers(b, req, list);
	buf_putc(b, '\n');
	buf_puts(b, list);
	buf_putc(b, '\n');
	sha256(req->body, req->body_len, hash);
	hex_encode(hex, hash, sizeof(hash));
	buf_puts(b, hex);
}

/* The hex signature of string_to_sign with the key derived from secret and the scope. */
static void
signature(char out[2 * SHA256_SIZE + 1], const char *secret, char *const scope[5],
	const char *string_to_sign)
{
	struct buf k = BUF_INIT;
	unsigned char key[SHA256_SIZE];

	buf_puts(&k, "AWS4");
	buf_puts(&k, secret);
	awssig_hmac(k.data, k.len, scope[1], strlen(scope[1]), key);
	for (int i = 2; i < 5; i++)
		awssig_hmac(key, sizeof(key), scope[i], strlen(scope[i]), key);
	awssig_hmac(key, sizeof(key), string_to_sign, strlen(string_to_sign), key);
	hex_encode(out, key, sizeof(key));
	explicit_bzero(k.data, k.len);
	buf_free(&k);
}

/* Whether the ';'-separated list holds name. */
static bool
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		if (strncmp(p, name, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return true;
		p = strchr(p, ';');
		if (p != NULL)
			p++;
	}
	return false;
}

/* "name=value" pairs after the algorithm; returns false with a message when malformed. */
static bool
parse_header(const char *value, struct auth_header *a, struct awssig_check *chk)
{
	char *p, *item, *save = NULL;
	int n = 0;

	if (strncmp(value, ALGORITHM " ", sizeof(ALGORITHM)) != 0) {
		snprintf(chk->message, sizeof(chk->message),
			"Authorization header requires 'Credential' parameter. Authorization "
			"header requires 'Signature' parameter. Authorization header requires "
			"'SignedHeaders' parameter.");
		return false;
	}
	a->copy = xstrdup(value + sizeof(ALGORITHM));
	for (item = strtok_r(a->copy, ",", &save); item != NULL;
		item = strtok_r(NULL, ",", &save)) {
		char *eq, *end;

		while (*item == ' ')
			item++;
		end = item + strlen(item);
		while (end > item && end[-1] == ' ')
			*--end = '\0';
		if (*item == '\0')
			continue;
		eq = strchr(item, '=');
		if (eq == NULL) {
			snprintf(chk->message, sizeof(chk->message),
				"'%.100s' not a valid key=value pair (missing equal-sign) in "
				"Authorization header",
				item);
			return false;
		}
		*eq = '\0';
		if (strcmp(item, "Credential") == 0)
			a->credential = eq + 1;
		else if (strcmp(item, "SignedHeaders") == 0)
			a->signed_headers = eq + 1;
		else if (strcmp(item, "Signature") == 0)
			a->signature = eq + 1;
	}
	if (a->credential == NULL || a->signed_headers == NULL || a->signature == NULL) {
		size_t len;

		snprintf(chk->message, sizeof(chk->message), "%s%s%s",
			a->credential ? ""
				      : "Authorization header requires 'Credential' parameter. ",
			a->signature ? "" : "Authorization header requires 'Signature' parameter. ",
			a->signed_headers
				? ""
				: "Authorization header requires 'SignedHeaders' parameter. ");
		len = strlen(chk->message);
		if (len > 0 && chk->message[len - 1] == ' ')
			chk->message[len - 1] = '\0';
		return false;
	}
	for (p = a->credential; n < 5; n++) {
		a->scope[n] = p;
		p = strchr(p, '/');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 4 || a->scope[0][0] == '\0') {
		snprintf(chk->message, sizeof(chk->message),
			"Credential should be scoped to a valid region. ");
		return false;
	}
	return true;
}

/* YYYYMMDDTHHMMSSZ, as a time; -1 when it is not one. */
static time_t
parse_amz_date(const char *s)
{
	struct tm tm = { 0 };
	char check[20];
	time_t t;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || strspn(s, "0123456789") != 8 ||
		strspn(s + 9, "0123456789") != 6)
		return -1;
	if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		    &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		return -1;
	strftime(check, sizeof(check), "%Y%m%dT%H%M%SZ", &tm);
	return strcmp(check, s) == 0 ? t : -1;
}

static void
amz_date(char out[20], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

/* The date, scope and signed-header checks; false with a message on the first failure. */
static bool
check_scope(const struct auth_header *a, struct awssig_check *chk, const char *date, time_t t)
{
	char then[20], now[20];

	amz_date(now, chk->now);
	if (t < chk->now - MAX_SKEW) {
		amz_date(then, chk->now - MAX_SKEW);
		snprintf(chk->message, sizeof(chk->message),
			"Signature expired: %s is now earlier than %s (%s - 15 min.)", date, then,
			now);
		return false;
	}
	if (t > chk->now + MAX_SKEW) {
		amz_date(then, chk->now + MAX_SKEW);
		snprintf(chk->message, sizeof(chk->message),
			"Signature not yet current: %s is still later than %s (%s + 15 min.)", date,
			then, now);
		return false;
	}
	if (strncmp(a->scope[1], date, 8) != 0 || strlen(a->scope[1]) != 8) {
		snprintf(chk->message, sizeof(chk->message),
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
			"date from HTTP: '%.20s' != '%.8s', from ISO-8601 version of date from "
			"HTTP",
			a->scope[1], date);
		return false;
	}
	if (strcmp(a->scope[3], chk->service) != 0) {
		snprintf(chk->message, sizeof(chk->message),
			"Credential should be scoped to correct service: '%s'. ", chk->service);
		return false;
	}
	if (strcmp(a->scope[4], "aws4_request") != 0) {
		snprintf(chk->message, sizeof(chk->message),
			"Credential should be scoped with a valid terminator: 'aws4_request', not "
			"'%.40s'. ",
			a->scope[4]);
		return false;
	}
	if (!list_has(a->signed_headers, "host")) {
		snprintf(chk->message, sizeof(chk->message),
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS "
			"Authorization.");
		return false;
	}
	if (!list_has(a->signed_headers, "x-amz-date")) {
		snprintf(chk->message, sizeof(chk->message),
			"'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
		return false;
	}
	if (chk->token != NULL && !list_has(a->signed_headers, "x-amz-security-token")) {
		snprintf(chk->message, sizeof(chk->message),
			"'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS "
			"Authorization.");
		return false;
	}
	return true;
}

/* Check the session token against --aws-token (none given: none may come). */
static bool
check_token(const struct request *req, const struct awssig_check *chk)
{
	const char *token = request_header(req, "x-amz-security-token");

	if (chk->token == NULL)
		return token == NULL;
	return token != NULL && strcmp(token, chk->token) == 0;
}

/* Compare the signatures in time independent of where they differ. */
static bool
same_signature(const char *a, const char *b)
{
	unsigned char diff = 0;

	for (size_t i = 0; i < 2 * SHA256_SIZE; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static enum awssig_result
verify(const struct request *req, struct auth_header *a, struct awssig_check *chk)
{
	const char *value = request_header(req, "Authorization");
	const char *date = request_header(req, "x-amz-date");
	const struct aws_key *key = NULL;
	struct buf creq = BUF_INIT, sts = BUF_INIT;
	unsigned char hash[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 1], expected[2 * SHA256_SIZE + 1];
	time_t t;

	if (value == NULL)
		return AWSSIG_MISSING;
	if (!parse_header(value, a, chk))
		return AWSSIG_INCOMPLETE;
	snprintf(chk->access_key, sizeof(chk->access_key), "%s", a->scope[0]);
	if (strlen(a->signature) != 2 * SHA256_SIZE ||
		strspn(a->signature, "0123456789abcdef") != 2 * SHA256_SIZE) {
		snprintf(chk->message, sizeof(chk->message), MISMATCH);
		return AWSSIG_INVALID;
	}
	if (chk->nkeys == 0)
		return AWSSIG_OK;
	if (date == NULL) {
		snprintf(chk->message, sizeof(chk->message),
			"Authorization header requires existence of either a 'X-Amz-Date' or a "
			"'Date' header.");
		return AWSSIG_INCOMPLETE;
	}
	for (size_t i = 0; i < chk->nkeys; i++)
		if (strcmp(chk->keys[i].id, a->scope[0]) == 0) {
			key = &chk->keys[i];
			chk->key = (int)i + 1;
			break;
		}
	if (key == NULL)
		return AWSSIG_UNKNOWN_KEY;
	if (!check_token(req, chk))
		return AWSSIG_BAD_TOKEN;
	if ((t = parse_amz_date(date)) == (time_t)-1) {
		snprintf(chk->message, sizeof(chk->message),
			"Date must be in ISO-8601 'basic format'. Got '%.40s'. See "
			"http://en.wikipedia.org/wiki/ISO_8601",
			date);
		return AWSSIG_INCOMPLETE;
	}
	if (!check_scope(a, chk, date, t))
		return AWSSIG_INVALID;
	canonical_request(&creq, req, a->signed_headers);
	sha256(creq.data, creq.len, hash);
	hex_encode(hex, hash, sizeof(hash));
	buf_puts(&sts, ALGORITHM "\n");
	buf_puts(&sts, date);
	buf_putc(&sts, '\n');
	for (int i = 1; i < 5; i++) {
		buf_puts(&sts, a->scope[i]);
		buf_putc(&sts, i < 4 ? '/' : '\n');
	}
	buf_puts(&sts, hex);
	signature(expected, key->secret, a->scope, buf_cstr(&sts));
	buf_free(&creq);
	buf_free(&sts);
	if (!same_signature(expected, a->signature)) {
		snprintf(chk->message, sizeof(chk->message), MISMATCH);
		return AWSSIG_INVALID;
	}
	return AWSSIG_OK;
}

enum awssig_result
awssig_verify(const struct request *req, struct awssig_check *chk)
{
	struct auth_header a = { 0 };
	enum awssig_result r;

	chk->access_key[0] = '\0';
	chk->key = 0;
	chk->message[0] = '\0';
	r = verify(req, &a, chk);
	free(a.copy);
	return r;
}
