#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-cost: price arithmetic, price files, unknown models, ledger, budget and resume, gate overshoot, concurrent writers, estimate, replays'
. ./lib.sh

unset JL_DB
DATA=$SRCDIR/tests/data/cost

# llm ID MODEL PROVIDER PROMPT COMPLETION CACHED REASONING [EXTRA]: a record as jl-llm writes it.
llm() {
	printf '{"id":%s,"llm":{"model":"%s","provider":"%s","usage":{"prompt_tokens":%s,"completion_tokens":%s,"cached_tokens":%s,"reasoning_tokens":%s}%s}}\n' "$@"
}

# usd FILE ID: the cost of record ID, in micro-dollars.
usd() {
	jq -r "select(.id == $2) | .cost.usd * 1000000 | round" "$1"
}

# sql DB QUERY: one value.
sql() {
	python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}

test_expect_success JQ 'LLM prices against hand-computed values' '
	{
		llm 1 gpt-4o-mini openai 1000 500 200 0 ""
		llm 2 gpt-4o openai 1000000 0 0 0 ""
		llm 3 claude-3-5-haiku-latest anthropic 10000 1000 8000 0 ""
		llm 4 groq/llama-3.3-70b-versatile groq 1000 1000 0 0 "" | sed "s|groq/llama|llama|"
		llm 5 o4-mini openai 100 1000 0 600 ""
		llm 6 gpt-4o-mini openai 3 1 0 0 ""
	} >in &&
	jl-cost <in >out 2>err &&
	# 800 x 0.15/M + 200 x 0.075/M + 500 x 0.60/M
	test "$(usd out 1)" = 435 &&
	# 1M prompt tokens of gpt-4o: $2.50
	test "$(usd out 2)" = 2500000 &&
	# 2000 x 0.80/M + 8000 x 0.08/M + 1000 x 4/M
	test "$(usd out 3)" = 6240 &&
	# 1000 x 0.59/M + 1000 x 0.79/M
	test "$(usd out 4)" = 1380 &&
	# no reasoning price: reasoning pays the output price: 100 x 1.10/M + 1000 x 4.40/M
	test "$(usd out 5)" = 4510 &&
	# 3 x 0.15/M + 1 x 0.6/M = 1.05e-6: rounds to 1 micro-dollar
	test "$(usd out 6)" = 1 &&
	test "$(jq -r "select(.id == 3) | .cost | [.model, .prompt_tokens, .completion_tokens, .cached_tokens, .priced] | @csv" out)" = "\"claude-3-5-haiku-latest\",10000,1000,8000,true"
'

test_expect_success JQ 'a price file in LiteLLM format: merged over the table, its reasoning price used' '
	llm 1 o4-mini openai 100 1000 0 600 "" >in &&
	llm 2 mock-model openai 1000 1000 0 0 "" >>in &&
	# an entry with the shapes of the 2026 upstream file (tiered_pricing, objects,
	# arrays, 32768.0): its base prices; the file loads whole
	llm 3 mock-tiered dashscope 1000 1000 0 500 "" >>in &&
	jl-cost --prices "$DATA/litellm-sample.json" <in >out 2>err &&
	# 100 x 1.1/M + 400 x 4.4/M + 600 x 8.8/M
	test "$(usd out 1)" = 7150 &&
	test "$(usd out 2)" = 3000 &&
	# 1000 x 0.4/M + 500 x 1.2/M + 500 x 4/M
	test "$(usd out 3)" = 3000 &&
	test_grep -v "no price" err &&
	jl-cost --prices "$DATA/litellm-sample.json" --list-prices mock >list &&
	test_grep "mock-model" list && test_grep "litellm-sample.json" list
'

test_expect_success 'bad price files: exit 78 naming the file and the reason' '
	echo "{}" >in &&
	test_expect_code 78 jl-cost --prices "$DATA/bad-price.json" <in 2>err &&
	test_grep "bad-price.json: model .gpt-4o-mini.: input_cost_per_token is not a price" err &&
	test_expect_code 78 jl-cost --prices "$DATA/truncated.json" <in 2>err &&
	test_grep "truncated.json" err &&
	test_expect_code 78 jl-cost --prices "$DATA/not-object.json" <in 2>err &&
	test_grep "not a JSON object" err &&
	test_expect_code 78 jl-cost --prices nope.json <in 2>err &&
	test_grep "nope.json" err
'

test_expect_success JQ 'an unknown model is not guessed: priced false, one warning, counted' '
	llm 1 mystery openai 10 5 0 0 "" >in &&
	llm 2 mystery openai 10 5 0 0 "" >>in &&
	jl-cost <in >out 2>err &&
	test "$(jq -r .cost.priced out | sort -u)" = false &&
	test "$(grep -c "no price for the model .openai/mystery." err)" = 1 &&
	test_grep "2 records (30 tokens) unpriced" err
'

