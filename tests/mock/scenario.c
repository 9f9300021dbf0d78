/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Scenario files (tests/mock/README): rules that script the answers to
 * requests by their number, for tests that assert exact client behaviour.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"
#include "util.h"

/* The error kinds a rule may name (routes.c knows their bodies). */
static const char *const error_kinds[] = {
	"invalid_key",
	"forbidden",
	"model_not_found",
	"context_length",
	"bad_request",
	"rate_limit",
	"request_too_large",
	"insufficient_quota",
	"daily_quota",
	"credits",
	"server",
	"bad_gateway",
	"unavailable",
	"timeout",
	"overloaded",
	"plan_limit",
	"payg_limit",
	"error_in_200",
};

struct rule {
	int line;
	unsigned long lo, hi; /* request numbers; hi ULONG_MAX: open-ended */
	int filter;           /* index of its path= text, or -1 */
	int status;           /* 0: not set */
	const char *error_kind;
	char *body;
	size_t body_len;
	bool has_body;
	struct buf headers; /* "Name: value\r\n" lines */
	long delay_ms;
	enum fault fault;
	size_t truncate_at;
	long drip_bps;
	bool garbage;
};

struct scenario {
	struct rule *rules;
	size_t nrules;
	char **filters; /* the distinct path= texts */
	unsigned long *counts;
	size_t nfilters;
	unsigned long all; /* requests counted without a filter */
};

/* Where a parse error is reported. */
struct where {
	const char *path;
	int line;
};

static int
parse_error(const struct where *w, const char *what, const char *token)
{
	warn("%s:%d: %s '%s'", w->path, w->line, what, token);
	return -1;
}

static int
parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_range(struct rule *r, char *token, const struct where *w)
{
	char *dash = strchr(token, '-');
	long lo, hi;

	if (strcmp(token, "*") == 0) {
		r->lo = 1;
		r->hi = ULONG_MAX;
		return 0;
	}
	if (dash != NULL)
		*dash = '\0';
	if (parse_number(token, 1, LONG_MAX, &lo) != 0)
		return parse_error(w, "bad request number", token);
	r->lo = (unsigned long)lo;
	r->hi = r->lo;
	if (dash != NULL && dash[1] == '\0') {
		r->hi = ULONG_MAX;
	} else if (dash != NULL) {
		if (parse_number(dash + 1, lo, LONG_MAX, &hi) != 0)
			return parse_error(w, "bad range end", dash + 1);
		r->hi = (unsigned long)hi;
	}
	return 0;
}

/* Read a whole file into a malloc'ed buffer; its length in *len. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		buf_free(&b);
		return NULL;
	}
	fclose(f);
	*len = b.len;
	buf_cstr(&b);
	return b.data;
}

/* body=@FILE is relative to the scenario file's directory. */
static int
load_body_file(struct rule *r, const char *name, const struct where *w)
{
	const char *slash = strrchr(w->path, '/');
	struct buf path = BUF_INIT;

	if (name[0] != '/' && slash != NULL)
		buf_add(&path, w->path, (size_t)(slash - w->path) + 1);
	buf_puts(&path, name);
	r->body = slurp(buf_cstr(&path), &r->body_len);
	buf_free(&path);
	if (r->body == NULL) {
		warn("%s:%d: cannot read body file '%s':", w->path, w->line, name);
		return -1;
	}
	r->has_body = true;
	return 0;
}

static int
set_fault(struct rule *r, enum fault f, const char *token, const struct where *w)
{
	if (r->fault != FAULT_NONE)
		return parse_error(w, "a second fault", token);
	r->fault = f;
	return 0;
}

/* Strip one pair of surrounding quotes (' or ") from value, in place. */
static char *
unquote(char *value)
{
	size_t n = strlen(value);

	if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
		value[n - 1] = '\0';
		return value + 1;
	}
	return value;
}

static int
add_filter(struct scenario *s, const char *text)
{
	for (size_t i = 0; i < s->nfilters; i++)
		if (strcmp(s->filters[i], text) == 0)
			return (int)i;
	s->filters = xreallocarray(s->filters, s->nfilters + 1, sizeof(*s->filters));
	s->counts = xreallocarray(s->counts, s->nfilters + 1, sizeof(*s->counts));
	s->filters[s->nfilters] = xstrdup(text);
	s->counts[s->nfilters] = 0;
	return (int)s->nfilters++;
}

