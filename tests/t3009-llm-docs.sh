#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause

test_description='jl-llm.1: options match --help, mandoc lint, examples run against the mock'

. ./lib.sh
. "$TEST_DIRECTORY/docs-lib.sh"

MAN1=$SRCDIR/man/jl-llm.1

# The input files that the examples name.
make_example_inputs() {
	mkdir -p "$1" &&
	printf '%s\n' name,city,employees 'Anthropic,San Francisco,1000' \
		'Mistral AI,Paris,300' 'Aleph Alpha,Heidelberg,60' 'Cohere,Toronto,400' \
		>"$1/companies.csv" &&
	jl-csv "$1/companies.csv" >"$1/companies.jsonl"
}

# The examples call jl-llm as a user would, against the real providers. Here
# a jl-llm earlier in PATH sends them to the mock instead: it adds
# --base-url "$BASE_URL" (which replaces every provider's base URL) and runs
# the real one. Fake keys for every provider the examples name; the shared
# limiter's state in the scratch directory.
mkdir -p wrap &&
cat >wrap/jl-llm <<EOF &&
#!/bin/sh
exec "$BUILD/jl-llm" --base-url "\$BASE_URL" "\$@"
EOF
chmod +x wrap/jl-llm || exit 1
mkdir -m 700 xdg || exit 1
XDG_RUNTIME_DIR=$TRASH_DIRECTORY/xdg
export XDG_RUNTIME_DIR

# Run example block $1 in a fresh directory, against a mock of its own
# (whose log is kept as exNN.mock): standard output to exNN.out, standard
# error to exNN.err.
run_example() {
	dir=${1%.txt} &&
	make_example_inputs "$dir" &&
	mock_start --key sk-test &&
	(
		BASE_URL=$MOCK_URL/v1
		OPENAI_API_KEY=sk-test
		GROQ_API_KEY=sk-test
		ANTHROPIC_API_KEY=sk-test
		PATH=$TRASH_DIRECTORY/wrap:$PATH
		export BASE_URL OPENAI_API_KEY GROQ_API_KEY ANTHROPIC_API_KEY PATH
		cd "$dir" && sh -e "../$1"
	) >"$dir.out" 2>"$dir.err"
	rc=$?
	mock_stop
	cp "$MOCK_LOG" "$dir.mock" 2>/dev/null || : >"$dir.mock"
	return $rc
}

# min_gap LOG: the shortest time, in ms, between two chat requests in a mock log.
min_gap() {
	grep '"route":"chat"' "$1" | sed 's/.*"t":\([0-9.]*\).*/\1/' | sort -n |
		awk 'NR > 1 { d = $1 - p; if (min == "" || d < min) min = d } { p = $1 }
			END { print int(min) }'
}

test_expect_success '--help goes to standard output and exits 0' '
	jl-llm --help >help 2>err &&
	test_must_be_empty err &&
	test_grep "^usage: jl-llm " help &&
	test_grep "^  -h, --help" help
'

test_expect_success '--version names libcurl, SQLite and libjq' '
	jl-llm --version >version 2>err &&
	test_must_be_empty err &&
	test_grep "^jl-llm (jlkit) [0-9]" version &&
	test_grep "libcurl [0-9]" version &&
	test_grep "sqlite [0-9]" version &&
	test_grep "libjq [0-9]" version
'

test_expect_success 'the OPTIONS of jl-llm.1 name the options of --help, and back' '
	man_matches_help jl-llm &&
	test_line_count -gt 30 jl-llm.help-long &&
	test_line_count -ge 8 jl-llm.help-short
'

test_expect_success MANDOC 'mandoc -Tlint -Wwarning is clean' '
	mandoc -Tlint -Wwarning "$MAN1" >lint 2>&1 &&
	test_must_be_empty lint
'

test_expect_success JQ 'every example in jl-llm.1 runs against the mock' '
	n=$(extract_examples "$MAN1") &&
	test "$n" -ge 8 &&
	for ex in ex*.txt; do
		run_example "$ex" ||
		{ echo "example $ex failed:" >&4; cat "$ex" "${ex%.txt}.out" "${ex%.txt}.err" >&4; return 1; }
	done
'

test_expect_success JQ 'one record: an answer from openai/gpt-4o-mini' '
	test_line_count = 1 ex01.out &&
	jq -e ".name == \"Mistral AI\" and (.llm.content | type == \"string\") and
		.llm.provider == \"openai\" and .llm.model == \"gpt-4o-mini\"" ex01.out >/dev/null
'

test_expect_success JQ 'the jl-csv pipeline keeps the input order' '
	cut -f 1 ex02.out >names &&
	printf "%s\n" Anthropic "Mistral AI" "Aleph Alpha" Cohere >expect-names &&
	test_cmp expect-names names &&
	test_grep "\"model\":\"llama-3.1-8b-instant\"" ex02.mock
'

test_expect_success JQ '--json with a prompt file gives parsed answers' '
	test_line_count = 4 ex03.out &&
	jq -ce "select((.tier | test(\"^(HOT|WATCH|COLD)$\")) and (.score | type == \"number\"))" \
		ex03.out >json-ok &&
	test_line_count = 4 json-ok
'

test_expect_success JQ 'the second run with --db answers every record from the database' '
	echo "4 true" >expect-cached &&
	sed "s/^ *//" ex04.out >cached &&
	test_cmp expect-cached cached &&
	test "$(grep -c "\"route\":\"chat\"" ex04.mock)" = 4
'

test_expect_success JQ 'the driver loop finishes, paced by --rpm 60' '
	test_line_count = 4 ex05/out.jsonl &&
	test_grep -v _error ex05/out.jsonl &&
	test "$(min_gap ex05.mock)" -ge 990
'

test_expect_success JQ '--dry-run shows the request and sends nothing' '
	test_grep "\"model\": \"claude-3-5-haiku-latest\"" ex06.out &&
	test_grep "\"max_tokens\": 1024" ex06.out &&
	test "$(tail -n 1 ex06.out)" -gt 800 &&
	test_must_be_empty ex06.mock
'

test_expect_success JQ 'four processes under xargs share --rpm 120' '
	test_line_count = 4 ex07/out.jsonl &&
	test_grep -v _error ex07/out.jsonl &&
	test "$(grep -c "\"route\":\"models\"" ex07.mock)" -ge 4 &&
	test "$(min_gap ex07.mock)" -ge 490
'

test_expect_success JQ 'the log has one line per attempt' '
	test_line_count = 4 ex08/out.jsonl &&
	test_line_count = 4 ex08/calls.log &&
	test "$(grep -c ",\"openai\",200,null\]" ex08.out)" = 4
'

test_done
