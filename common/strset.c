/* SPDX-License-Identifier: BSD-2-Clause */
/* A set of byte strings. */
#include <stdlib.h>
#include <string.h>

#include "strset.h"
#include "util.h"

struct strset_entry {
	char *s; /* NULL: empty slot */
	size_t n;
	unsigned long long hash;
};

unsigned long long
hash_fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The little-endian 64-bit word of the k <= 8 bytes at p, zero-padded. */
static unsigned long long
word_at(const unsigned char *p, size_t k)
{
	unsigned long long w = 0;

	if (k == 8) {
		memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		return w;
	}
	while (k-- > 0)
		w = w << 8 | p[k];
	return w;
}

unsigned long long
hash_words(const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned long long h = 0x9e3779b97f4a7c15ULL ^ n;
	size_t k;

	for (; n > 0; s += k, n -= k) {
		k = n < 8 ? n : 8;
		h = (h ^ word_at(s, k)) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ h >> 33;
}

static struct strset_entry *
find_slot(struct strset_entry *slots, size_t size, const void *s, size_t n, unsigned long long hash)
{
	size_t i = (size_t)hash & (size - 1);

	for (;;) {
		struct strset_entry *e = &slots[i];

		if (e->s == NULL || (e->hash == hash && e->n == n && memcmp(e->s, s, n) == 0))
			return e;
		i = (i + 1) & (size - 1);
	}
}

static void
rehash(struct strset *set)
{
	size_t size = set->size ? set->size * 2 : 16;
	struct strset_entry *slots = xcalloc(size, sizeof(*slots));

	for (size_t i = 0; i < set->size; i++) {
		struct strset_entry *e = &set->slots[i];

		if (e->s != NULL)
			*find_slot(slots, size, e->s, e->n, e->hash) = *e;
	}
	free(set->slots);
	set->slots = slots;
	set->size = size;
}

bool
strset_add(struct strset *set, const void *s, size_t n)
{
	unsigned long long hash = hash_fnv1a(s, n);
	struct strset_entry *e;

	if (2 * (set->count + 1) > set->size)
		rehash(set);
	e = find_slot(set->slots, set->size, s, n, hash);
	if (e->s != NULL)
		return false;
	e->s = xmemdup(s, n);
	e->n = n;
	e->hash = hash;
	set->count++;
	return true;
}

bool
strset_has(const struct strset *set, const void *s, size_t n)
{
	if (set->size == 0)
		return false;
	return find_slot(set->slots, set->size, s, n, hash_fnv1a(s, n))->s != NULL;
}

void
strset_free(struct strset *set)
{
	for (size_t i = 0; i < set->size; i++)
		free(set->slots[i].s);
	free(set->slots);
	set->slots = NULL;
	set->size = set->count = 0;
}
