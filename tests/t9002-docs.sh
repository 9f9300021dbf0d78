#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause

test_description='jl-search, jl-dedup, jl-cost, jl-report: man pages match --help (t0001 lints them all), examples run against the mock'

. ./lib.sh
. "$TEST_DIRECTORY/docs-lib.sh"

for tool in jl-search jl-dedup jl-cost jl-report; do
	test_expect_success "$tool --help and the OPTIONS of $tool.1 name the same options" "
		man_matches_help $tool
	"
done

# The examples call the tools as a user would, against the real services.
# Wrappers earlier in PATH send them to the mock: jl-llm to its OpenAI route,
# jl-search to the route of the backend named by -b (Tavily when none is),
# except when it builds or reads a local index.
mkdir -p wrap &&
cat >wrap/jl-llm <<EOF &&
#!/bin/sh
exec "$BUILD/jl-llm" --base-url "\$MOCK_URL/v1" "\$@"
EOF
cat >wrap/jl-search <<EOF &&
#!/bin/sh
backend=tavily prev=
for arg; do
	case \$prev in -b|--backend) backend=\$arg ;; esac
	case \$arg in --backend=*) backend=\${arg#*=} ;; --index|--index=*) backend=fts ;; esac
	prev=\$arg
done
if [ "\$backend" = fts ]; then
	exec "$BUILD/jl-search" "\$@"
fi
exec "$BUILD/jl-search" --base-url "\$MOCK_URL/\$backend" "\$@"
EOF
chmod +x wrap/jl-llm wrap/jl-search || exit 1
mkdir -m 700 xdg || exit 1
XDG_RUNTIME_DIR=$TRASH_DIRECTORY/xdg
export XDG_RUNTIME_DIR

# The files the examples name, in directory $1.
make_example_inputs() {
	mkdir -p "$1" &&
	printf '%s\n' name,city 'Acme Compute,Berlin' 'Bolt Labs,Paris' 'Cog Systems,Oslo' \
		'Acme Compute,Berlin' >"$1/companies.csv" &&
	jl-csv "$1/companies.csv" >"$1/companies.jsonl" &&
	printf '%s\n' \
		"{\"title\":\"GPU cluster for rent\",\"url\":\"https://a.example/gpu\",\"content\":\"A GPU cluster with 512 accelerators for training.\"}" \
		"{\"title\":\"Bakery\",\"url\":\"https://b.example/bread\",\"content\":\"Fresh bread every morning.\"}" \
		"{\"title\":\"Inference cluster\",\"url\":\"https://c.example/inf\",\"content\":\"A cluster for inference, no GPU.\"}" \
		>"$1/corpus.jsonl" &&
	printf '%s\n' "{\"name\":\"Acme Compute\",\"city\":\"Berlin\",\"query\":\"Acme Compute GPU\"}" \
		"{\"name\":\"Bolt Labs\",\"city\":\"Paris\",\"query\":\"Bolt Labs GPU\"}" \
		"{\"name\":\"Acme Compute\",\"city\":\"Berlin\",\"query\":\"Acme Compute GPU\"}" \
		"{\"name\":\"Acme Compute\",\"city\":\"Munich\",\"query\":\"Acme Compute GPU\"}" >"$1/in.jsonl" &&
	for h in 1 2; do
		printf "{\"name\":\"%s\"}\n" "Host$h Co" "Both Co" |
			jl-dedup -q --db "$1/host$h.db" --key .name --record --store >/dev/null || return 1
	done &&
	printf '%s\n' \
		"{\"name\":\"Acme\",\"llm\":{\"content\":{\"tier\":\"HOT\",\"score\":91}},\"cost\":{\"usd\":0.01}}" \
		"{\"name\":\"Bolt\",\"llm\":{\"content\":{\"tier\":\"COLD\",\"score\":12}},\"cost\":{\"usd\":0.01}}" \
		"{\"name\":\"Cog\",\"llm\":{\"content\":{\"tier\":\"WATCH\",\"score\":55}},\"cost\":{\"usd\":0.01}}" \
		>"$1/results.jsonl" &&
	jl-report -f html <"$1/results.jsonl" >"$1/report.html" &&
	cp "$SRCDIR/tests/data/cost/litellm-sample.json" "$1/model_prices_and_context_window.json"
}

# Run example block $1 in a fresh directory, against the mock: standard
# output to NAME.out, standard error to NAME.err.
run_example() {
	dir=${1%.txt}
	make_example_inputs "$dir" || return 1
	if ! (
		PATH=$TRASH_DIRECTORY/wrap:$PATH
		OPENAI_API_KEY=sk-test TAVILY_API_KEY=sk-test BRAVE_API_KEY=sk-test
		export PATH MOCK_URL OPENAI_API_KEY TAVILY_API_KEY BRAVE_API_KEY
		cd "$dir" && sh -e "../$1"
	) >"$dir.out" 2>"$dir.err"; then
		echo "example $1 failed:" >&4
		cat "$1" "$dir.out" "$dir.err" >&4
		return 1
	fi
}

test_expect_success JQ 'setup: the examples of the four pages, the mock' '
	test "$(extract_examples "$SRCDIR/man/jl-search.1" search)" = 4 &&
	test "$(extract_examples "$SRCDIR/man/jl-dedup.1" dedup)" = 3 &&
	test "$(extract_examples "$SRCDIR/man/jl-cost.1" cost)" = 4 &&
	test "$(extract_examples "$SRCDIR/man/jl-report.1" report)" = 3 &&
	mock_start --key sk-test
'

test_expect_success JQ 'jl-search.1: search, then a model; an index built and searched; Brave; --extract' '
	run_example search01.txt &&
	test_line_count = 4 search01.out &&
	test "$(jq -r ".search.results | length" search01.out | sort -u)" = 3 &&
	test "$(jq -r ".llm.content | type" search01.out | sort -u)" = string &&
	run_example search02.txt &&
	test "$(jq -r ".search.results[0].url" search02.out)" = https://a.example/gpu &&
	test "$(jq -r ".search.backend" search02.out)" = fts &&
	run_example search03.txt &&
	test_line_count = 4 search03.out &&
	test "$(jq -r ".search.backend" search03.out | sort -u)" = brave &&
	test -s search03/run.db &&
	run_example search04.txt &&
	test_line_count = 4 search04.out &&
	test "$(jq -r ".search.results | length" search04.out | sort -u)" = 2 &&
	jq -e "[.search.results[] | .raw_content | strings | length] | add // 0 | . <= 4000" search04.out
'

test_expect_success JQ 'jl-dedup.1: a resumable run and its replay; a compound key; two hosts merged and reported' '
	run_example dedup01.txt &&
	test_line_count = 3 dedup01/new.jsonl &&
	test_line_count = 3 dedup01/results.jsonl &&
	run_example dedup02.txt &&
	test_line_count = 3 dedup02/unique.jsonl &&
	run_example dedup03.txt &&
	test_grep "<b>3</b><span>records</span>" dedup03/report.html &&
	test_grep "Both Co" dedup03/report.html
'

test_expect_success JQ 'jl-cost.1: a priced run under a budget; an estimate; a gate; a price file listed' '
	run_example cost01.txt &&
	test_line_count = 4 cost01/results.jsonl &&
	test "$(jq -r ".cost.priced" cost01/results.jsonl | sort -u)" = true &&
	test_grep "^jl-cost: " cost01.err &&
	run_example cost02.txt &&
	test_grep "^\[ESTIMATE\] 4 records" cost02.out &&
	run_example cost03.txt &&
	test_line_count = 4 cost03/out.jsonl &&
	test "$(jq -r "._error.code // \"ok\"" cost03/out.jsonl | sort -u)" = ok &&
	run_example cost04.txt &&
	test_grep "gpt-4o-mini" cost04.out
'

test_expect_success JQ 'jl-report.1: a page by tier; the best scores as CSV' '
	run_example report01.txt &&
	test_grep "Territory plan" report01/report.html &&
	test_grep "WATCH" report01/report.html &&
	run_example report02.txt &&
	test "$(sed -n 2p report02.out | tr -d "\r")" = "Acme,91" &&
	test_line_count = 4 report02.out
'

test_lazy_prereq CHROMIUM 'command -v chromium'
test_expect_success CHROMIUM 'jl-report.1: the screenshot example writes a PNG' '
	run_example report03.txt &&
	test "$(head -c 4 report03/report.png | od -An -c | tr -d " ")" = "211PNG"
'

test_expect_success 'stop the mock' '
	mock_stop
'

# Every code of common/record.h, the one list of _error codes, is explained in jlkit(7).
test_expect_success 'jlkit.7 explains every _error code of common/record.h' '
	sed -n "s/^#define ERR_[A-Z0-9_]* \"\([a-z_0-9]*\)\".*/\1/p" \
		"$SRCDIR/common/record.h" >codes &&
	test_line_count -gt 20 codes &&
	sed -n "/^\.Ss Error records/,/^\.Ss /p" "$SRCDIR/man/jlkit.7" >errors.7 &&
	while read -r code; do
		grep -qE "^\.It .*Li ([a-z_0-9, ]* )?$code( |,|\$)" errors.7 ||
		{ echo "$code is not in jlkit.7 Error records" >&4; return 1; }
	done <codes
'

test_done
