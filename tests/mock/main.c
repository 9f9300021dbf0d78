/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mockd: the event loop. One thread, epoll, HTTP/1.1 keep-alive, many
 * connections; answers wait on a timer heap (latency, delays, drips).
 * Listens on 127.0.0.1 only and ends by itself (--lifetime, SIGTERM).
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "mock.h"
#include "opt.h"
#include "strset.h"
#include "util.h"
#include "version.h"

#define MAX_CONNS 65536
#define READ_CHUNK 65536

enum conn_state {
	C_READING, /* waiting for (the rest of) a request */
	C_WAITING, /* an answer is decided and waits for its time */
	C_WRITING, /* sending */
	C_DRIPPING,
	C_STALLED,
};

struct conn {
	int fd; /* -1: free slot */
	unsigned gen;
	enum conn_state state;
	struct buf in;  /* bytes received, not yet parsed */
	struct buf out; /* the answer being sent */
	size_t out_sent;
	struct buf scratch; /* the parsed request's strings */
	struct response resp;
	bool keep_alive;
	bool close_after;   /* close once out is sent (faults, Connection: close) */
	bool continue_sent; /* "100 Continue" went out for this request */
	bool in_flight;
	bool want_out; /* EPOLLOUT is on */
};

struct timer {
	double due_ms;
	int fd;
	unsigned gen;
};

struct server {
	struct mock mock;
	int epfd, listen_fd;
	struct conn *conns; /* indexed by fd */
	struct timer *timers;
	size_t ntimers, timer_cap;
	struct timespec start;
	FILE *log;
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double
now_ms(const struct server *s)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - s->start.tv_sec) * 1000.0 +
		(double)(t.tv_nsec - s->start.tv_nsec) / 1e6;
}

double
mock_random(struct mock *m)
{
	/* xorshift64*: small, fast, and the same sequence for the same --seed. */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return (double)((m->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* --- timers: a binary heap by due time ---------------------------------------- */

static void
timer_swap(struct server *s, size_t a, size_t b)
{
	struct timer t = s->timers[a];

	s->timers[a] = s->timers[b];
	s->timers[b] = t;
}

static void
timer_add(struct server *s, struct conn *c, double due_ms)
{
	size_t i;

	if (s->ntimers == s->timer_cap) {
		s->timer_cap = s->timer_cap ? 2 * s->timer_cap : 64;
		s->timers = xreallocarray(s->timers, s->timer_cap, sizeof(*s->timers));
	}
	i = s->ntimers++;
	s->timers[i] = (struct timer){ due_ms, c->fd, c->gen };
	while (i > 0 && s->timers[(i - 1) / 2].due_ms > s->timers[i].due_ms) {
		timer_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct timer
timer_pop(struct server *s)
{
	struct timer top = s->timers[0];
	size_t i = 0;

	s->timers[0] = s->timers[--s->ntimers];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->ntimers && s->timers[l].due_ms < s->timers[m].due_ms)
			m = l;
		if (r < s->ntimers && s->timers[r].due_ms < s->timers[m].due_ms)
			m = r;
		if (m == i)
			break;
		timer_swap(s, i, m);
		i = m;
	}
	return top;
}

/* --- connections ------------------------------------------------------------- */

static void
set_events(struct server *s, struct conn *c, bool want_out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0) };

	if (c->want_out == want_out)
		return;
	ev.data.fd = c->fd;
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = want_out;
}

static void
reset_response(struct response *r)
{
	buf_reset(&r->headers);
	buf_reset(&r->body);
	r->status = 0;
	r->content_type = "application/json";
	r->delay_ms = 0;
	r->fault = FAULT_NONE;
	r->truncate_at = 0;
	r->drip_bps = 0;
	r->fault_name = NULL;
}

static void
close_conn(struct server *s, struct conn *c, bool reset)
{
	if (reset) {
		struct linger lg = { 1, 0 }; /* close with RST */

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (c->in_flight)
		s->mock.stats.in_flight--;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->gen++;
	s->mock.stats.connections--;
}

static void
accept_all(struct server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct conn *c;
		int one = 1;

		if (fd < 0)
			return;
		if (fd >= MAX_CONNS) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = &s->conns[fd];
		c->fd = fd;
		c->state = C_READING;
		c->out_sent = 0;
		c->keep_alive = true;
		c->close_after = false;
		c->continue_sent = false;
		c->in_flight = false;
		c->want_out = false;
		buf_reset(&c->in);
		buf_reset(&c->out);
		reset_response(&c->resp);
		ev.data.fd = fd;
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
		s->mock.stats.connections++;
	}
}

/* Serialize the decided answer into c->out. */
static void
build_answer(struct conn *c)
{
	struct response *r = &c->resp;
	char line[128];
	int n;

	buf_reset(&c->out);
	c->out_sent = 0;
	n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", r->status,
		http_reason(r->status), r->content_type);
	buf_add(&c->out, line, (size_t)n);
	n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n", r->body.len);
	buf_add(&c->out, line, (size_t)n);
	if (!c->keep_alive)
		buf_puts(&c->out, "Connection: close\r\n");
	buf_add(&c->out, r->headers.data, r->headers.len);
	buf_puts(&c->out, "\r\n");
	if (r->fault == FAULT_CLOSE_AFTER_HEADERS)
		return;
	buf_add(&c->out, r->body.data,
		r->fault == FAULT_TRUNCATE && r->truncate_at < r->body.len ? r->truncate_at
									   : r->body.len);
}

