/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading JSON text in place, without building values: a strict RFC 8259
 * checker and a walk over the members of an object, for the tools whose
 * hot loop only looks at a few fields of each record (jl-cost). Spans point
 * into the caller's text and live as long as it does.
 */
#ifndef JL_JSCAN_H
#define JL_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Deepest nesting jscan_object_valid accepts, as jq 1.6's parser counts it:
 * each open container weighs 1, and 1 more when it is the value of an
 * object's member; the weights of the containers open at once add up to at
 * most 256 (so 128 objects in objects, 254 arrays in an object's member).
 */
#define JSCAN_MAX_DEPTH 256

/* A piece of JSON text: a whole value, or a key without its quotes. */
struct jspan {
	const char *p;
	size_t n;
};

enum jscan_kind {
	JSCAN_NONE, /* no value: the member is missing */
	JSCAN_OBJECT,
	JSCAN_ARRAY,
	JSCAN_STRING,
	JSCAN_NUMBER,
	JSCAN_TRUE,
	JSCAN_FALSE,
	JSCAN_NULL,
};

/*
 * Whether s[0..n) is exactly one JSON object, whitespace around it allowed,
 * by RFC 8259 (no NaN, no comments, no trailing commas, nesting within
 * JSCAN_MAX_DEPTH, a \u escape of a high surrogate only with one of a low
 * surrogate after it). Every text it accepts, jq accepts too. UTF-8 is not
 * checked here: the caller has done that.
 */
bool jscan_object_valid(const char *s, size_t n);

/*
 * A member for jscan_object_pick to pick: its name, where its value goes,
 * and the members to pick inside that value when it is an object.
 */
struct jscan_pick {
	const char *name;
	struct jspan *value;
	const struct jscan_pick *members;
	size_t nmembers; /* at most 64, as npicks */
};

/*
 * jscan_object_valid, picking on the way the members picks[0..npicks) of
 * the object and, below each, its members (as jq reads a repeated name:
 * the last one). A value missing, and every value when the text is not
 * valid, is an empty span. npicks is at most 64.
 */
bool jscan_object_pick(const char *s, size_t n, const struct jscan_pick *picks, size_t npicks);

/* The kind of the value v (a span jscan handed out; JSCAN_NONE when empty). */
enum jscan_kind jscan_kind(struct jspan v);

/* Members of an object value that jscan_object_valid accepted. */
struct jscan_iter {
	const char *p, *end;
	bool key_escaped; /* the key jscan_next just returned has an escape in it */
};

/* Start at the first member of obj (an object value). */
void jscan_iter_init(struct jscan_iter *it, struct jspan obj);

/*
 * The next member: its key as written between the quotes (escapes not
 * decoded; see jscan_key_is) and its value. false after the last one.
 */
bool jscan_next(struct jscan_iter *it, struct jspan *key, struct jspan *value);

/* Whether key (from jscan_next) decodes to the C string name. */
bool jscan_key_is(struct jspan key, const char *name);

/*
 * jscan_object_pick on obj, a value jscan handed out (checked text): the
 * members picks[0..n) and those below them, in one walk; every value empty
 * when obj is not an object.
 */
void jscan_pick(struct jspan obj, const struct jscan_pick *picks, size_t n);

/*
 * The value of the member name of obj (an object value; the last one when
 * the name repeats, as jq reads it); an empty span when there is none or obj
 * is not an object.
 */
struct jspan jscan_get(struct jspan obj, const char *name);

/*
 * A string value v decoded into out as a C string, cut to size - 1 bytes
 * at a character boundary and at any U+0000; lone surrogates become U+FFFD.
 * Returns false (and out "") when v is not a string.
 */
bool jscan_string(struct jspan v, char *out, size_t size);

/* A number value v as a double (as jq reads it). false when v is not a number. */
bool jscan_number(struct jspan v, double *out);

#endif
