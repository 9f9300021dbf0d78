/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for jl-csv's converter (doc/reliability.md §9.6). The first two
 * bytes choose options and a chunk size; the rest is CSV fed in those chunks.
 * Checks: no crash or UB, every output line is one JSON object in valid
 * UTF-8, the chunked output equals the output of one whole-buffer feed, and
 * the fast path's output equals libcsv's alone (cfg.libcsv_only).
 */
#include <jv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csvconv.h"
#include "utf8.h"

static void
collect(void *arg, const struct csvconv_record *rec)
{
	struct buf *out = arg;

	buf_add(out, rec->json, rec->len + 1); /* with its '\n' */
}

static void
convert(const struct csvconv_config *cfg, const uint8_t *data, size_t size, size_t chunk,
	struct buf *out)
{
	struct csvconv *c = csvconv_new(cfg, collect, out);

	csvconv_begin(c, "fuzz", "fuzz");
	for (size_t off = 0; off < size; off += chunk)
		if (csvconv_feed(c, data + off, size - off < chunk ? size - off : chunk) != 0)
			break;
	csvconv_end(c);
	csvconv_free(c);
}

static void
check_lines(const struct buf *out)
{
	size_t start = 0;

	if (utf8_valid_prefix(out->data, out->len) != out->len)
		abort();
	while (start < out->len) {
		const char *nl = memchr(out->data + start, '\n', out->len - start);
		size_t len;
		jv v;

		if (nl == NULL)
			abort(); /* every record ends with a newline */
		len = (size_t)(nl - (out->data + start));
		v = jv_parse_sized(out->data + start, (int)len);
		if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT)
			abort();
		jv_free(v);
		start += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvconv_config cfg = {
		.delimiter = ',',
		.quote = '"',
		.header_row = true,
		.max_field = 64,
		.max_row = 512,
		.quiet = true,
	};
	struct buf whole = BUF_INIT, chunked = BUF_INIT, libcsv = BUF_INIT;
	struct csvconv_config libcsv_cfg;
	size_t chunk;

	if (size < 2)
		return 0;
	cfg.header_row = !(data[0] & 1);
	cfg.infer = data[0] & 2;
	cfg.line_field = data[0] & 4;
	cfg.strict = data[0] & 8;
	if (data[0] & 16)
		cfg.delimiter = '\t';
	if (data[0] & 32)
		cfg.quote = '\'';
	chunk = (size_t)data[1] % 17 + 1;
	data += 2;
	size -= 2;

	libcsv_cfg = cfg;
	libcsv_cfg.libcsv_only = true;
	convert(&cfg, data, size, size ? size : 1, &whole);
	convert(&cfg, data, size, chunk, &chunked);
	convert(&libcsv_cfg, data, size, chunk, &libcsv);
	check_lines(&whole);
	if (whole.len != chunked.len ||
		(whole.len > 0 && memcmp(whole.data, chunked.data, whole.len) != 0))
		abort();
	if (whole.len != libcsv.len ||
		(whole.len > 0 && memcmp(whole.data, libcsv.data, whole.len) != 0))
		abort();
	buf_free(&whole);
	buf_free(&chunked);
	buf_free(&libcsv);
	return 0;
}
