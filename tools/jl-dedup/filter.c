/* SPDX-License-Identifier: BSD-2-Clause */
/* jl-dedup's record hooks: filter mode and --record (filter.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcodes.h"
#include "filter.h"
#include "record.h"

/* --- keys and hashes --------------------------------------------------------- */

static void
hex_hash(const void *data, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h[2];

	hash128(data, len, h);
	buf_reset(out);
	for (int i = 0; i < 2; i++)
		for (int shift = 60; shift >= 0; shift -= 4)
			buf_putc(out, hex[(h[i] >> shift) & 15]);
}

/*
 * The content hash of r into d->hash_text: --hash's value, or the record
 * as it came (without the field this tool adds).
 */
static void
content_hash(struct dedup *d, struct recloop_record *r)
{
	if (d->hash != NULL || d->marker.n > 0) {
		jv rec = recloop_value(r);
		jv v = d->hash != NULL ? key_eval(d->hash, rec)
				       : jv_object_delete(jv_copy(rec), jv_string(d->rules.into));
		jv text = jv_dump_string(jv_is_valid(v) ? v : (jv_free(v), jv_null()),
			JV_PRINT_SORTED);

		hex_hash(jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text)),
			&d->hash_text);
		jv_free(text);
	} else {
		hex_hash(r->line, r->line_len, &d->hash_text);
	}
}

/* The key of r into d->key_text; false with *why when it has none. */
static bool
record_key(struct dedup *d, struct recloop_record *r, const char **why)
{
	buf_reset(&d->key_text);
	return key_text(key_eval(d->key, recloop_value(r)), &d->key_text, why);
}

/* r with _error bad_key, into out. */
static enum recloop_verdict
bad_key(struct dedup *d, struct recloop_record *r, const char *why, struct buf *out)
{
	record_fail_text(out, r->text, r->len, r->error.n > 0,
		&(struct record_error){ ERR_BAD_KEY, why, NULL, r->lineno, 0, -1 });
	d->n.bad++;
	return RECLOOP_FAILED;
}

/* --- filter mode --------------------------------------------------------------- */

enum recloop_verdict
dedup_filter(void *arg, struct recloop_record *r, struct buf *out)
{
	struct dedup *d = arg;
	struct item it = { ITEM_NONE, "", 0 };
	const char *why = NULL;

	if (!record_key(d, r, &why))
		return bad_key(d, r, why, out);
	if (!d->rules.keep_duplicates && keyset_add(&d->seen, d->key_text.data, d->key_text.len)) {
		d->n.duplicate++;
		return RECLOOP_DROPPED;
	}
	content_hash(d, r);
	if (d->reg != NULL && registry_get(d->reg, d->key_text.data, d->key_text.len, &it) != 0)
		exit(EXIT_IOERR);
	if (it.status == ITEM_NONE) {
		d->n.fresh++;
	} else if (strcmp(it.hash, buf_cstr(&d->hash_text)) != 0) {
		d->n.changed++;
	} else if (d->rules.force) {
		d->n.forced++;
	} else if (it.status == ITEM_DONE) {
		d->n.done++;
		return RECLOOP_DROPPED;
	} else if (it.attempts >= d->rules.max_attempts) {
		d->n.exhausted++;
		return RECLOOP_DROPPED;
	} else {
		d->n.retried++;
	}
	buf_reset(&d->mark);
	buf_puts(&d->mark, "{\"key\":");
	buf_add(&d->mark, d->key_text.data, d->key_text.len);
	buf_puts(&d->mark, ",\"hash\":\"");
	buf_puts(&d->mark, buf_cstr(&d->hash_text));
	buf_puts(&d->mark, "\"}");
	record_add_member(out, r->text, r->len, d->marker.n > 0, d->rules.into, d->mark.data,
		d->mark.len);
	return RECLOOP_PASSED;
}

/* --- record mode --------------------------------------------------------------- */

/* The key and hash a filter upstream put in r's marker, into d; false when absent. */
static bool
marked_key(struct dedup *d, struct recloop_record *r)
{
	jv mark = jv_object_get(jv_copy(recloop_value(r)), jv_string(d->rules.into));
	jv key = jv_get_kind(mark) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(mark), jv_string("key"))
		: jv_invalid();
	jv hash = jv_get_kind(mark) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(mark), jv_string("hash"))
		: jv_invalid();
	const char *why;
	bool ok = jv_get_kind(hash) == JV_KIND_STRING;

	buf_reset(&d->key_text);
	if (ok && key_text(key, &d->key_text, &why)) {
		buf_reset(&d->hash_text);
		buf_puts(&d->hash_text, jv_string_value(hash));
	} else {
		if (ok)
			key = jv_invalid(); /* consumed by key_text */
		ok = false;
		jv_free(key);
	}
	jv_free(hash);
	jv_free(mark);
	return ok;
}

/* The _error code of r, a failed record, into code ("error" when it has none). */
static void
error_code(const struct recloop_record *r, char *code, size_t size)
{
	if (!jscan_string(jscan_get(r->error, "code"), code, size) || *code == '\0')
		snprintf(code, size, "error");
}

enum recloop_verdict
dedup_record(void *arg, struct recloop_record *r, struct buf *out)
{
	struct dedup *d = arg;
	char code[64];
	const char *why = NULL;
	bool marked = !r->bad && marked_key(d, r);

	if (!marked && (r->bad || !record_key(d, r, &why))) {
		if (r->failed) { /* failed before it had a key: passed on as it is */
			buf_add(out, r->text, r->len);
			buf_putc(out, '\n');
			return RECLOOP_PASSED;
		}
		return bad_key(d, r, why, out);
	}
	if (!marked)
		content_hash(d, r);
	if (r->failed)
		error_code(r, code, sizeof(code));
	if (!db_in_transaction(d->db) && db_begin(d->db) != 0)
		exit(EXIT_IOERR);
	buf_reset(&d->mark);
	if (d->rules.store) { /* without the marker: what the next stage saw */
		record_dump(&d->mark,
			jv_object_delete(jv_copy(recloop_value(r)), jv_string(d->rules.into)));
		d->mark.len--; /* the newline */
	}
	if (registry_put(d->reg, d->key_text.data, d->key_text.len, buf_cstr(&d->hash_text),
		    r->failed ? code : NULL, d->rules.store ? d->mark.data : NULL,
		    d->mark.len) != 0)
		exit(EXIT_IOERR);
	if (r->failed)
		d->n.recorded_failed++;
	else
		d->n.recorded_done++;
	buf_add(out, r->text, r->len);
	buf_putc(out, '\n');
	return RECLOOP_PASSED;
}

int
dedup_commit(void *arg)
{
	struct dedup *d = arg;

	if (db_in_transaction(d->db) && db_commit(d->db) != 0)
		return EXIT_IOERR;
	return 0;
}

void
dedup_free(struct dedup *d)
{
	key_free(d->key);
	key_free(d->hash);
	keyset_free(&d->seen);
	buf_free(&d->key_text);
	buf_free(&d->hash_text);
	buf_free(&d->mark);
}