/* One action of a rule: "status=429", "stall", "header=\"A: b\"", ... */
static int
parse_action(struct scenario *s, struct rule *r, char *token, const struct where *w)
{
	char *eq = strchr(token, '=');
	char *value = eq != NULL ? unquote(eq + 1) : NULL;
	long v;

	if (eq != NULL)
		*eq = '\0';
	if (strcmp(token, "status") == 0 && value != NULL) {
		if (parse_number(value, 100, 599, &v) != 0)
			return parse_error(w, "bad status", value);
		r->status = (int)v;
	} else if (strcmp(token, "error") == 0 && value != NULL) {
		for (size_t i = 0; i < sizeof(error_kinds) / sizeof(*error_kinds); i++)
			if (strcmp(value, error_kinds[i]) == 0)
				r->error_kind = error_kinds[i];
		if (r->error_kind == NULL)
			return parse_error(w, "unknown error kind", value);
	} else if (strcmp(token, "body") == 0 && value != NULL) {
		if (value[0] == '@')
			return load_body_file(r, value + 1, w);
		r->body = xstrdup(value);
		r->body_len = strlen(value);
		r->has_body = true;
	} else if (strcmp(token, "header") == 0 && value != NULL) {
		if (strchr(value, ':') == NULL)
			return parse_error(w, "a header needs 'Name: value', not", value);
		buf_puts(&r->headers, value);
		buf_puts(&r->headers, "\r\n");
	} else if (strcmp(token, "path") == 0 && value != NULL) {
		r->filter = add_filter(s, value);
	} else if (strcmp(token, "delay") == 0 && value != NULL) {
		if (parse_number(value, 0, 3600000, &r->delay_ms) != 0)
			return parse_error(w, "bad delay", value);
	} else if (strcmp(token, "drip") == 0 && value != NULL) {
		if (parse_number(value, 1, 1L << 30, &r->drip_bps) != 0)
			return parse_error(w, "bad drip rate", value);
		return set_fault(r, FAULT_DRIP, token, w);
	} else if (strcmp(token, "truncate") == 0 && value != NULL) {
		if (parse_number(value, 0, LONG_MAX, &v) != 0)
			return parse_error(w, "bad truncate length", value);
		r->truncate_at = (size_t)v;
		return set_fault(r, FAULT_TRUNCATE, token, w);
	} else if (strcmp(token, "stall") == 0 && value == NULL) {
		return set_fault(r, FAULT_STALL, token, w);
	} else if (strcmp(token, "reset") == 0 && value == NULL) {
		return set_fault(r, FAULT_RESET, token, w);
	} else if (strcmp(token, "close-after-headers") == 0 && value == NULL) {
		return set_fault(r, FAULT_CLOSE_AFTER_HEADERS, token, w);
	} else if (strcmp(token, "garbage") == 0 && value == NULL) {
		r->garbage = true;
	} else {
		return parse_error(w, "unknown action", token);
	}
	return 0;
}

/* Cut the next token off *p: spaces separate tokens, quotes keep spaces in. */
static char *
next_token(char **p)
{
	char *s = *p, *start;
	char quote = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return NULL;
	start = s;
	for (; *s != '\0'; s++) {
		if (quote != 0 && *s == quote)
			quote = 0;
		else if (quote == 0 && (*s == '"' || *s == '\''))
			quote = *s;
		else if (quote == 0 && (*s == ' ' || *s == '\t'))
			break;
	}
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return start;
}

static int
parse_line(struct scenario *s, char *line, const struct where *w)
{
	struct rule r = { .line = w->line, .filter = -1 };
	char *token = next_token(&line);
	int actions = 0;

	if (token == NULL || token[0] == '#')
		return 0;
	if (parse_range(&r, token, w) != 0)
		return -1;
	while ((token = next_token(&line)) != NULL) {
		if (parse_action(s, &r, token, w) != 0) {
			free(r.body);
			buf_free(&r.headers);
			return -1;
		}
		actions++;
	}
	if (actions == 0 || (actions == 1 && r.filter >= 0)) {
		warn("%s:%d: a rule needs an action (status=, error=, body=, header=, or a fault)",
			w->path, w->line);
		return -1;
	}
	s->rules = xreallocarray(s->rules, s->nrules + 1, sizeof(*s->rules));
	s->rules[s->nrules++] = r;
	return 0;
}

struct scenario *
scenario_load(const char *path)
{
	struct scenario *s = xcalloc(1, sizeof(*s));
	struct where w = { path, 0 };
	size_t len;
	char *text = slurp(path, &len), *line, *next;

	if (text == NULL) {
		warn("cannot read scenario '%s':", path);
		free(s);
		return NULL;
	}
	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		w.line++;
		if (parse_line(s, line, &w) != 0) {
			free(text);
			scenario_free(s);
			return NULL;
		}
	}
	free(text);
	return s;
}

void
scenario_free(struct scenario *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nrules; i++) {
		free(s->rules[i].body);
		buf_free(&s->rules[i].headers);
	}
	for (size_t i = 0; i < s->nfilters; i++)
		free(s->filters[i]);
	free(s->rules);
	free(s->filters);
	free(s->counts);
	free(s);
}

const struct rule *
scenario_match(struct scenario *s, const char *path)
{
	s->all++;
	for (size_t i = 0; i < s->nfilters; i++)
		if (strstr(path, s->filters[i]) != NULL)
			s->counts[i]++;
	for (size_t i = 0; i < s->nrules; i++) {
		const struct rule *r = &s->rules[i];
		unsigned long n = s->all;

		if (r->filter >= 0) {
			if (strstr(path, s->filters[r->filter]) == NULL)
				continue;
			n = s->counts[r->filter];
		}
		if (n >= r->lo && n <= r->hi)
			return r;
	}
	return NULL;
}

static const char *
fault_name(enum fault f)
{
	switch (f) {
	case FAULT_STALL:
		return "stall";
	case FAULT_RESET:
		return "reset";
	case FAULT_CLOSE_AFTER_HEADERS:
		return "close-after-headers";
	case FAULT_TRUNCATE:
		return "truncate";
	case FAULT_DRIP:
		return "drip";
	default:
		return NULL;
	}
}

bool
scenario_apply(const struct rule *r, struct response *resp, const char **error_kind, bool *has_body,
	bool *garbage)
{
	if (r->status != 0)
		resp->status = r->status;
	buf_add(&resp->headers, r->headers.data, r->headers.len);
	if (r->has_body)
		buf_add(&resp->body, r->body, r->body_len);
	resp->delay_ms += r->delay_ms;
	resp->fault = r->fault;
	resp->truncate_at = r->truncate_at;
	resp->drip_bps = r->drip_bps;
	resp->fault_name = fault_name(r->fault);
	if (resp->fault_name == NULL && r->garbage)
		resp->fault_name = "garbage";
	if (resp->fault_name == NULL && r->delay_ms > 0)
		resp->fault_name = "delay";
	*error_kind = r->error_kind;
	*has_body = r->has_body;
	*garbage = r->garbage;
	return r->status != 0;
}
