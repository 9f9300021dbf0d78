#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-csv errors: error records, --strict, exit codes 0 1 64 65 66 74, stderr, -q'
. ./lib.sh

# Error messages are compared up to their "FILE:LINE: " prefix; the cause is free text.
normalise_messages() {
	sed -E 's/("message":"[^":]*:[0-9]+: )([^"\\]|\\.)*"/\1..."/g' "$1"
}

# Every line of a stderr file begins with "jl-csv: ".
stderr_prefixed() {
	{ grep -v '^jl-csv: ' "$1" || :; } >"$1.unprefixed" &&
	test_must_be_empty "$1.unprefixed"
}

# expect_usage_error ARGS...: exit 64, nothing on stdout, "jl-csv: ..." first on stderr.
expect_usage_error() {
	test_expect_code 64 jl-csv "$@" >usage.out 2>usage.err &&
	test_must_be_empty usage.out &&
	sed -n 1p usage.err >usage.first &&
	test_grep "^jl-csv: " usage.first
}

# x_bytes N: N bytes of 'x' on stdout.
x_bytes() {
	dd if=/dev/zero bs=1024 count=$(($1 / 1024 + 1)) 2>/dev/null | tr '\0' x | head -c "$1"
}

# raw_length FILE: the length in bytes of the first "_raw" value in FILE
# (decoded; two-character escapes only, no \uXXXX).
raw_length() {
	sed -n -E 's/.*"_raw":"(([^"\\]|\\.)*)".*/\1/p' "$1" | head -n 1 |
		sed 's/\\././g' | tr -d '\n' | wc -c
}

test_expect_success 'setup' '
	printf "a,b\n1,2\n" >good.csv &&
	printf "a,b\n1,2\n3\n4,5,6\n7,8\n" >ragged.csv &&
	printf "a,b\n1,2\n3,\"open\n4,5\n" >unterminated.csv &&
	printf "a,b\n1,2\n3,caf\351\n5,6\n" >badutf8.csv &&
	printf "a,b\n1,2\n3,abcdefghijk\n5,6\n" >toolarge.csv
'

test_expect_success 'ragged rows without --strict: exit 0, null and _extra' '
	jl-csv ragged.csv >out 2>err &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2"}
	{"a":"3","b":null}
	{"a":"4","b":"5","_extra":["6"]}
	{"a":"7","b":"8"}
	EOF
	test_cmp expect out
'

test_expect_success '--strict: ragged rows become ragged_row records, the run goes on, exit 1' '
	test_expect_code 1 jl-csv --strict ragged.csv >out 2>err &&
	normalise_messages out >actual &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2"}
	{"_error":{"tool":"jl-csv","code":"ragged_row","message":"ragged.csv:3: ...","file":"ragged.csv","line":3},"_raw":"3"}
	{"_error":{"tool":"jl-csv","code":"ragged_row","message":"ragged.csv:4: ...","file":"ragged.csv","line":4},"_raw":"4,5,6"}
	{"a":"7","b":"8"}
	EOF
	test_cmp expect actual &&
	test_grep "^jl-csv: ragged.csv:3: " err &&
	test_grep "^jl-csv: ragged.csv:4: " err &&
	stderr_prefixed err
'

test_expect_success '--strict on well-formed input exits 0' '
	jl-csv --strict good.csv >out &&
	echo "{\"a\":\"1\",\"b\":\"2\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'unterminated quote: error record, exit 0' '
	jl-csv --line unterminated.csv >out 2>err &&
	normalise_messages out >actual &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2","_line":2}
	{"_error":{"tool":"jl-csv","code":"unterminated_quote","message":"unterminated.csv:3: ...","file":"unterminated.csv","line":3},"_raw":"3,\"open\n4,5","_line":3}
	EOF
	test_cmp expect actual &&
	test_grep "^jl-csv: unterminated.csv:3: " err
'