static void process_input(struct server *s, struct conn *c);

/* The answer is all sent: next request, or close. */
static void
answer_sent(struct server *s, struct conn *c)
{
	if (c->in_flight) {
		c->in_flight = false;
		s->mock.stats.in_flight--;
	}
	if (c->close_after || !c->keep_alive) {
		close_conn(s, c, false);
		return;
	}
	c->state = C_READING;
	c->continue_sent = false;
	buf_reset(&c->out);
	reset_response(&c->resp);
	set_events(s, c, false);
	process_input(s, c); /* a pipelined request may be waiting */
}

/* Send what can be sent of c->out, at most limit bytes (drip). */
static void
flush_out(struct server *s, struct conn *c, size_t limit)
{
	while (c->out_sent < c->out.len && limit > 0) {
		size_t n = c->out.len - c->out_sent;
		ssize_t w;

		if (n > limit)
			n = limit;
		w = send(c->fd, c->out.data + c->out_sent, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_events(s, c, true);
				return;
			}
			close_conn(s, c, false);
			return;
		}
		c->out_sent += (size_t)w;
		limit -= (size_t)w;
	}
	if (c->out_sent == c->out.len && c->state == C_WRITING)
		answer_sent(s, c);
}

/* The answer's time has come: send it as its fault says. */
static void
start_answer(struct server *s, struct conn *c)
{
	switch (c->resp.fault) {
	case FAULT_STALL:
		c->state = C_STALLED;
		return;
	case FAULT_RESET:
		close_conn(s, c, true);
		return;
	case FAULT_CLOSE_AFTER_HEADERS:
	case FAULT_TRUNCATE:
		c->close_after = true;
		break;
	default:
		break;
	}
	build_answer(c);
	if (c->resp.fault == FAULT_DRIP) {
		c->state = C_DRIPPING;
		timer_add(s, c, now_ms(s));
		return;
	}
	c->state = C_WRITING;
	flush_out(s, c, SIZE_MAX);
}

/* A drip tick: a tenth of a second's worth of bytes. */
static void
drip(struct server *s, struct conn *c)
{
	size_t per_tick = (size_t)(c->resp.drip_bps / 10 > 0 ? c->resp.drip_bps / 10 : 1);

	flush_out(s, c, per_tick);
	if (c->fd < 0)
		return;
	if (c->out_sent == c->out.len) {
		c->state = C_WRITING;
		answer_sent(s, c);
		return;
	}
	timer_add(s, c, now_ms(s) + 100);
}

