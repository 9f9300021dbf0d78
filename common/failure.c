/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <string.h>

#include "failure.h"
#include "record.h"

void
failure_set(struct failure *f, enum next_step step, const char *code)
{
	f->step = step;
	snprintf(f->code, sizeof(f->code), "%s", code);
}

bool
failure_transport(const struct http_transfer *t, struct failure *f)
{
	f->overload = f->server = false;
	buf_reset(&f->message);
	if (t->result == CURLE_OK)
		return false;
	if (t->too_large) {
		failure_set(f, STEP_RECORD, ERR_RESPONSE_TOO_LARGE);
		buf_puts(&f->message, "the answer is larger than the cap");
	} else {
		failure_set(f, STEP_RETRY,
			t->result == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_NETWORK);
		f->server = true;
		buf_puts(&f->message, t->error[0] ? t->error : curl_easy_strerror(t->result));
	}
	return true;
}

/* v (consumed) as a code: a string as is, a number as http_N. Returns whether it was one. */
static bool
take_code(jv v, char *code, size_t code_size)
{
	bool ok = true;

	if (jv_get_kind(v) == JV_KIND_STRING)
		snprintf(code, code_size, "%s", jv_string_value(v));
	else if (jv_get_kind(v) == JV_KIND_NUMBER)
		snprintf(code, code_size, "http_%d", (int)jv_number_value(v));
	else
		ok = false;
	jv_free(v);
	return ok;
}

/* Append v (consumed) when it is a string. Returns whether it was one. */
static bool
take_message(jv v, struct buf *message)
{
	bool ok = jv_get_kind(v) == JV_KIND_STRING;

	if (ok)
		buf_puts(message, jv_string_value(v));
	jv_free(v);
	return ok;
}

bool
failure_server_error(jv body, char *code, size_t code_size, struct buf *message)
{
	jv err, detail;

	code[0] = '\0';
	if (jv_get_kind(body) != JV_KIND_OBJECT)
		return false;
	err = jv_object_get(jv_copy(body), jv_string("error"));
	if (jv_get_kind(err) == JV_KIND_OBJECT) {
		/* OpenAI, Anthropic, Groq, OpenRouter, Brave */
		if (!take_code(jv_object_get(jv_copy(err), jv_string("code")), code, code_size))
			take_code(jv_object_get(jv_copy(err), jv_string("type")), code, code_size);
		if (!take_message(jv_object_get(jv_copy(err), jv_string("message")), message))
			take_message(jv_object_get(jv_copy(err), jv_string("detail")), message);
		jv_free(err);
		return true;
	}
	if (take_message(err, message)) /* Exa */
		return true;
	detail = jv_object_get(jv_copy(body), jv_string("detail"));
	if (jv_get_kind(detail) == JV_KIND_OBJECT) /* Tavily */
		return take_message(jv_object_get(detail, jv_string("error")), message);
	if (take_message(detail, message)) /* FastAPI */
		return true;
	return take_message(jv_object_get(jv_copy(body), jv_string("message")),
		message); /* Serper */
}

void
failure_server_text(const struct http_transfer *t, char *code, size_t code_size,
	struct buf *message)
{
	jv body = t->response.len > 0 && t->response.len <= 0x7fffffff
		? jv_parse_sized(t->response.data, (int)t->response.len)
		: jv_invalid();

	failure_server_error(body, code, code_size, message);
	jv_free(body);
}

/* The codes of an exhausted account (doc/protocols.md §4), beside a 402. */
static bool
is_quota_code(const char *code)
{
	static const char *const quota[] = { "insufficient_quota", "credit_balance_exhausted",
		"organization_spend_limit_exceeded", "project_spend_limit_exceeded",
		"organization_usage_limit_exceeded", "billing_error" };

	for (size_t i = 0; i < sizeof(quota) / sizeof(*quota); i++)
		if (strcmp(code, quota[i]) == 0)
			return true;
	return false;
}

void
failure_by_status(long s, const char *server_code, const char *server_message, struct failure *f)
{
	char http_code[24];

	snprintf(http_code, sizeof(http_code), "http_%ld", s);
	if (s == 400 || s == 413 || s == 422) {
		failure_set(f, STEP_RECORD, http_code);
	} else if (s == 401 || s == 403) {
		failure_set(f, STEP_STOP_AUTH, http_code);
	} else if (s == 402 || s == 432 || s == 433) {
		failure_set(f, STEP_STOP_QUOTA, http_code);
	} else if (s == 404) {
		failure_set(f, STEP_FALLBACK, http_code);
	} else if (s == 429) {
		if (is_quota_code(server_code)) {
			failure_set(f, STEP_STOP_QUOTA, "insufficient_quota");
		} else if (strncmp(server_message, "Request too large", 17) == 0) {
			failure_set(f, STEP_RECORD, ERR_REQUEST_TOO_LARGE);
		} else {
			failure_set(f, STEP_RATE, http_code);
			f->overload = true;
		}
	} else if (s == 408 || s == 409) {
		failure_set(f, STEP_RETRY, http_code);
	} else if (s >= 500) {
		failure_set(f, STEP_RETRY, http_code);
		f->server = true;
		f->overload = s == 503 || s == 529;
	} else {
		failure_set(f, STEP_RECORD, http_code);
	}
}

void
failure_finish(const struct http_transfer *t, const char *server_message, struct failure *f)
{
	struct buf value = BUF_INIT;
	const char *should_retry = http_response_header(t, "x-should-retry", &value);
	size_t len = strlen(server_message);

	if (should_retry != NULL && f->step != STEP_STOP_AUTH && f->step != STEP_STOP_QUOTA &&
		f->step != STEP_STOP_LATER) {
		if (strcmp(should_retry, "true") == 0 && f->step == STEP_RECORD)
			f->step = STEP_RETRY;
		else if (strcmp(should_retry, "false") == 0 &&
			(f->step == STEP_RETRY || f->step == STEP_RATE))
			f->step = STEP_RECORD;
	}
	buf_puts(&f->message, "HTTP ");
	buf_add_uint(&f->message, (unsigned long long)t->status);
	if (len > 0) {
		buf_puts(&f->message, ": ");
		buf_add(&f->message, server_message, len > 300 ? 300 : len);
	}
	buf_free(&value);
}
