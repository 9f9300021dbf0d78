/* SPDX-License-Identifier: BSD-2-Clause */
/* A set of byte strings (hash table with open addressing). Owns copies. */
#ifndef JL_STRSET_H
#define JL_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset_entry;

struct strset {
	struct strset_entry *slots;
	size_t size;  /* number of slots, a power of two */
	size_t count; /* strings in the set */
};

/* clang-format off */
#define STRSET_INIT {NULL, 0, 0}
/* clang-format on */

/* Add a copy of s[0..n); returns true when it was not in the set before. */
bool strset_add(struct strset *set, const void *s, size_t n);

/* Whether s[0..n) is in the set. */
bool strset_has(const struct strset *set, const void *s, size_t n);

/* Free every string and the table; the set is empty afterwards. */
void strset_free(struct strset *set);

/* FNV-1a, 64 bits: a fast hash of n bytes (not for adversarial keys). */
unsigned long long hash_fnv1a(const void *s, size_t n);

/*
 * A 64-bit hash of n bytes taken 8 at a time, several times faster than
 * hash_fnv1a on long texts: for telling records apart (not for adversarial
 * input). The same bytes hash the same on every machine.
 */
unsigned long long hash_words(const void *s, size_t n);

#endif
