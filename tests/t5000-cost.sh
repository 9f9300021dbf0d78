#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-cost: price arithmetic, exact money, cost_overflow, counts that are not counts, price files and tiers, unknown models, ledger and its migration, budget and resume, gate overshoot, concurrent writers, estimate, replays'
. ./lib.sh

unset JL_DB
DATA=$SRCDIR/tests/data/cost

# llm ID MODEL PROVIDER PROMPT COMPLETION CACHED REASONING [EXTRA]: a record as jl-llm writes it.
llm() {
	printf '{"id":%s,"llm":{"model":"%s","provider":"%s","usage":{"prompt_tokens":%s,"completion_tokens":%s,"cached_tokens":%s,"reasoning_tokens":%s}%s}}\n' "$@"
}

# usd FILE ID: the cost of record ID in pico-dollars, read exactly from the
# text of .cost.usd (fails when it is not a whole number of pico-dollars).
usd() {
	python3 -c 'import decimal, json, sys
for line in open(sys.argv[1]):
	r = json.loads(line, parse_float=decimal.Decimal)
	if r.get("id") == int(sys.argv[2]):
		pico = decimal.Decimal(r["cost"]["usd"]) * 10**12
		assert pico == pico.to_integral_value(), pico
		print(int(pico))' "$1" "$2"
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
	test "$(usd out 1)" = 435000000 &&
	# 1M prompt tokens of gpt-4o: $2.50
	test "$(usd out 2)" = 2500000000000 &&
	# 2000 x 0.80/M + 8000 x 0.08/M + 1000 x 4/M
	test "$(usd out 3)" = 6240000000 &&
	# 1000 x 0.59/M + 1000 x 0.79/M
	test "$(usd out 4)" = 1380000000 &&
	# no reasoning price: reasoning pays the output price: 100 x 1.10/M + 1000 x 4.40/M
	test "$(usd out 5)" = 4510000000 &&
	# 3 x 0.15/M + 1 x 0.6/M = 1.05e-6, not rounded to the micro-dollar
	test "$(usd out 6)" = 1050000 &&
	test_grep "\"id\":6,.*\"cost\":{\"usd\":0.00000105," out &&
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
	test "$(usd out 1)" = 7150000000 &&
	test "$(usd out 2)" = 3000000000 &&
	# 1000 x 0.4/M + 500 x 1.2/M + 500 x 4/M
	test "$(usd out 3)" = 3000000000 &&
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
	test "$(usd out 1)" = 12300000000 && test "$(usd out 2)" = 0 &&
	test "$(usd out 3)" = 12500000000 &&
	test "$(usd out 4)" = 16000000000 && test "$(usd out 5)" = 24000000000 &&
	test "$(usd out 6)" = 5000000000 && test "$(usd out 7)" = 24000000000 &&
	test "$(usd out 8)" = 0 &&
	# the ledger: every billed record, not the replay nor the dry run
	test "$(sql l.db "select count(*) from cost_ledger")" = 5 &&
	test "$(sql l.db "select sum(pico) from cost_ledger")" = 81300000000
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
	test "$(sql fail.db "select pico from cost_totals where run = \"\"")" = 16000000000
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
	test "$(sql b.db "select pico from cost_totals where run = \"\"")" = 35000000000
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
	spent=$(sql g.db "select pico from cost_totals where run = \"\"") &&
	passed=$(jq -r "select(._error == null) | .id" out | wc -l) &&
	# each record costs $0.0035: the budget is reached after 6; past the gate and
	# not yet tallied are at most n = 3 (one in jq, one in each pipe), so the
	# documented bound (n + 1) x c allows 4 more
	test "$spent" -ge 20000000000 && test "$spent" -lt $((20000000000 + 4 * 3500000000)) &&
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
	for id in 1 2 3 4 5; do test "$(usd out $id)" = 435000000 || return 1; done &&
	# the last usage counts: one prompt token, $0.00000015 (not rounded away)
	test "$(usd out 6)" = 150000 &&
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
	test "$(sql c.db "select sum(pico) from cost_ledger")" = "$(sql c.db "select pico from cost_totals where run = \"\"")" &&
	sum=$(cat w?.jsonl.out | python3 -c "import decimal, json, sys; print(int(sum(json.loads(l, parse_float=decimal.Decimal)[\"cost\"][\"usd\"] for l in sys.stdin) * 10**12))") &&
	test "$sum" = "$(sql c.db "select pico from cost_totals where run = \"\"")"
