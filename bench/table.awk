# SPDX-License-Identifier: BSD-2-Clause
# `make bench`'s closing table: the tab-separated summary lines the bench/*.sh
# scripts append to $BENCH_SUMMARY, as one Markdown table.
BEGIN {
	FS = "\t"
	print "| tool | figure | value | peer | peer's value | ratio | target |"
	print "|---|---|---:|---|---:|---:|---|"
}
{
	gsub(/\|/, "\\|")
	printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7
}
