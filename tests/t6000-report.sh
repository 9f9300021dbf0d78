#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-report: formats, hostile strings escaped, groups, sort and limit, errors and empty input, percentiles, the page in a browser'
. ./lib.sh

test_lazy_prereq CHROMIUM 'command -v chromium'

# results: six records as a run leaves them, one failed, one bad line.
results() {
	cat <<-\EOF
	{"name":"Acme","llm":{"content":{"tier":"HOT","score":90},"model":"m1","usage":{"prompt_tokens":100,"completion_tokens":10},"latency_ms":100,"cached":false},"cost":{"usd":0.5},"search":{"results":[1,2,3]}}
	{"name":"Bolt","llm":{"content":{"tier":"COLD","score":10},"model":"m1","usage":{"prompt_tokens":100,"completion_tokens":10},"latency_ms":200,"cached":true},"cost":{"usd":0},"search":{"results":[1]}}
	{"name":"Cog","llm":{"content":{"tier":"HOT","score":70},"model":"m2","usage":{"prompt_tokens":50,"completion_tokens":5},"latency_ms":300,"cached":false},"cost":{"usd":0.25},"search":{"results":[]}}
	{"name":"Dyn","_error":{"code":"http_500","message":"boom"}}
	{"name":"Eon","llm":{"content":{"tier":"WATCH","score":50},"model":"m2","usage":{"prompt_tokens":50,"completion_tokens":5},"latency_ms":400,"cached":false},"cost":{"usd":0.25},"search":{"results":[1,2]}}
	not json
	EOF
}

test_expect_success JQ 'json: the summary and the groups' '
	results >in &&
	jl-report -f json -g .llm.content.tier <in >out &&
	test "$(jq -c ".summary | [.records, .ok, .failed, .cached, .tokens_in, .tokens_out, .usd]" out)" = "[6,4,2,1,300,30,1]" &&
	test "$(jq -c ".summary.errors" out)" = "{\"http_500\":1,\"bad_input\":1}" &&
	test "$(jq -c ".summary.models.m2" out)" = "{\"records\":2,\"usd\":0.5}" &&
	test "$(jq -c "[.groups[] | [.group, .records, .usd, .means.score]]" out)" = "[[\"HOT\",2,0.75,80],[\"COLD\",1,0,10],[\"(none)\",2,0,null],[\"WATCH\",1,0.25,50]]" &&
	# latencies of the answers not replayed: 100, 300, 400 (1% buckets)
	jq -e ".summary.latency_ms | (.p50 > 297 and .p50 < 303) and (.p95 > 396 and .p95 < 404) and .max == 400" out &&
	test "$(jq ".summary.search_results_per_record" out)" = 1.5
'

test_expect_success JQ 'md: summary, group table, results table' '
	results >in &&
	jl-report -g .llm.content.tier --title "Run 7" <in >out &&
	test_grep "^# Run 7" out &&
	test_grep "^- records: 6 (4 ok, 2 failed)" out &&
	test_grep "^  - http\\\\_500: 1" out &&
	test_grep "^- cost: \$1.000000" out &&
	test_grep "^| HOT | 2 | 33.3% | \$0.750000 | 80 |" out &&
	test_grep "^| name | tier | score | cost | error |" out &&
	test_grep "^| Dyn |  |  |  | http\\\\_500 |" out
'

test_expect_success 'csv: RFC 4180, one header, the formula guard' '
	printf "%s\n" "{\"a\":\"=1+1\",\"b\":\"x,y\"}" "{\"a\":\"say \\\"hi\\\"\",\"b\":-5}" "{\"a\":\"@SUM(A1)\",\"b\":\"+3\"}" "{\"a\":\"line\\nbreak\",\"b\":{\"n\":[1]}}" >in &&
	jl-report -f csv -c a,b <in >out &&
	printf "a,b\r\n\"'"'"'=1+1\",\"x,y\"\r\n\"say \"\"hi\"\"\",-5\r\n\"'"'"'@SUM(A1)\",\"'"'"'+3\"\r\n\"line\nbreak\",\"{\"\"n\"\":[1]}\"\r\n" >expect &&
	test_cmp expect out &&
	python3 -c "import csv; rows = list(csv.reader(open(\"out\", newline=\"\"))); assert len(rows) == 5 and rows[4][0] == \"line\nbreak\", rows"