static void
write_log(struct server *s, const struct request *req, const struct response *resp,
	const struct request_info *info, double t)
{
	struct buf line = BUF_INIT;
	char num[64];

	snprintf(num, sizeof(num), "{\"t\":%.3f,\"n\":%lu,", t, info->n);
	buf_puts(&line, num);
	buf_puts(&line, "\"method\":");
	jw_cstring(&line, req->method);
	buf_puts(&line, ",\"path\":");
	jw_cstring(&line, req->path);
	buf_puts(&line, ",\"route\":");
	jw_cstring(&line, info->route);
	buf_puts(&line, info->auth ? ",\"auth\":true,\"key\":" : ",\"auth\":false,\"key\":");
	buf_add_uint(&line, (unsigned long long)info->key);
	snprintf(num, sizeof(num), ",\"body_bytes\":%zu,\"body_hash\":\"%016llx\"", req->body_len,
		hash_fnv1a(req->body, req->body_len));
	buf_puts(&line, num);
	if (info->model[0] != '\0') {
		buf_puts(&line, ",\"model\":");
		jw_cstring(&line, info->model);
	}
	snprintf(num, sizeof(num), ",\"status\":%d", resp->status);
	buf_puts(&line, num);
	if (resp->fault_name != NULL) {
		buf_puts(&line, ",\"fault\":");
		jw_cstring(&line, resp->fault_name);
	}
	buf_puts(&line, "}\n");
	if (fwrite(line.data, 1, line.len, s->log) != line.len || fflush(s->log) != 0)
		die(EXIT_IOERR, "cannot write the log '%s':", s->mock.cfg.log_path);
	buf_free(&line);
}

/* A whole request is in: decide the answer and schedule it. */
static void
handle_request(struct server *s, struct conn *c, const struct request *req)
{
	struct request_info info = { 0 };
	double t = now_ms(s);

	reset_response(&c->resp);
	c->keep_alive = req->keep_alive;
	answer_request(&s->mock, req, t, &c->resp, &info);
	if (info.counted) {
		s->mock.stats.by_status[c->resp.status]++;
		c->in_flight = true;
		s->mock.stats.in_flight++;
		if (s->log != NULL)
			write_log(s, req, &c->resp, &info, t);
	}
	if (c->resp.delay_ms > 0) {
		c->state = C_WAITING;
		timer_add(s, c, t + (double)c->resp.delay_ms);
		return;
	}
	start_answer(s, c);
}

/* Answer a request that could not be parsed, then close. */
static void
refuse(struct server *s, struct conn *c, int status)
{
	reset_response(&c->resp);
	c->resp.status = status;
	buf_puts(&c->resp.body,
		"{\"error\":{\"message\":\"malformed or oversized request\","
		"\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
	c->keep_alive = false;
	start_answer(s, c);
}

/* Parse and answer whatever complete request c->in holds. */
static void
process_input(struct server *s, struct conn *c)
{
	struct request req;
	size_t used = 0;
	bool expect_continue;
	enum parse_status st;

	if (c->state != C_READING || c->in.len == 0)
		return;
	st = http_parse(c->in.data, c->in.len, &req, &c->scratch, &used, &expect_continue);
	if (st == PARSE_MORE) {
		if (expect_continue && !c->continue_sent) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			c->continue_sent = true;
			if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) < 0)
				close_conn(s, c, false);
		}
		return;
	}
	if (st != PARSE_DONE) {
		refuse(s, c, st == PARSE_TOO_BIG ? 413 : 400);
		return;
	}
	/* The request (now in scratch) leaves the input; a pipelined one stays for later. */
	memmove(c->in.data, c->in.data + used, c->in.len - used);
	c->in.len -= used;
	handle_request(s, c, &req);
}