test_expect_success JQ 'provider-reported cost wins; cached replays and dry runs are not billed; search pricing' '
	llm 1 whatever openrouter 10 5 0 0 "" | sed "s/\"reasoning_tokens\":0/&,\"cost\":0.0123/" >in &&
	llm 2 gpt-4o openai 1000 1000 0 0 ",\"cached\":true" >>in &&
	llm 3 gpt-4o openai 1000 1000 0 0 ",\"dry_run\":true" >>in &&
	cat >>in <<-\EOF &&
	{"id":4,"search":{"backend":"tavily","depth":"advanced","requests":1}}
	{"id":5,"search":{"backend":"tavily","depth":"basic","requests":2,"extracted":7}}
	{"id":6,"search":{"backend":"brave","requests":1}}
	{"id":7,"search":{"backend":"tavily","requests":1,"credits":3}}
	{"id":8,"search":{"backend":"tavily","requests":0,"cached":true}}
	{"id":9,"search":{"backend":"fts","requests":0}}
	EOF
	jl-cost --db l.db <in >out 2>err &&
	test "$(usd out 1)" = 12300 && test "$(usd out 2)" = 0 &&
	test "$(usd out 3)" = 12500 &&
	test "$(usd out 4)" = 16000 && test "$(usd out 5)" = 24000 &&
	test "$(usd out 6)" = 5000 && test "$(usd out 7)" = 24000 &&
	test "$(usd out 8)" = 0 &&
	# the ledger: every billed record, not the replay nor the dry run
	test "$(sql l.db "select count(*) from cost_ledger")" = 5 &&
	test "$(sql l.db "select sum(micro) from cost_ledger")" = 81300
'

test_expect_success JQ 'failed records: billed for the usage they carry, their _error kept; without usage, and bad lines, untouched' '
	printf "%s\n" "{\"id\":1,\"_error\":{\"code\":\"x\"}}" "nope" \
		"{\"id\":2,\"_error\":{\"code\":\"http_500\"},\"search\":{\"backend\":\"tavily\",\"depth\":\"advanced\",\"requests\":1}}" \
		"{\"id\":3,\"_error\":{\"code\":\"http_500\"},\"search\":{\"backend\":\"tavily\",\"requests\":1},\"cost\":{\"usd\":0.008}}" >in &&
	jl-cost --db fail.db --budget 0.001 <in >out 2>err &&
	test_line_count = 4 out &&
	test "$(jq -r "select(.id == 1 or .id == null) | has(\"cost\")" out | sort -u)" = false &&
	# the search of the record whose model call failed was paid: $0.016 (2 credits)
	test "$(jq -c "select(.id == 2) | [._error.code, .cost.usd, .cost.search_usd]" out)" = "[\"http_500\",0.016,0.016]" &&
	# priced before: not billed again
	test "$(jq -c "select(.id == 3) | .cost.usd" out)" = 0.008 &&
	test "$(sql fail.db "select micro from cost_totals where run = \"\"")" = 16000
'

test_expect_success JQ 'budget: records past it leave with budget_exceeded, exit 75; a rerun with more resumes' '
	for i in 1 2 3 4 5 6 7 8 9 10; do llm $i gpt-4o openai 1000 100 0 0 "" || return 1; done >in &&
	test_expect_code 75 jl-cost --db b.db --budget 0.01 --batch 1 <in >out 2>err &&
	test_line_count = 10 out &&
	test "$(jq -r "select(._error.code == \"budget_exceeded\") | .id" out | tr "\n" " ")" = "4 5 6 7 8 9 10 " &&
	test_grep "7 records over the budget" err &&
	# the paid answers come back as cached replays: nothing billed twice
	jq -c "select(._error) | del(._error, .cost) | .llm.cached = true" out >again &&
	jl-cost --db b.db --budget 1 <again >out2 &&
	test "$(jq -r "._error.code // \"ok\"" out2 | sort -u)" = ok &&
	test "$(sql b.db "select micro from cost_totals where run = \"\"")" = 35000
'

test_expect_success JQ 'gate: stops records before the paid stage; overshoot within the documented bound' '
	seq 1 40 | sed "s/.*/{\"id\":&}/" >in &&
	# records arrive one by one, as from a slow paid stage: between the gate and
	# the tally there is at most the record in flight and the one in the pipe;
	# the paid stage (jq) answers what the gate let through, as jl-llm would.
	# The rest follow the first once it is out of the tally: every stage is up
	# (under valgrind the tally takes a while to start, and the pipes would
	# fill with records the gate let through meanwhile)
	{
		head -n 1 in
		while ! test -s out; do sleep 0.05; done
		tail -n +2 in | while read -r line; do echo "$line"; sleep 0.05; done
	} |
		jl-cost --gate --db g.db --budget 0.02 |
		jq -c --unbuffered "if ._error then . else .llm = {model: \"gpt-4o\", provider: \"openai\",
			usage: {prompt_tokens: 1000, completion_tokens: 100}} end" |
		jl-cost --db g.db --batch 1 >out 2>/dev/null &&
	spent=$(sql g.db "select micro from cost_totals where run = \"\"") &&
	passed=$(jq -r "select(._error == null) | .id" out | wc -l) &&
	# each record costs $0.0035: the budget is reached after 6; past the gate and
	# not yet tallied are at most n = 3 (one in jq, one in each pipe), so the
	# documented bound (n + 1) x c allows 4 more
	test "$spent" -ge 20000 && test "$spent" -lt $((20000 + 4 * 3500)) &&
	test "$passed" -le 10 &&
	test "$(jq -r "select(._error.code == \"budget_exceeded\") | .id" out | wc -l)" = $((40 - passed))
