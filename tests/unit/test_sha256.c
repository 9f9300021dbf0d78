/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/sha256.c: the FIPS 180-4 / NIST CAVS example vectors ("", "abc", the
 * 448- and 896-bit messages, one million 'a'), every message length from 0
 * to 199 bytes (all the padding cases) against hashlib, and incremental
 * hashing over random splits equal to the one-shot hash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

static const char *
hex_of(const void *data, size_t len, char hex[2 * SHA256_SIZE + 1])
{
	unsigned char hash[SHA256_SIZE];

	sha256(data, len, hash);
	sha256_hex(hash, hex);
	return hex;
}

static void
test_nist_vectors(void)
{
	static const struct {
		const char *msg, *hash, *name;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"empty message" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			"\"abc\"" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
			"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
			"448-bit message" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
		  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
			"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
			"896-bit message" },
	};
	char hex[2 * SHA256_SIZE + 1];
	unsigned char hash[SHA256_SIZE];
	struct sha256 h;
	char chunk[1000];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		is_str(hex_of(v[i].msg, strlen(v[i].msg), hex), v[i].hash, "NIST: %s", v[i].name);

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&h);
	for (int i = 0; i < 1000; i++)
		sha256_update(&h, chunk, sizeof(chunk));
	sha256_final(&h, hash);
	sha256_hex(hash, hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		"NIST: one million 'a'");

	sha256_init(&h);
	sha256_update(&h, NULL, 0);
	sha256_final(&h, hash);
	sha256_hex(hash, hex);
	is_str(hex, v[0].hash, "update with no bytes and NULL changes nothing");
}

/* The padding boundaries: 55, 56, 63, 64, 65, 119, 120 bytes, and every length up to 199. */
static void
test_lengths(void)
{
	static const struct {
		size_t n;
		const char *hash;
	} v[] = {
		{ 55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072" },
		{ 56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e" },
		{ 63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2" },
		{ 64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c" },
		{ 65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9" },
		{ 119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c" },
		{ 120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98" },
	};
	char hex[2 * SHA256_SIZE + 1];
	unsigned char msg[200], hash[SHA256_SIZE];
	struct sha256 all;

	memset(msg, 'x', sizeof(msg));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		is_str(hex_of(msg, v[i].n, hex), v[i].hash, "%zu bytes of 'x'", v[i].n);

	/* Python: h = sha256(); for n in range(200): h.update(sha256(msg_n).digest()) */
	sha256_init(&all);
	for (size_t n = 0; n < 200; n++) {
		for (size_t i = 0; i < n; i++)
			msg[i] = (unsigned char)((i * 7 + n) & 255);
		sha256(msg, n, hash);
		sha256_update(&all, hash, sizeof(hash));
	}
	sha256_final(&all, hash);
	sha256_hex(hash, hex);
	is_str(hex, "8c7c9ff69da76fc28823a1cb97268672663e628e1ea955868b16db46bab0545d",
		"every length from 0 to 199 bytes");
}

static void
test_random_splits(void)
{
	uint64_t rng = 0x5eed5eed;
	unsigned char *data = xmalloc(5000);
	unsigned char one[SHA256_SIZE], pieces[SHA256_SIZE];
	int bad = 0;

	for (size_t i = 0; i < 5000; i++)
		data[i] = (unsigned char)rng_next(&rng);
	for (int round = 0; round < 300; round++) {
		size_t len = rng_below(&rng, 5000), off = 0;
		struct sha256 h;

		sha256(data, len, one);
		sha256_init(&h);
		while (off < len) {
			/* Mostly small pieces, sometimes large ones, sometimes empty. */
			size_t max = rng_below(&rng, 4) == 0 ? 300 : 70;
			size_t n = rng_below(&rng, max + 1);

			if (n > len - off)
				n = len - off;
			sha256_update(&h, data + off, n);
			off += n;
		}
		sha256_final(&h, pieces);
		if (memcmp(one, pieces, SHA256_SIZE) != 0)
			bad++;
	}
	is_int(bad, 0, "incremental equals one-shot over 300 random splits");
	free(data);
}

static void
test_hex(void)
{
	unsigned char hash[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 2];

	for (int i = 0; i < SHA256_SIZE; i++)
		hash[i] = (unsigned char)(i * 8 + 7);
	memset(hex, '#', sizeof(hex));
	sha256_hex(hash, hex);
	is_str(hex, "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff",
		"hex is lower case, two digits a byte");
	ok(hex[2 * SHA256_SIZE + 1] == '#', "hex writes 65 bytes, no more");
}

int
main(void)
{
	progname = "test-sha256";
	test_nist_vectors();
	test_lengths();
	test_random_splits();
	test_hex();
	return done_testing();
}
