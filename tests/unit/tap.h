/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A tiny TAP producer for C unit tests:
 *	ok(cond, "name"); is_int(got, want, "name"); is_str(got, want, "name");
 *	is_mem(got, gotlen, want, wantlen, "name"); return done_testing();
 */
#ifndef JL_TAP_H
#define JL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 2, 3))) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	return cond;
}

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!ok(g_ == w_, __VA_ARGS__))                                                    \
			printf("#   got %lld, want %lld\n", g_, w_);                               \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!ok(g_ != NULL && strcmp(g_, w_) == 0, __VA_ARGS__))                           \
			printf("#   got '%s'\n#  want '%s'\n", g_ ? g_ : "(null)", w_);            \
	} while (0)

#define is_mem(got, gotlen, want, wantlen, ...)                                                    \
	do {                                                                                       \
		size_t gl_ = (gotlen), wl_ = (wantlen);                                            \
		if (!ok(gl_ == wl_ && memcmp((got), (want), gl_) == 0, __VA_ARGS__))               \
			printf("#   got '%.*s'\n#  want '%.*s'\n", (int)gl_, (const char *)(got),  \
				(int)wl_, (const char *)(want));                                   \
	} while (0)

static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
