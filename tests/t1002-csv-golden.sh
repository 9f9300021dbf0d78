#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-csv golden cases: tests/data/csv/NNN.{csv,jsonl,args,rc}

Each case is converted twice, as a named file and through a pipe on
standard input, and the output compared with NNN.jsonl (error messages up
to their FILE:LINE: prefix). See tests/data/csv/README; a new case needs
no shell code.'
. ./lib.sh

DATA=$SRCDIR/tests/data/csv

# Error messages are compared up to their "FILE:LINE: " prefix; the cause is free text.
normalise_messages() {
	sed -E 's/("message":"[^":]*:[0-9]+: )([^"\\]|\\.)*"/\1..."/g' "$1"
}

# Every line of a stderr file begins with "jl-csv: ".
stderr_prefixed() {
	{ grep -v '^jl-csv: ' "$1" || :; } >"$1.unprefixed" &&
	test_must_be_empty "$1.unprefixed"
}

# Every error record expected in $1 has its "jl-csv: FILE:LINE: " message in $2.
stderr_names_errors() {
	sed -n -E 's/.*"message":"([^":]*:[0-9]+: )\.\.\.".*/jl-csv: \1/p' "$1" >"$2.want" &&
	while read -r want; do
		grep -F -e "$want" "$2" >/dev/null || {
			echo >&4 "no '$want' in $2:"
			cat >&4 "$2"
			return 1
		}
	done <"$2.want"
}

# run_golden NNN: convert tests/data/csv/NNN.csv as a file and from a pipe.
run_golden() {
	n=$1
	args=
	want_rc=0
	if test -f "$DATA/$n.args"; then
		args=$(cat "$DATA/$n.args") || return 1
	fi
	if test -f "$DATA/$n.rc"; then
		want_rc=$(cat "$DATA/$n.rc") || return 1
	fi
	cp "$DATA/$n.csv" "$n.csv" || return 1
	set -f
	# shellcheck disable=SC2086 # ARGS is split at white space on purpose
	test_expect_code "$want_rc" jl-csv $args "$n.csv" >"$n.out" 2>"$n.err"
	rc1=$?
	# shellcheck disable=SC2086
	dd if="$n.csv" bs=7 2>/dev/null | test_expect_code "$want_rc" jl-csv $args >"$n.pipe.out" 2>"$n.pipe.err"
	rc2=$?
	set +f
	test "$rc1" = 0 && test "$rc2" = 0 &&
	normalise_messages "$n.out" >"$n.actual" &&
	test_cmp "$DATA/$n.jsonl" "$n.actual" &&
	json_lines_valid "$n.out" &&
	stderr_prefixed "$n.err" &&
	stderr_names_errors "$DATA/$n.jsonl" "$n.err" &&
	sed "s/\"$n\\.csv/\"<stdin>/g" "$DATA/$n.jsonl" >"$n.pipe.expect" &&
	normalise_messages "$n.pipe.out" >"$n.pipe.actual" &&
	test_cmp "$n.pipe.expect" "$n.pipe.actual" &&
	stderr_prefixed "$n.pipe.err"
}

test_expect_success 'every case has its expected output, and no stray files' '
	ls "$DATA" >files &&
	grep "^[0-9][0-9][0-9]\.csv$" files >inputs &&
	test_line_count -ge 40 inputs &&
	for f in $(cat files); do
		case $f in
		README) ;;
		[0-9][0-9][0-9].csv | [0-9][0-9][0-9].jsonl | [0-9][0-9][0-9].args | [0-9][0-9][0-9].rc)
			test -f "$DATA/${f%.*}.csv" && test -f "$DATA/${f%.*}.jsonl" || return 1 ;;
		*) echo >&4 "stray file $f"; return 1 ;;
		esac
	done
'

test_expect_success 'CRLF and bare CR bytes survived the checkout' '
	test -f "$SRCDIR/tests/data/.gitattributes" &&
	grep -x "\* -text" "$SRCDIR/tests/data/.gitattributes" &&
	tr -d "\015" <"$DATA/002.csv" >stripped &&
	test "$(wc -c <"$DATA/002.csv")" -eq $(($(wc -c <stripped) + 2)) &&
	tr -d "\015" <"$DATA/003.csv" >stripped &&
	test "$(wc -c <"$DATA/003.csv")" -eq $(($(wc -c <stripped) + 3))
'

for csv in "$DATA"/[0-9][0-9][0-9].csv; do
	n=$(basename "$csv" .csv)
	title=$(sed -n "s/^$n //p" "$DATA/README")
	test_expect_success "$n: ${title:-golden case}" "run_golden $n"
done

test_done
