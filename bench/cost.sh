#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-cost (issue 7): BENCH_RECORDS records (default 500,000) with
# LLM and search usage priced and appended to the ledger (batched commits):
# records/s (target >= 500,000), against jq computing the same cost
# expression (no ledger). The two take turns BENCH_RUNS times (default 3)
# and each keeps its best wall time; every jl-cost run starts from an empty
# database (removed before the clock starts) and its output and ledger are
# checked.
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
BENCH_RECORDS=${BENCH_RECORDS:-500000}
BENCH_RUNS=${BENCH_RUNS:-3}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"
unset JL_DB
# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

n=$BENCH_RECORDS
in=$work/cost-$n.jsonl
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":%d,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":120,\"cached_tokens\":%d,\"reasoning_tokens\":0},\"cached\":false},\"search\":{\"backend\":\"tavily\",\"depth\":\"basic\",\"requests\":1,\"cached\":false}}\n", i, 500 + i % 300, i % 3 * 100 }' >"$in"

# Both write their records to /dev/null, as the other benchmarks do: what is
# timed is the pricing and the ledger, not the disk the output goes to.
jl() {
	"$BUILD/jl-cost" -q --db "$work/cost.db" <"$in" >/dev/null
}
jq_peer() {
	jq -c '.llm.usage as $u
		| .cost = {usd: ((($u.prompt_tokens - $u.cached_tokens) * 0.15 + $u.cached_tokens * 0.075
			+ $u.completion_tokens * 0.60) / 1000000 + 0.008)}' "$in" >/dev/null
}

# After a run, the ledger holds a row per record, and their sum is what
# the prices give, to the pico-dollar, computed here from the input:
# gpt-4o-mini at $0.15 per million uncached prompt tokens (150,000
# pico-dollars a token), $0.075 cached, $0.60 completion, plus a basic
# Tavily search ($0.008). awk sums the tokens (small, exact); the shell's
# 64-bit arithmetic prices them.
read -r uncached cached completion <<EOF
$(awk -F'[{:,}]' '{
	for (i = 1; i < NF; i++) {
		if ($i == "\"prompt_tokens\"") p = $(i + 1)
		if ($i == "\"cached_tokens\"") c = $(i + 1)
		if ($i == "\"completion_tokens\"") o = $(i + 1)
	}
	uncached += p - c; cached += c; completion += o
} END { printf "%d %d %d", uncached, cached, completion }' "$in")
EOF
want_pico=$((uncached * 150000 + cached * 75000 + completion * 600000 + n * 8000000000))
check_run() {
	ledger=$(python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(*c.execute("SELECT count(*), sum(pico) FROM cost_ledger").fetchone())' "$work/cost.db")
	if [ "$ledger" != "$n $want_pico" ]; then
		echo "bench: the ledger holds $ledger (rows, pico-dollars), not $n $want_pico" >&2
		exit 1
	fi
}

t_jl='' t_jq=''
i=0
while [ "$i" -lt "$BENCH_RUNS" ]; do
	rm -f "$work/cost.db" "$work/cost.db-wal" "$work/cost.db-shm"
	t_jl=$(best "$t_jl" "$(run "$work/cost.out" jl)")
	check_run
	t_jq=$(best "$t_jq" "$(run "$work/cost-jq.out" jq_peer)")
	i=$((i + 1))
done
wall_jl=${t_jl%% *} wall_jq=${t_jq%% *}
r_jl=$(awk -v n="$n" -v t="$wall_jl" 'BEGIN { printf "%.0f", n / t }')
r_jq=$(awk -v n="$n" -v t="$wall_jq" 'BEGIN { printf "%.0f", n / t }')

echo "== jl-cost: $n records priced and ledgered (best of $BENCH_RUNS, taking turns)"
printf '%-44s %8s %8s %10s\n' tool "wall s" "cpu s" records/s
printf '%-44s %8s %8s %10s\n' "jl-cost --db (priced, ledgered)" "${t_jl%% *}" "${t_jl##* }" \
	"$r_jl" "jq (the same cost expression, no ledger)" "${t_jq%% *}" "${t_jq##* }" "$r_jq"
echo "ledger checked after every run: $n rows, $want_pico pico-dollars as computed from the prices"
echo "jl-cost: $r_jl records/s (target >= 500000: $(verdict "$r_jl" ">=" 500000)); $(ratio "$r_jl" "$r_jq")x jq"
summary jl-cost "$n records priced and ledgered" "$r_jl rec/s" "jq cost expression" "$r_jq rec/s" \
	"$(ratio "$r_jl" "$r_jq")" ">= 500000 rec/s"