test_expect_success 'unterminated quote with --strict: the record, then exit 65' '
	test_expect_code 65 jl-csv --strict unterminated.csv >out 2>err &&
	test_line_count = 2 out &&
	tail -n 1 out >last &&
	test_grep "\"code\":\"unterminated_quote\"" last &&
	test_grep "\"line\":3" last &&
	test_grep "^jl-csv: unterminated.csv:3: " err &&
	stderr_prefixed err
'

test_expect_success 'invalid UTF-8: bad_utf8 record, the run goes on, exit 0' '
	jl-csv badutf8.csv >out 2>err &&
	normalise_messages out >actual &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2"}
	{"_error":{"tool":"jl-csv","code":"bad_utf8","message":"badutf8.csv:3: ...","file":"badutf8.csv","line":3},"_raw":"3,caf�"}
	{"a":"5","b":"6"}
	EOF
	test_cmp expect actual &&
	json_lines_valid out
'

test_expect_success 'the invalid UTF-8 message names file:line and suggests --encoding' '
	test_grep "^jl-csv: badutf8.csv:3: .*--encoding" err &&
	test_grep "\"message\":\"badutf8.csv:3: [^\"]*--encoding" out
'

test_expect_success 'invalid UTF-8 with --strict: the record, nothing after it, exit 65' '
	test_expect_code 65 jl-csv --strict badutf8.csv >out 2>err &&
	test_line_count = 2 out &&
	tail -n 1 out >last &&
	test_grep "^{\"_error\":{\"tool\":\"jl-csv\",\"code\":\"bad_utf8\"" last &&
	stderr_prefixed err
'

test_expect_success 'a field over --max-field: field_too_large record, the run goes on' '
	jl-csv --max-field 10 toolarge.csv >out 2>err &&
	normalise_messages out >actual &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2"}
	{"_error":{"tool":"jl-csv","code":"field_too_large","message":"toolarge.csv:3: ...","file":"toolarge.csv","line":3},"_raw":"3,abcdefghijk"}
	{"a":"5","b":"6"}
	EOF
	test_cmp expect actual &&
	test_grep "^jl-csv: toolarge.csv:3: " err
'

test_expect_success 'a field over --max-field with --strict: exit 65 after the record' '
	test_expect_code 65 jl-csv --strict --max-field 10 toolarge.csv >out 2>err &&
	test_line_count = 2 out &&
	tail -n 1 out >last &&
	test_grep "\"code\":\"field_too_large\"" last
'

test_expect_success '--strict stops at malformed input: later files are not read' '
	test_expect_code 65 jl-csv --strict badutf8.csv good.csv >out 2>err &&
	test_line_count = 2 out
'

test_expect_success '--strict: a ragged row, then malformed input: 65 wins over 1' '
	printf "a,b\n1\n2,\377\n3,4\n" >both.csv &&
	test_expect_code 65 jl-csv --strict both.csv >out 2>err &&
	test_line_count = 2 out &&
	sed -n 1p out >first &&
	test_grep "\"code\":\"ragged_row\"" first &&
	sed -n 2p out >second &&
	test_grep "\"code\":\"bad_utf8\"" second
'

test_expect_success 'every error is a record on stdout, however many' '
	printf "a,b\n" >many.csv &&
	i=0 &&
	while test $i -lt 30; do
		printf "%d,\377\n%d,ok\n" $i $i >>many.csv &&
		i=$((i + 1)) || return 1
	done &&
	jl-csv many.csv >out 2>err &&
	test_line_count = 60 out &&
	test "$(grep -c "\"code\":\"bad_utf8\"" out)" = 30 &&
	json_lines_valid out &&
	stderr_prefixed err
'

test_expect_success '-q: nothing on stderr, whatever the input' '
	printf "a,a,\n1,2,3\n4,\377,6\n7\n8,9,10,11\n12,\"open\n" >noisy.csv &&
	jl-csv -q noisy.csv >out 2>err &&
	test_must_be_empty err &&
	test_line_count = 5 out &&
	test_expect_code 1 jl-csv --quiet --strict --max-field 1M ragged.csv >out 2>err &&
	test_must_be_empty err &&
	jl-csv -q --max-field 4 toolarge.csv >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'without -q the same input is reported on stderr' '
	jl-csv noisy.csv >out 2>err &&
	test_grep "^jl-csv: noisy.csv:3: " err &&
	test_grep "^jl-csv: noisy.csv:6: " err &&
	stderr_prefixed err
