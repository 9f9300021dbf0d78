/* SPDX-License-Identifier: BSD-2-Clause */
/* JSON text read in place: a strict checker and a member walk. */
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "utf8.h"
#include "util.h"

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* --- checking ----------------------------------------------------------------- */

/* The bytes a string check stops at: control characters, '"' and '\\'. */
/* clang-format off */
static const unsigned char string_stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
};
/* clang-format on */

/*
 * Past the string at p (its opening quote), or NULL when it is not one.
 * *escaped says whether it has an escape in it.
 */
static const char *
check_string(const char *p, const char *end, bool *escaped)
{
	*escaped = false;
	for (p++; p < end; p++) {
		while (p < end && !string_stop[(unsigned char)*p])
			p++;
		if (p == end || *p != '\\')
			return p < end && *p == '"' ? p + 1 : NULL;
		*escaped = true;
		if (++p == end)
			return NULL;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			break;
		case 'u':
			if (end - p < 5 || hex_digit(p[1]) < 0 || hex_digit(p[2]) < 0 ||
				hex_digit(p[3]) < 0 || hex_digit(p[4]) < 0)
				return NULL;
			p += 4;
			if (hex_digit(p[-3]) == 0xD && hex_digit(p[-2]) >= 0x8 &&
				hex_digit(p[-2]) <= 0xB) {
				/* a high surrogate: jq takes it only with a low one after it */
				if (end - p < 7 || p[1] != '\\' || p[2] != 'u' ||
					hex_digit(p[3]) != 0xD || hex_digit(p[4]) < 0xC ||
					hex_digit(p[5]) < 0 || hex_digit(p[6]) < 0)
					return NULL;
				p += 6;
			}
			break;
		default:
			return NULL;
		}
	}
	return NULL;
}

static const char *
check_digits(const char *p, const char *end)
{
	const char *start = p;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > start ? p : NULL;
}

static const char *
check_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if ((p = check_digits(p, end)) == NULL)
		return NULL;
	if (p < end && *p == '.' && (p = check_digits(p + 1, end)) == NULL)
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		p = check_digits(p, end);
	}
	return p;
}

static const char *
check_word(const char *p, const char *end, const char *word, size_t n)
{
	return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

static const char *check_value(const char *p, const char *end, int depth, int cost);
static bool key_matches(struct jspan key, bool escaped, const char *name);

/* Empty the values of picks[0..n) and of the members below them. */
static void
clear_picks(const struct jscan_pick *picks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*picks[i].value = (struct jspan){ NULL, 0 };
		clear_picks(picks[i].members, picks[i].nmembers);
	}
}

/*
 * Past the object or array at p, or NULL; the object's members picks[0..n)
 * picked on the way (n <= 64). depth is the weight of the containers around
 * it, cost its own (see JSCAN_MAX_DEPTH).
 */
