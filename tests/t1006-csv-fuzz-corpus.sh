#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-csv fuzz target replayed without libFuzzer (doc/reliability.md §9.6)

tests/fuzz/fuzz_csv.c reads byte 0 as option bits (1 no-header, 2 infer,
4 line, 8 strict, 16 tab delimiter, 32 quote '"'"'), byte 1 as the chunk
size and the rest as CSV; it aborts when a line is not one JSON object in
valid UTF-8 or when chunked output differs from whole-buffer output.'
. ./lib.sh

REPLAY=$BUILD/tests/fuzz/replay_csv
CORPUS=$SRCDIR/tests/fuzz/corpus/csv

if ! test -x "$REPLAY"; then
	test_skip_all "no $REPLAY: run make check"
fi

# replay DIR: run the fuzz target on every file in DIR; all must pass.
replay() {
	"$REPLAY" "$1" >replay.out 2>replay.err &&
	test_grep -v "^not ok" replay.out &&
	count=$(find "$1" -type f ! -name ".*" | wc -l) &&
	test_grep "^1\.\.$count\$" replay.out
}

test_expect_success 'the seed corpus holds at least 20 inputs' '
	find "$CORPUS" -type f ! -name ".*" >seeds &&
	test_line_count -ge 20 seeds
'

test_expect_success 'the seed corpus replays cleanly' '
	replay "$CORPUS"
'

test_expect_success 'every seed under many option combinations and chunk sizes' '
	mkdir -p combos &&
	for o in 0 1 2 3 4 5 8 12 16 24 32 40 48 56 62 63; do
		printf "\\$(printf %o $o)\\$(printf %o $((o * 7 % 251)))" >"head.$o" || return 1
	done &&
	for f in "$CORPUS"/*; do
		base=$(basename "$f") &&
		tail -c +3 "$f" >body &&
		for h in head.*; do
			cat "$h" body >"combos/$base.${h#head.}" || return 1
		done || return 1
	done &&
	replay combos
'

test_expect_success 'the golden and csv-spectrum inputs under several options' '
	mkdir -p golden &&
	for f in "$SRCDIR"/tests/data/csv/*.csv "$SRCDIR"/tests/data/csv-spectrum/*.csv; do
		base=$(basename "$f" .csv) &&
		for h in head.*; do
			cat "$h" "$f" >"golden/$base.${h#head.}" || return 1
		done || return 1
	done &&
	replay golden
'

test_expect_success 'random CSV-like inputs (fixed seed)' '
	cat >random.awk <<-\EOF &&
	BEGIN {
		n = split("a|b|1|,|,|,|;|\"|\"|\047|\t|\r|\n|\n|x| |\303|\251|\342|\202|\254|\377|\357|\273|\277|\\|\200|\000", sym, "|")
		srand(4180)
		for (i = 0; i < 300; i++) {
			f = sprintf("random/%03d", i)
			len = int(rand() * 200)
			s = sprintf("%c%c", int(rand() * 64), 1 + int(rand() * 255))
			for (j = 0; j < len; j++)
				s = s sym[int(rand() * n) + 1]
			printf "%s", s > f
			close(f)
		}
	}
	EOF
	mkdir -p random &&
	awk -f random.awk &&
	ls random >list &&
	test_line_count = 300 list &&
	cat random/* >all &&
	for b in "\n" "\r" "\t" "\377" "\047"; do
		test "$(tr -cd "$b" <all | wc -c)" -gt 100 || return 1
	done &&
	replay random
'

test_done
