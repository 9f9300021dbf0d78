#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark the whole pipeline (issue 9): BENCH_RECORDS companies (default
# 1,000) through jl-search (mock Tavily: 1,000 rpm, 300 ms) and jl-llm (mock
# chat: 600 rpm, 500 ms), both with their --rpm set to the mock's limit. The
# tighter limit bounds the run: records / 600 a minute. Reports the wall time
# as a share of that bound (target: within 10%).
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
BENCH_RECORDS=${BENCH_RECORDS:-1000}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"
MOCK_KEY=bench-key
OPENAI_API_KEY=$MOCK_KEY TAVILY_API_KEY=$MOCK_KEY
XDG_RUNTIME_DIR=$work/xdg-e2e
export OPENAI_API_KEY TAVILY_API_KEY XDG_RUNTIME_DIR
unset JL_DB
# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

n=$BENCH_RECORDS
rm -rf "$XDG_RUNTIME_DIR"
mkdir -m 700 "$XDG_RUNTIME_DIR"
awk -v n="$n" 'BEGIN { print "name,city"; for (i = 1; i <= n; i++) printf "Company %d,City %d\n", i, i % 9 }' \
	>"$work/e2e.csv"
bound=$(awk -v n="$n" 'BEGIN { printf "%.1f", n * 60 / 600 }')
echo "== end to end: $n companies, search 1,000 rpm / 300 ms, LLM 600 rpm / 500 ms (bound: $bound s)"
start_mock e2e-search $((n * 60 / 600 + 300)) --rpm 1000 --latency 300
# shellcheck disable=SC2154 # url and mock_pid are set by start_mock (bench/lib.sh)
{
	search_url=$url
	search_pid=$mock_pid
}
start_mock e2e-llm $((n * 60 / 600 + 300)) --rpm 600 --latency 500
llm_url=$url
rm -f "$work/e2e.db" "$work/e2e.db-wal" "$work/e2e.db-shm"
pipeline() {
	"$BUILD/jl-csv" -q "$work/e2e.csv" |
		"$BUILD/jl-dedup" -q --db "$work/e2e.db" --key .name |
		"$BUILD/jl-search" --quiet --db "$work/e2e.db" --base-url "$search_url/tavily" --rpm 1000 \
			-j 50 -q '"\(.name) GPU"' --max-results 3 |
		"$BUILD/jl-llm" -q --db "$work/e2e.db" -m openai/mock-model --base-url "$llm_url/v1" \
			--rpm 600 -j 16 -p 'Classify {{.name}}' |
		"$BUILD/jl-cost" -q --db "$work/e2e.db" |
		"$BUILD/jl-dedup" -q --db "$work/e2e.db" --key .name --record --store
}
m=$(run "$work/e2e.out" pipeline)
kill "$search_pid" 2>/dev/null || true
stop_mock
wall=$(echo "$m" | cut -d' ' -f1)
ok=$(count_ok "$work/e2e.out" '"llm":{')
share=$(awk -v w="$wall" -v b="$bound" 'BEGIN { printf "%.1f", w / b * 100 }')
echo "$ok of $n records done in $wall s: $share% of the bound (target <= 110%: $(verdict "$share" "<" 110.01))"
summary jlkit "end to end, $n companies" "$wall s" "bound of 600 rpm" "$bound s" \
	"$(ratio "$wall" "$bound")" "<= 1.10 of the bound"
