/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The peer "raw libcsv parse loop" of bench/csv.sh: read a file in 1 MiB
 * blocks and run csv_parse with callbacks that only count, so its rate is
 * libcsv's own limit. --as-jl-csv configures the parser the way jl-csv must
 * (strict mode, spaces around unquoted fields kept, 64 KiB buffer growth); without it,
 * libcsv's defaults (which trim spaces, not RFC 4180).
 */
#include <csv.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long long fields, rows, bytes;

static void
on_field(void *s, size_t n, void *arg)
{
	(void)s;
	(void)arg;
	fields++;
	bytes += n;
}

static void
on_row(int c, void *arg)
{
	(void)c;
	(void)arg;
	rows++;
}

static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

int
main(int argc, char **argv)
{
	static char block[1 << 20];
	struct csv_parser p;
	int as_jl_csv = argc > 2 && strcmp(argv[1], "--as-jl-csv") == 0;
	const char *path = argv[argc - 1];
	int fd;
	ssize_t n;

	if (argc < 2) {
		fprintf(stderr, "usage: csvparse [--as-jl-csv] FILE\n");
		return 64;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || csv_init(&p, as_jl_csv ? CSV_STRICT : 0) != 0) {
		perror(path);
		return 66;
	}
	if (as_jl_csv) {
		csv_set_space_func(&p, no_space);
		csv_set_blk_size(&p, 64 * 1024);
	}
	while ((n = read(fd, block, sizeof(block))) > 0)
		if (csv_parse(&p, block, (size_t)n, on_field, on_row, NULL) != (size_t)n) {
			fprintf(stderr, "csvparse: %s\n", csv_strerror(csv_error(&p)));
			return 70;
		}
	csv_fini(&p, on_field, on_row, NULL);
	csv_free(&p);
	close(fd);
	fprintf(stderr, "csvparse: %llu rows, %llu fields, %llu bytes\n", rows, fields, bytes);
	return n < 0 ? 74 : 0;
}
