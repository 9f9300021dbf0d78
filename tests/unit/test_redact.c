/* SPDX-License-Identifier: BSD-2-Clause */
/* redact_secret: keys out of text that came from a server. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "redact.h"
#include "tap.h"

static const char key[] = "sk-test-CANARY-5f0c9a17d2e84b3b";

/* redact(text) into a static buffer: the text after redact_secret. */
static const char *
redact(const char *text, const char *secret)
{
	static struct buf b;

	buf_reset(&b);
	buf_puts(&b, text);
	redact_secret(&b, secret);
	return buf_cstr(&b);
}

int
main(void)
{
	is_str(redact("Incorrect API key provided: sk-test-CANARY-5f0c9a17d2e84b3b.", key),
		"Incorrect API key provided: [redacted].", "the whole key");
	is_str(redact("key sk-test-CANA... rejected", key), "key [redacted]... rejected",
		"its first 12 characters");
	is_str(redact("Bearer c2stdGVzdC1DQU5BUlktNWYwYzlhMTdkMmU4NGIzYg==", key),
		"Bearer [redacted]", "its base64 form");
	is_str(redact("header: 9a17d2e84b3b was here", key), "header: [redacted] was here",
		"a long piece from its middle");
	is_str(redact("Incorrect API key provided: sk-t*****************4b3b.", key),
		"Incorrect API key provided: sk-t*****************4b3b.",
		"a masked key (short runs) stays as it is");
	is_str(redact("nothing to see", key), "nothing to see", "text without the key");
	is_str(redact("sk-test-CANARY", "short"), "sk-test-CANARY",
		"a secret under 8 bytes: no change");
	is_str(redact("sk-test-CANARY", NULL), "sk-test-CANARY", "no secret: no change");
	is_str(redact("", key), "", "empty text");
	is_str(redact("a sk-test-CANARY-5f0c9a17d2e84b3b b sk-test-CANARY-5f0c9a17d2e84b3b c", key),
		"a [redacted] b [redacted] c", "every occurrence");
	return done_testing();
}
