#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='examples: companies end to end (estimate, run, resume, report), brands with 8 workers and with shards merged, and every one-liner, against the mock'
. ./lib.sh

test_lazy_prereq PARALLEL 'command -v parallel'
test_lazy_prereq MAKE 'command -v make'

mkdir -m 700 xdg || exit 1
XDG_RUNTIME_DIR=$TRASH_DIRECTORY/xdg
export XDG_RUNTIME_DIR
unset JL_DB TAVILY_API_KEY GROQ_API_KEY OPENAI_API_KEY ANTHROPIC_API_KEY MODEL
# make check runs this under make -j: the examples' make must not use its jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL

test_expect_success MAKE,JQ 'companies: estimate, run, report, offline with the mock' '
	cp -R "$SRCDIR/examples/companies" companies &&
	make -s -C companies clean &&
	mock_start --key sk-mock-demo --latency 1-5 &&
	make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" estimate >estimate 2>err &&
	test_grep "^\[ESTIMATE\] 50 records" estimate &&
	make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" run report >out 2>err &&
	test_line_count = 50 companies/results.jsonl &&
	test "$(jq -r ".name" companies/results.jsonl | sort -u | wc -l)" = 50 &&
	test "$(jq -r "._error // empty" companies/results.jsonl | wc -l)" = 0 &&
	test "$(jq -r ".llm.content.tier" companies/results.jsonl | sort -u | tr "\n" " ")" = "COLD HOT WATCH " &&
	jq -e "[.search.results | length] | min >= 1" companies/results.jsonl >/dev/null &&
	test_grep "Territory plan" companies/report.md &&
	test_grep "</html>" companies/report.html &&
	test "$(grep -c "\"route\":\"chat\"" "$MOCK_LOG")" = 50
'

test_expect_success MAKE,JQ 'companies: a rerun pays for nothing and keeps every result' '
	n=$(grep -c "\"route\":\"chat\"" "$MOCK_LOG") &&
	make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" run >out 2>err &&
	test "$(grep -c "\"route\":\"chat\"" "$MOCK_LOG")" = "$n" &&
	test_line_count = 50 companies/results.jsonl &&
	test_grep "(0 done now)" out
'

test_expect_success MAKE,JQ 'companies: a run killed midway is completed by rerunning it, nothing paid twice' '
	make -s -C companies DB=kill9000.db clean &&
	mock_start --key sk-mock-demo --latency 40-60 &&
	( make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" DB=kill9000.db run >/dev/null 2>&1 & ) &&
	sleep 1 &&
	pkill -9 -f "kill9000.db" ;
	sleep 0.2 &&
	make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" DB=kill9000.db run >out 2>err &&
	test_line_count = 50 companies/results.jsonl &&
	test "$(jq -r ".name" companies/results.jsonl | sort -u | wc -l)" = 50 &&
	paid=$(grep "\"route\":\"chat\"" "$MOCK_LOG" | grep -c "\"status\":200") &&
	# at most the requests in flight at the kill (-j 8) were paid twice
	test "$paid" -le $((50 + 8))
'

test_expect_success MAKE,JQ 'companies: BATCH=1 estimates at half the price, runs through one batch, and a rerun pays nothing' '
	make -s -C companies DB=batch9000.db clean &&
	mock_start --key sk-mock-demo --batch-time 1 &&
	make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" DB=batch9000.db estimate >sync-estimate 2>err &&
	make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" DB=batch9000.db BATCH=1 estimate >batch-estimate 2>err &&
	sync_usd=$(sed -n "s/^\[ESTIMATE\] 50 records, \$\([0-9.]*\).*/\1/p" sync-estimate) &&
	batch_usd=$(sed -n "s/^\[ESTIMATE\] 50 records, \$\([0-9.]*\).*/\1/p" batch-estimate) &&
	awk -v s="$sync_usd" -v b="$batch_usd" "BEGIN { exit !(s > 0 && b * 2 == s) }" &&
	make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" DB=batch9000.db BATCH=1 run >out 2>err &&
	test_line_count = 50 companies/results.jsonl &&
	test "$(jq -r ".name" companies/results.jsonl | sort -u | wc -l)" = 50 &&
	test "$(jq -r ".llm.batch" companies/results.jsonl | sort -u)" = true &&
	test "$(grep -c "\"route\":\"batches\"" "$MOCK_LOG")" = 1 &&
	! grep -q "\"route\":\"chat\"" "$MOCK_LOG" &&
	make -s -C companies JL="$BUILD" MOCK_URL="$MOCK_URL" DB=batch9000.db BATCH=1 run >out 2>err &&
	test "$(grep -c "\"route\":\"batches\"" "$MOCK_LOG")" = 1 &&
	test_grep "(0 done now)" out
'