'

# --- usage errors: 64 ------------------------------------------------------

test_expect_success 'unknown options: 64' '
	expect_usage_error --frobnicate good.csv &&
	expect_usage_error -Z good.csv
'

test_expect_success 'an option without its argument: 64' '
	expect_usage_error good.csv -d &&
	expect_usage_error good.csv --max-field &&
	expect_usage_error good.csv --header &&
	expect_usage_error good.csv --encoding
'

test_expect_success 'a delimiter or quote that is not one byte: 64' '
	expect_usage_error -d ab good.csv &&
	expect_usage_error -d "" good.csv &&
	expect_usage_error --delimiter ";;" good.csv &&
	expect_usage_error --quote "" good.csv &&
	expect_usage_error --quote "\"\"" good.csv &&
	expect_usage_error -d "$(printf "\303\251")" good.csv
'

test_expect_success 'delimiter == quote: 64' '
	expect_usage_error -d "\"" good.csv &&
	expect_usage_error --quote , good.csv &&
	expect_usage_error --tsv --quote tab good.csv &&
	expect_usage_error -d x --quote x good.csv
'

test_expect_success 'a line terminator as delimiter or quote: 64' '
	expect_usage_error -d "
" good.csv &&
	expect_usage_error --quote "$(printf "\r")" good.csv
'

test_expect_success 'bad --max-field values: 64' '
	for v in 0 -1 abc "" 1X 1.5M 10kb " 1" 99999999999999999999 17179869184G; do
		expect_usage_error --max-field "$v" good.csv || return 1
	done
'

test_expect_success '--header with --no-header: 64' '
	expect_usage_error --header x,y --no-header good.csv
'

test_expect_success 'an unknown --encoding: 64' '
	expect_usage_error --encoding no-such-charset-42 good.csv
'

# --- input files: 66 -------------------------------------------------------

test_expect_success 'a missing file: 66, the message names it, nothing on stdout' '
	test_expect_code 66 jl-csv missing.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-csv: .*missing\.csv" err
'

test_expect_success 'a missing file after good ones: 66 before any output' '
	test_expect_code 66 jl-csv good.csv ragged.csv missing.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-csv: .*missing\.csv" err &&
	test_expect_code 66 jl-csv - missing.csv <good.csv >out 2>err &&
	test_must_be_empty out
'

test_expect_success 'a directory as input: 66' '
	mkdir -p adir &&
	test_expect_code 66 jl-csv good.csv adir >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-csv: .*adir" err
'

test_expect_success NOT_ROOT 'an unreadable file: 66' '
	cp good.csv secret.csv &&
	chmod 0 secret.csv &&
	test_when_finished "chmod 644 secret.csv" &&
	test_expect_code 66 jl-csv good.csv secret.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-csv: .*secret\.csv" err
'

# --- output: 74 ------------------------------------------------------------

test_expect_success DEV_FULL 'a full disk: 74 and a message' '
	test_expect_code 74 jl-csv good.csv >/dev/full 2>err &&
	test_grep "^jl-csv: .*write" err &&
	stderr_prefixed err
'

test_expect_success DEV_FULL 'a full disk with more output than one buffer: 74' '
	{
		echo a,b &&
		i=0 &&
		while test $i -lt 2000; do
			echo "$i,some text to fill the output buffer quickly, quite quickly" &&
			i=$((i + 1)) || return 1
		done
	} >long.csv &&
	x_bytes 300000 >longfield &&
	{ printf "a\n" && cat longfield && echo; } >wide.csv &&
	test_expect_code 74 jl-csv long.csv >/dev/full 2>err &&
	test_grep "^jl-csv: .*write" err &&
	test_expect_code 74 jl-csv wide.csv >/dev/full 2>err &&
	test_grep "^jl-csv: .*write" err &&
	stderr_prefixed err
