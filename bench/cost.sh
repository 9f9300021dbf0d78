#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-cost (issue 7): BENCH_RECORDS records (default 500,000) with
# LLM and search usage priced and appended to the ledger (batched commits):
# records/s (target >= 500,000), against jq computing the same cost
# expression (no ledger).
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
BENCH_RECORDS=${BENCH_RECORDS:-500000}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"
unset JL_DB
# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

n=$BENCH_RECORDS
in=$work/cost-$n.jsonl
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":%d,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":120,\"cached_tokens\":%d,\"reasoning_tokens\":0},\"cached\":false},\"search\":{\"backend\":\"tavily\",\"depth\":\"basic\",\"requests\":1,\"cached\":false}}\n", i, 500 + i % 300, i % 3 * 100 }' >"$in"

seconds() {
	start=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
	awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}

jl() {
	rm -f "$work/cost.db" "$work/cost.db-wal" "$work/cost.db-shm"
	"$BUILD/jl-cost" -q --db "$work/cost.db" <"$in"
}
jq_peer() {
	jq -c '.llm.usage as $u
		| .cost = {usd: ((($u.prompt_tokens - $u.cached_tokens) * 0.15 + $u.cached_tokens * 0.075
			+ $u.completion_tokens * 0.60) / 1000000 + 0.008)}' "$in"
}

echo "== jl-cost: $n records priced and ledgered"
t_jl=$(seconds jl)
t_jq=$(seconds jq_peer)
r_jl=$(awk -v n="$n" -v t="$t_jl" 'BEGIN { printf "%.0f", n / t }')
r_jq=$(awk -v n="$n" -v t="$t_jq" 'BEGIN { printf "%.0f", n / t }')
printf '%-44s %8s s %10s records/s\n' "jl-cost --db (priced, ledgered)" "$t_jl" "$r_jl" \
	"jq (the same cost expression, no ledger)" "$t_jq" "$r_jq"
echo "jl-cost: $r_jl records/s (target >= 500000: $(verdict "$r_jl" ">=" 500000)); $(ratio "$r_jl" "$r_jq")x jq"
summary jl-cost "$n records priced and ledgered" "$r_jl rec/s" "jq cost expression" "$r_jq rec/s" \
	"$(ratio "$r_jl" "$r_jq")" ">= 500000 rec/s"