static const char *
check_container(const char *p, const char *end, int depth, int cost, const struct jscan_pick *picks,
	size_t n)
{
	char close = *p == '{' ? '}' : ']';
	struct jspan key = { NULL, 0 }, value;
	bool escaped = false;

	if ((depth += cost) > JSCAN_MAX_DEPTH)
		return NULL;
	p = skip_space(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		unsigned long long matched = 0;
		const struct jscan_pick *inner = NULL; /* checks the value, picking its members */

		if (close == '}') {
			key.p = p + 1;
			if (p == end || *p != '"' || (p = check_string(p, end, &escaped)) == NULL)
				return NULL;
			key.n = (size_t)(p - 1 - key.p);
			p = skip_space(p, end);
			if (p == end || *p != ':')
				return NULL;
			p = skip_space(p + 1, end);
			for (size_t i = 0; i < n; i++) {
				if (!key_matches(key, escaped, picks[i].name))
					continue;
				matched |= 1ULL << i;
				if (inner == NULL && picks[i].nmembers > 0 && p < end && *p == '{')
					inner = &picks[i];
			}
		}
		value.p = p;
		if (inner != NULL) {
			clear_picks(inner->members, inner->nmembers);
			p = check_container(p, end, depth, 2, inner->members, inner->nmembers);
		} else {
			p = check_value(p, end, depth, close == '}' ? 2 : 1);
		}
		if (p == NULL)
			return NULL;
		value.n = (size_t)(p - value.p);
		for (size_t i = 0; matched != 0 && i < n; i++) {
			if (!(matched & 1ULL << i))
				continue;
			*picks[i].value = value; /* a later member of the name wins, as in jq */
			if (&picks[i] != inner)
				jscan_pick(value, picks[i].members, picks[i].nmembers);
		}
		p = skip_space(p, end);
		if (p == end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = skip_space(p + 1, end);
	}
}

/* Past the value at p, or NULL when there is none. */
static const char *
check_value(const char *p, const char *end, int depth, int cost)
{
	bool escaped;

	if (p == end)
		return NULL;
	switch (*p) {
	case '{':
	case '[':
		return check_container(p, end, depth, cost, NULL, 0);
	case '"':
		return check_string(p, end, &escaped);
	case 't':
		return check_word(p, end, "true", 4);
	case 'f':
		return check_word(p, end, "false", 5);
	case 'n':
		return check_word(p, end, "null", 4);
	default:
		return check_number(p, end);
	}
}

bool
jscan_object_pick(const char *s, size_t n, const struct jscan_pick *picks, size_t npicks)
{
	const char *end = s + n, *p = skip_space(s, end);

	clear_picks(picks, npicks);
	if (p == end || *p != '{' || (p = check_container(p, end, 0, 1, picks, npicks)) == NULL) {
		clear_picks(picks, npicks);
		return false;
	}
	if (skip_space(p, end) != end) {
		clear_picks(picks, npicks);
		return false;
	}
	return true;
}

bool
jscan_object_valid(const char *s, size_t n)
{
	return jscan_object_pick(s, n, NULL, 0);
}

/* --- walking checked text --------------------------------------------------------- */

/* The bytes a walk over checked text stops at. */
enum { PLAIN, QUOTE, BACKSLASH, OPEN, CLOSE };
static const unsigned char stop[256] = {
	['"'] = QUOTE,
	['\\'] = BACKSLASH,
	['{'] = OPEN,
	['['] = OPEN,
	['}'] = CLOSE,
	[']'] = CLOSE,
};

/* Past the string at p (checked text). */
static const char *
skip_string(const char *p)
{
	for (p++;; p += 2) { /* past a backslash and the character it escapes */
		while (*p != '"' && *p != '\\')
			p++;
		if (*p == '"')
			return p + 1;
	}
}

/* Past the value at p (checked text, which ends before end). */
static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	switch (*p) {
	case '"':
		return skip_string(p);
	case '{':
	case '[':
		for (;;) {
			while (stop[(unsigned char)*p] == PLAIN)
				p++;
			switch (stop[(unsigned char)*p]) {
			case QUOTE:
				p = skip_string(p);
				continue;
			case OPEN:
				depth++;
				break;
			default: /* CLOSE: a backslash is only ever inside a string */
				if (--depth == 0)
					return p + 1;
				break;
			}
			p++;
		}
	default:
		while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
			*p != '\n' && *p != '\r')
			p++;
		return p;
	}
}

enum jscan_kind
jscan_kind(struct jspan v)
{
	if (v.n == 0)
		return JSCAN_NONE;
	switch (v.p[0]) {
	case '{':
		return JSCAN_OBJECT;
	case '[':
		return JSCAN_ARRAY;
	case '"':
		return JSCAN_STRING;
	case 't':
		return JSCAN_TRUE;
	case 'f':
		return JSCAN_FALSE;
	case 'n':
		return JSCAN_NULL;
	default:
		return JSCAN_NUMBER;
	}
}

void
jscan_iter_init(struct jscan_iter *it, struct jspan obj)
{
	it->p = obj.p + 1; /* past the '{' */
	it->end = obj.p + obj.n;
}

bool
jscan_next(struct jscan_iter *it, struct jspan *key, struct jspan *value)
{
	const char *p = skip_space(it->p, it->end), *key_end;

	if (p < it->end && *p == ',')
		p = skip_space(p + 1, it->end);
	if (p >= it->end || *p != '"')
		return false; /* the closing '}' */
	key->p = ++p;
	it->key_escaped = false;
	for (; *p != '"'; p++) {
		if (*p == '\\') {
			it->key_escaped = true;
			p++;
		}
	}
	key->n = (size_t)(p - key->p);
	key_end = p + 1;
	p = skip_space(key_end, it->end);
	p = skip_space(p + 1, it->end); /* past the ':' */
	value->p = p;
	it->p = skip_value(p, it->end);
	value->n = (size_t)(it->p - p);
	return true;
}

static unsigned long
hex4(const char *p)
{
	return (unsigned long)(hex_digit(p[0]) << 12 | hex_digit(p[1]) << 8 | hex_digit(p[2]) << 4 |
		hex_digit(p[3]));
}

/*
 * Decode the checked string body p[0..n) into out[0..size), stopping at
 * U+0000 or when the next character would not fit. Returns the bytes
 * written; *whole says whether all of the body was.
 */
