#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-llm --batch against build/mockd, in one run:
#  1. cost: BENCH_BATCH_RECORDS records (default 10,000), each a fixed
#     instruction and about 2 KB of search text, through gpt-4o-mini twice:
#     synchronously (the peer: the same run as it is paid today) and with
#     --batch, each piped into jl-cost with its own ledger. The headline is
#     the batch run's cost as a share of the synchronous one (target <= 0.52
#     at gpt-4o-mini's prices); the answers must be the same.
#  2. memory: jl-llm's peak resident size while it holds one batch of
#     BENCH_BATCH_BIG records (default 50,000, OpenAI's most) of 800 bytes of
#     text (the mock takes bodies up to 64 MiB), beside the same for a tenth
#     of them: the records wait in the run database, not in memory, so ten
#     times the records must not take ten times the memory (target: the big
#     batch's peak below twice the small one's).
# Not a timed test: `make bench` runs it; it takes about a minute.
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
n=${BENCH_BATCH_RECORDS:-10000}
big=${BENCH_BATCH_BIG:-50000}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"

OPENAI_API_KEY=bench-key
MOCK_KEY=$OPENAI_API_KEY
XDG_RUNTIME_DIR=$work/xdg
export OPENAI_API_KEY XDG_RUNTIME_DIR
unset JL_DB JL_MODEL
mkdir -p "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

# records N [SIZE]: N records of SIZE bytes (default 2,000) of search text each.
records() {
	awk -v n="$1" -v size="${2:-2000}" 'BEGIN {
		text = "GPU clusters for training and inference, regulated industries, on premise."
		while (length(text) < size) text = text " " text
		text = substr(text, 1, size)
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"name\":\"Company %d\",\"search\":\"%s\"}\n", i, i, text
	}'
}
records "$n" >"$work/batch-records.jsonl"
prompt='Classify the company {{.name}} as HOT, WATCH or COLD for buying GPU compute, from this evidence: {{.search}}'

llm() { # llm DB [options]: the records through gpt-4o-mini at the mock
	db=$1
	shift
	"$BUILD/jl-llm" -q --db "$db" -m openai/gpt-4o-mini --base-url "$url/v1" --max-tokens 100 \
		-p "$prompt" "$@" <"$work/batch-records.jsonl"
}
priced() { # priced DB: the ledger's total in dollars
	python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT sum(pico) FROM cost_ledger").fetchone()[0] / 1e12)' "$1"
}

sync_run() { llm "$work/batch-sync.db" -j 64 | "$BUILD/jl-cost" -q --db "$work/batch-sync.db"; }
batch_run() {
	llm "$work/batch-batch.db" --batch --poll 0.5 | "$BUILD/jl-cost" -q --db "$work/batch-batch.db"
}

start_mock batch 3600 --batch-time 2 --log "$work/batch-mock.log"
rm -f "$work"/batch-sync.db* "$work"/batch-batch.db*
t_sync=$(run "$work/batch-sync.out" sync_run)
t_batch=$(run "$work/batch-batch.out" batch_run)
cost_sync=$(priced "$work/batch-sync.db")
cost_batch=$(priced "$work/batch-batch.db")
share=$(awk -v a="$cost_batch" -v b="$cost_sync" 'BEGIN { printf "%.3f", a / b }')
# the same answers, one batch, no synchronous request from the batch run
jq -c '[.id, .llm.content]' "$work/batch-sync.out" | sort >"$work/batch-sync.answers"
jq -c '[.id, .llm.content]' "$work/batch-batch.out" | sort >"$work/batch-batch.answers"
if ! cmp -s "$work/batch-sync.answers" "$work/batch-batch.answers"; then
	echo "bench: the batch run's answers differ from the synchronous run's" >&2
	exit 1
fi
batches=$(grep -c '"route":"batches"' "$work/batch-mock.log")
stop_mock

echo "== jl-llm --batch: $n records of gpt-4o-mini, each ~2 KB of evidence, --max-tokens 100"
printf '%-36s %8s %8s %12s\n' run "wall s" "cpu s" "cost USD"
printf '%-36s %8s %8s %12s\n' "synchronous (-j 64)" "${t_sync%% *}" "${t_sync##* }" "$cost_sync" \
	"--batch ($batches batch)" "${t_batch%% *}" "${t_batch##* }" "$cost_batch"
echo "answers: the same $n in both runs"
echo "batch cost: $share of the synchronous cost (target <= 0.52: $(verdict "$share" "<" 0.5201))"
summary "jl-llm --batch" "$n records, cost vs synchronous" "\$$cost_batch" "synchronous" \
	"\$$cost_sync" "$share" "<= 0.52 of the cost"

# Peak memory while holding one batch: BIG records, then a tenth of them.
peak() { # peak COUNT: jl-llm's peak RSS in KiB for one batch of COUNT records
	records "$1" 800 >"$work/batch-mem.jsonl"
	rm -f "$work"/batch-mem.db*
	/usr/bin/time -f %M -o "$work/batch-mem.rss" "$BUILD/jl-llm" -q --db "$work/batch-mem.db" \
		-m openai/gpt-4o-mini --base-url "$url/v1" --max-tokens 100 -p "$prompt" \
		--batch --poll 0.5 <"$work/batch-mem.jsonl" >"$work/batch-mem.out"
	test "$(wc -l <"$work/batch-mem.out")" -eq "$1" ||
		{ echo "bench: $1 records in, $(wc -l <"$work/batch-mem.out") out" >&2; exit 1; }
	cat "$work/batch-mem.rss"
}
start_mock batch-mem 3600 --batch-time 2
small=$(peak $((big / 10)))
large=$(peak "$big")
stop_mock
input_mb=$(awk -v b="$(wc -c <"$work/batch-mem.jsonl")" 'BEGIN { printf "%.0f", b / 1048576 }')
growth=$(ratio "$large" "$small")
echo "== jl-llm --batch: peak memory holding one batch"
printf '%-36s %12s\n' records "peak RSS KiB" "$((big / 10))" "$small" "$big ($input_mb MiB of input)" "$large"
echo "ten times the records: $growth times the memory (target < 2: $(verdict "$growth" "<" 2))"
summary "jl-llm --batch" "peak RSS, one batch of $big" "$large KiB" "a batch of $((big / 10))" \
	"$small KiB" "$growth" "< 2x for 10x records"