'

test_expect_success JQ 'estimate: prices a jl-llm --dry-run and prints only the estimate' '
	printf "{\"name\":\"Acme\"}\n{\"name\":\"Bolt\"}\n" >in &&
	OPENAI_API_KEY=x jl-llm --quiet --dry-run -m openai/gpt-4o-mini --max-tokens 1000 -p "Summarise {{.name}}" <in |
		jl-cost --estimate >est &&
	# 2 x (8 x 0.15/M + 1000 x 0.60/M), to the pico-dollar
	test_grep "^\[ESTIMATE\] 2 records, \$0.0012012 " est &&
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

test_expect_success 'money is exact: 200,000 records of one prompt token ($0.00000015) make $0.03 in the output, the ledger and the summary' '
	cat >gen.awk <<-\EOF &&
	BEGIN { for (i = 1; i <= 200000; i++) printf "{\"id\":%d,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":0}}}\n", i }
	EOF
	awk -f gen.awk >in &&
	jl-cost --db m.db <in >out 2>err &&
	test_line_count = 200000 out &&
	test "$(grep -c "\"cost\":{\"usd\":0.00000015,\"llm_usd\":0.00000015," out)" = 200000 &&
	test_grep "^jl-cost: 200000 records, \$0.030000 (LLM \$0.030000, search \$0.000000)\$" err &&
	test "$(sql m.db "select count(*) from cost_ledger")" = 200000 &&
	test "$(sql m.db "select sum(pico) from cost_ledger")" = 30000000000 &&
	test "$(sql m.db "select pico from cost_totals where run = \"\"")" = 30000000000 &&
	test "$(python3 -c "import decimal, json, sys; print(sum(json.loads(l, parse_float=decimal.Decimal)[\"cost\"][\"usd\"] for l in sys.stdin) == decimal.Decimal(\"0.03\"))" <out)" = True
'

test_expect_success JQ 'a cost too large to compute: _error cost_overflow, no .cost, nothing billed; what fits is exact' '
	cat >o1.json <<-\EOF &&
	{"o1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1.5e-05, "output_cost_per_token": 6e-05}}
	EOF
	# 62e12 x 0.15/M = $9.3M: past $9223372.036854775807, the most a record may cost
	llm 1 gpt-4o-mini openai 62000000000000 0 0 0 "" >in &&
	llm 2 gpt-4o-mini openai 61000000000000 0 0 0 "" >>in &&
	# 2e11 x 60/M = $12M
	llm 3 o1 openai 0 200000000000 0 0 "" >>in &&
	# 2^53 tokens: past what a count is read exactly (as jq reads it), even at $0
	llm 4 llama3 ollama 9007199254740992 0 0 0 "" >>in &&
	llm 5 gpt-4o-mini openai 1 0 0 0 "" >>in &&
	printf "%s\n" "{\"id\":6,\"_error\":null,\"llm\":{\"model\":\"o1\",\"provider\":\"openai\",\"usage\":{\"completion_tokens\":2e11}},\"search\":{\"backend\":\"brave\",\"requests\":1}}" \
		"{\"id\":7,\"_error\":{\"code\":\"http_500\"},\"llm\":{\"model\":\"o1\",\"provider\":\"openai\",\"usage\":{\"completion_tokens\":2e11}}}" >>in &&
	test_expect_code 1 jl-cost --strict --db o.db --prices o1.json <in >out 2>err &&
	test_line_count = 7 out &&
	test "$(jq -r "select(._error.code == \"cost_overflow\") | .id" out | tr "\n" " ")" = "1 3 4 6 " &&
	test "$(jq -r "select(._error.code == \"cost_overflow\") | has(\"cost\")" out | sort -u)" = false &&
	test "$(jq -r "select(.id == 6) | ._error.line" out)" = 6 &&
	test "$(sed -n 6p out | grep -o "\"_error\":" | wc -l)" = 1 &&
	# a record that failed before keeps its _error, without .cost; a warning says why
	test "$(jq -c "select(.id == 7) | [._error.code, has(\"cost\")]" out)" = "[\"http_500\",false]" &&
	test_grep "line 7: cannot price the record" err &&
	test "$(usd out 2)" = 9150000000000000000 &&
	test "$(usd out 5)" = 150000 &&
	# nothing of 1, 3, 4, 6 (nor the search of 6) in the ledger: 2 and 5, exactly
	test "$(sql o.db "select count(*) from cost_ledger")" = 2 &&
	test "$(sql o.db "select sum(pico) from cost_ledger")" = 9150000000000150000 &&
	test "$(sql o.db "select pico from cost_totals where run = \"\"")" = 9150000000000150000 &&
	test_grep "^jl-cost: 7 records, \$9150000.00000015 (LLM \$9150000.00000015, search \$0.000000); 5 records cost_overflow, not billed" err &&
	test_grep -v "\$-" err &&
	# a total past the most the ledger holds: the commit fails (74), nothing wrong is written
	llm 8 gpt-4o-mini openai 33333333333334 0 0 0 "" >big &&
	test_expect_code 74 jl-cost --db o.db --batch 1 <big >out 2>err &&
	test_grep "would pass \$9223372.036854775807" err &&
	test "$(sql o.db "select pico from cost_totals where run = \"\"")" = 9150000000000150000 &&
	test_line_count = 0 out
'

test_expect_success JQ 'token counts that are not numbers: unpriced and not billed, a warning naming the line and the member' '
	printf "%s\n" \
		"{\"id\":1,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":\"1000\",\"completion_tokens\":0}}}" \
		"{\"id\":2,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":\"5\",\"completion_tokens\":{}}},\"search\":{\"backend\":\"brave\",\"requests\":1}}" \
		"{\"id\":3,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":2.5}}}" \
		"{\"id\":4,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":null}}}" >in &&
	jl-cost --db nn.db <in >out 2>err &&
	test "$(jq -c "[.id, .cost.priced, .cost.llm_usd, .cost.search_usd]" out | tr "\n" " ")" = "[1,false,0,0] [2,false,0,0.005] [3,false,0,0] [4,true,0.00015,0] " &&
	test_grep "line 1: .llm.usage.prompt_tokens is a string, not a count: the record.s LLM usage is not priced" err &&
	test "$(grep -c "prompt_tokens is a string" err)" = 1 &&
	test_grep "line 2: .llm.usage.completion_tokens is an object" err &&
	test_grep "line 3: .llm.usage.prompt_tokens is negative" err &&
	test_grep "line 3: .llm.usage.completion_tokens is not a whole number" err &&
	test_grep "3 records (0 tokens) unpriced" err &&
	# billed: the search of record 2 and record 4, nothing for the counts that are not counts
	test "$(sql nn.db "select count(*) || \" \" || sum(llm_pico) || \" \" || sum(search_pico) from cost_ledger")" = "2 150000000 5000000000"
