/* SPDX-License-Identifier: BSD-2-Clause */
/* The jlkit version and the library lines of --version. */
#ifndef JL_VERSION_H
#define JL_VERSION_H

#ifndef JLKIT_VERSION
#define JLKIT_VERSION "0.1.0"
#endif

/* libjq 1.6 has no version call: the Makefile passes the version it built against. */
#ifndef JQ_BUILD_VERSION
#define JQ_BUILD_VERSION "unknown"
#endif

/* Print one "  LIBRARY VERSION" line of --version on stdout. */
void version_line(const char *library, const char *version);

/* The libjq line: the version the tool was built against. */
void version_libjq(void);

/* The C library line every tool prints. */
void version_common(void);

#endif
