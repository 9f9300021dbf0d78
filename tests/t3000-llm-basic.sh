#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm: output shape, usage, templates, --json, --into, -k, passthrough, malformed lines, --dry-run, dialects, --strict'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

# unterminated_string_line N: {"id":1,"name":" and N x, no closing quote.
unterminated_string_line() {
	awk -v n="$1" 'BEGIN { printf "{\"id\":1,\"name\":\""; for (i = 0; i < n; i++) printf "x"; print "" }'
}

test_expect_success 'setup: the mock, a key' '
	OPENAI_API_KEY=sk-test-basic-0123456789 &&
	export OPENAI_API_KEY &&
	mock_start --key "$OPENAI_API_KEY"
'

test_expect_success PYTHON3 'each record gets .llm with the answer, the model, usage and the timing' '
	printf "%s\n" "{\"id\":1,\"name\":\"Acme\"}" "{\"id\":2,\"name\":\"Beta Systems\",\"n\":[1,2]}" \
		"{\"id\":3,\"name\":\"Gamma\",\"x\":{\"y\":null}}" >in &&
	llm -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	len(R) == 3 and ids(R) == [1, 2, 3]
	all(ok(r) for r in R)
	all(set(r["llm"]) == {"content", "model", "provider", "usage", "finish_reason", "latency_ms", "attempts", "cached"} for r in R)
	all(isinstance(r["llm"]["content"], str) and r["llm"]["content"].startswith("Mock summary ") for r in R)
	all(r["llm"]["model"] == "mock-model" and r["llm"]["provider"] == "openai" for r in R)
	all(r["llm"]["finish_reason"] == "stop" for r in R)
	all(r["llm"]["attempts"] == 1 and r["llm"]["cached"] is False for r in R)
	all(isinstance(r["llm"]["latency_ms"], (int, float)) and r["llm"]["latency_ms"] >= 0 for r in R)
	# nothing else changes
	sorted(map(json.dumps, map(strip, R))) == sorted(map(json.dumps, I))
	EOF
'

