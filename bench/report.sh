#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-report (issue 8): md and html summaries grouped by tier of
# BENCH_RECORDS records (default 1,000,000): records/s and peak memory,
# against `jq -s` doing the same grouping (counts and cost per tier).
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
BENCH_RECORDS=${BENCH_RECORDS:-1000000}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"
# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

n=$BENCH_RECORDS
in=$work/report-$n.jsonl
awk -v n="$n" 'BEGIN { split("HOT WATCH COLD", t, " "); for (i = 1; i <= n; i++)
	printf "{\"name\":\"Company %d\",\"llm\":{\"content\":{\"tier\":\"%s\",\"score\":%d},\"model\":\"m\",\"usage\":{\"prompt_tokens\":500,\"completion_tokens\":40},\"latency_ms\":%d,\"cached\":false},\"cost\":{\"usd\":0.0001}}\n", i, t[i % 3 + 1], i % 101, 200 + i % 700 }' >"$in"

# timed NAME CMD...: wall seconds and peak KiB of CMD (GNU time), output to /dev/null.
timed() {
	/usr/bin/time -f '%e %M' -o "$work/report-time" "$@" >/dev/null 2>&1 ||
		{ echo "bench: failed: $*" >&2; exit 1; }
	cat "$work/report-time"
}

echo "== jl-report: $n records, grouped by tier"
md=$(timed "$BUILD/jl-report" -f md -g .llm.content.tier "$in")
html=$(timed "$BUILD/jl-report" -f html -g .llm.content.tier "$in")
jqs=$(timed jq -s 'group_by(.llm.content.tier) | map({tier: .[0].llm.content.tier, n: length, usd: (map(.cost.usd) | add)})' "$in")
for row in "jl-report -f md -g ...|$md" "jl-report -f html -g ...|$html" "jq -s 'group_by(...)'|$jqs"; do
	name=${row%%|*} v=${row#*|}
	echo "$v" | awk -v name="$name" -v n="$n" '{ printf "%-32s %7.2f s %9.0f records/s %6.0f MB peak\n", name, $1, n / $1, $2 / 1024 }'
done
r_md=$(echo "$md" | awk -v n="$n" '{ printf "%.0f", n / $1 }')
r_html=$(echo "$html" | awk -v n="$n" '{ printf "%.0f", n / $1 }')
r_jq=$(echo "$jqs" | awk -v n="$n" '{ printf "%.0f", n / $1 }')
mb_md=$(echo "$md" | awk '{ printf "%.0f", $2 / 1024 }')
mb_jq=$(echo "$jqs" | awk '{ printf "%.0f", $2 / 1024 }')
echo "jl-report md: $(ratio "$r_md" "$r_jq")x jq -s, html: $(ratio "$r_html" "$r_jq")x; memory $mb_md MB vs $mb_jq MB"
summary jl-report "md summary of $n records" "$r_md rec/s, $mb_md MB" "jq -s group_by" "$r_jq rec/s, $mb_jq MB" \
	"$(ratio "$r_md" "$r_jq")" "bounded memory"
summary jl-report "html summary of $n records" "$r_html rec/s" "jq -s group_by" "$r_jq rec/s" \
	"$(ratio "$r_html" "$r_jq")" -