'

test_expect_success JQ 'sort, reverse and limit keep the best rows; the summary counts all' '
	awk "BEGIN { for (i = 1; i <= 5000; i++) printf \"{\\\"id\\\":%d,\\\"v\\\":%d}\\n\", i, (i * 7919) % 5003 }" >in &&
	jl-report -f csv -c id,v -s .v -r --limit 3 <in >out &&
	test "$(sed -n 2,4p out | tr -d "\r" | cut -d, -f2 | tr "\n" " ")" = "5002 5001 5000 " &&
	jl-report -f md -c id -s .v --limit 2 <in >md &&
	test_grep "^- records: 5000" md && test_grep "2 of 5000 records shown" md &&
	jl-report -f md --limit 0 <in >none && test_grep -v "## Results" none
'

test_expect_success 'hostile strings are inert: HTML, Markdown, scripts' '
	printf "%s\n" "{\"name\":\"<script>alert(1)</script>\",\"note\":\"a | b\\n# title\",\"x\":\"\\\"><img src=x onerror=alert(2)>\"}" >in &&
	jl-report -f html <in >page.html &&
	test_grep -v "<script>alert" page.html &&
	test_grep -v "<img src" page.html &&
	test_grep "&lt;script&gt;alert(1)&lt;/script&gt;" page.html &&
	test "$(grep -c "<script>" page.html)" = 1 &&
	jl-report -f md <in >page.md &&
	test_grep "a \\\\| b<br>\\\\# title" page.md &&
	test_grep -v "<script>" page.md
'

test_expect_success 'html: self-contained, no external resource' '
	results >in &&
	jl-report -f html -g .llm.content.tier <in >page.html &&
	test_grep "Content-Security-Policy" page.html &&
	test_grep "<svg" page.html &&
	test_grep -v "src=\"http" page.html &&
	test_grep -v "href=\"http" page.html &&
	test_grep "class=\"error\"" page.html
'

test_expect_success 'empty input and only bad lines' '
	: >empty &&
	jl-report <empty >out && test_grep "records: 0" out &&
	jl-report -f html <empty >out.html && test_grep "</html>" out.html &&
	jl-report -f csv -c a <empty >out.csv && test "$(cat out.csv)" = "$(printf "a\r")" &&
	printf "x\ny\n" | jl-report -f json >out.json &&
	test_grep "\"failed\":2" out.json &&
	test_expect_code 66 jl-report nope.jsonl 2>err &&
	test_expect_code 64 jl-report -f pdf <empty 2>err
'

test_expect_success UNSANITIZED,NO_VALGRIND 'a million records in bounded memory' '
	awk "BEGIN { for (i = 1; i <= 1000000; i++) printf \"{\\\"id\\\":%d,\\\"g\\\":\\\"g%d\\\",\\\"llm\\\":{\\\"latency_ms\\\":%d}}\\n\", i, i % 10, i % 997 }" |
		/usr/bin/time -f "%M" -o rss jl-report -f md -g .g >out 2>/dev/null &&
	test_grep "records: 1000000" out &&
	test "$(cat rss)" -lt 100000
'

test_expect_success CHROMIUM 'the page in a browser: every row, no script error' '
	results >in &&
	jl-report -f html -g .llm.content.tier <in >page.html &&
	timeout 60 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
		--dump-dom "file://$PWD/page.html" >dom 2>console &&
	test_grep "data-ready=\"6\"" dom &&
	! grep -i "Uncaught" console
'

test_done
