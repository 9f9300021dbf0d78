/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One way to build a record or an error in it (jlkit(7) RECORDS): add a
 * member to a record's text or to its jv, build an _error, ask whether a
 * record failed, write a jv out as one line. Every tool and both record
 * loops (recloop.h, netloop.h) use these and nothing else.
 *
 * A record's text is one JSON object, strictly valid (RFC 8259, UTF-8),
 * without its newline; the functions that append a record end it with '\n'.
 * jv ownership follows jv.h: a jv argument is consumed unless it says
 * borrowed.
 */
#ifndef JL_RECORD_H
#define JL_RECORD_H

#include <jv.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "jscan.h"

/*
 * Every _error code a tool writes, besides http_NNN (an HTTP status no
 * other code explains) and the codes a provider gives for a refused key or
 * an exhausted quota. jlkit(7) lists each with its meaning; a test holds
 * the list and the page together.
 */
#define ERR_BAD_INPUT "bad_input"                   /* any tool: the line is not a JSON object */
#define ERR_BAD_UTF8 "bad_utf8"                     /* jl-csv: a row that is not valid UTF-8 */
#define ERR_UNTERMINATED_QUOTE "unterminated_quote" /* jl-csv: the input ends inside quotes */
#define ERR_BAD_QUOTE "bad_quote"                   /* jl-csv: a quote in the wrong place */
#define ERR_RAGGED_ROW "ragged_row"                 /* jl-csv: more or fewer fields than columns */
#define ERR_FIELD_TOO_LARGE "field_too_large"       /* jl-csv: a field over --max-field */
#define ERR_ROW_TOO_LARGE "row_too_large"           /* jl-csv: a row over --max-row */
#define ERR_BAD_KEY "bad_key"                       /* jl-dedup: --key gave no usable key */
#define ERR_COST_OVERFLOW "cost_overflow"           /* jl-cost: the amount cannot be computed */
#define ERR_BAD_DOCUMENT "bad_document"             /* jl-search --index: no url or content */
#define ERR_INDEX_ERROR "index_error"               /* jl-search: the local index failed */
#define ERR_BAD_QUERY "bad_query"                   /* jl-search: --query gave no query */
#define ERR_TEMPLATE "template"                     /* jl-llm: the prompt could not be rendered */
#define ERR_BAD_JSON_OUTPUT "bad_json_output"       /* jl-llm --json: the answer is not JSON */
#define ERR_CONTEXT_LENGTH "context_length"         /* jl-llm: the prompt is too long */
#define ERR_MODEL_NOT_FOUND "model_not_found"       /* jl-llm: no target knows the model */
#define ERR_REQUEST_TOO_LARGE "request_too_large"   /* the service refused the size */
#define ERR_RESPONSE_TOO_LARGE "response_too_large" /* the answer is over the cap */
#define ERR_BAD_RESPONSE "bad_response"             /* a 200 that is not the API's answer */
#define ERR_PROVIDER_ERROR "provider_error"         /* jl-llm: an error inside a 200 */
#define ERR_NETWORK "network"                       /* no answer: DNS, connect, TLS */
#define ERR_TIMEOUT "timeout"                       /* no answer within --timeout */
/* Held back: the run did not try the record; a rerun does (record_held_back). */
#define ERR_BUDGET_EXCEEDED "budget_exceeded" /* the ledger reached --budget */
#define ERR_NOT_SENT "not_sent"               /* the run stopped before sending it */
#define ERR_INTERRUPTED "interrupted"         /* the run stopped while it was in flight */
#define ERR_DAILY_QUOTA "daily_quota"         /* the provider's quota for the day is used up */

/* What an _error holds besides "tool" (always this tool's name). */
struct record_error {
	const char *code;    /* one of the ERR_ codes, or http_NNN, or a provider's */
	const char *message; /* for people; names the input and the cause */
	const char *file;    /* the input file, or NULL */
	unsigned long line;  /* the input line, or 0 */
	long status;         /* the HTTP status, or 0 */
	int attempts;        /* HTTP attempts, or -1 */
};

/* Append the _error object {"tool","code","message",...} for e. */
void record_error_object(struct buf *to, const struct record_error *e);

/*
 * Append the member "_error":{...} for e, with no braces around it and no
 * comma before it, for a caller that composes the object.
 */
void record_error_member(struct buf *to, const struct record_error *e);

/* The _error object for e as a jv. */
jv record_error_jv(const struct record_error *e);

/*
 * Append text[0..len) (a record) with the member name: value[0..value_len)
 * (JSON text) as its last member, and '\n'. When present, the record has a
 * member name already: every copy of it is dropped first.
 */
void record_add_member(struct buf *to, const char *text, size_t len, bool present, const char *name,
	const char *value, size_t value_len);

/* The same for a jv record: rec with name set to value. */
jv record_set(jv rec, const char *name, jv value);

/* Append text[0..len) with _error set to e (over an _error present already), and '\n'. */
void record_fail_text(struct buf *to, const char *text, size_t len, bool present,
	const struct record_error *e);

/* rec with _error set to e. */
jv record_fail(jv rec, const struct record_error *e);

/* Append v as compact JSON and '\n'. */
void record_dump(struct buf *to, jv v);

/* Whether rec (borrowed) carries an _error that is not null: it failed upstream. */
bool record_failed(jv rec);

/* The same for the value of a picked _error member (empty: none). */
bool record_failed_span(struct jspan error);

/* Whether text[0..len), a record, has the top-level member name. */
bool record_has_member(const char *text, size_t len, const char *name);

/*
 * Whether an _error code says the run held the record back rather than
 * tried it (ERR_BUDGET_EXCEEDED, ERR_NOT_SENT, ERR_INTERRUPTED): it uses no
 * attempt, and a rerun tries it.
 */
bool record_held_back(const char *code);

#endif