'

test_expect_success JQ 'records read in place: as jq reads them, the line kept as it came, .cost replaced' '
	# an escaped key is the same name; of a repeated name the last counts (as in
	# jq); jq-only syntax (01, nan) is read by jq and written back as jq writes it;
	# spaces, escapes and key order of a strict line are kept as they came
	printf "%s\n" \
		"{\"id\":1,\"ll\\u006d\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"cached_tokens\":200}}}" \
		"{\"id\":2,\"llm\":{\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":9}},\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"cached_tokens\":200}}}" \
		"{\"id\":3,\"n\":01,\"x\":nan,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"cached_tokens\":200}}}" \
		"  { \"id\" : 4 , \"t\" : \"a\\u00e9\\n\" , \"llm\" : {\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"cached_tokens\":200}} }  " \
		"{\"id\":5,\"cost\":{\"usd\":99},\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"cached_tokens\":200}},\"cost\":7}" \
		"{\"id\":6,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"cached_tokens\":200},\"usage\":{\"prompt_tokens\":1}}}" >in &&
	jl-cost <in >out 2>err &&
	test_line_count = 6 out &&
	jq -c . out >/dev/null &&
	for id in 1 2 3 4 5; do test "$(usd out $id)" = 435 || return 1; done &&
	test "$(usd out 6)" = 0 &&
	test "$(jq -c "select(.id == 3) | [.n, .x]" out)" = "[1,null]" &&
	# the line as it came, with ,"cost":{...} before its last brace
	test "$(sed -n 4p out | sed "s/,\"cost\":{.*}}\$//")" = "  { \"id\" : 4 , \"t\" : \"a\\u00e9\\n\" , \"llm\" : {\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"cached_tokens\":200}} " &&
	# a record priced before: every copy of .cost gives way to the new one
	test "$(sed -n 5p out | grep -o "\"cost\":" | wc -l)" = 1 &&
	test "$(jq -c "select(.id == 5) | keys_unsorted" out)" = "[\"id\",\"llm\",\"cost\"]"
'

test_expect_success JQ 'over the budget: a null _error gives way to budget_exceeded; the ledger row names the record' '
	llm 1 gpt-4o openai 1000 100 0 0 "" >in &&
	printf "{\"id\":2,\"_error\":null,\"llm\":{\"model\":\"gpt-4o\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}}\n" >>in &&
	test_expect_code 75 jl-cost -q --db n.db --budget 0.001 --batch 1 <in >out &&
	test "$(sed -n 2p out | grep -o "\"_error\":" | wc -l)" = 1 &&
	test "$(jq -r "select(.id == 2) | ._error.code" out)" = budget_exceeded &&
	test "$(sql n.db "select count(distinct record_hash) from cost_ledger where length(record_hash) = 16")" = 2
'

test_expect_success 'eight concurrent writers: the total equals the sum of the rows and of the records' '
	for w in 1 2 3 4 5 6 7 8; do
		for i in $(seq 1 300); do llm $i gpt-4o-mini openai $((100 + w)) 50 0 0 "" || return 1; done >w$w.jsonl
	done &&
	ls w?.jsonl | xargs -P 8 -I{} sh -c "jl-cost -q --db c.db --batch 7 <{} >{}.out" &&
	test "$(sql c.db "select count(*) from cost_ledger")" = 2400 &&
	test "$(sql c.db "select sum(micro) from cost_ledger")" = "$(sql c.db "select micro from cost_totals where run = \"\"")" &&
	sum=$(cat w?.jsonl.out | jq -s "map(.cost.usd * 1000000 | round) | add") &&
	test "$sum" = "$(sql c.db "select micro from cost_totals where run = \"\"")"
'

test_expect_success JQ 'estimate: prices a jl-llm --dry-run and prints only the estimate' '
	printf "{\"name\":\"Acme\"}\n{\"name\":\"Bolt\"}\n" >in &&
	OPENAI_API_KEY=x jl-llm --quiet --dry-run -m openai/gpt-4o-mini --max-tokens 1000 -p "Summarise {{.name}}" <in |
		jl-cost --estimate >est &&
	test_grep "^\[ESTIMATE\] 2 records, \$0.001202" est &&
	test_grep "gpt-4o-mini" est
'

test_expect_success '--run tags rows; the budget counts the run; usage errors' '
	llm 1 gpt-4o openai 1000 100 0 0 "" >in &&
	jl-cost -q --db r.db --run a <in >/dev/null &&
	jl-cost -q --db r.db --run b --budget 0.004 <in >/dev/null &&
	test "$(sql r.db "select count(distinct run) from cost_ledger")" = 2 &&
	test_expect_code 64 jl-cost --budget 1 <in 2>err &&
	test_expect_code 64 jl-cost --gate --db r.db <in 2>err &&
	test_expect_code 64 jl-cost --budget abc --db r.db <in 2>err
'

test_done