test_expect_success PYTHON3 'usage: the provider counts (prompt, completion, cached, reasoning, cache writes)' '
	check out <<-\EOF
	all(set(r["llm"]["usage"]) == {"prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "cache_write_tokens"} for r in R)
	all(r["llm"]["usage"]["cache_write_tokens"] == 0 for r in R)
	all(r["llm"]["usage"]["prompt_tokens"] == tokens("Company: " + r["name"]) for r in R)
	all(r["llm"]["usage"]["completion_tokens"] == tokens(r["llm"]["content"]) for r in R)
	all(r["llm"]["usage"]["cached_tokens"] == 0 and r["llm"]["usage"]["reasoning_tokens"] == 0 for r in R)
	EOF
'

test_expect_success PYTHON3 'the mock saw one authenticated key check and one request per record' '
	check out <<-\EOF
	[m["path"] for m in M if m["route"] == "models"] == ["/v1/models"]
	len(C) == 3 and all(m["path"] == "/v1/chat/completions" for m in C)
	all(m["auth"] and m["key"] == 1 and m["status"] == 200 and m.get("model", "mock-model") == "mock-model" for m in M)
	len({m["body_hash"] for m in C}) == 3
	EOF
'

test_expect_success 'one summary line on stderr (not a terminal), none with -q' '
	test_line_count = 1 err &&
	test_grep "^jl-llm: " err &&
	llm -q -p "Company: {{.name}}" <in >out 2>err &&
	test_must_be_empty err &&
	test_line_count = 3 out
'

test_expect_success PYTHON3 'the answer is the same for the same prompt, different for another' '
	records 1 >one &&
	llm -p "Company: {{.name}}" <one >a &&
	llm -p "Company: {{.name}}" <one >b &&
	llm -p "Firm: {{.name}}" <one >c &&
	cat a b c >abc &&
	check abc <<-\EOF
	R[0]["llm"]["content"] == R[1]["llm"]["content"] != R[2]["llm"]["content"]
	EOF
'

test_expect_success PYTHON3 'no input, no output, exit 0' '
	llm -p "x {{.name}}" </dev/null >out &&
	test_must_be_empty out &&
	printf "\n\n" >blank &&
	llm -p "x {{.name}}" <blank >out &&
	test_must_be_empty out
'

test_expect_success PYTHON3 'conservation: 60 records in, the same 60 out, each once' '
	records 60 >in &&
	llm -j 8 -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	len(R) == 60 and ids(R) == list(range(1, 61))
	all(ok(r) for r in R)
	EOF
'

test_expect_success PYTHON3 'streaming: a record is written while the input is still open' '
	mkfifo fifo &&
	{ llm -p "Company: {{.name}}" <fifo >out 2>err & } &&
	pid=$! &&
	exec 5>fifo &&
	records 1 >&5 &&
	wait_lines 1 out
	waited=$?
	exec 5>&- &&
	wait "$pid" &&
	test "$waited" = 0 &&
	check out <<-\EOF
	len(R) == 1 and ok(R[0])
	EOF
'

# --- templates ---------------------------------------------------------------

test_expect_success PYTHON3 'templates: strings as they are, other values as compact JSON' '
	printf "%s\n" "{\"id\":1,\"name\":\"Acme \\\"AI\\\"\",\"n\":3.5,\"tags\":[\"a\",\"b\"],\"o\":{\"k\":true},\"z\":null,\"d\":{\"e\":\"deep\"}}" >in &&
	llm --dry-run -p "N={{.name}} n={{ .n }} t={{.tags}} o={{.o}} z={{.z}} d={{ .d.e }} c={{ .tags | length }}" <in >out &&
	check out <<-\EOF
	R[0]["llm"]["request"]["messages"][-1] == {"role": "user", "content": "N=Acme \"AI\" n=3.5 t=[\"a\",\"b\"] o={\"k\":true} z=null d=deep c=2"}
	EOF
'

test_expect_success PYTHON3 'templates: --prompt-file, --system and --system-file (a template too)' '
	records 2 >in &&
	printf "Tell me about {{.name}}.\nIts id is {{.id}}.\n" >prompt.tmpl &&
	printf "You rate company {{.id}}." >system.tmpl &&
	llm --dry-run --prompt-file prompt.tmpl -s "Be brief about {{.name}}" <in >out1 &&
	llm --dry-run --prompt-file prompt.tmpl --system-file system.tmpl <in >out2 &&
	check out1 <<-\EOF &&
	[r["llm"]["request"]["messages"] for r in R] == [[{"role": "system", "content": "Be brief about Company %d" % i}, {"role": "user", "content": "Tell me about Company %d.\nIts id is %d.\n" % (i, i)}] for i in (1, 2)]
	EOF
	check out2 <<-\EOF
	[r["llm"]["request"]["messages"][0] for r in R] == [{"role": "system", "content": "You rate company %d." % i} for i in (1, 2)]
	EOF
'

test_expect_success PYTHON3 'templates: the rendered prompt is what reaches the server' '
	records 2 >in &&
	llm --json -p "Rate the firm {{.name}} with id {{.id}} as JSON" <in >out &&
	check out <<-\EOF
	all(ok(r) for r in R)
	[r["llm"]["content"]["reason"].split(" of: ", 1)[1] for r in R] == ["Rate the firm Company %d with id %d as JSON" % (i, i) for i in (1, 2)]
	EOF
'

test_expect_success PYTHON3 'a placeholder that fails on one record: that record is an _error (template), no request for it' '
	printf "%s\n" "{\"id\":1,\"name\":\"Acme\"}" "{\"id\":2,\"name\":42}" "{\"id\":3,\"name\":\"Gamma\"}" >in &&
	n0=$(wc -l <"$MOCK_LOG") &&
	llm -p "Company: {{ .name | ascii_downcase }}" <in >out &&
	sed "1,${n0}d" "$MOCK_LOG" >new.log &&
	check out new.log <<-\EOF
	len(R) == 3 and ids(R) == [1, 2, 3]
	[r["id"] for r in R if ok(r)] == [1, 3] or sorted(r["id"] for r in R if ok(r)) == [1, 3]
	[err(r)["code"] for r in R if r["id"] == 2] == ["template"]
	[err(r)["tool"] for r in R if r["id"] == 2] == ["jl-llm"]
	all(isinstance(err(r)["message"], str) and err(r)["message"] for r in R if r["id"] == 2)
	[strip({k: v for k, v in r.items() if k != "_error"}) for r in R if r["id"] == 2] == [{"id": 2, "name": 42}]
	len(C) == 2
	EOF
'

test_expect_success 'a template that does not compile: exit 78 before reading input' '
	records 3 >in &&
	n0=$(wc -l <"$MOCK_LOG") &&
	no_input_read in 78 llm -p "Company: {{ .name | }}" &&
	no_input_read in 78 llm -p "Company: {{ .name" &&
	no_input_read in 78 llm -p "ok {{.name}}" -s "bad {{ ][ }}" &&
	printf "x {{ .a[ }}" >bad.tmpl &&
	no_input_read in 78 llm --prompt-file bad.tmpl &&
	test "$(wc -l <"$MOCK_LOG")" = "$n0"
'

# --- --json ------------------------------------------------------------------

test_expect_success PYTHON3 '--json: asks for a JSON object and parses the answer into .llm.content' '
	records 3 >in &&
	llm --json -p "Rate {{.name}}" <in >out &&
	llm --json --dry-run -p "Rate {{.name}}" <in >dry &&
	check out <<-\EOF &&
	all(ok(r) for r in R) and len(R) == 3
	all(isinstance(r["llm"]["content"], dict) for r in R)
	all(set(r["llm"]["content"]) == {"tier", "score", "reason"} for r in R)
	all(r["llm"]["content"]["tier"] in ("HOT", "WATCH", "COLD") for r in R)
	all(r["llm"]["attempts"] == 1 for r in R)
	EOF
	check dry <<-\EOF
	all(r["llm"]["request"]["response_format"]["type"] in ("json_object", "json_schema") for r in R)
	# JSON mode needs the messages to ask for JSON too
	all("json" in json.dumps(r["llm"]["request"]["messages"]).lower() for r in R)
	EOF
'

test_expect_success PYTHON3 '--schema FILE: structured output (json_schema) in the request' '
	printf "%s\n" "{\"type\":\"object\",\"properties\":{\"tier\":{\"type\":\"string\"}},\"required\":[\"tier\"]}" >schema.json &&
	records 1 >in &&
	llm --schema schema.json --dry-run -p "Rate {{.name}}" <in >dry &&
	llm --schema schema.json -p "Rate {{.name}}" <in >out &&
	check dry <<-\EOF &&
	R[0]["llm"]["request"]["response_format"]["type"] == "json_schema"
	R[0]["llm"]["request"]["response_format"]["json_schema"]["schema"]["required"] == ["tier"]
	EOF
	check out <<-\EOF
	ok(R[0]) and isinstance(R[0]["llm"]["content"], dict)
	EOF
'

# --- --into, order, passthrough, malformed input --------------------------------------

test_expect_success PYTHON3 '--into NAME: the answer goes there, nothing else changes' '
	records 2 >in &&
	llm --into answer -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	all("llm" not in r and isinstance(r["answer"]["content"], str) for r in R)
	all(set(r) == {"id", "name", "answer"} for r in R)
	all(r["answer"]["model"] == "mock-model" and r["answer"]["attempts"] == 1 for r in R)
	EOF
'

test_expect_success PYTHON3 'order: each record when done; -k keeps input order' '
	cat >slow.scn <<-\EOF &&
	1 path=/chat/completions delay=400
	EOF
	mock_start --key "$OPENAI_API_KEY" --scenario slow.scn &&
	records 6 >in &&
	llm -j 6 -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF &&
	ids(R) == [1, 2, 3, 4, 5, 6] and all(ok(r) for r in R)
	# the first request is slow: its record comes last
	R[-1]["id"] == 1
	EOF
	mock_stop &&
	mock_start --key "$OPENAI_API_KEY" --scenario slow.scn &&
	llm -k -j 6 -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	[r["id"] for r in R] == [1, 2, 3, 4, 5, 6] and all(ok(r) for r in R)
	EOF
'

test_expect_success PYTHON3 'records that arrive with _error pass through untouched, with no request' '
	mock_start --key "$OPENAI_API_KEY" &&
	printf "%s\n" "{\"id\":1,\"name\":\"Acme\"}" \
		"{\"id\":2,\"name\":\"Beta\",\"_error\":{\"tool\":\"jl-search\",\"code\":\"http_500\",\"message\":\"m\",\"status\":500,\"attempts\":3}}" \
		"{\"id\":3,\"name\":\"Gamma\"}" >in &&
	llm -k -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	[r["id"] for r in R] == [1, 2, 3]
	R[1] == I[1]
	ok(R[0]) and ok(R[2])
	len(C) == 2
	EOF
'

test_expect_success PYTHON3 'a line that is not a JSON object leaves as a bad_input error record' '
	mock_start --key "$OPENAI_API_KEY" &&
	{
		echo "{\"id\":1,\"name\":\"Acme\"}" &&
		echo "not json" &&
		echo "" &&
		echo "[1,2]" &&
		echo "\"a string\"" &&
		echo "{\"id\":2,\"name\":\"Beta\"} trailing" &&
		printf "{\"id\":3,\"name\":\"\\377\\376 bytes\"}\n" &&
		echo "{\"id\":4,\"name\":\"Delta\"}"
	} >in &&
	llm -k -p "Company: {{.name}}" <in >out 2>err &&
	json_lines_valid out &&
	check out <<-\EOF
	len(R) == 7
	ok(R[0]) and R[0]["id"] == 1 and ok(R[-1]) and R[-1]["id"] == 4
	[err(r).get("code") for r in R[1:5]] == ["bad_input"] * 4
	[err(r).get("tool") for r in R[1:5]] == ["jl-llm"] * 4
	[err(r).get("line") for r in R[1:5]] == [2, 4, 5, 6]
	[r.get("_raw") for r in R[1:5]] == ["not json", "[1,2]", "\"a string\"", "{\"id\":2,\"name\":\"Beta\"} trailing"]
	all(isinstance(err(r).get("message"), str) and err(r)["message"] for r in R[1:5])
	all(set(r) == {"_error", "_raw"} for r in R[1:5])
	# invalid UTF-8: a record with the bytes replaced, or a bad_input record; valid JSON either way
	ok(R[5]) or err(R[5]).get("code") == "bad_input"
	len(C) == 2 + ok(R[5])
	EOF
'

test_expect_success PYTHON3 'a long line: a bad_input record with _raw cut to 64 KiB at most' '
	unterminated_string_line 200000 >in &&
	records 1 2 >>in &&
	llm -k -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	len(R) == 2
	err(R[0]).get("code") == "bad_input" and 0 < len(R[0]["_raw"].encode()) <= 65536
	ok(R[1]) and R[1]["id"] == 2
	EOF
'

# --- --dry-run ------------------------------------------------------------------

test_expect_success PYTHON3 '--dry-run: the request of each record, no network, no key needed' '
	records 3 >in &&
	n0=$(wc -l <"$MOCK_LOG") &&
	(
		unset OPENAI_API_KEY &&
		jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --dry-run --max-tokens 7 \
			-p "Company: {{.name}}" <in >out &&
		jl-llm -m openai/mock-model --base-url http://127.0.0.1:1/v1 --dry-run \
			-p "Company: {{.name}}" <in >out2
	) &&
	test "$(wc -l <"$MOCK_LOG")" = "$n0" &&
	check out <<-\EOF
	len(R) == 3 and ids(R) == [1, 2, 3]
	all(r["llm"]["request"]["model"] == "mock-model" for r in R)
	all(r["llm"]["request"]["messages"] == [{"role": "user", "content": "Company: " + r["name"]}] for r in R)
	all(r["llm"]["request"]["max_completion_tokens"] == 7 for r in R)
	all(r["llm"]["model"] == "mock-model" and r["llm"]["provider"] == "openai" for r in R)
	all(isinstance(r["llm"]["usage"]["prompt_tokens"], int) and r["llm"]["usage"]["prompt_tokens"] > 0 for r in R)
	# no secret in the request shown
	"sk-test" not in open("out").read()
	EOF
'

# --- dialects and providers -----------------------------------------------------

test_expect_success PYTHON3 'Anthropic: /v1/messages with x-api-key, content blocks and usage normalised' '
	ANTHROPIC_API_KEY=sk-ant-test-0123456789 &&
	export ANTHROPIC_API_KEY &&
	mock_start --key "$ANTHROPIC_API_KEY" &&
	records 2 >in &&
	jl-llm -m anthropic/claude-x --base-url "$MOCK_URL/v1" -p "Company: {{.name}}" <in >out &&
	jl-llm -m anthropic/claude-x --base-url "$MOCK_URL/v1" --json -p "Rate {{.name}}" <in >json &&
	jl-llm -m anthropic/claude-x --base-url "$MOCK_URL/v1" --dry-run -s "Be brief" -p "Company: {{.name}}" <in >dry &&
	check out <<-\EOF &&
	len(R) == 2 and all(ok(r) for r in R)
	all(r["llm"]["provider"] == "anthropic" and r["llm"]["model"] == "claude-x" for r in R)
	all(r["llm"]["content"].startswith("Mock summary ") for r in R)
	all(r["llm"]["usage"]["prompt_tokens"] == tokens("Company: " + r["name"]) for r in R)
	all(r["llm"]["usage"]["completion_tokens"] == tokens(r["llm"]["content"]) for r in R)
	all(isinstance(r["llm"]["finish_reason"], str) and r["llm"]["finish_reason"] for r in R)
	len([m for m in C if m["route"] == "messages" and m["path"] == "/v1/messages"]) == 4
	all(m["auth"] and m["key"] == 1 and m["status"] == 200 for m in M)
	EOF
	check json <<-\EOF &&
	all(ok(r) and isinstance(r["llm"]["content"], dict) and "tier" in r["llm"]["content"] for r in R)
	EOF
	check dry <<-\EOF
	all(r["llm"]["request"]["system"] == "Be brief" or r["llm"]["request"]["system"][0]["text"] == "Be brief" for r in R)
	all(r["llm"]["request"]["messages"] == [{"role": "user", "content": "Company: " + r["name"]}] for r in R)
	all(isinstance(r["llm"]["request"]["max_tokens"], int) for r in R)
	EOF
'

test_expect_success PYTHON3 'a cut answer: finish_reason length, completion within --max-tokens' '
	mock_start --key "$OPENAI_API_KEY" &&
	records 2 >in &&
	llm --max-tokens 3 -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	all(ok(r) and r["llm"]["finish_reason"] == "length" for r in R)
	all(r["llm"]["usage"]["completion_tokens"] <= 3 for r in R)
	EOF
'

test_expect_success PYTHON3 'Groq: /openai/v1 with its key, max_tokens as the cap' '
	GROQ_API_KEY=gsk-test-0123456789 &&
	export GROQ_API_KEY &&
	mock_start --key "$GROQ_API_KEY" &&
	records 2 >in &&
	jl-llm -m groq/mock-model --base-url "$MOCK_URL/openai/v1" -p "Company: {{.name}}" <in >out &&
	jl-llm -m groq/mock-model --base-url "$MOCK_URL/openai/v1" --dry-run --max-tokens 9 \
		-p "Company: {{.name}}" <in >dry &&
	check out <<-\EOF &&
	all(ok(r) and r["llm"]["provider"] == "groq" and r["llm"]["model"] == "mock-model" for r in R)
	len(C) == 2 and all(m["path"] == "/openai/v1/chat/completions" for m in C)
	all(m["auth"] and m["key"] == 1 for m in M)
	EOF
	check dry <<-\EOF
	all(r["llm"]["request"]["max_tokens"] == 9 for r in R)
	EOF
'

test_expect_success PYTHON3 'OpenRouter: /api/v1, and the cost it reports is kept' '
	OPENROUTER_API_KEY=sk-or-test-0123456789 &&
	export OPENROUTER_API_KEY &&
	mock_start --key "$OPENROUTER_API_KEY" &&
	records 2 >in &&
	jl-llm -m openrouter/openai/gpt-4o-mini --base-url "$MOCK_URL/api/v1" -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	all(ok(r) and r["llm"]["provider"] == "openrouter" and r["llm"]["model"] == "openai/gpt-4o-mini" for r in R)
	len(C) == 2 and all(m["path"] == "/api/v1/chat/completions" and m["model"] == "openai/gpt-4o-mini" for m in C)
	all(abs(r["llm"]["usage"].get("cost", r["llm"].get("cost", -1)) - (r["llm"]["usage"]["prompt_tokens"] * 1.5e-7 + r["llm"]["usage"]["completion_tokens"] * 6e-7)) < 1e-9 for r in R)
	EOF
'

# --- exit status -------------------------------------------------------------------

test_expect_success PYTHON3 '--strict: exit 1 when a record carries _error, 0 when none does' '
	mock_start --key "$OPENAI_API_KEY" &&
	records 2 >good &&
	llm --strict -p "Company: {{.name}}" <good >out &&
	{ cat good && echo "{\"id\":9,\"_error\":{\"tool\":\"jl-csv\",\"code\":\"bad_input\"}}"; } >bad &&
	llm -p "Company: {{.name}}" <bad >out &&
	test_expect_code 1 llm --strict -p "Company: {{.name}}" <bad >out &&
	check out <<-\EOF &&
	len(R) == 3 and len([r for r in R if ok(r)]) == 2
	EOF
	printf "%s\n" "{\"id\":1,\"name\":1}" >tbad &&
	test_expect_code 1 llm --strict -p "Company: {{.name | ascii_downcase}}" <tbad >out
'

test_expect_success '--help on stdout, exit 0; usage errors exit 64' '
	jl-llm --help >out 2>err &&
	test_grep "^usage: jl-llm" out &&
	test_must_be_empty err &&
	records 1 >in &&
	test_expect_code 64 jl-llm --no-such-option -m openai/mock-model -p x <in 2>err &&
	test_grep "^jl-llm: " err &&
	test_expect_code 64 jl-llm -p "x" <in 2>err &&
	test_expect_code 64 jl-llm -m openai/mock-model <in 2>err &&
	test_expect_code 64 jl-llm -m openai/mock-model -p x -j 0 <in 2>err &&
	test_expect_code 64 jl-llm -m openai/mock-model -p x extra-operand <in 2>err
'

test_expect_success 'the shared spellings: -q, --progress, --no-progress, --total' '
	records 2 >in &&
	llm --progress --total 2 -p "Company: {{.name}}" <in >out 2>err &&
	test_line_count = 2 out &&
	test_grep "^jl-llm: " err &&
	llm --no-progress -q -p "Company: {{.name}}" <in >out 2>err &&
	test_line_count = 2 out &&
	test_must_be_empty err
'

test_expect_success '-v, --verbose (jlkit.7: more messages on stderr)' '
	records 2 >in &&
	llm -v -p "Company: {{.name}}" <in >out 2>err &&
	test_line_count = 2 out &&
	llm --verbose -p "Company: {{.name}}" <in >out 2>err &&
	test_line_count = 2 out
'

test_expect_success PYTHON3 '--strict: a malformed line stops the run with 65' '
	printf "%s\n" "{\"id\":1,\"name\":\"Acme\"}" "not json" "{\"id\":2,\"name\":\"Beta\"}" >in &&
	test_expect_code 65 llm --strict -p "Company: {{.name}}" <in >out 2>err &&
	test_grep "^jl-llm: " err
'

test_done
