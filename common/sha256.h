/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SHA-256 (FIPS 180-4), for cache keys: a hash of the exact request; and
 * HMAC-SHA-256 (RFC 2104), which AWS Signature Version 4 chains (sigv4.h).
 */
#ifndef JL_SHA256_H
#define JL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32

struct sha256 {
	uint32_t state[8];
	uint64_t length; /* bytes hashed so far */
	unsigned char block[64];
	size_t used; /* bytes in block */
};

/* Start, add any number of pieces, finish into out (32 bytes). */
void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
void sha256_final(struct sha256 *h, unsigned char out[SHA256_SIZE]);

/* The hash of one buffer. */
void sha256(const void *data, size_t len, unsigned char out[SHA256_SIZE]);

/* The 64 lower-case hex digits of a hash, and a NUL, into hex. */
void sha256_hex(const unsigned char hash[SHA256_SIZE], char hex[2 * SHA256_SIZE + 1]);

/*
 * HMAC-SHA-256 of the len bytes of data under the key_len bytes of key, into
 * out (32 bytes; it may be key itself, for a chain of keys). The copies of the
 * key it makes are wiped before it returns. Cannot fail.
 */
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
	unsigned char out[SHA256_SIZE]);

#endif