test_expect_success MAKE,JQ 'brands: 8 workers share one database, one rate limit and one budget' '
	cp -R "$SRCDIR/examples/brands" brands &&
	make -s -C brands clean &&
	mock_start --key sk-mock-demo --key tvly-mock-demo --rpm 600 &&
	make -s -C brands JL="$BUILD" MOCK_URL="$MOCK_URL" WORKERS=8 run >out 2>err &&
	test_line_count = 40 brands/results.jsonl &&
	test "$(jq -r ".brand" brands/results.jsonl | sort -u | wc -l)" = 40 &&
	! grep -q "\"status\":429" "$MOCK_LOG" &&
	test "$(grep -c "\"route\":\"chat\"" "$MOCK_LOG")" = 40
'

test_expect_success MAKE,JQ 'brands: the shared budget stops all 8 workers before they pay for the rest' '
	make -s -C brands clean &&
	mock_start --key sk-mock-demo --key tvly-mock-demo --rpm 600 &&
	# searches paced below the model (200 vs 600 a minute), so that the
	# ledger is not left behind by a search stage running ahead of the rest
	make -s -C brands JL="$BUILD" MOCK_URL="$MOCK_URL" WORKERS=8 BUDGET=0.05 SEARCH_RPM=200 run >out 2>err &&
	# every brand is accounted for: done, or held back by the budget
	test "$(jl-dedup --db brands/run.db --stats | jq .total)" = 40 &&
	cat brands/shards/*.out >all &&
	test_line_count = 40 all &&
	test "$(jq -r "._error.code // \"ok\"" all | sort -u | tr "\n" " ")" = "budget_exceeded ok " &&
	# a search costs $0.008: seven reach $0.05; past that, at most what each
	# worker had in flight or between its search and its tally (2 each)
	paid=$(grep "\"route\":\"tavily\"" "$MOCK_LOG" | grep -c "\"status\":200") &&
	test "$paid" -ge 7 && test "$paid" -le $((7 + 8 * 2)) &&
	# the ledger holds what was paid, and a rerun with more budget resumes
	test "$(python3 -c "import sqlite3; print(sqlite3.connect(\"brands/run.db\").execute(\"select pico from cost_totals where run = ?\", (\"brands\",)).fetchone()[0])")" = $((paid * 8000000000)) &&
	make -s -C brands JL="$BUILD" MOCK_URL="$MOCK_URL" WORKERS=8 BUDGET=5 run >out 2>err &&
	test_line_count = 40 brands/results.jsonl &&
	test "$(grep "\"route\":\"tavily\"" "$MOCK_LOG" | grep -c "\"status\":200")" = 40
'

test_expect_success MAKE,JQ,PARALLEL 'brands: GNU parallel --pipe, then two shards merged' '
	make -s -C brands clean &&
	make -s -C brands JL="$BUILD" MOCK_URL="$MOCK_URL" run-parallel >out 2>err &&
	test_line_count = 40 brands/results.jsonl &&
	make -s -C brands JL="$BUILD" MOCK_URL="$MOCK_URL" shards >out 2>err &&
	test_line_count = 40 brands/results.jsonl &&
	test "$(jq -r ".brand" brands/results.jsonl | sort -u | wc -l)" = 40
'

# The one-liners call the tools as a user would; wrappers earlier in PATH
# send jl-llm and jl-search to the mock.
mkdir -p wrap &&
cat >wrap/jl-llm <<EOF &&
#!/bin/sh
exec "$BUILD/jl-llm" --base-url "\$MOCK_URL/v1" "\$@"
EOF
cat >wrap/jl-search <<EOF &&
#!/bin/sh
exec "$BUILD/jl-search" --base-url "\$MOCK_URL/tavily" "\$@"
EOF
chmod +x wrap/jl-llm wrap/jl-search || exit 1

test_expect_success JQ 'every one-liner of examples/one-liners.md runs' '
	awk "/^\`\`\`sh/ { n++; f = sprintf(\"ol%02d.sh\", n); blk = 1; next }
		/^\`\`\`/ { blk = 0; next }
		blk { print > f }
		END { print n }" "$SRCDIR/examples/one-liners.md" >count &&
	test "$(cat count)" -ge 5 &&
	mock_start --key sk-test &&
	mkdir ol && cp "$SRCDIR/examples/companies/companies.csv" ol/ &&
	for f in ol??.sh; do
		(
			cd ol &&
			PATH=$TRASH_DIRECTORY/wrap:$PATH OPENAI_API_KEY=sk-test TAVILY_API_KEY=sk-test \
				MOCK_URL=$MOCK_URL sh -e "../$f" >"../$f.out" 2>"../$f.err"
		) || { cat "$f.err" >&4; return 1; }
	done &&
	test -s ol01.sh.out &&
	test_grep "ESTIMATE" ol02.sh.out &&
	test_line_count = 50 ol/results.jsonl &&
	test_grep "records: 50" ol04.sh.out &&
	# 19 rows and 20 rows, one name in both
	test_grep "\"total\":38" ol05.sh.out
'

test_done