static size_t
decode(const char *p, size_t n, unsigned char *out, size_t size, bool *whole)
{
	const char *end = p + n;
	size_t len = 0;

	*whole = false;
	while (p < end) {
		unsigned char ch[4];
		size_t k;

		if (*p != '\\') {
			const char *run = p;

			while (p < end && *p != '\\' && *p != '\0')
				p++;
			k = (size_t)(p - run);
			if (k > size - len) {
				memcpy(out + len, run, size - len);
				return utf8_cut(out, size);
			}
			memcpy(out + len, run, k);
			len += k;
			if (p < end && *p == '\0')
				return len;
			continue;
		}
		p++;
		switch (*p++) {
		case 'u': {
			unsigned long cp = hex4(p);

			p += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' &&
				p[1] == 'u' && hex4(p + 2) >= 0xDC00 && hex4(p + 2) < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(p + 2) - 0xDC00);
				p += 6;
			} else if (cp >= 0xD800 && cp < 0xE000) {
				cp = 0xFFFD; /* a lone surrogate, as jq reads it */
			}
			if (cp == 0)
				return len;
			k = utf8_encode(cp, ch);
			break;
		}
		default: { /* one of "\\/bfnrt, which check_string let through */
			static const char escaped[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";

			ch[0] = (unsigned char)meant[strchr(escaped, p[-1]) - escaped];
			k = 1;
			break;
		}
		}
		if (k > size - len)
			return len;
		memcpy(out + len, ch, k);
		len += k;
	}
	*whole = true;
	return len;
}

/* Whether the key without escapes is name: no strlen, usually decided at the first byte. */
static bool
plain_key_is(struct jspan key, const char *name)
{
	for (size_t i = 0; i < key.n; i++)
		if (key.p[i] != name[i]) /* a shorter name stops at its NUL: keys have none */
			return false;
	return name[key.n] == '\0';
}

bool
jscan_key_is(struct jspan key, const char *name)
{
	size_t n = strlen(name), len;
	unsigned char small[256];
	unsigned char *text;
	bool whole, same;

	if (memchr(key.p, '\\', key.n) == NULL)
		return plain_key_is(key, name);
	if (key.n < n) /* an escape never makes the text shorter than it decodes to */
		return false;
	text = n < sizeof(small) ? small : malloc(n + 1);
	if (text == NULL)
		return false;
	len = decode(key.p, key.n, text, n + 1, &whole);
	same = whole && len == n && memcmp(text, name, n) == 0;
	if (text != small)
		free(text);
	return same;
}

static bool
key_matches(struct jspan key, bool escaped, const char *name)
{
	return escaped ? jscan_key_is(key, name) : plain_key_is(key, name);
}

void
jscan_pick(struct jspan obj, const struct jscan_pick *picks, size_t n)
{
	struct jspan key, value;
	struct jscan_iter it;

	clear_picks(picks, n);
	if (n == 0 || jscan_kind(obj) != JSCAN_OBJECT)
		return;
	jscan_iter_init(&it, obj);
	while (jscan_next(&it, &key, &value)) {
		for (size_t i = 0; i < n; i++) {
			if (key_matches(key, it.key_escaped, picks[i].name)) {
				*picks[i].value = value;
				jscan_pick(value, picks[i].members, picks[i].nmembers);
			}
		}
	}
}

struct jspan
jscan_get(struct jspan obj, const char *name)
{
	struct jspan value;
	const struct jscan_pick pick = { name, &value, NULL, 0 };

	jscan_pick(obj, &pick, 1);
	return value;
}

bool
jscan_string(struct jspan v, char *out, size_t size)
{
	size_t len;
	bool whole;

	if (size == 0)
		return jscan_kind(v) == JSCAN_STRING;
	out[0] = '\0';
	if (jscan_kind(v) != JSCAN_STRING)
		return false;
	len = decode(v.p + 1, v.n - 2, (unsigned char *)out, size - 1, &whole);
	out[len] = '\0';
	return true;
}

bool
jscan_number(struct jspan v, double *out)
{
	char small[64];
	char *text;

	if (jscan_kind(v) != JSCAN_NUMBER)
		return false;
	if (v.n < 19 && v.p[0] != '-') { /* the common case: a small integer */
		unsigned long long n = 0;
		size_t i;

		for (i = 0; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++)
			n = n * 10 + (unsigned long long)(v.p[i] - '0');
		if (i == v.n) {
			*out = (double)n;
			return true;
		}
	}
	text = v.n < sizeof(small) ? small : malloc(v.n + 1);
	if (text == NULL)
		return false;
	memcpy(text, v.p, v.n);
	text[v.n] = '\0';
	*out = strtod(text, NULL);
	if (text != small)
		free(text);
	return true;
}