'

# --- sizes -----------------------------------------------------------------

test_expect_success 'a 1 MiB field converts whole with the default --max-field' '
	x_bytes 1048576 >mib &&
	{ printf "a,b\n1,\"" && cat mib && printf "\"\n2,3\n"; } >mib.csv &&
	jl-csv mib.csv >out 2>err &&
	{ printf "{\"a\":\"1\",\"b\":\"" && cat mib && printf "\"}\n{\"a\":\"2\",\"b\":\"3\"}\n"; } >expect &&
	cmp expect out
'

test_expect_success 'a field of exactly --max-field bytes passes' '
	jl-csv --max-field 1M mib.csv >out 2>err &&
	cmp expect out
'

test_expect_success 'one byte over --max-field: field_too_large, _raw capped at 64 KiB' '
	jl-csv --max-field 1048575 mib.csv >out 2>err &&
	test_line_count = 2 out &&
	sed -n 1p out >first &&
	test_grep "^{\"_error\":{\"tool\":\"jl-csv\",\"code\":\"field_too_large\"" first &&
	test_grep "\"message\":\"mib.csv:2: " first &&
	test "$(raw_length first)" -eq 65536 &&
	sed -n 2p out >second &&
	echo "{\"a\":\"2\",\"b\":\"3\"}" >expect2 &&
	test_cmp expect2 second
'

test_expect_success 'a small --max-field on a 1 MiB field, unquoted' '
	{ printf "a,b\n" && cat mib && printf ",y\nok,fine\n"; } >mib2.csv &&
	jl-csv --max-field 4096 mib2.csv >out 2>err &&
	test_line_count = 2 out &&
	sed -n 1p out >first &&
	test_grep "\"code\":\"field_too_large\"" first &&
	test "$(raw_length first)" -eq 65536 &&
	sed -n 2p out >second &&
	echo "{\"a\":\"ok\",\"b\":\"fine\"}" >expect2 &&
	test_cmp expect2 second
'

test_expect_success 'the default --max-field is 16 MiB' '
	x_bytes 16777216 >m16 &&
	{ printf "a\n" && cat m16 && printf "\n\"" && cat m16 && printf "x\"\nok\n"; } >m16.csv &&
	jl-csv m16.csv >out 2>err &&
	test_line_count = 3 out &&
	{ printf "{\"a\":\"" && cat m16 && printf "\"}\n"; } >expect16 &&
	sed -n 1p out >first &&
	cmp expect16 first &&
	sed -n 2p out >second &&
	test_grep "^{\"_error\":{\"tool\":\"jl-csv\",\"code\":\"field_too_large\",\"message\":\"m16.csv:3: " second &&
	sed -n 3p out >third &&
	echo "{\"a\":\"ok\"}" >expect3 &&
	test_cmp expect3 third
'

test_expect_success '_raw of a huge bad row is capped at 64 KiB' '
	x_bytes 300000 >big &&
	{ printf "a,b\n1," && cat big && printf "\377\n2,3\n"; } >hugebad.csv &&
	jl-csv hugebad.csv >out 2>err &&
	test_line_count = 2 out &&
	sed -n 1p out >first &&
	test_grep "\"code\":\"bad_utf8\"" first &&
	test "$(raw_length first)" -eq 65536 &&
	test "$(wc -c <first)" -lt 66000
'

test_expect_success '_raw is cut at a character boundary' '
	i=0 &&
	printf "a,b\n1," >euro.csv &&
	while test $i -lt 600; do
		printf "\342\202\254%.0s" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
			21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 >>euro.csv &&
		i=$((i + 1)) || return 1
	done &&
	printf "\377\n" >>euro.csv &&
	jl-csv euro.csv >out 2>err &&
	json_lines_valid out &&
	n=$(raw_length out) &&
	test "$n" -le 65536 && test "$n" -gt 65530 &&
	test $(((n - 2) % 3)) -eq 0
'

test_done
