/* SPDX-License-Identifier: BSD-2-Clause */
/* HTTP transfers over libcurl multi, with the safety settings of http.h. */
#define _GNU_SOURCE /* timegm */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "util.h"
#include "version.h"

#define DEFAULT_MAX_BODY (64UL * 1024 * 1024)
#define MAX_HEADER_BYTES (64 * 1024)

struct http {
	CURLM *multi;
	struct http_options opt;
	int running; /* transfers started and not yet handed back */
	struct http_transfer **done;
	size_t ndone, done_cap;
};

double
clock_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

struct http *
http_new(const struct http_options *opt)
{
	static bool initialised;
	struct http *h = xcalloc(1, sizeof(*h));

	if (!initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			die(EXIT_SOFTWARE, "cannot initialise libcurl");
		initialised = true;
	}
	h->opt = *opt;
	if (h->opt.max_body == 0)
		h->opt.max_body = DEFAULT_MAX_BODY;
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		die(EXIT_SOFTWARE, "cannot initialise libcurl");
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	if (opt->max_connections > 0) {
		curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opt->max_connections);
		curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, opt->max_connections);
	}
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_multi_cleanup(h->multi);
	free(h->done);
	free(h);
}

struct http_transfer *
http_transfer_new(void)
{
	return xcalloc(1, sizeof(struct http_transfer));
}

void
http_clear_request(struct http_transfer *t)
{
	/* Header strings may hold a key: wipe them before the heap reuses them. */
	for (struct curl_slist *l = t->headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	free(t->url);
	t->url = NULL;
	buf_reset(&t->body);
	t->post = false;
	t->timeout_ms = 0;
	t->body_file = t->response_file = NULL;
	t->form_field = t->form_value = t->form_file = t->form_filename = NULL;
}

void
http_transfer_free(struct http_transfer *t)
{
	if (t == NULL)
		return;
	http_clear_request(t);
	curl_mime_free(t->mime);
	if (t->easy != NULL)
		curl_easy_cleanup(t->easy);
	buf_free(&t->body);
	buf_free(&t->response);
	buf_free(&t->response_headers);
	free(t);
}

void
http_add_header(struct http_transfer *t, const char *line)
{
	struct curl_slist *l = curl_slist_append(t->headers, line);

	if (l == NULL)
		die(EXIT_SOFTWARE, "out of memory (HTTP header)");
	t->headers = l;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_transfer *t = arg;
	size_t len = size * n;

	if (t->response.len + len > t->max_body) {
		t->too_large = true;
		return 0; /* libcurl stops the transfer with CURLE_WRITE_ERROR */
	}
	buf_add(&t->response, data, len);
	return len;
}

static size_t
on_body_file(char *data, size_t size, size_t n, void *arg)
{
	struct http_transfer *t = arg;

	return fwrite(data, size, n, t->response_file);
}

static size_t
read_body_file(char *to, size_t size, size_t n, void *arg)
{
	struct http_transfer *t = arg;
	size_t got = fread(to, size, n, t->body_file);

	return got == 0 && ferror(t->body_file) ? CURL_READFUNC_ABORT : got;
}

/* Point e at t's body_file (from its start), as a body or a form. Returns 0, or -1 with t->error.
 */
static int
set_file_body(CURL *e, struct http_transfer *t)
{
	struct stat st;
	curl_mimepart *part;

	if (fseeko(t->body_file, 0, SEEK_SET) != 0 || fstat(fileno(t->body_file), &st) != 0) {
		snprintf(t->error, sizeof(t->error), "cannot read the request body: %s",
			strerror(errno));
		return -1;
	}
	if (t->form_file == NULL) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body_file);
		curl_easy_setopt(e, CURLOPT_READDATA, t);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
		return 0;
	}
	curl_mime_free(t->mime);
	if ((t->mime = curl_mime_init(e)) == NULL)
		die(EXIT_SOFTWARE, "out of memory (HTTP form)");
	if (t->form_field != NULL) {
		if ((part = curl_mime_addpart(t->mime)) == NULL)
			die(EXIT_SOFTWARE, "out of memory (HTTP form)");
		curl_mime_name(part, t->form_field);
		curl_mime_data(part, t->form_value, CURL_ZERO_TERMINATED);
	}
	if ((part = curl_mime_addpart(t->mime)) == NULL)
		die(EXIT_SOFTWARE, "out of memory (HTTP form)");
	curl_mime_name(part, t->form_file);
	curl_mime_filename(part, t->form_filename);
	curl_mime_type(part, "application/octet-stream");
	curl_mime_data_cb(part, (curl_off_t)st.st_size, read_body_file, NULL, NULL, t);
	curl_easy_setopt(e, CURLOPT_MIMEPOST, t->mime);
	return 0;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_transfer *t = arg;
	size_t len = size * n;

	/* A status line starts a new response (after "100 Continue", say). */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		buf_reset(&t->response_headers);
		return len;
	}
	if (t->response_headers.len + len <= MAX_HEADER_BYTES) {
		while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
			len--;
		if (len > 0) {
			buf_add(&t->response_headers, data, len);
			buf_putc(&t->response_headers, '\n');
		}
	}
	return size * n;
}

