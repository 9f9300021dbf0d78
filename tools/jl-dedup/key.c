/* SPDX-License-Identifier: BSD-2-Clause */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jqx.h"
#include "key.h"
#include "util.h"

struct key_expr {
	struct jqx *jq;
};

struct key_expr *
key_compile(const char *expr, struct buf *err)
{
	struct jqx *q = jqx_compile(expr, err);
	struct key_expr *k;

	if (q == NULL)
		return NULL;
	k = xcalloc(1, sizeof(*k));
	k->jq = q;
	return k;
}

bool
key_is_path(const struct key_expr *k)
{
	return jqx_is_path(k->jq);
}

jv
key_eval(struct key_expr *k, jv record)
{
	return jqx_first(k->jq, jv_copy(record));
}

void
key_free(struct key_expr *k)
{
	if (k == NULL)
		return;
	jqx_free(k->jq);
	free(k);
}

bool
key_text(jv value, struct buf *out, const char **why)
{
	jv_kind kind = jv_get_kind(value);
	jv text;

	if (kind != JV_KIND_STRING && kind != JV_KIND_NUMBER) {
		*why = kind == JV_KIND_NULL || kind == JV_KIND_INVALID  ? "the key is missing"
			: kind == JV_KIND_TRUE || kind == JV_KIND_FALSE ? "the key is a boolean"
			: kind == JV_KIND_ARRAY                         ? "the key is an array"
									: "the key is an object";
		jv_free(value);
		return false;
	}
	if (kind == JV_KIND_NUMBER && !isfinite(jv_number_value(value))) {
		*why = "the key is not a finite number";
		jv_free(value);
		return false;
	}
	text = jv_dump_string(value, 0);
	buf_add(out, jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text)));
	jv_free(text);
	return true;
}

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
hash64(const unsigned char *p, size_t len, uint64_t seed)
{
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL), w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = mix(h ^ w) * 0x9e3779b97f4a7c15ULL;
	}
	w = 0;
	memcpy(&w, p, len);
	return mix(h ^ w ^ ((uint64_t)len << 56));
}

void
hash128(const void *data, size_t len, uint64_t out[2])
{
	out[0] = hash64(data, len, 0x243f6a8885a308d3ULL);
	out[1] = hash64(data, len, 0x13198a2e03707344ULL);
}

static void
digest(const char *text, size_t len, uint64_t d[2])
{
	hash128(text, len, d);
	if (d[0] == 0 && d[1] == 0)
		d[1] = 1; /* 0,0 marks an empty slot */
}

static void
insert(uint64_t *slots, size_t cap, const uint64_t d[2])
{
	size_t i = (size_t)d[0] & (cap - 1);

	while (slots[2 * i] != 0 || slots[2 * i + 1] != 0)
		i = (i + 1) & (cap - 1);
	slots[2 * i] = d[0];
	slots[2 * i + 1] = d[1];
}

bool
keyset_add(struct keyset *s, const char *text, size_t len)
{
	uint64_t d[2];
	size_t i;

	if (s->used + 1 > s->cap / 4 * 3) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *slots = xcalloc(cap, 2 * sizeof(*slots));

		for (size_t j = 0; j < s->cap; j++)
			if (s->slots[2 * j] != 0 || s->slots[2 * j + 1] != 0)
				insert(slots, cap, s->slots + 2 * j);
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	digest(text, len, d);
	for (i = (size_t)d[0] & (s->cap - 1); s->slots[2 * i] != 0 || s->slots[2 * i + 1] != 0;
		i = (i + 1) & (s->cap - 1))
		if (s->slots[2 * i] == d[0] && s->slots[2 * i + 1] == d[1])
			return true;
	s->slots[2 * i] = d[0];
	s->slots[2 * i + 1] = d[1];
	s->used++;
	return false;
}

void
keyset_free(struct keyset *s)
{
	free(s->slots);
	s->slots = NULL;
	s->cap = s->used = 0;
}
