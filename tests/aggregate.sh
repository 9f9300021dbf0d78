#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Sum the .counts files in DIR and end with "N passed, N failed, N skipped".
# Exits 1 when any test failed.
dir=${1:?usage: aggregate.sh DIR}
cat "$dir"/*.counts 2>/dev/null | awk '
	$1 == "passed" { p += $2 }
	$1 == "failed" { f += $2 }
	$1 == "skipped" { s += $2 }
	$1 == "broken" { b += $2 }
	END {
		if (b > 0)
			printf "%d known breakage(s)\n", b
		printf "%d passed, %d failed, %d skipped\n", p, f, s
		exit f > 0
	}'
