#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-dedup (issue 6), in one run:
#  1. filter mode over a run database of BENCH_DONE done keys (default
#     1,000,000), every record already done: records/s (target >= 300,000),
#     against `awk '!seen[$0]++'` (memory only: the floor) and a jq filter
#     that drops the done keys held in memory (`jq -c 'select(...)'`), each
#     the best of BENCH_RUNS (default 3) runs taken in turns;
#  2. in-stream dedup of BENCH_DISTINCT distinct keys (default 10,000,000)
#     without a database: records/s and peak memory (target < 512 MB),
#     against awk '!seen[$0]++'.
# Not a timed test: `make bench` runs it; about 2 minutes.
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
BENCH_DONE=${BENCH_DONE:-1000000}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_DISTINCT=${BENCH_DISTINCT:-10000000}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"
unset JL_DB
# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

# seconds CMD...: the wall time of CMD, output to /dev/null.
seconds() {
	start=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
	awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}

# peak_kb CMD...: CMD's peak resident memory in KiB (GNU time), output to /dev/null.
peak_kb() {
	/usr/bin/time -f '%M' -o "$work/dedup-time" "$@" >/dev/null 2>&1 ||
		{ echo "bench: failed: $*" >&2; exit 1; }
	cat "$work/dedup-time"
}

records=$work/dedup-$BENCH_DONE.jsonl
awk -v n="$BENCH_DONE" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":%d,\"name\":\"Company %d\",\"city\":\"Paris\"}\n", i, i }' >"$records"

echo "== 1. filter mode over $BENCH_DONE done keys (every record already done; best of $BENCH_RUNS)"
db=$work/dedup.db
rm -f "$db" "$db-wal" "$db-shm"
"$BUILD/jl-dedup" -q --db "$db" --key .name <"$records" |
	"$BUILD/jl-dedup" -q --db "$db" --key .name --record >/dev/null
jq -c '.name' "$records" | jq -sc . >"$work/dedup-done.json"
filter() { "$BUILD/jl-dedup" -q --db "$db" --key .name <"$records"; }
awk_peer() { awk '!seen[$0]++' "$records"; }
jq_peer() {
	jq -nc --slurpfile keys "$work/dedup-done.json" \
		'(reduce $keys[0][] as $k ({}; .[$k] = true)) as $d | inputs | select($d[.name] | not)' \
		"$records"
}
# The three take turns BENCH_RUNS times and each keeps its best time: the
# speed of this kind of machine wanders by a third from one run to the next.
t_jl='' t_awk='' t_jq=''
i=0
while [ "$i" -lt "$BENCH_RUNS" ]; do
	t_jl=$(best "$t_jl" "$(seconds filter)")
	t_awk=$(best "$t_awk" "$(seconds awk_peer)")
	t_jq=$(best "$t_jq" "$(seconds jq_peer)")
	i=$((i + 1))
done
r_jl=$(awk -v n="$BENCH_DONE" -v t="$t_jl" 'BEGIN { printf "%.0f", n / t }')
r_awk=$(awk -v n="$BENCH_DONE" -v t="$t_awk" 'BEGIN { printf "%.0f", n / t }')
r_jq=$(awk -v n="$BENCH_DONE" -v t="$t_jq" 'BEGIN { printf "%.0f", n / t }')
printf '%-46s %8s s %10s records/s\n' "jl-dedup --db (1M keys in SQLite)" "$t_jl" "$r_jl" \
	"awk '!seen[\$0]++' (memory only)" "$t_awk" "$r_awk" \
	"jq -c 'select(...)' (done keys in memory)" "$t_jq" "$r_jq"
echo "jl-dedup: $r_jl records/s (target >= 300000: $(verdict "$r_jl" ">=" 300000));" \
	"$(ratio "$r_jl" "$r_awk")x awk, $(ratio "$r_jl" "$r_jq")x jq"
summary jl-dedup "filter, $BENCH_DONE done keys" "$r_jl rec/s" "awk '!seen[\$0]++'" "$r_awk rec/s" \
	"$(ratio "$r_jl" "$r_awk")" ">= 300000 rec/s"
summary jl-dedup "filter, $BENCH_DONE done keys" "$r_jl rec/s" "jq -c 'select(...)'" "$r_jq rec/s" \
	"$(ratio "$r_jl" "$r_jq")" -
echo

echo "== 2. in-stream dedup of $BENCH_DISTINCT distinct keys, no database"
gen() {
	awk -v n="$BENCH_DISTINCT" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"name\":\"k%d\"}\n", i }'
}
gen >"$work/dedup-distinct.jsonl"
if [ -x /usr/bin/time ]; then
	t_jl=$(seconds sh -c "\"$BUILD/jl-dedup\" -q --key .name <\"$work/dedup-distinct.jsonl\"")
	kb_jl=$(peak_kb sh -c "\"$BUILD/jl-dedup\" -q --key .name <\"$work/dedup-distinct.jsonl\"")
	t_awk=$(seconds awk '!seen[$0]++' "$work/dedup-distinct.jsonl")
	kb_awk=$(peak_kb awk '!seen[$0]++' "$work/dedup-distinct.jsonl")
	r_jl=$(awk -v n="$BENCH_DISTINCT" -v t="$t_jl" 'BEGIN { printf "%.0f", n / t }')
	r_awk=$(awk -v n="$BENCH_DISTINCT" -v t="$t_awk" 'BEGIN { printf "%.0f", n / t }')
	mb_jl=$((kb_jl / 1024)) mb_awk=$((kb_awk / 1024))
	printf '%-46s %8s s %10s records/s %6s MB peak\n' "jl-dedup --key .name" "$t_jl" "$r_jl" "$mb_jl" \
		"awk '!seen[\$0]++'" "$t_awk" "$r_awk" "$mb_awk"
	echo "jl-dedup peak memory: $mb_jl MB (target < 512: $(verdict "$mb_jl" "<" 512))"
	summary jl-dedup "in-stream, $BENCH_DISTINCT distinct keys" "$r_jl rec/s, $mb_jl MB" \
		"awk '!seen[\$0]++'" "$r_awk rec/s, $mb_awk MB" "$(ratio "$r_jl" "$r_awk")" "< 512 MB"
else
	echo "GNU time is not installed (apt-get install time): skipped"
fi
rm -f "$work/dedup-distinct.jsonl"
