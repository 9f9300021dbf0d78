/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tools/jl-dedup/filter.c, the record hooks without the loop: filter mode
 * (a new key passes with its marker, a repeat is dropped, a marker already
 * there is replaced, a record without a key leaves with bad_key, the
 * registry's done and failed keys, --force, --max-attempts) and --record
 * (done and failed outcomes in the registry, the marker's key and hash
 * taken, a failed record without a key passed as it is, commit).
 */
#include <errno.h>
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "filter.h"
#include "jscan.h"
#include "tap.h"
#include "testdb.h"
#include "util.h"

/* A record as the loop hands it over: text, the picked _error and marker. */
static struct recloop_record
make_record(struct dedup *d, const char *text)
{
	struct recloop_record r = { .text = text,
		.len = strlen(text),
		.line = text,
		.line_len = strlen(text),
		.file = "<test>",
		.lineno = 7,
		.value = jv_invalid() };
	struct jscan_pick picks[2] = { { "_error", &r.error, NULL, 0 },
		{ d->rules.into, &d->marker, NULL, 0 } };

	if (!jscan_object_pick(text, r.len, picks, 2))
		die(2, "not a strict JSON object: %s", text);
	r.failed = jscan_kind(r.error) != JSCAN_NONE && jscan_kind(r.error) != JSCAN_NULL;
	return r;
}

/* Run hook on text; the verdict, with what it wrote in out (reset first). */
static enum recloop_verdict
run(enum recloop_verdict (*hook)(void *, struct recloop_record *, struct buf *), struct dedup *d,
	const char *text, struct buf *out)
{
	struct recloop_record r = make_record(d, text);
	enum recloop_verdict v;

	buf_reset(out);
	v = hook(d, &r, out);
	jv_free(r.value);
	return v;
}

/* The value at path (a jq-like .a.b of member names) of the JSON line in out, as compact text. */
static const char *
member(const struct buf *out, const char *name, const char *inner, char *text, size_t size)
{
	jv v = jv_parse_sized(out->data, (int)out->len);
	jv m = jv_object_get(v, jv_string(name));
	jv s;

	if (inner != NULL)
		m = jv_get_kind(m) == JV_KIND_OBJECT ? jv_object_get(m, jv_string(inner))
						     : (jv_free(m), jv_invalid());
	s = jv_is_valid(m) ? jv_dump_string(m, 0) : (jv_free(m), jv_string("(none)"));
	snprintf(text, size, "%s", jv_string_value(s));
	jv_free(s);
	return text;
}

static void
test_filter_stream(void)
{
	struct dedup d = { .rules = { "_dedup", 3, false, false, false } };
	struct buf out = BUF_INIT, err = BUF_INIT;
	char t[256];

	d.key = key_compile(".name", &err);
	ok(run(dedup_filter, &d, "{\"name\":\"Acme\",\"n\":1}", &out) == RECLOOP_PASSED,
		"a new key passes");
	is_str(member(&out, "_dedup", "key", t, sizeof(t)), "\"Acme\"", "its marker holds the key");
	ok(out.len > 0 && out.data[out.len - 1] == '\n' &&
			strncmp(out.data, "{\"name\":\"Acme\",\"n\":1,\"_dedup\":", 30) == 0,
		"the record's bytes are kept, the marker appended");
	ok(run(dedup_filter, &d, "{\"name\":\"Acme\",\"n\":2}", &out) == RECLOOP_DROPPED &&
			out.len == 0,
		"a repeat of the key is dropped and nothing written");
	is_int(d.n.duplicate, 1, "counted as a duplicate");
	ok(run(dedup_filter, &d, "{\"name\":\"Beta\",\"_dedup\":{\"key\":\"x\"},\"z\":0}", &out) ==
			RECLOOP_PASSED,
		"a record with a stale marker passes");
	is_str(member(&out, "_dedup", "key", t, sizeof(t)), "\"Beta\"", "its marker is replaced");
	is_str(member(&out, "z", NULL, t, sizeof(t)), "0", "its other members stay");
	ok(run(dedup_filter, &d, "{\"id\":1,\"_error\":null}", &out) == RECLOOP_FAILED,
		"a record without the key fails");
	is_str(member(&out, "_error", "code", t, sizeof(t)), "\"bad_key\"", "with bad_key");
	is_str(member(&out, "_error", "line", t, sizeof(t)), "7", "naming its line");
	is_str(member(&out, "id", NULL, t, sizeof(t)), "1", "and keeping the record");
	d.rules.keep_duplicates = true;
	ok(run(dedup_filter, &d, "{\"name\":\"Acme\"}", &out) == RECLOOP_PASSED,
		"--keep-duplicates passes a repeat");
	dedup_free(&d);
	buf_free(&out);
	buf_free(&err);
}

static void
test_registry(void)
{
	struct dedup d = { .rules = { "_dedup", 2, false, false, true } };
	struct buf out = BUF_INIT, err = BUF_INIT, marked = BUF_INIT;
	int code = 0;
	char t[256];

	d.key = key_compile(".name", &err);
	if ((d.db = db_open("dedup.db", &code)) == NULL || (d.reg = registry_open(d.db)) == NULL)
		die(2, "cannot open the registry");
	ok(run(dedup_record, &d, "{\"name\":\"Acme\",\"v\":1}", &out) == RECLOOP_PASSED,
		"--record: a done record passes");
	ok(run(dedup_record, &d, "{\"name\":\"Beta\",\"_error\":{\"code\":\"http_500\"}}", &out) ==
			RECLOOP_PASSED,
		"--record: a failed record passes");
	ok(run(dedup_record, &d, "{\"_error\":{\"code\":\"bad_input\"},\"_raw\":\"x\"}", &out) ==
				RECLOOP_PASSED &&
			strcmp(buf_cstr(&out),
				"{\"_error\":{\"code\":\"bad_input\"},\"_raw\":\"x\"}\n") == 0,
		"--record: a failed record without a key passes as it is");
	ok(run(dedup_record, &d, "{\"v\":2}", &out) == RECLOOP_FAILED &&
			strstr(buf_cstr(&out), "\"bad_key\"") != NULL,
		"--record: a record without a key fails with bad_key");
	is_int(dedup_commit(&d), 0, "the batch commits");
	is_int(query_int(d.db, "SELECT count(*) FROM dedup_items"), 2, "two keys recorded");
	is_int(d.n.recorded_done, 1, "one done");
	is_int(d.n.recorded_failed, 1, "one failed");
	d.rules.keep_duplicates = true; /* the same keys again, each against the registry */

	ok(run(dedup_filter, &d, "{\"name\":\"Acme\",\"v\":1}", &out) == RECLOOP_DROPPED,
		"filter: a done key with the same content is dropped");
	ok(run(dedup_filter, &d, "{\"name\":\"Acme\",\"v\":9}", &out) == RECLOOP_PASSED,
		"filter: a done key whose content changed passes");
	ok(run(dedup_filter, &d, "{\"name\":\"Beta\",\"_error\":{\"code\":\"http_500\"}}", &out) ==
			RECLOOP_PASSED,
		"filter: a key that failed once passes again");
	is_int(d.n.changed + d.n.retried, 2, "counted as changed and retried");
	buf_reset(&marked); /* the filter's output, its marker in it, without the newline */
	buf_add(&marked, out.data, out.len - 1);
	ok(run(dedup_record, &d, buf_cstr(&marked), &out) == RECLOOP_PASSED &&
			d.n.recorded_failed == 2,
		"--record reads the marker: the key recorded failed once more");
	dedup_commit(&d);
	ok(run(dedup_filter, &d, "{\"name\":\"Beta\",\"_error\":{\"code\":\"http_500\"}}", &out) ==
			RECLOOP_DROPPED,
		"filter: a key that failed --max-attempts times is dropped");
	d.rules.force = true;
	ok(run(dedup_filter, &d, "{\"name\":\"Acme\",\"v\":1}", &out) == RECLOOP_PASSED,
		"--force passes a done key");
	is_int(strlen(member(&out, "_dedup", "hash", t, sizeof(t))), 34,
		"the marker has a hash of 32 hex digits");
	registry_close(d.reg);
	db_close(d.db);
	dedup_free(&d);
	buf_free(&out);
	buf_free(&err);
	buf_free(&marked);
}

int
main(void)
{
	char dir[] = "/tmp/jlkit-unit-dedup-XXXXXX";

	progname = "test-dedup";
	if (mkdtemp(dir) == NULL || chdir(dir) != 0)
		die(2, "cannot make a scratch directory:");
	test_filter_stream();
	test_registry();
	if (unlink("dedup.db") != 0 || (unlink("dedup.db-wal") != 0 && errno != ENOENT) ||
		(unlink("dedup.db-shm") != 0 && errno != ENOENT) || chdir("/") != 0 ||
		rmdir(dir) != 0)
		printf("# files left in %s\n", dir);
	return done_testing();
}
