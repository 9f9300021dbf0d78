/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/sha256.c's HMAC-SHA-256 against the seven test cases of RFC 4231,
 * and common/sigv4.c against AWS's Signature Version 4 test suite
 * (aws-sig-v4-test-suite: get-vanilla, post-vanilla,
 * post-sts-token/post-sts-header-before, with the suite's example
 * credentials) and against botocore's SigV4Auth for a Bedrock Converse
 * request whose model ID holds a ':' (the path segment encoded twice).
 */
#include <stdio.h>
#include <string.h>

#include "sha256.h"
#include "http.h"
#include "sigv4.h"
#include "tap.h"
#include "util.h"

static const char *
hmac_hex(const void *key, size_t key_len, const void *data, size_t len, char *hex)
{
	unsigned char mac[SHA256_SIZE];

	hmac_sha256(key, key_len, data, len, mac);
	sha256_hex(mac, hex);
	return hex;
}

static void
test_rfc4231(void)
{
	unsigned char key[131], data[50];
	char hex[2 * SHA256_SIZE + 1];

	memset(key, 0x0b, 20);
	is_str(hmac_hex(key, 20, "Hi There", 8, hex),
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"RFC 4231 test case 1");
	is_str(hmac_hex("Jefe", 4, "what do ya want for nothing?", 28, hex),
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"RFC 4231 test case 2: a key shorter than the output");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	is_str(hmac_hex(key, 20, data, 50, hex),
		"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
		"RFC 4231 test case 3: 50 bytes of data");
	for (int i = 0; i < 25; i++)
		key[i] = (unsigned char)(i + 1);
	memset(data, 0xcd, 50);
	is_str(hmac_hex(key, 25, data, 50, hex),
		"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
		"RFC 4231 test case 4: a 25-byte key");
	memset(key, 0x0c, 20);
	hmac_hex(key, 20, "Test With Truncation", 20, hex);
	hex[32] = '\0';
	is_str(hex, "a3b6167473100ee06e0c796c2955552b", "RFC 4231 test case 5: the first 128 bits");
	memset(key, 0xaa, 131);
	is_str(hmac_hex(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		       hex),
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		"RFC 4231 test case 6: a key longer than the block is hashed first");
	{
		static const char text[] =
			"This is a test using a larger than block-size key and a larger than "
			"block-size data. The key needs to be hashed before being used by the HMAC "
			"algorithm.";

		is_str(hmac_hex(key, 131, text, sizeof(text) - 1, hex),
			"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
			"RFC 4231 test case 7: key and data longer than the block");
	}
}

static void
test_hmac_in_place(void)
{
	unsigned char key[SHA256_SIZE], want[SHA256_SIZE];

	memset(key, 0x42, sizeof(key));
	hmac_sha256(key, sizeof(key), "region", 6, want);
	hmac_sha256(key, sizeof(key), "region", 6, key);
	ok(memcmp(key, want, sizeof(key)) == 0, "out may be the key itself (a chain of keys)");
}

/* The suite's credentials: AKIDEXAMPLE, us-east-1, the service "service". */
static const struct sigv4_credentials suite = {
	.key_id = "AKIDEXAMPLE",
	.secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	.region = "us-east-1",
	.service = "service",
};

