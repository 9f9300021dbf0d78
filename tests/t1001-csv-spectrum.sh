#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-csv on the twelve csv-spectrum cases (our own inputs, tests/data/csv-spectrum)'
. ./lib.sh

DATA=$SRCDIR/tests/data/csv-spectrum
CASES='comma_in_quotes empty empty_crlf escaped_quotes json location_coordinates
newlines newlines_crlf quotes_and_newlines simple simple_crlf utf8'

test_expect_success 'all twelve cases are there, and nothing else' '
	for c in $CASES; do
		test -f "$DATA/$c.csv" && test -f "$DATA/$c.jsonl" || return 1
		echo "$c.csv" && echo "$c.jsonl"
	done >want &&
	echo README >>want &&
	sort want >want.sorted &&
	ls "$DATA" | sort >have &&
	test_cmp want.sorted have
'

test_expect_success 'the _crlf cases hold real CRLF line ends' '
	for c in empty_crlf newlines_crlf simple_crlf; do
		lf=$(tr -cd "\012" <"$DATA/$c.csv" | wc -c) &&
		crlf=$(grep -c "$(printf "\r")\$" "$DATA/$c.csv") &&
		test "$lf" -gt 0 && test "$crlf" -eq "$lf" || return 1
	done &&
	for c in empty newlines simple; do
		test_grep -v "$(printf "\r")" "$DATA/$c.csv" || return 1
	done
'

test_expect_success 'four cases end without a final newline' '
	for c in comma_in_quotes empty empty_crlf utf8; do
		test "$(tail -c 1 "$DATA/$c.csv" | od -An -c | tr -d " ")" != "\\n" || return 1
	done
'

# stderr holds at most the summary line, "jl-csv: ..."
quiet_stderr() {
	test_line_count -le 1 "$1" &&
	{ grep -v "^jl-csv: " "$1" || :; } >"$1.other" &&
	test_must_be_empty "$1.other"
}

for c in $CASES; do
	test_expect_success "$c" "
		jl-csv \"\$DATA/$c.csv\" >out 2>err &&
		test_cmp \"\$DATA/$c.jsonl\" out &&
		json_lines_valid out &&
		test_grep -v _error out &&
		quiet_stderr err
	"
	test_expect_success "$c from a pipe, a few bytes at a time" "
		dd if=\"\$DATA/$c.csv\" bs=3 2>/dev/null | jl-csv - >out &&
		test_cmp \"\$DATA/$c.jsonl\" out
	"
done

test_expect_success '--line numbers the rows of newlines.csv by their first physical line' '
	jl-csv --line "$DATA/newlines.csv" >out &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2","c":"3","_line":2}
	{"a":"Once upon\na time","b":"5","c":"6","_line":3}
	{"a":"7","b":"8","c":"9","_line":5}
	EOF
	test_cmp expect out &&
	jl-csv --line "$DATA/newlines_crlf.csv" >out &&
	sed -e "s/\\\\r\\\\n/\\\\n/" out >out.lf &&
	test_cmp expect out.lf
'

test_expect_success PYTHON3 'the expected outputs agree with Python csv.DictReader' '
	cat >check.py <<-\EOF &&
	import csv, json, sys
	bad = 0
	for case in sys.argv[2:]:
	    with open(f"{sys.argv[1]}/{case}.csv", newline="", encoding="utf-8") as f:
	        rows = list(csv.DictReader(f))
	    with open(f"{sys.argv[1]}/{case}.jsonl", encoding="utf-8") as f:
	        want = [json.loads(line) for line in f]
	    if rows != want:
	        print(case, rows, want, file=sys.stderr)
	        bad += 1
	sys.exit(bad)
	EOF
	python3 check.py "$DATA" $CASES
'

test_done
