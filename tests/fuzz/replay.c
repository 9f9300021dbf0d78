/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A plain main() for fuzz targets: runs LLVMFuzzerTestOneInput on every file
 * named (directories are walked one level), so `make check` replays the
 * corpus with gcc and without libFuzzer. Prints TAP, one line per file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

static void
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		printf("not ok %d - cannot open %s\n", ++count, path);
		exit(1);
	}
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			data = realloc(data, cap);
			if (data == NULL)
				abort();
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(data, len); /* aborts on a failed check */
	printf("ok %d - %s\n", ++count, path);
	free(data);
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) && (d = opendir(argv[i]))) {
			while ((e = readdir(d)) != NULL) {
				char path[4096];

				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
				replay_file(path);
			}
			closedir(d);
		} else {
			replay_file(argv[i]);
		}
	}
	printf("1..%d\n", count);
	return 0;
}