#define SUITE_SCOPE "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_get_vanilla(void)
{
	struct sigv4_request r = { .method = "GET",
		.host = "example.amazonaws.com",
		.path = "/",
		.query = "" };
	struct buf creq = BUF_INIT, sts = BUF_INIT, auth = BUF_INIT;

	sigv4_canonical_request(&suite, &r, "20150830T123600Z", &creq);
	is_str(buf_cstr(&creq),
		"GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
		"host;x-amz-date\n" EMPTY_SHA256,
		"get-vanilla: the canonical request (get-vanilla.creq)");
	sigv4_string_to_sign(&suite, "20150830T123600Z", creq.data, creq.len, &sts);
	is_str(buf_cstr(&sts),
		"AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
		"bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
		"get-vanilla: the string to sign (get-vanilla.sts)");
	sigv4_authorization(&suite, &r, "20150830T123600Z", &auth);
	is_str(buf_cstr(&auth),
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE ", SignedHeaders=host;x-amz-date, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"get-vanilla: the Authorization header (get-vanilla.authz)");
	buf_free(&creq);
	buf_free(&sts);
	buf_free(&auth);
}

static void
test_post_vanilla_and_token(void)
{
	struct sigv4_credentials with_token = suite;
	struct sigv4_request r = { .method = "POST",
		.host = "example.amazonaws.com",
		.path = "",
		.query = "" };
	struct buf auth = BUF_INIT, creq = BUF_INIT;

	sigv4_authorization(&suite, &r, "20150830T123600Z", &auth);
	is_str(buf_cstr(&auth),
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE ", SignedHeaders=host;x-amz-date, "
		"Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
		"post-vanilla (an empty path is /)");
	with_token.token =
		"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAe"
		"MicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8ph"
		"UZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT"
		"38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJab"
		"IQwj2ICCR/oLxBA==";
	buf_reset(&auth);
	sigv4_authorization(&with_token, &r, "20150830T123600Z", &auth);
	is_str(buf_cstr(&auth),
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE
		", SignedHeaders=host;x-amz-date;x-amz-security-token, "
		"Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
		"post-sts-header-before: the session token is a signed header");
	sigv4_canonical_request(&with_token, &r, "20150830T123600Z", &creq);
	ok(strstr(buf_cstr(&creq), "\nx-amz-security-token:AQoDYXdzEPT//") != NULL,
		"the token's canonical header holds it as it is");
	buf_free(&auth);
	buf_free(&creq);
}

/* Expected values from botocore 1.43's SigV4Auth (canonical_request, signature) for the same
 * request. */
static void
test_bedrock_colon(void)
{
	static const char body[] =
		"{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Company: Acme\"}]}]}";
	struct sigv4_credentials c = suite;
	struct sigv4_request r = {
		.method = "POST",
		.host = "bedrock-runtime.us-east-1.amazonaws.com",
		.path = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
		.query = "",
		.content_type = "application/json",
		.body = body,
		.body_len = sizeof(body) - 1,
	};
	struct buf creq = BUF_INIT, auth = BUF_INIT;

	c.service = "bedrock";
	sigv4_canonical_request(&c, &r, "20241105T093000Z", &creq);
	is_str(buf_cstr(&creq),
		"POST\n/model/anthropic.claude-3-5-haiku-20241022-v1%253A0/converse\n\n"
		"content-type:application/json\nhost:bedrock-runtime.us-east-1.amazonaws.com\n"
		"x-amz-date:20241105T093000Z\n\ncontent-type;host;x-amz-date\n"
		"cfc5aae4a14374757b79f7782be9a232502b4de420050bc9ad6965cee4b3fc09",
		"a ':' sent as %%3A is %%253A in the canonical URI, as botocore has it");
	sigv4_authorization(&c, &r, "20241105T093000Z", &auth);
	ok(strstr(buf_cstr(&auth),
		   "/20241105/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;"
		   "x-amz-date, Signature=886c9a0c699c814869e4b67f1ae0543eb4b7e647f2bc9ef194a0661"
		   "69a4268d1") != NULL,
		"the Converse request's signature is botocore's");
	c.token = "FQoGZXIvYXdzEXAMPLETOKEN//////////wEaDEXAMPLE+/=";
	buf_reset(&auth);
	sigv4_authorization(&c, &r, "20241105T093000Z", &auth);
	ok(strstr(buf_cstr(&auth),
		   "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
		   "e839f82123a2a0b950c6553ba2703b224014d4b4f212668441b3fe0f816541d3") != NULL,
		"with a session token too");
	buf_free(&creq);
	buf_free(&auth);
}

static void
test_pieces(void)
{
	struct sigv4_request r = { .method = "GET",
		.host = "  h.example  ",
		.path = "/a%20b/c~d",
		.query = "x=1",
		.content_type = " text/plain;   charset=utf-8 " };
	static const char want[] =
		"GET\n/a%2520b/c~d\nx=1\ncontent-type:text/plain; charset=utf-8\n"
		"host:h.example\n";
	struct buf b = BUF_INIT;
	char date[SIGV4_DATE_SIZE];

	url_encode(&b, "aZ09-_.~ :/%\xc3\xa9", 14);
	is_str(buf_cstr(&b), "aZ09-_.~%20%3A%2F%25%C3%A9",
		"UriEncode keeps only A-Z a-z 0-9 - _ . ~");
	buf_reset(&b);
	sigv4_canonical_request(&suite, &r, "20150830T123600Z", &b);
	ok(strncmp(buf_cstr(&b), want, strlen(want)) == 0,
		"segments encoded again, the query as given, header values trimmed and spaces "
		"collapsed");
	sigv4_date(1440938160, date);
	is_str(date, "20150830T123600Z", "X-Amz-Date is UTC, YYYYMMDDTHHMMSSZ");
	buf_free(&b);
}

int
main(void)
{
	progname = "test-sigv4";
	test_rfc4231();
	test_hmac_in_place();
	test_get_vanilla();
	test_post_vanilla_and_token();
	test_bedrock_colon();
	test_pieces();
	return done_testing();
}