static void
read_input(struct server *s, struct conn *c)
{
	for (;;) {
		ssize_t r;

		buf_reserve(&c->in, READ_CHUNK);
		r = recv(c->fd, c->in.data + c->in.len, READ_CHUNK, 0);
		if (r > 0) {
			c->in.len += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		close_conn(s, c, false); /* the client went away */
		return;
	}
	process_input(s, c);
}

static void
run_timers(struct server *s)
{
	double t = now_ms(s);

	while (s->ntimers > 0 && s->timers[0].due_ms <= t) {
		struct timer tm = timer_pop(s);
		struct conn *c = &s->conns[tm.fd];

		if (c->fd < 0 || c->gen != tm.gen)
			continue; /* the connection is gone */
		if (c->state == C_WAITING)
			start_answer(s, c);
		else if (c->state == C_DRIPPING)
			drip(s, c);
	}
}

/* --- set-up ------------------------------------------------------------------ */

static void
print_versions(void)
{
	version_common();
}

static const struct opt_tool tool = {
	.synopsis = "[options]",
	.summary = "Mock the LLM and search APIs on 127.0.0.1, for tests and benchmarks.",
	.version = print_versions,
};

/* --latency MS, MIN-MAX (uniform) or MIN~MAX (long tail), into the mock_config. */
static const char *
parse_latency(const struct opt *o, const char *arg)
{
	struct mock_config *cfg = o->value;
	char *end;
	long lo, hi;

	lo = strtol(arg, &end, 10);
	hi = lo;
	if (end != arg && (*end == '-' || *end == '~')) {
		cfg->latency_tail = *end == '~';
		arg = end + 1;
		hi = strtol(arg, &end, 10);
	}
	if (end == arg || *end != '\0' || lo < 0 || hi < lo || hi > 3600000)
		return "expected MS, MIN-MAX or MIN~MAX, up to 3600000";
	cfg->latency_min = lo;
	cfg->latency_max = hi;
	return NULL;
}

static const char *
add_key(const struct opt *o, const char *arg)
{
	struct mock_config *cfg = o->value;

	cfg->keys = xreallocarray(cfg->keys, cfg->nkeys + 1, sizeof(*cfg->keys));
	cfg->keys[cfg->nkeys++] = (char *)arg;
	return NULL;
}

static const char *
add_model(const struct opt *o, const char *arg)
{
	struct mock_config *cfg = o->value;

	cfg->models = xreallocarray(cfg->models, cfg->nmodels + 1, sizeof(*cfg->models));
	cfg->models[cfg->nmodels++] = (char *)arg;
	return NULL;
}

/* --aws-key ID:SECRET, split into the mock_config's AWS keys. */
static const char *
add_aws_key(const struct opt *o, const char *arg)
{
	struct mock_config *cfg = o->value;
	const char *colon = strchr(arg, ':');
	struct aws_key *k;

	if (colon == NULL || colon == arg || colon[1] == '\0')
		return "expected ACCESS_KEY_ID:SECRET_ACCESS_KEY";
	cfg->aws_keys = xreallocarray(cfg->aws_keys, cfg->naws_keys + 1, sizeof(*cfg->aws_keys));
	k = &cfg->aws_keys[cfg->naws_keys++];
	k->id = xmemdup(arg, (size_t)(colon - arg));
	k->secret = xstrdup(colon + 1);
	return NULL;
}

static void
parse_options(struct mock_config *cfg, int argc, char **argv)
{
	struct opt options[] = {
		OPT_UINT(0, "port", &cfg->port, 0, 65535, "N",
			"listen on 127.0.0.1:N; 0: a free port", "0"),
		OPT_STRING(0, "port-file", &cfg->port_file, "FILE",
			"write the port there once listening", NULL),
		OPT_CALLBACK(0, "key", cfg, "KEY",
			"accept this API key (repeatable; none: no auth)", NULL, add_key),
		OPT_CALLBACK(0, "model", cfg, "NAME", "accept this model (repeatable; none: any)",
			NULL, add_model),
		OPT_UINT(0, "context", &cfg->context, 1, 100000000, "TOKENS", "context window",
			"128000"),
		OPT_UINT(0, "rpm", &cfg->rpm, 0, 100000000, "N",
			"requests per minute per key; 0: no limit", "0"),
		OPT_UINT(0, "tpm", &cfg->tpm, 0, 1000000000, "N",
			"tokens per minute per key; 0: no limit", "0"),
		OPT_UINT(0, "burst", &cfg->burst, 0, 100000000, "N",
			"capacity of the request bucket; 0: the --rpm value", "0"),
		OPT_UINT(0, "rpd", &cfg->rpd, 0, 1000000000, "N",
			"requests per day per key; 0: no limit", "0"),
		OPT_BOOL(0, "no-hints", &cfg->no_hints,
			"no rate-limit headers, no retry-after, no wait in 429 messages"),
		OPT_CALLBACK(0, "aws-key", cfg, "ID:SECRET",
			"accept this AWS access key on Bedrock routes (repeatable)", NULL,
			add_aws_key),
		OPT_STRING(0, "aws-token", &cfg->aws_token, "TOKEN",
			"require this AWS session token with the --aws-key keys", NULL),
		OPT_CALLBACK(0, "latency", cfg, "SPEC",
			"MS, MIN-MAX (uniform) or MIN~MAX (long tail)", "0", parse_latency),
		OPT_NUMBER(0, "fail-rate", &cfg->fail_rate, 0, 1, "P",
			"transient server errors with probability P", "0"),
		OPT_NUMBER(0, "batch-time", &cfg->batch_time, 0, 86400, "SECS",
			"a batch's time from creation to its end", "2"),
		OPT_NUMBER(0, "batch-fail-rate", &cfg->batch_fail_rate, 0, 1, "P",
			"items of a batch fail with probability P", "0"),
		OPT_BOOL(0, "batch-expire", &cfg->batch_expire,
			"batches expire with half of their items done"),
		OPT_UINT(0, "seed", &cfg->seed, 0, ~0ULL, "S", "seed of latency and failures", "1"),
		OPT_STRING(0, "scenario", &cfg->scenario_path, "FILE",
			"script the answers (tests/mock/README)", NULL),
		OPT_STRING(0, "log", &cfg->log_path, "FILE", "append one JSON line per request",
			NULL),
		OPT_UINT(0, "lifetime", &cfg->lifetime, 1, 86400 * 7, "SECS",
			"exit after SECS seconds", "300"),
		OPT_BOOL('q', "quiet", &cfg->quiet, "no messages on stderr"),
		OPT_END(),
	};
	int operand = opt_parse(&tool, options, argc, argv);

	if (operand < argc)
		opt_usage_error(&tool, "unexpected argument '%s'", argv[operand]);
	if (cfg->burst > 0 && cfg->rpm == 0)
		opt_usage_error(&tool, "--burst needs --rpm");
	if (cfg->aws_token != NULL && cfg->naws_keys == 0)
		opt_usage_error(&tool, "--aws-token needs --aws-key");
}

/* Write the port atomically (a temporary file renamed), so a reader never sees half of it. */
static void
write_port_file(const char *path, int port)
{
	struct buf tmp = BUF_INIT;
	FILE *f;

	buf_puts(&tmp, path);
	buf_puts(&tmp, ".tmp");
	f = fopen(buf_cstr(&tmp), "w");
	if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
		rename(tmp.data, path) != 0)
		die(EXIT_CANTCREAT, "cannot write the port file '%s':", path);
	buf_free(&tmp);
}

