#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-csv against its peers in one run (issue 2): Miller
# (`mlr --icsv --ojsonl cat`) and a raw libcsv parse loop that produces no
# output (bench/csvparse.c), on ~100 MB CSV inputs with quoted fields,
# doubled quotes and embedded newlines; prints MB/s and the ratios.
# Not a timed test: run it with `make bench` on an idle machine.
# BENCH_MB sets the input size, BENCH_RUNS the runs per tool (the best is
# kept), BENCH_KINDS the inputs (default "mixed stress"); BENCH_CALLGRIND=1
# adds instruction counts from callgrind, which a busy machine does not skew.
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
CC=${CC:-cc}
BENCH_MB=${BENCH_MB:-100}
BENCH_RUNS=${BENCH_RUNS:-5}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"
# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

$CC -O2 -o "$work/csvparse" "$SRCDIR/bench/csvparse.c" -lcsv

# Inputs of BENCH_MB each, generated once with a fixed seed:
#  mixed:  company records as real exports look: a third of the names
#          quoted (commas), every description quoted, one in seven with an
#          embedded newline, some doubled quotes, some non-ASCII countries;
#  stress: every row has quoted fields, doubled quotes, an LF and a CRLF
#          inside quotes, non-ASCII text and spaces around fields.
generate() {
	awk -v mb="$BENCH_MB" -v kind="$1" 'BEGIN {
		srand(42)
		limit = mb * 1000000
		if (kind == "mixed") {
			print "id,company,website,country,employees,revenue_musd,founded,description,tags"
			split("United States,Germany,France,Japan,Brazil,Côte d\047Ivoire,México,España,India,Canada", country, ",")
			split("builds GPU clusters for training and inference of large models in the cloud with on premise options for regulated industries", word, " ")
		} else {
			print "id,name,description,price,city,tags,empty"
			split("Berlin,São Paulo,Zürich,Kraków,Tōkyō,Lagos,Montréal,Seoul", city, ",")
		}
		while (size < limit) {
			i++
			if (kind == "mixed") {
				name = rand() < 0.35 ? sprintf("\"Acme %d, Inc.\"", i) : sprintf("Acme %d Labs", i)
				desc = ""
				n = 6 + int(rand() * 24)
				for (w = 0; w < n; w++)
					desc = desc (w ? " " : "") word[int(rand() * 21) + 1]
				if (rand() < 0.15)
					desc = desc ".\nSecond paragraph about " word[int(rand() * 21) + 1]
				if (rand() < 0.05)
					desc = desc " (\"\"AI\"\" native)"
				line = sprintf("%d,%s,https://acme%d.example.com,%s,%d,%.2f,%d,\"%s\",\"gpu,training,inference\"", \
					i, name, i, country[i % 10 + 1], int(rand() * 50000), rand() * 9000, 1950 + i % 75, desc)
			} else {
				name = sprintf("\"Company %d, Inc.\"", i)
				desc = sprintf("\"Builds \"\"GPU\"\" clusters\nfor training %d models;\r\nsecond line %d\"", int(rand() * 1000), i)
				line = sprintf("%d,%s,%s,%.2f,%s,  tag%d  ,", i, name, desc, rand() * 1000, city[i % 8 + 1], i % 17)
			}
			print line
			size += length(line) + 1
		}
	}'
}

# elapsed CMD...: the wall time of one run, in seconds.
elapsed() {
	start=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }'
}

# min A B: the smaller of two times (A may be empty).
min() {
	awk -v a="${1:-$2}" -v b="$2" 'BEGIN { print (a < b ? a : b) }'
}

# instructions CMD...: the instructions one run executes, counted by callgrind.
instructions() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
		awk '/refs:/ { gsub(",", "", $NF); print $NF }'
}

rate() {
	awk -v s="$size" -v t="$1" 'BEGIN { printf "%.1f", s / 1e6 / t }'
}

for kind in ${BENCH_KINDS:-mixed stress}; do
	input=$work/bench-$kind-$BENCH_MB.csv
	if [ ! -s "$input" ]; then
		echo "generating $BENCH_MB MB of $kind CSV in $input ..."
		generate "$kind" >"$input"
	fi
	size=$(wc -c <"$input")
	echo
	echo "== $kind input: $input ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') MB)"

	# The tools take turns, so that a slow spell of the machine hits them all
	# alike; each keeps its best time.
	t_jl='' t_raw='' t_rawdef='' t_mlr=''
	run=0
	while [ "$run" -lt "$BENCH_RUNS" ]; do
		t_jl=$(min "$t_jl" "$(elapsed "$BUILD/jl-csv" -q "$input")")
		t_raw=$(min "$t_raw" "$(elapsed "$work/csvparse" --as-jl-csv "$input")")
		t_rawdef=$(min "$t_rawdef" "$(elapsed "$work/csvparse" "$input")")
		if command -v mlr >/dev/null; then
			t_mlr=$(min "$t_mlr" "$(elapsed mlr --icsv --ojsonl cat "$input")")
		fi
		run=$((run + 1))
	done

	printf '%-44s %8s %10s\n' tool seconds MB/s
	printf '%-44s %8s %10s\n' "jl-csv -q FILE >/dev/null" "$t_jl" "$(rate "$t_jl")"
	printf '%-44s %8s %10s\n' "raw libcsv parse, jl-csv's settings" "$t_raw" "$(rate "$t_raw")"
	printf '%-44s %8s %10s\n' "raw libcsv parse, libcsv defaults" "$t_rawdef" "$(rate "$t_rawdef")"
	if [ -n "$t_mlr" ]; then
		printf '%-44s %8s %10s\n' "mlr --icsv --ojsonl cat" "$t_mlr" "$(rate "$t_mlr")"
	fi
	awk -v a="$t_raw" -v b="$t_jl" 'BEGIN { printf "jl-csv / raw libcsv (same settings): %.2f of the parse rate (target >= 0.80)\n", a / b }'
	awk -v a="$t_rawdef" -v b="$t_jl" 'BEGIN { printf "jl-csv / raw libcsv (defaults):      %.2f of the parse rate\n", a / b }'
	summary jl-csv "$kind CSV, MB/s" "$(rate "$t_jl") MB/s" "raw libcsv parse" "$(rate "$t_raw") MB/s" \
		"$(ratio "$t_raw" "$t_jl")" ">= 0.80 of raw libcsv"
	if [ -n "$t_mlr" ]; then
		summary jl-csv "$kind CSV, MB/s" "$(rate "$t_jl") MB/s" "mlr --icsv --ojsonl cat" \
			"$(rate "$t_mlr") MB/s" "$(ratio "$t_mlr" "$t_jl")" ">= 5x Miller"
		awk -v a="$t_mlr" -v b="$t_jl" 'BEGIN { printf "jl-csv vs Miller:                    %.1fx faster (target >= 5x)\n", a / b }'
	else
		echo "jl-csv vs Miller: mlr not installed (apt-get install miller), skipped"
	fi
	# Wall times on a shared machine wander; instruction counts do not.
	if [ -n "${BENCH_CALLGRIND:-}" ] && command -v valgrind >/dev/null; then
		i_jl=$(instructions "$BUILD/jl-csv" -q "$input")
		i_raw=$(instructions "$work/csvparse" --as-jl-csv "$input")
		awk -v a="$i_raw" -v b="$i_jl" 'BEGIN { printf "instructions (callgrind): jl-csv %.0fM, raw libcsv %.0fM: %.2f of the parse rate\n", b / 1e6, a / 1e6, a / b }'
	fi
done