'

test_expect_success JQ 'a model priced only in tiered_pricing: the prices of its base tier' '
	cat >tiers.json <<-\EOF &&
	{"dashscope/qwen3-max": {"litellm_provider": "dashscope", "mode": "chat", "max_tokens": 65536,
	  "tiered_pricing": [
	    {"range": [32000.0, 128000.0], "input_cost_per_token": 2.4e-06, "output_cost_per_token": 1.2e-05},
	    {"range": [0, 32000.0], "input_cost_per_token": 1.2e-06, "output_cost_per_token": 6e-06,
	     "cache_read_input_token_cost": 2.4e-07}]}}
	EOF
	llm 1 qwen3-max dashscope 1000 100 200 0 "" >in &&
	jl-cost --prices tiers.json <in >out 2>err &&
	# 800 x 1.2/M + 200 x 0.24/M + 100 x 6/M
	test "$(usd out 1)" = 1608000000 &&
	test "$(jq -r .cost.priced out)" = true &&
	test_grep -v "no price" err &&
	jl-cost --prices tiers.json --list-prices qwen3 >list &&
	test_grep "in    1.2000 out    6.0000 cached    0.2400" list
'

test_expect_success JQ 'batch answers and cache writes: batch prices, the providers discounts, cache-write prices; the split in .cost, the ledger and the summary' '
	# the shape of a LiteLLM entry (claude-sonnet-4-5 of the 2026 file) with the four prices
	cat >batch.json <<-\EOF &&
	{"mock-claude": {"cache_creation_input_token_cost": 3.75e-06,
	  "cache_creation_input_token_cost_above_1hr": 6e-06, "cache_read_input_token_cost": 3e-07,
	  "input_cost_per_token": 3e-06, "input_cost_per_token_batches": 1.5e-06,
	  "litellm_provider": "anthropic", "max_input_tokens": 200000, "max_output_tokens": 64000,
	  "max_tokens": 64000, "mode": "chat", "output_cost_per_token": 1.5e-05,
	  "output_cost_per_token_batches": 7.5e-06, "supports_prompt_caching": true,
	  "search_context_cost_per_query": {"search_context_size_high": 0.01}}}
	EOF
	u="\"prompt_tokens\":10000,\"completion_tokens\":1000,\"cached_tokens\":2000,\"cache_write_tokens\":3000" &&
	m="\"prompt_tokens\":1000,\"completion_tokens\":1000" &&
	{
		printf "{\"id\":1,\"llm\":{\"model\":\"mock-claude\",\"provider\":\"anthropic\",\"usage\":{%s}}}\n" "$u"
		printf "{\"id\":2,\"llm\":{\"model\":\"mock-claude\",\"provider\":\"anthropic\",\"batch\":true,\"usage\":{%s}}}\n" "$u"
		printf "{\"id\":3,\"llm\":{\"model\":\"gpt-3.5-turbo\",\"provider\":\"openai\",\"batch\":true,\"usage\":{%s}}}\n" "$m"
		printf "{\"id\":4,\"llm\":{\"model\":\"llama-3.1-8b-instant\",\"provider\":\"groq\",\"batch\":true,\"usage\":{%s}}}\n" "$m"
		printf "{\"id\":%s,\"llm\":{\"model\":\"mistral-small-latest\",\"provider\":\"mistral\",\"batch\":true,\"usage\":{%s}}}\n" 5 "$m" 6 "$m"
		printf "{\"id\":7,\"llm\":{\"model\":\"claude-3-5-haiku-latest\",\"provider\":\"anthropic\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"cache_write_tokens\":400}}}\n"
	} >in &&
	jl-cost --db bc.db --summary --prices batch.json <in >out 2>err &&
	# 5000 x 3/M + 2000 x 0.3/M + 3000 x 3.75/M (cache_creation_input_token_cost) + 1000 x 15/M
	test "$(usd out 1)" = 41850000000 &&
	# batch: 5000 x 1.5/M + 2000 x 0.3/M x 50% + 3000 x 3.75/M x 50% + 1000 x 7.5/M
	test "$(usd out 2)" = 20925000000 &&
	# no batch price, OpenAI 50%: 1000 x 0.5/M / 2 + 1000 x 1.5/M / 2
	test "$(usd out 3)" = 1000000000 &&
	# no batch price, Groq 25% off: (1000 x 0.05/M + 1000 x 0.08/M) x 3/4
	test "$(usd out 4)" = 97500000 &&
	# no batch API known (mistral): on demand, 1000 x 0.06/M + 1000 x 0.18/M, warned once
	test "$(usd out 5)" = 240000000 &&
	test "$(grep -c "batch answer of .mistral." err)" = 1 &&
	# no cache-write price, Anthropic 1.25 x 0.8/M: 600 x 0.8/M + 400 x 1/M + 100 x 4/M
	test "$(usd out 7)" = 1280000000 &&
	test "$(jq -c "select(.id == 2) | .cost | [.batch, .cache_write_tokens, .cached_tokens, .priced]" out)" = "[true,3000,2000,true]" &&
	test "$(jq -c "select(.id == 1) | .cost | [.batch, .cache_write_tokens]" out)" = "[null,3000]" &&
	test "$(jq -c "select(.id == 3) | .cost | [.batch, .cache_write_tokens]" out)" = "[true,null]" &&
	test "$(sql bc.db "select group_concat(cache_write_tokens || \"/\" || batch || \"/\" || llm_pico) from (select * from cost_ledger order by id)")" = "3000/0/41850000000,3000/1/20925000000,0/1/1000000000,0/1/97500000,0/1/240000000,0/1/240000000,400/0/1280000000" &&
	test "$(sql bc.db "select pico from cost_totals where run = \"\"")" = 65632500000 &&
	test_grep "7 records, \$0.0656325 .*; 5 batch answers \$0.0225025; 6400 prompt tokens written to the cache" err &&
	test_grep "model *mock-claude .* 6000 cache-write  1 batch \$0.020925$" err &&
	jl-cost --estimate --prices batch.json <in >bc-est 2>err &&
	test_grep "^\[ESTIMATE\] 7 records, \$0.0656325 .*; 5 batch answers \$0.0225025" bc-est &&
	test_grep "model *claude-3-5-haiku-latest .* 400 cache-write$" bc-est &&
	jl-cost --prices batch.json --list-prices mock-claude >list &&
	test_grep "^mock-claude .* in    3.0000 out   15.0000 cached    0.3000  (.*batch.json)  cache-write 3.7500  batch in 1.5000 out 7.5000$" list &&
	jl-cost --list-prices gpt-4.1-nano >list &&
	test_grep "(built-in)  batch in 0.0500 out 0.2000$" list