static int
listen_loopback(struct server *s)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die(EXIT_SOFTWARE, "cannot create a socket:");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_port = htons((uint16_t)s->mock.cfg.port);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		die(EXIT_CANTCREAT, "cannot listen on 127.0.0.1:%d:", s->mock.cfg.port);
	if (listen(fd, 1024) != 0 || getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		die(EXIT_SOFTWARE, "cannot listen:");
	return fd;
}

static void
setup(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sigaction sa = { .sa_handler = on_signal };
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);

	if (s->mock.cfg.scenario_path != NULL &&
		(s->mock.scenario = scenario_load(s->mock.cfg.scenario_path)) == NULL)
		exit(EXIT_DATAERR);
	if (s->mock.cfg.log_path != NULL && (s->log = fopen(s->mock.cfg.log_path, "a")) == NULL)
		die(EXIT_CANTCREAT, "cannot open the log '%s':", s->mock.cfg.log_path);
	s->mock.limiter =
		limiter_new(s->mock.cfg.rpm, s->mock.cfg.tpm, s->mock.cfg.burst, s->mock.cfg.rpd);
	s->mock.rng = s->mock.cfg.seed * 0x9E3779B97F4A7C15ULL + 1;
	s->conns = xcalloc(MAX_CONNS, sizeof(*s->conns));
	for (int i = 0; i < MAX_CONNS; i++)
		s->conns[i].fd = -1;
	s->listen_fd = listen_loopback(s);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		die(EXIT_SOFTWARE, "epoll_create1:");
	ev.data.fd = s->listen_fd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	getsockname(s->listen_fd, (struct sockaddr *)&addr, &len);
	if (s->mock.cfg.port_file != NULL)
		write_port_file(s->mock.cfg.port_file, ntohs(addr.sin_port));
	if (!s->mock.cfg.quiet)
		warn("listening on http://127.0.0.1:%d", ntohs(addr.sin_port));
}

