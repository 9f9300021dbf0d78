#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-search (issue 5), in one run:
#  1. rate-limit fidelity against build/mockd with Tavily's 100 rpm dev limit
#     scaled up: the mock limits to 1,000 requests a minute and answers after
#     300 ms; jl-search --rpm 1000 -j 50 (the seed application's concurrency)
#     sends BENCH_RECORDS searches. From the mock's log: the rate achieved as
#     a share of the limit (target >= 95%) and the share of 429s (target < 1%);
#  2. the fts backend: index BENCH_DOCS generated documents (documents/s),
#     then search them with BENCH_QUERIES queries of three words (queries/s).
# Not a timed test: run it with `make bench`; it takes about 90 s, most of it
# part 1 (1,000 searches at 1,000 a minute).
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
BENCH_RECORDS=${BENCH_RECORDS:-1000}
BENCH_RPM=${BENCH_RPM:-1000}
BENCH_DOCS=${BENCH_DOCS:-100000}
BENCH_QUERIES=${BENCH_QUERIES:-1000}
BENCH_PARTS=${BENCH_PARTS:-1 2}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"

TAVILY_API_KEY=tvly-bench-key
MOCK_KEY=$TAVILY_API_KEY
XDG_RUNTIME_DIR=$work/xdg
export TAVILY_API_KEY XDG_RUNTIME_DIR
unset JL_DB

# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

part1() {
	n=$BENCH_RECORDS
	echo "== 1. rate-limit fidelity: mock --rpm $BENCH_RPM --latency 300, jl-search --rpm $BENCH_RPM -j 50, $n searches"
	records=$work/search-records-$n.jsonl
	awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d,\"name\":\"Company %d\"}\n", i, i }' \
		>"$records"
	rm -rf "$XDG_RUNTIME_DIR"
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	log=$work/search-rate.log
	rm -f "$log"
	start_mock search-rate $((n * 60 / BENCH_RPM + 120)) --rpm "$BENCH_RPM" --latency 300 --log "$log"
	echo "(about $(awk -v n="$n" -v r="$BENCH_RPM" 'BEGIN { printf "%.0f", n * 60 / r }') s)"
	m=$(run "$work/search-rate.out" "$BUILD/jl-search" --quiet --base-url "$url/tavily" \
		-q '"\(.name) GPU training inference"' --rpm "$BENCH_RPM" -j 50 <"$records")
	stop_mock
	ok=$(count_ok "$work/search-rate.out" '"search":{')
	rate_fidelity "$log" tavily "$BENCH_RPM" "$ok" "$n" "$m" jl-search
	summary jl-search "share of 1,000 rpm at 300 ms, -j 50" "$share %" - - - ">= 95 %, < 1 % 429s ($limited %)"
	echo
}

# Documents of 120 words drawn from a vocabulary of 20,000 made-up words,
# the first ones far more often than the rest (roughly Zipf), so that some
# words are in most documents and most words in few.
generate_docs() {
	awk -v n="$1" 'BEGIN {
		srand(42)
		split("ka lo mi ne ru sa ti vo be da fe gi ho ju ly", syl, " ")
		for (w = 1; w <= 20000; w++) {
			x = w; word = ""
			while (x > 0) { word = word syl[x % 15 + 1]; x = int(x / 15) }
			vocab[w] = word
		}
		for (d = 1; d <= n; d++) {
			text = ""
			for (k = 0; k < 120; k++) {
				r = rand(); text = text " " vocab[int(20000 ^ r)]
			}
			printf "{\"url\":\"https://doc%d.example/\",\"title\":\"Document %d\",\"content\":\"%s\"}\n", d, d, substr(text, 2)
		}
	}'
}

part2() {
	docs=$work/search-docs-$BENCH_DOCS.jsonl
	index=$work/search-index.db
	queries=$work/search-queries.jsonl
	echo "== 2. fts backend: index $BENCH_DOCS documents, then $BENCH_QUERIES queries"
	[ -s "$docs" ] || generate_docs "$BENCH_DOCS" >"$docs"
	awk -v n="$BENCH_QUERIES" 'BEGIN { srand(7)
		split("ka lo mi ne ru sa ti vo be da fe gi ho ju ly", syl, " ")
		for (q = 1; q <= n; q++) {
			line = ""
			for (k = 0; k < 3; k++) {
				x = int(20000 ^ rand()) ; word = ""
				while (x > 0) { word = word syl[x % 15 + 1]; x = int(x / 15) }
				line = line " " word
			}
			printf "{\"query\":\"%s\"}\n", substr(line, 2)
		}
	}' >"$queries"
	rm -f "$index" "$index-wal" "$index-shm"
	m=$(run "$work/search-index.out" "$BUILD/jl-search" --quiet --index "$index" <"$docs")
	ips=$(echo "$m" | awk -v n="$BENCH_DOCS" '{ printf "%.0f", n / $1 }')
	echo "index:  $BENCH_DOCS documents in $(echo "$m" | cut -d' ' -f1) s = $ips documents/s"
	m=$(run "$work/search-query.out" "$BUILD/jl-search" --quiet -b fts --index "$index" \
		--max-results 5 <"$queries")
	qps=$(echo "$m" | awk -v n="$BENCH_QUERIES" '{ printf "%.0f", n / $1 }')
	echo "query:  $BENCH_QUERIES queries in $(echo "$m" | cut -d' ' -f1) s = $qps queries/s (5 results each, BM25)"
	re_m=$(run "$work/search-reindex.out" "$BUILD/jl-search" --quiet --index "$index" <"$docs")
	echo "reindex of the same documents (nothing changes): $(echo "$re_m" | awk -v n="$BENCH_DOCS" '{ printf "%.0f", n / $1 }') documents/s"
	summary jl-search "fts: index $BENCH_DOCS docs" "$ips docs/s" - - - -
	summary jl-search "fts: 3-word queries" "$qps queries/s" - - - -
	echo
}

for part in $BENCH_PARTS; do
	case $part in
	1) part1 ;;
	2) part2 ;;
	*) echo "bench: unknown part '$part'" >&2; exit 64 ;;
	esac
done
