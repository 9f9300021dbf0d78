#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-csv against its peers in one run (issue 2): Miller
# (`mlr --icsv --ojsonl cat`) and a raw libcsv parse loop that produces no
# output (bench/csvparse.c). Generates a ~100 MB CSV with quoted fields,
# doubled quotes and embedded newlines; prints MB/s and the ratios.
# Not a timed test: run it with `make bench` on an idle machine.
# BENCH_MB sets the input size, BENCH_RUNS the runs per tool (best is kept).
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
CC=${CC:-cc}
BENCH_MB=${BENCH_MB:-100}
BENCH_RUNS=${BENCH_RUNS:-3}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"
input=$work/bench-$BENCH_MB.csv

$CC -O2 -o "$work/csvparse" "$SRCDIR/bench/csvparse.c" -lcsv

if [ ! -s "$input" ]; then
	echo "generating $BENCH_MB MB of CSV in $input ..."
	awk -v mb="$BENCH_MB" 'BEGIN {
		srand(42)
		limit = mb * 1000000
		print "id,name,description,price,city,tags,empty"
		split("Berlin,São Paulo,Zürich,Kraków,Tōkyō,Lagos,Montréal,Seoul", city, ",")
		while (size < limit) {
			i++
			name = sprintf("\"Company %d, Inc.\"", i)
			desc = sprintf("\"Builds \"\"GPU\"\" clusters\nfor training %d models;\r\nsecond line %d\"", int(rand() * 1000), i)
			line = sprintf("%d,%s,%s,%.2f,%s,  tag%d  ,", i, name, desc, rand() * 1000, city[i % 8 + 1], i % 17)
			print line
			size += length(line) + 1
		}
	}' >"$input"
fi
size=$(wc -c <"$input")
mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')
echo "input: $input ($mb MB)"

# best_time CMD...: the smallest wall time of BENCH_RUNS runs, in seconds.
best_time() {
	best=
	run=0
	while [ "$run" -lt "$BENCH_RUNS" ]; do
		start=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
		end=$(date +%s.%N)
		t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')
		best=$(awk -v a="$t" -v b="${best:-$t}" 'BEGIN { print (a < b ? a : b) }')
		run=$((run + 1))
	done
	echo "$best"
}

rate() {
	awk -v s="$size" -v t="$1" 'BEGIN { printf "%.1f", s / 1e6 / t }'
}

t_jl=$(best_time "$BUILD/jl-csv" -q "$input")
t_raw=$(best_time "$work/csvparse" --as-jl-csv "$input")
t_rawdef=$(best_time "$work/csvparse" "$input")
if command -v mlr >/dev/null; then
	t_mlr=$(best_time mlr --icsv --ojsonl cat "$input")
fi

printf '%-44s %8s %10s\n' tool seconds MB/s
printf '%-44s %8s %10s\n' "jl-csv -q FILE >/dev/null" "$t_jl" "$(rate "$t_jl")"
printf '%-44s %8s %10s\n' "raw libcsv parse, jl-csv's settings" "$t_raw" "$(rate "$t_raw")"
printf '%-44s %8s %10s\n' "raw libcsv parse, libcsv defaults" "$t_rawdef" "$(rate "$t_rawdef")"
if [ -n "${t_mlr:-}" ]; then
	printf '%-44s %8s %10s\n' "mlr --icsv --ojsonl cat" "$t_mlr" "$(rate "$t_mlr")"
fi
echo
awk -v a="$t_raw" -v b="$t_jl" 'BEGIN { printf "jl-csv / raw libcsv (same settings): %.2f of the parse rate (target >= 0.80)\n", a / b }'
awk -v a="$t_rawdef" -v b="$t_jl" 'BEGIN { printf "jl-csv / raw libcsv (defaults):      %.2f of the parse rate\n", a / b }'
if [ -n "${t_mlr:-}" ]; then
	awk -v a="$t_mlr" -v b="$t_jl" 'BEGIN { printf "jl-csv vs Miller:                    %.1fx faster (target >= 5x)\n", a / b }'
else
	echo "jl-csv vs Miller: mlr not installed (apt-get install miller), skipped"
fi