/* The loop: events and timers until the lifetime ends or a signal comes. */
static void
run(struct server *s)
{
	struct epoll_event events[256];
	double end_ms = (double)s->mock.cfg.lifetime * 1000.0;

	while (!stop_requested) {
		double t = now_ms(s), wait = end_ms - t;
		int n;

		if (wait <= 0)
			break;
		if (s->ntimers > 0 && s->timers[0].due_ms - t < wait)
			wait = s->timers[0].due_ms - t;
		n = epoll_wait(s->epfd, events, 256, wait < 0 ? 0 : (int)ceil(wait));
		if (n < 0 && errno != EINTR)
			die(EXIT_SOFTWARE, "epoll_wait:");
		for (int i = 0; i < n; i++) {
			struct conn *c;

			if (events[i].data.fd == s->listen_fd) {
				accept_all(s);
				continue;
			}
			c = &s->conns[events[i].data.fd];
			if (c->fd < 0)
				continue;
			if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				read_input(s, c);
			if (c->fd >= 0 && (events[i].events & EPOLLOUT) && c->state == C_WRITING)
				flush_out(s, c, SIZE_MAX);
		}
		run_timers(s);
	}
}

static void
teardown(struct server *s)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &s->conns[i];

		if (c->fd >= 0)
			close(c->fd);
		buf_free(&c->in);
		buf_free(&c->out);
		buf_free(&c->scratch);
		buf_free(&c->resp.headers);
		buf_free(&c->resp.body);
	}
	free(s->conns);
	free(s->timers);
	close(s->listen_fd);
	close(s->epfd);
	if (s->log != NULL && fclose(s->log) != 0)
		warn("cannot close the log '%s':", s->mock.cfg.log_path);
	scenario_free(s->mock.scenario);
	batch_store_free(s->mock.batches);
	free(s->mock.prefixes);
	limiter_free(s->mock.limiter);
	free(s->mock.cfg.keys);
	free(s->mock.cfg.models);
	for (size_t i = 0; i < s->mock.cfg.naws_keys; i++) {
		free(s->mock.cfg.aws_keys[i].id);
		explicit_bzero(s->mock.cfg.aws_keys[i].secret,
			strlen(s->mock.cfg.aws_keys[i].secret));
		free(s->mock.cfg.aws_keys[i].secret);
	}
	free(s->mock.cfg.aws_keys);
}

int
main(int argc, char *argv[])
{
	struct server s = {
		.mock.cfg = { .context = 128000, .seed = 1, .lifetime = 300, .batch_time = 2 },
	};

	tool_init(argv[0]);
	parse_options(&s.mock.cfg, argc, argv);
	setup(&s);
	run(&s);
	teardown(&s);
	return EXIT_OK;
}
