/* SPDX-License-Identifier: BSD-2-Clause */
/* Library lines for --version. */
#include <gnu/libc-version.h>
#include <stdio.h>

#include "version.h"

void
version_line(const char *library, const char *version)
{
	printf("  %s %s\n", library, version);
}

void
version_libjq(void)
{
	char jq[48];

	snprintf(jq, sizeof(jq), "%s (build)", JQ_BUILD_VERSION);
	version_line("libjq", jq);
}

void
version_common(void)
{
	version_line("glibc", gnu_get_libc_version());
}