int
http_start(struct http *h, struct http_transfer *t)
{
	CURL *e = t->easy;

	if (e == NULL) {
		e = t->easy = curl_easy_init();
		if (e == NULL)
			die(EXIT_SOFTWARE, "cannot initialise libcurl");
	} else {
		curl_easy_reset(e);
	}
	t->status = 0;
	t->result = CURLE_OK;
	t->error[0] = '\0';
	t->too_large = false;
	t->max_body = h->opt.max_body;
	buf_reset(&t->response);
	buf_reset(&t->response_headers);
	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "jlkit/" JLKIT_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, t->response_file ? on_body_file : on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	if (t->response_file != NULL &&
		(fseeko(t->response_file, 0, SEEK_SET) != 0 ||
			ftruncate(fileno(t->response_file), 0) != 0)) {
		snprintf(t->error, sizeof(t->error), "cannot write the response: %s",
			strerror(errno));
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	if (h->opt.cacert != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->opt.cacert);
	if (t->timeout_ms > 0) {
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t->timeout_ms);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			t->timeout_ms < 10000 ? t->timeout_ms : 10000L);
	}
	if (t->post && t->body_file != NULL) {
		if (set_file_body(e, t) != 0)
			return -1;
	} else if (t->post) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.len > 0 ? t->body.data : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body.len);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	t->started_ms = clock_ms();
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		snprintf(t->error, sizeof(t->error), "cannot start the request");
		return -1;
	}
	h->running++;
	return 0;
}

void
http_cancel(struct http *h, struct http_transfer *t)
{
	curl_multi_remove_handle(h->multi, t->easy);
	h->running--;
}

int
http_running(const struct http *h)
{
	return h->running;
}

/*
 * A response written to response_file that is not a success is an error
 * body: its first 64 KiB go into response too, for the caller to class it.
 */
static void
keep_error_body(struct http_transfer *t)
{
	char chunk[4096];
	size_t n;

	if (t->response_file == NULL || (t->status >= 200 && t->status < 300) ||
		fflush(t->response_file) != 0 || fseeko(t->response_file, 0, SEEK_SET) != 0)
		return;
	while (t->response.len < 64 * 1024 &&
		(n = fread(chunk, 1, sizeof(chunk), t->response_file)) > 0)
		buf_add(&t->response, chunk, n);
}

/* Move finished transfers from libcurl to the done list. */
static void
collect_done(struct http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct http_transfer *t;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		t->result = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &t->status);
		t->latency_ms = clock_ms() - t->started_ms;
		if (t->result != CURLE_OK && t->error[0] == '\0')
			snprintf(t->error, sizeof(t->error), "%s", curl_easy_strerror(t->result));
		keep_error_body(t);
		curl_multi_remove_handle(h->multi, msg->easy_handle);
		if (h->ndone == h->done_cap) {
			h->done_cap = h->done_cap ? 2 * h->done_cap : 16;
			h->done = xreallocarray(h->done, h->done_cap, sizeof(*h->done));
		}
		h->done[h->ndone++] = t;
	}
}

