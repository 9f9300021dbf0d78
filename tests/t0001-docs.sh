#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause

test_description='man pages: options match --help, mandoc lint, examples run, install'

. ./lib.sh
. "$TEST_DIRECTORY/docs-lib.sh"

MAN1=$SRCDIR/man/jl-csv.1

# The input files that the examples in jl-csv.1 name.
make_example_inputs() {
	mkdir -p "$1" &&
	printf 'name,city,employees\nAnthropic,San Francisco,1000\nMistral,Paris,300\nAleph Alpha,Heidelberg,60\n' \
		>"$1/companies.csv" &&
	printf 'item\tprice\tcurrency\nGPU hour\t2.10\tUSD\nGPU hour\t1.95\tEUR\n' >"$1/prices.tsv" &&
	printf 'name,city\nJos\351,Z\374rich\nFran\347ois,Besan\347on\n' >"$1/legacy.csv" &&
	printf 'Anthropic,San Francisco,1000\nMistral,Paris,300\n' >"$1/headerless.csv" &&
	printf 'id,name\n1,ok\n2,caf\351\n3,two,extra\n4,"open\n' >"$1/export.csv"
}

# What the latin1 example must write: the same names in UTF-8.
expect_legacy() {
	printf '{"name":"Jos\303\251","city":"Z\303\274rich"}\n{"name":"Fran\303\247ois","city":"Besan\303\247on"}\n'
}

# Run example block $1 in a fresh directory: a make rule goes to a Makefile
# and is made, anything else is a shell script. Standard output goes to
# exNN.out, standard error to exNN.err.
run_example() {
	dir=${1%.txt} &&
	make_example_inputs "$dir" &&
	if head -n 1 "$1" | grep -qE '^[A-Za-z0-9_.-]+:( |$)'; then
		cp "$1" "$dir/Makefile" &&
		(cd "$dir" && make) >"$dir.out" 2>"$dir.err"
	else
		(cd "$dir" && sh -e "../$1") >"$dir.out" 2>"$dir.err"
	fi
}

test_expect_success '--help goes to standard output and exits 0' '
	jl-csv --help >help 2>err &&
	test_must_be_empty err &&
	test_grep "^usage: jl-csv " help &&
	test_grep "^  -h, --help" help
'

test_expect_success '--version names libcsv' '
	jl-csv --version >version 2>err &&
	test_must_be_empty err &&
	test_grep "^jl-csv (jlkit) [0-9]" version &&
	test_grep "libcsv [0-9]" version
'

test_expect_success 'the OPTIONS of jl-csv.1 name the options of --help, and back' '
	man_matches_help jl-csv &&
	test_line_count -gt 10 jl-csv.help-long &&
	test_line_count -ge 3 jl-csv.help-short
'

test_expect_success MANDOC 'mandoc -Tlint -Wwarning is clean' '
	mandoc -Tlint -Wwarning "$SRCDIR"/man/*.1 "$SRCDIR"/man/*.7 >lint 2>&1 &&
	test_must_be_empty lint
'

test_expect_success JQ 'every example in jl-csv.1 runs' '
	n=$(extract_examples "$MAN1") &&
	test "$n" -ge 6 &&
	for ex in ex*.txt; do
		run_example "$ex" ||
		{ echo "example $ex failed:" >&4; cat "$ex" "${ex%.txt}.out" "${ex%.txt}.err" >&4; return 1; }
	done
'

test_expect_success JQ 'the examples do what they say' '
	test_line_count = 3 ex01/companies.jsonl &&
	test_grep "\"currency\":\"EUR\"" ex02.out &&
	test_grep -v "USD" ex02.out &&
	expect_legacy >expect-legacy &&
	test_cmp expect-legacy ex03/legacy.jsonl &&
	echo 1360 >expect-sum &&
	test_cmp expect-sum ex04.out &&
	test_grep "\"name\":\"Anthropic\",\"city\":\"San Francisco\"" ex05.out &&
	test_grep "1 bad_utf8" ex06.out &&
	test_grep "1 unterminated_quote" ex06.out &&
	test -s ex08/companies.jsonl
'

# The make here is one of its own: under `make -j2 check` it would inherit
# the jobserver of the make running the tests, whose pipe it cannot read.
test_expect_success 'make install and make uninstall with DESTDIR and PREFIX' '
	dest=$PWD/dest &&
	env -u MAKEFLAGS -u MFLAGS make -C "$SRCDIR" BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr install >install.out 2>&1 &&
	test -x dest/usr/bin/jl-csv &&
	test -f dest/usr/share/man/man1/jl-csv.1 &&
	test -f dest/usr/share/man/man7/jlkit.7 &&
	dest/usr/bin/jl-csv --version >version2 &&
	test_cmp version version2 &&
	env -u MAKEFLAGS -u MFLAGS make -C "$SRCDIR" BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr uninstall >uninstall.out 2>&1 &&
	find dest -type f >left &&
	test_must_be_empty left
'

# The design documents live in doc/ (doc/design.md and its companions), and
# comments, tests and examples point there. These tests keep every such
# pointer on a file of the repository, as the files are in the work tree.
test_lazy_prereq GIT 'git -C "$SRCDIR" rev-parse --git-dir'

# tracked_grep ERE: the lines of the tracked files that match, as
# FILE:LINE:TEXT in grep.out (binary files skipped).
tracked_grep() {
	git -C "$SRCDIR" grep -n -I -E "$1" >grep.out
	test $? -le 1
}

test_expect_success GIT 'references to design documents stay inside the repository' '
	tracked_grep "DESIGN\.md|\.\./shared|shared/referenc[e]|/work/share[d]" &&
	test_must_be_empty grep.out
'

test_expect_success GIT 'the design documents are named only as files of doc/' '
	tracked_grep "(design|protocols|reliability|style)\.md" &&
	sed -E -e "/^doc\/[^:]*\.md:/s@\]\((design|protocols|reliability|style)\.md@](@g" \
		-e "s@doc/(design|protocols|reliability|style)\.md@@g" grep.out >rest &&
	{ grep -E "(design|protocols|reliability|style)\.md" rest >stray || test $? = 1; } &&
	test_must_be_empty stray
'

test_expect_success GIT 'every doc/ file named anywhere exists, and every section named in it' '
	git -C "$SRCDIR" grep -h -o -I -E "(^|[^A-Za-z0-9_./-])doc/[A-Za-z0-9_.-]+\.md( §[0-9]+(\.[0-9]+)?)?" |
		sed -E "s@^.?(doc/)@\1@" | sort -u >named &&
	grep -q "^doc/design\.md" named &&
	while read -r file section; do
		test -f "$SRCDIR/$file" || { echo "$file does not exist" >&4; return 1; }
		case $section in
		"") ;;
		*.*) grep -q "^### ${section#§} " "$SRCDIR/$file" ;;
		*) grep -q "^## ${section#§}\. " "$SRCDIR/$file" ;;
		esac || { echo "$file has no section $section" >&4; return 1; }
	done <named
'

test_expect_success GIT 'the links of doc/ lead to files that exist' '
	git -C "$SRCDIR" ls-files "doc/*.md" >docs &&
	test_line_count -ge 4 docs &&
	while read -r doc; do
		grep -oE "\]\([^)#]+" "$SRCDIR/$doc" | sed "s/^](//" >targets &&
		while read -r target; do
			case $target in http:* | https:*) continue ;; esac
			test -e "$SRCDIR/doc/$target" ||
			{ echo "$doc: link to $target, which does not exist" >&4; return 1; }
		done <targets || return 1
	done <docs
'

test_done