'

test_expect_success JQ 'a ledger of micro-dollars (an older jlkit) is migrated to pico-dollars: its total still counts for the budget' '
	cat >old.py <<-\EOF &&
	import sqlite3, sys
	c = sqlite3.connect(sys.argv[1])
	c.executescript("""
	CREATE TABLE jl_schema(component TEXT PRIMARY KEY, version INTEGER NOT NULL);
	CREATE TABLE cost_ledger(id INTEGER PRIMARY KEY, run TEXT NOT NULL, record_hash TEXT,
	    model TEXT, backend TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
	    cached_tokens INTEGER, llm_micro INTEGER NOT NULL, search_micro INTEGER NOT NULL,
	    micro INTEGER NOT NULL, at INTEGER NOT NULL);
	CREATE TABLE cost_totals(run TEXT PRIMARY KEY, micro INTEGER NOT NULL) WITHOUT ROWID;
	""")
	c.execute("INSERT INTO jl_schema VALUES(?, 1)", ("cost",))
	c.executemany("INSERT INTO cost_ledger VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
	    (1, "default", "h1", "gpt-4o", None, 1000, 100, 0, 3500, 0, 3500, 1700000000000),
	    (2, "default", "h2", None, "tavily", 0, 0, 0, 0, 31500, 31500, 1700000000001)])
	c.executemany("INSERT INTO cost_totals VALUES(?, ?)", [("default", 35000), ("", 35000)])
	c.commit()
	EOF
	python3 old.py old.db &&
	llm 1 gpt-4o openai 1000 100 0 0 "" >in &&
	# it holds $0.035: a budget of $0.03 is reached; the record, paid, is billed
	test_expect_code 75 jl-cost --db old.db --budget 0.03 <in >out 2>err &&
	test "$(jq -r ._error.message out)" = "the ledger total \$0.038500 reached the budget \$0.030000" &&
	test "$(sql old.db "select version from jl_schema where component = \"cost\"")" = 3 &&
	test "$(sql old.db "select group_concat(cache_write_tokens || \"/\" || batch) from cost_ledger")" = "0/0,0/0,0/0" &&
	test "$(sql old.db "select pico from cost_totals where run = \"\"")" = 38500000000 &&
	test "$(sql old.db "select group_concat(pico) from (select pico from cost_ledger order by id)")" = "3500000000,31500000000,3500000000" &&
	test "$(sql old.db "select group_concat(llm_pico || \"+\" || search_pico) from (select * from cost_ledger order by id)")" = "3500000000+0,0+31500000000,3500000000+0"
'

test_done