int
http_poll(struct http *h, int timeout_ms, int extra_fd, bool *extra_ready)
{
	struct curl_waitfd extra = { .fd = extra_fd, .events = CURL_WAIT_POLLIN };
	int still, numfds;
	CURLMcode rc;

	*extra_ready = false;
	if (timeout_ms < 0)
		timeout_ms = 0;
	rc = curl_multi_poll(h->multi, extra_fd >= 0 ? &extra : NULL, extra_fd >= 0 ? 1 : 0,
		timeout_ms, &numfds);
	if (rc != CURLM_OK)
		return error("HTTP: %s", curl_multi_strerror(rc));
	*extra_ready = extra_fd >= 0 && (extra.revents & CURL_WAIT_POLLIN) != 0;
	rc = curl_multi_perform(h->multi, &still);
	if (rc != CURLM_OK)
		return error("HTTP: %s", curl_multi_strerror(rc));
	collect_done(h);
	return 0;
}

struct http_transfer *
http_next_done(struct http *h)
{
	struct http_transfer *t;

	if (h->ndone == 0)
		return NULL;
	t = h->done[0];
	memmove(h->done, h->done + 1, (h->ndone - 1) * sizeof(*h->done));
	h->ndone--;
	h->running--;
	return t;
}

const char *
http_response_header(const struct http_transfer *t, const char *name, struct buf *out)
{
	size_t n = strlen(name);
	const char *p = t->response_headers.data, *end = p + t->response_headers.len;

	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			buf_reset(out);
			buf_add(out, v, (size_t)(eol - v));
			while (out->len > 0 &&
				(out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
				out->len--;
			return buf_cstr(out);
		}
		p = eol + 1;
	}
	return NULL;
}

double
http_retry_after_ms(const struct http_transfer *t)
{
	struct buf v = BUF_INIT;
	double ms = -1;
	bool said = false;
	char *end;

	if (http_response_header(t, "retry-after-ms", &v) != NULL) {
		ms = strtod(v.data, &end);
		said = end != v.data && ms == ms; /* a number, not NaN */
	}
	if (!said && http_response_header(t, "retry-after", &v) != NULL) {
		double secs = strtod(v.data, &end);

		if (end != v.data && *end == '\0' && secs == secs) {
			ms = secs * 1000.0;
			said = true;
		} else {
			/* An HTTP date; one in the past means now. */
			time_t when = curl_getdate(v.data, NULL);

			if (when != -1) {
				ms = ((double)when - (double)time(NULL)) * 1000.0;
				said = true;
			}
		}
	}
	buf_free(&v);
	if (!said)
		return -1;
	return ms < 0 ? 0 : ms;
}

int
parse_go_duration(const char *s, double *ms)
{
	double total = 0;
	bool any = false;

	while (*s != '\0') {
		char *end;
		double v = strtod(s, &end);

		if (end == s || v < 0)
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0) {
			total += v;
			s += 2;
		} else if (strncmp(s, "us", 2) == 0 || strncmp(s, "µs", 3) == 0) {
			total += v / 1000.0;
			s += s[0] == 'u' ? 2 : 3;
		} else if (strncmp(s, "ns", 2) == 0) {
			total += v / 1e6;
			s += 2;
		} else if (*s == 'h') {
			total += v * 3600000.0;
			s++;
		} else if (*s == 'm') {
			total += v * 60000.0;
			s++;
		} else if (*s == 's') {
			total += v * 1000.0;
			s++;
		} else {
			return -1;
		}
		any = true;
	}
	if (!any)
		return -1;
	*ms = total;
	return 0;
}

int
parse_rfc3339(const char *s, double *epoch_ms)
{
	struct tm tm = { 0 };
	int year, mon, day, hour, min;
	double sec;
	char z;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%c", &year, &mon, &day, &hour, &min, &sec, &z) != 7 ||
		(z != 'Z' && z != 'z'))
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = 0;
	*epoch_ms = ((double)timegm(&tm) + sec) * 1000.0;
	return 0;
}

void
url_encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(out, (char)c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}
